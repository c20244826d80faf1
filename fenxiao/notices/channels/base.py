"""The adapter interface every notification channel (an SMS provider, WeChat template
messages, the sandbox) implements."""

import abc
from dataclasses import dataclass
from datetime import datetime


class SendFailed(Exception):
    """The channel did not accept the notice; the outbox row is tried again later, unless
    `permanent` (the provider says no retry can succeed: the buyer unfollowed the 公众号, a
    number it cannot text), when it is given up at once."""

    def __init__(self, message: str = "", *, permanent: bool = False):
        super().__init__(message)
        self.permanent = permanent


@dataclass(frozen=True)
class Notice:
    """What an adapter is asked to send: plain values, read from the message."""

    title: str
    body: str
    link: str
    kind: str = ""
    created_at: datetime | None = None


class ChannelAdapter(abc.ABC):
    name: str
    label: str
    # A sandbox sends nothing: what it would have sent is kept on the outbox row.
    is_sandbox: bool = False

    @classmethod
    def serves(cls, kind: str) -> bool:
        """Whether this adapter can carry notices of `kind` (providers that send only
        approved templates carry the kinds the merchant has a template for)."""
        return True

    @abc.abstractmethod
    def address(self, user) -> str | None:
        """Where this channel reaches `user` (a phone number, an openid); None when it
        cannot (the row then fails with a clear error instead of retrying forever)."""

    @abc.abstractmethod
    def render(self, notice: Notice) -> str:
        """The text as the channel will carry it (kept on the outbox row)."""

    @abc.abstractmethod
    def send(self, *, address: str, notice: Notice, reference: str) -> None:
        """Hand one notice to the channel. Must be safe to call again for the same
        `reference` (the outbox delivers at least once). Raises SendFailed."""
