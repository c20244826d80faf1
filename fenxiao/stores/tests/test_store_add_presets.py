"""A new store's manager may be preset from the address (?manager=12); a value that is no id
is dropped and the form opens, never a 500."""

import pytest

from fenxiao.testing import login, make_staff

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("value", ["abc", "1,abc", "99999999999999999999999"])
def test_a_manager_preset_that_is_no_id_is_dropped(value):
    client = login(make_staff(superuser=True))
    page = client.get("/backend/stores/store/add/", {"manager": value})
    assert page.status_code == 200
    assert "manager" not in page.context["adminform"].form.initial


def test_a_manager_preset_by_id_is_kept():
    boss = make_staff(superuser=True)
    page = login(boss).get("/backend/stores/store/add/", {"manager": str(boss.pk)})
    assert page.status_code == 200
    assert page.context["adminform"].form.initial["manager"] == str(boss.pk)
