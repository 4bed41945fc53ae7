"""What a projection is, and the runner that keeps one store's projections caught up."""

from __future__ import annotations

import threading
from abc import ABC
from collections.abc import Callable, Sequence
from typing import Any, ClassVar

import msgspec
from eventsourcing.application import Application
from opentelemetry.trace import Tracer

from infra.stores import LOG_PAGE, PositionMoved, Sql, ViewStore

Handler = Callable[[Any, Sql, Any, int], None]


class Projection(ABC):
    """A deterministic fold: no clock, no randomness, no lookups outside its own tables.

    Subclasses name their tables (CREATE TABLE statements) and map event classes to
    handlers with `on`. Dropping the tables and replaying from zero gives the same rows.
    """

    name: ClassVar[str]
    tables: ClassVar[dict[str, str]]
    handlers: ClassVar[dict[type, Handler]]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.handlers = {}
        for attribute in cls.__dict__.values():
            for event_class in getattr(attribute, "_handles", ()):
                cls.handlers[event_class] = attribute

    def create(self, sql: Sql) -> None:
        for statement in self.tables.values():
            sql.execute(statement)

    def drop(self, sql: Sql) -> None:
        for table in self.tables:
            sql.execute(f"DROP TABLE IF EXISTS {table}")

    def apply(self, sql: Sql, event: Any, position: int) -> None:
        handler = self.handlers.get(type(event))
        if handler is not None:
            handler(self, sql, event, position)


def json_text(value: Any) -> str:
    """A value as the JSON text a projection column holds."""
    return msgspec.json.encode(value).decode()


def on(*event_classes: type) -> Callable[[Handler], Handler]:
    """Mark a projection method as the handler of these event classes."""

    def mark(handler: Handler) -> Handler:
        handler._handles = event_classes  # type: ignore[attr-defined]
        return handler

    return mark


class ProjectionRunner:
    """Catches a store's projections up with its log, each batch and its tracking record
    committed in one transaction, so every event is applied exactly once."""

    def __init__(
        self,
        app: Application[Any],
        views: ViewStore,
        projections: Sequence[Projection],
        tracer: Tracer,
        *,
        store: str,
    ) -> None:
        self.app = app
        self.views = views
        self.projections = list(projections)
        self.tracer = tracer
        self.store = store
        self._locks = {p.name: threading.Lock() for p in self.projections}
        with views.transaction(commit=True) as sql:
            for projection in self.projections:
                projection.create(sql)

    def catch_up(self) -> int:
        """Apply every event not yet applied, to every projection. Returns how many."""
        return sum(self._catch_up(projection) for projection in self.projections)

    def rebuild(self) -> int:
        """Drop every projection's tables and tracking record, then replay from zero."""
        for projection in self.projections:
            with self._locks[projection.name], self.views.transaction(commit=True) as sql:
                projection.drop(sql)
                self.views.forget(sql, projection.name)
                projection.create(sql)
        return self.catch_up()

    def _catch_up(self, projection: Projection) -> int:
        applied = 0
        with self._locks[projection.name]:
            while True:
                position = self.views.position(projection.name)
                notifications = self.app.recorder.select_notifications(
                    start=position + 1, limit=LOG_PAGE
                )
                if not notifications:
                    return applied
                with self.tracer.start_as_current_span(
                    "projection.catch_up",
                    attributes={
                        "concord.store": self.store,
                        "concord.projection": projection.name,
                        "concord.from_position": position + 1,
                        "concord.events": len(notifications),
                    },
                ):
                    try:
                        with self.views.transaction(commit=True) as sql:
                            # Claim the batch first: on PostgreSQL this locks the tracking
                            # row, so a racing process waits here, then finds it moved.
                            self.views.advance(
                                sql, projection.name, expected=position, to=notifications[-1].id
                            )
                            for notification in notifications:
                                event = self.app.mapper.to_domain_event(notification)
                                projection.apply(sql, event, notification.id)
                    except PositionMoved:
                        # Another process applied these events first; its commit stands
                        # and ours rolled back whole. Read the new position and go on.
                        continue
                applied += len(notifications)
                if len(notifications) < LOG_PAGE:
                    return applied  # a short page is the end of the log for now
