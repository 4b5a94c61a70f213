"""Use cases. Each opens its own transaction(s) through `db` and talks SQL only through
`repository`; the HTTP handlers, the admin function and the tools all call these."""
import hashlib
import hmac
import json
import secrets
import uuid
from dataclasses import dataclass, replace
from typing import List, Optional, Sequence

from . import db, repository
from .errors import (Forbidden, IdempotencyKeyReused, NotFound, SeatUnavailable, ShowStarted,
                     ValidationError)
from .model import Booking, Show
from .validation import BookingRequest, ShowRequest

CONFIRMED, FAILED, CANCELLED = "CONFIRMED", "FAILED", "CANCELLED"


@dataclass(frozen=True)
class SeatMap:
    body: dict
    etag: str


class _SeatsTaken(Exception):
    """Some requested seats were claimed by others: roll the booking back."""

    def __init__(self, seat_ids: Sequence[int]):
        super().__init__(seat_ids)
        self.seat_ids = seat_ids


class _KeyAlreadyAnswered(Exception):
    """A concurrent request with the same Idempotency-Key answered first: roll back, replay."""


def _hash_token(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def _mint_token(con, booking_id: uuid.UUID) -> str:
    # 256 random bits; only the hash is stored, so a database leak opens no booking.
    token = secrets.token_urlsafe(32)
    repository.insert_booking_token(con, booking_id, _hash_token(token))
    return token


def list_shows() -> List[Show]:
    """All shows, soonest first, with the seats still available."""
    with db.transaction() as con:
        return repository.list_shows(con)


def get_show(show_id: uuid.UUID) -> Show:
    with db.transaction() as con:
        show = repository.find_show(con, show_id)
    if show is None:
        raise NotFound("No such show.")
    return show


def seat_map(show_id: uuid.UUID) -> SeatMap:
    """Every seat of the show with its status, and an ETag that changes when any status does.

    The ETag hashes the statuses themselves: a counter or max(created_at) would miss
    cancellations, and a per-show version row would serialise every booking of the show.
    """
    with db.transaction() as con:
        seats = repository.seat_map(con, show_id)
        if not seats and repository.find_show(con, show_id) is None:
            raise NotFound("No such show.")
    body = {
        "showId": str(show_id),
        "seats": [{**seat.to_json(), "status": "BOOKED" if booked else "AVAILABLE"} for seat, booked in seats],
    }
    digest = hashlib.sha256(json.dumps(body, separators=(",", ":")).encode()).hexdigest()[:32]
    return SeatMap(body=body, etag=f'"{digest}"')


def create_show(request: ShowRequest) -> Show:
    """Creates a show and its whole seat layout in one transaction."""
    with db.transaction() as con:
        return repository.insert_show(con, uuid.uuid4(), request.name, request.start_time, request.rows,
                                      request.seats_per_row)


def book_seats(show_id: uuid.UUID, request: BookingRequest, idempotency_key: Optional[str] = None) -> dict:
    """Books all of `request.seat_ids` or none of them; returns the 201 body with its token.

    The claim is one INSERT into seat_bookings in sorted seat order; UNIQUE (show_id, seat_id)
    decides who wins. When any seat is taken the whole transaction rolls back, the attempt is
    recorded as a FAILED booking in its own short transaction, and SeatUnavailable names the
    taken seats. With an Idempotency-Key, the answer is stored in the same transaction as the
    booking, so a repeat of the request (or a concurrent twin, which waits on the key's row)
    gets the same answer.
    """
    try:
        with db.transaction() as con:
            if idempotency_key is not None:
                record = repository.find_idempotency_record(con, show_id, idempotency_key)
                if record is not None:
                    return _replay(con, record, request)
            return _confirm(con, show_id, request, idempotency_key)
    except _SeatsTaken as taken:
        return _record_failure(show_id, request, idempotency_key, taken.seat_ids)
    except _KeyAlreadyAnswered:
        return _replay_stored(show_id, request, idempotency_key)


def _confirm(con, show_id: uuid.UUID, request: BookingRequest, idempotency_key: Optional[str]) -> dict:
    booking_id = uuid.uuid4()
    created_at = repository.insert_booking(con, booking_id, show_id, request.user_id, CONFIRMED)
    if created_at is None:
        raise _show_missing_or_started(con, show_id)
    seats = repository.insert_booking_seats(con, booking_id, show_id, request.seat_ids)
    if len(seats) != len(request.seat_ids):
        raise ValidationError("seatIds names a seat that is not in this show.")
    claimed = repository.claim_seats(con, show_id, booking_id, request.seat_ids)
    if len(claimed) != len(request.seat_ids):
        raise _SeatsTaken(sorted(set(request.seat_ids) - set(claimed)))
    body = Booking(booking_id, request.user_id, show_id, CONFIRMED, tuple(seats), created_at).to_json()
    if idempotency_key is not None:
        stored = repository.insert_idempotency_record(con, show_id, idempotency_key, request.fingerprint(), 201,
                                                      body, booking_id)
        if not stored:
            raise _KeyAlreadyAnswered()
    return {**body, "bookingToken": _mint_token(con, booking_id)}


def _show_missing_or_started(con, show_id: uuid.UUID) -> Exception:
    started = repository.show_has_started(con, show_id)
    return NotFound("No such show.") if started is None else ShowStarted()


def _record_failure(show_id: uuid.UUID, request: BookingRequest, idempotency_key: Optional[str],
                    taken_seat_ids: Sequence[int]) -> dict:
    error = SeatUnavailable([str(seat_id) for seat_id in taken_seat_ids])
    try:
        with db.transaction() as con:
            booking_id = uuid.uuid4()
            if repository.insert_booking(con, booking_id, show_id, request.user_id, FAILED) is None:
                raise _show_missing_or_started(con, show_id)
            repository.insert_booking_seats(con, booking_id, show_id, request.seat_ids)
            if idempotency_key is not None:
                stored = repository.insert_idempotency_record(con, show_id, idempotency_key, request.fingerprint(),
                                                              error.status, error.body(), booking_id)
                if not stored:
                    raise _KeyAlreadyAnswered()
    except _KeyAlreadyAnswered:
        return _replay_stored(show_id, request, idempotency_key)
    raise error


def _replay_stored(show_id: uuid.UUID, request: BookingRequest, idempotency_key: str) -> dict:
    with db.transaction() as con:
        record = repository.find_idempotency_record(con, show_id, idempotency_key)
        return _replay(con, record, request)


def _replay(con, record: repository.IdempotencyRecord, request: BookingRequest) -> dict:
    if not hmac.compare_digest(record.fingerprint, request.fingerprint()):
        raise IdempotencyKeyReused()
    if record.response_status == 201:
        # Tokens are stored only as hashes, so the replay mints a fresh one for the booking.
        return {**record.response_body, "bookingToken": _mint_token(con, record.booking_id)}
    raise SeatUnavailable(record.response_body["seatIds"])


def _authorised_booking(con, booking_id: uuid.UUID, token: str, for_update: bool = False) -> Booking:
    booking = repository.find_booking(con, booking_id, for_update=for_update)
    if booking is None:
        raise NotFound("No such booking.")
    presented = _hash_token(token)
    # Compare against every hash in constant time, without stopping at the first match.
    matches = [hmac.compare_digest(presented, stored) for stored in repository.booking_token_hashes(con, booking_id)]
    if not any(matches):
        raise Forbidden()
    return booking


def get_booking(booking_id: uuid.UUID, token: str) -> Booking:
    """The booking, for the holder of one of its tokens."""
    with db.transaction() as con:
        return _authorised_booking(con, booking_id, token)


def cancel_booking(booking_id: uuid.UUID, token: str) -> Booking:
    """Cancels a confirmed booking and frees its seats at once; cancelling again is harmless."""
    with db.transaction() as con:
        booking = _authorised_booking(con, booking_id, token, for_update=True)
        if booking.status == CONFIRMED:
            repository.cancel_booking(con, booking_id)
            booking = replace(booking, status=CANCELLED)
        return booking
