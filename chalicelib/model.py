"""Domain values and their JSON representation in the contract."""
import hashlib
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from enum import Enum
from functools import cached_property
from typing import Tuple


def iso_utc(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


class BookingStatus(str, Enum):
    CONFIRMED = "CONFIRMED"
    FAILED = "FAILED"  # a refused attempt, kept so that every attempt is accounted for
    CANCELLED = "CANCELLED"


class SeatStatus(str, Enum):
    AVAILABLE = "AVAILABLE"
    BOOKED = "BOOKED"


@dataclass(frozen=True)
class Show:
    id: uuid.UUID
    name: str
    start_time: datetime
    total_seats: int
    available_seats: int

    def to_json(self) -> dict:
        return {
            "id": str(self.id),
            "name": self.name,
            "startTime": iso_utc(self.start_time),
            "totalSeats": self.total_seats,
            "availableSeats": self.available_seats,
        }


@dataclass(frozen=True)
class Seat:
    id: int
    row: str
    number: int

    def to_json(self) -> dict:
        return {"id": str(self.id), "row": self.row, "number": self.number}


@dataclass(frozen=True)
class Booking:
    id: uuid.UUID
    user_id: str
    show_id: uuid.UUID
    status: BookingStatus
    seats: Tuple[Seat, ...]
    created_at: datetime

    def to_json(self) -> dict:
        return {
            "id": str(self.id),
            "userId": self.user_id,
            "showId": str(self.show_id),
            "status": self.status.value,
            "seats": [seat.to_json() for seat in self.seats],
            "createdAt": iso_utc(self.created_at),
        }


@dataclass(frozen=True)
class IssuedBooking:
    """A booking as its buyer first sees it: with a token that opens it. The token exists only
    here; the database keeps its hash."""
    booking: Booking
    token: str

    def to_json(self) -> dict:
        return {**self.booking.to_json(), "bookingToken": self.token}


@dataclass(frozen=True)
class SeatMap:
    """Every seat of a show with its status, and a version that changes whenever any status does.

    The version hashes the statuses themselves: a counter or max(created_at) would miss
    cancellations, and a per-show version row would serialise every booking of the show.
    """
    show_id: uuid.UUID
    seats: Tuple[Tuple[Seat, SeatStatus], ...]

    def to_json(self) -> dict:
        return {
            "showId": str(self.show_id),
            "seats": [{**seat.to_json(), "status": status.value} for seat, status in self.seats],
        }

    @cached_property
    def version(self) -> str:
        # Seats never change after creation, so their ids and statuses say it all.
        canonical = ",".join(f"{seat.id}={status.value}" for seat, status in self.seats)
        return hashlib.sha256(f"{self.show_id}:{canonical}".encode()).hexdigest()[:32]
