"""The guarantee: however many racers, each seat is sold once, everyone else is told at once,
and every attempt is accounted for. Repeated to catch a rare loss."""
import functools
import random

import pytest

from chalicelib import services
from chalicelib.validation import BookingRequest
from tests.support.layouts import example_layout
from tests.support.race import race_processes, race_threads

RACERS = 50


def book(show_id, user_id, seat_ids):
    return services.book_seats(show_id, BookingRequest(user_id, tuple(sorted(seat_ids))))


def assert_one_winner(results, sql, show_id, seat_id):
    winners = [result for result in results if result[0] == "CONFIRMED"]
    losers = [result for result in results if result[0] == "SEAT_UNAVAILABLE"]
    assert len(winners) == 1, results
    assert len(losers) == RACERS - 1, [result for result in results if result[0] != "CONFIRMED"][:3]
    assert all(message == "Seat unavailable" and seats == [str(seat_id)] for _, message, seats in losers)
    claims = sql("SELECT booking_id FROM seat_bookings WHERE show_id = :show AND seat_id = :seat",
                 show=show_id, seat=seat_id)
    assert [str(row[0]) for row in claims] == [winners[0][1]]
    statuses = sql("SELECT b.status, count(*) FROM bookings b JOIN booking_seats bs ON bs.booking_id = b.id "
                   "WHERE bs.show_id = :show AND bs.seat_id = :seat GROUP BY b.status", show=show_id, seat=seat_id)
    assert dict(statuses) == {"CONFIRMED": 1, "FAILED": RACERS - 1}


# Every race runs in a one-section grid and in the three-section theatre (a seat of its
# second section, the Circle): sections and categories change nothing about who wins.
ROOMS = ["grid", "theatre"]


def room_show(make_show, room, rows, seats_per_row):
    return make_show(rows=rows, seats_per_row=seats_per_row) if room == "grid" else make_show(layout=example_layout(room))


def seats_of(sql, show, room):
    """The show's seat ids in layout order: all of the grid's, or the theatre Circle's."""
    section = 0 if room == "grid" else 1
    return [row[0] for row in sql("SELECT id FROM seats WHERE show_id = :show AND section_position = :section "
                                  "ORDER BY ordinal", show=show.id, section=section)]


def race_for_one_seat(make_show, sql, race, racer_name, room):
    show = room_show(make_show, room, 1, 3)
    seat_id = seats_of(sql, show, room)[0]
    attempts = [functools.partial(book, show.id, f"{racer_name}-{index}", [seat_id]) for index in range(RACERS)]
    assert_one_winner(race(attempts), sql, show.id, seat_id)


@pytest.mark.parametrize("room", ROOMS)
@pytest.mark.parametrize("round_number", range(20))
def test_fifty_threads_race_for_one_seat(make_show, sql, round_number, room):
    race_for_one_seat(make_show, sql, race_threads, "thread", room)


@pytest.mark.parametrize("room", ROOMS)
@pytest.mark.parametrize("round_number", range(5))
def test_fifty_processes_race_for_one_seat(make_show, sql, round_number, room):
    race_for_one_seat(make_show, sql, race_processes, "process", room)


@pytest.mark.parametrize("room", ROOMS)
@pytest.mark.parametrize("round_number", range(5))
def test_overlapping_four_seat_bookings_never_deadlock_or_double_sell(make_show, sql, round_number, room):
    show = room_show(make_show, room, 1, 24)
    seats = seats_of(sql, show, room)[:24]
    rng = random.Random(round_number)
    attempts = []
    for index in range(40):
        start = rng.randrange(len(seats) - 3)
        window = seats[start:start + 4]
        rng.shuffle(window)  # the service must sort; hand it any order
        attempts.append(functools.partial(
            services.book_seats, show.id, BookingRequest(f"group-{index}", tuple(window))))
    results = race_threads(attempts)
    assert {result[0] for result in results} <= {"CONFIRMED", "SEAT_UNAVAILABLE"}, results
    confirmed = sql("SELECT bs.booking_id, bs.seat_id FROM booking_seats bs JOIN bookings b ON b.id = bs.booking_id "
                    "WHERE b.show_id = :show AND b.status = 'CONFIRMED'", show=show.id)
    claims = sql("SELECT booking_id, seat_id FROM seat_bookings WHERE show_id = :show", show=show.id)
    claimed_seats = [seat for _, seat in claims]
    assert len(claimed_seats) == len(set(claimed_seats)), "a seat was claimed twice"
    assert sorted(map(tuple, claims)) == sorted(map(tuple, confirmed)), "claims differ from confirmed seats"
    winners = sum(result[0] == "CONFIRMED" for result in results)
    assert len(claims) == 4 * winners
    assert winners >= 1
