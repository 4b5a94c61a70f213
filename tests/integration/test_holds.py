"""Holds on real PostgreSQL: the lifecycle, expiry by the database's clock (tests move a
hold's expiry on the database side; nothing sleeps for minutes), takeovers, confirms racing
takeovers, the seat limit under a race, and the HTTP answers."""
import functools
import random
import threading
import time
import uuid
from datetime import timedelta

import pytest
from chalice.test import Client

from app import app
from chalicelib import cleanup, db, holds, services
from chalicelib.errors import (Forbidden, HoldExpired, IdempotencyKeyReused, LimitReached, NotFound,
                               SeatUnavailable)
from chalicelib.model import BookingStatus, HoldStatus, SeatStatus
from chalicelib.validation import BookingRequest, HoldRequest
from tests.support.race import race_processes, race_threads, result_or_code

RACERS = 50


@pytest.fixture(scope="module")
def client():
    with Client(app) as client:
        yield client


def hold(show_id, user, *seat_ids, key=None):
    return holds.hold_seats(show_id, HoldRequest(user, tuple(sorted(seat_ids))), key)


def book(show_id, user, *seat_ids, key=None):
    return services.book_seats(show_id, BookingRequest(user, tuple(sorted(seat_ids))), key)


def expire(sql, hold_id, ago="1 second"):
    """The database-side clock for tests: the hold (and its claims) expired `ago`."""
    sql("UPDATE holds SET expires_at = now() - CAST(:ago AS interval) WHERE id = :id", id=hold_id, ago=ago)
    sql("UPDATE seat_bookings SET expires_at = now() - CAST(:ago AS interval) WHERE hold_id = :id",
        id=hold_id, ago=ago)


def statuses(show):
    return {seat.id: status for seat, status in services.seat_map(show.id).seats}


def test_a_hold_keeps_its_seats_until_confirmed(theatre, sql):
    seats = [seat for seat, _ in services.seat_map(theatre.id).seats]
    issued = hold(theatre.id, "ann", seats[0].id, seats[200].id)
    made = issued.hold
    assert made.status is HoldStatus.ACTIVE and len(issued.token) >= 43
    assert made.total.to_json() == {"amount": seats[0].price + seats[200].price, "currency": "EUR"}
    minutes = sql("SELECT extract(epoch FROM expires_at - now()) / 60 FROM holds WHERE id = :id", id=made.id)[0][0]
    assert 9.9 < float(minutes) <= 10  # the show's holdMinutes, by the database's clock
    assert statuses(theatre)[seats[0].id] is SeatStatus.HELD
    assert services.availability(theatre.id).statuses[0] == "H"
    assert services.get_show(theatre.id).available_seats == 298  # live holds are not available
    with pytest.raises(SeatUnavailable):
        book(theatre.id, "bob", seats[0].id)
    assert holds.get_hold(made.id, issued.token).status is HoldStatus.ACTIVE

    booked = holds.confirm_hold(made.id, issued.token)
    assert booked.booking.status is BookingStatus.CONFIRMED
    assert [seat.id for seat in booked.booking.seats] == [seats[0].id, seats[200].id]
    assert booked.booking.total == made.total
    assert services.get_booking(booked.booking.id, booked.token).user_id == "ann"
    assert services.availability(theatre.id).statuses[0] == "B"
    assert holds.get_hold(made.id, issued.token).status is HoldStatus.CONFIRMED
    again = holds.confirm_hold(made.id, issued.token)  # confirming twice: the same booking
    assert again.booking.id == booked.booking.id and again.token != booked.token
    assert holds.release_hold(made.id, issued.token).status is HoldStatus.CONFIRMED  # nothing to release
    assert sql("SELECT count(*) FROM seat_bookings WHERE hold_id = :id", id=made.id)[0][0] == 0


def test_release_frees_the_seats_at_once(show, seat_ids):
    issued = hold(show.id, "ann", seat_ids[0])
    assert holds.release_hold(issued.hold.id, issued.token).status is HoldStatus.RELEASED
    assert statuses(show)[seat_ids[0]] is SeatStatus.AVAILABLE
    with pytest.raises(HoldExpired):
        holds.confirm_hold(issued.hold.id, issued.token)
    assert holds.release_hold(issued.hold.id, issued.token).status is HoldStatus.RELEASED
    assert book(show.id, "bob", seat_ids[0]).booking.status is BookingStatus.CONFIRMED


def test_an_expired_hold_reads_available_at_once_and_cannot_be_confirmed(show, seat_ids, sql, client):
    issued = hold(show.id, "ann", seat_ids[0], seat_ids[1])
    path = f"/shows/{show.id}/availability"
    held = client.http.get(path)
    assert held.json_body["statuses"][:2] == "HH"
    expire(sql, issued.hold.id)  # no claim row changes from here on
    lapsed = client.http.get(path, headers={"If-None-Match": held.headers["ETag"]})
    assert lapsed.status_code == 200 and lapsed.json_body["statuses"][:2] == "AA"
    assert lapsed.headers["ETag"] != held.headers["ETag"]
    assert services.get_show(show.id).available_seats == show.total_seats
    assert holds.get_hold(issued.hold.id, issued.token).status is HoldStatus.EXPIRED
    with pytest.raises(HoldExpired):
        holds.confirm_hold(issued.hold.id, issued.token)
    assert sql("SELECT count(*) FROM bookings WHERE show_id = :show", show=show.id)[0][0] == 0  # nothing booked
    # The next claimant takes the seat over in the claim statement itself.
    assert book(show.id, "bob", seat_ids[1]).booking.seats[0].id == seat_ids[1]
    assert hold(show.id, "cat", seat_ids[0]).hold.status is HoldStatus.ACTIVE


@pytest.mark.parametrize("racers", ["threads", "processes"])
def test_fifty_holders_for_one_seat_make_one_hold(make_show, sql, racers):
    show = make_show(rows=1, seats_per_row=3)
    seat_id = sql("SELECT min(id) FROM seats WHERE show_id = :show", show=show.id)[0][0]
    attempts = [functools.partial(hold, show.id, f"holder-{index}", seat_id) for index in range(RACERS)]
    if racers == "threads":
        outcomes = [outcome_of_hold(result) for result in attempts_released_together(attempts)]
    else:  # outcome tuples: ("CONFIRMED", id, seats) for whatever returned, else the error's code
        outcomes = ["HELD" if result[0] == "CONFIRMED" else result[0] for result in race_processes(attempts)]
    assert outcomes.count("HELD") == 1 and outcomes.count("SEAT_UNAVAILABLE") == RACERS - 1, outcomes
    assert dict(sql("SELECT status, count(*) FROM bookings WHERE show_id = :show GROUP BY status",
                    show=show.id)) == {"FAILED": RACERS - 1}
    assert sql("SELECT count(*) FROM seat_bookings WHERE show_id = :show", show=show.id)[0][0] == 1


def outcome_of_hold(result):
    return result if isinstance(result, str) else "HELD"


def attempts_released_together(attempts):
    """Each attempt's domain value (an IssuedHold, an IssuedBooking), or its error code."""
    return race_threads(attempts, judge=result_or_code)


@pytest.mark.parametrize("round_number", range(3))
def test_fifty_racers_on_one_expired_hold_make_one_takeover(make_show, sql, round_number):
    show = make_show(rows=1, seats_per_row=3)
    seat_id = sql("SELECT min(id) FROM seats WHERE show_id = :show", show=show.id)[0][0]
    lapsed = hold(show.id, "early", seat_id)
    expire(sql, lapsed.hold.id)
    attempts = [functools.partial(book if index % 2 else hold, show.id, f"taker-{index}", seat_id)
                for index in range(RACERS)]
    results = attempts_released_together(attempts)
    winners = [result for result in results if not isinstance(result, str)]
    assert len(winners) == 1 and results.count("SEAT_UNAVAILABLE") == RACERS - 1, results
    owner = sql("SELECT coalesce(booking_id, hold_id) FROM seat_bookings WHERE show_id = :show", show=show.id)
    winner = winners[0].booking if hasattr(winners[0], "booking") else winners[0].hold
    assert [row[0] for row in owner] == [winner.id]


def test_a_confirm_racing_a_takeover_at_the_expiry_instant_has_one_winner_at_most(make_show, sql):
    """200 rounds: a hold expiring within 0-38 ms (swept so that the instant falls before,
    between and after the two starts), its confirm and another buyer's booking released
    together. Never both; and the seat always ends with whoever was told 201 (or, when the
    instant fell between the two, still with the lapsed hold: free for the next claimant)."""
    show = make_show(rows=10, seats_per_row=20)
    seat_ids = [row[0] for row in sql("SELECT id FROM seats WHERE show_id = :show ORDER BY id", show=show.id)]
    tally = {"confirm": 0, "takeover": 0, "neither": 0}
    for round_number, seat_id in enumerate(seat_ids):
        issued = hold(show.id, f"holder-{round_number}", seat_id)
        sql("UPDATE holds SET expires_at = clock_timestamp() + make_interval(secs => :ms / 1000.0) WHERE id = :id",
            id=issued.hold.id, ms=round_number % 20 * 2)
        sql("UPDATE seat_bookings SET expires_at = (SELECT expires_at FROM holds WHERE id = :id) WHERE hold_id = :id",
            id=issued.hold.id)
        confirm, takeover = attempts_released_together([
            functools.partial(holds.confirm_hold, issued.hold.id, issued.token),
            functools.partial(book, show.id, f"taker-{round_number}", seat_id)])
        confirmed, took = not isinstance(confirm, str), not isinstance(takeover, str)
        assert not (confirmed and took), f"round {round_number}: both won"
        assert confirm in ("HOLD_EXPIRED",) or confirmed, confirm
        assert takeover in ("SEAT_UNAVAILABLE",) or took, takeover
        claim = sql("SELECT booking_id, hold_id FROM seat_bookings WHERE seat_id = :seat", seat=seat_id)
        if confirmed:
            assert claim == [[confirm.booking.id, None]]
            tally["confirm"] += 1
        elif took:
            assert claim == [[takeover.booking.id, None]]
            tally["takeover"] += 1
        else:
            assert claim == [[None, issued.hold.id]]  # the lapsed hold's, which the next claimant takes
            assert book(show.id, f"next-{round_number}", seat_id).booking.seats[0].id == seat_id
            tally["neither"] += 1
    print(f"confirm vs takeover at the expiry instant, 200 rounds: {tally}")
    assert tally["confirm"] and tally["takeover"], "the sweep must land on both sides of the instant"


def test_the_seat_limit_counts_holds_and_bookings(make_show, sql):
    show = make_show(rows=2, seats_per_row=10)
    seat_ids = [row[0] for row in sql("SELECT id FROM seats WHERE show_id = :show ORDER BY id", show=show.id)]
    sql("UPDATE shows SET max_seats_per_user = 4 WHERE id = :show", show=show.id)
    book(show.id, "ann", seat_ids[0], seat_ids[1])
    held = hold(show.id, "ann", seat_ids[2])
    with pytest.raises(LimitReached) as refused:
        hold(show.id, "ann", seat_ids[3], seat_ids[4])
    assert "at most 4 seats" in refused.value.message
    with pytest.raises(LimitReached):
        book(show.id, "ann", seat_ids[3], seat_ids[4])
    assert book(show.id, "ann", seat_ids[3]).booking.status is BookingStatus.CONFIRMED  # the 4th is fine
    holds.release_hold(held.hold.id, held.token)  # a released hold no longer counts
    assert hold(show.id, "ann", seat_ids[5]).hold.status is HoldStatus.ACTIVE
    assert hold(show.id, "bob", seat_ids[6], seat_ids[7], seat_ids[8], seat_ids[9]).hold.total.amount == 0


@pytest.mark.parametrize("round_number", range(5))
def test_the_seat_limit_holds_under_a_race_of_one_user(make_show, sql, round_number):
    show = make_show(rows=2, seats_per_row=10)
    seat_ids = [row[0] for row in sql("SELECT id FROM seats WHERE show_id = :show ORDER BY id", show=show.id)]
    sql("UPDATE shows SET max_seats_per_user = 4 WHERE id = :show", show=show.id)
    attempts = [functools.partial(hold if index % 2 else book, show.id, "ann", seat_id)
                for index, seat_id in enumerate(seat_ids[:12])]
    results = attempts_released_together(attempts)
    assert sum(not isinstance(result, str) for result in results) == 4, results
    assert results.count("LIMIT_REACHED") == 8
    assert sql("SELECT count(*) FROM seat_bookings WHERE show_id = :show", show=show.id)[0][0] == 4


@pytest.mark.parametrize("claim", [hold, book], ids=["hold", "booking"])
def test_twins_with_one_key_get_one_answer_even_near_the_limit(make_show, sql, claim):
    """Six seats asked twice at once under a limit of 10: the twin replays the first answer
    (a second claim would pass the limit, but there is no second claim)."""
    show = make_show(rows=1, seats_per_row=10)
    seat_ids = [row[0] for row in sql("SELECT id FROM seats WHERE show_id = :show ORDER BY id", show=show.id)]
    for round_number in range(5):
        key = f"twin-{round_number}"
        results = attempts_released_together(
            [functools.partial(claim, show.id, f"u{round_number}", *seat_ids[:6], key=key) for _ in range(2)])
        assert not any(isinstance(result, str) for result in results), results
        made = [result.to_json()["id"] for result in results]
        assert made[0] == made[1]
        sql("DELETE FROM seat_bookings WHERE show_id = :show", show=show.id)


def test_a_confirm_at_the_expiry_instant_never_takes_a_user_past_the_limit(make_show, sql):
    """200 rounds, limit 2: a 1-seat hold lapsing within 0-38 ms, its confirm racing the same
    user's new 2-seat hold. Whatever wins, the user never has more than 2 live seats."""
    show = make_show(rows=20, seats_per_row=30)
    sql("UPDATE shows SET max_seats_per_user = 2 WHERE id = :show", show=show.id)
    seat_ids = [row[0] for row in sql("SELECT id FROM seats WHERE show_id = :show ORDER BY id", show=show.id)]
    over = []
    for round_number in range(200):
        user = f"user-{round_number}"
        first, second, third = seat_ids[3 * round_number:3 * round_number + 3]
        issued = hold(show.id, user, first)
        sql("UPDATE holds SET expires_at = clock_timestamp() + make_interval(secs => :ms / 1000.0) WHERE id = :id",
            id=issued.hold.id, ms=round_number % 20 * 2)
        sql("UPDATE seat_bookings SET expires_at = (SELECT expires_at FROM holds WHERE id = :id) WHERE hold_id = :id",
            id=issued.hold.id)
        attempts_released_together([functools.partial(holds.confirm_hold, issued.hold.id, issued.token),
                                    functools.partial(hold, show.id, user, second, third)])
        live = sql("SELECT count(*) FROM seat_bookings sb LEFT JOIN holds h ON h.id = sb.hold_id "
                   "LEFT JOIN bookings b ON b.id = sb.booking_id WHERE sb.show_id = :show "
                   "AND coalesce(h.user_id, b.user_id) = :user AND (sb.expires_at IS NULL OR sb.expires_at >= now())",
                   show=show.id, user=user)[0][0]
        if live > 2:
            over.append((round_number, live))
    assert over == []


def test_an_idempotent_hold_replays_and_a_booking_key_is_not_a_hold_key(show, seat_ids, sql):
    first = hold(show.id, "ann", seat_ids[0], key="h-1")
    replay = hold(show.id, "ann", seat_ids[0], key="h-1")
    assert replay.hold == first.hold and replay.token != first.token
    assert holds.get_hold(first.hold.id, replay.token).status is HoldStatus.ACTIVE
    with pytest.raises(IdempotencyKeyReused):
        hold(show.id, "ann", seat_ids[1], key="h-1")
    services.book_seats(show.id, BookingRequest("bob", (seat_ids[2],)), "b-1")
    with pytest.raises(IdempotencyKeyReused):
        hold(show.id, "bob", seat_ids[2], key="b-1")  # same body, but a booking's key
    assert sql("SELECT count(*) FROM holds WHERE show_id = :show", show=show.id)[0][0] == 1


def test_hold_tokens_open_only_their_hold(show, seat_ids):
    mine, other = hold(show.id, "ann", seat_ids[0]), hold(show.id, "bob", seat_ids[1])
    with pytest.raises(Forbidden):
        holds.get_hold(mine.hold.id, other.token)
    with pytest.raises(Forbidden):
        holds.confirm_hold(mine.hold.id, other.token)
    with pytest.raises(NotFound):
        holds.release_hold(uuid.uuid4(), mine.token)


def test_the_hold_routes_answer_in_the_contract_shape(show, seat_ids, client):
    created = client.http.post(f"/shows/{show.id}/holds", headers={"Content-Type": "application/json"},
                               body=f'{{"userId": "ann", "seatIds": ["{seat_ids[0]}"]}}')
    assert created.status_code == 201
    body = created.json_body
    assert set(body) == {"id", "showId", "userId", "status", "seats", "expiresAt", "total", "holdToken"}
    assert body["status"] == "ACTIVE" and body["expiresAt"].endswith("Z")
    path, auth = f"/holds/{body['id']}", {"Authorization": f"Bearer {body['holdToken']}"}
    for method, route in (("get", path), ("post", path + "/confirm"), ("delete", path)):
        assert getattr(client.http, method)(route).json_body["error"] == "UNAUTHORIZED"
        assert getattr(client.http, method)(route, headers={"Authorization": "Bearer nope"}).status_code == 403
        assert getattr(client.http, method)(f"/holds/{uuid.uuid4()}{route[len(path):]}",
                                            headers=auth).status_code == 404
    assert client.http.get(path, headers=auth).json_body["status"] == "ACTIVE"
    confirmed = client.http.post(path + "/confirm", headers=auth)
    assert confirmed.status_code == 201 and confirmed.json_body["status"] == "CONFIRMED"
    assert confirmed.json_body["bookingToken"] and confirmed.json_body["total"]["currency"] == "EUR"
    assert client.http.post(path + "/confirm", headers=auth).json_body["id"] == confirmed.json_body["id"]
    second = client.http.post(f"/shows/{show.id}/holds", headers={"Content-Type": "application/json"},
                              body=f'{{"userId": "bob", "seatIds": ["{seat_ids[0]}"]}}')
    assert second.status_code == 409 and second.json_body["error"] == "SEAT_UNAVAILABLE"
    assert second.json_body["seatIds"] == [str(seat_ids[0])]


def test_confirming_a_lapsed_hold_is_409_hold_expired(show, seat_ids, sql, client):
    issued = hold(show.id, "ann", seat_ids[0])
    expire(sql, issued.hold.id)
    answer = client.http.post(f"/holds/{issued.hold.id}/confirm", headers={"Authorization": f"Bearer {issued.token}"})
    assert (answer.status_code, answer.json_body["error"]) == (409, "HOLD_EXPIRED")


def test_tidying_removes_only_claims_long_expired(show, seat_ids, sql):
    live, lapsed, long_gone = (hold(show.id, f"u{index}", seat_ids[index]) for index in range(3))
    expire(sql, lapsed.hold.id, "10 seconds")
    expire(sql, long_gone.hold.id, "5 minutes")
    assert cleanup.clean_up().expired_claims >= 1
    remaining = {row[0] for row in sql("SELECT hold_id FROM seat_bookings WHERE show_id = :show", show=show.id)}
    assert remaining == {live.hold.id, lapsed.hold.id}
    assert holds.get_hold(long_gone.hold.id, long_gone.token).status is HoldStatus.EXPIRED


def test_a_hold_for_a_started_show_is_refused(make_show, seat_ids):
    show = make_show(starts_in=timedelta(seconds=2))
    seat = services.seat_map(show.id).seats[0][0].id
    time.sleep(2.1)
    with pytest.raises(Exception) as refused:
        hold(show.id, "late", seat)
    assert getattr(refused.value, "code", None) == "SHOW_STARTED"


CHURN_SECONDS = 30
CHURN_CLIENTS = 16


def test_churn_keeps_claims_equal_to_live_holds_plus_confirmed_bookings(make_show, sql, database_url):
    """30 s of 16 clients holding, confirming, releasing, abandoning (left to lapse), booking
    directly and cancelling, while a clock thread makes random holds lapse on the database
    side. At the end every live claim is a live hold's or a confirmed booking's seat and the
    other way round, no seat is claimed twice, and every 201 is in the tables as answered."""
    show = make_show(rows=10, seats_per_row=20)
    seat_ids = [row[0] for row in sql("SELECT id FROM seats WHERE show_id = :show", show=show.id)]
    sql("UPDATE shows SET max_seats_per_user = 100 WHERE id = :show", show=show.id)
    deadline = time.monotonic() + CHURN_SECONDS
    lock = threading.Lock()
    answered = {"bookings": {}, "holds": {}, "cancelled": set(), "refused": 0, "errors": []}

    def client(index):
        rng = random.Random(index)
        user = f"churn-{index}"
        try:
            while time.monotonic() < deadline:
                pick = rng.sample(seat_ids, rng.randint(1, 3))
                try:
                    if rng.random() < 0.25:
                        booked = book(show.id, user, *pick)
                    else:
                        issued = hold(show.id, user, *pick)
                        with lock:
                            answered["holds"][issued.hold.id] = set(pick)
                        fate = rng.random()
                        if fate >= 0.5:
                            if fate < 0.7:
                                holds.release_hold(issued.hold.id, issued.token)
                            continue  # released, or abandoned: left to lapse
                        booked = holds.confirm_hold(issued.hold.id, issued.token)
                    with lock:
                        answered["bookings"][booked.booking.id] = {seat.id for seat in booked.booking.seats}
                    if rng.random() < 0.4:  # seats come back, so the churn goes on
                        services.cancel_booking(booked.booking.id, booked.token)
                        with lock:
                            answered["cancelled"].add(booked.booking.id)
                except (SeatUnavailable, HoldExpired):
                    with lock:
                        answered["refused"] += 1
        except Exception as error:  # anything else fails the test below
            with lock:
                answered["errors"].append(repr(error))
        finally:
            db.close()

    def clock():
        con = db.connect(db.settings())
        while time.monotonic() < deadline:
            con.run("WITH lapsing AS (SELECT id FROM holds WHERE show_id = :show AND status = 'ACTIVE' "
                    "AND expires_at > now() ORDER BY random() LIMIT 2) "
                    "UPDATE holds SET expires_at = now() - interval '1 second' WHERE id IN (SELECT id FROM lapsing)",
                    show=show.id)
            con.run("UPDATE seat_bookings SET expires_at = holds.expires_at FROM holds "
                    "WHERE seat_bookings.hold_id = holds.id AND holds.show_id = :show "
                    "AND seat_bookings.expires_at <> holds.expires_at", show=show.id)
            time.sleep(0.1)
        con.close()

    threads = [threading.Thread(target=client, args=(index,)) for index in range(CHURN_CLIENTS)]
    threads.append(threading.Thread(target=clock))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(CHURN_SECONDS + 60)
    assert not any(thread.is_alive() for thread in threads), "a client hung"
    assert answered["errors"] == []

    claims = sql("SELECT seat_id, booking_id, hold_id FROM seat_bookings WHERE show_id = :show "
                 "AND (expires_at IS NULL OR expires_at >= now())", show=show.id)
    claimed_seats = [row[0] for row in claims]
    assert len(claimed_seats) == len(set(claimed_seats)), "a seat is claimed twice"
    live_holds = sql("SELECT hs.seat_id, h.id FROM holds h JOIN hold_seats hs ON hs.hold_id = h.id "
                     "WHERE h.show_id = :show AND h.status = 'ACTIVE' AND h.expires_at >= now()", show=show.id)
    confirmed = sql("SELECT bs.seat_id, b.id FROM bookings b JOIN booking_seats bs ON bs.booking_id = b.id "
                    "WHERE b.show_id = :show AND b.status = 'CONFIRMED'", show=show.id)
    expected = sorted([(seat, None, hold_id) for seat, hold_id in live_holds]
                      + [(seat, booking_id, None) for seat, booking_id in confirmed])
    assert sorted(map(tuple, claims)) == expected
    stored = dict(sql("SELECT id, status FROM bookings WHERE show_id = :show AND status <> 'FAILED'", show=show.id))
    for booking_id, seats in answered["bookings"].items():
        want = "CANCELLED" if booking_id in answered["cancelled"] else "CONFIRMED"
        assert stored.get(booking_id) == want, booking_id
        assert {row[0] for row in sql("SELECT seat_id FROM booking_seats WHERE booking_id = :id",
                                      id=booking_id)} == seats
    assert len(stored) == len(answered["bookings"])  # nothing confirmed that no one was told
    assert set(answered["holds"]) == {row[0] for row in sql("SELECT id FROM holds WHERE show_id = :show",
                                                             show=show.id)}
    print(f"churn: {len(answered['holds'])} holds, {len(answered['bookings'])} bookings "
          f"({len(answered['cancelled'])} cancelled), {answered['refused']} refusals, "
          f"{len(claims)} live claims at the end")
