"""The verifier's fast paths give the same answers as the plain ones: the Merkle `Tree`
(every prefix root and consistency proof) against `root` and `consistency_proof`, the
one-step leaf hash against `leaf_hash(record_leaf_data(...))`, and the replay shared with a
second process (used for long logs) against the replay in one process, on an intact log
and on one whose replay fails."""

from __future__ import annotations

import io
import random
import zipfile
from collections import Counter
from uuid import UUID

import msgspec
import pytest

from infra.settings import Settings
from services.audit import bundle, merkle, verify
from services.demo import create_demo
from services.runtime import Runtime


def test_the_tree_gives_every_prefix_root_and_consistency_proof_as_the_reference_does():
    rng = random.Random(8)
    for n in [*range(0, 40), 63, 64, 65, 100]:
        leaves = [rng.randbytes(32) for _ in range(n)]
        tree = merkle.Tree(leaves)
        assert tree.root() == merkle.root(leaves)
        for m in range(n + 1):
            assert tree.root(m) == merkle.root(leaves[:m]), (n, m)
            assert tree.consistency_proof(m, n) == merkle.consistency_proof(m, leaves), (n, m)
            if m:
                assert tree.consistency_proof(m // 2, m) == merkle.consistency_proof(
                    m // 2, leaves[:m]
                )
    with pytest.raises(ValueError):
        merkle.Tree([b"x" * 32]).consistency_proof(2, 1)


def test_the_one_step_leaf_hash_is_the_leaf_of_the_record():
    rng = random.Random(9)
    for topic in ("domain.membership:Member.Admitted", "", "é:ü.x"):
        position, version = rng.randrange(1, 2**63), rng.randrange(1, 2**63)
        aggregate, digest = UUID(bytes=rng.randbytes(16)), rng.randbytes(32)
        assert merkle.record_leaf_hash(
            position, aggregate.bytes, version, merkle.topic_field(topic), digest
        ) == merkle.leaf_hash(merkle.record_leaf_data(position, aggregate, version, topic, digest))


@pytest.fixture(scope="module")
def events(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    runtime = Runtime(Settings(data_dir=str(tmp_path_factory.mktemp("parallel") / "var")))
    try:
        create_demo(
            runtime, slug="parallel-alliance", name="P", template="kinship-care", region="K"
        )
        data, _ = bundle.export_bytes(runtime, "parallel-alliance", confidential=False)
    finally:
        runtime.close()
    with zipfile.ZipFile(io.BytesIO(data)) as opened:
        return opened.read("events.jsonl")


def shared(events: bytes) -> tuple[int, list[verify.BundleRecord]]:
    """Replay the way a long log is replayed: the helper process takes its share."""
    records = verify._records(events)
    helper = verify._Helper()
    helper._share = 50
    helper._process = None
    try:
        original, verify.PARALLEL_FROM = verify.PARALLEL_FROM, 1
        try:
            helper.start(events)
        finally:
            verify.PARALLEL_FROM = original
        assert helper._process is not None, "the helper process did not start"
        keep = verify._Keep(helper=False, share=50)
        try:
            made = verify._replay(records, {}, keep)
        except verify.Broken:
            made = -1
        answer = helper._answer()
        assert answer is not None and answer[0] in ("ok", "broken"), answer
        if made < 0 or answer[0] == "broken":
            return -1, records
        # Both sides replayed the whole log between them, each aggregate on one side.
        assert answer[2] == keep.refused and 0 < keep.refused < len(records)
        return made + int(answer[1]), records
    finally:
        helper.close()


def test_an_intact_log_shared_with_a_second_process_replays_as_in_one(events):
    made, records = shared(events)

    assert made == verify._replay(records) > 1


def test_a_log_that_does_not_replay_is_caught_by_either_side(events):
    records = msgspec.json.decode(events.splitlines()[0])  # a sanity check of the format
    assert "aggregate_id" in records
    decoded = verify._records(events)
    versions = Counter(r.aggregate_id for r in decoded)
    # A middle record of each of several aggregates removed: the sequence breaks on
    # whichever side replays that aggregate.
    for aggregate in [a for a, n in versions.items() if n >= 3][:6]:
        lines = events.splitlines()
        index = next(
            i for i, r in enumerate(decoded) if r.aggregate_id == aggregate and r.version == 2
        )
        cut = b"".join(line + b"\n" for n, line in enumerate(lines) if n != index)
        made, cut_records = shared(cut)
        with pytest.raises(verify.Broken) as one_process:
            verify._replay(cut_records)

        assert made == -1
        assert "breaks its aggregate's sequence" in one_process.value.problem


def test_verifying_a_bundle_in_two_processes_gives_the_one_process_verdict(tmp_path, monkeypatch):
    runtime = Runtime(Settings(data_dir=str(tmp_path / "var")))
    try:
        create_demo(runtime, slug="two-process", name="T", template="kinship-care", region="K")
        path = tmp_path / "bundle.zip"
        with path.open("wb") as out:
            bundle.export(runtime, "two-process", out, confidential=False)
    finally:
        runtime.close()
    alone = verify.verify_file(path)
    monkeypatch.setattr(verify, "PARALLEL_FROM", 1)
    both = verify.verify_file(path)

    assert alone.intact and both.intact
    assert both == alone
