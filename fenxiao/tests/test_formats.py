"""Dates and times print one way across the backend, in either language: 2026-12-04 16:30,
as the pages that format them explicitly do. A column or field left to Django's default
printed 2026年12月4日 16:30 (or Dec. 4, 2026, 4:30 p.m.) beside them."""

import re
from datetime import datetime

import pytest
from django.urls import reverse
from django.utils import formats, timezone, translation

from fenxiao.customers.models import Tag
from fenxiao.customers.services import tags
from fenxiao.testing import login, make_staff

MOMENT = datetime(2026, 12, 4, 16, 30)


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_the_default_formats_are_the_projects_in_either_language(language):
    with translation.override(language):
        assert formats.date_format(MOMENT, "DATETIME_FORMAT") == "2026-12-04 16:30"
        assert formats.date_format(MOMENT, "SHORT_DATETIME_FORMAT") == "2026-12-04 16:30"
        assert formats.date_format(MOMENT.date(), "DATE_FORMAT") == "2026-12-04"
        assert formats.time_format(MOMENT.time(), "TIME_FORMAT") == "16:30"
        # What a date field accepts stays Django's for the language.
        assert "%Y-%m-%d" in formats.get_format("DATE_INPUT_FORMATS")


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_a_backend_list_prints_a_plain_datetime_column_as_the_rest(language):
    tags.ensure_rule_tags()
    tags.recompute_all()
    client = login(make_staff("boss", superuser=True))
    client.cookies["django_language"] = language
    page = client.get(reverse("admin:customers_tag_changelist")).content.decode()
    computed = timezone.localtime(Tag.objects.exclude(computed_at=None).first().computed_at)
    assert f"{computed:%Y-%m-%d %H:%M}" in page
    assert not re.search(r"\d{4}年\d{1,2}月\d{1,2}日", page)
    assert not re.search(r"\b\d{1,2}:\d{2} [ap]\.m\.", page)
