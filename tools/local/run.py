"""`make run`: a database (DATABASE_URL or embedded under .data/), migrations, a demo show
when no upcoming show exists, and the local server. Ctrl-C stops everything it started."""
import json
import os
import signal
import sys
from datetime import datetime, timedelta, timezone

from chalicelib import db, schema, services
from chalicelib.layout import parse_layout
from chalicelib.validation import ShowRequest
from tools.local import localdb
from tools.local.serve import DEFAULT_PROCESSES, make_server

DEMO_NAME = "Modex Demo Night"
DEMO_LAYOUT = localdb.ROOT / "layouts" / "theatre.json"


def ensure_demo_show() -> None:
    if services.list_shows().shows:  # upcoming shows only
        return
    now = datetime.now(timezone.utc)
    start = (now + timedelta(days=7)).replace(hour=19, minute=30, second=0, microsecond=0)
    layout = parse_layout(json.loads(DEMO_LAYOUT.read_text()))
    show = services.create_show(ShowRequest(DEMO_NAME, start, layout))
    print(f"created demo show {show.name!r} ({show.id})")


def _stop(signum, frame):
    raise KeyboardInterrupt


def main() -> int:
    # Explicit handlers: a SIGINT ignored by a parent shell, or a SIGTERM from a supervisor,
    # must still stop the server and the embedded PostgreSQL it started.
    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    port = int(os.environ.get("PORT", 8000))
    with localdb.server_url() as admin_url:
        if os.environ.get("DATABASE_URL"):
            url = admin_url
        else:
            url = localdb.create_database(admin_url, "modex", exist_ok=True)
        os.environ["DATABASE_URL"] = url
        db.configure(None)
        applied = schema.migrate()
        print(f"migrations applied: {', '.join(applied) or 'none (up to date)'}")
        ensure_demo_show()
        db.close()
        server = make_server(port=port, verbose=True, processes=DEFAULT_PROCESSES)
        print(f"Modex is running at http://127.0.0.1:{port}/  (API: http://127.0.0.1:{port}/api/shows)")
        print("Press Ctrl-C to stop.", flush=True)
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            print("\nstopping")
        finally:
            server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
