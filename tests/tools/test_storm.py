"""The connection storm, small (tools/stress/storm.py): 120 simulated Lambda containers against a
private PostgreSQL with max_connections=30, first directly, then through pgbouncer in
transaction pooling mode; and the property that makes pooling safe: every statement the
app sends runs inside an explicit transaction. No timing is asserted: a container that takes
longer than the storm's generous bound counts as hung, which is a failure of correctness."""
import json
import os
from datetime import datetime, timedelta, timezone

import pg8000.native
import pytest
from chalice.test import Client

from tools.local.privatepg import PGBOUNCER

CONTAINERS = 120
MAX_CONNECTIONS = 30
POOL_SIZE = 10


@pytest.fixture(scope="module")
def storm_results():
    if not os.path.exists(PGBOUNCER):
        if os.environ.get("CI"):
            pytest.fail("pgbouncer is missing in CI: .ci/run installs it (apt-get install pgbouncer)")
        pytest.skip("pgbouncer is not installed (apt-get install -y pgbouncer)")
    from tools.stress import storm

    results = storm.storm(containers=CONTAINERS, max_connections=MAX_CONNECTIONS, processes=3, pool_size=POOL_SIZE,
                          timeout_s=90, progress=lambda message: None)
    return {result.mode: result for result in results}


def test_direct_storm_fails_cleanly_with_503(storm_results):
    direct = storm_results["direct"]
    assert len(direct.answers) == CONTAINERS
    assert direct.others == [], "no 500, no exception, no hang"
    assert direct.count(503) > 0, "the storm must exceed max_connections to test anything"
    assert {answer["error"] for answer in direct.answers if answer["status"] == 503} == {"UNAVAILABLE"}
    assert direct.count(201) + direct.count(409) + direct.count(503) == CONTAINERS
    assert direct.count(201) > 0
    assert set(direct.checks.values()) == {0}, direct.checks
    assert direct.problems() == []


def test_pgbouncer_storm_has_no_errors(storm_results):
    pooled = storm_results["pgbouncer"]
    seats = -(-CONTAINERS * 2 // 3)
    assert pooled.others == [] and pooled.count(503) == 0
    # Every seat is won exactly once; the containers that wanted a seat twice lose cleanly.
    assert pooled.count(201) == seats
    assert pooled.count(409) == CONTAINERS - seats
    assert set(pooled.checks.values()) == {0}, pooled.checks
    # The server cannot exceed max_connections whatever happens: the pooling shows in pgbouncer's
    # pool plus the storm's own watcher connection being all the server ever saw.
    assert pooled.server_connections_peak <= POOL_SIZE + 1
    assert pooled.problems() == []


@pytest.fixture
def statements_outside_transactions(monkeypatch):
    """Records every statement sent on a pg8000 connection that is not inside a transaction
    block (ReadyForQuery said idle), except the statement that opens one."""
    outside = []
    original_run = pg8000.native.Connection.run

    def audited_run(self, sql, *args, **kwargs):
        opening = sql.lstrip().upper().startswith(("START TRANSACTION", "BEGIN"))
        # pg8000 leaves the status None after connecting, b"I" when idle between transactions.
        if self._transaction_status in (None, b"I") and not opening:
            outside.append(" ".join(sql.split())[:120])
        return original_run(self, sql, *args, **kwargs)

    monkeypatch.setattr(pg8000.native.Connection, "run", audited_run)
    return outside


def test_every_app_statement_runs_inside_an_explicit_transaction(database_url, statements_outside_transactions):
    from app import app
    from chalicelib import db, schema

    db.close()  # a fresh connection, so connecting is audited too
    start = (datetime.now(timezone.utc) + timedelta(days=3)).isoformat()
    with Client(app) as client:
        created = client.lambda_.invoke("create_show", {"name": "Audit", "startTime": start, "rows": 1,
                                                        "seatsPerRow": 4})
        show_id = created.payload["id"]
        headers = {"Content-Type": "application/json"}
        assert client.http.get("/shows").status_code == 200
        assert client.http.get(f"/shows/{show_id}").status_code == 200
        seat_map = client.http.get(f"/shows/{show_id}/seats")
        seats = [seat["id"] for seat in json.loads(seat_map.body)["seats"]]
        assert client.http.get(f"/shows/{show_id}/seats",
                               headers={"If-None-Match": seat_map.headers["ETag"]}).status_code == 304
        body = json.dumps({"userId": "audit", "seatIds": seats[:2]})
        booked = client.http.post(f"/shows/{show_id}/bookings", body=body,
                                  headers={**headers, "Idempotency-Key": "audit-1"})
        assert booked.status_code == 201
        replay = client.http.post(f"/shows/{show_id}/bookings", body=body,
                                  headers={**headers, "Idempotency-Key": "audit-1"})
        assert replay.status_code == 201
        taken = client.http.post(f"/shows/{show_id}/bookings", headers=headers,
                                 body=json.dumps({"userId": "late", "seatIds": seats[1:3]}))
        assert taken.status_code == 409
        booking = json.loads(booked.body)
        auth = {"Authorization": f"Bearer {booking['bookingToken']}"}
        assert client.http.get(f"/bookings/{booking['id']}", headers=auth).status_code == 200
        assert client.http.delete(f"/bookings/{booking['id']}", headers=auth).status_code == 200
        assert client.http.get("/shows/00000000-0000-0000-0000-000000000000").status_code == 404
    assert schema.migrate() == []
    assert statements_outside_transactions == []
