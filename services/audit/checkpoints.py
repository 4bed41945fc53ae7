"""Tamper evidence for each alliance's log: its Merkle tree, signed checkpoints of it,
inclusion and consistency proofs, and copies of every checkpoint sent off the platform.

Kept in the tenant's view store, apart from the events (none of it is a projection: a
rebuild never touches it):
- `audit_leaves`: the leaf hash of each record, written when a checkpoint first covers
  it. A later change to a record's bytes no longer matches its leaf, so the verifier can
  name the record.
- `audit_checkpoints`: every signed checkpoint, one per tree size.
- `audit_sinks`: webhooks an auditor chose; each is sent every checkpoint, in order.

Checkpoints are issued on demand, on a schedule, at every export, and when a meeting's
minutes are approved, an election closes or a ToR version is adopted.
"""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit
from uuid import uuid4

from eventsourcing.application import Recording

from domain.elections import Election
from domain.minutes import Minutes
from domain.terms import TermsOfReference
from infra import outbound
from infra.settings import Settings
from infra.stores import LOG_PAGE, Sql
from services.audit import merkle, signing
from services.audit.signing import Checkpoint, Signer
from services.errors import InvalidRequest, NotFound

if TYPE_CHECKING:
    from services.runtime import Runtime, Store

log = logging.getLogger("concord.audit")

TABLES = (
    "CREATE TABLE IF NOT EXISTS audit_leaves (leaf_index BIGINT PRIMARY KEY,"
    " position BIGINT NOT NULL UNIQUE, leaf TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS audit_checkpoints (tree_size BIGINT PRIMARY KEY,"
    " issued_at TEXT NOT NULL, body TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS audit_sinks (sink_id TEXT PRIMARY KEY, url TEXT NOT NULL,"
    " added_by TEXT NOT NULL, added_at TEXT NOT NULL,"
    " delivered_size BIGINT NOT NULL DEFAULT 0, last_error TEXT, last_attempt_at TEXT)",
)

#: Events after which a checkpoint is issued at once, and the reason it gives.
MILESTONES: dict[type, str] = {
    Minutes.Approved: "minutes-approved",
    Election.Closed: "election-closed",
    TermsOfReference.Adopted: "terms-adopted",
    TermsOfReference.AmendmentApproved: "terms-adopted",
}
WEBHOOK_TIMEOUT_SECONDS = 5
MAX_SINKS = 10


class InvalidProofRequest(InvalidRequest):
    """A proof was asked for a position or tree size the log does not have."""


@functools.cache
def signer_for(key_file: str) -> Signer:
    return Signer.from_file(key_file, create=True)


def signer(settings: Settings) -> Signer:
    """The platform's checkpoint key: the configured file, or one made under data_dir."""
    return signer_for(
        settings.signing_key_file
        or str(Path(settings.data_dir) / "signing" / "checkpoint-ed25519.pem")
    )


def _tables(sql: Sql) -> None:
    for statement in TABLES:
        sql.execute(statement)


# ------------------------------------------------------------------------------ leaves


@dataclass(frozen=True)
class Leaf:
    index: int
    position: int
    leaf: bytes


def leaves(store: Store) -> list[Leaf]:
    """Every record's leaf, in log order, after recording the leaves of records no
    checkpoint has covered yet (computed from their stored bytes as they are now)."""
    with store.views.transaction(commit=True) as sql:
        _tables(sql)
        known = [
            Leaf(int(r["leaf_index"]), int(r["position"]), bytes.fromhex(r["leaf"]))
            for r in sql.all(
                "SELECT leaf_index, position, leaf FROM audit_leaves ORDER BY leaf_index"
            )
        ]
    after = known[-1].position if known else 0
    new: list[Leaf] = []
    while True:
        page = store.app.recorder.select_notifications(start=after + 1, limit=LOG_PAGE)
        for record in page:
            leaf = merkle.record_leaf(
                record.id,
                record.originator_id,
                record.originator_version,
                record.topic,
                record.state,
            )
            new.append(Leaf(len(known) + len(new), record.id, leaf))
        if len(page) < LOG_PAGE:
            break
        after = page[-1].id
    if new:
        with store.views.transaction(commit=True) as sql:
            for item in new:
                # Another process may have recorded the same leaves first: they are equal.
                sql.execute(
                    "INSERT INTO audit_leaves (leaf_index, position, leaf) VALUES (?, ?, ?)"
                    " ON CONFLICT (leaf_index) DO NOTHING",
                    (item.index, item.position, item.leaf.hex()),
                )
    return known + new


# -------------------------------------------------------------------------- checkpoints


def issue(runtime: Runtime, store: Store, reason: str) -> Checkpoint:
    """Sign a checkpoint of the whole log as it is now (or return the latest, when the
    log has not grown since it), then send it to the alliance's sinks."""
    assert reason in signing.REASONS, reason
    covered = leaves(store)
    latest = _latest(store)
    if latest is not None and latest.tree_size == len(covered):
        return latest
    hashes = [leaf.leaf for leaf in covered]
    made = signer(runtime.settings).sign(
        Checkpoint(
            tenant=store.app.store,
            tree_size=len(covered),
            root_hash=merkle.root(hashes).hex(),
            last_position=covered[-1].position if covered else 0,
            issued_at=runtime.clock(),
            reason=reason,
            key_id="",
            public_key="",
        )
    )
    with store.views.transaction(commit=True) as sql:
        sql.execute(
            "INSERT INTO audit_checkpoints (tree_size, issued_at, body) VALUES (?, ?, ?)"
            " ON CONFLICT (tree_size) DO NOTHING",
            (made.tree_size, made.issued_at.isoformat(), signing.encode(made).decode()),
        )
    stored = checkpoint(store, made.tree_size)  # a concurrent issuer's may have won
    assert stored is not None
    _send(runtime, store, stored)
    return stored


def _latest(store: Store) -> Checkpoint | None:
    with store.views.transaction(commit=False) as sql:
        _tables(sql)
        row = sql.one("SELECT body FROM audit_checkpoints ORDER BY tree_size DESC LIMIT 1")
    return None if row is None else signing.decode(row["body"])


def checkpoint(store: Store, tree_size: int) -> Checkpoint | None:
    with store.views.transaction(commit=False) as sql:
        _tables(sql)
        row = sql.one("SELECT body FROM audit_checkpoints WHERE tree_size = ?", (tree_size,))
    return None if row is None else signing.decode(row["body"])


def checkpoints(store: Store, *, after: int = -1, limit: int = 100) -> list[Checkpoint]:
    """Checkpoints with a tree size above `after`, smallest first."""
    with store.views.transaction(commit=False) as sql:
        _tables(sql)
        rows = sql.all(
            "SELECT body FROM audit_checkpoints WHERE tree_size > ? ORDER BY tree_size LIMIT ?",
            (after, limit),
        )
    return [signing.decode(r["body"]) for r in rows]


def on_recorded(runtime: Runtime, store: Store, recordings: Sequence[Recording[Any]]) -> None:
    """After a save: a checkpoint at once if the save approved minutes, closed an
    election or adopted a ToR version. A failure here never undoes the save (the events
    are recorded); the next checkpoint covers them."""
    reasons = [
        MILESTONES[type(r.domain_event)] for r in recordings if type(r.domain_event) in MILESTONES
    ]
    if not reasons:
        return
    try:
        issue(runtime, store, reasons[0])
    except Exception:
        log.exception(
            "checkpoint after %s in %s failed; the next one covers it", reasons[0], store.app.store
        )


# ------------------------------------------------------------------------------ proofs


def inclusion(store: Store, position: int, tree_size: int | None) -> dict[str, Any]:
    """Proof that the record at `position` is in the tree of `tree_size` records (the
    latest checkpoint's, by default)."""
    covered = leaves(store)
    size = _checked_size(store, covered, tree_size)
    found = next((leaf for leaf in covered[:size] if leaf.position == position), None)
    if found is None:
        raise InvalidProofRequest(
            f"no record at position {position} among the first {size} records of the log"
        )
    hashes = [leaf.leaf for leaf in covered[:size]]
    return {
        "position": position,
        "leaf_index": found.index,
        "leaf_hash": found.leaf.hex(),
        "tree_size": size,
        "root_hash": merkle.root(hashes).hex(),
        "proof": [p.hex() for p in merkle.inclusion_proof(found.index, hashes)],
    }


def consistency(store: Store, first: int, second: int) -> dict[str, Any]:
    """Proof that the tree of `first` records is a prefix of the tree of `second`."""
    if first > second:
        raise InvalidProofRequest(f"first ({first}) must not be larger than second ({second})")
    covered = leaves(store)
    size = _checked_size(store, covered, second)
    hashes = [leaf.leaf for leaf in covered[:size]]
    return {
        "first": first,
        "second": size,
        "first_root": merkle.root(hashes[:first]).hex(),
        "second_root": merkle.root(hashes).hex(),
        "proof": [p.hex() for p in merkle.consistency_proof(first, hashes)],
    }


def _checked_size(store: Store, covered: list[Leaf], tree_size: int | None) -> int:
    if tree_size is None:
        latest = _latest(store)
        if latest is None:
            raise InvalidProofRequest("no checkpoint has been issued yet: issue one first")
        return latest.tree_size
    if tree_size < 0:
        raise InvalidProofRequest("tree_size must be 0 or more")
    if not 0 <= tree_size <= len(covered):
        raise InvalidProofRequest(
            f"tree_size {tree_size} is beyond the log, which has {len(covered)} records"
        )
    return tree_size


# ------------------------------------------------------------------------------- sinks


def check_sink_url(url: str, private_networks: Sequence[outbound.Network] = ()) -> str:
    """A webhook address: http or https, with a host and no credentials in it, not written
    as a private address (names are checked again, resolved, at each delivery)."""
    try:
        parts = urlsplit(url.strip())
        parts.port  # noqa: B018 (raises ValueError when out of range)
    except ValueError:
        raise InvalidRequest("url: not a valid address (check the host and port)") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidRequest("url: a webhook must be an http:// or https:// address with a host")
    if parts.username or parts.password:
        raise InvalidRequest("url: a webhook address must not carry a user name or password")
    try:
        outbound.check_literal(parts.hostname, private_networks)
    except outbound.DestinationRefused as refused:
        raise InvalidRequest(f"url: {refused}") from None
    return url.strip()


def add_sink(runtime: Runtime, store: Store, url: str, added_by: str) -> dict[str, Any]:
    sink = {
        "sink_id": uuid4().hex,
        "url": check_sink_url(url, runtime.settings.outbound_networks),
        "added_by": added_by,
        "added_at": runtime.clock().isoformat(),
    }
    with store.views.transaction(commit=True) as sql:
        _tables(sql)
        count = sql.one("SELECT COUNT(*) AS n FROM audit_sinks")
        if count is not None and int(count["n"]) >= MAX_SINKS:
            raise InvalidRequest(f"an alliance may have at most {MAX_SINKS} checkpoint webhooks")
        sql.execute(
            "INSERT INTO audit_sinks (sink_id, url, added_by, added_at) VALUES (?, ?, ?, ?)",
            (sink["sink_id"], sink["url"], sink["added_by"], sink["added_at"]),
        )
    _send(runtime, store, None)  # the new sink gets every checkpoint so far
    return sink_row(store, sink["sink_id"])


def sinks(store: Store) -> list[dict[str, Any]]:
    with store.views.transaction(commit=False) as sql:
        _tables(sql)
        return sql.all("SELECT * FROM audit_sinks ORDER BY added_at, sink_id")


def sink_row(store: Store, sink_id: str) -> dict[str, Any]:
    with store.views.transaction(commit=False) as sql:
        _tables(sql)
        row = sql.one("SELECT * FROM audit_sinks WHERE sink_id = ?", (sink_id,))
    if row is None:
        raise NotFound(f"no checkpoint webhook {sink_id!r} in this alliance")
    return row


def remove_sink(store: Store, sink_id: str) -> None:
    sink_row(store, sink_id)
    with store.views.transaction(commit=True) as sql:
        sql.execute("DELETE FROM audit_sinks WHERE sink_id = ?", (sink_id,))


def _send(runtime: Runtime, store: Store, made: Checkpoint | None) -> None:
    """Write the new checkpoint to the operator's folder, and send every webhook the
    checkpoints it has not had yet, in order — in the background, so a slow receiver
    never holds up the write that caused the checkpoint."""
    slug = store.app.store
    folder = runtime.settings.checkpoint_dir
    if made is not None and folder:
        target = Path(folder) / slug
        target.mkdir(parents=True, exist_ok=True)
        (target / f"{made.tree_size:012d}-{made.key_id}.json").write_bytes(signing.encode(made))
    if not sinks(store):
        return
    threading.Thread(
        target=deliver_webhooks,
        args=(runtime, slug),
        name=f"checkpoint-webhooks-{slug}",
        daemon=True,
    ).start()


_delivering: dict[str, threading.Lock] = {}
_delivering_guard = threading.Lock()


def deliver_webhooks(runtime: Runtime, slug: str) -> int:
    """Send each webhook the checkpoints after the last it acknowledged (2xx), oldest
    first; stop at a failure and record it (the next checkpoint tries again). One
    delivery run per alliance at a time, so each receiver gets them in order. Returns
    how many deliveries succeeded."""
    delivered = 0
    with _delivering_guard:
        lock = _delivering.setdefault(slug, threading.Lock())
    with lock:
        try:
            with runtime.tenant(slug) as store:
                for sink in sinks(store):
                    delivered += _deliver_to(runtime, store, sink)
        except Exception:  # a closed runtime at shutdown, an unreachable database
            log.exception(
                "checkpoint webhooks of %s not delivered; the next checkpoint retries", slug
            )
    return delivered


def _deliver_to(runtime: Runtime, store: Store, sink: dict[str, Any]) -> int:
    sent = 0
    for made in checkpoints(store, after=int(sink["delivered_size"]), limit=1000):
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "concord-checkpoints/1",
            "X-Concord-Checkpoint": f"{made.tenant}/{made.tree_size}",
        }
        error: str | None = None
        try:
            answer = outbound.post(
                sink["url"],
                signing.encode(made),
                headers,
                timeout=WEBHOOK_TIMEOUT_SECONDS,
                private_networks=runtime.settings.outbound_networks,
            )
            if not 200 <= answer.status < 300:
                redirect = " (redirects are not followed)" if 300 <= answer.status < 400 else ""
                error = f"HTTP {answer.status}{redirect}"
        except outbound.DestinationRefused as refused:
            error = f"not delivered: {refused}"
        except OSError as failure:
            error = f"not delivered: {failure}"
        with store.views.transaction(commit=True) as sql:
            if error is None:
                sql.execute(
                    "UPDATE audit_sinks SET delivered_size = ?, last_error = NULL,"
                    " last_attempt_at = ? WHERE sink_id = ?",
                    (made.tree_size, runtime.clock().isoformat(), sink["sink_id"]),
                )
            else:
                sql.execute(
                    "UPDATE audit_sinks SET last_error = ?, last_attempt_at = ? WHERE sink_id = ?",
                    (error, runtime.clock().isoformat(), sink["sink_id"]),
                )
        if error is not None:
            return sent
        sent += 1
    return sent


# ---------------------------------------------------------------------------- schedule


def checkpoint_all(runtime: Runtime, reason: str = "schedule") -> int:
    """A checkpoint of every active alliance whose log grew since its last one."""
    from services.onboarding import directory_page  # noqa: PLC0415 (onboarding imports the runtime)

    issued, after = 0, None
    while True:
        rows = directory_page(runtime, after=after, limit=500, region=None, status="active")
        for row in rows:
            try:
                with runtime.tenant(row["slug"]) as store:
                    before = _latest(store)
                    made = issue(runtime, store, reason)
                issued += before is None or made.tree_size != before.tree_size
            except Exception:
                log.exception("scheduled checkpoint of %s failed", row["slug"])
        if len(rows) < 500:
            return issued
        after = rows[-1]["slug"]


class CheckpointSchedule:
    """Checkpoints every alliance every `interval` seconds, on a thread of the server."""

    def __init__(self, runtime: Runtime, interval: int) -> None:
        self.runtime = runtime
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="checkpoint-schedule", daemon=True)

    def start(self) -> None:
        if self.interval > 0:
            self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            checkpoint_all(self.runtime)

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=30)
