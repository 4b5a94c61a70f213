"""Applies `migrations/NNN_*.sql` in order, once each, recorded in `schema_migrations`.

Safe to run twice and from two processes at once: a transaction-scoped advisory lock
(session locks break behind a transaction pooler) serialises runners, and all pending
migrations apply in one transaction, so a failure leaves the schema as it was.

Roles (migrations/008_roles.sql): once 008 has handed the schema to `modex_migrator`,
migrations run as that role (`SET LOCAL ROLE`), so what they create is owned by it and granted
to `modex_app` by its default privileges. A migration that needs more (an extension) starts
with `SET LOCAL ROLE NONE`. In AWS the migrate function connects as the database's master user
(`MIGRATE_DATABASE_SECRET_ARN`), because only it may create roles and set their passwords, and
makes the user of the app secret (`DATABASE_SECRET_ARN`, which every other function uses) a
login member of `modex_app` with that secret's password.
"""
import dataclasses
import os
from pathlib import Path
from typing import List, Optional

from . import credentials, db

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
# Any fixed 64-bit number; it only has to be the same in every runner.
MIGRATION_LOCK_ID = 0x6D6F646578  # "modex"
MIGRATOR_ROLE = "modex_migrator"
APP_ROLE = "modex_app"
# Set on the migrate function only (infra/chalice-merge.yaml): the master user's secret.
MIGRATE_SECRET_ENV = "MIGRATE_DATABASE_SECRET_ARN"


def migration_files() -> List[Path]:
    return sorted(MIGRATIONS_DIR.glob("[0-9][0-9][0-9]_*.sql"))


def migrate() -> List[str]:
    """Applies pending migrations; returns the names applied (empty when up to date)."""
    app_secret_arn = _use_migrate_credentials()
    applied_now = []
    with db.transaction() as con:
        con.run("SET LOCAL statement_timeout = 0")
        con.run("SELECT pg_advisory_xact_lock(:lock_id)", lock_id=MIGRATION_LOCK_ID)
        con.run(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            " version text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"
        )
        applied = {row[0] for row in con.run("SELECT version FROM schema_migrations")}
        for path in migration_files():
            if path.stem in applied:
                continue
            if _schema_belongs_to_migrator(con):
                con.run(f"SET LOCAL ROLE {MIGRATOR_ROLE}")
            con.run(path.read_text())
            con.run("INSERT INTO schema_migrations (version) VALUES (:version)", version=path.stem)
            applied_now.append(path.stem)
        con.run("SET LOCAL ROLE NONE")  # back to the session user: only it may grant logins
        if app_secret_arn:
            # Every run, not only when 008 is new: the secret may have been rotated or replaced.
            secret = credentials.read_secret(app_secret_arn, refresh=True)
            grant_app_login(con, secret["username"], secret["password"])
    return applied_now


def _use_migrate_credentials() -> Optional[str]:
    """In AWS: connect as the master user from now on; returns the app secret's ARN (whose user
    gets its login here), or None where there is no such split (locally, in tests)."""
    migrate_arn = os.environ.get(MIGRATE_SECRET_ENV)
    if not migrate_arn:
        return None
    settings = db.settings()
    if settings.secret_arn != migrate_arn:
        db.configure(dataclasses.replace(settings, secret_arn=migrate_arn))
    return os.environ.get("DATABASE_SECRET_ARN")


def _schema_belongs_to_migrator(con) -> bool:
    """True once 008_roles has run in this database (it hands schema_migrations over with the
    rest). The role alone is no sign: it is server-wide, and may come from another database."""
    rows = con.run("SELECT pg_get_userbyid(relowner) FROM pg_class WHERE oid = to_regclass('schema_migrations')")
    return bool(rows) and rows[0][0] == MIGRATOR_ROLE


def grant_app_login(con, username: str, password: str) -> None:
    """Makes `username` a login member of modex_app with `password`, creating it if missing.

    Refuses a user that could do more than the application may (a superuser, one that creates
    roles or databases, or the user running this): an app secret pointing at the master user
    must fail the deploy, not quietly give the public API the master's rights.
    """
    rows = con.run(
        "SELECT rolsuper OR rolcreaterole OR rolcreatedb OR rolbypassrls OR rolname = session_user"
        " FROM pg_roles WHERE rolname = :name", name=username)
    if rows and rows[0][0]:
        raise ValueError(f"refusing to make {username!r} the application's login: it has more rights than DML")
    verb = "ALTER" if rows else "CREATE"
    # Utility statements take no parameters: format() quotes the name and the password.
    (statement,), = con.run(
        "SELECT format('%s ROLE %I WITH LOGIN INHERIT NOSUPERUSER NOCREATEROLE NOCREATEDB PASSWORD %L',"
        " CAST(:verb AS text), CAST(:name AS text), CAST(:password AS text))",
        verb=verb, name=username, password=password)
    con.run(statement)
    (grant,), = con.run("SELECT format('GRANT %I TO %I', CAST(:role AS text), CAST(:name AS text))",
                         role=APP_ROLE, name=username)
    con.run(grant)
