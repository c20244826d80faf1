import json

from django.test import RequestFactory

from fenxiao.core.http import client_ip


def test_client_address_comes_from_the_configured_proxy_header(settings):
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="1.2.3.4, 10.0.0.2")
    assert client_ip(request) == "10.0.0.2"  # not behind a proxy: headers are not trusted
    settings.CLIENT_IP_HEADER = "HTTP_X_REAL_IP"
    assert client_ip(RequestFactory().get("/", HTTP_X_REAL_IP="1.2.3.4")) == "1.2.3.4"
    settings.CLIENT_IP_HEADER = "HTTP_X_REAL_IP"  # the proxy did not set it: fall back
    assert client_ip(request) == "10.0.0.2"


def test_forwarded_for_believes_only_what_our_proxies_appended(settings):
    # The client sent "X-Forwarded-For: 6.6.6.6"; our one proxy appended the address it saw.
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="6.6.6.6, 1.2.3.4")
    settings.CLIENT_IP_HEADER = "HTTP_X_FORWARDED_FOR"
    assert client_ip(request) == "1.2.3.4"
    # A CDN in front of the proxy: the CDN appended the client, the proxy the CDN.
    cdn = RequestFactory().get("/", HTTP_X_FORWARDED_FOR="6.6.6.6, 1.2.3.4, 100.64.0.9")
    settings.CLIENT_IP_PROXY_COUNT = 2
    assert client_ip(cdn) == "1.2.3.4"
    # Fewer entries than proxies (a request that skipped the CDN): the leftmost one.
    assert client_ip(RequestFactory().get("/", HTTP_X_FORWARDED_FOR="1.2.3.4")) == "1.2.3.4"


def test_a_number_too_large_for_the_database_is_bad_input_not_a_failure(rf):
    """Outside a backend list (which goes back to itself with ?e=1, see the orders admin
    tests) a number SQLite cannot bind is refused with 400 and a code."""
    from fenxiao.core.middleware import BadInputMiddleware

    middleware = BadInputMiddleware(lambda request: None)
    request = rf.get("/api/v1/anything", {"id": "99999999999999999999"})
    request.resolver_match = None
    reply = middleware.process_exception(request, OverflowError("Python int too large"))
    assert reply.status_code == 400
    assert json.loads(reply.content) == {"code": "INVALID_INPUT", "message": "数字超出范围，请检查后重试"}
    assert middleware.process_exception(request, ValueError("a bug")) is None  # still a 500
