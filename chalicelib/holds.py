"""Holds: seats kept for a buyer while they check out, then confirmed into a booking,
released, or left to lapse. A hold is a claim in seat_bookings with an expiry, so the same
UNIQUE (show_id, seat_id) decides holds and bookings, and a lapsed hold's seat goes to the
next claimant in the claim statement itself: no lock, no sweeper, no second source of truth.
"""
import random
import uuid
from dataclasses import replace
from itertools import islice
from typing import List, Optional, Union

from . import best, tokens
from .errors import Forbidden, HoldExpired, NotEnoughSeats, NotFound, ShowStarted, Unavailable, ValidationError
from .model import Booking, BookingStatus, Hold, HoldStatus, IssuedBooking, IssuedHold
from .repository import IdempotencyRecord, Outcome, Repository, ShowTerms
from .services import (UnitOfWorkFactory, check_limit, claim, claim_for, issue_booking, issue_hold, remember,
                       show_missing_or_started)
from .unit_of_work import UnitOfWork
from .validation import BestRequest, HoldRequest

# A best-available request that keeps losing races gives up after this many reads and claims,
# well within the statement timeout; the buyer is told to try again (UNAVAILABLE).
BEST_TRIES = 20
SPREAD_PER_LOSS = 4  # after k losses a buyer picks among the 1 + 4k best groups left
CANDIDATES_READ = 1 + SPREAD_PER_LOSS * BEST_TRIES


def hold_seats(show_id: uuid.UUID, request: Union[HoldRequest, BestRequest], idempotency_key: Optional[str] = None,
               uow: UnitOfWorkFactory = UnitOfWork) -> IssuedHold:
    """Holds all of `request.seat_ids` (or, for a BestRequest, the best group the server
    finds) or nothing, until the show's holdMinutes have passed (by the database's clock);
    refusals as for bookings (SeatUnavailable, recorded as a FAILED booking), LimitReached past
    the show's maxSeatsPerUser, NotEnoughSeats when no group of that size is left."""
    return claim(show_id, request, idempotency_key, uow, _hold_best if isinstance(request, BestRequest) else _hold)


def _new_hold(repository: Repository, hold_id: uuid.UUID, show_id: uuid.UUID, user_id: str) -> ShowTerms:
    terms = repository.insert_hold(hold_id, show_id, user_id)
    if terms is None:
        raise show_missing_or_started(repository, show_id)
    return terms


def _held(repository: Repository, hold_id: uuid.UUID, show_id: uuid.UUID, request, seats, terms: ShowTerms,
          idempotency_key: Optional[str]) -> IssuedHold:
    """The hold made: its outcome remembered under the key, and a token for it."""
    remember(repository, show_id, idempotency_key,
             IdempotencyRecord(request.fingerprint(), Outcome.HELD, hold_id=hold_id))
    hold = Hold(hold_id, show_id, request.user_id, HoldStatus.ACTIVE, tuple(seats), terms.expires_at, terms.currency)
    return issue_hold(repository, hold)


def _hold(repository: Repository, show_id: uuid.UUID, request: HoldRequest,
          idempotency_key: Optional[str]) -> IssuedHold:
    hold_id = uuid.uuid4()
    terms = _new_hold(repository, hold_id, show_id, request.user_id)
    seats = repository.insert_hold_seats(hold_id, show_id, request.seat_ids)
    if len(seats) != len(request.seat_ids):
        raise ValidationError("seatIds names a seat that is not in this show.")
    claim_for(repository, show_id, request, terms.seat_limit, hold_id=hold_id, expires_at=terms.expires_at)
    return _held(repository, hold_id, show_id, request, seats, terms, idempotency_key)


def _hold_best(repository: Repository, show_id: uuid.UUID, request: BestRequest,
               idempotency_key: Optional[str]) -> IssuedHold:
    """Reads the room (no lock) and claims the best group with the usual claim. A buyer who
    loses reads again and tries one of the best groups left, at random among more of them
    after each loss: a crowd that read the same room would otherwise all chase the same next
    group, one winner per round. At most BEST_TRIES claims, well within the statement timeout."""
    hold_id = uuid.uuid4()
    terms = _new_hold(repository, hold_id, show_id, request.user_id)
    check_limit(repository, show_id, request.user_id, request.count, terms.seat_limit)
    sections = _sections_to_search(repository, show_id, request)
    chooser = random.Random()
    for attempt in range(BEST_TRIES):
        found = _best_groups(repository, show_id, sections, request)
        if found is None:
            raise NotEnoughSeats()
        sections, groups = found
        group = chooser.choice(groups[:1 + SPREAD_PER_LOSS * attempt])
        repository.savepoint()
        claimed = repository.claim_seats(show_id, group.ids, hold_id=hold_id, expires_at=terms.expires_at)
        if len(claimed) == len(group.ids):
            seats = repository.insert_hold_seats(hold_id, show_id, group.ids)
            return _held(repository, hold_id, show_id, request, seats, terms, idempotency_key)
        repository.back_to_savepoint()  # someone was faster
    raise Unavailable("The best seats keep going to others right now; please try again.")


def _sections_to_search(repository: Repository, show_id: uuid.UUID, request: BestRequest) -> List[int]:
    """The layout indexes of the sections to search, nearest the stage first."""
    names, categories = repository.outline(show_id)
    if request.category is not None and request.category not in categories:
        raise ValidationError(f"This show has no category {request.category!r}.")
    if request.section is None:
        return list(range(len(names)))
    if request.section not in names:
        raise ValidationError(f"This show has no section {request.section!r}.")
    return [names.index(request.section)]


def _best_groups(repository: Repository, show_id: uuid.UUID, sections: List[int], request: BestRequest):
    """(the sections still worth searching, the first section's best groups, best first) or
    None when no section has a group."""
    for index, section in enumerate(sections):
        groups = list(islice(best.candidates(repository.section_seats(show_id, section), request.count,
                                             request.category, request.accessible), CANDIDATES_READ))
        if groups:
            return sections[index:], groups
    return None


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
