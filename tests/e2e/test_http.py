"""The local server over real HTTP: the classic race, request isolation between threads,
and the server's own refusals in the contract's shape."""
import threading
import time
import urllib.request

import pytest

from chalicelib import services
from tests.support.http import http

RACERS = 50


@pytest.fixture
def in_flight(monkeypatch):
    """Counts how many bookings the server handles at the same moment (the peak)."""
    lock = threading.Lock()
    state = {"now": 0, "peak": 0}
    real_book_seats = services.book_seats

    def counting_book_seats(*args, **kwargs):
        with lock:
            state["now"] += 1
            state["peak"] = max(state["peak"], state["now"])
        try:
            time.sleep(0.005)  # widen the window so overlap is observable, not luck
            return real_book_seats(*args, **kwargs)
        finally:
            with lock:
                state["now"] -= 1

    monkeypatch.setattr(services, "book_seats", counting_book_seats)
    return state


def fire_together(requests):
    """Sends every (method, url, body, headers) at one moment; returns the answers in order."""
    barrier = threading.Barrier(len(requests))
    answers = [None] * len(requests)

    def send(index):
        method, url, body, headers = requests[index]
        barrier.wait(30)
        answers[index] = http(method, url, body, headers)

    threads = [threading.Thread(target=send, args=(index,)) for index in range(len(requests))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return answers


@pytest.mark.parametrize("round_number", range(3))
def test_fifty_concurrent_requests_for_one_seat(live_server, show, seat_ids, in_flight, round_number):
    url = f"{live_server}/api/shows/{show.id}/bookings"
    seat = str(seat_ids[round_number])
    answers = fire_together([("POST", url, {"userId": f"user-{i}", "seatIds": [seat]}, None) for i in range(RACERS)])
    statuses = sorted(status for status, _, _ in answers)
    assert statuses == [201] + [409] * (RACERS - 1), statuses
    refusals = [body for status, _, body in answers if status == 409]
    assert all(body == {"error": "SEAT_UNAVAILABLE", "message": "Seat unavailable", "seatIds": [seat]}
               for body in refusals)
    assert in_flight["peak"] > 1, "requests were serialised: nothing raced"
    seat_map = http("GET", f"{live_server}/api/shows/{show.id}/seats")[2]
    assert {s["id"]: s["status"] for s in seat_map["seats"]}[seat] == "BOOKED"


@pytest.fixture
def slow_request_start(monkeypatch):
    """Pauses between Chalice storing the request and the view reading it: the window in
    which a shared `app.current_request` would be overwritten by another thread."""
    from chalicelib import validation

    real_check = validation.check_body_size

    def pause_then_check(raw_body):
        time.sleep(0.005)
        real_check(raw_body)

    monkeypatch.setattr(validation, "check_body_size", pause_then_check)


def test_concurrent_requests_each_get_their_own_answer(live_server, make_show, in_flight, slow_request_start):
    """Chalice keeps the current request on the app; the server must make it per thread."""
    show = make_show(rows=4, seats_per_row=10)
    seats = [seat["id"] for seat in http("GET", f"{live_server}/api/shows/{show.id}/seats")[2]["seats"]]
    url = f"{live_server}/api/shows/{show.id}/bookings"
    requests = [("POST", url, {"userId": f"user-{i}", "seatIds": [seats[i]]}, {"Idempotency-Key": f"key-{i}"})
                for i in range(40)]
    answers = fire_together(requests)
    for index, (status, _, body) in enumerate(answers):
        assert status == 201, body
        assert body["userId"] == f"user-{index}" and [s["id"] for s in body["seats"]] == [seats[index]]
    reads = fire_together([("GET", f"{live_server}/api/bookings/{body['id']}", None,
                            {"Authorization": f"Bearer {body['bookingToken']}"}) for _, _, body in answers])
    assert [body["userId"] for _, _, body in reads] == [f"user-{i}" for i in range(40)]
    assert in_flight["peak"] > 1


def test_seat_map_etag_and_304(live_server, show, seat_ids):
    url = f"{live_server}/api/shows/{show.id}/seats"
    status, headers, body = http("GET", url)
    assert status == 200 and headers["ETag"] and len(body["seats"]) == show.total_seats
    status, _, body = http("GET", url, headers={"If-None-Match": headers["ETag"]})
    assert status == 304 and body is None
    http("POST", f"{live_server}/api/shows/{show.id}/bookings", {"userId": "ann", "seatIds": [str(seat_ids[0])]})
    assert http("GET", url, headers={"If-None-Match": headers["ETag"]})[0] == 200


@pytest.mark.parametrize("method, path, status, code", [
    ("GET", "/api/nope", 404, "NOT_FOUND"),
    ("GET", "/api", 404, "NOT_FOUND"),
    ("POST", "/api/shows", 405, "METHOD_NOT_ALLOWED"),
    ("GET", "/no-such-page.html", 404, "NOT_FOUND"),
    ("GET", "/../app.py", 404, "NOT_FOUND"),
    ("GET", "/%2e%2e/app.py", 404, "NOT_FOUND"),
])
def test_refusals_in_contract_shape(live_server, method, path, status, code):
    answer_status, _, body = http(method, live_server + path, b"{}" if method == "POST" else None)
    assert answer_status == status and body["error"] == code and body["message"]


def test_huge_body_is_413(live_server, show):
    status, _, body = http("POST", f"{live_server}/api/shows/{show.id}/bookings", b"x" * (65 * 1024))
    assert status == 413 and body["error"] == "PAYLOAD_TOO_LARGE"


def test_chunked_body_is_refused_and_the_connection_closed(live_server, show):
    import socket

    host, port = live_server.removeprefix("http://").split(":")
    body = b'{"userId": "ann", "seatIds": []}'
    request = (f"POST /api/shows/{show.id}/bookings HTTP/1.1\r\nHost: {host}\r\n"
               "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n").encode()
    request += b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body)
    with socket.create_connection((host, int(port)), timeout=10) as connection:
        connection.sendall(request)  # one write: the server may answer before reading the body
        answer = b""
        while chunk := connection.recv(65536):  # the server closes: recv returns b""
            answer += chunk
    head = answer.split(b"\r\n\r\n", 1)[0].decode()
    assert head.startswith("HTTP/1.1 400") and "Connection: close" in head


def test_frontend_is_served_at_root(live_server):
    with urllib.request.urlopen(live_server + "/", timeout=10) as response:
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/html")
        assert b"Modex" in response.read()
