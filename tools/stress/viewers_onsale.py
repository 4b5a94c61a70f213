"""`python -m tools.stress viewers --onsale LAYOUT --buyers N`: the viewer storm during an on-sale.

For each N (and mode), a new show of the layout goes on sale: the on-sale's buyers
(onsale.Sale: best available and picked seats, holds then confirmations, by --clients
threads) buy over HTTP straight at the origin, while N viewers poll the show's availability
through nginx (proxy) or straight at the origin (direct), on the stage of `make viewers`
(viewers.stage: a private PostgreSQL with pg_stat_statements, the local server, nginx). A
thread reads the database's own count of the endpoint's reads every second. A round ends with
the sale (sold out, or the buyers spent), or after --duration seconds, whichever comes first;
then the sale is judged as `onsale` judges it (invariant.onsale_violations, through the API and
SQL).

Per round it reports the endpoint's reads per second during the sale (the mean, and the most
in one second), how many of them were the sale's own (its buyers share one copy of the
availability, read at most once a second), seats sold per second, the viewers' answers by
code and p50/p99, and the sale's outcome. --plot draws the database's reads/s and the seats
sold/s over the sale, a line per round.

Exit 1 when an answer behind the proxy was not 200 or 304, a sale oversold or broke the
invariant, or the sale of a proxy round had an answer the contract does not name (in direct
rounds an overloaded origin's timeouts are reported, not failed); 2 when it could not run.
"""
import math
import threading
import time
from collections import Counter
from dataclasses import dataclass
from typing import Callable, Dict, List, Optional, Sequence, Tuple

from . import onsale, onsale_report, report
from .crowd import run_crowd
from .viewers import ENDPOINTS, ReadCounter, Round, crowd_processes, ms_text, stage


class ReadSampler(threading.Thread):
    """The endpoint's reads since it started, read off the database's counter every second
    (`ticks`: seconds since the start, reads so far) and when asked (`mark`)."""

    def __init__(self, counter: ReadCounter):
        super().__init__(daemon=True, name="viewers-read-sampler")
        self.counter = counter
        self.lock = threading.Lock()  # one pg8000 connection, three threads
        self.stopping = threading.Event()
        self.base = counter.snapshot()
        self.began = time.monotonic()
        self.ticks: List[Tuple[float, int]] = [(0.0, 0)]
        self.marks: Dict[str, Tuple[float, int]] = {}

    def _read(self) -> Tuple[float, int]:
        with self.lock:
            at = time.monotonic() - self.began
            return at, self.counter.reads_since(self.base)

    def mark(self, name: str) -> None:
        self.marks[name] = self._read()

    def run(self) -> None:
        while not self.stopping.wait(max(0.0, self.began + len(self.ticks) - time.monotonic())):
            self.ticks.append(self._read())

    def stop(self) -> None:
        self.stopping.set()
        self.join(timeout=30)
        self.mark("end")

    def ticked_after(self, mark: str) -> bool:
        return mark in self.marks and self.ticks[-1][0] >= self.marks[mark][0]

    def per_second(self, mark: str) -> Tuple[List[int], float]:
        """The reads in each second from the start through the one the mark falls in (up to the
        first tick after it, or else the end), and the seconds they cover."""
        after = [tick for tick in self.ticks if tick[0] >= self.marks[mark][0]] + [self.marks["end"]]
        counts = [reads for at, reads in self.ticks if at < self.marks[mark][0]] + [after[0][1]]
        return [later - earlier for earlier, later in zip(counts, counts[1:])], after[0][0]


def each_second(events: Sequence[Tuple[float, int]], seconds: float) -> List[int]:
    """The sum of (seconds since the start, count) events in each second of `seconds`."""
    bins = [0] * max(1, math.ceil(seconds))
    for at, count in events:
        if 0 <= at < seconds:
            bins[int(at)] += count
    return bins


@dataclass
class SaleRound:
    crowd: Round  # the viewers' polls; its `bookings` are the sale's writes by answer
    sale: dict  # onsale_report.summary of the round's sale
    sale_seconds: float
    reads: List[int]  # the endpoint's reads in each second of the sale (through the second it ended in)
    read_seconds: float  # the seconds those cover (whole ones, but for a sale stopped at the cap)
    seats: List[int]  # seats sold in each second of the sale
    sale_reads: int  # of those reads, the sale's own (its buyers' copy of the availability)

    def figures(self) -> dict:
        seconds = max(self.read_seconds, 1e-3)
        reads = sum(self.reads)
        # Not the driver's CPU: the origin runs in the same process.
        sale = {key: value for key, value in self.sale.items() if key not in ("driver", "title")}
        return {
            **self.crowd.figures(),
            "saleSeconds": round(self.sale_seconds, 2), "dbReadsDuringSale": reads,
            "dbReadsSeconds": round(self.read_seconds, 2),
            "dbReadsPerSecondDuringSale": {"mean": round(reads / seconds, 2), "max": max(self.reads)},
            "saleOwnReads": self.sale_reads, "saleOwnReadsPerSecond": round(self.sale_reads / seconds, 2),
            "readsEachSecond": self.reads, "seatsEachSecond": self.seats, "sale": sale,
        }


def storm(args, modes: Sequence[str], progress: bool,
          log: Callable[[str], None]) -> Tuple[List[SaleRound], List[str]]:
    """Starts the stage and runs a sale of the layout per (N, mode); the rounds and the text of
    the statements counted as the endpoint's reads."""
    from chalicelib.layout import parse_layout

    from .scenarios import create_show_in
    from .targets import HttpTarget

    layout = parse_layout(onsale.read_layout(args.layout))
    rounds: List[SaleRound] = []
    with stage("availability", "proxy" in modes, args.timeout, args.seed, log,
               keep_alive_clients=args.clients) as where:
        for viewers in args.viewers:
            for mode in modes:
                show_id = create_show_in(where.database_url, layout, f"Viewers on-sale {viewers} {mode}",
                                         args.hold_minutes, args.max_seats_per_user)
                target = HttpTarget(where.origin_url, timeout=args.timeout)
                try:
                    result = _round(args, where, target, show_id, viewers, mode, progress)
                finally:
                    target.close()
                rounds.append(result)
                figures = result.figures()
                log(f"N={viewers} {mode}: {figures['sale']['soldSeats']} seats in {figures['saleSeconds']} s, "
                    f"database reads {figures['dbReadsPerSecondDuringSale']['mean']}/s "
                    f"(at most {figures['dbReadsPerSecondDuringSale']['max']} in a second), viewers' p50 "
                    f"{figures['p50Ms']} ms, p99 {figures['p99Ms']} ms")
    return rounds, where.counted


def _round(args, where, target, show_id: str, viewers: int, mode: str, progress: bool) -> SaleRound:
    """N viewers poll while the show sells; the end of the second the sale ends in (or the
    cap) ends the polls."""
    sale = onsale.open_sale(target, show_id, args, f"viewers: N={viewers} {mode}, sold", progress)
    timing: dict = {}

    def sell() -> None:
        timing["began"] = time.monotonic()
        sale.bar.detail = lambda: onsale_report.progress_detail(sale.bar.done, sale.refusals, timing["began"])
        try:
            timing["wall"], timing["cpu"] = sale.run(args.buyers, args.clients, args.seed)
        finally:
            sampler.mark("sale")

    def start() -> None:
        nonlocal sampler
        sampler = ReadSampler(where.counter)
        sampler.start()
        seller.start()

    def end() -> None:
        sampler.mark("crowd")
        sale.stop.set()  # at the cap; a no-op after the sale's own end

    sampler: Optional[ReadSampler] = None
    seller = threading.Thread(target=sell, daemon=True, name="viewers-onsale")
    try:
        records = run_crowd(where.ports[mode], f"/api/shows/{show_id}{ENDPOINTS['availability']}", viewers,
                            args.duration, args.interval, args.timeout, crowd_processes(viewers, args.processes),
                            args.seed, report.Progress(1, "", False), at_start=start, at_end=end,
                            until=lambda: sampler.ticked_after("sale"))
    finally:
        sale.stop.set()
        if seller.ident is not None:
            # A buyer still at it makes at most a hold and a confirmation after the stop.
            seller.join(timeout=2 * args.timeout + 10)
        if sampler is not None:
            sampler.stop()
    sale.bar.finish()
    if seller.is_alive() or "wall" not in timing:
        raise RuntimeError(f"the sale of N={viewers} {mode} did not stop, or stopped on an error")
    outcome = onsale.judge(sale, target, where.database_url)
    summary = onsale_report.summary(sale, outcome, wall=timing["wall"], driver_cpu=timing["cpu"], seed=args.seed,
                                    args=args, began=timing["began"])
    start_at, sale_seconds = sampler.began, sampler.marks["sale"][0]
    crowd_seconds, in_time = sampler.marks["crowd"]
    reads, read_seconds = sampler.per_second("sale")
    sale_reads = sum(1 for call in sale.calls if call.kind == "availability" and call.status is not None
                     and 0 <= call.started - start_at < read_seconds)
    writes = Counter(onsale_report.answer_label(call) for call in sale.calls if call.kind in ("hold", "confirm"))
    crowd = Round(viewers, mode, round(crowd_seconds, 2), args.interval, records, sampler.marks["end"][1], in_time,
                  dict(writes))
    seats = each_second([(call.ended - start_at, call.seats) for call in sale.calls if call.seats], sale_seconds)
    return SaleRound(crowd, summary, sale_seconds, reads, read_seconds, seats, sale_reads)


# --------------------------------------------------------------------------- the verdict

def failures(figures: Sequence[dict]) -> List[str]:
    """What fails the run, a line each: an answer behind the proxy but 200/304, an oversold
    seat or a broken invariant, an answer the contract does not name in a proxy round's sale."""
    found = []
    for f in figures:
        label, sale = f"N={f['viewers']} {f['mode']}", f["sale"]
        if f["mode"] == "proxy" and f["others"]:
            found.append(f"{label}: viewers' answers behind the proxy but 200/304: {f['others']}")
        if sale["oversold"]:
            found.append(f"{label}: {sale['oversold']} seats oversold")
        if sale["invariant"]["violations"]:
            found.append(f"{label}: the invariant is broken: " + "; ".join(sale["invariant"]["violations"][:5]))
        if f["mode"] == "proxy" and sale["unexpectedAnswers"]:
            found.append(f"{label}: answers to the sale the contract does not name: {sale['unexpectedAnswers']}")
    return found


def table(figures: Sequence[dict]) -> str:
    """One line per (N, mode): the sale, the viewers' polls, the database's reads during the sale."""
    header = (f"{'viewers':>7}  {'mode':<6}{'sale s':>7}{'sold':>7}{'seats/s':>8}{'polls':>8}{'200':>7}{'304':>7}"
              f"{'other':>6}{'p50 ms':>8}{'p99 ms':>8}{'cached':>7}{'db reads/s':>11}{'max/s':>6}{'sale own/s':>11}"
              f"{'oversold':>9}")
    lines = [header]
    for f in figures:
        sale, reads = f["sale"], f["dbReadsPerSecondDuringSale"]
        cached = f"{100 * f['fromCache'] / max(1, f['requests']):.0f}%"
        lines.append(f"{f['viewers']:>7}  {f['mode']:<6}{f['saleSeconds']:>7.1f}{sale['soldSeats']:>7}"
                     f"{sale['seatsPerSecond']:>8.1f}{f['requests']:>8}{f['answered200']:>7}{f['answered304']:>7}"
                     f"{sum(f['others'].values()):>6}{ms_text(f['p50Ms']):>8}{ms_text(f['p99Ms']):>8}{cached:>7}"
                     f"{reads['mean']:>11.2f}{reads['max']:>6}{f['saleOwnReadsPerSecond']:>11.2f}{sale['oversold']:>9}")
        if f["others"]:
            lines.append(" " * 9 + "viewers' other answers: " + _counts(f["others"]))
        if sale["unexpectedAnswers"]:
            lines.append(" " * 9 + "sale's answers the contract does not name: " + _counts(sale["unexpectedAnswers"]))
    return "\n".join(lines)


def _counts(counts: dict) -> str:
    return ", ".join(f"{key} x{value}" for key, value in sorted(counts.items()))


def conclude(args, modes: Sequence[str], rounds: Sequence[SaleRound], counted: List[str]) -> int:
    """Prints the report (and draws the plot); the exit status."""
    figures = [result.figures() for result in rounds]
    title = (f"{'/'.join(modes)}: viewers polling GET /api/shows/{{id}}/availability every {args.interval:g} s "
             f"during an on-sale of {args.layout} ({args.buyers} buyers by {args.clients} clients, "
             f"at most {args.duration:g} s)")
    summary = {"scenario": "viewers-onsale", "layout": args.layout, "buyers": args.buyers, "clients": args.clients,
               "endpoint": ENDPOINTS["availability"], "countedStatements": counted, "rounds": figures}
    if args.plot:
        plot(args.plot, rounds, title)
        summary["plot"] = args.plot
    found = summary["failures"] = failures(figures)

    def joined(mode: str, value: Callable[[dict], object]) -> str:
        return "/".join(f"{value(f):g}" for f in figures if f["mode"] == mode)

    ending = "; ".join(f"{mode} db reads/s {joined(mode, lambda f: f['dbReadsPerSecondDuringSale']['mean'])} "
                       f"(max {joined(mode, lambda f: f['dbReadsPerSecondDuringSale']['max'])}) "
                       f"seats/s {joined(mode, lambda f: f['sale']['seatsPerSecond'])}" for mode in modes)
    lines = [title, table(figures)] + [f"  - {line}" for line in found]
    lines.append(f"result: {'FAIL' if found else 'PASS'}")
    lines.append(f"viewers-onsale: N={'/'.join(str(count) for count in args.viewers)} {ending} "
                 f"oversold={sum(f['sale']['oversold'] for f in figures)}")
    report.emit(summary, "\n".join(lines), args.json)
    return 1 if found else 0


ROUND_COLOURS = ("#1565c0", "#c62828", "#2e7d32", "#6a1b9a", "#ef6c00", "#00838f")
MODE_LINES = {"proxy": "-", "direct": ":"}


def plot(path: str, rounds: Sequence[SaleRound], title: str) -> None:
    """The database's reads of the endpoint per second and the seats sold per second over the
    sale, one line per (N, mode); the earlier rounds' lines wider, so that equal ones all show."""
    import matplotlib

    matplotlib.use("Agg")  # no display: files only
    from matplotlib import pyplot

    figure, (reads, seats) = pyplot.subplots(1, 2, figsize=(13, 5), constrained_layout=True)
    figure.suptitle(title.replace(" during ", "\nduring "), fontsize=10)
    counts = sorted({result.crowd.viewers for result in rounds})
    for order, result in enumerate(rounds):
        colour = ROUND_COLOURS[counts.index(result.crowd.viewers) % len(ROUND_COLOURS)]
        f = result.figures()
        label = (f"{result.crowd.viewers:,} viewers, {result.crowd.mode}: "
                 f"{f['dbReadsPerSecondDuringSale']['mean']:g} reads/s, {f['sale']['seatsPerSecond']:g} seats/s")
        width = 1.5 + 2.5 * (len(rounds) - 1 - order) / max(1, len(rounds) - 1)
        for axes, values in ((reads, result.reads), (seats, result.seats)):
            axes.stairs(values, range(len(values) + 1), color=colour, linestyle=MODE_LINES[result.crowd.mode],
                        linewidth=width, label=label)
    reads.set(title="the database's reads of the availability (pg_stat_statements)",
              xlabel="seconds since the sale began", ylabel="reads in the second")
    seats.set(title="seats sold", xlabel="seconds since the sale began", ylabel="seats sold in the second")
    for axes in (reads, seats):
        low, high = axes.get_ylim()
        axes.set_ylim(0, max(high, 1) * 1.4)  # room for the legend
        axes.grid(True, alpha=0.3)
        axes.legend(fontsize=8, loc="upper right", framealpha=0.9)
    figure.savefig(path, dpi=100)
    pyplot.close(figure)
