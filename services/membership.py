"""Use cases of membership: applications on the ToR's route, members and their status,
representatives, and conduct reviews."""

from __future__ import annotations

from typing import Any, Literal

from domain.errors import AlreadyMember
from domain.membership import ConductOutcome, Member, MembershipApplication, Standing
from domain.rule_checks import Applicant
from projections import member_register as register
from projections import membership_applications as applications_view
from services.errors import NotFound
from services.runtime import Runtime
from services.tenancy import Command, command, views

# ----------------------------------------------------------------------------- applications


def submit(
    runtime: Runtime,
    slug: str,
    *,
    applicant: Applicant,
    request_text: str,
    signatory_name: str | None,
    email: str | None,
    by: str,
) -> str:
    with command(runtime, slug, "submit_application") as cmd:
        if applicant.capacity == "organisation":
            with cmd.store.read() as sql:
                taken = register.active_name_taken(sql, applicant.name) or (
                    applications_view.open_with_name(sql, applicant.name)
                )
            if taken:
                raise AlreadyMember(applicant.name)
        application = MembershipApplication.submit(
            terms=cmd.terms,
            applicant=applicant,
            request_text=request_text,
            signatory_name=signatory_name,
            email=email,
            submitted_by=by,
        )
        cmd.record(application)
        return str(application.id)


def _application(cmd: Command, application_id: str) -> MembershipApplication:
    return cmd.get(MembershipApplication, application_id, "application")


def circulate(runtime: Runtime, slug: str, application_id: str, *, to_body: str, by: str) -> None:
    with command(runtime, slug, "circulate_application") as cmd:
        application = _application(cmd, application_id)
        application.circulate(to_body=to_body, by=by, terms=cmd.terms)
        cmd.record(application)


def recommend(
    runtime: Runtime,
    slug: str,
    application_id: str,
    *,
    by_office: str,
    recommendation: Literal["admit", "reject"],
    note: str,
    by: str,
) -> None:
    with command(runtime, slug, "recommend_application") as cmd:
        application = _application(cmd, application_id)
        application.recommend(
            by_office=by_office, recommendation=recommendation, note=note, by=by, terms=cmd.terms
        )
        cmd.record(application)


def decide(
    runtime: Runtime,
    slug: str,
    application_id: str,
    *,
    by_body: str,
    outcome: Literal["admit", "reject"],
    standing: Standing | None,
    reason: str,
    decision_ref: str,
    by: str,
) -> str | None:
    """Decide; an admission records the decision and the new member together."""
    with command(runtime, slug, "decide_application") as cmd:
        application = _application(cmd, application_id)
        member = application.decide(
            by_body=by_body,
            outcome=outcome,
            standing=standing,
            reason=reason,
            decision_ref=decision_ref,
            by=by,
            terms=cmd.terms,
        )
        if member is None:
            cmd.record(application)
            return None
        cmd.record(application, member)
        return str(member.id)


def withdraw(runtime: Runtime, slug: str, application_id: str, *, reason: str, by: str) -> None:
    with command(runtime, slug, "withdraw_application") as cmd:
        application = _application(cmd, application_id)
        application.withdraw(reason=reason, by=by)
        cmd.record(application)


def application(runtime: Runtime, slug: str, application_id: str) -> dict[str, Any]:
    with views(runtime, slug) as sql:
        found = applications_view.find(sql, application_id)
    if found is None:
        raise NotFound(f"no application {application_id!r} in this alliance")
    return found


def applications(
    runtime: Runtime, slug: str, *, stage: str | None, after: int, limit: int
) -> list[dict[str, Any]]:
    with views(runtime, slug) as sql:
        return applications_view.page(sql, stage=stage, after=after, limit=limit)


# ----------------------------------------------------------------------------- members


def _member(cmd: Command, member_id: str) -> Member:
    return cmd.get(Member, member_id, "member")


def change_status(
    runtime: Runtime,
    slug: str,
    member_id: str,
    *,
    act: Literal["suspend", "reinstate", "resign", "remove"],
    reason: str,
    by_body: str | None,
    decision_ref: str | None,
    by: str,
) -> None:
    """Suspend, reinstate or remove (by the body the ToR allows), or record a resignation."""
    with command(runtime, slug, f"{act}_member") as cmd:
        member = _member(cmd, member_id)
        if act == "resign":
            member.resign(reason=reason, by=by)
        else:
            assert by_body is not None and decision_ref is not None
            if act == "suspend":
                member.suspend(
                    reason=reason,
                    by_body=by_body,
                    decision_ref=decision_ref,
                    by=by,
                    terms=cmd.terms,
                )
            elif act == "reinstate":
                member.reinstate(by_body=by_body, decision_ref=decision_ref, by=by, terms=cmd.terms)
            else:
                member.remove(
                    reason=reason,
                    by_body=by_body,
                    decision_ref=decision_ref,
                    by=by,
                    terms=cmd.terms,
                )
        cmd.record(member)


def review_conduct(
    runtime: Runtime,
    slug: str,
    member_id: str,
    *,
    by_body: str,
    outcome: ConductOutcome,
    notes: str,
    decision_ref: str,
    by: str,
) -> str:
    with command(runtime, slug, "review_conduct") as cmd:
        member = _member(cmd, member_id)
        review_id = member.review_conduct(
            by_body=by_body,
            outcome=outcome,
            notes=notes,
            decision_ref=decision_ref,
            by=by,
            terms=cmd.terms,
        )
        cmd.record(member)
        return review_id


def member(runtime: Runtime, slug: str, member_id: str) -> dict[str, Any]:
    with views(runtime, slug) as sql:
        found = register.member(sql, member_id)
        if found is None:
            raise NotFound(f"no member {member_id!r} in this alliance")
        found["conduct_reviews"] = register.conduct_reviews(sql, member_id)
        return found


def members(
    runtime: Runtime,
    slug: str,
    *,
    status: str | None,
    standing: str | None,
    after: int,
    limit: int,
) -> list[dict[str, Any]]:
    with views(runtime, slug) as sql:
        return register.members(sql, status=status, standing=standing, after=after, limit=limit)


# ----------------------------------------------------------------------------- representatives


def _representative_of(member: Member, representative_id: str) -> None:
    if representative_id not in member.representatives:
        raise NotFound(f"no representative {representative_id!r} of this member")


def add_representative(
    runtime: Runtime,
    slug: str,
    member_id: str,
    *,
    role: str,
    name: str,
    email: str,
    principal: bool | None,
    by: str,
) -> str:
    with command(runtime, slug, "add_representative") as cmd:
        member = _member(cmd, member_id)
        representative_id = member.add_representative(
            role=role, name=name, email=email, principal=principal, by=by, terms=cmd.terms
        )
        cmd.record(member)
        return representative_id


def replace_representative(
    runtime: Runtime,
    slug: str,
    member_id: str,
    representative_id: str,
    *,
    role: str,
    name: str,
    email: str,
    by: str,
) -> str:
    with command(runtime, slug, "replace_representative") as cmd:
        member = _member(cmd, member_id)
        _representative_of(member, representative_id)
        successor = member.replace_representative(
            representative_id, role=role, name=name, email=email, by=by, terms=cmd.terms
        )
        cmd.record(member)
        return successor


def remove_representative(
    runtime: Runtime,
    slug: str,
    member_id: str,
    representative_id: str,
    *,
    new_principal_id: str | None,
    by: str,
) -> None:
    with command(runtime, slug, "remove_representative") as cmd:
        member = _member(cmd, member_id)
        _representative_of(member, representative_id)
        if new_principal_id is not None:
            _representative_of(member, new_principal_id)
        member.remove_representative(
            representative_id, new_principal_id=new_principal_id, by=by, terms=cmd.terms
        )
        cmd.record(member)


def make_principal(
    runtime: Runtime, slug: str, member_id: str, representative_id: str, *, by: str
) -> None:
    with command(runtime, slug, "make_principal_contact") as cmd:
        member = _member(cmd, member_id)
        _representative_of(member, representative_id)
        member.make_principal(representative_id, by=by)
        cmd.record(member)


def representatives(runtime: Runtime, slug: str, member_id: str) -> list[dict[str, Any]]:
    with views(runtime, slug) as sql:
        if register.member(sql, member_id) is None:
            raise NotFound(f"no member {member_id!r} in this alliance")
        return register.representatives(sql, member_id)
