"""The one wiring function: `create_app(settings)` builds the whole HTTP service."""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from litestar import Litestar
from litestar.constants import RESERVED_KWARGS
from litestar.datastructures import State
from litestar.di import Provide
from litestar.middleware import DefineMiddleware
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin
from litestar.plugins.opentelemetry import OpenTelemetryConfig, OpenTelemetryPlugin
from litestar.routes import HTTPRoute

from infra import msgspec_types
from infra.settings import Settings
from infra.telemetry import Telemetry
from services import access, obligations
from services.api.audit import AuditController, SigningKeyController
from services.api.audit_replay import AuditStateController
from services.api.audit_review import ReviewPackController
from services.api.auth import PUBLIC_PATHS, BearerKeyMiddleware, RateLimits
from services.api.consistency import ConsistencyHeaders
from services.api.dashboard import DASHBOARD_PATHS, Dashboard
from services.api.decisions import MotionController
from services.api.directory import DirectoryController, ObligationController
from services.api.elections import ElectionController
from services.api.events import EventLogController
from services.api.idempotency import IdempotencyKeys
from services.api.keys import KeyController
from services.api.limits import LimitedRequest, ParameterLimits
from services.api.meetings import ComplianceController, MeetingController
from services.api.membership import (
    ApplicationController,
    MemberController,
    RepresentativeController,
)
from services.api.meta import MetaController
from services.api.minutes import (
    ActionItemController,
    ConfidentialityController,
    MinutesController,
)
from services.api.offices import BodyController, OfficeController
from services.api.pages import PAGE_PATHS, PublicSite, favicon, stylesheet, template_config
from services.api.privacy import PrivacyController
from services.api.problems import EXCEPTION_HANDLERS
from services.api.reminders import ReminderChannelController
from services.api.schemas import problems
from services.api.tenants import TenantController
from services.api.terms import AmendmentController, TemplateController, TermsController
from services.api.working_groups import WorkingGroupController, WorkPlanController
from services.audit import checkpoints
from services.runtime import Runtime

log = logging.getLogger("concord")


def create_app(settings: Settings, *, telemetry: Telemetry | None = None) -> Litestar:
    """Build the API for these settings. Stores open at start-up and close at shutdown."""
    telemetry = telemetry or Telemetry(settings.otel_exporter)
    msgspec_types.prepare()  # before any request thread converts a Struct for the first time

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        runtime = Runtime(settings, telemetry)
        warn_about_the_database_role(runtime)
        if settings.admin_key:
            access.ensure_platform_key(runtime, settings.admin_key)
        app.state.runtime = runtime
        app.state.rate_limits = RateLimits(
            settings.rate_limit_per_key, settings.rate_limit_per_tenant
        )
        schedule = checkpoints.CheckpointSchedule(runtime, settings.checkpoint_interval)
        schedule.start()
        # In-process work: this process keeps the governance snapshots (with a broker,
        # the workers do).
        ticker = None
        if settings.broker_url is None and settings.obligations_interval > 0:
            ticker = obligations.Ticker(runtime, settings.obligations_interval)
            ticker.start()
        try:
            yield
        finally:
            if ticker is not None:
                ticker.stop()
            schedule.stop()
            runtime.close()

    def provide_runtime(state: State) -> Runtime:
        runtime: Runtime = state.runtime
        return runtime

    app = Litestar(
        route_handlers=[
            TenantController,
            DirectoryController,
            ObligationController,
            ReminderChannelController,
            KeyController,
            EventLogController,
            TemplateController,
            TermsController,
            AmendmentController,
            ApplicationController,
            MemberController,
            RepresentativeController,
            OfficeController,
            BodyController,
            WorkingGroupController,
            WorkPlanController,
            MeetingController,
            ComplianceController,
            MinutesController,
            ActionItemController,
            ConfidentialityController,
            MotionController,
            ElectionController,
            AuditController,
            SigningKeyController,
            AuditStateController,
            ReviewPackController,
            PrivacyController,
            MetaController,
            PublicSite,
            Dashboard,
            stylesheet,
            favicon,
        ],
        lifespan=[lifespan],
        dependencies={"runtime": Provide(provide_runtime, sync_to_thread=False)},
        middleware=[
            ConsistencyHeaders,
            DefineMiddleware(
                BearerKeyMiddleware, exclude=[*PUBLIC_PATHS, *PAGE_PATHS, *DASHBOARD_PATHS]
            ),
            IdempotencyKeys,  # inside authentication: it scopes keys by the API key
            ParameterLimits(),
        ],
        request_class=LimitedRequest,
        template_config=template_config(),
        exception_handlers=EXCEPTION_HANDLERS,
        plugins=[
            OpenTelemetryPlugin(
                OpenTelemetryConfig(
                    tracer_provider=telemetry.provider,
                    # One server span a request, not three: the ASGI send/receive spans
                    # said nothing the server span does not, at a cost the profile showed.
                    exclude_spans=["receive", "send"],
                )
            )
        ],
        openapi_config=OpenAPIConfig(
            title="Concord",
            version="1",
            description=(
                "Governance for alliances of organisations. Authenticate with "
                "`Authorization: Bearer <api key>`. Errors are RFC 9457 problem details."
            ),
            path="/schema",
            render_plugins=[JsonRenderPlugin()],
            use_handler_docstrings=True,
        ),
        request_max_body_size=settings.max_body_bytes,
        debug=False,
    )
    declare_layer_problems(app, unauthenticated=[*PUBLIC_PATHS, *PAGE_PATHS, *DASHBOARD_PATHS])
    return app


def declare_layer_problems(app: Litestar, *, unauthenticated: list[str]) -> None:
    """Declare on every operation the problems the app-wide layers can answer before its
    handler runs, so the OpenAPI document names every status an operation can give: the
    key check (401) and rate limits (429) where a key is needed; the parameter limits
    (422: control characters, over-long values, in the path or query of any request);
    malformed JSON or query (400) where the operation takes input; the body size (413)
    where it takes a body; the database unavailable (503, everywhere: the key check reads
    it). A handler's own declaration of a status wins."""
    public = re.compile("|".join(unauthenticated))
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for handler in route.route_handlers:
            parameters = set(handler.parsed_fn_signature.parameters)
            inputs = parameters - RESERVED_KWARGS - set(handler.resolve_dependencies())
            statuses = [422, 503]
            if not public.search(route.path) and not handler.opt.get("exclude_from_auth"):
                statuses += [401, 429]
            if inputs or "data" in parameters:
                statuses.append(400)
            if "data" in parameters:
                statuses.append(413)
            handler.responses = {**problems(*statuses), **(handler.responses or {})}


def warn_about_the_database_role(runtime: Runtime) -> None:
    """Say once, at start-up, when the database role the service connects as could rewrite
    the event log (drop or skip its append-only trigger): production should connect as
    an application role and provision with CONCORD_DATABASE_OWNER_URL."""
    powers = runtime.backend.powers_over_the_log()
    if powers:
        log.warning(
            "the database role Concord connects as %s: it could rewrite the event log "
            "(drop or skip its append-only trigger). Run the service as an application role "
            "that owns nothing, with CONCORD_DATABASE_OWNER_URL set for provisioning "
            "(docs/operations.md, Database roles)",
            ", ".join(powers),
        )
