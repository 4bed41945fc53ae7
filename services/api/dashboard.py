"""The national dashboard: the directory with governance health, server-rendered for
signed-in platform admins (`/dashboard`). No JavaScript; every value HTML-escaped.

A browser signs in once with a platform-admin API key (a form); it then holds a session
cookie, never the key: a token naming the key's id, a session id and its expiry, signed
with HMAC-SHA256 under a secret of the server (`dashboard_session_secret`, or one derived
from the checkpoint signing key). Every request checks the signature, the expiry, that
the session was not signed out and that the key is still a valid platform-admin key, so
revoking the key ends its sessions. Every form carries a token tied to its session (or,
for the sign-in form, to a nonce cookie), besides SameSite=Strict cookies.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import hmac
import logging
import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, Literal, get_args
from urllib.parse import urlencode

import anyio.to_thread
import msgspec
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from litestar import Controller, Request, Response, get, post
from litestar.datastructures import Cookie
from litestar.di import NamedDependency, Provide
from litestar.exceptions import HTTPException, ValidationException
from litestar.params import FromPath
from litestar.response import Redirect, Stream, Template

from domain.values import Role
from infra.rate_limits import TokenBuckets
from infra.settings import Settings
from infra.stores import Sql
from services import access, directory
from services.access import Principal
from services.api.pages import SECURITY_HEADERS as PAGE_HEADERS
from services.api.pages import TEMPLATES
from services.audit import checkpoints
from services.errors import InvalidRequest, NotFound, RateLimited
from services.runtime import Runtime

log = logging.getLogger("concord.dashboard")

PREFIX = "/dashboard"
#: Not behind the bearer-key middleware: these pages authenticate by their cookie.
DASHBOARD_PATHS = ["^/dashboard(/|$)"]
SESSION_COOKIE = "concord_dashboard"
#: The sign-in form's nonce: its CSRF token is tied to it.
FORM_COOKIE = "concord_dashboard_form"
FORM_COOKIE_SECONDS = 3600
STYLESHEET = (TEMPLATES / "dashboard.css").read_bytes()
#: As the public pages, but its own forms may be sent (to this site only).
SECURITY_HEADERS = {
    **PAGE_HEADERS,
    "Content-Security-Policy": PAGE_HEADERS["Content-Security-Policy"].replace(
        "form-action 'none'", "form-action 'self'"
    ),
    # What these pages show is for the signed-in admin only: never kept by a cache.
    "Cache-Control": "no-store",
}
SECRET_CONTEXT = b"concord/dashboard-session/v1"
REFUSED = "Not a platform-admin key."
PAGE_SIZE = 25
MAX_PAGE_SIZE = 200

#: How each sort key is offered, in the order offered.
SORT_LABELS: dict[str, str] = {
    "state": "Health (worst first when descending)",
    "name": "Name",
    "slug": "Slug",
    "region": "Region",
    "template": "Template",
    "status": "Status",
    "onboarded_at": "Onboarded",
    "obligations_overdue": "Obligations overdue",
    "missed_last_12_months": "Missed in the last 12 months",
    "seats_vacant": "Seats vacant",
    "applications_waiting": "Applications waiting",
    "review_due_on": "ToR review due",
    "last_activity_on": "Last activity",
}
STATES: dict[str, str] = {
    "at-risk": "At risk",
    "needs-attention": "Needs attention",
    "healthy": "Healthy",
    "unknown": "Unknown",
}
#: Each indicator of the detail page, as a person reads it.
INDICATORS: dict[str, str] = {
    "meetings_required": "Meetings required (last 12 months)",
    "meetings_held": "Meetings held (last 12 months)",
    "minutes_approved": "Minutes approved (last 12 months)",
    "minutes_published_in_time": "Minutes published in time",
    "minutes_publication_overdue": "Minutes publication overdue",
    "review_due_on": "ToR review due on",
    "review_overdue": "ToR review overdue",
    "seats_vacant": "Required seats or offices vacant",
    "terms_expired": "Office terms ended with no successor",
    "applications_waiting": "Applications waiting too long",
    "oldest_application_since": "Oldest waiting application since",
    "obligations_overdue": "Obligations overdue and unmet",
    "missed_last_12_months": "Obligations missed (last 12 months)",
    "next_due_on": "Next obligation due on",
    "last_activity_on": "Last recorded activity",
}

assert set(SORT_LABELS) == set(directory.SORTS), "every sort of the directory is offered"


# ----------------------------------------------------------------------------- errors


class SignInNeeded(Exception):
    """No valid dashboard session: the browser must sign in (again)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class Refused(Exception):
    """A dashboard request that is refused with a page: its status, heading and message."""

    def __init__(self, status: int, heading: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.heading = heading
        self.message = message


# ----------------------------------------------------------------------------- sessions


class Token(msgspec.Struct, frozen=True, array_like=True):
    """What a session cookie says, signed: never the key's secret."""

    key_id: str
    session_id: str
    issued_at: int
    expires_at: int


class Session(msgspec.Struct, frozen=True, kw_only=True):
    token: Token
    principal: Principal
    label: str
    #: The token every form of this session carries.
    csrf: str


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _signing_key_path(settings: Settings) -> Path:
    # Where services/audit/checkpoints.signer keeps it (it makes it when absent).
    return Path(
        settings.signing_key_file or Path(settings.data_dir) / "signing" / "checkpoint-ed25519.pem"
    )


@functools.cache
def session_secret(settings: Settings) -> bytes:
    """The HMAC key of the sessions: from `dashboard_session_secret` when set, else from
    the checkpoint signing key (made on first use, shared by every process)."""
    if settings.dashboard_session_secret is not None:
        material = settings.dashboard_session_secret.encode()
    else:
        checkpoints.signer(settings)  # makes the key when there is none yet
        loaded = serialization.load_pem_private_key(
            _signing_key_path(settings).read_bytes(), password=None
        )
        if not isinstance(loaded, Ed25519PrivateKey):
            raise ValueError("the checkpoint signing key is not an Ed25519 key")
        material = loaded.private_bytes(
            serialization.Encoding.Raw,
            serialization.PrivateFormat.Raw,
            serialization.NoEncryption(),
        )
    return hmac.new(material, SECRET_CONTEXT, hashlib.sha256).digest()


def _mac(secret: bytes, purpose: str, text: str) -> str:
    return _b64(hmac.new(secret, f"{purpose}:{text}".encode(), hashlib.sha256).digest())


def seal(secret: bytes, token: Token) -> str:
    """The cookie value of a session: its token, and the token's signature."""
    payload = _b64(msgspec.json.encode(token))
    return f"{payload}.{_mac(secret, 'session', payload)}"


def unseal(secret: bytes, value: str) -> Token | None:
    """The token a cookie value holds, or None when it is not one this server signed."""
    payload, dot, signature = value.partition(".")
    if not dot or not hmac.compare_digest(signature, _mac(secret, "session", payload)):
        return None
    try:
        return msgspec.json.decode(_unb64(payload), type=Token)
    except (binascii.Error, ValueError, msgspec.DecodeError):
        return None


def csrf_token(secret: bytes, session_id: str) -> str:
    return _mac(secret, "csrf", session_id)


# Sessions signed out before they expired; kept until then in the platform's view store.
ENDED_TABLE = (
    "CREATE TABLE IF NOT EXISTS dashboard_sessions_ended ("
    " session_id TEXT PRIMARY KEY, expires_at BIGINT NOT NULL)"
)


@contextmanager
def _ended(runtime: Runtime, *, commit: bool) -> Iterator[Sql]:
    views = runtime.platform.views
    views.ensure_table("dashboard_sessions_ended", ENDED_TABLE)
    with views.transaction(commit=commit) as sql:
        yield sql


def end_session(runtime: Runtime, token: Token, now: int) -> None:
    """Record a signed-out session (forgetting those expired: they end by themselves)."""
    with _ended(runtime, commit=True) as sql:
        sql.execute("DELETE FROM dashboard_sessions_ended WHERE expires_at < ?", (now,))
        sql.execute(
            "INSERT INTO dashboard_sessions_ended (session_id, expires_at) VALUES (?, ?)"
            " ON CONFLICT (session_id) DO NOTHING",
            (token.session_id, token.expires_at),
        )


def _session_ended(runtime: Runtime, session_id: str) -> bool:
    with _ended(runtime, commit=False) as sql:
        return (
            sql.one(
                "SELECT session_id FROM dashboard_sessions_ended WHERE session_id = ?",
                (session_id,),
            )
            is not None
        )


def _now(runtime: Runtime) -> int:
    return int(runtime.clock().timestamp())


def check_session(runtime: Runtime, cookie: str | None) -> Session:
    """The session a cookie stands for, or SignInNeeded saying why not."""
    if not cookie:
        raise SignInNeeded("Sign in with a platform-admin API key to see the dashboard.")
    secret = session_secret(runtime.settings)
    token = unseal(secret, cookie)
    if token is None:
        raise SignInNeeded("Your session is not valid. Sign in again.")
    now = _now(runtime)
    lifetime = runtime.settings.dashboard_session_hours * 3600
    if (
        token.expires_at <= now
        or token.issued_at > now
        or (token.expires_at - token.issued_at > lifetime)
    ):
        raise SignInNeeded("Your session has expired. Sign in again.")
    if _session_ended(runtime, token.session_id):
        raise SignInNeeded("You signed out. Sign in again.")
    row = access.find_key(runtime, token.key_id)
    if (
        row is None
        or row["revoked"]
        or row["role"] != Role.PLATFORM_ADMIN.value
        or row["tenant"] is not None
    ):
        raise SignInNeeded("The key of your session is no longer valid. Sign in again.")
    principal = Principal(key_id=token.key_id, role=Role.PLATFORM_ADMIN, tenant=None)
    return Session(
        token=token,
        principal=principal,
        label=str(row["label"]),
        csrf=csrf_token(secret, token.session_id),
    )


def session_cookie(value: str, *, max_age: int) -> Cookie:
    return Cookie(
        key=SESSION_COOKIE,
        value=value,
        path=PREFIX,
        max_age=max_age,
        secure=True,
        httponly=True,
        samesite="strict",
    )


def _form_cookie(value: str, *, max_age: int) -> Cookie:
    return Cookie(
        key=FORM_COOKIE,
        value=value,
        path=PREFIX,
        max_age=max_age,
        secure=True,
        httponly=True,
        samesite="strict",
    )


def provide_session(request: Request[Any, Any, Any], runtime: NamedDependency[Runtime]) -> Session:
    """The request's dashboard session, its key's rate limit taken."""
    session = check_session(runtime, request.cookies.get(SESSION_COOKIE))
    request.app.state.rate_limits.check(session.principal)
    return session


_budget_lock = threading.Lock()


def _sign_in_budget(request: Request[Any, Any, Any]) -> TokenBuckets:
    state = request.app.state
    with _budget_lock:
        budget = state.get("dashboard_sign_ins")
        if budget is None:
            settings: Settings = state.runtime.settings
            budget = TokenBuckets(settings.dashboard_sign_in_per_minute)
            state["dashboard_sign_ins"] = budget
    assert isinstance(budget, TokenBuckets)
    return budget


def _client_address(request: Request[Any, Any, Any]) -> str:
    # The peer of the connection: never a header a client could set.
    return request.client.host if request.client is not None else "unknown"


# ----------------------------------------------------------------------------- the query


class DirectoryQuery(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """The dashboard's query string: filters, sort and page."""

    region: Annotated[str, msgspec.Meta(max_length=100)] | None = None
    template: Annotated[str, msgspec.Meta(max_length=50)] | None = None
    status: Literal["active", "suspended"] | None = None
    state: directory.HealthFilter | None = None
    sort: directory.Sort = "state"
    order: directory.Order = "desc"
    after: Annotated[str, msgspec.Meta(max_length=200)] | None = None
    limit: Annotated[int, msgspec.Meta(ge=1, le=MAX_PAGE_SIZE)] = PAGE_SIZE

    @property
    def filters(self) -> directory.Filters:
        return directory.Filters(
            region=self.region, template=self.template, status=self.status, state=self.state
        )

    def link(self, **changes: Any) -> str:
        """This query with some values changed (None: left out), as a dashboard address."""
        values = {**msgspec.structs.asdict(self), **changes}
        defaults = {"sort": "state", "order": "desc", "limit": PAGE_SIZE}
        kept = {k: v for k, v in values.items() if v is not None and defaults.get(k) != v}
        return PREFIX + (f"?{urlencode(kept)}" if kept else "")

    def export_link(self) -> str:
        values = msgspec.structs.asdict(self)
        kept = {k: v for k, v in values.items() if v is not None and k not in ("after", "limit")}
        return f"{PREFIX}/export.csv?{urlencode(kept)}"


ALLOWED: dict[str, tuple[str, ...]] = {
    "status": ("active", "suspended"),
    "state": tuple(get_args(directory.HealthFilter)),
    "sort": tuple(directory.SORTS),
    "order": ("asc", "desc"),
}


def parse_query(request: Request[Any, Any, Any]) -> DirectoryQuery:
    """The query string as a DirectoryQuery, or a 400 naming what is wrong with it. An
    empty value (a filter form's "any") is no value."""
    values: dict[str, str] = {}
    seen: set[str] = set()
    for name, value in request.query_params.multi_items():
        if name in seen:
            raise Refused(400, "Bad address", f"{name}: given more than once")
        seen.add(name)
        if value.strip():
            values[name] = value.strip()
    try:
        query = msgspec.convert(values, DirectoryQuery, strict=False)
    except msgspec.ValidationError as error:
        raise Refused(400, "Bad address", _explain(str(error))) from None
    if query.after is not None:
        _check_cursor(query.after, query.sort)
    return query


def _explain(message: str) -> str:
    if "unknown field" in message:
        name = message.split("`")[1]
        return (
            f"{name}: not something the dashboard understands (it takes "
            f"{', '.join(f.name for f in msgspec.structs.fields(DirectoryQuery))})"
        )
    head, _, path = message.partition(" - at `$.")
    name = path.rstrip("`")
    if name in ALLOWED:
        return f"{name}: must be one of {', '.join(ALLOWED[name])}"
    if name == "limit":
        return f"limit: must be a whole number from 1 to {MAX_PAGE_SIZE}"
    return f"{name}: {head}" if name else message


def _check_cursor(after: str, sort: str) -> None:
    """A cursor holds the sort it came from: one from another sort (or none of ours)
    cannot continue this one."""
    try:
        directory.check_cursor(after, sort)
    except InvalidRequest:
        raise Refused(
            400,
            "Bad address",
            "after: not a cursor of this listing (follow the 'Next page' link unchanged, or "
            "start again from the first page)",
        ) from None


# ----------------------------------------------------------------------------- pages


def _page(
    name: str,
    context: dict[str, Any],
    *,
    status_code: int = 200,
    cookies: list[Cookie] | None = None,
) -> Template:
    return Template(
        template_name=f"dashboard/{name}.html",
        context={"session": None, "current": None, "states": STATES, "prefix": PREFIX, **context},
        status_code=status_code,
        headers=SECURITY_HEADERS,
        media_type="text/html",
        cookies=cookies,
    )


def _error_page(
    status: int, heading: str, message: str, session: Session | None = None
) -> Template:
    return _page(
        "error",
        {"heading": heading, "message": message, "session": session},
        status_code=status,
    )


def on_sign_in_needed(request: Request[Any, Any, Any], error: SignInNeeded) -> Response[Any]:
    """A page asked for without a session: to the sign-in form; a form sent without one:
    401 (the form's content is not carried over)."""
    forget = session_cookie("", max_age=0)
    if request.method in ("GET", "HEAD"):
        return Redirect(
            f"{PREFIX}/sign-in", status_code=303, cookies=[forget], headers=SECURITY_HEADERS
        )
    page = _error_page(401, "Sign in needed", error.message)
    page.cookies.append(forget)
    return page


def on_refused(request: Request[Any, Any, Any], error: Refused) -> Template:
    return _error_page(error.status, error.heading, error.message)


def on_not_found(request: Request[Any, Any, Any], error: NotFound) -> Template:
    return _error_page(404, "Not found", error.message[:1].upper() + error.message[1:] + ".")


def on_invalid(request: Request[Any, Any, Any], error: InvalidRequest) -> Template:
    return _error_page(400, "Bad address", error.message)


def on_validation(request: Request[Any, Any, Any], error: ValidationException) -> Template:
    return _error_page(400, "Bad request", "The form or address could not be read.")


def on_rate_limited(request: Request[Any, Any, Any], error: RateLimited) -> Template:
    page = _error_page(429, "Too many requests", error.message)
    page.headers["Retry-After"] = str(error.retry_after)
    return page


def on_http_error(request: Request[Any, Any, Any], error: HTTPException) -> Template:
    status = error.status_code
    if status == 405:
        return _error_page(405, "Not allowed", "This page does not take that method.")
    if status == 413:
        return _error_page(413, "Too large", "The form sent was too large.")
    if status >= 500:
        return _error_page(status, "Service error", "Something went wrong; try again.")
    return _error_page(status, "Bad request", "The request could not be read.")


SessionDependency = NamedDependency[Session]


async def _form(request: Request[Any, Any, Any], fields: tuple[str, ...]) -> dict[str, str]:
    form = await request.form()
    values: dict[str, str] = {}
    for name in fields:
        value = form.get(name, "")
        values[name] = value if isinstance(value, str) else ""
    return values


class Dashboard(Controller):
    """The dashboard's pages. Its own error pages: never a JSON problem, never a 500."""

    path = PREFIX
    include_in_schema = False
    dependencies = {"session": Provide(provide_session, sync_to_thread=True)}
    exception_handlers = {
        SignInNeeded: on_sign_in_needed,
        Refused: on_refused,
        NotFound: on_not_found,
        InvalidRequest: on_invalid,
        ValidationException: on_validation,
        RateLimited: on_rate_limited,
        HTTPException: on_http_error,
    }

    @get("/sign-in", sync_to_thread=True)
    def sign_in_form(self, request: Request[Any, Any, Any]) -> Template:
        """The sign-in form (its CSRF token tied to a fresh nonce cookie)."""
        return _sign_in_page(request, message=None, status=200)

    @post("/sign-in", status_code=303)
    async def sign_in(
        self, request: Request[Any, Any, Any], runtime: NamedDependency[Runtime]
    ) -> Response[Any]:
        """Check a platform-admin key; start a session (a cookie) and go to the directory."""
        secret = await anyio.to_thread.run_sync(session_secret, runtime.settings)
        wait = _sign_in_budget(request).take(_client_address(request))
        if wait is not None:
            page = _sign_in_page(
                request,
                message=f"Too many sign-in attempts from here. Try again in {wait} seconds.",
                status=429,
            )
            page.headers["Retry-After"] = str(wait)
            return page
        form = await _form(request, ("key", "csrf"))
        nonce = request.cookies.get(FORM_COOKIE, "")
        if not nonce or not hmac.compare_digest(form["csrf"], _mac(secret, "sign-in", nonce)):
            return _sign_in_page(
                request,
                message="This form has expired or did not come from this site. "
                "Enter the key again.",
                status=403,
            )
        secret_key = form["key"].strip()
        found = (
            await anyio.to_thread.run_sync(access.authenticate, runtime, secret_key)
            if secret_key
            else None
        )
        if found is None or found.role is not Role.PLATFORM_ADMIN or found.tenant is not None:
            log.info("dashboard sign-in refused from %s", _client_address(request))
            return _sign_in_page(request, message=REFUSED, status=403)
        now = _now(runtime)
        lifetime = runtime.settings.dashboard_session_hours * 3600
        token = Token(
            key_id=found.key_id,
            session_id=secrets.token_urlsafe(18),
            issued_at=now,
            expires_at=now + lifetime,
        )
        log.info("dashboard sign-in with key %s", found.key_id)
        return Redirect(
            PREFIX,
            status_code=303,
            headers=SECURITY_HEADERS,
            cookies=[
                session_cookie(seal(secret, token), max_age=lifetime),
                _form_cookie("", max_age=0),
            ],
        )

    @post("/sign-out", status_code=303)
    async def sign_out(
        self,
        request: Request[Any, Any, Any],
        runtime: NamedDependency[Runtime],
        session: SessionDependency,
    ) -> Response[Any]:
        """End the session (here and for any copy of its cookie) and clear the cookie."""
        form = await _form(request, ("csrf",))
        if not hmac.compare_digest(form["csrf"], session.csrf):
            raise Refused(
                403,
                "Form refused",
                "This form has expired or did not come from this site. Go back to the "
                "dashboard and try again.",
            )
        await anyio.to_thread.run_sync(end_session, runtime, session.token, _now(runtime))
        log.info("dashboard sign-out of key %s", session.principal.key_id)
        return Redirect(
            f"{PREFIX}/sign-in",
            status_code=303,
            headers=SECURITY_HEADERS,
            cookies=[session_cookie("", max_age=0)],
            query_params={"signed_out": "1"},
        )

    @get("/", sync_to_thread=True)
    def listing(
        self,
        request: Request[Any, Any, Any],
        runtime: NamedDependency[Runtime],
        session: SessionDependency,
    ) -> Template:
        """The directory with each alliance's governance health: filter, sort, page."""
        query = parse_query(request)
        items, next_after = directory.page(
            runtime,
            filters=query.filters,
            sort=query.sort,
            order=query.order,
            after=query.after,
            limit=query.limit,
        )
        return _page(
            "directory",
            {
                "session": session,
                "query": query,
                "items": items,
                "next_after": next_after,
                "count": directory.count(runtime, query.filters),
                "facets": directory.facets(runtime),
                "sorts": SORT_LABELS,
                "columns": COLUMNS,
                "current": "directory",
            },
        )

    @get("/export.csv", sync_to_thread=True)
    def export(
        self,
        request: Request[Any, Any, Any],
        runtime: NamedDependency[Runtime],
        session: SessionDependency,
    ) -> Stream:
        """The filtered directory as CSV: what `/v1/directory/export.csv` gives."""
        query = parse_query(request)
        lines = list(
            directory.export(runtime, filters=query.filters, sort=query.sort, order=query.order)
        )
        return Stream(
            iter(lines),
            media_type="text/csv",
            headers={
                "Content-Disposition": 'attachment; filename="concord-directory.csv"',
                "Cache-Control": "no-store",
                "X-Content-Type-Options": "nosniff",
            },
        )

    @get("/a/{slug:str}", sync_to_thread=True)
    def alliance(
        self, runtime: NamedDependency[Runtime], session: SessionDependency, slug: FromPath[str]
    ) -> Template:
        """One alliance: its entry, health with reasons, obligations calendar, misses."""
        found = directory.detail(runtime, slug)
        return _page(
            "alliance",
            {"session": session, "alliance": found, "indicators": INDICATORS},
        )

    @get("/dashboard.css", sync_to_thread=False)
    def stylesheet(self) -> Response[bytes]:
        return Response(
            STYLESHEET,
            media_type="text/css",
            headers={"Cache-Control": "public, max-age=3600", "X-Content-Type-Options": "nosniff"},
        )

    @get("/{rest:path}", sync_to_thread=False)
    def elsewhere(self, rest: FromPath[str]) -> Template:
        """Any other address under the dashboard: its 404 page."""
        raise NotFound("there is no such page on the dashboard")


def _sign_in_page(request: Request[Any, Any, Any], *, message: str | None, status: int) -> Template:
    runtime: Runtime = request.app.state.runtime
    secret = session_secret(runtime.settings)
    nonce = request.cookies.get(FORM_COOKIE, "")
    if not (16 <= len(nonce) <= 64) or not nonce.replace("-", "").replace("_", "").isalnum():
        nonce = secrets.token_urlsafe(18)
    return _page(
        "sign_in",
        {
            "csrf": _mac(secret, "sign-in", nonce),
            "message": message,
            "signed_out": request.query_params.get("signed_out") == "1" and message is None,
        },
        status_code=status,
        cookies=[_form_cookie(nonce, max_age=FORM_COOKIE_SECONDS)],
    )


#: The directory table's sortable columns: (sort key, heading).
COLUMNS: list[tuple[str, str]] = [
    ("name", "Alliance"),
    ("region", "Region"),
    ("template", "Template"),
    ("status", "Status"),
    ("state", "Health"),
    ("obligations_overdue", "Overdue"),
    ("missed_last_12_months", "Missed (12 months)"),
    ("seats_vacant", "Seats vacant"),
    ("applications_waiting", "Applications waiting"),
    ("review_due_on", "ToR review due"),
    ("last_activity_on", "Last activity"),
]
