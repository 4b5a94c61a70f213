"""Domain values and their JSON representation in the contract."""
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Tuple


def iso_utc(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


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
    status: str
    seats: Tuple[Seat, ...]
    created_at: datetime

    def to_json(self) -> dict:
        return {
            "id": str(self.id),
            "userId": self.user_id,
            "showId": str(self.show_id),
            "status": self.status,
            "seats": [seat.to_json() for seat in self.seats],
            "createdAt": iso_utc(self.created_at),
        }
