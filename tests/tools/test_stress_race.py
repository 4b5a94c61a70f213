"""`python -m tools.stress` over HTTP against the real local server (live_server)."""
import json
import os
import re
import subprocess
import sys
from pathlib import Path

from chalicelib import db, services
from chalicelib.validation import BookingRequest

ROOT = Path(__file__).resolve().parents[2]


def stress(*args, env=None, timeout=240):
    return subprocess.run([sys.executable, "-m", "tools.stress", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout, env=env or dict(os.environ))


def count(output: str, label: str) -> int:
    found = re.search(rf"^\s+{re.escape(label)}\s+(\d+)", output, re.MULTILINE)
    assert found, f"no {label!r} line in:\n{output}"
    return int(found.group(1))


def test_race_over_http_has_exactly_one_winner(live_server, show, seat_ids, sql):
    result = stress("race", "--url", live_server, "--show", str(show.id), "--seat", str(seat_ids[5]),
                    "--requests", "50")
    assert result.returncode == 0, result.stdout + result.stderr
    assert count(result.stdout, "succeeded (201)") == 1
    assert count(result.stdout, "refused (409 Seat unavailable)") == 49
    assert count(result.stdout, "throttled (429)") == 0
    assert count(result.stdout, "other answers") == 0
    assert count(result.stdout, "most in flight at once") > 1  # the server had requests racing
    assert re.search(r"invariant \(api\+sql\)\s+holds", result.stdout)
    assert result.stdout.rstrip().endswith("result: PASS")
    assert sql("SELECT seat_id FROM seat_bookings WHERE show_id = :show", show=show.id) == [[seat_ids[5]]]


def test_race_for_a_booked_seat_fails_over_http(live_server, show, seat_ids):
    services.book_seats(show.id, BookingRequest("early-bird", (seat_ids[0],)))
    db.close()
    result = stress("race", "--url", live_server, "--show", str(show.id), "--seat", str(seat_ids[0]),
                    "--requests", "10")
    assert result.returncode == 1, result.stdout + result.stderr
    assert count(result.stdout, "succeeded (201)") == 0
    assert count(result.stdout, "refused (409 Seat unavailable)") == 10
    assert "0 requests won seat" in result.stdout
    assert result.stdout.rstrip().endswith("result: FAIL")


def test_race_over_http_checks_through_the_api_alone(live_server, show):
    env = {name: value for name, value in os.environ.items() if name != "DATABASE_URL"}
    result = stress("race", "--url", live_server + "/", "--show", str(show.id), "--requests", "20", "--json", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    summary = json.loads(result.stdout)
    assert summary["counts"] == {"succeeded": 1, "refused": 19, "throttled": 0, "other": 0}
    assert summary["invariant"] == {"checked": ["api"], "violations": []}
    assert summary["maxInFlight"] > 1


def test_race_for_an_unknown_show_cannot_start(live_server):
    result = stress("race", "--url", live_server, "--show", "00000000-0000-4000-8000-000000000000")
    assert result.returncode == 2
    assert "404" in result.stderr


def test_flash_sale_over_http_sells_out_cleanly(live_server, make_show, tmp_path):
    show = make_show(rows=4, seats_per_row=10)
    db.close()
    plot = tmp_path / "sale.png"
    result = stress("flash-sale", "--url", live_server, "--show", str(show.id), "--users", "20",
                    "--seats-per-user", "2", "--json", "--plot", str(plot))
    assert result.returncode == 0, result.stdout + result.stderr
    summary = json.loads(result.stdout)
    assert summary["soldOut"] is True and summary["seatsSold"] == 40 and summary["availableAtEnd"] == 0
    assert summary["counts"]["other"] == 0 and summary["counts"]["throttled"] == 0
    assert summary["invariant"] == {"checked": ["api", "sql"], "violations": []}
    assert summary["bookingsPerSecond"] > 0
    assert re.search(r"refused \(409 Seat unavailable\)\s+\d+ \(\d+\.\d% of attempts\)", result.stderr)
    assert plot.read_bytes()[:4] == b"\x89PNG"
