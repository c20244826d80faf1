"""我的 → 消息 on H5: the unread badge, the list (全部 / 未读, newest first, paged), opening a
message reads it, its link goes through a redirect that counts the click (only to this
site), 全部已读; one cheap count query for the badge on every page that shows it."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from fenxiao.notices.models import Message
from fenxiao.notices.services import inbox
from fenxiao.testing import make_buyer

pytestmark = pytest.mark.django_db


def tell(user, n: int, link: str = "/orders/", prefix: str = "消息") -> list[int]:
    for i in range(n):
        inbox.notify(
            user, "order_shipped", f"{prefix}{i}", f"内容{i}", link, source_key=f"{user.pk}:{prefix}{i}"
        )
    return list(Message.objects.filter(user=user).order_by("pk").values_list("pk", flat=True))


@pytest.fixture
def buyer(client):
    user = make_buyer()
    client.force_login(user)
    return user


def badge(html: str) -> str | None:
    found = re.search(r'data-testid="tab-unread"[^>]*>([^<]+)<', html)
    return found.group(1) if found else None


def count_queries(client, url):
    with CaptureQueriesContext(connection) as captured:
        reply = client.get(url)
    assert reply.status_code == 200
    sql = [q["sql"] for q in captured.captured_queries]
    return reply.content.decode(), len(sql), [q for q in sql if "notices_message" in q]


@pytest.mark.parametrize("url", ["/", "/me/", "/orders/", "/categories/"])
def test_the_badge_costs_one_count_query_whatever_the_number_of_messages(client, buyer, url):
    tell(buyer, 2)
    html, few, counted = count_queries(client, url)
    assert badge(html) == "2"
    assert len(counted) == 1 and "COUNT(" in counted[0].upper()
    tell(buyer, 30, prefix="更多")
    html, many, counted = count_queries(client, url)
    assert badge(html) == "32"
    assert (many, len(counted)) == (few, 1)


def test_me_links_to_messages_with_the_unread_count(client, buyer):
    tell(buyer, 3)
    html = client.get("/me/").content.decode()
    assert re.search(r'href="/me/messages/" data-testid="me-messages">.*?>3</span>', html)
    Message.objects.update(read_at="2026-01-01T00:00:00Z")
    html = client.get("/me/").content.decode()
    assert badge(html) is None and 'class="tab-count inline"' not in html


def test_a_hundred_unread_show_as_99_plus(client, buyer):
    tell(buyer, 100)
    assert badge(client.get("/me/").content.decode()) == "99+"


def test_the_list_is_newest_first_paged_by_key_at_a_constant_cost(client, buyer):
    ids = tell(buyer, 45)
    html, first_cost, _ = count_queries(client, "/me/messages/")
    shown = [int(i) for i in re.findall(r'href="/me/messages/(\d+)/"', html)]
    assert shown == ids[::-1][:20]
    older = re.search(r'href="\?tab=&before=(\d+)"', html).group(1)
    html, next_cost, _ = count_queries(client, f"/me/messages/?before={older}")
    assert [int(i) for i in re.findall(r'href="/me/messages/(\d+)/"', html)] == ids[::-1][20:40]
    assert next_cost == first_cost
    # Junk in the cursor is the first page, not an error.
    assert client.get("/me/messages/?before=abc").status_code == 200
    assert client.get(f"/me/messages/?before={2**80}").status_code == 200


def test_opening_a_message_reads_it_and_the_unread_tab_drops_it(client, buyer):
    ids = tell(buyer, 2)
    assert (
        len(re.findall(r'data-testid="message"', client.get("/me/messages/?tab=unread").content.decode()))
        == 2
    )
    page = client.get(f"/me/messages/{ids[0]}/").content.decode()
    assert "消息0" in page and "内容0" in page
    assert Message.objects.get(pk=ids[0]).read_at is not None
    assert badge(page) == "1"
    unread = client.get("/me/messages/?tab=unread").content.decode()
    assert re.findall(r'href="/me/messages/(\d+)/"', unread) == [str(ids[1])]


def test_the_link_counts_the_click_and_only_leads_within_the_site(client, buyer):
    inside = tell(buyer, 1, link="/orders/ABC/")[0]
    reply = client.get(f"/me/messages/{inside}/go/")
    assert (reply.status_code, reply["Location"]) == (302, "/orders/ABC/")
    clicked = Message.objects.get(pk=inside)
    assert clicked.clicked_at is not None and clicked.read_at is not None
    # A link to another site is never stored, and a stored one is never followed.
    outside = tell(buyer, 1, link="//evil.example/x", prefix="外链")[-1]
    assert Message.objects.get(pk=outside).link == ""
    Message.objects.filter(pk=outside).update(link="https://evil.example/")
    reply = client.get(f"/me/messages/{outside}/go/")
    assert (reply.status_code, reply["Location"]) == (302, f"/me/messages/{outside}/")


def test_another_buyers_message_is_not_found(client, buyer):
    theirs = tell(make_buyer(), 1)[0]
    for url in (f"/me/messages/{theirs}/", f"/me/messages/{theirs}/go/", f"/me/messages/{2**70}/"):
        assert client.get(url).status_code == 404
    assert (
        Message.objects.get(pk=theirs).read_at is None and Message.objects.get(pk=theirs).clicked_at is None
    )


def test_read_all(client, buyer):
    tell(buyer, 3)
    other = make_buyer()
    tell(other, 1)
    assert client.get("/me/messages/read-all/").status_code == 405
    reply = client.post("/me/messages/read-all/", follow=True)
    assert "已将 3 条消息标为已读" in reply.content.decode()
    assert badge(reply.content.decode()) is None
    assert inbox.unread_count(other) == 1


def test_signed_out_visitors_are_sent_to_log_in(client):
    reply = client.get("/me/messages/")
    assert reply.status_code == 302 and reply["Location"].startswith("/login/")
    assert badge(client.get("/").content.decode()) is None
