"""The audit bundle: one zip file an auditor verifies offline with `concord audit verify`.

    README.md          how to verify it, for the auditor
    manifest.json      format, alliance, when, how many records, which were withheld
    events.jsonl       every record of the log, in order: one JSON object a line
    checkpoints.jsonl  every signed checkpoint, smallest tree first
    proofs.json        a consistency proof between each checkpoint and the next
    public-keys.json   the checkpoint keys that signed them

Each line of events.jsonl holds a record exactly as stored (`state`: the stored JSON
text; its UTF-8 bytes are the bytes hashed) and `leaf`: the leaf hash recorded when a
checkpoint first covered it. A record whose content the bundle's reader may not see
(confidential minutes and actions) is *withheld*: its `state` is null and only the
SHA-256 of its bytes is given, which is all its leaf needs, so it is still proved present
and unaltered.
"""

from __future__ import annotations

import base64
import io
import itertools
import zipfile
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, Any

import msgspec

from services import event_log
from services.audit import checkpoints, merkle, signing

if TYPE_CHECKING:
    from services.runtime import Runtime

FORMAT = "concord-audit-bundle/1"
#: The only records a bundle may withhold: those the event log redacts.
WITHHOLDABLE = event_log.REDACTED_TYPES


class BundleRecord(msgspec.Struct, kw_only=True):
    index: int
    position: int
    aggregate_id: str
    version: int
    topic: str
    type: str
    #: The stored state as text (its UTF-8 bytes are what was stored), or None.
    state: str | None
    state_sha256: str
    #: The leaf hash recorded when a checkpoint first covered this record.
    leaf: str
    withheld: bool = False
    #: Stored bytes that are not UTF-8 text (a damaged record), base64; else None.
    state_base64: str | None = None


@dataclass(frozen=True)
class Exported:
    tenant: str
    records: int
    withheld: int
    checkpoint: signing.Checkpoint


def export(runtime: Runtime, slug: str, out: IO[bytes], *, confidential: bool) -> Exported:
    """Write the bundle of one alliance to `out`. A checkpoint of the whole log is issued
    first, so the bundle ends on a signed tree head. `confidential`: whether records of
    confidential minutes and actions are included in full (else withheld)."""
    with runtime.tenant(slug) as store:
        head = checkpoints.issue(runtime, store, "export")
        leaves = checkpoints.leaves(store)[: head.tree_size]
        issued = _all_checkpoints(store, head.tree_size)
        records: list[BundleRecord] = []
        after = 0
        while len(records) < head.tree_size:
            page = store.app.recorder.select_notifications(start=after + 1, limit=1000)
            if not page:
                break
            for record in page[: head.tree_size - len(records)]:
                records.append(_record(store, len(records), record, leaves, confidential))
            after = page[-1].id
    keys = sorted({(c.key_id, c.public_key) for c in issued})
    proofs = [
        {
            "first": a.tree_size,
            "second": b.tree_size,
            "proof": [
                p.hex()
                for p in merkle.consistency_proof(
                    a.tree_size, [leaf.leaf for leaf in leaves[: b.tree_size]]
                )
            ],
        }
        for a, b in itertools.pairwise(issued)
    ]
    withheld = sum(r.withheld for r in records)
    manifest = {
        "format": FORMAT,
        "tenant": slug,
        "exported_at": runtime.clock().isoformat(),
        "records": len(records),
        "withheld": withheld,
        "confidential_included": confidential,
        "tree_size": head.tree_size,
        "root_hash": head.root_hash,
        "checkpoints": len(issued),
    }
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as bundle:
        bundle.writestr("README.md", README.format(tenant=slug, records=len(records)))
        bundle.writestr("manifest.json", _json(manifest))
        bundle.writestr("events.jsonl", b"".join(msgspec.json.encode(r) + b"\n" for r in records))
        bundle.writestr(
            "checkpoints.jsonl", b"".join(msgspec.json.encode(c) + b"\n" for c in issued)
        )
        bundle.writestr("proofs.json", _json(proofs))
        bundle.writestr(
            "public-keys.json", _json([{"key_id": k, "public_key": p} for k, p in keys])
        )
    return Exported(tenant=slug, records=len(records), withheld=withheld, checkpoint=head)


def export_bytes(runtime: Runtime, slug: str, *, confidential: bool) -> tuple[bytes, Exported]:
    buffer = io.BytesIO()
    done = export(runtime, slug, buffer, confidential=confidential)
    return buffer.getvalue(), done


def _all_checkpoints(store: Any, up_to: int) -> list[signing.Checkpoint]:
    found: list[signing.Checkpoint] = []
    after = -1
    while True:
        page = checkpoints.checkpoints(store, after=after, limit=1000)
        found += [c for c in page if c.tree_size <= up_to]
        if len(page) < 1000:
            return found
        after = page[-1].tree_size


def _record(
    store: Any, index: int, record: Any, leaves: list[checkpoints.Leaf], confidential: bool
) -> BundleRecord:
    state: bytes = record.state
    withheld = not confidential and _is_confidential(store, record)
    text: str | None = None
    raw: str | None = None
    if not withheld:
        try:
            text = state.decode("utf-8")
        except UnicodeDecodeError:  # damaged bytes: carried as they are, to be named
            raw = base64.b64encode(state).decode()
    return BundleRecord(
        index=index,
        position=record.id,
        aggregate_id=str(record.originator_id),
        version=record.originator_version,
        topic=record.topic,
        type=event_log.event_type(record.topic),
        state=text,
        state_sha256=merkle.sha256(state).hex(),
        leaf=leaves[index].leaf.hex(),
        withheld=withheld,
        state_base64=raw,
    )


def _is_confidential(store: Any, record: Any) -> bool:
    """Whether a reader who may not read confidential minutes would see this record
    redacted in the event log (the same rule, so the two can never disagree)."""
    kind = event_log.event_type(record.topic)
    if kind not in WITHHOLDABLE:
        return False
    try:
        event = store.app.mapper.to_domain_event(record)
    except Exception:  # damaged past decoding: withhold it (it may be confidential)
        return True
    logged = event_log.LoggedEvent(
        position=record.id,
        aggregate_id=str(record.originator_id),
        version=record.originator_version,
        type=kind,
        timestamp=event.timestamp,
        data={k: v for k, v in vars(event).items() if k not in event_log.ENVELOPE},
    )
    with store.read() as sql:
        return event_log.redact_event(logged, sql).data != logged.data


def _json(value: Any) -> bytes:
    return msgspec.json.format(msgspec.json.encode(value), indent=2) + b"\n"


README = """# Audit bundle of {tenant}

This file is a complete copy of the governance record of the alliance `{tenant}` on
Concord: {records} records, every checkpoint the platform signed over them, and the proofs
that link the checkpoints. It needs no database and no network to check.

## Verify it

    concord audit verify THIS-FILE.zip
    concord audit verify THIS-FILE.zip --checkpoint a-checkpoint-you-kept.json

The verifier recomputes the leaf hash of every record from its stored bytes, rebuilds
the Merkle tree (RFC 6962), checks every checkpoint's Ed25519 signature and every
consistency proof, checks the checkpoint you kept (if you give one) against this
history, and replays the history through Concord's rules. It prints INTACT and exits 0,
or prints NOT INTACT, names the first record (or checkpoint) that fails, and exits 1.

Keep the latest checkpoint of each bundle you verify (`checkpoints.jsonl`, last line, or
`concord audit checkpoint`). Verifying a later bundle against it proves that nothing the
earlier checkpoint covered has been changed, removed or reordered since.

Records marked `"withheld": true` are confidential minutes or actions you were not
granted: only the SHA-256 of their stored bytes is here. They are still proved present
and unaltered; their content is not shown and they are not replayed.

The formats (the bytes of a leaf, the lines a checkpoint signs) are in Concord's
docs/audit.md, so you can also check this bundle with a verifier of your own.
"""
