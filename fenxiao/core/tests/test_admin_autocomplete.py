"""Backend forms with autocomplete fields (门店's 店长, a promotion's products, …) redraw a
hand-made value without failing: "abc", "1.5" or a number past 64 bits is left out and the
form says the choice is not valid, instead of a 500. Every such admin and inline holds."""

import pytest
from django.contrib import admin
from django.contrib.admin.options import InlineModelAdmin
from django.test import RequestFactory

from fenxiao.core.checks import autocomplete_survives_posted_values
from fenxiao.stores.models import Store
from fenxiao.testing import login, make_buyer, make_staff

pytestmark = pytest.mark.django_db

BAD = ["abc", "1.5", "99999999999999999999", "-99999999999999999999"]


def holders():
    """(admin or inline instance, its model) for every one with autocomplete fields."""
    found = []
    for model, model_admin in admin.site._registry.items():
        if model_admin.autocomplete_fields:
            found.append((model_admin, model))
    pending = [InlineModelAdmin]
    while pending:
        for sub in pending.pop().__subclasses__():
            pending.append(sub)
            if sub.__module__.startswith("fenxiao.") and sub.autocomplete_fields and sub.model:
                found.append((sub(sub.model, admin.site), sub.model))
    return found


def test_the_system_check_finds_every_autocomplete_admin_safe():
    assert autocomplete_survives_posted_values(None) == []
    assert len(holders()) >= 7


def test_every_autocomplete_widget_draws_a_hand_made_value():
    request = RequestFactory().get("/backend/")
    request.user = make_staff("boss", superuser=True)
    drawn = 0
    for holder, model in holders():
        for name in holder.autocomplete_fields:
            formfield = holder.formfield_for_dbfield(model._meta.get_field(name), request)
            for value in BAD:
                widget = getattr(formfield.widget, "widget", formfield.widget)  # inside the +/✎ wrapper
                value = [value] if widget.allow_multiple_selected else value
                html = formfield.widget.render(name, value)
                assert f'name="{name}"' in html, (holder, name)
                drawn += 1
    assert drawn >= 7 * len(BAD)


@pytest.mark.parametrize("manager", BAD)
def test_the_store_form_says_the_manager_is_not_valid(manager):
    boss = login(make_staff("boss", superuser=True))
    reply = boss.post("/backend/stores/store/add/", {"name": "湖滨店", "manager": manager})
    assert reply.status_code == 200
    assert "manager" in reply.context["adminform"].form.errors
    assert not Store.objects.exists()
    store = Store.objects.create(name="西湖店", manager=make_buyer())
    reply = boss.post(f"/backend/stores/store/{store.pk}/change/", {"name": "西湖店", "manager": manager})
    assert reply.status_code == 200
