"""ScenarioRunner on a VirtualClock: the target is called at the right simulated times; pause, resume, trigger,
status."""

from __future__ import annotations

import asyncio
import json

import pytest
from scenario_support import READY, RecordingTarget, write

from simulator.clock import VirtualClock
from simulator.scenario import ScenarioRunner, load_scenario


async def play(runner: ScenarioRunner, clock: VirtualClock, seconds: float) -> asyncio.Task[None]:
    task = asyncio.ensure_future(runner.run())
    await clock.advance(0)  # let run() reach its first sleep
    await clock.advance(seconds)
    return task


async def test_maintenance_window_calls_the_target_at_the_planned_times():
    clock = VirtualClock()
    target = RecordingTarget()
    runner = ScenarioRunner(load_scenario(READY / "maintenance-window.toml"), target, clock)
    task = await play(runner, clock, 1199)
    assert target.relative(runner.start) == [
        (300.0, "publish_notice", "upgrade"), (840.0, "publish_notice", "upgrade"),
        (900.0, "begin_maintenance", "upgrade"),
    ]
    assert not task.done()
    await clock.advance(1)
    await asyncio.wait_for(task, 1)  # nothing left: run() returns
    assert target.relative(runner.start)[-1] == (1200.0, "end_maintenance", "upgrade")
    first, second = target.notices
    assert (first.lead, second.lead) == (600.0, 60.0)
    assert first.begins == runner.start + 900 and first.ends == runner.start + 1200
    assert first.key != second.key


async def test_gateway_faults_begin_notify_and_end_on_time():
    clock = VirtualClock()
    target = RecordingTarget()
    runner = ScenarioRunner(load_scenario(READY / "gateway-faults.toml"), target, clock)
    task = await play(runner, clock, 800)
    await asyncio.wait_for(task, 1)
    assert target.relative(runner.start) == [
        (60.0, "begin_fault", "error-burst"), (65.0, "publish_notice", "error-burst"),
        (180.0, "end_fault", "error-burst"),
        (240.0, "begin_fault", "slow-responses"), (250.0, "publish_notice", "slow-responses"),
        (360.0, "end_fault", "slow-responses"),
        (420.0, "begin_fault", "link-drop"), (422.0, "publish_notice", "link-drop"),
        (540.0, "begin_fault", "failed-receipts"), (570.0, "publish_notice", "failed-receipts"),
        (720.0, "end_fault", "failed-receipts"),
    ]


async def test_every_ready_scenario_plays_to_its_end_on_a_virtual_clock():
    for path in sorted(READY.glob("*.toml")):
        clock = VirtualClock()
        target = RecordingTarget()
        runner = ScenarioRunner(load_scenario(path), target, clock)
        task = await play(runner, clock, 86_400)
        await asyncio.wait_for(task, 1)
        assert len(target.calls) == len(runner.steps), path.name
        times = [now for now, *_ in target.calls]
        assert times == sorted(times)
        assert [now for now, *_ in target.calls] == [step.at for step in runner.steps], path.name


async def test_a_fault_without_notice_delay_uses_the_gateway_default(tmp_path):
    path = write(tmp_path, 'schema = 1\nname = "f"\n[[events]]\nkind = "fault"\nfault = "black_hole"\n'
                           'at = "+00:01:00"\nduration = "00:01:00"\n')
    clock = VirtualClock()
    target = RecordingTarget()
    runner = ScenarioRunner(load_scenario(path), target, clock, fault_notice_delay=15.0)
    await asyncio.wait_for(await play(runner, clock, 200), 1)
    assert target.relative(runner.start) == [
        (60.0, "begin_fault", "fault-1"), (75.0, "publish_notice", "fault-1"), (120.0, "end_fault", "fault-1")]


async def test_pause_holds_the_steps_and_resume_shifts_them_by_the_pause():
    clock = VirtualClock()
    target = RecordingTarget()
    runner = ScenarioRunner(load_scenario(READY / "certification.toml"), target, clock)
    task = await play(runner, clock, 10)
    runner.pause()
    assert runner.paused
    await clock.advance(100)  # the throttle was due at +30: held
    assert target.calls == []
    assert runner.status()["next_in"] is None
    runner.resume()  # paused for 100 s: everything moves 100 s later
    await clock.advance(0)
    assert not runner.paused
    await clock.advance(30)
    assert target.relative(runner.start) == [(130.0, "begin_capacity", "throttle")]
    await clock.advance(60)
    assert target.relative(runner.start)[-1] == (190.0, "end_capacity", "throttle")
    runner.pause()
    runner.pause()  # idempotent
    runner.resume()
    runner.resume()
    await clock.advance(400)
    await asyncio.wait_for(task, 1)
    assert target.relative(runner.start)[-1] == (520.0, "publish_notice", "recovery")


async def test_trigger_applies_an_event_now_and_schedules_its_end():
    clock = VirtualClock()
    target = RecordingTarget()
    runner = ScenarioRunner(load_scenario(READY / "maintenance-window.toml"), target, clock)
    task = await play(runner, clock, 60)
    steps = runner.trigger("upgrade")
    assert [step.action for step in steps] == ["notice", "notice", "begin", "end"]
    assert all(step.manual for step in steps)
    # the advance notices could not be given ahead: both go out now, then the outage begins
    assert target.relative(runner.start) == [
        (60.0, "publish_notice", "upgrade"), (60.0, "publish_notice", "upgrade"),
        (60.0, "begin_maintenance", "upgrade")]
    assert "published late" in target.notices[0].detail
    with pytest.raises(ValueError, match="'upgrade' is active since"):
        runner.trigger("upgrade")
    with pytest.raises(LookupError, match="no event 'nope' in scenario maintenance-window"):
        runner.trigger("nope")
    await clock.advance(300)
    assert target.relative(runner.start)[-1] == (360.0, "end_maintenance", "upgrade")
    await clock.advance(900)  # the planned occurrence still happens: it does not overlap the manual one
    await asyncio.wait_for(task, 1)
    assert target.relative(runner.start)[3:] == [
        (300.0, "publish_notice", "upgrade"), (360.0, "end_maintenance", "upgrade"),
        (840.0, "publish_notice", "upgrade"), (900.0, "begin_maintenance", "upgrade"),
        (1200.0, "end_maintenance", "upgrade")]


async def test_a_planned_begin_during_a_manual_occurrence_is_skipped():
    clock = VirtualClock()
    target = RecordingTarget()
    runner = ScenarioRunner(load_scenario(READY / "maintenance-window.toml"), target, clock)
    task = await play(runner, clock, 800)
    runner.trigger("upgrade")  # active from +800 to +1100; the planned one would be +900 to +1200
    await clock.advance(500)
    await asyncio.wait_for(task, 1)
    assert [call for call in target.relative(runner.start) if call[1] != "publish_notice"] == [
        (800.0, "begin_maintenance", "upgrade"), (1100.0, "end_maintenance", "upgrade")]
    states = {step["key"]: step["state"] for step in runner.status()["steps"]}
    assert states["upgrade#1/begin"] == states["upgrade#1/end"] == "skipped"
    assert states["upgrade#m1/end"] == "done"


async def test_trigger_wakes_a_lingering_runner_for_the_end():
    clock = VirtualClock()
    target = RecordingTarget()
    runner = ScenarioRunner(load_scenario(READY / "overload-throttle.toml"), target, clock)
    task = asyncio.ensure_future(runner.run(linger=True))
    await clock.advance(1000)
    assert len(target.calls) == 3 and not task.done()  # lingering with nothing left
    runner.trigger("overload")
    await clock.advance(119)
    assert target.relative(runner.start)[-1] == (1000.0, "begin_capacity", "overload")
    await clock.advance(1)
    assert target.relative(runner.start)[-1] == (1120.0, "end_capacity", "overload")
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_a_failing_target_is_recorded_and_the_run_goes_on():
    clock = VirtualClock()
    target = RecordingTarget()
    target.fail_on.add("begin_maintenance")
    runner = ScenarioRunner(load_scenario(READY / "maintenance-window.toml"), target, clock)
    await asyncio.wait_for(await play(runner, clock, 1200), 1)
    assert [call[1] for call in target.calls][-2:] == ["begin_maintenance", "end_maintenance"]
    failed = [step for step in runner.status()["steps"] if step["state"] == "failed"]
    assert [(step["key"], step["error"]) for step in failed] == [
        ("upgrade#1/begin", "RuntimeError: begin_maintenance broke")]


async def test_status_shows_done_active_and_next_as_json():
    clock = VirtualClock()
    target = RecordingTarget()
    runner = ScenarioRunner(load_scenario(READY / "maintenance-window.toml"), target, clock)
    task = await play(runner, clock, 1000)
    status = runner.status()
    json.dumps(status)  # JSON-able
    assert status["scenario"] == "maintenance-window"
    assert status["now"] == runner.start + 1000
    assert [step["state"] for step in status["steps"]] == ["done", "done", "done", "pending"]
    assert status["steps"][2]["offset"] == "+00:15:00"
    assert status["steps"][2]["time"].endswith("+08:00")
    assert status["active"] == [{"event": "upgrade", "kind": "maintenance", "since": runner.start + 900,
                                 "until": runner.start + 1200, "detail": status["steps"][2]["detail"]}]
    assert status["next"]["key"] == "upgrade#1/end"
    assert status["next_in"] == 200.0
    await clock.advance(200)
    await asyncio.wait_for(task, 1)
    status = runner.status()
    assert status["active"] == [] and status["next"] is None and status["next_in"] is None


async def test_a_late_start_catches_up_in_order():
    clock = VirtualClock()
    target = RecordingTarget()
    start = clock.now() - 1000  # the scenario started 1000 s ago
    runner = ScenarioRunner(load_scenario(READY / "maintenance-window.toml"), target, clock, start=start)
    task = asyncio.ensure_future(runner.run())
    await clock.advance(0)
    assert [call[1] for call in target.calls] == ["publish_notice", "publish_notice", "begin_maintenance"]
    assert {now for now, *_ in target.calls} == {clock.now()}
    await clock.advance(200)
    await asyncio.wait_for(task, 1)
    assert target.relative(start)[-1] == (1200.0, "end_maintenance", "upgrade")


async def test_one_run_at_a_time():
    clock = VirtualClock()
    runner = ScenarioRunner(load_scenario(READY / "certification.toml"), RecordingTarget(), clock)
    task = asyncio.ensure_future(runner.run())
    await clock.advance(0)
    with pytest.raises(RuntimeError, match="already running"):
        await runner.run()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await clock.advance(600)
    await asyncio.wait_for(runner.run(), 1)  # cancelled, then run again: it finishes the rest


def test_random_draws_and_accounts_follow_the_file():
    scenario = load_scenario(READY / "gateway-faults.toml")
    draws = [scenario.rng("error-burst").random() for _ in range(2)]
    assert draws[0] == draws[1]  # the seed replays the same draws
    assert scenario.rng("error-burst").random() != scenario.rng("error-burst", occurrence=2).random()
    event = scenario.event("error-burst")
    assert event.applies_to("900001") and event.accounts == ("*",)
