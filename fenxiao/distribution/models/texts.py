"""The sentences distribution writes into its rows in Chinese, and how a page reads them.

A row keeps the Chinese sentence (the exports, the reconciliation and the audit trail read
it as written); its `…_text` property shows it in the reader's language through
`SystemText`: the services write every sentence from a template below, so a sentence is
recognised by its template and rebuilt in the active language with the same values. What a
person typed (a ban's reason, a reviewer's note) sits inside a template, or alone, and
reads as typed. Imports no other model module: every one may use it.
"""

from django.utils.translation import gettext_noop

from fenxiao.customers.system_text import SystemText

_ORDER_NUMBER = r"[0-9A-Za-z-]+"
_COUNT = r"\d+"
_LEVEL_NAME = "一级|二级|三级"

# --- 归属依据 (OrderAttribution / OfflineAttribution.reason) ---
SELF_PURCHASE = gettext_noop("分销商自购，自购返佣开启")
# `status`: the distributor's status label in Chinese (暂停, 已封禁: msgctxt "distributor status").
SELF_PURCHASE_NOT_EARNING = gettext_noop("分销商自购，自购返佣开启（本人%(status)s，一级不计佣金）")
SELF_PURCHASE_TO_PARENT = gettext_noop("分销商自购，自购返佣关闭，由上级获得一级佣金")
BOUND_CUSTOMER = gettext_noop("客户绑定关系")
CLAIM_REATTRIBUTED = gettext_noop("掉单申诉改判（申诉 #%(claim)s；%(previous)s）")
PREVIOUS_REASON = gettext_noop("原归属：%(reason)s")
NO_PREVIOUS = gettext_noop("原无归属")
ATTRIBUTION_REASONS = SystemText(
    SELF_PURCHASE_NOT_EARNING,
    CLAIM_REATTRIBUTED,
    PREVIOUS_REASON,
    patterns={"claim": _COUNT},
    contexts={"status": "distributor status"},
)

# --- 账户流水 (LedgerEntry.note) ---
WITHDRAWAL_HOLD = gettext_noop("提现申请 %(number)s")
WITHDRAWAL_REJECTED = gettext_noop("提现被拒绝，金额退回：%(reason)s")
WITHDRAWAL_FAILED = gettext_noop("打款失败，金额退回：%(reason)s")
CLAWBACK = gettext_noop("已结算佣金追回：%(note)s")
BANNED = gettext_noop("封禁：待结算佣金 %(count)s 笔 %(amount)s %(outcome)s（原因：%(reason)s）")
BAN_VOIDED = gettext_noop("已作废")
BAN_KEPT = gettext_noop("保留，照常结算")
# Written by settlement's SQL (`settlement_sql.NOTE`), which cannot call Python: these are
# the sentences it builds, the order's id and the level in them.
SETTLED_ORDER = gettext_noop("订单 %(order)s %(level)s级佣金结算")
SETTLED_TILL = gettext_noop("门店收银 %(level)s级佣金结算")

# --- 佣金冲减记录 (CommissionAdjustment.note, also inside a clawback's ledger note) ---
LINE_REFUNDED = gettext_noop("订单 %(number)s 商品退款，累计退款 %(amount)s")
# Written by orders (hooks.py) when an order closes unshipped and fully refunded.
UNSOLD_ORDER = gettext_noop("订单 %(number)s 未发货即关闭，商品已全部退款")
TILL_RETURN = gettext_noop("%(sale)s 门店退货，累计退款 %(amount)s")
BAN_VOID = gettext_noop("封禁作废：%(reason)s")
BAN_RELEASE = gettext_noop("封禁后保留，照常结算：%(reason)s")
RISK_CLEARED = gettext_noop("风控审核放行")
RISK_CLEARED_NOTE = gettext_noop("风控审核放行：%(note)s")
RISK_VOIDED = gettext_noop("风控作废：%(note)s")
CLAIM_MOVED = gettext_noop("掉单申诉改判给分销商 %(code)s")
CLAIM_MOVED_NOTE = gettext_noop("掉单申诉改判给分销商 %(code)s：%(note)s")

# --- 提现 (Withdrawal.failure_reason, payout_last_error) ---
PAYOUT_FAILED = gettext_noop("打款失败")

LEDGER_NOTES = SystemText(
    WITHDRAWAL_HOLD,
    WITHDRAWAL_REJECTED,
    WITHDRAWAL_FAILED,
    CLAWBACK,
    BANNED,
    SETTLED_ORDER,
    SETTLED_TILL,
    LINE_REFUNDED,
    UNSOLD_ORDER,
    TILL_RETURN,
    patterns={"number": _ORDER_NUMBER, "order": _COUNT, "level": "[1-3]", "count": _COUNT},
)
ADJUSTMENT_NOTES = SystemText(
    LINE_REFUNDED,
    UNSOLD_ORDER,
    TILL_RETURN,
    BAN_VOID,
    BAN_RELEASE,
    RISK_CLEARED_NOTE,
    RISK_VOIDED,
    CLAIM_MOVED_NOTE,
    CLAIM_MOVED,
    patterns={"number": _ORDER_NUMBER, "code": r"[0-9A-Za-z]+"},
)

# --- 风控审核 (RiskReview.evidence items, RiskReview.note) ---
EVIDENCE_OF_LEVEL = gettext_noop("%(level)s分销商：%(evidence)s")
PHONE_IS_THEIRS = gettext_noop("收货手机号 %(phone)s 是其注册手机号")
PHONE_IN_ADDRESSES = gettext_noop("收货手机号 %(phone)s 在其地址簿中")
ADDRESS_IN_ADDRESSES = gettext_noop("收货地址「%(address)s」在其地址簿中")
SAME_DEVICE = gettext_noop("买家与其在同一设备上登录过")
SAME_PAYOUT = gettext_noop("买家的分销账户与其提现到同一%(account)s")
LEVELS_ONE_PERSON = gettext_noop("%(lower)s与%(upper)s分销商%(why)s")
PAID_TO_SAME = gettext_noop("提现到同一%(account)s")
# `method`: 银行卡, 微信 or 支付宝; `number`: the account masked (621***789).
PAYOUT_ACCOUNT = gettext_noop("%(method)s账户 %(number)s")
REFUND_HISTORY = gettext_noop("买家近 90 天 %(paid)s 笔付款订单中 %(refunded)s 笔由买家申请退款")
# `who`: the staff member's username (员工 when there is none).
MANUAL_HOLD = gettext_noop("%(who)s 人工暂扣：%(reason)s")
SOME_STAFF = gettext_noop("员工")
REVIEW_MOOT = gettext_noop("暂扣的佣金已因退款、封禁作废或掉单申诉改判全部取消，无需审核")
EVIDENCE = SystemText(
    EVIDENCE_OF_LEVEL,
    LEVELS_ONE_PERSON,
    PHONE_IS_THEIRS,
    PHONE_IN_ADDRESSES,
    ADDRESS_IN_ADDRESSES,
    SAME_PAYOUT,
    PAID_TO_SAME,
    PAYOUT_ACCOUNT,
    REFUND_HISTORY,
    MANUAL_HOLD,
    patterns={
        "level": _LEVEL_NAME,
        "lower": _LEVEL_NAME,
        "upper": _LEVEL_NAME,
        "phone": r"\S+",
        "method": "银行卡|微信|支付宝",
        "number": r"\S+",
        "paid": _COUNT,
        "refunded": _COUNT,
        "who": r"\S+",
    },
)

# --- 掉单申诉 (OrderClaim.note) and the touch a 改判 rebinding leaves ---
CLAIM_APPROVED = gettext_noop("已改判")
# Another distributor's open claim on the same order, answered when one is upheld.
CLAIM_TAKEN = gettext_noop("该订单已根据其他分销商的申诉改判")
CLAIM_REBOUND = gettext_noop("掉单申诉 #%(claim)s 改判后改绑")

# --- 分销商 status_reason ---
EVERYONE_NOTE = gettext_noop("人人分销：注册买家均为分销商")

# A plain sentence needs no template: it is a catalog entry itself.
PLAIN = SystemText()

# --- 提现失败原因 (Withdrawal.failure_reason): the payout services' refusals, plain
# sentences (`payouts/*.py`) or one of these ---
WECHAT_FAILED = gettext_noop("微信转账失败（%(code)s）")
WECHAT_REFUSED = gettext_noop("微信支付拒绝转账，%(error)s")
WECHAT_ERROR = gettext_noop("%(label)s（%(code)s）")
WECHAT_ERROR_SAID = gettext_noop("%(label)s（%(code)s）：%(message)s")
UNKNOWN_REASON = gettext_noop("未知原因")
ALIPAY_REFUSED = gettext_noop("支付宝拒绝转账：%(said)s")
ALIPAY_FAILED = gettext_noop("支付宝转账失败（%(status)s）")
ALIPAY_INVALID = gettext_noop("转账信息有误：%(detail)s")
# The specific sentences first: a WeChat error's "label（code）" would match the others.
FAILURES = SystemText(
    WITHDRAWAL_FAILED,
    WECHAT_FAILED,
    WECHAT_REFUSED,
    ALIPAY_REFUSED,
    ALIPAY_FAILED,
    ALIPAY_INVALID,
    WECHAT_ERROR_SAID,
    WECHAT_ERROR,
    patterns={"code": "[^（）：]+", "status": "[A-Z_]+", "label": "[^（）：]+"},
)
