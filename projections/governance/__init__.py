"""The governance facts no other read model keeps: each ToR review, each election's
opening and close, each membership application's submission and close, the obligations
recorded as missed, and the alliance's last activity.

Ids and dates only — no names, no text — so the obligations calendar and the health
indicators (services/obligations.py) can be computed from them and shown to the national
umbrella without carrying anything confidential.
"""

from __future__ import annotations

from typing import Any

from domain.elections import Election
from domain.membership import MembershipApplication
from domain.missed_obligation import MissedObligation
from domain.reminders import Reminder
from domain.terms import TermsOfReference
from infra.stores import Sql
from projections.base import Projection, on

#: What the platform records in an alliance's log about it (misses it noticed, reminders
#: it sent): not the alliance's own activity.
PLATFORM_RECORDS: tuple[type, ...] = (
    MissedObligation.Recorded,
    Reminder.Queued,
    Reminder.AttemptStarted,
    Reminder.Delivered,
    Reminder.Failed,
)


class GovernanceFacts(Projection):
    name = "governance_facts"
    tables = {
        "gov_reviews": (
            "CREATE TABLE IF NOT EXISTS gov_reviews ("
            " review_id TEXT PRIMARY KEY,"
            " opened_on TEXT NOT NULL,"
            " concluded_on TEXT)"
        ),
        "gov_elections": (
            "CREATE TABLE IF NOT EXISTS gov_elections ("
            " election_id TEXT PRIMARY KEY,"
            " office TEXT NOT NULL,"
            " opened_on TEXT NOT NULL,"
            " closed_on TEXT)"
        ),
        "gov_applications": (
            "CREATE TABLE IF NOT EXISTS gov_applications ("
            " application_id TEXT PRIMARY KEY,"
            " submitted_on TEXT NOT NULL,"
            " closed_on TEXT)"
        ),
        "gov_missed": (
            "CREATE TABLE IF NOT EXISTS gov_missed ("
            " obligation_key TEXT PRIMARY KEY,"
            " kind TEXT NOT NULL,"
            " due_on TEXT NOT NULL,"
            " noticed_on TEXT NOT NULL,"
            " position BIGINT NOT NULL)"
        ),
        "gov_activity": (
            "CREATE TABLE IF NOT EXISTS gov_activity ("
            " id INTEGER PRIMARY KEY,"
            " last_event_at TEXT NOT NULL,"
            " position BIGINT NOT NULL)"
        ),
    }

    def apply(self, sql: Sql, event: Any, position: int) -> None:
        super().apply(sql, event, position)
        if isinstance(event, PLATFORM_RECORDS):
            return  # the platform's records about the alliance are not its activity
        sql.execute(
            "INSERT INTO gov_activity (id, last_event_at, position) VALUES (1, ?, ?)"
            " ON CONFLICT (id) DO UPDATE SET last_event_at = excluded.last_event_at,"
            " position = excluded.position",
            (event.timestamp.isoformat(), position),
        )

    @on(TermsOfReference.ReviewOpened)
    def review_opened(self, sql: Sql, event: Any, position: int) -> None:
        sql.execute(
            "INSERT INTO gov_reviews (review_id, opened_on) VALUES (?, ?)",
            (f"review-{position}", event.timestamp.date().isoformat()),
        )

    @on(TermsOfReference.ReviewConcluded)
    def review_concluded(self, sql: Sql, event: Any, position: int) -> None:
        sql.execute(
            "UPDATE gov_reviews SET concluded_on = ? WHERE concluded_on IS NULL",
            (event.timestamp.date().isoformat(),),
        )

    @on(Election.Opened)
    def election_opened(self, sql: Sql, event: Any, position: int) -> None:
        sql.execute(
            "INSERT INTO gov_elections (election_id, office, opened_on) VALUES (?, ?, ?)",
            (str(event.originator_id), event.office, event.timestamp.date().isoformat()),
        )

    @on(Election.Closed)
    def election_closed(self, sql: Sql, event: Any, position: int) -> None:
        sql.execute(
            "UPDATE gov_elections SET closed_on = ? WHERE election_id = ?",
            (event.timestamp.date().isoformat(), str(event.originator_id)),
        )

    @on(MembershipApplication.Submitted)
    def application_submitted(self, sql: Sql, event: Any, position: int) -> None:
        sql.execute(
            "INSERT INTO gov_applications (application_id, submitted_on) VALUES (?, ?)",
            (str(event.originator_id), event.timestamp.date().isoformat()),
        )

    @on(MembershipApplication.Decided, MembershipApplication.Withdrawn)
    def application_closed(self, sql: Sql, event: Any, position: int) -> None:
        sql.execute(
            "UPDATE gov_applications SET closed_on = ? WHERE application_id = ?",
            (event.timestamp.date().isoformat(), str(event.originator_id)),
        )

    @on(MissedObligation.Recorded)
    def missed(self, sql: Sql, event: Any, position: int) -> None:
        sql.execute(
            "INSERT INTO gov_missed (obligation_key, kind, due_on, noticed_on, position)"
            " VALUES (?, ?, ?, ?, ?)",
            (
                event.key,
                event.kind,
                event.due_on.isoformat(),
                event.noticed_on.isoformat(),
                position,
            ),
        )


def reviews(sql: Sql) -> list[dict[str, Any]]:
    return sql.all("SELECT review_id, opened_on, concluded_on FROM gov_reviews ORDER BY opened_on")


def elections(sql: Sql) -> list[dict[str, Any]]:
    return sql.all(
        "SELECT election_id, office, opened_on, closed_on FROM gov_elections ORDER BY opened_on"
    )


def open_applications(sql: Sql) -> list[str]:
    """The submission days of applications still waiting for a decision."""
    return [
        row["submitted_on"]
        for row in sql.all("SELECT submitted_on FROM gov_applications WHERE closed_on IS NULL")
    ]


def missed_keys(sql: Sql) -> set[str]:
    return {row["obligation_key"] for row in sql.all("SELECT obligation_key FROM gov_missed")}


def missed(sql: Sql) -> list[dict[str, Any]]:
    return sql.all(
        "SELECT obligation_key, kind, due_on, noticed_on FROM gov_missed"
        " ORDER BY due_on, obligation_key"
    )


def last_activity(sql: Sql) -> str | None:
    row = sql.one("SELECT last_event_at FROM gov_activity WHERE id = 1")
    return None if row is None else str(row["last_event_at"])
