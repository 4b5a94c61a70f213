"""Use cases. Each runs in one or more units of work (a transaction with its repository) and
returns domain values or raises domain errors; the HTTP handlers, the admin function and the
tools all call these. `uow` is the unit-of-work factory: the database by default, an in-memory
fake in unit tests."""
import hmac
import uuid
from dataclasses import dataclass, field, replace
from typing import Callable, Optional, Sequence

from . import tokens
from .errors import (Forbidden, IdempotencyKeyReused, LimitReached, ModexError, NotFound, SeatUnavailable,
                     ShowStarted, ValidationError)
from .listing import ShowPosition, ShowsPage, ShowsQuery
from .model import (Availability, Booking, BookingStatus, Hold, HoldStatus, IssuedBooking, IssuedHold, Room, SeatMap,
                    Show)
from .repository import Claim, ClaimOutcome, IdempotencyRecord, KeyAnsweredMeanwhile, Outcome, Repository
from .unit_of_work import UnitOfWork
from .validation import BookingRequest, ShowRequest

UnitOfWorkFactory = Callable[[], UnitOfWork]
WHOLE_SEAT_LIST_LIMIT = 20_000


def issue_booking(repository: Repository, booking: Booking) -> IssuedBooking:
    """The booking with a new token; the token's hash is stored in the caller's transaction."""
    token = tokens.new_token()
    repository.insert_booking_token(booking.id, tokens.token_hash(token))
    return IssuedBooking(booking, token)


def list_shows(query: ShowsQuery = ShowsQuery(), uow: UnitOfWorkFactory = UnitOfWork) -> ShowsPage:
    """One page of upcoming shows (soonest first) or, with `query.past`, of shows that have
    started (latest first), with the seats still available, and where the next page starts."""
    after_time, after_id = (query.after.start_time, query.after.show_id) if query.after else (None, None)
    with uow() as work:
        shows = work.repository.list_shows(query.past, after_time, after_id, query.limit + 1)
    page, more = shows[:query.limit], len(shows) > query.limit
    last = ShowPosition(page[-1].start_time, page[-1].id) if more else None
    return ShowsPage(tuple(page), query.past, last)


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
    return claim(show_id, request, idempotency_key, uow, hold=False)


@dataclass(frozen=True)
class Claimant:
    """Who claims, and what a claim of theirs will be called: the new booking's or hold's id,
    its first token (only the hash goes to the database), the key's HMAC."""
    show_id: uuid.UUID
    request: BookingRequest
    key: Optional[str]  # tokens.key_digest of the Idempotency-Key
    owner_id: uuid.UUID = field(default_factory=uuid.uuid4)
    token: str = field(default_factory=tokens.new_token)

    def claim(self, repository: Repository, seat_ids: Sequence[int], hold: bool, record_failure: bool = True) -> Claim:
        return repository.claim(self.show_id, self.request.user_id, seat_ids, self.owner_id, hold,
                                tokens.token_hash(self.token), self.key, self.request.fingerprint(), record_failure)

    def answer(self, made: Claim, hold: bool):
        """The booking or hold made, with its token; or the refusal as a domain error."""
        if made.outcome is ClaimOutcome.CLAIMED:
            if hold:
                return IssuedHold(Hold(self.owner_id, self.show_id, self.request.user_id, HoldStatus.ACTIVE, made.seats,
                                       made.expires_at, made.currency), self.token)
            return IssuedBooking(Booking(self.owner_id, self.request.user_id, self.show_id, BookingStatus.CONFIRMED,
                                         made.seats, made.created_at, made.currency), self.token)
        raise refusal(made)


def refusal(made: Claim) -> ModexError:
    if made.outcome is ClaimOutcome.TAKEN:
        return SeatUnavailable([str(seat_id) for seat_id in made.taken_seat_ids])
    if made.outcome is ClaimOutcome.LIMIT:
        return LimitReached(made.seat_limit)
    if made.outcome is ClaimOutcome.STARTED:
        return ShowStarted()
    if made.outcome is ClaimOutcome.BAD_SEATS:
        return ValidationError("seatIds names a seat that is not in this show.")
    return NotFound("No such show.")


def claim(show_id: uuid.UUID, request: BookingRequest, idempotency_key: Optional[str], uow: UnitOfWorkFactory,
          hold: bool):
    """Books or holds all of `request.seat_ids` or none, in one transaction of three round trips
    (start, the claim, commit), whatever the outcome.

    The claim is one INSERT into seat_bookings in sorted seat order, inside the database's
    modex_claim; UNIQUE (show_id, seat_id) decides who wins. When any seat is taken, nothing of
    the claim remains and the attempt is recorded as a FAILED booking in the same transaction;
    SeatUnavailable names the taken seats. With an Idempotency-Key the outcome is stored with
    the claim, so a repeat of the request (or a concurrent twin, which waits for the first)
    gets the same answer.
    """
    claimant = Claimant(show_id, request, tokens.key_digest(idempotency_key))
    try:
        with uow() as work:
            made = claimant.claim(work.repository, request.seat_ids, hold)
            if made.outcome is ClaimOutcome.KNOWN:
                return replay(work.repository, work.repository.find_idempotency_record(show_id, claimant.key), request)
    except KeyAnsweredMeanwhile:
        return replay_stored(claimant, uow)
    return claimant.answer(made, hold)


def replay_stored(claimant: Claimant, uow: UnitOfWorkFactory):
    """The answer a concurrent request with the same key stored, in a transaction of its own."""
    with uow() as work:
        return replay(work.repository, work.repository.find_idempotency_record(claimant.show_id, claimant.key),
                      claimant.request)


def replay(repository: Repository, record: IdempotencyRecord, request: BookingRequest):
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
