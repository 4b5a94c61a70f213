"""The local server in several processes (`make run` starts one per CPU): forked copies accept
on one socket, every copy serves, a race through them still has exactly one winner, and none
outlives the server."""
import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tools.local.serve import make_server
from tools.local.privatepg import free_port

ROOT = Path(__file__).resolve().parents[2]
PROCESSES = 3


def cpu_ticks(pid: int) -> int:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def children_of(pid: int) -> list:
    return [int(child) for task in Path(f"/proc/{pid}/task").iterdir()
            for child in (task / "children").read_text().split()]


@pytest.fixture
def forked_server(database_url):
    server = make_server(port=0, workers=12, processes=PROCESSES)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def get(url: str) -> int:
    with urllib.request.urlopen(url, timeout=10) as response:
        response.read()
        return response.status


def post(url: str, body: dict) -> int:
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            response.read()
            return response.status
    except urllib.error.HTTPError as error:
        error.read()
        return error.code


def test_every_process_serves(forked_server, show):
    pids = [os.getpid()] + forked_server.children
    assert len(forked_server.children) == PROCESSES - 1 and all(alive(pid) for pid in forked_server.children)
    url = f"http://127.0.0.1:{forked_server.server_address[1]}/api/shows/{show.id}/seats"
    before = {pid: cpu_ticks(pid) for pid in forked_server.children}
    served = 0
    with ThreadPoolExecutor(8) as pool:
        # Until every forked copy has spent CPU on requests (a copy that never accepts stays
        # idle): bounded, so a copy that never serves fails the test instead of hanging it.
        while served < 4000 and any(cpu_ticks(pid) - before[pid] < 5 for pid in before):
            assert set(pool.map(lambda _: get(url), range(200))) == {200}
            served += 200
    assert all(cpu_ticks(pid) - before[pid] >= 5 for pid in before), (served, pids)


@pytest.mark.parametrize("round_number", range(5))
def test_a_race_through_every_process_has_one_winner(forked_server, show, seat_ids, round_number):
    url = f"http://127.0.0.1:{forked_server.server_address[1]}/api/shows/{show.id}/bookings"
    start = threading.Barrier(30)

    def contender(index: int) -> int:
        start.wait(10)
        return post(url, {"userId": f"racer-{index}", "seatIds": [str(seat_ids[0])]})

    with ThreadPoolExecutor(30) as pool:
        answers = list(pool.map(contender, range(30)))
    assert sorted(answers) == [201] + [409] * 29


def test_closing_the_server_stops_its_copies(database_url):
    server = make_server(port=0, workers=4, processes=PROCESSES)
    children = list(server.children)
    assert len(children) == PROCESSES - 1 and all(alive(pid) for pid in children)
    server.server_close()
    assert not any(alive(pid) for pid in children)


def test_copies_stop_when_the_server_is_killed(database_url):
    """`python -m tools.local.serve` killed outright (no clean-up runs): its copies notice
    their parent is gone and stop, so the port is free again."""
    port = free_port()
    parent = subprocess.Popen([sys.executable, "-m", "tools.local.serve", str(port)], cwd=ROOT,
                              env={**os.environ, "MODEX_LOCAL_PROCESSES": str(PROCESSES)},
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                assert get(f"http://127.0.0.1:{port}/api/shows") == 200
                break
            except OSError:
                assert time.monotonic() < deadline and parent.poll() is None, "the server did not start"
                time.sleep(0.2)
        children = children_of(parent.pid)
        assert len(children) == PROCESSES - 1
        parent.send_signal(signal.SIGKILL)
        parent.wait(10)
        deadline = time.monotonic() + 10
        while any(alive(pid) for pid in children) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not any(alive(pid) for pid in children)
    finally:
        if parent.poll() is None:
            parent.kill()
