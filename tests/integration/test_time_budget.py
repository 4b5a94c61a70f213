"""A database that never answers becomes the contract's 503 before the invocation's deadline.

The real handler (`app.app(event, context)`) gets an API Gateway event and a Lambda context with
3 s left, while the configured timeouts alone would wait far longer (connect 10 s, statement
20 s). The answer must be 503 UNAVAILABLE in JSON, and it must come while the context still
has time left: a bound on the budget, not a speed benchmark.
"""
import json
import select
import socket
import threading
import time
from dataclasses import replace

import pytest

import app as modex
from chalicelib import db
from tools.stress.events import LambdaContext, Request, api_gateway_event

BUDGET_S = 3
PATIENT = dict(connect_timeout_s=10, statement_timeout_ms=20_000, lock_timeout_ms=20_000)


class SilentServer:
    """Accepts TCP connections on 127.0.0.1 and never sends a byte."""

    def __init__(self):
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.accepted = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                self.accepted.append(self.listener.accept()[0])
            except OSError:
                return

    def close(self):
        self.listener.close()
        for con in self.accepted:
            con.close()


class BlackHole:
    """A port whose SYNs go unanswered: a listener that never accepts, its queue filled, so
    Linux drops further connection attempts as a firewall or a dead host would."""

    def __init__(self):
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(0)
        self.port = self.listener.getsockname()[1]
        self.fillers = []
        for _ in range(8):
            filler = socket.socket()
            filler.settimeout(0.3)
            try:
                filler.connect(("127.0.0.1", self.port))
            except socket.timeout:
                filler.close()
                return  # the queue is full: connecting now hangs
            self.fillers.append(filler)
        raise RuntimeError("could not fill the listen queue")

    def close(self):
        for filler in self.fillers:
            filler.close()
        self.listener.close()


class FreezableProxy:
    """Forwards TCP on 127.0.0.1 to the test database until frozen; then it stops passing bytes
    either way and leaves every connection open: the database went silent mid-session."""

    def __init__(self, upstream: db.config.DatabaseSettings):
        self.upstream = upstream
        self.frozen = threading.Event()
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.sockets = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _dial(self):
        if self.upstream.unix_sock:
            upstream = socket.socket(socket.AF_UNIX)
            upstream.connect(self.upstream.unix_sock)
            return upstream
        return socket.create_connection((self.upstream.host, self.upstream.port))

    def _accept(self):
        while True:
            try:
                client = self.listener.accept()[0]
            except OSError:
                return
            self.sockets.append(client)
            if not self.frozen.is_set():
                upstream = self._dial()
                self.sockets.append(upstream)
                threading.Thread(target=self._pump, args=(client, upstream), daemon=True).start()

    def _pump(self, client, upstream):
        peers = {client: upstream, upstream: client}
        while not self.frozen.is_set():
            try:
                readable, _, _ = select.select(list(peers), [], [], 0.05)
                for source in readable:
                    data = source.recv(65536)
                    if not data:
                        return
                    if not self.frozen.is_set():
                        peers[source].sendall(data)
            except OSError:
                return

    def close(self):
        self.frozen.set()
        self.listener.close()
        for sock in self.sockets:
            sock.close()


@pytest.fixture
def database_at(database_url):
    """Points the app's database at 127.0.0.1:<port>, with patient configured timeouts."""
    settings = db.settings()

    def point(port):
        db.configure(replace(settings, host="127.0.0.1", port=port, unix_sock=None, sslmode="disable", **PATIENT))

    yield point
    db.configure(settings)


def booking_event(show_id="6f1c2d84-2a53-4c61-9d2b-3c1b3b1a7e10"):
    return api_gateway_event(Request("POST", f"/shows/{show_id}/bookings", {"userId": "ann", "seatIds": ["1"]}))


def answer_within_budget(event):
    context = LambdaContext(timeout_s=BUDGET_S)
    response = modex.app(event, context)
    left_ms = context.get_remaining_time_in_millis()
    return response, left_ms


def assert_unavailable_in_time(response, left_ms):
    assert response["statusCode"] == 503
    assert json.loads(response["body"])["error"] == "UNAVAILABLE"
    assert response["headers"]["Retry-After"] == "1"
    assert left_ms > 0, "the answer came after the context's deadline"


@pytest.mark.parametrize("dead_database", [SilentServer, BlackHole], ids=["accepts-and-never-answers",
                                                                         "black-hole-on-connect"])
def test_a_dead_database_is_503_within_the_budget(database_at, dead_database):
    server = dead_database()
    try:
        database_at(server.port)
        response, left_ms = answer_within_budget(booking_event())
    finally:
        server.close()
    assert_unavailable_in_time(response, left_ms)


def test_a_database_silent_mid_session_is_503_within_the_budget(database_at, show, seat_ids):
    """The connection is up and warm; then the database stops answering. Only the socket
    timeout, set from the time left, can end the wait (the server never sees the statement)."""
    proxy = FreezableProxy(db.settings())
    try:
        database_at(proxy.port)
        warm = modex.app(api_gateway_event(Request("GET", f"/shows/{show.id}")), LambdaContext(timeout_s=30))
        assert warm["statusCode"] == 200
        proxy.frozen.set()
        response, left_ms = answer_within_budget(booking_event(show.id))
    finally:
        proxy.close()
    assert_unavailable_in_time(response, left_ms)


def test_without_a_budget_the_configured_connect_timeout_applies(database_at):
    """Tools call the app without a Lambda context: the connect timeout alone bounds the wait."""
    server = SilentServer()
    try:
        database_at(server.port)
        db.configure(replace(db.settings(), connect_timeout_s=0.5))
        started = time.monotonic()
        response = modex.app(booking_event(), None)
        waited = time.monotonic() - started
    finally:
        server.close()
    assert response["statusCode"] == 503
    assert 0.4 < waited < BUDGET_S
