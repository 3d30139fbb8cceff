"""GET and POST /api/v1/outreach."""

from django.utils import timezone

from gocua.fieldwork.models import OutreachEvent


def event(**extra):
    return {
        "unit": "25456",
        "kind": "market",
        "place": "Chợ Phường 1",
        "date": str(timezone.localdate()),
        "people_reached": 40,
        "dossiers_collected": 12,
        "activations_helped": 9,
        **extra,
    }


def test_it_lets_the_unit_manager_record_an_event(api, bob, campaign):
    response = api(bob).post("/api/v1/outreach", event(note="Bàn hỗ trợ sáng chủ nhật"))
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["unit_code"], body["unit_name"], body["kind"], body["people_reached"]) == (
        "25456",
        "Phường 1",
        "market",
        40,
    )
    assert OutreachEvent.objects.get().note == "Bàn hỗ trợ sáng chủ nhật"


def test_it_lists_events_in_scope_newest_first(api, bob, charlie, vy, olivia, campaign):
    api(bob).post("/api/v1/outreach", event(place="Trường THCS"))
    api(charlie).post("/api/v1/outreach", event(unit="25459", place="Chợ Phường 3"))
    assert [e["place"] for e in api(bob).get("/api/v1/outreach").json()["items"]] == ["Trường THCS"]
    assert api(vy).get("/api/v1/outreach").json()["count"] == 1  # their commune's aggregates
    assert api(olivia).get("/api/v1/outreach").json()["count"] == 2
    today = str(timezone.localdate())
    assert api(olivia).get("/api/v1/outreach", start=today, end=today).json()["count"] == 2
    assert api(olivia).get("/api/v1/outreach", start="2099-01-01").json()["count"] == 0


def test_it_answers_404_for_a_unit_outside_the_scope(api, charlie, campaign):
    assert api(charlie).post("/api/v1/outreach", event()).status_code == 404
    assert api(charlie).post("/api/v1/outreach", event(unit="99999")).status_code == 404
    assert not OutreachEvent.objects.exists()


def test_it_answers_403_to_a_field_member(api, vy, campaign):
    response = api(vy).post("/api/v1/outreach", event())
    assert response.status_code == 403 and response.json()["detail"]


def test_it_refuses_more_dossiers_than_people(api, bob, campaign):
    response = api(bob).post("/api/v1/outreach", event(people_reached=5, dossiers_collected=6))
    assert response.status_code == 422 and "dossiers_collected" in response.json()["detail"]


def test_it_answers_404_for_a_team_outside_the_scope(api, bob, charlie, campaign, tree):
    from gocua.campaigns.models import Team

    team_b = Team.objects.create(campaign=campaign, unit=tree.xa_b, name="Tổ Phường 3")
    assert api(bob).post("/api/v1/outreach", event(team=team_b.pk)).status_code == 404
