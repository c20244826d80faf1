"""The one reader of whole numbers typed by a visitor."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fenxiao.core.numbers import half_width, whole_number


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("0", 0),
        ("0042", 42),
        ("9" * 18, 10**18 - 1),
        ("9" * 19, None),  # no 64-bit column holds it
        ("", None),
        (None, None),
        (42, None),
        ("-1", None),
        ("+1", None),
        (" 1", None),
        ("1.5", None),
        ("²", None),  # isdigit() but not a number int() reads
        ("1²", None),
        ("①", None),
        ("１２", None),  # full-width digits: int() would read them, the visitor's id they are not
        ("١٢", None),
    ],
)
def test_only_ascii_digits_within_the_length_are_a_whole_number(raw, expected):
    assert whole_number(raw) == expected


def test_the_length_is_the_callers():
    assert whole_number("123", max_digits=3) == 123
    assert whole_number("1234", max_digits=3) is None


@given(st.text(max_size=25))
def test_any_text_is_a_number_int_reads_the_same_or_none(text):
    number = whole_number(text)
    if number is not None:
        assert number == int(text) and text.isascii()


def test_half_width_reads_what_a_full_width_keyboard_types_as_ascii():
    assert half_width("＋８６ １３８－００１３　８０００") == "+86 138-0013 8000"
    # Other scripts' digits and full-width letters are left as typed.
    assert half_width("١٢ ＡＢ ²") == "١٢ ＡＢ ²"
