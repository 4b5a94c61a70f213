"""Migrations apply once, in order, and two runners at once are safe."""
import json
import multiprocessing
import os
import secrets
import uuid
from datetime import datetime, timedelta, timezone

import pytest

from chalicelib import db, schema, services
from chalicelib.errors import SeatUnavailable
from chalicelib.validation import BookingRequest, ShowRequest
from tools.local import localdb


@pytest.fixture
def empty_database(database_url):
    name = f"modex_migrate_{secrets.token_hex(4)}"
    url = localdb.create_database(database_url, name)
    yield url
    localdb.drop_database(database_url, name)


def _migrate_in_child(url, queue):
    os.environ["DATABASE_URL"] = url
    db.configure(None)
    try:
        queue.put(("ok", schema.migrate()))
    except Exception as error:  # reported to the parent, which fails the test
        queue.put(("error", repr(error)))


def test_migrate_twice_applies_once(empty_database, database_url):
    os.environ["DATABASE_URL"] = empty_database
    db.configure(None)
    try:
        assert schema.migrate() == [path.stem for path in schema.migration_files()]
        assert schema.migrate() == []
    finally:
        os.environ["DATABASE_URL"] = database_url
        db.configure(None)


@pytest.mark.parametrize("round_number", range(3))
def test_two_processes_migrating_at_once_both_succeed_and_apply_once(empty_database, round_number):
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    runners = [context.Process(target=_migrate_in_child, args=(empty_database, queue)) for _ in range(4)]
    for runner in runners:
        runner.start()
    results = [queue.get(timeout=60) for _ in runners]
    for runner in runners:
        runner.join(60)
    assert all(status == "ok" for status, _ in results), results
    applied = sorted(name for _, names in results for name in names)
    assert applied == [path.stem for path in schema.migration_files()]


def test_idempotency_records_keep_their_answers_across_002(empty_database, database_url):
    """Records written before 002 (an HTTP status and body) replay the same answer after it."""
    os.environ["DATABASE_URL"] = empty_database
    db.configure(None)
    try:
        first = schema.migration_files()[0]
        with db.transaction() as con:
            con.run(first.read_text())
            con.run("CREATE TABLE schema_migrations (version text PRIMARY KEY, applied_at timestamptz NOT NULL "
                    "DEFAULT now())")
            con.run("INSERT INTO schema_migrations (version) VALUES (:version)", version=first.stem)
        show = services.create_show(ShowRequest("Old", datetime.now(timezone.utc) + timedelta(days=1), 1, 3))
        seat_ids = [seat.id for seat, _ in services.seat_map(show.id).seats]
        booked = services.book_seats(show.id, BookingRequest("ann", (seat_ids[0],)))
        failed_id = uuid.uuid4()
        with db.transaction() as con:
            con.run("INSERT INTO bookings (id, show_id, user_id, status) VALUES (:id, :show, 'bob', 'FAILED')",
                    id=failed_id, show=show.id)
            for key, status, body, booking_id, user in (
                    ("won", 201, booked.booking.to_json(), booked.booking.id, "ann"),
                    ("lost", 409, {"error": "SEAT_UNAVAILABLE", "message": "Seat unavailable",
                                   "seatIds": [str(seat_ids[0])]}, failed_id, "bob")):
                con.run("INSERT INTO idempotency_keys (show_id, key, fingerprint, response_status, response_body, "
                        "booking_id) VALUES (:show, :key, :fingerprint, :status, CAST(:body AS jsonb), :booking)",
                        show=show.id, key=key, status=status, body=json.dumps(body), booking=booking_id,
                        fingerprint=BookingRequest(user, (seat_ids[0],)).fingerprint())

        assert schema.migrate() == [path.stem for path in schema.migration_files()[1:]]

        replay = services.book_seats(show.id, BookingRequest("ann", (seat_ids[0],)), "won")
        assert replay.booking == booked.booking and replay.token != booked.token
        with pytest.raises(SeatUnavailable) as refusal:
            services.book_seats(show.id, BookingRequest("bob", (seat_ids[0],)), "lost")
        assert refusal.value.seat_ids == [str(seat_ids[0])]
    finally:
        os.environ["DATABASE_URL"] = database_url
        db.configure(None)
