"""Meetings, minutes and action items through the API, on both stores: a meeting's life from
its schedule to corrected minutes; every refusal with its status, problem type and clause
(and nothing half-written after it); the hash commitments recomputed from the kept text;
overdue actions; the compliance calendar of the meetings the ToR requires; paging; and the
alliance's setting of who may read confidential minutes.

The clock is the runtime's: every alliance here is founded at START and time moves on
only when a test moves it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec
import pytest

from domain.minutes import COMMITMENT_DOMAIN, CONFIDENTIAL_NOTICE, Item, canonical, commitment
from tests.conftest import ADMIN
from tests.e2e.test_membership_api import admit, issue_key
from tests.e2e.test_membership_year import Alliance, assert_problem

#: The alliance is founded, and its ToR takes effect, at this moment (a Tuesday).
START = datetime(2030, 1, 15, 9, 0, tzinfo=UTC)
LINK = "https://meet.example.org/kinship-quarterly"
INVALID = "urn:concord:problem:invalid-request"
NOT_FOUND = "urn:concord:problem:not-found"
FORBIDDEN = "urn:concord:problem:forbidden"
RULE_BROKEN = "urn:concord:problem:tor-rule-broken"
MEETING_STATE = "urn:concord:problem:meeting-state"
MINUTES_STATE = "urn:concord:problem:minutes-state"
ACTION_STATE = "urn:concord:problem:action-item-state"
MEMBER_STATE = "urn:concord:problem:member-state"
INVALID_MEETING = "urn:concord:problem:invalid-meeting"
INVALID_MINUTES = "urn:concord:problem:invalid-minutes"
UNKNOWN_ROLE = "urn:concord:problem:unknown-role"
FM, EXEC = "full-membership", "executive-committee"
SECRET_TEXT = "The Jones family's kinship allowance was stopped in error."
SECRET_ACTION = "Ring the Jones family about the allowance"


def on(days: int, hour: int = 10) -> datetime:
    """A moment `days` after START, at `hour` o'clock UTC."""
    return (START + timedelta(days=days)).replace(hour=hour)


SCHEDULE = {"body": FM, "title": "Quarterly", "starts_at": on(7).isoformat(), "format": "virtual"}
ITEM = {"title": "Welcome", "text": "Hello."}
ACTION = {"description": "d", "owner_kind": "office", "owner": "chair", "due_on": "2030-03-01"}


@dataclass
class Kin:
    """A kinship-care alliance founded at START with three member organisations; the first
    has two representatives (the ToR's most)."""

    alliance: Alliance
    members: list[str]
    reps: list[str]

    def at(self, moment: datetime) -> None:
        self.alliance.move_clock_to(moment)

    def schedule(
        self, starts_at: datetime, *, body: str = FM, agenda: tuple[str, ...] = (), **fields: Any
    ) -> dict[str, Any]:
        request = {
            "body": body,
            "title": f"{body} meeting",
            "starts_at": starts_at.isoformat(),
            "format": "virtual",
            "link": LINK,
            "agenda": list(agenda),
            **fields,
        }
        return dict(self.alliance.post("/meetings", request, status=201))

    def hold(self, meeting_id: str, **fields: Any) -> dict[str, Any]:
        body = {"attendance": [{"member_id": self.members[0]}], **fields}
        return dict(self.alliance.post(f"/meetings/{meeting_id}/hold", body))

    def held(self, starts_at: datetime, *, body: str = FM) -> str:
        """A meeting scheduled, then held on its day (the clock is left on that day)."""
        meeting_id = str(self.schedule(starts_at, body=body)["meeting_id"])
        self.at(starts_at)
        self.hold(meeting_id)
        return meeting_id

    def draft(self, meeting_id: str, items: list[dict[str, Any]], **fields: Any) -> dict[str, Any]:
        body = {"meeting_id": meeting_id, "items": items, **fields}
        return dict(self.alliance.post("/minutes", body, status=201))

    def approved(self, items: list[dict[str, Any]], day: int = 7, **fields: Any) -> dict[str, Any]:
        """Minutes of a meeting held `day` days after START, approved by the full
        membership (the clock is left on that day)."""
        minutes = self.draft(self.held(on(day)), items, **fields)
        return dict(
            self.alliance.post(f"/minutes/{minutes['minutes_id']}/approve", {"by_body": FM})
        )

    def log_length(self) -> int:
        """How many events the alliance's log holds."""
        count, after = 0, 0
        while True:
            page = self.alliance.get("/events", after=after, limit=200)
            count += len(page["items"])
            if page["next_after"] is None:
                return count
            after = page["next_after"]


@pytest.fixture
def kin(client, onboard) -> Kin:
    client.app.state.runtime.clock = lambda: START
    secret = onboard("kca", template="kinship-care", name="Kinship Care Alliance")["admin_key"][
        "secret"
    ]
    alliance = Alliance(client, "kinship-care", secret, slug="kca")
    members = [admit(alliance, name) for name in ("Kinship", "Family Rights Group", "Grandkin")]
    reps = [
        alliance.add_representative(members[0], name)["items"][-1]["representative_id"]
        for name in ("Ada Price", "Bo Reed")
    ]
    return Kin(alliance=alliance, members=members, reps=reps)


def action(action_id: str, due_on: str, *, owner_kind: str = "office", owner: str = "chair"):
    return {
        "action_id": action_id,
        "description": f"Action {action_id}",
        "owner_kind": owner_kind,
        "owner": owner,
        "due_on": due_on,
    }


def items_of(kin: Kin) -> list[dict[str, Any]]:
    """A public item with a decision and an action, and a confidential item with one."""
    return [
        {
            "item_id": "welcome",
            "title": "Welcome",
            "text": "The chair welcomed the members.",
            "decisions": ["The agenda was agreed."],
            "actions": [action("slides", "2030-03-01", owner_kind="member", owner=kin.members[0])],
        },
        {
            "item_id": "case",
            "title": "A family's case",
            "text": SECRET_TEXT,
            "confidential": True,
            "actions": [{**action("call", "2030-02-15"), "description": SECRET_ACTION}],
        },
    ]


def kept_item(item: dict[str, Any]) -> Item:
    """The domain Item a reader's copy of an approved item stands for."""
    fields = ("item_id", "title", "text", "decisions", "actions", "confidential")
    return msgspec.convert({name: item[name] for name in fields}, Item)


def check_commitments(minutes: dict[str, Any], public: dict[str, Any]) -> None:
    """Each item's commitment is SHA-256 over its salt and the kept item, and is the one
    the public version shows; the digest binds them all, in order, to the meeting."""
    salts = minutes["salts"]
    assert set(salts) == {item["item_id"] for item in minutes["items"]}
    # The public version names items by position (a confidential item not even by id).
    shown = {item["position"]: item["commitment"] for item in public["items"]}
    for position, item in enumerate(minutes["items"], start=1):
        assert item["position"] == position
        recomputed = commitment(salts[item["item_id"]], kept_item(item))
        assert recomputed == item["commitment"] == shown[position], item["item_id"]
        other_salt = "00" * 16
        assert commitment(other_salt, kept_item(item)) != recomputed
        altered = msgspec.structs.replace(kept_item(item), text=item["text"] + ".")
        assert commitment(salts[item["item_id"]], altered) != recomputed
    # Anyone can check the digest from the public version alone.
    whole = {
        "meeting_id": public["meeting_id"],
        "confidential": public["confidential"],
        "commitments": [item["commitment"] for item in public["items"]],
    }
    digest = hashlib.sha256(COMMITMENT_DOMAIN + canonical(whole)).hexdigest()
    assert digest == minutes["digest"] == public["digest"]


def ids(n: int) -> list[str]:
    """n well-formed ids that name nothing here."""
    return [f"00000000-0000-4000-8000-{i:012d}" for i in range(1, n + 1)]


def titles(meeting: dict[str, Any]) -> list[str]:
    return [item["title"] for item in meeting["agenda"]]


# ---------------------------------------------------------------------------- the whole life


def test_a_meeting_runs_from_its_schedule_to_corrected_minutes(kin):
    alliance, (first, second, third) = kin.alliance, kin.members
    meeting = kin.schedule(on(7), agenda=("Welcome", "Budget"))
    meeting_id = meeting["meeting_id"]
    assert meeting["status"] == "scheduled" and meeting["main"] is True
    assert meeting["body"] == FM and meeting["format"] == "virtual" and meeting["link"] == LINK
    assert meeting["starts_at"] == "2030-01-22T10:00:00Z" and meeting["under_version"] == 1
    assert titles(meeting) == ["Welcome", "Budget"] and meeting["held_on"] is None

    added = alliance.post(f"/meetings/{meeting_id}/agenda", {"title": "Allowances"}, status=201)
    budget = added["agenda"][1]["item_id"]
    withdrawn = alliance.call("DELETE", f"/meetings/{meeting_id}/agenda/{budget}")
    assert withdrawn.status_code == 200, withdrawn.text
    assert titles(withdrawn.json()) == ["Welcome", "Allowances"]
    moved = alliance.post(
        f"/meetings/{meeting_id}/reschedule",
        {
            "starts_at": "2030-01-23T11:30:00+01:00",
            "format": "in-person",
            "location": "Town hall",
            "reason": "the room was double-booked",
        },
    )
    assert moved["starts_at"] == "2030-01-23T10:30:00Z"
    assert (moved["format"], moved["location"], moved["link"]) == ("in-person", "Town hall", None)

    kin.at(on(8))
    held = kin.hold(
        meeting_id,
        attendance=[{"member_id": first, "representative_ids": kin.reps}, {"member_id": second}],
        apologies=[third],
    )
    assert held["status"] == "held" and held["held_on"] == "2030-01-23"
    assert held["attendance"] == [
        {"member_id": first, "representative_ids": kin.reps},
        {"member_id": second, "representative_ids": []},
    ]
    assert held["apologies"] == [third]
    assert held["quorum_needed"] is None and held["quorate"] is True  # kinship care sets none
    for path, body in [
        ("agenda", {"title": "Late item"}),
        ("cancel", {"reason": "too late"}),
        ("hold", {"attendance": []}),
        ("reschedule", {"starts_at": on(9).isoformat(), "format": "virtual", "reason": "r"}),
    ]:
        problem = assert_problem(alliance.call("POST", f"/meetings/{meeting_id}/{path}", body), 409)
        assert problem["type"] == MEETING_STATE and "held" in problem["detail"], problem

    drafted = kin.draft(meeting_id, items_of(kin))
    minutes_id = drafted["minutes_id"]
    assert drafted["status"] == "draft" and drafted["published"] is False
    assert drafted["meeting_id"] == meeting_id and drafted["meeting_date"] == "2030-01-23"
    assert [i["item_id"] for i in drafted["items"]] == ["welcome", "case"]
    assert drafted["items"][1]["text"] == SECRET_TEXT and drafted["redacted"] is False
    assert drafted["digest"] is None and drafted["salts"] is None
    assert all(i["commitment"] is None for i in drafted["items"])

    amended_items = items_of(kin)
    amended_items[0]["text"] = "The chair welcomed the members and a guest."
    amended_items.append({"item_id": "aob", "title": "Any other business", "text": "None."})
    amended = alliance.call(
        "PUT", f"/minutes/{minutes_id}", {"items": amended_items, "confidential": False}
    )
    assert amended.status_code == 200, amended.text
    assert amended.json()["items"][0]["text"].endswith("and a guest.")
    assert [i["item_id"] for i in amended.json()["items"]] == ["welcome", "case", "aob"]

    next_meeting = kin.held(on(40))
    approved = alliance.post(
        f"/minutes/{minutes_id}/approve",
        {"by_body": FM, "at_meeting_id": next_meeting, "decision_ref": "Minute 2"},
    )
    assert approved["status"] == "approved" and approved["approved_on"] == "2030-02-24"
    assert approved["approved_by_body"] == FM and approved["approved_at_meeting_id"] == next_meeting
    assert approved["decision_ref"] == "Minute 2" and approved["approved_by"]
    actions = alliance.get("/action-items", minutes_id=minutes_id)["items"]
    assert [(a["action_id"], a["confidential"]) for a in actions] == [
        ("slides", False),
        ("call", True),
    ]
    assert actions[1]["description"] == SECRET_ACTION and actions[1]["item_id"] == "case"

    published = alliance.post(f"/minutes/{minutes_id}/publish")
    assert published["published"] is True and published["published_on"] == "2030-02-24"
    public = alliance.get(f"/minutes/{minutes_id}/public")
    assert public["minutes_id"] == minutes_id and public["published_on"] == "2030-02-24"
    check_commitments(published, public["public"])
    case = public["public"]["items"][1]
    assert case == {
        "item_id": None,
        "position": 2,
        "confidential": True,
        "notice": CONFIDENTIAL_NOTICE,
        "commitment": published["items"][1]["commitment"],
    }
    assert public["public"]["items"][0]["text"].endswith("and a guest.")

    corrected = alliance.post(
        f"/minutes/{minutes_id}/corrections",
        {
            "item_id": "welcome",
            "text": "The vice-chair welcomed the members and a guest.",
            "reason": "the chair was absent",
            "by_body": FM,
            "decision_ref": "Minute 3",
        },
        status=201,
    )
    [correction] = corrected["corrections"]
    kept = {
        "correction_id": correction["correction_id"],
        "item_id": "welcome",
        "text": correction["text"],
    }
    assert commitment(correction["salt"], kept) == correction["commitment"]
    assert corrected["items"] == published["items"]  # the approved text stays as it was
    [shown] = alliance.get(f"/minutes/{minutes_id}/public")["public"]["corrections"]
    assert shown["text"] == correction["text"] and shown["reason"] == "the chair was absent"
    assert shown["commitment"] == correction["commitment"] and "salt" not in shown

    assert [m["minutes_id"] for m in alliance.get("/minutes", status="published")["items"]] == [
        minutes_id
    ]
    assert alliance.get("/minutes", status="draft")["items"] == []
    assert [m["meeting_id"] for m in alliance.get("/meetings", status="held")["items"]] == [
        meeting_id,
        next_meeting,
    ]
    assert alliance.get("/meetings", body=EXEC)["items"] == []
    in_january = alliance.get("/meetings", **{"from": "2030-01-01", "to": "2030-01-31"})
    assert [m["meeting_id"] for m in in_january["items"]] == [meeting_id]


def test_a_cancelled_meeting_is_neither_held_nor_minuted(kin):
    alliance = kin.alliance
    meeting_id = kin.schedule(on(7))["meeting_id"]

    cancelled = alliance.post(f"/meetings/{meeting_id}/cancel", {"reason": "no quorum"})

    assert cancelled["status"] == "cancelled" and cancelled["cancelled_reason"] == "no quorum"
    kin.at(on(7))
    before = kin.log_length()
    for method, path, body in [
        ("POST", f"/meetings/{meeting_id}/hold", {"attendance": []}),
        ("POST", f"/meetings/{meeting_id}/cancel", {"reason": "again"}),
        ("POST", "/minutes", {"meeting_id": meeting_id, "items": [{"title": "t", "text": "x"}]}),
    ]:
        problem = assert_problem(alliance.call(method, path, body), 409)
        assert problem["type"] == MEETING_STATE and "cancelled" in problem["detail"]
    assert kin.log_length() == before


# ---------------------------------------------------------------------------- refusals


def test_approved_minutes_are_locked_for_ever(kin):
    alliance = kin.alliance
    minutes_id = kin.approved(items_of(kin))["minutes_id"]
    before = kin.log_length()

    twice = assert_problem(
        alliance.call("POST", f"/minutes/{minutes_id}/approve", {"by_body": FM}), 409
    )
    edited = assert_problem(
        alliance.call("PUT", f"/minutes/{minutes_id}", {"items": [ITEM], "confidential": False}),
        409,
    )

    assert twice["type"] == MINUTES_STATE and "already approved" in twice["detail"]
    assert edited["type"] == MINUTES_STATE
    assert "locked" in edited["detail"] and "correction" in edited["detail"]
    assert kin.log_length() == before
    assert alliance.get(f"/minutes/{minutes_id}")["items"][1]["text"] == SECRET_TEXT
    assert len(alliance.get("/action-items")["items"]) == 2  # raised once, not twice
    alliance.post(f"/minutes/{minutes_id}/publish")
    again = assert_problem(alliance.call("POST", f"/minutes/{minutes_id}/publish"), 409)
    assert again["type"] == MINUTES_STATE and "already published" in again["detail"]
    correction = {"text": "t", "reason": "r", "by_body": FM, "decision_ref": "d"}
    path = f"/minutes/{minutes_id}/corrections"
    before = kin.log_length()
    unknown_item = assert_problem(
        alliance.call("POST", path, correction | {"item_id": "nothing"}), 422
    )
    assert unknown_item["type"] == INVALID_MINUTES and "nothing" in unknown_item["detail"]
    alliance.refused("POST", path, correction | {"by_body": EXEC}, rule="minutes")
    assert kin.log_length() == before
    assert alliance.get(f"/minutes/{minutes_id}")["corrections"] == []


def test_minutes_are_drafted_once_and_only_for_a_held_meeting(kin):
    alliance = kin.alliance
    item = [{"title": "Welcome", "text": "Hello."}]
    scheduled = kin.schedule(on(20))["meeting_id"]
    held = kin.held(on(7))
    minutes_id = kin.draft(held, item)["minutes_id"]
    before = kin.log_length()

    unheld = assert_problem(
        alliance.call("POST", "/minutes", {"meeting_id": scheduled, "items": item}), 409
    )
    twice = assert_problem(
        alliance.call("POST", "/minutes", {"meeting_id": held, "items": item}), 409
    )
    published = assert_problem(alliance.call("POST", f"/minutes/{minutes_id}/publish"), 409)
    corrected = assert_problem(
        alliance.call(
            "POST",
            f"/minutes/{minutes_id}/corrections",
            {"text": "t", "reason": "r", "by_body": FM, "decision_ref": "d"},
        ),
        409,
    )

    assert unheld["type"] == MEETING_STATE and "scheduled" in unheld["detail"]
    assert twice["type"] == MINUTES_STATE and "already has minutes" in twice["detail"]
    assert published["type"] == MINUTES_STATE and "draft" in published["detail"]
    assert corrected["type"] == MINUTES_STATE and "amend" in corrected["detail"]
    assert kin.log_length() == before
    assert [m["minutes_id"] for m in alliance.get("/minutes")["items"]] == [minutes_id]


def test_a_meeting_is_held_on_or_after_its_day(kin):
    alliance = kin.alliance
    meeting_id = kin.schedule(on(7))["meeting_id"]
    before = kin.log_length()

    early = assert_problem(
        alliance.call("POST", f"/meetings/{meeting_id}/hold", {"attendance": []}), 409
    )

    assert early["type"] == MEETING_STATE and "2030-01-22" in early["detail"]
    assert kin.log_length() == before
    assert alliance.get(f"/meetings/{meeting_id}")["status"] == "scheduled"
    kin.at(on(7, hour=0))  # the day has come, though not yet the hour
    assert kin.hold(meeting_id)["status"] == "held"


def test_no_organisation_sends_more_people_than_the_tor_allows(kin):
    alliance = kin.alliance
    first, second, _ = kin.members
    meeting_id = kin.schedule(on(7))["meeting_id"]
    kin.at(on(7))
    # The ToR drops to one representative each (the first member still lists two).
    alliance.amend(rules=[{"path": "membership.max_representatives", "value": 1}], clauses=[])
    before = kin.log_length()
    path = f"/meetings/{meeting_id}/hold"

    problem = alliance.refused(
        "POST",
        path,
        {"attendance": [{"member_id": first, "representative_ids": kin.reps}]},
        rule="membership.max_representatives",
    )

    assert problem["clause"] == "4.4" and "sent 2 people" in problem["detail"]
    other_rep = alliance.add_representative(second, "Cy Dale")["items"][0]["representative_id"]
    before = kin.log_length()
    for attendance, apologies, expected in [
        ([{"member_id": first, "representative_ids": [other_rep]}], [], "not a representative"),
        ([{"member_id": first}, {"member_id": first}], [], "more than once"),
        ([{"member_id": first}], [first], "both attended and sent apologies"),
    ]:
        refused = assert_problem(
            alliance.call("POST", path, {"attendance": attendance, "apologies": apologies}), 422
        )
        assert refused["type"] == INVALID_MEETING and expected in refused["detail"], refused
    assert kin.log_length() == before
    assert alliance.get(f"/meetings/{meeting_id}")["status"] == "scheduled"


def test_a_representative_named_twice_is_refused(kin):
    first = kin.members[0]
    meeting_id = kin.schedule(on(7))["meeting_id"]
    kin.at(on(7))
    before = kin.log_length()

    response = kin.alliance.call(
        "POST",
        f"/meetings/{meeting_id}/hold",
        {"attendance": [{"member_id": first, "representative_ids": [kin.reps[0]] * 2}]},
    )

    problem = assert_problem(response, 422)
    assert problem["type"] == INVALID_MEETING and "named twice" in problem["detail"]
    assert kin.log_length() == before


def test_only_active_members_attend(kin):
    alliance = kin.alliance
    first, second, _ = kin.members
    alliance.post(
        f"/members/{second}/suspend",
        {"reason": "arrears", "by_body": EXEC, "decision_ref": "exec 4"},
    )
    meeting_id = kin.schedule(on(7))["meeting_id"]
    kin.at(on(7))
    before = kin.log_length()
    path = f"/meetings/{meeting_id}/hold"

    suspended = assert_problem(
        alliance.call("POST", path, {"attendance": [{"member_id": second}]}), 409
    )

    assert suspended["type"] == MEMBER_STATE and "suspended" in suspended["detail"]
    assert kin.log_length() == before
    held = kin.hold(meeting_id, attendance=[{"member_id": first}], apologies=[second])
    assert held["apologies"] == [second]


def test_minutes_are_approved_by_the_body_the_tor_names_at_its_later_held_meeting(kin):
    alliance = kin.alliance
    earlier = kin.held(on(5))
    minuted = kin.held(on(7))
    minutes_id = kin.draft(minuted, items_of(kin))["minutes_id"]
    executive = kin.held(on(10), body=EXEC)
    unheld = kin.schedule(on(60))["meeting_id"]
    before = kin.log_length()
    path = f"/minutes/{minutes_id}/approve"

    for body in ({"by_body": EXEC}, {"by_body": EXEC, "at_meeting_id": executive}):
        problem = alliance.refused("POST", path, body, rule="minutes")
        assert problem["clause"] == "8" and "executive-committee" in problem["detail"]
    for at_meeting, expected in [
        (executive, "is a meeting of 'executive-committee'"),
        (unheld, "is scheduled"),
        (minuted, "later meeting"),
        (earlier, "later meeting"),
    ]:
        problem = assert_problem(
            alliance.call("POST", path, {"by_body": FM, "at_meeting_id": at_meeting}), 409
        )
        assert problem["type"] == MEETING_STATE and expected in problem["detail"], problem
    unknown = alliance.call("POST", path, {"by_body": FM, "at_meeting_id": str(ids(1)[0])})
    assert assert_problem(unknown, 404)["type"] == NOT_FOUND

    assert kin.log_length() == before
    assert alliance.get(f"/minutes/{minutes_id}")["status"] == "draft"
    assert alliance.get("/action-items")["items"] == []
    kin.at(on(60))
    kin.hold(unheld)
    approved = alliance.post(path, {"by_body": FM, "at_meeting_id": unheld})
    assert approved["status"] == "approved" and approved["approved_at_meeting_id"] == unheld


def test_unknown_meetings_minutes_and_action_items_are_not_found(kin):
    alliance = kin.alliance
    meeting_id = kin.schedule(on(7))["meeting_id"]
    draft_id = kin.draft(kin.held(on(7)), [{"title": "t", "text": "x"}])["minutes_id"]
    note = {"note": "n"}
    correction = {"text": "t", "reason": "r", "by_body": FM, "decision_ref": "d"}
    before = kin.log_length()

    for unknown in (ids(1)[0], "not-an-id"):
        calls = [
            ("GET", f"/meetings/{unknown}", None),
            (
                "POST",
                f"/meetings/{unknown}/reschedule",
                {"starts_at": on(9).isoformat(), "format": "virtual", "reason": "r"},
            ),
            ("POST", f"/meetings/{unknown}/agenda", {"title": "t"}),
            ("DELETE", f"/meetings/{unknown}/agenda/{unknown}", None),
            ("DELETE", f"/meetings/{meeting_id}/agenda/{unknown}", None),
            ("POST", f"/meetings/{unknown}/cancel", {"reason": "r"}),
            ("POST", f"/meetings/{unknown}/hold", {"attendance": []}),
            ("POST", f"/meetings/{meeting_id}/hold", {"attendance": [{"member_id": unknown}]}),
            ("POST", f"/meetings/{meeting_id}/hold", {"attendance": [], "apologies": [unknown]}),
            ("POST", "/minutes", {"meeting_id": unknown, "items": [{"title": "t", "text": "x"}]}),
            ("GET", f"/minutes/{unknown}", None),
            ("GET", f"/minutes/{unknown}/public", None),
            ("GET", f"/minutes/{draft_id}/public", None),  # not published
            ("PUT", f"/minutes/{unknown}", {"items": [ITEM], "confidential": False}),
            ("POST", f"/minutes/{unknown}/approve", {"by_body": FM}),
            ("POST", f"/minutes/{unknown}/publish", None),
            ("POST", f"/minutes/{unknown}/corrections", correction),
            ("GET", f"/action-items/{unknown}", None),
            ("POST", f"/action-items/{unknown}/progress", note),
            ("POST", f"/action-items/{unknown}/complete", note),
        ]
        for method, path, body in calls:
            problem = assert_problem(alliance.call(method, path, body), 404)
            assert problem["type"] == NOT_FOUND, (method, path, problem)

    assert kin.log_length() == before


def bad_bodies(
    meeting_id: str, held_id: str, minutes_id: str, action_id: str
) -> list[tuple[str, str, Any, str]]:
    """(method, path, body, the field the refusal must name), on a scheduled meeting, a
    held one without minutes, approved minutes and one of their action items."""
    draft = {"meeting_id": held_id}
    return [
        ("POST", "/meetings", SCHEDULE | {"starts_at": "2030-02-01T10:00:00"}, "starts_at"),
        ("POST", "/meetings", SCHEDULE | {"starts_at": "1999-12-31T10:00:00+00:00"}, "starts_at"),
        ("POST", "/meetings", SCHEDULE | {"starts_at": "next tuesday"}, "starts_at"),
        ("POST", "/meetings", SCHEDULE | {"link": "ftp://files.example.org/x"}, "link"),
        ("POST", "/meetings", SCHEDULE | {"link": "javascript:alert(1)"}, "link"),
        ("POST", "/meetings", SCHEDULE | {"link": "https://a b.example.org"}, "link"),
        ("POST", "/meetings", SCHEDULE | {"title": "x" * 201}, "title"),
        ("POST", "/meetings", SCHEDULE | {"title": ""}, "title"),
        ("POST", "/meetings", SCHEDULE | {"location": "x" * 301}, "location"),
        ("POST", "/meetings", SCHEDULE | {"agenda": ["x" * 201]}, "agenda[0]"),
        ("POST", "/meetings", SCHEDULE | {"agenda": ["a"] * 51}, "agenda"),
        ("POST", "/meetings", SCHEDULE | {"format": "hybrid"}, "format"),
        ("POST", "/meetings", SCHEDULE | {"body": "Full Membership"}, "body"),
        ("POST", "/meetings", SCHEDULE | {"colour": "blue"}, "colour"),
        (
            "POST",
            f"/meetings/{meeting_id}/reschedule",
            {"starts_at": "2030-02-01T10:00:00", "format": "virtual", "reason": "r"},
            "starts_at",
        ),
        (
            "POST",
            f"/meetings/{meeting_id}/reschedule",
            {"starts_at": on(9).isoformat(), "format": "virtual"},
            "reason",
        ),
        ("POST", f"/meetings/{meeting_id}/agenda", {"title": "x" * 201}, "title"),
        ("POST", f"/meetings/{meeting_id}/cancel", {"reason": "x" * 5001}, "reason"),
        ("POST", f"/meetings/{meeting_id}/hold", {"apologies": []}, "attendance"),
        ("POST", f"/meetings/{meeting_id}/hold", {"attendance": [], "late": []}, "late"),
        (
            "POST",
            f"/meetings/{meeting_id}/hold",
            {"attendance": [{"member_id": "m", "name": "Ada"}]},
            "name",
        ),
        ("POST", "/minutes", draft | {"items": []}, "items"),
        ("POST", "/minutes", draft | {"items": [ITEM] * 101}, "items"),
        ("POST", "/minutes", draft | {"items": [ITEM | {"text": "x" * 20_001}]}, "text"),
        ("POST", "/minutes", draft | {"items": [ITEM | {"title": "x" * 201}]}, "title"),
        ("POST", "/minutes", draft | {"items": [ITEM | {"item_id": "a b"}]}, "item_id"),
        ("POST", "/minutes", draft | {"items": [ITEM | {"secret": True}]}, "secret"),
        ("POST", "/minutes", draft | {"items": [ITEM], "public": True}, "public"),
        ("POST", "/minutes", draft | {"items": [ITEM | {"decisions": ["x" * 5001]}]}, "decisions"),
        (
            "POST",
            "/minutes",
            draft | {"items": [ITEM | {"actions": [ACTION | {"owner_kind": "person"}]}]},
            "owner_kind",
        ),
        (
            "POST",
            "/minutes",
            draft | {"items": [ITEM | {"actions": [ACTION | {"due_on": "soon"}]}]},
            "due_on",
        ),
        (
            "POST",
            "/minutes",
            draft | {"items": [ITEM | {"actions": [ACTION | {"description": "x" * 5001}]}]},
            "description",
        ),
        (
            "POST",
            "/minutes",
            draft | {"items": [ITEM | {"actions": [ACTION | {"owner": ""}]}]},
            "owner",
        ),
        ("POST", "/minutes", {"items": [ITEM]}, "meeting_id"),
        ("PUT", f"/minutes/{minutes_id}", {"items": [], "confidential": False}, "items"),
        (
            "PUT",
            f"/minutes/{minutes_id}",
            {"items": [ITEM], "confidential": False, "status": "approved"},
            "status",
        ),
        # Leaving confidentiality out could make confidential minutes public: it is required.
        ("PUT", f"/minutes/{minutes_id}", {"items": [ITEM]}, "confidential"),
        ("POST", f"/minutes/{minutes_id}/approve", {"by_body": FM, "votes": 3}, "votes"),
        ("POST", f"/minutes/{minutes_id}/approve", {}, "by_body"),
        (
            "POST",
            f"/minutes/{minutes_id}/corrections",
            {"text": "x" * 20_001, "reason": "r", "by_body": FM, "decision_ref": "d"},
            "text",
        ),
        (
            "POST",
            f"/minutes/{minutes_id}/corrections",
            {"text": "t", "reason": "r", "by_body": FM},
            "decision_ref",
        ),
        ("POST", f"/action-items/{action_id}/progress", {"note": ""}, "note"),
        ("POST", f"/action-items/{action_id}/complete", {"note": "n", "done": True}, "done"),
        ("PUT", "/settings/confidential-readers", {"readers": "auditor"}, "readers"),
        ("PUT", "/settings/confidential-readers", {"readers": [], "public": True}, "public"),
    ]


def test_bad_bodies_are_refused_naming_the_field_and_nothing_is_recorded(kin):
    alliance = kin.alliance
    meeting_id = kin.schedule(on(9))["meeting_id"]
    approved = kin.approved(items_of(kin))
    action_id = alliance.get("/action-items")["items"][0]["action_item_id"]
    held = kin.held(on(8))
    before = kin.log_length()

    for method, path, body, field in bad_bodies(
        meeting_id, held, approved["minutes_id"], action_id
    ):
        problem = assert_problem(alliance.call(method, path, body), 422)
        assert problem["type"] == INVALID, (path, body, problem)
        assert field in problem["detail"], (path, field, problem)

    assert kin.log_length() == before


def test_contradictory_meetings_and_minutes_are_refused(kin):
    alliance = kin.alliance
    held = kin.held(on(7))
    before = kin.log_length()

    cases = [
        ("/meetings", SCHEDULE | {"format": "in-person"}, INVALID_MEETING, "location"),
        (
            "/minutes",
            {"meeting_id": held, "items": [ITEM | {"item_id": "a"}, ITEM | {"item_id": "a"}]},
            INVALID_MINUTES,
            "same item_id",
        ),
        (
            "/minutes",
            {
                "meeting_id": held,
                "items": [
                    ITEM | {"item_id": "a", "actions": [ACTION | {"action_id": "x"}]},
                    ITEM | {"item_id": "b", "actions": [ACTION | {"action_id": "x"}]},
                ],
            },
            INVALID_MINUTES,
            "same action_id",
        ),
    ]
    cases.append(
        (
            "/minutes",
            {
                "meeting_id": held,
                "items": [ITEM | {"actions": [ACTION | {"due_on": "2030-01-21"}]}],
            },
            INVALID_MINUTES,
            "before the meeting that agreed it (2030-01-22)",
        )
    )
    for path, body, kind, words in cases:
        problem = assert_problem(alliance.call("POST", path, body), 422)
        assert problem["type"] == kind and words in problem["detail"], problem
    # Naming what the ToR does not have: no clause carries it.
    stranger = [ITEM | {"actions": [ACTION | {"owner_kind": "member", "owner": ids(1)[0]}]}]
    for path, body, rule, name in [
        ("/meetings", SCHEDULE | {"body": "trustees"}, "bodies", "trustees"),
        (
            "/minutes",
            {"meeting_id": held, "items": [ITEM | {"actions": [ACTION | {"owner": "treasurer"}]}]},
            "offices",
            "treasurer",
        ),
        (
            "/minutes",
            {
                "meeting_id": held,
                "items": [ITEM | {"actions": [ACTION | {"owner_kind": "body", "owner": "board"}]}],
            },
            "bodies",
            "board",
        ),
    ]:
        problem = assert_problem(alliance.call("POST", path, body), 422)
        assert problem["type"] == RULE_BROKEN and name in problem["detail"], problem
        assert [(v["rule"], v["clause"]) for v in problem["violations"]] == [(rule, None)]
    missing = alliance.call("POST", "/minutes", {"meeting_id": held, "items": stranger})
    assert assert_problem(missing, 404)["type"] == NOT_FOUND

    assert kin.log_length() == before


# ---------------------------------------------------------------------------- commitments


@pytest.mark.parametrize("whole", [False, True], ids=["item-confidential", "all-confidential"])
def test_each_commitment_is_the_hash_of_the_kept_item_and_its_salt(kin, whole):
    alliance = kin.alliance
    fields = {"confidential": True, "confidential_reason": "service users"} if whole else {}
    minutes_id = kin.approved(items_of(kin), **fields)["minutes_id"]
    alliance.post(f"/minutes/{minutes_id}/publish")

    kept = alliance.get(f"/minutes/{minutes_id}")
    public = alliance.get(f"/minutes/{minutes_id}/public")["public"]

    check_commitments(kept, public)
    hidden = [item["position"] for item in public["items"] if "text" not in item]
    assert hidden == ([1, 2] if whole else [2])
    assert all(item["item_id"] is None for item in public["items"] if "text" not in item)
    assert public["confidential"] is whole
    assert public["confidential_reason"] == ("service users" if whole else None)
    assert SECRET_TEXT not in str(public) and SECRET_ACTION not in str(public)


# ---------------------------------------------------------------------------- action items


def test_overdue_actions_are_open_ones_past_their_day_and_are_completed_once(kin):
    alliance = kin.alliance
    first = kin.members[0]
    # Agreed at the meeting of 2030-01-22 (day 7), approved on 2030-02-24 (day 40): one
    # action already late by then, one due later, one late that is then done.
    items = [
        {
            "item_id": "plan",
            "title": "Plan",
            "text": "The plan.",
            "actions": [
                action("late", "2030-02-01"),
                action("later", "2030-03-26", owner_kind="member", owner=first),
                action("done-late", "2030-02-10", owner_kind="body", owner=EXEC),
            ],
        }
    ]
    minutes_id = kin.draft(kin.held(on(7)), items)["minutes_id"]
    kin.at(on(40))
    assert alliance.get("/action-items", overdue="true")["items"] == []  # none until approved
    alliance.post(f"/minutes/{minutes_id}/approve", {"by_body": FM})
    made = {a["action_id"]: a for a in alliance.get("/action-items")["items"]}
    late, later, done_late = (made[k]["action_item_id"] for k in ("late", "later", "done-late"))

    def overdue() -> list[str]:
        found = alliance.get("/action-items", overdue="true")["items"]
        assert all(a["overdue"] and a["status"] == "open" for a in found)
        return [a["action_item_id"] for a in found]

    assert overdue() == [late, done_late]
    assert made["later"]["overdue"] is False and made["later"]["minutes_id"] == minutes_id

    progressed = alliance.post(f"/action-items/{late}/progress", {"note": "rang twice"})
    assert progressed["status"] == "open" and progressed["overdue"] is True
    assert [(p["note"], p["on"], p["done"]) for p in progressed["progress"]] == [
        ("rang twice", "2030-02-24", False)
    ]
    kin.at(on(41))
    done = alliance.post(f"/action-items/{done_late}/complete", {"note": "sent"})
    assert done["status"] == "done" and done["completed_on"] == "2030-02-25"
    assert done["overdue"] is False and done["progress"][-1]["done"] is True
    assert overdue() == [late]

    before = kin.log_length()
    for step in ("complete", "progress"):
        problem = assert_problem(
            alliance.call("POST", f"/action-items/{done_late}/{step}", {"note": "again"}), 409
        )
        assert problem["type"] == ACTION_STATE and "done" in problem["detail"]
    assert kin.log_length() == before

    def ids_of(**query: Any) -> list[str]:
        return [a["action_item_id"] for a in alliance.get("/action-items", **query)["items"]]

    assert ids_of(status="done") == [done_late]
    assert ids_of(status="open") == [late, later]
    assert ids_of(owner=first) == [later]
    assert ids_of(minutes_id=minutes_id) == [late, later, done_late]
    kin.at(on(70))  # 2030-03-26 is today: due, not yet overdue
    assert overdue() == [late]
    kin.at(on(71))
    assert overdue() == [late, later]


# ---------------------------------------------------------------------------- compliance


def requirements(kin: Kin, **params: Any) -> dict[str, Any]:
    return dict(kin.alliance.get("/compliance-calendar", **params))


def states(calendar: dict[str, Any], body: str) -> list[tuple[str, str, list[str]]]:
    """(window start, state, meetings) of each requirement of a body, in order."""
    return [
        (r["window_start"], r["state"], r["meeting_ids"])
        for r in calendar["requirements"]
        if r["body"] == body
    ]


def summary(calendar: dict[str, Any], body: str) -> dict[str, int]:
    [found] = [s for s in calendar["summary"] if s["body"] == body]
    return {k: v for k, v in found.items() if k != "body"}


def test_the_compliance_calendar_follows_the_meetings_the_tor_requires(kin):
    alliance = kin.alliance
    # Quarters of ToR year 1: from 2030-01-15, 04-15, 07-15 and 10-15.
    exec_jan = kin.schedule(on(5), body=EXEC)["meeting_id"]  # 2030-01-20
    # 2030-01-25: a month before it, the ToR was not yet in force: no executive needed.
    fm_jan = kin.schedule(on(10))["meeting_id"]
    fm_feb = kin.schedule(on(36))["meeting_id"]  # 2030-02-20: executive due ~2030-01-20
    fm_may = kin.schedule(datetime(2030, 5, 20, 10, tzinfo=UTC))["meeting_id"]
    for day, meeting in ((5, exec_jan), (10, fm_jan), (36, fm_feb)):
        kin.at(on(day))
        kin.hold(meeting)
    alliance.post(f"/meetings/{fm_may}/cancel", {"reason": "venue closed"})
    kin.at(datetime(2030, 8, 1, 9, tzinfo=UTC))

    august = requirements(kin)

    assert (august["year"], august["current_year"], august["under_version"]) == (1, 1, 1)
    assert (august["starts_on"], august["ends_on"]) == ("2030-01-15", "2031-01-14")
    assert states(august, FM) == [
        ("2030-01-15", "held", [fm_jan, fm_feb]),
        ("2030-04-15", "missed", []),  # the cancelled meeting does not count
        ("2030-07-15", "due", []),
        ("2030-10-15", "upcoming", []),
    ]
    assert states(august, EXEC) == [("2030-01-06", "held", [exec_jan])]
    by_rule = {(r["body"], r["rule"], r["clause"]) for r in august["requirements"]}
    assert by_rule == {
        (FM, "meetings.full-membership.per_year", "7"),
        (EXEC, "meetings.executive-committee.before_body", "6.3"),
    }
    [before_feb] = [r for r in august["requirements"] if r["body"] == EXEC]
    assert before_feb["before_meeting_id"] == fm_feb and before_feb["window_end"] == "2030-02-03"
    assert summary(august, FM) == {
        "required": 4,
        "held": 1,
        "scheduled": 0,
        "due": 1,
        "upcoming": 1,
        "missed": 1,
    }

    fm_sep = kin.schedule(datetime(2030, 9, 20, 10, tzinfo=UTC))["meeting_id"]
    exec_aug = kin.schedule(datetime(2030, 8, 20, 10, tzinfo=UTC), body=EXEC)["meeting_id"]

    planned = requirements(kin)

    assert states(planned, FM)[2] == ("2030-07-15", "scheduled", [fm_sep])
    assert states(planned, EXEC) == [
        ("2030-01-06", "held", [exec_jan]),
        ("2030-08-06", "scheduled", [exec_aug]),
    ]
    assert [r["before_meeting_id"] for r in planned["requirements"] if r["body"] == EXEC] == [
        fm_feb,
        fm_sep,
    ]

    alliance.post(f"/meetings/{exec_aug}/cancel", {"reason": "chair ill"})
    kin.at(datetime(2030, 9, 20, 12, tzinfo=UTC))
    kin.hold(fm_sep)

    september = requirements(kin)

    assert states(september, FM)[2] == ("2030-07-15", "held", [fm_sep])
    assert states(september, EXEC)[1] == ("2030-08-06", "missed", [])
    assert summary(september, EXEC) == {
        "required": 2,
        "held": 1,
        "scheduled": 0,
        "due": 0,
        "upcoming": 0,
        "missed": 1,
    }
    assert requirements(kin, year=1) == september


def test_the_compliance_calendar_shows_next_year_but_no_later(kin):
    alliance = kin.alliance

    following = requirements(kin, year=2)

    assert (following["year"], following["current_year"]) == (2, 1)
    assert (following["starts_on"], following["ends_on"]) == ("2031-01-15", "2032-01-14")
    assert [r["state"] for r in following["requirements"]] == ["upcoming"] * 4
    too_far = assert_problem(alliance.call("GET", "/compliance-calendar?year=3"), 422)
    assert too_far["type"] == INVALID and "has not begun" in too_far["detail"]
    assert "current ToR year is 1" in too_far["detail"]
    for year in ("0", "201", "last"):
        refused = assert_problem(alliance.call("GET", f"/compliance-calendar?year={year}"), 422)
        assert refused["type"] == INVALID and "year" in refused["detail"]
    kin.at(START + timedelta(days=400))  # ToR year 2: year 3 may now be shown
    assert requirements(kin, year=3)["current_year"] == 2


# ---------------------------------------------------------------------------- paging


def pages(alliance: Alliance, path: str, key: str, **params: Any) -> list[list[str]]:
    """The ids on each page of a list, following next_after to the end."""
    found: list[list[str]] = []
    after = 0
    while True:
        page = alliance.get(path, after=after, **params)
        found.append([item[key] for item in page["items"]])
        if page["next_after"] is None:
            return found
        assert page["next_after"] == page["items"][-1]["seq"]
        after = page["next_after"]


def test_meetings_minutes_and_action_items_are_paged_in_order(kin):
    alliance = kin.alliance
    meetings = [kin.held(on(day)) for day in (1, 2, 3)]
    meetings += [kin.schedule(on(day))["meeting_id"] for day in (9, 8)]
    minutes = [
        kin.draft(
            meeting, [ITEM | {"actions": [action(f"a{n}-{i}", "2030-06-01") for i in range(2)]}]
        )["minutes_id"]
        for n, meeting in enumerate(meetings[:3])
    ]
    for minutes_id in minutes[:2]:
        alliance.post(f"/minutes/{minutes_id}/approve", {"by_body": FM})
    actions = [a["action_item_id"] for a in alliance.get("/action-items", limit=200)["items"]]
    assert len(actions) == 4

    assert pages(alliance, "/meetings", "meeting_id", limit=2) == [
        meetings[:2],
        meetings[2:4],
        meetings[4:],
    ]
    assert pages(alliance, "/meetings", "meeting_id", limit=5) == [meetings]
    assert pages(alliance, "/meetings", "meeting_id", status="scheduled", limit=1) == [
        [meetings[3]],
        [meetings[4]],
    ]
    assert pages(alliance, "/minutes", "minutes_id", limit=2) == [minutes[:2], minutes[2:]]
    assert pages(alliance, "/minutes", "minutes_id", status="approved", limit=1) == [
        [minutes[0]],
        [minutes[1]],
    ]
    assert pages(alliance, "/action-items", "action_item_id", limit=3) == [
        actions[:3],
        actions[3:],
    ]
    for path in ("/meetings", "/minutes", "/action-items"):
        for limit in (0, 201):
            refused = alliance.call("GET", path, params={"limit": limit})
            assert assert_problem(refused, 422)["type"] == INVALID
        assert assert_problem(alliance.call("GET", path, params={"after": -1}), 422)


# ---------------------------------------------------------------------------- who reads


def sees_confidential(kin: Kin, headers: dict[str, str], minutes_id: str) -> bool:
    """Whether a key reads the confidential item and action (checking every view agrees)."""
    alliance = kin.alliance
    got = alliance.call("GET", f"/minutes/{minutes_id}", headers=headers).json()
    listed = alliance.call("GET", "/minutes", headers=headers).json()["items"]
    actions = alliance.call("GET", "/action-items", headers=headers).json()["items"]
    [secret_action] = [a for a in actions if a["confidential"]]
    assert (secret_action["action_id"] == "call") is (secret_action["description"] is not None)
    one = alliance.call("GET", f"/action-items/{secret_action['action_item_id']}", headers=headers)
    case = got["items"][1]
    readable = [
        case.get("text") == SECRET_TEXT,
        got["redacted"] is False,
        got["salts"] is not None,
        listed[0]["items"][1].get("text") == SECRET_TEXT,
        secret_action["description"] == SECRET_ACTION,
        one.json()["description"] == SECRET_ACTION,
    ]
    assert len(set(readable)) == 1, readable  # all or nothing
    if not readable[0]:
        assert case == {
            "item_id": None,
            "position": 2,
            "confidential": True,
            "title": None,
            "text": None,
            "decisions": None,
            "actions": None,
            "notice": CONFIDENTIAL_NOTICE,
            "commitment": got["items"][1]["commitment"],
        }
        assert SECRET_TEXT not in str(got) + str(listed) + str(actions) + one.text
        assert SECRET_ACTION not in str(got) + str(listed) + str(actions) + one.text
    return readable[0]


def test_the_alliance_decides_who_reads_confidential_minutes(kin):
    alliance = kin.alliance
    minutes_id = kin.approved(items_of(kin))["minutes_id"]
    keys = {role: issue_key(alliance, role) for role in ("officer", "auditor")}
    keys["member"] = issue_key(alliance, "member", kin.members[0])
    keys["tenant-admin"] = alliance.headers
    keys["platform-admin"] = ADMIN
    path = "/settings/confidential-readers"

    default = alliance.call("GET", path, headers=keys["member"]).json()
    assert default == {
        "readers": ["tenant-admin", "officer"],
        "changed_by": None,
        "changed_at": None,
    }
    assert {role: sees_confidential(kin, h, minutes_id) for role, h in keys.items()} == {
        "officer": True,
        "auditor": False,
        "member": False,
        "tenant-admin": True,
        "platform-admin": False,
    }

    before = kin.log_length()
    for role in ("officer", "auditor", "member", "platform-admin"):
        refused = alliance.call("PUT", path, {"readers": ["auditor"]}, headers=keys[role])
        assert assert_problem(refused, 403)["type"] == FORBIDDEN, role
    for readers in (["platform-admin"], ["tenant-admin", "chair"], ["public"]):
        problem = assert_problem(alliance.call("PUT", path, {"readers": readers}), 422)
        assert problem["type"] == UNKNOWN_ROLE and readers[-1] in problem["detail"], problem
    assert kin.log_length() == before

    granted = alliance.call("PUT", path, {"readers": ["tenant-admin", "officer", "auditor"]})
    assert granted.status_code == 200, granted.text
    assert granted.json()["readers"] == ["auditor", "officer", "tenant-admin"]
    assert granted.json()["changed_by"] and granted.json()["changed_at"]
    assert sees_confidential(kin, keys["auditor"], minutes_id) is True
    log = alliance.call("GET", "/events", params={"limit": 200}, headers=keys["auditor"]).text
    assert SECRET_TEXT in log and SECRET_ACTION in log

    narrowed = alliance.call("PUT", path, {"readers": ["tenant-admin", "auditor"]})
    assert narrowed.status_code == 200, narrowed.text
    assert alliance.call("GET", path, headers=keys["officer"]).json()["readers"] == [
        "auditor",
        "tenant-admin",
    ]
    assert sees_confidential(kin, keys["officer"], minutes_id) is False
    assert sees_confidential(kin, keys["member"], minutes_id) is False
    assert sees_confidential(kin, keys["platform-admin"], minutes_id) is False
    assert sees_confidential(kin, keys["auditor"], minutes_id) is True

    alliance.call("PUT", path, {"readers": []})
    assert sees_confidential(kin, keys["tenant-admin"], minutes_id) is False
    log = alliance.call("GET", "/events", params={"limit": 200}).text
    assert SECRET_TEXT not in log and "[confidential]" in log
