"""Alliances on the platform: onboarding, the national directory, suspension."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec
from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from domain.amendments import Changes
from domain.offices import FoundingOfficer
from services import onboarding
from services.access import Principal
from services.api import schemas
from services.api.auth import ANYONE_OF_THE_TENANT, PLATFORM_ADMIN
from services.runtime import Runtime

Limit = Annotated[int, QueryParameter(ge=1, le=200, description="Page size (1-200)")]


def founding_of(data: schemas.OnboardTenant | schemas.FoundingFile) -> onboarding.Founding:
    """The founding details of an onboarding request (or of the CLI's --founding file), as
    the use case takes them."""
    changes = (
        None
        if data.changes is None
        else Changes(clauses=tuple(data.changes.clauses), rules=tuple(data.changes.rules))
    )
    return onboarding.Founding(
        start_date=data.start_date,
        officers=tuple(
            FoundingOfficer(
                office=o.office,
                organisation=o.organisation,
                person_name=o.person_name,
                decision_ref=o.decision_ref,
            )
            for o in data.officers
        ),
        changes=changes,
    )


class TenantController(Controller):
    path = "/v1/tenants"
    tags = ["Alliances"]

    @post(
        "/",
        operation_id="onboardTenant",
        responses=schemas.problems(400, 401, 403, 409, 413, 422),
        guards=[PLATFORM_ADMIN],
        sync_to_thread=True,
        status_code=201,
    )
    def onboard(
        self,
        request: Request[Principal, Any, Any],
        runtime: NamedDependency[Runtime],
        data: JSONBody[schemas.OnboardTenant],
    ) -> schemas.OnboardedOut:
        """Onboard an alliance: register it, found its own store with version 1 of its ToR
        (the template, or the template modified by `changes`, in force from `start_date`)
        and its first `officers`, and issue its first tenant-admin key (the secret is shown
        once, in this answer only). Nothing is recorded unless all of it is accepted."""
        entry, key = onboarding.onboard(
            runtime,
            slug=data.slug,
            name=data.name,
            region=data.region,
            template=data.template,
            by=request.user.actor,
            founding=founding_of(data),
        )
        return schemas.OnboardedOut(
            tenant=schemas.tenant_out(entry),
            admin_key=schemas.IssuedKeyOut(
                id=key.key_id, secret=key.secret, tenant=key.tenant, role=key.role, label=key.label
            ),
        )

    @get(
        "/",
        operation_id="listTenants",
        responses=schemas.problems(400, 401, 403),
        guards=[PLATFORM_ADMIN],
        sync_to_thread=True,
    )
    def directory(
        self,
        runtime: NamedDependency[Runtime],
        after: Annotated[str | None, QueryParameter(max_length=64)] = None,
        limit: Limit = 50,
        region: Annotated[str | None, QueryParameter(max_length=100)] = None,
        status: FromQuery[Literal["active", "suspended"] | None] = None,
    ) -> schemas.TenantPage:
        """The national directory: every alliance in slug order, a page at a time
        (pass the previous page's `next_after` as `after`)."""
        rows = onboarding.directory_page(
            runtime, after=after, limit=limit + 1, region=region, status=status
        )
        items = [schemas.tenant_out(row) for row in rows[:limit]]
        next_after = items[-1].slug if len(rows) > limit else None
        return schemas.TenantPage(items=items, next_after=next_after)

    @get(
        "/{slug:str}",
        operation_id="getTenant",
        responses=schemas.problems(401, 403, 404),
        guards=[ANYONE_OF_THE_TENANT],
        sync_to_thread=True,
    )
    def detail(
        self, runtime: NamedDependency[Runtime], slug: FromPath[str]
    ) -> schemas.TenantDetailOut:
        """One alliance: its directory entry, and its profile from its own store."""
        entry = onboarding.directory_entry(runtime, slug)
        profile = onboarding.profile(runtime, slug)
        return schemas.TenantDetailOut(
            tenant=schemas.tenant_out(entry),
            alliance=None
            if profile is None
            else msgspec.convert(profile, schemas.AllianceProfileOut, strict=False),
        )

    @post(
        "/{slug:str}/suspend",
        operation_id="suspendTenant",
        responses=schemas.problems(400, 401, 403, 404, 409, 413, 422),
        guards=[PLATFORM_ADMIN],
        sync_to_thread=True,
        status_code=200,
    )
    def suspend(
        self,
        request: Request[Principal, Any, Any],
        runtime: NamedDependency[Runtime],
        slug: FromPath[str],
        data: JSONBody[schemas.SuspendTenant],
    ) -> schemas.TenantOut:
        """Suspend an alliance: its records stay readable, every change is refused."""
        entry = onboarding.suspend(runtime, slug, reason=data.reason, by=request.user.actor)
        return schemas.tenant_out(entry)

    @post(
        "/{slug:str}/reinstate",
        operation_id="reinstateTenant",
        responses=schemas.problems(401, 403, 404, 409),
        guards=[PLATFORM_ADMIN],
        sync_to_thread=True,
        status_code=200,
    )
    def reinstate(
        self,
        request: Request[Principal, Any, Any],
        runtime: NamedDependency[Runtime],
        slug: FromPath[str],
    ) -> schemas.TenantOut:
        """Reinstate a suspended alliance, so it may act again."""
        entry = onboarding.reinstate(runtime, slug, by=request.user.actor)
        return schemas.tenant_out(entry)
