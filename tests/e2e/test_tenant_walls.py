"""Tenants are walls: every operation of the API, called across the wall and by every role.

Operations come from the live OpenAPI document, so a new endpoint without an entry in
ACCESS fails this suite until someone decides who may call it.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from tests.conftest import ADMIN, bearer
from tests.e2e.permission_matrix import (
    ACCESS,
    ANY_KEY,
    PUBLIC,
    TENANT_ROLES,
    as_markdown,
)

_fresh = itertools.count()


def amendment() -> dict[str, Any]:
    """A valid amendment, different each time (so no two leave the ToR the same)."""
    return {
        "rationale": "wall check",
        "rules": [{"path": "membership.max_representatives", "value": 3 + next(_fresh)}],
    }


AUDIT_OPERATIONS = {
    "getCheckpoint",
    "getInclusionProof",
    "getConsistencyProof",
    "addCheckpointWebhook",
    "removeCheckpointWebhook",
}
PRIVACY_OPERATIONS = {
    "subjectAccessExport",
    "requestErasure",
    "placeRetentionHold",
    "liftRetentionHold",
}
AUDIT_QUERIES = {
    "getInclusionProof": "?position=1",
    "getConsistencyProof": "?first=1&second=2",
    "diffAuditStates": "?from=1&to=2",
}
#: A loopback port nothing listens on: deliveries fail at once and are retried later.
DEAD_WEBHOOK = "http://127.0.0.1:9/checkpoints"


# Kinship-care, amended so every kind of object exists: a working-group body, a
# recommendation step, and an elected office beside the appointed chair.
WALL_AMENDMENT = {
    "rationale": "every kind of object for the wall checks",
    "rules": [
        {
            "path": "bodies.working-groups",
            "value": {
                "key": "working-groups",
                "name": "Working groups",
                "kind": "working-group",
                "established_by": "full-membership",
            },
        },
        {"path": "membership.route.recommended_by", "value": "chair"},
        {
            "path": "offices.vice-chair",
            "value": {
                "key": "vice-chair",
                "name": "Vice-chair",
                "body": "full-membership",
                "selection": "elected",
                "election": {},
                "term_months": 12,
                # Many seats: the sweep opens an election of one seat for each call that
                # changes one, and seats being elected are not vacant for another.
                "seats": 50,
            },
        },
        {
            "path": "offices.treasurer",
            "value": {
                "key": "treasurer",
                "name": "Treasurer",
                "body": "full-membership",
                "selection": "elected",
                "election": {"secret_ballot": True},
                "term_months": 12,
                "seats": 50,
            },
        },
    ],
}


def operations(client) -> list[tuple[str, str, str]]:
    document = client.get("/schema/openapi.json").json()
    found = []
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method in {"get", "post", "put", "patch", "delete"}:
                found.append((operation["operationId"], method.upper(), path))
    return sorted(found)


class Objects:
    """Real objects of one alliance, made through the API by its tenant-admin: a stable
    set (for reads and calls across the wall) and fresh ones on demand (for writes)."""

    def __init__(self, client, slug: str, admin: dict[str, str]) -> None:
        self.client, self.slug, self.admin = client, slug, admin
        # Fresh per alliance (each test has fresh stores): plan years stay within 2000-2100.
        self._years = itertools.count(2030)
        self._slots = itertools.count()
        self.post("/terms/amendments", WALL_AMENDMENT, then="/approve")
        self.application = self.new_application()
        self.member = self.new_member()
        self.representative = self.add_representative(self.member)
        self.chair = self.new_holding("chair")
        self.seat = self.new_seat()
        self.group = self.new_group(established=True)
        self.year = self.new_plan()
        self.item = self.items(self.year)[0]
        # Meetings and minutes: a scheduled meeting with an agenda item; a held meeting
        # whose minutes are approved and published with an action item (and corrected);
        # a held meeting whose minutes are a draft.
        self.meeting = self.new_meeting()
        self.agenda_item = self.agenda(self.meeting)[0]
        self.minutes = self.new_minutes(stage="published")
        self.post(f"/minutes/{self.minutes}/corrections", CORRECTION)
        self.action_item = self.action_items(self.minutes)[0]
        self.draft = self.new_minutes(stage="draft")
        # Motions, put to the full membership at a held meeting the world's member
        # attended: one proposed, one open for votes. Elections to the vice-chair (an
        # open ballot): one taking nominations, with the world's member standing; one
        # open for votes; one counted.
        self.held_meeting = self.new_meeting(held=True)
        self.motion = self.new_motion()
        self.voting_motion = self.new_motion(stage="voting")
        #: Election id -> (voting opens, voting closes), and -> its first candidate.
        self.windows: dict[str, tuple[datetime, datetime]] = {}
        self.nominees: dict[str, str] = {}
        self.election, self.candidate = self.new_election()
        self.ballot_election, _ = self.new_election(stage="voting")
        self.closed_election, _ = self.new_election(stage="closed")

    def post(self, path: str, body: Any = None, *, then: str | None = None) -> dict[str, Any]:
        response = self.client.post(f"/v1/tenants/{self.slug}{path}", json=body, headers=self.admin)
        assert response.status_code in (200, 201, 202), (path, response.text)
        answer = dict(response.json())
        if then == "/approve":
            approve = {"body": "full-membership", "decision_ref": "wall set-up"}
            self.post(f"{path}/{answer['amendment_id']}/approve", approve)
        return answer

    def new_application(self, *, steps: tuple[str, ...] = ()) -> str:
        n = next(_fresh)
        answer = self.post(
            "/applications",
            {
                "name": f"Canary {self.slug} organisation {n}",
                "request_text": "We ask to join.",
                "signatory_name": f"Canary signatory {n}",
                "signatory_role": "Chief executive",
            },
        )
        application_id = answer["application_id"]
        base = f"/applications/{application_id}"
        if "circulate" in steps:
            self.post(f"{base}/circulate", {"to_body": "executive-committee"})
        if "recommend" in steps:
            self.post(f"{base}/recommend", {"by_office": "chair", "recommendation": "admit"})
        return str(application_id)

    def new_member(self, *, suspended: bool = False) -> str:
        application_id = self.new_application(steps=("circulate", "recommend"))
        decision = {"by_body": "executive-committee", "outcome": "admit", "decision_ref": "d"}
        member_id = str(self.post(f"/applications/{application_id}/decide", decision)["member_id"])
        if suspended:
            body = {"reason": "wall", "by_body": "executive-committee", "decision_ref": "d"}
            self.post(f"/members/{member_id}/suspend", body)
        return member_id

    def add_representative(self, member_id: str) -> str:
        n = next(_fresh)
        #: The person last added: the subject of the privacy operations.
        self.person = {"name": f"Canary person {n}", "email": f"canary{n}@example.org"}
        answer = self.post(f"/members/{member_id}/representatives", {**self.person, "role": "Lead"})
        return str(answer["items"][-1]["representative_id"])

    def slot(self) -> tuple[str, str]:
        """A term start that overlaps no other (terms here are at most 36 months)."""
        year = 2030 + 4 * next(self._slots)
        return f"{year}-01-01", f"{year}-01-02"

    def new_holding(self, office: str) -> str:
        starts_on, _ = self.slot()
        holder = {"member_id": self.new_member(), "person_name": "Canary holder"}
        if office == "vice-chair":
            body = {**holder, "starts_on": starts_on, "election_ref": "ballot"}
            answer = self.post(f"/offices/{office}/election-results", body)
        else:
            body = {
                **holder,
                "starts_on": starts_on,
                "by_body": "full-membership",
                "decision_ref": "d",
            }
            answer = self.post(f"/offices/{office}/appointments", body)
        return str(answer["history"][-1]["holding_id"])

    def holding_start(self, holding_id: str) -> str:
        office = self.client.get(f"/v1/tenants/{self.slug}/offices/chair", headers=self.admin)
        return next(
            h["starts_on"] for h in office.json()["history"] if h["holding_id"] == holding_id
        )

    def new_seat(self) -> tuple[str, str]:
        starts_on, next_day = self.slot()
        body = {
            "member_id": self.new_member(),
            "person_name": "Canary seat holder",
            "starts_on": starts_on,
            "agreed_by": "full-membership",
            "decision_ref": "d",
        }
        return str(self.post("/bodies/executive-committee/seats", body)["id"]), next_day

    def new_group(self, *, established: bool) -> str:
        answer = self.post("/working-groups", {"name": "Canary group", "purpose": "walls"})
        group_id = str(answer["group_id"])
        if established:
            body = {
                "own_terms": "Canary terms",
                "leads": [self.member],
                "by_body": "full-membership",
                "decision_ref": "d",
            }
            self.post(f"/working-groups/{group_id}/establish", body)
        return group_id

    def new_plan(self, *, agreed: bool = False, delivered: bool = False) -> int:
        year = next(self._years)
        item = {"title": "Canary item", "body": "full-membership"}
        self.post(f"/work-plans/{year}/items", item)
        if agreed or delivered:
            self.post(f"/work-plans/{year}/agree", {"by_body": PLAN_BODY, "decision_ref": "d"})
        if delivered:
            self.post(f"/work-plans/{year}/items/{self.items(year)[0]}/deliver", {"note": "done"})
        return year

    def items(self, year: int) -> list[str]:
        plan = self.client.get(f"/v1/tenants/{self.slug}/work-plans/{year}", headers=self.admin)
        return [item["item_id"] for item in plan.json()["items"]]

    def new_meeting(self, *, held: bool = False) -> str:
        """A scheduled meeting of the full membership (yesterday, so it can be held) with
        one agenda item; `held`: recorded as held, the world's member attending."""
        body = {
            "body": "full-membership",
            "title": "Canary meeting",
            "starts_at": MEETING_DAY.isoformat(),
            "format": "virtual",
            "link": "https://meet.example.org/canary",
            "agenda": ["Canary agenda item"],
        }
        meeting_id = str(self.post("/meetings", body)["meeting_id"])
        if held:
            self.post(f"/meetings/{meeting_id}/hold", {"attendance": [{"member_id": self.member}]})
        return meeting_id

    def agenda(self, meeting_id: str) -> list[str]:
        meeting = self.client.get(
            f"/v1/tenants/{self.slug}/meetings/{meeting_id}", headers=self.admin
        )
        return [item["item_id"] for item in meeting.json()["agenda"]]

    def new_minutes(self, *, stage: str = "draft") -> str:
        """Minutes of a new held meeting, with one action: a draft, or `approved` (which
        raises the action item) or `published`."""
        body = {"meeting_id": self.new_meeting(held=True), "items": [MINUTES_ITEM]}
        minutes_id = str(self.post("/minutes", body)["minutes_id"])
        if stage in {"approved", "published"}:
            self.post(f"/minutes/{minutes_id}/approve", {"by_body": "full-membership"})
        if stage == "published":
            self.post(f"/minutes/{minutes_id}/publish")
        return minutes_id

    def action_items(self, minutes_id: str) -> list[str]:
        found = self.client.get(
            f"/v1/tenants/{self.slug}/action-items",
            params={"minutes_id": minutes_id},
            headers=self.admin,
        )
        return [item["action_item_id"] for item in found.json()["items"]]

    def new_motion(self, *, stage: str = "proposed") -> str:
        """A motion to the full membership: `proposed`; `no-consensus` (sought, not
        reached, at the held meeting); or `voting` (then put to the vote there)."""
        body = {"body": "full-membership", "text": "Canary motion"}
        motion_id = str(self.post("/motions", body)["motion_id"])
        if stage in {"no-consensus", "voting"}:
            sought = {"meeting_id": self.held_meeting, "reached": False}
            self.post(f"/motions/{motion_id}/consensus", sought)
        if stage == "voting":
            self.post(f"/motions/{motion_id}/voting", {"meeting_id": self.held_meeting})
        return motion_id

    @contextmanager
    def clock_at(self, moment: datetime | None) -> Iterator[None]:
        """Run what follows with the process's clock at `moment` (None: as it is)."""
        runtime = self.client.app.state.runtime
        kept = runtime.clock
        if moment is not None:
            runtime.clock = lambda: moment
        try:
            yield
        finally:
            runtime.clock = kept

    def new_election(
        self, *, office: str = "vice-chair", stage: str = "nominating"
    ) -> tuple[str, str]:
        """An election with one candidate of the world's member, and its candidate id:
        `nominating` (voting opens tomorrow), `voting` (opened then, the clock moved
        there for the step) or `closed` (the world's member voted blank, counted after
        the window closed)."""
        now = datetime.now(UTC).replace(microsecond=0)
        opens, closes = now + timedelta(days=1), now + timedelta(days=2)
        windows = {
            "office": office,
            "seats": 1,
            "nominations_close": opens.isoformat(),
            "voting_opens": opens.isoformat(),
            "voting_closes": closes.isoformat(),
        }
        election_id = str(self.post("/elections", windows)["election_id"])
        self.windows[election_id] = (opens, closes)
        nominee = {
            "member_id": self.member,
            "person_name": f"Canary nominee {next(_fresh)}",
            "statement": "Canary statement",
        }
        candidate_id = str(
            self.post(f"/elections/{election_id}/nominations", nominee)["candidates"][-1][
                "candidate_id"
            ]
        )
        self.nominees[election_id] = candidate_id
        if stage in {"voting", "closed"}:
            with self.clock_at(opens + timedelta(minutes=1)):
                self.post(f"/elections/{election_id}/voting")
        if stage == "closed":
            # A blank ballot: no one is elected, so the office stays vacant for others.
            ballot = {"choices": [], "member_id": self.member}
            self.post(f"/elections/{election_id}/ballots", ballot)
            with self.clock_at(closes + timedelta(minutes=1)):
                self.post(f"/elections/{election_id}/close")
        return election_id, candidate_id


#: Kinship-care's work plan is agreed (and evaluated) by its executive committee.
PLAN_BODY = "executive-committee"
#: Meetings of the wall checks started yesterday, so they can be recorded as held today.
MEETING_DAY = datetime.now(UTC).replace(microsecond=0) - timedelta(days=1)
MINUTES_ITEM = {
    "title": "Canary minuted item",
    "text": "Canary discussion",
    "actions": [
        {
            "description": "Canary action",
            "owner_kind": "office",
            "owner": "chair",
            "due_on": "2031-01-01",
        }
    ],
}
CORRECTION = {
    "text": "Canary correction",
    "reason": "wall check",
    "by_body": "full-membership",
    "decision_ref": "d",
}


class World:
    """Two alliances, A and B, with a key of every role in each and real objects."""

    def __init__(self, client, onboard) -> None:
        self.client = client
        self.keys: dict[str, dict[str, dict[str, Any]]] = {}
        self.amendments: dict[str, str] = {}
        self.objects: dict[str, Objects] = {}
        self._obligation_keys: dict[str, str] = {}
        for slug in ("alpha-alliance", "beta-alliance"):
            admin = onboard(slug, name=f"Canary {slug} name", template="kinship-care")["admin_key"]
            self.keys[slug] = {"tenant-admin": admin}
            self.objects[slug] = Objects(client, slug, bearer(admin["secret"]))
            proposed = client.post(
                f"/v1/tenants/{slug}/terms/amendments",
                json=amendment(),
                headers=bearer(admin["secret"]),
            )
            assert proposed.status_code == 201, proposed.text
            self.amendments[slug] = proposed.json()["amendment_id"]
            for role in TENANT_ROLES[1:]:
                body = {"role": role, "label": f"{role} key"}
                if role == "member":
                    body["member_id"] = self.objects[slug].member
                issued = client.post(
                    f"/v1/tenants/{slug}/keys", json=body, headers=bearer(admin["secret"])
                )
                assert issued.status_code == 201, issued.text
                self.keys[slug][role] = issued.json()

    def headers(self, slug: str, role: str) -> dict[str, str]:
        if role == "platform-admin":
            return ADMIN
        return bearer(self.keys[slug][role]["secret"])

    def call(
        self,
        operation: str,
        method: str,
        path: str,
        target: str,
        headers: dict[str, str],
        *,
        fresh_victim: bool = True,
    ):
        """Call an operation on alliance `target` with a valid request. A write acts on
        objects made for the purpose, unless fresh_victim is False (then on the stable
        ones, which a refused call must leave as they are)."""
        admin = bearer(self.keys[target]["tenant-admin"]["secret"])
        objects = self.objects[target]
        key_id = self.keys[target]["member"]["id"]
        params: dict[str, Any] = {
            "{application_id}": objects.application,
            "{member_id}": objects.member,
            "{representative_id}": objects.representative,
            "{office}": "chair",
            "{holding_id}": objects.chair,
            "{body_key}": "executive-committee",
            "{seat_id}": objects.seat[0],
            "{group_id}": objects.group,
            "{year}": objects.year,
            "{item_id}": objects.item,
            "{meeting_id}": objects.meeting,
            "{minutes_id}": objects.minutes,
            "{action_item_id}": objects.action_item,
            "{motion_id}": objects.motion,
            "{election_id}": objects.election,
            "{candidate_id}": objects.candidate,
        }
        if "{obligation_key}" in path:
            params["{obligation_key}"] = quote(self.obligation_key(target), safe="")
        body: Any = None
        moment: datetime | None = None
        if operation == "onboardTenant":
            body = {
                "slug": f"fresh-{next(_fresh)}",
                "name": "Fresh",
                "region": "R",
                "template": "kinship-care",
            }
        elif operation == "suspendTenant":
            body = {"reason": "checking the walls"}
        elif operation == "issueKey":
            body = {"role": "member", "label": "wall check"}
        elif operation == "revokeKey" and fresh_victim:
            victim = self.client.post(
                f"/v1/tenants/{target}/keys",
                json={"role": "member", "label": "victim"},
                headers=admin,
            )
            key_id = victim.json()["id"]
        elif operation == "proposeAmendment":
            body = amendment()
        elif operation == "approveAmendment":
            body = {"body": "full-membership", "decision_ref": "wall check"}
        elif operation == "rejectAmendment":
            body = {"reason": "wall check", "decision_ref": "wall check"}
        elif operation == "concludeTermsReview":
            body = {"outcome": "no-change"}
        elif operation == "setReminderChannels":
            body = {"webhook_url": DEAD_WEBHOOK}
        elif operation in PRIVACY_OPERATIONS:
            body = self._privacy_call(operation, target, admin, objects, params, fresh_victim)
        elif operation in AUDIT_OPERATIONS:
            body = self._audit_call(operation, target, admin, params, fresh_victim)
        elif operation in MEETING_OPERATIONS:
            body = self._meeting_call(operation, objects, params, fresh_victim)
        elif operation in DECISION_OPERATIONS:
            body, moment = self._decision_call(operation, objects, params, fresh_victim)
        else:
            body = self._membership_call(operation, objects, params, fresh_victim)
        amendment_id = self.amendments[target]
        if (
            operation in {"approveAmendment", "rejectAmendment", "withdrawAmendment"}
            and fresh_victim
        ):
            amendment_id = self.client.post(
                f"/v1/tenants/{target}/terms/amendments", json=amendment(), headers=admin
            ).json()["amendment_id"]
        url = (
            path.replace("{slug}", target)
            .replace("{key_id}", key_id)
            .replace("{amendment_id}", amendment_id)
            .replace("{number}", "1")
            .replace("{name}", "children-in-care")
        )
        for name, value in params.items():
            url = url.replace(name, str(value))
        if operation == "diffTermsVersions":
            url += "?from=1&to=1"
        if operation == "getVotingRecord":
            url += f"?member_id={objects.member}"
        url += AUDIT_QUERIES.get(operation, "")
        with objects.clock_at(moment):
            return self.client.request(method, url, json=body, headers=headers)

    def obligation_key(self, target: str) -> str:
        """A key of the alliance's obligations calendar (the first), asked once."""
        if target not in self._obligation_keys:
            admin = bearer(self.keys[target]["tenant-admin"]["secret"])
            page = self.client.get(f"/v1/tenants/{target}/obligations", headers=admin).json()
            self._obligation_keys[target] = str(page["items"][0]["key"])
        return self._obligation_keys[target]

    def _privacy_call(
        self,
        operation: str,
        target: str,
        admin: dict[str, str],
        objects: Objects,
        params: dict[str, Any],
        fresh: bool,
    ) -> Any:
        """The stable person is the world's representative; an erasure that may succeed
        erases a person added for it; a hold to lift is placed for the purpose."""
        person = objects.person
        if operation == "requestErasure" and fresh:
            stable = objects.person
            objects.add_representative(objects.new_member())
            person, objects.person = objects.person, stable
        if operation == "liftRetentionHold":
            params["{hold_id}"] = "0" * 32  # no such hold: a refused call changes nothing
            if fresh:
                hold = {**person, "reason": "wall check hold"}
                placed = self.client.post(
                    f"/v1/tenants/{target}/privacy/holds", json=hold, headers=admin
                )
                params["{hold_id}"] = placed.json()["hold_id"]
            return {"reason": "wall check"}
        if operation == "subjectAccessExport":
            return person
        return {**person, "reason": "wall check"}

    def _audit_call(
        self,
        operation: str,
        target: str,
        admin: dict[str, str],
        params: dict[str, Any],
        fresh: bool,
    ) -> Any:
        """Checkpoints exist from onboarding (the ToR's adoption); a webhook to remove is
        made for the purpose (or is the alliance's stable one)."""
        base = f"/v1/tenants/{target}/audit"
        first = self.client.get(f"{base}/checkpoints", headers=admin).json()["items"][0]
        params["{tree_size}"] = first["tree_size"]
        if operation == "addCheckpointWebhook":
            return {"url": DEAD_WEBHOOK}
        if operation == "removeCheckpointWebhook":
            hooks = self.client.get(f"{base}/webhooks", headers=admin).json()
            if fresh or not hooks:
                made = self.client.post(
                    f"{base}/webhooks", json={"url": DEAD_WEBHOOK}, headers=admin
                )
                params["{sink_id}"] = made.json()["sink_id"]
            else:
                params["{sink_id}"] = hooks[0]["sink_id"]
        return None

    @staticmethod
    def _decision_call(
        operation: str, objects: Objects, params: dict[str, Any], fresh: bool
    ) -> tuple[Any, datetime | None]:
        """The body of a motion or election operation, and the moment to make the call
        at (None: now); with `fresh`, the path parameters are pointed at new objects the
        call may change (else at the stable ones). Opening and closing an election's
        vote happen with the clock moved into, or past, its voting window."""
        member = objects.member
        if operation in {"seekConsensus", "withdrawMotion"} and fresh:
            params["{motion_id}"] = objects.new_motion()
        if operation == "openMotionVoting" and fresh:
            params["{motion_id}"] = objects.new_motion(stage="no-consensus")
        if operation == "closeMotionVoting":
            params["{motion_id}"] = (
                objects.new_motion(stage="voting") if fresh else objects.voting_motion
            )
        if operation in {"castVote", "giveCastingVote"}:
            params["{motion_id}"] = objects.voting_motion
        if operation in {"openElectionVoting", "cancelElection"} and fresh:
            params["{election_id}"] = objects.new_election()[0]
        if operation in {"castBallot", "closeElection"}:
            stable = objects.ballot_election
            params["{election_id}"] = objects.new_election(stage="voting")[0] if fresh else stable
        if operation == "recountElection":
            params["{election_id}"] = objects.closed_election
        if operation == "withdrawNomination" and fresh:
            nominee = {"member_id": member, "person_name": "Canary", "statement": "s"}
            nominee["person_name"] += f" nominee {next(_fresh)}"
            answer = objects.post(f"/elections/{objects.election}/nominations", nominee)
            params["{candidate_id}"] = answer["candidates"][-1]["candidate_id"]
        moment = None
        if operation in {"openElectionVoting", "closeElection"}:
            opens, closes = objects.windows[params["{election_id}"]]
            moment = opens if operation == "openElectionVoting" else closes
            moment += timedelta(minutes=1)
        election = params["{election_id}"]
        bodies: dict[str, Any] = {
            "proposeMotion": {"body": "full-membership", "text": "Canary motion"},
            "seekConsensus": {"meeting_id": objects.held_meeting, "reached": False},
            "openMotionVoting": {"meeting_id": objects.held_meeting},
            "castVote": {"choice": "for", "member_id": member},
            # Kinship-care names no casting-vote office, so no motion is ever tied: 409.
            "giveCastingVote": {"votes": [{"holding_id": objects.chair, "choice": "for"}]},
            "withdrawMotion": {"reason": "wall check"},
            "openElection": {
                "office": "vice-chair",
                "seats": 1,
                "nominations_close": (datetime.now(UTC) + timedelta(days=1)).isoformat(),
                "voting_opens": (datetime.now(UTC) + timedelta(days=1)).isoformat(),
                "voting_closes": (datetime.now(UTC) + timedelta(days=2)).isoformat(),
            },
            "nominateCandidate": {
                "member_id": member,
                "person_name": f"Canary nominee {next(_fresh)}",
                "statement": "Canary statement",
            },
            "withdrawNomination": {"reason": "wall check"},
            "castBallot": {"choices": [objects.nominees[election]], "member_id": member},
            "cancelElection": {"reason": "wall check"},
        }
        return bodies.get(operation), moment

    @staticmethod
    def _meeting_call(operation: str, objects: Objects, params: dict[str, Any], fresh: bool) -> Any:
        """The body of a meeting, minutes, action-item or setting operation; with `fresh`,
        the path parameters are pointed at new objects the call may change (else at the
        stable ones: the scheduled meeting, the draft minutes, the open action item)."""
        if operation in {"rescheduleMeeting", "addAgendaItem", "cancelMeeting", "holdMeeting"}:
            params["{meeting_id}"] = objects.new_meeting() if fresh else objects.meeting
        if operation == "withdrawAgendaItem":
            meeting = objects.new_meeting() if fresh else objects.meeting
            params["{meeting_id}"], params["{item_id}"] = meeting, objects.agenda(meeting)[0]
        if operation in {"amendMinutes", "approveMinutes"}:
            params["{minutes_id}"] = objects.new_minutes() if fresh else objects.draft
        if operation in {"publishMinutes", "correctMinutes"} and fresh:
            params["{minutes_id}"] = objects.new_minutes(stage="approved")
        if operation == "completeActionItem" and fresh:
            params["{action_item_id}"] = objects.action_items(
                objects.new_minutes(stage="approved")
            )[0]
        if operation == "draftMinutes":
            # A held meeting without minutes; the stable scheduled one is not held (409).
            meeting = objects.new_meeting(held=True) if fresh else objects.meeting
            return {"meeting_id": meeting, "items": [MINUTES_ITEM]}
        if operation == "holdMeeting":
            return {"attendance": [{"member_id": objects.member}], "apologies": []}
        return MEETING_BODIES.get(operation)

    @staticmethod
    def _membership_call(
        operation: str, objects: Objects, params: dict[str, Any], fresh: bool
    ) -> Any:
        """The body of a membership, office, group or plan operation; with `fresh`, the
        path parameters are pointed at new objects the call may change."""
        decided = {"by_body": "executive-committee", "decision_ref": "wall check"}
        holder = {"person_name": "Canary", "decision_ref": "wall check"}
        if operation == "submitApplication":
            return {
                "name": f"Canary {next(_fresh)}",
                "request_text": "Join",
                "signatory_role": "Chief executive",
            }
        if operation in {"circulateApplication", "withdrawApplication"}:
            if fresh:
                params["{application_id}"] = objects.new_application()
            return {"to_body": "executive-committee"} if "circulate" in operation else {}
        if operation == "recommendApplication":
            if fresh:
                params["{application_id}"] = objects.new_application(steps=("circulate",))
            return {"by_office": "chair", "recommendation": "admit"}
        if operation == "decideApplication":
            if fresh:
                steps = ("circulate", "recommend")
                params["{application_id}"] = objects.new_application(steps=steps)
            return {**decided, "outcome": "admit"}
        if operation in {"suspendMember", "removeMember", "resignMember", "reinstateMember"}:
            if fresh:
                suspended = operation == "reinstateMember"
                params["{member_id}"] = objects.new_member(suspended=suspended)
            if operation == "resignMember":
                return {"reason": "wall check"}
            if operation == "reinstateMember":
                return decided
            return {**decided, "reason": "wall check"}
        if operation == "reviewMemberConduct":
            return {**decided, "outcome": "satisfactory"}
        if operation in {"addRepresentative", "replaceRepresentative", "removeRepresentative"}:
            if fresh:
                params["{member_id}"] = objects.new_member()
                if operation != "addRepresentative":
                    params["{representative_id}"] = objects.add_representative(
                        params["{member_id}"]
                    )
            if operation == "removeRepresentative":
                return None
            return {"name": "Canary rep", "email": "rep@example.org", "role": "Lead"}
        if operation in {"appointToOffice", "recordElectionResult"}:
            starts_on, _ = objects.slot()
            member = objects.new_member() if fresh else objects.member
            if operation == "recordElectionResult":
                params["{office}"] = "vice-chair"
                return {
                    "member_id": member,
                    "person_name": "Canary",
                    "starts_on": starts_on,
                    "election_ref": "ballot",
                }
            return {
                **holder,
                "member_id": member,
                "starts_on": starts_on,
                "by_body": "full-membership",
            }
        if operation == "endOfficeHolding":
            holding = objects.new_holding("chair") if fresh else objects.chair
            params["{holding_id}"] = holding
            start = date.fromisoformat(objects.holding_start(holding))
            return {"reason": "wall check", "left_on": (start + timedelta(days=1)).isoformat()}
        if operation == "takeCommitteeSeat":
            starts_on, _ = objects.slot()
            member = objects.new_member() if fresh else objects.member
            return {
                **holder,
                "member_id": member,
                "starts_on": starts_on,
                "agreed_by": "full-membership",
            }
        if operation == "endCommitteeSeat":
            seat, next_day = objects.new_seat() if fresh else objects.seat
            params["{seat_id}"] = seat
            return {"reason": "wall check", "left_on": next_day}
        group_bodies = {
            "proposeWorkingGroup": {"name": "Canary group", "purpose": "walls"},
            "changeWorkingGroupLeads": {
                "leads": [objects.member],
                "by_body": "full-membership",
                "decision_ref": "d",
            },
            "recordWorkingGroupReport": {"title": "Canary", "summary": "s", "presented_to": "all"},
        }
        if operation in group_bodies:
            return group_bodies[operation]
        if operation == "establishWorkingGroup":
            if fresh:
                params["{group_id}"] = objects.new_group(established=False)
            return {
                "own_terms": "t",
                "leads": [objects.member],
                "by_body": "full-membership",
                "decision_ref": "d",
            }
        if operation in {"joinWorkingGroup", "leaveWorkingGroup"}:
            member = objects.new_member() if fresh else objects.member
            if operation == "leaveWorkingGroup":
                if fresh:
                    objects.post(f"/working-groups/{objects.group}/members", {"member_id": member})
                params["{member_id}"] = member
                return None
            return {"member_id": member}
        if operation == "dissolveWorkingGroup":
            if fresh:
                params["{group_id}"] = objects.new_group(established=True)
            return {"reason": "wall check", "by_body": "full-membership", "decision_ref": "d"}
        if operation == "addWorkPlanItem":
            return {"title": "Canary", "body": "full-membership"}
        if operation in {"agreeWorkPlan", "evaluateWorkPlan"}:
            if fresh:
                params["{year}"] = objects.new_plan(agreed=operation == "evaluateWorkPlan")
            body = {"by_body": PLAN_BODY, "decision_ref": "d"}
            return {**body, "summary": "s"} if operation == "evaluateWorkPlan" else body
        if operation in {"progressWorkPlanItem", "deliverWorkPlanItem", "evaluateWorkPlanItem"}:
            if fresh:
                year = objects.new_plan(agreed=True, delivered=operation == "evaluateWorkPlanItem")
                params["{year}"], params["{item_id}"] = year, objects.items(year)[0]
            if operation == "evaluateWorkPlanItem":
                return {"evaluation": "good"}
            return {"note": "n"}
        return None


MEETING_BODIES: dict[str, Any] = {
    "scheduleMeeting": {
        "body": "full-membership",
        "title": "Canary",
        "starts_at": MEETING_DAY.isoformat(),
        "format": "in-person",
        "location": "Canary hall",
    },
    "rescheduleMeeting": {
        "starts_at": (MEETING_DAY + timedelta(days=30)).isoformat(),
        "format": "virtual",
        "reason": "wall check",
    },
    "addAgendaItem": {"title": "Canary"},
    "cancelMeeting": {"reason": "wall check"},
    "amendMinutes": {
        "items": [MINUTES_ITEM, {"title": "More", "text": "More text"}],
        "confidential": False,
    },
    "approveMinutes": {"by_body": "full-membership", "decision_ref": "wall check"},
    "correctMinutes": CORRECTION,
    "noteActionProgress": {"note": "wall check"},
    "completeActionItem": {"note": "wall check"},
    "setConfidentialReaders": {"readers": ["officer", "tenant-admin"]},
}
DECISION_OPERATIONS = {
    "listMotions",
    "getVotingRecord",
    "getMotion",
    "proposeMotion",
    "seekConsensus",
    "openMotionVoting",
    "castVote",
    "closeMotionVoting",
    "giveCastingVote",
    "withdrawMotion",
    "listElections",
    "getElection",
    "recountElection",
    "openElection",
    "nominateCandidate",
    "withdrawNomination",
    "openElectionVoting",
    "castBallot",
    "closeElection",
    "cancelElection",
}
MEETING_OPERATIONS = {
    "listMeetings",
    "getMeeting",
    "scheduleMeeting",
    "rescheduleMeeting",
    "addAgendaItem",
    "withdrawAgendaItem",
    "cancelMeeting",
    "holdMeeting",
    "getComplianceCalendar",
    "listMinutes",
    "getMinutes",
    "getPublicMinutes",
    "draftMinutes",
    "amendMinutes",
    "approveMinutes",
    "publishMinutes",
    "correctMinutes",
    "listActionItems",
    "getActionItem",
    "noteActionProgress",
    "completeActionItem",
    "getConfidentialReaders",
    "setConfidentialReaders",
}


@pytest.fixture
def world(client, onboard) -> World:
    return World(client, onboard)


def test_every_operation_has_a_decided_access_rule(client):
    ids = {operation for operation, _, _ in operations(client)}

    assert ids == set(ACCESS), f"decide who may call: {sorted(ids ^ set(ACCESS))}"


def test_the_published_permission_matrix_is_the_tested_one():
    page = Path(__file__).resolve().parents[2] / "docs" / "permissions.md"

    assert page.read_text(encoding="utf-8") == as_markdown(), (
        "docs/permissions.md is stale: python -m tests.e2e.permission_matrix > docs/permissions.md"
    )


def test_a_key_of_one_alliance_finds_nothing_of_another(world, client):
    for operation, method, path in operations(client):
        if "{slug}" not in path:
            continue
        for role in TENANT_ROLES:
            response = world.call(
                operation, method, path, "alpha-alliance", world.headers("beta-alliance", role)
            )
            assert response.status_code == 404, (operation, role, response.text)
            assert "Canary alpha" not in response.text
            assert response.headers["content-type"].startswith("application/problem+json")


def whole_log(world: World, client) -> list[dict[str, Any]]:
    """Alpha's event log as its auditor reads it, every page."""
    found: list[dict[str, Any]] = []
    after = 0
    while True:
        page = client.get(
            "/v1/tenants/alpha-alliance/events",
            params={"after": after, "limit": 200},
            headers=world.headers("alpha-alliance", "auditor"),
        ).json()
        found += page["items"]
        if page["next_after"] is None:
            return found
        after = page["next_after"]


def test_across_the_wall_nothing_changes(world, client):
    before_log = whole_log(world, client)
    before_keys = client.get(
        "/v1/tenants/alpha-alliance/keys", headers=world.headers("alpha-alliance", "tenant-admin")
    ).json()

    for operation, method, path in operations(client):
        if "{slug}" in path and method != "GET":
            for role in TENANT_ROLES:
                world.call(
                    operation,
                    method,
                    path,
                    "alpha-alliance",
                    world.headers("beta-alliance", role),
                    fresh_victim=False,
                )

    after_log = whole_log(world, client)
    after_keys = client.get(
        "/v1/tenants/alpha-alliance/keys", headers=world.headers("alpha-alliance", "tenant-admin")
    ).json()
    assert after_log == before_log
    assert after_keys == before_keys
    entry = client.get("/v1/tenants/alpha-alliance", headers=ADMIN).json()["tenant"]
    assert entry["status"] == "active"


def test_each_role_gets_exactly_the_operations_it_is_allowed(world, client):
    for operation, method, path in operations(client):
        allowed = ACCESS[operation]
        for role in ["platform-admin", *TENANT_ROLES]:
            response = world.call(
                operation, method, path, "alpha-alliance", world.headers("alpha-alliance", role)
            )
            if PUBLIC in allowed or ANY_KEY in allowed or role in allowed:
                assert response.status_code in (200, 201, 202, 204, 409), (
                    operation,
                    role,
                    response.text,
                )
            else:
                assert response.status_code == 403, (operation, role, response.text)
            if operation == "suspendTenant" and response.status_code == 200:
                client.post("/v1/tenants/alpha-alliance/reinstate", headers=ADMIN)


def test_without_a_key_or_with_a_bad_one_only_public_operations_answer(world, client):
    revoked = world.keys["alpha-alliance"]["officer"]
    client.delete(
        f"/v1/tenants/alpha-alliance/keys/{revoked['id']}",
        headers=world.headers("alpha-alliance", "tenant-admin"),
    )
    callers = {
        "no key": {},
        "revoked key": bearer(revoked["secret"]),
        "unknown key": bearer("cnc_" + "x" * 43),
        "not bearer": {"Authorization": "Basic dXNlcjpwYXNz"},
        "empty bearer": {"Authorization": "Bearer "},
    }
    for operation, method, path in operations(client):
        for caller, headers in callers.items():
            response = world.call(operation, method, path, "alpha-alliance", headers)
            if PUBLIC in ACCESS[operation]:
                assert response.status_code == 200, (operation, caller)
            else:
                assert response.status_code == 401, (operation, caller, response.text)
                assert response.headers["www-authenticate"].startswith("Bearer")
                assert "Canary alpha" not in response.text


def test_a_platform_admin_cannot_read_an_alliance_log(world, client):
    response = client.get("/v1/tenants/alpha-alliance/events", headers=ADMIN)

    assert response.status_code == 403


def test_tenant_keys_cannot_see_the_national_directory(world, client):
    for role in TENANT_ROLES:
        response = client.get("/v1/tenants", headers=world.headers("alpha-alliance", role))
        assert response.status_code == 403
        assert "beta-alliance" not in response.text


def test_a_secret_ballot_is_cast_only_with_the_organisations_own_key(world, client):
    alpha = world.objects["alpha-alliance"]
    election, candidate = alpha.new_election(office="treasurer", stage="voting")
    path = f"/v1/tenants/alpha-alliance/elections/{election}/ballots"
    ballot = {"choices": [candidate], "member_id": alpha.member}
    callers = [("alpha-alliance", r) for r in ("platform-admin", "tenant-admin", "officer")]
    callers += [("alpha-alliance", "auditor")] + [("beta-alliance", r) for r in TENANT_ROLES]
    before = whole_log(world, client)

    refused = {
        caller: client.post(path, json=ballot, headers=world.headers(*caller)) for caller in callers
    }

    assert {caller: r.status_code for caller, r in refused.items()} == {
        caller: 403 if caller[0] == "alpha-alliance" else 404 for caller in callers
    }
    assert all(candidate not in r.text for r in refused.values())
    assert whole_log(world, client) == before
    own = client.post(path, json=ballot, headers=world.headers("alpha-alliance", "member"))
    assert own.status_code == 202, own.text
    assert own.json()["voted"] == [alpha.member] and own.json()["open_votes"] is None
    assert {c["votes"] for c in own.json()["candidates"]} == {None}


def test_a_member_key_acts_only_for_its_own_organisation(world, client):
    alpha = world.objects["alpha-alliance"]
    other = alpha.new_member()
    standing = alpha.post(
        f"/elections/{alpha.election}/nominations",
        {"member_id": other, "person_name": "Canary other nominee", "statement": "s"},
    )["candidates"][-1]["candidate_id"]
    base = "/v1/tenants/alpha-alliance"
    election = alpha.ballot_election
    attempts = {
        "castVote": (
            f"/motions/{alpha.voting_motion}/votes",
            {"choice": "for", "member_id": other},
        ),
        "castBallot": (
            f"/elections/{election}/ballots",
            {"choices": [alpha.nominees[election]], "member_id": other},
        ),
        "nominateCandidate": (
            f"/elections/{alpha.election}/nominations",
            {"member_id": other, "person_name": "Canary", "statement": "s"},
        ),
        "withdrawNomination": (
            f"/elections/{alpha.election}/nominations/{standing}/withdraw",
            {"reason": "not ours"},
        ),
    }
    before = whole_log(world, client)
    member = world.headers("alpha-alliance", "member")

    statuses = {
        operation: client.post(base + path, json=body, headers=member).status_code
        for operation, (path, body) in attempts.items()
    }

    assert statuses == dict.fromkeys(attempts, 403)
    assert whole_log(world, client) == before
