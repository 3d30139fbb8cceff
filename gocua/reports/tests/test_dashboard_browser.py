"""The province dashboard's KPI cards in a real browser (Playwright driving Debian's chromium):
on a phone (390 px) a card's status chip covers neither its rate nor its label and the page
does not scroll sideways; on a desktop the chip stays in the card's top right corner.

Set GOCUA_SCREENSHOTS=<folder> to save dashboard-cards-phone.png and dashboard-cards-desktop.png."""

import pytest

from gocua.browser_testing import DESKTOP, PHONE, needs_chromium, shoot
from gocua.reports.tests.test_dashboard_views import populate

pytestmark = needs_chromium

# What each KPI card shows, as the template marks it up: the rate, the label, the status chip.
# The rate and the label are measured as the text they show (a range over it): the rate's <b> is
# a block as wide as the card, though its figure takes a third of it.
BOXES = """() => {
  const box = (r) => ({x: r.left, y: r.top, right: r.right, bottom: r.bottom});
  const text = (el) => { const range = document.createRange(); range.selectNodeContents(el);
                         return box(range.getBoundingClientRect()); };
  return [...document.querySelectorAll('.cards .card')]
    .filter((card) => card.querySelector('.chip'))
    .map((card) => ({card: box(card.getBoundingClientRect()),
                     rate: text(card.querySelector('b')),
                     label: text(card.querySelector('span')),
                     chip: box(card.querySelector('.chip').getBoundingClientRect())}));
}"""


def overlap(a: dict, b: dict) -> bool:
    """Whether two boxes share any area (touching edges do not count)."""
    return (
        a["x"] < b["right"]
        and b["x"] < a["right"]
        and a["y"] < b["bottom"]
        and b["y"] < a["bottom"]
    )


def open_dashboard(browser, live_server, user, viewport: dict):
    context = browser.new_context(viewport=viewport, timezone_id="Asia/Ho_Chi_Minh", locale="vi-VN")
    page = context.new_page()
    page.goto(live_server.url + "/accounts/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", user.raw_password)
    page.press("#id_password", "Enter")
    page.wait_for_load_state()
    page.goto(live_server.url + "/dashboard/2023/72/")
    return context, page


@pytest.fixture
def data(tree, teams):
    populate(tree, teams, per_hamlet=12)


def test_on_a_phone_the_status_chip_covers_neither_the_rate_nor_the_label(
    live_server, browser, data, alice
):
    context, page = open_dashboard(browser, live_server, alice, PHONE)
    cards = page.evaluate(BOXES)
    shoot(page, "dashboard-cards-phone", full_page=False)
    width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    context.close()
    assert len(cards) == 3, cards  # registration, activation, usage
    for card in cards:
        assert not overlap(card["chip"], card["rate"]), card
        assert not overlap(card["chip"], card["label"]), card
        assert card["chip"]["right"] <= card["card"]["right"], card
    assert width[0] <= width[1] == PHONE["width"], width


def test_on_a_desktop_the_status_chip_stays_in_the_top_right_corner(
    live_server, browser, data, alice
):
    context, page = open_dashboard(browser, live_server, alice, DESKTOP)
    cards = page.evaluate(BOXES)
    shoot(page, "dashboard-cards-desktop", full_page=False)
    context.close()
    assert len(cards) == 3, cards
    for card in cards:
        # .7rem (11.2 px) inside the card's top and right borders (1 px, 2 px on the chosen card).
        assert 12 <= card["card"]["right"] - card["chip"]["right"] <= 14, card
        assert 12 <= card["chip"]["y"] - card["card"]["y"] <= 14, card
        assert not overlap(card["chip"], card["rate"]), card
