"""Becoming a distributor, review, designation, status, parent and grade."""

import re
import secrets
from contextlib import contextmanager

from django.db import IntegrityError, connection, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from fenxiao.core.errors import InvalidTransition
from fenxiao.notices.services import events as notices
from fenxiao.webhooks.services import events as webhooks

from ..errors import ApplicationNotAllowed, DistributorNotFound, LoopRefused, NotADistributor
from ..models import (
    DISTRIBUTOR_FLOW,
    CustomerBinding,
    Distributor,
    DistributorGrade,
    DistributorStatus,
    DistributorTotals,
    EnableMode,
    JoinSource,
    ReviewMode,
    Touch,
    TouchRule,
    TouchSource,
    texts,
)
from . import agreement, config

CODE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O, 1/I: read aloud, typed by hand


def new_code() -> str:
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


# The rule of a link visit that recruited but could not bind: 仅绑定新客户 keeps a buyer
# who has paid before from being bound (a buyer matter), not from being recruited.
RECRUITED_UNBOUND = TouchRule.NEW_BUYERS_ONLY


def _parent_for(user) -> Distributor | None:
    """A bound buyer who becomes a distributor joins their binding's distributor's team (a
    binding that has lapsed binds nobody any more). Without one, a customer recruited
    through a distributor's link joins that distributor's team: the last link they came
    through, if it did not bind them only because they had paid before (`recruiters`).
    A new account has no team, so either parent keeps the tree free of cycles."""
    binding = CustomerBinding.objects.select_related("distributor").filter(buyer=user).in_force().first()
    if binding is not None:
        return binding.distributor
    recruiter = recruiters([user.pk]).get(user.pk)
    return Distributor.objects.filter(pk=recruiter).first() if recruiter else None


def recruiters(user_ids: list[int]) -> dict[int, int]:
    """{user id: distributor id} for the buyers whose last signed-in visit through a link
    recruited them without binding them: two grouped queries whatever their number."""
    last = (
        Touch.objects.filter(buyer_id__in=user_ids)
        .order_by()
        .values("buyer_id")
        .annotate(last=Max("pk"))
        .values_list("last", flat=True)
    )
    return dict(
        Touch.objects.filter(pk__in=list(last), rule=RECRUITED_UNBOUND)
        .exclude(source=TouchSource.MANUAL)
        .values_list("buyer_id", "distributor_id")
    )


def _create(user, *, status, source, parent=None, real_name="", note="", reviewer=None, **agreed):
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
                    referral_code=new_code(),
                    real_name=real_name[:40],
                    apply_note=note[:200],
                    reviewed_by=reviewer,
                    activated_at=now if status == DistributorStatus.ACTIVE else None,
                    **agreed,
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


# An application still waiting for a yes (pending review) or turned down: under 人人分销
# ("every registered buyer is a distributor") such an applicant is let in. A suspended or
# banned distributor is not: that was staff's decision about them, not about the mode.
WAITING = (DistributorStatus.PENDING, DistributorStatus.REJECTED)
EVERYONE_NOTE = texts.EVERYONE_NOTE


def ensure_for_everyone_mode(user) -> Distributor | None:
    """In 人人分销 mode every registered buyer is a distributor, created when first needed
    (an applicant waiting or turned down is let in)."""
    existing = for_user(user)
    if existing is not None and existing.status not in WAITING:
        return existing
    if config.current().enable_mode != EnableMode.EVERYONE:
        return existing
    if existing is not None:
        return _let_in(existing)
    return _create(
        user, status=DistributorStatus.ACTIVE, source=JoinSource.EVERYONE, parent=_parent_for(user)
    )


def _let_in(distributor: Distributor) -> Distributor:
    """One waiting applicant made active by 人人分销, told as a reviewed application is."""
    try:
        with transaction.atomic():
            _move(distributor, DistributorStatus.ACTIVE, reject_reason="", status_reason=EVERYONE_NOTE)
            _tell_approved(distributor)
    except InvalidTransition:  # staff decided meanwhile: what they decided stands
        return for_user(distributor.user)
    return distributor


def _tell_approved(distributor: Distributor) -> None:
    notices.distributor_approved(user_id=distributor.user_id, distributor_id=distributor.pk)
    webhooks.distributor_approved(
        distributor_id=distributor.pk,
        user_id=distributor.user_id,
        code=distributor.referral_code,
        approved_at=timezone.now(),
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


def enrol_everyone(*, chunk: int | None = None) -> int:
    """人人分销's enrolment of everyone not yet a distributor (`enrolment.enrol_everyone`)."""
    from . import enrolment

    return enrolment.enrol_everyone(chunk=chunk or enrolment.CHUNK)


def meets_condition(user, cfg=None) -> bool:
    """满足条件: `user`'s completed orders meet the condition (`condition`, the one measure)."""
    from . import condition

    return condition.meets(user, cfg)


# A person's name as on their ID: Chinese characters or Latin letters, with the middle dot
# of minority and foreign names (阿依古丽·买买提) and spaces.
_LETTER = "\u3400-\u4dbf\u4e00-\u9fffA-Za-z"
_REAL_NAME = re.compile(f"[{_LETTER}][{_LETTER}·• .]{{0,38}}[{_LETTER}.]")


def apply(user, *, real_name: str = "", note: str = "", agreed_version: int | None = None) -> Distributor:
    """A buyer asks to become a distributor, as the enable mode allows, agreeing to the
    分销商协议 version `agreed_version` (required when the shop asks for it)."""
    cfg = config.current()
    existing = for_user(user)
    if cfg.enable_mode == EnableMode.EVERYONE and (existing is None or existing.status in WAITING):
        return ensure_for_everyone_mode(user)
    if existing and existing.status in (DistributorStatus.ACTIVE, DistributorStatus.PENDING):
        raise ApplicationNotAllowed(_("您已提交申请或已是分销商"))
    if existing and existing.status in (DistributorStatus.SUSPENDED, DistributorStatus.BANNED):
        raise ApplicationNotAllowed(_("您的分销资格已被暂停或封禁，请联系商家"))
    if cfg.enable_mode == EnableMode.DESIGNATED:
        raise ApplicationNotAllowed(_("本店分销商由商家指定，暂不开放申请"))
    real_name = (real_name or "").strip()
    if cfg.enable_mode == EnableMode.APPLY and cfg.require_real_name and not real_name:
        raise ApplicationNotAllowed(_("请填写真实姓名"), code="REAL_NAME_REQUIRED", status=400)
    if real_name and not _REAL_NAME.fullmatch(real_name):
        # Staff check it against the payee account before paying out: emoji or digits
        # are never a name.
        raise ApplicationNotAllowed(
            _("真实姓名须为 2-40 个汉字或英文字母，可含间隔号“·”和空格"), code="REAL_NAME_INVALID", status=400
        )
    terms = agreement.for_application(cfg, agreed_version)
    agreed = {"agreement": terms, "agreed_at": timezone.now()} if terms else {}
    if cfg.enable_mode == EnableMode.CONDITION:
        if not meets_condition(user, cfg):
            raise ApplicationNotAllowed(_("您暂未满足成为分销商的条件"))
        status, source = DistributorStatus.ACTIVE, JoinSource.CONDITION
    else:
        status = DistributorStatus.ACTIVE if cfg.review_mode == ReviewMode.AUTO else DistributorStatus.PENDING
        source = JoinSource.APPLIED
    with transaction.atomic():
        if existing:  # a rejected applicant applies again
            _move(
                existing, status, real_name=real_name[:40], apply_note=note[:200], reject_reason="", **agreed
            )
            return existing
        return _create(
            user,
            status=status,
            source=source,
            parent=_parent_for(user),
            real_name=real_name,
            note=note,
            **agreed,
        )


def check_condition_after_completion(user) -> int:
    """满足条件 mode: a buyer whose completed orders meet the condition becomes a distributor
    (if they have no account yet), and is told. Returns 1 if they did, else 0."""
    return check_condition_after_completions([user.pk])


def check_condition_after_completions(buyer_ids) -> int:
    """`check_condition_after_completion` for a chunk of auto-completed orders' buyers, measured
    together (`enrolment.enrol_qualified_among`): a fixed number of statements for the chunk."""
    from . import enrolment

    return enrolment.enrol_qualified_among(buyer_ids)


def _move(distributor: Distributor, target: str, **fields) -> None:
    if target == DistributorStatus.ACTIVE and not distributor.activated_at:
        fields["activated_at"] = timezone.now()
    DISTRIBUTOR_FLOW.move(distributor, target, stale=_("分销商状态已变化，请刷新后重试"), **fields)


@transaction.atomic
def approve(distributor: Distributor, staff) -> Distributor:
    _move(distributor, DistributorStatus.ACTIVE, reviewed_by=staff)
    _tell_approved(distributor)
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


def reactivate(distributor: Distributor, staff, *, reason: str = "") -> Distributor:
    """恢复 lifts a suspension only: a pending or rejected application is approved (通过),
    which is a different decision, so a bulk 恢复 over a mixed selection must not make it."""
    if distributor.status != DistributorStatus.SUSPENDED:
        raise InvalidTransition(_("只有已暂停的分销商可以恢复"))
    return set_status(distributor, staff, DistributorStatus.ACTIVE, reason=reason)


def ban(distributor: Distributor, staff, *, decision: str, reason: str) -> Distributor:
    """Ban a distributor, with staff's decision on their held commission (`bans.ban`)."""
    from . import bans

    return bans.ban(distributor, staff, decision=decision, reason=reason)


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
