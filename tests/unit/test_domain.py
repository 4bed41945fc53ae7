"""The platform's aggregates: given events, when a command, then these events or this error."""

from __future__ import annotations

import pytest
from eventsourcing.application import Application

from domain.alliance import Alliance
from domain.api_key import ApiKey
from domain.errors import (
    InvalidSlug,
    KeyAlreadyRevoked,
    RoleNotAllowed,
    TenantAlreadySuspended,
    TenantNotSuspended,
    UnknownRole,
    UnknownTemplate,
)
from domain.tenant import Tenant
from domain.values import Role, checked_slug, checked_template, checked_tenant_role, is_valid_slug


def onboarded() -> Tenant:
    return Tenant(
        slug="kent-fja", name="Kent", region="Kent", template="family-justice", onboarded_by="key:1"
    )


def event_names(aggregate) -> list[str]:
    return [type(event).__qualname__ for event in aggregate.collect_events()]


def test_onboarding_records_who_onboarded_which_alliance():
    tenant = onboarded()

    (event,) = tenant.collect_events()
    assert isinstance(event, Tenant.Onboarded)
    assert (event.slug, event.name, event.region, event.template, event.onboarded_by) == (
        "kent-fja",
        "Kent",
        "Kent",
        "family-justice",
        "key:1",
    )
    assert tenant.id == Tenant.create_id("kent-fja")


def test_suspending_then_reinstating_records_both_with_who_did_it():
    tenant = onboarded()
    tenant.collect_events()

    tenant.suspend(reason="annual review overdue", by="key:2")
    tenant.reinstate(by="key:3")

    events = tenant.collect_events()
    assert [type(e).__qualname__ for e in events] == ["Tenant.Suspended", "Tenant.Reinstated"]
    assert events[0].reason == "annual review overdue" and events[0].suspended_by == "key:2"
    assert events[1].reinstated_by == "key:3"
    assert tenant.suspended is False


def test_a_suspended_tenant_cannot_be_suspended_again():
    tenant = onboarded()
    tenant.suspend(reason="r", by="k")
    tenant.collect_events()

    with pytest.raises(TenantAlreadySuspended):
        tenant.suspend(reason="again", by="k")
    assert tenant.collect_events() == []


def test_only_a_suspended_tenant_can_be_reinstated():
    with pytest.raises(TenantNotSuspended):
        onboarded().reinstate(by="k")


def test_keys_record_only_a_digest_and_stay_revoked():
    key = ApiKey.issue(
        key_hash="ab" * 32, tenant="kent-fja", role=Role.OFFICER, label="sec", issued_by="key:1"
    )
    key.revoke(by="key:1")

    assert event_names(key) == ["ApiKey.Issued", "ApiKey.Revoked"]
    with pytest.raises(KeyAlreadyRevoked):
        key.revoke(by="key:1")


@pytest.mark.parametrize(
    ("tenant", "role"), [(None, Role.TENANT_ADMIN), ("kent-fja", Role.PLATFORM_ADMIN)]
)
def test_platform_keys_are_platform_admins_and_tenant_keys_never_are(tenant, role):
    with pytest.raises(RoleNotAllowed):
        ApiKey.issue(key_hash="cd" * 32, tenant=tenant, role=role, label="x", issued_by="k")


def test_the_same_digest_names_the_same_key():
    assert ApiKey.create_id("ab" * 32) == ApiKey.create_id("ab" * 32)
    assert ApiKey.create_id("ab" * 32) != ApiKey.create_id("cd" * 32)


def test_replaying_the_events_rebuilds_the_same_state():
    app: Application = Application()
    tenant = onboarded()
    tenant.suspend(reason="r", by="k")
    tenant.reinstate(by="k")
    tenant.suspend(reason="again", by="k")
    app.save(tenant)

    replayed = app.repository.get(tenant.id)

    assert vars(replayed) == vars(tenant)
    assert replayed.suspended is True and replayed.version == 4


def test_the_alliance_is_founded_with_a_deterministic_id():
    alliance = Alliance(
        slug="kent-fja", name="K", region="R", template="family-justice", founded_by="key:1"
    )

    assert alliance.id == Alliance.create_id("kent-fja") != Tenant.create_id("kent-fja")
    assert event_names(alliance) == ["Alliance.Founded"]


@pytest.mark.parametrize("slug", ["ab", "kent-fja", "a1", "a" * 40, "a-b-c-1"])
def test_good_slugs(slug):
    assert is_valid_slug(slug) and checked_slug(slug) == slug


@pytest.mark.parametrize("slug", ["a", "A1", "1a", "-a", "a_b", "a" * 41, "a b", "ä1", "a\n"])
def test_bad_slugs(slug):
    with pytest.raises(InvalidSlug):
        checked_slug(slug)


def test_unknown_templates_and_roles_name_the_choices():
    with pytest.raises(UnknownTemplate, match="kinship-care"):
        checked_template("book-club")
    with pytest.raises(UnknownRole, match="auditor"):
        checked_tenant_role("platform-admin")
    assert checked_tenant_role("auditor") is Role.AUDITOR
