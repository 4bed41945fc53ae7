"""Where each store lives: SQLite files per store, or a PostgreSQL schema per store.

A *store* is one event log with its read models: the platform's (tenant registry, keys,
national directory) or one tenant's. The backend decides where a store's events and views
live and hands out the eventsourcing infrastructure for it.
"""

from __future__ import annotations

import shutil
import sqlite3
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
from eventsourcing.persistence import (
    BaseInfrastructureFactory,
    InfrastructureFactory,
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

PLATFORM = "platform"
# Read the log in pages this big: the default (10) is several times slower to scan.
LOG_PAGE = 1000


def schema_name(store: str) -> str:
    """The PostgreSQL schema of a store. Slugs are validated before any SQL is built."""
    if store == PLATFORM:
        return "platform"
    return "tenant_" + checked_slug(store).replace("-", "_")


class Sql:
    """A cursor in one transaction of a view store, the same to SQLite and PostgreSQL.

    Statements are written with `?` placeholders; PostgreSQL gets `%s`.
    """

    def __init__(self, cursor: Any, *, postgres: bool) -> None:
        self.cursor = cursor
        self._postgres = postgres

    def execute(self, statement: str, params: Sequence[Any] = ()) -> None:
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

    def position(self, projection: str) -> int:
        return self.tracking.max_tracking_id(projection) or 0

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
    def ping(self) -> None:
        """Raise when the backing database cannot be reached."""

    def close(self) -> None:
        """Release shared resources (the connection pool)."""


# --------------------------------------------------------------------------- SQLite


class SQLiteViewStore(ViewStore):
    tracking_table = "tracking"

    def __init__(self, path: Path) -> None:
        self.path = path
        self.datastore = SQLiteDatastore(str(path), pool_size=2, max_overflow=4)
        self.tracking = SQLiteTrackingRecorder(self.datastore)
        self.tracking.create_table()

    @contextmanager
    def transaction(self, *, commit: bool) -> Iterator[Sql]:
        with self.datastore.transaction(commit=commit) as cursor:
            yield Sql(cursor, postgres=False)

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

    def __init__(self, data_dir: str | Path) -> None:
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
            "SQLITE_LOCK_TIMEOUT": "10",
        }

    def factory(self, store: str, env: Any) -> InfrastructureFactory[Any]:
        return SQLiteFactory(env)

    def open_views(self, store: str, factory: InfrastructureFactory[Any]) -> ViewStore:
        return SQLiteViewStore(self.folder(store) / "views.sqlite")

    def exists(self, store: str) -> bool:
        return (self.folder(store) / "events.sqlite").exists()

    def provision(self, store: str) -> None:
        self.folder(store).mkdir(parents=True, exist_ok=True)

    def ping(self) -> None:
        probe = sqlite3.connect(str(self.root / PLATFORM / "events.sqlite"), timeout=1)
        try:
            probe.execute("SELECT 1").fetchone()
        finally:
            probe.close()

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

    def _lock_table(self, curs: Any) -> None:
        # One writer at a time, so positions commit in the order they are issued and a
        # reader never passes a gap that fills later. eventsourcing takes an EXCLUSIVE
        # table lock for this, which needs UPDATE or DELETE rights the application role
        # does not have; a transaction-scoped advisory lock serialises the same writers.
        curs.execute(self.lock_table_statements[0])  # SET LOCAL lock_timeout
        curs.execute(self._writers_lock)

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


APPEND_ONLY_FUNCTION = "concord_refuse_rewrite"


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
    body = pgsql.SQL(
        "CREATE OR REPLACE FUNCTION {schema}.{function}() RETURNS trigger"
        " LANGUAGE plpgsql AS $fn$ BEGIN RAISE EXCEPTION"
        " 'the event log is append-only: % on %.% is refused',"
        " TG_OP, TG_TABLE_SCHEMA, TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';"
        " END $fn$;"
        " CREATE TRIGGER concord_append_only BEFORE UPDATE OR DELETE"
        " ON {schema}.{table} FOR EACH ROW EXECUTE FUNCTION {schema}.{function}();"
        " CREATE TRIGGER concord_no_truncate BEFORE TRUNCATE"
        " ON {schema}.{table} FOR EACH STATEMENT EXECUTE FUNCTION {schema}.{function}();"
        " REVOKE UPDATE, DELETE, TRUNCATE ON {schema}.{table} FROM PUBLIC;"
    ).format(**names)
    return [
        pgsql.SQL(
            "DO $do$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_trigger"
            " WHERE tgname = 'concord_append_only' AND tgrelid = {qualified}::regclass)"
            " THEN {body} END IF; END $do$"
        ).format(body=body, **names)
    ]


def events_table(store: str) -> str:
    """The name eventsourcing gives a store's event table (after its Application's name)."""
    return "platform_events" if store == PLATFORM else "alliance_events"


class SharedPoolPostgresFactory(PostgresFactory):
    """eventsourcing's PostgreSQL factory for one store, handed its datastore by the backend."""

    application_recorder_class = SharedPoolApplicationRecorder

    def __init__(self, env: Any, datastore: SharedPoolDatastore) -> None:
        # Skip BasePostgresFactory.__init__: it would build a datastore and pool of its own.
        BaseInfrastructureFactory.__init__(self, env)
        self.datastore = datastore

    def close(self) -> None:
        pass


class PostgresViewStore(ViewStore):
    def __init__(self, datastore: PostgresDatastore, schema: str) -> None:
        self.datastore = datastore
        self.schema = schema
        self.tracking_table = f'"{schema}".views_tracking'
        self.tracking = PostgresTrackingRecorder(datastore, tracking_table_name="views_tracking")
        self.tracking.create_table()
        self._search_path = pgsql.SQL("SET LOCAL search_path TO {}").format(
            pgsql.Identifier(schema)
        )

    @contextmanager
    def transaction(self, *, commit: bool) -> Iterator[Sql]:
        # SET LOCAL: the search path ends with the transaction, so a pooled connection
        # never carries one tenant's schema into another tenant's work.
        with self.datastore.transaction(commit=commit) as cursor:
            cursor.execute(self._search_path)
            yield Sql(cursor, postgres=True)

    def purge(self, table: str) -> None:
        # VACUUM FULL writes the live rows to a new file and drops the old one, dead row
        # versions and all (a plain VACUUM only marks their space free).
        statement = pgsql.SQL("VACUUM FULL {}.{}").format(
            pgsql.Identifier(self.schema), pgsql.Identifier(table)
        )
        with self.datastore.pool.connection() as conn:  # autocommit: VACUUM needs it
            conn.execute(statement)


class PostgresBackend(Backend):
    """Production: one schema per store, one connection pool per process."""

    kind = "postgresql"

    def __init__(self, url: str, *, pool_size: int = 10, owner_url: str | None = None) -> None:
        self.url = url
        self.pool_size = pool_size
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
                configure=_autocommit,
                timeout=10.0,
                name="concord-owner",
            )
        # The pool every store of this process draws on: connections stay bounded by
        # pool_size however many tenants are served.
        self.pool: ConnectionPool[Any] = ConnectionPool(
            conninfo=url,
            kwargs={"row_factory": dict_row},
            connection_class=psycopg.Connection,
            min_size=1,
            max_size=pool_size,
            open=False,
            configure=_autocommit,
            timeout=10.0,
            name="concord",
        )

    def application_env(self, store: str) -> dict[str, str]:
        env = {"PERSISTENCE_MODULE": "eventsourcing.postgres"}
        if self.owner_pool is not None:
            env["CREATE_TABLE"] = "no"  # the owner made them; this role could not
        return env

    def factory(self, store: str, env: Any) -> InfrastructureFactory[Any]:
        self._open()
        datastore = SharedPoolDatastore(self.pool, schema_name(store), lock_timeout=5)
        return SharedPoolPostgresFactory(env, datastore)

    def open_views(self, store: str, factory: InfrastructureFactory[Any]) -> ViewStore:
        assert isinstance(factory, SharedPoolPostgresFactory)
        return PostgresViewStore(factory.datastore, schema_name(store))

    def exists(self, store: str) -> bool:
        with self.connection() as conn:
            row = conn.execute(
                "SELECT 1 FROM information_schema.schemata WHERE schema_name = %s",
                (schema_name(store),),
            ).fetchone()
        return row is not None

    def provision(self, store: str) -> None:
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
        owner_store = SharedPoolDatastore(self.owner_pool, schema_name(store), lock_timeout=5)
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

    def _open(self) -> None:
        self.pool.open(wait=False)

    def close(self) -> None:
        self.pool.close()
        if self.owner_pool is not None:
            self.owner_pool.close()


def _autocommit(conn: psycopg.Connection[Any]) -> None:
    conn.autocommit = True
    conn.execute("SET idle_in_transaction_session_timeout = '30s'")


def make_backend(
    database_url: str | None,
    data_dir: str,
    *,
    pool_size: int,
    owner_url: str | None = None,
) -> Backend:
    if database_url:
        return PostgresBackend(database_url, pool_size=pool_size, owner_url=owner_url)
    return SQLiteBackend(data_dir)
