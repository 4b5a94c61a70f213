"""Holds against direct booking for `tools.stress bench`, in one run: single-seat purchases by
N concurrent buyers (their own connections), as a direct booking or as a hold then its
confirmation, in alternating rounds; then the latency of taking over expired holds while
other buyers keep buying (the takeover happens inside the claim statement)."""
import statistics
import threading
import time
from typing import Callable, Dict, List, Sequence

from chalicelib import db, holds, services
from chalicelib.validation import BookingRequest, HoldRequest

from .. import report
from .clients import run_clients


def buy_directly(show_id, seat_id, buyer: str) -> None:
    services.book_seats(show_id, BookingRequest(buyer, (seat_id,)))


def hold_then_confirm(show_id, seat_id, buyer: str) -> None:
    issued = holds.hold_seats(show_id, HoldRequest(buyer, (seat_id,)))
    holds.confirm_hold(issued.hold.id, issued.token)


def _timed(buy: Callable, purchases: Sequence[tuple], clients: int) -> Dict[str, object]:
    """Each client buys its share of `purchases` ((show_id, seat_id)) one after another."""
    def work(index: int) -> List[float]:
        latencies = []
        for show_id, seat_id in purchases[index::clients]:
            started = time.perf_counter()
            buy(show_id, seat_id, f"buyer-{seat_id}")
            latencies.append(time.perf_counter() - started)
        return latencies

    latencies, elapsed = run_clients(clients, work)
    return {"per_s": len(latencies) / elapsed, "latencies": latencies}


def compare(seats: Callable[[int], List[tuple]], purchases: int, rounds: int, clients: int,
            progress: Callable[[str], None]) -> dict:
    ways = {"direct": buy_directly, "hold+confirm": hold_then_confirm}
    rates: Dict[str, List[float]] = {name: [] for name in ways}
    latencies: Dict[str, List[float]] = {name: [] for name in ways}
    for round_number in range(rounds):
        progress(f"checkout: round {round_number + 1}/{rounds}, {purchases // rounds} purchases a way, "
                 f"{clients} buyers")
        for name, buy in ways.items():
            result = _timed(buy, seats(purchases // rounds), clients)
            rates[name].append(result["per_s"])
            latencies[name] += result["latencies"]
    return {"clients": clients, "purchases": purchases // rounds * rounds,
            "per_s": {name: statistics.median(values) for name, values in rates.items()},
            "p50_ms": {name: report.percentile(values, 50) * 1000 for name, values in latencies.items()},
            "p99_ms": {name: report.percentile(values, 99) * 1000 for name, values in latencies.items()}}


def takeovers(seats: Callable[[int], List[tuple]], expire: Callable[[List[int]], None], count: int, clients: int,
              progress: Callable[[str], None]) -> dict:
    """`count` seats held and then lapsed (on the database's clock), taken over by direct
    bookings from `clients` buyers while as many others buy fresh seats."""
    lapsed = seats(count)
    hold_ids = [holds.hold_seats(show_id, HoldRequest(f"gone-{seat_id}", (seat_id,))).hold.id
                for show_id, seat_id in lapsed]
    expire(hold_ids)
    db.close()
    progress(f"checkout: {count} expired holds taken over by {clients} buyers under load")
    load = threading.Thread(target=_timed, args=(buy_directly, seats(count), clients))
    load.start()
    taken = _timed(buy_directly, lapsed, clients)
    load.join()
    return {"count": count, "p50_ms": report.percentile(taken["latencies"], 50) * 1000,
            "p99_ms": report.percentile(taken["latencies"], 99) * 1000}


def report_lines(result: dict) -> list:
    compared, taken = result["compare"], result["takeover"]
    lines = [f"\nCheckout: {compared['purchases']} single-seat purchases a way, {compared['clients']} buyers at once "
             "(median of rounds)",
             f"  {'way':<14}{'purchases/s':>12}{'p50 ms':>9}{'p99 ms':>9}"]
    for name in compared["per_s"]:
        lines.append(f"  {name:<14}{compared['per_s'][name]:>12.0f}{compared['p50_ms'][name]:>9.1f}"
                     f"{compared['p99_ms'][name]:>9.1f}")
    ratio = compared["per_s"]["hold+confirm"] / compared["per_s"]["direct"]
    lines.append(f"  hold+confirm/direct = {ratio:.2f}")
    lines.append(f"  taking over {taken['count']} expired holds under load: p50 {taken['p50_ms']:.1f} ms, "
                 f"p99 {taken['p99_ms']:.1f} ms")
    return lines
