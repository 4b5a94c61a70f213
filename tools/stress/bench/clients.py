"""Concurrent buyers for the bench: threads started together, each with its own database
connection (closed when it is done), each timing its own requests."""
import threading
import time
from typing import Callable, List, Tuple

from chalicelib import db


def run_clients(clients: int, work: Callable[[int], List[float]]) -> Tuple[List[float], float]:
    """Runs `work(index)` on `clients` threads at once; each returns the latencies (seconds) of
    the requests it made. Returns all of them and the wall time."""
    latencies: List[float] = []
    lock = threading.Lock()

    def client(index: int) -> None:
        mine: List[float] = []
        try:
            mine = work(index)
        finally:
            db.close()
            with lock:
                latencies.extend(mine)

    threads = [threading.Thread(target=client, args=(index,)) for index in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies, time.perf_counter() - started
