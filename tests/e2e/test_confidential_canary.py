"""Confidential minutes leave no trace outside the alliance's own record, on both stores.

Minutes are drafted, amended, approved, published and corrected with unique canary
strings in every confidential place: an item's title, text and decision, the text it was
amended from, its action, the action's progress and completion notes, a confidential
correction and its reason, a correction of the confidential item, and whole confidential
minutes. Then every other way out is searched for the canaries: the logs (every logger, at
DEBUG), the trace spans, the public pages, the public JSON, the national directory, the
platform store, and the API as read by member and auditor keys and the platform admin.
The tenant admin, whom the alliance lets read confidential minutes, does see each canary:
so each search could have found one.
"""

from __future__ import annotations

import logging
import sqlite3
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

import psycopg
import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from psycopg import sql as pgsql

from infra.stores import PLATFORM
from infra.telemetry import Telemetry
from tests.conftest import ADMIN
from tests.e2e.test_membership_api import admit, issue_key
from tests.e2e.test_membership_year import Alliance

START = datetime(2030, 1, 15, 9, 0, tzinfo=UTC)
SLUG = "kca"
NAME = "Kinship Care Alliance"
PUBLIC_MARKER = "Public item text everyone may read"
PLACES = (
    "title",
    "draft_text",
    "text",
    "decision",
    "action",
    "progress",
    "done",
    "correction",
    "reason",
    "item_correction",
    "whole",
    "whole_action",
)
#: The minute-taker's own ids of the confidential item and its action: they may say too
#: much, so they are kept like the text.
IDS = ("item_id", "action_id")


@dataclass
class Canaries:
    """One unique string per confidential place."""

    run: str = field(default_factory=lambda: uuid4().hex)

    def __getattr__(self, place: str) -> str:
        if place not in PLACES + IDS:
            raise AttributeError(place)
        # Short enough for an id (at most 40 of A-Z a-z 0-9 _ -); the closing Q keeps one
        # canary from being the start of another ("action", "actionid").
        return f"CANARY{self.run[:16]}{place.replace('_', '')}Q"

    def found_in(self, text: str) -> list[str]:
        """The places whose canary the text holds."""
        return [place for place in PLACES if getattr(self, place) in text]

    def ids_found_in(self, text: str) -> list[str]:
        """The confidential ids the text holds."""
        return [place for place in IDS if getattr(self, place) in text]


@pytest.fixture
def spans() -> InMemorySpanExporter:
    return InMemorySpanExporter()


@pytest.fixture
def telemetry(spans) -> Telemetry:
    return Telemetry("none", span_exporter=spans)


@dataclass
class Record:
    alliance: Alliance
    canaries: Canaries
    minutes: list[str]
    actions: list[str]
    keys: dict[str, dict[str, str]]


def on(days: int) -> datetime:
    return START + timedelta(days=days, hours=1)


def hold_meeting(alliance: Alliance, member: str, day: int) -> str:
    body = {"body": "full-membership", "title": "Quarterly", "starts_at": on(day).isoformat()}
    meeting = alliance.post("/meetings", body | {"format": "virtual"}, status=201)
    alliance.move_clock_to(on(day))
    alliance.post(
        f"/meetings/{meeting['meeting_id']}/hold", {"attendance": [{"member_id": member}]}
    )
    return str(meeting["meeting_id"])


def confidential_items(canaries: Canaries, text: str) -> list[dict[str, Any]]:
    return [
        {"item_id": "welcome", "title": "Welcome", "text": PUBLIC_MARKER},
        {
            "item_id": canaries.item_id,
            "title": canaries.title,
            "text": text,
            "decisions": [canaries.decision],
            "confidential": True,
            "actions": [
                {
                    "action_id": canaries.action_id,
                    "description": canaries.action,
                    "owner_kind": "office",
                    "owner": "chair",
                    "due_on": "2030-01-31",
                }
            ],
        },
    ]


@pytest.fixture
def record(client, onboard, every_log) -> Record:
    """Two sets of published minutes full of canaries, and the keys that read them."""
    canaries = Canaries()
    client.app.state.runtime.clock = lambda: START
    secret = onboard(SLUG, template="kinship-care", name=NAME)["admin_key"]["secret"]
    alliance = Alliance(client, "kinship-care", secret, slug=SLUG)
    member = admit(alliance, "Kinship")
    keys = {
        "tenant-admin": alliance.headers,
        "member": issue_key(alliance, "member", member),
        "auditor": issue_key(alliance, "auditor"),
        "platform-admin": ADMIN,
    }

    first = hold_meeting(alliance, member, 7)
    drafted = alliance.post(
        "/minutes",
        {"meeting_id": first, "items": confidential_items(canaries, canaries.draft_text)},
        status=201,
    )
    minutes_id = drafted["minutes_id"]
    amended = alliance.call(
        "PUT",
        f"/minutes/{minutes_id}",
        {"items": confidential_items(canaries, canaries.text), "confidential": False},
    )
    assert amended.status_code == 200, amended.text
    alliance.post(f"/minutes/{minutes_id}/approve", {"by_body": "full-membership"})
    alliance.post(f"/minutes/{minutes_id}/publish")
    for correction in (
        {"item_id": "welcome", "text": canaries.correction, "confidential": True},
        # Not marked confidential, but it corrects the confidential item.
        {"item_id": canaries.item_id, "text": canaries.item_correction},
    ):
        alliance.post(
            f"/minutes/{minutes_id}/corrections",
            correction
            | {"reason": canaries.reason, "by_body": "full-membership", "decision_ref": "M3"},
            status=201,
        )
    [call] = alliance.get("/action-items", minutes_id=minutes_id)["items"]
    alliance.post(f"/action-items/{call['action_item_id']}/progress", {"note": canaries.progress})
    alliance.post(f"/action-items/{call['action_item_id']}/complete", {"note": canaries.done})

    second = hold_meeting(alliance, member, 14)
    whole = alliance.post(
        "/minutes",
        {
            "meeting_id": second,
            "confidential": True,
            "confidential_reason": "service users are named",
            "items": [
                {
                    "title": "Ordinary-looking item",
                    "text": canaries.whole,
                    "actions": [
                        {
                            "description": canaries.whole_action,
                            "owner_kind": "member",
                            "owner": member,
                            "due_on": "2030-06-01",
                        }
                    ],
                }
            ],
        },
        status=201,
    )
    alliance.post(f"/minutes/{whole['minutes_id']}/approve", {"by_body": "full-membership"})
    alliance.post(f"/minutes/{whole['minutes_id']}/publish")
    actions = [a["action_item_id"] for a in alliance.get("/action-items")["items"]]
    assert len(actions) == 2
    return Record(alliance, canaries, [minutes_id, whole["minutes_id"]], actions, keys)


def api_as(record: Record, role: str) -> str:
    """Everything the API shows a key about meetings, minutes, actions and the log."""
    alliance, headers = record.alliance, record.keys[role]
    paths = [
        "",
        "/meetings",
        "/compliance-calendar",
        "/minutes",
        "/minutes?status=published",
        "/action-items",
        "/action-items?overdue=true",
        "/settings/confidential-readers",
    ]
    paths += [f"/minutes/{m}" for m in record.minutes]
    paths += [f"/minutes/{m}/public" for m in record.minutes]
    paths += [f"/action-items/{a}" for a in record.actions]
    seen = []
    for path in paths:
        response = alliance.client.get(alliance.base + path, headers=headers)
        assert response.status_code == 200, (role, path, response.text)
        seen.append(response.text)
    return "\n".join(seen) + whole_log(record, headers)


def whole_log(record: Record, headers: dict[str, str]) -> str:
    """The alliance's event log as this key reads it (a refusal's text, if refused)."""
    alliance, seen, after = record.alliance, [], 0
    while True:
        response = alliance.client.get(
            f"{alliance.base}/events", params={"after": after, "limit": 200}, headers=headers
        )
        seen.append(response.text)
        if response.status_code != 200 or response.json()["next_after"] is None:
            return "\n".join(seen)
        after = response.json()["next_after"]


def test_the_tenant_admin_reads_every_canary_so_the_searches_can_find_them(record):
    canaries = record.canaries
    seen = api_as(record, "tenant-admin")

    assert canaries.found_in(seen) == list(PLACES)
    log = whole_log(record, record.keys["tenant-admin"])
    assert canaries.found_in(log) == list(PLACES)
    assert "[confidential]" not in log


@pytest.mark.parametrize("role", ["member", "auditor", "platform-admin"])
def test_other_keys_never_read_a_canary(record, role):
    seen = api_as(record, role)

    assert record.canaries.found_in(seen) == []
    assert PUBLIC_MARKER in seen  # they do read the public text
    assert '"redacted":true' in seen.replace(" ", "")
    if role == "auditor":  # reads the log, with the confidential text redacted
        assert "[confidential]" in whole_log(record, record.keys["auditor"])


def test_the_public_pages_and_public_versions_carry_no_canary(record):
    client, canaries = record.alliance.client, record.canaries
    pages = [client.get(f"/a/{SLUG}/"), client.get(f"/a/{SLUG}/minutes")]
    pages += [client.get(f"/a/{SLUG}/minutes/{m}") for m in record.minutes]
    public = [record.alliance.get(f"/minutes/{m}/public") for m in record.minutes]

    for page in pages:
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        assert canaries.found_in(page.text) == [], page.url
    assert PUBLIC_MARKER in pages[2].text
    assert canaries.found_in(str(public)) == []
    corrections = public[0]["public"]["corrections"]
    assert [(c["confidential"], c["text"], c["reason"]) for c in corrections] == [
        (True, None, None),
        (True, None, None),  # as confidential as the item it corrects
    ]
    assert [i.get("text") for i in public[1]["public"]["items"]] == [None]


def test_the_national_directory_and_the_platform_store_carry_no_canary(
    record, client, settings, backend
):
    canaries = record.canaries
    directory = [
        client.get("/v1/tenants", headers=ADMIN),
        client.get(f"/v1/tenants/{SLUG}", headers=ADMIN),
    ]
    runtime = client.app.state.runtime
    stored = [
        f"{n.topic} {n.state!r}"
        for n in runtime.platform.app.recorder.select_notifications(start=1, limit=100_000)
    ]

    for response in directory:
        assert response.status_code == 200 and NAME in response.text
        assert canaries.found_in(response.text) == []
    assert any(NAME in event for event in stored)
    assert canaries.found_in("\n".join(stored)) == []
    platform = platform_store_dump(runtime, settings, backend)
    assert NAME in platform  # the search reads the store the directory comes from
    assert canaries.found_in(platform) == []
    # ... whereas the alliance's own store holds the text (kept for those allowed).
    with runtime.tenant(SLUG) as store:
        own = store.app.recorder.select_notifications(start=1, limit=100_000)
    assert canaries.found_in(" ".join(repr(n.state) for n in own)) == list(PLACES)


def platform_store_dump(runtime: Any, settings: Any, backend: str) -> str:
    """Every row of every table of the platform store, events and views, as text."""
    rows: list[str] = []
    if backend == "sqlite":
        folder = runtime.backend.folder(PLATFORM)
        for path in sorted(folder.glob("*.sqlite")):
            connection = sqlite3.connect(path)
            try:
                tables = connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
                for (table,) in tables.fetchall():
                    rows += map(repr, connection.execute(f'SELECT * FROM "{table}"'))
            finally:
                connection.close()
        # And the files' raw bytes (free pages and the write-ahead log included).
        rows += [repr(path.read_bytes()) for path in sorted(folder.iterdir()) if path.is_file()]
        return "\n".join(rows)
    with psycopg.connect(settings.database_url) as connection:
        tables = connection.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = %s",
            (PLATFORM,),
        ).fetchall()
        assert tables
        for (table,) in tables:
            query = pgsql.SQL("SELECT * FROM {}.{}").format(
                pgsql.Identifier(PLATFORM), pgsql.Identifier(table)
            )
            rows += map(repr, connection.execute(query).fetchall())
    return "\n".join(rows)


def test_no_log_line_and_no_span_carries_a_canary(record, every_log, spans):
    canaries = record.canaries
    # Read everything once more, by every key, so reads are logged and traced too.
    for role in record.keys:
        api_as(record, role)
    for path in ("/", "/minutes", *(f"/minutes/{m}" for m in record.minutes)):
        record.alliance.client.get(f"/a/{SLUG}{path}")

    records = every_log.get_records("setup") + every_log.get_records("call")
    logged = "\n".join(f"{r.name} {r.levelname} {r.getMessage()} {r.__dict__}" for r in records)
    traced = "\n".join(span.to_json() for span in spans.get_finished_spans())

    assert f"/v1/tenants/{SLUG}/minutes" in logged  # the requests were logged
    for name in ("concord", "concord.api", "litestar", "eventsourcing", "psycopg", "httpx"):
        assert logging.getLogger(name).isEnabledFor(logging.DEBUG), name
    assert "command.draft_minutes" in traced and "command.correct_minutes" in traced
    assert canaries.found_in(logged) == []
    assert canaries.found_in(traced) == []


def test_the_public_and_the_redacted_minutes_withhold_the_confidential_ids(record):
    alliance, canaries = record.alliance, record.canaries
    shown = [alliance.client.get(f"/a/{SLUG}{path}").text for path in ("/", "/minutes")]
    shown += [alliance.client.get(f"/a/{SLUG}/minutes/{m}").text for m in record.minutes]
    for role in ("member", "auditor", "platform-admin"):
        headers = record.keys[role]
        for minutes_id in record.minutes:
            for path in (f"/minutes/{minutes_id}", f"/minutes/{minutes_id}/public"):
                shown.append(alliance.call("GET", path, headers=headers).text)
        shown.append(alliance.call("GET", "/minutes", headers=headers).text)

    assert canaries.ids_found_in("\n".join(shown)) == []
    kept = alliance.get(f"/minutes/{record.minutes[0]}")
    assert kept["items"][1]["item_id"] == canaries.item_id  # the reader's copy keeps it


@pytest.mark.parametrize("role", ["member", "auditor", "platform-admin"])
def test_action_items_withhold_the_confidential_ids_from_non_readers(record, role):
    alliance, headers = record.alliance, record.keys[role]
    shown = [alliance.call("GET", "/action-items", headers=headers).text]
    shown += [
        alliance.call("GET", f"/action-items/{a}", headers=headers).text for a in record.actions
    ]

    assert record.canaries.ids_found_in("\n".join(shown)) == []


def test_the_redacted_log_withholds_the_confidential_ids(record):
    log = whole_log(record, record.keys["auditor"])

    assert record.canaries.found_in(log) == []
    assert record.canaries.ids_found_in(log) == []


def test_the_governance_directory_carries_no_canary_and_no_personal_data(
    record, client, settings, backend
):
    """A year on, with the confidential action overdue and misses recorded: what the
    umbrella sees (the directory, its detail, the CSV, the alliance's obligations) holds
    counts, dates and ToR names only."""
    alliance, canaries = record.alliance, record.canaries
    applications = alliance.get("/applications?limit=200")["items"]
    people = [
        a[field]
        for a in applications
        for field in ("signatory_name", "person_name")
        if a.get(field)
    ]
    assert people  # there is personal data to look for
    alliance.move_clock_to(START + timedelta(days=400))
    assert client.post("/v1/directory/refresh", headers=ADMIN).status_code == 200
    seen = [
        client.get("/v1/directory", headers=ADMIN),
        client.get(f"/v1/directory/{SLUG}", headers=ADMIN),
        client.get("/v1/directory/export.csv", headers=ADMIN),
        client.get(f"/v1/tenants/{SLUG}/obligations?limit=200", headers=ADMIN),
        client.get(f"/v1/tenants/{SLUG}/health", headers=ADMIN),
    ]

    for response in seen:
        assert response.status_code == 200, response.text
        assert canaries.found_in(response.text) == [], response.url
        assert canaries.ids_found_in(response.text) == [], response.url
        assert [p for p in people if p in response.text] == [], response.url
    detail = seen[1].json()
    assert NAME in seen[0].text and NAME in seen[2].text
    # The confidential action is among the obligations the umbrella sees, as a date only.
    kinds = {o["kind"] for o in detail["obligations"]}
    assert "action-item" in kinds and detail["missed"]
    platform = platform_store_dump(client.app.state.runtime, settings, backend)
    # The dump holds the health snapshot the directory reads (its reasons are in it).
    assert detail["health"]["reasons"][0] in platform
    assert canaries.found_in(platform) == []
    assert [p for p in people if p in platform] == []
