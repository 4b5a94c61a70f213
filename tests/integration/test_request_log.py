"""Each request through the real handler writes exactly one JSON line: its log line and its
metrics (chalicelib/observability.py), with the Lambda request id."""
import json

import app as modex
from tools.stress.events import LambdaContext, Request, api_gateway_event


def lines_of(captured: str):
    return [json.loads(line) for line in captured.splitlines() if line.strip()]


def test_a_booking_logs_one_json_line_with_its_request_id(show, seat_ids, capsys):
    capsys.readouterr()
    event = api_gateway_event(Request("POST", f"/shows/{show.id}/bookings",
                                      {"userId": "ann", "seatIds": [str(seat_ids[0])]}), request_id="api-req-7")
    response = modex.app(event, LambdaContext(request_id="lambda-req-7"))
    assert response["statusCode"] == 201
    (line,) = lines_of(capsys.readouterr().out)
    assert line["requestId"] == "lambda-req-7" and line["apiRequestId"] == "api-req-7"
    assert (line["route"], line["showId"], line["status"], line["outcome"]) == (
        "/shows/{show_id}/bookings", str(show.id), 201, "OK")
    assert line["Bookings"] == 1 and line["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "Modex"


def test_a_refusal_logs_its_code(show, seat_ids, capsys):
    request = Request("POST", f"/shows/{show.id}/bookings", {"userId": "bob", "seatIds": [str(seat_ids[1])]})
    modex.app(api_gateway_event(request), LambdaContext())
    capsys.readouterr()
    response = modex.app(api_gateway_event(request), LambdaContext(request_id="lambda-req-8"))
    assert response["statusCode"] == 409
    (line,) = lines_of(capsys.readouterr().out)
    assert (line["requestId"], line["outcome"], line["Code"], line["Refusals"]) == (
        "lambda-req-8", "SEAT_UNAVAILABLE", "SEAT_UNAVAILABLE", 1)
