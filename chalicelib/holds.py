"""Holds: seats kept for a buyer while they check out, then confirmed into a booking,
released, or left to lapse. A hold is a claim in seat_bookings with an expiry, so the same
UNIQUE (show_id, seat_id) decides holds and bookings, and a lapsed hold's seat goes to the
next claimant in the claim statement itself: no lock, no sweeper, no second source of truth.
"""
import uuid
from dataclasses import replace
from typing import Optional

from . import tokens
from .errors import Forbidden, HoldExpired, NotFound, ShowStarted, ValidationError
from .model import Booking, BookingStatus, Hold, HoldStatus, IssuedBooking, IssuedHold
from .repository import IdempotencyRecord, Outcome, Repository
from .services import (UnitOfWorkFactory, claim, claim_for, issue_booking, issue_hold, remember,
                       show_missing_or_started)
from .unit_of_work import UnitOfWork
from .validation import HoldRequest


def hold_seats(show_id: uuid.UUID, request: HoldRequest, idempotency_key: Optional[str] = None,
               uow: UnitOfWorkFactory = UnitOfWork) -> IssuedHold:
    """Holds all of `request.seat_ids` or none of them until the show's holdMinutes have passed
    (by the database's clock); refusals as for bookings (SeatUnavailable, recorded as a FAILED
    booking), and LimitReached past the show's maxSeatsPerUser."""
    return claim(show_id, request, idempotency_key, uow, _hold)


def _hold(repository: Repository, show_id: uuid.UUID, request: HoldRequest,
          idempotency_key: Optional[str]) -> IssuedHold:
    hold_id = uuid.uuid4()
    terms = repository.insert_hold(hold_id, show_id, request.user_id)
    if terms is None:
        raise show_missing_or_started(repository, show_id)
    seats = repository.insert_hold_seats(hold_id, show_id, request.seat_ids)
    if len(seats) != len(request.seat_ids):
        raise ValidationError("seatIds names a seat that is not in this show.")
    claim_for(repository, show_id, request, terms.seat_limit, hold_id=hold_id, expires_at=terms.expires_at)
    remember(repository, show_id, idempotency_key,
             IdempotencyRecord(request.fingerprint(), Outcome.HELD, hold_id=hold_id))
    hold = Hold(hold_id, show_id, request.user_id, HoldStatus.ACTIVE, tuple(seats), terms.expires_at, terms.currency)
    return issue_hold(repository, hold)


def _authorised_hold(repository: Repository, hold_id: uuid.UUID, token: str, for_update: bool = False) -> Hold:
    hold = repository.find_hold(hold_id, for_update=for_update)
    if hold is None:
        raise NotFound("No such hold.")
    if not tokens.opens(token, repository.hold_token_hashes(hold_id)):
        raise Forbidden("That hold token does not open this hold.")
    return hold


def get_hold(hold_id: uuid.UUID, token: str, uow: UnitOfWorkFactory = UnitOfWork) -> Hold:
    """The hold as of now (ACTIVE, EXPIRED, CONFIRMED or RELEASED), for the holder of its token."""
    with uow() as work:
        return _authorised_hold(work.repository, hold_id, token)


def confirm_hold(hold_id: uuid.UUID, token: str, uow: UnitOfWorkFactory = UnitOfWork) -> IssuedBooking:
    """Turns the hold into a CONFIRMED booking of its seats, only if every one is still this
    hold's and unexpired; else HoldExpired and nothing is booked. Confirming again answers the
    same booking (with a fresh booking token)."""
    with uow() as work:
        repository = work.repository
        hold = _authorised_hold(repository, hold_id, token, for_update=True)
        if hold.status is HoldStatus.CONFIRMED:
            booking = repository.find_booking(hold.booking_id)
            return issue_booking(repository, replace(booking, status=BookingStatus.CONFIRMED))  # the first answer
        if hold.status is not HoldStatus.ACTIVE:
            raise HoldExpired()
        repository.lock_user(hold.show_id, hold.user_id)
        booking_id = uuid.uuid4()
        terms = repository.insert_booking(booking_id, hold.show_id, hold.user_id, BookingStatus.CONFIRMED)
        if terms is None:
            raise ShowStarted()
        # The hold's seats count here while it is live by this transaction's clock. If the
        # user claimed more while it looked lapsed to that claim, confirming would pass the
        # limit: the hold counts as lapsed for this confirm too.
        if repository.count_user_seats(hold.show_id, hold.user_id) > terms.seat_limit:
            raise HoldExpired()
        seat_ids = [seat.id for seat in hold.seats]
        repository.insert_booking_seats(booking_id, hold.show_id, seat_ids)
        # Each claim is this hold's and unexpired, or it went to someone else: all or nothing.
        if len(repository.confirm_hold_claims(hold_id, booking_id)) != len(seat_ids):
            raise HoldExpired()
        repository.set_hold_status(hold_id, HoldStatus.CONFIRMED, booking_id)
        booking = Booking(booking_id, hold.user_id, hold.show_id, BookingStatus.CONFIRMED, hold.seats,
                          terms.created_at, terms.currency)
        return issue_booking(repository, booking)


def release_hold(hold_id: uuid.UUID, token: str, uow: UnitOfWorkFactory = UnitOfWork) -> Hold:
    """Gives the hold's seats back at once; releasing again, or releasing a confirmed hold,
    changes nothing."""
    with uow() as work:
        hold = _authorised_hold(work.repository, hold_id, token, for_update=True)
        if hold.status in (HoldStatus.ACTIVE, HoldStatus.EXPIRED):
            work.repository.release_hold_claims(hold_id)
            work.repository.set_hold_status(hold_id, HoldStatus.RELEASED)
            hold = replace(hold, status=HoldStatus.RELEASED)
        return hold


def tidy_expired_claims(batch: int = 500, batches: int = 20, uow: UnitOfWorkFactory = UnitOfWork) -> int:
    """Housekeeping for the scheduled function: deletes claims of holds that lapsed over a
    minute ago, a small batch per transaction, never waiting on a booking. Returns how many."""
    removed = 0
    for _ in range(batches):
        with uow() as work:
            count = work.repository.tidy_expired_claims(batch)
        removed += count
        if count < batch:
            break
    return removed
