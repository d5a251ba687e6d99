"""The simulator's one clock: real, scaled (``--speed``) or virtual (tests move it by hand).

Nothing else in the simulator reads the time or sleeps on its own: protocol sessions take ``now`` as an
argument, and every wait goes through :meth:`Clock.sleep_until`, so a test can run a 30-minute
maintenance window in milliseconds and a scenario can replay a day in an hour. Times are epoch seconds
on the simulated timeline (what lands in the store and in Msg_Ids).
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from abc import ABC, abstractmethod

__all__ = ["Clock", "RealClock", "ScaledClock", "VirtualClock"]


class Clock(ABC):
    """Simulated wall-clock time, and waiting for it."""

    @abstractmethod
    def now(self) -> float:
        """Seconds since the epoch on the simulated timeline."""

    @abstractmethod
    async def sleep_until(self, when: float) -> None:
        """Return once :meth:`now` has reached ``when`` (at once if it already has)."""

    async def sleep(self, seconds: float) -> None:
        """Wait ``seconds`` of simulated time."""
        await self.sleep_until(self.now() + seconds)


class ScaledClock(Clock):
    """Simulated time running ``speed`` times as fast as real time, from ``start`` (default: now)."""

    def __init__(self, speed: float = 1.0, start: float | None = None) -> None:
        if speed <= 0:
            raise ValueError("speed must be positive")
        self.speed = speed
        self._origin_real = time.monotonic()
        self._origin_sim = time.time() if start is None else start

    def now(self) -> float:
        return self._origin_sim + (time.monotonic() - self._origin_real) * self.speed

    async def sleep_until(self, when: float) -> None:
        # Sleep in real time, then re-check: the event loop may wake us a little early.
        while (remaining := when - self.now()) > 0:
            await asyncio.sleep(remaining / self.speed)


class RealClock(ScaledClock):
    """Wall-clock time."""

    def __init__(self) -> None:
        super().__init__(speed=1.0)


class VirtualClock(Clock):
    """Time that moves only when :meth:`advance` is called; sleepers wake in deadline order."""

    def __init__(self, start: float = 1_780_000_000.0) -> None:
        self._now = start
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._tiebreak = itertools.count()

    def now(self) -> float:
        return self._now

    async def sleep_until(self, when: float) -> None:
        if when <= self._now:
            await asyncio.sleep(0)
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (when, next(self._tiebreak), future))
        await future

    async def advance(self, seconds: float) -> None:
        """Move time forward by ``seconds``, waking each sleeper at its deadline and letting it run."""
        target = self._now + seconds
        while self._sleepers and self._sleepers[0][0] <= target:
            when, _, future = heapq.heappop(self._sleepers)
            self._now = max(self._now, when)
            if not future.done():
                future.set_result(None)
            await _let_others_run()
        self._now = target
        await _let_others_run()


async def _let_others_run() -> None:
    # A few loop turns so that woken tasks, and what they schedule in turn, get to run.
    for _ in range(5):
        await asyncio.sleep(0)
