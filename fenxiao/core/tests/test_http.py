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
