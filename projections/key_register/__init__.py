"""The register of API keys: looked up on every request, listed for tenant admins.

Holds digests only; a key's secret never reaches any table.
"""

from __future__ import annotations

from typing import Any

from domain.api_key import ApiKey
from infra.stores import Sql
from projections.base import Projection, on


class KeyRegister(Projection):
    name = "key_register"
    tables = {
        "api_keys": (
            "CREATE TABLE IF NOT EXISTS api_keys ("
            " key_id TEXT PRIMARY KEY,"
            " key_hash TEXT NOT NULL UNIQUE,"
            " tenant TEXT,"
            " role TEXT NOT NULL,"
            " label TEXT NOT NULL,"
            " issued_by TEXT NOT NULL,"
            " issued_at TEXT NOT NULL,"
            " revoked INTEGER NOT NULL,"
            " revoked_by TEXT,"
            " revoked_at TEXT,"
            " member_id TEXT)"
        )
    }

    @on(ApiKey.Issued)
    def issued(self, sql: Sql, event: ApiKey.Issued, position: int) -> None:
        sql.execute(
            "INSERT INTO api_keys (key_id, key_hash, tenant, role, label, issued_by,"
            " issued_at, revoked, member_id) VALUES (?, ?, ?, ?, ?, ?, ?, 0, ?)",
            (
                str(event.originator_id),
                event.key_hash,
                event.tenant,
                event.role,
                event.label,
                event.issued_by,
                event.timestamp.isoformat(),
                event.member_id,
            ),
        )

    @on(ApiKey.Revoked)
    def revoked(self, sql: Sql, event: ApiKey.Revoked, position: int) -> None:
        sql.execute(
            "UPDATE api_keys SET revoked = 1, revoked_by = ?, revoked_at = ? WHERE key_id = ?",
            (event.revoked_by, event.timestamp.isoformat(), str(event.originator_id)),
        )


COLUMNS = (
    "key_id, tenant, role, label, issued_by, issued_at, revoked, revoked_by, revoked_at, member_id"
)


def by_digest(sql: Sql, key_hash: str) -> dict[str, Any] | None:
    return sql.one(f"SELECT {COLUMNS} FROM api_keys WHERE key_hash = ?", (key_hash,))  # noqa: S608


def find(sql: Sql, key_id: str) -> dict[str, Any] | None:
    return sql.one(f"SELECT {COLUMNS} FROM api_keys WHERE key_id = ?", (key_id,))  # noqa: S608


def page_for_tenant(
    sql: Sql, tenant: str, *, after: str | None, limit: int
) -> list[dict[str, Any]]:
    return sql.all(
        f"SELECT {COLUMNS} FROM api_keys WHERE tenant = ? AND key_id > ?"  # noqa: S608
        " ORDER BY key_id LIMIT ?",
        (tenant, after or "", limit),
    )
