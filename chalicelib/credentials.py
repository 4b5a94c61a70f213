"""Database credentials from Secrets Manager, read once per container.

boto3 is imported only here, and only when a secret is used: it costs ~100-170 ms of
cold start that a `DATABASE_URL` deployment should not pay.
"""
import json
import threading

_cache = {}
_lock = threading.Lock()


def read_secret(secret_arn: str, refresh: bool = False) -> dict:
    """The secret's JSON (`username`, `password`, maybe `host`, `port`, `dbname`), cached.

    `refresh=True` re-reads it, for when the cached password was refused (rotation).
    """
    with _lock:
        if refresh or secret_arn not in _cache:
            import boto3
            from botocore.config import Config

            # Fail fast (then UNAVAILABLE) rather than hang until the Lambda times out.
            client = boto3.client("secretsmanager", config=Config(
                connect_timeout=2, read_timeout=3, retries={"max_attempts": 2}))
            response = client.get_secret_value(SecretId=secret_arn)
            _cache[secret_arn] = json.loads(response["SecretString"])
        return _cache[secret_arn]


def forget_secrets() -> None:
    with _lock:
        _cache.clear()
