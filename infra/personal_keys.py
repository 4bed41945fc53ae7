"""Personal data sealed under one key per person, kept apart from the events.

Every `person` field of an event (at any depth), and every entry of a `people` list, is
stored as `{"sealed": <base64 nonce + AES-256-GCM ciphertext>, "key": <key id>}`. The key
belongs to the person: one random 256-bit key per *subject*, in the table `personal_keys`
of the alliance's view store (beside `sealing_keys`; never in the event log, never a read
model, so rebuilding projections leaves it alone). A subject is known by its *subject
reference*: HMAC-SHA256, under a random secret of the alliance (its *pepper*, in the table
`personal_pepper` of the same store), of the person's email in lower case, else of their
name case-folded with whitespace collapsed, else of a signatory's name. The same person
named again is sealed under the same key.

Erasing a person deletes their key (and has the store rewrite the table's files, so that
no old copy is left in them). The events are never rewritten, so the log's stored bytes,
and every proof built over them, stay as they were; from then on each field sealed under
the key reads as `{"erased": true}`.

Keys are cached in memory for `KEY_TTL` seconds per open store, so replaying a long log
costs one lookup per person, not per event. Erasing drops a key from this process's cache
at once; another process that has the key cached forgets it within `KEY_TTL` seconds, and
until then can still read (and seal new data under) a key that is gone.

A person field from before sealing (plain) reads as it was written: it cannot be erased
by deleting a key.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

import msgspec
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from eventsourcing.domain import DomainEventProtocol
from eventsourcing.persistence import Mapper, StoredEvent

from infra.stores import ViewStore

PERSON_FIELD = "person"
PEOPLE_FIELD = "people"
#: Seconds a process keeps a key (or the fact that it is gone) before asking the store again.
KEY_TTL = 30.0
#: Plain text is padded to a multiple of this, so a sealed field hardly says how long the
#: name or email in it was.
PADDING = 64
NONCE_BYTES = 12
TABLES = (
    "CREATE TABLE IF NOT EXISTS personal_keys ("
    " key_id TEXT PRIMARY KEY,"
    " subject_ref TEXT NOT NULL UNIQUE,"
    " secret TEXT NOT NULL,"
    " created_at TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS personal_pepper (id INTEGER PRIMARY KEY, pepper TEXT NOT NULL)",
)
KEY_TABLE = "personal_keys"
ERASED_PERSON: dict[str, Any] = {"erased": True}


class PersonalDataBroken(Exception):
    """A sealed person field does not open with its own key: the record was altered."""


class NoKeyring(Exception):
    """Personal data reached the store before its keyring was attached (a wiring bug):
    refused, rather than written in the clear."""


def normalised_name(text: str) -> str:
    """A name as people are matched by it: case-folded, whitespace collapsed."""
    return " ".join(text.casefold().split())


def normalised_email(text: str) -> str:
    return text.strip().lower()


def identity_of(person: dict[str, Any]) -> str | None:
    """What identifies the person a field names (None: it names nobody)."""
    email = person.get("email")
    if isinstance(email, str) and normalised_email(email):
        return "email:" + normalised_email(email)
    for field in ("name", "signatory_name"):
        value = person.get(field)
        if isinstance(value, str) and normalised_name(value):
            return "name:" + normalised_name(value)
    return None


def is_sealed(value: Any) -> bool:
    return (
        isinstance(value, dict)
        and set(value) == {"sealed", "key"}
        and isinstance(value["sealed"], str)
        and isinstance(value["key"], str)
    )


class PersonalKeys:
    """The keys of one alliance's people, in its view store, cached for a short while."""

    def __init__(
        self,
        views: ViewStore,
        *,
        ttl: float = KEY_TTL,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.views = views
        self.ttl = ttl
        self._clock = clock
        self._lock = threading.Lock()
        self._pepper: bytes | None = None
        #: key id -> (expires, cipher or None when the key is gone)
        self._by_id: dict[str, tuple[float, AESGCM | None]] = {}
        #: subject ref -> (expires, key id, cipher)
        self._by_subject: dict[str, tuple[float, str, AESGCM]] = {}
        with views.transaction(commit=True) as sql:
            for statement in TABLES:
                sql.execute(statement)

    # ------------------------------------------------------------------ subjects

    def pepper(self) -> bytes:
        """The alliance's secret for subject references (made on first use)."""
        if self._pepper is None:
            with self.views.transaction(commit=True) as sql:
                sql.execute(
                    "INSERT INTO personal_pepper (id, pepper) VALUES (1, ?)"
                    " ON CONFLICT (id) DO NOTHING",
                    (secrets.token_hex(32),),
                )
                row = sql.one("SELECT pepper FROM personal_pepper WHERE id = 1")
            assert row is not None
            self._pepper = bytes.fromhex(str(row["pepper"]))
        return self._pepper

    def subject_ref(self, identity: str) -> str:
        """The pseudonym of an identity (see `identity_of`)."""
        return hmac.new(self.pepper(), identity.encode("utf-8"), hashlib.sha256).hexdigest()

    def ref_of(self, person: dict[str, Any]) -> str | None:
        identity = identity_of(person)
        return None if identity is None else self.subject_ref(identity)

    # ------------------------------------------------------------------ keys

    def key_for_subject(self, subject_ref: str) -> tuple[str, AESGCM]:
        """The subject's key (made the first time the subject is named)."""
        now = self._clock()
        with self._lock:
            cached = self._by_subject.get(subject_ref)
        if cached is not None and cached[0] > now:
            return cached[1], cached[2]
        with self.views.transaction(commit=True) as sql:
            sql.execute(
                "INSERT INTO personal_keys (key_id, subject_ref, secret, created_at)"
                " VALUES (?, ?, ?, ?) ON CONFLICT (subject_ref) DO NOTHING",
                (
                    uuid4().hex,
                    subject_ref,
                    AESGCM.generate_key(bit_length=256).hex(),
                    datetime.now(UTC).isoformat(),
                ),
            )
            row = sql.one(
                "SELECT key_id, secret FROM personal_keys WHERE subject_ref = ?", (subject_ref,)
            )
        assert row is not None
        key_id, cipher = str(row["key_id"]), AESGCM(bytes.fromhex(str(row["secret"])))
        with self._lock:
            self._by_subject[subject_ref] = (now + self.ttl, key_id, cipher)
            self._by_id[key_id] = (now + self.ttl, cipher)
        return key_id, cipher

    def key(self, key_id: str) -> AESGCM | None:
        """The key with this id, or None once it has been destroyed."""
        now = self._clock()
        with self._lock:
            cached = self._by_id.get(key_id)
        if cached is not None and cached[0] > now:
            return cached[1]
        with self.views.transaction(commit=False) as sql:
            row = sql.one("SELECT secret FROM personal_keys WHERE key_id = ?", (key_id,))
        cipher = None if row is None else AESGCM(bytes.fromhex(str(row["secret"])))
        with self._lock:
            self._by_id[key_id] = (now + self.ttl, cipher)
        return cipher

    def subjects_of(self, key_ids: Sequence[str]) -> dict[str, str]:
        """key id -> subject ref, for those of these keys that still exist."""
        if not key_ids:
            return {}
        marks = ", ".join("?" for _ in key_ids)
        with self.views.transaction(commit=False) as sql:
            rows = sql.all(
                f"SELECT key_id, subject_ref FROM personal_keys WHERE key_id IN ({marks})",  # noqa: S608
                tuple(key_ids),
            )
        return {str(r["key_id"]): str(r["subject_ref"]) for r in rows}

    def keys_of_subjects(self, subject_refs: Sequence[str]) -> list[str]:
        """The ids of the keys these subjects still have."""
        if not subject_refs:
            return []
        marks = ", ".join("?" for _ in subject_refs)
        with self.views.transaction(commit=False) as sql:
            rows = sql.all(
                f"SELECT key_id FROM personal_keys WHERE subject_ref IN ({marks})",  # noqa: S608
                tuple(subject_refs),
            )
        return [str(r["key_id"]) for r in rows]

    def destroy(self, key_ids: Sequence[str]) -> int:
        """Delete these keys, leave no copy of them in the store's files, and forget them
        here at once. Returns how many existed."""
        if not key_ids:
            return 0
        marks = ", ".join("?" for _ in key_ids)
        with self.views.transaction(commit=True) as sql:
            found = sql.all(
                f"SELECT key_id, subject_ref FROM personal_keys WHERE key_id IN ({marks})",  # noqa: S608
                tuple(key_ids),
            )
            sql.execute(
                f"DELETE FROM personal_keys WHERE key_id IN ({marks})",  # noqa: S608
                tuple(key_ids),
            )
        gone = self._clock() + self.ttl
        with self._lock:
            for key_id in key_ids:
                self._by_id[key_id] = (gone, None)
            for row in found:
                self._by_subject.pop(str(row["subject_ref"]), None)
        self.views.purge(KEY_TABLE)
        return len(found)


# --------------------------------------------------------------------------- the mapper


class PersonalDataMapper(Mapper[UUID]):
    """eventsourcing's Mapper, sealing personal data on the way to the store and opening
    it (or showing it as erased) on the way back."""

    keyring: PersonalKeys | None = None

    def to_stored_event(self, domain_event: DomainEventProtocol[UUID]) -> StoredEvent:
        state = vars(domain_event)
        sealed = _walk(state, self._seal)
        if sealed is state:
            return super().to_stored_event(domain_event)
        twin = object.__new__(type(domain_event))
        object.__setattr__(twin, "__dict__", sealed)
        return super().to_stored_event(twin)

    def to_domain_event(self, stored_event: StoredEvent) -> DomainEventProtocol[UUID]:
        domain_event = super().to_domain_event(stored_event)
        if self._nothing_sealed(stored_event.state):
            return domain_event
        state = vars(domain_event)
        opened = _walk(state, self._open)
        if opened is not state:
            object.__setattr__(domain_event, "__dict__", opened)
        return domain_event

    def people_in(self, stored_event: StoredEvent) -> Iterator[tuple[str, str | None, Any]]:
        """Each person field of a stored event: (its path, its key id — None for a plain
        one from before sealing — and the person, opened or {"erased": true})."""
        state = self.stored_state(stored_event)
        for path, person in _people(state, ""):
            if is_sealed(person):
                yield path, person["key"], self._open(person)
            else:
                yield path, None, person

    def stored_state(self, stored_event: StoredEvent) -> Any:
        """The event's state as stored (persons still sealed)."""
        data = stored_event.state
        if self.cipher:
            data = self.cipher.decrypt(data)
        if self.compressor:
            data = self.compressor.decompress(data)
        return self.transcoder.decode(data)

    def _nothing_sealed(self, stored: Any) -> bool:
        """Whether the stored JSON cannot hold a sealed person field: no object key
        "sealed" is written in it (plainly: a key spelt with escapes needs a "\\u").
        Most events name nobody; they are then not walked at all."""
        return (
            type(stored) is bytes
            and not self.cipher
            and not self.compressor
            and b'"sealed"' not in stored
            and b"\\u" not in stored
        )

    def _keyring(self) -> PersonalKeys:
        if self.keyring is None:
            raise NoKeyring("this store's personal-data keyring is not attached")
        return self.keyring

    def _seal(self, person: dict[str, Any]) -> dict[str, Any]:
        if is_sealed(person):
            return person
        identity = identity_of(person)
        if identity is None:  # names nobody ({} or an erased marker): nothing to protect
            return person
        keyring = self._keyring()
        key_id, cipher = keyring.key_for_subject(keyring.subject_ref(identity))
        plain = msgspec.json.encode(person)
        padded = plain + b" " * (-len(plain) % PADDING)
        nonce = os.urandom(NONCE_BYTES)
        sealed = nonce + cipher.encrypt(nonce, padded, key_id.encode())
        return {"sealed": base64.b64encode(sealed).decode(), "key": key_id}

    def _open(self, person: dict[str, Any]) -> dict[str, Any]:
        if not is_sealed(person):
            return person
        key_id = person["key"]
        cipher = self._keyring().key(key_id)
        if cipher is None:
            return dict(ERASED_PERSON)
        raw = base64.b64decode(person["sealed"])
        try:
            padded = cipher.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], key_id.encode())
        except InvalidTag:
            raise PersonalDataBroken(
                f"a person field sealed under key {key_id} does not open with it"
            ) from None
        opened: dict[str, Any] = msgspec.json.decode(padded.rstrip(b" "))
        return opened


Transform = Callable[[dict[str, Any]], dict[str, Any]]


_CONTAINERS = (dict, list, tuple)


def _walk(value: Any, transform: Transform) -> Any:
    """The value with every person field transformed; the same object when none changed
    (a changed dict or list is a new plain one; nothing is copied until something
    changes, and values that hold nothing are passed over)."""
    if isinstance(value, dict):
        return _walk_dict(value, transform)
    if isinstance(value, list | tuple):
        return _walk_list(value, transform)
    return value


def _walk_dict(value: dict[Any, Any], transform: Transform) -> dict[Any, Any]:
    out: dict[Any, Any] | None = None
    for key, item in value.items():
        new: Any
        if key == PERSON_FIELD and isinstance(item, dict):
            new = transform(item)
        elif key == PEOPLE_FIELD and isinstance(item, list | tuple):
            new = _each_person(item, transform)
        elif isinstance(item, _CONTAINERS):
            new = _walk(item, transform)
        else:
            continue  # a scalar: nothing under it
        if new is not item:
            if out is None:
                out = dict(value)
            out[key] = new
    return value if out is None else out


def _walk_list(value: list[Any] | tuple[Any, ...], transform: Transform) -> Any:
    items: list[Any] | None = None
    for index, item in enumerate(value):
        if isinstance(item, _CONTAINERS):
            new = _walk(item, transform)
            if new is not item:
                if items is None:
                    items = list(value)
                items[index] = new
    if items is None:
        return value
    return type(value)(items) if isinstance(value, tuple) else items


def _each_person(people: list[Any] | tuple[Any, ...], transform: Transform) -> list[Any]:
    items = [transform(p) if isinstance(p, dict) else _walk(p, transform) for p in people]
    if all(new is old for new, old in zip(items, people, strict=True)):
        return list(people) if isinstance(people, tuple) else people
    return items


def _people(value: Any, path: str) -> Iterator[tuple[str, Any]]:
    """Every person field under a value, with its path (e.g. `items[0].people[1]`)."""
    if isinstance(value, dict):
        for key, item in value.items():
            here = f"{path}.{key}" if path else str(key)
            if key == PERSON_FIELD and isinstance(item, dict):
                if item:
                    yield here, item
            elif key == PEOPLE_FIELD and isinstance(item, list | tuple):
                for n, person in enumerate(item):
                    if isinstance(person, dict):
                        yield f"{here}[{n}]", person
            else:
                yield from _people(item, here)
    elif isinstance(value, list | tuple):
        for n, item in enumerate(value):
            yield from _people(item, f"{path}[{n}]")
