from django.test import RequestFactory

from fenxiao.core.http import client_ip


def test_client_address_comes_from_the_configured_proxy_header(settings):
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="1.2.3.4, 10.0.0.2")
    assert client_ip(request) == "10.0.0.2"  # not behind a proxy: headers are not trusted
    settings.CLIENT_IP_HEADER = "HTTP_X_FORWARDED_FOR"
    assert client_ip(request) == "1.2.3.4"
    settings.CLIENT_IP_HEADER = "HTTP_X_REAL_IP"  # the proxy did not set it: fall back
    assert client_ip(request) == "10.0.0.2"
