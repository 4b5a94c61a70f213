"""The request line (chalicelib/observability.py): valid CloudWatch embedded metric format, with
the metric names the alarms and the dashboard use."""
import io
import json

import pytest

from chalicelib import observability

BOOKING_ROUTE = "/shows/{show_id}/bookings"


def record(**overrides):
    fields = dict(method="POST", route=BOOKING_ROUTE, status=201, outcome="OK", latency_ms=12.5,
                  request_id="req-1", api_request_id="api-1", show_id="show-1", timestamp_ms=1_700_000_000_000)
    fields.update(overrides)
    return observability.request_record(**fields)


def metrics_of(document) -> dict:
    """{metric name: (unit, dimension sets, value)} as CloudWatch would extract them."""
    extracted = {}
    for directive in document["_aws"]["CloudWatchMetrics"]:
        assert directive["Namespace"] == "Modex"
        for dimension_set in directive["Dimensions"]:
            assert all(isinstance(document[name], str) for name in dimension_set)  # target members
        for metric in directive["Metrics"]:
            value = document[metric["Name"]]
            assert isinstance(value, (int, float)) and not isinstance(value, bool)
            extracted[metric["Name"]] = (metric["Unit"], directive["Dimensions"], value)
    return extracted


def test_a_booking_is_an_emf_document_with_its_request_fields():
    document = record()
    assert document["_aws"]["Timestamp"] == 1_700_000_000_000
    assert (document["requestId"], document["route"], document["showId"], document["status"],
            document["outcome"]) == ("req-1", BOOKING_ROUTE, "show-1", 201, "OK")
    assert metrics_of(document) == {
        "LatencyMs": ("Milliseconds", [[]], 12.5),
        "Bookings": ("Count", [[]], 1),
        "Holds": ("Count", [[]], 0),
        "Expiries": ("Count", [[]], 0),
        "Unavailable": ("Count", [[]], 0),
    }


@pytest.mark.parametrize("method, route, counted", [
    ("POST", "/holds/{hold_id}/confirm", "Bookings"),
    ("POST", "/shows/{show_id}/holds", "Holds"),
])
def test_confirms_count_as_bookings_and_holds_as_holds(method, route, counted):
    extracted = metrics_of(record(method=method, route=route))
    assert {name for name in ("Bookings", "Holds") if extracted[name][2] == 1} == {counted}


def test_a_refusal_is_counted_by_its_code():
    extracted = metrics_of(record(status=409, outcome="SEAT_UNAVAILABLE"))
    assert extracted["Refusals"] == ("Count", [["Code"]], 1)
    assert record(status=409, outcome="SEAT_UNAVAILABLE")["Code"] == "SEAT_UNAVAILABLE"
    assert extracted["Bookings"][2] == 0


def test_an_expired_hold_counts_as_an_expiry_and_a_refusal():
    extracted = metrics_of(record(route="/holds/{hold_id}/confirm", status=409, outcome="HOLD_EXPIRED"))
    assert extracted["Expiries"][2] == 1 and extracted["Refusals"][2] == 1


def test_a_503_counts_as_unavailable_and_is_not_a_refusal():
    document = record(status=503, outcome="UNAVAILABLE")
    extracted = metrics_of(document)
    assert extracted["Unavailable"][2] == 1 and "Refusals" not in extracted
    assert document["level"] == "ERROR"


def test_outcomes_come_from_the_error_body():
    assert observability.outcome_of(201, {"id": "x"}) == "OK"
    assert observability.outcome_of(304, "") == "OK"
    assert observability.outcome_of(409, {"error": "LIMIT_REACHED", "message": "…"}) == "LIMIT_REACHED"
    assert observability.outcome_of(500, "oops") == "HTTP_500"


def test_write_puts_one_line_of_json():
    stream = io.StringIO()
    observability.write(record(), stream)
    lines = stream.getvalue().splitlines()
    assert len(lines) == 1 and json.loads(lines[0])["requestId"] == "req-1"


def test_notes_go_to_the_current_request_only():
    notes = observability.start_request()
    observability.note(cause="InterfaceError('network error')")
    assert notes == {"cause": "InterfaceError('network error')"}
    assert observability.start_request() == {}
