"""Distribution data and its database-level invariants, one module per use case.

The models outgrew one module (~900 lines); they are split the way the services are. Listed
here bottom-up: a module imports only model modules above it in this list (the targets of
its foreign keys), never one below, so there is no import cycle.

- `config`: the settings record and its change log, and the shared choices and limits
- `agreement`: the versions of the 分销商协议 distributors agree to
- `distributors`: distributors, grades, the status flow and ban decisions
- `binding`: customer bindings and touches
- `rules`: commission rules, their versions, sales-amount tiers
- `scheduled`: settings and rule changes that take effect at a set time
- `settlement`: settlement batches and cycle runs
- `commissions`: order attribution, commissions and their adjustments
- `ledger`: ledger entries, withdrawals and payouts
- `totals`: each distributor's running dashboard totals
- `risk`: abuse guards' reviews of held commission
- `claims`: distributors' missing-order claims (掉单申诉)
- `reconciliation`: the daily proof that orders, commissions, ledger and payouts agree

Every public name is re-exported here: `from fenxiao.distribution.models import X` is the
one import path for the rest of the code, and Django finds the models by importing this
package.
"""

from .agreement import DistributorAgreement
from .binding import (
    KEPT_UNTIL,
    PROTECTED_UNTIL,
    CustomerBinding,
    Touch,
    TouchDecision,
    TouchRule,
    TouchSource,
)
from .claims import CLAIM_FLOW, ClaimStatus, OrderClaim
from .commissions import (
    COMMISSION_FLOW,
    Commission,
    CommissionAdjustment,
    CommissionStatus,
    OfflineAttribution,
    OrderAttribution,
    RuleSource,
)
from .config import (
    MAX_BIND_DAYS,
    MAX_FREEZE_DAYS,
    MAX_LEVELS,
    MAX_PROTECT_DAYS,
    MAX_SETTLEMENT_MONTHDAY,
    BindMode,
    ConditionKind,
    Cycle,
    DistributionSettings,
    EnableMode,
    PayoutMethod,
    ReviewMode,
    SettingsChange,
    SettlementMode,
    Weekday,
)
from .distributors import (
    DISTRIBUTOR_FLOW,
    BanDecision,
    ConditionLogic,
    Distributor,
    DistributorGrade,
    DistributorStatus,
    JoinSource,
)
from .ledger import (
    RETRYABLE_PAYOUT,
    WITHDRAWAL_FLOW,
    LedgerEntry,
    LedgerKind,
    PayoutStatus,
    SandboxPayout,
    Withdrawal,
    WithdrawalStatus,
)
from .reconciliation import Reconciliation
from .risk import RISK_REVIEW_FLOW, RiskReview, RiskReviewStatus, RiskSignal, RiskTrust
from .rules import (
    CommissionRule,
    CommissionRuleVersion,
    RuleKind,
    SalesTier,
)
from .scheduled import SCHEDULED_CHANGE_FLOW, ScheduledChange, ScheduledChangeStatus
from .settlement import (
    SettlementBatch,
    SettlementCycleRun,
)
from .totals import TOTAL_FIELDS, DistributorTotals

__all__ = [
    "KEPT_UNTIL",
    "PROTECTED_UNTIL",
    "CLAIM_FLOW",
    "ClaimStatus",
    "OrderClaim",
    "Reconciliation",
    "RISK_REVIEW_FLOW",
    "RiskReview",
    "RiskReviewStatus",
    "RiskSignal",
    "RiskTrust",
    "SCHEDULED_CHANGE_FLOW",
    "ScheduledChange",
    "ScheduledChangeStatus",
    "MAX_LEVELS",
    "MAX_FREEZE_DAYS",
    "MAX_BIND_DAYS",
    "MAX_PROTECT_DAYS",
    "MAX_SETTLEMENT_MONTHDAY",
    "EnableMode",
    "ReviewMode",
    "ConditionKind",
    "BindMode",
    "SettlementMode",
    "Cycle",
    "Weekday",
    "PayoutMethod",
    "DistributionSettings",
    "SettingsChange",
    "DistributorAgreement",
    "ConditionLogic",
    "DistributorGrade",
    "DistributorStatus",
    "DISTRIBUTOR_FLOW",
    "BanDecision",
    "JoinSource",
    "Distributor",
    "TouchSource",
    "TouchDecision",
    "TouchRule",
    "Touch",
    "CustomerBinding",
    "RuleKind",
    "CommissionRule",
    "CommissionRuleVersion",
    "SalesTier",
    "SettlementBatch",
    "SettlementCycleRun",
    "OfflineAttribution",
    "OrderAttribution",
    "CommissionStatus",
    "COMMISSION_FLOW",
    "RuleSource",
    "Commission",
    "CommissionAdjustment",
    "LedgerKind",
    "LedgerEntry",
    "WithdrawalStatus",
    "WITHDRAWAL_FLOW",
    "PayoutStatus",
    "RETRYABLE_PAYOUT",
    "Withdrawal",
    "SandboxPayout",
    "TOTAL_FIELDS",
    "DistributorTotals",
]
