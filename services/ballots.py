"""Secrets an election keeps until its count: the key that seals its secret ballots, and
the nonce of its lot.

Each secret election gets its own random 256-bit key, kept in the tenant's view store
(table `sealing_keys`), apart from the event log. A ballot's choices are sorted (their
order cannot mark a ballot), padded to a fixed length and sealed with AES-256-GCM
(random nonce; the election id bound as associated data), so every sealed ballot looks
alike and none opens without the key. At the count the ballots are opened, shuffled into
one batch on the election's record, and the key is destroyed: from then on the sealed
copies say nothing, and nothing stored links a ballot to the organisation that cast it.

Every election also commits, when it opens, to a random nonce for its lot; the nonce is
kept here and revealed on the count, so no voter can steer a tie by the ballot it casts.

docs/decisions-and-elections.md states what this protects against and what it does not.
"""

from __future__ import annotations

import base64
import os
import secrets

import msgspec
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from domain.elections import lot_commitment
from infra.stores import Sql
from services.runtime import Store

#: Every sealed ballot is this long before encryption (a ballot names at most 50 ids).
PADDED_BYTES = 1024
CONTEXT = b"concord/ballot/v1:"
TABLE = "CREATE TABLE IF NOT EXISTS sealing_keys (key_id TEXT PRIMARY KEY, secret TEXT NOT NULL)"


class BallotBoxBroken(Exception):
    """A sealed ballot does not open with its election's key (or the key is gone)."""


def _key_id(election_id: str) -> str:
    return f"ballots:{election_id}"


def _table(sql: Sql) -> None:
    sql.execute(TABLE)


def _put(store: Store, key_id: str, secret: str) -> None:
    with store.views.transaction(commit=True) as sql:
        _table(sql)
        sql.execute("INSERT INTO sealing_keys (key_id, secret) VALUES (?, ?)", (key_id, secret))


def _get(store: Store, key_id: str) -> str | None:
    with store.views.transaction(commit=False) as sql:
        _table(sql)
        row = sql.one("SELECT secret FROM sealing_keys WHERE key_id = ?", (key_id,))
    return None if row is None else str(row["secret"])


def _forget(store: Store, key_id: str) -> None:
    """Delete the secret, then have the store rewrite the table's files so that no old
    copy of the row is left in them (SQLite: VACUUM and a truncating checkpoint of the
    write-ahead log; PostgreSQL: VACUUM FULL). What the database's WAL archives and the
    filesystem keep is the operator's: see docs/decisions-and-elections.md."""
    with store.views.transaction(commit=True) as sql:
        _table(sql)
        sql.execute("DELETE FROM sealing_keys WHERE key_id = ?", (key_id,))
    store.views.purge("sealing_keys")


# ----------------------------------------------------------------------------- sealing


def create_key(store: Store, election_id: str) -> None:
    """Make the election's sealing key (before the election's first event is saved; a key
    left by a save that failed opens nothing and is harmless)."""
    _put(store, _key_id(election_id), AESGCM.generate_key(bit_length=256).hex())


def _key(store: Store, election_id: str) -> AESGCM:
    secret = _get(store, _key_id(election_id))
    if secret is None:
        raise BallotBoxBroken("this election's sealing key is gone")
    return AESGCM(bytes.fromhex(secret))


def seal(store: Store, election_id: str, choices: list[str]) -> str:
    """A ballot sealed under its election's key, as text for the BallotBox's event."""
    plain = msgspec.json.encode(sorted(choices))
    if len(plain) > PADDED_BYTES:
        raise ValueError("a ballot is longer than a sealed ballot can hold")
    padded = plain + b" " * (PADDED_BYTES - len(plain))
    nonce = os.urandom(12)
    sealed = nonce + _key(store, election_id).encrypt(nonce, padded, CONTEXT + election_id.encode())
    return base64.b64encode(sealed).decode()


def open_all(store: Store, election_id: str, sealed: list[str]) -> list[list[str]]:
    """Every sealed ballot of the election, opened."""
    key = _key(store, election_id)
    ballots = []
    for text in sealed:
        raw = base64.b64decode(text)
        try:
            padded = key.decrypt(raw[:12], raw[12:], CONTEXT + election_id.encode())
        except InvalidTag:
            raise BallotBoxBroken("a sealed ballot does not open with its election's key") from None
        ballots.append(msgspec.json.decode(padded.rstrip(b" "), type=list[str]))
    return ballots


def destroy_key(store: Store, election_id: str) -> None:
    """Forget the election's key: its sealed ballots can never be opened again."""
    _forget(store, _key_id(election_id))


def has_key(store: Store, election_id: str) -> bool:
    return _get(store, _key_id(election_id)) is not None


# ----------------------------------------------------------------------------- the lot


def new_lot_nonce(store: Store) -> str:
    """A random nonce for an election's lot, kept until the count; returns the commitment
    the election records when it opens (the nonce is found again by it)."""
    nonce = secrets.token_hex(16)
    commitment = lot_commitment(nonce)
    _put(store, f"lot:{commitment}", nonce)
    return commitment


def lot_nonce(store: Store, commitment: str) -> str:
    """The nonce behind an election's commitment (empty for one opened without)."""
    return "" if not commitment else (_get(store, f"lot:{commitment}") or "")


def forget_lot_nonce(store: Store, commitment: str) -> None:
    """Once the count has recorded the nonce, the copy kept here is not needed."""
    if commitment:
        _forget(store, f"lot:{commitment}")
