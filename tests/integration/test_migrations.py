"""Migrations apply once, in order, and two runners at once are safe."""
import multiprocessing
import os
import secrets

import pytest

from chalicelib import db, schema
from tools.local import localdb


@pytest.fixture
def empty_database(database_url):
    name = f"modex_migrate_{secrets.token_hex(4)}"
    url = localdb.create_database(database_url, name)
    yield url
    localdb.drop_database(database_url, name)


def _migrate_in_child(url, queue):
    os.environ["DATABASE_URL"] = url
    db.configure(None)
    try:
        queue.put(("ok", schema.migrate()))
    except Exception as error:  # reported to the parent, which fails the test
        queue.put(("error", repr(error)))


def test_migrate_twice_applies_once(empty_database, database_url):
    os.environ["DATABASE_URL"] = empty_database
    db.configure(None)
    try:
        assert schema.migrate() == [path.stem for path in schema.migration_files()]
        assert schema.migrate() == []
    finally:
        os.environ["DATABASE_URL"] = database_url
        db.configure(None)


@pytest.mark.parametrize("round_number", range(3))
def test_two_processes_migrating_at_once_both_succeed_and_apply_once(empty_database, round_number):
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    runners = [context.Process(target=_migrate_in_child, args=(empty_database, queue)) for _ in range(4)]
    for runner in runners:
        runner.start()
    results = [queue.get(timeout=60) for _ in runners]
    for runner in runners:
        runner.join(60)
    assert all(status == "ok" for status, _ in results), results
    applied = sorted(name for _, names in results for name in names)
    assert applied == [path.stem for path in schema.migration_files()]
