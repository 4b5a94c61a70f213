"""Where the stress tool sends its requests.

- `HttpTarget` (`--url BASE`): the site's origin; requests go to BASE/api/..., one HTTP
  connection per simulated client.
- `ContainersTarget` (`--containers N`, in containers.py): N forked OS processes, each a
  simulated Lambda container that imported the app once, owns one database connection, and
  serves one request at a time by calling the real handler `app.app(event, context)` with an
  API Gateway REST proxy event, as the Lambda runtime does.
- `LambdaTarget` (`--lambda NAME`): the deployed API handler, invoked through boto3 with the
  same proxy event (InvocationType RequestResponse).

Every target answers a `Request` with an `Answer`; `burst` releases many requests at one
moment (a barrier) and is what a race uses. Requests, answers and the proxy event they
travel in are in events.py.
"""
import http.client
import json
import threading
import time
from typing import Callable, List, Optional, Sequence
from urllib.parse import urlsplit

from .events import STAGE, USER_AGENT, Answer, Request, api_gateway_event, no_answer, parse_body, proxy_answer


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
        return Answer(status=response.status, body=parse_body(raw),
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
