"""The alliance itself, as its own store records it: the first event of its history."""

from __future__ import annotations

from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.values import natural_id


class Alliance(Aggregate):
    """An alliance of organisations, founded from a governance template."""

    class Founded(Aggregate.Created):
        slug: str
        name: str
        region: str
        template: str
        founded_by: str

    @event(Founded)
    def __init__(self, slug: str, name: str, region: str, template: str, founded_by: str):
        self.slug = slug
        self.name = name
        self.region = region
        self.template = template
        self.founded_by = founded_by

    @staticmethod
    def create_id(slug: str) -> UUID:
        return natural_id("alliance", slug)
