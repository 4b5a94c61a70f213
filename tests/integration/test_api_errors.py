"""Every bad input gets the contract's 4xx and JSON shape, through the real Chalice app."""
import json
import uuid

import pytest
from chalice.test import Client

from app import app

JSON = {"Content-Type": "application/json"}


@pytest.fixture(scope="module")
def client():
    with Client(app) as client:
        yield client


@pytest.fixture
def booking_path(show):
    return f"/shows/{show.id}/bookings"


def seat(seat_ids, index=0):
    return str(seat_ids[index])


BAD_BOOKINGS = [
    # (case, body bytes or a function of the seat ids, headers, status, code)
    ("malformed JSON", b'{"userId": "ann", "seatIds": [', JSON, 400, "VALIDATION_ERROR"),
    ("not UTF-8", b'{"userId": "\xff"}', JSON, 400, "VALIDATION_ERROR"),
    ("empty body", b"", JSON, 400, "VALIDATION_ERROR"),
    ("body is a list", b"[]", JSON, 400, "VALIDATION_ERROR"),
    ("body is a string", b'"hello"', JSON, 400, "VALIDATION_ERROR"),
    ("missing userId", lambda s: {"seatIds": [seat(s)]}, JSON, 400, "VALIDATION_ERROR"),
    ("missing seatIds", lambda s: {"userId": "ann"}, JSON, 400, "VALIDATION_ERROR"),
    ("userId not a string", lambda s: {"userId": 7, "seatIds": [seat(s)]}, JSON, 400, "VALIDATION_ERROR"),
    ("userId empty", lambda s: {"userId": "", "seatIds": [seat(s)]}, JSON, 400, "VALIDATION_ERROR"),
    ("userId too long", lambda s: {"userId": "x" * 65, "seatIds": [seat(s)]}, JSON, 400, "VALIDATION_ERROR"),
    ("userId with a control char", lambda s: {"userId": "a\nb", "seatIds": [seat(s)]}, JSON, 400,
     "VALIDATION_ERROR"),
    ("userId with a lone surrogate", b'{"userId": "\\ud800", "seatIds": ["1"]}', JSON, 400, "VALIDATION_ERROR"),
    ("seatIds not a list", lambda s: {"userId": "ann", "seatIds": seat(s)}, JSON, 400, "VALIDATION_ERROR"),
    ("seatIds empty", lambda s: {"userId": "ann", "seatIds": []}, JSON, 400, "VALIDATION_ERROR"),
    ("seat id a number", lambda s: {"userId": "ann", "seatIds": [s[0]]}, JSON, 400, "VALIDATION_ERROR"),
    ("seat id null", lambda s: {"userId": "ann", "seatIds": [None]}, JSON, 400, "VALIDATION_ERROR"),
    ("seat id garbage", lambda s: {"userId": "ann", "seatIds": ["A1"]}, JSON, 400, "VALIDATION_ERROR"),
    ("seat id huge", lambda s: {"userId": "ann", "seatIds": ["9" * 40]}, JSON, 400, "VALIDATION_ERROR"),
    ("too many seats", lambda s: {"userId": "ann", "seatIds": [str(x) for x in s[:11]]}, JSON, 400,
     "VALIDATION_ERROR"),
    ("repeated seat", lambda s: {"userId": "ann", "seatIds": [seat(s), seat(s)]}, JSON, 400, "VALIDATION_ERROR"),
    ("repeated seat, other spelling", lambda s: {"userId": "ann", "seatIds": [seat(s), "0" + seat(s)]}, JSON,
     400, "VALIDATION_ERROR"),
    ("unknown seat", lambda s: {"userId": "ann", "seatIds": ["999999999"]}, JSON, 400, "VALIDATION_ERROR"),
    ("unknown field", lambda s: {"userId": "ann", "seatIds": [seat(s)], "price": 0}, JSON, 400,
     "VALIDATION_ERROR"),
    ("deeply nested", b'{"userId": ' + b"[" * 30000 + b"]" * 30000 + b"}", JSON, 400, "VALIDATION_ERROR"),
    ("huge body", lambda s: {"userId": "ann", "seatIds": [seat(s)], "pad": "x" * 70000}, JSON, 413,
     "PAYLOAD_TOO_LARGE"),
    ("text/plain", lambda s: {"userId": "ann", "seatIds": [seat(s)]}, {"Content-Type": "text/plain"}, 415,
     "UNSUPPORTED_MEDIA_TYPE"),
    ("empty Idempotency-Key", lambda s: {"userId": "ann", "seatIds": [seat(s)]},
     {**JSON, "Idempotency-Key": ""}, 400, "VALIDATION_ERROR"),
    ("Idempotency-Key too long", lambda s: {"userId": "ann", "seatIds": [seat(s)]},
     {**JSON, "Idempotency-Key": "k" * 256}, 400, "VALIDATION_ERROR"),
    ("Idempotency-Key not ASCII", lambda s: {"userId": "ann", "seatIds": [seat(s)]},
     {**JSON, "Idempotency-Key": "clé"}, 400, "VALIDATION_ERROR"),
]


def assert_contract_error(response, status, code):
    assert response.status_code == status, response.body
    body = json.loads(response.body)
    assert body["error"] == code and isinstance(body["message"], str) and body["message"]
    assert "Traceback" not in response.body.decode()


@pytest.mark.parametrize("case, body, headers, status, code", BAD_BOOKINGS, ids=[case[0] for case in BAD_BOOKINGS])
def test_bad_booking_request(client, booking_path, seat_ids, sql, show, case, body, headers, status, code):
    raw = body if isinstance(body, bytes) else json.dumps(body(seat_ids)).encode()
    assert_contract_error(client.http.post(booking_path, headers=headers, body=raw), status, code)
    assert sql("SELECT count(*) FROM bookings WHERE show_id = :show", show=show.id)[0][0] == 0


def test_seats_of_another_show(client, make_show, booking_path, sql):
    other = make_show(rows=1, seats_per_row=1)
    foreign = str(sql("SELECT id FROM seats WHERE show_id = :show", show=other.id)[0][0])
    body = json.dumps({"userId": "ann", "seatIds": [foreign]})
    assert_contract_error(client.http.post(booking_path, headers=JSON, body=body), 400, "VALIDATION_ERROR")


@pytest.mark.parametrize("show_id", [str(uuid.uuid4()), "not-a-uuid", "1", "%00"])
def test_unknown_show(client, show_id, seat_ids):
    body = json.dumps({"userId": "ann", "seatIds": [str(seat_ids[0])]})
    assert_contract_error(client.http.post(f"/shows/{show_id}/bookings", headers=JSON, body=body), 404, "NOT_FOUND")
    assert_contract_error(client.http.get(f"/shows/{show_id}"), 404, "NOT_FOUND")
    assert_contract_error(client.http.get(f"/shows/{show_id}/seats"), 404, "NOT_FOUND")


def test_show_started(client, make_show, sql):
    show = make_show(rows=1, seats_per_row=1)
    sql("UPDATE shows SET start_time = now() - interval '1 second' WHERE id = :id", id=show.id)
    seat_id = str(sql("SELECT id FROM seats WHERE show_id = :show", show=show.id)[0][0])
    response = client.http.post(f"/shows/{show.id}/bookings", headers=JSON,
                                body=json.dumps({"userId": "ann", "seatIds": [seat_id]}))
    assert_contract_error(response, 409, "SHOW_STARTED")


def test_seat_taken_is_409_listing_the_seats(client, booking_path, seat_ids):
    body = json.dumps({"userId": "ann", "seatIds": [str(seat_ids[0])]})
    assert client.http.post(booking_path, headers=JSON, body=body).status_code == 201
    response = client.http.post(booking_path, headers=JSON, body=body)
    assert_contract_error(response, 409, "SEAT_UNAVAILABLE")
    assert json.loads(response.body) == {"error": "SEAT_UNAVAILABLE", "message": "Seat unavailable",
                                         "seatIds": [str(seat_ids[0])]}


def test_idempotency_key_reused_is_422(client, booking_path, seat_ids):
    headers = {**JSON, "Idempotency-Key": "reuse"}
    first = json.dumps({"userId": "ann", "seatIds": [str(seat_ids[0])]})
    assert client.http.post(booking_path, headers=headers, body=first).status_code == 201
    other = json.dumps({"userId": "ann", "seatIds": [str(seat_ids[1])]})
    assert_contract_error(client.http.post(booking_path, headers=headers, body=other), 422, "IDEMPOTENCY_KEY_REUSED")


@pytest.mark.parametrize("authorization, status, code", [
    (None, 401, "UNAUTHORIZED"),
    ("", 401, "UNAUTHORIZED"),
    ("Basic abc", 401, "UNAUTHORIZED"),
    ("Bearer", 401, "UNAUTHORIZED"),
    ("Bearer wrong-token", 403, "FORBIDDEN"),
    ("Bearer " + "x" * 600, 401, "UNAUTHORIZED"),
])
def test_booking_token_checks(client, booking_path, seat_ids, authorization, status, code):
    created = client.http.post(booking_path, headers=JSON,
                               body=json.dumps({"userId": "ann", "seatIds": [str(seat_ids[0])]}))
    booking_id = json.loads(created.body)["id"]
    headers = {} if authorization is None else {"Authorization": authorization}
    assert_contract_error(client.http.get(f"/bookings/{booking_id}", headers=headers), status, code)
    assert_contract_error(client.http.delete(f"/bookings/{booking_id}", headers=headers), status, code)


def test_unknown_booking(client):
    headers = {"Authorization": "Bearer whatever"}
    assert_contract_error(client.http.get(f"/bookings/{uuid.uuid4()}", headers=headers), 404, "NOT_FOUND")
    assert_contract_error(client.http.get("/bookings/nope", headers=headers), 404, "NOT_FOUND")


def test_wrong_method(client, show):
    assert_contract_error(client.http.put(f"/shows/{show.id}", headers=JSON, body=b"{}"), 405, "METHOD_NOT_ALLOWED")


def test_unhandled_bug_is_a_contract_shaped_500_without_trace(client, show, monkeypatch):
    from chalicelib import services

    monkeypatch.setattr(services, "get_show", lambda show_id: 1 / 0)
    response = client.http.get(f"/shows/{show.id}")
    assert_contract_error(response, 500, "INTERNAL_ERROR")


def test_database_unavailable_is_503_with_retry_after(client, monkeypatch):
    from chalicelib import services
    from chalicelib.errors import Unavailable

    def down(*args, **kwargs):
        raise Unavailable()

    monkeypatch.setattr(services, "list_shows", down)
    response = client.http.get("/shows")
    assert_contract_error(response, 503, "UNAVAILABLE")
    assert response.headers["Retry-After"] == "1"


CREATE_SHOW_BAD_EVENTS = [
    ({"name": "x", "startTime": "2031-01-01T20:00:00", "rows": 1, "seatsPerRow": 1}, "UTC offset"),
    ({"name": "x", "startTime": "2001-01-01T20:00:00Z", "rows": 1, "seatsPerRow": 1}, "future"),
    ({"name": "x", "startTime": "tomorrow", "rows": 1, "seatsPerRow": 1}, "ISO-8601"),
    ({"name": "x", "startTime": "2031-01-01T20:00:00Z", "rows": 27, "seatsPerRow": 1}, "rows"),
    ({"name": "x", "startTime": "2031-01-01T20:00:00Z", "rows": 1, "seatsPerRow": 101}, "seatsPerRow"),
    ({"name": "x", "startTime": "2031-01-01T20:00:00Z", "rows": True, "seatsPerRow": 1}, "rows"),
    ({"name": "x", "startTime": "2031-01-01T20:00:00Z", "rows": "2", "seatsPerRow": 1}, "rows"),
    ({"name": "", "startTime": "2031-01-01T20:00:00Z", "rows": 1, "seatsPerRow": 1}, "name"),
    ({"name": "   ", "startTime": "2031-01-01T20:00:00Z", "rows": 1, "seatsPerRow": 1}, "name"),
    ({"startTime": "2031-01-01T20:00:00Z", "rows": 1, "seatsPerRow": 1}, "name"),
    (["not", "an", "object"], "object"),
]


@pytest.mark.parametrize("event, mentions", CREATE_SHOW_BAD_EVENTS)
def test_create_show_refuses_bad_events_with_a_validation_error(client, event, mentions, sql, database_url):
    before = sql("SELECT count(*) FROM shows")[0][0]
    with pytest.raises(Exception) as raised:
        client.lambda_.invoke("create_show", event)
    assert type(raised.value).__name__ == "VALIDATION_ERROR"
    assert mentions in str(raised.value)
    assert sql("SELECT count(*) FROM shows")[0][0] == before


def test_create_show_builds_the_layout(client, sql, database_url):
    show = client.lambda_.invoke("create_show", {"name": "Gala", "startTime": "2031-06-01T18:00:00+02:00",
                                                 "rows": 3, "seatsPerRow": 4}).payload
    assert show["startTime"] == "2031-06-01T16:00:00Z" and show["totalSeats"] == show["availableSeats"] == 12
    seats = json.loads(client.http.get(f"/shows/{show['id']}/seats").body)["seats"]
    assert [(seat["row"], seat["number"]) for seat in seats] == [(row, n) for row in "ABC" for n in range(1, 5)]
