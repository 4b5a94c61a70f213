"""TLS to the database as production uses it (RDS Proxy requires TLS; Modex connects with
sslmode=verify-full): a private PostgreSQL with ssl=on and a certificate from a CA made here.

- the right CA and the certificate's host name -> connected, over TLS;
- another CA -> refused; the right CA but a host name the certificate does not carry ->
  refused; sslmode=require (encrypted, unauthenticated) -> connected; no TLS -> refused by
  the server (hostssl-only pg_hba).
Needs PostgreSQL's server binaries (Debian: postgresql-15); as root the server runs as the
`postgres` user, since PostgreSQL refuses to run as root.
"""
import datetime
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

cryptography = pytest.importorskip("cryptography")
from cryptography import x509  # noqa: E402
from cryptography.hazmat.primitives import hashes, serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec  # noqa: E402
from cryptography.x509.oid import NameOID  # noqa: E402

from chalicelib import db  # noqa: E402
from chalicelib.config import DatabaseSettings  # noqa: E402


def postgres_bin():
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    if candidates:
        return Path(candidates[-1]).parent
    found = shutil.which("initdb")
    return Path(found).parent if found else None


BIN = postgres_bin()
# In CI (which installs them) a missing binary must fail, not pass as skipped.
pytestmark = pytest.mark.skipif(BIN is None and not os.environ.get("CI"), reason="PostgreSQL server binaries (initdb, pg_ctl) not installed")


def run_as_server_user(args, **kwargs):
    if os.geteuid() == 0:
        args = ["runuser", "-u", "postgres", "--", *map(str, args)]
    return subprocess.run(list(map(str, args)), check=True, capture_output=True, text=True, **kwargs)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_ca(name):
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                         content_commitment=False, key_encipherment=False, data_encipherment=False,
                                         key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(key, hashes.SHA256()))
    return key, cert


def make_server_cert(ca_key, ca_cert, dns_name):
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, dns_name)]))
            .issuer_name(ca_cert.subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(dns_name)]), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    return key, cert


def pem(cert):
    return cert.public_bytes(serialization.Encoding.PEM)


@pytest.fixture(scope="module")
def tls_server():
    # Not under pytest's tmp_path: its parents are private to root, and the server runs as postgres.
    root = Path(tempfile.mkdtemp(prefix="modex-tls-", dir="/tmp"))
    os.chmod(root, 0o755)
    data, certs = root / "data", root / "certs"
    certs.mkdir()
    ca_key, ca_cert = make_ca("Modex test CA")
    _, other_ca = make_ca("Someone else's CA")
    server_key, server_cert = make_server_cert(ca_key, ca_cert, "localhost")
    (certs / "ca.pem").write_bytes(pem(ca_cert))
    (certs / "other-ca.pem").write_bytes(pem(other_ca))
    (certs / "server.crt").write_bytes(pem(server_cert))
    (certs / "server.key").write_bytes(server_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    os.chmod(certs / "server.key", 0o600)
    if os.geteuid() == 0:
        user = pwd.getpwnam("postgres")
        for path in (root, certs, certs / "server.key", certs / "server.crt"):
            os.chown(path, user.pw_uid, user.pw_gid)
    port = free_port()
    run_as_server_user([BIN / "initdb", "-D", data, "-U", "postgres", "--auth=trust", "--no-sync"])
    with open(data / "postgresql.conf", "a") as conf:
        conf.write(f"listen_addresses = '127.0.0.1'\nport = {port}\nunix_socket_directories = '{data}'\n"
                   f"ssl = on\nssl_cert_file = '{certs / 'server.crt'}'\nssl_key_file = '{certs / 'server.key'}'\n"
                   "fsync = off\n")
    # TLS only: a plain connection finds no pg_hba line.
    (data / "pg_hba.conf").write_text("hostssl all all 127.0.0.1/32 trust\nlocal all all trust\n")
    run_as_server_user([BIN / "pg_ctl", "-D", data, "-l", root / "server.log", "-w", "-t", "30", "start"])
    try:
        yield {"port": port, "ca": str(certs / "ca.pem"), "other_ca": str(certs / "other-ca.pem")}
    finally:
        run_as_server_user([BIN / "pg_ctl", "-D", data, "-m", "immediate", "-w", "stop"])
        shutil.rmtree(root, ignore_errors=True)


def settings(server, host="localhost", sslmode="verify-full", ca=None):
    return DatabaseSettings(host=host, port=server["port"], user="postgres", database="postgres",
                            sslmode=sslmode, sslrootcert=ca, connect_timeout_s=5)


def test_verify_full_with_the_right_ca_connects_over_tls(tls_server):
    con = db.connect(settings(tls_server, ca=tls_server["ca"]))
    try:
        ((ssl_on, version),) = con.run("SELECT ssl, version FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
        assert ssl_on is True and version.startswith("TLS")
    finally:
        con.close()


def test_verify_full_with_another_ca_is_refused(tls_server):
    started = time.monotonic()
    with pytest.raises(Exception) as refused:
        db.connect(settings(tls_server, ca=tls_server["other_ca"])).close()
    assert "certificate verify failed" in repr(refused.value) + repr(refused.value.__cause__)
    assert time.monotonic() - started < 5


def test_verify_full_checks_the_host_name(tls_server):
    # The certificate names localhost, not 127.0.0.1.
    with pytest.raises(Exception) as refused:
        db.connect(settings(tls_server, host="127.0.0.1", ca=tls_server["ca"])).close()
    text = repr(refused.value) + repr(refused.value.__cause__)
    assert "certificate verify failed" in text or "match" in text


def test_require_encrypts_without_verifying(tls_server):
    con = db.connect(settings(tls_server, host="127.0.0.1", sslmode="require"))
    try:
        assert con.run("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()") == [[True]]
    finally:
        con.close()


def test_server_refuses_plain_connections(tls_server):
    import pg8000.native
    from pg8000.exceptions import DatabaseError

    with pytest.raises(DatabaseError) as refused:  # ssl_context=False: pg8000's "no TLS at all"
        pg8000.native.Connection("postgres", host="localhost", port=tls_server["port"], ssl_context=False,
                                 timeout=5).close()
    assert "no encryption" in str(refused.value)


def test_sslmode_disable_sends_no_tls_request(tls_server):
    with pytest.raises(Exception) as refused:
        db.connect(settings(tls_server, sslmode="disable")).close()
    assert "no encryption" in str(refused.value)
