"""The annual work plans: each year's stage and its items, with the body responsible."""

from __future__ import annotations

from typing import Any

from domain.work_plan import AGREED, DELIVERED, DRAFT, EVALUATED, IN_PROGRESS, AnnualWorkPlan
from infra.stores import Sql
from projections.base import Projection, on

ITEM_COLUMNS = (
    "item_id, year, seq, title, description, body, stage, last_note, progressed_at,"
    " delivered_at, evaluation, evaluated_at"
)


class WorkPlansView(Projection):
    name = "work_plans"
    tables = {
        "work_plans": (
            "CREATE TABLE IF NOT EXISTS work_plans ("
            " plan_id TEXT PRIMARY KEY,"
            " year INTEGER NOT NULL UNIQUE,"
            " stage TEXT NOT NULL,"
            " drafted_at TEXT NOT NULL,"
            " agreed_by_body TEXT,"
            " agreed_at TEXT,"
            " decision_ref TEXT,"
            " evaluation TEXT,"
            " evaluated_at TEXT)"
        ),
        "work_plan_items": (
            "CREATE TABLE IF NOT EXISTS work_plan_items ("
            " item_id TEXT PRIMARY KEY,"
            " year INTEGER NOT NULL,"
            " seq BIGINT NOT NULL,"
            " title TEXT NOT NULL,"
            " description TEXT NOT NULL,"
            " body TEXT NOT NULL,"
            " stage TEXT NOT NULL,"
            " last_note TEXT,"
            " progressed_at TEXT,"
            " delivered_at TEXT,"
            " evaluation TEXT,"
            " evaluated_at TEXT)"
        ),
    }

    @on(AnnualWorkPlan.Drafted)
    def drafted(self, sql: Sql, event: Any, position: int) -> None:
        sql.execute(
            "INSERT INTO work_plans (plan_id, year, stage, drafted_at) VALUES (?, ?, ?, ?)",
            (str(event.originator_id), event.year, DRAFT, event.timestamp.isoformat()),
        )

    @on(AnnualWorkPlan.ItemAdded)
    def item_added(self, sql: Sql, event: Any, position: int) -> None:
        sql.execute(
            "INSERT INTO work_plan_items (item_id, year, seq, title, description, body, stage)"
            " VALUES (?, (SELECT year FROM work_plans WHERE plan_id = ?), ?, ?, ?, ?, 'planned')",
            (
                event.item_id,
                str(event.originator_id),
                position,
                event.title,
                event.description,
                event.body,
            ),
        )

    @on(AnnualWorkPlan.Agreed)
    def agreed(self, sql: Sql, event: Any, position: int) -> None:
        sql.execute(
            "UPDATE work_plans SET stage = ?, agreed_by_body = ?, agreed_at = ?, decision_ref = ?"
            " WHERE plan_id = ?",
            (
                AGREED,
                event.by_body,
                event.timestamp.isoformat(),
                event.decision_ref,
                str(event.originator_id),
            ),
        )

    @on(AnnualWorkPlan.ItemProgressed)
    def progressed(self, sql: Sql, event: Any, position: int) -> None:
        sql.execute(
            "UPDATE work_plan_items SET stage = ?, last_note = ?, progressed_at = ?"
            " WHERE item_id = ?",
            (IN_PROGRESS, event.note, event.timestamp.isoformat(), event.item_id),
        )

    @on(AnnualWorkPlan.ItemDelivered)
    def delivered(self, sql: Sql, event: Any, position: int) -> None:
        sql.execute(
            "UPDATE work_plan_items SET stage = ?, last_note = ?, delivered_at = ?"
            " WHERE item_id = ?",
            (DELIVERED, event.note, event.timestamp.isoformat(), event.item_id),
        )

    @on(AnnualWorkPlan.ItemEvaluated)
    def item_evaluated(self, sql: Sql, event: Any, position: int) -> None:
        sql.execute(
            "UPDATE work_plan_items SET evaluation = ?, evaluated_at = ? WHERE item_id = ?",
            (event.evaluation, event.timestamp.isoformat(), event.item_id),
        )

    @on(AnnualWorkPlan.Evaluated)
    def evaluated(self, sql: Sql, event: Any, position: int) -> None:
        sql.execute(
            "UPDATE work_plans SET stage = ?, evaluation = ?, evaluated_at = ? WHERE plan_id = ?",
            (EVALUATED, event.summary, event.timestamp.isoformat(), str(event.originator_id)),
        )


def plan(sql: Sql, year: int) -> dict[str, Any] | None:
    row = sql.one(
        "SELECT year, stage, drafted_at, agreed_by_body, agreed_at, decision_ref, evaluation,"
        " evaluated_at FROM work_plans WHERE year = ?",
        (year,),
    )
    if row is None:
        return None
    row["items"] = sql.all(
        f"SELECT {ITEM_COLUMNS} FROM work_plan_items WHERE year = ? ORDER BY seq",  # noqa: S608
        (year,),
    )
    return row


def plans(sql: Sql) -> list[dict[str, Any]]:
    return sql.all(
        "SELECT year, stage, agreed_at, evaluated_at,"
        " (SELECT COUNT(*) FROM work_plan_items i WHERE i.year = p.year) AS items"
        " FROM work_plans p ORDER BY year DESC"
    )
