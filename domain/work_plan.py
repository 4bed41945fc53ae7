"""The annual work plan (work programme): items drafted, the plan agreed by the body the ToR
names, each item progressed, delivered and evaluated, and the plan evaluated at the end.

One `AnnualWorkPlan` per year. Items are added while the plan is a draft; once agreed the
plan is what the alliance committed to, and only its delivery and evaluation are recorded.
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID, uuid4

from eventsourcing.domain import Aggregate, event

from domain.errors import RulesBroken, WorkPlanStateConflict
from domain.rule_checks import check_body_exists, check_work_plan_agreement
from domain.terms import Version
from domain.values import natural_id

DRAFT, AGREED, EVALUATED = "draft", "agreed", "evaluated"
PLANNED, IN_PROGRESS, DELIVERED = "planned", "in-progress", "delivered"


@dataclass
class Item:
    body: str
    stage: str = PLANNED
    evaluated: bool = False


class AnnualWorkPlan(Aggregate):
    """The work plan of one year."""

    class Drafted(Aggregate.Created):
        year: int
        by: str

    class ItemAdded(Aggregate.Event):
        item_id: str
        title: str
        description: str
        body: str
        by: str
        under_version: int

    class Agreed(Aggregate.Event):
        by_body: str
        decision_ref: str
        by: str
        under_version: int

    class ItemProgressed(Aggregate.Event):
        item_id: str
        note: str
        by: str

    class ItemDelivered(Aggregate.Event):
        item_id: str
        note: str
        by: str

    class ItemEvaluated(Aggregate.Event):
        item_id: str
        evaluation: str
        by: str

    class Evaluated(Aggregate.Event):
        summary: str
        by_body: str
        decision_ref: str
        by: str
        under_version: int

    @staticmethod
    def create_id(year: int) -> UUID:
        return natural_id("work-plan", str(year))

    @classmethod
    def draft(cls, *, year: int, by: str) -> AnnualWorkPlan:
        return cls(year=year, by=by)

    @event(Drafted)
    def __init__(self, year: int, by: str) -> None:
        self.year = year
        self.stage = DRAFT
        self.items: dict[str, Item] = {}

    def _refuse(self, message: str) -> None:
        raise WorkPlanStateConflict(f"the {self.year} work plan is {self.stage}: {message}")

    def add_item(self, *, title: str, description: str, body: str, by: str, terms: Version) -> str:
        """Add an item, with the body responsible for it, while the plan is a draft."""
        if self.stage != DRAFT:
            self._refuse("items are added only while it is a draft")
        violations = check_body_exists(
            terms.rules, terms.clauses, body=body, rule="the body responsible"
        )
        if violations:
            raise RulesBroken(violations)
        item_id = str(uuid4())
        self._add_item(
            item_id=item_id,
            title=title,
            description=description,
            body=body,
            by=by,
            under_version=terms.number,
        )
        return item_id

    @event(ItemAdded)
    def _add_item(
        self, item_id: str, title: str, description: str, body: str, by: str, under_version: int
    ) -> None:
        self.items[item_id] = Item(body=body)

    def agree(self, *, by_body: str, decision_ref: str, by: str, terms: Version) -> None:
        """The body the ToR names agrees the plan."""
        if self.stage != DRAFT:
            self._refuse("it can be agreed only once")
        if not self.items:
            self._refuse("a plan with no items cannot be agreed")
        violations = check_work_plan_agreement(terms.rules, terms.clauses, by_body=by_body)
        if violations:
            raise RulesBroken(violations)
        self._agree(by_body=by_body, decision_ref=decision_ref, by=by, under_version=terms.number)

    @event(Agreed)
    def _agree(self, by_body: str, decision_ref: str, by: str, under_version: int) -> None:
        self.stage = AGREED

    def _open_item(self, item_id: str, act: str) -> Item:
        if self.stage != AGREED:
            self._refuse(f"an item can be {act} only once the plan is agreed")
        item = self.items[item_id]
        if item.stage == DELIVERED:
            raise WorkPlanStateConflict(f"this item is already delivered; it cannot be {act}")
        return item

    def progress(self, item_id: str, *, note: str, by: str) -> None:
        self._open_item(item_id, "progressed")
        self._progress(item_id=item_id, note=note, by=by)

    @event(ItemProgressed)
    def _progress(self, item_id: str, note: str, by: str) -> None:
        self.items[item_id].stage = IN_PROGRESS

    def deliver(self, item_id: str, *, note: str, by: str) -> None:
        self._open_item(item_id, "delivered")
        self._deliver(item_id=item_id, note=note, by=by)

    @event(ItemDelivered)
    def _deliver(self, item_id: str, note: str, by: str) -> None:
        self.items[item_id].stage = DELIVERED

    def evaluate_item(self, item_id: str, *, evaluation: str, by: str) -> None:
        item = self.items[item_id]
        if self.stage != AGREED:
            self._refuse(
                "its items are evaluated while it is agreed, once they are delivered and "
                "before the plan's own evaluation"
            )
        if item.stage != DELIVERED:
            raise WorkPlanStateConflict("an item is evaluated once it is delivered")
        if item.evaluated:
            raise WorkPlanStateConflict("this item is already evaluated")
        self._evaluate_item(item_id=item_id, evaluation=evaluation, by=by)

    @event(ItemEvaluated)
    def _evaluate_item(self, item_id: str, evaluation: str, by: str) -> None:
        self.items[item_id].evaluated = True

    def evaluate(
        self, *, summary: str, by_body: str, decision_ref: str, by: str, terms: Version
    ) -> None:
        """The body that agreed the plan evaluates the year's work."""
        if self.stage != AGREED:
            self._refuse("only an agreed plan is evaluated, once")
        violations = check_work_plan_agreement(terms.rules, terms.clauses, by_body=by_body)
        if violations:
            raise RulesBroken(violations)
        self._evaluate(
            summary=summary,
            by_body=by_body,
            decision_ref=decision_ref,
            by=by,
            under_version=terms.number,
        )

    @event(Evaluated)
    def _evaluate(
        self, summary: str, by_body: str, decision_ref: str, by: str, under_version: int
    ) -> None:
        self.stage = EVALUATED
