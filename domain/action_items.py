"""Action items agreed at meetings: raised when the minutes that record them are approved,
then progressed and completed by their owner (a member organisation, an office or a body).

An action from a confidential item is itself confidential: its description and progress
notes are shown only to those the alliance lets read confidential minutes.
"""

from __future__ import annotations

from datetime import date
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.errors import ActionItemStateConflict
from domain.values import natural_id

OPEN, DONE = "open", "done"


class ActionItem(Aggregate):
    """One action: who owns it, when it is due, how it is going."""

    class Raised(Aggregate.Created):
        action_id: str
        minutes_id: str
        meeting_id: str
        item_id: str
        description: str
        owner_kind: str
        owner: str
        due_on: date
        confidential: bool

    class ProgressNoted(Aggregate.Event):
        note: str
        noted_on: date
        by: str

    class Completed(Aggregate.Event):
        note: str
        completed_on: date
        by: str

    @staticmethod
    def create_id(minutes_id: str, action_id: str) -> UUID:
        return natural_id("action-item", f"{minutes_id}/{action_id}")

    @classmethod
    def raise_from_minutes(
        cls,
        *,
        action_id: str,
        minutes_id: str,
        meeting_id: str,
        item_id: str,
        description: str,
        owner_kind: str,
        owner: str,
        due_on: date,
        confidential: bool,
    ) -> ActionItem:
        return cls(
            action_id=action_id,
            minutes_id=minutes_id,
            meeting_id=meeting_id,
            item_id=item_id,
            description=description,
            owner_kind=owner_kind,
            owner=owner,
            due_on=due_on,
            confidential=confidential,
        )

    @event(Raised)
    def __init__(
        self,
        action_id: str,
        minutes_id: str,
        meeting_id: str,
        item_id: str,
        description: str,
        owner_kind: str,
        owner: str,
        due_on: date,
        confidential: bool,
    ) -> None:
        self.due_on = due_on
        self.status = OPEN

    def _must_be_open(self) -> None:
        if self.status != OPEN:
            raise ActionItemStateConflict("this action item is done; it takes no more progress")

    def note_progress(self, *, note: str, today: date, by: str) -> None:
        self._must_be_open()
        self._note_progress(note=note, noted_on=today, by=by)

    @event(ProgressNoted)
    def _note_progress(self, note: str, noted_on: date, by: str) -> None:
        pass

    def complete(self, *, note: str, today: date, by: str) -> None:
        self._must_be_open()
        self._complete(note=note, completed_on=today, by=by)

    @event(Completed)
    def _complete(self, note: str, completed_on: date, by: str) -> None:
        self.status = DONE
