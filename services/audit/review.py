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

The pack is made in parts, each a module of its own: `review_pack` (what a pack holds),
`review_history` and `review_record` (the log folded into a `Record`), and one module per
section's findings: `review_meetings`, `review_minutes`, `review_decisions`,
`review_offices` and `review_tor` (amendments and reviews). Membership's findings, and
those about offices taken and left, are made as the log is folded.
"""

from __future__ import annotations

import hashlib
from base64 import b64encode
from collections.abc import Iterable, Iterator
from datetime import date, datetime
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from domain.terms import TermsOfReference, add_months
from services import event_log, onboarding
from services.audit.review_decisions import decision_findings
from services.audit.review_history import ONE_DAY
from services.audit.review_meetings import meeting_findings
from services.audit.review_minutes import minutes_findings
from services.audit.review_offices import term_end_findings, terms_of_office_findings
from services.audit.review_pack import (
    AllianceInfo,
    BodyTally,
    Finding,
    Header,
    PositionRange,
    ReviewPack,
    Section,
    Severity,
    SeverityCounts,
    VersionInForce,
)
from services.audit.review_record import Record
from services.audit.review_tor import amendment_findings, review_findings
from services.errors import InvalidRequest
from services.event_log import LoggedEvent
from services.runtime import Runtime

__all__ = [
    "LOG_PAGE",
    "MAX_PERIOD_MONTHS",
    "SEVERITY_LABELS",
    "STYLE",
    "STYLE_HASH",
    "TEMPLATES",
    "AllianceInfo",
    "BodyTally",
    "Finding",
    "Header",
    "PositionRange",
    "ReviewPack",
    "Section",
    "Severity",
    "SeverityCounts",
    "VersionInForce",
    "build_pack",
    "check_period",
    "event_link",
    "parse_day",
    "read_events",
    "render_html",
    "review_pack",
    "review_period",
]

#: Events read from the log at a time.
LOG_PAGE = 1000
#: The longest period one pack may cover.
MAX_PERIOD_MONTHS = 120
TEMPLATES = Path(__file__).resolve().parent.parent / "api" / "templates"


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
    try:
        return add_months(last, -months) + ONE_DAY, last
    except ValueError:  # the period would start before the first day a date can have
        raise InvalidRequest(
            f"to ({last.isoformat()}): the {months}-month review period ending then would "
            "start before the year 1; give a later day"
        ) from None


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
