"""Browser fixtures: Debian's chromium driven by Playwright (sync API) against `live_server`.

`open_page(...)` gives a fresh browser context (its own localStorage: a separate visitor) whose
console errors and uncaught exceptions are collected; a test fails if any appeared. When a test
fails, every page it opened is screenshotted under test-results/.
"""
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.http import http

ROOT = Path(__file__).resolve().parents[3]
RESULTS_DIR = ROOT / "test-results"
CHROMIUM = os.environ.get("MODEX_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)


@pytest.fixture(scope="session")
def playwright_instance():
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="session")
def browser(playwright_instance):
    if not Path(CHROMIUM).exists() and not shutil.which(CHROMIUM):
        message = f"no chromium at {CHROMIUM} (apt-get install chromium, or set MODEX_CHROMIUM)"
        if os.environ.get("CI"):
            pytest.fail(message)  # CI installs it: a missing browser must not pass as skipped
        pytest.skip(message)
    browser = playwright_instance.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield browser
    browser.close()


def http_status_logged(*statuses):
    """Patterns for chromium's own console line about a fetch answered with one of `statuses`
    (e.g. the 409 a losing racer expects); the app itself must log nothing."""
    return [rf"^Failed to load resource: the server responded with a status of {status} " for status in statuses]


class PageProblems:
    """Console errors and uncaught exceptions of one page, except the `expected` patterns."""

    def __init__(self, name, expected=()):
        self.name = name
        self.expected = [re.compile(pattern) for pattern in expected]
        self.items = []

    def on_console(self, message):
        if message.type == "error" and not any(pattern.search(message.text) for pattern in self.expected):
            self.items.append(f"{self.name} console: {message.text} ({message.location.get('url', '')})")

    def on_page_error(self, error):
        self.items.append(f"{self.name} pageerror: {error}")


@pytest.fixture
def open_page(browser, live_server, request):
    """open_page(path="/", viewport=DESKTOP, name=None, expected_errors=()) -> a Page at
    live_server + path, in a context of its own."""
    contexts, pages, problems = [], [], []

    def open_(path="/", viewport=DESKTOP, name=None, expected_errors=(), **context_options):
        context = browser.new_context(viewport=viewport, base_url=live_server, **context_options)
        context.set_default_timeout(10_000)
        page = context.new_page()
        watch = PageProblems(name or f"page{len(pages) + 1}", expected_errors)
        page.on("console", watch.on_console)
        page.on("pageerror", watch.on_page_error)
        contexts.append(context)
        pages.append((watch.name, page))
        problems.append(watch)
        if path is not None:
            page.goto(path)
        return page

    yield open_

    failed = any(getattr(request.node, f"rep_{when}", None) is not None and getattr(request.node, f"rep_{when}").failed
                 for when in ("setup", "call"))
    if failed:
        RESULTS_DIR.mkdir(exist_ok=True)
        safe = re.sub(r"[^\w.-]+", "_", request.node.nodeid)
        for name, page in pages:
            try:
                page.screenshot(path=str(RESULTS_DIR / f"{safe}-{name}.png"), full_page=True)
            except Exception as error:  # a crashed page must not hide the test's own failure
                print(f"screenshot of {name} failed: {error}", file=sys.stderr)
    for context in contexts:
        context.close()
    found = [item for watch in problems for item in watch.items]
    if not failed:
        assert not found, "console errors or page errors:\n" + "\n".join(found)


@pytest.fixture
def admin_show(database_url):
    """create_admin_show(name=..., rows=..., seats_per_row=...) -> Show JSON, made by the admin CLI."""

    def create(name="Browser Test Show", rows=3, seats_per_row=8, start="2030-05-01T19:30:00Z"):
        result = subprocess.run(
            [sys.executable, "-m", "tools.admin", "create-show", "--name", name, "--start", start,
             "--rows", str(rows), "--seats-per-row", str(seats_per_row)],
            cwd=ROOT, env={**os.environ, "DATABASE_URL": database_url}, capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout)

    return create


@pytest.fixture
def api(live_server):
    """api(method, path, body=None, headers=None) -> (status, headers, body) against /api."""

    def call(method, path, body=None, headers=None):
        return http(method, f"{live_server}/api{path}", body, headers)

    return call
