"""How an on-sale is shown: the verdict on its answers, the summary (a dict, printed as JSON
with --json), the table, the last line `onsale: seats=... oversold=...`, and a PNG (seats
sold over time, latency percentiles of holds and confirmations over time, answers by code
over time)."""
import math
import time
from collections import Counter
from typing import Dict, List, Optional, Sequence

from . import report

# The answers the contract names for what the on-sale sends: (kind, status, error code).
CONTRACT_ANSWERS = {
    ("layout", 200, None), ("availability", 200, None), ("availability", 304, None),
    ("hold", 201, None), ("hold", 409, "SEAT_UNAVAILABLE"), ("hold", 409, "NOT_ENOUGH_SEATS"),
    ("hold", 409, "LIMIT_REACHED"), ("hold", 503, "UNAVAILABLE"),
    ("confirm", 201, None), ("confirm", 409, "HOLD_EXPIRED"), ("confirm", 503, "UNAVAILABLE"),
}


def answer_label(call) -> str:
    if call.status is None:
        return f"{call.kind} no answer ({call.code})"
    return " ".join(str(part) for part in (call.kind, call.status, call.code) if part is not None)


def progress_detail(sold: int, refusals: int, began: float) -> str:
    elapsed = max(time.monotonic() - began, 1e-6)
    return f"  {sold / elapsed:.0f} seats/s  {refusals} refused"


def _latency(calls: Sequence, kind: str, best: Optional[bool] = None) -> Dict[str, Optional[float]]:
    values = [(call.ended - call.started) * 1000 for call in calls
              if call.kind == kind and call.status is not None and best in (None, call.best)]
    return {f"p{pct}": None if not values else round(report.percentile(values, pct), 1) for pct in (50, 99)}


def time_to_sell(calls: Sequence, began: float, share: float) -> Optional[float]:
    """Seconds from `began` until `share` of the seats this sale sold were sold: the end of a
    sale (the last seats, fragmented, and lapsing holds) is slow, and hides how fast the rest went."""
    sales = sorted((call.ended, call.seats) for call in calls if call.seats)
    target, done = share * sum(seats for _, seats in sales), 0
    for ended, seats in sales:
        done += seats
        if done >= target:
            return round(ended - began, 1)
    return None


def summary(sale, outcome, wall: float, driver_cpu: float, seed: int, args, began: float) -> dict:
    """Everything the run found, as plain data (the --json output)."""
    calls = sale.calls
    answers = Counter(answer_label(call) for call in calls)
    unexpected = Counter(answer_label(call) for call in calls
                         if (call.kind, call.status, call.code) not in CONTRACT_ANSWERS)
    seats = len(sale.view.room.seat_ids)
    sold = sum(call.seats for call in calls)
    letters = Counter(outcome.statuses)
    ok = not outcome.violations and not unexpected and outcome.oversold == 0
    target = sale.target.name
    return {
        "scenario": "onsale", "title": f"onsale: {args.layout}, {args.buyers} buyers by {args.clients} clients, "
                                       f"show {sale.show_id} ({target})",
        "target": target, "showId": sale.show_id, "runId": sale.run_id, "seed": seed, "layout": args.layout,
        "seats": seats, "buyers": args.buyers, "clients": args.clients, "abandonShare": sale.abandon,
        "soldSeats": sold, "bookings": len(sale.sold),
        # Every held buyer confirms once unless abandoning.
        "abandonedHolds": answers["hold 201"] - sum(call.kind == "confirm" for call in calls),
        "atEnd": {"available": letters["A"], "held": letters["H"], "booked": letters["B"]},
        "soldOut": bool(outcome.statuses) and letters["A"] == 0,
        "seconds": round(wall, 2),
        "secondsToSell": {f"{pct}%": time_to_sell(calls, began, pct / 100) for pct in (50, 90, 99)}, "seatsPerSecond": round(sold / wall, 1) if wall > 0 else 0.0,
        "holdMs": _latency(calls, "hold"), "confirmMs": _latency(calls, "confirm"),
        "holdMsBy": {"bestAvailable": _latency(calls, "hold", best=True), "picked": _latency(calls, "hold", best=False)},
        "answers": dict(sorted(answers.items())), "unexpectedAnswers": dict(sorted(unexpected.items())),
        "unavailable503": sum(call.status == 503 for call in calls),
        "strandedSingles": outcome.stranded,
        "driver": {"cpuSeconds": round(driver_cpu, 2), "cpuShareOfWall": round(driver_cpu / wall, 3) if wall else 0,
                   "requests": len(calls),
                   "cpuMsPerRequest": round(driver_cpu * 1000 / len(calls), 3) if calls else 0},
        "oversold": outcome.oversold,
        "invariant": {"checked": outcome.checked, "violations": outcome.violations},
        "ok": ok,
    }


def last_line(summary: dict) -> str:
    return (f"onsale: seats={summary['seats']} sold={summary['soldSeats']} seconds={summary['seconds']:.1f} "
            f"seats/s={summary['seatsPerSecond']:.1f} oversold={summary['oversold']}")


def _ms(figures: Dict[str, Optional[float]]) -> str:
    return " / ".join("-" if value is None else f"{value:.1f}" for value in figures.values()) + " ms"


def text(summary: dict) -> str:
    """The table, the violations if any, and the last line."""
    at_end, driver = summary["atEnd"], summary["driver"]
    rows = [
        ("sold seats", f"{summary['soldSeats']} of {summary['seats']} in {summary['bookings']} bookings"),
        ("elapsed", f"{summary['seconds']:.1f} s"),
        ("seats/s", f"{summary['seatsPerSecond']:.1f}"),
        ("half / 90% / 99% of them sold by", " / ".join("-" if value is None else f"{value:.1f}"
                                                        for value in summary["secondsToSell"].values()) + " s"),
        ("hold p50 / p99", _ms(summary["holdMs"])),
        ("  of which best available", _ms(summary["holdMsBy"]["bestAvailable"])),
        ("  of which picked seats", _ms(summary["holdMsBy"]["picked"])),
        ("confirm p50 / p99", _ms(summary["confirmMs"])),
        ("abandoned holds", summary["abandonedHolds"]),
        ("at the end", f"{at_end['booked']} booked, {at_end['held']} held, {at_end['available']} available"
                       f"{' (sold out)' if summary['soldOut'] else ''}"),
        ("stranded single seats", summary["strandedSingles"]),
        ("answers by code", ""),
        *[(f"  {label}", count) for label, count in summary["answers"].items()],
        ("503 UNAVAILABLE", summary["unavailable503"]),
        ("answers the contract does not name", sum(summary["unexpectedAnswers"].values())),
        ("driver CPU", f"{driver['cpuSeconds']:.1f} s = {driver['cpuShareOfWall']:.0%} of one core over the sale, "
                       f"{driver['cpuMsPerRequest']:.2f} ms per request ({driver['requests']} requests)"),
        (f"invariant ({'+'.join(summary['invariant']['checked'])})",
         "holds" if not summary["invariant"]["violations"] else f"VIOLATED ({len(summary['invariant']['violations'])})"),
        ("oversold seats", summary["oversold"]),
    ]
    lines = [report.table(summary["title"], rows)]
    lines += [f"  - {violation}" for violation in summary["invariant"]["violations"][:20]]
    lines.append(f"result: {'PASS' if summary['ok'] else 'FAIL'}")
    lines.append(last_line(summary))
    return "\n".join(lines)


def plot(path: str, title: str, calls: Sequence, began: float) -> None:
    """Seats sold over time; p50/p99 of holds and confirmations per time bin; answers by code
    per second over time. One PNG, matplotlib's Agg backend."""
    import matplotlib

    matplotlib.use("Agg")  # no display: files only
    from matplotlib import pyplot

    figure, (sold_axes, latency_axes, answers_axes) = pyplot.subplots(1, 3, figsize=(17, 5), constrained_layout=True)
    figure.suptitle(title, fontsize=11)
    duration = max([call.ended - began for call in calls] + [1e-3])
    width = report._bin_width(duration)
    bins = max(1, math.ceil(duration / width))

    sales = sorted((call.ended - began, call.seats) for call in calls if call.seats)
    total, xs, ys = 0, [0.0], [0]
    for when, seats in sales:
        total += seats
        xs.append(when)
        ys.append(total)
    sold_axes.step(xs, ys, where="post", color="#1565c0")
    sold_axes.set(title="seats sold", xlabel="seconds since the sale began", ylabel="seats")

    for kind, colour in (("hold", "#2e7d32"), ("confirm", "#6a1b9a")):
        per_bin: List[List[float]] = [[] for _ in range(bins)]
        for call in calls:
            if call.kind == kind and call.status is not None:
                per_bin[min(bins - 1, int((call.started - began) / width))].append((call.ended - call.started) * 1000)
        centres = [(index + 0.5) * width for index in range(bins) if per_bin[index]]
        for pct, style in ((50, "-"), (99, "--")):
            values = [report.percentile(values, pct) for values in per_bin if values]
            latency_axes.plot(centres, values, style, color=colour, label=f"{kind} p{pct}")
    latency_axes.set(title=f"latency per {report._fmt_width(width)}", xlabel="seconds since the sale began",
                     ylabel="ms")
    latency_axes.legend(fontsize=8)

    labels = Counter(answer_label(call) for call in calls if call.kind in ("hold", "confirm"))
    for label, _ in labels.most_common(8):
        per_bin = [0] * bins
        for call in calls:
            if answer_label(call) == label:
                per_bin[min(bins - 1, int((call.ended - began) / width))] += 1
        answers_axes.plot([(index + 0.5) * width for index in range(bins)], [count / width for count in per_bin],
                          label=f"{label} ({labels[label]})")
    answers_axes.set(title="answers by code", xlabel="seconds since the sale began", ylabel="answers per second")
    answers_axes.legend(fontsize=8)
    figure.savefig(path, dpi=100)
    pyplot.close(figure)
