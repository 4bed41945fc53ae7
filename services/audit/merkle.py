"""The Merkle tree of a tenant's log, hashed as RFC 6962 (Certificate Transparency) says.

Each record of the log is a leaf, in log order. A leaf commits to the record exactly as it
was stored: its position, aggregate id, version, topic and a SHA-256 digest of its stored
bytes (so a record can be proved present, or withheld from a bundle, without showing its
content; encrypted personal data hashes as the ciphertext it is).

Only the standard library here: the offline verifier relies on this module, and an
auditor may reimplement it from RFC 6962 section 2.1 and `record_leaf` below.
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Sequence
from uuid import UUID

LEAF_PREFIX = b"\x00"
NODE_PREFIX = b"\x01"
RECORD_FORMAT = b"concord-record/1"


def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def record_leaf_data(
    position: int, aggregate_id: UUID, version: int, topic: str, state_digest: bytes
) -> bytes:
    """The bytes a record's leaf hashes: a fixed layout an auditor can rebuild.

    "concord-record/1" | position (8 bytes, big-endian) | aggregate id (16 bytes) |
    version (8 bytes, big-endian) | topic length (4 bytes, big-endian) | topic (UTF-8) |
    SHA-256 of the stored state (32 bytes).
    """
    topic_bytes = topic.encode()
    return b"".join(
        (
            RECORD_FORMAT,
            struct.pack(">Q", position),
            aggregate_id.bytes,
            struct.pack(">Q", version),
            struct.pack(">I", len(topic_bytes)),
            topic_bytes,
            state_digest,
        )
    )


_HEAD = struct.Struct(">Q16sQ")


def topic_field(topic: str) -> bytes:
    """The topic's part of a leaf's bytes: its length (4 bytes, big-endian) and UTF-8."""
    topic_bytes = topic.encode()
    return struct.pack(">I", len(topic_bytes)) + topic_bytes


def record_leaf_hash(
    position: int, aggregate_id: bytes, version: int, topic: bytes, state_digest: bytes
) -> bytes:
    """`leaf_hash(record_leaf_data(...))` in one step, for a verifier hashing millions:
    `aggregate_id` is the id's 16 bytes, `topic` is `topic_field(topic)`."""
    return hashlib.sha256(
        LEAF_PREFIX
        + RECORD_FORMAT
        + _HEAD.pack(position, aggregate_id, version)
        + topic
        + state_digest
    ).digest()


def record_leaf(position: int, aggregate_id: UUID, version: int, topic: str, state: bytes) -> bytes:
    """The leaf hash of one stored record."""
    return leaf_hash(record_leaf_data(position, aggregate_id, version, topic, sha256(state)))


def leaf_hash(data: bytes) -> bytes:
    return sha256(LEAF_PREFIX + data)


def node_hash(left: bytes, right: bytes) -> bytes:
    return sha256(NODE_PREFIX + left + right)


def _split(n: int) -> int:
    """The largest power of two smaller than n (n > 1)."""
    return 1 << ((n - 1).bit_length() - 1)


def root(leaves: Sequence[bytes]) -> bytes:
    """MTH(D[n]) over leaf hashes. The empty tree's root is SHA-256 of nothing."""
    if not leaves:
        return sha256(b"")
    level = list(leaves)
    # Pairing left to right and carrying an odd last node up unchanged builds the same
    # tree as RFC 6962's recursive split, without recursion.
    while len(level) > 1:
        paired = [node_hash(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            paired.append(level[-1])
        level = paired
    return level[0]


class Tree:
    """Every level of the tree of `leaves` (complete pairs only), built once: the root of
    any prefix, and consistency proofs, in O(log n) hashes each afterwards. The same
    values as `root` and `consistency_proof`, for a verifier checking many checkpoints."""

    def __init__(self, leaves: Sequence[bytes]) -> None:
        self.size = len(leaves)
        level = list(leaves)
        self.levels = [level]
        hasher = hashlib.sha256
        while len(level) > 1:
            level = [
                hasher(NODE_PREFIX + left + right).digest()
                for left, right in zip(level[0::2], level[1::2], strict=False)
            ]
            self.levels.append(level)

    def root(self, size: int | None = None, start: int = 0) -> bytes:
        """MTH of the `size` leaves from `start` (all of them by default). `start` must be
        a multiple of the largest power of two not above `size`, as every subtree RFC
        6962's split makes is."""
        size = self.size - start if size is None else size
        if not 0 <= size <= self.size - start:
            raise ValueError(f"a tree of {size} from leaf {start} is not in a tree of {self.size}")
        if size == 0:
            return sha256(b"")
        parts = []
        for height in range(size.bit_length() - 1, -1, -1):
            if size >> height & 1:
                assert start % (1 << height) == 0, (start, size)
                parts.append(self.levels[height][start >> height])
                start += 1 << height
        result = parts[-1]
        for part in reversed(parts[:-1]):
            result = node_hash(part, result)
        return result

    def consistency_proof(self, first_size: int, second_size: int | None = None) -> list[bytes]:
        """PROOF(m, D[n]) over the first `second_size` leaves (all by default)."""
        n = self.size if second_size is None else second_size
        if not 0 <= n <= self.size or not 0 <= first_size <= n:
            raise ValueError(f"a tree of {first_size} is not a prefix of a tree of {n}")
        if first_size in (0, n):
            return []
        return self._subproof(first_size, 0, n, complete=True)

    def _subproof(self, m: int, start: int, n: int, *, complete: bool) -> list[bytes]:
        if m == n:
            return [] if complete else [self.root(n, start)]
        k = _split(n)
        if m <= k:
            return [*self._subproof(m, start, k, complete=complete), self.root(n - k, start + k)]
        return [*self._subproof(m - k, start + k, n - k, complete=False), self.root(k, start)]


def inclusion_proof(index: int, leaves: Sequence[bytes]) -> list[bytes]:
    """PATH(m, D[n]): the audit path proving leaf `index` is in the tree of `leaves`."""
    if not 0 <= index < len(leaves):
        raise ValueError(f"leaf {index} is not in a tree of {len(leaves)}")
    if len(leaves) == 1:
        return []
    k = _split(len(leaves))
    if index < k:
        return [*inclusion_proof(index, leaves[:k]), root(leaves[k:])]
    return [*inclusion_proof(index - k, leaves[k:]), root(leaves[:k])]


def consistency_proof(first_size: int, leaves: Sequence[bytes]) -> list[bytes]:
    """PROOF(m, D[n]): proves the tree of the first `first_size` leaves is a prefix of
    the tree of all `leaves`."""
    if not 0 <= first_size <= len(leaves):
        raise ValueError(f"a tree of {first_size} is not a prefix of a tree of {len(leaves)}")
    if first_size in (0, len(leaves)):
        return []
    return _subproof(first_size, leaves, complete=True)


def _subproof(m: int, leaves: Sequence[bytes], *, complete: bool) -> list[bytes]:
    n = len(leaves)
    if m == n:
        return [] if complete else [root(leaves)]
    k = _split(n)
    if m <= k:
        return [*_subproof(m, leaves[:k], complete=complete), root(leaves[k:])]
    return [*_subproof(m - k, leaves[k:], complete=False), root(leaves[:k])]


def verify_inclusion(
    index: int, tree_size: int, leaf: bytes, proof: Sequence[bytes], expected_root: bytes
) -> bool:
    """RFC 9162 section 2.1.3.2."""
    if not 0 <= index < tree_size:
        return False
    fn, sn, r = index, tree_size - 1, leaf
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == expected_root


def verify_consistency(
    first_size: int,
    second_size: int,
    first_root: bytes,
    second_root: bytes,
    proof: Sequence[bytes],
) -> bool:
    """RFC 9162 section 2.1.4.2 (with the trivial cases: an empty first tree, equal sizes)."""
    if not 0 <= first_size <= second_size:
        return False
    if first_size == 0:
        return not proof
    if first_size == second_size:
        return not proof and first_root == second_root
    path = list(proof)
    if first_size & (first_size - 1) == 0:  # a power of two: the first root starts the path
        path.insert(0, first_root)
    if not path:
        return False
    fn, sn = first_size - 1, second_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return sn == 0 and fr == first_root and sr == second_root
