"""Applies `migrations/NNN_*.sql` in order, once each, recorded in `schema_migrations`.

Safe to run twice and from two processes at once: a transaction-scoped advisory lock
(session locks break behind a transaction pooler) serialises runners, and all pending
migrations apply in one transaction, so a failure leaves the schema as it was.
"""
from pathlib import Path
from typing import List

from . import db

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
# Any fixed 64-bit number; it only has to be the same in every runner.
MIGRATION_LOCK_ID = 0x6D6F646578  # "modex"


def migration_files() -> List[Path]:
    return sorted(MIGRATIONS_DIR.glob("[0-9][0-9][0-9]_*.sql"))


def migrate() -> List[str]:
    """Applies pending migrations; returns the names applied (empty when up to date)."""
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
            con.run(path.read_text())
            con.run("INSERT INTO schema_migrations (version) VALUES (:version)", version=path.stem)
            applied_now.append(path.stem)
    return applied_now
