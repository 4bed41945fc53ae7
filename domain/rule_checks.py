"""The rule checks: pure functions over the rules in force, returning the violations.

Each check answers one kind of act (admit a member, add a representative, appoint to an
office, schedule a meeting, decide a motion, approve an amendment) with a list of
`Violation`s, each naming the rule path, the clause that carries it and a sentence a
person understands. An empty list means the act is within the rules.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from fractions import Fraction
from typing import Literal

import msgspec

from domain.rules import FULL_MEMBERSHIP, Clause, Rules, clause_for


class Violation(msgspec.Struct, frozen=True, kw_only=True):
    """One broken rule: where it lives, which clause says so, and what is wrong."""

    rule: str
    clause: str | None
    message: str


def rule_violation(clauses: tuple[Clause, ...], rule: str, message: str) -> Violation:
    """A violation of the rule at this path, naming the clause that carries it."""
    clause = clause_for(clauses, rule)
    where = f" (ToR clause {clause})" if clause else ""
    return Violation(rule=rule, clause=clause, message=message + where)


# --------------------------------------------------------------------------- the ToR itself


class _Findings:
    """Violations found so far, and the references a ToR may make."""

    def __init__(self, rules: Rules, clauses: tuple[Clause, ...]) -> None:
        self.clauses = clauses
        self.bodies = {b.key for b in rules.bodies}
        self.offices = {o.key for o in rules.offices}
        self.found: list[Violation] = []

    def add(self, rule: str, message: str) -> None:
        self.found.append(rule_violation(self.clauses, rule, message))

    def must_be_body(self, rule: str, key: str | None) -> None:
        if key is not None and key not in self.bodies:
            self.add(rule, f"{rule} names {key!r}, which is not a body of this ToR")

    def must_be_body_or_office(self, rule: str, key: str | None) -> None:
        if key is not None and key not in self.bodies and key not in self.offices:
            self.add(
                rule, f"{rule} names {key!r}, which is neither a body nor an office of this ToR"
            )


def validate_rules(rules: Rules, clauses: tuple[Clause, ...]) -> list[Violation]:
    """Contradictions inside one ToR version: what no alliance could ever comply with."""
    findings = _Findings(rules, clauses)
    _check_keys(rules, clauses, findings)
    _check_membership(rules, findings)
    _check_bodies(rules, findings)
    _check_offices(rules, findings)
    _check_decisions(rules, findings)
    _check_meetings(rules, findings)
    findings.must_be_body_or_office("minutes.circulated_by", rules.minutes.circulated_by)
    findings.must_be_body("minutes.approved_by", rules.minutes.approved_by)
    findings.must_be_body("work_plan.agreed_by", rules.work_plan.agreed_by)
    findings.must_be_body("review.amendments_approved_by", rules.review.amendments_approved_by)
    return findings.found


def _check_keys(rules: Rules, clauses: tuple[Clause, ...], findings: _Findings) -> None:
    for area, keys in (
        ("bodies", [b.key for b in rules.bodies]),
        ("offices", [o.key for o in rules.offices]),
        ("decisions", [d.key for d in rules.decisions]),
        ("meetings", [m.key for m in rules.meetings]),
    ):
        for key, count in Counter(keys).items():
            if count > 1:
                findings.add(f"{area}.{key}", f"{area}: {key!r} is defined {count} times")
    for number, count in Counter(c.number for c in clauses).items():
        if count > 1:
            findings.found.append(
                Violation(
                    rule="clauses", clause=number, message=f"clause {number} appears {count} times"
                )
            )
    if FULL_MEMBERSHIP not in findings.bodies:
        findings.add(
            "bodies",
            f"the ToR must define the full membership (a body with key {FULL_MEMBERSHIP!r})",
        )


def _check_membership(rules: Rules, findings: _Findings) -> None:
    route = rules.membership.route
    findings.must_be_body_or_office("membership.route.received_by", route.received_by)
    findings.must_be_body("membership.route.circulated_to", route.circulated_to)
    findings.must_be_body_or_office("membership.route.recommended_by", route.recommended_by)
    findings.must_be_body("membership.route.decided_by", route.decided_by)
    eligibility = rules.membership.eligibility
    findings.must_be_body(
        "membership.eligibility.observers_approved_by", eligibility.observers_approved_by
    )
    if eligibility.observers_approved_by is not None and not eligibility.observers:
        findings.add(
            "membership.eligibility.observers_approved_by",
            "observers are approved by a body, but the ToR admits no observers",
        )
    if not eligibility.organisations and not eligibility.individuals_advisory:
        findings.add(
            "membership.eligibility",
            "nobody could ever join: neither organisations nor individuals",
        )
    findings.must_be_body("membership.conduct_reviewed_by", rules.membership.conduct_reviewed_by)


def _check_bodies(rules: Rules, findings: _Findings) -> None:
    for body in rules.bodies:
        path = f"bodies.{body.key}"
        if body.max_members is not None and body.max_members < len(body.required_seats):
            findings.add(
                f"{path}.max_members",
                f"the {_plain(body.name)} may have at most {body.max_members} members but "
                f"{len(body.required_seats)} seats are required on it",
            )
        for key, count in Counter(s.key for s in body.required_seats).items():
            if count > 1:
                findings.add(
                    f"{path}.required_seats", f"the seat {key!r} is required {count} times"
                )
        findings.must_be_body(f"{path}.members_agreed_by", body.members_agreed_by)
        findings.must_be_body(f"{path}.established_by", body.established_by)


def _check_offices(rules: Rules, findings: _Findings) -> None:
    for office in rules.offices:
        path = f"offices.{office.key}"
        findings.must_be_body(f"{path}.body", office.body)
        findings.must_be_body(f"{path}.appointed_by", office.appointed_by)
        if office.selection == "elected" and office.election is None:
            findings.add(
                f"{path}.election",
                f"the {_plain(office.name)} is elected, but no election rule is set",
            )
        if office.selection == "appointed" and office.election is not None:
            findings.add(
                f"{path}.election",
                f"the {_plain(office.name)} is appointed, yet has an election rule",
            )
        body = rules.body(office.body)
        if body and body.max_members is not None and office.seats > body.max_members:
            findings.add(
                f"{path}.seats",
                f"the {_plain(office.name)} has {office.seats} seats but the {_plain(body.name)} "
                f"may have at most {body.max_members} members",
            )


def _check_decisions(rules: Rules, findings: _Findings) -> None:
    for decision in rules.decisions:
        path = f"decisions.{decision.key}"
        findings.must_be_body(path, decision.key)
        findings.must_be_body(f"{path}.escalate_to", decision.escalate_to)
        if decision.escalate_to == decision.key:
            findings.add(f"{path}.escalate_to", f"the {decision.key} cannot escalate to itself")
        if decision.escalate_to is not None and not decision.consensus_first:
            findings.add(
                f"{path}.escalate_to",
                "a matter escalates when there is no consensus, but this body does not seek "
                "consensus first",
            )
        casting = decision.casting_vote_office
        if casting is not None and casting not in findings.offices:
            findings.add(
                f"{path}.casting_vote_office",
                f"the casting vote is given to {casting!r}, which is not an office of this ToR",
            )
        quorum = decision.quorum
        if quorum and quorum.kind == "fraction-of-members" and quorum.value > 1:
            findings.add(
                f"{path}.quorum", "a quorum fraction cannot be more than all the members (1.0)"
            )
        if quorum and quorum.kind == "organisations" and quorum.value != int(quorum.value):
            findings.add(f"{path}.quorum", "a quorum of organisations is a whole number")


def _check_meetings(rules: Rules, findings: _Findings) -> None:
    for meeting in rules.meetings:
        path = f"meetings.{meeting.key}"
        findings.must_be_body(path, meeting.key)
        findings.must_be_body(f"{path}.before_body", meeting.before_body)
        if (meeting.before_body is None) != (meeting.months_before is None):
            findings.add(
                f"{path}.months_before",
                "meeting before another body needs both that body and the months",
            )
        if meeting.before_body == meeting.key:
            findings.add(f"{path}.before_body", "a body cannot meet before its own meetings")
        if not meeting.formats:
            findings.add(f"{path}.formats", "meetings must be allowed at least one format")


# --------------------------------------------------------------------------- membership


class Applicant(msgspec.Struct, frozen=True, kw_only=True):
    """What an application says about who applies (the facts a rule check needs)."""

    capacity: Literal["organisation", "individual"] = "organisation"
    name: str
    organisation_kind: str | None = None
    governmental: bool = False
    legal_entity: bool = True
    region: str | None = None
    written_request: bool = True
    signatory_role: str | None = None
    #: What the applicant asks to become.
    status: Literal["member", "observer", "advisory"] = "member"


def _norm(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", text.lower()).strip()


def check_application(
    rules: Rules, clauses: tuple[Clause, ...], applicant: Applicant
) -> list[Violation]:
    """Is this applicant eligible, and does the application take the required form?"""
    found: list[Violation] = []
    eligibility = rules.membership.eligibility

    def add(rule: str, message: str) -> None:
        found.append(rule_violation(clauses, rule, message))

    if applicant.capacity == "individual":
        if not eligibility.individuals_advisory:
            add(
                "membership.eligibility.individuals_advisory",
                "individuals cannot join this alliance",
            )
        elif applicant.status != "advisory":
            add(
                "membership.eligibility.individuals_advisory",
                "individuals may join only in an advisory capacity",
            )
        return found
    if not eligibility.organisations:
        add("membership.eligibility.organisations", "organisations cannot join this alliance")
    if applicant.status == "advisory":
        add(
            "membership.eligibility.individuals_advisory",
            "only individuals join in an advisory capacity",
        )
    if applicant.status == "observer" and not eligibility.observers:
        add("membership.eligibility.observers", "this alliance has no observer status")
    if (
        eligibility.non_governmental_only
        and applicant.governmental
        and applicant.status == "member"
    ):
        add(
            "membership.eligibility.non_governmental_only",
            "membership is open to non-governmental organisations only",
        )
    if eligibility.legal_entity_required and not applicant.legal_entity:
        add("membership.eligibility.legal_entity_required", "members must be legal entities")
    if eligibility.organisation_kinds and (
        applicant.organisation_kind is None
        or _norm(applicant.organisation_kind)
        not in {_norm(k) for k in eligibility.organisation_kinds}
    ):
        add(
            "membership.eligibility.organisation_kinds",
            "membership is open to: " + ", ".join(eligibility.organisation_kinds),
        )
    if eligibility.region and (
        applicant.region is None or _norm(eligibility.region) not in _norm(applicant.region)
    ):
        add("membership.eligibility.region", f"members are drawn from {eligibility.region}")
    if eligibility.eligible_bodies and _norm(applicant.name) not in {
        _norm(b) for b in eligibility.eligible_bodies
    }:
        add(
            "membership.eligibility.eligible_bodies",
            f"membership is open only to the {len(eligibility.eligible_bodies)} bodies listed",
        )
    found += _route_violations(rules, clauses, applicant)
    return found


def _route_violations(
    rules: Rules, clauses: tuple[Clause, ...], applicant: Applicant
) -> list[Violation]:
    """Does the application take the form the ToR's route requires?"""
    found: list[Violation] = []
    route = rules.membership.route

    def add(rule: str, message: str) -> None:
        found.append(rule_violation(clauses, rule, message))

    if route.written_request and not applicant.written_request:
        add("membership.route.written_request", "an application must be made in writing")
    if route.signatory_roles and (
        applicant.signatory_role is None
        or not any(
            _norm(r) in _norm(applicant.signatory_role)
            or _norm(applicant.signatory_role) in _norm(r)
            for r in route.signatory_roles
        )
    ):
        add(
            "membership.route.signatory_roles",
            "the request must come from: " + " or ".join(route.signatory_roles),
        )
    return found


def check_representatives(
    rules: Rules, clauses: tuple[Clause, ...], *, representatives: int, principal_contacts: int
) -> list[Violation]:
    """May an organisation have this many representatives and principal contacts?"""
    found: list[Violation] = []
    limit = rules.membership.max_representatives
    if limit is not None and representatives > limit:
        found.append(
            rule_violation(
                clauses,
                "membership.max_representatives",
                f"an organisation may have at most {limit} representatives",
            )
        )
    if (
        rules.membership.principal_contact_required
        and representatives > 0
        and principal_contacts != 1
    ):
        found.append(
            rule_violation(
                clauses,
                "membership.principal_contact_required",
                "an organisation with representatives has exactly one principal contact",
            )
        )
    return found


# --------------------------------------------------------------------------- offices


class Holder(msgspec.Struct, frozen=True, kw_only=True):
    organisation: str
    person: str | None = None


def check_appointment(
    rules: Rules,
    clauses: tuple[Clause, ...],
    *,
    office: str,
    holders: tuple[Holder, ...],
    candidate: Holder,
    candidate_is_member: bool,
    via: Literal["appointed", "elected"],
    by_body: str | None = None,
    previous_terms: int = 0,
    is_change: bool = False,
    outside_approval_ref: str | None = None,
    body_members: int = 0,
    seats_taken: int | None = None,
) -> list[Violation]:
    """May this candidate take a seat of this office now, given its current holders?"""
    rule = rules.office(office)
    if rule is None:
        return [
            Violation(
                rule=f"offices.{office}", clause=None, message=f"the ToR has no office {office!r}"
            )
        ]
    path = f"offices.{office}"
    found: list[Violation] = []

    def add(sub: str, message: str) -> None:
        found.append(rule_violation(clauses, f"{path}.{sub}" if sub else path, message))

    if via != rule.selection:
        add("selection", f"the {_plain(rule.name)} is {rule.selection}, not {via}")
    if via == "appointed" and rule.appointed_by and by_body != rule.appointed_by:
        add(
            "appointed_by",
            f"the {_plain(rule.name)} is appointed by the {_name(rules, rule.appointed_by)}",
        )
    # Seats filled at once (default: every holder given); `holders` are checked for
    # organisations over the whole term.
    if (len(holders) if seats_taken is None else seats_taken) >= rule.seats:
        add("seats", f"the {_plain(rule.name)} has {rule.seats} seat(s), all filled")
    body = rules.body(rule.body)
    if body is not None and body.max_members is not None and body_members >= body.max_members:
        found.append(
            rule_violation(
                clauses,
                f"bodies.{body.key}.max_members",
                f"the {_plain(body.name)} has at most {body.max_members} members, office holders "
                "included, and is full",
            )
        )
    if rule.from_membership and not candidate_is_member:
        add("from_membership", f"the {_plain(rule.name)} comes from the membership")
    if rule.distinct_organisations and any(
        h.organisation == candidate.organisation for h in holders
    ):
        add(
            "distinct_organisations",
            f"holders of the {_plain(rule.name)} must come from different organisations",
        )
    if previous_terms > 0 and not rule.re_eligible:
        add("re_eligible", f"a holder of the {_plain(rule.name)} cannot serve again")
    if rule.change_approved_by_outside and is_change and not outside_approval_ref:
        add(
            "change_approved_by_outside",
            f"a change of {_plain(rule.name)} needs the approval of "
            f"{rule.change_approved_by_outside}; give a reference to that approval",
        )
    return found


def check_candidacy_statement(
    rules: Rules, clauses: tuple[Clause, ...], *, office: str, statement: str
) -> list[Violation]:
    """Is a candidacy statement within the word limit of the office's election?"""
    rule = rules.office(office)
    if rule is None or rule.election is None or rule.election.statement_word_limit is None:
        return []
    limit = rule.election.statement_word_limit
    words = len(statement.split())
    if words <= limit:
        return []
    return [
        rule_violation(
            clauses,
            f"offices.{office}.election.statement_word_limit",
            f"a candidacy statement for {_plain(rule.name)} has at most {limit} words; "
            f"this one has {words}",
        )
    ]


# --------------------------------------------------------------------------- meetings and decisions


def check_meeting(
    rules: Rules, clauses: tuple[Clause, ...], *, body: str, format: str
) -> list[Violation]:
    """May this body hold a meeting in this format?"""
    if rules.body(body) is None:
        return [Violation(rule="bodies", clause=None, message=f"the ToR has no body {body!r}")]
    meeting = rules.meeting_rule(body)
    if meeting is not None and format not in meeting.formats:
        return [
            rule_violation(
                clauses,
                f"meetings.{body}.formats",
                f"meetings of this body are held {' or '.join(meeting.formats)}",
            )
        ]
    return []


def check_decision(
    rules: Rules, clauses: tuple[Clause, ...], *, body: str, at_main_meeting: bool
) -> list[Violation]:
    """May this body take a decision here?"""
    if rules.body(body) is None:
        return [Violation(rule="bodies", clause=None, message=f"the ToR has no body {body!r}")]
    decision = rules.decision_rule(body)
    if decision is not None and decision.main_meetings_only and not at_main_meeting:
        return [
            rule_violation(
                clauses,
                f"decisions.{body}.main_meetings_only",
                "decisions are taken only at main meetings",
            )
        ]
    return []


def check_amendment_approval(
    rules: Rules, clauses: tuple[Clause, ...], *, body: str
) -> list[Violation]:
    """May this body approve an amendment of the ToR?"""
    required = rules.review.amendments_approved_by
    if body == required:
        return []
    return [
        rule_violation(
            clauses,
            "review.amendments_approved_by",
            f"amendments are approved by the {required}, not the {body}",
        )
    ]


# ------------------------------------------------------------------- the route of an application


def _name(rules: Rules, key: str) -> str:
    """How a sentence names a body or office: by its name in the ToR, else its key."""
    found = rules.body(key) or rules.office(key)
    return key if found is None else _plain(found.name)


def _plain(name: str) -> str:
    """A name to follow "the" in a sentence ("The Alliance: ..." → "Alliance: ...")."""
    return name[4:] if name.startswith("The ") else name


RouteStep = Literal["circulate", "recommend", "decide"]


def check_route_step(
    rules: Rules,
    clauses: tuple[Clause, ...],
    *,
    step: RouteStep,
    by: str,
    done: frozenset[str],
    status: str | None = None,
) -> list[Violation]:
    """May this body or office take this step of an application now, given the steps done?

    `done` holds the steps already taken ("circulate", "recommend"). The route is the
    ToR's: circulated to a body (if it says so), recommended by an office (if it says so),
    then decided by the body it names; observers by the body that approves observers.
    """
    route = rules.membership.route
    found: list[Violation] = []

    def add(rule: str, message: str) -> None:
        found.append(rule_violation(clauses, rule, message))

    def needs_before(this: RouteStep) -> None:
        if this != "circulate" and route.circulated_to and "circulate" not in done:
            add(
                "membership.route.circulated_to",
                f"the application must first be circulated to the "
                f"{_name(rules, route.circulated_to)}",
            )
        if this == "decide" and route.recommended_by and "recommend" not in done:
            add(
                "membership.route.recommended_by",
                f"the {_name(rules, route.recommended_by)} must first recommend a decision",
            )

    if step in done:
        add(
            f"membership.route.{_STEP_RULE[step]}",
            f"this application has already had its {step} step",
        )
        return found
    if step == "circulate":
        if route.circulated_to is None:
            add(
                "membership.route.circulated_to",
                "these Terms of Reference do not circulate "
                "applications: the next step is the decision",
            )
        elif by != route.circulated_to:
            add(
                "membership.route.circulated_to",
                f"applications are circulated to the {_name(rules, route.circulated_to)}, "
                f"not the {_name(rules, by)}",
            )
    elif step == "recommend":
        if route.recommended_by is None:
            add(
                "membership.route.recommended_by",
                "these Terms of Reference have no "
                "recommendation step: the next step is the decision",
            )
        elif by != route.recommended_by:
            add(
                "membership.route.recommended_by",
                f"a decision is recommended by the {_name(rules, route.recommended_by)}, "
                f"not the {_name(rules, by)}",
            )
        needs_before(step)
    else:
        approver = rules.membership.eligibility.observers_approved_by
        if status == "observer" and approver:
            if by != approver:
                add(
                    "membership.eligibility.observers_approved_by",
                    f"observers are approved by the {_name(rules, approver)}, "
                    f"not the {_name(rules, by)}",
                )
        elif by != route.decided_by:
            add(
                "membership.route.decided_by",
                f"applications are decided by the {_name(rules, route.decided_by)}, "
                f"not the {_name(rules, by)}",
            )
        needs_before(step)
    return found


_STEP_RULE = {"circulate": "circulated_to", "recommend": "recommended_by", "decide": "decided_by"}


def check_membership_decision(
    rules: Rules, clauses: tuple[Clause, ...], *, by_body: str, act: str
) -> list[Violation]:
    """May this body suspend, reinstate or remove a member? The body that admits members
    does, and so does the body the ToR names to review conduct."""
    allowed = {rules.membership.route.decided_by}
    if rules.membership.conduct_reviewed_by:
        allowed.add(rules.membership.conduct_reviewed_by)
    if by_body in allowed:
        return []
    names = " or the ".join(_name(rules, key) for key in sorted(allowed))
    return [
        rule_violation(
            clauses,
            "membership.route.decided_by",
            f"a member is {act} by the {names}, not the {_name(rules, by_body)}",
        )
    ]


def check_conduct_review(
    rules: Rules, clauses: tuple[Clause, ...], *, by_body: str
) -> list[Violation]:
    """May this body review a member against the code of conduct? The ToR names the body;
    where it is silent, the body that admits members does."""
    reviewer = rules.membership.conduct_reviewed_by
    rule = "membership.conduct_reviewed_by"
    if reviewer is None:
        reviewer, rule = rules.membership.route.decided_by, "membership.route.decided_by"
    if by_body == reviewer:
        return []
    return [
        rule_violation(
            clauses,
            rule,
            f"conduct is reviewed by the {_name(rules, reviewer)}, not the {_name(rules, by_body)}",
        )
    ]


# --------------------------------------------------------------------------- committees and seats


def check_body_seat(
    rules: Rules,
    clauses: tuple[Clause, ...],
    *,
    body: str,
    agreed_by: str,
    seats_taken: int,
    required_seat: str | None,
    required_seat_taken: bool,
) -> list[Violation]:
    """May someone take a seat on this committee or steering group now?"""
    rule = rules.body(body)
    if rule is None:
        return [Violation(rule="bodies", clause=None, message=f"the ToR has no body {body!r}")]
    path = f"bodies.{body}"
    name = _name(rules, body)
    found: list[Violation] = []

    def add(rule_path: str, message: str) -> None:
        found.append(rule_violation(clauses, rule_path, message))

    if rule.kind in ("full-membership", "working-group"):
        how = "by admission" if rule.kind == "full-membership" else "by joining a working group"
        add(path, f"the {name} has no appointed seats: its members come {how}")
        return found
    if rule.members_agreed_by and agreed_by != rule.members_agreed_by:
        add(
            f"{path}.members_agreed_by",
            f"who sits on the {name} is agreed by the "
            f"{_name(rules, rule.members_agreed_by)}, not the {_name(rules, agreed_by)}",
        )
    if rule.max_members is not None and seats_taken >= rule.max_members:
        add(f"{path}.max_members", f"the {name} has at most {rule.max_members} members")
    if required_seat is not None:
        if required_seat not in {seat.key for seat in rule.required_seats}:
            add(
                f"{path}.required_seats",
                f"the {name} has no required seat {required_seat!r}",
            )
        elif required_seat_taken:
            add(
                f"{path}.required_seats",
                f"the required seat {required_seat!r} on the {name} is already filled",
            )
    return found


# ------------------------------------------------------------------- working groups, work plan


def working_group_body(rules: Rules) -> str | None:
    """The key of the ToR's working-group body, if it provides one."""
    return next((b.key for b in rules.bodies if b.kind == "working-group"), None)


def check_working_group_body(rules: Rules, clauses: tuple[Clause, ...]) -> list[Violation]:
    """Do these Terms of Reference provide working groups at all?"""
    if working_group_body(rules) is not None:
        return []
    return [
        rule_violation(
            clauses,
            "bodies",
            "these Terms of Reference provide no working groups; amend them to add a body "
            "of kind 'working-group' first",
        )
    ]


def check_working_group_decision(
    rules: Rules, clauses: tuple[Clause, ...], *, by_body: str, act: str
) -> list[Violation]:
    """May this body establish (or dissolve, or change the leads of) a working group?"""
    key = working_group_body(rules)
    if key is None:
        return check_working_group_body(rules, clauses)
    body = rules.body(key)
    assert body is not None
    establisher = body.established_by or FULL_MEMBERSHIP
    if by_body == establisher:
        return []
    return [
        rule_violation(
            clauses,
            f"bodies.{key}.established_by",
            f"working groups are {act} by the {_name(rules, establisher)}, "
            f"not the {_name(rules, by_body)}",
        )
    ]


def check_work_plan_agreement(
    rules: Rules, clauses: tuple[Clause, ...], *, by_body: str
) -> list[Violation]:
    """May this body agree (or evaluate) the annual work plan? The ToR names the body;
    where it is silent, the full membership does."""
    agreer = rules.work_plan.agreed_by or FULL_MEMBERSHIP
    if by_body == agreer:
        return []
    return [
        rule_violation(
            clauses,
            "work_plan.agreed_by",
            f"the work plan is agreed by the {_name(rules, agreer)}, "
            f"not the {_name(rules, by_body)}",
        )
    ]


def check_body_exists(
    rules: Rules, clauses: tuple[Clause, ...], *, body: str, rule: str
) -> list[Violation]:
    """Is this the key of a body of the ToR?"""
    if rules.body(body) is not None:
        return []
    known = ", ".join(b.key for b in rules.bodies)
    return [
        rule_violation(
            clauses, "bodies", f"{rule}: the ToR has no body {body!r} (its bodies: {known})"
        )
    ]


# --------------------------------------------------------------------------- meetings, minutes


def attendance_limit(rules: Rules, body: str) -> tuple[int | None, str]:
    """The most people one organisation may send to this body's meetings, and the rule
    that sets it: the meeting rule's own limit, else the representatives' limit."""
    meeting = rules.meeting_rule(body)
    if meeting is not None and meeting.max_attendees_per_organisation is not None:
        return (
            meeting.max_attendees_per_organisation,
            f"meetings.{body}.max_attendees_per_organisation",
        )
    return rules.membership.max_representatives, "membership.max_representatives"


def check_attendance(
    rules: Rules, clauses: tuple[Clause, ...], *, body: str, attendees: dict[str, int]
) -> list[Violation]:
    """No organisation sends more people than the ToR allows (`attendees`: member id →
    how many of its people attended)."""
    limit, rule = attendance_limit(rules, body)
    if limit is None:
        return []
    return [
        rule_violation(
            clauses,
            rule,
            f"member {member_id!r} sent {count} people; at most {limit} from each "
            "organisation may attend",
        )
        for member_id, count in attendees.items()
        if count > limit
    ]


def quorum_needed(rules: Rules, body: str, *, voting_members: int) -> int | None:
    """How many organisations must attend for this body's meeting to be quorate; None
    where the ToR sets no quorum."""
    decision = rules.decision_rule(body)
    if decision is None or decision.quorum is None:
        return None
    if decision.quorum.kind == "organisations":
        return math.ceil(Fraction(str(decision.quorum.value)))
    # Exact arithmetic: 0.55 of 100 members is 55, not 55.000000000000007 → 56.
    return math.ceil(Fraction(str(decision.quorum.value)) * voting_members)


def check_confidential_minutes(
    rules: Rules, clauses: tuple[Clause, ...], *, confidential: bool
) -> list[Violation]:
    """May minutes (or an item of them) be kept confidential?"""
    if confidential and not rules.minutes.confidential_allowed:
        return [
            rule_violation(
                clauses,
                "minutes.confidential_allowed",
                "this ToR does not allow confidential minutes: every item is published",
            )
        ]
    return []


def minutes_approver(rules: Rules, meeting_body: str) -> str:
    """The body that approves the minutes of a meeting of `meeting_body`."""
    return rules.minutes.approved_by or meeting_body


def check_minutes_approval(
    rules: Rules, clauses: tuple[Clause, ...], *, meeting_body: str, by_body: str
) -> list[Violation]:
    """Is `by_body` the body that approves these minutes?"""
    approver = minutes_approver(rules, meeting_body)
    if by_body == approver:
        return []
    rule = "minutes.approved_by" if rules.minutes.approved_by else "minutes"
    return [
        rule_violation(
            clauses,
            rule,
            f"the minutes of a meeting of the {_name(rules, meeting_body)} are approved by "
            f"the {_name(rules, approver)}, not {by_body!r}",
        )
    ]


def check_action_owner(
    rules: Rules, clauses: tuple[Clause, ...], *, owner_kind: str, owner: str
) -> list[Violation]:
    """An action owned by an office or a body names one the ToR has. (A member owner is
    checked against the register by the service.)"""
    if owner_kind == "office" and rules.office(owner) is None:
        known = ", ".join(o.key for o in rules.offices) or "none"
        return [
            Violation(
                rule="offices",
                clause=None,
                message=f"the ToR has no office {owner!r} to own an action (offices: {known})",
            )
        ]
    if owner_kind == "body" and rules.body(owner) is None:
        known = ", ".join(b.key for b in rules.bodies)
        return [
            Violation(
                rule="bodies",
                clause=None,
                message=f"the ToR has no body {owner!r} to own an action (bodies: {known})",
            )
        ]
    return []
