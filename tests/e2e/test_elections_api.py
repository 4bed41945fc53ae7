"""Elections through the API, on both stores: the children-in-care co-chairs elected by
secret ballot from different organisations (statements within the word limit, who may
stand, ballots cast only with the organisation's own key and never shown, the count, the
winners taking office for the ToR's term, an auditor's recount); a by-election beside a
continuing co-chair; an open election whose ballots are on the record; every refusal with
its status, problem type and clause, and nothing half-written after it; paging.

The clock is the runtime's: every alliance here is founded at START and time moves on
only when a test moves it.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from services import ballots
from tests.e2e.test_decisions_api import (
    FM,
    FORBIDDEN,
    INVALID,
    MALFORMED,
    NOT_FOUND,
    NOWHERE,
    START,
    Chamber,
    admit_to_children_in_care,
    expect,
    found_children_in_care,
    on,
)
from tests.e2e.test_membership_api import issue_key
from tests.e2e.test_membership_year import Alliance

INVALID_ELECTION = "urn:concord:problem:invalid-election"
ELECTION_STATE = "urn:concord:problem:election-state"
#: Nominations close a week after START, voting runs from day 10 to day 20 (2030-02-04).
WINDOWS = {
    "nominations_close": on(7).isoformat(),
    "voting_opens": on(10).isoformat(),
    "voting_closes": on(20).isoformat(),
}
STATEMENT = "I have led our care leavers' forum for six years and will listen to every member."


def words(n: int) -> str:
    return " ".join(f"word{i}" for i in range(n))


@pytest.fixture
def cic(client, onboard) -> Chamber:
    return found_children_in_care(client, onboard)


@pytest.fixture
def new_cic(client, onboard) -> Chamber:
    """A children-in-care alliance just founded, with no members yet."""
    return found_children_in_care(client, onboard, members=0)


def open_election(alliance: Alliance, office: str = "co-chair", **fields: Any) -> dict[str, Any]:
    return dict(alliance.post("/elections", {"office": office, **WINDOWS, **fields}, status=201))


def nominate(
    alliance: Alliance,
    election_id: str,
    person: str,
    *,
    key: dict[str, str] | None = None,
    member_id: str | None = None,
    statement: str = STATEMENT,
) -> str:
    """A candidate nominated with a member's own key, or by an officer naming the member;
    the new candidate's id."""
    body: dict[str, Any] = {"person_name": person, "statement": statement}
    if member_id is not None:
        body["member_id"] = member_id
    response = alliance.call("POST", f"/elections/{election_id}/nominations", body, headers=key)
    assert response.status_code == 201, response.text
    [candidate] = [c for c in response.json()["candidates"] if c["person_name"] == person]
    return str(candidate["candidate_id"])


def cast(alliance: Alliance, election_id: str, choices: list[str], key: dict[str, str]) -> Any:
    return alliance.call(
        "POST", f"/elections/{election_id}/ballots", {"choices": choices}, headers=key
    )


def voted(alliance: Alliance, election_id: str, choices: list[str], key: dict[str, str]) -> Any:
    response = cast(alliance, election_id, choices, key)
    assert response.status_code == 202, response.text
    return response.json()


def log(alliance: Alliance, key: dict[str, str]) -> list[dict[str, Any]]:
    """The alliance's whole event log, as `key` reads it."""
    found: list[dict[str, Any]] = []
    after = 0
    while True:
        page = alliance.call("GET", "/events", params={"after": after, "limit": 200}, headers=key)
        assert page.status_code == 200, page.text
        found += page.json()["items"]
        if page.json()["next_after"] is None:
            return found
        after = page.json()["next_after"]


def has_sealing_key(alliance: Alliance, election_id: str) -> bool:
    with alliance.client.app.state.runtime.tenant(alliance.slug) as store:
        return ballots.has_key(store, election_id)


def holders(alliance: Alliance, office: str) -> list[dict[str, Any]]:
    return list(alliance.office(office)["holders"])


# ---------------------------------------------------------------------------- secret ballot


def test_co_chairs_are_elected_by_secret_ballot_from_different_organisations(cic):
    alliance = cic.alliance
    a, b, c, d = cic.members
    e = admit_to_children_in_care(alliance, "Voices from Care")
    ka, kb, kc, kd = cic.keys
    ke = issue_key(alliance, "member", e)
    observer_application = alliance.apply("County Council Care Team", requested_status="observer")
    alliance.take_step(observer_application, "recommend", "co-chair")
    observer = alliance.take_step(observer_application, "decide", FM)
    assert observer["standing"] == "observer"
    observer_key = issue_key(alliance, "member", observer["member_id"])
    officer, auditor = issue_key(alliance, "officer"), issue_key(alliance, "auditor")
    before = len(log(alliance, auditor))

    alliance.refused(
        "POST",
        "/elections",
        {"office": "working-group-lead", **WINDOWS},
        rule="offices.working-group-lead.selection",
    )
    alliance.refused(
        "POST",
        "/elections",
        {"office": "co-chair", "seats": 3, **WINDOWS},
        rule="offices.co-chair.seats",
    )
    co_chair = {"office": "co-chair", **WINDOWS}
    for body, kind, word in [
        (co_chair | {"voting_opens": on(6).isoformat()}, INVALID_ELECTION, "windows"),
        (co_chair | {"nominations_close": on(-1).isoformat()}, INVALID_ELECTION, "windows"),
        (co_chair | {"starts_on": "2030-02-03"}, INVALID_ELECTION, "before voting closes"),
        (co_chair | {"voting_closes": "2030-02-04T10:00:00"}, INVALID, "timezone"),
        (co_chair | {"voting_closes": "2101-01-02T00:00:00Z"}, INVALID, "2100"),
        (co_chair | {"seats": 0}, INVALID, "seats"),
        (co_chair | {"ballot": "postal"}, INVALID, "ballot"),
    ]:
        expect(alliance.call("POST", "/elections", body), 422, kind, word)
    expect(
        alliance.call("POST", "/elections", {"office": "treasurer", **WINDOWS}),
        404,
        NOT_FOUND,
        "treasurer",
    )
    expect(
        alliance.call("POST", "/elections", {"office": "co-chair", **WINDOWS}, headers=ka),
        403,
        FORBIDDEN,
        "member",
    )
    assert len(log(alliance, auditor)) == before
    assert alliance.get("/elections")["items"] == []

    election = open_election(alliance)

    election_id = election["election_id"]
    assert (election["office"], election["seats"], election["status"]) == (
        "co-chair",
        2,
        "nominating",
    )
    assert (election["secret_ballot"], election["method"]) == (True, "simple-majority")
    assert election["nominations_close"] == "2030-01-22T10:00:00Z"
    assert election["voting_closes"] == "2030-02-04T10:00:00Z"
    assert election["starts_on"] == "2030-02-04"  # the elected take office when voting closes
    assert (election["electorate"], election["turnout"], election["result"]) == (None, 0, None)
    assert election["candidates"] == [] and election["under_version"] == 1
    assert has_sealing_key(alliance, election_id)

    nominations = f"/elections/{election_id}/nominations"
    amira = nominate(alliance, election_id, "Amira Khan", key=ka, statement=words(300))
    problem = alliance.refused(
        "POST",
        nominations,
        {"member_id": a, "person_name": "Sam Okafor", "statement": words(301)},
        rule="offices.co-chair.election.statement_word_limit",
    )
    assert problem["clause"] == "6.1" and "301" in problem["detail"]
    problem = alliance.refused(
        "POST",
        nominations,
        {"member_id": observer["member_id"], "person_name": "Ola Ade", "statement": STATEMENT},
        rule="offices.co-chair.from_membership",
    )
    assert problem["clause"] == "6"
    sam = nominate(alliance, election_id, "Sam Okafor", key=ka)
    lee = nominate(alliance, election_id, "Lee Grant", key=kb)
    jo = nominate(alliance, election_id, "Jo Bell", member_id=c)
    kit = nominate(alliance, election_id, "Kit Jones", key=kd)
    before = len(log(alliance, auditor))
    x = {"person_name": "X", "statement": STATEMENT}
    for body, key, status, kind, word in [
        (x | {"member_id": NOWHERE}, None, 404, NOT_FOUND, NOWHERE),
        (x | {"member_id": b}, ka, 403, FORBIDDEN, "own organisation"),
        (x, None, 422, INVALID, "member_id"),
        (
            x | {"member_id": a, "person_name": " amira   KHAN"},
            None,
            409,
            ELECTION_STATE,
            "already",
        ),
        (x | {"statement": ""}, ka, 422, INVALID, "statement"),
        (x | {"photo": "x.png"}, ka, 422, INVALID, "photo"),
        (x | {"member_id": a}, auditor, 403, FORBIDDEN, "auditor"),
    ]:
        expect(alliance.call("POST", nominations, body, headers=key), status, kind, word)
    someone_elses = alliance.call(
        "POST", f"{nominations}/{lee}/withdraw", {"reason": "not mine to withdraw"}, headers=ka
    )
    expect(someone_elses, 403, FORBIDDEN, "own organisation")
    assert len(log(alliance, auditor)) == before
    withdrawn = alliance.call(
        "POST", f"{nominations}/{kit}/withdraw", {"reason": "new job"}, headers=kd
    )
    assert withdrawn.status_code == 200, withdrawn.text
    listed = {c["candidate_id"]: c for c in withdrawn.json()["candidates"]}
    assert [c["person_name"] for c in listed.values()] == [
        "Amira Khan",
        "Sam Okafor",
        "Lee Grant",
        "Jo Bell",
        "Kit Jones",
    ]
    assert [c["withdrawn"] for c in listed.values()] == [False] * 4 + [True]
    assert (
        listed[amira]["statement"] == words(300)
        and listed[jo]["organisation"] == "The Fostering Network"
    )
    expect(
        alliance.call("POST", f"/elections/{election_id}/voting"),
        409,
        ELECTION_STATE,
        "voting opens",
    )
    expect(cast(alliance, election_id, [amira], ka), 409, ELECTION_STATE, "nominating")

    cic.at(on(8))
    late = alliance.call(
        "POST", nominations, {"person_name": "Late", "statement": STATEMENT}, headers=ke
    )
    expect(late, 409, ELECTION_STATE, "nominations closed")
    cic.at(on(10))
    opened = alliance.post(f"/elections/{election_id}/voting")

    # Every voting member organisation has a ballot; the observer has none.
    assert (opened["status"], opened["electorate"], opened["turnout"]) == ("voting", 5, 0)
    newcomer = admit_to_children_in_care(alliance, "Newcomer Trust")
    newcomer_key = issue_key(alliance, "member", newcomer)
    # How often the log names each candidate: in their nomination and as voting opened.
    mentions = {
        cid: sum(str(ev).count(cid) for ev in log(alliance, auditor))
        for cid in (amira, sam, lee, jo)
    }
    before = len(log(alliance, auditor))
    for choices, key, status, kind, word in [
        ([amira], None, 403, FORBIDDEN, "secret ballot"),
        ([amira], officer, 403, FORBIDDEN, "secret ballot"),
        ([amira], observer_key, 409, ELECTION_STATE, "not entitled"),
        ([amira], newcomer_key, 409, ELECTION_STATE, "not entitled"),
        ([kit], ka, 422, INVALID_ELECTION, "not a standing candidate"),
        ([NOWHERE], ka, 422, INVALID_ELECTION, "not a standing candidate"),
        ([amira, lee, jo], ka, 422, INVALID_ELECTION, "at most 2"),
        ([amira, amira], ka, 422, INVALID_ELECTION, "at most once"),
    ]:
        expect(cast(alliance, election_id, choices, key), status, kind, word)
    for_another = alliance.call(
        "POST",
        f"/elections/{election_id}/ballots",
        {"choices": [amira], "member_id": b},
        headers=ka,
    )
    expect(for_another, 403, FORBIDDEN, "own organisation")
    extra = alliance.call(
        "POST", f"/elections/{election_id}/ballots", {"choices": [amira], "weight": 2}, headers=ka
    )
    expect(extra, 422, INVALID, "weight")
    assert len(log(alliance, auditor)) == before

    cast_ballots = {
        a: ([amira, lee], ka),
        b: ([lee, amira], kb),
        c: ([amira, sam], kc),
        d: ([sam, amira], kd),
    }
    for member_id, (choices, key) in cast_ballots.items():
        answer = voted(alliance, election_id, choices, key)
        assert member_id in answer["voted"]
    expect(cast(alliance, election_id, [jo], ka), 409, ELECTION_STATE, "has voted")

    # While voting is open: the turnout, and nothing of what anyone chose.
    during = alliance.get(f"/elections/{election_id}")
    assert (during["status"], during["turnout"], during["electorate"]) == ("voting", 4, 5)
    assert during["voted"] == sorted([a, b, c, d])
    assert during["open_votes"] is None and during["result"] is None
    assert all(c["votes"] is None and c["elected"] is None for c in during["candidates"])
    for reader in (ka, officer, auditor):
        seen = alliance.call("GET", f"/elections/{election_id}", headers=reader).json()
        assert seen == during
    events = log(alliance, auditor)
    assert {cid: sum(str(ev).count(cid) for ev in events) for cid in mentions} == mentions
    turnout = [ev["data"] for ev in events if ev["type"] == "ElectionBallotCast"]
    assert [sorted(data) for data in turnout] == [["by", "member_id"]] * 4
    sealed = [ev["data"]["sealed"] for ev in events if ev["type"] == "BallotBoxSealed"]
    assert len(sealed) == 4 and len({len(s) for s in sealed}) == 1  # padded alike
    expect(
        alliance.call("POST", f"/elections/{election_id}/close"), 409, ELECTION_STATE, "not every"
    )
    expect(
        alliance.call("GET", f"/elections/{election_id}/recount"), 422, INVALID_ELECTION, "voting"
    )

    cic.at(on(12))
    voted(alliance, election_id, [sam, lee], ke)
    closed = alliance.post(f"/elections/{election_id}/close")  # every organisation has voted

    result = closed["result"]
    assert closed["status"] == "closed" and closed["turnout"] == 5
    assert (result["ballots"], result["blank"], result["turnout"], result["electorate"]) == (
        5,
        0,
        5,
        5,
    )
    assert result["counts"] == {amira: 4, sam: 3, lee: 3, jo: 0}  # the withdrawn are not counted
    assert result["elected"][0] == amira and set(result["elected"]) == {amira, lee}
    assert result["not_elected"][jo] == (
        "0 votes: not more than half of the 5 organisations entitled to vote"
    )
    # Sam and Lee are level: the lot orders them, and Sam's organisation already has a seat.
    assert [set(group) for group in result["lot"]] == [{sam, lee}]
    if result["lot"][0][0] == sam:
        assert result["not_elected"][sam] == (
            "another holder of the office comes from the same organisation"
        )
    assert sam in result["not_elected"] and len(result["seed"]) == 64
    shown = {c["candidate_id"]: (c["votes"], c["elected"]) for c in closed["candidates"]}
    assert shown == {
        amira: (4, True),
        sam: (3, False),
        lee: (3, True),
        jo: (0, False),
        kit: (None, None),
    }
    assert closed["open_votes"] is None
    expect(cast(alliance, election_id, [jo], kc), 409, ELECTION_STATE, "closed")
    assert not has_sealing_key(alliance, election_id)
    [count] = [ev["data"] for ev in log(alliance, auditor) if ev["type"] == "ElectionClosed"]
    assert Counter(tuple(sorted(x)) for x in count["ballots"]) == Counter(
        tuple(sorted(choices)) for choices, _ in [*cast_ballots.values(), ([sam, lee], ke)]
    )

    # The elected take office on the day voting closes, for the ToR's two years.
    assert holders(alliance, "co-chair") == []
    cic.at(on(20))
    co_chairs = alliance.office("co-chair")
    assert co_chairs["vacancies"] == 0 and co_chairs["term_months"] == 24
    assert sorted(
        (h["member_id"], h["person_name"], h["organisation"], h["via"], h["election_ref"])
        for h in co_chairs["holders"]
    ) == sorted(
        [
            (a, "Amira Khan", "Become", "elected", election_id),
            (b, "Lee Grant", "Coram Voice", "elected", election_id),
        ]
    )
    assert {(h["starts_on"], h["ends_on"]) for h in co_chairs["holders"]} == {
        ("2030-02-04", "2032-02-04")
    }

    recount = alliance.call("GET", f"/elections/{election_id}/recount", headers=auditor)
    assert recount.status_code == 200, recount.text
    checked = recount.json()
    assert checked["matches"] is True and checked["ballots"] == 5
    assert checked["recorded"] == checked["recounted"]
    assert checked["recounted"]["counts"] == result["counts"]
    assert checked["recounted"]["elected"] == result["elected"]
    assert checked["recounted"]["lot"] == result["lot"]
    for key in (ka, officer):
        refused = alliance.call("GET", f"/elections/{election_id}/recount", headers=key)
        expect(refused, 403, FORBIDDEN, "auditor")

    reads = [f"/elections/{election_id}", "/elections", "/offices/co-chair"]
    live = [alliance.get(path) for path in reads]
    cic.rebuild()
    assert [alliance.get(path) for path in reads] == live


def test_a_candidate_who_loses_the_lot_is_told_so(cic):
    alliance = cic.alliance
    e = admit_to_children_in_care(alliance, "Voices from Care")
    ka, kb, kc, kd = cic.keys
    ke = issue_key(alliance, "member", e)
    election_id = open_election(alliance)["election_id"]
    amira = nominate(alliance, election_id, "Amira Khan", key=ka)
    lee = nominate(alliance, election_id, "Lee Grant", key=kb)
    jo = nominate(alliance, election_id, "Jo Bell", key=kc)
    cic.at(on(10))
    alliance.post(f"/elections/{election_id}/voting")
    for choices, key in [
        ([amira, lee], ka),
        ([amira, jo], kb),
        ([amira, lee], kc),
        ([jo, lee], kd),
        ([amira, jo], ke),
    ]:
        voted(alliance, election_id, choices, key)

    result = alliance.post(f"/elections/{election_id}/close")["result"]

    assert result["counts"] == {amira: 4, lee: 3, jo: 3}
    [level] = result["lot"]
    loser = level[1]
    assert set(level) == {lee, jo} and result["elected"] == [amira, level[0]]
    assert "fewer votes" not in result["not_elected"][loser]
    assert "lot" in result["not_elected"][loser]


def test_a_by_election_refuses_the_continuing_co_chairs_organisation_and_needs_a_majority(cic):
    alliance, (a, b, *_) = cic.alliance, cic.members
    ka, kb, kc, kd = cic.keys
    alliance.elect("co-chair", a, "Amira Khan")
    lee = alliance.elect("co-chair", b, "Lee Grant")["holders"][1]
    assert lee["member_id"] == b
    alliance.post(f"/offices/co-chair/holdings/{lee['holding_id']}/end", {"reason": "stood down"})
    problem = alliance.refused(
        "POST",
        "/elections",
        {"office": "co-chair", "seats": 2, **WINDOWS},
        rule="offices.co-chair.seats",
    )
    assert "1 will be vacant" in problem["detail"]

    election = open_election(alliance)

    election_id = election["election_id"]
    assert election["seats"] == 1
    problem = alliance.refused(
        "POST",
        f"/elections/{election_id}/nominations",
        {"member_id": a, "person_name": "Sam Okafor", "statement": STATEMENT},
        rule="offices.co-chair.distinct_organisations",
    )
    assert problem["clause"] == "6"
    assert alliance.get(f"/elections/{election_id}")["candidates"] == []
    jo = nominate(alliance, election_id, "Jo Bell", key=kc)
    kit = nominate(alliance, election_id, "Kit Jones", key=kd)
    # Lee Grant stood down, and may stand again: co-chairs are re-eligible.
    again = nominate(alliance, election_id, "Lee Grant", key=kb)
    cic.at(on(10))
    alliance.post(f"/elections/{election_id}/voting")
    voted(alliance, election_id, [jo], ka)
    voted(alliance, election_id, [jo], kb)
    voted(alliance, election_id, [kit], kc)
    cic.at(on(20))  # the window has closed; Kit Jones' organisation did not vote in time
    expect(cast(alliance, election_id, [kit], kd), 409, ELECTION_STATE, "voting closed")

    closed = alliance.post(f"/elections/{election_id}/close")

    # Two of the three ballots cast, but co-chairs need more than half of the voting members.
    result = closed["result"]
    assert (closed["turnout"], closed["electorate"]) == (3, 4)
    assert result["counts"] == {jo: 2, kit: 1, again: 0}
    assert result["elected"] == []
    assert result["not_elected"][jo] == (
        "2 votes: not more than half of the 4 organisations entitled to vote"
    )
    assert [h["member_id"] for h in holders(alliance, "co-chair")] == [a]
    assert alliance.office("co-chair")["vacancies"] == 1


def test_a_second_election_for_seats_already_being_elected_is_refused(new_cic):
    alliance = new_cic.alliance
    open_election(alliance)
    before = len(alliance.get("/elections")["items"])

    second = alliance.call("POST", "/elections", {"office": "co-chair", **WINDOWS})

    assert second.status_code in (409, 422), second.text
    assert len(alliance.get("/elections")["items"]) == before


# ---------------------------------------------------------------------------- open ballot


def test_an_open_election_records_how_each_organisation_voted(client, onboard):
    client.app.state.runtime.clock = lambda: START
    secret = onboard("sfa", template="separated-families")["admin_key"]["secret"]
    alliance = Alliance(client, "separated-families", secret, slug="sfa")
    members = []
    for name in ("Leicester Relate", "Leicester Family Hub", "De Montfort Law Clinic"):
        application_id = alliance.apply(name, region="Leicester")
        members.append(alliance.take_step(application_id, "decide", FM)["member_id"])
    first, second, third = members
    keys = [issue_key(alliance, "member", m) for m in members]
    auditor = issue_key(alliance, "auditor")
    election = open_election(alliance, "chair")
    election_id = election["election_id"]
    assert (election["secret_ballot"], election["seats"]) == (False, 1)
    ravi = nominate(alliance, election_id, "Ravi Shah", member_id=first)
    jo = nominate(alliance, election_id, "Jo Bell", key=keys[1])
    alliance.move_clock_to(on(10))
    alliance.post(f"/elections/{election_id}/voting")
    ballots_path = f"/elections/{election_id}/ballots"

    # An officer records a ballot given at the meeting; members vote with their own keys.
    expect(alliance.call("POST", ballots_path, {"choices": [ravi]}), 422, INVALID, "member_id")
    recorded = alliance.call("POST", ballots_path, {"choices": [ravi], "member_id": first})
    assert recorded.status_code == 202, recorded.text
    voted(alliance, election_id, [jo], keys[1])
    during = voted(alliance, election_id, [], keys[2])  # a blank ballot

    assert during["open_votes"] == sorted(
        [
            {"member_id": first, "choices": [ravi]},
            {"member_id": second, "choices": [jo]},
            {"member_id": third, "choices": []},
        ],
        key=lambda v: v["member_id"],
    )
    assert all(c["votes"] is None for c in during["candidates"])
    recorded_votes = [
        ev["data"] for ev in log(alliance, auditor) if ev["type"] == "ElectionVoteRecorded"
    ]
    assert [(v["member_id"], v["choices"]) for v in recorded_votes] == [
        (first, [ravi]),
        (second, [jo]),
        (third, []),
    ]

    closed = alliance.post(f"/elections/{election_id}/close")

    result = closed["result"]
    assert (result["ballots"], result["blank"]) == (3, 1)
    assert result["counts"] == {ravi: 1, jo: 1}
    # One of three ballots is not more than half: no one is elected.
    assert result["elected"] == [] and set(result["not_elected"]) == {ravi, jo}
    assert alliance.office("chair")["holders"] == []
    recount = alliance.call("GET", f"/elections/{election_id}/recount", headers=auditor).json()
    assert recount["matches"] is True and recount["recounted"]["elected"] == []

    rerun = open_election(
        alliance,
        "chair",
        nominations_close=on(21).isoformat(),
        voting_opens=on(22).isoformat(),
        voting_closes=on(30).isoformat(),
    )["election_id"]
    ravi = nominate(alliance, rerun, "Ravi Shah", member_id=first)
    alliance.move_clock_to(on(22))
    alliance.post(f"/elections/{rerun}/voting")
    for key in keys[:2]:
        voted(alliance, rerun, [ravi], key)
    alliance.move_clock_to(on(30))
    assert alliance.post(f"/elections/{rerun}/close")["result"]["elected"] == [ravi]
    [chair] = alliance.office("chair")["holders"]
    assert (chair["member_id"], chair["person_name"], chair["via"]) == (
        first,
        "Ravi Shah",
        "elected",
    )
    assert (chair["starts_on"], chair["ends_on"]) == ("2030-02-14", "2032-02-14")


# ---------------------------------------------------------------------------- bad input


def test_election_refusals_are_problems_and_record_nothing(cic):
    alliance, a = cic.alliance, cic.members[0]
    ka = cic.keys[0]
    auditor = issue_key(alliance, "auditor")
    election = open_election(alliance)
    election_id = election["election_id"]
    amira = nominate(alliance, election_id, "Amira Khan", key=ka)
    snapshot = alliance.get(f"/elections/{election_id}")
    before = len(log(alliance, auditor))
    here, nowhere = f"/elections/{election_id}", f"/elections/{NOWHERE}"

    x = {"person_name": "X", "statement": STATEMENT}
    withdraw, unknown = f"{here}/nominations/{amira}/withdraw", {"reason": "r"}
    for path, body, key, status, kind, word in [
        (f"{here}/nominations", x | {"x": 1}, ka, 422, INVALID, "x"),
        (f"{here}/nominations", {"member_id": a, "statement": "s"}, None, 422, INVALID, "person"),
        (withdraw, {}, None, 422, INVALID, "reason"),
        (withdraw, {"reason": "r", "x": 1}, None, 422, INVALID, "x"),
        (f"{here}/ballots", {"choices": "all"}, ka, 422, INVALID, "choices"),
        (f"{here}/ballots", {}, ka, 422, INVALID, "choices"),
        (f"{here}/cancel", {}, None, 422, INVALID, "reason"),
        (f"{here}/cancel", {"reason": "r", "notify": True}, None, 422, INVALID, "notify"),
        (f"{here}/cancel", {"reason": "r"}, ka, 403, FORBIDDEN, "member"),
        (f"{here}/voting", None, ka, 403, FORBIDDEN, "member"),
        (f"{here}/close", None, auditor, 403, FORBIDDEN, "auditor"),
        (f"{here}/close", None, None, 409, ELECTION_STATE, "nominating"),
        (f"{nowhere}/nominations", x | {"member_id": a}, None, 404, NOT_FOUND, "election"),
        (f"{nowhere}/nominations/{amira}/withdraw", unknown, None, 404, NOT_FOUND, "election"),
        (f"{nowhere}/voting", None, None, 404, NOT_FOUND, "election"),
        (f"{nowhere}/ballots", {"choices": []}, ka, 404, NOT_FOUND, "election"),
        (f"{nowhere}/close", None, None, 404, NOT_FOUND, "election"),
        (f"{nowhere}/cancel", unknown, None, 404, NOT_FOUND, "election"),
        (f"{here}/nominations/{NOWHERE}/withdraw", unknown, ka, 404, NOT_FOUND, "candidate"),
        (f"{here}/nominations/{NOWHERE}/withdraw", unknown, None, 404, NOT_FOUND, "candidate"),
    ]:
        response = alliance.call("POST", path, body, headers=key)
        try:
            expect(response, status, kind, word)
        except AssertionError as failed:
            raise AssertionError(f"POST {path} {body}: {failed}") from None
    for path, status, kind, word in [
        (nowhere, 404, NOT_FOUND, NOWHERE),
        ("/elections/not-an-id", 404, NOT_FOUND, "not-an-id"),
        (f"{nowhere}/recount", 404, NOT_FOUND, "election"),
        (f"{here}/recount", 422, INVALID_ELECTION, "nominating"),
    ]:
        expect(alliance.call("GET", path), status, kind, word)
    for query in ({"limit": 0}, {"limit": 201}, {"after": -1}, {"status": "open"}):
        expect(alliance.call("GET", "/elections", params=query), 422, INVALID, next(iter(query)))
    malformed = alliance.client.post(
        f"{alliance.base}/elections",
        content=b'{"office": "co-chair",',
        headers={**alliance.headers, "Content-Type": "application/json"},
    )
    expect(malformed, 400, MALFORMED, "JSON")
    # Nobody opened the vote in its window: it cannot open late.
    cic.at(on(20))
    expect(alliance.call("POST", f"{here}/voting"), 409, ELECTION_STATE, "window closed")

    assert len(log(alliance, auditor)) == before
    assert alliance.get(here) == snapshot

    cancelled = alliance.post(f"{here}/cancel", {"reason": "the ToR is being amended"})

    assert cancelled["status"] == "cancelled"
    assert cancelled["cancelled_reason"] == "the ToR is being amended"
    assert not has_sealing_key(alliance, election_id)
    before = len(log(alliance, auditor))
    for path, body, key in [
        (f"{here}/nominations", {"person_name": "X", "statement": STATEMENT}, ka),
        (f"{here}/nominations/{amira}/withdraw", {"reason": "r"}, None),
        (f"{here}/voting", None, None),
        (f"{here}/ballots", {"choices": [amira]}, ka),
        (f"{here}/close", None, None),
        (f"{here}/cancel", {"reason": "again"}, None),
    ]:
        expect(alliance.call("POST", path, body, headers=key), 409, ELECTION_STATE, "cancelled")
    expect(alliance.call("GET", f"{here}/recount"), 422, INVALID_ELECTION, "cancelled")
    assert len(log(alliance, auditor)) == before


# ---------------------------------------------------------------------------- paging


def test_elections_are_paged_in_order_and_filtered_by_office_and_status(new_cic):
    alliance = new_cic.alliance
    made = []
    for n in range(3):
        made.append(open_election(alliance)["election_id"])
        if n < 2:
            alliance.post(f"/elections/{made[-1]}/cancel", {"reason": f"attempt {n + 1}"})

    def pages(**query: Any) -> list[list[str]]:
        found: list[list[str]] = []
        after = 0
        while True:
            page = alliance.get("/elections", after=after, **query)
            found.append([e["election_id"] for e in page["items"]])
            if page["next_after"] is None:
                return found
            assert page["next_after"] == page["items"][-1]["seq"]
            after = page["next_after"]

    assert pages() == [made]
    assert pages(limit=2) == [made[:2], made[2:]]
    assert pages(limit=1, status="cancelled") == [[made[0]], [made[1]]]
    assert pages(status="nominating") == [[made[2]]]
    assert pages(status="closed") == [[]]
    assert pages(office="co-chair", limit=3) == [made]
    assert pages(office="working-group-lead") == [[]]
    [summary] = alliance.get("/elections", status="nominating")["items"]
    whole = alliance.get(f"/elections/{made[2]}")
    assert summary == {k: whole[k] for k in summary}
    assert "candidates" not in summary
    assert whole["candidates"] == [] and whole["voted"] == []
