"""Membership: applications on the route the ToR sets, and the members they admit.

An application is checked for eligibility when it is submitted, then travels the route of
the version in force: circulated to a body, recommended by an office, decided by a body
(each step only where the ToR has it, in that order, by the one it names). Admission
creates a `Member`, saved with the decision. A member's representatives are kept within
the ToR's limit, with exactly one principal contact where it requires one.

Personal data (names, emails of people) lives only in each event's `person` field, so it
can be made erasable without touching the rest of the record.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal
from uuid import UUID, uuid4

from eventsourcing.domain import Aggregate, event

from domain.errors import ApplicationClosed, MemberStateConflict, RulesBroken
from domain.privacy import is_erased
from domain.rule_checks import (
    Applicant,
    RouteStep,
    Violation,
    check_application,
    check_conduct_review,
    check_membership_decision,
    check_representatives,
    check_route_step,
)
from domain.terms import Version
from domain.values import natural_id

# The stages of an application.
SUBMITTED, CIRCULATED, RECOMMENDED = "submitted", "circulated", "recommended"
ADMITTED, REJECTED, WITHDRAWN = "admitted", "rejected", "withdrawn"
CLOSED = (ADMITTED, REJECTED, WITHDRAWN)

# The status of a member.
ACTIVE, SUSPENDED, RESIGNED, REMOVED = "active", "suspended", "resigned", "removed"
ENDED = (RESIGNED, REMOVED)

Standing = Literal["member", "observer", "advisory"]
ConductOutcome = Literal["satisfactory", "concerns-raised", "breach-found"]


def _refuse(violations: list[Violation]) -> None:
    if violations:
        raise RulesBroken(violations)


class MembershipApplication(Aggregate):
    """A written request to join, and the steps it has taken on the ToR's route."""

    class Submitted(Aggregate.Created):
        #: What the rules check: capacity, name (organisations), kind, region, status asked.
        applicant: dict[str, Any]
        request_text: str
        #: Personal data: the signatory's name; an individual's own name and email.
        person: dict[str, Any]
        submitted_by: str
        under_version: int

    class Circulated(Aggregate.Event):
        to_body: str
        by: str
        under_version: int

    class Recommended(Aggregate.Event):
        by_office: str
        recommendation: str
        note: str
        by: str
        under_version: int

    class Decided(Aggregate.Event):
        by_body: str
        outcome: str
        standing: str | None
        reason: str
        decision_ref: str
        member_id: str | None
        by: str
        under_version: int

    class Withdrawn(Aggregate.Event):
        reason: str
        by: str

    @classmethod
    def submit(
        cls,
        *,
        terms: Version,
        applicant: Applicant,
        request_text: str,
        signatory_name: str | None,
        email: str | None,
        submitted_by: str,
    ) -> MembershipApplication:
        """Apply; refused at once, with every reason, when the applicant is not eligible."""
        _refuse(check_application(terms.rules, terms.clauses, applicant))
        individual = applicant.capacity == "individual"
        person: dict[str, Any] = {"signatory_name": signatory_name}
        if individual:
            person.update(name=applicant.name, email=email)
        return cls(
            applicant={
                "capacity": applicant.capacity,
                "name": None if individual else applicant.name,
                "organisation_kind": applicant.organisation_kind,
                "governmental": applicant.governmental,
                "legal_entity": applicant.legal_entity,
                "region": applicant.region,
                "signatory_role": applicant.signatory_role,
                "status": applicant.status,
            },
            request_text=request_text,
            person=person,
            submitted_by=submitted_by,
            under_version=terms.number,
        )

    @event(Submitted)
    def __init__(
        self,
        applicant: dict[str, Any],
        request_text: str,
        person: dict[str, Any],
        submitted_by: str,
        under_version: int,
    ) -> None:
        self.applicant = applicant
        self.stage = SUBMITTED
        self.steps: set[str] = set()
        self.member_id: str | None = None
        # Kept for re-checking eligibility at the decision (individuals only need it).
        self._person_name: str | None = person.get("name")
        self._person_erased = is_erased(person)

    # ----------------------------------------------------------------- the route

    def _step(self, terms: Version, step: RouteStep, by: str, status: str | None = None) -> None:
        if self.stage in CLOSED:
            raise ApplicationClosed(self.stage)
        _refuse(
            check_route_step(
                terms.rules,
                terms.clauses,
                step=step,
                by=by,
                done=frozenset(self.steps),
                status=status,
            )
        )

    def circulate(self, *, to_body: str, by: str, terms: Version) -> None:
        """Circulate the application to the body the ToR names."""
        self._step(terms, "circulate", to_body)
        self._circulate(to_body=to_body, by=by, under_version=terms.number)

    @event(Circulated)
    def _circulate(self, to_body: str, by: str, under_version: int) -> None:
        self.steps.add("circulate")
        self.stage = CIRCULATED

    def recommend(
        self,
        *,
        by_office: str,
        recommendation: Literal["admit", "reject"],
        note: str,
        by: str,
        terms: Version,
    ) -> None:
        """Record the recommendation of the office (or body) the ToR names."""
        self._step(terms, "recommend", by_office)
        self._recommend(
            by_office=by_office,
            recommendation=recommendation,
            note=note,
            by=by,
            under_version=terms.number,
        )

    @event(Recommended)
    def _recommend(
        self, by_office: str, recommendation: str, note: str, by: str, under_version: int
    ) -> None:
        self.steps.add("recommend")
        self.stage = RECOMMENDED

    def decide(
        self,
        *,
        by_body: str,
        outcome: Literal["admit", "reject"],
        standing: Standing | None,
        reason: str,
        decision_ref: str,
        by: str,
        terms: Version,
    ) -> Member | None:
        """The deciding body admits (as member, observer or advisory member) or rejects.

        Admission re-checks eligibility for the standing granted, under the rules in force
        at the decision, and returns the new Member to be saved with this application.
        """
        granted = (standing or self.applicant["status"]) if outcome == "admit" else None
        # A rejection is taken by the body that would have admitted at the standing asked.
        self._step(terms, "decide", by_body, status=granted or self.applicant["status"])
        if outcome == "admit":
            assert granted is not None
            _refuse(check_application(terms.rules, terms.clauses, self._as_applicant(granted)))
        member_id = str(Member.create_id(str(self.id))) if outcome == "admit" else None
        self._decide(
            by_body=by_body,
            outcome=ADMITTED if outcome == "admit" else REJECTED,
            standing=granted,
            reason=reason,
            decision_ref=decision_ref,
            member_id=member_id,
            by=by,
            under_version=terms.number,
        )
        if granted is None:
            return None
        return Member.admit(
            application_id=str(self.id),
            applicant=self.applicant,
            person_name=self._person_name,
            person_erased=self._person_erased,
            standing=granted,
            by_body=by_body,
            decision_ref=decision_ref,
            by=by,
            terms=terms,
        )

    @event(Decided)
    def _decide(
        self,
        by_body: str,
        outcome: str,
        standing: str | None,
        reason: str,
        decision_ref: str,
        member_id: str | None,
        by: str,
        under_version: int,
    ) -> None:
        self.stage = outcome
        self.member_id = member_id

    def withdraw(self, *, reason: str, by: str) -> None:
        """The applicant withdraws before the decision."""
        if self.stage in CLOSED:
            raise ApplicationClosed(self.stage)
        self._withdraw(reason=reason, by=by)

    @event(Withdrawn)
    def _withdraw(self, reason: str, by: str) -> None:
        self.stage = WITHDRAWN

    def _as_applicant(self, status: str) -> Applicant:
        facts = self.applicant
        return Applicant(
            capacity=facts["capacity"],
            name=facts["name"] or self._person_name or "",
            organisation_kind=facts["organisation_kind"],
            governmental=facts["governmental"],
            legal_entity=facts["legal_entity"],
            region=facts["region"],
            signatory_role=facts["signatory_role"],
            status=status,  # type: ignore[arg-type]
        )


@dataclass
class Representative:
    """What the rules need to know of a representative: no personal data."""

    role: str
    principal: bool


class Member(Aggregate):
    """A member organisation (or advisory individual) and its representatives."""

    class Admitted(Aggregate.Created):
        application_id: str
        capacity: str
        #: The organisation's name (None for an individual, whose name is personal data).
        name: str | None
        organisation_kind: str | None
        region: str | None
        standing: str
        by_body: str
        decision_ref: str
        admitted_by: str
        under_version: int
        person: dict[str, Any]

    class Suspended(Aggregate.Event):
        reason: str
        by_body: str
        decision_ref: str
        by: str
        under_version: int

    class Reinstated(Aggregate.Event):
        by_body: str
        decision_ref: str
        by: str
        under_version: int

    class Resigned(Aggregate.Event):
        reason: str
        by: str

    class Removed(Aggregate.Event):
        reason: str
        by_body: str
        decision_ref: str
        by: str
        under_version: int

    class ConductReviewed(Aggregate.Event):
        review_id: str
        by_body: str
        outcome: str
        notes: str
        decision_ref: str
        by: str
        under_version: int

    class RepresentativeAdded(Aggregate.Event):
        representative_id: str
        role: str
        principal: bool
        #: Personal data: the representative's name and email.
        person: dict[str, Any]
        by: str
        under_version: int

    class RepresentativeReplaced(Aggregate.Event):
        representative_id: str
        successor_id: str
        role: str
        person: dict[str, Any]
        by: str
        under_version: int

    class RepresentativeRemoved(Aggregate.Event):
        representative_id: str
        #: The representative who becomes principal contact in its place, if it was one.
        new_principal_id: str | None
        by: str
        under_version: int

    class PrincipalContactChanged(Aggregate.Event):
        representative_id: str
        by: str

    @staticmethod
    def create_id(application_id: str) -> UUID:
        return natural_id("member", application_id)

    @classmethod
    def admit(
        cls,
        *,
        application_id: str,
        applicant: dict[str, Any],
        person_name: str | None,
        standing: str,
        by_body: str,
        decision_ref: str,
        by: str,
        terms: Version,
        person_erased: bool = False,
    ) -> Member:
        individual = applicant["capacity"] == "individual"
        person: dict[str, Any] = {}
        if individual:  # an applicant erased before the decision is admitted as erased
            person = {"erased": True} if person_erased else {"name": person_name}
        return cls(
            application_id=application_id,
            capacity=applicant["capacity"],
            name=None if individual else applicant["name"],
            organisation_kind=applicant["organisation_kind"],
            region=applicant["region"],
            standing=standing,
            by_body=by_body,
            decision_ref=decision_ref,
            admitted_by=by,
            under_version=terms.number,
            person=person,
        )

    @event(Admitted)
    def __init__(
        self,
        application_id: str,
        capacity: str,
        name: str | None,
        organisation_kind: str | None,
        region: str | None,
        standing: str,
        by_body: str,
        decision_ref: str,
        admitted_by: str,
        under_version: int,
        person: dict[str, Any],
    ) -> None:
        self.application_id = application_id
        self.capacity = capacity
        self.name = name
        self.standing = standing
        self.status = ACTIVE
        self.representatives: dict[str, Representative] = {}

    @property
    def is_active(self) -> bool:
        return self.status == ACTIVE

    @property
    def votes(self) -> bool:
        """Whether this member is entitled to vote (observers and advisory members are not)."""
        return self.standing == "member" and self.status == ACTIVE

    def _must_be(self, *statuses: str, act: str) -> None:
        if self.status not in statuses:
            raise MemberStateConflict(f"a {self.status} member cannot be {act}")

    # ----------------------------------------------------------------- status

    def suspend(
        self, *, reason: str, by_body: str, decision_ref: str, by: str, terms: Version
    ) -> None:
        self._must_be(ACTIVE, act="suspended")
        _refuse(
            check_membership_decision(terms.rules, terms.clauses, by_body=by_body, act="suspended")
        )
        self._suspend(
            reason=reason,
            by_body=by_body,
            decision_ref=decision_ref,
            by=by,
            under_version=terms.number,
        )

    @event(Suspended)
    def _suspend(
        self, reason: str, by_body: str, decision_ref: str, by: str, under_version: int
    ) -> None:
        self.status = SUSPENDED

    def reinstate(self, *, by_body: str, decision_ref: str, by: str, terms: Version) -> None:
        self._must_be(SUSPENDED, act="reinstated")
        _refuse(
            check_membership_decision(terms.rules, terms.clauses, by_body=by_body, act="reinstated")
        )
        self._reinstate(
            by_body=by_body, decision_ref=decision_ref, by=by, under_version=terms.number
        )

    @event(Reinstated)
    def _reinstate(self, by_body: str, decision_ref: str, by: str, under_version: int) -> None:
        self.status = ACTIVE

    def resign(self, *, reason: str, by: str) -> None:
        self._must_be(ACTIVE, SUSPENDED, act="resigned")
        self._resign(reason=reason, by=by)

    @event(Resigned)
    def _resign(self, reason: str, by: str) -> None:
        self.status = RESIGNED

    def remove(
        self, *, reason: str, by_body: str, decision_ref: str, by: str, terms: Version
    ) -> None:
        self._must_be(ACTIVE, SUSPENDED, act="removed")
        _refuse(
            check_membership_decision(terms.rules, terms.clauses, by_body=by_body, act="removed")
        )
        self._remove(
            reason=reason,
            by_body=by_body,
            decision_ref=decision_ref,
            by=by,
            under_version=terms.number,
        )

    @event(Removed)
    def _remove(
        self, reason: str, by_body: str, decision_ref: str, by: str, under_version: int
    ) -> None:
        self.status = REMOVED

    def review_conduct(
        self,
        *,
        by_body: str,
        outcome: ConductOutcome,
        notes: str,
        decision_ref: str,
        by: str,
        terms: Version,
    ) -> str:
        """Record a review of this member against the code of conduct."""
        self._must_be(ACTIVE, SUSPENDED, act="reviewed")
        _refuse(check_conduct_review(terms.rules, terms.clauses, by_body=by_body))
        review_id = str(uuid4())
        self._review_conduct(
            review_id=review_id,
            by_body=by_body,
            outcome=outcome,
            notes=notes,
            decision_ref=decision_ref,
            by=by,
            under_version=terms.number,
        )
        return review_id

    @event(ConductReviewed)
    def _review_conduct(
        self,
        review_id: str,
        by_body: str,
        outcome: str,
        notes: str,
        decision_ref: str,
        by: str,
        under_version: int,
    ) -> None:
        pass

    # ----------------------------------------------------------------- representatives

    def _check_representatives(self, terms: Version, after: dict[str, Representative]) -> None:
        _refuse(
            check_representatives(
                terms.rules,
                terms.clauses,
                representatives=len(after),
                principal_contacts=sum(1 for r in after.values() if r.principal),
            )
        )

    def add_representative(
        self,
        *,
        role: str,
        name: str,
        email: str,
        principal: bool | None,
        by: str,
        terms: Version,
    ) -> str:
        """Add a representative, up to the ToR's maximum. The first becomes the principal
        contact unless told otherwise; a new principal takes over from the old one."""
        self._must_be(ACTIVE, SUSPENDED, act="given a representative")
        if principal is None:
            principal = not any(r.principal for r in self.representatives.values())
        after = {
            k: Representative(r.role, r.principal and not principal)
            for k, r in self.representatives.items()
        }
        representative_id = str(uuid4())
        after[representative_id] = Representative(role, principal)
        self._check_representatives(terms, after)
        self._add_representative(
            representative_id=representative_id,
            role=role,
            principal=principal,
            person={"name": name, "email": email},
            by=by,
            under_version=terms.number,
        )
        return representative_id

    @event(RepresentativeAdded)
    def _add_representative(
        self,
        representative_id: str,
        role: str,
        principal: bool,
        person: dict[str, Any],
        by: str,
        under_version: int,
    ) -> None:
        if principal:
            for other in self.representatives.values():
                other.principal = False
        self.representatives[representative_id] = Representative(role, principal)

    def replace_representative(
        self, representative_id: str, *, role: str, name: str, email: str, by: str, terms: Version
    ) -> str:
        """Another person takes this representative's place (and principal contact, if so)."""
        self._must_be(ACTIVE, SUSPENDED, act="given a representative")
        successor_id = str(uuid4())
        self._replace_representative(
            representative_id=representative_id,
            successor_id=successor_id,
            role=role,
            person={"name": name, "email": email},
            by=by,
            under_version=terms.number,
        )
        return successor_id

    @event(RepresentativeReplaced)
    def _replace_representative(
        self,
        representative_id: str,
        successor_id: str,
        role: str,
        person: dict[str, Any],
        by: str,
        under_version: int,
    ) -> None:
        old = self.representatives.pop(representative_id)
        self.representatives[successor_id] = Representative(role, old.principal)

    def remove_representative(
        self, representative_id: str, *, new_principal_id: str | None, by: str, terms: Version
    ) -> None:
        """Remove a representative; removing the principal contact names who takes over."""
        self._must_be(ACTIVE, SUSPENDED, act="changed")
        after = {
            k: Representative(
                r.role, k == new_principal_id or (r.principal and not new_principal_id)
            )
            for k, r in self.representatives.items()
            if k != representative_id
        }
        self._check_representatives(terms, after)
        self._remove_representative(
            representative_id=representative_id,
            new_principal_id=new_principal_id,
            by=by,
            under_version=terms.number,
        )

    @event(RepresentativeRemoved)
    def _remove_representative(
        self, representative_id: str, new_principal_id: str | None, by: str, under_version: int
    ) -> None:
        del self.representatives[representative_id]
        if new_principal_id is not None:
            for key, other in self.representatives.items():
                other.principal = key == new_principal_id

    def make_principal(self, representative_id: str, *, by: str) -> None:
        """Make this representative the principal contact (the previous one stops being it)."""
        self._must_be(ACTIVE, SUSPENDED, act="changed")
        if self.representatives[representative_id].principal:
            return
        self._make_principal(representative_id=representative_id, by=by)

    @event(PrincipalContactChanged)
    def _make_principal(self, representative_id: str, by: str) -> None:
        for key, other in self.representatives.items():
            other.principal = key == representative_id
