"""The adapter interface every SMS gateway (Aliyun, Tencent Cloud, the sandbox) implements."""

import abc
import urllib.error
import urllib.request

# How long a provider may take to answer one send.
TIMEOUT_SECONDS = 10


class SmsSendFailed(Exception):
    """The gateway did not accept the message; the outbox row is tried again later, unless
    `permanent` (the gateway says no retry can succeed: a number it cannot text)."""

    def __init__(self, message: str = "", *, permanent: bool = False):
        super().__init__(message)
        self.permanent = permanent


class SmsGateway(abc.ABC):
    name: str
    label: str
    # A sandbox sends nothing: the page may show the message to whoever asked for it.
    shows_messages_on_page: bool = False

    @abc.abstractmethod
    def send(self, *, phone: str, text: str, template: str, params: dict[str, str], reference: str) -> None:
        """Hand one message to the gateway: `template` (a `SmsMessage.Template`) with its
        `params` for gateways that send approved templates, `text` (the same words) for
        those that take text. The outbox delivers at least once, so `reference` may come
        again after a lost answer. Raises SmsSendFailed."""


class TemplateSmsGateway(SmsGateway):
    """A provider that sends only the merchant's approved templates, under the account its
    settings block names (`config`, with a `TEMPLATES` map of template ids)."""

    @staticmethod
    @abc.abstractmethod
    def config() -> dict:
        """The provider's settings block."""

    def __init__(self, cfg: dict | None = None):
        self.cfg = cfg or self.config()

    @staticmethod
    def exchange(request: urllib.request.Request) -> bytes:
        """Send one signed request to the provider and return its answer's body: an HTTP
        error status still carries the provider's reason, which the caller reads; no answer
        at all raises SmsSendFailed (the outbox tries again)."""
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310
                return response.read()
        except urllib.error.HTTPError as exc:
            return exc.read()
        except (OSError, ValueError) as exc:
            raise SmsSendFailed(f"短信网关无法连接：{exc}") from exc

    def template_id(self, template: str) -> str:
        found = (self.cfg.get("TEMPLATES") or {}).get(template)
        if not found:
            raise SmsSendFailed(f"未配置短信模板：{template or '无模板'}")
        return found
