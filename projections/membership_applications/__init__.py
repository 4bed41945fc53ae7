"""Applications to join and the stage each has reached on the ToR's route."""

from __future__ import annotations

from typing import Any

from domain.membership import CIRCULATED, RECOMMENDED, WITHDRAWN, MembershipApplication
from domain.privacy import shown
from infra.stores import Sql
from projections.base import Projection, on

COLUMNS = (
    "application_id, seq, stage, capacity, name, person_name, signatory_name, signatory_role,"
    " organisation_kind, region, legal_entity, governmental, requested_status, request_text,"
    " submitted_at, submitted_by, under_version, circulated_to, circulated_at, recommended_by,"
    " recommendation, recommendation_note, recommended_at, decided_by_body, standing, reason,"
    " decision_ref, decided_at, member_id, withdrawn_reason, closed_at"
)


class MembershipApplicationsView(Projection):
    name = "membership_applications"
    tables = {
        "applications": (
            "CREATE TABLE IF NOT EXISTS applications ("
            " application_id TEXT PRIMARY KEY,"
            " seq BIGINT NOT NULL UNIQUE,"
            " stage TEXT NOT NULL,"
            " capacity TEXT NOT NULL,"
            " name TEXT,"
            " person_name TEXT,"
            " signatory_name TEXT,"
            " signatory_role TEXT,"
            " organisation_kind TEXT,"
            " region TEXT,"
            " legal_entity INTEGER NOT NULL,"
            " governmental INTEGER NOT NULL,"
            " requested_status TEXT NOT NULL,"
            " request_text TEXT NOT NULL,"
            " submitted_at TEXT NOT NULL,"
            " submitted_by TEXT NOT NULL,"
            " under_version INTEGER NOT NULL,"
            " circulated_to TEXT, circulated_at TEXT,"
            " recommended_by TEXT, recommendation TEXT, recommendation_note TEXT,"
            " recommended_at TEXT,"
            " decided_by_body TEXT, standing TEXT, reason TEXT, decision_ref TEXT,"
            " decided_at TEXT, member_id TEXT, withdrawn_reason TEXT, closed_at TEXT)"
        ),
    }

    @on(MembershipApplication.Submitted)
    def submitted(self, sql: Sql, event: Any, position: int) -> None:
        applicant, person = event.applicant, event.person
        sql.execute(
            "INSERT INTO applications (application_id, seq, stage, capacity, name, person_name,"
            " signatory_name, signatory_role, organisation_kind, region, legal_entity,"
            " governmental, requested_status, request_text, submitted_at, submitted_by,"
            " under_version) VALUES (?, ?, 'submitted', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                str(event.originator_id),
                position,
                applicant["capacity"],
                applicant["name"],
                # An organisation's application names no person of its own (name is set).
                None if applicant["name"] else shown(person, "name"),
                shown(person, "signatory_name"),
                applicant["signatory_role"],
                applicant["organisation_kind"],
                applicant["region"],
                int(applicant["legal_entity"]),
                int(applicant["governmental"]),
                applicant["status"],
                event.request_text,
                event.timestamp.isoformat(),
                event.submitted_by,
                event.under_version,
            ),
        )

    @on(MembershipApplication.Circulated)
    def circulated(self, sql: Sql, event: Any, position: int) -> None:
        sql.execute(
            "UPDATE applications SET stage = ?, circulated_to = ?, circulated_at = ?"
            " WHERE application_id = ?",
            (CIRCULATED, event.to_body, event.timestamp.isoformat(), str(event.originator_id)),
        )

    @on(MembershipApplication.Recommended)
    def recommended(self, sql: Sql, event: Any, position: int) -> None:
        sql.execute(
            "UPDATE applications SET stage = ?, recommended_by = ?, recommendation = ?,"
            " recommendation_note = ?, recommended_at = ? WHERE application_id = ?",
            (
                RECOMMENDED,
                event.by_office,
                event.recommendation,
                event.note,
                event.timestamp.isoformat(),
                str(event.originator_id),
            ),
        )

    @on(MembershipApplication.Decided)
    def decided(self, sql: Sql, event: Any, position: int) -> None:
        at = event.timestamp.isoformat()
        sql.execute(
            "UPDATE applications SET stage = ?, decided_by_body = ?, standing = ?, reason = ?,"
            " decision_ref = ?, decided_at = ?, member_id = ?, closed_at = ?"
            " WHERE application_id = ?",
            (
                event.outcome,
                event.by_body,
                event.standing,
                event.reason,
                event.decision_ref,
                at,
                event.member_id,
                at,
                str(event.originator_id),
            ),
        )

    @on(MembershipApplication.Withdrawn)
    def withdrawn(self, sql: Sql, event: Any, position: int) -> None:
        sql.execute(
            "UPDATE applications SET stage = ?, withdrawn_reason = ?, closed_at = ?"
            " WHERE application_id = ?",
            (WITHDRAWN, event.reason, event.timestamp.isoformat(), str(event.originator_id)),
        )


def _row(row: dict[str, Any]) -> dict[str, Any]:
    row["legal_entity"] = bool(row["legal_entity"])
    row["governmental"] = bool(row["governmental"])
    return row


def find(sql: Sql, application_id: str) -> dict[str, Any] | None:
    row = sql.one(
        f"SELECT {COLUMNS} FROM applications WHERE application_id = ?",  # noqa: S608
        (application_id,),
    )
    return None if row is None else _row(row)


def page(sql: Sql, *, stage: str | None, after: int, limit: int) -> list[dict[str, Any]]:
    """Applications in the order they were made (keyset on `seq`), optionally of one stage."""
    where, params = ["seq > ?"], [after]
    if stage is not None:
        where.append("stage = ?")
        params.append(stage)  # type: ignore[arg-type]
    rows = sql.all(
        f"SELECT {COLUMNS} FROM applications WHERE {' AND '.join(where)}"  # noqa: S608
        " ORDER BY seq LIMIT ?",
        (*params, limit),
    )
    return [_row(row) for row in rows]


def open_with_name(sql: Sql, name: str) -> bool:
    """Whether an application by an organisation of this name is still open."""
    row = sql.one(
        "SELECT 1 AS found FROM applications WHERE lower(name) = lower(?)"
        " AND stage IN ('submitted', 'circulated', 'recommended')",
        (name,),
    )
    return row is not None
