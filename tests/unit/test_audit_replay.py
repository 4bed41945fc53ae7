"""How a point of an alliance's history is asked for: a log position, a day, a moment with
its offset, or now; anything else is refused naming the parameter it came in."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone

import pytest

from services.audit.replay import Moment, as_moment, parse_moment
from services.errors import InvalidRequest


def test_a_whole_number_is_a_log_position():
    assert parse_moment("212", "as_of") == Moment("212", position=212)
    assert parse_moment(" 7 ", "to") == Moment("7", position=7)


def test_a_day_is_the_last_instant_of_that_day_in_utc():
    moment = parse_moment("2026-03-01", "as_of")

    assert moment is not None and moment.whole_day
    assert moment.at == datetime.combine(date(2026, 3, 1), time.max, tzinfo=UTC)


def test_a_moment_is_read_in_any_offset_and_kept_in_utc():
    moment = parse_moment("2026-03-01T11:30:00+02:00", "from")

    assert moment is not None and moment.position is None and not moment.whole_day
    assert moment.at == datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
    assert parse_moment("2026-03-01T09:30:00Z", "from") == Moment(
        "2026-03-01T09:30:00Z", at=datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
    )


def test_now_is_no_moment_at_all():
    assert parse_moment("now", "to") is None
    assert parse_moment("NOW", "as_of") is None
    assert as_moment(None, "as_of") is None


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("0", ["as_of", "start at 1"]),
        ("-3", ["as_of", "not a log position"]),
        ("yesterday", ["as_of", "not a log position", "'now'"]),
        ("2026-02-30", ["as_of", "not a day of the calendar"]),
        ("2026-03-01T09:30:00", ["as_of", "no UTC offset"]),
        ("2026-03-01 9:30", ["as_of"]),
        ("1.5", ["as_of", "not a log position"]),
        ("", ["as_of"]),
    ],
)
def test_anything_else_is_refused_naming_the_parameter(text, words):
    with pytest.raises(InvalidRequest) as refused:
        parse_moment(text, "as_of")

    for word in words:
        assert word in refused.value.message


def test_the_python_api_takes_positions_days_and_aware_moments():
    aware = datetime(2026, 3, 1, 10, 0, tzinfo=timezone(timedelta(hours=1)))

    assert as_moment(5, "as_of") == Moment("5", position=5)
    assert as_moment(date(2026, 3, 1), "as_of") == parse_moment("2026-03-01", "as_of")
    moment = as_moment(aware, "as_of")
    assert moment is not None and moment.at == datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
    with pytest.raises(InvalidRequest, match="no UTC offset"):
        as_moment(datetime(2026, 3, 1, 10, 0), "as_of")
    with pytest.raises(InvalidRequest):
        as_moment(True, "as_of")
