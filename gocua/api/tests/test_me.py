"""GET /api/v1/me."""


def test_it_describes_a_unit_manager(client, bob, token_for):
    body = client.get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {token_for(bob)}").json()
    assert body == {
        "username": "bob",
        "full_name": "",
        "role": "unit_manager",
        "unit": {"edition": 2023, "code": "25456", "name": "Phường 1", "level": "commune"},
        "hamlets": [],
        "can_see_residents": True,
        "sees_full_identity": True,
    }


def test_it_lists_a_field_member_s_hamlets(client, vy, token_for):
    body = client.get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {token_for(vy)}").json()
    assert body["role"] == "field_member"
    assert [h["code"] for h in body["hamlets"]] == ["25456-01"]
    assert (body["can_see_residents"], body["sees_full_identity"]) == (True, False)


def test_it_tells_a_viewer_they_see_aggregates_only(client, olivia, token_for):
    body = client.get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {token_for(olivia)}").json()
    assert (body["can_see_residents"], body["sees_full_identity"]) == (False, False)


def test_it_needs_authentication(client, db):
    response = client.get("/api/v1/me")
    assert response.status_code == 401 and "detail" in response.json()
