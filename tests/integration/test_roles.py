"""Least privilege on real PostgreSQL (migrations/008_roles.sql, chalicelib/schema.py): the
application's login, a member of modex_app, books and holds but can change no structure;
everything belongs to modex_migrator, and what a later migration creates is granted too.

Roles are server-wide and this server is shared by concurrent runs, so each test makes a login
of its own (modex_app_test_<random>) and drops it at the end."""
import dataclasses
import os
import secrets
import shutil

import pytest
from pg8000.exceptions import DatabaseError

from chalicelib import cleanup, credentials, db, holds, schema, services
from chalicelib.config import parse_database_url
from chalicelib.model import BookingStatus, HoldStatus
from chalicelib.validation import BookingRequest, HoldRequest
from tools.local import localdb

INSUFFICIENT_PRIVILEGE = "42501"


def superuser_connection(url):
    return db.connect(parse_database_url(url))


def drop_login(url, name):
    con = superuser_connection(url)
    try:
        con.run(f'DROP ROLE IF EXISTS "{name}"')
    finally:
        con.close()


@pytest.fixture
def app_login(database_url):
    """A fresh login user in modex_app, made the way the migrate step makes the app secret's."""
    name = f"modex_app_test_{secrets.token_hex(4)}"
    con = superuser_connection(database_url)
    try:
        schema.grant_app_login(con, name, secrets.token_urlsafe(24))
    finally:
        con.close()
    yield name
    drop_login(database_url, name)


@pytest.fixture
def as_app(database_url, app_login):
    """Points chalicelib at the test database as the application's login, as in AWS."""
    db.configure(dataclasses.replace(parse_database_url(database_url), user=app_login))
    yield app_login
    db.configure(None)


@pytest.fixture
def app_sql(database_url, app_login):
    """One statement at a time as the application's login (autocommit)."""
    con = db.connect(dataclasses.replace(parse_database_url(database_url), user=app_login))
    yield lambda query, **params: con.run(query, **params)
    con.close()


def test_the_app_login_books_holds_confirms_and_cancels(as_app, make_show):
    with db.transaction() as con:
        assert con.run("SELECT current_user")[0][0] == as_app
    show = make_show(rows=1, seats_per_row=6)  # create_show runs as the app too
    seats = [seat.id for seat, _ in services.seat_map(show.id).seats]

    booked = services.book_seats(show.id, BookingRequest("ann", (seats[0],)), "key-1")
    assert booked.booking.status is BookingStatus.CONFIRMED
    replay = services.book_seats(show.id, BookingRequest("ann", (seats[0],)), "key-1")
    assert replay.booking.id == booked.booking.id

    held = holds.hold_seats(show.id, HoldRequest("bob", (seats[1], seats[2])))
    assert held.hold.status is HoldStatus.ACTIVE
    confirmed = holds.confirm_hold(held.hold.id, held.token)
    assert confirmed.booking.status is BookingStatus.CONFIRMED

    released = holds.hold_seats(show.id, HoldRequest("cat", (seats[3],)))
    assert holds.release_hold(released.hold.id, released.token).status is HoldStatus.RELEASED
    assert services.cancel_booking(booked.booking.id, booked.token).status is BookingStatus.CANCELLED
    assert services.availability(show.id).statuses == "ABBAAA"
    cleanup.clean_up()  # the scheduled job's DML


@pytest.mark.parametrize("statement", [
    "DROP TABLE seat_bookings",
    "DROP VIEW seat_details",
    "ALTER TABLE bookings ADD COLUMN note text",
    "ALTER TABLE seat_bookings DROP CONSTRAINT seat_bookings_show_seat_key",
    "ALTER TABLE seats DISABLE TRIGGER seats_immutable",
    "TRUNCATE seat_bookings",
    "TRUNCATE shows CASCADE",
    "CREATE TABLE intruder (id int)",
    "CREATE INDEX intruder_idx ON bookings (user_id)",
    "DROP FUNCTION seats_are_immutable() CASCADE",
    "INSERT INTO schema_migrations (version) VALUES ('999_forged')",
    "DELETE FROM schema_migrations",
    "SET ROLE modex_migrator",
])
def test_the_app_login_can_change_no_structure(app_sql, statement):
    with pytest.raises(DatabaseError) as refused:
        app_sql(statement)
    assert db.sqlstate(refused.value) == INSUFFICIENT_PRIVILEGE, refused.value


def test_the_app_login_reads_the_migration_ledger(app_sql):
    assert ["008_roles"] in app_sql("SELECT version FROM schema_migrations")


def test_everything_in_the_schema_belongs_to_the_migrator(sql):
    foreign_owned = sql("""
        SELECT c.relname, pg_get_userbyid(c.relowner) FROM pg_class c
        WHERE c.relnamespace = to_regnamespace('public') AND c.relkind IN ('r', 'p', 'v', 'm', 'S')
          AND pg_get_userbyid(c.relowner) <> 'modex_migrator'
        UNION ALL
        SELECT p.proname, pg_get_userbyid(p.proowner) FROM pg_proc p
        WHERE p.pronamespace = to_regnamespace('public') AND pg_get_userbyid(p.proowner) <> 'modex_migrator'""")
    assert foreign_owned == []
    roles = dict(sql("SELECT rolname, rolcanlogin FROM pg_roles WHERE rolname IN ('modex_app', 'modex_migrator')"))
    assert roles == {"modex_app": False, "modex_migrator": False}
    # The application is not a member of the owner, directly or through another role.
    assert sql("SELECT pg_has_role('modex_app', 'modex_migrator', 'MEMBER')") == [[False]]


@pytest.fixture
def empty_database(database_url):
    name = f"modex_roles_{secrets.token_hex(4)}"
    url = localdb.create_database(database_url, name)
    os.environ["DATABASE_URL"] = url
    db.configure(None)
    yield url
    os.environ["DATABASE_URL"] = database_url
    db.configure(None)
    localdb.drop_database(database_url, name)


PROBE = """
CREATE TABLE probe (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, note text NOT NULL);
CREATE SEQUENCE probe_numbers;
CREATE FUNCTION probe_count() RETURNS bigint LANGUAGE sql STABLE AS $$ SELECT count(*) FROM probe $$;
"""


def test_what_a_later_migration_creates_is_the_migrators_and_granted_to_the_app(
        empty_database, tmp_path, monkeypatch):
    for path in schema.migration_files():
        shutil.copy(path, tmp_path / path.name)
    (tmp_path / "999_probe.sql").write_text(PROBE)
    monkeypatch.setattr(schema, "MIGRATIONS_DIR", tmp_path)
    applied = schema.migrate()
    assert "008_roles" in applied and applied[-1] == "999_probe"

    owner = superuser_connection(empty_database)
    login = f"modex_app_test_{secrets.token_hex(4)}"
    try:
        assert owner.run("SELECT pg_get_userbyid(relowner) FROM pg_class WHERE relname IN ('probe', 'probe_numbers')"
                         ) == [["modex_migrator"], ["modex_migrator"]]
        schema.grant_app_login(owner, login, "unused")
        app = db.connect(dataclasses.replace(parse_database_url(empty_database), user=login))
        try:
            app.run("INSERT INTO probe (note) VALUES ('granted by default privileges')")
            assert app.run("SELECT probe_count(), nextval('probe_numbers')") == [[1, 1]]
            with pytest.raises(DatabaseError) as refused:
                app.run("DROP TABLE probe")
            assert db.sqlstate(refused.value) == INSUFFICIENT_PRIVILEGE
        finally:
            app.close()
    finally:
        owner.close()
        drop_login(empty_database, login)


def test_migrate_in_aws_connects_as_master_and_gives_the_app_secret_its_login(
        empty_database, monkeypatch):
    """The migrate function: MIGRATE_DATABASE_SECRET_ARN (the master's secret) to connect,
    DATABASE_SECRET_ARN (the app's, every other function's) to make its user a login."""
    login = f"modex_app_test_{secrets.token_hex(4)}"
    stored = {"arn:master": {"username": "postgres", "password": "unused"},
              "arn:app": {"username": login, "password": "first-password"}}
    reads = []
    monkeypatch.setattr(credentials, "read_secret", lambda arn, refresh=False: reads.append(arn) or stored[arn])
    monkeypatch.setenv("MIGRATE_DATABASE_SECRET_ARN", "arn:master")
    monkeypatch.setenv("DATABASE_SECRET_ARN", "arn:app")
    try:
        assert "008_roles" in schema.migrate()
        assert db.settings().secret_arn == "arn:master" and "arn:app" in reads
        con = superuser_connection(empty_database)
        try:
            def login_row():
                return con.run("SELECT r.rolcanlogin, r.rolsuper, r.rolcreaterole, a.rolpassword,"
                               " pg_has_role(r.rolname, 'modex_app', 'USAGE')"
                               " FROM pg_roles r JOIN pg_authid a ON a.oid = r.oid WHERE r.rolname = :name",
                               name=login)[0]
            can_login, is_super, creates_roles, first_hash, uses_app_rights = login_row()
            assert can_login and uses_app_rights and not is_super and not creates_roles
            assert first_hash.startswith("SCRAM-SHA-256$")
            # A second run (the next deploy, after a rotation) sets the secret's password again.
            stored["arn:app"]["password"] = "rotated-password"
            assert schema.migrate() == []
            assert login_row()[3] != first_hash
        finally:
            con.close()
    finally:
        drop_login(empty_database, login)


@pytest.mark.parametrize("user", ["postgres", "session"])
def test_the_app_secret_cannot_name_a_powerful_user(database_url, user):
    con = superuser_connection(database_url)
    try:
        name = con.run("SELECT session_user")[0][0] if user == "session" else user
        with pytest.raises(ValueError, match="more rights than DML"):
            schema.grant_app_login(con, name, "x")
    finally:
        con.close()

