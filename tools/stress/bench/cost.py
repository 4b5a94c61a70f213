"""What one booking costs a checkout of Modex: round trips, transactions, PostgreSQL's CPU and
the client's, per booking and per refused attempt; and the 50-way race for one seat.

    .venv/bin/python tools/stress/bench/cost.py [--tree DIR] [--bookings N] [--races R]

`--tree` imports chalicelib from another checkout (say, a `git worktree` of an older commit),
so two versions are measured on the same machine, one after the other, with the same script:
that is how docs/performance.md compares before and after. Self-contained on purpose (no
imports from tools/), because it must run against trees that lack it. Creates and drops its own
database on DATABASE_URL's server; PostgreSQL must run on this machine (its backend's CPU time
is read from /proc). Figures only: nothing passes or fails on speed.
"""
import argparse
import os
import statistics
import sys
import threading
import time
import uuid
from datetime import datetime, timedelta, timezone


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tree", default=".", help="checkout whose chalicelib to measure (default: this one)")
    parser.add_argument("--bookings", type=int, default=1000, help="bookings (and refused attempts) to time")
    parser.add_argument("--races", type=int, default=20, help="50-way races for one seat")
    parser.add_argument("--racers", type=int, default=50)
    return parser.parse_args(argv)


def backend_cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process of this machine (a PostgreSQL backend)."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Wire:
    """While the block runs, counts what this process's pg8000 sends: every flush is a round
    trip (pg8000 waits for the answer before it sends again), every START TRANSACTION a
    transaction. tests/integration/test_round_trips.py counts with it too."""

    def __enter__(self) -> "Wire":
        import pg8000.core

        self.round_trips = self.transactions = 0
        self._real = real_flush, real_send_query = pg8000.core._flush, pg8000.core.CoreConnection.send_QUERY

        def flush(sock):
            self.round_trips += 1
            real_flush(sock)

        def send_query(connection, statement):
            self.transactions += statement.lstrip().upper().startswith("START TRANSACTION")
            real_send_query(connection, statement)

        pg8000.core._flush = flush
        pg8000.core.CoreConnection.send_QUERY = send_query
        return self

    def __exit__(self, *exc_info) -> None:
        import pg8000.core

        pg8000.core._flush, pg8000.core.CoreConnection.send_QUERY = self._real


def measure(book, seats, backend_pid: int) -> dict:
    """Calls book(seat) for each seat; per call: round trips, transactions, ms of wall, client
    CPU and backend CPU."""
    wall, client, backend = time.perf_counter(), time.process_time(), backend_cpu_s(backend_pid)
    with Wire() as wire:
        for seat in seats:
            book(seat)
    count = len(seats)
    return {
        "round_trips": wire.round_trips / count,
        "transactions": wire.transactions / count,
        "per_second": count / (time.perf_counter() - wall),
        "client_cpu_ms": (time.process_time() - client) * 1000 / count,
        "postgres_cpu_ms": (backend_cpu_s(backend_pid) - backend) * 1000 / count,
    }


def race(services, db, BookingRequest, seats, racers: int) -> dict:
    """`racers` threads, own connections, book one seat at once, once per seat."""
    start, done = threading.Barrier(racers + 1), threading.Barrier(racers + 1)
    latencies, winners = [], []
    lock = threading.Lock()

    def racer(index: int) -> None:
        with db.transaction() as con:
            con.run("SELECT 1")
        for show_id, seat_id in seats:
            start.wait()
            began = time.perf_counter()
            try:
                services.book_seats(show_id, BookingRequest(f"racer-{index}", (seat_id,)))
                won = True
            except Exception:  # SeatUnavailable: a loser
                won = False
            with lock:
                latencies.append(time.perf_counter() - began)
                winners.append(won)
            done.wait()
        db.close()

    threads = [threading.Thread(target=racer, args=(index,), daemon=True) for index in range(racers)]
    for thread in threads:
        thread.start()
    for _ in seats:
        start.wait()
        done.wait()
    ordered = sorted(latencies)
    return {"p50_ms": statistics.median(ordered) * 1000, "p99_ms": ordered[int(len(ordered) * 0.99) - 1] * 1000,
            "winners": sum(winners), "races": len(seats)}


def main(argv=None) -> int:
    args = parse_args(argv)
    sys.path.insert(0, os.path.abspath(args.tree))
    import pg8000.native

    from chalicelib import db, holds, schema, services
    from chalicelib.config import parse_database_url
    from chalicelib.layout import grid
    from chalicelib.validation import BookingRequest, HoldRequest, ShowRequest

    server = parse_database_url(os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres"))
    admin = pg8000.native.Connection(user=server.user, password=server.password, host=server.host or "127.0.0.1",
                                     port=server.port, database=server.database, unix_sock=server.unix_sock)
    name = f"modex_cost_{uuid.uuid4().hex[:8]}"
    admin.run(f"CREATE DATABASE {name}")
    try:
        url = f"postgresql://{server.user}@{server.host or '127.0.0.1'}:{server.port}/{name}"
        os.environ["DATABASE_URL"] = url
        db.configure(None)
        schema.migrate()
        start = datetime.now(timezone.utc) + timedelta(days=30)
        rows = max(1, (3 * args.bookings + args.races) // 100 + 1)
        show = services.create_show(ShowRequest("Cost", start, grid(min(rows, 26), 100)))
        extra = [services.create_show(ShowRequest("Cost", start, grid(26, 100))) for _ in range(rows // 26)]
        seats = [(s.id, seat.id) for s in [show, *extra] for seat, _ in services.seat_map(s.id).seats]
        backend_pid = db.connection().run("SELECT pg_backend_pid()")[0][0]

        def book(seat):
            show_id, seat_id = seat
            services.book_seats(show_id, BookingRequest(f"buyer-{seat_id}", (seat_id,)), f"key-{seat_id}")

        def refused(seat):
            show_id, seat_id = seat
            try:
                services.book_seats(show_id, BookingRequest(f"late-{seat_id}", (seat_id,)))
            except Exception as error:  # SeatUnavailable, expected
                assert type(error).__name__ == "SeatUnavailable", error

        def check_out(seat):
            show_id, seat_id = seat
            issued = holds.hold_seats(show_id, HoldRequest(f"holder-{seat_id}", (seat_id,)))
            holds.confirm_hold(issued.hold.id, issued.token)

        count = args.bookings
        mine, checkouts = seats[:count], seats[count:2 * count]
        races = seats[2 * count:2 * count + args.races]
        measure(book, mine[:50], backend_pid)  # warm up: plan caches, the connection
        booked = measure(book, mine[50:], backend_pid)
        refusals = measure(refused, mine[50:], backend_pid)
        checked_out = measure(check_out, checkouts, backend_pid)
        raced = race(services, db, BookingRequest, races, args.racers)
        db.close()
    finally:
        admin.run(f"DROP DATABASE {name} WITH (FORCE)")
        admin.close()
    load = os.getloadavg()[0]
    print(f"cost of {os.path.abspath(args.tree)} (load average {load:.1f})")
    for label, figures in (("booking", booked), ("refused attempt", refusals), ("hold + confirm", checked_out)):
        print(f"  {label:<16} {figures['round_trips']:5.1f} round trips, {figures['transactions']:.1f} transactions, "
              f"{figures['per_second']:6.0f}/s, client CPU {figures['client_cpu_ms']:.2f} ms, "
              f"PostgreSQL CPU {figures['postgres_cpu_ms']:.2f} ms")
    print(f"  {args.racers}-way race x{raced['races']}: p50 {raced['p50_ms']:.0f} ms, p99 {raced['p99_ms']:.0f} ms, "
          f"{raced['winners']} winners")
    return 0


if __name__ == "__main__":
    sys.exit(main())
