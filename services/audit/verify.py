"""The offline verifier of an audit bundle: no database, no network.

It checks, in this order, and stops at the first failure, naming the record or
checkpoint at fault:
1. every record: well formed, in order, its bytes matching its digest, and its leaf hash
   (recomputed from its bytes) matching the leaf recorded when a checkpoint covered it;
2. every checkpoint: its signature, its key (one of the bundle's, and the trusted key
   when one is given), and its root against the records it covers;
3. every consistency proof between consecutive checkpoints;
4. the latest checkpoint covers every record (nothing appended unsigned);
5. the checkpoint the auditor kept, if given: signed by the same key, and a prefix of
   this history (a consistency proof from it to the latest checkpoint);
6. the history replays through Concord's domain model: every aggregate's versions run
   1, 2, 3 … with none missing or repeated, and every event applies.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import os
import subprocess
import sys
import threading
import zipfile
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from uuid import UUID

import msgspec
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import (
    DatetimeAsISO,
    DecimalAsStr,
    JSONTranscoder,
    Mapper,
    StoredEvent,
    UUIDAsHex,
    find_id_convertor,
)
from eventsourcing.utils import resolve_topic

from services.applications import DateAsISO
from services.audit import merkle, signing
from services.audit.bundle import FORMAT, WITHHOLDABLE, BundleRecord

_sha256 = hashlib.sha256


@dataclass
class Verdict:
    intact: bool
    records: int = 0
    checkpoints: int = 0
    withheld: int = 0
    replayed_aggregates: int = 0
    tree_size: int = 0
    root_hash: str = ""
    key_ids: list[str] = field(default_factory=list)
    #: What failed first: names the record (position, aggregate, version) or checkpoint.
    problem: str | None = None
    #: The position of the first record that is not intact, when one can be named.
    bad_position: int | None = None

    def summary(self) -> str:
        if not self.intact:
            return f"NOT INTACT: {self.problem}"
        return (
            f"INTACT: {self.records} records ({self.withheld} withheld as confidential), "
            f"{self.checkpoints} checkpoints; the latest covers all {self.tree_size} "
            f"records with root {self.root_hash}, signed by key {', '.join(self.key_ids)}; "
            f"{self.replayed_aggregates} aggregates replayed"
        )


class Broken(Exception):
    def __init__(self, problem: str, position: int | None = None) -> None:
        super().__init__(problem)
        self.problem = problem
        self.position = position


def verify_file(
    path: str | Path, *, kept: signing.Checkpoint | None = None, trusted_key: str | None = None
) -> Verdict:
    """Verify a bundle file. `kept`: a checkpoint the auditor kept from before; its key
    becomes the only trusted key. `trusted_key`: a public key (hex) to require."""
    try:
        with zipfile.ZipFile(path) as bundle:
            return verify_bundle(bundle, kept=kept, trusted_key=trusted_key)
    except Exception as error:  # any damage to the zip itself, however it shows
        return Verdict(intact=False, problem=f"the bundle cannot be read: {error!r}")


def verify_bundle(
    bundle: zipfile.ZipFile,
    *,
    kept: signing.Checkpoint | None = None,
    trusted_key: str | None = None,
) -> Verdict:
    verdict = Verdict(intact=False)
    helper = _Helper()
    try:
        _verify(bundle, verdict, kept, trusted_key, helper)
    except Broken as broken:
        verdict.problem = broken.problem
        verdict.bad_position = broken.position
        return verdict
    finally:
        helper.close()
    verdict.intact = True
    return verdict


def _verify(
    bundle: zipfile.ZipFile,
    verdict: Verdict,
    kept: signing.Checkpoint | None,
    trusted_key: str | None,
    helper: _Helper,
) -> None:
    manifest = _member_json(bundle, "manifest.json")
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise Broken(f"manifest.json does not describe a {FORMAT} bundle")
    tenant = manifest.get("tenant")
    events = _member(bundle, "events.jsonl")
    helper.start(events)  # a long log: a second process starts replaying its share now
    records = _records(events)
    verdict.records = len(records)
    verdict.withheld = sum(r.withheld for r in records)
    ids: dict[str, tuple[UUID, bytes]] = {}
    topics: dict[str, tuple[str, bytes]] = {}
    leaves = [_check_record(i, r, ids, topics) for i, r in enumerate(records)]
    tree = merkle.Tree(leaves)

    issued = _checkpoints(bundle)
    keys = _member_json(bundle, "public-keys.json")
    known_keys = (
        {k.get("public_key") for k in keys if isinstance(k, dict)}
        if isinstance(keys, list)
        else set()
    )
    if kept is not None:
        problem = signing.signature_problem(kept)
        if problem is not None:
            raise Broken(f"the checkpoint you kept is not valid: {problem}")
        if trusted_key is not None and kept.public_key != trusted_key:
            raise Broken("the checkpoint you kept is not signed by the key you trust")
        trusted_key = kept.public_key
    previous: signing.Checkpoint | None = None
    for made in issued:
        _check_checkpoint(made, tenant, records, tree, known_keys, trusted_key)
        verdict.key_ids = sorted({*verdict.key_ids, made.key_id})
        if previous is not None:
            _check_consistency(bundle, previous, made)
        previous = made
    verdict.checkpoints = len(issued)
    if previous is None:
        raise Broken("the bundle holds no checkpoint: nothing proves its records")
    if previous.tree_size != len(records):
        after = records[previous.tree_size - 1].position if previous.tree_size else 0
        raise Broken(
            f"{len(records) - previous.tree_size} records after position {after} are not "
            "covered by any signed checkpoint",
            records[previous.tree_size].position if len(records) > previous.tree_size else None,
        )
    _check_manifest(manifest, records, issued)
    verdict.tree_size, verdict.root_hash = previous.tree_size, previous.root_hash
    if kept is not None:
        _check_kept(kept, tenant, records, tree, previous)
    verdict.replayed_aggregates = helper.replay(records, ids)


# ------------------------------------------------------------------------------ records


_RECORD = msgspec.json.Decoder(BundleRecord)


def _records(events: bytes) -> list[BundleRecord]:
    lines = events.splitlines()
    decode = _RECORD.decode
    try:
        return [decode(line) for line in lines]
    except (msgspec.ValidationError, msgspec.DecodeError):
        pass  # read them again one by one, to name the line
    records = []
    for number, line in enumerate(lines, start=1):
        try:
            records.append(msgspec.json.decode(line, type=BundleRecord))
        except (msgspec.ValidationError, msgspec.DecodeError) as error:
            raise Broken(f"events.jsonl line {number} is not a record: {error}") from None
    return records


def _name(record: BundleRecord) -> str:
    return (
        f"record at position {record.position} (#{record.index + 1}, {record.type}, "
        f"aggregate {record.aggregate_id} version {record.version})"
    )


def _check_record(
    index: int,
    record: BundleRecord,
    ids: dict[str, tuple[UUID, bytes]],
    topics: dict[str, tuple[str, bytes]],
) -> bytes:
    """The record's leaf, recomputed from its bytes; Broken, naming it, if it is not
    intact. `ids` and `topics` cache what each aggregate id and topic parse to (a log
    names each many times): they only spare work, never change a verdict."""
    if record.index != index:
        raise Broken(
            f"{_name(record)} is out of place: it says #{record.index + 1}", record.position
        )
    try:
        aggregate = ids.get(record.aggregate_id)
        if aggregate is None:
            parsed = UUID(record.aggregate_id)
            aggregate = ids[record.aggregate_id] = (parsed, parsed.bytes)
        digest = bytes.fromhex(record.state_sha256)
        recorded_leaf = bytes.fromhex(record.leaf)
    except ValueError as error:
        raise Broken(f"{_name(record)} is malformed: {error}", record.position) from None
    topic = topics.get(record.topic)
    if topic is None:
        topic = topics[record.topic] = (
            record.topic.partition(":")[2].replace(".", ""),
            merkle.topic_field(record.topic),
        )
    if record.type != topic[0]:
        raise Broken(
            f"{_name(record)}: its type does not match its topic {record.topic!r}",
            record.position,
        )
    if not (0 < record.position < 2**63 and 0 < record.version < 2**63):
        raise Broken(f"{_name(record)}: its position or version is out of range", record.position)
    if record.state is not None:
        stored: bytes | None = record.state.encode()
    else:
        stored = _stored_bytes(record)
    if record.withheld != (stored is None):
        raise Broken(
            f"{_name(record)}: its withheld mark does not match its content", record.position
        )
    if record.withheld and record.type not in WITHHOLDABLE:
        raise Broken(
            f"{_name(record)} is withheld, but a {record.type} is never confidential",
            record.position,
        )
    if stored is not None and _sha256(stored).digest() != digest:
        raise Broken(f"{_name(record)}: its content does not match its digest", record.position)
    leaf = merkle.record_leaf_hash(record.position, aggregate[1], record.version, topic[1], digest)
    if leaf != recorded_leaf:
        raise Broken(
            f"{_name(record)} has been altered since a checkpoint covered it: its leaf hash is "
            f"{leaf.hex()}, the recorded leaf is {recorded_leaf.hex()}",
            record.position,
        )
    return leaf


def _stored_bytes(record: BundleRecord) -> bytes | None:
    """The record's stored bytes as the bundle carries them (None: withheld)."""
    if record.state is not None:
        return record.state.encode()
    if record.state_base64 is not None:
        try:
            return base64.b64decode(record.state_base64, validate=True)
        except ValueError:
            raise Broken(f"{_name(record)}: its content is not base64", record.position) from None
    return None


# -------------------------------------------------------------------------- checkpoints


def _checkpoints(bundle: zipfile.ZipFile) -> list[signing.Checkpoint]:
    found = []
    for number, line in enumerate(_member(bundle, "checkpoints.jsonl").splitlines(), start=1):
        try:
            found.append(signing.decode(line))
        except (msgspec.ValidationError, msgspec.DecodeError) as error:
            raise Broken(f"checkpoints.jsonl line {number} is not a checkpoint: {error}") from None
    sizes = [c.tree_size for c in found]
    if sizes != sorted(set(sizes)):
        raise Broken("checkpoints.jsonl is not in order of tree size, or repeats one")
    return found


def _check_checkpoint(
    made: signing.Checkpoint,
    tenant: Any,
    records: list[BundleRecord],
    tree: merkle.Tree,
    known_keys: set[Any],
    trusted_key: str | None,
) -> None:
    where = f"checkpoint of tree size {made.tree_size} (issued {made.issued_at.isoformat()})"
    problem = signing.signature_problem(made)
    if problem is not None:
        raise Broken(f"{where}: {problem}")
    if made.public_key not in known_keys:
        raise Broken(f"{where} is signed by a key the bundle does not list")
    if trusted_key is not None and made.public_key != trusted_key:
        raise Broken(f"{where} is signed by key {made.key_id}, not by the key you trust")
    if made.tenant != tenant:
        raise Broken(f"{where} is of alliance {made.tenant!r}, not {tenant!r}")
    if made.tree_size > len(records):
        raise Broken(
            f"{where} covers {made.tree_size} records but the bundle has {len(records)}: "
            "records have been removed",
            records[-1].position if records else None,
        )
    if tree.root(made.tree_size).hex() != made.root_hash:
        raise Broken(f"{where}: the records it covers do not hash to its root")
    last = records[made.tree_size - 1].position if made.tree_size else 0
    if last != made.last_position:
        raise Broken(f"{where} ends at position {made.last_position}, the records at {last}")


def _check_manifest(
    manifest: dict[str, Any], records: list[BundleRecord], issued: list[signing.Checkpoint]
) -> None:
    """The manifest's counts agree with what the bundle holds (a checkpoint or record
    removed without editing it too shows here)."""
    latest = issued[-1]
    found = {
        "records": len(records),
        "withheld": sum(r.withheld for r in records),
        "checkpoints": len(issued),
        "tree_size": latest.tree_size,
        "root_hash": latest.root_hash,
    }
    for name, value in found.items():
        if manifest.get(name) != value:
            raise Broken(
                f"manifest.json says {name} is {manifest.get(name)!r}, the bundle holds {value!r}"
            )


def _check_consistency(
    bundle: zipfile.ZipFile, first: signing.Checkpoint, second: signing.Checkpoint
) -> None:
    proofs = _member_json(bundle, "proofs.json")
    entry = next(
        (
            p
            for p in (proofs if isinstance(proofs, list) else [])
            if isinstance(p, dict)
            and p.get("first") == first.tree_size
            and p.get("second") == second.tree_size
        ),
        None,
    )
    where = f"the consistency proof from tree size {first.tree_size} to {second.tree_size}"
    if entry is None:
        raise Broken(f"{where} is missing from proofs.json")
    try:
        proof = [bytes.fromhex(p) for p in entry.get("proof", [])]
    except (TypeError, ValueError):
        raise Broken(f"{where} is malformed") from None
    if not merkle.verify_consistency(
        first.tree_size,
        second.tree_size,
        bytes.fromhex(first.root_hash),
        bytes.fromhex(second.root_hash),
        proof,
    ):
        raise Broken(f"{where} does not hold")


def _check_kept(
    kept: signing.Checkpoint,
    tenant: Any,
    records: list[BundleRecord],
    tree: merkle.Tree,
    latest: signing.Checkpoint,
) -> None:
    where = (
        f"the checkpoint you kept (tree size {kept.tree_size}, issued {kept.issued_at.isoformat()})"
    )
    if kept.tenant != tenant:
        raise Broken(f"{where} is of alliance {kept.tenant!r}, this bundle of {tenant!r}")
    if kept.tree_size > len(records):
        raise Broken(
            f"{where} covers {kept.tree_size} records; this history has only {len(records)}: "
            "records it covered have been removed"
        )
    proof = tree.consistency_proof(kept.tree_size, latest.tree_size)
    if not merkle.verify_consistency(
        kept.tree_size,
        latest.tree_size,
        bytes.fromhex(kept.root_hash),
        bytes.fromhex(latest.root_hash),
        proof,
    ):
        raise Broken(
            f"{where} does not match this history: a record among the first "
            f"{kept.tree_size} has been changed, removed, inserted or reordered since"
        )
    last = records[kept.tree_size - 1].position if kept.tree_size else 0
    if last != kept.last_position:
        raise Broken(f"{where} ends at position {kept.last_position}; this history at {last}")


# ------------------------------------------------------------------------------- replay


def offline_mapper() -> Mapper[UUID]:
    """The mapper Concord's stores use, without any store: personal data sealed with a
    per-person key stays sealed (the keys are never in a bundle)."""
    transcoder = JSONTranscoder()
    for transcoding in (UUIDAsHex(), DecimalAsStr(), DatetimeAsISO(), DateAsISO()):
        transcoder.register(transcoding)
    return Mapper(transcoder=transcoder)


def _replay(
    records: Iterable[BundleRecord],
    ids: dict[str, tuple[UUID, bytes]] | None = None,
    keep: Callable[[str], bool] | None = None,
) -> int:
    """Replay the records (those of the aggregates `keep` accepts, when given); Broken,
    naming the first record that does not replay. Returns how many aggregates it made."""
    mapper = offline_mapper()
    ids = {} if ids is None else ids
    kinds: dict[str, tuple[Any, Any, int]] = {}
    decode = mapper.transcoder.decode
    aggregates: dict[str, Aggregate | None] = {}
    versions: dict[str, int] = {}
    skipped: set[str] = set()
    for record in records:
        aggregate_id = record.aggregate_id
        if keep is not None and not keep(aggregate_id):
            continue
        expected = versions.get(aggregate_id, 0) + 1
        if record.version != expected:
            raise Broken(
                f"{_name(record)} breaks its aggregate's sequence: version {expected} was "
                "expected (a record is missing, repeated or out of order)",
                record.position,
            )
        versions[aggregate_id] = expected
        if record.withheld or aggregate_id in skipped:
            skipped.add(aggregate_id)  # a withheld record: the rest cannot replay
            continue
        # What Mapper.to_domain_event does, with what it looks up cached per topic and
        # aggregate (a log repeats both); whatever this fast path cannot do, the mapper
        # does below, so it decides every verdict and every message.
        event: Any = None
        if record.state is not None:
            try:
                kind = kinds.get(record.topic)
                if kind is None:
                    cls = resolve_topic(record.topic)
                    kind = kinds[record.topic] = (
                        cls,
                        find_id_convertor(cls, UUID),
                        getattr(cls, "class_version", 1),
                    )
                cls, convert, class_version = kind
                known = ids.get(aggregate_id)
                if known is None:
                    parsed = UUID(aggregate_id)
                    known = ids[aggregate_id] = (parsed, parsed.bytes)
                state = decode(record.state.encode())
                state["originator_id"] = convert(known[0])
                state["originator_version"] = expected
                from_version = state.pop("class_version", 1)
                while from_version < class_version:
                    getattr(cls, f"upcast_v{from_version}_v{from_version + 1}")(state)
                    from_version += 1
                event = object.__new__(cls)
                object.__setattr__(event, "__dict__", state)
            except Exception:
                event = None
        try:
            if event is None:
                stored = _stored_bytes(record)
                assert stored is not None
                event = mapper.to_domain_event(
                    StoredEvent(
                        originator_id=UUID(aggregate_id),
                        originator_version=record.version,
                        topic=record.topic,
                        state=stored,
                    )
                )
            aggregates[aggregate_id] = event.mutate(aggregates.get(aggregate_id))
        except Exception as error:  # any failure to decode or apply names the record
            raise Broken(
                f"{_name(record)} does not replay: {type(error).__name__}: {error}",
                record.position,
            ) from None
    return sum(1 for a in aggregates.values() if a is not None)


# ------------------------------------------------------- the replay in a second process

#: A log of at least this many records is replayed by two processes, each replaying the
#: whole history of its share of the aggregates, while this one also checks the records.
PARALLEL_FROM = 200_000
#: The helper's share of the aggregates, in hundredths (this process also checks every
#: record and builds the tree, so it keeps the smaller share).
HELPER_SHARE = 70


def _share(aggregate_id: str) -> int:
    """Which hundredth of the aggregates this one falls in (the same in every process)."""
    return zlib.crc32(aggregate_id.encode("utf-8", "surrogatepass")) % 100


class _Keep:
    """Accepts the aggregates of one side of the split; counts the records it refuses."""

    def __init__(self, *, helper: bool, share: int) -> None:
        self.helper = helper
        self.share = share
        self.refused = 0
        self._known: dict[str, bool] = {}

    def __call__(self, aggregate_id: str) -> bool:
        kept = self._known.get(aggregate_id)
        if kept is None:
            kept = self._known[aggregate_id] = (_share(aggregate_id) < self.share) == self.helper
        if not kept:
            self.refused += 1
        return kept


def helper_main() -> None:
    """The second process (`python -c`, see `_Helper`): read the log's bytes from stdin,
    replay the helper's share of the aggregates, and answer on stdout with one JSON line:
    ["ok", aggregates made, records replayed] or ["broken", 0, 0]."""
    share = int(sys.argv[1])
    records = _records(sys.stdin.buffer.read())
    keep = _Keep(helper=True, share=share)
    try:
        answer = ["ok", _replay(records, keep=keep), len(records) - keep.refused]
    except Broken:
        answer = ["broken", 0, 0]
    sys.stdout.buffer.write(msgspec.json.encode(answer) + b"\n")
    sys.stdout.flush()


class _Helper:
    """A second process that replays most aggregates of a long log while this one checks
    every record, the tree and the checkpoints, then replays the rest. It is only ever
    trusted to confirm: if either side finds a record that does not replay, or the helper
    fails, or it replayed other records than this side left it, the whole log is replayed
    here, in one process, so every verdict and every message is the one-process one."""

    def __init__(self) -> None:
        self._process: subprocess.Popen[bytes] | None = None
        self._sender: threading.Thread | None = None
        self._share = HELPER_SHARE

    def start(self, events: bytes) -> None:
        if events.count(b"\n") < PARALLEL_FROM or (os.cpu_count() or 1) < 2:
            return
        try:
            self._process = subprocess.Popen(  # noqa: S603 - this interpreter, fixed code
                [sys.executable, "-c", HELPER_CODE, str(self._share)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                env={**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)},
            )
            # The bytes go down the pipe from a thread (the write releases the GIL), so
            # this process starts its own checks at once.
            self._sender = threading.Thread(target=self._send, args=(events,), daemon=True)
            self._sender.start()
        except Exception:  # no second process here: replay in this one
            self.close()

    def _send(self, events: bytes) -> None:
        process = self._process
        if process is not None and process.stdin is not None:
            with contextlib.suppress(Exception):  # the helper is gone: replay() notices
                process.stdin.write(events)
                process.stdin.close()

    def replay(self, records: list[BundleRecord], ids: dict[str, tuple[UUID, bytes]]) -> int:
        if self._process is None:
            return _replay(records, ids)
        keep = _Keep(helper=False, share=self._share)
        try:
            made = _replay(records, ids, keep=keep)
        except Broken:
            return _replay(records, ids)  # raises, naming the first record in log order
        answer = self._answer()
        if answer is None or answer[0] != "ok" or answer[2] != keep.refused:
            return _replay(records, ids)
        return made + int(answer[1])

    def _answer(self) -> list[Any] | None:
        assert self._process is not None and self._process.stdout is not None
        try:
            output = self._process.stdout.read()
            answer = msgspec.json.decode(output)
        except (OSError, ValueError, msgspec.DecodeError):
            return None
        if self._process.wait() != 0 or not isinstance(answer, list) or len(answer) != 3:
            return None
        return answer

    def close(self) -> None:
        if self._process is not None:
            if self._process.poll() is None:
                self._process.kill()
            self._process.wait()
        if self._sender is not None:
            self._sender.join(timeout=10)
            self._sender = None
        if self._process is not None:
            for stream in (self._process.stdin, self._process.stdout):
                if stream is not None:
                    with contextlib.suppress(OSError):
                        stream.close()
            self._process = None


HELPER_CODE = "from services.audit.verify import helper_main; helper_main()"


# -------------------------------------------------------------------------------- files


def _member(bundle: zipfile.ZipFile, name: str) -> bytes:
    try:
        return bundle.read(name)
    except KeyError:
        raise Broken(f"the bundle has no {name}") from None
    except Exception as error:  # a failed CRC, corrupt deflate data, a bad header …
        raise Broken(f"{name} in the bundle is damaged: {error!r}") from None


def _member_json(bundle: zipfile.ZipFile, name: str) -> Any:
    try:
        return msgspec.json.decode(_member(bundle, name))
    except msgspec.DecodeError as error:
        raise Broken(f"{name} is not JSON: {error}") from None
