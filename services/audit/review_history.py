"""The pieces of an alliance's history that a review pack reads, as the `Record` keeps them
(meetings, minutes, holdings of offices and seats, motions, decisions, amendments, reviews),
each with the log positions that prove it; and the days events record."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from domain.cadence import MeetingFact
from domain.terms import Version
from services.event_log import LoggedEvent

ONE_DAY = timedelta(days=1)


def as_day(value: Any) -> date:
    """A day as an event holds it: a date, an ISO date string, or a date-time (UTC)."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def recorded_on(event: LoggedEvent) -> date:
    return event.timestamp.astimezone(UTC).date()


@dataclass
class AdoptedVersion:
    version: Version
    position: int


@dataclass
class Meeting:
    meeting_id: str
    body: str
    main: bool
    on: date
    scheduled_at: int
    held_at: int | None = None
    held_on: date | None = None
    quorate: bool | None = None
    cancelled_at: int | None = None
    cancelled_on: date | None = None

    def fact(self, end: date) -> MeetingFact:
        """The meeting as it stood at the end of `end`."""
        if self.held_on is not None and self.held_on <= end:
            return MeetingFact(
                meeting_id=self.meeting_id, body=self.body, on=self.held_on, status="held"
            )
        if self.cancelled_on is not None and self.cancelled_on <= end:
            return MeetingFact(
                meeting_id=self.meeting_id, body=self.body, on=self.on, status="cancelled"
            )
        return MeetingFact(
            meeting_id=self.meeting_id, body=self.body, on=self.on, status="scheduled"
        )


@dataclass
class MinutesRecord:
    minutes_id: str
    meeting_id: str
    body: str
    meeting_date: date
    confidential: bool
    items: int
    confidential_items: int
    drafted_at: int
    approved_at: int | None = None
    approved_on: date | None = None
    approved_by_body: str | None = None
    under_version: int | None = None
    published_at: int | None = None
    published_on: date | None = None
    corrections: list[tuple[int, date]] = field(default_factory=list)


@dataclass
class Holding:
    """One holding of an office, or one seat on a committee."""

    holding_id: str
    key: str  # the office's key, or the body's
    member_id: str | None
    organisation: str
    starts_on: date
    ends_on: date | None
    position: int
    under_version: int
    required_seat: str | None = None
    left_on: date | None = None
    left_at: int | None = None

    @property
    def until(self) -> date | None:
        ends = [d for d in (self.ends_on, self.left_on) if d is not None]
        return min(ends) if ends else None

    def held_on(self, day: date) -> bool:
        return self.starts_on <= day and (self.until is None or day < self.until)


@dataclass
class Motion:
    motion_id: str
    body: str
    text: str
    decides: str
    positions: list[int]
    outcome: str | None = None
    via: str | None = None
    rule: str | None = None
    clause: str | None = None
    under_version: int | None = None
    decided_on: date | None = None
    effect_refused: str | None = None


@dataclass
class Decision:
    """A decision a body took directly (not through a motion)."""

    act: str
    #: The body whose decision it was; None where the event names none (`what` is then a
    #: whole sentence).
    body: str | None
    what: str
    rule: str
    under_version: int
    decision_ref: str | None
    on: date
    position: int
    refs: dict[str, str]


@dataclass
class Amendment:
    amendment_id: str
    proposed_at: int
    proposed_on: date
    base_version: int
    state: str = "proposed"
    decided_at: int | None = None
    decided_on: date | None = None
    by_body: str | None = None
    decision_ref: str | None = None
    version: int | None = None
    effective_from: date | None = None
    under_version: int | None = None


@dataclass
class Review:
    opened_at: int
    opened_on: date
    due_on: date
    concluded_at: int | None = None
    concluded_on: date | None = None
    outcome: str | None = None
    under_version: int | None = None
