"""A crowd of viewers polling one URL on 127.0.0.1, for the viewer storm (viewers.py): asyncio
tasks in a few worker processes (`python -m tools.stress.crowd JOB`), each poll on a connection
of its own with If-None-Match, every request with a timeout, every worker stopping by itself
(or earlier, when a line `stop` comes on its stdin). A worker prints its records as one JSON
line: (status or error, start, seconds, cache status)."""
import asyncio
import json
import random
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Callable, Dict, Tuple

from tools.local.privatepg import raise_open_file_limit

from . import report

ROOT = Path(__file__).resolve().parents[2]


class _Exchange(asyncio.Protocol):
    """One request on a connection of its own: send it, collect the answer until the server
    closes (the request says Connection: close)."""

    def __init__(self, request: bytes, done: asyncio.Future):
        self.request, self.done, self.chunks = request, done, []

    def connection_made(self, transport) -> None:
        transport.write(self.request)

    def data_received(self, data: bytes) -> None:
        self.chunks.append(data)

    def connection_lost(self, exc) -> None:
        if self.done.done():
            return
        if exc is None:
            self.done.set_result(b"".join(self.chunks))
        else:
            self.done.set_exception(exc)


def parse_head(raw: bytes) -> Tuple[int, Dict[str, str]]:
    """Status and lower-case headers of a raw HTTP/1.1 answer; ValueError if it is none."""
    lines = raw.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/"):
        raise ValueError(f"not an HTTP answer: {lines[0][:60]!r}")
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return int(parts[1]), headers


async def _exchange(port: int, request: bytes) -> bytes:
    loop = asyncio.get_running_loop()
    done = loop.create_future()
    transport, _ = await loop.create_connection(lambda: _Exchange(request, done), "127.0.0.1", port)
    try:
        return await done
    finally:
        transport.close()


async def _viewer(job: dict, offset: float, records: list, stopped: threading.Event) -> None:
    """Polls every `interval` seconds from start_at + offset until the deadline (or until
    stopped). A poll that comes back late is not made up for: the next one goes at once, not
    in a burst."""
    deadline = job["start_at"] + job["duration"]
    due, etag = job["start_at"] + offset, None
    while due < deadline and not stopped.is_set():
        await asyncio.sleep(max(0.0, due - time.monotonic()))
        if stopped.is_set():
            break
        started = time.monotonic()
        conditional = f"If-None-Match: {etag}\r\n" if etag else ""
        request = (f"GET {job['path']} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: application/json\r\n"
                   f"Accept-Encoding: gzip\r\n{conditional}Connection: close\r\n\r\n").encode()
        cache = ""
        try:
            outcome, headers = parse_head(await asyncio.wait_for(_exchange(job["port"], request), job["timeout"]))
            cache = headers.get("x-cache-status", "")
            if outcome == 200:
                etag = headers.get("etag") or etag
        except (TimeoutError, asyncio.TimeoutError):  # before OSError, which TimeoutError is one of
            outcome = "timeout"
        except (OSError, ValueError) as error:
            outcome = type(error).__name__
        ended = time.monotonic()
        records.append((outcome, round(started - job["start_at"], 4), round(ended - started, 5), cache))
        due = max(due + job["interval"], ended)


def _worker(job: dict) -> None:
    """One process of viewers; prints their records as one JSON line."""
    raise_open_file_limit()
    rng = random.Random(job["seed"])
    records: list = []
    stopped = threading.Event()

    def listen() -> None:
        for line in sys.stdin:
            if line.strip() == "stop":
                stopped.set()

    threading.Thread(target=listen, daemon=True).start()

    async def crowd() -> None:
        await asyncio.gather(*(_viewer(job, rng.uniform(0, job["interval"]), records, stopped)
                               for _ in range(job["viewers"])))

    asyncio.run(crowd())
    print(json.dumps(records), flush=True)


def run_crowd(port: int, path: str, viewers: int, duration: float, interval: float, timeout: float,
              processes: int, seed: int, progress: report.Progress,
              at_start: Callable[[], None] = lambda: None, at_end: Callable[[], None] = lambda: None,
              until: Callable[[], bool] = lambda: False) -> list:
    """`viewers` viewers spread over `processes` worker processes; their records, all of them.
    `at_start` and `at_end` run when the first polls are due and when the last may start: after
    `duration` seconds, or as soon as `until()` is true (looked at every 0.1 s)."""
    start_at = time.monotonic() + 1.0 + 0.2 * processes  # every worker started and waiting
    shares = [viewers // processes + (1 if index < viewers % processes else 0) for index in range(processes)]
    workers = []
    for index, share in enumerate(share for share in shares if share):
        job = {"port": port, "path": path, "viewers": share, "start_at": start_at, "duration": duration,
               "interval": interval, "timeout": timeout, "seed": seed * 1000 + index}
        workers.append(subprocess.Popen([sys.executable, "-m", "tools.stress.crowd", json.dumps(job)],
                                        cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True))
    records = []
    try:
        time.sleep(max(0.0, start_at - time.monotonic()))
        at_start()
        ticked = start_at
        while time.monotonic() < start_at + duration and not until():
            time.sleep(min(0.1, max(0.0, start_at + duration - time.monotonic())))
            if time.monotonic() - ticked >= 1.0:
                ticked += 1.0
                progress.advance()
        at_end()
        if time.monotonic() < start_at + duration:
            for worker in workers:
                try:
                    worker.stdin.write("stop\n")
                    worker.stdin.flush()
                except OSError:  # a worker that died: its exit status says so below
                    pass
        for worker in workers:
            # A viewer's last poll starts before the deadline and ends within its timeout.
            out, _ = worker.communicate(timeout=max(1.0, start_at + duration + timeout + 15 - time.monotonic()))
            if worker.returncode != 0 or not out.strip():
                raise RuntimeError(f"a viewer process failed (exit status {worker.returncode})")
            records += json.loads(out.strip().splitlines()[-1])
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
                worker.wait(timeout=10)
        progress.finish()
    return records


if __name__ == "__main__":
    _worker(json.loads(sys.argv[1]))
