"""Browser fixtures: Debian's chromium driven by Playwright (sync API) against `live_server`.

`open_page(...)` gives a fresh browser context (its own localStorage: a separate visitor) whose
console errors and uncaught exceptions are collected; a test fails if any appeared. When a test
fails, every page it opened is screenshotted under test-results/. `axe(page, screen)` audits a
page with axe-core (npm, `npm ci`) and fails the test on any violation.
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
AXE_SCRIPT = ROOT / "node_modules" / "axe-core" / "axe.min.js"
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


@pytest.fixture(scope="session")
def axe_script():
    if not AXE_SCRIPT.exists():
        message = f"no axe-core at {AXE_SCRIPT.relative_to(ROOT)} (run `npm ci`, or `make test`)"
        if os.environ.get("CI"):
            pytest.fail(message)  # CI installs it: a missing audit must not pass as skipped
        pytest.skip(message)
    return AXE_SCRIPT


def describe_violations(screen, violations):
    lines = [f"{screen}: {len(violations)} accessibility violation(s)"]
    for violation in violations:
        lines.append(f"- {violation['id']} ({violation['impact']}): {violation['help']} <{violation['helpUrl']}>")
        for node in violation["nodes"][:5]:
            reasons = [line.strip() for line in node["failureSummary"].splitlines()
                       if line.strip() and not line.startswith("Fix ")]
            lines.append(f"    {' '.join(node['target'])}: {'; '.join(reasons)}")
        if len(violation["nodes"]) > 5:
            lines.append(f"    … and {len(violation['nodes']) - 5} more")
    return "\n".join(lines)


@pytest.fixture
def axe(axe_script):
    """axe(page, screen): injects axe-core into the page, runs every rule it has on by default
    (WCAG 2.x A/AA and best practices) and fails, listing them, on any violation. Open the page
    with `bypass_csp=True`: the page's Content-Security-Policy rightly refuses injected scripts."""

    def audit(page, screen):
        if not page.evaluate("typeof window.axe !== 'undefined'"):
            page.add_script_tag(path=str(axe_script))
        results = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
        assert not results["violations"], describe_violations(screen, results["violations"])
        return results

    return audit


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
        context_options.setdefault("locale", "en-US")  # prices read "€65.00" whatever the machine's language
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


def create_show_with_cli(database_url, name, start="2030-05-01T19:30:00Z", rows=3, seats_per_row=8, layout=None):
    """The admin CLI's create-show, as an operator runs it: a grid of rows x seats, or a layout
    file (`layout="theatre"` is layouts/theatre.json). Returns the Show JSON."""
    room = (["--layout", str(ROOT / "layouts" / f"{layout}.json")] if layout
            else ["--rows", str(rows), "--seats-per-row", str(seats_per_row)])
    result = subprocess.run(
        [sys.executable, "-m", "tools.admin", "create-show", "--name", name, "--start", start, *room],
        cwd=ROOT, env={**os.environ, "DATABASE_URL": database_url}, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.fixture
def admin_show(database_url):
    """create_admin_show(name=..., rows=..., seats_per_row=... | layout="theatre") -> Show JSON."""

    def create(name="Browser Test Show", rows=3, seats_per_row=8, start="2030-05-01T19:30:00Z", layout=None):
        return create_show_with_cli(database_url, name, start, rows, seats_per_row, layout)

    return create


@pytest.fixture(scope="session")
def stadium_show(database_url):
    """The 80,000-seat stadium of layouts/stadium.json (80 sections), made once per run; tests
    that book in it keep to sections of their own."""
    return create_show_with_cli(database_url, "Stadium Final", start="2030-07-01T18:00:00Z", layout="stadium")


@pytest.fixture
def api(live_server):
    """api(method, path, body=None, headers=None) -> (status, headers, body) against /api."""

    def call(method, path, body=None, headers=None):
        return http(method, f"{live_server}/api{path}", body, headers)

    return call


def tab_into_seat_map(page, most_presses: int = 15) -> str:
    """Presses Tab from where focus is until a seat button has it (the map is one Tab stop);
    returns that seat's id, or "" when none got focus within `most_presses`."""
    for _ in range(most_presses):
        page.keyboard.press("Tab")
        focused = page.evaluate("document.activeElement.dataset.seatId || ''")
        if focused:
            return focused
    return ""


def show_link(page, name, most_pages: int = 50):
    """The link to a show on the shows list (`name`: text or pattern), pressing More shows until
    it is listed: the list comes a page (50 shows) at a time, and a test run makes many shows."""
    from playwright.sync_api import expect

    link = page.get_by_role("link", name=name)
    more = page.get_by_role("button", name="More shows")
    expect(page.locator("[data-role=loading]")).to_be_hidden()
    for _ in range(most_pages):
        if link.count() or not more.is_visible():
            break
        listed = page.locator("a.show-card").count()
        more.click()
        expect(page.locator("a.show-card")).not_to_have_count(listed)
    return link
