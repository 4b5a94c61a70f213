"""Three ways to decide who gets a seat, on the same hot-show workload, for the bench.

  unique      ours: INSERT ... ON CONFLICT into seat_bookings (as modex_claim claims: a live
              claim stays, an expired hold's is taken over); the unique constraint decides
  row-lock    SELECT ... FOR UPDATE on the seats' status rows in seat order, then UPDATE
  cas         UPDATE ... SET status = 'BOOKED' WHERE status = 'AVAILABLE' (compare-and-set)

Every attempt is one transaction of three round trips, as the service's: START TRANSACTION +
SET LOCAL timeouts (as chalicelib.db), one statement that creates the booking row and makes the
strategy's claim (values inlined, as chalicelib.repository sends the claim), COMMIT (or
ROLLBACK when a seat was taken). So the strategies differ only in how they decide. The
row-lock and compare-and-set strategies keep seat status in a scratch table,
`bench_seat_status`, created in the bench database only.

Clients are separate processes (a pool started once and reused), each with its own
connection, so the client side is not serialised by one interpreter's GIL.
"""
import math
import multiprocessing
import queue
import random
import statistics
import time
import uuid
from typing import Callable, Dict, List, Sequence

from pg8000.exceptions import DatabaseError

from chalicelib.config import DatabaseSettings
from chalicelib.db import sqlstate
from chalicelib.repository import inline

from .. import invariant, report

STRATEGIES = ("unique", "row-lock", "cas")

SCRATCH_TABLE = """
CREATE TABLE IF NOT EXISTS bench_seat_status (
    show_id    uuid NOT NULL,
    seat_id    bigint NOT NULL,
    status     text NOT NULL DEFAULT 'AVAILABLE' CHECK (status IN ('AVAILABLE', 'BOOKED')),
    booking_id uuid,
    PRIMARY KEY (show_id, seat_id)
)
"""
FILL_SCRATCH = """
INSERT INTO bench_seat_status (show_id, seat_id)
SELECT show_id, id FROM seats WHERE show_id = :show_id
"""
NEW_BOOKING = """
WITH booking AS (
    INSERT INTO bookings (id, show_id, user_id, status)
    VALUES (CAST(:booking_id AS uuid), CAST(:show_id AS uuid), 'bench', 'CONFIRMED')
    RETURNING id
)"""
CLAIMS = {
    "unique": NEW_BOOKING + """, claimed AS (
    INSERT INTO seat_bookings (show_id, seat_id, booking_id)
    SELECT CAST(:show_id AS uuid), seat_id, booking.id
    FROM booking, unnest(CAST(:seat_ids AS bigint[])) AS seat_id
    ORDER BY seat_id
    ON CONFLICT ON CONSTRAINT seat_bookings_show_seat_key DO UPDATE
        SET booking_id = EXCLUDED.booking_id, hold_id = NULL, expires_at = NULL, claimed_at = now()
        WHERE seat_bookings.expires_at < now()
    RETURNING seat_id
)
SELECT count(*) FROM claimed""",
    "row-lock": NEW_BOOKING + """, locked AS (
    SELECT seat_id, status FROM bench_seat_status
    WHERE show_id = CAST(:show_id AS uuid) AND seat_id = ANY(CAST(:seat_ids AS bigint[]))
    ORDER BY seat_id
    FOR UPDATE
), marked AS (
    UPDATE bench_seat_status SET status = 'BOOKED', booking_id = (SELECT id FROM booking)
    WHERE show_id = CAST(:show_id AS uuid) AND seat_id IN (SELECT seat_id FROM locked)
      AND (SELECT count(*) FROM locked WHERE status = 'AVAILABLE') = cardinality(CAST(:seat_ids AS bigint[]))
    RETURNING seat_id
)
SELECT count(*) FROM marked""",
    "cas": NEW_BOOKING + """, marked AS (
    UPDATE bench_seat_status SET status = 'BOOKED', booking_id = (SELECT id FROM booking)
    WHERE show_id = CAST(:show_id AS uuid) AND seat_id = ANY(CAST(:seat_ids AS bigint[])) AND status = 'AVAILABLE'
    RETURNING seat_id
)
SELECT count(*) FROM marked""",
}


def _attempt(con, begin: str, strategy: str, show_id: str, seat_ids: List[int]) -> str:
    """One booking attempt: "ok", "taken", or the SQLSTATE of an error (deadlock, timeout...)."""
    con.run(begin)
    try:
        claim = inline(CLAIMS[strategy], booking_id=uuid.uuid4(), show_id=show_id, seat_ids=seat_ids)
        won = con.run(claim)[0][0] == len(seat_ids)
        con.run("COMMIT" if won else "ROLLBACK")
        return "ok" if won else "taken"
    except DatabaseError as error:
        con.run("ROLLBACK")
        return sqlstate(error) or type(error).__name__


def _worker(settings: DatabaseSettings, inbox, outbox) -> None:
    """A client process: one connection, then attempts as the parent sends them."""
    from chalicelib.db import begin_statement
    from .paths import raw_connection

    con = raw_connection(settings, "modex-bench-client")
    begin = begin_statement(settings.statement_timeout_ms, settings.lock_timeout_ms)
    try:
        while True:
            try:
                job = inbox.get(timeout=600)
            except queue.Empty:
                return
            if job is None:
                return
            strategy, show_id, attempts, start_at, deadline = job
            time.sleep(max(0.0, start_at - time.time()))
            outcomes, latencies = [], []
            for seat_ids in attempts:
                if time.time() > deadline:
                    break
                began = time.perf_counter()
                outcomes.append(_attempt(con, begin, strategy, show_id, seat_ids))
                latencies.append(time.perf_counter() - began)
            outbox.put((outcomes, latencies, time.time()))
    finally:
        con.close()


class ClientPool:
    """`size` client processes, started once (spawn: safe whatever threads the parent has)."""

    def __init__(self, settings: DatabaseSettings, size: int):
        context = multiprocessing.get_context("spawn")
        self.outbox = context.Queue()
        self.inboxes = [context.Queue() for _ in range(size)]
        self.processes = [context.Process(target=_worker, args=(settings, inbox, self.outbox), daemon=True)
                          for inbox in self.inboxes]
        for process in self.processes:
            process.start()

    def run(self, strategy: str, show_id: str, per_client: Sequence[List[List[int]]], time_limit_s: float) -> dict:
        """Every client runs its list of attempts; returns outcomes, latencies and elapsed time."""
        start_at = time.time() + 0.5  # lets every client wake and be ready
        deadline = start_at + time_limit_s
        for inbox, attempts in zip(self.inboxes, per_client):
            inbox.put((strategy, show_id, attempts, start_at, deadline))
        outcomes, latencies, finished = [], [], start_at
        for _ in per_client:
            client_outcomes, client_latencies, ended = self.outbox.get(timeout=time_limit_s + 120)
            outcomes += client_outcomes
            latencies += client_latencies
            finished = max(finished, ended)
        return {"outcomes": outcomes, "latencies": latencies, "elapsed_s": finished - start_at}

    def close(self) -> None:
        for inbox in self.inboxes:
            inbox.put(None)
        for process in self.processes:
            process.join(timeout=10)
            if process.is_alive():
                process.terminate()


def hot_show_workload(seat_grid: List[List[int]], attempts: int, seats_per_booking: int, clients: int,
                      seed: int) -> List[List[List[int]]]:
    """`attempts` bookings of `seats_per_booking` adjacent seats in a random row at a random
    place, dealt round-robin to `clients`. The same seed gives every strategy the same requests."""
    rng = random.Random(seed)
    requests = []
    for _ in range(attempts):
        row = rng.choice(seat_grid)
        first = rng.randrange(0, len(row) - seats_per_booking + 1)
        requests.append(sorted(row[first:first + seats_per_booking]))
    return [requests[client::clients] for client in range(clients)]


def compare_strategies(settings: DatabaseSettings, admin_con, new_show: Callable[[], tuple],
                       client_counts: Sequence[int], booking_sizes: Sequence[int], attempts: Dict[int, int],
                       time_limit_s: float, progress: Callable[[str], None], repeats: int = 3) -> List[dict]:
    """Per (booking size, clients, strategy), `repeats` runs on fresh hot shows, the strategies
    taking turns; returns a row each with the medians over runs of throughput (attempts/s)
    and p50/p99 latency, and the outcome counts of all runs."""
    admin_con.run(SCRATCH_TABLE)
    pool = ClientPool(settings, max(client_counts))
    rows, turn = [], 0
    try:
        for size in booking_sizes:
            for clients in client_counts:
                runs = {strategy: [] for strategy in STRATEGIES}
                for repeat in range(repeats):
                    # Rotate which strategy goes first, so drift does not always favour the same one.
                    turn += 1
                    for strategy in STRATEGIES[turn % 3:] + STRATEGIES[:turn % 3]:
                        show_id, seat_grid = new_show()
                        admin_con.run(FILL_SCRATCH, show_id=show_id)
                        per_client = hot_show_workload(seat_grid, attempts[size], size, clients,
                                                       seed=size * 1000 + clients * 10 + repeat)
                        run = summarise(strategy, size, clients, pool.run(strategy, str(show_id), per_client,
                                                                          time_limit_s))
                        run["consistent"] = _consistent(admin_con, strategy, show_id, run["ok"] * size)
                        runs[strategy].append(run)
                for strategy in STRATEGIES:
                    row = combine(runs[strategy])
                    rows.append(row)
                    progress(f"strategies: {size}-seat, {clients:>2} clients, {strategy:<8} "
                             f"{row['throughput']:.0f} attempts/s, p99 {row['p99_ms']:.1f} ms (median of {repeats})")
    finally:
        pool.close()
    return rows


def combine(runs: List[dict]) -> dict:
    """Several runs of one configuration: medians of the rates and latencies, sums of the counts."""
    errors: Dict[str, int] = {}
    for run in runs:
        for state, count in run["errors"].items():
            errors[state] = errors.get(state, 0) + count
    return {
        **{key: runs[0][key] for key in ("strategy", "seats", "clients")},
        **{key: sum(run[key] for run in runs) for key in ("attempts", "ok", "taken")},
        **{key: statistics.median(run[key] for run in runs) for key in ("throughput", "p50_ms", "p99_ms")},
        "errors": errors, "consistent": all(run["consistent"] for run in runs), "runs": len(runs),
        "throughput_runs": [run["throughput"] for run in runs],
    }


def _consistent(admin_con, strategy: str, show_id, booked_seats: int) -> bool:
    """The seats marked taken are exactly the ones the winners were told they got."""
    if strategy == "unique":
        count = admin_con.run("SELECT count(*) FROM seat_bookings WHERE show_id = :s", s=show_id)[0][0]
    else:
        count = admin_con.run("SELECT count(*) FROM bench_seat_status WHERE show_id = :s AND status = 'BOOKED'",
                              s=show_id)[0][0]
    return not invariant.taken_seats_violations(count, booked_seats)


def summarise(strategy: str, size: int, clients: int, result: dict) -> dict:
    outcomes = result["outcomes"]
    errors = {}
    for outcome in outcomes:
        if outcome not in ("ok", "taken"):
            errors[outcome] = errors.get(outcome, 0) + 1
    return {
        "strategy": strategy, "seats": size, "clients": clients, "attempts": len(outcomes),
        "ok": outcomes.count("ok"), "taken": outcomes.count("taken"), "errors": errors,
        "throughput": len(outcomes) / result["elapsed_s"] if result["elapsed_s"] > 0 else float("nan"),
        "p50_ms": report.percentile(result["latencies"], 50, empty=math.nan) * 1000,
        "p99_ms": report.percentile(result["latencies"], 99, empty=math.nan) * 1000,
    }
