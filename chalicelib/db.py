"""Connections and transactions.

One pg8000 connection per thread: a Lambda container runs one thread, so this is one
connection per container, created lazily and reused across invocations; the threaded local
server gets one per thread, because a pg8000 connection must never be shared between threads.

Every statement runs inside an explicit transaction whose timeouts are set with SET LOCAL:
that keeps Modex correct behind a transaction-pooling proxy (pgbouncer, RDS Proxy), where a
statement outside a transaction may land on another server connection (docs/design-notes.md).

Every wait is bounded twice: by the configured timeouts, and inside a request by the time the
invocation has left (chalicelib/budget.py). pg8000 has one socket timeout, which it gives
`socket.create_connection` and then keeps for every read; so this module sets it per phase:
the short connect timeout while connecting, then before each statement the statement timeout
(plus the connect timeout as slack), each cut to the time left.
"""
import os
import ssl
import threading
from contextlib import contextmanager
from typing import Optional

import pg8000.native
from pg8000.exceptions import DatabaseError, InterfaceError

from . import budget, config, credentials
from .errors import Unavailable

# SQLSTATEs that mean "try again later", not "your request is wrong".
DEADLOCK = "40P01"
LOCK_NOT_AVAILABLE = "55P03"
QUERY_CANCELED = "57014"
BUSY = {DEADLOCK, LOCK_NOT_AVAILABLE, QUERY_CANCELED}
# The server went away under us (shutdown, crash, admin kill): the connection is dead.
CONNECTION_LOST_PREFIXES = ("08", "57P")
AUTH_FAILED = {"28P01", "28000"}

_local = threading.local()
_settings: Optional[config.DatabaseSettings] = None


def _forget_parent_connections() -> None:
    # A forked child must not touch (or close) its parent's socket: start with none.
    global _local
    _local = threading.local()


os.register_at_fork(after_in_child=_forget_parent_connections)


def sqlstate(exc: BaseException) -> Optional[str]:
    """The SQLSTATE of a pg8000 error, or None for errors that carry none."""
    if isinstance(exc, DatabaseError) and exc.args and isinstance(exc.args[0], dict):
        return exc.args[0].get("C")
    return None


def settings() -> config.DatabaseSettings:
    global _settings
    if _settings is None:
        _settings = config.database_settings()
    return _settings


def configure(new_settings: Optional[config.DatabaseSettings]) -> None:
    """Points this process at another database (tests, tools); drops this thread's connection."""
    global _settings
    _settings = new_settings
    close()


def ssl_context_for(db: config.DatabaseSettings):
    if db.sslmode == "disable":
        return False  # pg8000 takes None as "try TLS, fall back to plain" (libpq's prefer)
    if db.sslmode == "require":
        # Encrypted but unauthenticated, as libpq's sslmode=require.
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        return context
    # verify-full: the chain must lead to sslrootcert (or the system store) and the
    # certificate must name the host we dialled.
    return ssl.create_default_context(cafile=db.sslrootcert)


def read_timeout_s(db: config.DatabaseSettings) -> float:
    """How long a read may wait when no invocation bounds it: the server cancels a statement at
    statement_timeout, and the connect timeout is the slack for its answer to arrive."""
    return db.connect_timeout_s + db.statement_timeout_ms / 1000


def _set_socket_timeout(con: pg8000.native.Connection, seconds: float) -> None:
    # pg8000 (1.31) keeps the socket it reads from in `_usock` (the TLS socket when TLS is on)
    # and offers no other way to change its timeout after connecting.
    con._usock.settimeout(seconds)


def connect(db: config.DatabaseSettings, refresh_secret: bool = False) -> pg8000.native.Connection:
    """A new connection: connecting waits at most the connect timeout (or the time the
    invocation has left); afterwards a read waits at most `read_timeout_s`."""
    user, password, host, port, database = db.user, db.password, db.host, db.port, db.database
    if db.secret_arn:
        secret = credentials.read_secret(db.secret_arn, refresh=refresh_secret)
        user, password = secret["username"], secret["password"]
        host = host or secret.get("host")
        port = int(secret.get("port", port))
        database = db.database or secret.get("dbname")
    con = pg8000.native.Connection(
        user=user,
        password=password,
        host=host or "127.0.0.1",
        port=port,
        database=database,
        unix_sock=db.unix_sock,
        ssl_context=ssl_context_for(db),
        timeout=budget.socket_timeout_s(db.connect_timeout_s, budget.left_ms()),
        application_name="modex",
    )
    _set_socket_timeout(con, read_timeout_s(db))
    return con


def _open_connection() -> pg8000.native.Connection:
    db = settings()
    try:
        try:
            return connect(db)
        except DatabaseError as exc:
            # A rotated password: re-read the secret once and try again.
            if db.secret_arn and sqlstate(exc) in AUTH_FAILED:
                return connect(db, refresh_secret=True)
            raise
    except (InterfaceError, OSError, DatabaseError) as exc:
        raise Unavailable() from exc


def connection() -> pg8000.native.Connection:
    con = getattr(_local, "connection", None)
    if con is None:
        con = _local.connection = _open_connection()
    return con


def close() -> None:
    """Closes this thread's connection, if any; the next transaction opens a new one."""
    con = getattr(_local, "connection", None)
    _local.connection = None
    if con is not None:
        try:
            con.close()
        except Exception:  # already broken: nothing to tell anyone
            pass


def _is_connection_lost(exc: BaseException) -> bool:
    state = sqlstate(exc)
    if state is not None:
        return state.startswith(CONNECTION_LOST_PREFIXES)
    return isinstance(exc, (InterfaceError, OSError))


def begin_statement(statement_timeout_ms: int, lock_timeout_ms: int) -> str:
    """Opens a transaction with its timeouts in one round trip (simple query protocol).
    SET LOCAL ends with the transaction, so no setting leaks to another client behind a pooler.
    standard_conforming_strings is on by default since PostgreSQL 9.1; the hot path writes its
    values into its statements as literals that rely on it (quotes doubled, backslashes plain),
    so each transaction says so itself rather than trust the server's or the session's setting."""
    return (
        "START TRANSACTION; "
        f"SET LOCAL statement_timeout = {int(statement_timeout_ms)}; "
        f"SET LOCAL lock_timeout = {int(lock_timeout_ms)}; "
        "SET LOCAL standard_conforming_strings = on"
    )


class BoundedConnection:
    """The connection a transaction block gets: before each statement, the socket timeout is
    set to what the invocation has left, so a transaction of several statements (not only each
    statement) ends by the deadline, even if the server never answers."""

    def __init__(self, con: pg8000.native.Connection, db: config.DatabaseSettings):
        self._con = con
        self._db = db

    def run(self, sql: str, **params):
        _set_socket_timeout(self._con, budget.socket_timeout_s(read_timeout_s(self._db), budget.left_ms()))
        return self._con.run(sql, **params)

    def __getattr__(self, name):
        return getattr(self._con, name)


def _begin(con: pg8000.native.Connection) -> BoundedConnection:
    db = settings()
    bounded = BoundedConnection(con, db)
    statement_ms, lock_ms = budget.transaction_timeouts(db.statement_timeout_ms, db.lock_timeout_ms,
                                                        budget.left_ms())
    bounded.run(begin_statement(statement_ms, lock_ms))
    return bounded


@contextmanager
def transaction():
    """Runs the block in one transaction: COMMIT when it ends, ROLLBACK when it raises.

    A connection found broken when the transaction starts is replaced once (a warm Lambda
    container's connection may have been closed by the proxy while it was frozen). A failure
    after that is final for this request: its outcome becomes UNAVAILABLE, and the connection is
    dropped so the next request starts afresh.
    """
    con = connection()
    try:
        con = _begin(con)
    except (InterfaceError, OSError, DatabaseError) as exc:
        if not _is_connection_lost(exc):
            raise
        close()
        con = connection()
        try:
            con = _begin(con)
        except (InterfaceError, OSError, DatabaseError) as retry_exc:
            close()
            raise Unavailable() from retry_exc
    try:
        yield con
    except (InterfaceError, OSError, DatabaseError) as exc:
        _rollback(con, exc)
        transient = as_unavailable(exc)
        if transient is None:
            raise
        raise transient from exc
    except BaseException as exc:
        _rollback(con, exc)
        raise
    try:
        con.run("COMMIT")
    except (InterfaceError, OSError, DatabaseError) as exc:
        _rollback(con, exc)
        raise Unavailable() from exc


def _rollback(con: BoundedConnection, cause: BaseException) -> None:
    if _is_connection_lost(cause):
        close()
        return
    try:
        con.run("ROLLBACK")  # out of time, it raises at once and the server rolls back on close
    except Exception:
        close()


def as_unavailable(exc: BaseException) -> Optional[Unavailable]:
    """The UNAVAILABLE error a transient database failure becomes, or None when it is not transient."""
    if sqlstate(exc) in BUSY:
        # Deadlock, lock timeout, statement timeout: the request was fine, the moment wasn't.
        return Unavailable("The database is busy right now; please try again.")
    if _is_connection_lost(exc):
        return Unavailable()
    return None
