"""The Terms of Reference through the API: templates, amend → version → diff → as_of, reviews."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.conftest import ADMIN, bearer

CO_CHAIR_TERM = "offices.co-chair.term_months"


@pytest.fixture
def acic(client, onboard):
    """A children-in-care alliance and its tenant-admin's headers."""
    body = onboard("acic", template="children-in-care", name="Alliance for Children in Care")
    return bearer(body["admin_key"]["secret"])


def propose(client, headers, rules=(), clauses=(), rationale="to improve things"):
    return client.post(
        "/v1/tenants/acic/terms/amendments",
        json={"rationale": rationale, "rules": list(rules), "clauses": list(clauses)},
        headers=headers,
    )


def test_templates_are_listed_and_shown_in_full(client):
    listed = client.get("/v1/templates", headers=ADMIN).json()
    names = [t["name"] for t in listed]

    assert names == [
        "family-justice",
        "separated-families",
        "children-in-care",
        "kinship-network",
        "kinship-care",
    ]
    full = client.get("/v1/templates/kinship-care", headers=ADMIN).json()
    executive = next(b for b in full["rules"]["bodies"] if b["key"] == "executive-committee")
    assert executive["max_members"] == 7 and executive["term_months"] == 36
    assert client.get("/v1/templates").status_code == 401


def test_an_unknown_template_is_a_clear_problem(client):
    response = client.get("/v1/templates/book-club", headers=ADMIN)

    assert response.status_code == 404
    assert "kinship-care" in response.json()["detail"]


def test_onboarding_adopts_the_template_as_version_one(client, acic):
    current = client.get("/v1/tenants/acic/terms", headers=acic).json()

    assert current["number"] == 1 and current["template"] == "children-in-care"
    co_chair = next(o for o in current["rules"]["offices"] if o["key"] == "co-chair")
    assert co_chair["seats"] == 2 and co_chair["distinct_organisations"] is True
    assert co_chair["term_months"] == 24 and co_chair["re_eligible"] is True
    assert co_chair["election"]["secret_ballot"] is True
    assert current["rules"]["review"]["cadence_months"] == 36
    assert current["rules"]["membership"]["max_representatives"] == 2
    assert current["clauses"][0]["number"] == "1"


@pytest.mark.parametrize(
    ("template", "fact"),
    [
        (
            "family-justice",
            lambda r: (
                next(m for m in r["meetings"] if m["key"] == "full-membership")["per_year"] == 4
            ),
        ),
        (
            "family-justice",
            lambda r: (
                len(next(b for b in r["bodies"] if b["key"] == "steering-group")["required_seats"])
                == 6
            ),
        ),
        ("family-justice", lambda r: r["review"]["cadence_months"] == 12),
        (
            "kinship-care",
            lambda r: (
                next(d for d in r["decisions"] if d["key"] == "executive-committee")["voting"]
                == "one-organisation-one-vote"
            ),
        ),
        (
            "kinship-care",
            lambda r: (
                next(d for d in r["decisions"] if d["key"] == "executive-committee")["escalate_to"]
                == "full-membership"
            ),
        ),
        ("kinship-network", lambda r: len(r["membership"]["eligibility"]["eligible_bodies"]) == 19),
        ("separated-families", lambda r: len(r["defaults"]) > 5),
    ],
)
def test_every_template_onboards_with_its_document_facts(client, onboard, template, fact):
    secret = onboard(f"t-{template}", template=template)["admin_key"]["secret"]

    current = client.get(f"/v1/tenants/t-{template}/terms", headers=bearer(secret)).json()

    assert fact(current["rules"])


def test_amend_approve_then_diff_and_as_of_before_and_after_the_effective_date(client, acic):
    runtime = client.app.state.runtime
    proposed = propose(
        client,
        acic,
        rules=[{"path": CO_CHAIR_TERM, "value": 36}],
        clauses=[{"number": "1", "text": "A reworded first clause."}],
    )
    assert proposed.status_code == 201, proposed.text
    amendment = proposed.json()
    assert amendment["state"] == "proposed" and amendment["base_version"] == 1
    effective = (runtime.clock() + timedelta(days=10)).date()

    approved = client.post(
        f"/v1/tenants/acic/terms/amendments/{amendment['amendment_id']}/approve",
        json={
            "body": "full-membership",
            "decision_ref": "main meeting, item 5",
            "effective_from": effective.isoformat(),
        },
        headers=acic,
    )

    assert approved.status_code == 200, approved.text
    assert approved.json()["state"] == "approved" and approved.json()["version"] == 2
    versions = client.get("/v1/tenants/acic/terms/versions", headers=acic).json()["items"]
    assert [v["number"] for v in versions] == [1, 2]
    # Not yet in force: the effective date is ten days away.
    assert client.get("/v1/tenants/acic/terms", headers=acic).json()["number"] == 1
    later = datetime.combine(effective, datetime.min.time(), UTC) + timedelta(hours=1)
    at_later = client.get(
        "/v1/tenants/acic/terms", params={"as_of": later.isoformat()}, headers=acic
    )
    assert at_later.json()["number"] == 2
    before = client.get(
        "/v1/tenants/acic/terms",
        params={"as_of": (later - timedelta(days=2)).isoformat()},
        headers=acic,
    )
    assert before.json()["number"] == 1
    too_early = client.get(
        "/v1/tenants/acic/terms", params={"as_of": "2001-01-01T00:00:00Z"}, headers=acic
    )
    assert too_early.status_code == 404
    diff = client.get(
        "/v1/tenants/acic/terms/diff", params={"from": 1, "to": 2}, headers=acic
    ).json()
    assert diff["rules"] == [{"path": CO_CHAIR_TERM, "before": 24, "after": 36}]
    assert [c["number"] for c in diff["clauses"]] == ["1"]
    assert any(line == "+A reworded first clause." for line in diff["clauses"][0]["text_diff"])
    assert f"Rule {CO_CHAIR_TERM}: 24 → 36." in diff["summary"]
    version_one = client.get("/v1/tenants/acic/terms/versions/1", headers=acic).json()
    assert (
        next(o for o in version_one["rules"]["offices"] if o["key"] == "co-chair")["term_months"]
        == 24
    )


def test_version_one_never_changes(client, acic):
    before = client.get("/v1/tenants/acic/terms/versions/1", headers=acic).json()
    amendment = propose(client, acic, rules=[{"path": CO_CHAIR_TERM, "value": 12}]).json()
    client.post(
        f"/v1/tenants/acic/terms/amendments/{amendment['amendment_id']}/approve",
        json={"body": "full-membership", "decision_ref": "d"},
        headers=acic,
    )

    after = client.get("/v1/tenants/acic/terms/versions/1", headers=acic).json()
    assert after == before
    assert client.get("/v1/tenants/acic/terms", headers=acic).json()["number"] == 2


@pytest.mark.parametrize(
    ("rules", "clauses", "named"),
    [
        ([{"path": CO_CHAIR_TERM, "value": 0}], [], CO_CHAIR_TERM),
        ([{"path": "offices.co-chair.seats", "value": -2}], [], "offices.co-chair.seats"),
        ([{"path": "offices.treasurer.term_months", "value": 12}], [], "treasurer"),
        (
            [{"path": "decisions.full-membership.casting_vote_office", "value": "king"}],
            [],
            "casting_vote_office",
        ),
        (
            [{"path": "review.amendments_approved_by", "value": "nobody"}],
            [],
            "review.amendments_approved_by",
        ),
        ([], [{"number": "77", "text": "a clause with no heading"}], "heading"),
        ([], [], "must change"),
    ],
)
def test_bad_amendments_are_refused_naming_the_rule(client, acic, rules, clauses, named):
    response = propose(client, acic, rules=rules, clauses=clauses)

    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert named in response.text
    listed = client.get("/v1/tenants/acic/terms/amendments", headers=acic).json()
    assert listed["items"] == []


def test_a_contradiction_cites_the_clause_that_carries_the_rule(client, onboard):
    secret = onboard("kca", template="kinship-care")["admin_key"]["secret"]
    seats = [{"key": f"seat-{n}", "name": f"Seat {n}"} for n in range(8)]

    response = client.post(
        "/v1/tenants/kca/terms/amendments",
        json={
            "rationale": "r",
            "rules": [{"path": "bodies.executive-committee.required_seats", "value": seats}],
        },
        headers=bearer(secret),
    )

    body = response.json()
    assert response.status_code == 422
    assert body["violations"][0]["rule"] == "bodies.executive-committee.max_members"
    assert body["clause"] and f"clause {body['clause']}" in body["detail"]


def test_approval_by_the_wrong_body_is_refused_with_the_clause(client, acic):
    amendment = propose(client, acic, rules=[{"path": CO_CHAIR_TERM, "value": 36}]).json()

    response = client.post(
        f"/v1/tenants/acic/terms/amendments/{amendment['amendment_id']}/approve",
        json={"body": "working-groups", "decision_ref": "d"},
        headers=acic,
    )

    assert response.status_code == 422
    assert response.json()["violations"][0]["rule"] == "review.amendments_approved_by"
    assert response.json()["clause"]
    assert client.get("/v1/tenants/acic/terms", headers=acic).json()["number"] == 1


def test_approval_effective_in_the_past_or_malformed_is_refused(client, acic):
    amendment = propose(client, acic, rules=[{"path": CO_CHAIR_TERM, "value": 36}]).json()
    url = f"/v1/tenants/acic/terms/amendments/{amendment['amendment_id']}/approve"

    past = client.post(
        url,
        json={"body": "full-membership", "decision_ref": "d", "effective_from": "2020-01-01"},
        headers=acic,
    )
    malformed = client.post(
        url,
        json={"body": "full-membership", "decision_ref": "d", "effective_from": "next tuesday"},
        headers=acic,
    )

    assert past.status_code == 422 and "earliest" in past.json()["detail"]
    assert malformed.status_code == 422
    assert (
        client.get(
            f"/v1/tenants/acic/terms/amendments/{amendment['amendment_id']}", headers=acic
        ).json()["state"]
        == "proposed"
    )


def test_rejected_and_withdrawn_amendments_cannot_be_decided_again(client, acic):
    first = propose(client, acic, rules=[{"path": CO_CHAIR_TERM, "value": 36}]).json()[
        "amendment_id"
    ]
    second = propose(client, acic, rules=[{"path": CO_CHAIR_TERM, "value": 12}]).json()[
        "amendment_id"
    ]
    base = "/v1/tenants/acic/terms/amendments"

    assert (
        client.post(
            f"{base}/{first}/reject", json={"reason": "no", "decision_ref": "d"}, headers=acic
        ).json()["state"]
        == "rejected"
    )
    assert client.post(f"{base}/{second}/withdraw", headers=acic).json()["state"] == "withdrawn"
    again = client.post(
        f"{base}/{first}/approve",
        json={"body": "full-membership", "decision_ref": "d"},
        headers=acic,
    )
    assert again.status_code == 409
    states = client.get(base, params={"state": "rejected"}, headers=acic).json()["items"]
    assert [a["amendment_id"] for a in states] == [first]
    assert client.get(f"{base}/nope", headers=acic).status_code == 404


def test_a_stale_amendment_must_be_proposed_again(client, acic):
    first = propose(client, acic, rules=[{"path": CO_CHAIR_TERM, "value": 36}]).json()[
        "amendment_id"
    ]
    second = propose(
        client, acic, rules=[{"path": "membership.max_representatives", "value": 3}]
    ).json()["amendment_id"]
    base = "/v1/tenants/acic/terms/amendments"
    client.post(
        f"{base}/{first}/approve",
        json={"body": "full-membership", "decision_ref": "d"},
        headers=acic,
    )

    stale = client.post(
        f"{base}/{second}/approve",
        json={"body": "full-membership", "decision_ref": "d"},
        headers=acic,
    )

    assert stale.status_code == 409
    assert "version 2" in stale.json()["detail"]


def test_members_read_the_terms_but_only_officers_and_admins_amend(client, acic):
    member = client.post(
        "/v1/tenants/acic/keys", json={"role": "member", "label": "m"}, headers=acic
    ).json()["secret"]
    officer = client.post(
        "/v1/tenants/acic/keys", json={"role": "officer", "label": "o"}, headers=acic
    ).json()["secret"]

    assert client.get("/v1/tenants/acic/terms", headers=bearer(member)).status_code == 200
    assert (
        propose(client, bearer(member), rules=[{"path": CO_CHAIR_TERM, "value": 36}]).status_code
        == 403
    )
    assert (
        propose(client, bearer(officer), rules=[{"path": CO_CHAIR_TERM, "value": 36}]).status_code
        == 201
    )


def test_review_is_due_a_cadence_after_adoption_and_overdue_once_past(client, acic):
    runtime = client.app.state.runtime
    status = client.get("/v1/tenants/acic/terms/review", headers=acic).json()
    adopted = datetime.fromisoformat(status["last_adopted_at"])
    assert status["cadence_months"] == 36 and status["overdue"] is False
    assert status["due_on"] == adopted.date().replace(year=adopted.year + 3).isoformat()

    real_clock = runtime.clock
    runtime.clock = lambda: real_clock() + timedelta(days=3 * 366)
    try:
        late = client.get("/v1/tenants/acic/terms/review", headers=acic).json()
        assert late["overdue"] is True
        opened = client.post("/v1/tenants/acic/terms/review/open", headers=acic)
        assert opened.status_code == 200 and opened.json()["review_open"] is True
        assert opened.json()["overdue"] is False
        assert client.post("/v1/tenants/acic/terms/review/open", headers=acic).status_code == 409
        concluded = client.post(
            "/v1/tenants/acic/terms/review/conclude",
            json={"outcome": "no-change", "notes": "still fit"},
            headers=acic,
        )
        assert concluded.status_code == 200
        assert concluded.json()["last_outcome"] == "no-change"
    finally:
        runtime.clock = real_clock


def test_a_suspended_alliance_cannot_amend_its_terms(client, acic):
    client.post("/v1/tenants/acic/suspend", json={"reason": "review"}, headers=ADMIN)

    response = propose(client, acic, rules=[{"path": CO_CHAIR_TERM, "value": 36}])

    assert response.status_code == 409
    assert client.get("/v1/tenants/acic/terms", headers=acic).status_code == 200


def test_rebuilding_the_terms_projection_reaches_the_live_state(client, acic):
    amendment = propose(client, acic, rules=[{"path": CO_CHAIR_TERM, "value": 36}]).json()
    client.post(
        f"/v1/tenants/acic/terms/amendments/{amendment['amendment_id']}/approve",
        json={"body": "full-membership", "decision_ref": "d"},
        headers=acic,
    )
    client.post("/v1/tenants/acic/terms/review/open", headers=acic)
    read = lambda: (  # noqa: E731
        client.get("/v1/tenants/acic/terms/versions", headers=acic).json(),
        client.get("/v1/tenants/acic/terms/amendments", headers=acic).json(),
        client.get("/v1/tenants/acic/terms/review", headers=acic).json(),
        client.get("/v1/tenants/acic/terms", headers=acic).json(),
    )
    live = read()

    with client.app.state.runtime.tenant("acic") as store:
        store.runner.rebuild()

    assert read() == live
