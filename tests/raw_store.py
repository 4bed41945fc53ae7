"""What a store holds, read around Concord: for the canary tests that prove a secret or an
erased person has left no trace (ballot secrecy, erasure)."""

from __future__ import annotations

import sqlite3
from typing import Any

import psycopg
from psycopg import sql as pgsql

from infra.stores import schema_name


def store_pages(runtime: Any, database_url: str | None, store: str) -> list[tuple[str, bytes]]:
    """A store as raw bytes: on SQLite its files (free pages and write-ahead logs
    included); on PostgreSQL every page of every table, index and TOAST table of its
    schema (dead tuples included), read through pageinspect."""
    if database_url is None:
        folder = runtime.backend.folder(store)
        return [(f"file {p.name}", p.read_bytes()) for p in sorted(folder.iterdir()) if p.is_file()]
    pages = []
    schema = schema_name(store)
    with psycopg.connect(database_url, autocommit=True) as connection:
        connection.execute("CREATE EXTENSION IF NOT EXISTS pageinspect")
        relations = connection.execute(
            "SELECT c.oid::regclass::text FROM pg_class c"
            " JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE c.relkind IN ('r', 'i') AND n.nspname = %s"
            " UNION SELECT t.oid::regclass::text FROM pg_class c"
            " JOIN pg_namespace n ON n.oid = c.relnamespace"
            " JOIN pg_class t ON t.oid = c.reltoastrelid WHERE n.nspname = %s",
            (schema, schema),
        ).fetchall()
        assert relations
        for (name,) in relations:
            blocks = connection.execute(
                "SELECT pg_relation_size(%s::regclass) / current_setting('block_size')::int",
                (name,),
            ).fetchone()
            assert blocks is not None
            for block in range(blocks[0]):
                page = connection.execute("SELECT get_raw_page(%s, %s)", (name, block)).fetchone()
                assert page is not None
                pages.append((f"page {name}#{block}", bytes(page[0])))
    return pages


def store_rows(runtime: Any, database_url: str | None, store: str) -> list[tuple[str, str]]:
    """Every row of every table of a store (events, views, tracking, keys), as text."""
    rows: list[tuple[str, str]] = []
    if database_url is None:
        for path in sorted(runtime.backend.folder(store).glob("*.sqlite")):
            connection = sqlite3.connect(path)
            try:
                tables = connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
                for (table,) in tables.fetchall():
                    for row in connection.execute(f'SELECT * FROM "{table}"'):
                        rows.append((f"{store}/{path.name}/{table}", repr(row)))
            finally:
                connection.close()
        return rows
    schema = schema_name(store)
    with psycopg.connect(database_url) as connection:
        tables = connection.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = %s",
            (schema,),
        ).fetchall()
        for (table,) in tables:
            query = pgsql.SQL("SELECT * FROM {}.{}").format(
                pgsql.Identifier(schema), pgsql.Identifier(table)
            )
            rows += [(f"{schema}.{table}", repr(r)) for r in connection.execute(query)]
    return rows
