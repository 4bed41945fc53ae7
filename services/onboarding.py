"""Use cases of the national umbrella: onboard, suspend and reinstate alliances; the directory."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError

from domain.alliance import Alliance
from domain.amendments import Changes
from domain.errors import TenantAlreadyExists, TenantSuspended
from domain.offices import FoundingOfficer, found_offices
from domain.templates import template as template_named
from domain.tenant import Tenant, checked_start_date
from domain.terms import TermsOfReference
from domain.values import Role, checked_slug, checked_template, checked_text
from projections import alliance_profile, national_directory
from services.access import IssuedKey, issue_key
from services.errors import NotFound
from services.runtime import Runtime


@dataclass(frozen=True)
class Founding:
    """What an onboarding asks for beyond the registration: when the alliance starts, its
    first officers, and the changes made to its template before version 1 is adopted."""

    start_date: date | None = None
    officers: Sequence[FoundingOfficer] = ()
    changes: Changes | None = None


def onboard(
    runtime: Runtime,
    *,
    slug: str,
    name: str,
    region: str,
    template: str,
    by: str,
    founding: Founding | None = None,
) -> tuple[dict[str, Any], IssuedKey]:
    """Register an alliance, found its own store with version 1 of its ToR (the template,
    as modified by `founding.changes`, in force from the start date) and its first
    officers, and issue its first tenant-admin key.

    Everything is checked before anything is recorded: a refused start date, change or
    officer leaves neither the registration (which claims the slug) nor a store. The
    registry entry claims the slug (its id is derived from the slug, so a second claim
    fails). If a previous attempt stopped after the claim, this one finishes it.
    """
    founding = founding or Founding()
    with runtime.tracer.start_as_current_span("command.onboard_tenant"):
        checked_slug(slug)
        checked_template(template)
        checked_text(name, "name")
        checked_text(region, "region")
        today = runtime.clock().date()
        start = checked_start_date(founding.start_date or today, today)
        registration = Tenant(
            slug=slug, name=name, region=region, template=template, onboarded_by=by
        )
        founded = _founded(registration, founding, start)
        try:
            runtime.platform.record(registration)
        except IntegrityError:
            registration = runtime.platform.app.repository.get(Tenant.create_id(slug))
            if _is_founded(runtime, slug):
                raise TenantAlreadyExists(slug) from None
            # Finish the earlier claim as it was made (its template, its actor).
            founded = _founded(registration, founding, start)
        with runtime.tenant(slug, provision=True) as store:
            try:
                store.record(*founded)
            except IntegrityError:
                raise TenantAlreadyExists(slug) from None
        key = issue_key(
            runtime,
            tenant=slug,
            role=Role.TENANT_ADMIN,
            label="first tenant-admin key, issued at onboarding",
            issued_by=by,
        )
        return directory_entry(runtime, slug), key


def _founded(registration: Tenant, founding: Founding, start: date) -> list[Aggregate]:
    """The alliance's first records, built and checked but not yet recorded: the alliance,
    version 1 of its ToR, and an office roll per office its first officers hold."""
    chosen = template_named(registration.template)
    alliance = Alliance(
        slug=registration.slug,
        name=registration.name,
        region=registration.region,
        template=registration.template,
        founded_by=registration.onboarded_by,
    )
    # The template becomes version 1 of the ToR, recorded with the founding.
    terms = TermsOfReference.adopt(
        slug=registration.slug,
        template=chosen.name,
        clauses=chosen.clauses,
        rules=chosen.rules,
        effective_from=start,
        adopted_by=registration.onboarded_by,
        changes=founding.changes,
    )
    rolls = found_offices(
        terms.latest, founding.officers, starts_on=start, by=registration.onboarded_by
    )
    return [alliance, terms, *rolls]


def _is_founded(runtime: Runtime, slug: str) -> bool:
    try:
        with runtime.tenant(slug) as store:
            return Alliance.create_id(slug) in store.app.repository
    except NotFound:
        return False


def directory_entry(runtime: Runtime, slug: str) -> dict[str, Any]:
    """The alliance's entry in the national directory, or NotFound."""
    with runtime.platform.read() as sql:
        entry = national_directory.find(sql, slug)
    if entry is None:
        raise NotFound(f"no alliance with the slug {slug!r}")
    return entry


def directory_page(
    runtime: Runtime, *, after: str | None, limit: int, region: str | None, status: str | None
) -> list[dict[str, Any]]:
    with runtime.platform.read() as sql:
        return national_directory.page(sql, after=after, limit=limit, region=region, status=status)


def profile(runtime: Runtime, slug: str) -> dict[str, Any] | None:
    """What the alliance's own store says about it (None until its store is founded)."""
    try:
        with runtime.tenant(slug) as store, store.read() as sql:
            return alliance_profile.load(sql)
    except NotFound:
        return None


def ensure_active(runtime: Runtime, slug: str) -> None:
    """Refuse a change to a suspended alliance."""
    if directory_entry(runtime, slug)["status"] == national_directory.SUSPENDED:
        raise TenantSuspended(slug)


def suspend(runtime: Runtime, slug: str, *, reason: str, by: str) -> dict[str, Any]:
    with runtime.tracer.start_as_current_span("command.suspend_tenant"):
        directory_entry(runtime, slug)
        registration: Tenant = runtime.platform.app.repository.get(Tenant.create_id(slug))
        registration.suspend(reason=reason, by=by)
        runtime.platform.record(registration)
        return directory_entry(runtime, slug)


def reinstate(runtime: Runtime, slug: str, *, by: str) -> dict[str, Any]:
    with runtime.tracer.start_as_current_span("command.reinstate_tenant"):
        directory_entry(runtime, slug)
        registration: Tenant = runtime.platform.app.repository.get(Tenant.create_id(slug))
        registration.reinstate(by=by)
        runtime.platform.record(registration)
        return directory_entry(runtime, slug)
