"""The national umbrella's directory with governance health: filter, sort, page, export.

Reads the platform's `directory` (projections/national_directory) joined with the health
snapshots services/obligations.py keeps (`governance_health`): counts, dates and ToR keys
only. An alliance whose snapshot has not been computed yet has state "unknown".
"""

from __future__ import annotations

import base64
import binascii
import csv
import io
from collections.abc import Iterator
from datetime import date
from typing import Any, Literal

import msgspec

from domain.obligations import Obligation
from projections import governance
from services import obligations
from services.errors import InvalidRequest, NotFound
from services.runtime import Runtime

HealthFilter = Literal["healthy", "needs-attention", "at-risk", "unknown"]
Order = Literal["asc", "desc"]

#: What the directory can be sorted by, and the SQL that sorts it (NULLs given a value,
#: so keyset pages are exact: unknown health sorts below healthy).
SORTS: dict[str, str] = {
    "slug": "d.slug",
    "name": "d.name",
    "region": "d.region",
    "template": "d.template",
    "status": "d.status",
    "onboarded_at": "d.onboarded_at",
    "state": "COALESCE(h.severity, -1)",
    "obligations_overdue": "COALESCE(h.obligations_overdue, -1)",
    "missed_last_12_months": "COALESCE(h.missed_last_12_months, -1)",
    "seats_vacant": "COALESCE(h.seats_vacant, -1)",
    "applications_waiting": "COALESCE(h.applications_waiting, -1)",
    "review_due_on": "COALESCE(h.review_due_on, '9999-12-31')",
    "last_activity_on": "COALESCE(h.last_activity_on, '')",
}
Sort = Literal[
    "slug",
    "name",
    "region",
    "template",
    "status",
    "onboarded_at",
    "state",
    "obligations_overdue",
    "missed_last_12_months",
    "seats_vacant",
    "applications_waiting",
    "review_due_on",
    "last_activity_on",
]
ENTRY_COLUMNS = ("slug", "name", "region", "template", "status", "onboarded_at")
HEALTH_COLUMNS = ("state", "reasons", "as_of", *obligations.INDICATORS)
CSV_COLUMNS = (*ENTRY_COLUMNS, *HEALTH_COLUMNS)


class Filters(msgspec.Struct, frozen=True, kw_only=True):
    region: str | None = None
    template: str | None = None
    status: Literal["active", "suspended"] | None = None
    state: HealthFilter | None = None


def _cursor(sort: str, value: Any, slug: str) -> str:
    """An opaque cursor: the sort it belongs to, the last row's sort value and slug."""
    raw = msgspec.json.encode([sort, value, slug])
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


#: Sorts whose value is a number (the rest sort text).
NUMERIC_SORTS = frozenset(
    name for name, expression in SORTS.items() if expression.endswith(", -1)")
)


def check_cursor(token: str, sort: str) -> tuple[Any, str]:
    """The sort value and slug a cursor continues from: InvalidRequest for anything this
    directory did not give for this sort (a cursor of another sort would compare one
    column's value with another's)."""
    bad = InvalidRequest(
        "after: not a cursor of this listing (pass a page's next_after unchanged, with the "
        "same sort)"
    )
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        sort_of, value, slug = msgspec.json.decode(raw, type=tuple[str, str | int, str])
    except (binascii.Error, ValueError, msgspec.DecodeError):
        raise bad from None
    if sort_of != sort or isinstance(value, int) != (sort in NUMERIC_SORTS):
        raise bad
    return value, slug


def _where(filters: Filters) -> tuple[list[str], list[Any]]:
    where: list[str] = []
    params: list[Any] = []
    for column in ("region", "template", "status"):
        value = getattr(filters, column)
        if value is not None:
            where.append(f"d.{column} = ?")
            params.append(value)
    if filters.state == "unknown":
        where.append("h.state IS NULL")
    elif filters.state is not None:
        where.append("h.state = ?")
        params.append(filters.state)
    return where, params


def _select(sort_expression: str) -> str:
    entry = ", ".join(f"d.{c}" for c in ENTRY_COLUMNS)
    health = ", ".join(f"h.{c}" for c in HEALTH_COLUMNS)
    return (
        f"SELECT {entry}, {health}, {sort_expression} AS sort_key"  # noqa: S608
        " FROM directory d LEFT JOIN governance_health h ON h.slug = d.slug"
    )


def item(row: dict[str, Any]) -> dict[str, Any]:
    """A directory row as the API shows it: the entry, and its health (None if unknown)."""
    entry = {c: row[c] for c in ENTRY_COLUMNS}
    if row["state"] is None:
        return {**entry, "health": None}
    health = {c: row[c] for c in HEALTH_COLUMNS}
    health["review_overdue"] = bool(health["review_overdue"])
    health["reasons"] = [r for r in (health["reasons"] or "").split("; ") if r]
    return {**entry, "health": health}


def page(
    runtime: Runtime,
    *,
    filters: Filters,
    sort: Sort = "slug",
    order: Order = "asc",
    after: str | None = None,
    limit: int = 50,
) -> tuple[list[dict[str, Any]], str | None]:
    """One page of the directory, and the cursor of the next (None on the last page)."""
    obligations.refresh_pending(runtime)
    obligations.ensure_table(runtime)
    expression = SORTS[sort]
    where, params = _where(filters)
    if after is not None:
        value, slug = check_cursor(after, sort)
        where.append(f"({expression}, d.slug) {'>' if order == 'asc' else '<'} (?, ?)")
        params.extend([value, slug])
    direction = "ASC" if order == "asc" else "DESC"
    clause = f" WHERE {' AND '.join(where)}" if where else ""
    with runtime.platform.read() as sql:
        rows = sql.all(
            _select(expression) + clause + f" ORDER BY sort_key {direction}, d.slug {direction}"
            " LIMIT ?",
            (*params, limit + 1),
        )
    more = len(rows) > limit
    rows = rows[:limit]
    next_after = _cursor(sort, rows[-1]["sort_key"], rows[-1]["slug"]) if more else None
    return [item(row) for row in rows], next_after


def count(runtime: Runtime, filters: Filters) -> int:
    """How many alliances the filters match (all pages together)."""
    obligations.ensure_table(runtime)
    where, params = _where(filters)
    clause = f" WHERE {' AND '.join(where)}" if where else ""
    with runtime.platform.read() as sql:
        row = sql.one(
            "SELECT COUNT(*) AS n FROM directory d"  # noqa: S608
            " LEFT JOIN governance_health h ON h.slug = d.slug" + clause,
            tuple(params),
        )
    return int(row["n"]) if row is not None else 0


def facets(runtime: Runtime) -> dict[str, list[str]]:
    """The regions and templates in the directory: the choices of the dashboard's filters."""
    with runtime.platform.read() as sql:
        return {
            "regions": [
                r["region"] for r in sql.all("SELECT DISTINCT region FROM directory ORDER BY 1")
            ],
            "templates": [
                r["template"] for r in sql.all("SELECT DISTINCT template FROM directory ORDER BY 1")
            ],
        }


def detail(runtime: Runtime, slug: str, *, today: date | None = None) -> dict[str, Any]:
    """One alliance for the umbrella: its entry, its health and its obligations calendar,
    computed now, and the obligations recorded as missed."""
    on = today or runtime.clock().date()
    with runtime.platform.read() as sql:
        entry = sql.one(
            f"SELECT {', '.join(ENTRY_COLUMNS)} FROM directory WHERE slug = ?",  # noqa: S608
            (slug,),
        )
    if entry is None:
        raise NotFound(f"no alliance with the slug {slug!r}")
    try:
        found, result = obligations.assess(runtime, slug, today=on)
    except NotFound:  # registered, but its store was never founded
        return {**entry, "health": None, "obligations": [], "missed": []}
    with runtime.tenant(slug) as store, store.read() as sql:
        missed = governance.missed(sql)
    return {
        **entry,
        "health": msgspec.to_builtins(result),
        "obligations": [obligation_out(o) for o in found],
        "missed": missed,
    }


def obligation_out(obligation: Obligation) -> dict[str, Any]:
    out: dict[str, Any] = msgspec.to_builtins(obligation)
    out["met_by"] = list(obligation.met_by)
    return out


# ------------------------------------------------------------------------------- CSV

#: A spreadsheet runs a cell that starts with one of these as a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    text = str(value)
    if text.startswith(FORMULA_STARTS):
        return "'" + text  # shown as text, never run (CSV injection)
    return text


def export(
    runtime: Runtime, *, filters: Filters, sort: Sort = "slug", order: Order = "asc"
) -> Iterator[str]:
    """The whole filtered directory as CSV lines (a header, then one row per alliance)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")

    def line(values: list[Any]) -> str:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow(values)
        return buffer.getvalue()

    yield line(list(CSV_COLUMNS))
    after: str | None = None
    while True:
        items, after = page(
            runtime, filters=filters, sort=sort, order=order, after=after, limit=500
        )
        for found in items:
            health = found["health"] or {"state": "unknown"}
            values = [found[c] for c in ENTRY_COLUMNS] + [
                "; ".join(health.get(c) or []) if c == "reasons" else health.get(c)
                for c in HEALTH_COLUMNS
            ]
            yield line([_cell(v) for v in values])
        if after is None:
            return
