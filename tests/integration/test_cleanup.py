"""The scheduled clean-up against real PostgreSQL: it deletes exactly what it should, caps
token hashes, and runs beside concurrent bookings without failing or slowing any of them.

Rows are written with SQL and dated in the past on the database side, so nothing waits for
days to pass."""
import hashlib
import threading
import time
import uuid

from chalicelib import cleanup, db
from chalicelib.config import parse_database_url
from chalicelib.queries import QUERIES
from tests.support.http import http


def token_hash(text: str) -> bytes:
    return hashlib.sha256(text.encode()).digest()


def exists(sql, table: str, row_id: uuid.UUID) -> bool:
    return sql(f"SELECT count(*) FROM {table} WHERE id = :id", id=row_id)[0][0] == 1


def add_booking(sql, show, seat_id, status, age="0 days", token=True) -> uuid.UUID:
    booking_id = uuid.uuid4()
    sql("INSERT INTO bookings (id, show_id, user_id, status, created_at) "
        "VALUES (:id, :show, 'cleanup-test', :status, now() - CAST(:age AS interval))",
        id=booking_id, show=show.id, status=status, age=age)
    sql("INSERT INTO booking_seats (booking_id, show_id, seat_id) VALUES (:id, :show, :seat)",
        id=booking_id, show=show.id, seat=seat_id)
    if status == "CONFIRMED":
        sql("INSERT INTO seat_bookings (show_id, seat_id, booking_id) VALUES (:show, :seat, :id)",
            show=show.id, seat=seat_id, id=booking_id)
    if token and status != "FAILED":
        sql("INSERT INTO booking_tokens (token_hash, booking_id) VALUES (:hash, :id)",
            hash=token_hash(str(booking_id)), id=booking_id)
    return booking_id


def add_hold(sql, show, seat_id, status="ACTIVE", expired="-10 minutes", claim=False, booking_id=None) -> uuid.UUID:
    """A hold whose expiry was `expired` ago (negative: still to come)."""
    hold_id = uuid.uuid4()
    sql("INSERT INTO holds (id, show_id, user_id, status, expires_at, booking_id, created_at) "
        "VALUES (:id, :show, 'cleanup-test', :status, now() - CAST(:expired AS interval), :booking, "
        "now() - CAST(:expired AS interval) - interval '10 minutes')",
        id=hold_id, show=show.id, status=status, expired=expired, booking=booking_id)
    sql("INSERT INTO hold_seats (hold_id, show_id, seat_id) VALUES (:id, :show, :seat)",
        id=hold_id, show=show.id, seat=seat_id)
    sql("INSERT INTO hold_tokens (token_hash, hold_id) VALUES (:hash, :id)", hash=token_hash(str(hold_id)), id=hold_id)
    if claim:
        sql("INSERT INTO seat_bookings (show_id, seat_id, hold_id, expires_at) "
            "VALUES (:show, :seat, :id, now() - CAST(:expired AS interval))",
            show=show.id, seat=seat_id, id=hold_id, expired=expired)
    return hold_id


def add_idempotency_record(sql, show, booking_id, age="0 hours") -> str:
    key = f"cleanup-{uuid.uuid4()}"
    sql("INSERT INTO idempotency_keys (show_id, key, fingerprint, outcome, booking_id, created_at) "
        "VALUES (:show, :key, :fingerprint, 'CONFIRMED', :booking, now() - CAST(:age AS interval))",
        show=show.id, key=key, fingerprint=token_hash(key), booking=booking_id, age=age)
    return key


def record_exists(sql, show, key) -> bool:
    return sql("SELECT count(*) FROM idempotency_keys WHERE show_id = :show AND key = :key",
               show=show.id, key=key)[0][0] == 1


def test_cleanup_deletes_exactly_what_it_should(make_show, sql):
    show = make_show(rows=2, seats_per_row=10)
    seats = [row[0] for row in sql("SELECT id FROM seats WHERE show_id = :show ORDER BY id", show=show.id)]
    old_failed = add_booking(sql, show, seats[0], "FAILED", age="31 days")
    recent_failed = add_booking(sql, show, seats[0], "FAILED", age="29 days")
    old_confirmed = add_booking(sql, show, seats[1], "CONFIRMED", age="400 days")
    old_cancelled = add_booking(sql, show, seats[2], "CANCELLED", age="400 days")
    live_hold = add_hold(sql, show, seats[3], expired="-10 minutes", claim=True)
    lapsed_hold = add_hold(sql, show, seats[4], expired="25 hours")
    lapsed_hold_with_claim = add_hold(sql, show, seats[5], expired="25 hours", claim=True)
    released_hold = add_hold(sql, show, seats[6], status="RELEASED", expired="25 hours")
    recently_lapsed_hold = add_hold(sql, show, seats[7], expired="23 hours")
    confirmed_hold = add_hold(sql, show, seats[1], status="CONFIRMED", expired="400 days", booking_id=old_confirmed)
    old_key = add_idempotency_record(sql, show, old_confirmed, age="25 hours")
    fresh_key = add_idempotency_record(sql, show, old_confirmed, age="23 hours")
    # Past its retention, but a live record still replays it: it stays until the record goes.
    replayed_failed = add_booking(sql, show, seats[8], "FAILED", age="31 days")
    replay_key = add_idempotency_record(sql, show, replayed_failed)

    report = cleanup.clean_up(failed_retention_days=30)

    assert not exists(sql, "bookings", old_failed)
    assert sql("SELECT count(*) FROM booking_seats WHERE booking_id = :id", id=old_failed)[0][0] == 0
    for kept in (recent_failed, old_confirmed, old_cancelled, replayed_failed):
        assert exists(sql, "bookings", kept)
    assert sql("SELECT count(*) FROM seat_bookings WHERE booking_id = :id", id=old_confirmed)[0][0] == 1
    assert sql("SELECT count(*) FROM booking_tokens WHERE booking_id = :id", id=old_confirmed)[0][0] == 1
    for gone in (lapsed_hold, lapsed_hold_with_claim, released_hold):
        assert not exists(sql, "holds", gone)
        assert sql("SELECT count(*) FROM hold_seats WHERE hold_id = :id", id=gone)[0][0] == 0
        assert sql("SELECT count(*) FROM hold_tokens WHERE hold_id = :id", id=gone)[0][0] == 0
    for kept in (live_hold, recently_lapsed_hold, confirmed_hold):
        assert exists(sql, "holds", kept)
    assert sql("SELECT count(*) FROM seat_bookings WHERE hold_id = :id", id=live_hold)[0][0] == 1
    assert not record_exists(sql, show, old_key)
    assert record_exists(sql, show, fresh_key) and record_exists(sql, show, replay_key)
    # Other tests' rows may be deleted too (none of theirs is this old); at least ours were.
    assert report.failed_bookings >= 1 and report.lapsed_holds >= 3 and report.idempotency_records >= 1
    assert report.expired_claims >= 1

    sql("DELETE FROM idempotency_keys WHERE show_id = :show AND key = :key", show=show.id, key=replay_key)
    cleanup.clean_up(failed_retention_days=30)
    assert not exists(sql, "bookings", replayed_failed)


def test_failed_retention_comes_from_the_environment(make_show, sql, monkeypatch):
    show = make_show(rows=1, seats_per_row=2)
    seat = sql("SELECT min(id) FROM seats WHERE show_id = :show", show=show.id)[0][0]
    eight_days_old = add_booking(sql, show, seat, "FAILED", age="8 days")
    monkeypatch.setenv("FAILED_BOOKING_RETENTION_DAYS", "10")
    cleanup.clean_up()
    assert exists(sql, "bookings", eight_days_old)
    monkeypatch.setenv("FAILED_BOOKING_RETENTION_DAYS", "7")
    cleanup.clean_up()
    assert not exists(sql, "bookings", eight_days_old)


def test_many_rows_go_in_batches(make_show, sql):
    show = make_show(rows=1, seats_per_row=2)
    seat = sql("SELECT min(id) FROM seats WHERE show_id = :show", show=show.id)[0][0]
    seed_old_failed_bookings(sql, show, seat, 1_250)
    report = cleanup.clean_up(failed_retention_days=30, batch=100)
    assert report.failed_bookings >= 1_250
    assert count_old_failed(sql, show) == 0


def seed_old_failed_bookings(sql, show, seat, count):
    sql("WITH made AS (INSERT INTO bookings (id, show_id, user_id, status, created_at) "
        "SELECT gen_random_uuid(), :show, 'old-attempt', 'FAILED', now() - interval '40 days' "
        "FROM generate_series(1, :count) RETURNING id) "
        "INSERT INTO booking_seats (booking_id, show_id, seat_id) SELECT id, :show, :seat FROM made",
        show=show.id, seat=seat, count=count)


def count_old_failed(sql, show) -> int:
    return sql("SELECT count(*) FROM bookings WHERE show_id = :show AND user_id = 'old-attempt'", show=show.id)[0][0]


def test_booking_tokens_are_capped_at_the_newest_twenty(show, seat_ids, sql, database_url):
    booking_id = add_booking(sql, show, seat_ids[0], "CONFIRMED", token=False)
    hold_id = add_hold(sql, show, seat_ids[1], expired="-10 minutes")
    con = db.connect(parse_database_url(database_url))
    try:
        for number in range(25):
            # One transaction per token, as a replay or a repeated confirm has: created_at orders them.
            con.run("START TRANSACTION")
            con.run(QUERIES["insert_booking_token"], booking_id=booking_id, token_hash=token_hash(f"b{number}"))
            con.run(QUERIES["insert_hold_token"], hold_id=hold_id, token_hash=token_hash(f"h{number}"))
            con.run("COMMIT")
    finally:
        con.close()
    booking_hashes = {row[0] for row in sql("SELECT token_hash FROM booking_tokens WHERE booking_id = :id",
                                           id=booking_id)}
    hold_hashes = {row[0] for row in sql("SELECT token_hash FROM hold_tokens WHERE hold_id = :id", id=hold_id)}
    assert booking_hashes == {token_hash(f"b{n}") for n in range(5, 25)}
    # The hold's own first token (from add_hold) was the oldest: it went first.
    assert hold_hashes == {token_hash(f"h{n}") for n in range(5, 25)}


def test_cleanup_never_fails_or_slows_concurrent_bookings(make_show, sql, live_server):
    """Buyers book and hold through the local server (their own connections, threads) while the
    clean-up deletes thousands of old rows in small batches, again and again. Every request is
    answered as without the clean-up (201, or 409 for a seat someone else got), none waits long,
    and every booking and hold made during the race is still there afterwards."""
    show = make_show(rows=10, seats_per_row=30)
    seats = [row[0] for row in sql("SELECT id FROM seats WHERE show_id = :show ORDER BY id", show=show.id)]
    seed_old_failed_bookings(sql, show, seats[-1], 3_000)
    # Old records of those attempts: the clean-up must delete them before it may delete the attempts.
    sql("INSERT INTO idempotency_keys (show_id, key, fingerprint, outcome, taken_seat_ids, booking_id, created_at) "
        "SELECT :show, 'old-' || id, '\\x00', 'FAILED', ARRAY[CAST(:seat AS bigint)], id, now() - interval '2 days' "
        "FROM bookings WHERE show_id = :show AND user_id = 'old-attempt'",
        show=show.id, seat=seats[-1])
    answers, failures = [], []
    lock = threading.Lock()
    stop = threading.Event()

    def buyer(index):
        # Two buyers per seat: one wins (201), the other is refused (409, a new FAILED booking).
        for round_ in range(12):
            seat = seats[(index // 2) * 12 + round_]
            kind = "holds" if round_ % 3 == 0 else "bookings"
            started = time.monotonic()
            status, _, body = http("POST", f"{live_server}/api/shows/{show.id}/{kind}",
                                   {"userId": f"racer-{index}-{round_}", "seatIds": [str(seat)]},
                                   headers={"Idempotency-Key": f"race-{index}-{round_}"})
            with lock:
                answers.append((kind, status, body, time.monotonic() - started))

    def clean_repeatedly():
        try:
            while not stop.is_set():
                cleanup.clean_up(failed_retention_days=30, batch=100)
        except Exception as exc:  # the test must see it, not the thread's stderr
            failures.append(exc)

    cleaner = threading.Thread(target=clean_repeatedly)
    cleaner.start()
    buyers = [threading.Thread(target=buyer, args=(index,)) for index in range(24)]
    for thread in buyers:
        thread.start()
    for thread in buyers:
        thread.join(timeout=120)
    stop.set()
    cleaner.join(timeout=60)

    assert not failures
    assert len(answers) == 24 * 12
    statuses = {(status, body.get("error") if status != 201 else None) for _, status, body, _ in answers}
    assert statuses <= {(201, None), (409, "SEAT_UNAVAILABLE")}, statuses
    slowest = max(latency for *_, latency in answers)
    assert slowest < 2.0, f"a request waited {slowest:.2f} s"  # the lock timeout is 2 s
    made = [(kind, body) for kind, status, body, _ in answers if status == 201]
    assert len(made) == 12 * 12  # one winner per seat
    for kind, body in made:
        if kind == "bookings":
            assert exists(sql, "bookings", uuid.UUID(body["id"]))
        else:
            assert exists(sql, "holds", uuid.UUID(body["id"]))
    claimed = sql("SELECT count(*) FROM seat_bookings WHERE show_id = :show", show=show.id)[0][0]
    assert claimed == len(made)
    fresh_failed = sql("SELECT count(*) FROM bookings WHERE show_id = :show AND status = 'FAILED' "
                       "AND user_id LIKE 'racer-%'", show=show.id)[0][0]
    assert fresh_failed == 24 * 12 - len(made)
    # Every request's record is still there (keys may be stored as an HMAC: count the fresh ones).
    assert sql("SELECT count(*) FROM idempotency_keys WHERE show_id = :show AND created_at > now() - interval '1 hour'",
               show=show.id)[0][0] == 24 * 12
    cleanup.clean_up(failed_retention_days=30)  # whatever the race left of the old rows
    assert count_old_failed(sql, show) == 0
