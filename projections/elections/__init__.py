"""Elections: windows, candidates and their statements, turnout (who voted) and, once
closed, the result. Never a secret ballot's choices: only the counts per candidate."""

from __future__ import annotations

from typing import Any

import msgspec

from domain.elections import CANCELLED, CLOSED, NOMINATING, VOTING, Election
from domain.privacy import shown
from infra.stores import Sql
from projections.base import Projection, json_text, on

COLUMNS = (
    "election_id, seq, office, seats, status, secret_ballot, method, nominations_close,"
    " voting_opens, voting_closes, starts_on, electorate, turnout, result, cancelled_reason,"
    " opened_by, under_version"
)
CANDIDATE_COLUMNS = (
    "candidate_id, member_id, organisation, person_name, statement, withdrawn, votes, elected,"
    " seat_refused"
)


class ElectionsView(Projection):
    name = "elections"
    tables = {
        "elections": (
            "CREATE TABLE IF NOT EXISTS elections ("
            " election_id TEXT PRIMARY KEY,"
            " seq BIGINT NOT NULL UNIQUE,"
            " office TEXT NOT NULL,"
            " seats INTEGER NOT NULL,"
            " status TEXT NOT NULL,"
            " secret_ballot INTEGER NOT NULL,"
            " method TEXT NOT NULL,"
            " nominations_close TEXT NOT NULL,"
            " voting_opens TEXT NOT NULL,"
            " voting_closes TEXT NOT NULL,"
            " starts_on TEXT NOT NULL,"
            " electorate INTEGER,"
            " turnout INTEGER NOT NULL,"
            " result TEXT,"
            " cancelled_reason TEXT,"
            " opened_by TEXT NOT NULL,"
            " under_version INTEGER NOT NULL)"
        ),
        "election_candidates": (
            "CREATE TABLE IF NOT EXISTS election_candidates ("
            " election_id TEXT NOT NULL,"
            " candidate_id TEXT NOT NULL,"
            " seq BIGINT NOT NULL,"
            " member_id TEXT NOT NULL,"
            " organisation TEXT NOT NULL,"
            " person_name TEXT,"
            " statement TEXT NOT NULL,"
            " withdrawn INTEGER NOT NULL,"
            " votes INTEGER,"
            " elected INTEGER,"
            " seat_refused TEXT,"
            " PRIMARY KEY (election_id, candidate_id))"
        ),
        # Who voted. For an open election, also what (NULL for a secret ballot).
        "election_turnout": (
            "CREATE TABLE IF NOT EXISTS election_turnout ("
            " election_id TEXT NOT NULL,"
            " member_id TEXT NOT NULL,"
            " choices TEXT,"
            " PRIMARY KEY (election_id, member_id))"
        ),
    }

    @on(Election.Opened)
    def opened(self, sql: Sql, event: Any, position: int) -> None:
        sql.execute(
            "INSERT INTO elections (election_id, seq, office, seats, status, secret_ballot,"
            " method, nominations_close, voting_opens, voting_closes, starts_on, turnout,"
            " opened_by, under_version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                str(event.originator_id),
                position,
                event.office,
                event.seats,
                NOMINATING,
                int(event.secret_ballot),
                event.method,
                event.nominations_close.isoformat(),
                event.voting_opens.isoformat(),
                event.voting_closes.isoformat(),
                event.starts_on.isoformat(),
                0,
                event.by,
                event.under_version,
            ),
        )

    @on(Election.Nominated)
    def nominated(self, sql: Sql, event: Any, position: int) -> None:
        sql.execute(
            "INSERT INTO election_candidates (election_id, candidate_id, seq, member_id,"
            " organisation, person_name, statement, withdrawn) VALUES (?, ?, ?, ?, ?, ?, ?, 0)",
            (
                str(event.originator_id),
                event.candidate_id,
                position,
                event.member_id,
                event.organisation,
                shown(event.person, "name"),
                event.statement,
            ),
        )

    @on(Election.NominationWithdrawn)
    def nomination_withdrawn(self, sql: Sql, event: Any, position: int) -> None:
        sql.execute(
            "UPDATE election_candidates SET withdrawn = 1 WHERE election_id = ?"
            " AND candidate_id = ?",
            (str(event.originator_id), event.candidate_id),
        )

    @on(Election.VotingOpened)
    def voting_opened(self, sql: Sql, event: Any, position: int) -> None:
        sql.execute(
            "UPDATE elections SET status = ?, electorate = ? WHERE election_id = ?",
            (VOTING, len(event.electorate), str(event.originator_id)),
        )

    def _voted(self, sql: Sql, election_id: str, member_id: str, choices: str | None) -> None:
        sql.execute(
            "INSERT INTO election_turnout (election_id, member_id, choices) VALUES (?, ?, ?)",
            (election_id, member_id, choices),
        )
        sql.execute(
            "UPDATE elections SET turnout = turnout + 1 WHERE election_id = ?", (election_id,)
        )

    @on(Election.BallotCast)
    def ballot_cast(self, sql: Sql, event: Any, position: int) -> None:
        self._voted(sql, str(event.originator_id), event.member_id, None)

    @on(Election.VoteRecorded)
    def vote_recorded(self, sql: Sql, event: Any, position: int) -> None:
        self._voted(sql, str(event.originator_id), event.member_id, json_text(event.choices))

    @on(Election.Closed)
    def closed(self, sql: Sql, event: Any, position: int) -> None:
        election_id = str(event.originator_id)
        result = {
            "ballots": len(event.ballots),
            "blank": event.blank,
            "turnout": event.turnout,
            "electorate": event.electorate,
            "counts": event.counts,
            "elected": event.elected,
            "not_elected": event.not_elected,
            "seed": event.seed,
            "lot_nonce": event.lot_nonce,
            "lot": event.lot,
            "under_version": event.under_version,
            "position": position,
        }
        sql.execute(
            "UPDATE elections SET status = ?, result = ? WHERE election_id = ?",
            (CLOSED, json_text(result), election_id),
        )
        for candidate_id, votes in event.counts.items():
            sql.execute(
                "UPDATE election_candidates SET votes = ?, elected = ? WHERE election_id = ?"
                " AND candidate_id = ?",
                (votes, int(candidate_id in event.elected), election_id, candidate_id),
            )

    @on(Election.TakingOfficeRefused)
    def taking_office_refused(self, sql: Sql, event: Any, position: int) -> None:
        sql.execute(
            "UPDATE election_candidates SET seat_refused = ? WHERE election_id = ?"
            " AND candidate_id = ?",
            (event.message, str(event.originator_id), event.candidate_id),
        )

    @on(Election.Cancelled)
    def cancelled(self, sql: Sql, event: Any, position: int) -> None:
        sql.execute(
            "UPDATE elections SET status = ?, cancelled_reason = ? WHERE election_id = ?",
            (CANCELLED, event.reason, str(event.originator_id)),
        )


def _row(row: dict[str, Any]) -> dict[str, Any]:
    row["secret_ballot"] = bool(row["secret_ballot"])
    row["result"] = None if row["result"] is None else msgspec.json.decode(row["result"])
    return row


def elections(
    sql: Sql,
    *,
    office: str | None = None,
    status: str | None = None,
    after: int = 0,
    limit: int = 50,
) -> list[dict[str, Any]]:
    where, params = ["seq > ?"], [after]
    for column, value in (("office", office), ("status", status)):
        if value is not None:
            where.append(f"{column} = ?")
            params.append(value)  # type: ignore[arg-type]
    rows = sql.all(
        f"SELECT {COLUMNS} FROM elections WHERE {' AND '.join(where)}"  # noqa: S608
        " ORDER BY seq LIMIT ?",
        (*params, limit),
    )
    return [_row(r) for r in rows]


def election(sql: Sql, election_id: str) -> dict[str, Any] | None:
    row = sql.one(f"SELECT {COLUMNS} FROM elections WHERE election_id = ?", (election_id,))  # noqa: S608
    if row is None:
        return None
    found = _row(row)
    candidates = sql.all(
        f"SELECT {CANDIDATE_COLUMNS} FROM election_candidates"  # noqa: S608
        " WHERE election_id = ? ORDER BY seq",
        (election_id,),
    )
    for candidate in candidates:
        candidate["withdrawn"] = bool(candidate["withdrawn"])
        candidate["elected"] = None if candidate["elected"] is None else bool(candidate["elected"])
    found["candidates"] = candidates
    turnout = sql.all(
        "SELECT member_id, choices FROM election_turnout WHERE election_id = ? ORDER BY member_id",
        (election_id,),
    )
    found["voted"] = [t["member_id"] for t in turnout]
    found["open_votes"] = (
        None
        if found["secret_ballot"]
        else [
            {"member_id": t["member_id"], "choices": msgspec.json.decode(t["choices"])}
            for t in turnout
        ]
    )
    return found
