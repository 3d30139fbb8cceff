"""Control characters (NUL first: PostgreSQL text cannot hold it) are refused with a reason on
every entry point, never a 500: one bad visit of a sync batch is rejected alone; the API's
text fields answer 422; a form shows the error under its field; an import rejects the row and
turns Excel's line breaks into spaces. Services strip what might still come through."""

import uuid

import pytest
from django.utils import timezone

from gocua.fieldwork.models import HomeSupportRequest, OutreachEvent, Visit
from gocua.fieldwork.tests.conftest import visit
from gocua.lib.text import control_character, nfc

SYNC = "/api/v1/visits/sync"


def test_one_visit_with_a_nul_in_its_note_is_rejected_alone(api, vy, homes):
    good = visit(homes.h1, (homes.an, "refused"))
    bad = visit(homes.h2, (homes.dung, "not_home"))
    bad["outcomes"][0]["note"] = "bad\u0000"
    for _attempt in range(2):  # a retried batch neither fails nor duplicates
        response = api(vy).post(SYNC, {"visits": [bad, good]})
        assert response.status_code == 200
        results = response.json()["results"]
        assert results[0]["status"] == "rejected" and "U+0000" in results[0]["error"]
        assert results[1]["status"] in ("created", "duplicate")
    assert list(Visit.objects.values_list("pk", flat=True)) == [uuid.UUID(good["id"])]


@pytest.mark.parametrize("char", ["\u0000", "\u0007", "\u001b"])
def test_the_apis_text_fields_answer_422(api, bob, homes, tree, char):
    reason = api(bob).post("/api/v1/home-support", {"resident": homes.an.pk, "reason": f"x{char}"})
    assert reason.status_code == 422 and "ký tự điều khiển" in reason.json()["detail"]
    base = {"unit": tree.xa_a.code, "kind": "market", "date": "2026-11-20"}
    for field in ("place", "note"):
        body = {**base, "place": "Chợ", field: f"Chợ{char}"}
        response = api(bob).post("/api/v1/outreach", body)
        assert response.status_code == 422, (field, response.content)
    assert not HomeSupportRequest.objects.exists() and not OutreachEvent.objects.exists()


def test_a_note_may_span_lines(api, bob, homes):
    response = api(bob).post(
        "/api/v1/home-support", {"resident": homes.an.pk, "reason": "Bà ở một mình.\nGọi trước."}
    )
    assert response.status_code == 201
    assert HomeSupportRequest.objects.get().reason == "Bà ở một mình. Gọi trước."


def test_a_form_shows_the_error_under_its_field(client, bob, homes, tree):
    client.force_login(bob)
    page = client.post(
        "/fieldwork/outreach/new/",
        {
            "unit": tree.xa_a.pk,
            "kind": "market",
            "place": "Chợ\u0001",
            "date": "2026-11-20",
            "people_reached": 1,
            "dossiers_collected": 0,
            "activations_helped": 0,
        },
    )
    assert page.status_code == 200
    assert "place" in page.context["form"].errors
    assert "U+0001" in page.context["form"].errors["place"][0]
    assert not OutreachEvent.objects.exists()


def test_services_strip_what_gets_through():
    assert nfc("Nguyễn\u0000 Văn\u200b An\ufeff") == "Nguyễn Văn An"
    assert nfc("12 Trần\tHưng\r\nĐạo") == "12 Trần Hưng Đạo"
    assert control_character("a\nb") == "U+000A"
    assert control_character("a\nb", multiline=True) is None
    assert control_character("a\x00b", multiline=True) == "U+0000 (NUL)"


def test_an_import_rejects_a_row_with_a_control_character(tree, tmp_path):
    from gocua.imports.citizens import citizens_import
    from gocua.imports.tests.conftest import EN, read_rejects
    from gocua.lib.nid import make
    from gocua.people.models import Resident

    nid = [make(province_code="072", sex="M", birth_year=1990, serial=800 + i) for i in range(3)]
    path = tmp_path / "c.csv"
    rows = [
        [nid[0], "Lê Văn\x00 Nul", "1990", "Nam", "", "25456", "Khu phố 1", "", ""],
        [nid[1], "Lê Văn Hai", "1990", "Nam", "", "25456", "Khu phố 1", "", '"12 Trần\nHưng Đạo"'],
        [nid[2], "Lê Văn Ba", "1990", "Nam", "", "25456", "Khu phố 1", "", "5 Lê\x07 Lợi"],
    ]
    # A NUL in the first 4 KB makes the file "binary" (not read at all): this one comes later,
    # after a long title row.
    title = ["DANH SÁCH CÔNG DÂN " + "." * 4200]
    text = "\n".join(",".join(r) for r in [title, EN, *rows]) + "\n"
    path.write_text(text, encoding="utf-8")
    rejects = tmp_path / "r.csv"
    summary, _ = citizens_import(str(path), edition=2023, rejects_path=str(rejects))
    assert (summary.inserted, summary.rejected) == (1, 2)
    table = read_rejects(rejects)
    assert [(r[0], r[1]) for r in table[1:]] == [("3", "Họ và tên"), ("6", "Địa chỉ")]
    assert "U+0000" in table[1][2] and "U+0007" in table[2][2]
    assert Resident.objects.get().household.address == "12 Trần Hưng Đạo"


# --- strict input ----------------------------------------------------------------------------


def test_a_sync_timestamp_needs_its_utc_offset(api, vy, homes):
    naive = visit(homes.h1, (homes.an, "refused"))
    naive["at"] = naive["at"][:19]  # "2026-11-20T09:00:00", no offset
    number = visit(homes.h2, (homes.dung, "refused"))
    number["at"] = 1_790_000_000
    results = api(vy).post(SYNC, {"visits": [naive, number]}).json()["results"]
    assert [r["status"] for r in results] == ["rejected", "rejected"]
    assert "timezone" in results[0]["error"] or "offset" in results[0]["error"]
    assert not Visit.objects.exists()


@pytest.mark.parametrize("household", [True, "12", 12.0, 0, 2**64])
def test_a_household_id_is_a_positive_json_integer(api, vy, homes, household):
    body = visit(homes.h1, (homes.an, "refused"))
    body["household"] = household if household != "12" else str(homes.h1.pk)
    result = api(vy).post(SYNC, {"visits": [body]}).json()["results"][0]
    assert result["status"] == "rejected" and "household" in result["error"]


def test_dates_are_written_as_dates(api, bob, tree, homes):
    for start in ("0", "20261120", "2026-11-20T00:00", "true"):
        response = api(bob).get("/api/v1/outreach", start=start)
        assert response.status_code == 422, start
    assert api(bob).get("/api/v1/outreach", start="2026-11-20").status_code == 200
    body = {"unit": tree.xa_a.code, "kind": "market", "place": "Chợ", "date": 0}
    assert api(bob).post("/api/v1/outreach", body).status_code == 422
    body.update(date="2026-11-20", people_reached=True)
    assert api(bob).post("/api/v1/outreach", body).status_code == 422
    body.update(people_reached="5")
    assert api(bob).post("/api/v1/outreach", body).status_code == 422
    today = timezone.localdate().isoformat()
    body.update(people_reached=5, date=today)
    assert api(bob).post("/api/v1/outreach", body).status_code == 201
