"""Every method on every route of the running local server, answered in the contract's shape:
JSON with `Content-Type: application/json` and `{"error", "message"}` for every refusal, 405 with
an `Allow` header for a method a path does not serve (TRACE included, never the standard
library's HTML 501), HEAD as GET without the body, and the security headers on every answer.
Also what happens to a body the server will not read."""
import http.client
import json
import socket
import uuid
from urllib.parse import urlsplit

import pytest

from chalicelib.security_headers import SECURITY_HEADERS

METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE")
NO_SUCH_ID = "00000000-0000-4000-8000-000000000000"

# path (SHOW stands for a real show's id) -> {served method: the status its probe gets}. The
# probes change nothing: a body of `{}` is refused as incomplete, a route that needs a token
# gets none. Any method not listed must be 405 naming exactly the listed ones.
ROUTES = {
    "/api/shows": {"GET": 200, "HEAD": 200},
    "/api/shows/SHOW": {"GET": 200, "HEAD": 200},
    "/api/shows/SHOW/seats": {"GET": 200, "HEAD": 200},
    "/api/shows/SHOW/availability": {"GET": 200, "HEAD": 200},
    "/api/shows/SHOW/layout": {"GET": 200, "HEAD": 200},
    "/api/shows/SHOW/bookings": {"POST": 400},
    "/api/shows/SHOW/holds": {"POST": 400},
    f"/api/bookings/{NO_SUCH_ID}": {"GET": 401, "HEAD": 401, "DELETE": 401},
    f"/api/holds/{NO_SUCH_ID}": {"GET": 401, "HEAD": 401, "DELETE": 401},
    f"/api/holds/{NO_SUCH_ID}/confirm": {"POST": 401},
    "/": {"GET": 200, "HEAD": 200},
    "/css/app.css": {"GET": 200, "HEAD": 200},
}
# Unknown paths: 404 whatever the method (under /api, as API Gateway answers an unknown
# resource), and outside it a page that is not there, where only GET and HEAD are served.
UNKNOWN = {
    "/api/no-such-route": {method: 404 for method in METHODS},
    "/no-such-page.html": {"GET": 404, "HEAD": 404},
}
PAGES = {"/": "text/html", "/css/app.css": "text/css"}
CODES = {400: "VALIDATION_ERROR", 401: "UNAUTHORIZED", 404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED"}


def exchange(base_url, method, path, body=None, headers=None):
    """(status, headers, raw body) of one request on a connection of its own."""
    address = urlsplit(base_url)
    connection = http.client.HTTPConnection(address.hostname, address.port, timeout=30)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.headers, response.read()
    finally:
        connection.close()


def expected_answer(served, method):
    """(status, Allow header or None) for `method` on a path serving `served`."""
    if method in served:
        return served[method], None
    return 405, ", ".join(served)


def check_security_headers(headers):
    for name, value in SECURITY_HEADERS.items():
        assert headers[name] == value, name


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("route", list(ROUTES) + list(UNKNOWN))
def test_every_method_on_every_route(live_server, show, route, method):
    served = {**ROUTES, **UNKNOWN}[route]
    path = route.replace("SHOW", str(show.id))
    body = b"{}" if method in ("POST", "PUT", "PATCH") else None
    status, headers, raw = exchange(live_server, method, path, body,
                                    {"Content-Type": "application/json"} if body else None)

    want_status, want_allow = expected_answer(served, method)
    assert status == want_status, raw[:200]
    assert headers.get("Allow") == want_allow
    check_security_headers(headers)
    content_type = headers.get("Content-Type", "")
    if route in PAGES and status == 200:
        assert content_type.startswith(PAGES[route])
    else:
        assert content_type == "application/json"
    if method == "HEAD":
        assert raw == b""
        get_status, get_headers, get_raw = exchange(live_server, "GET", path)
        assert (status, content_type) == (get_status, get_headers["Content-Type"])
        assert int(headers["Content-Length"]) == len(get_raw)  # GET's answer, without its body
        return
    if status >= 400:
        answer = json.loads(raw)
        assert set(answer) == {"error", "message"} and answer["message"]
        assert answer["error"] == CODES[status]
    elif content_type == "application/json":
        assert isinstance(json.loads(raw), dict)


def raw_exchange(base_url, request: bytes) -> bytes:
    """Sends raw bytes and reads the answer until the server closes the connection."""
    address = urlsplit(base_url)
    with socket.create_connection((address.hostname, address.port), timeout=10) as connection:
        connection.sendall(request)
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
    return answer


def split_answer(answer: bytes):
    head, _, body = answer.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in header_lines)
    return int(status_line.split()[1]), headers, body


@pytest.mark.parametrize("request_bytes, status", [
    (b"GET / extra HTTP/1.1\r\nHost: x\r\n\r\n", 400),  # four words: not a request line
    (b"GET /" + b"a" * 70_000 + b" HTTP/1.1\r\n\r\n", 414),  # a request line over 64 KiB
    (b"GET / HTTP/1.1\r\nHost: x\r\n" + b"X-Long: " + b"a" * 70_000 + b"\r\n\r\n", 431),  # a header line
])
def test_malformed_requests_are_answered_in_json(live_server, request_bytes, status):
    """The standard library's own refusals come in the contract's shape, not its HTML page."""
    answer_status, headers, body = split_answer(raw_exchange(live_server, request_bytes))
    assert answer_status == status
    assert headers["Content-Type"] == "application/json"
    check_security_headers(headers)
    answer = json.loads(body)
    assert set(answer) == {"error", "message"} and answer["error"] == "VALIDATION_ERROR"


@pytest.mark.parametrize("size", [65 * 1024, 8 * 1024 * 1024])
def test_an_oversized_body_gets_its_413(live_server, show, size):
    """The server refuses without reading the body, then drains it: a client still sending sees
    the 413, never a connection reset (which closing on unread data would cause)."""
    status, headers, raw = exchange(live_server, "POST", f"/api/shows/{show.id}/bookings", b"x" * size,
                                    {"Content-Type": "application/json"})
    assert status == 413 and headers["Connection"] == "close"
    assert json.loads(raw) == {"error": "PAYLOAD_TOO_LARGE", "message": "The request body is larger than 64 KiB."}


def test_a_body_sent_to_a_page_is_not_taken_for_the_next_request(live_server):
    """Keep-alive: the body of a refused POST is read, so the next request on the connection
    is answered as itself."""
    address = urlsplit(live_server)
    connection = http.client.HTTPConnection(address.hostname, address.port, timeout=10)
    try:
        connection.request("POST", "/", body=b"GET /no-such-page.html HTTP/1.1\r\n\r\n")
        first = connection.getresponse()
        assert first.status == 405 and json.loads(first.read())["error"] == "METHOD_NOT_ALLOWED"
        connection.request("GET", f"/api/shows/{uuid.uuid4()}")
        second = connection.getresponse()
        assert second.status == 404 and json.loads(second.read())["message"] == "No such show."
    finally:
        connection.close()
