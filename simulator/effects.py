"""How a scenario acts on the running simulator: the :class:`~simulator.scenario.ScenarioTarget`.

Each method is what one timeline step means for partners (issue 4): a maintenance refuses binds and, by
mode, drops sessions (``refuse``), says TERMINATE / unbind first (``terminate``), or stops answering
anything so that the partner's own timers must notice (``silent``); a throttle or capacity step imposes a
rate and window (an emergency cut scales the contract, clause 3.14); faults disconnect, refuse a share of
submits, slow answers, swallow everything, freeze connections half-open, or change receipts; a bulk guard
tightens the abnormal-bulk rule (clause 2.8); notices go to the notice board (clauses 2.9, 2.10). Every
step is an audit event, which the compliance monitor reads.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable, Coroutine
from types import MappingProxyType
from typing import Any

from simulator.gateway import Gateway
from simulator.notices import NoticeBoard, NoticeRecord
from simulator.policy import Mode
from simulator.scenario import BulkGuard, Capacity, Fault, Maintenance, Notice, Scenario, Step

__all__ = ["ScenarioEffects"]


class ScenarioEffects:
    """Carries out scenario steps on a gateway; ``listening(False)`` closes the listeners (a refuse-mode
    outage for every account refuses TCP itself), ``listening(True)`` opens them again."""

    def __init__(self, gateway: Gateway, *, notices: NoticeBoard | None = None,
                 listening: Callable[[bool], Coroutine[Any, Any, None]] | None = None) -> None:
        self.gateway = gateway
        self.notices = notices
        self._listening = listening
        self._held: dict[str, list[Any]] = {}
        self._bulk_before: dict[str, tuple[int, float, Mode | None]] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        #: The scenario being replayed: its seed drives every random draw of its faults.
        self.scenario: Scenario | None = None
        self._occurrences: dict[str, int] = {}

    def _accounts(self, scoped: Maintenance | Capacity | Fault | BulkGuard | Notice) -> list[str]:
        return [account.id for account in self.gateway.config.accounts if scoped.applies_to(account.id)]

    def _links(self, scoped: Maintenance | Fault) -> list[Any]:
        return [link for link in self.gateway.links() if scoped.applies_to(link.account)]

    def _spawn(self, coroutine: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- maintenance (clause 2.9) ---------------------------------------------------------------------

    def begin_maintenance(self, maintenance: Maintenance, now: float) -> None:
        """The outage starts: binds are refused (refuse, terminate) or nothing is answered (silent)."""
        self.gateway.conditions.maintenance[maintenance.id] = maintenance
        self.gateway.events.emit(now, "maintenance.started", id=maintenance.id, mode=maintenance.mode,
                                 accounts=list(maintenance.accounts), reason=maintenance.reason,
                                 expected_end=now + maintenance.duration)
        if maintenance.mode == "terminate":
            for link in self._links(maintenance):
                link.shut_down()
        elif maintenance.mode == "refuse":
            for link in self._links(maintenance):
                link.abort()
            if "*" in maintenance.accounts and self._listening is not None:
                self._spawn(self._listening(False))

    def end_maintenance(self, maintenance: Maintenance, now: float) -> None:
        """Service is restored."""
        self.gateway.conditions.maintenance.pop(maintenance.id, None)
        self.gateway.wake_dispatchers()  # receipts and MO held back during the outage may go out now
        if maintenance.mode == "refuse" and "*" in maintenance.accounts and self._listening is not None:
            self._spawn(self._listening(True))
        self.gateway.events.emit(now, "maintenance.ended", id=maintenance.id, accounts=list(maintenance.accounts))

    # -- throttle, capacity, emergency cut (clauses 2.2, 3.14) ----------------------------------------------

    def begin_capacity(self, capacity: Capacity, now: float) -> None:
        """Impose the step's rate (or a factor of the contracted rate) and window on each account."""
        for account in self._accounts(capacity):
            contracted, _ = self.gateway.contracted(account)
            rate = capacity.rate
            if rate is None and capacity.factor is not None and contracted is not None:
                rate = contracted * capacity.factor
            self.gateway.override_capacity(account, capacity.id, rate, capacity.window, now)
            current_rate, current_window = self.gateway.limits(account)
            self.gateway.events.emit(now, "capacity.changed", id=capacity.id, kind=capacity.kind, account=account,
                                     accounts=[account], rate=current_rate, window=current_window,
                                     factor=capacity.factor, contracted=contracted)

    def end_capacity(self, capacity: Capacity, now: float) -> None:
        """Lift the step: what other steps impose, or the contract, applies again."""
        for account in self._accounts(capacity):
            self.gateway.lift_capacity(account, capacity.id, now)
            rate, window = self.gateway.limits(account)
            contracted, _ = self.gateway.contracted(account)
            self.gateway.events.emit(now, "capacity.changed", id=capacity.id, kind=capacity.kind, account=account,
                                     accounts=[account], rate=rate, window=window, factor=1.0,
                                     contracted=contracted, restored=True)

    # -- faults (clause 2.10) ----------------------------------------------------------------------------

    def begin_fault(self, fault: Fault, now: float) -> None:
        """Switch the fault on; a disconnect happens once, now."""
        links = self._links(fault)
        if fault.sessions is not None:
            links = links[: fault.sessions]
        self.gateway.events.emit(now, "fault.started", id=fault.id, fault=fault.fault, accounts=list(fault.accounts),
                                 sessions=len(links) if fault.fault in ("disconnect", "half_open") else None)
        if fault.fault == "disconnect":
            for link in links:
                link.abort()
            return
        if fault.fault == "half_open":
            for link in links:
                link.hold(True)
            self._held[fault.id] = links
        if self.scenario is not None:
            occurrence = self._occurrences[fault.id] = self._occurrences.get(fault.id, 0) + 1
            self.gateway.conditions.rngs[fault.id] = self.scenario.rng(fault.id, occurrence)
        self.gateway.conditions.faults[fault.id] = fault

    def end_fault(self, fault: Fault, now: float) -> None:
        """The fault clears; connections it froze half-open are dropped (their partners must reconnect)."""
        self.gateway.conditions.faults.pop(fault.id, None)
        self.gateway.conditions.rngs.pop(fault.id, None)
        for link in self._held.pop(fault.id, []):
            link.abort()
        self.gateway.wake_dispatchers()  # what a black hole held back may go out now
        self.gateway.events.emit(now, "fault.ended", id=fault.id, fault=fault.fault, accounts=list(fault.accounts))

    # -- abnormal bulk (clause 2.8) --------------------------------------------------------------------

    def begin_bulk_guard(self, guard: BulkGuard, now: float) -> None:
        """Tighten the bulk rule for the step's period."""
        policy = self.gateway.policy
        settings = policy.settings
        self._bulk_before[guard.id] = (settings.bulk_recipients, settings.bulk_window, settings.modes.get("bulk"))
        policy.settings = dataclasses.replace(
            settings, bulk_recipients=guard.recipients, bulk_window=guard.within,
            modes=MappingProxyType({**settings.modes, "bulk": Mode(guard.mode)}))
        self.gateway.events.emit(now, "bulk_guard.started", id=guard.id, recipients=guard.recipients,
                                 within=guard.within, mode=guard.mode)

    def end_bulk_guard(self, guard: BulkGuard, now: float) -> None:
        """Restore the bulk rule as it was."""
        before = self._bulk_before.pop(guard.id, None)
        if before is None:
            return
        recipients, within, mode = before
        policy = self.gateway.policy
        modes = {rule: m for rule, m in policy.settings.modes.items() if rule != "bulk"}
        if mode is not None:
            modes["bulk"] = mode
        policy.settings = dataclasses.replace(policy.settings, bulk_recipients=recipients, bulk_window=within,
                                              modes=MappingProxyType(modes))
        self.gateway.events.emit(now, "bulk_guard.ended", id=guard.id)

    # -- notices (clauses 2.9, 2.10) ---------------------------------------------------------------------

    def publish_notice(self, step: Step, now: float) -> None:
        """Hand the step's notice to the board (feed, webhooks, in-band); the board never sends one twice."""
        event = step.event
        kind = {Maintenance: "maintenance", Fault: "fault"}.get(type(event), "notice")
        title = event.title if isinstance(event, Notice) else step.detail
        reason = event.reason if isinstance(event, Maintenance) else (
            event.fault if isinstance(event, Fault) else "")
        record = NoticeRecord(id=step.key, kind=kind, title=title, reason=reason, start=step.begins, end=step.ends,
                              accounts=tuple(event.accounts), text=event.text if isinstance(event, Notice) else "")
        if self.notices is not None:
            self._spawn(self._publish(record))

    async def _publish(self, record: NoticeRecord) -> None:
        assert self.notices is not None
        await self.notices.publish(record)

    async def close(self) -> None:
        """Wait for (or cancel) what the effects started."""
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
