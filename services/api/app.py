"""The one wiring function: `create_app(settings)` builds the whole HTTP service."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from litestar import Litestar
from litestar.datastructures import State
from litestar.di import Provide
from litestar.middleware import DefineMiddleware
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin
from litestar.plugins.opentelemetry import OpenTelemetryConfig, OpenTelemetryPlugin

from infra import msgspec_types
from infra.settings import Settings
from infra.telemetry import Telemetry
from services import access
from services.api.audit import AuditController, SigningKeyController
from services.api.audit_replay import AuditStateController
from services.api.audit_review import ReviewPackController
from services.api.auth import PUBLIC_PATHS, BearerKeyMiddleware, RateLimits
from services.api.consistency import ConsistencyHeaders
from services.api.decisions import MotionController
from services.api.elections import ElectionController
from services.api.events import EventLogController
from services.api.keys import KeyController
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
        if settings.admin_key:
            access.ensure_platform_key(runtime, settings.admin_key)
        app.state.runtime = runtime
        app.state.rate_limits = RateLimits(
            settings.rate_limit_per_key, settings.rate_limit_per_tenant
        )
        schedule = checkpoints.CheckpointSchedule(runtime, settings.checkpoint_interval)
        schedule.start()
        try:
            yield
        finally:
            schedule.stop()
            runtime.close()

    def provide_runtime(state: State) -> Runtime:
        runtime: Runtime = state.runtime
        return runtime

    return Litestar(
        route_handlers=[
            TenantController,
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
            stylesheet,
            favicon,
        ],
        lifespan=[lifespan],
        dependencies={"runtime": Provide(provide_runtime, sync_to_thread=False)},
        middleware=[
            ConsistencyHeaders,
            DefineMiddleware(BearerKeyMiddleware, exclude=[*PUBLIC_PATHS, *PAGE_PATHS]),
        ],
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
