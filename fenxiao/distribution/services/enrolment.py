"""Enrolment in bulk: 人人分销 ("every registered buyer is a distributor") for the buyers
and applicants there were when the merchant switched to it, and 满足条件 for the buyers who
already met the condition when the merchant switched to it or changed it (and, hourly, any
a sign-up, a review or a receipt left behind).

The invariant: after a run, every buyer has an active distributor account except those
staff suspended or banned; nobody gets two, and a re-run changes nothing.

- Applicants waiting for review or turned down are let in (`_let_in_waiting`), as
  `distributors.ensure_for_everyone_mode` lets one in, and told as an approval tells them.
- Buyers without an account get one (`_enrol`), with the parent `distributors._parent_for`
  would give: their binding's distributor if in force, else the link that recruited them.
- 满足条件: buyers without an account whose completed orders meet the condition get an
  active one (`enrol_qualified`), measured a chunk at a time (`condition.qualified`), and
  are told as an approval tells them. Nobody with an account is touched (see there).
- Set-based: a chunk per transaction, a fixed number of statements per chunk; a row made or
  decided meanwhile by a sign-up or a review is left as it is (unique user, locked rows).
"""

from django.db import transaction
from django.db.models import Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_noop

from fenxiao.notices.models import Kind
from fenxiao.notices.services.inbox import Draft, notify_many
from fenxiao.webhooks.models import EventType
from fenxiao.webhooks.services.events import emit_many

from ..models import (
    CustomerBinding,
    Distributor,
    DistributorStatus,
    DistributorTotals,
    EnableMode,
    JoinSource,
)
from . import condition, config, distributors

CHUNK = 1000


def enrol_everyone(*, chunk: int = CHUNK) -> int:
    """人人分销: every applicant waiting or turned down is let in, and every buyer without
    a distributor account gets an active one, with the parent `ensure_for_everyone_mode`
    would give it one by one. Set-based, a chunk
    per transaction; safe to re-run and to run beside sign-ups and reviews (an account made
    or decided meanwhile is left as it is). Returns how many accounts were made or let in."""

    if config.current().enable_mode != EnableMode.EVERYONE:
        return 0
    made = _let_in_waiting(chunk)
    grade = distributors.default_grade()
    for ids in _without_account(chunk):
        made += len(_enrol(ids, grade, JoinSource.EVERYONE))
    return made


def enrol_qualified(*, chunk: int = CHUNK) -> int:
    """满足条件: every buyer without a distributor account whose completed orders meet the
    condition gets an active one, with the parent `distributors._parent_for` would give, and
    is told as an approval tells. Set-based, a chunk of buyers per transaction measured with
    one grouped query; safe to re-run and to run beside sign-ups and receipts. Returns how
    many accounts were made.

    Only buyers without an account: a suspended or banned distributor stays as staff left
    them, and so does a rejected applicant. Staff turned that one down, and the shop does not
    reverse staff's decision on its own; the applicant may apply again, and `apply` lets in
    one who meets the condition, as their own request. A pending application (left from 申请
    审核) waits for staff's review as before."""

    cfg = config.current()
    if cfg.enable_mode != EnableMode.CONDITION:
        return 0
    wanted = condition.Condition.of(cfg)
    grade = distributors.default_grade()
    made = 0
    for ids in _without_account(chunk):
        qualified = condition.qualified(wanted, ids)
        if qualified:
            made += _enrol_and_tell(qualified, grade)
    return made


def _without_account(chunk: int):
    """The ids of buyers without a distributor account, a chunk at a time in id order (read
    afresh after each chunk is enrolled, so the next one starts past it)."""
    from fenxiao.customers.models import Customer

    after = 0
    while ids := list(
        Customer.objects.filter(pk__gt=after, distributor__isnull=True)
        .order_by("pk")
        .values_list("pk", flat=True)[:chunk]
    ):
        yield ids
        after = ids[-1]


def enrol_qualified_among(user_ids) -> int:
    """`enrol_qualified` for the buyers of orders just completed (a receipt, the auto-complete
    sweep), inside that transaction: those without an account are measured together."""
    from django.contrib.auth import get_user_model

    cfg = config.current()
    if cfg.enable_mode != EnableMode.CONDITION or not user_ids:
        return 0
    ids = list(
        get_user_model()
        .objects.filter(pk__in=list(user_ids), distributor__isnull=True)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    qualified = condition.qualified(condition.Condition.of(cfg), ids) if ids else []
    if not qualified:
        return 0
    return _enrol_and_tell(qualified, distributors.default_grade())


# Those the condition enrols never applied: they are told why they became distributors.
QUALIFIED_TITLE = gettext_noop("您已成为分销商")
QUALIFIED_BODY = gettext_noop(
    "您的消费已满足本店的分销商条件，已自动成为分销商。分享商品给好友，好友下单后您即可获得佣金。"
)
APPROVED_TITLE = "分销商申请已通过"
APPROVED_BODY = "恭喜您成为分销商！分享商品给好友，好友下单后您即可获得佣金。"


def _enrol_and_tell(user_ids: list[int], grade) -> int:
    with transaction.atomic():
        made = _enrol(user_ids, grade, JoinSource.CONDITION)
        _tell_approved(made, QUALIFIED_TITLE, QUALIFIED_BODY)
    return len(made)


def _let_in_waiting(chunk: int) -> int:
    """Every waiting applicant let in, as `distributors.ensure_for_everyone_mode` lets one
    in, a chunk at a time: their rows locked in key order (so a review deciding one
    meanwhile either finished first or waits), one UPDATE, and their notices and webhooks
    in one go."""
    let_in, after = 0, 0
    while True:
        with transaction.atomic():
            rows = list(
                Distributor.objects.select_for_update()
                .filter(pk__gt=after, status__in=distributors.WAITING)
                .order_by("pk")
                .values_list("pk", "user_id", "referral_code")[:chunk]
            )
            if not rows:
                return let_in
            ids = [pk for pk, _user, _code in rows]
            Distributor.objects.filter(pk__in=ids).update(
                status=DistributorStatus.ACTIVE,
                activated_at=Coalesce("activated_at", Value(timezone.now())),
                reject_reason="",
                status_reason=distributors.EVERYONE_NOTE,
            )
            _tell_approved(rows)
        let_in += len(rows)
        after = ids[-1]


def _enrol(user_ids: list[int], grade, source: str) -> list[tuple[int, int, str]]:
    """Active accounts for those of `user_ids` without one; returns the (distributor id, user
    id, referral code) of each made here (not those a sign-up made meanwhile)."""
    now = timezone.now()
    made = []
    with transaction.atomic():
        parents = dict(
            CustomerBinding.objects.in_force(now)
            .filter(buyer_id__in=user_ids)
            .values_list("buyer_id", "distributor_id")
        )
        # Without a binding in force, the link that recruited them (as `_parent_for`).
        parents = distributors.recruiters([pk for pk in user_ids if pk not in parents]) | parents
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
                        source=source,
                        parent_id=parents.get(user_id),
                        grade=grade,
                        referral_code=distributors.new_code(),
                        activated_at=now,
                    )
                    for user_id in sorted(missing)
                ],
                ignore_conflicts=True,
            )
            # Each account is born with its running totals row, as `_create` makes it.
            created = list(
                Distributor.objects.filter(user_id__in=missing, totals__isnull=True)
                .order_by("pk")
                .values_list("pk", "user_id", "referral_code")
            )
            DistributorTotals.objects.bulk_create(
                [DistributorTotals(distributor_id=pk) for pk, _user, _code in created], ignore_conflicts=True
            )
            made += created
    return made


def _tell_approved(
    rows: list[tuple[int, int, str]], title: str = APPROVED_TITLE, body: str = APPROVED_BODY
) -> None:
    """The notice and the webhook of `distributors.approve`, for many (distributor id, user
    id, referral code) at once: a fixed number of statements whatever their number. The
    texts and the payload are those of `notices.events.distributor_approved` and
    `webhooks.events.distributor_approved`, which tell one at a time."""
    now = timezone.now()
    stamp = now.strftime("%Y%m%d%H%M%S%f")
    notify_many(
        Kind.DISTRIBUTOR_APPROVED,
        (
            Draft(
                user_id,
                title,
                body,
                f"distributor-approved:{pk}:{stamp}",
                "/d/",
                "distributor",
                pk,
            )
            for pk, user_id, _code in rows
        ),
    )
    emit_many(
        EventType.DISTRIBUTOR_APPROVED,
        (
            (
                f"distributor-approved:{pk}:{stamp}",
                {
                    "distributor_id": pk,
                    "user_id": user_id,
                    "code": code,
                    "status": "active",
                    "approved_at": timezone.localtime(now).isoformat(),
                },
            )
            for pk, user_id, code in rows
        ),
    )
