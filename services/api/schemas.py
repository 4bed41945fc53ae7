"""Wire types of the API. Requests forbid unknown fields; schemas never import aggregates."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

import msgspec
from litestar.openapi import ResponseSpec

from domain.amendments import ClauseChange, RuleChange
from domain.values import SLUG_PATTERN, TENANT_ROLES, Template

Slug = Annotated[
    str,
    msgspec.Meta(
        pattern=SLUG_PATTERN,
        description="2-40 characters: a lowercase letter, then lowercase letters, digits or '-'",
        examples=["kent-family-justice"],
    ),
]
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
Region = Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
Label = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
Reason = Annotated[str, msgspec.Meta(min_length=1, max_length=2000)]
# Checked by the domain (which names the choices in its error), described here.
TemplateName = Annotated[
    str,
    msgspec.Meta(
        max_length=50,
        description="One of: " + ", ".join(t.value for t in Template),
        examples=["family-justice"],
    ),
]
TenantRoleName = Annotated[
    str,
    msgspec.Meta(
        max_length=50,
        description="One of: " + ", ".join(r.value for r in TENANT_ROLES),
        examples=["officer"],
    ),
]


class Request(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Base of every request body: a field the API does not know is an error, not ignored."""


class FoundingOfficer(Request):
    """One of the alliance's first officers: holds the office from the start date, for
    the term its office has in version 1, checked as any appointment is."""

    #: The office, by its key in version 1 of the ToR (the template as `changes` leave it).
    office: Key
    #: The organisation the officer comes from.
    organisation: Name
    #: The person who holds it: personal data, sealed and erasable as every holder's name.
    person_name: PersonName | None = None
    #: A reference to the founding agreement or meeting that named them.
    decision_ref: Ref | None = None


class TemplateChanges(Request):
    """Changes made to the template before version 1 is adopted: an amendment's changes,
    checked as an amendment's are."""

    clauses: Annotated[list[ClauseChange], msgspec.Meta(max_length=200)] = []
    rules: Annotated[list[RuleChange], msgspec.Meta(max_length=200)] = []


class OnboardTenant(Request):
    slug: Slug
    name: Name
    region: Region
    template: TemplateName
    #: The day version 1 of the ToR takes effect: the first officers' terms and the
    #: obligations calendar start on it (default: today; at most 12 months either side).
    start_date: date | None = None
    #: The alliance's first officers (default: none).
    officers: Annotated[list[FoundingOfficer], msgspec.Meta(max_length=50)] = []
    #: A modified template: rule and clause changes applied before version 1 is adopted.
    changes: TemplateChanges | None = None


class FoundingFile(Request):
    """The file `concord tenants onboard --founding` reads: the same fields as onboarding's
    (`start_date`, `officers`, `changes`), all optional."""

    start_date: date | None = None
    officers: Annotated[list[FoundingOfficer], msgspec.Meta(max_length=50)] = []
    changes: TemplateChanges | None = None


class SuspendTenant(Request):
    reason: Reason


class IssueKey(Request):
    role: TenantRoleName
    label: Label
    #: For a member key: the member organisation it speaks for (it then sees that
    #: organisation's representatives).
    member_id: Id | None = None


class TenantOut(msgspec.Struct, kw_only=True):
    slug: str
    name: str
    region: str
    template: str
    status: Literal["active", "suspended"]
    onboarded_at: datetime
    onboarded_by: str
    status_reason: str | None = None
    status_changed_at: datetime | None = None


class KeyOut(msgspec.Struct, kw_only=True):
    id: str
    tenant: str | None
    role: str
    label: str
    issued_by: str
    issued_at: datetime
    revoked: bool
    revoked_by: str | None = None
    revoked_at: datetime | None = None
    member_id: str | None = None


class IssuedKeyOut(msgspec.Struct, kw_only=True):
    """A new key. `secret` is shown here once and cannot be recovered later."""

    id: str
    secret: str
    tenant: str | None
    role: str
    label: str
    member_id: str | None = None


class OnboardedOut(msgspec.Struct, kw_only=True):
    tenant: TenantOut
    admin_key: IssuedKeyOut


class AllianceProfileOut(msgspec.Struct, kw_only=True):
    name: str
    region: str
    template: str
    founded_by: str
    founded_at: datetime


class TenantDetailOut(msgspec.Struct, kw_only=True):
    tenant: TenantOut
    alliance: AllianceProfileOut | None


class TenantPage(msgspec.Struct, kw_only=True):
    items: list[TenantOut]
    next_after: str | None = None


class KeyPage(msgspec.Struct, kw_only=True):
    items: list[KeyOut]
    next_after: str | None = None


class EventOut(msgspec.Struct, kw_only=True):
    position: int
    aggregate_id: str
    version: int
    type: str
    timestamp: datetime
    data: dict[str, Any]


class EventPage(msgspec.Struct, kw_only=True):
    items: list[EventOut]
    next_after: int | None = None


class WhoAmI(msgspec.Struct, kw_only=True):
    key_id: str
    role: str
    tenant: str | None
    member_id: str | None = None


class Health(msgspec.Struct, kw_only=True):
    status: Literal["ok", "unavailable"]
    store: str
    reachable: bool
    detail: str | None = None


class Problem(msgspec.Struct, kw_only=True):
    """An RFC 9457 problem: what went wrong and how to put it right."""

    type: str
    title: str
    status: int
    detail: str
    instance: str | None = None
    #: The ToR clause the broken rule comes from, when it is the alliance's own rule.
    clause: str | None = None
    #: Every broken rule: {rule, clause, message}.
    violations: list[dict[str, Any]] | None = None
    #: Field errors of an invalid request: {key, message, source}.
    errors: list[dict[str, Any]] | None = None


_PROBLEM_MEANINGS = {
    400: "Malformed JSON or query",
    401: "No valid API key (missing, unknown or revoked)",
    403: "The key's role does not allow this",
    404: "No such alliance or object, or it belongs to another alliance",
    409: "Conflicts with the current state (e.g. slug taken, alliance suspended)",
    413: "Request body too large",
    422: "A field is invalid, or a rule is broken (the rule and its clause are named)",
    429: "Too many requests from this key or alliance (see Retry-After)",
    503: "The database could not serve the request just now; retry after Retry-After",
}


def problems(*statuses: int) -> dict[int, ResponseSpec]:
    """OpenAPI entries for the problem answers an operation can give."""
    return {
        status: ResponseSpec(
            data_container=Problem,
            description=_PROBLEM_MEANINGS[status],
            media_type="application/problem+json",
            generate_examples=False,
        )
        for status in statuses
    }


def tenant_out(row: dict[str, Any]) -> TenantOut:
    return msgspec.convert(row, TenantOut, strict=False)


def key_out(row: dict[str, Any]) -> KeyOut:
    return msgspec.convert({**row, "id": row["key_id"]}, KeyOut, strict=False)


# ----------------------------------------------------------------------------- shared fields

Text = Annotated[str, msgspec.Meta(min_length=1, max_length=5000)]
Note = Annotated[str, msgspec.Meta(max_length=5000)]
Ref = Annotated[
    str,
    msgspec.Meta(
        min_length=1,
        max_length=200,
        description="A reference to the decision (a minute, a motion id, a letter)",
    ),
]
Key = Annotated[
    str,
    msgspec.Meta(
        pattern=r"^[a-z][a-z0-9-]{0,49}$",
        description="The key of a body or office of the Terms of Reference",
        examples=["full-membership"],
    ),
]
PersonName = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
Email = Annotated[
    str,
    msgspec.Meta(
        pattern=r"^[^@\s]{1,64}@[^@\s]{1,190}\.[^@\s]{1,60}$",
        max_length=254,
        examples=["name@example.org"],
    ),
]
Id = Annotated[str, msgspec.Meta(max_length=64)]
Limit = Annotated[int, msgspec.Meta(ge=1, le=200)]


def page_of(
    rows: list[dict[str, Any]], limit: int, kind: type[Any]
) -> tuple[list[Any], int | None]:
    """Rows fetched with limit + 1 → the page as `kind`, and the next cursor (or None)."""
    items = [msgspec.convert(row, kind, strict=False) for row in rows[:limit]]
    return items, (rows[limit - 1]["seq"] if len(rows) > limit else None)


#: The problems any command with a body can answer.
WRITE_PROBLEMS = problems(400, 401, 403, 404, 409, 413, 422)
