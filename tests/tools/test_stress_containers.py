"""`python -m tools.stress` against this run's database: races and a flash sale through
simulated Lambda containers (forked processes calling the real handler), and the Lambda
target's proxy event through the real handler."""
import io
import json
import os
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from chalicelib import db, services
from chalicelib.validation import BookingRequest
from tools.stress import scenarios
from tools.stress.events import LambdaContext, Request, api_gateway_event
from tools.stress.targets import LambdaTarget

ROOT = Path(__file__).resolve().parents[2]


def stress(*args, env=None, timeout=240):
    return subprocess.run([sys.executable, "-m", "tools.stress", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, **(env or {})})


def count(output: str, label: str) -> int:
    found = re.search(rf"^\s+{re.escape(label)}\s+(\d+)", output, re.MULTILINE)
    assert found, f"no {label!r} line in:\n{output}"
    return int(found.group(1))


def test_race_through_containers_has_exactly_one_winner(database_url, show, seat_ids, sql):
    result = stress("race", "--containers", "10", "--show", str(show.id), "--requests", "50")
    assert result.returncode == 0, result.stdout + result.stderr
    assert count(result.stdout, "succeeded (201)") == 1
    assert count(result.stdout, "refused (409 Seat unavailable)") == 49
    assert count(result.stdout, "throttled (429)") == 0
    assert count(result.stdout, "other answers") == 0
    assert count(result.stdout, "most in flight at once") > 1  # the containers really raced
    assert re.search(r"invariant \(api\+sql\)\s+holds", result.stdout)
    assert result.stdout.rstrip().endswith("result: PASS")
    # The first AVAILABLE seat was raced for; the database agrees.
    rows = sql("SELECT status, count(*) FROM bookings WHERE show_id = :show GROUP BY status", show=show.id)
    assert dict(rows) == {"CONFIRMED": 1, "FAILED": 49}
    assert sql("SELECT seat_id FROM seat_bookings WHERE show_id = :show", show=show.id) == [[seat_ids[0]]]


def test_race_for_a_booked_seat_fails(database_url, show, seat_ids):
    services.book_seats(show.id, BookingRequest("early-bird", (seat_ids[3],)))
    db.close()
    result = stress("race", "--containers", "4", "--show", str(show.id), "--seat", str(seat_ids[3]),
                    "--requests", "12", "--json")
    assert result.returncode == 1, result.stdout + result.stderr
    summary = json.loads(result.stdout)
    assert summary["ok"] is False
    assert summary["counts"] == {"succeeded": 0, "refused": 12, "throttled": 0, "other": 0}
    assert "0 requests won seat" in " ".join(summary["invariant"]["violations"])
    assert re.search(r"succeeded \(201\)\s+0", result.stderr)  # the table goes to stderr with --json
    assert "result: FAIL" in result.stderr


def test_race_creates_a_show_when_none_is_given(database_url, tmp_path):
    plot = tmp_path / "race.png"
    result = stress("race", "--containers", "5", "--requests", "20", "--json", "--plot", str(plot))
    assert result.returncode == 0, result.stdout + result.stderr
    summary = json.loads(result.stdout)
    assert summary["counts"]["succeeded"] == 1 and summary["counts"]["refused"] == 19
    assert summary["invariant"] == {"checked": ["api", "sql"], "violations": []}
    assert plot.read_bytes()[:4] == b"\x89PNG"
    assert "created show" in result.stderr


def test_flash_sale_through_containers_sells_out_cleanly(make_show):
    show = make_show(rows=4, seats_per_row=10)
    db.close()
    result = stress("flash-sale", "--containers", "4", "--show", str(show.id), "--users", "20",
                    "--seats-per-user", "2", "--json")
    assert result.returncode == 0, result.stdout + result.stderr
    summary = json.loads(result.stdout)
    assert summary["soldOut"] is True and summary["seatsSold"] == 40
    assert summary["counts"]["other"] == 0 and summary["counts"]["throttled"] == 0
    assert summary["counts"]["confirmed"] + summary["counts"]["refused"] == summary["attempts"]
    assert summary["invariant"]["violations"] == []
    for figure in ("p50", "p95", "p99"):
        assert summary["latencyMs"][figure] > 0
    assert re.search(r"bookings/s\s+\d", result.stderr)


def test_containers_need_a_database_url():
    env = {name: value for name, value in os.environ.items() if name != "DATABASE_URL"}
    result = subprocess.run([sys.executable, "-m", "tools.stress", "race", "--containers", "2", "--show", "x"],
                            cwd=ROOT, capture_output=True, text=True, timeout=60, env=env)
    assert result.returncode == 2
    assert "DATABASE_URL" in result.stderr


# --- the --lambda target's event, through the real handler ---------------------------------

class OneContainerLambda:
    """Lambda's invoke, as far as the tool uses it: the JSON payload goes to the real handler
    in one container (one thread, one connection, one invocation at a time)."""

    def __init__(self):
        from app import app

        self.app = app
        self.container = ThreadPoolExecutor(max_workers=1)
        self.invocations = []

    def invoke(self, FunctionName, InvocationType, Payload):
        assert InvocationType == "RequestResponse"
        event = json.loads(Payload)
        self.invocations.append(event)
        context = LambdaContext(function_name=FunctionName, request_id=event["requestContext"]["requestId"])
        response = self.container.submit(self.app, event, context).result(timeout=30)
        return {"StatusCode": 200, "Payload": io.BytesIO(json.dumps(response).encode())}

    def close(self):
        self.container.submit(db.close).result(timeout=30)
        self.container.shutdown()


@pytest.fixture
def fake_lambda(database_url):
    fake = OneContainerLambda()
    yield fake
    fake.close()


def test_proxy_events_drive_the_real_handler(fake_lambda, show, seat_ids):
    target = LambdaTarget("modex-dev-APIHandler", lambda_client=fake_lambda)
    seats = target.call(Request("GET", f"/shows/{show.id}/seats"))
    assert seats.status == 200 and seats.headers["etag"] and len(seats.body["seats"]) == len(seat_ids)
    again = target.call(Request("GET", f"/shows/{show.id}/seats", headers={"If-None-Match": seats.headers["etag"]}))
    assert again.status == 304
    booked = target.call(Request("POST", f"/shows/{show.id}/bookings",
                                 {"userId": "lambda-user", "seatIds": [str(seat_ids[0])]}))
    assert booked.status == 201, booked.body
    read = target.call(Request("GET", f"/bookings/{booked.body['id']}",
                               headers={"Authorization": f"Bearer {booked.body['bookingToken']}"}))
    assert read.status == 200 and read.body["status"] == "CONFIRMED"
    refused = target.call(Request("POST", f"/shows/{show.id}/bookings",
                                  {"userId": "lambda-user", "seatIds": [str(seat_ids[0])]}))
    assert refused.status == 409 and refused.body["message"] == "Seat unavailable"
    assert all(event["requestContext"]["stage"] == "api" for event in fake_lambda.invocations)


def test_race_through_the_lambda_target(fake_lambda, database_url, show):
    target = LambdaTarget("modex-dev-APIHandler", lambda_client=fake_lambda)
    outcome = scenarios.race(target, str(show.id), None, 20, database_url, timeout=30)
    assert outcome.ok, outcome.text
    assert outcome.summary["counts"] == {"succeeded": 1, "refused": 19, "throttled": 0, "other": 0}
    assert outcome.summary["invariant"]["checked"] == ["api", "sql"]


def test_the_handler_reads_the_request_id_from_the_context(fake_lambda, show):
    event = api_gateway_event(Request("GET", f"/shows/{show.id}"), request_id="stress-req-1")
    context = LambdaContext(request_id="stress-req-1")
    response = fake_lambda.container.submit(fake_lambda.app, event, context).result(timeout=30)
    assert response["statusCode"] == 200
    # Read in the container's thread: the local server makes lambda_context per thread.
    seen = fake_lambda.container.submit(lambda: fake_lambda.app.lambda_context.aws_request_id).result(timeout=30)
    assert seen == "stress-req-1"
