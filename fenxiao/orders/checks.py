"""System checks: the tracking service's key; the order search's trigram indexes."""

import importlib

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register


@register()
def tracking_service_configured(app_configs, **kwargs):
    """Kuaidi100 refuses every subscription without the customer's key."""
    if settings.LOGISTICS_PROVIDER != "kuaidi100" or settings.KUAIDI100.get("KEY"):
        return []
    return [Error("LOGISTICS_PROVIDER=kuaidi100 needs KUAIDI100_KEY.", id="fenxiao.E014")]


SEARCH_MIGRATION = "0019_search_trigram_indexes"


@register(Tags.database)
def search_trigram_indexes(app_configs, databases=None, **kwargs):
    """The order search's trigram indexes are left out when the role that migrated could
    not create pg_trgm (migration 0019): a deploy must not fail for a speed-up, but staff
    would find names and products slowly (seconds a page at 200,000 orders) without
    anyone knowing why. Asked with the database (`migrate`, `check --database default`)."""
    from django.db import connections
    from django.db.migrations.recorder import MigrationRecorder

    names = importlib.import_module(f"fenxiao.orders.migrations.{SEARCH_MIGRATION}").INDEX_NAMES
    warnings = []
    for alias in databases or ():
        connection = connections[alias]
        if connection.vendor != "postgresql":
            continue
        recorder = MigrationRecorder(connection)
        # A new database (checked before its first `migrate`) has no migration table yet.
        if (
            not recorder.has_table()
            or not recorder.migration_qs.filter(app="orders", name=SEARCH_MIGRATION).exists()
        ):
            continue  # not migrated yet: the migration builds them
        with connection.cursor() as cursor:
            cursor.execute("SELECT indexname FROM pg_indexes WHERE indexname = ANY(%s)", [list(names)])
            missing = sorted(set(names) - {name for (name,) in cursor.fetchall()})
        if missing:
            warnings.append(
                Warning(
                    f"The order search's trigram indexes are missing on database '{alias}': "
                    f"{', '.join(missing)}. Searching orders by name, product or note reads "
                    "every order.",
                    hint="Have a superuser run CREATE EXTENSION pg_trgm in this database, then: "
                    'manage.py shell -c "import importlib; importlib.import_module('
                    f"'fenxiao.orders.migrations.{SEARCH_MIGRATION}').create_indexes()\"",
                    id="fenxiao.W020",
                )
            )
    return warnings
