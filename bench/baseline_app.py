"""The raw baseline `make bench` measures Concord against: a bare litestar app, served by
the same server program with the same number of processes as Concord.

    uvicorn --factory bench.baseline_app:create --workers 2

Environment:
  BENCH_BASELINE_DATABASE_URL  a postgresql:// URL (psycopg pool, as many connections as
                               Concord's CONCORD_DB_POOL_SIZE, default 10); else
  BENCH_BASELINE_SQLITE        a file for the write table (journal_mode=WAL, like Concord)
  BENCH_BASELINE_DATA_DIR      SQLite only: Concord's CONCORD_DATA_DIR, whose tenants'
                               views.sqlite the read route opens (read only)

Routes (the handlers are sync, run in worker threads, like Concord's):
  POST /insert                          one INSERT + COMMIT of the JSON body's `name`
  GET  /v1/tenants/{slug}/members       the SELECT Concord's member register page runs,
                                        on the same table (`members` of that tenant)
"""

from __future__ import annotations

import os
import sqlite3
import threading
import uuid
from pathlib import Path
from typing import Any

import msgspec
import psycopg
from litestar import Litestar, get, post
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool

COLUMNS = (
    "member_id, seq, application_id, capacity, name, person_name, organisation_kind, region,"
    " standing, status, admitted_at, status_since, status_reason, decision_ref, by_body"
)


class Insert(msgspec.Struct):
    name: str


def create() -> Litestar:
    url = os.environ.get("BENCH_BASELINE_DATABASE_URL")
    if url:
        return _postgres(url)
    return _sqlite(
        Path(os.environ["BENCH_BASELINE_SQLITE"]), Path(os.environ["BENCH_BASELINE_DATA_DIR"])
    )


def _postgres(url: str) -> Litestar:
    size = int(os.environ.get("CONCORD_DB_POOL_SIZE", "10"))
    pool = ConnectionPool(url, min_size=size, max_size=size, open=False)

    @post("/insert", sync_to_thread=True, status_code=201)
    def insert(data: Insert) -> dict[str, str]:
        row_id = str(uuid.uuid4())
        with pool.connection() as conn:  # commits on leaving the block
            conn.execute(
                "INSERT INTO bench_raw (id, name, body) VALUES (%s, %s, %s)",
                (row_id, data.name, "x" * 200),
            )
        return {"id": row_id}

    @get("/v1/tenants/{slug:str}/members", sync_to_thread=True)
    def members(slug: str, limit: int = 50, after: int = 0) -> dict[str, Any]:
        schema = "tenant_" + slug.replace("-", "_")
        with pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
            cur.execute(
                f'SELECT {COLUMNS} FROM "{schema}".members WHERE seq > %s'  # noqa: S608
                " ORDER BY seq LIMIT %s",
                (after, limit + 1),
            )
            rows = cur.fetchall()
        return {"items": rows[:limit], "next_after": None}

    def start() -> None:
        pool.open(wait=True)

    def stop() -> None:
        pool.close()

    return Litestar([insert, members], on_startup=[start], on_shutdown=[stop])


def _sqlite(path: Path, data_dir: Path) -> Litestar:
    local = threading.local()

    def writer() -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(local, "writer", None)
        if conn is None:
            conn = sqlite3.connect(path, timeout=10, isolation_level=None)
            conn.execute("PRAGMA journal_mode=WAL")
            local.writer = conn
        return conn

    def reader(slug: str) -> sqlite3.Connection:
        readers: dict[str, sqlite3.Connection] = local.__dict__.setdefault("readers", {})
        conn = readers.get(slug)
        if conn is None:
            views = data_dir / "tenants" / slug / "views.sqlite"
            conn = sqlite3.connect(f"file:{views}?mode=ro", uri=True, timeout=10)
            conn.row_factory = sqlite3.Row
            readers[slug] = conn
        return conn

    @post("/insert", sync_to_thread=True, status_code=201)
    def insert(data: Insert) -> dict[str, str]:
        row_id = str(uuid.uuid4())
        conn = writer()
        conn.execute("BEGIN")
        conn.execute(
            "INSERT INTO bench_raw (id, name, body) VALUES (?, ?, ?)",
            (row_id, data.name, "x" * 200),
        )
        conn.execute("COMMIT")
        return {"id": row_id}

    @get("/v1/tenants/{slug:str}/members", sync_to_thread=True)
    def members(slug: str, limit: int = 50, after: int = 0) -> dict[str, Any]:
        conn = reader(slug)
        rows = conn.execute(
            f"SELECT {COLUMNS} FROM members WHERE seq > ? ORDER BY seq LIMIT ?",  # noqa: S608
            (after, limit + 1),
        ).fetchall()
        return {"items": [dict(row) for row in rows[:limit]], "next_after": None}

    return Litestar([insert, members])


def prepare(url: str | None, sqlite_path: Path | None) -> None:
    """Create the baseline's write table (called by the bench before the server starts)."""
    ddl = "CREATE TABLE IF NOT EXISTS bench_raw (id TEXT PRIMARY KEY, name TEXT, body TEXT)"
    if url:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(ddl)
    elif sqlite_path is not None:
        conn = sqlite3.connect(sqlite_path, isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute(ddl)
        conn.close()
