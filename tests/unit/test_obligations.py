"""The obligations calendar: the dated duties the ToR put on an alliance, derived from the
rules in force for each period, and whether each is upcoming, due, met or missed.

Given the ToR versions and the facts recorded, when the calendar is read on a day, then
each obligation stands as its rule says (docs/obligations.md).
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, time, timedelta

import msgspec
import pytest

from domain.cadence import MeetingFact
from domain.obligations import (
    ACTION_NOTICE_DAYS,
    HORIZON_MONTHS,
    MINUTES_APPROVAL_DAYS,
    MINUTES_PUBLICATION_DAYS,
    NOTICE_MONTHS,
    VACANCY_FILL_DAYS,
    ActionItemFact,
    ElectionFact,
    Facts,
    HoldingFact,
    MinutesFact,
    Obligation,
    ReviewFact,
    SeatFact,
    WorkPlanFact,
    missed_since,
    newly_missed,
    obligations,
)
from domain.rules import Rules, Seat
from domain.templates import TEMPLATES
from domain.terms import TermsOfReference, Version, add_months
from tests.unit.tor import ACIC, FJA, KCA, SSF, TODAY, terms_of

FIRST_DAY = TODAY  # 2026-11-23: the day the ToR of tor.py took effect
DAY = timedelta(days=1)


def calendar(
    terms: Version | list[Version],
    today: date,
    *,
    start: date | None = None,
    **facts: object,
) -> list[Obligation]:
    versions = terms if isinstance(terms, list) else [terms]
    return obligations(
        versions=versions, facts=msgspec.convert(facts, Facts), today=today, start=start
    )


def kind(cal: list[Obligation], name: str) -> list[Obligation]:
    return [o for o in cal if o.kind == name]


def one(cal: list[Obligation], key: str) -> Obligation:
    (found,) = [o for o in cal if o.key == key]
    return found


def meeting(meeting_id: str, on: date, body: str = "full-membership", status: str = "held"):
    return MeetingFact(meeting_id=meeting_id, body=body, on=on, status=status)


def amended(version: Version, effective_from: date, **changes: object) -> Version:
    """Version 2: the rules of `version` with some changed, in force from a date."""
    rules = msgspec.structs.replace(version.rules, **changes)
    return dataclasses.replace(
        version,
        number=version.number + 1,
        effective_from=effective_from,
        adopted_at=datetime.combine(effective_from, time(9), tzinfo=UTC),
        rules=rules,
    )


def heading(terms: Version, number: str | None) -> str:
    """The heading of the clause an obligation cites."""
    (clause,) = [c for c in terms.clauses if c.number == number]
    return clause.heading


def adopted_on(name: str, effective_from: date) -> Version:
    doc = TEMPLATES[name]
    terms = TermsOfReference.adopt(
        slug="the-alliance",
        template=name,
        clauses=doc.clauses,
        rules=doc.rules,
        effective_from=effective_from,
        adopted_by="key:founder",
    )
    return terms.versions[0]


# --------------------------------------------------------------------------- every template


def expected_kinds(rules: Rules) -> dict[str, int]:
    """What a fresh alliance owes in its first twelve months, from its rules: every
    periodic meeting of the first ToR year, the first work plan (due in the calendar
    year after a late-November founding), the first review if it falls within the year,
    and every required seat. No meeting is held, so no minutes or prepared meetings."""
    expected = {
        "meeting": sum(rule.per_year or 0 for rule in rules.meetings),
        "work-plan": 1 if rules.work_plan.required else 0,
        "tor-review": 1 if rules.review.cadence_months <= 12 else 0,
        "seat-vacant": sum(len(body.required_seats) for body in rules.bodies),
    }
    return {k: n for k, n in expected.items() if n}


@pytest.mark.parametrize("name", sorted(TEMPLATES))
def test_each_template_gives_a_fresh_alliance_the_calendar_its_rules_call_for(name):
    terms = terms_of(name)

    cal = calendar(terms, FIRST_DAY)

    counts = {k: len(kind(cal, k)) for k in {o.kind for o in cal}}
    assert counts == expected_kinds(terms.rules)
    assert all(o.state in {"due", "upcoming"} for o in cal)
    assert all(o.clause is not None for o in cal)
    assert all(o.under_version == 1 for o in cal)
    assert len({o.key for o in cal}) == len(cal)
    assert [o.due_on for o in cal] == sorted(o.due_on for o in cal)


def test_the_templates_differ_where_their_rules_do():
    # Two of five require a work plan; one has required seats; one reviews three-yearly.
    assert [
        n for n in sorted(TEMPLATES) if kind(calendar(terms_of(n), FIRST_DAY), "work-plan")
    ] == [
        "kinship-care",
        "kinship-network",
    ]
    assert len(kind(calendar(FJA, FIRST_DAY), "seat-vacant")) == 6
    assert kind(calendar(ACIC, FIRST_DAY), "tor-review") == []


def test_the_calendar_reaches_a_year_ahead_and_no_further():
    today = date(2027, 6, 1)
    horizon = add_months(today, HORIZON_MONTHS)

    cal = calendar(FJA, today)

    assert max(o.window_start for o in cal) < horizon
    # The quarters of the second ToR year that open before the horizon are there.
    assert one(cal, "meeting:full-membership:2028-02-23..2028-05-22").state == "upcoming"
    assert not [o for o in cal if o.window_start >= horizon]


def test_an_onboarding_start_drops_what_fell_due_before_it_but_keeps_the_periods():
    start = date(2027, 3, 1)

    cal = calendar(FJA, date(2027, 6, 1), start=start)

    assert min(o.due_on for o in cal) >= start
    # Periods still count from the ToR's effective date: the quarter open on the start day.
    assert one(cal, "meeting:full-membership:2027-02-23..2027-05-22").state == "missed"
    assert not [o for o in cal if o.key.startswith("meeting:full-membership:2026-11-23")]


def test_the_calendar_needs_a_tor():
    with pytest.raises(ValueError, match="version 1"):
        obligations(versions=[], facts=Facts(), today=TODAY)


# --------------------------------------------------------------------------- meetings


def test_meeting_obligations_are_the_compliance_calendars_requirements():
    cal = calendar(
        FJA,
        date(2027, 6, 1),
        meetings=[
            meeting("q1", date(2027, 1, 10)),
            meeting("q3", date(2027, 6, 30), status="scheduled"),
        ],
    )

    quarters = kind(cal, "meeting")[:4]
    assert [o.key for o in quarters] == [
        "meeting:full-membership:2026-11-23..2027-02-22",
        "meeting:full-membership:2027-02-23..2027-05-22",
        "meeting:full-membership:2027-05-23..2027-08-22",
        "meeting:full-membership:2027-08-23..2027-11-22",
    ]
    assert [o.state for o in quarters] == ["met", "missed", "due", "upcoming"]
    assert quarters[0].met_by == ("q1",)
    assert quarters[2].met_by == ()  # scheduled is not held
    assert {o.owner["body"] for o in quarters} == {"full-membership"}
    assert {o.rule for o in quarters} == {"meetings.full-membership.per_year"}
    assert {heading(FJA, o.clause) for o in quarters} == {"Meetings"}


def test_a_quarter_is_due_on_its_last_day_and_missed_the_day_after():
    last = date(2027, 2, 22)

    assert one(calendar(FJA, last), "meeting:full-membership:2026-11-23..2027-02-22").state == "due"
    assert (
        one(calendar(FJA, last + DAY), "meeting:full-membership:2026-11-23..2027-02-22").state
        == "missed"
    )


def test_a_committee_meeting_before_each_main_meeting_is_an_obligation_of_the_committee():
    full = date(2027, 3, 15)
    cal = calendar(
        KCA,
        date(2027, 4, 1),
        meetings=[meeting("full", full), meeting("exec", date(2027, 2, 14), "executive-committee")],
    )

    prepared = one(cal, "meeting:executive-committee:before:full")
    assert (prepared.state, prepared.met_by) == ("met", ("exec",))
    assert prepared.owner == {"body": "executive-committee"}
    assert heading(KCA, prepared.clause) == "Executive meetings"


def test_a_new_meeting_rule_applies_from_the_next_tor_year():
    # Amended in the middle of year 1: six meetings a year from 1 May 2027.
    rule = msgspec.structs.replace(FJA.rules.meetings[0], per_year=6)
    v2 = amended(FJA, date(2027, 5, 1), meetings=(rule, *FJA.rules.meetings[1:]))

    cal = calendar([FJA, v2], date(2027, 11, 1))

    year_one = [o for o in kind(cal, "meeting") if o.window_start < date(2027, 11, 23)]
    year_two = [o for o in kind(cal, "meeting") if o.window_start >= date(2027, 11, 23)]
    assert len(year_one) == 4
    assert {o.under_version for o in year_one} == {1}
    assert year_two[0].key == "meeting:full-membership:2027-11-23..2028-01-22"  # two months
    assert {o.under_version for o in year_two} == {2}


# --------------------------------------------------------------------------- minutes

HELD = date(2027, 1, 10)
NEXT = date(2027, 4, 12)


def minutes(**fields: object) -> MinutesFact:
    given: dict[str, object] = {
        "minutes_id": "min-1",
        "meeting_id": "m1",
        "body": "full-membership",
        "held_on": HELD,
    }
    return msgspec.convert({**given, **fields}, MinutesFact)


def with_next_meeting(**fields: object) -> dict[str, object]:
    return {
        "meetings": [meeting("m1", HELD), meeting("m2", NEXT, status="scheduled")],
        "minutes": [minutes(**fields)],
    }


def test_minutes_are_approved_by_the_next_meeting_of_the_approving_body():
    cal = calendar(FJA, date(2027, 2, 1), **with_next_meeting())

    approval = one(cal, "minutes-approval:m1")
    assert (approval.window_start, approval.due_on) == (HELD, NEXT)
    assert approval.state == "due"
    assert approval.owner == {"body": "full-membership"}
    assert heading(FJA, approval.clause) == "Minutes"
    assert kind(cal, "minutes-publication") == []  # nothing to publish before approval


def test_minutes_approved_at_the_next_meeting_meet_it():
    cal = calendar(FJA, NEXT + DAY, **with_next_meeting(approved_on=NEXT))

    approval = one(cal, "minutes-approval:m1")
    assert (approval.state, approval.met_by) == ("met", ("min-1",))


@pytest.mark.parametrize(("today", "state"), [(NEXT, "due"), (NEXT + DAY, "missed")])
def test_unapproved_minutes_are_due_on_the_next_meeting_day_and_missed_after(today, state):
    assert one(calendar(FJA, today, **with_next_meeting()), "minutes-approval:m1").state == state


def test_a_held_meeting_with_no_minutes_drafted_still_owes_approved_minutes():
    cal = calendar(FJA, NEXT + DAY, meetings=[meeting("m1", HELD), meeting("m2", NEXT)])

    assert one(cal, "minutes-approval:m1").state == "missed"
    assert one(cal, "minutes-approval:m2").state == "due"


def test_with_no_next_meeting_on_record_minutes_are_approved_within_a_quarter():
    cal = calendar(FJA, HELD + DAY, meetings=[meeting("m1", HELD)])

    approval = one(cal, "minutes-approval:m1")
    assert approval.due_on == HELD + timedelta(days=MINUTES_APPROVAL_DAYS)


def test_minutes_approved_late_are_missed_and_name_the_late_approval():
    cal = calendar(FJA, NEXT + 10 * DAY, **with_next_meeting(approved_on=NEXT + 5 * DAY))

    approval = one(cal, "minutes-approval:m1")
    assert (approval.state, approval.met_by) == ("missed", ("min-1",))


def test_a_cancelled_next_meeting_does_not_set_the_approval_date():
    cal = calendar(
        FJA,
        HELD + DAY,
        meetings=[meeting("m1", HELD), meeting("gone", date(2027, 2, 1), status="cancelled")],
    )

    assert one(cal, "minutes-approval:m1").due_on == HELD + timedelta(days=MINUTES_APPROVAL_DAYS)


def test_minutes_another_body_approves_wait_for_that_bodys_next_meeting():
    rules = msgspec.structs.replace(
        FJA.rules, minutes=msgspec.structs.replace(FJA.rules.minutes, approved_by="full-membership")
    )
    terms = terms_of("family-justice", rules)
    cal = calendar(
        terms,
        HELD + DAY,
        meetings=[
            meeting("sg", HELD, "steering-group"),
            meeting("sg-next", date(2027, 2, 1), "steering-group", status="scheduled"),
            meeting("full", NEXT, status="scheduled"),
        ],
    )

    approval = one(cal, "minutes-approval:sg")
    assert approval.owner == {"body": "full-membership"}
    assert approval.due_on == NEXT
    assert approval.rule == "minutes.approved_by"


def test_when_meetings_need_no_minutes_there_is_no_approval_obligation():
    rules = msgspec.structs.replace(
        FJA.rules,
        minutes=msgspec.structs.replace(FJA.rules.minutes, every_meeting_minuted=False),
    )
    cal = calendar(terms_of("family-justice", rules), NEXT, meetings=[meeting("m1", HELD)])

    assert kind(cal, "minutes-approval") == []


PUBLISH_BY = NEXT + timedelta(days=MINUTES_PUBLICATION_DAYS)


def test_approved_minutes_are_published_within_the_publication_days():
    cal = calendar(FJA, NEXT + DAY, **with_next_meeting(approved_on=NEXT))

    publication = one(cal, "minutes-publication:min-1")
    assert (publication.window_start, publication.due_on) == (NEXT, PUBLISH_BY)
    assert publication.state == "due"
    assert publication.rule == "minutes.published_by_default"


@pytest.mark.parametrize(
    ("published_on", "today", "state"),
    [
        (PUBLISH_BY, PUBLISH_BY + DAY, "met"),
        (None, PUBLISH_BY, "due"),
        (None, PUBLISH_BY + DAY, "missed"),
        (PUBLISH_BY + DAY, PUBLISH_BY + DAY, "missed"),
    ],
    ids=["published-on-the-last-day", "last-day", "day-after", "a-day-late"],
)
def test_publication_is_met_up_to_its_last_day(published_on, today, state):
    cal = calendar(FJA, today, **with_next_meeting(approved_on=NEXT, published_on=published_on))

    assert one(cal, "minutes-publication:min-1").state == state


def test_minutes_drafted_for_a_meeting_the_calendar_has_not_seen_still_owe_approval():
    cal = calendar(FJA, HELD + DAY, minutes=[minutes()])

    assert one(cal, "minutes-approval:m1").state == "due"


def test_publication_falls_to_the_office_the_tor_name_to_circulate_minutes():
    given = msgspec.structs.replace(FJA.rules.minutes, circulated_by="chair")
    terms = terms_of("family-justice", msgspec.structs.replace(FJA.rules, minutes=given))

    cal = calendar(terms, NEXT + DAY, **with_next_meeting(approved_on=NEXT))

    assert one(cal, "minutes-publication:min-1").owner == {"office": "chair"}


def test_publication_otherwise_falls_to_the_body_that_approved_the_minutes():
    given = msgspec.structs.replace(FJA.rules.minutes, approved_by="full-membership")
    terms = terms_of("family-justice", msgspec.structs.replace(FJA.rules, minutes=given))
    steering = minutes(body="steering-group", approved_on=NEXT)

    cal = calendar(terms, NEXT + DAY, minutes=[steering])

    assert one(cal, "minutes-publication:min-1").owner == {"body": "full-membership"}


def test_confidential_minutes_owe_no_publication():
    cal = calendar(FJA, NEXT + DAY, **with_next_meeting(approved_on=NEXT, confidential=True))

    assert kind(cal, "minutes-publication") == []
    assert one(cal, "minutes-approval:m1").state == "met"


def test_minutes_a_tor_keeps_for_the_membership_owe_no_publication():
    cal = calendar(ACIC, PUBLISH_BY + DAY, **with_next_meeting(approved_on=NEXT))

    assert kind(cal, "minutes-publication") == []
    assert one(cal, "minutes-approval:m1").state == "met"


# --------------------------------------------------------------------------- work plan


def test_a_required_work_plan_is_agreed_in_the_first_quarter_of_each_calendar_year():
    cal = calendar(KCA, date(2027, 2, 1))

    plan = one(cal, "work-plan:2027")
    assert (plan.window_start, plan.due_on) == (date(2027, 1, 1), date(2027, 3, 31))
    assert plan.state == "due"
    assert plan.owner == {"body": "executive-committee"}
    assert heading(KCA, plan.clause) == "Work plan"


@pytest.mark.parametrize(
    ("agreed_on", "today", "state", "met_by"),
    [
        (date(2027, 3, 31), date(2027, 4, 1), "met", ("work-plan:2027",)),
        (date(2026, 12, 15), date(2027, 1, 2), "met", ("work-plan:2027",)),  # agreed ahead
        (None, date(2027, 3, 31), "due", ()),
        (None, date(2027, 4, 1), "missed", ()),
        (date(2027, 4, 2), date(2027, 4, 3), "missed", ("work-plan:2027",)),
    ],
)
def test_the_work_plan_is_met_when_agreed_by_31_march(agreed_on, today, state, met_by):
    cal = calendar(KCA, today, work_plans=[WorkPlanFact(year=2027, agreed_on=agreed_on)])

    plan = one(cal, "work-plan:2027")
    assert (plan.state, plan.met_by) == (state, met_by)


def test_an_alliance_founded_mid_year_agrees_its_first_plan_within_three_months():
    terms = adopted_on("kinship-network", date(2027, 6, 10))

    cal = calendar(terms, date(2027, 6, 10))

    plan = one(cal, "work-plan:2027")
    assert (plan.window_start, plan.due_on) == (date(2027, 6, 10), date(2027, 9, 9))


def test_an_alliance_founded_in_the_last_quarter_agrees_its_first_plan_next_year():
    terms = adopted_on("kinship-network", date(2027, 10, 2))

    cal = calendar(terms, date(2027, 10, 2))

    assert [o.key for o in kind(cal, "work-plan")] == ["work-plan:2028"]


def test_no_work_plan_is_owed_where_the_tor_require_none():
    assert kind(calendar(FJA, date(2027, 6, 1)), "work-plan") == []


def test_a_work_plan_requirement_added_mid_year_applies_from_the_next_year():
    v2 = amended(
        FJA,
        date(2027, 2, 1),
        work_plan=msgspec.structs.replace(FJA.rules.work_plan, required=True),
    )

    cal = calendar([FJA, v2], date(2027, 6, 1))

    assert [o.key for o in kind(cal, "work-plan")] == ["work-plan:2028"]
    assert one(cal, "work-plan:2028").under_version == 2


def test_an_agreed_plan_is_evaluated_from_october_to_the_end_of_next_march():
    agreed = WorkPlanFact(year=2027, agreed_on=date(2027, 3, 1))
    evaluated = WorkPlanFact(year=2027, agreed_on=date(2027, 3, 1), evaluated_on=date(2028, 2, 1))

    open_one = one(
        calendar(KCA, date(2027, 10, 1), work_plans=[agreed]), "work-plan-evaluation:2027"
    )
    late = one(calendar(KCA, date(2028, 4, 1), work_plans=[agreed]), "work-plan-evaluation:2027")
    done = one(calendar(KCA, date(2028, 4, 1), work_plans=[evaluated]), "work-plan-evaluation:2027")

    assert (open_one.window_start, open_one.due_on) == (date(2027, 10, 1), date(2028, 3, 31))
    assert (open_one.state, late.state, done.state) == ("due", "missed", "met")


def test_a_plan_whose_stages_stop_at_delivery_owes_no_evaluation():
    plan = msgspec.structs.replace(KCA.rules.work_plan, stages=("agreed", "delivered"))
    terms = terms_of("kinship-care", msgspec.structs.replace(KCA.rules, work_plan=plan))

    cal = calendar(terms, date(2027, 10, 1), work_plans=[WorkPlanFact(year=2027, agreed_on=HELD)])

    assert kind(cal, "work-plan-evaluation") == []


def test_a_plan_not_agreed_owes_no_evaluation_on_top_of_its_missed_agreement():
    cal = calendar(KCA, date(2028, 4, 1))

    assert one(cal, "work-plan:2027").state == "missed"
    assert kind(cal, "work-plan-evaluation") == []


# --------------------------------------------------------------------------- ToR review

REVIEW_DUE = date(2027, 11, 23)


def review(concluded_on: date | None, review_id: str = "r1") -> ReviewFact:
    return ReviewFact(review_id=review_id, opened_on=date(2027, 8, 1), concluded_on=concluded_on)


def test_an_annual_review_is_due_a_year_after_the_tor_took_effect():
    cal = calendar(FJA, date(2027, 9, 1))

    due = one(cal, f"tor-review:{REVIEW_DUE}")
    assert due.window_start == add_months(REVIEW_DUE, -NOTICE_MONTHS)
    assert due.state == "due"
    assert due.owner == {"body": "full-membership"}
    assert due.rule == "review.cadence_months"
    assert heading(FJA, due.clause) == "Monitoring and review"


@pytest.mark.parametrize(
    ("concluded_on", "today", "state"),
    [
        (REVIEW_DUE, REVIEW_DUE + DAY, "met"),  # the last day
        (date(2027, 5, 1), REVIEW_DUE + DAY, "met"),  # early in the cycle still counts
        (None, REVIEW_DUE, "due"),
        (None, REVIEW_DUE + DAY, "missed"),
        (REVIEW_DUE + DAY, REVIEW_DUE + DAY, "missed"),  # a day late: the next cycle's
        # concluded on the day the cycle began: the next is still due a cadence on
        (date(2026, 11, 23), REVIEW_DUE + DAY, "missed"),
    ],
)
def test_a_review_concluded_within_its_cycle_meets_it(concluded_on, today, state):
    cal = calendar(FJA, today, reviews=[review(concluded_on)])

    assert one(cal, f"tor-review:{REVIEW_DUE}").state == state


def test_a_late_review_does_not_undo_the_miss_and_starts_the_next_cycle():
    late = REVIEW_DUE + DAY
    cal = calendar(FJA, late, reviews=[review(late)])

    missed = one(cal, f"tor-review:{REVIEW_DUE}")
    assert (missed.state, missed.met_by) == ("missed", ("r1",))
    following = one(cal, f"tor-review:{add_months(late, 12)}")
    assert (following.state, following.met_by) == ("upcoming", ())


def test_the_next_review_is_due_a_cadence_after_the_last_one():
    cal = calendar(FJA, date(2028, 11, 24), reviews=[review(date(2027, 10, 1))])

    assert one(cal, f"tor-review:{REVIEW_DUE}").state == "met"
    assert one(cal, "tor-review:2028-10-01").state == "missed"


def test_an_unmet_review_stays_missed_rather_than_falling_due_again():
    cal = calendar(FJA, date(2029, 6, 1))

    (only,) = kind(cal, "tor-review")
    assert (only.key, only.state) == (f"tor-review:{REVIEW_DUE}", "missed")


def test_the_review_due_date_agrees_with_the_aggregate():
    terms = TermsOfReference.adopt(
        slug="the-alliance",
        template="family-justice",
        clauses=FJA.clauses,
        rules=FJA.rules,
        effective_from=FIRST_DAY,
        adopted_by="key:founder",
    )
    (due,) = kind(calendar(terms.versions[0], FIRST_DAY), "tor-review")
    assert due.due_on == terms.review_due_on()


def test_an_open_review_does_not_meet_it():
    cal = calendar(FJA, REVIEW_DUE + DAY, reviews=[review(None)])

    assert one(cal, f"tor-review:{REVIEW_DUE}").state == "missed"


def test_a_three_yearly_review_is_due_three_years_on():
    cal = calendar(ACIC, date(2029, 9, 1))

    (due,) = kind(cal, "tor-review")
    assert due.key == "tor-review:2029-11-23"
    assert due.state == "due"


def test_an_adopted_amendment_restarts_the_cycle_on_its_cadence():
    v2 = amended(
        FJA,
        date(2027, 3, 1),
        review=msgspec.structs.replace(FJA.rules.review, cadence_months=36),
    )

    cal = calendar([FJA, v2], date(2030, 9, 1))

    # Adopting version 2 meets the first cycle and starts the next, on its cadence.
    assert [(o.key, o.state) for o in kind(cal, "tor-review")] == [
        ("tor-review:2027-11-23", "met"),
        ("tor-review:2030-03-01", "missed"),
    ]
    assert [o.under_version for o in kind(cal, "tor-review")] == [1, 2]


# --------------------------------------------------------------------------- offices

TERM_END = add_months(FIRST_DAY, 24)  # the separated-families chair serves two years
CHAIR = HoldingFact(holding_id="h1", office="chair", starts_on=FIRST_DAY, ends_on=TERM_END)


def successor(starts_on: date = TERM_END, holding_id: str = "h2") -> HoldingFact:
    return HoldingFact(
        holding_id=holding_id,
        office="chair",
        starts_on=starts_on,
        ends_on=add_months(starts_on, 24),
    )


def election(closed_on: date, election_id: str = "e1") -> ElectionFact:
    return ElectionFact(
        election_id=election_id,
        office="chair",
        opened_on=closed_on - timedelta(days=30),
        closed_on=closed_on,
    )


def test_an_elected_term_ending_owes_a_holder_from_then_and_an_election_before():
    cal = calendar(SSF, TERM_END - timedelta(days=30), holdings=[CHAIR])

    term = one(cal, "term-end:h1")
    vote = one(cal, f"election:chair:{TERM_END}")
    for obligation in (term, vote):
        assert obligation.due_on == TERM_END
        assert obligation.window_start == add_months(TERM_END, -NOTICE_MONTHS)
        assert obligation.state == "due"
        assert obligation.owner == {"body": "full-membership"}
        assert heading(SSF, obligation.clause) == "Chair"
    assert (term.rule, vote.rule) == ("offices.chair.term_months", "offices.chair.selection")


def test_an_election_closed_and_a_successor_taking_office_on_the_day_meet_them():
    cal = calendar(
        SSF,
        TERM_END + DAY,
        holdings=[CHAIR, successor()],
        elections=[election(TERM_END - timedelta(days=7))],
    )

    assert one(cal, "term-end:h1").met_by == ("h2",)
    assert one(cal, f"election:chair:{TERM_END}").met_by == ("e1",)
    assert {o.state for o in cal if o.key in {"term-end:h1", f"election:chair:{TERM_END}"}} == {
        "met"
    }


def test_a_term_ending_with_no_election_and_no_holder_is_missed_the_day_after():
    cal = calendar(SSF, TERM_END + DAY, holdings=[CHAIR])

    assert one(cal, "term-end:h1").state == "missed"
    assert one(cal, f"election:chair:{TERM_END}").state == "missed"


def test_an_election_closed_before_the_window_does_not_count():
    early = add_months(TERM_END, -NOTICE_MONTHS) - DAY

    cal = calendar(SSF, TERM_END + DAY, holdings=[CHAIR], elections=[election(early)])

    assert one(cal, f"election:chair:{TERM_END}").state == "missed"


def test_a_holder_leaving_on_the_day_the_term_ends_leaves_no_early_vacancy():
    chair = msgspec.structs.replace(CHAIR, left_on=TERM_END)

    cal = calendar(SSF, TERM_END, holdings=[chair])

    assert [o.kind for o in cal if o.key.endswith(":h1")] == ["term-end"]


def test_one_election_meets_one_term_end_only():
    # Two co-chairs whose terms end a month apart, and one election held in both windows.
    first_end, second_end = add_months(FIRST_DAY, 24), add_months(FIRST_DAY, 25)
    holdings = [
        HoldingFact(holding_id="co-1", office="co-chair", starts_on=FIRST_DAY, ends_on=first_end),
        HoldingFact(
            holding_id="co-2",
            office="co-chair",
            starts_on=add_months(FIRST_DAY, 1),
            ends_on=second_end,
        ),
    ]
    vote = ElectionFact(
        election_id="e1", office="co-chair", opened_on=HELD, closed_on=first_end - DAY
    )

    cal = calendar(ACIC, second_end + DAY, holdings=holdings, elections=[vote])

    assert one(cal, f"election:co-chair:{first_end}").met_by == ("e1",)
    assert one(cal, f"election:co-chair:{second_end}").state == "missed"


def test_an_appointed_term_ending_owes_no_election():
    ends = add_months(FIRST_DAY, 36)
    chair = HoldingFact(holding_id="h1", office="chair", starts_on=FIRST_DAY, ends_on=ends)

    cal = calendar(KCA, ends - DAY, holdings=[chair])

    assert one(cal, "term-end:h1").owner == {"body": "executive-committee"}
    assert kind(cal, "election") == []


def test_an_office_held_until_replaced_owes_nothing_until_it_is_left():
    chair = HoldingFact(holding_id="h1", office="chair", starts_on=FIRST_DAY)

    assert kind(calendar(FJA, date(2027, 6, 1), holdings=[chair]), "term-end") == []


def test_a_holder_leaving_early_leaves_the_office_to_be_filled():
    left = date(2027, 5, 1)
    chair = msgspec.structs.replace(CHAIR, left_on=left)
    fill_by = left + timedelta(days=VACANCY_FILL_DAYS)

    vacant = one(calendar(SSF, left, holdings=[chair]), "office-vacant:h1")
    filled = one(
        calendar(SSF, fill_by + DAY, holdings=[chair, successor(fill_by)]), "office-vacant:h1"
    )
    late = one(
        calendar(SSF, fill_by + 2 * DAY, holdings=[chair, successor(fill_by + DAY)]),
        "office-vacant:h1",
    )

    assert (vacant.window_start, vacant.due_on, vacant.state) == (left, fill_by, "due")
    assert (filled.state, filled.met_by) == ("met", ("h2",))
    assert (late.state, late.met_by) == ("missed", ("h2",))
    assert kind(calendar(SSF, left, holdings=[chair]), "term-end") == []


def test_two_co_chairs_ending_together_need_two_holders_and_one_election():
    ends = add_months(FIRST_DAY, 24)
    holdings = [
        HoldingFact(holding_id=f"co-{n}", office="co-chair", starts_on=FIRST_DAY, ends_on=ends)
        for n in (1, 2)
    ]
    newcomer = HoldingFact(holding_id="co-3", office="co-chair", starts_on=ends)

    cal = calendar(ACIC, ends + DAY, holdings=[*holdings, newcomer])

    assert sorted(o.state for o in kind(cal, "term-end")) == ["met", "missed"]
    assert len(kind(cal, "election")) == 1


def test_a_co_holders_term_starting_long_before_is_no_successor():
    ends = add_months(FIRST_DAY, 24)
    first = HoldingFact(holding_id="co-1", office="co-chair", starts_on=FIRST_DAY, ends_on=ends)
    second = HoldingFact(
        holding_id="co-2", office="co-chair", starts_on=date(2027, 6, 1), ends_on=date(2029, 6, 1)
    )

    cal = calendar(ACIC, ends + DAY, holdings=[first, second])

    assert one(cal, "term-end:co-1").state == "missed"


# --------------------------------------------------------------------------- required seats

SEAT_FILL_BY = FIRST_DAY + timedelta(days=VACANCY_FILL_DAYS)


def seat(
    seat_id: str, starts_on: date, *, key: str = "mediator", left_on: date | None = None
) -> SeatFact:
    return SeatFact(
        seat_id=seat_id, body="steering-group", seat=key, starts_on=starts_on, left_on=left_on
    )


def test_every_required_seat_is_vacant_from_the_start_until_filled():
    cal = calendar(FJA, FIRST_DAY)

    mediator = one(cal, f"seat-vacant:steering-group:mediator:{FIRST_DAY}")
    assert (mediator.window_start, mediator.due_on) == (FIRST_DAY, SEAT_FILL_BY)
    assert mediator.owner == {"body": "full-membership"}  # it agrees who sits there
    assert mediator.rule == "bodies.steering-group.required_seats"
    assert heading(FJA, mediator.clause) == "Steering group"


def test_a_seat_filled_from_the_first_day_is_never_vacant():
    cal = calendar(FJA, FIRST_DAY, seats=[seat("s1", FIRST_DAY)])

    keys = {o.key for o in kind(cal, "seat-vacant")}
    assert f"seat-vacant:steering-group:mediator:{FIRST_DAY}" not in keys
    assert len(keys) == 5


@pytest.mark.parametrize(
    ("filled_on", "state"), [(SEAT_FILL_BY, "met"), (SEAT_FILL_BY + DAY, "missed")]
)
def test_a_vacant_seat_is_filled_within_the_fill_days(filled_on, state):
    cal = calendar(FJA, SEAT_FILL_BY + DAY, seats=[seat("s1", filled_on)])

    mediator = one(cal, f"seat-vacant:steering-group:mediator:{FIRST_DAY}")
    assert (mediator.state, mediator.met_by) == (state, ("s1",))


def test_a_seat_left_falls_vacant_again_from_that_day():
    left = date(2027, 6, 1)

    cal = calendar(FJA, left + DAY, seats=[seat("s1", FIRST_DAY, left_on=left)])

    again = one(cal, f"seat-vacant:steering-group:mediator:{left}")
    assert (again.due_on, again.state) == (left + timedelta(days=VACANCY_FILL_DAYS), "due")


def test_a_successor_taking_the_seat_the_day_it_is_left_leaves_no_vacancy():
    left = date(2027, 6, 1)

    cal = calendar(FJA, left + DAY, seats=[seat("s1", FIRST_DAY, left_on=left), seat("s2", left)])

    assert not [o for o in kind(cal, "seat-vacant") if ":mediator:" in o.key]


def test_each_vacancy_of_a_seat_is_its_own_obligation():
    first, second = date(2027, 2, 1), date(2027, 6, 1)
    seats = [
        seat("s1", first, left_on=date(2027, 5, 1)),
        seat("s2", second, left_on=date(2027, 9, 1)),
    ]

    cal = calendar(FJA, date(2027, 9, 2), seats=seats)

    vacancies = [o for o in kind(cal, "seat-vacant") if ":mediator:" in o.key]
    assert [(o.window_start, o.state, o.met_by) for o in vacancies] == [
        (FIRST_DAY, "met", ("s1",)),
        (date(2027, 5, 1), "met", ("s2",)),
        (date(2027, 9, 1), "due", ()),
    ]


def test_an_amendment_keeping_the_seat_does_not_open_a_second_vacancy():
    v2 = amended(FJA, date(2027, 1, 10), review=FJA.rules.review)

    cal = calendar([FJA, v2], date(2027, 1, 10))

    vacancies = [o for o in kind(cal, "seat-vacant") if ":mediator:" in o.key]
    assert [o.window_start for o in vacancies] == [FIRST_DAY]


def test_a_seat_of_another_kind_does_not_fill_a_required_one():
    cal = calendar(FJA, SEAT_FILL_BY + DAY, seats=[seat("s1", FIRST_DAY, key="solicitor")])

    assert one(cal, f"seat-vacant:steering-group:mediator:{FIRST_DAY}").state == "missed"


def test_a_required_seat_added_by_amendment_is_vacant_from_its_effective_date():
    effective = date(2027, 3, 1)
    steering = FJA.rules.body("steering-group")
    assert steering is not None
    treasurer = Seat(key="treasurer", name="A treasurer")
    bodies = tuple(
        msgspec.structs.replace(b, required_seats=(*b.required_seats, treasurer))
        if b.key == "steering-group"
        else b
        for b in FJA.rules.bodies
    )
    v2 = amended(FJA, effective, bodies=bodies)

    cal = calendar([FJA, v2], effective)

    added = one(cal, f"seat-vacant:steering-group:treasurer:{effective}")
    assert added.under_version == 2
    assert "A treasurer" in added.title


# --------------------------------------------------------------------------- action items

ACTION_DUE = date(2027, 3, 1)


def action(
    completed_on: date | None = None, *, owner_kind: str = "office", owner: str = "chair"
) -> ActionItemFact:
    return msgspec.convert(
        {
            "action_item_id": "a1",
            "owner_kind": owner_kind,
            "owner": owner,
            "raised_on": date(2027, 1, 10),
            "due_on": ACTION_DUE,
            "completed_on": completed_on,
        },
        ActionItemFact,
    )


@pytest.mark.parametrize(
    ("completed_on", "today", "state"),
    [
        (None, ACTION_DUE - timedelta(days=ACTION_NOTICE_DAYS + 1), "upcoming"),
        (None, ACTION_DUE - timedelta(days=ACTION_NOTICE_DAYS), "due"),
        (None, ACTION_DUE, "due"),
        (None, ACTION_DUE + DAY, "missed"),
        (ACTION_DUE, ACTION_DUE + DAY, "met"),
        (date(2027, 1, 12), date(2027, 1, 13), "met"),  # done before the reminder
    ],
)
def test_an_action_item_is_met_when_completed_by_its_due_date(completed_on, today, state):
    cal = calendar(FJA, today, action_items=[action(completed_on)])

    item = one(cal, "action-item:a1")
    assert item.state == state
    assert item.owner == {"office": "chair"}
    assert item.clause is None


def test_an_action_item_raised_close_to_its_due_date_is_due_from_when_it_was_raised():
    raised = ACTION_DUE - timedelta(days=3)
    item = msgspec.structs.replace(action(), raised_on=raised)

    assert one(calendar(FJA, raised, action_items=[item]), "action-item:a1").window_start == raised


# --------------------------------------------------------------------------- no personal data

NAMELIKE = ["jane-smith", "Jane Smith", "mohammed.ali@example.org", "Dr Who"]


def test_titles_carry_tor_names_and_dates_but_never_the_ids_of_the_records():
    # Ids that look like people's names, in every fact that has one.
    a, b, c, d = NAMELIKE
    facts = {
        "meetings": [meeting(a, HELD), meeting(b, NEXT, status="scheduled")],
        "minutes": [minutes(minutes_id=c, meeting_id=a, approved_on=HELD + DAY)],
        "reviews": [review(HELD, review_id=d)],
        "holdings": [
            HoldingFact(holding_id=a, office="chair", starts_on=FIRST_DAY, ends_on=TERM_END),
            HoldingFact(holding_id=b, office="chair", starts_on=TERM_END),
        ],
        "elections": [election(TERM_END - DAY, election_id=c)],
        "action_items": [
            msgspec.structs.replace(action(), action_item_id=d, owner_kind="member", owner=a)
        ],
    }

    cal = calendar(SSF, TERM_END + DAY, **facts)

    assert {o.kind for o in cal} >= {
        "meeting",
        "minutes-approval",
        "minutes-publication",
        "tor-review",
        "term-end",
        "election",
        "action-item",
    }
    for obligation in cal:
        for name in NAMELIKE:
            assert name.lower() not in obligation.title.lower(), obligation
    assert "a member organisation" in one(cal, f"action-item:{d}").title
    assert "Chair" in one(cal, f"term-end:{a}").title


# --------------------------------------------------------------------------- missed, once


def test_missed_since_names_what_turned_missed_between_two_readings():
    facts = {"meetings": [meeting("m1", HELD)], "action_items": [action()]}
    before = calendar(FJA, ACTION_DUE, **facts)
    after = calendar(FJA, ACTION_DUE + DAY, **facts)

    turned = missed_since(before, after)

    assert [o.key for o in turned] == ["action-item:a1"]
    assert missed_since(after, after) == []


def test_newly_missed_leaves_out_the_misses_already_recorded():
    cal = calendar(FJA, date(2027, 6, 1))
    missed = [o.key for o in cal if o.state == "missed"]
    assert len(missed) >= 2

    assert [o.key for o in newly_missed(cal, set())] == missed
    assert [o.key for o in newly_missed(cal, set(missed[:1]))] == missed[1:]
    assert newly_missed(cal, set(missed)) == []


def test_keys_stay_the_same_from_one_day_to_the_next():
    facts = {"meetings": [meeting("m1", HELD)], "seats": [seat("s1", FIRST_DAY)]}
    monday = calendar(FJA, date(2027, 3, 1), **facts)
    tuesday = calendar(FJA, date(2027, 3, 2), **facts)

    assert {o.key for o in monday} == {o.key for o in tuesday}


def test_an_obligation_is_plain_json():
    cal = calendar(FJA, date(2027, 6, 1), meetings=[meeting("m1", HELD)])

    data = msgspec.json.decode(msgspec.json.encode(cal))

    assert msgspec.convert(data, list[Obligation]) == cal
    assert data[0].keys() >= {"key", "kind", "title", "due_on", "owner", "state", "met_by"}
