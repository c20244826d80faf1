"""Property tests for the one module that does money arithmetic."""

import re
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fenxiao.core.money import (
    allocate,
    apply_bp,
    fen_to_yuan,
    format_fen,
    format_fen_grouped,
    yuan_to_fen,
)

FAST = settings(max_examples=200, deadline=None)

amounts = st.integers(min_value=0, max_value=10**12)
weights_lists = st.lists(st.integers(min_value=0, max_value=10**9), min_size=1, max_size=30)


@FAST
@given(
    total=st.integers(min_value=-(10**12), max_value=10**12),
    weights=weights_lists.filter(lambda ws: sum(ws) > 0),
)
def test_allocate_sums_exactly_to_total(total, weights):
    parts = allocate(total, weights)
    assert len(parts) == len(weights)
    assert sum(parts) == total


@FAST
@given(data=st.data(), weights=weights_lists.filter(lambda ws: sum(ws) > 0))
def test_allocate_within_weights_never_exceeds_a_weight(data, weights):
    total = data.draw(st.integers(min_value=0, max_value=sum(weights)))
    parts = allocate(total, weights)
    assert all(0 <= part <= weight for part, weight in zip(parts, weights, strict=True))
    # A weight of zero (a free gift line) never receives any share of a discount.
    assert all(part == 0 for part, weight in zip(parts, weights, strict=True) if weight == 0)


@FAST
@given(total=amounts, weights=weights_lists.filter(lambda ws: sum(ws) > 0))
def test_allocate_parts_are_non_negative_and_close_to_exact_share(total, weights):
    parts = allocate(total, weights)
    weight_sum = sum(weights)
    for part, weight in zip(parts, weights, strict=True):
        assert part >= 0
        # Largest remainder: every part is its exact share rounded down or up, never further.
        assert total * weight // weight_sum <= part <= -(-total * weight // weight_sum)


@FAST
@given(total=amounts, weights=weights_lists.filter(lambda ws: sum(ws) > 0))
def test_allocate_is_deterministic(total, weights):
    assert allocate(total, list(weights)) == allocate(total, list(weights))


def test_allocate_examples():
    assert allocate(1001, [3333, 6667]) == [334, 667]
    assert allocate(100, [1, 1, 1]) == [34, 33, 33]  # ties go to the earliest line
    assert allocate(2, [1, 1, 1]) == [1, 1, 0]
    assert allocate(0, [5, 0, 7]) == [0, 0, 0]
    assert allocate(0, [0, 0]) == [0, 0]
    assert allocate(0, []) == []
    assert allocate(-100, [1, 1, 1]) == [-34, -33, -33]


def test_allocate_refuses_impossible_splits():
    with pytest.raises(ValueError):
        allocate(1, [])
    with pytest.raises(ValueError):
        allocate(1, [0, 0])
    with pytest.raises(ValueError):
        allocate(10, [5, -1])


@FAST
@given(base=amounts, bp=st.integers(min_value=0, max_value=10_000))
def test_apply_bp_rounds_down_and_never_exceeds_base(base, bp):
    result = apply_bp(base, bp)
    assert 0 <= result <= base
    # Rounded down to the fen: the exact value lies in [result, result + 1).
    assert result * 10_000 <= base * bp < (result + 1) * 10_000


@FAST
@given(
    base=amounts,
    bp=st.integers(min_value=0, max_value=10_000),
    extra=st.integers(min_value=0, max_value=10_000),
)
def test_apply_bp_is_monotonic_in_the_rate(base, bp, extra):
    assert apply_bp(base, bp) <= apply_bp(base, bp + extra)


def test_apply_bp_examples_and_refusals():
    assert apply_bp(9999, 1000) == 999  # 999.9 fen -> 999
    assert apply_bp(100, 1) == 0  # 0.01 fen is never paid
    assert apply_bp(12345, 10_000) == 12345
    assert apply_bp(0, 5000) == 0
    with pytest.raises(ValueError):
        apply_bp(-1, 100)
    with pytest.raises(ValueError):
        apply_bp(100, -1)


@FAST
@given(fen=st.integers(min_value=-(10**15), max_value=10**15))
def test_fen_yuan_round_trip_is_exact(fen):
    text = fen_to_yuan(fen)
    assert yuan_to_fen(text) == fen
    assert yuan_to_fen(format_fen(fen).replace("-¥", "-")) == fen
    assert yuan_to_fen(Decimal(text)) == fen


@FAST
@given(yuan=st.integers(min_value=0, max_value=10**9), cents=st.integers(0, 99))
def test_yuan_to_fen_reads_what_people_type(yuan, cents):
    assert yuan_to_fen(f"{yuan}.{cents:02d}") == yuan * 100 + cents
    assert yuan_to_fen(f"¥{yuan:,}.{cents:02d}") == yuan * 100 + cents
    assert yuan_to_fen(f"  {yuan}.{cents:02d} ") == yuan * 100 + cents


def test_yuan_to_fen_examples():
    assert yuan_to_fen("12.3") == 1230
    assert yuan_to_fen("12.30") == 1230
    assert yuan_to_fen(12) == 1200
    assert yuan_to_fen("0.01") == 1
    assert yuan_to_fen("¥1,234.56") == 123456
    assert yuan_to_fen(Decimal("99.99")) == 9999


@pytest.mark.parametrize("value", ["1.234", "0.001", "12.345", "¥9.999", Decimal("1.005")])
def test_yuan_to_fen_refuses_three_decimals(value):
    with pytest.raises(ValueError):
        yuan_to_fen(value)


@pytest.mark.parametrize(
    "value",
    [
        "",
        "  ",
        "abc",
        "12元",
        "1.2.3",
        "NaN",
        "nan",
        "Infinity",
        "-Infinity",
        "sNaN",
        "¥",
        "1,2x",
        None,
        "一百",
        "1e999999",
        "-9E+999999",
    ],
)
def test_yuan_to_fen_refuses_garbage(value):
    with pytest.raises(ValueError):
        yuan_to_fen(value)


@FAST
@given(text=st.text(max_size=30))
def test_yuan_to_fen_on_any_text_returns_fen_or_refuses(text):
    try:
        result = yuan_to_fen(text)
    except ValueError:
        return
    assert isinstance(result, int)


@pytest.mark.parametrize(
    ("fen", "shown"),
    [
        (0, "¥0.00"),
        (5, "¥0.05"),
        (10, "¥0.10"),
        (99, "¥0.99"),
        (100, "¥1.00"),
        (123456, "¥1234.56"),
        (-5, "-¥0.05"),
        (-123456, "-¥1234.56"),
        (None, "-"),
    ],
)
def test_format_fen_examples(fen, shown):
    assert format_fen(fen) == shown


@pytest.mark.parametrize(
    ("fen", "text"),
    [
        (0, "0.00"),
        (1, "0.01"),
        (1234, "12.34"),
        (-1, "-0.01"),
        (-100, "-1.00"),
    ],
)
def test_fen_to_yuan_examples(fen, text):
    assert fen_to_yuan(fen) == text


@FAST
@given(fen=st.integers(min_value=-(10**15), max_value=10**15))
def test_grouped_amounts_read_back_exactly(fen):
    shown = format_fen_grouped(fen)
    assert yuan_to_fen(shown.replace("-¥", "-")) == fen
    # The same figure as format_fen, only with thousands separated.
    assert shown.replace(",", "") == format_fen(fen)
    whole = shown.lstrip("-¥").split(".")[0]
    # Groups of three digits after the first group of one to three, no leading zeros.
    assert re.fullmatch(r"(0|[1-9]\d{0,2}(,\d{3})*)", whole), shown


@pytest.mark.parametrize(
    ("fen", "shown"),
    [
        (0, "¥0.00"),
        (5, "¥0.05"),
        (99, "¥0.99"),
        (100, "¥1.00"),
        (99999, "¥999.99"),
        (100000, "¥1,000.00"),
        (73909889, "¥739,098.89"),
        (12345678901, "¥123,456,789.01"),
        (-5, "-¥0.05"),
        (-100000, "-¥1,000.00"),
        (-73909889, "-¥739,098.89"),
        (None, "-"),
    ],
)
def test_format_fen_grouped_examples(fen, shown):
    assert format_fen_grouped(fen) == shown


@pytest.mark.parametrize(
    ("typed", "fen"), [("１２．５０", 1250), ("￥３０．５０", 3050), ("１，２００", 120000)]
)
def test_an_amount_typed_on_a_full_width_keyboard_is_the_amount_it_shows(typed, fen):
    assert yuan_to_fen(typed) == fen


@pytest.mark.parametrize("typed", ["١٢", "１２．３４５", "１２ ３"])
def test_other_scripts_digits_and_malformed_full_width_amounts_are_refused(typed):
    with pytest.raises(ValueError):
        yuan_to_fen(typed)
