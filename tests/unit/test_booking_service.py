"""The booking service's own decisions, on the in-memory unit of work: what it books, refuses,
records and replays. The same rules under real races are tested on PostgreSQL in
tests/integration (test_race.py, test_bookings.py)."""
import uuid
from datetime import datetime, timedelta, timezone

import pytest

from chalicelib import services
from chalicelib.errors import Forbidden, IdempotencyKeyReused, NotFound, SeatUnavailable, ShowStarted, ValidationError
from chalicelib.layout import grid
from chalicelib.model import BookingStatus, SeatStatus
from chalicelib.validation import BookingRequest, ShowRequest
from tests.support.fakes import FakeDatabase


@pytest.fixture
def database():
    return FakeDatabase()


@pytest.fixture
def show(database):
    start = datetime.now(timezone.utc) + timedelta(days=3)
    return services.create_show(ShowRequest("Fake Night", start, grid(2, 4)), uow=database)


@pytest.fixture
def seats(database, show):
    return [seat.id for seat, _ in services.seat_map(show.id, uow=database).seats]


@pytest.fixture
def book(database, show):
    def book(user, *seat_ids, key=None, show_id=None):
        request = BookingRequest(user, tuple(sorted(seat_ids)))
        return services.book_seats(show_id or show.id, request, key, uow=database)

    return book


def statuses_of(database, show):
    return {seat.id: status for seat, status in services.seat_map(show.id, uow=database).seats}


def test_a_booking_claims_its_seats_and_its_token_opens_it(database, show, seats, book):
    issued = book("ann", seats[1], seats[0])
    assert issued.booking.status is BookingStatus.CONFIRMED
    assert [seat.id for seat in issued.booking.seats] == [seats[0], seats[1]]
    assert services.get_booking(issued.booking.id, issued.token, uow=database) == issued.booking
    assert statuses_of(database, show)[seats[0]] is SeatStatus.BOOKED
    assert services.get_show(show.id, uow=database).available_seats == show.total_seats - 2
    assert issued.token.encode() not in b"".join(database.tables.token_hashes)  # only a hash is kept


def test_a_refusal_names_only_the_taken_seats_books_nothing_and_is_recorded(database, show, seats, book):
    book("ann", seats[1])
    with pytest.raises(SeatUnavailable) as refusal:
        book("bob", seats[0], seats[1], seats[2])
    assert refusal.value.seat_ids == [str(seats[1])]
    assert statuses_of(database, show)[seats[0]] is SeatStatus.AVAILABLE  # the free ones were not kept
    bobs = [row for row in database.tables.bookings.values() if row["user_id"] == "bob"]
    assert [row["status"] for row in bobs] == [BookingStatus.FAILED]


def test_a_failure_after_the_claims_leaves_nothing_behind(database, show, seats, monkeypatch):
    def explode(*args):
        raise RuntimeError("injected")

    monkeypatch.setattr("tests.support.fakes.FakeRepository.insert_booking_token", explode)
    with pytest.raises(RuntimeError):
        services.book_seats(show.id, BookingRequest("ann", (seats[0],)), "key", uow=database)
    assert database.tables.bookings == {} and database.tables.claims == {} and database.tables.idempotency == {}


@pytest.mark.parametrize("show_id, error", [(None, ValidationError), ("unknown", NotFound)])
def test_seats_of_another_show_and_unknown_shows_are_refused(database, seats, book, show_id, error):
    other = services.create_show(ShowRequest("Other", datetime.now(timezone.utc) + timedelta(days=1), grid(1, 1)),
                                 uow=database)
    foreign = services.seat_map(other.id, uow=database).seats[0][0].id
    with pytest.raises(error):
        book("ann", seats[0], foreign, show_id=uuid.uuid4() if show_id == "unknown" else None)
    assert all(row["user_id"] != "ann" for row in database.tables.bookings.values())


def test_a_started_show_is_refused(database, show, seats, book):
    database.now = show.start_time
    with pytest.raises(ShowStarted):
        book("ann", seats[0])


def test_a_replay_answers_the_first_booking_with_a_fresh_token_even_after_a_cancel(database, seats, book):
    first = book("ann", seats[0], key="k")
    services.cancel_booking(first.booking.id, first.token, uow=database)
    replay = book("ann", seats[0], key="k")
    assert replay.booking == first.booking and replay.booking.status is BookingStatus.CONFIRMED
    assert replay.token != first.token
    assert services.get_booking(first.booking.id, replay.token, uow=database).status is BookingStatus.CANCELLED
    assert len(database.tables.bookings) == 1


def test_a_replayed_refusal_names_the_same_seats_after_they_are_freed(database, seats, book):
    holder = book("ann", seats[0])
    with pytest.raises(SeatUnavailable):
        book("bob", seats[0], key="k")
    services.cancel_booking(holder.booking.id, holder.token, uow=database)
    with pytest.raises(SeatUnavailable) as replay:
        book("bob", seats[0], key="k")
    assert replay.value.seat_ids == [str(seats[0])]


def test_a_key_with_another_body_is_refused_until_it_expires(database, seats, book):
    book("ann", seats[0], key="k")
    with pytest.raises(IdempotencyKeyReused):
        book("ann", seats[1], key="k")
    database.now += timedelta(hours=24, seconds=1)
    assert book("ann", seats[1], key="k").booking.seats[0].id == seats[1]


def test_cancel_frees_the_seats_once_and_needs_a_token_of_the_booking(database, show, seats, book):
    first = book("ann", seats[0])
    other = book("bob", seats[1])
    with pytest.raises(Forbidden):
        services.cancel_booking(first.booking.id, other.token, uow=database)
    assert services.cancel_booking(first.booking.id, first.token, uow=database).status is BookingStatus.CANCELLED
    assert services.cancel_booking(first.booking.id, first.token, uow=database).status is BookingStatus.CANCELLED
    assert statuses_of(database, show)[seats[0]] is SeatStatus.AVAILABLE
    assert statuses_of(database, show)[seats[1]] is SeatStatus.BOOKED
    with pytest.raises(NotFound):
        services.get_booking(uuid.uuid4(), first.token, uow=database)


def test_the_seat_map_version_follows_the_statuses(database, show, seats, book):
    before = services.seat_map(show.id, uow=database)
    issued = book("ann", seats[0])
    booked = services.seat_map(show.id, uow=database)
    assert booked.version != before.version
    services.cancel_booking(issued.booking.id, issued.token, uow=database)
    assert services.seat_map(show.id, uow=database).version == before.version
    with pytest.raises(NotFound):
        services.seat_map(uuid.uuid4(), uow=database)
