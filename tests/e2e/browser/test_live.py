"""Several visitors at once: racing for a seat, the live seat map, and cancelling."""
import re
import time

import pytest
from playwright.sync_api import expect

from .conftest import http_status_logged

pytestmark = pytest.mark.browser

LIVE = 6_000  # ms: the seat map refreshes every ~2 s, so a change shows within a few seconds


def seat_button(page, seat):
    return page.locator(f"button[data-seat-id='{seat['id']}']")


def name_of(seat, state):
    return f"Row {seat['row']} seat {seat['number']}, {state}"


def seats_of(api, show_id):
    return api("GET", f"/shows/{show_id}/seats")[2]["seats"]


def as_visitor(open_page, show_id, user_id, **options):
    page = open_page(f"/?show={show_id}", name=user_id.split("@")[0], **options)
    page.evaluate("id => localStorage.setItem('modex.userId', JSON.stringify(id))", user_id)
    page.reload()
    expect(page.locator("button[data-seat-id]").first).to_be_visible()
    return page


def test_two_windows_race_for_one_seat(open_page, show, api):
    """Both pick the same seat and press Book: one gets the checkout, the other the alert; the
    winner confirms, and the loser sees the seat held, then booked, without a reload."""
    seat = seats_of(api, show.id)[7]
    other = seats_of(api, show.id)[8]
    expected = http_status_logged(409)  # the loser's refused POST, logged by chromium itself
    pages = [as_visitor(open_page, show.id, f"{who}@example.com", expected_errors=expected) for who in ("ann", "bob")]
    held = []
    for page in pages:
        page.route("**/api/shows/*/holds", lambda route: held.append(route))
        seat_button(page, seat).click()
    seat_button(pages[1], other).click()  # the loser keeps any seat nobody else took

    # Book in both windows, then let both requests go to the server together.
    for page in pages:
        page.evaluate("document.querySelector('[data-role=book]').click()")
    deadline = time.monotonic() + 5
    while len(held) < 2 and time.monotonic() < deadline:
        pages[0].wait_for_timeout(20)
    assert len(held) == 2
    for route in held:
        route.continue_()

    for page in pages:
        expect(page.locator("dialog[open], [role=alert]:visible").filter(has_text=re.compile(r"\w"))).to_have_count(1)
    won = [page for page in pages if page.get_by_role("dialog").is_visible()]
    lost = [page for page in pages if "Someone just booked this!" in page.locator("#show-view [data-role=alert]").inner_text()]
    assert len(won) == 1 and len(lost) == 1, "exactly one window wins"
    winner, loser = won[0], lost[0]
    checkout = winner.get_by_role("dialog", name="Confirm your seats")
    expect(checkout.get_by_role("heading", name="Confirm your seats")).to_be_focused()
    mine = [seat, other] if winner is pages[1] else [seat]
    expect(checkout.get_by_role("listitem")).to_have_text([f"Row {s['row']} seat {s['number']}" for s in mine])
    expect(seat_button(winner, seat)).to_have_accessible_name(name_of(seat, "held for you"))
    expect(loser.get_by_role("status")).to_be_empty()
    expect(loser.get_by_role("dialog")).to_be_hidden()
    # Without a reload, the loser sees the seat taken (on hold: the winner is checking out); its
    # other seat (if any) stays selected.
    expect(seat_button(loser, seat)).to_have_accessible_name(name_of(seat, "on hold"), timeout=LIVE)
    expect(seat_button(loser, seat)).to_be_disabled()
    if loser is pages[1]:
        expect(seat_button(loser, other)).to_have_accessible_name(name_of(other, "selected"))
    assert [s["status"] for s in seats_of(api, show.id) if s["id"] == seat["id"]] == ["HELD"]

    checkout.get_by_role("button", name=re.compile("^Confirm")).click()
    expect(winner.get_by_role("status")).to_contain_text("Booked!")
    expect(seat_button(winner, seat)).to_have_accessible_name(name_of(seat, "booked"))
    expect(seat_button(loser, seat)).to_have_accessible_name(name_of(seat, "booked"), timeout=LIVE)
    assert [s["status"] for s in seats_of(api, show.id) if s["id"] == seat["id"]] == ["BOOKED"]


def test_seat_map_is_live(open_page, show, api):
    seats = seats_of(api, show.id)
    watched, selected = seats[0], seats[1]
    page = as_visitor(open_page, show.id, "watcher@example.com")
    statuses = []
    page.on("response", lambda response: statuses.append(response.status) if response.url.endswith("/availability") else None)
    seat_button(page, selected).click()

    # Nothing changes: the refreshes are answered 304.
    page.wait_for_timeout(4_500)
    assert statuses.count(304) >= 1, statuses

    # Another visitor books a seat, and then the one this visitor had selected.
    assert api("POST", f"/shows/{show.id}/bookings", {"userId": "elsewhere", "seatIds": [watched["id"]]})[0] == 201
    expect(seat_button(page, watched)).to_have_accessible_name(name_of(watched, "booked"), timeout=LIVE)
    assert api("POST", f"/shows/{show.id}/bookings", {"userId": "elsewhere", "seatIds": [selected["id"]]})[0] == 201
    expect(seat_button(page, selected)).to_have_accessible_name(name_of(selected, "booked"), timeout=LIVE)
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("Someone just booked this!")
    expect(alert).to_contain_text(f"Row {selected['row']} seat {selected['number']} was just booked by someone else")
    expect(page.locator("[data-role=selection-count]")).to_contain_text("No seats selected")
    expect(page.locator("[data-role=seats-left]")).to_have_text(f"{len(seats) - 2} seats left of {len(seats)}")


def test_polling_pauses_while_hidden(open_page, show, api):
    page = as_visitor(open_page, show.id, "hidden@example.com")
    requests = []
    page.on("request", lambda request: requests.append(time.monotonic()) if request.url.endswith("/availability") else None)
    page.evaluate("""() => {
        Object.defineProperty(document, 'hidden', {configurable: true, get: () => true});
        document.dispatchEvent(new Event('visibilitychange'));
    }""")
    page.wait_for_timeout(500)
    requests.clear()
    page.wait_for_timeout(4_500)
    assert requests == []
    page.evaluate("""() => {
        Object.defineProperty(document, 'hidden', {configurable: true, get: () => false});
        document.dispatchEvent(new Event('visibilitychange'));
    }""")
    page.wait_for_timeout(500)
    assert len(requests) == 1  # coming back refreshes at once


def test_cancelling_frees_the_seat_for_everyone(open_page, show, api):
    seat = seats_of(api, show.id)[4]
    booker = as_visitor(open_page, show.id, "carol@example.com")
    other = as_visitor(open_page, show.id, "dave@example.com")

    seat_button(booker, seat).click()
    booker.get_by_role("button", name=re.compile("^Book")).click()
    booker.get_by_role("dialog").get_by_role("button", name=re.compile("^Confirm")).click()
    expect(booker.get_by_role("status")).to_contain_text("Booked!")
    expect(seat_button(other, seat)).to_have_accessible_name(name_of(seat, "booked"), timeout=LIVE)

    booker.get_by_role("link", name="See My bookings").click()
    expect(booker.get_by_role("heading", level=1)).to_have_text("My bookings")
    item = booker.locator("li.booking")
    expect(item).to_have_count(1)
    expect(item).to_contain_text(show.name)
    expect(item).to_contain_text("Confirmed")
    expect(item).to_contain_text("Booked as carol@example.com")
    item.get_by_role("button", name=re.compile("^Cancel booking")).click()
    expect(booker.get_by_role("status")).to_contain_text("Booking cancelled.")
    expect(item).to_contain_text("Cancelled")
    expect(item.get_by_role("button", name=re.compile("^Cancel booking"))).to_have_count(0)

    assert [s["status"] for s in seats_of(api, show.id) if s["id"] == seat["id"]] == ["AVAILABLE"]
    expect(seat_button(other, seat)).to_have_accessible_name(name_of(seat, "available"), timeout=LIVE)
    seat_button(other, seat).click()
    other.get_by_role("button", name=re.compile("^Book")).click()
    other.get_by_role("dialog").get_by_role("button", name=re.compile("^Confirm")).click()
    expect(other.get_by_role("status")).to_contain_text("Booked!")

    # Back on the show, the booker sees the seat taken again by the other visitor.
    item.get_by_role("link", name=show.name).click()
    expect(seat_button(booker, seat)).to_have_accessible_name(name_of(seat, "booked"))
