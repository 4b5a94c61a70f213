"""The viewer storm, small (tools/stress/viewers.py): 30 viewers poll one show's availability
twice each (every 2 s for 4 s) through nginx's cache and straight at the local server, while a
booker books a seat every 0.5 s. The database's own counter (pg_stat_statements on a private
server) must show about one read per second for the show behind the cache, whatever the crowd,
and exactly one read per poll without it. Needs nginx (.ci/run installs it): missing in CI is a
failure, elsewhere a skip. About 15 s."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
VIEWERS = 30
SECONDS = 4
POLLS = VIEWERS * SECONDS // 2


@pytest.fixture(scope="module")
def storm(viewer_tools):
    result = subprocess.run([sys.executable, "-m", "tools.stress", "viewers", "--viewers", str(VIEWERS),
                             "--duration", str(SECONDS), "--json", "--no-progress"],
                            cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    summary = json.loads(result.stdout)
    assert summary["endpoint"] == "/availability"
    rounds = {figures["mode"]: figures for figures in summary["rounds"]}
    assert set(rounds) == {"proxy", "direct"}
    return rounds


@pytest.mark.parametrize("mode", ["proxy", "direct"])
def test_every_poll_is_answered_200_or_304(storm, mode):
    figures = storm[mode]
    assert figures["others"] == {}, "timeouts, refused connections or other statuses"
    assert figures["requests"] == figures["answered200"] + figures["answered304"]
    # Each viewer polls at a random moment of the first 2 s and again 2 s later.
    assert POLLS * 0.9 <= figures["requests"] <= POLLS
    assert figures["answered200"] >= VIEWERS  # every viewer's first poll has no ETag yet
    assert figures["bookings"].get("201", 0) >= SECONDS  # the statuses changed meanwhile


def test_behind_the_cache_the_database_reads_about_once_a_second(storm):
    proxy = storm["proxy"]
    # nginx keeps a max-age=1 answer for 1-2 s (it counts whole seconds), and lets one
    # request per key through at a time (proxy_cache_lock): at most one read a second, plus
    # the first and one refresh that may straddle the end.
    assert 1 <= proxy["dbReads"] <= SECONDS + 2, proxy
    assert proxy["dbReads"] * 10 <= proxy["requests"]
    assert proxy["fromCache"] >= proxy["requests"] - proxy["dbReads"]


def test_straight_at_the_origin_every_poll_is_a_read(storm):
    direct = storm["direct"]
    assert direct["dbReads"] == direct["requests"]
    assert direct["fromCache"] == 0
