"""How a run is shown: percentiles, a progress bar on stderr, a summary table, JSON for
machines, and a PNG (latency histogram, throughput over time) drawn with matplotlib's Agg
backend."""
import json
import math
import sys
import threading
import time
from typing import Callable, Dict, List, Optional, Sequence, TextIO, Tuple

from .events import Answer


def percentile(values: Sequence[float], pct: float, empty: Optional[float] = None) -> Optional[float]:
    """Nearest-rank percentile (no interpolation): the smallest value that at least `pct`
    percent (0-100) of the values are at or below; `empty` for no values. The one percentile
    of the load tools: the stress report, the bench and the storm all use it."""
    if not values:
        return empty
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def latency_ms(answers: Sequence[Answer]) -> Dict[str, Optional[float]]:
    values = [answer.latency * 1000 for answer in answers if answer.status is not None]
    figures = {f"p{pct}": percentile(values, pct) for pct in (50, 95, 99)}
    figures["max"] = max(values) if values else None
    return {name: None if value is None else round(value, 1) for name, value in figures.items()}


def max_in_flight(answers: Sequence[Answer]) -> int:
    """The most requests that were being handled at one moment: a race that never had two
    in flight raced nothing."""
    events = sorted([(answer.started, 1) for answer in answers] + [(answer.ended, -1) for answer in answers],
                    key=lambda event: (event[0], event[1]))
    current = peak = 0
    for _, step in events:
        current += step
        peak = max(peak, current)
    return peak


class Progress:
    """A one-line bar on stderr, redrawn at most ten times a second; silent when off."""

    def __init__(self, total: int, label: str, enabled: bool, stream: TextIO = sys.stderr,
                 detail: Callable[[], str] = lambda: ""):
        self.total, self.label, self.enabled, self.stream = max(1, total), label, enabled, stream
        self.detail = detail  # more figures after the count, e.g. a rate
        self.done = 0
        self.lock = threading.Lock()
        self.drawn_at = 0.0

    def advance(self, count: int = 1) -> None:
        with self.lock:
            self.done += count
            now = time.monotonic()
            if self.enabled and (now - self.drawn_at >= 0.1 or self.done >= self.total):
                self.drawn_at = now
                self._draw()

    def _draw(self) -> None:
        width = 30
        filled = min(width, int(width * self.done / self.total))
        self.stream.write(f"\r{self.label} [{'#' * filled}{'.' * (width - filled)}] {self.done}/{self.total}"
                          f"{self.detail()}")
        self.stream.flush()

    def finish(self) -> None:
        if self.enabled:
            with self.lock:
                self._draw()
            self.stream.write("\n")
            self.stream.flush()


def table(title: str, rows: Sequence[Tuple[str, object]]) -> str:
    width = max(len(label) for label, _ in rows)
    lines = [title] + [f"  {label.ljust(width)}  {value}" for label, value in rows]
    return "\n".join(lines)


def fmt_ms(figures: Dict[str, Optional[float]]) -> str:
    def one(value):
        return "-" if value is None else f"{value:.1f}"

    return f"{one(figures['p50'])} / {one(figures['p95'])} / {one(figures['p99'])} ms (max {one(figures['max'])})"


def emit(summary: dict, text: str, as_json: bool) -> None:
    """The table on stdout, or with --json the JSON on stdout and the table on stderr."""
    if as_json:
        print(text, file=sys.stderr)
        print(json.dumps(summary, indent=2, sort_keys=True))
    else:
        print(text)
    sys.stdout.flush()


OUTCOME_COLOURS = (("201 booked", "#2e7d32"), ("409 refused", "#f9a825"), ("other", "#c62828"))


def outcome_of(answer: Answer) -> str:
    if answer.status == 201:
        return "201 booked"
    if answer.status == 409:
        return "409 refused"
    return "other"


def plot(path: str, title: str, answers: Sequence[Answer]) -> None:
    """Latency histogram by outcome, and answers per second over the run, in one PNG."""
    import matplotlib

    matplotlib.use("Agg")  # no display: files only
    from matplotlib import pyplot
    from matplotlib.ticker import MaxNLocator

    figure, (histogram, throughput) = pyplot.subplots(1, 2, figsize=(12, 5), constrained_layout=True)
    figure.suptitle(_wrap(title), fontsize=11)
    if answers:
        start = min(answer.started for answer in answers)
        end = max(answer.ended for answer in answers)
    else:
        start = end = 0.0
    groups: Dict[str, List[Answer]] = {label: [] for label, _ in OUTCOME_COLOURS}
    for answer in answers:
        groups[outcome_of(answer)].append(answer)

    latencies = [answer.latency * 1000 for answer in answers]
    top = max(latencies, default=1.0) or 1.0
    bins = [top * step / 30 for step in range(31)]
    histogram.hist([[answer.latency * 1000 for answer in groups[label]] for label, _ in OUTCOME_COLOURS],
                   bins=bins, stacked=True, color=[colour for _, colour in OUTCOME_COLOURS],
                   label=[f"{label} ({len(groups[label])})" for label, _ in OUTCOME_COLOURS])
    for pct, style in ((50, "--"), (95, ":"), (99, "-.")):
        value = percentile(latencies, pct)
        if value is not None:
            histogram.axvline(value, color="black", linestyle=style, linewidth=1, label=f"p{pct} {value:.0f} ms")
    histogram.set_xlabel("latency (ms)")
    histogram.set_ylabel("requests")
    histogram.set_title("latency")
    histogram.legend(fontsize=8, loc="best", framealpha=0.9)

    duration = max(end - start, 1e-3)
    width = _bin_width(duration)
    count = max(1, math.ceil(duration / width))
    edges = [index * width for index in range(count + 1)]
    for label, colour in OUTCOME_COLOURS:
        per_bin = [0] * count
        for answer in groups[label]:
            per_bin[min(count - 1, int((answer.ended - start) / width))] += 1
        if any(per_bin):
            throughput.step(edges, [value / width for value in per_bin] + [per_bin[-1] / width], where="post",
                            color=colour, label=label)
    throughput.set_xlabel(f"time since the first request (s), {_fmt_width(width)} bins")
    throughput.set_ylabel("answers per second")
    throughput.set_title("throughput")
    throughput.set_xlim(0, edges[-1])
    # Headroom above the tallest bin for the legend.
    throughput.set_ylim(0, max([line.get_ydata().max() for line in throughput.get_lines()] + [1]) * 1.35)
    booked = sorted(answer.ended - start for answer in groups["201 booked"])
    handles, labels = throughput.get_legend_handles_labels()
    if booked:
        cumulative = throughput.twinx()
        line, = cumulative.plot([0.0] + booked + [edges[-1]], list(range(len(booked) + 1)) + [len(booked)],
                                color="#1565c0", drawstyle="steps-post", linewidth=1.5, label="bookings so far")
        cumulative.set_ylabel("confirmed bookings so far", color="#1565c0")
        cumulative.set_ylim(0, max(1, len(booked)) * 1.35)
        cumulative.yaxis.set_major_locator(MaxNLocator(integer=True))
        handles, labels = handles + [line], labels + [line.get_label()]
    throughput.legend(handles, labels, fontsize=8, loc="upper left", framealpha=0.9)
    figure.savefig(path, dpi=100)
    pyplot.close(figure)


def _wrap(title: str) -> str:
    """Scenario on the first line, the target (the last parenthesis) on the second."""
    head, _, tail = title.rpartition(" (")
    return f"{head}\n({tail}" if head else title


def _fmt_width(width: float) -> str:
    return f"{width:g} s" if width >= 1 else f"{width * 1000:g} ms"


def _bin_width(duration: float) -> float:
    """About 30 bins over the run, rounded to 1, 2 or 5 times a power of ten seconds."""
    raw = duration / 30
    power = 10 ** math.floor(math.log10(raw))
    for step in (1, 2, 5, 10):
        if raw <= step * power:
            return step * power
    return 10 * power
