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
from eventsourcing.persistence import JSONTranscoder, StoredEvent

from domain.action_items import DONE, ActionItem
from domain.confidentiality import ConfidentialityPolicy
from domain.elections import BallotBox, Election, tally
from domain.meetings import CANCELLED, HELD, Meeting
from domain.membership import (
    ADMITTED,
    RECOMMENDED,
    REMOVED,
    RESIGNED,
    Member,
    MembershipApplication,
)
from domain.membership import WITHDRAWN as APPLICATION_WITHDRAWN
from domain.minutes import APPROVED as MINUTES_APPROVED
from domain.minutes import Minutes, commitment
from domain.motions import Motion
from domain.offices import BodyRoster, OfficeRoll
from domain.terms import APPROVED, REJECTED, WITHDRAWN, TermsOfReference
from domain.work_plan import EVALUATED, AnnualWorkPlan
from domain.working_groups import DISSOLVED, WorkingGroup
from services.applications import DateAsISO

GOLDEN = Path(__file__).resolve().parents[1] / "golden"


def load(name: str, app_class: type[Application] = Application) -> Application:
    app: Application = app_class(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
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


MEETING_AGGREGATES = (Meeting, Minutes, ActionItem, ConfidentialityPolicy)


class DatedApplication(Application):
    """Keeps days (meeting dates, due dates) as the alliance store does."""

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        transcoder.register(DateAsISO())


def _rows(name: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (GOLDEN / name).read_text().splitlines()]


def test_the_golden_meetings_log_replays_with_todays_code():
    app = load("meetings.jsonl", DatedApplication)
    rows = _rows("meetings.jsonl")
    found = [
        app.repository.get(aggregate_id)
        for aggregate_id in {UUID(row["originator_id"]) for row in rows}
    ]

    def of_kind(kind: type) -> list[Any]:
        return [aggregate for aggregate in found if type(aggregate) is kind]

    meetings = {m.status: m for m in of_kind(Meeting)}
    assert set(meetings) == {HELD, CANCELLED}
    held = meetings[HELD]
    assert held.main is True and held.quorate is True
    assert isinstance(held.held_on, date) and held.held_on == held.starts_at.date()
    assert list(held.agenda.values()) == ["Work plan", "Case review"]
    assert meetings[CANCELLED].main is False
    (minutes,) = of_kind(Minutes)
    assert minutes.status == MINUTES_APPROVED and minutes.published is True
    assert minutes.meeting_id == str(held.id) and minutes.meeting_date == held.held_on
    assert minutes.id == Minutes.create_id(str(held.id))
    (approved,) = [r["state"] for r in rows if r["topic"].endswith("Minutes.Approved")]
    assert {
        item.item_id: commitment(approved["salts"][item.item_id], item) for item in minutes.items
    } == (approved["commitments"])
    public = minutes.public_version()
    assert [i["confidential"] for i in public["items"]] == [False, True]
    assert "text" not in public["items"][1]
    (corrected,) = [r["state"] for r in rows if r["topic"].endswith("Minutes.Corrected")]
    kept = {k: corrected[k] for k in ("correction_id", "item_id", "text")}
    assert commitment(corrected["salt"], kept) == corrected["commitment"]
    assert public["corrections"] == [corrected["public"]]
    (action,) = of_kind(ActionItem)
    assert action.status == DONE and isinstance(action.due_on, date)
    assert action.id == ActionItem.create_id(str(minutes.id), "a-1")
    (policy,) = of_kind(ConfidentialityPolicy)
    assert policy.readers == ["auditor", "officer", "tenant-admin"]
    assert policy.id == ConfidentialityPolicy.create_id("golden-kinship-care")


def test_the_golden_logs_hold_every_event_type_of_meetings_minutes_and_actions():
    recorded = {
        json.loads(line)["topic"].split(":", 1)[1]
        for path in GOLDEN.glob("meetings*.jsonl")
        for line in path.read_text().splitlines()
    }
    declared = {
        f"{kind.__name__}.{name}"
        for kind in MEETING_AGGREGATES
        for name, value in vars(kind).items()
        if isinstance(value, type)
        and issubclass(value, kind.Event)
        and name not in ("Event", "Created")
    }

    assert len(declared) == 16
    assert declared <= recorded, f"record the new event types too: {sorted(declared - recorded)}"


DECISION_AGGREGATES = (Motion, Election, BallotBox)


def test_the_golden_decisions_log_replays_with_todays_code():
    app = load("decisions.jsonl", DatedApplication)
    rows = _rows("decisions.jsonl")
    found = [
        app.repository.get(aggregate_id)
        for aggregate_id in dict.fromkeys(UUID(row["originator_id"]) for row in rows)
    ]
    motions = [m for m in found if isinstance(m, Motion)]
    assert sorted(m.status for m in motions) == [
        "carried",
        "carried",
        "carried",
        "proposed",
        "referred",
        "withdrawn",
    ]
    stance = next(m for m in motions if m.public_stance)
    assert stance.electorate == ("m-1", "m-2", "m-3", "m-4")
    assert stance.casting_office == "co-chair"
    referred = next(m for m in motions if m.status == "referred")
    onward = next(m for m in motions if m.status == "proposed")
    (decided,) = [
        r["state"]
        for r in rows
        if r["topic"].endswith("Motion.Decided") and r["originator_id"] == str(referred.id)
    ]
    assert decided["referred_to"] == str(onward.id)
    assert decided["rule"] == "decisions.executive-committee.escalate_to"
    elections = {e.status: e for e in found if isinstance(e, Election)}
    closed = elections["closed"]
    assert closed.secret_ballot is True and len(closed.voted) == 4
    again = tally(
        election_id=str(closed.id),
        ballots=closed.ballots,
        candidates=closed.standing(),
        seats=closed.seats,
        method=closed.method,
        distinct_organisations=closed.distinct_organisations,
        taken_organisations=closed.continuing,
    )
    assert again.elected == closed.elected == closed.result["elected"]
    assert again.seed == closed.result["seed"]
    assert elections["voting"].open_ballots == {"m-2": [next(iter(elections["voting"].candidates))]}
    (box,) = [b for b in found if isinstance(b, BallotBox)]
    assert box.election_id == str(closed.id) and len(box.sealed) == 4
    # A secret ballot's turnout event names the organisation and nothing it chose.
    turnout = [r["state"] for r in rows if r["topic"].endswith("Election.BallotCast")]
    assert all(set(state) == {"member_id", "by", "timestamp"} for state in turnout)


def test_the_golden_logs_hold_every_event_type_of_decisions():
    recorded = {
        json.loads(line)["topic"].split(":", 1)[1]
        for path in GOLDEN.glob("decisions*.jsonl")
        for line in path.read_text().splitlines()
    }
    declared = {
        f"{kind.__name__}.{name}"
        for kind in DECISION_AGGREGATES
        for name, value in vars(kind).items()
        if isinstance(value, type)
        and issubclass(value, kind.Event)
        and name not in ("Event", "Created")
    }

    assert len(declared) == 21
    assert declared <= recorded, f"record the new event types too: {sorted(declared - recorded)}"
