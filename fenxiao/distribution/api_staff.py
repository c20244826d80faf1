"""Staff distribution API (same services as the backend): review, designate, rebind,
settle, and process withdrawals. Authorised by Django permissions."""

from ninja import Router, Schema, Status
from pydantic import ConfigDict, Field

from fenxiao.customers.auth import buyer_auth, require_perm
from fenxiao.customers.models import User

from .api import WithdrawalOut
from .errors import WithdrawalNotFound
from .models import SettlementMode, Withdrawal
from .services import binding, config, distributors, settlement, withdrawals

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
        from fenxiao.core.errors import NotFound

        raise NotFound("用户不存在")
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
