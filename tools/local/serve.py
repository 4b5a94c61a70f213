"""The local server: `frontend/` at `/` and the Chalice app under `/api/`, the path API
Gateway gives it (Chalice's default stage is named `api`), on one threaded HTTP server.

It behaves like a fleet of warm Lambda containers: a fixed pool of worker threads, each
owning one database connection that it reuses (a thread per HTTP connection would open a
database connection per request and exhaust `max_connections` under a burst). Chalice keeps
the in-flight request on the app object (aws/chalice#759), which threads would overwrite;
`thread_local_requests` gives each thread its own. Requests are never serialised.
"""
import json
import mimetypes
import os
import sys
import threading
import traceback
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

from chalice.config import Config
from chalice.local import LocalGateway, LocalGatewayException

from chalicelib.validation import MAX_BODY_BYTES

ROOT = Path(__file__).resolve().parents[2]
FRONTEND_DIR = ROOT / "frontend"
API_PREFIX = "/api"
# Like a stage's reserved concurrency: at most this many requests (and database
# connections) at once; more wait in the listen backlog.
DEFAULT_WORKERS = int(os.environ.get("MODEX_LOCAL_WORKERS", 32))
mimetypes.add_type("text/javascript", ".js")


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


def _json_error(status: int, code: str, message: str) -> tuple:
    return status, {"Content-Type": "application/json"}, json.dumps({"error": code, "message": message}).encode()


class ModexHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # An idle keep-alive connection gives its worker back after this many seconds.
    timeout = 5
    # Headers and body go out in two writes; with Nagle on, a keep-alive client's delayed ACK
    # held every response back ~40 ms (bench: 21 bookings/s over HTTP; 0.7 ms/request without).
    disable_nagle_algorithm = True
    server: "ModexServer"

    def log_message(self, format, *args):
        if self.server.verbose:
            super().log_message(format, *args)

    def _handle(self):
        path = self.path.split("?", 1)[0]
        if path == API_PREFIX or path.startswith(API_PREFIX + "/"):
            status, headers, body = self._api(path[len(API_PREFIX):] or "/")
        elif self.command in ("GET", "HEAD"):
            status, headers, body = self._static(path)
        else:
            status, headers, body = _json_error(405, "METHOD_NOT_ALLOWED", "This method is not allowed here.")
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _handle

    def _api(self, path: str) -> tuple:
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if self.headers.get("Transfer-Encoding"):
            self.close_connection = True  # the chunked body is not read: don't parse it as a request
            return _json_error(400, "VALIDATION_ERROR", "Send the body with a Content-Length, not chunked.")
        if not 0 <= length <= MAX_BODY_BYTES:
            self.close_connection = True  # an unread body must not be taken for the next request
            if length < 0:
                return _json_error(400, "VALIDATION_ERROR", "Content-Length must be a whole number.")
            return _json_error(413, "PAYLOAD_TOO_LARGE", "The request body is larger than 64 KiB.")
        body = self.rfile.read(length) if length else b""
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

    def __init__(self, address, app, frontend_dir: Path = FRONTEND_DIR, verbose: bool = False,
                 workers: int = DEFAULT_WORKERS):
        thread_local_requests(app)
        self.gateway = LocalGateway(app, Config())
        self.frontend_dir = frontend_dir
        self.verbose = verbose
        self.workers = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="modex-worker")
        super().__init__(address, ModexHandler)

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


def make_server(host: str = "127.0.0.1", port: int = 8000, verbose: bool = False, **options) -> ModexServer:
    from app import app

    return ModexServer((host, port), app, verbose=verbose, **options)


if __name__ == "__main__":
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 8000
    make_server(port=port, verbose=True).serve_forever()
