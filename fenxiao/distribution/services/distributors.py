"""Becoming a distributor, review, designation, status, parent and grade."""

import secrets
from contextlib import contextmanager

from django.db import IntegrityError, connection, transaction
from django.db.models import F, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from fenxiao.core.errors import InvalidInput
from fenxiao.core.money import format_fen
from fenxiao.notices.services import events as notices
from fenxiao.webhooks.services import events as webhooks

from ..errors import ApplicationNotAllowed, DistributorNotFound, LoopRefused, NotADistributor
from ..models import (
    DISTRIBUTOR_FLOW,
    BanDecision,
    Commission,
    CommissionAdjustment,
    CommissionStatus,
    ConditionKind,
    CustomerBinding,
    Distributor,
    DistributorGrade,
    DistributorStatus,
    DistributorTotals,
    EnableMode,
    JoinSource,
    LedgerEntry,
    LedgerKind,
    ReviewMode,
)
from . import config, risk, totals

CODE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O, 1/I: read aloud, typed by hand


def _new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(8))


def default_grade() -> DistributorGrade | None:
    return (
        DistributorGrade.objects.filter(is_default=True).first()
        or DistributorGrade.objects.order_by("weight").first()
    )


def for_user(user) -> Distributor | None:
    if not getattr(user, "is_authenticated", False):
        return None
    return Distributor.objects.select_related("grade", "parent__user").filter(user=user).first()


def active_for_user(user) -> Distributor:
    distributor = for_user(user)
    if distributor is None or distributor.status != DistributorStatus.ACTIVE:
        raise NotADistributor()
    return distributor


def normalize_code(code: str) -> str | None:
    """A referral code as stored (codes are read aloud and typed: case and spaces vary)."""
    code = (code or "").strip().upper()
    if not code or len(code) > 12:
        return None
    return code


def by_code(code: str) -> Distributor | None:
    code = normalize_code(code)
    if code is None:
        return None
    return Distributor.objects.select_related("user").filter(referral_code=code).first()


# Referral code → distributor id, for the anonymous /r/<code> hit, the hottest read there is.
# Kept in the process, not in a shared cache: the pair never changes (a code is given once at
# creation and never edited, and distributors are never deleted — the backend cannot, and
# commissions protect them), so there is nothing to invalidate when a status, grade or parent
# changes: everything else is read fresh by whoever needs it. Unknown codes are not kept, so
# probing random codes cannot fill it; the size is bounded all the same.
_ids_by_code: dict[str, int] = {}
_IDS_BY_CODE_MAX = 20_000


def id_for_code(code: str) -> int | None:
    code = normalize_code(code)
    if code is None:
        return None
    found = _ids_by_code.get(code)
    if found is None:
        found = Distributor.objects.filter(referral_code=code).values_list("pk", flat=True).first()
        if found is not None:
            if len(_ids_by_code) >= _IDS_BY_CODE_MAX:
                _ids_by_code.clear()
            _ids_by_code[code] = found
    return found


def _parent_for(user) -> Distributor | None:
    """A bound buyer who becomes a distributor joins their binding's distributor's team (a
    binding that has lapsed binds nobody any more)."""
    binding = CustomerBinding.objects.select_related("distributor").filter(buyer=user).in_force().first()
    return binding.distributor if binding else None


def _create(user, *, status, source, parent=None, real_name="", note="", reviewer=None):
    now = timezone.now()
    if parent is not None and parent.user_id == user.pk:
        parent = None
    for _attempt in range(5):
        try:
            with transaction.atomic():
                distributor = Distributor.objects.create(
                    user=user,
                    status=status,
                    source=source,
                    parent=parent,
                    grade=default_grade(),
                    referral_code=_new_code(),
                    real_name=real_name[:40],
                    apply_note=note[:200],
                    reviewed_by=reviewer,
                    activated_at=now if status == DistributorStatus.ACTIVE else None,
                )
                # The running totals row is born with the distributor, so the first
                # payment crediting them is one update like every later one.
                DistributorTotals.objects.create(distributor=distributor)
                return distributor
        except IntegrityError:
            existing = Distributor.objects.filter(user=user).first()
            if existing:
                return existing
    raise IntegrityError("could not allocate a referral code")


def ensure_for_everyone_mode(user) -> Distributor | None:
    """In 人人分销 mode every registered buyer is a distributor, created when first needed."""
    existing = for_user(user)
    if existing or config.current().enable_mode != EnableMode.EVERYONE:
        return existing
    return _create(
        user, status=DistributorStatus.ACTIVE, source=JoinSource.EVERYONE, parent=_parent_for(user)
    )


def adopt_orphan(account: Distributor | None, parent: Distributor) -> None:
    """An account the shop made by itself (人人分销) before anyone bound its owner joins the
    team of the distributor who first binds them, as a buyer bound before getting an account
    would. Only a childless, parentless 人人分销 account moves: one with a team, or one put
    at the top on purpose and since grown a team, keeps its place. Re-parenting is taken
    one at a time (the tree lock), so two accounts adopting each other at once cannot
    close a loop."""
    if account is None or account.parent_id is not None or account.source != JoinSource.EVERYONE:
        return
    with tree_lock():
        fresh = Distributor.objects.filter(pk=account.pk, parent__isnull=True).first()
        if fresh is None or Distributor.objects.filter(parent_id=account.pk).exists():
            return
        if is_in_downline(parent, fresh):
            return
        Distributor.objects.filter(pk=account.pk).update(parent=parent)
    account.parent = parent


# The key of the lock every change of parent takes (an arbitrary constant: "fenx").
TREE_LOCK_KEY = 0x66656E78


@contextmanager
def tree_lock():
    """Serialises changes of parent (they are rare), so a loop check always sees the parent
    changes committed before it. PostgreSQL: a transaction-scoped advisory lock, which no
    other code takes, so it cannot deadlock with row locks; SQLite's write transactions are
    one at a time already."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [TREE_LOCK_KEY])
        yield


def join_through_store(user) -> Distributor:
    """A store QR scan makes the buyer a distributor (门店设置 扫码成为分销商), in the team of
    whoever the scan bound them to. An account they have already is left as it is: a
    rejected applicant or a suspended distributor is not let in by a scan."""
    return for_user(user) or _create(
        user, status=DistributorStatus.ACTIVE, source=JoinSource.STORE, parent=_parent_for(user)
    )


ENROL_CHUNK = 1000


def enrol_everyone(*, chunk: int = ENROL_CHUNK) -> int:
    """人人分销: every buyer without a distributor account gets an active one, their
    binding's distributor (if still in force) as parent, as `ensure_for_everyone_mode` would
    give it one by one. Set-based, a chunk of buyers per transaction; safe to re-run and to
    run beside sign-ups (an account made meanwhile is left as it is). Returns how many
    accounts were made."""
    from fenxiao.customers.models import Customer

    if config.current().enable_mode != EnableMode.EVERYONE:
        return 0
    grade = default_grade()
    made, after = 0, 0
    while True:
        ids = list(
            Customer.objects.filter(pk__gt=after, distributor__isnull=True)
            .order_by("pk")
            .values_list("pk", flat=True)[:chunk]
        )
        if not ids:
            return made
        after = ids[-1]
        made += _enrol(ids, grade)


def _enrol(user_ids: list[int], grade) -> int:
    now = timezone.now()
    made = 0
    with transaction.atomic():
        parents = dict(
            CustomerBinding.objects.in_force(now)
            .filter(buyer_id__in=user_ids)
            .values_list("buyer_id", "distributor_id")
        )
        # A code already taken makes that row skipped; it is drawn again (5 tries, as `_create`).
        for _attempt in range(5):
            missing = set(user_ids) - set(
                Distributor.objects.filter(user_id__in=user_ids).values_list("user_id", flat=True)
            )
            if not missing:
                break
            Distributor.objects.bulk_create(
                [
                    Distributor(
                        user_id=user_id,
                        status=DistributorStatus.ACTIVE,
                        source=JoinSource.EVERYONE,
                        parent_id=parents.get(user_id),
                        grade=grade,
                        referral_code=_new_code(),
                        activated_at=now,
                    )
                    for user_id in sorted(missing)
                ],
                ignore_conflicts=True,
            )
            # Each account is born with its running totals row, as `_create` makes it.
            created = list(
                Distributor.objects.filter(user_id__in=missing, totals__isnull=True).values_list(
                    "pk", flat=True
                )
            )
            DistributorTotals.objects.bulk_create(
                [DistributorTotals(distributor_id=pk) for pk in created], ignore_conflicts=True
            )
            made += len(created)
    return made


def meets_condition(user, cfg=None) -> bool:
    from fenxiao.orders.models import Order, OrderLine

    cfg = cfg or config.current()
    completed = Order.objects.filter(buyer=user, status=Order.Status.COMPLETED)
    if cfg.condition_kind == ConditionKind.LIFETIME_SPEND:
        spent = completed.aggregate(total=Sum("paid_amount"))["total"] or 0
        refunded = completed.aggregate(total=Sum("refunded_amount"))["total"] or 0
        return spent - refunded >= cfg.condition_amount
    if cfg.condition_kind == ConditionKind.COMPLETED_ORDERS:
        return completed.count() >= cfg.condition_orders
    # 购买指定商品: a listed product in a completed order, not wholly refunded.
    wanted = list(cfg.condition_products.values_list("pk", flat=True))
    return (
        OrderLine.objects.filter(order__in=completed, product_id__in=wanted)
        .exclude(paid_amount__gt=0, refunded_amount__gte=F("paid_amount"))
        .exists()
    )


def apply(user, *, real_name: str = "", note: str = "") -> Distributor:
    """A buyer asks to become a distributor, as the enable mode allows."""
    cfg = config.current()
    existing = for_user(user)
    if existing and existing.status in (DistributorStatus.ACTIVE, DistributorStatus.PENDING):
        raise ApplicationNotAllowed(_("您已提交申请或已是分销商"))
    if existing and existing.status in (DistributorStatus.SUSPENDED, DistributorStatus.BANNED):
        raise ApplicationNotAllowed(_("您的分销资格已被暂停或封禁，请联系商家"))
    if cfg.enable_mode == EnableMode.DESIGNATED:
        raise ApplicationNotAllowed(_("本店分销商由商家指定，暂不开放申请"))
    if cfg.enable_mode == EnableMode.EVERYONE:
        return ensure_for_everyone_mode(user)
    real_name = (real_name or "").strip()
    if cfg.enable_mode == EnableMode.APPLY and cfg.require_real_name and not real_name:
        raise ApplicationNotAllowed(_("请填写真实姓名"), code="REAL_NAME_REQUIRED", status=400)
    if cfg.enable_mode == EnableMode.CONDITION:
        if not meets_condition(user, cfg):
            raise ApplicationNotAllowed(_("您暂未满足成为分销商的条件"))
        status, source = DistributorStatus.ACTIVE, JoinSource.CONDITION
    else:
        status = DistributorStatus.ACTIVE if cfg.review_mode == ReviewMode.AUTO else DistributorStatus.PENDING
        source = JoinSource.APPLIED
    with transaction.atomic():
        if existing:  # a rejected applicant applies again
            _move(existing, status, real_name=real_name[:40], apply_note=note[:200], reject_reason="")
            return existing
        return _create(
            user, status=status, source=source, parent=_parent_for(user), real_name=real_name, note=note
        )


def check_condition_after_completion(user) -> Distributor | None:
    """满足条件 mode: a buyer whose completed orders meet the condition becomes a distributor."""
    cfg = config.current()
    if cfg.enable_mode != EnableMode.CONDITION or for_user(user) or not meets_condition(user, cfg):
        return None
    return _create(
        user, status=DistributorStatus.ACTIVE, source=JoinSource.CONDITION, parent=_parent_for(user)
    )


def check_condition_after_completions(buyer_ids) -> list[Distributor]:
    """`check_condition_after_completion` for a chunk of auto-completed orders' buyers: the
    mode is read once and buyers who already have a distributor record are skipped in one
    query; only the rest are measured (and, if they qualify, created) one by one."""
    from django.contrib.auth import get_user_model

    cfg = config.current()
    if cfg.enable_mode != EnableMode.CONDITION or not buyer_ids:
        return []
    known = set(Distributor.objects.filter(user_id__in=list(buyer_ids)).values_list("user_id", flat=True))
    created = []
    for user in get_user_model().objects.filter(pk__in=set(buyer_ids) - known).order_by("pk"):
        if meets_condition(user, cfg):
            created.append(
                _create(
                    user,
                    status=DistributorStatus.ACTIVE,
                    source=JoinSource.CONDITION,
                    parent=_parent_for(user),
                )
            )
    return created


def _move(distributor: Distributor, target: str, **fields) -> None:
    if target == DistributorStatus.ACTIVE and not distributor.activated_at:
        fields["activated_at"] = timezone.now()
    DISTRIBUTOR_FLOW.move(distributor, target, stale=_("分销商状态已变化，请刷新后重试"), **fields)


@transaction.atomic
def approve(distributor: Distributor, staff) -> Distributor:
    _move(distributor, DistributorStatus.ACTIVE, reviewed_by=staff)
    notices.distributor_approved(user_id=distributor.user_id, distributor_id=distributor.pk)
    webhooks.distributor_approved(
        distributor_id=distributor.pk,
        user_id=distributor.user_id,
        code=distributor.referral_code,
        approved_at=timezone.now(),
    )
    return distributor


@transaction.atomic
def reject(distributor: Distributor, staff, *, reason: str) -> Distributor:
    reason = (reason or "").strip()
    if not reason:
        raise ApplicationNotAllowed(_("请填写拒绝原因"), code="REASON_REQUIRED", status=400)
    _move(distributor, DistributorStatus.REJECTED, reviewed_by=staff, reject_reason=reason[:200])
    notices.distributor_rejected(
        user_id=distributor.user_id, distributor_id=distributor.pk, reason=reason[:200]
    )
    return distributor


@transaction.atomic
def set_status(
    distributor: Distributor, staff, target: str, *, reason: str = "", decision: str = ""
) -> Distributor:
    """Suspend, ban or reactivate; only active distributors earn, and a suspended one's
    held commission waits until they are reactivated. A ban needs staff's decision."""
    if target == DistributorStatus.BANNED:
        return ban(distributor, staff, decision=decision, reason=reason)
    _move(distributor, target, status_reason=(reason or "")[:200], reviewed_by=staff)
    return distributor


@transaction.atomic
def ban(distributor: Distributor, staff, *, decision: str, reason: str) -> Distributor:
    """Ban a distributor; staff decide what becomes of their held (pending and frozen)
    commission: voided (cancelled now) or released (it settles as it would have). The
    decision and its reason go on each held commission's history and on the ledger."""
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(_("请填写封禁原因"), code="REASON_REQUIRED")
    if decision not in BanDecision.values:
        raise InvalidInput(
            _("请选择封禁后待结算佣金的处理方式（作废或保留结算）"), code="BAN_DECISION_REQUIRED"
        )
    _move(
        distributor,
        DistributorStatus.BANNED,
        status_reason=reason[:200],
        reviewed_by=staff,
        ban_decision=decision,
    )
    # Set-based whatever the number held (a store's 导购 may hold thousands): one locking
    # read, one insert of their history, one update.
    held_rows = Commission.objects.filter(
        distributor=distributor, status__in=[CommissionStatus.PENDING, CommissionStatus.FROZEN]
    )
    # Their orders first, as refunds and the auto-complete sweep take them: the sweep reads
    # a commission's amount under its order's lock and moves it after, so a void between
    # the two would be counted twice in the running totals.
    from fenxiao.orders.models import Order

    list(
        Order.objects.select_for_update()
        .filter(pk__in=held_rows.exclude(order__isnull=True).values("order_id"))
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    held = list(
        held_rows.select_for_update(of=("self",))
        .order_by("pk")
        .annotate(line_refunded=F("order_line__refunded_amount"))
        .values("pk", "status", "amount", "reversed_amount", "line_refunded")
    )
    net = {row["pk"]: row["amount"] - row["reversed_amount"] for row in held}
    total = sum(net.values())
    void = decision == BanDecision.VOID
    note = (f"封禁作废：{reason}" if void else f"封禁后保留，照常结算：{reason}")[:200]
    CommissionAdjustment.objects.bulk_create(
        CommissionAdjustment(
            commission_id=row["pk"],
            kind=CommissionAdjustment.Kind.VOIDED if void else CommissionAdjustment.Kind.RELEASED,
            amount=net[row["pk"]] if void else 0,
            # A till sale's line is never refunded here.
            refunded_base=row["line_refunded"] or 0,
            note=note,
        )
        for row in held
    )
    changes = totals.deltas()
    if void and held:
        # Locked above, so every one is still in the status it was read in.
        held_rows.update(status=CommissionStatus.CANCELLED, reversed_amount=F("amount"))
        for row in held:
            changes[distributor.pk][totals.BUCKET[row["status"]]] -= net[row["pk"]]
    outcome = "已作废" if void else "保留，照常结算"
    LedgerEntry.objects.create(
        distributor=distributor,
        kind=LedgerKind.BAN,
        amount=0,
        source_key=f"ban:{distributor.pk}",
        note=f"封禁：待结算佣金 {len(held)} 笔 {format_fen(total)} {outcome}（原因：{reason}）"[:200],
    )
    # The ban entry itself is 0: only voided commission leaves the pending/frozen figures.
    totals.add(changes)
    if void:
        risk.close_moot(distributor_id=distributor.pk)
    return distributor


@transaction.atomic
def designate(user, staff, *, parent: Distributor | None = None, grade=None) -> Distributor:
    """指定分销: staff makes a user a distributor directly."""
    existing = for_user(user)
    if existing:
        if existing.status != DistributorStatus.ACTIVE:
            _move(existing, DistributorStatus.ACTIVE, reviewed_by=staff)
        return existing
    distributor = _create(
        user,
        status=DistributorStatus.ACTIVE,
        source=JoinSource.DESIGNATED,
        parent=parent or _parent_for(user),
        reviewer=staff,
    )
    if grade is not None:
        Distributor.objects.filter(pk=distributor.pk).update(grade=grade)
        distributor.grade = grade
    return distributor


def ancestors(distributor: Distributor | None, limit: int = 64) -> list[Distributor]:
    chain = []
    node = distributor
    while node is not None and node.parent_id and len(chain) < limit:
        node = Distributor.objects.select_related("user").filter(pk=node.parent_id).first()
        if node is None:
            break
        chain.append(node)
    return chain


def is_in_downline(candidate: Distributor, root: Distributor) -> bool:
    """True when `candidate` is `root` or sits anywhere beneath it, however deep (the walk
    up reads only parent ids, and stops at a node seen twice)."""
    seen = set()
    node_id = candidate.pk
    while node_id is not None and node_id not in seen:
        if node_id == root.pk:
            return True
        seen.add(node_id)
        node_id = Distributor.objects.filter(pk=node_id).values_list("parent_id", flat=True).first()
    return False


@transaction.atomic
def set_parent(distributor: Distributor, parent: Distributor | None, staff=None) -> Distributor:
    with tree_lock():
        if parent is not None and is_in_downline(parent, distributor):
            raise LoopRefused()
        Distributor.objects.filter(pk=distributor.pk).update(parent=parent)
    distributor.parent = parent
    return distributor


@transaction.atomic
def set_grade(distributor: Distributor, grade: DistributorGrade, staff=None) -> Distributor:
    """Staff may set any grade by hand, up or down."""
    Distributor.objects.filter(pk=distributor.pk).update(grade=grade)
    distributor.grade = grade
    return distributor


def get(pk: int) -> Distributor:
    distributor = Distributor.objects.select_related("user", "grade").filter(pk=pk).first()
    if distributor is None:
        raise DistributorNotFound()
    return distributor
