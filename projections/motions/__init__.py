"""Motions: each with the path it took (consensus → vote → casting vote → referral), its
result and the rules applied at each step; and every organisation's votes on them."""

from __future__ import annotations

from typing import Any

import msgspec

from domain.motions import PROPOSED, TIED, VOTING, Motion
from infra.stores import Sql
from projections.base import Projection, json_text, on

COLUMNS = (
    "motion_id, seq, body, text, proposer_member_id, public_stance, decides, status,"
    " referred_from, referred_to, meeting_id, scope, electorate, closes_at, tally, via,"
    " reason, rule, clause, effect, path, withdrawn_reason, proposed_by, under_version"
)
JSON_COLUMNS = ("decides", "tally", "effect", "path")


class MotionsView(Projection):
    name = "motions"
    tables = {
        "motions": (
            "CREATE TABLE IF NOT EXISTS motions ("
            " motion_id TEXT PRIMARY KEY,"
            " seq BIGINT NOT NULL UNIQUE,"
            " body TEXT NOT NULL,"
            " text TEXT NOT NULL,"
            " proposer_member_id TEXT,"
            " public_stance INTEGER NOT NULL,"
            " decides TEXT NOT NULL,"
            " status TEXT NOT NULL,"
            " referred_from TEXT,"
            " referred_to TEXT,"
            " meeting_id TEXT,"
            " scope TEXT,"
            " electorate INTEGER,"
            " closes_at TEXT,"
            " tally TEXT,"
            " via TEXT,"
            " reason TEXT,"
            " rule TEXT,"
            " clause TEXT,"
            " effect TEXT,"
            " path TEXT NOT NULL,"
            " withdrawn_reason TEXT,"
            " proposed_by TEXT NOT NULL,"
            " under_version INTEGER NOT NULL)"
        ),
        "motion_votes": (
            "CREATE TABLE IF NOT EXISTS motion_votes ("
            " motion_id TEXT NOT NULL,"
            " member_id TEXT NOT NULL,"
            " choice TEXT NOT NULL,"
            " representative_id TEXT,"
            " seq BIGINT NOT NULL,"
            " PRIMARY KEY (motion_id, member_id))"
        ),
    }

    @on(Motion.Proposed)
    def proposed(self, sql: Sql, event: Any, position: int) -> None:
        sql.execute(
            "INSERT INTO motions (motion_id, seq, body, text, proposer_member_id, public_stance,"
            " decides, status, referred_from, path, proposed_by, under_version)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                str(event.originator_id),
                position,
                event.body,
                event.text,
                event.proposer_member_id,
                int(event.public_stance),
                json_text(event.decides),
                PROPOSED,
                event.referred_from,
                json_text(
                    [
                        {
                            "step": "proposed",
                            "body": event.body,
                            "referred_from": event.referred_from,
                            "under_version": event.under_version,
                            "position": position,
                        }
                    ]
                ),
                event.by,
                event.under_version,
            ),
        )

    def _step(self, sql: Sql, motion_id: str, step: dict[str, Any], **columns: Any) -> None:
        row = sql.one("SELECT path FROM motions WHERE motion_id = ?", (motion_id,))
        assert row is not None
        path = [*msgspec.json.decode(row["path"]), step]
        sets = "".join(f", {name} = ?" for name in columns)
        sql.execute(
            f"UPDATE motions SET path = ?{sets} WHERE motion_id = ?",  # noqa: S608
            (json_text(path), *columns.values(), motion_id),
        )

    @on(Motion.ConsensusSought)
    def consensus_sought(self, sql: Sql, event: Any, position: int) -> None:
        step = {
            "step": "consensus",
            "meeting_id": event.meeting_id,
            "reached": event.reached,
            "rule": event.rule,
            "under_version": event.under_version,
            "position": position,
        }
        self._step(sql, str(event.originator_id), step, meeting_id=event.meeting_id)

    @on(Motion.VotingOpened)
    def voting_opened(self, sql: Sql, event: Any, position: int) -> None:
        step = {
            "step": "vote-opened",
            "meeting_id": event.meeting_id,
            "scope": event.scope,
            "electorate": len(event.electorate),
            "majority": event.majority,
            "vote_changes": event.vote_changes,
            "quorum_needed": event.quorum_needed,
            "closes_at": event.closes_at,
            "rules": event.rules,
            "under_version": event.under_version,
            "position": position,
        }
        self._step(
            sql,
            str(event.originator_id),
            step,
            status=VOTING,
            meeting_id=event.meeting_id,
            scope=event.scope,
            electorate=len(event.electorate),
            closes_at=event.closes_at,
        )

    @on(Motion.VoteCast)
    def vote_cast(self, sql: Sql, event: Any, position: int) -> None:
        sql.execute(
            "INSERT INTO motion_votes (motion_id, member_id, choice, representative_id, seq)"
            " VALUES (?, ?, ?, ?, ?) ON CONFLICT (motion_id, member_id) DO UPDATE SET"
            " choice = excluded.choice, representative_id = excluded.representative_id,"
            " seq = excluded.seq",
            (
                str(event.originator_id),
                event.member_id,
                event.choice,
                event.representative_id,
                position,
            ),
        )

    @on(Motion.VotingClosed)
    def voting_closed(self, sql: Sql, event: Any, position: int) -> None:
        tally = {
            "for": event.votes_for,
            "against": event.against,
            "abstain": event.abstain,
            "turnout": event.turnout,
            "electorate": event.electorate,
            "quorum_needed": event.quorum_needed,
            "quorate": event.quorate,
            "outcome": event.outcome,
        }
        step = {"step": "vote-counted", **tally, "under_version": event.under_version}
        columns: dict[str, Any] = {"tally": json_text(tally)}
        if event.outcome == "tied":
            columns["status"] = TIED
        self._step(sql, str(event.originator_id), {**step, "position": position}, **columns)

    @on(Motion.CastingVoteGiven)
    def casting_vote_given(self, sql: Sql, event: Any, position: int) -> None:
        step = {
            "step": "casting-vote",
            "office": event.office,
            "votes": event.votes,
            "rule": event.rule,
            "under_version": event.under_version,
            "position": position,
        }
        self._step(sql, str(event.originator_id), step)

    @on(Motion.Decided)
    def decided(self, sql: Sql, event: Any, position: int) -> None:
        step = {
            "step": "decided",
            "outcome": event.outcome,
            "via": event.via,
            "reason": event.reason,
            "rule": event.rule,
            "clause": event.clause,
            "referred_to": event.referred_to,
            "under_version": event.under_version,
            "position": position,
        }
        self._step(
            sql,
            str(event.originator_id),
            step,
            status=event.outcome,
            via=event.via,
            reason=event.reason,
            rule=event.rule,
            clause=event.clause,
            referred_to=event.referred_to,
        )

    def _effect(self, sql: Sql, event: Any, position: int, effect: dict[str, Any]) -> None:
        step = {"step": "effect", **effect, "under_version": event.under_version}
        self._step(
            sql,
            str(event.originator_id),
            {**step, "position": position},
            effect=json_text(effect),
        )

    @on(Motion.EffectApplied)
    def effect_applied(self, sql: Sql, event: Any, position: int) -> None:
        self._effect(sql, event, position, {"applied": True, "kind": event.kind, "ref": event.ref})

    @on(Motion.EffectRefused)
    def effect_refused(self, sql: Sql, event: Any, position: int) -> None:
        effect = {
            "applied": False,
            "kind": event.kind,
            "message": event.message,
            "violations": event.violations,
        }
        self._effect(sql, event, position, effect)

    @on(Motion.Withdrawn)
    def withdrawn(self, sql: Sql, event: Any, position: int) -> None:
        self._step(
            sql,
            str(event.originator_id),
            {"step": "withdrawn", "reason": event.reason, "position": position},
            status="withdrawn",
            withdrawn_reason=event.reason,
        )


def _row(row: dict[str, Any]) -> dict[str, Any]:
    row["public_stance"] = bool(row["public_stance"])
    for field in JSON_COLUMNS:
        row[field] = None if row[field] is None else msgspec.json.decode(row[field])
    return row


def motions(
    sql: Sql,
    *,
    body: str | None = None,
    status: str | None = None,
    open_only: bool = False,
    after: int = 0,
    limit: int = 50,
) -> list[dict[str, Any]]:
    """Motions in the order they were proposed (keyset on seq), filtered."""
    where, params = ["seq > ?"], [after]
    if body is not None:
        where.append("body = ?")
        params.append(body)  # type: ignore[arg-type]
    if status is not None:
        where.append("status = ?")
        params.append(status)  # type: ignore[arg-type]
    if open_only:
        where.append("status IN (?, ?, ?)")
        params += [PROPOSED, VOTING, TIED]  # type: ignore[list-item]
    rows = sql.all(
        f"SELECT {COLUMNS} FROM motions WHERE {' AND '.join(where)}"  # noqa: S608
        " ORDER BY seq LIMIT ?",
        (*params, limit),
    )
    return [_row(r) for r in rows]


def motion(sql: Sql, motion_id: str) -> dict[str, Any] | None:
    row = sql.one(f"SELECT {COLUMNS} FROM motions WHERE motion_id = ?", (motion_id,))  # noqa: S608
    return None if row is None else _row(row)


def votes(sql: Sql, motion_id: str) -> list[dict[str, Any]]:
    return sql.all(
        "SELECT member_id, choice, representative_id FROM motion_votes WHERE motion_id = ?"
        " ORDER BY member_id",
        (motion_id,),
    )


def voting_record(sql: Sql, member_id: str, *, after: int, limit: int) -> list[dict[str, Any]]:
    """One organisation's votes, in the order the motions were proposed."""
    return sql.all(
        "SELECT m.seq, m.motion_id, m.body, m.text, v.choice, v.representative_id,"
        " m.status FROM motion_votes v JOIN motions m ON m.motion_id = v.motion_id"
        " WHERE v.member_id = ? AND m.seq > ? ORDER BY m.seq LIMIT ?",
        (member_id, after, limit),
    )
