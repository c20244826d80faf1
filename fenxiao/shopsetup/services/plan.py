"""Plan and apply a quick-setup template.

The plan is every row the template touches, with its current and new value and what
applying will do (`items.STATUS_TEXT`). Applying writes only the rows that are untouched by
the merchant (or that the merchant confirmed), in one transaction through the owning apps'
services, and logs the whole plan in a `SetupRecord`. A second application finds every row
already at its value and writes nothing.
"""

from dataclasses import dataclass

from django.conf import settings
from django.db import connection, transaction
from django.utils import translation

from ..errors import UnknownTemplate
from ..models import SetupRecord
from . import items


@dataclass
class Plan:
    template: object
    rows: list

    @property
    def writes(self) -> list:
        return [r for r in self.rows if r.writes]

    @property
    def conflicts(self) -> list:
        return [r for r in self.rows if r.status == items.CONFLICT]

    def counts(self) -> dict:
        out = {}
        for row in self.rows:
            out[row.status] = out.get(row.status, 0) + 1
        return out


def template(key: str):
    from ..spec import TEMPLATES

    try:
        return TEMPLATES[key]
    except KeyError:
        raise UnknownTemplate() from None


def baseline() -> dict:
    """What templates last set, per key: a value still equal to it is untouched."""
    last = {}
    for changes in SetupRecord.objects.order_by("pk").values_list("changes", flat=True):
        for row in changes:
            if row.get("status") in items.WRITES:
                last[row["key"]] = row["new"]
    return last


def build(key: str, *, demo: bool = False, confirmed=None) -> Plan:
    """The plan for template `key`. `confirmed` is True (override every conflict, --force)
    or the keys of the conflicts the merchant confirmed one by one."""
    tpl = template(key)
    base = baseline()
    rows = []
    for item in tpl.items + (tpl.demo if demo else []):
        rows += item.rows(base, confirmed)
    return Plan(tpl, rows)


@transaction.atomic
def apply(key: str, staff=None, *, demo: bool = False, confirmed=None) -> SetupRecord:
    """Apply template `key`; a refusal by any service (e.g. the commission guard) rolls back
    every write of this application."""
    # One application at a time: the settings record's lock (it always exists) orders two
    # wizards clicking at once, so the second plans against what the first wrote.
    from fenxiao.distribution.models import DistributionSettings
    from fenxiao.distribution.services import config

    DistributionSettings.objects.select_for_update().filter(pk=config.current().pk).exists()
    template(key)  # an unknown template is refused in the language of the request
    # The plan is logged (`SetupRecord.changes`): its texts are kept in the shop's language.
    with translation.override(settings.LANGUAGE_CODE):
        plan = build(key, demo=demo, confirmed=confirmed)
    writes = plan.writes
    items.write_settings([r for r in writes if isinstance(r.item, items.Setting)], staff)
    grades: dict = {}
    for row in writes:
        if isinstance(row.item, items.Grade):
            grades.setdefault(row.item.name, (row.item, []))[1].append(row)
    for grade, rows in grades.values():
        grade.write(rows)
    for row in writes:
        if isinstance(row.item, items.Step):
            row.item.write([row], staff)
    return SetupRecord.objects.create(
        template=key,
        applied_by=staff,
        forced=any(r.status == items.FORCED for r in plan.rows),
        changes=[r.as_log() for r in plan.rows],
    )


def is_fresh() -> bool:
    """A shop no template has set up and whose distribution settings were never saved. One
    statement: the backend home asks on every visit of a superuser."""
    from fenxiao.distribution.models import DistributionSettings

    quote = connection.ops.quote_name
    records, settings = quote(SetupRecord._meta.db_table), quote(DistributionSettings._meta.db_table)
    # Two table names from the models, quoted: nothing here comes from a request.
    sql = f"SELECT EXISTS(SELECT 1 FROM {records}) OR EXISTS(SELECT 1 FROM {settings} WHERE version > 1)"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql)
        (set_up,) = cursor.fetchone()
    return not set_up
