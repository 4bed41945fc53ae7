"""Service endpoints: health, and who the caller is."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get
from litestar.di import NamedDependency
from litestar.openapi import ResponseSpec

from services.access import Principal
from services.api import schemas
from services.runtime import Runtime


class MetaController(Controller):
    tags = ["Service"]

    @get(
        "/health",
        operation_id="health",
        sync_to_thread=True,
        exclude_from_auth=True,
        responses={
            503: ResponseSpec(
                data_container=schemas.Health,
                description="The store cannot be reached",
                generate_examples=False,
            )
        },
    )
    def health(self, runtime: NamedDependency[Runtime]) -> Response[schemas.Health]:
        """Whether the service can reach its store (503 when it cannot)."""
        try:
            runtime.backend.ping()
        except Exception as error:  # any failure to reach the store is "unavailable"
            body = schemas.Health(
                status="unavailable",
                store=runtime.backend.kind,
                reachable=False,
                detail=type(error).__name__,
            )
            return Response(body, status_code=503)
        return Response(schemas.Health(status="ok", store=runtime.backend.kind, reachable=True))

    @get(
        "/v1/me",
        operation_id="whoAmI",
        responses=schemas.problems(
            401,
        ),
    )
    async def me(self, request: Request[Principal, Any, Any]) -> schemas.WhoAmI:
        """The key you are calling with: its id, role and alliance (none for platform keys)."""
        user = request.user
        return schemas.WhoAmI(
            key_id=user.key_id, role=user.role.value, tenant=user.tenant, member_id=user.member_id
        )
