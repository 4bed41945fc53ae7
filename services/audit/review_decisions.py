"""The review pack's decisions: every motion decided in the period, and every decision a
body took directly, each with the rule and the ToR version it was taken under."""

from __future__ import annotations

from services.audit.review_history import Motion
from services.audit.review_pack import Finding
from services.audit.review_record import Record, _ref


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
