"""The working groups and work plan API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec
from litestar import Controller, Request, delete, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, PathParameter, QueryParameter

from services import work_plans, working_groups
from services.access import Principal
from services.api import schemas
from services.api.auth import ANYONE_OF_THE_TENANT, RUNNERS
from services.api.schemas import Id, Key, Note, Ref, Text
from services.runtime import Runtime

Title = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
PlanYear = Annotated[
    int, PathParameter(ge=2000, le=2100, description="The year of the plan (2000-2100)")
]


class ProposeGroup(schemas.Request, kw_only=True):
    name: Title
    purpose: Text


class EstablishGroup(schemas.Request, kw_only=True):
    #: The group's own short terms of reference.
    own_terms: Text
    #: The lead member(s): member ids (shared leads allowed).
    leads: Annotated[list[Id], msgspec.Meta(min_length=1, max_length=10)]
    by_body: Key
    decision_ref: Ref


class ChangeLeads(schemas.Request, kw_only=True):
    leads: Annotated[list[Id], msgspec.Meta(min_length=1, max_length=10)]
    by_body: Key
    decision_ref: Ref


class JoinGroup(schemas.Request, kw_only=True):
    member_id: Id


class GroupReport(schemas.Request, kw_only=True):
    title: Title
    summary: Text
    #: Who it was presented to (a body, the co-chairs...).
    presented_to: Title


class DissolveGroup(schemas.Request, kw_only=True):
    reason: Text
    by_body: Key
    decision_ref: Ref


class GroupMemberOut(msgspec.Struct, kw_only=True):
    member_id: str
    joined_at: datetime


class ReportOut(msgspec.Struct, kw_only=True):
    report_id: str
    title: str
    summary: str
    presented_to: str
    recorded_at: datetime


class GroupOut(msgspec.Struct, kw_only=True):
    group_id: str
    seq: int
    name: str
    purpose: str
    body: str
    stage: Literal["proposed", "established", "dissolved"]
    own_terms: str | None = None
    leads: list[str]
    proposed_at: datetime
    proposed_by: str
    established_at: datetime | None = None
    established_by_body: str | None = None
    decision_ref: str | None = None
    dissolved_at: datetime | None = None
    dissolved_reason: str | None = None
    members: list[GroupMemberOut] | None = None
    reports: list[ReportOut] | None = None


class GroupPage(msgspec.Struct, kw_only=True):
    items: list[GroupOut]
    next_after: int | None = None


def _group(runtime: Runtime, slug: str, group_id: str) -> GroupOut:
    return msgspec.convert(working_groups.group(runtime, slug, group_id), GroupOut, strict=False)


class WorkingGroupController(Controller):
    path = "/v1/tenants/{slug:str}/working-groups"
    tags = ["Working groups and work plans"]

    @get(
        "/",
        operation_id="listWorkingGroups",
        guards=[ANYONE_OF_THE_TENANT],
        responses=schemas.problems(400, 401, 403, 404),
        sync_to_thread=True,
    )
    def list_groups(
        self,
        runtime: NamedDependency[Runtime],
        slug: FromPath[str],
        stage: Annotated[
            Literal["proposed", "established", "dissolved"] | None,
            QueryParameter(description="Only groups at this stage"),
        ] = None,
        after: Annotated[int, QueryParameter(ge=0, le=2**62)] = 0,
        limit: Annotated[int, QueryParameter(ge=1, le=200)] = 50,
    ) -> GroupPage:
        """Working groups in the order they were proposed."""
        rows = working_groups.groups(runtime, slug, stage=stage, after=after, limit=limit + 1)
        items, next_after = schemas.page_of(rows, limit, GroupOut)
        return GroupPage(items=items, next_after=next_after)

    @get(
        "/{group_id:str}",
        operation_id="getWorkingGroup",
        guards=[ANYONE_OF_THE_TENANT],
        responses=schemas.problems(401, 403, 404),
        sync_to_thread=True,
    )
    def get_group(
        self, runtime: NamedDependency[Runtime], slug: FromPath[str], group_id: FromPath[Id]
    ) -> GroupOut:
        """One working group: its terms, leads, members and reports."""
        return _group(runtime, slug, group_id)

    @post(
        "/",
        operation_id="proposeWorkingGroup",
        guards=[RUNNERS],
        responses=schemas.WRITE_PROBLEMS,
        sync_to_thread=True,
        status_code=201,
    )
    def propose(
        self,
        request: Request[Principal, Any, Any],
        runtime: NamedDependency[Runtime],
        slug: FromPath[str],
        data: JSONBody[ProposeGroup],
    ) -> GroupOut:
        """Propose a working group (where the ToR provides working groups)."""
        group_id = working_groups.propose(
            runtime, slug, name=data.name, purpose=data.purpose, by=request.user.actor
        )
        return _group(runtime, slug, group_id)

    @post(
        "/{group_id:str}/establish",
        operation_id="establishWorkingGroup",
        guards=[RUNNERS],
        responses=schemas.WRITE_PROBLEMS,
        sync_to_thread=True,
        status_code=200,
    )
    def establish(
        self,
        request: Request[Principal, Any, Any],
        runtime: NamedDependency[Runtime],
        slug: FromPath[str],
        group_id: FromPath[Id],
        data: JSONBody[EstablishGroup],
    ) -> GroupOut:
        """Establish the group, by the body the ToR names, with its own short terms of
        reference and its lead member(s)."""
        working_groups.establish(
            runtime,
            slug,
            group_id,
            own_terms=data.own_terms,
            leads=data.leads,
            by_body=data.by_body,
            decision_ref=data.decision_ref,
            by=request.user.actor,
        )
        return _group(runtime, slug, group_id)

    @post(
        "/{group_id:str}/leads",
        operation_id="changeWorkingGroupLeads",
        guards=[RUNNERS],
        responses=schemas.WRITE_PROBLEMS,
        sync_to_thread=True,
        status_code=200,
    )
    def change_leads(
        self,
        request: Request[Principal, Any, Any],
        runtime: NamedDependency[Runtime],
        slug: FromPath[str],
        group_id: FromPath[Id],
        data: JSONBody[ChangeLeads],
    ) -> GroupOut:
        """Change the group's lead member(s)."""
        working_groups.change_leads(
            runtime,
            slug,
            group_id,
            leads=data.leads,
            by_body=data.by_body,
            decision_ref=data.decision_ref,
            by=request.user.actor,
        )
        return _group(runtime, slug, group_id)

    @post(
        "/{group_id:str}/members",
        operation_id="joinWorkingGroup",
        guards=[RUNNERS],
        responses=schemas.WRITE_PROBLEMS,
        sync_to_thread=True,
        status_code=200,
    )
    def join(
        self,
        request: Request[Principal, Any, Any],
        runtime: NamedDependency[Runtime],
        slug: FromPath[str],
        group_id: FromPath[Id],
        data: JSONBody[JoinGroup],
    ) -> GroupOut:
        """A member organisation joins the group."""
        working_groups.join(
            runtime, slug, group_id, member_id=data.member_id, by=request.user.actor
        )
        return _group(runtime, slug, group_id)

    @delete(
        "/{group_id:str}/members/{member_id:str}",
        operation_id="leaveWorkingGroup",
        guards=[RUNNERS],
        responses=schemas.problems(401, 403, 404, 409),
        sync_to_thread=True,
        status_code=200,
    )
    def leave(
        self,
        request: Request[Principal, Any, Any],
        runtime: NamedDependency[Runtime],
        slug: FromPath[str],
        group_id: FromPath[Id],
        member_id: FromPath[Id],
    ) -> GroupOut:
        """A member organisation leaves the group (a lead leaves only after the leads change)."""
        working_groups.leave(runtime, slug, group_id, member_id=member_id, by=request.user.actor)
        return _group(runtime, slug, group_id)

    @post(
        "/{group_id:str}/reports",
        operation_id="recordWorkingGroupReport",
        guards=[RUNNERS],
        responses=schemas.WRITE_PROBLEMS,
        sync_to_thread=True,
        status_code=201,
    )
    def report(
        self,
        request: Request[Principal, Any, Any],
        runtime: NamedDependency[Runtime],
        slug: FromPath[str],
        group_id: FromPath[Id],
        data: JSONBody[GroupReport],
    ) -> GroupOut:
        """Record a report the group gave."""
        working_groups.report(
            runtime,
            slug,
            group_id,
            title=data.title,
            summary=data.summary,
            presented_to=data.presented_to,
            by=request.user.actor,
        )
        return _group(runtime, slug, group_id)

    @post(
        "/{group_id:str}/dissolve",
        operation_id="dissolveWorkingGroup",
        guards=[RUNNERS],
        responses=schemas.WRITE_PROBLEMS,
        sync_to_thread=True,
        status_code=200,
    )
    def dissolve(
        self,
        request: Request[Principal, Any, Any],
        runtime: NamedDependency[Runtime],
        slug: FromPath[str],
        group_id: FromPath[Id],
        data: JSONBody[DissolveGroup],
    ) -> GroupOut:
        """Dissolve the group when it is no longer needed."""
        working_groups.dissolve(
            runtime,
            slug,
            group_id,
            reason=data.reason,
            by_body=data.by_body,
            decision_ref=data.decision_ref,
            by=request.user.actor,
        )
        return _group(runtime, slug, group_id)


# ----------------------------------------------------------------------------- work plans


class AddItem(schemas.Request, kw_only=True):
    title: Title
    description: Note = ""
    #: The body responsible for it.
    body: Key


class AgreePlan(schemas.Request, kw_only=True):
    by_body: Key
    decision_ref: Ref


class ItemNote(schemas.Request, kw_only=True):
    note: Note = ""


class ItemEvaluation(schemas.Request, kw_only=True):
    evaluation: Text


class EvaluatePlan(schemas.Request, kw_only=True):
    summary: Text
    by_body: Key
    decision_ref: Ref


class ItemOut(msgspec.Struct, kw_only=True):
    item_id: str
    title: str
    description: str
    body: str
    stage: Literal["planned", "in-progress", "delivered"]
    last_note: str | None = None
    progressed_at: datetime | None = None
    delivered_at: datetime | None = None
    evaluation: str | None = None
    evaluated_at: datetime | None = None


class PlanOut(msgspec.Struct, kw_only=True):
    year: int
    stage: Literal["draft", "agreed", "evaluated"]
    drafted_at: datetime
    agreed_by_body: str | None = None
    agreed_at: datetime | None = None
    decision_ref: str | None = None
    evaluation: str | None = None
    evaluated_at: datetime | None = None
    items: list[ItemOut]


class PlanSummaryOut(msgspec.Struct, kw_only=True):
    year: int
    stage: str
    items: int
    agreed_at: datetime | None = None
    evaluated_at: datetime | None = None


class PlanList(msgspec.Struct, kw_only=True):
    items: list[PlanSummaryOut]


def _plan(runtime: Runtime, slug: str, year: int) -> PlanOut:
    return msgspec.convert(work_plans.plan(runtime, slug, year), PlanOut, strict=False)


class WorkPlanController(Controller):
    path = "/v1/tenants/{slug:str}/work-plans"
    tags = ["Working groups and work plans"]

    @get(
        "/",
        operation_id="listWorkPlans",
        guards=[ANYONE_OF_THE_TENANT],
        responses=schemas.problems(401, 403, 404),
        sync_to_thread=True,
    )
    def list_plans(self, runtime: NamedDependency[Runtime], slug: FromPath[str]) -> PlanList:
        """Every year's work plan, newest first."""
        rows = work_plans.plans(runtime, slug)
        return PlanList(items=[msgspec.convert(r, PlanSummaryOut, strict=False) for r in rows])

    @get(
        "/{year:int}",
        operation_id="getWorkPlan",
        guards=[ANYONE_OF_THE_TENANT],
        responses=schemas.problems(401, 403, 404),
        sync_to_thread=True,
    )
    def get_plan(
        self, runtime: NamedDependency[Runtime], slug: FromPath[str], year: PlanYear
    ) -> PlanOut:
        """One year's work plan and its items."""
        return _plan(runtime, slug, year)

    @post(
        "/{year:int}/items",
        operation_id="addWorkPlanItem",
        guards=[RUNNERS],
        responses=schemas.WRITE_PROBLEMS,
        sync_to_thread=True,
        status_code=201,
    )
    def add_item(
        self,
        request: Request[Principal, Any, Any],
        runtime: NamedDependency[Runtime],
        slug: FromPath[str],
        year: PlanYear,
        data: JSONBody[AddItem],
    ) -> PlanOut:
        """Add an item to the year's draft plan (the first item starts the plan)."""
        work_plans.add_item(
            runtime,
            slug,
            year,
            title=data.title,
            description=data.description,
            body=data.body,
            by=request.user.actor,
        )
        return _plan(runtime, slug, year)

    @post(
        "/{year:int}/agree",
        operation_id="agreeWorkPlan",
        guards=[RUNNERS],
        responses=schemas.WRITE_PROBLEMS,
        sync_to_thread=True,
        status_code=200,
    )
    def agree(
        self,
        request: Request[Principal, Any, Any],
        runtime: NamedDependency[Runtime],
        slug: FromPath[str],
        year: PlanYear,
        data: JSONBody[AgreePlan],
    ) -> PlanOut:
        """The body the ToR names agrees the plan (the full membership where it is silent)."""
        work_plans.agree(
            runtime,
            slug,
            year,
            by_body=data.by_body,
            decision_ref=data.decision_ref,
            by=request.user.actor,
        )
        return _plan(runtime, slug, year)

    def _item(
        self,
        request: Request[Principal, Any, Any],
        runtime: Runtime,
        slug: str,
        year: int,
        item_id: str,
        act: Literal["progress", "deliver", "evaluate"],
        text: str,
    ) -> PlanOut:
        work_plans.update_item(
            runtime, slug, year, item_id, act=act, text=text, by=request.user.actor
        )
        return _plan(runtime, slug, year)

    @post(
        "/{year:int}/items/{item_id:str}/progress",
        operation_id="progressWorkPlanItem",
        guards=[RUNNERS],
        responses=schemas.WRITE_PROBLEMS,
        sync_to_thread=True,
        status_code=200,
    )
    def progress(
        self,
        request: Request[Principal, Any, Any],
        runtime: NamedDependency[Runtime],
        slug: FromPath[str],
        year: PlanYear,
        item_id: FromPath[Id],
        data: JSONBody[ItemNote],
    ) -> PlanOut:
        """Record progress on an item of the agreed plan."""
        return self._item(request, runtime, slug, year, item_id, "progress", data.note)

    @post(
        "/{year:int}/items/{item_id:str}/deliver",
        operation_id="deliverWorkPlanItem",
        guards=[RUNNERS],
        responses=schemas.WRITE_PROBLEMS,
        sync_to_thread=True,
        status_code=200,
    )
    def deliver(
        self,
        request: Request[Principal, Any, Any],
        runtime: NamedDependency[Runtime],
        slug: FromPath[str],
        year: PlanYear,
        item_id: FromPath[Id],
        data: JSONBody[ItemNote],
    ) -> PlanOut:
        """Record that an item of the agreed plan was delivered."""
        return self._item(request, runtime, slug, year, item_id, "deliver", data.note)

    @post(
        "/{year:int}/items/{item_id:str}/evaluate",
        operation_id="evaluateWorkPlanItem",
        guards=[RUNNERS],
        responses=schemas.WRITE_PROBLEMS,
        sync_to_thread=True,
        status_code=200,
    )
    def evaluate_item(
        self,
        request: Request[Principal, Any, Any],
        runtime: NamedDependency[Runtime],
        slug: FromPath[str],
        year: PlanYear,
        item_id: FromPath[Id],
        data: JSONBody[ItemEvaluation],
    ) -> PlanOut:
        """Record the evaluation of a delivered item."""
        return self._item(request, runtime, slug, year, item_id, "evaluate", data.evaluation)

    @post(
        "/{year:int}/evaluate",
        operation_id="evaluateWorkPlan",
        guards=[RUNNERS],
        responses=schemas.WRITE_PROBLEMS,
        sync_to_thread=True,
        status_code=200,
    )
    def evaluate(
        self,
        request: Request[Principal, Any, Any],
        runtime: NamedDependency[Runtime],
        slug: FromPath[str],
        year: PlanYear,
        data: JSONBody[EvaluatePlan],
    ) -> PlanOut:
        """The body that agreed the plan evaluates the year's work."""
        work_plans.evaluate(
            runtime,
            slug,
            year,
            summary=data.summary,
            by_body=data.by_body,
            decision_ref=data.decision_ref,
            by=request.user.actor,
        )
        return _plan(runtime, slug, year)
