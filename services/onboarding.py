"""Use cases of the national umbrella: onboard, suspend and reinstate alliances; the directory."""

from __future__ import annotations

from typing import Any

from eventsourcing.persistence import IntegrityError

from domain.alliance import Alliance
from domain.errors import TenantAlreadyExists, TenantSuspended
from domain.templates import template as template_named
from domain.tenant import Tenant
from domain.terms import TermsOfReference
from domain.values import Role, checked_slug, checked_template, checked_text
from projections import alliance_profile, national_directory
from services.access import IssuedKey, issue_key
from services.errors import NotFound
from services.runtime import Runtime


def onboard(
    runtime: Runtime, *, slug: str, name: str, region: str, template: str, by: str
) -> tuple[dict[str, Any], IssuedKey]:
    """Register an alliance, found its own store with version 1 of its ToR (from the
    template), and issue its first tenant-admin key.

    The registry entry claims the slug (its id is derived from the slug, so a second
    claim fails). If a previous attempt stopped after the claim, this one finishes it.
    """
    with runtime.tracer.start_as_current_span("command.onboard_tenant"):
        checked_slug(slug)
        checked_template(template)
        checked_text(name, "name")
        checked_text(region, "region")
        registration = Tenant(
            slug=slug, name=name, region=region, template=template, onboarded_by=by
        )
        try:
            runtime.platform.record(registration)
        except IntegrityError:
            registration = runtime.platform.app.repository.get(Tenant.create_id(slug))
            if _is_founded(runtime, slug):
                raise TenantAlreadyExists(slug) from None
        chosen = template_named(registration.template)
        with runtime.tenant(slug, provision=True) as store:
            alliance = Alliance(
                slug=slug,
                name=registration.name,
                region=registration.region,
                template=registration.template,
                founded_by=registration.onboarded_by,
            )
            # The template becomes version 1 of the ToR, recorded with the founding.
            terms = TermsOfReference.adopt(
                slug=slug,
                template=chosen.name,
                clauses=chosen.clauses,
                rules=chosen.rules,
                effective_from=runtime.clock().date(),
                adopted_by=registration.onboarded_by,
            )
            try:
                store.record(alliance, terms)
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
