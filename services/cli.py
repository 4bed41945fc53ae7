"""`concord`: the operator's command line. Every command uses the same settings as the server."""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import click
import msgspec
import uvicorn

from domain.errors import DomainError
from domain.values import TENANT_ROLES, Role, Template
from infra.settings import Settings, SettingsError
from services import access, obligations, onboarding
from services.api import schemas
from services.api.app import create_app
from services.api.tenants import founding_of
from services.audit import bundle, checkpoints, review, signing, verify
from services.demo import UMBRELLA, create_demo, create_umbrella
from services.errors import InvalidRequest, NotFound
from services.runtime import Runtime
from services.workers import ProjectionWorker

CLI_ACTOR = "cli"


def load_settings() -> Settings:
    try:
        return Settings.from_env(os.environ)
    except SettingsError as error:
        raise click.ClickException(str(error)) from None


@contextmanager
def opened_runtime() -> Iterator[Runtime]:
    runtime = Runtime(load_settings())
    try:
        yield runtime
    except (DomainError, NotFound) as error:
        raise click.ClickException(error.message) from None
    finally:
        runtime.close()


@click.group()
def main() -> None:
    """Concord: governance for alliances of organisations."""


@main.command()
@click.option(
    "--host", default=None, help="Interface to listen on (default CONCORD_HOST or 127.0.0.1)."
)
@click.option("--port", type=int, default=None, help="Port (default CONCORD_PORT or 8000).")
@click.option(
    "--workers",
    type=click.IntRange(min=1, max=64),
    default=1,
    show_default=True,
    help="API processes sharing the port (each with its own connection pool).",
)
def serve(host: str | None, port: int | None, workers: int) -> None:
    """Serve the HTTP API (and the public pages)."""
    settings = load_settings()
    host = host or settings.host
    port = port or settings.port
    if workers > 1 and not settings.uses_postgres:
        raise click.UsageError(
            "--workers above 1 needs PostgreSQL (set CONCORD_DATABASE_URL): with the embedded "
            "SQLite store, several processes opening the same alliance's files can fail "
            "writes with 'database is locked'. Serve SQLite with one process."
        )
    where = "PostgreSQL" if settings.uses_postgres else f"embedded SQLite in {settings.data_dir}"
    processes = f", {workers} processes" if workers > 1 else ""
    click.echo(f"Concord on http://{host}:{port}  ({where}{processes})")
    if not settings.admin_key:
        click.echo(
            "To get a platform-admin key, run in another terminal:  "
            ".venv/bin/concord keys create --platform\n"
            "(or start with CONCORD_ADMIN_KEY=<a secret of 16+ characters>)"
        )
    click.echo(f"API description: http://{host}:{port}/schema/openapi.json")
    if workers == 1:
        uvicorn.run(create_app(settings), host=host, port=port, log_level="info")
        return
    # Provision the platform store (and the admin key) once, here, so the workers start
    # on a store that exists instead of racing to create the same schema and tables.
    with opened_runtime() as runtime:
        if settings.admin_key:
            access.ensure_platform_key(runtime, settings.admin_key)
    # Each worker builds its own app from the environment (the same CONCORD_* settings).
    uvicorn.run(
        "services.api.asgi:app",
        factory=True,
        workers=workers,
        host=host,
        port=port,
        log_level="info",
        # uvicorn kills a worker that does not answer its health check in time (5 s by
        # default), dropping the requests it is serving: too short on a loaded machine.
        timeout_worker_healthcheck=60,
    )


@main.command()
def worker() -> None:
    """Run projections in a dramatiq worker (needs CONCORD_BROKER_URL). Start as many as
    you like, on any machine that reaches the database and the broker; stop with SIGTERM."""
    settings = load_settings()
    if settings.broker_url is None:
        raise click.ClickException(
            "CONCORD_BROKER_URL is not set: without a broker the API process runs the "
            "projections itself and no worker is needed"
        )
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    runtime = Runtime(settings)
    projections = ProjectionWorker(runtime)
    projections.start()
    click.echo(
        f"concord worker ready (pid {os.getpid()}, {settings.worker_threads} threads, "
        f"sweep every {settings.sweep_interval:g}s)"
    )
    try:
        stop.wait()
    finally:
        projections.stop()
        runtime.close()
        click.echo("concord worker stopped")


@main.group()
def tenants() -> None:
    """Onboard and list alliances."""


@tenants.command("onboard")
@click.option("--slug", required=True, help="e.g. kent-family-justice")
@click.option("--name", required=True)
@click.option("--region", required=True)
@click.option("--template", required=True, type=click.Choice([t.value for t in Template]))
@click.option(
    "--start-date",
    type=click.DateTime(["%Y-%m-%d"]),
    default=None,
    help="The day version 1 of its ToR takes effect (YYYY-MM-DD; default today; at most "
    "12 months either side of today).",
)
@click.option(
    "--founding",
    "founding_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="A JSON file with any of start_date, officers and changes, as the API's "
    "onboardTenant takes them (docs/api.md#onboarding).",
)
def tenants_onboard(
    slug: str,
    name: str,
    region: str,
    template: str,
    start_date: datetime | None,
    founding_file: Path | None,
) -> None:
    """Onboard an alliance and print its first tenant-admin key (shown once)."""
    details = schemas.FoundingFile()
    if founding_file is not None:
        try:
            details = msgspec.json.decode(founding_file.read_bytes(), type=schemas.FoundingFile)
        except (msgspec.DecodeError, msgspec.ValidationError) as error:
            raise click.BadParameter(str(error), param_hint="--founding") from None
    if start_date is not None:
        if details.start_date is not None:
            raise click.UsageError("give the start date once: --start-date or the file's")
        details.start_date = start_date.date()
    with opened_runtime() as runtime:
        entry, key = onboarding.onboard(
            runtime,
            slug=slug,
            name=name,
            region=region,
            template=template,
            by=CLI_ACTOR,
            founding=founding_of(details),
        )
    click.echo(f"onboarded {entry['slug']} ({entry['name']}, {entry['region']})")
    click.echo(f"tenant-admin key id: {key.key_id}")
    click.echo(f"tenant-admin key (shown once): {key.secret}")


@tenants.command("list")
@click.option("--status", type=click.Choice(["active", "suspended"]), default=None)
def tenants_list(status: str | None) -> None:
    """Every alliance, one a line: slug, status, region, name."""
    with opened_runtime() as runtime:
        after: str | None = None
        while True:
            rows = onboarding.directory_page(
                runtime, after=after, limit=500, region=None, status=status
            )
            for row in rows:
                click.echo(f"{row['slug']}\t{row['status']}\t{row['region']}\t{row['name']}")
            if len(rows) < 500:
                break
            after = rows[-1]["slug"]


@main.command()
@click.option("--slug", default="demo-kinship-alliance", show_default=True)
@click.option("--name", default="Demo Kinship Care Alliance", show_default=True)
@click.option("--region", default="South East", show_default=True)
@click.option(
    "--template",
    default=Template.KINSHIP_CARE.value,
    show_default=True,
    type=click.Choice([t.value for t in Template]),
)
@click.option(
    "--umbrella",
    is_flag=True,
    help="Instead: the demo umbrella, five alliances of every template, some healthy, "
    "some not (the national directory and dashboard show them).",
)
def demo(slug: str, name: str, region: str, template: str, umbrella: bool) -> None:
    """Create a demo alliance with a year of meetings and minutes (some confidential)."""
    if umbrella:
        with opened_runtime() as runtime:
            keys = create_umbrella(runtime)
        for alliance in UMBRELLA:
            click.echo(f"created {alliance.slug} ({alliance.expected}): {alliance.story}")
            click.echo(f"  tenant-admin key (shown once): {keys[alliance.slug].secret}")
        return
    with opened_runtime() as runtime:
        key, counts = create_demo(runtime, slug=slug, name=name, template=template, region=region)
    settings = load_settings()
    click.echo(
        f"created {slug}: {counts['members']} members, {counts['meetings']} meetings held, "
        f"{counts['minutes']} sets of minutes ({counts['confidential_items']} confidential "
        f"items), {counts['upcoming']} meetings ahead"
    )
    click.echo(f"public pages: http://{settings.host}:{settings.port}/a/{slug}/")
    click.echo(f"tenant-admin key (shown once): {key.secret}")


@main.command("sweep-obligations")
@click.option(
    "--stale-only",
    is_flag=True,
    help="Only alliances whose governance snapshot is older than today.",
)
def sweep_obligations(stale_only: bool) -> None:
    """Recompute every alliance's obligations calendar and health now: record newly
    missed obligations, refresh the national directory's indicators and queue reminders
    (run daily from cron when neither `concord serve` nor a worker does it)."""
    with opened_runtime() as runtime:
        done = obligations.sweep(runtime, only_stale=stale_only)
    click.echo(f"refreshed {done} alliance(s)")


@main.group()
def keys() -> None:
    """Issue and revoke API keys."""


@keys.command("create")
@click.option("--platform", "platform", is_flag=True, help="A platform-admin key.")
@click.option("--tenant", default=None, help="The alliance (slug) the key is for.")
@click.option(
    "--role",
    type=click.Choice([r.value for r in TENANT_ROLES]),
    default=Role.TENANT_ADMIN.value,
    show_default=True,
    help="Role of a tenant key.",
)
@click.option("--label", default="issued with the CLI", show_default=True)
def keys_create(platform: bool, tenant: str | None, role: str, label: str) -> None:
    """Issue a key and print its secret (shown once)."""
    if platform == (tenant is not None):
        raise click.UsageError("give exactly one of --platform or --tenant SLUG")
    with opened_runtime() as runtime:
        if tenant is not None:
            onboarding.ensure_active(runtime, tenant)
        key = access.issue_key(
            runtime,
            tenant=tenant,
            role=Role.PLATFORM_ADMIN if platform else Role(role),
            label=label,
            issued_by=CLI_ACTOR,
        )
    click.echo(f"key id: {key.key_id}", err=True)
    click.echo(key.secret)


@keys.command("revoke")
@click.argument("key_id")
@click.option("--tenant", default=None, help="The key's alliance; omit for a platform key.")
def keys_revoke(key_id: str, tenant: str | None) -> None:
    """Revoke a key at once."""
    with opened_runtime() as runtime:
        access.revoke_key(runtime, key_id=key_id, tenant=tenant, revoked_by=CLI_ACTOR)
    click.echo(f"revoked {key_id}")


@main.group()
def projections() -> None:
    """Rebuild read models from the event log."""


@projections.command("rebuild")
@click.option("--tenant", default=None, help="Rebuild this alliance's projections.")
@click.option("--platform", "platform", is_flag=True, help="Rebuild the platform's projections.")
def projections_rebuild(tenant: str | None, platform: bool) -> None:
    """Drop the projections' tables and replay the log from the start."""
    if platform == (tenant is not None):
        raise click.UsageError("give exactly one of --platform or --tenant SLUG")
    with opened_runtime() as runtime:
        if tenant is None:
            applied = runtime.platform.runner.rebuild()
            where = "the platform"
        else:
            onboarding.directory_entry(runtime, tenant)
            with runtime.tenant(tenant) as store:
                applied = store.runner.rebuild()
            where = tenant
    click.echo(f"rebuilt the projections of {where}: {applied} event applications")


@main.group()
def audit() -> None:
    """Checkpoints, bundles and their offline verification, review packs."""


@audit.command("checkpoint")
@click.option("--tenant", required=True, help="The alliance (slug).")
@click.option("--out", type=click.Path(dir_okay=False, writable=True), required=True)
def audit_checkpoint(tenant: str, out: str) -> None:
    """Issue a signed checkpoint of the alliance's log now and write it to FILE. Keep it:
    `concord audit verify BUNDLE --checkpoint FILE` proves nothing it covers changed."""
    with opened_runtime() as runtime:
        onboarding.directory_entry(runtime, tenant)
        with runtime.tenant(tenant) as store:
            made = checkpoints.issue(runtime, store, "on-demand")
    Path(out).write_bytes(signing.encode(made))
    click.echo(
        f"checkpoint of {tenant}: {made.tree_size} records, root {made.root_hash}, "
        f"key {made.key_id} -> {out}"
    )


@audit.command("export")
@click.option("--tenant", required=True, help="The alliance (slug).")
@click.option("--out", type=click.Path(dir_okay=False, writable=True), required=True)
@click.option(
    "--confidential",
    is_flag=True,
    help="Include confidential minutes in full (default: withheld, proved by hash only).",
)
def audit_export(tenant: str, out: str, confidential: bool) -> None:
    """Write the alliance's audit bundle (a zip) for offline verification."""
    with opened_runtime() as runtime:
        onboarding.directory_entry(runtime, tenant)
        with open(out, "wb") as target:
            done = bundle.export(runtime, tenant, target, confidential=confidential)
    click.echo(
        f"exported {done.records} records of {tenant} ({done.withheld} withheld as "
        f"confidential), checkpoint {done.checkpoint.tree_size} root "
        f"{done.checkpoint.root_hash} -> {out}"
    )


@audit.command("verify")
@click.argument("bundle_file", type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--checkpoint",
    "kept_file",
    type=click.Path(exists=True, dir_okay=False),
    help="A checkpoint you kept earlier: the history must still match it.",
)
@click.option("--public-key", default=None, help="Require this checkpoint key (hex).")
def audit_verify(bundle_file: str, kept_file: str | None, public_key: str | None) -> None:
    """Verify an audit bundle offline (no database, no network). Exit 0: intact;
    exit 1: not intact, naming the first record or checkpoint that fails."""
    kept = None
    if kept_file is not None:
        try:
            kept = signing.decode(Path(kept_file).read_bytes())
        except (msgspec.ValidationError, msgspec.DecodeError) as error:
            raise click.BadParameter(
                f"{kept_file} is not a checkpoint: {error}", param_hint="--checkpoint"
            ) from None
    verdict = verify.verify_file(bundle_file, kept=kept, trusted_key=public_key)
    click.echo(verdict.summary())
    if verdict.intact and kept is None and public_key is None:
        click.echo(
            "note: the checkpoints were checked against the keys the bundle itself names; "
            "give --checkpoint (one you kept) or --public-key to check them against a key "
            "you trust",
            err=True,
        )
    if not verdict.intact:
        sys.exit(1)


@audit.command("review")
@click.option("--tenant", required=True, help="The alliance (slug).")
@click.option(
    "--from",
    "start",
    default=None,
    help="First day, YYYY-MM-DD (default: the ToR's review period).",
)
@click.option("--to", "end", default=None, help="Last day, YYYY-MM-DD (default: today).")
@click.option("--out", type=click.Path(dir_okay=False, writable=True), required=True)
@click.option("--html", "as_html", is_flag=True, help="Write the HTML page (default: JSON).")
def audit_review(tenant: str, start: str | None, end: str | None, out: str, as_html: bool) -> None:
    """Write the review pack of a period (the annual or three-yearly review): meetings
    required and held, minutes, decisions and their rules, membership and office changes,
    terms, amendments and reviews, each finding with the log positions that prove it."""
    with opened_runtime() as runtime:
        try:
            pack = review.review_pack(
                runtime, tenant, review.parse_day("from", start), review.parse_day("to", end)
            )
        except InvalidRequest as error:
            raise click.ClickException(error.message) from None
    if as_html:
        Path(out).write_text(review.render_html(pack), encoding="utf-8")
    else:
        Path(out).write_bytes(msgspec.json.format(msgspec.json.encode(pack), indent=2) + b"\n")
    found = pack.summary
    click.echo(
        f"review pack of {tenant}, {pack.header.period_from} to {pack.header.period_to}: "
        f"{found.concern} concerns, {found.note} notes, {found.ok} in order -> {out}"
    )


@main.command("migrate")
@click.option(
    "--jobs",
    type=click.IntRange(1, 64),
    default=4,
    show_default=True,
    help="Stores migrated at once (at most half CONCORD_DB_POOL_SIZE on PostgreSQL).",
)
def migrate_command(jobs: int) -> None:
    """Bring every store up to this release (run it before starting a new one): provision
    each again (append-only trigger, grants), migrate projection tables whose version
    changed, replay them. Idempotent and resumable; exit 1 if any store failed."""
    from services import migrate as migrating  # noqa: PLC0415 - only this command needs it

    summary = migrating.migrate_all(load_settings(), jobs=jobs, echo=click.echo)
    click.echo(summary.line())
    if summary.failed:
        for outcome in summary.failed:
            click.echo(f"failed: {outcome.store}: {outcome.error}", err=True)
        sys.exit(1)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
