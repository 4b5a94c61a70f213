"""Use cases. Each runs in one or more units of work (a transaction with its repository) and
returns domain values or raises domain errors; the HTTP handlers, the admin function and the
tools all call these. `uow` is the unit-of-work factory: the database by default, an in-memory
fake in unit tests."""
import hmac
import uuid
from dataclasses import replace
from typing import Callable, List, Optional, Sequence

from . import tokens
from .errors import (Forbidden, IdempotencyKeyReused, LimitReached, NotFound, SeatUnavailable, ShowStarted,
                     ValidationError)
from .model import (Availability, Booking, BookingStatus, Hold, HoldStatus, IssuedBooking, IssuedHold, Room, SeatMap,
                    Show)
from .repository import IdempotencyRecord, Outcome, Repository
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


def issue_booking(repository: Repository, booking: Booking) -> IssuedBooking:
    """The booking with a new token; the token's hash is stored in the caller's transaction."""
    token = tokens.new_token()
    repository.insert_booking_token(booking.id, tokens.token_hash(token))
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

    What a hold and its confirmation do, in one transaction: the seats are claimed for the
    booking itself (taking over claims of expired holds), so nothing is left to expire.
    """
    return claim(show_id, request, idempotency_key, uow, _book)


def claim(show_id: uuid.UUID, request: BookingRequest, idempotency_key: Optional[str], uow: UnitOfWorkFactory,
          attempt: Callable):
    """Runs `attempt` (a booking or a hold) in one transaction and answers what it made.

    The claim is one INSERT into seat_bookings in sorted seat order; UNIQUE (show_id, seat_id)
    decides who wins. When any seat is taken the whole transaction rolls back, the attempt is
    recorded as a FAILED booking in its own short transaction, and SeatUnavailable names the
    taken seats. With an Idempotency-Key, the outcome is stored in the same transaction as the
    claim, so a repeat of the request (or a concurrent twin, which waits on the key's row)
    gets the same answer.
    """
    try:
        with uow() as work:
            # One user's claims on one show go one at a time (other buyers never wait): the
            # seat limit counts what the previous one left, and a twin with the same key
            # finds the first one's answer here.
            work.repository.lock_user(show_id, request.user_id)
            if idempotency_key is not None:
                record = work.repository.find_idempotency_record(show_id, idempotency_key)
                if record is not None:
                    return _replay(work.repository, record, request)
            return attempt(work.repository, show_id, request, idempotency_key)
    except _SeatsTaken as taken:
        return _record_failure(show_id, request, idempotency_key, taken.seat_ids, uow)
    except _KeyAlreadyAnswered:
        return _replay_stored(show_id, request, idempotency_key, uow)


def check_limit(repository: Repository, show_id: uuid.UUID, user_id: str, adding: int, limit: int) -> None:
    """LimitReached when the user's live held plus confirmed seats and `adding` pass `limit`.
    The caller holds the user's lock (lock_user), so two requests at once cannot both pass
    with the last seat under the limit."""
    if repository.count_user_seats(show_id, user_id) + adding > limit:
        raise LimitReached(limit)


def claim_for(repository: Repository, show_id: uuid.UUID, request: BookingRequest, limit: int,
              **owner) -> None:
    """Checks the user's limit, then claims the seats for the owner (booking_id, or hold_id
    with expires_at); _SeatsTaken names the seats others have."""
    check_limit(repository, show_id, request.user_id, len(request.seat_ids), limit)
    claimed = repository.claim_seats(show_id, request.seat_ids, **owner)
    if len(claimed) != len(request.seat_ids):
        raise _SeatsTaken(sorted(set(request.seat_ids) - set(claimed)))


def remember(repository: Repository, show_id: uuid.UUID, idempotency_key: Optional[str],
             record: IdempotencyRecord) -> None:
    """Stores the outcome under the key in the claim's transaction; a concurrent twin that
    stored first makes this one roll back and replay."""
    if idempotency_key is not None and not repository.insert_idempotency_record(show_id, idempotency_key, record):
        raise _KeyAlreadyAnswered()


def _book(repository: Repository, show_id: uuid.UUID, request: BookingRequest,
          idempotency_key: Optional[str]) -> IssuedBooking:
    booking_id = uuid.uuid4()
    created = repository.insert_booking(booking_id, show_id, request.user_id, BookingStatus.CONFIRMED)
    if created is None:
        raise show_missing_or_started(repository, show_id)
    seats = repository.insert_booking_seats(booking_id, show_id, request.seat_ids)
    if len(seats) != len(request.seat_ids):
        raise ValidationError("seatIds names a seat that is not in this show.")
    claim_for(repository, show_id, request, created.seat_limit, booking_id=booking_id)
    remember(repository, show_id, idempotency_key,
             IdempotencyRecord(request.fingerprint(), Outcome.CONFIRMED, booking_id=booking_id))
    booking = Booking(booking_id, request.user_id, show_id, BookingStatus.CONFIRMED, tuple(seats),
                      created.created_at, created.currency)
    return issue_booking(repository, booking)


def show_missing_or_started(repository: Repository, show_id: uuid.UUID) -> Exception:
    started = repository.show_has_started(show_id)
    return NotFound("No such show.") if started is None else ShowStarted()


def _record_failure(show_id: uuid.UUID, request: BookingRequest, idempotency_key: Optional[str],
                    taken_seat_ids: Sequence[int], uow: UnitOfWorkFactory):
    try:
        with uow() as work:
            booking_id = uuid.uuid4()
            if work.repository.insert_booking(booking_id, show_id, request.user_id, BookingStatus.FAILED) is None:
                raise show_missing_or_started(work.repository, show_id)
            work.repository.insert_booking_seats(booking_id, show_id, request.seat_ids)
            remember(work.repository, show_id, idempotency_key,
                     IdempotencyRecord(request.fingerprint(), Outcome.FAILED, booking_id=booking_id,
                                       taken_seat_ids=tuple(taken_seat_ids)))
    except _KeyAlreadyAnswered:
        return _replay_stored(show_id, request, idempotency_key, uow)
    raise SeatUnavailable([str(seat_id) for seat_id in taken_seat_ids])


def _replay_stored(show_id: uuid.UUID, request: BookingRequest, idempotency_key: str, uow: UnitOfWorkFactory):
    with uow() as work:
        record = work.repository.find_idempotency_record(show_id, idempotency_key)
        return _replay(work.repository, record, request)


def _replay(repository: Repository, record: IdempotencyRecord, request: BookingRequest):
    """The first answer again: the booking as it was confirmed, or the hold as it was made,
    whatever happened to it since. Tokens are stored only as hashes, so a replay mints a
    fresh one."""
    if not hmac.compare_digest(record.fingerprint, request.fingerprint()):
        raise IdempotencyKeyReused()
    if record.outcome is Outcome.FAILED:
        raise SeatUnavailable([str(seat_id) for seat_id in record.taken_seat_ids])
    if record.outcome is Outcome.HELD:
        return issue_hold(repository, replace(repository.find_hold(record.hold_id), status=HoldStatus.ACTIVE))
    return issue_booking(repository, replace(repository.find_booking(record.booking_id),
                                             status=BookingStatus.CONFIRMED))


def issue_hold(repository: Repository, hold: Hold) -> IssuedHold:
    """The hold with a new token; the token's hash is stored in the caller's transaction."""
    token = tokens.new_token()
    repository.insert_hold_token(hold.id, tokens.token_hash(token))
    return IssuedHold(hold, token)


def _authorised_booking(repository: Repository, booking_id: uuid.UUID, token: str,
                        for_update: bool = False) -> Booking:
    booking = repository.find_booking(booking_id, for_update=for_update)
    if booking is None:
        raise NotFound("No such booking.")
    if not tokens.opens(token, repository.booking_token_hashes(booking_id)):
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
