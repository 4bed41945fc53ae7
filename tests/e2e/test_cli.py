"""The operator's command line, on the same settings (and stores) as the server."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from litestar.testing import TestClient

from services import onboarding
from services.api.app import create_app
from services.cli import main
from services.runtime import Runtime


@pytest.fixture
def cli(settings, monkeypatch):
    """Run `concord ...` with the test's settings in the environment."""
    for name in settings.__struct_fields__:
        value = getattr(settings, name)
        variable = f"CONCORD_{name.upper()}"
        if value is None:
            monkeypatch.delenv(variable, raising=False)
        else:
            monkeypatch.setenv(variable, str(value))

    def run(*args: str):
        return CliRunner().invoke(main, list(args), prog_name="concord", catch_exceptions=False)

    return run


def test_every_command_explains_itself(cli):
    for command in (
        [],
        ["serve"],
        ["tenants"],
        ["tenants", "onboard"],
        ["tenants", "list"],
        ["keys"],
        ["keys", "create"],
        ["keys", "revoke"],
        ["projections", "rebuild"],
        ["worker"],
        ["migrate"],
    ):
        result = cli(*command, "--help")
        assert result.exit_code == 0, command
        assert "Usage: concord" in result.output


def test_onboard_then_list_one_tenant_a_line_slug_first(cli):
    onboarded = cli(
        "tenants",
        "onboard",
        "--slug",
        "kent-fja",
        "--name",
        "Kent FJA",
        "--region",
        "Kent",
        "--template",
        "family-justice",
    )
    cli(
        "tenants",
        "onboard",
        "--slug",
        "york-ssf",
        "--name",
        "York",
        "--region",
        "Yorkshire",
        "--template",
        "separated-families",
    )

    listed = cli("tenants", "list")

    assert onboarded.exit_code == 0, onboarded.output
    assert "tenant-admin key (shown once): cnc_" in onboarded.output
    lines = listed.output.strip().splitlines()
    assert [line.split("\t")[0] for line in lines] == ["kent-fja", "york-ssf"]
    assert lines[0].split("\t")[1:] == ["active", "Kent", "Kent FJA"]


def test_a_platform_key_from_the_cli_works_on_the_api(cli, settings):
    created = cli("keys", "create", "--platform")
    secret = created.stdout.strip().splitlines()[-1]

    assert created.exit_code == 0 and secret.startswith("cnc_")
    with TestClient(create_app(settings)) as client:
        me = client.get("/v1/me", headers={"Authorization": f"Bearer {secret}"}).json()
    assert me["role"] == "platform-admin" and me["tenant"] is None


def test_cli_mistakes_are_refused_clearly(cli):
    assert cli("keys", "create").exit_code == 2  # neither --platform nor --tenant
    assert cli("keys", "create", "--platform", "--tenant", "kent-fja").exit_code == 2
    bad_slug = cli(
        "tenants",
        "onboard",
        "--slug",
        "Kent",
        "--name",
        "K",
        "--region",
        "R",
        "--template",
        "family-justice",
    )
    assert bad_slug.exit_code == 1 and "not a valid alliance slug" in bad_slug.output
    unknown = cli("keys", "create", "--tenant", "nowhere")
    assert unknown.exit_code == 1 and "no alliance" in unknown.output
    rebuild = cli("projections", "rebuild", "--tenant", "nowhere")
    assert rebuild.exit_code == 1 and "no alliance" in rebuild.output
    no_broker = cli("worker")  # the settings have no CONCORD_BROKER_URL
    assert no_broker.exit_code == 1 and "CONCORD_BROKER_URL is not set" in no_broker.output


def test_a_bad_setting_is_named(cli, monkeypatch):
    monkeypatch.setenv("CONCORD_PORT", "eighty")

    result = cli("tenants", "list")

    assert result.exit_code == 1
    assert "CONCORD_PORT" in result.output


def test_projections_rebuild_reaches_the_same_state(cli, settings):
    cli(
        "tenants",
        "onboard",
        "--slug",
        "kent-fja",
        "--name",
        "K",
        "--region",
        "R",
        "--template",
        "kinship-care",
    )
    cli(
        "tenants",
        "onboard",
        "--slug",
        "york-ssf",
        "--name",
        "Y",
        "--region",
        "R",
        "--template",
        "kinship-care",
    )
    before = cli("tenants", "list").output

    tenant = cli("projections", "rebuild", "--tenant", "kent-fja")
    platform = cli("projections", "rebuild", "--platform")

    assert tenant.exit_code == 0 and "rebuilt the projections of kent-fja" in tenant.output
    assert platform.exit_code == 0
    assert cli("tenants", "list").output == before
    runtime = Runtime(settings)
    try:
        assert onboarding.profile(runtime, "kent-fja")["name"] == "K"
    finally:
        runtime.close()
