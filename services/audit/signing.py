"""Signed checkpoints: what one says, the exact bytes signed, and the Ed25519 key that signs.

A checkpoint says "the first `tree_size` records of this alliance's log have this Merkle
root". It is signed by the platform's checkpoint key; anyone holding the public key can
check it without the platform. No database and no network here: the offline verifier
relies on this module.
"""

from __future__ import annotations

import hashlib
import os
from datetime import datetime
from pathlib import Path

import msgspec
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

FORMAT = "concord-checkpoint/1"

#: Why a checkpoint was issued.
REASONS = (
    "on-demand",
    "schedule",
    "export",
    "minutes-approved",
    "election-closed",
    "terms-adopted",
)


class Checkpoint(msgspec.Struct, frozen=True, kw_only=True):
    """A signed tree head of one alliance's log."""

    format: str = FORMAT
    tenant: str
    #: How many records it covers: the first tree_size records in log order.
    tree_size: int
    #: RFC 6962 Merkle tree hash of those records' leaves, hex.
    root_hash: str
    #: The log position of the last record covered (0 for an empty log).
    last_position: int
    issued_at: datetime
    reason: str
    #: First 16 bytes of SHA-256 of the raw public key, hex.
    key_id: str
    #: The raw 32-byte Ed25519 public key, hex.
    public_key: str
    #: Ed25519 signature of `signed_message(checkpoint)`, hex.
    signature: str = ""


def signed_message(checkpoint: Checkpoint) -> bytes:
    """The exact bytes signed: one field a line, in this order, UTF-8, ending in a newline."""
    lines = (
        checkpoint.format,
        checkpoint.tenant,
        str(checkpoint.tree_size),
        checkpoint.root_hash,
        str(checkpoint.last_position),
        checkpoint.issued_at.isoformat(),
        checkpoint.reason,
        checkpoint.key_id,
    )
    return ("\n".join(lines) + "\n").encode()


def key_id(public_key: bytes) -> str:
    return hashlib.sha256(public_key).digest()[:16].hex()


def signature_problem(checkpoint: Checkpoint) -> str | None:
    """None when the checkpoint is well formed and its signature is good by its own
    public key; otherwise what is wrong. (Whether that key is one you trust is the
    caller's question.)"""
    if checkpoint.format != FORMAT:
        return f"unknown checkpoint format {checkpoint.format!r}"
    try:
        raw = bytes.fromhex(checkpoint.public_key)
        signature = bytes.fromhex(checkpoint.signature)
        public = Ed25519PublicKey.from_public_bytes(raw)
    except ValueError as error:
        return f"the checkpoint's key or signature is malformed ({error})"
    if key_id(raw) != checkpoint.key_id:
        return "the checkpoint's key id does not match its public key"
    try:
        public.verify(signature, signed_message(checkpoint))
    except InvalidSignature:
        return "the checkpoint's signature is not valid"
    return None


def encode(checkpoint: Checkpoint) -> bytes:
    return msgspec.json.format(msgspec.json.encode(checkpoint), indent=2) + b"\n"


def decode(data: bytes | str) -> Checkpoint:
    """A checkpoint from its JSON (msgspec.ValidationError / DecodeError when malformed)."""
    return msgspec.json.decode(data, type=Checkpoint)


class Signer:
    """The platform's checkpoint key."""

    def __init__(self, private_key: Ed25519PrivateKey) -> None:
        self._key = private_key
        self.public_key = private_key.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        self.key_id = key_id(self.public_key)

    def sign(self, unsigned: Checkpoint) -> Checkpoint:
        ready = msgspec.structs.replace(
            unsigned, key_id=self.key_id, public_key=self.public_key.hex(), signature=""
        )
        signature = self._key.sign(signed_message(ready))
        return msgspec.structs.replace(ready, signature=signature.hex())

    @classmethod
    def generate(cls) -> Signer:
        return cls(Ed25519PrivateKey.generate())

    @classmethod
    def from_file(cls, path: str | Path, *, create: bool) -> Signer:
        """The key in a PEM (PKCS#8) file; with `create`, made (mode 0600) when absent."""
        path = Path(path)
        if not path.exists():
            if not create:
                raise FileNotFoundError(f"no checkpoint signing key at {path}")
            path.parent.mkdir(parents=True, exist_ok=True)
            key = Ed25519PrivateKey.generate()
            pem = key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
            # O_EXCL: two processes starting together cannot both write a key.
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:
                return cls.from_file(path, create=False)
            with os.fdopen(fd, "wb") as out:
                out.write(pem)
            return cls(key)
        loaded = serialization.load_pem_private_key(path.read_bytes(), password=None)
        if not isinstance(loaded, Ed25519PrivateKey):
            raise ValueError(f"{path} does not hold an Ed25519 private key")
        return cls(loaded)
