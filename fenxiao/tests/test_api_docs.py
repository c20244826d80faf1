"""/api/docs works without internet access: Swagger UI is served by the mall itself."""

import json
import re
import urllib.request

import pytest

pytestmark = pytest.mark.django_db


def test_docs_page_loads_only_from_this_server(client, live_server):
    page = client.get("/api/docs", follow=True)
    assert page.status_code == 200
    html = page.content.decode()
    references = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert references, html
    assert not [ref for ref in references if re.match(r"^(https?:)?//", ref)]
    assets = [ref for ref in references if ref.startswith("/static/")]
    assert {a.rsplit("/", 1)[-1] for a in assets} >= {
        "swagger-ui.css",
        "swagger-ui-bundle.js",
        "swagger-ui-init.js",
    }
    for asset in assets:
        with urllib.request.urlopen(live_server.url + asset, timeout=10) as response:  # noqa: S310
            assert response.status == 200
            assert len(response.read()) > 100, asset

    # Swagger UI reads its schema from here and asks no online validator about it.
    config = json.loads(re.search(r'id="swagger-settings">(.*?)</script>', html, re.S).group(1))
    assert config["validatorUrl"] is None
    schema = client.get(config["url"])
    assert schema.status_code == 200 and schema.json()["info"]["title"] == "分销商城 API"
