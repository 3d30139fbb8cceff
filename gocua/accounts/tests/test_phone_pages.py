"""Every page of every role on a phone (390 x 844), in a real browser (Playwright driving
Debian's chromium): no page is wider than the screen, no page logs an error, and every target
of the menu is at least 44 px tall. Also the desktop (1366 px) stays one screen wide.

Set GOCUA_SCREENSHOTS=docs/screenshots to save the phone-*.png screenshots."""

import datetime as dt
import os
from pathlib import Path

import pytest
from django.utils import timezone

from gocua.browser_testing import DESKTOP, PHONE, needs_chromium, shoot
from gocua.campaigns.tests.conftest import campaign, household_factory, team_a  # noqa: F401

MIN_TAP = 44

pytestmark = needs_chromium


@pytest.fixture
def unit_data(tree, bob, vy, campaign, team_a, household_factory, resident_factory):  # noqa: F811
    """A commune's work in progress, with long names and addresses (what breaks a phone
    layout): households visited and not, follow-ups due and late, home support scheduled,
    a claim, a death to confirm, a move, a training, an outreach event, a finished import,
    and a member whose phone has not synced for three days."""
    from gocua.accounts.models import ApiToken
    from gocua.accounts.services import token_create
    from gocua.campaigns.models import Assignment, Member
    from gocua.fieldwork.models import (
        FollowUp,
        HomeSupportRequest,
        OutreachEvent,
        TrainingAttendance,
        TrainingSession,
        Visit,
        VisitOutcome,
    )
    from gocua.imports.models import ImportJob
    from gocua.people.models import ResidentMove

    now = timezone.now()
    today = timezone.localdate()
    d = type("Data", (), {})()
    d.home = household_factory(tree.kp1, address="123/45/6 Đường Nguyễn Văn Cừ nối dài, Tổ 12")
    d.other = household_factory(tree.kp2, address="7 Hẻm 3 Đường Cách Mạng Tháng Tám")
    household_factory(tree.kp2, address="9 Hẻm 3 Đường Cách Mạng Tháng Tám")
    d.old = resident_factory(
        tree.kp1,
        name="Nguyễn Thị Ngọc Bích Phượng Hoàng",
        born=dt.date(1938, 2, 1),
        household=d.home,
        elderly=True,
        no_smartphone=True,
    )
    d.young = resident_factory(tree.kp1, name="Trần Văn Bình", household=d.home, stage="registered")
    d.gone = resident_factory(tree.kp2, name="Lê Văn Cường", household=d.other)
    d.member = Member.objects.get(user=vy)
    d.police = Member.objects.create(
        team=team_a, full_name="Phạm Quốc Trung Kiên", affiliation="police", user=bob
    )
    Assignment.objects.create(member=d.member, hamlet=tree.kp2)
    visit = Visit.objects.create(household=d.home, member=d.member, recorded_by=vy, at=now)
    VisitOutcome.objects.create(
        visit=visit, resident=d.young, outcome="helped_activate", claimed_stage="activated"
    )
    VisitOutcome.objects.create(visit=visit, resident=d.old, outcome="needs_home_support")
    gone_visit = Visit.objects.create(household=d.other, member=d.member, at=now)
    VisitOutcome.objects.create(visit=gone_visit, resident=d.gone, outcome="deceased")
    for due, reason in ((today, "Hẹn buổi tối khi cả nhà có mặt"), (today - dt.timedelta(3), "")):
        FollowUp.objects.create(
            household=d.home,
            resident=d.young,
            member=d.member,
            due_date=due,
            time_of_day="evening",
            reason=reason,
        )
    d.support = HomeSupportRequest.objects.create(
        resident=d.old,
        reason="Cụ bà nằm liệt giường, cần thu nhận sinh trắc tại nhà",
        status="scheduled",
        requested_at=now - dt.timedelta(days=4),
        scheduled_for=today,
    )
    d.support.officers.add(d.police)
    d.training = TrainingSession.objects.create(
        unit=tree.xa_a, date=today, topic="process", organiser="Công an tỉnh Tây Ninh"
    )
    TrainingAttendance.objects.create(session=d.training, member=d.member, name="Lê Thị Vy")
    OutreachEvent.objects.create(
        unit=tree.xa_a,
        kind="market",
        place="Chợ Phường 1 (khu nhà lồng chính)",
        date=today,
        people_reached=120,
        dossiers_collected=14,
        activations_helped=9,
    )
    ResidentMove.objects.create(
        resident=d.gone, from_unit=tree.kp2, to_unit=tree.kp1, at=now, recorded_by=bob
    )
    d.job = ImportJob.objects.create(
        kind="citizens",
        file_name="danh-sach-cong-dan-phuong-1-thang-12-2026-ban-cuoi.xlsx",
        user=bob,
        edition=2023,
        status="done",
        finished_at=now,
        rows=3000,
        inserted=2990,
        rejected=10,
    )
    token_create(user=vy, campaign_deadline=None)
    ApiToken.objects.filter(user=vy).update(last_used_at=now - dt.timedelta(days=3))
    return d


def pages_of(role: str, d, tree) -> list[str]:
    """The pages a role opens (with ids from `unit_data`)."""
    unit = f"2023/{tree.xa_a.code}"
    team = d.member.team_id
    common = [
        "/",
        f"/units/{unit}/",
        "/dashboard/",
        f"/dashboard/{unit}/",
        "/reconciliation/",
        f"/reconciliation/{unit}/",
        "/campaigns/",
        "/accounts/password/",
        "/accounts/password/done/",
    ]
    if role == "viewer":
        return [*common, "/campaigns/teams/", "/fieldwork/outreach/"]
    if role == "field_member":
        return [
            *common,
            "/fieldwork/worklist/",
            f"/fieldwork/households/{d.home.pk}/visit/",
            "/fieldwork/follow-ups/",
            "/fieldwork/follow-ups/?due=overdue",
        ]
    manager = [
        *common,
        "/fieldwork/today/",
        "/fieldwork/worklist/",
        f"/fieldwork/households/{d.home.pk}/visit/",
        "/fieldwork/follow-ups/",
        "/fieldwork/follow-ups/?due=overdue",
        "/fieldwork/home-support/",
        f"/fieldwork/home-support/{d.support.pk}/",
        "/fieldwork/to-confirm/",
        "/fieldwork/claims/",
        "/fieldwork/outreach/",
        "/fieldwork/outreach/new/",
        "/fieldwork/trainings/",
        "/fieldwork/trainings/new/",
        f"/fieldwork/trainings/{d.training.pk}/",
        "/campaigns/teams/",
        f"/campaigns/teams/{team}/",
        f"/campaigns/teams/{team}/assignments/",
        f"/campaigns/teams/{team}/members/{d.member.pk}/",
        f"/campaigns/{d.member.team.campaign_id}/",
        "/residents/",
        "/residents/?q=Nguy%E1%BB%85n",
        f"/residents/{d.old.pk}/",
        "/residents/moves/",
        "/imports/",
        f"/imports/{d.job.pk}/",
        "/accounts/people/",
    ]
    if role == "province_admin":
        return [*manager, "/accounts/audit/", "/campaigns/new/", "/dashboard/2023/72/"]
    return [*manager, f"/fieldwork/worklist/?hamlet={tree.kp1.pk}"]


# The main pages, saved as docs/screenshots/phone-<name>.png.
SHOTS = {
    "/fieldwork/today/": "today",
    "/fieldwork/worklist/": "worklist",
    "/": "kpi",
    "/fieldwork/follow-ups/": "follow-ups",
    "/fieldwork/home-support/": "home-support",
    "/campaigns/teams/": "teams",
    "/dashboard/": "dashboard",
    "/residents/": "residents",
    "/fieldwork/claims/": "claims",
}


def watch(page) -> list[str]:
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(f"{msg.text}") if msg.type == "error" else None)
    return errors


def log_in(page, url: str, user) -> None:
    page.goto(url + "/accounts/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", user.raw_password)
    page.press("#id_password", "Enter")
    page.wait_for_load_state()
    assert "/accounts/login/" not in page.url


def too_wide(page, width: int) -> int | None:
    """The page's width when it is wider than the screen, else None."""
    scroll = page.evaluate("document.documentElement.scrollWidth")
    return scroll if scroll > width else None


def small_menu_targets(page) -> list[str]:
    """Open the menu with its button and list the targets in it shorter than MIN_TAP."""
    button = page.locator("header.top summary.menu-button")
    targets = [button]
    button.click()
    page.locator("header.top .menu-body").wait_for(state="visible")
    targets += page.locator(
        "header.top .menu-body a:visible, header.top .menu-body summary:visible,"
        " header.top .menu-body button:visible"
    ).all()
    small = []
    for target in targets:
        box = target.bounding_box()
        if box is None or box["height"] < MIN_TAP:
            small.append(f"{target.inner_text().strip()!r}: {box and box['height']:.0f}px")
    button.click()
    return small


@pytest.mark.parametrize("role", ["unit_manager", "province_admin", "field_member", "viewer"])
def test_every_page_of_every_role_fits_a_phone(
    role, live_server, browser, unit_data, tree, bob, alice, vy, olivia
):
    user = {"unit_manager": bob, "province_admin": alice, "field_member": vy, "viewer": olivia}[
        role
    ]
    context = browser.new_context(viewport=PHONE, timezone_id="Asia/Ho_Chi_Minh", locale="vi-VN")
    page = context.new_page()
    errors = watch(page)
    log_in(page, live_server.url, user)
    problems = []
    for path in pages_of(role, unit_data, tree):
        response = page.goto(live_server.url + path)
        assert response.status == 200, f"{role} {path}: {response.status}"
        if (width := too_wide(page, PHONE["width"])) is not None:
            problems.append(f"{path}: {width}px wide")
        if small := small_menu_targets(page):
            problems.append(f"{path}: small menu targets {small}")
        if errors:
            problems.append(f"{path}: {errors[:]}")
            errors.clear()
        if role == "unit_manager" and path in SHOTS:
            shoot(page, f"phone-{SHOTS[path]}")
    if role == "unit_manager":
        page.goto(live_server.url + f"/fieldwork/households/{unit_data.home.pk}/visit/")
        shoot(page, "phone-visit")
        page.locator("header.top summary.menu-button").click()
        shoot(page, "phone-menu")
    context.close()
    assert not problems, "\n".join(problems)


def test_pages_without_an_account_fit_a_phone(live_server, browser, db):
    context = browser.new_context(viewport=PHONE, timezone_id="Asia/Ho_Chi_Minh", locale="vi-VN")
    page = context.new_page()
    errors = watch(page)
    for path, status in (("/accounts/login/", 200), ("/accounts/code/", 200), ("/no-page/", 404)):
        response = page.goto(live_server.url + path)
        assert response.status == status, path
        assert too_wide(page, PHONE["width"]) is None, path
        # No menu without an account: the language switch alone, at thumb size.
        assert page.locator("header.top summary.menu-button").count() == 0
        for button in page.locator("header.top form.lang button").all():
            assert button.bounding_box()["height"] >= MIN_TAP, path
    shoot(page, "phone-not-found")
    page.goto(live_server.url + "/accounts/login/")
    shoot(page, "phone-login")
    # The 404 page logs the browser's own "Failed to load resource" for its status: expected.
    assert [e for e in errors if "404" not in e] == []
    context.close()


def test_the_menu_opens_and_closes_and_the_desktop_keeps_one_row(
    live_server, browser, unit_data, bob
):
    """On a phone the menu starts closed behind its button; on a desktop its groups sit in the
    header's one row and open one at a time."""
    from playwright.sync_api import expect

    context = browser.new_context(viewport=PHONE, timezone_id="Asia/Ho_Chi_Minh", locale="vi-VN")
    page = context.new_page()
    log_in(page, live_server.url, bob)
    assert page.url.endswith("/fieldwork/today/")  # a unit manager lands on their day
    header = page.locator("header.top").bounding_box()
    assert header["height"] < 70, header  # one row: the brand and the menu button
    menu = page.locator("header.top .menu-body")
    expect(menu).to_be_hidden()
    page.locator("header.top summary.menu-button").click()
    expect(page.get_by_role("link", name="Hỗ trợ tại nhà", exact=True)).to_be_visible()
    page.get_by_role("link", name="Tập huấn", exact=True).click()
    page.wait_for_url("**/fieldwork/trainings/")
    context.close()

    context = browser.new_context(viewport=DESKTOP, timezone_id="Asia/Ho_Chi_Minh", locale="vi-VN")
    page = context.new_page()
    errors = watch(page)
    log_in(page, live_server.url, bob)
    assert page.locator("header.top").bounding_box()["height"] < 70
    assert not page.locator("header.top summary.menu-button").is_visible()
    groups = page.locator("header.top details.menu-group > summary")
    groups.nth(0).click()
    expect(page.get_by_role("link", name="Hỗ trợ tại nhà", exact=True)).to_be_visible()
    groups.nth(1).click()  # one drop-down at a time
    expect(page.get_by_role("link", name="Hỗ trợ tại nhà", exact=True)).to_be_hidden()
    expect(page.get_by_role("link", name="Tập huấn", exact=True)).to_be_visible()
    page.keyboard.press("Escape")
    expect(page.get_by_role("link", name="Tập huấn", exact=True)).to_be_hidden()
    for path, name in (
        ("/fieldwork/today/", "today"),
        ("/fieldwork/worklist/", "worklist"),
        (f"/fieldwork/households/{unit_data.home.pk}/visit/", "visit"),
        ("/campaigns/teams/", "teams"),
        ("/dashboard/", "dashboard"),
    ):
        page.goto(live_server.url + path)
        assert too_wide(page, DESKTOP["width"]) is None, path
        if os.environ.get("GOCUA_SCREENSHOTS_DESKTOP"):
            Path(os.environ["GOCUA_SCREENSHOTS_DESKTOP"]).mkdir(parents=True, exist_ok=True)
            page.screenshot(
                path=f"{os.environ['GOCUA_SCREENSHOTS_DESKTOP']}/desktop-{name}.png",
                full_page=True,
            )
    assert not errors, errors
    context.close()
