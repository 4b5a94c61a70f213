"""One JSON line per request on stdout: the request's log line and its metrics at once.

The line is a CloudWatch embedded-metric-format (EMF) document: CloudWatch Logs keeps it as a
log event whose fields (requestId, route, showId, status, outcome, ...) Logs Insights can
query, and extracts the metrics named in its `_aws` member into the `Modex` namespace. No
library and no API call: Lambda sends stdout to CloudWatch Logs as it is (the `logging`
module's Lambda handler would prefix the JSON and break it, so this writes to stdout itself).

Metrics (the alarms and the dashboard in infra/ use exactly these names):

| metric | unit | dimensions | value per request |
|---|---|---|---|
| LatencyMs | Milliseconds | none | time in the app, every request |
| Bookings | Count | none | 1 for a 201 from POST bookings or POST confirm, else 0 |
| Holds | Count | none | 1 for a 201 from POST holds, else 0 |
| Expiries | Count | none | 1 when the answer is HOLD_EXPIRED, else 0 |
| Unavailable | Count | none | 1 for a 503 (UNAVAILABLE), else 0 |
| Refusals | Count | Code | 1 for each 4xx, dimension Code = its error code; absent otherwise |

The counts are written as 0 when nothing happened, so an alarm's period always has data.
"""
import json
import sys
import threading
import time
from typing import Dict, Optional, TextIO

NAMESPACE = "Modex"
COUNT = "Count"
MILLISECONDS = "Milliseconds"

# (method, route) -> the count metric its 201 adds to.
CREATED_METRIC = {
    ("POST", "/shows/{show_id}/bookings"): "Bookings",
    ("POST", "/holds/{hold_id}/confirm"): "Bookings",
    ("POST", "/shows/{show_id}/holds"): "Holds",
}
OK = "OK"  # the outcome of an answer that is not an error

_local = threading.local()


def start_request() -> dict:
    """A fresh set of extra fields for this thread's request line, which `note` adds to."""
    _local.notes = {}
    return _local.notes


def note(**fields) -> None:
    """Adds fields (say, the cause of a 503) to the current request's line."""
    notes = getattr(_local, "notes", None)
    if notes is not None:
        notes.update(fields)


def _directive(metrics: Dict[str, str], dimensions) -> dict:
    return {"Namespace": NAMESPACE, "Dimensions": dimensions,
            "Metrics": [{"Name": name, "Unit": unit} for name, unit in metrics.items()]}


def request_record(*, method: str, route: Optional[str], status: int, outcome: str, latency_ms: float,
                   request_id: Optional[str] = None, api_request_id: Optional[str] = None,
                   show_id: Optional[str] = None, timestamp_ms: Optional[int] = None) -> dict:
    """The EMF document for one answered request (see the module's docstring)."""
    created = CREATED_METRIC.get((method, route)) if status == 201 else None
    values = {
        "LatencyMs": round(latency_ms, 3),
        "Bookings": int(created == "Bookings"),
        "Holds": int(created == "Holds"),
        "Expiries": int(outcome == "HOLD_EXPIRED"),
        "Unavailable": int(status == 503),
    }
    directives = [_directive({name: MILLISECONDS if name == "LatencyMs" else COUNT for name in values}, [[]])]
    record = {}
    if 400 <= status < 500:
        directives.append(_directive({"Refusals": COUNT}, [["Code"]]))
        record.update(Refusals=1, Code=outcome)
    record.update(values)
    return {
        "_aws": {"Timestamp": int(time.time() * 1000) if timestamp_ms is None else timestamp_ms,
                 "CloudWatchMetrics": directives},
        "level": "ERROR" if status >= 500 else "INFO",
        "requestId": request_id,
        "apiRequestId": api_request_id,
        "method": method,
        "route": route,
        "showId": show_id,
        "status": status,
        "outcome": outcome,
        **record,
    }


def outcome_of(status: int, body) -> str:
    """The contract's error code of an answer, or OK."""
    if status >= 400 and isinstance(body, dict) and isinstance(body.get("error"), str):
        return body["error"]
    return OK if status < 400 else f"HTTP_{status}"


def write(record: dict, stream: Optional[TextIO] = None) -> None:
    """One line of JSON, flushed: a Lambda frozen after answering must not keep it buffered."""
    stream = stream or sys.stdout
    stream.write(json.dumps(record, separators=(",", ":"), default=str) + "\n")
    stream.flush()
