"""`python -m tools.admin create-show` as a user runs it, against this run's database."""
import json
import os
import subprocess
import sys
import uuid

from chalicelib import services
from tests.support.layouts import EXAMPLE_LAYOUTS


def run_admin(database_url, *args):
    env = {**os.environ, "DATABASE_URL": database_url}
    return subprocess.run([sys.executable, "-m", "tools.admin", "create-show", *args], capture_output=True, text=True,
                          env=env, timeout=60)


def test_create_show_locally(database_url):
    result = run_admin(database_url, "--name", "Cli Gala", "--start", "2031-03-01T19:00:00-05:00", "--rows", "2",
                       "--seats-per-row", "5")
    assert result.returncode == 0, result.stderr
    show = json.loads(result.stdout)
    assert show["startTime"] == "2031-03-02T00:00:00Z" and show["totalSeats"] == 10
    seats = services.seat_map(uuid.UUID(show["id"])).seats
    assert [(seat.row, seat.number) for seat, _ in seats] == [(row, n) for row in "AB" for n in range(1, 6)]


def test_bad_input_exits_2_with_one_line(database_url):
    result = run_admin(database_url, "--name", "x", "--start", "2031-03-01T19:00:00Z", "--rows", "0",
                       "--seats-per-row", "5")
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr == "error: rows must be between 1 and 26.\n"


def test_create_show_from_a_layout_file(database_url):
    result = run_admin(database_url, "--name", "Theatre Night", "--start", "2031-03-01T19:00:00Z",
                       "--layout", str(EXAMPLE_LAYOUTS / "theatre.json"), "--max-seats-per-user", "4")
    assert result.returncode == 0, result.stderr
    show = json.loads(result.stdout)
    assert (show["totalSeats"], show["currency"], show["maxSeatsPerUser"], show["holdMinutes"]) == (300, "EUR", 4, 10)
    assert [section["name"] for section in show["sections"]] == ["Stalls", "Circle", "Balcony"]


def test_a_bad_layout_is_one_line_naming_its_path(database_url, tmp_path):
    layout = json.loads((EXAMPLE_LAYOUTS / "theatre.json").read_text())
    layout["sections"][1]["rows"][2]["seats"] = [1, 2, 7, 7]
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(layout))
    result = run_admin(database_url, "--name", "Bad", "--start", "2031-03-01T19:00:00Z", "--layout", str(path))
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == "error: sections[1].rows[2].seats: repeated number 7\n"
