"""The ready scenarios under scenarios/: each loads, and its timeline is what its comment block documents."""

from __future__ import annotations

import tomllib
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from scenario_support import READY

from simulator.config import Outcome
from simulator.scenario import (
    After,
    BulkGuard,
    Capacity,
    ErrorCode,
    Every,
    Fault,
    Maintenance,
    Notice,
    Scenario,
    load_scenario,
    timeline,
)

START = datetime(2026, 11, 30, 0, 0, tzinfo=ZoneInfo("Asia/Shanghai")).timestamp()
NAMES = ["bulk-abuse", "certification", "emergency-cut", "gateway-faults", "maintenance-window", "overload-throttle",
         "soak"]


def load(name: str) -> Scenario:
    return load_scenario(READY / f"{name}.toml")


def steps_of(name: str) -> list[tuple[float, str, str]]:
    """(offset from the start, action, event id) of each step."""
    return [(step.at - START, step.action, step.event.id) for step in timeline(load(name), START)]


def test_the_ready_set_is_complete():
    assert sorted(path.stem for path in READY.glob("*.toml")) == NAMES


@pytest.mark.parametrize("name", NAMES)
def test_each_ready_scenario_loads_and_documents_itself(name):
    path = READY / f"{name}.toml"
    scenario = load_scenario(path)
    assert scenario.name == name
    assert scenario.path == path
    assert scenario.timezone == "Asia/Shanghai"
    assert scenario.description.strip()
    text = path.read_text(encoding="utf-8")
    header = text.split("\nschema = 1", 1)[0]
    assert all(line.startswith("#") or not line for line in header.splitlines())  # a comment block on top
    assert "clause" in header
    assert tomllib.loads(text)["schema"] == 1


def test_maintenance_window_notices_ten_and_one_minutes_ahead_then_terminates_for_five_minutes():
    upgrade = load("maintenance-window").event("upgrade")
    assert upgrade == Maintenance(id="upgrade", kind="maintenance", accounts=("*",), timing=After(900.0),
                                  duration=300.0, reason="SMSC software upgrade", mode="terminate",
                                  notice=(600.0, 60.0))
    assert steps_of("maintenance-window") == [
        (300.0, "notice", "upgrade"), (840.0, "notice", "upgrade"),
        (900.0, "begin", "upgrade"), (1200.0, "end", "upgrade"),
    ]
    notice = timeline(load("maintenance-window"), START)[0]
    assert (notice.begins, notice.ends, notice.lead) == (START + 900, START + 1200, 600.0)


def test_overload_throttle_cuts_the_rate_to_five_for_two_minutes():
    overload = load("overload-throttle").event("overload")
    assert isinstance(overload, Capacity)
    assert (overload.kind, overload.rate, overload.factor, overload.window, overload.duration) == (
        "throttle", 5.0, None, 4, 120.0)
    assert steps_of("overload-throttle") == [
        (60.0, "apply", "overload-notice"), (60.0, "begin", "overload"), (180.0, "end", "overload"),
    ]


def test_emergency_cut_scales_to_thirty_percent_for_three_minutes_then_recovers():
    cut = load("emergency-cut").event("cut")
    assert isinstance(cut, Capacity)
    assert (cut.kind, cut.factor, cut.rate, cut.duration) == ("capacity", 0.3, None, 180.0)
    assert steps_of("emergency-cut") == [
        (120.0, "apply", "emergency-notice"), (120.0, "begin", "cut"), (300.0, "end", "cut"),
    ]


def test_gateway_faults_come_in_order_each_with_its_notice():
    scenario = load("gateway-faults")
    burst = scenario.event("error-burst")
    assert isinstance(burst, Fault)
    assert (burst.fault, burst.ratio, burst.code, burst.notice_delay) == (
        "error_burst", 0.3, ErrorCode(cmpp=8, smpp=0x08), 5.0)
    latency = scenario.event("slow-responses")
    assert isinstance(latency, Fault) and latency.latency == (0.2, 0.8)
    drop = scenario.event("link-drop")
    assert isinstance(drop, Fault) and (drop.fault, drop.sessions, drop.duration) == ("disconnect", None, None)
    receipts = scenario.event("failed-receipts")
    assert isinstance(receipts, Fault)
    assert receipts.outcomes == (Outcome("UNDELIV", 60.0, 1), Outcome("EXPIRED", 40.0, 2))
    assert steps_of("gateway-faults") == [
        (60.0, "begin", "error-burst"), (65.0, "notice", "error-burst"), (180.0, "end", "error-burst"),
        (240.0, "begin", "slow-responses"), (250.0, "notice", "slow-responses"), (360.0, "end", "slow-responses"),
        (420.0, "apply", "link-drop"), (422.0, "notice", "link-drop"),
        (540.0, "begin", "failed-receipts"), (570.0, "notice", "failed-receipts"), (720.0, "end", "failed-receipts"),
    ]


def test_bulk_abuse_enforces_twenty_recipients_a_minute_until_the_end():
    guard = load("bulk-abuse").event("bulk-guard")
    assert guard == BulkGuard(id="bulk-guard", kind="bulk_guard", timing=After(0.0), recipients=20, within=60.0,
                              mode="enforce")
    assert steps_of("bulk-abuse") == [(0.0, "apply", "bulk-rule"), (0.0, "begin", "bulk-guard")]


def test_certification_runs_throttle_maintenance_burst_and_recovery_in_under_ten_minutes():
    scenario = load("certification")
    steps = steps_of("certification")
    assert steps == [
        (30.0, "begin", "throttle"), (90.0, "end", "throttle"),
        (120.0, "notice", "maintenance"), (180.0, "begin", "maintenance"), (270.0, "end", "maintenance"),
        (330.0, "notice", "error-burst"), (330.0, "begin", "error-burst"), (390.0, "end", "error-burst"),
        (420.0, "apply", "recovery"),
    ]
    assert steps[-1][0] < 600
    maintenance = scenario.event("maintenance")
    assert isinstance(maintenance, Maintenance) and maintenance.mode == "terminate"
    assert isinstance(scenario.event("recovery"), Notice)


def test_soak_is_a_day_with_several_of_each_kind():
    scenario = load("soak")
    kinds = [event.kind for event in scenario.events]
    assert {kind: kinds.count(kind) for kind in set(kinds)} == {
        "notice": 2, "bulk_guard": 2, "maintenance": 2, "fault": 7, "throttle": 3, "capacity": 2,
    }
    assert {event.fault for event in scenario.events if isinstance(event, Fault)} == {
        "error_burst", "receipt_delay", "disconnect", "receipt_failure", "half_open", "black_hole", "latency"}
    steps = timeline(scenario, START)
    assert max(step.at for step in steps) - START <= 86_400
    blips = scenario.event("latency-blips")
    assert isinstance(blips.timing, Every) and blips.timing.count == 8
    begins = [step.at for step in steps if step.event.id == "latency-blips" and step.action == "begin"]
    # wall clock 00:15, 03:15, ... in Asia/Shanghai from a start at midnight
    assert [datetime.fromtimestamp(at, ZoneInfo("Asia/Shanghai")).hour for at in begins] == [0, 3, 6, 9, 12, 15,
                                                                                             18, 21]
    # the monitor ends at 08:00 just before the enforcement begins at the same instant
    at_eight = [(step.action, step.event.id) for step in steps if step.at - START == 8 * 3600]
    assert at_eight == [("end", "bulk-monitor"), ("end", "slow-receipts"), ("begin", "bulk-enforce")]
    # no event overlaps itself
    for event in scenario.events:
        own = [step for step in steps if step.event is event and step.action in ("begin", "end")]
        assert [step.action for step in own] == ["begin", "end"] * (len(own) // 2) + ["begin"] * (len(own) % 2)
