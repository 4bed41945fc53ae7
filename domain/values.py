"""Value types shared by the platform's aggregates: slugs, roles, templates."""

from __future__ import annotations

import re
from enum import StrEnum
from uuid import NAMESPACE_URL, UUID, uuid5

from domain.errors import InvalidSlug, InvalidText, UnknownRole, UnknownTemplate

SLUG_PATTERN = r"^[a-z][a-z0-9-]{1,39}$"
_SLUG = re.compile(SLUG_PATTERN)

# Every deterministic id of the platform hangs off this namespace, so the same natural
# key (a slug, a key hash) always names the same aggregate, on any machine.
CONCORD_NAMESPACE = uuid5(NAMESPACE_URL, "https://concord.example/ids")


def is_valid_slug(slug: str) -> bool:
    """True when the slug can name a tenant (and so a schema or a folder)."""
    return bool(_SLUG.fullmatch(slug))


def checked_slug(slug: str) -> str:
    """The slug itself, or InvalidSlug before anything is built from it."""
    if not is_valid_slug(slug):
        raise InvalidSlug(slug)
    return slug


#: C0 controls but tab, line feed and carriage return; DEL; the C1 controls. PostgreSQL
#: text cannot hold U+0000, and none of them shows in a page (the API refuses them too).
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def checked_text(value: str, field: str) -> str:
    """The text itself, or InvalidText when it holds a control character: checked before
    it is recorded, so no event holds text a read model cannot store."""
    found = _CONTROL.search(value)
    if found is not None:
        raise InvalidText(field, found.group())
    return value


def natural_id(kind: str, key: str) -> UUID:
    """The aggregate id for a natural key, e.g. natural_id("tenant", "kent-fja")."""
    return uuid5(CONCORD_NAMESPACE, f"{kind}:{key}")


class Role(StrEnum):
    """What a key may do. Platform admins act on the platform; the rest on one tenant."""

    PLATFORM_ADMIN = "platform-admin"
    TENANT_ADMIN = "tenant-admin"
    OFFICER = "officer"
    MEMBER = "member"
    AUDITOR = "auditor"

    @property
    def is_tenant_role(self) -> bool:
        return self is not Role.PLATFORM_ADMIN


TENANT_ROLES = tuple(role for role in Role if role.is_tenant_role)


def checked_tenant_role(name: str) -> Role:
    """The tenant role of that name, or UnknownRole."""
    try:
        role = Role(name)
    except ValueError:
        role = None
    if role is None or not role.is_tenant_role:
        raise UnknownRole(name, [r.value for r in TENANT_ROLES])
    return role


class Template(StrEnum):
    """The governance templates an alliance can be founded from (one per source alliance)."""

    FAMILY_JUSTICE = "family-justice"
    SEPARATED_FAMILIES = "separated-families"
    CHILDREN_IN_CARE = "children-in-care"
    KINSHIP_NETWORK = "kinship-network"
    KINSHIP_CARE = "kinship-care"


def checked_template(name: str) -> Template:
    """The template of that name, or UnknownTemplate."""
    try:
        return Template(name)
    except ValueError:
        raise UnknownTemplate(name, [t.value for t in Template]) from None
