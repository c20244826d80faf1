"""推广访问记录 names the rule that decided each touch by its label (首次绑定永久有效, 不能形成循环
…), never its code, and reads the system's reasons in the reader's language — the dated
ones too; what staff typed for a hand-made binding reads as typed. The touch keeps its
Chinese sentence."""

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from fenxiao.distribution.models import CustomerBinding
from fenxiao.distribution.services import binding
from fenxiao.testing import in_english, login, make_buyer, make_staff

from .helpers import configure, make_distributor, visit

pytestmark = pytest.mark.django_db


def read(touch, language: str) -> tuple[str, str]:
    with translation.override(language):
        return touch.get_rule_display(), touch.reason_text


def test_the_touch_list_shows_rule_labels_and_reasons_in_either_language():
    configure(bind_mode="first")
    upline = make_distributor()
    downline = make_distributor(parent=upline)
    visit(make_buyer(), upline)
    visit(upline.user, downline)  # refused: it would close a loop
    page = reverse("admin:distribution_touch_changelist")
    staff = login(make_staff("boss", superuser=True))

    chinese = staff.get(page).content.decode()
    assert "首次绑定永久有效" in chinese and "不能形成循环" in chinese
    assert ">first<" not in chinese and ">loop<" not in chinese

    english = in_english(staff).get(page).content.decode()
    assert "First binding is permanent" in english and "No loops" in english
    assert "First binding" in english
    assert "This distributor is in your downline; binding would form a loop" in english
    assert "首次绑定" not in english and "形成循环" not in english


def test_a_dated_reason_reads_in_english_and_keeps_its_chinese_sentence():
    configure(bind_mode="expiring", bind_days=30)
    a, b = make_distributor(), make_distributor()
    buyer = make_buyer()
    visit(buyer, a)
    kept = visit(buyer, b)
    day = f"{timezone.localtime(CustomerBinding.objects.get(buyer=buyer).expires_at):%Y-%m-%d}"
    assert kept.reason == f"原绑定有效至 {day}，保留原分销商"
    assert read(kept, "en") == (
        "Binding validity period",
        f"Current binding valid until {day}; kept the original distributor",
    )
    assert read(kept, "zh-hans") == ("绑定有效期", kept.reason)

    configure(bind_mode="latest", protect_days=7)
    other = make_buyer()
    visit(other, a)
    protected = visit(other, b)
    assert read(protected, "en")[1].startswith("Current binding protected until 20")


def test_what_staff_typed_reads_as_typed():
    buyer, distributor = make_buyer(), make_distributor()
    binding.reassign(buyer, distributor, make_staff(), reason="客户投诉后改绑")
    touch = buyer.touches.get()
    assert read(touch, "en") == ("Set by staff", "客户投诉后改绑")
