"""Explicit input limits: body size, page size, string lengths, list lengths, nesting
depth, and text (control characters refused; every other character stored verbatim).

Every refusal is a problem that names the field and the limit, and records nothing.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from litestar.testing import TestClient

from domain.errors import InvalidText
from infra.settings import Settings
from services import onboarding
from services.api.app import create_app
from services.api.limits import MAX_JSON_DEPTH, MAX_PARAMETER_LENGTH
from tests.conftest import ADMIN, ADMIN_KEY, bearer

SLUG = "kent-fja"
YESTERDAY = (datetime.now(UTC) - timedelta(days=1)).replace(microsecond=0).isoformat()
#: Text that must come back exactly as sent: a Cyrillic "e" (U+0435) in "Kent", a right-to-left
#: override (U+202E) and its pop (U+202C), zero-width joiner and space, a combining accent
#: left decomposed (no NFC), an astral character, markup and quotes.
HOSTILE = "K\u0435nt \u202egnp.exe\u202c \u200dzero\u200bwidth cafe\u0301 \U0001d518 <b>&amp;\"'"


def problem(response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = dict(response.json())
    assert body["status"] == status and body["title"] and body["detail"]
    assert "Traceback" not in response.text
    return body


def refused_naming(response, field: str, limit: str | None = None) -> dict[str, Any]:
    """A 422 invalid-request that names the field (and the limit, when given)."""
    body = problem(response, 422)
    assert body["type"] == "urn:concord:problem:invalid-request", body
    assert field in body["detail"], body
    if limit is not None:
        assert limit in body["detail"], body
    return body


class Alliance:
    """One alliance and its tenant-admin key, reached through the API."""

    def __init__(self, client, onboard) -> None:
        self.client = client
        self.headers = bearer(onboard(SLUG)["admin_key"]["secret"])

    def url(self, path: str) -> str:
        return f"/v1/tenants/{SLUG}{path}"

    def post(self, path: str, body: Any):
        return self.client.post(self.url(path), json=body, headers=self.headers)

    def post_raw(self, path: str, content: bytes):
        headers = {**self.headers, "Content-Type": "application/json"}
        return self.client.post(self.url(path), content=content, headers=headers)

    def get(self, path: str, **params: Any):
        return self.client.get(self.url(path), params=params, headers=self.headers)

    def ok(self, path: str, body: Any) -> dict[str, Any]:
        response = self.post(path, body)
        assert response.status_code in (200, 201), response.text
        return dict(response.json())

    def log(self) -> list[dict[str, Any]]:
        """The alliance's whole event log."""
        events: list[dict[str, Any]] = []
        after = 0
        while True:
            page = self.get("/events", after=after, limit=1000).json()
            events += page["items"]
            if page["next_after"] is None:
                return events
            after = page["next_after"]

    def held_meeting(self) -> str:
        meeting = {
            "body": "full-membership",
            "title": "Limits",
            "starts_at": YESTERDAY,
            "format": "virtual",
            "link": "https://meet.example.org/limits",
        }
        meeting_id = str(self.ok("/meetings", meeting)["meeting_id"])
        self.ok(f"/meetings/{meeting_id}/hold", {"attendance": []})
        return meeting_id


@pytest.fixture
def alliance(client, onboard) -> Alliance:
    return Alliance(client, onboard)


def application(**fields: Any) -> dict[str, Any]:
    return {
        "name": "Grandparents Plus",
        "region": "Kent",
        "request_text": "We ask to join.",
        **fields,
    }


def tenants(client) -> list[dict[str, Any]]:
    return list(client.get("/v1/tenants", headers=ADMIN).json()["items"])


# ----------------------------------------------------------------------------- body size


def padded(body: dict[str, Any], size: int) -> bytes:
    """The body as JSON, padded with whitespace (still valid JSON) to exactly `size` bytes."""
    encoded = json.dumps(body).encode()
    assert len(encoded) <= size
    return encoded + b" " * (size - len(encoded))


def test_a_body_of_exactly_the_size_limit_is_accepted(alliance, settings):
    response = alliance.post_raw("/applications", padded(application(), settings.max_body_bytes))

    assert response.status_code == 201, response.text


def test_a_body_one_byte_over_the_size_limit_is_a_413_problem_and_records_nothing(
    alliance, settings
):
    before = alliance.log()

    body = padded(application(), settings.max_body_bytes + 1)
    response = alliance.post_raw("/applications", body)

    answer = problem(response, 413)
    assert answer["type"] == "urn:concord:problem:request-body-too-large"
    assert alliance.log() == before


def test_a_streamed_body_without_a_length_is_cut_off_at_the_size_limit(alliance, settings):
    before = alliance.log()

    def chunks():
        yield b'{"name": "Grandparents Plus", "request_text": "'
        for _ in range(settings.max_body_bytes // 1024 + 1):
            yield b"x" * 1024
        yield b'"}'

    headers = {**alliance.headers, "Content-Type": "application/json"}
    response = alliance.client.post(
        alliance.url("/applications"), content=chunks(), headers=headers
    )

    problem(response, 413)
    assert alliance.log() == before


# ----------------------------------------------------------------------------- page size


def paged_operations(client) -> list[tuple[str, str, dict[str, Any]]]:
    """(operationId, path, the `limit` parameter) of every GET that takes a `limit`."""
    document = client.get("/schema/openapi.json").json()
    found = []
    for path, item in document["paths"].items():
        operation = item.get("get")
        if operation is None:
            continue
        for parameter in operation.get("parameters", []):
            if parameter["in"] == "query" and parameter["name"] == "limit":
                found.append((operation["operationId"], path, parameter))
    return found


def test_every_list_that_pages_has_a_capped_limit(client):
    document = client.get("/schema/openapi.json").json()
    schemas = document["components"]["schemas"]
    paged = {operation for operation, _, _ in paged_operations(client)}
    for path, item in document["paths"].items():
        operation = item.get("get")
        if operation is None:
            continue
        answer = operation["responses"].get("200", {}).get("content", {})
        for content in answer.values():
            reference = content["schema"].get("$ref", "")
            properties = schemas.get(reference.rsplit("/", 1)[-1], {}).get("properties", {})
            if "next_after" in properties:
                assert operation["operationId"] in paged, f"{path} pages but takes no limit"
    for operation, _path, parameter in paged_operations(client):
        assert 1 <= parameter["schema"].get("maximum", 0) <= 1000, (operation, parameter)
    assert len(paged) >= 12


def test_a_page_size_over_the_cap_is_refused_naming_limit(client, alliance):
    member = alliance.ok("/applications", application())  # gives voting-record a subject
    for operation, path, parameter in paged_operations(client):
        url = path.replace("{slug}", SLUG)
        headers = ADMIN if "{slug}" not in path else alliance.headers
        params: dict[str, Any] = {}
        if operation == "getVotingRecord":
            params["member_id"] = member["application_id"]
        cap = int(parameter["schema"]["maximum"])

        over = client.get(url, params={**params, "limit": cap + 1}, headers=headers)
        at_cap = client.get(url, params={**params, "limit": cap}, headers=headers)

        refused_naming(over, "limit", str(cap))
        assert at_cap.status_code != 422, (operation, at_cap.text)


# ----------------------------------------------------------------------------- string lengths


def test_tenant_fields_are_accepted_at_their_limit_and_refused_one_over(client):
    good = {"slug": "kent-fja", "name": "N", "region": "R", "template": "family-justice"}
    for field, limit in (("name", 200), ("region", 100)):
        over = client.post("/v1/tenants", json={**good, field: "x" * (limit + 1)}, headers=ADMIN)
        refused_naming(over, field, str(limit))
    assert tenants(client) == []

    at_limit = {**good, "name": "n" * 200, "region": "r" * 100}
    created = client.post("/v1/tenants", json=at_limit, headers=ADMIN)

    assert created.status_code == 201, created.text
    assert tenants(client)[0]["name"] == "n" * 200


def test_a_suspension_reason_is_accepted_at_2000_characters_and_refused_at_2001(client, onboard):
    onboard(SLUG)
    suspend = f"/v1/tenants/{SLUG}/suspend"

    refused_naming(client.post(suspend, json={"reason": "x" * 2001}, headers=ADMIN), "reason")
    assert client.get(f"/v1/tenants/{SLUG}", headers=ADMIN).json()["tenant"]["status"] == "active"
    done = client.post(suspend, json={"reason": "x" * 2000}, headers=ADMIN)

    assert done.status_code == 200, done.text
    assert client.get(f"/v1/tenants/{SLUG}", headers=ADMIN).json()["tenant"]["status_reason"] == (
        "x" * 2000
    )


#: (what, path, body with {TEXT} where the text goes, the field, its limit).
STRING_LIMITS: list[tuple[str, str, Any, str, int]] = [
    ("application name", "/applications", application(name="{TEXT}"), "name", 200),
    (
        "application request",
        "/applications",
        application(request_text="{TEXT}"),
        "request_text",
        5000,
    ),
    ("key label", "/keys", {"role": "officer", "label": "{TEXT}"}, "label", 200),
    ("motion text", "/motions", {"body": "full-membership", "text": "{TEXT}"}, "text", 5000),
    (
        "amendment rationale",
        "/terms/amendments",
        {
            "rationale": "{TEXT}",
            "rules": [{"path": "membership.max_representatives", "value": 3}],
        },
        "rationale",
        5000,
    ),
    (
        "agenda item",
        "/meetings",
        {
            "body": "full-membership",
            "title": "t",
            "starts_at": YESTERDAY,
            "format": "virtual",
            "link": "https://meet.example.org/x",
            "agenda": ["{TEXT}"],
        },
        "agenda[0]",
        200,
    ),
    (
        "clause text",
        "/terms/amendments",
        {"rationale": "r", "clauses": [{"number": "40", "heading": "h", "text": "{TEXT}"}]},
        "clauses[0].text",
        10_000,
    ),
]


def fill(template: Any, text: str) -> Any:
    return json.loads(json.dumps(template).replace("{TEXT}", text))


def test_each_text_field_is_accepted_at_its_limit_and_refused_one_over(alliance):
    for what, path, template, field, limit in STRING_LIMITS:
        before = alliance.log()

        over = alliance.post(path, fill(template, "x" * (limit + 1)))

        refused_naming(over, field, str(limit))
        assert alliance.log() == before, f"{what}: a refused request recorded an event"
        at_limit = alliance.post(path, fill(template, "y" * limit))
        assert at_limit.status_code in (200, 201), (what, at_limit.text)


def test_minutes_text_is_accepted_at_20000_characters_and_refused_at_20001(alliance):
    meeting_id = alliance.held_meeting()
    before = alliance.log()

    def minutes(text: str) -> dict[str, Any]:
        return {"meeting_id": meeting_id, "items": [{"title": "Item", "text": text}]}

    refused_naming(alliance.post("/minutes", minutes("x" * 20_001)), "items[0].text", "20000")
    assert alliance.log() == before
    drafted = alliance.ok("/minutes", minutes("y" * 20_000))
    read = alliance.get(f"/minutes/{drafted['minutes_id']}").json()

    assert read["items"][0]["text"] == "y" * 20_000


def test_long_query_parameters_and_path_segments_are_refused_naming_them(client, alliance):
    long = "a" * (MAX_PARAMETER_LENGTH + 1)

    refused_naming(client.get("/v1/tenants", params={"region": long}, headers=ADMIN), "region")
    refused_naming(alliance.get("/meetings", body=long), "body", str(MAX_PARAMETER_LENGTH))
    refused_naming(alliance.get(f"/members/{long}"), "path", str(MAX_PARAMETER_LENGTH))


# ----------------------------------------------------------------------------- lists


def test_lists_are_accepted_at_their_length_limit_and_refused_one_over(alliance):
    meeting = {
        "body": "full-membership",
        "title": "t",
        "starts_at": YESTERDAY,
        "format": "virtual",
        "link": "https://meet.example.org/x",
    }
    before = alliance.log()

    over = alliance.post("/meetings", {**meeting, "agenda": ["item"] * 51})
    refused_naming(over, "agenda", "50")
    too_many_changes = {"rationale": "r", "rules": [{"path": "x", "value": 1}] * 201}
    refused_naming(alliance.post("/terms/amendments", too_many_changes), "rules", "200")
    too_many_rule_paths = {
        "rationale": "r",
        "clauses": [{"number": "40", "heading": "h", "text": "t", "rules": ["membership"] * 51}],
    }
    refused_naming(alliance.post("/terms/amendments", too_many_rule_paths), "rules", "50")
    assert alliance.log() == before

    created = alliance.ok("/meetings", {**meeting, "agenda": [f"item {n}" for n in range(50)]})
    assert len(alliance.get(f"/meetings/{created['meeting_id']}").json()["agenda"]) == 50


# ----------------------------------------------------------------------------- nesting


def nested(depth: int) -> Any:
    """A value of `depth` arrays inside one another."""
    value: Any = 1
    for _ in range(depth):
        value = [value]
    return value


def rule_change(value: Any) -> dict[str, Any]:
    return {"rationale": "r", "rules": [{"path": "membership.max_representatives", "value": value}]}


def test_a_body_nested_at_the_depth_limit_reaches_the_rules_and_one_deeper_is_refused(alliance):
    # The body is level 1, `rules` 2, its change 3: the value takes the rest.
    at_limit = rule_change(nested(MAX_JSON_DEPTH - 3))
    over = rule_change(nested(MAX_JSON_DEPTH - 2))
    before = alliance.log()

    judged = problem(alliance.post("/terms/amendments", at_limit), 422)
    refused = refused_naming(alliance.post("/terms/amendments", over), "rules[0].value")

    assert judged["type"] == "urn:concord:problem:amendment-invalid"  # not a limit
    assert str(MAX_JSON_DEPTH) in refused["detail"]
    assert alliance.log() == before


@pytest.mark.parametrize("opening", [b"[", b'{"a":'])
def test_a_body_nested_thousands_deep_is_refused_not_crashed(alliance, opening):
    closing = b"]" if opening == b"[" else b"}"
    value = opening * 5000 + b"1" + closing * 5000
    body = b'{"rationale": "r", "rules": [{"path": "membership", "value": ' + value + b"}]}"
    before = alliance.log()

    refused = refused_naming(alliance.post_raw("/terms/amendments", body), "nested")

    assert str(MAX_JSON_DEPTH) in refused["detail"]
    assert alliance.log() == before


# ----------------------------------------------------------------------------- text


@pytest.mark.parametrize(
    ("character", "name"),
    [("\x00", "U+0000"), ("\x1b", "U+001B"), ("\x7f", "U+007F"), ("\x85", "U+0085")],
)
def test_control_characters_in_a_tenant_name_are_refused_and_nothing_is_recorded(
    client, character, name
):
    body = {"slug": SLUG, "name": f"K{character}ent", "region": "R", "template": "family-justice"}

    refused = refused_naming(client.post("/v1/tenants", json=body, headers=ADMIN), "name", name)
    assert "control character" in refused["detail"]
    assert tenants(client) == []
    # The platform still works (on PostgreSQL a NUL used to poison its directory).
    fine = client.post("/v1/tenants", json={**body, "name": "Kent"}, headers=ADMIN)
    assert fine.status_code == 201, fine.text


def test_a_nul_anywhere_in_a_body_is_refused_naming_where_and_records_nothing(alliance):
    meeting_id = alliance.held_meeting()
    item = {"title": "Item", "text": "ok", "decisions": ["fine", "no\x00good"]}
    cases = [
        ("/applications", application(name="Org\x00"), "name"),
        ("/applications", application(request_text="a\x00b"), "request_text"),
        ("/minutes", {"meeting_id": meeting_id, "items": [item]}, "items[0].decisions[1]"),
        ("/terms/amendments", rule_change({"k\x00": 1}), "rules[0].value.k"),
        ("/terms/amendments", rule_change(["x", "\x00"]), "rules[0].value[1]"),
    ]
    before = alliance.log()
    for path, body, field in cases:
        refused_naming(alliance.post(path, body), field, "U+0000")
    assert alliance.log() == before


def test_a_nul_in_a_query_or_path_is_refused_not_crashed(client, alliance):
    for response in (
        client.get("/v1/tenants", params={"region": "\x00"}, headers=ADMIN),
        client.get("/v1/tenants", params={"after": "a\x00"}, headers=ADMIN),
        alliance.get("/action-items", owner="\x00"),
        alliance.get("/members/%00"),
        alliance.get("/applications/a%00b"),
        client.get(f"/a/{SLUG}%00/"),
    ):
        refused_naming(response, "U+0000")


def test_tab_line_feed_and_carriage_return_are_kept_verbatim(alliance):
    text = "line one\r\nline two\n\tindented"

    made = alliance.ok("/applications", application(request_text=text))

    read = alliance.get(f"/applications/{made['application_id']}").json()
    assert read["request_text"] == text


def test_a_body_that_is_not_utf8_is_malformed_json_not_a_crash(alliance):
    before = alliance.log()

    response = alliance.post_raw("/applications", b'{"name": "\xff\xfe", "request_text": "x"}')

    assert problem(response, 400)["type"] == "urn:concord:problem:malformed-json"
    assert alliance.log() == before


def test_hostile_but_printable_text_is_stored_and_read_back_verbatim(client, alliance):
    tenant = {
        "slug": "rtl-fja",
        "name": HOSTILE,
        "region": HOSTILE[:100],
        "template": "family-justice",
    }
    assert client.post("/v1/tenants", json=tenant, headers=ADMIN).status_code == 201

    made = alliance.ok("/applications", application(name=HOSTILE, request_text=HOSTILE * 3))

    read_tenant = client.get("/v1/tenants/rtl-fja", headers=ADMIN).json()["tenant"]
    assert read_tenant["name"] == HOSTILE
    assert read_tenant["region"] == HOSTILE[:100]
    read = alliance.get(f"/applications/{made['application_id']}").json()
    assert read["name"] == HOSTILE
    assert read["request_text"] == HOSTILE * 3
    recorded = [e for e in alliance.log() if e["data"].get("request_text") == HOSTILE * 3]
    assert len(recorded) == 1
    # Byte for byte, as UTF-8: no normalisation (NFC would fold "e" + U+0301 into "é").
    assert read["name"].encode() == HOSTILE.encode()
    assert "e\u0301" in read["name"] and "\u00e9" not in read["name"]


# ----------------------------------------------------------------------------- found elsewhere


@pytest.mark.parametrize("field", ["name", "region"])
def test_onboarding_outside_the_api_refuses_control_characters_and_records_nothing(
    postgres_url, tmp_path, telemetry, field
):
    """The domain keeps the API's text rule too (the CLI onboards without the API): an
    event a read model cannot store (NUL, on PostgreSQL) is never recorded, so it can
    never wedge the directory projection for every later onboarding."""
    settings = Settings(
        database_url=postgres_url, data_dir=str(tmp_path / "var"), admin_key=ADMIN_KEY
    )
    with TestClient(create_app(settings, telemetry=telemetry)) as client:
        runtime = client.app.state.runtime
        fields = {"name": "Kent", "region": "Kent"} | {field: "N\x00L"}
        with pytest.raises(InvalidText, match=f"{field}: contains the control character U"):
            onboarding.onboard(
                runtime, slug="nul-alliance", template="family-justice", by="operator", **fields
            )
        body = {"slug": SLUG, "name": "Kent", "region": "Kent", "template": "family-justice"}

        response = client.post("/v1/tenants", json=body, headers=ADMIN)

        assert response.status_code == 201, response.text
        listed = client.get("/v1/tenants", headers=ADMIN).json()["items"]
        assert [t["slug"] for t in listed] == [SLUG]
