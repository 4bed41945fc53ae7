"""The motions API: propose, seek consensus, vote, count, casting vote, withdraw; motions
with their result and the path they took, and an organisation's voting record."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal

import msgspec
from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, QueryParameter

from domain.motions import Decides
from domain.values import Role
from services import decisions
from services.access import Principal
from services.api import schemas
from services.api.auth import ANYONE_OF_THE_TENANT, RUNNERS, acting_member, allow
from services.api.schemas import Id, Key, PersonName, Reason, Text
from services.errors import InvalidRequest
from services.runtime import Runtime

#: Who may vote: a member organisation's own key, or an officer recording a vote taken
#: at a meeting (e.g. by show of hands) for a member.
VOTERS = allow(Role.TENANT_ADMIN, Role.OFFICER, Role.MEMBER)

Choice = Literal["for", "against", "abstain"]
MotionStatus = Literal["proposed", "voting", "tied", "carried", "defeated", "referred", "withdrawn"]
LATEST = datetime(2100, 12, 31, tzinfo=UTC)
Moment = Annotated[
    datetime,
    msgspec.Meta(tz=True, description="An RFC 3339 date-time with its offset"),
]


class DecidesIn(schemas.Request, kw_only=True):
    """What the motion decides, once carried."""

    kind: Literal["position", "admission", "appointment", "amendment"] = "position"
    #: For an admission: the application it decides.
    application_id: Id | None = None
    #: For an amendment: the proposed amendment it adopts.
    amendment_id: Id | None = None
    #: For an appointment: the office, and the member (and person) appointed.
    office: Key | None = None
    member_id: Id | None = None
    person_name: PersonName | None = None
    #: When an appointment or amendment takes effect (default: the day it is carried).
    effective_from: date | None = None


class ProposeMotion(schemas.Request, kw_only=True):
    #: The body the motion is put to (a key of the ToR's bodies).
    body: Key
    text: Text
    #: The member organisation proposing it (None: proposed for the body by its officers).
    proposer_member_id: Id | None = None
    #: A public stance of the alliance (without consensus, the ToR may put it to all).
    public_stance: bool = False
    decides: DecidesIn = msgspec.field(default_factory=DecidesIn)


class SeekConsensus(schemas.Request, kw_only=True):
    #: The held meeting of the body where consensus was sought.
    meeting_id: Id
    reached: bool


class OpenVoting(schemas.Request, kw_only=True):
    #: The held meeting of the body where the motion is put to the vote.
    meeting_id: Id
    #: Until when organisations may vote (None: until an officer closes the vote).
    closes_at: Moment | None = None


class CastVote(schemas.Request, kw_only=True):
    choice: Choice
    #: The organisation voting (a member key votes for its own; officers name it).
    member_id: Id | None = None
    #: Which of its representatives cast the vote.
    representative_id: Id | None = None


class CastingVoteIn(schemas.Request, kw_only=True):
    holding_id: Id
    choice: Literal["for", "against"]


class GiveCastingVote(schemas.Request, kw_only=True):
    #: One casting vote from each current holder of the office the ToR names (none when
    #: no one holds it any more: the tie then fails).
    votes: Annotated[list[CastingVoteIn], msgspec.Meta(max_length=20)]


class WithdrawMotion(schemas.Request, kw_only=True):
    reason: Reason


class DecidesOut(msgspec.Struct, kw_only=True):
    kind: str
    application_id: str | None = None
    amendment_id: str | None = None
    office: str | None = None
    member_id: str | None = None
    effective_from: str | None = None


class VoteOut(msgspec.Struct, kw_only=True):
    member_id: str
    choice: Choice
    representative_id: str | None = None


class MotionOut(msgspec.Struct, kw_only=True):
    motion_id: str
    seq: int
    body: str
    text: str
    proposer_member_id: str | None = None
    public_stance: bool
    decides: DecidesOut
    status: MotionStatus
    #: The motion of another body whose lack of consensus referred this one here.
    referred_from: str | None = None
    #: The motion this one was referred on as.
    referred_to: str | None = None
    meeting_id: str | None = None
    #: Who votes: "attendees" of the meeting, or "all-members" (absentees too).
    scope: str | None = None
    electorate: int | None = None
    closes_at: str | None = None
    #: The count: for, against, abstain, turnout, electorate, quorum, outcome.
    tally: dict[str, Any] | None = None
    #: How the result came: consensus, vote, casting-vote, referral.
    via: str | None = None
    reason: str | None = None
    #: The rule that decided it, and the ToR clause that carries the rule.
    rule: str | None = None
    clause: str | None = None
    #: What the carried motion did: {applied, kind, ref} or {applied: false, message}.
    effect: dict[str, Any] | None = None
    #: Every step, in order, with the ToR version and rules it applied.
    path: list[dict[str, Any]]
    withdrawn_reason: str | None = None
    proposed_by: str
    under_version: int
    votes: list[VoteOut] = []


class MotionPage(msgspec.Struct, kw_only=True):
    items: list[MotionOut]
    next_after: int | None = None


class VotingRecordEntry(msgspec.Struct, kw_only=True):
    seq: int
    motion_id: str
    body: str
    text: str
    choice: Choice
    representative_id: str | None = None
    status: MotionStatus


class VotingRecordPage(msgspec.Struct, kw_only=True):
    member_id: str
    items: list[VotingRecordEntry]
    next_after: int | None = None


def _motion(runtime: Runtime, slug: str, motion_id: str) -> MotionOut:
    return msgspec.convert(decisions.motion(runtime, slug, motion_id), MotionOut, strict=False)


class MotionController(Controller):
    path = "/v1/tenants/{slug:str}/motions"
    tags = ["Decisions"]

    @get(
        "/",
        operation_id="listMotions",
        guards=[ANYONE_OF_THE_TENANT],
        responses=schemas.problems(400, 401, 403, 404),
        sync_to_thread=True,
    )
    def list_motions(
        self,
        runtime: NamedDependency[Runtime],
        slug: FromPath[str],
        of_body: Annotated[
            Key | None, QueryParameter(name="body", description="Only motions to this body")
        ] = None,
        status: Annotated[MotionStatus | None, QueryParameter()] = None,
        open_only: Annotated[
            bool,
            QueryParameter(name="open", description="Only open motions (proposed, voting, tied)"),
        ] = False,
        after: Annotated[int, QueryParameter(ge=0, le=2**62)] = 0,
        limit: Annotated[int, QueryParameter(ge=1, le=200)] = 50,
    ) -> MotionPage:
        """Motions in the order they were proposed, with their result and path."""
        rows = decisions.motions(
            runtime,
            slug,
            body=of_body,
            status=status,
            open_only=open_only,
            after=after,
            limit=limit + 1,
        )
        items, next_after = schemas.page_of(rows, limit, MotionOut)
        return MotionPage(items=items, next_after=next_after)

    @get(
        "/voting-record",
        operation_id="getVotingRecord",
        guards=[ANYONE_OF_THE_TENANT],
        responses=schemas.problems(400, 401, 403, 404),
        sync_to_thread=True,
    )
    def voting_record(
        self,
        runtime: NamedDependency[Runtime],
        slug: FromPath[str],
        member_id: Annotated[Id, QueryParameter(description="The member organisation")],
        after: Annotated[int, QueryParameter(ge=0, le=2**62)] = 0,
        limit: Annotated[int, QueryParameter(ge=1, le=200)] = 50,
    ) -> VotingRecordPage:
        """How an organisation voted on motions (votes on motions are open; secret
        ballots are elections, and never appear here)."""
        rows = decisions.voting_record(runtime, slug, member_id, after=after, limit=limit + 1)
        items, next_after = schemas.page_of(rows, limit, VotingRecordEntry)
        return VotingRecordPage(member_id=member_id, items=items, next_after=next_after)

    @get(
        "/{motion_id:str}",
        operation_id="getMotion",
        guards=[ANYONE_OF_THE_TENANT],
        responses=schemas.problems(401, 403, 404),
        sync_to_thread=True,
    )
    def get_motion(
        self, runtime: NamedDependency[Runtime], slug: FromPath[str], motion_id: FromPath[Id]
    ) -> MotionOut:
        """One motion: its path step by step, its votes, result and effect."""
        return _motion(runtime, slug, motion_id)

    @post(
        "/",
        operation_id="proposeMotion",
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
        data: JSONBody[ProposeMotion],
    ) -> MotionOut:
        """Put a motion to a body. What it decides is checked against the ToR now: the
        body must be the one that approves amendments, decides applications or appoints
        to the office."""
        wanted = data.decides
        motion_id = decisions.propose(
            runtime,
            slug,
            body=data.body,
            text=data.text,
            proposer_member_id=data.proposer_member_id,
            public_stance=data.public_stance,
            decides=Decides(
                kind=wanted.kind,
                application_id=wanted.application_id,
                amendment_id=wanted.amendment_id,
                office=wanted.office,
                member_id=wanted.member_id,
                effective_from=wanted.effective_from.isoformat() if wanted.effective_from else None,
            ),
            person_name=wanted.person_name,
            by=request.user.actor,
        )
        return _motion(runtime, slug, motion_id)

    @post(
        "/{motion_id:str}/consensus",
        operation_id="seekConsensus",
        guards=[RUNNERS],
        responses=schemas.WRITE_PROBLEMS,
        sync_to_thread=True,
        status_code=200,
    )
    def consensus(
        self,
        request: Request[Principal, Any, Any],
        runtime: NamedDependency[Runtime],
        slug: FromPath[str],
        motion_id: FromPath[Id],
        data: JSONBody[SeekConsensus],
    ) -> MotionOut:
        """Record whether the body reached consensus at a held meeting. Reached: carried
        (and in effect). Not reached where the ToR escalates: referred, automatically, as
        a new motion linked both ways (`referred_to`)."""
        decisions.seek_consensus(
            runtime,
            slug,
            motion_id,
            meeting_id=data.meeting_id,
            reached=data.reached,
            by=request.user.actor,
        )
        return _motion(runtime, slug, motion_id)

    @post(
        "/{motion_id:str}/voting",
        operation_id="openMotionVoting",
        guards=[RUNNERS],
        responses=schemas.WRITE_PROBLEMS,
        sync_to_thread=True,
        status_code=200,
    )
    def open_voting(
        self,
        request: Request[Principal, Any, Any],
        runtime: NamedDependency[Runtime],
        slug: FromPath[str],
        motion_id: FromPath[Id],
        data: JSONBody[OpenVoting],
    ) -> MotionOut:
        """Put the motion to the vote at a held, quorate meeting (a main meeting where
        the ToR says so). The electorate is fixed now: the voting organisations present,
        or all of them for a public stance where the ToR says so."""
        if data.closes_at is not None and data.closes_at > LATEST:
            raise InvalidRequest("closes_at must fall before the year 2101")
        decisions.open_voting(
            runtime,
            slug,
            motion_id,
            meeting_id=data.meeting_id,
            closes_at=data.closes_at.astimezone(UTC) if data.closes_at else None,
            by=request.user.actor,
        )
        return _motion(runtime, slug, motion_id)

    @post(
        "/{motion_id:str}/votes",
        operation_id="castVote",
        guards=[VOTERS],
        responses=schemas.WRITE_PROBLEMS,
        sync_to_thread=True,
        status_code=200,
    )
    def cast_vote(
        self,
        request: Request[Principal, Any, Any],
        runtime: NamedDependency[Runtime],
        slug: FromPath[str],
        motion_id: FromPath[Id],
        data: JSONBody[CastVote],
    ) -> MotionOut:
        """One organisation, one vote: for, against or abstain. Where the ToR lets votes
        change, the last one before the count counts; otherwise the first is final."""
        decisions.cast_vote(
            runtime,
            slug,
            motion_id,
            member_id=acting_member(request.user, data.member_id, "vote"),
            representative_id=data.representative_id,
            choice=data.choice,
            by=request.user.actor,
        )
        return _motion(runtime, slug, motion_id)

    @post(
        "/{motion_id:str}/close",
        operation_id="closeMotionVoting",
        guards=[RUNNERS],
        responses=schemas.WRITE_PROBLEMS,
        sync_to_thread=True,
        status_code=200,
    )
    def close(
        self,
        request: Request[Principal, Any, Any],
        runtime: NamedDependency[Runtime],
        slug: FromPath[str],
        motion_id: FromPath[Id],
    ) -> MotionOut:
        """Count the vote by the rules fixed when it opened. A carried motion takes
        effect at once; a tie awaits the casting vote where the ToR gives one."""
        decisions.close_voting(runtime, slug, motion_id, by=request.user.actor)
        return _motion(runtime, slug, motion_id)

    @post(
        "/{motion_id:str}/casting-vote",
        operation_id="giveCastingVote",
        guards=[RUNNERS],
        responses=schemas.WRITE_PROBLEMS,
        sync_to_thread=True,
        status_code=200,
    )
    def casting_vote(
        self,
        request: Request[Principal, Any, Any],
        runtime: NamedDependency[Runtime],
        slug: FromPath[str],
        motion_id: FromPath[Id],
        data: JSONBody[GiveCastingVote],
    ) -> MotionOut:
        """Break a tie: every current holder of the casting office votes for or
        against; if they disagree, the motion fails."""
        votes = {v.holding_id: v.choice for v in data.votes}
        if len(votes) != len(data.votes):
            raise InvalidRequest("each holding gives one casting vote")
        decisions.give_casting_vote(runtime, slug, motion_id, votes=votes, by=request.user.actor)
        return _motion(runtime, slug, motion_id)

    @post(
        "/{motion_id:str}/withdraw",
        operation_id="withdrawMotion",
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
        motion_id: FromPath[Id],
        data: JSONBody[WithdrawMotion],
    ) -> MotionOut:
        """Withdraw a motion not yet put to a vote."""
        decisions.withdraw(runtime, slug, motion_id, reason=data.reason, by=request.user.actor)
        return _motion(runtime, slug, motion_id)
