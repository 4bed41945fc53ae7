"""Bearer-key authentication and the role guards.

Order of answers: no valid key -> 401; a key of another alliance -> 404, exactly as if
the alliance did not exist; a key without the role -> 403.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import anyio.to_thread
from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult

from domain.values import Role
from infra.rate_limits import TokenBuckets
from services import access, onboarding
from services.access import Principal
from services.errors import Forbidden, InvalidRequest, NotFound, RateLimited, Unauthenticated
from services.runtime import Runtime

Guard = Callable[[ASGIConnection[Any, Any, Any, Any], BaseRouteHandler], None]

PUBLIC_PATHS = ["^/health$", "^/schema", "^/v1/audit/signing-key$"]


class BearerKeyMiddleware(AbstractAuthenticationMiddleware):
    """Turns `Authorization: Bearer <key>` into the request's Principal."""

    async def authenticate_request(
        self, connection: ASGIConnection[Any, Any, Any, Any]
    ) -> AuthenticationResult:
        header = connection.headers.get("authorization", "")
        scheme, _, secret = header.partition(" ")
        if not header:
            raise Unauthenticated("send your API key as 'Authorization: Bearer <key>'")
        if scheme.lower() != "bearer" or not secret.strip():
            raise Unauthenticated("the Authorization header must read 'Bearer <key>'")
        runtime: Runtime = connection.app.state.runtime
        found = await anyio.to_thread.run_sync(access.authenticate, runtime, secret.strip())
        if found is None:
            raise Unauthenticated("this API key is not valid (unknown or revoked)")
        limits: RateLimits = connection.app.state.rate_limits
        limits.check(found)
        return AuthenticationResult(user=found, auth=found.key_id)


class RateLimits:
    """The per-key and per-alliance request budgets of this process."""

    def __init__(self, per_key: int, per_tenant: int) -> None:
        self.keys = TokenBuckets(per_key)
        self.tenants = TokenBuckets(per_tenant)

    def check(self, principal: Principal) -> None:
        """Take this request from the key's budget and its alliance's, or RateLimited."""
        wait = self.keys.take(principal.key_id)
        if wait is not None:
            raise RateLimited(
                f"this key made more than {self.keys.per_minute} requests in a minute; "
                f"retry in {wait} s",
                wait,
            )
        if principal.tenant is not None:
            wait = self.tenants.take(principal.tenant)
            if wait is not None:
                raise RateLimited(
                    f"the keys of this alliance made more than {self.tenants.per_minute} "
                    f"requests in a minute together; retry in {wait} s",
                    wait,
                )


def principal_of(connection: ASGIConnection[Any, Any, Any, Any]) -> Principal:
    user = connection.scope.get("user")
    if not isinstance(user, Principal):  # a route excluded from auth asked for a principal
        raise Unauthenticated("send your API key as 'Authorization: Bearer <key>'")
    return user


def allow(*roles: Role) -> Guard:
    """A guard letting through keys with one of these roles, on their own alliance only."""

    names = ", ".join(role.value for role in roles)

    def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        principal = principal_of(connection)
        slug = connection.path_params.get("slug")
        if slug is not None and principal.tenant is not None and principal.tenant != slug:
            raise NotFound(f"no alliance with the slug {slug!r}")
        if principal.role in roles:
            return
        if slug is not None and principal.tenant is None:
            # Platform admins may know which alliances exist: a missing one is a 404.
            onboarding.directory_entry(connection.app.state.runtime, slug)
        raise Forbidden(f"this needs a key with the role {names}; yours is {principal.role.value}")

    return guard


def acting_member(user: Principal, member_id: str | None, act: str) -> str:
    """The member organisation a call acts for: a member key's own (it may not name
    another); officers and tenant admins must name one."""
    if user.role is Role.MEMBER:
        if user.member_id is None:
            raise Forbidden(
                f"this member key speaks for no member organisation, so it cannot {act}"
            )
        if member_id is not None and member_id != user.member_id:
            raise Forbidden(f"a member key can {act} only for its own organisation")
        return user.member_id
    if member_id is None:
        raise InvalidRequest(f"name the member organisation (member_id) to {act} for")
    return member_id


def any_key(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """Any valid key, of any role or scope."""
    principal_of(connection)


PLATFORM_ADMIN = allow(Role.PLATFORM_ADMIN)
TENANT_ADMIN = allow(Role.TENANT_ADMIN)
ANYONE_OF_THE_TENANT = allow(Role.PLATFORM_ADMIN, *(r for r in Role if r.is_tenant_role))
LOG_READERS = allow(Role.TENANT_ADMIN, Role.AUDITOR)
TERMS_EDITORS = allow(Role.TENANT_ADMIN, Role.OFFICER)
#: Officers and tenant admins run the alliance's processes.
RUNNERS = allow(Role.TENANT_ADMIN, Role.OFFICER)
#: Who may read personal data and the whole record (auditors read, never change).
RECORD_READERS = allow(Role.TENANT_ADMIN, Role.OFFICER, Role.AUDITOR)
#: The representatives of an organisation: record readers, and that organisation's own key.
REPRESENTATIVE_READERS = allow(Role.TENANT_ADMIN, Role.OFFICER, Role.AUDITOR, Role.MEMBER)
