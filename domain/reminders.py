"""Reminders of an alliance's obligations, sent once per obligation and stage, and the
channels they are sent through.

A `Reminder` is the outbox record of one reminder: its id is derived from the obligation's
key and the stage ("coming-due" while the obligation's window is open, "missed" once it
passed unmet), so queuing the same reminder twice is refused by the store. Each channel it
goes to (the alliance's webhook, its e-mail recipients) is delivered in attempts: a worker
*claims* an attempt by appending `AttemptStarted` at the aggregate's next version — of two
workers only one can append at that version, so only one sends — with a lease; a claim
whose lease ran out with no outcome (a worker killed mid-send) may be claimed again. Each
channel gets at most one `Delivered`, ever.

Reminders carry only what an `Obligation` carries: its key, kind, title (ToR names of
bodies, offices and seats, and dates), due date, owner (a ToR key or an id) and clause.
No person's name, no confidential text. The detail is in docs/reminders.md.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Literal, cast
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.errors import DomainError, StateConflict
from domain.obligations import Obligation
from domain.values import natural_id

Stage = Literal["coming-due", "missed"]
Channel = Literal["webhook", "email"]
STAGES: tuple[Stage, ...] = ("coming-due", "missed")
CHANNELS: tuple[Channel, ...] = ("webhook", "email")

#: A "missed" reminder is sent only for an obligation due within this many days before
#: today: a newly configured channel (or a newly onboarded alliance with a past start)
#: gets the recent misses, not its whole history.
MISSED_LOOKBACK_DAYS = 14
#: Attempts per channel (a lease that ran out counts as one) before it is given up.
MAX_ATTEMPTS = 6
#: The wait before retrying after the n-th failed attempt (the last repeats), in seconds.
BACKOFF_SECONDS: tuple[int, ...] = (30, 120, 600, 1800, 3600)


class InvalidReminder(DomainError):
    """A reminder names an obligation in the state its stage is about, and known channels."""

    code = "invalid-reminder"


class NotClaimable(StateConflict):
    """An attempt is claimed only for a channel not yet delivered nor given up, with no
    other attempt's lease running and no retry pending."""

    code = "reminder-not-claimable"


class AlreadyDelivered(StateConflict):
    """A channel of a reminder is delivered once."""

    code = "reminder-already-delivered"


class StaleAttempt(StateConflict):
    """Only the latest attempt at a channel records its failure."""

    code = "reminder-stale-attempt"


def stage_of(obligation: Obligation, today: date) -> Stage | None:
    """The stage of reminder an obligation calls for on `today`, if any: "coming-due" while
    it is due (its window is open), "missed" once missed with nothing recorded even late,
    within MISSED_LOOKBACK_DAYS of its due date."""
    if obligation.state == "due":
        return "coming-due"
    if (
        obligation.state == "missed"
        and not obligation.met_by
        and obligation.due_on >= today - timedelta(days=MISSED_LOOKBACK_DAYS)
    ):
        return "missed"
    return None


def to_remind(calendar: Iterable[Obligation], today: date) -> list[tuple[Obligation, Stage]]:
    """The obligations of a calendar a reminder is due for, with its stage."""
    found: list[tuple[Obligation, Stage]] = []
    for obligation in calendar:
        stage = stage_of(obligation, today)
        if stage is not None:
            found.append((obligation, stage))
    return found


def backoff(attempt: int) -> timedelta:
    """How long to wait after the `attempt`-th attempt failed."""
    return timedelta(seconds=BACKOFF_SECONDS[min(attempt, len(BACKOFF_SECONDS)) - 1])


@dataclass
class Delivery:
    """How one channel of a reminder stands."""

    attempts: int = 0
    #: The latest attempt's lease, while it has no outcome.
    lease_until: datetime | None = None
    delivered: bool = False
    #: After a failure: not before this time (None: at once, or given up).
    retry_after: datetime | None = None
    given_up: bool = False
    last_error: str | None = None

    @property
    def settled(self) -> bool:
        return self.delivered or self.given_up

    def next_step(self, now: datetime) -> Literal["done", "wait", "claim", "give-up"]:
        """What a worker may do with this channel at `now`."""
        if self.settled:
            return "done"
        if self.lease_until is not None and self.lease_until > now:
            return "wait"
        if self.retry_after is not None and self.retry_after > now:
            return "wait"
        if self.attempts >= MAX_ATTEMPTS:
            return "give-up"
        return "claim"

    def due_at(self) -> datetime | None:
        """When a worker should look at it next (None: settled; a past time: now)."""
        if self.settled:
            return None
        if self.lease_until is not None:
            return self.lease_until
        return self.retry_after


class Reminder(Aggregate):
    """One reminder of one obligation at one stage, and its delivery to each channel."""

    class Queued(Aggregate.Created):
        alliance: str
        obligation_key: str
        kind: str
        title: str
        due_on: date
        stage: str
        owner: dict[str, str]
        clause: str | None
        channels: list[str]
        queued_at: datetime

    class AttemptStarted(Aggregate.Event):
        channel: str
        attempt: int
        started_at: datetime
        lease_until: datetime

    class Delivered(Aggregate.Event):
        channel: str
        attempt: int
        delivered_at: datetime

    class Failed(Aggregate.Event):
        channel: str
        attempt: int
        #: The kind of failure only (an exception class, an HTTP status): never a body.
        error: str
        failed_at: datetime
        #: When to try again; None: given up.
        retry_after: datetime | None

    @staticmethod
    def create_id(obligation_key: str, stage: str) -> UUID:
        return natural_id("reminder", f"{obligation_key}|{stage}")

    @classmethod
    def queue(
        cls,
        alliance: str,
        obligation: Obligation,
        stage: Stage,
        channels: Sequence[str],
        *,
        now: datetime,
    ) -> Reminder:
        """Queue the reminder of an obligation at a stage, for these channels."""
        if stage not in STAGES:
            raise InvalidReminder(f"{stage!r} is not a stage; use one of {', '.join(STAGES)}")
        if stage == "coming-due" and obligation.state != "due":
            raise InvalidReminder(
                f"obligation {obligation.key} is {obligation.state}: a coming-due reminder is "
                "for an obligation whose window is open"
            )
        if stage == "missed" and (obligation.state != "missed" or obligation.met_by):
            raise InvalidReminder(
                f"obligation {obligation.key} is not missed with nothing recorded: a missed "
                "reminder is for an obligation whose due date passed unmet"
            )
        unknown = [c for c in channels if c not in CHANNELS]
        if unknown or not channels:
            raise InvalidReminder(
                f"a reminder goes to one or more of the channels {', '.join(CHANNELS)}"
            )
        return cls(
            alliance=alliance,
            obligation_key=obligation.key,
            kind=obligation.kind,
            title=obligation.title,
            due_on=obligation.due_on,
            stage=stage,
            owner=dict(obligation.owner),
            clause=obligation.clause,
            channels=sorted(set(channels)),
            queued_at=now,
        )

    @event(Queued)
    def __init__(
        self,
        alliance: str,
        obligation_key: str,
        kind: str,
        title: str,
        due_on: date,
        stage: str,
        owner: dict[str, str],
        clause: str | None,
        channels: list[str],
        queued_at: datetime,
    ) -> None:
        self.alliance = alliance
        self.obligation_key = obligation_key
        self.kind = kind
        self.title = title
        self.due_on = due_on
        self.stage = cast(Stage, stage)
        self.owner = owner
        self.clause = clause
        self.channels = list(channels)
        self.queued_at = queued_at
        self.deliveries: dict[str, Delivery] = {c: Delivery() for c in channels}

    # ------------------------------------------------------------------ reads

    def delivery(self, channel: str) -> Delivery:
        found = self.deliveries.get(channel)
        if found is None:
            raise InvalidReminder(f"this reminder does not go to the channel {channel!r}")
        return found

    @property
    def settled(self) -> bool:
        return all(d.settled for d in self.deliveries.values())

    def due_at(self) -> datetime | None:
        """When a worker should next look at it (None: every channel is settled)."""
        times = [d.due_at() for d in self.deliveries.values() if not d.settled]
        known = [t for t in times if t is not None]
        if len(known) < len(times):
            return self.queued_at  # a channel never claimed: at once
        return min(known) if known else None

    # ------------------------------------------------------------------ commands

    def claim(self, channel: str, *, now: datetime, lease: timedelta) -> int:
        """Claim the next attempt at a channel (a lease of `lease`); returns its number.
        Saved at the next version, it is the claim: a second claimer's save conflicts."""
        delivery = self.delivery(channel)
        step = delivery.next_step(now)
        if step != "claim":
            raise NotClaimable(
                f"the {channel} delivery of this reminder cannot be attempted now ({step})"
            )
        if lease <= timedelta(0):
            raise InvalidReminder("an attempt's lease is a positive duration")
        attempt = delivery.attempts + 1
        self._attempt_started(
            channel=channel, attempt=attempt, started_at=now, lease_until=now + lease
        )
        return attempt

    @event(AttemptStarted)
    def _attempt_started(
        self, channel: str, attempt: int, started_at: datetime, lease_until: datetime
    ) -> None:
        delivery = self.deliveries[channel]
        delivery.attempts = attempt
        delivery.lease_until = lease_until
        delivery.retry_after = None

    def record_delivered(self, channel: str, attempt: int, *, now: datetime) -> None:
        """The receiver took the reminder. Recorded once per channel, whichever attempt
        (a slow attempt whose lease ran out may still be the one that delivered)."""
        delivery = self.delivery(channel)
        if delivery.delivered:
            raise AlreadyDelivered(f"the {channel} delivery of this reminder is already recorded")
        if not 1 <= attempt <= delivery.attempts:
            raise InvalidReminder(f"attempt {attempt} at {channel} was never claimed")
        self._delivered(channel=channel, attempt=attempt, delivered_at=now)

    @event(Delivered)
    def _delivered(self, channel: str, attempt: int, delivered_at: datetime) -> None:
        delivery = self.deliveries[channel]
        delivery.delivered = True
        delivery.lease_until = None
        delivery.retry_after = None
        delivery.last_error = None

    def record_failed(
        self, channel: str, attempt: int, error: str, *, now: datetime, retry: bool
    ) -> datetime | None:
        """The attempt failed (`error`: its kind, never a body). Returns when to retry, or
        None when the channel is given up (not retryable, or out of attempts)."""
        delivery = self.delivery(channel)
        if delivery.delivered:
            raise AlreadyDelivered(f"the {channel} delivery of this reminder is already recorded")
        if attempt != delivery.attempts:
            raise StaleAttempt(
                f"attempt {attempt} at {channel} is not the latest ({delivery.attempts})"
            )
        retry_after = now + backoff(attempt) if retry and attempt < MAX_ATTEMPTS else None
        self._failed(
            channel=channel,
            attempt=attempt,
            error=error[:200],
            failed_at=now,
            retry_after=retry_after,
        )
        return retry_after

    def give_up(self, channel: str, *, now: datetime) -> None:
        """Stop trying a channel whose attempts are used up (the last one's lease ran out)."""
        delivery = self.delivery(channel)
        if delivery.next_step(now) != "give-up":
            raise NotClaimable(f"the {channel} delivery of this reminder is not out of attempts")
        self._failed(
            channel=channel,
            attempt=delivery.attempts,
            error="lease-expired",
            failed_at=now,
            retry_after=None,
        )

    @event(Failed)
    def _failed(
        self,
        channel: str,
        attempt: int,
        error: str,
        failed_at: datetime,
        retry_after: datetime | None,
    ) -> None:
        delivery = self.deliveries[channel]
        delivery.lease_until = None
        delivery.retry_after = retry_after
        delivery.given_up = retry_after is None
        delivery.last_error = error


# --------------------------------------------------------------------------- channels


class InvalidChannels(DomainError):
    """Reminder channels: at most one webhook and a bounded list of e-mail recipients."""

    code = "invalid-reminder-channels"


#: Most e-mail recipients an alliance's reminders go to.
MAX_RECIPIENTS = 10


class ReminderChannels(Aggregate):
    """Where an alliance's reminders go: a webhook (its signing secret is kept outside the
    log, named here by id) and e-mail recipients (personal data: each address is a
    `people` entry, sealed under its own key and erasable)."""

    class Opened(Aggregate.Created):
        alliance: str

    class Set(Aggregate.Event):
        webhook_url: str | None
        #: The id of the webhook's signing secret (the secret is never in the log).
        secret_id: str | None
        #: One {"email": address} per recipient (sealed per person in the store).
        people: list[dict[str, object]]
        set_by: str
        set_at: datetime

    class Removed(Aggregate.Event):
        removed_by: str
        removed_at: datetime

    @staticmethod
    def create_id(alliance: str) -> UUID:
        return natural_id("reminder-channels", alliance)

    @classmethod
    def open(cls, alliance: str) -> ReminderChannels:
        return cls(alliance=alliance)

    @event(Opened)
    def __init__(self, alliance: str) -> None:
        self.alliance = alliance
        self.webhook_url: str | None = None
        self.secret_id: str | None = None
        self.people: list[dict[str, object]] = []
        self.since: datetime | None = None
        self.updated_at: datetime | None = None

    @property
    def configured(self) -> bool:
        return self.webhook_url is not None or bool(self.people)

    def channels(self) -> list[Channel]:
        """The channels reminders go to now."""
        found: list[Channel] = []
        if self.webhook_url is not None:
            found.append("webhook")
        if self.people:
            found.append("email")
        return found

    def set(
        self,
        *,
        webhook_url: str | None,
        secret_id: str | None,
        emails: Sequence[str],
        by: str,
        now: datetime,
    ) -> None:
        """Send reminders to this webhook and these addresses (replacing what was set)."""
        if webhook_url is None and not emails:
            raise InvalidChannels(
                "name a webhook_url or at least one e-mail recipient (to stop reminders, "
                "remove the channels)"
            )
        if (webhook_url is None) != (secret_id is None):
            raise InvalidChannels("a webhook has a signing secret, and only a webhook does")
        if len(emails) > MAX_RECIPIENTS:
            raise InvalidChannels(f"at most {MAX_RECIPIENTS} e-mail recipients")
        self._channels_set(
            webhook_url=webhook_url,
            secret_id=secret_id,
            people=[{"email": e} for e in emails],
            set_by=by,
            set_at=now,
        )

    @event(Set)
    def _channels_set(
        self,
        webhook_url: str | None,
        secret_id: str | None,
        people: list[dict[str, object]],
        set_by: str,
        set_at: datetime,
    ) -> None:
        self.webhook_url = webhook_url
        self.secret_id = secret_id
        self.people = list(people)
        if self.since is None:
            self.since = set_at
        self.updated_at = set_at

    def remove(self, *, by: str, now: datetime) -> None:
        """Send no more reminders (those queued are not delivered)."""
        if not self.configured:
            raise StateConflict("this alliance has no reminder channels to remove")
        self._channels_removed(removed_by=by, removed_at=now)

    @event(Removed)
    def _channels_removed(self, removed_by: str, removed_at: datetime) -> None:
        self.webhook_url = None
        self.secret_id = None
        self.people = []
        self.since = None
        self.updated_at = removed_at
