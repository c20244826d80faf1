"""Whole numbers typed into an address or a form.

`str.isdigit()` is true for more than ASCII digits ("²", "①", "١٢", full-width "１２"), for
which `int()` then raises or reads a number the visitor did not type, and a long run of
digits makes an integer no database column holds. Code that reads an id, a count or a
limit from a visitor's text goes through `whole_number` instead.
"""

MAX_DIGITS = 18  # every 18-digit number fits a signed 64-bit column (BigAutoField, bigint)


def whole_number(raw: str | None, max_digits: int = MAX_DIGITS) -> int | None:
    """The number `raw` spells in ASCII digits only ("0042" → 42), or None for anything else:
    empty, signs, spaces, other digits ("²", "１２"), or more than `max_digits` digits."""
    if not isinstance(raw, str) or not 0 < len(raw) <= max_digits:
        return None
    if not (raw.isascii() and raw.isdigit()):
        return None
    return int(raw)


# A Chinese keyboard in full-width mode types １３８ for 138 (and ＋, －, the wide space): to
# the person typing, the same characters. Fields that hold a number typed by hand (a phone, a
# pickup code, a card number) read them as their ASCII forms before checking them.
_FULL_WIDTH = {0xFF10 + digit: str(digit) for digit in range(10)} | {0xFF0B: "+", 0xFF0D: "-", 0x3000: " "}


def half_width(text: str) -> str:
    """`text` with full-width digits, plus, minus and space as their ASCII forms."""
    return text.translate(_FULL_WIDTH)
