"""Motions: how a body of the alliance decides, step by step, by its ToR.

A motion is put to one body (the full membership, a committee, a steering group, a
working group) and takes the path its rules give it:

    proposed → consensus sought ─ reached ──────────────────────────────→ carried
                                └ not reached ─ escalate_to? → referred (a new, linked
                                                                motion to that body)
                                              └ vote → closed ─ majority → carried/defeated
                                                              └ tie → casting vote → carried
                                                                      (holders disagree,
                                                                      or none: defeated)

Every step is taken at a held meeting of the body (at a main meeting where the ToR says
decisions are taken only there, and only when the meeting was quorate), and records the
ToR version and the rule it applied, so the path can be checked against the rules then in
force. One organisation, one vote: the electorate (the organisations entitled to vote)
is fixed when voting opens; a public stance without consensus goes to every entitled
organisation, absentees included, where the ToR says so.

What a motion decides (a policy position, an admission, an appointment, a ToR amendment)
takes effect through those features once it is carried; the motion records the effect.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import msgspec
from eventsourcing.domain import Aggregate, event

from domain.errors import DomainError, RulesBroken, StateConflict
from domain.rule_checks import Violation, check_decision, quorum_needed, rule_violation
from domain.rules import DecisionRule, Rules
from domain.terms import Version

Choice = Literal["for", "against", "abstain"]
CHOICES: tuple[Choice, ...] = ("for", "against", "abstain")
Outcome = Literal["carried", "defeated", "tied"]

PROPOSED, VOTING, TIED = "proposed", "voting", "tied"
CARRIED: Literal["carried"] = "carried"
DEFEATED: Literal["defeated"] = "defeated"
REFERRED, WITHDRAWN = "referred", "withdrawn"
OPEN_STATES = (PROPOSED, VOTING, TIED)


class InvalidMotion(DomainError):
    """The motion or a step of it is not well formed (e.g. a meeting of another body)."""

    code = "invalid-motion"


class MotionStateConflict(StateConflict):
    """The motion's state does not allow this step (e.g. voting on a decided motion)."""

    code = "motion-state"


class Decides(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """What a motion decides, once carried. A "position" only records the alliance's
    view; the others take effect: an admission decides an application, an appointment
    fills an office, an amendment adopts a new version of the ToR."""

    kind: Literal["position", "admission", "appointment", "amendment"] = "position"
    application_id: str | None = None
    amendment_id: str | None = None
    office: str | None = None
    member_id: str | None = None
    #: The day an appointment or amendment takes effect (None: the day it is carried).
    effective_from: str | None = None


@dataclass(frozen=True)
class MeetingFacts:
    """What a motion needs to know of the meeting it is taken at."""

    meeting_id: str
    body: str
    main: bool
    held: bool
    quorate: bool


@dataclass(frozen=True)
class Count:
    """The result of a vote, by the rule that counts it."""

    votes_for: int
    against: int
    abstain: int
    turnout: int
    electorate: int
    quorum_needed: int | None
    quorate: bool
    outcome: Outcome | Literal["inquorate"]


def count_votes(
    choices: Collection[Choice],
    *,
    electorate: int,
    majority: Literal["of-votes-cast", "of-voting-members"],
    quorum_needed: int | None,
) -> Count:
    """Count one vote per organisation. Of votes cast: carried when more are for than
    against (abstentions count for turnout only), tied when as many are for as against
    and some are. Of voting members: carried when more than half the electorate is for,
    tied when exactly half is for and half against. A quorum, where needed, counts every
    organisation that voted, abstentions included."""
    votes_for = sum(1 for c in choices if c == "for")
    against = sum(1 for c in choices if c == "against")
    abstain = sum(1 for c in choices if c == "abstain")
    turnout = votes_for + against + abstain
    quorate = quorum_needed is None or turnout >= quorum_needed
    outcome: Outcome | Literal["inquorate"]
    if not quorate:
        outcome = "inquorate"
    elif majority == "of-votes-cast":
        if votes_for > against:
            outcome = "carried"
        elif votes_for == against and votes_for > 0:
            outcome = "tied"
        else:
            outcome = "defeated"
    elif 2 * votes_for > electorate:
        outcome = "carried"
    elif 2 * votes_for == electorate and votes_for == against:
        outcome = "tied"
    else:
        outcome = "defeated"
    return Count(
        votes_for=votes_for,
        against=against,
        abstain=abstain,
        turnout=turnout,
        electorate=electorate,
        quorum_needed=quorum_needed,
        quorate=quorate,
        outcome=outcome,
    )


def casting_result(choices: Collection[Choice]) -> tuple[Literal["carried", "defeated"], str]:
    """The result of the casting vote of every holder of the casting office."""
    given = set(choices)
    if given == {"for"}:
        return CARRIED, "the tie was broken by the casting vote, for"
    if given == {"against"}:
        return DEFEATED, "the tie was broken by the casting vote, against"
    return DEFEATED, "the holders of the casting vote disagreed, so the motion fails"


def decision_rule(rules: Rules, body: str) -> DecisionRule:
    """The body's decision rule (the defaults where the ToR sets none)."""
    return rules.decision_rule(body) or DecisionRule(key=body)


class Motion(Aggregate):
    """One motion to one body, from proposal to its result and effect."""

    class Proposed(Aggregate.Created):
        body: str
        text: str
        #: The member organisation that proposes it (None: an officer, for the body).
        proposer_member_id: str | None
        public_stance: bool
        decides: dict[str, Any]
        #: Personal data: the name of the person an appointment would appoint.
        person: dict[str, Any]
        #: The motion of another body whose lack of consensus referred this one here.
        referred_from: str | None
        #: For a referred motion, the body whose decision it takes (by the referral the
        #: ToR makes), e.g. the executive that decides applications (None: its own body).
        on_behalf_of: str | None
        by: str
        under_version: int

    class ConsensusSought(Aggregate.Event):
        meeting_id: str
        reached: bool
        rule: str
        by: str
        under_version: int

    class VotingOpened(Aggregate.Event):
        meeting_id: str
        #: The member ids entitled to vote, fixed now.
        electorate: list[str]
        #: "attendees" (the organisations at the meeting) or "all-members" (absentees too).
        scope: str
        majority: str
        vote_changes: str
        quorum_needed: int | None
        #: The office whose holders break a tie (None: a tie fails), fixed now.
        casting_vote_office: str | None
        closes_at: str | None
        rules: list[str]
        by: str
        under_version: int

    class VoteCast(Aggregate.Event):
        member_id: str
        representative_id: str | None
        choice: str
        by: str

    class VotingClosed(Aggregate.Event):
        votes_for: int
        against: int
        abstain: int
        turnout: int
        electorate: int
        quorum_needed: int | None
        quorate: bool
        outcome: str
        by: str
        under_version: int

    class CastingVoteGiven(Aggregate.Event):
        office: str
        #: [{holding_id, member_id, choice}] — one per holder of the casting office.
        votes: list[dict[str, Any]]
        rule: str
        by: str
        under_version: int

    class Decided(Aggregate.Event):
        outcome: str
        #: How: consensus, vote, casting-vote, referral.
        via: str
        reason: str
        rule: str
        clause: str | None
        #: The new motion a referral created (None otherwise).
        referred_to: str | None
        by: str
        under_version: int

    class EffectApplied(Aggregate.Event):
        kind: str
        #: What it produced: the member id, office holding id or ToR version number.
        ref: str
        by: str
        under_version: int

    class EffectRefused(Aggregate.Event):
        kind: str
        message: str
        violations: list[dict[str, Any]]
        by: str
        under_version: int

    class Withdrawn(Aggregate.Event):
        reason: str
        by: str

    # ------------------------------------------------------------------ proposing

    @classmethod
    def propose(
        cls,
        *,
        body: str,
        text: str,
        proposer_member_id: str | None,
        public_stance: bool,
        decides: Decides,
        person_name: str | None,
        referred_from: str | None = None,
        on_behalf_of: str | None = None,
        by: str,
        terms: Version,
    ) -> Motion:
        """Put a motion to a body of the ToR in force."""
        if terms.rules.body(body) is None:
            known = ", ".join(b.key for b in terms.rules.bodies)
            raise InvalidMotion(f"the ToR has no body {body!r} (its bodies: {known})")
        _check_decides(decides, person_name)
        return cls(
            body=body,
            text=text,
            proposer_member_id=proposer_member_id,
            public_stance=public_stance,
            decides=msgspec.to_builtins(decides),
            person={"name": person_name} if person_name else {},
            referred_from=referred_from,
            on_behalf_of=on_behalf_of,
            by=by,
            under_version=terms.number,
        )

    @event(Proposed)
    def __init__(
        self,
        body: str,
        text: str,
        proposer_member_id: str | None,
        public_stance: bool,
        decides: dict[str, Any],
        person: dict[str, Any],
        referred_from: str | None,
        on_behalf_of: str | None,
        by: str,
        under_version: int,
    ) -> None:
        self.body = body
        self.on_behalf_of = on_behalf_of
        self.text = text
        self.proposer_member_id = proposer_member_id
        self.public_stance = public_stance
        self.decides = msgspec.convert(decides, Decides)
        self.person_name: str | None = person.get("name")
        self.status = PROPOSED
        self.consensus: bool | None = None
        self.electorate: tuple[str, ...] = ()
        self.vote_changes = "last-counts"
        self.majority = "of-votes-cast"
        self.quorum_needed: int | None = None
        self.closes_at: datetime | None = None
        self.votes: dict[str, Choice] = {}
        self.casting_vote_office: str | None = None
        self.casting_office: str | None = None
        self.effect_done = False

    @property
    def deciding_body(self) -> str:
        """The body whose decision this is: its own, or the one that referred it here."""
        return self.on_behalf_of or self.body

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATES

    def _must_be(self, *states: str, act: str) -> None:
        if self.status not in states:
            raise MotionStateConflict(f"this motion is {self.status}; it cannot {act}")

    def _check_meeting(self, rules: Rules, clauses: Any, meeting: MeetingFacts) -> None:
        if meeting.body != self.body:
            raise InvalidMotion(
                f"this motion is to the {self.body}; meeting {meeting.meeting_id!r} is a "
                f"meeting of the {meeting.body}"
            )
        if not meeting.held:
            raise MotionStateConflict(
                f"meeting {meeting.meeting_id!r} has not been recorded as held: a body "
                "decides at a meeting that took place"
            )
        violations = check_decision(rules, clauses, body=self.body, at_main_meeting=meeting.main)
        route = rules.membership.route
        if self.decides.kind == "admission" and route.at_next_main_meeting and not meeting.main:
            violations.append(
                rule_violation(
                    clauses,
                    "membership.route.at_next_main_meeting",
                    "applications are decided at the next main meeting",
                )
            )
        if not meeting.quorate:
            violations.append(
                rule_violation(
                    clauses,
                    f"decisions.{self.body}.quorum",
                    f"meeting {meeting.meeting_id!r} was not quorate, so it takes no decision",
                )
            )
        if violations:
            raise RulesBroken(violations)

    # ------------------------------------------------------------------ consensus

    def seek_consensus(
        self, *, meeting: MeetingFacts, reached: bool, by: str, terms: Version
    ) -> None:
        """Record whether the body reached consensus at a meeting. Reached: carried.
        Not reached: where the body escalates, the service refers the motion on (see
        `refer`); otherwise it goes to a vote."""
        self._must_be(PROPOSED, act="have consensus sought")
        if self.consensus is not None:
            raise MotionStateConflict(
                "consensus was already sought and not reached: open a vote"
                + (" or the motion is referred" if self.escalates_to(terms) else "")
            )
        self._check_meeting(terms.rules, terms.clauses, meeting)
        rule = f"decisions.{self.body}.consensus_first"
        self._seek_consensus(
            meeting_id=meeting.meeting_id,
            reached=reached,
            rule=rule,
            by=by,
            under_version=terms.number,
        )
        if reached:
            self._decide(
                outcome=CARRIED,
                via="consensus",
                reason="the body reached consensus",
                rule=rule,
                clause=terms.clause_for(rule),
                referred_to=None,
                by=by,
                under_version=terms.number,
            )

    @event(ConsensusSought)
    def _seek_consensus(
        self, meeting_id: str, reached: bool, rule: str, by: str, under_version: int
    ) -> None:
        self.consensus = reached

    def escalates_to(self, terms: Version) -> str | None:
        """The body this motion goes to when this body reaches no consensus."""
        return decision_rule(terms.rules, self.body).escalate_to

    def refer(self, *, to_motion: str, terms: Version, by: str = "") -> None:
        """No consensus in a body that escalates: the matter goes to the body the ToR
        names, as the new motion `to_motion` (created by the caller, linked both ways)."""
        self._must_be(PROPOSED, act="be referred")
        to_body = self.escalates_to(terms)
        if self.consensus is not False or to_body is None:
            raise MotionStateConflict(
                "only a motion without consensus, in a body whose matters go elsewhere, is referred"
            )
        rule = f"decisions.{self.body}.escalate_to"
        self._decide(
            outcome=REFERRED,
            via="referral",
            reason=f"no consensus: referred to the {to_body}",
            rule=rule,
            clause=terms.clause_for(rule),
            referred_to=to_motion,
            by=by,
            under_version=terms.number,
        )

    # ------------------------------------------------------------------ voting

    def open_voting(
        self,
        *,
        meeting: MeetingFacts,
        entitled: Collection[str],
        present: Collection[str],
        voting_members: int,
        closes_at: datetime | None,
        now: datetime,
        by: str,
        terms: Version,
    ) -> None:
        """Open a vote at a meeting. `entitled`: the organisations entitled to vote in
        this body; `present`: those of them at the meeting; `voting_members`: how many
        organisations are entitled to vote in this body (for a fractional quorum). The
        electorate is the organisations present, or every entitled one for a public
        stance without consensus where the ToR says all members vote."""
        self._must_be(PROPOSED, act="go to a vote")
        rule = decision_rule(terms.rules, self.body)
        path = f"decisions.{self.body}"
        if rule.consensus_first and self.consensus is None:
            raise RulesBroken(
                [
                    rule_violation(
                        terms.clauses,
                        f"{path}.consensus_first",
                        "this body seeks consensus first: record whether it was reached "
                        "before opening a vote",
                    )
                ]
            )
        if self.escalates_to(terms) is not None and self.consensus is False:
            raise MotionStateConflict(
                f"without consensus this body's matters go to the {rule.escalate_to}: the "
                "motion is referred, not voted on"
            )
        self._check_meeting(terms.rules, terms.clauses, meeting)
        applied = [f"{path}.voting", f"{path}.majority", f"{path}.vote_changes"]
        if self.public_stance and rule.public_stance_electorate == "all-members":
            scope, electorate = "all-members", sorted(set(entitled))
            applied.append(f"{path}.public_stance_electorate")
        else:
            scope, electorate = "attendees", sorted(set(entitled) & set(present))
        if not electorate:
            raise MotionStateConflict(
                "no organisation entitled to vote is "
                + ("a member of this body" if scope == "all-members" else "at this meeting")
            )
        if closes_at is not None and closes_at <= now:
            raise InvalidMotion("a vote's closing time must be in the future")
        needed = None
        if scope == "all-members" and rule.quorum is not None:
            # Absentees vote too: the quorum counts the organisations that vote.
            needed = quorum_needed(terms.rules, self.body, voting_members=voting_members)
            applied.append(f"{path}.quorum")
        self._open_voting(
            meeting_id=meeting.meeting_id,
            electorate=electorate,
            scope=scope,
            majority=rule.majority,
            vote_changes=rule.vote_changes,
            quorum_needed=needed,
            casting_vote_office=rule.casting_vote_office,
            closes_at=closes_at.isoformat() if closes_at else None,
            rules=applied,
            by=by,
            under_version=terms.number,
        )

    @event(VotingOpened)
    def _open_voting(
        self,
        meeting_id: str,
        electorate: list[str],
        scope: str,
        majority: str,
        vote_changes: str,
        quorum_needed: int | None,
        casting_vote_office: str | None,
        closes_at: str | None,
        rules: list[str],
        by: str,
        under_version: int,
    ) -> None:
        self.status = VOTING
        self.casting_vote_office = casting_vote_office
        self.electorate = tuple(electorate)
        self.majority = majority
        self.vote_changes = vote_changes
        self.quorum_needed = quorum_needed
        self.closes_at = datetime.fromisoformat(closes_at) if closes_at else None

    def cast(
        self,
        *,
        member_id: str,
        representative_id: str | None,
        choice: Choice,
        now: datetime,
        by: str,
        terms: Version,
    ) -> None:
        """An organisation of the electorate votes (once only, or again to change its
        vote, as the ToR says)."""
        self._must_be(VOTING, act="take votes")
        if self.closes_at is not None and now >= self.closes_at:
            raise MotionStateConflict("voting on this motion has closed; the count is due")
        if member_id not in self.electorate:
            raise MotionStateConflict(
                f"member {member_id!r} is not in this vote's electorate (fixed when voting "
                "opened: the organisations entitled to vote"
                + (")" if len(self.electorate) > 0 else ", none)")
            )
        if choice not in CHOICES:
            raise InvalidMotion(f"a vote is one of {', '.join(CHOICES)}")
        if member_id in self.votes and self.vote_changes == "once-only":
            rule = f"decisions.{self.body}.vote_changes"
            raise RulesBroken(
                [
                    rule_violation(
                        terms.clauses,
                        rule,
                        f"member {member_id!r} has voted; each organisation votes once only",
                    )
                ]
            )
        self._cast(member_id=member_id, representative_id=representative_id, choice=choice, by=by)

    @event(VoteCast)
    def _cast(self, member_id: str, representative_id: str | None, choice: Choice, by: str) -> None:
        self.votes[member_id] = choice

    def close_voting(
        self, *, now: datetime, casting_holders: Mapping[str, str], by: str, terms: Version
    ) -> Count:
        """Count the vote by the rules fixed when it opened. A tie goes to the casting
        vote of the office the ToR names (`casting_holders`: its holders now, holding id
        → member id); with no casting vote, or no one holding that office, a tie fails."""
        self._must_be(VOTING, act="be counted")
        everyone_voted = set(self.votes) >= set(self.electorate)
        if self.closes_at is not None and now < self.closes_at and not everyone_voted:
            raise MotionStateConflict(
                f"voting is open until {self.closes_at.isoformat()} and not every organisation "
                "has voted"
            )
        counted = count_votes(
            list(self.votes.values()),
            electorate=len(self.electorate),
            majority="of-voting-members"
            if self.majority == "of-voting-members"
            else "of-votes-cast",
            quorum_needed=self.quorum_needed,
        )
        self._close_voting(
            votes_for=counted.votes_for,
            against=counted.against,
            abstain=counted.abstain,
            turnout=counted.turnout,
            electorate=counted.electorate,
            quorum_needed=counted.quorum_needed,
            quorate=counted.quorate,
            outcome=counted.outcome,
            by=by,
            under_version=terms.number,
        )
        path = f"decisions.{self.body}"
        office = self.casting_vote_office
        if counted.outcome == "tied" and office is not None and casting_holders:
            return counted  # awaits the casting vote
        outcome: str
        if counted.outcome == "carried":
            outcome, rule, reason = CARRIED, f"{path}.majority", _majority_reason(counted, True)
        elif counted.outcome == "inquorate":
            outcome, rule = DEFEATED, f"{path}.quorum"
            reason = (
                f"inquorate: {counted.turnout} organisations voted, the quorum is "
                f"{counted.quorum_needed}"
            )
        elif counted.outcome == "tied":
            outcome, rule = DEFEATED, f"{path}.casting_vote_office"
            reason = (
                "a tie, and the ToR gives no casting vote, so the motion fails"
                if office is None
                else f"a tie, and no one holds the office of {office} to give the casting vote, "
                "so the motion fails"
            )
        else:
            outcome, rule, reason = DEFEATED, f"{path}.majority", _majority_reason(counted, False)
        self._decide(
            outcome=outcome,
            via="vote",
            reason=reason,
            rule=rule,
            clause=terms.clause_for(rule),
            referred_to=None,
            by=by,
            under_version=terms.number,
        )
        return counted

    @event(VotingClosed)
    def _close_voting(
        self,
        votes_for: int,
        against: int,
        abstain: int,
        turnout: int,
        electorate: int,
        quorum_needed: int | None,
        quorate: bool,
        outcome: str,
        by: str,
        under_version: int,
    ) -> None:
        self.status = TIED if outcome == "tied" else self.status

    def give_casting_vote(
        self,
        *,
        holders: Mapping[str, str],
        votes: Mapping[str, Choice],
        by: str,
        terms: Version,
    ) -> str:
        """The holders of the casting office break a tie. `holders`: holding id → member
        id of every current holder; `votes`: holding id → for or against, one from each.
        If they disagree the motion fails, and the record says why; if no one holds the
        office any more, the tie fails."""
        self._must_be(TIED, act="take a casting vote")
        office = self.casting_vote_office or "casting vote"
        strangers = sorted(set(votes) - set(holders))
        if strangers:
            raise InvalidMotion(
                f"{strangers[0]!r} is not a current holding of the office of {office}"
            )
        missing = sorted(set(holders) - set(votes))
        if missing:
            raise InvalidMotion(
                f"every holder of the office of {office} gives the casting vote; missing: "
                + ", ".join(missing)
            )
        if any(choice not in ("for", "against") for choice in votes.values()):
            raise InvalidMotion("a casting vote is for or against")
        rule = f"decisions.{self.body}.casting_vote_office"
        self._give_casting_vote(
            office=office,
            votes=[
                {"holding_id": h, "member_id": holders[h], "choice": votes[h]}
                for h in sorted(votes)
            ],
            rule=rule,
            by=by,
            under_version=terms.number,
        )
        if holders:
            outcome, reason = casting_result(list(votes.values()))
        else:  # every holder left after the tie: no one can break it
            outcome, reason = (
                DEFEATED,
                f"a tie, and no one now holds the office of {office} to give the casting "
                "vote, so the motion fails",
            )
        self._decide(
            outcome=outcome,
            via="casting-vote",
            reason=reason,
            rule=rule,
            clause=terms.clause_for(rule),
            referred_to=None,
            by=by,
            under_version=terms.number,
        )
        return outcome

    @event(CastingVoteGiven)
    def _give_casting_vote(
        self, office: str, votes: list[dict[str, Any]], rule: str, by: str, under_version: int
    ) -> None:
        self.casting_office = office

    # ------------------------------------------------------------------ the result

    @event(Decided)
    def _decide(
        self,
        outcome: str,
        via: str,
        reason: str,
        rule: str,
        clause: str | None,
        referred_to: str | None,
        by: str,
        under_version: int,
    ) -> None:
        self.status = outcome

    @property
    def takes_effect(self) -> bool:
        """Carried, deciding something beyond a position, and not yet given effect."""
        return self.status == CARRIED and self.decides.kind != "position" and not self.effect_done

    def record_effect(self, *, ref: str, by: str = "", terms: Version | None = None) -> None:
        self._effect_applied(
            kind=self.decides.kind, ref=ref, by=by, under_version=terms.number if terms else 0
        )

    @event(EffectApplied)
    def _effect_applied(self, kind: str, ref: str, by: str, under_version: int) -> None:
        self.effect_done = True

    def record_refused_effect(
        self,
        *,
        message: str,
        violations: list[Violation],
        by: str = "",
        terms: Version | None = None,
    ) -> None:
        """The motion carried, but the rules refused what it decides (e.g. the office
        filled meanwhile): the decision stands, and the record says why it had no effect."""
        self._effect_refused(
            kind=self.decides.kind,
            message=message,
            violations=[msgspec.to_builtins(v) for v in violations],
            by=by,
            under_version=terms.number if terms else 0,
        )

    @event(EffectRefused)
    def _effect_refused(
        self,
        kind: str,
        message: str,
        violations: list[dict[str, Any]],
        by: str,
        under_version: int,
    ) -> None:
        self.effect_done = True

    def withdraw(self, *, reason: str, by: str) -> None:
        """The proposer withdraws a motion not yet put to a vote."""
        self._must_be(PROPOSED, act="be withdrawn (only a motion not yet voted on is)")
        self._withdraw(reason=reason, by=by)

    @event(Withdrawn)
    def _withdraw(self, reason: str, by: str) -> None:
        self.status = WITHDRAWN


def _majority_reason(counted: Count, carried: bool) -> str:
    tally = f"{counted.votes_for} for, {counted.against} against, {counted.abstain} abstaining"
    return f"{'carried' if carried else 'not carried'} by the majority the ToR requires: {tally}"


def _check_decides(decides: Decides, person_name: str | None) -> None:
    needs = {
        "admission": ("application_id",),
        "amendment": ("amendment_id",),
        "appointment": ("office",),
        "position": (),
    }[decides.kind]
    for field in needs:
        if getattr(decides, field) is None:
            raise InvalidMotion(f"a motion deciding an {decides.kind} names its {field}")
    if decides.kind == "appointment" and decides.member_id is None and not person_name:
        raise InvalidMotion("an appointment names the member (member_id) or the person")
    if decides.effective_from is not None and decides.kind not in ("appointment", "amendment"):
        raise InvalidMotion("only an appointment or an amendment has an effective date")


# Build msgspec's conversion plan at import, not racing on first use (see domain/rules.py).
msgspec.json.Decoder(Decides)
