"""`python -m tools.admin create-show` as a user runs it, against this run's database."""
import json
import os
import subprocess
import sys
import uuid

from chalicelib import services


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
