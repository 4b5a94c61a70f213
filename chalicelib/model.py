"""Domain values and their JSON representation in the contract."""
import hashlib
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from enum import Enum
from functools import cached_property
from typing import Mapping, Optional, Tuple

from .layout import Category


def iso_utc(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


class BookingStatus(str, Enum):
    CONFIRMED = "CONFIRMED"
    FAILED = "FAILED"  # a refused attempt, kept so that every attempt is accounted for
    CANCELLED = "CANCELLED"


class SeatStatus(str, Enum):
    AVAILABLE = "AVAILABLE"
    HELD = "HELD"  # someone's live hold
    BOOKED = "BOOKED"

    @property
    def letter(self) -> str:
        """The seat's character in an availability string."""
        return self.value[0]


@dataclass(frozen=True)
class Money:
    amount: int  # minor units (6500 = EUR 65.00)
    currency: str

    def to_json(self) -> dict:
        return {"amount": self.amount, "currency": self.currency}


def price_of(seats, currency: str) -> Money:
    """What a set of seats costs: the sum of their categories' prices."""
    return Money(sum(seat.price for seat in seats), currency)


@dataclass(frozen=True)
class SectionSummary:
    name: str
    total_seats: int
    available_seats: int
    hints: Mapping[str, object] = field(default_factory=dict)  # drawing hints, shown with the layout

    def to_json(self) -> dict:
        return {"name": self.name, "totalSeats": self.total_seats, "availableSeats": self.available_seats}


@dataclass(frozen=True)
class Show:
    id: uuid.UUID
    name: str
    start_time: datetime
    total_seats: int
    available_seats: int
    currency: str
    hold_minutes: int
    max_seats_per_user: int
    categories: Tuple[Category, ...] = ()
    sections: Tuple[SectionSummary, ...] = ()

    def to_json(self) -> dict:
        return {
            "id": str(self.id),
            "name": self.name,
            "startTime": iso_utc(self.start_time),
            "totalSeats": self.total_seats,
            "availableSeats": self.available_seats,
            "currency": self.currency,
            "holdMinutes": self.hold_minutes,
            "maxSeatsPerUser": self.max_seats_per_user,
            "categories": [category.to_json() for category in self.categories],
            "sections": [section.to_json() for section in self.sections],
        }


@dataclass(frozen=True)
class Seat:
    id: int
    row: str
    number: int
    section: str
    category: str
    accessible: bool = False
    price: int = 0  # of its category, in the show's currency

    def to_json(self) -> dict:
        return {"id": str(self.id), "row": self.row, "number": self.number, "section": self.section,
                "category": self.category, "accessible": self.accessible}


@dataclass(frozen=True)
class Booking:
    id: uuid.UUID
    user_id: str
    show_id: uuid.UUID
    status: BookingStatus
    seats: Tuple[Seat, ...]
    created_at: datetime
    currency: str

    @property
    def total(self) -> Money:
        return price_of(self.seats, self.currency)

    def to_json(self) -> dict:
        return {
            "id": str(self.id),
            "userId": self.user_id,
            "showId": str(self.show_id),
            "status": self.status.value,
            "seats": [seat.to_json() for seat in self.seats],
            "total": self.total.to_json(),
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


class HoldStatus(str, Enum):
    ACTIVE = "ACTIVE"
    EXPIRED = "EXPIRED"  # an ACTIVE hold past its expiry (nothing is stored for it)
    CONFIRMED = "CONFIRMED"
    RELEASED = "RELEASED"


@dataclass(frozen=True)
class Hold:
    id: uuid.UUID
    show_id: uuid.UUID
    user_id: str
    status: HoldStatus
    seats: Tuple[Seat, ...]
    expires_at: datetime
    currency: str
    booking_id: Optional[uuid.UUID] = None  # once CONFIRMED

    @property
    def total(self) -> Money:
        return price_of(self.seats, self.currency)

    def to_json(self) -> dict:
        return {
            "id": str(self.id),
            "showId": str(self.show_id),
            "userId": self.user_id,
            "status": self.status.value,
            "seats": [seat.to_json() for seat in self.seats],
            "expiresAt": iso_utc(self.expires_at),
            "total": self.total.to_json(),
        }


@dataclass(frozen=True)
class IssuedHold:
    """A hold as its holder first sees it: with the token that opens it (only its hash is kept)."""
    hold: Hold
    token: str

    def to_json(self) -> dict:
        return {**self.hold.to_json(), "holdToken": self.token}


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


@dataclass(frozen=True)
class Availability:
    """One character per seat of the show, in layout order: A available, H held, B booked."""
    show_id: uuid.UUID
    statuses: str

    def to_json(self) -> dict:
        return {"showId": str(self.show_id), "statuses": self.statuses}

    @cached_property
    def version(self) -> str:
        return hashlib.sha256(f"{self.show_id}:{self.statuses}".encode()).hexdigest()[:32]


@dataclass(frozen=True)
class RoomSeat:
    id: int
    number: int
    category: str
    accessible: bool

    def to_json(self) -> dict:
        return {"id": str(self.id), "number": self.number, "category": self.category, "accessible": self.accessible}


@dataclass(frozen=True)
class RoomRow:
    label: str
    seats: Tuple[RoomSeat, ...]


@dataclass(frozen=True)
class RoomSection:
    name: str
    hints: Mapping[str, object]  # drawing hints from the layout: position, rotation, curve
    rows: Tuple[RoomRow, ...]


@dataclass(frozen=True)
class Room:
    """A show's layout as stored, with its seat ids: immutable for the life of the show."""
    show_id: uuid.UUID
    currency: str
    categories: Tuple[Category, ...]
    sections: Tuple[RoomSection, ...]

    def to_json(self) -> dict:
        return {
            "showId": str(self.show_id),
            "currency": self.currency,
            "categories": [category.to_json() for category in self.categories],
            "sections": [{"name": section.name, **section.hints,
                          "rows": [{"label": row.label, "seats": [seat.to_json() for seat in row.seats]}
                                   for row in section.rows]}
                         for section in self.sections],
        }

    @property
    def version(self) -> str:
        # Seats never change after creation: the show's id names its room for good.
        return hashlib.sha256(f"room:{self.show_id}".encode()).hexdigest()[:32]
