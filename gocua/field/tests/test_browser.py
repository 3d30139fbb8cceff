"""The field page in a real browser (Playwright driving Debian's chromium, no download): log in,
download the worklist, go offline, record visits, reload offline, come back, sync.

Set GOCUA_SCREENSHOTS=docs/screenshots to save the phone-size screenshots of the README."""

import time

import pytest

from gocua.browser_testing import needs_chromium, shoot
from gocua.fieldwork.models import Visit

PHONE = {"width": 360, "height": 740}

pytestmark = needs_chromium


@pytest.fixture
def street(homes, tree, household_factory, resident_factory):
    """A third household in Vy's hamlet, so that three visits go to three homes."""
    homes.h3 = household_factory(tree.kp1, address="16 Hẻm 3")
    homes.hoa = resident_factory(tree.kp1, name="Ngô Thị Hoa", sex="F", household=homes.h3)
    return homes


def log_in(page, url, user):
    from playwright.sync_api import expect

    page.goto(url + "/field/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", user.raw_password)
    page.press("#id_password", "Enter")
    page.wait_for_url("**/field/")
    expect(page.locator("#households .household").first).to_be_visible(timeout=20_000)


def wait_controlled(page):
    """The service worker controls the page: it can now be reloaded with no network."""
    deadline = time.monotonic() + 20
    while not page.evaluate("navigator.serviceWorker.controller !== null"):
        assert time.monotonic() < deadline, "the service worker never took control"
        page.wait_for_timeout(200)


def record(page, address, outcome_index, *, shot=None):
    """Two taps for the resident (the resident, then the outcome), then save the visit."""
    from playwright.sync_api import expect

    page.locator("#households .household", has_text=address).click()
    page.locator("#residents .resident").first.click()
    page.locator("#sheet-outcomes .outcome-button").nth(outcome_index).click()
    if shot:
        shoot(page, f"field-{shot}", full_page=False)
    page.click("#save")
    expect(page.locator("#view-list")).to_be_visible()


def test_it_works_offline_and_syncs_when_back_online(live_server, browser, vy, street):
    from playwright.sync_api import expect

    context = browser.new_context(viewport=PHONE, timezone_id="Asia/Ho_Chi_Minh", locale="vi-VN")
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    log_in(page, live_server.url, vy)
    expect(page.locator("#households .household")).to_have_count(3)
    # Masked IDs only, on the page and in the phone's storage.
    page.locator("#households .household", has_text="12 Hẻm 3").click()
    expect(page.locator("#residents")).to_contain_text(street.an.national_id[:3] + "******")
    assert street.an.national_id not in page.content()
    page.click("#back")
    wait_controlled(page)
    shoot(page, "field-online", full_page=False)

    context.set_offline(True)
    expect(page.locator("#net")).to_have_text("Ngoại tuyến")
    before = Visit.objects.count()
    record(page, "12 Hẻm 3", 0, shot="household")  # helped_register
    record(page, "14 Hẻm 3", 5)  # not_home
    record(page, "16 Hẻm 3", 1)  # helped_activate
    expect(page.locator("#outbox-count")).to_have_text("3")
    assert Visit.objects.count() == before  # nothing left the phone

    page.reload()  # offline: the service worker serves the page, IndexedDB keeps the work
    expect(page.locator("#households .household")).to_have_count(3, timeout=20_000)
    expect(page.locator("#outbox-count")).to_have_text("3")
    page.click(".tab[data-view=outbox]")
    expect(page.locator("#outbox .visit.waiting")).to_have_count(3)
    shoot(page, "field-offline", full_page=False)
    assert Visit.objects.count() == before

    context.set_offline(False)  # the "online" event sends the outbox at once
    expect(page.locator("#outbox-count")).to_have_text("0", timeout=20_000)
    expect(page.locator("#sent .visit")).to_have_count(3)
    shoot(page, "field-synced", full_page=False)
    visits = Visit.objects.filter(member__user=vy)
    assert visits.count() == before + 3
    assert set(visits.values_list("household__address", flat=True)) == {
        "12 Hẻm 3",
        "14 Hẻm 3",
        "16 Hẻm 3",
    }
    assert not errors, errors
    context.close()


def test_it_shows_the_server_s_reason_for_a_rejected_visit(live_server, browser, vy, street, tree):
    from playwright.sync_api import expect

    from gocua.campaigns.models import Assignment

    # Vy also walks Khu phố 2 (where `homes.kp2`, "3 Đường Số 2", is) when she downloads.
    Assignment.objects.create(member=vy.member, hamlet=tree.kp2)
    context = browser.new_context(viewport=PHONE, timezone_id="Asia/Ho_Chi_Minh", locale="vi-VN")
    page = context.new_page()
    log_in(page, live_server.url, vy)
    context.set_offline(True)
    record(page, "3 Đường Số 2", 6)
    record(page, "12 Hẻm 3", 6)
    # Meanwhile the officer gives Khu phố 2 to someone else.
    Assignment.objects.filter(member=vy.member, hamlet=tree.kp2).delete()
    context.set_offline(False)
    page.click(".tab[data-view=outbox]")
    rejected = page.locator("#outbox .visit.rejected")
    expect(rejected).to_have_count(1, timeout=20_000)
    expect(rejected).to_contain_text("không thuộc địa bàn được phân công")
    expect(page.locator("#sent .visit")).to_have_count(1)
    assert list(Visit.objects.values_list("household__address", flat=True)) == ["12 Hẻm 3"]
    # The member dismisses it; it leaves the outbox.
    page.on("dialog", lambda dialog: dialog.accept())
    rejected.get_by_role("button").click()
    expect(page.locator("#outbox .visit")).to_have_count(0)

    # A cursor the server cannot read (e.g. its key changed) makes the page pull everything.
    put_meta(page, "cursor", "not-a-cursor")
    page.click(".tab[data-view=list]")
    page.click("#pull")
    expect(page.locator("#households .household")).to_have_count(3)
    deadline = time.monotonic() + 20
    while get_meta(page, "cursor") == "not-a-cursor":
        assert time.monotonic() < deadline, "the page kept the unreadable cursor"
        page.wait_for_timeout(200)
    context.close()


def put_meta(page, key, value):
    """Writes the page's IndexedDB through the DevTools protocol (not subject to the CSP)."""
    page.evaluate(
        """([key, value]) => new Promise((ok, fail) => {
          const open = indexedDB.open("gocua-field");
          open.onsuccess = () => {
            const tx = open.result.transaction("meta", "readwrite");
            tx.objectStore("meta").put(value, key);
            tx.oncomplete = () => ok(true);
            tx.onerror = () => fail(tx.error);
          };
        })""",
        [key, value],
    )


def get_meta(page, key):
    return page.evaluate(
        """(key) => new Promise((ok) => {
          const open = indexedDB.open("gocua-field");
          open.onsuccess = () => {
            const get = open.result.transaction("meta").objectStore("meta").get(key);
            get.onsuccess = () => ok(get.result);
          };
        })""",
        key,
    )


def test_a_revoked_phone_asks_to_log_in_again_and_keeps_its_outbox(
    live_server, browser, vy, street
):
    """The officer revokes a lost phone while it holds an unsent visit: the page asks to log in
    again, the visit waits in the outbox, and after the login it is sent once."""
    from playwright.sync_api import expect

    from gocua.accounts.services import tokens_revoke_all

    context = browser.new_context(viewport=PHONE, timezone_id="Asia/Ho_Chi_Minh", locale="vi-VN")
    page = context.new_page()
    log_in(page, live_server.url, vy)
    wait_controlled(page)
    context.set_offline(True)
    record(page, "12 Hẻm 3", 5)  # not_home
    expect(page.locator("#outbox-count")).to_have_text("1")

    tokens_revoke_all(user=vy, by=None, reason="lost_phone")
    context.set_offline(False)
    expect(page.locator("#banner")).to_contain_text("đăng nhập lại", timeout=20_000)
    expect(page.locator("#outbox-count")).to_have_text("1")
    assert not Visit.objects.filter(member__user=vy).exists()

    page.locator("#banner a").click()  # the session ended too: the login page asks again
    page.fill("#id_username", vy.username)
    page.fill("#id_password", vy.raw_password)
    page.press("#id_password", "Enter")
    page.wait_for_url("**/field/")
    page.click(".tab[data-view=outbox]")
    expect(page.locator("#sent .visit")).to_have_count(1, timeout=20_000)
    expect(page.locator("#outbox-count")).to_have_text("0")
    assert Visit.objects.filter(member__user=vy).count() == 1
    context.close()
