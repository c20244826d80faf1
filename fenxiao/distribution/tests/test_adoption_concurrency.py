"""人人分销 adoption under concurrency (PostgreSQL): two parentless accounts opening each
other's link at the same instant end with at most one under the other, never a loop."""

import pytest

from fenxiao.distribution.services import binding, distributors
from fenxiao.testing import make_buyer, postgres_only_marks, run_together

from .helpers import configure

pytestmark = postgres_only_marks()


@pytest.mark.parametrize("_round", range(5))
def test_two_accounts_binding_to_each_other_at_once_never_close_a_loop(_round):
    users = [make_buyer() for _ in range(2)]
    configure(enable_mode="everyone")  # enrols them, parentless
    a, b = (distributors.for_user(user) for user in users)

    def visit_other(i):
        me, other = (a, b) if i == 0 else (b, a)
        return binding.record_touch(me.user, other, "link").decision

    results = run_together(2, visit_other)
    assert not any(isinstance(r, BaseException) for r in results), results
    a.refresh_from_db()
    b.refresh_from_db()
    assert not (a.parent_id == b.pk and b.parent_id == a.pk)
