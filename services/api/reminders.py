"""Where an alliance's reminders of its obligations go: a signed webhook and e-mail
recipients (docs/reminders.md). Tenant admins set them; officers may read them (never the
webhook's signing secret, which only the answer that made it shows)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, delete, get, put
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody

from services import onboarding, reminders
from services.access import Principal
from services.api import schemas
from services.api.auth import RUNNERS, TENANT_ADMIN
from services.runtime import Runtime

Email = Annotated[str, msgspec.Meta(min_length=3, max_length=254)]


class ChannelsIn(schemas.Request):
    """The channels, replacing what was set (at least one of the two)."""

    #: An http(s) address that receives a signed JSON POST per reminder; null: none.
    webhook_url: Annotated[str, msgspec.Meta(min_length=1, max_length=2000)] | None = None
    #: Addresses e-mailed each reminder (personal data: kept sealed, erasable).
    emails: Annotated[list[Email], msgspec.Meta(max_length=10)] = []
    #: Make a new signing secret for the webhook (the old one stops verifying).
    rotate_secret: bool = False


class ChannelsOut(msgspec.Struct, kw_only=True):
    webhook_url: str | None
    #: Whether the webhook has a signing secret, and its id (the secret is never shown
    #: again after the answer that made it).
    webhook_secret_set: bool
    webhook_secret_id: str | None
    #: Erased recipients show as "[erased]" (they are not sent to).
    emails: list[str]
    #: When channels were first set (reminders go out from then on).
    since: datetime | None
    updated_at: datetime | None


class ChannelsSetOut(ChannelsOut, kw_only=True):
    #: The webhook's new signing secret, when this request made one: shown this once.
    webhook_secret: str | None = None


def _out(view: reminders.ChannelsView) -> dict[str, Any]:
    return {
        "webhook_url": view.webhook_url,
        "webhook_secret_set": view.secret_id is not None,
        "webhook_secret_id": view.secret_id,
        "emails": view.emails,
        "since": view.since,
        "updated_at": view.updated_at,
    }


class ReminderChannelController(Controller):
    path = "/v1/tenants/{slug:str}/reminder-channels"
    tags = ["Obligations"]

    @get(
        "/",
        operation_id="getReminderChannels",
        guards=[RUNNERS],
        responses=schemas.problems(401, 403, 404),
        sync_to_thread=True,
    )
    def get_channels(self, runtime: NamedDependency[Runtime], slug: FromPath[str]) -> ChannelsOut:
        """Where the alliance's reminders go (no secret)."""
        onboarding.directory_entry(runtime, slug)
        return ChannelsOut(**_out(reminders.channels_of(runtime, slug)))

    @put(
        "/",
        operation_id="setReminderChannels",
        guards=[TENANT_ADMIN],
        responses=schemas.WRITE_PROBLEMS,
        sync_to_thread=True,
    )
    def set_channels(
        self,
        request: Request[Principal, Any, Any],
        runtime: NamedDependency[Runtime],
        slug: FromPath[str],
        data: JSONBody[ChannelsIn],
    ) -> ChannelsSetOut:
        """Send the alliance's reminders to a webhook and/or e-mail addresses. The first
        webhook (or `rotate_secret`) gets a signing secret, in this answer only."""
        onboarding.ensure_active(runtime, slug)
        view, secret = reminders.set_channels(
            runtime,
            slug,
            webhook_url=data.webhook_url,
            emails=list(data.emails),
            rotate_secret=data.rotate_secret,
            by=request.user.actor,
        )
        return ChannelsSetOut(**_out(view), webhook_secret=secret)

    @delete(
        "/",
        operation_id="removeReminderChannels",
        guards=[TENANT_ADMIN],
        responses=schemas.problems(401, 403, 404),
        sync_to_thread=True,
    )
    def remove_channels(
        self,
        request: Request[Principal, Any, Any],
        runtime: NamedDependency[Runtime],
        slug: FromPath[str],
    ) -> None:
        """Send no more reminders (queued ones are not delivered)."""
        onboarding.ensure_active(runtime, slug)
        reminders.remove_channels(runtime, slug, by=request.user.actor)
