"""Migrations apply once, in order, and two runners at once are safe."""
import json
import multiprocessing
import os
import secrets
import uuid

import pytest

from chalicelib import db, schema, services
from chalicelib.errors import SeatUnavailable
from chalicelib.repository import Repository
from chalicelib.validation import BookingRequest
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


WAVE_ONE = """
INSERT INTO shows (id, name, start_time, total_seats) VALUES (:show, 'Old', now() + interval '1 day', 6);
INSERT INTO seats (show_id, row_label, number)
SELECT :show, row_label, number FROM unnest(ARRAY['B', 'A']) AS row_label, generate_series(1, 3) AS number;
INSERT INTO bookings (id, show_id, user_id, status) VALUES (:won, :show, 'ann', 'CONFIRMED'),
                                                           (:lost, :show, 'bob', 'FAILED');
INSERT INTO booking_seats (booking_id, show_id, seat_id)
SELECT booking, :show, (SELECT id FROM seats WHERE show_id = :show AND row_label = 'A' AND number = 1)
FROM unnest(ARRAY[CAST(:won AS uuid), CAST(:lost AS uuid)]) AS booking;
INSERT INTO seat_bookings (show_id, seat_id, booking_id) SELECT show_id, seat_id, booking_id FROM booking_seats
WHERE booking_id = :won
"""
WAVE_ONE_KEY = """
INSERT INTO idempotency_keys (show_id, key, fingerprint, response_status, response_body, booking_id)
VALUES (:show, :key, :fingerprint, :status, CAST(:body AS jsonb), :booking)
"""


def test_wave_one_data_keeps_working_after_the_migrations(empty_database, database_url):
    """A database of the first release (001 only, with a show, bookings and idempotency records
    that stored an HTTP status and body) migrates to one-section venues that still work."""
    os.environ["DATABASE_URL"] = empty_database
    db.configure(None)
    try:
        first = schema.migration_files()[0]
        show_id, won, lost = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
        with db.transaction() as con:
            con.run(first.read_text())
            con.run("CREATE TABLE schema_migrations (version text PRIMARY KEY, applied_at timestamptz NOT NULL "
                    "DEFAULT now())")
            con.run("INSERT INTO schema_migrations (version) VALUES (:version)", version=first.stem)
            for statement in WAVE_ONE.strip().split(";\n"):
                con.run(statement, **{name: value for name, value in dict(show=show_id, won=won, lost=lost).items()
                                      if f":{name}" in statement})
            seat_a1 = con.run("SELECT id FROM seats WHERE show_id = :show AND row_label = 'A' AND number = 1",
                              show=show_id)[0][0]
            refusal_body = {"error": "SEAT_UNAVAILABLE", "message": "Seat unavailable", "seatIds": [str(seat_a1)]}
            for key, user, status, body, booking in (("won", "ann", 201, {}, won),
                                                     ("lost", "bob", 409, refusal_body, lost)):
                con.run(WAVE_ONE_KEY, show=show_id, key=key, status=status, body=json.dumps(body), booking=booking,
                        fingerprint=BookingRequest(user, (seat_a1,)).fingerprint())

        assert schema.migrate() == [path.stem for path in schema.migration_files()[1:]]

        show = services.get_show(show_id)
        assert (show.currency, [c.to_json() for c in show.categories]) == \
            ("EUR", [{"id": "STANDARD", "name": "Standard", "price": 0}])
        assert [s.to_json() for s in show.sections] == [{"name": "Main", "totalSeats": 6, "availableSeats": 5}]
        seats = services.seat_map(show_id).seats
        assert [(seat.row, seat.number, seat.section, seat.category) for seat, _ in seats] == \
            [(row, number, "Main", "STANDARD") for row in "AB" for number in (1, 2, 3)]
        assert services.availability(show_id).statuses == "BAAAAA"
        # Keys stored in plain were credentials at rest: 006 drops them (keys are HMACs since),
        # so a retry with one is a new request, which the seat's claim refuses.
        with db.transaction() as con:
            assert con.run("SELECT count(*) FROM idempotency_keys")[0][0] == 0
            # 009 marks each row's first and last seat (best available's row middle).
            assert con.run("SELECT row_label, number FROM seats WHERE show_id = :show AND row_end ORDER BY ordinal",
                           show=show_id) == [["A", 1], ["A", 3], ["B", 1], ["B", 3]]
            # and each section's categories (best available within a category searches those)
            assert con.run("SELECT category_ids FROM sections WHERE show_id = :show", show=show_id) == [[["STANDARD"]]]
        with pytest.raises(SeatUnavailable) as refusal:
            services.book_seats(show_id, BookingRequest("ann", (seat_a1,)), "won")
        assert refusal.value.seat_ids == [str(seat_a1)]
        with db.transaction() as con:
            booking = Repository(con).find_booking(won)
        assert [seat.id for seat in booking.seats] == [seat_a1]
        assert booking.total.to_json() == {"amount": 0, "currency": "EUR"}
        fresh = services.book_seats(show_id, BookingRequest("cat", (seats[5][0].id,)))
        assert fresh.booking.seats[0].row == "B" and services.availability(show_id).statuses == "BAAAAB"
    finally:
        os.environ["DATABASE_URL"] = database_url
        db.configure(None)
