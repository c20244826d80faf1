"""人人分销 enrolment: "every registered buyer is a distributor", for the buyers and
applicants there were when the merchant switched to it (and, hourly, any a sign-up or a
review left behind).

The invariant: after a run, every buyer has an active distributor account except those
staff suspended or banned; nobody gets two, and a re-run changes nothing.

- Applicants waiting for review or turned down are let in (`_let_in_waiting`), as
  `distributors.ensure_for_everyone_mode` lets one in, and told as an approval tells them.
- Buyers without an account get one (`_enrol`), with the parent `distributors._parent_for`
  would give: their binding's distributor if in force, else the link that recruited them.
- Set-based: a chunk per transaction, a fixed number of statements per chunk; a row made or
  decided meanwhile by a sign-up or a review is left as it is (unique user, locked rows).
"""

from django.db import transaction
from django.db.models import Value
from django.db.models.functions import Coalesce
from django.utils import timezone

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
from . import config, distributors

CHUNK = 1000


def enrol_everyone(*, chunk: int = CHUNK) -> int:
    """人人分销: every applicant waiting or turned down is let in, and every buyer without
    a distributor account gets an active one, with the parent `ensure_for_everyone_mode`
    would give it one by one. Set-based, a chunk
    per transaction; safe to re-run and to run beside sign-ups and reviews (an account made
    or decided meanwhile is left as it is). Returns how many accounts were made or let in."""
    from fenxiao.customers.models import Customer

    if config.current().enable_mode != EnableMode.EVERYONE:
        return 0
    made = _let_in_waiting(chunk)
    grade = distributors.default_grade()
    after = 0
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


def _enrol(user_ids: list[int], grade) -> int:
    now = timezone.now()
    made = 0
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
                        source=JoinSource.EVERYONE,
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
                Distributor.objects.filter(user_id__in=missing, totals__isnull=True).values_list(
                    "pk", flat=True
                )
            )
            DistributorTotals.objects.bulk_create(
                [DistributorTotals(distributor_id=pk) for pk in created], ignore_conflicts=True
            )
            made += len(created)
    return made


def _tell_approved(rows: list[tuple[int, int, str]]) -> None:
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
                "分销商申请已通过",
                "恭喜您成为分销商！分享商品给好友，好友下单后您即可获得佣金。",
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
