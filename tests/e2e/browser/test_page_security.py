"""The page under its Content-Security-Policy (every screen, no violation), and where tokens
live: hold tokens in memory only, booking tokens in localStorage until the booking is
cancelled or its show has started."""
import json
import re

import pytest
from playwright.sync_api import expect

from chalicelib.security_headers import SECURITY_HEADERS

pytestmark = pytest.mark.browser

# Recorded from the first script on: a violation before the app starts counts too.
COLLECT_VIOLATIONS = """
window.cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.cspViolations.push(`${event.violatedDirective} blocked ${event.blockedURI || "inline"} `
                            + `at ${event.sourceFile}:${event.lineNumber}`);
});
"""


def open_watched(open_page, path, **options):
    page = open_page(None, **options)
    page.context.add_init_script(COLLECT_VIOLATIONS)
    response = page.goto(path)
    for name, value in SECURITY_HEADERS.items():
        assert response.headers[name.lower()] == value, name
    return page


def assert_no_violations(page, screen):
    assert page.evaluate("window.cspViolations") == [], screen


def stored_bookings(page):
    return page.evaluate("JSON.parse(localStorage.getItem('modex.bookings') || '[]')")


def book_one_seat(page, user_id):
    """Book in the open show's map, through the checkout; returns the hold's token."""
    page.evaluate("id => localStorage.setItem('modex.userId', JSON.stringify(id))", user_id)
    page.reload()
    page.locator("button[data-seat-id]:not([disabled])").first.click()
    with page.expect_response(re.compile(r"/api/shows/[^/]+/holds$")) as answer:
        page.get_by_role("button", name=re.compile("^Book")).click()
    checkout = page.get_by_role("dialog", name="Confirm your seats")
    expect(checkout).to_be_visible()
    hold_token = answer.value.json()["holdToken"]
    storage = page.evaluate("JSON.stringify([Object.entries(localStorage), Object.entries(sessionStorage)])")
    assert hold_token not in storage  # the hold token lives in memory only
    checkout.get_by_role("button", name=re.compile("^Confirm")).click()
    expect(page.get_by_role("status")).to_contain_text("Booked!")
    return hold_token


def test_every_screen_runs_under_the_policy(open_page, admin_show, stadium_show, api):
    theatre = admin_show(name="CSP Theatre", layout="theatre")

    page = open_watched(open_page, "/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Upcoming shows")
    expect(page.locator("a.show-card").first).to_be_visible()
    assert_no_violations(page, "shows")

    page = open_watched(open_page, f"/?show={theatre['id']}")
    expect(page.locator("button[data-seat-id]")).to_have_count(300)
    assert_no_violations(page, "theatre seat map")
    book_one_seat(page, "csp@example.com")  # the checkout, then the booking's status message
    assert_no_violations(page, "checkout and booking")
    page.get_by_role("link", name="My bookings", exact=True).click()
    expect(page.locator("li.booking")).to_contain_text("Confirmed")
    assert_no_violations(page, "my bookings")

    page = open_watched(open_page, f"/?show={stadium_show['id']}")
    tiles = page.locator("button[data-section]")
    expect(tiles).to_have_count(80, timeout=60_000)  # the 5 MB room, read once
    assert_no_violations(page, "stadium overview")
    tiles.first.click()
    expect(page.locator("button[data-seat-id]").first).to_be_visible()
    assert_no_violations(page, "stadium section")


def test_the_policy_would_catch_an_inline_style(open_page):
    """The watch works: a style attribute written as HTML is refused and reported."""
    page = open_watched(open_page, "/", expected_errors=[r"Content Security Policy"])
    expect(page.get_by_role("heading", level=1)).to_have_text("Upcoming shows")
    page.evaluate("document.body.insertAdjacentHTML('beforeend', '<p style=\"color: red\">x</p>')")
    page.wait_for_function("window.cspViolations.length > 0")
    assert "style-src" in page.evaluate("window.cspViolations")[0]


def test_a_cancelled_booking_leaves_no_token(open_page, make_show, api):
    show = make_show(rows=1, seats_per_row=4)
    page = open_page(f"/?show={show.id}")
    book_one_seat(page, "cancel@example.com")
    [entry] = stored_bookings(page)
    assert entry["token"]

    page.get_by_role("link", name="My bookings", exact=True).click()
    item = page.locator(f"[data-booking-id='{entry['id']}']")
    item.get_by_role("button", name=re.compile("^Cancel booking")).click()
    expect(page.get_by_role("status")).to_contain_text("Booking cancelled.")
    expect(item).to_contain_text("Cancelled")  # still shown on this screen…
    assert stored_bookings(page) == []  # …but its token is gone from storage
    page.reload()
    expect(page.locator("li.booking")).to_have_count(0)


def test_a_booking_cancelled_elsewhere_leaves_no_token(open_page, make_show, api):
    show = make_show(rows=1, seats_per_row=4)
    page = open_page(f"/?show={show.id}")
    book_one_seat(page, "elsewhere@example.com")
    [entry] = stored_bookings(page)
    status, _, _ = api("DELETE", f"/bookings/{entry['id']}", headers={"Authorization": f"Bearer {entry['token']}"})
    assert status == 200
    page.get_by_role("link", name="My bookings", exact=True).click()
    expect(page.locator("li.booking")).to_contain_text("Cancelled")
    assert stored_bookings(page) == []


def test_tokens_of_shows_that_have_started_are_dropped(open_page, make_show, api, sql):
    started, coming = make_show(rows=1, seats_per_row=2), make_show(rows=1, seats_per_row=2)
    entries = []
    for show in (started, coming):
        seat = api("GET", f"/shows/{show.id}/seats")[2]["seats"][0]["id"]
        status, _, booking = api("POST", f"/shows/{show.id}/bookings", {"userId": "past@example.com", "seatIds": [seat]})
        assert status == 201
        entries.append({"id": booking["id"], "token": booking["bookingToken"], "showId": str(show.id),
                        "showName": show.name, "startTime": show.start_time.isoformat(), "sections": False,
                        "createdAt": booking["createdAt"]})
    sql("UPDATE shows SET start_time = now() - interval '1 hour' WHERE id = :id", id=started.id)
    entries[0]["startTime"] = "2001-01-01T00:00:00Z"  # what the browser knows: the show has started

    page = open_page("/")
    page.evaluate("entries => localStorage.setItem('modex.bookings', JSON.stringify(entries))", entries)
    page.reload()  # the page drops spent tokens as it starts, on any screen
    expect(page.get_by_role("heading", level=1)).to_have_text("Upcoming shows")
    assert [entry["id"] for entry in stored_bookings(page)] == [entries[1]["id"]]
    page.get_by_role("link", name="My bookings", exact=True).click()
    expect(page.locator("li.booking")).to_have_count(1)
    expect(page.locator("li.booking")).to_contain_text(coming.name)
    assert json.dumps(stored_bookings(page)).count("token") == 1
