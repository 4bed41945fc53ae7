"""Onboarding through the HTTP API: the umbrella registers an alliance and its history begins."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest
from click.testing import CliRunner

from domain.offices import OfficeRoll
from domain.tenant import Tenant
from domain.terms import TermsOfReference, add_months
from services import offices, terms
from services.cli import main
from services.runtime import Runtime
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


# ----------------------------------------------------------------------------- founding details
# Onboarding from the umbrella (issue 10): a start date, the first officers and a modified
# template, all checked before anything is recorded.


def _today(client: Any) -> date:
    """Today (UTC), as onboarding reads it: the runtime's clock is pinned to the last
    second of today, so the server's today and the test's agree even if the test runs
    over midnight, and whatever is recorded today is recorded before "now"."""
    today = datetime.now(UTC).date()
    end_of_today = datetime.combine(today, time(23, 59, 59), tzinfo=UTC)
    client.app.state.runtime.clock = lambda: end_of_today
    return today


def test_the_start_date_is_when_version_one_takes_effect_and_its_review_counts_from(client):
    start = _today(client) - timedelta(days=75)
    body = {
        "slug": "acic",
        "name": "Children in Care Alliance",
        "region": "London",
        "template": "children-in-care",
        "start_date": start.isoformat(),
    }

    created = client.post("/v1/tenants", json=body, headers=ADMIN)

    assert created.status_code == 201, created.text
    own = bearer(created.json()["admin_key"]["secret"])
    current = client.get("/v1/tenants/acic/terms", headers=own).json()
    assert (current["number"], current["effective_from"]) == (1, start.isoformat())
    assert current["adopted_at"][:10] != start.isoformat()  # recorded today, not on it
    review = client.get("/v1/tenants/acic/terms/review", headers=own).json()
    assert review["due_on"] == add_months(start, 36).isoformat()  # three-yearly review
    assert review["overdue"] is False
    # The read model agrees with the aggregate's own rule.
    with client.app.state.runtime.tenant("acic") as store:
        charter = store.app.repository.get(TermsOfReference.create_id("acic"))
    assert charter.review_due_on().isoformat() == review["due_on"]


def test_a_start_date_still_to_come_shows_version_one_as_the_rules_it_runs_under(client):
    start = _today(client) + timedelta(days=40)

    created = client.post(
        "/v1/tenants",
        json={
            "slug": "kca",
            "name": "Kinship Care Alliance",
            "region": "Kent",
            "template": "kinship-care",
            "start_date": start.isoformat(),
        },
        headers=ADMIN,
    )

    assert created.status_code == 201, created.text
    own = bearer(created.json()["admin_key"]["secret"])
    current = client.get("/v1/tenants/kca/terms", headers=own)
    assert current.status_code == 200, current.text
    assert current.json()["effective_from"] == start.isoformat()
    review = client.get("/v1/tenants/kca/terms/review", headers=own).json()
    assert review["due_on"] == add_months(start, 12).isoformat()


def test_first_officers_hold_their_offices_from_the_start_date_for_the_term(client, backend):
    start = _today(client) - timedelta(days=30)
    body = {
        "slug": "acic",
        "name": "Children in Care Alliance",
        "region": "London",
        "template": "children-in-care",
        "start_date": start.isoformat(),
        "officers": [
            {"office": "co-chair", "organisation": "Coram Voice", "person_name": "Ada Lovelace"},
            {
                "office": "co-chair",
                "organisation": "Become",
                "person_name": "Mary Somerville",
                "decision_ref": "founding meeting, item 3",
            },
            {"office": "working-group-lead", "organisation": "Family Rights Group"},
        ],
    }

    created = client.post("/v1/tenants", json=body, headers=ADMIN)

    assert created.status_code == 201, created.text
    own = bearer(created.json()["admin_key"]["secret"])
    co_chairs = client.get("/v1/tenants/acic/offices/co-chair", headers=own).json()
    holders = [
        (h["organisation"], h["person_name"], h["starts_on"], h["ends_on"], h["via"])
        for h in co_chairs["holders"]
    ]
    ends = add_months(start, 24).isoformat()  # offices.co-chair.term_months
    assert holders == [
        ("Coram Voice", "Ada Lovelace", start.isoformat(), ends, "onboarding"),
        ("Become", "Mary Somerville", start.isoformat(), ends, "onboarding"),
    ]
    assert co_chairs["vacancies"] == 0
    assert [h["decision_ref"] for h in co_chairs["holders"]] == [None, "founding meeting, item 3"]
    assert {h["under_version"] for h in co_chairs["holders"]} == {1}
    lead = client.get("/v1/tenants/acic/offices/working-group-lead", headers=own).json()
    assert [(h["organisation"], h["ends_on"]) for h in lead["holders"]] == [
        ("Family Rights Group", None)  # no term: until replaced
    ]
    # Recorded by the platform admin, at onboarding, with the founding.
    log = client.get("/v1/tenants/acic/events", headers=own).json()["items"]
    me = client.get("/v1/me", headers=ADMIN).json()
    appointed = [e for e in log if e["type"] == "OfficeRollHolderAppointed"]
    assert len(appointed) == 3
    assert {(e["data"]["via"], e["data"]["by"]) for e in appointed} == {
        ("onboarding", f"key:{me['key_id']}")
    }
    # The holder's name is personal data: sealed in the store, as every holder's name.
    runtime = client.app.state.runtime
    with runtime.tenant("acic") as store:
        stored = store.app.recorder.select_events(OfficeRoll.create_id("co-chair"))
    raw = b"".join(bytes(s.state) for s in stored)
    assert b"sealed" in raw and b"Ada Lovelace" not in raw and b"Somerville" not in raw


def test_a_first_officers_name_is_erased_like_any_holders(client):
    created = client.post(
        "/v1/tenants",
        json={
            "slug": "kca",
            "name": "Kinship Care Alliance",
            "region": "Kent",
            "template": "kinship-care",
            "officers": [
                {"office": "chair", "organisation": "Grandparents Plus", "person_name": "Ada Byron"}
            ],
        },
        headers=ADMIN,
    )
    assert created.status_code == 201, created.text
    own = bearer(created.json()["admin_key"]["secret"])

    erased = client.post(
        "/v1/tenants/kca/privacy/erasures",
        json={"name": "Ada Byron", "reason": "asked to be forgotten"},
        headers=own,
    )

    assert erased.status_code == 201, erased.text
    assert erased.json()["keys_destroyed"] == 1
    chair = client.get("/v1/tenants/kca/offices/chair", headers=own).json()
    assert [(h["organisation"], h["person_name"]) for h in chair["holders"]] == [
        ("Grandparents Plus", "[erased]")
    ]


def test_a_modified_template_is_version_one_and_the_log_says_what_was_changed(client):
    start = _today(client)
    body = {
        "slug": "acic",
        "name": "Children in Care Alliance",
        "region": "London",
        "template": "children-in-care",
        "changes": {
            "rules": [{"path": "offices.co-chair.term_months", "value": 36}],
            "clauses": [{"number": "6.1", "text": "Co-chairs are elected for three years."}],
        },
        "officers": [{"office": "co-chair", "organisation": "Coram Voice"}],
    }

    created = client.post("/v1/tenants", json=body, headers=ADMIN)

    assert created.status_code == 201, created.text
    own = bearer(created.json()["admin_key"]["secret"])
    current = client.get("/v1/tenants/acic/terms", headers=own).json()
    [co_chair] = [o for o in current["rules"]["offices"] if o["key"] == "co-chair"]
    assert co_chair["term_months"] == 36
    [clause] = [c for c in current["clauses"] if c["number"] == "6.1"]
    assert clause["text"] == "Co-chairs are elected for three years."
    assert current["template"] == "children-in-care" and current["number"] == 1
    template = client.get("/v1/templates/children-in-care", headers=ADMIN).json()
    assert [o["term_months"] for o in template["rules"]["offices"] if o["key"] == "co-chair"] == [
        24
    ]
    # The officer's term is version 1's, as modified.
    office = client.get("/v1/tenants/acic/offices/co-chair", headers=own).json()
    assert office["term_months"] == 36
    assert [h["ends_on"] for h in office["holders"]] == [add_months(start, 36).isoformat()]
    log = client.get("/v1/tenants/acic/events", headers=own).json()["items"]
    [adopted] = [e for e in log if e["type"] == "TermsOfReferenceAdopted"]
    assert adopted["data"]["template"] == "children-in-care"
    assert [r["path"] for r in adopted["data"]["template_changes"]["rules"]] == [
        "offices.co-chair.term_months"
    ]


def test_an_unmodified_template_records_no_template_changes(client, onboard):
    secret = onboard("kent-fja")["admin_key"]["secret"]

    log = client.get("/v1/tenants/kent-fja/events", headers=bearer(secret)).json()["items"]

    [adopted] = [e for e in log if e["type"] == "TermsOfReferenceAdopted"]
    assert adopted["data"]["template_changes"] is None


GOOD = {
    "slug": "acic",
    "name": "Children in Care Alliance",
    "region": "London",
    "template": "children-in-care",
}


def _bad_inputs(today: date) -> list[tuple[str, dict[str, Any], int, list[str]]]:
    """(case, fields added to a good onboarding, status, what the problem must say)."""
    return [
        (
            "unknown office",
            {"officers": [{"office": "treasurer", "organisation": "Become"}]},
            422,
            ["officers[0]", "treasurer", "co-chair", "ToR clause 6"],
        ),
        (
            "two holders where the ToR allows one",
            {
                "officers": [
                    {"office": "co-chair", "organisation": "Coram Voice"},
                    {"office": "working-group-lead", "organisation": "Become"},
                    {"office": "working-group-lead", "organisation": "Family Rights Group"},
                ]
            },
            422,
            ["officers[2]", "1 seat(s), all filled", "ToR clause 7.1"],
        ),
        (
            "co-chairs from one organisation",
            {
                "officers": [
                    {"office": "co-chair", "organisation": "Become", "person_name": "A"},
                    {"office": "co-chair", "organisation": "Become", "person_name": "B"},
                ]
            },
            422,
            ["officers[1]", "different organisations", "ToR clause 6"],
        ),
        (
            "a change amendment validation refuses",
            {
                "changes": {
                    "rules": [
                        {"path": "decisions.full-membership.casting_vote_office", "value": "x"}
                    ]
                }
            },
            422,
            ["casting vote", "ToR clause 5"],
        ),
        (
            "an officer of an office the changes removed",
            {
                "changes": {"rules": [{"path": "offices.working-group-lead", "value": None}]},
                "officers": [{"office": "working-group-lead", "organisation": "Become"}],
            },
            422,
            ["officers[0]", "working-group-lead"],
        ),
        (
            "start date too early",
            {"start_date": (add_months(today, -12) - timedelta(days=1)).isoformat()},
            422,
            ["start_date", add_months(today, -12).isoformat()],
        ),
        (
            "start date too late",
            {"start_date": (add_months(today, 12) + timedelta(days=1)).isoformat()},
            422,
            ["start_date", add_months(today, 12).isoformat()],
        ),
        ("malformed date", {"start_date": "2026-02-30"}, 422, ["start_date"]),
        ("not a date", {"start_date": "next tuesday"}, 422, ["start_date"]),
    ]


BAD_CASES = [
    "unknown office",
    "two holders where the ToR allows one",
    "co-chairs from one organisation",
    "a change amendment validation refuses",
    "an officer of an office the changes removed",
    "start date too early",
    "start date too late",
    "malformed date",
    "not a date",
]


@pytest.mark.parametrize("case", BAD_CASES)
def test_a_refused_onboarding_records_nothing_and_the_slug_stays_free(client, case):
    [(name, extra, status, said)] = [c for c in _bad_inputs(_today(client)) if c[0] == case]
    runtime = client.app.state.runtime
    tenants_before = client.get("/v1/tenants", headers=ADMIN).json()["items"]

    refused = client.post("/v1/tenants", json=GOOD | extra, headers=ADMIN)

    assert refused.status_code == status, (name, refused.text)
    assert refused.headers["content-type"].startswith("application/problem+json")
    problem = json.dumps(refused.json())
    assert [s for s in said if s not in problem] == [], (name, problem)
    assert client.get("/v1/tenants/acic", headers=ADMIN).status_code == 404
    assert client.get("/v1/tenants", headers=ADMIN).json()["items"] == tenants_before
    assert not runtime.backend.exists("acic")
    # Nothing claimed the slug: the same alliance, asked for correctly, is onboarded.
    again = client.post("/v1/tenants", json=GOOD, headers=ADMIN)
    assert again.status_code == 201, again.text
    log = client.get(
        "/v1/tenants/acic/events", headers=bearer(again.json()["admin_key"]["secret"])
    ).json()["items"]
    assert [e["type"] for e in log] == ["AllianceFounded", "TermsOfReferenceAdopted"]


# ----------------------------------------------------------------------------- the CLI


@pytest.fixture
def concord(settings, monkeypatch):
    """Run `concord ...` with the test's settings in the environment."""
    for field in settings.__struct_fields__:
        value = getattr(settings, field)
        variable = f"CONCORD_{field.upper()}"
        if value is None:
            monkeypatch.delenv(variable, raising=False)
        else:
            monkeypatch.setenv(variable, str(value))

    def run(*args: str) -> Any:
        return CliRunner().invoke(main, list(args), prog_name="concord", catch_exceptions=False)

    return run


ONBOARD_ACIC = (
    "tenants",
    "onboard",
    "--slug",
    "acic",
    "--name",
    "Children in Care Alliance",
    "--region",
    "London",
    "--template",
    "children-in-care",
)


def test_the_cli_onboards_with_a_start_date_officers_and_changes(concord, settings, tmp_path):
    start = datetime.now(UTC).date() - timedelta(days=10)
    founding = tmp_path / "founding.json"
    founding.write_text(
        json.dumps(
            {
                "officers": [
                    {"office": "co-chair", "organisation": "Coram Voice", "person_name": "Ada"}
                ],
                "changes": {"rules": [{"path": "offices.co-chair.term_months", "value": 12}]},
            }
        )
    )

    result = concord(*ONBOARD_ACIC, "--start-date", start.isoformat(), "--founding", str(founding))

    assert result.exit_code == 0, result.output
    runtime = Runtime(settings)
    try:
        current = terms.current(runtime, "acic")
        co_chair = offices.office(runtime, "acic", "co-chair")
    finally:
        runtime.close()
    assert current["effective_from"] == start.isoformat()
    assert [
        (h["person_name"], h["starts_on"], h["ends_on"], h["via"]) for h in co_chair["holders"]
    ] == [("Ada", start.isoformat(), add_months(start, 12).isoformat(), "onboarding")]


def test_the_cli_refuses_a_bad_founding_file_or_officer_and_records_nothing(concord, tmp_path):
    unreadable = tmp_path / "bad.json"
    unreadable.write_text('{"officers": [{"office": "co-chair"}]}')  # no organisation
    refused = tmp_path / "refused.json"
    refused.write_text(json.dumps({"officers": [{"office": "treasurer", "organisation": "B"}]}))

    bad_file = concord(*ONBOARD_ACIC, "--founding", str(unreadable))
    bad_officer = concord(*ONBOARD_ACIC, "--founding", str(refused))
    too_late = concord(*ONBOARD_ACIC, "--start-date", "2099-01-01")

    assert bad_file.exit_code == 2 and "organisation" in bad_file.output
    assert bad_officer.exit_code == 1 and "officers[0] (treasurer)" in bad_officer.output
    assert too_late.exit_code == 1 and "start_date: 2099-01-01 is out of bounds" in too_late.output
    assert concord("tenants", "list").output == ""


# ----------------------------------------------------------------------------- known gaps
# The review pack (services/audit/review_record.py, review_tor.py) keeps its own copy of
# the review rule and of how an appointment is described: not this brief's files.


def _review_pack_findings(client: Any, start: date) -> list[dict[str, Any]]:
    created = client.post(
        "/v1/tenants",
        json=GOOD
        | {
            "start_date": start.isoformat(),
            "officers": [{"office": "co-chair", "organisation": "Coram Voice"}],
        },
        headers=ADMIN,
    )
    assert created.status_code == 201, created.text
    own = bearer(created.json()["admin_key"]["secret"])
    pack = client.get("/v1/tenants/acic/audit/review", headers=own)
    assert pack.status_code == 200, pack.text
    found: list[dict[str, Any]] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("kind"), str) and "summary" in node:
                found.append(node)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(pack.json())
    return found


def test_the_review_pack_counts_the_first_review_from_the_start_date(client):
    start = _today(client) - timedelta(days=75)

    findings = _review_pack_findings(client, start)

    [review] = [f for f in findings if f["kind"] in ("review-not-due", "review-overdue")]
    assert review["on"] == add_months(start, 36).isoformat()


def test_the_review_pack_says_a_first_officer_was_named_at_onboarding(client):
    findings = _review_pack_findings(client, _today(client) - timedelta(days=10))

    [taken] = [f for f in findings if f["kind"] == "office-taken"]
    assert "appointed by The officers" not in taken["summary"]
    assert "onboarding" in taken["summary"]
