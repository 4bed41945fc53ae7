"""The Terms of Reference: an alliance's constitution, in immutable numbered versions.

Version 1 is adopted from a template at founding. Amendments are proposed, then approved
by the body the ToR names (a new version, effective from a date), rejected or withdrawn.
Reviews fall due a cadence after the last adoption or review (for version 1: after
the day it took effect).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any
from uuid import UUID, uuid4

import msgspec
from eventsourcing.domain import Aggregate, event

from domain.amendments import Changes, apply_changes
from domain.errors import (
    AmendmentNotOpen,
    AmendmentStale,
    EffectiveDateTooEarly,
    NoReviewOpen,
    ReviewAlreadyOpen,
    ReviewOutcomeMismatch,
    RulesBroken,
)
from domain.rule_checks import check_amendment_approval, validate_rules
from domain.rules import (
    Clause,
    Rules,
    clause_for,
    clauses_from_data,
    clauses_to_data,
    rules_from_data,
    rules_to_data,
)
from domain.values import natural_id

PROPOSED, APPROVED, REJECTED, WITHDRAWN = "proposed", "approved", "rejected", "withdrawn"


@dataclass(frozen=True)
class Version:
    """One adopted version: immutable, in force from `effective_from` (a date, UTC)."""

    number: int
    effective_from: date
    adopted_at: datetime
    clauses: tuple[Clause, ...]
    rules: Rules
    amendment_id: str | None
    decision_ref: str | None

    @property
    def starts(self) -> datetime:
        return datetime.combine(self.effective_from, time.min, tzinfo=UTC)

    def clause_for(self, path: str) -> str | None:
        """The number of this version's clause that carries a rule path."""
        return clause_for(self.clauses, path)


@dataclass
class Amendment:
    id: str
    state: str
    base_version: int
    rationale: str
    changes: dict[str, Any]
    proposed_by: str
    proposed_at: datetime
    version: int | None = None


def add_months(day: date, months: int) -> date:
    """The same day `months` later (the month's last day when it has no such day)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    for candidate in (day.day, 30, 29, 28):
        try:
            return date(year, month, min(day.day, candidate))
        except ValueError:
            continue
    raise ValueError(day)  # unreachable: day 28 exists in every month


class TermsOfReference(Aggregate):
    """The alliance's Terms of Reference, every version of them, and their amendments."""

    class Adopted(Aggregate.Created):
        #: 2: `template_changes` (the changes made to the template before adoption).
        class_version = 2

        slug: str
        template: str
        clauses: list[dict[str, Any]]
        rules: dict[str, Any]
        effective_from: str
        adopted_by: str
        #: The template modified before adoption: the changes, in an amendment's shape
        #: ({"clauses": [...], "rules": [{"path", "value"}]}); None: the template as it is.
        template_changes: dict[str, Any] | None

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            """Version 1 was always the template unmodified."""
            state["template_changes"] = None

    class AmendmentProposed(Aggregate.Event):
        amendment_id: str
        base_version: int
        rationale: str
        changes: dict[str, Any]
        proposed_by: str

    class AmendmentApproved(Aggregate.Event):
        amendment_id: str
        version: int
        effective_from: str
        clauses: list[dict[str, Any]]
        rules: dict[str, Any]
        decision_ref: str
        approved_by_body: str
        approved_by: str
        under_version: int

    class AmendmentRejected(Aggregate.Event):
        amendment_id: str
        reason: str
        decision_ref: str
        rejected_by: str
        under_version: int

    class AmendmentWithdrawn(Aggregate.Event):
        amendment_id: str
        withdrawn_by: str

    class ReviewOpened(Aggregate.Event):
        opened_by: str
        under_version: int

    class ReviewConcluded(Aggregate.Event):
        outcome: str
        notes: str
        amendment_ids: list[str]
        concluded_by: str
        under_version: int

    @staticmethod
    def create_id(slug: str) -> UUID:
        return natural_id("terms-of-reference", slug)

    @classmethod
    def adopt(
        cls,
        *,
        slug: str,
        template: str,
        clauses: tuple[Clause, ...],
        rules: Rules,
        effective_from: date,
        adopted_by: str,
        changes: Changes | None = None,
    ) -> TermsOfReference:
        """Adopt version 1 (from a template), in force from `effective_from`. Changes made
        to the template first are checked exactly as an amendment's are (AmendmentInvalid
        naming the rule); contradictory rules are refused."""
        if changes is not None:
            clauses, rules = apply_changes(clauses, rules, changes)
        violations = validate_rules(rules, clauses)
        if violations:
            raise RulesBroken(violations)
        return cls(
            slug=slug,
            template=template,
            clauses=clauses_to_data(clauses),
            rules=rules_to_data(rules),
            effective_from=effective_from.isoformat(),
            adopted_by=adopted_by,
            template_changes=None if changes is None else _changes_data(changes),
        )

    @event(Adopted)
    def __init__(
        self,
        slug: str,
        template: str,
        clauses: list[dict[str, Any]],
        rules: dict[str, Any],
        effective_from: str,
        adopted_by: str,
        template_changes: dict[str, Any] | None,
    ) -> None:
        self.slug = slug
        self.template = template
        self.template_changes = template_changes
        self.versions: list[Version] = []
        self.amendments: dict[str, Amendment] = {}
        self.review_open = False
        self.last_reviewed_on: date | None = None
        self._add_version(None, clauses, rules, effective_from, None)

    # ----------------------------------------------------------------- reading

    @property
    def latest(self) -> Version:
        return self.versions[-1]

    def in_force(self, at: datetime) -> Version | None:
        """The version in force at a moment: the latest whose effective date has come."""
        current = None
        for version in self.versions:
            if version.starts <= at:
                current = version
        return current

    def in_force_at(self, now: datetime) -> Version:
        """The version every command at `now` is checked against. Before version 1's
        first day (an adoption dated later that day, or an alliance onboarded with a start
        date still to come), version 1 rules."""
        return self.in_force(now) or self.versions[0]

    def review_due_on(self) -> date:
        """A cadence after the later of the last adoption and the last concluded review.
        Version 1 counts from the day it took effect (the alliance's start date, which
        onboarding may set before or after the day it was recorded); a later version
        from the day it was adopted."""
        latest = self.latest
        anchor = latest.effective_from if latest.number == 1 else latest.adopted_at.date()
        if self.last_reviewed_on and self.last_reviewed_on > anchor:
            anchor = self.last_reviewed_on
        return add_months(anchor, self.latest.rules.review.cadence_months)

    # ----------------------------------------------------------------- amendments

    def propose_amendment(self, *, rationale: str, changes: Changes, proposed_by: str) -> str:
        """Propose changes to the latest version; refused when they would not hold together."""
        apply_changes(self.latest.clauses, self.latest.rules, changes)
        amendment_id = str(uuid4())
        self._propose(
            amendment_id=amendment_id,
            base_version=self.latest.number,
            rationale=rationale,
            changes=_changes_data(changes),
            proposed_by=proposed_by,
        )
        return amendment_id

    @event(AmendmentProposed)
    def _propose(
        self,
        amendment_id: str,
        base_version: int,
        rationale: str,
        changes: dict[str, Any],
        proposed_by: str,
    ) -> None:
        self.amendments[amendment_id] = Amendment(
            id=amendment_id,
            state=PROPOSED,
            base_version=base_version,
            rationale=rationale,
            changes=changes,
            proposed_by=proposed_by,
            proposed_at=self.modified_on,
        )

    def approve_amendment(
        self,
        amendment_id: str,
        *,
        body: str,
        decision_ref: str,
        effective_from: date,
        approved_by: str,
        now: datetime,
    ) -> int:
        """Approve by the body the ToR names; the new version takes effect on the date."""
        amendment = self._open_amendment(amendment_id)
        in_force = self.in_force_at(now)
        violations = check_amendment_approval(in_force.rules, in_force.clauses, body=body)
        if violations:
            raise RulesBroken(violations)
        if amendment.base_version != self.latest.number:
            raise AmendmentStale(amendment.base_version, self.latest.number)
        earliest = max(now.date(), self.latest.effective_from)
        if effective_from < earliest:
            raise EffectiveDateTooEarly(effective_from.isoformat(), earliest.isoformat())
        changes = msgspec.convert(amendment.changes, Changes)
        clauses, rules = apply_changes(self.latest.clauses, self.latest.rules, changes)
        version = self.latest.number + 1
        self._approve(
            amendment_id=amendment_id,
            version=version,
            effective_from=effective_from.isoformat(),
            clauses=clauses_to_data(clauses),
            rules=rules_to_data(rules),
            decision_ref=decision_ref,
            approved_by_body=body,
            approved_by=approved_by,
            under_version=in_force.number,
        )
        return version

    @event(AmendmentApproved)
    def _approve(
        self,
        amendment_id: str,
        version: int,
        effective_from: str,
        clauses: list[dict[str, Any]],
        rules: dict[str, Any],
        decision_ref: str,
        approved_by_body: str,
        approved_by: str,
        under_version: int,
    ) -> None:
        amendment = self.amendments[amendment_id]
        amendment.state = APPROVED
        amendment.version = version
        self._add_version(amendment_id, clauses, rules, effective_from, decision_ref)

    def reject_amendment(
        self, amendment_id: str, *, reason: str, decision_ref: str, rejected_by: str, now: datetime
    ) -> None:
        """Record that the amendment was not approved."""
        self._open_amendment(amendment_id)
        in_force = self.in_force_at(now)
        self._reject(
            amendment_id=amendment_id,
            reason=reason,
            decision_ref=decision_ref,
            rejected_by=rejected_by,
            under_version=in_force.number,
        )

    @event(AmendmentRejected)
    def _reject(
        self,
        amendment_id: str,
        reason: str,
        decision_ref: str,
        rejected_by: str,
        under_version: int,
    ) -> None:
        self.amendments[amendment_id].state = REJECTED

    def withdraw_amendment(self, amendment_id: str, *, withdrawn_by: str) -> None:
        """Take a proposed amendment back before it is decided."""
        self._open_amendment(amendment_id)
        self._withdraw(amendment_id=amendment_id, withdrawn_by=withdrawn_by)

    @event(AmendmentWithdrawn)
    def _withdraw(self, amendment_id: str, withdrawn_by: str) -> None:
        self.amendments[amendment_id].state = WITHDRAWN

    def _open_amendment(self, amendment_id: str) -> Amendment:
        amendment = self.amendments[amendment_id]  # KeyError: the caller checked it exists
        if amendment.state != PROPOSED:
            raise AmendmentNotOpen(amendment.state)
        return amendment

    # ----------------------------------------------------------------- reviews

    def open_review(self, *, opened_by: str, now: datetime) -> None:
        """Start the periodic review of the ToR."""
        if self.review_open:
            raise ReviewAlreadyOpen()
        in_force = self.in_force_at(now)
        self._open_review(opened_by=opened_by, under_version=in_force.number)

    @event(ReviewOpened)
    def _open_review(self, opened_by: str, under_version: int) -> None:
        self.review_open = True

    def conclude_review(
        self,
        *,
        outcome: str,
        notes: str,
        amendment_ids: list[str],
        concluded_by: str,
        now: datetime,
    ) -> None:
        """Conclude the open review: no change, or the amendments it proposed."""
        if not self.review_open:
            raise NoReviewOpen()
        if (outcome == "amendments-proposed") != bool(amendment_ids):
            raise ReviewOutcomeMismatch(outcome)
        in_force = self.in_force_at(now)
        self._conclude_review(
            outcome=outcome,
            notes=notes,
            amendment_ids=amendment_ids,
            concluded_by=concluded_by,
            under_version=in_force.number,
        )

    @event(ReviewConcluded)
    def _conclude_review(
        self,
        outcome: str,
        notes: str,
        amendment_ids: list[str],
        concluded_by: str,
        under_version: int,
    ) -> None:
        self.review_open = False
        self.last_reviewed_on = self.modified_on.date()

    # ----------------------------------------------------------------- state

    def _add_version(
        self,
        amendment_id: str | None,
        clauses: list[dict[str, Any]],
        rules: dict[str, Any],
        effective_from: str,
        decision_ref: str | None,
    ) -> None:
        self.versions.append(
            Version(
                number=len(self.versions) + 1,
                effective_from=date.fromisoformat(effective_from),
                adopted_at=self.modified_on,
                clauses=clauses_from_data(clauses),
                rules=rules_from_data(rules),
                amendment_id=amendment_id,
                decision_ref=decision_ref,
            )
        )


def _changes_data(changes: Changes) -> dict[str, Any]:
    data: dict[str, Any] = msgspec.json.decode(msgspec.json.encode(changes))
    return data
