"""nginx as a caching reverse proxy on a free 127.0.0.1 port, the stand-in for CloudFront in the
viewer storm (tools/stress/viewers.py) and its test; unprivileged, everything in a temporary
directory."""
import os
import subprocess
from typing import Optional

from tools.local.privatepg import (PrivateDirectory, PrivateServerError, _Service, _wait_for_port, free_port,
                                   raise_open_file_limit)

NGINX = "/usr/sbin/nginx"


class Nginx(_Service):
    """nginx as a caching reverse proxy in front of 127.0.0.1:`origin_port`, unprivileged
    (as root it runs as the postgres or nobody user), everything in a temporary directory."""

    def __init__(self, origin_port: int, executable: str = NGINX):
        self.origin_port = origin_port
        self.executable = executable
        self.port: Optional[int] = None
        self.directory: Optional[PrivateDirectory] = None
        self.process: Optional[subprocess.Popen] = None
        self.open_files = 1024

    def config(self) -> str:
        here, files = self.directory.path, self.open_files
        return f"""
daemon off;
worker_processes auto;
worker_rlimit_nofile {files};
pid {here}/nginx.pid;
error_log {here}/error.log warn;
events {{ worker_connections {max(1024, files - 100)}; }}
http {{
    access_log off;
    client_body_temp_path {here}/client_body;
    proxy_temp_path {here}/proxy;
    fastcgi_temp_path {here}/fastcgi;
    uwsgi_temp_path {here}/uwsgi;
    scgi_temp_path {here}/scgi;
    proxy_cache_path {here}/cache levels=1:2 keys_zone=modex:10m max_size=256m inactive=10m use_temp_path=off;
    # As CloudFront with Compress: true (it compresses from 1,000 bytes).
    gzip on;
    gzip_types application/json;
    gzip_min_length 1000;
    gzip_proxied any;
    gzip_vary on;
    server {{
        listen 127.0.0.1:{self.port} backlog=4096;
        location /api/ {{
            proxy_pass http://127.0.0.1:{self.origin_port};
            proxy_cache modex;
            # The origin's Cache-Control decides (max-age=1 kept a second, no-cache not kept);
            # an answer without one is not kept, as with CloudFront's DefaultTTL 0.
            proxy_cache_valid any 0;
            # One request per key goes to the origin; the others wait for it, or get the
            # copy that is being refreshed. The key has no If-None-Match: nginx answers a
            # viewer's conditional request from its copy, as CloudFront does.
            proxy_cache_lock on;
            proxy_cache_lock_timeout 5s;
            proxy_cache_use_stale updating;
            proxy_read_timeout 30s;
            add_header X-Cache-Status $upstream_cache_status always;
        }}
    }}
}}
"""

    def start(self) -> "Nginx":
        if not os.path.exists(self.executable):
            raise PrivateServerError(f"{self.executable} is missing: apt-get install -y nginx")
        self.directory = PrivateDirectory("modex-nginx-")
        self.port = free_port()
        self.open_files = raise_open_file_limit()  # nginx inherits it
        conf = self.directory.path / "nginx.conf"
        conf.write_text(self.config())
        os.chmod(conf, 0o644)
        here = str(self.directory.path)
        self.process = self.directory.popen([self.executable, "-p", here, "-c", str(conf), "-e", f"{here}/error.log"],
                                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            _wait_for_port(self.port, 15, self.process)
        except PrivateServerError as error:
            log = self.directory.path / "error.log"
            detail = log.read_text()[-600:] if log.exists() else ""
            raise PrivateServerError(f"nginx: {error}: {detail}") from None
        return self

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            process.terminate()  # nginx's fast shutdown
            try:
                process.communicate(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.communicate()
        if self.directory is not None:
            self.directory.remove()
            self.directory = None
