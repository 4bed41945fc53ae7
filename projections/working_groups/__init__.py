"""Working groups: their stage, own terms of reference, leads, members and reports."""

from __future__ import annotations

from typing import Any

import msgspec

from domain.working_groups import DISSOLVED, ESTABLISHED, PROPOSED, WorkingGroup
from infra.stores import Sql
from projections.base import Projection, json_text, on

GROUP_COLUMNS = (
    "group_id, seq, name, purpose, body, stage, own_terms, leads, proposed_at, proposed_by,"
    " established_at, established_by_body, decision_ref, dissolved_at, dissolved_reason"
)


class WorkingGroupsView(Projection):
    name = "working_groups"
    tables = {
        "working_groups": (
            "CREATE TABLE IF NOT EXISTS working_groups ("
            " group_id TEXT PRIMARY KEY,"
            " seq BIGINT NOT NULL UNIQUE,"
            " name TEXT NOT NULL,"
            " purpose TEXT NOT NULL,"
            " body TEXT NOT NULL,"
            " stage TEXT NOT NULL,"
            " own_terms TEXT,"
            " leads TEXT NOT NULL,"
            " proposed_at TEXT NOT NULL,"
            " proposed_by TEXT NOT NULL,"
            " established_at TEXT,"
            " established_by_body TEXT,"
            " decision_ref TEXT,"
            " dissolved_at TEXT,"
            " dissolved_reason TEXT)"
        ),
        "working_group_members": (
            "CREATE TABLE IF NOT EXISTS working_group_members ("
            " group_id TEXT NOT NULL,"
            " member_id TEXT NOT NULL,"
            " joined_at TEXT NOT NULL,"
            " PRIMARY KEY (group_id, member_id))"
        ),
        "working_group_reports": (
            "CREATE TABLE IF NOT EXISTS working_group_reports ("
            " report_id TEXT PRIMARY KEY,"
            " group_id TEXT NOT NULL,"
            " seq BIGINT NOT NULL,"
            " title TEXT NOT NULL,"
            " summary TEXT NOT NULL,"
            " presented_to TEXT NOT NULL,"
            " recorded_at TEXT NOT NULL)"
        ),
    }

    @on(WorkingGroup.Proposed)
    def proposed(self, sql: Sql, event: Any, position: int) -> None:
        sql.execute(
            "INSERT INTO working_groups (group_id, seq, name, purpose, body, stage, leads,"
            " proposed_at, proposed_by) VALUES (?, ?, ?, ?, ?, ?, '[]', ?, ?)",
            (
                str(event.originator_id),
                position,
                event.name,
                event.purpose,
                event.body,
                PROPOSED,
                event.timestamp.isoformat(),
                event.proposed_by,
            ),
        )

    @on(WorkingGroup.Established)
    def established(self, sql: Sql, event: Any, position: int) -> None:
        group = str(event.originator_id)
        sql.execute(
            "UPDATE working_groups SET stage = ?, own_terms = ?, leads = ?, established_at = ?,"
            " established_by_body = ?, decision_ref = ? WHERE group_id = ?",
            (
                ESTABLISHED,
                event.own_terms,
                json_text(event.leads),
                event.timestamp.isoformat(),
                event.by_body,
                event.decision_ref,
                group,
            ),
        )
        self._join(sql, group, event.leads, event.timestamp.isoformat())

    @on(WorkingGroup.LeadsChanged)
    def leads_changed(self, sql: Sql, event: Any, position: int) -> None:
        group = str(event.originator_id)
        sql.execute(
            "UPDATE working_groups SET leads = ? WHERE group_id = ?",
            (json_text(event.leads), group),
        )
        self._join(sql, group, event.leads, event.timestamp.isoformat())

    @staticmethod
    def _join(sql: Sql, group: str, members: list[str], at: str) -> None:
        for member_id in members:
            if (
                sql.one(
                    "SELECT 1 AS found FROM working_group_members WHERE group_id = ?"
                    " AND member_id = ?",
                    (group, member_id),
                )
                is None
            ):
                sql.execute(
                    "INSERT INTO working_group_members (group_id, member_id, joined_at)"
                    " VALUES (?, ?, ?)",
                    (group, member_id, at),
                )

    @on(WorkingGroup.MemberJoined)
    def joined(self, sql: Sql, event: Any, position: int) -> None:
        self._join(sql, str(event.originator_id), [event.member_id], event.timestamp.isoformat())

    @on(WorkingGroup.MemberLeft)
    def left(self, sql: Sql, event: Any, position: int) -> None:
        sql.execute(
            "DELETE FROM working_group_members WHERE group_id = ? AND member_id = ?",
            (str(event.originator_id), event.member_id),
        )

    @on(WorkingGroup.ReportRecorded)
    def reported(self, sql: Sql, event: Any, position: int) -> None:
        sql.execute(
            "INSERT INTO working_group_reports (report_id, group_id, seq, title, summary,"
            " presented_to, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                event.report_id,
                str(event.originator_id),
                position,
                event.title,
                event.summary,
                event.presented_to,
                event.timestamp.isoformat(),
            ),
        )

    @on(WorkingGroup.Dissolved)
    def dissolved(self, sql: Sql, event: Any, position: int) -> None:
        sql.execute(
            "UPDATE working_groups SET stage = ?, dissolved_at = ?, dissolved_reason = ?"
            " WHERE group_id = ?",
            (DISSOLVED, event.timestamp.isoformat(), event.reason, str(event.originator_id)),
        )


def _group(row: dict[str, Any]) -> dict[str, Any]:
    row["leads"] = msgspec.json.decode(row["leads"])
    return row


def groups(sql: Sql, *, stage: str | None, after: int, limit: int) -> list[dict[str, Any]]:
    where, params = ["seq > ?"], [after]
    if stage is not None:
        where.append("stage = ?")
        params.append(stage)  # type: ignore[arg-type]
    rows = sql.all(
        f"SELECT {GROUP_COLUMNS} FROM working_groups WHERE {' AND '.join(where)}"  # noqa: S608
        " ORDER BY seq LIMIT ?",
        (*params, limit),
    )
    return [_group(row) for row in rows]


def group(sql: Sql, group_id: str) -> dict[str, Any] | None:
    row = sql.one(
        f"SELECT {GROUP_COLUMNS} FROM working_groups WHERE group_id = ?",  # noqa: S608
        (group_id,),
    )
    if row is None:
        return None
    row = _group(row)
    row["members"] = sql.all(
        "SELECT member_id, joined_at FROM working_group_members WHERE group_id = ?"
        " ORDER BY joined_at, member_id",
        (group_id,),
    )
    row["reports"] = sql.all(
        "SELECT report_id, title, summary, presented_to, recorded_at"
        " FROM working_group_reports WHERE group_id = ? ORDER BY seq",
        (group_id,),
    )
    return row
