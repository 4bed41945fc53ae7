"""Mass assignment: a client can never set who it is, where it writes, or what version or
author a record has. Fields with such names are refused by name on every operation, and
no request schema has one unless it means something else there (the allow-list says what).

Operations come from the live OpenAPI document, so a new endpoint is covered the day it
is added.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import ADMIN, bearer
from tests.e2e.permission_matrix import ACCESS

SLUG = "kent-fja"

#: Names a client must never set: the platform takes them from the key, the URL, the
#: clock or the store.
FORBIDDEN = [
    "tenant",
    "tenant_id",
    "slug",
    "role",
    "version",
    "author",
    "recorded_by",
    "recorded_at",
    "voter",
    "member_id",
    "key_id",
    "id",
    "by",
    "actor",
]

#: (operationId, field path) -> why a request may carry a field of a forbidden name.
ALLOWED: dict[tuple[str, str], str] = {
    ("onboardTenant", "slug"): "the slug of the alliance being created, chosen by the "
    "platform admin (the platform's own records are keyed by it)",
    ("issueKey", "role"): "the role of the key being issued (a tenant-admin may issue only "
    "tenant roles: platform-admin is refused)",
    ("issueKey", "member_id"): "the member organisation a new member key speaks for (it must "
    "be a member of this alliance)",
    ("addRepresentative", "role"): "the person's job at their organisation, e.g. 'Chief "
    "executive': text, not an access role",
    ("replaceRepresentative", "role"): "as for addRepresentative",
    ("appointToOffice", "member_id"): "the organisation appointed to the office",
    ("recordElectionResult", "member_id"): "the organisation elected to the office",
    ("takeCommitteeSeat", "member_id"): "the organisation taking the seat",
    ("joinWorkingGroup", "member_id"): "the organisation joining the group",
    ("holdMeeting", "attendance[].member_id"): "an organisation recorded as attending",
    ("castVote", "member_id"): "the organisation whose vote is recorded: a member key may "
    "name only its own organisation (else 403); an officer records a vote given in the room",
    ("castBallot", "member_id"): "as for castVote",
    ("nominateCandidate", "member_id"): "the organisation nominated: a member key may name "
    "only its own (else 403)",
    ("proposeMotion", "decides.member_id"): "the organisation the motion would appoint",
}

#: Values for the path parameters of any operation. The body is refused before any of
#: them is looked up, so they need only be well-formed.
PATH_VALUES = {
    "{slug}": SLUG,
    "{year}": "2030",
    "{office}": "chair",
    "{body_key}": "executive-committee",
    "{number}": "1",
}


def openapi(client) -> dict[str, Any]:
    return dict(client.get("/schema/openapi.json").json())


def operations_with_a_body(document: dict[str, Any]) -> list[tuple[str, str, str, Any]]:
    """(operationId, method, path, the body's schema) of every operation that takes one."""
    found = []
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if isinstance(operation, dict) and "requestBody" in operation:
                (content,) = operation["requestBody"]["content"].values()
                found.append((operation["operationId"], method, path, content["schema"]))
    return sorted(found)


def field_paths(document: dict[str, Any], schema: Any, prefix: str = "") -> set[str]:
    """Every field path in a schema, nested objects and arrays of objects included."""
    schemas = document["components"]["schemas"]
    found: set[str] = set()

    def walk(node: Any, path: str, seen: frozenset[str]) -> None:
        if "$ref" in node:
            name = node["$ref"].rsplit("/", 1)[-1]
            if name not in seen:
                walk(schemas[name], path, seen | {name})
            return
        for key in ("oneOf", "anyOf", "allOf"):
            for option in node.get(key, []):
                walk(option, path, seen)
        if "items" in node:
            walk(node["items"], f"{path}[]", seen)
        for name, child in node.get("properties", {}).items():
            child_path = f"{path}.{name}" if path else name
            found.add(child_path)
            walk(child, child_path, seen)

    walk(schema, prefix, frozenset())
    return found


def forbidden_name(path: str) -> str | None:
    name = path.rsplit(".", 1)[-1].removesuffix("[]")
    return name if name in FORBIDDEN else None


def test_no_request_schema_has_a_forbidden_field_except_the_allowed_ones(client):
    document = openapi(client)

    found = {
        (operation, path)
        for operation, _, _, schema in operations_with_a_body(document)
        for path in field_paths(document, schema)
        if forbidden_name(path)
    }

    assert found - ALLOWED.keys() == set(), "new fields a client must not set"
    assert ALLOWED.keys() - found == set(), "stale allow-list entries"


def test_every_operation_with_a_body_is_known_to_the_permission_matrix(client):
    operations = operations_with_a_body(openapi(client))

    assert len(operations) >= 60
    assert {operation for operation, _, _, _ in operations} <= ACCESS.keys()


def event_log(client, headers: dict[str, str]) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    after = 0
    while True:
        page = client.get(
            f"/v1/tenants/{SLUG}/events", params={"after": after, "limit": 1000}, headers=headers
        ).json()
        events += page["items"]
        if page["next_after"] is None:
            return events
        after = page["next_after"]


@pytest.mark.parametrize("field", FORBIDDEN)
def test_a_forbidden_field_is_refused_by_name_on_every_operation(client, onboard, field):
    admin = bearer(onboard(SLUG)["admin_key"]["secret"])
    document = openapi(client)
    log_before = event_log(client, admin)
    tenants_before = client.get("/v1/tenants", headers=ADMIN).json()
    tried = 0

    for operation, method, path, schema in operations_with_a_body(document):
        if field in field_paths(document, schema):
            continue  # a real field of this operation (the schema test above vets it)
        url = path
        for placeholder, value in PATH_VALUES.items():
            url = url.replace(placeholder, value)
        url = "/".join("canary-id" if part.startswith("{") else part for part in url.split("/"))
        headers = ADMIN if "tenant-admin" not in ACCESS[operation] else admin

        response = client.request(
            method.upper(), url, json={field: "kent-fja-admin"}, headers=headers
        )

        assert response.status_code == 422, (operation, response.status_code, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
        assert f"`{field}`" in response.json()["detail"], (operation, response.text)
        tried += 1

    assert tried >= 50
    assert event_log(client, admin) == log_before
    assert client.get("/v1/tenants", headers=ADMIN).json() == tenants_before
