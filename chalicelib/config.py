"""Settings read from the environment once per container.

Locally the database is a `DATABASE_URL`; in AWS it is an RDS Proxy endpoint whose
credentials live in a Secrets Manager secret (`DATABASE_SECRET_ARN`).
"""
import os
from dataclasses import dataclass
from typing import Optional
from urllib.parse import parse_qs, unquote, urlsplit

SSL_MODES = ("disable", "require", "verify-full")


class ConfigError(ValueError):
    """The environment describes no usable database."""


@dataclass(frozen=True)
class DatabaseSettings:
    host: Optional[str] = None
    port: int = 5432
    database: str = "modex"
    user: Optional[str] = None
    password: Optional[str] = None
    unix_sock: Optional[str] = None
    sslmode: str = "disable"
    sslrootcert: Optional[str] = None
    secret_arn: Optional[str] = None
    # Much shorter than the statement timeout: a reachable proxy accepts, TLS and authentication
    # included, in well under 100 ms; waiting longer only eats the request's budget.
    connect_timeout_s: float = 2.0
    statement_timeout_ms: int = 5000
    lock_timeout_ms: int = 2000


def parse_database_url(url: str, **overrides) -> DatabaseSettings:
    """`postgresql://user[:password]@host[:port]/dbname[?host=/socket/dir&sslmode=...]`."""
    parts = urlsplit(url)
    if parts.scheme not in ("postgresql", "postgres"):
        raise ConfigError("DATABASE_URL must start with postgresql://")
    query = {name: values[-1] for name, values in parse_qs(parts.query).items()}
    socket_dir = query.get("host")
    sslmode = query.get("sslmode", "disable")
    if sslmode not in SSL_MODES:
        raise ConfigError(f"sslmode must be one of {', '.join(SSL_MODES)}")
    port = parts.port or int(query.get("port", 5432))
    return DatabaseSettings(
        host=None if socket_dir else (parts.hostname or "127.0.0.1"),
        port=port,
        database=unquote(parts.path.lstrip("/")) or "postgres",
        user=unquote(parts.username) if parts.username else "postgres",
        password=unquote(parts.password) if parts.password is not None else None,
        unix_sock=f"{socket_dir}/.s.PGSQL.{port}" if socket_dir else None,
        sslmode=sslmode,
        sslrootcert=query.get("sslrootcert"),
        **overrides,
    )


def database_settings(environ=os.environ) -> DatabaseSettings:
    """The database this process talks to, from `DATABASE_URL` or a secret ARN."""
    timeouts = dict(
        connect_timeout_s=float(environ.get("DB_CONNECT_TIMEOUT_S", 2)),
        statement_timeout_ms=int(environ.get("DB_STATEMENT_TIMEOUT_MS", 5000)),
        lock_timeout_ms=int(environ.get("DB_LOCK_TIMEOUT_MS", 2000)),
    )
    if environ.get("DATABASE_URL"):
        return parse_database_url(environ["DATABASE_URL"], **timeouts)
    if environ.get("DATABASE_SECRET_ARN"):
        sslmode = environ.get("DATABASE_SSLMODE", "verify-full")
        if sslmode not in SSL_MODES:
            raise ConfigError(f"DATABASE_SSLMODE must be one of {', '.join(SSL_MODES)}")
        return DatabaseSettings(
            host=environ.get("DATABASE_HOST"),
            port=int(environ.get("DATABASE_PORT", 5432)),
            database=environ.get("DATABASE_NAME", "modex"),
            sslmode=sslmode,
            sslrootcert=environ.get("DATABASE_SSLROOTCERT") or None,
            secret_arn=environ["DATABASE_SECRET_ARN"],
            **timeouts,
        )
    raise ConfigError("set DATABASE_URL or DATABASE_SECRET_ARN")


DEFAULT_FAILED_BOOKING_RETENTION_DAYS = 30


def failed_booking_retention_days(environ=os.environ) -> int:
    """How long refused attempts (FAILED bookings) are kept before the clean-up deletes them:
    `FAILED_BOOKING_RETENTION_DAYS`, at least 1 (an idempotent replay reads its FAILED booking
    for 24 hours)."""
    raw = environ.get("FAILED_BOOKING_RETENTION_DAYS", str(DEFAULT_FAILED_BOOKING_RETENTION_DAYS))
    try:
        days = int(raw)
    except ValueError:
        raise ConfigError("FAILED_BOOKING_RETENTION_DAYS must be a whole number of days") from None
    if days < 1:
        raise ConfigError("FAILED_BOOKING_RETENTION_DAYS must be at least 1")
    return days


# `make run`, the tests and the tools share this; a deployment sets its own (Secrets Manager).
LOCAL_IDEMPOTENCY_KEY_SECRET = "modex-local-idempotency-key-secret"


def idempotency_key_secret(environ=os.environ) -> bytes:
    """The per-deployment secret that Idempotency-Keys are HMAC'd with before they are stored:
    the `key` field of the JSON secret `IDEMPOTENCY_KEY_SECRET_ARN` names, else
    `IDEMPOTENCY_KEY_SECRET`, else the local default."""
    if environ.get("IDEMPOTENCY_KEY_SECRET_ARN"):
        from .credentials import read_secret

        return read_secret(environ["IDEMPOTENCY_KEY_SECRET_ARN"])["key"].encode()
    return environ.get("IDEMPOTENCY_KEY_SECRET", LOCAL_IDEMPOTENCY_KEY_SECRET).encode()
