"""The booking paths at N clients at once: N forked processes per path, each with its own path
(connection, handler, HTTP connection), released together by a barrier; each books its own
fresh seats one after another. Processes, not threads, so that one interpreter's lock does
not set the pace (Lambda runs one container per concurrent request; the local server is one
process with threads, as in `make run`)."""
import multiprocessing
import os
import statistics
import time
from typing import Callable, Dict, List, Sequence

from .. import report


def _client(make_path: Callable, seats: Sequence[tuple], barrier, results) -> None:
    try:
        path = make_path()
        latencies = []
        barrier.wait(60)
        for show_id, seat_id in seats:
            began = time.perf_counter()
            status = path.book(show_id, seat_id)
            latencies.append(time.perf_counter() - began)
            if status != 201:
                raise RuntimeError(f"{path.name}: booking a fresh seat answered {status}")
        results.put(("ok", latencies, time.perf_counter()))
        path.close()
    except BaseException as error:  # reported to the parent, which fails the bench
        results.put(("error", f"{type(error).__name__}: {error}", time.perf_counter()))
    finally:
        results.close()
        results.join_thread()  # put() hands the answer to a feeder thread: let it finish writing
        os._exit(0)  # no atexit or finalizers of the parent's objects in a forked child


def time_parallel(make_path: Callable, seats: Sequence[tuple], clients: int) -> dict:
    """Bookings/s of `clients` processes booking `seats` between them, and every latency."""
    context = multiprocessing.get_context("fork")
    barrier, results = context.Barrier(clients + 1), context.Queue()
    shares = [seats[index::clients] for index in range(clients)]
    processes = [context.Process(target=_client, args=(make_path, share, barrier, results), daemon=True)
                 for share in shares]
    for process in processes:
        process.start()
    barrier.wait(60)
    started = time.perf_counter()
    latencies, ended = [], started
    for _ in processes:
        status, detail, finished = results.get(timeout=300)
        if status != "ok":
            raise RuntimeError(detail)
        latencies += detail
        ended = max(ended, finished)
    for process in processes:
        process.join(10)
    return {"rate": len(seats) / (ended - started), "latencies": latencies}


def compare_parallel(makers: Dict[str, Callable], seats: Callable[[int], List[tuple]], per_path: int, rounds: int,
                     clients: int, progress: Callable[[str], None]) -> dict:
    """Per path: bookings/s per round, the median over rounds of the ratio to the first path's
    rate in the same round, and p50/p99 latency over all rounds. Rounds rotate the order."""
    names = list(makers)
    per_round = max(clients, per_path // rounds)
    rates: Dict[str, List[float]] = {name: [] for name in names}
    latencies: Dict[str, List[float]] = {name: [] for name in names}
    for name in names:  # warm up: plan caches, the server's threads and connections
        time_parallel(makers[name], seats(clients * 5), clients)
    for round_index in range(rounds):
        order = names[round_index % len(names):] + names[:round_index % len(names)]
        for name in order:
            measured = time_parallel(makers[name], seats(per_round), clients)
            rates[name].append(measured["rate"])
            latencies[name] += measured["latencies"]
        progress(f"paths at {clients} clients: round {round_index + 1}/{rounds}: "
                 + ", ".join(f"{name} {values[-1]:.0f}/s" for name, values in rates.items()))
    baseline = names[0]
    return {
        "clients": clients,
        "rates": rates,
        "median_rate": {name: statistics.median(values) for name, values in rates.items()},
        "ratio": {name: statistics.median(value / base for value, base in zip(values, rates[baseline]))
                  for name, values in rates.items()},
        "p50_ms": {name: report.percentile(values, 50) * 1000 for name, values in latencies.items()},
        "p99_ms": {name: report.percentile(values, 99) * 1000 for name, values in latencies.items()},
    }
