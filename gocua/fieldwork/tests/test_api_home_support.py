"""GET and POST /api/v1/home-support."""

from gocua.fieldwork.models import HomeSupportRequest


def test_it_lets_a_member_ask_for_a_resident_of_their_hamlet(api, vy, homes):
    response = api(vy).post(
        "/api/v1/home-support", {"resident": homes.binh.pk, "reason": "Không đi lại được"}
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["resident_name"], body["status"], body["reason"]) == (
        "Trần Thị Bình",
        "requested",
        "Không đi lại được",
    )
    assert body["address"] == "12 Hẻm 3" and body["age"] >= 75
    # Asking again answers the open request.
    again = api(vy).post("/api/v1/home-support", {"resident": homes.binh.pk})
    assert again.status_code == 200 and again.json()["id"] == body["id"]
    assert HomeSupportRequest.objects.count() == 1


def test_it_answers_404_for_a_resident_outside_the_scope(api, vy, charlie, homes):
    assert api(vy).post("/api/v1/home-support", {"resident": homes.em.pk}).status_code == 404
    assert api(charlie).post("/api/v1/home-support", {"resident": homes.binh.pk}).status_code == 404
    assert not HomeSupportRequest.objects.exists()


def test_it_lists_requests_by_status_in_scope(api, vy, bob, charlie, homes):
    api(bob).post("/api/v1/home-support", {"resident": homes.binh.pk})
    api(bob).post("/api/v1/home-support", {"resident": homes.em.pk})
    mine = api(vy).get("/api/v1/home-support").json()
    assert [i["resident"] for i in mine["items"]] == [homes.binh.pk] and mine["count"] == 1
    assert api(bob).get("/api/v1/home-support").json()["count"] == 2
    assert api(bob).get("/api/v1/home-support", status="closed").json()["count"] == 0
    assert api(charlie).get("/api/v1/home-support").json()["items"] == []


def test_it_answers_422_for_an_unknown_status(api, vy, homes):
    assert api(vy).get("/api/v1/home-support", status="lost").status_code == 422


def test_it_shows_a_viewer_nothing(api, olivia, bob, homes):
    api(bob).post("/api/v1/home-support", {"resident": homes.binh.pk})
    assert api(olivia).get("/api/v1/home-support").json()["count"] == 0
    assert api(olivia).post("/api/v1/home-support", {"resident": homes.binh.pk}).status_code == 404
