"""The audit list and its CSV export, for province admins only, scoped."""

import csv
import io

import pytest

from gocua.accounts.models import AuditEntry, User
from gocua.accounts.services import audit_record


@pytest.fixture
def entries(tree, bob, charlie):
    audit_record(user=bob, action="view", object_type="resident", object_id=1, unit=tree.kp1)
    audit_record(
        user=charlie,
        action="export",
        object_type="kpi_report",
        object_id="25459",
        unit=tree.xa_b,
        detail={"note": "=cmd|' /C calc'!A0"},
    )
    audit_record(user=None, action="import", object_type="import_job", object_id=7, unit=tree.xa_c)


def test_it_shows_province_admins_their_province_s_log(client, alice, entries):
    client.force_login(alice)
    page = client.get("/accounts/audit/").content.decode()
    assert "bob" in page and "charlie" in page and "Nhập tệp" in page and "Lượt nhập tệp" in page
    assert "import_job" not in page


def test_it_scopes_the_log_of_an_admin_bound_to_a_district(client, tree, entries):
    district_admin = User.objects.create_user("da", role="province_admin", unit=tree.district)
    client.force_login(district_admin)
    page = client.get("/accounts/audit/").content.decode()
    assert "Báo cáo chỉ tiêu" in page and "Lượt nhập tệp" not in page


def test_it_filters_by_action(client, alice, entries):
    client.force_login(alice)
    page = client.get("/accounts/audit/?action=export").content.decode()
    assert "Báo cáo chỉ tiêu" in page and "Lượt nhập tệp" not in page
    assert '<option value="export" selected>Xuất số liệu</option>' in page


@pytest.mark.parametrize("persona", ["bob", "dan", "vy", "olivia"])
def test_it_is_404_for_everyone_else(client, persona, request, entries):
    client.force_login(request.getfixturevalue(persona))
    assert client.get("/accounts/audit/").status_code == 404
    assert client.get("/accounts/audit/export.csv").status_code == 404


def test_it_exports_csv_and_audits_the_export(client, alice, entries):
    client.force_login(alice)
    response = client.get("/accounts/audit/export.csv")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    text = b"".join(response.streaming_content).decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
    assert {r["Hành động"] for r in rows} == {"Xem", "Xuất số liệu", "Nhập tệp"}
    exported = next(r for r in rows if r["Hành động"] == "Xuất số liệu")
    assert exported["Mã đơn vị"] == "25459" and exported["Người dùng"] == "charlie"
    assert exported["Đối tượng"] == "Báo cáo chỉ tiêu"
    assert AuditEntry.objects.filter(action="export", object_type="audit_log", user=alice).exists()


def test_it_keeps_formulas_out_of_the_csv(client, alice, tree):
    audit_record(
        user=None, action="import", object_type='=HYPERLINK("x")', object_id="1", unit=tree.kp1
    )
    client.force_login(alice)
    text = b"".join(client.get("/accounts/audit/export.csv").streaming_content).decode()
    assert "'=HYPERLINK" in text


def test_it_pages_with_a_bounded_number_of_queries(
    client, alice, tree, django_assert_max_num_queries
):
    for i in range(120):
        audit_record(user=alice, action="view", object_type="resident", object_id=i, unit=tree.kp1)
    client.force_login(alice)
    with django_assert_max_num_queries(6):
        response = client.get("/accounts/audit/?page=2")
    assert response.status_code == 200


def test_it_survives_nul_characters_in_the_filter(client, alice, entries):
    client.force_login(alice)
    assert client.get("/accounts/audit/?action=view%00").status_code == 200


def test_it_names_accounts_and_actions_in_vietnamese(client, alice, tree, charlie):
    """'login', 'create' and 'user 1' were shown as stored; an official reads words and names."""
    charlie.full_name = "Trần Thị Hoa"
    charlie.save(update_fields=["full_name"])
    audit_record(
        user=alice, action="create", object_type="user", object_id=charlie.pk, unit=tree.kp1
    )
    audit_record(user=alice, action="login", object_type="user", object_id=alice.pk, unit=tree.kp1)
    client.force_login(alice)
    page = client.get("/accounts/audit/").content.decode()
    assert "<td>Tạo mới</td><td>Tài khoản: Trần Thị Hoa (charlie)</td>" in page
    assert "<td>Đăng nhập</td><td>Tài khoản: alice</td>" in page
    text = b"".join(client.get("/accounts/audit/export.csv").streaming_content).decode()
    rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
    created = next(r for r in rows if r["Hành động"] == "Tạo mới")
    assert created["Đối tượng"] == "Tài khoản"
    assert created["Số hoặc tên đối tượng"] == "Trần Thị Hoa (charlie)"
