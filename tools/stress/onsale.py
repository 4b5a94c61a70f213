"""`python -m tools.stress onsale --layout FILE --buyers N [--clients C] (--url BASE |
--containers N | --lambda NAME)`: an on-sale, as the contract's row says (docs/stress.md).

It creates a show from the layout, then N buyers, run by C client threads, each want 1-6
seats (--seats): some ask for the best available (sometimes in one category), the others pick
adjacent free seats of one row, drawn toward the front. Each holds, then confirms with the
hold's token, except a share who abandon their hold and let it lapse. A refused buyer tries
again a few times with fresher availability, then gives up. The sale ends when the show is
sold out (no `A` in the availability) or the buyers are spent; then what it left is read
back and judged (invariant.onsale_violations) and reported (onsale_report).

The driver stays light so that it measures the server, not itself: the layout is read and
parsed once, the availability is one copy for the whole crowd (as a CDN's, `max-age=1`)
refreshed at most once a second with `If-None-Match`, and the crowd's own claims are laid
over it incrementally (seatview.SeatView). Its CPU share is measured and reported.
"""
import itertools
import json
import random
import secrets
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, List, Optional, Tuple

from . import evidence, invariant, onsale_report, report
from .events import Answer, Request
from .scenarios import SetupError, create_show_in, new_run_id
from .seatview import SeatView, parse_room, stranded_singles
from .targets import Client, Target

AVAILABILITY_MAX_AGE_S = 1.0  # the route's Cache-Control: the crowd reads it no more often
BEST_SHARE = 0.5  # buyers who ask for the best available rather than pick
CATEGORY_SHARE = 0.3  # of those, buyers who ask within one price category
RETRY_AFTER_CAP_S = 1.0  # a 503's Retry-After, followed up to this long
# A buyer refused NOT_ENOUGH_SEATS waits up to 1.5 s for a fresher seat map, and keeps its
# client thread meanwhile: with 16 clients, late in the stadium's sale (15 such refusals a
# second) most of them waited while eight containers had room (80 s with 32 or 64, 91 with 16).
DEFAULT_CLIENTS = 32


def add_arguments(parser) -> None:
    """The onsale's own options (the target and output options are the common ones)."""
    parser.add_argument("--layout", required=True, metavar="FILE", help="venue layout (JSON), e.g. layouts/stadium.json")
    add_buyer_arguments(parser)
    parser.add_argument("--create-function", metavar="NAME",
                        help="with --lambda: the deployed create_show function that creates the show")
    parser.add_argument("--seed", type=int, help="random seed for the buyers' choices")


def add_buyer_arguments(parser, required: bool = True) -> None:
    """The buyers' options and the created show's settings (also the viewer storm's, with --onsale)."""
    parser.add_argument("--buyers", type=int, required=required, metavar="N", help="buyers of 1-6 seats each")
    parser.add_argument("--clients", type=int, default=DEFAULT_CLIENTS, metavar="C",
                        help=f"concurrent clients (default {DEFAULT_CLIENTS})")
    parser.add_argument("--hold-minutes", type=int, default=10, metavar="M",
                        help="the created show's holdMinutes, 1-60 (default 10); 1 lets abandoned holds lapse "
                             "and be taken over within a short run")
    parser.add_argument("--max-seats-per-user", type=int, default=10, metavar="K",
                        help="the created show's maxSeatsPerUser (default 10)")
    parser.add_argument("--seats", type=_seat_range, default=(1, 6), metavar="MIN-MAX",
                        help="seats a buyer wants, drawn evenly from MIN to MAX, at most 10 (default 1-6)")
    parser.add_argument("--abandon", type=_share, default=0.05, metavar="SHARE",
                        help="share of buyers who let their hold lapse, e.g. 0.05 or 5%% (default 5%%)")
    parser.add_argument("--attempts", type=int, default=4, metavar="A",
                        help="holds a refused buyer tries before giving up (default 4)")


def _seat_range(text: str) -> Tuple[int, int]:
    low, _, high = text.partition("-")
    seats = (int(low), int(high or low))
    if not 1 <= seats[0] <= seats[1] <= 10:
        raise ValueError(text)
    return seats


def _share(text: str) -> float:
    value = float(text[:-1]) / 100 if text.endswith("%") else float(text)
    if not 0 <= value <= 1:
        raise ValueError(text)
    return value


@dataclass
class Call:
    """One request of the sale, as the report needs it."""
    kind: str  # "hold", "confirm", "availability", "layout"
    status: Optional[int]
    code: Optional[str]  # the contract's error code, or what went wrong when nothing answered
    started: float
    ended: float
    seats: int = 0  # seats sold by a 201 confirmation
    best: bool = False  # a hold that asked for the best available rather than for seats


def _call_of(kind: str, answer: Answer, seats: int = 0, best: bool = False) -> Call:
    code = answer.error_code if answer.status is not None else (answer.error or "no answer").split(":", 1)[0]
    return Call(kind, answer.status, code, answer.started, answer.ended, seats, best)


@dataclass
class Sale:
    """The crowd's shared state while it buys."""
    target: Target
    show_id: str
    view: SeatView
    run_id: str
    abandon: float
    attempts: int
    seats: Tuple[int, int]  # fewest and most seats a buyer wants
    bar: report.Progress
    ordinals: dict = field(default_factory=dict)  # seat id -> ordinal
    calls: List[Call] = field(default_factory=list)  # list.append is atomic: no lock
    sold: List[dict] = field(default_factory=list)  # 201 confirmations: {"id", "seats", "bookingToken"}
    refusals: int = 0  # for the progress bar only: the report counts the calls
    stop: threading.Event = field(default_factory=threading.Event)
    refreshing: threading.Lock = field(default_factory=threading.Lock)
    etag: Optional[str] = None
    fetched_at: float = 0.0  # when the crowd's copy was last read (the read's start)

    def send(self, client: Client, kind: str, request: Request) -> Answer:
        answer = client.call(request)
        self.calls.append(_call_of(kind, answer, best=isinstance(request.body, dict) and "best" in request.body))
        return answer

    def refresh(self, client: Client) -> None:
        """Reads the availability when the crowd's copy is older than its max-age; one client
        reads while the others go on with the copy they have."""
        if time.monotonic() - self.fetched_at < AVAILABILITY_MAX_AGE_S or not self.refreshing.acquire(False):
            return
        try:
            headers = {"If-None-Match": self.etag} if self.etag else {}
            answer = self.send(client, "availability",
                               Request("GET", f"/shows/{self.show_id}/availability", headers=headers))
            if answer.status == 200 and isinstance(answer.body, dict):
                self.etag = answer.headers.get("etag")
                self.view.refresh(answer.body.get("statuses", ""), since=answer.started)
            self.fetched_at = answer.started
            if self.view.server_free == 0:
                self.stop.set()  # sold out: no seat is `A`
        finally:
            self.refreshing.release()

    def await_fresher(self, client: Client, since: float) -> None:
        """Waits (at most about the max-age) for a copy of the availability read after `since`:
        asking again at once, on what the server has just said no to, would only be refused."""
        deadline = since + AVAILABILITY_MAX_AGE_S + 0.5
        while self.fetched_at < since and not self.stop.is_set() and time.monotonic() < deadline:
            self.refresh(client)
            if self.fetched_at < since:
                time.sleep(0.05)

    def buy(self, client: Client, index: int, rng: random.Random) -> None:
        """One buyer: hold the seats wanted, then confirm (or abandon); a few tries when refused."""
        user = f"{self.run_id}-{index}"
        count = rng.randint(*self.seats)
        wants_best = rng.random() < BEST_SHARE
        room = self.view.room
        category = rng.choice(room.category_ids) if wants_best and rng.random() < CATEGORY_SHARE else None
        for _ in range(self.attempts):
            if self.stop.is_set():
                return
            self.refresh(client)
            if count > self.view.largest_group():
                return  # the seat map shows no row with that many free seats together: the buyer leaves
            picked = None if wants_best else self.view.pick(count, rng)
            if picked is None:  # no group in sight: the server may still find one
                best = {"count": count, **({"category": category} if category else {})}
                body = {"userId": user, "best": best}
            else:
                body = {"userId": user, "seatIds": [room.seat_ids[ordinal] for ordinal in picked]}
            answer = self.send(client, "hold", Request("POST", f"/shows/{self.show_id}/holds", body))
            if answer.status == 201 and isinstance(answer.body, dict):
                self._held(client, answer, rng)
                return
            code = answer.error_code
            self.refusals += 1
            if code == "SEAT_UNAVAILABLE":
                taken = (self.ordinals.get(str(seat)) for seat in answer.body.get("seatIds") or ())
                self.view.mark_taken([ordinal for ordinal in taken if ordinal is not None], answer.ended)
            elif code == "NOT_ENOUGH_SEATS":
                category = None  # a buyer turned away from one price takes any
                self.await_fresher(client, answer.ended)
                if count > self.view.largest_group():
                    return  # no row shows that many free seats together: asking again is hopeless
            elif code == "UNAVAILABLE":
                time.sleep(min(RETRY_AFTER_CAP_S, float(answer.headers.get("retry-after") or 1)))
            else:
                return  # LIMIT_REACHED, or an answer the contract does not name: this buyer leaves

    def _held(self, client: Client, answer: Answer, rng: random.Random) -> None:
        hold = answer.body
        seats = [str(seat.get("id")) for seat in hold.get("seats") or ()]
        self.view.mark_taken([self.ordinals[seat] for seat in seats if seat in self.ordinals], answer.ended)
        if rng.random() < self.abandon:
            return  # it lapses after the show's holdMinutes, and is taken over
        confirm = client.call(Request("POST", f"/holds/{hold.get('id')}/confirm",
                                      headers={"Authorization": f"Bearer {hold.get('holdToken')}"}))
        booking = confirm.body if confirm.status == 201 and isinstance(confirm.body, dict) else None
        sold = [str(seat.get("id")) for seat in booking.get("seats") or ()] if booking else []
        self.calls.append(_call_of("confirm", confirm, len(sold)))
        if booking:
            self.sold.append({"id": str(booking.get("id")), "seats": sold, "bookingToken": booking.get("bookingToken")})
            self.bar.advance(len(sold))

    def run(self, buyers: int, clients: int, seed: int) -> Tuple[float, float]:
        """Runs the crowd to the end of the sale; (wall seconds, driver CPU seconds)."""
        next_buyer = itertools.count()  # next() on it is atomic under the GIL

        def client_loop(slot: int) -> None:
            rng = random.Random(seed * 1000 + slot)
            client = self.target.client()
            try:
                while not self.stop.is_set():
                    index = next(next_buyer)
                    if index >= buyers:
                        return
                    self.buy(client, index, rng)
            finally:
                client.close()

        threads = [threading.Thread(target=client_loop, args=(slot,), daemon=True) for slot in range(clients)]
        began, cpu_began = time.monotonic(), time.process_time()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return time.monotonic() - began, time.process_time() - cpu_began


def read_layout(path: str) -> dict:
    """The layout file's document, checked as the admin function would (exit 2 if not)."""
    from chalicelib.errors import ModexError
    from chalicelib.layout import parse_layout

    try:
        document = json.loads(Path(path).read_text(encoding="utf-8"))
        parse_layout(document)
    except OSError as error:
        raise SetupError(f"cannot read {path}: {error.strerror}") from None
    except ValueError as error:
        raise SetupError(f"{path} is not valid JSON: {error}") from None
    except ModexError as error:
        raise SetupError(f"{path}: {error}") from None
    return document


def create_show(args, document: dict) -> str:
    """The show to sell: --show, or a new one from the layout (locally, or through the
    deployed create_show function with --lambda)."""
    if args.show:
        return args.show
    name = f"On-sale {Path(args.layout).stem}"
    if args.function_name:
        if not args.create_function:
            raise SetupError("--lambda needs --show ID, or --create-function NAME to create the show")
        return _create_show_remotely(args, document, name)
    if not args.database_url:
        raise SetupError("pass --show ID, or set DATABASE_URL so that a show can be created")
    from chalicelib.layout import parse_layout

    try:
        show_id = create_show_in(args.database_url, parse_layout(document), name, args.hold_minutes,
                                 args.max_seats_per_user)
    except Exception as error:  # unreachable database, bad URL, bad settings
        raise SetupError(f"cannot create a show in DATABASE_URL: {error}") from error
    print(f"created show {show_id} from {args.layout}", file=sys.stderr)
    return show_id


def _create_show_remotely(args, document: dict, name: str) -> str:
    import boto3

    from tools.admin.cli import AdminError, create_show_remotely

    start = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 30 * 86400))
    event = {"name": name, "startTime": start, "layout": document, "holdMinutes": args.hold_minutes,
             "maxSeatsPerUser": args.max_seats_per_user}
    try:
        show = create_show_remotely(args.create_function, event, boto3.client("lambda", region_name=args.region))
    except AdminError as error:
        raise SetupError(f"--create-function: {error}") from None
    return str(show["id"])


def _read_room(target: Target, show_id: str) -> Tuple[List[Call], "SeatView", str]:
    layout = target.call(Request("GET", f"/shows/{show_id}/layout"))
    availability = target.call(Request("GET", f"/shows/{show_id}/availability"))
    for path, answer in (("layout", layout), ("availability", availability)):
        if answer.status != 200 or not isinstance(answer.body, dict):
            raise SetupError(f"GET /api/shows/{show_id}/{path} answered {answer.status or answer.error}")
    view = SeatView(parse_room(layout.body), availability.body.get("statuses", ""))
    return [_call_of("layout", layout), _call_of("availability", availability)], view, availability.headers.get("etag")


def open_sale(target: Target, show_id: str, args, label: str, progress: bool) -> Sale:
    """A sale of the show by buyers as `args` (--abandon, --attempts, --seats) say, once the
    room and the crowd's first copy of its availability are read; its bar counts seats sold."""
    setup_calls, view, etag = _read_room(target, show_id)
    bar = report.Progress(len(view.room.seat_ids), label, progress)
    return Sale(target, show_id, view, new_run_id(), args.abandon, args.attempts, args.seats, bar,
                ordinals=view.room.ordinals_of(), calls=setup_calls, etag=etag, fetched_at=setup_calls[-1].started)


def run(args, make_target: Callable[[], Target]) -> int:
    if args.buyers < 1 or args.clients < 1 or args.attempts < 1:
        raise SetupError("--buyers, --clients and --attempts must be at least 1")
    document = read_layout(args.layout)
    show_id = create_show(args, document)
    target = make_target()
    try:
        progress = sys.stderr.isatty() if args.progress is None else args.progress
        sale = open_sale(target, show_id, args, "sold", progress)
        bar = sale.bar
        began = time.monotonic()
        bar.detail = lambda: onsale_report.progress_detail(bar.done, sale.refusals, began)
        seed = args.seed if args.seed is not None else secrets.randbits(32)
        wall, cpu = sale.run(args.buyers, args.clients, seed)
        bar.finish()
        outcome = judge(sale, target, None if args.no_sql else args.database_url)
    finally:
        target.close()
    summary = onsale_report.summary(sale, outcome, wall=wall, driver_cpu=cpu, seed=seed, args=args, began=began)
    if args.plot:
        onsale_report.plot(args.plot, summary["title"], sale.calls, began)
        summary["plot"] = args.plot
    report.emit(summary, onsale_report.text(summary), args.json)
    if args.json:  # the last line of the output is the verdict's, JSON or not
        print(onsale_report.last_line(summary), file=sys.stderr)
    return 0 if summary["ok"] else 1


@dataclass
class Judgement:
    statuses: str
    stranded: int
    violations: List[str]
    oversold: int
    checked: List[str]


def judge(sale: Sale, target: Target, database_url: Optional[str]) -> Judgement:
    """Reads back what the sale left (the API first, then the database) and judges it."""
    final = target.call(Request("GET", f"/shows/{sale.show_id}/availability"))
    statuses = final.body.get("statuses", "") if final.status == 200 and isinstance(final.body, dict) else ""
    room = sale.view.room
    violations = [] if statuses else [f"the availability could not be read after the sale: {final.status}"]
    sql = evidence.sql_view(database_url, sale.show_id) if database_url else None
    if database_url and sql is None:
        violations.append("the show is not in the database at DATABASE_URL "
                          "(pass --no-sql when the target uses another database)")
    read_back = None if sql else evidence.read_bookings(target, [(b["id"], b["bookingToken"]) for b in sale.sold])
    violations += invariant.onsale_violations(
        room.seat_ids, statuses, sale.sold, read_back=read_back,
        bookings=sql.bookings if sql else None, claims=sql.claims if sql else None,
        hold_claims=sql.hold_claims if sql else (), holds=sql.holds if sql else ())
    oversold = len(invariant.oversold_seats(sale.sold, sql.bookings if sql else ()))
    padded = statuses[:len(room.seat_ids)].ljust(len(room.seat_ids), "B")  # a wrong length is a violation above
    return Judgement(statuses, stranded_singles(room, padded.encode("ascii", "replace")), violations, oversold,
                     ["api", "sql"] if sql else ["api"])
