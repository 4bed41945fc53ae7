"""What a review pack holds, as it is served (JSON) and rendered (HTML): its header, its
sections of findings, the count of findings by severity, and each body's meetings."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

import msgspec

Severity = Literal["ok", "note", "concern"]


class Finding(msgspec.Struct, kw_only=True):
    """One thing the reviewer should know, and the events that prove it."""

    kind: str
    severity: Severity
    summary: str
    #: Log positions of the events that prove it (for something that did not happen:
    #: those that set the requirement).
    positions: list[int]
    #: The day it happened, or the day it concerns.
    on: date | None = None
    #: The rule path and the ToR clause that carries it, where a rule is involved.
    rule: str | None = None
    clause: str | None = None
    #: The ToR version the act was made under, or whose rules were applied.
    under_version: int | None = None
    #: Ids and keys of what it is about (meeting_id, motion_id, member_id, office...).
    refs: dict[str, str] = {}


class Section(msgspec.Struct, kw_only=True):
    key: str
    title: str
    findings: list[Finding]


class PositionRange(msgspec.Struct, kw_only=True):
    first: int
    last: int


class AllianceInfo(msgspec.Struct, kw_only=True):
    slug: str
    name: str
    region: str
    template: str


class VersionInForce(msgspec.Struct, kw_only=True):
    number: int
    effective_from: date
    #: Its last day in force (null: still in force at the period's end).
    until: date | None
    #: The position of the event that adopted it.
    position: int


class Header(msgspec.Struct, kw_only=True):
    alliance: AllianceInfo
    period_from: date
    period_to: date
    generated_at: datetime
    #: The log positions read to make the pack (the whole log as it stood).
    log: PositionRange | None
    #: The positions of the events recorded within the period.
    recorded_in_period: PositionRange | None
    versions_in_force: list[VersionInForce]


class SeverityCounts(msgspec.Struct, kw_only=True):
    ok: int = 0
    note: int = 0
    concern: int = 0


class BodyTally(msgspec.Struct, kw_only=True):
    """The meetings one body's rule required in the period, and how they stood."""

    body: str
    name: str
    required: int
    held: int
    missed: int
    #: Still open at the period's end (their window had not closed).
    open: int


class ReviewPack(msgspec.Struct, kw_only=True):
    header: Header
    summary: SeverityCounts
    meetings_by_body: list[BodyTally]
    sections: list[Section]
