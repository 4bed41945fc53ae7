"""Use cases for API keys: issue, revoke, list, and authenticate a bearer secret."""

from __future__ import annotations

from contextlib import suppress
from typing import Any
from uuid import UUID

import msgspec
from eventsourcing.persistence import IntegrityError

from domain.api_key import ApiKey
from domain.values import Role
from infra.keys import key_digest, new_key_secret
from projections import key_register
from services.errors import NotFound
from services.runtime import Runtime

PLATFORM_ACTOR = "platform"


class Principal(msgspec.Struct, frozen=True):
    """Who is calling: the key's id, its role, and its tenant (None for platform keys)."""

    key_id: str
    role: Role
    tenant: str | None
    #: The member organisation a member key speaks for, if any.
    member_id: str | None = None

    @property
    def actor(self) -> str:
        """How events record this caller: by key id, never by secret."""
        return f"key:{self.key_id}"


class IssuedKey(msgspec.Struct, frozen=True):
    key_id: str
    secret: str
    role: Role
    tenant: str | None
    label: str
    member_id: str | None = None


def issue_key(
    runtime: Runtime,
    *,
    tenant: str | None,
    role: Role,
    label: str,
    issued_by: str,
    member_id: str | None = None,
) -> IssuedKey:
    """Issue a new key; its secret is returned here and never again."""
    with runtime.tracer.start_as_current_span("command.issue_key"):
        secret = new_key_secret()
        key = ApiKey.issue(
            key_hash=key_digest(secret),
            tenant=tenant,
            role=role,
            label=label,
            issued_by=issued_by,
            member_id=member_id,
        )
        runtime.platform.record(key)
    return IssuedKey(
        key_id=str(key.id),
        secret=secret,
        role=role,
        tenant=tenant,
        label=label,
        member_id=member_id,
    )


def ensure_platform_key(runtime: Runtime, secret: str, *, label: str = "CONCORD_ADMIN_KEY") -> str:
    """Make sure a platform-admin key with exactly this secret exists. Idempotent."""
    digest = key_digest(secret)
    key_id = ApiKey.create_id(digest)
    if key_id in runtime.platform.app.repository:
        return str(key_id)
    key = ApiKey.issue(
        key_hash=digest,
        tenant=None,
        role=Role.PLATFORM_ADMIN,
        label=label,
        issued_by=PLATFORM_ACTOR,
    )
    with suppress(IntegrityError):  # another process recorded it first: same secret, same key
        runtime.platform.record(key)
    return str(key_id)


def revoke_key(runtime: Runtime, *, key_id: str, tenant: str | None, revoked_by: str) -> None:
    """Revoke a key of this tenant (or a platform key when tenant is None)."""
    with runtime.tracer.start_as_current_span("command.revoke_key"):
        row = _key_row(runtime, key_id)
        if row is None or row["tenant"] != tenant:
            raise NotFound(f"no key {key_id!r} here")
        key: ApiKey = runtime.platform.app.repository.get(_uuid(key_id))
        key.revoke(by=revoked_by)
        runtime.platform.record(key)


def list_keys(
    runtime: Runtime, tenant: str, *, after: str | None, limit: int
) -> list[dict[str, Any]]:
    with runtime.platform.read() as sql:
        return key_register.page_for_tenant(sql, tenant, after=after, limit=limit)


def find_key(runtime: Runtime, key_id: str) -> dict[str, Any] | None:
    return _key_row(runtime, key_id)


def authenticate(runtime: Runtime, secret: str) -> Principal | None:
    """The principal a bearer secret stands for, or None when it is unknown or revoked."""
    with runtime.tracer.start_as_current_span("auth.authenticate"), runtime.platform.read() as sql:
        row = key_register.by_digest(sql, key_digest(secret))
    if row is None or row["revoked"]:
        return None
    return Principal(
        key_id=row["key_id"],
        role=Role(row["role"]),
        tenant=row["tenant"],
        member_id=row["member_id"],
    )


def _key_row(runtime: Runtime, key_id: str) -> dict[str, Any] | None:
    if _uuid(key_id) is None:
        return None
    with runtime.platform.read() as sql:
        return key_register.find(sql, key_id)


def _uuid(value: str) -> UUID | None:
    try:
        return UUID(value)
    except ValueError:
        return None
