"""The national directory with governance health, and each alliance's obligations, over
the HTTP API on SQLite and PostgreSQL.

Expected figures are worked out here from the templates' rules (how many meetings a year,
how many required seats, the review cadence), not read back from the code under test.
"""

from __future__ import annotations

import csv
import io
import threading
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import quote

import pytest

from domain.templates import TEMPLATES
from domain.terms import add_months
from services import demo
from tests.conftest import ADMIN, bearer

ALLIANCES = {
    # slug: (template, region)
    "kent-fja": ("family-justice", "Kent"),
    "essex-kin": ("kinship-network", "Essex"),
    "surrey-cic": ("children-in-care", "Surrey"),
    "kent-ssf": ("separated-families", "Kent"),
    "devon-kca": ("kinship-care", "Devon"),
}


def required_seats(template: str) -> int:
    return sum(len(b.required_seats) for b in TEMPLATES[template].rules.bodies)


def meetings_a_year(template: str) -> int:
    return sum(m.per_year or 0 for m in TEMPLATES[template].rules.meetings)


def cadence(template: str) -> int:
    return TEMPLATES[template].rules.review.cadence_months


class Clock:
    """The server process's clock, moved by whole days."""

    def __init__(self, client: Any) -> None:
        self.runtime = client.app.state.runtime
        self.start = datetime.now(UTC)

    def move(self, days: int) -> date:
        moment = self.start + timedelta(days=days)
        self.runtime.clock = lambda: moment
        return moment.date()


@pytest.fixture
def umbrella(client, onboard) -> dict[str, dict[str, Any]]:
    keys = {}
    for slug, (template, region) in ALLIANCES.items():
        keys[slug] = onboard(slug, template=template, region=region)["admin_key"]
    return keys


def listing(client, **params: Any) -> dict[str, Any]:
    response = client.get("/v1/directory", params=params, headers=ADMIN)
    assert response.status_code == 200, response.text
    return dict(response.json())


def every_page(client, **params: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    after = None
    while True:
        page = listing(client, **params, **({"after": after} if after else {}))
        found += page["items"]
        after = page["next_after"]
        if after is None:
            return found


def test_a_new_alliance_owes_its_required_seats_and_its_first_review(client, umbrella):
    today = datetime.now(UTC).date()
    items = {item["slug"]: item for item in listing(client)["items"]}

    assert set(items) == set(ALLIANCES)
    for slug, (template, region) in ALLIANCES.items():
        health = items[slug]["health"]
        seats = required_seats(template)
        assert items[slug]["region"] == region and items[slug]["template"] == template
        assert health["seats_vacant"] == seats, slug
        assert health["state"] == ("needs-attention" if seats else "healthy"), slug
        assert health["review_due_on"] == add_months(today, cadence(template)).isoformat()
        assert health["review_overdue"] is False
        assert health["meetings_required"] == 0 and health["obligations_overdue"] == 0
        assert health["last_activity_on"] == today.isoformat()
        assert health["as_of"] == today.isoformat()


def test_a_year_without_meetings_or_review_puts_an_alliance_at_risk(client, umbrella):
    clock = Clock(client)
    clock.move(400)

    assert client.post("/v1/directory/refresh", headers=ADMIN).json() == {"refreshed": 5}

    items = {item["slug"]: item for item in listing(client)["items"]}
    for slug, (template, _) in ALLIANCES.items():
        health = items[slug]["health"]
        # Every period of the first ToR year has closed, none met.
        assert health["meetings_required"] == meetings_a_year(template), slug
        assert health["meetings_held"] == 0
        assert health["review_overdue"] is (cadence(template) == 12), slug
        assert health["state"] == "at-risk", (slug, health["reasons"])
        assert any("required meetings held" in r for r in health["reasons"])


def test_each_missed_obligation_is_recorded_once_in_the_alliance_log(client, umbrella):
    clock = Clock(client)
    clock.move(400)
    admin = bearer(umbrella["kent-fja"]["secret"])

    # Two refreshes at once, and a third after: each miss is recorded once.
    threads = [
        threading.Thread(
            target=client.post, args=("/v1/directory/refresh",), kwargs={"headers": ADMIN}
        )
        for _ in range(2)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    client.post("/v1/directory/refresh", headers=ADMIN)

    log = client.get("/v1/tenants/kent-fja/events?limit=500", headers=admin).json()["items"]
    recorded = Counter(e["data"]["key"] for e in log if e["type"] == "MissedObligationRecorded")
    missed = client.get(
        "/v1/tenants/kent-fja/obligations", params={"state": "missed", "limit": 200}, headers=admin
    ).json()["items"]
    assert recorded and set(recorded.values()) == {1}
    assert set(recorded) == {o["key"] for o in missed}
    detail = client.get("/v1/directory/kent-fja", headers=ADMIN).json()
    assert {m["obligation_key"] for m in detail["missed"]} == set(recorded)


def test_a_write_shows_in_the_directory_without_a_refresh(client, umbrella):
    admin = bearer(umbrella["kent-fja"]["secret"])
    seats = required_seats("family-justice")
    assert health_of(client, "kent-fja")["seats_vacant"] == seats

    taken = client.post(
        "/v1/tenants/kent-fja/bodies/steering-group/seats",
        json={
            "organisation": "Kent Mediation Service",
            "required_seat": "mediator",
            "starts_on": date.today().isoformat(),
            "agreed_by": "full-membership",
            "decision_ref": "minute 4",
        },
        headers=admin,
    )

    assert taken.status_code == 201, taken.text
    assert health_of(client, "kent-fja")["seats_vacant"] == seats - 1


def health_of(client, slug: str) -> dict[str, Any]:
    return dict({i["slug"]: i for i in listing(client)["items"]}[slug]["health"])


def test_filters_narrow_the_directory(client, umbrella):
    assert {i["slug"] for i in listing(client, region="Kent")["items"]} == {"kent-fja", "kent-ssf"}
    assert [i["slug"] for i in listing(client, template="kinship-care")["items"]] == ["devon-kca"]
    healthy = {s for s, (t, _) in ALLIANCES.items() if not required_seats(t)}
    assert {i["slug"] for i in listing(client, state="healthy")["items"]} == healthy
    assert {i["slug"] for i in listing(client, state="needs-attention")["items"]} == (
        set(ALLIANCES) - healthy
    )
    assert listing(client, state="at-risk")["items"] == []
    client.post("/v1/tenants/essex-kin/suspend", json={"reason": "checking"}, headers=ADMIN)
    assert [i["slug"] for i in listing(client, status="suspended")["items"]] == ["essex-kin"]


@pytest.mark.parametrize(
    ("sort", "order"),
    [
        ("slug", "asc"),
        ("state", "desc"),
        ("region", "asc"),
        ("seats_vacant", "desc"),
        ("review_due_on", "asc"),
        ("name", "desc"),
    ],
)
def test_every_page_of_every_sort_holds_each_alliance_once(client, umbrella, sort, order):
    whole = listing(client, sort=sort, order=order, limit=200)["items"]
    paged = every_page(client, sort=sort, order=order, limit=2)

    assert [i["slug"] for i in paged] == [i["slug"] for i in whole]
    assert sorted(i["slug"] for i in paged) == sorted(ALLIANCES)
    if sort == "state":
        severity = {"at-risk": 2, "needs-attention": 1, "healthy": 0}
        ranks = [severity[i["health"]["state"]] for i in paged]
        assert ranks == sorted(ranks, reverse=True)


@pytest.mark.parametrize(
    ("query", "status"),
    [
        ("sort=votes", 422),
        ("state=great", 422),
        ("status=gone", 422),
        ("limit=0", 422),
        ("limit=201", 422),
        ("after=not-a-cursor", 422),
        ("after=WzEsMl0", 422),  # JSON, but not [sort, value, slug]
        # A cursor of another sort: it would compare a number with a name.
        ("after=WyJzdGF0ZSIsMSwia2VudC1mamEiXQ&sort=name", 422),
    ],
)
def test_bad_directory_queries_say_what_is_wrong(client, umbrella, query, status):
    response = client.get(f"/v1/directory?{query}", headers=ADMIN)

    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert query.split("=")[0] in response.text


def test_the_csv_export_has_one_row_per_alliance_and_runs_no_formula(client, onboard, umbrella):
    onboard("formula-alliance", name='=HYPERLINK("http://x")', region="+Kent")
    response = client.get("/v1/directory/export.csv", params={"sort": "slug"}, headers=ADMIN)

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [r["slug"] for r in rows] == sorted([*ALLIANCES, "formula-alliance"])
    formula = next(r for r in rows if r["slug"] == "formula-alliance")
    assert formula["name"] == '\'=HYPERLINK("http://x")' and formula["region"] == "'+Kent"
    api = {i["slug"]: i for i in listing(client, limit=200)["items"]}
    for row in rows:
        health = api[row["slug"]]["health"]
        assert row["state"] == health["state"]
        assert int(row["seats_vacant"]) == health["seats_vacant"]
        assert row["review_due_on"] == (health["review_due_on"] or "")
    kent = client.get("/v1/directory/export.csv", params={"region": "Kent"}, headers=ADMIN)
    assert sorted(r["slug"] for r in csv.DictReader(io.StringIO(kent.text))) == [
        "kent-fja",
        "kent-ssf",
    ]


def test_the_detail_page_holds_the_calendar_the_alliance_sees(client, umbrella):
    detail = client.get("/v1/directory/kent-fja", headers=ADMIN)
    own = client.get(
        "/v1/tenants/kent-fja/obligations",
        params={"limit": 200},
        headers=bearer(umbrella["kent-fja"]["secret"]),
    ).json()

    assert detail.status_code == 200
    assert detail.json()["obligations"] == own["items"]
    assert detail.json()["health"]["seats_vacant"] == required_seats("family-justice")
    assert client.get("/v1/directory/no-such-alliance", headers=ADMIN).status_code == 404


@pytest.mark.parametrize("template", sorted(TEMPLATES))
def test_the_first_years_calendar_follows_the_templates_rules(client, onboard, template):
    slug = f"cal-{template}"[:40]
    admin = bearer(onboard(slug, template=template)["admin_key"]["secret"])
    today = datetime.now(UTC).date()
    year_end = add_months(today, 12)
    items = client.get(
        f"/v1/tenants/{slug}/obligations",
        params={"kind": "meeting", "due_to": year_end.isoformat(), "limit": 200},
        headers=admin,
    ).json()["items"]
    rules = TEMPLATES[template].rules

    per_body = Counter(next(iter(o["owner"].values())) for o in items)
    expected = {m.key: m.per_year for m in rules.meetings if m.per_year}
    assert {b: per_body[b] for b in expected} == expected
    assert all(o["clause"] for o in items)
    review = client.get(
        f"/v1/tenants/{slug}/obligations", params={"kind": "tor-review"}, headers=admin
    ).json()["items"]
    terms_review = client.get(f"/v1/tenants/{slug}/terms/review", headers=admin).json()
    if rules.review.cadence_months <= 12:
        assert [o["due_on"] for o in review] == [terms_review["due_on"]]
    else:
        assert review == []  # its window opens beyond the year ahead


def test_obligations_filter_and_page(client, umbrella):
    admin = bearer(umbrella["kent-fja"]["secret"])
    whole = client.get(
        "/v1/tenants/kent-fja/obligations", params={"limit": 200}, headers=admin
    ).json()["items"]
    paged: list[dict[str, Any]] = []
    after = None
    while True:
        page = client.get(
            "/v1/tenants/kent-fja/obligations",
            params={"limit": 3, **({"after": after} if after else {})},
            headers=admin,
        ).json()
        paged += page["items"]
        after = page["next_after"]
        if after is None:
            break
    assert paged == whole
    assert [o["due_on"] for o in whole] == sorted(o["due_on"] for o in whole)
    seats = client.get(
        "/v1/tenants/kent-fja/obligations", params={"kind": "seat-vacant"}, headers=admin
    ).json()["items"]
    assert len(seats) == required_seats("family-justice")
    one = client.get(
        f"/v1/tenants/kent-fja/obligations/{quote(seats[0]['key'], safe='')}", headers=admin
    )
    assert one.json() == seats[0]
    assert client.get("/v1/tenants/kent-fja/obligations/nope", headers=admin).status_code == 404
    bad = client.get("/v1/tenants/kent-fja/obligations?after=nope", headers=admin)
    assert bad.status_code == 422 and "after" in bad.text
    late = client.get("/v1/tenants/kent-fja/obligations?state=late", headers=admin)
    assert late.status_code == 422 and "state: 'late'" in late.text


def test_an_alliance_sees_its_own_health_and_not_the_directory(client, umbrella):
    admin = bearer(umbrella["kent-fja"]["secret"])

    own = client.get("/v1/tenants/kent-fja/health", headers=admin)
    assert own.status_code == 200
    assert own.json()["seats_vacant"] == required_seats("family-justice")
    assert client.get("/v1/directory", headers=admin).status_code == 403
    assert client.get("/v1/directory/kent-fja", headers=admin).status_code == 403
    assert client.get("/v1/tenants/essex-kin/health", headers=admin).status_code == 404


def test_the_demo_umbrella_shows_each_story_in_the_directory(client):
    runtime = client.app.state.runtime
    keys = demo.create_umbrella(runtime)
    items = {i["slug"]: i for i in listing(client, sort="state", order="desc")["items"]}

    assert set(items) == {a.slug for a in demo.UMBRELLA}
    for alliance in demo.UMBRELLA:
        assert items[alliance.slug]["health"]["state"] == alliance.expected, (
            alliance.slug,
            items[alliance.slug]["health"]["reasons"],
        )
    kent, essex = items["demo-kent-fja"]["health"], items["demo-essex-kin"]["health"]
    devon, surrey = items["demo-devon-kca"]["health"], items["demo-surrey-cic"]["health"]
    assert kent["meetings_held"] == kent["meetings_required"] == 4
    assert kent["minutes_published_in_time"] == kent["minutes_approved"] == 3
    assert kent["seats_vacant"] == 0 and kent["obligations_overdue"] == 0
    assert essex["obligations_overdue"] == 2  # one action, the 2026 work plan
    assert devon["review_overdue"] is True and devon["review_due_on"] < date.today().isoformat()
    assert surrey["meetings_held"] == 0 and surrey["meetings_required"] == 4
    # Worst first.
    states = [i["health"]["state"] for i in listing(client, sort="state", order="desc")["items"]]
    assert states[:2] == ["at-risk", "at-risk"] and states[-1] == "healthy"

    for alliance in demo.UMBRELLA:
        rules = TEMPLATES[alliance.template].rules
        calendar = client.get(
            f"/v1/tenants/{alliance.slug}/obligations",
            params={"limit": 200},
            headers=bearer(keys[alliance.slug].secret),
        ).json()["items"]
        kinds = {o["kind"] for o in calendar}
        # The calendar holds what the alliance's ToR require, and nothing they do not.
        assert ("work-plan" in kinds) is rules.work_plan.required, alliance.slug
        if not required_seats(alliance.template):
            assert "seat-vacant" not in kinds, alliance.slug  # (Kent filled its seats)
        bodies = {next(iter(o["owner"].values())) for o in calendar if o["kind"] == "meeting"}
        # Bodies with a required frequency, or meeting before another body's meetings.
        required = {m.key for m in rules.meetings if m.per_year or m.before_body}
        assert bodies == required, alliance.slug
