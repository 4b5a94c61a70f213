"""The stress tool's invariant checker on crafted data, broken in each way it must catch:
the tool may report success only on an empty list of violations."""
import pytest

from tools.stress import invariant

SEATS = ["1", "2", "3", "4"]


def statuses(booked=()):
    return {seat: "BOOKED" if seat in booked else "AVAILABLE" for seat in SEATS}


def booking(booking_id, status, *seats):
    return {"id": booking_id, "status": status, "seats": list(seats)}


def test_a_consistent_show_holds():
    bookings = [booking("b1", "CONFIRMED", "1", "2"), booking("b2", "FAILED", "2"), booking("b3", "CANCELLED", "3")]
    claims = [("1", "b1"), ("2", "b1")]
    assert invariant.seat_invariant(4, statuses({"1", "2"}), bookings, claims, available_seats=2,
                                    show_seat_ids=SEATS) == []


def test_api_only_view_holds_without_claims():
    assert invariant.seat_invariant(4, statuses({"1"}), [booking("b1", "CONFIRMED", "1")]) == []


def test_double_claim_is_caught():
    bookings = [booking("b1", "CONFIRMED", "1"), booking("b2", "CONFIRMED", "1")]
    violations = invariant.seat_invariant(4, statuses({"1"}), bookings, [("1", "b1"), ("1", "b2")])
    assert any("claimed 2 times" in violation for violation in violations)
    assert any("sold twice" in violation for violation in violations)


def test_seat_sold_twice_is_caught_through_the_api_alone():
    bookings = [booking("b1", "CONFIRMED", "1"), booking("b2", "CONFIRMED", "1", "2")]
    violations = invariant.seat_invariant(4, statuses({"1", "2"}), bookings)
    assert violations == ["seat 1 is sold twice: confirmed bookings b1, b2"]


@pytest.mark.parametrize("status", ["FAILED", "CANCELLED", "PENDING"])
def test_claim_by_a_booking_that_is_not_confirmed_is_caught(status):
    violations = invariant.seat_invariant(4, statuses({"1"}), [booking("b1", status, "1")], [("1", "b1")])
    assert violations == [f"seat 1 is claimed by booking b1, which is {status}"]


def test_claim_by_an_unknown_booking_is_caught():
    violations = invariant.seat_invariant(4, statuses({"1"}), [], [("1", "ghost")])
    assert violations == ["seat 1 is claimed by booking ghost, which is not a booking of this show"]


def test_claim_of_a_seat_the_booking_did_not_ask_for_is_caught():
    violations = invariant.seat_invariant(4, statuses({"1", "2"}), [booking("b1", "CONFIRMED", "1", "2")],
                                          [("1", "b1"), ("2", "b1"), ("3", "b1")])
    assert any("seat 3 is claimed by booking b1, which did not ask for it" in v for v in violations)
    assert any("seat 3 is claimed by booking b1, but the seat map shows it AVAILABLE" in v for v in violations)


def test_confirmed_booking_missing_a_claim_is_caught():
    violations = invariant.seat_invariant(4, statuses({"1"}), [booking("b1", "CONFIRMED", "1", "2")], [("1", "b1")])
    assert any("confirmed booking b1 holds seat 2, but the seat is not claimed" in v for v in violations)


def test_confirmed_booking_whose_seat_another_booking_claims_is_caught():
    bookings = [booking("b1", "CONFIRMED", "1"), booking("b2", "CONFIRMED", "2")]
    violations = invariant.seat_invariant(4, statuses({"1", "2"}), bookings, [("1", "b2"), ("2", "b2")])
    assert "confirmed booking b1 holds seat 1, but the seat is claimed by b2" in violations


def test_confirmed_seat_shown_available_is_caught_through_the_api():
    violations = invariant.seat_invariant(4, statuses(), [booking("b1", "CONFIRMED", "1")])
    assert violations == ["confirmed booking b1 holds seat 1, but the seat map shows it AVAILABLE"]


def test_sold_plus_available_not_total_is_caught():
    violations = invariant.seat_invariant(5, statuses({"1"}), [booking("b1", "CONFIRMED", "1")], [("1", "b1")])
    assert "sold (1) + available (3) = 4, not the show's total of 5" in violations
    assert "seat map lists 4 seats, the show has 5" in violations


def test_unknown_seat_status_is_caught():
    seat_map = {**statuses(), "4": "HELD"}
    violations = invariant.seat_invariant(4, seat_map)
    assert any("unknown status" in violation for violation in violations)
    assert any("sold (0) + available (3)" in violation for violation in violations)


def test_booked_seat_without_claim_and_mismatched_counts_are_caught():
    violations = invariant.seat_invariant(4, statuses({"4"}), [], [], available_seats=4, show_seat_ids=["1", "2", "3", "9"])
    assert "seat 4 shows BOOKED but nobody claims it" in violations
    assert "the show says 4 seats are available, its seat map shows 3" in violations
    assert any("misses 1 of its seats" in violation for violation in violations)


# --- race ---------------------------------------------------------------------------------

def race(winners, refused=4, requests=5, seat_map=None, read_back=None, claims=None, run_bookings=None):
    return invariant.race_violations("1", requests, winners, refused, seat_map or statuses({"1"}),
                                     read_back if read_back is not None else
                                     {w["id"]: booking(w["id"], "CONFIRMED", "1") for w in winners},
                                     claims=claims, run_bookings=run_bookings)


WINNER = {"id": "w", "seats": [{"id": "1", "row": "A", "number": 1}]}
FAILED_RUN = [booking(f"f{index}", "FAILED", "1") for index in range(4)]


def test_exactly_one_winner_holds():
    assert race([WINNER], claims=[("1", "w")], run_bookings=[booking("w", "CONFIRMED", "1")] + FAILED_RUN) == []


def test_two_winners_fail():
    second = {"id": "w2", "seats": [{"id": "1"}]}
    violations = race([WINNER, second], refused=3, claims=[("1", "w")])
    assert "2 requests won seat 1; exactly 1 must" in violations
    assert "3 of 5 requests were refused with Seat unavailable; 4 must be" in violations


def test_no_winner_fails():
    violations = race([], refused=5, claims=[("1", "earlier")])
    assert "0 requests won seat 1; exactly 1 must" in violations
    assert "5 of 5 requests were refused with Seat unavailable; 4 must be" in violations


def test_missing_refusals_fail():
    assert race([WINNER], refused=3) == ["3 of 5 requests were refused with Seat unavailable; 4 must be"]


def test_winner_that_reads_back_wrong_fails():
    violations = race([WINNER], read_back={"w": booking("w", "FAILED", "1")})
    assert violations == ["winning booking w reads back as FAILED, not CONFIRMED"]
    assert race([WINNER], read_back={}) == ["winning booking w could not be read back"]


def test_seat_not_booked_after_the_race_fails():
    assert race([WINNER], seat_map=statuses()) == ["seat 1 shows AVAILABLE after the race, not BOOKED"]


def test_claim_owned_by_someone_else_or_doubled_fails():
    assert race([WINNER], claims=[("1", "other")]) == ["seat 1 is claimed by booking other, not by the winner w"]
    assert race([WINNER], claims=[("1", "w"), ("1", "x")]) == ["seat 1 has 2 claim rows; exactly 1 must"]
    assert race([WINNER], claims=[]) == ["seat 1 has 0 claim rows; exactly 1 must"]


def test_database_must_record_the_losers_as_failed():
    violations = race([WINNER], run_bookings=[booking("w", "CONFIRMED", "1")] + FAILED_RUN[:2])
    assert violations == ["the database holds 2 FAILED bookings of this run for seat 1; 4 must"]
    violations = race([WINNER], run_bookings=[booking("w", "CONFIRMED", "1"), booking("v", "CONFIRMED", "1")]
                      + FAILED_RUN)
    assert violations == ["the database holds 2 CONFIRMED bookings of this run for seat 1; exactly 1 must"]


# --- flash sale ---------------------------------------------------------------------------

def test_a_clean_sale_holds():
    sold = [{"id": "a", "seats": [{"id": "1"}, {"id": "2"}]}, {"id": "b", "seats": [{"id": "3"}]}]
    read_back = {"a": booking("a", "CONFIRMED", "2", "1"), "b": booking("b", "CONFIRMED", "3")}
    run = [booking("a", "CONFIRMED", "1", "2"), booking("b", "CONFIRMED", "3"), booking("c", "FAILED", "3")]
    assert invariant.sale_violations(sold, 1, statuses({"1", "2", "3"}), read_back, run) == []


def test_a_seat_sold_to_two_requests_fails():
    sold = [{"id": "a", "seats": [{"id": "1"}]}, {"id": "b", "seats": [{"id": "1"}]}]
    read_back = {"a": booking("a", "CONFIRMED", "1"), "b": booking("b", "CONFIRMED", "1")}
    violations = invariant.sale_violations(sold, 0, statuses({"1"}), read_back)
    assert violations == ["seat 1 was sold to 2 requests (bookings a, b)"]


def test_sale_answers_that_the_show_does_not_back_fail():
    sold = [{"id": "a", "seats": [{"id": "1"}]}]
    violations = invariant.sale_violations(sold, 2, statuses(), {"a": booking("a", "CONFIRMED", "2")},
                                           [booking("a", "CONFIRMED", "1"), booking("x", "FAILED", "1")])
    assert "seat 1 was sold but shows AVAILABLE" in violations
    assert "sold booking a reads back with other seats than it was sold" in violations
    assert "the database holds 1 FAILED bookings of this run, 2 were answered 409 Seat unavailable" in violations


# --- the connection storm and the strategies comparison -----------------------------------

def stored(booking_id, status, *seats, token=True):
    return {**booking(booking_id, status, *seats), "hasToken": token}


def storm(sold, bookings, claims):
    return {check: found for check, found in invariant.database_violations(sold, bookings, claims).items() if found}


def test_a_clean_storm_holds():
    sold = [{"id": "a", "seats": ["1"]}, {"id": "b", "seats": ["2"]}]
    bookings = [stored("a", "CONFIRMED", "1"), stored("b", "CONFIRMED", "2"), stored("c", "FAILED", "1", token=False)]
    checks = invariant.database_violations(sold, bookings, [("1", "a"), ("2", "b")])
    assert len(checks) == 6 and all(found == [] for found in checks.values())


def test_storm_claim_by_a_booking_that_is_not_confirmed_is_caught():
    assert storm([], [stored("a", "FAILED", "1")], [("1", "a")]) == {
        "claims of a booking that is not CONFIRMED": ["seat 1 is claimed by booking a, which is FAILED"]}


def test_storm_confirmed_booking_without_its_claims_or_token_is_caught():
    found = storm([{"id": "a", "seats": ["1"]}], [stored("a", "CONFIRMED", "1", "2", token=False)], [("1", "a")])
    assert found == {"CONFIRMED bookings missing claims": ["confirmed booking a holds seats ['1', '2'], but claims ['1']"],
                     "CONFIRMED bookings without a token": ["confirmed booking a has no token"]}


def test_storm_answers_the_database_does_not_back_are_caught():
    found = storm([{"id": "a", "seats": ["1"]}, {"id": "b", "seats": ["1"]}],
                  [stored("a", "CONFIRMED", "1"), stored("b", "FAILED", "1"), stored("c", "CONFIRMED", "2")],
                  [("1", "a"), ("2", "c")])
    assert found == {
        "CONFIRMED in the database, never told 201": ["booking c is CONFIRMED, but no request was told so"],
        "told 201, not CONFIRMED in the database": ["booking b was answered 201, but the database holds it FAILED"],
        "seats confirmed to two containers": ["seat 1 was sold to 2 requests (bookings a, b)"],
    }


def test_taken_seats_must_be_the_seats_the_winners_were_told():
    assert invariant.taken_seats_violations(8, 8) == []
    assert invariant.taken_seats_violations(9, 8) == ["9 seats are marked taken, but the winners were told they got 8"]
