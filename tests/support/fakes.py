"""An in-memory stand-in for the repository and the unit of work (cosmicpython's
FakeUnitOfWork), for unit tests of the services' own logic: what they decide, record and
answer. It keeps the rules the SQL keeps (one claim per seat, bookings only for shows that
have not started, keys honoured for 24 hours) but races nothing: every concurrency claim is
tested against real PostgreSQL in tests/integration."""
import copy
import itertools
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Dict, List, Optional, Sequence, Tuple

from chalicelib.layout import Layout
from chalicelib.model import Booking, BookingStatus, Seat, SeatStatus, SectionSummary, Show
from chalicelib.repository import Claim, ClaimOutcome, IdempotencyRecord, Outcome

IDEMPOTENCY_WINDOW = timedelta(hours=24)


@dataclass
class Tables:
    shows: Dict[uuid.UUID, dict] = field(default_factory=dict)
    seats: Dict[uuid.UUID, List[Seat]] = field(default_factory=dict)
    bookings: Dict[uuid.UUID, dict] = field(default_factory=dict)
    booking_seats: Dict[uuid.UUID, List[int]] = field(default_factory=dict)
    claims: Dict[Tuple[uuid.UUID, int], uuid.UUID] = field(default_factory=dict)
    token_hashes: Dict[bytes, uuid.UUID] = field(default_factory=dict)
    idempotency: Dict[Tuple[uuid.UUID, str], Tuple[IdempotencyRecord, datetime]] = field(default_factory=dict)


class FakeRepository:
    """The methods of chalicelib.repository.Repository, on plain dictionaries."""

    _seat_ids = itertools.count(1)

    def __init__(self, tables: Tables, now: datetime):
        self.tables = tables
        self.now = now

    def _show(self, show_id: uuid.UUID) -> Show:
        row = self.tables.shows[show_id]
        taken = sum(1 for claimed_show, _ in self.tables.claims if claimed_show == show_id)
        layout = row["layout"]
        sections = tuple(SectionSummary(section.name, sum(len(r.numbers) for r in section.rows),
                                        sum(1 for seat in self.tables.seats[show_id] if seat.section == section.name
                                            and (show_id, seat.id) not in self.tables.claims))
                         for section in layout.sections)
        return Show(show_id, row["name"], row["start_time"], row["total_seats"], row["total_seats"] - taken,
                    layout.currency, row["hold_minutes"], row["max_seats_per_user"], layout.categories, sections)

    def list_shows(self, past: bool, after_time: Optional[datetime], after_id: Optional[uuid.UUID],
                   count: int) -> List[Show]:
        """As list_shows.sql: upcoming soonest first, or started latest first, after the cursor."""
        keys = sorted(((row["start_time"], show_id) for show_id, row in self.tables.shows.items()
                       if (row["start_time"] <= self.now) == past), reverse=past)
        if after_time is not None:
            keys = [key for key in keys if (key < (after_time, after_id) if past else key > (after_time, after_id))]
        return [self._show(show_id) for _, show_id in keys[:count]]

    def find_show(self, show_id: uuid.UUID) -> Optional[Show]:
        return self._show(show_id) if show_id in self.tables.shows else None

    def show_size(self, show_id: uuid.UUID) -> Optional[int]:
        row = self.tables.shows.get(show_id)
        return None if row is None else row["total_seats"]

    def insert_show(self, show_id: uuid.UUID, name: str, start_time: datetime, layout: Layout, hold_minutes: int,
                    max_seats_per_user: int) -> Show:
        prices = {category.id: category.price for category in layout.categories}
        seats = [Seat(next(self._seat_ids), seat.row, seat.number, layout.sections[seat.section].name, seat.category,
                      seat.accessible, prices[seat.category]) for seat in layout.seats()]
        self.tables.shows[show_id] = dict(name=name, start_time=start_time, total_seats=len(seats), layout=layout,
                                          hold_minutes=hold_minutes, max_seats_per_user=max_seats_per_user)
        self.tables.seats[show_id] = seats
        return self._show(show_id)

    def seat_map(self, show_id: uuid.UUID, section: Optional[str] = None) -> List[Tuple[Seat, SeatStatus]]:
        return [(seat, SeatStatus.BOOKED if (show_id, seat.id) in self.tables.claims else SeatStatus.AVAILABLE)
                for seat in self.tables.seats.get(show_id, []) if section in (None, seat.section)]

    def availability(self, show_id: uuid.UUID) -> Optional[str]:
        return "".join(status.letter for _, status in self.seat_map(show_id)) or None

    def _seats_of_show(self, show_id: uuid.UUID, seat_ids: Sequence[int]) -> List[Seat]:
        return [seat for seat in self.tables.seats.get(show_id, []) if seat.id in seat_ids]

    def _user_seats(self, show_id: uuid.UUID, user_id: str) -> int:
        return sum(1 for (claimed_show, _), owner in self.tables.claims.items()
                   if claimed_show == show_id and self.tables.bookings[owner]["user_id"] == user_id)

    def claim(self, show_id: uuid.UUID, user_id: str, seat_ids: Sequence[int], owner_id: uuid.UUID, hold: bool,
              token_hash: bytes, key: Optional[str], fingerprint: bytes, record_failure: bool = True) -> Claim:
        """modex_claim's decisions for bookings (holds are tested on PostgreSQL only)."""
        assert not hold, "the fake books; holds are tested against PostgreSQL"
        if key is not None and self.find_idempotency_record(show_id, key) is not None:
            return Claim(ClaimOutcome.KNOWN)
        show = self.tables.shows.get(show_id)
        if show is None:
            return Claim(ClaimOutcome.NO_SHOW)
        if show["start_time"] <= self.now:
            return Claim(ClaimOutcome.STARTED)
        seats = self._seats_of_show(show_id, seat_ids)
        limit = show["max_seats_per_user"]
        if len(seats) != len(seat_ids):
            return Claim(ClaimOutcome.BAD_SEATS)
        if self._user_seats(show_id, user_id) + len(seat_ids) > limit:
            return Claim(ClaimOutcome.LIMIT, seat_limit=limit)
        taken = tuple(sorted(seat_id for seat_id in seat_ids if (show_id, seat_id) in self.tables.claims))
        status = BookingStatus.FAILED if taken else BookingStatus.CONFIRMED
        if taken and not record_failure:
            return Claim(ClaimOutcome.TAKEN, taken_seat_ids=taken)
        self.tables.bookings[owner_id] = dict(show_id=show_id, user_id=user_id, status=status, created_at=self.now)
        self.tables.booking_seats[owner_id] = [seat.id for seat in seats]
        if key is not None:
            outcome = Outcome.FAILED if taken else Outcome.CONFIRMED
            self.tables.idempotency[(show_id, key)] = (IdempotencyRecord(fingerprint, outcome, owner_id, taken),
                                                       self.now)
        if taken:
            return Claim(ClaimOutcome.TAKEN, taken_seat_ids=taken)
        for seat_id in seat_ids:
            self.tables.claims[(show_id, seat_id)] = owner_id
        self.insert_booking_token(owner_id, token_hash)
        return Claim(ClaimOutcome.CLAIMED, self.now, None, show["layout"].currency, limit, (), tuple(seats))

    def insert_booking_token(self, booking_id: uuid.UUID, token_hash: bytes) -> None:
        self.tables.token_hashes[token_hash] = booking_id

    def find_booking(self, booking_id: uuid.UUID, for_update: bool = False) -> Optional[Booking]:
        row = self.tables.bookings.get(booking_id)
        if row is None:
            return None
        seats = tuple(self._seats_of_show(row["show_id"], self.tables.booking_seats[booking_id]))
        return Booking(booking_id, row["user_id"], row["show_id"], row["status"], seats, row["created_at"],
                       self.tables.shows[row["show_id"]]["layout"].currency)

    def booking_token_hashes(self, booking_id: uuid.UUID) -> List[bytes]:
        return [token_hash for token_hash, owner in self.tables.token_hashes.items() if owner == booking_id]

    def cancel_booking(self, booking_id: uuid.UUID) -> None:
        row = self.tables.bookings[booking_id]
        if row["status"] is BookingStatus.CONFIRMED:
            row["status"] = BookingStatus.CANCELLED
        self.tables.claims = {key: owner for key, owner in self.tables.claims.items() if owner != booking_id}

    def find_idempotency_record(self, show_id: uuid.UUID, key: str) -> Optional[IdempotencyRecord]:
        stored = self.tables.idempotency.get((show_id, key))
        if stored is None or stored[1] <= self.now - IDEMPOTENCY_WINDOW:
            return None
        return stored[0]


class FakeDatabase:
    """Committed state, and a unit-of-work factory over it: a unit of work edits a copy and
    commits it when its block ends, or drops it when the block raises (nothing half written)."""

    def __init__(self):
        self.tables = Tables()
        self.now = datetime.now(timezone.utc)
        self.commits = 0

    def __call__(self) -> "FakeUnitOfWork":
        return FakeUnitOfWork(self)


class FakeUnitOfWork:
    def __init__(self, database: FakeDatabase):
        self._database = database

    def __enter__(self) -> "FakeUnitOfWork":
        self.repository = FakeRepository(copy.deepcopy(self._database.tables), self._database.now)
        return self

    def __exit__(self, exc_type, exc, traceback) -> None:
        if exc_type is None:
            self._database.tables = self.repository.tables
            self._database.commits += 1
