"""What a run leaves behind, read back after it: through the target's API (seat map, show,
bookings with their tokens) and, when a database URL is given, straight from the tables
(the storm reads its show this way too). The invariant module judges it; nothing here
decides anything.

The SQL is an auditor's read of the tables themselves, deliberately not the service's
queries: it must see what is stored, not what the code under test believes is stored.
"""
from dataclasses import dataclass
from typing import Dict, Iterable, List, Optional, Tuple

from chalicelib import db
from chalicelib.config import parse_database_url

from .events import Request
from .targets import Target


@dataclass
class ApiView:
    total: Optional[int]
    available_seats: Optional[int]
    seat_statuses: Dict[str, str]
    problems: List[str]


@dataclass
class SqlView:
    total: int
    seat_ids: List[str]
    claims: List[Tuple[str, str]]
    bookings: List[dict]  # every booking of the show: {"id", "status", "userId", "seats", "hasToken"}
    # The holds' side (an on-sale): claims of holds as (seat id, hold id, live by the database's
    # clock), and every hold of the show: {"id", "status" (as stored), "live", "seats"}.
    hold_claims: List[Tuple[str, str, bool]] = ()
    holds: List[dict] = ()

    def run_bookings(self, user_prefix: str) -> List[dict]:
        return [booking for booking in self.bookings if booking["userId"].startswith(user_prefix)]


def seat_statuses(seat_map: dict) -> Dict[str, str]:
    return {str(seat["id"]): seat.get("status") for seat in seat_map.get("seats", [])}


def read_seat_map(target: Target, show_id: str) -> Tuple[Optional[dict], Optional[str]]:
    """(seat map body, None) or (None, what went wrong)."""
    answer = target.call(Request("GET", f"/shows/{show_id}/seats"))
    if answer.status == 200 and isinstance(answer.body, dict):
        return answer.body, None
    return None, f"GET /api/shows/{show_id}/seats answered {answer.status or answer.error}: {str(answer.body)[:200]}"


def api_view(target: Target, show_id: str) -> ApiView:
    problems = []
    show = target.call(Request("GET", f"/shows/{show_id}"))
    total = available = None
    if show.status == 200 and isinstance(show.body, dict):
        total, available = show.body.get("totalSeats"), show.body.get("availableSeats")
    else:
        problems.append(f"GET /api/shows/{show_id} answered {show.status or show.error}")
    seat_map, problem = read_seat_map(target, show_id)
    if problem:
        problems.append(problem)
    return ApiView(total, available, seat_statuses(seat_map or {}), problems)


def read_bookings(target: Target, tokens: Iterable[Tuple[str, str]]) -> Dict[str, dict]:
    """{booking id: {"id", "status", "seats": [seat ids]}} through GET /api/bookings/{id}; a
    booking that cannot be read is recorded with a status saying why (never CONFIRMED)."""
    found = {}
    for booking_id, token in tokens:
        answer = target.call(Request("GET", f"/bookings/{booking_id}", headers={"Authorization": f"Bearer {token}"}))
        if answer.status == 200 and isinstance(answer.body, dict):
            found[booking_id] = {"id": booking_id, "status": answer.body.get("status"),
                                 "seats": [str(seat.get("id")) for seat in answer.body.get("seats") or ()]}
        else:
            found[booking_id] = {"id": booking_id, "status": f"unreadable ({answer.status or answer.error})",
                                 "seats": []}
    return found


SHOW_TOTAL = "SELECT total_seats FROM shows WHERE id = CAST(:show_id AS uuid)"
SHOW_SEATS = "SELECT CAST(id AS text) FROM seats WHERE show_id = CAST(:show_id AS uuid) ORDER BY id"
SHOW_CLAIMS = """
SELECT CAST(seat_id AS text), CAST(booking_id AS text)
FROM seat_bookings WHERE show_id = CAST(:show_id AS uuid) ORDER BY seat_id"""
SHOW_BOOKINGS = """
SELECT CAST(bookings.id AS text), bookings.status, bookings.user_id,
       COALESCE(array_agg(CAST(booking_seats.seat_id AS text) ORDER BY booking_seats.seat_id)
                FILTER (WHERE booking_seats.seat_id IS NOT NULL), '{}'),
       EXISTS (SELECT 1 FROM booking_tokens WHERE booking_tokens.booking_id = bookings.id)
FROM bookings
LEFT JOIN booking_seats ON booking_seats.booking_id = bookings.id
WHERE bookings.show_id = CAST(:show_id AS uuid)
GROUP BY bookings.id, bookings.status, bookings.user_id"""
SHOW_HOLD_CLAIMS = """
SELECT CAST(seat_id AS text), CAST(hold_id AS text), expires_at >= now()
FROM seat_bookings WHERE show_id = CAST(:show_id AS uuid) AND hold_id IS NOT NULL ORDER BY seat_id"""
SHOW_HOLDS = """
SELECT CAST(holds.id AS text), holds.status, holds.expires_at >= now(),
       COALESCE(array_agg(CAST(hold_seats.seat_id AS text) ORDER BY hold_seats.seat_id)
                FILTER (WHERE hold_seats.seat_id IS NOT NULL), '{}')
FROM holds
LEFT JOIN hold_seats ON hold_seats.hold_id = holds.id
WHERE holds.show_id = CAST(:show_id AS uuid)
GROUP BY holds.id, holds.status, holds.expires_at"""


def sql_view(database_url: str, show_id: str) -> Optional[SqlView]:
    """The show's rows in one consistent snapshot, or None when the show is not in that
    database. Read-only, in an explicit transaction (safe behind a pooling proxy)."""
    con = db.connect(parse_database_url(database_url))
    try:
        con.run("START TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        try:
            total = con.run(SHOW_TOTAL, show_id=show_id)
            if not total:
                return None
            seat_ids = [row[0] for row in con.run(SHOW_SEATS, show_id=show_id)]
            claims = [(row[0], row[1]) for row in con.run(SHOW_CLAIMS, show_id=show_id)]
            bookings = [{"id": row[0], "status": row[1], "userId": row[2], "seats": list(row[3]), "hasToken": row[4]}
                        for row in con.run(SHOW_BOOKINGS, show_id=show_id)]
            hold_claims = [(row[0], row[1], row[2]) for row in con.run(SHOW_HOLD_CLAIMS, show_id=show_id)]
            holds = [{"id": row[0], "status": row[1], "live": row[2], "seats": list(row[3])}
                     for row in con.run(SHOW_HOLDS, show_id=show_id)]
        finally:
            con.run("COMMIT")
    finally:
        con.close()
    return SqlView(total[0][0], seat_ids, claims, bookings, hold_claims, holds)
