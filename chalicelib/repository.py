"""Rows <-> domain values. The only code that runs SQL on behalf of services; a Repository
works inside the transaction of the unit of work that made it."""
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import List, Optional, Sequence, Tuple

from .model import Booking, BookingStatus, Seat, SeatStatus, Show
from .queries import QUERIES


@dataclass(frozen=True)
class IdempotencyRecord:
    """The first answer to a request with this key, as a domain outcome: the attempt's booking
    and whether it was CONFIRMED or FAILED (then with the seats that were taken)."""
    fingerprint: bytes
    outcome: BookingStatus
    booking_id: uuid.UUID
    taken_seat_ids: Tuple[int, ...] = ()


def _seat(row) -> Seat:
    return Seat(id=row[0], row=row[1], number=row[2])


def _show(row) -> Show:
    return Show(id=row[0], name=row[1], start_time=row[2], total_seats=row[3], available_seats=row[4])


class Repository:
    def __init__(self, con):
        self._con = con

    def _run(self, query_name: str, /, **params):
        return self._con.run(QUERIES[query_name], **params)

    def list_shows(self) -> List[Show]:
        return [_show(row) for row in self._run("list_shows")]

    def find_show(self, show_id: uuid.UUID) -> Optional[Show]:
        rows = self._run("find_show", show_id=show_id)
        return _show(rows[0]) if rows else None

    def show_has_started(self, show_id: uuid.UUID) -> Optional[bool]:
        """True or False for a show that exists, None for one that doesn't."""
        rows = self._run("find_show_start", show_id=show_id)
        return rows[0][0] if rows else None

    def insert_show(self, show_id: uuid.UUID, name: str, start_time: datetime, rows: int, seats_per_row: int) -> Show:
        show = _show(self._run("insert_show", show_id=show_id, name=name, start_time=start_time,
                               total_seats=rows * seats_per_row)[0])
        self._run("insert_seats", show_id=show_id, rows=rows, seats_per_row=seats_per_row)
        return show

    def seat_map(self, show_id: uuid.UUID) -> List[Tuple[Seat, SeatStatus]]:
        return [(_seat(row), SeatStatus.BOOKED if row[3] else SeatStatus.AVAILABLE)
                for row in self._run("seat_map", show_id=show_id)]

    def insert_booking(self, booking_id: uuid.UUID, show_id: uuid.UUID, user_id: str,
                       status: BookingStatus) -> Optional[datetime]:
        """The new booking's created_at, or None when the show is unknown or has started."""
        rows = self._run("insert_booking", booking_id=booking_id, show_id=show_id, user_id=user_id,
                         status=status.value)
        return rows[0][1] if rows else None

    def insert_booking_seats(self, booking_id: uuid.UUID, show_id: uuid.UUID, seat_ids: Sequence[int]) -> List[Seat]:
        """Records the seats asked for; returns those that belong to the show."""
        return [_seat(row) for row in self._run("insert_booking_seats", booking_id=booking_id, show_id=show_id,
                                                seat_ids=list(seat_ids))]

    def claim_seats(self, show_id: uuid.UUID, booking_id: uuid.UUID, seat_ids: Sequence[int]) -> List[int]:
        """Claims the seats in sorted order; returns the ids actually claimed (taken ones are missing)."""
        rows = self._run("claim_seats", show_id=show_id, booking_id=booking_id, seat_ids=sorted(seat_ids))
        return [row[0] for row in rows]

    def insert_booking_token(self, booking_id: uuid.UUID, token_hash: bytes) -> None:
        self._run("insert_booking_token", booking_id=booking_id, token_hash=token_hash)

    def find_booking(self, booking_id: uuid.UUID, for_update: bool = False) -> Optional[Booking]:
        rows = self._run("find_booking_for_update" if for_update else "find_booking", booking_id=booking_id)
        if not rows:
            return None
        booking_row = rows[0]
        seats = tuple(_seat(row) for row in self._run("find_booking_seats", booking_id=booking_id))
        return Booking(id=booking_row[0], user_id=booking_row[1], show_id=booking_row[2],
                       status=BookingStatus(booking_row[3]), seats=seats, created_at=booking_row[4])

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
        fingerprint, outcome, taken_seat_ids, booking_id = rows[0]
        return IdempotencyRecord(bytes(fingerprint), BookingStatus(outcome), booking_id, tuple(taken_seat_ids or ()))

    def insert_idempotency_record(self, show_id: uuid.UUID, key: str, record: IdempotencyRecord) -> bool:
        """False when a live record for this key already exists (this one was not stored)."""
        rows = self._run("insert_idempotency_record", show_id=show_id, key=key, fingerprint=record.fingerprint,
                         outcome=record.outcome.value, taken_seat_ids=list(record.taken_seat_ids) or None,
                         booking_id=record.booking_id)
        return bool(rows)
