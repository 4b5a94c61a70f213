"""`make bench` / `python -m tools.stress bench`: what a booking costs, on one fresh database, in one run.

  paths       single-seat bookings/s through the bare SQL transaction, services.book_seats,
              the Chalice handler (API Gateway proxy event) and HTTP via the local server;
              rounds alternate the paths and the median of the per-round ratios is reported
  race        p50/p99 latency of N threads (own connections) booking one seat at once
  strategies  unique-constraint claim vs SELECT ... FOR UPDATE vs compare-and-set UPDATE on
              one hot show at 1/8/32 clients, single-seat and 4-seat overlapping bookings
  checkout    single-seat purchases as a direct booking vs a hold and its confirmation, N
              buyers at once; and taking over expired holds under load
  best        best-available holds vs picked-seat holds at 1/8/32 clients on one hot section,
              and what a sell-out of it leaves (occupancy, stranded singles)
  venue       the 80,000-seat stadium: create_show, and /availability and /layout through the
              handler (time; bytes raw and gzipped)
  cold start  `python -c "import app"` in a fresh interpreter, `-X importtime` offenders,
              and the size of the `chalice package` zip

Figures only: nothing here passes or fails on speed. Progress goes to stderr; a table, a plot
(docs/performance.png) and, as the very last line,
`bench: service/sql=<r> handler/sql=<r> http/sql=<r>` go to stdout.
"""
import argparse
import json
import math
import os
import platform
import statistics
import sys
import tempfile
import time
import uuid
from contextlib import contextmanager, redirect_stdout
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Dict, List, Optional

from chalicelib import services
from chalicelib.config import parse_database_url
from chalicelib.layout import grid
from chalicelib.validation import ShowRequest
from tools.local import localdb

from .. import report
from . import best_available, checkout, coldstart, parallel, paths as booking_paths, strategies, venue

ROOT = Path(__file__).resolve().parents[3]
DEFAULT_PLOT = ROOT / "docs" / "performance.png"
PATH_NAMES = ("sql", "service", "handler", "http")


def progress(message: str) -> None:
    print(f"bench: {message}", file=sys.stderr, flush=True)


def parse_args(argv: Optional[List[str]]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m tools.stress bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--bookings", type=int, default=2000, help="single-seat bookings per path (default 2000)")
    parser.add_argument("--rounds", type=int, default=10, help="alternating rounds the bookings are split into")
    parser.add_argument("--path-clients", type=int, default=8,
                        help="also run the paths with this many client processes at once (default 8; 1: not)")
    parser.add_argument("--race-threads", type=int, default=50)
    parser.add_argument("--race-repeats", type=int, default=20)
    parser.add_argument("--clients", default="1,8,32", help="client counts for the strategies (default 1,8,32)")
    parser.add_argument("--attempts", type=int, default=800,
                        help="booking attempts per strategy run (single-seat; 4-seat runs make half as many)")
    parser.add_argument("--strategy-repeats", type=int, default=3, help="runs per strategy configuration")
    parser.add_argument("--time-limit", type=float, default=60.0, help="seconds at most per strategy run")
    parser.add_argument("--import-repeats", type=int, default=10)
    parser.add_argument("--purchases", type=int, default=1200, help="purchases per way in the checkout comparison")
    parser.add_argument("--buyers", type=int, default=8, help="concurrent buyers in the checkout comparison")
    parser.add_argument("--venue-repeats", type=int, default=20, help="reads of the stadium's availability")
    parser.add_argument("--skip", action="append", default=[],
                        choices=["race", "strategies", "checkout", "best", "venue", "coldstart", "package"], help="leave a part out")
    parser.add_argument("--plot", help=f"PNG to write (default {DEFAULT_PLOT.relative_to(ROOT)}, none with --quick; "
                                        "'none' for no plot)")
    parser.add_argument("--json", help="also write every figure to this JSON file")
    parser.add_argument("--quick", action="store_true", help="small numbers everywhere: a smoke run")
    args = parser.parse_args(argv)
    if args.quick:
        args.bookings, args.rounds, args.race_repeats = min(args.bookings, 200), 2, min(args.race_repeats, 3)
        args.clients, args.attempts, args.import_repeats = "1,4", min(args.attempts, 200), 3
        args.strategy_repeats, args.venue_repeats, args.purchases = 1, 4, min(args.purchases, 160)
        args.skip = list(set(args.skip) | {"package"})
    if args.plot is None:
        # A smoke run's figures must not replace the documented plot.
        args.plot = "none" if args.quick else str(DEFAULT_PLOT)
    args.client_counts = sorted({int(count) for count in args.clients.split(",") if count.strip()})
    if args.bookings < args.rounds or args.rounds < 1 or min(args.client_counts) < 1:
        parser.error("need bookings >= rounds >= 1 and client counts >= 1")
    return args


@contextmanager
def bench_database():
    """A fresh, migrated database on DATABASE_URL's server (or an embedded one in a temporary
    directory), exported as DATABASE_URL; dropped at the end."""
    with tempfile.TemporaryDirectory(prefix="modex-bench-pg-") as data_dir:
        with localdb.fresh_database("modex_bench", Path(data_dir) / "data") as url:
            yield url


class Shows:
    """Fresh shows on demand: big ones whose seats the paths book one by one, hot ones for
    the strategies."""

    def __init__(self, admin_con):
        self.admin_con = admin_con
        self.free_seats: List[tuple] = []

    def create(self, rows: int, seats_per_row: int) -> uuid.UUID:
        start = datetime.now(timezone.utc) + timedelta(days=30)
        name = f"Bench {uuid.uuid4().hex[:8]}"
        return services.create_show(ShowRequest(name, start, grid(rows, seats_per_row))).id

    def seats(self, count: int) -> List[tuple]:
        """`count` seats nobody has booked, as (show_id, seat_id)."""
        while len(self.free_seats) < count:
            show_id = self.create(26, 100)
            rows = self.admin_con.run("SELECT id FROM seats WHERE show_id = :s ORDER BY id", s=show_id)
            self.free_seats += [(show_id, row[0]) for row in rows]
        taken, self.free_seats = self.free_seats[:count], self.free_seats[count:]
        return taken

    def hot_show(self, rows: int = 20, seats_per_row: int = 30) -> tuple:
        """A 600-seat show and its seat ids row by row, for many clients to fight over."""
        show_id = self.create(rows, seats_per_row)
        grid: Dict[str, List[int]] = {}
        for row_label, seat_id in self.admin_con.run(
                "SELECT row_label, id FROM seats WHERE show_id = :s ORDER BY row_label, number", s=show_id):
            grid.setdefault(row_label, []).append(seat_id)
        return show_id, list(grid.values())


def machine_info(admin_con) -> dict:
    memory_kb = 0
    try:
        with open("/proc/meminfo") as meminfo:
            memory_kb = int(next(line for line in meminfo if line.startswith("MemTotal")).split()[1])
    except (OSError, StopIteration, ValueError):
        pass
    import pg8000

    return {
        "cpus": os.cpu_count(),
        "memory_gib": round(memory_kb / 1024 / 1024, 1),
        "postgres": admin_con.run("SHOW server_version")[0][0],
        "python": platform.python_version(),
        "pg8000": pg8000.__version__,
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d"),
        # Other work on the machine moves every figure: say how busy it was.
        "load_average": round(os.getloadavg()[0], 1),
    }


def run_paths(shows: Shows, url: str, args) -> dict:
    settings = parse_database_url(url)
    server = booking_paths.LocalServer()
    makers = {"sql": lambda: booking_paths.SqlPath(settings), "service": booking_paths.ServicePath,
              "handler": booking_paths.HandlerPath,
              "http": lambda: booking_paths.HttpPath(server.port, server.cpu_seconds)}
    try:
        paths = [make() for make in makers.values()]
        try:
            measured = booking_paths.compare_paths(paths, shows.seats, args.bookings, args.rounds, progress)
        finally:
            for path in paths:
                path.close()
        rates, cpu_ms = measured["rates"], measured["cpu_ms"]
        result = {"rates": rates, "median_rate": {name: statistics.median(values) for name, values in rates.items()},
                  "ratio": booking_paths.ratios(rates),
                  "cpu_ms": {name: statistics.median(values) for name, values in cpu_ms.items()},
                  "bookings_per_path": args.bookings // args.rounds * args.rounds, "rounds": args.rounds}
        if args.path_clients > 1:
            progress(f"paths: {args.bookings} single-seat bookings per path at {args.path_clients} clients")
            result["parallel"] = parallel.compare_parallel(makers, shows.seats, args.bookings, args.rounds,
                                                           args.path_clients, progress)
        return result
    finally:
        server.close()


def run_race(shows: Shows, args) -> dict:
    result = booking_paths.race(shows.seats(args.race_repeats), args.race_threads, timeout_s=60, progress=progress)
    latencies = result["latencies"]

    def ms(values, pct):
        return report.percentile(values, pct, empty=math.nan) * 1000

    result.update(
        p50_ms=ms(latencies, 50), p99_ms=ms(latencies, 99), max_ms=max(latencies) * 1000,
        winner_p50_ms=ms(result["winner_latencies"], 50),
        loser_p50_ms=ms(result["loser_latencies"], 50),
        loser_p99_ms=ms(result["loser_latencies"], 99),
    )
    return result


def run_strategies(shows: Shows, admin_con, url: str, args) -> List[dict]:
    attempts = {1: args.attempts, 4: max(1, args.attempts // 2)}
    return strategies.compare_strategies(parse_database_url(url), admin_con, shows.hot_show,
                                               args.client_counts, (1, 4), attempts, args.time_limit, progress,
                                               repeats=args.strategy_repeats)


def run_checkout(shows: Shows, admin_con, args) -> dict:
    def expire(hold_ids) -> None:
        for table, column in (("holds", "id"), ("seat_bookings", "hold_id")):
            admin_con.run(f"UPDATE {table} SET expires_at = now() - interval '1 second' "
                          f"WHERE {column} = ANY(CAST(:ids AS uuid[]))", ids=[str(hold_id) for hold_id in hold_ids])

    return {"compare": checkout.compare(shows.seats, args.purchases, args.rounds, args.buyers, progress),
            "takeover": checkout.takeovers(shows.seats, expire, args.purchases // 4, args.buyers, progress)}


def run_cold_start(args) -> dict:
    progress("cold start: importing the app in fresh interpreters")
    result = {"import": coldstart.import_times(args.import_repeats),
              "offenders": coldstart.import_offenders()}
    if "package" in args.skip:
        result["package"] = {"zip_bytes": None, "reason": "skipped (--skip package)"}
    else:
        progress("cold start: building the Lambda package offline")
        result["package"] = coldstart.package_size()
    return result


def print_report(results: dict) -> None:
    machine = results["machine"]
    print(f"Modex bench, {machine['date']}: {machine['cpus']} CPUs, {machine['memory_gib']} GiB, "
          f"PostgreSQL {machine['postgres']}, Python {machine['python']}, pg8000 {machine['pg8000']}; "
          f"load average {machine['load_average']} at the start, {results.get('load_average_end', '?')} at the end")
    paths = results["paths"]
    print(f"\nSingle-seat bookings/s ({paths['bookings_per_path']} per path in {paths['rounds']} alternating rounds, "
          "median of rounds; ratio = median of per-round ratios)")
    print(f"  {'path':<9}{'bookings/s':>12}{'ratio':>8}{'CPU ms':>8}   bookings/s per round")
    for name in PATH_NAMES:
        rounds = " ".join(f"{rate:.0f}" for rate in paths["rates"][name])
        print(f"  {name:<9}{paths['median_rate'][name]:>12.0f}{paths['ratio'][name]:>8.2f}"
              f"{paths['cpu_ms'][name]:>8.2f}   {rounds}")
    print("  (CPU ms: CPU time per booking of this process, median of rounds; for http also the server's copies)")
    if "parallel" in paths:
        at = paths["parallel"]
        print(f"\nThe same at {at['clients']} clients (processes) at once")
        print(f"  {'path':<9}{'bookings/s':>12}{'ratio':>8}{'p50 ms':>8}{'p99 ms':>8}   bookings/s per round")
        for name in PATH_NAMES:
            rounds = " ".join(f"{rate:.0f}" for rate in at["rates"][name])
            print(f"  {name:<9}{at['median_rate'][name]:>12.0f}{at['ratio'][name]:>8.2f}{at['p50_ms'][name]:>8.1f}"
                  f"{at['p99_ms'][name]:>8.1f}   {rounds}")
    if "race" in results:
        race = results["race"]
        winners = race["winners_per_race"]
        print(f"\nRace: {race['threads']} threads (own connections) book one seat at once, {race['races']} times")
        print(f"  all answers  p50 {race['p50_ms']:.1f} ms  p99 {race['p99_ms']:.1f} ms  max {race['max_ms']:.1f} ms")
        print(f"  winner p50 {race['winner_p50_ms']:.1f} ms; losers p50 {race['loser_p50_ms']:.1f} ms, "
              f"p99 {race['loser_p99_ms']:.1f} ms")
        print(f"  winners per race: {'exactly 1 every time' if set(winners) == {1} else winners}"
              + (f"; other answers: {race['other_answers'][:5]}" if race["other_answers"] else ""))
    if "strategies" in results:
        runs = results["strategies"][0]["runs"]
        print(f"\nConcurrency strategies on one hot show (600 seats; attempts/s and latency of an attempt: "
              f"median of {runs} runs; counts: all runs)")
        print(f"  {'seats':<6}{'clients':>8}  {'strategy':<9}{'attempts':>9}{'booked':>7}{'taken':>7}"
              f"{'attempts/s':>11}{'p50 ms':>8}{'p99 ms':>8}  errors / check")
        for row in results["strategies"]:
            errors = ", ".join(f"{state}: {count}" for state, count in row["errors"].items()) or "-"
            check = "" if row["consistent"] else "  SEAT COUNT MISMATCH"
            print(f"  {row['seats']:<6}{row['clients']:>8}  {row['strategy']:<9}{row['attempts']:>9}{row['ok']:>7}"
                  f"{row['taken']:>7}{row['throughput']:>11.0f}{row['p50_ms']:>8.1f}{row['p99_ms']:>8.1f}  "
                  f"{errors}{check}")
    if "checkout" in results:
        print("\n".join(checkout.report_lines(results["checkout"])))
    if "best" in results:
        print("\n".join(best_available.report_lines(results["best"])))
    if "venue" in results:
        print("\n".join(venue.report_lines(results["venue"])))
    if "cold_start" in results:
        cold = results["cold_start"]
        imports = cold["import"]
        print(f"\nCold start (median of {imports['repeats']} fresh interpreters)")
        print(f"  python -c pass         {imports['python_ms']:7.1f} ms")
        print(f"  python -c 'import app' {imports['import_app_ms']:7.1f} ms  (the app's imports: "
              f"{imports['app_only_ms']:.1f} ms)")
        print("  -X importtime, own time per package: "
              + ", ".join(f"{name} {ms:.1f} ms" for name, ms in cold["offenders"]))
        package = cold["package"]
        if package.get("zip_bytes"):
            print(f"  Lambda package: {package['zip_bytes'] / 1024:.0f} KiB zipped, "
                  f"{package['unpacked_bytes'] / 1024:.0f} KiB unpacked; largest: "
                  + ", ".join(f"{name} {size / 1024:.0f} KiB" for name, size in package["largest"]))
        else:
            print(f"  Lambda package: n/a ({package['reason']})")


def plot(results: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(2, 2, figsize=(12, 8.5))
    machine = results["machine"]
    figure.suptitle(f"Modex bench ({machine['date']}, {machine['cpus']} CPUs, PostgreSQL {machine['postgres']})")

    paths, axis = results["paths"], axes[0][0]
    rates = [paths["median_rate"][name] for name in PATH_NAMES]
    bars = axis.bar(PATH_NAMES, rates, color=["#4c72b0", "#55a868", "#c44e52", "#8172b2"])
    for bar, name in zip(bars, PATH_NAMES):
        axis.annotate(f"{paths['median_rate'][name]:.0f}/s\n×{paths['ratio'][name]:.2f}",
                      (bar.get_x() + bar.get_width() / 2, bar.get_height()), ha="center", va="bottom", fontsize=9)
    axis.set_title("Single-seat bookings/s, one client (ratio to bare SQL)")
    axis.set_ylabel("bookings per second")
    axis.set_ylim(0, max(rates) * 1.25)

    axis = axes[0][1]
    if "race" in results:
        race = results["race"]
        for label, values, colour in (("winners", race["winner_latencies"], "#55a868"),
                                      ("losers", race["loser_latencies"], "#c44e52")):
            ordered = sorted(value * 1000 for value in values)
            if ordered:
                axis.plot(ordered, [(index + 1) / len(ordered) for index in range(len(ordered))], label=label,
                          color=colour)
        axis.axvline(race["p50_ms"], color="grey", linestyle=":", label=f"p50 {race['p50_ms']:.0f} ms")
        axis.axvline(race["p99_ms"], color="black", linestyle="--", label=f"p99 {race['p99_ms']:.0f} ms")
        axis.set_title(f"{race['threads']}-way race for one seat ×{race['races']}: latency CDF")
        axis.set_xlabel("ms")
        axis.set_ylabel("fraction of answers")
        axis.legend(loc="lower right", fontsize=8)
    else:
        axis.set_axis_off()

    colours = {"unique": "#4c72b0", "row-lock": "#dd8452", "cas": "#55a868"}
    for axis, key, title in ((axes[1][0], "throughput", "Hot show: attempts/s"),
                             (axes[1][1], "p99_ms", "Hot show: p99 latency of an attempt (ms)")):
        if "strategies" not in results:
            axis.set_axis_off()
            continue
        for strategy in strategies.STRATEGIES:
            for seats, style in ((1, "-"), (4, "--")):
                rows = [row for row in results["strategies"] if row["strategy"] == strategy and row["seats"] == seats]
                axis.plot([row["clients"] for row in rows], [row[key] for row in rows], style, marker="o",
                          color=colours[strategy], label=f"{strategy}, {seats}-seat")
        axis.set_xscale("log", base=2)
        axis.set_xticks(sorted({row["clients"] for row in results["strategies"]}))
        axis.get_xaxis().set_major_formatter(matplotlib.ticker.ScalarFormatter())
        axis.set_xlabel("concurrent clients")
        axis.set_title(title)
        axis.set_ylim(bottom=0)
        axis.legend(fontsize=8)

    if "cold_start" in results:
        cold = results["cold_start"]
        package = cold["package"]
        size = f"{package['zip_bytes'] / 1024:.0f} KiB" if package.get("zip_bytes") else "n/a"
        figure.text(0.5, 0.005, f"Cold start: import app {cold['import']['import_app_ms']:.0f} ms "
                    f"(bare interpreter {cold['import']['python_ms']:.0f} ms); Lambda zip {size}",
                    ha="center", fontsize=9)
    figure.tight_layout(rect=(0, 0.02, 1, 0.97))
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=100)
    plt.close(figure)


def _jsonable(results: dict) -> dict:
    race = results.get("race")
    if race:  # every latency is too much for a summary file
        race = {key: value for key, value in race.items() if not key.endswith("latencies")}
    return {**results, **({"race": race} if race else {})}


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    started = time.monotonic()
    results: dict = {}
    # The app writes a JSON log line per request to stdout (in Lambda, CloudWatch's); here it is
    # written, as there, and dropped, so that stdout carries the report.
    with bench_database() as url, open(os.devnull, "w") as devnull, redirect_stdout(devnull):
        admin_con = booking_paths.raw_connection(parse_database_url(url), "modex-bench-admin")
        try:
            results["machine"] = machine_info(admin_con)
            shows = Shows(admin_con)
            progress(f"paths: {args.bookings} single-seat bookings per path in {args.rounds} rounds")
            results["paths"] = run_paths(shows, url, args)
            if "race" not in args.skip:
                results["race"] = run_race(shows, args)
            if "strategies" not in args.skip:
                results["strategies"] = run_strategies(shows, admin_con, url, args)
            if "checkout" not in args.skip:
                results["checkout"] = run_checkout(shows, admin_con, args)
            if "best" not in args.skip:
                results["best"] = best_available.measure(args.purchases // 4, args.client_counts, progress)
            if "venue" not in args.skip:
                results["venue"] = venue.measure(args.venue_repeats, progress)
        finally:
            admin_con.close()
    if "coldstart" not in args.skip:
        results["cold_start"] = run_cold_start(args)
    results["load_average_end"] = round(os.getloadavg()[0], 1)
    print_report(results)
    if args.plot and args.plot != "none":
        plot(results, Path(args.plot))
        print(f"\nplot: {args.plot}")
    if args.json:
        Path(args.json).write_text(json.dumps(_jsonable(results), indent=2, default=str))
        print(f"figures: {args.json}")
    progress(f"done in {time.monotonic() - started:.0f} s")
    ratio = results["paths"]["ratio"]
    print(f"bench: service/sql={ratio['service']:.2f} handler/sql={ratio['handler']:.2f} http/sql={ratio['http']:.2f}",
          flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
