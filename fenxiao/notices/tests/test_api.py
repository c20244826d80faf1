"""The buyer's messages API: a buyer only ever sees and changes their own; bad input is a 4xx
with a code."""

import pytest

from fenxiao.notices.models import Message
from fenxiao.notices.services import inbox
from fenxiao.testing import ApiClient, api_for, make_buyer

pytestmark = pytest.mark.django_db


def tell(user, n: int, *, prefix: str = "消息") -> list[int]:
    for i in range(n):
        inbox.notify(
            user, "order_shipped", f"{prefix}{i}", f"内容{i}", "/orders/", source_key=f"{user.pk}:{prefix}{i}"
        )
    return list(Message.objects.filter(user=user).order_by("pk").values_list("pk", flat=True))


@pytest.fixture
def two():
    mine, theirs = make_buyer(), make_buyer()
    return mine, tell(mine, 3), theirs, tell(theirs, 2, prefix="别人的")


def test_the_list_is_mine_newest_first_paged_and_filtered_by_unread(two):
    mine, ids, _, _ = two
    api = api_for(mine)
    page = api.get("/messages", page_size=2).json()
    assert page["count"] == 3
    assert [m["id"] for m in page["items"]] == [ids[2], ids[1]]
    assert page["items"][0] | {"created_at": None} == {
        "id": ids[2],
        "kind": "order_shipped",
        "kind_label": "订单发货",
        "title": "消息2",
        "body": "内容2",
        "link": "/orders/",
        "subject_type": "",
        "subject_id": None,
        "is_read": False,
        "read_at": None,
        "clicked_at": None,
        "created_at": None,
    }
    assert [m["id"] for m in api.get("/messages", page=2, page_size=2).json()["items"]] == [ids[0]]

    assert api.post(f"/messages/{ids[1]}/read").json()["is_read"] is True
    assert api.get("/messages/unread-count").json() == {"unread": 2}
    unread = api.get("/messages", unread="true").json()
    assert [m["id"] for m in unread["items"]] == [ids[2], ids[0]]


def test_read_all_reads_only_mine(two):
    mine, _, theirs, _ = two
    assert api_for(mine).post("/messages/read-all").json() == {"marked": 3, "unread": 0}
    assert api_for(mine).get("/messages/unread-count").json() == {"unread": 0}
    assert api_for(theirs).get("/messages/unread-count").json() == {"unread": 2}


def test_another_buyers_message_is_not_found_and_stays_unread(two):
    mine, _, theirs, their_ids = two
    api = api_for(mine)
    reply = api.post(f"/messages/{their_ids[0]}/read")
    assert (reply.status_code, reply.json()["code"]) == (404, "MESSAGE_NOT_FOUND")
    assert Message.objects.get(pk=their_ids[0]).read_at is None
    assert all(m["title"].startswith("消息") for m in api.get("/messages").json()["items"])


@pytest.mark.parametrize(
    ("method", "path", "query", "status", "code"),
    [
        ("post", "/messages/abc/read", {}, 422, "INVALID_INPUT"),
        ("post", "/messages/0/read", {}, 404, "MESSAGE_NOT_FOUND"),
        ("post", f"/messages/{2**70}/read", {}, 404, "MESSAGE_NOT_FOUND"),
        ("post", f"/messages/{2**63}/read", {}, 404, "MESSAGE_NOT_FOUND"),
        ("get", "/messages", {"unread": "perhaps"}, 422, "INVALID_INPUT"),
        ("get", "/messages", {"page": "0"}, 422, "INVALID_INPUT"),
        ("get", "/messages", {"page_size": "1000"}, 422, "INVALID_INPUT"),
    ],
)
def test_bad_input_is_refused_with_a_code(two, method, path, query, status, code):
    api = api_for(two[0])
    reply = api.get(path, **query) if method == "get" else api.post(path)
    assert (reply.status_code, reply.json()["code"]) == (status, code)


def test_signed_out_callers_are_refused():
    for reply in (
        ApiClient().get("/messages"),
        ApiClient().get("/messages/unread-count"),
        ApiClient().post("/messages/read-all"),
    ):
        assert (reply.status_code, reply.json()["code"]) == (401, "UNAUTHORIZED")
