"""Elections: nominations checked against the office's rules, one ballot per entitled
organisation, and a count anyone with the record can repeat.

Given an election built by earlier commands (its events collected), when one command
runs, then only its new events are pending, or it is refused (with the template's clause
where the rule is the ToR's) and nothing at all is pending. A Hypothesis reference model,
written here from the published recount recipe, counts random ballots and the real
`tally` and `Election` must agree with it.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
from collections import Counter
from datetime import timedelta
from fractions import Fraction
from typing import Any

import msgspec
import pytest
from eventsourcing.application import Application
from hypothesis import HealthCheck, given, settings
from hypothesis import event as label
from hypothesis import strategies as st

from domain.elections import (
    CANCELLED,
    CLOSED,
    NOMINATING,
    VOTING,
    BallotBox,
    CandidateFacts,
    Election,
    ElectionStateConflict,
    InvalidElection,
    Result,
    lot_commitment,
    lot_seed,
    tally,
)
from domain.errors import RulesBroken
from domain.terms import Version
from services.applications import DateAsISO
from tests.unit.tor import ACIC, KCA, NOW, SSF, refusal, terms_of

BOUNDED = settings(
    max_examples=200,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)

NOMINATIONS_CLOSE = NOW + timedelta(days=7)
VOTING_OPENS = NOW + timedelta(days=14)
VOTING_CLOSES = NOW + timedelta(days=21)
DURING_VOTING = VOTING_OPENS + timedelta(hours=1)
TERMS = {"children-in-care": ACIC, "separated-families": SSF}
#: The elected offices of the templates.
ELECTED = [("children-in-care", "co-chair"), ("separated-families", "chair")]
ORGANISATIONS = ("m-a", "m-b", "m-c", "m-d", "m-e")
EVENT_BASE = {"originator_id", "originator_version", "timestamp"}


# --------------------------------------------------------------------------- givens


def with_office(name: str, office: str, *, election: dict[str, Any] | None = None, **changes):
    """The template's ToR with an office (and its election rule) changed."""
    return _with_office(
        name,
        office,
        tuple(sorted((election or {}).items())),
        tuple(sorted(changes.items())),
    )


@functools.cache
def _with_office(name: str, office: str, election: tuple, changes: tuple) -> Version:
    rules = TERMS[name].rules
    rule = rules.office(office)
    assert rule is not None and rule.election is not None
    changed = msgspec.structs.replace(
        rule, election=msgspec.structs.replace(rule.election, **dict(election)), **dict(changes)
    )
    offices = tuple(changed if o.key == office else o for o in rules.offices)
    return terms_of(name, msgspec.structs.replace(rules, offices=offices))


def open_election(
    terms: Version = ACIC,
    office: str = "co-chair",
    *,
    seats: int | None = None,
    vacancies: int | None = None,
    continuing: tuple[str, ...] = (),
    nominations_close=NOMINATIONS_CLOSE,
    voting_opens=VOTING_OPENS,
    voting_closes=VOTING_CLOSES,
    starts_on=None,
    now=NOW,
    commitment: str = "",
) -> Election:
    rule = terms.rules.office(office)
    all_seats = rule.seats if rule else 1
    return Election.open(
        office=office,
        seats=all_seats - len(continuing) if seats is None else seats,
        nominations_close=nominations_close,
        voting_opens=voting_opens,
        voting_closes=voting_closes,
        starts_on=starts_on,
        vacancies=all_seats - len(continuing) if vacancies is None else vacancies,
        continuing_organisations=continuing,
        now=now,
        by="key:officer",
        terms=terms,
        lot_commitment=commitment,
    )


def given_open(terms: Version = ACIC, office: str = "co-chair", **kw: Any) -> Election:
    election = open_election(terms, office, **kw)
    election.collect_events()
    return election


def facts(member_id: str, *, voting: bool = True, held_before: bool = False) -> CandidateFacts:
    return CandidateFacts(
        member_id=member_id,
        organisation=f"Organisation {member_id}",
        is_voting_member=voting,
        held_before=held_before,
    )


def nominate(
    election: Election,
    member_id: str,
    terms: Version = ACIC,
    *,
    person: str | None = None,
    statement: str = "I will listen to every member organisation.",
    now=NOW,
    voting: bool = True,
    held_before: bool = False,
) -> str:
    return election.nominate(
        candidate=facts(member_id, voting=voting, held_before=held_before),
        person_name=person or f"Person of {member_id}",
        statement=statement,
        now=now,
        by="key:officer",
        terms=terms,
    )


def open_voting(
    election: Election, terms: Version = ACIC, *, entitled=ORGANISATIONS, now=DURING_VOTING
):
    election.open_voting(entitled=entitled, now=now, by="key:officer", terms=terms)


def given_voting(
    terms: Version = ACIC,
    office: str = "co-chair",
    *,
    nominees: tuple[str, ...] = ("m-a", "m-b", "m-c"),
    entitled: tuple[str, ...] = ORGANISATIONS,
    **kw: Any,
) -> tuple[Election, dict[str, str]]:
    """An election open for ballots, and its candidate ids by member id."""
    election = open_election(terms, office, **kw)
    ids = {member: nominate(election, member, terms) for member in nominees}
    open_voting(election, terms, entitled=entitled)
    election.collect_events()
    return election, ids


def vote(election: Election, member_id: str, *choices: str, now=DURING_VOTING) -> None:
    """The organisation's ballot: sealed apart (secret) or recorded (open)."""
    if election.secret_ballot:
        election.record_turnout(member_id=member_id, choices=choices, now=now, by="key:rep")
    else:
        election.record_vote(member_id=member_id, choices=choices, now=now, by="key:rep")


def close(
    election: Election, terms: Version = ACIC, *, sealed=None, now=VOTING_CLOSES, nonce: str = ""
) -> Result:
    return election.close(
        sealed_ballots=sealed, now=now, by="key:officer", terms=terms, lot_nonce=nonce
    )


def payload(domain_event: Any) -> dict[str, Any]:
    return {k: v for k, v in vars(domain_event).items() if k not in EVENT_BASE}


# --------------------------------------------------------------------------- reference model


def recount_seed(election_id: str, ballots: list[list[str]], nonce: str = "") -> str:
    """The published recipe: SHA-256 over a context line, the election id, the ballots
    in canonical order (each ballot's choices sorted, then the ballots sorted) as compact
    JSON, and the lot's nonce (committed to when the election opened), a line each."""
    canonical = sorted(sorted(ballot) for ballot in ballots)
    text = json.dumps(canonical).replace(", ", ",")
    recipe = f"concord/lot/v1\n{election_id}\n{text}\n{nonce}"
    return hashlib.sha256(recipe.encode()).hexdigest()


def drawn(seed: str, candidate_id: str) -> str:
    """A candidate's place in the lot: the lower, the earlier drawn."""
    return hashlib.sha256(f"{seed}:{candidate_id}".encode()).hexdigest()


@dataclasses.dataclass(frozen=True)
class Recount:
    votes: dict[str, int]
    elected: list[str]
    #: Candidate → "threshold", "seats" or "organisation": why not elected.
    why_not: dict[str, str]
    lot: list[list[str]]
    seed: str


def recount(
    election_id: str,
    ballots: list[list[str]],
    candidates: dict[str, str],
    *,
    seats: int,
    method: str,
    distinct: bool,
    taken: tuple[str, ...] = (),
    majority_of: int | None = None,
    nonce: str = "",
) -> Recount:
    """`majority_of`: the electorate, where a simple majority is of the voting members
    (None: of the ballots cast)."""
    votes = Counter(choice for ballot in ballots for choice in ballot)
    votes = {c: votes[c] for c in candidates}
    seed = recount_seed(election_id, ballots, nonce)
    base = len(ballots) if majority_of is None else majority_of
    # Most votes first; the lot orders candidates level on votes.
    ranked = sorted(candidates, key=lambda c: (-votes[c], drawn(seed, c)))

    def passes(c: str) -> bool:
        if method == "simple-majority":
            return votes[c] > Fraction(base, 2)  # more than half of the ballots (or members)
        return votes[c] > 0

    elected: list[str] = []
    why_not: dict[str, str] = {}
    holding = set(taken) if distinct else set()
    for c in ranked:
        if not passes(c):
            why_not[c] = "threshold"
        elif len(elected) >= seats:
            # Level with the last elected: it is the lot that kept them out.
            why_not[c] = "lot" if votes[c] == votes[elected[-1]] else "seats"
        elif distinct and candidates[c] in holding:
            why_not[c] = "organisation"
        else:
            elected.append(c)
            holding.add(candidates[c])
    levels = sorted(set(votes.values()), reverse=True)
    lot = []
    for level in levels:
        group = [c for c in ranked if votes[c] == level]
        chosen = [c for c in group if c in elected]
        if 0 < len(chosen) < len(group):
            lot.append(group)
    return Recount(votes=votes, elected=elected, why_not=why_not, lot=lot, seed=seed)


REASONS = {
    "threshold": ("not more than half of the", "no votes"),
    "seats": ("fewer votes than the",),
    "lot": ("the lot placed them after",),
    "organisation": ("same organisation",),
}


def assert_agrees(result: Result, expected: Recount, ballots: list[list[str]]) -> None:
    assert result.counts == expected.votes
    assert result.elected == expected.elected
    assert result.seed == expected.seed
    assert result.lot == expected.lot
    assert result.ballots == len(ballots)
    assert result.blank == sum(1 for b in ballots if not b)
    assert set(result.not_elected) == set(expected.why_not)
    for candidate, why in expected.why_not.items():
        assert any(text in result.not_elected[candidate] for text in REASONS[why]), (
            candidate,
            why,
            result.not_elected[candidate],
        )


@st.composite
def counts(draw: st.DrawFn) -> dict[str, Any]:
    n = draw(st.integers(1, 5))
    candidates = {f"cand-{i}": draw(st.sampled_from(ORGANISATIONS[:3])) for i in range(n)}
    seats = draw(st.integers(1, 3))
    names = sorted(candidates)
    # Mostly filled ballots, and sometimes pairs of the same ballot (level candidates).
    ballot = st.lists(st.sampled_from(names), unique=True, min_size=1, max_size=seats)
    ballots = draw(st.lists(st.one_of(ballot, ballot, st.just([])), max_size=8))
    if n > 1 and draw(st.integers(0, 2)) > 0:
        # Some candidates level on votes: each named alone on as many ballots.
        level = draw(st.lists(st.sampled_from(names), unique=True, min_size=2))
        ballots += [[c] for c in level] * draw(st.integers(1, 3))
    return {
        "election_id": draw(
            st.sampled_from(["e-1", "e-2", "3f2a9c1e-0000-4000-8000-000000000000"])
        ),
        "ballots": ballots,
        "candidates": candidates,
        "seats": seats,
        "method": draw(st.sampled_from(["most-votes", "simple-majority"])),
        "distinct": draw(st.booleans()),
        "taken": tuple(draw(st.lists(st.sampled_from(ORGANISATIONS[:3]), unique=True, max_size=2))),
        # Of the voting members: an electorate at least as large as the ballots cast.
        "majority_of": draw(st.one_of(st.none(), st.integers(len(ballots), len(ballots) + 4))),
        "nonce": draw(st.sampled_from(["", "5c1e0a", "nonce-2"])),
    }


def run_tally(case: dict[str, Any], **changes: Any) -> Result:
    case = {**case, **changes}
    return tally(
        election_id=case["election_id"],
        ballots=case["ballots"],
        candidates=case["candidates"],
        seats=case["seats"],
        method=case["method"],
        distinct_organisations=case["distinct"],
        taken_organisations=case["taken"],
        majority_base=case["majority_of"],
        nonce=case["nonce"],
    )


# --------------------------------------------------------------------------- the count


@BOUNDED
@given(counts())
def test_the_count_agrees_with_the_reference_model(case):
    result = run_tally(case)

    expected = recount(
        case["election_id"],
        case["ballots"],
        case["candidates"],
        seats=case["seats"],
        method=case["method"],
        distinct=case["distinct"],
        taken=case["taken"],
        majority_of=case["majority_of"],
        nonce=case["nonce"],
    )
    assert_agrees(result, expected, case["ballots"])
    label(f"elected {len(result.elected)} of {case['seats']}; lot groups: {len(result.lot)}")


@BOUNDED
@given(counts())
def test_the_result_keeps_the_seat_threshold_and_organisation_rules(case):
    result = run_tally(case)

    votes, orgs = result.counts, case["candidates"]
    n = len(case["ballots"]) if case["majority_of"] is None else case["majority_of"]

    def passes(c: str) -> bool:
        return 2 * votes[c] > n if case["method"] == "simple-majority" else votes[c] >= 1

    elected = result.elected
    assert len(elected) <= case["seats"]
    assert all(passes(c) for c in elected)
    if case["distinct"]:
        held = [orgs[c] for c in elected]
        assert len(set(held)) == len(held)
        assert not set(held) & set(case["taken"])
    for loser in set(orgs) - set(elected):
        blocked = case["distinct"] and (
            orgs[loser] in case["taken"] or any(orgs[e] == orgs[loser] for e in elected)
        )
        if passes(loser) and not blocked:
            # A candidate who could have sat lost only to a full house of no fewer votes.
            assert len(elected) == case["seats"]
            assert all(votes[e] >= votes[loser] for e in elected)


@BOUNDED
@given(counts(), st.randoms(use_true_random=False))
def test_the_lot_is_reproducible_from_the_ballots_in_any_order(case, rnd):
    shuffled = [rnd.sample(b, len(b)) for b in case["ballots"]]
    rnd.shuffle(shuffled)

    first, again = run_tally(case), run_tally(case, ballots=shuffled)

    assert again == first
    assert first.seed == lot_seed(case["election_id"], shuffled, case["nonce"])


@BOUNDED
@given(counts(), st.integers(1, 3), st.sampled_from(["simple-majority", "most-votes"]))
def test_the_seed_depends_on_the_recorded_ballots_election_and_nonce_only(case, seats, method):
    result = run_tally(case)

    other_rules = run_tally(
        case,
        seats=seats,
        method=method,
        distinct=not case["distinct"],
        taken=(),
        candidates=dict.fromkeys(case["candidates"], "m-e"),
        majority_of=None if case["majority_of"] else len(case["ballots"]) + 1,
    )
    another_election = run_tally(case, election_id=case["election_id"] + "-x")
    one_more_ballot = run_tally(case, ballots=[*case["ballots"], []])
    another_nonce = run_tally(case, nonce=case["nonce"] + "x")

    assert result.seed == recount_seed(case["election_id"], case["ballots"], case["nonce"])
    assert other_rules.seed == result.seed
    assert another_election.seed != result.seed
    assert one_more_ballot.seed != result.seed
    assert another_nonce.seed != result.seed


@BOUNDED
@given(
    election_id=st.text("abcdef0123456789-", min_size=1, max_size=36),
    level=st.integers(2, 5),
    seats=st.integers(1, 4),
    votes=st.integers(1, 3),
    method=st.sampled_from(["most-votes", "simple-majority"]),
)
def test_candidates_level_on_votes_are_ordered_by_the_lot(election_id, level, seats, votes, method):
    candidates = {f"cand-{i}": f"m-{i}" for i in range(level)}
    # Each candidate is named on `votes` ballots: all together on each ballot where the
    # seats allow it (so each is on every ballot), else each alone (so none has a majority).
    ballots = [sorted(candidates)] * votes if level <= seats else []
    ballots += [[c] for c in candidates] * votes if not ballots else []

    result = tally(
        election_id=election_id,
        ballots=ballots,
        candidates=candidates,
        seats=seats,
        method=method,  # type: ignore[arg-type]
        distinct_organisations=False,
    )

    seed = recount_seed(election_id, ballots)
    by_lot = sorted(candidates, key=lambda c: drawn(seed, c))
    passes = method == "most-votes" or level <= seats
    assert result.elected == (by_lot[:seats] if passes else [])
    assert result.lot == ([by_lot] if passes and seats < level else [])
    assert set(result.counts.values()) == {votes}


def test_a_tie_for_the_last_seat_is_drawn_by_lot_and_recorded():
    candidates = {"cand-x": "m-a", "cand-y": "m-b", "cand-z": "m-c"}
    ballots = [["cand-x"], ["cand-y"], ["cand-x"], ["cand-y"], ["cand-z"]]

    result = tally(
        election_id="e-1",
        ballots=ballots,
        candidates=candidates,
        seats=1,
        method="most-votes",
        distinct_organisations=False,
    )

    seed = recount_seed("e-1", ballots)
    first = min(("cand-x", "cand-y"), key=lambda c: drawn(seed, c))
    assert result.elected == [first]
    assert result.lot == [sorted(("cand-x", "cand-y"), key=lambda c: drawn(seed, c))]
    assert result.counts == {"cand-x": 2, "cand-y": 2, "cand-z": 1}
    assert "fewer votes than the 1 elected" in result.not_elected["cand-z"]


def test_no_lot_is_recorded_when_the_level_candidates_all_win_or_all_lose():
    candidates = {"cand-w": "m-a", "cand-x": "m-b", "cand-y": "m-c", "cand-z": "m-d"}
    ballots = [["cand-w", "cand-x"], ["cand-w", "cand-x"], ["cand-y", "cand-z"]]

    result = tally(
        election_id="e-1",
        ballots=ballots,
        candidates=candidates,
        seats=2,
        method="most-votes",
        distinct_organisations=False,
    )

    assert sorted(result.elected) == ["cand-w", "cand-x"]
    assert result.lot == []


def test_a_simple_majority_needs_more_than_half_of_all_ballots_blank_ones_included():
    candidates = {"cand-x": "m-a", "cand-y": "m-b"}
    half = [["cand-x"], ["cand-x"], [], ["cand-y"]]
    more = [["cand-x"], ["cand-x"], ["cand-x"], [], ["cand-y"]]

    at_half = tally(
        election_id="e-1",
        ballots=half,
        candidates=candidates,
        seats=1,
        method="simple-majority",
        distinct_organisations=False,
    )
    over_half = tally(
        election_id="e-1",
        ballots=more,
        candidates=candidates,
        seats=1,
        method="simple-majority",
        distinct_organisations=False,
    )

    assert at_half.elected == [] and at_half.blank == 1
    assert at_half.not_elected["cand-x"] == "2 votes: not more than half of the 4 ballots cast"
    assert over_half.elected == ["cand-x"]


@pytest.mark.parametrize(("for_x", "elected"), [(3, []), (4, ["cand-x"])])
def test_a_majority_of_the_voting_members_counts_those_who_did_not_vote(for_x, elected):
    candidates = {"cand-x": "m-a", "cand-y": "m-b"}
    ballots = [["cand-x"]] * for_x + [["cand-y"]]

    result = tally(
        election_id="e-1",
        ballots=ballots,
        candidates=candidates,
        seats=1,
        method="simple-majority",
        distinct_organisations=False,
        majority_base=7,
    )

    # 3 of 4 ballots is a majority of the ballots, not of the 7 entitled to vote.
    assert result.elected == elected
    assert result.not_elected["cand-y"] == (
        "1 votes: not more than half of the 7 organisations entitled to vote"
    )


def test_a_seat_skips_an_organisation_that_already_holds_one():
    candidates = {"cand-x": "m-a", "cand-y": "m-a", "cand-z": "m-b", "cand-q": "m-c"}
    ballots = [["cand-x", "cand-y"]] * 3 + [["cand-q"]] * 2 + [["cand-z"]]

    fresh = tally(
        election_id="e-1",
        ballots=ballots,
        candidates=candidates,
        seats=2,
        method="most-votes",
        distinct_organisations=True,
    )
    continuing = tally(
        election_id="e-1",
        ballots=ballots,
        candidates=candidates,
        seats=1,
        method="most-votes",
        distinct_organisations=True,
        taken_organisations=("m-a",),
    )

    assert len(fresh.elected) == 2 and fresh.elected[1] == "cand-q"
    assert fresh.elected[0] in ("cand-x", "cand-y")
    assert fresh.lot == [sorted(("cand-x", "cand-y"), key=lambda c: drawn(fresh.seed, c))]
    assert continuing.elected == ["cand-q"]
    assert "same organisation" in continuing.not_elected["cand-x"]
    assert "same organisation" in continuing.not_elected["cand-y"]
    assert continuing.lot == []  # no lot decided anything: m-a keeps its seat either way


# --------------------------------------------------------------------------- opening


def test_an_election_takes_the_offices_rules_as_they_stand():
    election = open_election(ACIC, continuing=("m-a",), seats=1, vacancies=1)

    (opened,) = election.collect_events()
    assert isinstance(opened, Election.Opened)
    assert (opened.office, opened.seats, opened.method) == ("co-chair", 1, "simple-majority")
    assert opened.majority == "of-voting-members"
    assert (opened.secret_ballot, opened.statement_word_limit) == (True, 300)
    assert opened.distinct_organisations is True
    assert opened.continuing_organisations == ["m-a"]
    assert opened.starts_on == VOTING_CLOSES.date()
    assert election.status == NOMINATING


def test_only_an_office_of_the_tor_is_elected():
    with pytest.raises(InvalidElection, match="no office 'treasurer'"):
        open_election(ACIC, "treasurer")


@pytest.mark.parametrize(
    ("terms", "office", "clause"),
    [(KCA, "chair", "5"), (ACIC, "working-group-lead", "7.1")],
)
def test_an_appointed_office_is_not_elected(terms, office, clause):
    with pytest.raises(RulesBroken) as raised:
        open_election(terms, office, seats=1, vacancies=1)

    assert refusal(raised) == (f"offices.{office}.selection", clause)


@pytest.mark.parametrize(
    "windows",
    [
        {"nominations_close": NOW},
        {"voting_opens": NOMINATIONS_CLOSE - timedelta(seconds=1)},
        {"voting_closes": VOTING_OPENS},
    ],
)
def test_the_windows_follow_one_another(windows):
    with pytest.raises(InvalidElection, match="windows must follow one another"):
        open_election(**windows)


def test_the_elected_take_office_no_earlier_than_the_count():
    with pytest.raises(InvalidElection):
        open_election(starts_on=VOTING_CLOSES.date() - timedelta(days=1))


def test_an_election_fills_no_more_seats_than_will_be_vacant():
    with pytest.raises(RulesBroken) as raised:
        open_election(ACIC, seats=2, vacancies=1, continuing=("m-a",))

    assert refusal(raised) == ("offices.co-chair.seats", "6")


# --------------------------------------------------------------------------- nominations


def test_a_nomination_is_recorded_with_its_statement():
    election = given_open()

    candidate_id = nominate(election, "m-a", person="Asha Patel", statement="I will serve.")

    (nominated,) = election.collect_events()
    assert isinstance(nominated, Election.Nominated)
    assert (nominated.candidate_id, nominated.member_id) == (candidate_id, "m-a")
    assert nominated.person == {"name": "Asha Patel"}
    assert election.standing() == {candidate_id: "m-a"}


def test_nominations_close_when_the_window_does():
    election = given_open()

    nominate(election, "m-a", now=NOMINATIONS_CLOSE - timedelta(seconds=1))
    election.collect_events()
    with pytest.raises(ElectionStateConflict, match="nominations closed"):
        nominate(election, "m-b", now=NOMINATIONS_CLOSE)
    assert election.collect_events() == []


def test_a_statement_keeps_to_the_word_limit_with_the_clause():
    election = given_open()
    nominate(election, "m-a", statement=" ".join(["word"] * 300))
    election.collect_events()

    with pytest.raises(RulesBroken) as raised:
        nominate(election, "m-b", statement=" ".join(["word"] * 301))

    assert refusal(raised) == ("offices.co-chair.election.statement_word_limit", "6.1")
    assert "at most 300 words; this one has 301" in raised.value.message
    assert election.collect_events() == []


def test_without_a_word_limit_any_statement_stands():
    election = given_open(SSF, "chair")

    nominate(election, "m-a", SSF, statement=" ".join(["word"] * 5000))

    assert len(election.collect_events()) == 1


def test_candidates_come_from_the_membership():
    election = given_open()

    with pytest.raises(RulesBroken) as raised:
        nominate(election, "m-x", voting=False)

    assert refusal(raised) == ("offices.co-chair.from_membership", "6")
    assert election.collect_events() == []


def test_a_past_holder_stands_again_only_where_the_tor_allows_it():
    once = with_office("children-in-care", "co-chair", re_eligible=False)
    closed_to_past = given_open(once)
    open_to_past = given_open(ACIC)

    with pytest.raises(RulesBroken) as raised:
        nominate(closed_to_past, "m-a", once, held_before=True)
    nominate(open_to_past, "m-a", held_before=True)
    nominate(closed_to_past, "m-b", once, held_before=False)

    assert refusal(raised) == ("offices.co-chair.re_eligible", "6.1")
    assert len(open_to_past.collect_events()) == 1
    assert [e.member_id for e in closed_to_past.collect_events()] == ["m-b"]


def test_an_organisation_keeping_a_seat_cannot_stand_where_holders_must_differ():
    election = given_open(ACIC, continuing=("m-a",))

    with pytest.raises(RulesBroken) as raised:
        nominate(election, "m-a")
    nominate(election, "m-b")

    assert refusal(raised) == ("offices.co-chair.distinct_organisations", "6")
    assert [e.member_id for e in election.collect_events()] == ["m-b"]


def test_where_holders_may_share_an_organisation_one_keeping_a_seat_may_stand():
    two_chairs = with_office("separated-families", "chair", seats=2)
    election = given_open(two_chairs, "chair", continuing=("m-a",))

    nominate(election, "m-a", two_chairs)

    assert len(election.collect_events()) == 1


def test_every_broken_rule_of_a_nomination_is_listed_with_its_clause():
    once = with_office("children-in-care", "co-chair", re_eligible=False)
    election = given_open(once, continuing=("m-a",))

    with pytest.raises(RulesBroken) as raised:
        nominate(
            election,
            "m-a",
            once,
            statement=" ".join(["word"] * 400),
            voting=False,
            held_before=True,
        )

    assert [(v.rule, v.clause) for v in raised.value.violations] == [
        ("offices.co-chair.election.statement_word_limit", "6.1"),
        ("offices.co-chair.from_membership", "6"),
        ("offices.co-chair.re_eligible", "6.1"),
        ("offices.co-chair.distinct_organisations", "6"),
    ]


def test_a_person_stands_once_but_an_organisation_may_put_up_several():
    election = given_open()
    first = nominate(election, "m-a", person="Asha Patel")
    nominate(election, "m-a", person="Ben Okafor")
    election.collect_events()

    with pytest.raises(ElectionStateConflict, match="already a candidate"):
        nominate(election, "m-a", person="  asha   PATEL ")
    election.withdraw_nomination(candidate_id=first, reason="moving on", by="key:officer")
    nominate(election, "m-a", person="Asha Patel")

    kinds = [type(e) for e in election.collect_events()]
    assert kinds == [Election.NominationWithdrawn, Election.Nominated]


def test_only_a_standing_candidate_withdraws():
    election = given_open()
    candidate = nominate(election, "m-a")
    election.withdraw_nomination(candidate_id=candidate, reason="r", by="k")
    election.collect_events()

    with pytest.raises(InvalidElection):
        election.withdraw_nomination(candidate_id=candidate, reason="r", by="k")
    with pytest.raises(InvalidElection):
        election.withdraw_nomination(candidate_id="nobody", reason="r", by="k")
    assert election.collect_events() == [] and election.standing() == {}


# --------------------------------------------------------------------------- voting opens


def test_voting_opens_only_inside_its_window():
    election = given_open()
    nominate(election, "m-a")
    election.collect_events()

    with pytest.raises(ElectionStateConflict, match="voting opens at"):
        open_voting(election, now=VOTING_OPENS - timedelta(seconds=1))
    with pytest.raises(ElectionStateConflict, match="voting window closed"):
        open_voting(election, now=VOTING_CLOSES)
    assert election.collect_events() == []
    open_voting(election, now=VOTING_OPENS, entitled=("m-b", "m-a", "m-b"))

    (opened,) = election.collect_events()
    assert opened.electorate == ["m-a", "m-b"]
    assert election.status == VOTING


def test_voting_needs_a_candidate_and_an_electorate():
    nobody_stands = given_open()
    no_electorate = given_open()
    nominate(no_electorate, "m-a")
    no_electorate.collect_events()

    with pytest.raises(ElectionStateConflict, match="no candidate stands"):
        open_voting(nobody_stands)
    with pytest.raises(ElectionStateConflict, match="no organisation is entitled"):
        open_voting(no_electorate, entitled=())
    assert nobody_stands.collect_events() == [] and no_electorate.collect_events() == []


def test_nominations_and_withdrawals_end_when_voting_opens():
    election, ids = given_voting()

    with pytest.raises(ElectionStateConflict):
        nominate(election, "m-d", now=DURING_VOTING)
    with pytest.raises(ElectionStateConflict):
        election.withdraw_nomination(candidate_id=ids["m-a"], reason="r", by="k")
    with pytest.raises(ElectionStateConflict):
        open_voting(election)
    assert election.collect_events() == []


# --------------------------------------------------------------------------- ballots


def test_a_secret_ballot_records_only_that_the_organisation_voted():
    election, ids = given_voting(ACIC)

    vote(election, "m-d", ids["m-a"], ids["m-b"])

    (cast,) = election.collect_events()
    assert isinstance(cast, Election.BallotCast)
    assert payload(cast) == {"member_id": "m-d", "by": "key:rep"}
    assert {f.name for f in dataclasses.fields(Election.BallotCast)} - EVENT_BASE == {
        "member_id",
        "by",
    }
    # Nothing the election keeps says what m-d chose.
    assert election.open_ballots == {} and election.voted == {"m-d"}


def test_an_open_election_records_each_organisations_choices():
    election, ids = given_voting(SSF, "chair")

    vote(election, "m-d", ids["m-b"])

    (recorded,) = election.collect_events()
    assert isinstance(recorded, Election.VoteRecorded)
    assert payload(recorded) == {"member_id": "m-d", "choices": [ids["m-b"]], "by": "key:rep"}
    assert election.open_ballots == {"m-d": [ids["m-b"]]}


def test_a_ballot_goes_the_way_the_election_is_held():
    secret, secret_ids = given_voting(ACIC)
    open_, open_ids = given_voting(SSF, "chair")

    with pytest.raises(ElectionStateConflict, match="sealed, not recorded"):
        secret.record_vote(member_id="m-d", choices=[secret_ids["m-a"]], now=DURING_VOTING, by="k")
    with pytest.raises(ElectionStateConflict, match="not by secret ballot"):
        open_.record_turnout(member_id="m-d", choices=[open_ids["m-a"]], now=DURING_VOTING, by="k")
    assert secret.collect_events() == [] and open_.collect_events() == []


@pytest.mark.parametrize(("name", "office"), ELECTED)
def test_each_organisation_casts_one_ballot(name, office):
    terms = TERMS[name]
    election, ids = given_voting(terms, office)
    vote(election, "m-d", ids["m-a"])
    election.collect_events()

    with pytest.raises(ElectionStateConflict, match="casts one ballot"):
        vote(election, "m-d", ids["m-b"])
    assert election.collect_events() == []


@pytest.mark.parametrize(("name", "office"), ELECTED)
def test_only_the_electorate_fixed_when_voting_opened_votes(name, office):
    election, ids = given_voting(TERMS[name], office, entitled=("m-a", "m-b"))

    with pytest.raises(ElectionStateConflict, match="not entitled to vote"):
        vote(election, "m-c", ids["m-a"])
    assert election.collect_events() == []


@pytest.mark.parametrize(
    ("name", "office", "too_many"),
    [("children-in-care", "co-chair", 3), ("separated-families", "chair", 2)],
)
def test_a_ballot_names_at_most_one_candidate_per_seat_and_each_once(name, office, too_many):
    election, ids = given_voting(TERMS[name], office)
    names = [ids[m] for m in ("m-a", "m-b", "m-c")]

    with pytest.raises(InvalidElection, match="at most"):
        vote(election, "m-d", *names[:too_many])
    with pytest.raises(InvalidElection, match="at most once"):
        vote(election, "m-d", names[0], names[0])
    assert election.collect_events() == [] and election.voted == set()


def test_a_ballot_names_only_standing_candidates():
    election = given_open()
    stays = nominate(election, "m-a")
    goes = nominate(election, "m-b")
    election.withdraw_nomination(candidate_id=goes, reason="r", by="k")
    open_voting(election)
    election.collect_events()

    with pytest.raises(InvalidElection, match="not a standing candidate"):
        vote(election, "m-d", goes)
    with pytest.raises(InvalidElection, match="not a standing candidate"):
        vote(election, "m-d", "someone-else")
    vote(election, "m-d", stays)

    assert len(election.collect_events()) == 1


def test_a_blank_ballot_is_a_vote():
    election, _ = given_voting(SSF, "chair")

    vote(election, "m-d")

    (recorded,) = election.collect_events()
    assert recorded.choices == [] and election.voted == {"m-d"}


def test_no_ballot_is_taken_once_voting_has_closed():
    election, ids = given_voting()

    with pytest.raises(ElectionStateConflict, match="voting closed"):
        vote(election, "m-d", ids["m-a"], now=VOTING_CLOSES)
    assert election.collect_events() == []


# --------------------------------------------------------------------------- closing


def test_closing_early_needs_every_entitled_organisation_to_have_voted():
    election, ids = given_voting(SSF, "chair", entitled=("m-a", "m-b"))
    vote(election, "m-a", ids["m-a"])
    election.collect_events()

    with pytest.raises(ElectionStateConflict, match="not every entitled organisation"):
        close(election, SSF, now=DURING_VOTING)
    assert election.collect_events() == []
    vote(election, "m-b", ids["m-a"])
    result = close(election, SSF, now=DURING_VOTING)

    assert result.elected == [ids["m-a"]] and election.status == CLOSED


def test_once_voting_closes_the_count_goes_ahead_whoever_voted():
    election, ids = given_voting(SSF, "chair")
    vote(election, "m-a", ids["m-b"])
    election.collect_events()

    result = close(election, SSF)

    (closed,) = election.collect_events()
    assert (closed.turnout, closed.electorate) == (1, len(ORGANISATIONS))
    assert result.elected == [ids["m-b"]] == election.elected


@pytest.mark.parametrize("sealed", [None, [], [["x"], ["y"]]])
def test_a_secret_count_needs_exactly_one_unsealed_ballot_per_organisation_that_voted(sealed):
    election, ids = given_voting(ACIC)
    vote(election, "m-d", ids["m-a"])
    election.collect_events()
    if sealed:
        sealed = [[ids["m-a"]], [ids["m-b"]]]

    with pytest.raises(ElectionStateConflict, match="one ballot per organisation"):
        close(election, sealed=sealed)
    assert election.collect_events() == [] and election.status == VOTING


def test_a_secret_count_records_the_ballots_as_one_unordered_batch():
    election, ids = given_voting(ACIC)
    ballots = [[ids["m-a"], ids["m-b"]], [ids["m-a"]], [], [ids["m-c"], ids["m-a"]]]
    for member in ("m-a", "m-b", "m-c", "m-d"):
        vote(election, member)
    election.collect_events()

    result = close(election, sealed=ballots)

    (closed,) = election.collect_events()
    assert sorted(map(sorted, closed.ballots)) == sorted(map(sorted, ballots))
    assert closed.counts == {ids["m-a"]: 3, ids["m-b"]: 1, ids["m-c"]: 1}
    assert closed.elected == result.elected == [ids["m-a"]]
    assert (closed.turnout, closed.blank) == (4, 1)
    assert (
        closed.seed
        == lot_seed(str(election.id), ballots)
        == recount_seed(str(election.id), ballots)
    )
    # Anyone with the record recounts it, in whatever order they read the ballots.
    assert (
        tally(
            election_id=str(election.id),
            ballots=list(reversed(closed.ballots)),
            candidates=election.standing(),
            seats=2,
            method="simple-majority",
            distinct_organisations=True,
            majority_base=len(ORGANISATIONS),  # the co-chairs need a majority of members
        )
        == result
    )


def test_the_lot_uses_the_nonce_committed_to_when_the_election_opened():
    commitment = hashlib.sha256(b"concord/lot-nonce/v1\nsecret-nonce").hexdigest()
    assert lot_commitment("secret-nonce") == commitment
    election, ids = given_voting(SSF, "chair", entitled=("m-a", "m-b"), commitment=commitment)
    vote(election, "m-a", ids["m-a"])
    vote(election, "m-b", ids["m-b"])
    election.collect_events()

    for wrong in ("", "another-nonce"):
        with pytest.raises(ElectionStateConflict, match="does not match the commitment"):
            close(election, SSF, nonce=wrong)
    assert election.collect_events() == [] and election.status == VOTING
    result = close(election, SSF, nonce="secret-nonce")

    (closed,) = election.collect_events()
    ballots = [[ids["m-a"]], [ids["m-b"]]]
    assert closed.lot_nonce == "secret-nonce"
    assert closed.seed == result.seed == recount_seed(str(election.id), ballots, "secret-nonce")
    assert result.elected == []  # one vote each of two: no one has more than half
    assert election.lot_commitment == commitment


def test_only_an_election_in_progress_closes_or_is_cancelled():
    election, _ = given_voting(SSF, "chair", entitled=("m-a",))
    vote(election, "m-a")
    close(election, SSF)
    election.collect_events()

    with pytest.raises(ElectionStateConflict):
        close(election, SSF)
    with pytest.raises(ElectionStateConflict):
        election.cancel(reason="r", by="k")
    assert election.collect_events() == []
    nominating = given_open()
    nominating.cancel(reason="no candidates", by="key:officer")
    assert nominating.status == CANCELLED
    with pytest.raises(ElectionStateConflict):
        nominate(nominating, "m-a")


def test_a_secret_count_with_a_ballot_naming_no_candidate_is_refused_as_a_domain_error():
    election, ids = given_voting(ACIC)
    vote(election, "m-d", ids["m-a"])
    election.collect_events()

    with pytest.raises(ElectionStateConflict, match="not a candidate"):
        close(election, sealed=[["not-a-candidate"]])


def test_a_secret_count_refuses_a_ballot_no_organisation_could_have_cast():
    election, ids = given_voting(ACIC)
    vote(election, "m-d", ids["m-a"])
    election.collect_events()

    with pytest.raises(ElectionStateConflict, match="no organisation could have cast"):
        close(election, sealed=[[ids["m-a"], ids["m-a"]]])


def test_without_a_commitment_the_counter_cannot_choose_the_lots_nonce():
    election, ids = given_voting(SSF, "chair", entitled=("m-a", "m-b"))
    vote(election, "m-a", ids["m-a"])
    vote(election, "m-b", ids["m-b"])
    election.collect_events()

    with pytest.raises(ElectionStateConflict, match="nonce"):
        close(election, SSF, nonce="chosen-after-the-ballots")
    result = close(election, SSF, nonce="")
    ballots = [[ids["m-a"]], [ids["m-b"]]]
    assert result.seed == recount_seed(str(election.id), ballots, "")


# --------------------------------------------------------------------------- model


@st.composite
def elections(draw: st.DrawFn) -> dict[str, Any]:
    name, office = draw(st.sampled_from(ELECTED))
    rule = TERMS[name].rules.office(office)
    assert rule is not None and rule.election is not None
    secret = draw(st.booleans())
    method = draw(st.sampled_from(["simple-majority", "most-votes"]))
    majority = draw(st.sampled_from(["of-ballots-cast", "of-voting-members"]))
    distinct = draw(st.booleans())
    all_seats = draw(st.integers(1, 3))
    terms = with_office(
        name,
        office,
        election={"secret_ballot": secret, "method": method, "majority": majority},
        distinct_organisations=distinct,
        seats=all_seats,
    )
    continuing = draw(st.lists(st.sampled_from(ORGANISATIONS), unique=True, max_size=all_seats - 1))
    seats = all_seats - len(continuing)
    nominees = draw(st.lists(st.sampled_from(ORGANISATIONS), min_size=1, max_size=5))
    entitled = draw(st.lists(st.sampled_from(ORGANISATIONS), unique=True, min_size=1))
    # Mostly a valid ballot from the electorate; now and then one the election refuses
    # (a stranger, a second ballot, a repeated choice, too many choices, -1: no candidate).
    valid = st.tuples(
        st.sampled_from(entitled), st.lists(st.integers(0, 4), unique=True, max_size=seats)
    )
    odd = st.tuples(
        st.sampled_from([*ORGANISATIONS, "m-stranger"]),
        st.lists(st.integers(-1, 4), max_size=seats + 1),
    )
    return {
        "terms": terms,
        "office": office,
        "seats": seats,
        "continuing": tuple(continuing),
        "nominees": nominees,
        "entitled": tuple(entitled),
        # Ballots by position among the standing candidates.
        "ballots": draw(st.lists(st.one_of(valid, valid, odd), max_size=10)),
        "close_early": draw(st.booleans()),
        "nonce": draw(st.sampled_from(["", "a1b2c3"])),
    }


@BOUNDED
@given(elections(), st.randoms(use_true_random=False))
def test_an_election_counts_what_it_records_as_the_reference_model_does(case, rnd):
    terms, office = case["terms"], case["office"]
    nonce = case["nonce"]
    election = open_election(
        terms,
        office,
        seats=case["seats"],
        continuing=case["continuing"],
        vacancies=case["seats"],
        commitment=lot_commitment(nonce) if nonce else "",
    )
    rule = terms.rules.office(office)
    assert rule is not None and rule.election is not None
    log = election.collect_events()

    standing: dict[str, str] = {}  # candidate id → member id
    for i, member in enumerate(case["nominees"]):
        if rule.distinct_organisations and member in case["continuing"]:
            with pytest.raises(RulesBroken) as raised:
                nominate(election, member, terms, person=f"Person {i}")
            assert refusal(raised)[0] == f"offices.{office}.distinct_organisations"
        else:
            standing[nominate(election, member, terms, person=f"Person {i}")] = member
        log.extend(election.collect_events())
    if not standing:
        with pytest.raises(ElectionStateConflict):
            open_voting(election, terms, entitled=case["entitled"])
        return
    open_voting(election, terms, entitled=case["entitled"])
    log.extend(election.collect_events())
    ids = sorted(standing)

    cast: dict[str, list[str]] = {}
    for member, picks in case["ballots"]:
        choices = [ids[p % len(ids)] if p >= 0 else "not-standing" for p in picks]
        label("refused" if member in cast else "ballot")
        if member not in case["entitled"] or member in cast:
            with pytest.raises(ElectionStateConflict):
                vote(election, member, *choices)
        elif (
            len(set(choices)) < len(choices)
            or len(choices) > case["seats"]
            or "not-standing" in choices
        ):
            with pytest.raises(InvalidElection):
                vote(election, member, *choices)
        else:
            vote(election, member, *choices)
            cast[member] = choices
            (recorded,) = election.collect_events()
            log.append(recorded)
            if election.secret_ballot:
                assert payload(recorded) == {"member_id": member, "by": "key:rep"}
            else:
                assert payload(recorded)["choices"] == choices
        assert election.collect_events() == []

    ballots = list(cast.values())
    sealed = rnd.sample(ballots, len(ballots)) if election.secret_ballot else None
    everyone = set(cast) == set(case["entitled"])
    when = DURING_VOTING if case["close_early"] else VOTING_CLOSES
    if when < VOTING_CLOSES and not everyone:
        with pytest.raises(ElectionStateConflict):
            close(election, terms, sealed=sealed, now=when, nonce=nonce)
        when = VOTING_CLOSES
    result = close(election, terms, sealed=sealed, now=when, nonce=nonce)
    (closed,) = election.collect_events()
    log.append(closed)

    expected = recount(
        str(election.id),
        ballots,
        standing,
        seats=case["seats"],
        method=rule.election.method,
        distinct=rule.distinct_organisations,
        taken=case["continuing"],
        majority_of=len(case["entitled"])
        if rule.election.majority == "of-voting-members"
        else None,
        nonce=nonce,
    )
    assert_agrees(result, expected, ballots)
    assert closed.lot_nonce == nonce
    assert Counter(map(tuple, map(sorted, closed.ballots))) == Counter(
        map(tuple, map(sorted, ballots))
    )
    assert (closed.elected, closed.seed, closed.lot) == (result.elected, result.seed, result.lot)
    assert (closed.turnout, closed.electorate) == (len(cast), len(case["entitled"]))
    assert election.elected == expected.elected and election.status == CLOSED

    rebuilt = None
    for domain_event in log:
        rebuilt = domain_event.mutate(rebuilt)
    assert rebuilt is not None
    assert vars(rebuilt) == vars(election)
    label(f"{'secret' if election.secret_ballot else 'open'}: {len(expected.elected)} elected")


# --------------------------------------------------------------------------- ballot box


def test_a_secret_elections_ballot_box_has_a_natural_id_and_holds_only_sealed_text():
    box = BallotBox.place("election-1")
    box.seal("c2VhbGVkLTE=")
    box.seal("c2VhbGVkLTI=")

    placed, *sealed = box.collect_events()
    assert box.id == BallotBox.create_id("election-1") == Election.box_id("election-1")
    assert Election.box_id("election-2") != box.id
    assert placed.election_id == "election-1"
    assert [payload(e) for e in sealed] == [{"sealed": "c2VhbGVkLTE="}, {"sealed": "c2VhbGVkLTI="}]
    assert box.sealed == ["c2VhbGVkLTE=", "c2VhbGVkLTI="]


# --------------------------------------------------------------------------- replay


class Store(Application):
    """An in-memory store that keeps days as the alliance store does."""

    def register_transcodings(self, transcoder):
        super().register_transcodings(transcoder)
        transcoder.register(DateAsISO())


def test_replaying_an_elections_events_rebuilds_the_same_state():
    store = Store(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    election = open_election(ACIC)
    ids = {m: nominate(election, m) for m in ("m-a", "m-b", "m-c")}
    election.withdraw_nomination(candidate_id=ids["m-c"], reason="r", by="k")
    open_voting(election, entitled=("m-a", "m-b"))
    vote(election, "m-a", ids["m-a"], ids["m-b"])
    vote(election, "m-b", ids["m-b"])
    close(election, sealed=[[ids["m-b"]], [ids["m-a"], ids["m-b"]]], now=DURING_VOTING)
    store.save(election)

    replayed = store.repository.get(election.id)

    assert vars(replayed) == vars(election)
    assert replayed.status == CLOSED and replayed.elected == [ids["m-b"]]
    assert replayed.starts_on == VOTING_CLOSES.date()
