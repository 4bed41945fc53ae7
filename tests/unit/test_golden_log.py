"""Golden event logs: events recorded by earlier code replay with today's code.

The files under tests/golden/ are committed once and never rewritten. If a change to an
event class breaks these tests, the change needs an upcast (class_version) or a
register_topic for a moved class, not a new golden file.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.persistence import StoredEvent

from domain.membership import (
    ADMITTED,
    RECOMMENDED,
    REMOVED,
    RESIGNED,
    Member,
    MembershipApplication,
)
from domain.membership import WITHDRAWN as APPLICATION_WITHDRAWN
from domain.offices import BodyRoster, OfficeRoll
from domain.terms import APPROVED, REJECTED, WITHDRAWN, TermsOfReference
from domain.work_plan import EVALUATED, AnnualWorkPlan
from domain.working_groups import DISSOLVED, WorkingGroup

GOLDEN = Path(__file__).resolve().parents[1] / "golden"


def load(name: str) -> Application:
    app: Application = Application(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    rows = [json.loads(line) for line in (GOLDEN / name).read_text().splitlines()]
    app.recorder.insert_events(
        [
            StoredEvent(
                originator_id=UUID(row["originator_id"]),
                originator_version=row["originator_version"],
                topic=row["topic"],
                state=json.dumps(row["state"]).encode(),
            )
            for row in rows
        ]
    )
    return app


def test_the_golden_terms_of_reference_log_replays_with_todays_code():
    app = load("terms_of_reference.jsonl")

    terms: TermsOfReference = app.repository.get(TermsOfReference.create_id("golden-acic"))

    assert terms.version == 9
    assert terms.template == "children-in-care"
    assert [v.number for v in terms.versions] == [1, 2]
    first, second = terms.versions
    assert first.rules.office("co-chair").term_months == 24
    assert second.rules.office("co-chair").term_months == 36
    assert second.clauses[0].text == "The alliance works to improve the care system."
    assert second.decision_ref == "main meeting 4, item 2"
    assert second.effective_from > first.effective_from
    assert sorted(a.state for a in terms.amendments.values()) == sorted(
        [APPROVED, REJECTED, WITHDRAWN]
    )
    assert terms.review_open is False
    assert isinstance(terms.last_reviewed_on, date)


def test_the_golden_log_holds_every_event_type_of_the_terms_of_reference():
    topics = {
        json.loads(line)["topic"].rsplit(".", 1)[1]
        for path in GOLDEN.glob("terms_of_reference*.jsonl")
        for line in path.read_text().splitlines()
    }
    declared = {
        name
        for name, value in vars(TermsOfReference).items()
        if isinstance(value, type) and issubclass(value, TermsOfReference.Event)
    } - {"Event", "Created"}

    assert declared <= topics, f"record the new event types too: {sorted(declared - topics)}"


MEMBERSHIP_AGGREGATES = (
    MembershipApplication,
    Member,
    OfficeRoll,
    BodyRoster,
    WorkingGroup,
    AnnualWorkPlan,
)


def _of_kind(app: Application, kind: type) -> list[Any]:
    ids = {
        UUID(json.loads(line)["originator_id"])
        for line in (GOLDEN / "membership.jsonl").read_text().splitlines()
    }
    found = [app.repository.get(aggregate_id) for aggregate_id in ids]
    return [aggregate for aggregate in found if type(aggregate) is kind]


def test_the_golden_membership_log_replays_with_todays_code():
    app = load("membership.jsonl")

    applications = _of_kind(app, MembershipApplication)
    assert sorted(a.stage for a in applications) == sorted(
        [ADMITTED, ADMITTED, APPLICATION_WITHDRAWN, RECOMMENDED]
    )
    members = {m.name: m for m in _of_kind(app, Member)}
    assert members["Grandparents Together"].status == RESIGNED
    assert members["Other Org"].status == REMOVED
    representatives = members["Grandparents Together"].representatives
    assert [(r.role, r.principal) for r in representatives.values()] == [("Director", True)]
    rolls = {r.office: r for r in _of_kind(app, OfficeRoll)}
    assert set(rolls) == {"chair", "sponsor"}
    assert [t.left_on is not None for t in rolls["chair"].tenures.values()] == [True]
    (steering,) = _of_kind(app, BodyRoster)
    assert [t.seat for t in steering.seats.values()] == ["judiciary"]
    (group,) = _of_kind(app, WorkingGroup)
    assert group.stage == DISSOLVED and group.leads == ["m-1", "m-2"]
    (plan,) = _of_kind(app, AnnualWorkPlan)
    assert plan.stage == EVALUATED and [i.evaluated for i in plan.items.values()] == [True]


def test_the_golden_logs_hold_every_event_type_of_membership():
    recorded = {
        json.loads(line)["topic"].split(":", 1)[1]
        for line in (GOLDEN / "membership.jsonl").read_text().splitlines()
    }
    declared = {
        f"{kind.__name__}.{name}"
        for kind in MEMBERSHIP_AGGREGATES
        for name, value in vars(kind).items()
        if isinstance(value, type)
        and issubclass(value, kind.Event)
        and name not in ("Event", "Created")
    }

    assert declared <= recorded, f"record the new event types too: {sorted(declared - recorded)}"
