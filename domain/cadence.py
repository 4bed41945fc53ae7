"""The compliance calendar of meetings: which meetings the ToR requires in a ToR year, and
whether each was held, is scheduled, is still due, or was missed.

A ToR year runs from the day version 1 took effect (and each anniversary). The rules of a
year are those of the version in force on its first day. Two kinds of requirement:

* `per_year: N` — the year is split into N equal periods (quarters for four a year) and
  each period needs one held meeting of the body ("the Alliance will meet quarterly").
* `before_body: B, months_before: M` — each meeting of body B needs a meeting of this body
  about M months before it: on a day within 14 days either side of B's date less M months
  ("the executive meets one month before each full membership meeting"). A meeting whose
  preparatory day (its date less M months) falls before the ToR took effect needs none.

A requirement is *held* when a held meeting meets it; *scheduled* when only a scheduled
one does (and its window is still open); *missed* once its window has closed with no held
meeting; otherwise *due* (its window is open) or *upcoming*.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, timedelta
from typing import Literal

import msgspec

from domain.rules import clause_for
from domain.terms import Version, add_months

State = Literal["held", "scheduled", "due", "upcoming", "missed"]
#: How far either side of "M months before" a preparatory meeting may fall.
BEFORE_TOLERANCE = timedelta(days=14)


class MeetingFact(msgspec.Struct, frozen=True, kw_only=True):
    """What the calendar needs to know of one meeting."""

    meeting_id: str
    body: str
    on: date
    status: Literal["scheduled", "held", "cancelled"]


class Requirement(msgspec.Struct, frozen=True, kw_only=True):
    """One meeting the ToR requires, and how it stands."""

    body: str
    rule: str
    clause: str | None
    window_start: date
    window_end: date
    state: State
    #: The meetings that meet it (held ones, else scheduled ones).
    meeting_ids: tuple[str, ...] = ()
    #: For a meeting required before another body's meeting: that meeting.
    before_meeting_id: str | None = None


class BodySummary(msgspec.Struct, frozen=True, kw_only=True):
    body: str
    required: int
    held: int
    scheduled: int
    due: int
    upcoming: int
    missed: int


class YearCalendar(msgspec.Struct, frozen=True, kw_only=True):
    year: int
    starts_on: date
    ends_on: date
    under_version: int
    requirements: tuple[Requirement, ...]
    summary: tuple[BodySummary, ...]


def tor_year_bounds(first_day: date, year: int) -> tuple[date, date]:
    """The first and last day of ToR year `year` (1 = the year from `first_day`)."""
    start = add_months(first_day, 12 * (year - 1))
    return start, add_months(first_day, 12 * year) - timedelta(days=1)


def tor_year_of(first_day: date, day: date) -> int:
    """Which ToR year a day falls in (1 for any day before the first)."""
    year = 1
    while add_months(first_day, 12 * year) <= day:
        year += 1
    return year


def year_calendar(
    *,
    year: int,
    first_day: date,
    version_on: Callable[[date], Version],
    meetings: Sequence[MeetingFact],
    today: date,
) -> YearCalendar:
    """The required meetings of one ToR year and how each stands on `today`."""
    start, end = tor_year_bounds(first_day, year)
    version = version_on(start)
    rules, clauses = version.rules, version.clauses
    live = [m for m in meetings if m.status != "cancelled"]
    requirements: list[Requirement] = []
    for rule in rules.meetings:
        path = f"meetings.{rule.key}"
        clause = clause_for(clauses, path)
        own = [m for m in live if m.body == rule.key]
        if rule.per_year:
            for window_start, window_end in _periods(start, end, rule.per_year):
                requirements.append(
                    _requirement(
                        rule.key, f"{path}.per_year", clause, window_start, window_end, own, today
                    )
                )
        if rule.before_body and rule.months_before:
            for other in sorted(
                (m for m in live if m.body == rule.before_body and start <= m.on <= end),
                key=lambda m: m.on,
            ):
                aim = add_months(other.on, -rule.months_before)
                if aim < first_day:
                    continue  # it would have been prepared before the ToR took effect
                requirements.append(
                    _requirement(
                        rule.key,
                        f"{path}.before_body",
                        clause,
                        aim - BEFORE_TOLERANCE,
                        min(aim + BEFORE_TOLERANCE, other.on - timedelta(days=1)),
                        own,
                        today,
                        before_meeting_id=other.meeting_id,
                    )
                )
    return YearCalendar(
        year=year,
        starts_on=start,
        ends_on=end,
        under_version=version.number,
        requirements=tuple(requirements),
        summary=_summaries(requirements),
    )


def _periods(start: date, end: date, per_year: int) -> list[tuple[date, date]]:
    if 12 % per_year == 0:
        step = 12 // per_year
        bounds = [add_months(start, step * i) for i in range(per_year + 1)]
    else:
        days = (end - start).days + 1
        bounds = [start + timedelta(days=days * i // per_year) for i in range(per_year + 1)]
    return [(bounds[i], bounds[i + 1] - timedelta(days=1)) for i in range(per_year)]


def _requirement(
    body: str,
    rule: str,
    clause: str | None,
    window_start: date,
    window_end: date,
    meetings: Sequence[MeetingFact],
    today: date,
    *,
    before_meeting_id: str | None = None,
) -> Requirement:
    inside = [m for m in meetings if window_start <= m.on <= window_end]
    held = tuple(m.meeting_id for m in inside if m.status == "held")
    scheduled = tuple(m.meeting_id for m in inside if m.status == "scheduled")
    state: State
    if held:
        state, ids = "held", held
    elif window_end < today:
        state, ids = "missed", ()
    elif scheduled:
        state, ids = "scheduled", scheduled
    else:
        state, ids = ("due" if window_start <= today else "upcoming"), ()
    return Requirement(
        body=body,
        rule=rule,
        clause=clause,
        window_start=window_start,
        window_end=window_end,
        state=state,
        meeting_ids=ids,
        before_meeting_id=before_meeting_id,
    )


def _summaries(requirements: list[Requirement]) -> tuple[BodySummary, ...]:
    bodies = list(dict.fromkeys(r.body for r in requirements))
    out = []
    for body in bodies:
        own = [r for r in requirements if r.body == body]
        states = [r.state for r in own]
        out.append(
            BodySummary(
                body=body,
                required=len(own),
                held=states.count("held"),
                scheduled=states.count("scheduled"),
                due=states.count("due"),
                upcoming=states.count("upcoming"),
                missed=states.count("missed"),
            )
        )
    return tuple(out)
