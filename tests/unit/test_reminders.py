"""Reminders: which obligations call for one and at which stage, and how a reminder's
delivery to each channel is claimed, leased, retried and recorded once (domain/reminders.py).

Given an obligation (or a reminder's events), when a command, then these events or this
error; replaying the events rebuilds the same state.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import msgspec
import pytest

from domain.obligations import Obligation
from domain.reminders import (
    BACKOFF_SECONDS,
    MAX_ATTEMPTS,
    MAX_RECIPIENTS,
    MISSED_LOOKBACK_DAYS,
    AlreadyDelivered,
    InvalidChannels,
    InvalidReminder,
    NotClaimable,
    Reminder,
    ReminderChannels,
    StaleAttempt,
    stage_of,
    to_remind,
)
from infra.settings import Settings, SettingsError

TODAY = date(2026, 11, 24)
NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
LEASE = timedelta(seconds=60)


def obligation(
    state: str, *, due_on: date = TODAY, met_by: tuple[str, ...] = (), key: str = "k"
) -> Obligation:
    return msgspec.convert(
        {
            "key": key,
            "kind": "meeting",
            "title": "Steering group: meeting due between 2026-11-01 and 2026-12-31",
            "window_start": "2026-11-01",
            "due_on": due_on.isoformat(),
            "owner": {"body": "steering-group"},
            "state": state,
            "met_by": list(met_by),
            "rule": "meetings.steering-group",
            "clause": "4.2",
            "under_version": 1,
        },
        Obligation,
    )


def replayed(reminder: Reminder) -> Reminder:
    events = reminder.collect_events()
    copy: Reminder | None = None
    for each in events:
        copy = each.mutate(copy)  # type: ignore[assignment]
    assert copy is not None
    return copy


# ------------------------------------------------------------------------------ stages


def test_a_due_obligation_calls_for_a_coming_due_reminder() -> None:
    assert stage_of(obligation("due"), TODAY) == "coming-due"


def test_upcoming_and_met_obligations_call_for_no_reminder() -> None:
    assert stage_of(obligation("upcoming"), TODAY) is None
    assert stage_of(obligation("met", met_by=("m1",)), TODAY) is None


def test_a_missed_obligation_with_nothing_recorded_calls_for_a_missed_reminder() -> None:
    missed = obligation("missed", due_on=TODAY - timedelta(days=1))
    assert stage_of(missed, TODAY) == "missed"


def test_a_miss_met_late_calls_for_no_missed_reminder() -> None:
    late = obligation("missed", due_on=TODAY - timedelta(days=1), met_by=("late-meeting",))
    assert stage_of(late, TODAY) is None


def test_misses_older_than_the_lookback_are_not_reminded_of() -> None:
    edge = obligation("missed", due_on=TODAY - timedelta(days=MISSED_LOOKBACK_DAYS))
    older = obligation("missed", due_on=TODAY - timedelta(days=MISSED_LOOKBACK_DAYS + 1))
    assert stage_of(edge, TODAY) == "missed"
    assert stage_of(older, TODAY) is None


def test_to_remind_pairs_each_obligation_with_its_stage() -> None:
    calendar = [
        obligation("due", key="a"),
        obligation("upcoming", key="b"),
        obligation("missed", due_on=TODAY - timedelta(days=2), key="c"),
    ]
    assert [(o.key, s) for o, s in to_remind(calendar, TODAY)] == [
        ("a", "coming-due"),
        ("c", "missed"),
    ]


# ------------------------------------------------------------------------------ queuing


def test_a_reminder_id_is_derived_from_the_obligation_and_stage() -> None:
    first = Reminder.queue("kent", obligation("due"), "coming-due", ["email"], now=NOW)
    again = Reminder.queue("kent", obligation("due"), "coming-due", ["webhook"], now=NOW)
    missed = Reminder.queue(
        "kent", obligation("missed", due_on=TODAY - timedelta(days=1)), "missed", ["email"], now=NOW
    )
    assert first.id == again.id == Reminder.create_id("k", "coming-due")
    assert missed.id != first.id


def test_a_reminder_carries_only_what_the_obligation_carries() -> None:
    reminder = Reminder.queue(
        "kent", obligation("due"), "coming-due", ["webhook", "email"], now=NOW
    )
    (queued,) = reminder.collect_events()
    assert isinstance(queued, Reminder.Queued)
    assert queued.obligation_key == "k"
    assert queued.title.startswith("Steering group")
    assert queued.owner == {"body": "steering-group"}
    assert queued.clause == "4.2"
    assert queued.channels == ["email", "webhook"]


@pytest.mark.parametrize(
    ("state", "stage"),
    [("upcoming", "coming-due"), ("met", "coming-due"), ("due", "missed"), ("upcoming", "later")],
)
def test_a_reminder_stage_must_fit_the_obligation(state: str, stage: str) -> None:
    with pytest.raises(InvalidReminder):
        Reminder.queue("kent", obligation(state), stage, ["email"], now=NOW)  # type: ignore[arg-type]


def test_a_missed_reminder_is_refused_for_an_obligation_met_late() -> None:
    late = obligation("missed", due_on=TODAY - timedelta(days=1), met_by=("m",))
    with pytest.raises(InvalidReminder):
        Reminder.queue("kent", late, "missed", ["email"], now=NOW)


@pytest.mark.parametrize("channels", [[], ["sms"], ["email", "pager"]])
def test_a_reminder_goes_to_known_channels_only(channels: list[str]) -> None:
    with pytest.raises(InvalidReminder):
        Reminder.queue("kent", obligation("due"), "coming-due", channels, now=NOW)


# ------------------------------------------------------------------------------ delivery


def queued(*channels: str) -> Reminder:
    return Reminder.queue("kent", obligation("due"), "coming-due", list(channels), now=NOW)


def test_a_claimed_attempt_holds_the_channel_until_its_lease_runs_out() -> None:
    reminder = queued("email")
    assert reminder.claim("email", now=NOW, lease=LEASE) == 1
    with pytest.raises(NotClaimable):
        reminder.claim("email", now=NOW + LEASE - timedelta(seconds=1), lease=LEASE)
    assert reminder.claim("email", now=NOW + LEASE, lease=LEASE) == 2
    assert reminder.delivery("email").attempts == 2


def test_each_channel_is_claimed_on_its_own() -> None:
    reminder = queued("email", "webhook")
    reminder.claim("email", now=NOW, lease=LEASE)
    assert reminder.claim("webhook", now=NOW, lease=LEASE) == 1


def test_a_channel_is_delivered_once() -> None:
    reminder = queued("email")
    reminder.claim("email", now=NOW, lease=LEASE)
    reminder.record_delivered("email", 1, now=NOW)
    with pytest.raises(AlreadyDelivered):
        reminder.record_delivered("email", 1, now=NOW)
    with pytest.raises(NotClaimable):
        reminder.claim("email", now=NOW + LEASE * 10, lease=LEASE)
    assert reminder.settled
    assert reminder.due_at() is None


def test_a_slow_attempt_that_delivered_after_its_lease_is_still_recorded_once() -> None:
    reminder = queued("webhook")
    reminder.claim("webhook", now=NOW, lease=LEASE)
    reminder.claim("webhook", now=NOW + LEASE, lease=LEASE)  # the first was presumed dead
    reminder.record_delivered("webhook", 1, now=NOW + LEASE)
    with pytest.raises(AlreadyDelivered):
        reminder.record_delivered("webhook", 2, now=NOW + LEASE)
    delivered = [e for e in reminder.collect_events() if isinstance(e, Reminder.Delivered)]
    assert [(e.channel, e.attempt) for e in delivered] == [("webhook", 1)]


def test_an_unclaimed_attempt_cannot_be_recorded_delivered() -> None:
    reminder = queued("email")
    with pytest.raises(InvalidReminder):
        reminder.record_delivered("email", 1, now=NOW)


def test_a_failure_waits_for_its_backoff_before_the_next_claim() -> None:
    reminder = queued("email")
    reminder.claim("email", now=NOW, lease=LEASE)
    retry_at = reminder.record_failed("email", 1, "SMTP 451", now=NOW, retry=True)
    assert retry_at == NOW + timedelta(seconds=BACKOFF_SECONDS[0])
    assert reminder.due_at() == retry_at
    with pytest.raises(NotClaimable):
        reminder.claim("email", now=retry_at - timedelta(seconds=1), lease=LEASE)
    assert reminder.claim("email", now=retry_at, lease=LEASE) == 2


def test_only_the_latest_attempt_records_a_failure() -> None:
    reminder = queued("email")
    reminder.claim("email", now=NOW, lease=LEASE)
    reminder.claim("email", now=NOW + LEASE, lease=LEASE)
    with pytest.raises(StaleAttempt):
        reminder.record_failed("email", 1, "TimeoutError", now=NOW + LEASE, retry=True)


def test_a_failure_that_should_not_be_retried_gives_the_channel_up() -> None:
    reminder = queued("webhook")
    reminder.claim("webhook", now=NOW, lease=LEASE)
    assert reminder.record_failed("webhook", 1, "HTTP 410", now=NOW, retry=False) is None
    assert reminder.delivery("webhook").given_up
    assert reminder.settled


def test_a_channel_is_given_up_after_the_last_attempt() -> None:
    reminder = queued("email")
    now = NOW
    for attempt in range(1, MAX_ATTEMPTS + 1):
        assert reminder.claim("email", now=now, lease=LEASE) == attempt
        retry_at = reminder.record_failed("email", attempt, "OSError", now=now, retry=True)
        if attempt < MAX_ATTEMPTS:
            assert retry_at is not None
            now = retry_at
        else:
            assert retry_at is None
    assert reminder.delivery("email").given_up


def test_leases_that_keep_running_out_end_in_giving_up() -> None:
    reminder = queued("email")
    now = NOW
    for _ in range(MAX_ATTEMPTS):
        reminder.claim("email", now=now, lease=LEASE)
        now += LEASE
    assert reminder.delivery("email").next_step(now) == "give-up"
    with pytest.raises(NotClaimable):
        reminder.claim("email", now=now, lease=LEASE)
    reminder.give_up("email", now=now)
    failed = [e for e in reminder.collect_events() if isinstance(e, Reminder.Failed)]
    assert [(e.error, e.retry_after) for e in failed] == [("lease-expired", None)]


def test_replaying_a_reminders_events_rebuilds_its_state() -> None:
    reminder = queued("email", "webhook")
    reminder.claim("email", now=NOW, lease=LEASE)
    reminder.record_delivered("email", 1, now=NOW)
    reminder.claim("webhook", now=NOW, lease=LEASE)
    reminder.record_failed("webhook", 1, "HTTP 503", now=NOW, retry=True)
    copy = replayed(reminder)
    assert copy.deliveries == reminder.deliveries
    assert copy.version == reminder.version


# ------------------------------------------------------------------------------ channels


def test_channels_need_a_webhook_or_a_recipient() -> None:
    channels = ReminderChannels.open("kent")
    with pytest.raises(InvalidChannels):
        channels.set(webhook_url=None, secret_id=None, emails=[], by="k", now=NOW)


def test_a_webhook_comes_with_a_signing_secret() -> None:
    channels = ReminderChannels.open("kent")
    with pytest.raises(InvalidChannels):
        channels.set(webhook_url="https://x.example/h", secret_id=None, emails=[], by="k", now=NOW)


def test_recipients_are_bounded_and_recorded_as_people() -> None:
    channels = ReminderChannels.open("kent")
    many = [f"p{n}@example.org" for n in range(MAX_RECIPIENTS + 1)]
    with pytest.raises(InvalidChannels):
        channels.set(webhook_url=None, secret_id=None, emails=many, by="k", now=NOW)
    channels.set(webhook_url=None, secret_id=None, emails=["a@example.org"], by="k", now=NOW)
    event = channels.collect_events()[-1]
    assert isinstance(event, ReminderChannels.Set)
    # "people" entries are what the store seals per person (infra/personal_keys.py).
    assert event.people == [{"email": "a@example.org"}]
    assert channels.channels() == ["email"]


def test_removing_channels_stops_reminders_and_keeps_no_secret_id() -> None:
    channels = ReminderChannels.open("kent")
    channels.set(webhook_url="https://x.example/h", secret_id="s1", emails=[], by="k", now=NOW)
    assert channels.since == NOW
    channels.remove(by="k", now=NOW)
    assert not channels.configured
    assert channels.secret_id is None
    assert channels.channels() == []


# ------------------------------------------------------------------------------ settings


def test_reminder_settings_are_read_and_checked() -> None:
    read = Settings.from_env(
        {
            "CONCORD_SMTP_URL": "smtp://127.0.0.1:8025",
            "CONCORD_SMTP_FROM": "reminders@concord.example.org",
            "CONCORD_SMTP_STARTTLS": "true",
            "CONCORD_PUBLIC_BASE_URL": "https://concord.example.org",
            "CONCORD_REMINDER_LEASE_SECONDS": "45",
            "CONCORD_SMTP_USERNAME": "",
            "CONCORD_SMTP_PASSWORD": "",
        }
    )
    assert read.smtp_url == "smtp://127.0.0.1:8025"
    assert read.smtp_starttls is True
    assert read.reminder_lease_seconds == 45
    assert read.smtp_username is None and read.public_base_url == "https://concord.example.org"
    for bad, names in [
        ({"CONCORD_SMTP_URL": "mail.example.org:25"}, "CONCORD_SMTP_URL"),
        ({"CONCORD_SMTP_USERNAME": "u"}, "CONCORD_SMTP_PASSWORD"),
        ({"CONCORD_PUBLIC_BASE_URL": "concord.example.org"}, "CONCORD_PUBLIC_BASE_URL"),
        ({"CONCORD_REMINDER_LEASE_SECONDS": "0"}, "CONCORD_REMINDER_LEASE_SECONDS"),
    ]:
        with pytest.raises(SettingsError, match=names):
            Settings.from_env(bad)
