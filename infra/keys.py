"""API key secrets: generated with 256 bits of entropy, stored only as SHA-256 digests."""

from __future__ import annotations

import hashlib
import secrets

KEY_PREFIX = "cnc_"


def new_key_secret() -> str:
    """A fresh bearer secret. Shown to its holder once; never stored."""
    return KEY_PREFIX + secrets.token_urlsafe(32)


def key_digest(secret: str) -> str:
    """The stored form of a key. A plain digest suffices: secrets are high-entropy."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()
