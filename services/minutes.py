"""Use cases of minutes and their action items: draft, amend, approve, publish, correct;
and the reads, which show confidential text only to the roles the alliance allows."""

from __future__ import annotations

from datetime import date
from typing import Any

from domain.action_items import ActionItem
from domain.confidentiality import ConfidentialityPolicy
from domain.errors import MeetingStateConflict, MemberStateConflict, MinutesStateConflict
from domain.meetings import HELD, Meeting
from domain.membership import Member
from domain.minutes import CONFIDENTIAL_NOTICE, Item, Minutes, withheld_item, without_emails
from projections import action_items as action_view
from projections import confidentiality as readers_view
from projections import minutes as view
from services.access import Principal
from services.errors import NotFound
from services.runtime import Runtime
from services.tenancy import Command, command, views


def _minutes(cmd: Command, minutes_id: str) -> Minutes:
    return cmd.get(Minutes, minutes_id, "minutes")


def _owners_are_members(cmd: Command, items: list[Item]) -> None:
    """An action owned by a member organisation names a member of this alliance."""
    for item in items:
        for action in item.actions:
            if action.owner_kind == "member":
                member = cmd.get(Member, action.owner, "member")
                if not member.is_active:
                    raise MemberStateConflict(
                        f"member {action.owner!r} is {member.status}: actions are owned by "
                        "active members"
                    )


def draft(
    runtime: Runtime,
    slug: str,
    *,
    meeting_id: str,
    items: list[Item],
    confidential: bool,
    confidential_reason: str | None,
    by: str,
) -> str:
    """Draft the minutes of a held meeting (one set of minutes per meeting)."""
    with command(runtime, slug, "draft_minutes") as cmd:
        meeting = cmd.get(Meeting, meeting_id, "meeting")
        if meeting.status != HELD:
            raise MeetingStateConflict(
                f"this meeting is {meeting.status}: minutes are drafted once it has been held"
            )
        if cmd.find(Minutes, Minutes.create_id(str(meeting.id))) is not None:
            raise MinutesStateConflict(
                "this meeting already has minutes: amend them while they are a draft"
            )
        assert meeting.held_on is not None
        _owners_are_members(cmd, items)
        minutes = Minutes.draft(
            meeting_id=str(meeting.id),
            body=meeting.body,
            meeting_date=meeting.held_on,
            items=items,
            confidential=confidential,
            confidential_reason=confidential_reason,
            by=by,
            terms=cmd.terms,
        )
        cmd.record(minutes)
        return str(minutes.id)


def amend(
    runtime: Runtime,
    slug: str,
    minutes_id: str,
    *,
    items: list[Item],
    confidential: bool,
    confidential_reason: str | None,
    by: str,
) -> None:
    with command(runtime, slug, "amend_minutes") as cmd:
        minutes = _minutes(cmd, minutes_id)
        _owners_are_members(cmd, items)
        minutes.amend(
            items=items,
            confidential=confidential,
            confidential_reason=confidential_reason,
            by=by,
            terms=cmd.terms,
        )
        cmd.record(minutes)


def approve(
    runtime: Runtime,
    slug: str,
    minutes_id: str,
    *,
    by_body: str,
    at_meeting_id: str | None,
    decision_ref: str | None,
    by: str,
) -> None:
    """Approve the minutes, normally at the body's next meeting (which must then have been
    held, after the minuted one); the actions they record are raised with them."""
    with command(runtime, slug, "approve_minutes") as cmd:
        minutes = _minutes(cmd, minutes_id)
        if at_meeting_id is not None:
            _check_approving_meeting(cmd, minutes, at_meeting_id, by_body)
        minutes.approve(
            by_body=by_body,
            at_meeting_id=at_meeting_id,
            decision_ref=decision_ref,
            today=cmd.today,
            by=by,
            terms=cmd.terms,
        )
        actions = [
            ActionItem.raise_from_minutes(
                action_id=action.action_id,
                minutes_id=str(minutes.id),
                meeting_id=minutes.meeting_id,
                item_id=item.item_id,
                description=action.description,
                owner_kind=action.owner_kind,
                owner=action.owner,
                due_on=action.due_on,
                confidential=minutes.is_confidential(item),
            )
            for item in minutes.items
            for action in item.actions
        ]
        cmd.record(minutes, *actions)


def _check_approving_meeting(
    cmd: Command, minutes: Minutes, at_meeting_id: str, by_body: str
) -> None:
    approving = cmd.get(Meeting, at_meeting_id, "meeting")
    if approving.body != by_body:
        raise MeetingStateConflict(
            f"meeting {at_meeting_id!r} is a meeting of {approving.body!r}, not of {by_body!r}"
        )
    if approving.status != HELD:
        raise MeetingStateConflict(
            f"meeting {at_meeting_id!r} is {approving.status}: minutes are approved at a "
            "meeting that has been held"
        )
    if str(approving.id) == minutes.meeting_id or (
        approving.held_on is not None and approving.held_on < minutes.meeting_date
    ):
        raise MeetingStateConflict(
            "minutes are approved at a later meeting than the one they record"
        )


def publish(runtime: Runtime, slug: str, minutes_id: str, *, by: str) -> None:
    with command(runtime, slug, "publish_minutes") as cmd:
        minutes = _minutes(cmd, minutes_id)
        minutes.publish(today=cmd.today, by=by)
        cmd.record(minutes)


def correct(
    runtime: Runtime,
    slug: str,
    minutes_id: str,
    *,
    item_id: str | None,
    text: str,
    confidential: bool,
    reason: str,
    by_body: str,
    decision_ref: str,
    by: str,
) -> str:
    with command(runtime, slug, "correct_minutes") as cmd:
        minutes = _minutes(cmd, minutes_id)
        correction_id = minutes.correct(
            item_id=item_id,
            text=text,
            confidential=confidential,
            reason=reason,
            by_body=by_body,
            decision_ref=decision_ref,
            today=cmd.today,
            by=by,
            terms=cmd.terms,
        )
        cmd.record(minutes)
        return correction_id


# ----------------------------------------------------------------------------- action items


def _action(cmd: Command, action_item_id: str) -> ActionItem:
    return cmd.get(ActionItem, action_item_id, "action item")


def note_progress(runtime: Runtime, slug: str, action_item_id: str, *, note: str, by: str) -> None:
    with command(runtime, slug, "note_action_progress") as cmd:
        action = _action(cmd, action_item_id)
        action.note_progress(note=note, today=cmd.today, by=by)
        cmd.record(action)


def complete(runtime: Runtime, slug: str, action_item_id: str, *, note: str, by: str) -> None:
    with command(runtime, slug, "complete_action_item") as cmd:
        action = _action(cmd, action_item_id)
        action.complete(note=note, today=cmd.today, by=by)
        cmd.record(action)


# ----------------------------------------------------------------------------- who may read


def set_confidential_readers(runtime: Runtime, slug: str, *, readers: list[str], by: str) -> None:
    with command(runtime, slug, "set_confidential_readers") as cmd:
        policy = cmd.find(ConfidentialityPolicy, ConfidentialityPolicy.create_id(slug))
        if policy is None:
            policy = ConfidentialityPolicy.first(slug, readers=readers, by=by)
        else:
            policy.change(readers=readers, by=by)
        cmd.record(policy)


def confidential_readers(runtime: Runtime, slug: str) -> dict[str, Any]:
    with views(runtime, slug) as sql:
        return readers_view.readers(sql)


def may_read_confidential(runtime: Runtime, slug: str, principal: Principal) -> bool:
    """Whether this key may read the alliance's confidential minutes: its role is one the
    alliance allows, on its own alliance (a platform key never may)."""
    if principal.tenant != slug:
        return False
    return principal.role.value in confidential_readers(runtime, slug)["readers"]


# ----------------------------------------------------------------------------- reads


def minutes_list(
    runtime: Runtime,
    slug: str,
    *,
    status: str | None,
    body: str | None,
    after: int,
    limit: int,
    reader: bool,
) -> list[dict[str, Any]]:
    with views(runtime, slug) as sql:
        rows = view.all_minutes(sql, status=status, body=body, after=after, limit=limit)
    return [_full(row) if reader else redacted(row) for row in rows]


def minutes(runtime: Runtime, slug: str, minutes_id: str, *, reader: bool) -> dict[str, Any]:
    with views(runtime, slug) as sql:
        row = view.minutes(sql, minutes_id)
    if row is None:
        raise NotFound(f"no minutes {minutes_id!r} in this alliance")
    return _full(row) if reader else redacted(row)


def _full(row: dict[str, Any]) -> dict[str, Any]:
    """Minutes as a key that may read confidential text sees them: each item with its
    commitment, and the salts to check the commitments with."""
    commitments = row.get("commitments") or {}
    items = [
        {**item, "position": n, "commitment": commitments.get(item["item_id"])}
        for n, item in enumerate(row["items"], start=1)
    ]
    return {**row, "items": items}


def redacted(row: dict[str, Any]) -> dict[str, Any]:
    """Minutes as a key that may not read confidential text sees them: confidential items
    and corrections become notices (with their commitments once approved); no salts."""
    commitments = row.get("commitments") or {}
    items = []
    for position, item in enumerate(row["items"], start=1):
        if row["confidential"] or item.get("confidential"):
            items.append(withheld_item(position, commitments.get(item["item_id"])))
        else:
            items.append(
                {
                    **without_emails(item),
                    "position": position,
                    "commitment": commitments.get(item["item_id"]),
                }
            )
    corrections = [
        c
        if not c["confidential"]
        else {
            "correction_id": c["correction_id"],
            "item_id": None,
            "confidential": True,
            "notice": CONFIDENTIAL_NOTICE,
            "commitment": c["commitment"],
            "corrected_on": c["corrected_on"],
            "by_body": c["by_body"],
            "decision_ref": c["decision_ref"],
            "by": c["by"],
        }
        for c in row["corrections"]
    ]
    corrections = [{k: v for k, v in c.items() if k != "salt"} for c in corrections]
    return {**row, "items": items, "salts": None, "corrections": corrections, "redacted": True}


def public_minutes(runtime: Runtime, slug: str, minutes_id: str) -> dict[str, Any]:
    with views(runtime, slug) as sql:
        row = view.published_one(sql, minutes_id)
    if row is None:
        raise NotFound(f"no published minutes {minutes_id!r} in this alliance")
    return row


def action_items(
    runtime: Runtime,
    slug: str,
    *,
    status: str | None,
    overdue: bool,
    owner: str | None,
    minutes_id: str | None,
    after: int,
    limit: int,
    reader: bool,
) -> list[dict[str, Any]]:
    today = runtime.clock().date()
    with views(runtime, slug) as sql:
        rows = action_view.action_items(
            sql,
            status=status,
            overdue_on=today.isoformat() if overdue else None,
            owner=owner,
            minutes_id=minutes_id,
            after=after,
            limit=limit,
        )
    return [_action_row(row, today, reader=reader) for row in rows]


def action_item(
    runtime: Runtime, slug: str, action_item_id: str, *, reader: bool
) -> dict[str, Any]:
    with views(runtime, slug) as sql:
        row = action_view.action_item(sql, action_item_id)
    if row is None:
        raise NotFound(f"no action item {action_item_id!r} in this alliance")
    return _action_row(row, runtime.clock().date(), reader=reader)


def _action_row(row: dict[str, Any], today: date, *, reader: bool) -> dict[str, Any]:
    row["overdue"] = row["status"] == "open" and date.fromisoformat(row["due_on"]) < today
    if row["confidential"] and not reader:
        # The minute-taker's ids may say too much, like the description.
        row["description"] = row["item_id"] = row["action_id"] = None
        row["progress"] = [{**p, "note": None} for p in row["progress"]]
    return row
