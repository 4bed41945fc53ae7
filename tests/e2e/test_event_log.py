"""The tenant's event log: complete, in order, paged; the auditor's raw view."""

from __future__ import annotations

from services import access
from tests.conftest import bearer


def test_the_log_is_read_whole_by_following_next_after(client, onboard):
    secret = onboard("kent-fja")["admin_key"]["secret"]
    # More history than a few pages: founding (2 events) and eleven proposed amendments.
    for number in range(11):
        proposed = client.post(
            "/v1/tenants/kent-fja/terms/amendments",
            json={
                "rationale": f"amendment {number}",
                "rules": [{"path": "membership.max_representatives", "value": number + 3}],
            },
            headers=bearer(secret),
        )
        assert proposed.status_code == 201, proposed.text

    positions, types, after = [], [], 0
    while True:
        page = client.get(
            "/v1/tenants/kent-fja/events",
            params={"after": after, "limit": 5},
            headers=bearer(secret),
        ).json()
        positions += [item["position"] for item in page["items"]]
        types += [item["type"] for item in page["items"]]
        if page["next_after"] is None:
            break
        after = page["next_after"]

    assert positions == list(range(1, 14))
    assert types[:2] == ["AllianceFounded", "TermsOfReferenceAdopted"]
    assert types[2:] == ["TermsOfReferenceAmendmentProposed"] * 11


def test_each_logged_event_says_where_when_and_what(client, onboard):
    secret = onboard("kent-fja")["admin_key"]["secret"]

    item = client.get("/v1/tenants/kent-fja/events", headers=bearer(secret)).json()["items"][0]

    assert set(item) == {"position", "aggregate_id", "version", "type", "timestamp", "data"}
    assert item["timestamp"].endswith("Z") or "+00:00" in item["timestamp"]
    assert len(item["aggregate_id"]) == 36


def test_an_auditor_reads_the_log_and_an_officer_or_member_may_not(client, onboard):
    admin = bearer(onboard("kent-fja")["admin_key"]["secret"])
    keys = {
        role: client.post(
            "/v1/tenants/kent-fja/keys", json={"role": role, "label": role}, headers=admin
        ).json()["secret"]
        for role in ("auditor", "officer", "member")
    }

    assert (
        client.get("/v1/tenants/kent-fja/events", headers=bearer(keys["auditor"])).status_code
        == 200
    )
    assert (
        client.get("/v1/tenants/kent-fja/events", headers=bearer(keys["officer"])).status_code
        == 403
    )
    assert (
        client.get("/v1/tenants/kent-fja/events", headers=bearer(keys["member"])).status_code == 403
    )


def test_one_alliance_log_holds_none_of_another_alliance_events(client, onboard):
    kent = onboard("kent-fja")["admin_key"]["secret"]
    onboard("york-ssf")

    items = client.get("/v1/tenants/kent-fja/events", headers=bearer(kent)).json()["items"]

    assert {item["data"]["slug"] for item in items} == {"kent-fja"}
    assert "york" not in str(items)


def test_platform_events_never_reach_an_alliance_log(client, onboard):
    kent = onboard("kent-fja")["admin_key"]["secret"]
    runtime = client.app.state.runtime
    access.issue_key(runtime, tenant="kent-fja", role=access.Role.MEMBER, label="x", issued_by="t")

    types = [
        i["type"]
        for i in client.get("/v1/tenants/kent-fja/events", headers=bearer(kent)).json()["items"]
    ]

    assert types == ["AllianceFounded", "TermsOfReferenceAdopted"]
