"""The buyer's messages: list, unread count, read one, read all. Every route works on the
caller's own messages only; another buyer's id answers 404 like a missing one."""

from datetime import datetime

from ninja import Field, Router, Schema
from ninja.pagination import paginate

from fenxiao.core.pagination import Pagination
from fenxiao.customers.auth import buyer_auth

from .services import inbox

router = Router(tags=["消息"], auth=buyer_auth)


class MessageOut(Schema):
    id: int
    kind: str
    kind_label: str
    title: str = Field(description="标题，按请求的语言（Accept-Language）显示")
    body: str = Field(description="内容，按请求的语言（Accept-Language）显示")
    link: str
    subject_type: str
    subject_id: int | None
    is_read: bool
    read_at: datetime | None
    clicked_at: datetime | None
    created_at: datetime

    @staticmethod
    def resolve_kind_label(obj) -> str:
        return obj.get_kind_display()

    @staticmethod
    def resolve_title(obj) -> str:
        return obj.title_text

    @staticmethod
    def resolve_body(obj) -> str:
        return obj.body_text

    @staticmethod
    def resolve_is_read(obj) -> bool:
        return obj.read_at is not None


class UnreadOut(Schema):
    unread: int


class ReadAllOut(Schema):
    marked: int
    unread: int


@router.get("/messages", response=list[MessageOut])
@paginate(Pagination, page_size=20)
def list_messages(request, unread: bool = False):
    return inbox.mine(request.user, unread=unread)


@router.get("/messages/unread-count", response=UnreadOut)
def unread_count(request):
    return {"unread": inbox.unread_count(request.user)}


@router.post("/messages/read-all", response=ReadAllOut)
def read_all(request):
    return {"marked": inbox.mark_all_read(request.user), "unread": 0}


@router.post("/messages/{message_id}/read", response=MessageOut)
def read_message(request, message_id: int):
    return inbox.mark_read(request.user, message_id)
