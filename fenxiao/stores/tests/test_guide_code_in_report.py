"""门店报表's 导购业绩 names each person with their 导购码 beside the name, in the page and its
files: a guide with no nickname reads as a masked phone (139****0041), so a chain's sheet had
rows no one could tell apart or trace; 门店员工 finds a person by that code."""

import csv
import io

import pytest

from fenxiao.stores.models import StoreStaff
from fenxiao.testing import login, make_buyer, make_staff

from .helpers import make_store

pytestmark = pytest.mark.django_db


def test_each_staff_row_carries_the_code_that_finds_the_person():
    store = make_store("湖滨店")
    quiet = StoreStaff.objects.create(store=store, user=make_buyer("13900000041"))
    other = StoreStaff.objects.create(store=make_store("文三路店"), user=make_buyer("13911110041"))
    boss = login(make_staff("boss", superuser=True))

    reply = boss.get("/backend/data/stores/export/csv/?range=7d&report=stores-guides")
    body = b"".join(reply.streaming_content) if reply.streaming else reply.content
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert rows[0][:4] == ["门店", "员工", "导购码", "岗位"]
    named = {(row[1], row[2]) for row in rows[1:-1]}
    assert named == {("139****0041", quiet.code), ("139****0041", other.code)}
    assert quiet.code in boss.get("/backend/data/stores/?range=7d").content.decode()

    page = boss.get(f"/backend/stores/storestaff/?q={quiet.code.lower()}")
    assert [row.pk for row in page.context["cl"].result_list] == [quiet.pk]
    assert "导购码" in page.content.decode()  # the search box says so
