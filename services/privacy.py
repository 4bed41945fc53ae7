"""Use cases of people's data rights (UK GDPR): what the alliance holds about a person
(subject access), erasure on request, and the retention holds that can refuse it.

A person is asked for by name and/or email. Matching is done on the record itself: every
person field of the alliance's log is opened and compared, normalised (emails in lower
case; names case-folded, whitespace collapsed). A field matches when its email is the one
given, or when it names the name given — unless both it and the request carry an email and
they differ (a namesake). Erasing deletes the keys of every matching field's subject
(infra/personal_keys.py), then rebuilds the alliance's read models so none keeps a name,
and has the store rewrite the files of the tables that held names.

Every request and hold is recorded in the alliance's `DataSubjectRequests` register
(domain/privacy.py), which names people only by their subject references.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import msgspec
from eventsourcing.application import AggregateNotFoundError

from domain.privacy import DataSubjectRequests, Erasure, Hold
from infra.personal_keys import (
    PersonalDataMapper,
    PersonalKeys,
    identity_of,
    normalised_email,
    normalised_name,
)
from infra.stores import LOG_PAGE
from services import idempotency
from services.errors import InvalidRequest, NotFound
from services.event_log import event_type
from services.onboarding import directory_entry
from services.runtime import Runtime, Store

#: The read-model tables that name people, and their columns that do (names, emails).
PERSONAL_TABLES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "members": (("person_name",), ()),
    "representatives": (("name",), ("email",)),
    "applications": (("person_name", "signatory_name"), ()),
    "office_holdings": (("person_name",), ()),
    "body_seats": (("person_name",), ()),
    "election_candidates": (("person_name",), ()),
}
#: Minutes name people inside their items (and their public version).
MINUTES_TABLE = "minutes"

#: Ids and counts only: a log line never names the person.
log = logging.getLogger("concord.privacy")


# ----------------------------------------------------------------------------- the person


@dataclass(frozen=True)
class Wanted:
    """The person asked for, normalised."""

    name: str | None
    email: str | None

    def identities(self) -> list[str]:
        return identities_of({"name": self.name, "email": None}) + identities_of(
            {"email": self.email}
        )

    def matches(self, person: dict[str, Any]) -> bool:
        """Whether a person field (or read-model row) is about this person."""
        email = person.get("email")
        theirs = normalised_email(email) if isinstance(email, str) else ""
        if self.email and theirs == self.email:
            return True
        names = {
            normalised_name(v)
            for k in ("name", "signatory_name", "person_name")
            if isinstance(v := person.get(k), str)
        }
        if not self.name or self.name not in names:
            return False
        return not (self.email and theirs and theirs != self.email)

    def owns(self, person: dict[str, Any]) -> bool:
        """Whether a person field is sealed under this person's own identity (so that
        deleting their key erases it, and nobody else's data with it)."""
        identity = identity_of(person)
        if identity is None:
            return False
        kind, _, value = identity.partition(":")
        if kind == "email" and self.email:
            return value == self.email
        if kind == "email":  # asked by name alone: the record's own name decides
            name = person.get("name")
            return isinstance(name, str) and normalised_name(name) == self.name
        return value == self.name


def identities_of(person: dict[str, Any]) -> list[str]:
    found = identity_of(person)
    return [] if found is None else [found]


def wanted(name: str | None, email: str | None) -> Wanted:
    """The person a request names: by name, by email, or both."""
    who = Wanted(
        name=normalised_name(name) if name and normalised_name(name) else None,
        email=normalised_email(email) if email and normalised_email(email) else None,
    )
    if who.name is None and who.email is None:
        raise InvalidRequest("name the person: give their name, their email, or both")
    return who


def _reason_names_nobody(reason: str, who: Wanted) -> None:
    """A reason stays on the record after the erasure, in the clear: it must not name the
    person it is about."""
    text = normalised_name(reason)
    if (who.name and who.name in text) or (who.email and who.email in text.lower()):
        raise InvalidRequest(
            "the reason must not name the person or give their email: it stays on the "
            "record, in the clear, after their data is erased"
        )


# ----------------------------------------------------------------------------- finding them


@dataclass(frozen=True)
class Mention:
    """One person field of the log that is about the person asked for."""

    position: int
    type: str
    aggregate_id: str
    field: str
    #: None for a field recorded before personal data was sealed (it cannot be erased).
    key_id: str | None
    data: dict[str, Any]
    #: Sealed under the person's own key: erasing them erases it.
    erasable: bool


@dataclass
class Subject:
    """Everything the log holds about a person, and the keys and pseudonyms it is under."""

    mentions: list[Mention] = field(default_factory=list)
    key_ids: list[str] = field(default_factory=list)
    refs: list[str] = field(default_factory=list)

    @property
    def left(self) -> int:
        """Fields naming the person that deleting their keys does not erase."""
        return sum(1 for m in self.mentions if not m.erasable)


def _keyring(store: Store) -> tuple[PersonalDataMapper, PersonalKeys]:
    mapper = store.app.mapper
    assert isinstance(mapper, PersonalDataMapper) and mapper.keyring is not None
    return mapper, mapper.keyring


def _mentions(store: Store, who: Wanted) -> Iterator[Mention]:
    mapper, _ = _keyring(store)
    after = 0
    while True:
        page = store.app.recorder.select_notifications(start=after + 1, limit=LOG_PAGE)
        for notification in page:
            for path, key_id, person in mapper.people_in(notification):
                if who.matches(person):
                    yield Mention(
                        position=notification.id,
                        type=event_type(notification.topic),
                        aggregate_id=str(notification.originator_id),
                        field=path,
                        key_id=key_id,
                        data=person,
                        erasable=key_id is not None and who.owns(person),
                    )
        if len(page) < LOG_PAGE:
            return
        after = page[-1].id


def find_subject(store: Store, who: Wanted) -> Subject:
    """The person's fields in the log, their keys and their subject references (those of
    the identities asked for, and those their own fields are sealed under)."""
    _, keyring = _keyring(store)
    mentions = list(_mentions(store, who))
    asked = [keyring.subject_ref(i) for i in who.identities()]
    sealed = sorted({m.key_id for m in mentions if m.erasable and m.key_id is not None})
    refs = set(asked) | set(keyring.subjects_of(sealed).values())
    keys = set(sealed) | set(keyring.keys_of_subjects(sorted(refs)))
    return Subject(mentions=mentions, key_ids=sorted(keys), refs=sorted(refs))


def _read_model_rows(store: Store, who: Wanted) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    with store.read() as sql:
        for table, (names, emails) in PERSONAL_TABLES.items():
            columns = names + emails
            where = " OR ".join(f"{c} IS NOT NULL" for c in columns)
            for row in sql.all(f"SELECT * FROM {table} WHERE {where}"):  # noqa: S608
                person = {"email": row[emails[0]] if emails else None}
                person |= {
                    k: row[c] for k, c in zip(("name", "signatory_name"), names, strict=False)
                }
                if who.matches(person):
                    found.append({"table": table, "row": row})
        rows = sql.all(f"SELECT minutes_id, items, public FROM {MINUTES_TABLE}")  # noqa: S608
    for row in rows:
        found += _minutes_mentions(row, who)
    return found


def _minutes_mentions(row: dict[str, Any], who: Wanted) -> list[dict[str, Any]]:
    found = []
    for column in ("items", "public"):
        text = row[column]
        if text is None:
            continue
        decoded = msgspec.json.decode(text)
        items = decoded if column == "items" else decoded["items"]
        for item in items:
            for person in item.get("people") or []:
                if who.matches(person):
                    found.append(
                        {
                            "table": MINUTES_TABLE,
                            "row": {
                                "minutes_id": row["minutes_id"],
                                "column": column,
                                "item_id": item.get("item_id"),
                                "person": person,
                            },
                        }
                    )
    return found


# ----------------------------------------------------------------------------- the register


@contextmanager
def _on_record(runtime: Runtime, slug: str, name: str) -> Iterator[tuple[Store, datetime]]:
    """A privacy act on an existing alliance. A suspended alliance still answers its
    people's rights, so this does not refuse one."""
    with runtime.tracer.start_as_current_span(f"command.{name}"):
        directory_entry(runtime, slug)
        now = runtime.clock()
        with runtime.tenant(slug) as store:
            yield store, now


def _register(store: Store, slug: str) -> DataSubjectRequests:
    try:
        found: Any = store.app.repository.get(DataSubjectRequests.create_id(slug))
    except AggregateNotFoundError:
        return DataSubjectRequests.open(slug)
    assert isinstance(found, DataSubjectRequests)
    return found


def erasure_out(erasure: Erasure) -> dict[str, Any]:
    return {
        "request_id": erasure.request_id,
        "status": erasure.status,
        "subject_refs": list(erasure.subject_refs),
        "reason": erasure.reason,
        "requested_by": erasure.requested_by,
        "requested_at": erasure.requested_at,
        "hold_ids": list(erasure.hold_ids),
        "keys_destroyed": erasure.keys_destroyed,
        "fields_left": erasure.fields_left,
        "decided_at": erasure.decided_at,
    }


def hold_out(hold: Hold, today: date) -> dict[str, Any]:
    lifted = hold.lifted or {}
    return {
        "hold_id": hold.hold_id,
        "subject_refs": list(hold.subject_refs),
        "reason": hold.reason,
        "until": hold.until,
        "placed_by": hold.placed_by,
        "placed_at": hold.placed_at,
        "active": hold.active_on(today),
        "lifted_by": lifted.get("by"),
        "lifted_at": lifted.get("at"),
        "lift_reason": lifted.get("reason"),
    }


# ----------------------------------------------------------------------------- use cases


def subject_access(
    runtime: Runtime, slug: str, *, name: str | None, email: str | None
) -> dict[str, Any]:
    """Everything the alliance holds about a person: each event field (opened), each
    read-model row, and the erasures and holds recorded about them."""
    who = wanted(name, email)
    with runtime.tracer.start_as_current_span("read.subject_access"):
        directory_entry(runtime, slug)
        today = runtime.clock().date()
        with runtime.tenant(slug) as store:
            subject = find_subject(store, who)
            rows = _read_model_rows(store, who)
            register = _register(store, slug)
    if not subject.mentions and not rows:
        raise NotFound("this alliance holds no personal data about this person")
    return {
        "subject_refs": subject.refs,
        "events": [
            {
                "position": m.position,
                "type": m.type,
                "aggregate_id": m.aggregate_id,
                "field": m.field,
                "sealed": m.key_id is not None,
                "erasable": m.erasable,
                "data": m.data,
            }
            for m in subject.mentions
        ],
        "read_models": rows,
        "erasures": [
            erasure_out(e)
            for e in register.erasures.values()
            if not set(e.subject_refs).isdisjoint(subject.refs)
        ],
        "holds": [hold_out(h, today) for h in register.holds.values() if h.covers(subject.refs)],
    }


def erase(
    runtime: Runtime,
    slug: str,
    *,
    name: str | None,
    email: str | None,
    reason: str,
    by: str,
) -> dict[str, Any]:
    """Erase a person's data: record the request (refused, on the record, under a hold in
    force), delete their keys, record the completion, then rebuild the read models so none
    keeps their name."""
    who = wanted(name, email)
    _reason_names_nobody(reason, who)
    with _on_record(runtime, slug, "request_erasure") as (store, now):
        subject = find_subject(store, who)
        register = _register(store, slug)
        request_id = _erasure_to_complete(store, register, subject, reason, by, now)
        _, keyring = _keyring(store)
        destroyed = keyring.destroy(subject.key_ids)
        register.complete_erasure(
            request_id, keys_destroyed=destroyed, fields_left=subject.left, by=by, now=now
        )
        store.record(register)
        _forget_read_models(store)
        # Answers kept for Idempotency-Key replays may quote the person: forget them all.
        idempotency.forget_answers(runtime, slug)
        log.info("erasure %s completed: %d key(s) destroyed", request_id, destroyed)
        return erasure_out(register.erasures[request_id])


def _erasure_to_complete(
    store: Store,
    register: DataSubjectRequests,
    subject: Subject,
    reason: str,
    by: str,
    now: datetime,
) -> str:
    """The request this erasure completes: a new one, or one whose keys were destroyed
    but whose completion was never recorded (asking again finishes it)."""
    pending = register.pending_erasure(subject.refs)
    if pending is not None and not register.holds_covering(subject.refs, now.date()):
        return pending.request_id
    if not subject.key_ids and not subject.mentions:
        raise NotFound("this alliance holds no personal data about this person")
    request_id = register.request_erasure(subject_refs=subject.refs, reason=reason, by=by, now=now)
    store.record(register)
    refused = register.refusal(request_id)
    if refused is not None:
        log.info("erasure %s refused under retention hold(s)", request_id)
        raise refused
    return request_id


def _forget_read_models(store: Store) -> None:
    """Rebuild every read model from the log (erased people now read as erased), then
    have the store rewrite the files of the tables that held names."""
    store.runner.rebuild()
    for table in (*PERSONAL_TABLES, MINUTES_TABLE):
        store.views.purge(table)


def place_hold(
    runtime: Runtime,
    slug: str,
    *,
    name: str | None,
    email: str | None,
    reason: str,
    until: date | None,
    by: str,
) -> dict[str, Any]:
    """Hold a person's data against erasure (e.g. for safeguarding)."""
    who = wanted(name, email)
    _reason_names_nobody(reason, who)
    with _on_record(runtime, slug, "place_retention_hold") as (store, now):
        subject = find_subject(store, who)
        if not subject.mentions:
            raise NotFound("this alliance holds no personal data about this person")
        register = _register(store, slug)
        hold_id = register.place_hold(
            subject_refs=subject.refs, reason=reason, until=until, by=by, now=now
        )
        store.record(register)
        return hold_out(register.holds[hold_id], now.date())


def lift_hold(runtime: Runtime, slug: str, hold_id: str, *, reason: str, by: str) -> dict[str, Any]:
    """Lift a retention hold: the person's data may be erased again on request."""
    with _on_record(runtime, slug, "lift_retention_hold") as (store, now):
        register = _register(store, slug)
        if hold_id not in register.holds:
            raise NotFound(f"no retention hold {hold_id!r} in this alliance")
        register.lift_hold(hold_id, reason=reason, by=by, now=now)
        store.record(register)
        return hold_out(register.holds[hold_id], now.date())


def erasures(runtime: Runtime, slug: str) -> list[dict[str, Any]]:
    """Every erasure request, oldest first (pseudonyms only: no personal data)."""
    register = _read_register(runtime, slug)
    return [] if register is None else [erasure_out(e) for e in register.erasures.values()]


def holds(runtime: Runtime, slug: str) -> list[dict[str, Any]]:
    """Every retention hold, oldest first, and whether it applies today."""
    register = _read_register(runtime, slug)
    today = runtime.clock().date()
    return [] if register is None else [hold_out(h, today) for h in register.holds.values()]


def _read_register(runtime: Runtime, slug: str) -> DataSubjectRequests | None:
    """The register, as its events make it (a short record, replayed on purpose, like
    the audit reads)."""
    directory_entry(runtime, slug)
    with runtime.tenant(slug) as store:
        try:
            found: Any = store.app.repository.get(DataSubjectRequests.create_id(slug))
        except AggregateNotFoundError:
            return None
    assert isinstance(found, DataSubjectRequests)
    return found
