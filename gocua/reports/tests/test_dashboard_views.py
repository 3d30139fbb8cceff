"""The unit dashboard, its downloads and the reconciliation page: scope, content, query bounds."""

import datetime as dt
import io
import re

import openpyxl
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from conftest import make_resident
from gocua.changes.outbox import residents_changed
from gocua.reports import rollups

pytestmark = pytest.mark.django_db


def at(days_ago: int, hour: int = 10) -> dt.datetime:
    day = timezone.localdate() - dt.timedelta(days=days_ago)
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour)))


def populate(tree, teams, *, per_hamlet: int) -> None:
    """Residents in every hamlet, a few households visited with claims, a stage gone back."""
    from gocua.fieldwork.tests.helpers import visit_record
    from gocua.imports.models import ImportJob
    from gocua.people.models import Household, StageEvent

    for hamlet, stages in (
        (tree.kp1, ("none", "registered", "activated", "used")),
        (tree.kp2, ("none", "approved")),
        (tree.b_kp1, ("none", "none", "failed")),
    ):
        household = Household.objects.create(
            unit=hamlet, address=f"{hamlet.code} Số 1", province_code="72"
        )
        for i in range(per_hamlet):
            make_resident(hamlet, stage=stages[i % len(stages)], household=household)
    job = ImportJob.objects.create(kind="stages", file_name="trich-xuat.csv", status="done")
    ImportJob.objects.filter(pk=job.pk).update(finished_at=at(1, 20))
    rollups.rollup_rebuild()
    household = Household.objects.filter(unit=tree.kp1).first()
    none_yet = household.residents.filter(eid_stage="none").first()
    active = household.residents.filter(eid_stage="activated").first()
    visit_record(
        member=teams.an,
        household=household,
        at=at(3),
        outcomes=[(none_yet.pk, "helped_register", ""), (active.pk, "guided_usage", "")],
    )
    visit_record(
        member=teams.binh,
        household=household,
        at=at(0, 0),
        outcomes=[(none_yet.pk, "not_home", "")],
    )
    used = household.residents.filter(eid_stage="used").first()
    StageEvent.objects.create(
        resident=used,
        from_stage="used",
        to_stage="registered",
        from_level=2,
        to_level=2,
        at=at(2),
        source="extract",
    )
    used.eid_stage = "registered"
    used.save(update_fields=["eid_stage"])
    residents_changed([used.pk])
    rollups.rollup_fold()  # the worker counts what the posts and the extract queued


@pytest.fixture
def data(tree, teams):
    populate(tree, teams, per_hamlet=12)


def test_it_needs_a_login(client, data):
    response = client.get("/dashboard/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_it_shows_the_users_own_unit_by_default(client, bob, data):
    client.force_login(bob)
    response = client.get("/dashboard/")
    assert response.status_code == 200
    text = response.content.decode()
    assert "Phường 1" in text and "Khu phố 2" in text
    assert 'href="/dashboard/2023/25456-01/?metric=activation"' in text  # drill down
    assert "<svg" in text and "Xếp hạng" in text
    hamlet = client.get("/dashboard/2023/25456-01/")  # a leaf: no ranking, no map
    assert hamlet.status_code == 200 and "Xếp hạng" not in hamlet.content.decode()


def test_it_shows_aggregates_to_a_viewer_and_a_volunteer(client, olivia, tree, teams, data):
    from conftest import _user

    client.force_login(olivia)
    assert client.get("/dashboard/").status_code == 200
    assert "Tỉnh Tây Ninh" in client.get("/dashboard/2023/72/").content.decode()
    volunteer = _user("hoa", "field_member", tree.xa_a)
    teams.binh.user = volunteer
    teams.binh.save(update_fields=["user"])
    client.force_login(volunteer)
    assert client.get("/dashboard/").status_code == 200
    assert client.get("/dashboard/2023/703/").status_code == 404


def test_it_drills_down_from_the_province(client, alice, data):
    client.force_login(alice)
    response = client.get("/dashboard/2023/72/", {"metric": "registration", "sort": "per_member"})
    text = response.content.decode()
    assert response.status_code == 200
    assert 'href="/dashboard/2023/703/?metric=registration"' in text
    assert "Huyện Tân Biên" in text
    district = client.get("/dashboard/2023/703/").content.decode()
    assert "Thành phố Tây Ninh" in district and "Phường 3" in district


def test_it_answers_404_for_another_communes_unit(client, charlie, data):
    client.force_login(charlie)
    for url in (
        "/dashboard/2023/25456/",
        "/dashboard/2023/25456-01/",
        "/dashboard/2023/703/",
        "/dashboard/2023/25456/bao-cao.xlsx",
        "/dashboard/2023/25456/bao-cao.csv",
        "/dashboard/2023/25456/so-lieu-ngay/",
        "/reconciliation/2023/25456/",
        "/dashboard/2023/99999/",
    ):
        assert client.get(url).status_code == 404, url
    assert client.get("/dashboard/2023/25459/").status_code == 200


def test_it_keeps_to_the_content_security_policy(client, alice, data):
    client.force_login(alice)
    for url in ("/dashboard/2023/25456/", "/reconciliation/2023/25456/"):
        text = client.get(url).content.decode()
        assert 'style="' not in text and "<style" not in text
        # Scripts only from files (the header's menu.js), never inline.
        assert not re.search(r"<script(?![^>]*\bsrc=)", text)


def test_it_costs_the_same_number_of_queries_for_more_residents(
    client, alice, tree, teams, django_assert_max_num_queries
):
    populate(tree, teams, per_hamlet=6)
    client.force_login(alice)
    client.get("/dashboard/2023/72/")  # warm-up (session)
    with CaptureQueriesContext(connection) as small:
        assert client.get("/dashboard/2023/25456/").status_code == 200
    for hamlet in (tree.kp1, tree.kp2, tree.b_kp1):
        for _ in range(40):
            make_resident(hamlet, stage="registered")
    rollups.rollup_rebuild()
    with django_assert_max_num_queries(20):
        with CaptureQueriesContext(connection) as big:
            assert client.get("/dashboard/2023/25456/").status_code == 200
    assert len(big) == len(small)
    with django_assert_max_num_queries(20):
        assert client.get("/dashboard/2023/72/").status_code == 200
    with django_assert_max_num_queries(21):  # 20, and the claims that skipped a step
        assert client.get("/reconciliation/2023/72/").status_code == 200


def test_it_downloads_the_committee_report(client, dan, data):
    client.force_login(dan)
    response = client.get("/dashboard/2023/703/bao-cao.xlsx")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    book = openpyxl.load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == ["Huyện", "Xã", "Ấp - Khu phố"]
    assert book["Huyện"]["B10"].value == "703" and book["Huyện"]["D10"].value == 36
    csv_text = client.get("/dashboard/2023/703/bao-cao.csv").content.decode("utf-8-sig")
    assert csv_text.splitlines()[0].startswith("STT,Cấp,Quận/Huyện,Xã/Phường,Mã đơn vị")
    from gocua.accounts.models import AuditEntry

    assert AuditEntry.objects.filter(action="export", object_type="kpi_report").count() == 2


def test_it_downloads_daily_rows_for_a_date_range(client, bob, data):
    client.force_login(bob)
    today = timezone.localdate()
    first = today - dt.timedelta(days=1)
    response = client.get("/dashboard/2023/25456/so-lieu-ngay/", {"from": first.isoformat()})
    lines = response.content.decode("utf-8-sig").splitlines()
    assert response.status_code == 200 and len(lines) == 1 + 2 * 3
    assert lines[-1].startswith(f"{today.isoformat()},25456-02,Khu phố 2,Ấp/Khu phố,12")
    bad = client.get("/dashboard/2023/25456/so-lieu-ngay/", {"from": "hôm qua"})
    assert bad.status_code == 400


def test_a_daily_export_it_cannot_make_says_why_inside_the_page(client, bob, data):
    """Not a bare white page: the message in Vietnamese, under the menu, with the form filled
    as it was, to correct it."""
    client.force_login(bob)
    url = "/dashboard/2023/25456/so-lieu-ngay/"
    later = (timezone.localdate() + dt.timedelta(days=5)).isoformat()
    cases = {
        "hôm qua": "Ngày không hợp lệ: hãy chọn ngày trên lịch (năm-tháng-ngày).",
        later: "Không có số liệu trong khoảng ngày này: số liệu có từ ",
    }
    for asked, message in cases.items():
        response = client.get(url, {"from": asked})
        page = response.content.decode()
        assert response.status_code == 400 and "text/html" in response["Content-Type"]
        assert f'<p class="error" role="alert">{message}' in page
        names = [t.name for t in response.templates]
        assert "reports/snapshot.html" in names and "base.html" in names
        assert 'href="/dashboard/">' in page  # the menu is there
        assert f'value="{asked}"' in page  # the form as it was filled


def test_a_daily_export_range_is_at_most_400_days():
    from gocua.reports.dashboard_views import snapshot_range

    first, last = dt.date(2025, 1, 1), dt.date(2026, 12, 31)
    assert snapshot_range("2026-01-01", "", first, last) == (dt.date(2026, 1, 1), last)
    with pytest.raises(ValueError, match="^Khoảng ngày quá dài: mỗi lần xuất tối đa 400 ngày.$"):
        snapshot_range("", "", first, last)


def test_it_lists_unconfirmed_claims_and_stages_gone_back(client, bob, olivia, data):
    client.force_login(bob)
    text = client.get("/reconciliation/2023/25456/").content.decode()
    assert "Trần Văn An" in text  # the member whose claim an extract did not confirm
    assert "Đã hỗ trợ đăng ký" in text  # the unconfirmed claim, listed
    assert "Đã sử dụng" in text and "Đã thu nhận" in text  # used → registered
    assert "072" in text and "******" in text  # masked national IDs only
    client.force_login(olivia)
    viewer = client.get("/reconciliation/2023/25456/").content.decode()
    assert "Trần Văn An" in viewer  # aggregates per member
    assert "Đã hỗ trợ đăng ký" not in viewer and "******" not in viewer  # no resident at all
