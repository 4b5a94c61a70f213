"""A real local server (tools/serve.py) on a free 127.0.0.1 port, against this run's database."""
import json
import threading
import urllib.error
import urllib.request

import pytest

from tools.serve import make_server


@pytest.fixture(scope="session")
def live_server(database_url):
    """Base URL of the running server, e.g. http://127.0.0.1:54321 (API under /api)."""
    # 16 workers: enough to race, and leaves room under max_connections=100 for the
    # 50-connection races that run while this session-wide server is up.
    server = make_server(port=0, workers=16)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def http(method, url, body=None, headers=None, timeout=30):
    """(status, headers, parsed JSON body or raw bytes) without raising on 4xx/5xx."""
    data = body if isinstance(body, (bytes, type(None))) else json.dumps(body).encode()
    request_headers = {"Content-Type": "application/json"} if data is not None else {}
    request_headers.update(headers or {})
    request = urllib.request.Request(url, data=data, method=method, headers=request_headers)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            status, response_headers, raw = response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        status, response_headers, raw = error.code, dict(error.headers), error.read()
    try:
        return status, response_headers, json.loads(raw) if raw else None
    except ValueError:
        return status, response_headers, raw
