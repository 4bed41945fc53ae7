"""Use cases of elections: open, nominate, open voting, cast a ballot (sealed, for a secret
ballot), close and count — the elected take office in the same transaction — and recount
from the recorded ballots."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from domain.elections import (
    CANCELLED,
    CLOSED,
    NOMINATING,
    VOTING,
    BallotBox,
    CandidateFacts,
    Election,
    InvalidElection,
    tally,
)
from domain.errors import DomainError
from domain.membership import Member
from domain.offices import OfficeRoll
from projections import elections as view
from services import ballots
from services.decisions import entitled_voters
from services.errors import NotFound
from services.offices import body_members
from services.runtime import Runtime
from services.tenancy import Command, command, record_of, views


def _election(cmd: Command, election_id: str) -> Election:
    return cmd.get(Election, election_id, "election")


def _roll(cmd: Command, office: str) -> OfficeRoll:
    return cmd.find(OfficeRoll, OfficeRoll.create_id(office)) or OfficeRoll.open(office)


def open_election(
    runtime: Runtime,
    slug: str,
    *,
    office: str,
    seats: int | None,
    nominations_close: datetime,
    voting_opens: datetime,
    voting_closes: datetime,
    starts_on: date | None,
    by: str,
) -> str:
    """Open an election for the seats of an elected office that will be vacant when the
    elected take office (default: all of them)."""
    with command(runtime, slug, "open_election") as cmd:
        rule = cmd.terms.rules.office(office)
        if rule is None:
            known = ", ".join(o.key for o in cmd.terms.rules.offices) or "none"
            raise NotFound(f"the Terms of Reference in force have no office {office!r} ({known})")
        start = starts_on or voting_closes.date()
        continuing = _roll(cmd, office).holders_on(start)
        with cmd.store.read() as sql:
            # Seats another election of this office is still filling are not vacant.
            underway = sum(
                row["seats"]
                for status in (NOMINATING, VOTING)
                for row in view.elections(sql, office=office, status=status, limit=1000)
            )
        vacancies = rule.seats - len(continuing) - underway
        election = Election.open(
            office=office,
            seats=seats or max(vacancies, 1),
            nominations_close=nominations_close,
            voting_opens=voting_opens,
            voting_closes=voting_closes,
            starts_on=starts_on,
            vacancies=vacancies,
            continuing_organisations=[t.organisation for t in continuing],
            now=cmd.now,
            by=by,
            terms=cmd.terms,
            lot_commitment=ballots.new_lot_nonce(cmd.store),
        )
        if not election.secret_ballot:
            cmd.record(election)
            return str(election.id)
        ballots.create_key(cmd.store, str(election.id))
        cmd.record(election, BallotBox.place(str(election.id)))
        return str(election.id)


def nominate(
    runtime: Runtime,
    slug: str,
    election_id: str,
    *,
    member_id: str,
    person_name: str,
    statement: str,
    by: str,
) -> str:
    with command(runtime, slug, "nominate_candidate") as cmd:
        election = _election(cmd, election_id)
        member = cmd.get(Member, member_id, "member")
        candidate_id = election.nominate(
            candidate=CandidateFacts(
                member_id=member_id,
                organisation=member.name or "",
                is_voting_member=member.votes,
                held_before=_roll(cmd, election.office).has_held(
                    member_id, member.name or "", person_name
                ),
            ),
            person_name=person_name,
            statement=statement,
            now=cmd.now,
            by=by,
            terms=cmd.terms,
        )
        cmd.record(election)
        return candidate_id


def withdraw_nomination(
    runtime: Runtime, slug: str, election_id: str, candidate_id: str, *, reason: str, by: str
) -> None:
    with command(runtime, slug, "withdraw_nomination") as cmd:
        election = _election(cmd, election_id)
        if candidate_id not in election.candidates:
            raise NotFound(f"no candidate {candidate_id!r} in this election")
        election.withdraw_nomination(candidate_id=candidate_id, reason=reason, by=by)
        cmd.record(election)


def candidate_member(runtime: Runtime, slug: str, election_id: str, candidate_id: str) -> str:
    """The member organisation a candidate stands for (to check a member key's reach)."""
    found = record_of(runtime, slug, Election, election_id, "election").candidates.get(candidate_id)
    if found is None:
        raise NotFound(f"no candidate {candidate_id!r} in this election")
    return found.member_id


def open_voting(runtime: Runtime, slug: str, election_id: str, *, by: str) -> None:
    """Open the ballot: the entitled organisations are fixed now."""
    with command(runtime, slug, "open_election_voting") as cmd:
        election = _election(cmd, election_id)
        rule = cmd.terms.rules.office(election.office)
        body = rule.body if rule else "full-membership"
        election.open_voting(
            entitled=entitled_voters(cmd, body, cmd.today),
            now=cmd.now,
            by=by,
            terms=cmd.terms,
        )
        cmd.record(election)


def cast_ballot(
    runtime: Runtime, slug: str, election_id: str, *, member_id: str, choices: list[str], by: str
) -> None:
    """One ballot per entitled organisation. A secret ballot records only the turnout on
    the election; the choices are sealed into the ballot box, in the same transaction."""
    with command(runtime, slug, "cast_ballot") as cmd:
        election = _election(cmd, election_id)
        if not election.secret_ballot:
            election.record_vote(member_id=member_id, choices=choices, now=cmd.now, by=by)
            cmd.record(election)
            return
        election.record_turnout(member_id=member_id, choices=choices, now=cmd.now, by=by)
        box = cmd.get(BallotBox, Election.box_id(election_id), "ballot box")
        box.seal(ballots.seal(cmd.store, election_id, choices))
        cmd.record(election, box)


def close(runtime: Runtime, slug: str, election_id: str, *, by: str) -> list[str]:
    """Close the ballot and count it; the elected take office with the ToR's term, in the
    same transaction. A secret ballot's key is destroyed once the count is recorded.
    Returns the holding ids of the elected."""
    with command(runtime, slug, "close_election") as cmd:
        election = _election(cmd, election_id)
        if election.secret_ballot and election.status in (CLOSED, CANCELLED):
            # A key left by a process that died after the count: forget it now (the
            # domain then answers that the election is already closed).
            ballots.destroy_key(cmd.store, election_id)
        opened = None
        if election.secret_ballot and election.status == VOTING:
            box = cmd.get(BallotBox, Election.box_id(election_id), "ballot box")
            opened = ballots.open_all(cmd.store, election_id, box.sealed)
        result = election.close(
            sealed_ballots=opened,
            now=cmd.now,
            by=by,
            terms=cmd.terms,
            lot_nonce=ballots.lot_nonce(cmd.store, election.lot_commitment),
        )
        roll = _roll(cmd, election.office)
        rule = cmd.terms.rules.office(election.office)
        holdings = []
        for candidate_id in result.elected:
            candidate = election.candidates[candidate_id]
            member = cmd.get(Member, candidate.member_id, "member")
            try:
                holding = roll.appoint(
                    body_members=body_members(cmd, rule.body, election.starts_on) if rule else 0,
                    terms=cmd.terms,
                    via="elected",
                    member_id=candidate.member_id,
                    organisation=member.name or candidate.organisation,
                    person_name=candidate.person_name,
                    candidate_is_member=member.votes,
                    starts_on=election.starts_on,
                    by_body=None,
                    decision_ref=None,
                    election_ref=election_id,
                    outside_approval_ref=None,
                    by=by,
                )
            except DomainError as refused:
                # The result stands; the seat stays vacant and the record says why.
                election.record_refused_seat(
                    candidate_id=candidate_id,
                    message=refused.message,
                    violations=list(refused.violations),
                    by=by,
                )
                continue
            holdings.append(holding)
        cmd.record(election, *([roll] if holdings else []))
        ballots.forget_lot_nonce(cmd.store, election.lot_commitment)
        if election.secret_ballot:
            ballots.destroy_key(cmd.store, election_id)
        return holdings


def cancel(runtime: Runtime, slug: str, election_id: str, *, reason: str, by: str) -> None:
    with command(runtime, slug, "cancel_election") as cmd:
        election = _election(cmd, election_id)
        election.cancel(reason=reason, by=by)
        cmd.record(election)
        if election.secret_ballot:
            ballots.destroy_key(cmd.store, election_id)


# ----------------------------------------------------------------------------- reads


def elections(runtime: Runtime, slug: str, **filters: Any) -> list[dict[str, Any]]:
    with views(runtime, slug) as sql:
        return view.elections(sql, **filters)


def election(runtime: Runtime, slug: str, election_id: str) -> dict[str, Any]:
    with views(runtime, slug) as sql:
        found = view.election(sql, election_id)
    if found is None:
        raise NotFound(f"no election {election_id!r} in this alliance")
    return found


def recount(runtime: Runtime, slug: str, election_id: str) -> dict[str, Any]:
    """Count the recorded ballots again, from the record alone, and compare with the
    recorded result: an auditor's check that the declared result follows from the
    ballots (the lot included)."""
    with runtime.tracer.start_as_current_span("read.recount_election"):
        found = record_of(runtime, slug, Election, election_id, "election")
        if found.status != "closed":
            raise InvalidElection(
                f"this election is {found.status}: only a closed one is recounted"
            )
        recorded = found.result
        again = tally(
            election_id=election_id,
            ballots=found.ballots,
            candidates=found.standing(),
            seats=found.seats,
            method=found.method,
            distinct_organisations=found.distinct_organisations,
            taken_organisations=found.continuing,
            majority_base=len(found.electorate) if found.majority_of_voting_members else None,
            nonce=found.lot_nonce,
        )
    recounted = {
        "counts": again.counts,
        "elected": again.elected,
        "not_elected": again.not_elected,
        "seed": again.seed,
        "lot": again.lot,
    }
    return {
        "election_id": election_id,
        "ballots": len(found.ballots),
        "recorded": recorded,
        "recounted": recounted,
        "matches": recorded == recounted,
    }
