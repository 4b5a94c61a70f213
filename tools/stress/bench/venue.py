"""A big room's costs for `tools.stress bench`: creating the 80,000-seat stadium in one
create_show, and reading its /availability and /layout through the Chalice handler as Lambda
would (time, and bytes raw and gzipped: what CloudFront sends a viewer)."""
import gzip
import json
import random
import statistics
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Callable, Dict

from chalicelib import services
from chalicelib.layout import parse_layout
from chalicelib.validation import BookingRequest, ShowRequest

from ..events import LambdaContext, Request, api_gateway_event

STADIUM = Path(__file__).resolve().parents[3] / "layouts" / "stadium.json"
BOOKED_SHARE = 0.3  # a sale under way: the availability string is not all one letter


def _read(handler, path: str, repeats: int) -> Dict[str, float]:
    times, body = [], ""
    for _ in range(repeats):
        started = time.perf_counter()
        response = handler(api_gateway_event(Request("GET", path)), LambdaContext())
        times.append(time.perf_counter() - started)
        assert response["statusCode"] == 200, response
        body = response["body"]
    raw = body.encode()
    return {"p50_ms": statistics.median(times) * 1000, "max_ms": max(times) * 1000, "bytes": len(raw),
            "gzip_bytes": len(gzip.compress(raw, compresslevel=6))}


def measure(repeats: int, progress: Callable[[str], None]) -> dict:
    from app import app

    document = STADIUM.read_text()
    start = datetime.now(timezone.utc) + timedelta(days=30)
    started = time.perf_counter()
    show = services.create_show(ShowRequest(f"Stadium {uuid.uuid4().hex[:6]}", start,
                                            parse_layout(json.loads(document))))
    create_s = time.perf_counter() - started
    progress(f"venue: stadium of {show.total_seats} seats created in {create_s:.1f} s; booking "
             f"{BOOKED_SHARE:.0%} of it")
    seats = [seat.id for section in show.sections for seat, _ in services.seat_map(show.id, section.name).seats]
    for index, seat_id in enumerate(random.Random(7).sample(seats, int(len(seats) * BOOKED_SHARE) // 4 * 4)[::4]):
        services.book_seats(show.id, BookingRequest(f"fan-{index}", (seat_id,)))
    progress(f"venue: reading /availability and /layout {repeats} times each")
    return {"seats": show.total_seats, "sections": len(show.sections), "event_bytes": len(document.encode()),
            "create_s": create_s,
            "availability": _read(app, f"/shows/{show.id}/availability", repeats),
            "layout": _read(app, f"/shows/{show.id}/layout", max(1, repeats // 4))}


def report_lines(venue: dict) -> list:
    lines = [f"\nA big room: the {venue['seats']:,}-seat stadium ({venue['sections']} sections)",
             f"  create_show             {venue['create_s']:7.1f} s   (event {venue['event_bytes'] / 1024:.0f} KiB)"]
    for name in ("availability", "layout"):
        read = venue[name]
        lines.append(f"  GET /{name:<18}{read['p50_ms']:7.1f} ms p50 (max {read['max_ms']:.0f}) through the handler;"
                     f" {read['bytes'] / 1024:,.0f} KiB, {read['gzip_bytes'] / 1024:,.1f} KiB gzipped")
    return lines
