"""Venues on real PostgreSQL: the theatre's order and totals, prices, sections, the layout and
availability reads, and the stadium at full size."""
import random
import time
import uuid
from dataclasses import replace
from datetime import timedelta

import pytest
from chalice.test import Client

from app import app
from chalicelib import db, services
from chalicelib.errors import NotFound, SeatUnavailable, ValidationError
from chalicelib.listing import ShowPosition, ShowsQuery
from chalicelib.validation import BookingRequest
from tests.support.layouts import example_layout


@pytest.fixture(scope="module")
def client():
    with Client(app) as client:
        yield client


def book(show, user, *seat_ids):
    return services.book_seats(show.id, BookingRequest(user, tuple(sorted(seat_ids))))


def seat_list(show, section=None):
    return services.seat_map(show.id, section).seats


def test_the_theatre_in_layout_order_with_its_sections_and_prices(theatre):
    assert (theatre.total_seats, theatre.available_seats, theatre.currency) == (300, 300, "EUR")
    assert [section.to_json() for section in theatre.sections] == [
        {"name": "Stalls", "totalSeats": 160, "availableSeats": 160},
        {"name": "Circle", "totalSeats": 90, "availableSeats": 90},
        {"name": "Balcony", "totalSeats": 50, "availableSeats": 50}]
    assert [(c.id, c.price) for c in theatre.categories] == [("PREMIUM", 6500), ("STANDARD", 4000),
                                                            ("RESTRICTED", 1800)]
    expected = [(theatre_layout.sections[seat.section].name, seat.row, seat.number, seat.category, seat.accessible)
                for theatre_layout in [example_layout("theatre")] for seat in theatre_layout.seats()]
    seats = seat_list(theatre)
    assert [(s.section, s.row, s.number, s.category, s.accessible) for s, _ in seats] == expected
    assert [s.number for s, _ in seats][:12] == [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 12, 13]  # the aisle is a gap
    circle_a = [s for s, _ in seats if s.section == "Circle" and s.row == "A"]
    assert [s.category for s in circle_a if s.number in (7, 8, 12, 13)] == ["STANDARD", "PREMIUM", "PREMIUM",
                                                                             "STANDARD"]


def test_a_booking_carries_its_total_and_the_show_its_section_availability(theatre):
    seats = seat_list(theatre)
    premium = next(s for s, _ in seats if s.category == "PREMIUM")
    restricted = next(s for s, _ in seats if s.category == "RESTRICTED")
    issued = book(theatre, "ann", premium.id, restricted.id)
    assert issued.to_json()["total"] == {"amount": 6500 + 1800, "currency": "EUR"}
    assert [(seat["section"], seat["category"]) for seat in issued.to_json()["seats"]] == \
        [("Stalls", "PREMIUM"), ("Balcony", "RESTRICTED")]
    assert services.get_booking(issued.booking.id, issued.token).total.amount == 8300
    show = services.get_show(theatre.id)
    assert [(s.name, s.available_seats) for s in show.sections] == [("Stalls", 159), ("Circle", 90), ("Balcony", 49)]
    assert show.available_seats == 298
    just_before = ShowPosition(theatre.start_time - timedelta(microseconds=1), uuid.UUID(int=0))
    listed = services.list_shows(ShowsQuery(limit=1, after=just_before)).shows[0]
    assert listed == show
    with pytest.raises(SeatUnavailable):
        book(theatre, "bob", restricted.id)
    assert services.get_show(theatre.id).sections == show.sections  # a refusal changes nothing


def test_the_seat_list_of_one_section(theatre, client):
    circle = seat_list(theatre, "Circle")
    assert len(circle) == 90 and {seat.section for seat, _ in circle} == {"Circle"}
    answer = client.http.get(f"/shows/{theatre.id}/seats?section=Balcony")
    assert answer.status_code == 200
    assert [seat["row"] for seat in answer.json_body["seats"]] == ["A"] * 25 + ["B"] * 25
    assert client.http.get(f"/shows/{theatre.id}/seats?section=Foyer").status_code == 404
    with pytest.raises(NotFound):
        seat_list(theatre, "Foyer")


def statuses_from_the_seat_list(show):
    return "".join(status.letter for _, status in seat_list(show))


@pytest.mark.parametrize("round_number", range(3))
def test_availability_follows_bookings_and_cancellations_seat_by_seat(theatre, round_number):
    rng = random.Random(round_number)
    seat_ids = [seat.id for seat, _ in seat_list(theatre)]
    live = []
    for step in range(40):
        if live and rng.random() < 0.35:
            issued = live.pop(rng.randrange(len(live)))
            services.cancel_booking(issued.booking.id, issued.token)
        else:
            try:
                live.append(book(theatre, f"u{step}", *rng.sample(seat_ids, rng.randint(1, 4))))
            except SeatUnavailable:
                pass
        availability = services.availability(theatre.id)
        assert availability.statuses == statuses_from_the_seat_list(theatre)
        assert len(availability.statuses) == 300
    booked = {seat.id for issued in live for seat in issued.booking.seats}
    assert services.availability(theatre.id).statuses == "".join("B" if seat in booked else "A" for seat in seat_ids)


def test_the_availability_etag_changes_with_every_status_change_and_only_then(theatre, client):
    path = f"/shows/{theatre.id}/availability"
    first = client.http.get(path)
    assert first.status_code == 200 and first.headers["Cache-Control"] == "public, max-age=1"
    etag = first.headers["ETag"]
    assert client.http.get(path).headers["ETag"] == etag  # nothing changed
    assert client.http.get(path, headers={"If-None-Match": etag}).status_code == 304
    seat = seat_list(theatre)[5][0]
    issued = book(theatre, "ann", seat.id)
    booked = client.http.get(path, headers={"If-None-Match": etag})
    assert booked.status_code == 200 and booked.headers["ETag"] != etag
    assert booked.json_body["statuses"][5] == "B" and booked.json_body["statuses"].count("B") == 1
    with pytest.raises(SeatUnavailable):
        book(theatre, "bob", seat.id)
    assert client.http.get(path).headers["ETag"] == booked.headers["ETag"]  # a refusal changes no status
    services.cancel_booking(issued.booking.id, issued.token)
    assert client.http.get(path).headers["ETag"] == etag  # the same statuses again
    assert client.http.get(f"/shows/{uuid.uuid4()}/availability").status_code == 404


def test_the_layout_is_the_room_with_seat_ids_and_cached_for_good(theatre, client):
    answer = client.http.get(f"/shows/{theatre.id}/layout")
    assert answer.status_code == 200
    assert answer.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    room = answer.json_body
    assert (room["showId"], room["currency"]) == (str(theatre.id), "EUR")
    assert [c["id"] for c in room["categories"]] == ["PREMIUM", "STANDARD", "RESTRICTED"]
    stalls = room["sections"][0]
    assert (stalls["name"], stalls["position"], stalls["curve"]) == ("Stalls", {"x": 50, "y": 30}, 0.2)
    assert [row["label"] for row in stalls["rows"]] == list("ABCDEFGH")
    assert stalls["rows"][7]["seats"][0] == {"id": stalls["rows"][7]["seats"][0]["id"], "number": 1,
                                              "category": "STANDARD", "accessible": True}
    in_layout = [seat["id"] for section in room["sections"] for row in section["rows"] for seat in row["seats"]]
    assert in_layout == [str(seat.id) for seat, _ in seat_list(theatre)]  # the availability string's order
    assert client.http.get(f"/shows/{theatre.id}/layout",
                           headers={"If-None-Match": answer.headers["ETag"]}).status_code == 304
    assert client.http.get(f"/shows/{uuid.uuid4()}/layout").status_code == 404


def test_reading_availability_waits_for_no_booking_in_flight(theatre, database_url):
    """A booking holding its claim uncommitted (as under a crowd) does not hold up the read:
    availability answers at once, from what is committed. A read that locked the claims for a
    consistent count (LOCK seat_bookings IN SHARE MODE) would wait here until lock_timeout
    and answer UNAVAILABLE."""
    seat = seat_list(theatre)[0][0]
    booker = db.connect(db.settings())
    try:
        booker.run("START TRANSACTION")
        booker.run("INSERT INTO bookings (id, show_id, user_id, status) VALUES (:id, :show, 'slow', 'CONFIRMED')",
                   id=uuid.uuid4(), show=theatre.id)
        booker.run("INSERT INTO seat_bookings (show_id, seat_id, booking_id) "
                   "SELECT show_id, :seat, id FROM bookings WHERE user_id = 'slow' AND show_id = :show",
                   seat=seat.id, show=theatre.id)
        started = time.monotonic()
        statuses = services.availability(theatre.id).statuses
        assert time.monotonic() - started < db.settings().lock_timeout_ms / 1000
        assert statuses[0] == "A"  # not committed yet
        booker.run("COMMIT")
        assert services.availability(theatre.id).statuses[0] == "B"
    finally:
        booker.close()


def test_the_stadium_goes_in_as_one_show(make_show):
    settings = db.settings()
    db.configure(replace(settings, statement_timeout_ms=50_000))  # as the create_show function has it
    try:
        started = time.perf_counter()
        stadium = make_show(layout=example_layout("stadium"))
        created_s = time.perf_counter() - started
    finally:
        db.configure(settings)
    assert (stadium.total_seats, len(stadium.sections)) == (80_000, 80)
    availability = services.availability(stadium.id)
    assert availability.statuses == "A" * 80_000
    with pytest.raises(ValidationError, match="80000 seats: ask for one section"):
        seat_list(stadium)  # 80,000 seats would not fit one Lambda answer
    section = stadium.sections[40].name
    seat = seat_list(stadium, section)[0][0]
    book(stadium, "fan", seat.id)
    assert services.availability(stadium.id).statuses.count("B") == 1
    assert services.get_show(stadium.id).sections[40].available_seats == 999
    print(f"stadium created in {created_s:.2f} s")  # a figure, not a check: see make bench
