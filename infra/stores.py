"""Where each store lives: SQLite files per store, or a PostgreSQL schema per store.

A *store* is one event log with its read models: the platform's (tenant registry, keys,
national directory) or one tenant's. The backend decides where a store's events and views
live and hands out the eventsourcing infrastructure for it.
"""

from __future__ import annotations

import json
import logging
import math
import re
import shutil
import sqlite3
import threading
import weakref
from abc import ABC, abstractmethod
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from time import monotonic, sleep
from typing import Any

import psycopg
import psycopg_pool
from eventsourcing.persistence import (
    BaseInfrastructureFactory,
    InfrastructureFactory,
    IntegrityError,
    InterfaceError,
    Notification,
    OperationalError,
    PersistenceError,
    StoredEvent,
    TrackingRecorder,
)
from eventsourcing.postgres import (
    ConnectionPool,
    PostgresApplicationRecorder,
    PostgresDatastore,
    PostgresFactory,
    PostgresTrackingRecorder,
)
from eventsourcing.sqlite import SQLiteDatastore, SQLiteFactory, SQLiteTrackingRecorder
from psycopg import sql as pgsql
from psycopg.rows import dict_row

from domain.values import checked_slug

log = logging.getLogger("concord.stores")

PLATFORM = "platform"
#: (store, its log's head position, {projection: tracking position}) for each store.
Heads = Iterator[tuple[str, int, dict[str, int]]]
# Read the log in pages this big: the default (10) is several times slower to scan.
LOG_PAGE = 1000


def schema_name(store: str) -> str:
    """The PostgreSQL schema of a store. Slugs are validated before any SQL is built."""
    if store == PLATFORM:
        return "platform"
    return "tenant_" + checked_slug(store).replace("-", "_")


# --------------------------------------------------------------------------- faults


@dataclass(frozen=True)
class Timeouts:
    """How long the database may keep a request waiting (docs/operations.md, "Faults and
    timeouts"). The defaults are those of `concord migrate`, which sets no statement
    timeout; the API and workers pass CONCORD_DB_*_TIMEOUT_MS."""

    #: PostgreSQL `statement_timeout` of every pooled connection, in ms (0: none).
    statement_ms: int = 0
    #: PostgreSQL `lock_timeout` (row, table and advisory locks), in ms; SQLite's busy
    #: timeout (how long a writer waits for another's write lock), rounded up to seconds.
    lock_ms: int = 5000
    #: How long a request waits for a free pooled connection, in seconds.
    pool_seconds: float = 10.0

    @property
    def lock_seconds(self) -> int:
        """The lock timeout in whole seconds (what eventsourcing's settings take)."""
        return max(1, math.ceil(self.lock_ms / 1000))

    def session_settings(self) -> str:
        """The statement setting a new PostgreSQL connection's timeouts (one round trip)."""
        return (
            "SET idle_in_transaction_session_timeout = '30s';"
            f" SET lock_timeout = {int(self.lock_ms)};"
            f" SET statement_timeout = {int(self.statement_ms)}"
        )


class DatabaseTimeout(PersistenceError):
    """The database did not answer in time: a lock held past the lock timeout, a statement
    past the statement timeout, or no pooled connection free within the pool timeout.

    Raised instead of eventsourcing's OperationalError, which eventsourcing retries ten
    times: a timeout retried would wait ten times as long as it is configured to."""


# SQLSTATE classes of errors that say the database cannot serve just now, not that the
# request is wrong: 08 connection exception, 53 insufficient resources (too many
# connections, disk full), 57 operator intervention (shut down, cancelled, restarting),
# 40 transaction rollback (serialisation failure, deadlock), 55P03 lock not available.
_UNAVAILABLE_SQLSTATE_CLASSES = ("08", "53", "57", "40")


def unavailability(error: BaseException) -> str | None:
    """Why this error means the database is unavailable just now, so that the same
    request may succeed if retried ("timeout", "connection"), or None when the error is
    something else (a bug, a conflict). Follows the chain of causes: eventsourcing wraps
    the driver's errors in its own."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        reason = _unavailability_of(current)
        if reason is not None:
            return reason
        current = current.__cause__ or current.__context__
    return None


#: A lock waited for too long, a statement past its timeout, no pooled connection free.
_TIMEOUTS = (
    DatabaseTimeout,
    psycopg_pool.PoolTimeout,
    psycopg.errors.LockNotAvailable,
    psycopg.errors.QueryCanceled,
)


def _unavailability_of(error: BaseException) -> str | None:
    if isinstance(error, _TIMEOUTS):
        return "timeout"
    if isinstance(error, sqlite3.OperationalError) and "locked" in str(error):
        return "timeout"  # "database is locked": the busy timeout ran out
    if isinstance(error, psycopg_pool.PoolClosed):
        return "connection"
    if isinstance(error, psycopg.Error):
        state = error.sqlstate
        if state is None:  # raised by the client: the connection was lost or not made
            lost = isinstance(error, (psycopg.OperationalError, psycopg.InterfaceError))
            return "connection" if lost else None
        return "connection" if state.startswith(_UNAVAILABLE_SQLSTATE_CLASSES) else None
    return None


# `CREATE TABLE IF NOT EXISTS name` / `CREATE [UNIQUE] INDEX IF NOT EXISTS name`, unqualified.
_CREATE_IF_MISSING = re.compile(
    r"\s*CREATE\s+(?:UNIQUE\s+)?(?:TABLE|INDEX)\s+IF\s+NOT\s+EXISTS\s+(\w+)[\s(]", re.IGNORECASE
)
_CHANGES_SHAPE = re.compile(r"\s*(?:DROP|ALTER)\s", re.IGNORECASE)


class Sql:
    """A cursor in one transaction of a view store, the same to SQLite and PostgreSQL.

    Statements are written with `?` placeholders; PostgreSQL gets `%s`.

    `existing` (PostgreSQL) names the relations the store's schema held when it was
    opened: a `CREATE TABLE/INDEX IF NOT EXISTS` of one of them is then not sent at all.
    It would change nothing, yet each costs a round trip, catalogue look-ups and a
    NOTICE, and opening a store runs some thirty of them. Any DROP or ALTER through
    this cursor forgets the whole set (what follows is sent as written). `learned`
    collects the names such statements create, so that the backend knows which
    relations to look for when it next opens a store.
    """

    def __init__(
        self,
        cursor: Any,
        *,
        postgres: bool,
        existing: set[str] | None = None,
        learned: set[str] | None = None,
    ) -> None:
        self.cursor = cursor
        self._postgres = postgres
        self._existing = existing
        self._learned = learned

    def execute(self, statement: str, params: Sequence[Any] = ()) -> None:
        existing = self._existing
        if existing is not None:
            if _CHANGES_SHAPE.match(statement):
                existing.clear()
            elif (made := _CREATE_IF_MISSING.match(statement)) is not None:
                if self._learned is not None:
                    self._learned.add(made.group(1))
                if made.group(1) in existing and ";" not in statement.rstrip().rstrip(";"):
                    return
        if self._postgres:
            statement = statement.replace("?", "%s")
        self.cursor.execute(statement, tuple(params))

    def one(self, statement: str, params: Sequence[Any] = ()) -> dict[str, Any] | None:
        self.execute(statement, params)
        row = self.cursor.fetchone()
        return None if row is None else dict(row)

    def all(self, statement: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        self.execute(statement, params)
        return [dict(row) for row in self.cursor.fetchall()]


class PositionMoved(Exception):
    """Another process advanced this projection first; re-read and go on."""


#: Serialises `ViewStore.ensure_table` within a process.
_ENSURE_LOCK = threading.Lock()


class ViewStore(ABC):
    """A store's read-model tables and their tracking records, written in one transaction."""

    tracking: TrackingRecorder
    tracking_table: str

    @abstractmethod
    @contextmanager
    def transaction(self, *, commit: bool) -> Iterator[Sql]:
        """A transaction on the view tables (read-only when commit is False)."""

    def advance(self, sql: Sql, projection: str, *, expected: int, to: int) -> None:
        """Move a projection's tracking record from `expected` to `to`, inside the caller's
        transaction, as a compare-and-set: if another process has moved it since we read
        it, raise PositionMoved and the caller's transaction rolls back whole.

        (eventsourcing's own insert only checks that positions increase; two racing
        batches that overlap would both pass it, so the check here is exact.)
        """
        if expected == 0:
            row = sql.one(
                f"INSERT INTO {self.tracking_table} (application_name, notification_id)"  # noqa: S608
                " VALUES (?, ?) ON CONFLICT (application_name) DO NOTHING"
                " RETURNING notification_id",
                (projection, to),
            )
        else:
            row = sql.one(
                f"UPDATE {self.tracking_table} SET notification_id = ?"  # noqa: S608
                " WHERE application_name = ? AND notification_id = ? RETURNING notification_id",
                (to, projection, expected),
            )
        if row is None:
            raise PositionMoved(projection)

    def lock(self, sql: Sql, name: str) -> None:
        """Hold a lock named for this store and `name` until the caller's transaction
        ends (PostgreSQL: an advisory lock; SQLite serialises writers by itself)."""

    def ensure_table(self, name: str, ddl: str) -> None:
        """Create a table that is no projection's (a snapshot, an outbox, kept secrets)
        once per process, one creator at a time across processes: two CREATE TABLE IF NOT
        EXISTS at the same moment collide on PostgreSQL (a duplicate in pg_type)."""
        made: set[str] = self.__dict__.setdefault("_ensured_tables", set())
        if name in made:
            return
        with _ENSURE_LOCK:
            if name in made:
                return
            with self.transaction(commit=True) as sql:
                self.lock(sql, f"create-table:{name}")
                sql.execute(ddl)
            made.add(name)

    def lock_all(self, sql: Sql, names: Sequence[str]) -> None:
        """`lock` for each of these names, taken in one order (sorted) so that two
        transactions locking overlapping sets never deadlock."""
        for name in sorted(names):
            self.lock(sql, name)

    def advance_all(self, sql: Sql, moves: dict[str, int], *, to: int) -> None:
        """`advance` for several projections to one position, in as few statements as
        their distinct starting positions (usually one). PositionMoved if any moved."""
        by_start: dict[int, list[str]] = {}
        for projection, expected in moves.items():
            by_start.setdefault(expected, []).append(projection)
        for expected, projections in by_start.items():
            if expected == 0:
                for projection in projections:
                    self.advance(sql, projection, expected=0, to=to)
                continue
            marks = ", ".join("?" * len(projections))
            rows = sql.all(
                f"UPDATE {self.tracking_table} SET notification_id = ?"  # noqa: S608
                f" WHERE notification_id = ? AND application_name IN ({marks})"
                " RETURNING application_name",
                (to, expected, *projections),
            )
            if len(rows) != len(projections):
                raise PositionMoved(", ".join(projections))

    def position(self, projection: str) -> int:
        return self.tracking.max_tracking_id(projection) or 0

    def notifications(self, sql: Sql, start: int, limit: int) -> list[Notification] | None:
        """The log from `start`, read inside the caller's view transaction when the events
        live in the same database (PostgreSQL), so a catch-up holds one connection, not
        two. None: read them through the store's recorder instead (SQLite: another file)."""
        return None

    def positions(self) -> dict[str, int]:
        """Every projection's tracking position, as cheaply as the store can read them
        (a write waiting for its projections polls this)."""
        with self.transaction(commit=False) as sql:
            rows = sql.all(
                f"SELECT application_name, notification_id FROM {self.tracking_table}"  # noqa: S608
            )
        return {row["application_name"]: int(row["notification_id"]) for row in rows}

    def forget(self, sql: Sql, projection: str) -> None:
        """Drop a projection's tracking record so it replays from the start."""
        sql.execute(
            f"DELETE FROM {self.tracking_table} WHERE application_name = ?",  # noqa: S608
            (projection,),
        )

    def close(self) -> None:
        """Release what only this view store holds."""

    @abstractmethod
    def purge(self, table: str) -> None:
        """Leave no copy of this table's deleted rows in the store's files (best effort:
        the database's write-ahead log archives and the filesystem are the operator's)."""


class Backend(ABC):
    """Where stores live. One per process; it bounds the connections all stores use."""

    kind: str

    @abstractmethod
    def factory(self, store: str, env: Any) -> InfrastructureFactory[Any]:
        """The eventsourcing infrastructure factory for a store's application."""

    @abstractmethod
    def application_env(self, store: str) -> dict[str, str]:
        """Environment for a store's eventsourcing Application."""

    @abstractmethod
    def open_views(self, store: str, factory: InfrastructureFactory[Any]) -> ViewStore:
        """The view store beside a store's events."""

    @abstractmethod
    def exists(self, store: str) -> bool:
        """True when the store has been provisioned."""

    @abstractmethod
    def provision(self, store: str) -> None:
        """Create the store's home (a folder, a schema). Idempotent."""

    @abstractmethod
    def tenant_stores(self) -> list[str]:
        """The slug of every provisioned tenant store, in order (not the platform's)."""

    @abstractmethod
    def ping(self) -> None:
        """Raise when the backing database cannot be reached."""

    @abstractmethod
    def log_heads(self, stores: Sequence[str], *, exclusive: str) -> AbstractContextManager[Heads]:
        """Each store's log head and its projections' positions, read without opening the
        store (a store that cannot be read is logged and skipped). `exclusive` names a
        lock: where the database has one, a second caller holding it gets nothing."""

    def powers_over_the_log(self) -> list[str]:
        """What the connecting database role could do to the event log beyond reading and
        appending (a superuser, an owner of schemas or event tables); empty when nothing."""
        return []

    def close(self) -> None:
        """Release shared resources (the connection pool)."""


# --------------------------------------------------------------------------- SQLite


class SQLiteViewStore(ViewStore):
    tracking_table = "tracking"

    def __init__(self, path: Path, timeouts: Timeouts | None = None) -> None:
        timeouts = timeouts or Timeouts()
        self.path = path
        self.datastore = SQLiteDatastore(
            str(path),
            pool_size=2,
            max_overflow=4,
            lock_timeout=timeouts.lock_seconds,
            pool_timeout=timeouts.pool_seconds,
        )
        self.tracking = SQLiteTrackingRecorder(self.datastore)
        self.tracking.create_table()

    @contextmanager
    def transaction(self, *, commit: bool) -> Iterator[Sql]:
        with self.datastore.transaction(commit=commit) as cursor:
            sql = Sql(cursor, postgres=False)
            if commit:
                # Every writing transaction takes the write lock first (see lock()): one
                # that read before its first write would fail at once, not wait, if
                # another process committed in between.
                self.lock(sql, "")
            yield sql

    def lock(self, sql: Sql, name: str) -> None:
        # A write statement, even one that changes nothing, takes the database's write
        # lock now (waiting for another writer) rather than at the first real write,
        # where a transaction that has read would fail instead of waiting.
        sql.execute("UPDATE tracking SET notification_id = notification_id WHERE 0")

    def purge(self, table: str) -> None:
        # secure_delete zeroes what a DELETE frees in the database file; the old page
        # images still sit in the write-ahead log until a checkpoint copies the pages
        # back and TRUNCATE empties the log.
        probe = sqlite3.connect(str(self.path), timeout=10, isolation_level=None)
        try:
            probe.execute("PRAGMA secure_delete = ON")
            probe.execute("VACUUM")  # rewrites every page: no freed copy is left
            probe.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            probe.close()

    def close(self) -> None:
        self.datastore.close()


class SQLiteBackend(Backend):
    """Embedded default: a folder per store under the data directory."""

    kind = "sqlite"

    def __init__(self, data_dir: str | Path, *, timeouts: Timeouts | None = None) -> None:
        self.timeouts = timeouts or Timeouts()
        self.root = Path(data_dir)
        self.root.mkdir(parents=True, exist_ok=True)

    def folder(self, store: str) -> Path:
        if store == PLATFORM:
            return self.root / PLATFORM
        return self.root / "tenants" / checked_slug(store)

    def application_env(self, store: str) -> dict[str, str]:
        return {
            "PERSISTENCE_MODULE": "eventsourcing.sqlite",
            "SQLITE_DBNAME": str(self.folder(store) / "events.sqlite"),
            "SQLITE_LOCK_TIMEOUT": str(self.timeouts.lock_seconds),
        }

    def factory(self, store: str, env: Any) -> InfrastructureFactory[Any]:
        return SQLiteFactory(env)

    def open_views(self, store: str, factory: InfrastructureFactory[Any]) -> ViewStore:
        return SQLiteViewStore(self.folder(store) / "views.sqlite", self.timeouts)

    def exists(self, store: str) -> bool:
        return (self.folder(store) / "events.sqlite").exists()

    def provision(self, store: str) -> None:
        self.folder(store).mkdir(parents=True, exist_ok=True)

    def tenant_stores(self) -> list[str]:
        tenants = self.root / "tenants"
        if not tenants.is_dir():
            return []
        return sorted(p.name for p in tenants.iterdir() if (p / "events.sqlite").exists())

    def ping(self) -> None:
        probe = sqlite3.connect(str(self.root / PLATFORM / "events.sqlite"), timeout=1)
        try:
            probe.execute("SELECT 1").fetchone()
        finally:
            probe.close()

    @contextmanager
    def log_heads(self, stores: Sequence[str], *, exclusive: str) -> Iterator[Heads]:
        yield self._heads(stores)  # files have no shared lock: every caller reads

    def _heads(self, stores: Sequence[str]) -> Heads:
        for store in stores:
            folder = self.folder(store)
            try:
                events = sqlite3.connect(f"file:{folder / 'events.sqlite'}?mode=ro", uri=True)
                views = sqlite3.connect(f"file:{folder / 'views.sqlite'}?mode=ro", uri=True)
            except sqlite3.Error:
                continue
            try:
                head = events.execute("SELECT coalesce(max(rowid), 0) FROM stored_events")
                top = int(head.fetchone()[0])
                rows = views.execute("SELECT application_name, notification_id FROM tracking")
                positions = {name: int(at) for name, at in rows.fetchall()}
            except sqlite3.Error as error:
                log.warning("log head of %s unreadable (%s)", store, type(error).__name__)
                continue
            finally:
                events.close()
                views.close()
            yield store, top, positions

    def remove(self, store: str) -> None:
        shutil.rmtree(self.folder(store), ignore_errors=True)


# --------------------------------------------------------------------------- PostgreSQL


class SharedPoolDatastore(PostgresDatastore):
    """eventsourcing's PostgreSQL datastore for one schema, on the process's shared pool.

    Every statement eventsourcing builds is schema-qualified, so one pool serves every
    tenant's schema and connections stay bounded however many tenants are open.
    """

    def __init__(self, pool: ConnectionPool[Any], schema: str, *, lock_timeout: int) -> None:
        # The base class builds a private pool; it is never opened, and is replaced here.
        super().__init__(
            dbname="",
            host="",
            port=0,
            user="",
            password="",
            schema=schema,
            lock_timeout=lock_timeout,
        )
        self.pool = pool

    @contextmanager
    def get_connection(self) -> Iterator[psycopg.Connection[Any]]:
        try:
            with super().get_connection() as conn:
                yield conn
        except (OperationalError, InterfaceError) as error:
            if unavailability(error) == "timeout":
                raise DatabaseTimeout(type(error.__cause__ or error).__name__) from error
            raise

    def register_type_adapters(self) -> None:
        """No composite types: SharedPoolApplicationRecorder inserts without them (their
        names repeat in every schema, and adapters on shared connections would clash)."""

    def close(self) -> None:
        """The shared pool outlives any one store; the backend closes it."""


class SharedPoolApplicationRecorder(PostgresApplicationRecorder):
    """The application recorder, inserting rows with plain VALUES instead of a composite
    type, so that no per-schema type has to be registered on shared connections."""

    def __init__(self, datastore: PostgresDatastore, *, events_table_name: str) -> None:
        super().__init__(datastore, events_table_name=events_table_name)
        self.sql_create_statements = [
            statement
            for statement in self.sql_create_statements
            if "CREATE TYPE" not in statement.as_string()
            and "CREATE OR REPLACE FUNCTION" not in statement.as_string()
        ]
        self.sql_create_statements += append_only(datastore.schema, events_table_name)
        self._insert_prefix = pgsql.SQL(
            "INSERT INTO {}.{} (originator_id, originator_version, topic, state) VALUES "
        ).format(pgsql.Identifier(datastore.schema), pgsql.Identifier(events_table_name))
        self._writers_lock = pgsql.SQL("SELECT pg_advisory_xact_lock(hashtext({}))").format(
            pgsql.Literal(f"{datastore.schema}.{events_table_name}")
        )

    def create_table(self) -> None:
        _racing_creators(super().create_table)

    def _lock_table(self, curs: Any) -> None:
        # One writer at a time, so positions commit in the order they are issued and a
        # reader never passes a gap that fills later. eventsourcing takes an EXCLUSIVE
        # table lock for this, which needs UPDATE or DELETE rights the application role
        # does not have; a transaction-scoped advisory lock serialises the same writers.
        # The wait is bounded by the connection's lock_timeout (Timeouts.lock_ms).
        curs.execute(self._writers_lock)

    def insert_events(
        self, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        """eventsourcing's insert, retried as it retries it (the connection lost or not
        made: up to INSERT_ATTEMPTS times), but knowing that a lost connection may have
        cut off only the answer to a COMMIT that took effect. A retry that then finds its
        own events already in the log (same aggregate, version, topic and bytes) returns
        their positions: the write was recorded once. Without this, the retry's
        IntegrityError would tell the client "nothing of yours was recorded" (a 409)
        about a write that was."""
        attempts = 0
        while True:
            try:
                return _INSERT_ONCE(self, stored_events, **kwargs)
            except (InterfaceError, OperationalError):
                attempts += 1
                if attempts >= INSERT_ATTEMPTS:
                    raise
                sleep(INSERT_RETRY_WAIT)
            except IntegrityError:
                recorded = self._already_recorded(stored_events) if attempts else None
                if recorded is None:
                    raise
                log.warning("a retried append found its events already recorded")
                return recorded

    def _already_recorded(self, stored_events: Sequence[StoredEvent]) -> list[int] | None:
        """The positions of exactly these events if every one is in the log, else None."""
        select = pgsql.SQL(
            "SELECT notification_id, topic, state FROM {}.{}"
            " WHERE originator_id = %s AND originator_version = %s"
        ).format(pgsql.Identifier(self.datastore.schema), pgsql.Identifier(self.events_table_name))
        positions: list[int] = []
        with self.datastore.get_connection() as conn:
            for event in stored_events:
                row = conn.execute(
                    select, (event.originator_id, event.originator_version)
                ).fetchone()
                if row is None or row["topic"] != event.topic or bytes(row["state"]) != event.state:
                    return None
                positions.append(int(row["notification_id"]))
        return positions

    def _insert_stored_events(
        self, curs: Any, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> None:
        self._lock_table(curs)
        self._notify_channel(curs)
        rows = pgsql.SQL(", ").join([pgsql.SQL("(%s, %s, %s, %s)")] * len(stored_events))
        params: list[Any] = []
        for event in stored_events:
            params += [event.originator_id, event.originator_version, event.topic, event.state]
        curs.execute(self._insert_prefix + rows + pgsql.SQL(" RETURNING notification_id"), params)


#: eventsourcing's append without its retry decorator (SharedPoolApplicationRecorder
#: retries it itself), and that decorator's attempts and wait (seconds).
_INSERT_ONCE = PostgresApplicationRecorder.insert_events.__wrapped__  # type: ignore[attr-defined]
INSERT_ATTEMPTS = 10
INSERT_RETRY_WAIT = 0.2

APPEND_ONLY_FUNCTION = "concord_refuse_rewrite"
APPEND_ONLY_TRIGGERS = ("concord_append_only", "concord_no_truncate")


def append_only(schema: str, table: str) -> list[pgsql.Composed]:
    """The statement making a table append-only for everyone, its owner included: a
    trigger refuses UPDATE, DELETE and TRUNCATE, and nobody is granted them. Installed
    once (so stores opening concurrently do not rewrite the catalogue each time)."""
    names = {
        "schema": pgsql.Identifier(schema),
        "table": pgsql.Identifier(table),
        "function": pgsql.Identifier(APPEND_ONLY_FUNCTION),
        "qualified": pgsql.Literal(pgsql.Identifier(schema, table).as_string(None)),
    }
    # Each trigger is checked on its own, so a table left with one of them (by an older
    # release, or by hand) gets the other.
    missing = {
        trigger: pgsql.SQL(
            "NOT EXISTS (SELECT 1 FROM pg_trigger WHERE tgname = {name}"
            " AND tgrelid = {qualified}::regclass)"
        ).format(name=pgsql.Literal(trigger), **names)
        for trigger in APPEND_ONLY_TRIGGERS
    }
    body = pgsql.SQL(
        "CREATE OR REPLACE FUNCTION {schema}.{function}() RETURNS trigger"
        " LANGUAGE plpgsql AS $fn$ BEGIN RAISE EXCEPTION"
        " 'the event log is append-only: % on %.% is refused',"
        " TG_OP, TG_TABLE_SCHEMA, TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';"
        " END $fn$;"
        " IF {no_rows_guard} THEN CREATE TRIGGER concord_append_only BEFORE UPDATE OR DELETE"
        " ON {schema}.{table} FOR EACH ROW EXECUTE FUNCTION {schema}.{function}(); END IF;"
        " IF {no_truncate_guard} THEN CREATE TRIGGER concord_no_truncate BEFORE TRUNCATE"
        " ON {schema}.{table} FOR EACH STATEMENT EXECUTE FUNCTION {schema}.{function}();"
        " END IF;"
        " REVOKE UPDATE, DELETE, TRUNCATE ON {schema}.{table} FROM PUBLIC;"
    ).format(
        no_rows_guard=missing["concord_append_only"],
        no_truncate_guard=missing["concord_no_truncate"],
        **names,
    )
    return [
        pgsql.SQL("DO $do$ BEGIN IF {either} THEN {body} END IF; END $do$").format(
            either=pgsql.SQL(" OR ").join(missing.values()), body=body
        )
    ]


def events_table(store: str) -> str:
    """The name eventsourcing gives a store's event table (after its Application's name)."""
    return "platform_events" if store == PLATFORM else "alliance_events"


@dataclass(frozen=True)
class Catalog:
    """What a store's schema held when it was last looked at (one catalogue query)."""

    relations: frozenset[str]
    #: The event table carries its append-only trigger.
    guarded: bool

    def events_ready(self, store: str) -> bool:
        """The event table, its index and its trigger are all there: nothing to create."""
        table = events_table(store)
        return self.guarded and {table, f"{table}_notification_id_idx"} <= self.relations


# By name, on pg_class's (relname, relnamespace) index: pg_class has no index on the
# schema alone, and with 10,000 tenants it holds over a million rows.
CATALOG_QUERY = (
    "SELECT c.relname, (SELECT count(*) FROM pg_trigger t WHERE t.tgrelid = c.oid"
    "  AND t.tgname IN ('concord_append_only', 'concord_no_truncate')) = 2 AS guarded"
    " FROM pg_namespace n LEFT JOIN pg_class c"
    "  ON c.relnamespace = n.oid AND c.relname = ANY(%s)"
    " WHERE n.nspname = %s"
)


# Whether the connecting role could drop an event table's append-only trigger (or skip
# it): a superuser, or the owner of a schema or event table, can. By name, on indexes.
ROLE_POWERS_QUERY = (
    "SELECT r.rolsuper AS superuser,"
    " (SELECT count(*) FROM pg_namespace n WHERE n.nspowner = r.oid"
    "  AND (n.nspname = 'platform' OR n.nspname LIKE 'tenant\\_%')) AS schemas,"
    " (SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
    "  WHERE c.relname IN ('platform_events', 'alliance_events') AND c.relowner = r.oid"
    "  AND (n.nspname = 'platform' OR n.nspname LIKE 'tenant\\_%')) AS event_tables"
    " FROM pg_roles r WHERE r.rolname = current_user"
)


class SharedPoolPostgresFactory(PostgresFactory):
    """eventsourcing's PostgreSQL factory for one store, handed its datastore by the backend."""

    application_recorder_class = SharedPoolApplicationRecorder

    def __init__(
        self, env: Any, datastore: SharedPoolDatastore, *, events_ready: bool = False
    ) -> None:
        # Skip BasePostgresFactory.__init__: it would build a datastore and pool of its own.
        BaseInfrastructureFactory.__init__(self, env)
        self.datastore = datastore
        self._events_ready = events_ready

    def env_create_table(self) -> bool:
        # An event table already complete is not re-created (three DDL statements, one
        # of which, CREATE INDEX IF NOT EXISTS, waits on the table's writers).
        return not self._events_ready and super().env_create_table()

    def close(self) -> None:
        pass


class PostgresViewStore(ViewStore):
    #: The store's event table, schema-qualified (set by the backend that opens it).
    events_table: str | None = None

    def __init__(
        self,
        datastore: PostgresDatastore,
        schema: str,
        *,
        existing: frozenset[str] = frozenset(),
        learned: set[str] | None = None,
    ) -> None:
        self.datastore = datastore
        self.schema = schema
        self.tracking_table = f'"{schema}".views_tracking'
        self.tracking = PostgresTrackingRecorder(datastore, tracking_table_name="views_tracking")
        if "views_tracking" not in existing:
            _racing_creators(self.tracking.create_table)
        #: Relations known to exist (see Sql): their CREATE ... IF NOT EXISTS is skipped.
        self._existing = set(existing)
        self._learned = learned
        self._search_path = pgsql.SQL("SET LOCAL search_path TO {}").format(
            pgsql.Identifier(schema)
        )

    @contextmanager
    def transaction(self, *, commit: bool) -> Iterator[Sql]:
        # SET LOCAL: the search path ends with the transaction, so a pooled connection
        # never carries one tenant's schema into another tenant's work.
        with self.datastore.transaction(commit=commit) as cursor:
            cursor.execute(self._search_path)
            yield Sql(cursor, postgres=True, existing=self._existing, learned=self._learned)

    def lock(self, sql: Sql, name: str) -> None:
        sql.execute("SELECT pg_advisory_xact_lock(hashtext(?))", (f"{self.schema}.{name}",))

    def notifications(self, sql: Sql, start: int, limit: int) -> list[Notification] | None:
        if self.events_table is None:
            return None
        sql.execute(
            "SELECT notification_id, originator_id, originator_version, topic, state"  # noqa: S608
            f" FROM {self.events_table} WHERE notification_id >= ?"
            " ORDER BY notification_id LIMIT ?",
            (start, limit),
        )
        return [
            Notification(
                id=row["notification_id"],
                originator_id=row["originator_id"],
                originator_version=row["originator_version"],
                topic=row["topic"],
                state=bytes(row["state"]),
            )
            for row in sql.cursor.fetchall()
        ]

    def positions(self) -> dict[str, int]:
        # One statement on an autocommit connection: no BEGIN, search path or ROLLBACK.
        with self.datastore.pool.connection() as conn:
            rows = conn.execute(
                f"SELECT application_name, notification_id FROM {self.tracking_table}"  # noqa: S608
            ).fetchall()
        return {row["application_name"]: int(row["notification_id"]) for row in rows}

    def lock_all(self, sql: Sql, names: Sequence[str]) -> None:
        # One round trip; always in sorted order, so two lockers never deadlock.
        sql.execute(
            "SELECT count(pg_advisory_xact_lock(hashtext(k)))"
            " FROM (SELECT unnest(?::text[]) AS k ORDER BY 1) AS keys",
            ([f"{self.schema}.{name}" for name in sorted(names)],),
        )

    def purge(self, table: str) -> None:
        # VACUUM FULL writes the live rows to a new file and drops the old one, dead row
        # versions and all (a plain VACUUM only marks their space free). It keeps a
        # deleted row that a transaction open anywhere in the database might still see
        # (any backend whose snapshot is older than the delete): wait, bounded, for those
        # to end first, or the row would stay in the new file (seen under load).
        statement = pgsql.SQL("VACUUM FULL {}.{}").format(
            pgsql.Identifier(self.schema), pgsql.Identifier(table)
        )
        with self.datastore.pool.connection() as conn:  # autocommit: VACUUM needs it
            marker = conn.execute("SELECT pg_current_xact_id()::text AS xid").fetchone()
            deadline = monotonic() + PURGE_WAIT_SECONDS
            while _older_snapshots(conn, str(marker["xid"])) and monotonic() < deadline:
                sleep(0.05)
            if _older_snapshots(conn, str(marker["xid"])):
                log.warning(
                    "purging %s.%s: a transaction older than the delete is still open; "
                    "its row may stay in the table's files until the next purge",
                    self.schema,
                    table,
                )
            # Rewriting a table may take longer than a request's statement timeout: this
            # statement alone runs without one (the lock timeout still bounds its wait).
            row = conn.execute("SHOW statement_timeout").fetchone()
            configured = str(row["statement_timeout"])
            conn.execute("SET statement_timeout = 0")
            try:
                conn.execute(statement)
            finally:  # RESET would drop to the server default, not this pool's setting
                conn.execute(
                    pgsql.SQL("SET statement_timeout = {}").format(pgsql.Literal(configured))
                )


#: How long a purge waits for the transactions that might still see a deleted row.
PURGE_WAIT_SECONDS = 30.0


def _older_snapshots(conn: psycopg.Connection[Any], xid: str) -> bool:
    """Whether another backend of this database holds a snapshot, or a transaction id,
    older than the transaction `xid`: either holds VACUUM's horizon back, so a row deleted
    before `xid` would be kept as "recently dead" (a writer still running counts too)."""
    row = conn.execute(
        "SELECT count(*) AS n FROM pg_stat_activity"
        " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        " AND (age(backend_xmin) >= age(%s::xid) OR age(backend_xid) >= age(%s::xid))",
        (xid, xid),
    ).fetchone()
    return bool(row and row["n"])


#: Pooled connections are replaced after this long (seconds) ...
POOL_MAX_LIFETIME = 600.0
#: ... or after this many uses. A PostgreSQL backend caches the catalogue entries of
#: every table it touches and keeps them: measured, 60-110 KB of private memory per
#: tenant schema a connection has served (115 MB after 1,000 schemas). This bounds a
#: backend to about that many schemas, for one connection set-up (a few ms) per this
#: many transactions.
POOL_MAX_USES = 1000
#: An idle connection above the pool's minimum is closed after this long (seconds).
POOL_MAX_IDLE = 120.0
#: How many stores' catalogues a backend keeps between `exists` and the store's opening.
CATALOGS_KEPT = 64


class _Recycler:
    """The pool's reset callback: retire a connection once it has been used
    POOL_MAX_USES times, so the pool replaces it (as it does an expired one)."""

    def __init__(self, max_uses: int) -> None:
        self.max_uses = max_uses
        self._uses: weakref.WeakKeyDictionary[Any, int] = weakref.WeakKeyDictionary()
        self.retired = 0

    def __call__(self, conn: psycopg.Connection[Any]) -> None:
        uses = self._uses.get(conn, 0) + 1
        self._uses[conn] = uses
        if uses >= self.max_uses and hasattr(conn, "_expire_at"):
            conn._expire_at = monotonic()  # psycopg_pool discards it on return
            self.retired += 1


class PostgresBackend(Backend):
    """Production: one schema per store, one connection pool per process."""

    kind = "postgresql"

    def __init__(
        self,
        url: str,
        *,
        pool_size: int = 10,
        owner_url: str | None = None,
        timeouts: Timeouts | None = None,
    ) -> None:
        self.url = url
        self.pool_size = pool_size
        self.timeouts = timeouts = timeouts or Timeouts()
        configure = _configure_session(timeouts)
        #: Provisioning runs as the owner role when one is configured; the application
        #: role then reads and appends events and can do nothing else to them.
        self.owner_pool: ConnectionPool[Any] | None = None
        if owner_url is not None:
            self.owner_pool = ConnectionPool(
                conninfo=owner_url,
                kwargs={"row_factory": dict_row},
                connection_class=psycopg.Connection,
                min_size=0,
                max_size=2,
                open=False,
                configure=configure,
                timeout=timeouts.pool_seconds,
                name="concord-owner",
            )
        # The pool every store of this process draws on: connections stay bounded by
        # pool_size however many tenants are served.
        self.recycler = _Recycler(POOL_MAX_USES)
        self.pool: ConnectionPool[Any] = ConnectionPool(
            conninfo=url,
            # No server-side prepared statements: eventsourcing ends every read with a
            # ROLLBACK, after which psycopg deallocates them all, so preparing (after 5
            # uses) only ever cost a round trip and bought nothing.
            kwargs={"row_factory": dict_row, "prepare_threshold": None},
            connection_class=psycopg.Connection,
            min_size=1,
            max_size=pool_size,
            open=False,
            configure=configure,
            reset=self.recycler,
            max_lifetime=POOL_MAX_LIFETIME,
            max_idle=POOL_MAX_IDLE,
            timeout=timeouts.pool_seconds,
            name="concord",
        )
        self._catalogs: OrderedDict[str, Catalog] = OrderedDict()
        self._catalogs_lock = threading.Lock()
        #: The relations a store may hold: its event table and index, and every name a
        #: view store of this process has created with IF NOT EXISTS (learned as they go).
        self._names: set[str] = {"views_tracking"}
        for table in ("platform_events", "alliance_events"):
            self._names |= {table, f"{table}_notification_id_idx"}

    def application_env(self, store: str) -> dict[str, str]:
        env = {"PERSISTENCE_MODULE": "eventsourcing.postgres"}
        if self.owner_pool is not None:
            env["CREATE_TABLE"] = "no"  # the owner made them; this role could not
        return env

    def factory(self, store: str, env: Any) -> InfrastructureFactory[Any]:
        self._open()
        # Opening a store that exists costs this one catalogue query (usually already
        # made by `exists`) and no DDL: what is there is not created again.
        catalog = self._catalog(store, fresh=False)
        datastore = SharedPoolDatastore(
            self.pool, schema_name(store), lock_timeout=self.timeouts.lock_seconds
        )
        return SharedPoolPostgresFactory(
            env, datastore, events_ready=catalog is not None and catalog.events_ready(store)
        )

    def open_views(self, store: str, factory: InfrastructureFactory[Any]) -> ViewStore:
        assert isinstance(factory, SharedPoolPostgresFactory)
        with self._catalogs_lock:
            catalog = self._catalogs.pop(store, None)
        existing = catalog.relations if catalog is not None else frozenset()
        views = PostgresViewStore(
            factory.datastore, schema_name(store), existing=existing, learned=self._names
        )
        views.events_table = pgsql.Identifier(schema_name(store), events_table(store)).as_string(
            None
        )
        return views

    def exists(self, store: str) -> bool:
        return self._catalog(store, fresh=True) is not None

    def catalog(self, store: str) -> Catalog | None:
        """What the store's schema holds now (None: no such schema)."""
        return self._catalog(store, fresh=True)

    def _catalog(self, store: str, *, fresh: bool) -> Catalog | None:
        if not fresh:
            with self._catalogs_lock:
                kept = self._catalogs.get(store)
            if kept is not None:
                return kept
        names = sorted(self._names.copy())
        with self.connection() as conn:
            rows = conn.execute(CATALOG_QUERY, (names, schema_name(store))).fetchall()
        if not rows:
            with self._catalogs_lock:
                self._catalogs.pop(store, None)
            return None
        catalog = Catalog(
            relations=frozenset(row["relname"] for row in rows if row["relname"] is not None),
            guarded=any(row["guarded"] for row in rows),
        )
        with self._catalogs_lock:
            self._catalogs[store] = catalog
            self._catalogs.move_to_end(store)
            while len(self._catalogs) > CATALOGS_KEPT:
                self._catalogs.popitem(last=False)
        return catalog

    def tenant_stores(self) -> list[str]:
        # Slugs hold no underscore, so a schema name maps back to exactly one slug.
        # (pg_namespace, not information_schema: that one checks rights row by row.)
        with self.connection() as conn:
            rows = conn.execute(
                "SELECT nspname FROM pg_namespace WHERE nspname LIKE 'tenant\\_%' ORDER BY nspname"
            ).fetchall()
        return [row["nspname"][len("tenant_") :].replace("_", "-") for row in rows]

    def provision(self, store: str) -> None:
        with self._catalogs_lock:  # what was known of it is about to change
            self._catalogs.pop(store, None)
        schema = pgsql.Identifier(schema_name(store))
        statement = pgsql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(schema)
        if self.owner_pool is None:
            with self.connection() as conn:
                conn.execute(statement)
            return
        self.owner_pool.open(wait=False)
        with self.connection() as conn:
            app_role = conn.execute("SELECT current_user AS role").fetchone()["role"]  # type: ignore[index]
        with self.owner_pool.connection() as conn:
            conn.execute(statement)
        # The event table, its index and its append-only trigger, made by the owner.
        owner_store = SharedPoolDatastore(
            self.owner_pool, schema_name(store), lock_timeout=self.timeouts.lock_seconds
        )
        SharedPoolApplicationRecorder(
            owner_store, events_table_name=events_table(store)
        ).create_table()
        names = {
            "schema": schema,
            "table": pgsql.Identifier(events_table(store)),
            "sequence": pgsql.Identifier(f"{events_table(store)}_notification_id_seq"),
            "role": pgsql.Identifier(app_role),
        }
        grants = [
            "GRANT USAGE, CREATE ON SCHEMA {schema} TO {role}",
            "GRANT SELECT, INSERT ON {schema}.{table} TO {role}",
            "GRANT USAGE ON SEQUENCE {schema}.{sequence} TO {role}",
        ]
        with self.owner_pool.connection() as conn:
            for grant in grants:
                conn.execute(pgsql.SQL(grant).format(**names))

    @contextmanager
    def connection(self) -> Iterator[psycopg.Connection[Any]]:
        self._open()
        with self.pool.connection() as conn:
            yield conn

    def ping(self) -> None:
        with self.connection() as conn:
            conn.execute("SELECT 1")

    def powers_over_the_log(self) -> list[str]:
        with self.connection() as conn:
            row = conn.execute(ROLE_POWERS_QUERY).fetchone()
        assert row is not None
        powers = []
        if row["superuser"]:
            powers.append("is a superuser")
        if row["schemas"]:
            powers.append(f"owns {row['schemas']} of Concord's schemas")
        if row["event_tables"]:
            powers.append(f"owns {row['event_tables']} of its event tables")
        return powers

    @contextmanager
    def log_heads(self, stores: Sequence[str], *, exclusive: str) -> Iterator[Heads]:
        # One connection and one transaction for the whole read, holding the advisory
        # lock `exclusive` names (a second caller skips), one query per store.
        with self.connection() as conn, conn.transaction():
            locked = conn.execute(
                "SELECT pg_try_advisory_xact_lock(hashtext(%s)) AS locked", (exclusive,)
            ).fetchone()
            if not locked or not locked["locked"]:
                yield iter(())
                return
            yield self._heads(conn, stores)

    def _heads(self, conn: psycopg.Connection[Any], stores: Sequence[str]) -> Heads:
        for store in stores:
            names = {
                "events": pgsql.Identifier(schema_name(store), events_table(store)),
                "tracking": pgsql.Identifier(schema_name(store), "views_tracking"),
            }
            try:
                with conn.transaction():  # a savepoint: one broken store skips only itself
                    row = conn.execute(
                        pgsql.SQL(
                            "SELECT (SELECT coalesce(max(notification_id), 0) FROM {events})"
                            " AS head, (SELECT coalesce(json_object_agg(application_name,"
                            " notification_id), '{{}}') FROM {tracking}) AS positions"
                        ).format(**names)
                    ).fetchone()
            except psycopg.Error as error:
                log.warning("log head of %s unreadable (%s)", store, type(error).__name__)
                continue
            assert row is not None
            positions = row["positions"]
            if isinstance(positions, str):
                positions = json.loads(positions)
            yield store, int(row["head"]), {k: int(v) for k, v in positions.items()}

    def _open(self) -> None:
        self.pool.open(wait=False)

    def close(self) -> None:
        self.pool.close()
        if self.owner_pool is not None:
            self.owner_pool.close()


def _racing_creators(create: Any) -> None:
    """Run a `CREATE ... IF NOT EXISTS` step, once more if another process created the
    same table at the same moment (IF NOT EXISTS is no guard against a concurrent
    creator: the loser fails on the catalogue's unique index). The second try finds
    the winner's table and creates nothing."""
    try:
        create()
    except IntegrityError:
        create()


def _configure_session(timeouts: Timeouts) -> Any:
    """The pool's set-up of each new connection: autocommit, and the timeouts."""
    settings = timeouts.session_settings()

    def configure(conn: psycopg.Connection[Any]) -> None:
        conn.autocommit = True
        conn.execute(settings)

    return configure


def make_backend(
    database_url: str | None,
    data_dir: str,
    *,
    pool_size: int,
    owner_url: str | None = None,
    timeouts: Timeouts | None = None,
) -> Backend:
    if database_url:
        return PostgresBackend(
            database_url, pool_size=pool_size, owner_url=owner_url, timeouts=timeouts
        )
    return SQLiteBackend(data_dir, timeouts=timeouts)
