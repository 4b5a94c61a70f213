"""What the on-sale tests oversell with: a room of one seat, and a claim that never conflicts."""
import json
from pathlib import Path

from chalicelib import db
from chalicelib.config import parse_database_url

ONE_SEAT = {"currency": "EUR", "categories": [{"id": "STD", "name": "Standard", "price": 0}],
            "sections": [{"name": "Box", "rows": [{"label": "A", "seats": 1, "category": "STD"}]}]}


def one_seat_layout(directory: Path) -> Path:
    """A layout file of one seat in `directory`: every buyer wants the same seat."""
    path = directory / "one-seat.json"
    path.write_text(json.dumps(ONE_SEAT))
    return path


def break_the_claim(database_url: str) -> None:
    """Replaces the claim's unique constraint by one on every column under the same name (so
    the claim's ON CONFLICT ON CONSTRAINT still finds it): it never conflicts, and a seat can
    be sold twice."""
    con = db.connect(parse_database_url(database_url))
    try:
        con.run("ALTER TABLE seat_bookings DROP CONSTRAINT seat_bookings_show_seat_key, "
                "ADD CONSTRAINT seat_bookings_show_seat_key UNIQUE (show_id, seat_id, booking_id, hold_id)")
    finally:
        con.close()
