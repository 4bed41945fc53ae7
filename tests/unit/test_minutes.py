"""Minutes, their commitments and corrections, the action items they raise, and who may
read what is confidential.

Given minutes built by earlier commands (their events already collected), when one command
runs, then only its new events are pending, or it is refused (with the template's clause
where the rule is the ToR's) and nothing at all is pending. A confidential item's text
never reaches the public version; its commitment recomputes from the kept item and salt.
"""

from __future__ import annotations

import hashlib
from datetime import date, timedelta
from typing import Any

import msgspec
import pytest
from eventsourcing.application import Application

from domain.action_items import DONE, OPEN, ActionItem
from domain.confidentiality import DEFAULT_READERS, ConfidentialityPolicy
from domain.errors import ActionItemStateConflict, MinutesStateConflict, RulesBroken, UnknownRole
from domain.minutes import (
    APPROVED,
    COMMITMENT_DOMAIN,
    CONFIDENTIAL_NOTICE,
    DRAFT,
    WHOLE_CONFIDENTIAL_NOTICE,
    Action,
    InvalidMinutes,
    Item,
    Minutes,
    canonical,
    commitment,
)
from domain.terms import Version
from services.applications import DateAsISO
from tests.unit.tor import KCA, TODAY, refusal, terms_of

MEETING_ID = "meeting-2026-q4"
MEETING_DAY = date(2026, 11, 16)
#: Text that must never appear in anything public.
CANARY = "CANARY-7f3a-grandmother-of-child-B"


def action(action_id: str = "a-1", *, owner_kind: str = "member", owner: str = "m-1") -> Action:
    return Action(
        action_id=action_id,
        description="Write to the minister",
        owner_kind=owner_kind,
        owner=owner,
        due_on=date(2027, 1, 31),
    )


def public_item(item_id: str = "i-1", *, actions: tuple[Action, ...] = ()) -> Item:
    return Item(
        item_id=item_id,
        title="Work plan",
        text="The members agreed the work plan for 2027.",
        decisions=("Agree the work plan",),
        actions=actions,
    )


def secret_item(item_id: str = "i-2", *, actions: tuple[Action, ...] = ()) -> Item:
    return Item(
        item_id=item_id,
        title=f"Case review {CANARY}",
        text=f"The members discussed {CANARY} and her placement.",
        decisions=(f"Refer {CANARY} to the panel",),
        actions=actions,
        confidential=True,
    )


def draft(
    terms: Version = KCA,
    items: tuple[Item, ...] = (),
    *,
    confidential: bool = False,
    body: str = "full-membership",
) -> Minutes:
    return Minutes.draft(
        meeting_id=MEETING_ID,
        body=body,
        meeting_date=MEETING_DAY,
        items=list(items) or [public_item()],
        confidential=confidential,
        confidential_reason="to protect service users" if confidential else None,
        by="key:officer",
        terms=terms,
    )


def given_draft(
    terms: Version = KCA, items: tuple[Item, ...] = (), *, confidential: bool = False
) -> Minutes:
    minutes = draft(terms, items, confidential=confidential)
    minutes.collect_events()
    return minutes


def approve(minutes: Minutes, terms: Version = KCA, *, by_body: str = "full-membership") -> None:
    minutes.approve(
        by_body=by_body,
        at_meeting_id="meeting-2027-q1",
        decision_ref="main meeting 2027-02, item 2",
        today=TODAY,
        by="key:officer",
        terms=terms,
    )


def given_approved(
    terms: Version = KCA, items: tuple[Item, ...] = (), *, confidential: bool = False
) -> tuple[Minutes, Minutes.Approved]:
    minutes = given_draft(terms, items, confidential=confidential)
    approve(minutes, terms)
    (approved,) = minutes.collect_events()
    assert isinstance(approved, Minutes.Approved)
    return minutes, approved


def correct(
    minutes: Minutes,
    terms: Version = KCA,
    *,
    item_id: str | None = "i-1",
    text: str = "The work plan was agreed with one abstention.",
    confidential: bool = False,
    by_body: str = "full-membership",
) -> str:
    return minutes.correct(
        item_id=item_id,
        text=text,
        confidential=confidential,
        reason="the abstention was left out",
        by_body=by_body,
        decision_ref="main meeting 2027-05, item 2",
        today=TODAY + timedelta(days=90),
        by="key:officer",
        terms=terms,
    )


def with_minutes_rule(terms: Version, name: str, **changes: Any) -> Version:
    minutes = msgspec.structs.replace(terms.rules.minutes, **changes)
    return terms_of(name, msgspec.structs.replace(terms.rules, minutes=minutes))


NO_CONFIDENTIAL = with_minutes_rule(KCA, "kinship-care", confidential_allowed=False)
EXECUTIVE_APPROVES = with_minutes_rule(KCA, "kinship-care", approved_by="executive-committee")


def digest_of(meeting_id: str, confidential: bool, commitments: dict[str, str]) -> str:
    """The digest as the module documents it: over the meeting, the confidentiality and
    every commitment in order."""
    whole = {
        "meeting_id": meeting_id,
        "confidential": confidential,
        "commitments": list(commitments.values()),
    }
    return hashlib.sha256(COMMITMENT_DOMAIN + canonical(whole)).hexdigest()


# --------------------------------------------------------------------------- drafting


def test_minutes_of_a_held_meeting_are_drafted():
    minutes = draft(items=(public_item(actions=(action(),)), secret_item()))

    events = minutes.collect_events()
    assert [type(e) for e in events] == [Minutes.Drafted]
    drafted = events[0]
    assert drafted.meeting_id == MEETING_ID
    assert drafted.body == "full-membership"
    assert drafted.meeting_date == MEETING_DAY
    assert [i["item_id"] for i in drafted.items] == ["i-1", "i-2"]
    assert drafted.under_version == 1
    assert minutes.status == DRAFT
    assert minutes.published is False
    assert minutes.items == [public_item(actions=(action(),)), secret_item()]


def test_one_set_of_minutes_per_meeting_its_id_comes_from_the_meetings():
    minutes = draft()

    assert minutes.id == Minutes.create_id(MEETING_ID)
    assert Minutes.create_id(MEETING_ID) != Minutes.create_id("another-meeting")


def test_draft_minutes_are_amended():
    minutes = given_draft()
    better = public_item()
    better = msgspec.structs.replace(better, text="The members agreed the 2027 work plan.")

    minutes.amend(
        items=[better, secret_item()],
        confidential=False,
        confidential_reason=None,
        by="key:officer",
        terms=KCA,
    )

    events = minutes.collect_events()
    assert [type(e) for e in events] == [Minutes.Amended]
    assert minutes.items == [better, secret_item()]
    assert minutes.status == DRAFT


def test_two_items_of_the_minutes_cannot_share_an_item_id():
    with pytest.raises(InvalidMinutes) as raised:
        draft(items=(public_item("i-1"), secret_item("i-1")))

    assert "item_id" in raised.value.message


def test_draft_minutes_cannot_be_amended_to_two_items_with_one_id():
    minutes = given_draft()

    with pytest.raises(InvalidMinutes):
        minutes.amend(
            items=[public_item("i-1"), secret_item("i-1")],
            confidential=False,
            confidential_reason=None,
            by="k",
            terms=KCA,
        )

    assert minutes.collect_events() == []
    assert minutes.items == [public_item()]


def test_two_actions_of_the_minutes_cannot_share_an_action_id():
    with pytest.raises(InvalidMinutes) as raised:
        draft(
            items=(
                public_item("i-1", actions=(action("a-1"),)),
                secret_item("i-2", actions=(action("a-1"),)),
            )
        )

    assert "action_id" in raised.value.message


def test_an_action_owned_by_an_office_the_tor_does_not_have_is_refused():
    with pytest.raises(RulesBroken) as raised:
        draft(items=(public_item(actions=(action(owner_kind="office", owner="treasurer"),)),))

    assert refusal(raised) == ("offices", None)


def test_an_action_owned_by_a_body_or_office_of_the_tor_is_accepted():
    minutes = draft(
        items=(
            public_item(
                actions=(
                    action("a-1", owner_kind="office", owner="chair"),
                    action("a-2", owner_kind="body", owner="executive-committee"),
                )
            ),
        )
    )

    assert minutes.status == DRAFT


@pytest.mark.parametrize(
    ("confidential", "items"),
    [(True, (public_item(),)), (False, (public_item(), secret_item()))],
    ids=["whole-minutes", "one-item"],
)
def test_no_confidential_minutes_where_the_tor_allows_none(confidential, items):
    with pytest.raises(RulesBroken) as raised:
        draft(NO_CONFIDENTIAL, items, confidential=confidential)

    assert refusal(raised) == ("minutes.confidential_allowed", "8")


def test_draft_minutes_cannot_be_amended_to_be_confidential_where_the_tor_allows_none():
    minutes = given_draft(NO_CONFIDENTIAL)

    with pytest.raises(RulesBroken) as raised:
        minutes.amend(
            items=[public_item(), secret_item()],
            confidential=False,
            confidential_reason=None,
            by="k",
            terms=NO_CONFIDENTIAL,
        )

    assert refusal(raised) == ("minutes.confidential_allowed", "8")
    assert minutes.collect_events() == []
    assert minutes.items == [public_item()]


# --------------------------------------------------------------------------- approving


def test_minutes_are_approved_by_the_body_that_met():
    minutes = given_draft(items=(public_item(), secret_item()))

    approve(minutes, by_body="full-membership")

    events = minutes.collect_events()
    assert [type(e) for e in events] == [Minutes.Approved]
    approved = events[0]
    assert approved.by_body == "full-membership"
    assert approved.at_meeting_id == "meeting-2027-q1"
    assert approved.approved_on == TODAY
    assert list(approved.commitments) == ["i-1", "i-2"]
    assert set(approved.salts) == {"i-1", "i-2"}
    assert minutes.status == APPROVED
    assert minutes.commitments == approved.commitments
    assert minutes.digest == approved.digest


def test_minutes_approved_by_another_body_are_refused_with_the_clause():
    minutes = given_draft()

    with pytest.raises(RulesBroken) as raised:
        approve(minutes, by_body="executive-committee")

    assert refusal(raised) == ("minutes", "8")
    assert "'executive-committee'" in raised.value.message
    assert minutes.collect_events() == []
    assert minutes.status == DRAFT


def test_where_the_tor_names_the_approving_body_only_that_body_approves():
    minutes = given_draft(EXECUTIVE_APPROVES)

    with pytest.raises(RulesBroken) as raised:
        approve(minutes, EXECUTIVE_APPROVES, by_body="full-membership")
    refused = minutes.collect_events()
    approve(minutes, EXECUTIVE_APPROVES, by_body="executive-committee")

    assert refusal(raised) == ("minutes.approved_by", "8")
    assert refused == []
    assert [type(e) for e in minutes.collect_events()] == [Minutes.Approved]


def test_minutes_are_approved_once():
    minutes, _ = given_approved()

    with pytest.raises(MinutesStateConflict):
        approve(minutes)

    assert minutes.collect_events() == []


def test_approved_minutes_are_locked_and_point_to_a_correction():
    minutes, _ = given_approved()

    with pytest.raises(MinutesStateConflict) as raised:
        minutes.amend(
            items=[public_item()], confidential=False, confidential_reason=None, by="k", terms=KCA
        )

    assert "record a correction" in raised.value.message.lower()
    assert minutes.collect_events() == []


# --------------------------------------------------------------------------- commitments


def test_each_commitment_recomputes_from_its_salt_and_the_kept_item():
    items = (public_item(actions=(action(),)), secret_item())
    minutes, approved = given_approved(items=items)

    for item in items:
        kept_salt = approved.salts[item.item_id]
        assert commitment(kept_salt, item) == approved.commitments[item.item_id]
        assert (
            minutes.public_version()["items"][items.index(item)]["commitment"]
            == (approved.commitments[item.item_id])
        )


def test_one_character_changed_gives_another_commitment():
    item = secret_item()
    _, approved = given_approved(items=(item,))
    forged = msgspec.structs.replace(item, text=item.text.replace("her", "his"))

    assert commitment(approved.salts["i-2"], forged) != approved.commitments["i-2"]


def test_the_same_item_under_another_salt_gives_another_commitment():
    item = secret_item()
    _, approved = given_approved(items=(item,))

    assert commitment("00" * 16, item) != approved.commitments["i-2"]


def test_the_digest_covers_every_commitment_and_changes_with_any_of_them():
    minutes, approved = given_approved(items=(public_item(), secret_item()))

    assert digest_of(MEETING_ID, False, approved.commitments) == approved.digest
    for item_id in approved.commitments:
        changed = {**approved.commitments, item_id: "0" * 64}
        assert digest_of(MEETING_ID, False, changed) != approved.digest
    assert digest_of(MEETING_ID, True, approved.commitments) != approved.digest
    assert minutes.public_version()["digest"] == approved.digest


def test_anyone_can_check_the_digest_from_the_public_version_alone():
    minutes, _ = given_approved(items=(public_item(), secret_item()))
    public = minutes.public_version()

    shown = {f"#{i['position']}": i["commitment"] for i in public["items"]}

    assert digest_of(public["meeting_id"], public["confidential"], shown) == public["digest"]


# --------------------------------------------------------------------------- the public version


def test_a_confidential_item_is_public_only_as_a_notice_and_its_commitment():
    minutes, approved = given_approved(items=(public_item(), secret_item(actions=(action(),))))

    public = minutes.public_version()

    open_item, hidden = public["items"]
    assert hidden == {
        "item_id": None,  # the minute-taker's id for it may say too much
        "position": 2,
        "confidential": True,
        "notice": CONFIDENTIAL_NOTICE,
        "commitment": approved.commitments["i-2"],
    }
    assert open_item["title"] == "Work plan"
    assert open_item["text"] == public_item().text
    assert open_item["confidential"] is False
    assert CANARY.encode() not in msgspec.json.encode(public)
    assert public["confidential"] is False and public["notice"] is None


def test_whole_confidential_minutes_hide_every_item():
    item_marked_public = msgspec.structs.replace(public_item(), text=f"Said by {CANARY}")
    minutes, approved = given_approved(items=(item_marked_public, secret_item()), confidential=True)

    public = minutes.public_version()

    assert public["confidential"] is True
    assert public["notice"] == WHOLE_CONFIDENTIAL_NOTICE
    assert public["confidential_reason"] == "to protect service users"
    assert [set(i) for i in public["items"]] == [
        {"item_id", "position", "confidential", "notice", "commitment"}
    ] * 2
    assert [i["item_id"] for i in public["items"]] == [None, None]
    assert [i["commitment"] for i in public["items"]] == list(approved.commitments.values())
    assert b"Work plan" not in msgspec.json.encode(public)
    assert CANARY.encode() not in msgspec.json.encode(public)


# --------------------------------------------------------------------------- publishing


def test_approved_minutes_are_published_as_their_public_version():
    minutes, _ = given_approved(items=(public_item(), secret_item()))

    minutes.publish(today=TODAY, by="key:officer")

    events = minutes.collect_events()
    assert [type(e) for e in events] == [Minutes.Published]
    assert events[0].public == minutes.public_version()
    assert events[0].published_on == TODAY
    assert CANARY.encode() not in msgspec.json.encode(events[0].public)
    assert minutes.published is True


def test_draft_minutes_are_not_published():
    minutes = given_draft()

    with pytest.raises(MinutesStateConflict):
        minutes.publish(today=TODAY, by="k")

    assert minutes.collect_events() == []
    assert minutes.published is False


def test_minutes_are_published_once():
    minutes, _ = given_approved()
    minutes.publish(today=TODAY, by="k")
    minutes.collect_events()

    with pytest.raises(MinutesStateConflict):
        minutes.publish(today=TODAY, by="k")

    assert minutes.collect_events() == []


# --------------------------------------------------------------------------- corrections


def test_a_public_correction_is_added_and_shown_beside_the_approved_text():
    minutes, approved = given_approved(items=(public_item(), secret_item()))

    correction_id = correct(minutes, item_id="i-1")

    events = minutes.collect_events()
    assert [type(e) for e in events] == [Minutes.Corrected]
    corrected = events[0]
    assert corrected.correction_id == correction_id
    assert corrected.confidential is False
    kept = {"correction_id": correction_id, "item_id": "i-1", "text": corrected.text}
    assert commitment(corrected.salt, kept) == corrected.commitment
    public = minutes.public_version()
    assert public["corrections"] == [corrected.public]
    assert corrected.public["text"] == "The work plan was agreed with one abstention."
    assert corrected.public["reason"] == "the abstention was left out"
    assert corrected.public["commitment"] == corrected.commitment
    # The approved text stays as it was approved.
    assert public["items"][0]["text"] == public_item().text
    assert minutes.commitments == approved.commitments


def test_a_confidential_correction_is_public_only_as_a_notice_and_its_commitment():
    minutes, _ = given_approved(items=(public_item(), secret_item()))

    correction_id = correct(minutes, item_id="i-2", text=f"Not {CANARY}", confidential=True)

    (corrected,) = minutes.collect_events()
    shown = minutes.public_version()["corrections"][0]
    assert shown["confidential"] is True
    assert shown["notice"] == CONFIDENTIAL_NOTICE
    assert shown["text"] is None and shown["reason"] is None
    assert shown["commitment"] == corrected.commitment
    kept = {"correction_id": correction_id, "item_id": "i-2", "text": f"Not {CANARY}"}
    assert commitment(corrected.salt, kept) == corrected.commitment
    assert commitment(corrected.salt, {**kept, "text": f"Nat {CANARY}"}) != corrected.commitment
    assert CANARY.encode() not in msgspec.json.encode(minutes.public_version())


def test_a_correction_of_whole_confidential_minutes_is_confidential_too():
    minutes, _ = given_approved(confidential=True)

    correct(minutes, item_id="i-1", text=CANARY, confidential=False)

    (corrected,) = minutes.collect_events()
    assert corrected.confidential is True
    assert corrected.public["text"] is None
    assert CANARY.encode() not in msgspec.json.encode(minutes.public_version())


def test_a_correction_of_a_confidential_item_is_confidential_too():
    minutes, _ = given_approved(items=(public_item(), secret_item()))

    correct(minutes, item_id="i-2", text=f"Not {CANARY}", confidential=False)

    assert CANARY.encode() not in msgspec.json.encode(minutes.public_version())


def test_corrections_have_distinct_ids():
    minutes, _ = given_approved()

    first = correct(minutes, item_id="i-1")
    second = correct(minutes, item_id=None, text="A general correction.")

    assert first != second
    assert [c["correction_id"] for c in minutes.public_version()["corrections"]] == [
        first,
        second,
    ]


def test_a_correction_names_an_item_the_minutes_have():
    minutes, _ = given_approved()

    with pytest.raises(InvalidMinutes):
        correct(minutes, item_id="i-99")

    assert minutes.collect_events() == []


def test_draft_minutes_are_amended_not_corrected():
    minutes = given_draft()

    with pytest.raises(MinutesStateConflict) as raised:
        correct(minutes)

    assert "amend" in raised.value.message
    assert minutes.collect_events() == []


def test_a_correction_is_made_by_the_approving_body():
    minutes, _ = given_approved()

    with pytest.raises(RulesBroken) as raised:
        correct(minutes, by_body="executive-committee")

    assert refusal(raised) == ("minutes", "8")
    assert minutes.collect_events() == []


def test_no_confidential_correction_where_the_tor_allows_no_confidential_minutes():
    minutes, _ = given_approved(NO_CONFIDENTIAL)

    with pytest.raises(RulesBroken) as raised:
        correct(minutes, NO_CONFIDENTIAL, confidential=True)

    assert refusal(raised) == ("minutes.confidential_allowed", "8")
    assert minutes.collect_events() == []


# --------------------------------------------------------------------------- action items


def raise_action(**changes: Any) -> ActionItem:
    facts: dict[str, Any] = {
        "action_id": "a-1",
        "minutes_id": str(Minutes.create_id(MEETING_ID)),
        "meeting_id": MEETING_ID,
        "item_id": "i-1",
        "description": "Write to the minister",
        "owner_kind": "member",
        "owner": "m-1",
        "due_on": date(2027, 1, 31),
        "confidential": False,
    }
    return ActionItem.raise_from_minutes(**{**facts, **changes})


def given_action() -> ActionItem:
    item = raise_action()
    item.collect_events()
    return item


def test_an_action_item_is_raised_from_approved_minutes():
    item = raise_action()

    events = item.collect_events()
    assert [type(e) for e in events] == [ActionItem.Raised]
    assert events[0].owner == "m-1"
    assert events[0].due_on == date(2027, 1, 31)
    assert item.status == OPEN
    assert item.due_on == date(2027, 1, 31)


def test_an_action_items_id_comes_from_its_minutes_and_action():
    minutes_id = str(Minutes.create_id(MEETING_ID))

    assert raise_action().id == ActionItem.create_id(minutes_id, "a-1")
    assert ActionItem.create_id(minutes_id, "a-1") == ActionItem.create_id(minutes_id, "a-1")
    assert ActionItem.create_id(minutes_id, "a-1") != ActionItem.create_id(minutes_id, "a-2")
    assert ActionItem.create_id(minutes_id, "a-1") != ActionItem.create_id("other", "a-1")


def test_progress_is_noted_on_an_open_action_item():
    item = given_action()

    item.note_progress(note="letter drafted", today=TODAY, by="key:member")

    events = item.collect_events()
    assert [type(e) for e in events] == [ActionItem.ProgressNoted]
    assert events[0].note == "letter drafted"
    assert events[0].noted_on == TODAY
    assert item.status == OPEN


def test_an_action_item_is_completed():
    item = given_action()

    item.complete(note="letter sent", today=TODAY, by="key:member")

    events = item.collect_events()
    assert [type(e) for e in events] == [ActionItem.Completed]
    assert events[0].completed_on == TODAY
    assert item.status == DONE


@pytest.mark.parametrize("act", ["note-progress", "complete"])
def test_a_completed_action_item_takes_no_more_progress(act):
    item = given_action()
    item.complete(note="done", today=TODAY, by="k")
    item.collect_events()

    with pytest.raises(ActionItemStateConflict):
        if act == "note-progress":
            item.note_progress(note="more", today=TODAY, by="k")
        else:
            item.complete(note="again", today=TODAY, by="k")

    assert item.collect_events() == []
    assert item.status == DONE


# --------------------------------------------------------------------------- confidentiality policy


def test_the_roles_that_read_confidential_minutes_are_set_sorted_and_once_each():
    policy = ConfidentialityPolicy.first(
        "the-alliance", readers=["officer", "auditor", "officer", "tenant-admin"], by="key:admin"
    )

    events = policy.collect_events()
    assert [type(e) for e in events] == [ConfidentialityPolicy.Set]
    assert events[0].readers == ["auditor", "officer", "tenant-admin"]
    assert policy.readers == ["auditor", "officer", "tenant-admin"]
    assert policy.id == ConfidentialityPolicy.create_id("the-alliance")


def test_the_default_readers_are_those_who_run_the_alliance():
    assert sorted(DEFAULT_READERS) == ["officer", "tenant-admin"]


def test_the_readers_are_changed():
    policy = ConfidentialityPolicy.first("the-alliance", readers=list(DEFAULT_READERS), by="k")
    policy.collect_events()

    policy.change(readers=["tenant-admin", "member", "member"], by="key:admin")

    events = policy.collect_events()
    assert [type(e) for e in events] == [ConfidentialityPolicy.Changed]
    assert events[0].readers == ["member", "tenant-admin"]
    assert policy.readers == ["member", "tenant-admin"]


@pytest.mark.parametrize("role", ["treasurer", "platform-admin", "Officer"])
def test_only_a_role_of_the_alliance_may_read_confidential_minutes(role):
    with pytest.raises(UnknownRole):
        ConfidentialityPolicy.first("the-alliance", readers=["officer", role], by="k")

    policy = ConfidentialityPolicy.first("the-alliance", readers=["officer"], by="k")
    policy.collect_events()
    with pytest.raises(UnknownRole):
        policy.change(readers=[role], by="k")

    assert policy.collect_events() == []
    assert policy.readers == ["officer"]


# --------------------------------------------------------------------------- replay


class Store(Application):
    """An in-memory store that keeps days as the alliance store does."""

    def register_transcodings(self, transcoder):
        super().register_transcodings(transcoder)
        transcoder.register(DateAsISO())


def test_replaying_minutes_their_actions_and_the_policy_rebuilds_the_same_state():
    store = Store(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    minutes = draft(items=(public_item(actions=(action(),)),))
    minutes.amend(
        items=[public_item(actions=(action(),)), secret_item()],
        confidential=False,
        confidential_reason=None,
        by="k",
        terms=KCA,
    )
    approve(minutes)
    minutes.publish(today=TODAY, by="k")
    correct(minutes, item_id="i-2", text=CANARY, confidential=True)
    item = raise_action()
    item.note_progress(note="drafted", today=TODAY, by="k")
    item.complete(note="sent", today=TODAY, by="k")
    policy = ConfidentialityPolicy.first("the-alliance", readers=["officer"], by="k")
    policy.change(readers=["auditor", "officer"], by="k")
    store.save(minutes, item, policy)

    replayed = store.repository.get(minutes.id)
    replayed_item = store.repository.get(item.id)
    replayed_policy = store.repository.get(policy.id)

    assert vars(replayed) == vars(minutes)
    assert replayed.status == APPROVED and replayed.published is True
    assert replayed.items == [public_item(actions=(action(),)), secret_item()]
    assert replayed.public_version() == minutes.public_version()
    assert vars(replayed_item) == vars(item)
    assert replayed_item.status == DONE
    assert vars(replayed_policy) == vars(policy)
    assert replayed_policy.readers == ["auditor", "officer"]
