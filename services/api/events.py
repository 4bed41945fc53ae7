"""The tenant's own event log: the auditor's complete, ordered raw view."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, get
from litestar.di import NamedDependency
from litestar.params import FromPath, QueryParameter

from services import event_log, minutes, onboarding
from services.access import Principal
from services.api import schemas
from services.api.auth import LOG_READERS
from services.runtime import Runtime

After = Annotated[
    int, QueryParameter(ge=0, le=2**62, description="Log position to read after (0: start)")
]
Limit = Annotated[int, QueryParameter(ge=1, le=1000, description="Page size (1-1000)")]


class EventLogController(Controller):
    path = "/v1/tenants/{slug:str}/events"
    tags = ["Audit"]

    @get(
        "/",
        operation_id="readEventLog",
        responses=schemas.problems(400, 401, 403, 404),
        guards=[LOG_READERS],
        sync_to_thread=True,
    )
    def read(
        self,
        request: Request[Principal, Any, Any],
        runtime: NamedDependency[Runtime],
        slug: FromPath[str],
        after: After = 0,
        limit: Limit = 100,
    ) -> schemas.EventPage:
        """Events of this alliance after a log position, oldest first. Follow
        `next_after` until it is null to read the whole history. The text of confidential
        minutes and actions shows as "[confidential]" unless the alliance lets this key's
        role read confidential minutes."""
        onboarding.directory_entry(runtime, slug)
        reader = minutes.may_read_confidential(runtime, slug, request.user)
        events = event_log.read_log(runtime, slug, after=after, limit=limit + 1, reader=reader)
        items = [
            schemas.EventOut(
                position=e.position,
                aggregate_id=e.aggregate_id,
                version=e.version,
                type=e.type,
                timestamp=e.timestamp,
                data=e.data,
            )
            for e in events[:limit]
        ]
        next_after = items[-1].position if len(events) > limit else None
        return schemas.EventPage(items=items, next_after=next_after)
