"""The minutes API (draft, amend, approve, publish, correct), action items, and the
alliance's setting of who may read confidential minutes."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal
from uuid import uuid4

import msgspec
from litestar import Controller, Request, get, post, put
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, QueryParameter

from domain.minutes import Action, Item, NamedPerson
from services import minutes
from services.access import Principal
from services.api import schemas
from services.api.auth import ANYONE_OF_THE_TENANT, RUNNERS, TENANT_ADMIN
from services.api.schemas import Email, Id, Key, Note, PersonName, Ref, TenantRoleName, Text
from services.runtime import Runtime

Title = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
MinutesText = Annotated[str, msgspec.Meta(min_length=1, max_length=20_000)]
LocalId = Annotated[
    str,
    msgspec.Meta(
        pattern=r"^[A-Za-z0-9_-]{1,40}$",
        description="Your own id for the item or action, kept across amendments (1-40 of "
        "A-Z a-z 0-9 _ -); one is made up when missing",
    ),
]
Owner = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
Due = Annotated[date, msgspec.Meta(description="The day it is due")]
MinutesStatus = Literal["draft", "approved", "published"]


class ActionIn(schemas.Request, kw_only=True):
    action_id: LocalId | None = None
    description: Text
    #: Who owns it: a member organisation (its member id), an office or a body (its key).
    owner_kind: Literal["member", "office", "body"]
    owner: Owner
    due_on: Due


class PersonIn(schemas.Request, kw_only=True):
    """A person an item names: personal data, kept sealed and erasable on request."""

    name: PersonName
    email: Email | None = None


class ItemIn(schemas.Request, kw_only=True):
    item_id: LocalId | None = None
    title: Title
    #: Mention the people the item names as {1}, {2}... (the order of `people`): reads
    #: show their names there, or "[erased]" once their data is erased.
    text: MinutesText
    decisions: Annotated[list[Text], msgspec.Meta(max_length=50)] = []
    actions: Annotated[list[ActionIn], msgspec.Meta(max_length=50)] = []
    #: Kept from the public version (replaced there by a notice and a commitment).
    confidential: bool = False
    people: Annotated[list[PersonIn], msgspec.Meta(max_length=50)] = []


Items = Annotated[list[ItemIn], msgspec.Meta(min_length=1, max_length=100)]


class DraftMinutes(schemas.Request, kw_only=True):
    #: The held meeting they record.
    meeting_id: Id
    items: Items
    #: The whole minutes are confidential (e.g. to protect service users).
    confidential: bool = False
    confidential_reason: Note | None = None


class AmendMinutes(schemas.Request, kw_only=True):
    """The whole new content. `confidential` must be given again, so that leaving it out
    can never make confidential minutes public."""

    items: Items
    confidential: bool
    confidential_reason: Note | None = None


class ApproveMinutes(schemas.Request, kw_only=True):
    #: The body that approves them (the ToR names it: normally the body that met).
    by_body: Key
    #: The held meeting of that body at which they were approved (normally the next one).
    at_meeting_id: Id | None = None
    decision_ref: Ref | None = None


class CorrectMinutes(schemas.Request, kw_only=True):
    #: The item corrected (none: the minutes as a whole).
    item_id: LocalId | None = None
    text: MinutesText
    confidential: bool = False
    reason: Text
    by_body: Key
    decision_ref: Ref


class NoteIn(schemas.Request, kw_only=True):
    note: Text


class ReadersIn(schemas.Request, kw_only=True):
    #: The roles that may read confidential minutes (never the public or the platform).
    readers: Annotated[list[TenantRoleName], msgspec.Meta(max_length=10)]


class ActionOut(msgspec.Struct, kw_only=True):
    action_id: str
    description: str
    owner_kind: str
    owner: str
    due_on: date


class PersonOut(msgspec.Struct, kw_only=True, omit_defaults=True):
    name: str | None = None
    email: str | None = None
    erased: bool = False


class ItemOut(msgspec.Struct, kw_only=True):
    #: Withheld (null) with a confidential item's text: the id may say too much.
    item_id: str | None = None
    #: Its place in the minutes (1: first).
    position: int
    confidential: bool
    #: Absent when the item is confidential and this key may not read it.
    title: str | None = None
    text: str | None = None
    decisions: list[str] | None = None
    actions: list[ActionOut] | None = None
    #: In place of a confidential item's text.
    notice: str | None = None
    #: SHA-256 commitment to the approved item (once approved).
    commitment: str | None = None
    #: The people the item names (their emails only for keys that may read confidential
    #: minutes); {"erased": true} for a person whose data was erased. Absent when the item
    #: names nobody.
    people: list[PersonOut] | msgspec.UnsetType = msgspec.UNSET
    #: The text with its mentions ({1}, {2}...), as the commitment covers it (absent when
    #: the item names nobody: `text` is then as written).
    text_as_written: str | msgspec.UnsetType = msgspec.UNSET


class CorrectionOut(msgspec.Struct, kw_only=True):
    correction_id: str
    item_id: str | None = None
    confidential: bool
    text: str | None = None
    notice: str | None = None
    reason: str | None = None
    commitment: str
    corrected_on: date
    by_body: str | None = None
    decision_ref: str | None = None
    by: str | None = None
    #: The salt of the correction's commitment (only for keys that may read confidential).
    salt: str | None = None


class MinutesOut(msgspec.Struct, kw_only=True):
    minutes_id: str
    seq: int
    meeting_id: str
    body: str
    meeting_date: date
    status: Literal["draft", "approved"]
    published: bool
    confidential: bool
    confidential_reason: str | None = None
    items: list[ItemOut]
    drafted_by: str
    approved_on: date | None = None
    approved_by_body: str | None = None
    approved_at_meeting_id: str | None = None
    approved_by: str | None = None
    decision_ref: str | None = None
    #: SHA-256 over the meeting, the confidentiality and every item's commitment.
    digest: str | None = None
    #: item id -> the salt of its commitment (only for keys that may read confidential).
    salts: dict[str, str] | None = None
    published_on: date | None = None
    corrections: list[CorrectionOut]
    #: True when confidential text was withheld from this key.
    redacted: bool = False


class MinutesPage(msgspec.Struct, kw_only=True):
    items: list[MinutesOut]
    next_after: int | None = None


class PublicMinutesOut(msgspec.Struct, kw_only=True):
    minutes_id: str
    meeting_id: str
    body: str
    meeting_date: date
    published_on: date
    #: Exactly what the public pages show.
    public: dict[str, Any]


class ProgressOut(msgspec.Struct, kw_only=True):
    note: str | None
    on: date
    by: str
    done: bool


class ActionItemOut(msgspec.Struct, kw_only=True):
    action_item_id: str
    seq: int
    #: The action's and its item's ids in the minutes; null, like the description, when
    #: the action is confidential and this key may not read it.
    action_id: str | None
    minutes_id: str
    meeting_id: str
    item_id: str | None
    description: str | None
    owner_kind: str
    owner: str
    due_on: date
    confidential: bool
    status: Literal["open", "done"]
    overdue: bool
    completed_on: date | None = None
    progress: list[ProgressOut]


class ActionItemPage(msgspec.Struct, kw_only=True):
    items: list[ActionItemOut]
    next_after: int | None = None


class ReadersOut(msgspec.Struct, kw_only=True):
    readers: list[str]
    changed_by: str | None = None
    changed_at: str | None = None


def _items(data: list[ItemIn]) -> list[Item]:
    return [
        Item(
            item_id=i.item_id or uuid4().hex[:12],
            title=i.title,
            text=i.text,
            decisions=tuple(i.decisions),
            actions=tuple(
                Action(
                    action_id=a.action_id or uuid4().hex[:12],
                    description=a.description,
                    owner_kind=a.owner_kind,
                    owner=a.owner,
                    due_on=a.due_on,
                )
                for a in i.actions
            ),
            confidential=i.confidential,
            people=tuple(NamedPerson(name=p.name, email=p.email) for p in i.people),
        )
        for i in data
    ]


def _reader(runtime: Runtime, slug: str, request: Request[Principal, Any, Any]) -> bool:
    return minutes.may_read_confidential(runtime, slug, request.user)


def _minutes_out(row: dict[str, Any]) -> MinutesOut:
    return msgspec.convert(row, MinutesOut, strict=False)


def _minutes(
    runtime: Runtime, slug: str, minutes_id: str, request: Request[Principal, Any, Any]
) -> MinutesOut:
    reader = _reader(runtime, slug, request)
    return _minutes_out(minutes.minutes(runtime, slug, minutes_id, reader=reader))


class MinutesController(Controller):
    path = "/v1/tenants/{slug:str}/minutes"
    tags = ["Meetings and minutes"]

    @get(
        "/",
        operation_id="listMinutes",
        guards=[ANYONE_OF_THE_TENANT],
        responses=schemas.problems(400, 401, 403, 404),
        sync_to_thread=True,
    )
    def list_minutes(
        self,
        request: Request[Principal, Any, Any],
        runtime: NamedDependency[Runtime],
        slug: FromPath[str],
        status: Annotated[MinutesStatus | None, QueryParameter()] = None,
        of_body: Annotated[Key | None, QueryParameter(name="body")] = None,
        after: Annotated[int, QueryParameter(ge=0, le=2**62)] = 0,
        limit: Annotated[int, QueryParameter(ge=1, le=200)] = 50,
    ) -> MinutesPage:
        """Minutes in the order they were drafted. Confidential text is withheld unless the
        alliance lets this key's role read it."""
        rows = minutes.minutes_list(
            runtime,
            slug,
            status=status,
            body=of_body,
            after=after,
            limit=limit + 1,
            reader=_reader(runtime, slug, request),
        )
        items, next_after = schemas.page_of(rows, limit, MinutesOut)
        return MinutesPage(items=items, next_after=next_after)

    @get(
        "/{minutes_id:str}",
        operation_id="getMinutes",
        guards=[ANYONE_OF_THE_TENANT],
        responses=schemas.problems(401, 403, 404),
        sync_to_thread=True,
    )
    def get_minutes(
        self,
        request: Request[Principal, Any, Any],
        runtime: NamedDependency[Runtime],
        slug: FromPath[str],
        minutes_id: FromPath[Id],
    ) -> MinutesOut:
        """One set of minutes. A key allowed to read confidential minutes also gets each
        commitment's salt, to check it against the public version."""
        return _minutes(runtime, slug, minutes_id, request)

    @get(
        "/{minutes_id:str}/public",
        operation_id="getPublicMinutes",
        guards=[ANYONE_OF_THE_TENANT],
        responses=schemas.problems(401, 403, 404),
        sync_to_thread=True,
    )
    def get_public(
        self, runtime: NamedDependency[Runtime], slug: FromPath[str], minutes_id: FromPath[Id]
    ) -> PublicMinutesOut:
        """The published version, exactly as the public pages show it."""
        return msgspec.convert(
            minutes.public_minutes(runtime, slug, minutes_id), PublicMinutesOut, strict=False
        )

    @post(
        "/",
        operation_id="draftMinutes",
        guards=[RUNNERS],
        responses=schemas.WRITE_PROBLEMS,
        sync_to_thread=True,
        status_code=201,
    )
    def draft(
        self,
        request: Request[Principal, Any, Any],
        runtime: NamedDependency[Runtime],
        slug: FromPath[str],
        data: JSONBody[DraftMinutes],
    ) -> MinutesOut:
        """Draft the minutes of a held meeting: items with text, decisions and actions,
        each public or confidential."""
        minutes_id = minutes.draft(
            runtime,
            slug,
            meeting_id=data.meeting_id,
            items=_items(data.items),
            confidential=data.confidential,
            confidential_reason=data.confidential_reason,
            by=request.user.actor,
        )
        return _minutes(runtime, slug, minutes_id, request)

    @put(
        "/{minutes_id:str}",
        operation_id="amendMinutes",
        guards=[RUNNERS],
        responses=schemas.WRITE_PROBLEMS,
        sync_to_thread=True,
    )
    def amend(
        self,
        request: Request[Principal, Any, Any],
        runtime: NamedDependency[Runtime],
        slug: FromPath[str],
        minutes_id: FromPath[Id],
        data: JSONBody[AmendMinutes],
    ) -> MinutesOut:
        """Replace the content of draft minutes. Approved minutes never change (409):
        record a correction instead."""
        minutes.amend(
            runtime,
            slug,
            minutes_id,
            items=_items(data.items),
            confidential=data.confidential,
            confidential_reason=data.confidential_reason,
            by=request.user.actor,
        )
        return _minutes(runtime, slug, minutes_id, request)

    @post(
        "/{minutes_id:str}/approve",
        operation_id="approveMinutes",
        guards=[RUNNERS],
        responses=schemas.WRITE_PROBLEMS,
        sync_to_thread=True,
        status_code=200,
    )
    def approve(
        self,
        request: Request[Principal, Any, Any],
        runtime: NamedDependency[Runtime],
        slug: FromPath[str],
        minutes_id: FromPath[Id],
        data: JSONBody[ApproveMinutes],
    ) -> MinutesOut:
        """Approve the minutes by the body the ToR names, and lock them. Each item gets
        its hash commitment; the actions they record become action items."""
        minutes.approve(
            runtime,
            slug,
            minutes_id,
            by_body=data.by_body,
            at_meeting_id=data.at_meeting_id,
            decision_ref=data.decision_ref,
            by=request.user.actor,
        )
        return _minutes(runtime, slug, minutes_id, request)

    @post(
        "/{minutes_id:str}/publish",
        operation_id="publishMinutes",
        guards=[RUNNERS],
        responses=schemas.problems(401, 403, 404, 409),
        sync_to_thread=True,
        status_code=200,
    )
    def publish(
        self,
        request: Request[Principal, Any, Any],
        runtime: NamedDependency[Runtime],
        slug: FromPath[str],
        minutes_id: FromPath[Id],
    ) -> MinutesOut:
        """Publish approved minutes on the alliance's public pages (confidential items
        as notices with their commitments)."""
        minutes.publish(runtime, slug, minutes_id, by=request.user.actor)
        return _minutes(runtime, slug, minutes_id, request)

    @post(
        "/{minutes_id:str}/corrections",
        operation_id="correctMinutes",
        guards=[RUNNERS],
        responses=schemas.WRITE_PROBLEMS,
        sync_to_thread=True,
        status_code=201,
    )
    def correct(
        self,
        request: Request[Principal, Any, Any],
        runtime: NamedDependency[Runtime],
        slug: FromPath[str],
        minutes_id: FromPath[Id],
        data: JSONBody[CorrectMinutes],
    ) -> MinutesOut:
        """Correct approved minutes: the approved text stays; the correction is a new,
        visible record (shown on the public pages too, as a notice if confidential)."""
        minutes.correct(
            runtime,
            slug,
            minutes_id,
            item_id=data.item_id,
            text=data.text,
            confidential=data.confidential,
            reason=data.reason,
            by_body=data.by_body,
            decision_ref=data.decision_ref,
            by=request.user.actor,
        )
        return _minutes(runtime, slug, minutes_id, request)


def _action(
    runtime: Runtime, slug: str, action_item_id: str, request: Request[Principal, Any, Any]
) -> ActionItemOut:
    row = minutes.action_item(runtime, slug, action_item_id, reader=_reader(runtime, slug, request))
    return msgspec.convert(row, ActionItemOut, strict=False)


class ActionItemController(Controller):
    path = "/v1/tenants/{slug:str}/action-items"
    tags = ["Meetings and minutes"]

    @get(
        "/",
        operation_id="listActionItems",
        guards=[ANYONE_OF_THE_TENANT],
        responses=schemas.problems(400, 401, 403, 404),
        sync_to_thread=True,
    )
    def list_actions(
        self,
        request: Request[Principal, Any, Any],
        runtime: NamedDependency[Runtime],
        slug: FromPath[str],
        status: Annotated[Literal["open", "done"] | None, QueryParameter()] = None,
        overdue: Annotated[
            bool, QueryParameter(description="Only open ones past their due day")
        ] = False,
        owner: Annotated[Owner | None, QueryParameter()] = None,
        minutes_id: Annotated[Id | None, QueryParameter()] = None,
        after: Annotated[int, QueryParameter(ge=0, le=2**62)] = 0,
        limit: Annotated[int, QueryParameter(ge=1, le=200)] = 50,
    ) -> ActionItemPage:
        """Action items in the order they were raised; `overdue=true` lists the late ones."""
        rows = minutes.action_items(
            runtime,
            slug,
            status=status,
            overdue=overdue,
            owner=owner,
            minutes_id=minutes_id,
            after=after,
            limit=limit + 1,
            reader=_reader(runtime, slug, request),
        )
        items, next_after = schemas.page_of(rows, limit, ActionItemOut)
        return ActionItemPage(items=items, next_after=next_after)

    @get(
        "/{action_item_id:str}",
        operation_id="getActionItem",
        guards=[ANYONE_OF_THE_TENANT],
        responses=schemas.problems(401, 403, 404),
        sync_to_thread=True,
    )
    def get_action(
        self,
        request: Request[Principal, Any, Any],
        runtime: NamedDependency[Runtime],
        slug: FromPath[str],
        action_item_id: FromPath[Id],
    ) -> ActionItemOut:
        """One action item and its progress."""
        return _action(runtime, slug, action_item_id, request)

    @post(
        "/{action_item_id:str}/progress",
        operation_id="noteActionProgress",
        guards=[RUNNERS],
        responses=schemas.WRITE_PROBLEMS,
        sync_to_thread=True,
        status_code=200,
    )
    def progress(
        self,
        request: Request[Principal, Any, Any],
        runtime: NamedDependency[Runtime],
        slug: FromPath[str],
        action_item_id: FromPath[Id],
        data: JSONBody[NoteIn],
    ) -> ActionItemOut:
        """Note progress on an open action item."""
        minutes.note_progress(runtime, slug, action_item_id, note=data.note, by=request.user.actor)
        return _action(runtime, slug, action_item_id, request)

    @post(
        "/{action_item_id:str}/complete",
        operation_id="completeActionItem",
        guards=[RUNNERS],
        responses=schemas.WRITE_PROBLEMS,
        sync_to_thread=True,
        status_code=200,
    )
    def complete(
        self,
        request: Request[Principal, Any, Any],
        runtime: NamedDependency[Runtime],
        slug: FromPath[str],
        action_item_id: FromPath[Id],
        data: JSONBody[NoteIn],
    ) -> ActionItemOut:
        """Mark an action item done."""
        minutes.complete(runtime, slug, action_item_id, note=data.note, by=request.user.actor)
        return _action(runtime, slug, action_item_id, request)


class ConfidentialityController(Controller):
    path = "/v1/tenants/{slug:str}/settings/confidential-readers"
    tags = ["Meetings and minutes"]

    @get(
        "/",
        operation_id="getConfidentialReaders",
        guards=[ANYONE_OF_THE_TENANT],
        responses=schemas.problems(401, 403, 404),
        sync_to_thread=True,
    )
    def get_readers(self, runtime: NamedDependency[Runtime], slug: FromPath[str]) -> ReadersOut:
        """The roles that may read confidential minutes (default: tenant-admin, officer)."""
        return msgspec.convert(minutes.confidential_readers(runtime, slug), ReadersOut)

    @put(
        "/",
        operation_id="setConfidentialReaders",
        guards=[TENANT_ADMIN],
        responses=schemas.WRITE_PROBLEMS,
        sync_to_thread=True,
    )
    def set_readers(
        self,
        request: Request[Principal, Any, Any],
        runtime: NamedDependency[Runtime],
        slug: FromPath[str],
        data: JSONBody[ReadersIn],
    ) -> ReadersOut:
        """Set which roles may read confidential minutes (an empty list: none)."""
        minutes.set_confidential_readers(
            runtime, slug, readers=list(data.readers), by=request.user.actor
        )
        return msgspec.convert(minutes.confidential_readers(runtime, slug), ReadersOut)
