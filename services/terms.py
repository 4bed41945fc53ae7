"""Use cases of the Terms of Reference: read versions, diff them, amend them, review them."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from domain.amendments import Changes
from domain.terms import TermsOfReference, add_months
from domain.terms_diff import VersionDiff, diff_versions
from projections import terms_of_reference as view
from services.errors import NotFound
from services.onboarding import directory_entry
from services.runtime import Runtime
from services.tenancy import command, views


def current(runtime: Runtime, slug: str, *, as_of: datetime | None = None) -> dict[str, Any]:
    """The version in force now, or at `as_of`."""
    directory_entry(runtime, slug)
    at = as_of or runtime.clock()
    with runtime.tenant(slug) as store, store.read() as sql:
        found = view.in_force(sql, at.isoformat(), at.date().isoformat())
    if found is None:
        raise NotFound(f"no version of the Terms of Reference was in force at {at.isoformat()}")
    return found


def versions(runtime: Runtime, slug: str) -> list[dict[str, Any]]:
    with views(runtime, slug) as sql:
        return view.versions(sql)


def version(runtime: Runtime, slug: str, number: int) -> dict[str, Any]:
    with views(runtime, slug) as sql:
        found = view.version(sql, number)
    if found is None:
        raise NotFound(f"the Terms of Reference have no version {number}")
    return found


def diff(runtime: Runtime, slug: str, from_number: int, to_number: int) -> VersionDiff:
    """What changed from one version to another (either order)."""
    before = version(runtime, slug, from_number)
    after = version(runtime, slug, to_number)
    return diff_versions(
        from_number, before["clauses"], before["rules"], to_number, after["clauses"], after["rules"]
    )


def amendments(
    runtime: Runtime, slug: str, *, state: str | None, after: int, limit: int
) -> list[dict[str, Any]]:
    with views(runtime, slug) as sql:
        return view.amendments(sql, state=state, after=after, limit=limit)


def amendment(runtime: Runtime, slug: str, amendment_id: str) -> dict[str, Any]:
    with views(runtime, slug) as sql:
        found = view.amendment(sql, amendment_id)
    if found is None:
        raise NotFound(f"no amendment {amendment_id!r} of these Terms of Reference")
    return found


def review_status(runtime: Runtime, slug: str) -> dict[str, Any]:
    """When the next review is due, whether it is overdue, and whether one is open."""
    with views(runtime, slug) as sql:
        row = view.review(sql)
    if row is None:
        raise NotFound("these Terms of Reference have not been adopted yet")
    # The rule of TermsOfReference.review_due_on: version 1 counts from the day it took
    # effect (the start date onboarding set), a later version from its adoption.
    adopted = (
        row["first_effective_from"] if row["latest_version"] == 1 else row["last_adopted_at"][:10]
    )
    anchor = max(
        date.fromisoformat(adopted),
        date.fromisoformat(row["last_reviewed_at"][:10]) if row["last_reviewed_at"] else date.min,
    )
    due = add_months(anchor, row["cadence_months"])
    today = runtime.clock().date()
    return {
        "cadence_months": row["cadence_months"],
        "last_adopted_at": row["last_adopted_at"],
        "last_reviewed_at": row["last_reviewed_at"],
        "last_outcome": row["last_outcome"],
        "due_on": due,
        "overdue": today > due and not row["review_open"],
        "review_open": bool(row["review_open"]),
        "review_opened_at": row["review_opened_at"],
    }


# ----------------------------------------------------------------------------- writes


def _amendment_exists(terms: TermsOfReference, amendment_id: str) -> None:
    if amendment_id not in terms.amendments:
        raise NotFound(f"no amendment {amendment_id!r} of these Terms of Reference")


def propose(runtime: Runtime, slug: str, *, rationale: str, changes: Changes, by: str) -> str:
    with command(runtime, slug, "propose_amendment") as cmd:
        amendment_id = cmd.charter.propose_amendment(
            rationale=rationale, changes=changes, proposed_by=by
        )
        cmd.record(cmd.charter)
        return amendment_id


def approve(
    runtime: Runtime,
    slug: str,
    amendment_id: str,
    *,
    body: str,
    decision_ref: str,
    effective_from: date | None,
    by: str,
) -> int:
    with command(runtime, slug, "approve_amendment") as cmd:
        _amendment_exists(cmd.charter, amendment_id)
        number = cmd.charter.approve_amendment(
            amendment_id,
            body=body,
            decision_ref=decision_ref,
            effective_from=effective_from or cmd.today,
            approved_by=by,
            now=cmd.now,
        )
        cmd.record(cmd.charter)
        return number


def reject(
    runtime: Runtime, slug: str, amendment_id: str, *, reason: str, decision_ref: str, by: str
) -> None:
    with command(runtime, slug, "reject_amendment") as cmd:
        _amendment_exists(cmd.charter, amendment_id)
        cmd.charter.reject_amendment(
            amendment_id, reason=reason, decision_ref=decision_ref, rejected_by=by, now=cmd.now
        )
        cmd.record(cmd.charter)


def withdraw(runtime: Runtime, slug: str, amendment_id: str, *, by: str) -> None:
    with command(runtime, slug, "withdraw_amendment") as cmd:
        _amendment_exists(cmd.charter, amendment_id)
        cmd.charter.withdraw_amendment(amendment_id, withdrawn_by=by)
        cmd.record(cmd.charter)


def open_review(runtime: Runtime, slug: str, *, by: str) -> None:
    with command(runtime, slug, "open_review") as cmd:
        cmd.charter.open_review(opened_by=by, now=cmd.now)
        cmd.record(cmd.charter)


def conclude_review(
    runtime: Runtime,
    slug: str,
    *,
    outcome: str,
    notes: str,
    amendment_ids: list[str],
    by: str,
) -> None:
    with command(runtime, slug, "conclude_review") as cmd:
        for amendment_id in amendment_ids:
            _amendment_exists(cmd.charter, amendment_id)
        cmd.charter.conclude_review(
            outcome=outcome,
            notes=notes,
            amendment_ids=amendment_ids,
            concluded_by=by,
            now=cmd.now,
        )
        cmd.record(cmd.charter)
