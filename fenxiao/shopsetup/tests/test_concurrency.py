"""Two applications of a template at once (two wizards, or the wizard and the command):
one writes, the other plans against what the first wrote and writes nothing."""

from fenxiao.distribution.models import DistributorGrade, SettingsChange
from fenxiao.shopsetup.models import SetupRecord
from fenxiao.shopsetup.services import plan as setup
from fenxiao.testing import postgres_only_marks, run_together

pytestmark = postgres_only_marks()


def test_two_applications_at_once_write_once():
    results = run_together(4, lambda i: setup.apply("smb"))
    assert all(isinstance(r, SetupRecord) for r in results), results
    assert DistributorGrade.objects.count() == 3
    assert SettingsChange.objects.count() == 1
    assert sorted(r.changed_count for r in SetupRecord.objects.all()) == [0, 0, 0, 18]
