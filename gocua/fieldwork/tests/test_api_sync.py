"""POST /api/v1/visits/sync: per-visit answers, idempotence, scoping, limits."""

import datetime as dt
import json
import re

import pytest
from django.utils import timezone

from gocua.fieldwork.api import MAX_BYTES, MAX_VISITS
from gocua.fieldwork.models import FollowUp, Visit, VisitOutcome
from gocua.fieldwork.tests.conftest import visit, yesterday_at

SYNC = "/api/v1/visits/sync"


def sync(api, user, *visits):
    response = api(user).post(SYNC, {"visits": list(visits)})
    assert response.status_code == 200, response.content
    return response.json()["results"]


def test_it_records_a_batch_and_answers_each_visit_in_order(api, vy, homes):
    batch = [
        visit(
            homes.h1,
            (homes.an, "helped_register"),
            (homes.binh, "helped_activate"),
            location={"lat": 11.31, "lon": 106.1},
        ),
        visit(homes.h2, (homes.dung, "not_home")),
    ]
    results = sync(api, vy, *batch)
    assert results == [{"id": v["id"], "status": "created", "error": ""} for v in batch]
    first = Visit.objects.get(pk=batch[0]["id"])
    assert (first.member.user, first.recorded_by, first.lat) == (vy, vy, 11.31)
    assert sorted(first.outcomes.values_list("outcome", flat=True)) == [
        "helped_activate",
        "helped_register",
    ]
    # visit_record's effects: a follow-up for the household nobody answered in.
    assert FollowUp.objects.get(household=homes.h2).status == "open"


def test_it_records_a_batch_sent_twice_once(api, vy, homes):
    batch = [visit(homes.h1, (homes.an, "refused")), visit(homes.h2, (homes.dung, "not_home"))]
    assert [r["status"] for r in sync(api, vy, *batch)] == ["created", "created"]
    again = sync(api, vy, *batch)
    assert [(r["id"], r["status"]) for r in again] == [(v["id"], "duplicate") for v in batch]
    assert Visit.objects.count() == 2 and VisitOutcome.objects.count() == 2
    assert FollowUp.objects.count() == 1


def test_it_records_the_same_id_twice_in_one_batch_once(api, vy, homes):
    one = visit(homes.h1, (homes.an, "refused"))
    assert [r["status"] for r in sync(api, vy, one, one)] == ["created", "duplicate"]
    assert Visit.objects.count() == 1


def test_it_rejects_a_bad_visit_alone(api, vy, homes):
    good = visit(homes.h1, (homes.an, "helped_install"))
    unknown = visit(homes.h2, (homes.dung, "abducted_by_aliens"))
    stranger = visit(homes.h1, (homes.dung, "refused"))  # Dũng lives in h2
    nobody = visit(homes.h2)
    twice = visit(homes.h1, (homes.an, "refused"), (homes.an, "not_home"))
    future = visit(homes.h2, (homes.dung, "refused"), at=timezone.now() + dt.timedelta(hours=2))
    too_early = visit(homes.h2, (homes.dung, "refused"), at=yesterday_at() - dt.timedelta(days=60))
    off_map = visit(homes.h2, (homes.dung, "refused"), location={"lat": 91, "lon": 0})
    no_id = {k: v for k, v in visit(homes.h2, (homes.dung, "refused")).items() if k != "id"}
    bad_id = {**visit(homes.h2, (homes.dung, "refused")), "id": "not-a-uuid"}
    bad_at = {**visit(homes.h2, (homes.dung, "refused")), "at": "hôm qua"}
    results = sync(
        api,
        vy,
        good,
        unknown,
        stranger,
        nobody,
        twice,
        future,
        too_early,
        off_map,
        no_id,
        bad_id,
        bad_at,
    )
    assert [r["status"] for r in results] == ["created"] + ["rejected"] * 10
    errors = [r["error"] for r in results]
    assert errors[0] == ""
    assert "abducted_by_aliens" in errors[1]
    assert "không thuộc hộ" in errors[2]
    assert "ít nhất một người" in errors[3]
    assert "một kết quả" in errors[4]
    assert "tương lai" in errors[5]
    assert "ngoài thời gian chiến dịch" in errors[6]
    assert "location" in errors[7]
    assert "id" in errors[8] and results[8]["id"] == ""
    assert "id" in errors[9] and results[9]["id"] == "not-a-uuid"
    assert "at" in errors[10]
    assert Visit.objects.count() == 1


def test_it_rejects_a_household_of_another_commune_without_saying_it_exists(api, vy, homes):
    foreign = visit(homes.xa_b, (homes.giang, "refused"))
    other_hamlet = visit(homes.kp2, (homes.em, "refused"))
    missing = visit(999_999, (homes.an, "refused"))
    results = sync(api, vy, foreign, other_hamlet, missing)
    assert [r["status"] for r in results] == ["rejected"] * 3
    # The same words whatever the household: only the id it was sent differs.
    shapes = {re.sub(r"#\d+", "#N", r["error"]) for r in results}
    assert len(shapes) == 1
    assert "Đỗ Thị Giang" not in json.dumps(results) and "7 Đường" not in json.dumps(results)
    assert not Visit.objects.exists()


def test_it_keeps_both_visits_of_two_members_to_the_same_household(api, vy, vu, homes):
    # Both walked Khu phố 1 offline and met An, an hour apart.
    by_vy = visit(homes.h1, (homes.an, "not_home"), at=yesterday_at(9))
    by_vu = visit(homes.h1, (homes.an, "helped_register"), at=yesterday_at(10))
    assert sync(api, vu, by_vu)[0]["status"] == "created"
    assert sync(api, vy, by_vy)[0]["status"] == "created"
    members = set(
        Visit.objects.filter(household=homes.h1).values_list("member__user__username", flat=True)
    )
    assert members == {"vy", "vu"}


def test_it_merges_claims_by_time_not_by_arrival(api, vy, vu, homes):
    from gocua.fieldwork.selectors import worklist_households

    later = visit(homes.h1, (homes.binh, "helped_activate"), at=yesterday_at(16))
    earlier = visit(homes.h1, (homes.binh, "not_home"), at=yesterday_at(8))
    sync(api, vu, later)
    sync(api, vy, earlier)  # arrives last, happened first
    binh = next(
        r for h in worklist_households(vy) for r in h["residents"] if r["id"] == homes.binh.pk
    )
    assert (binh["last_outcome"], binh["open_claim"]) == ("helped_activate", "activated")
    # The claim sits beside the confirmed stage, which only an extract changes.
    homes.binh.refresh_from_db()
    assert homes.binh.eid_stage == "registered"


def test_it_refuses_a_uuid_already_used_by_another_member(api, vy, vu, homes):
    mine = visit(homes.h1, (homes.an, "refused"))
    sync(api, vy, mine)
    result = sync(api, vu, mine)[0]
    assert result["status"] == "rejected" and "đã được dùng" in result["error"]


def test_it_answers_duplicate_for_a_stored_visit_whose_hamlet_was_unassigned(api, vy, homes):
    from gocua.campaigns.models import Assignment

    sent = visit(homes.h1, (homes.an, "refused"))
    sync(api, vy, sent)
    Assignment.objects.filter(member__user=vy).delete()
    assert sync(api, vy, sent)[0]["status"] == "duplicate"
    late = visit(homes.h1, (homes.an, "refused"))
    assert sync(api, vy, late)[0]["status"] == "rejected"


def test_it_answers_400_for_a_body_that_is_not_json(api, vy, homes):
    response = api(vy).post(SYNC, raw='{"visits": [')
    assert response.status_code == 400
    assert "JSON" in response.json()["detail"]
    assert api(vy).post(SYNC, raw=b"\xff\xfe").status_code == 400


def test_it_answers_422_for_json_that_is_not_a_batch(api, vy, homes):
    for body in ([], {"visit": []}, {"visits": {}}, "visits"):
        response = api(vy).post(SYNC, body)
        assert response.status_code == 422, body
        assert "visits" in response.json()["detail"]


def test_it_refuses_a_batch_over_the_visit_limit_naming_it(api, vy, homes):
    batch = [visit(homes.h1, (homes.an, "refused")) for _ in range(MAX_VISITS + 1)]
    response = api(vy).post(SYNC, {"visits": batch})
    assert response.status_code == 413
    assert str(MAX_VISITS) in response.json()["detail"]
    assert not Visit.objects.exists()
    # At the limit it goes through.
    assert len(sync(api, vy, *batch[:MAX_VISITS])) == MAX_VISITS


def test_it_refuses_a_body_over_the_byte_limit_naming_it(api, vy, homes):
    one = visit(homes.h1, (homes.an, "refused"))
    one["outcomes"][0]["note"] = "x" * (MAX_BYTES + 10)
    response = api(vy).post(SYNC, {"visits": [one]})
    assert response.status_code == 413
    assert str(MAX_BYTES) in response.json()["detail"]


@pytest.mark.parametrize("header", ["Bearer gc_wrong", "Bearer ", "Token abc", None])
def test_it_answers_401_for_a_missing_or_wrong_token(client, vy, homes, header):
    extra = {"HTTP_AUTHORIZATION": header} if header is not None else {}
    response = client.post(SYNC, {"visits": []}, content_type="application/json", **extra)
    assert response.status_code == 401 and response.json()["detail"]


def test_it_answers_401_for_a_revoked_token(client, vy, homes, token_for):
    token = token_for(vy)
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    assert client.post("/api/v1/auth/revoke", **auth).status_code == 200
    response = client.post(
        SYNC,
        {"visits": [visit(homes.h1, (homes.an, "refused"))]},
        content_type="application/json",
        **auth,
    )
    assert response.status_code == 401
    assert not Visit.objects.exists()


def test_it_needs_the_csrf_token_with_a_session(vy, homes):
    from django.test import Client

    browser = Client(enforce_csrf_checks=True)
    browser.force_login(vy)
    response = browser.post(SYNC, {"visits": []}, content_type="application/json")
    assert response.status_code == 403 and "CSRF" in response.json()["detail"]


def test_it_tells_a_user_without_a_team_membership_why(api, bob, homes):
    response = api(bob).post(SYNC, {"visits": [visit(homes.h1, (homes.an, "refused"))]})
    assert response.status_code == 403 and "phân công" in response.json()["detail"]


def test_it_answers_404_to_a_viewer(api, olivia, homes):
    response = api(olivia).post(SYNC, {"visits": [visit(homes.h1, (homes.an, "refused"))]})
    assert response.status_code == 404


def test_it_audits_a_batch_once(api, vy, homes):
    from gocua.accounts.models import AuditEntry

    sync(api, vy, visit(homes.h1, (homes.an, "refused")), visit(homes.h2, (homes.dung, "refused")))
    entry = AuditEntry.objects.get(object_type="visit_batch")
    assert (entry.user, entry.action, entry.detail["visits"]) == (vy, "create", 2)


def test_it_costs_the_same_queries_for_5_visits_as_for_50(
    api, vy, homes, django_assert_max_num_queries
):
    def batch(n):
        return [
            visit(
                homes.h1 if i % 2 else homes.h2,
                *((homes.an, "refused"), (homes.binh, "not_home"))
                if i % 2
                else ((homes.dung, "needs_id_card"),),
            )
            for i in range(n)
        ]

    # Both measured batches then find an open follow-up to close (a batch updates follow-ups
    # only when its households have one open).
    sync(api, vy, *batch(2))
    with django_assert_max_num_queries(30) as small:
        sync(api, vy, *batch(5))
    with django_assert_max_num_queries(len(small.captured_queries)):
        sync(api, vy, *batch(50))


def test_a_too_long_outcome_note_rejects_that_visit_alone(api, vy, homes):
    from gocua.lib import limits

    good = visit(homes.h2, (homes.dung, "not_home"))
    long = visit(homes.h1, (homes.an, "refused"))
    long["outcomes"][0]["note"] = "x" * (limits.OUTCOME_NOTE + 1)
    results = sync(api, vy, long, good)
    assert results[0]["status"] != "created" and "tối đa" in results[0]["error"]
    assert results[1]["status"] == "created"
    assert [str(v) for v in Visit.objects.values_list("id", flat=True)] == [good["id"]]
