"""The scheduled clean-up: keeps the rows the booking path leaves behind from growing without
end, without ever making a booking wait for it.

What goes, oldest first, each in batches of BATCH rows, one short transaction per batch:

- claims of holds that lapsed over a minute ago (at most CLAIM_BATCHES batches a run);
- Idempotency-Key records past their 24 hours;
- holds never confirmed (lapsed or released) whose expiry passed LAPSED_HOLD_KEPT_HOURS ago,
  with their seats and token hashes: until then `GET /holds/{id}` still says EXPIRED or
  RELEASED; afterwards it says 404. Confirmed holds stay as long as their booking, which the
  clean-up never deletes;
- FAILED bookings (refused attempts) older than `FAILED_BOOKING_RETENTION_DAYS` (default 30),
  with the seats they asked for.

Every batch locks its rows with FOR UPDATE SKIP LOCKED: a row some request holds a lock on is
left for the next run, so the clean-up never waits for a request, and a request only ever waits
for one batch's transaction (milliseconds) in the rare case it touches a row being deleted.
A run stops when a kind of row is exhausted, after MAX_BATCHES of it, or when the invocation's
time budget runs low (it resumes five minutes later).

The statements are housekeeping, not domain values, so they run here rather than through the
booking repository: chalicelib/sql/delete_*.sql.
"""
from dataclasses import asdict, dataclass
from typing import Optional

from . import budget, config, db
from .queries import QUERIES

BATCH = 500
MAX_BATCHES = 200  # per kind of row and run: at most 100,000 rows each
CLAIM_BATCHES = 20  # lapsed claims: the next claimant takes one over anyway
LAPSED_HOLD_KEPT_HOURS = 24  # as long as an Idempotency-Key replays the hold, and a day to ask about it
# Stop starting batches when less than this is left of the invocation: a batch is one short
# statement, and the run must end (and log) before Lambda's timeout.
STOP_WITH_MS_LEFT = 2_000


@dataclass(frozen=True)
class CleanupReport:
    """How many rows of each kind one run deleted (a hold or booking counts once, with its
    seats and tokens)."""
    expired_claims: int
    idempotency_records: int
    lapsed_holds: int
    failed_bookings: int

    def to_json(self) -> dict:
        return asdict(self)


def _time_is_short() -> bool:
    left = budget.left_ms()
    return left is not None and left < STOP_WITH_MS_LEFT


def _delete_in_batches(query_name: str, batch: int, batches: int = MAX_BATCHES, **params) -> int:
    deleted = 0
    for _ in range(batches):
        if _time_is_short():
            break
        with db.transaction() as con:
            con.run(QUERIES[query_name], batch=batch, **params)
            count = con.row_count
        deleted += count
        if count < batch:
            break
    return deleted


def clean_up(failed_retention_days: Optional[int] = None, batch: int = BATCH) -> CleanupReport:
    """Deletes what is no longer needed (see the module's docstring) and says how much.
    Claims go first and idempotency records second: a lapsed hold or a FAILED booking is only
    deleted once nothing points at it any more."""
    if failed_retention_days is None:
        failed_retention_days = config.failed_booking_retention_days()
    return CleanupReport(
        expired_claims=_delete_in_batches("tidy_expired_claims", batch, CLAIM_BATCHES),
        idempotency_records=_delete_in_batches("delete_expired_idempotency_records", batch),
        lapsed_holds=_delete_in_batches("delete_lapsed_holds", batch, kept_hours=LAPSED_HOLD_KEPT_HOURS),
        failed_bookings=_delete_in_batches("delete_old_failed_bookings", batch, kept_days=failed_retention_days),
    )
