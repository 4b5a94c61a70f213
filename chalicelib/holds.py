"""Holds: seats kept for a buyer while they check out, then confirmed into a booking,
released, or left to lapse. A hold is a claim in seat_bookings with an expiry, so the same
UNIQUE (show_id, seat_id) decides holds and bookings, and a lapsed hold's seat goes to the
next claimant in the claim statement itself: no lock, no sweeper, no second source of truth.
"""
import random
import time
import uuid
from dataclasses import replace
from itertools import islice
from typing import Dict, List, Optional, Tuple, Union

from . import best, tokens
from .best import RowSeat
from .errors import Forbidden, HoldExpired, NotEnoughSeats, NotFound, ShowStarted, Unavailable, ValidationError
from .model import Booking, BookingStatus, Hold, HoldStatus, IssuedBooking, IssuedHold
from .repository import ClaimOutcome, ConfirmOutcome, KeyAnsweredMeanwhile, Outline, Repository
from .services import Claimant, UnitOfWorkFactory, claim, issue_booking, replay, replay_stored
from .unit_of_work import UnitOfWork
from .validation import BestRequest, HoldRequest

# A best-available request that keeps losing races gives up after this many reads and claims,
# well within the statement timeout; the buyer is told to try again (UNAVAILABLE).
BEST_TRIES = 20
SPREAD_PER_LOSS = 4  # after k losses a buyer picks among the 1 + 4k best groups left
CANDIDATES_READ = 1 + SPREAD_PER_LOSS * BEST_TRIES
HOLD_TOKEN_REFUSED = "That hold token does not open this hold."


def hold_seats(show_id: uuid.UUID, request: Union[HoldRequest, BestRequest], idempotency_key: Optional[str] = None,
               uow: UnitOfWorkFactory = UnitOfWork) -> IssuedHold:
    """Holds all of `request.seat_ids` (or, for a BestRequest, the best group the server
    finds) or nothing, until the show's holdMinutes have passed (by the database's clock);
    refusals as for bookings (SeatUnavailable, recorded as a FAILED booking), LimitReached past
    the show's maxSeatsPerUser, NotEnoughSeats when no group of that size is left."""
    if isinstance(request, BestRequest):
        return _hold_best(show_id, request, idempotency_key, uow)
    return claim(show_id, request, idempotency_key, uow, hold=True)


def _hold_best(show_id: uuid.UUID, request: BestRequest, idempotency_key: Optional[str],
               uow: UnitOfWorkFactory) -> IssuedHold:
    """Reads the room (no lock) and claims the best group with the usual claim. A buyer who
    loses reads again and tries one of the best groups left, at random among more of them
    after each loss: a crowd that read the same room would otherwise all chase the same next
    group, one winner per round. A lost try leaves nothing behind (modex_claim undoes it and
    records no failure). At most BEST_TRIES claims, well within the statement timeout."""
    claimant = Claimant(show_id, request, tokens.key_digest(idempotency_key))
    try:
        with uow() as work:
            repository = work.repository
            if claimant.key is not None:  # a repeat is answered before any search
                repository.lock_user(show_id, request.user_id)
                record = repository.find_idempotency_record(show_id, claimant.key)
                if record is not None:
                    return replay(repository, record, request)
            made = _claim_best(repository, claimant)
            if made.outcome is ClaimOutcome.KNOWN:
                return replay(repository, repository.find_idempotency_record(show_id, claimant.key), request)
    except KeyAnsweredMeanwhile:
        return replay_stored(claimant, uow)
    return claimant.answer(made, hold=True)


def _claim_best(repository: Repository, claimant: Claimant):
    request = claimant.request
    sections = _sections_to_search(repository, claimant.show_id, request)
    chooser = random.Random()
    for attempt in range(BEST_TRIES):
        spread = 1 + SPREAD_PER_LOSS * attempt
        found = _best_groups(repository, claimant.show_id, sections, request, spread)
        if found is None:
            raise NotEnoughSeats()
        sections, groups = found
        group = chooser.choice(groups[:spread])
        made = claimant.claim(repository, group.ids, hold=True, record_failure=False)
        if made.outcome is not ClaimOutcome.TAKEN:
            return made
    raise Unavailable("The best seats keep going to others right now; please try again.")


def _sections_to_search(repository: Repository, show_id: uuid.UUID, request: BestRequest) -> List[int]:
    """The layout indexes of the sections to search, nearest the stage first: those with seats
    of the category asked for, if any."""
    known = _outlines.get(show_id)
    read = repository.outline(show_id, with_names=known is None)
    if read is None:
        raise NotFound("No such show.")
    started, outline = read
    if known is None:
        if len(_outlines) >= OUTLINES_KEPT:  # shows come and go; a container lives on
            _outlines.clear()
        _outlines[show_id] = outline
    else:
        outline = known
    if started:
        raise ShowStarted()
    if request.category is not None and request.category not in outline.categories:
        raise ValidationError(f"This show has no category {request.category!r}.")
    names = outline.section_names
    if request.section is not None and request.section not in names:
        raise ValidationError(f"This show has no section {request.section!r}.")
    return [index for index, name in enumerate(names)
            if (request.section is None or name == request.section)
            and (request.category is None or request.category in outline.section_categories[index])]


class SectionMemo:
    """What this container last saw of each section, and when; forgotten SECTION_MEMO_SECONDS
    later. A sale fills a room from the front, so a late buyer would otherwise read every full
    section (60 of a stadium's: 0.75 s), and every sold row of a section, before reaching free
    seats. Two memos: the largest group a section could offer for a filter (a section too small
    for the count asked is skipped), and where its first row with a free seat began (the next
    read starts there). The cost: seats freed there (a lapse, a release, a cancellation) are
    offered by best available only from the next full read, at most that many seconds later;
    picked seats see them at once. A hint, never a decision: the claim decides."""

    def __init__(self, seconds: float, clock=time.monotonic):
        self.seconds, self.clock = seconds, clock
        self._seen: Dict[tuple, Tuple[int, float]] = {}

    def recall(self, key: tuple) -> Optional[int]:
        """The value seen for `key` less than `seconds` ago, else None."""
        value, seen = self._seen.get(key, (None, 0.0))
        return value if self.clock() - seen < self.seconds else None

    def too_small(self, key: tuple, count: int) -> bool:
        largest = self.recall(key)
        return largest is not None and largest < count

    def saw(self, key: tuple, value: int) -> None:
        if len(self._seen) > SECTION_MEMO_ENTRIES:  # shows come and go; a container lives on
            self._seen.clear()
        self._seen[key] = (value, self.clock())

    def advance(self, key: tuple, value: int) -> None:
        """A newer value learnt from a read that started from the entry: it keeps the entry's
        age, so that a full read still happens SECTION_MEMO_SECONDS after the last one."""
        _, seen = self._seen.get(key, (None, self.clock()))
        self._seen[key] = (value, seen)


# A show's sections and categories never change after it is created: a container reads them
# once per show (an 80-section stadium's names cost more to parse than the rest of the read).
OUTLINES_KEPT = 1000
_outlines: Dict[uuid.UUID, Outline] = {}

SECTION_MEMO_SECONDS = 30.0
FIRST_CHUNK = 64  # free seats (and row ends) best available reads first in a section
CHUNK_GROWTH = 4
SECTION_MEMO_ENTRIES = 100_000
_sections_seen = SectionMemo(SECTION_MEMO_SECONDS)  # (show, section, filters) -> largest group
_section_starts = SectionMemo(SECTION_MEMO_SECONDS)  # (show, section) -> ordinal its sold rows end at


def _best_groups(repository: Repository, show_id: uuid.UUID, sections: List[int], request: BestRequest,
                 wanted: int):
    """(the sections still worth searching, the first section's best groups, best first, at
    least `wanted` of them when it has that many) or None when no section has a group."""
    for index, section in enumerate(sections):
        key = (show_id, section, request.category, request.accessible)
        if _sections_seen.too_small(key, request.count):
            continue
        groups, largest = _section_groups(repository, show_id, section, request, wanted)
        if largest is not None:
            _sections_seen.saw(key, largest)
        if groups:
            return sections[index:], groups
    return None


def _section_groups(repository: Repository, show_id: uuid.UUID, section: int, request: BestRequest,
                    wanted: int = 1):
    """(the section's best groups, best first; the largest group it offers, when it has none).
    Reads free seats a chunk at a time, front rows first, and stops once it has `wanted` groups
    (a buyer who lost a race picks among more) or at the section's end: the best groups are in
    the front rows, and reading a fresh 1,000-seat section whole cost more than the claim. A
    chunk ends at a whole row (a row's runs are only known whole). The first chunk is small (a
    fresh section's first row or two); each one after it four times the last (a section that
    had too few groups there is a full one). The read starts past the rows this container last
    saw sold (SectionMemo), and remembers where the first row with a free seat begins."""
    start_key = (show_id, section)
    resumed = _section_starts.recall(start_key)
    after = -1 if resumed is None else resumed
    sold_through, found_free, largest, chunk, groups = after, False, 0, FIRST_CHUNK, []
    while True:
        seats = repository.section_seats(show_id, section, after, chunk)
        whole = len(seats) < chunk
        if not whole:
            complete = [seat for seat in seats if seat.row != seats[-1].row]
            if not complete:  # a row longer than the chunk: read it whole
                chunk *= CHUNK_GROWTH
                continue
            seats = complete
        if not found_free:
            sold_through, found_free = _sold_through(seats, sold_through)
        groups += islice(best.candidates(seats, request.count, request.category, request.accessible),
                         CANDIDATES_READ - len(groups))
        if not groups:
            largest = max(largest, best.largest_group(seats, request.category, request.accessible))
        if len(groups) >= wanted or whole:
            if resumed is None:
                _section_starts.saw(start_key, sold_through)
            else:
                _section_starts.advance(start_key, sold_through)
            return groups, None if groups else largest
        after, chunk = seats[-1].ordinal, chunk * CHUNK_GROWTH


def _sold_through(seats: List[RowSeat], sold_through: int) -> Tuple[int, bool]:
    """(the ordinal just before the first row of `seats` with a free seat, True), or (the last
    ordinal of `seats`, False) when none is free: every row of them is sold."""
    first_free = next((seat for seat in seats if seat.free), None)
    if first_free is None:
        return (seats[-1].ordinal if seats else sold_through), False
    return next(seat.ordinal for seat in seats if seat.row == first_free.row) - 1, True


def _authorised_hold(repository: Repository, hold_id: uuid.UUID, token: str, for_update: bool = False) -> Hold:
    hold = repository.find_hold(hold_id, for_update=for_update)
    if hold is None:
        raise NotFound("No such hold.")
    if not tokens.opens(token, repository.hold_token_hashes(hold_id)):
        raise Forbidden(HOLD_TOKEN_REFUSED)
    return hold


def get_hold(hold_id: uuid.UUID, token: str, uow: UnitOfWorkFactory = UnitOfWork) -> Hold:
    """The hold as of now (ACTIVE, EXPIRED, CONFIRMED or RELEASED), for the holder of its token."""
    with uow() as work:
        return _authorised_hold(work.repository, hold_id, token)


def confirm_hold(hold_id: uuid.UUID, token: str, uow: UnitOfWorkFactory = UnitOfWork) -> IssuedBooking:
    """Turns the hold into a CONFIRMED booking of its seats, only if every one is still this
    hold's and unexpired; else HoldExpired and nothing is booked. Confirming again answers the
    same booking (with a fresh booking token). One transaction of three round trips."""
    booking_id, booking_token = uuid.uuid4(), tokens.new_token()
    with uow() as work:
        done = work.repository.confirm_hold(hold_id, tokens.token_hash(token), booking_id,
                                            tokens.token_hash(booking_token))
        if done.outcome is ConfirmOutcome.ALREADY:  # the first answer again
            booking = work.repository.find_booking(done.booking_id)
            return issue_booking(work.repository, replace(booking, status=BookingStatus.CONFIRMED))
    if done.outcome is ConfirmOutcome.CONFIRMED:
        return IssuedBooking(Booking(booking_id, done.user_id, done.show_id, BookingStatus.CONFIRMED, done.seats,
                                     done.created_at, done.currency), booking_token)
    if done.outcome is ConfirmOutcome.NOT_FOUND:
        raise NotFound("No such hold.")
    if done.outcome is ConfirmOutcome.FORBIDDEN:
        raise Forbidden(HOLD_TOKEN_REFUSED)
    if done.outcome is ConfirmOutcome.STARTED:
        raise ShowStarted()
    raise HoldExpired()


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

