"""Where the stress tool sends its requests.

- `HttpTarget` (`--url BASE`): the site's origin; requests go to BASE/api/..., one HTTP
  connection per simulated client.
- `ContainersTarget` (`--containers N`): N forked OS processes, each a simulated Lambda
  container that imported the app once, owns one database connection, and serves one
  request at a time by calling the real handler `app.app(event, context)` with an API
  Gateway REST proxy event, as the Lambda runtime does.
- `LambdaTarget` (`--lambda NAME`): the deployed API handler, invoked through boto3 with the
  same proxy event (InvocationType RequestResponse).

Every target answers a `Request` with an `Answer`; `burst` releases many requests at one
moment (a barrier) and is what a race uses.
"""
import base64
import http.client
import json
import multiprocessing
import os
import queue
import re
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Tuple
from urllib.parse import urlsplit

STAGE = "api"  # Chalice's default stage name: the API lives under /api
# The routes of app.py the tool uses (tests check they match the app's).
ROUTES = ("/shows", "/shows/{show_id}", "/shows/{show_id}/seats", "/shows/{show_id}/bookings",
          "/bookings/{booking_id}")
USER_AGENT = "modex-stress/1"


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


def _parse_body(raw: bytes) -> Any:
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return raw.decode("utf-8", "replace")


# --- API Gateway proxy events ------------------------------------------------------------

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
    headers = {"Accept": "application/json", "User-Agent": USER_AGENT, "X-Forwarded-Proto": "https"}
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
            "apiId": "modexstress",
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
    return Answer(status=int(response["statusCode"]), body=_parse_body(raw), headers=headers,
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


# --- targets --------------------------------------------------------------------------------

class Client:
    """One simulated client (a browser tab, a phone): sends requests one after another."""

    def prepare(self) -> None:
        """Gets ready to send (e.g. connects) so that set-up is not part of a race."""

    def call(self, request: Request) -> Answer:
        raise NotImplementedError

    def close(self) -> None:
        pass


class Target:
    name = "target"

    def client(self) -> Client:
        raise NotImplementedError

    def call(self, request: Request) -> Answer:
        client = self.client()
        try:
            return client.call(request)
        finally:
            client.close()

    def burst(self, requests: Sequence[Request], timeout: float,
              on_answer: Callable[[int], None] = lambda count: None) -> List[Answer]:
        """Sends every request from its own client, all released at once by a barrier."""
        clients = [self.client() for _ in requests]
        answers: List[Optional[Answer]] = [None] * len(requests)
        barrier = threading.Barrier(len(requests))

        def run(index: int) -> None:
            try:
                clients[index].prepare()
            except Exception as error:  # counted as this request's answer, never raised
                answers[index] = no_answer(f"{type(error).__name__}: {error}")
            try:
                barrier.wait(timeout)
            except threading.BrokenBarrierError:
                answers[index] = answers[index] or no_answer("barrier broken (a client could not start)")
                return
            if answers[index] is None:
                answers[index] = clients[index].call(requests[index])
            # One request per racer: hang up now, so a server with a fixed pool of workers
            # does not keep one waiting on this idle keep-alive connection.
            clients[index].close()
            on_answer(1)

        threads = [threading.Thread(target=run, args=(index,), daemon=True) for index in range(len(requests))]
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 2 * timeout + 5
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        for client in clients:
            client.close()
        return [answer or no_answer("timeout: no answer in time") for answer in answers]

    def close(self) -> None:
        pass


class HttpClient(Client):
    # A server may drop a keep-alive connection that sat idle (the local server after 5 s);
    # a request sent on it would fail without being handled. Reconnect before that instead.
    IDLE_RECONNECT_S = 2.0

    def __init__(self, target: "HttpTarget"):
        self.target = target
        self.connection: Optional[http.client.HTTPConnection] = None
        self.last_used = 0.0

    def _connection(self) -> http.client.HTTPConnection:
        if self.connection is not None and self.last_used and \
                time.monotonic() - self.last_used > self.IDLE_RECONNECT_S:
            self.close()
        if self.connection is None:
            self.last_used = 0.0
            kind = http.client.HTTPSConnection if self.target.scheme == "https" else http.client.HTTPConnection
            self.connection = kind(self.target.host, self.target.port, timeout=self.target.timeout)
        return self.connection

    def prepare(self) -> None:
        self._connection().connect()

    def call(self, request: Request) -> Answer:
        headers = {"Accept": "application/json", "User-Agent": USER_AGENT}
        body = None
        if request.body is not None:
            body = json.dumps(request.body).encode()
            headers["Content-Type"] = "application/json"
        headers.update(request.headers)
        started = time.monotonic()
        try:
            connection = self._connection()
            connection.request(request.method, self.target.api_path + request.path, body=body, headers=headers)
            response = connection.getresponse()
            raw = response.read()
            ended = self.last_used = time.monotonic()
            if response.will_close:
                self.close()
        except Exception as error:  # timeouts, resets: an answer of their own, counted
            self.close()
            kind = "timeout" if isinstance(error, TimeoutError) else type(error).__name__
            return no_answer(f"{kind}: {error}", started)
        return Answer(status=response.status, body=_parse_body(raw),
                      headers={name.lower(): value for name, value in response.getheaders()},
                      started=started, ended=ended)

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()
            self.connection = None


class HttpTarget(Target):
    def __init__(self, base_url: str, timeout: float = 30):
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"--url must be an http(s) origin such as http://127.0.0.1:8000, not {base_url!r}")
        self.scheme, self.host = parts.scheme, parts.hostname
        self.port = parts.port or (443 if parts.scheme == "https" else 80)
        path = parts.path.rstrip("/")
        # BASE is the site's origin; tolerate a BASE that already ends in /api.
        self.api_path = path if path.endswith("/" + STAGE) else f"{path}/{STAGE}"
        self.timeout = timeout
        self.name = f"url {parts.scheme}://{parts.netloc}{self.api_path}"

    def client(self) -> Client:
        return HttpClient(self)


class EventClient(Client):
    """A client of a target that takes API Gateway proxy events (containers, the deployed function)."""

    def __init__(self, target):
        self.target = target

    def call(self, request: Request) -> Answer:
        return self.target.invoke(api_gateway_event(request))


# --- simulated Lambda containers ---------------------------------------------------------

def _invoke(handler, event: dict, timeout_s: float) -> Answer:
    context = LambdaContext(request_id=event["requestContext"]["requestId"], timeout_s=timeout_s)
    started = time.monotonic()
    try:
        response = handler(event, context)
    except Exception as error:  # the runtime would report a function error
        return no_answer(f"function error: {type(error).__name__}: {error}", started)
    return proxy_answer(response, started, time.monotonic())


def _container_main(connection, barrier, timeout_s: float) -> None:
    """One simulated Lambda container: cold start once, then serve one request at a time."""
    try:
        import app as app_module  # the cold start: Chalice, chalicelib, pg8000
        from chalicelib import db
        handler = app_module.app
        db.connection()  # a warm container holds its connection from an earlier request
        connection.send(("ready", os.getpid()))
    except BaseException as error:
        connection.send(("failed", f"{type(error).__name__}: {error}"))
        return
    try:
        while True:
            try:
                job = connection.recv()
            except EOFError:
                return
            if job is None:
                return
            kind, events = job
            if kind == "batch":
                try:
                    barrier.wait(timeout_s)
                except threading.BrokenBarrierError:
                    connection.send([no_answer("barrier broken (a container did not start)") for _ in events])
                    continue
            connection.send([_invoke(handler, event, timeout_s) for event in events])
    finally:
        db.close()


class ContainersTarget(Target):
    """N forked processes. Requests go to whichever container is idle, one at a time each,
    as Lambda routes them; a burst gives each container its share behind one barrier."""

    def __init__(self, count: int, timeout: float = 30, start_timeout: float = 60):
        if count < 1:
            raise ValueError("--containers must be at least 1")
        self.count, self.timeout = count, timeout
        self.name = f"containers {count}"
        context = multiprocessing.get_context("fork")
        self.barrier = context.Barrier(count)
        self.connections, self.processes = [], []
        for _ in range(count):
            parent_end, child_end = context.Pipe()
            process = context.Process(target=_container_main, args=(child_end, self.barrier, timeout), daemon=True)
            process.start()
            child_end.close()
            self.connections.append(parent_end)
            self.processes.append(process)
        self.idle: "queue.Queue[int]" = queue.Queue()
        deadline = time.monotonic() + start_timeout
        try:
            for index, connection in enumerate(self.connections):
                if not connection.poll(max(0.0, deadline - time.monotonic())):
                    raise RuntimeError(f"container {index} did not start within {start_timeout:.0f} s")
                status, detail = connection.recv()
                if status != "ready":
                    raise RuntimeError(f"container {index} failed to start: {detail}")
                self.idle.put(index)
        except BaseException:
            self.close()
            raise

    def client(self) -> Client:
        return EventClient(self)

    def _exchange(self, index: int, job, count: int, wait: float) -> List[Answer]:
        connection = self.connections[index]
        connection.send(job)
        if not connection.poll(wait):
            # A late answer would be taken for the next job's: this container is retired.
            self.connections[index] = None
            return [no_answer(f"timeout: container {index} did not answer within {wait:.0f} s")] * count
        return connection.recv()

    def invoke(self, event: dict) -> Answer:
        started = time.monotonic()
        try:
            index = self.idle.get(timeout=self.timeout)
        except queue.Empty:
            return no_answer("timeout: no container became idle", started)
        answer = self._exchange(index, ("one", [event]), 1, self.timeout)[0]
        if self.connections[index] is not None:
            self.idle.put(index)
        return answer

    def burst(self, requests: Sequence[Request], timeout: float,
              on_answer: Callable[[int], None] = lambda count: None) -> List[Answer]:
        events = [api_gateway_event(request) for request in requests]
        # Take every container (none is busy between scenario steps), deal the events out.
        indices = [self.idle.get(timeout=timeout) for _ in range(self.count)]
        shares = {index: list(range(slot, len(events), self.count)) for slot, index in enumerate(indices)}
        for index in indices:
            self.connections[index].send(("batch", [events[i] for i in shares[index]]))
        answers: List[Optional[Answer]] = [None] * len(events)
        deadline = time.monotonic() + timeout * max(1, len(events) // self.count + 1) + 5
        for index in indices:
            connection = self.connections[index]
            if connection.poll(max(0.0, deadline - time.monotonic())):
                for position, answer in zip(shares[index], connection.recv()):
                    answers[position] = answer
                self.idle.put(index)
            else:
                self.connections[index] = None
            on_answer(len(shares[index]))
        return [answer or no_answer("timeout: container did not answer in time") for answer in answers]

    def close(self) -> None:
        for connection in self.connections:
            if connection is not None:
                try:
                    connection.send(None)
                except (OSError, ValueError):
                    pass
        for process in self.processes:
            process.join(5)
            if process.is_alive():
                process.terminate()
                process.join(5)


# --- the deployed function ---------------------------------------------------------------

class LambdaTarget(Target):
    """The deployed API handler through boto3; one shared client (boto3 clients are
    thread-safe), its pool as large as the widest burst, and no automatic retries: a retried
    request would hide a throttle and change what raced."""

    def __init__(self, function_name: str, timeout: float = 30, region: Optional[str] = None,
                 max_concurrency: int = 50, lambda_client=None):
        self.function_name, self.timeout = function_name, timeout
        self.name = f"lambda {function_name}"
        if lambda_client is None:
            import boto3  # only this target needs it (~0.1 s to import)
            from botocore.config import Config

            config = Config(max_pool_connections=max(10, max_concurrency), connect_timeout=min(10.0, timeout),
                            read_timeout=timeout, retries={"total_max_attempts": 1, "mode": "standard"})
            lambda_client = boto3.client("lambda", region_name=region, config=config)
        self.lambda_client = lambda_client

    def client(self) -> Client:
        return EventClient(self)

    def invoke(self, event: dict) -> Answer:
        from botocore.exceptions import BotoCoreError, ClientError

        started = time.monotonic()
        try:
            response = self.lambda_client.invoke(FunctionName=self.function_name, InvocationType="RequestResponse",
                                                 Payload=json.dumps(event).encode())
            payload = response["Payload"].read()
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "ClientError")
            if code == "TooManyRequestsException":  # Lambda's own throttle (concurrency limit)
                return Answer(status=429, body={"error": "THROTTLED", "message": str(error)},
                              started=started, ended=time.monotonic())
            return no_answer(f"{code}: {error}", started)
        except BotoCoreError as error:
            kind = "timeout" if "timeout" in type(error).__name__.lower() else type(error).__name__
            return no_answer(f"{kind}: {error}", started)
        ended = time.monotonic()
        if response.get("FunctionError"):
            return no_answer(f"function error: {payload[:300].decode('utf-8', 'replace')}", started)
        try:
            return proxy_answer(json.loads(payload), started, ended)
        except (ValueError, KeyError, TypeError) as error:
            return no_answer(f"not a proxy response: {error}: {payload[:200]!r}", started)
