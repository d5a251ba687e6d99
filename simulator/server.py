"""The asyncio driver: TCP listeners around the protocol fronts, and the simulator that owns them all.

A :class:`_Connection` is an :class:`asyncio.Protocol` (no stream objects: bytes go straight from
``data_received`` into the sans-IO session, many frames per read) plus one timer task that sleeps on the
simulator's clock until the session's next deadline. Everything protocol-shaped happens in the fronts.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

from protocols.cmpp.session import CmppSession
from protocols.session import Role, Timing
from protocols.smpp.session import SmppSession
from simulator.api import start_api
from simulator.clock import Clock
from simulator.cmpp_front import CmppFront
from simulator.config import Config
from simulator.effects import ScenarioEffects
from simulator.front import Front
from simulator.gateway import Gateway
from simulator.notices import NoticeBoard
from simulator.observe import EventLog, Metrics
from simulator.scenario import Scenario, ScenarioRunner
from simulator.smpp_front import SmppFront
from simulator.store import Store

__all__ = ["Endpoints", "Simulator"]

#: How long (real seconds) a stopping simulator waits for partners to answer TERMINATE / unbind.
_GOODBYE_SECONDS = 2.0
#: Above this many bytes queued towards a partner, stop reading from it until it drains (back-pressure).
_WRITE_HIGH_WATER = 256 * 1024


class _Connection(asyncio.Protocol):
    """One TCP connection: feeds its front and wakes it at the session's deadlines."""

    def __init__(self, make_front: Callable[[str, Callable[[bytes], None], Callable[[], None],
                                             Callable[[bool], None]], Front[Any]],
                 clock: Clock, connections: set[_Connection]) -> None:
        self._make_front = make_front
        self._clock = clock
        self._connections = connections
        self._transport: asyncio.Transport | None = None
        self.front: Front[Any] | None = None
        self._timer: asyncio.Task[None] | None = None
        self._rearm = asyncio.Event()
        self._deadline: float | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # A stream transport of whatever loop runs us: uvloop's is not an asyncio.Transport subclass, only alike.
        self._transport = stream = cast(asyncio.Transport, transport)
        stream.set_write_buffer_limits(high=_WRITE_HIGH_WATER)
        peer = stream.get_extra_info("peername")
        self.front = self._make_front(peer[0] if peer else "", self._write, self._close, self._pause)
        self._connections.add(self)
        self._timer = asyncio.ensure_future(self._run_timer())

    def data_received(self, data: bytes) -> None:
        if self.front is not None:
            self.front.receive(data)
            self._maybe_rearm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._connections.discard(self)
        if self.front is not None:
            self.front.connection_lost()
        if self._timer is not None:
            self._timer.cancel()

    def pause_writing(self) -> None:
        if self._transport is not None:
            self._transport.pause_reading()

    def resume_writing(self) -> None:
        if self._transport is not None and not self._transport.is_closing():
            self._transport.resume_reading()

    def close(self) -> None:
        """Close the transport (after what is buffered has been written)."""
        self._close()

    def _write(self, data: bytes) -> None:
        if self._transport is not None and not self._transport.is_closing():
            self._transport.write(data)
            self._maybe_rearm()

    def _pause(self, paused: bool) -> None:
        if self._transport is None or self._transport.is_closing():
            return
        if paused:
            self._transport.pause_reading()
        else:
            self._transport.resume_reading()

    def _close(self) -> None:
        if self._transport is not None and not self._transport.is_closing():
            self._transport.close()

    def _maybe_rearm(self) -> None:
        # Only an earlier deadline needs the sleeping timer woken; a later one is found when it wakes.
        if self.front is None:
            return
        deadline = self.front.session.next_timer()
        if deadline is not None and (self._deadline is None or deadline < self._deadline):
            self._rearm.set()

    async def _run_timer(self) -> None:
        assert self.front is not None
        front = self.front
        while not front.closed:
            self._rearm.clear()
            self._deadline = front.session.next_timer()
            waiters: set[asyncio.Future[Any]] = {asyncio.ensure_future(self._rearm.wait())}
            if self._deadline is not None:
                waiters.add(asyncio.ensure_future(self._clock.sleep_until(self._deadline)))
            try:
                await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for waiter in waiters:
                    waiter.cancel()
            if self._deadline is not None and self._clock.now() >= self._deadline:
                front.timer()


@dataclass(frozen=True, slots=True)
class Endpoints:
    """Where the simulator listens, with the ports actually bound (a configured 0 becomes a real port)."""

    cmpp: tuple[str, int]
    smpp: tuple[str, int]
    api: tuple[str, int] | None


class Simulator:
    """The whole simulated gateway: store, gateway, CMPP and SMPP listeners, control API."""

    def __init__(self, config: Config, clock: Clock, *, seed: int = 0, events: EventLog | None = None,
                 with_api: bool = True, goodbye_seconds: float = _GOODBYE_SECONDS,
                 scenario: Scenario | None = None) -> None:
        self.config = config
        self.clock = clock
        self.seed = seed
        self.events = events or EventLog()
        self.metrics = Metrics()
        self.with_api = with_api
        self.goodbye_seconds = goodbye_seconds
        self.store: Store | None = None
        self.gateway: Gateway | None = None
        self.endpoints: Endpoints | None = None
        self._servers: list[asyncio.Server] = []
        self._connections: set[_Connection] = set()
        self._api_stop: Callable[[], Any] | None = None
        self._stopped = False
        self.scenario = scenario
        self.notices: NoticeBoard | None = None
        self.effects: ScenarioEffects | None = None
        self.runner: ScenarioRunner | None = None
        self._runner_task: asyncio.Task[None] | None = None

    async def start(self) -> Endpoints:
        """Open the store, start the gateway and listen; returns the bound endpoints."""
        config = self.config
        self.store = await Store.open(config.data_dir)
        self.events.attach(self.store.record_event)
        self.gateway = Gateway(config, self.store, self.clock, seed=self.seed, events=self.events,
                               metrics=self.metrics)
        await self.gateway.start()
        self.notices = NoticeBoard(self.gateway)
        self.effects = ScenarioEffects(self.gateway, notices=self.notices, listening=self._set_listening)
        cmpp_server, smpp_server = await self._listen((config.cmpp.listener.host, config.cmpp.listener.port),
                                                      (config.smpp.listener.host, config.smpp.listener.port))
        api_endpoint = None
        if self.with_api:
            api_endpoint, self._api_stop = await start_api(self, config.api.host, config.api.port)
        self.endpoints = Endpoints(cmpp=_bound(cmpp_server), smpp=_bound(smpp_server), api=api_endpoint)
        self.events.emit(self.clock.now(), "simulator.started", cmpp=self.endpoints.cmpp, smpp=self.endpoints.smpp,
                         api=self.endpoints.api)
        if self.scenario is not None:
            self.start_scenario(self.scenario)
        return self.endpoints

    def start_scenario(self, scenario: Scenario) -> ScenarioRunner:
        """Replay ``scenario`` from now on the simulator's clock (replacing one already running)."""
        assert self.effects is not None
        if self._runner_task is not None:
            self._runner_task.cancel()
        self.scenario = scenario
        self.effects.scenario = scenario
        self.runner = ScenarioRunner(scenario, self.effects, self.clock,
                                     fault_notice_delay=self.config.notices.fault_delay)
        self._runner_task = asyncio.ensure_future(self.runner.run(linger=True))
        self.events.emit(self.clock.now(), "scenario.started", name=scenario.name, events=len(scenario.events))
        return self.runner

    async def _listen(self, cmpp_at: tuple[str, int], smpp_at: tuple[str, int]) -> tuple[asyncio.Server, ...]:
        loop = asyncio.get_running_loop()
        cmpp_server = await loop.create_server(lambda: _Connection(self._cmpp_front, self.clock, self._connections),
                                               *cmpp_at)
        smpp_server = await loop.create_server(lambda: _Connection(self._smpp_front, self.clock, self._connections),
                                               *smpp_at)
        self._servers = [cmpp_server, smpp_server]
        return cmpp_server, smpp_server

    async def _set_listening(self, listening: bool) -> None:
        """Stop accepting TCP connections (a refuse-mode outage of every account) or accept them again."""
        if not listening:
            for server in self._servers:
                server.close()
            for server in self._servers:
                await server.wait_closed()
            self._servers = []
        elif not self._servers and self.endpoints is not None and not self._stopped:
            await self._listen(self.endpoints.cmpp, self.endpoints.smpp)

    async def stop(self) -> None:
        """Stop cleanly: no new connections, TERMINATE/unbind to partners, store closed (nothing lost).

        Stopping twice is harmless."""
        if self._stopped:
            return
        self._stopped = True
        if self._runner_task is not None:
            self._runner_task.cancel()
            await asyncio.gather(self._runner_task, return_exceptions=True)
        if self.effects is not None:
            await self.effects.close()
        if self.notices is not None:
            await self.notices.close()
        for server in self._servers:
            server.close()
        if self.gateway is not None:
            await self.gateway.stop()
            # Give partners a moment to answer TERMINATE / unbind; their sessions then close themselves.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._all_closed(), self.goodbye_seconds)
        for connection in list(self._connections):
            connection.close()
        if self._api_stop is not None:
            await self._api_stop()
        for server in self._servers:
            await server.wait_closed()
        self.events.emit(self.clock.now(), "simulator.stopped")
        self.events.attach(None)
        if self.store is not None:
            await self.store.close()

    async def _all_closed(self) -> None:
        while self._connections:
            await asyncio.sleep(0.01)

    def front_for(self, protocol: str, peer: str, write: Callable[[bytes], None], close: Callable[[], None],
                  pause: Callable[[bool], None]) -> Front[Any]:
        """A partner connection's front, as the ``protocol`` ("cmpp" or "smpp") listener makes it for a TCP
        connection from ``peer``: for drivers other than asyncio's sockets (bench/hotpath.py feeds it bytes)."""
        return (self._cmpp_front if protocol == "cmpp" else self._smpp_front)(peer, write, close, pause)

    def _cmpp_front(self, peer: str, write: Callable[[bytes], None], close: Callable[[], None],
                    pause: Callable[[bool], None]) -> CmppFront:
        assert self.gateway is not None
        settings = self.config.cmpp
        timing = Timing(keepalive_interval=settings.keepalive_interval, response_timeout=settings.response_timeout,
                        keepalive_attempts=settings.keepalive_attempts, window=16, peer_window=16,
                        session_init_timeout=settings.connect_timeout)
        session = CmppSession(role=Role.SERVER, now=self.clock.now(), timing=timing, profile=settings.profile,
                              max_frame=settings.max_frame)
        return CmppFront(self.gateway, session, peer=peer, write=write, close=close, pause_reading=pause)

    def _smpp_front(self, peer: str, write: Callable[[bytes], None], close: Callable[[], None],
                    pause: Callable[[bool], None]) -> SmppFront:
        assert self.gateway is not None
        settings = self.config.smpp
        timing = Timing(keepalive_interval=settings.enquire_link_interval,
                        response_timeout=settings.response_timeout, keepalive_attempts=settings.keepalive_attempts,
                        window=10, peer_window=10, session_init_timeout=settings.bind_timeout,
                        inactivity_timeout=settings.inactivity_timeout)
        session = SmppSession(role=Role.SERVER, now=self.clock.now(), timing=timing, profile=settings.profile,
                              max_frame=settings.max_frame)
        return SmppFront(self.gateway, session, peer=peer, write=write, close=close, pause_reading=pause)


def _bound(server: asyncio.Server) -> tuple[str, int]:
    host, port = server.sockets[0].getsockname()[:2]
    return str(host), int(port)

