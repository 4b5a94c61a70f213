"""Database credentials from Secrets Manager, read once per container.

boto3 is imported only here, and only when a secret is used: it costs ~100-170 ms of
cold start that a `DATABASE_URL` deployment should not pay.
"""
import json
import threading

from . import budget
from .errors import Unavailable

_cache = {}
_lock = threading.Lock()


def read_secret(secret_arn: str, refresh: bool = False) -> dict:
    """The secret's JSON (`username`, `password`, maybe `host`, `port`, `dbname`), cached.

    `refresh=True` re-reads it, for when the cached password was refused (rotation). Secrets
    Manager out of reach (or out of the invocation's time) is UNAVAILABLE, like the database.
    """
    with _lock:
        if refresh or secret_arn not in _cache:
            import boto3
            from botocore.config import Config
            from botocore.exceptions import BotoCoreError, ClientError

            # Fail fast (then UNAVAILABLE) rather than hang until the Lambda or the gateway
            # times out: timeouts and retries fit in the time the invocation has left.
            connect_s, read_s, attempts = budget.secret_client_limits(budget.left_ms())
            client = boto3.client("secretsmanager", config=Config(
                connect_timeout=connect_s, read_timeout=read_s,
                retries={"mode": "standard", "total_max_attempts": attempts}))
            try:
                response = client.get_secret_value(SecretId=secret_arn)
            except (BotoCoreError, ClientError) as exc:
                raise Unavailable() from exc
            _cache[secret_arn] = json.loads(response["SecretString"])
        return _cache[secret_arn]


def forget_secrets() -> None:
    with _lock:
        _cache.clear()
