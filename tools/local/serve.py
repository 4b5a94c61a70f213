"""The local server: `frontend/` at `/` and the Chalice app under `/api/`, the path API
Gateway gives it (Chalice's default stage is named `api`), on one threaded HTTP server.

It behaves like a fleet of warm Lambda containers: a fixed pool of worker threads, each
owning one database connection that it reuses (a thread per HTTP connection would open a
database connection per request and exhaust `max_connections` under a burst). Chalice keeps
the in-flight request on the app object (aws/chalice#759), which threads would overwrite;
`thread_local_requests` gives each thread its own. Requests are never serialised.

With `processes` > 1 (`make run`: one per CPU) the server forks copies of itself that accept
on the same listening socket, the workers shared out between them: one Python process's
threads take turns on its interpreter (about 1 ms of CPU a request), so a burst of 50 would
otherwise queue for one CPU, not for the database.

Every answer is the contract's: JSON errors `{"error", "message"}` with `Content-Type:
application/json` (the standard library's own HTML error pages included), 405 with an `Allow`
header for any method a path does not serve (TRACE, CONNECT and made-up ones too, which Chalice
cannot route), and the security headers of `chalicelib/security_headers.py` on pages and API
answers alike.
"""
import json
import mimetypes
import math
import os
import signal
import socket
import sys
import threading
import time
import traceback
from concurrent.futures import ThreadPoolExecutor
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

from chalice.config import Config
from chalice.local import LocalGateway, LocalGatewayException, RouteMatcher

from chalicelib.security_headers import SECURITY_HEADERS
from chalicelib.validation import MAX_BODY_BYTES

ROOT = Path(__file__).resolve().parents[2]
FRONTEND_DIR = ROOT / "frontend"
API_PREFIX = "/api"
# Like a stage's reserved concurrency: at most this many requests (and database
# connections) at once; more wait in the listen backlog.
DEFAULT_WORKERS = int(os.environ.get("MODEX_LOCAL_WORKERS", 32))
DEFAULT_PROCESSES = int(os.environ.get("MODEX_LOCAL_PROCESSES", os.cpu_count() or 1))
mimetypes.add_type("text/javascript", ".js")
# The methods API Gateway (and so Chalice) can route; any other never reaches the app.
GATEWAY_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
STATIC_METHODS = ("GET", "HEAD")
# How long a body the server refused without reading is drained before the connection closes.
LINGER_SECONDS = 2


def thread_local_requests(app) -> None:
    """Makes `app.current_request` and `app.lambda_context` per thread."""
    state = threading.local()

    def per_thread(name):
        return property(lambda self: getattr(state, name, None), lambda self, value: setattr(state, name, value))

    base = type(app)
    if getattr(base, "_modex_thread_local", False):
        return
    app.__class__ = type(f"ThreadLocal{base.__name__}", (base,), {
        "current_request": per_thread("current_request"),
        "lambda_context": per_thread("lambda_context"),
        "_modex_thread_local": True,
    })


def _json_error(status: int, code: str, message: str, headers: dict = None) -> tuple:
    headers = {"Content-Type": "application/json", **(headers or {})}
    return status, headers, json.dumps({"error": code, "message": message}).encode()


def _method_not_allowed(allowed: str) -> tuple:
    return _json_error(405, "METHOD_NOT_ALLOWED", "This method is not allowed here.", {"Allow": allowed})


def _standard_refusal_code(status: int) -> str:
    """The contract's code for a refusal of the standard library's own (a malformed request
    line, an over-long URL or header line, an unknown HTTP version)."""
    named = {404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED", 413: "PAYLOAD_TOO_LARGE"}
    return named.get(status, "INTERNAL_ERROR" if status == 500 else "VALIDATION_ERROR")


class ModexHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # An idle keep-alive connection gives its worker back after this many seconds.
    timeout = 5
    # Headers and body go out in two writes; with Nagle on, a keep-alive client's delayed ACK
    # held every response back ~40 ms (bench: 21 bookings/s over HTTP; 0.7 ms/request without).
    disable_nagle_algorithm = True
    server: "ModexServer"
    body_unread = False  # set when a request is refused before its body was read

    def log_message(self, format, *args):
        if self.server.verbose:
            super().log_message(format, *args)

    def __getattr__(self, name):
        # The standard library looks up do_<METHOD> and answers an HTML 501 when there is none;
        # every method, TRACE and made-up ones included, is answered here instead.
        if name.startswith("do_"):
            return self._handle
        raise AttributeError(name)

    def _handle(self):
        path = self.path.split("?", 1)[0]
        body = self._read_body()
        if isinstance(body, tuple):
            answer = body  # refused before its body was read
        elif path == API_PREFIX or path.startswith(API_PREFIX + "/"):
            answer = self._api(path[len(API_PREFIX):] or "/", body)
        elif self.command in STATIC_METHODS:
            answer = self._static(path)
        else:
            answer = _method_not_allowed(", ".join(STATIC_METHODS))
        self._answer(*answer)
        if self.body_unread:
            self._linger()

    def _answer(self, status: int, headers: dict, body: bytes) -> None:
        self.send_response(status)
        for name, value in {**SECURITY_HEADERS, **headers}.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def send_error(self, code, message=None, explain=None):
        """The standard library's own refusals, in the contract's shape instead of its HTML page."""
        self.close_connection = True
        status = HTTPStatus(code)
        self._answer(*_json_error(status, _standard_refusal_code(status), explain or message or status.description))

    def _refuse_unread_body(self, answer: tuple) -> tuple:
        """A refusal sent without reading the request's body: the body must not be taken for the
        next request, so the connection closes, after `_linger`."""
        self.close_connection = True
        self.body_unread = True
        return answer

    def _linger(self) -> None:
        """Closing a socket with unread data makes the kernel send a reset, which can destroy the
        answer before the client reads it (a client still sending a big body sees ECONNRESET,
        not the 413). So: send the answer, half-close, and drain what still comes for a while."""
        try:
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_WR)
            self.connection.settimeout(LINGER_SECONDS)
            deadline = time.monotonic() + LINGER_SECONDS
            while time.monotonic() < deadline and self.connection.recv(65536):
                pass
        except OSError:
            pass  # the client is gone: nothing left to protect

    def _read_body(self):
        """The request's body (bytes, on every path, so that a keep-alive connection never takes
        a body for the next request), or the refusal (a tuple) of one it will not read."""
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if self.headers.get("Transfer-Encoding"):
            return self._refuse_unread_body(
                _json_error(400, "VALIDATION_ERROR", "Send the body with a Content-Length, not chunked."))
        if length < 0:
            return self._refuse_unread_body(_json_error(400, "VALIDATION_ERROR", "Content-Length must be a whole number."))
        if length > MAX_BODY_BYTES:
            return self._refuse_unread_body(
                _json_error(413, "PAYLOAD_TOO_LARGE", "The request body is larger than 64 KiB."))
        return self.rfile.read(length) if length else b""

    def _api(self, path: str, body: bytes) -> tuple:
        if self.command not in GATEWAY_METHODS:
            return self._beyond_gateway(path)
        query = self.path.partition("?")[2]
        if query:
            path += "?" + query
        try:
            response = self.server.gateway.handle_request(self.command, path, dict(self.headers.items()), body)
        except LocalGatewayException:
            return _json_error(404, "NOT_FOUND", "No such API path.")
        except Exception:  # a bug: log it here, never send a trace to the client
            traceback.print_exc()
            return _json_error(500, "INTERNAL_ERROR", "Something went wrong on our side.")
        headers = dict(response.get("headers") or {})
        for name, values in (response.get("multiValueHeaders") or {}).items():
            headers[name] = ", ".join(values)
        payload = response.get("body") or b""
        return response["statusCode"], headers, payload.encode() if isinstance(payload, str) else payload

    def _beyond_gateway(self, path: str) -> tuple:
        """A method no route can declare (TRACE, CONNECT, …): 404 for an unknown path, as for
        any method, else 405 naming the methods the path does serve."""
        try:
            route = self.server.route_matcher.match_route(path).route
        except ValueError:
            return _json_error(404, "NOT_FOUND", "No such API path.")
        return _method_not_allowed(self.server.served_methods[route])

    def _static(self, path: str) -> tuple:
        relative = path.lstrip("/") or "index.html"
        root = self.server.frontend_dir.resolve()
        target = (root / relative).resolve()
        if target.is_dir():
            target = target / "index.html"
        if root not in target.parents or not target.is_file():
            return _json_error(404, "NOT_FOUND", "No such page.")
        content_type = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        if content_type.startswith("text/") or content_type == "application/json":
            content_type += "; charset=utf-8"
        return 200, {"Content-Type": content_type, "Cache-Control": "no-cache"}, target.read_bytes()


class ModexServer(HTTPServer):
    # A sale is a burst: the default backlog of 5 resets connections of a 50-way race.
    request_queue_size = 512

    def __init__(self, address, app, served_methods: dict, frontend_dir: Path = FRONTEND_DIR,
                 verbose: bool = False, workers: int = DEFAULT_WORKERS, processes: int = 1):
        thread_local_requests(app)
        self.gateway = LocalGateway(app, Config())
        self.route_matcher = RouteMatcher(list(app.routes))
        self.served_methods = served_methods  # route -> its Allow header
        self.frontend_dir = frontend_dir
        self.verbose = verbose
        self.workers = ThreadPoolExecutor(max_workers=math.ceil(workers / processes),
                                          thread_name_prefix="modex-worker")
        self.parent_pid = os.getpid()
        self.children = []
        super().__init__(address, ModexHandler)
        if processes > 1:
            self._fork(processes - 1)

    def _fork(self, count: int) -> None:
        """Copies of this server that accept on the same socket; each opens its own database
        connections (chalicelib.db forgets the parent's at a fork). Non-blocking accept: every
        waiting process wakes for a connection, the ones that lose it go back to waiting."""
        self.socket.setblocking(False)
        for _ in range(count):
            pid = os.fork()
            if pid == 0:
                signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
                signal.signal(signal.SIGTERM, signal.SIG_DFL)
                try:
                    self.serve_forever()
                finally:
                    os._exit(0)
            self.children.append(pid)

    def service_actions(self):
        if os.getpid() != self.parent_pid and os.getppid() != self.parent_pid:
            os._exit(0)  # a copy whose parent is gone (killed without stopping it) stops too

    def process_request(self, request, client_address):
        self.workers.submit(self._serve_connection, request, client_address)

    def _serve_connection(self, request, client_address):
        try:
            self.finish_request(request, client_address)
        except Exception:
            self.handle_error(request, client_address)
        finally:
            self.shutdown_request(request)

    def server_close(self):
        super().server_close()
        self.workers.shutdown(wait=False, cancel_futures=True)
        for pid in self.children:
            try:
                os.kill(pid, signal.SIGTERM)
                os.waitpid(pid, 0)
            except (ProcessLookupError, ChildProcessError):  # already gone and reaped
                pass
        self.children = []


def make_server(host: str = "127.0.0.1", port: int = 8000, verbose: bool = False, **options) -> ModexServer:
    from app import SERVED_METHODS, app

    return ModexServer((host, port), app, SERVED_METHODS, verbose=verbose, **options)


if __name__ == "__main__":
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 8000
    make_server(port=port, verbose=True, processes=DEFAULT_PROCESSES).serve_forever()
