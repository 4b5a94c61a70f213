"""Booking lifecycle, idempotency, and what failures leave behind, on real PostgreSQL."""
import functools
import hashlib
import hmac
import threading
import uuid
from dataclasses import replace

import pytest

from chalicelib import config, db, repository, services, tokens
from chalicelib.errors import (Forbidden, IdempotencyKeyReused, NotFound, SeatUnavailable, ShowStarted,
                               Unavailable, ValidationError)
from chalicelib.validation import BookingRequest
from tests.support.race import race_threads


def book(show_id, booking_request, idempotency_key=None):
    """services.book_seats, answered as the API shows it (JSON with the token)."""
    return services.book_seats(show_id, booking_request, idempotency_key).to_json()


def request(user, *seat_ids):
    return BookingRequest(user, tuple(sorted(seat_ids)))


def count(sql, query, **params):
    return sql(query, **params)[0][0]


def test_booking_confirms_and_returns_a_working_token(show, seat_ids):
    booking = book(show.id, request("ann", seat_ids[0], seat_ids[1]))
    assert booking["status"] == "CONFIRMED"
    assert [seat["id"] for seat in booking["seats"]] == [str(seat_ids[0]), str(seat_ids[1])]
    assert len(booking["bookingToken"]) >= 43  # 256 bits, url-safe base64
    fetched = services.get_booking(uuid.UUID(booking["id"]), booking["bookingToken"])
    assert fetched.status == "CONFIRMED" and fetched.user_id == "ann"
    assert services.get_show(show.id).available_seats == show.total_seats - 2


def test_token_is_stored_only_as_a_hash(show, seat_ids, sql):
    booking = book(show.id, request("ann", seat_ids[0]))
    stored = sql("SELECT token_hash FROM booking_tokens WHERE booking_id = :id", id=uuid.UUID(booking["id"]))
    assert len(stored) == 1 and booking["bookingToken"].encode() not in bytes(stored[0][0])
    with pytest.raises(Forbidden):
        services.get_booking(uuid.UUID(booking["id"]), booking["bookingToken"] + "x")


def test_a_taken_seat_refuses_the_whole_booking_and_records_it_failed(show, seat_ids, sql):
    book(show.id, request("ann", seat_ids[1]))
    with pytest.raises(SeatUnavailable) as refused:
        book(show.id, request("bob", seat_ids[0], seat_ids[1], seat_ids[2]))
    assert refused.value.seat_ids == [str(seat_ids[1])]
    assert count(sql, "SELECT count(*) FROM seat_bookings WHERE seat_id = ANY(:ids)", ids=seat_ids[:3]) == 1
    failed = sql("SELECT b.id FROM bookings b WHERE b.user_id = 'bob' AND b.show_id = :show AND b.status = 'FAILED'",
                 show=show.id)
    assert len(failed) == 1
    recorded = sql("SELECT seat_id FROM booking_seats WHERE booking_id = :id ORDER BY seat_id", id=failed[0][0])
    assert [row[0] for row in recorded] == seat_ids[:3]


def test_refusal_names_every_taken_seat(show, seat_ids):
    book(show.id, request("ann", seat_ids[0], seat_ids[3]))
    with pytest.raises(SeatUnavailable) as refused:
        book(show.id, request("bob", *seat_ids[:5]))
    assert refused.value.seat_ids == [str(seat_ids[0]), str(seat_ids[3])]


def test_cancel_frees_the_seats_for_the_next_buyer(show, seat_ids, sql):
    first = book(show.id, request("ann", seat_ids[0], seat_ids[1]))
    cancelled = services.cancel_booking(uuid.UUID(first["id"]), first["bookingToken"])
    assert cancelled.status == "CANCELLED"
    assert [seat.id for seat in cancelled.seats] == seat_ids[:2]  # the record survives cancellation
    assert count(sql, "SELECT count(*) FROM seat_bookings WHERE show_id = :show", show=show.id) == 0
    statuses = {seat["id"]: seat["status"] for seat in services.seat_map(show.id).to_json()["seats"]}
    assert statuses[str(seat_ids[0])] == "AVAILABLE"
    second = book(show.id, request("bob", seat_ids[0], seat_ids[1]))
    assert second["status"] == "CONFIRMED"
    again = services.cancel_booking(uuid.UUID(first["id"]), first["bookingToken"])
    assert again.status == "CANCELLED"  # cancelling twice is harmless and frees nothing of bob's
    assert count(sql, "SELECT count(*) FROM seat_bookings WHERE booking_id = :id", id=uuid.UUID(second["id"])) == 2


def test_unknown_show_started_show_and_foreign_seats(make_show, show, seat_ids, sql):
    with pytest.raises(NotFound):
        book(uuid.uuid4(), request("ann", seat_ids[0]))
    other = make_show(rows=1, seats_per_row=2)
    foreign = sql("SELECT min(id) FROM seats WHERE show_id = :show", show=other.id)[0][0]
    with pytest.raises(ValidationError):
        book(show.id, request("ann", seat_ids[0], foreign))
    sql("UPDATE shows SET start_time = now() - interval '1 minute' WHERE id = :id", id=other.id)
    with pytest.raises(ShowStarted):
        book(other.id, request("ann", foreign))
    assert count(sql, "SELECT count(*) FROM bookings WHERE show_id = :show", show=other.id) == 0
    assert count(sql, "SELECT count(*) FROM seat_bookings WHERE seat_id = :seat", seat=seat_ids[0]) == 0


def test_seats_are_immutable(show, sql):
    with pytest.raises(Exception, match="immutable"):
        sql("UPDATE seats SET number = 99 WHERE show_id = :show", show=show.id)


def test_seat_map_etag_changes_with_every_status_change(show, seat_ids):
    first = services.seat_map(show.id)
    assert services.seat_map(show.id).version == first.version
    booking = book(show.id, request("ann", seat_ids[0]))
    booked = services.seat_map(show.id)
    assert booked.version != first.version
    services.cancel_booking(uuid.UUID(booking["id"]), booking["bookingToken"])
    assert services.seat_map(show.id).version == first.version  # back to the same statuses
    with pytest.raises(NotFound):
        services.seat_map(uuid.uuid4())


# --- Idempotency ---------------------------------------------------------------------------

def test_replay_returns_the_same_booking_with_a_fresh_working_token(show, seat_ids, sql):
    first = book(show.id, request("ann", seat_ids[0]), "key-1")
    replay = book(show.id, request("ann", seat_ids[0]), "key-1")
    assert {**replay, "bookingToken": None} == {**first, "bookingToken": None}
    assert replay["bookingToken"] != first["bookingToken"]
    for token in (first["bookingToken"], replay["bookingToken"]):
        assert services.get_booking(uuid.UUID(first["id"]), token).status == "CONFIRMED"
    assert count(sql, "SELECT count(*) FROM bookings WHERE show_id = :show", show=show.id) == 1


def test_same_key_other_body_is_refused(show, seat_ids):
    book(show.id, request("ann", seat_ids[0]), "key-2")
    with pytest.raises(IdempotencyKeyReused):
        book(show.id, request("ann", seat_ids[1]), "key-2")
    with pytest.raises(IdempotencyKeyReused):
        book(show.id, request("bob", seat_ids[0]), "key-2")


def test_replayed_refusal_names_the_same_seats_even_after_they_are_freed(show, seat_ids, sql):
    holder = book(show.id, request("ann", seat_ids[0]))
    with pytest.raises(SeatUnavailable) as first:
        book(show.id, request("bob", seat_ids[0]), "key-3")
    services.cancel_booking(uuid.UUID(holder["id"]), holder["bookingToken"])
    with pytest.raises(SeatUnavailable) as replay:
        book(show.id, request("bob", seat_ids[0]), "key-3")
    assert replay.value.seat_ids == first.value.seat_ids == [str(seat_ids[0])]
    assert count(sql, "SELECT count(*) FROM bookings WHERE user_id = 'bob' AND show_id = :show", show=show.id) == 1


def test_keys_are_scoped_to_the_show_and_expire_after_a_day(make_show, show, seat_ids, sql):
    other = make_show(rows=1, seats_per_row=2)
    other_seat = sql("SELECT min(id) FROM seats WHERE show_id = :show", show=other.id)[0][0]
    first = book(show.id, request("ann", seat_ids[0]), "key-4")
    elsewhere = book(other.id, request("ann", other_seat), "key-4")
    assert elsewhere["id"] != first["id"]
    sql("UPDATE idempotency_keys SET created_at = now() - interval '25 hours' WHERE key = :key",
        key=tokens.key_digest("key-4"))
    fresh = book(show.id, request("ann", seat_ids[1]), "key-4")  # another body is fine now
    assert fresh["id"] != first["id"]


def test_keys_are_stored_only_as_an_hmac_under_the_deployment_secret(show, seat_ids, sql, monkeypatch):
    key = "a-key-that-works-as-a-credential"
    first = book(show.id, request("ann", seat_ids[0]), key)
    stored = [row[0] for row in sql("SELECT key FROM idempotency_keys WHERE show_id = :show", show=show.id)]
    expected = hmac.new(config.LOCAL_IDEMPOTENCY_KEY_SECRET.encode(), key.encode(), hashlib.sha256).hexdigest()
    assert stored == [expected]
    # The stored HMAC still replays the booking and still tells another body apart.
    assert book(show.id, request("ann", seat_ids[0]), key)["id"] == first["id"]
    with pytest.raises(IdempotencyKeyReused):
        book(show.id, request("ann", seat_ids[1]), key)
    # Under another deployment's secret the same key is another key: nothing to replay.
    monkeypatch.setenv("IDEMPOTENCY_KEY_SECRET", "another deployment")
    tokens._key_secret.cache_clear()
    try:
        assert book(show.id, request("ann", seat_ids[1]), key)["id"] != first["id"]
    finally:
        monkeypatch.undo()
        tokens._key_secret.cache_clear()


@pytest.mark.parametrize("round_number", range(5))
def test_concurrent_requests_with_one_key_make_one_booking(show, seat_ids, sql, round_number):
    seat = seat_ids[round_number]
    key = f"same-key-{round_number}"
    attempts = [functools.partial(book, show.id, request("ann", seat), key) for _ in range(20)]
    results = race_threads(attempts)
    assert {result[0] for result in results} == {"CONFIRMED"}, results
    assert len({result[1] for result in results}) == 1
    assert count(sql, "SELECT count(*) FROM bookings WHERE show_id = :show AND :seat = ANY("
                      "SELECT seat_id FROM booking_seats WHERE booking_id = bookings.id)", show=show.id, seat=seat) == 1


# --- Failures: nothing is half written -------------------------------------------------------

def assert_nothing_left(sql, show_id, seat_id):
    assert count(sql, "SELECT count(*) FROM seat_bookings WHERE show_id = :show", show=show_id) == 0
    assert count(sql, "SELECT count(*) FROM bookings WHERE show_id = :show", show=show_id) == 0
    assert count(sql, "SELECT count(*) FROM booking_seats WHERE show_id = :show", show=show_id) == 0
    statuses = {seat["id"]: seat["status"] for seat in services.seat_map(show_id).to_json()["seats"]}
    assert statuses[str(seat_id)] == "AVAILABLE"


def test_connection_killed_after_the_claims_leaves_nothing_behind(show, seat_ids, sql, monkeypatch):
    real_claim = repository.Repository.claim

    def claim_then_kill_own_connection(self, show_id, user_id, seat_ids, owner_id, *args, **kwargs):
        made = real_claim(self, show_id, user_id, seat_ids, owner_id, *args, **kwargs)
        con = self._con
        assert con.run("SELECT count(*) FROM seat_bookings WHERE booking_id = :id", id=owner_id)[0][0] == 1
        sql("SELECT pg_terminate_backend(:pid)", pid=con.run("SELECT pg_backend_pid()")[0][0])
        return made  # the COMMIT finds the connection gone

    monkeypatch.setattr(repository.Repository, "claim", claim_then_kill_own_connection)
    with pytest.raises(Unavailable):
        book(show.id, request("ann", seat_ids[0]))
    monkeypatch.undo()
    assert_nothing_left(sql, show.id, seat_ids[0])
    # The next request reconnects and succeeds.
    assert book(show.id, request("ann", seat_ids[0]))["status"] == "CONFIRMED"


def test_an_error_after_the_claims_rolls_everything_back(show, seat_ids, sql, monkeypatch):
    real_claim = repository.Repository.claim

    def claim_then_explode(self, *args, **kwargs):
        made = real_claim(self, *args, **kwargs)
        assert made.outcome is repository.ClaimOutcome.CLAIMED
        raise RuntimeError("injected")

    monkeypatch.setattr(repository.Repository, "claim", claim_then_explode)
    with pytest.raises(RuntimeError):
        book(show.id, request("ann", seat_ids[0]), "key-5")
    assert_nothing_left(sql, show.id, seat_ids[0])
    assert count(sql, "SELECT count(*) FROM idempotency_keys WHERE show_id = :show", show=show.id) == 0


def test_a_connection_broken_between_requests_is_replaced_once(show, seat_ids, sql):
    services.get_show(show.id)
    pid = db.connection().run("SELECT pg_backend_pid()")[0][0]
    sql("SELECT pg_terminate_backend(:pid)", pid=pid)
    assert services.get_show(show.id).id == show.id
    assert db.connection().run("SELECT pg_backend_pid()")[0][0] != pid


def test_a_held_seat_lock_times_out_into_503_not_500(show, seat_ids, database_url):
    settings = db.settings()
    holder = db.connect(settings)
    try:
        services_booking = uuid.uuid4()
        holder.run("START TRANSACTION")
        holder.run("INSERT INTO bookings (id, show_id, user_id, status) VALUES (:id, :show, 'holder', 'CONFIRMED')",
                   id=services_booking, show=show.id)
        holder.run("INSERT INTO seat_bookings (show_id, seat_id, booking_id) VALUES (:show, :seat, :id)",
                   show=show.id, seat=seat_ids[0], id=services_booking)
        db.configure(replace(settings, lock_timeout_ms=200))
        with pytest.raises(Unavailable) as busy:
            book(show.id, request("ann", seat_ids[0]))
        assert "busy" in busy.value.message
        db.configure(replace(settings, lock_timeout_ms=60000, statement_timeout_ms=200))
        with pytest.raises(Unavailable):
            book(show.id, request("ann", seat_ids[0]))
    finally:
        holder.run("ROLLBACK")
        holder.close()
        db.configure(settings)
    assert book(show.id, request("ann", seat_ids[0]))["status"] == "CONFIRMED"


def test_database_down_is_503(show, monkeypatch):
    settings = db.settings()
    db.configure(replace(settings, host="127.0.0.1", port=1, unix_sock=None, connect_timeout_s=2))
    try:
        with pytest.raises(Unavailable):
            services.list_shows()
    finally:
        db.configure(settings)


def test_threads_never_share_a_connection(database_url):
    pids = set()
    lock = threading.Lock()

    def record():
        pid = db.connection().run("SELECT pg_backend_pid()")[0][0]
        with lock:
            pids.add((threading.get_ident(), pid))
        db.close()

    threads = [threading.Thread(target=record) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len({pid for _, pid in pids}) == 8
