"""Use cases of the annual work plan: draft items, agree, progress, deliver, evaluate."""

from __future__ import annotations

from typing import Any, Literal

from domain.work_plan import AnnualWorkPlan
from projections import work_plans as view
from services.errors import NotFound
from services.runtime import Runtime
from services.tenancy import Command, command, views


def _plan(cmd: Command, year: int) -> AnnualWorkPlan:
    plan = cmd.find(AnnualWorkPlan, AnnualWorkPlan.create_id(year))
    if plan is None:
        raise NotFound(f"no work plan for {year} in this alliance")
    return plan


def _item(plan: AnnualWorkPlan, item_id: str) -> None:
    if item_id not in plan.items:
        raise NotFound(f"no item {item_id!r} in the {plan.year} work plan")


def add_item(
    runtime: Runtime, slug: str, year: int, *, title: str, description: str, body: str, by: str
) -> str:
    """Add an item to the year's plan (drafting the plan with its first item)."""
    with command(runtime, slug, "add_work_plan_item") as cmd:
        plan = cmd.find(AnnualWorkPlan, AnnualWorkPlan.create_id(year))
        plan = plan or AnnualWorkPlan.draft(year=year, by=by)
        item_id = plan.add_item(
            title=title, description=description, body=body, by=by, terms=cmd.terms
        )
        cmd.record(plan)
        return item_id


def agree(
    runtime: Runtime, slug: str, year: int, *, by_body: str, decision_ref: str, by: str
) -> None:
    with command(runtime, slug, "agree_work_plan") as cmd:
        plan = _plan(cmd, year)
        plan.agree(by_body=by_body, decision_ref=decision_ref, by=by, terms=cmd.terms)
        cmd.record(plan)


def update_item(
    runtime: Runtime,
    slug: str,
    year: int,
    item_id: str,
    *,
    act: Literal["progress", "deliver", "evaluate"],
    text: str,
    by: str,
) -> None:
    with command(runtime, slug, f"{act}_work_plan_item") as cmd:
        plan = _plan(cmd, year)
        _item(plan, item_id)
        if act == "progress":
            plan.progress(item_id, note=text, by=by)
        elif act == "deliver":
            plan.deliver(item_id, note=text, by=by)
        else:
            plan.evaluate_item(item_id, evaluation=text, by=by)
        cmd.record(plan)


def evaluate(
    runtime: Runtime,
    slug: str,
    year: int,
    *,
    summary: str,
    by_body: str,
    decision_ref: str,
    by: str,
) -> None:
    with command(runtime, slug, "evaluate_work_plan") as cmd:
        plan = _plan(cmd, year)
        plan.evaluate(
            summary=summary, by_body=by_body, decision_ref=decision_ref, by=by, terms=cmd.terms
        )
        cmd.record(plan)


def plan(runtime: Runtime, slug: str, year: int) -> dict[str, Any]:
    with views(runtime, slug) as sql:
        found = view.plan(sql, year)
    if found is None:
        raise NotFound(f"no work plan for {year} in this alliance")
    return found


def plans(runtime: Runtime, slug: str) -> list[dict[str, Any]]:
    with views(runtime, slug) as sql:
        return view.plans(sql)
