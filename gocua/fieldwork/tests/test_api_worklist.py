"""GET /api/v1/worklist: the DESIGN.md contract, masking, scope and delta pulls."""

import datetime as dt

import pytest
from django.utils import timezone

from gocua.fieldwork.models import Visit
from gocua.fieldwork.tests.conftest import visit
from gocua.people.models import Resident

WORKLIST = "/api/v1/worklist"


def pull(api, user, **params):
    response = api(user).get(WORKLIST, **params)
    assert response.status_code == 200, response.content
    return response.json()


def age_everything(hours=1):
    """Make every change so far older than the pull overlap (a pull 'an hour later')."""
    past = timezone.now() - dt.timedelta(hours=hours)
    Resident.objects.update(updated_at=past)
    Visit.objects.update(received_at=past)


def test_it_answers_the_contract_shape(api, vy, homes):
    body = pull(api, vy)
    assert set(body) == {
        "households",
        "removed",
        "full",
        "cursor",
        "offset",
        "limit",
        "next_offset",
    }
    first = body["households"][0]
    assert set(first) == {"id", "address", "hamlet", "last_visit_at", "residents"}
    assert set(first["residents"][0]) == {
        "id",
        "name",
        "national_id_masked",
        "age",
        "eid_stage",
        "gap",
        "flags",
    }
    assert body["households"] == [
        {
            "id": homes.h1.pk,
            "address": "12 Hẻm 3",
            "hamlet": "Khu phố 1",
            "last_visit_at": None,
            "residents": [
                {
                    "id": homes.binh.pk,
                    "name": "Trần Thị Bình",
                    "national_id_masked": homes.binh.national_id[:3]
                    + "******"
                    + homes.binh.national_id[-3:],
                    "age": body["households"][0]["residents"][0]["age"],
                    "eid_stage": "registered",
                    "gap": "not_activated",
                    "flags": ["elderly"],
                },
                {
                    "id": homes.an.pk,
                    "name": "Nguyễn Văn An",
                    "national_id_masked": homes.an.national_id[:3]
                    + "******"
                    + homes.an.national_id[-3:],
                    "age": body["households"][0]["residents"][1]["age"],
                    "eid_stage": "none",
                    "gap": "not_registered",
                    "flags": [],
                },
            ],
        },
        {
            "id": homes.h2.pk,
            "address": "14 Hẻm 3",
            "hamlet": "Khu phố 1",
            "last_visit_at": None,
            "residents": [
                {
                    "id": homes.dung.pk,
                    "name": "Phạm Văn Dũng",
                    "national_id_masked": homes.dung.national_id[:3]
                    + "******"
                    + homes.dung.national_id[-3:],
                    "age": body["households"][1]["residents"][0]["age"],
                    "eid_stage": "activated",
                    "gap": "not_used",
                    "flags": [],
                },
            ],
        },
    ]
    assert body["households"][0]["residents"][0]["age"] >= 75
    assert (body["removed"], body["full"], body["next_offset"]) == ([], True, None)


def test_it_never_sends_a_full_national_id(api, vy, homes):
    raw = api(vy).get(WORKLIST).content.decode()
    for resident in Resident.objects.all():
        assert resident.national_id not in raw


def test_it_lists_only_the_member_s_hamlets_and_residents_with_a_gap(api, vy, homes):
    body = pull(api, vy)
    ids = {h["id"] for h in body["households"]}
    assert ids == {homes.h1.pk, homes.h2.pk}  # not Khu phố 2, not Xã B
    names = {r["name"] for h in body["households"] for r in h["residents"]}
    assert "Lê Thị Cúc" not in names  # already using the app: no gap


def test_it_gives_a_manager_without_assignments_an_empty_list(api, bob, olivia, homes):
    assert pull(api, bob)["households"] == []
    assert pull(api, olivia)["households"] == []


def test_it_pages_through_households(api, vy, homes):
    first = pull(api, vy, limit=1)
    assert [h["id"] for h in first["households"]] == [homes.h1.pk]
    assert first["next_offset"] == 1
    second = pull(api, vy, limit=1, offset=1)
    assert [h["id"] for h in second["households"]] == [homes.h2.pk]
    assert second["next_offset"] is None


def test_it_pulls_only_what_changed_since_the_cursor(api, vy, vu, homes):
    age_everything()
    cursor = pull(api, vy)["cursor"]
    nothing = pull(api, vy, since=cursor)
    assert (nothing["households"], nothing["removed"], nothing["full"]) == ([], [], False)
    # Someone else visits h2: it comes back, h1 does not.
    api(vu).post("/api/v1/visits/sync", {"visits": [visit(homes.h2, (homes.dung, "refused"))]})
    delta = pull(api, vy, since=cursor)
    assert [h["id"] for h in delta["households"]] == [homes.h2.pk]
    assert delta["full"] is False and delta["cursor"] != cursor


def test_a_household_s_last_visit_is_there_as_soon_as_a_phone_posts_it(api, vy, vu, homes):
    """What the failover drill's phones look for after each post (read on the primary)."""
    later = timezone.now().replace(microsecond=123000)  # the API answers in milliseconds
    earlier = later - dt.timedelta(hours=2)
    api(vu).post(
        "/api/v1/visits/sync", {"visits": [visit(homes.h2, (homes.dung, "refused"), at=later)]}
    )
    api(vy).post(
        "/api/v1/visits/sync", {"visits": [visit(homes.h2, (homes.dung, "refused"), at=earlier)]}
    )
    seen = {h["id"]: h["last_visit_at"] for h in pull(api, vy)["households"]}
    assert seen[homes.h1.pk] is None
    assert dt.datetime.fromisoformat(seen[homes.h2.pk].replace("Z", "+00:00")) == later


def test_it_lists_households_with_no_work_left_as_removed(api, vy, homes):
    age_everything()
    cursor = pull(api, vy)["cursor"]
    Resident.objects.filter(pk=homes.dung.pk).update(eid_stage="used", updated_at=timezone.now())
    delta = pull(api, vy, since=cursor)
    assert (delta["households"], delta["removed"]) == ([], [homes.h2.pk])


def test_it_sees_a_stage_extract_imported_after_the_cursor(api, vy, homes, tmp_path):
    """Extracts carry the stage's own date (older than the cursor): the import time counts."""
    from gocua.imports.stages import stages_import

    age_everything()
    cursor = pull(api, vy)["cursor"]
    path = tmp_path / "stages.csv"
    path.write_text(
        "national_id,eid_stage,eid_level,stage_at,last_used_at\n"
        f"{homes.an.national_id},registered,2,2026-01-02,\n"
    )
    summary, _notes = stages_import(str(path))
    assert summary.updated == 1
    delta = pull(api, vy, since=cursor)
    [h1] = delta["households"]
    assert {r["name"]: r["gap"] for r in h1["residents"]}["Nguyễn Văn An"] == "not_activated"


def test_it_drops_an_unassigned_hamlet_and_adds_a_new_one(api, vy, homes, tree):
    from gocua.campaigns.models import Assignment

    age_everything()
    cursor = pull(api, vy)["cursor"]
    Assignment.objects.filter(member__user=vy, hamlet=tree.kp1).delete()
    Assignment.objects.create(member=vy.member, hamlet=tree.kp2)
    delta = pull(api, vy, since=cursor)
    assert [h["id"] for h in delta["households"]] == [homes.kp2.pk]
    assert set(delta["removed"]) >= {homes.h1.pk, homes.h2.pk}


def test_it_accepts_an_iso_timestamp_as_since(api, vy, homes, tree):
    from gocua.campaigns.models import Assignment

    midnight = timezone.localtime().replace(hour=0, minute=0, second=1, microsecond=0)
    since = max(timezone.now() - dt.timedelta(minutes=10), midnight)
    Assignment.objects.update(assigned_at=since - dt.timedelta(hours=1))
    Resident.objects.update(updated_at=since - dt.timedelta(hours=1))
    assert pull(api, vy, since=since.isoformat())["households"] == []
    Assignment.objects.create(member=vy.member, hamlet=tree.kp2)
    delta = pull(api, vy, since=since.isoformat())
    assert [h["id"] for h in delta["households"]] == [homes.kp2.pk]


def test_it_sends_the_whole_list_on_a_new_day(api, vy, homes):
    """Ages, and so who is eligible, are counted per day."""
    yesterday = (timezone.now() - dt.timedelta(days=1)).isoformat()
    body = pull(api, vy, since=yesterday)
    assert body["full"] is True and len(body["households"]) == 2


@pytest.mark.parametrize(
    "since", ["yesterday", "2026-13-45T10:00:00", "x" * 300, "0001-01-01T00:00:00+00:00"]
)
def test_it_answers_422_for_a_since_it_cannot_read(api, vy, homes, since):
    response = api(vy).get(WORKLIST, since=since)
    assert response.status_code == 422 and response.json()["detail"].startswith("since:")


def test_it_refuses_another_account_s_cursor(api, vy, vu, homes):
    cursor = pull(api, vu)["cursor"]
    tampered = cursor[:-3] + ("AAA" if not cursor.endswith("AAA") else "BBB")
    for since in (cursor, tampered):
        response = api(vy).get(WORKLIST, since=since)
        assert response.status_code == 422


def test_it_needs_a_valid_token(client, vy, homes):
    assert client.get(WORKLIST).status_code == 401
    assert client.get(WORKLIST, HTTP_AUTHORIZATION="Bearer gc_nope").status_code == 401


def test_it_records_every_download_that_carries_residents(api, vy, homes):
    """Each page that leaves the server with residents is an export in the audit log, naming
    them by id; a pull that brings nothing new records nothing."""
    from gocua.accounts.models import AuditEntry
    from gocua.lib.ranges import expand

    first = pull(api, vy)
    carried = sorted(r["id"] for h in first["households"] for r in h["residents"])
    entry = AuditEntry.objects.get(object_type="worklist")
    assert (entry.action, entry.detail["households"], entry.detail["full"]) == ("export", 2, True)
    assert expand(entry.detail["ids"]) == carried
    pulls = [first, pull(api, vy, since=first["cursor"])]
    pulls.append(pull(api, vy, since=pulls[-1]["cursor"]))
    carrying = sum(1 for p in pulls if p["households"])
    assert AuditEntry.objects.filter(object_type="worklist").count() == carrying


def test_it_costs_a_fixed_number_of_queries(
    api, vy, homes, tree, household_factory, resident_factory, django_assert_max_num_queries
):
    for _i in range(30):
        household = household_factory(tree.kp1)
        resident_factory(tree.kp1, household=household, stage="approved")
    with django_assert_max_num_queries(14):
        assert len(pull(api, vy)["households"]) == 32
    cursor = pull(api, vy)["cursor"]
    with django_assert_max_num_queries(14):
        pull(api, vy, since=cursor)
