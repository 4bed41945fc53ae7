"""The review pack's offices and committee seats: terms that ran their course in the
period, and every office and committee at its end (who held it, whose term had run out,
which seats were vacant, which required seats were left empty)."""

from __future__ import annotations

from datetime import date, timedelta

from domain.rules import clause_for
from domain.terms import add_months
from services.audit.review_history import AdoptedVersion, Holding
from services.audit.review_pack import Finding, Severity
from services.audit.review_record import Record
from services.offices import EXPIRING_WITHIN_DAYS


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
