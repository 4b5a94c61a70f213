"""Helpers that release many bookings at one moment (a barrier) from threads or processes,
each with its own database connection."""
import multiprocessing
import threading
from typing import Callable, List

from chalicelib import db


def outcome_of(attempt: Callable[[], object]):
    """('CONFIRMED', booking id, seat ids) or (error code, message, seat ids) for one attempt,
    which returns a booking as services.book_seats does (an IssuedBooking) or as JSON."""
    try:
        result = attempt()
        booking = result if isinstance(result, dict) else result.to_json()
        return ("CONFIRMED", booking["id"], [seat["id"] for seat in booking["seats"]])
    except Exception as error:  # the test decides which errors are acceptable
        return (getattr(error, "code", type(error).__name__), getattr(error, "message", str(error)),
                getattr(error, "seat_ids", None))
    finally:
        db.close()  # each racer owns one connection; don't leave it for the garbage collector


def result_or_code(attempt: Callable[[], object]):
    """What the attempt returned, or the code of the domain error it raised."""
    try:
        return attempt()
    except Exception as error:  # the test decides which codes are acceptable
        return getattr(error, "code", repr(error))
    finally:
        db.close()


def race_threads(attempts: List[Callable[[], object]], timeout: float = 60, judge=outcome_of) -> list:
    """Runs the attempts on threads released at one moment; each result is `judge(attempt)`
    (by default an outcome tuple; `result_or_code` keeps the domain values)."""
    barrier = threading.Barrier(len(attempts))
    results = [None] * len(attempts)

    def run(index):
        barrier.wait(timeout)
        results[index] = judge(attempts[index])

    threads = [threading.Thread(target=run, args=(index,)) for index in range(len(attempts))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
    assert not any(thread.is_alive() for thread in threads), "a racer hung"
    return results


def _process_racer(barrier, queue, index, attempt):
    barrier.wait(60)
    queue.put((index, outcome_of(attempt)))


def race_processes(attempts: List[Callable[[], object]], timeout: float = 120) -> list:
    """One OS process per attempt (fork: each forgets the parent's connection and opens its own)."""
    context = multiprocessing.get_context("fork")
    barrier, queue = context.Barrier(len(attempts)), context.Queue()
    processes = [context.Process(target=_process_racer, args=(barrier, queue, index, attempt))
                 for index, attempt in enumerate(attempts)]
    for process in processes:
        process.start()
    results = dict(queue.get(timeout=timeout) for _ in processes)
    for process in processes:
        process.join(timeout)
    assert all(process.exitcode == 0 for process in processes), "a racer process failed"
    return [results[index] for index in range(len(attempts))]
