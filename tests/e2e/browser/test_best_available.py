"""Best available: the buyer asks for N seats (a category, wheelchair places) and the server
picks them; the page opens the same checkout as Book's, with the seats held for the buyer."""
import re

import pytest
from playwright.sync_api import expect

from .conftest import DESKTOP, PHONE, http_status_logged

pytestmark = pytest.mark.browser


def test_best_available_by_keyboard_only(open_page, admin_show, api):
    show = admin_show(name="Best Seats Matinee", layout="theatre")
    page = open_page(f"/?show={show['id']}")
    expect(page.locator("button[data-seat-id]")).to_have_count(300)
    keyboard = page.keyboard

    # The form: how many (1 to the show's limit), the categories with prices, wheelchair places.
    count = page.get_by_label("How many seats")
    expect(count.locator("option")).to_have_count(min(10, int(show.get("maxSeatsPerUser") or 10)))
    expect(page.get_by_label("Category", exact=True).locator("option")).to_have_text(
        ["Any category", "Premium €65.00", "Standard €40.00", "Restricted view €18.00"])
    expect(page.get_by_label("Wheelchair places", exact=True)).not_to_be_checked()

    page.get_by_label("Your name or e-mail").focus()
    keyboard.type("best@example.com")
    keyboard.press("Tab")  # Book is disabled (nothing selected): on to the count
    expect(count).to_be_focused()
    keyboard.press("3")
    expect(count).to_have_value("3")
    keyboard.press("Tab")
    expect(page.get_by_label("Category", exact=True)).to_be_focused()
    keyboard.press("Tab")
    expect(page.get_by_label("Wheelchair places", exact=True)).to_be_focused()
    keyboard.press("Tab")
    best = page.get_by_role("button", name=re.compile("^Best available"))
    expect(best).to_be_focused()
    keyboard.press("Enter")

    checkout = page.get_by_role("dialog", name="Confirm your seats")
    expect(checkout.get_by_role("heading", name="Confirm your seats")).to_be_focused()
    seats = checkout.get_by_role("list", name="Your seats").get_by_role("listitem")
    expect(seats).to_have_count(3)
    texts = seats.all_text_contents()
    places = [re.match(r"^(\w+), Row (\w+) seat (\d+) · €", text) for text in texts]
    assert all(places), texts
    assert {(place[1], place[2]) for place in places} == {("Stalls", "A")}, texts
    numbers = sorted(int(place[3]) for place in places)
    assert numbers == list(range(numbers[0], numbers[0] + 3)), texts  # adjacent, in one row
    # Row A is numbered 1-10 | 12-21: the group nearest its middle (11, the aisle) ends at the
    # aisle, the lower of the two tied groups (8-10 and 12-14), and strands no single seat.
    assert numbers == [8, 9, 10], texts
    # On the map, behind the checkout, the picked seats are held for the buyer.
    held = page.locator("button[data-seat-id][aria-label$=', held for you']")
    expect(held).to_have_count(3)
    assert sorted(int(label.split(" seat ")[1].split(",")[0]) for label in held.evaluate_all(
        "nodes => nodes.map(n => n.getAttribute('aria-label'))")) == numbers

    keyboard.press("Tab")
    confirm = checkout.get_by_role("button", name=re.compile("^Confirm and pay"))
    expect(confirm).to_be_focused()
    keyboard.press("Enter")
    status = page.get_by_role("status")
    expect(status).to_contain_text("Booked!")
    expect(status).to_contain_text(f"Stalls, Row A seats {', '.join(map(str, numbers))}")
    expect(page.locator("button[data-seat-id][aria-label$=', booked']")).to_have_count(3)
    assert sum(1 for status in api("GET", f"/shows/{show['id']}/availability")[2]["statuses"] if status == "B") == 3


def test_best_available_not_enough_seats(open_page, admin_show):
    show = admin_show(name="Best Seats Pairs", layout="theatre")
    page = open_page(f"/?show={show['id']}", expected_errors=http_status_logged(409))
    expect(page.locator("button[data-seat-id]")).to_have_count(300)
    page.get_by_label("Your name or e-mail").fill("wheels@example.com")
    page.get_by_label("How many seats").select_option("3")
    page.get_by_label("Wheelchair places", exact=True).check()
    best = page.get_by_role("button", name=re.compile("^Best available"))
    best.click()
    alert = page.get_by_role("alert").filter(has_text="together")
    expect(alert).to_contain_text("No 3 wheelchair places together are left.")
    expect(page.get_by_role("dialog", name="Confirm your seats")).to_be_hidden()
    expect(best).to_be_enabled()
    expect(best).to_be_focused()
    expect(page.locator("button[data-seat-id][aria-label$=', held for you']")).to_have_count(0)

    # Two wheelchair places do sit together: the checkout opens on them.
    page.get_by_label("How many seats").select_option("2")
    best.click()
    checkout = page.get_by_role("dialog", name="Confirm your seats")
    expect(checkout.get_by_role("list", name="Your seats").get_by_role("listitem")).to_have_count(2)
    expect(page.locator("button[data-seat-id][aria-label*='wheelchair space, held for you']")).to_have_count(2)
    checkout.get_by_role("button", name="Cancel and release seats").click()
    expect(page.get_by_role("status")).to_contain_text("released")


@pytest.mark.parametrize("viewport", [pytest.param(DESKTOP, id="desktop"), pytest.param(PHONE, id="phone")])
def test_best_available_passes_axe(open_page, admin_show, axe, viewport):
    size = "desktop" if viewport is DESKTOP else "phone"
    show = admin_show(name=f"Best Seats Audit ({size})", layout="theatre")
    page = open_page(f"/?show={show['id']}", viewport=viewport, bypass_csp=True)
    expect(page.locator("button[data-seat-id]")).to_have_count(300)
    page.get_by_label("How many seats").focus()
    axe(page, f"theatre with the best available control, {size}")


def test_best_available_in_a_big_room_zooms_to_the_seats(open_page, stadium_show):
    page = open_page(f"/?show={stadium_show['id']}")
    expect(page.locator("button[data-section]")).to_have_count(80, timeout=20_000)
    page.get_by_label("Your name or e-mail").fill("big@example.com")
    page.get_by_label("How many seats").select_option("2")
    page.get_by_role("button", name=re.compile("^Best available")).click()
    checkout = page.get_by_role("dialog", name="Confirm your seats")
    expect(checkout.get_by_role("heading", name="Confirm your seats")).to_be_focused()
    first = checkout.get_by_role("list", name="Your seats").get_by_role("listitem").first
    expect(first).to_have_text(re.compile(r"^.+, Row \w+ seat \d+ · "))
    section = first.text_content().split(", Row ")[0]
    # Behind the checkout: zoomed into that section, its two seats held for the buyer.
    expect(page.locator("[data-role=zoom-title]")).to_have_text(section)
    expect(page.locator("button[data-seat-id][aria-label$=', held for you']")).to_have_count(2)
    expect(page).to_have_url(re.compile(r"[?&]section="))
    checkout.get_by_role("button", name="Cancel and release seats").click()  # the stadium is shared
    expect(page.get_by_role("status")).to_contain_text("released")
