"""Rows <-> domain values. The only code that runs SQL on behalf of services; a Repository
works inside the transaction of the unit of work that made it."""
import json
import re
import uuid
from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import datetime
from enum import Enum
from itertools import groupby
from typing import Dict, FrozenSet, List, Optional, Sequence, Tuple

from pg8000.exceptions import DatabaseError
from pg8000.native import literal

from .best import RowSeat
from .layout import Category, Layout
from .model import (Booking, BookingStatus, Hold, HoldStatus, Room, RoomRow, RoomSeat, RoomSection, Seat, SeatStatus,
                    SectionSummary, Show)
from .db import sqlstate
from .queries import QUERIES


class Outcome(str, Enum):
    """What the first request with an Idempotency-Key came to."""
    CONFIRMED = "CONFIRMED"  # a booking
    HELD = "HELD"  # a hold
    FAILED = "FAILED"  # refused: its FAILED booking names the seats that were taken


@dataclass(frozen=True)
class IdempotencyRecord:
    fingerprint: bytes
    outcome: Outcome
    booking_id: Optional[uuid.UUID] = None
    taken_seat_ids: Tuple[int, ...] = ()
    hold_id: Optional[uuid.UUID] = None


class ClaimOutcome(str, Enum):
    """What modex_claim decided (migrations/006_claim_functions.sql)."""
    KNOWN = "KNOWN"  # the Idempotency-Key has a live record: replay it
    NO_SHOW = "NO_SHOW"
    STARTED = "STARTED"
    BAD_SEATS = "BAD_SEATS"  # a seat is not the show's
    LIMIT = "LIMIT"
    CLAIMED = "CLAIMED"
    TAKEN = "TAKEN"  # some seats are others': nothing claimed (recorded FAILED when asked)


@dataclass(frozen=True)
class Claim:
    outcome: ClaimOutcome
    created_at: Optional[datetime] = None
    expires_at: Optional[datetime] = None  # a hold's, by the database's clock
    currency: Optional[str] = None
    seat_limit: Optional[int] = None  # the show's maxSeatsPerUser
    taken_seat_ids: Tuple[int, ...] = ()
    seats: Tuple[Seat, ...] = ()


class ConfirmOutcome(str, Enum):
    """What modex_confirm decided."""
    NOT_FOUND = "NOT_FOUND"
    FORBIDDEN = "FORBIDDEN"
    ALREADY = "ALREADY"  # confirmed before: booking_id is that booking
    EXPIRED = "EXPIRED"
    STARTED = "STARTED"
    CONFIRMED = "CONFIRMED"


@dataclass(frozen=True)
class Confirmation:
    outcome: ConfirmOutcome
    booking_id: Optional[uuid.UUID] = None
    user_id: Optional[str] = None
    show_id: Optional[uuid.UUID] = None
    created_at: Optional[datetime] = None
    currency: Optional[str] = None
    seats: Tuple[Seat, ...] = ()


@dataclass(frozen=True)
class Outline:
    """A show's sections (layout order) and categories: they never change once it is created."""
    section_names: Tuple[str, ...]
    section_categories: Tuple[FrozenSet[str], ...]  # the category ids each section has seats of
    categories: FrozenSet[str]


class KeyAnsweredMeanwhile(Exception):
    """A concurrent request with the same Idempotency-Key stored its answer first: this
    transaction must roll back, and the answer stored be replayed."""


KEY_ANSWERED_MEANWHILE = "MXKEY"  # raised by modex_remember


def _seat(row) -> Seat:
    return Seat(id=row[0], row=row[1], number=row[2], section=row[3], category=row[4], accessible=row[5],
                price=row[6])


SEAT_STATUS_BY_LETTER = {status.letter: status for status in SeatStatus}


def _show(row) -> Show:
    return Show(id=row[0], name=row[1], start_time=row[2], total_seats=row[3], available_seats=row[4],
                currency=row[5], hold_minutes=row[6], max_seats_per_user=row[7])


def _seats(rows) -> Tuple[Seat, ...]:
    return tuple(_seat(row) for row in rows or ())


# A :name placeholder (not the second colon of a :: cast).
PLACEHOLDER = re.compile(r"(?<!:):([a-z_]+)")


def _literal(value) -> str:
    """A value as a SQL literal, by pg8000's own `literal` (quotes doubled, for
    standard_conforming_strings = on, PostgreSQL's default since 9.1); bytes, UUIDs and lists
    become the text the statement CASTs."""
    if isinstance(value, (bytes, bytearray)):
        value = "\\x" + value.hex()  # bytea's hex input
    elif isinstance(value, uuid.UUID):
        value = str(value)
    elif isinstance(value, (list, tuple)):
        value = _array(value)
    return literal(value)


def inline(statement: str, **params) -> str:
    """The statement with its :name placeholders replaced by the values as literals."""
    return PLACEHOLDER.sub(lambda match: _literal(params[match.group(1)]), statement)


def _section_categories(seats, section_count: int) -> List[set]:
    """Per section (by layout index), the category ids of its seats."""
    found = [set() for _ in range(section_count)]
    for seat in seats:
        found[seat.section].add(seat.category)
    return found


def _array(values) -> str:
    """A PostgreSQL array literal for values that need no quoting (numbers, row labels and
    category ids are letters, digits, - and _ by validation). For 80,000 seats, pg8000's own
    conversion of five Python lists costs seconds; one string each costs milliseconds."""
    return "{" + ",".join(map(str, values)) + "}"


class Repository:
    def __init__(self, con):
        self._con = con

    def _run(self, query_name: str, /, **params):
        return self._con.run(QUERIES[query_name], **params)

    def _run_inlined(self, query_name: str, /, **params):
        """One round trip instead of three: pg8000 sends a statement with parameters as Parse,
        Describe and Bind/Execute, each waiting for the server; the simple query protocol sends
        the statement with its values written in. For the hot path only, whose values are
        validated ids, numbers, hashes and a user id."""
        return self._con.run(inline(QUERIES[query_name], **params))

    def list_shows(self, past: bool, after_time: Optional[datetime], after_id: Optional[uuid.UUID],
                   count: int) -> List[Show]:
        """Up to `count` shows after (after_time, after_id), upcoming soonest first or past latest
        first; the first page with both None."""
        rows = self._run("list_shows", past=past, after_time=after_time, after_id=after_id, page_size=count)
        return self._with_venue([_show(row) for row in rows])

    def find_show(self, show_id: uuid.UUID) -> Optional[Show]:
        shows = self._with_venue([_show(row) for row in self._run("find_show", show_id=show_id)])
        return shows[0] if shows else None

    def _categories(self, show_ids: List[uuid.UUID]) -> Dict[uuid.UUID, Tuple[Category, ...]]:
        rows = self._run("show_categories", show_ids=show_ids)
        return {show_id: tuple(Category(row[1], row[2], row[3]) for row in group)
                for show_id, group in groupby(rows, key=lambda row: row[0])}

    def _sections(self, show_ids: List[uuid.UUID]) -> Dict[uuid.UUID, List[SectionSummary]]:
        """show id -> its sections in layout order."""
        sections = defaultdict(list)
        for show_id, name, hints, total, available in self._run("show_sections", show_ids=show_ids):
            sections[show_id].append(SectionSummary(name, total, available, hints))
        return sections

    def _with_venue(self, shows: List[Show]) -> List[Show]:
        """The shows with their categories and sections' availability: two queries for all of them."""
        if not shows:
            return shows
        ids = [show.id for show in shows]
        categories, sections = self._categories(ids), self._sections(ids)
        return [replace(show, categories=categories.get(show.id, ()),
                        sections=tuple(sections.get(show.id, ()))) for show in shows]

    def outline(self, show_id: uuid.UUID, with_names: bool = True) -> Optional[Tuple[bool, Optional[Outline]]]:
        """Whether the show has started, and (with_names) its sections and categories, in one
        round trip; None for an unknown show."""
        rows = self._run_inlined("best_outline", show_id=show_id, with_names=with_names)
        if not rows:
            return None
        started, names, section_categories, categories = rows[0]
        if not with_names:
            return started, None
        return started, Outline(tuple(names), tuple(frozenset(ids.split(",")) for ids in section_categories),
                                frozenset(categories))

    def show_size(self, show_id: uuid.UUID) -> Optional[int]:
        """The show's number of seats; None for an unknown show."""
        rows = self._run("find_show_size", show_id=show_id)
        return rows[0][0] if rows else None

    def insert_show(self, show_id: uuid.UUID, name: str, start_time: datetime, layout: Layout, hold_minutes: int,
                    max_seats_per_user: int) -> Show:
        """The show and its whole room: categories, sections, seats, one statement each."""
        seats = list(layout.seats())
        row = self._run("insert_show", show_id=show_id, name=name, start_time=start_time, total_seats=len(seats),
                        currency=layout.currency, hold_minutes=hold_minutes,
                        max_seats_per_user=max_seats_per_user)[0]
        categories = layout.categories
        self._run("insert_categories", show_id=show_id, ids=[category.id for category in categories],
                  names=[category.name for category in categories], prices=[category.price for category in categories])
        sections = layout.sections
        self._run("insert_sections", show_id=show_id, names=[section.name for section in sections],
                  hints=[json.dumps(dict(section.hints)) for section in sections],
                  totals=[sum(len(row.numbers) for row in section.rows) for section in sections],
                  category_ids=[",".join(sorted(ids)) for ids in _section_categories(seats, len(sections))])
        self._run("insert_seats", show_id=show_id, sections=_array(seat.section for seat in seats),
                  rows=_array(seat.row for seat in seats), numbers=_array(seat.number for seat in seats),
                  categories=_array(seat.category for seat in seats),
                  accessible=_array("t" if seat.accessible else "f" for seat in seats))
        return self.find_show(row[0])

    def seat_map(self, show_id: uuid.UUID, section: Optional[str] = None) -> List[Tuple[Seat, SeatStatus]]:
        return [(_seat(row), SEAT_STATUS_BY_LETTER[row[7]])
                for row in self._run("seat_map", show_id=show_id, section=section)]

    def availability(self, show_id: uuid.UUID) -> Optional[str]:
        """One character per seat in layout order; None for a show without seats (an unknown one)."""
        return self._run("availability", show_id=show_id)[0][0]

    def room(self, show_id: uuid.UUID) -> Optional[Room]:
        show = self.find_show(show_id)
        if show is None:
            return None
        seats_by_section = groupby(self._run("room", show_id=show_id), key=lambda row: row[0])
        sections = []
        for (_, seat_rows), summary in zip(seats_by_section, show.sections):
            rows = tuple(RoomRow(label, tuple(RoomSeat(row[2], row[3], row[4], row[5]) for row in group))
                         for label, group in groupby(seat_rows, key=lambda row: row[1]))
            sections.append(RoomSection(summary.name, summary.hints, rows))
        return Room(show_id, show.currency, show.categories, tuple(sections))

    def claim(self, show_id: uuid.UUID, user_id: str, seat_ids: Sequence[int], owner_id: uuid.UUID, hold: bool,
              token_hash: bytes, key: Optional[str], fingerprint: bytes, record_failure: bool = True) -> Claim:
        """Claims the seats for a new booking or hold `owner_id`, in one round trip (modex_claim);
        KeyAnsweredMeanwhile when a concurrent twin stored `key` first."""
        try:
            rows = self._run_inlined("claim", show_id=show_id, user_id=user_id, seat_ids=sorted(seat_ids),
                                     owner_id=owner_id, hold=hold, token_hash=token_hash, key=key,
                                     fingerprint=fingerprint, record_failure=record_failure)
        except DatabaseError as error:
            if sqlstate(error) == KEY_ANSWERED_MEANWHILE:
                raise KeyAnsweredMeanwhile() from error
            raise
        outcome, created_at, expires_at, currency, seat_limit, taken, seats = rows[0]
        return Claim(ClaimOutcome(outcome), created_at, expires_at, currency, seat_limit, tuple(taken or ()),
                     _seats(seats))

    def confirm_hold(self, hold_id: uuid.UUID, token_hash: bytes, booking_id: uuid.UUID,
                     new_token_hash: bytes) -> Confirmation:
        """Confirms the hold as booking `booking_id` for the holder of `token_hash`, in one round
        trip (modex_confirm)."""
        outcome, *fields, seats = self._run_inlined("confirm_hold", hold_id=hold_id, token_hash=token_hash,
                                                    booking_id=booking_id, new_token_hash=new_token_hash)[0]
        return Confirmation(ConfirmOutcome(outcome), *fields, seats=_seats(seats))

    def section_seats(self, show_id: uuid.UUID, section: int, after: int = -1,
                      limit: Optional[int] = None) -> List[RowSeat]:
        """A section's (by layout index) free seats after ordinal `after` (at most `limit`) and
        each row's first and last seat, in layout order, each free or not right now."""
        return [RowSeat(*row) for row in self._run_inlined("section_seats", show_id=show_id, section=section,
                                                           after=after, limit=limit)]

    def lock_user(self, show_id: uuid.UUID, user_id: str) -> None:
        """Until the transaction ends, this user's other claims on this show wait."""
        self._run("lock_user", show_id=show_id, user_id=user_id)

    def find_hold(self, hold_id: uuid.UUID, for_update: bool = False) -> Optional[Hold]:
        rows = self._run("find_hold_for_update" if for_update else "find_hold", hold_id=hold_id)
        if not rows:
            return None
        hold_id, show_id, user_id, status, expires_at, _, booking_id, currency = rows[0]
        seats = tuple(_seat(row) for row in self._run("find_hold_seats", hold_id=hold_id))
        return Hold(hold_id, show_id, user_id, HoldStatus(status), seats, expires_at, currency, booking_id)

    def insert_hold_token(self, hold_id: uuid.UUID, token_hash: bytes) -> None:
        self._run("insert_hold_token", hold_id=hold_id, token_hash=token_hash)

    def hold_token_hashes(self, hold_id: uuid.UUID) -> List[bytes]:
        return [row[0] for row in self._run("find_hold_token_hashes", hold_id=hold_id)]

    def set_hold_status(self, hold_id: uuid.UUID, status: HoldStatus, booking_id: Optional[uuid.UUID] = None) -> None:
        self._run("set_hold_status", hold_id=hold_id, status=status.value, booking_id=booking_id)

    def release_hold_claims(self, hold_id: uuid.UUID) -> None:
        self._run("release_hold_claims", hold_id=hold_id)

    def insert_booking_token(self, booking_id: uuid.UUID, token_hash: bytes) -> None:
        self._run("insert_booking_token", booking_id=booking_id, token_hash=token_hash)

    def find_booking(self, booking_id: uuid.UUID, for_update: bool = False) -> Optional[Booking]:
        rows = self._run("find_booking_for_update" if for_update else "find_booking", booking_id=booking_id)
        if not rows:
            return None
        booking_row = rows[0]
        seats = tuple(_seat(row) for row in self._run("find_booking_seats", booking_id=booking_id))
        return Booking(id=booking_row[0], user_id=booking_row[1], show_id=booking_row[2],
                       status=BookingStatus(booking_row[3]), seats=seats, created_at=booking_row[4],
                       currency=booking_row[5])

    def booking_token_hashes(self, booking_id: uuid.UUID) -> List[bytes]:
        return [row[0] for row in self._run("find_booking_token_hashes", booking_id=booking_id)]

    def cancel_booking(self, booking_id: uuid.UUID) -> None:
        """Marks the booking CANCELLED and frees its seats."""
        self._run("cancel_booking", booking_id=booking_id)
        self._run("release_claims", booking_id=booking_id)

    def find_idempotency_record(self, show_id: uuid.UUID, key: str) -> Optional[IdempotencyRecord]:
        rows = self._run("find_idempotency_record", show_id=show_id, key=key)
        if not rows:
            return None
        fingerprint, outcome, taken_seat_ids, booking_id, hold_id = rows[0]
        return IdempotencyRecord(bytes(fingerprint), Outcome(outcome), booking_id, tuple(taken_seat_ids or ()), hold_id)
