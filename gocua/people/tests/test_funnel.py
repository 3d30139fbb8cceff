"""The funnel's rules: one order, and every derived form agrees with it."""

import pytest

from gocua.people import funnel
from gocua.people.models import Stage


def test_the_funnel_runs_none_registered_approved_activated_used():
    order = ["none", "registered", "approved", "activated", "used"]
    ranks = [funnel.RANK[stage] for stage in order]
    assert ranks == sorted(ranks) and len(set(ranks)) == len(ranks)


def test_failed_ranks_with_registered_the_dossier_was_received():
    assert funnel.RANK["failed"] == funnel.RANK["registered"]


def test_every_stage_has_a_rank_and_a_code():
    assert set(funnel.RANK) == set(Stage.values) == set(funnel.STAGE_CODES)
    assert sorted(funnel.STAGE_CODES.values()) == list(range(len(Stage.values)))


def test_the_rank_by_code_is_the_rank_by_name_for_every_stage():
    for name, code in funnel.STAGE_CODES.items():
        assert funnel.RANK_BY_CODE[code] == funnel.RANK[name]
        assert funnel.STAGE_NAMES[code] == name


def test_the_rollups_store_the_codes_they_always_stored():
    # Stored in the rollup tables: renumbering would miscount every snapshot already written.
    assert funnel.STAGE_CODES == {
        "none": 0,
        "registered": 1,
        "approved": 2,
        "failed": 3,
        "activated": 4,
        "used": 5,
    }


def test_the_kpis_count_the_stages_the_design_names():
    assert set(funnel.REGISTERED_STAGES) == {
        "registered",
        "approved",
        "failed",
        "activated",
        "used",
    }
    assert set(funnel.ACTIVATED_STAGES) == {"activated", "used"}
    assert set(funnel.USED_STAGES) == {"used"}
    for stage in Stage.values:
        assert (stage in funnel.REGISTERED_STAGES) == (
            funnel.RANK[stage] >= funnel.RANK["registered"]
        )
        assert (stage in funnel.ACTIVATED_STAGES) == (
            funnel.RANK[stage] >= funnel.RANK["activated"]
        )


def test_a_stage_reaches_itself_and_everything_after_it():
    for stage in Stage.values:
        reached = funnel.stages_at_least(stage)
        assert stage in reached
        assert all(funnel.RANK[s] >= funnel.RANK[stage] for s in reached)
        assert all(s in reached for s in Stage.values if funnel.RANK[s] >= funnel.RANK[stage])


def test_the_ages():
    assert funnel.DEFAULT_MIN_AGE == 14
    assert funnel.ELDERLY_AGE == 60


@pytest.mark.parametrize(
    ("stage", "level", "known", "stored"),
    [
        ("activated", 1, 0, 1),  # a level the row gives is kept
        ("none", None, 2, 0),
        ("registered", None, 0, 0),  # a received dossier is not an account
        ("registered", None, 1, 1),  # ... so the known level stays
        ("failed", None, 0, 0),
        ("approved", None, 0, 2),  # the account exists from approval on
        ("activated", None, 1, 2),
        ("used", None, 0, 2),
    ],
)
def test_a_blank_level_follows_the_stage(stage, level, known, stored):
    assert funnel.eid_level_for(stage, level, known) == stored
