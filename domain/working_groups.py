"""Working groups: proposed, established by the body the ToR names with their own short
terms of reference and lead member(s), joined and left, reporting, and dissolved.

Only Terms of Reference that provide working groups (a body of kind 'working-group') have
them. Leads and members are member organisations (ids of `Member`s); the service checks
they are active members before it asks the group.
"""

from __future__ import annotations

from uuid import uuid4

from eventsourcing.domain import Aggregate, event

from domain.errors import RulesBroken, WorkingGroupStateConflict
from domain.rule_checks import (
    check_working_group_body,
    check_working_group_decision,
    working_group_body,
)
from domain.terms import Version

PROPOSED, ESTABLISHED, DISSOLVED = "proposed", "established", "dissolved"


class WorkingGroup(Aggregate):
    """One working (task and finish, project) group of the alliance."""

    class Proposed(Aggregate.Created):
        name: str
        purpose: str
        body: str
        proposed_by: str
        under_version: int

    class Established(Aggregate.Event):
        #: The group's own short terms of reference.
        own_terms: str
        leads: list[str]
        by_body: str
        decision_ref: str
        by: str
        under_version: int

    class LeadsChanged(Aggregate.Event):
        leads: list[str]
        by_body: str
        decision_ref: str
        by: str
        under_version: int

    class MemberJoined(Aggregate.Event):
        member_id: str
        by: str

    class MemberLeft(Aggregate.Event):
        member_id: str
        by: str

    class ReportRecorded(Aggregate.Event):
        report_id: str
        title: str
        summary: str
        presented_to: str
        by: str

    class Dissolved(Aggregate.Event):
        reason: str
        by_body: str
        decision_ref: str
        by: str
        under_version: int

    @classmethod
    def propose(cls, *, name: str, purpose: str, by: str, terms: Version) -> WorkingGroup:
        """Propose a group; refused where the ToR provides no working groups."""
        violations = check_working_group_body(terms.rules, terms.clauses)
        if violations:
            raise RulesBroken(violations)
        body = working_group_body(terms.rules)
        assert body is not None
        return cls(
            name=name, purpose=purpose, body=body, proposed_by=by, under_version=terms.number
        )

    @event(Proposed)
    def __init__(
        self, name: str, purpose: str, body: str, proposed_by: str, under_version: int
    ) -> None:
        self.name = name
        self.stage = PROPOSED
        self.leads: list[str] = []
        self.members: set[str] = set()

    def _must_be(self, stage: str, act: str) -> None:
        if self.stage != stage:
            raise WorkingGroupStateConflict(
                f"this working group is {self.stage}; only a {stage} group can {act}"
            )

    def _decided(self, terms: Version, by_body: str, act: str) -> None:
        violations = check_working_group_decision(
            terms.rules, terms.clauses, by_body=by_body, act=act
        )
        if violations:
            raise RulesBroken(violations)

    def establish(
        self,
        *,
        own_terms: str,
        leads: list[str],
        by_body: str,
        decision_ref: str,
        by: str,
        terms: Version,
    ) -> None:
        """Establish the group with its own short terms of reference and its lead(s)."""
        self._must_be(PROPOSED, "be established")
        self._decided(terms, by_body, "established")
        self._establish(
            own_terms=own_terms,
            leads=_unique(leads),
            by_body=by_body,
            decision_ref=decision_ref,
            by=by,
            under_version=terms.number,
        )

    @event(Established)
    def _establish(
        self,
        own_terms: str,
        leads: list[str],
        by_body: str,
        decision_ref: str,
        by: str,
        under_version: int,
    ) -> None:
        self.stage = ESTABLISHED
        self.leads = leads
        self.members.update(leads)

    def change_leads(
        self, *, leads: list[str], by_body: str, decision_ref: str, by: str, terms: Version
    ) -> None:
        self._must_be(ESTABLISHED, "change its leads")
        self._decided(terms, by_body, "led as agreed")
        self._change_leads(
            leads=_unique(leads),
            by_body=by_body,
            decision_ref=decision_ref,
            by=by,
            under_version=terms.number,
        )

    @event(LeadsChanged)
    def _change_leads(
        self, leads: list[str], by_body: str, decision_ref: str, by: str, under_version: int
    ) -> None:
        self.leads = leads
        self.members.update(leads)

    def join(self, member_id: str, *, by: str) -> None:
        self._must_be(ESTABLISHED, "be joined")
        if member_id in self.members:
            raise WorkingGroupStateConflict("this member already belongs to the working group")
        self._join(member_id=member_id, by=by)

    @event(MemberJoined)
    def _join(self, member_id: str, by: str) -> None:
        self.members.add(member_id)

    def leave(self, member_id: str, *, by: str) -> None:
        self._must_be(ESTABLISHED, "be left")
        if member_id not in self.members:
            raise WorkingGroupStateConflict("this member does not belong to the working group")
        if member_id in self.leads:
            raise WorkingGroupStateConflict(
                "a lead member cannot leave the group: change its leads first"
            )
        self._leave(member_id=member_id, by=by)

    @event(MemberLeft)
    def _leave(self, member_id: str, by: str) -> None:
        self.members.discard(member_id)

    def record_report(self, *, title: str, summary: str, presented_to: str, by: str) -> str:
        """Record a report the group gave (to the full membership, the co-chairs...)."""
        self._must_be(ESTABLISHED, "report")
        report_id = str(uuid4())
        self._report(
            report_id=report_id, title=title, summary=summary, presented_to=presented_to, by=by
        )
        return report_id

    @event(ReportRecorded)
    def _report(self, report_id: str, title: str, summary: str, presented_to: str, by: str) -> None:
        pass

    def dissolve(
        self, *, reason: str, by_body: str, decision_ref: str, by: str, terms: Version
    ) -> None:
        """Dissolve the group when it is no longer needed (or a proposal that was not taken
        up), by the body that establishes groups."""
        if self.stage == DISSOLVED:
            raise WorkingGroupStateConflict("this working group is already dissolved")
        self._decided(terms, by_body, "dissolved")
        self._dissolve(
            reason=reason,
            by_body=by_body,
            decision_ref=decision_ref,
            by=by,
            under_version=terms.number,
        )

    @event(Dissolved)
    def _dissolve(
        self, reason: str, by_body: str, decision_ref: str, by: str, under_version: int
    ) -> None:
        self.stage = DISSOLVED


def _unique(leads: list[str]) -> list[str]:
    if not leads:
        raise WorkingGroupStateConflict("a working group has at least one lead member")
    return list(dict.fromkeys(leads))
