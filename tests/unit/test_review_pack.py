"""Review packs as a pure function of a log: given the events of an alliance (positions,
timestamps and data as the event log reads them), when the pack of a period is built,
then its findings say what the rules say, citing the clause and the proving positions.

The e2e suite drives a year through the API; these cases need what the API cannot make
on today's clock: years-old timestamps (a review overdue, a term run out under an older
version), and the HTML of hostile values.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest

from domain.rules import clauses_to_data, rules_to_data
from domain.templates import template
from services.audit.review import (
    ReviewPack,
    build_pack,
    check_period,
    event_link,
    parse_day,
    render_html,
)
from services.errors import InvalidRequest
from services.event_log import LoggedEvent

FOUNDED = date(2020, 1, 10)
TOR = "tor-id"
FM = "full-membership"


def moment(day: date, hour: int = 12) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=UTC)


class Log:
    """An alliance's log, written event by event: each gets the next position."""

    def __init__(self, template_name: str = "family-justice", founded: date = FOUNDED) -> None:
        self.events: list[LoggedEvent] = []
        doc = template(template_name)
        self.add(
            "AllianceFounded",
            {"slug": "kent", "name": "Kent <Alliance>", "region": "Kent", "template": doc.name},
            on=founded,
            aggregate_id="alliance-id",
        )
        self.adoption = self.add(
            "TermsOfReferenceAdopted",
            {
                "slug": "kent",
                "template": doc.name,
                "clauses": clauses_to_data(doc.clauses),
                "rules": rules_to_data(doc.rules),
                "effective_from": founded.isoformat(),
                "adopted_by": "key:founder",
            },
            on=founded,
            aggregate_id=TOR,
        )
        self.doc = doc

    def add(self, kind: str, data: dict[str, Any], *, on: date, aggregate_id: str = "x") -> int:
        position = len(self.events) + 1
        self.events.append(
            LoggedEvent(
                position=position,
                aggregate_id=aggregate_id,
                version=1,
                type=kind,
                timestamp=moment(on),
                data=data,
            )
        )
        return position

    def amend(self, on: date, version: int, rules: dict[str, Any]) -> int:
        data = rules_to_data(self.doc.rules)
        for path, value in rules.items():
            target = data
            *parents, leaf = path.split(".")
            for key in parents:
                target = (
                    next(i for i in target if i["key"] == key)
                    if isinstance(target, list)
                    else target[key]
                )
            target[leaf] = value
        self.add(
            "TermsOfReferenceAmendmentProposed",
            {"amendment_id": f"am-{version}", "base_version": version - 1, "rationale": "r"},
            on=on,
            aggregate_id=TOR,
        )
        return self.add(
            "TermsOfReferenceAmendmentApproved",
            {
                "amendment_id": f"am-{version}",
                "version": version,
                "effective_from": on.isoformat(),
                "clauses": clauses_to_data(self.doc.clauses),
                "rules": data,
                "decision_ref": "AGM",
                "approved_by_body": FM,
                "under_version": version - 1,
            },
            on=on,
            aggregate_id=TOR,
        )

    def meeting(
        self,
        meeting_id: str,
        day: date,
        *,
        body: str = FM,
        held: bool = True,
        quorate: bool = True,
    ) -> tuple[int, int | None]:
        scheduled = self.add(
            "MeetingScheduled",
            {"body": body, "main": body == FM, "starts_at": moment(day, 10), "under_version": 1},
            on=day - timedelta(days=20),
            aggregate_id=meeting_id,
        )
        if not held:
            return scheduled, None
        return scheduled, self.add(
            "MeetingHeld",
            {"held_on": day, "quorum_needed": 3, "quorate": quorate, "under_version": 1},
            on=day,
            aggregate_id=meeting_id,
        )

    def minutes(
        self, minutes_id: str, meeting_id: str, day: date, *, confidential: bool = False
    ) -> int:
        items = [
            {"item_id": "a", "title": "Open", "text": "Open text.", "confidential": False},
            {"item_id": "b", "title": "Secret title", "text": "SECRET", "confidential": True},
        ]
        return self.add(
            "MinutesDrafted",
            {
                "meeting_id": meeting_id,
                "body": FM,
                "meeting_date": day,
                "confidential": confidential,
                "items": items,
                "under_version": 1,
            },
            on=day,
            aggregate_id=minutes_id,
        )

    def appoint(self, holding_id: str, starts_on: date, ends_on: date | None, version: int) -> int:
        if not any(e.type == "OfficeRollOpened" for e in self.events):
            self.add("OfficeRollOpened", {"office": "chair"}, on=starts_on, aggregate_id="roll")
        return self.add(
            "OfficeRollHolderAppointed",
            {
                "holding_id": holding_id,
                "member_id": None,
                "organisation": "Kent Mediation",
                "person": {"name": "Pat Quinn"},
                "starts_on": starts_on.isoformat(),
                "ends_on": ends_on.isoformat() if ends_on else None,
                "via": "appointed",
                "by_body": "steering-group",
                "decision_ref": "minute 4",
                "under_version": version,
            },
            on=starts_on,
            aggregate_id="roll",
        )

    def pack(self, start: date, end: date) -> ReviewPack:
        return build_pack(self.events, start=start, end=end, generated_at=moment(end))


def kinds(pack: ReviewPack, section: str) -> list[str]:
    [found] = [s for s in pack.sections if s.key == section]
    return [f.kind for f in found.findings]


def finding(pack: ReviewPack, kind: str):
    [found] = [f for s in pack.sections for f in s.findings if f.kind == kind]
    return found


# ----------------------------------------------------------------------------- reviews


def test_a_review_not_opened_a_cadence_after_the_adoption_is_overdue():
    log = Log()

    pack = log.pack(date(2021, 1, 1), date(2021, 6, 30))

    overdue = finding(pack, "review-overdue")
    assert (overdue.severity, overdue.clause, overdue.rule) == (
        "concern",
        "7",
        "review.cadence_months",
    )
    assert overdue.on == date(2021, 1, 10) and overdue.positions == [log.adoption]
    assert kinds(pack, "reviews") == ["review-overdue"]


def test_a_review_is_not_overdue_on_the_day_it_falls_due():
    pack = Log().pack(date(2020, 6, 1), date(2021, 1, 10))

    assert kinds(pack, "reviews") == ["review-not-due"]
    assert finding(pack, "review-not-due").severity == "ok"


def test_a_review_concluded_after_it_fell_due_is_noted_and_restarts_the_clock():
    log = Log()
    opened = log.add("TermsOfReferenceReviewOpened", {"under_version": 1}, on=date(2021, 3, 1))
    concluded = log.add(
        "TermsOfReferenceReviewConcluded",
        {"outcome": "no-change", "notes": "", "amendment_ids": [], "under_version": 1},
        on=date(2021, 3, 5),
    )

    pack = log.pack(date(2021, 1, 1), date(2021, 12, 31))

    done = finding(pack, "review-done")
    assert done.severity == "note" and "after it fell due on 2021-01-10" in done.summary
    assert done.positions == [opened, concluded] and done.clause == "7"
    status = finding(pack, "review-not-due")
    assert status.on == date(2022, 3, 5) and status.positions == [log.adoption, concluded]


def test_a_review_still_open_at_the_end_is_noted():
    log = Log()
    opened = log.add("TermsOfReferenceReviewOpened", {"under_version": 1}, on=date(2021, 3, 1))

    pack = log.pack(date(2021, 1, 1), date(2021, 6, 30))

    review = finding(pack, "review-open")
    assert review.severity == "note" and opened in review.positions


# ----------------------------------------------------------------------------- terms of office


def test_a_holder_seated_with_no_end_past_the_term_a_later_version_sets_is_overdue():
    """Appointed until replaced under version 1; version 2 gives the chair 12 months."""
    log = Log()
    appointed = log.appoint("h1", date(2020, 1, 15), None, 1)
    amended = log.amend(date(2020, 6, 1), 2, {"offices.chair.term_months": 12})

    pack = log.pack(date(2021, 1, 1), date(2021, 6, 30))

    overdue = finding(pack, "term-overdue")
    assert (overdue.severity, overdue.clause, overdue.on) == ("concern", "3.2", date(2021, 1, 15))
    assert overdue.positions == [appointed, amended] and overdue.under_version == 2


def test_a_vacancy_with_a_successor_chosen_is_a_note_and_a_term_ending_soon_too():
    log = Log()
    log.amend(date(2020, 1, 11), 2, {"offices.chair.term_months": 6})
    log.appoint("h1", date(2020, 1, 15), date(2020, 7, 15), 2)
    successor = log.appoint("h2", date(2020, 8, 1), date(2021, 2, 1), 2)

    at_end_of_july = log.pack(date(2020, 1, 10), date(2020, 7, 31))
    vacancy = finding(at_end_of_july, "term-expired")
    assert vacancy.severity == "note" and "2020-08-01" in vacancy.summary
    assert [f.kind for f in at_end_of_july.sections[4].findings] == [
        "office-taken",
        "term-ended",
    ]

    in_december = log.pack(date(2020, 8, 1), date(2020, 12, 31))
    ending = finding(in_december, "term-ending")
    assert ending.severity == "note" and ending.positions == [successor]


def test_a_seat_never_filled_cites_the_version_that_provides_the_office():
    log = Log("kinship-care")

    pack = log.pack(date(2020, 2, 1), date(2020, 12, 31))

    vacant = finding(pack, "office-vacant")
    assert (vacant.severity, vacant.positions) == ("concern", [log.adoption])
    assert vacant.clause == "5" and "never filled" in vacant.summary


# ----------------------------------------------------------------------------- meetings, minutes


def test_meetings_held_missed_cancelled_and_inquorate():
    log = Log()
    log.meeting("m1", date(2020, 2, 1))
    log.meeting("m2", date(2020, 5, 1), quorate=False)
    scheduled, _ = log.meeting("m3", date(2020, 9, 1), held=False)
    cancelled = log.add(
        "MeetingCancelled", {"reason": "r"}, on=date(2020, 8, 20), aggregate_id="m3"
    )

    pack = log.pack(date(2020, 1, 10), date(2020, 12, 31))

    assert [(t.required, t.held, t.missed, t.open) for t in pack.meetings_by_body] == [(4, 2, 1, 1)]
    assert sorted(kinds(pack, "meetings")) == [
        "meeting-cancelled",
        "meeting-due",
        "meeting-held",
        "meeting-held",
        "meeting-missing",
    ]
    assert finding(pack, "meeting-cancelled").positions == [scheduled, cancelled]
    inquorate = [f for f in pack.sections[0].findings if f.refs.get("meeting_id") == "m2"]
    assert inquorate[0].severity == "note" and "not quorate" in inquorate[0].summary
    missing = finding(pack, "meeting-missing")
    assert missing.on == date(2020, 10, 9) and missing.positions == [log.adoption]


def test_a_meeting_required_before_another_cites_that_meeting_when_missed():
    log = Log("kinship-care")
    scheduled, held = log.meeting("main", date(2020, 6, 15))

    pack = log.pack(date(2020, 1, 10), date(2020, 12, 31))

    [missed] = [
        f
        for f in pack.sections[0].findings
        if f.kind == "meeting-missing" and f.rule.endswith("before_body")
    ]
    assert missed.positions == [log.adoption, scheduled, held]
    assert missed.clause == "6.3" and "2020-06-15" in missed.summary


def test_minutes_missing_after_a_later_meeting_are_a_concern_confidential_ones_stay_unpublished():
    log = Log()
    _, first = log.meeting("m1", date(2020, 2, 1))
    _, second = log.meeting("m2", date(2020, 5, 1))
    drafted = log.minutes("min2", "m2", date(2020, 5, 1), confidential=True)
    approved = log.add(
        "MinutesApproved",
        {"by_body": FM, "approved_on": date(2020, 5, 2), "under_version": 1, "salts": {"b": "s"}},
        on=date(2020, 5, 2),
        aggregate_id="min2",
    )

    pack = log.pack(date(2020, 1, 10), date(2020, 12, 31))

    missing = finding(pack, "minutes-missing")
    assert missing.severity == "concern" and missing.positions == [log.adoption, first, second]
    kept = finding(pack, "minutes-approved")
    assert kept.severity == "ok" and kept.positions == [drafted, approved]
    assert "confidential as a whole" in kept.summary and "not published" in kept.summary


def test_approved_minutes_the_tor_would_publish_but_nobody_did_are_noted():
    log = Log()
    log.meeting("m1", date(2020, 2, 1))
    log.minutes("min1", "m1", date(2020, 2, 1))
    log.add(
        "MinutesApproved",
        {"by_body": FM, "approved_on": date(2020, 2, 2), "under_version": 1},
        on=date(2020, 2, 2),
        aggregate_id="min1",
    )

    pack = log.pack(date(2020, 1, 10), date(2020, 12, 31))

    unpublished = finding(pack, "minutes-not-published")
    assert unpublished.severity == "note" and unpublished.rule == "minutes.published_by_default"
    assert "1 of them confidential" in unpublished.summary


# ----------------------------------------------------------------------------- decisions


def test_rejected_and_pending_amendments_and_a_counted_election():
    log = Log("separated-families")
    proposed = log.add(
        "TermsOfReferenceAmendmentProposed",
        {"amendment_id": "a1", "base_version": 1, "rationale": "r"},
        on=date(2020, 3, 1),
        aggregate_id=TOR,
    )
    rejected = log.add(
        "TermsOfReferenceAmendmentRejected",
        {"amendment_id": "a1", "reason": "no", "decision_ref": "AGM 4", "under_version": 1},
        on=date(2020, 3, 2),
        aggregate_id=TOR,
    )
    pending = log.add(
        "TermsOfReferenceAmendmentProposed",
        {"amendment_id": "a2", "base_version": 1, "rationale": "r"},
        on=date(2020, 4, 1),
        aggregate_id=TOR,
    )
    opened = log.add("ElectionOpened", {"office": "chair"}, on=date(2020, 5, 1), aggregate_id="e1")
    closed = log.add(
        "ElectionClosed",
        {"turnout": 3, "electorate": 4, "elected": ["c1"], "under_version": 1},
        on=date(2020, 5, 20),
        aggregate_id="e1",
    )

    pack = log.pack(date(2020, 1, 10), date(2020, 12, 31))

    assert kinds(pack, "amendments") == ["amendment-rejected", "amendment-pending"]
    assert finding(pack, "amendment-rejected").positions == [proposed, rejected]
    assert finding(pack, "amendment-pending").positions == [pending]
    decisions = {f.refs["act"]: f for f in pack.sections[2].findings}
    assert decisions["amendment-rejected"].summary.startswith("An amendment of the Terms")
    assert decisions["amendment-rejected"].clause == finding(pack, "amendment-rejected").clause
    election = decisions["election-counted"]
    assert election.positions == [closed] and election.rule == "offices.chair.election"
    held = finding(pack, "election-held")
    assert held.positions == [opened, closed] and "3 of 4 organisations voted" in held.summary


# ----------------------------------------------------------------------------- the page, the period


def test_the_page_escapes_every_value_and_never_shows_minutes_text():
    log = Log()
    log.meeting("m1", date(2020, 2, 1))
    log.minutes("min1", "m1", date(2020, 2, 1))
    log.add(
        "MembershipApplicationDecided",
        {
            "by_body": "steering-group",
            "outcome": "admitted",
            "standing": "member",
            "decision_ref": "<script>alert(1)</script>",
            "member_id": "mem",
            "under_version": 1,
        },
        on=date(2020, 2, 3),
        aggregate_id="app",
    )

    html = render_html(log.pack(date(2020, 1, 10), date(2020, 12, 31)))

    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "Kent &lt;Alliance&gt;" in html
    assert "SECRET" not in html and "Secret title" not in html and "Open text" not in html
    assert f'href="{event_link("kent", 5).replace("&", "&amp;")}"' in html


def test_an_event_links_to_the_one_page_of_the_log_that_shows_it():
    assert event_link("kent", 1) == "/v1/tenants/kent/events?after=0&limit=1"
    assert event_link("kent", 42) == "/v1/tenants/kent/events?after=41&limit=1"


@pytest.mark.parametrize(
    "text", ["2030-1-01", "20300101", "2030-02-30", "tomorrow", "", "2030-01-01T00"]
)
def test_a_day_that_is_not_yyyy_mm_dd_is_refused_naming_the_parameter(text):
    with pytest.raises(InvalidRequest, match=r"^from: "):
        parse_day("from", text)


def test_a_day_given_is_read_and_one_not_given_is_none():
    assert parse_day("to", "2030-02-28") == date(2030, 2, 28)
    assert parse_day("to", None) is None


@pytest.mark.parametrize(
    ("start", "end", "words"),
    [
        (date(2030, 5, 2), date(2030, 5, 1), "is after to"),
        (date(2030, 1, 1), date(2030, 6, 2), "after today"),
        (date(2020, 1, 1), date(2030, 1, 1), "longer than 10 years"),
    ],
)
def test_a_period_must_run_forwards_end_by_today_and_last_at_most_ten_years(start, end, words):
    with pytest.raises(InvalidRequest, match=words):
        check_period(start, end, date(2030, 6, 1))


def test_a_period_of_one_day_and_one_of_ten_years_less_a_day_are_periods():
    check_period(date(2030, 6, 1), date(2030, 6, 1), date(2030, 6, 1))
    check_period(date(2020, 1, 2), date(2030, 1, 1), date(2030, 6, 1))
