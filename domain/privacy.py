"""Data-subject requests (UK GDPR): erasure of a person's data, and the retention holds
that can stand in its way.

People are named here only by their *subject reference*: a keyed hash (HMAC-SHA256 under a
secret of the alliance) of the person's normalised email or name. So this record, which is
kept for ever, holds no personal data in the clear: it says that a person was erased (or
held), when, by whom and why, but not who, to anyone without the alliance's secret.

Personal data itself lives in each event's `person` field (and in the `people` of minutes
items), sealed under a key of that person's. Erasing deletes the key; an event whose key is
gone shows its person as `{"erased": true}`. `shown` is how every read names such a person.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from uuid import UUID, uuid4

from eventsourcing.domain import Aggregate, event

from domain.errors import DomainError, StateConflict
from domain.rule_checks import Violation
from domain.values import natural_id

#: How a read shows a name or an email that has been erased.
ERASED = "[erased]"
#: Why a hold can refuse an erasure: the right to erasure does not apply while the data are
#: needed for a legal obligation or for legal claims (safeguarding records, a court case).
HOLD_RULE = "UK GDPR Article 17(3)"
REQUESTED, REFUSED, COMPLETED = "requested", "refused", "completed"
REASON_LIMIT = 500


def is_erased(person: Mapping[str, Any] | None) -> bool:
    """Whether this person's data has been erased (their key is gone)."""
    return person is not None and person.get("erased") is True


def shown(person: Mapping[str, Any], field: str) -> str | None:
    """A field of a person as a read shows it: "[erased]" once the person is erased."""
    if is_erased(person):
        return ERASED
    value = person.get(field)
    return value if isinstance(value, str) else None


class InvalidPrivacyRequest(DomainError):
    """A data-subject request or retention hold is incomplete or contradicts itself."""

    code = "invalid-privacy-request"


class ErasureHeld(StateConflict):
    """A retention hold covers this person: their data may not be erased while it applies."""

    code = "erasure-held"

    def __init__(self, holds: list[Hold]) -> None:
        listed = "; ".join(h.describe() for h in holds)
        super().__init__(
            f"erasure refused under {HOLD_RULE}: the retention hold(s) {listed} cover this "
            "person. The request and its refusal are recorded; lift the hold to erase"
        )
        self.violations = tuple(
            Violation(rule=f"retention-holds.{h.hold_id}", clause=None, message=h.describe())
            for h in holds
        )


class HoldNotActive(StateConflict):
    """A retention hold that was lifted, or has run out, cannot be lifted again."""

    code = "hold-not-active"


class ErasureNotPending(StateConflict):
    """Only an erasure that was requested, and neither refused nor completed, completes."""

    code = "erasure-not-pending"


@dataclass
class Erasure:
    """One request to erase a person's data, and what became of it."""

    request_id: str
    subject_refs: tuple[str, ...]
    reason: str
    requested_by: str
    requested_at: datetime
    status: str = REQUESTED
    hold_ids: tuple[str, ...] = ()
    keys_destroyed: int | None = None
    fields_left: int | None = None
    decided_at: datetime | None = None


@dataclass
class Hold:
    """A retention hold: this person's data must be kept (e.g. for safeguarding)."""

    hold_id: str
    subject_refs: tuple[str, ...]
    reason: str
    #: The last day it applies (None: until lifted).
    until: date | None
    placed_by: str
    placed_at: datetime
    lifted: dict[str, Any] | None = field(default=None)

    def active_on(self, day: date) -> bool:
        return self.lifted is None and (self.until is None or day <= self.until)

    def covers(self, subject_refs: Collection[str]) -> bool:
        return not set(self.subject_refs).isdisjoint(subject_refs)

    def describe(self) -> str:
        until = f", until {self.until.isoformat()}" if self.until else ""
        return f"{self.hold_id} ({self.reason}{until})"


def _checked_reason(reason: str, what: str) -> str:
    text = reason.strip()
    if not text:
        raise InvalidPrivacyRequest(f"{what} needs a reason")
    if len(text) > REASON_LIMIT:
        raise InvalidPrivacyRequest(f"{what}'s reason is at most {REASON_LIMIT} characters")
    return text


def _checked_refs(subject_refs: Collection[str]) -> list[str]:
    refs = sorted(set(subject_refs))
    if not refs or any(not r for r in refs):
        raise InvalidPrivacyRequest("a data-subject request names its subject (a subject ref)")
    return refs


class DataSubjectRequests(Aggregate):
    """The alliance's register of erasure requests and retention holds (one per alliance)."""

    class Opened(Aggregate.Created):
        alliance: str

    class ErasureRequested(Aggregate.Event):
        request_id: str
        #: Pseudonyms (keyed hashes) of the person: never a name or an email.
        subject_refs: list[str]
        reason: str
        requested_by: str
        requested_at: datetime

    class ErasureRefused(Aggregate.Event):
        request_id: str
        hold_ids: list[str]
        #: The rule the refusal rests on.
        rule: str
        refused_at: datetime

    class ErasureCompleted(Aggregate.Event):
        request_id: str
        keys_destroyed: int
        #: Fields that name the person but no key of theirs erases: recorded before
        #: personal data was sealed, or sealed under another person's key (a signatory
        #: named in an individual's own application).
        fields_left: int
        completed_by: str
        completed_at: datetime

    class RetentionHoldPlaced(Aggregate.Event):
        hold_id: str
        subject_refs: list[str]
        reason: str
        until: date | None
        placed_by: str
        placed_at: datetime

    class RetentionHoldLifted(Aggregate.Event):
        hold_id: str
        reason: str
        lifted_by: str
        lifted_at: datetime

    @staticmethod
    def create_id(alliance: str) -> UUID:
        return natural_id("data-subject-requests", alliance)

    @classmethod
    def open(cls, alliance: str) -> DataSubjectRequests:
        return cls(alliance=alliance)

    @event(Opened)
    def __init__(self, alliance: str) -> None:
        self.alliance = alliance
        self.erasures: dict[str, Erasure] = {}
        self.holds: dict[str, Hold] = {}

    # ------------------------------------------------------------------ reads

    def holds_covering(self, subject_refs: Collection[str], day: date) -> list[Hold]:
        """The holds in force on this day over any of these subject refs."""
        return [h for h in self.holds.values() if h.active_on(day) and h.covers(subject_refs)]

    def pending_erasure(self, subject_refs: Collection[str]) -> Erasure | None:
        """An erasure of this subject that was requested but not yet completed (its keys
        may already be gone: asking again finishes it)."""
        return next(
            (
                e
                for e in self.erasures.values()
                if e.status == REQUESTED and not set(e.subject_refs).isdisjoint(subject_refs)
            ),
            None,
        )

    # ------------------------------------------------------------------ erasure

    def request_erasure(
        self, *, subject_refs: Collection[str], reason: str, by: str, now: datetime
    ) -> str:
        """Record a request to erase a person's data; a retention hold in force over them
        refuses it at once, on the record. Returns the request's id."""
        refs = _checked_refs(subject_refs)
        text = _checked_reason(reason, "an erasure request")
        request_id = uuid4().hex[:12]
        self._request_erasure(
            request_id=request_id, subject_refs=refs, reason=text, requested_by=by, requested_at=now
        )
        holds = self.holds_covering(refs, now.date())
        if holds:
            self._refuse_erasure(
                request_id=request_id,
                hold_ids=[h.hold_id for h in holds],
                rule=HOLD_RULE,
                refused_at=now,
            )
        return request_id

    @event(ErasureRequested)
    def _request_erasure(
        self,
        request_id: str,
        subject_refs: list[str],
        reason: str,
        requested_by: str,
        requested_at: datetime,
    ) -> None:
        self.erasures[request_id] = Erasure(
            request_id=request_id,
            subject_refs=tuple(subject_refs),
            reason=reason,
            requested_by=requested_by,
            requested_at=requested_at,
        )

    @event(ErasureRefused)
    def _refuse_erasure(
        self, request_id: str, hold_ids: list[str], rule: str, refused_at: datetime
    ) -> None:
        erasure = self.erasures[request_id]
        erasure.status = REFUSED
        erasure.hold_ids = tuple(hold_ids)
        erasure.decided_at = refused_at

    def refusal(self, request_id: str) -> ErasureHeld | None:
        """The error a refused request answers with (None when it was not refused)."""
        erasure = self.erasures[request_id]
        if erasure.status != REFUSED:
            return None
        return ErasureHeld([self.holds[h] for h in erasure.hold_ids])

    def complete_erasure(
        self, request_id: str, *, keys_destroyed: int, fields_left: int, by: str, now: datetime
    ) -> None:
        """Record that the person's keys were destroyed (and their data with them)."""
        erasure = self.erasures.get(request_id)
        if erasure is None or erasure.status != REQUESTED:
            raise ErasureNotPending(
                f"erasure {request_id!r} is "
                f"{'unknown' if erasure is None else erasure.status}: it cannot complete"
            )
        if keys_destroyed < 0 or fields_left < 0:
            raise InvalidPrivacyRequest("counts of keys and fields are never negative")
        self._complete_erasure(
            request_id=request_id,
            keys_destroyed=keys_destroyed,
            fields_left=fields_left,
            completed_by=by,
            completed_at=now,
        )

    @event(ErasureCompleted)
    def _complete_erasure(
        self,
        request_id: str,
        keys_destroyed: int,
        fields_left: int,
        completed_by: str,
        completed_at: datetime,
    ) -> None:
        erasure = self.erasures[request_id]
        erasure.status = COMPLETED
        erasure.keys_destroyed = keys_destroyed
        erasure.fields_left = fields_left
        erasure.decided_at = completed_at

    # ------------------------------------------------------------------ holds

    def place_hold(
        self,
        *,
        subject_refs: Collection[str],
        reason: str,
        until: date | None,
        by: str,
        now: datetime,
    ) -> str:
        """Hold a person's data against erasure (until a day, or until lifted)."""
        refs = _checked_refs(subject_refs)
        text = _checked_reason(reason, "a retention hold")
        if until is not None and until < now.date():
            raise InvalidPrivacyRequest(
                f"a retention hold cannot end in the past ({until.isoformat()} is before "
                f"today, {now.date().isoformat()})"
            )
        hold_id = uuid4().hex[:12]
        self._place_hold(
            hold_id=hold_id,
            subject_refs=refs,
            reason=text,
            until=until,
            placed_by=by,
            placed_at=now,
        )
        return hold_id

    @event(RetentionHoldPlaced)
    def _place_hold(
        self,
        hold_id: str,
        subject_refs: list[str],
        reason: str,
        until: date | None,
        placed_by: str,
        placed_at: datetime,
    ) -> None:
        self.holds[hold_id] = Hold(
            hold_id=hold_id,
            subject_refs=tuple(subject_refs),
            reason=reason,
            until=until,
            placed_by=placed_by,
            placed_at=placed_at,
        )

    def lift_hold(self, hold_id: str, *, reason: str, by: str, now: datetime) -> None:
        """Lift a hold in force: an erasure asked for afterwards can proceed."""
        hold = self.holds.get(hold_id)
        if hold is None:
            raise InvalidPrivacyRequest(f"this alliance has no retention hold {hold_id!r}")
        if not hold.active_on(now.date()):
            state = "was lifted" if hold.lifted is not None else "has run out"
            raise HoldNotActive(f"retention hold {hold_id!r} {state}: it cannot be lifted")
        self._lift_hold(
            hold_id=hold_id,
            reason=_checked_reason(reason, "lifting a retention hold"),
            lifted_by=by,
            lifted_at=now,
        )

    @event(RetentionHoldLifted)
    def _lift_hold(self, hold_id: str, reason: str, lifted_by: str, lifted_at: datetime) -> None:
        self.holds[hold_id].lifted = {"reason": reason, "by": lifted_by, "at": lifted_at}
