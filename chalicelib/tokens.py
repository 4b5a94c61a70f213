"""Bearer tokens for bookings and holds: 256 random bits, only a SHA-256 hash is stored (a
database leak opens nothing), checked in constant time against every stored hash.

Idempotency-Keys are credentials too (a replay mints a working token for whoever sends the
key), so only an HMAC of a key is stored, under a per-deployment secret: a database leak
yields neither keys nor a way to test guesses without the secret."""
import hashlib
import hmac
import secrets
from functools import lru_cache
from typing import Iterable, Optional

from . import config


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def opens(token: str, stored_hashes: Iterable[bytes]) -> bool:
    """Whether the token matches one of the hashes; compares against all of them, without
    stopping at the first match."""
    presented = token_hash(token)
    return any([hmac.compare_digest(presented, stored) for stored in stored_hashes])


@lru_cache(maxsize=1)
def _key_secret() -> bytes:
    return config.idempotency_key_secret()


def key_digest(key: Optional[str]) -> Optional[str]:
    """What is stored and looked up for an Idempotency-Key: HMAC-SHA256 under the deployment's
    secret, in hex (64 characters); None for no key."""
    if key is None:
        return None
    return hmac.new(_key_secret(), key.encode(), hashlib.sha256).hexdigest()
