"""Use cases of motions: propose, seek consensus (and refer on), vote, count, break a tie
by the casting vote, withdraw; and, once carried, give effect to what a motion decides
(adopt a ToR amendment, admit a member, appoint to an office) in the same transaction."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from eventsourcing.domain import Aggregate

from domain.errors import DomainError, RulesBroken
from domain.meetings import HELD, Meeting
from domain.membership import CLOSED, Member, MembershipApplication
from domain.motions import Choice, Decides, InvalidMotion, MeetingFacts, Motion
from domain.offices import BodyRoster, OfficeRoll
from domain.rule_checks import check_amendment_approval, rule_violation
from projections import member_register
from projections import motions as view
from services.errors import NotFound
from services.offices import body_members
from services.runtime import Runtime
from services.tenancy import Command, command, views


def _motion(cmd: Command, motion_id: str) -> Motion:
    return cmd.get(Motion, motion_id, "motion")


def _meeting(cmd: Command, meeting_id: str) -> MeetingFacts:
    meeting = cmd.get(Meeting, meeting_id, "meeting")
    return MeetingFacts(
        meeting_id=meeting_id,
        body=meeting.body,
        main=meeting.main,
        held=meeting.status == HELD,
        quorate=meeting.status == HELD and bool(meeting.quorate),
    )


def voting_members(cmd: Command) -> list[str]:
    """The ids of the members entitled to vote now (active, full members)."""
    with cmd.store.read() as sql:
        return member_register.voting_member_ids(sql)


def entitled_voters(cmd: Command, body: str, day: date) -> list[str]:
    """The organisations entitled to vote in a body: every voting member for the full
    membership (and the working groups, which the membership forms); for a committee or
    steering group, the voting members sitting on it or holding one of its offices."""
    everyone = voting_members(cmd)
    rule = cmd.terms.rules.body(body)
    if rule is None or rule.kind in ("full-membership", "working-group"):
        return everyone
    sitting: set[str] = set()
    roster = cmd.find(BodyRoster, BodyRoster.create_id(body))
    if roster is not None:
        sitting |= {t.organisation for t in roster.seats.values() if t.held_on(day)}
    for office in cmd.terms.rules.offices:
        if office.body == body:
            roll = cmd.find(OfficeRoll, OfficeRoll.create_id(office.key))
            if roll is not None:
                sitting |= {t.organisation for t in roll.holders_on(day)}
    return sorted(sitting & set(everyone))


# ----------------------------------------------------------------------------- proposing


def propose(
    runtime: Runtime,
    slug: str,
    *,
    body: str,
    text: str,
    proposer_member_id: str | None,
    public_stance: bool,
    decides: Decides,
    person_name: str | None,
    by: str,
) -> str:
    """Put a motion to a body. What it decides is checked now against the ToR (the body
    that approves amendments, decides applications, appoints to the office), so a motion
    that could never take effect is refused before anyone votes on it."""
    with command(runtime, slug, "propose_motion") as cmd:
        if proposer_member_id is not None:
            cmd.get(Member, proposer_member_id, "member")
        motion = Motion.propose(
            body=body,
            text=text,
            proposer_member_id=proposer_member_id,
            public_stance=public_stance,
            decides=decides,
            person_name=person_name,
            by=by,
            terms=cmd.terms,
        )
        _check_effect_possible(cmd, body, decides)
        cmd.record(motion)
        return str(motion.id)


def _check_effect_possible(cmd: Command, body: str, decides: Decides) -> None:
    rules, clauses = cmd.terms.rules, cmd.terms.clauses
    if decides.kind == "amendment":
        assert decides.amendment_id is not None
        found = cmd.charter.amendments.get(decides.amendment_id)
        if found is None:
            raise NotFound(f"no amendment {decides.amendment_id!r} of these Terms of Reference")
        if found.state != "proposed":
            raise InvalidMotion(f"amendment {decides.amendment_id!r} is {found.state}")
        violations = check_amendment_approval(rules, clauses, body=body)
        if violations:
            raise RulesBroken(violations)
    elif decides.kind == "admission":
        assert decides.application_id is not None
        application = cmd.get(MembershipApplication, decides.application_id, "application")
        if application.stage in CLOSED:
            raise InvalidMotion(f"application {decides.application_id!r} is {application.stage}")
        decider = rules.membership.route.decided_by
        if body != decider:
            raise RulesBroken(
                [
                    rule_violation(
                        clauses,
                        "membership.route.decided_by",
                        f"applications are decided by the {decider}, not the {body}",
                    )
                ]
            )
    elif decides.kind == "appointment":
        assert decides.office is not None
        office = rules.office(decides.office)
        if office is None:
            known = ", ".join(o.key for o in rules.offices) or "none"
            raise NotFound(f"the ToR in force has no office {decides.office!r} ({known})")
        if office.selection != "appointed":
            raise RulesBroken(
                [
                    rule_violation(
                        clauses,
                        f"offices.{office.key}.selection",
                        f"the office of {office.key} is elected (open an election), not "
                        f"appointed by a motion of the {body}",
                    )
                ]
            )
        if office.appointed_by is not None and office.appointed_by != body:
            raise RulesBroken(
                [
                    rule_violation(
                        clauses,
                        f"offices.{office.key}.appointed_by",
                        f"the office of {office.key} is appointed by the {office.appointed_by}, "
                        f"not the {body}",
                    )
                ]
            )
        if decides.member_id is not None:
            cmd.get(Member, decides.member_id, "member")


# ----------------------------------------------------------------------------- the path


def seek_consensus(
    runtime: Runtime, slug: str, motion_id: str, *, meeting_id: str, reached: bool, by: str
) -> str | None:
    """Record whether the body reached consensus at a held meeting. Reached: the motion
    is carried and takes effect. Not reached in a body that escalates: the motion is
    referred, as a new linked motion to the body the ToR names (its id is returned)."""
    with command(runtime, slug, "seek_consensus") as cmd:
        motion = _motion(cmd, motion_id)
        motion.seek_consensus(
            meeting=_meeting(cmd, meeting_id), reached=reached, by=by, terms=cmd.terms
        )
        changed: list[Aggregate] = [motion]
        referred: str | None = None
        to_body = motion.escalates_to(cmd.terms)
        if not reached and to_body is not None:
            onward = Motion.propose(
                body=to_body,
                text=motion.text,
                proposer_member_id=motion.proposer_member_id,
                public_stance=motion.public_stance,
                decides=motion.decides,
                person_name=motion.person_name,
                referred_from=motion_id,
                on_behalf_of=motion.deciding_body,
                by=by,
                terms=cmd.terms,
            )
            motion.refer(to_motion=str(onward.id), terms=cmd.terms, by=by)
            changed.append(onward)
            referred = str(onward.id)
        changed += _take_effect(cmd, motion, by)
        cmd.record(*changed)
        return referred


def open_voting(
    runtime: Runtime,
    slug: str,
    motion_id: str,
    *,
    meeting_id: str,
    closes_at: datetime | None,
    by: str,
) -> None:
    """Open the vote at a held meeting; the electorate is fixed now."""
    with command(runtime, slug, "open_motion_voting") as cmd:
        motion = _motion(cmd, motion_id)
        meeting = cmd.get(Meeting, meeting_id, "meeting")
        entitled = entitled_voters(cmd, motion.body, cmd.today)
        motion.open_voting(
            meeting=_meeting(cmd, meeting_id),
            entitled=entitled,
            present=getattr(meeting, "attending", ()),
            voting_members=len(entitled),
            closes_at=closes_at,
            now=cmd.now,
            by=by,
            terms=cmd.terms,
        )
        cmd.record(motion)


def cast_vote(
    runtime: Runtime,
    slug: str,
    motion_id: str,
    *,
    member_id: str,
    representative_id: str | None,
    choice: Choice,
    by: str,
) -> None:
    """An organisation of the electorate votes, through any of its representatives."""
    with command(runtime, slug, "cast_vote") as cmd:
        motion = _motion(cmd, motion_id)
        member = cmd.get(Member, member_id, "member")
        if representative_id is not None and representative_id not in member.representatives:
            raise InvalidMotion(
                f"{representative_id!r} is not a representative of member {member_id!r}"
            )
        motion.cast(
            member_id=member_id,
            representative_id=representative_id,
            choice=choice,
            now=cmd.now,
            by=by,
            terms=cmd.terms,
        )
        cmd.record(motion)


def _casting_holders(cmd: Command, motion: Motion) -> dict[str, str]:
    rule = cmd.terms.rules.decision_rule(motion.body)
    office = rule.casting_vote_office if rule else None
    if office is None:
        return {}
    roll = cmd.find(OfficeRoll, OfficeRoll.create_id(office))
    return {} if roll is None else {t.id: t.organisation for t in roll.holders_on(cmd.today)}


def close_voting(runtime: Runtime, slug: str, motion_id: str, *, by: str) -> None:
    """Count the vote; a carried motion takes effect in the same transaction."""
    with command(runtime, slug, "close_motion_voting") as cmd:
        motion = _motion(cmd, motion_id)
        motion.close_voting(
            now=cmd.now, casting_holders=_casting_holders(cmd, motion), by=by, terms=cmd.terms
        )
        cmd.record(motion, *_take_effect(cmd, motion, by))


def give_casting_vote(
    runtime: Runtime, slug: str, motion_id: str, *, votes: dict[str, Choice], by: str
) -> None:
    """Every holder of the casting office gives their casting vote on a tie."""
    with command(runtime, slug, "give_casting_vote") as cmd:
        motion = _motion(cmd, motion_id)
        motion.give_casting_vote(
            holders=_casting_holders(cmd, motion), votes=votes, by=by, terms=cmd.terms
        )
        cmd.record(motion, *_take_effect(cmd, motion, by))


def withdraw(runtime: Runtime, slug: str, motion_id: str, *, reason: str, by: str) -> None:
    with command(runtime, slug, "withdraw_motion") as cmd:
        motion = _motion(cmd, motion_id)
        motion.withdraw(reason=reason, by=by)
        cmd.record(motion)


# ----------------------------------------------------------------------------- effects


def _take_effect(cmd: Command, motion: Motion, by: str) -> list[Aggregate]:
    """Give effect to a carried motion through the feature it decides: the aggregates it
    changed, to be saved with the motion. Where the rules refuse it now (the office was
    filled meanwhile, the amendment went stale), the decision stands and the motion
    records why it had no effect."""
    if not motion.takes_effect:
        return []
    decides = motion.decides
    ref = f"motion:{motion.id}"
    effective = date.fromisoformat(decides.effective_from) if decides.effective_from else None
    try:
        if decides.kind == "amendment":
            assert decides.amendment_id is not None
            number = cmd.charter.approve_amendment(
                decides.amendment_id,
                body=motion.deciding_body,
                decision_ref=ref,
                effective_from=effective or cmd.today,
                approved_by=by,
                now=cmd.now,
            )
            motion.record_effect(ref=f"version:{number}", by=by, terms=cmd.terms)
            return [cmd.charter]
        if decides.kind == "admission":
            assert decides.application_id is not None
            application = cmd.get(MembershipApplication, decides.application_id, "application")
            member = application.decide(
                by_body=motion.deciding_body,
                outcome="admit",
                standing=None,
                reason=f"admitted by the carried motion {motion.id}",
                decision_ref=ref,
                by=by,
                terms=cmd.terms,
            )
            assert member is not None
            motion.record_effect(ref=f"member:{member.id}", by=by, terms=cmd.terms)
            return [application, member]
        assert decides.office is not None
        return _appoint(cmd, motion, decides, effective, ref, by)
    except (DomainError, NotFound) as refused:
        motion.record_refused_effect(
            message=refused.message,
            violations=list(getattr(refused, "violations", ())),
            by=by,
            terms=cmd.terms,
        )
        return []


def _appoint(
    cmd: Command, motion: Motion, decides: Decides, effective: date | None, ref: str, by: str
) -> list[Aggregate]:
    assert decides.office is not None
    rule = cmd.terms.rules.office(decides.office)
    if rule is None:
        raise NotFound(f"the ToR in force has no office {decides.office!r}")
    roll = cmd.find(OfficeRoll, OfficeRoll.create_id(decides.office)) or OfficeRoll.open(
        decides.office
    )
    member = cmd.get(Member, decides.member_id, "member") if decides.member_id else None
    start = effective or cmd.today
    holding_id = roll.appoint(
        body_members=body_members(cmd, rule.body, start),
        terms=cmd.terms,
        via="appointed",
        member_id=decides.member_id,
        organisation=(member.name if member else None) or "",
        person_name=motion.person_name,
        candidate_is_member=bool(member and member.votes),
        starts_on=start,
        by_body=motion.deciding_body,
        decision_ref=ref,
        election_ref=None,
        outside_approval_ref=None,
        by=by,
    )
    motion.record_effect(ref=f"holding:{holding_id}", by=by, terms=cmd.terms)
    return [roll]


# ----------------------------------------------------------------------------- reads


def motions(runtime: Runtime, slug: str, **filters: Any) -> list[dict[str, Any]]:
    with views(runtime, slug) as sql:
        return view.motions(sql, **filters)


def motion(runtime: Runtime, slug: str, motion_id: str) -> dict[str, Any]:
    with views(runtime, slug) as sql:
        found = view.motion(sql, motion_id)
        if found is not None:
            found["votes"] = view.votes(sql, motion_id)
    if found is None:
        raise NotFound(f"no motion {motion_id!r} in this alliance")
    return found


def voting_record(
    runtime: Runtime, slug: str, member_id: str, *, after: int, limit: int
) -> list[dict[str, Any]]:
    """An organisation's votes on motions (motions are never secret ballots)."""
    with views(runtime, slug) as sql:
        if member_register.member(sql, member_id) is None:
            raise NotFound(f"no member {member_id!r} in this alliance")
        return view.voting_record(sql, member_id, after=after, limit=limit)
