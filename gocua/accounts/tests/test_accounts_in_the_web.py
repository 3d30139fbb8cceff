"""Accounts given in the web: a unit manager gives their team's members accounts from the
roster (one or the whole team), each with a one-time code on a printable login card (72 hours,
single use, never a password); the member sets their own password and lands on the field page;
managers reset, close and log out accounts; everything scoped and audited."""

import datetime as dt
import re

import pytest
from django.test import Client
from django.utils import timezone

from gocua.accounts.models import AuditEntry, LoginCode, User
from gocua.accounts.services import login_code_issue, username_suggest
from gocua.campaigns.models import Member

PASSWORD = "một-mật-khẩu-riêng-2026"


@pytest.fixture
def team(vy, tree):
    """Xã A's team: Vy (with an account) and two members without one."""
    team = vy.member.team
    Member.objects.create(team=team, full_name="Nguyễn Văn An", affiliation="youth_union")
    Member.objects.create(team=team, full_name="Trần Thị Bích", affiliation="police")
    return team


def codes_in(html: str) -> list[str]:
    return re.findall(r'class="mono code">([A-Z0-9]{4}-[A-Z0-9]{4})<', html)


def first_login(client, username, code, password=PASSWORD):
    return client.post(
        "/accounts/code/",
        {"username": username, "code": code, "password1": password, "password2": password},
    )


def test_a_manager_gives_the_whole_team_accounts_and_prints_their_cards(client, bob, team):
    client.force_login(bob)
    roster = client.get(f"/campaigns/teams/{team.pk}/").content.decode()
    assert "Cấp tài khoản cho 2 thành viên" in roster
    page = client.post(f"/campaigns/teams/{team.pk}/accounts/")
    html = page.content.decode()
    assert page.status_code == 200 and "Thẻ đăng nhập" in html
    codes = codes_in(html)
    assert len(codes) == 2 and html.count("data:image/svg+xml") == 2  # a QR code each
    assert "/accounts/code/?u=annv" in html and "/accounts/code/?u=bichtt" in html
    assert "no-store" in page["Cache-Control"]
    an = User.objects.get(username="annv")
    assert (an.role, an.unit, an.has_usable_password()) == ("field_member", team.unit, False)
    assert Member.objects.get(full_name="Nguyễn Văn An").user == an
    # Codes are kept only as keyed digests.
    stored = LoginCode.objects.values_list("code_hash", flat=True)
    assert not any(c.replace("-", "") in h or c in h for c in codes for h in stored)
    assert AuditEntry.objects.filter(action="login_code").count() == 2
    # Nobody can print them again: no page shows a code from a GET.
    assert not codes_in(client.get(f"/campaigns/teams/{team.pk}/").content.decode())


def test_the_member_sets_a_password_with_the_code_and_lands_on_the_field_page(client, bob, team):
    client.force_login(bob)
    html = client.post(f"/campaigns/teams/{team.pk}/accounts/").content.decode()
    code = codes_in(html)[0]
    phone = Client()
    assert "annv" in phone.get("/accounts/code/?u=annv").content.decode()
    answer = first_login(phone, "annv", code)
    assert answer.status_code == 302 and answer["Location"] == "/field/"
    assert phone.get("/field/").status_code == 200
    an = User.objects.get(username="annv")
    assert an.check_password(PASSWORD)
    # Single use: the same code again is refused (and counts as a failed login).
    again = first_login(Client(), "annv", code, "mật-khẩu-khác-hẳn-2026")
    assert again.status_code == 200 and "Mã không đúng" in again.content.decode()
    # The password login lands a field member on the field page too.
    other = Client()
    landed = other.post("/accounts/login/", {"username": "annv", "password": PASSWORD})
    assert landed["Location"] == "/field/"


def test_a_code_ends_after_72_hours_and_when_a_newer_one_is_issued(client, bob, team):
    member = Member.objects.get(full_name="Nguyễn Văn An")
    client.force_login(bob)
    html = client.post(f"/campaigns/teams/{team.pk}/members/{member.pk}/account/").content.decode()
    first = codes_in(html)[0]
    user = User.objects.get(username="annv")
    _row, second = login_code_issue(user=user, by=bob)
    assert first_login(Client(), "annv", first).status_code == 200  # replaced: refused
    LoginCode.objects.filter(user=user, used_at__isnull=True, ended_at__isnull=True).update(
        expires_at=timezone.now() - dt.timedelta(seconds=1)
    )
    assert first_login(Client(), "annv", second).status_code == 200  # expired: refused
    assert not User.objects.get(pk=user.pk).has_usable_password()


def test_wrong_codes_lock_the_account_out_like_wrong_passwords(client, bob, team, settings):
    member = Member.objects.get(full_name="Nguyễn Văn An")
    client.force_login(bob)
    code = codes_in(
        client.post(f"/campaigns/teams/{team.pk}/members/{member.pk}/account/").content.decode()
    )[0]
    guesser = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        first_login(guesser, "annv", "AAAA-AAAA")
    assert first_login(guesser, "annv", code).status_code == 429
    assert not User.objects.get(username="annv").has_usable_password()


def test_a_reset_ends_the_old_password_and_prints_a_new_card(client, bob, vy, team):
    client.force_login(bob)
    page = client.post(f"/campaigns/teams/{team.pk}/members/{vy.member.pk}/password-reset/")
    code = codes_in(page.content.decode())[0]
    vy.refresh_from_db()
    assert not vy.check_password(vy.raw_password)
    assert first_login(Client(), "vy", code).status_code == 302


def test_closing_an_account_deactivates_it(client, bob, vy, team):
    client.force_login(bob)
    client.post(f"/campaigns/teams/{team.pk}/members/{vy.member.pk}/close/")
    vy.refresh_from_db()
    assert not vy.is_active
    assert (
        Client()
        .post("/accounts/login/", {"username": "vy", "password": vy.raw_password})
        .status_code
        == 200
    )  # refused: the form comes back


def test_only_the_teams_own_managers_give_its_accounts(client, charlie, olivia, vy, team):
    member = Member.objects.get(full_name="Nguyễn Văn An")
    for other in (charlie, olivia, vy):
        client.force_login(other)
        for url in (
            f"/campaigns/teams/{team.pk}/accounts/",
            f"/campaigns/teams/{team.pk}/members/{member.pk}/account/",
            f"/campaigns/teams/{team.pk}/members/{vy.member.pk}/password-reset/",
            f"/campaigns/teams/{team.pk}/members/{vy.member.pk}/close/",
        ):
            assert client.post(url).status_code == 404, (other, url)
    assert not User.objects.filter(username="annv").exists()
    vy.refresh_from_db()
    assert vy.is_active and vy.check_password(vy.raw_password)


def test_a_province_admin_gives_unit_managers_their_accounts(client, alice, tree):
    client.force_login(alice)
    page = client.post(
        "/accounts/people/",
        {"full_name": "Phạm Quốc Huy", "role": "unit_manager", "unit": tree.xa_b.pk},
    )
    assert len(codes_in(page.content.decode())) == 1
    huy = User.objects.get(username="huypq")
    assert (huy.role, huy.unit) == ("unit_manager", tree.xa_b)


def test_nobody_gives_a_role_above_their_own_or_outside_their_unit(client, bob, tree):
    client.force_login(bob)
    for role, unit in (
        ("unit_manager", tree.xa_a),
        ("province_admin", tree.province),
        ("viewer", tree.xa_b),
        ("viewer", tree.district),
    ):
        page = client.post(
            "/accounts/people/", {"full_name": "Người Thử", "role": role, "unit": unit.pk}
        )
        assert page.status_code == 200 and not codes_in(page.content.decode()), (role, unit)
    assert not User.objects.filter(full_name="Người Thử").exists()
    # A viewer of his own commune he may give.
    page = client.post(
        "/accounts/people/", {"full_name": "Người Thử", "role": "viewer", "unit": tree.xa_a.pk}
    )
    assert len(codes_in(page.content.decode())) == 1


def test_a_commune_officer_cannot_reset_the_district_officer(client, bob, dan, alice):
    client.force_login(bob)
    for action in ("reset", "close", "revoke"):
        assert client.post(f"/accounts/people/{dan.pk}/{action}/").status_code == 404
        assert client.post(f"/accounts/people/{alice.pk}/{action}/").status_code == 404
        assert client.post(f"/accounts/people/{bob.pk}/{action}/").status_code == 404
    dan.refresh_from_db()
    assert dan.is_active and dan.check_password(dan.raw_password)


def test_login_names_come_from_names_without_diacritics_and_are_unique(db):
    assert username_suggest("Nguyễn Văn An") == "annv"
    assert username_suggest("Đỗ Thị Ánh Tuyết") == "tuyetdta"
    User.objects.create_user("annv")
    User.objects.create_user("annv2")
    assert username_suggest("Nguyễn Văn An") == "annv3"
    assert username_suggest("") == "thanhvien"
