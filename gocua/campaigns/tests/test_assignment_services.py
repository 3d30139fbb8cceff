import pytest
from django.utils import timezone

from gocua.campaigns import services
from gocua.campaigns.models import Assignment
from gocua.campaigns.selectors import unassigned_hamlets
from gocua.campaigns.services import NotAllowed, OperationRefused
from gocua.people.selectors import hamlet_counts


def test_it_sets_the_assignments_of_the_shown_hamlets(team_a, member_vy, bob, tree):
    lan = services.member_add(team=team_a, full_name="Lan", affiliation="youth_union")
    added, removed = services.assignments_set(
        team=team_a,
        hamlet_ids=[tree.kp1.pk, tree.kp2.pk],
        pairs=[(lan.pk, tree.kp1.pk), (lan.pk, tree.kp2.pk)],
        actor=bob,
    )
    assert (added, removed) == (2, 1)  # Vy loses KP1
    assert set(Assignment.objects.values_list("member_id", "hamlet_id")) == {
        (lan.pk, tree.kp1.pk),
        (lan.pk, tree.kp2.pk),
    }


def test_it_refuses_hamlets_of_another_commune(team_a, member_vy, bob, tree):
    with pytest.raises(OperationRefused):
        services.assignments_set(
            team=team_a,
            hamlet_ids=[tree.b_kp1.pk],
            pairs=[(member_vy.pk, tree.b_kp1.pk)],
            actor=bob,
        )


def test_it_keeps_charlie_from_assigning_in_xa_a(team_a, member_vy, charlie, tree):
    with pytest.raises(NotAllowed):
        services.assignments_set(team=team_a, hamlet_ids=[tree.kp1.pk], pairs=[], actor=charlie)


def test_it_lists_unassigned_hamlets(campaign, member_vy, tree):
    assert [h.code for h in unassigned_hamlets(tree.xa_a, campaign=campaign)] == ["25456-02"]
    services.assignment_add(member=member_vy, hamlet=tree.kp2)
    assert list(unassigned_hamlets(tree.xa_a, campaign=campaign)) == []


def test_it_counts_residents_and_gaps_per_hamlet(campaign, tree, resident_factory):
    import datetime as dt

    resident_factory(tree.kp1, stage="none")
    resident_factory(tree.kp1, stage="used")
    resident_factory(tree.kp1, stage="activated")
    resident_factory(tree.kp1, stage="none", deceased=True)
    resident_factory(tree.kp1, stage="none", born=timezone.localdate() - dt.timedelta(days=365 * 5))
    counts = hamlet_counts(tree.xa_a, campaign=campaign, on=timezone.localdate())
    assert counts[tree.kp1.pk] == {"residents": 4, "eligible": 3, "gap": 2}
