"""The platform's register of alliances: onboarding, suspension and reinstatement."""

from __future__ import annotations

from datetime import date
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.errors import DomainError, TenantAlreadySuspended, TenantNotSuspended
from domain.terms import add_months
from domain.values import natural_id

#: How far from the day of onboarding an alliance's start date may lie, either way: an
#: alliance that has met for a while is onboarded with the day its ToR first took effect,
#: one getting ready with the day it will; further than this is almost surely a typing
#: mistake (2062 for 2026), and would put its whole obligations calendar out of reach.
START_DATE_WITHIN_MONTHS = 12


class StartDateOutOfBounds(DomainError):
    """An alliance starts no more than a year before or after the day it is onboarded."""

    code = "start-date-out-of-bounds"

    def __init__(self, start: date, earliest: date, latest: date) -> None:
        super().__init__(
            f"start_date: {start.isoformat()} is out of bounds; an alliance onboarded today "
            f"starts between {earliest.isoformat()} and {latest.isoformat()} "
            f"({START_DATE_WITHIN_MONTHS} months either side of today)"
        )


def checked_start_date(start: date, today: date) -> date:
    """The start date, or StartDateOutOfBounds when it is more than
    START_DATE_WITHIN_MONTHS months from today."""
    earliest = add_months(today, -START_DATE_WITHIN_MONTHS)
    latest = add_months(today, START_DATE_WITHIN_MONTHS)
    if not earliest <= start <= latest:
        raise StartDateOutOfBounds(start, earliest, latest)
    return start


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
