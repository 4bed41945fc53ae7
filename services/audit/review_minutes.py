"""The review pack's minutes: the minutes of every meeting held in the period, and of any
approved or published in it: approved, published, still a draft, or never drafted."""

from __future__ import annotations

from datetime import date

from domain.rules import clause_for
from services.audit.review_history import Meeting, MinutesRecord
from services.audit.review_pack import Finding, Severity
from services.audit.review_record import Record


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
