"""Use cases of the Terms of Reference: read versions, diff them, amend them, review them."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from domain.amendments import Changes
from domain.terms import TermsOfReference, add_months
from domain.terms_diff import VersionDiff, diff_versions
from projections import terms_of_reference as view
from services.errors import NotFound
from services.onboarding import directory_entry, ensure_active
from services.runtime import Runtime, Store
from services.tenancy import views


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
    anchor = max(
        date.fromisoformat(row["last_adopted_at"][:10]),
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


def _load(slug: str, store: Store) -> TermsOfReference:
    terms: TermsOfReference = store.app.repository.get(TermsOfReference.create_id(slug))
    return terms


def _amendment_exists(terms: TermsOfReference, amendment_id: str) -> None:
    if amendment_id not in terms.amendments:
        raise NotFound(f"no amendment {amendment_id!r} of these Terms of Reference")


def propose(runtime: Runtime, slug: str, *, rationale: str, changes: Changes, by: str) -> str:
    with runtime.tracer.start_as_current_span("command.propose_amendment"):
        ensure_active(runtime, slug)
        with runtime.tenant(slug) as store:
            terms = _load(slug, store)
            amendment_id = terms.propose_amendment(
                rationale=rationale, changes=changes, proposed_by=by
            )
            store.record(terms)
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
    with runtime.tracer.start_as_current_span("command.approve_amendment"):
        ensure_active(runtime, slug)
        now = runtime.clock()
        with runtime.tenant(slug) as store:
            terms = _load(slug, store)
            _amendment_exists(terms, amendment_id)
            number = terms.approve_amendment(
                amendment_id,
                body=body,
                decision_ref=decision_ref,
                effective_from=effective_from or now.date(),
                approved_by=by,
                now=now,
            )
            store.record(terms)
        return number


def reject(
    runtime: Runtime, slug: str, amendment_id: str, *, reason: str, decision_ref: str, by: str
) -> None:
    with runtime.tracer.start_as_current_span("command.reject_amendment"):
        ensure_active(runtime, slug)
        with runtime.tenant(slug) as store:
            terms = _load(slug, store)
            _amendment_exists(terms, amendment_id)
            terms.reject_amendment(
                amendment_id,
                reason=reason,
                decision_ref=decision_ref,
                rejected_by=by,
                now=runtime.clock(),
            )
            store.record(terms)


def withdraw(runtime: Runtime, slug: str, amendment_id: str, *, by: str) -> None:
    with runtime.tracer.start_as_current_span("command.withdraw_amendment"):
        ensure_active(runtime, slug)
        with runtime.tenant(slug) as store:
            terms = _load(slug, store)
            _amendment_exists(terms, amendment_id)
            terms.withdraw_amendment(amendment_id, withdrawn_by=by)
            store.record(terms)


def open_review(runtime: Runtime, slug: str, *, by: str) -> None:
    with runtime.tracer.start_as_current_span("command.open_review"):
        ensure_active(runtime, slug)
        with runtime.tenant(slug) as store:
            terms = _load(slug, store)
            terms.open_review(opened_by=by, now=runtime.clock())
            store.record(terms)


def conclude_review(
    runtime: Runtime,
    slug: str,
    *,
    outcome: str,
    notes: str,
    amendment_ids: list[str],
    by: str,
) -> None:
    with runtime.tracer.start_as_current_span("command.conclude_review"):
        ensure_active(runtime, slug)
        with runtime.tenant(slug) as store:
            terms = _load(slug, store)
            for amendment_id in amendment_ids:
                _amendment_exists(terms, amendment_id)
            terms.conclude_review(
                outcome=outcome,
                notes=notes,
                amendment_ids=amendment_ids,
                concluded_by=by,
                now=runtime.clock(),
            )
            store.record(terms)
