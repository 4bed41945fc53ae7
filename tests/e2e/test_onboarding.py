"""Onboarding through the HTTP API: the umbrella registers an alliance and its history begins."""

from __future__ import annotations

from typing import Any

from domain.tenant import Tenant
from tests.conftest import ADMIN, bearer


def test_onboarding_returns_the_tenant_and_a_tenant_admin_key_shown_once(client, onboard):
    body = onboard("kent-fja", name="Kent Family Justice Alliance", region="Kent")

    assert body["tenant"]["slug"] == "kent-fja"
    assert body["tenant"]["name"] == "Kent Family Justice Alliance"
    assert body["tenant"]["region"] == "Kent"
    assert body["tenant"]["status"] == "active"
    key = body["admin_key"]
    assert key["role"] == "tenant-admin" and key["tenant"] == "kent-fja"
    assert key["secret"].startswith("cnc_") and len(key["secret"]) > 40

    me = client.get("/v1/me", headers=bearer(key["secret"])).json()
    assert me == {
        "key_id": key["id"],
        "role": "tenant-admin",
        "tenant": "kent-fja",
        "member_id": None,
    }
    listed = client.get("/v1/tenants/kent-fja/keys", headers=bearer(key["secret"])).json()
    assert "secret" not in listed["items"][0]
    assert key["secret"] not in str(listed)


def test_the_first_event_of_the_alliance_store_is_alliance_founded(client, onboard):
    body = onboard("york-ssf", template="separated-families", region="Yorkshire")

    log = client.get("/v1/tenants/york-ssf/events", headers=bearer(body["admin_key"]["secret"]))

    assert log.status_code == 200
    first = log.json()["items"][0]
    assert first["position"] == 1
    assert first["type"] == "AllianceFounded"
    assert first["version"] == 1
    assert first["data"]["slug"] == "york-ssf"
    assert first["data"]["template"] == "separated-families"
    assert first["data"]["region"] == "Yorkshire"
    me = client.get("/v1/me", headers=ADMIN).json()
    assert first["data"]["founded_by"] == f"key:{me['key_id']}"


def test_every_template_of_the_five_source_alliances_can_be_chosen(client, onboard):
    templates = [
        "family-justice",
        "separated-families",
        "children-in-care",
        "kinship-network",
        "kinship-care",
    ]
    for index, template in enumerate(templates):
        assert onboard(f"alliance-{index}", template=template)["tenant"]["template"] == template


def test_an_unknown_template_is_refused_with_the_choices(client):
    response = client.post(
        "/v1/tenants",
        json={"slug": "kent-fja", "name": "K", "region": "R", "template": "book-club"},
        headers=ADMIN,
    )

    assert response.status_code == 422
    assert "family-justice" in response.json()["detail"]


def test_a_slug_can_be_onboarded_only_once(client, onboard):
    onboard("kent-fja")

    again = client.post(
        "/v1/tenants",
        json={"slug": "kent-fja", "name": "Another", "region": "R", "template": "kinship-care"},
        headers=ADMIN,
    )

    assert again.status_code == 409
    assert again.headers["content-type"].startswith("application/problem+json")
    assert "already exists" in again.json()["detail"]
    directory = client.get("/v1/tenants", headers=ADMIN).json()["items"]
    assert [t["name"] for t in directory] == ["Kent Fja Alliance"]


def test_the_directory_lists_alliances_in_slug_order_a_page_at_a_time(client, onboard):
    for slug in ["delta", "alpha", "echo", "charlie", "bravo"]:
        onboard(slug)

    seen: list[str] = []
    after: Any = None
    pages = 0
    while True:
        params = {"limit": 2} | ({"after": after} if after else {})
        page = client.get("/v1/tenants", params=params, headers=ADMIN).json()
        seen += [t["slug"] for t in page["items"]]
        pages += 1
        after = page["next_after"]
        if after is None:
            break

    assert seen == ["alpha", "bravo", "charlie", "delta", "echo"]
    assert pages == 3


def test_the_directory_filters_by_region_and_status(client, onboard):
    onboard("kent-fja", region="Kent")
    onboard("york-ssf", region="Yorkshire")
    client.post("/v1/tenants/york-ssf/suspend", json={"reason": "unpaid"}, headers=ADMIN)

    kent = client.get("/v1/tenants", params={"region": "Kent"}, headers=ADMIN).json()
    suspended = client.get("/v1/tenants", params={"status": "suspended"}, headers=ADMIN).json()

    assert [t["slug"] for t in kent["items"]] == ["kent-fja"]
    assert [t["slug"] for t in suspended["items"]] == ["york-ssf"]


def test_page_size_outside_its_bounds_is_refused(client):
    for limit in (0, 201, -1):
        response = client.get("/v1/tenants", params={"limit": limit}, headers=ADMIN)
        assert response.status_code == 400 or response.status_code == 422, response.text
        assert response.headers["content-type"].startswith("application/problem+json")


def test_a_tenant_is_shown_to_the_platform_and_to_its_own_keys_with_its_profile(client, onboard):
    body = onboard("kent-fja", name="Kent FJA")

    by_admin = client.get("/v1/tenants/kent-fja", headers=ADMIN)
    by_own = client.get("/v1/tenants/kent-fja", headers=bearer(body["admin_key"]["secret"]))

    assert by_admin.status_code == 200 and by_own.status_code == 200
    assert by_admin.json() == by_own.json()
    assert by_own.json()["alliance"]["name"] == "Kent FJA"
    assert by_own.json()["tenant"]["status"] == "active"


def test_an_unknown_tenant_is_not_found_for_the_platform_admin(client):
    response = client.get("/v1/tenants/nowhere", headers=ADMIN)

    assert response.status_code == 404
    assert response.json()["status"] == 404


def test_an_onboarding_cut_short_after_registration_is_finished_by_trying_again(client):
    runtime = client.app.state.runtime
    # As if the process died after claiming the slug and before founding the store.
    runtime.platform.record(
        Tenant(
            slug="kent-fja",
            name="Kent",
            region="Kent",
            template="family-justice",
            onboarded_by="key:earlier",
        )
    )
    half = client.get("/v1/tenants/kent-fja", headers=ADMIN)
    assert half.status_code == 200 and half.json()["alliance"] is None

    retried = client.post(
        "/v1/tenants",
        json={"slug": "kent-fja", "name": "Kent", "region": "Kent", "template": "family-justice"},
        headers=ADMIN,
    )

    assert retried.status_code == 201, retried.text
    secret = retried.json()["admin_key"]["secret"]
    log = client.get("/v1/tenants/kent-fja/events", headers=bearer(secret)).json()["items"]
    assert [event["type"] for event in log] == ["AllianceFounded", "TermsOfReferenceAdopted"]
    assert log[0]["data"]["founded_by"] == "key:earlier"
