"""Tenants are walls: every operation of the API, called across the wall and by every role.

Operations come from the live OpenAPI document, so a new endpoint without an entry in
ACCESS fails this suite until someone decides who may call it.
"""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from tests.conftest import ADMIN, bearer

PUBLIC = "public"
ANY_KEY = "any-key"

_fresh = itertools.count()


def amendment() -> dict[str, Any]:
    """A valid amendment, different each time (so no two leave the ToR the same)."""
    return {
        "rationale": "wall check",
        "rules": [{"path": "membership.max_representatives", "value": 3 + next(_fresh)}],
    }


READERS = {"platform-admin", "tenant-admin", "officer", "member", "auditor"}
EDITORS = {"tenant-admin", "officer"}

# operationId -> who may call it. Tenant roles act on their own alliance only.
ACCESS: dict[str, set[str]] = {
    "health": {PUBLIC},
    "whoAmI": {ANY_KEY},
    "onboardTenant": {"platform-admin"},
    "listTenants": {"platform-admin"},
    "getTenant": {"platform-admin", "tenant-admin", "officer", "member", "auditor"},
    "suspendTenant": {"platform-admin"},
    "reinstateTenant": {"platform-admin"},
    "issueKey": {"tenant-admin"},
    "listKeys": {"tenant-admin"},
    "getKey": {"tenant-admin"},
    "revokeKey": {"tenant-admin"},
    "readEventLog": {"tenant-admin", "auditor"},
    "listTemplates": {ANY_KEY},
    "getTemplate": {ANY_KEY},
    "getTermsInForce": READERS,
    "listTermsVersions": READERS,
    "getTermsVersion": READERS,
    "diffTermsVersions": READERS,
    "getTermsReview": READERS,
    "listAmendments": READERS,
    "getAmendment": READERS,
    "proposeAmendment": EDITORS,
    "approveAmendment": EDITORS,
    "rejectAmendment": EDITORS,
    "withdrawAmendment": EDITORS,
    "openTermsReview": EDITORS,
    "concludeTermsReview": EDITORS,
}
TENANT_ROLES = ["tenant-admin", "officer", "member", "auditor"]


def operations(client) -> list[tuple[str, str, str]]:
    document = client.get("/schema/openapi.json").json()
    found = []
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method in {"get", "post", "put", "patch", "delete"}:
                found.append((operation["operationId"], method.upper(), path))
    return sorted(found)


class World:
    """Two alliances, A and B, with a key of every role in each."""

    def __init__(self, client, onboard) -> None:
        self.client = client
        self.keys: dict[str, dict[str, dict[str, Any]]] = {}
        self.amendments: dict[str, str] = {}
        for slug in ("alpha-alliance", "beta-alliance"):
            admin = onboard(slug, name=f"Canary {slug} name")["admin_key"]
            self.keys[slug] = {"tenant-admin": admin}
            proposed = client.post(
                f"/v1/tenants/{slug}/terms/amendments",
                json=amendment(),
                headers=bearer(admin["secret"]),
            )
            assert proposed.status_code == 201, proposed.text
            self.amendments[slug] = proposed.json()["amendment_id"]
            for role in TENANT_ROLES[1:]:
                issued = client.post(
                    f"/v1/tenants/{slug}/keys",
                    json={"role": role, "label": f"{role} key"},
                    headers=bearer(admin["secret"]),
                )
                assert issued.status_code == 201, issued.text
                self.keys[slug][role] = issued.json()

    def headers(self, slug: str, role: str) -> dict[str, str]:
        if role == "platform-admin":
            return ADMIN
        return bearer(self.keys[slug][role]["secret"])

    def call(
        self,
        operation: str,
        method: str,
        path: str,
        target: str,
        headers: dict[str, str],
        *,
        fresh_victim: bool = True,
    ):
        """Call an operation on alliance `target` with a valid request (a revocation
        targets a key made for the purpose unless fresh_victim is False)."""
        admin = bearer(self.keys[target]["tenant-admin"]["secret"])
        key_id = self.keys[target]["member"]["id"]
        body: Any = None
        if operation == "onboardTenant":
            body = {
                "slug": f"fresh-{next(_fresh)}",
                "name": "Fresh",
                "region": "R",
                "template": "kinship-care",
            }
        elif operation == "suspendTenant":
            body = {"reason": "checking the walls"}
        elif operation == "issueKey":
            body = {"role": "member", "label": "wall check"}
        elif operation == "revokeKey" and fresh_victim:
            victim = self.client.post(
                f"/v1/tenants/{target}/keys",
                json={"role": "member", "label": "victim"},
                headers=admin,
            )
            key_id = victim.json()["id"]
        elif operation == "proposeAmendment":
            body = amendment()
        elif operation == "approveAmendment":
            body = {"body": "full-membership", "decision_ref": "wall check"}
        elif operation == "rejectAmendment":
            body = {"reason": "wall check", "decision_ref": "wall check"}
        elif operation == "concludeTermsReview":
            body = {"outcome": "no-change"}
        amendment_id = self.amendments[target]
        if (
            operation in {"approveAmendment", "rejectAmendment", "withdrawAmendment"}
            and fresh_victim
        ):
            amendment_id = self.client.post(
                f"/v1/tenants/{target}/terms/amendments", json=amendment(), headers=admin
            ).json()["amendment_id"]
        url = (
            path.replace("{slug}", target)
            .replace("{key_id}", key_id)
            .replace("{amendment_id}", amendment_id)
            .replace("{number}", "1")
            .replace("{name}", "children-in-care")
        )
        if operation == "diffTermsVersions":
            url += "?from=1&to=1"
        return self.client.request(method, url, json=body, headers=headers)


@pytest.fixture
def world(client, onboard) -> World:
    return World(client, onboard)


def test_every_operation_has_a_decided_access_rule(client):
    ids = {operation for operation, _, _ in operations(client)}

    assert ids == set(ACCESS), f"decide who may call: {sorted(ids ^ set(ACCESS))}"


def test_a_key_of_one_alliance_finds_nothing_of_another(world, client):
    for operation, method, path in operations(client):
        if "{slug}" not in path:
            continue
        for role in TENANT_ROLES:
            response = world.call(
                operation, method, path, "alpha-alliance", world.headers("beta-alliance", role)
            )
            assert response.status_code == 404, (operation, role, response.text)
            assert "Canary alpha" not in response.text
            assert response.headers["content-type"].startswith("application/problem+json")


def test_across_the_wall_nothing_changes(world, client):
    before_log = client.get(
        "/v1/tenants/alpha-alliance/events", headers=world.headers("alpha-alliance", "auditor")
    ).json()
    before_keys = client.get(
        "/v1/tenants/alpha-alliance/keys", headers=world.headers("alpha-alliance", "tenant-admin")
    ).json()

    for operation, method, path in operations(client):
        if "{slug}" in path and method != "GET":
            for role in TENANT_ROLES:
                world.call(
                    operation,
                    method,
                    path,
                    "alpha-alliance",
                    world.headers("beta-alliance", role),
                    fresh_victim=False,
                )

    after_log = client.get(
        "/v1/tenants/alpha-alliance/events", headers=world.headers("alpha-alliance", "auditor")
    ).json()
    after_keys = client.get(
        "/v1/tenants/alpha-alliance/keys", headers=world.headers("alpha-alliance", "tenant-admin")
    ).json()
    assert after_log == before_log
    assert after_keys == before_keys
    entry = client.get("/v1/tenants/alpha-alliance", headers=ADMIN).json()["tenant"]
    assert entry["status"] == "active"


def test_each_role_gets_exactly_the_operations_it_is_allowed(world, client):
    for operation, method, path in operations(client):
        allowed = ACCESS[operation]
        for role in ["platform-admin", *TENANT_ROLES]:
            response = world.call(
                operation, method, path, "alpha-alliance", world.headers("alpha-alliance", role)
            )
            if PUBLIC in allowed or ANY_KEY in allowed or role in allowed:
                assert response.status_code in (200, 201, 204, 409), (
                    operation,
                    role,
                    response.text,
                )
            else:
                assert response.status_code == 403, (operation, role, response.text)
            if operation == "suspendTenant" and response.status_code == 200:
                client.post("/v1/tenants/alpha-alliance/reinstate", headers=ADMIN)


def test_without_a_key_or_with_a_bad_one_only_public_operations_answer(world, client):
    revoked = world.keys["alpha-alliance"]["officer"]
    client.delete(
        f"/v1/tenants/alpha-alliance/keys/{revoked['id']}",
        headers=world.headers("alpha-alliance", "tenant-admin"),
    )
    callers = {
        "no key": {},
        "revoked key": bearer(revoked["secret"]),
        "unknown key": bearer("cnc_" + "x" * 43),
        "not bearer": {"Authorization": "Basic dXNlcjpwYXNz"},
        "empty bearer": {"Authorization": "Bearer "},
    }
    for operation, method, path in operations(client):
        for caller, headers in callers.items():
            response = world.call(operation, method, path, "alpha-alliance", headers)
            if PUBLIC in ACCESS[operation]:
                assert response.status_code == 200, (operation, caller)
            else:
                assert response.status_code == 401, (operation, caller, response.text)
                assert response.headers["www-authenticate"].startswith("Bearer")
                assert "Canary alpha" not in response.text


def test_a_platform_admin_cannot_read_an_alliance_log(world, client):
    response = client.get("/v1/tenants/alpha-alliance/events", headers=ADMIN)

    assert response.status_code == 403


def test_tenant_keys_cannot_see_the_national_directory(world, client):
    for role in TENANT_ROLES:
        response = client.get("/v1/tenants", headers=world.headers("alpha-alliance", role))
        assert response.status_code == 403
        assert "beta-alliance" not in response.text
