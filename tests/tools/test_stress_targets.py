"""The load tools without a database: the API Gateway proxy event they build (events.py),
the Lambda target's request and answers through botocore's Stubber, the report, and the
commands `python -m tools.stress` passes on (bench, storm)."""
import io
import json
import sys

import boto3
import pytest
from botocore.response import StreamingBody
from botocore.stub import ANY, Stubber

from tools.stress import report
from tools.stress.events import ROUTES, Answer, LambdaContext, Request, api_gateway_event, match_route, proxy_answer
from tools.stress.targets import LambdaTarget

SHOW = "6f1c2a8e-3b7d-4c55-9a7e-1d2f3a4b5c6d"


def test_the_tools_routes_are_the_apps_routes():
    from app import app

    assert set(ROUTES) <= set(app.routes)


def test_match_route_names_the_resource_and_its_parameters():
    assert match_route(f"/shows/{SHOW}/bookings") == ("/shows/{show_id}/bookings", {"show_id": SHOW})
    assert match_route("/bookings/abc") == ("/bookings/{booking_id}", {"booking_id": "abc"})
    assert match_route("/shows") == ("/shows", {})
    with pytest.raises(ValueError):
        match_route("/nowhere")


def test_api_gateway_event_has_the_rest_proxy_shape():
    request = Request("POST", f"/shows/{SHOW}/bookings", {"userId": "u", "seatIds": ["7"]},
                      headers={"Idempotency-Key": "k1"})
    event = api_gateway_event(request, request_id="req-1")
    assert event["resource"] == "/shows/{show_id}/bookings"
    assert event["path"] == f"/shows/{SHOW}/bookings"
    assert event["httpMethod"] == "POST"
    assert event["pathParameters"] == {"show_id": SHOW}
    assert event["headers"]["Content-Type"] == "application/json"
    assert event["headers"]["Idempotency-Key"] == "k1"
    assert event["multiValueHeaders"]["Idempotency-Key"] == ["k1"]
    assert event["queryStringParameters"] is None and event["multiValueQueryStringParameters"] is None
    assert event["stageVariables"] is None
    assert json.loads(event["body"]) == {"userId": "u", "seatIds": ["7"]}
    assert event["isBase64Encoded"] is False
    context = event["requestContext"]
    assert context["resourcePath"] == "/shows/{show_id}/bookings"
    assert context["httpMethod"] == "POST"
    assert context["stage"] == "api"
    assert context["path"] == f"/api/shows/{SHOW}/bookings"
    assert context["requestId"] == "req-1"
    json.dumps(event)  # it must travel as a Lambda payload
    assert api_gateway_event(Request("GET", "/shows"))["pathParameters"] is None


def test_lambda_context_looks_like_the_runtimes():
    context = LambdaContext(request_id="r-9", timeout_s=3)
    assert context.aws_request_id == "r-9"
    assert context.function_version == "$LATEST"
    assert context.invoked_function_arn.endswith(":function:modex-dev")
    assert 0 < context.get_remaining_time_in_millis() <= 3000


def test_proxy_answer_reads_status_headers_and_body():
    answer = proxy_answer({"statusCode": 409, "headers": {"Content-Type": "application/json"},
                           "multiValueHeaders": {"X-Many": ["a", "b"]},
                           "body": json.dumps({"error": "SEAT_UNAVAILABLE"}), "isBase64Encoded": False}, 1.0, 1.5)
    assert answer.status == 409 and answer.error_code == "SEAT_UNAVAILABLE"
    assert answer.headers == {"content-type": "application/json", "x-many": "a, b"}
    assert answer.latency == 0.5


@pytest.fixture
def lambda_client(monkeypatch):
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    client = boto3.client("lambda", region_name="us-east-1", aws_access_key_id="testing",
                          aws_secret_access_key="testing")
    sent = []
    # Stubber checks the call; this hook keeps the parameters so the payload can be read.
    client.meta.events.register("provide-client-params.lambda.Invoke", lambda params, **_: sent.append(params))
    with Stubber(client) as stubber:
        yield client, stubber, sent
        stubber.assert_no_pending_responses()


def _payload(document) -> StreamingBody:
    raw = json.dumps(document).encode()
    return StreamingBody(io.BytesIO(raw), len(raw))


def test_lambda_target_invokes_the_function_with_the_proxy_event(lambda_client):
    client, stubber, sent = lambda_client
    body = {"id": "b1", "status": "CONFIRMED", "seats": [{"id": "7"}], "bookingToken": "t"}
    stubber.add_response("invoke", {"StatusCode": 200, "Payload": _payload(
        {"statusCode": 201, "headers": {"Content-Type": "application/json"}, "body": json.dumps(body)})},
        expected_params={"FunctionName": "modex-dev-APIHandler", "InvocationType": "RequestResponse",
                         "Payload": ANY})
    target = LambdaTarget("modex-dev-APIHandler", lambda_client=client)
    answer = target.call(Request("POST", f"/shows/{SHOW}/bookings", {"userId": "u", "seatIds": ["7"]}))
    assert answer.status == 201 and answer.body == body
    event = json.loads(sent[0]["Payload"])
    assert event["httpMethod"] == "POST" and event["resource"] == "/shows/{show_id}/bookings"
    assert event["requestContext"]["resourcePath"] == "/shows/{show_id}/bookings"
    assert event["requestContext"]["stage"] == "api" and event["requestContext"]["requestId"]
    assert event["pathParameters"] == {"show_id": SHOW}
    assert json.loads(event["body"]) == {"userId": "u", "seatIds": ["7"]}


def test_lambda_function_error_is_no_answer(lambda_client):
    client, stubber, _ = lambda_client
    stubber.add_response("invoke", {"StatusCode": 200, "FunctionError": "Unhandled",
                                    "Payload": _payload({"errorMessage": "boom", "errorType": "KeyError"})})
    answer = LambdaTarget("fn", lambda_client=client).call(Request("GET", "/shows"))
    assert answer.status is None and answer.error.startswith("function error") and "boom" in answer.error


def test_lambda_throttle_counts_as_429(lambda_client):
    client, stubber, _ = lambda_client
    stubber.add_client_error("invoke", service_error_code="TooManyRequestsException", http_status_code=429)
    answer = LambdaTarget("fn", lambda_client=client).call(Request("GET", "/shows"))
    assert answer.status == 429 and answer.error_code == "THROTTLED"


def test_lambda_other_client_error_is_no_answer(lambda_client):
    client, stubber, _ = lambda_client
    stubber.add_client_error("invoke", service_error_code="ResourceNotFoundException", http_status_code=404)
    answer = LambdaTarget("fn", lambda_client=client).call(Request("GET", "/shows"))
    assert answer.status is None and answer.error.startswith("ResourceNotFoundException")


def test_percentiles_and_in_flight():
    assert report.percentile([], 50) is None
    assert report.percentile([5, 1, 3, 2, 4], 50) == 3
    assert report.percentile(list(range(1, 101)), 99) == 99
    overlapping = [Answer(201, started=0, ended=2), Answer(409, started=1, ended=3), Answer(409, started=2.5, ended=4)]
    assert report.max_in_flight(overlapping) == 2
    assert report.max_in_flight([Answer(201, started=0, ended=1), Answer(409, started=1, ended=2)]) == 1


def test_plot_writes_a_png(tmp_path):
    answers = [Answer(201, started=0.0, ended=0.05), Answer(409, started=0.01, ended=0.2),
               Answer(None, started=0.02, ended=0.3, error="timeout")]
    path = tmp_path / "run.png"
    report.plot(str(path), "race: test (containers 2)", answers)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("command, arguments", [("bench", ["--quick", "--skip", "race"]),
                                                ("storm", ["--containers", "120", "--mode", "direct"])])
def test_subcommand_passes_its_arguments_on(monkeypatch, command, arguments):
    import types

    import tools.stress
    from tools.stress.__main__ import main

    seen = []
    fake = types.ModuleType(f"tools.stress.{command}")
    fake.main = lambda argv: seen.append(argv) or 0
    monkeypatch.setitem(sys.modules, f"tools.stress.{command}", fake)
    monkeypatch.setattr(tools.stress, command, fake, raising=False)
    assert main([command, *arguments]) == 0
    assert seen == [arguments]
