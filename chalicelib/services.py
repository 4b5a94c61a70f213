"""Use cases. Each runs in one or more units of work (a transaction with its repository) and
returns domain values or raises domain errors; the HTTP handlers, the admin function and the
tools all call these. `uow` is the unit-of-work factory: the database by default, an in-memory
fake in unit tests."""
import hashlib
import hmac
import secrets
import uuid
from dataclasses import replace
from typing import Callable, List, Optional, Sequence

from .errors import Forbidden, IdempotencyKeyReused, NotFound, SeatUnavailable, ShowStarted, ValidationError
from .model import Availability, Booking, BookingStatus, IssuedBooking, Room, SeatMap, Show
from .repository import IdempotencyRecord, Repository
from .unit_of_work import UnitOfWork
from .validation import BookingRequest, ShowRequest

UnitOfWorkFactory = Callable[[], UnitOfWork]
WHOLE_SEAT_LIST_LIMIT = 20_000


class _SeatsTaken(Exception):
    """Some requested seats were claimed by others: roll the booking back."""

    def __init__(self, seat_ids: Sequence[int]):
        super().__init__(seat_ids)
        self.seat_ids = seat_ids


class _KeyAlreadyAnswered(Exception):
    """A concurrent request with the same Idempotency-Key answered first: roll back, replay."""


def _hash_token(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def _issue(repository: Repository, booking: Booking) -> IssuedBooking:
    # 256 random bits; only the hash is stored, so a database leak opens no booking.
    token = secrets.token_urlsafe(32)
    repository.insert_booking_token(booking.id, _hash_token(token))
    return IssuedBooking(booking, token)


def list_shows(uow: UnitOfWorkFactory = UnitOfWork) -> List[Show]:
    """All shows, soonest first, with the seats still available."""
    with uow() as work:
        return work.repository.list_shows()


def _show_found(value):
    """The value read for a show, or NotFound when there was none (an unknown show)."""
    if value is None:
        raise NotFound("No such show.")
    return value


def get_show(show_id: uuid.UUID, uow: UnitOfWorkFactory = UnitOfWork) -> Show:
    with uow() as work:
        return _show_found(work.repository.find_show(show_id))


def seat_map(show_id: uuid.UUID, section: Optional[str] = None, uow: UnitOfWorkFactory = UnitOfWork) -> SeatMap:
    """Every seat of the show (or of one section) with its status, in layout order.

    A whole list of a big room would not fit one Lambda answer (6 MB: some 50,000 seats), so a
    show over WHOLE_SEAT_LIST_LIMIT seats is listed a section at a time; /availability and
    /layout describe all of it.
    """
    with uow() as work:
        size = _show_found(work.repository.show_size(show_id))
        if section is None and size > WHOLE_SEAT_LIST_LIMIT:
            raise ValidationError(f"This show has {size} seats: ask for one section with ?section=NAME, or read "
                                  "its /availability and /layout.")
        seats = work.repository.seat_map(show_id, section)
    if not seats:
        raise NotFound("No such section in this show.")  # every section has seats
    return SeatMap(show_id, tuple(seats))


def availability(show_id: uuid.UUID, uow: UnitOfWorkFactory = UnitOfWork) -> Availability:
    """The status of every seat as one character, in layout order: the cheap read a crowd polls."""
    with uow() as work:
        return Availability(show_id, _show_found(work.repository.availability(show_id)))


def room(show_id: uuid.UUID, uow: UnitOfWorkFactory = UnitOfWork) -> Room:
    """The show's layout with its seat ids: sections, rows, seats, categories and prices."""
    with uow() as work:
        return _show_found(work.repository.room(show_id))


def create_show(request: ShowRequest, uow: UnitOfWorkFactory = UnitOfWork) -> Show:
    """Creates a show and its whole room (categories, sections, seats) in one transaction."""
    with uow() as work:
        return work.repository.insert_show(uuid.uuid4(), request.name, request.start_time, request.layout,
                                           request.hold_minutes, request.max_seats_per_user)


def book_seats(show_id: uuid.UUID, request: BookingRequest, idempotency_key: Optional[str] = None,
               uow: UnitOfWorkFactory = UnitOfWork) -> IssuedBooking:
    """Books all of `request.seat_ids` or none of them; returns the booking with a fresh token.

    The claim is one INSERT into seat_bookings in sorted seat order; UNIQUE (show_id, seat_id)
    decides who wins. When any seat is taken the whole transaction rolls back, the attempt is
    recorded as a FAILED booking in its own short transaction, and SeatUnavailable names the
    taken seats. With an Idempotency-Key, the outcome is stored in the same transaction as the
    booking, so a repeat of the request (or a concurrent twin, which waits on the key's row)
    gets the same answer.
    """
    try:
        with uow() as work:
            if idempotency_key is not None:
                record = work.repository.find_idempotency_record(show_id, idempotency_key)
                if record is not None:
                    return _replay(work.repository, record, request)
            return _confirm(work.repository, show_id, request, idempotency_key)
    except _SeatsTaken as taken:
        return _record_failure(show_id, request, idempotency_key, taken.seat_ids, uow)
    except _KeyAlreadyAnswered:
        return _replay_stored(show_id, request, idempotency_key, uow)


def _confirm(repository: Repository, show_id: uuid.UUID, request: BookingRequest,
             idempotency_key: Optional[str]) -> IssuedBooking:
    booking_id = uuid.uuid4()
    created = repository.insert_booking(booking_id, show_id, request.user_id, BookingStatus.CONFIRMED)
    if created is None:
        raise _show_missing_or_started(repository, show_id)
    seats = repository.insert_booking_seats(booking_id, show_id, request.seat_ids)
    if len(seats) != len(request.seat_ids):
        raise ValidationError("seatIds names a seat that is not in this show.")
    claimed = repository.claim_seats(show_id, booking_id, request.seat_ids)
    if len(claimed) != len(request.seat_ids):
        raise _SeatsTaken(sorted(set(request.seat_ids) - set(claimed)))
    if idempotency_key is not None:
        record = IdempotencyRecord(request.fingerprint(), BookingStatus.CONFIRMED, booking_id)
        if not repository.insert_idempotency_record(show_id, idempotency_key, record):
            raise _KeyAlreadyAnswered()
    created_at, currency = created
    booking = Booking(booking_id, request.user_id, show_id, BookingStatus.CONFIRMED, tuple(seats), created_at,
                      currency)
    return _issue(repository, booking)


def _show_missing_or_started(repository: Repository, show_id: uuid.UUID) -> Exception:
    started = repository.show_has_started(show_id)
    return NotFound("No such show.") if started is None else ShowStarted()


def _record_failure(show_id: uuid.UUID, request: BookingRequest, idempotency_key: Optional[str],
                    taken_seat_ids: Sequence[int], uow: UnitOfWorkFactory) -> IssuedBooking:
    try:
        with uow() as work:
            booking_id = uuid.uuid4()
            if work.repository.insert_booking(booking_id, show_id, request.user_id, BookingStatus.FAILED) is None:
                raise _show_missing_or_started(work.repository, show_id)
            work.repository.insert_booking_seats(booking_id, show_id, request.seat_ids)
            if idempotency_key is not None:
                record = IdempotencyRecord(request.fingerprint(), BookingStatus.FAILED, booking_id,
                                           tuple(taken_seat_ids))
                if not work.repository.insert_idempotency_record(show_id, idempotency_key, record):
                    raise _KeyAlreadyAnswered()
    except _KeyAlreadyAnswered:
        return _replay_stored(show_id, request, idempotency_key, uow)
    raise SeatUnavailable([str(seat_id) for seat_id in taken_seat_ids])


def _replay_stored(show_id: uuid.UUID, request: BookingRequest, idempotency_key: str,
                   uow: UnitOfWorkFactory) -> IssuedBooking:
    with uow() as work:
        record = work.repository.find_idempotency_record(show_id, idempotency_key)
        return _replay(work.repository, record, request)


def _replay(repository: Repository, record: IdempotencyRecord, request: BookingRequest) -> IssuedBooking:
    if not hmac.compare_digest(record.fingerprint, request.fingerprint()):
        raise IdempotencyKeyReused()
    if record.outcome is BookingStatus.FAILED:
        raise SeatUnavailable([str(seat_id) for seat_id in record.taken_seat_ids])
    # The first answer again: the booking as it was confirmed, whatever happened to it since.
    # Tokens are stored only as hashes, so the replay mints a fresh one for the booking.
    booking = replace(repository.find_booking(record.booking_id), status=BookingStatus.CONFIRMED)
    return _issue(repository, booking)


def _authorised_booking(repository: Repository, booking_id: uuid.UUID, token: str,
                        for_update: bool = False) -> Booking:
    booking = repository.find_booking(booking_id, for_update=for_update)
    if booking is None:
        raise NotFound("No such booking.")
    presented = _hash_token(token)
    # Compare against every hash in constant time, without stopping at the first match.
    matches = [hmac.compare_digest(presented, stored) for stored in repository.booking_token_hashes(booking_id)]
    if not any(matches):
        raise Forbidden()
    return booking


def get_booking(booking_id: uuid.UUID, token: str, uow: UnitOfWorkFactory = UnitOfWork) -> Booking:
    """The booking, for the holder of one of its tokens."""
    with uow() as work:
        return _authorised_booking(work.repository, booking_id, token)


def cancel_booking(booking_id: uuid.UUID, token: str, uow: UnitOfWorkFactory = UnitOfWork) -> Booking:
    """Cancels a confirmed booking and frees its seats at once; cancelling again is harmless."""
    with uow() as work:
        booking = _authorised_booking(work.repository, booking_id, token, for_update=True)
        if booking.status is BookingStatus.CONFIRMED:
            work.repository.cancel_booking(booking_id)
            booking = replace(booking, status=BookingStatus.CANCELLED)
        return booking
