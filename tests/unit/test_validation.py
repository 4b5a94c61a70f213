"""Request parsing and validation, no I/O."""
import json
from datetime import datetime, timedelta, timezone

import pytest

from chalicelib import validation
from chalicelib.errors import NotFound, PayloadTooLarge, Unauthorized, ValidationError
from chalicelib.layout import grid

NOW = datetime(2030, 1, 1, tzinfo=timezone.utc)


def body(**fields):
    return json.dumps(fields).encode()


def test_booking_request_sorts_and_parses_seat_ids():
    parsed = validation.booking_request(body(userId="Zoë 🎟", seatIds=["30", "4", "12"]))
    assert parsed.user_id == "Zoë 🎟" and parsed.seat_ids == (4, 12, 30)


def test_fingerprint_ignores_seat_order_but_not_content():
    a = validation.booking_request(body(userId="ann", seatIds=["1", "2"]))
    b = validation.booking_request(body(userId="ann", seatIds=["2", "1"]))
    c = validation.booking_request(body(userId="ann", seatIds=["1", "3"]))
    d = validation.booking_request(body(userId="bob", seatIds=["1", "2"]))
    assert a.fingerprint() == b.fingerprint()
    assert len({a.fingerprint(), c.fingerprint(), d.fingerprint()}) == 3


@pytest.mark.parametrize("raw, fragment", [
    (b"", "JSON object"),
    (b"null", "JSON object"),
    (b"{", "not valid JSON"),
    (b"\xff\xfe", "UTF-8"),
    (body(userId="ann"), "seatIds is required"),
    (body(seatIds=["1"]), "userId is required"),
    (body(userId=None, seatIds=["1"]), "userId must be a string"),
    (body(userId="a" * 65, seatIds=["1"]), "1 to 64"),
    (body(userId="a\u0007", seatIds=["1"]), "control characters"),
    (body(userId="ann", seatIds={"1": True}), "list"),
    (body(userId="ann", seatIds=[]), "1 to 10"),
    (body(userId="ann", seatIds=[str(n) for n in range(1, 12)]), "1 to 10"),
    (body(userId="ann", seatIds=["1", "1"]), "repeat"),
    (body(userId="ann", seatIds=["1", "01"]), "repeat"),
    (body(userId="ann", seatIds=[1]), "seat id strings"),
    (body(userId="ann", seatIds=["-1"]), "not a seat"),
    (body(userId="ann", seatIds=["１"]), "not a seat"),  # a full-width digit is not a seat id
    (body(userId="ann", seatIds=["1"], extra=1), "Unknown field: extra"),
])
def test_bad_booking_bodies(raw, fragment):
    with pytest.raises(ValidationError, match=fragment):
        validation.booking_request(raw)


def test_body_over_64_kib_is_too_large():
    with pytest.raises(PayloadTooLarge):
        validation.booking_request(b" " * (64 * 1024 + 1))
    validation.check_body_size(b" " * (64 * 1024))
    with pytest.raises(PayloadTooLarge):
        validation.check_body_size(b" " * (64 * 1024 + 1))


@pytest.mark.parametrize("value", ["nope", "", "123", "00000000-0000-0000-0000-00000000000g"])
def test_ids_that_are_not_uuids_name_nothing(value):
    with pytest.raises(NotFound):
        validation.show_id(value)
    with pytest.raises(NotFound):
        validation.booking_id(value)


@pytest.mark.parametrize("key, ok", [(None, True), ("a", True), ("k" * 255, True), ("", False), ("k" * 256, False),
                                     ("tab\there", False), ("é", False), ("~ !", True)])
def test_idempotency_key(key, ok):
    if ok:
        assert validation.idempotency_key(key) == key
    else:
        with pytest.raises(ValidationError):
            validation.idempotency_key(key)


@pytest.mark.parametrize("header, token", [("Bearer abc", "abc"), ("bearer  abc ", "abc"), ("BEARER x", "x")])
def test_bearer_token(header, token):
    assert validation.bearer_token(header) == token


@pytest.mark.parametrize("header", [None, "", "Bearer", "Bearer ", "Basic abc", "abc", "Bearer " + "x" * 513])
def test_missing_or_malformed_bearer_is_unauthorized(header):
    with pytest.raises(Unauthorized):
        validation.bearer_token(header)


@pytest.mark.parametrize("header, matches", [(None, False), ('"abc"', True), ('W/"abc"', True), ('"x", "abc"', True),
                                             ("*", True), ('"abcd"', False), ("abc", False)])
def test_etag_matches(header, matches):
    assert validation.etag_matches(header, '"abc"') is matches


def show_event(**overrides):
    return {"name": "Gala", "startTime": "2030-06-01T20:00:00+02:00", "rows": 3, "seatsPerRow": 4, **overrides}


def test_show_request_normalises_start_to_utc():
    request = validation.show_request(show_event(), now=NOW)
    assert request.start_time == datetime(2030, 6, 1, 18, tzinfo=timezone.utc)
    assert request.layout == grid(3, 4)
    assert (request.hold_minutes, request.max_seats_per_user) == (10, 10)
    assert validation.show_request(show_event(startTime="2030-06-01T20:00:00Z"), now=NOW).start_time.hour == 20


@pytest.mark.parametrize("overrides, fragment", [
    ({"startTime": "2030-06-01T20:00:00"}, "UTC offset"),
    ({"startTime": (NOW - timedelta(seconds=1)).isoformat()}, "future"),
    ({"startTime": "June 1st"}, "ISO-8601"),
    ({"rows": 0}, "between 1 and 26"),
    ({"rows": 27}, "between 1 and 26"),
    ({"seatsPerRow": 0}, "between 1 and 100"),
    ({"seatsPerRow": 101}, "between 1 and 100"),
    ({"rows": 2.0}, "whole number"),
    ({"rows": False}, "whole number"),
    ({"name": "x" * 201}, "1 to 200"),
    ({"name": " \t "}, "control characters|blank"),
    ({"colour": "red"}, "Unknown field"),
])
def test_bad_show_events(overrides, fragment):
    with pytest.raises(ValidationError, match=fragment):
        validation.show_request(show_event(**overrides), now=NOW)


def test_missing_show_fields():
    for field in ("name", "startTime", "rows", "seatsPerRow"):
        event = show_event()
        del event[field]
        with pytest.raises(ValidationError, match=f"{field} is required"):
            validation.show_request(event, now=NOW)
