"""`python -m tools.stress onsale`: its pure parts (picking adjacent seats, stranded singles,
the crowd's availability, the verdict, the last line), a small on-sale of the concert hall
through simulated containers and over HTTP, and one on a deliberately broken claim that
must fail."""
import json
import os
import random
import re
import subprocess
import sys
from pathlib import Path

from tests.support.oversell import break_the_claim, one_seat_layout
from tools.local import localdb
from tools.stress import invariant, onsale_report
from tools.stress.onsale import Call
from tools.stress.seatview import Room, Row, SeatView, free_groups, parse_room, stranded_singles

ROOT = Path(__file__).resolve().parents[2]
HALL = str(ROOT / "layouts" / "concert-hall.json")
LAST_LINE = re.compile(r"^onsale: seats=(\d+) sold=(\d+) seconds=[\d.]+ seats/s=[\d.]+ oversold=(\d+)$")


def onsale(*args, env=None, timeout=120):
    return subprocess.run([sys.executable, "-m", "tools.stress", "onsale", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=timeout, env={**os.environ, **(env or {})})


def room_of(*rows):
    """A Room of one section whose rows have the given seat numbers; seat ids are "s<ordinal>"."""
    built, start = [], 0
    for numbers in rows:
        built.append(Row(0, start, tuple(numbers)))
        start += len(numbers)
    return Room(tuple(f"s{ordinal}" for ordinal in range(start)), ("STD",) * start, ("STD",), tuple(built))


# --- the pure parts ------------------------------------------------------------------------

def test_a_group_is_consecutive_numbers_free_in_one_row():
    row = Row(0, 0, (1, 2, 3, 5, 6, 7, 8))  # an aisle between 3 and 5
    assert free_groups(row, b"AAAAAAA", 3) == [0, 3, 4]
    assert free_groups(row, b"AAAAHAA", 3) == [0]  # seat 6 taken
    assert free_groups(row, b"AAAAHAA", 4) == []
    assert free_groups(row, b"HAAAAAA", 1) == [1, 2, 3, 4, 5, 6]


def test_stranded_singles_count_free_seats_with_no_free_neighbour():
    room = room_of((1, 2, 3, 5, 6), (1, 2, 3))
    # row 1: seat 3 is free between a taken 2 and the aisle; seats 5, 6 are a pair. row 2: 1 at
    # the row's end next to a taken 2, and 3 at the other end.
    assert stranded_singles(room, b"HHAAA" + b"ABA") == 3
    assert stranded_singles(room, b"AAAAA" + b"AAA") == 0
    assert stranded_singles(room, b"BBBBB" + b"BBB") == 0


def test_pick_takes_adjacent_free_seats_of_one_row_drawn_toward_the_front():
    room = room_of(*[range(1, 11)] * 10)
    view = SeatView(room, "A" * 100)
    rng = random.Random(7)
    rows_picked = []
    for _ in range(400):
        group = view.pick(4, rng)
        assert len({ordinal // 10 for ordinal in group}) == 1  # one row
        assert group == list(range(group[0], group[0] + 4))  # adjacent
        rows_picked.append(group[0] // 10)
    front, back = sum(row < 3 for row in rows_picked), sum(row >= 7 for row in rows_picked)
    assert front > 2 * back  # random, but toward the front


def test_pick_sees_the_crowds_own_claims_and_finds_nothing_when_no_group_is_left():
    room = room_of(range(1, 6))
    view = SeatView(room, "AAAAA")
    view.mark_taken([2], when=1.0)  # seat 3 of 1-5
    assert view.pick(3, random.Random(1)) is None
    assert view.pick(2, random.Random(1)) in ([0, 1], [3, 4])
    # A refresh read before the claim keeps it; one read after it trusts the server.
    view.refresh("AAAAA", since=0.5)
    assert view.pick(3, random.Random(1)) is None
    view.refresh("AAAAA", since=2.0)
    assert view.pick(5, random.Random(1)) == [0, 1, 2, 3, 4]
    view.refresh("BBBBB", since=3.0)
    assert view.server_free == 0 and view.pick(1, random.Random(1)) is None


def test_parse_room_follows_layout_order():
    layout = {"categories": [{"id": "A"}, {"id": "B"}], "sections": [
        {"name": "Front", "rows": [{"label": "1", "seats": [{"id": "10", "number": 1, "category": "A"},
                                                            {"id": "11", "number": 2, "category": "B"}]}]},
        {"name": "Back", "rows": [{"label": "1", "seats": [{"id": "12", "number": 4, "category": "B"}]}]}]}
    room = parse_room(layout)
    assert room.seat_ids == ("10", "11", "12") and room.categories == ("A", "B", "B")
    assert room.rows == (Row(0, 0, (1, 2)), Row(1, 2, (4,))) and room.category_ids == ("A", "B")


def test_the_verdict_catches_a_seat_sold_twice_and_claims_that_are_not_holds_or_bookings():
    seats = ["1", "2", "3"]
    sold = [{"id": "b1", "seats": ["1"]}, {"id": "b2", "seats": ["1", "2"]}]
    bookings = [{"id": "b1", "status": "CONFIRMED", "seats": ["1"]},
                {"id": "b2", "status": "CONFIRMED", "seats": ["1", "2"]}]
    claims = [("1", "b1"), ("1", "b2"), ("2", "b2"), ("3", None)]
    violations = invariant.onsale_violations(seats, "BBH", sold, bookings=bookings, claims=claims,
                                             hold_claims=[("3", "h1", True)],
                                             holds=[{"id": "h1", "status": "ACTIVE", "live": True, "seats": ["3"]}])
    assert any("seat 1 was sold to 2" in violation for violation in violations)
    assert any("seat 1 is claimed 2 times" in violation for violation in violations)
    assert invariant.oversold_seats(sold, bookings) == {"1": ["b1", "b2"]}
    clean = invariant.onsale_violations(seats, "BBH", sold[1:], bookings=bookings[1:], claims=claims[1:],
                                        hold_claims=[("3", "h1", True)],
                                        holds=[{"id": "h1", "status": "ACTIVE", "live": True, "seats": ["3"]}])
    assert clean == []
    # A live hold's seat that reads available, and a 201 the database does not hold.
    broken = invariant.onsale_violations(seats, "BBA", sold[1:], bookings=[], claims=claims[1:],
                                         hold_claims=[("3", "h1", True)],
                                         holds=[{"id": "h1", "status": "ACTIVE", "live": True, "seats": ["3"]}])
    assert any("live hold's, but the availability shows it A" in violation for violation in broken)
    assert any("booking b2 was confirmed (201)" in violation and "nowhere" in violation for violation in broken)


def test_the_last_line():
    summary = {"seats": 80000, "soldSeats": 79012, "seconds": 88.04, "seatsPerSecond": 897.44, "oversold": 0}
    assert onsale_report.last_line(summary) == "onsale: seats=80000 sold=79012 seconds=88.0 seats/s=897.4 oversold=0"
    assert LAST_LINE.match(onsale_report.last_line(summary))


# --- real on-sales -------------------------------------------------------------------------

def assert_clean_sale(result, buyers):
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    summary = json.loads(result.stdout)
    assert summary["invariant"] == {"checked": ["api", "sql"], "violations": []}
    assert summary["oversold"] == 0 and summary["unexpectedAnswers"] == {}
    assert summary["seats"] == 2000 and summary["soldSeats"] > buyers  # most buyers want 2 or more
    assert summary["answers"]["hold 201"] >= summary["answers"]["confirm 201"] == summary["bookings"]
    assert summary["soldSeats"] == summary["atEnd"]["booked"]
    last = LAST_LINE.match(result.stderr.rstrip().splitlines()[-1])
    assert last and int(last.group(2)) == summary["soldSeats"] and last.group(3) == "0"
    return summary


def test_an_onsale_of_the_concert_hall_through_containers_passes_its_check(database_url, tmp_path):
    plot = tmp_path / "onsale.png"
    result = onsale("--layout", HALL, "--buyers", "240", "--containers", "4", "--hold-minutes", "1",
                    "--json", "--plot", str(plot))
    summary = assert_clean_sale(result, 240)
    assert summary["target"] == "containers 4"
    assert plot.read_bytes()[:4] == b"\x89PNG"


def test_an_onsale_of_the_concert_hall_over_http_passes_its_check(live_server):
    result = onsale("--layout", HALL, "--buyers", "160", "--clients", "8", "--url", live_server, "--json")
    summary = assert_clean_sale(result, 160)
    assert summary["target"].startswith("url http://127.0.0.1")


def test_an_onsale_on_a_claim_that_never_conflicts_is_caught_overselling(database_url, tmp_path):
    """The check must bite: with a unique constraint that never conflicts (same name, so the
    claim's ON CONFLICT ON CONSTRAINT still finds it), buyers who picked the one seat of the
    room at once are all sold it, and the run must say so and exit 1."""
    one_seat = one_seat_layout(tmp_path)
    with localdb.database_on(localdb.with_database(database_url, "postgres"), "modex_onsale_broken") as broken_url:
        break_the_claim(broken_url)
        result = onsale("--layout", str(one_seat), "--buyers", "64", "--clients", "32", "--seats", "1-1",
                        "--abandon", "0", "--containers", "4", "--json", env={"DATABASE_URL": broken_url})
    assert result.returncode == 1, result.stdout[-3000:] + result.stderr[-3000:]
    summary = json.loads(result.stdout)
    assert summary["oversold"] > 0 and summary["bookings"] > 1
    assert any("was sold to" in violation for violation in summary["invariant"]["violations"])
    last = LAST_LINE.match(result.stderr.rstrip().splitlines()[-1])
    assert last and int(last.group(3)) == summary["oversold"]


def test_time_to_sell_a_share_of_the_seats_counts_seats_not_bookings():
    calls = [Call("confirm", 201, None, 10.0, 11.0, seats=6), Call("hold", 201, None, 10.0, 12.0),
             Call("confirm", 201, None, 12.0, 13.0, seats=2), Call("confirm", 201, None, 19.0, 20.0, seats=2)]
    assert onsale_report.time_to_sell(calls, 10.0, 0.5) == 1.0  # 6 of 10 seats after 1 s
    assert onsale_report.time_to_sell(calls, 10.0, 0.8) == 3.0
    assert onsale_report.time_to_sell(calls, 10.0, 0.99) == 10.0
    assert onsale_report.time_to_sell([], 10.0, 0.5) is None


def test_the_largest_group_is_the_longest_free_run_until_the_next_refresh():
    room = room_of((1, 2, 3, 5, 6), (1, 2, 3, 4))
    view = SeatView(room, "AAAAA" + "AHAA")
    assert view.largest_group() == 3  # 1-3 of the first row; the aisle cuts 5, 6 off
    view.mark_taken([1], when=1.0)
    assert view.largest_group() == 3  # an upper bound until the next refresh
    view.refresh("AHAAA" + "AAAA", since=2.0)
    assert view.largest_group() == 4
    view.refresh("BBBBB" + "BBBB", since=3.0)
    assert view.largest_group() == 0


def test_a_layout_that_cannot_be_read_or_is_invalid_is_a_setup_error(tmp_path):
    missing = onsale("--layout", str(tmp_path / "none.json"), "--buyers", "5", "--containers", "1")
    assert missing.returncode == 2 and "cannot read" in missing.stderr
    invalid = tmp_path / "invalid.json"
    invalid.write_text(json.dumps({"currency": "EUR", "categories": [], "sections": []}))
    refused = onsale("--layout", str(invalid), "--buyers", "5", "--containers", "1")
    assert refused.returncode == 2 and "categories" in refused.stderr
