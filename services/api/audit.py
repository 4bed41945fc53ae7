"""Tamper evidence over HTTP: signed checkpoints, proofs, checkpoint webhooks and the
offline audit bundle. Auditors and tenant admins; none of it changes the record."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, delete, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, PathParameter, QueryParameter

from services import minutes, onboarding
from services.access import Principal
from services.api import schemas
from services.api.auth import LOG_READERS
from services.audit import bundle, checkpoints
from services.audit.signing import Checkpoint
from services.errors import NotFound
from services.runtime import Runtime

Size = Annotated[int, QueryParameter(ge=0, le=2**62, description="A tree size (records)")]
Position = Annotated[int, QueryParameter(ge=1, le=2**62, description="A log position")]


class CheckpointPage(msgspec.Struct, kw_only=True):
    items: list[Checkpoint]
    #: Pass as `after` for the next page; null on the last page.
    next_after: int | None


class InclusionProof(msgspec.Struct, kw_only=True):
    position: int
    leaf_index: int
    leaf_hash: str
    tree_size: int
    root_hash: str
    #: RFC 6962 audit path, hex, leaf to root.
    proof: list[str]


class ConsistencyProof(msgspec.Struct, kw_only=True):
    first: int
    second: int
    first_root: str
    second_root: str
    #: RFC 6962 consistency proof, hex.
    proof: list[str]


class AddWebhook(schemas.Request):
    url: Annotated[str, msgspec.Meta(min_length=1, max_length=2000)]


class WebhookOut(msgspec.Struct, kw_only=True):
    sink_id: str
    url: str
    added_by: str
    added_at: str
    #: The tree size of the last checkpoint the receiver acknowledged.
    delivered_size: int
    last_error: str | None
    last_attempt_at: str | None


class SigningKey(msgspec.Struct, kw_only=True):
    algorithm: str
    key_id: str
    #: The raw 32-byte Ed25519 public key, hex.
    public_key: str


def _webhook(row: dict[str, Any]) -> WebhookOut:
    return msgspec.convert(row, WebhookOut, strict=False)


class AuditController(Controller):
    path = "/v1/tenants/{slug:str}/audit"
    tags = ["Audit"]
    guards = [LOG_READERS]

    @post(
        "/checkpoints",
        operation_id="issueCheckpoint",
        responses=schemas.problems(401, 403, 404),
        sync_to_thread=True,
        status_code=201,
    )
    def issue(self, runtime: NamedDependency[Runtime], slug: FromPath[str]) -> Checkpoint:
        """Sign a checkpoint of the alliance's whole log now (the latest one, if the log
        has not grown since). Keep it: a later bundle verified against it proves that
        nothing it covers has changed."""
        onboarding.directory_entry(runtime, slug)
        with runtime.tenant(slug) as store:
            return checkpoints.issue(runtime, store, "on-demand")

    @get(
        "/checkpoints",
        operation_id="listCheckpoints",
        responses=schemas.problems(400, 401, 403, 404),
        sync_to_thread=True,
    )
    def list_checkpoints(
        self,
        runtime: NamedDependency[Runtime],
        slug: FromPath[str],
        after: Annotated[int, QueryParameter(ge=-1, le=2**62)] = -1,
        limit: Annotated[int, QueryParameter(ge=1, le=1000)] = 100,
    ) -> CheckpointPage:
        """Every signed checkpoint, smallest tree first, `limit` at a time."""
        onboarding.directory_entry(runtime, slug)
        with runtime.tenant(slug) as store:
            found = checkpoints.checkpoints(store, after=after, limit=limit + 1)
        more = len(found) > limit
        items = found[:limit]
        return CheckpointPage(items=items, next_after=items[-1].tree_size if more else None)

    @get(
        "/checkpoints/{tree_size:int}",
        operation_id="getCheckpoint",
        responses=schemas.problems(401, 403, 404),
        sync_to_thread=True,
    )
    def get_checkpoint(
        self,
        runtime: NamedDependency[Runtime],
        slug: FromPath[str],
        tree_size: Annotated[int, PathParameter(ge=0, le=2**62, description="A tree size")],
    ) -> Checkpoint:
        """The checkpoint of this tree size."""
        onboarding.directory_entry(runtime, slug)
        with runtime.tenant(slug) as store:
            found = checkpoints.checkpoint(store, tree_size)
        if found is None:
            raise NotFound(f"no checkpoint of tree size {tree_size} in this alliance")
        return found

    @get(
        "/proofs/inclusion",
        operation_id="getInclusionProof",
        responses=schemas.problems(400, 401, 403, 404, 422),
        sync_to_thread=True,
    )
    def inclusion(
        self,
        runtime: NamedDependency[Runtime],
        slug: FromPath[str],
        position: Position,
        tree_size: Annotated[
            int | None,
            QueryParameter(ge=0, le=2**62, description="Tree size (default: latest checkpoint's)"),
        ] = None,
    ) -> InclusionProof:
        """Proof that the record at `position` is in the tree of `tree_size` records (by
        default the latest checkpoint's): check it with RFC 9162's algorithm."""
        onboarding.directory_entry(runtime, slug)
        with runtime.tenant(slug) as store:
            return InclusionProof(**checkpoints.inclusion(store, position, tree_size))

    @get(
        "/proofs/consistency",
        operation_id="getConsistencyProof",
        responses=schemas.problems(400, 401, 403, 404, 422),
        sync_to_thread=True,
    )
    def consistency(
        self,
        runtime: NamedDependency[Runtime],
        slug: FromPath[str],
        first: Size,
        second: Size,
    ) -> ConsistencyProof:
        """Proof that the log's first `first` records are unchanged in its first `second`
        (e.g. between two checkpoints you hold)."""
        onboarding.directory_entry(runtime, slug)
        with runtime.tenant(slug) as store:
            return ConsistencyProof(**checkpoints.consistency(store, first, second))

    @get(
        "/export",
        operation_id="exportAuditBundle",
        responses=schemas.problems(401, 403, 404),
        sync_to_thread=True,
        media_type="application/zip",
    )
    def export(
        self,
        request: Request[Principal, Any, Any],
        runtime: NamedDependency[Runtime],
        slug: FromPath[str],
    ) -> Response[bytes]:
        """The audit bundle (a zip) to verify offline with `concord audit verify`. Records
        of confidential minutes are withheld (proved present by their hash, content not
        shown) unless the alliance lets this key's role read confidential minutes."""
        onboarding.directory_entry(runtime, slug)
        reader = minutes.may_read_confidential(runtime, slug, request.user)
        data, done = bundle.export_bytes(runtime, slug, confidential=reader)
        name = f"{slug}-audit-{done.checkpoint.tree_size}.zip"
        return Response(
            data,
            media_type="application/zip",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )

    @post(
        "/webhooks",
        operation_id="addCheckpointWebhook",
        responses=schemas.WRITE_PROBLEMS,
        sync_to_thread=True,
        status_code=201,
    )
    def add_webhook(
        self,
        request: Request[Principal, Any, Any],
        runtime: NamedDependency[Runtime],
        slug: FromPath[str],
        data: JSONBody[AddWebhook],
    ) -> WebhookOut:
        """Send every checkpoint of this alliance, from the first, to an address outside
        the platform that you choose (a JSON POST each, in order; retried at the next
        checkpoint until it answers 2xx)."""
        onboarding.ensure_active(runtime, slug)
        with runtime.tenant(slug) as store:
            return _webhook(checkpoints.add_sink(runtime, store, data.url, request.user.key_id))

    @get(
        "/webhooks",
        operation_id="listCheckpointWebhooks",
        responses=schemas.problems(401, 403, 404),
        sync_to_thread=True,
    )
    def list_webhooks(
        self, runtime: NamedDependency[Runtime], slug: FromPath[str]
    ) -> list[WebhookOut]:
        """The checkpoint webhooks, with how far each has been delivered."""
        onboarding.directory_entry(runtime, slug)
        with runtime.tenant(slug) as store:
            return [_webhook(row) for row in checkpoints.sinks(store)]

    @delete(
        "/webhooks/{sink_id:str}",
        operation_id="removeCheckpointWebhook",
        responses=schemas.problems(401, 403, 404),
        sync_to_thread=True,
    )
    def remove_webhook(
        self, runtime: NamedDependency[Runtime], slug: FromPath[str], sink_id: FromPath[str]
    ) -> None:
        """Stop sending checkpoints to this webhook."""
        onboarding.directory_entry(runtime, slug)
        with runtime.tenant(slug) as store:
            checkpoints.remove_sink(store, sink_id)


class SigningKeyController(Controller):
    path = "/v1/audit"
    tags = ["Audit"]

    @get("/signing-key", operation_id="getSigningKey", sync_to_thread=True)
    def signing_key(self, runtime: NamedDependency[Runtime]) -> SigningKey:
        """The platform's checkpoint key (public): pin it, or the key of a checkpoint you
        kept, when you verify a bundle."""
        made = checkpoints.signer(runtime.settings)
        return SigningKey(algorithm="Ed25519", key_id=made.key_id, public_key=made.public_key.hex())
