import pytest

from fenxiao.shipping.carriers import Carrier, carrier_name, find_carrier


@pytest.mark.parametrize(
    ("typed", "carrier"),
    [
        ("shunfeng", Carrier.SF),
        ("顺丰", Carrier.SF),
        (" 顺丰速运 ", Carrier.SF),
        ("ZTO", Carrier.ZTO),
        ("极兔", Carrier.JTEXPRESS),
        ("邮政", Carrier.YZPY),
        ("EMS", Carrier.EMS),
        # The short name with whichever ending the merchant is used to.
        ("圆通快递", Carrier.YTO),
        ("顺丰快递", Carrier.SF),
        ("中通速递", Carrier.ZTO),
        ("京东快运", Carrier.JD),
        ("德邦物流", Carrier.DEPPON),
    ],
)
def test_a_carrier_is_found_by_code_name_or_short_name(typed, carrier):
    assert find_carrier(typed) == carrier


def test_unknown_carriers_are_not_guessed():
    assert find_carrier("火星快递") is None
    assert find_carrier("") is None
    assert find_carrier("快递") is None
    assert carrier_name("火星快递") == "火星快递"
    assert carrier_name("zhongtong") == "中通快递"
