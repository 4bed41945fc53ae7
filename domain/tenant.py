"""The platform's register of alliances: onboarding, suspension and reinstatement."""

from __future__ import annotations

from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.errors import TenantAlreadySuspended, TenantNotSuspended
from domain.values import natural_id


class Tenant(Aggregate):
    """An alliance as the national umbrella knows it: who, where, and whether it may act."""

    class Onboarded(Aggregate.Created):
        slug: str
        name: str
        region: str
        template: str
        onboarded_by: str

    class Suspended(Aggregate.Event):
        reason: str
        suspended_by: str

    class Reinstated(Aggregate.Event):
        reinstated_by: str

    @event(Onboarded)
    def __init__(self, slug: str, name: str, region: str, template: str, onboarded_by: str):
        self.slug = slug
        self.name = name
        self.region = region
        self.template = template
        self.onboarded_by = onboarded_by
        self.suspended = False

    @staticmethod
    def create_id(slug: str) -> UUID:
        return natural_id("tenant", slug)

    def suspend(self, *, reason: str, by: str) -> None:
        """Stop the alliance's writes; its records stay readable."""
        if self.suspended:
            raise TenantAlreadySuspended(self.slug)
        self._suspend(reason=reason, suspended_by=by)

    @event(Suspended)
    def _suspend(self, reason: str, suspended_by: str) -> None:
        self.suspended = True

    def reinstate(self, *, by: str) -> None:
        """Let a suspended alliance act again."""
        if not self.suspended:
            raise TenantNotSuspended(self.slug)
        self._reinstate(reinstated_by=by)

    @event(Reinstated)
    def _reinstate(self, reinstated_by: str) -> None:
        self.suspended = False
