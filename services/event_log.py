"""The auditor's raw view: a tenant's own event log, complete and in order."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec

from services.runtime import Runtime

_ENVELOPE = {"originator_id", "originator_version", "timestamp", "originator_topic"}


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


def read_log(runtime: Runtime, slug: str, *, after: int, limit: int) -> list[LoggedEvent]:
    """Events after a log position, oldest first, at most `limit` of them."""
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
                    data={k: v for k, v in vars(event).items() if k not in _ENVELOPE},
                )
            )
        return events
