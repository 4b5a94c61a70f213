"""Best available against picked seats for `tools.stress bench`, in one run, on one hot
section (the concert hall's 800-seat parterre): holds/s and latency at 1, 8 and 32 clients,
each asking for 2 seats; then a sell-out of that section by buyers of 1-6 seats, either all
asking for the best available or all picking a random free group themselves (as a person on a
seat map would), and what each leaves: occupancy and stranded single seats."""
import json
import queue
import random
import threading
import time
import uuid
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Callable, Dict, List

from chalicelib import best, db, holds
from chalicelib.layout import parse_layout
from chalicelib.repository import Repository
from chalicelib.services import create_show
from chalicelib.validation import BestRequest, HoldRequest, ShowRequest

from .. import report
from .clients import run_clients

HALL = Path(__file__).resolve().parents[3] / "layouts" / "concert-hall.json"
SECTION = 0  # the parterre: nearest the stage, where everyone wants to sit


def _hall() -> uuid.UUID:
    start = datetime.now(timezone.utc) + timedelta(days=30)
    return create_show(ShowRequest(f"Hall {uuid.uuid4().hex[:6]}", start,
                                   parse_layout(json.loads(HALL.read_text())), max_seats_per_user=100)).id


def _free_seats(show_id) -> List[best.RowSeat]:
    """The section's free seats and each row's ends (what best available reads)."""
    with db.transaction() as con:
        return Repository(con).section_seats(show_id, SECTION)


def _section_size(show_id) -> int:
    with db.transaction() as con:
        return con.run("SELECT total_seats FROM sections"
                       " WHERE show_id = CAST(:show_id AS uuid) AND position = :section",
                       show_id=str(show_id), section=SECTION)[0][0]


def _pick(show_id, count: int, rng: random.Random):
    """A person's pick: a random free group of `count` adjacent seats in one row of the section."""
    groups = list(best.candidates(_free_seats(show_id), count))
    if not groups:
        raise LookupError("sold out")
    return HoldRequest(f"picker-{uuid.uuid4().hex[:8]}", tuple(sorted(rng.choice(groups).ids)))


def _best(show_id, count: int, rng: random.Random):
    return BestRequest(f"best-{uuid.uuid4().hex[:8]}", count, section="Parterre")


def _run(show_id, make_request: Callable, counts: List[int], clients: int) -> Dict[str, object]:
    todo = queue.Queue()
    for count in counts:
        todo.put(count)
    answers, lock = Counter(), threading.Lock()

    def work(index: int) -> List[float]:
        rng, latencies = random.Random(index), []
        while True:
            try:
                count = todo.get_nowait()
            except queue.Empty:
                return latencies
            started = time.perf_counter()
            try:
                holds.hold_seats(show_id, make_request(show_id, count, rng))
                code = "201"
            except LookupError:
                code = "sold out"
            except Exception as error:  # tallied by code
                code = getattr(error, "code", type(error).__name__)
            latencies.append(time.perf_counter() - started)
            with lock:
                answers[code] += 1

    latencies, elapsed = run_clients(clients, work)
    return {"per_s": len(latencies) / elapsed, "p50_ms": report.percentile(latencies, 50) * 1000,
            "p99_ms": report.percentile(latencies, 99) * 1000, "answers": dict(answers)}


def measure(requests: int, client_counts: List[int], progress: Callable[[str], None]) -> dict:
    speed = []
    for clients in client_counts:
        for way, make_request in (("best", _best), ("picked", _pick)):
            progress(f"best available: {requests} holds of 2 seats, {way}, {clients} clients")
            speed.append({"way": way, "clients": clients, **_run(_hall(), make_request, [2] * requests, clients)})
    sell_outs = {}
    for way, make_request in (("best", _best), ("picked", _pick)):
        progress(f"best available: selling out the parterre, {way}, 8 clients")
        show_id = _hall()
        counts = random.Random(1).choices(range(1, 7), k=600)
        answers = _run(show_id, make_request, counts, 8)["answers"]
        seats, size = _free_seats(show_id), _section_size(show_id)
        free = sum(seat.free for seat in seats)
        sell_outs[way] = {"seats": size, "held": size - free, "stranded": best.stranded_singles(seats),
                          "answers": answers}
    return {"speed": speed, "sell_out": sell_outs}


def report_lines(result: dict) -> list:
    lines = ["\nBest available vs picked seats on one hot section (800 seats), holds of 2 seats",
             f"  {'clients':>7}  {'way':<7}{'holds/s':>9}{'p50 ms':>9}{'p99 ms':>9}  answers"]
    for row in result["speed"]:
        answers = ", ".join(f"{code} {count}" for code, count in sorted(row["answers"].items()))
        lines.append(f"  {row['clients']:>7}  {row['way']:<7}{row['per_s']:>9.0f}{row['p50_ms']:>9.1f}"
                     f"{row['p99_ms']:>9.1f}  {answers}")
    lines.append("  sell-out by 600 buyers of 1-6 seats, 8 clients:")
    for way, sold in result["sell_out"].items():
        lines.append(f"    {way:<7} {sold['held']}/{sold['seats']} seats held, {sold['stranded']} stranded singles")
    return lines
