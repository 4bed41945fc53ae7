"""The two shapes every tenant use case takes: a command under the ToR in force, or a read
of an existing alliance's projections."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from typing import TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import Aggregate

from domain.terms import TermsOfReference, Version
from infra.stores import Sql
from services.errors import NotFound
from services.onboarding import directory_entry, ensure_active
from services.runtime import Runtime, Store

A = TypeVar("A", bound=Aggregate)


@dataclass
class Command:
    """One command on one alliance: its store, the moment, its Terms of Reference and the
    version of them in force."""

    slug: str
    store: Store
    now: datetime
    charter: TermsOfReference
    terms: Version

    @property
    def today(self) -> date:
        return self.now.date()

    def get(self, kind: type[A], aggregate_id: str | UUID, what: str) -> A:
        """The aggregate of this kind with this id, or NotFound naming `what`."""
        found = self.find(kind, aggregate_id)
        if found is None:
            raise NotFound(f"no {what} {str(aggregate_id)!r} in this alliance")
        return found

    def find(self, kind: type[A], aggregate_id: str | UUID) -> A | None:
        uuid = as_uuid(aggregate_id)
        if uuid is None:
            return None
        try:
            found = self.store.app.repository.get(uuid)
        except AggregateNotFoundError:
            return None
        return found if isinstance(found, kind) else None

    def record(self, *aggregates: Aggregate) -> int:
        """Save the new events of these aggregates together (all or none)."""
        return self.store.record(*aggregates)


@contextmanager
def command(runtime: Runtime, slug: str, name: str) -> Iterator[Command]:
    """Run a command on an active alliance, checked against the ToR version in force now."""
    with runtime.tracer.start_as_current_span(f"command.{name}"):
        ensure_active(runtime, slug)
        now = runtime.clock()
        with runtime.tenant(slug) as store:
            charter: TermsOfReference = store.app.repository.get(TermsOfReference.create_id(slug))
            yield Command(
                slug=slug,
                store=store,
                now=now,
                charter=charter,
                terms=charter.in_force_at(now),
            )


@contextmanager
def views(runtime: Runtime, slug: str) -> Iterator[Sql]:
    """A read of an existing alliance's projections (NotFound for an unknown one)."""
    directory_entry(runtime, slug)
    with runtime.tenant(slug) as store, store.read() as sql:
        yield sql


def record_of(runtime: Runtime, slug: str, kind: type[A], aggregate_id: str, what: str) -> A:
    """One aggregate of an existing alliance, as its events make it (for reads that need
    the record itself rather than a projection, e.g. a recount)."""
    directory_entry(runtime, slug)
    uuid = as_uuid(aggregate_id)
    with runtime.tenant(slug) as store:
        try:
            found = store.app.repository.get(uuid) if uuid is not None else None
        except AggregateNotFoundError:
            found = None
    if not isinstance(found, kind):
        raise NotFound(f"no {what} {aggregate_id!r} in this alliance")
    return found


def rules_in_force(runtime: Runtime, slug: str) -> Version:
    """The ToR version in force now (for reads that compare the record with the rules)."""
    directory_entry(runtime, slug)
    with runtime.tenant(slug) as store:
        terms: TermsOfReference = store.app.repository.get(TermsOfReference.create_id(slug))
        return terms.in_force_at(runtime.clock())


def as_uuid(value: str | UUID) -> UUID | None:
    if isinstance(value, UUID):
        return value
    try:
        return UUID(value)
    except ValueError:
        return None
