"""Money arithmetic. Amounts are integer fen, rates are integer basis points (1% = 100 bp).

Nothing in the mall computes money outside this module: one place to round, one place to
allocate, and it is property-tested.
"""

import re
import unicodedata
from decimal import ROUND_DOWN, Decimal

BP_DENOMINATOR = 10_000


def apply_bp(base_fen: int, bp: int) -> int:
    """`base × bp / 10000`, rounded down to the fen: the merchant never pays a fraction
    that was not earned."""
    if base_fen < 0 or bp < 0:
        raise ValueError("base and rate must not be negative")
    return base_fen * bp // BP_DENOMINATOR


def allocate(total: int, weights: list[int]) -> list[int]:
    """Split `total` fen over `weights` in proportion, by largest remainder.

    The parts sum exactly to `total`; with 0 <= total <= sum(weights) no part exceeds its
    weight. Ties in remainder go to the earlier weight, so the result is deterministic.
    """
    if total < 0:
        return [-part for part in allocate(-total, weights)]
    if any(w < 0 for w in weights):
        raise ValueError("weights must not be negative")
    weight_sum = sum(weights)
    if not weights:
        if total:
            raise ValueError("cannot allocate a non-zero amount over no weights")
        return []
    if weight_sum == 0:
        if total:
            raise ValueError("cannot allocate a non-zero amount over zero weights")
        return [0] * len(weights)
    floors = [total * w // weight_sum for w in weights]
    remainders = [total * w % weight_sum for w in weights]
    short = total - sum(floors)
    order = sorted(range(len(weights)), key=lambda i: (-remainders[i], i))
    for i in order[:short]:
        floors[i] += 1
    return floors


_PLAIN_NUMBER = re.compile(r"^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)$")


def yuan_to_fen(value: str | int | Decimal) -> int:
    """Parse a yuan amount typed by a person ("12.3", "12.30", 12) into fen, exactly. A
    Chinese keyboard in full-width mode types １２．５０, ￥ and ，: read as the ASCII amount
    they show (NFKC); digits of other scripts are no amount."""
    text = unicodedata.normalize("NFKC", str(value)).strip().replace("¥", "").replace(",", "")
    if not _PLAIN_NUMBER.match(text):  # no exponents ("1E+5"), no "NaN", no spaces
        raise ValueError(f"not an amount: {value!r}")
    try:
        amount = Decimal(text)
        if not amount.is_finite():
            raise ValueError(f"not an amount: {value!r}")
        # "1e999999" parses, then overflows the decimal context when scaled to fen.
        fen = amount * 100
        whole = fen.to_integral_value(rounding=ROUND_DOWN)
    except ArithmeticError as exc:  # InvalidOperation, Overflow
        raise ValueError(f"not an amount: {value!r}") from exc
    if fen != whole:
        raise ValueError("amounts have at most two decimal places")
    return int(fen)


def fen_to_yuan(fen: int) -> str:
    """1234 -> "12.34" (no currency sign), for form fields and exports."""
    sign = "-" if fen < 0 else ""
    fen = abs(int(fen))
    return f"{sign}{fen // 100}.{fen % 100:02d}"


def format_fen(fen: int | None) -> str:
    """1234 -> "¥12.34": how every amount is shown to people."""
    if fen is None:
        return "-"
    text = fen_to_yuan(fen)
    if text.startswith("-"):
        return f"-¥{text[1:]}"
    return f"¥{text}"


def format_fen_grouped(fen: int | None) -> str:
    """73909889 -> "¥739,098.89": `format_fen` with the yuan grouped by thousands, for
    figures read at a glance (report pages, the dashboard). Never for exports or form
    fields, which keep plain numbers; `yuan_to_fen` reads it back."""
    if fen is None:
        return "-"
    sign = "-" if fen < 0 else ""
    fen = abs(int(fen))
    return f"{sign}¥{fen // 100:,}.{fen % 100:02d}"


def percent_to_bp(value: str | int | Decimal) -> int:
    """Parse a percentage typed by a person ("15", "15.5", "15.50 %") into basis points."""
    text = str(value).strip().rstrip("%").strip()
    if not _PLAIN_NUMBER.match(text):
        raise ValueError(f"not a percentage: {value!r}")
    try:
        bp = Decimal(text) * 100
        whole = bp.to_integral_value(rounding=ROUND_DOWN)
    except ArithmeticError as exc:
        raise ValueError(f"not a percentage: {value!r}") from exc
    if bp != whole:
        raise ValueError("percentages have at most two decimal places")
    return int(bp)


def bp_to_percent(bp: int) -> str:
    """1550 -> "15.50" (no % sign), for form fields."""
    sign = "-" if bp < 0 else ""
    bp = abs(int(bp))
    return f"{sign}{bp // 100}.{bp % 100:02d}"


def ratio_bp(part: int, whole: int) -> int:
    """part / whole in basis points, rounded half away from zero as a spreadsheet rounds
    (2 of 3 is 66.67 %, not 66.66 %); 0 when there is no whole. For figures shown to
    people (shares, conversion, change), never for money."""
    if not whole:
        return 0
    sign = -1 if (part < 0) != (whole < 0) else 1
    return sign * ((abs(part) * 20000 + abs(whole)) // (2 * abs(whole)))


def format_bp(bp: int | None) -> str:
    """1550 -> "15.50 %": how every rate is shown to people."""
    if bp is None:
        return "-"
    return f"{bp_to_percent(bp)} %"
