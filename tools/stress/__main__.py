"""python -m tools.stress {race,flash-sale,onsale,bench,storm,viewers} ... (see docs/stress.md, docs/performance.md).

Exit 0: the run passed. Exit 1: it ran and failed (wrong counts, throttled or unexpected
answers, the invariant broken). Exit 2: it could not run (bad arguments, no show, target
unreachable).
"""
import argparse
import importlib
import os
import sys
from typing import List, Optional

from . import onsale, report, scenarios

PASSED_ON = ("bench", "storm", "viewers")  # commands that are modules of this package with a main(argv) of their own


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def _add_common(parser: argparse.ArgumentParser) -> None:
    where = parser.add_argument_group("target (exactly one)")
    choice = where.add_mutually_exclusive_group(required=True)
    choice.add_argument("--url", metavar="BASE", help="the site's origin, e.g. http://127.0.0.1:8000 (the tool adds /api)")
    choice.add_argument("--containers", type=_positive, metavar="N",
                        help="N simulated Lambda containers (processes) calling the app's handler against DATABASE_URL")
    choice.add_argument("--lambda", dest="function_name", metavar="NAME",
                        help="the deployed API handler function, invoked through boto3")
    where.add_argument("--region", help="AWS region for --lambda (default: the AWS configuration's)")
    parser.add_argument("--show", metavar="ID", help="show to use; without it a new show is created in DATABASE_URL")
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"), metavar="URL",
                        help="database for --containers, for creating a show and for the SQL check "
                             "(default: $DATABASE_URL)")
    parser.add_argument("--no-sql", action="store_true",
                        help="check through the API only, even when a database URL is known")
    parser.add_argument("--timeout", type=float, default=30.0, metavar="S", help="per-request timeout (default 30)")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON on stdout (table on stderr)")
    parser.add_argument("--plot", metavar="FILE.png", help="write a latency histogram and throughput plot")
    parser.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                        help="progress bar on stderr (default: when stderr is a terminal)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m tools.stress", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True, metavar="{race,flash-sale,onsale,bench,storm,viewers}")

    race = commands.add_parser("race", help="many requests for one seat at one moment: exactly one must win")
    _add_common(race)
    race.add_argument("--seat", metavar="ID", help="seat to race for (default: the first AVAILABLE one)")
    race.add_argument("--requests", type=_positive, default=50, metavar="N", help="requests to fire (default 50)")

    sale = commands.add_parser("flash-sale", help="many users buy random seats until the show is sold out")
    _add_common(sale)
    sale.add_argument("--users", type=_positive, default=20, metavar="M", help="simulated users (default 20)")
    sale.add_argument("--seats-per-user", type=_positive, default=2, metavar="K",
                      help="seats per booking attempt, 1-10 (default 2)")
    sale.add_argument("--rows", type=_positive, default=4, help="rows of a created show (default 4)")
    sale.add_argument("--seats-per-row", type=_positive, default=10, help="seats per row of a created show (default 10)")
    sale.add_argument("--max-attempts", type=_positive, default=100, help="booking attempts per user (default 100)")
    sale.add_argument("--duration", type=float, default=120.0, metavar="S", help="stop the sale after S seconds (default 120)")
    sale.add_argument("--seed", type=int, help="random seed for the seat choices")

    sale_out = commands.add_parser("onsale", help="an on-sale: buyers hold and confirm seats of a new show of a "
                                                  "layout until it is sold out (tools/stress/onsale.py)")
    _add_common(sale_out)
    onsale.add_arguments(sale_out)

    commands.add_parser("bench", help="benchmarks (tools/stress/bench); arguments are passed on", add_help=False)
    commands.add_parser("storm", help="the connection storm (tools/stress/storm.py); arguments are passed on",
                        add_help=False)
    commands.add_parser("viewers", help="a crowd polling the seat map, behind a cache and not "
                                        "(tools/stress/viewers.py); arguments are passed on", add_help=False)
    return parser


def _target(args):
    try:
        return _make_target(args)
    except (ValueError, RuntimeError) as error:  # bad URL, containers that would not start
        raise scenarios.SetupError(str(error)) from error
    except Exception as error:
        if type(error).__module__.startswith("botocore"):  # no region, no credentials
            raise scenarios.SetupError(f"--lambda: {error}") from error
        raise


def _make_target(args):
    from .containers import ContainersTarget
    from .targets import HttpTarget, LambdaTarget

    if args.url:
        return HttpTarget(args.url, timeout=args.timeout)
    if args.containers:
        if not args.database_url:
            raise scenarios.SetupError("--containers needs DATABASE_URL (or --database-url)")
        # The containers read it from the environment, as the deployed function does.
        os.environ["DATABASE_URL"] = args.database_url
        return ContainersTarget(args.containers, timeout=args.timeout)
    width = getattr(args, "requests", None) or getattr(args, "users", None) or getattr(args, "clients", None) or 50
    return LambdaTarget(args.function_name, timeout=args.timeout, region=args.region, max_concurrency=width)


def run(args) -> int:
    if args.command == "onsale":
        return onsale.run(args, lambda: _target(args))
    database_url = None if args.no_sql else args.database_url
    show_id = args.show
    if not show_id:
        if not args.database_url:
            raise scenarios.SetupError("pass --show ID, or set DATABASE_URL so that a show can be created")
        rows, per_row = (1, 10) if args.command == "race" else (args.rows, args.seats_per_row)
        try:
            show_id = scenarios.create_show(args.database_url, rows, per_row, name=f"Stress {args.command}")
        except Exception as error:  # unreachable database, bad URL
            raise scenarios.SetupError(f"cannot create a show in DATABASE_URL: {error}") from error
        print(f"created show {show_id} ({rows} x {per_row} seats)", file=sys.stderr)
    progress = sys.stderr.isatty() if args.progress is None else args.progress
    target = _target(args)
    try:
        if args.command == "race":
            outcome = scenarios.race(target, show_id, args.seat, args.requests, database_url, args.timeout, progress)
        else:
            outcome = scenarios.flash_sale(target, show_id, args.users, args.seats_per_user, database_url,
                                           args.timeout, max_attempts=args.max_attempts, duration=args.duration,
                                           progress=progress, seed=args.seed)
    finally:
        target.close()
    if args.plot:
        report.plot(args.plot, outcome.title, outcome.answers)
        outcome.summary["plot"] = args.plot
    report.emit(outcome.summary, outcome.text, args.json)
    return 0 if outcome.ok else 1


def main(argv: Optional[List[str]] = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in PASSED_ON:
        # These commands parse their own arguments; import only the one asked for.
        command = importlib.import_module(f".{argv[0]}", __package__)
        return command.main(argv[1:])
    args = build_parser().parse_args(argv)
    try:
        return run(args)
    except scenarios.SetupError as error:
        print(f"stress: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
