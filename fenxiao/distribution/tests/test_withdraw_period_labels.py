"""每周期最多提现次数 counts in a span of time, named as one (每周), not as a settlement term."""

from fenxiao.distribution.models import DistributionSettings


def test_the_withdrawal_period_is_named_as_a_span_of_time():
    field = DistributionSettings._meta.get_field("withdraw_period")
    assert [(value, str(label)) for value, label in field.choices] == [
        ("daily", "每日"),
        ("weekly", "每周"),
        ("monthly", "每月"),
    ]
