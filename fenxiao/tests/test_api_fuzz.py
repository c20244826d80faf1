"""Schemathesis over our own OpenAPI schema, in process (WSGI, no server, no network).

Every operation gets a bounded number of generated requests, signed out and as a signed-in
buyer (bearer token). A request must never get a 5xx, and every answer must match the
schema, error bodies (`ErrorOut`) included.
"""

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from fenxiao.customers.services.accounts import issue_token
from fenxiao.testing import make_address, make_buyer, make_product

EXAMPLES_PER_OPERATION = 4
# What we hold every answer to. (Business rules such as "a mainland phone number" are not in
# the schema, so "schema-valid data must be accepted" is not among them.)
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]

# Loaded at collection: the schema endpoint needs no database.
schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", get_wsgi_application())

fuzz_settings = settings(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=None,
    derandomize=True,  # the same requests on every run: a failure is reproducible
    database=None,
    suppress_health_check=list(HealthCheck),
)


@pytest.fixture(autouse=True)
def _keep_the_test_connection():
    """Requests go straight to the WSGI handler, whose request signals would close the test's
    database connection (mid-transaction on PostgreSQL); Django's test client unhooks them the
    same way."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def buyer_token(db):
    buyer = make_buyer()
    make_address(buyer)
    make_product()
    return issue_token(buyer)


@schema.parametrize()
@fuzz_settings
def test_anonymous_callers_never_get_a_server_error(case, db):
    case.call_and_validate(checks=CHECKS)


@schema.parametrize()
@fuzz_settings
def test_signed_in_buyers_never_get_a_server_error(case, buyer_token):
    case.call_and_validate(headers={"Authorization": f"Bearer {buyer_token}"}, checks=CHECKS)


def test_every_operation_documents_its_error_bodies(client):
    spec = client.get("/api/v1/openapi.json").json()
    assert set(spec["components"]["schemas"]["ErrorOut"]["required"]) == {"code", "message"}
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            for status in ("400", "401", "403", "404", "422", "429"):
                body = operation["responses"][status]["content"]["application/json"]["schema"]
                assert body == {"$ref": "#/components/schemas/ErrorOut"}, (method, path, status)
