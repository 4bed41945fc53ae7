"""Minutes of a held meeting: drafted, amended while draft, approved by the body the ToR
names (then locked for ever), published, and corrected only by new, visible events.

Every item is public or confidential, and whole minutes may be confidential. When minutes
are approved, each item gets a hash commitment: SHA-256 over a random salt and the item's
canonical JSON. The public version shows a confidential item only as a notice and its
commitment, so an auditor who is given the item and its salt (both kept in the
alliance's own record) can prove it is exactly what was approved — and nobody can test
guesses of the text against the public commitment without the salt.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any, Literal
from uuid import NAMESPACE_URL, UUID, uuid5

import msgspec
from eventsourcing.domain import Aggregate, event

from domain.errors import DomainError, MinutesStateConflict, RulesBroken
from domain.privacy import ERASED, is_erased
from domain.rule_checks import (
    check_action_owner,
    check_confidential_minutes,
    check_minutes_approval,
)
from domain.terms import Version
from domain.values import natural_id

DRAFT, APPROVED = "draft", "approved"
CONFIDENTIAL_NOTICE = "This item is confidential. Its text is kept by the alliance."
WHOLE_CONFIDENTIAL_NOTICE = "These minutes are confidential. Their text is kept by the alliance."
COMMITMENT_DOMAIN = b"concord/minutes/v1\n"

OwnerKind = Literal["member", "office", "body"]
#: How an item's text mentions the people it names: {1} is the first of its `people`.
MENTION = re.compile(r"\{(\d+)\}")


class Action(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """An action agreed at the meeting: who owns it and when it is due."""

    action_id: str
    description: str
    owner_kind: OwnerKind
    owner: str
    due_on: date


class NamedPerson(
    msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, omit_defaults=True
):
    """A person an item names (personal data: sealed in the record, erasable)."""

    name: str | None = None
    email: str | None = None
    #: True once the person's data has been erased: name and email are gone.
    erased: bool = False


class Item(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One item of the minutes: its text, the decisions taken and the actions agreed."""

    item_id: str
    title: str
    text: str
    decisions: tuple[str, ...] = ()
    actions: tuple[Action, ...] = ()
    confidential: bool = False
    #: The people the text names, mentioned in it as {1}, {2}... in this order.
    people: tuple[NamedPerson, ...] = ()


class InvalidMinutes(DomainError):
    """The minutes contradict themselves (e.g. two items with one id)."""

    code = "invalid-minutes"


def item_data(item: Item) -> dict[str, Any]:
    """An item as the record keeps it. An item that names no people is kept (and committed
    to) exactly as before items could name people."""
    data: dict[str, Any] = msgspec.to_builtins(item)
    if not item.people:
        del data["people"]
    return data


def canonical(value: Any) -> bytes:
    """The one byte form a commitment is computed over: JSON with sorted keys."""
    data = item_data(value) if isinstance(value, Item) else msgspec.to_builtins(value)
    return msgspec.json.encode(data, order="sorted")


def rendered(text: str, people: Sequence[Mapping[str, Any]]) -> str:
    """The text with each mention ({1}, {2}...) replaced by the person's name, or by
    "[erased]" once the person's data has been erased."""

    def name(mention: re.Match[str]) -> str:
        number = int(mention.group(1))
        if not 1 <= number <= len(people):
            return mention.group(0)
        person = people[number - 1]
        found = person.get("name")
        return found if isinstance(found, str) and not is_erased(person) else ERASED

    return MENTION.sub(name, text)


def readable_item(item: dict[str, Any], *, with_emails: bool = True) -> dict[str, Any]:
    """An item as reads show it: mentions rendered in `text`, the text as written (with
    its mentions) in `text_as_written`, and the people named (emails only if asked)."""
    people = item.get("people")
    if not people:
        return item
    shown = {**item, "text": rendered(item["text"], people), "text_as_written": item["text"]}
    return shown if with_emails else without_emails(shown)


def without_emails(item: dict[str, Any]) -> dict[str, Any]:
    """An item as those who may not contact the people it names see it."""
    people = item.get("people")
    if not people:
        return item
    return {**item, "people": [{k: v for k, v in p.items() if k != "email"} for p in people]}


def commitment(salt: str, value: Any) -> str:
    """SHA-256 (hex) over the domain tag, the salt (hex) and the value's canonical JSON."""
    return hashlib.sha256(COMMITMENT_DOMAIN + bytes.fromhex(salt) + canonical(value)).hexdigest()


def withheld_item(position: int, commitment: str | None) -> dict[str, Any]:
    """A confidential item as those who may not read it see it: where it stands, a notice
    and its commitment — not even the minute-taker's id for it, which may say too much."""
    return {
        "item_id": None,
        "position": position,
        "confidential": True,
        "notice": CONFIDENTIAL_NOTICE,
        "commitment": commitment,
    }


def items_from_data(data: list[dict[str, Any]]) -> list[Item]:
    return msgspec.convert(data, list[Item])


class Minutes(Aggregate):
    """The minutes of one meeting (one set per meeting: the id comes from the meeting's)."""

    class Drafted(Aggregate.Created):
        meeting_id: str
        body: str
        meeting_date: date
        confidential: bool
        confidential_reason: str | None
        items: list[dict[str, Any]]
        by: str
        under_version: int

    class Amended(Aggregate.Event):
        confidential: bool
        confidential_reason: str | None
        items: list[dict[str, Any]]
        by: str
        under_version: int

    class Approved(Aggregate.Event):
        by_body: str
        #: The held meeting of that body that approved them (normally the next one).
        at_meeting_id: str | None
        decision_ref: str | None
        approved_on: date
        by: str
        #: item id -> salt (hex); kept in the alliance's record, never published.
        salts: dict[str, str]
        #: item id -> commitment (hex), in the order of the items.
        commitments: dict[str, str]
        #: SHA-256 over the meeting id, the confidentiality and the commitments in order.
        digest: str
        under_version: int

    class Published(Aggregate.Event):
        #: The public version: confidential text replaced by notices and commitments.
        public: dict[str, Any]
        published_on: date
        by: str

    class Corrected(Aggregate.Event):
        correction_id: str
        item_id: str | None
        text: str
        confidential: bool
        salt: str
        commitment: str
        #: What the public version shows of this correction.
        public: dict[str, Any]
        reason: str
        by_body: str
        decision_ref: str
        corrected_on: date
        by: str
        under_version: int

    @staticmethod
    def create_id(meeting_id: str) -> UUID:
        return natural_id("minutes", meeting_id)

    @classmethod
    def draft(
        cls,
        *,
        meeting_id: str,
        body: str,
        meeting_date: date,
        items: list[Item],
        confidential: bool,
        confidential_reason: str | None,
        by: str,
        terms: Version,
    ) -> Minutes:
        _check_content(terms, items, confidential, meeting_date)
        return cls(
            meeting_id=meeting_id,
            body=body,
            meeting_date=meeting_date,
            confidential=confidential,
            confidential_reason=confidential_reason,
            items=[item_data(i) for i in items],
            by=by,
            under_version=terms.number,
        )

    @event(Drafted)
    def __init__(
        self,
        meeting_id: str,
        body: str,
        meeting_date: date,
        confidential: bool,
        confidential_reason: str | None,
        items: list[dict[str, Any]],
        by: str,
        under_version: int,
    ) -> None:
        self.meeting_id = meeting_id
        self.body = body
        self.meeting_date = meeting_date
        self.status = DRAFT
        self.published = False
        self.confidential = confidential
        self.confidential_reason = confidential_reason
        self.items = items_from_data(items)
        self.commitments: dict[str, str] = {}
        self.corrections: list[dict[str, Any]] = []

    def _must_be_draft(self, act: str) -> None:
        if self.status != DRAFT:
            raise MinutesStateConflict(
                f"these minutes were approved and are locked; they cannot {act}. "
                "Record a correction instead"
                if act == "be amended"
                else f"these minutes are already {self.status}; they cannot {act}"
            )

    def amend(
        self,
        *,
        items: list[Item],
        confidential: bool,
        confidential_reason: str | None,
        by: str,
        terms: Version,
    ) -> None:
        self._must_be_draft("be amended")
        _check_content(terms, items, confidential, self.meeting_date)
        self._amend(
            confidential=confidential,
            confidential_reason=confidential_reason,
            items=[item_data(i) for i in items],
            by=by,
            under_version=terms.number,
        )

    @event(Amended)
    def _amend(
        self,
        confidential: bool,
        confidential_reason: str | None,
        items: list[dict[str, Any]],
        by: str,
        under_version: int,
    ) -> None:
        self.confidential = confidential
        self.confidential_reason = confidential_reason
        self.items = items_from_data(items)

    def approve(
        self,
        *,
        by_body: str,
        at_meeting_id: str | None,
        decision_ref: str | None,
        today: date,
        by: str,
        terms: Version,
    ) -> None:
        """Approve (and so lock) the minutes, by the body the ToR names."""
        self._must_be_draft("be approved again")
        violations = check_minutes_approval(
            terms.rules, terms.clauses, meeting_body=self.body, by_body=by_body
        )
        if violations:
            raise RulesBroken(violations)
        salts = {item.item_id: secrets.token_hex(16) for item in self.items}
        commitments = {item.item_id: commitment(salts[item.item_id], item) for item in self.items}
        self._approve(
            by_body=by_body,
            at_meeting_id=at_meeting_id,
            decision_ref=decision_ref,
            approved_on=today,
            by=by,
            salts=salts,
            commitments=commitments,
            digest=self._digest(commitments),
            under_version=terms.number,
        )

    def _digest(self, commitments: dict[str, str]) -> str:
        whole = {
            "meeting_id": self.meeting_id,
            "confidential": self.confidential,
            # Commitments only, in order: anyone can check the digest from the public
            # version, where confidential items show no id.
            "commitments": list(commitments.values()),
        }
        return hashlib.sha256(COMMITMENT_DOMAIN + canonical(whole)).hexdigest()

    @event(Approved)
    def _approve(
        self,
        by_body: str,
        at_meeting_id: str | None,
        decision_ref: str | None,
        approved_on: date,
        by: str,
        salts: dict[str, str],
        commitments: dict[str, str],
        digest: str,
        under_version: int,
    ) -> None:
        self.status = APPROVED
        self.commitments = commitments
        self.digest = digest

    def is_confidential(self, item: Item) -> bool:
        return self.confidential or item.confidential

    def public_version(self) -> dict[str, Any]:
        """What anyone may read: public items whole; confidential ones as a notice and
        the commitment an auditor can check the kept text against."""
        if self.status != APPROVED:
            raise MinutesStateConflict("draft minutes have no public version until approved")
        items: list[dict[str, Any]] = []
        for position, item in enumerate(self.items, start=1):
            if self.is_confidential(item):
                items.append(withheld_item(position, self.commitments[item.item_id]))
            else:
                items.append(
                    {
                        **item_data(item),
                        "position": position,
                        "confidential": False,
                        "commitment": self.commitments[item.item_id],
                    }
                )
        return {
            "meeting_id": self.meeting_id,
            "body": self.body,
            "meeting_date": self.meeting_date.isoformat(),
            "confidential": self.confidential,
            "notice": WHOLE_CONFIDENTIAL_NOTICE if self.confidential else None,
            "confidential_reason": self.confidential_reason if self.confidential else None,
            "digest": self.digest,
            "items": items,
            "corrections": [c["public"] for c in self.corrections],
        }

    def publish(self, *, today: date, by: str) -> None:
        if self.status != APPROVED:
            raise MinutesStateConflict(
                "these minutes are still a draft: only approved minutes are published"
            )
        if self.published:
            raise MinutesStateConflict("these minutes are already published")
        self._publish(public=self.public_version(), published_on=today, by=by)

    @event(Published)
    def _publish(self, public: dict[str, Any], published_on: date, by: str) -> None:
        self.published = True

    def correct(
        self,
        *,
        item_id: str | None,
        text: str,
        confidential: bool,
        reason: str,
        by_body: str,
        decision_ref: str,
        today: date,
        by: str,
        terms: Version,
    ) -> str:
        """Correct approved minutes: the approved text stays, the correction is added."""
        if self.status != APPROVED:
            raise MinutesStateConflict(
                "these minutes are still a draft: amend them instead of correcting them"
            )
        if item_id is not None and item_id not in {i.item_id for i in self.items}:
            raise InvalidMinutes(f"these minutes have no item {item_id!r}")
        violations = check_minutes_approval(
            terms.rules, terms.clauses, meeting_body=self.body, by_body=by_body
        ) + check_confidential_minutes(terms.rules, terms.clauses, confidential=confidential)
        if violations:
            raise RulesBroken(violations)
        correction_id = uuid5(NAMESPACE_URL, f"{self.id}/{len(self.corrections)}").hex[:12]
        salt = secrets.token_hex(16)
        kept = {"correction_id": correction_id, "item_id": item_id, "text": text}
        corrected = next((i for i in self.items if i.item_id == item_id), None)
        # A correction is as confidential as what it corrects, whatever the request says.
        hidden = confidential or self.confidential or bool(corrected and corrected.confidential)
        digest = commitment(salt, kept)
        public = {
            "correction_id": correction_id,
            "item_id": None if hidden else item_id,
            "confidential": hidden,
            "text": None if hidden else text,
            "notice": CONFIDENTIAL_NOTICE if hidden else None,
            "reason": None if hidden else reason,
            "corrected_on": today.isoformat(),
            "commitment": digest,
        }
        self._correct(
            correction_id=correction_id,
            item_id=item_id,
            text=text,
            confidential=hidden,
            salt=salt,
            commitment=digest,
            public=public,
            reason=reason,
            by_body=by_body,
            decision_ref=decision_ref,
            corrected_on=today,
            by=by,
            under_version=terms.number,
        )
        return correction_id

    @event(Corrected)
    def _correct(
        self,
        correction_id: str,
        item_id: str | None,
        text: str,
        confidential: bool,
        salt: str,
        commitment: str,
        public: dict[str, Any],
        reason: str,
        by_body: str,
        decision_ref: str,
        corrected_on: date,
        by: str,
        under_version: int,
    ) -> None:
        self.corrections.append({"correction_id": correction_id, "public": public})


def _check_content(
    terms: Version, items: list[Item], confidential: bool, meeting_date: date
) -> None:
    ids = [item.item_id for item in items]
    if len(set(ids)) != len(ids):
        raise InvalidMinutes("two items of the minutes have the same item_id")
    for item in items:
        _check_mentions(item)
    action_ids = [a.action_id for item in items for a in item.actions]
    if len(set(action_ids)) != len(action_ids):
        raise InvalidMinutes("two actions of the minutes have the same action_id")
    early = [a for item in items for a in item.actions if a.due_on < meeting_date]
    if early:
        raise InvalidMinutes(
            f"action {early[0].action_id!r} is due on {early[0].due_on.isoformat()}, before the "
            f"meeting that agreed it ({meeting_date.isoformat()})"
        )
    any_confidential = confidential or any(item.confidential for item in items)
    violations = check_confidential_minutes(
        terms.rules, terms.clauses, confidential=any_confidential
    )
    for item in items:
        for action in item.actions:
            violations += check_action_owner(
                terms.rules, terms.clauses, owner_kind=action.owner_kind, owner=action.owner
            )
    if violations:
        raise RulesBroken(violations)


def _check_mentions(item: Item) -> None:
    """Every mention in an item's text is of a person the item names."""
    if not item.people:
        return  # an item naming no people keeps its text as written, braces and all
    if any(p.erased or not p.name for p in item.people):
        raise InvalidMinutes(f"item {item.item_id!r}: each person it names needs a name")
    mentioned = {int(m) for m in MENTION.findall(item.text)}
    beyond = sorted(n for n in mentioned if not 1 <= n <= len(item.people))
    if beyond:
        raise InvalidMinutes(
            f"item {item.item_id!r} mentions {{{beyond[0]}}} but names only "
            f"{len(item.people)} people: mention them as {{1}} to {{{len(item.people)}}}"
        )


# Build msgspec's conversion plan at import, not racing on first use (see domain/rules.py).
msgspec.json.Decoder(list[Item])
