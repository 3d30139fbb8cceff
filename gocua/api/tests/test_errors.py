"""Every API error is JSON {"detail": "<readable message>"}."""


def test_it_answers_json_404_for_unknown_routes(client, bob, token_for):
    for path in ("/api/v1/nope", "/api/v1/units/25456", "/api/v1/", "/api/v1/units/a/b/kpi"):
        response = client.get(path, HTTP_AUTHORIZATION=f"Bearer {token_for(bob)}")
        assert response.status_code == 404, path
        assert response["Content-Type"].startswith("application/json")
        assert isinstance(response.json()["detail"], str)


def test_it_serves_the_openapi_document(client, db):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    spec = response.json()
    assert spec["info"]["version"] == "1"
    assert {
        "/api/v1/auth/token",
        "/api/v1/auth/revoke",
        "/api/v1/me",
        "/api/v1/units/{code}/kpi",
    } <= set(spec["paths"])
    assert (
        "bearerAuth" in str(spec["components"]["securitySchemes"])
        or spec["components"]["securitySchemes"]
    )


def test_it_has_no_swagger_page_needing_a_cdn(client, db):
    assert client.get("/api/v1/docs").status_code == 404


def test_it_answers_json_500_without_a_traceback(client, bob, token_for, monkeypatch):
    import gocua.reports.api as reports_api

    def boom(*args, **kwargs):
        raise RuntimeError("secret 072079001001")

    monkeypatch.setattr(reports_api, "kpi_rows", boom)
    response = client.get("/api/v1/units/25456/kpi", HTTP_AUTHORIZATION=f"Bearer {token_for(bob)}")
    assert response.status_code == 500
    assert response.json() == {"detail": "internal error; it was logged for the administrators"}


def test_it_answers_json_405_for_a_wrong_method(client, bob, token_for):
    response = client.get("/api/v1/auth/token")
    assert response.status_code == 405
    assert response["Allow"] == "POST"
    assert response.json() == {"detail": "method GET not allowed here; use POST"}


def test_it_answers_413_json_for_a_body_over_the_limit(client, db, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    response = client.post("/api/v1/auth/token", data="x" * 4096, content_type="application/json")
    assert response.status_code == 413
    assert response.json()["detail"] == "request body too large: the limit is 1 KB"
