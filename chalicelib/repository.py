"""Rows <-> domain values. The only module that runs SQL on behalf of services; each
function takes the connection of a transaction the caller opened."""
import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import List, Optional, Sequence, Tuple

from .model import Booking, Seat, Show
from .queries import QUERIES


@dataclass(frozen=True)
class IdempotencyRecord:
    fingerprint: bytes
    response_status: int
    response_body: dict
    booking_id: Optional[uuid.UUID]


def _seat(row) -> Seat:
    return Seat(id=row[0], row=row[1], number=row[2])


def _show(row) -> Show:
    return Show(id=row[0], name=row[1], start_time=row[2], total_seats=row[3], available_seats=row[4])


def list_shows(con) -> List[Show]:
    return [_show(row) for row in con.run(QUERIES["list_shows"])]


def find_show(con, show_id: uuid.UUID) -> Optional[Show]:
    rows = con.run(QUERIES["find_show"], show_id=show_id)
    return _show(rows[0]) if rows else None


def show_has_started(con, show_id: uuid.UUID) -> Optional[bool]:
    """True or False for a show that exists, None for one that doesn't."""
    rows = con.run(QUERIES["find_show_start"], show_id=show_id)
    return rows[0][0] if rows else None


def insert_show(con, show_id: uuid.UUID, name: str, start_time: datetime, rows: int, seats_per_row: int) -> Show:
    show = _show(con.run(QUERIES["insert_show"], show_id=show_id, name=name, start_time=start_time,
                         total_seats=rows * seats_per_row)[0])
    con.run(QUERIES["insert_seats"], show_id=show_id, rows=rows, seats_per_row=seats_per_row)
    return show


def seat_map(con, show_id: uuid.UUID) -> List[Tuple[Seat, bool]]:
    return [(_seat(row), row[3]) for row in con.run(QUERIES["seat_map"], show_id=show_id)]


def insert_booking(con, booking_id: uuid.UUID, show_id: uuid.UUID, user_id: str, status: str) -> Optional[datetime]:
    """The new booking's created_at, or None when the show is unknown or has started."""
    rows = con.run(QUERIES["insert_booking"], booking_id=booking_id, show_id=show_id, user_id=user_id, status=status)
    return rows[0][1] if rows else None


def insert_booking_seats(con, booking_id: uuid.UUID, show_id: uuid.UUID, seat_ids: Sequence[int]) -> List[Seat]:
    """Records the seats asked for; returns those that belong to the show."""
    return [_seat(row) for row in con.run(QUERIES["insert_booking_seats"], booking_id=booking_id,
                                          show_id=show_id, seat_ids=list(seat_ids))]


def claim_seats(con, show_id: uuid.UUID, booking_id: uuid.UUID, seat_ids: Sequence[int]) -> List[int]:
    """Claims the seats in sorted order; returns the ids actually claimed (taken ones are missing)."""
    rows = con.run(QUERIES["claim_seats"], show_id=show_id, booking_id=booking_id, seat_ids=sorted(seat_ids))
    return [row[0] for row in rows]


def insert_booking_token(con, booking_id: uuid.UUID, token_hash: bytes) -> None:
    con.run(QUERIES["insert_booking_token"], booking_id=booking_id, token_hash=token_hash)


def find_booking(con, booking_id: uuid.UUID, for_update: bool = False) -> Optional[Booking]:
    query = QUERIES["find_booking_for_update" if for_update else "find_booking"]
    rows = con.run(query, booking_id=booking_id)
    if not rows:
        return None
    booking_row = rows[0]
    seats = tuple(_seat(row) for row in con.run(QUERIES["find_booking_seats"], booking_id=booking_id))
    return Booking(id=booking_row[0], user_id=booking_row[1], show_id=booking_row[2], status=booking_row[3],
                   seats=seats, created_at=booking_row[4])


def booking_token_hashes(con, booking_id: uuid.UUID) -> List[bytes]:
    return [row[0] for row in con.run(QUERIES["find_booking_token_hashes"], booking_id=booking_id)]


def cancel_booking(con, booking_id: uuid.UUID) -> None:
    """Marks the booking CANCELLED and frees its seats, in the caller's transaction."""
    con.run(QUERIES["cancel_booking"], booking_id=booking_id)
    con.run(QUERIES["release_claims"], booking_id=booking_id)


def find_idempotency_record(con, show_id: uuid.UUID, key: str) -> Optional[IdempotencyRecord]:
    rows = con.run(QUERIES["find_idempotency_record"], show_id=show_id, key=key)
    if not rows:
        return None
    fingerprint, status, body, booking_id = rows[0]
    return IdempotencyRecord(bytes(fingerprint), status, body, booking_id)


def insert_idempotency_record(con, show_id: uuid.UUID, key: str, fingerprint: bytes, response_status: int,
                              response_body: dict, booking_id: Optional[uuid.UUID]) -> bool:
    """False when a live record for this key already exists (this one was not stored)."""
    rows = con.run(QUERIES["insert_idempotency_record"], show_id=show_id, key=key, fingerprint=fingerprint,
                   response_status=response_status, response_body=json.dumps(response_body),
                   booking_id=booking_id)
    return bool(rows)
