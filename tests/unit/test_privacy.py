"""Erasable personal data: sealing under per-person keys, the register of erasures and
retention holds, and the domain's fallbacks for a person whose data is gone.

The keyring is the real one, on a real SQLite view store in a temporary folder; the
Application is eventsourcing's, in memory, with Concord's mapper.
"""

from __future__ import annotations

import base64
import json
from datetime import timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import msgspec
import pytest
from eventsourcing.application import Application
from eventsourcing.persistence import JSONTranscoder, Mapper, StoredEvent

from domain.elections import Election
from domain.membership import Member, MembershipApplication
from domain.minutes import (
    InvalidMinutes,
    Item,
    Minutes,
    NamedPerson,
    canonical,
    item_data,
    rendered,
)
from domain.offices import OfficeRoll
from domain.privacy import (
    COMPLETED,
    HOLD_RULE,
    REFUSED,
    REQUESTED,
    DataSubjectRequests,
    ErasureHeld,
    ErasureNotPending,
    HoldNotActive,
    InvalidPrivacyRequest,
    shown,
)
from infra.personal_keys import (
    KEY_TTL,
    NoKeyring,
    PersonalDataBroken,
    PersonalDataMapper,
    PersonalKeys,
    identity_of,
)
from infra.stores import SQLiteViewStore
from services.applications import DateAsISO
from services.runtime import TENANT_PROJECTIONS
from tests.unit.test_elections import nominate, open_election
from tests.unit.test_golden_log import DatedApplication, load
from tests.unit.test_membership import EXPERT, circulate, decide, submit
from tests.unit.test_offices import appoint
from tests.unit.tor import KCA, NOW, TODAY

GOLDEN = Path(__file__).resolve().parents[1] / "golden"
REF_A = "a" * 64
REF_B = "b" * 64


class Clock:
    """A monotonic clock the test moves by hand (the keyring's cache reads it)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class SealedApplication(Application[UUID]):
    """An alliance store in memory, with Concord's sealing mapper."""

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        transcoder.register(DateAsISO())

    def construct_mapper(self) -> Mapper[UUID]:
        plain = super().construct_mapper()
        return PersonalDataMapper(transcoder=plain.transcoder)


@pytest.fixture
def views(tmp_path: Path) -> SQLiteViewStore:
    store = SQLiteViewStore(tmp_path / "views.sqlite")
    yield store
    store.close()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def keyring(views: SQLiteViewStore, clock: Clock) -> PersonalKeys:
    return PersonalKeys(views, clock=clock)


@pytest.fixture
def app(keyring: PersonalKeys) -> SealedApplication:
    app = SealedApplication(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    mapper = app.mapper
    assert isinstance(mapper, PersonalDataMapper)
    mapper.keyring = keyring
    return app


def stored(app: Application[UUID]) -> list[StoredEvent]:
    return list(app.recorder.select_notifications(start=1, limit=1000))


def stored_text(app: Application[UUID]) -> str:
    return "\n".join(n.state.decode() for n in stored(app))


def member_with_representatives(*people: tuple[str, str]) -> Member:
    application = submit(KCA, EXPERT, email="expert@example.org")
    circulate(application, KCA, "executive-committee")
    member = decide(application, KCA, "executive-committee")
    assert member is not None
    for name, email in people:
        member.add_representative(
            role="Director", name=name, email=email, principal=None, by="key:o", terms=KCA
        )
    return member


def all_key_ids(keyring: PersonalKeys) -> list[str]:
    with keyring.views.transaction(commit=False) as sql:
        return [r["key_id"] for r in sql.all("SELECT key_id FROM personal_keys")]


# ----------------------------------------------------------------------------- sealing


def test_a_person_is_stored_sealed_and_reads_back_whole(app):
    member = member_with_representatives(("Ivy Larkspur", "ivy.larkspur@example.org"))
    app.save(member)

    text = stored_text(app)
    assert "Larkspur" not in text and "larkspur" not in text and "Ivy" not in text
    assert '"sealed"' in text
    again: Member = app.repository.get(member.id)
    assert again.representatives and again.version == member.version
    added = [
        app.mapper.to_domain_event(n)
        for n in stored(app)
        if n.topic.endswith("RepresentativeAdded")
    ]
    assert [e.person for e in added] == [
        {"name": "Ivy Larkspur", "email": "ivy.larkspur@example.org"}
    ]


def test_the_same_person_is_sealed_under_one_key_and_another_under_their_own(app, keyring):
    first = member_with_representatives(("Ivy Larkspur", "ivy@example.org"))
    second = member_with_representatives(
        ("IVY larkspur", " Ivy@Example.org "), ("Olu Brandt", "olu@example.org")
    )
    app.save(first, second)

    keys = [
        json.loads(n.state)["person"]["key"]
        for n in stored(app)
        if n.topic.endswith("RepresentativeAdded")
    ]
    assert keys[0] == keys[1] != keys[2]
    # The two applications name the expert (same email): one key for them too.
    assert len(set(all_key_ids(keyring))) == 3


def test_people_named_in_minutes_items_are_sealed_wherever_they_are(app):
    minutes = Minutes.draft(
        meeting_id="m-1",
        body="full-membership",
        meeting_date=TODAY,
        items=[
            Item(
                item_id="case",
                title="Case",
                text="{1} met {2}.",
                people=(NamedPerson(name="Rowan Ashdown"), NamedPerson(name="Kit Fenwick")),
            )
        ],
        confidential=False,
        confidential_reason=None,
        by="key:o",
        terms=KCA,
    )
    minutes.approve(
        by_body="full-membership",
        at_meeting_id=None,
        decision_ref=None,
        today=TODAY,
        by="key:o",
        terms=KCA,
    )
    minutes.publish(today=TODAY, by="key:o")
    app.save(minutes)

    text = stored_text(app)
    assert "Ashdown" not in text and "Fenwick" not in text
    published = json.loads(stored(app)[-1].state)
    assert set(published["public"]["items"][0]["people"][1]) == {"sealed", "key"}
    again: Minutes = app.repository.get(minutes.id)
    assert again.items[0].people == (
        NamedPerson(name="Rowan Ashdown"),
        NamedPerson(name="Kit Fenwick"),
    )


def test_person_fields_that_name_nobody_are_stored_as_they_are(app, keyring):
    roll = OfficeRoll.open("chair")
    roll.appoint(  # a holder whose name was not given: {"name": None}
        terms=KCA,
        via="appointed",
        member_id="m-b",
        organisation="Organisation m-b",
        person_name=None,
        candidate_is_member=True,
        starts_on=TODAY,
        by_body="full-membership",
        decision_ref="d",
        election_ref=None,
        outside_approval_ref=None,
        by="key:o",
    )
    organisation = Member.admit(  # an organisation names no person of its own: {}
        application_id="a-1",
        applicant={
            "capacity": "organisation",
            "name": "Kinship Families",
            "organisation_kind": None,
            "region": None,
        },
        person_name=None,
        standing="member",
        by_body="executive-committee",
        decision_ref="d",
        by="key:o",
        terms=KCA,
    )
    app.save(roll, organisation)

    persons = [json.loads(n.state)["person"] for n in stored(app) if b"person" in n.state]
    assert persons == [{"name": None}, {}]
    assert all_key_ids(keyring) == []


def test_no_read_model_owns_the_key_tables_so_a_rebuild_never_drops_them():
    owned = {table for projection in TENANT_PROJECTIONS for table in projection.tables}

    assert owned.isdisjoint({"personal_keys", "personal_pepper"})
    assert {"representatives", "office_holdings", "minutes"} <= owned


def test_without_its_keyring_a_store_refuses_personal_data_rather_than_store_it_plain():
    app = SealedApplication(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})

    with pytest.raises(NoKeyring):
        app.save(member_with_representatives(("Ivy Larkspur", "ivy@example.org")))
    assert stored(app) == []


# ----------------------------------------------------------------------------- erasure


def test_erasing_a_key_leaves_the_stored_bytes_and_shows_the_person_as_erased(app, keyring):
    member = member_with_representatives(
        ("Ivy Larkspur", "ivy@example.org"), ("Olu Brandt", "olu@example.org")
    )
    app.save(member)
    before = [n.state for n in stored(app)]
    ivy = keyring.keys_of_subjects([keyring.subject_ref("email:ivy@example.org")])

    assert keyring.destroy(ivy) == 1

    assert [n.state for n in stored(app)] == before
    people = [
        app.mapper.to_domain_event(n).person
        for n in stored(app)
        if n.topic.endswith("RepresentativeAdded")
    ]
    assert people == [{"erased": True}, {"name": "Olu Brandt", "email": "olu@example.org"}]
    again: Member = app.repository.get(member.id)  # replay does not raise
    assert len(again.representatives) == 2
    assert keyring.keys_of_subjects([keyring.subject_ref("email:ivy@example.org")]) == []


def test_another_process_forgets_an_erased_key_within_the_cache_lifetime(app, keyring, views):
    other_clock = Clock()
    other = PersonalKeys(views, clock=other_clock)  # a second process on the same store
    member = member_with_representatives(("Ivy Larkspur", "ivy@example.org"))
    app.save(member)
    [notification] = [n for n in stored(app) if n.topic.endswith("RepresentativeAdded")]
    key_id = json.loads(notification.state)["person"]["key"]
    assert other.key(key_id) is not None  # it has read (and cached) the key

    keyring.destroy([key_id])

    assert keyring.key(key_id) is None  # this process forgets at once
    assert other.key(key_id) is not None  # the other still has it cached ...
    other_clock.now += KEY_TTL + 1
    assert other.key(key_id) is None  # ... until its cache runs out


def test_a_sealed_field_that_was_altered_does_not_open(app):
    app.save(member_with_representatives(("Ivy Larkspur", "ivy@example.org")))
    [notification] = [n for n in stored(app) if n.topic.endswith("RepresentativeAdded")]
    state = json.loads(notification.state)
    raw = bytearray(base64.b64decode(state["person"]["sealed"]))
    raw[-1] ^= 1
    state["person"]["sealed"] = base64.b64encode(bytes(raw)).decode()
    altered = StoredEvent(
        originator_id=notification.originator_id,
        originator_version=notification.originator_version,
        topic=notification.topic,
        state=json.dumps(state).encode(),
    )

    with pytest.raises(PersonalDataBroken):
        app.mapper.to_domain_event(altered)


def test_subject_refs_are_pseudonyms_of_a_normalised_identity(keyring, tmp_path):
    elsewhere = PersonalKeys(SQLiteViewStore(tmp_path / "other.sqlite"))

    assert identity_of({"name": "  Ivy   LARKSPUR "}) == "name:ivy larkspur"
    assert identity_of({"name": "Ivy", "email": " Ivy@Example.ORG"}) == "email:ivy@example.org"
    assert identity_of({"signatory_name": "Sam Signatory"}) == "name:sam signatory"
    assert identity_of({}) is identity_of({"name": "  "}) is identity_of({"erased": True}) is None
    ref = keyring.subject_ref("email:ivy@example.org")
    assert ref == keyring.ref_of({"email": "IVY@example.org", "name": "anything"})
    assert "ivy" not in ref and len(ref) == 64
    # Another alliance's secret: the same person has another pseudonym there.
    assert elsewhere.subject_ref("email:ivy@example.org") != ref
    elsewhere.views.close()


def test_plain_person_fields_of_the_golden_logs_read_as_they_were_written(keyring):
    sealing = SealedApplication(env={"PERSISTENCE_MODULE": "eventsourcing.popo"}).mapper
    assert isinstance(sealing, PersonalDataMapper)
    sealing.keyring = keyring
    plain = Application(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    plain.mapper.transcoder.register(DateAsISO())
    persons = 0
    for path in sorted(GOLDEN.glob("*.jsonl")):
        for line in path.read_text().splitlines():
            row = json.loads(line)
            event = StoredEvent(
                originator_id=UUID(row["originator_id"]),
                originator_version=row["originator_version"],
                topic=row["topic"],
                state=json.dumps(row["state"]).encode(),
            )
            persons += "person" in row["state"]
            assert vars(sealing.to_domain_event(event)) == vars(plain.mapper.to_domain_event(event))
    assert persons > 10


# ----------------------------------------------------------------------------- the register


def given_register() -> DataSubjectRequests:
    register = DataSubjectRequests.open("the-alliance")
    register.collect_events()
    return register


def test_an_erasure_is_requested_then_completed_naming_nobody():
    register = given_register()

    request_id = register.request_erasure(
        subject_refs=[REF_B, REF_A, REF_A], reason=" they asked ", by="key:admin", now=NOW
    )
    register.complete_erasure(request_id, keys_destroyed=2, fields_left=0, by="key:a", now=NOW)

    requested, completed = register.collect_events()
    assert isinstance(requested, DataSubjectRequests.ErasureRequested)
    assert (requested.subject_refs, requested.reason) == ([REF_A, REF_B], "they asked")
    assert isinstance(completed, DataSubjectRequests.ErasureCompleted)
    assert completed.keys_destroyed == 2
    assert register.erasures[request_id].status == COMPLETED


def test_a_hold_in_force_refuses_an_erasure_and_the_refusal_is_on_the_record():
    register = given_register()
    hold_id = register.place_hold(
        subject_refs=[REF_A], reason="safeguarding", until=TODAY, by="key:a", now=NOW
    )

    request_id = register.request_erasure(
        subject_refs=[REF_A, REF_B], reason="they asked", by="key:a", now=NOW
    )

    _, requested, refused = register.collect_events()
    assert isinstance(requested, DataSubjectRequests.ErasureRequested)
    assert isinstance(refused, DataSubjectRequests.ErasureRefused)
    assert (refused.hold_ids, refused.rule) == ([hold_id], HOLD_RULE)
    error = register.refusal(request_id)
    assert isinstance(error, ErasureHeld)
    assert [v.rule for v in error.violations] == [f"retention-holds.{hold_id}"]
    assert "safeguarding" in error.message and HOLD_RULE in error.message
    with pytest.raises(ErasureNotPending):
        register.complete_erasure(request_id, keys_destroyed=1, fields_left=0, by="k", now=NOW)


def test_a_hold_that_was_lifted_or_ran_out_refuses_nothing():
    register = given_register()
    lifted = register.place_hold(subject_refs=[REF_A], reason="case", until=None, by="k", now=NOW)
    register.place_hold(subject_refs=[REF_B], reason="claim", until=TODAY, by="k", now=NOW)
    register.lift_hold(lifted, reason="case closed", by="k", now=NOW)
    tomorrow = NOW + timedelta(days=1)

    first = register.request_erasure(subject_refs=[REF_A], reason="asked", by="k", now=NOW)
    second = register.request_erasure(subject_refs=[REF_B], reason="asked", by="k", now=tomorrow)
    held = register.request_erasure(subject_refs=[REF_B], reason="asked", by="k", now=NOW)

    assert register.erasures[first].status == REQUESTED
    assert register.erasures[second].status == REQUESTED
    assert register.erasures[held].status == REFUSED  # the last day of a hold still holds
    with pytest.raises(HoldNotActive, match="was lifted"):
        register.lift_hold(lifted, reason="again", by="k", now=NOW)


def test_requests_and_holds_that_contradict_themselves_are_refused():
    register = given_register()
    with pytest.raises(InvalidPrivacyRequest, match="reason"):
        register.request_erasure(subject_refs=[REF_A], reason="   ", by="k", now=NOW)
    with pytest.raises(InvalidPrivacyRequest, match="subject"):
        register.request_erasure(subject_refs=[], reason="asked", by="k", now=NOW)
    with pytest.raises(InvalidPrivacyRequest, match="in the past"):
        register.place_hold(
            subject_refs=[REF_A], reason="r", until=TODAY - timedelta(days=1), by="k", now=NOW
        )
    with pytest.raises(InvalidPrivacyRequest, match="no retention hold"):
        register.lift_hold("nope", reason="r", by="k", now=NOW)
    with pytest.raises(ErasureNotPending):
        register.complete_erasure("nope", keys_destroyed=0, fields_left=0, by="k", now=NOW)
    assert register.collect_events() == []


def test_the_register_replays_to_the_same_state(app):
    register = DataSubjectRequests.open("the-alliance")
    hold = register.place_hold(subject_refs=[REF_A], reason="r", until=None, by="k", now=NOW)
    refused = register.request_erasure(subject_refs=[REF_A], reason="asked", by="k", now=NOW)
    register.lift_hold(hold, reason="done", by="k", now=NOW)
    done = register.request_erasure(subject_refs=[REF_A], reason="asked", by="k", now=NOW)
    register.complete_erasure(done, keys_destroyed=1, fields_left=0, by="k", now=NOW)
    app.save(register)

    again: DataSubjectRequests = app.repository.get(register.id)

    assert again.erasures == register.erasures and again.holds == register.holds
    assert again.erasures[refused].status == REFUSED


def test_the_golden_privacy_log_replays_with_todays_code():
    app = load("privacy.jsonl", DatedApplication)

    register: DataSubjectRequests = app.repository.get(
        DataSubjectRequests.create_id("golden-privacy")
    )
    assert sorted(e.status for e in register.erasures.values()) == [COMPLETED, REFUSED]
    [hold] = register.holds.values()
    assert hold.lifted is not None and hold.until is not None
    minutes: Minutes = app.repository.get(Minutes.create_id("golden-meeting"))
    [item] = minutes.items
    assert item.people == (
        NamedPerson(name="Robin Example", email="robin@example.org"),
        NamedPerson(name="Sky Example"),
    )
    assert rendered(item.text, [msgspec.to_builtins(p) for p in item.people]).startswith(
        "Robin Example reported"
    )


# ----------------------------------------------------------------------------- erased people


def erase_everyone(app: SealedApplication, keyring: PersonalKeys) -> None:
    keyring.destroy(all_key_ids(keyring))


def test_two_erased_holders_of_one_organisation_stay_two_holders(app, keyring):
    roll = OfficeRoll.open("chair")
    appoint(roll, KCA, "m-a", person="Ivy Larkspur", by_body="full-membership")
    first = next(iter(roll.tenures))
    roll.leave(first, reason="stood down", left_on=TODAY + timedelta(days=1), by="k")
    appoint(
        roll,
        KCA,
        "m-a",
        person="Olu Brandt",
        by_body="full-membership",
        starts_on=TODAY + timedelta(days=1),
    )
    app.save(roll)
    erase_everyone(app, keyring)

    again: OfficeRoll = app.repository.get(roll.id)

    holders = [t.holder for t in again.tenures.values()]
    assert len(set(holders)) == 2 and all("[erased]" in h for h in holders)
    assert not again.has_held("m-a", "Organisation m-a", None)


def test_an_erased_candidate_stands_aside_from_later_nominations(app, keyring):
    election = open_election()
    nominate(election, "m-a", person="Ivy Larkspur")
    app.save(election)
    erase_everyone(app, keyring)
    again: Election = app.repository.get(election.id)
    [candidate] = again.candidates.values()
    assert candidate.person_name is None

    # A name that normalises to nothing is nobody's, not the erased candidate's.
    nominate(again, "m-a", person=" ")

    assert len(again.standing()) == 2


def test_an_applicant_erased_before_the_decision_is_admitted_as_erased(app, keyring):
    application = submit(KCA, EXPERT, email="ada@example.org")
    circulate(application, KCA, "executive-committee")
    app.save(application)
    erase_everyone(app, keyring)
    again: MembershipApplication = app.repository.get(application.id)

    member = decide(again, KCA, "executive-committee")

    assert member is not None
    [admitted] = member.collect_events()
    assert admitted.person == {"erased": True}
    assert shown(admitted.person, "name") == "[erased]"


# ----------------------------------------------------------------------------- minutes


def test_mentions_show_each_persons_name_or_erased():
    people = [{"name": "Rowan Ashdown"}, {"erased": True}]

    assert rendered("{1} met {2}; {3} and {x} stay.", people) == (
        "Rowan Ashdown met [erased]; {3} and {x} stay."
    )


def test_an_item_naming_nobody_is_kept_and_committed_to_as_before_people_existed():
    item = Item(item_id="i", title="T", text="Costs {1}", decisions=("d",))
    before: dict[str, Any] = {
        "item_id": "i",
        "title": "T",
        "text": "Costs {1}",
        "decisions": ("d",),
        "actions": (),
        "confidential": False,
    }

    assert item_data(item) == before
    assert canonical(item) == msgspec.json.encode(before, order="sorted")


def test_minutes_mention_only_people_their_items_name():
    item = Item(item_id="i", title="T", text="{1} and {3}", people=(NamedPerson(name="A"),))
    with pytest.raises(InvalidMinutes, match=r"mentions \{3\} but names only 1"):
        Minutes.draft(
            meeting_id="m",
            body="full-membership",
            meeting_date=TODAY,
            items=[item],
            confidential=False,
            confidential_reason=None,
            by="k",
            terms=KCA,
        )
