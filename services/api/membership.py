"""The membership API: applications, the member register, representatives, conduct reviews."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec
from litestar import Controller, Request, delete, get, post, put
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, QueryParameter

from domain.rule_checks import Applicant
from domain.values import Role
from services import membership
from services.access import Principal
from services.api import schemas
from services.api.auth import (
    ANYONE_OF_THE_TENANT,
    RECORD_READERS,
    REPRESENTATIVE_READERS,
    RUNNERS,
)
from services.api.schemas import Email, Id, Key, Note, PersonName, Ref, Text
from services.errors import Forbidden, InvalidRequest
from services.runtime import Runtime

Stage = Literal["submitted", "circulated", "recommended", "admitted", "rejected", "withdrawn"]
StandingName = Literal["member", "observer", "advisory"]
Status = Literal["active", "suspended", "resigned", "removed"]
Short = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
OptionalShort = Annotated[str, msgspec.Meta(min_length=1, max_length=200)] | None


# ----------------------------------------------------------------------------- requests


class SubmitApplication(schemas.Request, kw_only=True):
    #: An organisation applies for membership or observer status; an individual applies
    #: in an advisory capacity, where the ToR allows it.
    capacity: Literal["organisation", "individual"] = "organisation"
    #: The organisation's name (or, for an individual, the person's name).
    name: Short
    organisation_kind: OptionalShort = None
    region: OptionalShort = None
    legal_entity: bool = True
    governmental: bool = False
    requested_status: StandingName = "member"
    #: The written request.
    request_text: Text
    signatory_name: PersonName | None = None
    signatory_role: OptionalShort = None
    #: An individual applicant's email.
    email: Email | None = None


class CirculateApplication(schemas.Request, kw_only=True):
    to_body: Key


class RecommendApplication(schemas.Request, kw_only=True):
    #: The office (or body) making the recommendation, as the ToR names it.
    by_office: Key
    recommendation: Literal["admit", "reject"]
    note: Note = ""


class DecideApplication(schemas.Request, kw_only=True):
    by_body: Key
    outcome: Literal["admit", "reject"]
    #: The standing granted on admission (default: the one applied for).
    standing: StandingName | None = None
    #: Why (required for a rejection).
    reason: Note = ""
    decision_ref: Ref


class WithdrawApplication(schemas.Request, kw_only=True):
    reason: Note = ""


class MemberDecision(schemas.Request, kw_only=True):
    reason: Text
    by_body: Key
    decision_ref: Ref


class ReinstateMember(schemas.Request, kw_only=True):
    by_body: Key
    decision_ref: Ref


class Resign(schemas.Request, kw_only=True):
    reason: Note = ""


class ConductReview(schemas.Request, kw_only=True):
    by_body: Key
    outcome: Literal["satisfactory", "concerns-raised", "breach-found"]
    notes: Note = ""
    decision_ref: Ref


class AddRepresentative(schemas.Request, kw_only=True):
    name: PersonName
    email: Email
    #: Their role in their own organisation.
    role: Short
    #: Make them the principal contact (default: only if there is none yet).
    principal: bool | None = None


class ReplaceRepresentative(schemas.Request, kw_only=True):
    name: PersonName
    email: Email
    role: Short


# ----------------------------------------------------------------------------- answers


class ApplicationOut(msgspec.Struct, kw_only=True):
    application_id: str
    seq: int
    stage: Stage
    capacity: str
    name: str | None = None
    person_name: str | None = None
    signatory_name: str | None = None
    signatory_role: str | None = None
    organisation_kind: str | None = None
    region: str | None = None
    legal_entity: bool
    governmental: bool
    requested_status: str
    request_text: str
    submitted_at: datetime
    submitted_by: str
    under_version: int
    circulated_to: str | None = None
    circulated_at: datetime | None = None
    recommended_by: str | None = None
    recommendation: str | None = None
    recommendation_note: str | None = None
    recommended_at: datetime | None = None
    decided_by_body: str | None = None
    standing: str | None = None
    reason: str | None = None
    decision_ref: str | None = None
    decided_at: datetime | None = None
    member_id: str | None = None
    withdrawn_reason: str | None = None
    closed_at: datetime | None = None


class ApplicationPage(msgspec.Struct, kw_only=True):
    items: list[ApplicationOut]
    next_after: int | None = None


class ConductReviewOut(msgspec.Struct, kw_only=True):
    review_id: str
    by_body: str
    outcome: str
    notes: str
    decision_ref: str
    reviewed_at: datetime


class MemberOut(msgspec.Struct, kw_only=True):
    """A member as the register shows it. `person_name` (an advisory individual's name) and
    conduct reviews are shown to officers, tenant admins and auditors only."""

    member_id: str
    seq: int
    capacity: str
    name: str | None = None
    person_name: str | None = None
    organisation_kind: str | None = None
    region: str | None = None
    standing: StandingName
    status: Status
    admitted_at: datetime
    status_since: datetime
    status_reason: str | None = None
    decision_ref: str | None = None
    by_body: str | None = None
    conduct_reviews: list[ConductReviewOut] | None = None


class MemberPage(msgspec.Struct, kw_only=True):
    items: list[MemberOut]
    next_after: int | None = None


class RepresentativeOut(msgspec.Struct, kw_only=True):
    representative_id: str
    member_id: str
    role: str
    name: str | None
    email: str | None
    principal: bool
    since: datetime


class RepresentativeList(msgspec.Struct, kw_only=True):
    items: list[RepresentativeOut]
    principal_contact: str | None = None


def _sees_personal_data(principal: Principal) -> bool:
    return principal.role in (Role.TENANT_ADMIN, Role.OFFICER, Role.AUDITOR)


def _member_out(row: dict[str, Any], principal: Principal) -> MemberOut:
    if not _sees_personal_data(principal):
        row = {**row, "person_name": None, "conduct_reviews": None}
    return msgspec.convert(row, MemberOut, strict=False)


# ----------------------------------------------------------------------------- controllers


class ApplicationController(Controller):
    path = "/v1/tenants/{slug:str}/applications"
    tags = ["Membership"]

    @post(
        "/",
        operation_id="submitApplication",
        guards=[RUNNERS],
        responses=schemas.WRITE_PROBLEMS,
        sync_to_thread=True,
        status_code=201,
    )
    def submit(
        self,
        request: Request[Principal, Any, Any],
        runtime: NamedDependency[Runtime],
        slug: FromPath[str],
        data: JSONBody[SubmitApplication],
    ) -> ApplicationOut:
        """Record an application to join. Eligibility is checked at once against the ToR in
        force (region, kind, fixed list, legal entity, signatory); an ineligible one is
        refused with every reason and the clause of each."""
        if data.capacity == "individual" and data.requested_status == "member":
            data = msgspec.structs.replace(data, requested_status="advisory")
        applicant = Applicant(
            capacity=data.capacity,
            name=data.name,
            organisation_kind=data.organisation_kind,
            governmental=data.governmental,
            legal_entity=data.legal_entity,
            region=data.region,
            written_request=True,
            signatory_role=data.signatory_role,
            status=data.requested_status,
        )
        application_id = membership.submit(
            runtime,
            slug,
            applicant=applicant,
            request_text=data.request_text,
            signatory_name=data.signatory_name,
            email=data.email,
            by=request.user.actor,
        )
        return _application(runtime, slug, application_id)

    @get(
        "/",
        operation_id="listApplications",
        guards=[RECORD_READERS],
        responses=schemas.problems(400, 401, 403, 404),
        sync_to_thread=True,
    )
    def list_applications(
        self,
        runtime: NamedDependency[Runtime],
        slug: FromPath[str],
        stage: Annotated[
            Stage | None, QueryParameter(description="Only applications at this stage")
        ] = None,
        after: Annotated[int, QueryParameter(ge=0, le=2**62)] = 0,
        limit: Annotated[int, QueryParameter(ge=1, le=200)] = 50,
    ) -> ApplicationPage:
        """Applications in the order they were made, optionally at one stage."""
        rows = membership.applications(runtime, slug, stage=stage, after=after, limit=limit + 1)
        items, next_after = schemas.page_of(rows, limit, ApplicationOut)
        return ApplicationPage(items=items, next_after=next_after)

    @get(
        "/{application_id:str}",
        operation_id="getApplication",
        guards=[RECORD_READERS],
        responses=schemas.problems(401, 403, 404),
        sync_to_thread=True,
    )
    def get_application(
        self, runtime: NamedDependency[Runtime], slug: FromPath[str], application_id: FromPath[Id]
    ) -> ApplicationOut:
        """One application and the stage it has reached."""
        return _application(runtime, slug, application_id)

    @post(
        "/{application_id:str}/circulate",
        operation_id="circulateApplication",
        guards=[RUNNERS],
        responses=schemas.WRITE_PROBLEMS,
        sync_to_thread=True,
        status_code=200,
    )
    def circulate(
        self,
        request: Request[Principal, Any, Any],
        runtime: NamedDependency[Runtime],
        slug: FromPath[str],
        application_id: FromPath[Id],
        data: JSONBody[CirculateApplication],
    ) -> ApplicationOut:
        """Circulate the application to the body the ToR names (where it has this step)."""
        membership.circulate(
            runtime, slug, application_id, to_body=data.to_body, by=request.user.actor
        )
        return _application(runtime, slug, application_id)

    @post(
        "/{application_id:str}/recommend",
        operation_id="recommendApplication",
        guards=[RUNNERS],
        responses=schemas.WRITE_PROBLEMS,
        sync_to_thread=True,
        status_code=200,
    )
    def recommend(
        self,
        request: Request[Principal, Any, Any],
        runtime: NamedDependency[Runtime],
        slug: FromPath[str],
        application_id: FromPath[Id],
        data: JSONBody[RecommendApplication],
    ) -> ApplicationOut:
        """Record the recommendation of the office the ToR names (where it has this step)."""
        membership.recommend(
            runtime,
            slug,
            application_id,
            by_office=data.by_office,
            recommendation=data.recommendation,
            note=data.note,
            by=request.user.actor,
        )
        return _application(runtime, slug, application_id)

    @post(
        "/{application_id:str}/decide",
        operation_id="decideApplication",
        guards=[RUNNERS],
        responses=schemas.WRITE_PROBLEMS,
        sync_to_thread=True,
        status_code=200,
    )
    def decide(
        self,
        request: Request[Principal, Any, Any],
        runtime: NamedDependency[Runtime],
        slug: FromPath[str],
        application_id: FromPath[Id],
        data: JSONBody[DecideApplication],
    ) -> ApplicationOut:
        """Record the decision of the body the ToR names: admit (as member, observer or
        advisory member) or reject with a reason. An admission enters the register."""
        if data.outcome == "reject" and not data.reason.strip():
            raise InvalidRequest("a rejection gives its reason")
        membership.decide(
            runtime,
            slug,
            application_id,
            by_body=data.by_body,
            outcome=data.outcome,
            standing=data.standing,
            reason=data.reason,
            decision_ref=data.decision_ref,
            by=request.user.actor,
        )
        return _application(runtime, slug, application_id)

    @post(
        "/{application_id:str}/withdraw",
        operation_id="withdrawApplication",
        guards=[RUNNERS],
        responses=schemas.WRITE_PROBLEMS,
        sync_to_thread=True,
        status_code=200,
    )
    def withdraw(
        self,
        request: Request[Principal, Any, Any],
        runtime: NamedDependency[Runtime],
        slug: FromPath[str],
        application_id: FromPath[Id],
        data: JSONBody[WithdrawApplication],
    ) -> ApplicationOut:
        """Record that the applicant withdrew before the decision."""
        membership.withdraw(
            runtime, slug, application_id, reason=data.reason, by=request.user.actor
        )
        return _application(runtime, slug, application_id)


def _application(runtime: Runtime, slug: str, application_id: str) -> ApplicationOut:
    return msgspec.convert(
        membership.application(runtime, slug, application_id), ApplicationOut, strict=False
    )


class MemberController(Controller):
    path = "/v1/tenants/{slug:str}/members"
    tags = ["Membership"]

    @get(
        "/",
        operation_id="listMembers",
        guards=[ANYONE_OF_THE_TENANT],
        responses=schemas.problems(400, 401, 403, 404),
        sync_to_thread=True,
    )
    def list_members(
        self,
        request: Request[Principal, Any, Any],
        runtime: NamedDependency[Runtime],
        slug: FromPath[str],
        status: Annotated[Status | None, QueryParameter(description="Only this status")] = None,
        standing: Annotated[
            StandingName | None, QueryParameter(description="Only this standing")
        ] = None,
        after: Annotated[int, QueryParameter(ge=0, le=2**62)] = 0,
        limit: Annotated[int, QueryParameter(ge=1, le=200)] = 50,
    ) -> MemberPage:
        """The member register, in order of admission: members, observers and advisory
        members, their status and since when."""
        rows = membership.members(
            runtime, slug, status=status, standing=standing, after=after, limit=limit + 1
        )
        items = [_member_out(row, request.user) for row in rows[:limit]]
        return MemberPage(
            items=items, next_after=rows[limit - 1]["seq"] if len(rows) > limit else None
        )

    @get(
        "/{member_id:str}",
        operation_id="getMember",
        guards=[ANYONE_OF_THE_TENANT],
        responses=schemas.problems(401, 403, 404),
        sync_to_thread=True,
    )
    def get_member(
        self,
        request: Request[Principal, Any, Any],
        runtime: NamedDependency[Runtime],
        slug: FromPath[str],
        member_id: FromPath[Id],
    ) -> MemberOut:
        """One member of the register."""
        return _member_out(membership.member(runtime, slug, member_id), request.user)

    def _status(
        self,
        request: Request[Principal, Any, Any],
        runtime: Runtime,
        slug: str,
        member_id: str,
        act: Literal["suspend", "reinstate", "resign", "remove"],
        *,
        reason: str = "",
        by_body: str | None = None,
        decision_ref: str | None = None,
    ) -> MemberOut:
        membership.change_status(
            runtime,
            slug,
            member_id,
            act=act,
            reason=reason,
            by_body=by_body,
            decision_ref=decision_ref,
            by=request.user.actor,
        )
        return _member_out(membership.member(runtime, slug, member_id), request.user)

    @post(
        "/{member_id:str}/suspend",
        operation_id="suspendMember",
        guards=[RUNNERS],
        responses=schemas.WRITE_PROBLEMS,
        sync_to_thread=True,
        status_code=200,
    )
    def suspend(
        self,
        request: Request[Principal, Any, Any],
        runtime: NamedDependency[Runtime],
        slug: FromPath[str],
        member_id: FromPath[Id],
        data: JSONBody[MemberDecision],
    ) -> MemberOut:
        """Suspend a member, by decision of the body that admits members (or reviews conduct)."""
        return self._status(
            request,
            runtime,
            slug,
            member_id,
            "suspend",
            reason=data.reason,
            by_body=data.by_body,
            decision_ref=data.decision_ref,
        )

    @post(
        "/{member_id:str}/reinstate",
        operation_id="reinstateMember",
        guards=[RUNNERS],
        responses=schemas.WRITE_PROBLEMS,
        sync_to_thread=True,
        status_code=200,
    )
    def reinstate(
        self,
        request: Request[Principal, Any, Any],
        runtime: NamedDependency[Runtime],
        slug: FromPath[str],
        member_id: FromPath[Id],
        data: JSONBody[ReinstateMember],
    ) -> MemberOut:
        """Reinstate a suspended member."""
        return self._status(
            request,
            runtime,
            slug,
            member_id,
            "reinstate",
            by_body=data.by_body,
            decision_ref=data.decision_ref,
        )

    @post(
        "/{member_id:str}/resign",
        operation_id="resignMember",
        guards=[RUNNERS],
        responses=schemas.WRITE_PROBLEMS,
        sync_to_thread=True,
        status_code=200,
    )
    def resign(
        self,
        request: Request[Principal, Any, Any],
        runtime: NamedDependency[Runtime],
        slug: FromPath[str],
        member_id: FromPath[Id],
        data: JSONBody[Resign],
    ) -> MemberOut:
        """Record a member's resignation."""
        return self._status(request, runtime, slug, member_id, "resign", reason=data.reason)

    @post(
        "/{member_id:str}/remove",
        operation_id="removeMember",
        guards=[RUNNERS],
        responses=schemas.WRITE_PROBLEMS,
        sync_to_thread=True,
        status_code=200,
    )
    def remove(
        self,
        request: Request[Principal, Any, Any],
        runtime: NamedDependency[Runtime],
        slug: FromPath[str],
        member_id: FromPath[Id],
        data: JSONBody[MemberDecision],
    ) -> MemberOut:
        """Remove a member, with the reason and the decision that removed them."""
        return self._status(
            request,
            runtime,
            slug,
            member_id,
            "remove",
            reason=data.reason,
            by_body=data.by_body,
            decision_ref=data.decision_ref,
        )

    @post(
        "/{member_id:str}/conduct-reviews",
        operation_id="reviewMemberConduct",
        guards=[RUNNERS],
        responses=schemas.WRITE_PROBLEMS,
        sync_to_thread=True,
        status_code=201,
    )
    def review_conduct(
        self,
        request: Request[Principal, Any, Any],
        runtime: NamedDependency[Runtime],
        slug: FromPath[str],
        member_id: FromPath[Id],
        data: JSONBody[ConductReview],
    ) -> MemberOut:
        """Record a review of the member against the code of conduct, by the body the ToR
        names."""
        membership.review_conduct(
            runtime,
            slug,
            member_id,
            by_body=data.by_body,
            outcome=data.outcome,
            notes=data.notes,
            decision_ref=data.decision_ref,
            by=request.user.actor,
        )
        return _member_out(membership.member(runtime, slug, member_id), request.user)


class RepresentativeController(Controller):
    path = "/v1/tenants/{slug:str}/members/{member_id:str}/representatives"
    tags = ["Membership"]

    @get(
        "/",
        operation_id="listRepresentatives",
        guards=[REPRESENTATIVE_READERS],
        responses=schemas.problems(401, 403, 404),
        sync_to_thread=True,
    )
    def list_representatives(
        self,
        request: Request[Principal, Any, Any],
        runtime: NamedDependency[Runtime],
        slug: FromPath[str],
        member_id: FromPath[Id],
    ) -> RepresentativeList:
        """An organisation's representatives and its principal contact. A member key sees
        its own organisation's only."""
        if request.user.role is Role.MEMBER and request.user.member_id != member_id:
            raise Forbidden("a member key sees its own organisation's representatives only")
        return _representatives(runtime, slug, member_id)

    @post(
        "/",
        operation_id="addRepresentative",
        guards=[RUNNERS],
        responses=schemas.WRITE_PROBLEMS,
        sync_to_thread=True,
        status_code=201,
    )
    def add(
        self,
        request: Request[Principal, Any, Any],
        runtime: NamedDependency[Runtime],
        slug: FromPath[str],
        member_id: FromPath[Id],
        data: JSONBody[AddRepresentative],
    ) -> RepresentativeList:
        """Add a representative, up to the ToR's maximum."""
        membership.add_representative(
            runtime,
            slug,
            member_id,
            role=data.role,
            name=data.name,
            email=data.email,
            principal=data.principal,
            by=request.user.actor,
        )
        return _representatives(runtime, slug, member_id)

    @put(
        "/{representative_id:str}",
        operation_id="replaceRepresentative",
        guards=[RUNNERS],
        responses=schemas.WRITE_PROBLEMS,
        sync_to_thread=True,
        status_code=200,
    )
    def replace(
        self,
        request: Request[Principal, Any, Any],
        runtime: NamedDependency[Runtime],
        slug: FromPath[str],
        member_id: FromPath[Id],
        representative_id: FromPath[Id],
        data: JSONBody[ReplaceRepresentative],
    ) -> RepresentativeList:
        """Another person takes this representative's place (and their principal contact)."""
        membership.replace_representative(
            runtime,
            slug,
            member_id,
            representative_id,
            role=data.role,
            name=data.name,
            email=data.email,
            by=request.user.actor,
        )
        return _representatives(runtime, slug, member_id)

    @delete(
        "/{representative_id:str}",
        operation_id="removeRepresentative",
        guards=[RUNNERS],
        responses=schemas.problems(400, 401, 403, 404, 409, 422),
        sync_to_thread=True,
        status_code=200,
    )
    def remove(
        self,
        request: Request[Principal, Any, Any],
        runtime: NamedDependency[Runtime],
        slug: FromPath[str],
        member_id: FromPath[Id],
        representative_id: FromPath[Id],
        new_principal: Annotated[
            str | None,
            QueryParameter(
                description="Removing the principal contact: the representative who takes over",
                max_length=64,
            ),
        ] = None,
    ) -> RepresentativeList:
        """Remove a representative. Removing the principal contact while others remain needs
        `new_principal` where the ToR requires one principal contact."""
        membership.remove_representative(
            runtime,
            slug,
            member_id,
            representative_id,
            new_principal_id=new_principal,
            by=request.user.actor,
        )
        return _representatives(runtime, slug, member_id)

    @post(
        "/{representative_id:str}/principal",
        operation_id="makePrincipalContact",
        guards=[RUNNERS],
        responses=schemas.problems(401, 403, 404, 409),
        sync_to_thread=True,
        status_code=200,
    )
    def make_principal(
        self,
        request: Request[Principal, Any, Any],
        runtime: NamedDependency[Runtime],
        slug: FromPath[str],
        member_id: FromPath[Id],
        representative_id: FromPath[Id],
    ) -> RepresentativeList:
        """Make this representative the organisation's principal contact."""
        membership.make_principal(
            runtime, slug, member_id, representative_id, by=request.user.actor
        )
        return _representatives(runtime, slug, member_id)


def _representatives(runtime: Runtime, slug: str, member_id: str) -> RepresentativeList:
    rows = membership.representatives(runtime, slug, member_id)
    items = [msgspec.convert(row, RepresentativeOut, strict=False) for row in rows]
    principal = next((r.representative_id for r in items if r.principal), None)
    return RepresentativeList(items=items, principal_contact=principal)
