"""Who, inside an alliance, may read its confidential minutes: a setting of the alliance,
by role. Never the public, never the platform's national directory."""

from __future__ import annotations

from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.errors import UnknownRole
from domain.values import TENANT_ROLES, Role, natural_id

#: Until the alliance says otherwise: those who run it.
DEFAULT_READERS = (Role.TENANT_ADMIN.value, Role.OFFICER.value)


class ConfidentialityPolicy(Aggregate):
    """The roles that may read confidential minutes and actions (one per alliance)."""

    class Set(Aggregate.Created):
        slug: str
        readers: list[str]
        by: str

    class Changed(Aggregate.Event):
        readers: list[str]
        by: str

    @staticmethod
    def create_id(slug: str) -> UUID:
        return natural_id("confidentiality", slug)

    @classmethod
    def first(cls, slug: str, *, readers: list[str], by: str) -> ConfidentialityPolicy:
        return cls(slug=slug, readers=_checked(readers), by=by)

    @event(Set)
    def __init__(self, slug: str, readers: list[str], by: str) -> None:
        self.readers = readers

    def change(self, *, readers: list[str], by: str) -> None:
        self._change(readers=_checked(readers), by=by)

    @event(Changed)
    def _change(self, readers: list[str], by: str) -> None:
        self.readers = readers


def _checked(readers: list[str]) -> list[str]:
    known = [role.value for role in TENANT_ROLES]
    for name in readers:
        if name not in known:
            raise UnknownRole(name, known)
    return sorted(set(readers))
