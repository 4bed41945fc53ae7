"""The compliance calendar: the meetings the ToR requires in a ToR year, and whether each
was held, is scheduled, is still due, is upcoming or was missed.

Given the ToR in force and the meetings known (held, scheduled or cancelled), when the
calendar of a year is read on a day, then each requirement stands as the rules say.
"""

from __future__ import annotations

from datetime import date, timedelta
from itertools import pairwise

import msgspec
import pytest

from domain.cadence import (
    BEFORE_TOLERANCE,
    MeetingFact,
    Requirement,
    YearCalendar,
    tor_year_bounds,
    tor_year_of,
    year_calendar,
)
from domain.terms import Version
from tests.unit.tor import FJA, KCA, TODAY, terms_of

FIRST_DAY = TODAY  # 2026-11-23: the day the ToR of tor.py took effect
QUARTERS = [
    (date(2026, 11, 23), date(2027, 2, 22)),
    (date(2027, 2, 23), date(2027, 5, 22)),
    (date(2027, 5, 23), date(2027, 8, 22)),
    (date(2027, 8, 23), date(2027, 11, 22)),
]


def met(meeting_id: str, on: date, *, body: str = "full-membership", status="held"):
    return MeetingFact(meeting_id=meeting_id, body=body, on=on, status=status)


def calendar(
    meetings: list[MeetingFact], today: date, terms: Version = FJA, *, year: int = 1
) -> YearCalendar:
    return year_calendar(
        year=year,
        first_day=FIRST_DAY,
        version_on=lambda day: terms,
        meetings=meetings,
        today=today,
    )


def of(cal: YearCalendar, body: str) -> list[Requirement]:
    return [r for r in cal.requirements if r.body == body]


def states(cal: YearCalendar, body: str = "full-membership") -> list[str]:
    return [r.state for r in of(cal, body)]


# --------------------------------------------------------------------------- ToR years


def test_a_tor_year_runs_from_the_day_the_tor_took_effect_to_the_day_before_its_anniversary():
    assert tor_year_bounds(FIRST_DAY, 1) == (date(2026, 11, 23), date(2027, 11, 22))
    assert tor_year_bounds(FIRST_DAY, 2) == (date(2027, 11, 23), date(2028, 11, 22))


@pytest.mark.parametrize(
    ("day", "year"),
    [
        (date(2026, 1, 1), 1),  # before the ToR: counted in the first year
        (date(2026, 11, 23), 1),
        (date(2027, 11, 22), 1),
        (date(2027, 11, 23), 2),
        (date(2028, 11, 22), 2),
        (date(2028, 11, 23), 3),
    ],
)
def test_a_day_falls_in_the_tor_year_whose_bounds_hold_it(day, year):
    assert tor_year_of(FIRST_DAY, day) == year


LEAP_START = date(2024, 2, 29)


def test_a_tor_that_took_effect_on_29_february_has_its_anniversary_on_28_february():
    assert tor_year_bounds(LEAP_START, 1) == (date(2024, 2, 29), date(2025, 2, 27))
    assert tor_year_bounds(LEAP_START, 2) == (date(2025, 2, 28), date(2026, 2, 27))
    assert tor_year_bounds(LEAP_START, 5) == (date(2028, 2, 29), date(2029, 2, 27))
    assert tor_year_of(LEAP_START, date(2025, 2, 27)) == 1
    assert tor_year_of(LEAP_START, date(2025, 2, 28)) == 2
    assert tor_year_of(LEAP_START, date(2028, 2, 28)) == 4
    assert tor_year_of(LEAP_START, date(2028, 2, 29)) == 5


@pytest.mark.parametrize("first_day", [FIRST_DAY, LEAP_START, date(2025, 1, 31)])
def test_tor_years_follow_one_another_without_gap_or_overlap(first_day):
    bounds = [tor_year_bounds(first_day, year) for year in range(1, 10)]

    assert bounds[0][0] == first_day
    for (_, end), (next_start, _) in pairwise(bounds):
        assert next_start == end + timedelta(days=1)
    for year, (start, end) in enumerate(bounds, start=1):
        assert tor_year_of(first_day, start) == year
        assert tor_year_of(first_day, end) == year
        assert 365 <= (end - start).days + 1 <= 366


# --------------------------------------------------------------------------- four a year


def test_four_meetings_a_year_split_the_tor_year_into_quarters():
    cal = calendar([], today=FIRST_DAY)

    required = of(cal, "full-membership")
    assert [(r.window_start, r.window_end) for r in required] == QUARTERS
    assert {r.rule for r in required} == {"meetings.full-membership.per_year"}
    assert {r.clause for r in required} == {"5"}
    assert (cal.year, cal.starts_on, cal.ends_on) == (1, *tor_year_bounds(FIRST_DAY, 1))
    assert cal.under_version == 1


def test_a_quarter_with_a_held_meeting_is_held():
    cal = calendar([met("q1", date(2027, 1, 10))], today=date(2027, 6, 1))

    first = of(cal, "full-membership")[0]
    assert first.state == "held"
    assert first.meeting_ids == ("q1",)


def test_a_past_quarter_whose_meeting_was_scheduled_but_never_held_is_missed():
    cal = calendar([met("q2", date(2027, 4, 1), status="scheduled")], today=date(2027, 6, 1))

    second = of(cal, "full-membership")[1]
    assert second.state == "missed"
    assert second.meeting_ids == ()


def test_the_current_quarter_with_no_meeting_is_due_and_later_ones_upcoming():
    cal = calendar([], today=date(2027, 6, 1))

    assert states(cal) == ["missed", "missed", "due", "upcoming"]


def test_a_quarter_with_a_meeting_scheduled_ahead_is_scheduled():
    cal = calendar(
        [
            met("q3", date(2027, 8, 1), status="scheduled"),
            met("q4", date(2027, 9, 1), status="scheduled"),
        ],
        today=date(2027, 6, 1),
    )

    third, fourth = of(cal, "full-membership")[2:]
    assert (third.state, third.meeting_ids) == ("scheduled", ("q3",))
    assert (fourth.state, fourth.meeting_ids) == ("scheduled", ("q4",))


def test_a_whole_year_of_quarters_in_one_view():
    cal = calendar(
        [
            met("q1", date(2027, 1, 10)),
            met("q2", date(2027, 4, 1), status="scheduled"),
            met("q4", date(2027, 10, 1), status="scheduled"),
        ],
        today=date(2027, 6, 1),
    )

    assert states(cal) == ["held", "missed", "due", "scheduled"]


def test_a_quarter_is_held_even_when_the_meeting_was_recorded_late():
    # Held on the quarter's last day, looked at long after.
    cal = calendar([met("q1", QUARTERS[0][1])], today=date(2027, 11, 1))

    assert states(cal)[0] == "held"


def test_a_meeting_just_outside_the_quarter_does_not_count_for_it():
    cal = calendar([met("late", QUARTERS[0][1] + timedelta(days=1))], today=date(2027, 6, 1))

    assert states(cal)[:2] == ["missed", "held"]


@pytest.mark.parametrize("today", [date(2027, 1, 1), date(2027, 6, 1)], ids=["open", "closed"])
def test_cancelled_meetings_do_not_count(today):
    cal = calendar([met("q1", date(2027, 1, 10), status="cancelled")], today=today)

    first = of(cal, "full-membership")[0]
    assert first.state == ("due" if today < QUARTERS[0][1] else "missed")
    assert first.meeting_ids == ()


def test_a_held_meeting_wins_over_a_scheduled_one_in_the_same_quarter():
    cal = calendar(
        [met("extra", date(2027, 2, 1), status="scheduled"), met("q1", date(2027, 1, 10))],
        today=date(2027, 1, 20),
    )

    first = of(cal, "full-membership")[0]
    assert (first.state, first.meeting_ids) == ("held", ("q1",))


def test_meetings_of_other_bodies_and_other_years_do_not_count():
    cal = calendar(
        [
            met("steering", date(2027, 1, 10), body="steering-group"),
            met("last-year", date(2026, 1, 10)),
            met("next-year", date(2028, 1, 10)),
        ],
        today=date(2027, 6, 1),
    )

    assert states(cal) == ["missed", "missed", "due", "upcoming"]


def test_a_body_the_tor_sets_no_cadence_for_has_no_requirement():
    cal = calendar([met("steering", date(2027, 1, 10), body="steering-group")], today=TODAY)

    assert of(cal, "steering-group") == []
    assert [s.body for s in cal.summary] == ["full-membership"]


def test_meetings_a_year_that_do_not_divide_twelve_split_the_year_into_equal_periods():
    rule = FJA.rules.meeting_rule("full-membership")
    assert rule is not None
    five = msgspec.structs.replace(rule, per_year=5)
    meetings = tuple(five if m.key == "full-membership" else m for m in FJA.rules.meetings)
    terms = terms_of("family-justice", msgspec.structs.replace(FJA.rules, meetings=meetings))

    cal = calendar([], today=FIRST_DAY, terms=terms)

    required = of(cal, "full-membership")
    assert len(required) == 5
    assert required[0].window_start == cal.starts_on
    assert required[-1].window_end == cal.ends_on
    for before, after in pairwise(required):
        assert after.window_start == before.window_end + timedelta(days=1)
    lengths = {(r.window_end - r.window_start).days + 1 for r in required}
    assert lengths <= {72, 73}


def test_the_year_follows_the_version_in_force_on_its_first_day():
    asked: list[date] = []

    def version_on(day: date) -> Version:
        asked.append(day)
        return FJA

    year_calendar(year=2, first_day=FIRST_DAY, version_on=version_on, meetings=[], today=TODAY)

    assert asked == [date(2027, 11, 23)]


# --------------------------------------------------------------------------- one month before


FULL = date(2027, 3, 15)  # a full-membership meeting; "one month before" is 15 February


def kinship(meetings: list[MeetingFact], today: date) -> YearCalendar:
    return calendar(meetings, today=today, terms=KCA)


def test_the_executive_meets_about_one_month_before_each_full_membership_meeting():
    cal = kinship(
        [met("full", FULL), met("exec", FULL - timedelta(days=30), body="executive-committee")],
        today=date(2027, 4, 1),
    )

    (required,) = of(cal, "executive-committee")
    assert required.rule == "meetings.executive-committee.before_body"
    assert required.clause == "6.3"
    assert required.before_meeting_id == "full"
    assert required.window_start == date(2027, 2, 15) - BEFORE_TOLERANCE
    assert required.window_end == date(2027, 2, 15) + BEFORE_TOLERANCE
    assert (required.state, required.meeting_ids) == ("held", ("exec",))


def test_an_executive_meeting_ten_days_before_is_too_late_and_the_requirement_is_missed():
    cal = kinship(
        [met("full", FULL), met("exec", FULL - timedelta(days=10), body="executive-committee")],
        today=date(2027, 3, 2),  # the window closed on 1 March
    )

    (required,) = of(cal, "executive-committee")
    assert (required.state, required.meeting_ids) == ("missed", ())


def test_the_executive_requirement_is_due_while_its_window_is_open():
    cal = kinship([met("full", FULL, status="scheduled")], today=date(2027, 2, 20))

    (required,) = of(cal, "executive-committee")
    assert required.state == "due"


def test_the_executive_requirement_is_upcoming_before_its_window_opens():
    cal = kinship([met("full", FULL, status="scheduled")], today=date(2027, 1, 1))

    (required,) = of(cal, "executive-committee")
    assert required.state == "upcoming"


def test_a_scheduled_executive_meeting_in_the_window_is_scheduled():
    cal = kinship(
        [
            met("full", FULL, status="scheduled"),
            met("exec", date(2027, 2, 16), body="executive-committee", status="scheduled"),
        ],
        today=date(2027, 2, 1),
    )

    (required,) = of(cal, "executive-committee")
    assert (required.state, required.meeting_ids) == ("scheduled", ("exec",))


def test_each_full_membership_meeting_needs_its_own_executive_meeting():
    second = date(2027, 6, 15)
    cal = kinship(
        [
            met("full-1", FULL),
            met("full-2", second),
            met("exec-1", FULL - timedelta(days=28), body="executive-committee"),
        ],
        today=date(2027, 7, 1),
    )

    required = of(cal, "executive-committee")
    assert [r.before_meeting_id for r in required] == ["full-1", "full-2"]
    assert [r.state for r in required] == ["held", "missed"]


def test_a_cancelled_full_membership_meeting_needs_no_executive_meeting():
    cal = kinship([met("full", FULL, status="cancelled")], today=date(2027, 4, 1))

    assert of(cal, "executive-committee") == []


@pytest.mark.parametrize("days_in", [0, 10, 14, 21, 29])
def test_a_full_meeting_prepared_before_the_tor_took_effect_needs_no_executive_meeting(days_in):
    cal = kinship([met("early", FIRST_DAY + timedelta(days=days_in))], today=date(2027, 1, 1))

    assert of(cal, "executive-committee") == []


def test_a_full_meeting_a_month_or_more_into_the_tor_needs_an_executive_meeting():
    cal = kinship([met("soon", FIRST_DAY + timedelta(days=40))], today=date(2027, 1, 1))

    (required,) = of(cal, "executive-committee")
    assert required.before_meeting_id == "soon"
    assert required.state == "missed"


def test_the_executive_window_closes_before_the_full_meeting_itself():
    cal = kinship([met("full", FULL)], today=TODAY)

    (required,) = of(cal, "executive-committee")
    assert required.window_end < FULL


# --------------------------------------------------------------------------- the summary


def test_the_summary_counts_every_requirement_of_each_body_once():
    cal = kinship(
        [
            met("q1", date(2027, 1, 10)),
            met("full", FULL),
            met("exec", FULL - timedelta(days=30), body="executive-committee"),
            met("q3", date(2027, 6, 15), status="scheduled"),
            met("q4", date(2027, 10, 1), status="scheduled"),
        ],
        today=date(2027, 6, 1),
    )

    summaries = {s.body: s for s in cal.summary}
    assert set(summaries) == {"full-membership", "executive-committee"}
    for body, summary in summaries.items():
        required = of(cal, body)
        assert summary.required == len(required)
        assert (
            summary.held + summary.scheduled + summary.due + summary.upcoming + summary.missed
            == summary.required
        )
        for state in ("held", "scheduled", "due", "upcoming", "missed"):
            assert getattr(summary, state) == [r.state for r in required].count(state)
    full = summaries["full-membership"]
    assert (full.required, full.held, full.scheduled) == (4, 2, 2)
    # One executive meeting per full-membership meeting: around 10 December (none held),
    # 15 February (held), 15 May (none held) and 1 September (not yet open).
    executive = summaries["executive-committee"]
    assert (executive.required, executive.held, executive.missed, executive.upcoming) == (
        4,
        1,
        2,
        1,
    )
