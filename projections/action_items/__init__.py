"""Action items from approved minutes: owner, due date, progress, done; overdue ones."""

from __future__ import annotations

from typing import Any

import msgspec

from domain.action_items import DONE, OPEN, ActionItem
from infra.stores import Sql
from projections.base import Projection, json_text, on

COLUMNS = (
    "action_item_id, seq, action_id, minutes_id, meeting_id, item_id, description,"
    " owner_kind, owner, due_on, confidential, status, completed_on, progress"
)


class ActionItemsView(Projection):
    name = "action_items"
    tables = {
        "action_items": (
            "CREATE TABLE IF NOT EXISTS action_items ("
            " action_item_id TEXT PRIMARY KEY,"
            " seq BIGINT NOT NULL UNIQUE,"
            " action_id TEXT NOT NULL,"
            " minutes_id TEXT NOT NULL,"
            " meeting_id TEXT NOT NULL,"
            " item_id TEXT NOT NULL,"
            " description TEXT NOT NULL,"
            " owner_kind TEXT NOT NULL,"
            " owner TEXT NOT NULL,"
            " due_on TEXT NOT NULL,"
            " confidential INTEGER NOT NULL,"
            " status TEXT NOT NULL,"
            " completed_on TEXT,"
            " progress TEXT NOT NULL)"
        ),
    }

    @on(ActionItem.Raised)
    def raised(self, sql: Sql, event: Any, position: int) -> None:
        sql.execute(
            "INSERT INTO action_items (action_item_id, seq, action_id, minutes_id, meeting_id,"
            " item_id, description, owner_kind, owner, due_on, confidential, status, progress)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '[]')",
            (
                str(event.originator_id),
                position,
                event.action_id,
                event.minutes_id,
                event.meeting_id,
                event.item_id,
                event.description,
                event.owner_kind,
                event.owner,
                event.due_on.isoformat(),
                int(event.confidential),
                OPEN,
            ),
        )

    def _note(self, sql: Sql, event: Any, on_day: str, *, done: bool) -> None:
        action = str(event.originator_id)
        row = sql.one("SELECT progress FROM action_items WHERE action_item_id = ?", (action,))
        assert row is not None
        progress = msgspec.json.decode(row["progress"])
        progress.append({"note": event.note, "on": on_day, "by": event.by, "done": done})
        sql.execute(
            "UPDATE action_items SET progress = ? WHERE action_item_id = ?",
            (json_text(progress), action),
        )

    @on(ActionItem.ProgressNoted)
    def progress_noted(self, sql: Sql, event: Any, position: int) -> None:
        self._note(sql, event, event.noted_on.isoformat(), done=False)

    @on(ActionItem.Completed)
    def completed(self, sql: Sql, event: Any, position: int) -> None:
        self._note(sql, event, event.completed_on.isoformat(), done=True)
        sql.execute(
            "UPDATE action_items SET status = ?, completed_on = ? WHERE action_item_id = ?",
            (DONE, event.completed_on.isoformat(), str(event.originator_id)),
        )


def _row(row: dict[str, Any]) -> dict[str, Any]:
    row["confidential"] = bool(row["confidential"])
    row["progress"] = msgspec.json.decode(row["progress"])
    return row


def action_items(
    sql: Sql,
    *,
    status: str | None,
    overdue_on: str | None,
    owner: str | None,
    minutes_id: str | None,
    after: int,
    limit: int,
) -> list[dict[str, Any]]:
    """Action items in the order they were raised; `overdue_on`: only those still open and
    due before that day."""
    where, params = ["seq > ?"], [after]
    if overdue_on is not None:
        where += ["status = ?", "due_on < ?"]
        params += [OPEN, overdue_on]  # type: ignore[list-item]
    for clause, value in (
        ("status = ?", status),
        ("owner = ?", owner),
        ("minutes_id = ?", minutes_id),
    ):
        if value is not None:
            where.append(clause)
            params.append(value)  # type: ignore[arg-type]
    rows = sql.all(
        f"SELECT {COLUMNS} FROM action_items WHERE {' AND '.join(where)}"  # noqa: S608
        " ORDER BY seq LIMIT ?",
        (*params, limit),
    )
    return [_row(r) for r in rows]


def action_item(sql: Sql, action_item_id: str) -> dict[str, Any] | None:
    row = sql.one(
        f"SELECT {COLUMNS} FROM action_items WHERE action_item_id = ?",  # noqa: S608
        (action_item_id,),
    )
    return None if row is None else _row(row)
