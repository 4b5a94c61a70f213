"""Request bodies, path parameters and admin events -> typed values, or a ValidationError
that says what is wrong. Nothing here does I/O."""
import hashlib
import json
import unicodedata
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Optional, Tuple

from .errors import NotFound, PayloadTooLarge, Unauthorized, ValidationError
from .layout import MAX_NAME_LENGTH as MAX_SECTION_NAME_LENGTH
from .layout import Layout, grid, parse_layout
from .listing import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, ShowsQuery, decode_cursor

MAX_BODY_BYTES = 64 * 1024
MAX_SEATS_PER_BOOKING = 10
MAX_USER_ID_LENGTH = 64
MAX_SHOW_NAME_LENGTH = 200
MAX_IDEMPOTENCY_KEY_LENGTH = 255
MAX_ROWS = 26
MAX_SEATS_PER_ROW = 100
# Seat ids are opaque strings to clients; here they are positive bigints in decimal.
MAX_SEAT_ID_DIGITS = 18
MAX_TOKEN_LENGTH = 512
DEFAULT_HOLD_MINUTES, MAX_HOLD_MINUTES = 10, 60
DEFAULT_MAX_SEATS_PER_USER, MAX_SEATS_PER_USER = 10, 100


@dataclass(frozen=True)
class BookingRequest:
    user_id: str
    seat_ids: Tuple[int, ...]  # sorted, distinct

    def _canonical(self) -> dict:
        return {"userId": self.user_id, "seatIds": list(self.seat_ids)}

    def fingerprint(self) -> bytes:
        """What makes two requests with one Idempotency-Key "the same request"."""
        return hashlib.sha256(json.dumps(self._canonical()).encode()).digest()


@dataclass(frozen=True)
class HoldRequest(BookingRequest):
    """The same fields as a booking; a key used for a booking is a different request here."""

    def _canonical(self) -> dict:
        return {"kind": "hold", **super()._canonical()}


@dataclass(frozen=True)
class BestRequest:
    """Hold the best `count` adjacent seats of one row that match the filters."""
    user_id: str
    count: int
    category: Optional[str] = None
    section: Optional[str] = None
    accessible: bool = False

    def fingerprint(self) -> bytes:
        canonical = {"kind": "best", "userId": self.user_id, "count": self.count, "category": self.category,
                     "section": self.section, "accessible": self.accessible}
        return hashlib.sha256(json.dumps(canonical).encode()).digest()


@dataclass(frozen=True)
class ShowRequest:
    name: str
    start_time: datetime
    layout: Layout
    hold_minutes: int = DEFAULT_HOLD_MINUTES
    max_seats_per_user: int = DEFAULT_MAX_SEATS_PER_USER


def _has_control_characters(text: str) -> bool:
    # Cc: C0/C1 controls; Cs: lone surrogates, which JSON escapes can smuggle in.
    return any(unicodedata.category(char) in ("Cc", "Cs") for char in text)


def parse_json_object(raw_body: Optional[bytes]) -> dict:
    if raw_body is None or raw_body == b"":
        raise ValidationError("The request body must be a JSON object.")
    check_body_size(raw_body)
    try:
        body = json.loads(raw_body.decode("utf-8"))
    except UnicodeDecodeError:
        raise ValidationError("The request body must be UTF-8.") from None
    except (ValueError, RecursionError):
        raise ValidationError("The request body is not valid JSON.") from None
    if not isinstance(body, dict):
        raise ValidationError("The request body must be a JSON object.")
    return body


def _reject_unknown_fields(body: dict, known: set) -> None:
    unknown = sorted(set(body) - known)
    if unknown:
        raise ValidationError(f"Unknown field: {unknown[0]}.")


def _text(body: dict, field: str, max_length: int) -> str:
    if field not in body:
        raise ValidationError(f"{field} is required.")
    value = body[field]
    if not isinstance(value, str):
        raise ValidationError(f"{field} must be a string.")
    if not 1 <= len(value) <= max_length:
        raise ValidationError(f"{field} must be 1 to {max_length} characters long.")
    if _has_control_characters(value):
        raise ValidationError(f"{field} must not contain control characters.")
    return value


def _seat_id(value) -> int:
    if not isinstance(value, str):
        raise ValidationError("seatIds must be a list of seat id strings.")
    if not (value.isascii() and value.isdigit() and len(value) <= MAX_SEAT_ID_DIGITS):
        raise ValidationError(f"Seat {value[:40]!r} is not a seat of this show.")
    return int(value)


def _seat_ids(body: dict) -> Tuple[int, ...]:
    if "seatIds" not in body:
        raise ValidationError("seatIds is required.")
    seat_ids = body["seatIds"]
    if not isinstance(seat_ids, list):
        raise ValidationError("seatIds must be a list of seat id strings.")
    if not 1 <= len(seat_ids) <= MAX_SEATS_PER_BOOKING:
        raise ValidationError(f"Book 1 to {MAX_SEATS_PER_BOOKING} seats at a time.")
    parsed = [_seat_id(value) for value in seat_ids]
    if len(set(parsed)) != len(parsed) or len(set(seat_ids)) != len(seat_ids):
        raise ValidationError("seatIds must not repeat a seat.")
    return tuple(sorted(parsed))


def booking_request(raw_body: Optional[bytes]) -> BookingRequest:
    body = parse_json_object(raw_body)
    _reject_unknown_fields(body, {"userId", "seatIds"})
    return BookingRequest(user_id=_text(body, "userId", MAX_USER_ID_LENGTH), seat_ids=_seat_ids(body))


def _best(value) -> dict:
    if not isinstance(value, dict):
        raise ValidationError("best must be an object: {\"count\", \"category\"?, \"section\"?, \"accessible\"?}.")
    _reject_unknown_fields(value, {"count", "category", "section", "accessible"})
    count = _whole_number(value, "count", 1, MAX_SEATS_PER_BOOKING)
    category = _text(value, "category", 32) if "category" in value else None
    section = _text(value, "section", MAX_SECTION_NAME_LENGTH) if "section" in value else None
    accessible = value.get("accessible", False)
    if not isinstance(accessible, bool):
        raise ValidationError("accessible must be true or false.")
    return dict(count=count, category=category, section=section, accessible=accessible)


def hold_request(raw_body: Optional[bytes]):
    """A hold's body: the seats picked ({"userId", "seatIds"}) -> HoldRequest, or the best
    available ({"userId", "best": {...}}) -> BestRequest."""
    body = parse_json_object(raw_body)
    if "best" in body:
        _reject_unknown_fields(body, {"userId", "best"})
        return BestRequest(user_id=_text(body, "userId", MAX_USER_ID_LENGTH), **_best(body["best"]))
    _reject_unknown_fields(body, {"userId", "seatIds"})
    return HoldRequest(user_id=_text(body, "userId", MAX_USER_ID_LENGTH), seat_ids=_seat_ids(body))


def _path_id(value: str, what: str) -> uuid.UUID:
    """An id from a path; anything that is not one names nothing there is."""
    try:
        return uuid.UUID(value)
    except (ValueError, TypeError, AttributeError):
        raise NotFound(f"No such {what}.") from None


def show_id(value: str) -> uuid.UUID:
    return _path_id(value, "show")


def booking_id(value: str) -> uuid.UUID:
    return _path_id(value, "booking")


def hold_id(value: str) -> uuid.UUID:
    return _path_id(value, "hold")


def section_name(value: Optional[str]) -> Optional[str]:
    """A `?section=` filter: a section's name, or None for all sections."""
    if value is None:
        return None
    if not 1 <= len(value) <= MAX_SECTION_NAME_LENGTH or _has_control_characters(value):
        raise NotFound("No such section in this show.")
    return value


# A cursor is ~110 characters; anything much longer is not one of ours, and not worth decoding.
MAX_CURSOR_LENGTH = 256


def shows_query(params: Optional[dict]) -> ShowsQuery:
    """`GET /shows`'s query string: `past` (true|false), `limit` (1–100), `cursor` (from the
    previous page's nextCursor). Other parameters are ignored, as cache busters are."""
    params = params or {}
    past = params.get("past", "false")
    if past not in ("true", "false"):
        raise ValidationError("past must be true or false.")
    limit = params.get("limit", str(DEFAULT_PAGE_SIZE))
    if not (limit.isascii() and limit.isdigit() and len(limit) <= 3 and 1 <= int(limit) <= MAX_PAGE_SIZE):
        raise ValidationError(f"limit must be a whole number from 1 to {MAX_PAGE_SIZE}.")
    cursor = params.get("cursor")
    if cursor is not None and not 1 <= len(cursor) <= MAX_CURSOR_LENGTH:
        raise ValidationError("cursor is not one this listing gave out; start again without it.")
    return ShowsQuery(past=past == "true", limit=int(limit),
                      after=decode_cursor(past == "true", cursor) if cursor is not None else None)


def idempotency_key(value: Optional[str]) -> Optional[str]:
    if value is None:
        return None
    printable_ascii = all(" " <= char <= "~" for char in value)
    if not (1 <= len(value) <= MAX_IDEMPOTENCY_KEY_LENGTH and printable_ascii):
        raise ValidationError(
            f"Idempotency-Key must be 1 to {MAX_IDEMPOTENCY_KEY_LENGTH} printable ASCII characters."
        )
    return value


def bearer_token(authorization: Optional[str], opens: str = "booking") -> str:
    """The token of an `Authorization: Bearer` header; `opens` names what it is for."""
    scheme, _, token = (authorization or "").strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or len(token) > MAX_TOKEN_LENGTH:
        raise Unauthorized(f"A {opens} token is required: send Authorization: Bearer <{opens}Token>.")
    return token


def _whole_number(event: dict, field: str, low: int, high: int) -> int:
    if field not in event:
        raise ValidationError(f"{field} is required.")
    value = event[field]
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError(f"{field} must be a whole number.")
    if not low <= value <= high:
        raise ValidationError(f"{field} must be between {low} and {high}.")
    return value


def confirmation(raw_body: Optional[bytes]) -> None:
    """A confirm's body: nothing, or an empty JSON object (the buyer is the hold's userId)."""
    if raw_body:
        _reject_unknown_fields(parse_json_object(raw_body), set())


def show_request(event, now: Optional[datetime] = None) -> ShowRequest:
    """The create_show admin event, checked: {"name", "startTime"} and either a "layout" or the
    one-section shorthand "rows" + "seatsPerRow"; optionally "holdMinutes", "maxSeatsPerUser"."""
    if not isinstance(event, dict):
        raise ValidationError("The event must be a JSON object.")
    settings = {"holdMinutes", "maxSeatsPerUser"}
    room = {"layout"} if "layout" in event else {"rows", "seatsPerRow"}
    _reject_unknown_fields(event, {"name", "startTime"} | room | settings)
    name = _text(event, "name", MAX_SHOW_NAME_LENGTH)
    if not name.strip():
        raise ValidationError("name must not be blank.")
    start_text = _text(event, "startTime", 64)
    try:
        start_time = datetime.fromisoformat(start_text)
    except ValueError:
        raise ValidationError("startTime must be an ISO-8601 date and time.") from None
    if start_time.tzinfo is None:
        raise ValidationError("startTime must carry a UTC offset, e.g. 2030-05-01T20:00:00Z.")
    if start_time <= (now or datetime.now(timezone.utc)):
        raise ValidationError("startTime must lie in the future.")
    if "layout" in event:
        layout = parse_layout(event["layout"])
    else:
        layout = grid(_whole_number(event, "rows", 1, MAX_ROWS), _whole_number(event, "seatsPerRow", 1, MAX_SEATS_PER_ROW))
    hold_minutes = _optional_whole_number(event, "holdMinutes", 1, MAX_HOLD_MINUTES, DEFAULT_HOLD_MINUTES)
    max_seats = _optional_whole_number(event, "maxSeatsPerUser", 1, MAX_SEATS_PER_USER, DEFAULT_MAX_SEATS_PER_USER)
    return ShowRequest(name, start_time.astimezone(timezone.utc), layout, hold_minutes, max_seats)


def _optional_whole_number(event: dict, field: str, low: int, high: int, default: int) -> int:
    return _whole_number(event, field, low, high) if field in event else default


def check_body_size(raw_body: Optional[bytes]) -> None:
    if raw_body is not None and len(raw_body) > MAX_BODY_BYTES:
        raise PayloadTooLarge()


def etag_matches(if_none_match: Optional[str], etag: str) -> bool:
    """RFC 9110 weak comparison against an If-None-Match list (or `*`)."""
    if not if_none_match:
        return False
    candidates = [candidate.strip() for candidate in if_none_match.split(",")]
    return "*" in candidates or any(candidate.removeprefix("W/") == etag for candidate in candidates)
