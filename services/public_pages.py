"""What an alliance's public pages show: only what its ToR makes public. Each function
reads projections and returns plain data for one page; none of them can reach the text
of confidential minutes (they read only the public version of published minutes), the
representatives' personal data, or another alliance."""

from __future__ import annotations

from typing import Any

from domain.errors import DomainError
from projections import alliance_profile, member_register, national_directory
from projections import meetings as meeting_view
from projections import minutes as minutes_view
from projections import terms_of_reference as terms_view
from services.errors import NotFound
from services.onboarding import directory_entry
from services.runtime import Runtime
from services.tenancy import views

MINUTES_PER_PAGE = 20
UPCOMING = 10


def _public(runtime: Runtime, slug: str) -> dict[str, Any]:
    """The directory entry of an alliance whose pages are public: active ones only."""
    try:
        entry = directory_entry(runtime, slug)
    except DomainError:  # not even a valid slug
        raise NotFound(f"no alliance with the slug {slug!r}") from None
    if entry["status"] != national_directory.ACTIVE:
        raise NotFound(f"no alliance with the slug {slug!r}")
    return entry


def _frame(runtime: Runtime, slug: str, sql: Any) -> dict[str, Any]:
    """What every page of the alliance shows: its name, region and the ToR in force."""
    profile = alliance_profile.load(sql)
    now = runtime.clock()
    terms = terms_view.in_force(sql, now.isoformat(), now.date().isoformat())
    if profile is None or terms is None:
        raise NotFound(f"no alliance with the slug {slug!r}")
    names = {b["key"]: b["name"] for b in terms["rules"]["bodies"]}
    names.update({o["key"]: o["name"] for o in terms["rules"].get("offices", [])})
    return {"slug": slug, "alliance": profile, "terms": terms, "names": names}


def home(runtime: Runtime, slug: str) -> dict[str, Any]:
    _public(runtime, slug)
    with views(runtime, slug) as sql:
        frame = _frame(runtime, slug, sql)
        frame["upcoming"] = meeting_view.upcoming(
            sql, from_moment=runtime.clock().isoformat(), limit=UPCOMING
        )
        frame["latest_minutes"] = minutes_view.published(sql, limit=3)
    return frame


def minutes_index(runtime: Runtime, slug: str, *, page: int) -> dict[str, Any]:
    _public(runtime, slug)
    with views(runtime, slug) as sql:
        frame = _frame(runtime, slug, sql)
        total = minutes_view.count_published(sql)
        frame["minutes"] = minutes_view.published(
            sql, limit=MINUTES_PER_PAGE, offset=(page - 1) * MINUTES_PER_PAGE
        )
    frame["page"] = page
    frame["pages"] = max(1, -(-total // MINUTES_PER_PAGE))
    if page > frame["pages"]:
        raise NotFound(f"there are {frame['pages']} pages of minutes; there is no page {page}")
    return frame


def minutes(runtime: Runtime, slug: str, minutes_id: str) -> dict[str, Any]:
    _public(runtime, slug)
    with views(runtime, slug) as sql:
        frame = _frame(runtime, slug, sql)
        found = minutes_view.published_one(sql, minutes_id)
        meeting = meeting_view.meeting(sql, found["meeting_id"]) if found else None
        # Actions owned by a member organisation name it (organisation names are public).
        member_names = {
            row["member_id"]: row["name"]
            for row in member_register.members(
                sql, status=None, standing=None, after=0, limit=100_000
            )
            if row["capacity"] == "organisation"
        }
    if found is None:
        raise NotFound(f"no published minutes {minutes_id!r} here")
    frame["minutes"] = found
    frame["meeting_title"] = meeting["title"] if meeting else None
    frame["member_names"] = member_names
    return frame


def members(runtime: Runtime, slug: str) -> dict[str, Any]:
    _public(runtime, slug)
    with views(runtime, slug) as sql:
        frame = _frame(runtime, slug, sql)
        rows = member_register.members(sql, status="active", standing=None, after=0, limit=10_000)
    # Organisations only, by name: no person's name or contact is ever shown here.
    frame["members"] = sorted(
        (
            {"name": row["name"], "standing": row["standing"]}
            for row in rows
            if row["capacity"] == "organisation" and row["name"]
        ),
        key=lambda m: m["name"].casefold(),
    )
    return frame


def terms(runtime: Runtime, slug: str, *, number: int | None) -> dict[str, Any]:
    _public(runtime, slug)
    with views(runtime, slug) as sql:
        frame = _frame(runtime, slug, sql)
        frame["versions"] = terms_view.versions(sql)
        shown = frame["terms"] if number is None else terms_view.version(sql, number)
    if shown is None:
        raise NotFound(f"this alliance has no ToR version {number}")
    frame["shown"] = shown
    return frame
