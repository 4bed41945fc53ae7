"""Elections to an office with N seats: nominations, one ballot per entitled organisation,
a count anyone with the record can repeat, and the winners taking office.

    opened → nominations (statements within the ToR's word limit; eligibility checked)
           → voting opened (the electorate fixed) → ballots → closed and counted

A secret ballot keeps two things apart. The turnout (`BallotCast`: which organisation
voted) is recorded as each votes; the ballot itself is sealed outside the readable record
(see `BallotBox` and services/ballots.py) and enters the record only when voting closes,
as one batch in random order (`Closed.ballots`) with no id, time or position shared
with the turnout. Until then no one sees a running tally. An open (non-secret) election
records each organisation's choices with its vote.

The count (`tally`) is a pure function of the recorded ballots: the seats go in order of
votes to candidates who pass the method's threshold, skipping a candidate whose
organisation already holds a seat where holders must come from different organisations;
candidates level on votes are ordered by a lot drawn from a seed computed from the
recorded ballots, so anyone can recount and get the same result.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal
from uuid import UUID, uuid4

import msgspec
from eventsourcing.domain import Aggregate, event

from domain.errors import DomainError, RulesBroken, StateConflict
from domain.rule_checks import Violation, check_candidacy_statement, rule_violation
from domain.terms import Version
from domain.values import natural_id

NOMINATING, VOTING, CLOSED, CANCELLED = "nominating", "voting", "closed", "cancelled"
Method = Literal["simple-majority", "most-votes"]
LOT_CONTEXT = b"concord/lot/v1\n"


class InvalidElection(DomainError):
    """The election or a step of it is not well formed (e.g. a ballot naming a stranger)."""

    code = "invalid-election"


class ElectionStateConflict(StateConflict):
    """The election's stage does not allow this (e.g. voting before voting opens)."""

    code = "election-state"


@dataclass(frozen=True)
class Result:
    """The count of an election."""

    #: Candidate id → votes.
    counts: dict[str, int]
    ballots: int
    blank: int
    elected: list[str]
    #: Candidate id → why not elected.
    not_elected: dict[str, str]
    #: The lot's seed: SHA-256 over the election id and the ballots, in canonical order.
    seed: str
    #: The groups of candidates level on votes whose order the lot decided, in drawn order.
    lot: list[list[str]] = field(default_factory=list)


def lot_seed(election_id: str, ballots: Sequence[Sequence[str]], nonce: str = "") -> str:
    """The lot's seed: it depends only on what is recorded (not on the batch's order):
    the election id, the ballots in canonical order, and the nonce committed to when the
    election opened (so no voter can steer the lot by the ballot it casts last)."""
    canonical = json.dumps(sorted(sorted(b) for b in ballots), separators=(",", ":"))
    digest = hashlib.sha256(
        LOT_CONTEXT + election_id.encode() + b"\n" + canonical.encode() + b"\n" + nonce.encode()
    )
    return digest.hexdigest()


def lot_commitment(nonce: str) -> str:
    """What an election records when it opens: a commitment to the lot's nonce."""
    return hashlib.sha256(b"concord/lot-nonce/v1\n" + nonce.encode()).hexdigest()


def _lot_rank(seed: str, candidate_id: str) -> str:
    return hashlib.sha256(f"{seed}:{candidate_id}".encode()).hexdigest()


def tally(
    *,
    election_id: str,
    ballots: Sequence[Sequence[str]],
    candidates: Mapping[str, str],
    seats: int,
    method: Method,
    distinct_organisations: bool,
    taken_organisations: Collection[str] = (),
    majority_base: int | None = None,
    nonce: str = "",
) -> Result:
    """Count the ballots. `candidates`: candidate id → organisation (member id);
    `taken_organisations`: organisations already holding a seat that stays filled;
    `majority_base`: what a simple majority is more than half of (default: the ballots
    cast; the electorate where the ToR says "of voting members"); `nonce`: the lot's
    nonce revealed at the count."""
    counts = dict.fromkeys(candidates, 0)
    for ballot in ballots:
        for choice in ballot:
            counts[choice] += 1
    seed = lot_seed(election_id, ballots, nonce)
    base = len(ballots) if majority_base is None else majority_base
    order = sorted(candidates, key=lambda c: (-counts[c], _lot_rank(seed, c)))
    elected: list[str] = []
    not_elected: dict[str, str] = {}
    held = set(taken_organisations)
    for candidate in order:
        votes = counts[candidate]
        if method == "simple-majority" and 2 * votes <= base:
            not_elected[candidate] = f"{votes} votes: not more than half of the {base} " + (
                "ballots cast" if majority_base is None else "organisations entitled to vote"
            )
        elif method == "most-votes" and votes == 0:
            not_elected[candidate] = "no votes"
        elif len(elected) == seats and votes == counts[elected[-1]]:
            not_elected[candidate] = (
                f"as many votes as the last of the {seats} elected; the lot placed them after"
            )
        elif len(elected) == seats:
            not_elected[candidate] = f"fewer votes than the {seats} elected"
        elif distinct_organisations and candidates[candidate] in held:
            not_elected[candidate] = "another holder of the office comes from the same organisation"
        else:
            elected.append(candidate)
            held.add(candidates[candidate])
    # Which levels did the lot decide: a group level on votes, split by the result.
    lot: list[list[str]] = []
    for votes in sorted(set(counts.values()), reverse=True):
        group = [c for c in order if counts[c] == votes]
        if len(group) > 1 and 0 < sum(1 for c in group if c in elected) < len(group):
            lot.append(group)
    return Result(
        counts=counts,
        ballots=len(ballots),
        blank=sum(1 for b in ballots if not b),
        elected=elected,
        not_elected=not_elected,
        seed=seed,
        lot=lot,
    )


@dataclass
class Candidate:
    member_id: str
    organisation: str
    person_name: str | None
    withdrawn: bool = False


@dataclass(frozen=True)
class CandidateFacts:
    """What eligibility needs to know of a nominee."""

    member_id: str
    organisation: str
    is_voting_member: bool
    #: The nominee has held this office before (for the re-election rule).
    held_before: bool


class Election(Aggregate):
    """One election to one office."""

    class Opened(Aggregate.Created):
        office: str
        seats: int
        nominations_close: datetime
        voting_opens: datetime
        voting_closes: datetime
        #: The day the elected take office.
        starts_on: date
        secret_ballot: bool
        method: str
        #: "of-ballots-cast" or "of-voting-members": what a simple majority is of.
        majority: str
        statement_word_limit: int | None
        distinct_organisations: bool
        #: Organisations whose holders keep a seat of this office past `starts_on`.
        continuing_organisations: list[str]
        #: SHA-256 commitment to the lot's nonce, revealed when the votes are counted.
        lot_commitment: str
        by: str
        under_version: int

    class Nominated(Aggregate.Event):
        candidate_id: str
        member_id: str
        organisation: str
        #: Personal data: the candidate's name.
        person: dict[str, Any]
        statement: str
        by: str

    class NominationWithdrawn(Aggregate.Event):
        candidate_id: str
        reason: str
        by: str

    class VotingOpened(Aggregate.Event):
        #: The member ids entitled to a ballot, fixed now.
        electorate: list[str]
        candidates: list[str]
        by: str
        under_version: int

    class BallotCast(Aggregate.Event):
        """Turnout only: this organisation has voted. What it voted is sealed apart."""

        member_id: str
        by: str

    class VoteRecorded(Aggregate.Event):
        """An open (non-secret) election: the organisation's choices, on the record."""

        member_id: str
        choices: list[str]
        by: str

    class Closed(Aggregate.Event):
        #: Every ballot, in random order, with nothing that names or orders its voter.
        ballots: list[list[str]]
        counts: dict[str, int]
        turnout: int
        electorate: int
        blank: int
        elected: list[str]
        not_elected: dict[str, str]
        seed: str
        #: The lot's nonce, committed to when the election opened.
        lot_nonce: str
        lot: list[list[str]]
        by: str
        under_version: int

    class TakingOfficeRefused(Aggregate.Event):
        """An elected candidate could not take office under the rules at the count (e.g.
        the organisation was suspended meanwhile): the result stands, the seat stays
        vacant, and the record says why."""

        candidate_id: str
        message: str
        violations: list[dict[str, Any]]
        by: str

    class Cancelled(Aggregate.Event):
        reason: str
        by: str

    @classmethod
    def open(
        cls,
        *,
        office: str,
        seats: int,
        nominations_close: datetime,
        voting_opens: datetime,
        voting_closes: datetime,
        starts_on: date | None,
        vacancies: int,
        continuing_organisations: Collection[str],
        now: datetime,
        by: str,
        terms: Version,
        lot_commitment: str = "",
    ) -> Election:
        """Open an election to an elected office of the ToR in force, for at most the
        seats that will be vacant when the elected take office."""
        rule = terms.rules.office(office)
        if rule is None:
            known = ", ".join(o.key for o in terms.rules.offices) or "none"
            raise InvalidElection(f"the ToR has no office {office!r} (its offices: {known})")
        path = f"offices.{office}"
        if rule.selection != "elected" or rule.election is None:
            raise RulesBroken(
                [
                    rule_violation(
                        terms.clauses,
                        f"{path}.selection",
                        f"the office of {office} is {rule.selection}, not elected",
                    )
                ]
            )
        if not now < nominations_close <= voting_opens < voting_closes:
            raise InvalidElection(
                "the windows must follow one another: now < nominations close <= voting "
                "opens < voting closes"
            )
        start = starts_on or voting_closes.date()
        if start < voting_closes.date():
            raise InvalidElection("the elected cannot take office before voting closes")
        if seats > vacancies:
            raise RulesBroken(
                [
                    rule_violation(
                        terms.clauses,
                        f"{path}.seats",
                        f"the office of {office} has {rule.seats} seat(s); {vacancies} will be "
                        f"vacant on {start.isoformat()} (held, or being elected), so an "
                        f"election cannot fill {seats}",
                    )
                ]
            )
        return cls(
            office=office,
            seats=seats,
            nominations_close=nominations_close,
            voting_opens=voting_opens,
            voting_closes=voting_closes,
            starts_on=start,
            secret_ballot=rule.election.secret_ballot,
            method=rule.election.method,
            majority=rule.election.majority,
            statement_word_limit=rule.election.statement_word_limit,
            distinct_organisations=rule.distinct_organisations,
            continuing_organisations=sorted(set(continuing_organisations)),
            lot_commitment=lot_commitment,
            by=by,
            under_version=terms.number,
        )

    @event(Opened)
    def __init__(
        self,
        office: str,
        seats: int,
        nominations_close: datetime,
        voting_opens: datetime,
        voting_closes: datetime,
        starts_on: date,
        secret_ballot: bool,
        method: str,
        majority: str,
        statement_word_limit: int | None,
        distinct_organisations: bool,
        continuing_organisations: list[str],
        lot_commitment: str,
        by: str,
        under_version: int,
    ) -> None:
        self.office = office
        self.seats = seats
        self.nominations_close = nominations_close
        self.voting_opens = voting_opens
        self.voting_closes = voting_closes
        self.starts_on = starts_on
        self.secret_ballot = secret_ballot
        self.method: Method = "most-votes" if method == "most-votes" else "simple-majority"
        self.majority_of_voting_members = majority == "of-voting-members"
        self.lot_commitment = lot_commitment
        self.distinct_organisations = distinct_organisations
        self.continuing = tuple(continuing_organisations)
        self.status = NOMINATING
        self.candidates: dict[str, Candidate] = {}
        self.electorate: tuple[str, ...] = ()
        self.voted: set[str] = set()
        #: Open elections only: member id → choices. (A secret ballot is never here.)
        self.open_ballots: dict[str, list[str]] = {}
        self.elected: list[str] = []
        self.ballots: list[list[str]] = []
        self.result: dict[str, Any] = {}
        self.lot_nonce = ""
        self.refused_seats: dict[str, str] = {}

    @staticmethod
    def box_id(election_id: UUID | str) -> UUID:
        return natural_id("ballot-box", str(election_id))

    def _must_be(self, *states: str, act: str) -> None:
        if self.status not in states:
            raise ElectionStateConflict(f"this election is {self.status}; it cannot {act}")

    def standing(self) -> dict[str, str]:
        """Candidate id → organisation, of the candidates still standing."""
        return {cid: c.member_id for cid, c in self.candidates.items() if not c.withdrawn}

    # ------------------------------------------------------------------ nominations

    def nominate(
        self,
        *,
        candidate: CandidateFacts,
        person_name: str,
        statement: str,
        now: datetime,
        by: str,
        terms: Version,
    ) -> str:
        """Nominate a candidate, checked against the office's rules: a statement within
        the word limit, from the membership, re-election only where allowed, and not from
        an organisation that keeps a seat where holders must differ."""
        self._must_be(NOMINATING, act="take nominations")
        if now >= self.nominations_close:
            raise ElectionStateConflict(
                f"nominations closed at {self.nominations_close.isoformat()}"
            )
        rule = terms.rules.office(self.office)
        path = f"offices.{self.office}"
        found: list[Violation] = list(
            check_candidacy_statement(
                terms.rules, terms.clauses, office=self.office, statement=statement
            )
        )
        if rule is not None and rule.from_membership and not candidate.is_voting_member:
            found.append(
                rule_violation(
                    terms.clauses,
                    f"{path}.from_membership",
                    f"candidates come from the membership: member {candidate.member_id!r} is "
                    "not a voting member",
                )
            )
        if rule is not None and not rule.re_eligible and candidate.held_before:
            found.append(
                rule_violation(
                    terms.clauses, f"{path}.re_eligible", "a past holder cannot stand again"
                )
            )
        if self.distinct_organisations and candidate.member_id in self.continuing:
            found.append(
                rule_violation(
                    terms.clauses,
                    f"{path}.distinct_organisations",
                    "holders come from different organisations, and this organisation keeps "
                    "a seat of the office",
                )
            )
        if found:
            raise RulesBroken(found)
        person = _norm(person_name)
        if any(
            c.member_id == candidate.member_id and _norm(c.person_name) == person
            for c in self.candidates.values()
            # An erased candidate (no name) cannot be compared: it matches nobody.
            if not c.withdrawn and c.person_name is not None
        ):
            raise ElectionStateConflict("this person is already a candidate in this election")
        candidate_id = uuid4().hex[:12]
        self._nominate(
            candidate_id=candidate_id,
            member_id=candidate.member_id,
            organisation=candidate.organisation,
            person={"name": person_name},
            statement=statement,
            by=by,
        )
        return candidate_id

    @event(Nominated)
    def _nominate(
        self,
        candidate_id: str,
        member_id: str,
        organisation: str,
        person: dict[str, Any],
        statement: str,
        by: str,
    ) -> None:
        self.candidates[candidate_id] = Candidate(
            member_id=member_id, organisation=organisation, person_name=person.get("name")
        )

    def withdraw_nomination(self, *, candidate_id: str, reason: str, by: str) -> None:
        self._must_be(NOMINATING, act="take a withdrawal of nomination")
        found = self.candidates.get(candidate_id)
        if found is None or found.withdrawn:
            raise InvalidElection(f"no standing candidate {candidate_id!r} in this election")
        self._withdraw_nomination(candidate_id=candidate_id, reason=reason, by=by)

    @event(NominationWithdrawn)
    def _withdraw_nomination(self, candidate_id: str, reason: str, by: str) -> None:
        self.candidates[candidate_id].withdrawn = True

    # ------------------------------------------------------------------ voting

    def open_voting(
        self, *, entitled: Collection[str], now: datetime, by: str, terms: Version
    ) -> None:
        """Open the ballot: the entitled organisations (fixed now) and the candidates."""
        self._must_be(NOMINATING, act="open voting")
        if now < self.voting_opens:
            raise ElectionStateConflict(f"voting opens at {self.voting_opens.isoformat()}")
        if now >= self.voting_closes:
            raise ElectionStateConflict(
                f"the voting window closed at {self.voting_closes.isoformat()}"
            )
        standing = sorted(self.standing())
        if not standing:
            raise ElectionStateConflict("no candidate stands: there is nothing to vote on")
        if not entitled:
            raise ElectionStateConflict("no organisation is entitled to vote")
        self._open_voting(
            electorate=sorted(set(entitled)), candidates=standing, by=by, under_version=terms.number
        )

    @event(VotingOpened)
    def _open_voting(
        self, electorate: list[str], candidates: list[str], by: str, under_version: int
    ) -> None:
        self.status = VOTING
        self.electorate = tuple(electorate)

    def check_ballot(self, *, member_id: str, choices: Sequence[str], now: datetime) -> None:
        """May this organisation cast this ballot now? (Once only; up to one choice per
        seat, each a standing candidate; an empty ballot is a blank vote.)"""
        self._must_be(VOTING, act="take ballots")
        if now >= self.voting_closes:
            raise ElectionStateConflict(f"voting closed at {self.voting_closes.isoformat()}")
        if member_id not in self.electorate:
            raise ElectionStateConflict(
                f"member {member_id!r} is not entitled to vote in this election (the "
                "electorate was fixed when voting opened)"
            )
        if member_id in self.voted:
            raise ElectionStateConflict(
                f"member {member_id!r} has voted: each organisation casts one ballot"
            )
        if len(set(choices)) != len(choices):
            raise InvalidElection("a ballot names each candidate at most once")
        if len(choices) > self.seats:
            raise InvalidElection(f"a ballot names at most {self.seats} candidate(s), one per seat")
        standing = self.standing()
        strangers = [c for c in choices if c not in standing]
        if strangers:
            raise InvalidElection(f"{strangers[0]!r} is not a standing candidate")

    def record_turnout(
        self, *, member_id: str, choices: Sequence[str], now: datetime, by: str
    ) -> None:
        """A secret ballot: record only that this organisation voted (the caller seals
        the choices into the BallotBox in the same transaction)."""
        if not self.secret_ballot:
            raise ElectionStateConflict("this election is not by secret ballot")
        self.check_ballot(member_id=member_id, choices=choices, now=now)
        self._ballot_cast(member_id=member_id, by=by)

    @event(BallotCast)
    def _ballot_cast(self, member_id: str, by: str) -> None:
        self.voted.add(member_id)

    def record_vote(
        self, *, member_id: str, choices: Sequence[str], now: datetime, by: str
    ) -> None:
        """An open election: the organisation's choices go on the record."""
        if self.secret_ballot:
            raise ElectionStateConflict(
                "this election is by secret ballot: the ballot is sealed, not recorded"
            )
        self.check_ballot(member_id=member_id, choices=choices, now=now)
        self._vote_recorded(member_id=member_id, choices=list(choices), by=by)

    @event(VoteRecorded)
    def _vote_recorded(self, member_id: str, choices: list[str], by: str) -> None:
        self.voted.add(member_id)
        self.open_ballots[member_id] = choices

    # ------------------------------------------------------------------ the count

    def close(
        self,
        *,
        sealed_ballots: Sequence[Sequence[str]] | None,
        now: datetime,
        by: str,
        terms: Version,
        lot_nonce: str = "",
    ) -> Result:
        """Close the ballot and count it. A secret election passes the unsealed ballots
        (`sealed_ballots`), which must be exactly as many as the turnout; they enter the
        record shuffled. Closing early needs every entitled organisation to have voted."""
        self._must_be(VOTING, act="be closed")
        if now < self.voting_closes and set(self.voted) < set(self.electorate):
            raise ElectionStateConflict(
                f"voting is open until {self.voting_closes.isoformat()} and not every entitled "
                "organisation has voted"
            )
        if self.secret_ballot:
            if sealed_ballots is None or len(sealed_ballots) != len(self.voted):
                raise ElectionStateConflict(
                    "the ballot box does not hold one ballot per organisation that voted; "
                    "the count cannot go ahead"
                )
            ballots = [sorted(b) for b in sealed_ballots]
        else:
            ballots = [sorted(self.open_ballots[m]) for m in sorted(self.open_ballots)]
        committed = lot_commitment(lot_nonce) if self.lot_commitment else ""
        if committed != self.lot_commitment or (not self.lot_commitment and lot_nonce):
            raise ElectionStateConflict(
                "the lot's nonce does not match the commitment made when the election opened"
            )
        standing = self.standing()
        for ballot in ballots:
            if len(set(ballot)) != len(ballot) or len(ballot) > self.seats:
                raise ElectionStateConflict(
                    "the ballot box holds a ballot no organisation could have cast"
                )
            if any(choice not in standing for choice in ballot):
                raise ElectionStateConflict(
                    "the ballot box holds a ballot naming someone who is not a candidate"
                )
        # One batch, in an order no one chose and nothing records.
        secrets.SystemRandom().shuffle(ballots)
        result = tally(
            election_id=str(self.id),
            ballots=ballots,
            candidates=self.standing(),
            seats=self.seats,
            method=self.method,
            distinct_organisations=self.distinct_organisations,
            taken_organisations=self.continuing,
            majority_base=len(self.electorate) if self.majority_of_voting_members else None,
            nonce=lot_nonce,
        )
        self._close(
            ballots=ballots,
            counts=result.counts,
            turnout=len(self.voted),
            electorate=len(self.electorate),
            blank=result.blank,
            elected=result.elected,
            not_elected=result.not_elected,
            seed=result.seed,
            lot_nonce=lot_nonce,
            lot=result.lot,
            by=by,
            under_version=terms.number,
        )
        return result

    @event(Closed)
    def _close(
        self,
        ballots: list[list[str]],
        counts: dict[str, int],
        turnout: int,
        electorate: int,
        blank: int,
        elected: list[str],
        not_elected: dict[str, str],
        seed: str,
        lot_nonce: str,
        lot: list[list[str]],
        by: str,
        under_version: int,
    ) -> None:
        self.status = CLOSED
        self.lot_nonce = lot_nonce
        self.elected = list(elected)
        self.ballots = ballots
        self.result = {
            "counts": counts,
            "elected": elected,
            "not_elected": not_elected,
            "seed": seed,
            "lot": lot,
        }

    def record_refused_seat(
        self, *, candidate_id: str, message: str, violations: list[Violation], by: str
    ) -> None:
        """An elected candidate cannot take office now; the result stands."""
        self._taking_office_refused(
            candidate_id=candidate_id,
            message=message,
            violations=[msgspec.to_builtins(v) for v in violations],
            by=by,
        )

    @event(TakingOfficeRefused)
    def _taking_office_refused(
        self, candidate_id: str, message: str, violations: list[dict[str, Any]], by: str
    ) -> None:
        self.refused_seats[candidate_id] = message

    def cancel(self, *, reason: str, by: str) -> None:
        self._must_be(NOMINATING, VOTING, act="be cancelled")
        self._cancel(reason=reason, by=by)

    @event(Cancelled)
    def _cancel(self, reason: str, by: str) -> None:
        self.status = CANCELLED


class BallotBox(Aggregate):
    """The sealed ballots of one secret election: opaque ciphertexts, one per ballot, that
    only the election's sealing key opens. The key is destroyed when the election closes,
    so afterwards these say nothing; the readable ballots are the shuffled batch on the
    election's `Closed` event."""

    class Placed(Aggregate.Created):
        election_id: str

    class Sealed(Aggregate.Event):
        sealed: str

    @classmethod
    def place(cls, election_id: str) -> BallotBox:
        return cls(election_id=election_id)

    @staticmethod
    def create_id(election_id: str) -> UUID:
        return Election.box_id(election_id)

    @event(Placed)
    def __init__(self, election_id: str) -> None:
        self.election_id = election_id
        self.sealed: list[str] = []

    def seal(self, sealed: str) -> None:
        self._seal(sealed=sealed)

    @event(Sealed)
    def _seal(self, sealed: str) -> None:
        self.sealed.append(sealed)


def _norm(text: str | None) -> str:
    return " ".join((text or "").lower().split())
