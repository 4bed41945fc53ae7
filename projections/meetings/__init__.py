"""The meeting calendar: every meeting of every body, its agenda, and once held, who came."""

from __future__ import annotations

from typing import Any

import msgspec

from domain.meetings import CANCELLED, HELD, SCHEDULED, Meeting
from infra.stores import Sql
from projections.base import Projection, json_text, on

COLUMNS = (
    "meeting_id, seq, body, main, title, starts_at, on_date, format, location, link, status,"
    " agenda, cancelled_reason, held_on, attendance, apologies, quorum_needed, quorate,"
    " scheduled_by, under_version"
)


class MeetingCalendar(Projection):
    name = "meetings"
    tables = {
        "meetings": (
            "CREATE TABLE IF NOT EXISTS meetings ("
            " meeting_id TEXT PRIMARY KEY,"
            " seq BIGINT NOT NULL UNIQUE,"
            " body TEXT NOT NULL,"
            " main INTEGER NOT NULL,"
            " title TEXT NOT NULL,"
            " starts_at TEXT NOT NULL,"
            " on_date TEXT NOT NULL,"
            " format TEXT NOT NULL,"
            " location TEXT,"
            " link TEXT,"
            " status TEXT NOT NULL,"
            " agenda TEXT NOT NULL,"
            " cancelled_reason TEXT,"
            " held_on TEXT,"
            " attendance TEXT,"
            " apologies TEXT,"
            " quorum_needed INTEGER,"
            " quorate INTEGER,"
            " scheduled_by TEXT NOT NULL,"
            " under_version INTEGER NOT NULL)"
        ),
    }

    @on(Meeting.Scheduled)
    def scheduled(self, sql: Sql, event: Any, position: int) -> None:
        sql.execute(
            "INSERT INTO meetings (meeting_id, seq, body, main, title, starts_at, on_date, format,"
            " location, link, status, agenda, scheduled_by, under_version)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                str(event.originator_id),
                position,
                event.body,
                int(event.main),
                event.title,
                event.starts_at.isoformat(),
                event.starts_at.date().isoformat(),
                event.format,
                event.location,
                event.link,
                SCHEDULED,
                json_text(event.agenda),
                event.scheduled_by,
                event.under_version,
            ),
        )

    @on(Meeting.Rescheduled)
    def rescheduled(self, sql: Sql, event: Any, position: int) -> None:
        sql.execute(
            "UPDATE meetings SET starts_at = ?, on_date = ?, format = ?, location = ?, link = ?"
            " WHERE meeting_id = ?",
            (
                event.starts_at.isoformat(),
                event.starts_at.date().isoformat(),
                event.format,
                event.location,
                event.link,
                str(event.originator_id),
            ),
        )

    def _agenda(self, sql: Sql, meeting_id: str) -> list[dict[str, str]]:
        row = sql.one("SELECT agenda FROM meetings WHERE meeting_id = ?", (meeting_id,))
        assert row is not None
        agenda: list[dict[str, str]] = msgspec.json.decode(row["agenda"])
        return agenda

    @on(Meeting.AgendaItemAdded)
    def agenda_item_added(self, sql: Sql, event: Any, position: int) -> None:
        meeting_id = str(event.originator_id)
        agenda = [*self._agenda(sql, meeting_id), {"item_id": event.item_id, "title": event.title}]
        sql.execute(
            "UPDATE meetings SET agenda = ? WHERE meeting_id = ?", (json_text(agenda), meeting_id)
        )

    @on(Meeting.AgendaItemWithdrawn)
    def agenda_item_withdrawn(self, sql: Sql, event: Any, position: int) -> None:
        meeting_id = str(event.originator_id)
        agenda = [i for i in self._agenda(sql, meeting_id) if i["item_id"] != event.item_id]
        sql.execute(
            "UPDATE meetings SET agenda = ? WHERE meeting_id = ?", (json_text(agenda), meeting_id)
        )

    @on(Meeting.Cancelled)
    def cancelled(self, sql: Sql, event: Any, position: int) -> None:
        sql.execute(
            "UPDATE meetings SET status = ?, cancelled_reason = ? WHERE meeting_id = ?",
            (CANCELLED, event.reason, str(event.originator_id)),
        )

    @on(Meeting.Held)
    def held(self, sql: Sql, event: Any, position: int) -> None:
        sql.execute(
            "UPDATE meetings SET status = ?, held_on = ?, attendance = ?, apologies = ?,"
            " quorum_needed = ?, quorate = ? WHERE meeting_id = ?",
            (
                HELD,
                event.held_on.isoformat(),
                json_text(event.attendance),
                json_text(event.apologies),
                event.quorum_needed,
                int(event.quorate),
                str(event.originator_id),
            ),
        )


def _row(row: dict[str, Any]) -> dict[str, Any]:
    row["main"] = bool(row["main"])
    row["agenda"] = msgspec.json.decode(row["agenda"])
    for field in ("attendance", "apologies"):
        row[field] = None if row[field] is None else msgspec.json.decode(row[field])
    row["quorate"] = None if row["quorate"] is None else bool(row["quorate"])
    return row


def meetings(
    sql: Sql,
    *,
    body: str | None = None,
    status: str | None = None,
    from_date: str | None = None,
    to_date: str | None = None,
    after: int = 0,
    limit: int = 50,
) -> list[dict[str, Any]]:
    """Meetings in the order they were scheduled (seq), filtered."""
    where, params = _filters(body, status, from_date, to_date)
    where.append("seq > ?")
    rows = sql.all(
        f"SELECT {COLUMNS} FROM meetings WHERE {' AND '.join(where)}"  # noqa: S608
        " ORDER BY seq LIMIT ?",
        (*params, after, limit),
    )
    return [_row(r) for r in rows]


def upcoming(sql: Sql, *, from_moment: str, limit: int) -> list[dict[str, Any]]:
    """Scheduled meetings starting at or after a moment (ISO 8601, UTC), soonest first."""
    rows = sql.all(
        f"SELECT {COLUMNS} FROM meetings WHERE status = ? AND starts_at >= ?"  # noqa: S608
        " ORDER BY starts_at, seq LIMIT ?",
        (SCHEDULED, from_moment, limit),
    )
    return [_row(r) for r in rows]


def facts(sql: Sql) -> list[dict[str, Any]]:
    """Every meeting's id, body, day and status: what the compliance calendar needs."""
    return sql.all("SELECT meeting_id, body, on_date, status FROM meetings ORDER BY on_date, seq")


def meeting(sql: Sql, meeting_id: str) -> dict[str, Any] | None:
    row = sql.one(f"SELECT {COLUMNS} FROM meetings WHERE meeting_id = ?", (meeting_id,))  # noqa: S608
    return None if row is None else _row(row)


def _filters(
    body: str | None, status: str | None, from_date: str | None, to_date: str | None
) -> tuple[list[str], list[Any]]:
    where: list[str] = []
    params: list[Any] = []
    for clause, value in (
        ("body = ?", body),
        ("status = ?", status),
        ("on_date >= ?", from_date),
        ("on_date <= ?", to_date),
    ):
        if value is not None:
            where.append(clause)
            params.append(value)
    return where, params
