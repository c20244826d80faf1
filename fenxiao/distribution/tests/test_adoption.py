"""人人分销: an account the shop made before anyone bound its owner joins the first binder's
team, but never one with a team of its own, never on a later re-binding, and never into a
loop, however deep or however the visits interleave."""

import pytest

from fenxiao.distribution.models import Distributor
from fenxiao.distribution.services import distributors
from fenxiao.testing import make_buyer

from .helpers import configure, make_distributor, visit

pytestmark = pytest.mark.django_db


def everyone_accounts(count: int) -> list[Distributor]:
    users = [make_buyer() for _ in range(count)]
    configure(enable_mode="everyone")  # enrols them, parentless
    return [distributors.for_user(user) for user in users]


def test_an_account_with_a_team_or_a_later_rebinding_keeps_its_place():
    configure(bind_mode="latest", protect_days=0)
    lead, member = everyone_accounts(2)
    f, g = make_distributor(), make_distributor()
    visit(member.user, lead)  # member joins lead's team
    member.refresh_from_db()
    assert member.parent == lead

    assert visit(lead.user, f).decision == "bound"
    lead.refresh_from_db()
    assert lead.parent is None  # it has a team: it stays at the top

    solo = make_buyer()  # registered after the switch: an account comes with the first binding
    assert visit(solo, f).decision == "bound"
    assert visit(solo, g).decision == "rebound"
    assert distributors.for_user(solo).parent == f  # the first binder's team, not the latest


def test_a_loop_is_refused_however_deep():
    root = everyone_accounts(1)[0]
    node = root
    for _ in range(70):
        node = make_distributor(parent=node)
    assert distributors.is_in_downline(node, root)
    # The binding itself is refused (the distributor is in the buyer's own downline).
    assert visit(root.user, node).decision == "refused"
    root.refresh_from_db()
    assert root.parent is None
