"""Review packs: the auditor's report for an alliance's annual or three-yearly review of its
Terms of Reference.

A pack covers a period of days. It is worked out from the alliance's own event log, read
from the start (so that the rules and the state at the period's start are known), and
every finding carries the log positions of the events that prove it. A finding about
something that did not happen (a meeting missed, a review overdue) cites the ToR clause
and the events that set the requirement (the adoption of the version whose rules apply).

When something happened: the day the event itself records where it records the day of
the act (`held_on`, `approved_on`, `published_on`, `starts_on`, `ends_on`, `left_on`,
`effective_from`); otherwise the day it was recorded (the event's timestamp, UTC).
"As at the end of the period" means: everything dated on or before the period's last day.

Confidential minutes never reach a pack: only the counts of confidential items. Nor do
people's names: organisations are named, individuals are not.
"""

from __future__ import annotations

import hashlib
from base64 import b64encode
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

import msgspec
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from domain.cadence import MeetingFact, Requirement, tor_year_of, year_calendar
from domain.rules import clause_for, clauses_from_data, rules_from_data
from domain.terms import TermsOfReference, Version, add_months
from services import event_log, onboarding
from services.errors import InvalidRequest
from services.event_log import LoggedEvent
from services.offices import EXPIRING_WITHIN_DAYS
from services.runtime import Runtime

#: Events read from the log at a time.
LOG_PAGE = 1000
#: The longest period one pack may cover.
MAX_PERIOD_MONTHS = 120
TEMPLATES = Path(__file__).resolve().parent.parent / "api" / "templates"
ONE_DAY = timedelta(days=1)

Severity = Literal["ok", "note", "concern"]

# ----------------------------------------------------------------------------- the pack


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


# ----------------------------------------------------------------------------- the period


def review_period(runtime: Runtime, slug: str, end: date | None = None) -> tuple[date, date]:
    """The review period the ToR in force defines, ending on `end` (default: today): the
    twelve months to that day for an annual review, the three years for a three-yearly."""
    onboarding.directory_entry(runtime, slug)
    now = runtime.clock()
    return _period_ending(runtime, slug, now, end or now.date())


def _period_ending(runtime: Runtime, slug: str, now: datetime, last: date) -> tuple[date, date]:
    with runtime.tenant(slug) as store:
        charter: TermsOfReference = store.app.repository.get(TermsOfReference.create_id(slug))
        months = charter.in_force_at(now).rules.review.cadence_months
    return add_months(last, -months) + ONE_DAY, last


def parse_day(name: str, text: str | None) -> date | None:
    """A day given as YYYY-MM-DD (None: not given); InvalidRequest naming the parameter."""
    if text is None:
        return None
    try:
        if len(text) != 10 or text[4] != "-" or text[7] != "-":
            raise ValueError(text)
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidRequest(
            f"{name}: {text[:20]!r} is not a date; write it as YYYY-MM-DD"
        ) from None


def check_period(start: date, end: date, today: date) -> None:
    """A period is a day or more, at most ten years, and over by today."""
    if start > end:
        raise InvalidRequest(f"from ({start.isoformat()}) is after to ({end.isoformat()})")
    if end > today:
        raise InvalidRequest(
            f"to ({end.isoformat()}) is after today ({today.isoformat()}): a review pack "
            "reports on days that have passed"
        )
    if add_months(start, MAX_PERIOD_MONTHS) <= end:
        raise InvalidRequest(
            f"from {start.isoformat()} to {end.isoformat()} is longer than "
            f"{MAX_PERIOD_MONTHS // 12} years: ask for a shorter period"
        )


def review_pack(
    runtime: Runtime, slug: str, start: date | None = None, end: date | None = None
) -> ReviewPack:
    """The review pack of one alliance for a period. Without `start`, the review period
    the ToR defines ending on `end`; without `end`, up to today. InvalidRequest for a
    period that is not one; NotFound for an unknown alliance."""
    with runtime.tracer.start_as_current_span("read.review_pack"):
        onboarding.directory_entry(runtime, slug)
        now = runtime.clock()
        today = now.date()
        if start is None:
            start, end = _period_ending(runtime, slug, now, end or today)
        end = end or today
        check_period(start, end, today)
        return build_pack(read_events(runtime, slug), start=start, end=end, generated_at=now)


def read_events(runtime: Runtime, slug: str) -> Iterator[LoggedEvent]:
    """The alliance's whole log, oldest first, as recorded (nothing redacted: the pack
    itself never shows confidential text)."""
    after = 0
    while True:
        page = event_log.read_log(runtime, slug, after=after, limit=LOG_PAGE)
        yield from page
        if len(page) < LOG_PAGE:
            return
        after = page[-1].position


def build_pack(
    events: Iterable[LoggedEvent], *, start: date, end: date, generated_at: datetime
) -> ReviewPack:
    """The pack for the period from these events (a pure function of them)."""
    record = Record(start, end)
    for event in events:
        record.apply(event)
    sections = [
        Section(key="meetings", title="Meetings required and held", findings=[]),
        Section(key="minutes", title="Minutes", findings=minutes_findings(record)),
        Section(key="decisions", title="Decisions", findings=decision_findings(record)),
        Section(key="membership", title="Membership", findings=record.membership),
        Section(
            key="offices",
            title="Offices and committee seats",
            findings=record.offices + term_end_findings(record),
        ),
        Section(
            key="terms-of-office",
            title="Terms of office at the end of the period",
            findings=terms_of_office_findings(record),
        ),
        Section(
            key="amendments",
            title="Amendments to the Terms of Reference",
            findings=amendment_findings(record),
        ),
        Section(
            key="reviews",
            title="Reviews of the Terms of Reference",
            findings=review_findings(record),
        ),
    ]
    tallies, sections[0].findings = meeting_findings(record)
    for section in sections:
        for finding in section.findings:
            finding.positions = sorted(set(finding.positions))
        section.findings.sort(key=lambda f: (f.on or date.min, f.positions[:1]))
    counts = SeverityCounts()
    for section in sections:
        for finding in section.findings:
            setattr(counts, finding.severity, getattr(counts, finding.severity) + 1)
    return ReviewPack(
        header=record.header(generated_at),
        summary=counts,
        meetings_by_body=tallies,
        sections=sections,
    )


# ----------------------------------------------------------------------------- the record


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


class Record:
    """The alliance's history folded from its log: what a pack needs, with positions."""

    def __init__(self, start: date, end: date) -> None:
        self.start, self.end = start, end
        self.alliance = AllianceInfo(slug="", name="", region="", template="")
        self.versions: list[AdoptedVersion] = []
        self.first_position: int | None = None
        self.last_position: int | None = None
        self.period_positions: list[int] = []
        self.meetings: dict[str, Meeting] = {}
        self.minutes: dict[str, MinutesRecord] = {}
        self.member_names: dict[str, str] = {}
        self.applications: dict[str, tuple[str, int]] = {}  # id -> (name, decided position)
        self.office_of_roll: dict[str, str] = {}
        self.body_of_roster: dict[str, str] = {}
        self.holdings: dict[str, Holding] = {}
        self.seats: dict[str, Holding] = {}
        self.motions: dict[str, Motion] = {}
        self.elections: dict[str, tuple[str, int]] = {}  # id -> (office, opened position)
        self.groups: dict[str, tuple[str, str]] = {}  # id -> (name, body)
        self.plans: dict[str, int] = {}  # id -> year
        self.decisions: list[Decision] = []
        self.amendments: dict[str, Amendment] = {}
        self.reviews: list[Review] = []
        self.membership: list[Finding] = []
        self.offices: list[Finding] = []

    # ------------------------------------------------------------------ folding

    def apply(self, event: LoggedEvent) -> None:
        if self.first_position is None:
            self.first_position = event.position
        self.last_position = event.position
        if self.in_period(recorded_on(event)):
            self.period_positions.append(event.position)
        handler: Callable[[LoggedEvent], None] | None = getattr(self, f"_on_{event.type}", None)
        if handler is not None:
            handler(event)

    def in_period(self, day: date | None) -> bool:
        return day is not None and self.start <= day <= self.end

    # ------------------------------------------------------------------ reading

    def version(self, number: int | None) -> AdoptedVersion | None:
        return next((v for v in self.versions if v.version.number == number), None)

    def version_on(self, day: date) -> AdoptedVersion:
        """The version in force on a day (version 1 before its first day)."""
        current = self.versions[0]
        for adopted in self.versions:
            if adopted.version.effective_from <= day:
                current = adopted
        return current

    def clause(self, number: int | None, rule: str) -> str | None:
        adopted = self.version(number)
        return clause_for(adopted.version.clauses, rule) if adopted else None

    def body_name(self, key: str | None) -> str:
        """A body's (or office's) name as the latest ToR naming it writes it."""
        if key is None:
            return "The officers"
        for adopted in reversed(self.versions):
            found = adopted.version.rules.body(key) or adopted.version.rules.office(key)
            if found is not None:
                return found.name
        return key

    def office_name(self, key: str) -> str:
        return self.body_name(key)

    def member(self, member_id: str | None) -> str:
        if member_id is None:
            return "an organisation from outside the membership"
        return self.member_names.get(member_id, f"member {member_id}")

    def header(self, generated_at: datetime) -> Header:
        log = (
            PositionRange(first=self.first_position, last=self.last_position)
            if self.first_position is not None and self.last_position is not None
            else None
        )
        recorded = (
            PositionRange(first=min(self.period_positions), last=max(self.period_positions))
            if self.period_positions
            else None
        )
        return Header(
            alliance=self.alliance,
            period_from=self.start,
            period_to=self.end,
            generated_at=generated_at,
            log=log,
            recorded_in_period=recorded,
            versions_in_force=self.versions_in_force(),
        )

    def versions_in_force(self) -> list[VersionInForce]:
        found = []
        for index, adopted in enumerate(self.versions):
            following = self.versions[index + 1 :]
            last_day = following[0].version.effective_from - ONE_DAY if following else None
            starts = adopted.version.effective_from
            never = last_day is not None and last_day < starts  # replaced on its first day
            if not never and starts <= self.end and (last_day is None or last_day >= self.start):
                found.append(
                    VersionInForce(
                        number=adopted.version.number,
                        effective_from=starts,
                        until=last_day if last_day is not None and last_day <= self.end else None,
                        position=adopted.position,
                    )
                )
        return found

    # ------------------------------------------------------------------ the alliance, its ToR

    def _on_AllianceFounded(self, e: LoggedEvent) -> None:
        d = e.data
        self.alliance = AllianceInfo(
            slug=d["slug"], name=d["name"], region=d["region"], template=d["template"]
        )

    def _add_version(self, e: LoggedEvent, number: int, amendment_id: str | None) -> None:
        d = e.data
        version = Version(
            number=number,
            effective_from=as_day(d["effective_from"]),
            adopted_at=e.timestamp,
            clauses=clauses_from_data(d["clauses"]),
            rules=rules_from_data(d["rules"]),
            amendment_id=amendment_id,
            decision_ref=d.get("decision_ref"),
        )
        self.versions.append(AdoptedVersion(version=version, position=e.position))

    def _on_TermsOfReferenceAdopted(self, e: LoggedEvent) -> None:
        self._add_version(e, 1, None)

    def _on_TermsOfReferenceAmendmentProposed(self, e: LoggedEvent) -> None:
        d = e.data
        self.amendments[d["amendment_id"]] = Amendment(
            amendment_id=d["amendment_id"],
            proposed_at=e.position,
            proposed_on=recorded_on(e),
            base_version=d["base_version"],
        )

    def _decide_amendment(self, e: LoggedEvent, state: str) -> Amendment:
        amendment = self.amendments[e.data["amendment_id"]]
        amendment.state, amendment.decided_at, amendment.decided_on = (
            state,
            e.position,
            recorded_on(e),
        )
        amendment.under_version = e.data.get("under_version")
        amendment.decision_ref = e.data.get("decision_ref")
        return amendment

    def _on_TermsOfReferenceAmendmentApproved(self, e: LoggedEvent) -> None:
        d = e.data
        amendment = self._decide_amendment(e, "approved")
        amendment.by_body, amendment.version = d["approved_by_body"], d["version"]
        amendment.effective_from = as_day(d["effective_from"])
        self._add_version(e, d["version"], d["amendment_id"])
        self._direct(
            e,
            act="amendment-approved",
            body=d["approved_by_body"],
            what=f"approved an amendment of the Terms of Reference (version {d['version']})",
            rule="review.amendments_approved_by",
            refs={"amendment_id": d["amendment_id"]},
        )

    def _on_TermsOfReferenceAmendmentRejected(self, e: LoggedEvent) -> None:
        self._decide_amendment(e, "rejected")
        self._direct(
            e,
            act="amendment-rejected",
            body=None,
            what="An amendment of the Terms of Reference was rejected",
            rule="review.amendments_approved_by",
            refs={"amendment_id": e.data["amendment_id"]},
        )

    def _on_TermsOfReferenceAmendmentWithdrawn(self, e: LoggedEvent) -> None:
        self._decide_amendment(e, "withdrawn")

    def _review_due_on(self, before: int) -> date:
        """When a review fell due, judged from the events before a position (the rule of
        `TermsOfReference.review_due_on`)."""
        latest = [v for v in self.versions if v.position < before][-1].version
        anchor = latest.adopted_at.astimezone(UTC).date()
        done = [r.concluded_on for r in self.reviews if r.concluded_at and r.concluded_at < before]
        if done and done[-1] is not None and done[-1] > anchor:
            anchor = done[-1]
        return add_months(anchor, latest.rules.review.cadence_months)

    def _on_TermsOfReferenceReviewOpened(self, e: LoggedEvent) -> None:
        self.reviews.append(
            Review(
                opened_at=e.position,
                opened_on=recorded_on(e),
                due_on=self._review_due_on(e.position),
            )
        )

    def _on_TermsOfReferenceReviewConcluded(self, e: LoggedEvent) -> None:
        review = self.reviews[-1]
        review.concluded_at, review.concluded_on = e.position, recorded_on(e)
        review.outcome, review.under_version = e.data["outcome"], e.data.get("under_version")

    # ------------------------------------------------------------------ membership

    def _on_MembershipApplicationSubmitted(self, e: LoggedEvent) -> None:
        applicant = e.data["applicant"]
        name = applicant.get("name") or "an individual"
        self.applications[e.aggregate_id] = (name, 0)

    def _on_MembershipApplicationDecided(self, e: LoggedEvent) -> None:
        d = e.data
        name, _ = self.applications.get(e.aggregate_id, ("an applicant", 0))
        self.applications[e.aggregate_id] = (name, e.position)
        admitted = d["outcome"] == "admitted"
        self._direct(
            e,
            act="application-decided",
            body=d["by_body"],
            what=(
                f"admitted {name} ({d['standing']})"
                if admitted
                else f"rejected {name}'s application"
            ),
            rule="membership.route.decided_by",
            refs={"application_id": e.aggregate_id},
        )
        if not admitted and self.in_period(recorded_on(e)):
            self.membership.append(
                Finding(
                    kind="application-rejected",
                    severity="ok",
                    summary=(
                        f"{self.body_name(d['by_body'])} rejected the application "
                        f"of {name} ({_ref(d.get('decision_ref'))})."
                    ),
                    positions=[e.position],
                    on=recorded_on(e),
                    under_version=d.get("under_version"),
                    refs={"application_id": e.aggregate_id},
                )
            )

    def _on_MemberAdmitted(self, e: LoggedEvent) -> None:
        d = e.data
        name = d.get("name") or "an individual (advisory member)"
        self.member_names[e.aggregate_id] = name
        if not self.in_period(recorded_on(e)):
            return
        _, decided_at = self.applications.get(d["application_id"], ("", 0))
        self.membership.append(
            Finding(
                kind="member-admitted",
                severity="ok",
                summary=(
                    f"{name} was admitted, with the standing {d['standing']}, by "
                    f"{self.body_name(d.get('by_body'))} ({_ref(d.get('decision_ref'))})."
                ),
                positions=[p for p in (decided_at, e.position) if p],
                on=recorded_on(e),
                rule="membership.route.decided_by",
                clause=self.clause(d.get("under_version"), "membership.route.decided_by"),
                under_version=d.get("under_version"),
                refs={"member_id": e.aggregate_id, "application_id": d["application_id"]},
            )
        )

    def _member_change(self, e: LoggedEvent, kind: str, severity: Severity, what: str) -> None:
        d = e.data
        by_body = d.get("by_body")
        name = self.member(e.aggregate_id)
        if by_body is not None:
            self._direct(
                e,
                act=kind,
                body=by_body,
                what=f"{kind.removeprefix('member-')} {name}",
                rule="membership.route.decided_by",
                refs={"member_id": e.aggregate_id},
            )
        if not self.in_period(recorded_on(e)):
            return
        by = f" by {self.body_name(by_body)} ({_ref(d.get('decision_ref'))})" if by_body else ""
        self.membership.append(
            Finding(
                kind=kind,
                severity=severity,
                summary=f"{name} {what}{by}.",
                positions=[e.position],
                on=recorded_on(e),
                under_version=d.get("under_version"),
                refs={"member_id": e.aggregate_id},
            )
        )

    def _on_MemberSuspended(self, e: LoggedEvent) -> None:
        self._member_change(e, "member-suspended", "note", "was suspended")

    def _on_MemberReinstated(self, e: LoggedEvent) -> None:
        self._member_change(e, "member-reinstated", "ok", "was reinstated")

    def _on_MemberResigned(self, e: LoggedEvent) -> None:
        self._member_change(e, "member-resigned", "ok", "resigned")

    def _on_MemberRemoved(self, e: LoggedEvent) -> None:
        self._member_change(e, "member-removed", "note", "was removed")

    def _on_MemberConductReviewed(self, e: LoggedEvent) -> None:
        d = e.data
        self._direct(
            e,
            act="conduct-reviewed",
            body=d["by_body"],
            what=f"reviewed the conduct of {self.member(e.aggregate_id)} ({d['outcome']})",
            rule="membership.conduct_reviewed_by",
            refs={"member_id": e.aggregate_id},
        )

    # ------------------------------------------------------------------ offices and seats

    def _on_OfficeRollOpened(self, e: LoggedEvent) -> None:
        self.office_of_roll[e.aggregate_id] = e.data["office"]

    def _on_BodyRosterOpened(self, e: LoggedEvent) -> None:
        self.body_of_roster[e.aggregate_id] = e.data["body"]

    def _on_OfficeRollHolderAppointed(self, e: LoggedEvent) -> None:
        d = e.data
        office = self.office_of_roll[e.aggregate_id]
        holding = Holding(
            holding_id=d["holding_id"],
            key=office,
            member_id=d.get("member_id"),
            organisation=d["organisation"],
            starts_on=as_day(d["starts_on"]),
            ends_on=as_day(d["ends_on"]) if d.get("ends_on") else None,
            position=e.position,
            under_version=d["under_version"],
        )
        self.holdings[holding.holding_id] = holding
        elected = d["via"] == "elected"
        if not elected:
            self._direct(
                e,
                act="office-appointed",
                body=d.get("by_body"),
                what=(
                    f"appointed {holding.organisation} to the office of {self.office_name(office)}"
                ),
                rule=f"offices.{office}.appointed_by",
                refs={"office": office, "holding_id": holding.holding_id},
            )
        if self.in_period(holding.starts_on):
            how = (
                f"elected ({_ref(d.get('election_ref'))})"
                if elected
                else f"appointed by {self.body_name(d.get('by_body'))} "
                f"({_ref(d.get('decision_ref'))})"
            )
            term = f"until {holding.ends_on.isoformat()}" if holding.ends_on else "until replaced"
            self.offices.append(
                Finding(
                    kind="office-taken",
                    severity="ok",
                    summary=(
                        f"{holding.organisation} took the office of {self.office_name(office)} "
                        f"on {holding.starts_on.isoformat()}, {how}, {term}."
                    ),
                    positions=[e.position],
                    on=holding.starts_on,
                    under_version=holding.under_version,
                    refs={"office": office, "holding_id": holding.holding_id},
                )
            )

    def _on_OfficeRollHolderLeft(self, e: LoggedEvent) -> None:
        holding = self.holdings[e.data["holding_id"]]
        holding.left_on, holding.left_at = as_day(e.data["left_on"]), e.position
        if self.in_period(holding.left_on):
            self.offices.append(
                Finding(
                    kind="office-left",
                    severity="ok",
                    summary=(
                        f"{holding.organisation} left the office of "
                        f"{self.office_name(holding.key)} on {holding.left_on.isoformat()}."
                    ),
                    positions=[holding.position, e.position],
                    on=holding.left_on,
                    refs={"office": holding.key, "holding_id": holding.holding_id},
                )
            )

    def _on_BodyRosterSeatTaken(self, e: LoggedEvent) -> None:
        d = e.data
        body = self.body_of_roster[e.aggregate_id]
        seat = Holding(
            holding_id=d["seat_id"],
            key=body,
            member_id=d.get("member_id"),
            organisation=d["organisation"],
            starts_on=as_day(d["starts_on"]),
            ends_on=as_day(d["ends_on"]) if d.get("ends_on") else None,
            position=e.position,
            under_version=d["under_version"],
            required_seat=d.get("required_seat"),
        )
        self.seats[seat.holding_id] = seat
        self._direct(
            e,
            act="seat-agreed",
            body=d.get("agreed_by"),
            what=f"agreed a seat on {self.body_name(body)} for {seat.organisation}",
            rule=f"bodies.{body}.members_agreed_by",
            refs={"body": body, "seat_id": seat.holding_id},
        )
        if self.in_period(seat.starts_on):
            self.offices.append(
                Finding(
                    kind="seat-taken",
                    severity="ok",
                    summary=(
                        f"{seat.organisation} took a seat on {self.body_name(body)} on "
                        f"{seat.starts_on.isoformat()}"
                        + (f", until {seat.ends_on.isoformat()}." if seat.ends_on else ".")
                    ),
                    positions=[e.position],
                    on=seat.starts_on,
                    under_version=seat.under_version,
                    refs={"body": body, "seat_id": seat.holding_id},
                )
            )

    def _on_BodyRosterSeatLeft(self, e: LoggedEvent) -> None:
        seat = self.seats[e.data["seat_id"]]
        seat.left_on, seat.left_at = as_day(e.data["left_on"]), e.position
        if self.in_period(seat.left_on):
            self.offices.append(
                Finding(
                    kind="seat-left",
                    severity="ok",
                    summary=(
                        f"{seat.organisation} left its seat on {self.body_name(seat.key)} on "
                        f"{seat.left_on.isoformat()}."
                    ),
                    positions=[seat.position, e.position],
                    on=seat.left_on,
                    refs={"body": seat.key, "seat_id": seat.holding_id},
                )
            )

    def _on_ElectionOpened(self, e: LoggedEvent) -> None:
        self.elections[e.aggregate_id] = (e.data["office"], e.position)

    def _on_ElectionClosed(self, e: LoggedEvent) -> None:
        office, opened_at = self.elections[e.aggregate_id]
        d = e.data
        self._direct(
            e,
            act="election-counted",
            body=None,
            what=(
                f"The election to the office of {self.office_name(office)} was counted "
                f"({len(d['elected'])} elected)"
            ),
            rule=f"offices.{office}.election",
            refs={"election_id": e.aggregate_id, "office": office},
        )
        if self.in_period(recorded_on(e)):
            self.offices.append(
                Finding(
                    kind="election-held",
                    severity="ok",
                    summary=(
                        f"The election to the office of {self.office_name(office)} was counted: "
                        f"{d['turnout']} of {d['electorate']} organisations voted; "
                        f"{len(d['elected'])} elected."
                    ),
                    positions=[opened_at, e.position],
                    on=recorded_on(e),
                    rule=f"offices.{office}.election",
                    clause=self.clause(d.get("under_version"), f"offices.{office}.election"),
                    under_version=d.get("under_version"),
                    refs={"election_id": e.aggregate_id, "office": office},
                )
            )

    def _on_ElectionCancelled(self, e: LoggedEvent) -> None:
        office, opened_at = self.elections[e.aggregate_id]
        if self.in_period(recorded_on(e)):
            self.offices.append(
                Finding(
                    kind="election-cancelled",
                    severity="note",
                    summary=(
                        f"The election to the office of {self.office_name(office)} was cancelled."
                    ),
                    positions=[opened_at, e.position],
                    on=recorded_on(e),
                    refs={"election_id": e.aggregate_id, "office": office},
                )
            )

    # ------------------------------------------------------------------ groups and plans

    def _on_WorkingGroupProposed(self, e: LoggedEvent) -> None:
        self.groups[e.aggregate_id] = (e.data["name"], e.data["body"])

    def _group_decision(self, e: LoggedEvent, act: str, verb: str) -> None:
        name, body = self.groups[e.aggregate_id]
        self._direct(
            e,
            act=act,
            body=e.data.get("by_body"),
            what=f"{verb} the working group {name!r}",
            rule=f"bodies.{body}.established_by",
            refs={"working_group_id": e.aggregate_id},
        )

    def _on_WorkingGroupEstablished(self, e: LoggedEvent) -> None:
        self._group_decision(e, "working-group-established", "established")

    def _on_WorkingGroupLeadsChanged(self, e: LoggedEvent) -> None:
        self._group_decision(e, "working-group-leads-changed", "changed the leads of")

    def _on_WorkingGroupDissolved(self, e: LoggedEvent) -> None:
        self._group_decision(e, "working-group-dissolved", "dissolved")

    def _on_AnnualWorkPlanDrafted(self, e: LoggedEvent) -> None:
        self.plans[e.aggregate_id] = e.data["year"]

    def _on_AnnualWorkPlanAgreed(self, e: LoggedEvent) -> None:
        self._direct(
            e,
            act="work-plan-agreed",
            body=e.data.get("by_body"),
            what=f"agreed the work plan for {self.plans.get(e.aggregate_id)}",
            rule="work_plan.agreed_by",
            refs={"work_plan_id": e.aggregate_id},
        )

    def _on_AnnualWorkPlanEvaluated(self, e: LoggedEvent) -> None:
        self._direct(
            e,
            act="work-plan-evaluated",
            body=e.data.get("by_body"),
            what=f"evaluated the work plan for {self.plans.get(e.aggregate_id)}",
            rule="work_plan.agreed_by",
            refs={"work_plan_id": e.aggregate_id},
        )

    def _direct(
        self,
        e: LoggedEvent,
        *,
        act: str,
        body: str | None,
        what: str,
        rule: str,
        refs: dict[str, str],
    ) -> None:
        """Keep a decision a body took directly (one a motion took is the motion's)."""
        decision_ref = e.data.get("decision_ref")
        if isinstance(decision_ref, str) and decision_ref.startswith("motion:"):
            return
        self.decisions.append(
            Decision(
                act=act,
                body=body,
                what=what,
                rule=rule,
                under_version=e.data.get("under_version") or 0,
                decision_ref=decision_ref,
                on=recorded_on(e),
                position=e.position,
                refs=refs,
            )
        )

    # ------------------------------------------------------------------ meetings, minutes

    def _on_MeetingScheduled(self, e: LoggedEvent) -> None:
        d = e.data
        self.meetings[e.aggregate_id] = Meeting(
            meeting_id=e.aggregate_id,
            body=d["body"],
            main=bool(d.get("main")),
            on=as_day(d["starts_at"]),
            scheduled_at=e.position,
        )

    def _on_MeetingRescheduled(self, e: LoggedEvent) -> None:
        self.meetings[e.aggregate_id].on = as_day(e.data["starts_at"])

    def _on_MeetingCancelled(self, e: LoggedEvent) -> None:
        meeting = self.meetings[e.aggregate_id]
        meeting.cancelled_at, meeting.cancelled_on = e.position, recorded_on(e)

    def _on_MeetingHeld(self, e: LoggedEvent) -> None:
        meeting = self.meetings[e.aggregate_id]
        meeting.held_at, meeting.held_on = e.position, as_day(e.data["held_on"])
        meeting.quorate = e.data.get("quorate")

    def _on_MinutesDrafted(self, e: LoggedEvent) -> None:
        d = e.data
        self.minutes[e.aggregate_id] = MinutesRecord(
            minutes_id=e.aggregate_id,
            meeting_id=d["meeting_id"],
            body=d["body"],
            meeting_date=as_day(d["meeting_date"]),
            confidential=bool(d["confidential"]),
            items=len(d["items"]),
            confidential_items=_confidential_items(d),
            drafted_at=e.position,
        )

    def _on_MinutesAmended(self, e: LoggedEvent) -> None:
        minutes = self.minutes[e.aggregate_id]
        minutes.confidential = bool(e.data["confidential"])
        minutes.items, minutes.confidential_items = (
            len(e.data["items"]),
            _confidential_items(e.data),
        )

    def _on_MinutesApproved(self, e: LoggedEvent) -> None:
        minutes = self.minutes[e.aggregate_id]
        minutes.approved_at, minutes.approved_on = e.position, as_day(e.data["approved_on"])
        minutes.approved_by_body = e.data["by_body"]
        minutes.under_version = e.data.get("under_version")

    def _on_MinutesPublished(self, e: LoggedEvent) -> None:
        minutes = self.minutes[e.aggregate_id]
        minutes.published_at, minutes.published_on = e.position, as_day(e.data["published_on"])

    def _on_MinutesCorrected(self, e: LoggedEvent) -> None:
        self.minutes[e.aggregate_id].corrections.append(
            (e.position, as_day(e.data["corrected_on"]))
        )

    # ------------------------------------------------------------------ motions

    def _on_MotionProposed(self, e: LoggedEvent) -> None:
        d = e.data
        self.motions[e.aggregate_id] = Motion(
            motion_id=e.aggregate_id,
            body=d["body"],
            text=d["text"],
            decides=(d.get("decides") or {}).get("kind", "position"),
            positions=[e.position],
        )

    def _motion_step(self, e: LoggedEvent) -> None:
        self.motions[e.aggregate_id].positions.append(e.position)

    _on_MotionConsensusSought = _motion_step
    _on_MotionVotingOpened = _motion_step
    _on_MotionVotingClosed = _motion_step
    _on_MotionCastingVoteGiven = _motion_step
    _on_MotionEffectApplied = _motion_step

    def _on_MotionDecided(self, e: LoggedEvent) -> None:
        d = e.data
        motion = self.motions[e.aggregate_id]
        motion.positions.append(e.position)
        motion.outcome, motion.via = d["outcome"], d["via"]
        motion.rule, motion.clause = d.get("rule"), d.get("clause")
        motion.under_version, motion.decided_on = d.get("under_version"), recorded_on(e)

    def _on_MotionEffectRefused(self, e: LoggedEvent) -> None:
        motion = self.motions[e.aggregate_id]
        motion.positions.append(e.position)
        motion.effect_refused = e.data.get("message") or "refused by the rules in force"


def _confidential_items(data: dict[str, Any]) -> int:
    if data["confidential"]:
        return len(data["items"])
    return sum(1 for item in data["items"] if item.get("confidential"))


def _ref(decision_ref: str | None) -> str:
    return f"recorded as {decision_ref!r}" if decision_ref else "no reference recorded"


# ----------------------------------------------------------------------------- meetings


PERIOD_NAMES = {1: "year", 2: "half-year", 3: "third of the year", 4: "quarter", 12: "month"}


def meeting_findings(record: Record) -> tuple[list[BodyTally], list[Finding]]:
    """Every meeting the ToR required in the period (held, missed, or still open at its
    end), every meeting held in it, and those cancelled."""
    if not record.versions or record.versions[0].version.effective_from > record.end:
        return [], []
    requirements = required_meetings(record)
    met: dict[str, list[tuple[Requirement, int]]] = {}
    findings: list[Finding] = []
    for requirement, version in requirements:
        for meeting_id in requirement.meeting_ids if requirement.state == "held" else ():
            met.setdefault(meeting_id, []).append((requirement, version))
        if requirement.state != "held":
            findings.append(requirement_finding(record, requirement, version))
    for meeting in record.meetings.values():
        if record.in_period(meeting.held_on):
            findings.append(held_finding(record, meeting, met.get(meeting.meeting_id, [])))
        elif meeting.cancelled_at and record.in_period(meeting.on):
            findings.append(cancelled_finding(record, meeting))
    return tallies(record, requirements), findings


def required_meetings(record: Record) -> list[tuple[Requirement, int]]:
    """The requirements whose window overlaps the period, as they stood at its end, each
    with the ToR version whose rules set it."""
    first_day = record.versions[0].version.effective_from
    facts = [m.fact(record.end) for m in record.meetings.values()]
    found = []
    first_year = tor_year_of(first_day, max(record.start, first_day))
    for year in range(first_year, tor_year_of(first_day, record.end) + 1):
        calendar = year_calendar(
            year=year,
            first_day=first_day,
            version_on=lambda day: record.version_on(day).version,
            meetings=facts,
            today=record.end + ONE_DAY,
        )
        for requirement in calendar.requirements:
            if requirement.window_end >= record.start and requirement.window_start <= record.end:
                found.append((requirement, calendar.under_version))
    return found


def _window(record: Record, requirement: Requirement, version: int) -> str:
    span = f"{requirement.window_start.isoformat()} to {requirement.window_end.isoformat()}"
    if requirement.before_meeting_id is not None:
        other = record.meetings[requirement.before_meeting_id]
        return (
            f"the weeks {span}, before the meeting of {record.body_name(other.body)} on "
            f"{other.on.isoformat()}"
        )
    adopted = record.version(version)
    rule = adopted.version.rules.meeting_rule(requirement.body) if adopted else None
    per_year = rule.per_year if rule and rule.per_year else 0
    return f"the {PERIOD_NAMES.get(per_year, 'period')} {span}"


def _requirement_text(record: Record, requirement: Requirement, version: int) -> str:
    clause = f"ToR clause {requirement.clause}" if requirement.clause else "the ToR"
    adopted = record.version(version)
    rule = adopted.version.rules.meeting_rule(requirement.body) if adopted else None
    if requirement.before_meeting_id is None and rule and rule.per_year:
        every = PERIOD_NAMES.get(rule.per_year, "period")
        return f"{clause} requires {rule.per_year} a year, one in each {every}"
    if rule and rule.before_body:
        return (
            f"{clause} requires a meeting {rule.months_before} month(s) before each meeting of "
            f"{record.body_name(rule.before_body)}"
        )
    return f"{clause} requires it"


def requirement_finding(record: Record, requirement: Requirement, version: int) -> Finding:
    """A required meeting that was missed, or whose window was still open at the end."""
    adopted = record.version(version)
    positions = [adopted.position] if adopted else []
    if requirement.before_meeting_id is not None:
        other = record.meetings[requirement.before_meeting_id]
        positions += [p for p in (other.scheduled_at, other.held_at) if p]
    name = record.body_name(requirement.body)
    window = _window(record, requirement, version)
    because = _requirement_text(record, requirement, version)
    severity: Severity
    if requirement.state == "missed":
        kind, severity = "meeting-missing", "concern"
        summary = f"No meeting of {name} was held in {window}: {because}."
    else:
        kind, severity = "meeting-due", "note"
        scheduled = [record.meetings[m] for m in requirement.meeting_ids]
        positions += [m.scheduled_at for m in scheduled]
        planned = (
            "one is scheduled for " + ", ".join(m.on.isoformat() for m in scheduled)
            if scheduled
            else "none is scheduled"
        )
        summary = (
            f"A meeting of {name} is still due in {window} (open at the end of the period; "
            f"{planned}): {because}."
        )
    return Finding(
        kind=kind,
        severity=severity,
        summary=summary,
        positions=sorted(set(positions)),
        on=requirement.window_end,
        rule=requirement.rule,
        clause=requirement.clause,
        under_version=version,
        refs={"body": requirement.body, "window_start": requirement.window_start.isoformat()},
    )


def held_finding(record: Record, meeting: Meeting, met: list[tuple[Requirement, int]]) -> Finding:
    assert meeting.held_on is not None and meeting.held_at is not None
    notes = [
        n
        for n in (
            "main meeting" if meeting.main else "",
            "not quorate" if meeting.quorate is False else "",
        )
        if n
    ]
    summary = f"{record.body_name(meeting.body)} met on {meeting.held_on.isoformat()}"
    summary += f" ({', '.join(notes)})." if notes else "."
    rule = clause = None
    version = None
    if met:
        requirement, version = met[0]
        rule, clause = requirement.rule, requirement.clause
        summary += (
            f" It meets the requirement for {_window(record, requirement, version)} "
            f"({_requirement_text(record, requirement, version)})."
        )
    return Finding(
        kind="meeting-held",
        severity="ok" if meeting.quorate is not False else "note",
        summary=summary,
        positions=[meeting.scheduled_at, meeting.held_at],
        on=meeting.held_on,
        rule=rule,
        clause=clause,
        under_version=version,
        refs={"meeting_id": meeting.meeting_id, "body": meeting.body},
    )


def cancelled_finding(record: Record, meeting: Meeting) -> Finding:
    assert meeting.cancelled_at is not None
    return Finding(
        kind="meeting-cancelled",
        severity="note",
        summary=(
            f"The meeting of {record.body_name(meeting.body)} planned for "
            f"{meeting.on.isoformat()} was cancelled."
        ),
        positions=[meeting.scheduled_at, meeting.cancelled_at],
        on=meeting.on,
        refs={"meeting_id": meeting.meeting_id, "body": meeting.body},
    )


def tallies(record: Record, requirements: list[tuple[Requirement, int]]) -> list[BodyTally]:
    bodies = list(dict.fromkeys(r.body for r, _ in requirements))
    found = []
    for body in bodies:
        states = [r.state for r, _ in requirements if r.body == body]
        found.append(
            BodyTally(
                body=body,
                name=record.body_name(body),
                required=len(states),
                held=states.count("held"),
                missed=states.count("missed"),
                open=len(states) - states.count("held") - states.count("missed"),
            )
        )
    return found


# ----------------------------------------------------------------------------- minutes


def minutes_findings(record: Record) -> list[Finding]:
    """The minutes of every meeting held in the period, and of any approved or published
    in it: approved, published, still a draft, or never drafted."""
    if not record.versions:
        return []
    by_meeting = {m.meeting_id: m for m in record.minutes.values()}
    findings = []
    for meeting in record.meetings.values():
        minutes = by_meeting.get(meeting.meeting_id)
        if minutes is None:
            if record.in_period(meeting.held_on):
                missing = missing_minutes_finding(record, meeting)
                if missing is not None:
                    findings.append(missing)
        elif (
            record.in_period(minutes.meeting_date)
            or record.in_period(minutes.approved_on)
            or record.in_period(minutes.published_on)
        ):
            findings.append(minutes_finding(record, minutes))
    return findings


def _approver(record: Record, body: str, day: date) -> tuple[str, int]:
    """The body that approves the minutes of this body's meeting on a day, and the
    version whose rule says so."""
    adopted = record.version_on(day)
    return adopted.version.rules.minutes.approved_by or body, adopted.version.number


def _met_since(record: Record, body: str, day: date) -> Meeting | None:
    """The first meeting of this body held after a day, by the end of the period."""
    later = [
        m
        for m in record.meetings.values()
        if m.body == body and m.held_on is not None and day < m.held_on <= record.end
    ]
    return min(later, key=lambda m: m.held_on or day) if later else None


def _contents(minutes: MinutesRecord) -> str:
    if minutes.confidential:
        return f"{minutes.items} item(s), confidential as a whole"
    if minutes.confidential_items:
        return f"{minutes.items} item(s), {minutes.confidential_items} of them confidential"
    return f"{minutes.items} item(s)"


def missing_minutes_finding(record: Record, meeting: Meeting) -> Finding | None:
    assert meeting.held_on is not None and meeting.held_at is not None
    adopted = record.version_on(meeting.held_on)
    if not adopted.version.rules.minutes.every_meeting_minuted:
        return None
    approver, number = _approver(record, meeting.body, meeting.held_on)
    later = _met_since(record, approver, meeting.held_on)
    rule = "minutes.every_meeting_minuted"
    clause = clause_for(adopted.version.clauses, rule)
    summary = (
        f"No minutes of the meeting of {record.body_name(meeting.body)} on "
        f"{meeting.held_on.isoformat()} had been drafted by the end of the period "
        f"(ToR clause {clause} requires every meeting to be minuted)"
    )
    summary += (
        f", though {record.body_name(approver)} met again on {later.held_on}."
        if later
        else "; no meeting has been held since to approve them."
    )
    positions = [meeting.held_at, adopted.position] + (
        [later.held_at] if later and later.held_at else []
    )
    return Finding(
        kind="minutes-missing",
        severity="concern" if later else "note",
        summary=summary,
        positions=sorted(positions),
        on=meeting.held_on,
        rule=rule,
        clause=clause,
        under_version=number,
        refs={"meeting_id": meeting.meeting_id, "body": meeting.body},
    )


def minutes_finding(record: Record, minutes: MinutesRecord) -> Finding:
    end = record.end
    held_on = minutes.meeting_date
    what = (
        f"The minutes of the meeting of {record.body_name(minutes.body)} on "
        f"{held_on.isoformat()} ({_contents(minutes)})"
    )
    refs = {"minutes_id": minutes.minutes_id, "meeting_id": minutes.meeting_id}
    corrections = [p for p, day in minutes.corrections if day <= end]
    approved = minutes.approved_on is not None and minutes.approved_on <= end
    if not approved:
        return draft_minutes_finding(record, minutes, what, refs)
    assert minutes.approved_at is not None and minutes.approved_on is not None
    adopted = record.version_on(held_on)
    positions = [minutes.drafted_at, minutes.approved_at]
    what += (
        f" were approved by {record.body_name(minutes.approved_by_body)} on "
        f"{minutes.approved_on.isoformat()}"
    )
    published = minutes.published_on is not None and minutes.published_on <= end
    kind: str
    severity: Severity = "ok"
    rule = "minutes.approved_by"
    if published:
        assert minutes.published_at is not None and minutes.published_on is not None
        positions.append(minutes.published_at)
        kind, what = "minutes-published", f"{what} and published on {minutes.published_on}"
    elif minutes.confidential:
        kind, what = "minutes-approved", f"{what}; being confidential, they are not published"
    elif adopted.version.rules.minutes.published_by_default:
        kind, severity, rule = "minutes-not-published", "note", "minutes.published_by_default"
        what += (
            "; they had not been published by the end of the period, though the ToR "
            "publishes minutes by default"
        )
    else:
        kind, what = "minutes-approved", f"{what}; the ToR does not publish minutes by default"
    if corrections:
        what += f"; corrected {len(corrections)} time(s) since"
    return Finding(
        kind=kind,
        severity=severity,
        summary=what + ".",
        positions=positions + corrections,
        on=held_on,
        rule=rule,
        clause=clause_for(adopted.version.clauses, rule),
        under_version=minutes.under_version,
        refs=refs,
    )


def draft_minutes_finding(
    record: Record, minutes: MinutesRecord, what: str, refs: dict[str, str]
) -> Finding:
    approver, number = _approver(record, minutes.body, minutes.meeting_date)
    later = _met_since(record, approver, minutes.meeting_date)
    adopted = record.version(number)
    rule = "minutes.approved_by"
    clause = clause_for(adopted.version.clauses, rule) if adopted else None
    if later:
        what += (
            f" were still a draft at the end of the period, though {record.body_name(approver)}, "
            f"which approves them, met on {later.held_on}"
        )
    else:
        what += (
            f" were still a draft at the end of the period, awaiting the next meeting of "
            f"{record.body_name(approver)}"
        )
    positions = [minutes.drafted_at] + ([later.held_at] if later and later.held_at else [])
    return Finding(
        kind="minutes-not-approved",
        severity="concern" if later else "note",
        summary=what + ".",
        positions=positions,
        on=minutes.meeting_date,
        rule=rule,
        clause=clause,
        under_version=number,
        refs=refs,
    )


# ----------------------------------------------------------------------------- decisions


def decision_findings(record: Record) -> list[Finding]:
    """Every motion decided in the period, and every decision a body took directly, each
    with the rule and the ToR version it was taken under."""
    findings = [
        motion_finding(record, motion)
        for motion in record.motions.values()
        if record.in_period(motion.decided_on)
    ]
    for decision in record.decisions:
        if not record.in_period(decision.on):
            continue
        clause = record.clause(decision.under_version, decision.rule)
        where = f", ToR clause {clause}" if clause else ""
        findings.append(
            Finding(
                kind="decision-made",
                severity="ok",
                summary=(
                    (f"{record.body_name(decision.body)} " if decision.body else "")
                    + f"{decision.what} ({_ref(decision.decision_ref)}), under ToR version "
                    f"{decision.under_version} ({decision.rule}{where})."
                ),
                positions=[decision.position],
                on=decision.on,
                rule=decision.rule,
                clause=clause,
                under_version=decision.under_version,
                refs={"act": decision.act, **decision.refs},
            )
        )
    return findings


def motion_finding(record: Record, motion: Motion) -> Finding:
    text = motion.text if len(motion.text) <= 200 else motion.text[:199] + "…"
    where = f", ToR clause {motion.clause}" if motion.clause else ""
    summary = (
        f"A motion to {record.body_name(motion.body)} ({motion.decides}: {text!r}) was "
        f"{motion.outcome} by {motion.via}, under ToR version {motion.under_version} "
        f"({motion.rule}{where})."
    )
    if motion.effect_refused:
        summary += f" Its effect was refused: {motion.effect_refused}"
    return Finding(
        kind="motion-decided",
        severity="note" if motion.effect_refused else "ok",
        summary=summary,
        positions=motion.positions,
        on=motion.decided_on,
        rule=motion.rule,
        clause=motion.clause,
        under_version=motion.under_version,
        refs={"motion_id": motion.motion_id, "body": motion.body, "outcome": motion.outcome or ""},
    )


# ----------------------------------------------------------------------------- terms of office


def term_end_findings(record: Record) -> list[Finding]:
    """Terms of office and of committee seats that ran their course in the period."""
    findings = []
    for holding in [*record.holdings.values(), *record.seats.values()]:
        ends = holding.ends_on
        if ends is None or holding.until != ends or not record.in_period(ends):
            continue
        seat = holding.holding_id in record.seats
        what = (
            f"a seat on {record.body_name(holding.key)}"
            if seat
            else f"the office of {record.office_name(holding.key)}"
        )
        rule = f"{'bodies' if seat else 'offices'}.{holding.key}.term_months"
        findings.append(
            Finding(
                kind="term-ended",
                severity="ok",
                summary=(
                    f"The term of {holding.organisation} in {what}, from "
                    f"{holding.starts_on.isoformat()}, ended on {ends.isoformat()}."
                ),
                positions=[holding.position],
                on=ends,
                rule=rule,
                clause=record.clause(holding.under_version, rule),
                under_version=holding.under_version,
                refs={
                    ("body" if seat else "office"): holding.key,
                    ("seat_id" if seat else "holding_id"): holding.holding_id,
                },
            )
        )
    return findings


def terms_of_office_findings(record: Record) -> list[Finding]:
    """Every office of the ToR in force at the period's end: who held it, whose term had
    run out, which seats were vacant; and committees' required seats left empty."""
    if not record.versions or record.versions[0].version.effective_from > record.end:
        return []
    adopted = record.version_on(record.end)
    findings: list[Finding] = []
    for office in adopted.version.rules.offices:
        holdings = [h for h in record.holdings.values() if h.key == office.key]
        current = [h for h in holdings if h.held_on(record.end)]
        for holding in current:
            findings.append(holder_finding(record, adopted, holding, office.term_months))
        vacant = office.seats - len(current)
        if vacant > 0:
            findings.append(vacancy_finding(record, adopted, office.key, vacant, holdings))
    for body in adopted.version.rules.bodies:
        findings += seat_findings(record, adopted, body.key)
    return findings


def holder_finding(
    record: Record, adopted: AdoptedVersion, holding: Holding, term_months: int | None
) -> Finding:
    office = record.office_name(holding.key)
    rule = f"offices.{holding.key}.term_months"
    clause = clause_for(adopted.version.clauses, rule)
    refs = {"office": holding.key, "holding_id": holding.holding_id}
    if holding.ends_on is None and term_months is not None:
        due = add_months(holding.starts_on, term_months)
        if due <= record.end:
            return Finding(
                kind="term-overdue",
                severity="concern",
                summary=(
                    f"{holding.organisation} has held the office of {office} since "
                    f"{holding.starts_on.isoformat()} with no end to its term; under ToR "
                    f"version {adopted.version.number} (clause {clause}) a term is "
                    f"{term_months} months, which ran out on {due.isoformat()}."
                ),
                positions=sorted({holding.position, adopted.position}),
                on=due,
                rule=rule,
                clause=clause,
                under_version=adopted.version.number,
                refs=refs,
            )
    ends = holding.until
    ending_soon = ends is not None and ends <= record.end + timedelta(days=EXPIRING_WITHIN_DAYS)
    return Finding(
        kind="term-ending" if ending_soon else "office-held",
        severity="note" if ending_soon else "ok",
        summary=(
            f"{holding.organisation} held the office of {office} at the end of the period, "
            f"since {holding.starts_on.isoformat()}, "
            + (f"until {ends.isoformat()}." if ends else "until replaced.")
            + (f" The term ends within {EXPIRING_WITHIN_DAYS} days." if ending_soon else "")
        ),
        positions=[holding.position],
        on=holding.starts_on,
        rule=rule if ends else None,
        clause=clause if ends else None,
        under_version=holding.under_version,
        refs=refs,
    )


def vacancy_finding(
    record: Record, adopted: AdoptedVersion, key: str, vacant: int, holdings: list[Holding]
) -> Finding:
    """A seat of an office empty at the period's end: a term that ran out with no
    successor, a holder who left, or a seat never filled."""
    office = record.office_name(key)
    ended = [h for h in holdings if h.until is not None and h.until <= record.end]
    successors = sorted(h.starts_on for h in holdings if h.starts_on > record.end)
    waiting = f" A successor takes office on {successors[0].isoformat()}." if successors else ""
    severity: Severity = "note" if successors else "concern"
    seats = f"{vacant} seat(s) of the office of {office} were vacant at the end of the period"
    refs = {"office": key}
    if not ended:
        rule = f"offices.{key}"
        clause = clause_for(adopted.version.clauses, rule)
        return Finding(
            kind="office-vacant",
            severity=severity,
            summary=f"{seats}: never filled (ToR clause {clause} provides the office).{waiting}",
            positions=[adopted.position],
            on=record.end,
            rule=rule,
            clause=clause,
            under_version=adopted.version.number,
            refs=refs,
        )
    last = max(ended, key=lambda h: (h.until or date.min, h.position))
    assert last.until is not None
    refs["holding_id"] = last.holding_id
    if last.left_on is not None and last.left_at is not None and last.until == last.left_on:
        rule = f"offices.{key}"
        clause = clause_for(adopted.version.clauses, rule)
        return Finding(
            kind="office-vacant",
            severity=severity,
            summary=(
                f"{seats}: {last.organisation} left on {last.left_on.isoformat()} and no one "
                f"has taken its place.{waiting}"
            ),
            positions=[last.position, last.left_at],
            on=last.left_on,
            rule=rule,
            clause=clause,
            under_version=adopted.version.number,
            refs=refs,
        )
    rule = f"offices.{key}.term_months"
    clause = clause_for(adopted.version.clauses, rule)
    return Finding(
        kind="term-expired",
        severity=severity,
        summary=(
            f"{seats}: the term of {last.organisation} ended on {last.until.isoformat()} "
            f"(a term of ToR version {last.under_version}) and no successor took office."
            f"{waiting}"
        ),
        positions=[last.position],
        on=last.until,
        rule=rule,
        clause=record.clause(last.under_version, rule),
        under_version=last.under_version,
        refs=refs,
    )


def seat_findings(record: Record, adopted: AdoptedVersion, key: str) -> list[Finding]:
    """A committee's required seats left empty, and its seats held past their term."""
    body = adopted.version.rules.body(key)
    assert body is not None
    current = [s for s in record.seats.values() if s.key == key and s.held_on(record.end)]
    findings = []
    filled = {s.required_seat for s in current}
    for seat in body.required_seats:
        if seat.key in filled:
            continue
        rule = f"bodies.{key}.required_seats"
        clause = clause_for(adopted.version.clauses, rule)
        findings.append(
            Finding(
                kind="seat-vacant",
                severity="concern",
                summary=(
                    f"The required seat {seat.name!r} on {record.body_name(key)} was empty at "
                    f"the end of the period (ToR clause {clause})."
                ),
                positions=[adopted.position],
                on=record.end,
                rule=rule,
                clause=clause,
                under_version=adopted.version.number,
                refs={"body": key, "seat": seat.key},
            )
        )
    for held in current:
        if held.ends_on is None and body.term_months is not None:
            due = add_months(held.starts_on, body.term_months)
            if due <= record.end:
                rule = f"bodies.{key}.term_months"
                clause = clause_for(adopted.version.clauses, rule)
                findings.append(
                    Finding(
                        kind="term-overdue",
                        severity="concern",
                        summary=(
                            f"{held.organisation} has sat on {record.body_name(key)} since "
                            f"{held.starts_on.isoformat()} with no end to its term; a term is "
                            f"{body.term_months} months (ToR clause {clause}), which ran out "
                            f"on {due.isoformat()}."
                        ),
                        positions=sorted({held.position, adopted.position}),
                        on=due,
                        rule=rule,
                        clause=clause,
                        under_version=adopted.version.number,
                        refs={"body": key, "seat_id": held.holding_id},
                    )
                )
    return findings


# ----------------------------------------------------------------------------- the ToR


def amendment_findings(record: Record) -> list[Finding]:
    """Amendments decided in the period, and those still undecided at its end."""
    findings = []
    for amendment in record.amendments.values():
        if record.in_period(amendment.decided_on):
            findings.append(decided_amendment_finding(record, amendment))
        elif amendment.proposed_on <= record.end and (
            amendment.decided_on is None or amendment.decided_on > record.end
        ):
            findings.append(
                Finding(
                    kind="amendment-pending",
                    severity="note",
                    summary=(
                        f"An amendment proposed on {amendment.proposed_on.isoformat()} (to "
                        f"version {amendment.base_version}) was still undecided at the end of "
                        "the period."
                    ),
                    positions=[amendment.proposed_at],
                    on=amendment.proposed_on,
                    refs={"amendment_id": amendment.amendment_id},
                )
            )
    return findings


def decided_amendment_finding(record: Record, amendment: Amendment) -> Finding:
    assert amendment.decided_at is not None
    rule = "review.amendments_approved_by"
    clause = record.clause(amendment.under_version, rule) if amendment.under_version else None
    positions = [amendment.proposed_at, amendment.decided_at]
    refs = {"amendment_id": amendment.amendment_id}
    if amendment.state == "approved":
        assert amendment.effective_from is not None
        return Finding(
            kind="amendment-adopted",
            severity="ok",
            summary=(
                f"{record.body_name(amendment.by_body)} adopted version "
                f"{amendment.version} of the Terms of Reference ({_ref(amendment.decision_ref)}), "
                f"in force from {amendment.effective_from.isoformat()}; decided under version "
                f"{amendment.under_version}" + (f", ToR clause {clause}." if clause else ".")
            ),
            positions=positions,
            on=amendment.decided_on,
            rule=rule,
            clause=clause,
            under_version=amendment.under_version,
            refs={**refs, "version": str(amendment.version)},
        )
    return Finding(
        kind=f"amendment-{amendment.state}",
        severity="ok",
        summary=(
            f"An amendment proposed on {amendment.proposed_on.isoformat()} was "
            f"{amendment.state}"
            + (f" ({_ref(amendment.decision_ref)})." if amendment.decision_ref else ".")
        ),
        positions=positions,
        on=amendment.decided_on,
        rule=rule if amendment.state == "rejected" else None,
        clause=clause if amendment.state == "rejected" else None,
        under_version=amendment.under_version,
        refs=refs,
    )


def review_findings(record: Record) -> list[Finding]:
    """Reviews concluded in the period (on time or late), one still open at its end, and
    whether the next was overdue at its end."""
    if not record.versions or record.versions[0].version.effective_from > record.end:
        return []
    findings = []
    for review in record.reviews:
        if record.in_period(review.concluded_on):
            findings.append(concluded_review_finding(record, review))
    findings.append(review_status_finding(record))
    return findings


def concluded_review_finding(record: Record, review: Review) -> Finding:
    assert review.concluded_at is not None and review.concluded_on is not None
    rule = "review.cadence_months"
    clause = record.clause(review.under_version, rule)
    late = review.concluded_on > review.due_on
    outcome = {"no-change": "no change", "amendments-proposed": "amendments proposed"}.get(
        review.outcome or "", review.outcome or ""
    )
    return Finding(
        kind="review-done",
        severity="note" if late else "ok",
        summary=(
            f"A review of the Terms of Reference, opened on {review.opened_on.isoformat()}, "
            f"was concluded on {review.concluded_on.isoformat()} ({outcome})"
            + (
                f", after it fell due on {review.due_on.isoformat()}."
                if late
                else f"; it was due by {review.due_on.isoformat()}."
            )
        ),
        positions=[review.opened_at, review.concluded_at],
        on=review.concluded_on,
        rule=rule,
        clause=clause,
        under_version=review.under_version,
    )


def review_status_finding(record: Record) -> Finding:
    """When the next review fell due, as at the end of the period: the rule of
    `TermsOfReference.review_due_on` (a cadence after the later of the latest adoption and
    the last concluded review)."""
    end = record.end
    adopted = [v for v in record.versions if v.version.adopted_at.astimezone(UTC).date() <= end]
    latest = (adopted or record.versions[:1])[-1]
    done = [r for r in record.reviews if r.concluded_on is not None and r.concluded_on <= end]
    anchor_day = latest.version.adopted_at.astimezone(UTC).date()
    positions = [latest.position]
    if done and done[-1].concluded_on is not None and done[-1].concluded_on > anchor_day:
        anchor_day = done[-1].concluded_on
        positions.append(done[-1].concluded_at or latest.position)
    months = latest.version.rules.review.cadence_months
    due = add_months(anchor_day, months)
    rule = "review.cadence_months"
    clause = clause_for(latest.version.clauses, rule)
    every = f"every {months} months (ToR clause {clause})"
    open_reviews = [
        r
        for r in record.reviews
        if r.opened_on <= end and (r.concluded_on is None or r.concluded_on > end)
    ]
    if open_reviews:
        review = open_reviews[-1]
        return Finding(
            kind="review-open",
            severity="note",
            summary=(
                f"A review opened on {review.opened_on.isoformat()} was still open at the end "
                f"of the period; reviews are due {every}, this one by {due.isoformat()}."
            ),
            positions=sorted({*positions, review.opened_at}),
            on=review.opened_on,
            rule=rule,
            clause=clause,
            under_version=latest.version.number,
        )
    overdue = due < end
    return Finding(
        kind="review-overdue" if overdue else "review-not-due",
        severity="concern" if overdue else "ok",
        summary=(
            f"A review of the Terms of Reference fell due on {due.isoformat()} and none had "
            f"been opened by the end of the period; reviews are due {every}."
            if overdue
            else f"The next review of the Terms of Reference is due by {due.isoformat()}; "
            f"reviews are due {every}."
        ),
        positions=sorted(positions),
        on=due,
        rule=rule,
        clause=clause,
        under_version=latest.version.number,
    )


# ----------------------------------------------------------------------------- HTML

#: The pack's own styles, inline so that a saved copy prints the same anywhere.
STYLE = """
body { font-family: system-ui, sans-serif; line-height: 1.45; margin: 2rem auto;
  max-width: 60rem; padding: 0 1rem; color: #111; }
table { border-collapse: collapse; width: 100%; margin: 0.5rem 0 1.5rem; }
th, td { border: 1px solid #999; padding: 0.3rem 0.5rem; text-align: left; vertical-align: top; }
th { background: #eee; }
.concern { font-weight: bold; }
.day { white-space: nowrap; }
a { color: #0645ad; }
@media print { a { color: inherit; text-decoration: none; } section { break-inside: avoid-page; } }
"""
#: For the Content-Security-Policy of the HTML answer: this style and nothing else.
STYLE_HASH = "sha256-" + b64encode(hashlib.sha256(STYLE.encode()).digest()).decode()
SEVERITY_LABELS = {"ok": "OK", "note": "Note", "concern": "Concern"}


def _environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
    )


def event_link(slug: str, position: int) -> str:
    """Where the event log API shows the event at one position."""
    return f"/v1/tenants/{slug}/events?after={position - 1}&limit=1"


def render_html(pack: ReviewPack) -> str:
    """The pack as one plain, printable HTML page (every value escaped)."""
    template = _environment().get_template("audit/review.html")
    return template.render(
        pack=pack,
        style=Markup(STYLE),  # noqa: S704 - a constant of this module, not input
        labels=SEVERITY_LABELS,
        link=lambda position: event_link(pack.header.alliance.slug, position),
    )
