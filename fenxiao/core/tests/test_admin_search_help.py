"""Every backend list with a search box says what the box looks in, in the page's language:
unfold's "输入以搜索" left a merchant guessing whether a phone, a product name or part of an
order number would find anything. A system check keeps new lists from forgetting it."""

import html

import pytest
from django.contrib import admin
from django.urls import reverse

from fenxiao.core.checks import search_box_says_what_it_searches
from fenxiao.distribution.models import Distributor
from fenxiao.testing import login, make_staff


def test_the_system_check_finds_every_search_box_explained():
    assert search_box_says_what_it_searches(None) == []
    assert sum(1 for m in admin.site._registry.values() if m.search_fields) >= 40


def test_the_system_check_names_a_list_that_forgets(monkeypatch):
    model_admin = admin.site._registry[Distributor]
    monkeypatch.setattr(model_admin, "search_help_text", None)
    errors = search_box_says_what_it_searches(None)
    assert [e.id for e in errors] == ["fenxiao.E021"]
    assert "DistributorAdmin" in errors[0].msg


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("zh-hans", "按手机号、完整推广码、真实姓名或昵称搜索"),
        ("en", "Search by phone, full referral code, real name or nickname"),
    ],
)
def test_the_search_box_shows_it_in_the_pages_language(language, text):
    client = login(make_staff("boss", superuser=True))
    client.cookies["django_language"] = language
    page = client.get(reverse("admin:distribution_distributor_changelist")).content.decode()
    # The list's search box (the page's other one is unfold's command palette).
    assert f'placeholder="{html.escape(text)}"' in page
