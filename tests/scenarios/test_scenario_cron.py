"""The 5-field cron matcher, and how recurring events are expanded and bounded on a timeline."""

from __future__ import annotations

from datetime import datetime, timedelta
from itertools import islice
from zoneinfo import ZoneInfo

import pytest
from scenario_support import write

from simulator.scenario import DEFAULT_RECURRING_HORIZON, Cron, load_scenario, timeline

SHANGHAI = ZoneInfo("Asia/Shanghai")
NEW_YORK = ZoneInfo("America/New_York")


def wall(year: int, month: int, day: int, hour: int = 0, minute: int = 0, *, zone: ZoneInfo = SHANGHAI) -> float:
    return datetime(year, month, day, hour, minute, tzinfo=zone).timestamp()


def first(cron: str, after: float, n: int, zone: ZoneInfo = SHANGHAI) -> list[str]:
    times = Cron.parse(cron).times(after, zone)
    return [datetime.fromtimestamp(next(times), zone).strftime("%a %Y-%m-%d %H:%M") for _ in range(n)]


def test_fields_lists_ranges_steps_and_names():
    cron = Cron.parse("5,35 */6 1-10/3 JAN-mar,12 mon-FRI")
    assert cron.minutes == {5, 35}
    assert cron.hours == {0, 6, 12, 18}
    assert cron.days == {1, 4, 7, 10}
    assert cron.months == {1, 2, 3, 12}
    assert cron.weekdays == {1, 2, 3, 4, 5}
    assert cron.either_day
    assert Cron.parse("0 0 * * 7").weekdays == {0}  # 7 is Sunday too
    assert Cron.parse("0 0 * * 5-7").weekdays == {5, 6, 0}
    assert Cron.parse("10/20 * * * *").minutes == {10, 30, 50}
    weekly = Cron.parse("@weekly")
    assert (weekly.minutes, weekly.hours, weekly.weekdays, weekly.text) == ({0}, {0}, {0}, "@weekly")


def test_weekly_sunday_at_two_in_the_scenario_zone():
    start = wall(2026, 11, 25, 12)  # a Wednesday
    assert first("0 2 * * SUN", start, 3) == ["Sun 2026-11-29 02:00", "Sun 2026-12-06 02:00", "Sun 2026-12-13 02:00"]


def test_an_occurrence_at_the_start_itself_counts():
    start = wall(2026, 11, 29, 2)
    assert first("0 2 * * SUN", start, 1) == ["Sun 2026-11-29 02:00"]
    assert first("0 2 * * SUN", start + 0.5, 1) == ["Sun 2026-12-06 02:00"]


def test_both_day_fields_restricted_means_either():
    # the 1st of the month or any Monday (Vixie cron)
    assert first("0 9 1 * MON", wall(2026, 11, 25), 4) == [
        "Mon 2026-11-30 09:00", "Tue 2026-12-01 09:00", "Mon 2026-12-07 09:00", "Mon 2026-12-14 09:00"]
    # a star in either day field means both must match
    assert first("0 9 */1 * MON", wall(2026, 11, 25), 2) == ["Mon 2026-11-30 09:00", "Mon 2026-12-07 09:00"]


def test_february_the_29th_waits_for_a_leap_year():
    assert first("0 0 29 2 *", wall(2026, 1, 1), 2) == ["Tue 2028-02-29 00:00", "Sun 2032-02-29 00:00"]


def test_daylight_saving_gaps_skip_and_repeats_fire_once():
    # New York 2026: clocks jump 02:00 -> 03:00 on March 8 and fall back 02:00 -> 01:00 on November 1
    spring = first("30 2 * * *", wall(2026, 3, 7, zone=NEW_YORK), 2, NEW_YORK)
    assert spring == ["Sat 2026-03-07 02:30", "Mon 2026-03-09 02:30"]
    autumn = list(islice(Cron.parse("30 1 * * *").times(wall(2026, 10, 31, 12, zone=NEW_YORK), NEW_YORK), 2))
    assert autumn[1] - autumn[0] == 25 * 3600  # Nov 1 01:30 EDT once, then Nov 2 01:30 EST


@pytest.mark.parametrize("text", ["0 2 * *", "60 * * * *", "* 24 * * *", "* * 0 * *", "* * * 0 *", "* * * * 8",
                                  "a * * * *", "1-2-3 * * * *", "*/0 * * * *", "0 0 30 2 *", "", "@often",
                                  "٣ * * * *", "99999999999999999999 * * * *"])
def test_invalid_expressions_raise_value_error(text):
    with pytest.raises(ValueError):  # the messages are checked in test_scenario_errors
        Cron.parse(text)


SCENARIO = """\
schema = 1
name = "recurring"
timezone = "Asia/Shanghai"

[[events]]
id = "nightly"
kind = "maintenance"
cron = "0 2 * * *"
duration = "00:30:00"
reason = "nightly backup"
notice = ["01:00:00"]
{bound}
"""


def begins(tmp_path, bound: str, start: float, **kwargs: float) -> list[float]:
    scenario = load_scenario(write(tmp_path, SCENARIO.format(bound=bound)))
    return [step.at for step in timeline(scenario, start, **kwargs) if step.action == "begin"]


def test_a_cron_without_bound_is_bounded_by_the_default_horizon(tmp_path):
    start = wall(2026, 11, 30)
    found = begins(tmp_path, "", start)
    assert len(found) == 7
    assert found[-1] - start <= DEFAULT_RECURRING_HORIZON
    assert len(begins(tmp_path, "", start, horizon=2 * 86_400)) == 2


def test_count_and_until_bound_a_cron_beyond_the_default_horizon(tmp_path):
    start = wall(2026, 11, 30)
    assert len(begins(tmp_path, "count = 10", start)) == 10
    assert len(begins(tmp_path, 'until = "+3d 02:00:00"', start)) == 4  # inclusive
    assert len(begins(tmp_path, 'until = "2026-12-02T02:00:00+08:00"', start)) == 3
    assert len(begins(tmp_path, 'count = 10\nuntil = "+3d 00:00:00"', start)) == 3
    assert len(begins(tmp_path, "count = 10", start, horizon=86_400.0)) == 1  # an explicit horizon cuts anyway


def test_advance_notices_of_recurring_events_are_not_before_the_start(tmp_path):
    start = wall(2026, 11, 30, 1, 30)  # half an hour before the first occurrence, whose notice is 1 h ahead
    scenario = load_scenario(write(tmp_path, SCENARIO.format(bound="count = 2")))
    notices = [step for step in timeline(scenario, start) if step.action == "notice"]
    assert [step.at - start for step in notices] == [0.0, timedelta(hours=23, minutes=30).total_seconds()]
    assert "published late: 00:30:00 ahead" in notices[0].detail
    assert "late" not in notices[1].detail
    assert [step.key for step in notices] == ["nightly#1/notice/3600", "nightly#2/notice/3600"]


def test_overlapping_occurrences_are_left_out(tmp_path):
    text = SCENARIO.format(bound="").replace('cron = "0 2 * * *"', 'cron = "0,20 2 * * *"')
    scenario = load_scenario(write(tmp_path, text))
    start = wall(2026, 11, 30)
    found = [step for step in timeline(scenario, start, horizon=86_400) if step.action in ("begin", "end")]
    # 02:20 falls inside the 30-minute occurrence begun at 02:00
    assert [(step.action, datetime.fromtimestamp(step.at, SHANGHAI).strftime("%H:%M")) for step in found] == [
        ("begin", "02:00"), ("end", "02:30")]
