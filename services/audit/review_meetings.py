"""The review pack's meetings: every meeting the ToR required in the period (held, missed,
or still open at its end), every meeting held in it, those cancelled, and each body's
tally."""

from __future__ import annotations

from domain.cadence import Requirement, tor_year_of, year_calendar
from services.audit.review_history import ONE_DAY, Meeting
from services.audit.review_pack import BodyTally, Finding, Severity
from services.audit.review_record import Record

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
