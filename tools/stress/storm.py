"""`make storm` / `python -m tools.stress storm`: hundreds of Lambda containers hit one small database.

A private PostgreSQL (max_connections 100 by default) on a free 127.0.0.1 port; then, in two
modes, N simulated containers (default 300: threads spread over a few processes, each
thread with its own connection through chalicelib.db, as one container has) all book a seat
through the Chalice handler at the same moment, and keep their connection open afterwards as
a warm container does:

  direct     straight to PostgreSQL: containers past max_connections must get a clean
             503 UNAVAILABLE, quickly; no 500, no hang, nothing half-booked
  pgbouncer  through pgbouncer in transaction pooling mode (pool 20, max_client_conn 1000):
             every container gets 201 or 409, no error at all

About a third of the seats are wanted by two containers, so 409s are expected. After each
mode, the show's rows are read by SQL (evidence.py) and the invariant module checks that
every claim belongs to a CONFIRMED booking, every CONFIRMED booking has all its claims and a
token, and the database agrees with what the containers were told.
Exit status 0 only when both modes behaved. The containers' worker processes run
`python -m tools.stress.storm --worker`.
"""
import argparse
import json
import math
import os
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Dict, List, Optional
from urllib.parse import urlsplit

from . import invariant, report
from .events import LambdaContext, Request, api_gateway_event

ROOT = Path(__file__).resolve().parents[2]
REPORT_MARKER = "storm-report: "


# ----------------------------------------------------------------------------- worker side

def _worker(job: dict) -> None:
    """One process of containers: books, reports on stdout, then holds its connections until
    the parent says "release" on stdin (a warm container keeps its connection)."""
    os.environ["DATABASE_URL"] = job["url"]
    os.environ["DB_CONNECT_TIMEOUT_S"] = str(job["connect_timeout_s"])
    from app import app
    from chalicelib import db
    from tools.local.serve import thread_local_requests

    thread_local_requests(app)  # many containers share this interpreter: one request per thread
    db.configure(None)
    release = threading.Event()
    results: Dict[int, dict] = {}

    def container(number: int, seat_id: int) -> None:
        event = api_gateway_event(Request("POST", f"/shows/{job['show_id']}/bookings",
                                          {"userId": f"container-{number}", "seatIds": [str(seat_id)]}))
        time.sleep(max(0.0, job["start_at"] - time.time()))
        began = time.perf_counter()
        try:
            response = app(event, LambdaContext("modex-storm", request_id=event["requestContext"]["requestId"]))
            body = json.loads(response.get("body") or "{}")
            outcome = {"status": response["statusCode"], "error": body.get("error"),
                       "booking_id": body.get("id"), "seat_id": seat_id}
        except Exception as error:  # the handler itself blew up: the worst answer of all
            outcome = {"status": "exception", "error": f"{type(error).__name__}: {error}"[:200]}
        outcome["latency_s"] = time.perf_counter() - began
        results[number] = outcome
        release.wait(job["timeout_s"] + 60)
        db.close()

    threads = [threading.Thread(target=container, args=(number, seat_id), daemon=True)
               for number, seat_id in job["containers"]]
    for thread in threads:
        thread.start()
    deadline = job["start_at"] + job["timeout_s"]
    while len(results) < len(threads) and time.time() < deadline:
        time.sleep(0.05)
    answered = dict(results)
    report = [answered.get(number, {"status": "hang", "error": f"no answer within {job['timeout_s']:.0f} s"})
              for number, _ in job["containers"]]
    # The app logs to stdout too (Chalice's handler): the report is the line with the marker.
    print(REPORT_MARKER + json.dumps(report), flush=True)
    sys.stdin.readline()  # the parent's "release" (or EOF)
    release.set()
    for thread in threads:
        thread.join(timeout=10)


# ----------------------------------------------------------------------------- parent side

@dataclass
class ModeResult:
    mode: str
    answers: List[dict]
    checks: Dict[str, int] = field(default_factory=dict)
    server_connections_peak: Optional[int] = None

    def count(self, status) -> int:
        return sum(1 for answer in self.answers if answer["status"] == status)

    @property
    def others(self) -> List[dict]:
        return [answer for answer in self.answers if answer["status"] not in (201, 409, 503)]

    @property
    def max_latency_s(self) -> float:
        return max((answer.get("latency_s", 0.0) for answer in self.answers), default=0.0)

    def problems(self) -> List[str]:
        """What makes this mode fail: anything but 201/409 through pgbouncer; a 500, a hang or
        another odd answer directly; a broken invariant in either."""
        found = []
        if self.mode == "pgbouncer" and self.count(503):
            found.append(f"{self.count(503)} containers got 503 through pgbouncer")
        if self.others:
            kinds = Counter(f"{answer['status']} {answer.get('error') or ''}".strip() for answer in self.others)
            found.append("unexpected answers: " + ", ".join(f"{kind} x{count}" for kind, count in kinds.items()))
        unavailable = [answer for answer in self.answers if answer["status"] == 503 and answer.get("error") != "UNAVAILABLE"]
        if unavailable:
            found.append(f"{len(unavailable)} 503s without error UNAVAILABLE")
        for check, count in self.checks.items():
            if count:
                found.append(f"{check}: {count}")
        return found


def _spawn_workers(url: str, show_id: str, assignments: List[tuple], processes: int, timeout_s: float,
                   connect_timeout_s: float) -> List[dict]:
    """Runs the containers in `processes` worker processes; returns one answer per container."""
    start_at = time.time() + 2.0 + 0.3 * processes  # every worker imported and its threads waiting
    chunks = [assignments[index::processes] for index in range(processes)]
    workers = []
    for chunk in chunks:
        job = {"url": url, "show_id": show_id, "containers": chunk, "start_at": start_at, "timeout_s": timeout_s,
               "connect_timeout_s": connect_timeout_s}
        process = subprocess.Popen([sys.executable, "-m", "tools.stress.storm", "--worker"], cwd=ROOT, text=True,
                                   stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        process.stdin.write(json.dumps(job) + "\n")
        process.stdin.flush()
        workers.append((process, chunk))
    answers = []
    try:
        for process, chunk in workers:
            line = _read_report(process, start_at + timeout_s + 30 - time.time())
            if line is None:
                answers += [{"status": "hang", "error": "worker process did not report"} for _ in chunk]
            else:
                answers += json.loads(line)
    finally:
        for process, _ in workers:  # release the held connections, then let the workers end
            try:
                process.stdin.write("release\n")
                process.stdin.close()
            except OSError:
                pass
        for process, _ in workers:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
    return answers


def _read_report(process: subprocess.Popen, timeout_s: float) -> Optional[str]:
    """The worker's report line (without its marker), or None if none comes within the time."""
    box: List[str] = []

    def read() -> None:
        for line in process.stdout:
            if line.startswith(REPORT_MARKER):
                box.append(line[len(REPORT_MARKER):])
                return

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(max(1.0, timeout_s))
    return box[0] if box else None


def _watch_connections(admin_url: str, stop: threading.Event, peak: List[int]) -> None:
    """Samples how many client backends the server has, until `stop`."""
    from chalicelib import db
    from chalicelib.config import parse_database_url

    con = db.connect(parse_database_url(admin_url))
    try:
        while not stop.wait(0.1):
            count = con.run("SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend'")[0][0]
            peak[0] = max(peak[0], count)
    finally:
        con.close()


def create_storm_show(seats: int) -> tuple:
    """A show with at least `seats` seats; returns (show id, seat ids)."""
    from chalicelib import services
    from chalicelib.layout import grid
    from chalicelib.validation import ShowRequest

    rows = max(1, math.ceil(seats / 100))
    per_row = math.ceil(seats / rows)
    start = datetime.now(timezone.utc) + timedelta(days=7)
    show = services.create_show(ShowRequest(f"Storm {uuid.uuid4().hex[:6]}", start, grid(rows, per_row)))
    seat_ids = [seat.id for seat, _ in services.seat_map(show.id).seats]
    return show.id, seat_ids[:seats]


def check_database(database_url: str, show_id, answers: List[dict]) -> Dict[str, int]:
    """Invariants after a storm: the show's rows read by SQL on a separate connection, judged
    by the invariant module; each value (violations of one check) must be 0."""
    from . import evidence

    tables = evidence.sql_view(database_url, str(show_id))
    if tables is None:
        raise RuntimeError(f"the storm's show {show_id} is not in its database")
    # A seat confirmed to several containers is one violation; no seat is wanted by more than
    # two containers, so that is also the number of extra confirmations.
    sold = [{"id": answer["booking_id"], "seats": [answer["seat_id"]]} for answer in answers if answer["status"] == 201]
    checks = invariant.database_violations(sold, tables.bookings, tables.claims)
    return {check: len(violations) for check, violations in checks.items()}


def run_mode(mode: str, url: str, admin_url: str, containers: int, processes: int, timeout_s: float,
             connect_timeout_s: float, progress) -> ModeResult:
    from chalicelib import db

    show_id, seat_ids = create_storm_show(math.ceil(containers * 2 / 3))
    # Container i wants seat i mod len(seats): half the seats are wanted twice.
    assignments = [(number, seat_ids[number % len(seat_ids)]) for number in range(containers)]
    db.close()  # the parent holds no connection during the storm
    progress(f"{mode}: {containers} containers in {processes} processes, seats wanted: {len(seat_ids)}")
    stop, peak = threading.Event(), [0]
    watcher = threading.Thread(target=_watch_connections, args=(admin_url, stop, peak), daemon=True)
    watcher.start()
    try:
        answers = _spawn_workers(url, str(show_id), assignments, processes, timeout_s, connect_timeout_s)
    finally:
        stop.set()
        watcher.join(timeout=10)
    result = ModeResult(mode, answers, server_connections_peak=peak[0])
    result.checks = check_database(admin_url, show_id, answers)
    return result


def _latency_ms(answers: List[dict], status, pct: float) -> str:
    value = report.percentile([answer["latency_s"] for answer in answers
                               if answer["status"] == status and "latency_s" in answer], pct)
    return "-" if value is None else f"{value * 1000:.0f}"


def summary_table(results: List[ModeResult], max_connections: int) -> str:
    lines = [f"{'mode':<10}{'requests':>9}{'201':>6}{'409':>6}{'503':>6}{'other':>7}{'max latency':>13}"
             f"{'peak server conns':>19}   p50/max ms by answer"]
    for result in results:
        by_status = ", ".join(f"{status}: {_latency_ms(result.answers, status, 50)}/"
                              f"{_latency_ms(result.answers, status, 100)}"
                              for status in (201, 409, 503) if result.count(status))
        lines.append(f"{result.mode:<10}{len(result.answers):>9}{result.count(201):>6}{result.count(409):>6}"
                     f"{result.count(503):>6}{len(result.others):>7}{result.max_latency_s * 1000:>10.0f} ms"
                     f"{result.server_connections_peak:>12} / {max_connections}   {by_status}")
    return "\n".join(lines)


def storm(containers: int = 300, max_connections: int = 100, processes: int = 4, pool_size: int = 20,
          timeout_s: float = 60.0, connect_timeout_s: float = 5.0, modes=("direct", "pgbouncer"),
          progress=None) -> List[ModeResult]:
    """Starts the private server (and pgbouncer), runs each mode, returns their results."""
    from tools.local import localdb
    from tools.local.privatepg import PgBouncer, PrivatePostgres

    progress = progress or (lambda message: print(f"storm: {message}", file=sys.stderr, flush=True))
    results = []
    with PrivatePostgres(max_connections=max_connections) as server:
        progress(f"{server.version()} on 127.0.0.1:{server.port}, max_connections={max_connections}")
        with localdb.database_on(server.url("postgres"), "modex_storm") as url:
            if "direct" in modes:
                results.append(run_mode("direct", url, url, containers, processes, timeout_s, connect_timeout_s,
                                        progress))
            if "pgbouncer" in modes:
                with PgBouncer(server.port, pool_size=pool_size, max_client_conn=max(1000, containers + 100)) as bouncer:
                    progress(f"pgbouncer on 127.0.0.1:{bouncer.port}, transaction pooling, pool_size={pool_size}")
                    database = urlsplit(url).path.lstrip("/")
                    results.append(run_mode("pgbouncer", bouncer.url(database), url, containers, processes,
                                            timeout_s, connect_timeout_s, progress))
    return results


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.stress storm", description=__doc__.split("\n\n")[0])
    parser.add_argument("--containers", type=int, default=300)
    parser.add_argument("--max-connections", type=int, default=100)
    parser.add_argument("--processes", type=int, default=4, help="worker processes the containers are spread over")
    parser.add_argument("--pool-size", type=int, default=20, help="pgbouncer's default_pool_size")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds a container may take before it counts as hung")
    parser.add_argument("--mode", choices=["direct", "pgbouncer"], action="append",
                        help="run only this mode (default: both)")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        _worker(json.loads(sys.stdin.readline()))
        return 0
    if args.containers < 1 or args.processes < 1 or args.max_connections < 10:
        parser.error("need containers >= 1, processes >= 1, max-connections >= 10")
    results = storm(args.containers, args.max_connections, min(args.processes, args.containers), args.pool_size,
                    args.timeout, modes=tuple(args.mode or ("direct", "pgbouncer")))
    print(summary_table(results, args.max_connections))
    failed = False
    for result in results:
        problems = result.problems()
        print(f"{result.mode}: " + ("; ".join(problems) if problems else "ok"))
        failed = failed or bool(problems)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
