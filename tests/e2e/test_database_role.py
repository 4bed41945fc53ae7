"""The deployment docs/operations.md recommends, checked in PostgreSQL's own catalogue: the
service connects as an application role that is no superuser, owns no schema and no event
table, and may only SELECT and INSERT on every event table (the platform's and each
alliance's); an owner role provisions. The check walks pg_class and pg_namespace, so an
event table added later is covered without touching this file. And `concord serve` warns,
once, when it connects as a role that could rewrite the log.

PostgreSQL only: these are properties of the database roles, not of Concord's code.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import psycopg
import pytest
from litestar.testing import TestClient
from psycopg import sql

from infra.settings import Settings
from services.api.app import create_app
from tests.conftest import ADMIN, ADMIN_KEY
from tests.e2e.test_append_only import as_role, write_a_little
from tests.e2e.test_membership_year import Alliance

pytestmark = pytest.mark.postgres

ALLIANCES = ("role-kent", "role-essex")
#: What the application role must be able to do to an event table, and must not.
ALLOWED = ("SELECT", "INSERT")
REFUSED = ("UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER")
#: Privileges that can also be granted on single columns.
COLUMN_PRIVILEGES = ("SELECT", "INSERT", "UPDATE", "REFERENCES")
#: A role that can do nothing on its own account.
POWERLESS = "NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS NOREPLICATION NOINHERIT"

#: Concord's schemas: the platform's and one per alliance.
OUR_SCHEMAS = "(n.nspname = 'platform' OR n.nspname LIKE 'tenant\\_%')"
#: Every event table, found by its shape (eventsourcing's stored-event columns), in
#: every one of Concord's schemas.
EVENT_TABLES = (
    "SELECT n.nspname AS schema, c.relname AS name, c.oid, c.relowner"
    " FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
    f" WHERE c.relkind IN ('r', 'p') AND {OUR_SCHEMAS}"
    " AND (SELECT count(*) FROM pg_attribute a WHERE a.attrelid = c.oid AND NOT a.attisdropped"
    "  AND a.attname IN ('originator_id', 'originator_version', 'topic', 'state')) = 4"
    " ORDER BY 1, 2"
)


# ------------------------------------------------------------------------------ helpers


@dataclass(frozen=True)
class Role:
    name: str
    url: str


def create_role(server_url: str, database_url: str, attributes: str) -> Role:
    name = f"concord_{uuid.uuid4().hex[:10]}"
    password = uuid.uuid4().hex
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(
            sql.SQL("CREATE ROLE {} LOGIN " + attributes + " PASSWORD {}").format(
                sql.Identifier(name), sql.Literal(password)
            )
        )
    return Role(name, as_role(database_url, name, password))


def drop_role(database_url: str, role: Role) -> None:
    """Drop the role and whatever it owns in the test's database; check it is gone."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = %s",
            (role.name,),
        )
        conn.execute(sql.SQL("DROP OWNED BY {}").format(sql.Identifier(role.name)))
        conn.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(role.name)))
        left = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role.name,)).fetchone()
    assert left is None


def rewrite_powers(url: str) -> list[str]:
    """Everything the role connecting with `url` could do to the event log beyond reading
    and appending, read from the catalogue as that role (empty: nothing)."""
    found: list[str] = []
    with psycopg.connect(url) as conn:
        role = conn.execute(
            "SELECT rolname, rolsuper, rolcreatedb, rolcreaterole, rolbypassrls, rolreplication"
            " FROM pg_roles WHERE rolname = current_user"
        ).fetchone()
        assert role is not None
        name, *attributes = role
        for attribute, held in zip(
            ("superuser", "createdb", "createrole", "bypassrls", "replication"),
            attributes,
            strict=True,
        ):
            if held:
                found.append(f"{name} has {attribute}")
        for (schema,) in conn.execute(
            "SELECT n.nspname FROM pg_namespace n JOIN pg_roles r ON r.oid = n.nspowner"
            " WHERE r.rolname = current_user"
        ):
            found.append(f"{name} owns the schema {schema}")
        tables = conn.execute(EVENT_TABLES).fetchall()
        for schema, table, oid, _ in tables:
            where = f"{schema}.{table}"
            owner, trigger_function_owners = conn.execute(
                "SELECT pg_get_userbyid(c.relowner), array(SELECT pg_get_userbyid(p.proowner)"
                "  FROM pg_trigger t JOIN pg_proc p ON p.oid = t.tgfoid"
                "  WHERE t.tgrelid = c.oid AND NOT t.tgisinternal)"
                " FROM pg_class c WHERE c.oid = %s",
                (oid,),
            ).fetchone() or (None, [])
            if owner == name:
                found.append(f"{name} owns {where}")
            if name in trigger_function_owners:
                found.append(f"{name} owns the function a trigger on {where} runs")
            for privilege in REFUSED:
                if holds(conn, oid, privilege):
                    found.append(f"{name} may {privilege} {where}")
            for privilege in ALLOWED:
                if not holds(conn, oid, privilege):
                    found.append(f"{name} may not {privilege} {where} (the service needs it)")
    return found


def holds(conn: psycopg.Connection[Any], table: int, privilege: str) -> bool:
    """The connected role holds the privilege on the table, or on any of its columns."""
    statement = "SELECT has_table_privilege(%s::oid, %s)"
    params: tuple[Any, ...] = (table, privilege)
    if privilege in COLUMN_PRIVILEGES:
        statement += " OR has_any_column_privilege(%s::oid, %s)"
        params += (table, privilege)
    row = conn.execute(statement, params).fetchone()
    return bool(row and row[0])


def event_tables(url: str) -> list[tuple[str, str]]:
    with psycopg.connect(url) as conn:
        return [(schema, table) for schema, table, *_ in conn.execute(EVENT_TABLES)]


# ----------------------------------------------------------------------------- fixtures


@dataclass(frozen=True)
class Deployment:
    owner: Role
    app: Role
    settings: Settings


@pytest.fixture
def deployment(postgres_url, tmp_path) -> Iterator[Deployment]:
    """docs/operations.md's shape: an owner role that may create schemas in the database,
    an application role with no powers at all; both dropped afterwards."""
    owner = create_role(postgres_url, postgres_url, POWERLESS)
    app = create_role(postgres_url, postgres_url, POWERLESS)
    database = postgres_url.rsplit("/", 1)[1]
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(
            sql.SQL("GRANT CREATE ON DATABASE {} TO {}").format(
                sql.Identifier(database), sql.Identifier(owner.name)
            )
        )
    settings = Settings(
        database_url=app.url,
        database_owner_url=owner.url,
        data_dir=str(tmp_path / "var"),
        admin_key=ADMIN_KEY,
        db_pool_size=4,
    )
    try:
        yield Deployment(owner, app, settings)
    finally:
        drop_role(postgres_url, app)
        drop_role(postgres_url, owner)


def onboard_and_write(client: TestClient[Any], slug: str) -> Alliance:
    body = {"slug": slug, "name": slug.title(), "region": "Kent", "template": "children-in-care"}
    response = client.post("/v1/tenants", json=body, headers=ADMIN)
    assert response.status_code == 201, response.text
    alliance = Alliance(
        client, "children-in-care", response.json()["admin_key"]["secret"], slug=slug
    )
    write_a_little(alliance, slug)
    return alliance


@pytest.fixture
def concord_log() -> Iterator[list[logging.LogRecord]]:
    """The records of the `concord` logger at WARNING and above, however logging is set up."""
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    handler = Keep(logging.WARNING)
    logger = logging.getLogger("concord")
    logger.addHandler(handler)
    try:
        yield records
    finally:
        logger.removeHandler(handler)


def role_warnings(records: list[logging.LogRecord]) -> list[str]:
    return [
        r.getMessage()
        for r in records
        if r.levelno == logging.WARNING and "could rewrite the event log" in r.getMessage()
    ]


# ---------------------------------------------------------------------------- behaviour


def test_the_application_role_can_only_read_and_append_every_event_table(deployment, concord_log):
    with TestClient(create_app(deployment.settings)) as client:
        for slug in ALLIANCES:
            onboard_and_write(client, slug)

    tables = event_tables(deployment.app.url)
    powers = rewrite_powers(deployment.app.url)

    assert tables == sorted(
        [("platform", "platform_events")]
        + [("tenant_" + slug.replace("-", "_"), "alliance_events") for slug in ALLIANCES]
    )
    assert powers == []
    assert role_warnings(concord_log) == []  # the service found nothing to warn about


def test_the_application_role_owns_only_its_read_models(deployment):
    """It creates (and may rebuild) its read-model tables; the schemas, the event tables
    and their sequences are the owner's."""
    with TestClient(create_app(deployment.settings)) as client:
        onboard_and_write(client, ALLIANCES[0])

    with psycopg.connect(deployment.app.url) as conn:
        owned = conn.execute(
            "SELECT n.nspname, c.relname, c.relkind FROM pg_class c"
            " JOIN pg_namespace n ON n.oid = c.relnamespace"
            f" WHERE c.relowner = (SELECT oid FROM pg_roles WHERE rolname = current_user)"
            f" AND {OUR_SCHEMAS}"
        ).fetchall()
        owner_of_events = conn.execute(
            "SELECT DISTINCT pg_get_userbyid(c.relowner) FROM pg_class c"
            " JOIN pg_namespace n ON n.oid = c.relnamespace"
            f" WHERE {OUR_SCHEMAS} AND c.relname LIKE '%\\_events%'"
        ).fetchall()

    assert owned, "the read models are the application role's own"
    assert not [o for o in owned if "_events" in o[1]], owned
    assert {name for (name,) in owner_of_events} == {deployment.owner.name}


def test_the_check_catches_a_new_event_table_the_application_role_could_rewrite(
    deployment, postgres_url
):
    with TestClient(create_app(deployment.settings)) as client:
        onboard_and_write(client, ALLIANCES[0])
    schema = "tenant_" + ALLIANCES[0].replace("-", "_")
    with psycopg.connect(deployment.owner.url, autocommit=True) as conn:
        conn.execute(
            sql.SQL(
                "CREATE TABLE {}.minutes_events (originator_id uuid, originator_version int,"
                " topic text, state bytea)"
            ).format(sql.Identifier(schema))
        )
        conn.execute(
            sql.SQL("GRANT SELECT, INSERT, DELETE ON {}.minutes_events TO {}").format(
                sql.Identifier(schema), sql.Identifier(deployment.app.name)
            )
        )

    powers = rewrite_powers(deployment.app.url)

    assert powers == [f"{deployment.app.name} may DELETE {schema}.minutes_events"]


def test_the_check_catches_a_superuser(deployment, postgres_url):
    with TestClient(create_app(deployment.settings)) as client:
        onboard_and_write(client, ALLIANCES[0])

    powers = rewrite_powers(postgres_url)

    assert "postgres has superuser" in powers
    assert not [p for p in powers if "may not" in p]


def test_serving_as_a_role_that_could_rewrite_the_log_warns_once_at_start(
    postgres_url, tmp_path, concord_log
):
    settings = Settings(
        database_url=postgres_url, data_dir=str(tmp_path / "var"), admin_key=ADMIN_KEY
    )
    with TestClient(create_app(settings)) as client:
        onboard_and_write(client, ALLIANCES[0])

    warnings = role_warnings(concord_log)

    assert len(warnings) == 1, warnings
    assert warnings[0].startswith("the database role Concord connects as is a superuser")
    assert "CONCORD_DATABASE_OWNER_URL" in warnings[0]
