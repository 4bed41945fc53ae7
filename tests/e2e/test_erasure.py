"""A person's data is erased on request, through the API, on both stores, and the rest of
the record stands.

A kinship-care alliance names one person everywhere a person can be named: as a member
organisation's representative (name and email), as the chair, on the executive
committee, and in minutes (a confidential case item and a public item, both approved
and published). Subject access lists every one of those records; erasure destroys the
person's keys, after which every read shows them as erased, the event log shows
`{"erased": true}` where their data was, the history still replays, and other people's
data reads as before. A retention hold refuses erasure (on the record) until it is
lifted. Finally the canary: after erasure no byte of the store's files (SQLite) or pages
(PostgreSQL), no log record and no span holds the person's name or email.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from domain.privacy import DataSubjectRequests
from infra.stores import PLATFORM
from infra.telemetry import Telemetry
from services import privacy
from tests.conftest import ADMIN, bearer
from tests.e2e.test_membership_api import admit, issue_key
from tests.e2e.test_membership_year import Alliance, assert_problem
from tests.raw_store import store_pages, store_rows

START = datetime(2030, 1, 15, 9, 0, tzinfo=UTC)
SLUG = "kca"
#: The person erased: words found nowhere else, so that any trace of them shows.
NAME = "Quillon Marchbank"
EMAIL = "quillon.marchbank@example.org"
#: Another person, named beside them: their data must survive the erasure.
OTHER = "Ada Price"
OTHER_EMAIL = "ada.price@example.org"
PERSON = {"name": NAME, "email": EMAIL}
ERASED = "[erased]"
PRIVACY = "/privacy"


def traces_of_the_person() -> list[str]:
    """Every form the person's data could take in bytes, text or JSON."""
    forms = {NAME, EMAIL, "Quillon", "Marchbank", "quillon.marchbank"}
    return sorted({f for form in forms for f in (form, form.lower(), form.upper())})


# ---------------------------------------------------------------------------- the story


@dataclass
class Story:
    alliance: Alliance
    member: str
    representative: str
    other_representative: str
    holding: str
    seat: str
    minutes_id: str


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


MINUTES_ITEMS = [
    {"item_id": "welcome", "title": "Welcome", "text": "The chair welcomed everyone."},
    {
        "item_id": "case",
        "title": "Case review",
        "text": "{1} reported on the case; {2} will follow it up.",
        "confidential": True,
        "people": [PERSON, {"name": OTHER, "email": OTHER_EMAIL}],
    },
    {
        "item_id": "thanks",
        "title": "Thanks",
        "text": "The alliance thanked {1} for a year of work.",
        "people": [{"name": NAME}],
    },
]


def representative_id(alliance: Alliance, member: str, name: str) -> str:
    listed = alliance.get(f"/members/{member}/representatives")["items"]
    return str(next(r["representative_id"] for r in listed if r["name"] == name))


def tell_the_story(alliance: Alliance) -> Story:
    member = admit(alliance, "Kinship")
    # Another organisation applies, its chief executive signing: the person again.
    alliance.apply("Grandparents Plus", signatory_role="Chief Executive", signatory_name=NAME)
    alliance.add_representative(member, NAME, email=EMAIL)
    alliance.add_representative(member, OTHER, email=OTHER_EMAIL)
    holding = alliance.appoint("chair", member, NAME, by_body="full-membership")
    seat = alliance.post(
        "/bodies/executive-committee/seats",
        {
            "member_id": member,
            "person_name": NAME,
            "agreed_by": "full-membership",
            "decision_ref": "AGM item 4",
        },
        status=201,
    )
    meeting = hold_meeting(alliance, member, 7)
    minutes = alliance.post("/minutes", {"meeting_id": meeting, "items": MINUTES_ITEMS}, status=201)
    minutes_id = str(minutes["minutes_id"])
    alliance.post(f"/minutes/{minutes_id}/approve", {"by_body": "full-membership"})
    alliance.post(f"/minutes/{minutes_id}/publish")
    return Story(
        alliance=alliance,
        member=member,
        representative=representative_id(alliance, member, NAME),
        other_representative=representative_id(alliance, member, OTHER),
        holding=str(holding["holders"][0]["holding_id"]),
        seat=str(seat["id"]),
        minutes_id=minutes_id,
    )


@pytest.fixture
def spans() -> InMemorySpanExporter:
    return InMemorySpanExporter()


@pytest.fixture
def telemetry(spans) -> Telemetry:
    return Telemetry("none", span_exporter=spans)


@pytest.fixture
def story(client, onboard, every_log) -> Story:
    client.app.state.runtime.clock = lambda: START
    secret = onboard(SLUG, template="kinship-care", name="Kinship Care Alliance")["admin_key"][
        "secret"
    ]
    return tell_the_story(Alliance(client, "kinship-care", secret, slug=SLUG))


def erase(alliance: Alliance, **fields: Any) -> Any:
    body = PERSON | {"reason": "the person asked us to"} | fields
    return alliance.call("POST", f"{PRIVACY}/erasures", body)


def whole_log(alliance: Alliance, headers: dict[str, str] | None = None) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    after = 0
    while True:
        response = alliance.call(
            "GET", "/events", headers=headers, params={"after": after, "limit": 50}
        )
        assert response.status_code == 200, response.text
        page = response.json()
        found += page["items"]
        if page["next_after"] is None:
            return found
        after = page["next_after"]


def person_fields(value: Any) -> Iterator[Any]:
    """Every `person` field, and every entry of a `people` list, in an event's data."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "person":
                yield item
            elif key == "people" and isinstance(item, list):
                yield from item
            else:
                yield from person_fields(item)
    elif isinstance(value, list):
        for item in value:
            yield from person_fields(item)


def reads(story: Story) -> dict[str, Any]:
    """What the alliance's reads show of everyone it names."""
    alliance = story.alliance
    return {
        "representatives": alliance.get(f"/members/{story.member}/representatives"),
        "chair": alliance.get("/offices/chair"),
        "bodies": alliance.get("/bodies"),
        "minutes": alliance.get(f"/minutes/{story.minutes_id}"),
        "public": alliance.get(f"/minutes/{story.minutes_id}/public"),
        "page": alliance.client.get(f"/a/{SLUG}/minutes/{story.minutes_id}").text,
    }


def item(minutes: dict[str, Any], item_id: str) -> dict[str, Any]:
    return next(i for i in minutes["items"] if i["item_id"] == item_id)


# ---------------------------------------------------------------------------- subject access


def test_subject_access_lists_every_record_that_names_the_person(story):
    alliance = story.alliance

    response = alliance.call(
        "POST", f"{PRIVACY}/subject-access", {"name": "  quillon   MARCHBANK ", "email": EMAIL}
    )

    assert response.status_code == 200, response.text
    assert "no-store" in response.headers["cache-control"]
    found = response.json()
    held = {(e["type"], e["field"]) for e in found["events"]}
    assert held == {
        ("MembershipApplicationSubmitted", "person"),
        ("MemberRepresentativeAdded", "person"),
        ("OfficeRollHolderAppointed", "person"),
        ("BodyRosterSeatTaken", "person"),
        ("MinutesDrafted", "items[1].people[0]"),
        ("MinutesDrafted", "items[2].people[0]"),
        ("MinutesPublished", "public.items[2].people[0]"),
    }
    assert all(e["sealed"] and e["erasable"] for e in found["events"])
    assert {"name": NAME, "email": EMAIL} in [e["data"] for e in found["events"]]
    assert all(OTHER not in json.dumps(e["data"]) for e in found["events"])
    tables = sorted(r["table"] for r in found["read_models"])
    # The minutes' table names them thrice: two items, and the public version's item.
    assert tables == [
        "applications",
        "body_seats",
        "minutes",
        "minutes",
        "minutes",
        "office_holdings",
        "representatives",
    ]
    assert len(found["subject_refs"]) == 2  # their email's pseudonym, and their name's
    assert found["erasures"] == [] and found["holds"] == []
    # By email alone: only what was recorded with their email.
    by_email = alliance.call("POST", f"{PRIVACY}/subject-access", {"email": EMAIL.upper()})
    assert {(e["type"], e["field"]) for e in by_email.json()["events"]} == {
        ("MemberRepresentativeAdded", "person"),
        ("MinutesDrafted", "items[1].people[0]"),
    }


# ---------------------------------------------------------------------------- erasure


def test_erasure_shows_the_person_as_erased_everywhere_and_the_record_stands(story):
    alliance = story.alliance
    before = reads(story)
    assert NAME in before["page"] and NAME in json.dumps(before["minutes"])

    response = erase(alliance)

    assert response.status_code == 201, response.text
    done = response.json()
    assert done["status"] == "completed" and done["keys_destroyed"] == 2
    assert done["fields_left"] == 0 and done["requested_by"].startswith("key:")
    after = reads(story)
    reps = {r["representative_id"]: r for r in after["representatives"]["items"]}
    assert (reps[story.representative]["name"], reps[story.representative]["email"]) == (
        ERASED,
        ERASED,
    )
    assert (
        reps[story.other_representative]["name"],
        reps[story.other_representative]["email"],
    ) == (
        OTHER,
        OTHER_EMAIL,
    )
    assert [h["person_name"] for h in after["chair"]["holders"]] == [ERASED]
    seats = [s for b in after["bodies"]["items"] for s in b["seats"]]
    assert [(s["seat_id"], s["person_name"]) for s in seats] == [(story.seat, ERASED)]
    case = item(after["minutes"], "case")
    assert case["text"] == f"{ERASED} reported on the case; {OTHER} will follow it up."
    assert case["people"] == [{"erased": True}, {"name": OTHER, "email": OTHER_EMAIL}]
    assert case["text_as_written"] == MINUTES_ITEMS[1]["text"]
    thanks = after["public"]["public"]["items"][2]
    assert thanks["text"] == f"The alliance thanked {ERASED} for a year of work."
    assert "The alliance thanked [erased] for a year of work." in after["page"]
    # The rest of the record stands: same minutes, same offices, same commitments.
    assert after["minutes"]["digest"] == before["minutes"]["digest"]
    assert after["chair"]["holders"][0]["holding_id"] == story.holding
    assert len(after["bodies"]["items"]) == len(before["bodies"]["items"])
    everything = json.dumps(after)
    assert [t for t in traces_of_the_person() if t in everything] == []


def test_the_event_log_shows_erased_fields_and_the_history_still_replays(story):
    alliance = story.alliance
    log_before = whole_log(alliance)

    assert erase(alliance).status_code == 201

    log_after = whole_log(alliance)
    assert [(e["position"], e["type"]) for e in log_after[: len(log_before)]] == [
        (e["position"], e["type"]) for e in log_before
    ]
    assert [e["type"] for e in log_after[len(log_before) :]] == [
        "DataSubjectRequestsOpened",
        "DataSubjectRequestsErasureRequested",
        "DataSubjectRequestsErasureCompleted",
    ]
    fields = [p for e in log_after for p in person_fields(e["data"])]
    assert fields.count({"erased": True}) == 7
    assert {"name": OTHER, "email": OTHER_EMAIL} in fields
    assert [t for t in traces_of_the_person() if t in json.dumps(log_after)] == []
    # Replaying the whole history into fresh read models gives the same reads.
    shown = reads(story)
    runtime = alliance.client.app.state.runtime
    with runtime.tenant(SLUG) as store:
        applied = store.runner.rebuild()
    assert applied == len(log_after) * len(store.runner.projections)
    assert reads(story) == shown
    # Rebuilding leaves people's keys alone: the other person still reads.
    assert OTHER in json.dumps(shown["representatives"])
    problem = assert_problem(alliance.call("POST", f"{PRIVACY}/subject-access", PERSON), 404)
    assert "no personal data" in problem["detail"]
    listed = alliance.get(f"{PRIVACY}/erasures")["items"]
    assert [e["status"] for e in listed] == ["completed"]


def test_a_retention_hold_refuses_erasure_on_the_record_until_it_is_lifted(story):
    alliance = story.alliance
    placed = alliance.post(
        f"{PRIVACY}/holds",
        PERSON | {"reason": "safeguarding", "until": "2031-01-31"},
        status=201,
    )
    assert placed["active"] is True and placed["until"] == "2031-01-31"
    hold_id = placed["hold_id"]

    problem = assert_problem(erase(alliance), 409)

    assert problem["type"] == "urn:concord:problem:erasure-held"
    assert hold_id in problem["detail"] and "safeguarding" in problem["detail"]
    assert [v["rule"] for v in problem["violations"]] == [f"retention-holds.{hold_id}"]
    [refused] = alliance.get(f"{PRIVACY}/erasures")["items"]
    assert (refused["status"], refused["hold_ids"]) == ("refused", [hold_id])
    assert NAME in json.dumps(alliance.get(f"/members/{story.member}/representatives"))
    types = [e["type"] for e in whole_log(alliance)[-3:]]
    assert types == [
        "DataSubjectRequestsRetentionHoldPlaced",
        "DataSubjectRequestsErasureRequested",
        "DataSubjectRequestsErasureRefused",
    ]

    lifted = alliance.post(
        f"{PRIVACY}/holds/{hold_id}/lift", {"reason": "the safeguarding review closed"}
    )

    assert lifted["active"] is False and lifted["lift_reason"] == "the safeguarding review closed"
    assert_problem(
        alliance.call("POST", f"{PRIVACY}/holds/{hold_id}/lift", {"reason": "again"}), 409
    )
    assert erase(alliance).status_code == 201
    statuses = [e["status"] for e in alliance.get(f"{PRIVACY}/erasures")["items"]]
    assert statuses == ["refused", "completed"]
    [hold] = alliance.get(f"{PRIVACY}/holds")["items"]
    assert (hold["hold_id"], hold["active"], hold["lifted_by"]) == (
        hold_id,
        False,
        lifted["lifted_by"],
    )
    register = json.dumps(alliance.get(f"{PRIVACY}/holds")) + json.dumps(
        alliance.get(f"{PRIVACY}/erasures")
    )
    assert [t for t in traces_of_the_person() if t in register] == []


# ---------------------------------------------------------------------------- the canary


def traces_in(found: list[tuple[str, bytes]]) -> list[str]:
    """Where, in these bytes, the person's data appears (as UTF-8, as stored)."""
    forms = [t.encode() for t in traces_of_the_person()]
    return sorted({where for where, data in found for form in forms if form in data})


def test_no_trace_of_an_erased_person_is_left_in_the_store_the_logs_or_the_spans(
    story, settings, backend, spans, every_log
):
    alliance = story.alliance
    runtime = alliance.client.app.state.runtime
    # Each search could find the person: before erasure their name is in the read models.
    found_before = traces_in(store_pages(runtime, settings.database_url, SLUG))
    assert found_before, "the search finds the person's name in the store before erasure"
    assert erase(alliance).status_code == 201
    reads(story)
    whole_log(alliance)

    assert traces_in(store_pages(runtime, settings.database_url, SLUG)) == []
    assert traces_in(store_pages(runtime, settings.database_url, PLATFORM)) == []
    rows = store_rows(runtime, settings.database_url, SLUG) + store_rows(
        runtime, settings.database_url, PLATFORM
    )
    assert any("personal_keys" in where for where, _ in rows), "the key table was searched"
    assert traces_in([(w, r.encode()) for w, r in rows]) == []
    records = every_log.get_records("setup") + every_log.get_records("call")
    said = [(f"log {r.name}", f"{r.getMessage()} {r.__dict__}".encode()) for r in records]
    assert len(said) > 20, "the logs were captured"
    assert traces_in(said) == []
    kept = [(f"span {s.name}", s.to_json().encode()) for s in spans.get_finished_spans()]
    assert any(w == "span command.request_erasure" for w, _ in kept)
    assert traces_in(kept) == []


def test_erasure_forgets_the_answers_kept_for_idempotent_repeats_and_runs_nothing_twice(story):
    alliance = story.alliance
    key = {"Idempotency-Key": "meeting-before-erasure"} | alliance.headers
    meeting = {
        "body": "full-membership",
        "title": "Welcome",
        "starts_at": on(30).isoformat(),
        "format": "virtual",
        "link": "https://meet.example.org/welcome",
    }
    first = alliance.call("POST", "/meetings", meeting, headers=key)
    assert first.status_code == 201, first.text
    replayed = alliance.call("POST", "/meetings", meeting, headers=key)
    assert replayed.headers.get("idempotent-replayed") == "true"
    assert erase(alliance).status_code == 201

    again = alliance.call("POST", "/meetings", meeting, headers=key)

    assert again.status_code == 409, again.text
    assert again.json()["type"] == "urn:concord:problem:idempotency-answer-forgotten"
    scheduled = [e for e in whole_log(alliance) if e["data"].get("title") == "Welcome"]
    assert len(scheduled) == 1


# ---------------------------------------------------------------------------- bad requests


def test_bad_requests_are_refused_with_problem_details_and_record_nothing(story):
    alliance = story.alliance
    access, erasures, holds = (f"{PRIVACY}/{p}" for p in ("subject-access", "erasures", "holds"))
    reason = {"reason": "the person asked us to"}
    bad: list[tuple[str, dict[str, Any], int]] = [
        (access, {}, 422),
        (access, {"name": ""}, 422),
        (access, {"name": "   "}, 422),
        (access, {"email": "not-an-email"}, 422),
        (access, PERSON | {"phone": "01234 567890"}, 422),
        (access, {"name": "Nobody Known"}, 404),
        (erasures, reason, 422),
        (erasures, PERSON, 422),
        (erasures, PERSON | {"reason": ""}, 422),
        (erasures, PERSON | {"reason": "   "}, 422),
        (erasures, PERSON | {"reason": f"{NAME.lower()} asked"}, 422),
        (erasures, PERSON | {"reason": f"asked by email from {EMAIL}"}, 422),
        (erasures, {"name": "Nobody Known", **reason}, 404),
        (holds, PERSON | {"reason": "safeguarding", "until": "2030-02-30"}, 422),
        (holds, PERSON | {"reason": "safeguarding", "until": "2029-12-31"}, 422),
        (holds, {"email": "nobody@example.org", "reason": "safeguarding"}, 404),
        (holds, PERSON, 422),
        (f"{holds}/no-such-hold/lift", {"reason": "done"}, 404),
        (f"{holds}/no-such-hold/lift", {}, 422),
    ]
    for path, body, status in bad:
        problem = assert_problem(alliance.call("POST", path, body), status)
        assert "Traceback" not in json.dumps(problem), (path, body)
        if body.get("reason", "").startswith(("quillon", "asked by email")):
            assert "must not name the person" in problem["detail"]
    malformed = alliance.client.post(
        f"{alliance.base}{erasures}",
        content=b'{"name": ',
        headers={**alliance.headers, "content-type": "application/json"},
    )
    assert_problem(malformed, 400)
    assert_problem(
        alliance.client.post(f"/v1/tenants/no-such-alliance{access}", json=PERSON, headers=ADMIN),
        404,
    )

    assert alliance.get(f"{PRIVACY}/erasures")["items"] == []
    assert alliance.get(f"{PRIVACY}/holds")["items"] == []
    assert NAME in json.dumps(alliance.get(f"/members/{story.member}/representatives"))


# ---------------------------------------------------------------------------- who may


def test_only_the_tenant_admin_acts_and_auditors_only_read_the_register(story):
    alliance = story.alliance
    keys = {role: issue_key(alliance, role) for role in ("officer", "auditor")}
    keys["member"] = issue_key(alliance, "member", story.member)
    keys["platform-admin"] = ADMIN
    placed = alliance.post(f"{PRIVACY}/holds", PERSON | {"reason": "legal claim"}, status=201)
    acts = [
        (f"{PRIVACY}/subject-access", PERSON),
        (f"{PRIVACY}/erasures", PERSON | {"reason": "asked"}),
        (f"{PRIVACY}/holds", PERSON | {"reason": "legal claim"}),
        (f"{PRIVACY}/holds/{placed['hold_id']}/lift", {"reason": "settled"}),
    ]

    for role, headers in keys.items():
        for path, body in acts:
            response = alliance.call("POST", path, body, headers=headers)
            assert_problem(response, 403)
            assert NAME not in response.text, (role, path)
        for path in (f"{PRIVACY}/erasures", f"{PRIVACY}/holds"):
            response = alliance.call("GET", path, headers=headers)
            assert response.status_code == (200 if role == "auditor" else 403), (role, path)

    [hold] = alliance.call("GET", f"{PRIVACY}/holds", headers=keys["auditor"]).json()["items"]
    assert hold["active"] is True  # nobody but the tenant admin changed anything
    assert alliance.get(f"{PRIVACY}/erasures")["items"] == []


def test_another_alliance_can_neither_see_nor_erase_this_alliances_people(story, onboard):
    alliance = story.alliance
    other_secret = onboard("fja", template="kinship-care", name="Other Alliance")["admin_key"][
        "secret"
    ]
    other = Alliance(alliance.client, "kinship-care", other_secret, slug="fja")
    other_member = admit(other, "Kinship Elsewhere")
    other.add_representative(other_member, NAME, email=EMAIL)  # the same person, there too
    other_admin = bearer(other_secret)

    for method, path, body in (
        ("POST", f"{PRIVACY}/subject-access", PERSON),
        ("POST", f"{PRIVACY}/erasures", PERSON | {"reason": "asked"}),
        ("POST", f"{PRIVACY}/holds", PERSON | {"reason": "claim"}),
        ("GET", f"{PRIVACY}/erasures", None),
        ("GET", f"{PRIVACY}/holds", None),
    ):
        response = alliance.call(method, path, body, headers=other_admin)
        assert_problem(response, 404)
        assert NAME not in response.text

    # Erasing here erases nothing there: each alliance keeps its own keys and secret.
    assert erase(alliance).status_code == 201
    theirs = other.get(f"/members/{other_member}/representatives")["items"]
    assert [(r["name"], r["email"]) for r in theirs] == [(NAME, EMAIL)]
    here = alliance.call("POST", f"{PRIVACY}/subject-access", PERSON)
    there = other.call("POST", f"{PRIVACY}/subject-access", PERSON)
    assert here.status_code == 404 and there.status_code == 200
    assert set(here_refs := there.json()["subject_refs"]).isdisjoint(
        alliance.get(f"{PRIVACY}/erasures")["items"][0]["subject_refs"]
    ), here_refs


def test_a_suspended_alliance_still_answers_its_peoples_rights(story):
    alliance = story.alliance
    suspended = alliance.client.post(
        f"/v1/tenants/{SLUG}/suspend", json={"reason": "unpaid"}, headers=ADMIN
    )
    assert suspended.status_code == 200, suspended.text
    assert_problem(  # the alliance's own business stops ...
        alliance.call("POST", f"/members/{story.member}/representatives", PERSON | {"role": "r"}),
        409,
    )

    # ... its people's rights do not.
    assert alliance.call("POST", f"{PRIVACY}/subject-access", PERSON).status_code == 200
    assert erase(alliance).status_code == 201
    assert alliance.call("POST", f"{PRIVACY}/subject-access", PERSON).status_code == 404


def test_erasing_a_signatory_leaves_the_individual_they_signed_for(story):
    """An individual's application is sealed under the individual's own key: erasing the
    person who signed it for them must not erase the individual."""
    alliance = story.alliance
    alliance.apply(
        "Dr Wren Halloway",
        capacity="individual",
        email="wren.halloway@example.org",
        signatory_name="Tamsin Oakridge",
        signatory_role="Chief Executive",
    )

    found = alliance.call("POST", f"{PRIVACY}/subject-access", {"name": "Tamsin Oakridge"})
    done = erase(alliance, name="Tamsin Oakridge", email=None)

    [signed] = found.json()["events"]
    assert (signed["type"], signed["sealed"], signed["erasable"]) == (
        "MembershipApplicationSubmitted",
        True,
        False,
    )
    assert done.status_code == 201, done.text
    assert (done.json()["keys_destroyed"], done.json()["fields_left"]) == (0, 1)
    applications = alliance.get("/applications")["items"]
    assert "Dr Wren Halloway" in [a["person_name"] for a in applications]


def test_an_erasure_interrupted_after_its_keys_were_destroyed_completes_when_asked_again(
    story,
):
    """A process that stopped between destroying the keys and recording the completion:
    the request stays pending, and asking again finishes it (nothing is left to find)."""
    alliance = story.alliance
    runtime = alliance.client.app.state.runtime
    with runtime.tenant(SLUG) as store:
        who = privacy.wanted(NAME, EMAIL)
        subject = privacy.find_subject(store, who)
        register = DataSubjectRequests.open(SLUG)
        pending = register.request_erasure(
            subject_refs=subject.refs, reason="asked", by="key:admin", now=START
        )
        store.record(register)
        assert store.app.mapper.keyring.destroy(subject.key_ids) == 2  # then the process stops
    [listed] = alliance.get(f"{PRIVACY}/erasures")["items"]
    assert listed["status"] == "requested"

    response = erase(alliance)

    assert response.status_code == 201, response.text
    assert (response.json()["request_id"], response.json()["status"]) == (pending, "completed")
    [listed] = alliance.get(f"{PRIVACY}/erasures")["items"]
    assert listed["status"] == "completed"
    reps = alliance.get(f"/members/{story.member}/representatives")["items"]
    assert ERASED in [r["name"] for r in reps]  # the read models were rebuilt
