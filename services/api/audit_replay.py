"""The auditor's point-in-time view: an alliance's state as of any moment or log position,
replayed from its events, and what changed between two points of its history."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, get
from litestar.di import NamedDependency
from litestar.params import FromPath, QueryParameter

from services.api import schemas
from services.api.auth import LOG_READERS
from services.audit import replay, replay_diff
from services.audit.replay import AuditState
from services.audit.replay_diff import AuditDiff
from services.runtime import Runtime

POINT = (
    "A log position (a whole number from 1, as `GET …/events` gives), a date (YYYY-MM-DD: "
    "the end of that day, UTC), an ISO 8601 moment with its UTC offset, or `now`"
)
PointParameter = Annotated[str, QueryParameter(description=POINT, min_length=1, max_length=64)]


class AuditStateController(Controller):
    path = "/v1/tenants/{slug:str}"
    tags = ["Audit"]

    @get(
        "/audit/state",
        operation_id="getAuditState",
        guards=[LOG_READERS],
        responses=schemas.problems(400, 401, 403, 404, 422),
        sync_to_thread=True,
    )
    def state(
        self,
        runtime: NamedDependency[Runtime],
        slug: FromPath[str],
        as_of: Annotated[
            str | None,
            QueryParameter(description=f"{POINT}; default: now", min_length=1, max_length=64),
        ] = None,
    ) -> AuditState:
        """The alliance as its events made it at `as_of`, replayed from its log (never read
        from today's read models): the ToR version in force, the member register with
        representatives, office holders and committee seats, open motions and elections."""
        return replay.state_at(runtime, slug, as_of)

    @get(
        "/audit/diff",
        operation_id="diffAuditStates",
        guards=[LOG_READERS],
        responses=schemas.problems(400, 401, 403, 404, 422),
        sync_to_thread=True,
    )
    def diff(
        self,
        runtime: NamedDependency[Runtime],
        slug: FromPath[str],
        from_: Annotated[
            str, QueryParameter(name="from", description=POINT, min_length=1, max_length=64)
        ],
        to: PointParameter,
    ) -> AuditDiff:
        """What changed between two points of the alliance's history (`from` not after
        `to`): each change with one plain sentence and the log positions that made it."""
        return replay_diff.diff(runtime, slug, from_, to)
