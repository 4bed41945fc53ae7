"""Point-in-time replay through the API, on both stores: an alliance's state as of any
earlier position or moment is what the live read APIs answered at that moment (captured as
the history was made), whatever has happened to the read models since; the difference
between two moments is told one sentence per change, citing the log positions that made
it; and every bad request is a problem naming its parameter.

These tests run on the real clock: the replay reads the time each event was recorded, and
the live answers they are compared with are given on the same clock.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import psycopg
import pytest

from services.demo import CONFIDENTIAL_TEXT, create_demo
from tests.conftest import ADMIN, bearer
from tests.e2e.test_membership_api import admit, issue_key
from tests.e2e.test_membership_year import Alliance, assert_problem

FM, EXEC = "full-membership", "executive-committee"
INVALID = "urn:concord:problem:invalid-request"
NOT_FOUND = "urn:concord:problem:not-found"
FORBIDDEN = "urn:concord:problem:forbidden"
OPEN_MOTIONS = {"proposed", "voting", "tied"}
OPEN_ELECTIONS = {"nominating", "voting"}
WORK_PLAN = "Adopt the work plan for the year"
CONSULTATION = "Respond to the national consultation on kinship care"


# ---------------------------------------------------------------------------- reading


def audit(
    alliance: Alliance, path: str, headers: dict[str, str] | None = None, **params: Any
) -> Any:
    response = alliance.call("GET", f"/audit/{path}", params=params, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def refused(
    alliance: Alliance, path: str, status: int, *words: str, **params: Any
) -> dict[str, Any]:
    """A problem of this status, of the invalid-request type for a 422, naming each word."""
    problem = assert_problem(alliance.call("GET", f"/audit/{path}", params=params), status)
    if status == 422:
        assert problem["type"] == INVALID, problem
    for word in words:
        assert word in problem["detail"], problem
    return problem


def last_position(alliance: Alliance) -> int:
    """The log's last position, as the event log API gives it."""
    after, last = 0, 0
    while True:
        page = alliance.get("/events", after=after, limit=1000)
        if page["items"]:
            last = page["items"][-1]["position"]
        if page["next_after"] is None:
            return last
        after = page["next_after"]


def live(alliance: Alliance) -> dict[str, Any]:
    """What the live read APIs answer now, for the questions the audit state answers."""
    members = alliance.get("/members", limit=200)["items"]
    return {
        "terms": alliance.get("/terms"),
        "versions": alliance.get("/terms/versions")["items"],
        "members": members,
        "representatives": {
            m["member_id"]: alliance.get(f"/members/{m['member_id']}/representatives")
            for m in members
        },
        "holders": [h for o in alliance.get("/offices")["items"] for h in o["holders"]],
        "seats": [s for b in alliance.get("/bodies")["items"] for s in b["seats"]],
        "motions": [
            m for m in alliance.get("/motions", limit=200)["items"] if m["status"] in OPEN_MOTIONS
        ],
        "elections": [
            e
            for e in alliance.get("/elections", limit=200)["items"]
            if e["status"] in OPEN_ELECTIONS
        ],
    }


def fields(item: dict[str, Any], names: Any) -> dict[str, Any]:
    return {name: item.get(name) for name in names}


def assert_same_rows(
    replayed: list[dict[str, Any]], then: list[dict[str, Any]], key: str, *, ignore: set[str]
) -> None:
    """The same rows (by `key`, in any order), each with the live row's fields."""
    replayed = sorted(replayed, key=lambda row: row[key])
    then = sorted(then, key=lambda row: row[key])
    assert [row[key] for row in replayed] == [row[key] for row in then]
    for mine, theirs in zip(replayed, then, strict=True):
        names = theirs.keys() - ignore
        assert fields(mine, names) == fields(theirs, names)


def assert_state_is(state: dict[str, Any], then: dict[str, Any]) -> None:
    """The replayed state says what the live read APIs said then, field for field."""
    assert state["terms"] == then["terms"]
    assert state["versions"] == then["versions"]
    assert [m["member_id"] for m in state["members"]] == [m["member_id"] for m in then["members"]]
    assert_same_rows(state["members"], then["members"], "member_id", ignore={"conduct_reviews"})
    for member in state["members"]:
        listed = then["representatives"][member["member_id"]]
        assert member["representatives"] == listed["items"]
        assert member["principal_contact"] == listed["principal_contact"]
    assert_same_rows(state["office_holders"], then["holders"], "holding_id", ignore={"expiring"})
    assert_same_rows(state["committee_seats"], then["seats"], "seat_id", ignore={"expiring"})
    assert [m["motion_id"] for m in state["open_motions"]] == [
        m["motion_id"] for m in then["motions"]
    ]
    for replayed, was in zip(state["open_motions"], then["motions"], strict=True):
        assert replayed == fields(was, replayed.keys())
    assert_same_rows(state["open_elections"], then["elections"], "election_id", ignore={"result"})
    counts = state["counts"]
    assert counts["members"] == sum(m["status"] in ("active", "suspended") for m in then["members"])
    assert counts["office_holders"] == len(then["holders"])
    assert counts["committee_seats"] == len(then["seats"])
    assert counts["open_motions"] == len(then["motions"])
    assert counts["open_elections"] == len(then["elections"])


# ---------------------------------------------------------------------------- the history


@dataclass
class Step:
    """One moment of the history: the log's end then, a moment just after it, and what
    the live read APIs answered."""

    name: str
    position: int
    moment: datetime
    answers: dict[str, Any]


@dataclass
class History:
    alliance: Alliance
    steps: dict[str, Step] = field(default_factory=dict)
    ids: dict[str, str] = field(default_factory=dict)

    def mark(self, name: str) -> Step:
        step = Step(
            name=name,
            position=last_position(self.alliance),
            moment=datetime.now(UTC),
            answers=live(self.alliance),
        )
        self.steps[name] = step
        return step

    def between(self, first: str, second: str) -> dict[str, Any]:
        a, b = self.steps[first], self.steps[second]
        return dict(audit(self.alliance, "diff", **{"from": a.position, "to": b.position}))

    def event_positions(self, kind: str, **data: Any) -> list[int]:
        return positions_of(self.alliance, kind, **data)


def positions_of(alliance: Alliance, kind: str, **data: Any) -> list[int]:
    """The positions of the events of this type (with these data) in the log."""
    found, after = [], 0
    while True:
        page = alliance.get("/events", after=after, limit=1000)
        found += [
            e["position"]
            for e in page["items"]
            if e["type"] == kind and all(e["data"].get(k) == v for k, v in data.items())
        ]
        if page["next_after"] is None:
            return found
        after = page["next_after"]


def today() -> date:
    """Today as the platform's clock counts days: in UTC."""
    return datetime.now(UTC).date()


def hold_meeting_now(alliance: Alliance, present: list[str]) -> str:
    meeting = alliance.post(
        "/meetings",
        {
            "body": FM,
            "title": "Main meeting",
            "starts_at": datetime.now(UTC).isoformat(),
            "format": "virtual",
            "link": "https://meet.example.org/alliance",
        },
        status=201,
    )
    held = alliance.post(
        f"/meetings/{meeting['meeting_id']}/hold",
        {"attendance": [{"member_id": m} for m in present]},
    )
    assert held["status"] == "held" and held["quorate"] is True, held
    return str(meeting["meeting_id"])


@pytest.fixture
def history(client, onboard) -> History:
    """A kinship-care alliance made step by step on the real clock, the live answers kept
    after each step."""
    secret = onboard("kca", template="kinship-care", name="Kinship Care Alliance")
    alliance = Alliance(client, "kinship-care", secret["admin_key"]["secret"], slug="kca")
    made = History(alliance)
    made.mark("founded")

    kinship = admit(alliance, "Kinship")
    rights = admit(alliance, "Family Rights Group")
    grandparents = admit(alliance, "Grandparents Plus Network")
    ada = alliance.add_representative(kinship, "Ada Price")["items"][0]["representative_id"]
    made.ids |= {"kinship": kinship, "rights": rights, "grandparents": grandparents, "ada": ada}
    made.mark("admitted")

    chair = alliance.appoint("chair", kinship, "Jane Doe", by_body=FM)
    made.ids["chair"] = chair["holders"][0]["holding_id"]
    seat = {"member_id": rights, "person_name": "Kit Jones", "agreed_by": FM, "decision_ref": "m"}
    alliance.post(f"/bodies/{EXEC}/seats", seat, status=201)
    made.mark("officers")

    alliance.amend(rules=[{"path": "membership.max_representatives", "value": 3}], clauses=[])
    alliance.add_representative(kinship, "Ben Carter")
    alliance.add_representative(kinship, "Cleo Dunn")
    made.mark("amended")

    meeting = hold_meeting_now(alliance, [kinship, rights, grandparents])
    carried = alliance.post("/motions", {"body": FM, "text": WORK_PLAN}, status=201)
    decided = alliance.post(
        f"/motions/{carried['motion_id']}/consensus", {"meeting_id": meeting, "reached": True}
    )
    assert decided["status"] == "carried", decided
    left_open = alliance.post("/motions", {"body": FM, "text": CONSULTATION}, status=201)
    made.ids |= {"carried": carried["motion_id"], "open": left_open["motion_id"]}
    made.mark("motions")

    decision = {"reason": "arrears", "by_body": EXEC, "decision_ref": "exec 9"}
    alliance.post(f"/members/{grandparents}/suspend", decision)
    alliance.post(f"/offices/chair/holdings/{made.ids['chair']}/end", {"reason": "stood down"})
    starts_on = str(today() + timedelta(days=10))
    successor = alliance.appoint("chair", rights, "Sam Reed", by_body=FM, starts_on=starts_on)
    [left] = [h for h in successor["history"] if h["holding_id"] == made.ids["chair"]]
    [chosen] = [h for h in successor["history"] if h["person_name"] == "Sam Reed"]
    made.ids |= {"left_on": left["left_on"], "successor": chosen["holding_id"]}
    made.ids["starts_on"] = starts_on
    made.ids["effective_from"] = (today() + timedelta(days=30)).isoformat()
    proposed = alliance.post(
        "/terms/amendments",
        {
            "rationale": "a larger delegation from next month",
            "rules": [{"path": "membership.max_representatives", "value": 4}],
        },
        status=201,
    )
    alliance.post(
        f"/terms/amendments/{proposed['amendment_id']}/approve",
        {
            "body": FM,
            "decision_ref": "AGM, item 8",
            "effective_from": made.ids["effective_from"],
        },
    )
    made.mark("later")
    return made


# ---------------------------------------------------------------------------- the state


def test_the_state_at_each_earlier_position_is_what_the_live_reads_said_then(history):
    for step in history.steps.values():
        state = audit(history.alliance, "state", as_of=step.position)

        assert state["position"] == step.position, step.name
        assert state["as_of"] == state["at"]
        assert_state_is(state, step.answers)


def test_the_state_at_each_earlier_moment_is_what_the_live_reads_said_then(history):
    for step in history.steps.values():
        moment = step.moment.isoformat()
        state = audit(history.alliance, "state", as_of=moment)

        assert state["position"] == step.position, step.name
        assert datetime.fromisoformat(state["at"]) == step.moment
        assert_state_is(state, step.answers)
    # The same moment in another offset is the same moment.
    later = history.steps["later"].moment
    elsewhere = later.astimezone(timezone(timedelta(hours=2))).isoformat()
    assert audit(history.alliance, "state", as_of=elsewhere)["position"] == (
        history.steps["later"].position
    )


def test_the_state_now_is_the_live_state_and_says_what_it_is_made_of(history):
    alliance, ids = history.alliance, history.ids
    state = audit(alliance, "state")

    assert_state_is(state, live(alliance))
    assert audit(alliance, "state", as_of="now") | {"at": None} == state | {"at": None}
    assert state["position"] == state["last_position"] == history.steps["later"].position
    assert state["terms"]["number"] == 2 and [v["number"] for v in state["versions"]] == [1, 2, 3]
    assert state["terms"]["rules"]["membership"]["max_representatives"] == 3
    by_id = {m["member_id"]: m for m in state["members"]}
    assert by_id[ids["grandparents"]]["status"] == "suspended"
    assert by_id[ids["grandparents"]]["status_reason"] == "arrears"
    assert [r["name"] for r in by_id[ids["kinship"]]["representatives"]] == [
        "Ada Price",
        "Ben Carter",
        "Cleo Dunn",
    ]
    assert state["office_holders"] == []  # the chair stood down; the next starts later
    assert [(s["person_name"], s["body"]) for s in state["committee_seats"]] == [
        ("Kit Jones", EXEC)
    ]
    assert [(m["motion_id"], m["text"], m["body"], m["status"]) for m in state["open_motions"]] == [
        (ids["open"], CONSULTATION, FM, "proposed")
    ]
    assert state["counts"] == {
        "events": state["counts"]["events"],
        "members": 3,
        "voting_members": 2,
        "suspended_members": 1,
        "former_members": 0,
        "office_holders": 0,
        "committee_seats": 1,
        "open_motions": 1,
        "open_elections": 0,
    }
    assert 0 < state["counts"]["events"] <= state["position"]
    assert state["founded_at"] <= state["as_of"]


def test_a_day_means_the_end_of_that_day_and_today_means_so_far(history):
    alliance = history.alliance
    so_far = audit(alliance, "state", as_of=today().isoformat())

    assert so_far["position"] == history.steps["later"].position
    assert datetime.fromisoformat(so_far["at"]) <= datetime.now(UTC)


def test_the_state_is_replayed_not_read_from_the_projections(history, settings):
    """Tamper with the read models behind the live API: the live reads change, the
    replayed state does not."""
    alliance = history.alliance
    before = audit(alliance, "state")
    tamper(
        settings,
        "kca",
        [
            "UPDATE members SET name = 'Tampered', status = 'removed'",
            "DELETE FROM representatives",
            "DELETE FROM office_holdings",
            "DELETE FROM terms_versions WHERE number > 1",
            "UPDATE motions SET status = 'withdrawn'",
        ],
    )
    tampered = live(alliance)
    assert {m["name"] for m in tampered["members"]} == {"Tampered"}
    assert tampered["versions"] == [history.steps["founded"].answers["versions"][0]]

    after = audit(alliance, "state")
    assert after | {"at": None} == before | {"at": None}  # `at` is now, each time
    earlier = audit(alliance, "state", as_of=history.steps["motions"].position)
    assert_state_is(earlier, history.steps["motions"].answers)


def tamper(settings: Any, slug: str, statements: list[str]) -> None:
    """Change the alliance's read-model tables behind the platform's back."""
    if settings.database_url is None:
        views = Path(settings.data_dir) / "tenants" / slug / "views.sqlite"
        with sqlite3.connect(views) as connection:
            for statement in statements:
                connection.execute(statement)
        return
    with psycopg.connect(settings.database_url, autocommit=True) as connection:
        connection.execute(f"SET search_path TO tenant_{slug.replace('-', '_')}")
        for statement in statements:
            connection.execute(statement)


# ---------------------------------------------------------------------------- the diff


def test_the_diff_names_each_change_in_a_sentence_with_its_positions(history):
    ids, positions = history.ids, history.event_positions

    admitted = history.between("founded", "admitted")
    [kinship_admitted] = positions("MemberAdmitted", name="Kinship")
    [rights_admitted] = positions("MemberAdmitted", name="Family Rights Group")
    [ada_added] = positions("MemberRepresentativeAdded", representative_id=ids["ada"])
    assert admitted["summary"] == [
        f"Kinship was admitted as a member (position {kinship_admitted}).",
        f"Family Rights Group was admitted as a member (position {rights_admitted}).",
        "Grandparents Plus Network was admitted as a member (position "
        f"{positions('MemberAdmitted', name='Grandparents Plus Network')[0]}).",
        f"Ada Price became a representative of Kinship, as its principal contact "
        f"(position {ada_added}).",
    ]
    assert {c["kind"] for c in admitted["changes"]} == {"member-admitted", "representative-added"}
    assert admitted["from"]["position"] == history.steps["founded"].position
    assert admitted["to"]["position"] == history.steps["admitted"].position

    officers = history.between("admitted", "officers")
    [appointed] = positions("OfficeRollHolderAppointed", holding_id=ids["chair"])
    ends_on = history.steps["officers"].answers["holders"][0]["ends_on"]
    assert officers["summary"][0] == (
        f"Jane Doe (Kinship) took office as chair until {ends_on} (position {appointed})."
    )
    assert officers["summary"][1].startswith("Kit Jones (Family Rights Group) took a seat on the ")

    amended = history.between("officers", "amended")
    [approved] = positions("TermsOfReferenceAmendmentApproved", version=2)
    [change] = [c for c in amended["changes"] if c["kind"] == "terms-in-force"]
    assert change["sentence"] == (
        f"ToR version 2 replaced version 1 (position {approved}): 1 rule changed "
        "(membership.max_representatives 2 → 3)."
    )
    assert change["positions"] == [approved] and (change["before"], change["after"]) == (1, 2)
    assert change["terms_diff"]["rules"] == [
        {"path": "membership.max_representatives", "before": 2, "after": 3}
    ]
    assert [c["kind"] for c in amended["changes"]].count("representative-added") == 2

    motions = history.between("amended", "motions")
    [decided] = positions("MotionDecided", outcome="carried")
    assert (
        f"Motion '{WORK_PLAN}' was carried by consensus (position {decided})."
        in (motions["summary"])
    )
    assert f"Motion '{CONSULTATION}' was proposed to the full-membership (position " in (
        " ".join(motions["summary"])
    )

    later = history.between("motions", "later")
    [suspended] = positions("MemberSuspended")
    [left] = positions("OfficeRollHolderLeft")
    [chosen] = positions("OfficeRollHolderAppointed", holding_id=ids["successor"])
    [adopted] = positions("TermsOfReferenceAmendmentApproved", version=3)
    assert later["summary"] == [
        f"Grandparents Plus Network was suspended: arrears (position {suspended}).",
        f"Jane Doe (Kinship) left office as chair on {ids['left_on']}: stood down "
        f"(position {left}).",
        f"Sam Reed (Family Rights Group) was chosen as chair, to take office on "
        f"{ids['starts_on']} (position {chosen}).",
        f"ToR version 3 was adopted (position {adopted}), to take effect on "
        f"{ids['effective_from']}.",
    ]
    assert [c["kind"] for c in later["changes"]] == [
        "member-status",
        "left-office",
        "appointed-to-office",
        "terms-adopted",
    ]


def test_a_diff_over_the_whole_history_holds_every_step_in_log_order(history):
    whole = history.between("founded", "later")
    cited = [c["positions"][0] for c in whole["changes"] if c["positions"]]

    assert cited == sorted(cited)
    assert len(whole["summary"]) == len(whole["changes"]) >= 12
    end = history.steps["later"].position
    same = audit(history.alliance, "diff", **{"from": end, "to": end})
    assert same["changes"] == [] and same["summary"] == []


def test_a_diff_between_moments_in_time_equals_the_diff_between_their_positions(history):
    a, b = history.steps["admitted"], history.steps["motions"]
    by_time = audit(
        history.alliance, "diff", **{"from": a.moment.isoformat(), "to": b.moment.isoformat()}
    )
    by_position = history.between("admitted", "motions")

    assert by_time["changes"] == by_position["changes"]
    assert by_time["from"]["position"] == a.position and by_time["to"]["position"] == b.position


# ---------------------------------------------------------------------------- the demo


def test_the_demo_alliance_replays_to_its_live_state_and_never_shows_its_minutes(client):
    """A year of quarterly meetings, minutes (some confidential) and members: the replay
    of the whole log is the live state, and no word of any minutes is in it."""
    runtime = client.app.state.runtime
    key, counts = create_demo(
        runtime, slug="demo", name="Demo Alliance", template="kinship-care", region="South East"
    )
    alliance = Alliance(client, "kinship-care", key.secret, slug="demo")
    auditor = issue_key(alliance, "auditor")

    state = alliance.call("GET", "/audit/state", headers=auditor)
    whole = alliance.call("GET", "/audit/diff", params={"from": 1, "to": "now"}, headers=auditor)

    assert state.status_code == 200, state.text
    assert_state_is(state.json(), live(alliance))
    assert state.json()["counts"]["members"] == counts["members"]
    assert whole.status_code == 200, whole.text
    admitted = [c for c in whole.json()["changes"] if c["kind"] == "member-admitted"]
    assert len(admitted) == counts["members"]
    for answer in (state, whole):
        assert CONFIDENTIAL_TEXT not in answer.text
        assert "Case discussion" not in answer.text and "welcomed" not in answer.text


# ---------------------------------------------------------------------------- elections


def test_open_elections_are_in_the_state_and_their_fate_in_the_diff(client, onboard):
    secret = onboard("acic", template="children-in-care", name="Children in Care Alliance")
    alliance = Alliance(client, "children-in-care", secret["admin_key"]["secret"], slug="acic")
    for name in ("Become", "Coram Voice"):
        application_id = alliance.apply(name)
        alliance.take_step(application_id, "recommend", "co-chair")
        alliance.take_step(application_id, "decide", FM)
    before = last_position(alliance)
    now = datetime.now(UTC)
    windows = {
        "nominations_close": (now + timedelta(days=7)).isoformat(),
        "voting_opens": (now + timedelta(days=10)).isoformat(),
        "voting_closes": (now + timedelta(days=20)).isoformat(),
    }
    election = alliance.post("/elections", {"office": "co-chair", **windows}, status=201)
    opened = last_position(alliance)
    answers = live(alliance)
    alliance.post(f"/elections/{election['election_id']}/cancel", {"reason": "called too early"})

    state = audit(alliance, "state", as_of=opened)
    assert [e["election_id"] for e in state["open_elections"]] == [election["election_id"]]
    assert state["open_elections"][0]["status"] == "nominating"
    assert_state_is(state, answers)
    assert audit(alliance, "state")["open_elections"] == []
    changes = audit(alliance, "diff", **{"from": before, "to": last_position(alliance)})
    [opened_at] = positions_of(alliance, "ElectionOpened")
    [cancelled_at] = positions_of(alliance, "ElectionCancelled")
    assert changes["summary"] == [
        f"An election to co-chair (2 seats) was opened (position {opened_at}).",
        f"The election to co-chair was cancelled: called too early (position {cancelled_at}).",
    ]


# ---------------------------------------------------------------------------- bad input


def test_bad_points_are_refused_naming_the_parameter(history):
    alliance = history.alliance
    last = history.steps["later"].position
    founded = audit(alliance, "state", as_of=1)["founded_at"]

    refused(alliance, "state", 422, "as_of", "not a log position", as_of="yesterday")
    refused(alliance, "state", 422, "as_of", "not a day", as_of="2026-02-30")
    refused(alliance, "state", 422, "as_of", "no UTC offset", as_of="2026-01-10T10:00:00")
    refused(alliance, "state", 422, "as_of", "start at 1", as_of="0")
    refused(alliance, "state", 422, "as_of", "-1", as_of="-1")
    refused(alliance, "state", 422, "as_of", f"last position is {last}", as_of=last + 50)
    too_early = refused(
        alliance, "state", 422, "as_of", "before the alliance was founded", as_of="2001-05-04"
    )
    assert founded.replace("Z", "+00:00") in too_early["detail"]
    refused(alliance, "state", 422, "as_of", "future", as_of="2999-01-01T00:00:00Z")
    refused(
        alliance,
        "state",
        422,
        "as_of",
        "future",
        as_of=(today() + timedelta(days=1)).isoformat(),
    )
    for text in ("1" * 65, ""):
        problem = assert_problem(alliance.call("GET", "/audit/state", params={"as_of": text}), 422)
        assert problem["type"] == INVALID and "as_of" in problem["detail"]

    refused(alliance, "diff", 422, "from", "must not be after", **{"from": last, "to": 1})
    refused(alliance, "diff", 422, "from (now)", "must not be after", **{"from": "now", "to": 1})
    a, b = history.steps["admitted"], history.steps["motions"]
    refused(
        alliance,
        "diff",
        422,
        "from",
        "must not be after",
        **{"from": b.moment.isoformat(), "to": a.moment.isoformat()},
    )
    refused(
        alliance,
        "diff",
        422,
        "from",
        "must not be after",
        **{"from": b.position, "to": a.moment.isoformat()},
    )
    refused(
        alliance,
        "diff",
        422,
        "from",
        "must not be after",
        **{"from": b.moment.isoformat(), "to": a.position},
    )
    refused(alliance, "diff", 422, "to", "no UTC offset", **{"from": 1, "to": "2026-01-10T10:00"})
    refused(alliance, "diff", 422, "from", "not a log position", **{"from": "start", "to": 1})
    for missing in ({"from": 1}, {"to": 1}):
        problem = assert_problem(alliance.call("GET", "/audit/diff", params=missing), 422)
        assert ("to" if "from" in missing else "from") in problem["detail"]


def test_only_tenant_admins_and_auditors_may_replay_and_only_their_own_alliance(history, onboard):
    alliance = history.alliance
    auditor = issue_key(alliance, "auditor")
    officer = issue_key(alliance, "officer")
    member = issue_key(alliance, "member", history.ids["kinship"])
    other = bearer(onboard("other", template="kinship-care")["admin_key"]["secret"])

    for path, params in (("state", {}), ("diff", {"from": 1, "to": 2})):
        url = f"/audit/{path}"
        assert alliance.call("GET", url, params=params, headers=auditor).status_code == 200
        for key in (officer, member, ADMIN):
            problem = assert_problem(alliance.call("GET", url, params=params, headers=key), 403)
            assert problem["type"] == FORBIDDEN
        assert_problem(alliance.call("GET", url, params=params, headers={}), 401)
        # Another alliance's key finds nothing here, as if the alliance did not exist.
        across = assert_problem(alliance.call("GET", url, params=params, headers=other), 404)
        assert across["type"] == NOT_FOUND
        nowhere = alliance.client.get(
            f"/v1/tenants/nowhere/audit/{path}", params=params, headers=ADMIN
        )
        assert assert_problem(nowhere, 404)["type"] == NOT_FOUND


def test_the_auditor_sees_the_same_state_as_the_tenant_admin(history):
    alliance = history.alliance
    auditor = issue_key(alliance, "auditor")
    position = history.steps["amended"].position

    assert audit(alliance, "state", auditor, as_of=position) == audit(
        alliance, "state", as_of=position
    )


def test_the_operations_are_documented_with_their_problems(client):
    schema = client.get("/schema/openapi.json").json()
    state = schema["paths"]["/v1/tenants/{slug}/audit/state"]["get"]
    changes = schema["paths"]["/v1/tenants/{slug}/audit/diff"]["get"]

    assert state["operationId"] == "getAuditState"
    assert changes["operationId"] == "diffAuditStates"
    assert {p["name"] for p in changes["parameters"]} >= {"from", "to"}
    assert {"401", "403", "404", "422"} <= set(state["responses"]) & set(changes["responses"])
