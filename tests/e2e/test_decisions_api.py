"""Motions through the API, on both stores: a body's path from proposal to its result, as
its Terms of Reference set it (consensus first, a vote of the organisations present or of
every member for a public stance, a tie broken by the co-chairs' casting vote, a matter
the executive cannot agree referred to the full membership); carried motions taking effect
through earlier features (a ToR amendment, an admission, an appointment); every refusal
with its status, problem type and clause, and nothing half-written after it; paging and
filters; and each organisation's voting record.

The clock is the runtime's: every alliance here is founded at START and time moves on
only when a test moves it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from domain.rules import Clause
from tests.e2e.test_membership_api import CHIEF, admit, admit_adviser, issue_key
from tests.e2e.test_membership_year import Alliance, assert_problem

#: The alliance is founded, and its ToR takes effect, at this moment.
START = datetime(2030, 1, 15, 9, 0, tzinfo=UTC)
LINK = "https://meet.example.org/alliance"
FM, WG, EXEC = "full-membership", "working-groups", "executive-committee"
INVALID = "urn:concord:problem:invalid-request"
MALFORMED = "urn:concord:problem:malformed-json"
NOT_FOUND = "urn:concord:problem:not-found"
FORBIDDEN = "urn:concord:problem:forbidden"
RULE_BROKEN = "urn:concord:problem:tor-rule-broken"
INVALID_MOTION = "urn:concord:problem:invalid-motion"
MOTION_STATE = "urn:concord:problem:motion-state"
NOWHERE = "00000000-0000-4000-8000-000000000001"
STANCE = "The alliance calls for an end to unregulated placements for under-16s."
CIC_ORGANISATIONS = ("Become", "Coram Voice", "The Fostering Network", "Who Cares Trust")
KIN_ORGANISATIONS = ("Kinship", "Family Rights Group", "Grandparents Plus Network")


def on(days: int, hour: int = 10) -> datetime:
    """A moment `days` after START, at `hour` o'clock UTC."""
    return (START + timedelta(days=days)).replace(hour=hour)


def expect(response: Any, status: int, kind: str, *words: str) -> dict[str, Any]:
    """A problem answer of this status and type whose detail names each of `words`."""
    problem = assert_problem(response, status)
    assert problem["type"] == kind, problem
    for word in words:
        assert word in problem["detail"], problem
    return problem


def admit_to_children_in_care(alliance: Alliance, name: str, **facts: Any) -> str:
    """Admit on the children-in-care route: the co-chairs recommend, the full membership
    decides."""
    application_id = alliance.apply(name, **facts)
    alliance.take_step(application_id, "recommend", "co-chair")
    decided = alliance.take_step(application_id, "decide", FM)
    return str(decided["member_id"])


@dataclass
class Chamber:
    """An alliance driven through the API: its voting member organisations, each with its
    own member key, and the officers' key (the tenant admin's)."""

    alliance: Alliance
    members: list[str]
    keys: list[dict[str, str]]

    def at(self, moment: datetime) -> None:
        self.alliance.move_clock_to(moment)

    def meeting(
        self,
        day: int,
        *,
        body: str = FM,
        present: list[str] | None = None,
        apologies: list[str] | None = None,
        held: bool = True,
    ) -> str:
        """A meeting of `body` on `day`, held with `present` attending (default: the first
        two members); the clock is left on that day when it is held."""
        starts_at = on(day)
        request = {
            "body": body,
            "title": f"{body} meeting",
            "starts_at": starts_at.isoformat(),
            "format": "virtual",
            "link": LINK,
        }
        meeting_id = str(self.alliance.post("/meetings", request, status=201)["meeting_id"])
        if held:
            self.at(starts_at)
            attendance = [{"member_id": m} for m in (present or self.members[:2])]
            done = self.alliance.post(
                f"/meetings/{meeting_id}/hold",
                {"attendance": attendance, "apologies": apologies or []},
            )
            assert done["status"] == "held" and done["quorate"] is True
        return meeting_id

    def propose(self, text: str = STANCE, *, body: str = FM, **fields: Any) -> dict[str, Any]:
        motion = self.alliance.post("/motions", {"body": body, "text": text, **fields}, status=201)
        assert motion["status"] == "proposed" and steps(motion) == ["proposed"]
        return dict(motion)

    def consensus(self, motion_id: str, meeting_id: str, *, reached: bool) -> dict[str, Any]:
        body = {"meeting_id": meeting_id, "reached": reached}
        return dict(self.alliance.post(f"/motions/{motion_id}/consensus", body))

    def open_vote(self, motion_id: str, meeting_id: str, **fields: Any) -> dict[str, Any]:
        body = {"meeting_id": meeting_id, **fields}
        return dict(self.alliance.post(f"/motions/{motion_id}/voting", body))

    def to_the_vote(self, text: str, meeting_id: str, **fields: Any) -> str:
        """A motion proposed, without consensus at the meeting, and put to its vote there."""
        motion_id = str(self.propose(text, **fields)["motion_id"])
        self.consensus(motion_id, meeting_id, reached=False)
        assert self.open_vote(motion_id, meeting_id)["status"] == "voting"
        return motion_id

    def vote(self, motion_id: str, member: int, choice: str) -> dict[str, Any]:
        """The member organisation `member` votes with its own key."""
        response = self.alliance.call(
            "POST", f"/motions/{motion_id}/votes", {"choice": choice}, headers=self.keys[member]
        )
        assert response.status_code == 200, response.text
        return dict(response.json())

    def close(self, motion_id: str) -> dict[str, Any]:
        return dict(self.alliance.post(f"/motions/{motion_id}/close"))

    def motion(self, motion_id: str) -> dict[str, Any]:
        return dict(self.alliance.get(f"/motions/{motion_id}"))

    def log_length(self) -> int:
        """How many events the alliance's log holds."""
        count, after = 0, 0
        while True:
            page = self.alliance.get("/events", after=after, limit=200)
            count += len(page["items"])
            if page["next_after"] is None:
                return count
            after = page["next_after"]

    def rebuild(self) -> None:
        """Drop the read side and replay it from the log."""
        with self.alliance.client.app.state.runtime.tenant(self.alliance.slug) as store:
            assert store.runner.rebuild() > 0


def steps(motion: dict[str, Any]) -> list[str]:
    return [step["step"] for step in motion["path"]]


def votes_of(motion: dict[str, Any]) -> dict[str, str]:
    return {v["member_id"]: v["choice"] for v in motion["votes"]}


def found_children_in_care(client: Any, onboard: Any, members: int = 4) -> Chamber:
    """A children-in-care alliance founded at START with (up to four) voting member
    organisations."""
    client.app.state.runtime.clock = lambda: START
    secret = onboard("acic", template="children-in-care", name="Children in Care Alliance")
    alliance = Alliance(client, "children-in-care", secret["admin_key"]["secret"], slug="acic")
    ids = [admit_to_children_in_care(alliance, name) for name in CIC_ORGANISATIONS[:members]]
    keys = [issue_key(alliance, "member", m) for m in ids]
    return Chamber(alliance=alliance, members=ids, keys=keys)


@pytest.fixture
def cic(client, onboard) -> Chamber:
    return found_children_in_care(client, onboard)


@pytest.fixture
def new_cic(client, onboard) -> Chamber:
    """A children-in-care alliance just founded, with no members yet."""
    return found_children_in_care(client, onboard, members=0)


@pytest.fixture
def small_cic(client, onboard) -> Chamber:
    """A children-in-care alliance with two member organisations."""
    return found_children_in_care(client, onboard, members=2)


@pytest.fixture
def kin(client, onboard) -> Chamber:
    """A kinship-care alliance founded at START with three voting member organisations,
    the first two sitting on the executive committee."""
    client.app.state.runtime.clock = lambda: START
    secret = onboard("kca", template="kinship-care", name="Kinship Care Alliance")
    alliance = Alliance(client, "kinship-care", secret["admin_key"]["secret"], slug="kca")
    members = [admit(alliance, name) for name in KIN_ORGANISATIONS]
    for member_id, person in zip(members[:2], ("Kit Jones", "Rae Patel"), strict=True):
        seat = {"member_id": member_id, "person_name": person, "agreed_by": FM}
        alliance.post("/bodies/executive-committee/seats", seat | {"decision_ref": "m"}, status=201)
    keys = [issue_key(alliance, "member", m) for m in members]
    return Chamber(alliance=alliance, members=members, keys=keys)


# ---------------------------------------------------------------------------- public stance


def test_a_public_stance_goes_to_every_member_and_the_co_chairs_break_a_tie(cic):
    alliance, (a, b, c, d) = cic.alliance, cic.members
    alliance.elect("co-chair", a, "Amira Khan")
    co_chairs = alliance.elect("co-chair", b, "Lee Grant")["holders"]
    holding = {h["member_id"]: h["holding_id"] for h in co_chairs}
    main = cic.meeting(7, present=[a, b], apologies=[c])  # c and d are absent
    proposed = cic.propose(public_stance=True, proposer_member_id=a)
    motion_id = proposed["motion_id"]
    assert proposed["proposer_member_id"] == a and proposed["public_stance"] is True
    assert proposed["under_version"] == 1 and proposed["votes"] == []

    before = cic.log_length()
    alliance.refused(
        "POST",
        f"/motions/{motion_id}/voting",
        {"meeting_id": main},
        rule="decisions.full-membership.consensus_first",
    )
    assert cic.log_length() == before and cic.motion(motion_id) == proposed

    no_consensus = cic.consensus(motion_id, main, reached=False)
    assert no_consensus["status"] == "proposed" and no_consensus["meeting_id"] == main
    opened = cic.open_vote(motion_id, main)

    # A public stance without consensus: every member organisation votes, absentees too.
    assert (opened["status"], opened["scope"], opened["electorate"]) == ("voting", "all-members", 4)
    vote_opened = opened["path"][-1]
    assert vote_opened["scope"] == "all-members" and vote_opened["electorate"] == 4
    assert vote_opened["majority"] == "of-votes-cast"
    assert vote_opened["vote_changes"] == "last-counts"
    assert "decisions.full-membership.public_stance_electorate" in vote_opened["rules"]
    # The electorate was fixed when voting opened: a member admitted since has no vote.
    late = admit_to_children_in_care(alliance, "Voices from Care")
    late_key = issue_key(alliance, "member", late)
    refused = alliance.call(
        "POST", f"/motions/{motion_id}/votes", {"choice": "for"}, headers=late_key
    )
    expect(refused, 409, MOTION_STATE, "electorate")
    # A member key votes only for its own organisation.
    for_another = alliance.call(
        "POST",
        f"/motions/{motion_id}/votes",
        {"choice": "for", "member_id": d},
        headers=cic.keys[0],
    )
    expect(for_another, 403, FORBIDDEN, "own organisation")
    # An officer records an absentee's postal vote; the organisation may change it.
    postal = alliance.post(f"/motions/{motion_id}/votes", {"choice": "for", "member_id": d})
    assert votes_of(postal) == {d: "for"}
    cic.vote(motion_id, 0, "for")
    cic.vote(motion_id, 1, "against")
    cic.vote(motion_id, 1, "for")  # the last vote before the count counts
    cic.vote(motion_id, 2, "against")
    changed = cic.vote(motion_id, 3, "against")

    assert votes_of(changed) == {a: "for", b: "for", c: "against", d: "against"}
    assert changed["status"] == "voting" and changed["tally"] is None
    counted = cic.close(motion_id)

    assert counted["status"] == "tied" and counted["via"] is None
    assert counted["tally"] == {
        "for": 2,
        "against": 2,
        "abstain": 0,
        "turnout": 4,
        "electorate": 4,
        "quorum_needed": None,
        "quorate": True,
        "outcome": "tied",
    }
    too_late = alliance.call(
        "POST", f"/motions/{motion_id}/votes", {"choice": "for"}, headers=cic.keys[2]
    )
    expect(too_late, 409, MOTION_STATE, "tied")
    for short in ([], [{"holding_id": holding[a], "choice": "for"}]):
        refused = alliance.call("POST", f"/motions/{motion_id}/casting-vote", {"votes": short})
        expect(refused, 422, INVALID_MOTION, "missing", holding[b])
    stranger = {
        "votes": [
            {"holding_id": holding[a], "choice": "for"},
            {"holding_id": NOWHERE, "choice": "for"},
        ]
    }
    expect(
        alliance.call("POST", f"/motions/{motion_id}/casting-vote", stranger), 422, INVALID_MOTION
    )
    assert cic.motion(motion_id)["status"] == "tied"

    carried = alliance.post(
        f"/motions/{motion_id}/casting-vote",
        {"votes": [{"holding_id": h, "choice": "for"} for h in holding.values()]},
    )

    assert carried["status"] == "carried" and carried["via"] == "casting-vote"
    assert carried["reason"] == "the tie was broken by the casting vote, for"
    assert (carried["rule"], carried["clause"]) == (
        "decisions.full-membership.casting_vote_office",
        "5",
    )
    assert carried["effect"] is None  # a position takes no effect elsewhere
    path = carried["path"]
    assert steps(carried) == [
        "proposed",
        "consensus",
        "vote-opened",
        "vote-counted",
        "casting-vote",
        "decided",
    ]
    positions = [step["position"] for step in path]
    assert positions == sorted(positions) and len(set(positions)) == len(positions)
    assert all(step["under_version"] == 1 for step in path if step["step"] != "casting-vote")
    assert path[1]["rule"] == "decisions.full-membership.consensus_first"
    assert path[1]["reached"] is False and path[1]["meeting_id"] == main
    assert {"decisions.full-membership.majority", "decisions.full-membership.vote_changes"} <= set(
        path[2]["rules"]
    )
    assert path[3]["outcome"] == "tied" and path[3]["turnout"] == 4
    assert path[4]["office"] == "co-chair"
    assert sorted(
        (v["member_id"], v["holding_id"], v["choice"]) for v in path[4]["votes"]
    ) == sorted((m, h, "for") for m, h in holding.items())
    assert path[5]["outcome"] == "carried" and path[5]["clause"] == "5"

    # The co-chairs disagree on the next tie: the motion fails, and says why.
    second = cic.to_the_vote(
        "The alliance opposes the new placement rules.", main, public_stance=True
    )
    cic.vote(second, 0, "for")
    cic.vote(second, 1, "against")
    assert cic.close(second)["status"] == "tied"
    split = [
        {"holding_id": holding[a], "choice": "for"},
        {"holding_id": holding[b], "choice": "against"},
    ]
    defeated = alliance.post(f"/motions/{second}/casting-vote", {"votes": split})

    assert defeated["status"] == "defeated" and defeated["via"] == "casting-vote"
    assert defeated["reason"] == "the holders of the casting vote disagreed, so the motion fails"
    # Voices from Care, admitted since the first vote opened, has a vote on this one.
    assert defeated["tally"]["turnout"] == 2 and defeated["tally"]["electorate"] == 5
    assert steps(defeated)[-2:] == ["casting-vote", "decided"]

    def record(member_id: str) -> list[tuple[str, str, str]]:
        found = alliance.get("/motions/voting-record", member_id=member_id)
        assert found["member_id"] == member_id and found["next_after"] is None
        return [(r["motion_id"], r["choice"], r["status"]) for r in found["items"]]

    assert record(a) == [(motion_id, "for", "carried"), (second, "for", "defeated")]
    assert record(b) == [(motion_id, "for", "carried"), (second, "against", "defeated")]
    assert record(c) == [(motion_id, "against", "carried")]  # absent from the meeting
    assert record(d) == [(motion_id, "against", "carried")]
    assert record(late) == []
    paged = alliance.get("/motions/voting-record", member_id=a, limit=1)
    assert [r["motion_id"] for r in paged["items"]] == [motion_id]
    rest = alliance.get("/motions/voting-record", member_id=a, limit=1, after=paged["next_after"])
    assert [r["motion_id"] for r in rest["items"]] == [second] and rest["next_after"] is None

    reads = [f"/motions/{motion_id}", f"/motions/{second}", "/motions"]
    live = [alliance.get(path) for path in reads]
    live.append(alliance.get("/motions/voting-record", member_id=b))
    cic.rebuild()
    replayed = [alliance.get(path) for path in reads]
    replayed.append(alliance.get("/motions/voting-record", member_id=b))
    assert replayed == live


def test_every_step_of_a_path_records_the_tor_version_and_the_rule_it_applied(small_cic):
    cic = small_cic
    alliance, (a, b) = cic.alliance, cic.members
    alliance.elect("co-chair", a, "Amira Khan")
    holders = alliance.elect("co-chair", b, "Lee Grant")["holders"]
    main = cic.meeting(7)
    motion_id = cic.to_the_vote(STANCE, main, public_stance=True)
    cic.vote(motion_id, 0, "for")
    cic.vote(motion_id, 1, "against")
    cic.close(motion_id)
    appointment = cic.propose(
        "Appoint the lead of the data group.",
        decides={"kind": "appointment", "office": "working-group-lead", "member_id": a},
    )

    decided = alliance.post(
        f"/motions/{motion_id}/casting-vote",
        {"votes": [{"holding_id": h["holding_id"], "choice": "for"} for h in holders]},
    )
    appointed = cic.consensus(appointment["motion_id"], main, reached=True)

    [casting] = [step for step in decided["path"] if step["step"] == "casting-vote"]
    assert casting.get("rule") == "decisions.full-membership.casting_vote_office"
    assert [step.get("under_version") for step in decided["path"]] == [1] * 6
    assert steps(appointed)[-1] == "effect" and appointed["effect"]["applied"] is True
    assert [step.get("under_version") for step in appointed["path"]] == [1] * 4


# ---------------------------------------------------------------------------- kinship care


def test_an_executive_without_consensus_refers_the_matter_to_the_full_membership(kin):
    alliance, (first, second, third) = kin.alliance, kin.members
    executive = kin.meeting(5, body=EXEC, present=[first, second])
    proposed = kin.propose(
        "The alliance campaigns for a kinship allowance.", body=EXEC, proposer_member_id=first
    )
    motion_id = proposed["motion_id"]
    problem = alliance.refused(
        "POST",
        f"/motions/{motion_id}/voting",
        {"meeting_id": executive},
        rule="decisions.executive-committee.consensus_first",
    )
    assert problem["clause"] == "6.1"

    referred = kin.consensus(motion_id, executive, reached=False)

    onward = referred["referred_to"]
    assert referred["status"] == "referred" and referred["via"] == "referral"
    assert referred["reason"] == "no consensus: referred to the full-membership"
    assert (referred["rule"], referred["clause"]) == (
        "decisions.executive-committee.escalate_to",
        "6.1",
    )
    assert steps(referred) == ["proposed", "consensus", "decided"]
    assert referred["path"][-1]["referred_to"] == onward
    assert all(step["under_version"] == 1 for step in referred["path"])
    new = kin.motion(onward)
    assert (new["body"], new["status"], new["referred_from"]) == (FM, "proposed", motion_id)
    assert (new["text"], new["proposer_member_id"]) == (proposed["text"], first)
    assert new["path"] == [
        {
            "step": "proposed",
            "body": FM,
            "referred_from": motion_id,
            "under_version": 1,
            "position": new["seq"],
        }
    ]
    before = kin.log_length()
    for path, body in [
        (f"/motions/{motion_id}/voting", {"meeting_id": executive}),
        (f"/motions/{motion_id}/consensus", {"meeting_id": executive, "reached": True}),
        (f"/motions/{motion_id}/withdraw", {"reason": "changed our minds"}),
    ]:
        expect(alliance.call("POST", path, body), 409, MOTION_STATE, "referred")
    at_the_executive = {"meeting_id": executive, "reached": True}
    expect(
        alliance.call("POST", f"/motions/{onward}/consensus", at_the_executive),
        422,
        INVALID_MOTION,
        "executive-committee",
    )
    assert kin.log_length() == before

    membership = kin.meeting(30, present=[first, second, third])
    carried = kin.consensus(onward, membership, reached=True)

    assert carried["status"] == "carried" and carried["via"] == "consensus"
    assert (carried["rule"], carried["clause"]) == (
        "decisions.full-membership.consensus_first",
        "7",
    )
    assert carried["referred_from"] == motion_id and carried["meeting_id"] == membership
    assert steps(carried) == ["proposed", "consensus", "decided"]
    assert kin.motion(motion_id)["status"] == "referred"
    listed = {
        query: [m["motion_id"] for m in alliance.get("/motions", **{query[0]: query[1]})["items"]]
        for query in (("body", EXEC), ("body", FM), ("status", "referred"), ("status", "carried"))
    }
    assert listed == {
        ("body", EXEC): [motion_id],
        ("body", FM): [onward],
        ("status", "referred"): [motion_id],
        ("status", "carried"): [onward],
    }

    # An application the executive cannot agree on goes to the full membership too, which
    # then decides it in the executive's stead.
    application_id = alliance.apply("Kinship Carers UK", **CHIEF)
    alliance.take_step(application_id, "circulate", EXEC)
    admission = kin.propose(
        "Admit Kinship Carers UK.",
        body=EXEC,
        decides={"kind": "admission", "application_id": application_id},
    )
    executive_again = kin.meeting(40, body=EXEC, present=[first, second])
    onward = kin.consensus(admission["motion_id"], executive_again, reached=False)["referred_to"]
    membership_again = kin.meeting(70, present=[first, third])
    admitted = kin.consensus(onward, membership_again, reached=True)

    assert admitted["status"] == "carried" and admitted["effect"]["applied"] is True
    member_id = admitted["effect"]["ref"].removeprefix("member:")
    application = alliance.application(application_id)
    assert (application["stage"], application["member_id"]) == ("admitted", member_id)
    assert application["decided_by_body"] == EXEC
    assert application["decision_ref"] == f"motion:{onward}"


def test_the_full_membership_votes_as_the_organisations_present_where_the_tor_says_nothing_more(
    kin,
):
    alliance, (first, second, third) = kin.alliance, kin.members
    adviser = admit_adviser(alliance, "Dr Jo Expert", "jo.expert@example.org")
    adviser_key = issue_key(alliance, "member", adviser)
    membership = kin.meeting(20, present=[first, second, adviser], apologies=[third])
    motion_id = kin.to_the_vote(STANCE, membership, public_stance=True)

    opened = kin.motion(motion_id)
    # Kinship care gives no vote to absentees, even on a public stance; advisers never vote.
    assert (opened["scope"], opened["electorate"]) == ("attendees", 2)
    for key in (kin.keys[2], adviser_key):
        refused = alliance.call(
            "POST", f"/motions/{motion_id}/votes", {"choice": "for"}, headers=key
        )
        expect(refused, 409, MOTION_STATE, "electorate")
    kin.vote(motion_id, 0, "for")
    kin.vote(motion_id, 1, "against")

    defeated = kin.close(motion_id)

    assert defeated["status"] == "defeated" and defeated["via"] == "vote"
    assert defeated["tally"]["outcome"] == "tied" and defeated["tally"]["electorate"] == 2
    assert defeated["reason"] == "a tie, and the ToR gives no casting vote, so the motion fails"
    assert (defeated["rule"], defeated["clause"]) == (
        "decisions.full-membership.casting_vote_office",
        "7",
    )
    assert steps(defeated) == ["proposed", "consensus", "vote-opened", "vote-counted", "decided"]
    expect(
        alliance.call(
            "POST", f"/motions/{motion_id}/votes", {"choice": "for"}, headers=kin.keys[0]
        ),
        409,
        MOTION_STATE,
        "defeated",
    )

    majority = kin.to_the_vote("The alliance publishes its annual report.", membership)
    kin.vote(majority, 0, "for")
    kin.vote(majority, 1, "abstain")
    carried = kin.close(majority)
    assert (
        carried["status"] == "carried" and carried["rule"] == "decisions.full-membership.majority"
    )
    assert carried["reason"] == (
        "carried by the majority the ToR requires: 1 for, 0 against, 1 abstaining"
    )


# ---------------------------------------------------------------------------- effects


def test_a_carried_motion_adopts_an_amendment_whose_new_rule_binds_the_next_motion(small_cic):
    cic = small_cic
    alliance = cic.alliance
    main = cic.meeting(7)
    group_meeting = cic.meeting(8, body=WG)
    amendment = alliance.post(
        "/terms/amendments",
        {
            "rationale": "working groups decide only at main meetings too",
            "rules": [{"path": "decisions.working-groups", "value": {"main_meetings_only": True}}],
            "clauses": [
                {
                    "number": "8.1",
                    "rules": [
                        "decisions.full-membership.main_meetings_only",
                        "decisions.working-groups",
                    ],
                }
            ],
        },
        status=201,
    )
    amendment_id = amendment["amendment_id"]
    decides = {"kind": "amendment", "amendment_id": amendment_id}
    before = cic.log_length()
    problem = alliance.refused(
        "POST",
        "/motions",
        {"body": WG, "text": "Adopt the amendment.", "decides": decides},
        rule="review.amendments_approved_by",
    )
    assert problem["clause"] == "9" and "full-membership" in problem["detail"]
    assert cic.log_length() == before and alliance.get("/motions")["items"] == []
    group_motion = cic.propose("The group meets monthly.", body=WG)["motion_id"]
    assert cic.consensus(group_motion, group_meeting, reached=True)["status"] == "carried"
    motion_id = cic.propose("Adopt the amendment.", decides=decides)["motion_id"]
    cic.at(on(9))

    carried = cic.consensus(motion_id, main, reached=True)

    assert carried["status"] == "carried" and carried["via"] == "consensus"
    effect = {k: carried["effect"][k] for k in ("applied", "kind", "ref")}
    assert effect == {"applied": True, "kind": "amendment", "ref": "version:2"}
    assert steps(carried) == ["proposed", "consensus", "decided", "effect"]
    terms = alliance.get("/terms")
    assert (terms["number"], terms["amendment_id"]) == (2, amendment_id)
    assert terms["effective_from"] == on(9).date().isoformat()
    assert terms["decision_ref"] == f"motion:{motion_id}" and terms["approved_by_body"] == FM
    assert alliance.get(f"/terms/amendments/{amendment_id}")["state"] == "approved"
    again = alliance.call("POST", "/motions", {"body": FM, "text": "Again.", "decides": decides})
    expect(again, 422, INVALID_MOTION, "approved")

    # Version 2 is in force: the working groups now decide only at main meetings.
    alliance.clauses = tuple(_clause(found) for found in terms["clauses"])
    later = cic.propose("The group meets weekly.", body=WG)
    before = cic.log_length()
    problem = alliance.refused(
        "POST",
        f"/motions/{later['motion_id']}/consensus",
        {"meeting_id": group_meeting, "reached": True},
        rule="decisions.working-groups.main_meetings_only",
    )
    assert problem["clause"] == "8.1"
    assert cic.log_length() == before and cic.motion(later["motion_id"]) == later
    assert cic.motion(group_motion)["under_version"] == 1


def _clause(found: dict[str, Any]) -> Clause:
    """A clause of the ToR as GET /terms shows it."""
    return Clause(
        number=found["number"],
        heading=found["heading"],
        text=found["text"],
        rules=tuple(found["rules"]),
    )


def test_a_carried_motion_admits_the_applicant_its_route_brought_to_the_membership(cic):
    alliance = cic.alliance
    main = cic.meeting(7)
    recommended = alliance.apply("Care Leavers Together")
    alliance.take_step(recommended, "recommend", "co-chair")
    early = alliance.apply("Early Bird Trust")  # not yet recommended by the co-chairs
    problem = alliance.refused(
        "POST",
        "/motions",
        {
            "body": WG,
            "text": "Admit them.",
            "decides": {"kind": "admission", "application_id": recommended},
        },
        rule="membership.route.decided_by",
    )
    assert problem["clause"] == "3.1"
    expect(
        alliance.call(
            "POST",
            "/motions",
            {"body": FM, "text": "t", "decides": {"kind": "admission", "application_id": NOWHERE}},
        ),
        404,
        NOT_FOUND,
        NOWHERE,
    )
    admission = cic.propose(
        "Admit Care Leavers Together.",
        decides={"kind": "admission", "application_id": recommended},
    )
    premature = cic.propose(
        "Admit Early Bird Trust.", decides={"kind": "admission", "application_id": early}
    )

    carried = cic.consensus(admission["motion_id"], main, reached=True)

    effect = carried["effect"]
    assert carried["status"] == "carried" and effect["applied"] is True
    assert effect["kind"] == "admission" and effect["ref"].startswith("member:")
    member_id = effect["ref"].removeprefix("member:")
    application = alliance.application(recommended)
    assert application["stage"] == "admitted" and application["member_id"] == member_id
    assert application["decided_by_body"] == FM
    assert application["decision_ref"] == f"motion:{admission['motion_id']}"
    member = alliance.member(member_id)
    assert (member["name"], member["status"], member["standing"]) == (
        "Care Leavers Together",
        "active",
        "member",
    )
    closed = alliance.call(
        "POST",
        "/motions",
        {"body": FM, "text": "t", "decides": {"kind": "admission", "application_id": recommended}},
    )
    expect(closed, 422, INVALID_MOTION, "admitted")

    # The membership decides, but the route was not followed: the decision stands and the
    # record says why it had no effect.
    unrouted = cic.consensus(premature["motion_id"], main, reached=True)

    assert unrouted["status"] == "carried"
    assert unrouted["effect"]["applied"] is False
    assert [(v["rule"], v["clause"]) for v in unrouted["effect"]["violations"]] == [
        ("membership.route.recommended_by", "3.1")
    ]
    assert alliance.application(early)["stage"] == "submitted"
    assert [m["name"] for m in alliance.get("/members")["items"]] == [
        *CIC_ORGANISATIONS,
        "Care Leavers Together",
    ]


def test_a_carried_motion_appoints_to_an_office_the_membership_appoints(cic):
    alliance, (a, _, c, d) = cic.alliance, cic.members
    main = cic.meeting(7)
    appoint = {"kind": "appointment", "office": "working-group-lead", "member_id": c}
    for body, decides, rule, clause in [
        (FM, {"kind": "appointment", "office": "co-chair", "member_id": a}, "selection", "6.1"),
        (WG, appoint, None, "7.1"),
    ]:
        refused = alliance.call("POST", "/motions", {"body": body, "text": "t", "decides": decides})
        problem = expect(refused, 422, RULE_BROKEN)
        assert problem["clause"] == clause, problem
        if rule is not None:
            assert problem["violations"][0]["rule"] == f"offices.{decides['office']}.{rule}"
    unknown = {"kind": "appointment", "office": "treasurer", "member_id": a}
    expect(
        alliance.call("POST", "/motions", {"body": FM, "text": "t", "decides": unknown}),
        404,
        NOT_FOUND,
        "treasurer",
    )
    motion = cic.propose(
        "Appoint the lead of the data group.",
        decides=appoint | {"person_name": "Noor Ali", "effective_from": on(14).date().isoformat()},
    )
    assert motion["decides"]["effective_from"] == "2030-01-29"

    carried = cic.consensus(motion["motion_id"], main, reached=True)

    assert carried["status"] == "carried"
    assert carried["effect"]["applied"] is True and carried["effect"]["kind"] == "appointment"
    holding_id = carried["effect"]["ref"].removeprefix("holding:")
    cic.at(on(14))
    office = alliance.office("working-group-lead")
    [holder] = office["holders"]
    assert holder["holding_id"] == holding_id
    assert (holder["member_id"], holder["person_name"], holder["organisation"]) == (
        c,
        "Noor Ali",
        "The Fostering Network",
    )
    assert (holder["via"], holder["by_body"]) == ("appointed", FM)
    assert holder["decision_ref"] == f"motion:{motion['motion_id']}"
    assert (holder["starts_on"], holder["ends_on"]) == ("2030-01-29", None)
    assert office["vacancies"] == 0

    # The office filled meanwhile: the next appointment carries, and says why it did nothing.
    second = cic.propose(
        "Appoint a second lead.",
        decides={"kind": "appointment", "office": "working-group-lead", "member_id": d},
    )
    later = cic.meeting(30)
    refused = cic.consensus(second["motion_id"], later, reached=True)
    assert refused["status"] == "carried" and refused["effect"]["applied"] is False
    assert "offices.working-group-lead.seats" in {
        v["rule"] for v in refused["effect"]["violations"]
    }
    assert [h["member_id"] for h in alliance.office("working-group-lead")["holders"]] == [c]


def test_a_motion_of_the_wrong_body_to_appoint_cites_the_appointing_rule(small_cic):
    alliance, c = small_cic.alliance, small_cic.members[1]
    appoint = {"kind": "appointment", "office": "working-group-lead", "member_id": c}

    by_motion = alliance.call("POST", "/motions", {"body": WG, "text": "t", "decides": appoint})
    directly = alliance.call(
        "POST",
        "/offices/working-group-lead/appointments",
        {"member_id": c, "person_name": "Noor Ali", "by_body": WG, "decision_ref": "m"},
    )

    direct_rules = [v["rule"] for v in expect(directly, 422, RULE_BROKEN)["violations"]]
    assert direct_rules == ["offices.working-group-lead.appointed_by"]
    motion_rules = [v["rule"] for v in expect(by_motion, 422, RULE_BROKEN)["violations"]]
    assert motion_rules == direct_rules


# ---------------------------------------------------------------------------- bad input


def test_refusals_are_problems_with_their_clause_and_record_nothing(cic):
    alliance, (a, b, *_) = cic.alliance, cic.members
    member_key = cic.keys[0]
    auditor = issue_key(alliance, "auditor")
    representative = alliance.add_representative(b, "Bea Long")["items"][0]["representative_id"]
    group_meeting = cic.meeting(6, body=WG)
    main = cic.meeting(7)
    not_yet = cic.meeting(40, held=False)
    motion = cic.propose()
    voting = cic.to_the_vote("Put to a vote.", main)
    open_voting = cic.motion(voting)
    before = cic.log_length()
    new = {"body": FM, "text": "A motion."}
    m, v, x = (f"/motions/{i}" for i in (motion["motion_id"], voting, NOWHERE))
    at_main = {"meeting_id": main, "reached": True}
    nobody = {"votes": [{"holding_id": NOWHERE, "choice": "for"}]}
    by_officer: list[tuple[str, Any, int, str, str]] = [
        # proposing
        ("/motions", new | {"body": "steering-group"}, 422, INVALID_MOTION, "steering-group"),
        ("/motions", new | {"body": "Full Membership"}, 422, INVALID, "body"),
        ("/motions", new | {"urgent": True}, 422, INVALID, "urgent"),
        ("/motions", {"body": FM}, 422, INVALID, "text"),
        ("/motions", new | {"text": ""}, 422, INVALID, "text"),
        ("/motions", new | {"public_stance": "yes"}, 422, INVALID, "public_stance"),
        ("/motions", new | {"decides": {"kind": "budget"}}, 422, INVALID, "kind"),
        ("/motions", new | {"decides": {"votes": 3}}, 422, INVALID, "votes"),
        ("/motions", new | {"proposer_member_id": NOWHERE}, 404, NOT_FOUND, NOWHERE),
        (
            "/motions",
            new | {"decides": {"kind": "amendment", "amendment_id": NOWHERE}},
            404,
            NOT_FOUND,
            NOWHERE,
        ),
        (
            "/motions",
            new | {"decides": {"kind": "position", "effective_from": "2030-03-01"}},
            422,
            INVALID_MOTION,
            "effective date",
        ),
        (
            "/motions",
            new | {"decides": {"kind": "appointment", "office": "working-group-lead"}},
            422,
            INVALID_MOTION,
            "member_id",
        ),
        # the meeting a step is taken at
        (f"{m}/consensus", at_main | {"meeting_id": group_meeting}, 422, INVALID_MOTION, WG),
        (f"{m}/consensus", at_main | {"meeting_id": not_yet}, 409, MOTION_STATE, "held"),
        (f"{m}/consensus", at_main | {"meeting_id": NOWHERE}, 404, NOT_FOUND, "meeting"),
        (f"{m}/consensus", {"meeting_id": main}, 422, INVALID, "reached"),
        (f"{m}/consensus", at_main | {"reached": "yes"}, 422, INVALID, "reached"),
        (f"{m}/consensus", at_main | {"votes": 3}, 422, INVALID, "votes"),
        (f"{m}/voting", {"meeting_id": main}, 422, RULE_BROKEN, "consensus"),
        (f"{m}/close", None, 409, MOTION_STATE, "proposed"),
        (f"{m}/withdraw", {}, 422, INVALID, "reason"),
        # a motion put to the vote
        (f"{v}/voting", {"meeting_id": main}, 409, MOTION_STATE, "voting"),
        (f"{v}/consensus", at_main, 409, MOTION_STATE, "voting"),
        (f"{v}/withdraw", {"reason": "too late"}, 409, MOTION_STATE, "voting"),
        (f"{v}/votes", {"choice": "for"}, 422, INVALID, "member_id"),
        (f"{v}/votes", {"choice": "for", "member_id": NOWHERE}, 404, NOT_FOUND, NOWHERE),
        (
            f"{v}/votes",
            {"choice": "for", "member_id": a, "representative_id": representative},
            422,
            INVALID_MOTION,
            "representative",
        ),
        (f"{v}/casting-vote", nobody, 409, MOTION_STATE, "voting"),
        (f"{v}/casting-vote", {"votes": []}, 409, MOTION_STATE, "voting"),
        # ids that name nothing
        (f"{x}/consensus", at_main, 404, NOT_FOUND, "motion"),
        (f"{x}/voting", {"meeting_id": main}, 404, NOT_FOUND, "motion"),
        (f"{x}/votes", {"choice": "for", "member_id": a}, 404, NOT_FOUND, "motion"),
        (f"{x}/close", None, 404, NOT_FOUND, "motion"),
        (f"{x}/casting-vote", nobody, 404, NOT_FOUND, "motion"),
        (f"{x}/withdraw", {"reason": "r"}, 404, NOT_FOUND, "motion"),
    ]
    by_member: list[tuple[str, Any, int, str, str]] = [
        ("/motions", new, 403, FORBIDDEN, "member"),
        (f"{m}/consensus", at_main, 403, FORBIDDEN, "member"),
        (f"{m}/votes", {"choice": "for"}, 409, MOTION_STATE, "proposed"),
        (f"{v}/votes", {"choice": "maybe"}, 422, INVALID, "choice"),
        (f"{v}/votes", {"choice": "FOR"}, 422, INVALID, "choice"),
        (f"{v}/votes", {"choice": "for", "weight": 2}, 422, INVALID, "weight"),
        (f"{v}/close", None, 403, FORBIDDEN, "member"),
        (f"{x}/votes", {"choice": "for"}, 404, NOT_FOUND, "motion"),
    ]
    by_auditor: list[tuple[str, Any, int, str, str]] = [
        ("/motions", new, 403, FORBIDDEN, "auditor"),
        (f"{v}/votes", {"choice": "for", "member_id": a}, 403, FORBIDDEN, "auditor"),
    ]
    for key, refusals in ((None, by_officer), (member_key, by_member), (auditor, by_auditor)):
        for path, body, status, kind, word in refusals:
            response = alliance.call("POST", path, body, headers=key)
            try:
                problem = expect(response, status, kind, word)
            except AssertionError as failed:
                raise AssertionError(f"POST {path} {body}: {failed}") from None
            if kind == RULE_BROKEN:
                assert problem["clause"] == "5", problem
    for path, status, word in [
        (x, 404, NOWHERE),
        ("/motions/not-an-id", 404, "not-an-id"),
        ("/motions/voting-record", 422, "member_id"),
    ]:
        expect(alliance.call("GET", path), status, NOT_FOUND if status == 404 else INVALID, word)
    for query in ({"limit": 0}, {"limit": 201}, {"after": -1}, {"status": "passed"}):
        expect(alliance.call("GET", "/motions", params=query), 422, INVALID, next(iter(query)))
    expect(alliance.call("GET", "/motions", params={"open": "maybe"}), 422, INVALID, "bool")
    malformed = alliance.client.post(
        f"{alliance.base}/motions",
        content=b'{"body": "full-membership", "text": ',
        headers={**alliance.headers, "Content-Type": "application/json"},
    )
    expect(malformed, 400, MALFORMED, "JSON")

    assert cic.log_length() == before
    assert alliance.get(m) == motion and alliance.get(v) == open_voting
    assert [i["motion_id"] for i in alliance.get("/motions")["items"]] == [
        motion["motion_id"],
        voting,
    ]

    # A vote with a closing time: organisations vote until then, the count comes after.
    timed = cic.propose("A timed vote.")["motion_id"]
    cic.consensus(timed, main, reached=False)
    for closes_at, kind, word in [
        (on(6).isoformat(), INVALID_MOTION, "future"),
        ("2101-06-01T00:00:00Z", INVALID, "closes_at"),
        ("2030-01-25T10:00:00", INVALID, "closes_at"),  # no offset
    ]:
        refused = alliance.call(
            "POST", f"/motions/{timed}/voting", {"meeting_id": main, "closes_at": closes_at}
        )
        expect(refused, 422, kind, word)
    opened = cic.open_vote(timed, main, closes_at="2030-01-25T12:00:00+02:00")
    assert opened["closes_at"] == "2030-01-25T10:00:00+00:00"
    cic.vote(timed, 0, "for")
    expect(alliance.call("POST", f"/motions/{timed}/close"), 409, MOTION_STATE, "not every")
    cic.at(datetime(2030, 1, 25, 10, 0, tzinfo=UTC))
    after_close = alliance.call(
        "POST", f"/motions/{timed}/votes", {"choice": "for"}, headers=cic.keys[1]
    )
    expect(after_close, 409, MOTION_STATE, "closed")
    assert votes_of(cic.motion(timed)) == {a: "for"}
    assert cic.close(timed)["status"] == "carried"
    for path, body, key in [
        (f"/motions/{timed}/votes", {"choice": "against"}, cic.keys[0]),
        (f"/motions/{timed}/close", None, None),
        (f"/motions/{timed}/withdraw", {"reason": "r"}, None),
    ]:
        expect(alliance.call("POST", path, body, headers=key), 409, MOTION_STATE, "carried")

    withdrawn = alliance.post(f"{m}/withdraw", {"reason": "overtaken by events"})
    assert withdrawn["status"] == "withdrawn"
    assert withdrawn["withdrawn_reason"] == "overtaken by events"
    assert steps(withdrawn) == ["proposed", "withdrawn"]
    expect(alliance.call("POST", f"{m}/consensus", at_main), 409, MOTION_STATE, "withdrawn")


def test_a_motion_deciding_something_names_what_it_decides(new_cic):
    before = new_cic.log_length()

    for kind in ("admission", "amendment", "appointment"):
        response = new_cic.alliance.call(
            "POST", "/motions", {"body": FM, "text": "Decide it.", "decides": {"kind": kind}}
        )
        expect(response, 422, INVALID_MOTION, kind)

    assert new_cic.log_length() == before


def test_the_voting_record_of_an_organisation_that_does_not_exist_is_not_found(new_cic):
    response = new_cic.alliance.call("GET", "/motions/voting-record", params={"member_id": NOWHERE})

    expect(response, 404, NOT_FOUND, NOWHERE)


# ---------------------------------------------------------------------------- paging


def test_motions_are_paged_in_order_and_filtered_by_body_status_and_openness(cic, onboard):
    alliance = cic.alliance
    main = cic.meeting(7)
    group_meeting = cic.meeting(8, body=WG)
    first = cic.propose("First.")["motion_id"]
    withdrawn = cic.propose("Second.")["motion_id"]
    alliance.post(f"/motions/{withdrawn}/withdraw", {"reason": "merged with the first"})
    carried = cic.propose("Third.")["motion_id"]
    cic.consensus(carried, main, reached=True)
    voting = cic.to_the_vote("Fourth.", main)
    group = cic.propose("Fifth.", body=WG)["motion_id"]
    group_carried = cic.propose("Sixth.", body=WG)["motion_id"]
    cic.consensus(group_carried, group_meeting, reached=True)
    every = [first, withdrawn, carried, voting, group, group_carried]

    def pages(**query: Any) -> list[list[str]]:
        found: list[list[str]] = []
        after = 0
        while True:
            page = alliance.get("/motions", after=after, **query)
            found.append([m["motion_id"] for m in page["items"]])
            if page["next_after"] is None:
                return found
            assert page["next_after"] == page["items"][-1]["seq"]
            after = page["next_after"]

    assert pages() == [every]
    assert pages(limit=2) == [every[:2], every[2:4], every[4:]]
    assert pages(limit=6) == [every]
    assert pages(body=WG) == [[group, group_carried]]
    assert pages(status="carried", limit=1) == [[carried], [group_carried]]
    assert pages(status="withdrawn") == [[withdrawn]]
    assert pages(status="voting") == [[voting]]
    assert pages(status="tied") == [[]]
    assert pages(open="true") == [[first, voting, group]]
    assert pages(open="true", body=FM, limit=1) == [[first], [voting]]
    assert pages(open="false") == [every]
    assert pages(open="true", status="carried") == [[]]
    listed = alliance.get("/motions", status="voting")["items"][0]
    assert listed == {k: v for k, v in cic.motion(voting).items() if k != "votes"} | {"votes": []}
