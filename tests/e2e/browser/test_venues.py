"""Rooms with sections, categories and prices: the 300-seat theatre drawn whole, by mouse and by
keyboard; the 80,000-seat stadium as an overview of sections that zooms into one."""
import re
import time

import pytest
from playwright.sync_api import expect

from .conftest import PHONE, show_link, tab_into_seat_map

pytestmark = pytest.mark.browser

LIVE = 6_000  # ms: the availability is read every ~2 s
ROOM = 20_000  # ms: a first visit reads the stadium's 5 MB layout; a busy 2-core machine takes its time


def layout_of(api, show_id):
    status, headers, body = api("GET", f"/shows/{show_id}/layout")
    assert status == 200
    return body


def seat_in(layout, section, row, number):
    """(seat, its index in layout order) for a section/row/number of the layout."""
    index = 0
    for each in layout["sections"]:
        for each_row in each["rows"]:
            for seat in each_row["seats"]:
                if (each["name"], each_row["label"], seat["number"]) == (section, row, number):
                    return seat, index
                index += 1
    raise AssertionError(f"no {section} {row} {number} in the layout")


def statuses(api, show_id):
    return api("GET", f"/shows/{show_id}/availability")[2]["statuses"]


def seat_button(page, seat):
    return page.locator(f"button[data-seat-id='{seat['id']}']")


def checkout_of(page):
    checkout = page.get_by_role("dialog", name="Confirm your seats")
    expect(checkout).to_be_visible()
    return checkout


def test_theatre_by_mouse(open_page, admin_show, api):
    show = admin_show(name="Theatre Matinee", layout="theatre")
    layout = layout_of(api, show["id"])
    stalls, stalls_index = seat_in(layout, "Stalls", "A", 5)
    circle, circle_index = seat_in(layout, "Circle", "B", 3)

    page = open_page("/")
    show_link(page, re.compile("^Theatre Matinee")).click()
    # A small room: every section at once, nearest the stage first, each under its name.
    expect(page.locator("button[data-seat-id]")).to_have_count(300)
    expect(page.locator("button[data-section]")).to_have_count(0)
    expect(page.locator(".section-title")).to_have_text([re.compile("^Stalls"), re.compile("^Circle"), re.compile("^Balcony")])
    prices = page.get_by_role("list", name="Prices")
    for text in ("Premium €65.00", "Standard €40.00", "Restricted view €18.00"):
        expect(prices).to_contain_text(text)
    expect(page.locator("[data-role=seats-left]")).to_have_text("300 seats left of 300")

    # Names: section, row and seat, price, state; an aisle where the numbers skip (10, then 12).
    expect(page.get_by_role("button", name="Stalls, Row A seat 1, €65.00, available", exact=True)).to_be_visible()
    expect(page.get_by_role("button", name="Balcony, Row B seat 25, €18.00, available", exact=True)).to_be_attached()
    expect(page.get_by_role("button", name="Stalls, Row H seat 1, €40.00, wheelchair space, available", exact=True)).to_be_visible()
    row_a = page.get_by_role("group", name="Stalls, Row A", exact=True)
    assert row_a.locator(".row-seats > *").evaluate_all(
        "nodes => nodes.map(n => n.classList.contains('aisle') ? '|' : n.textContent).join(' ')"
    ) == "1 2 3 4 5 6 7 8 9 10 | 12 13 14 15 16 17 18 19 20 21"

    book = page.get_by_role("button", name=re.compile("^Book"))
    expect(book).to_be_disabled()
    page.get_by_role("button", name="Stalls, Row A seat 5, €65.00, available", exact=True).click()
    page.get_by_role("button", name="Circle, Row B seat 3, €40.00, available", exact=True).click()
    expect(seat_button(page, stalls)).to_have_accessible_name("Stalls, Row A seat 5, €65.00, selected")
    expect(page.locator("[data-role=selection-count]")).to_have_text("2 seats selected · €105.00")
    expect(page.locator("[data-role=selection-list] li")).to_have_text(
        ["Stalls, Row A seat 5 · €65.00", "Circle, Row B seat 3 · €40.00"])
    expect(book).to_have_text("Book 2 seats")

    page.get_by_label("Your name or e-mail").fill("matinee@example.com")
    book.click()
    # The checkout: the held seats with their prices, the server's total, Confirm naming it.
    checkout = checkout_of(page)
    expect(checkout.get_by_role("listitem")).to_have_text(["Stalls, Row A seat 5 · €65.00", "Circle, Row B seat 3 · €40.00"])
    expect(checkout).to_contain_text("Total €105.00")
    expect(seat_button(page, circle)).to_have_accessible_name("Circle, Row B seat 3, €40.00, held for you")
    checkout.get_by_role("button", name="Confirm and pay €105.00").click()
    confirmation = page.get_by_role("status")
    expect(confirmation).to_contain_text("Booked! Theatre Matinee")
    expect(confirmation).to_contain_text("Stalls, Row A seat 5 · Circle, Row B seat 3")
    expect(confirmation).to_contain_text("Total €105.00")
    expect(seat_button(page, stalls)).to_have_accessible_name("Stalls, Row A seat 5, €65.00, booked")
    expect(seat_button(page, circle)).to_be_disabled()
    expect(page.locator("[data-role=seats-left]")).to_have_text("298 seats left of 300")
    now = statuses(api, show["id"])
    assert now[stalls_index] == now[circle_index] == "B" and now.count("B") == 2

    page.get_by_role("link", name="See My bookings").click()
    item = page.locator("li.booking")
    expect(item).to_contain_text("Stalls, Row A seat 5 · Circle, Row B seat 3")
    expect(item).to_contain_text("Total €105.00")


def test_theatre_by_keyboard(open_page, admin_show, api):
    show = admin_show(name="Theatre by Keys", layout="theatre")
    layout = layout_of(api, show["id"])
    first, _ = seat_in(layout, "Stalls", "A", 1)
    stalls, stalls_index = seat_in(layout, "Stalls", "B", 3)
    circle, circle_index = seat_in(layout, "Circle", "B", 3)
    page = open_page(f"/?show={show['id']}")
    expect(page.locator("button[data-seat-id]")).to_have_count(300)
    keyboard = page.keyboard

    # The whole room is one Tab stop, whatever its sections.
    assert tab_into_seat_map(page, 15) == first["id"]
    keyboard.press("ArrowDown")
    keyboard.press("ArrowRight")
    keyboard.press("ArrowRight")
    expect(seat_button(page, stalls)).to_be_focused()
    keyboard.press("Space")
    expect(seat_button(page, stalls)).to_have_accessible_name("Stalls, Row B seat 3, €65.00, selected")
    for _ in range(8):  # rows C to H of the Stalls, then the Circle's A and B, keeping the column
        keyboard.press("ArrowDown")
    expect(seat_button(page, circle)).to_be_focused()
    keyboard.press("Enter")
    expect(seat_button(page, circle)).to_have_accessible_name("Circle, Row B seat 3, €40.00, selected")

    keyboard.press("Tab")
    expect(page.get_by_label("Your name or e-mail")).to_be_focused()
    keyboard.type("Keys Only")
    keyboard.press("Tab")
    expect(page.get_by_role("button", name=re.compile("^Book"))).to_be_focused()
    keyboard.press("Enter")
    expect(checkout_of(page).get_by_role("heading", name="Confirm your seats")).to_be_focused()
    keyboard.press("Tab")
    expect(page.get_by_role("button", name=re.compile("^Confirm and pay €105.00"))).to_be_focused()
    keyboard.press("Enter")
    expect(page.get_by_role("status")).to_contain_text("Total €105.00")
    expect(page.get_by_role("status")).to_be_focused()
    now = statuses(api, show["id"])
    assert now[stalls_index] == now[circle_index] == "B"


def test_wheelchair_places(open_page, admin_show, api):
    show = admin_show(name="Theatre Access", layout="theatre")
    page = open_page(f"/?show={show['id']}")
    wheelchair = page.locator("button[data-seat-id][data-accessible]")
    expect(wheelchair).to_have_count(6)
    for name in wheelchair.evaluate_all("els => els.map(b => b.getAttribute('aria-label'))"):
        assert ", wheelchair space, " in name
    note = page.locator("[data-role=accessible-note]")
    expect(note).to_be_hidden()
    page.get_by_label("Highlight wheelchair places").check()
    expect(note).to_have_text("Wheelchair places free here: Stalls, Row H seats 1, 2, 20, 21 · Circle, Row A seats 1, 19.")
    page.get_by_label("Highlight wheelchair places").uncheck()
    expect(note).to_be_hidden()


def test_stadium_overview_zoom_book_and_see_it_live(open_page, stadium_show, api):
    show_id = stadium_show["id"]
    layout = layout_of(api, show_id)
    seat, index = seat_in(layout, "Block 108", "1", 20)
    name = "Block 108, Row 1 seat 20, €120.00"

    buyer = open_page(f"/?show={show_id}", name="buyer")
    # The overview: one button per section with what is left, and not one seat button.
    tiles = buyer.locator("button[data-section]")
    expect(tiles).to_have_count(80, timeout=ROOM)
    expect(buyer.locator("button[data-seat-id]")).to_have_count(0)
    tile = buyer.get_by_role("button", name=re.compile(r"^Block 108: [\d,]+ of 1,000 seats left\. Front blocks €120\.00: "))
    tile.click()
    expect(buyer).to_have_url(re.compile(r"[?&]section=Block\+108$"))
    expect(buyer.get_by_role("heading", name="Block 108", exact=True)).to_be_focused()
    expect(buyer.locator("button[data-seat-id]")).to_have_count(1000)
    expect(buyer.locator("button[data-section]")).to_have_count(80)  # kept, hidden, for the way back
    expect(buyer.locator("[data-role=overview]")).to_be_hidden()

    # A second visitor, deep-linked to the same section, watches the seat.
    watcher = open_page(None, name="watcher")
    reads = []
    watcher.on("request", lambda request: reads.append(request.url.split("?")[0].rsplit("/", 1)[-1]))
    watcher.goto(f"/?show={show_id}&section=Block+108")
    expect(seat_button(watcher, seat)).to_have_accessible_name(f"{name}, available", timeout=ROOM)

    buyer.get_by_role("button", name=f"{name}, available", exact=True).click()
    expect(buyer.locator("[data-role=selection-count]")).to_have_text("1 seat selected · €120.00")
    buyer.get_by_label("Your name or e-mail").fill("fan@example.com")
    buyer.get_by_role("button", name=re.compile("^Book")).click()
    checkout_of(buyer).get_by_role("button", name="Confirm and pay €120.00").click()
    expect(buyer.get_by_role("status")).to_contain_text("Block 108, Row 1 seat 20")
    expect(buyer.get_by_role("status")).to_contain_text("Total €120.00")
    assert statuses(api, show_id)[index] == "B"

    expect(seat_button(watcher, seat)).to_have_accessible_name(f"{name}, booked", timeout=LIVE)
    expect(seat_button(watcher, seat)).to_be_disabled()
    # Live by the availability string alone: the layout was read once, the seat list never.
    assert reads.count("availability") >= 2 and reads.count("layout") == 1 and "seats" not in reads, reads
    # Back on the overview, the section counts the seat gone, and focus is on its tile.
    watcher.get_by_role("button", name="← Back to overview").click()
    watcher_tile = watcher.locator("button[data-section='Block 108']")
    expect(watcher_tile).to_be_focused()
    expect(watcher_tile).to_have_accessible_name(re.compile(r"^Block 108: 999 of 1,000 seats left"))
    expect(watcher.locator("button[data-seat-id]")).to_have_count(0)

    # By keyboard: the sections are one Tab stop; arrows move between them, Enter opens one,
    # its name takes focus, and Tab goes on into its seats.
    watcher.keyboard.press("ArrowRight")
    expect(watcher.locator("button[data-section='Block 109']")).to_be_focused()
    watcher.keyboard.press("Enter")
    expect(watcher.get_by_role("heading", name="Block 109", exact=True)).to_be_focused()
    watcher.keyboard.press("Tab")
    expect(watcher.locator("button[data-seat-id]:focus")).to_have_accessible_name(
        re.compile(r"^Block 109, Row 1 seat 1, €120\.00, available$"))

    # The browser's Back goes from the section to the overview too.
    buyer.go_back()
    expect(buyer.locator("[data-role=overview]")).to_be_visible()
    expect(buyer.locator("button[data-seat-id]")).to_have_count(0)


def test_stadium_on_a_phone(open_page, stadium_show, api):
    show_id = stadium_show["id"]
    page = open_page(f"/?show={show_id}", viewport=PHONE, name="phone")
    expect(page.locator("button[data-section]")).to_have_count(80, timeout=ROOM)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    # Narrow: the sections are a list with every word shown.
    tile = page.locator("li.tile-item").filter(has=page.locator("button[data-section='Block 245']"))
    expect(tile).to_contain_text("Block 245")
    expect(tile.locator(".tile-detail")).to_be_visible()
    expect(tile).to_contain_text("Upper ring €45.00: 1,000 left")
    tile.click()
    expect(page.locator("button[data-seat-id]")).to_have_count(1000)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.get_by_role("button", name="Block 245, Row 12 seat 21, €45.00, available", exact=True).click()
    book = page.get_by_role("button", name=re.compile("^Book"))
    expect(book).to_be_in_viewport()
    expect(page.locator("[data-role=selection-count]")).to_be_in_viewport()
    expect(page.locator("[data-role=selection-count]")).to_have_text("1 seat selected · €45.00")
    page.get_by_label("Your name or e-mail").fill("phone@example.com")
    book.click()
    # On a phone the checkout is a sheet from the bottom, Confirm and Cancel in view.
    checkout = checkout_of(page)
    confirm = checkout.get_by_role("button", name="Confirm and pay €45.00")
    expect(confirm).to_be_in_viewport()
    expect(checkout.get_by_role("button", name="Cancel and release seats")).to_be_in_viewport()
    expect(checkout.get_by_role("timer")).to_be_in_viewport()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    confirm.click()
    expect(page.get_by_role("status")).to_contain_text("Booked!")
    expect(page.get_by_role("status")).to_be_in_viewport()


def test_stadium_figures(open_page, stadium_show):
    """Prints what a visitor waits for in the 80,000-seat stadium (run with -s), and holds the
    line that matters: the page never carries the whole room's seats."""
    show_id = stadium_show["id"]
    figures = {}
    page = open_page(None, name="first-visit")
    for visit in ("first visit", "second visit"):
        started = time.perf_counter()
        if visit == "first visit":
            page.goto(f"/?show={show_id}")
        else:
            page.reload()
        page.locator("button[data-section]").first.wait_for(timeout=ROOM)
        figures[f"overview, {visit} (ms)"] = round((time.perf_counter() - started) * 1000)
        figures[f"layout read, {visit}"] = page.evaluate("""() => {
            const entry = performance.getEntriesByType('resource').find((e) => e.name.endsWith('/layout'));
            return entry ? `${Math.round(entry.responseEnd - entry.startTime)} ms, ${entry.transferSize} B over the wire`
                         : 'not requested';
        }""")
    figures["overview DOM nodes"] = page.evaluate("document.getElementsByTagName('*').length")
    figures["JS heap (MB)"] = page.evaluate("performance.memory ? Math.round(performance.memory.usedJSHeapSize / 1e6) : null")
    figures["open a section (ms)"] = page.evaluate("""async () => {
        const started = performance.now();
        document.querySelector("button[data-section='Block 135']").click();
        await new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)));
        if (document.querySelectorAll('button[data-seat-id]').length !== 1000) throw new Error('section not drawn');
        return Math.round(performance.now() - started);
    }""")
    figures["zoomed DOM nodes"] = page.evaluate("document.getElementsByTagName('*').length")
    figures["back to overview (ms)"] = page.evaluate("""async () => {
        const started = performance.now();
        document.querySelector("[data-role=back]").click();
        await new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)));
        return Math.round(performance.now() - started);
    }""")
    print("\nstadium (80,000 seats, 80 sections): " + ", ".join(f"{key} {value}" for key, value in figures.items()))
    assert figures["overview DOM nodes"] < 2_000
    assert figures["zoomed DOM nodes"] < 5_000
