"""API keys: who may act, on which alliance (or the platform), in which role."""

from __future__ import annotations

from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.errors import KeyAlreadyRevoked, RoleNotAllowed
from domain.values import Role, natural_id


class ApiKey(Aggregate):
    """A bearer key. Only its SHA-256 digest is ever recorded; the secret is shown once."""

    class Issued(Aggregate.Created):
        key_hash: str
        tenant: str | None
        role: str
        label: str
        issued_by: str
        #: The member organisation a member key speaks for (None: no organisation).
        member_id: str | None = None

    class Revoked(Aggregate.Event):
        revoked_by: str

    @staticmethod
    def create_id(key_hash: str) -> UUID:
        return natural_id("api-key", key_hash)

    @classmethod
    def issue(
        cls,
        *,
        key_hash: str,
        tenant: str | None,
        role: Role,
        label: str,
        issued_by: str,
        member_id: str | None = None,
    ) -> ApiKey:
        """Issue a key for the platform (tenant None) or for one alliance; a member key
        may speak for one member organisation."""
        if tenant is None and role is not Role.PLATFORM_ADMIN:
            raise RoleNotAllowed(role.value, "platform")
        if tenant is not None and role is Role.PLATFORM_ADMIN:
            raise RoleNotAllowed(role.value, "tenant")
        if member_id is not None and role is not Role.MEMBER:
            raise RoleNotAllowed(role.value, "member organisation's")
        return cls(
            key_hash=key_hash,
            tenant=tenant,
            role=role.value,
            label=label,
            issued_by=issued_by,
            member_id=member_id,
        )

    @event(Issued)
    def __init__(
        self,
        key_hash: str,
        tenant: str | None,
        role: str,
        label: str,
        issued_by: str,
        member_id: str | None = None,
    ) -> None:
        self.key_hash = key_hash
        self.tenant = tenant
        self.role = role
        self.label = label
        self.issued_by = issued_by
        self.member_id = member_id
        self.revoked = False

    def revoke(self, *, by: str) -> None:
        """Withdraw the key: from now on it authenticates nothing."""
        if self.revoked:
            raise KeyAlreadyRevoked()
        self._revoke(revoked_by=by)

    @event(Revoked)
    def _revoke(self, revoked_by: str) -> None:
        self.revoked = True
