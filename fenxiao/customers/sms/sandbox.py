"""The sandbox SMS gateway: sends nothing. The outbox row (SmsMessage) is the whole record;
staff read it under 沙箱短信 in the backend and the H5 register page shows it in demo mode."""

from .base import SmsGateway


class SandboxSmsGateway(SmsGateway):
    name = "sandbox"
    label = "沙箱短信（不真实发送）"
    shows_messages_on_page = True

    def send(self, *, phone, text, template, params, reference) -> None:
        return None
