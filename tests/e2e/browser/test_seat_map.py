"""The shows list and the seat map, for a show made the way an operator makes one: the admin CLI."""
import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from .conftest import DESKTOP, PHONE, RESULTS_DIR, http_status_logged

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
    link = page.get_by_role("link", name="Listed <b>Show</b> & Co")
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
