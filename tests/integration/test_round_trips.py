"""What a booking costs on the wire: round trips to PostgreSQL and transactions, counted where
pg8000 sends (every flush of its socket is followed by a wait for the server's answer)."""
import uuid

import pytest

from chalicelib import db, holds, services
from chalicelib.errors import SeatUnavailable
from chalicelib.validation import BookingRequest, HoldRequest
from tools.stress.bench.cost import Wire


def test_a_booking_is_one_transaction_of_three_round_trips(show, seat_ids):
    services.get_show(show.id)  # this thread's connection is open, as in a warm container
    with Wire() as counts:
        booking = services.book_seats(show.id, BookingRequest("ann", (seat_ids[0], seat_ids[1])), "key-1")
    assert booking.booking.status.value == "CONFIRMED"
    assert counts.transactions == 1
    assert counts.round_trips == 3  # START TRANSACTION + SET LOCALs, modex_claim, COMMIT


def test_a_refused_booking_is_one_transaction_too(show, seat_ids):
    services.book_seats(show.id, BookingRequest("ann", (seat_ids[0],)))
    with Wire() as counts, pytest.raises(SeatUnavailable):
        services.book_seats(show.id, BookingRequest("bob", (seat_ids[0], seat_ids[1])))
    assert counts.transactions == 1
    assert counts.round_trips == 3


def test_a_hold_and_its_confirmation_are_three_round_trips_each(show, seat_ids):
    services.get_show(show.id)
    with Wire() as counts:
        issued = holds.hold_seats(show.id, HoldRequest("ann", (seat_ids[0],)))
    assert (counts.transactions, counts.round_trips) == (1, 3)
    with Wire() as counts:
        holds.confirm_hold(issued.hold.id, issued.token)
    assert (counts.transactions, counts.round_trips) == (1, 3)


@pytest.mark.parametrize("user_id", ["o'brien", "back\\slash", "'); DROP TABLE seats; --", "$$ dollar $$", "ünï 𝄞"])
def test_values_written_into_the_statement_arrive_as_they_were_sent(show, seat_ids, sql, user_id):
    """The hot path inlines its values (pg8000's literal); nothing a user id holds escapes its quotes."""
    key = f"key {user_id}"
    booking = services.book_seats(show.id, BookingRequest(user_id, (seat_ids[0],)), key).booking
    stored = sql("SELECT user_id FROM bookings WHERE id = :id", id=booking.id)
    assert stored == [[user_id]]
    again = services.book_seats(show.id, BookingRequest(user_id, (seat_ids[0],)), key).booking
    assert again.id == booking.id
    services.cancel_booking(booking.id, services.book_seats(show.id, BookingRequest(user_id, (seat_ids[0],)),
                                                            key).token)
    assert sql("SELECT count(*) FROM seats WHERE show_id = :show", show=show.id)[0][0] == len(seat_ids)
    assert isinstance(booking.id, uuid.UUID)


def test_inlined_values_stay_literal_even_where_backslashes_would_escape(show, seat_ids, sql):
    """With standard_conforming_strings off, a backslash before a quote would end the literal
    early; every transaction sets it on itself, whatever the session (or server) says."""
    user_id = "x\\'); DELETE FROM seats; --"
    db.connection().run("SET standard_conforming_strings = off")  # this thread's session
    try:
        booking = services.book_seats(show.id, BookingRequest(user_id, (seat_ids[0],))).booking
    finally:
        db.connection().run("SET standard_conforming_strings = on")
    assert sql("SELECT user_id FROM bookings WHERE id = :id", id=booking.id) == [[user_id]]
    assert sql("SELECT count(*) FROM seats WHERE show_id = :show", show=show.id)[0][0] == len(seat_ids)
