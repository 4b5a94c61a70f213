"""The scenarios: `race` (many requests for one seat at one moment) and `flash_sale` (many
users buying a small show until it is sold out). Each sends its load through a target,
reads back what the run left (API, and SQL when a database URL is given), lets the
invariant module judge it, and returns an Outcome the caller prints."""
import random
import secrets
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import List, Optional, Sequence

from . import evidence, invariant, report
from .events import Answer, Request
from .targets import Target

SEAT_UNAVAILABLE_MESSAGE = "Seat unavailable"


class SetupError(Exception):
    """The run cannot start (no show, no free seat, target unreachable): exit 2."""


@dataclass
class Outcome:
    ok: bool
    title: str
    summary: dict
    text: str
    answers: List[Answer] = field(default_factory=list)  # the booking requests, for the plot


def new_run_id() -> str:
    """Prefix of every userId this run sends, so its bookings can be told from any other's."""
    return f"stress-{secrets.token_hex(4)}"


def create_show(database_url: str, rows: int, seats_per_row: int, name: str) -> str:
    """A fresh show of one section of `rows` x `seats_per_row` seats, in DATABASE_URL."""
    from chalicelib.layout import grid

    return create_show_in(database_url, grid(rows, seats_per_row), name)


def create_show_in(database_url: str, layout, name: str, hold_minutes: Optional[int] = None,
                   max_seats_per_user: Optional[int] = None) -> str:
    """A fresh show of `layout` (a chalicelib.layout.Layout) through the service layer (the
    admin function's path), in DATABASE_URL; the show's defaults where a setting is None."""
    from chalicelib import db, services
    from chalicelib.config import parse_database_url
    from chalicelib.validation import ShowRequest
    from tools.admin.cli import CREATE_SHOW_STATEMENT_TIMEOUT_MS

    # A stadium's seats go in with one statement: the admin function's timeout, not a booking's.
    db.configure(parse_database_url(database_url, statement_timeout_ms=int(CREATE_SHOW_STATEMENT_TIMEOUT_MS)))
    settings = {"hold_minutes": hold_minutes, "max_seats_per_user": max_seats_per_user}
    try:
        start = datetime.now(timezone.utc) + timedelta(days=30)
        request = ShowRequest(name, start, layout, **{key: value for key, value in settings.items() if value})
        return str(services.create_show(request).id)
    finally:
        # Back to a booking's timeouts, and no open connection: forked containers inherit both.
        db.configure(parse_database_url(database_url))


def is_seat_unavailable(answer: Answer, asked: Sequence[str]) -> bool:
    """A proper refusal: 409 SEAT_UNAVAILABLE, "Seat unavailable", naming only seats asked for."""
    body = answer.body if isinstance(answer.body, dict) else {}
    named = [str(seat) for seat in body.get("seatIds") or ()]
    return (answer.status == 409 and body.get("error") == "SEAT_UNAVAILABLE"
            and body.get("message") == SEAT_UNAVAILABLE_MESSAGE and bool(named) and set(named) <= set(asked))


def describe_other(answer: Answer) -> str:
    if answer.status is None:
        return (answer.error or "no answer").split(":", 1)[0]
    return f"{answer.status} {answer.error_code or ''}".strip()


def _tally(answer: Answer, asked: Sequence[str], counts: Counter, others: Counter, booked: str) -> bool:
    """Counts one booking answer under `booked` (201), "refused" (a proper Seat unavailable),
    "throttled" (429) or "other" (also tallied by kind in `others`); True when it booked."""
    if answer.status == 201 and isinstance(answer.body, dict):
        counts[booked] += 1
        return True
    if is_seat_unavailable(answer, asked):
        counts["refused"] += 1
    elif answer.status == 429:
        counts["throttled"] += 1
    else:
        counts["other"] += 1
        others[describe_other(answer)] += 1
    return False


def _verify(target: Target, show_id: str, database_url: Optional[str]) -> tuple:
    """(API view, SQL view or None, violations found while reading)."""
    api = evidence.api_view(target, show_id)
    problems = list(api.problems)
    sql = None
    if database_url:
        sql = evidence.sql_view(database_url, show_id)
        if sql is None:
            problems.append("the show is not in the database at DATABASE_URL "
                            "(pass --no-sql when the target uses another database)")
    return api, sql, problems


def _seat_invariant(api: evidence.ApiView, sql: Optional[evidence.SqlView]) -> List[str]:
    total = sql.total if sql else api.total
    if total is None:
        return []  # already reported: the show could not be read
    return invariant.seat_invariant(
        total, api.seat_statuses,
        bookings=sql.bookings if sql else (),
        claims=sql.claims if sql else None,
        available_seats=api.available_seats,
        show_seat_ids=sql.seat_ids if sql else None,
    )


def _invariant_rows(violations: List[str], sql) -> list:
    where = "api+sql" if sql else "api"
    return [(f"invariant ({where})", "holds" if not violations else f"VIOLATED ({len(violations)})")]


def _report_text(title, rows, violations, ok: bool) -> str:
    """The summary table, the violations if any, and the verdict line."""
    text = report.table(title, rows)
    if violations:
        text += "\n" + _violation_lines(violations)
    return text + f"\nresult: {'PASS' if ok else 'FAIL'}"


def _violation_lines(violations: List[str], limit: int = 20) -> str:
    lines = [f"  - {violation}" for violation in violations[:limit]]
    if len(violations) > limit:
        lines.append(f"  - ... and {len(violations) - limit} more")
    return "\n".join(lines)


def _others_rows(others: Counter) -> list:
    return [(f"  {kind}", count) for kind, count in sorted(others.items())]


def first_available_seat(target: Target, show_id: str) -> str:
    seat_map, problem = evidence.read_seat_map(target, show_id)
    if problem:
        raise SetupError(problem)
    for seat in seat_map.get("seats", []):
        if seat.get("status") == "AVAILABLE":
            return str(seat["id"])
    raise SetupError(f"show {show_id} has no AVAILABLE seat to race for")


def race(target: Target, show_id: str, seat_id: Optional[str], requests: int, database_url: Optional[str],
         timeout: float, progress: bool = False) -> Outcome:
    """`requests` bookings of one seat released together: exactly one must win."""
    if requests < 2:
        raise SetupError("--requests must be at least 2 for a race")
    seat_id = str(seat_id) if seat_id else first_available_seat(target, show_id)
    run_id = new_run_id()
    bookings = [Request("POST", f"/shows/{show_id}/bookings", {"userId": f"{run_id}-{index:04d}", "seatIds": [seat_id]})
                for index in range(requests)]
    bar = report.Progress(requests, "race", progress)
    began = time.monotonic()
    answers = target.burst(bookings, timeout, on_answer=bar.advance)
    wall = time.monotonic() - began
    bar.finish()

    counts, others = Counter(), Counter()
    winners = []
    for answer in answers:
        if _tally(answer, [seat_id], counts, others, "succeeded"):
            winners.append(answer.body)

    api, sql, violations = _verify(target, show_id, database_url)
    read_back = evidence.read_bookings(target, [(str(body.get("id")), body.get("bookingToken", ""))
                                                for body in winners])
    violations += _seat_invariant(api, sql)
    violations += invariant.race_violations(
        seat_id, requests, winners, counts["refused"], api.seat_statuses, read_back,
        claims=sql.claims if sql else None,
        run_bookings=sql.run_bookings(run_id) if sql else None,
    )
    ok = (counts["succeeded"] == 1 and counts["refused"] == requests - 1 and not counts["throttled"]
          and not counts["other"] and not violations)

    latency = report.latency_ms(answers)
    in_flight = report.max_in_flight(answers)
    title = f"race: {requests} requests for seat {seat_id} of show {show_id} ({target.name})"
    rows = [
        ("succeeded (201)", counts["succeeded"]),
        ("refused (409 Seat unavailable)", counts["refused"]),
        ("throttled (429)", counts["throttled"]),
        ("other answers", counts["other"]),
        *_others_rows(others),
        ("latency p50 / p95 / p99", report.fmt_ms(latency)),
        ("most in flight at once", in_flight),
        ("wall time", f"{wall:.2f} s"),
        ("winner", ", ".join(f"booking {body.get('id')}" for body in winners) or "none"),
        *_invariant_rows(violations, sql),
    ]
    text = _report_text(title, rows, violations, ok)
    summary = {
        "scenario": "race", "target": target.name, "runId": run_id, "showId": show_id, "seatId": seat_id,
        "requests": requests,
        "counts": {name: counts[name] for name in ("succeeded", "refused", "throttled", "other")},
        "otherAnswers": dict(others),
        "latencyMs": latency, "maxInFlight": in_flight, "wallTimeS": round(wall, 3),
        "winners": [str(body.get("id")) for body in winners],
        "invariant": {"checked": ["api", "sql"] if sql else ["api"], "violations": violations},
        "ok": ok,
    }
    return Outcome(ok, title, summary, text, answers)


@dataclass
class _Attempt:
    seats: List[str]
    answer: Answer


def flash_sale(target: Target, show_id: str, users: int, seats_per_user: int, database_url: Optional[str],
               timeout: float, max_attempts: int = 100, duration: float = 120, progress: bool = False,
               seed: Optional[int] = None) -> Outcome:
    """`users` users at once, each booking `seats_per_user` random AVAILABLE seats again and
    again (refreshing the seat map in between) until the show is sold out, the user has the
    show's maxSeatsPerUser, or the bounds (attempts per user, overall time) are reached."""
    if users < 1 or not 1 <= seats_per_user <= 10:
        raise SetupError("--users must be at least 1 and --seats-per-user between 1 and 10")
    seat_map, problem = evidence.read_seat_map(target, show_id)
    if problem:
        raise SetupError(problem)
    show = target.call(Request("GET", f"/shows/{show_id}"))
    seat_limit = show.body.get("maxSeatsPerUser", 10) if show.status == 200 and isinstance(show.body, dict) else 10
    total_seats = len(seat_map.get("seats", []))
    available_at_start = sum(seat.get("status") == "AVAILABLE" for seat in seat_map.get("seats", []))
    if not available_at_start:
        raise SetupError(f"show {show_id} is already sold out")
    run_id = new_run_id()
    seed = seed if seed is not None else secrets.randbits(32)
    bar = report.Progress(available_at_start, "seats sold", progress)
    lock = threading.Lock()
    attempts: List[_Attempt] = []
    reads: List[Answer] = []
    stop = threading.Event()  # a throttle or an unexpected answer ends the sale for everyone
    barrier = threading.Barrier(users)
    deadline_box = {}

    def user(index: int) -> None:
        rng = random.Random(seed * 1000 + index)
        client = target.client()
        etag, cached, bought = None, None, 0
        try:
            try:
                client.prepare()
            except Exception:  # the first call will fail and be counted
                pass
            barrier.wait(timeout)
            deadline = deadline_box.setdefault("deadline", time.monotonic() + duration)
            for _ in range(max_attempts):
                if stop.is_set() or time.monotonic() > deadline:
                    return
                headers = {"If-None-Match": etag} if etag else {}
                read = client.call(Request("GET", f"/shows/{show_id}/seats", headers=headers))
                with lock:
                    reads.append(read)
                if read.status == 200 and isinstance(read.body, dict):
                    cached, etag = read.body, read.headers.get("etag")
                elif not (read.status == 304 and cached is not None):
                    stop.set()
                    return
                available = [str(seat["id"]) for seat in cached["seats"] if seat.get("status") == "AVAILABLE"]
                if not available or bought == seat_limit:
                    return  # sold out as far as this user can see, or bought all a user may
                pick = rng.sample(available, min(seats_per_user, len(available), seat_limit - bought))
                answer = client.call(Request("POST", f"/shows/{show_id}/bookings",
                                             {"userId": f"{run_id}-u{index:04d}", "seatIds": pick}))
                with lock:
                    attempts.append(_Attempt(pick, answer))
                if answer.status == 201:
                    bought += len(pick)
                    bar.advance(len(pick))
                elif not is_seat_unavailable(answer, pick):
                    stop.set()  # 429, 5xx, timeout: fail the run now rather than hammer on
                    return
        except threading.BrokenBarrierError:
            return
        finally:
            client.close()

    threads = [threading.Thread(target=user, args=(index,), daemon=True) for index in range(users)]
    began = time.monotonic()
    for thread in threads:
        thread.start()
    hard_stop = began + timeout + duration + 2 * timeout + 5
    for thread in threads:
        thread.join(max(0.0, hard_stop - time.monotonic()))
    hung = sum(thread.is_alive() for thread in threads)
    stop.set()
    wall = time.monotonic() - began
    bar.finish()

    counts, others = Counter(), Counter()
    sold = []
    tokens = []
    for attempt in attempts:
        answer = attempt.answer
        if _tally(answer, attempt.seats, counts, others, "confirmed"):
            sold.append(answer.body)
            tokens.append((str(answer.body.get("id")), answer.body.get("bookingToken", "")))
    bad_reads = [read for read in reads if read.status not in (200, 304)]
    for read in bad_reads:
        if read.status == 429:
            counts["throttled"] += 1
        else:
            counts["other"] += 1
            others[f"seat map: {describe_other(read)}"] += 1

    api, sql, violations = _verify(target, show_id, database_url)
    read_back = evidence.read_bookings(target, tokens)
    violations += _seat_invariant(api, sql)
    violations += invariant.sale_violations(sold, counts["refused"], api.seat_statuses, read_back,
                                            run_bookings=sql.run_bookings(run_id) if sql else None)
    available_now = sum(status == "AVAILABLE" for status in api.seat_statuses.values())
    sold_out = bool(api.seat_statuses) and available_now == 0
    seats_sold = sum(len(body.get("seats") or ()) for body in sold)

    booking_answers = [attempt.answer for attempt in attempts]
    answered = [answer for answer in booking_answers if answer.status is not None]
    span = (max(a.ended for a in answered) - min(a.started for a in answered)) if answered else 0.0
    rate = counts["confirmed"] / span if span > 0 else 0.0
    refusal_rate = counts["refused"] / len(attempts) if attempts else 0.0
    latency = report.latency_ms(booking_answers)
    in_flight = report.max_in_flight(booking_answers)
    ok = sold_out and not violations and not counts["throttled"] and not counts["other"] and not hung
    title = (f"flash-sale: {users} users x {seats_per_user} seats, show {show_id} "
             f"({total_seats} seats, {available_at_start} available) ({target.name})")
    rows = [
        ("booking attempts", len(attempts)),
        ("confirmed (201)", f"{counts['confirmed']} bookings, {seats_sold} seats"),
        ("refused (409 Seat unavailable)", f"{counts['refused']} ({refusal_rate:.1%} of attempts)"),
        ("throttled (429)", counts["throttled"]),
        ("other answers", counts["other"]),
        *_others_rows(others),
        ("seat-map reads", f"{len(reads)} ({sum(read.status == 304 for read in reads)} answered 304)"),
        ("bookings/s", f"{rate:.1f}"),
        ("latency p50 / p95 / p99", report.fmt_ms(latency)),
        ("most in flight at once", in_flight),
        ("sold out", f"{'yes' if sold_out else 'NO'} ({available_now} of {total_seats} available) "
                     f"after {wall:.2f} s"),
        *([("users still running", hung)] if hung else []),
        *_invariant_rows(violations, sql),
    ]
    text = _report_text(title, rows, violations, ok)
    summary = {
        "scenario": "flash-sale", "target": target.name, "runId": run_id, "showId": show_id, "seed": seed,
        "users": users, "seatsPerUser": seats_per_user, "totalSeats": total_seats,
        "availableAtStart": available_at_start, "availableAtEnd": available_now, "soldOut": sold_out,
        "attempts": len(attempts), "seatsSold": seats_sold, "seatMapReads": len(reads),
        "counts": {name: counts[name] for name in ("confirmed", "refused", "throttled", "other")},
        "otherAnswers": dict(others), "refusalRate": round(refusal_rate, 4),
        "bookingsPerSecond": round(rate, 2), "latencyMs": latency, "maxInFlight": in_flight,
        "wallTimeS": round(wall, 3), "hungUsers": hung,
        "invariant": {"checked": ["api", "sql"] if sql else ["api"], "violations": violations},
        "ok": ok,
    }
    return Outcome(ok, title, summary, text, booking_answers)
