"""The claims behind `Idempotency-Key`: one row per (API key, Idempotency-Key), in the store
of the alliance the request names (the platform's store for platform operations), so that
alliances stay apart and a store's data stays in that store.

A request claims its key (a short transaction of its own) before it runs; a repeat finds
the claim. The answer of a request that recorded something is kept, sealed, for
CONCORD_IDEMPOTENCY_TTL_HOURS; a request that was refused and recorded nothing releases
its claim, so the corrected request can be sent with the same key.

Answers are sealed (AES-256-GCM) under a key derived from the caller's API key secret and
the Idempotency-Key, neither of which is stored: what the table holds (an issued key's
secret, people's names) is unreadable to anyone who reads the database, and only the
caller who sent the request can have it replayed.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Literal

import msgspec
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from eventsourcing.persistence import IntegrityError, ProgrammingError

from infra.stores import Sql, ViewStore
from services.runtime import Runtime

TABLE = (
    "CREATE TABLE IF NOT EXISTS idempotency_claims ("
    " scope TEXT PRIMARY KEY,"
    " fingerprint TEXT NOT NULL,"
    " method TEXT NOT NULL,"
    " path TEXT NOT NULL,"
    " state TEXT NOT NULL,"
    " status INTEGER,"
    " answer TEXT,"
    " created_at DOUBLE PRECISION NOT NULL)"
)
INDEX = (
    "CREATE INDEX IF NOT EXISTS idempotency_claims_created_at ON idempotency_claims (created_at)"
)
#: Expired claims deleted by one claim at most: the cost of purging stays bounded.
PURGE_BATCH = 100
NONCE_BYTES = 12
SEAL_CONTEXT = b"concord/idempotency/v1:"

State = Literal["pending", "done"]


class Claim(msgspec.Struct, frozen=True, kw_only=True):
    """A key's claim as a repeat finds it."""

    fingerprint: str
    method: str
    path: str
    state: State
    status: int | None
    answer: str | None
    created_at: float


class Answer(msgspec.Struct, frozen=True, kw_only=True):
    """An HTTP answer as it is kept for replay."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes


class Request(msgspec.Struct, frozen=True, kw_only=True):
    """What identifies one request with a key: whose key, which request, which store."""

    #: SHA-256 of the API key's id and the Idempotency-Key: never shared across API keys.
    scope: str
    #: SHA-256 of the method, path, query and body.
    fingerprint: str
    method: str
    path: str
    #: The alliance whose store holds the claim; None: the platform's store.
    store: str | None
    #: The AES key the answer is sealed under (derived, never stored).
    seal_key: bytes


def request_of(
    *,
    key_id: str,
    key_secret: str,
    idempotency_key: str,
    method: str,
    path: str,
    query: bytes,
    body: bytes,
    store: str | None,
) -> Request:
    """The claim identity of a request sent with an Idempotency-Key."""
    scope = hashlib.sha256(f"{key_id}\n{idempotency_key}".encode()).hexdigest()
    fingerprint = hashlib.sha256(
        b"\n".join(
            [method.encode(), path.encode(), query, hashlib.sha256(body).hexdigest().encode()]
        )
    ).hexdigest()
    seal_key = hmac.new(
        key_secret.encode(), SEAL_CONTEXT + idempotency_key.encode(), hashlib.sha256
    ).digest()
    return Request(
        scope=scope,
        fingerprint=fingerprint,
        method=method,
        path=path,
        store=store,
        seal_key=seal_key,
    )


# ---------------------------------------------------------------------------- the table

_ready: weakref.WeakSet[ViewStore] = weakref.WeakSet()


@contextmanager
def _claims(runtime: Runtime, store: str | None, *, commit: bool) -> Iterator[Sql]:
    """A transaction on the claims table of a store (made on first use). NotFound (or
    InvalidSlug) when the alliance has no store."""
    if store is None:
        views = runtime.platform.views
        with _transaction(views, commit=commit) as sql:
            yield sql
        return
    with runtime.tenant(store) as opened, _transaction(opened.views, commit=commit) as sql:
        yield sql


@contextmanager
def _transaction(views: ViewStore, *, commit: bool) -> Iterator[Sql]:
    if views not in _ready:
        try:
            _create(views)
        except (IntegrityError, ProgrammingError):
            # IF NOT EXISTS is no guard against a creator at the same moment (another
            # thread or process): the loser fails on the catalogue (a duplicate type, or
            # "relation already exists"); the second try finds the winner's table.
            _create(views)
        _ready.add(views)
    with views.transaction(commit=commit) as sql:
        yield sql


def _create(views: ViewStore) -> None:
    with views.transaction(commit=True) as sql:
        sql.execute(TABLE)
        sql.execute(INDEX)


def _claim_of(row: dict[str, object] | None) -> Claim | None:
    return None if row is None else msgspec.convert(row, Claim)


COLUMNS = "fingerprint, method, path, state, status, answer, created_at"


def claim(runtime: Runtime, request: Request, *, now: float, ttl_seconds: float) -> Claim | None:
    """Claim the request's key: None when it is this request's now, else the claim found
    (an expired one is deleted and the key claimed afresh). Also purges a bounded batch
    of the store's expired claims."""
    expired = now - ttl_seconds
    with _claims(runtime, request.store, commit=True) as sql:
        sql.execute(
            "DELETE FROM idempotency_claims WHERE scope IN (SELECT scope FROM"
            " idempotency_claims WHERE created_at < ? LIMIT ?)",
            (expired, PURGE_BATCH),
        )
        sql.execute(
            "DELETE FROM idempotency_claims WHERE scope = ? AND created_at < ?",
            (request.scope, expired),
        )
        made = sql.one(
            "INSERT INTO idempotency_claims (scope, fingerprint, method, path, state,"
            " created_at) VALUES (?, ?, ?, ?, 'pending', ?)"
            " ON CONFLICT (scope) DO NOTHING RETURNING scope",
            (request.scope, request.fingerprint, request.method, request.path, now),
        )
        if made is not None:
            return None
        found = sql.one(
            f"SELECT {COLUMNS} FROM idempotency_claims WHERE scope = ?",  # noqa: S608
            (request.scope,),
        )
    # Gone between the two statements (another request released it): claim it again.
    return _claim_of(found) or claim(runtime, request, now=now, ttl_seconds=ttl_seconds)


def find(runtime: Runtime, request: Request, *, now: float, ttl_seconds: float) -> Claim | None:
    """The unexpired claim of the request's key, if any (a read: a waiting repeat polls it)."""
    with _claims(runtime, request.store, commit=False) as sql:
        found = _claim_of(
            sql.one(
                f"SELECT {COLUMNS} FROM idempotency_claims"  # noqa: S608
                " WHERE scope = ? AND created_at >= ?",
                (request.scope, now - ttl_seconds),
            )
        )
    return found


def finish(runtime: Runtime, request: Request, answer: Answer) -> None:
    """Keep the answer of the request that holds the claim, sealed, for its repeats."""
    sealed = seal(answer, request)
    with _claims(runtime, request.store, commit=True) as sql:
        sql.execute(
            "UPDATE idempotency_claims SET state = 'done', status = ?, answer = ?"
            " WHERE scope = ? AND state = 'pending'",
            (answer.status, sealed, request.scope),
        )


def release(runtime: Runtime, request: Request) -> None:
    """Give the key back: the request recorded nothing, so it may be sent again."""
    with _claims(runtime, request.store, commit=True) as sql:
        sql.execute(
            "DELETE FROM idempotency_claims WHERE scope = ? AND state = 'pending'",
            (request.scope,),
        )


def forget_answers(runtime: Runtime, store: str | None) -> int:
    """Forget every kept answer of a store (when a person's data is erased, so that no
    replay carries it any more). The claims stay: a repeat is told its request was
    recorded, and is not run a second time. Returns how many answers were forgotten."""
    with _claims(runtime, store, commit=True) as sql:
        rows = sql.all(
            "UPDATE idempotency_claims SET answer = NULL"
            " WHERE state = 'done' AND answer IS NOT NULL RETURNING scope"
        )
    return len(rows)


# ---------------------------------------------------------------------------- sealing


def seal(answer: Answer, request: Request) -> str:
    nonce = os.urandom(NONCE_BYTES)
    sealed = AESGCM(request.seal_key).encrypt(
        nonce, msgspec.msgpack.encode(answer), request.scope.encode()
    )
    return base64.b64encode(nonce + sealed).decode()


def unseal(text: str, request: Request) -> Answer | None:
    """The kept answer, or None when it does not open under this request's key (the API
    key's secret changed since)."""
    raw = base64.b64decode(text)
    try:
        plain = AESGCM(request.seal_key).decrypt(
            raw[:NONCE_BYTES], raw[NONCE_BYTES:], request.scope.encode()
        )
    except InvalidTag:
        return None
    return msgspec.msgpack.decode(plain, type=Answer)
