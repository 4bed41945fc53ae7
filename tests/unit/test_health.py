"""Governance health from an obligations calendar: each indicator and each state, at its
boundary (domain/health.py)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from domain.health import APPLICATION_WAIT_DAYS, AT_RISK_OUTSTANDING, health
from domain.obligations import Obligation

TODAY = date(2027, 6, 1)
DAY = timedelta(days=1)


def ob(
    kind: str,
    due_on: date,
    state: str,
    *,
    met_by: tuple[str, ...] = (),
    n: int = 0,
    window_start: date | None = None,
) -> Obligation:
    return Obligation(
        key=f"{kind}:{due_on}:{n}",
        kind=kind,  # type: ignore[arg-type]
        title=f"{kind} due by {due_on}",
        window_start=window_start or due_on - timedelta(days=30),
        due_on=due_on,
        owner={"body": "full-membership"},
        state=state,  # type: ignore[arg-type]
        met_by=met_by,
    )


def test_nothing_owed_is_healthy():
    result = health([ob("meeting", TODAY + 30 * DAY, "upcoming")], today=TODAY)

    assert result.state == "healthy" and result.reasons == ()
    assert result.meetings_required == 0 and result.obligations_overdue == 0


def test_meetings_count_over_the_last_twelve_months_only():
    calendar = [
        ob("meeting", date(2026, 5, 31), "missed"),  # a day too old
        ob("meeting", date(2026, 6, 1), "met", met_by=("m1",)),  # the window's first day
        ob("meeting", date(2026, 9, 1), "met", met_by=("m2",)),
        ob("meeting", TODAY - DAY, "missed", n=1),
        ob("meeting", TODAY, "due"),  # not settled yet
    ]

    result = health(calendar, today=TODAY)

    assert (result.meetings_required, result.meetings_held) == (3, 2)
    # A missed meeting is history: in the window's misses, not outstanding.
    assert result.obligations_overdue == 0 and result.missed_last_12_months == 1
    assert result.state == "needs-attention"


def test_fewer_than_half_the_meetings_held_is_at_risk():
    half = [
        ob(
            "meeting",
            TODAY - (10 + i) * DAY,
            "met" if i < 2 else "missed",
            n=i,
            met_by=("m",) if i < 2 else (),
        )
        for i in range(4)
    ]
    under = [
        ob(
            "meeting",
            TODAY - (10 + i) * DAY,
            "met" if i < 1 else "missed",
            n=i,
            met_by=("m",) if i < 1 else (),
        )
        for i in range(4)
    ]

    assert health(half, today=TODAY).state == "needs-attention"
    assert health(under, today=TODAY).state == "at-risk"


def test_an_unmet_review_past_its_date_is_at_risk_but_a_late_one_is_not():
    overdue = health([ob("tor-review", TODAY - DAY, "missed")], today=TODAY)
    late = health([ob("tor-review", TODAY - DAY, "missed", met_by=("r1",))], today=TODAY)

    assert overdue.review_overdue and overdue.state == "at-risk"
    assert overdue.review_due_on == TODAY - DAY
    assert not late.review_overdue and late.state == "needs-attention"


def test_the_next_review_date_comes_from_beyond_the_calendar_when_none_is_listed():
    result = health([], today=TODAY, next_review_on=date(2029, 11, 24))

    assert result.review_due_on == date(2029, 11, 24) and not result.review_overdue


@pytest.mark.parametrize(
    ("outstanding", "state"),
    [(AT_RISK_OUTSTANDING - 1, "needs-attention"), (AT_RISK_OUTSTANDING, "at-risk")],
)
def test_overdue_obligations_tip_into_at_risk_at_the_threshold(outstanding, state):
    calendar = [ob("action-item", TODAY - (5 + i) * DAY, "missed", n=i) for i in range(outstanding)]

    result = health(calendar, today=TODAY)

    assert result.obligations_overdue == outstanding and result.state == state


def test_vacancies_count_while_due_or_overdue_and_unmet():
    calendar = [
        ob("seat-vacant", TODAY + 10 * DAY, "due", n=1),
        ob("seat-vacant", TODAY - 10 * DAY, "missed", n=2),
        ob("seat-vacant", TODAY - 20 * DAY, "missed", met_by=("s",), n=3),  # filled late
        ob("office-vacant", TODAY + 40 * DAY, "upcoming", n=4),
        ob("office-vacant", TODAY - 40 * DAY, "met", met_by=("h",), n=5),
    ]

    assert health(calendar, today=TODAY).seats_vacant == 2


def test_a_term_ended_with_nobody_following_is_at_risk():
    result = health([ob("term-end", TODAY - 3 * DAY, "missed")], today=TODAY)

    assert result.terms_expired == 1 and result.state == "at-risk"


def test_minutes_publication_in_time_and_overdue():
    approved = TODAY - 60 * DAY
    calendar = [
        ob("minutes-publication", approved + 28 * DAY, "met", met_by=("p",), window_start=approved),
        ob("minutes-publication", approved + 28 * DAY, "missed", n=1, window_start=approved),
        ob("minutes-publication", TODAY + 20 * DAY, "due", n=2, window_start=TODAY - 8 * DAY),
    ]

    result = health(calendar, today=TODAY)

    assert (result.minutes_approved, result.minutes_published_in_time) == (3, 1)
    assert result.minutes_publication_overdue == 1


def test_applications_wait_past_the_limit_only_after_it():
    at_limit = TODAY - timedelta(days=APPLICATION_WAIT_DAYS)
    result = health([], today=TODAY, open_applications=[at_limit, at_limit - DAY, TODAY])

    assert result.applications_waiting == 1
    assert result.oldest_application_since == at_limit - DAY
    assert result.state == "needs-attention"


def test_next_due_and_last_activity():
    calendar = [ob("meeting", TODAY + 9 * DAY, "due"), ob("action-item", TODAY + 3 * DAY, "due")]

    result = health(calendar, today=TODAY, last_activity_on=TODAY - 2 * DAY)

    assert result.next_due_on == TODAY + 3 * DAY and result.last_activity_on == TODAY - 2 * DAY
