"""English is available: a visitor picks it, pages and the API then speak it, and every
English catalog translates each Chinese string it holds (compiled as written)."""

import ast
import gettext
import re
from pathlib import Path

import pytest
from django.conf import settings

from fenxiao.testing import chinese_left, in_english, make_buyer

ROOT = Path(settings.BASE_DIR) / "fenxiao"
CATALOGS = sorted(ROOT.glob("**/locale/en/LC_MESSAGES/*.po"))
CJK = re.compile(r"[\u3400-\u9fff]")


def read_po(path: Path) -> list[dict]:
    """The entries of a .po file: msgctxt, msgid, msgid_plural, msgstr (or msgstr[n]), flags."""
    entries, entry, field = [], {}, None
    for line in path.read_text(encoding="utf-8").splitlines() + [""]:
        if not line.strip():
            if "msgid" in entry:
                entries.append(entry)
            entry, field = {}, None
        elif line.startswith("#,"):
            entry["flags"] = {flag.strip() for flag in line[2:].split(",")}
        elif line.startswith("#"):
            continue
        elif line.startswith('"'):
            entry[field] += ast.literal_eval(line)
        else:
            field, _, value = line.partition(" ")
            entry[field] = ast.literal_eval(value)
    return entries


def test_english_catalogs_exist():
    assert CATALOGS, "no English catalog under fenxiao/**/locale/en"


@pytest.mark.parametrize("po", CATALOGS, ids=lambda p: str(p.relative_to(ROOT)))
def test_catalog_translates_every_chinese_string_and_is_compiled(po):
    entries = read_po(po)
    with po.with_suffix(".mo").open("rb") as handle:
        compiled = gettext.GNUTranslations(handle)
    for entry in entries:
        msgid = entry["msgid"]
        if not msgid:
            assert "fuzzy" not in entry.get("flags", ()), "the header must not be fuzzy"
            continue
        assert "fuzzy" not in entry.get("flags", ()), msgid
        if "msgid_plural" in entry:
            forms = [entry[key] for key in sorted(entry) if key.startswith("msgstr[")]
            assert forms and all(forms), msgid
            assert not any(CJK.search(form) for form in forms), msgid
            assert compiled.ngettext(msgid, entry["msgid_plural"], 2) == forms[-1], msgid
            continue
        if CJK.search(msgid):
            assert entry["msgstr"] and not CJK.search(entry["msgstr"]), msgid
        if entry["msgstr"]:
            context = entry.get("msgctxt")
            got = compiled.pgettext(context, msgid) if context else compiled.gettext(msgid)
            assert got == entry["msgstr"], f"{po.with_suffix('.mo').name} is older than {po.name}: {msgid}"


def test_one_msgid_one_english_text_across_catalogs():
    """Django merges every catalog into one table and the first that has a msgid wins
    everywhere, so a second English text for it in another app is never shown: that app's
    page silently reads the other app's wording. A word with two senses takes a msgctxt."""
    texts: dict[tuple, dict[str, str]] = {}
    for po in CATALOGS:
        for entry in read_po(po):
            if entry["msgid"] and entry.get("msgstr"):
                key = (entry.get("msgctxt"), entry["msgid"])
                texts.setdefault(key, {})[str(po.relative_to(ROOT))] = entry["msgstr"]
    clashes = {key[1]: found for key, found in texts.items() if len(set(found.values())) > 1}
    assert clashes == {}


def test_pages_stay_chinese_whatever_the_browser_asks(client):
    body = client.get("/login/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9").content.decode()
    assert "请输入手机号" in body and '<html lang="zh-hans">' in body


def test_a_visitor_picks_english_and_back_on_the_settings_form(client):
    reply = client.post("/i18n/setlang/", {"language": "en", "next": "/login/"})
    assert reply.status_code == 302 and reply["Location"] == "/login/"
    assert reply.cookies[settings.LANGUAGE_COOKIE_NAME]["max-age"] == 365 * 24 * 3600
    body = client.get("/login/").content.decode()
    assert '<html lang="en">' in body
    assert chinese_left(body) == []
    client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/login/"})
    assert "请输入手机号" in client.get("/login/").content.decode()


@pytest.mark.django_db
def test_signed_in_settings_page_offers_the_switch(client):
    client.force_login(make_buyer())
    body = in_english(client).get("/me/settings/").content.decode()
    assert 'data-testid="language-switch"' in body
    assert chinese_left(body) == []


def test_the_api_follows_accept_language(client):
    chinese = client.get("/api/v1/orders").json()
    english = client.get("/api/v1/orders", HTTP_ACCEPT_LANGUAGE="en").json()
    assert chinese["code"] == english["code"]
    assert CJK.search(chinese["message"]) and not CJK.search(english["message"])
    reply = client.get("/api/v1/orders", HTTP_ACCEPT_LANGUAGE="en")
    assert {"Cookie", "Accept-Language"} <= {v.strip() for v in reply["Vary"].split(",")}


def test_an_english_request_leaves_the_thread_speaking_chinese(client):
    from fenxiao.core.errors import NotFound

    in_english(client).get("/login/")
    assert NotFound().message == "未找到对应的记录"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "page",
    ["/backend/", "/backend/orders/order/", "/backend/storefront/banner/", "/backend/catalog/product/add/"],
)
def test_a_whole_backend_page_menu_and_headings_included_is_english(client, page):
    from fenxiao.testing import make_staff

    client.force_login(make_staff("boss", superuser=True))
    body = in_english(client).get(page).content.decode()
    assert chinese_left(body) == []


def _changelists():
    from django.contrib import admin

    return sorted(f"admin:{m._meta.app_label}_{m._meta.model_name}_changelist" for m in admin.site._registry)


@pytest.mark.django_db
def test_every_backend_list_is_english(client):
    """Every list (or the single record's page a settings list opens), in an empty shop:
    columns, filters, actions, tabs, menus and headings. What data migrations seed (grade
    and tag names and descriptions, the staff roles) is data."""
    from django.contrib.auth.models import Group
    from django.urls import reverse

    from fenxiao.customers.models import Tag
    from fenxiao.distribution.models import DistributorGrade
    from fenxiao.testing import make_staff

    client.force_login(make_staff("boss", superuser=True))
    in_english(client)
    data = [
        *DistributorGrade.objects.values_list("name", flat=True),
        *Tag.objects.values_list("name", flat=True),
        *Tag.objects.values_list("description", flat=True),
        *Group.objects.values_list("name", flat=True),
    ]
    left = {}
    for name in _changelists():
        reply = client.get(reverse(name), follow=True)
        assert reply.status_code == 200, name
        found = chinese_left(reply.content.decode(), *data)
        if found:
            left[name] = found
    assert left == {}


@pytest.mark.django_db
def test_every_backend_add_form_is_english(client):
    """Every add form a superuser may open, empty: labels, help, choices, fieldsets. Region
    names, seeded names and permission names (the staff role form lists them) are data."""
    from django.contrib.auth.models import Group, Permission
    from django.urls import NoReverseMatch, reverse

    from fenxiao.customers.models import Tag
    from fenxiao.distribution.models import DistributorGrade
    from fenxiao.shipping import regions
    from fenxiao.testing import make_staff

    client.force_login(make_staff("boss", superuser=True))
    in_english(client)
    data = [
        *DistributorGrade.objects.values_list("name", flat=True),
        *Tag.objects.values_list("name", flat=True),
        *Group.objects.values_list("name", flat=True),
        *Permission.objects.values_list("name", flat=True),
        *(province.name for province in regions.provinces()),
    ]
    opened, left = 0, {}
    for name in _changelists():
        try:
            url = reverse(name.replace("_changelist", "_add"))
        except NoReverseMatch:
            continue
        reply = client.get(url)
        if reply.status_code != 200:  # a list with nothing to add by hand
            continue
        opened += 1
        found = chinese_left(reply.content.decode(), *data)
        if found:
            left[url] = found
    assert opened >= 15 and left == {}


@pytest.mark.django_db
def test_one_chinese_word_two_english_senses(client):
    """分类 is the tab of every page (Categories) and a product's field (Category)."""
    from fenxiao.testing import make_staff

    assert ">Categories</a>" in in_english(client).get("/").content.decode()
    client.force_login(make_staff("boss", superuser=True))
    form = client.get("/backend/catalog/product/add/").content.decode()
    assert re.search(r"<label[^>]*>\s*Category\b", form)
