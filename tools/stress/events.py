"""A request to the API in the forms the load tools send it: a `Request`, the API Gateway
REST (v1) proxy event and the Lambda context the handler receives for it, and the `Answer`
read back from an HTTP response or from the proxy response a handler returns.

The one event builder of the load tooling: the stress targets (simulated containers, the
deployed function), the bench's handler path and the storm's containers all use it.
"""
import base64
import json
import os
import re
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Dict, Mapping, Optional, Tuple

STAGE = "api"  # Chalice's default stage name: the API lives under /api
# The routes of app.py the tools use (tests check they match the app's).
ROUTES = ("/shows", "/shows/{show_id}", "/shows/{show_id}/seats", "/shows/{show_id}/availability",
          "/shows/{show_id}/layout", "/shows/{show_id}/bookings", "/bookings/{booking_id}",
          "/shows/{show_id}/holds", "/holds/{hold_id}", "/holds/{hold_id}/confirm")
USER_AGENT = "modex-stress/1"
API_ID = "modexstress"


@dataclass(frozen=True)
class Request:
    method: str
    path: str  # under /api, e.g. "/shows/<id>/bookings"
    body: Optional[dict] = None
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass
class Answer:
    """One request's outcome. `status` is None when no HTTP answer came (timeout, connection
    error, function error); `error` then says what happened."""
    status: Optional[int]
    body: Any = None
    headers: Dict[str, str] = field(default_factory=dict)  # lower-case names
    started: float = 0.0  # time.monotonic(): one clock for all processes of this machine
    ended: float = 0.0
    error: Optional[str] = None

    @property
    def latency(self) -> float:
        return self.ended - self.started

    @property
    def error_code(self) -> Optional[str]:
        return self.body.get("error") if isinstance(self.body, dict) else None


def no_answer(error: str, started: Optional[float] = None) -> Answer:
    now = time.monotonic()
    return Answer(status=None, error=error, started=started or now, ended=now)


def parse_body(raw: bytes) -> Any:
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return raw.decode("utf-8", "replace")


def _route_pattern(template: str) -> "re.Pattern":
    return re.compile("^" + re.sub(r"\\{(\w+)\\}", r"(?P<\1>[^/]+)", re.escape(template)) + "$")


_ROUTE_PATTERNS = [(template, _route_pattern(template)) for template in ROUTES]


def match_route(path: str) -> Tuple[str, Dict[str, str]]:
    """(resource template, path parameters) for a concrete API path."""
    for template, pattern in _ROUTE_PATTERNS:
        found = pattern.match(path)
        if found:
            return template, found.groupdict()
    raise ValueError(f"no route for {path}")


def api_gateway_event(request: Request, request_id: Optional[str] = None) -> dict:
    """The REST API (v1) proxy event API Gateway hands the Lambda function for `request`."""
    resource, params = match_route(request.path)
    headers = {"Accept": "application/json", "User-Agent": USER_AGENT, "X-Forwarded-Proto": "https",
               "Host": f"{API_ID}.execute-api.us-east-1.amazonaws.com"}
    body = None
    if request.body is not None:
        body = json.dumps(request.body)
        headers["Content-Type"] = "application/json"
    headers.update(request.headers)
    request_id = request_id or str(uuid.uuid4())
    now = time.time()
    return {
        "resource": resource,
        "path": request.path,
        "httpMethod": request.method,
        "headers": headers,
        "multiValueHeaders": {name: [value] for name, value in headers.items()},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": params or None,
        "stageVariables": None,
        "requestContext": {
            "resourcePath": resource,
            "httpMethod": request.method,
            "path": f"/{STAGE}{request.path}",
            "stage": STAGE,
            "requestId": request_id,
            "extendedRequestId": request_id,
            "accountId": "000000000000",
            "apiId": API_ID,
            "resourceId": "stress",
            "protocol": "HTTP/1.1",
            "requestTime": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "requestTimeEpoch": int(now * 1000),
            "identity": {"sourceIp": "127.0.0.1", "userAgent": USER_AGENT},
        },
        "body": body,
        "isBase64Encoded": False,
    }


def proxy_answer(response: Mapping, started: float, ended: float) -> Answer:
    """An Answer from the proxy response a handler returns ({statusCode, headers, body})."""
    headers = {name.lower(): str(value) for name, value in (response.get("headers") or {}).items()}
    for name, values in (response.get("multiValueHeaders") or {}).items():
        headers[name.lower()] = ", ".join(str(value) for value in values)
    raw = response.get("body") or ""
    raw = base64.b64decode(raw) if response.get("isBase64Encoded") else raw.encode("utf-8")
    return Answer(status=int(response["statusCode"]), body=parse_body(raw), headers=headers,
                  started=started, ended=ended)


class LambdaContext:
    """What the Lambda runtime passes as `context` (the attributes handlers read)."""

    def __init__(self, function_name: str = "modex-dev", memory_limit_in_mb: int = 512, timeout_s: float = 30,
                 request_id: Optional[str] = None):
        self.function_name = function_name
        self.function_version = "$LATEST"
        self.invoked_function_arn = f"arn:aws:lambda:us-east-1:000000000000:function:{function_name}"
        self.memory_limit_in_mb = str(memory_limit_in_mb)
        self.aws_request_id = request_id or str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{function_name}"
        self.log_stream_name = f"stress/[$LATEST]{os.getpid()}"
        self.identity = None
        self.client_context = None
        self._deadline = time.monotonic() + timeout_s

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))

