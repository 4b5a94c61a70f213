"""`make viewers` / `python -m tools.stress viewers`: a crowd watching one show's seat map.

N simulated viewers (default 100, 1,000 and 5,000 in turn) each poll one show's
`GET /api/shows/{id}/availability` every 2 s with If-None-Match, as the frontend does,
while a booker books a seat every 0.5 s so that the statuses keep changing. Each N runs in
two modes, each for --duration seconds (default 20):

  proxy    through nginx as a caching reverse proxy, the stand-in for CloudFront: proxy_cache
           keeping what the origin's Cache-Control allows (max-age=1), proxy_cache_lock on
           (one request per key goes to the origin, the rest wait for it), proxy_cache_use_stale
           updating, gzip on
  direct   straight at the origin: every poll is a request to the app and a read of the database

The origin is the local server (tools/local/serve.py) on a free port against a fresh database
on a private PostgreSQL with pg_stat_statements preloaded. The figure that matters is the
database's own count of the endpoint's reads per second: flat behind the cache however many
viewers there are, and one per poll without it. Which statements are "the endpoint's reads" is
measured, not assumed: a few polls of the endpoint and one booking are run first, and the
statements that every poll runs and the booking does not are counted.

Everything listens on 127.0.0.1. Viewers are asyncio tasks in a few worker processes
(crowd.py); each poll opens a connection of its own (the local server
gives a worker thread to a connection for as long as it stays open, so keep-alive viewers would
starve each other in direct mode). Every request has a timeout; every mode stops by itself.

With --onsale LAYOUT --buyers N, an on-sale of a new show of the layout takes the booker's place
and each round lasts as long as the sale (viewers_onsale.py).

Exit 0 when every answer behind the proxy was 200 or 304; 1 otherwise; 2 when it could not run.
Timeouts and refused connections in direct mode at large N are reported, not failed: an
overloaded origin is what the cache is for.
"""
import argparse
import math
import os
import random
import sys
import threading
from collections import Counter
from contextlib import ExitStack, contextmanager, redirect_stdout
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Dict, Iterator, List, Optional, Sequence, Tuple

from tools.local.nginx import NGINX, Nginx
from tools.local.privatepg import PrivateServerError, postgres_bin_dir

from . import onsale, report
from .crowd import run_crowd
from .scenarios import SetupError

ROOT = Path(__file__).resolve().parents[2]
# What the viewers poll. The seat list says Cache-Control: no-cache, so behind the proxy every
# poll of it still reaches the origin; the availability string says public, max-age=1.
ENDPOINTS = {"availability": "/availability", "seats": "/seats"}
ENDPOINT = "availability"
MODES = ("proxy", "direct")
DEFAULT_VIEWERS = (100, 1000, 5000)
MAX_VIEWERS = 10_000
MAX_DURATION_S = 120.0
ONSALE_DURATION_S = 60.0  # with --onsale, the most a round may last unless --duration says
# nginx's $upstream_cache_status for an answer that the origin never saw.
FROM_CACHE = {"HIT", "UPDATING", "STALE"}
ANSWERED = (200, 304)


# ------------------------------------------------------------ the origin and the database

Snapshot = Dict[int, Tuple[int, str]]  # pg_stat_statements: queryid -> (calls, query text)


class ReadCounter:
    """The endpoint's reads, counted by the database itself (pg_stat_statements)."""

    SNAPSHOT = ("SELECT queryid, sum(calls)::bigint, min(query) FROM pg_stat_statements"
                " WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) GROUP BY queryid")

    def __init__(self, database_url: str):
        from chalicelib import db
        from chalicelib.config import parse_database_url

        self.con = db.connect(parse_database_url(database_url))
        self.con.run("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        self.counted: Dict[int, str] = {}

    def snapshot(self) -> Snapshot:
        return {queryid: (calls, text) for queryid, calls, text in self.con.run(self.SNAPSHOT)}

    def calibrate(self, read: Callable[[], None], book: Callable[[], None], reads: int = 3) -> List[str]:
        """Finds the statements that each read runs once and a booking does not run (the
        transaction's own START/SET LOCAL/COMMIT are in both); returns their text."""
        before = self.snapshot()
        for _ in range(reads):
            read()
        after = self.snapshot()
        per_read = {queryid for queryid, (calls, text) in after.items()
                    if calls - before.get(queryid, (0, ""))[0] == reads and "pg_stat_statements" not in text}
        book()
        booked = self.snapshot()
        self.counted = {queryid: booked[queryid][1] for queryid in per_read
                        if booked[queryid][0] == after[queryid][0]}
        if not self.counted:
            raise RuntimeError("could not tell the endpoint's reads from a booking's statements")
        return [_statement_gist(text) for text in self.counted.values()]

    def reads_since(self, before: Snapshot, until: Optional[Snapshot] = None) -> int:
        """The endpoint's reads between two snapshots (the second one: now)."""
        until = self.snapshot() if until is None else until
        return max(until.get(queryid, (0, ""))[0] - before.get(queryid, (0, ""))[0] for queryid in self.counted)

    def close(self) -> None:
        self.con.close()


def _statement_gist(text: str) -> str:
    """A statement on one line without its comments, shortened: what the report names."""
    code = " ".join(line.split("--", 1)[0] for line in text.splitlines())
    return " ".join(code.split())[:90]


class Booker(threading.Thread):
    """Books one seat every `every` seconds through the API (straight at the origin), each for
    a user of its own, so that the seat statuses keep changing while the crowd watches."""

    def __init__(self, origin: str, show_id: str, every: float, seed: int, timeout: float):
        from .targets import HttpTarget

        super().__init__(daemon=True, name="viewers-booker")
        self.target, self.show_id, self.every = HttpTarget(origin, timeout=timeout), show_id, every
        self.stopping = threading.Event()
        self.answers: Counter = Counter()
        seats = self.call("GET", f"/shows/{show_id}/seats").body["seats"]
        self.free = [seat["id"] for seat in seats if seat["status"] == "AVAILABLE"]
        random.Random(seed).shuffle(self.free)

    def call(self, method: str, path: str, body: Optional[dict] = None, headers: Optional[dict] = None):
        from .events import Request

        return self.target.call(Request(method, path, body, headers or {}))

    def book_one(self) -> None:
        if self.free:
            seat = self.free.pop()
            answer = self.call("POST", f"/shows/{self.show_id}/bookings", {"userId": f"viewer-booker-{seat}",
                                                                          "seatIds": [seat]})
            self.answers[answer.status or answer.error] += 1

    def change_two(self) -> None:
        """Books a seat, then holds another and confirms the hold: each way a seat is sold (an
        on-sale holds and confirms), for telling the endpoint's reads from the sale's statements."""
        self.book_one()
        if self.free:
            seat = self.free.pop()
            hold = self.call("POST", f"/shows/{self.show_id}/holds", {"userId": f"viewer-holder-{seat}",
                                                                     "seatIds": [seat]})
            if hold.status == 201:
                self.call("POST", f"/holds/{hold.body['id']}/confirm",
                          headers={"Authorization": f"Bearer {hold.body['holdToken']}"})

    def run(self) -> None:
        while not self.stopping.is_set():
            self.book_one()
            self.stopping.wait(self.every)

    def stop(self) -> None:
        self.stopping.set()
        self.join(timeout=60)
        self.target.close()


# ------------------------------------------------------------------------------ a round

@dataclass
class Round:
    viewers: int
    mode: str
    duration: float
    interval: float
    records: list  # (status or error name, started s, latency s, X-Cache-Status)
    db_reads: int  # all the reads the round caused, the origin's backlog after the deadline included
    db_reads_in_time: int  # while the polls were going
    bookings: Dict[str, int]

    def figures(self) -> dict:
        answered = [record for record in self.records if record[0] in ANSWERED]
        # The rate counts answers that came within the round, not those of the last polls'
        # stragglers (an overloaded origin answers them later).
        in_time = sum(1 for record in answered if record[1] + record[2] <= self.duration)
        latencies = [record[2] * 1000 for record in answered]
        statuses = Counter(record[0] for record in answered)
        others = Counter(str(record[0]) for record in self.records if record[0] not in ANSWERED)
        p50, p99 = (report.percentile(latencies, pct) for pct in (50, 99))
        return {
            "viewers": self.viewers, "mode": self.mode, "seconds": self.duration,
            "pollsWantedPerSecond": round(self.viewers / self.interval, 1),
            "requests": len(self.records), "answered200": statuses[200], "answered304": statuses[304],
            "others": dict(others), "answersPerSecond": round(in_time / self.duration, 1),
            "p50Ms": None if p50 is None else round(p50, 1), "p99Ms": None if p99 is None else round(p99, 1),
            "fromCache": sum(1 for record in answered if record[3] in FROM_CACHE),
            "dbReads": self.db_reads, "dbReadsInTime": self.db_reads_in_time,
            "dbReadsPerSecond": round(self.db_reads_in_time / self.duration, 2),
            "bookings": {str(status): count for status, count in self.bookings.items()},
        }


def missing_tools() -> List[str]:
    """What this machine lacks for a storm (nginx, pg_stat_statements); empty when nothing."""
    missing = [] if os.path.exists(NGINX) else [f"nginx ({NGINX}: apt-get install -y nginx)"]
    try:
        lib = postgres_bin_dir().parent / "lib"
    except PrivateServerError as error:
        return missing + [str(error)]
    if not any((lib / sub / "pg_stat_statements.so").exists() for sub in ("", "postgresql")):
        missing.append(f"pg_stat_statements ({lib}: apt-get install -y postgresql-15)")
    return missing


@dataclass
class Stage:
    """What the viewers poll and what counts the reads: a fresh database on a private
    PostgreSQL with pg_stat_statements, the origin on a free port, nginx in front of it."""
    database_url: str
    origin_url: str
    ports: Dict[str, int]  # mode -> the port the viewers poll
    counter: ReadCounter
    counted: List[str]  # the statements counted as the endpoint's reads


@contextmanager
def stage(endpoint: str, with_proxy: bool, timeout: float, seed: int,
          log: Callable[[str], None], keep_alive_clients: int = 0) -> Iterator[Stage]:
    """Starts PostgreSQL, the origin and (`with_proxy`) nginx, and tells the endpoint's reads
    from a booking's and a hold's statements on a show of its own; stops them all on exit.
    The origin gives a worker to a keep-alive connection while it is open: it has its default
    workers on top of `keep_alive_clients` (an on-sale's buyers), so that those never leave the
    proxy's requests waiting for a worker."""
    from tools.local import localdb
    from tools.local.privatepg import PrivatePostgres
    from tools.local.serve import DEFAULT_WORKERS, make_server
    from .scenarios import create_show

    with ExitStack() as stack:
        server = stack.enter_context(PrivatePostgres(preload=("pg_stat_statements",)))
        url = stack.enter_context(localdb.database_on(server.url("postgres"), "modex_viewers"))
        log(f"{server.version()} on 127.0.0.1:{server.port} with pg_stat_statements")
        origin = make_server(port=0, workers=DEFAULT_WORKERS + keep_alive_clients)
        origin.handle_error = _quiet_hang_ups(origin.handle_error)
        threading.Thread(target=origin.serve_forever, daemon=True, name="viewers-origin").start()
        stack.callback(origin.server_close)
        stack.callback(origin.shutdown)
        origin_url = f"http://127.0.0.1:{origin.server_address[1]}"
        ports = {"direct": origin.server_address[1]}
        if with_proxy:
            ports["proxy"] = stack.enter_context(Nginx(origin.server_address[1])).port
        counter = ReadCounter(url)
        stack.callback(counter.close)
        booker = Booker(origin_url, create_show(url, 1, 10, name="Viewers calibration"), 1.0, seed, timeout)
        path = f"/shows/{booker.show_id}{ENDPOINTS[endpoint]}"
        counted = counter.calibrate(lambda: booker.call("GET", path), booker.change_two)
        booker.target.close()
        log(f"origin {origin_url}" + (f", nginx on 127.0.0.1:{ports['proxy']}" if with_proxy else "") +
            f"; counting the database's calls of: {' | '.join(counted)}")
        yield Stage(url, origin_url, ports, counter, counted)


def storm(viewer_counts: Sequence[int] = DEFAULT_VIEWERS, modes: Sequence[str] = MODES, duration: float = 20.0,
          endpoint: str = ENDPOINT, interval: float = 2.0, book_every: float = 0.5, rows: int = 10,
          seats_per_row: int = 30, timeout: float = 10.0, processes: Optional[int] = None, seed: int = 1,
          progress: bool = False, log: Callable[[str], None] = lambda message: None) -> Tuple[List[Round], List[str]]:
    """Runs every (N, mode) on a stage (see `stage`); returns the rounds and the text of the
    statements counted as the endpoint's reads."""
    from .scenarios import create_show

    rounds: List[Round] = []
    with stage(endpoint, "proxy" in modes, timeout, seed, log) as where:
        counter = where.counter
        for viewers in viewer_counts:
            for mode in modes:
                show_id = create_show(where.database_url, rows, seats_per_row, name=f"Viewers {viewers} {mode}")
                booker = Booker(where.origin_url, show_id, book_every, seed, timeout)
                marks: List[Snapshot] = []
                booker.start()
                try:
                    records = run_crowd(where.ports[mode], f"/api/shows/{show_id}{ENDPOINTS[endpoint]}", viewers,
                                        duration, interval, timeout, crowd_processes(viewers, processes), seed,
                                        report.Progress(int(duration), f"viewers: N={viewers} {mode}", progress),
                                        at_start=lambda: marks.append(counter.snapshot()),
                                        at_end=lambda: marks.append(counter.snapshot()))
                finally:
                    booker.stop()
                result = Round(viewers, mode, duration, interval, records, counter.reads_since(marks[0]),
                               counter.reads_since(marks[0], marks[1]), dict(booker.answers))
                rounds.append(result)
                figures = result.figures()
                log(f"N={viewers} {mode}: {figures['answersPerSecond']} answers/s, p50 {figures['p50Ms']} ms, "
                    f"p99 {figures['p99Ms']} ms, database reads {figures['dbReadsPerSecond']}/s")
    return rounds, where.counted


def crowd_processes(viewers: int, processes: Optional[int]) -> int:
    """Viewer processes: as asked, or one per 1,000 viewers, at most 4."""
    return processes or min(4, max(1, math.ceil(viewers / 1000)))


def _quiet_hang_ups(handle_error: Callable) -> Callable:
    """The origin's error handler, less the tracebacks of viewers that gave up waiting and hung
    up (they count as timeouts already)."""

    def handle(request, client_address) -> None:
        if not isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            handle_error(request, client_address)

    return handle


# --------------------------------------------------------------------------- the report

def ms_text(value: Optional[float]) -> str:
    return "-" if value is None else f"{value:.1f}"


def summary_table(rounds: Sequence[Round]) -> str:
    """One line per (N, mode); "db reads" counts every read a round caused (an overloaded
    origin's backlog included), "db reads/s" those while the polls were going."""
    header = (f"{'viewers':>7}  {'mode':<6}{'polls/s':>8}{'answers/s':>10}{'200':>7}{'304':>7}{'other':>7}"
              f"{'p50 ms':>8}{'p99 ms':>8}{'from cache':>11}{'db reads':>9}{'db reads/s':>11}")
    lines = [header]
    for result in rounds:
        f = result.figures()
        cached = f"{100 * f['fromCache'] / max(1, f['requests']):.0f}%"
        lines.append(f"{f['viewers']:>7}  {f['mode']:<6}{f['pollsWantedPerSecond']:>8.0f}{f['answersPerSecond']:>10.1f}"
                     f"{f['answered200']:>7}{f['answered304']:>7}{sum(f['others'].values()):>7}{ms_text(f['p50Ms']):>8}"
                     f"{ms_text(f['p99Ms']):>8}{cached:>11}{f['dbReads']:>9}{f['dbReadsPerSecond']:>11.2f}")
        if f["others"]:
            lines.append(" " * 9 + "other answers: " + ", ".join(f"{k} x{v}" for k, v in sorted(f["others"].items())))
    return "\n".join(lines)


MODE_STYLES = {"proxy": ("#1565c0", "behind nginx (proxy_cache, 1 s)"), "direct": ("#c62828", "straight at the origin")}


def plot(path: str, rounds: Sequence[Round], title: str) -> None:
    """Answers/s and the database's reads/s against the number of viewers, per mode."""
    import matplotlib

    matplotlib.use("Agg")  # no display: files only
    from matplotlib import pyplot

    figure, (answers, reads) = pyplot.subplots(1, 2, figsize=(12, 4.8), constrained_layout=True)
    figure.suptitle(title, fontsize=11)
    counts = sorted({result.viewers for result in rounds})
    answers.plot(counts, [count / rounds[0].interval for count in counts], color="#9e9e9e", linestyle="--",
                 label=f"polls asked for (N / {rounds[0].interval:g} s)")
    for mode, (colour, label) in MODE_STYLES.items():
        mine = sorted((result for result in rounds if result.mode == mode), key=lambda result: result.viewers)
        if not mine:
            continue
        figures = [result.figures() for result in mine]
        xs = [result.viewers for result in mine]
        answers.plot(xs, [f["answersPerSecond"] for f in figures], marker="o", color=colour, label=label)
        reads.plot(xs, [max(f["dbReadsPerSecond"], 0.01) for f in figures], marker="o", color=colour, label=label)
        for x, f in zip(xs, figures):
            reads.annotate(f"{f['dbReadsPerSecond']:.3g}/s", (x, max(f["dbReadsPerSecond"], 0.01)),
                           textcoords="offset points", xytext=(4, 6), fontsize=8, color=colour)
    for axes, ylabel, heading in ((answers, "answers per second (200 + 304)", "answers to the viewers"),
                                  (reads, "the endpoint's reads per second (pg_stat_statements)",
                                   "database reads")):
        axes.set_xscale("log")
        axes.set_yscale("log")
        axes.set_xticks(counts, [f"{count:,}" for count in counts])
        axes.set_xlabel("viewers, each polling every 2 s")
        axes.set_ylabel(ylabel)
        axes.set_title(heading)
        axes.grid(True, which="major", alpha=0.3)
        low, high = axes.get_ylim()
        axes.set_ylim(low, high * 3)  # room for the legend and the labels
        axes.legend(fontsize=8, loc="upper left", framealpha=0.9)
    figure.savefig(path, dpi=100)
    pyplot.close(figure)


def _viewer_count(text: str) -> int:
    value = int(text)
    if not 1 <= value <= MAX_VIEWERS:
        raise argparse.ArgumentTypeError(f"from 1 to {MAX_VIEWERS:,}")
    return value


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.stress viewers", description=__doc__.split("\n\n")[0])
    parser.add_argument("--viewers", type=_viewer_count, nargs="+", default=list(DEFAULT_VIEWERS), metavar="N",
                        help="crowd sizes to run in turn (default 100 1000 5000)")
    parser.add_argument("--mode", choices=MODES, action="append", help="run only this mode (default: both)")
    parser.add_argument("--duration", type=float, metavar="S",
                        help="seconds per N and mode (default 20); with --onsale, the most a round may last "
                             "(default 60)")
    parser.add_argument("--endpoint", choices=sorted(ENDPOINTS), default=ENDPOINT,
                        help=f"what the viewers poll (default {ENDPOINT})")
    parser.add_argument("--interval", type=float, default=2.0, metavar="S", help="seconds between a viewer's polls")
    parser.add_argument("--book-every", type=float, default=0.5, metavar="S", help="seconds between bookings")
    parser.add_argument("--rows", type=int, default=10, help="rows of the show (default 10)")
    parser.add_argument("--seats-per-row", type=int, default=30, help="seats per row (default 30)")
    parser.add_argument("--timeout", type=float, default=10.0, metavar="S", help="per-request timeout (default 10)")
    parser.add_argument("--processes", type=int, metavar="P",
                        help="viewer processes (default: one per 1,000 viewers, at most 4)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", action="store_true", help="print the summary as JSON on stdout (table on stderr)")
    parser.add_argument("--plot", metavar="FILE.png", help="draw answers/s and database reads/s against N "
                                                           "(with --onsale: reads/s and seats sold/s over time)")
    parser.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                        help="progress line on stderr (default: when stderr is a terminal)")
    during = parser.add_argument_group("during an on-sale (tools/stress/viewers_onsale.py)",
                                       "instead of the booker, the on-sale's buyers buy a new show of LAYOUT "
                                       "while the viewers poll it (--book-every, --rows, --seats-per-row and "
                                       "--endpoint do not apply)")
    during.add_argument("--onsale", dest="layout", metavar="LAYOUT",
                        help="venue layout, e.g. layouts/concert-hall.json")
    onsale.add_buyer_arguments(during, required=False)
    args = parser.parse_args(argv)
    if args.duration is None:
        args.duration = ONSALE_DURATION_S if args.layout else 20.0
    if not 0 < args.duration <= MAX_DURATION_S or not 0.1 <= args.interval <= args.duration:
        parser.error(f"need 0 < duration <= {MAX_DURATION_S:g} and 0.1 <= interval <= duration")
    if args.book_every < 0.05 or not 0 < args.timeout <= 60 or (args.processes is not None and args.processes < 1):
        parser.error("need book-every >= 0.05, 0 < timeout <= 60, processes >= 1")
    if args.layout and (args.buyers is None or args.buyers < 1 or args.clients < 1 or args.attempts < 1 or
                        args.endpoint != ENDPOINT):
        parser.error("--onsale needs --buyers N, and --buyers, --clients and --attempts of at least 1; "
                     "its viewers poll the availability")
    missing = missing_tools()
    if missing:
        print("viewers: missing " + "; ".join(missing), file=sys.stderr)
        return 2
    modes = tuple(mode for mode in MODES if mode in (args.mode or MODES))
    progress = sys.stderr.isatty() if args.progress is None else args.progress
    if args.layout:
        from . import viewers_onsale  # it imports this module

    def log(message: str) -> None:
        print(f"viewers: {message}", file=sys.stderr, flush=True)

    try:
        # The origin runs in this process, and the app writes a JSON log line per request to
        # stdout (in Lambda, CloudWatch's): written, as there, and dropped, so that stdout
        # carries the report.
        with open(os.devnull, "w") as devnull, redirect_stdout(devnull):
            if args.layout:
                rounds, counted = viewers_onsale.storm(args, modes, progress, log)
            else:
                rounds, counted = storm(args.viewers, modes, args.duration, args.endpoint, args.interval,
                                        args.book_every, args.rows, args.seats_per_row, args.timeout,
                                        args.processes, args.seed, progress, log)
    except (PrivateServerError, RuntimeError, SetupError) as error:
        print(f"viewers: {error}", file=sys.stderr)
        return 2
    if args.layout:
        return viewers_onsale.conclude(args, modes, rounds, counted)
    return conclude(args, modes, rounds, counted)


def conclude(args, modes: Sequence[str], rounds: Sequence[Round], counted: List[str]) -> int:
    """Prints the report (and draws the plot); the exit status."""
    title = (f"{'/'.join(modes)}: viewers polling GET /api/shows/{{id}}{ENDPOINTS[args.endpoint]} every "
             f"{args.interval:g} s, a booking every {args.book_every:g} s, {args.duration:g} s per run")
    summary = {"endpoint": ENDPOINTS[args.endpoint], "countedStatements": counted,
               "rounds": [result.figures() for result in rounds]}
    if args.plot:
        plot(args.plot, rounds, title)
        summary["plot"] = args.plot
    failed = [result for result in rounds
              if result.mode == "proxy" and any(record[0] not in ANSWERED for record in result.records)]
    ending = ", ".join(f"{mode} db reads/s " + "/".join(f"{result.figures()['dbReadsPerSecond']:g}"
                                                        for result in rounds if result.mode == mode)
                       for mode in modes)
    text = "\n".join([title, summary_table(rounds),
                      f"viewers: N={'/'.join(str(count) for count in args.viewers)} {ending}"])
    report.emit(summary, text, args.json)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
