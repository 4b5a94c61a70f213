"""Error mapping, SQLSTATE classification, configuration parsing. No I/O."""
import ssl

import pytest
from pg8000.exceptions import DatabaseError, InterfaceError

import app
from chalicelib import config, db, errors


def pg_error(code, constraint=None):
    fields = {"C": code, "M": "message", "S": "ERROR"}
    if constraint:
        fields["n"] = constraint
    return DatabaseError(fields)


def test_error_bodies_have_the_contract_shape():
    assert errors.NotFound().body() == {"error": "NOT_FOUND", "message": "Not found."}
    refusal = errors.SeatUnavailable(["7", "9"])
    assert (app.HTTP_ANSWERS[refusal.code][0], refusal.body()) == (409, {"error": "SEAT_UNAVAILABLE",
                                                                         "message": "Seat unavailable",
                                                                         "seatIds": ["7", "9"]})
    statuses = {cls.code: app.HTTP_ANSWERS[cls.code][0]
                for cls in (errors.ValidationError, errors.Unauthorized, errors.Forbidden, errors.ShowStarted,
                            errors.IdempotencyKeyReused, errors.PayloadTooLarge, errors.UnsupportedMediaType,
                            errors.Unavailable)}
    assert statuses == {"VALIDATION_ERROR": 400, "UNAUTHORIZED": 401, "FORBIDDEN": 403, "SHOW_STARTED": 409,
                        "IDEMPOTENCY_KEY_REUSED": 422, "PAYLOAD_TOO_LARGE": 413, "UNSUPPORTED_MEDIA_TYPE": 415,
                        "UNAVAILABLE": 503}


def test_lambda_error_type_names_the_code():
    raised = errors.as_lambda_error(errors.ValidationError("rows must be between 1 and 26."))
    assert type(raised).__name__ == "VALIDATION_ERROR" and str(raised) == "rows must be between 1 and 26."


@pytest.mark.parametrize("exc, transient", [
    (pg_error("40P01"), True),  # deadlock
    (pg_error("55P03"), True),  # lock timeout
    (pg_error("57014"), True),  # statement timeout
    (pg_error("57P01"), True),  # admin shutdown: connection gone
    (pg_error("08006"), True),  # connection failure
    (InterfaceError("network error"), True),
    (ConnectionResetError(), True),
    (pg_error("23505", "seat_bookings_show_seat_key"), False),  # a constraint is a bug here, not a 503
    (pg_error("42P01"), False),  # undefined table: a bug
])
def test_transient_database_failures_become_503(exc, transient):
    unavailable = db.as_unavailable(exc)
    assert (unavailable is not None) is transient
    if transient:
        assert app.HTTP_ANSWERS[unavailable.code][0] == 503 and unavailable.code == "UNAVAILABLE"


def test_sqlstate():
    exc = pg_error("23505", "idempotency_keys_pkey")
    assert db.sqlstate(exc) == "23505"
    assert db.sqlstate(ValueError()) is None


@pytest.mark.parametrize("url, expected", [
    ("postgresql://postgres@127.0.0.1:5432/modex",
     dict(host="127.0.0.1", port=5432, database="modex", user="postgres", password=None, unix_sock=None)),
    ("postgresql://u:p%40ss@db.example:6543/shop?sslmode=verify-full&sslrootcert=/ca.pem",
     dict(host="db.example", port=6543, user="u", password="p@ss", sslmode="verify-full", sslrootcert="/ca.pem")),
    ("postgresql://postgres:@/modex?host=/tmp/pg",
     dict(host=None, unix_sock="/tmp/pg/.s.PGSQL.5432", database="modex", password="")),
])
def test_parse_database_url(url, expected):
    settings = config.parse_database_url(url)
    assert {name: getattr(settings, name) for name in expected} == expected


@pytest.mark.parametrize("url", ["mysql://x/y", "postgresql://h/db?sslmode=prefer"])
def test_bad_database_urls(url):
    with pytest.raises(config.ConfigError):
        config.parse_database_url(url)


def test_settings_from_a_secret_default_to_verified_tls():
    settings = config.database_settings({"DATABASE_SECRET_ARN": "arn:aws:secretsmanager:r:1:secret:db",
                                         "DATABASE_HOST": "proxy.example", "DB_LOCK_TIMEOUT_MS": "750"})
    assert (settings.secret_arn, settings.host, settings.sslmode, settings.lock_timeout_ms) == \
        ("arn:aws:secretsmanager:r:1:secret:db", "proxy.example", "verify-full", 750)
    with pytest.raises(config.ConfigError):
        config.database_settings({})


def test_tls_contexts():
    assert db.ssl_context_for(config.DatabaseSettings(sslmode="disable")) is False
    require = db.ssl_context_for(config.DatabaseSettings(sslmode="require"))
    assert require.verify_mode == ssl.CERT_NONE and not require.check_hostname
    verify = db.ssl_context_for(config.DatabaseSettings(sslmode="verify-full"))
    assert verify.verify_mode == ssl.CERT_REQUIRED and verify.check_hostname


def every_error_class(cls=errors.ModexError):
    for subclass in cls.__subclasses__():
        yield subclass
        yield from every_error_class(subclass)


def test_every_domain_error_has_an_http_answer():
    """A code missing from app.HTTP_ANSWERS would turn the refusal into a 500."""
    codes = {cls.code for cls in every_error_class()}
    assert codes and codes <= set(app.HTTP_ANSWERS)
