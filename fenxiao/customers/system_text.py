"""Sentences the system writes into a row in Chinese, shown in the reader's language.

A row keeps the Chinese sentence it was written with (exports, SMS and the audit trail read
it as it was), and a page or an API shows it through the catalogs: a plain sentence is a
catalog entry itself, a sentence with values in it ("提现申请 W123") is recognised by the
template it was made from and rebuilt in the active language with the same values. A
value may itself be a sentence the system wrote (a payout's failure inside a ledger memo)
and is read the same way; what a person typed is in no catalog and reads as typed.

It lives in `customers`, the lowest of the apps that write such sentences (customers,
webhooks, distribution), so each can use it. Pure Python: a page of rows costs no query.
"""

import re

from django.utils.translation import gettext, pgettext

_PLACEHOLDER = re.compile(r"%\((\w+)\)s")


class SystemText:
    """The templates (Chinese msgids with `%(name)s` placeholders, marked with
    `gettext_noop` where the rows are written) whose sentences a field may hold.
    `patterns` narrows a placeholder (by name) where "any text" would be ambiguous;
    `contexts` names the msgctxt a placeholder's value is translated with (a status label
    that is a pgettext entry); `values` says how a placeholder's value that is not a
    sentence is read (a title staff typed, kept as is; a list of phones)."""

    def __init__(
        self,
        *templates: str,
        patterns: dict[str, str] | None = None,
        contexts: dict[str, str] | None = None,
        values: dict | None = None,
    ):
        patterns = patterns or {}
        self.contexts = contexts or {}
        self.values = values or {}
        self.templates = [(template, _compile(template, patterns)) for template in templates]

    def __call__(self, stored: str) -> str:
        if not stored:
            return ""
        for template, pattern in self.templates:
            found = pattern.fullmatch(stored)
            if found:
                args = {name: self._arg(name, value) for name, value in found.groupdict().items()}
                try:
                    return gettext(template) % args
                except (KeyError, TypeError, ValueError):  # a catalog entry missing a value
                    return stored
        return gettext(stored)

    def _arg(self, name: str, value: str) -> str:
        if name in self.values:
            return self.values[name](value)
        context = self.contexts.get(name)
        translated = pgettext(context, value) if context else value
        # A label without that context (已封禁) is a plain catalog entry.
        return translated if translated != value else self(value)


def _compile(template: str, patterns: dict[str, str]) -> re.Pattern:
    parts = _PLACEHOLDER.split(template)
    regex = "".join(
        f"(?P<{part}>{patterns.get(part, '.+?')})" if odd else re.escape(part)
        for odd, part in ((i % 2 == 1, part) for i, part in enumerate(parts))
    )
    return re.compile(regex, re.DOTALL)
