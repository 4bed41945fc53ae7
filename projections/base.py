"""What a projection is, and the runner that keeps one store's projections caught up."""

from __future__ import annotations

import threading
from abc import ABC
from collections.abc import Callable, Sequence
from typing import Any, ClassVar

import msgspec
from eventsourcing.application import Application
from eventsourcing.persistence import Notification
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
    #: Raise it whenever the tables or what the handlers write change: a store whose
    #: recorded version differs drops this projection's tables and replays it from zero
    #: (`concord migrate` does every store ahead of time; otherwise the first open does).
    version: ClassVar[int] = 1

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.handlers = {}
        for attribute in cls.__dict__.values():
            for event_class in getattr(attribute, "_handles", ()):
                cls.handlers[event_class] = attribute

    #: CREATE INDEX statements by index name, made after the tables (and dropped with them).
    indexes: ClassVar[dict[str, str]] = {}

    def create(self, sql: Sql) -> None:
        for statement in self.tables.values():
            sql.execute(statement)
        for statement in self.indexes.values():
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


SCHEMA_TABLE = (
    "CREATE TABLE IF NOT EXISTS views_schema ("
    " projection TEXT PRIMARY KEY, version INTEGER NOT NULL)"
)


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
        self.by_name = {p.name: p for p in self.projections}
        self.tracer = tracer
        self.store = store
        self._locks = {p.name: threading.Lock() for p in self.projections}
        #: Which projections the last open found at another schema version (replayed).
        self.migrated = self.migrate()

    def migrate(self) -> list[str]:
        """Bring every projection's tables to its class's version: create what is new,
        drop and re-create what changed (it then replays from zero at the next catch-up),
        leave the rest alone. An up-to-date store costs one SELECT and no DDL."""
        with self.views.transaction(commit=True) as sql:
            self.views.lock(sql, "views_schema")  # one migrator per store at a time
            sql.execute(SCHEMA_TABLE)
            found = {
                row["projection"]: row["version"]
                for row in sql.all("SELECT projection, version FROM views_schema")
            }
            changed: list[str] = []
            for projection in self.projections:
                recorded = found.get(projection.name)
                if recorded == projection.version:
                    continue
                if recorded is not None:
                    projection.drop(sql)
                    self.views.forget(sql, projection.name)
                    changed.append(projection.name)
                projection.create(sql)
                sql.execute(
                    "INSERT INTO views_schema (projection, version) VALUES (?, ?)"
                    " ON CONFLICT (projection) DO UPDATE SET version = excluded.version",
                    (projection.name, projection.version),
                )
        return changed

    def catch_up(self) -> int:
        """Apply every event not yet applied, to every projection, reading and decoding
        each event once for all of them: one transaction per page of the log, holding
        every projection's lock (taken in one order, so two catch-ups never deadlock).
        Returns how many event applications it made (events times projections behind)."""
        ordered = sorted(self.projections, key=lambda p: p.name)
        applied = 0
        for name in (p.name for p in ordered):
            self._locks[name].acquire()
        try:
            while True:
                try:
                    done, read = self._batch_all(ordered)
                except PositionMoved:
                    continue
                applied += done
                if read < LOG_PAGE:
                    return applied
        finally:
            for name in (p.name for p in ordered):
                self._locks[name].release()

    def _read_log(self, sql: Sql, start: int) -> Sequence[Notification]:
        """A page of the log from `start`: in the view transaction where the events live
        beside the views (one connection per catch-up, not two), else from the recorder."""
        page = self.views.notifications(sql, start, LOG_PAGE)
        if page is None:
            return self.app.recorder.select_notifications(start=start, limit=LOG_PAGE)
        return page

    def _batch_all(self, ordered: Sequence[Projection]) -> tuple[int, int]:
        """The next page of the log, applied to every projection behind it, in one
        transaction. Returns (event applications made, events read)."""
        with self.views.transaction(commit=True) as sql:
            self.views.lock_all(sql, [p.name for p in ordered])
            rows = sql.all(
                f"SELECT application_name, notification_id FROM {self.views.tracking_table}"  # noqa: S608
            )
            found = {row["application_name"]: int(row["notification_id"]) for row in rows}
            positions = {p.name: found.get(p.name, 0) for p in ordered}
            start = min(positions.values())
            notifications = self._read_log(sql, start + 1)
            if not notifications:
                return 0, 0
            events = [self.app.mapper.to_domain_event(n) for n in notifications]
            last = notifications[-1].id
            behind = [p for p in ordered if positions[p.name] < last]
            self.views.advance_all(sql, {p.name: positions[p.name] for p in behind}, to=last)
            applied = 0
            with self.tracer.start_as_current_span(
                "projection.catch_up",
                attributes={
                    "concord.store": self.store,
                    "concord.projections": [p.name for p in behind],
                    "concord.from_position": min(positions[p.name] for p in behind) + 1,
                    "concord.events": len(notifications),
                },
            ):
                for projection in behind:
                    position = positions[projection.name]
                    for notification, event in zip(notifications, events, strict=True):
                        if notification.id > position:
                            projection.apply(sql, event, notification.id)
                            applied += 1
            return applied, len(notifications)

    def catch_up_one(self, name: str) -> int:
        """Catch one projection up (a worker's wake-up names one). KeyError if unknown."""
        return self._catch_up(self.by_name[name])

    def positions(self) -> dict[str, int]:
        """Each projection's tracking position (0: nothing applied yet)."""
        found = self.views.positions()
        return {p.name: found.get(p.name, 0) for p in self.projections}

    def rebuild(self) -> int:
        """Drop every projection's tables and tracking record, then replay from zero."""
        for projection in self.projections:
            with self._locks[projection.name], self.views.transaction(commit=True) as sql:
                self.views.lock(sql, projection.name)
                projection.drop(sql)
                self.views.forget(sql, projection.name)
                projection.create(sql)
        return self.catch_up()

    def _catch_up(self, projection: Projection) -> int:
        applied = 0
        with self._locks[projection.name]:
            while True:
                try:
                    done = self._batch(projection)
                except PositionMoved:
                    # Another process applied these events first; its commit stands and
                    # ours rolled back whole. Read the new position and go on.
                    continue
                applied += done
                if done < LOG_PAGE:
                    return applied  # a short page is the end of the log for now

    def _batch(self, projection: Projection) -> int:
        """Apply the next page of the log to one projection, in one transaction that also
        moves its tracking record. Returns how many events it applied."""
        with self.views.transaction(commit=True) as sql:
            # Serialise the processes catching this projection up (a worker's wake-ups
            # and an API's may overlap): the second waits here, then reads the moved
            # position, so no page is read twice for nothing.
            self.views.lock(sql, projection.name)
            row = sql.one(
                f"SELECT notification_id FROM {self.views.tracking_table}"  # noqa: S608
                " WHERE application_name = ?",
                (projection.name,),
            )
            position = int(row["notification_id"]) if row else 0
            notifications = self._read_log(sql, position + 1)
            if not notifications:
                return 0
            with self.tracer.start_as_current_span(
                "projection.catch_up",
                attributes={
                    "concord.store": self.store,
                    "concord.projection": projection.name,
                    "concord.from_position": position + 1,
                    "concord.events": len(notifications),
                },
            ):
                # The compare-and-set stays: it is what makes a batch exactly-once even
                # where the lock is advisory only (SQLite has none to take).
                self.views.advance(sql, projection.name, expected=position, to=notifications[-1].id)
                for notification in notifications:
                    event = self.app.mapper.to_domain_event(notification)
                    projection.apply(sql, event, notification.id)
            return len(notifications)
