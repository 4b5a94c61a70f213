"""Booking as a user would: with the mouse, with the keyboard alone, and when things go wrong.
Book holds the seats and opens the checkout; Confirm there makes the booking."""
import re

import pytest
from playwright.sync_api import expect

from .conftest import http_status_logged, show_link, tab_into_seat_map

pytestmark = pytest.mark.browser


def seat_button(page, seat):
    return page.locator(f"button[data-seat-id='{seat['id']}']")


def seats_of(api, show_id):
    status, _, body = api("GET", f"/shows/{show_id}/seats")
    assert status == 200
    return body["seats"]


def confirm_in_checkout(page):
    checkout = page.get_by_role("dialog", name="Confirm your seats")
    expect(checkout).to_be_visible()
    checkout.get_by_role("button", name=re.compile("^Confirm")).click()
    expect(checkout).to_be_hidden()


def test_full_booking(open_page, show, api):
    seats = seats_of(api, show.id)
    first, second = seats[2], seats[3]
    page = open_page("/")
    show_link(page, show.name).click()

    book = page.get_by_role("button", name=re.compile("^Book"))
    expect(book).to_be_disabled()
    page.get_by_role("button", name=f"Row {first['row']} seat {first['number']}, available").click()
    page.get_by_role("button", name=f"Row {second['row']} seat {second['number']}, available").click()
    expect(seat_button(page, first)).to_have_accessible_name(f"Row {first['row']} seat {first['number']}, selected")
    expect(page.locator("[data-role=selection-count]")).to_have_text("2 seats selected")
    expect(book).to_have_text("Book 2 seats")

    # The name is asked for once: clicking Book without it points at the field.
    book.click()
    expect(page.get_by_text("Please enter your name or e-mail.")).to_be_visible()
    expect(page.get_by_label("Your name or e-mail")).to_be_focused()
    page.get_by_label("Your name or e-mail").fill("grace@example.com")
    book.click()

    # Book holds the seats and opens the checkout, focus on its heading; the map shows them held.
    checkout = page.get_by_role("dialog", name="Confirm your seats")
    expect(checkout).to_be_visible()
    expect(checkout.get_by_role("heading", name="Confirm your seats")).to_be_focused()
    expect(checkout.get_by_role("list", name="Your seats").get_by_role("listitem")).to_have_text(
        [f"Row {first['row']} seat {first['number']}", f"Row {second['row']} seat {second['number']}"])
    expect(checkout).to_contain_text("Booking as grace@example.com")
    expect(checkout.get_by_role("timer")).to_have_text(re.compile(r"^(10:00|9:[0-5]\d)$"))
    expect(seat_button(page, first)).to_have_accessible_name(f"Row {first['row']} seat {first['number']}, held for you")
    assert [seat["status"] for seat in seats_of(api, show.id)[2:4]] == ["HELD", "HELD"]
    checkout.get_by_role("button", name="Confirm booking").click()
    expect(checkout).to_be_hidden()

    confirmation = page.get_by_role("status")
    expect(confirmation).to_contain_text("Booked!")
    expect(confirmation).to_contain_text(f"Row {first['row']} seats {first['number']}, {second['number']}")
    expect(seat_button(page, first)).to_have_accessible_name(f"Row {first['row']} seat {first['number']}, booked")
    expect(seat_button(page, second)).to_be_disabled()
    expect(book).to_be_disabled()
    assert [seat["status"] for seat in seats_of(api, show.id)[2:4]] == ["BOOKED", "BOOKED"]

    # The name and the booking are remembered by this browser.
    assert page.evaluate("JSON.parse(localStorage.getItem('modex.userId'))") == "grace@example.com"
    bookings = page.evaluate("JSON.parse(localStorage.getItem('modex.bookings'))")
    assert len(bookings) == 1 and bookings[0]["token"]
    booking_id = bookings[0]["id"]
    expect(confirmation).to_contain_text(booking_id)
    status, _, booking = api("GET", f"/bookings/{booking_id}", headers={"Authorization": f"Bearer {bookings[0]['token']}"})
    assert status == 200 and booking["userId"] == "grace@example.com"
    assert sorted(seat["id"] for seat in booking["seats"]) == sorted([first["id"], second["id"]])

    page.reload()
    expect(page.get_by_text("Booking as grace@example.com")).to_be_visible()
    page.get_by_role("link", name="My bookings", exact=True).click()
    item = page.locator(f"[data-booking-id='{booking_id}']")
    expect(item).to_contain_text(show.name)
    expect(item).to_contain_text("Confirmed")
    expect(item).to_contain_text(f"Row {first['row']} seats {first['number']}, {second['number']}")


def test_keyboard_only_booking(open_page, show, api):
    seats = seats_of(api, show.id)
    page = open_page(f"/?show={show.id}")
    expect(page.locator("button[data-seat-id]")).to_have_count(len(seats))
    keyboard = page.keyboard

    # Tab from the top of the page into the seat map: one Tab stop for the whole map.
    assert tab_into_seat_map(page, 12) == seats[0]["id"]
    keyboard.press("ArrowRight")
    keyboard.press("ArrowRight")
    keyboard.press("ArrowDown")  # Row B, third seat
    target = seats[len(seats) // 2 + 2] if seats[len(seats) // 2]["row"] == "B" else None
    assert target is not None
    expect(seat_button(page, target)).to_be_focused()
    keyboard.press("Space")
    expect(seat_button(page, target)).to_have_accessible_name(f"Row B seat {target['number']}, selected")
    keyboard.press("ArrowRight")
    keyboard.press("Enter")
    neighbour = seats[len(seats) // 2 + 3]
    expect(seat_button(page, neighbour)).to_have_accessible_name(f"Row B seat {neighbour['number']}, selected")

    keyboard.press("Tab")  # leaves the map: the name field
    expect(page.get_by_label("Your name or e-mail")).to_be_focused()
    keyboard.type("Keys Only")
    keyboard.press("Tab")
    expect(page.get_by_role("button", name=re.compile("^Book"))).to_be_focused()
    keyboard.press("Enter")

    # The checkout takes focus (its heading); Tab goes on to Confirm.
    checkout = page.get_by_role("dialog", name="Confirm your seats")
    expect(checkout.get_by_role("heading", name="Confirm your seats")).to_be_focused()
    keyboard.press("Tab")
    expect(checkout.get_by_role("button", name=re.compile("^Confirm"))).to_be_focused()
    keyboard.press("Enter")

    expect(page.get_by_role("status")).to_contain_text("Booked!")
    expect(page.get_by_role("status")).to_be_focused()  # focus lands on the news, not on <body>
    expect(seat_button(page, target)).to_have_accessible_name(f"Row B seat {target['number']}, booked")
    statuses = {seat["id"]: seat["status"] for seat in seats_of(api, show.id)}
    assert statuses[target["id"]] == statuses[neighbour["id"]] == "BOOKED"
    assert list(statuses.values()).count("BOOKED") == 2


def test_at_most_ten_seats(open_page, make_show, api):
    show = make_show(rows=1, seats_per_row=12)
    page = open_page(f"/?show={show.id}")
    buttons = page.locator("button[data-seat-id]")
    expect(buttons).to_have_count(12)
    for index in range(11):
        buttons.nth(index).click()
    expect(page.get_by_role("alert")).to_contain_text("You can book up to 10 seats at a time.")
    expect(page.locator("button[data-seat-id][aria-pressed=true]")).to_have_count(10)
    expect(buttons.nth(10)).to_have_accessible_name("Row A seat 11, available")


def test_optimistic_then_confirmed_and_double_click_books_once(open_page, show, api):
    seat = seats_of(api, show.id)[5]
    page = open_page(f"/?show={show.id}")
    page.evaluate("localStorage.setItem('modex.userId', JSON.stringify('double@example.com'))")
    page.reload()
    held, posts = [], []
    page.on("request", lambda request: posts.append(request.url) if request.method == "POST" else None)
    page.route("**/api/shows/*/holds", lambda route: held.append(route))

    seat_button(page, seat).click()
    book = page.get_by_role("button", name=re.compile("^Book"))
    book.dblclick()
    # The request is held: the seat already shows as being booked, and Book cannot be pressed again.
    expect(seat_button(page, seat)).to_have_accessible_name(f"Row {seat['row']} seat {seat['number']}, being booked")
    expect(seat_button(page, seat)).to_be_disabled()
    expect(book).to_be_disabled()
    expect(book).to_have_text("Booking…")
    page.wait_for_timeout(300)
    assert len(held) == 1
    assert re.fullmatch(r"[0-9a-f-]{32,36}", held[0].request.headers["idempotency-key"])
    held[0].continue_()

    confirm_in_checkout(page)
    expect(page.get_by_role("status")).to_contain_text("Booked!")
    expect(seat_button(page, seat)).to_have_accessible_name(f"Row {seat['row']} seat {seat['number']}, booked")
    assert [url.rsplit("/", 1)[-1] for url in posts] == ["holds", "confirm"]  # one hold, one confirmation


@pytest.mark.parametrize("failure", ["server error", "network error"])
def test_failure_reverts_the_selection(open_page, show, api, failure):
    seats = seats_of(api, show.id)[:2]
    page = open_page(f"/?show={show.id}", expected_errors=http_status_logged(503) + [r"net::ERR_FAILED"])
    page.evaluate("localStorage.setItem('modex.userId', JSON.stringify('unlucky@example.com'))")
    page.reload()
    keys = []

    def fail(route):
        keys.append(route.request.headers["idempotency-key"])
        if failure == "network error":
            route.abort("failed")
        else:
            route.fulfill(status=503, content_type="application/json",
                          body='{"error": "UNAVAILABLE", "message": "The database cannot be reached."}')

    page.route("**/api/shows/*/holds", fail)
    for seat in seats:
        seat_button(page, seat).click()
    page.get_by_role("button", name=re.compile("^Book")).click()
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("We couldn't book your seats just now.")
    expect(alert).to_contain_text("please try again")
    for seat in seats:
        expect(seat_button(page, seat)).to_have_accessible_name(f"Row {seat['row']} seat {seat['number']}, selected")
        expect(seat_button(page, seat)).to_be_enabled()
    assert all(seat["status"] == "AVAILABLE" for seat in seats_of(api, show.id)[:2])

    # Trying again works, and repeats the same Idempotency-Key: had the first attempt gone
    # through unseen, the retry would get that booking back instead of a refusal.
    page.unroute("**/api/shows/*/holds")
    page.route("**/api/shows/*/holds", lambda route: (keys.append(route.request.headers["idempotency-key"]),
                                                      route.continue_()))
    page.get_by_role("button", name=re.compile("^Book")).click()
    confirm_in_checkout(page)
    expect(page.get_by_role("status")).to_contain_text("Booked!")
    assert len(keys) == 2 and keys[0] == keys[1]


def test_user_text_is_rendered_as_text(open_page, make_show, api):
    show = make_show(name='<img src=x onerror="window.pwned=1">Gala')
    user = '<b id="injected">Mallory</b>'
    page = open_page(f"/?show={show.id}")
    page.evaluate("id => localStorage.setItem('modex.userId', JSON.stringify(id))", user)
    page.reload()
    expect(page.get_by_role("heading", level=1)).to_have_text(show.name)
    expect(page.get_by_text(f"Booking as {user}")).to_be_visible()
    page.locator("button[data-seat-id]").first.click()
    page.get_by_role("button", name=re.compile("^Book")).click()
    expect(page.get_by_role("dialog")).to_contain_text(f"Booking as {user}")
    confirm_in_checkout(page)
    expect(page.get_by_role("status")).to_contain_text(f"for {user}.")
    page.get_by_role("link", name="My bookings", exact=True).click()
    expect(page.locator("li.booking")).to_contain_text(f"Booked as {user}")
    assert page.locator("#injected, img[src=x]").count() == 0
    assert page.evaluate("window.pwned") is None
