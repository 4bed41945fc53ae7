"""The audit bundle, on both stores: exported over HTTP (confidential minutes withheld
from a key whose role may not read them, their text nowhere in the zip; included for one
that may) and with the CLI; verified offline by `concord audit verify`, which needs no
database. And the auditor's scenario the issue asks for: keep a checkpoint, let a
malicious database administrator change one byte of one stored event, export again, and
the verifier, given the kept checkpoint, says NOT INTACT and names that event's position.
"""

from __future__ import annotations

import io
import os
import sqlite3
import subprocess
import sys
import zipfile
from collections.abc import Callable, Iterator
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgspec
import psycopg
import pytest
from click.testing import CliRunner, Result
from psycopg import sql

from infra.settings import Settings
from infra.stores import schema_name
from services.audit import signing, verify
from services.cli import main
from services.demo import create_demo
from tests.conftest import bearer
from tests.e2e.test_decisions_api import FORBIDDEN, NOT_FOUND, expect
from tests.e2e.test_membership_api import issue_key
from tests.e2e.test_membership_year import Alliance

DEMO = "demo-kinship-alliance"  # `concord demo`'s default slug
CONCORD = Path(sys.executable).with_name("concord")
#: Pieces of the demo's confidential text that survive any JSON escaping.
CANARIES = ("CONFIDENTIAL DEMO TEXT", "individual family", "protect service users")
#: Said by the demo of every admission; a plain, never confidential, record to alter.
ADMISSION_REASON = b"Meets the membership criteria."


# ------------------------------------------------------------------------------ helpers


@dataclass(frozen=True)
class Unzipped:
    raw: bytes
    members: dict[str, bytes]

    @property
    def records(self) -> list[dict[str, Any]]:
        return [msgspec.json.decode(line) for line in self.members["events.jsonl"].splitlines()]

    @property
    def manifest(self) -> dict[str, Any]:
        return dict(msgspec.json.decode(self.members["manifest.json"]))

    def mentions(self, text: str) -> bool:
        return text.encode() in self.raw or any(text.encode() in m for m in self.members.values())

    def verdict(self, kept: signing.Checkpoint | None = None) -> verify.Verdict:
        with zipfile.ZipFile(io.BytesIO(self.raw)) as opened:
            return verify.verify_bundle(opened, kept=kept)


def unzipped(raw: bytes) -> Unzipped:
    with zipfile.ZipFile(io.BytesIO(raw)) as opened:
        return Unzipped(raw, {name: opened.read(name) for name in opened.namelist()})


def exported(alliance: Alliance, headers: dict[str, str] | None = None) -> Unzipped:
    response = alliance.call("GET", "/audit/export", headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/zip"
    disposition = response.headers["content-disposition"]
    assert disposition.startswith(f'attachment; filename="{alliance.slug}-audit-')
    return unzipped(response.content)


def confidential_positions(bundle: Unzipped) -> set[int]:
    """Positions of the records whose stored content carries the confidential text."""
    return {r["position"] for r in bundle.records if r["state"] and CANARIES[0] in r["state"]}


@pytest.fixture
def demo(client) -> Alliance:
    """The demo alliance (a year of meetings, some minutes confidential), made through the
    same use cases as the API, driven by its tenant-admin key."""
    key, counts = create_demo(
        client.app.state.runtime, slug=DEMO, name="Demo", template="kinship-care", region="Kent"
    )
    assert counts["confidential_items"] > 0
    return Alliance(client, "kinship-care", key.secret, slug=DEMO)


def stored_state(settings: Settings, slug: str, position: int) -> bytes | None:
    """The bytes stored for one event (None past the end of the log)."""
    if settings.database_url is None:
        with closing(sqlite3.connect(events_file(settings, slug))) as db:
            row = db.execute("SELECT state FROM stored_events WHERE rowid = ?", (position,))
            found = row.fetchone()
            return None if found is None else bytes(found[0])
    with psycopg.connect(settings.database_url) as conn:
        found = conn.execute(
            sql.SQL("SELECT state FROM {}.alliance_events WHERE notification_id = %s").format(
                sql.Identifier(schema_name(slug))
            ),
            (position,),
        ).fetchone()
        return None if found is None else bytes(found[0])


def events_file(settings: Settings, slug: str) -> Path:
    return Path(settings.data_dir) / "tenants" / slug / "events.sqlite"


def position_holding(settings: Settings, slug: str, needle: bytes) -> int:
    """The first log position whose stored bytes contain `needle`."""
    position = 1
    while (state := stored_state(settings, slug, position)) is not None:
        if needle in state:
            return position
        position += 1
    pytest.fail(f"no stored event holds {needle!r}")


def alter_one_byte(settings: Settings, slug: str, position: int, needle: bytes, new: int) -> None:
    """What a malicious database administrator does: change the first byte of `needle`
    in one stored event, behind the platform's back."""
    state = stored_state(settings, slug, position)
    assert state is not None
    offset = state.index(needle)
    if settings.database_url is None:
        altered = state[:offset] + bytes([new]) + state[offset + 1 :]
        with closing(sqlite3.connect(events_file(settings, slug))) as db, db:
            db.execute("UPDATE stored_events SET state = ? WHERE rowid = ?", (altered, position))
        assert stored_state(settings, slug, position) == altered
        return
    table = sql.SQL("{}.alliance_events").format(sql.Identifier(schema_name(slug)))
    with psycopg.connect(settings.database_url, autocommit=True) as conn:
        # The append-only trigger refuses even the table's owner (here a superuser) ...
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="append-only"):
            conn.execute(
                sql.SQL("UPDATE {} SET state = state WHERE notification_id = %s").format(table),
                (position,),
            )
        # ... so the administrator turns triggers off for the session (superusers only).
        conn.execute("SET session_replication_role = replica")
        conn.execute(
            sql.SQL(
                "UPDATE {} SET state = set_byte(state, %s, %s) WHERE notification_id = %s"
            ).format(table),
            (offset, new, position),
        )
    assert (
        stored_state(settings, slug, position)
        == state[:offset] + bytes([new]) + state[offset + 1 :]
    )


@pytest.fixture
def cli(settings, monkeypatch) -> Callable[..., Result]:
    """Run `concord ...` in-process, with the test's settings in the environment."""
    for name in settings.__struct_fields__:
        value = getattr(settings, name)
        variable = f"CONCORD_{name.upper()}"
        if value is None:
            monkeypatch.delenv(variable, raising=False)
        else:
            monkeypatch.setenv(variable, str(value))

    def run(*args: str) -> Result:
        return CliRunner().invoke(main, list(args), prog_name="concord", catch_exceptions=False)

    return run


def verify_offline(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`concord audit verify` in a process of its own that knows no database: no
    CONCORD_DATABASE_URL, and a data directory that does not exist."""
    assert CONCORD.exists(), CONCORD
    nowhere = tmp_path / "no-such-data-dir"
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(tmp_path),
        "CONCORD_DATA_DIR": str(nowhere),
    }
    done = subprocess.run(
        [str(CONCORD), "audit", "verify", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert not nowhere.exists()  # it never made one: it has no use for a store
    assert "Traceback" not in done.stderr, done.stderr
    return done


# ------------------------------------------------------------------------- HTTP export


def test_an_auditor_without_the_grant_gets_confidential_records_withheld(demo):
    auditor = issue_key(demo, "auditor")

    withheld = exported(demo, auditor)
    full = exported(demo)  # the tenant admin, whose role may read confidential minutes

    secret = confidential_positions(full)
    assert secret, "the demo's confidential minutes are in the full bundle"
    assert all(full.mentions(canary) for canary in CANARIES)
    for canary in CANARIES:  # not in the zip, nor in any file inside it
        assert not withheld.mentions(canary), canary
    hidden = {r["position"] for r in withheld.records if r["withheld"]}
    assert secret <= hidden
    assert all(r["state"] is None for r in withheld.records if r["withheld"])
    assert not any(r["withheld"] for r in full.records)
    assert (withheld.manifest["withheld"], full.manifest["withheld"]) == (len(hidden), 0)
    assert withheld.manifest["confidential_included"] is False
    assert full.manifest["confidential_included"] is True
    # The same records, proved by the same leaves under the same checkpoint.
    assert [(r["position"], r["leaf"], r["state_sha256"]) for r in withheld.records] == [
        (r["position"], r["leaf"], r["state_sha256"]) for r in full.records
    ]
    assert withheld.members["checkpoints.jsonl"] == full.members["checkpoints.jsonl"]
    for bundle, count in ((withheld, len(hidden)), (full, 0)):
        verdict = bundle.verdict()
        assert verdict.intact, verdict.problem
        assert (verdict.records, verdict.withheld) == (len(full.records), count)


def test_the_alliances_setting_decides_whose_bundle_holds_confidential_minutes(demo):
    auditor = issue_key(demo, "auditor")

    changed = demo.call(
        "PUT", "/settings/confidential-readers", {"readers": ["officer", "auditor"]}
    )

    assert changed.status_code == 200, changed.text

    assert all(exported(demo, auditor).mentions(c) for c in CANARIES)
    admin = exported(demo)  # the tenant admin is no longer among the readers
    assert not any(admin.mentions(c) for c in CANARIES)
    assert admin.verdict().intact


def test_only_the_alliances_admins_and_auditors_may_export(demo, onboard):
    stranger = bearer(onboard("elsewhere")["admin_key"]["secret"])
    officer = issue_key(demo, "officer")

    expect(demo.call("GET", "/audit/export", headers=officer), 403, FORBIDDEN, "auditor")
    expect(demo.call("GET", "/audit/export", headers=stranger), 404, NOT_FOUND)
    assert demo.call("GET", "/audit/export", headers={}).status_code == 401


# -------------------------------------------------------------------------------- CLI


@pytest.fixture
def kept_bundle(cli, tmp_path) -> Iterator[tuple[Path, Path]]:
    """`concord demo`, then a checkpoint kept and a bundle exported with the CLI."""
    made = cli("demo")
    assert made.exit_code == 0, made.output
    kept, bundle = tmp_path / "kept.json", tmp_path / "bundle.zip"
    checkpointed = cli("audit", "checkpoint", "--tenant", DEMO, "--out", str(kept))
    assert checkpointed.exit_code == 0, checkpointed.output
    done = cli("audit", "export", "--tenant", DEMO, "--out", str(bundle))
    assert done.exit_code == 0, done.output
    yield kept, bundle


def test_the_cli_exports_a_bundle_that_verifies_intact_against_the_kept_checkpoint(
    cli, kept_bundle
):
    kept_file, bundle_file = kept_bundle
    kept = signing.decode(kept_file.read_bytes())
    records = unzipped(bundle_file.read_bytes()).records

    alone = cli("audit", "verify", str(bundle_file))
    anchored = cli("audit", "verify", str(bundle_file), "--checkpoint", str(kept_file))
    pinned = cli("audit", "verify", str(bundle_file), "--public-key", kept.public_key)

    assert signing.signature_problem(kept) is None and kept.tree_size == len(records)
    for result in (alone, anchored, pinned):
        assert result.exit_code == 0, result.output
        assert result.stdout.startswith(f"INTACT: {len(records)} records")
        assert kept.root_hash in result.stdout
    # Without an anchor the verifier says what it could not check.
    assert "--checkpoint" in alone.stderr and anchored.stderr == ""
    # The CLI withholds confidential minutes unless asked.
    assert not any(unzipped(bundle_file.read_bytes()).mentions(c) for c in CANARIES)


def test_the_cli_exports_confidential_minutes_only_when_asked(cli, kept_bundle, tmp_path):
    full = tmp_path / "full.zip"

    done = cli("audit", "export", "--tenant", DEMO, "--out", str(full), "--confidential")

    assert done.exit_code == 0, done.output
    assert "(0 withheld as confidential)" in done.output
    assert all(unzipped(full.read_bytes()).mentions(c) for c in CANARIES)
    assert cli("audit", "verify", str(full)).exit_code == 0


def test_the_cli_refuses_bad_input_with_a_message(cli, kept_bundle, tmp_path):
    _, bundle_file = kept_bundle
    not_a_checkpoint = tmp_path / "notes.json"
    not_a_checkpoint.write_text('{"hello": "world"}')
    not_a_zip = tmp_path / "bundle.txt"
    not_a_zip.write_text("not a zip")

    unknown = cli("audit", "export", "--tenant", "no-such-alliance", "--out", str(tmp_path / "x"))
    bad_kept = cli("audit", "verify", str(bundle_file), "--checkpoint", str(not_a_checkpoint))
    bad_zip = cli("audit", "verify", str(not_a_zip))
    missing = cli("audit", "verify", str(tmp_path / "missing.zip"))

    assert unknown.exit_code == 1 and "no-such-alliance" in unknown.output
    assert bad_kept.exit_code == 2 and "is not a checkpoint" in bad_kept.output  # usage error
    assert bad_zip.exit_code == 1 and "NOT INTACT: the bundle cannot be read" in bad_zip.output
    assert missing.exit_code == 2 and "does not exist" in missing.output
    assert cli("audit", "verify", "--help").exit_code == 0


def test_the_verifier_needs_no_database(kept_bundle, tmp_path):
    kept_file, bundle_file = kept_bundle

    done = verify_offline(tmp_path, str(bundle_file), "--checkpoint", str(kept_file))

    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.startswith("INTACT: ")


# ------------------------------------------------------------------ the auditor's scenario


@pytest.mark.parametrize(
    ("which", "needle"),
    [
        ("a plain record", ADMISSION_REASON),
        ("a withheld confidential record", CANARIES[0].encode()),
    ],
)
def test_one_byte_changed_in_the_database_is_caught_and_named(
    settings, cli, kept_bundle, tmp_path, which, needle
):
    kept_file, bundle_file = kept_bundle
    before = verify_offline(tmp_path, str(bundle_file), "--checkpoint", str(kept_file))
    assert before.returncode == 0, before.stdout
    position = position_holding(settings, DEMO, needle)

    alter_one_byte(settings, DEMO, position, needle, ord("X"))
    again = tmp_path / "again.zip"
    redone = cli("audit", "export", "--tenant", DEMO, "--out", str(again))
    after = verify_offline(tmp_path, str(again), "--checkpoint", str(kept_file))

    assert redone.exit_code == 0, redone.output
    assert after.returncode == 1, after.stdout
    assert after.stdout.startswith(f"NOT INTACT: record at position {position} "), after.stdout
    assert "altered since a checkpoint covered it" in after.stdout
    # The bundle exported before the change still verifies: the evidence the auditor
    # took away is untouched by what happened in the database since.
    assert (
        verify_offline(tmp_path, str(bundle_file), "--checkpoint", str(kept_file)).returncode == 0
    )
    if which == "a withheld confidential record":
        [record] = [r for r in unzipped(again.read_bytes()).records if r["position"] == position]
        assert record["withheld"] and record["state"] is None


@pytest.mark.parametrize(
    ("needle", "new"),
    [
        pytest.param(ADMISSION_REASON, 0xFF, id="stored bytes no longer UTF-8"),
        pytest.param(b'{"', ord("X"), id="confidential record no longer JSON"),
    ],
)
def test_a_record_damaged_past_decoding_is_still_exported_for_the_verifier_to_name(
    demo, settings, tmp_path, needle, new
):
    auditor = issue_key(demo, "auditor")
    kept = signing.decode(demo.call("POST", "/audit/checkpoints").content)
    if needle == b'{"':  # the first stored minutes with confidential text
        position = position_holding(settings, DEMO, CANARIES[0].encode())
    else:
        position = position_holding(settings, DEMO, needle)

    alter_one_byte(settings, DEMO, position, needle, new)
    response = demo.call("GET", "/audit/export", headers=auditor)

    assert response.status_code == 200, response.text
    verdict = unzipped(response.content).verdict(kept)
    assert not verdict.intact and verdict.bad_position == position
