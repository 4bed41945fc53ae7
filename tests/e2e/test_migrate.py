"""`concord migrate`: every store brought up to the release before it serves. An old
tenant (no append-only trigger, no grants, a projection at an older version) is repaired
and its projection rebuilt equal to before; a second run does nothing; a broken tenant
is reported by its slug while the others still migrate.
"""

from __future__ import annotations

from typing import Any

import psycopg
import pytest
from click.testing import CliRunner
from litestar.testing import TestClient
from psycopg import sql

from infra.settings import Settings
from projections.membership_applications import MembershipApplicationsView
from services.api.app import create_app
from services.cli import main
from services.runtime import Runtime
from tests.conftest import ADMIN, bearer
from tests.e2e.test_append_only import app_role, restricted  # noqa: F401 - fixtures

SLUGS = ("mig-one", "mig-two", "mig-three")


def onboard_and_apply(settings: Settings, slugs: tuple[str, ...] = SLUGS) -> dict[str, str]:
    """Onboard each alliance and file two applications to it; returns the admin keys."""
    keys: dict[str, str] = {}
    with TestClient(create_app(settings)) as client:
        for slug in slugs:
            body = {"slug": slug, "name": slug, "region": "Kent", "template": "children-in-care"}
            made = client.post("/v1/tenants", json=body, headers=ADMIN)
            assert made.status_code == 201, made.text
            keys[slug] = made.json()["admin_key"]["secret"]
            for number in range(2):
                filed = client.post(
                    f"/v1/tenants/{slug}/applications",
                    json={"name": f"{slug} Organisation {number}", "request_text": "Join."},
                    headers=bearer(keys[slug]),
                )
                assert filed.status_code == 201, filed.text
    return keys


def applications(settings: Settings, keys: dict[str, str]) -> dict[str, Any]:
    with TestClient(create_app(settings)) as client:
        found = {}
        for slug, key in keys.items():
            response = client.get(f"/v1/tenants/{slug}/applications", headers=bearer(key))
            assert response.status_code == 200, response.text
            found[slug] = response.json()
    return found


def on_views(settings: Settings, slug: str, statement: str) -> None:
    """Run one statement on an alliance's view store, as if from an older release."""
    runtime = Runtime(settings)
    try:
        with runtime.tenant(slug) as store, store.views.transaction(commit=True) as views:
            views.execute(statement)
    finally:
        runtime.close()


def migrate(settings: Settings, monkeypatch: pytest.MonkeyPatch, *args: str) -> Any:
    for name in settings.__struct_fields__:
        value = getattr(settings, name)
        variable = f"CONCORD_{name.upper()}"
        if value is None:
            monkeypatch.delenv(variable, raising=False)
        else:
            monkeypatch.setenv(variable, str(value))
    return CliRunner().invoke(main, ["migrate", *args], catch_exceptions=False)


def bump_applications_view(monkeypatch: pytest.MonkeyPatch) -> None:
    """A new release: the applications projection's tables changed."""
    monkeypatch.setattr(
        MembershipApplicationsView, "version", MembershipApplicationsView.version + 1
    )


def triggers(url: str, schema: str) -> set[str]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT tgname FROM pg_trigger WHERE tgrelid = format('%%I.alliance_events', %s::text)"
            "::regclass AND NOT tgisinternal",
            (schema,),
        ).fetchall()
    return {row[0] for row in rows}


def test_migrate_rebuilds_a_changed_projection_equal_and_a_second_run_does_nothing(
    settings, monkeypatch
):
    keys = onboard_and_apply(settings)
    before = applications(settings, keys)
    assert all(len(page["items"]) == 2 for page in before.values()), before
    # The old release's rows are gone from the view: only a replay brings them back.
    on_views(settings, "mig-two", "DELETE FROM applications")
    if settings.database_url is not None:  # a tenant made before the append-only trigger
        with psycopg.connect(settings.database_url, autocommit=True) as conn:
            for trigger in ("concord_append_only", "concord_no_truncate"):
                conn.execute(
                    sql.SQL("DROP TRIGGER {} ON tenant_mig_one.alliance_events").format(
                        sql.Identifier(trigger)
                    )
                )
        assert triggers(settings.database_url, "tenant_mig_one") == set()
    bump_applications_view(monkeypatch)

    first = migrate(settings, monkeypatch, "--jobs", "2")

    assert first.exit_code == 0, first.output
    for slug in SLUGS:
        assert f"{slug}: " in first.output and "migrated membership_applications" in first.output
    assert "3 projections migrated" in first.output and "0 failed" in first.output
    assert applications(settings, keys) == before
    if settings.database_url is not None:
        assert "mig-one: append-only trigger installed" in first.output
        assert triggers(settings.database_url, "tenant_mig_one") == {
            "concord_append_only",
            "concord_no_truncate",
        }

    second = migrate(settings, monkeypatch)

    assert second.exit_code == 0, second.output
    assert "migrated 4 stores" in second.output
    assert "0 projections migrated, 0 stores changed" in second.output
    assert not any(f"{slug}: " in second.output for slug in SLUGS), second.output


def test_a_broken_tenant_is_reported_by_slug_and_the_others_still_migrate(settings, monkeypatch):
    keys = onboard_and_apply(settings)
    before = applications(settings, keys)
    on_views(settings, "mig-two", "ALTER TABLE views_schema RENAME COLUMN version TO broken")
    on_views(settings, "mig-three", "DELETE FROM applications")
    bump_applications_view(monkeypatch)

    result = migrate(settings, monkeypatch)

    assert result.exit_code == 1, result.output
    assert "mig-two: FAILED" in result.output
    assert "1 failed" in result.output
    assert "mig-one: migrated membership_applications" in result.output
    assert "mig-three: migrated membership_applications" in result.output
    del keys["mig-two"]
    assert applications(settings, keys) == {slug: before[slug] for slug in keys}


@pytest.mark.postgres
def test_migrate_as_the_owner_restores_the_trigger_and_the_application_roles_grants(
    restricted,  # noqa: F811 - the fixture
    app_role,  # noqa: F811 - the fixture
    postgres_url,
    monkeypatch,
):
    keys = onboard_and_apply(restricted, ("mig-old",))
    before = applications(restricted, keys)
    with psycopg.connect(postgres_url, autocommit=True) as conn:  # as an old release left it
        conn.execute("DROP TRIGGER concord_append_only ON tenant_mig_old.alliance_events")
        conn.execute(
            sql.SQL("REVOKE ALL ON tenant_mig_old.alliance_events FROM {}").format(
                sql.Identifier(app_role.name)
            )
        )

    result = migrate(restricted, monkeypatch)

    assert result.exit_code == 0, result.output
    assert "mig-old: append-only trigger installed" in result.output
    assert triggers(postgres_url, "tenant_mig_old") == {
        "concord_append_only",
        "concord_no_truncate",
    }
    with psycopg.connect(postgres_url) as conn:
        rights = conn.execute(
            "SELECT array(SELECT p FROM unnest(ARRAY['SELECT','INSERT','UPDATE','DELETE',"
            "'TRUNCATE','TRIGGER','REFERENCES']) p"
            " WHERE has_table_privilege(%s, 'tenant_mig_old.alliance_events', p))",
            (app_role.name,),
        ).fetchone()
    assert rights is not None and rights[0] == ["SELECT", "INSERT"]
    assert applications(restricted, keys) == before
