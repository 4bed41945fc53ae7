"""Every error the API gives is an RFC 9457 problem: what is wrong, and how to put it right.

The one place exceptions become HTTP answers. No stack trace ever leaves the process.
"""

from __future__ import annotations

import logging
import sqlite3
from typing import Any

import psycopg
from eventsourcing.persistence import IntegrityError, PersistenceError
from litestar import Request, Response
from litestar.exceptions import HTTPException, SerializationException, ValidationException
from litestar.status_codes import (
    HTTP_401_UNAUTHORIZED,
    HTTP_403_FORBIDDEN,
    HTTP_404_NOT_FOUND,
    HTTP_409_CONFLICT,
    HTTP_422_UNPROCESSABLE_ENTITY,
    HTTP_429_TOO_MANY_REQUESTS,
    HTTP_500_INTERNAL_SERVER_ERROR,
    HTTP_503_SERVICE_UNAVAILABLE,
)

from domain import errors as rules
from infra.stores import unavailability
from services.api.limits import InputRefused
from services.errors import Forbidden, InvalidRequest, NotFound, RateLimited, Unauthenticated

log = logging.getLogger("concord.api")

PROBLEM_JSON = "application/problem+json"

# Rules broken by the current state of things (try again once it changes) are conflicts;
# the rest are requests that can never succeed as written.
CONFLICTS: tuple[type[rules.DomainError], ...] = (
    rules.TenantAlreadyExists,
    rules.TenantSuspended,
    rules.TenantAlreadySuspended,
    rules.TenantNotSuspended,
    rules.KeyAlreadyRevoked,
    rules.AmendmentNotOpen,
    rules.AmendmentStale,
    rules.ReviewAlreadyOpen,
    rules.NoReviewOpen,
    rules.StateConflict,
)


def problem(
    status: int,
    title: str,
    detail: str,
    *,
    code: str,
    request: Request[Any, Any, Any] | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> Response[dict[str, Any]]:
    body: dict[str, Any] = {
        "type": f"urn:concord:problem:{code}",
        "title": title,
        "status": status,
        "detail": detail,
    }
    if request is not None:
        body["instance"] = request.url.path
    body.update({k: v for k, v in extra.items() if v is not None})
    return Response(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def on_domain_error(request: Request[Any, Any, Any], error: rules.DomainError) -> Response[Any]:
    status = HTTP_409_CONFLICT if isinstance(error, CONFLICTS) else HTTP_422_UNPROCESSABLE_ENTITY
    title = (type(error).__doc__ or "A rule was broken").strip().splitlines()[0]
    violations = [
        {"rule": v.rule, "clause": v.clause, "message": v.message} for v in error.violations
    ]
    return problem(
        status,
        title,
        error.message,
        code=error.code,
        request=request,
        clause=error.clause,
        violations=violations or None,
    )


def on_not_found(request: Request[Any, Any, Any], error: NotFound) -> Response[Any]:
    return problem(
        HTTP_404_NOT_FOUND, "Not found", error.message, code="not-found", request=request
    )


def on_invalid_request(request: Request[Any, Any, Any], error: InvalidRequest) -> Response[Any]:
    return problem(
        HTTP_422_UNPROCESSABLE_ENTITY,
        "Invalid request",
        error.message,
        code="invalid-request",
        request=request,
    )


def on_concurrent_change(request: Request[Any, Any, Any], error: Exception) -> Response[Any]:
    return problem(
        HTTP_409_CONFLICT,
        "Changed at the same time",
        "another change to the same record was recorded at the same moment; nothing of "
        "yours was recorded. Read the record again and retry.",
        code="concurrent-change",
        request=request,
    )


def on_forbidden(request: Request[Any, Any, Any], error: Forbidden) -> Response[Any]:
    return problem(
        HTTP_403_FORBIDDEN,
        "Not allowed for this key",
        error.message,
        code="forbidden",
        request=request,
    )


def on_rate_limited(request: Request[Any, Any, Any], error: RateLimited) -> Response[Any]:
    return problem(
        HTTP_429_TOO_MANY_REQUESTS,
        "Too many requests",
        error.message,
        code="rate-limited",
        request=request,
        headers={"Retry-After": str(error.retry_after)},
    )


def on_unauthenticated(request: Request[Any, Any, Any], error: Unauthenticated) -> Response[Any]:
    return problem(
        HTTP_401_UNAUTHORIZED,
        "Authentication required",
        error.message,
        code="unauthenticated",
        request=request,
        headers={"WWW-Authenticate": 'Bearer realm="concord"'},
    )


def on_validation_error(
    request: Request[Any, Any, Any], error: ValidationException
) -> Response[Any]:
    details = error.extra if isinstance(error.extra, list) else []
    messages = [_describe(item) for item in details]
    detail = "; ".join(messages) or str(error.detail)
    return problem(
        HTTP_422_UNPROCESSABLE_ENTITY,
        "Invalid request",
        detail,
        code="invalid-request",
        request=request,
        errors=[_clean(item) for item in details] or None,
    )


def on_input_refused(request: Request[Any, Any, Any], error: InputRefused) -> Response[Any]:
    return problem(
        HTTP_422_UNPROCESSABLE_ENTITY,
        "Invalid request",
        f"{error.key}: {error.message}",
        code="invalid-request",
        request=request,
        errors=[{"key": error.key, "message": error.message, "source": error.source}],
    )


def on_http_error(request: Request[Any, Any, Any], error: HTTPException) -> Response[Any]:
    status = error.status_code
    title = {
        404: "Not found",
        405: "Method not allowed",
        413: "Request body too large",
        415: "Unsupported media type",
        429: "Too many requests",
    }.get(status, "Request refused" if status < 500 else "Service error")
    detail = str(error.detail) if error.detail else title
    if isinstance(error.__cause__, SerializationException):
        # litestar wraps a body that would not decode in a plain 400.
        title = "Malformed JSON"
        detail = f"the request body is not valid JSON: {detail}"
    if status == 404 and detail == "Not Found":
        detail = f"there is nothing at {request.url.path}"
    return problem(
        status,
        title,
        detail,
        code=title.lower().replace(" ", "-"),
        request=request,
        headers=dict(error.headers or {}),
    )


#: Seconds a client is asked to wait before retrying a request the database could not serve.
DATABASE_RETRY_AFTER = 2

_UNAVAILABLE_DETAIL = {
    "timeout": "the database did not answer in time (a lock held too long by other work, "
    "a statement past its timeout, or every connection busy).",
    "connection": "the connection to the database was lost or could not be made.",
}


def on_database_error(request: Request[Any, Any, Any], error: Exception) -> Response[Any]:
    """The database could not serve the request just now: 503, retryable. Any other
    database error is a fault of ours (500). Logged with the error's type and SQLSTATE
    only: a driver's message may quote the statement's parameters."""
    reason = unavailability(error)
    if reason is None:
        return on_unexpected(request, error)
    cause: BaseException = error
    while cause.__cause__ is not None:  # the driver's own error, under eventsourcing's
        cause = cause.__cause__
    log.warning(
        "database unavailable (%s: %s, sqlstate %s) on %s %s",
        reason,
        f"{type(cause).__module__}.{type(cause).__name__}",
        getattr(cause, "sqlstate", None),
        request.method,
        request.url.path,
    )
    return problem(
        HTTP_503_SERVICE_UNAVAILABLE,
        "Database unavailable",
        _UNAVAILABLE_DETAIL[reason] + " Retry after the time in Retry-After. A write may or "
        "may not have been recorded: read it back before sending it again, or resend it "
        "with the same Idempotency-Key.",
        code="database-unavailable",
        request=request,
        headers={"Retry-After": str(DATABASE_RETRY_AFTER)},
        reason=reason,
    )


def on_unexpected(request: Request[Any, Any, Any], error: Exception) -> Response[Any]:
    # Logged with its type only: an exception's text may quote request content.
    log.error("unexpected %s on %s %s", type(error).__name__, request.method, request.url.path)
    return problem(
        HTTP_500_INTERNAL_SERVER_ERROR,
        "Internal error",
        "Something went wrong on our side; nothing was recorded. Please try again.",
        code="internal-error",
        request=request,
    )


def _describe(item: Any) -> str:
    if not isinstance(item, dict):
        return str(item)
    message = str(item.get("message", ""))
    key = item.get("key")
    return f"{key}: {message}" if key and key not in message else message


def _clean(item: Any) -> Any:
    if isinstance(item, dict):
        return {k: v for k, v in item.items() if k in ("key", "message", "source")}
    return {"message": str(item)}


EXCEPTION_HANDLERS: dict[Any, Any] = {
    rules.DomainError: on_domain_error,
    NotFound: on_not_found,
    InvalidRequest: on_invalid_request,
    IntegrityError: on_concurrent_change,
    Forbidden: on_forbidden,
    Unauthenticated: on_unauthenticated,
    RateLimited: on_rate_limited,
    ValidationException: on_validation_error,
    InputRefused: on_input_refused,
    HTTPException: on_http_error,
    PersistenceError: on_database_error,
    psycopg.Error: on_database_error,
    sqlite3.Error: on_database_error,
    Exception: on_unexpected,
}
