"""The auditor's raw view: a tenant's own event log, complete and in order."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec

from infra.stores import Sql
from projections import action_items
from services.runtime import Runtime

ENVELOPE = {"originator_id", "originator_version", "timestamp", "originator_topic"}
#: The event types `redact_event` may redact for a reader of the log who may not read
#: confidential minutes.
REDACTED_TYPES = frozenset(
    {
        "MinutesDrafted",
        "MinutesAmended",
        "MinutesApproved",
        "MinutesCorrected",
        "ActionItemRaised",
        "ActionItemProgressNoted",
        "ActionItemCompleted",
    }
)


class LoggedEvent(msgspec.Struct, frozen=True):
    """One event as the tenant's store recorded it."""

    position: int
    aggregate_id: str
    version: int
    type: str
    timestamp: datetime
    data: dict[str, Any]


def event_type(topic: str) -> str:
    """The stable name of an event: 'domain.alliance:Alliance.Founded' -> 'AllianceFounded'."""
    return topic.partition(":")[2].replace(".", "")


def read_log(
    runtime: Runtime, slug: str, *, after: int, limit: int, reader: bool = True
) -> list[LoggedEvent]:
    """Events after a log position, oldest first, at most `limit` of them. For a key that
    may not read confidential minutes (`reader` False), their text is redacted."""
    with runtime.tenant(slug) as store:
        app = store.app
        notifications = app.recorder.select_notifications(start=after + 1, limit=limit)
        events = []
        for notification in notifications:
            event = app.mapper.to_domain_event(notification)
            events.append(
                LoggedEvent(
                    position=notification.id,
                    aggregate_id=str(notification.originator_id),
                    version=notification.originator_version,
                    type=event_type(notification.topic),
                    timestamp=event.timestamp,
                    data={k: v for k, v in vars(event).items() if k not in ENVELOPE},
                )
            )
        if not reader:
            with store.read() as sql:
                events = [redact_event(e, sql) for e in events]
        return events


REDACTED = "[confidential]"


def redact_event(event: LoggedEvent, sql: Sql) -> LoggedEvent:
    """The event as a key that may not read confidential minutes sees it."""
    data = dict(event.data)
    if event.type in ("MinutesDrafted", "MinutesAmended"):
        data["items"] = [
            item
            if not (data["confidential"] or item.get("confidential"))
            else {"item_id": REDACTED, "confidential": True, "content": REDACTED}
            for item in data["items"]
        ]
    elif event.type == "MinutesApproved":
        # Keyed by item id, which may say too much: the commitments in order instead.
        data["salts"] = REDACTED
        data["commitments"] = list(data["commitments"].values())
    elif event.type == "MinutesCorrected":
        data["salt"] = REDACTED
        if data["confidential"]:
            data["text"] = data["reason"] = data["item_id"] = REDACTED
    elif event.type == "ActionItemRaised":
        if data["confidential"]:
            data["description"] = data["item_id"] = data["action_id"] = REDACTED
    elif event.type in ("ActionItemProgressNoted", "ActionItemCompleted"):
        found = action_items.action_item(sql, event.aggregate_id)
        if found is None or found["confidential"]:
            data["note"] = REDACTED
    else:
        return event
    return msgspec.structs.replace(event, data=data)
