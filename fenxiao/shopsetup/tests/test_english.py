"""The 快速开店 wizard in English: the template choice, each template's plan (with and without
sample data) and the history, with nothing Chinese left but the shop's data and the names of
other apps' settings; what an application logs stays in the shop's language (Chinese); a
refusal in English; Chinese by default."""

import pytest
from django.urls import reverse
from django.utils import translation

from fenxiao.distribution.models import DistributionSettings, DistributorGrade
from fenxiao.shopsetup.models import SetupRecord
from fenxiao.testing import backend_content, chinese_left, in_english, login, make_staff

pytestmark = pytest.mark.django_db

WIZARD = "/backend/setup/"
# Grade names a template writes into the shop (presets: data, kept in Chinese).
PRESETS = ("普通", "高级", "金牌")


def other_apps_labels() -> list[str]:
    """The distribution app's own names for its settings and grades (its helper translates
    them), as the page shows them in English."""
    out = []
    with translation.override("en"):
        for model in (DistributionSettings, DistributorGrade):
            out.append(str(model._meta.verbose_name))
            for field in model._meta.get_fields():
                if hasattr(field, "verbose_name"):
                    out.append(str(field.verbose_name))
                out += [str(label) for _value, label in getattr(field, "choices", None) or []]
    return out


@pytest.fixture
def boss():
    return in_english(login(make_staff("boss", superuser=True)))


def english(client, url, *data):
    reply = client.get(url)
    assert reply.status_code == 200, (url, reply.status_code)
    html = reply.content.decode()
    assert chinese_left(backend_content(html), *PRESETS, *other_apps_labels(), *data) == [], url
    return html


def test_the_wizard_is_english(boss):
    html = english(boss, WIZARD)
    for text in ("Starter", "Small business", "Store chain", "View the plan", "No template applied yet"):
        assert text in html


@pytest.mark.parametrize("key", ["starter", "smb", "chain"])
@pytest.mark.parametrize("demo", ["", "?demo=1"])
def test_each_plan_is_english(boss, key, demo):
    html = english(boss, reverse("shopsetup_plan", args=[key]) + demo)
    assert "Apply" in html and ("Will change" in html or "Will create" in html)


def test_applying_logs_in_chinese_and_the_history_is_english(boss):
    reply = boss.post(reverse("shopsetup_plan", args=["chain"]))
    assert reply.status_code == 302
    record = SetupRecord.objects.get()
    labels = [row["label"] for row in record.changes]
    # The log is the shop's record: written in its language, whatever the merchant reads.
    assert any("门店设置" in label for label in labels), labels
    assert all(any("\u4e00" <= ch <= "\u9fff" for ch in label) for label in labels), labels
    page = boss.get(WIZARD)
    html = page.content.decode()
    logged = [str(row.get(k) or "") for row in record.changes for k in ("label", "old_text", "new_text")]
    assert chinese_left(backend_content(html), *logged, *PRESETS) == []
    assert "Applied the “Store chain” template" in html and "History" in html


def test_an_unknown_template_is_refused_in_english(boss):
    reply = boss.get(reverse("shopsetup_plan", args=["nope"]))
    assert reply.status_code == 404
    html = reply.content.decode()
    assert "No such setup template" in html
    assert chinese_left(backend_content(html)) == []


def test_without_a_choice_the_wizard_stays_chinese():
    client = login(make_staff("boss", superuser=True))
    html = client.get(WIZARD).content.decode()
    assert "查看配置计划" in html and "线下连锁" in html and "View the plan" not in html
