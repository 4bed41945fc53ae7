"""Use cases of working groups: propose, establish, join, leave, report, dissolve."""

from __future__ import annotations

from typing import Any

from domain.errors import MemberStateConflict
from domain.membership import Member
from domain.working_groups import WorkingGroup
from projections import working_groups as view
from services.errors import NotFound
from services.runtime import Runtime
from services.tenancy import Command, command, views


def _group(cmd: Command, group_id: str) -> WorkingGroup:
    return cmd.get(WorkingGroup, group_id, "working group")


def _active_members(cmd: Command, member_ids: list[str], *, leads: bool = False) -> None:
    """Working groups are formed from the membership: each must be an active member, and
    a lead a full member (not an observer or advisory member)."""
    for member_id in member_ids:
        member = cmd.get(Member, member_id, "member")
        if not member.is_active:
            raise MemberStateConflict(
                f"member {member_id!r} is {member.status}: only active members take part in "
                "working groups"
            )
        if leads and member.standing != "member":
            raise MemberStateConflict(
                f"member {member_id!r} is an {member.standing}: a working group is led by "
                "full members"
            )


def propose(runtime: Runtime, slug: str, *, name: str, purpose: str, by: str) -> str:
    with command(runtime, slug, "propose_working_group") as cmd:
        group = WorkingGroup.propose(name=name, purpose=purpose, by=by, terms=cmd.terms)
        cmd.record(group)
        return str(group.id)


def establish(
    runtime: Runtime,
    slug: str,
    group_id: str,
    *,
    own_terms: str,
    leads: list[str],
    by_body: str,
    decision_ref: str,
    by: str,
) -> None:
    with command(runtime, slug, "establish_working_group") as cmd:
        group = _group(cmd, group_id)
        _active_members(cmd, leads, leads=True)
        group.establish(
            own_terms=own_terms,
            leads=leads,
            by_body=by_body,
            decision_ref=decision_ref,
            by=by,
            terms=cmd.terms,
        )
        cmd.record(group)


def change_leads(
    runtime: Runtime,
    slug: str,
    group_id: str,
    *,
    leads: list[str],
    by_body: str,
    decision_ref: str,
    by: str,
) -> None:
    with command(runtime, slug, "change_working_group_leads") as cmd:
        group = _group(cmd, group_id)
        _active_members(cmd, leads, leads=True)
        group.change_leads(
            leads=leads, by_body=by_body, decision_ref=decision_ref, by=by, terms=cmd.terms
        )
        cmd.record(group)


def join(runtime: Runtime, slug: str, group_id: str, *, member_id: str, by: str) -> None:
    with command(runtime, slug, "join_working_group") as cmd:
        group = _group(cmd, group_id)
        _active_members(cmd, [member_id])
        group.join(member_id, by=by)
        cmd.record(group)


def leave(runtime: Runtime, slug: str, group_id: str, *, member_id: str, by: str) -> None:
    with command(runtime, slug, "leave_working_group") as cmd:
        group = _group(cmd, group_id)
        group.leave(member_id, by=by)
        cmd.record(group)


def report(
    runtime: Runtime,
    slug: str,
    group_id: str,
    *,
    title: str,
    summary: str,
    presented_to: str,
    by: str,
) -> str:
    with command(runtime, slug, "record_working_group_report") as cmd:
        group = _group(cmd, group_id)
        report_id = group.record_report(
            title=title, summary=summary, presented_to=presented_to, by=by
        )
        cmd.record(group)
        return report_id


def dissolve(
    runtime: Runtime,
    slug: str,
    group_id: str,
    *,
    reason: str,
    by_body: str,
    decision_ref: str,
    by: str,
) -> None:
    with command(runtime, slug, "dissolve_working_group") as cmd:
        group = _group(cmd, group_id)
        group.dissolve(
            reason=reason, by_body=by_body, decision_ref=decision_ref, by=by, terms=cmd.terms
        )
        cmd.record(group)


def groups(
    runtime: Runtime, slug: str, *, stage: str | None, after: int, limit: int
) -> list[dict[str, Any]]:
    with views(runtime, slug) as sql:
        return view.groups(sql, stage=stage, after=after, limit=limit)


def group(runtime: Runtime, slug: str, group_id: str) -> dict[str, Any]:
    with views(runtime, slug) as sql:
        found = view.group(sql, group_id)
    if found is None:
        raise NotFound(f"no working group {group_id!r} in this alliance")
    return found
