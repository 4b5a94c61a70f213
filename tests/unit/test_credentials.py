"""Database credentials from Secrets Manager (moto): read once per container and cached;
after the database refuses the cached password (a rotation), re-read once, no more."""
import json

import boto3
import pg8000.native
import pytest
from moto import mock_aws
from pg8000.exceptions import DatabaseError

from chalicelib import credentials, db
from chalicelib.config import DatabaseSettings, database_settings
from chalicelib.errors import Unavailable


@pytest.fixture
def aws(monkeypatch):
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    credentials.forget_secrets()
    with mock_aws():
        yield boto3.client("secretsmanager", region_name="us-east-1")
    credentials.forget_secrets()


@pytest.fixture
def secret(aws):
    """A secret shaped like the one infra/network-database.yaml generates."""
    value = {"username": "modex", "password": "first", "engine": "postgres", "port": 5432,
             "dbname": "modex", "host": "db-instance.example"}
    return aws.create_secret(Name="modex/dev/database", SecretString=json.dumps(value))["ARN"]


@pytest.fixture
def reads(monkeypatch):
    """Counts GetSecretValue calls made through boto3."""
    calls = []
    real_client = boto3.client

    def client(service, *args, **kwargs):
        made = real_client(service, *args, **kwargs)
        if service == "secretsmanager":
            real_get = made.get_secret_value

            def get_secret_value(**request):
                calls.append(request["SecretId"])
                return real_get(**request)

            made.get_secret_value = get_secret_value
        return made

    monkeypatch.setattr(boto3, "client", client)
    return calls


def rotate(aws, arn, password):
    value = json.loads(aws.get_secret_value(SecretId=arn)["SecretString"])
    aws.put_secret_value(SecretId=arn, SecretString=json.dumps(dict(value, password=password)))


def test_secret_is_read_once_and_cached(aws, secret, reads):
    first = credentials.read_secret(secret)
    assert (first["username"], first["password"]) == ("modex", "first")
    rotate(aws, secret, "second")
    assert credentials.read_secret(secret)["password"] == "first"  # cached: no second call
    assert reads == [secret]
    assert credentials.read_secret(secret, refresh=True)["password"] == "second"
    assert credentials.read_secret(secret)["password"] == "second"
    assert reads == [secret, secret]


def test_settings_from_the_deployed_environment(secret):
    settings = database_settings({
        "DATABASE_SECRET_ARN": secret, "DATABASE_HOST": "modex-dev.proxy-abc.us-east-1.rds.amazonaws.com",
        "DATABASE_NAME": "modex", "DATABASE_PORT": "5432", "DB_CONNECT_TIMEOUT_S": "5",
        "DB_STATEMENT_TIMEOUT_MS": "5000", "DB_LOCK_TIMEOUT_MS": "2000"})
    assert settings.sslmode == "verify-full"  # the default whenever a secret is used
    assert settings.secret_arn == secret and settings.host.endswith(".rds.amazonaws.com")


class FakeDatabase:
    """Stands in for pg8000's Connection: accepts one password, refuses others with 28P01."""

    def __init__(self, password):
        self.password = password
        self.attempts = []

    def connect(self, **kwargs):
        self.attempts.append(kwargs)
        if kwargs["password"] != self.password:
            raise DatabaseError({"S": "FATAL", "C": "28P01",
                                 "M": f'password authentication failed for user "{kwargs["user"]}"'})
        return FakeConnection()


class FakeSocket:
    def settimeout(self, seconds):
        pass


class FakeConnection:
    _usock = FakeSocket()  # db.connect sets the read timeout on pg8000's socket

    def close(self):
        pass


@pytest.fixture
def fake_database(monkeypatch, secret):
    fake = FakeDatabase(password="first")
    monkeypatch.setattr(pg8000.native, "Connection", fake.connect)
    db.configure(DatabaseSettings(host="proxy.example", secret_arn=secret, sslmode="verify-full"))
    yield fake
    db.configure(None)


def test_connects_with_the_secret_through_the_proxy_host(fake_database, reads):
    db.connection()
    (attempt,) = fake_database.attempts
    assert (attempt["user"], attempt["password"]) == ("modex", "first")
    assert attempt["host"] == "proxy.example"  # DATABASE_HOST wins over the secret's host
    assert attempt["ssl_context"] is not None
    db.close()
    db.connection()  # a new connection in the same container: the secret is not read again
    assert len(reads) == 1


def test_rotated_password_is_re_read_once(aws, secret, fake_database, reads):
    credentials.read_secret(secret)  # cached "first"
    rotate(aws, secret, "second")
    fake_database.password = "second"  # the database now wants the new one
    db.connection()
    assert [a["password"] for a in fake_database.attempts] == ["first", "second"]
    assert len(reads) == 2


def test_wrong_password_after_re_reading_is_unavailable_not_a_loop(fake_database, reads):
    fake_database.password = "something else"
    with pytest.raises(Unavailable):
        db.connection()
    assert [a["password"] for a in fake_database.attempts] == ["first", "first"]
    assert len(reads) == 2  # the first read, and one re-read
