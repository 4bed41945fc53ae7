"""Business errors: each states the rule it guards and, where one applies, the ToR clause."""

from __future__ import annotations


class DomainError(Exception):
    """A command broke a rule of the platform or of an alliance's Terms of Reference."""

    #: The ToR clause the rule comes from, when the rule is the alliance's own.
    clause: str | None = None
    #: A short, stable name for the kind of problem (it becomes the problem type URI).
    code: str = "rule-broken"

    def __init__(self, message: str, *, clause: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if clause is not None:
            self.clause = clause


class InvalidSlug(DomainError):
    """A slug is 2-40 characters: a lowercase letter, then lowercase letters, digits or '-'."""

    code = "invalid-slug"

    def __init__(self, slug: str) -> None:
        super().__init__(
            f"{slug!r} is not a valid alliance slug: use 2 to 40 characters, starting with "
            "a lowercase letter, then lowercase letters, digits or hyphens"
        )


class UnknownTemplate(DomainError):
    """An alliance is founded from one of the platform's templates."""

    code = "unknown-template"

    def __init__(self, name: str, known: list[str]) -> None:
        super().__init__(f"{name!r} is not a template; choose one of: {', '.join(known)}")


class UnknownRole(DomainError):
    """A key carries one of the roles the platform knows."""

    code = "unknown-role"

    def __init__(self, name: str, known: list[str]) -> None:
        super().__init__(f"{name!r} is not a role here; choose one of: {', '.join(known)}")


class TenantAlreadyExists(DomainError):
    """Each slug names one alliance, for ever."""

    code = "tenant-exists"

    def __init__(self, slug: str) -> None:
        super().__init__(f"an alliance with the slug {slug!r} already exists")


class TenantSuspended(DomainError):
    """A suspended alliance's records can be read but not changed until it is reinstated."""

    code = "tenant-suspended"

    def __init__(self, slug: str) -> None:
        super().__init__(
            f"the alliance {slug!r} is suspended: its records can be read, but no change "
            "is accepted until a platform admin reinstates it"
        )


class TenantAlreadySuspended(DomainError):
    """A suspended alliance cannot be suspended again."""

    code = "tenant-already-suspended"

    def __init__(self, slug: str) -> None:
        super().__init__(f"the alliance {slug!r} is already suspended")


class TenantNotSuspended(DomainError):
    """Only a suspended alliance can be reinstated."""

    code = "tenant-not-suspended"

    def __init__(self, slug: str) -> None:
        super().__init__(f"the alliance {slug!r} is not suspended, so it cannot be reinstated")


class KeyAlreadyRevoked(DomainError):
    """A revoked key stays revoked; issue a new one instead."""

    code = "key-revoked"

    def __init__(self) -> None:
        super().__init__("this key is already revoked")


class RoleNotAllowed(DomainError):
    """Tenant keys carry a tenant role; only platform keys carry platform-admin."""

    code = "role-not-allowed"

    def __init__(self, role: str, scope: str) -> None:
        super().__init__(f"a {scope} key cannot have the role {role!r}")
