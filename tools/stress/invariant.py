"""The booking invariant, checked on plain data: no I/O here, so it can be tested on rows
crafted to be wrong. The one invariant checker of the load tools: the stress scenarios, the
connection storm and the bench's strategies comparison read rows and let it judge. Each
function returns a list of violations (sentences), or for the storm one list per named
check; an empty list is the only thing the tools treat as "the invariant holds".

Plain data:
- seat ids and booking ids are strings (the API's opaque ids; SQL ids are passed as str);
- `seat_statuses`: {seat id: "AVAILABLE" | "BOOKED"} from the seat map;
- a booking: {"id": str, "status": "CONFIRMED" | "FAILED" | "CANCELLED" | anything else,
  "seats": [seat id, ...]} (the seats it asked for), and for the storm "hasToken": bool;
- `claims`: [(seat id, booking id), ...], the rows of `seat_bookings` for the show, or None
  when the database cannot be seen (API only). When claims are given, `bookings` must hold
  every booking of the show, so that a claim by an unknown booking is caught.
"""
from collections import Counter, defaultdict
from typing import Dict, Iterable, List, Mapping, Optional, Sequence, Tuple

AVAILABLE, BOOKED = "AVAILABLE", "BOOKED"
CONFIRMED, FAILED, CANCELLED = "CONFIRMED", "FAILED", "CANCELLED"

Claim = Tuple[str, str]


def _ids(values: Iterable) -> List[str]:
    """Seat ids as strings, from ids or from the API's seat objects ({"id", "row", "number"})."""
    return [str(value.get("id") if isinstance(value, Mapping) else value) for value in values or ()]


def _buyers(sold: Iterable[Mapping]) -> Dict[str, List[str]]:
    """{seat id: ids of the bookings it went to}, from bookings or 201 bodies ({"id", "seats"})."""
    buyers = defaultdict(list)
    for booking in sold:
        for seat in _ids(booking.get("seats")):
            buyers[seat].append(str(booking.get("id")))
    return buyers


def _sold_to_many(seat: str, owners: Sequence[str]) -> str:
    return f"seat {seat} was sold to {len(owners)} requests (bookings {', '.join(sorted(owners))})"


def seat_invariant(total: int, seat_statuses: Mapping[str, str], bookings: Iterable[Mapping] = (),
                   claims: Optional[Iterable[Claim]] = None,
                   available_seats: Optional[int] = None,
                   show_seat_ids: Optional[Iterable[str]] = None) -> List[str]:
    """The state of one show after a run: every seat sold at most once, and only to a
    confirmed booking that holds all its seats; sold + available = total.

    `available_seats` is the show's own count (GET /api/shows/{id}), `show_seat_ids` the
    show's seats in the database; each is checked against the seat map when given.
    """
    violations = []
    statuses = {str(seat): status for seat, status in seat_statuses.items()}
    if show_seat_ids is not None:
        stored = set(_ids(show_seat_ids))
        if stored != set(statuses):
            violations.append(f"the seat map lists {len(set(statuses) - stored)} seat(s) the show does not have "
                              f"and misses {len(stored - set(statuses))} of its seats")
    odd = sorted(seat for seat, status in statuses.items() if status not in (AVAILABLE, BOOKED))
    if odd:
        violations.append(f"seat map has {len(odd)} seat(s) with an unknown status, e.g. seat {odd[0]}: "
                          f"{statuses[odd[0]]!r}")
    booked = sum(status == BOOKED for status in statuses.values())
    available = sum(status == AVAILABLE for status in statuses.values())
    if len(statuses) != total:
        violations.append(f"seat map lists {len(statuses)} seats, the show has {total}")
    if booked + available != total:
        violations.append(f"sold ({booked}) + available ({available}) = {booked + available}, "
                          f"not the show's total of {total}")
    if available_seats is not None and available_seats != available:
        violations.append(f"the show says {available_seats} seats are available, "
                          f"its seat map shows {available}")

    by_id = {str(booking["id"]): booking for booking in bookings}
    confirmed = {booking_id: _ids(booking.get("seats")) for booking_id, booking in by_id.items()
                 if booking.get("status") == CONFIRMED}

    # A seat in two confirmed bookings is sold twice, whatever the claims say.
    sold_to = _buyers({"id": booking_id, "seats": seats} for booking_id, seats in confirmed.items())
    for seat, owners in sorted(sold_to.items()):
        if len(owners) > 1:
            violations.append(f"seat {seat} is sold twice: confirmed bookings {', '.join(sorted(owners))}")

    if claims is None:
        # API only: a confirmed booking's seats must at least show as BOOKED.
        for booking_id, seats in sorted(confirmed.items()):
            for seat in seats:
                if statuses.get(seat) != BOOKED:
                    violations.append(f"confirmed booking {booking_id} holds seat {seat}, "
                                      f"but the seat map shows it {statuses.get(seat, 'missing')}")
        return violations

    claims = [(str(seat), str(booking_id)) for seat, booking_id in claims]
    counts = Counter(seat for seat, _ in claims)
    claimed_by = {}
    for seat, booking_id in claims:
        claimed_by.setdefault(seat, []).append(booking_id)
    for seat, count in sorted(counts.items()):
        if count > 1:
            violations.append(f"seat {seat} is claimed {count} times (bookings {', '.join(sorted(claimed_by[seat]))})")
    for seat, booking_id in sorted(claims):
        if seat not in statuses:
            violations.append(f"seat {seat} is claimed by booking {booking_id} but is not in the show's seat map")
        elif statuses[seat] != BOOKED:
            violations.append(f"seat {seat} is claimed by booking {booking_id}, "
                              f"but the seat map shows it {statuses[seat]}")
        booking = by_id.get(booking_id)
        if booking is None:
            violations.append(f"seat {seat} is claimed by booking {booking_id}, which is not a booking of this show")
        elif booking.get("status") != CONFIRMED:
            violations.append(f"seat {seat} is claimed by booking {booking_id}, which is {booking.get('status')}")
        elif seat not in _ids(booking.get("seats")):
            violations.append(f"seat {seat} is claimed by booking {booking_id}, which did not ask for it")
    for seat, status in sorted(statuses.items()):
        if status == BOOKED and seat not in counts:
            violations.append(f"seat {seat} shows BOOKED but nobody claims it")
    for booking_id, seats in sorted(confirmed.items()):
        for seat in seats:
            owners = claimed_by.get(seat, [])
            if booking_id not in owners:
                holder = f"claimed by {', '.join(owners)}" if owners else "not claimed"
                violations.append(f"confirmed booking {booking_id} holds seat {seat}, but the seat is {holder}")
    return violations


def race_violations(seat_id: str, requests: int, winners: Sequence[Mapping], refused: int,
                    seat_statuses: Mapping[str, str], read_back: Mapping[str, Mapping],
                    claims: Optional[Iterable[Claim]] = None,
                    run_bookings: Optional[Iterable[Mapping]] = None) -> List[str]:
    """One seat, `requests` attempts at once: exactly one winner, everyone else refused.

    `winners` are the 201 bodies ({"id", "seats": [...]}); `read_back` maps a booking id to
    the booking as read afterwards (GET /api/bookings/{id}); `run_bookings` are this run's
    bookings as the database holds them (None when it cannot be seen).
    """
    seat_id = str(seat_id)
    violations = []
    if len(winners) != 1:
        violations.append(f"{len(winners)} requests won seat {seat_id}; exactly 1 must")
    if refused != requests - 1:
        violations.append(f"{refused} of {requests} requests were refused with Seat unavailable; "
                          f"{requests - 1} must be")
    if seat_statuses.get(seat_id) != BOOKED:
        violations.append(f"seat {seat_id} shows {seat_statuses.get(seat_id, 'missing')} after the race, not BOOKED")
    for winner in winners:
        booking_id = str(winner.get("id"))
        seats = _ids(winner.get("seats"))
        if seats != [seat_id]:
            violations.append(f"winning booking {booking_id} was answered with seats {seats}, not [{seat_id}]")
        booking = read_back.get(booking_id)
        if booking is None:
            violations.append(f"winning booking {booking_id} could not be read back")
            continue
        if booking.get("status") != CONFIRMED:
            violations.append(f"winning booking {booking_id} reads back as {booking.get('status')}, not CONFIRMED")
        if _ids(booking.get("seats")) != [seat_id]:
            violations.append(f"winning booking {booking_id} reads back with seats "
                              f"{_ids(booking.get('seats'))}, not [{seat_id}]")
    if claims is not None:
        owners = [str(booking_id) for seat, booking_id in claims if str(seat) == seat_id]
        winner_ids = {str(winner.get("id")) for winner in winners}
        if len(owners) != 1:
            violations.append(f"seat {seat_id} has {len(owners)} claim rows; exactly 1 must")
        elif len(winner_ids) == 1 and owners[0] not in winner_ids:
            violations.append(f"seat {seat_id} is claimed by booking {owners[0]}, not by the winner {min(winner_ids)}")
    if run_bookings is not None:
        statuses = Counter(booking.get("status") for booking in run_bookings
                           if seat_id in _ids(booking.get("seats")))
        if statuses[CONFIRMED] != 1:
            violations.append(f"the database holds {statuses[CONFIRMED]} CONFIRMED bookings of this run "
                              f"for seat {seat_id}; exactly 1 must")
        if statuses[FAILED] != requests - 1:
            violations.append(f"the database holds {statuses[FAILED]} FAILED bookings of this run "
                              f"for seat {seat_id}; {requests - 1} must")
        others = sum(count for status, count in statuses.items() if status not in (CONFIRMED, FAILED))
        if others:
            violations.append(f"the database holds {others} bookings of this run that are neither "
                              f"CONFIRMED nor FAILED")
    return violations


def sale_violations(sold: Sequence[Mapping], refused: int, seat_statuses: Mapping[str, str],
                    read_back: Mapping[str, Mapping],
                    run_bookings: Optional[Iterable[Mapping]] = None) -> List[str]:
    """Many users, many seats: what the answers promised must be what the show holds.

    `sold` are the 201 bodies ({"id", "seats"}), `refused` the number of 409 Seat unavailable
    answers, `read_back` the sold bookings as read afterwards, `run_bookings` this run's
    bookings in the database (None when it cannot be seen).
    """
    violations = []
    for seat, owners in sorted(_buyers(sold).items()):
        if len(owners) > 1:
            violations.append(_sold_to_many(seat, owners))
        if seat_statuses.get(seat) != BOOKED:
            violations.append(f"seat {seat} was sold but shows {seat_statuses.get(seat, 'missing')}")
    for booking in sold:
        booking_id = str(booking.get("id"))
        answered = sorted(_ids(booking.get("seats")))
        found = read_back.get(booking_id)
        if found is None:
            violations.append(f"sold booking {booking_id} could not be read back")
            continue
        if found.get("status") != CONFIRMED:
            violations.append(f"sold booking {booking_id} reads back as {found.get('status')}, not CONFIRMED")
        if sorted(_ids(found.get("seats"))) != answered:
            violations.append(f"sold booking {booking_id} reads back with other seats than it was sold")
    if run_bookings is not None:
        statuses = Counter(booking.get("status") for booking in run_bookings)
        if statuses[CONFIRMED] != len(sold):
            violations.append(f"the database holds {statuses[CONFIRMED]} CONFIRMED bookings of this run, "
                              f"{len(sold)} were answered 201")
        if statuses[FAILED] != refused:
            violations.append(f"the database holds {statuses[FAILED]} FAILED bookings of this run, "
                              f"{refused} were answered 409 Seat unavailable")
    return violations


def database_violations(sold: Sequence[Mapping], bookings: Iterable[Mapping],
                        claims: Iterable[Claim]) -> Dict[str, List[str]]:
    """Bookings sent straight to the handler, without a seat map to check against (the
    connection storm), judged on the tables: every claim belongs to a CONFIRMED booking, every
    CONFIRMED booking holds the claims of all its seats and a token, and the database agrees
    with what the requests were told.

    `sold` are the 201 answers ({"id", "seats"}); `bookings` every booking of the show, each
    with "hasToken" (whether its token is stored); `claims` the show's `seat_bookings` rows.
    Returns the violations grouped by check, each check's list empty when it holds.
    """
    by_id = {str(booking["id"]): booking for booking in bookings}
    claimed = defaultdict(list)  # booking id -> the seats it claims
    unconfirmed_claims = []
    for seat, booking_id in sorted((str(seat), str(booking_id)) for seat, booking_id in claims):
        claimed[booking_id].append(seat)
        booking = by_id.get(booking_id)
        if booking is None or booking.get("status") != CONFIRMED:
            what = booking.get("status") if booking else "not a booking of this show"
            unconfirmed_claims.append(f"seat {seat} is claimed by booking {booking_id}, which is {what}")
    confirmed = {booking_id: sorted(_ids(booking.get("seats"))) for booking_id, booking in sorted(by_id.items())
                 if booking.get("status") == CONFIRMED}
    missing_claims = [f"confirmed booking {booking_id} holds seats {seats}, but claims {claimed[booking_id]}"
                      for booking_id, seats in confirmed.items() if seats != claimed[booking_id]]
    tokenless = [f"confirmed booking {booking_id} has no token"
                 for booking_id in confirmed if not by_id[booking_id].get("hasToken")]
    told = {str(answer.get("id")) for answer in sold}
    never_told = [f"booking {booking_id} is CONFIRMED, but no request was told so"
                  for booking_id in sorted(set(confirmed) - told)]
    not_stored = [f"booking {booking_id} was answered 201, but the database holds it "
                  f"{by_id[booking_id].get('status') if booking_id in by_id else 'nowhere'}"
                  for booking_id in sorted(told - set(confirmed))]
    sold_twice = [_sold_to_many(seat, owners) for seat, owners in sorted(_buyers(sold).items()) if len(owners) > 1]
    return {
        "claims of a booking that is not CONFIRMED": unconfirmed_claims,
        "CONFIRMED bookings missing claims": missing_claims,
        "CONFIRMED bookings without a token": tokenless,
        "CONFIRMED in the database, never told 201": never_told,
        "told 201, not CONFIRMED in the database": not_stored,
        "seats confirmed to two containers": sold_twice,
    }


def taken_seats_violations(taken: int, booked_seats: int) -> List[str]:
    """The seats a run marked taken are exactly the seats its winners were told they got
    (the strategies comparison, where the claim is a count of rows)."""
    if taken == booked_seats:
        return []
    return [f"{taken} seats are marked taken, but the winners were told they got {booked_seats}"]


def oversold_seats(sold: Iterable[Mapping], bookings: Iterable[Mapping] = ()) -> Dict[str, List[str]]:
    """{seat id: the bookings it went to} for every seat sold more than once: to two 201
    answers (`sold`, {"id", "seats"}), or to two CONFIRMED bookings in the database."""
    told = _buyers(sold)
    stored = _buyers(booking for booking in bookings if booking.get("status") == CONFIRMED)
    owners = {seat: sorted(set(told.get(seat, ())) | set(stored.get(seat, ()))) for seat in set(told) | set(stored)}
    return {seat: ids for seat, ids in sorted(owners.items()) if len(ids) > 1}


AVAILABILITY_LETTERS = {"A": AVAILABLE, "H": "HELD", "B": BOOKED}


def onsale_violations(seat_ids: Sequence[str], statuses: str, sold: Sequence[Mapping],
                      read_back: Optional[Mapping[str, Mapping]] = None,
                      bookings: Optional[Iterable[Mapping]] = None, claims: Optional[Iterable[Claim]] = None,
                      hold_claims: Iterable[Tuple[str, str, bool]] = (),
                      holds: Iterable[Mapping] = ()) -> List[str]:
    """An on-sale's end state: no seat sold twice, every 201 confirmation is a CONFIRMED
    booking of the seats it was told, and (with the database) the claims are exactly the live
    holds' seats plus the confirmed bookings' seats, as the availability string shows them.

    `seat_ids` are the show's seats in layout order and `statuses` the availability string
    read after the sale, before the database (so a hold live in the database was live when it
    was read); `sold` the 201 confirm bodies; `read_back` the sold bookings read through the
    API (when there is no database); `bookings`, `claims` (seat, booking id or None for a
    hold's), `hold_claims` (seat, hold id, live) and `holds` ({"id", "status", "live",
    "seats"}) the show's rows, `claims` None when the database cannot be seen.
    """
    violations = []
    if len(statuses) != len(seat_ids):
        violations.append(f"the availability string has {len(statuses)} characters, the show has {len(seat_ids)} seats")
    odd = sorted(set(statuses) - set(AVAILABILITY_LETTERS))
    if odd:
        violations.append(f"the availability string has unknown letters {''.join(odd)!r}")
    shown = dict(zip((str(seat) for seat in seat_ids), statuses))
    violations += [_sold_to_many(seat, owners) for seat, owners in oversold_seats(sold, bookings or ()).items()]
    for booking in sold:
        seats = _ids(booking.get("seats"))
        not_booked = [seat for seat in seats if shown.get(seat) != "B"]
        if not_booked:
            violations.append(f"booking {booking.get('id')} was confirmed, but seat {not_booked[0]} shows "
                              f"{AVAILABILITY_LETTERS.get(shown.get(not_booked[0]), 'missing')}")
    stored = {str(booking["id"]): booking for booking in bookings} if bookings is not None else read_back
    for booking in sold if stored is not None else ():
        booking_id, seats = str(booking.get("id")), sorted(_ids(booking.get("seats")))
        found = stored.get(booking_id)
        if found is None or found.get("status") != CONFIRMED or sorted(_ids(found.get("seats"))) != seats:
            what = f"{found.get('status')} with seats {sorted(_ids(found.get('seats')))}" if found else "nowhere"
            violations.append(f"booking {booking_id} was confirmed (201) with seats {seats}, but is {what}")
    if claims is not None:
        violations += _claims_against_holds_and_bookings(shown, bookings or (), claims, hold_claims, holds)
    return violations


def _claims_against_holds_and_bookings(shown: Mapping[str, str], bookings: Iterable[Mapping],
                                       claims: Iterable[Claim], hold_claims: Iterable[Tuple[str, str, bool]],
                                       holds: Iterable[Mapping]) -> List[str]:
    violations = []
    claims = [(str(seat), owner) for seat, owner in claims]
    hold_claims = [(str(seat), str(hold_id), live) for seat, hold_id, live in hold_claims]
    for seat, count in sorted(Counter(seat for seat, _ in claims).items()):
        if count > 1:
            violations.append(f"seat {seat} is claimed {count} times")
    confirmed = {str(booking["id"]): set(_ids(booking.get("seats"))) for booking in bookings
                 if booking.get("status") == CONFIRMED}
    live_holds = {str(hold["id"]): set(_ids(hold.get("seats"))) for hold in holds
                  if hold.get("status") == "ACTIVE" and hold.get("live")}
    known_holds = {str(hold["id"]) for hold in holds}
    claimed_by = defaultdict(set)  # booking or hold id -> its claimed seats
    for seat, booking_id in claims:
        if booking_id is None:
            continue  # a hold's claim: below
        claimed_by[str(booking_id)].add(seat)
        if seat not in confirmed.get(str(booking_id), ()):
            violations.append(f"seat {seat} is claimed by booking {booking_id}, not a CONFIRMED booking of it")
        if shown.get(seat) != "B":
            violations.append(f"seat {seat} is a booking's, but the availability shows it {shown.get(seat)}")
    for seat, hold_id, live in hold_claims:
        if hold_id not in known_holds:
            violations.append(f"seat {seat} is claimed by hold {hold_id}, which is not a hold of this show")
        if not live:
            continue  # a lapsed claim is a free seat, whoever's it was
        claimed_by[hold_id].add(seat)
        if seat not in live_holds.get(hold_id, ()):
            violations.append(f"seat {seat} is claimed by hold {hold_id}, not a live hold of it")
        if shown.get(seat) != "H":
            violations.append(f"seat {seat} is a live hold's, but the availability shows it {shown.get(seat)}")
    for owner, seats in sorted({**confirmed, **live_holds}.items()):
        missing = sorted(seats - claimed_by[owner])
        if missing:
            violations.append(f"confirmed booking or live hold {owner} has seat {missing[0]} "
                              f"(and {len(missing) - 1} more) without claiming it")
    # A hold may lapse between the two reads, never the other way round: an H needs a hold's
    # claim, lapsed or not, and a B a booking's.
    claimants = {"H": {seat for seat, _, _ in hold_claims},
                 "B": {seat for seat, booking_id in claims if booking_id is not None}}
    for seat, letter in shown.items():
        if letter in claimants and seat not in claimants[letter]:
            violations.append(f"seat {seat} shows {AVAILABILITY_LETTERS[letter]}, but no "
                              f"{'hold' if letter == 'H' else 'booking'} claims it")
    return violations
