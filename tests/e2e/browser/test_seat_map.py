"""The shows list and the seat map, for a show made the way an operator makes one: the admin CLI."""
import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from .conftest import DESKTOP, PHONE, RESULTS_DIR, http_status_logged, show_link

pytestmark = pytest.mark.browser


def test_seat_map_matches_the_api(open_page, admin_show, api):
    show = admin_show(name="Admin CLI Premiere", rows=4, seats_per_row=9)
    status, _, body = api("GET", f"/shows/{show['id']}/seats")
    assert status == 200
    seats = body["seats"]

    page = open_page(None)
    requested = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto(f"/?show={show['id']}")
    expect(page.get_by_role("heading", level=1)).to_have_text("Admin CLI Premiere")
    buttons = page.locator("button[data-seat-id]")
    expect(buttons).to_have_count(len(seats))
    rendered = buttons.evaluate_all(
        "els => els.map(b => [b.dataset.seatId, b.getAttribute('aria-label'), b.textContent.trim(), b.disabled])")
    assert rendered == [[seat["id"], f"Row {seat['row']} seat {seat['number']}, available", str(seat["number"]), False]
                        for seat in seats]
    # Every seat is reachable by its accessible name, the way a screen reader user finds it.
    expect(page.get_by_role("button", name="Row D seat 9, available", exact=True)).to_be_visible()
    for row in "ABCD":
        expect(page.get_by_role("group", name=f"Row {row}")).to_be_visible()
    expect(page.locator(".stage")).to_have_text(re.compile("stage", re.I))
    expect(page.get_by_role("list", name="Legend")).to_contain_text("Available")
    expect(page.get_by_role("list", name="Legend")).to_contain_text("Selected")
    expect(page.get_by_role("list", name="Legend")).to_contain_text("Booked")
    expect(page.locator("[data-role=seats-left]")).to_have_text("36 seats left of 36")
    # Every asset comes from the project itself: no CDN, no web fonts.
    origin = page.evaluate("location.origin")
    assert requested and all(url.startswith(origin + "/") for url in requested), requested
    assert any(url.endswith("/config.js") for url in requested)


def test_booked_seats_are_disabled_and_named_booked(open_page, show, api):
    seats = api("GET", f"/shows/{show.id}/seats")[2]["seats"]
    taken = seats[3]
    status, _, _ = api("POST", f"/shows/{show.id}/bookings", {"userId": "someone", "seatIds": [taken["id"]]})
    assert status == 201

    page = open_page(f"/?show={show.id}")
    seat = page.locator(f"button[data-seat-id='{taken['id']}']")
    expect(seat).to_have_accessible_name(f"Row {taken['row']} seat {taken['number']}, booked")
    expect(seat).to_be_disabled()
    expect(page.locator("[data-role=seats-left]")).to_have_text(f"{len(seats) - 1} seats left of {len(seats)}")


def test_shows_list_links_to_the_seat_map(open_page, admin_show):
    show = admin_show(name="Listed <b>Show</b> & Co", rows=2, seats_per_row=5)
    page = open_page("/")
    link = show_link(page, "Listed <b>Show</b> & Co")
    expect(link).to_be_visible()  # a name with markup is shown as text, never parsed
    expect(link).to_contain_text("10 seats left of 10")
    link.click()
    expect(page).to_have_url(re.compile(rf"\?show={show['id']}$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Listed <b>Show</b> & Co")
    expect(page.locator("button[data-seat-id]")).to_have_count(10)
    page.go_back()
    expect(page.get_by_role("heading", level=1)).to_have_text("Upcoming shows")


def test_unknown_show_says_so(open_page):
    page = open_page("/?show=00000000-0000-4000-8000-000000000000", name="unknown",
                     expected_errors=http_status_logged(404))
    expect(page.get_by_text("We can't find this show.")).to_be_visible()


@pytest.mark.parametrize("size_name,viewport", [("desktop", DESKTOP), ("phone", PHONE)])
def test_screenshot(open_page, admin_show, api, size_name, viewport):
    """Saves the seat map as a picture: test-results/screenshot-<size>.png (or MODEX_SCREENSHOT_DIR)."""
    show = admin_show(name="Modex Demo Night", rows=8, seats_per_row=12, start="2030-05-03T19:30:00Z")
    seats = api("GET", f"/shows/{show['id']}/seats")[2]["seats"]
    for group in ([5, 6], [30, 31, 32, 33], [70], [88, 89]):
        api("POST", f"/shows/{show['id']}/bookings", {"userId": "demo", "seatIds": [seats[i]["id"] for i in group]})
    page = open_page(f"/?show={show['id']}", viewport=viewport, name=size_name)
    expect(page.locator("button[data-seat-id]")).to_have_count(96)
    page.evaluate("localStorage.setItem('modex.userId', JSON.stringify('ada@example.com'))")
    page.reload()
    for index in (43, 44):
        page.locator(f"button[data-seat-id='{seats[index]['id']}']").click()
    # No page should scroll sideways; only the seat map may, when a hall is wider than a phone.
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.mouse.move(0, 0)  # no hover highlight in the picture
    directory = Path(os.environ.get("MODEX_SCREENSHOT_DIR", RESULTS_DIR))
    directory.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(directory / f"screenshot-{size_name}.png"), full_page=True)


VISIBLE_IN_MAP = """(selector) => {
    const box = (element) => element.getBoundingClientRect();
    const map = box(document.querySelector('.map-scroll'));
    return Array.from(document.querySelectorAll(selector)).every((element) => {
        const b = box(element);
        return b.width > 0 && b.left >= map.left - 1 && b.right <= map.right + 1;
    });
}"""


@pytest.mark.parametrize("size_name,viewport", [("desktop", DESKTOP), ("phone", PHONE)])
def test_a_wide_room_keeps_its_bearings(open_page, admin_show, api, size_name, viewport):
    """26 rows of 100 seats: only the map scrolls sideways, and the stage, the row labels and
    (on a phone) the selection and Book stay in view."""
    show = admin_show(name=f"Wide Hall ({size_name})", rows=26, seats_per_row=100)
    seats = api("GET", f"/shows/{show['id']}/seats")[2]["seats"]
    booked = seats[1]
    assert api("POST", f"/shows/{show['id']}/bookings", {"userId": "early", "seatIds": [booked["id"]]})[0] == 201
    page = open_page(f"/?show={show['id']}", viewport=viewport, name=size_name)
    expect(page.locator("button[data-seat-id]")).to_have_count(2600)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")

    # The map scrolled to its middle: the word Stage and every row label are still in sight.
    page.evaluate("""() => { const map = document.querySelector('.map-scroll');
                            map.scrollLeft = (map.scrollWidth - map.clientWidth) / 2; }""")
    assert page.evaluate("document.querySelector('.map-scroll').scrollLeft > 1000")
    assert page.evaluate(VISIBLE_IN_MAP, ".stage span")
    assert page.evaluate(VISIBLE_IN_MAP, ".seat-row > .row-label:first-child")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")

    # A seat in the middle of the map: the selection and Book are on screen without scrolling.
    middle = seats[1250]
    page.locator(f"button[data-seat-id='{middle['id']}']").click()
    book = page.get_by_role("button", name=re.compile("^Book"))
    expect(book).to_have_text("Book 1 seat")
    expect(book).to_be_in_viewport()
    expect(page.locator("[data-role=selection-count]")).to_be_in_viewport()

    # A booked seat reads as its number (not struck through) and differs in more than colour.
    number = page.locator(f"button[data-seat-id='{booked['id']}'] .seat-number")
    expect(number).to_have_text(str(booked["number"]))
    assert number.evaluate("n => getComputedStyle(n).textDecorationLine") == "none"
    assert "gradient" in page.locator(f"button[data-seat-id='{booked['id']}']").evaluate(
        "b => getComputedStyle(b).backgroundImage")


def test_focus_ring_contrasts_with_white_and_the_seats(open_page, admin_show):
    """WCAG 2.4.11/1.4.11: the focus indicator has 3:1 against what it sits on. A dark ring in a
    white halo: the ring against white and booked grey, the halo against the selected fill."""
    show = admin_show(name="Focus Ring", rows=2, seats_per_row=6)
    page = open_page(f"/?show={show['id']}")
    seat = page.locator("button[data-seat-id]").first
    seat.click()
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowLeft")
    expect(seat).to_be_focused()
    styles = seat.evaluate("""b => { const s = getComputedStyle(b);
        return {ring: s.outlineColor, width: parseFloat(s.outlineWidth), shadow: s.boxShadow, fill: s.backgroundColor}; }""")
    ring = rgb(styles["ring"])
    halo = rgb(re.match(r"(rgba?\([^)]*\))", styles["shadow"]).group(1))
    assert styles["width"] >= 2
    assert contrast(ring, (255, 255, 255)) >= 3
    assert contrast(ring, rgb("rgb(212, 211, 222)")) >= 3        # booked grey
    assert contrast(halo, rgb(styles["fill"])) >= 3               # the selected seat's own fill
    assert contrast(ring, halo) >= 9                               # two tones, one always shows


def rgb(css):
    return tuple(int(float(part)) for part in re.findall(r"[\d.]+", css)[:3])


def contrast(a, b):
    def luminance(colour):
        channels = [c / 255 for c in colour]
        channels = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * channels[0] + 0.7152 * channels[1] + 0.0722 * channels[2]
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)
