"""Business errors: each states the rule it guards and, where one applies, the ToR clause."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """A command broke a rule of the platform or of an alliance's Terms of Reference."""

    #: The ToR clause the rule comes from, when the rule is the alliance's own.
    clause: str | None = None
    #: A short, stable name for the kind of problem (it becomes the problem type URI).
    code: str = "rule-broken"

    #: Every broken rule, when there are several (each: rule, clause, message).
    violations: tuple[Any, ...] = ()

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


class InvalidText(DomainError):
    """Text holds no control characters (but tab, line feed and carriage return)."""

    code = "invalid-text"

    def __init__(self, field: str, character: str) -> None:
        super().__init__(
            f"{field}: contains the control character U+{ord(character):04X}; text may not "
            "contain control characters (U+0000-U+001F other than tab, line feed and "
            "carriage return, U+007F-U+009F)"
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


class RulesBroken(DomainError):
    """An act breaks the rules of the ToR in force."""

    code = "tor-rule-broken"

    def __init__(self, violations: list[Any]) -> None:
        first = violations[0]
        more = f" (and {len(violations) - 1} more)" if len(violations) > 1 else ""
        super().__init__(first.message + more, clause=first.clause)
        self.violations = tuple(violations)


class AmendmentInvalid(DomainError):
    """An amendment must leave a ToR that holds together: no contradiction, no unknown rule."""

    code = "amendment-invalid"

    def __init__(self, violations: list[Any]) -> None:
        first = violations[0]
        more = f" (and {len(violations) - 1} more)" if len(violations) > 1 else ""
        super().__init__(first.message + more, clause=first.clause)
        self.violations = tuple(violations)


class AmendmentNotOpen(DomainError):
    """Only a proposed amendment can be approved, rejected or withdrawn."""

    code = "amendment-not-open"

    def __init__(self, state: str) -> None:
        super().__init__(f"this amendment is already {state}")


class AmendmentStale(DomainError):
    """An amendment changes the version it was proposed against; a newer one supersedes it."""

    code = "amendment-stale"

    def __init__(self, base: int, current: int) -> None:
        super().__init__(
            f"this amendment was proposed against version {base}, but version {current} has "
            "been adopted since; propose it again against the current version"
        )


class EffectiveDateTooEarly(DomainError):
    """A new version takes effect no earlier than its approval day and the latest version."""

    code = "effective-date-too-early"

    def __init__(self, effective: str, earliest: str) -> None:
        super().__init__(
            f"a version cannot take effect on {effective}; the earliest date is {earliest}"
        )


class ReviewAlreadyOpen(DomainError):
    """One review of the ToR at a time."""

    code = "review-open"

    def __init__(self) -> None:
        super().__init__("a review of the Terms of Reference is already open")


class NoReviewOpen(DomainError):
    """Only an open review can be concluded."""

    code = "no-review-open"

    def __init__(self) -> None:
        super().__init__("no review of the Terms of Reference is open")


class ReviewOutcomeMismatch(DomainError):
    """A review that proposed amendments names them; one that changed nothing names none."""

    code = "review-outcome-mismatch"

    def __init__(self, outcome: str) -> None:
        if outcome == "amendments-proposed":
            message = "a review concluded with amendments proposed must name those amendments"
        else:
            message = "a review concluded with no change cannot name amendments"
        super().__init__(message)


class StateConflict(DomainError):
    """The act does not fit the record's current state (try again once it changes)."""

    code = "state-conflict"


class ApplicationClosed(StateConflict):
    """A decided or withdrawn application takes no further step."""

    code = "application-closed"

    def __init__(self, state: str) -> None:
        super().__init__(f"this application is already {state}: it takes no further step")


class AlreadyMember(StateConflict):
    """An organisation holds one membership at a time."""

    code = "already-member"

    def __init__(self, name: str) -> None:
        super().__init__(
            f"{name!r} is already a member or has an application open; "
            "an organisation holds one membership at a time"
        )


class MemberStateConflict(StateConflict):
    """The member's status does not allow this (e.g. reinstating an active member)."""

    code = "member-state"


class HoldingEnded(StateConflict):
    """An office holding or committee seat that has ended cannot end again."""

    code = "holding-ended"

    def __init__(self, what: str) -> None:
        super().__init__(f"this {what} has already ended")


class WorkingGroupStateConflict(StateConflict):
    """The working group's stage does not allow this (e.g. joining a dissolved group)."""

    code = "working-group-state"


class WorkPlanStateConflict(StateConflict):
    """The work plan's stage does not allow this (e.g. delivering an item not yet agreed)."""

    code = "work-plan-state"


class MeetingStateConflict(StateConflict):
    """The meeting's state does not allow this (e.g. holding a cancelled meeting)."""

    code = "meeting-state"


class MinutesStateConflict(StateConflict):
    """The minutes' state does not allow this (e.g. amending approved minutes)."""

    code = "minutes-state"


class ActionItemStateConflict(StateConflict):
    """The action item's state does not allow this (e.g. completing it twice)."""

    code = "action-item-state"
