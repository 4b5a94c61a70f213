"""The time budget of one invocation: every wait on the network ends before the caller stops
waiting for us.

API Gateway gives up on a request after 29 s and answers with its own 5xx; Lambda kills the
function at its timeout. Either way the buyer would not get the contract's JSON 503. So a
request handler opens `invocation(context)`, and while it is open every wait derives its limit
from the time left: the connect timeout, the secret read, each transaction's `SET LOCAL
statement_timeout` and `lock_timeout`, and the socket timeout of every statement. A database
that never answers then becomes UNAVAILABLE with ANSWER_MARGIN_MS to spare.

Outside an invocation (the local tools, tests, a context without a clock) nothing is capped and
the configured timeouts apply as they are. The arithmetic is plain functions of "milliseconds
left", so unit tests check it without a clock.
"""
import threading
import time
from contextlib import contextmanager
from typing import Optional, Tuple

from .errors import Unavailable

GATEWAY_TIMEOUT_MS = 29_000  # API Gateway's REST integration timeout (a hard limit)
# Kept back from the deadline to drop the connection, write the log line and return the 503.
ANSWER_MARGIN_MS = 500
# The statement timeout ends this long before the socket's, so PostgreSQL's own cancel
# (57014, the connection stays usable) arrives before the client gives up on the socket.
SERVER_CANCEL_MS = 250
# Below this, asking the database is pointless: answer UNAVAILABLE at once.
MIN_WAIT_MS = 100

# Secrets Manager on a cold start: two attempts of (connect + read) and botocore's standard
# backoff before the retry, at most 1 s (rand(0, 1) * 2**0): 2 * (1 + 2) + 1 = 7 s at worst.
SECRET_CONNECT_S = 1.0
SECRET_READ_S = 2.0
SECRET_ATTEMPTS = 2
SECRET_BACKOFF_MAX_S = 1.0
# The secret may use at most this share of what is left; the rest is for connecting to the
# database and running the request's transaction.
SECRET_SHARE = 0.5

_local = threading.local()


def deadline_in_ms(remaining_ms: float, gateway_elapsed_ms: float = 0) -> float:
    """How long from now waits may last: until the earlier of the function's timeout and API
    Gateway's, less the margin for answering."""
    return min(remaining_ms, GATEWAY_TIMEOUT_MS - gateway_elapsed_ms) - ANSWER_MARGIN_MS


@contextmanager
def invocation(context, request_time_epoch_ms: Optional[float] = None):
    """Bounds every database wait in the block by the context's remaining time (and by API
    Gateway's 29 s counted from `request_time_epoch_ms`, when the event says when it arrived).
    A context without `get_remaining_time_in_millis` (tools calling the app) sets no bound."""
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    if remaining is None:
        yield
        return
    elapsed = 0.0
    if request_time_epoch_ms is not None:
        elapsed = max(0.0, time.time() * 1000 - request_time_epoch_ms)
    previous = getattr(_local, "deadline", None)
    _local.deadline = time.monotonic() + deadline_in_ms(remaining(), elapsed) / 1000
    try:
        yield
    finally:
        _local.deadline = previous


def left_ms() -> Optional[float]:
    """Milliseconds left for waiting in this thread's invocation; None outside one."""
    deadline = getattr(_local, "deadline", None)
    return None if deadline is None else (deadline - time.monotonic()) * 1000


def _ensure_time(left: Optional[float]) -> None:
    if left is not None and left < MIN_WAIT_MS:
        raise Unavailable()


def socket_timeout_s(configured_s: float, left: Optional[float]) -> float:
    """The socket timeout for one wait (connecting: TCP, TLS, authentication; or one
    statement's answer): the configured one, cut to the time left."""
    _ensure_time(left)
    return configured_s if left is None else min(configured_s, left / 1000)


def transaction_timeouts(statement_ms: int, lock_ms: int, left: Optional[float]) -> Tuple[int, int]:
    """(statement_timeout, lock_timeout) for a transaction starting now: the configured ones,
    cut so that PostgreSQL cancels a statement before the socket would give up on it."""
    if left is None:
        return statement_ms, lock_ms
    statement = int(min(statement_ms, left - SERVER_CANCEL_MS))
    if statement < MIN_WAIT_MS:
        raise Unavailable()
    return statement, min(lock_ms, statement)


def secret_client_limits(left: Optional[float]) -> Tuple[float, float, int]:
    """(connect timeout s, read timeout s, total attempts) for reading the database secret: two
    attempts when they fit in the secret's share of the time left, else one, shortened to fit."""
    _ensure_time(left)
    if left is None:
        return SECRET_CONNECT_S, SECRET_READ_S, SECRET_ATTEMPTS
    share_s = SECRET_SHARE * left / 1000
    one_attempt_s = SECRET_CONNECT_S + SECRET_READ_S
    if share_s >= SECRET_ATTEMPTS * one_attempt_s + SECRET_BACKOFF_MAX_S:
        return SECRET_CONNECT_S, SECRET_READ_S, SECRET_ATTEMPTS
    scale = min(1.0, share_s / one_attempt_s)
    return SECRET_CONNECT_S * scale, SECRET_READ_S * scale, 1
