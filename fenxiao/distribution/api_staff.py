"""Staff distribution API (same services as the backend): review, designate, rebind,
settle, process withdrawals, decide what the abuse guards held and distributors'
missing-order claims. Authorised by Django permissions."""

from datetime import datetime
from typing import Literal

from django.utils.translation import gettext as _
from ninja import Path, Query, Router, Schema, Status
from ninja.pagination import paginate
from pydantic import ConfigDict, Field

from fenxiao.core.errors import NotFound
from fenxiao.core.pagination import Pagination
from fenxiao.customers.auth import buyer_auth, require_perm
from fenxiao.customers.models import User

from .api import ClaimOut, WithdrawalOut
from .errors import WithdrawalNotFound
from .models import OrderClaim, RiskReview, SettlementMode, Withdrawal
from .services import binding, claims, config, distributors, risk, settlement, withdrawals

router = Router(tags=["商家：分销"], auth=buyer_auth)


class Strict(Schema):
    model_config = ConfigDict(extra="forbid")


class ReasonIn(Strict):
    reason: str = Field(default="", max_length=200)


class DesignateIn(Strict):
    user_id: int
    parent_id: int | None = None


class ReassignIn(Strict):
    buyer_id: int
    distributor_id: int
    reason: str = Field(min_length=1, max_length=200)


class PaidIn(Strict):
    reference: str = Field(default="", max_length=64)


class DistributorOut(Schema):
    id: int
    user_id: int
    status: str
    referral_code: str
    parent_id: int | None


class BatchOut(Schema):
    id: int
    mode: str
    status: str
    commission_count: int
    total: int


def _withdrawal(number: str) -> Withdrawal:
    withdrawal = Withdrawal.objects.filter(number=number).first()
    if withdrawal is None:
        raise WithdrawalNotFound()
    return withdrawal


def _user(user_id: int) -> User:
    user = User.objects.filter(pk=user_id).first()
    if user is None:
        raise NotFound(_("用户不存在"))
    return user


@router.post("/distributors/{distributor_id}/approve", response=DistributorOut)
def approve(request, distributor_id: int):
    require_perm(request, "distribution.change_distributor")
    return distributors.approve(distributors.get(distributor_id), request.user)


@router.post("/distributors/{distributor_id}/reject", response=DistributorOut)
def reject(request, distributor_id: int, payload: ReasonIn):
    require_perm(request, "distribution.change_distributor")
    return distributors.reject(distributors.get(distributor_id), request.user, reason=payload.reason)


@router.post("/distributors", response={201: DistributorOut})
def designate(request, payload: DesignateIn):
    require_perm(request, "distribution.add_distributor")
    parent = distributors.get(payload.parent_id) if payload.parent_id else None
    return Status(201, distributors.designate(_user(payload.user_id), request.user, parent=parent))


@router.post("/bindings", response=dict)
def reassign(request, payload: ReassignIn):
    require_perm(request, "distribution.change_customerbinding")
    result = binding.reassign(
        _user(payload.buyer_id), distributors.get(payload.distributor_id), request.user, reason=payload.reason
    )
    return {"buyer_id": result.buyer_id, "distributor_id": result.distributor_id}


@router.post("/settlements/run", response=BatchOut | None)
def run_settlement(request):
    """Run settlement now, as the scheduled task would: settle directly in auto mode, or
    prepare a batch for review in manual mode."""
    require_perm(request, "distribution.add_settlementbatch")
    if config.current().settlement_mode == SettlementMode.MANUAL:
        return settlement.create_batch(staff=request.user)
    return settlement.settle_due(staff=request.user)


@router.post("/settlements/batches", response=BatchOut | None)
def create_batch(request):
    require_perm(request, "distribution.add_settlementbatch")
    return settlement.create_batch(staff=request.user)


@router.post("/settlements/batches/{batch_id}/approve", response=BatchOut)
def approve_batch(request, batch_id: int):
    require_perm(request, "distribution.change_settlementbatch")
    return settlement.approve_batch(settlement.get_batch(batch_id), request.user)


@router.post("/withdrawals/{number}/approve", response=WithdrawalOut)
def approve_withdrawal(request, number: str):
    require_perm(request, "distribution.change_withdrawal")
    withdrawals.approve(_withdrawal(number), request.user)
    return _withdrawal(number)


@router.post("/withdrawals/{number}/reject", response=WithdrawalOut)
def reject_withdrawal(request, number: str, payload: ReasonIn):
    require_perm(request, "distribution.change_withdrawal")
    return withdrawals.reject(_withdrawal(number), request.user, reason=payload.reason)


@router.post("/withdrawals/{number}/paid", response=WithdrawalOut)
def mark_paid(request, number: str, payload: PaidIn):
    require_perm(request, "distribution.change_withdrawal")
    return withdrawals.mark_paid(_withdrawal(number), request.user, reference=payload.reference)


@router.post("/withdrawals/{number}/failed", response=WithdrawalOut)
def mark_failed(request, number: str, payload: ReasonIn):
    require_perm(request, "distribution.change_withdrawal")
    return withdrawals.mark_failed(_withdrawal(number), request.user, reason=payload.reason)


# --- 风控审核 -------------------------------------------------------------------------------


class RiskReviewOut(Schema):
    id: int
    order_number: str = Field(validation_alias="order.number")
    distributor_id: int
    buyer_id: int
    signals: list[str] = Field(
        validation_alias="signal_values",
        description="same_phone 同一手机号 / same_address 同一收货地址 / same_device 同一设备 / "
        "same_payout 同一收款账户 / circular 循环招募 / refund_abuse 频繁退款",
    )
    evidence: list[str] = Field(
        validation_alias="evidence_texts", description="依据，按请求的语言（Accept-Language）显示"
    )
    held_amount: int = Field(description="暂扣佣金（分）")
    status: str = Field(
        description="open 待审核 / cleared 已放行 / voided 已作废佣金 / "
        "closed 已失效（暂扣的佣金已因退款或封禁作废取消）"
    )
    note: str = Field(description="审核说明，系统写入的按请求的语言（Accept-Language）显示")
    created_at: datetime
    decided_at: datetime | None

    @staticmethod
    def resolve_note(obj):
        return obj.note_text


class RiskReviewQuery(Schema):
    status: Literal["open", "cleared", "voided", "closed"] | None = None


ReviewId = Path(..., ge=1, le=2**63 - 1)


def _review(review_id: int) -> RiskReview:
    review = RiskReview.objects.select_related("order").filter(pk=review_id).first()
    if review is None:
        raise NotFound(_("风控记录不存在"))
    return review


@router.get("/risk-reviews", response=list[RiskReviewOut])
@paginate(Pagination, page_size=20)
def list_risk_reviews(request, query: RiskReviewQuery = Query(...)):
    """What the abuse guards held, newest first (`status=open`: the review queue)."""
    require_perm(request, "distribution.view_riskreview")
    reviews = RiskReview.objects.select_related("order").order_by("-id")
    return reviews.filter(status=query.status) if query.status else reviews


class ClearIn(ReasonIn):
    trust: bool = Field(default=False, description="信任该买家与分销商：以后不再因同人信号拦截")


@router.post("/risk-reviews/{review_id}/clear", response=RiskReviewOut)
def clear_risk_review(request, payload: ClearIn, review_id: int = ReviewId):
    """放行: the held commission settles as it would have. 400 RISK_REVIEW_DECIDED once decided."""
    require_perm(request, "distribution.change_riskreview")
    risk.clear(_review(review_id), request.user, note=payload.reason, trust=payload.trust)
    return _review(review_id)


@router.post("/risk-reviews/{review_id}/void", response=RiskReviewOut)
def void_risk_review(request, payload: ReasonIn, review_id: int = ReviewId):
    """作废: the held commission is cancelled; `reason` is required (400 REASON_REQUIRED)."""
    require_perm(request, "distribution.change_riskreview")
    risk.void(_review(review_id), request.user, note=payload.reason)
    return _review(review_id)


# --- 掉单申诉 -------------------------------------------------------------------------------


class StaffClaimOut(ClaimOut):
    distributor_id: int
    previous_level1_id: int | None = Field(description="申诉时的一级分销商")


class ClaimQuery(Schema):
    status: Literal["open", "approved", "rejected"] | None = None


class ApproveIn(ReasonIn):
    rebind: bool = Field(default=False, description="同时将客户改绑给申诉分销商")


ClaimId = Path(..., ge=1, le=2**63 - 1)


def _claim(claim_id: int) -> OrderClaim:
    claim = OrderClaim.objects.select_related("order").filter(pk=claim_id).first()
    if claim is None:
        raise NotFound(_("申诉不存在"))
    return claim


@router.get("/claims", response=list[StaffClaimOut])
@paginate(Pagination, page_size=20)
def list_claims(request, query: ClaimQuery = Query(...)):
    """Distributors' missing-order claims, newest first (`status=open`: the queue)."""
    require_perm(request, "distribution.view_orderclaim")
    found = OrderClaim.objects.select_related("order").order_by("-id")
    return found.filter(status=query.status) if query.status else found


@router.post("/claims/{claim_id}/approve", response=StaffClaimOut)
def approve_claim(request, payload: ApproveIn, claim_id: int = ClaimId):
    """改判: the order and its unsettled commission move to the claimant's chain."""
    require_perm(request, "distribution.change_orderclaim")
    if payload.rebind:  # a rebinding, as the rebind call needs
        require_perm(request, "distribution.change_customerbinding")
    claims.approve(_claim(claim_id), request.user, note=payload.reason, rebind=payload.rebind)
    return _claim(claim_id)


@router.post("/claims/{claim_id}/reject", response=StaffClaimOut)
def reject_claim(request, payload: ReasonIn, claim_id: int = ClaimId):
    """驳回: `reason` is required (400 REASON_REQUIRED) and shown to the distributor."""
    require_perm(request, "distribution.change_orderclaim")
    claims.reject(_claim(claim_id), request.user, note=payload.reason)
    return _claim(claim_id)
