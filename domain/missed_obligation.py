"""A missed obligation, recorded once: the alliance's own log says which duty of its ToR
went unmet, when it was due and under which clause.

Its id is derived from the obligation's stable key (domain/obligations.py), so recording
the same miss twice — two sweeps at once, a repeated message — is refused by the store,
never written twice. Titles are built from ToR names and dates only: no personal data, no
confidential text.
"""

from __future__ import annotations

from datetime import date
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.obligations import Obligation
from domain.values import natural_id


class MissedObligation(Aggregate):
    """One obligation whose due date passed unmet."""

    class Recorded(Aggregate.Created):
        key: str
        kind: str
        title: str
        window_start: date
        due_on: date
        owner: dict[str, str]
        rule: str | None
        clause: str | None
        under_version: int | None
        noticed_on: date

    @staticmethod
    def create_id(key: str) -> UUID:
        return natural_id("obligation-missed", key)

    @classmethod
    def record(cls, obligation: Obligation, *, noticed_on: date) -> MissedObligation:
        if obligation.state != "missed":
            raise ValueError(f"obligation {obligation.key} is {obligation.state}, not missed")
        return cls(
            key=obligation.key,
            kind=obligation.kind,
            title=obligation.title,
            window_start=obligation.window_start,
            due_on=obligation.due_on,
            owner=dict(obligation.owner),
            rule=obligation.rule,
            clause=obligation.clause,
            under_version=obligation.under_version,
            noticed_on=noticed_on,
        )

    @event(Recorded)
    def __init__(
        self,
        key: str,
        kind: str,
        title: str,
        window_start: date,
        due_on: date,
        owner: dict[str, str],
        rule: str | None,
        clause: str | None,
        under_version: int | None,
        noticed_on: date,
    ) -> None:
        self.key = key
        self.kind = kind
        self.title = title
        self.due_on = due_on
        self.noticed_on = noticed_on
