"""Motions: how each body of every template decides, checked against a reference model.

Given a motion built by earlier commands (its events collected), when one command runs,
then only its new events are pending, or it is refused (with the template's clause where
the rule is the ToR's) and nothing at all is pending. A Hypothesis reference model,
written here independently of `domain.motions`, decides random motions under every
template's decision rules (and variants of them) and the real aggregate must agree.
"""

from __future__ import annotations

import functools
import math
from collections import Counter
from dataclasses import dataclass
from datetime import timedelta
from fractions import Fraction
from typing import Any

import msgspec
import pytest
from eventsourcing.application import Application
from hypothesis import HealthCheck, given, settings
from hypothesis import event as label
from hypothesis import strategies as st

from domain.errors import RulesBroken
from domain.motions import (
    CARRIED,
    DEFEATED,
    PROPOSED,
    REFERRED,
    TIED,
    VOTING,
    WITHDRAWN,
    Decides,
    InvalidMotion,
    MeetingFacts,
    Motion,
    MotionStateConflict,
    casting_result,
    count_votes,
    decision_rule,
)
from domain.rule_checks import quorum_needed, validate_rules
from domain.rules import DecisionRule, Quorum, Rules
from domain.terms import Version
from services.applications import DateAsISO
from tests.unit.tor import ACIC, FJA, KCA, KIN, NOW, SSF, refusal, terms_of

BOUNDED = settings(
    max_examples=200,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)

TERMS: dict[str, Version] = {
    "family-justice": FJA,
    "separated-families": SSF,
    "children-in-care": ACIC,
    "kinship-network": KIN,
    "kinship-care": KCA,
}
#: Every body of every template, as (template, body).
BODIES = [(name, body.key) for name, terms in TERMS.items() for body in terms.rules.bodies]
#: The clause that carries each template's decision rules for its full membership.
FULL_MEMBERSHIP_CLAUSE = {
    "family-justice": "6",
    "separated-families": "6",
    "children-in-care": "5",
    "kinship-network": "10",
    "kinship-care": "7",
}
ESCALATING = [
    (name, body, rule.escalate_to)
    for name, body in BODIES
    if (rule := decision_rule(TERMS[name].rules, body)).escalate_to is not None
]
NOT_ESCALATING = [
    (name, body)
    for name, body in BODIES
    if decision_rule(TERMS[name].rules, body).escalate_to is None
]
CONSENSUS_FIRST = [
    (name, body) for name, body in BODIES if decision_rule(TERMS[name].rules, body).consensus_first
]
POOL = tuple(f"m-{i}" for i in range(8))
STRANGER = "m-stranger"
KEEP = "keep"


# --------------------------------------------------------------------------- givens


def with_decision(name: str, body: str, **changes: Any) -> Version:
    """The template's ToR with the body's decision rule changed (or added)."""
    return _with_decision(name, body, tuple(sorted(changes.items(), key=lambda kv: kv[0])))


@functools.cache
def _with_decision(name: str, body: str, changes: tuple[tuple[str, Any], ...]) -> Version:
    rules = TERMS[name].rules
    current = rules.decision_rule(body) or DecisionRule(key=body)
    changed = msgspec.structs.replace(current, **dict(changes))
    decisions = (*(d for d in rules.decisions if d.key != body), changed)
    return terms_of(name, msgspec.structs.replace(rules, decisions=decisions))


def meeting_of(
    body: str = "full-membership",
    *,
    main: bool = True,
    held: bool = True,
    quorate: bool = True,
    meeting_id: str = "meeting-1",
) -> MeetingFacts:
    return MeetingFacts(meeting_id=meeting_id, body=body, main=main, held=held, quorate=quorate)


def propose(
    terms: Version, body: str = "full-membership", *, public_stance: bool = False
) -> Motion:
    return Motion.propose(
        body=body,
        text="That the alliance calls for kinship carers to be paid an allowance",
        proposer_member_id="m-0",
        public_stance=public_stance,
        decides=Decides(),
        person_name=None,
        by="key:officer",
        terms=terms,
    )


def given_proposed(
    terms: Version, body: str = "full-membership", *, public_stance: bool = False
) -> Motion:
    motion = propose(terms, body, public_stance=public_stance)
    motion.collect_events()
    return motion


def seek(motion: Motion, terms: Version, *, reached: bool, meeting: MeetingFacts | None = None):
    motion.seek_consensus(
        meeting=meeting or meeting_of(motion.body), reached=reached, by="key:chair", terms=terms
    )


def open_vote(
    motion: Motion,
    terms: Version,
    *,
    entitled: tuple[str, ...] = ("m-1", "m-2", "m-3"),
    present: tuple[str, ...] | None = None,
    voting_members: int | None = None,
    meeting: MeetingFacts | None = None,
    closes_at=None,
) -> None:
    motion.open_voting(
        meeting=meeting or meeting_of(motion.body),
        entitled=entitled,
        present=entitled if present is None else present,
        voting_members=len(entitled) if voting_members is None else voting_members,
        closes_at=closes_at,
        now=NOW,
        by="key:chair",
        terms=terms,
    )


def given_voting(
    terms: Version,
    body: str = "full-membership",
    *,
    entitled: tuple[str, ...] = ("m-1", "m-2", "m-3"),
    closes_at=None,
) -> Motion:
    """A motion whose vote is open (consensus sought and not reached first, where the
    body's rules ask for it)."""
    motion = propose(terms, body)
    if decision_rule(terms.rules, body).consensus_first:
        seek(motion, terms, reached=False)
    open_vote(motion, terms, entitled=entitled, closes_at=closes_at)
    motion.collect_events()
    return motion


def cast(motion: Motion, terms: Version, member_id: str, choice: str, *, now=NOW) -> None:
    motion.cast(
        member_id=member_id,
        representative_id=f"rep-of-{member_id}",
        choice=choice,  # type: ignore[arg-type]
        now=now,
        by=f"key:{member_id}",
        terms=terms,
    )


def close(motion: Motion, terms: Version, holders: dict[str, str] | None = None, *, now=NOW):
    return motion.close_voting(now=now, casting_holders=holders or {}, by="key:chair", terms=terms)


def decided(events: list[Any]) -> Motion.Decided:
    found = [e for e in events if isinstance(e, Motion.Decided)]
    assert len(found) == 1, [type(e).__name__ for e in events]
    return found[0]


# --------------------------------------------------------------------------- reference model


@dataclass(frozen=True)
class Expected:
    """What the reference model says a count comes to."""

    votes_for: int
    against: int
    abstain: int
    turnout: int
    outcome: str  # carried, defeated, tied, inquorate


def reference_quorum(quorum: Quorum | None, voting_members: int) -> int | None:
    """A fractional quorum is the fraction of the voting members, rounded up, in exact
    decimal arithmetic; an organisations quorum is that number of organisations."""
    if quorum is None:
        return None
    if quorum.kind == "organisations":
        assert quorum.value.is_integer()  # the model's ToRs state whole organisations
        return int(quorum.value)
    exact = Fraction(repr(quorum.value))  # the decimal the ToR states, not the binary float
    whole, rest = divmod(exact * voting_members, 1)
    return int(whole) + (1 if rest else 0)


def reference_count(
    final: dict[str, str], *, electorate: int, majority: str, needed: int | None
) -> Expected:
    """One vote per organisation (the caller keeps only the vote that counts)."""
    by_choice = Counter(final.values())
    yes, no, abstain = by_choice["for"], by_choice["against"], by_choice["abstain"]
    turnout = len(final)
    if needed is not None and turnout < needed:
        outcome = "inquorate"
    elif majority == "of-votes-cast":
        # Abstentions count toward the turnout only.
        if yes > no:
            outcome = "carried"
        elif yes == no and yes > 0:
            outcome = "tied"
        else:
            outcome = "defeated"
    else:
        half = Fraction(electorate, 2)
        if yes > half:
            outcome = "carried"
        elif yes == half and yes == no:
            outcome = "tied"
        else:
            outcome = "defeated"
    return Expected(yes, no, abstain, turnout, outcome)


def reference_casting(choices: list[str]) -> tuple[str, str]:
    if choices and all(c == "for" for c in choices):
        return "carried", "casting vote, for"
    if choices and all(c == "against" for c in choices):
        return "defeated", "casting vote, against"
    return "defeated", "disagreed"


CHOICE = st.sampled_from(["for", "against", "abstain"])
QUORA = st.one_of(
    st.none(),
    st.builds(Quorum, kind=st.just("organisations"), value=st.integers(1, 6).map(float)),
    st.builds(
        Quorum,
        kind=st.just("fraction-of-members"),
        value=st.integers(1, 100).map(lambda p: p / 100),
    ),
)


@dataclass(frozen=True)
class Scenario:
    name: str
    body: str
    terms: Version
    public_stance: bool
    #: "reached", "not reached" or "skipped" (no consensus sought before the vote).
    consensus: str
    entitled: tuple[str, ...]
    present: tuple[str, ...]
    voting_members: int
    votes: tuple[tuple[str, str], ...]
    holders: dict[str, str]
    casting: dict[str, str]


@st.composite
def scenarios(draw: st.DrawFn) -> Scenario:
    name, body = draw(st.sampled_from(BODIES))
    template_rules = TERMS[name].rules
    offices = [o.key for o in template_rules.offices]
    changes: dict[str, Any] = {}
    for field, values in (
        ("majority", ["of-votes-cast", "of-voting-members"]),
        ("vote_changes", ["last-counts", "once-only"]),
        ("public_stance_electorate", ["attendees", "all-members"]),
        ("casting_vote_office", [None, *offices]),
        ("consensus_first", [True, False]),
        ("escalate_to", [None]),
    ):
        value = draw(st.sampled_from([KEEP, *values]))
        if value != KEEP:
            changes[field] = value
    quorum = draw(st.one_of(st.just(KEEP), QUORA))
    if quorum != KEEP:
        changes["quorum"] = quorum
    if changes.get("consensus_first") is False:
        changes["escalate_to"] = None  # a body that seeks no consensus cannot escalate
    terms = with_decision(name, body, **changes) if changes else TERMS[name]
    entitled = draw(st.lists(st.sampled_from(POOL), unique=True, min_size=1, max_size=7))
    # Most entitled organisations attend; now and then someone not entitled is there too.
    attending = [m for m in entitled if draw(st.integers(0, 4)) > 0]
    present = attending + draw(st.lists(st.sampled_from(POOL), unique=True, max_size=2))
    # Mostly the entitled vote (again, to change their vote); now and then someone else.
    voters = st.sampled_from((*entitled, *entitled, *entitled, *POOL, STRANGER))
    votes = draw(st.lists(st.tuples(voters, CHOICE), max_size=16))
    if draw(st.integers(0, 2)) == 0:
        # A split vote: as many of those present for as against (a tie, unless earlier
        # votes that cannot be changed get in the way).
        half = len(attending) // 2
        votes += [(m, "for") for m in attending[:half]]
        votes += [(m, "against") for m in attending[half : 2 * half]]
    how_many = draw(st.sampled_from([0, 1, 1, 2, 3]))
    holder_members = draw(st.lists(st.sampled_from(POOL), min_size=how_many, max_size=how_many))
    holders = {f"holding-{i}": m for i, m in enumerate(holder_members)}
    return Scenario(
        name=name,
        body=body,
        terms=terms,
        public_stance=draw(st.booleans()),
        consensus=draw(st.sampled_from([*["not reached"] * 4, "skipped", "reached"])),
        entitled=tuple(entitled),
        present=tuple(dict.fromkeys(present)),
        voting_members=len(entitled) + draw(st.integers(0, 4)),
        votes=tuple(votes),
        holders=holders,
        casting={h: draw(st.sampled_from(["for", "against"])) for h in holders},
    )


def check_decided(
    event: Motion.Decided, terms: Version, *, outcome: str, via: str, rule: str, reason: str
) -> None:
    assert (event.outcome, event.via, event.rule) == (outcome, via, rule)
    assert reason in event.reason
    assert event.clause == terms.clause_for(rule)
    assert event.under_version == terms.number


@BOUNDED
@given(scenarios())
def test_every_templates_rules_decide_a_motion_as_the_reference_model_does(s: Scenario):
    terms, body = s.terms, s.body
    rule = decision_rule(terms.rules, body)
    path = f"decisions.{body}"
    motion = propose(terms, body, public_stance=s.public_stance)
    log = motion.collect_events()
    meeting = meeting_of(body)

    def vote_opens() -> None:
        open_vote(
            motion,
            terms,
            entitled=s.entitled,
            present=s.present,
            voting_members=s.voting_members,
            meeting=meeting,
        )

    if s.consensus == "reached":
        seek(motion, terms, reached=True, meeting=meeting)
        events = motion.collect_events()
        check_decided(
            decided(events),
            terms,
            outcome=CARRIED,
            via="consensus",
            rule=f"{path}.consensus_first",
            reason="consensus",
        )
        with pytest.raises(MotionStateConflict):
            vote_opens()
        assert motion.status == CARRIED
        label("consensus reached")
        return
    if s.consensus == "skipped" and rule.consensus_first:
        with pytest.raises(RulesBroken) as raised:
            vote_opens()
        rule_path = f"{path}.consensus_first"
        assert refusal(raised) == (rule_path, terms.clause_for(rule_path))
        assert motion.collect_events() == []
    if s.consensus == "not reached" or rule.consensus_first:
        seek(motion, terms, reached=False, meeting=meeting)
        if rule.escalate_to is not None:
            with pytest.raises(MotionStateConflict):
                vote_opens()
            assert motion.collect_events()[-1].reached is False
            motion.refer(to_motion="motion-2", terms=terms)
            event = decided(motion.collect_events())
            check_decided(
                event,
                terms,
                outcome=REFERRED,
                via="referral",
                rule=f"{path}.escalate_to",
                reason=f"referred to the {rule.escalate_to}",
            )
            assert event.referred_to == "motion-2"
            assert motion.status == REFERRED
            label("referred")
            return
    log.extend(motion.collect_events())

    # The electorate: those present, or every entitled organisation for a public stance
    # where the ToR gives it to all members.
    everyone = s.public_stance and rule.public_stance_electorate == "all-members"
    electorate = set(s.entitled) if everyone else set(s.entitled) & set(s.present)
    if not electorate:
        with pytest.raises(MotionStateConflict):
            vote_opens()
        assert motion.collect_events() == [] and motion.status == PROPOSED
        label("no electorate")
        return
    # A vote of all members counts its own quorum; where only those present vote, the
    # quorum is the meeting's, checked when it was held (MeetingFacts.quorate).
    needed = reference_quorum(rule.quorum, s.voting_members) if everyone else None
    vote_opens()
    (opened,) = motion.collect_events()
    log.append(opened)
    assert isinstance(opened, Motion.VotingOpened)
    assert opened.electorate == sorted(electorate)
    assert opened.scope == ("all-members" if everyone else "attendees")
    assert (opened.majority, opened.vote_changes) == (rule.majority, rule.vote_changes)
    assert opened.casting_vote_office == rule.casting_vote_office
    assert opened.quorum_needed == needed
    assert set(opened.rules) == {
        f"{path}.voting",
        f"{path}.majority",
        f"{path}.vote_changes",
        *([f"{path}.public_stance_electorate"] if everyone else []),
        *([f"{path}.quorum"] if needed is not None else []),
    }

    final: dict[str, str] = {}
    for voter, choice in s.votes:
        if voter not in electorate:
            with pytest.raises(MotionStateConflict):
                cast(motion, terms, voter, choice)
        elif rule.vote_changes == "once-only" and voter in final:
            with pytest.raises(RulesBroken) as raised:
                cast(motion, terms, voter, choice)
            assert refusal(raised) == (
                f"{path}.vote_changes",
                terms.clause_for(f"{path}.vote_changes"),
            )
        else:
            cast(motion, terms, voter, choice)
            final[voter] = choice
            (vote_cast,) = motion.collect_events()
            log.append(vote_cast)
            assert (vote_cast.member_id, vote_cast.choice) == (voter, choice)
        assert motion.collect_events() == []

    expected = reference_count(
        final, electorate=len(electorate), majority=rule.majority, needed=needed
    )
    counted = close(motion, terms, s.holders)
    events = motion.collect_events()
    log.extend(events)
    closed = events[0]
    assert isinstance(closed, Motion.VotingClosed)
    got = (closed.votes_for, closed.against, closed.abstain, closed.turnout, closed.outcome)
    assert got == (
        expected.votes_for,
        expected.against,
        expected.abstain,
        expected.turnout,
        expected.outcome,
    )
    assert (counted.votes_for, counted.against, counted.abstain) == got[:3]
    assert (counted.outcome, counted.electorate) == (expected.outcome, len(electorate))
    assert closed.quorum_needed == needed
    assert closed.quorate is (expected.outcome != "inquorate")

    office = rule.casting_vote_office
    if expected.outcome == "tied" and office is not None and s.holders:
        assert len(events) == 1 and motion.status == TIED
        outcome = motion.give_casting_vote(
            holders=s.holders, votes=s.casting, by="key:chair", terms=terms
        )
        events = motion.collect_events()
        log.extend(events)
        given_vote, decision = events
        assert isinstance(given_vote, Motion.CastingVoteGiven)
        assert given_vote.office == office
        assert given_vote.votes == [
            {"holding_id": h, "member_id": s.holders[h], "choice": s.casting[h]}
            for h in sorted(s.holders)
        ]
        want, why = reference_casting(list(s.casting.values()))
        assert outcome == want == motion.status
        check_decided(
            decision,
            terms,
            outcome=want,
            via="casting-vote",
            rule=f"{path}.casting_vote_office",
            reason=why,
        )
    else:
        tally = (
            f"{expected.votes_for} for, {expected.against} against, {expected.abstain} abstaining"
        )
        if expected.outcome == "carried":
            want, rule_path, why = CARRIED, f"{path}.majority", f"carried by the majority {tally}"
        elif expected.outcome == "defeated":
            want, rule_path, why = (
                DEFEATED,
                f"{path}.majority",
                f"not carried by the majority {tally}",
            )
        elif expected.outcome == "inquorate":
            want, rule_path = DEFEATED, f"{path}.quorum"
            why = f"{expected.turnout} organisations voted, the quorum is {needed}"
        elif office is None:
            want, rule_path, why = DEFEATED, f"{path}.casting_vote_office", "no casting vote"
        else:
            want, rule_path = DEFEATED, f"{path}.casting_vote_office"
            why = f"no one holds the office of {office}"
        assert len(events) == 2
        event = events[1]
        assert (event.outcome, event.via, event.rule) == (want, "vote", rule_path)
        if rule_path.endswith(".majority"):
            # "carried by the majority the ToR requires: 3 for, 1 against, 0 abstaining"
            words, _, counted_tally = event.reason.partition(" the ToR requires: ")
            assert f"{words} {counted_tally}" == why
        else:
            assert why in event.reason
        assert event.clause == terms.clause_for(rule_path)
        assert motion.status == want

    label(f"{expected.outcome} → {motion.status} ({decided(log).via})")
    # Replaying what was recorded rebuilds the same motion.
    rebuilt = None
    for domain_event in log:
        rebuilt = domain_event.mutate(rebuilt)
    assert rebuilt is not None
    assert vars(rebuilt) == vars(motion)


PATTERNS = {
    "carried": ("for", "for", "for", "against", "against", "abstain"),
    "defeated": ("for", "against", "against", "abstain", "abstain", "abstain"),
    "tied": ("for", "for", "against", "against", "abstain", "abstain"),
    "all abstain": ("abstain",) * 6,
}


@pytest.mark.parametrize("pattern", list(PATTERNS))
@pytest.mark.parametrize(("name", "body"), NOT_ESCALATING)
def test_each_templates_own_rules_count_a_vote_as_the_reference_model_does(name, body, pattern):
    terms = TERMS[name]
    rule = decision_rule(terms.rules, body)
    members = tuple(f"m-{i}" for i in range(6))
    motion = given_voting(terms, body, entitled=members)
    for member, choice in zip(members, PATTERNS[pattern], strict=True):
        cast(motion, terms, member, choice)
    motion.collect_events()
    holders = {"holding-a": "m-0"}

    counted = close(motion, terms, holders)

    final = dict(zip(members, PATTERNS[pattern], strict=True))
    expected = reference_count(final, electorate=6, majority=rule.majority, needed=None)
    assert counted.outcome == expected.outcome
    if expected.outcome == "tied" and rule.casting_vote_office is not None:
        assert motion.status == TIED  # children-in-care: the co-chairs break it
    else:
        want = CARRIED if expected.outcome == "carried" else DEFEATED
        assert motion.status == want
        assert decided(motion.collect_events()).clause == terms.clause_for(f"decisions.{body}")


# --------------------------------------------------------------------------- the pure count


@BOUNDED
@given(
    choices=st.lists(CHOICE, max_size=12),
    absent=st.integers(0, 5),
    majority=st.sampled_from(["of-votes-cast", "of-voting-members"]),
    needed=st.one_of(st.none(), st.integers(0, 14)),
)
def test_count_votes_agrees_with_the_reference_model(choices, absent, majority, needed):
    final = {f"m-{i}": choice for i, choice in enumerate(choices)}
    electorate = len(choices) + absent
    expected = reference_count(final, electorate=electorate, majority=majority, needed=needed)

    counted = count_votes(choices, electorate=electorate, majority=majority, quorum_needed=needed)

    assert (counted.votes_for, counted.against, counted.abstain, counted.turnout) == (
        expected.votes_for,
        expected.against,
        expected.abstain,
        expected.turnout,
    )
    assert counted.outcome == expected.outcome
    assert counted.quorate is (expected.outcome != "inquorate")
    assert (counted.electorate, counted.quorum_needed) == (electorate, needed)


@pytest.mark.parametrize(
    ("choices", "electorate", "majority", "outcome"),
    [
        (["for", "against", "abstain", "abstain"], 4, "of-votes-cast", "tied"),
        (["for", "abstain", "abstain", "abstain"], 4, "of-votes-cast", "carried"),
        (["abstain", "abstain"], 2, "of-votes-cast", "defeated"),
        ([], 3, "of-votes-cast", "defeated"),
        (["for", "for", "against"], 5, "of-votes-cast", "carried"),
        (["for", "for", "against"], 5, "of-voting-members", "defeated"),
        (["for", "for", "for"], 5, "of-voting-members", "carried"),
        (["for", "for", "against", "against"], 4, "of-voting-members", "tied"),
        # Half the electorate for, but not half against: no tie, and not more than half.
        (["for", "for", "abstain"], 4, "of-voting-members", "defeated"),
        (["for", "against"], 4, "of-voting-members", "defeated"),
    ],
)
def test_abstentions_count_toward_turnout_but_not_the_majority(
    choices, electorate, majority, outcome
):
    counted = count_votes(choices, electorate=electorate, majority=majority, quorum_needed=None)

    assert counted.outcome == outcome
    assert counted.turnout == len(choices)


def test_a_quorum_counts_abstentions_and_an_inquorate_vote_is_not_carried():
    short = count_votes(["for", "for"], electorate=5, majority="of-votes-cast", quorum_needed=3)
    enough = count_votes(
        ["for", "for", "abstain"], electorate=5, majority="of-votes-cast", quorum_needed=3
    )

    assert (short.quorate, short.outcome) == (False, "inquorate")
    assert (enough.quorate, enough.outcome) == (True, "carried")


@BOUNDED
@given(st.lists(st.sampled_from(["for", "against"]), min_size=1, max_size=5))
def test_the_casting_vote_carries_only_when_every_holder_agrees(choices):
    outcome, reason = casting_result(choices)

    want, why = reference_casting(choices)
    assert outcome == want
    assert why in reason


# --------------------------------------------------------------------------- quorum


@BOUNDED
@given(
    where=st.sampled_from(BODIES),
    quorum=QUORA,
    voting_members=st.integers(0, 250),
)
def test_a_quorum_is_the_tors_number_or_its_fraction_of_the_members_rounded_up(
    where, quorum, voting_members
):
    name, body = where
    rules: Rules = TERMS[name].rules
    current = rules.decision_rule(body) or DecisionRule(key=body)
    changed = msgspec.structs.replace(current, quorum=quorum)
    rules = msgspec.structs.replace(
        rules, decisions=(*(d for d in rules.decisions if d.key != body), changed)
    )

    needed = quorum_needed(rules, body, voting_members=voting_members)

    assert needed == reference_quorum(quorum, voting_members)
    if quorum is not None and quorum.kind == "fraction-of-members":
        # Never below the fraction, never a whole organisation above it.
        assert needed is not None
        assert needed >= quorum.value * voting_members - 1e-9
        assert needed - 1 < Fraction(repr(quorum.value)) * voting_members


@pytest.mark.parametrize(
    ("value", "members", "needed"),
    [(0.55, 100, 55), (0.5, 7, 4), (0.1, 30, 3), (0.3, 10, 3), (1.0, 9, 9), (0.01, 1, 1)],
)
def test_a_fractional_quorum_uses_exact_decimal_arithmetic(value, members, needed):
    rules = with_decision(
        "kinship-care", "full-membership", quorum=Quorum(kind="fraction-of-members", value=value)
    ).rules

    assert quorum_needed(rules, "full-membership", voting_members=members) == needed
    # The float product is above the whole number in some of these (0.55 * 100, ...).
    assert needed == math.ceil(Fraction(str(value)) * members)


def test_an_organisations_quorum_is_never_less_than_the_number_the_tor_states():
    quorum = Quorum(kind="organisations", value=2.5)
    rules = TERMS["kinship-care"].rules
    changed = msgspec.structs.replace(rules.decision_rule("full-membership"), quorum=quorum)
    rules = msgspec.structs.replace(
        rules, decisions=(*(d for d in rules.decisions if d.key != "full-membership"), changed)
    )

    # Such a ToR is refused when adopted or amended; were it not, the quorum rounds up.
    found = validate_rules(rules, TERMS["kinship-care"].clauses)
    assert [v.rule for v in found] == ["decisions.full-membership.quorum"]
    assert "whole number" in found[0].message
    with pytest.raises(RulesBroken, match="whole number"):
        with_decision("kinship-care", "full-membership", quorum=quorum)
    assert quorum_needed(rules, "full-membership", voting_members=10) == 3


@BOUNDED
@given(
    quorum=QUORA.filter(lambda q: q is not None),
    entitled=st.integers(1, 12),
    others=st.integers(0, 40),
    choices=st.lists(CHOICE, max_size=12),
)
def test_a_vote_of_all_members_is_quorate_as_the_reference_model_says(
    quorum, entitled, others, choices
):
    terms = with_decision("children-in-care", "full-membership", quorum=quorum)
    members = tuple(f"m-{i}" for i in range(entitled))
    voting_members = entitled + others
    motion = given_proposed(terms, public_stance=True)
    seek(motion, terms, reached=False)
    open_vote(motion, terms, entitled=members, present=(), voting_members=voting_members)
    final = {}
    for member, choice in zip(members, choices, strict=False):
        cast(motion, terms, member, choice)
        final[member] = choice
    motion.collect_events()

    counted = close(motion, terms)

    needed = reference_quorum(quorum, voting_members)
    expected = reference_count(final, electorate=entitled, majority="of-votes-cast", needed=needed)
    assert counted.quorum_needed == needed
    assert (counted.turnout, counted.outcome) == (expected.turnout, expected.outcome)
    event = motion.collect_events()[-1]
    assert isinstance(event, Motion.Decided)
    assert (event.rule == "decisions.full-membership.quorum") is (expected.outcome == "inquorate")


def test_an_all_members_vote_is_inquorate_when_too_few_organisations_vote():
    terms = with_decision(
        "children-in-care",
        "full-membership",
        quorum=Quorum(kind="fraction-of-members", value=0.5),
    )
    motion = given_proposed(terms, public_stance=True)
    seek(motion, terms, reached=False)
    entitled = ("m-1", "m-2", "m-3", "m-4", "m-5")
    open_vote(motion, terms, entitled=entitled, present=("m-1",), voting_members=5)
    for member in ("m-1", "m-2"):
        cast(motion, terms, member, "for")
    motion.collect_events()

    counted = close(motion, terms)

    assert (counted.quorum_needed, counted.turnout, counted.outcome) == (3, 2, "inquorate")
    event = decided(motion.collect_events())
    assert (event.outcome, event.rule, event.clause) == (
        DEFEATED,
        "decisions.full-membership.quorum",
        "5",
    )
    assert "inquorate: 2 organisations voted, the quorum is 3" in event.reason


# --------------------------------------------------------------------------- escalation


def test_the_bodies_that_escalate_are_the_kinship_care_committee_and_the_steering_group():
    assert sorted(ESCALATING) == [
        ("family-justice", "steering-group", "full-membership"),
        ("kinship-care", "executive-committee", "full-membership"),
    ]


@pytest.mark.parametrize(
    ("name", "body", "to_body", "clause"),
    [
        ("kinship-care", "executive-committee", "full-membership", "6.1"),
        ("family-justice", "steering-group", "full-membership", "6"),
    ],
)
def test_without_consensus_an_escalating_body_refers_the_motion_and_does_not_vote(
    name, body, to_body, clause
):
    terms = TERMS[name]
    motion = given_proposed(terms, body)
    seek(motion, terms, reached=False)
    sought = motion.collect_events()

    with pytest.raises(MotionStateConflict, match=f"go to the {to_body}"):
        open_vote(motion, terms)
    assert motion.collect_events() == []
    assert motion.escalates_to(terms) == to_body
    motion.refer(to_motion="motion-2", terms=terms)

    assert [type(e) for e in sought] == [Motion.ConsensusSought]
    assert sought[0].reached is False
    assert sought[0].rule == f"decisions.{body}.consensus_first"
    event = decided(motion.collect_events())
    assert (event.outcome, event.via, event.referred_to) == (REFERRED, "referral", "motion-2")
    assert (event.rule, event.clause) == (f"decisions.{body}.escalate_to", clause)
    assert f"referred to the {to_body}" in event.reason
    assert motion.status == REFERRED and not motion.is_open
    # The matter goes on as a motion to the body the ToR names, linked back.
    onward = Motion.propose(
        body=to_body,
        text=motion.text,
        proposer_member_id=None,
        public_stance=False,
        decides=Decides(),
        person_name=None,
        referred_from=str(motion.id),
        by="key:officer",
        terms=terms,
    )
    assert (onward.body, onward.status) == (to_body, PROPOSED)
    assert onward.collect_events()[0].referred_from == str(motion.id)


@pytest.mark.parametrize(("name", "body", "to_body"), ESCALATING)
def test_a_motion_is_referred_only_once_consensus_was_sought_and_not_reached(name, body, to_body):
    terms = TERMS[name]
    unsought = given_proposed(terms, body)
    agreed = given_proposed(terms, body)
    seek(agreed, terms, reached=True)
    agreed.collect_events()

    with pytest.raises(MotionStateConflict):
        unsought.refer(to_motion="motion-2", terms=terms)
    with pytest.raises(MotionStateConflict):
        agreed.refer(to_motion="motion-2", terms=terms)
    assert unsought.collect_events() == [] and agreed.collect_events() == []
    assert (unsought.status, agreed.status) == (PROPOSED, CARRIED)


@pytest.mark.parametrize(("name", "body"), NOT_ESCALATING)
def test_without_consensus_a_body_that_does_not_escalate_goes_to_a_vote(name, body):
    terms = TERMS[name]
    motion = given_proposed(terms, body)
    seek(motion, terms, reached=False)
    motion.collect_events()

    with pytest.raises(MotionStateConflict, match="only a motion without consensus"):
        motion.refer(to_motion="motion-2", terms=terms)
    open_vote(motion, terms)

    assert [type(e) for e in motion.collect_events()] == [Motion.VotingOpened]
    assert motion.status == VOTING


@pytest.mark.parametrize(("name", "body"), BODIES)
def test_consensus_reached_carries_the_motion_in_every_body(name, body):
    terms = TERMS[name]
    motion = given_proposed(terms, body)

    seek(motion, terms, reached=True)

    sought, event = motion.collect_events()
    assert isinstance(sought, Motion.ConsensusSought) and sought.reached is True
    assert (event.outcome, event.via) == (CARRIED, "consensus")
    assert event.rule == f"decisions.{body}.consensus_first"
    assert motion.status == CARRIED


@pytest.mark.parametrize(("name", "body"), CONSENSUS_FIRST)
def test_a_body_that_seeks_consensus_first_refuses_a_vote_before_it_is_sought(name, body):
    terms = TERMS[name]
    motion = given_proposed(terms, body)

    with pytest.raises(RulesBroken) as raised:
        open_vote(motion, terms)

    rule = f"decisions.{body}.consensus_first"
    assert refusal(raised) == (rule, terms.clause_for(rule))
    assert raised.value.clause is not None
    assert motion.collect_events() == [] and motion.status == PROPOSED


def test_the_consensus_first_refusals_cite_each_templates_own_clause():
    cited = {}
    for name, body in CONSENSUS_FIRST:
        motion = given_proposed(TERMS[name], body)
        with pytest.raises(RulesBroken) as raised:
            open_vote(motion, TERMS[name])
        cited[name, body] = refusal(raised)[1]

    assert cited == {
        ("family-justice", "full-membership"): "6",
        ("family-justice", "steering-group"): "6",
        ("separated-families", "full-membership"): "6",
        ("children-in-care", "full-membership"): "5",
        ("kinship-network", "full-membership"): "10",
        ("kinship-care", "full-membership"): "7",
        ("kinship-care", "executive-committee"): "6.1",
    }


@pytest.mark.parametrize(("name", "body"), [b for b in BODIES if b not in CONSENSUS_FIRST])
def test_a_body_without_a_consensus_rule_goes_straight_to_a_vote(name, body):
    terms = TERMS[name]
    motion = given_proposed(terms, body)

    open_vote(motion, terms)

    assert [type(e) for e in motion.collect_events()] == [Motion.VotingOpened]
    assert decision_rule(terms.rules, body) == DecisionRule(key=body)


def test_consensus_is_sought_once():
    motion = given_proposed(KCA, "executive-committee")
    seek(motion, KCA, reached=False)
    motion.collect_events()

    with pytest.raises(MotionStateConflict, match="or the motion is referred"):
        seek(motion, KCA, reached=True)
    assert motion.collect_events() == []


# --------------------------------------------------------------------------- public stance


def test_a_public_stance_without_consensus_goes_to_every_member_where_the_tor_says_so():
    motion = given_proposed(ACIC, public_stance=True)
    seek(motion, ACIC, reached=False)
    motion.collect_events()

    open_vote(motion, ACIC, entitled=("m-1", "m-2", "m-3", "m-4"), present=("m-1", "m-9"))

    (opened,) = motion.collect_events()
    assert opened.scope == "all-members"
    assert opened.electorate == ["m-1", "m-2", "m-3", "m-4"]
    assert "decisions.full-membership.public_stance_electorate" in opened.rules
    cast(motion, ACIC, "m-4", "for")  # absent, and still votes
    with pytest.raises(MotionStateConflict, match="not in this vote's electorate"):
        cast(motion, ACIC, "m-9", "for")  # present, but not entitled


def test_an_ordinary_motion_of_the_same_alliance_is_voted_on_by_those_present():
    motion = given_proposed(ACIC, public_stance=False)
    seek(motion, ACIC, reached=False)
    motion.collect_events()

    open_vote(motion, ACIC, entitled=("m-1", "m-2", "m-3", "m-4"), present=("m-1", "m-9"))

    (opened,) = motion.collect_events()
    assert (opened.scope, opened.electorate) == ("attendees", ["m-1"])
    assert "decisions.full-membership.public_stance_electorate" not in opened.rules
    with pytest.raises(MotionStateConflict):
        cast(motion, ACIC, "m-4", "for")


@pytest.mark.parametrize(
    ("name", "body"), [b for b in NOT_ESCALATING if b[0] != "children-in-care"]
)
def test_elsewhere_a_public_stance_is_voted_on_by_those_present(name, body):
    terms = TERMS[name]
    assert decision_rule(terms.rules, body).public_stance_electorate == "attendees"
    motion = given_proposed(terms, body, public_stance=True)
    seek(motion, terms, reached=False)
    motion.collect_events()

    open_vote(motion, terms, entitled=("m-1", "m-2", "m-3"), present=("m-2", "m-3", "m-7"))

    (opened,) = motion.collect_events()
    assert (opened.scope, opened.electorate) == ("attendees", ["m-2", "m-3"])
    assert opened.quorum_needed is None


def test_no_vote_opens_when_no_entitled_organisation_is_present():
    motion = given_proposed(SSF)
    seek(motion, SSF, reached=False)
    motion.collect_events()

    with pytest.raises(MotionStateConflict, match="at this meeting"):
        open_vote(motion, SSF, entitled=("m-1", "m-2"), present=("m-7",))
    assert motion.collect_events() == [] and motion.status == PROPOSED


# --------------------------------------------------------------------------- the meeting


def test_the_children_in_care_alliance_decides_only_at_main_meetings():
    motion = given_proposed(ACIC)
    side_meeting = meeting_of(main=False)

    with pytest.raises(RulesBroken) as sought:
        seek(motion, ACIC, reached=True, meeting=side_meeting)
    seek(motion, ACIC, reached=False)
    motion.collect_events()
    with pytest.raises(RulesBroken) as voted:
        open_vote(motion, ACIC, meeting=side_meeting)

    for raised in (sought, voted):
        assert refusal(raised) == ("decisions.full-membership.main_meetings_only", "8.1")
    assert motion.collect_events() == [] and motion.status == PROPOSED


@pytest.mark.parametrize(("name", "body"), [b for b in BODIES if b[0] != "children-in-care"])
def test_other_alliances_decide_at_any_held_meeting_of_the_body(name, body):
    terms = TERMS[name]
    motion = given_proposed(terms, body)

    seek(motion, terms, reached=True, meeting=meeting_of(body, main=False))

    assert motion.status == CARRIED


@pytest.mark.parametrize(("name", "body"), BODIES)
def test_an_inquorate_meeting_takes_no_decision(name, body):
    terms = TERMS[name]
    motion = given_proposed(terms, body)
    inquorate = meeting_of(body, quorate=False)

    with pytest.raises(RulesBroken) as raised:
        seek(motion, terms, reached=True, meeting=inquorate)

    rule = f"decisions.{body}.quorum"
    assert refusal(raised) == (rule, terms.clause_for(rule))
    assert "was not quorate" in raised.value.message
    assert motion.collect_events() == [] and motion.status == PROPOSED


@pytest.mark.parametrize("name", list(TERMS))
def test_the_quorum_refusal_cites_the_clause_of_the_full_memberships_decisions(name):
    terms = TERMS[name]
    motion = given_proposed(terms)

    with pytest.raises(RulesBroken) as raised:
        seek(motion, terms, reached=True, meeting=meeting_of(quorate=False))

    assert refusal(raised)[1] == FULL_MEMBERSHIP_CLAUSE[name]


def test_an_inquorate_side_meeting_breaks_both_rules_at_once():
    motion = given_proposed(ACIC)

    with pytest.raises(RulesBroken) as raised:
        seek(motion, ACIC, reached=True, meeting=meeting_of(main=False, quorate=False))

    assert [(v.rule, v.clause) for v in raised.value.violations] == [
        ("decisions.full-membership.main_meetings_only", "8.1"),
        ("decisions.full-membership.quorum", "5"),
    ]


@pytest.mark.parametrize(
    ("terms", "clause"), [(SSF, "3.2"), (ACIC, "3.1")], ids=["separated", "children"]
)
def test_an_admission_is_decided_at_the_next_main_meeting_where_the_tor_says_so(terms, clause):
    admission = Motion.propose(
        body="full-membership",
        text="That Kinship Carers North be admitted",
        proposer_member_id=None,
        public_stance=False,
        decides=Decides(kind="admission", application_id="application-1"),
        person_name=None,
        by="key:officer",
        terms=terms,
    )
    admission.collect_events()

    with pytest.raises(RulesBroken) as raised:
        seek(admission, terms, reached=True, meeting=meeting_of(main=False))

    rules = [v.rule for v in raised.value.violations]
    assert "membership.route.at_next_main_meeting" in rules
    found = next(v for v in raised.value.violations if v.rule.startswith("membership.route"))
    assert found.clause == clause
    assert admission.collect_events() == []
    seek(admission, terms, reached=True, meeting=meeting_of(main=True))
    assert admission.status == CARRIED


def test_a_motion_is_decided_at_a_meeting_of_its_own_body():
    motion = given_proposed(KCA, "executive-committee")

    with pytest.raises(InvalidMotion, match="meeting of the full-membership"):
        seek(motion, KCA, reached=True, meeting=meeting_of("full-membership"))
    assert motion.collect_events() == []


def test_a_motion_is_decided_at_a_meeting_that_was_held():
    motion = given_proposed(KCA)
    seek(motion, KCA, reached=False)
    motion.collect_events()

    with pytest.raises(MotionStateConflict, match="has not been recorded as held"):
        open_vote(motion, KCA, meeting=meeting_of(held=False))
    with pytest.raises(MotionStateConflict, match="has not been recorded as held"):
        given_proposed(KCA).seek_consensus(
            meeting=meeting_of(held=False), reached=True, by="key:chair", terms=KCA
        )
    assert motion.collect_events() == []


# --------------------------------------------------------------------------- votes


def test_once_only_refuses_a_second_vote_with_the_clause():
    terms = with_decision("kinship-care", "full-membership", vote_changes="once-only")
    motion = given_voting(terms)
    cast(motion, terms, "m-1", "for")
    motion.collect_events()

    with pytest.raises(RulesBroken) as raised:
        cast(motion, terms, "m-1", "for")

    assert refusal(raised) == ("decisions.full-membership.vote_changes", "7")
    assert motion.collect_events() == [] and motion.votes == {"m-1": "for"}


def test_where_the_last_vote_counts_an_organisation_may_change_its_mind():
    motion = given_voting(KCA)
    cast(motion, KCA, "m-1", "for")
    cast(motion, KCA, "m-2", "for")
    cast(motion, KCA, "m-1", "against")
    motion.collect_events()

    counted = close(motion, KCA)

    assert (counted.votes_for, counted.against, counted.turnout) == (1, 1, 2)
    assert counted.outcome == "tied"
    event = decided(motion.collect_events())
    assert (event.outcome, event.rule, event.clause) == (
        DEFEATED,
        "decisions.full-membership.casting_vote_office",
        "7",
    )
    assert "gives no casting vote" in event.reason


def test_a_vote_is_for_against_or_abstain():
    motion = given_voting(KCA)

    with pytest.raises(InvalidMotion):
        cast(motion, KCA, "m-1", "maybe")
    assert motion.collect_events() == []


def test_no_vote_is_taken_before_voting_opens_or_after_the_count():
    motion = given_proposed(KCA)
    with pytest.raises(MotionStateConflict, match="cannot take votes"):
        cast(motion, KCA, "m-1", "for")
    with pytest.raises(MotionStateConflict, match="cannot be counted"):
        close(motion, KCA)

    voting = given_voting(KCA)
    cast(voting, KCA, "m-1", "for")
    close(voting, KCA)
    voting.collect_events()
    with pytest.raises(MotionStateConflict, match="is carried"):
        cast(voting, KCA, "m-2", "for")
    with pytest.raises(MotionStateConflict):
        close(voting, KCA)
    assert voting.collect_events() == []


def test_a_vote_with_a_closing_time_takes_no_vote_after_it_and_closes_early_only_when_all_voted():
    closes_at = NOW + timedelta(hours=2)
    motion = given_voting(KCA, entitled=("m-1", "m-2"), closes_at=closes_at)
    cast(motion, KCA, "m-1", "for")
    motion.collect_events()

    with pytest.raises(MotionStateConflict, match="not every organisation has voted"):
        close(motion, KCA)
    with pytest.raises(MotionStateConflict, match="has closed"):
        cast(motion, KCA, "m-2", "for", now=closes_at)
    assert motion.collect_events() == []
    cast(motion, KCA, "m-2", "against", now=closes_at - timedelta(seconds=1))
    counted = close(motion, KCA)  # early: everyone has voted

    assert counted.outcome == "tied"
    late = given_voting(KCA, entitled=("m-1", "m-2"), closes_at=closes_at)
    cast(late, KCA, "m-1", "for")
    assert close(late, KCA, now=closes_at).outcome == "carried"


def test_a_closing_time_is_in_the_future():
    motion = given_proposed(KCA)
    seek(motion, KCA, reached=False)
    motion.collect_events()

    with pytest.raises(InvalidMotion, match="in the future"):
        open_vote(motion, KCA, closes_at=NOW)
    assert motion.collect_events() == []


# --------------------------------------------------------------------------- ties


@BOUNDED
@given(
    name=st.sampled_from(list(TERMS)),
    office_index=st.integers(0, 2),
    pairs=st.integers(1, 3),
    majority=st.sampled_from(["of-votes-cast", "of-voting-members"]),
    casting=st.lists(st.sampled_from(["for", "against"]), min_size=1, max_size=3),
)
def test_a_tie_goes_to_the_casting_vote_of_every_holder_of_the_office_the_tor_names(
    name, office_index, pairs, majority, casting
):
    offices = [o.key for o in TERMS[name].rules.offices]
    office = offices[office_index % len(offices)]
    terms = with_decision(name, "full-membership", casting_vote_office=office, majority=majority)
    entitled = tuple(f"m-{i}" for i in range(2 * pairs))
    motion = given_voting(terms, entitled=entitled)
    for i, member in enumerate(entitled):
        cast(motion, terms, member, "for" if i < pairs else "against")
    holders = {f"holding-{i}": f"m-{i}" for i in range(len(casting))}
    motion.collect_events()

    counted = close(motion, terms, holders)

    (closed,) = motion.collect_events()
    assert closed.outcome == counted.outcome == "tied"
    assert motion.status == TIED and motion.is_open
    votes = {f"holding-{i}": choice for i, choice in enumerate(casting)}
    outcome = motion.give_casting_vote(holders=holders, votes=votes, by="key:chair", terms=terms)
    given_vote, event = motion.collect_events()
    want, why = reference_casting(casting)
    assert outcome == event.outcome == motion.status == want
    assert (event.via, event.rule) == (
        "casting-vote",
        "decisions.full-membership.casting_vote_office",
    )
    assert event.clause == FULL_MEMBERSHIP_CLAUSE[name]
    assert why in event.reason
    assert [v["choice"] for v in given_vote.votes] == casting


def test_holders_of_the_casting_vote_who_disagree_defeat_the_motion_and_the_record_says_why():
    motion = given_voting(ACIC, entitled=("m-1", "m-2"))
    cast(motion, ACIC, "m-1", "for")
    cast(motion, ACIC, "m-2", "against")
    holders = {"holding-a": "m-1", "holding-b": "m-2"}
    close(motion, ACIC, holders)
    motion.collect_events()

    outcome = motion.give_casting_vote(
        holders=holders,
        votes={"holding-a": "for", "holding-b": "against"},
        by="key:chair",
        terms=ACIC,
    )

    assert outcome == DEFEATED
    event = decided(motion.collect_events())
    assert event.reason == "the holders of the casting vote disagreed, so the motion fails"
    assert (event.rule, event.clause) == ("decisions.full-membership.casting_vote_office", "5")


def test_a_tie_with_a_casting_office_no_one_holds_fails():
    motion = given_voting(ACIC, entitled=("m-1", "m-2"))
    cast(motion, ACIC, "m-1", "for")
    cast(motion, ACIC, "m-2", "against")
    motion.collect_events()

    close(motion, ACIC, {})

    event = decided(motion.collect_events())
    assert (event.outcome, event.via) == (DEFEATED, "vote")
    assert "no one holds the office of co-chair" in event.reason
    with pytest.raises(MotionStateConflict, match="cannot take a casting vote"):
        motion.give_casting_vote(holders={}, votes={}, by="key:chair", terms=ACIC)


@pytest.mark.parametrize(
    ("votes", "message"),
    [
        ({"holding-a": "for"}, "missing: holding-b"),
        ({"holding-a": "for", "holding-b": "for", "holding-x": "for"}, "'holding-x' is not"),
        ({"holding-a": "for", "holding-b": "abstain"}, "for or against"),
    ],
)
def test_every_holder_and_only_holders_give_the_casting_vote_for_or_against(votes, message):
    motion = given_voting(ACIC, entitled=("m-1", "m-2"))
    cast(motion, ACIC, "m-1", "for")
    cast(motion, ACIC, "m-2", "against")
    holders = {"holding-a": "m-1", "holding-b": "m-2"}
    close(motion, ACIC, holders)
    motion.collect_events()

    with pytest.raises(InvalidMotion, match=message):
        motion.give_casting_vote(holders=holders, votes=votes, by="key:chair", terms=ACIC)
    assert motion.collect_events() == [] and motion.status == TIED


def test_a_tie_whose_casting_office_has_since_emptied_fails_and_says_so():
    motion = given_voting(ACIC, entitled=("m-1", "m-2"))
    cast(motion, ACIC, "m-1", "for")
    cast(motion, ACIC, "m-2", "against")
    close(motion, ACIC, {"holding-a": "m-1"})
    motion.collect_events()

    outcome = motion.give_casting_vote(holders={}, votes={}, by="key:chair", terms=ACIC)

    given_vote, event = motion.collect_events()
    assert outcome == DEFEATED == event.outcome == motion.status
    assert given_vote.votes == []
    assert "disagreed" not in event.reason
    assert "no one now holds the office of co-chair" in event.reason
    assert (event.rule, event.clause) == ("decisions.full-membership.casting_vote_office", "5")


def test_the_casting_office_is_the_one_in_force_when_voting_opened():
    motion = given_voting(ACIC, entitled=("m-1", "m-2"))
    cast(motion, ACIC, "m-1", "for")
    cast(motion, ACIC, "m-2", "against")
    motion.collect_events()
    # The ToR drops the casting vote while the vote is open.
    amended = with_decision("children-in-care", "full-membership", casting_vote_office=None)

    counted = close(motion, amended, {"holding-a": "m-1"})

    assert counted.outcome == "tied" and motion.status == TIED
    motion.give_casting_vote(
        holders={"holding-a": "m-1"}, votes={"holding-a": "for"}, by="key:chair", terms=amended
    )
    given_vote, event = motion.collect_events()[-2:]
    assert given_vote.office == "co-chair"
    assert (event.outcome, event.via) == (CARRIED, "casting-vote")


# --------------------------------------------------------------------------- proposing


def test_a_motion_is_put_to_a_body_of_the_tor():
    with pytest.raises(InvalidMotion, match="no body 'steering-group'"):
        propose(KCA, "steering-group")


@pytest.mark.parametrize(
    ("decides", "person", "message"),
    [
        (Decides(kind="admission"), None, "names its application_id"),
        (Decides(kind="amendment"), None, "names its amendment_id"),
        (Decides(kind="appointment"), None, "names its office"),
        (Decides(kind="appointment", office="chair"), None, "names the member"),
        (Decides(effective_from="2027-01-01"), None, "effective date"),
    ],
)
def test_what_a_motion_decides_is_well_formed(decides, person, message):
    with pytest.raises(InvalidMotion, match=message):
        Motion.propose(
            body="full-membership",
            text="t",
            proposer_member_id=None,
            public_stance=False,
            decides=decides,
            person_name=person,
            by="k",
            terms=KCA,
        )


def test_only_a_motion_not_yet_voted_on_is_withdrawn():
    motion = given_proposed(KCA)
    motion.withdraw(reason="superseded", by="key:m-0")
    assert [type(e) for e in motion.collect_events()] == [Motion.Withdrawn]
    assert motion.status == WITHDRAWN

    voting = given_voting(KCA)
    with pytest.raises(MotionStateConflict, match="only a motion not yet voted on"):
        voting.withdraw(reason="too late", by="key:m-0")
    assert voting.collect_events() == []


# --------------------------------------------------------------------------- replay


class Store(Application):
    """An in-memory store that keeps days as the alliance store does."""

    def register_transcodings(self, transcoder):
        super().register_transcodings(transcoder)
        transcoder.register(DateAsISO())


def test_replaying_a_motions_events_rebuilds_the_same_state():
    store = Store(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    motion = propose(ACIC, public_stance=True)
    seek(motion, ACIC, reached=False)
    open_vote(
        motion,
        ACIC,
        entitled=("m-1", "m-2"),
        present=("m-1",),
        closes_at=NOW + timedelta(days=1),
    )
    cast(motion, ACIC, "m-1", "for")
    cast(motion, ACIC, "m-2", "against")
    close(motion, ACIC, {"holding-a": "m-1"})
    motion.give_casting_vote(
        holders={"holding-a": "m-1"}, votes={"holding-a": "for"}, by="key:chair", terms=ACIC
    )
    store.save(motion)

    replayed = store.repository.get(motion.id)

    assert vars(replayed) == vars(motion)
    assert replayed.status == CARRIED and replayed.casting_office == "co-chair"
    assert replayed.electorate == ("m-1", "m-2")
    assert replayed.closes_at == NOW + timedelta(days=1)
