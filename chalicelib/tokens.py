"""Bearer tokens for bookings and holds: 256 random bits, only a SHA-256 hash is stored (a
database leak opens nothing), checked in constant time against every stored hash."""
import hashlib
import hmac
import secrets
from typing import Iterable


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def opens(token: str, stored_hashes: Iterable[bytes]) -> bool:
    """Whether the token matches one of the hashes; compares against all of them, without
    stopping at the first match."""
    presented = token_hash(token)
    return any([hmac.compare_digest(presented, stored) for stored in stored_hashes])
