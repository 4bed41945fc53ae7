"""Shared fixtures: every behaviour test runs on SQLite and on PostgreSQL.

PostgreSQL is reached at CONCORD_TEST_DATABASE_URL; each test gets a database of its own,
dropped afterwards. Outside CI an unreachable server skips those tests with one line; with
CI=true it fails them.
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from litestar.testing import TestClient
from psycopg import sql

from infra.settings import Settings
from infra.telemetry import Telemetry
from services.api.app import create_app

DEFAULT_TEST_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
ADMIN_KEY = "test-platform-admin-key-0123456789"
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")

_reachable: dict[str, str | None] = {}


def _server_url() -> str:
    return os.environ.get("CONCORD_TEST_DATABASE_URL", DEFAULT_TEST_DATABASE_URL)


def _postgres_problem() -> str | None:
    """None when the test server answers; otherwise why not."""
    url = _server_url()
    if url not in _reachable:
        try:
            with psycopg.connect(url, connect_timeout=3) as conn:
                conn.execute("SELECT 1")
            _reachable[url] = None
        except psycopg.Error as error:
            _reachable[url] = f"{type(error).__name__}: {str(error).strip().splitlines()[0]}"
    return _reachable[url]


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test, dropped after it."""
    problem = _postgres_problem()
    if problem is not None:
        message = (
            f"PostgreSQL not reachable at {_server_url()} ({problem}); "
            "set CONCORD_TEST_DATABASE_URL to a server you can create databases on"
        )
        if IN_CI:
            pytest.fail("CI=true: " + message)
        pytest.skip(message)
    server = _server_url()
    name = f"concord_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield urlunsplit(urlsplit(server)._replace(path="/" + name))
    finally:
        with psycopg.connect(server, autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest) -> str:
    """Which store the test runs on."""
    return str(request.param)


@pytest.fixture
def settings(backend: str, request: pytest.FixtureRequest, tmp_path: Any) -> Settings:
    database_url = request.getfixturevalue("postgres_url") if backend == "postgres" else None
    return Settings(
        database_url=database_url,
        data_dir=str(tmp_path / "var"),
        admin_key=ADMIN_KEY,
        tenant_cache_size=8,
        db_pool_size=4,
        # The tests' webhook receivers listen on loopback (by default only public
        # addresses are sent to: tests/e2e/test_audit_checkpoints.py checks that too).
        outbound_private_networks="127.0.0.0/8",
        # No background refresh of governance snapshots: a test that moves the clock
        # would otherwise see misses recorded while it runs (tests refresh explicitly).
        obligations_interval=0,
    )


@pytest.fixture
def telemetry() -> Telemetry:
    return Telemetry("none")


@pytest.fixture
def client(settings: Settings, telemetry: Telemetry) -> Iterator[TestClient[Any]]:
    with TestClient(create_app(settings, telemetry=telemetry)) as test_client:
        yield test_client


def free_port() -> int:
    """A TCP port on the loopback interface that nothing listens on just now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


ADMIN = bearer(ADMIN_KEY)


@pytest.fixture
def onboard(client: TestClient[Any]) -> Callable[..., dict[str, Any]]:
    """Onboard an alliance through the API; returns the 201 body."""

    def _onboard(slug: str, **fields: Any) -> dict[str, Any]:
        body = {
            "slug": slug,
            "name": f"{slug.replace('-', ' ').title()} Alliance",
            "region": "South East",
            "template": "family-justice",
            **fields,
        }
        response = client.post("/v1/tenants", json=body, headers=ADMIN)
        assert response.status_code == 201, response.text
        return dict(response.json())

    return _onboard


@pytest.fixture
def every_log(client, caplog) -> Iterator[pytest.LogCaptureFixture]:
    """caplog at DEBUG for every logger, including those that do not propagate, from the
    test's setup on (starting the app reconfigures logging, dropping pytest's handler of
    the setup phase from the root logger: it is put back)."""
    caplog.set_level(logging.DEBUG)
    handler = caplog.handler  # the setup phase's: what it keeps, get_records("setup") reads
    changed: list[tuple[logging.Logger, int, bool]] = []
    loggers = [logging.getLogger()] + [
        logger
        for logger in list(logging.root.manager.loggerDict.values())
        if isinstance(logger, logging.Logger)
    ]
    for logger in loggers:
        attach = (logger is logging.root or not logger.propagate) and (
            handler not in logger.handlers
        )
        changed.append((logger, logger.level, attach))
        logger.setLevel(logging.DEBUG)
        if attach:
            logger.addHandler(handler)
    yield caplog
    for logger, level, attached in changed:
        logger.setLevel(level)
        if attached:
            logger.removeHandler(handler)
