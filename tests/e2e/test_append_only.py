"""The event tables are append-only in PostgreSQL itself, whoever connects: with one URL
(the application owns its tables) a trigger refuses UPDATE, DELETE and TRUNCATE even to
the owner; with a separate owner URL the application's role is granted only SELECT and
INSERT on the event tables, so it is refused before any trigger runs, and the platform
still works as that role (writes serialised by an advisory lock, not a table lock).

PostgreSQL only: these are properties of the database, not of Concord's code.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from litestar.testing import TestClient
from psycopg import sql

from infra.settings import Settings
from services.api.app import create_app
from tests.conftest import ADMIN, ADMIN_KEY, bearer
from tests.e2e.test_membership_api import events
from tests.e2e.test_membership_year import Alliance

pytestmark = pytest.mark.postgres

SLUG = "append-only"
TENANT_EVENTS = ("tenant_append_only", "alliance_events")
PLATFORM_EVENTS = ("platform", "platform_events")
REWRITES = {
    "UPDATE": "UPDATE {} SET topic = topic || '!'",
    "DELETE": "DELETE FROM {}",
    "TRUNCATE": "TRUNCATE {}",
}


# ------------------------------------------------------------------------------ helpers


def table(name: tuple[str, str]) -> sql.Composed:
    return sql.SQL("{}.{}").format(sql.Identifier(name[0]), sql.Identifier(name[1]))


def fingerprint(url: str, name: tuple[str, str]) -> tuple[int, str]:
    """How many rows an event table holds, and a digest of every one of them."""
    with psycopg.connect(url) as conn:
        row = conn.execute(
            sql.SQL(
                "SELECT count(*), md5(coalesce(string_agg(notification_id::text || ':' ||"
                " originator_id::text || ':' || originator_version::text || ':' || topic ||"
                " ':' || encode(state, 'hex'), ',' ORDER BY notification_id), ''))"
                " FROM {}"
            ).format(table(name))
        ).fetchone()
    assert row is not None
    return int(row[0]), str(row[1])


def refusal(url: str, statement: sql.Composed) -> psycopg.Error:
    """The error a statement meets (the test fails if it succeeds)."""
    with psycopg.connect(url, autocommit=True) as conn, pytest.raises(psycopg.Error) as refused:
        conn.execute(statement)
    return refused.value


def served(settings: Settings) -> TestClient[Any]:
    return TestClient(create_app(settings))


def onboarded(client: TestClient[Any]) -> Alliance:
    body = {"slug": SLUG, "name": "Append Only", "region": "Kent", "template": "children-in-care"}
    response = client.post("/v1/tenants", json=body, headers=ADMIN)
    assert response.status_code == 201, response.text
    return Alliance(client, "children-in-care", response.json()["admin_key"]["secret"], slug=SLUG)


def write_a_little(alliance: Alliance, label: str) -> None:
    """A few ordinary writes: applications, a key, a checkpoint."""
    for number in range(3):
        alliance.apply(f"{label} Organisation {number}")
    issued = alliance.post("/keys", {"role": "auditor", "label": label}, status=201)
    checkpoint = alliance.call("POST", "/audit/checkpoints", headers=bearer(issued["secret"]))
    assert checkpoint.status_code == 201, checkpoint.text


def assert_log_runs_on(alliance: Alliance) -> list[int]:
    """The log reads back complete and in order, with no gaps."""
    positions = [e["position"] for e in events(alliance)]
    assert positions == list(range(1, len(positions) + 1))
    return positions


# ------------------------------------------------------------------------ one URL (owner)


@pytest.fixture
def one_url(postgres_url, tmp_path) -> Iterator[Alliance]:
    settings = Settings(
        database_url=postgres_url, data_dir=str(tmp_path / "var"), admin_key=ADMIN_KEY
    )
    with served(settings) as client:
        alliance = onboarded(client)
        write_a_little(alliance, "Before")
        yield alliance


@pytest.mark.parametrize("name", [TENANT_EVENTS, PLATFORM_EVENTS], ids=["tenant", "platform"])
@pytest.mark.parametrize("operation", list(REWRITES))
def test_the_owner_itself_cannot_rewrite_an_event_table(one_url, postgres_url, name, operation):
    before = fingerprint(postgres_url, name)

    error = refusal(postgres_url, sql.SQL(REWRITES[operation]).format(table(name)))

    assert isinstance(error, psycopg.errors.InsufficientPrivilege)
    assert str(error).startswith(
        f"the event log is append-only: {operation} on {name[0]}.{name[1]} is refused"
    )
    assert fingerprint(postgres_url, name) == before
    assert before[0] > 0


def test_the_log_still_grows_and_reads_whole_after_refused_rewrites(one_url, postgres_url):
    for name in (TENANT_EVENTS, PLATFORM_EVENTS):
        for statement in REWRITES.values():
            refusal(postgres_url, sql.SQL(statement).format(table(name)))
    before = assert_log_runs_on(one_url)

    write_a_little(one_url, "After")

    after = assert_log_runs_on(one_url)
    assert after[: len(before)] == before and len(after) == len(before) + 3


# ------------------------------------------------------------ a separate application role


@dataclass(frozen=True)
class AppRole:
    name: str
    url: str


def as_role(url: str, role: str, password: str) -> str:
    parts = urlsplit(url)
    netloc = f"{role}:{password}@{parts.hostname}:{parts.port or 5432}"
    return urlunsplit(parts._replace(netloc=netloc))


@pytest.fixture
def app_role(postgres_url) -> Iterator[AppRole]:
    """A login role of its own, with no rights but to connect; dropped afterwards, with
    whatever it came to own in the test's database."""
    name = f"concord_app_{uuid.uuid4().hex[:10]}"
    password = uuid.uuid4().hex
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(
            sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(
                sql.Identifier(name), sql.Literal(password)
            )
        )
    try:
        yield AppRole(name, as_role(postgres_url, name, password))
    finally:
        with psycopg.connect(postgres_url, autocommit=True) as conn:
            conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = %s",
                (name,),
            )
            conn.execute(sql.SQL("DROP OWNED BY {}").format(sql.Identifier(name)))
            conn.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(name)))
        with psycopg.connect(postgres_url) as conn:
            left = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (name,)).fetchone()
        assert left is None


@pytest.fixture
def restricted(app_role, postgres_url, tmp_path) -> Settings:
    return Settings(
        database_url=app_role.url,
        database_owner_url=postgres_url,
        data_dir=str(tmp_path / "var"),
        admin_key=ADMIN_KEY,
        db_pool_size=4,
    )


def test_the_platform_runs_as_an_application_role_that_can_only_read_and_append(
    restricted, app_role, postgres_url
):
    with served(restricted) as client:
        alliance = onboarded(client)
        write_a_little(alliance, "First")
        written = assert_log_runs_on(alliance)
        headers = alliance.headers

    with served(restricted) as client:  # started again: nothing to create, all to read
        alliance = Alliance(client, "children-in-care", "", slug=SLUG)
        alliance.headers = headers
        write_a_little(alliance, "Second")
        after = assert_log_runs_on(alliance)

    assert after[: len(written)] == written and len(after) == len(written) + 3
    for name in (TENANT_EVENTS, PLATFORM_EVENTS):
        with psycopg.connect(postgres_url) as conn:
            owner, rights = conn.execute(
                "SELECT tableowner,"
                " array(SELECT p FROM unnest(ARRAY['SELECT','INSERT','UPDATE','DELETE',"
                "'TRUNCATE','TRIGGER','REFERENCES']) p"
                " WHERE has_table_privilege(%s, format('%%I.%%I', %s::text, %s::text), p))"
                " FROM pg_tables WHERE schemaname = %s AND tablename = %s",
                (app_role.name, name[0], name[1], name[0], name[1]),
            ).fetchone() or (None, None)
        assert owner != app_role.name
        assert rights == ["SELECT", "INSERT"], name


@pytest.mark.parametrize("name", [TENANT_EVENTS, PLATFORM_EVENTS], ids=["tenant", "platform"])
def test_the_application_role_is_refused_every_rewrite_and_every_way_around_the_trigger(
    restricted, app_role, postgres_url, name
):
    with served(restricted) as client:
        write_a_little(onboarded(client), "Only")
    before = fingerprint(postgres_url, name)
    attempts = {
        **{op: sql.SQL(statement).format(table(name)) for op, statement in REWRITES.items()},
        "disable the trigger": sql.SQL("ALTER TABLE {} DISABLE TRIGGER ALL").format(table(name)),
        "drop the trigger": sql.SQL("DROP TRIGGER concord_append_only ON {}").format(table(name)),
        "skip triggers": sql.SQL("SET session_replication_role = replica"),
    }

    for what, statement in attempts.items():
        error = refusal(app_role.url, statement)

        assert isinstance(error, psycopg.errors.InsufficientPrivilege), (what, error)
        assert "permission denied" in str(error) or "must be owner" in str(error), (what, error)
    assert fingerprint(postgres_url, name) == before and before[0] > 0
