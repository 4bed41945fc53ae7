"""The Terms of Reference as the API reads them: versions, amendments, review status."""

from __future__ import annotations

from typing import Any

import msgspec

from domain.terms import APPROVED, PROPOSED, REJECTED, WITHDRAWN, TermsOfReference
from infra.stores import Sql
from projections.base import Projection, on

_json = msgspec.json.Encoder()


def _dump(value: Any) -> str:
    return _json.encode(value).decode()


class TermsOfReferenceView(Projection):
    name = "terms_of_reference"
    tables = {
        "terms_versions": (
            "CREATE TABLE IF NOT EXISTS terms_versions ("
            " number INTEGER PRIMARY KEY,"
            " effective_from TEXT NOT NULL,"
            " adopted_at TEXT NOT NULL,"
            " adopted_by TEXT NOT NULL,"
            " template TEXT,"
            " amendment_id TEXT,"
            " decision_ref TEXT,"
            " approved_by_body TEXT,"
            " clauses TEXT NOT NULL,"
            " rules TEXT NOT NULL)"
        ),
        "terms_amendments": (
            "CREATE TABLE IF NOT EXISTS terms_amendments ("
            " amendment_id TEXT PRIMARY KEY,"
            " seq BIGINT NOT NULL UNIQUE,"
            " state TEXT NOT NULL,"
            " base_version INTEGER NOT NULL,"
            " rationale TEXT NOT NULL,"
            " changes TEXT NOT NULL,"
            " proposed_by TEXT NOT NULL,"
            " proposed_at TEXT NOT NULL,"
            " decided_by TEXT,"
            " decided_at TEXT,"
            " decision_ref TEXT,"
            " decided_by_body TEXT,"
            " reason TEXT,"
            " version INTEGER,"
            " effective_from TEXT,"
            " under_version INTEGER)"
        ),
        "terms_review": (
            "CREATE TABLE IF NOT EXISTS terms_review ("
            " id INTEGER PRIMARY KEY,"
            " cadence_months INTEGER NOT NULL,"
            " last_adopted_at TEXT NOT NULL,"
            " last_reviewed_at TEXT,"
            " last_outcome TEXT,"
            " review_open INTEGER NOT NULL,"
            " review_opened_at TEXT,"
            " review_opened_by TEXT)"
        ),
    }

    @on(TermsOfReference.Adopted)
    def adopted(self, sql: Sql, event: TermsOfReference.Adopted, position: int) -> None:
        at = event.timestamp.isoformat()
        sql.execute(
            "INSERT INTO terms_versions (number, effective_from, adopted_at, adopted_by, template,"
            " clauses, rules) VALUES (1, ?, ?, ?, ?, ?, ?)",
            (
                event.effective_from,
                at,
                event.adopted_by,
                event.template,
                _dump(event.clauses),
                _dump(event.rules),
            ),
        )
        sql.execute(
            "INSERT INTO terms_review (id, cadence_months, last_adopted_at, review_open)"
            " VALUES (1, ?, ?, 0)",
            (event.rules["review"]["cadence_months"], at),
        )

    @on(TermsOfReference.AmendmentProposed)
    def proposed(self, sql: Sql, event: TermsOfReference.AmendmentProposed, position: int) -> None:
        sql.execute(
            "INSERT INTO terms_amendments (amendment_id, seq, state, base_version, rationale,"
            " changes, proposed_by, proposed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                event.amendment_id,
                position,
                PROPOSED,
                event.base_version,
                event.rationale,
                _dump(event.changes),
                event.proposed_by,
                event.timestamp.isoformat(),
            ),
        )

    @on(TermsOfReference.AmendmentApproved)
    def approved(self, sql: Sql, event: TermsOfReference.AmendmentApproved, position: int) -> None:
        at = event.timestamp.isoformat()
        sql.execute(
            "INSERT INTO terms_versions (number, effective_from, adopted_at, adopted_by,"
            " amendment_id, decision_ref, approved_by_body, clauses, rules)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                event.version,
                event.effective_from,
                at,
                event.approved_by,
                event.amendment_id,
                event.decision_ref,
                event.approved_by_body,
                _dump(event.clauses),
                _dump(event.rules),
            ),
        )
        sql.execute(
            "UPDATE terms_amendments SET state = ?, decided_by = ?, decided_at = ?,"
            " decision_ref = ?, decided_by_body = ?, version = ?, effective_from = ?,"
            " under_version = ? WHERE amendment_id = ?",
            (
                APPROVED,
                event.approved_by,
                at,
                event.decision_ref,
                event.approved_by_body,
                event.version,
                event.effective_from,
                event.under_version,
                event.amendment_id,
            ),
        )
        sql.execute(
            "UPDATE terms_review SET cadence_months = ?, last_adopted_at = ? WHERE id = 1",
            (event.rules["review"]["cadence_months"], at),
        )

    @on(TermsOfReference.AmendmentRejected)
    def rejected(self, sql: Sql, event: TermsOfReference.AmendmentRejected, position: int) -> None:
        sql.execute(
            "UPDATE terms_amendments SET state = ?, decided_by = ?, decided_at = ?,"
            " decision_ref = ?, reason = ?, under_version = ? WHERE amendment_id = ?",
            (
                REJECTED,
                event.rejected_by,
                event.timestamp.isoformat(),
                event.decision_ref,
                event.reason,
                event.under_version,
                event.amendment_id,
            ),
        )

    @on(TermsOfReference.AmendmentWithdrawn)
    def withdrawn(
        self, sql: Sql, event: TermsOfReference.AmendmentWithdrawn, position: int
    ) -> None:
        sql.execute(
            "UPDATE terms_amendments SET state = ?, decided_by = ?, decided_at = ?"
            " WHERE amendment_id = ?",
            (WITHDRAWN, event.withdrawn_by, event.timestamp.isoformat(), event.amendment_id),
        )

    @on(TermsOfReference.ReviewOpened)
    def review_opened(self, sql: Sql, event: TermsOfReference.ReviewOpened, position: int) -> None:
        sql.execute(
            "UPDATE terms_review SET review_open = 1, review_opened_at = ?, review_opened_by = ?"
            " WHERE id = 1",
            (event.timestamp.isoformat(), event.opened_by),
        )

    @on(TermsOfReference.ReviewConcluded)
    def review_concluded(
        self, sql: Sql, event: TermsOfReference.ReviewConcluded, position: int
    ) -> None:
        sql.execute(
            "UPDATE terms_review SET review_open = 0, last_reviewed_at = ?, last_outcome = ?,"
            " review_opened_at = NULL, review_opened_by = NULL WHERE id = 1",
            (event.timestamp.isoformat(), event.outcome),
        )


VERSION_COLUMNS = (
    "number, effective_from, adopted_at, adopted_by, template, amendment_id, decision_ref,"
    " approved_by_body"
)


def _version(row: dict[str, Any] | None, *, full: bool) -> dict[str, Any] | None:
    if row is None:
        return None
    if full:
        row["clauses"] = msgspec.json.decode(row["clauses"])
        row["rules"] = msgspec.json.decode(row["rules"])
    return row


def version(sql: Sql, number: int) -> dict[str, Any] | None:
    row = sql.one(
        f"SELECT {VERSION_COLUMNS}, clauses, rules FROM terms_versions WHERE number = ?",  # noqa: S608
        (number,),
    )
    return _version(row, full=True)


def in_force(sql: Sql, at_iso: str, day_iso: str) -> dict[str, Any] | None:
    """The version in force at a moment: adopted by then, and effective by that day. An
    alliance onboarded with a start date still to come runs under version 1 until then
    (as `TermsOfReference.in_force_at` checks its commands)."""
    row = sql.one(
        f"SELECT {VERSION_COLUMNS}, clauses, rules FROM terms_versions"  # noqa: S608
        " WHERE effective_from <= ? AND adopted_at <= ? ORDER BY number DESC LIMIT 1",
        (day_iso, at_iso),
    )
    if row is None:
        row = sql.one(
            f"SELECT {VERSION_COLUMNS}, clauses, rules FROM terms_versions"  # noqa: S608
            " WHERE number = 1 AND adopted_at <= ?",
            (at_iso,),
        )
    return _version(row, full=True)


def versions(sql: Sql) -> list[dict[str, Any]]:
    return sql.all(f"SELECT {VERSION_COLUMNS} FROM terms_versions ORDER BY number")  # noqa: S608


AMENDMENT_COLUMNS = (
    "amendment_id, seq, state, base_version, rationale, changes, proposed_by, proposed_at,"
    " decided_by, decided_at, decision_ref, decided_by_body, reason, version, effective_from,"
    " under_version"
)


def _amendment(row: dict[str, Any]) -> dict[str, Any]:
    row["changes"] = msgspec.json.decode(row["changes"])
    return row


def amendment(sql: Sql, amendment_id: str) -> dict[str, Any] | None:
    row = sql.one(
        f"SELECT {AMENDMENT_COLUMNS} FROM terms_amendments WHERE amendment_id = ?",  # noqa: S608
        (amendment_id,),
    )
    return None if row is None else _amendment(row)


def amendments(sql: Sql, *, state: str | None, after: int, limit: int) -> list[dict[str, Any]]:
    """Amendments in the order they were proposed (keyset on `seq`, the log position)."""
    where: list[str] = ["seq > ?"]
    params: list[Any] = [after]
    if state is not None:
        where.append("state = ?")
        params.append(state)
    rows = sql.all(
        f"SELECT {AMENDMENT_COLUMNS} FROM terms_amendments WHERE {' AND '.join(where)}"  # noqa: S608
        " ORDER BY seq LIMIT ?",
        (*params, limit),
    )
    return [_amendment(row) for row in rows]


def review(sql: Sql) -> dict[str, Any] | None:
    """The review row, with the latest version's number and the day version 1 took
    effect (version 1's review is due a cadence after that day)."""
    return sql.one(
        "SELECT cadence_months, last_adopted_at, last_reviewed_at, last_outcome, review_open,"
        " review_opened_at, review_opened_by,"
        " (SELECT MAX(number) FROM terms_versions) AS latest_version,"
        " (SELECT effective_from FROM terms_versions WHERE number = 1) AS first_effective_from"
        " FROM terms_review WHERE id = 1"
    )
