"""Tenant admins issue, list and revoke keys; a suspended alliance is read but never changed."""

from __future__ import annotations

from tests.conftest import ADMIN, bearer


def test_a_tenant_admin_issues_keys_of_each_tenant_role(client, onboard):
    admin = bearer(onboard("kent-fja")["admin_key"]["secret"])

    for role in ("tenant-admin", "officer", "member", "auditor"):
        issued = client.post(
            "/v1/tenants/kent-fja/keys",
            json={"role": role, "label": f"{role} of Kent"},
            headers=admin,
        )
        assert issued.status_code == 201
        me = client.get("/v1/me", headers=bearer(issued.json()["secret"])).json()
        assert me["role"] == role and me["tenant"] == "kent-fja"


def test_a_tenant_key_can_never_carry_the_platform_admin_role(client, onboard):
    admin = bearer(onboard("kent-fja")["admin_key"]["secret"])

    for role in ("platform-admin", "chair", ""):
        refused = client.post(
            "/v1/tenants/kent-fja/keys", json={"role": role, "label": "escalation"}, headers=admin
        )
        assert refused.status_code == 422, role
        assert "tenant-admin, officer, member, auditor" in refused.json()["detail"]


def test_a_revoked_key_is_refused_at_once_and_listed_as_revoked(client, onboard):
    admin = bearer(onboard("kent-fja")["admin_key"]["secret"])
    officer = client.post(
        "/v1/tenants/kent-fja/keys", json={"role": "officer", "label": "secretary"}, headers=admin
    ).json()
    assert client.get("/v1/tenants/kent-fja", headers=bearer(officer["secret"])).status_code == 200

    revoked = client.delete(f"/v1/tenants/kent-fja/keys/{officer['id']}", headers=admin)

    assert revoked.status_code == 204
    assert client.get("/v1/tenants/kent-fja", headers=bearer(officer["secret"])).status_code == 401
    listed = client.get(f"/v1/tenants/kent-fja/keys/{officer['id']}", headers=admin).json()
    assert listed["revoked"] is True
    assert listed["revoked_by"].startswith("key:")
    again = client.delete(f"/v1/tenants/kent-fja/keys/{officer['id']}", headers=admin)
    assert again.status_code == 409


def test_revoking_an_unknown_or_malformed_key_id_is_not_found(client, onboard):
    admin = bearer(onboard("kent-fja")["admin_key"]["secret"])

    for key_id in ("00000000-0000-0000-0000-000000000000", "not-a-uuid", "x" * 200):
        response = client.delete(f"/v1/tenants/kent-fja/keys/{key_id}", headers=admin)
        assert response.status_code == 404, key_id
    # Longer than any path segment may be (services/api/limits.py): refused as such.
    too_long = client.delete(f"/v1/tenants/kent-fja/keys/{'x' * 201}", headers=admin)
    assert too_long.status_code == 422, too_long.text
    assert "200" in too_long.json()["detail"]


def test_key_listing_is_paginated_and_never_shows_secrets(client, onboard):
    first = onboard("kent-fja")["admin_key"]
    admin = bearer(first["secret"])
    secrets = [first["secret"]]
    for number in range(4):
        secrets.append(
            client.post(
                "/v1/tenants/kent-fja/keys",
                json={"role": "member", "label": f"m{number}"},
                headers=admin,
            ).json()["secret"]
        )

    ids, after = [], None
    while True:
        page = client.get(
            "/v1/tenants/kent-fja/keys",
            params={"limit": 2} | ({"after": after} if after else {}),
            headers=admin,
        ).json()
        ids += [item["id"] for item in page["items"]]
        text = str(page)
        assert not any(secret in text for secret in secrets)
        after = page["next_after"]
        if after is None:
            break

    assert len(ids) == 5 and len(set(ids)) == 5 and ids == sorted(ids)


def test_a_suspended_alliance_can_be_read_but_not_changed(client, onboard):
    admin = bearer(onboard("kent-fja")["admin_key"]["secret"])

    suspended = client.post(
        "/v1/tenants/kent-fja/suspend", json={"reason": "governance review"}, headers=ADMIN
    )

    assert suspended.status_code == 200
    assert suspended.json()["status"] == "suspended"
    assert suspended.json()["status_reason"] == "governance review"
    refused = client.post(
        "/v1/tenants/kent-fja/keys", json={"role": "member", "label": "new"}, headers=admin
    )
    assert refused.status_code == 409
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert refused.json()["type"] == "urn:concord:problem:tenant-suspended"
    assert "suspended" in refused.json()["detail"]
    assert client.get("/v1/tenants/kent-fja", headers=admin).status_code == 200
    assert client.get("/v1/tenants/kent-fja/events", headers=admin).status_code == 200
    assert (
        client.get("/v1/tenants/kent-fja/keys", headers=admin).json()["items"][0]["revoked"]
        is False
    )


def test_keys_can_still_be_revoked_while_suspended(client, onboard):
    key = onboard("kent-fja")["admin_key"]
    client.post("/v1/tenants/kent-fja/suspend", json={"reason": "leaked key"}, headers=ADMIN)

    revoked = client.delete(f"/v1/tenants/kent-fja/keys/{key['id']}", headers=bearer(key["secret"]))

    assert revoked.status_code == 204
    assert client.get("/v1/me", headers=bearer(key["secret"])).status_code == 401


def test_reinstating_lets_the_alliance_act_again(client, onboard):
    admin = bearer(onboard("kent-fja")["admin_key"]["secret"])
    client.post("/v1/tenants/kent-fja/suspend", json={"reason": "review"}, headers=ADMIN)

    reinstated = client.post("/v1/tenants/kent-fja/reinstate", headers=ADMIN)

    assert reinstated.status_code == 200 and reinstated.json()["status"] == "active"
    issued = client.post(
        "/v1/tenants/kent-fja/keys", json={"role": "member", "label": "back"}, headers=admin
    )
    assert issued.status_code == 201


def test_suspending_twice_or_reinstating_an_active_alliance_is_a_conflict(client, onboard):
    onboard("kent-fja")

    assert client.post("/v1/tenants/kent-fja/reinstate", headers=ADMIN).status_code == 409
    client.post("/v1/tenants/kent-fja/suspend", json={"reason": "a"}, headers=ADMIN)
    twice = client.post("/v1/tenants/kent-fja/suspend", json={"reason": "b"}, headers=ADMIN)
    assert twice.status_code == 409
    assert twice.json()["type"] == "urn:concord:problem:tenant-already-suspended"


def test_suspending_an_unknown_alliance_is_not_found(client):
    response = client.post("/v1/tenants/nowhere/suspend", json={"reason": "x"}, headers=ADMIN)

    assert response.status_code == 404
