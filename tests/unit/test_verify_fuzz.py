"""The tamper fuzz: one real audit bundle (the demo alliance's year of history, exported
as a reader without the confidential grant sees it), then hundreds of seeded random
alterations of it, each rebuilt into a zip in memory. The offline verifier must catch
every one (verdict not intact), and for an alteration of one record's content it must
name that record. The unaltered bundle verifies INTACT, with and without the checkpoint
the auditor kept.

The mutation plan is seeded (SEED, and the kind's name), so a failure reproduces; the
bundle's bytes differ from run to run only in what the platform cannot fix (the signing
key made for the run and the wall-clock timestamps eventsourcing stamps on events).
"""

from __future__ import annotations

import io
import itertools
import random
import string
import zipfile
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import msgspec
import pytest

from infra.settings import Settings
from services.audit import bundle, checkpoints, merkle, signing, verify
from services.audit.signing import Checkpoint, Signer
from services.demo import create_demo
from services.runtime import Runtime

SEED = 20300115
SLUG = "fuzz-kinship-alliance"
#: Mutations of each kind (every kind below runs this many, so > 300 in all).
ROUNDS = 16
EVENTS, CHECKPOINTS, PROOFS, KEYS, MANIFEST = (
    "events.jsonl",
    "checkpoints.jsonl",
    "proofs.json",
    "public-keys.json",
    "manifest.json",
)
#: What the verifier reads; the README is for people.
EVIDENCE = (MANIFEST, EVENTS, CHECKPOINTS, PROOFS, KEYS)
HEX = "0123456789abcdef"
ALONE, KEPT, KEY = "alone", "with the kept checkpoint", "with the platform key"


@dataclass(frozen=True)
class Original:
    """The real bundle, its parts decoded, and the checkpoint the auditor kept."""

    zip_bytes: bytes
    members: dict[str, bytes]
    records: list[dict[str, Any]]
    checkpoints: list[dict[str, Any]]
    proofs: list[dict[str, Any]]
    keys: list[dict[str, Any]]
    kept: Checkpoint
    #: The platform's checkpoint key (a test may sign with it: the platform would).
    platform: Signer

    @property
    def platform_key(self) -> str:
        return self.kept.public_key


@dataclass
class Mutation:
    """One alteration: the whole bundle after it, and what the verifier must say."""

    members: dict[str, bytes]
    #: For an alteration of one record's content: that record's index in events.jsonl
    #: and the position it shows (the verifier must name both).
    names: tuple[int, int] | None = None
    #: Which verifications must catch it: the bundle alone, against the checkpoint the
    #: auditor kept, against the platform's key (--public-key). A bundle consistent with
    #: itself is caught only by an anchor.
    caught_by: tuple[str, ...] = (ALONE, KEPT, KEY)
    what: str = ""


@pytest.fixture(scope="module")
def original(tmp_path_factory: pytest.TempPathFactory) -> Original:
    data_dir = tmp_path_factory.mktemp("fuzz") / "var"
    settings = Settings(data_dir=str(data_dir))
    runtime = Runtime(settings)
    try:
        create_demo(
            runtime, slug=SLUG, name="Fuzz Kinship Alliance", template="kinship-care", region="Kent"
        )
        data, done = bundle.export_bytes(runtime, SLUG, confidential=False)
    finally:
        runtime.close()
    with zipfile.ZipFile(io.BytesIO(data)) as opened:
        members = {name: opened.read(name) for name in opened.namelist()}
    found = Original(
        zip_bytes=data,
        members=members,
        records=[msgspec.json.decode(line) for line in members[EVENTS].splitlines()],
        checkpoints=[msgspec.json.decode(line) for line in members[CHECKPOINTS].splitlines()],
        proofs=msgspec.json.decode(members[PROOFS]),
        keys=msgspec.json.decode(members[KEYS]),
        kept=done.checkpoint,
        platform=checkpoints.signer(settings),
    )
    # The fuzz needs a history worth altering: withheld and plain records, several
    # checkpoints (so consistency proofs), and more than one record per aggregate.
    assert done.withheld > 0 and len(found.records) > 50 and len(found.checkpoints) >= 4
    return found


# ------------------------------------------------------------------------------ plumbing


def zipped(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as out:
        for name, content in members.items():
            out.writestr(name, content)
    return buffer.getvalue()


def verdict_of(
    members: dict[str, bytes], *, kept: Checkpoint | None = None, trusted_key: str | None = None
) -> verify.Verdict:
    with zipfile.ZipFile(io.BytesIO(zipped(members))) as opened:
        return verify.verify_bundle(opened, kept=kept, trusted_key=trusted_key)


def lines(items: list[Any]) -> bytes:
    return b"".join(msgspec.json.encode(item) + b"\n" for item in items)


def pretty(value: Any) -> bytes:
    return msgspec.json.format(msgspec.json.encode(value), indent=2) + b"\n"


def with_records(o: Original, records: list[dict[str, Any]]) -> dict[str, bytes]:
    return {**o.members, EVENTS: lines(records)}


def renumbered(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The records with their `index` rewritten to run 0, 1, 2 … again (what a careful
    forger does after deleting, inserting or moving one)."""
    return [{**r, "index": i} for i, r in enumerate(records)]


def copies(o: Original) -> list[dict[str, Any]]:
    return [dict(r) for r in o.records]


def other_char(rng: random.Random, alphabet: str, current: str) -> str:
    return rng.choice([c for c in alphabet if c != current])


def changed_hex(rng: random.Random, text: str) -> str:
    """`text` with one hex digit replaced by a different one (lower case, so the bytes it
    stands for change: an upper-case copy of the same digit would mean the same bytes)."""
    spots = [i for i, c in enumerate(text) if c in HEX]
    i = rng.choice(spots)
    return text[:i] + other_char(rng, HEX, text[i]) + text[i + 1 :]


def changed_text(rng: random.Random, text: str) -> str:
    i = rng.randrange(len(text))
    return (
        text[:i]
        + other_char(rng, string.ascii_letters + string.digits + ' {}":,', text[i])
        + text[i + 1 :]
    )


def flipped_bits(rng: random.Random, value: int) -> int:
    """`value` with one of its low bits flipped (still a valid unsigned 64-bit number)."""
    return value ^ (1 << rng.randrange(20))


def plain(o: Original) -> list[int]:
    """Indexes of the records shown in full."""
    return [i for i, r in enumerate(o.records) if not r["withheld"]]


# ------------------------------------------------------------- one record's content


def content_change(
    field_name: str, change: Callable[[random.Random, Any], Any], *, plain_only: bool = False
) -> Callable[[random.Random, Original], Mutation]:
    """A mutation that changes one field of one record; the verifier must name it."""

    def mutate(rng: random.Random, o: Original) -> Mutation:
        records = copies(o)
        index = rng.choice(plain(o) if plain_only else range(len(records)))
        before = records[index][field_name]
        after = change(rng, before)
        assert after != before
        records[index][field_name] = after
        return Mutation(
            with_records(o, records),
            # The record as the bundle now shows it: its line number (#) and position.
            names=(records[index]["index"], records[index]["position"]),
            what=f"{field_name} of #{index + 1}: {before!r} -> {after!r}",
        )

    return mutate


def rewritten_with_its_leaf(rng: random.Random, o: Original) -> Mutation:
    """A record's content changed and its digest and recorded leaf recomputed to match:
    each record checks out alone, so only the checkpoints' roots can tell (and they
    cannot say which record; the verifier names the checkpoint)."""
    records = copies(o)
    index = rng.choice(plain(o))
    record = records[index]
    record["state"] = changed_text(rng, record["state"])
    digest = merkle.sha256(record["state"].encode())
    record["state_sha256"] = digest.hex()
    record["leaf"] = merkle.leaf_hash(
        merkle.record_leaf_data(
            record["position"],
            UUID(record["aggregate_id"]),
            record["version"],
            record["topic"],
            digest,
        )
    ).hex()
    return Mutation(with_records(o, records), what=f"#{index + 1} rewritten with its leaf")


# --------------------------------------------------------------- the log's records


def deleted(*, renumber: bool) -> Callable[[random.Random, Original], Mutation]:
    def mutate(rng: random.Random, o: Original) -> Mutation:
        records = copies(o)
        index = rng.randrange(len(records))
        del records[index]
        return Mutation(
            with_records(o, renumbered(records) if renumber else records),
            what=f"#{index + 1} deleted",
        )

    return mutate


def duplicated(*, renumber: bool) -> Callable[[random.Random, Original], Mutation]:
    def mutate(rng: random.Random, o: Original) -> Mutation:
        records = copies(o)
        index = rng.randrange(len(records))
        records.insert(index + 1, dict(records[index]))
        return Mutation(
            with_records(o, renumbered(records) if renumber else records),
            what=f"#{index + 1} duplicated",
        )

    return mutate


def inserted(*, renumber: bool) -> Callable[[random.Random, Original], Mutation]:
    """A copy of another record put somewhere else in the log (the end included)."""

    def mutate(rng: random.Random, o: Original) -> Mutation:
        records = copies(o)
        source = rng.randrange(len(records))
        target = rng.randrange(len(records) + 1)
        records.insert(target, dict(records[source]))
        return Mutation(
            with_records(o, renumbered(records) if renumber else records),
            what=f"copy of #{source + 1} inserted at #{target + 1}",
        )

    return mutate


def swapped(*, renumber: bool) -> Callable[[random.Random, Original], Mutation]:
    def mutate(rng: random.Random, o: Original) -> Mutation:
        records = copies(o)
        a, b = sorted(rng.sample(range(len(records)), 2))
        records[a], records[b] = records[b], records[a]
        return Mutation(
            with_records(o, renumbered(records) if renumber else records),
            what=f"#{a + 1} and #{b + 1} swapped",
        )

    return mutate


def moved(rng: random.Random, o: Original) -> Mutation:
    records = copies(o)
    source = rng.randrange(len(records))
    target = rng.choice([i for i in range(len(records)) if i != source])
    records.insert(target, records.pop(source))
    return Mutation(
        with_records(o, renumbered(records)), what=f"#{source + 1} moved to #{target + 1}"
    )


def truncated(rng: random.Random, o: Original) -> Mutation:
    k = rng.randint(1, 10)
    return Mutation(with_records(o, copies(o)[:-k]), what=f"last {k} records dropped")


def rolled_back(rng: random.Random, o: Original) -> Mutation:
    """The log cut back to an earlier checkpoint, with the later checkpoints and their
    proofs removed too: a consistent older bundle. Only the checkpoint the auditor kept
    (which covers more) can tell."""
    keep = rng.randrange(1, len(o.checkpoints))
    size = o.checkpoints[keep - 1]["tree_size"]
    proofs = [p for p in o.proofs if p["second"] <= size]
    return Mutation(
        {
            **o.members,
            EVENTS: lines(copies(o)[:size]),
            CHECKPOINTS: lines(o.checkpoints[:keep]),
            PROOFS: pretty(proofs),
        },
        caught_by=(KEPT,),
        what=f"rolled back to tree size {size}",
    )


# ------------------------------------------------------------------------- checkpoints


def with_checkpoints(o: Original, made: list[dict[str, Any]], **more: bytes) -> dict[str, bytes]:
    return {**o.members, CHECKPOINTS: lines(made), **more}


def checkpoint_removed(rng: random.Random, o: Original) -> Mutation:
    # Not the earliest one: see test_removing_the_earliest_checkpoint_is_caught.
    made = [dict(c) for c in o.checkpoints]
    index = rng.randrange(1, len(made))
    del made[index]
    return Mutation(with_checkpoints(o, made), what=f"checkpoint #{index + 1} removed")


def checkpoints_reordered(rng: random.Random, o: Original) -> Mutation:
    made = [dict(c) for c in o.checkpoints]
    a, b = rng.sample(range(len(made)), 2)
    made[a], made[b] = made[b], made[a]
    return Mutation(with_checkpoints(o, made), what=f"checkpoints #{a + 1} and #{b + 1} swapped")


def checkpoint_duplicated(rng: random.Random, o: Original) -> Mutation:
    made = [dict(c) for c in o.checkpoints]
    index = rng.randrange(len(made))
    made.insert(index, dict(made[index]))
    return Mutation(with_checkpoints(o, made), what=f"checkpoint #{index + 1} duplicated")


def checkpoint_field(
    name: str, change: Callable[[random.Random, Any], Any]
) -> Callable[[random.Random, Original], Mutation]:
    """One field of one checkpoint changed, its signature left as it was."""

    def mutate(rng: random.Random, o: Original) -> Mutation:
        made = [dict(c) for c in o.checkpoints]
        index = rng.randrange(len(made))
        made[index][name] = change(rng, made[index][name])
        return Mutation(with_checkpoints(o, made), what=f"{name} of checkpoint #{index + 1}")

    return mutate


def resigned(rng: random.Random, o: Original, *, listed: bool) -> Mutation:
    """One checkpoint, unchanged, signed again by a key of the forger's own."""
    forger = Signer.generate()
    made = [dict(c) for c in o.checkpoints]
    index = rng.randrange(len(made))
    original = msgspec.convert(made[index], Checkpoint)
    made[index] = msgspec.to_builtins(forger.sign(original))
    keys = [*o.keys, {"key_id": forger.key_id, "public_key": forger.public_key.hex()}]
    extra = {KEYS: pretty(keys)} if listed else {}
    # Listed among the bundle's keys, the forged signature is one the bundle vouches for:
    # the bundle alone cannot tell it from a rotated platform key. The checkpoint the
    # auditor kept (or the platform key given with --public-key) names the only key to
    # trust, and that catches it.
    return Mutation(
        with_checkpoints(o, made, **extra),
        caught_by=(KEPT, KEY) if listed else (ALONE, KEPT, KEY),
        what=f"checkpoint #{index + 1} re-signed ({'listed' if listed else 'unlisted'} key)",
    )


def history_forged(rng: random.Random, o: Original) -> Mutation:
    """The forger's best: a record changed, its leaf recomputed, every checkpoint signed
    again over the new tree by the forger's key (listed as the bundle's only key), every
    proof recomputed. The bundle is consistent with itself; only an anchor tells."""
    forger = Signer.generate()
    records = copies(o)
    index = rng.choice(plain(o))
    record = records[index]
    record["state"] = changed_text(rng, record["state"])
    digest = merkle.sha256(record["state"].encode())
    record["state_sha256"] = digest.hex()
    leaves = [
        merkle.leaf_hash(
            merkle.record_leaf_data(
                r["position"],
                UUID(r["aggregate_id"]),
                r["version"],
                r["topic"],
                bytes.fromhex(r["state_sha256"]),
            )
        )
        for r in records
    ]
    record["leaf"] = leaves[index].hex()
    made = []
    for c in o.checkpoints:
        head = msgspec.convert(c, Checkpoint)
        head = msgspec.structs.replace(head, root_hash=merkle.root(leaves[: head.tree_size]).hex())
        made.append(msgspec.to_builtins(forger.sign(head)))
    proofs = [
        {
            "first": a["tree_size"],
            "second": b["tree_size"],
            "proof": [
                p.hex() for p in merkle.consistency_proof(a["tree_size"], leaves[: b["tree_size"]])
            ],
        }
        for a, b in itertools.pairwise(made)
    ]
    keys = [{"key_id": forger.key_id, "public_key": forger.public_key.hex()}]
    members = {
        **o.members,
        EVENTS: lines(records),
        CHECKPOINTS: lines(made),
        PROOFS: pretty(proofs),
        KEYS: pretty(keys),
    }
    return Mutation(members, caught_by=(KEPT, KEY), what=f"history forged at #{index + 1}")


# ------------------------------------------------------------------------------ proofs


def proofs_changed(
    change: Callable[[random.Random, list[dict[str, Any]]], None], what: str
) -> Callable[[random.Random, Original], Mutation]:
    def mutate(rng: random.Random, o: Original) -> Mutation:
        proofs = msgspec.json.decode(o.members[PROOFS])
        change(rng, proofs)
        return Mutation({**o.members, PROOFS: pretty(proofs)}, what=what)

    return mutate


def _non_empty(rng: random.Random, proofs: list[dict[str, Any]]) -> dict[str, Any]:
    return rng.choice([p for p in proofs if p["proof"]])


def _hash_flipped(rng: random.Random, proofs: list[dict[str, Any]]) -> None:
    entry = _non_empty(rng, proofs)
    i = rng.randrange(len(entry["proof"]))
    entry["proof"][i] = changed_hex(rng, entry["proof"][i])


def _element_dropped(rng: random.Random, proofs: list[dict[str, Any]]) -> None:
    entry = _non_empty(rng, proofs)
    del entry["proof"][rng.randrange(len(entry["proof"]))]


def _element_added(rng: random.Random, proofs: list[dict[str, Any]]) -> None:
    entry = rng.choice(proofs)
    entry["proof"].insert(rng.randint(0, len(entry["proof"])), rng.randbytes(32).hex())


def _entry_removed(rng: random.Random, proofs: list[dict[str, Any]]) -> None:
    del proofs[rng.randrange(len(proofs))]


def _entry_renumbered(rng: random.Random, proofs: list[dict[str, Any]]) -> None:
    entry = rng.choice(proofs)
    end = rng.choice(["first", "second"])
    entry[end] += rng.choice([-1, 1]) * rng.randint(1, 5)


def proofs_cut(rng: random.Random, o: Original) -> Mutation:
    text = o.members[PROOFS]
    return Mutation(
        {**o.members, PROOFS: text[: rng.randrange(1, len(text) - 2)]}, what="proofs.json cut"
    )


def member_missing(rng: random.Random, o: Original) -> Mutation:
    name = rng.choice(EVIDENCE)
    return Mutation({k: v for k, v in o.members.items() if k != name}, what=f"{name} missing")


def later_issued_at(rng: random.Random, issued_at: str) -> str:
    moment = datetime.fromisoformat(issued_at) + timedelta(seconds=rng.randint(1, 10**6))
    return moment.isoformat()


#: Every kind of alteration, by name.
KINDS: dict[str, Callable[[random.Random, Original], Mutation]] = {
    # one record's content: the verifier names the record
    "record state": content_change("state", changed_text, plain_only=True),
    "record leaf": content_change("leaf", changed_hex),
    "record digest": content_change("state_sha256", changed_hex),
    "record position": content_change("position", flipped_bits),
    "record aggregate id": content_change("aggregate_id", changed_hex),
    "record version": content_change("version", flipped_bits),
    "record topic": content_change("topic", changed_text),
    "record type": content_change("type", changed_text),
    "record withheld mark": content_change("withheld", lambda rng, v: not v),
    "record index": content_change("index", flipped_bits),
    "record rewritten with its leaf": rewritten_with_its_leaf,
    # the log's order and extent
    "record deleted": deleted(renumber=False),
    "record deleted, renumbered": deleted(renumber=True),
    "record duplicated": duplicated(renumber=False),
    "record duplicated, renumbered": duplicated(renumber=True),
    "copy inserted": inserted(renumber=False),
    "copy inserted, renumbered": inserted(renumber=True),
    "records swapped": swapped(renumber=False),
    "records swapped, renumbered": swapped(renumber=True),
    "record moved, renumbered": moved,
    "log truncated": truncated,
    "log rolled back with its checkpoints": rolled_back,
    # checkpoints
    "checkpoint removed": checkpoint_removed,
    "checkpoints reordered": checkpoints_reordered,
    "checkpoint duplicated": checkpoint_duplicated,
    "checkpoint root changed": checkpoint_field("root_hash", changed_hex),
    "checkpoint tree size changed": checkpoint_field(
        "tree_size", lambda rng, v: v + rng.choice([-1, 1]) * rng.randint(1, 3)
    ),
    "checkpoint last position changed": checkpoint_field("last_position", flipped_bits),
    "checkpoint issued_at changed": checkpoint_field("issued_at", later_issued_at),
    "checkpoint reason changed": checkpoint_field(
        "reason", lambda rng, v: rng.choice([r for r in signing.REASONS if r != v])
    ),
    "checkpoint re-signed, key not listed": lambda rng, o: resigned(rng, o, listed=False),
    "checkpoint re-signed, key listed": lambda rng, o: resigned(rng, o, listed=True),
    "history forged and re-signed": history_forged,
    # proofs.json
    "proof hash flipped": proofs_changed(_hash_flipped, "a proof hash flipped"),
    "proof element dropped": proofs_changed(_element_dropped, "a proof element dropped"),
    "proof element added": proofs_changed(_element_added, "a proof element added"),
    "proof entry removed": proofs_changed(_entry_removed, "a proof entry removed"),
    "proof entry renumbered": proofs_changed(_entry_renumbered, "a proof entry renumbered"),
    "proofs.json cut short": proofs_cut,
    # the bundle's files
    "evidence file missing": member_missing,
}


# ------------------------------------------------------------------------------- tests


def misjudged(mutation: Mutation, o: Original) -> list[str]:
    """What the verifier got wrong about one alteration (nothing, if it caught it)."""
    anchors: dict[str, dict[str, Any]] = {
        ALONE: {},
        KEPT: {"kept": o.kept},
        KEY: {"trusted_key": o.platform_key},
    }
    verdicts = {how: verdict_of(mutation.members, **anchors[how]) for how in mutation.caught_by}
    wrong = []
    for how, verdict in verdicts.items():
        if verdict.intact:
            wrong.append(f"INTACT {how}")
        elif mutation.names is not None:
            index, position = mutation.names
            if verdict.bad_position != position or f"#{index + 1}," not in (verdict.problem or ""):
                wrong.append(f"{how}: named {verdict.bad_position}: {verdict.problem}")
    return wrong


def test_the_unaltered_bundle_is_intact_alone_with_the_kept_checkpoint_and_the_key(original):
    with zipfile.ZipFile(io.BytesIO(original.zip_bytes)) as opened:
        alone = verify.verify_bundle(opened)
    anchored = verdict_of(original.members, kept=original.kept)
    pinned = verdict_of(original.members, trusted_key=original.platform_key)

    for verdict in (alone, anchored, pinned):
        assert verdict.intact, verdict.problem
        assert verdict.records == len(original.records)
        assert verdict.withheld == sum(r["withheld"] for r in original.records)
        assert verdict.checkpoints == len(original.checkpoints)
        assert verdict.root_hash == original.kept.root_hash
        assert verdict.tree_size == original.kept.tree_size == len(original.records)
        assert verdict.key_ids == [original.kept.key_id]


def test_every_alteration_of_the_bundle_is_caught(original):
    counts: Counter[str] = Counter()
    missed: list[str] = []
    for kind, make in KINDS.items():
        rng = random.Random(f"{SEED}:{kind}")
        for _ in range(ROUNDS):
            mutation = make(rng, original)
            counts[kind] += 1
            missed += [f"{kind} ({mutation.what}): {w}" for w in misjudged(mutation, original)]

    print(f"\n{sum(counts.values())} alterations, seed {SEED}:")
    for kind, count in counts.items():
        print(f"  {count:4d}  {kind}")
    assert not missed, "\n".join(missed[:20])
    assert sum(counts.values()) >= 300


def test_a_kept_checkpoint_that_does_not_fit_the_bundle_is_refused(original):
    kept = original.kept
    cases = {
        "of another alliance": (
            original.platform.sign(msgspec.structs.replace(kept, tenant="another-alliance")),
            "'another-alliance'",
        ),
        "covering more records than the bundle holds": (
            original.platform.sign(msgspec.structs.replace(kept, tree_size=kept.tree_size + 1)),
            "records it covered have been removed",
        ),
        "of another history": (
            original.platform.sign(msgspec.structs.replace(kept, root_hash="ab" * 32)),
            "does not match this history",
        ),
        "ending at another position": (
            original.platform.sign(msgspec.structs.replace(kept, last_position=1)),
            f"ends at position 1; this history at {kept.last_position}",
        ),
        "whose signature is bad": (
            msgspec.structs.replace(kept, root_hash="00" * 32),
            "the checkpoint you kept is not valid",
        ),
        "signed by a key of its own": (
            Signer.generate().sign(kept),
            "not by the key you trust",
        ),
    }
    for case, (checkpoint, words) in cases.items():
        verdict = verdict_of(original.members, kept=checkpoint)

        assert not verdict.intact, case
        assert words in (verdict.problem or ""), (case, verdict.problem)
    forger = Signer.generate()
    pinned = verdict_of(original.members, kept=kept, trusted_key=forger.public_key.hex())
    assert not pinned.intact and "not signed by the key you trust" in (pinned.problem or "")


# ------------------------------------------------------------------- bugs it has found


def evidence_in(blob: bytes) -> dict[str, bytes] | None:
    """What the verifier would read of a zip (None when any of it cannot be read)."""
    try:
        with zipfile.ZipFile(io.BytesIO(blob)) as opened:
            return {name: opened.read(name) for name in EVIDENCE}
    except Exception:  # any failure to read is a damaged bundle
        return None


FLIPS = 400


def test_raw_byte_flips_of_the_zip_are_caught_or_change_nothing(original, tmp_path):
    rng = random.Random(f"{SEED}:raw")
    before = evidence_in(original.zip_bytes)
    outcomes: Counter[str] = Counter()
    wrong: list[str] = []
    target = tmp_path / "flipped.zip"
    for _ in range(FLIPS):
        flipped = bytearray(original.zip_bytes)
        offset = rng.randrange(len(flipped))
        flipped[offset] ^= rng.randrange(1, 256)
        target.write_bytes(bytes(flipped))
        after = evidence_in(bytes(flipped))
        try:
            verdict = verify.verify_file(target, kept=original.kept)
        except Exception as error:  # the bug: the verifier must never crash on a bundle
            outcomes[f"crashed ({type(error).__name__})"] += 1
            wrong.append(f"offset {offset}: {type(error).__name__}: {error}")
            continue
        unchanged = after == before
        # A flip the zip format shrugs off (a timestamp, the README) changes nothing the
        # bundle says, and the bundle is still intact; any other flip must be caught.
        outcomes["unchanged, intact" if unchanged else "caught"] += 1
        if verdict.intact != unchanged:
            wrong.append(
                f"offset {offset}: intact={verdict.intact}, evidence unchanged={unchanged}"
            )
    print(f"\n{FLIPS} raw flips: {dict(outcomes)}")
    assert not wrong, f"{len(wrong)} of {FLIPS} flips misjudged, e.g. " + "; ".join(wrong[:3])


def numbered(o: Original, index: int, **changes: Any) -> dict[str, bytes]:
    records = copies(o)
    records[index] |= changes
    return with_records(o, records)


@pytest.mark.parametrize("field_name", ["position", "version"])
@pytest.mark.parametrize("value", [-1, 2**64])
def test_a_record_number_out_of_range_is_named_not_a_crash(original, field_name, value):
    verdict = verdict_of(numbered(original, 5, **{field_name: value}))

    assert not verdict.intact
    assert "#6," in (verdict.problem or "")


def test_withholding_a_record_that_is_never_confidential_is_caught(original):
    index = next(
        i for i, r in enumerate(original.records) if r["type"] == "MembershipApplicationDecided"
    )

    verdict = verdict_of(numbered(original, index, state=None, withheld=True), kept=original.kept)

    assert not verdict.intact
    assert verdict.bad_position == original.records[index]["position"]


def test_removing_the_earliest_checkpoint_is_caught(original):
    members = with_checkpoints(original, [dict(c) for c in original.checkpoints[1:]])

    assert not verdict_of(members).intact
