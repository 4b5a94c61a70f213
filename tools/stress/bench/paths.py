"""The four ways a single-seat booking reaches PostgreSQL, for the bench, and the 50-way race.

Each path books one fresh seat per call and returns the answer's status (201 when booked):
  sql      the booking transaction's statements from chalicelib/sql, run straight on a
           pg8000.native connection with the service's parameters: the floor the others are
           compared with
  service  chalicelib.services.book_seats
  handler  the Chalice app called as Lambda calls it, with an API Gateway REST proxy event
  http     the local server (tools.local.serve) over one keep-alive http.client connection
"""
import hashlib
import http.client
import json
import os
import secrets
import statistics
import threading
import time
import uuid
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence

import pg8000.native

from chalicelib import db, services
from chalicelib.config import DatabaseSettings
from chalicelib.errors import SeatUnavailable
from chalicelib.queries import QUERIES
from chalicelib.repository import inline
from chalicelib.validation import BookingRequest

from ..events import LambdaContext, Request, api_gateway_event

FUNCTION_NAME = "modex-bench-api_handler"


def raw_connection(settings: DatabaseSettings, application_name: str = "modex-bench") -> pg8000.native.Connection:
    """A plain pg8000.native connection (no chalicelib.db), for the baseline and the workers."""
    return pg8000.native.Connection(
        user=settings.user, password=settings.password, host=settings.host or "127.0.0.1", port=settings.port,
        database=settings.database, unix_sock=settings.unix_sock, timeout=30, application_name=application_name,
    )


class SqlPath:
    """The booking transaction written out on a bare connection: START TRANSACTION with its SET
    LOCALs, chalicelib/sql/claim.sql with the values inlined, COMMIT; no service layer, no
    JSON. The floor the other paths are compared with."""

    name = "sql"

    def __init__(self, settings: DatabaseSettings):
        self.con = raw_connection(settings, "modex-bench-sql")
        self.begin = db.begin_statement(settings.statement_timeout_ms, settings.lock_timeout_ms)

    def book(self, show_id: uuid.UUID, seat_id: int) -> int:
        con = self.con
        con.run(self.begin)
        try:
            token_hash = hashlib.sha256(secrets.token_urlsafe(32).encode()).digest()
            outcome = con.run(inline(QUERIES["claim"], show_id=show_id, user_id=buyer(seat_id), seat_ids=[seat_id],
                                     owner_id=uuid.uuid4(), hold=False, token_hash=token_hash, key=None,
                                     fingerprint=b"", record_failure=True))[0][0]
            con.run("COMMIT")
            return 201 if outcome == "CLAIMED" else 409
        except BaseException:
            con.run("ROLLBACK")
            raise

    def close(self) -> None:
        self.con.close()


class ServicePath:
    name = "service"

    def book(self, show_id: uuid.UUID, seat_id: int) -> int:
        try:
            services.book_seats(show_id, BookingRequest(user_id=buyer(seat_id), seat_ids=(seat_id,)))
            return 201
        except SeatUnavailable:
            return 409

    def close(self) -> None:
        db.close()


def buyer(seat_id: int) -> str:
    """A buyer per seat, as in a sale: one user id booking thousands would pass maxSeatsPerUser."""
    return f"bench-{seat_id}"


def booking(seat_ids: Sequence[int], user_id: Optional[str] = None) -> dict:
    """The body of POST /api/shows/{show_id}/bookings."""
    return {"userId": user_id or buyer(seat_ids[0]), "seatIds": [str(seat_id) for seat_id in seat_ids]}


class HandlerPath:
    name = "handler"

    def __init__(self):
        from app import app

        self.app = app

    def book(self, show_id: uuid.UUID, seat_id: int) -> int:
        event = api_gateway_event(Request("POST", f"/shows/{show_id}/bookings", booking([seat_id])))
        response = self.app(event, LambdaContext(FUNCTION_NAME, request_id=event["requestContext"]["requestId"]))
        return response["statusCode"]

    def close(self) -> None:
        db.close()


class LocalServer:
    """The local server (tools.local.serve) on a free port, as `make run` starts it (one process
    per CPU): this process serves in a thread, the copies it forks in theirs."""

    def __init__(self):
        from tools.local.serve import DEFAULT_PROCESSES, make_server

        self.server = make_server(port=0, processes=DEFAULT_PROCESSES)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, name="bench-http", daemon=True)
        self.thread.start()

    def cpu_seconds(self) -> float:
        """CPU time of this process and of the server's forked copies."""
        ticks = 0
        for pid in self.server.children:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            ticks += int(fields[11]) + int(fields[12])  # utime, stime
        return time.process_time() + ticks / os.sysconf("SC_CLK_TCK")

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)


class HttpPath:
    """One keep-alive connection to the local server, so one server thread serves it."""

    name = "http"

    def __init__(self, port: int, cpu_clock: Callable[[], float] = time.process_time):
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.cpu_clock = cpu_clock  # the server's CPU is the path's too

    def book(self, show_id: uuid.UUID, seat_id: int) -> int:
        try:
            return self._post(show_id, seat_id)
        except (BrokenPipeError, ConnectionResetError, http.client.RemoteDisconnected):
            # The server drops a keep-alive connection left idle (while the other paths ran);
            # the request never reached it, so sending it again on a new connection is safe.
            self.connection.close()
            return self._post(show_id, seat_id)

    def _post(self, show_id: uuid.UUID, seat_id: int) -> int:
        self.connection.request("POST", f"/api/shows/{show_id}/bookings", body=json.dumps(booking([seat_id])).encode(),
                                headers={"Content-Type": "application/json"})
        response = self.connection.getresponse()
        response.read()
        return response.status

    def close(self) -> None:
        self.connection.close()


def time_bookings(path, seats: Sequence[tuple]) -> tuple:
    """Books each (show_id, seat_id) in turn through `path`; returns (bookings per second,
    this process's CPU ms per booking). CPU time shows the Python cost apart from waiting on
    PostgreSQL's commits, so it wobbles less when the disk or a neighbour is busy."""
    cpu_clock = getattr(path, "cpu_clock", time.process_time)
    started, cpu_started = time.perf_counter(), cpu_clock()
    for show_id, seat_id in seats:
        status = path.book(show_id, seat_id)
        if status != 201:
            raise RuntimeError(f"{path.name}: booking a fresh seat answered {status}")
    cpu = cpu_clock() - cpu_started
    return len(seats) / (time.perf_counter() - started), cpu * 1000 / len(seats)


def compare_paths(paths: List, seats: Callable[[int], List[tuple]], per_path: int, rounds: int,
                  progress: Callable[[str], None]) -> Dict[str, Dict[str, List[float]]]:
    """Bookings/s and client CPU ms per booking of each path in each round. Rounds rotate the order of the paths so that
    drift (autovacuum, table growth, a busy neighbour) falls on every path alike."""
    per_round = max(1, per_path // rounds)
    rates = {path.name: [] for path in paths}
    cpu_ms = {path.name: [] for path in paths}
    for path in paths:  # warm up: connections, imports, plan caches
        time_bookings(path, seats(20))
    for round_index in range(rounds):
        order = paths[round_index % len(paths):] + paths[:round_index % len(paths)]
        for path in order:
            rate, cpu = time_bookings(path, seats(per_round))
            rates[path.name].append(rate)
            cpu_ms[path.name].append(cpu)
        progress(f"paths: round {round_index + 1}/{rounds}: "
                 + ", ".join(f"{name} {values[-1]:.0f}/s" for name, values in rates.items()))
    return {"rates": rates, "cpu_ms": cpu_ms}


def ratios(rates: Dict[str, List[float]], baseline: str = "sql") -> Dict[str, float]:
    """Per path, the median over rounds of (path's bookings/s / baseline's in the same round)."""
    return {name: statistics.median(value / base for value, base in zip(values, rates[baseline]))
            for name, values in rates.items()}


def race(seats: Sequence[tuple], threads: int, timeout_s: float, progress: Callable[[str], None]) -> dict:
    """`threads` threads, each with its own connection (chalicelib.db's per-thread one), book
    the same seat at the same moment through services.book_seats, once per seat in `seats`.

    Returns every latency in seconds, split by winners and losers, and the winners per race.
    """
    start = threading.Barrier(threads + 1, timeout=timeout_s)
    done = threading.Barrier(threads + 1, timeout=timeout_s)
    results = [[] for _ in seats]
    lock = threading.Lock()

    def contender(index: int) -> None:
        try:
            with db.transaction() as con:  # open the connection before the first race
                con.run("SELECT 1")
            for race_index, (show_id, seat_id) in enumerate(seats):
                start.wait()
                began = time.perf_counter()
                try:
                    services.book_seats(show_id, BookingRequest(user_id=f"racer-{index}", seat_ids=(seat_id,)))
                    outcome = 201
                except SeatUnavailable:
                    outcome = 409
                except Exception as error:  # reported, never hidden
                    outcome = type(error).__name__
                with lock:
                    results[race_index].append((outcome, time.perf_counter() - began))
                done.wait()
        except threading.BrokenBarrierError:
            pass
        finally:
            db.close()

    workers = [threading.Thread(target=contender, args=(index,), name=f"racer-{index}", daemon=True)
               for index in range(threads)]
    for worker in workers:
        worker.start()
    try:
        for race_index in range(len(seats)):
            start.wait()
            done.wait()
            if (race_index + 1) % 5 == 0 or race_index + 1 == len(seats):
                progress(f"race: {race_index + 1}/{len(seats)} races of {threads}")
    except threading.BrokenBarrierError:
        start.abort()
        done.abort()
    for worker in workers:
        worker.join(timeout=timeout_s)
    winners = [sum(1 for outcome, _ in answers if outcome == 201) for answers in results]
    others = [outcome for answers in results for outcome, _ in answers if outcome not in (201, 409)]
    return {
        "threads": threads,
        "races": len(seats),
        "latencies": [latency for answers in results for _, latency in answers],
        "winner_latencies": [latency for answers in results for outcome, latency in answers if outcome == 201],
        "loser_latencies": [latency for answers in results for outcome, latency in answers if outcome == 409],
        "winners_per_race": winners,
        "other_answers": others,
    }
