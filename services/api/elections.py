"""The elections API: open, nominate, open voting, ballots (sealed when secret), close and
count, recount; elections with turnout and results."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal

import msgspec
from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, QueryParameter

from domain.values import Role
from services import elections
from services.access import Principal
from services.api import schemas
from services.api.auth import ANYONE_OF_THE_TENANT, LOG_READERS, RUNNERS, acting_member
from services.api.decisions import VOTERS, Moment
from services.api.schemas import Id, Key, PersonName, Reason, Text
from services.errors import Forbidden, InvalidRequest
from services.runtime import Runtime

ElectionStatus = Literal["nominating", "voting", "closed", "cancelled"]
EARLIEST, LATEST = datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 12, 31, tzinfo=UTC)


class OpenElection(schemas.Request, kw_only=True):
    #: The elected office (a key of the ToR's offices).
    office: Key
    #: Seats to fill (default: every seat vacant when the elected take office).
    seats: Annotated[int, msgspec.Meta(ge=1, le=50)] | None = None
    nominations_close: Moment
    voting_opens: Moment
    voting_closes: Moment
    #: The day the elected take office (default: the day voting closes).
    starts_on: date | None = None


class Nominate(schemas.Request, kw_only=True):
    #: The member organisation the candidate stands for (a member key: its own).
    member_id: Id | None = None
    person_name: PersonName
    #: Why the person seeks the office and is suitable (within the ToR's word limit).
    statement: Text


class WithdrawNomination(schemas.Request, kw_only=True):
    reason: Reason


class CastBallot(schemas.Request, kw_only=True):
    #: Candidate ids, at most one per seat; empty: a blank ballot.
    choices: Annotated[list[Id], msgspec.Meta(max_length=50)]
    #: For an open election, officers record a ballot for a member; a secret ballot is
    #: cast only with the organisation's own member key.
    member_id: Id | None = None


class CancelElection(schemas.Request, kw_only=True):
    reason: Reason


class CandidateOut(msgspec.Struct, kw_only=True):
    candidate_id: str
    member_id: str
    organisation: str
    person_name: str | None = None
    statement: str
    withdrawn: bool
    votes: int | None = None
    elected: bool | None = None
    #: Elected, but the rules at the count kept the candidate from taking office: why.
    seat_refused: str | None = None


class OpenVoteOut(msgspec.Struct, kw_only=True):
    member_id: str
    choices: list[str]


class ElectionOut(msgspec.Struct, kw_only=True):
    election_id: str
    seq: int
    office: str
    seats: int
    status: ElectionStatus
    secret_ballot: bool
    method: str
    nominations_close: datetime
    voting_opens: datetime
    voting_closes: datetime
    starts_on: date
    #: Organisations entitled to a ballot (fixed when voting opened).
    electorate: int | None = None
    turnout: int
    #: Once closed: ballots, blank, counts per candidate, elected, not elected and why,
    #: the lot's seed and the groups it ordered.
    result: dict[str, Any] | None = None
    cancelled_reason: str | None = None
    opened_by: str
    under_version: int
    candidates: list[CandidateOut] = []
    #: The organisations that have voted (turnout), never what they voted in secret.
    voted: list[str] = []
    #: An open (non-secret) election's ballots, by organisation; null when secret.
    open_votes: list[OpenVoteOut] | None = None


class ElectionSummaryOut(msgspec.Struct, kw_only=True):
    election_id: str
    seq: int
    office: str
    seats: int
    status: ElectionStatus
    secret_ballot: bool
    nominations_close: datetime
    voting_opens: datetime
    voting_closes: datetime
    starts_on: date
    electorate: int | None = None
    turnout: int
    result: dict[str, Any] | None = None


class ElectionPage(msgspec.Struct, kw_only=True):
    items: list[ElectionSummaryOut]
    next_after: int | None = None


class RecountOut(msgspec.Struct, kw_only=True):
    election_id: str
    ballots: int
    recorded: dict[str, Any]
    recounted: dict[str, Any]
    #: True when the recount from the recorded ballots gives the recorded result.
    matches: bool


def _moment(value: datetime, name: str) -> datetime:
    if not EARLIEST <= value <= LATEST:
        raise InvalidRequest(f"{name} must fall between the years 2000 and 2100")
    return value.astimezone(UTC)


def _election(runtime: Runtime, slug: str, election_id: str) -> ElectionOut:
    return msgspec.convert(
        elections.election(runtime, slug, election_id), ElectionOut, strict=False
    )


class ElectionController(Controller):
    path = "/v1/tenants/{slug:str}/elections"
    tags = ["Decisions"]

    @get(
        "/",
        operation_id="listElections",
        guards=[ANYONE_OF_THE_TENANT],
        responses=schemas.problems(400, 401, 403, 404),
        sync_to_thread=True,
    )
    def list_elections(
        self,
        runtime: NamedDependency[Runtime],
        slug: FromPath[str],
        office: Annotated[Key | None, QueryParameter()] = None,
        status: Annotated[ElectionStatus | None, QueryParameter()] = None,
        after: Annotated[int, QueryParameter(ge=0, le=2**62)] = 0,
        limit: Annotated[int, QueryParameter(ge=1, le=200)] = 50,
    ) -> ElectionPage:
        """Elections in the order they were opened, with turnout and results."""
        rows = elections.elections(
            runtime, slug, office=office, status=status, after=after, limit=limit + 1
        )
        items, next_after = schemas.page_of(rows, limit, ElectionSummaryOut)
        return ElectionPage(items=items, next_after=next_after)

    @get(
        "/{election_id:str}",
        operation_id="getElection",
        guards=[ANYONE_OF_THE_TENANT],
        responses=schemas.problems(401, 403, 404),
        sync_to_thread=True,
    )
    def get_election(
        self, runtime: NamedDependency[Runtime], slug: FromPath[str], election_id: FromPath[Id]
    ) -> ElectionOut:
        """One election: candidates and statements, turnout, and once closed the result."""
        return _election(runtime, slug, election_id)

    @get(
        "/{election_id:str}/recount",
        operation_id="recountElection",
        guards=[LOG_READERS],
        responses=schemas.problems(401, 403, 404, 422),
        sync_to_thread=True,
    )
    def recount(
        self, runtime: NamedDependency[Runtime], slug: FromPath[str], election_id: FromPath[Id]
    ) -> RecountOut:
        """Count the recorded ballots again from the event log (the lot included) and
        compare with the declared result."""
        return msgspec.convert(elections.recount(runtime, slug, election_id), RecountOut)

    @post(
        "/",
        operation_id="openElection",
        guards=[RUNNERS],
        responses=schemas.WRITE_PROBLEMS,
        sync_to_thread=True,
        status_code=201,
    )
    def open(
        self,
        request: Request[Principal, Any, Any],
        runtime: NamedDependency[Runtime],
        slug: FromPath[str],
        data: JSONBody[OpenElection],
    ) -> ElectionOut:
        """Open an election to an elected office, with its nomination and voting
        windows; secret where the ToR says elections are by secret ballot."""
        election_id = elections.open_election(
            runtime,
            slug,
            office=data.office,
            seats=data.seats,
            nominations_close=_moment(data.nominations_close, "nominations_close"),
            voting_opens=_moment(data.voting_opens, "voting_opens"),
            voting_closes=_moment(data.voting_closes, "voting_closes"),
            starts_on=data.starts_on,
            by=request.user.actor,
        )
        return _election(runtime, slug, election_id)

    @post(
        "/{election_id:str}/nominations",
        operation_id="nominateCandidate",
        guards=[VOTERS],
        responses=schemas.WRITE_PROBLEMS,
        sync_to_thread=True,
        status_code=201,
    )
    def nominate(
        self,
        request: Request[Principal, Any, Any],
        runtime: NamedDependency[Runtime],
        slug: FromPath[str],
        election_id: FromPath[Id],
        data: JSONBody[Nominate],
    ) -> ElectionOut:
        """Nominate a person of a member organisation, with a candidacy statement within
        the ToR's word limit; eligibility is checked against the office's rules."""
        elections.nominate(
            runtime,
            slug,
            election_id,
            member_id=acting_member(request.user, data.member_id, "nominate"),
            person_name=data.person_name,
            statement=data.statement,
            by=request.user.actor,
        )
        return _election(runtime, slug, election_id)

    @post(
        "/{election_id:str}/nominations/{candidate_id:str}/withdraw",
        operation_id="withdrawNomination",
        guards=[VOTERS],
        responses=schemas.WRITE_PROBLEMS,
        sync_to_thread=True,
        status_code=200,
    )
    def withdraw_nomination(
        self,
        request: Request[Principal, Any, Any],
        runtime: NamedDependency[Runtime],
        slug: FromPath[str],
        election_id: FromPath[Id],
        candidate_id: FromPath[Id],
        data: JSONBody[WithdrawNomination],
    ) -> ElectionOut:
        """Withdraw a candidate while nominations are open (a member key: its own)."""
        if request.user.role is Role.MEMBER:
            owner = elections.candidate_member(runtime, slug, election_id, candidate_id)
            acting_member(request.user, owner, "withdraw a nomination")
        elections.withdraw_nomination(
            runtime, slug, election_id, candidate_id, reason=data.reason, by=request.user.actor
        )
        return _election(runtime, slug, election_id)

    @post(
        "/{election_id:str}/voting",
        operation_id="openElectionVoting",
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
        election_id: FromPath[Id],
    ) -> ElectionOut:
        """Open the ballot within its window; the entitled organisations are fixed now."""
        elections.open_voting(runtime, slug, election_id, by=request.user.actor)
        return _election(runtime, slug, election_id)

    @post(
        "/{election_id:str}/ballots",
        operation_id="castBallot",
        guards=[VOTERS],
        responses=schemas.WRITE_PROBLEMS,
        sync_to_thread=True,
        status_code=202,
    )
    def cast_ballot(
        self,
        request: Request[Principal, Any, Any],
        runtime: NamedDependency[Runtime],
        slug: FromPath[str],
        election_id: FromPath[Id],
        data: JSONBody[CastBallot],
    ) -> ElectionOut:
        """One ballot per entitled organisation. A secret ballot is cast only with the
        organisation's own member key; it is sealed at once, and the answer shows the
        turnout, never the choices."""
        user = request.user
        found = elections.election(runtime, slug, election_id)
        if found["secret_ballot"] and user.role is not Role.MEMBER:
            raise Forbidden("a secret ballot is cast only with the member organisation's own key")
        elections.cast_ballot(
            runtime,
            slug,
            election_id,
            member_id=acting_member(user, data.member_id, "vote"),
            choices=data.choices,
            by=user.actor,
        )
        return _election(runtime, slug, election_id)

    @post(
        "/{election_id:str}/close",
        operation_id="closeElection",
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
        election_id: FromPath[Id],
    ) -> ElectionOut:
        """Close the ballot (after its window, or once every entitled organisation has
        voted) and count it; the elected take office with the ToR's term."""
        elections.close(runtime, slug, election_id, by=request.user.actor)
        return _election(runtime, slug, election_id)

    @post(
        "/{election_id:str}/cancel",
        operation_id="cancelElection",
        guards=[RUNNERS],
        responses=schemas.WRITE_PROBLEMS,
        sync_to_thread=True,
        status_code=200,
    )
    def cancel(
        self,
        request: Request[Principal, Any, Any],
        runtime: NamedDependency[Runtime],
        slug: FromPath[str],
        election_id: FromPath[Id],
        data: JSONBody[CancelElection],
    ) -> ElectionOut:
        """Cancel an election before it is counted (sealed ballots become unreadable)."""
        elections.cancel(runtime, slug, election_id, reason=data.reason, by=request.user.actor)
        return _election(runtime, slug, election_id)
