"""The review pack's Terms of Reference: amendments decided in the period or still
undecided at its end, reviews concluded in it (on time or late), one still open, and
whether the next was overdue."""

from __future__ import annotations

from datetime import UTC

from domain.rules import clause_for
from domain.terms import add_months
from services.audit.review_history import Amendment, Review
from services.audit.review_pack import Finding
from services.audit.review_record import Record, _ref, _review_anchor


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
    anchor_day = _review_anchor(latest.version)
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
