"""Day one of a real province, in a real browser, from an empty installation (units loaded and
the province admin's account made on the command line, as docs say): the admin creates the
campaign and uploads the resident list, which a real background worker imports while the page
shows its progress; the admin gives a commune officer an account; the officer forms the team,
assigns a hamlet, gives every member an account and prints their cards; a volunteer logs in on
a phone with the code on their card, sets a password, lands on the field page and records a
visit; the commune's and the province's dashboards count it.

Set GOCUA_SCREENSHOTS=docs/screenshots to save the day-one-*.png screenshots."""

import csv
import datetime as dt
import os
import random
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone

from gocua.browser_testing import DESKTOP, PHONE, needs_chromium, shoot

PASSWORD = "mật-khẩu-ngày-đầu-2026"
ROWS = 3000

pytestmark = needs_chromium


def resident_list(path: Path, rows: int) -> None:
    """The list a province's police sends (synthetic people): Vietnamese headers after title
    rows, most people in four communes of Tây Ninh city, a household code per family."""
    from gocua.lib.nid import make

    rnd = random.Random(2026)
    communes = ["25456", "25456", "25459", "25462", "25465"]
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["CÔNG AN TỈNH TÂY NINH"])
        writer.writerow(["DANH SÁCH CÔNG DÂN"])
        writer.writerow(
            [
                "STT",
                "Số định danh cá nhân",
                "Họ và tên",
                "Ngày sinh",
                "Giới tính",
                "Số điện thoại",
                "Mã xã",
                "Khu phố",
                "Mã hộ",
                "Địa chỉ",
            ]
        )
        family = 0
        left = 0
        for i in range(rows):
            if left == 0:
                family += 1
                left = rnd.choice((1, 2, 3, 4, 5))
                commune = rnd.choice(communes)
                hamlet = f"Khu phố {rnd.randint(1, 4)}"
                address = f"{rnd.randint(1, 200)} đường số {rnd.randint(1, 20)}"
            left -= 1
            sex = rnd.choice("MF")
            year = rnd.randint(1940, 2010)
            writer.writerow(
                [
                    i + 1,
                    make(province_code="072", sex=sex, birth_year=year, serial=i),
                    f"{rnd.choice(['Nguyễn', 'Trần', 'Lê', 'Phạm'])} Văn {rnd.choice(['An', 'Bình', 'Chi'])}",
                    f"{rnd.randint(1, 28):02d}/{rnd.randint(1, 12):02d}/{year}",
                    "Nam" if sex == "M" else "Nữ",
                    "",
                    commune,
                    hamlet,
                    f"TN{family:06d}",
                    address,
                ]
            )


def _worker_env(settings) -> dict:
    db = connection.settings_dict
    env = {**os.environ, "GOCUA_FILES_DIR": str(settings.MEDIA_ROOT)}
    if connection.vendor == "sqlite":
        env["GOCUA_SQLITE_PATH"] = db["NAME"]
        env.pop("DATABASE_URL", None)
    else:
        env["DATABASE_URL"] = (
            f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
        )
    return env


@pytest.fixture
def worker(settings, transactional_db):
    settings.TASKS = {
        "default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default", "quick"]}
    }
    process = subprocess.Popen(
        [str(Path(sys.executable).parent / "gocua"), "worker", "--interval", "0.2"],
        env=_worker_env(settings),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    yield process
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()


def new_page(browser, viewport, errors):
    context = browser.new_context(viewport=viewport, timezone_id="Asia/Ho_Chi_Minh", locale="vi-VN")
    page = context.new_page()
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    return context, page


def card_of(page) -> tuple[str, str]:
    """(login name, one-time code) of the first card of a cards page."""
    card = page.locator(".login-card").first
    texts = card.locator("dd").all_inner_texts()
    return texts[1].strip(), texts[2].strip()


def first_login(page, url: str, username: str, code: str) -> None:
    page.goto(f"{url}/accounts/code/?u={username}")
    page.fill("#id_code", code)
    page.fill("#id_password1", PASSWORD)
    page.fill("#id_password2", PASSWORD)
    page.click("section.auth-box button[type=submit]")


def test_day_one_of_a_province(live_server, browser, worker, settings, tmp_path):
    from playwright.sync_api import expect

    from gocua.accounts.services import user_create
    from gocua.fieldwork.models import Visit
    from gocua.geo.models import AdminUnit
    from gocua.geo.services import units_load
    from gocua.people.models import Resident
    from gocua.reports import rollups
    from gocua.reports.models import RollupState

    # What the installer runs: gocua migrate (the rollups start built, empty), gocua units
    # load, gocua user create for the first account.
    units_load(province_code="72", edition=2023)
    RollupState.objects.all().delete()
    rollups.rollup_maintain()
    province = AdminUnit.objects.get(edition=2023, code="72")
    user_create(
        username="tinh",
        role="province_admin",
        unit=province,
        password=PASSWORD,
        full_name="Võ Thành Tỉnh",
    )
    url = live_server.url
    errors: list[str] = []

    # 1. The province admin creates the campaign and uploads the resident list.
    desk, admin = new_page(browser, DESKTOP, errors)
    admin.goto(f"{url}/accounts/login/")
    admin.fill("#id_username", "tinh")
    admin.fill("#id_password", PASSWORD)
    admin.press("#id_password", "Enter")
    admin.wait_for_url(f"{url}/")
    admin.goto(f"{url}/campaigns/new/")
    admin.fill("#id_name", "Cao điểm 60 ngày VNeID")
    admin.fill("#id_start_date", (timezone.localdate() - dt.timedelta(days=2)).isoformat())
    admin.click("form.panel button[type=submit]")
    expect(admin.locator("h1")).to_contain_text("Cao điểm 60 ngày VNeID")
    shoot(admin, "day-one-1-campaign")

    resident_list(tmp_path / "danh-sach.csv", ROWS)
    admin.goto(f"{url}/imports/")
    admin.select_option("#id_kind", "citizens")
    admin.set_input_files("#id_file", str(tmp_path / "danh-sach.csv"))
    admin.click("form.import-form button[type=submit]")
    admin.wait_for_url(re.compile(r".*/imports/\d+/$"))
    expect(admin.locator("#job-progress")).to_contain_text("Xong", timeout=120_000)
    shoot(admin, "day-one-2-import")
    assert Resident.objects.count() == ROWS

    # 2. The admin gives the officer of Phường 1 an account: a login card, no password.
    admin.goto(f"{url}/accounts/people/")
    admin.fill("#id_full_name", "Lê Minh Tâm")
    admin.select_option("#id_role", "unit_manager")
    admin.select_option("#id_unit", label="Phường 1 (25456)")
    admin.click("form button.btn")
    expect(admin.locator(".login-card")).to_have_count(1)
    shoot(admin, "day-one-3-officer-card")
    officer_name, officer_code = card_of(admin)

    # 3. The officer forms the team, assigns a hamlet, gives every member an account.
    office, officer = new_page(browser, DESKTOP, errors)
    first_login(officer, url, officer_name, officer_code)
    officer.wait_for_url(f"{url}/fieldwork/today/")  # a commune officer lands on their day
    officer.goto(f"{url}/campaigns/teams/")
    officer.click("text=Lập các tổ còn thiếu")
    officer.locator("table a", has_text="Tổ").first.click()
    for name, affiliation in (
        ("Trần Quốc Huy", "police"),
        ("Nguyễn Thị Mai", "youth_union"),
        ("Phạm Văn Đức", "youth_union"),
    ):
        officer.fill("#id_full_name", name)
        officer.select_option("#id_affiliation", affiliation)
        officer.click("form:has(#id_full_name) button[type=submit]")
        expect(officer.locator("table")).to_contain_text(name)
    team_url = officer.url
    officer.click("text=Phân công địa bàn")
    officer.locator('input[aria-label="Khu phố 1 – Nguyễn Thị Mai"]').check()
    officer.click("text=Lưu phân công")
    officer.goto(team_url)
    officer.click("text=Cấp tài khoản cho 3 thành viên và in thẻ")
    expect(officer.locator(".login-card")).to_have_count(3)
    shoot(officer, "day-one-4-team-cards")
    cards = {
        card.locator("dd").nth(0).inner_text().strip(): (
            card.locator("dd").nth(1).inner_text().strip(),
            card.locator("dd").nth(2).inner_text().strip(),
        )
        for card in officer.locator(".login-card").all()
    }
    mai_name, mai_code = cards["Nguyễn Thị Mai"]

    # 4. Mai logs in on her phone with her card, lands on the field page, records a visit.
    pocket, phone = new_page(browser, PHONE, errors)
    first_login(phone, url, mai_name, mai_code)
    phone.wait_for_url(f"{url}/field/")
    expect(phone.locator("#households .household").first).to_be_visible()
    shoot(phone, "day-one-5-field")
    phone.locator("#households .household").first.click()
    phone.locator("#residents .resident").first.click()
    phone.locator("#sheet-outcomes .outcome-button").nth(1).click()  # helped_activate
    phone.click("#save")
    phone.click(".tab[data-view=outbox]")
    expect(phone.locator("#sent .visit")).to_have_count(1, timeout=30_000)
    expect(phone.locator("#outbox-count")).to_have_text("0")
    assert Visit.objects.filter(member__full_name="Nguyễn Thị Mai").count() == 1

    # 5. The commune's and the province's dashboards count it.
    for page, code, shot in (
        (officer, "25456", "6-commune-dashboard"),
        (admin, "72", "7-province-dashboard"),
    ):
        reached = page.locator(".card", has_text="Hộ đã đến").locator("b")
        # The worker counts the visit within seconds (a busy machine: more); the page shows
        # the figures as of its last count, so the officer reloads until it is there.
        for _ in range(60):
            page.goto(f"{url}/dashboard/2023/{code}/")
            if reached.inner_text() == "1":
                break
            page.wait_for_timeout(500)
        expect(reached).to_have_text("1")
        shoot(page, f"day-one-{shot}")
    assert not errors, errors
    for context in (desk, office, pocket):
        context.close()
