"""The structured rules of a Terms of Reference: plain immutable values, no I/O.

A ToR version is numbered clauses of text plus one `Rules` value. Every later command is
checked against the `Rules` of the version in force when it happens. Lists of bodies,
offices, decision rules and meeting rules are keyed (`key`), so a rule has a readable
path such as `offices.co-chair.term_months`.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec

Key = Annotated[str, msgspec.Meta(pattern=r"^[a-z][a-z0-9-]{0,49}$", max_length=50)]
Text = Annotated[str, msgspec.Meta(max_length=500)]
Positive = Annotated[int, msgspec.Meta(ge=1)]

FULL_MEMBERSHIP = "full-membership"


class Rule(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Base of every rule value: immutable, and refusing fields it does not know."""


class Eligibility(Rule, frozen=True, kw_only=True):
    """Who may become a member."""

    organisations: bool = True
    #: Organisation kinds admitted (e.g. charity, local-authority); empty: any kind.
    organisation_kinds: tuple[Text, ...] = ()
    non_governmental_only: bool = False
    legal_entity_required: bool = False
    #: Members must be drawn from this region; None: anywhere.
    region: Text | None = None
    #: A fixed list of eligible bodies; empty: no fixed list.
    eligible_bodies: tuple[Text, ...] = ()
    #: Individuals with expertise may join in an advisory capacity (no vote).
    individuals_advisory: bool = False
    #: Organisations unable to be members may be observers (no vote), approved by a body.
    observers: bool = False
    observers_approved_by: Key | None = None
    #: What an applicant commits to (aims, values, equality, these ToR...).
    commitments: tuple[Text, ...] = ()


class ApplicationRoute(Rule, frozen=True, kw_only=True):
    """How an application travels from request to decision."""

    written_request: bool = True
    #: Who must sign the request (e.g. "chief executive or equivalent"); empty: anyone.
    signatory_roles: tuple[Text, ...] = ()
    #: The office or body that receives it.
    received_by: Key
    #: The body it is circulated to, if any.
    circulated_to: Key | None = None
    #: The office that recommends a decision, if any.
    recommended_by: Key | None = None
    #: The body that decides.
    decided_by: Key
    #: The decision is taken at the next main meeting.
    at_next_main_meeting: bool = False


class Membership(Rule, frozen=True, kw_only=True):
    eligibility: Eligibility
    route: ApplicationRoute
    #: Most representatives one organisation may have; None: no limit.
    max_representatives: Positive | None = None
    #: Exactly one principal contact per member once it has any representative.
    principal_contact_required: bool = True
    #: Membership may be reviewed against a code of conduct, by this body.
    conduct_reviewed_by: Key | None = None


class Seat(Rule, frozen=True, kw_only=True):
    """A seat a body must have filled (e.g. a local mediator on a steering group)."""

    key: Key
    name: Text


class Body(Rule, frozen=True, kw_only=True):
    """A body of the alliance: the full membership, a committee, a group."""

    key: Key
    name: Text
    kind: Literal["full-membership", "committee", "steering-group", "working-group"]
    #: Most members the body may have (e.g. a chair plus at most 6 others: 7).
    max_members: Positive | None = None
    required_seats: tuple[Seat, ...] = ()
    #: The body that agrees who sits on this one, if any.
    members_agreed_by: Key | None = None
    #: Term of a seat on this body, in months; None: open-ended.
    term_months: Positive | None = None
    #: The body that establishes groups of this kind (working groups), if any.
    established_by: Key | None = None


class Election(Rule, frozen=True, kw_only=True):
    """How an office is elected. "simple-majority": a candidate needs the votes of more
    than half of the ballots cast; "most-votes": the seats go to the most voted. Either
    way, a tie for the last seat is drawn by lot, reproducibly from the recorded ballots."""

    method: Literal["simple-majority", "most-votes"] = "simple-majority"
    #: A simple majority of the ballots cast, or of every organisation entitled to vote.
    majority: Literal["of-ballots-cast", "of-voting-members"] = "of-ballots-cast"
    secret_ballot: bool = False
    #: Word limit of a candidacy statement; None: no limit.
    statement_word_limit: Positive | None = None
    electorate: Literal["voting-members"] = "voting-members"


class Office(Rule, frozen=True, kw_only=True):
    """An office: chair, co-chairs, vice-chairs, sponsor, working-group lead."""

    key: Key
    name: Text
    #: The body the office belongs to.
    body: Key
    seats: Positive = 1
    #: Term of office in months; None: until replaced.
    term_months: Positive | None = None
    re_eligible: bool = True
    selection: Literal["elected", "appointed"]
    election: Election | None = None
    #: Who appoints, for appointed offices (a body).
    appointed_by: Key | None = None
    #: Holders must come from the alliance's membership.
    from_membership: bool = True
    #: Holders of the seats must come from different member organisations.
    distinct_organisations: bool = False
    #: A change of holder needs approval by this body outside the alliance.
    change_approved_by_outside: Text | None = None


class Quorum(Rule, frozen=True, kw_only=True):
    """How many must take part for a decision to stand."""

    kind: Literal["organisations", "fraction-of-members"]
    value: Annotated[float, msgspec.Meta(gt=0)]


class DecisionRule(Rule, frozen=True, kw_only=True):
    """How one body decides."""

    key: Key  # the body's key
    consensus_first: bool = False
    voting: Literal["one-organisation-one-vote", "one-member-one-vote"] = (
        "one-organisation-one-vote"
    )
    majority: Literal["of-votes-cast", "of-voting-members"] = "of-votes-cast"
    #: A vote may be changed until voting closes (the last one counts), or cast once only.
    vote_changes: Literal["last-counts", "once-only"] = "last-counts"
    #: Who votes on a public stance taken without consensus.
    public_stance_electorate: Literal["attendees", "all-members"] = "attendees"
    #: The office whose holders give the casting vote on a tie; None: a tie fails.
    casting_vote_office: Key | None = None
    #: Where a matter goes when this body reaches no consensus; None: it stays.
    escalate_to: Key | None = None
    quorum: Quorum | None = None
    #: Decisions may only be taken at the main meetings of the full membership.
    main_meetings_only: bool = False


class MeetingRule(Rule, frozen=True, kw_only=True):
    """How often one body meets, and how."""

    key: Key  # the body's key
    per_year: Positive | None = None
    #: This body meets a number of months before each meeting of another body.
    before_body: Key | None = None
    months_before: Positive | None = None
    formats: tuple[Literal["virtual", "in-person"], ...] = ("virtual", "in-person")
    additional_meetings_allowed: bool = True
    #: Most people one organisation may send; None: up to its representatives.
    max_attendees_per_organisation: Positive | None = None


class Minutes(Rule, frozen=True, kw_only=True):
    every_meeting_minuted: bool = True
    #: Minutes are published (e.g. on the alliance's website) unless deemed confidential.
    published_by_default: bool = True
    confidential_allowed: bool = True
    #: Why minutes may be confidential (e.g. to protect service users).
    confidential_reason: Text | None = None
    #: The office or body that circulates minutes, if the ToR names one.
    circulated_by: Key | None = None
    #: The body that approves minutes; None: the body that met.
    approved_by: Key | None = None


class WorkPlan(Rule, frozen=True, kw_only=True):
    required: bool = False
    period: Literal["annual"] = "annual"
    agreed_by: Key | None = None
    #: The stages the plan goes through in a year.
    stages: tuple[Literal["agreed", "delivered", "evaluated"], ...] = (
        "agreed",
        "delivered",
        "evaluated",
    )


class Review(Rule, frozen=True, kw_only=True):
    #: Months between reviews of the ToR (12: annual; 36: every three years).
    cadence_months: Annotated[int, msgspec.Meta(ge=1, le=120)]
    #: The body whose decision approves an amendment.
    amendments_approved_by: Key


class Rules(Rule, frozen=True, kw_only=True):
    """Every structured rule of one ToR version."""

    membership: Membership
    bodies: tuple[Body, ...]
    offices: tuple[Office, ...] = ()
    decisions: tuple[DecisionRule, ...] = ()
    meetings: tuple[MeetingRule, ...] = ()
    minutes: Minutes = Minutes()
    work_plan: WorkPlan = WorkPlan()
    review: Review
    #: Paths of values the source document is silent on, chosen as sensible defaults.
    defaults: tuple[Text, ...] = ()

    def body(self, key: str) -> Body | None:
        return next((b for b in self.bodies if b.key == key), None)

    def office(self, key: str) -> Office | None:
        return next((o for o in self.offices if o.key == key), None)

    def decision_rule(self, body: str) -> DecisionRule | None:
        return next((d for d in self.decisions if d.key == body), None)

    def meeting_rule(self, body: str) -> MeetingRule | None:
        return next((m for m in self.meetings if m.key == body), None)


class Clause(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A numbered clause of the ToR text, and the rule paths it carries."""

    number: Annotated[str, msgspec.Meta(pattern=r"^[0-9]{1,3}(\.[0-9]{1,3}){0,2}$")]
    heading: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    text: Annotated[str, msgspec.Meta(min_length=1, max_length=10_000)]
    #: Rule paths (prefixes) this clause is the source of, e.g. "offices.co-chair".
    rules: tuple[Annotated[str, msgspec.Meta(max_length=200)], ...] = ()


def rules_to_data(rules: Rules) -> dict[str, Any]:
    """Rules as plain JSON data, lists and all (what events record)."""
    data: dict[str, Any] = msgspec.json.decode(msgspec.json.encode(rules))
    return data


def rules_from_data(data: Any) -> Rules:
    """Rules from plain data; msgspec.ValidationError names the bad path."""
    return msgspec.convert(data, Rules)


def clauses_to_data(clauses: tuple[Clause, ...]) -> list[dict[str, Any]]:
    data: list[dict[str, Any]] = msgspec.json.decode(msgspec.json.encode(clauses))
    return data


def clauses_from_data(data: Any) -> tuple[Clause, ...]:
    return msgspec.convert(data, tuple[Clause, ...])


def clause_for(clauses: tuple[Clause, ...], path: str) -> str | None:
    """The number of the clause that carries a rule path (longest matching prefix); for a
    path no clause carries whole (e.g. "bodies"), the first clause carrying a part of it."""
    best: tuple[int, str] | None = None
    for clause in clauses:
        for prefix in clause.rules:
            matches = path == prefix or path.startswith(prefix + ".")
            if matches and (best is None or len(prefix) > best[0]):
                best = (len(prefix), clause.number)
    if best is not None:
        return best[1]
    return next((c.number for c in clauses if any(r.startswith(path + ".") for r in c.rules)), None)


# msgspec builds a type's conversion plan on first use; building it from two threads at
# once has crashed the process (seen under parallel onboarding, msgspec 0.22). Build the
# plans of the types this module converts now, at import, while only one thread runs.
msgspec.json.Decoder(Rules)
msgspec.json.Decoder(tuple[Clause, ...])
