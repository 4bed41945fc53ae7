"""The fold of an alliance's log into the `Record` a review pack is made from: its ToR
versions, meetings, minutes, offices and seats, motions and decisions, amendments and
reviews; and, as they are folded, the findings about membership and about offices taken
and left."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

from domain.rules import clause_for, clauses_from_data, rules_from_data
from domain.terms import Version, add_months
from services.audit.review_history import (
    ONE_DAY,
    AdoptedVersion,
    Amendment,
    Decision,
    Holding,
    Meeting,
    MinutesRecord,
    Motion,
    Review,
    as_day,
    recorded_on,
)
from services.audit.review_pack import (
    AllianceInfo,
    Finding,
    Header,
    PositionRange,
    Severity,
    VersionInForce,
)
from services.event_log import LoggedEvent


class Record:
    """The alliance's history folded from its log: what a pack needs, with positions."""

    def __init__(self, start: date, end: date) -> None:
        self.start, self.end = start, end
        self.alliance = AllianceInfo(slug="", name="", region="", template="")
        self.versions: list[AdoptedVersion] = []
        self.first_position: int | None = None
        self.last_position: int | None = None
        self.period_positions: list[int] = []
        self.meetings: dict[str, Meeting] = {}
        self.minutes: dict[str, MinutesRecord] = {}
        self.member_names: dict[str, str] = {}
        self.applications: dict[str, tuple[str, int]] = {}  # id -> (name, decided position)
        self.office_of_roll: dict[str, str] = {}
        self.body_of_roster: dict[str, str] = {}
        self.holdings: dict[str, Holding] = {}
        self.seats: dict[str, Holding] = {}
        self.motions: dict[str, Motion] = {}
        self.elections: dict[str, tuple[str, int]] = {}  # id -> (office, opened position)
        self.groups: dict[str, tuple[str, str]] = {}  # id -> (name, body)
        self.plans: dict[str, int] = {}  # id -> year
        self.decisions: list[Decision] = []
        self.amendments: dict[str, Amendment] = {}
        self.reviews: list[Review] = []
        self.membership: list[Finding] = []
        self.offices: list[Finding] = []

    # ------------------------------------------------------------------ folding

    def apply(self, event: LoggedEvent) -> None:
        if self.first_position is None:
            self.first_position = event.position
        self.last_position = event.position
        if self.in_period(recorded_on(event)):
            self.period_positions.append(event.position)
        handler: Callable[[LoggedEvent], None] | None = getattr(self, f"_on_{event.type}", None)
        if handler is not None:
            handler(event)

    def in_period(self, day: date | None) -> bool:
        return day is not None and self.start <= day <= self.end

    # ------------------------------------------------------------------ reading

    def version(self, number: int | None) -> AdoptedVersion | None:
        return next((v for v in self.versions if v.version.number == number), None)

    def version_on(self, day: date) -> AdoptedVersion:
        """The version in force on a day (version 1 before its first day)."""
        current = self.versions[0]
        for adopted in self.versions:
            if adopted.version.effective_from <= day:
                current = adopted
        return current

    def clause(self, number: int | None, rule: str) -> str | None:
        adopted = self.version(number)
        return clause_for(adopted.version.clauses, rule) if adopted else None

    def body_name(self, key: str | None) -> str:
        """A body's (or office's) name as the latest ToR naming it writes it."""
        if key is None:
            return "The officers"
        for adopted in reversed(self.versions):
            found = adopted.version.rules.body(key) or adopted.version.rules.office(key)
            if found is not None:
                return found.name
        return key

    def office_name(self, key: str) -> str:
        return self.body_name(key)

    def member(self, member_id: str | None) -> str:
        if member_id is None:
            return "an organisation from outside the membership"
        return self.member_names.get(member_id, f"member {member_id}")

    def header(self, generated_at: datetime) -> Header:
        log = (
            PositionRange(first=self.first_position, last=self.last_position)
            if self.first_position is not None and self.last_position is not None
            else None
        )
        recorded = (
            PositionRange(first=min(self.period_positions), last=max(self.period_positions))
            if self.period_positions
            else None
        )
        return Header(
            alliance=self.alliance,
            period_from=self.start,
            period_to=self.end,
            generated_at=generated_at,
            log=log,
            recorded_in_period=recorded,
            versions_in_force=self.versions_in_force(),
        )

    def versions_in_force(self) -> list[VersionInForce]:
        found = []
        for index, adopted in enumerate(self.versions):
            following = self.versions[index + 1 :]
            last_day = following[0].version.effective_from - ONE_DAY if following else None
            starts = adopted.version.effective_from
            never = last_day is not None and last_day < starts  # replaced on its first day
            if not never and starts <= self.end and (last_day is None or last_day >= self.start):
                found.append(
                    VersionInForce(
                        number=adopted.version.number,
                        effective_from=starts,
                        until=last_day if last_day is not None and last_day <= self.end else None,
                        position=adopted.position,
                    )
                )
        return found

    # ------------------------------------------------------------------ the alliance, its ToR

    def _on_AllianceFounded(self, e: LoggedEvent) -> None:
        d = e.data
        self.alliance = AllianceInfo(
            slug=d["slug"], name=d["name"], region=d["region"], template=d["template"]
        )

    def _add_version(self, e: LoggedEvent, number: int, amendment_id: str | None) -> None:
        d = e.data
        version = Version(
            number=number,
            effective_from=as_day(d["effective_from"]),
            adopted_at=e.timestamp,
            clauses=clauses_from_data(d["clauses"]),
            rules=rules_from_data(d["rules"]),
            amendment_id=amendment_id,
            decision_ref=d.get("decision_ref"),
        )
        self.versions.append(AdoptedVersion(version=version, position=e.position))

    def _on_TermsOfReferenceAdopted(self, e: LoggedEvent) -> None:
        self._add_version(e, 1, None)

    def _on_TermsOfReferenceAmendmentProposed(self, e: LoggedEvent) -> None:
        d = e.data
        self.amendments[d["amendment_id"]] = Amendment(
            amendment_id=d["amendment_id"],
            proposed_at=e.position,
            proposed_on=recorded_on(e),
            base_version=d["base_version"],
        )

    def _decide_amendment(self, e: LoggedEvent, state: str) -> Amendment:
        amendment = self.amendments[e.data["amendment_id"]]
        amendment.state, amendment.decided_at, amendment.decided_on = (
            state,
            e.position,
            recorded_on(e),
        )
        amendment.under_version = e.data.get("under_version")
        amendment.decision_ref = e.data.get("decision_ref")
        return amendment

    def _on_TermsOfReferenceAmendmentApproved(self, e: LoggedEvent) -> None:
        d = e.data
        amendment = self._decide_amendment(e, "approved")
        amendment.by_body, amendment.version = d["approved_by_body"], d["version"]
        amendment.effective_from = as_day(d["effective_from"])
        self._add_version(e, d["version"], d["amendment_id"])
        self._direct(
            e,
            act="amendment-approved",
            body=d["approved_by_body"],
            what=f"approved an amendment of the Terms of Reference (version {d['version']})",
            rule="review.amendments_approved_by",
            refs={"amendment_id": d["amendment_id"]},
        )

    def _on_TermsOfReferenceAmendmentRejected(self, e: LoggedEvent) -> None:
        self._decide_amendment(e, "rejected")
        self._direct(
            e,
            act="amendment-rejected",
            body=None,
            what="An amendment of the Terms of Reference was rejected",
            rule="review.amendments_approved_by",
            refs={"amendment_id": e.data["amendment_id"]},
        )

    def _on_TermsOfReferenceAmendmentWithdrawn(self, e: LoggedEvent) -> None:
        self._decide_amendment(e, "withdrawn")

    def _review_due_on(self, before: int) -> date:
        """When a review fell due, judged from the events before a position (the rule of
        `TermsOfReference.review_due_on`)."""
        latest = [v for v in self.versions if v.position < before][-1].version
        anchor = _review_anchor(latest)
        done = [r.concluded_on for r in self.reviews if r.concluded_at and r.concluded_at < before]
        if done and done[-1] is not None and done[-1] > anchor:
            anchor = done[-1]
        return add_months(anchor, latest.rules.review.cadence_months)

    def _on_TermsOfReferenceReviewOpened(self, e: LoggedEvent) -> None:
        self.reviews.append(
            Review(
                opened_at=e.position,
                opened_on=recorded_on(e),
                due_on=self._review_due_on(e.position),
            )
        )

    def _on_TermsOfReferenceReviewConcluded(self, e: LoggedEvent) -> None:
        review = self.reviews[-1]
        review.concluded_at, review.concluded_on = e.position, recorded_on(e)
        review.outcome, review.under_version = e.data["outcome"], e.data.get("under_version")

    # ------------------------------------------------------------------ membership

    def _on_MembershipApplicationSubmitted(self, e: LoggedEvent) -> None:
        applicant = e.data["applicant"]
        name = applicant.get("name") or "an individual"
        self.applications[e.aggregate_id] = (name, 0)

    def _on_MembershipApplicationDecided(self, e: LoggedEvent) -> None:
        d = e.data
        name, _ = self.applications.get(e.aggregate_id, ("an applicant", 0))
        self.applications[e.aggregate_id] = (name, e.position)
        admitted = d["outcome"] == "admitted"
        self._direct(
            e,
            act="application-decided",
            body=d["by_body"],
            what=(
                f"admitted {name} ({d['standing']})"
                if admitted
                else f"rejected {name}'s application"
            ),
            rule="membership.route.decided_by",
            refs={"application_id": e.aggregate_id},
        )
        if not admitted and self.in_period(recorded_on(e)):
            self.membership.append(
                Finding(
                    kind="application-rejected",
                    severity="ok",
                    summary=(
                        f"{self.body_name(d['by_body'])} rejected the application "
                        f"of {name} ({_ref(d.get('decision_ref'))})."
                    ),
                    positions=[e.position],
                    on=recorded_on(e),
                    under_version=d.get("under_version"),
                    refs={"application_id": e.aggregate_id},
                )
            )

    def _on_MemberAdmitted(self, e: LoggedEvent) -> None:
        d = e.data
        name = d.get("name") or "an individual (advisory member)"
        self.member_names[e.aggregate_id] = name
        if not self.in_period(recorded_on(e)):
            return
        _, decided_at = self.applications.get(d["application_id"], ("", 0))
        self.membership.append(
            Finding(
                kind="member-admitted",
                severity="ok",
                summary=(
                    f"{name} was admitted, with the standing {d['standing']}, by "
                    f"{self.body_name(d.get('by_body'))} ({_ref(d.get('decision_ref'))})."
                ),
                positions=[p for p in (decided_at, e.position) if p],
                on=recorded_on(e),
                rule="membership.route.decided_by",
                clause=self.clause(d.get("under_version"), "membership.route.decided_by"),
                under_version=d.get("under_version"),
                refs={"member_id": e.aggregate_id, "application_id": d["application_id"]},
            )
        )

    def _member_change(self, e: LoggedEvent, kind: str, severity: Severity, what: str) -> None:
        d = e.data
        by_body = d.get("by_body")
        name = self.member(e.aggregate_id)
        if by_body is not None:
            self._direct(
                e,
                act=kind,
                body=by_body,
                what=f"{kind.removeprefix('member-')} {name}",
                rule="membership.route.decided_by",
                refs={"member_id": e.aggregate_id},
            )
        if not self.in_period(recorded_on(e)):
            return
        by = f" by {self.body_name(by_body)} ({_ref(d.get('decision_ref'))})" if by_body else ""
        self.membership.append(
            Finding(
                kind=kind,
                severity=severity,
                summary=f"{name} {what}{by}.",
                positions=[e.position],
                on=recorded_on(e),
                under_version=d.get("under_version"),
                refs={"member_id": e.aggregate_id},
            )
        )

    def _on_MemberSuspended(self, e: LoggedEvent) -> None:
        self._member_change(e, "member-suspended", "note", "was suspended")

    def _on_MemberReinstated(self, e: LoggedEvent) -> None:
        self._member_change(e, "member-reinstated", "ok", "was reinstated")

    def _on_MemberResigned(self, e: LoggedEvent) -> None:
        self._member_change(e, "member-resigned", "ok", "resigned")

    def _on_MemberRemoved(self, e: LoggedEvent) -> None:
        self._member_change(e, "member-removed", "note", "was removed")

    def _on_MemberConductReviewed(self, e: LoggedEvent) -> None:
        d = e.data
        self._direct(
            e,
            act="conduct-reviewed",
            body=d["by_body"],
            what=f"reviewed the conduct of {self.member(e.aggregate_id)} ({d['outcome']})",
            rule="membership.conduct_reviewed_by",
            refs={"member_id": e.aggregate_id},
        )

    # ------------------------------------------------------------------ offices and seats

    def _on_OfficeRollOpened(self, e: LoggedEvent) -> None:
        self.office_of_roll[e.aggregate_id] = e.data["office"]

    def _on_BodyRosterOpened(self, e: LoggedEvent) -> None:
        self.body_of_roster[e.aggregate_id] = e.data["body"]

    def _on_OfficeRollHolderAppointed(self, e: LoggedEvent) -> None:
        d = e.data
        office = self.office_of_roll[e.aggregate_id]
        holding = Holding(
            holding_id=d["holding_id"],
            key=office,
            member_id=d.get("member_id"),
            organisation=d["organisation"],
            starts_on=as_day(d["starts_on"]),
            ends_on=as_day(d["ends_on"]) if d.get("ends_on") else None,
            position=e.position,
            under_version=d["under_version"],
        )
        self.holdings[holding.holding_id] = holding
        elected = d["via"] == "elected"
        at_onboarding = d["via"] == "onboarding"
        if not elected and not at_onboarding:
            self._direct(
                e,
                act="office-appointed",
                body=d.get("by_body"),
                what=(
                    f"appointed {holding.organisation} to the office of {self.office_name(office)}"
                ),
                rule=f"offices.{office}.appointed_by",
                refs={"office": office, "holding_id": holding.holding_id},
            )
        if self.in_period(holding.starts_on):
            how = (
                f"elected ({_ref(d.get('election_ref'))})"
                if elected
                else f"named at onboarding as a first officer ({_ref(d.get('decision_ref'))})"
                if at_onboarding
                else f"appointed by {self.body_name(d.get('by_body'))} "
                f"({_ref(d.get('decision_ref'))})"
            )
            term = f"until {holding.ends_on.isoformat()}" if holding.ends_on else "until replaced"
            self.offices.append(
                Finding(
                    kind="office-taken",
                    severity="ok",
                    summary=(
                        f"{holding.organisation} took the office of {self.office_name(office)} "
                        f"on {holding.starts_on.isoformat()}, {how}, {term}."
                    ),
                    positions=[e.position],
                    on=holding.starts_on,
                    under_version=holding.under_version,
                    refs={"office": office, "holding_id": holding.holding_id},
                )
            )

    def _on_OfficeRollHolderLeft(self, e: LoggedEvent) -> None:
        holding = self.holdings[e.data["holding_id"]]
        holding.left_on, holding.left_at = as_day(e.data["left_on"]), e.position
        if self.in_period(holding.left_on):
            self.offices.append(
                Finding(
                    kind="office-left",
                    severity="ok",
                    summary=(
                        f"{holding.organisation} left the office of "
                        f"{self.office_name(holding.key)} on {holding.left_on.isoformat()}."
                    ),
                    positions=[holding.position, e.position],
                    on=holding.left_on,
                    refs={"office": holding.key, "holding_id": holding.holding_id},
                )
            )

    def _on_BodyRosterSeatTaken(self, e: LoggedEvent) -> None:
        d = e.data
        body = self.body_of_roster[e.aggregate_id]
        seat = Holding(
            holding_id=d["seat_id"],
            key=body,
            member_id=d.get("member_id"),
            organisation=d["organisation"],
            starts_on=as_day(d["starts_on"]),
            ends_on=as_day(d["ends_on"]) if d.get("ends_on") else None,
            position=e.position,
            under_version=d["under_version"],
            required_seat=d.get("required_seat"),
        )
        self.seats[seat.holding_id] = seat
        self._direct(
            e,
            act="seat-agreed",
            body=d.get("agreed_by"),
            what=f"agreed a seat on {self.body_name(body)} for {seat.organisation}",
            rule=f"bodies.{body}.members_agreed_by",
            refs={"body": body, "seat_id": seat.holding_id},
        )
        if self.in_period(seat.starts_on):
            self.offices.append(
                Finding(
                    kind="seat-taken",
                    severity="ok",
                    summary=(
                        f"{seat.organisation} took a seat on {self.body_name(body)} on "
                        f"{seat.starts_on.isoformat()}"
                        + (f", until {seat.ends_on.isoformat()}." if seat.ends_on else ".")
                    ),
                    positions=[e.position],
                    on=seat.starts_on,
                    under_version=seat.under_version,
                    refs={"body": body, "seat_id": seat.holding_id},
                )
            )

    def _on_BodyRosterSeatLeft(self, e: LoggedEvent) -> None:
        seat = self.seats[e.data["seat_id"]]
        seat.left_on, seat.left_at = as_day(e.data["left_on"]), e.position
        if self.in_period(seat.left_on):
            self.offices.append(
                Finding(
                    kind="seat-left",
                    severity="ok",
                    summary=(
                        f"{seat.organisation} left its seat on {self.body_name(seat.key)} on "
                        f"{seat.left_on.isoformat()}."
                    ),
                    positions=[seat.position, e.position],
                    on=seat.left_on,
                    refs={"body": seat.key, "seat_id": seat.holding_id},
                )
            )

    def _on_ElectionOpened(self, e: LoggedEvent) -> None:
        self.elections[e.aggregate_id] = (e.data["office"], e.position)

    def _on_ElectionClosed(self, e: LoggedEvent) -> None:
        office, opened_at = self.elections[e.aggregate_id]
        d = e.data
        self._direct(
            e,
            act="election-counted",
            body=None,
            what=(
                f"The election to the office of {self.office_name(office)} was counted "
                f"({len(d['elected'])} elected)"
            ),
            rule=f"offices.{office}.election",
            refs={"election_id": e.aggregate_id, "office": office},
        )
        if self.in_period(recorded_on(e)):
            self.offices.append(
                Finding(
                    kind="election-held",
                    severity="ok",
                    summary=(
                        f"The election to the office of {self.office_name(office)} was counted: "
                        f"{d['turnout']} of {d['electorate']} organisations voted; "
                        f"{len(d['elected'])} elected."
                    ),
                    positions=[opened_at, e.position],
                    on=recorded_on(e),
                    rule=f"offices.{office}.election",
                    clause=self.clause(d.get("under_version"), f"offices.{office}.election"),
                    under_version=d.get("under_version"),
                    refs={"election_id": e.aggregate_id, "office": office},
                )
            )

    def _on_ElectionCancelled(self, e: LoggedEvent) -> None:
        office, opened_at = self.elections[e.aggregate_id]
        if self.in_period(recorded_on(e)):
            self.offices.append(
                Finding(
                    kind="election-cancelled",
                    severity="note",
                    summary=(
                        f"The election to the office of {self.office_name(office)} was cancelled."
                    ),
                    positions=[opened_at, e.position],
                    on=recorded_on(e),
                    refs={"election_id": e.aggregate_id, "office": office},
                )
            )

    # ------------------------------------------------------------------ groups and plans

    def _on_WorkingGroupProposed(self, e: LoggedEvent) -> None:
        self.groups[e.aggregate_id] = (e.data["name"], e.data["body"])

    def _group_decision(self, e: LoggedEvent, act: str, verb: str) -> None:
        name, body = self.groups[e.aggregate_id]
        self._direct(
            e,
            act=act,
            body=e.data.get("by_body"),
            what=f"{verb} the working group {name!r}",
            rule=f"bodies.{body}.established_by",
            refs={"working_group_id": e.aggregate_id},
        )

    def _on_WorkingGroupEstablished(self, e: LoggedEvent) -> None:
        self._group_decision(e, "working-group-established", "established")

    def _on_WorkingGroupLeadsChanged(self, e: LoggedEvent) -> None:
        self._group_decision(e, "working-group-leads-changed", "changed the leads of")

    def _on_WorkingGroupDissolved(self, e: LoggedEvent) -> None:
        self._group_decision(e, "working-group-dissolved", "dissolved")

    def _on_AnnualWorkPlanDrafted(self, e: LoggedEvent) -> None:
        self.plans[e.aggregate_id] = e.data["year"]

    def _on_AnnualWorkPlanAgreed(self, e: LoggedEvent) -> None:
        self._direct(
            e,
            act="work-plan-agreed",
            body=e.data.get("by_body"),
            what=f"agreed the work plan for {self.plans.get(e.aggregate_id)}",
            rule="work_plan.agreed_by",
            refs={"work_plan_id": e.aggregate_id},
        )

    def _on_AnnualWorkPlanEvaluated(self, e: LoggedEvent) -> None:
        self._direct(
            e,
            act="work-plan-evaluated",
            body=e.data.get("by_body"),
            what=f"evaluated the work plan for {self.plans.get(e.aggregate_id)}",
            rule="work_plan.agreed_by",
            refs={"work_plan_id": e.aggregate_id},
        )

    def _direct(
        self,
        e: LoggedEvent,
        *,
        act: str,
        body: str | None,
        what: str,
        rule: str,
        refs: dict[str, str],
    ) -> None:
        """Keep a decision a body took directly (one a motion took is the motion's)."""
        decision_ref = e.data.get("decision_ref")
        if isinstance(decision_ref, str) and decision_ref.startswith("motion:"):
            return
        self.decisions.append(
            Decision(
                act=act,
                body=body,
                what=what,
                rule=rule,
                under_version=e.data.get("under_version") or 0,
                decision_ref=decision_ref,
                on=recorded_on(e),
                position=e.position,
                refs=refs,
            )
        )

    # ------------------------------------------------------------------ meetings, minutes

    def _on_MeetingScheduled(self, e: LoggedEvent) -> None:
        d = e.data
        self.meetings[e.aggregate_id] = Meeting(
            meeting_id=e.aggregate_id,
            body=d["body"],
            main=bool(d.get("main")),
            on=as_day(d["starts_at"]),
            scheduled_at=e.position,
        )

    def _on_MeetingRescheduled(self, e: LoggedEvent) -> None:
        self.meetings[e.aggregate_id].on = as_day(e.data["starts_at"])

    def _on_MeetingCancelled(self, e: LoggedEvent) -> None:
        meeting = self.meetings[e.aggregate_id]
        meeting.cancelled_at, meeting.cancelled_on = e.position, recorded_on(e)

    def _on_MeetingHeld(self, e: LoggedEvent) -> None:
        meeting = self.meetings[e.aggregate_id]
        meeting.held_at, meeting.held_on = e.position, as_day(e.data["held_on"])
        meeting.quorate = e.data.get("quorate")

    def _on_MinutesDrafted(self, e: LoggedEvent) -> None:
        d = e.data
        self.minutes[e.aggregate_id] = MinutesRecord(
            minutes_id=e.aggregate_id,
            meeting_id=d["meeting_id"],
            body=d["body"],
            meeting_date=as_day(d["meeting_date"]),
            confidential=bool(d["confidential"]),
            items=len(d["items"]),
            confidential_items=_confidential_items(d),
            drafted_at=e.position,
        )

    def _on_MinutesAmended(self, e: LoggedEvent) -> None:
        minutes = self.minutes[e.aggregate_id]
        minutes.confidential = bool(e.data["confidential"])
        minutes.items, minutes.confidential_items = (
            len(e.data["items"]),
            _confidential_items(e.data),
        )

    def _on_MinutesApproved(self, e: LoggedEvent) -> None:
        minutes = self.minutes[e.aggregate_id]
        minutes.approved_at, minutes.approved_on = e.position, as_day(e.data["approved_on"])
        minutes.approved_by_body = e.data["by_body"]
        minutes.under_version = e.data.get("under_version")

    def _on_MinutesPublished(self, e: LoggedEvent) -> None:
        minutes = self.minutes[e.aggregate_id]
        minutes.published_at, minutes.published_on = e.position, as_day(e.data["published_on"])

    def _on_MinutesCorrected(self, e: LoggedEvent) -> None:
        self.minutes[e.aggregate_id].corrections.append(
            (e.position, as_day(e.data["corrected_on"]))
        )

    # ------------------------------------------------------------------ motions

    def _on_MotionProposed(self, e: LoggedEvent) -> None:
        d = e.data
        self.motions[e.aggregate_id] = Motion(
            motion_id=e.aggregate_id,
            body=d["body"],
            text=d["text"],
            decides=(d.get("decides") or {}).get("kind", "position"),
            positions=[e.position],
        )

    def _motion_step(self, e: LoggedEvent) -> None:
        self.motions[e.aggregate_id].positions.append(e.position)

    _on_MotionConsensusSought = _motion_step
    _on_MotionVotingOpened = _motion_step
    _on_MotionVotingClosed = _motion_step
    _on_MotionCastingVoteGiven = _motion_step
    _on_MotionEffectApplied = _motion_step

    def _on_MotionDecided(self, e: LoggedEvent) -> None:
        d = e.data
        motion = self.motions[e.aggregate_id]
        motion.positions.append(e.position)
        motion.outcome, motion.via = d["outcome"], d["via"]
        motion.rule, motion.clause = d.get("rule"), d.get("clause")
        motion.under_version, motion.decided_on = d.get("under_version"), recorded_on(e)

    def _on_MotionEffectRefused(self, e: LoggedEvent) -> None:
        motion = self.motions[e.aggregate_id]
        motion.positions.append(e.position)
        motion.effect_refused = e.data.get("message") or "refused by the rules in force"


def _confidential_items(data: dict[str, Any]) -> int:
    if data["confidential"]:
        return len(data["items"])
    return sum(1 for item in data["items"] if item.get("confidential"))


def _review_anchor(version: Version) -> date:
    """Where the review cadence counts from: version 1 from the day it took effect (the
    alliance's start date), a later version from its adoption (as the aggregate does)."""
    if version.number == 1:
        return version.effective_from
    return version.adopted_at.astimezone(UTC).date()


def _ref(decision_ref: str | None) -> str:
    return f"recorded as {decision_ref!r}" if decision_ref else "no reference recorded"
