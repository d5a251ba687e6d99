"""A real simulator on 127.0.0.1 for the interop tests, running in a thread of its own.

The third-party clients are a mix of blocking (python-smpplib, pycmpp) and asyncio (aiosmpplib, smpp34)
code. The simulator therefore gets its own event loop in its own thread: a blocking client can then be
driven straight from the test's thread, with nothing else to schedule, and an asyncio client runs on the
test's loop while the simulator answers from the other one. Time is the wall clock (:class:`RealClock`):
the clients keep real-time timers of their own, so the simulator must not run faster than they do.

Everything is bounded: every call into the simulator's loop has a timeout, and a watchdog dumps the
stacks and ends the run if one test hangs anyway (there is no pytest-timeout here).
"""

from __future__ import annotations

import asyncio
import faulthandler
import logging
import sys
import threading
import time
from collections.abc import Callable, Coroutine, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import pytest

from simulator.clock import RealClock
from simulator.config import Account, load_config, with_overrides
from simulator.observe import EventLog
from simulator.server import Endpoints, Simulator
from simulator.store import MessageRow

T = TypeVar("T")

#: The embedded default's demo account.
DEMO_ACCOUNT = "900001"

#: A test that runs longer than this is hung: dump every thread's stack and stop the run.
_WATCHDOG_SECONDS = 30.0
_CALL_TIMEOUT = 10.0


@dataclass
class RunningSimulator:
    """A started simulator, its loop thread, and helpers to read its store from any thread or loop."""

    simulator: Simulator
    endpoints: Endpoints
    loop: asyncio.AbstractEventLoop
    thread: threading.Thread
    stopped: bool = field(default=False)

    @property
    def smpp(self) -> tuple[str, int]:
        return self.endpoints.smpp

    @property
    def cmpp(self) -> tuple[str, int]:
        return self.endpoints.cmpp

    def call(self, coroutine: Coroutine[Any, Any, T], timeout: float = _CALL_TIMEOUT) -> T:
        """Run ``coroutine`` on the simulator's loop and wait for its result (from a blocking test)."""
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    async def acall(self, coroutine: Coroutine[Any, Any, T], timeout: float = _CALL_TIMEOUT) -> T:
        """The same from a coroutine on another loop, without blocking that loop."""
        future = asyncio.run_coroutine_threadsafe(coroutine, self.loop)
        return await asyncio.wait_for(asyncio.wrap_future(future), timeout)

    def messages(self, account: str = DEMO_ACCOUNT) -> list[MessageRow]:
        """The stored messages of ``account``, oldest first."""
        assert self.simulator.store is not None
        return sorted(self.call(self.simulator.store.search_messages(account=account)), key=lambda row: row.id)

    def wait_for_messages(self, until: Callable[[list[MessageRow]], bool], account: str = DEMO_ACCOUNT,
                          timeout: float = 10.0) -> list[MessageRow]:
        """Poll the store until ``until(rows)`` holds; fails the test with the last rows seen otherwise."""
        deadline = time.monotonic() + timeout
        while True:
            rows = self.messages(account)
            if until(rows):
                return rows
            if time.monotonic() > deadline:
                pytest.fail(f"store never reached the expected state within {timeout} s: {rows}")
            time.sleep(0.05)

    async def await_messages(self, until: Callable[[list[MessageRow]], bool], account: str = DEMO_ACCOUNT,
                             timeout: float = 10.0) -> list[MessageRow]:
        """:meth:`wait_for_messages` for asyncio tests."""
        assert self.simulator.store is not None
        deadline = time.monotonic() + timeout
        while True:
            rows = sorted(await self.acall(self.simulator.store.search_messages(account=account)),
                          key=lambda row: row.id)
            if until(rows):
                return rows
            if time.monotonic() > deadline:
                pytest.fail(f"store never reached the expected state within {timeout} s: {rows}")
            await asyncio.sleep(0.05)

    def refusals(self, protocol: str, count: int = 1, timeout: float = 3.0) -> list[dict[str, Any]]:
        """The ``session.refused`` audit records of one protocol in the store, once ``count`` are there.

        The simulator records a refusal just after writing the answer, from its own thread, and the audit
        record is committed with the next group: a client can hold the answer before the record exists.
        """
        deadline = time.monotonic() + timeout
        while True:
            refused = [detail for detail in self.call(self._refusals()) if detail.get("protocol") == protocol]
            if len(refused) >= count or time.monotonic() > deadline:
                return refused
            time.sleep(0.02)

    async def arefusals(self, protocol: str, count: int = 1, timeout: float = 3.0) -> list[dict[str, Any]]:
        """:meth:`refusals` for asyncio tests."""
        deadline = time.monotonic() + timeout
        while True:
            refused = [detail for detail in await self.acall(self._refusals()) if detail.get("protocol") == protocol]
            if len(refused) >= count or time.monotonic() > deadline:
                return refused
            await asyncio.sleep(0.02)

    async def _refusals(self) -> list[dict[str, Any]]:
        assert self.simulator.store is not None
        events = await self.simulator.store.events(kind="session.refused")
        return [event["detail"] for event in events]

    def stop(self) -> None:
        """Stop the simulator, cancel what its loop still runs, and end the loop and its thread."""
        if self.stopped:
            return
        self.stopped = True
        try:
            self.call(self.simulator.stop(), timeout=15.0)
        finally:
            self.call(_cancel_leftovers(), timeout=5.0)
            self.call(self.loop.shutdown_default_executor(), timeout=5.0)  # the store's to_thread workers
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(5.0)
            assert not self.thread.is_alive(), "the simulator's loop thread did not end"
            self.loop.close()


async def _cancel_leftovers() -> None:
    # Simulator.stop() leaves the gateway dispatchers' inner waiters (Event.wait, Clock.sleep_until)
    # pending; cancel them the way asyncio.run() would, so that the loop closes clean.
    current = asyncio.current_task()
    leftovers = [task for task in asyncio.all_tasks() if task is not current]
    for task in leftovers:
        task.cancel()
    await asyncio.gather(*leftovers, return_exceptions=True)


def _start(data_dir: Path, accounts: Sequence[Account]) -> RunningSimulator:
    config = with_overrides(load_config(), cmpp_port=0, smpp_port=0, api_port=0, data_dir=data_dir,
                            accounts=list(accounts))
    events = EventLog(level=logging.WARNING)  # quiet: refusals are read back from the store's audit table
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="smsclab-simulator", daemon=True)
    thread.start()

    async def start() -> tuple[Simulator, Endpoints]:
        simulator = Simulator(config, RealClock(), seed=0, events=events, with_api=False)
        return simulator, await simulator.start()

    try:
        simulator, endpoints = asyncio.run_coroutine_threadsafe(start(), loop).result(_CALL_TIMEOUT)
    except BaseException:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5.0)
        loop.close()
        raise
    assert endpoints.cmpp[0] == "127.0.0.1" and endpoints.smpp[0] == "127.0.0.1"
    return RunningSimulator(simulator, endpoints, loop, thread)


@pytest.fixture
def start_simulator(tmp_path: Path) -> Iterator[Callable[..., RunningSimulator]]:
    """``start_simulator(accounts=[...])``: a simulator with those accounts (default: the demo account)."""
    running: list[RunningSimulator] = []

    def start(accounts: Sequence[Account] = ()) -> RunningSimulator:
        simulator = _start(tmp_path / f"data-{len(running)}", accounts)
        running.append(simulator)
        return simulator

    yield start
    for simulator in running:
        simulator.stop()


@pytest.fixture
def simulator(start_simulator: Callable[..., RunningSimulator]) -> RunningSimulator:
    """The simulator with the embedded default configuration's demo account."""
    return start_simulator()


@pytest.fixture(autouse=True)
def _bounded_and_tidy() -> Iterator[None]:
    """Every test is bounded (watchdog) and leaves no thread behind: the simulator's loop, the store's
    workers and any client thread (pycmpp's receive loop) must all have ended by the end of the test."""
    before = set(threading.enumerate())
    faulthandler.dump_traceback_later(_WATCHDOG_SECONDS, exit=True, file=sys.__stderr__)
    yield
    faulthandler.cancel_dump_traceback_later()
    deadline = time.monotonic() + 2.0
    while (left := [thread for thread in threading.enumerate() if thread not in before and thread.is_alive()]) \
            and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not left, f"threads left running: {left}"
