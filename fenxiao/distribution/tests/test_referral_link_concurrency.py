"""Simultaneous signed-out visits from one visitor still make one row, counting every visit."""

from fenxiao.distribution.models import Touch
from fenxiao.distribution.services import binding, visits
from fenxiao.distribution.tests.helpers import make_distributor
from fenxiao.testing import postgres_only_marks, run_together

pytestmark = postgres_only_marks()


def test_a_burst_of_first_visits_is_one_row_with_every_hit():
    distributor = make_distributor()
    here, there = binding.visitor_key("10.0.0.1"), binding.visitor_key("10.0.0.2")
    results = run_together(
        8,
        lambda i: visits.count(distributor.pk, "link", target=f"/p/{i}/", visitor=here if i < 6 else there),
    )
    assert results == [None] * 8  # no IntegrityError escapes the race for the first row
    assert dict(Touch.objects.values_list("visitor", "hits")) == {here: 6, there: 2}
