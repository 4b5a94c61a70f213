"""The checkout: Book holds the seats and opens it; a countdown by the server's clock; Confirm,
Cancel, leaving, and a hold that lapses. Nothing sleeps for minutes: holds are made to lapse on
the database side (their expires_at moved), and the page is made to notice as it would."""
import re
import time
import uuid
from datetime import datetime, timedelta, timezone

import pytest
from playwright.sync_api import expect

from chalicelib import services
from chalicelib.layout import grid
from chalicelib.validation import ShowRequest

from .conftest import http_status_logged, show_link

pytestmark = pytest.mark.browser

LIVE = 6_000  # ms: the availability is read every ~2 s
BROWSER_CLOCK_AHEAD_MS = 7 * 60_000


@pytest.fixture
def checkout_show():
    """A one-section grid show with the hold length and seat limit given."""

    def make(rows=2, seats_per_row=8, hold_minutes=10, max_seats_per_user=10):
        start = datetime.now(timezone.utc) + timedelta(days=30)
        return services.create_show(ShowRequest(f"Checkout {uuid.uuid4().hex[:6]}", start, grid(rows, seats_per_row),
                                                hold_minutes=hold_minutes, max_seats_per_user=max_seats_per_user))

    return make


def set_expiry(sql, hold, seconds_from_now):
    """The database's clock decides: the hold and its claims now expire `seconds_from_now`
    (negative: it lapsed that long ago)."""
    hold_id = uuid.UUID(hold["id"])
    sql("UPDATE holds SET expires_at = now() + make_interval(secs => :s) WHERE id = :id", s=seconds_from_now, id=hold_id)
    sql("UPDATE seat_bookings SET expires_at = now() + make_interval(secs => :s) WHERE hold_id = :id",
        s=seconds_from_now, id=hold_id)


def seats_of(api, show_id):
    return api("GET", f"/shows/{show_id}/seats")[2]["seats"]


def seat_button(page, seat):
    return page.locator(f"button[data-seat-id='{seat['id']}']")


def name_of(seat, state):
    return f"Row {seat['row']} seat {seat['number']}, {state}"


def status_of(api, show_id, seat):
    return next(s["status"] for s in seats_of(api, show_id) if s["id"] == seat["id"])


def hold_status(api, hold):
    status, _, body = api("GET", f"/holds/{hold['id']}", headers={"Authorization": f"Bearer {hold['holdToken']}"})
    assert status == 200
    return body["status"]


def eventually(check, timeout=5.0):
    deadline = time.monotonic() + timeout
    while True:
        if check():
            return
        assert time.monotonic() < deadline, "not within the time"
        time.sleep(0.1)


def visitor(open_page, show_id, user_id, path=None, **options):
    page = open_page(None, name=user_id.split("@")[0], **options)
    page.goto(path or f"/?show={show_id}")
    page.evaluate("id => localStorage.setItem('modex.userId', JSON.stringify(id))", user_id)
    page.reload()
    if path is None:
        expect(page.locator("button[data-seat-id]").first).to_be_visible()
    return page


def book(page):
    """Presses Book; returns the hold the server answered (with its token) once the checkout is open."""
    with page.expect_response(lambda r: r.url.endswith("/holds") and r.request.method == "POST") as answer:
        page.get_by_role("button", name=re.compile("^Book")).click()
    assert answer.value.status == 201
    expect(checkout_of(page)).to_be_visible()
    return answer.value.json()


def checkout_of(page):
    return page.get_by_role("dialog", name="Confirm your seats")


def seconds_left(page):
    minutes, seconds = checkout_of(page).get_by_role("timer").inner_text().split(":")
    return int(minutes) * 60 + int(seconds)


def freeze_availability(page, api, show_id):
    """From now on the page reads the availability as it is now (the hold's seats held), so
    only the checkout itself can find out that the hold has gone."""
    body = api("GET", f"/shows/{show_id}/availability")[2]
    page.route("**/api/shows/*/availability",
               lambda route: route.fulfill(status=200, content_type="application/json", json=body))


def become_visible(page):
    """What the page hears when its tab comes to the front again."""
    page.evaluate("document.dispatchEvent(new Event('visibilitychange'))")


def test_countdown_runs_by_the_servers_clock(open_page, checkout_show, api):
    """The countdown starts at the show's hold length and runs down, even when the computer's
    clock is minutes wrong: the server's clock decides."""
    show = checkout_show(hold_minutes=10)
    seat = seats_of(api, show.id)[3]
    page = open_page(None, name="skewed")
    # This browser's clock runs 7 minutes ahead: expiresAt minus Date.now() would say ~3:00.
    page.add_init_script(f"""(() => {{
        const RealDate = Date, ahead = {BROWSER_CLOCK_AHEAD_MS};
        class SkewedDate extends RealDate {{
            constructor(...args) {{ if (args.length) super(...args); else super(RealDate.now() + ahead); }}
            static now() {{ return RealDate.now() + ahead; }}
        }}
        window.Date = SkewedDate;
    }})()""")
    page.goto(f"/?show={show.id}")
    page.evaluate("localStorage.setItem('modex.userId', JSON.stringify('clock@example.com'))")
    page.reload()
    assert page.evaluate("Date.now() - (performance.timeOrigin + performance.now())") > BROWSER_CLOCK_AHEAD_MS - 5_000

    seat_button(page, seat).click()
    book(page)
    checkout = checkout_of(page)
    expect(checkout).to_contain_text("for 10 minutes")
    timer = checkout.get_by_role("timer")
    expect(timer).to_have_text(re.compile(r"^(10:00|9:5\d)$"))
    expect(timer).to_have_accessible_name("Time left to confirm")
    assert timer.get_attribute("aria-live") in (None, "off")  # a timer is not read out every second
    first = seconds_left(page)
    page.wait_for_timeout(2_300)
    later = seconds_left(page)
    assert first - 3 <= later <= first - 2, (first, later)
    expect(checkout.locator("[data-role=warning]")).to_be_empty()  # the warning waits for the last minute


def test_a_hold_lapsed_on_the_server_is_noticed_at_once(open_page, checkout_show, api, sql):
    """The availability turns the hold's seats back to A: the page asks about its hold, hears
    EXPIRED, says so, and shows the seats free again."""
    show = checkout_show()
    seats = seats_of(api, show.id)[4:6]
    page = visitor(open_page, show.id, "slow@example.com")
    reads = []
    page.on("request", lambda request: reads.append(request.url) if "/api/holds/" in request.url else None)
    for seat in seats:
        seat_button(page, seat).click()
    hold = book(page)
    assert [status_of(api, show.id, seat) for seat in seats] == ["HELD", "HELD"]

    set_expiry(sql, hold, -1)
    expect(checkout_of(page)).to_be_hidden(timeout=LIVE)
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("Your hold expired")
    expect(alert).to_contain_text(f"Row {seats[0]['row']} seats {seats[0]['number']}, {seats[1]['number']} were released")
    expect(alert).to_be_focused()  # nothing is selected, so Book is off: focus goes to the news
    for seat in seats:
        expect(seat_button(page, seat)).to_have_accessible_name(name_of(seat, "available"))
        expect(seat_button(page, seat)).to_be_enabled()
    assert any(url.endswith(f"/api/holds/{hold['id']}") for url in reads), reads
    assert [status_of(api, show.id, seat) for seat in seats] == ["AVAILABLE", "AVAILABLE"]
    expect(page.locator("[data-role=selection-count]")).to_contain_text("No seats selected")


def test_the_countdown_reaching_zero_asks_the_server(open_page, checkout_show, api, sql):
    """The page reads its hold again when it comes back to the front, and counts down to the
    server's expiresAt; at zero it asks the server, which says the hold has expired."""
    show = checkout_show()
    seat = seats_of(api, show.id)[2]
    page = visitor(open_page, show.id, "zero@example.com")
    reads = []
    page.on("request", lambda request: reads.append(time.monotonic()) if "/api/holds/" in request.url else None)
    seat_button(page, seat).click()
    hold = book(page)
    freeze_availability(page, api, show.id)

    set_expiry(sql, hold, 4)
    become_visible(page)
    timer = checkout_of(page).get_by_role("timer")
    expect(timer).to_have_text(re.compile(r"^0:0[1-4]$"))
    # The last minute: said once, politely, and the countdown turns urgent.
    warning = checkout_of(page).locator("[data-role=warning]")
    expect(warning).to_have_text("Less than a minute left: confirm now to keep your seats.")
    assert warning.get_attribute("aria-live") == "polite"
    assert len(reads) == 1

    expect(checkout_of(page)).to_be_hidden(timeout=8_000)
    expect(page.get_by_role("alert")).to_contain_text("Your hold expired")
    assert len(reads) >= 2  # the countdown's own question at zero: the map was never told
    page.unroute("**/api/shows/*/availability")  # the map reads the room as it is again
    expect(seat_button(page, seat)).to_have_accessible_name(name_of(seat, "available"), timeout=LIVE)
    assert hold_status(api, hold) == "EXPIRED"
    assert status_of(api, show.id, seat) == "AVAILABLE"


def test_confirming_a_lapsed_hold_says_it_expired(open_page, checkout_show, api, sql):
    show = checkout_show()
    seat = seats_of(api, show.id)[6]
    page = visitor(open_page, show.id, "late@example.com", expected_errors=http_status_logged(409))
    seat_button(page, seat).click()
    hold = book(page)
    freeze_availability(page, api, show.id)
    set_expiry(sql, hold, -1)

    checkout_of(page).get_by_role("button", name=re.compile("^Confirm")).click()
    expect(checkout_of(page)).to_be_hidden()
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("Your hold expired")
    expect(alert).to_be_focused()
    page.unroute("**/api/shows/*/availability")
    expect(seat_button(page, seat)).to_have_accessible_name(name_of(seat, "available"), timeout=LIVE)
    assert status_of(api, show.id, seat) == "AVAILABLE"
    assert page.evaluate("JSON.parse(localStorage.getItem('modex.bookings') || '[]')") == []


def test_confirm_books_and_a_failed_confirm_can_be_retried(open_page, admin_show, api):
    """Confirm with no answer keeps the checkout, with a message; again, it books (confirming is
    idempotent). The booking shows in role=status and in My bookings."""
    show = admin_show(name="Checkout Theatre", layout="theatre")
    page = visitor(open_page, show["id"], "payer@example.com", expected_errors=http_status_logged(503))
    page.get_by_role("button", name="Stalls, Row C seat 10, €65.00, available", exact=True).click()
    page.get_by_role("button", name="Balcony, Row A seat 5, €18.00, available", exact=True).click()
    hold = book(page)
    assert hold["total"] == {"amount": 8300, "currency": "EUR"}
    checkout = checkout_of(page)
    expect(checkout).to_contain_text("Total €83.00")
    confirm = checkout.get_by_role("button", name="Confirm and pay €83.00")

    page.route("**/api/holds/*/confirm", lambda route: route.fulfill(
        status=503, content_type="application/json", json={"error": "UNAVAILABLE", "message": "The database cannot be reached."}))
    confirm.click()
    expect(checkout.get_by_role("alert")).to_contain_text("We couldn't confirm your booking just now.")
    expect(checkout.get_by_role("alert")).to_contain_text("Your seats are still held")
    expect(confirm).to_be_focused()
    page.unroute("**/api/holds/*/confirm")

    confirm.click()
    status = page.get_by_role("status")
    expect(status).to_contain_text("Booked! Checkout Theatre")
    expect(status).to_contain_text("Stalls, Row C seat 10 · Balcony, Row A seat 5")
    expect(status).to_contain_text("Total €83.00")
    expect(status).to_be_focused()
    expect(checkout).to_be_hidden()
    expect(page.get_by_role("button", name="Stalls, Row C seat 10, €65.00, booked", exact=True)).to_be_disabled()
    assert hold_status(api, hold) == "CONFIRMED"

    page.get_by_role("link", name="See My bookings").click()
    item = page.locator("li.booking")
    expect(item).to_have_count(1)
    expect(item).to_contain_text("Checkout Theatre")
    expect(item).to_contain_text("Confirmed")
    expect(item).to_contain_text("Total €83.00")


def test_cancel_releases_the_seats_for_everyone(open_page, checkout_show, api):
    show = checkout_show()
    seat = seats_of(api, show.id)[9]
    buyer = visitor(open_page, show.id, "undecided@example.com")
    watcher = visitor(open_page, show.id, "watcher@example.com")

    seat_button(buyer, seat).click()
    hold = book(buyer)
    expect(seat_button(watcher, seat)).to_have_accessible_name(name_of(seat, "on hold"), timeout=LIVE)
    expect(seat_button(watcher, seat)).to_be_disabled()

    # Keyboard only: Tab from the heading to Confirm, to Cancel, and press it.
    buyer.keyboard.press("Tab")
    buyer.keyboard.press("Tab")
    cancel = checkout_of(buyer).get_by_role("button", name="Cancel and release seats")
    expect(cancel).to_be_focused()
    buyer.keyboard.press("Enter")
    expect(checkout_of(buyer)).to_be_hidden()
    book_button = buyer.get_by_role("button", name=re.compile("^Book"))
    expect(book_button).to_be_focused()  # back where the checkout was opened from
    expect(buyer.get_by_role("status")).to_contain_text("Your seats were released.")
    expect(seat_button(buyer, seat)).to_have_accessible_name(name_of(seat, "selected"))  # still picked
    assert hold_status(api, hold) == "RELEASED"
    expect(seat_button(watcher, seat)).to_have_accessible_name(name_of(seat, "available"), timeout=LIVE)

    # Book again: a new hold (a fresh Idempotency-Key); Escape cancels it as well.
    again = book(buyer)
    assert again["id"] != hold["id"]
    expect(seat_button(watcher, seat)).to_have_accessible_name(name_of(seat, "on hold"), timeout=LIVE)
    buyer.keyboard.press("Escape")
    expect(checkout_of(buyer)).to_be_hidden()
    expect(book_button).to_be_focused()
    assert hold_status(api, again) == "RELEASED"
    expect(seat_button(watcher, seat)).to_have_accessible_name(name_of(seat, "available"), timeout=LIVE)


def test_leaving_the_show_releases_the_hold(open_page, checkout_show, api):
    """Back to the shows list (a route change inside the app) releases the hold; so does leaving
    the page (a keepalive request that outlives it)."""
    show = checkout_show()
    seats = seats_of(api, show.id)
    page = visitor(open_page, show.id, "leaver@example.com", path="/")
    show_link(page, re.compile(f"^{re.escape(show.name)}")).click()
    seat_button(page, seats[0]).click()
    first = book(page)
    page.go_back()
    expect(page.get_by_role("heading", level=1)).to_have_text("Upcoming shows")
    eventually(lambda: hold_status(api, first) == "RELEASED")
    assert status_of(api, show.id, seats[0]) == "AVAILABLE"

    page.go_forward()
    seat_button(page, seats[1]).click()
    second = book(page)
    assert status_of(api, show.id, seats[1]) == "HELD"
    page.goto("about:blank")
    eventually(lambda: hold_status(api, second) == "RELEASED")
    assert status_of(api, show.id, seats[1]) == "AVAILABLE"


def test_the_seat_limit_is_explained(open_page, checkout_show, api):
    show = checkout_show(max_seats_per_user=2)
    seats = seats_of(api, show.id)
    assert api("POST", f"/shows/{show.id}/bookings", {"userId": "greedy@example.com", "seatIds": [seats[0]["id"]]})[0] == 201
    page = visitor(open_page, show.id, "greedy@example.com", expected_errors=http_status_logged(409))
    for seat in seats[2:4]:
        seat_button(page, seat).click()
    page.get_by_role("button", name=re.compile("^Book")).click()
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("You can hold or book at most 2 seats of this show.")
    expect(alert).to_contain_text("as greedy@example.com count towards it")
    expect(checkout_of(page)).to_be_hidden()
    for seat in seats[2:4]:
        expect(seat_button(page, seat)).to_have_accessible_name(name_of(seat, "selected"))
    assert [status_of(api, show.id, seat) for seat in seats[2:4]] == ["AVAILABLE", "AVAILABLE"]

    # One seat fits under the limit.
    seat_button(page, seats[3]).click()
    book(page)
    checkout_of(page).get_by_role("button", name=re.compile("^Confirm")).click()
    expect(page.get_by_role("status")).to_contain_text("Booked!")
