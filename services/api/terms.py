"""The Terms of Reference API: templates, versions, diffs, amendments and reviews."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

import msgspec
from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, PathParameter, QueryParameter

from domain.amendments import Changes, ClauseChange, RuleChange
from domain.errors import UnknownTemplate
from domain.rules import Clause, Rules
from domain.templates import TEMPLATES, template
from domain.terms_diff import VersionDiff
from services import terms
from services.access import Principal
from services.api import schemas
from services.api.auth import ANYONE_OF_THE_TENANT, TERMS_EDITORS, any_key
from services.errors import NotFound
from services.runtime import Runtime

Text = Annotated[str, msgspec.Meta(min_length=1, max_length=5000)]
Ref = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
BodyKey = Annotated[str, msgspec.Meta(pattern=r"^[a-z][a-z0-9-]{0,49}$")]


class TemplateSummaryOut(msgspec.Struct, kw_only=True):
    name: str
    title: str
    source: str
    summary: str


class TemplateOut(TemplateSummaryOut, kw_only=True):
    clauses: list[Clause]
    rules: Rules


class VersionSummaryOut(msgspec.Struct, kw_only=True):
    number: int
    effective_from: str
    adopted_at: datetime
    adopted_by: str
    template: str | None = None
    amendment_id: str | None = None
    decision_ref: str | None = None
    approved_by_body: str | None = None


class VersionOut(VersionSummaryOut, kw_only=True):
    clauses: list[Clause]
    rules: Rules


class VersionList(msgspec.Struct, kw_only=True):
    items: list[VersionSummaryOut]


class ChangesOut(msgspec.Struct, kw_only=True):
    """The changes an amendment proposes. Lists, not the domain's tuples: litestar
    documents `tuple[X, ...]` as `oneOf: [X, {}]`, which every item matches twice."""

    clauses: list[ClauseChange] = []
    rules: list[RuleChange] = []


class AmendmentOut(msgspec.Struct, kw_only=True):
    amendment_id: str
    state: Literal["proposed", "approved", "rejected", "withdrawn"]
    base_version: int
    rationale: str
    changes: ChangesOut
    proposed_by: str
    proposed_at: datetime
    decided_by: str | None = None
    decided_at: datetime | None = None
    decision_ref: str | None = None
    decided_by_body: str | None = None
    reason: str | None = None
    version: int | None = None
    effective_from: str | None = None
    under_version: int | None = None
    seq: int


class AmendmentPage(msgspec.Struct, kw_only=True):
    items: list[AmendmentOut]
    next_after: int | None = None


class ProposeAmendment(schemas.Request):
    rationale: Text
    clauses: Annotated[list[ClauseChange], msgspec.Meta(max_length=200)] = []
    rules: Annotated[list[RuleChange], msgspec.Meta(max_length=200)] = []


class ApproveAmendment(schemas.Request):
    #: The body whose decision approved it (the ToR names which body may).
    body: BodyKey
    #: A reference to that decision (a minute, a motion id).
    decision_ref: Ref
    #: The day the new version takes effect (default: today). Not in the past.
    effective_from: date | None = None


class RejectAmendment(schemas.Request):
    reason: Text
    decision_ref: Ref


class ConcludeReview(schemas.Request):
    outcome: Literal["no-change", "amendments-proposed"]
    notes: Annotated[str, msgspec.Meta(max_length=5000)] = ""
    amendment_ids: Annotated[list[schemas.Id], msgspec.Meta(max_length=50)] = []


class ReviewStatusOut(msgspec.Struct, kw_only=True):
    cadence_months: int
    due_on: str
    overdue: bool
    review_open: bool
    last_adopted_at: datetime
    last_reviewed_at: datetime | None = None
    last_outcome: str | None = None
    review_opened_at: datetime | None = None


class Proposed(msgspec.Struct, kw_only=True):
    amendment_id: str


def _summary(doc: Any) -> TemplateSummaryOut:
    return TemplateSummaryOut(
        name=doc.name, title=doc.title, source=doc.source, summary=doc.summary
    )


class TemplateController(Controller):
    path = "/v1/templates"
    tags = ["Terms of Reference"]
    guards = [any_key]

    @get("/", operation_id="listTemplates", responses=schemas.problems(401))
    async def list_templates(self) -> list[TemplateSummaryOut]:
        """The built-in Terms of Reference an alliance can be founded from."""
        return [_summary(doc) for doc in TEMPLATES.values()]

    @get("/{name:str}", operation_id="getTemplate", responses=schemas.problems(401, 404))
    async def get_template(self, name: FromPath[str]) -> TemplateOut:
        """One template in full: its clauses and its rules."""
        try:
            doc = template(name)
        except UnknownTemplate as error:
            raise NotFound(error.message) from None
        return TemplateOut(
            **msgspec.structs.asdict(_summary(doc)), clauses=list(doc.clauses), rules=doc.rules
        )


def _version(row: dict[str, Any]) -> VersionOut:
    return msgspec.convert(row, VersionOut, strict=False)


def _review(runtime: Runtime, slug: str) -> ReviewStatusOut:
    status = terms.review_status(runtime, slug)
    return msgspec.convert(
        {**status, "due_on": status["due_on"].isoformat()}, ReviewStatusOut, strict=False
    )


def _amendment(row: dict[str, Any]) -> AmendmentOut:
    return msgspec.convert(row, AmendmentOut, strict=False)


class TermsController(Controller):
    path = "/v1/tenants/{slug:str}/terms"
    tags = ["Terms of Reference"]

    @get(
        "/",
        operation_id="getTermsInForce",
        guards=[ANYONE_OF_THE_TENANT],
        responses=schemas.problems(400, 401, 403, 404),
        sync_to_thread=True,
    )
    def in_force(
        self,
        runtime: NamedDependency[Runtime],
        slug: FromPath[str],
        as_of: Annotated[
            datetime | None,
            QueryParameter(description="An ISO 8601 moment; default: now"),
        ] = None,
    ) -> VersionOut:
        """The version of the Terms of Reference in force now, or at `as_of`."""
        if as_of is not None and as_of.tzinfo is None:
            as_of = as_of.replace(tzinfo=runtime.clock().tzinfo)
        return _version(terms.current(runtime, slug, as_of=as_of))

    @get(
        "/versions",
        operation_id="listTermsVersions",
        guards=[ANYONE_OF_THE_TENANT],
        responses=schemas.problems(401, 403, 404),
        sync_to_thread=True,
    )
    def versions(self, runtime: NamedDependency[Runtime], slug: FromPath[str]) -> VersionList:
        """Every version ever adopted, oldest first."""
        rows = terms.versions(runtime, slug)
        return VersionList(
            items=[msgspec.convert(r, VersionSummaryOut, strict=False) for r in rows]
        )

    @get(
        "/versions/{number:int}",
        operation_id="getTermsVersion",
        guards=[ANYONE_OF_THE_TENANT],
        responses=schemas.problems(401, 403, 404),
        sync_to_thread=True,
    )
    def version(
        self,
        runtime: NamedDependency[Runtime],
        slug: FromPath[str],
        number: Annotated[int, PathParameter(ge=1, le=1_000_000)],
    ) -> VersionOut:
        """One version, as adopted: its clauses and rules never change."""
        return _version(terms.version(runtime, slug, number))

    @get(
        "/diff",
        operation_id="diffTermsVersions",
        guards=[ANYONE_OF_THE_TENANT],
        responses=schemas.problems(400, 401, 403, 404),
        sync_to_thread=True,
    )
    def diff(
        self,
        runtime: NamedDependency[Runtime],
        slug: FromPath[str],
        from_version: Annotated[int, QueryParameter(name="from", ge=1, le=1_000_000)],
        to_version: Annotated[int, QueryParameter(name="to", ge=1, le=1_000_000)],
    ) -> VersionDiff:
        """What changed between two versions: clause text and rules, with a summary."""
        return terms.diff(runtime, slug, from_version, to_version)

    @get(
        "/review",
        operation_id="getTermsReview",
        guards=[ANYONE_OF_THE_TENANT],
        responses=schemas.problems(401, 403, 404),
        sync_to_thread=True,
    )
    def review(self, runtime: NamedDependency[Runtime], slug: FromPath[str]) -> ReviewStatusOut:
        """When the next review is due, whether it is overdue, and whether one is open."""
        return _review(runtime, slug)

    @post(
        "/review/open",
        operation_id="openTermsReview",
        guards=[TERMS_EDITORS],
        responses=schemas.problems(401, 403, 404, 409),
        sync_to_thread=True,
        status_code=200,
    )
    def open_review(
        self,
        request: Request[Principal, Any, Any],
        runtime: NamedDependency[Runtime],
        slug: FromPath[str],
    ) -> ReviewStatusOut:
        """Open the periodic review of the Terms of Reference."""
        terms.open_review(runtime, slug, by=request.user.actor)
        return _review(runtime, slug)

    @post(
        "/review/conclude",
        operation_id="concludeTermsReview",
        guards=[TERMS_EDITORS],
        responses=schemas.problems(400, 401, 403, 404, 409, 413, 422),
        sync_to_thread=True,
        status_code=200,
    )
    def conclude_review(
        self,
        request: Request[Principal, Any, Any],
        runtime: NamedDependency[Runtime],
        slug: FromPath[str],
        data: JSONBody[ConcludeReview],
    ) -> ReviewStatusOut:
        """Conclude the open review: no change, or the amendments it proposed."""
        terms.conclude_review(
            runtime,
            slug,
            outcome=data.outcome,
            notes=data.notes,
            amendment_ids=data.amendment_ids,
            by=request.user.actor,
        )
        return _review(runtime, slug)


class AmendmentController(Controller):
    path = "/v1/tenants/{slug:str}/terms/amendments"
    tags = ["Terms of Reference"]

    @get(
        "/",
        operation_id="listAmendments",
        guards=[ANYONE_OF_THE_TENANT],
        responses=schemas.problems(400, 401, 403, 404),
        sync_to_thread=True,
    )
    def list_amendments(
        self,
        runtime: NamedDependency[Runtime],
        slug: FromPath[str],
        state_filter: Annotated[
            Literal["proposed", "approved", "rejected", "withdrawn"] | None,
            QueryParameter(name="state", description="Only amendments in this state"),
        ] = None,
        after: Annotated[int, QueryParameter(ge=0, le=2**62)] = 0,
        limit: Annotated[int, QueryParameter(ge=1, le=200)] = 50,
    ) -> AmendmentPage:
        """Amendments in the order they were proposed, optionally of one state."""
        rows = terms.amendments(runtime, slug, state=state_filter, after=after, limit=limit + 1)
        items = [_amendment(row) for row in rows[:limit]]
        return AmendmentPage(items=items, next_after=items[-1].seq if len(rows) > limit else None)

    @get(
        "/{amendment_id:str}",
        operation_id="getAmendment",
        guards=[ANYONE_OF_THE_TENANT],
        responses=schemas.problems(401, 403, 404),
        sync_to_thread=True,
    )
    def get_amendment(
        self, runtime: NamedDependency[Runtime], slug: FromPath[str], amendment_id: FromPath[str]
    ) -> AmendmentOut:
        """One amendment and its state."""
        return _amendment(terms.amendment(runtime, slug, amendment_id))

    @post(
        "/",
        operation_id="proposeAmendment",
        guards=[TERMS_EDITORS],
        responses=schemas.problems(400, 401, 403, 404, 409, 413, 422),
        sync_to_thread=True,
        status_code=201,
    )
    def propose(
        self,
        request: Request[Principal, Any, Any],
        runtime: NamedDependency[Runtime],
        slug: FromPath[str],
        data: JSONBody[ProposeAmendment],
    ) -> AmendmentOut:
        """Propose changes to clause text and/or rules of the latest version. Refused, naming
        the rule, when the result would contradict itself."""
        changes = Changes(clauses=tuple(data.clauses), rules=tuple(data.rules))
        amendment_id = terms.propose(
            runtime, slug, rationale=data.rationale, changes=changes, by=request.user.actor
        )
        return _amendment(terms.amendment(runtime, slug, amendment_id))

    @post(
        "/{amendment_id:str}/approve",
        operation_id="approveAmendment",
        guards=[TERMS_EDITORS],
        responses=schemas.problems(400, 401, 403, 404, 409, 413, 422),
        sync_to_thread=True,
        status_code=200,
    )
    def approve(
        self,
        request: Request[Principal, Any, Any],
        runtime: NamedDependency[Runtime],
        slug: FromPath[str],
        amendment_id: FromPath[str],
        data: JSONBody[ApproveAmendment],
    ) -> AmendmentOut:
        """Record the approving decision of the body the ToR names: a new version is adopted,
        in force from `effective_from`."""
        terms.approve(
            runtime,
            slug,
            amendment_id,
            body=data.body,
            decision_ref=data.decision_ref,
            effective_from=data.effective_from,
            by=request.user.actor,
        )
        return _amendment(terms.amendment(runtime, slug, amendment_id))

    @post(
        "/{amendment_id:str}/reject",
        operation_id="rejectAmendment",
        guards=[TERMS_EDITORS],
        responses=schemas.problems(400, 401, 403, 404, 409, 413, 422),
        sync_to_thread=True,
        status_code=200,
    )
    def reject(
        self,
        request: Request[Principal, Any, Any],
        runtime: NamedDependency[Runtime],
        slug: FromPath[str],
        amendment_id: FromPath[str],
        data: JSONBody[RejectAmendment],
    ) -> AmendmentOut:
        """Record that the amendment was not approved."""
        terms.reject(
            runtime,
            slug,
            amendment_id,
            reason=data.reason,
            decision_ref=data.decision_ref,
            by=request.user.actor,
        )
        return _amendment(terms.amendment(runtime, slug, amendment_id))

    @post(
        "/{amendment_id:str}/withdraw",
        operation_id="withdrawAmendment",
        guards=[TERMS_EDITORS],
        responses=schemas.problems(401, 403, 404, 409),
        sync_to_thread=True,
        status_code=200,
    )
    def withdraw(
        self,
        request: Request[Principal, Any, Any],
        runtime: NamedDependency[Runtime],
        slug: FromPath[str],
        amendment_id: FromPath[str],
    ) -> AmendmentOut:
        """Withdraw a proposed amendment before it is decided."""
        terms.withdraw(runtime, slug, amendment_id, by=request.user.actor)
        return _amendment(terms.amendment(runtime, slug, amendment_id))
