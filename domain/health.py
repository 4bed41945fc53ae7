"""Governance health: a handful of counts and dates per alliance, from its obligations
calendar (domain/obligations.py) and the facts it was computed from, on a given day.

What the national umbrella sees of an alliance, beside its directory entry: never a name
of a person, never a word of its minutes — counts, dates and the ToR's own keys only.

The state is one of:

* ``at-risk`` — its ToR review is overdue, an office term has ended with nobody to
  follow, fewer than half the meetings its ToR required in the last twelve months were
  held, or `AT_RISK_OUTSTANDING` or more obligations are overdue and still unmet;
* ``needs-attention`` — any obligation is overdue and unmet, any was missed in the last
  twelve months, a required seat or office is vacant, or an application has waited more
  than `APPLICATION_WAIT_DAYS` for a decision;
* ``healthy`` — none of these.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, timedelta
from typing import Literal

import msgspec

from domain.obligations import Obligation
from domain.terms import add_months

HealthState = Literal["healthy", "needs-attention", "at-risk"]
#: Worst first: how the dashboard sorts by state.
SEVERITY: dict[HealthState, int] = {"at-risk": 2, "needs-attention": 1, "healthy": 0}
#: The indicators look back this far.
WINDOW_MONTHS = 12
#: How long an application may wait for a decision before it counts against the alliance
#: (none of the five templates sets a time; two months spans a quarterly meeting cycle).
APPLICATION_WAIT_DAYS = 60
#: Overdue, unmet obligations that make an alliance at risk on their own.
AT_RISK_OUTSTANDING = 3
#: Obligations that history settles: a missed meeting period cannot be met later.
SETTLED_BY_TIME = frozenset({"meeting"})


class Health(msgspec.Struct, frozen=True, kw_only=True):
    """One alliance's governance health on `as_of`."""

    as_of: date
    state: HealthState
    #: Why it is in that state, as short phrases (empty when healthy).
    reasons: tuple[str, ...]
    meetings_required: int
    meetings_held: int
    minutes_approved: int
    minutes_published_in_time: int
    minutes_publication_overdue: int
    review_due_on: date | None
    review_overdue: bool
    seats_vacant: int
    terms_expired: int
    applications_waiting: int
    oldest_application_since: date | None
    obligations_overdue: int
    missed_last_12_months: int
    next_due_on: date | None
    last_activity_on: date | None


def _outstanding(o: Obligation) -> bool:
    """Overdue and still unmet (nothing came even late)."""
    return o.state == "missed" and not o.met_by and o.kind not in SETTLED_BY_TIME


def health(
    calendar: Sequence[Obligation],
    *,
    today: date,
    open_applications: Iterable[date] = (),
    last_activity_on: date | None = None,
    next_review_on: date | None = None,
) -> Health:
    """The indicators, from an alliance's obligations calendar on `today`, the submission
    days of its applications still waiting, the day of its last recorded event, and the
    next review's due date (for a review beyond the calendar's horizon)."""
    since = add_months(today, -WINDOW_MONTHS)
    settled_in_window = [o for o in calendar if since <= o.due_on < today]
    meetings = [o for o in settled_in_window if o.kind == "meeting"]
    publications = [
        o for o in calendar if o.kind == "minutes-publication" and since <= o.window_start <= today
    ]
    reviews = [o for o in calendar if o.kind == "tor-review"]
    review_overdue = any(_outstanding(o) for o in reviews)
    pending_reviews = [o for o in reviews if o.state != "met"]
    review_due_on = min((o.due_on for o in pending_reviews), default=next_review_on)
    vacant = [
        o
        for o in calendar
        if o.kind in ("seat-vacant", "office-vacant") and (o.state == "due" or _outstanding(o))
    ]
    expired = [o for o in calendar if o.kind == "term-end" and _outstanding(o)]
    cutoff = today - timedelta(days=APPLICATION_WAIT_DAYS)
    waiting = sorted(day for day in open_applications if day < cutoff)
    outstanding = [o for o in calendar if _outstanding(o)]
    missed = [o for o in settled_in_window if o.state == "missed"]
    held = sum(1 for o in meetings if o.state == "met")
    reasons: list[str] = []
    at_risk: list[str] = []
    if review_overdue:
        at_risk.append("ToR review overdue")
    if expired:
        at_risk.append(f"{len(expired)} office term(s) ended with no successor")
    if meetings and 2 * held < len(meetings):
        at_risk.append(f"{held} of {len(meetings)} required meetings held")
    if len(outstanding) >= AT_RISK_OUTSTANDING:
        at_risk.append(f"{len(outstanding)} obligations overdue")
    attention: list[str] = []
    if outstanding and len(outstanding) < AT_RISK_OUTSTANDING:
        attention.append(f"{len(outstanding)} obligation(s) overdue")
    if missed:
        attention.append(f"{len(missed)} obligation(s) missed in the last 12 months")
    if vacant:
        attention.append(f"{len(vacant)} required seat(s) or office(s) vacant")
    if waiting:
        attention.append(f"{len(waiting)} application(s) waiting over {APPLICATION_WAIT_DAYS} days")
    reasons = at_risk + attention
    state: HealthState = "at-risk" if at_risk else "needs-attention" if attention else "healthy"
    return Health(
        as_of=today,
        state=state,
        reasons=tuple(reasons),
        meetings_required=len(meetings),
        meetings_held=held,
        minutes_approved=len(publications),
        minutes_published_in_time=sum(1 for o in publications if o.state == "met"),
        minutes_publication_overdue=sum(1 for o in publications if _outstanding(o)),
        review_due_on=review_due_on,
        review_overdue=review_overdue,
        seats_vacant=len(vacant),
        terms_expired=len(expired),
        applications_waiting=len(waiting),
        oldest_application_since=waiting[0] if waiting else None,
        obligations_overdue=len(outstanding),
        missed_last_12_months=len(missed),
        next_due_on=min((o.due_on for o in calendar if o.state == "due"), default=None),
        last_activity_on=last_activity_on,
    )
