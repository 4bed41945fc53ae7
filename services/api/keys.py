"""An alliance's API keys: issue, list and revoke (tenant admins)."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, delete, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, QueryParameter

from domain.values import checked_tenant_role
from services import access, membership, onboarding
from services.access import Principal
from services.api import schemas
from services.api.auth import TENANT_ADMIN
from services.errors import NotFound
from services.runtime import Runtime

Limit = Annotated[int, QueryParameter(ge=1, le=200, description="Page size (1-200)")]


class KeyController(Controller):
    path = "/v1/tenants/{slug:str}/keys"
    tags = ["Keys"]
    guards = [TENANT_ADMIN]

    @post(
        "/",
        operation_id="issueKey",
        responses=schemas.problems(400, 401, 403, 404, 409, 413, 422),
        sync_to_thread=True,
        status_code=201,
    )
    def issue(
        self,
        request: Request[Principal, Any, Any],
        runtime: NamedDependency[Runtime],
        slug: FromPath[str],
        data: JSONBody[schemas.IssueKey],
    ) -> schemas.IssuedKeyOut:
        """Issue a key for this alliance. The secret is in this answer only: store it now."""
        onboarding.ensure_active(runtime, slug)
        if data.member_id is not None:
            membership.member(runtime, slug, data.member_id)  # NotFound for another's
        key = access.issue_key(
            runtime,
            tenant=slug,
            role=checked_tenant_role(data.role),
            label=data.label,
            issued_by=request.user.actor,
            member_id=data.member_id,
        )
        return schemas.IssuedKeyOut(
            id=key.key_id,
            secret=key.secret,
            tenant=key.tenant,
            role=key.role,
            label=key.label,
            member_id=key.member_id,
        )

    @get(
        "/",
        operation_id="listKeys",
        responses=schemas.problems(400, 401, 403, 404),
        sync_to_thread=True,
    )
    def list_keys(
        self,
        runtime: NamedDependency[Runtime],
        slug: FromPath[str],
        after: Annotated[str | None, QueryParameter(max_length=64)] = None,
        limit: Limit = 50,
    ) -> schemas.KeyPage:
        """This alliance's keys, revoked ones included (never their secrets)."""
        rows = access.list_keys(runtime, slug, after=after, limit=limit + 1)
        items = [schemas.key_out(row) for row in rows[:limit]]
        return schemas.KeyPage(items=items, next_after=items[-1].id if len(rows) > limit else None)

    @get(
        "/{key_id:str}",
        operation_id="getKey",
        responses=schemas.problems(401, 403, 404),
        sync_to_thread=True,
    )
    def detail(
        self, runtime: NamedDependency[Runtime], slug: FromPath[str], key_id: FromPath[str]
    ) -> schemas.KeyOut:
        """One of this alliance's keys."""
        row = access.find_key(runtime, key_id)
        if row is None or row["tenant"] != slug:
            raise NotFound(f"no key {key_id!r} in this alliance")
        return schemas.key_out(row)

    @delete(
        "/{key_id:str}",
        operation_id="revokeKey",
        responses=schemas.problems(401, 403, 404, 409),
        sync_to_thread=True,
        status_code=204,
    )
    def revoke(
        self,
        request: Request[Principal, Any, Any],
        runtime: NamedDependency[Runtime],
        slug: FromPath[str],
        key_id: FromPath[str],
    ) -> None:
        """Revoke a key at once. Allowed while the alliance is suspended: it only
        takes access away."""
        access.revoke_key(runtime, key_id=key_id, tenant=slug, revoked_by=request.user.actor)
