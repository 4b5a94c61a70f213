"""axe-core audits every screen, at desktop and phone width: any violation fails the test."""
import re

import pytest
from playwright.sync_api import expect

from .conftest import DESKTOP, PHONE, show_link

pytestmark = pytest.mark.browser

SIZES = [pytest.param(DESKTOP, id="desktop"), pytest.param(PHONE, id="phone")]


@pytest.mark.parametrize("viewport", SIZES)
def test_shows_seat_map_and_bookings_pass_axe(open_page, admin_show, api, axe, viewport):
    size = "desktop" if viewport is DESKTOP else "phone"
    name = f"Audit Night ({size})"
    show = admin_show(name=name, rows=6, seats_per_row=14)
    seats = api("GET", f"/shows/{show['id']}/seats")[2]["seats"]
    assert api("POST", f"/shows/{show['id']}/bookings", {"userId": "someone", "seatIds": [seats[3]["id"]]})[0] == 201

    page = open_page("/", viewport=viewport, bypass_csp=True)
    link = show_link(page, re.compile(f"^{re.escape(name)}"))
    expect(link).to_be_visible()
    axe(page, f"shows list, {size}")

    link.click()
    expect(page.locator("button[data-seat-id]")).to_have_count(len(seats))
    page.locator(f"button[data-seat-id='{seats[5]['id']}']").click()
    page.locator(f"button[data-seat-id='{seats[5]['id']}']").focus()  # the focus ring is audited too
    axe(page, f"seat map with a booked and a selected seat, {size}")

    page.get_by_label("Your name or e-mail").fill("audit@example.com")
    page.get_by_role("button", name=re.compile("^Book")).click()
    checkout = page.get_by_role("dialog", name="Confirm your seats")
    expect(checkout.get_by_role("timer")).to_have_text(re.compile(r"^\d+:\d\d$"))
    axe(page, f"the checkout, open, {size}")
    checkout.get_by_role("button", name=re.compile("^Confirm")).click()
    expect(page.get_by_role("status")).to_contain_text("Booked!")
    axe(page, f"seat map after a booking, {size}")

    page.get_by_role("link", name="See My bookings").click()
    expect(page.locator("li.booking")).to_contain_text("Confirmed")
    axe(page, f"my bookings, {size}")


@pytest.mark.parametrize("viewport", SIZES)
def test_theatre_sections_pass_axe(open_page, admin_show, axe, viewport):
    size = "desktop" if viewport is DESKTOP else "phone"
    show = admin_show(name=f"Audit Theatre ({size})", layout="theatre")
    page = open_page(f"/?show={show['id']}", viewport=viewport, bypass_csp=True)
    expect(page.locator("button[data-seat-id]")).to_have_count(300)
    page.get_by_role("button", name="Circle, Row A seat 8, €65.00, available", exact=True).click()
    page.get_by_label("Highlight wheelchair places").check()
    expect(page.locator("[data-role=accessible-note]")).to_be_visible()
    axe(page, f"theatre, three sections, wheelchair places highlighted, {size}")


@pytest.mark.parametrize("viewport", SIZES)
def test_stadium_overview_and_a_section_pass_axe(open_page, stadium_show, axe, viewport):
    size = "desktop" if viewport is DESKTOP else "phone"
    page = open_page(f"/?show={stadium_show['id']}", viewport=viewport, bypass_csp=True)
    expect(page.locator("button[data-section]")).to_have_count(80, timeout=20_000)  # a 5 MB layout, first read
    axe(page, f"stadium overview, {size}")
    page.get_by_label("Highlight wheelchair places").check()
    axe(page, f"stadium overview with wheelchair places, {size}")
    page.get_by_label("Highlight wheelchair places").uncheck()
    page.locator("button[data-section='Block 150']").click()
    expect(page.locator("button[data-seat-id]")).to_have_count(1000)
    page.locator("button[data-seat-id]").nth(30).click()
    axe(page, f"stadium, one section zoomed, {size}")


@pytest.mark.parametrize("viewport", SIZES)
def test_checkout_in_its_last_minute_passes_axe(open_page, admin_show, api, sql, axe, viewport):
    """The checkout of a priced room, as it opens and in its last minute (the urgent countdown
    and the warning): the hold is moved to 50 s from its end on the database side, and the page
    reads it again as its tab comes back to the front."""
    size = "desktop" if viewport is DESKTOP else "phone"
    show = admin_show(name=f"Audit Checkout ({size})", layout="theatre")
    page = open_page(f"/?show={show['id']}", viewport=viewport, bypass_csp=True)
    page.evaluate("localStorage.setItem('modex.userId', JSON.stringify('audit@example.com'))")
    page.reload()
    page.get_by_role("button", name="Stalls, Row H seat 1, €40.00, wheelchair space, available", exact=True).click()
    page.get_by_role("button", name="Stalls, Row H seat 2, €40.00, wheelchair space, available", exact=True).click()
    with page.expect_response(lambda r: r.url.endswith("/holds") and r.request.method == "POST") as answer:
        page.get_by_role("button", name=re.compile("^Book")).click()
    checkout = page.get_by_role("dialog", name="Confirm your seats")
    expect(checkout.get_by_role("button", name="Confirm and pay €80.00")).to_be_visible()
    expect(checkout.get_by_role("timer")).to_have_text(re.compile(r"^(10:00|9:[0-5]\d)$"))
    axe(page, f"the theatre's checkout, open, {size}")

    hold_id = answer.value.json()["id"]
    sql("UPDATE holds SET expires_at = now() + interval '50 seconds' WHERE id = CAST(:id AS uuid)", id=hold_id)
    sql("UPDATE seat_bookings SET expires_at = now() + interval '50 seconds' WHERE hold_id = CAST(:id AS uuid)", id=hold_id)
    page.evaluate("document.dispatchEvent(new Event('visibilitychange'))")
    expect(checkout.locator("[data-role=warning]")).to_contain_text("Less than a minute left")
    expect(checkout.get_by_role("timer")).to_have_text(re.compile(r"^0:[45]\d$"))
    axe(page, f"the theatre's checkout in its last minute, {size}")
    checkout.get_by_role("button", name="Cancel and release seats").click()
    expect(checkout).to_be_hidden()
