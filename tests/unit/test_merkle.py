"""The Merkle tree against RFC 6962's definition and the Certificate Transparency test
vectors, and its proofs against RFC 9162's verification algorithms."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from hypothesis import given
from hypothesis import strategies as st

from services.audit import merkle

# The leaf inputs and tree heads of the Certificate Transparency reference tests.
CT_INPUTS = [
    b"",
    b"\x00",
    b"\x10",
    b"\x20\x21",
    b"\x30\x31",
    b"\x40\x41\x42\x43",
    b"\x50\x51\x52\x53\x54\x55\x56\x57",
    b"\x60\x61\x62\x63\x64\x65\x66\x67\x68\x69\x6a\x6b\x6c\x6d\x6e\x6f",
]
CT_ROOTS = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]


def reference_root(leaves: Sequence[bytes]) -> bytes:
    """MTH exactly as RFC 6962 section 2.1 writes it (recursive split)."""
    if not leaves:
        return merkle.sha256(b"")
    if len(leaves) == 1:
        return leaves[0]
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return merkle.node_hash(reference_root(leaves[:k]), reference_root(leaves[k:]))


def test_the_empty_tree_hashes_nothing() -> None:
    assert merkle.root([]).hex() == (
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    )


def test_tree_heads_match_the_certificate_transparency_vectors() -> None:
    leaves = [merkle.leaf_hash(data) for data in CT_INPUTS]
    for size, expected in enumerate(CT_ROOTS, start=1):
        assert merkle.root(leaves[:size]).hex() == expected, size


leaf_lists = st.lists(st.binary(min_size=1, max_size=8), min_size=1, max_size=70).map(
    lambda items: [merkle.leaf_hash(i) for i in items]
)


@given(leaf_lists)
def test_the_iterative_root_is_rfc_6962s_recursive_root(leaves: list[bytes]) -> None:
    assert merkle.root(leaves) == reference_root(leaves)


@given(leaf_lists, st.data())
def test_every_inclusion_proof_verifies_and_no_other_leaf_or_root_does(
    leaves: list[bytes], data: st.DataObject
) -> None:
    index = data.draw(st.integers(0, len(leaves) - 1))
    head = merkle.root(leaves)
    proof = merkle.inclusion_proof(index, leaves)
    assert merkle.verify_inclusion(index, len(leaves), leaves[index], proof, head)
    assert not merkle.verify_inclusion(index, len(leaves), merkle.sha256(b"x"), proof, head)
    wrong_root = merkle.sha256(b"y")
    assert not merkle.verify_inclusion(index, len(leaves), leaves[index], proof, wrong_root)
    if len(leaves) > 1:
        other = (index + 1) % len(leaves)
        if leaves[other] != leaves[index]:
            assert not merkle.verify_inclusion(other, len(leaves), leaves[index], proof, head)
        if proof:
            bent = [*proof]
            bent[0] = merkle.sha256(bent[0])
            assert not merkle.verify_inclusion(index, len(leaves), leaves[index], bent, head)


@given(leaf_lists, st.data())
def test_every_consistency_proof_verifies_and_a_rewritten_prefix_does_not(
    leaves: list[bytes], data: st.DataObject
) -> None:
    first = data.draw(st.integers(0, len(leaves)))
    proof = merkle.consistency_proof(first, leaves)
    old, new = merkle.root(leaves[:first]), merkle.root(leaves)
    assert merkle.verify_consistency(first, len(leaves), old, new, proof)
    if first > 0:
        rewritten = [*leaves]
        changed = data.draw(st.integers(0, first - 1))
        rewritten[changed] = merkle.sha256(rewritten[changed])
        forged = merkle.root(rewritten)
        # The new tree no longer extends the old one: no proof from it can say it does.
        assert not merkle.verify_consistency(
            first, len(leaves), old, forged, merkle.consistency_proof(first, rewritten)
        )
    if 0 < first < len(leaves):
        assert not merkle.verify_consistency(first, len(leaves), old, merkle.sha256(new), proof)


def test_a_record_leaf_commits_to_every_part_of_the_record() -> None:
    ident = UUID(int=7)
    base = merkle.record_leaf(3, ident, 1, "domain.x:X.Created", b"{}")
    assert merkle.record_leaf(4, ident, 1, "domain.x:X.Created", b"{}") != base
    assert merkle.record_leaf(3, UUID(int=8), 1, "domain.x:X.Created", b"{}") != base
    assert merkle.record_leaf(3, ident, 2, "domain.x:X.Created", b"{}") != base
    assert merkle.record_leaf(3, ident, 1, "domain.x:X.Changed", b"{}") != base
    assert merkle.record_leaf(3, ident, 1, "domain.x:X.Created", b"{ }") != base
