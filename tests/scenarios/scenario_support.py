"""Helpers shared by the scenario tests: a target that records what the runner asks of it, and file writing."""

from __future__ import annotations

from pathlib import Path

from simulator.scenario import BulkGuard, Capacity, Fault, Maintenance, Step

REPO = Path(__file__).resolve().parents[2]
READY = REPO / "scenarios"


class RecordingTarget:
    """A :class:`~simulator.scenario.ScenarioTarget` that records each call as ``(now, method, event id, detail)``
    where ``detail`` is the notice step's key for ``publish_notice`` and ``None`` otherwise."""

    def __init__(self) -> None:
        self.calls: list[tuple[float, str, str, str | None]] = []
        self.notices: list[Step] = []
        self.fail_on: set[str] = set()

    def _record(self, now: float, method: str, event_id: str, detail: str | None = None) -> None:
        self.calls.append((now, method, event_id, detail))
        if method in self.fail_on:
            raise RuntimeError(f"{method} broke")

    def begin_maintenance(self, maintenance: Maintenance, now: float) -> None:
        self._record(now, "begin_maintenance", maintenance.id)

    def end_maintenance(self, maintenance: Maintenance, now: float) -> None:
        self._record(now, "end_maintenance", maintenance.id)

    def begin_capacity(self, capacity: Capacity, now: float) -> None:
        self._record(now, "begin_capacity", capacity.id)

    def end_capacity(self, capacity: Capacity, now: float) -> None:
        self._record(now, "end_capacity", capacity.id)

    def begin_fault(self, fault: Fault, now: float) -> None:
        self._record(now, "begin_fault", fault.id)

    def end_fault(self, fault: Fault, now: float) -> None:
        self._record(now, "end_fault", fault.id)

    def begin_bulk_guard(self, guard: BulkGuard, now: float) -> None:
        self._record(now, "begin_bulk_guard", guard.id)

    def end_bulk_guard(self, guard: BulkGuard, now: float) -> None:
        self._record(now, "end_bulk_guard", guard.id)

    def publish_notice(self, step: Step, now: float) -> None:
        self.notices.append(step)
        self._record(now, "publish_notice", step.event.id, step.key)

    def relative(self, start: float) -> list[tuple[float, str, str]]:
        """The calls with times as offsets from ``start`` and without the notice keys."""
        return [(round(now - start, 6), method, event_id) for now, method, event_id, _ in self.calls]


def write(directory: Path, text: str, name: str = "scenario.toml") -> Path:
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path
