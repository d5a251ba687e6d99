"""What the live scenario tests share: a simulator replaying a scenario on a virtual clock, and partners.

The simulator runs on the test's event loop with a :class:`~simulator.clock.VirtualClock`; the clients talk to
it over real loopback TCP. Blocking third-party clients (python-smpplib, pycmpp's request builders and
decoders) only ever block in a worker thread (``asyncio.to_thread``) so that the loop keeps serving them, and
every blocking read has a real-time deadline. Our own asyncio client (``tests/simulator/netclient.py``) runs
on the loop itself.

Time: a partner's observations are stamped with the *virtual* time at which it read them. The clock only
moves when a test calls :meth:`Live.to`; with ``partners`` it moves in steps (stopping at every scenario step)
and lets each partner read and answer between them (keep-alives, receipts, in-band notices), as a partner
connected through the whole period would. Whatever the simulator does after real I/O (the store commits, a
notice is queued) may land a step later; a test that asserts *when* something arrived therefore stops the clock
at that instant and waits for it in real time (``wait_until``).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import select
import socket
import struct
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import smpplib.client
import smpplib.consts
import smpplib.exceptions
import smpplib.smpp
from pycmpp.cmpp_defines import (
    CMPP_ACTIVE_TEST_REQ,
    CMPP_ACTIVE_TEST_RESP,
    CMPP_CONNECT_RESP,
    CMPP_DELIVER_REQ,
    CMPP_DELIVER_RESP,
    CMPP_SUBMIT_RESP,
    CMPP_TERMINATE_REQ,
    CMPP_TERMINATE_RESP,
)
from pycmpp.request import ConnectRequestInstance, SubmitRequestInstance
from pycmpp.response import ConnectResponseInstance, SubmitResponseInstance

from protocols import cmpp, smpp
from protocols.cmpp.session import CmppSession
from simulator.clock import VirtualClock
from simulator.config import Config, load_config, parse_account_option, with_overrides
from simulator.scenario import Scenario, load_scenario
from simulator.server import Simulator

REPO = Path(__file__).resolve().parents[2]
READY = REPO / "scenarios"
sys.path.insert(0, str(REPO / "tests" / "simulator"))  # our asyncio client lives beside the simulator tests
from netclient import NetClient, cmpp_connect  # noqa: E402

__all__ = [
    "READY",
    "SYSTEM_NUMBER",
    "Inband",
    "Live",
    "Net",
    "NetClient",
    "PycmppPartner",
    "SmpplibPartner",
    "cmpp_connect",
    "live",
    "make_config",
    "reassemble",
]

SECRET = "888888"
SYSTEM_NUMBER = "10086"  # [notices] system_number of the embedded default: in-band notices come from it
#: 2026-06-01 00:00:00 +08:00: offsets in the tests read as wall-clock times in the gateway's zone.
START = 1_780_243_200.0
_READ_SLICE = 0.2  # real seconds a blocking client waits on its socket before looking at its deadline again


def make_config(data_dir: Path, accounts: Sequence[str], *, inband: bool = True) -> Config:
    """The embedded default with these ``ID:SECRET:SERVICE_CODE[:RATE]`` accounts, free loopback ports, and
    notices in-band (an MO from 10086 to each account's service code) when ``inband``."""
    config = with_overrides(load_config(), cmpp_port=0, smpp_port=0, api_port=0, data_dir=data_dir,
                            accounts=[parse_account_option(option) for option in accounts])
    return dataclasses.replace(config, notices=dataclasses.replace(config.notices, inband=inband))


def _no_delay(sock: socket.socket) -> None:
    """No Nagle: a blocking client's answers (one small write each) leave at once. With Nagle, the second
    answer of a burst waits for the peer's delayed ACK (about 40 real ms), during which a test may move the
    virtual clock past the simulator's response timeout."""
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


# ---------------------------------------------------------------------------------------------------------
# In-band notices, whichever client read them
# ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Inband:
    """One complete in-band notice: when its last segment was read (virtual time) and its text."""

    at: float
    text: str


def reassemble(segments: Iterable[tuple[float, bytes, bool, int]]) -> list[Inband]:
    """Complete messages from ``(read at, content, udhi, data coding)`` segments, in the order they completed;
    a concatenation UDH (8-bit reference) joins segments, UCS2 (8) is decoded as such, anything else as ASCII."""
    pending: dict[int, dict[int, bytes]] = {}
    complete: list[Inband] = []
    for at, content, udhi, coding in segments:
        decode = (lambda b: b.decode("utf-16-be")) if coding == 8 else (lambda b: b.decode("ascii"))
        if not udhi:
            complete.append(Inband(at, decode(content)))
            continue
        header = content[1:1 + content[0]]
        assert header[:2] == b"\x00\x03", header  # the concatenation IE with an 8-bit reference
        reference, total, number = header[2], header[3], header[4]
        parts = pending.setdefault(reference, {})
        parts[number] = content[1 + content[0]:]
        if len(parts) == total:
            del pending[reference]
            complete.append(Inband(at, "".join(decode(parts[n]) for n in range(1, total + 1))))
    return complete


class Partner(Protocol):
    async def drain(self) -> None:
        """Read (and answer) whatever the simulator has sent, without waiting for more."""


@dataclass
class Live:
    """A started simulator replaying ``scenario`` from ``start`` on ``clock``."""

    simulator: Simulator
    clock: VirtualClock
    scenario: Scenario
    start: float
    config: Config

    @property
    def smpp(self) -> tuple[str, int]:
        assert self.simulator.endpoints is not None
        return self.simulator.endpoints.smpp

    @property
    def cmpp(self) -> tuple[str, int]:
        assert self.simulator.endpoints is not None
        return self.simulator.endpoints.cmpp

    @property
    def offset(self) -> float:
        """Seconds of scenario time elapsed."""
        return self.clock.now() - self.start

    async def to(self, offset: float, *, partners: Iterable[Partner] = (), step: float = 10.0) -> None:
        """Move the clock to ``start + offset``. With ``partners``, in steps of at most ``step`` seconds that also
        stop at every scenario step on the way, each partner reading and answering what arrived after every step
        (so that it stays connected, and what it reads is stamped with the time it was sent)."""
        target = self.start + offset
        assert target >= self.clock.now(), f"the clock cannot go back to +{offset:g}"
        partners = list(partners)
        while (remaining := target - self.clock.now()) > 0:
            if partners:  # stop at the scenario's own steps too: partners read their effects when they happen
                upcoming = self._next_step()
                remaining = min(remaining, step, upcoming - self.clock.now() if upcoming else remaining)
            await self.clock.advance(remaining)
            await self.settle(0.005)
            for partner in partners:
                await partner.drain()
            if partners:
                await self.settle(0.005)
        await self.settle()

    def _next_step(self) -> float | None:
        """When the scenario's next pending step is due (``None``: nothing left, or not after now)."""
        assert self.simulator.runner is not None
        following = self.simulator.runner.status()["next"]
        due = None if following is None else float(following["at"])
        return due if due is not None and due > self.clock.now() else None

    async def settle(self, seconds: float = 0.03) -> None:
        """Give the real I/O (sockets, the store's writer) a moment."""
        await asyncio.sleep(seconds)

    async def events(self, kind: str | None = None) -> list[dict[str, Any]]:
        assert self.simulator.store is not None
        return await self.simulator.store.events(kind=kind, limit=200_000)

    def at(self, event: dict[str, Any]) -> float:
        """An audit event's time as an offset from the start."""
        return round(float(event["at"]) - self.start, 6)


@contextlib.asynccontextmanager
async def live(tmp_path: Path, scenario: Scenario | Path | str, accounts: Sequence[str], *, inband: bool = True,
               seed: int = 0, name: str = "data") -> AsyncIterator[Live]:
    """A simulator with ``accounts`` replaying ``scenario`` (a ready scenario's name, a path or a loaded one)
    from :data:`START` on a virtual clock; stopped on the way out."""
    if isinstance(scenario, str):
        scenario = READY / f"{scenario}.toml"
    if isinstance(scenario, Path):
        scenario = load_scenario(scenario)
    config = make_config(tmp_path / name, accounts, inband=inband)
    clock = VirtualClock(start=START)
    simulator = Simulator(config, clock, seed=seed, with_api=False, goodbye_seconds=0.3, scenario=scenario)
    await simulator.start()
    assert simulator.runner is not None
    running = Live(simulator, clock, scenario, simulator.runner.start, config)
    try:
        await clock.advance(0)  # the runner reaches its first sleep
        await running.settle()
        yield running
    finally:
        await simulator.stop()


# ---------------------------------------------------------------------------------------------------------
# Our asyncio client
# ---------------------------------------------------------------------------------------------------------


@dataclass
class Net:
    """A :class:`NetClient` as a partner: what it received, stamped with the virtual time it was read at."""

    client: NetClient
    clock: VirtualClock
    received: list[tuple[float, Any]] = field(default_factory=list)
    _taken: set[int] = field(default_factory=set)

    @classmethod
    async def smpp(cls, running: Live, system_id: str, password: str = SECRET) -> Net:
        """A NetClient bound as a transceiver (asserting the bind succeeded)."""
        net = cls(await NetClient.smpp(running.smpp), running.clock)
        net.send(smpp.BindTransceiver(system_id=system_id, password=password, interface_version=0x34))
        [answer] = await net.expect(smpp.BindTransceiverResp)
        assert answer.command_status == 0, answer
        return net

    @classmethod
    async def cmpp(cls, running: Live, sp_id: str, secret: str = SECRET) -> Net:
        """A NetClient connected with CMPP 3.0 (asserting Status 0)."""
        net = cls(await NetClient.cmpp(running.cmpp), running.clock)
        net.send(cmpp_connect(sp_id, secret))
        [answer] = await net.expect(cmpp.ConnectResp)
        assert answer.status == 0, answer
        return net

    async def drain(self) -> None:
        while await self._read(0.003):
            pass

    async def _read(self, timeout: float) -> bool:
        """One read of what has arrived (waiting up to ``timeout`` real seconds for it): whether any did."""
        if self.client.closed_by_peer:
            return False
        try:
            data = await asyncio.wait_for(self.client.reader.read(65536), timeout)
        except TimeoutError:
            return False
        if not data:
            self.client.closed_by_peer = True
            return False
        self.client._feed(data)  # what NetClient.pump does with each read: answers deliveries and unbinds
        self._stamp()
        return True

    async def expect(self, kind: type, timeout: float = 3.0, count: int = 1) -> list[Any]:
        """Wait (real time, the clock standing still) for ``count`` PDUs of ``kind`` not yet taken; take them."""
        deadline = time.monotonic() + timeout
        while len(self._untaken(kind)) < count:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or self.client.closed_by_peer:
                raise AssertionError(f"expected {count} {kind.__name__}, got {self.received[-10:]}")
            await self._read(min(0.05, remaining))
        found = self._untaken(kind)[:count]
        self._taken.update(id(pdu) for pdu in found)
        return found

    async def wait_until(self, done: Callable[[], bool], timeout: float = 3.0) -> bool:
        """Read (real time, the clock standing still) until ``done()`` or the connection closes."""
        deadline = time.monotonic() + timeout
        while not done() and not self.client.closed_by_peer and time.monotonic() < deadline:
            await self._read(min(0.05, max(0.0, deadline - time.monotonic())))
        return done()

    def take(self, kind: type) -> list[tuple[float, Any]]:
        """What arrived of ``kind`` and was not taken yet, with when it was read; taken now."""
        found = [(at, pdu) for at, pdu in self.received if isinstance(pdu, kind) and id(pdu) not in self._taken]
        self._taken.update(id(pdu) for _, pdu in found)
        return found

    def _untaken(self, kind: type) -> list[Any]:
        return [pdu for _, pdu in self.received if isinstance(pdu, kind) and id(pdu) not in self._taken]

    def send(self, pdu: Any) -> Any:
        return self.client.send(pdu)

    def _stamp(self) -> None:
        now = self.clock.now()
        self.received += [(now, event) for event in self.client.events]
        self.client.events.clear()

    def of(self, kind: type) -> list[tuple[float, Any]]:
        return [(at, pdu) for at, pdu in self.received if isinstance(pdu, kind)]

    def notices(self) -> list[Inband]:
        """The in-band notices read (SMPP deliver_sm or CMPP DELIVER from the system number, not receipts)."""
        segments = []
        for at, pdu in self.received:
            if isinstance(pdu, smpp.DeliverSm) and pdu.source_addr == SYSTEM_NUMBER and not pdu.esm_class & 0x04:
                segments.append((at, pdu.short_message, bool(pdu.esm_class & 0x40), pdu.data_coding))
            elif isinstance(pdu, cmpp.Deliver) and pdu.src_terminal_id == SYSTEM_NUMBER and not pdu.registered_delivery:
                segments.append((at, pdu.msg_content, bool(pdu.tp_udhi), pdu.msg_fmt))
        return reassemble(segments)

    def receipts(self) -> list[tuple[str, str]]:
        """(stat, err) of every receipt read: SMPP receipts (err as written) or CMPP status reports (err "")."""
        found = []
        for _, pdu in self.received:
            if isinstance(pdu, smpp.DeliverSm) and pdu.esm_class & 0x04:
                receipt = smpp.parse_receipt(pdu.short_message)
                found.append((receipt.stat, receipt.err))
            elif isinstance(pdu, cmpp.Deliver) and pdu.registered_delivery:
                found.append((pdu.report.stat, ""))
        return found

    @property
    def closed(self) -> bool:
        return self.client.closed_by_peer

    @property
    def is_cmpp(self) -> bool:
        return isinstance(self.client.session, CmppSession)

    async def submits(self, count: int, *, account: str, code: str, window: int = 8, text: bytes = b"load",
                      recipients: Sequence[str] = ("13800138000",), receipt: bool = False) -> list[int]:
        """``count`` submits at the current instant (submit_sm or SUBMIT by the session's protocol), at most
        ``window`` unanswered at a time; their command_status / Result values, in order."""
        statuses: list[int] = []
        while len(statuses) < count:
            size = min(window, count - len(statuses))
            for _ in range(size):
                if self.is_cmpp:
                    self.send(cmpp.Submit(msg_src=account, src_id=code, dest_terminal_id=tuple(recipients),
                                          msg_content=text, registered_delivery=int(receipt)))
                else:
                    [recipient] = recipients
                    self.send(smpp.SubmitSm(source_addr=code, destination_addr=recipient, short_message=text,
                                            registered_delivery=int(receipt)))
            answers = await self.expect(cmpp.SubmitResp if self.is_cmpp else smpp.SubmitSmResp, count=size)
            statuses += [answer.result if self.is_cmpp else answer.command_status for answer in answers]
        return statuses

    async def close(self) -> None:
        await self.client.close()


# ---------------------------------------------------------------------------------------------------------
# python-smpplib
# ---------------------------------------------------------------------------------------------------------


class _RecordingSmpplib(smpplib.client.Client):
    """smpplib's client, unchanged, but every PDU it reads is kept with the virtual time it was read at, and an
    unbind from the SMSC is answered (smpplib only logs it)."""

    def __init__(self, host: str, port: int, clock: VirtualClock) -> None:
        super().__init__(host, port, timeout=_READ_SLICE, allow_unknown_opt_params=False)
        self.clock = clock
        self.received: list[tuple[float, Any]] = []
        # Everything is recorded by read_pdu: error responses are not raised, the rest needs no handler.
        self.set_error_pdu_handler(lambda pdu: None)
        self.set_message_sent_handler(lambda pdu: None)
        self.set_message_received_handler(lambda pdu: None)  # None: smpplib answers deliver_sm with ESME_ROK

    def read_pdu(self) -> Any:
        pdu = super().read_pdu()
        self.received.append((self.clock.now(), pdu))
        if pdu.command == "unbind":
            answer = smpplib.smpp.make_pdu("unbind_resp", client=self)
            answer.sequence = pdu.sequence
            self.send_pdu(answer)
            self.state = smpplib.consts.SMPP_CLIENT_STATE_OPEN
        return pdu


class SmpplibPartner:
    """A python-smpplib ESME. Blocking calls run in a worker thread; each is bounded by a real-time deadline."""

    def __init__(self, address: tuple[str, int], clock: VirtualClock) -> None:
        self.client = _RecordingSmpplib(*address, clock)
        self.closed = False

    @property
    def received(self) -> list[tuple[float, Any]]:
        return self.client.received

    def of(self, command: str) -> list[tuple[float, Any]]:
        return [(at, pdu) for at, pdu in self.client.received if pdu.command == command]

    async def connect(self) -> None:
        await asyncio.to_thread(self.client.connect)
        _no_delay(self.client._socket)  # smpplib creates its socket in connect() and offers no option for this

    async def bind(self, system_id: str, password: str = SECRET) -> int:
        """bind_transceiver; the command_status of the answer (0: bound)."""

        def bind() -> int:
            sock = self.client._socket
            sock.settimeout(3.0)  # smpplib reads the bind_resp in one blocking read: give it time
            try:
                self.client.bind_transceiver(system_id=system_id, password=password)
            except smpplib.exceptions.PDUError as refused:
                return int(refused.args[1])
            finally:
                sock.settimeout(_READ_SLICE)
            return 0

        return await asyncio.to_thread(bind)

    def submit(self, source: str, destination: str, text: bytes, **fields: Any) -> int:
        """Send one submit_sm (a non-blocking write); its sequence number."""
        return int(self.client.send_message(source_addr=source, destination_addr=destination, short_message=text,
                                            **fields).sequence)

    async def responses(self, sequences: Sequence[int], timeout: float = 3.0) -> dict[int, Any]:
        """The submit_sm_resp of each of ``sequences``, by sequence number."""
        wanted = set(sequences)

        def answered() -> dict[int, Any]:
            return {pdu.sequence: pdu for _, pdu in self.of("submit_sm_resp") if pdu.sequence in wanted}

        await self.wait_until(lambda: len(answered()) == len(wanted), timeout)
        found = answered()
        assert len(found) == len(wanted), f"smpplib got {len(found)} of {len(wanted)} submit_sm_resp"
        return found

    async def wait_until(self, done: Callable[[], bool], timeout: float = 3.0) -> bool:
        """Let smpplib read and act (deliver_sm_resp, enquire_link_resp) until ``done()``, the connection
        closes, or ``timeout`` real seconds pass; returns ``done()``."""
        return await asyncio.to_thread(self._read_until, done, timeout)

    def _read_until(self, done: Callable[[], bool], timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while not done() and not self.closed and time.monotonic() < deadline:
            self._read_once()
        return done()

    def _read_once(self) -> None:
        try:
            self.client.read_once(auto_send_enquire_link=False)
        except TimeoutError:
            pass
        except smpplib.exceptions.ConnectionError:
            self.closed = True

    def notices(self) -> list[Inband]:
        """The in-band notices read (deliver_sm from the system number)."""
        return reassemble((at, pdu.short_message, bool(pdu.esm_class & 0x40), pdu.data_coding)
                          for at, pdu in self.of("deliver_sm") if pdu.source_addr == SYSTEM_NUMBER.encode())

    async def drain(self) -> None:
        if not self.closed:
            await asyncio.to_thread(self._drain)

    def _drain(self) -> None:
        sock = self.client._socket  # smpplib has no public "is anything there?": poll() would block on EOF
        while sock is not None and not self.closed and select.select([sock], [], [], 0.003)[0]:
            self._read_once()

    async def close(self) -> None:
        """unbind when still bound (bounded), then disconnect."""

        def close() -> None:
            try:
                if not self.closed and self.client.state in (smpplib.consts.SMPP_CLIENT_STATE_BOUND_TX,
                                                             smpplib.consts.SMPP_CLIENT_STATE_BOUND_RX,
                                                             smpplib.consts.SMPP_CLIENT_STATE_BOUND_TRX):
                    self.client.send_pdu(smpplib.smpp.make_pdu("unbind", client=self.client))
                    self._read_until(lambda: bool(self.of("unbind_resp")), 1.0)
            except (smpplib.exceptions.PDUError, smpplib.exceptions.ConnectionError, OSError):
                pass
            finally:
                self.client.state = smpplib.consts.SMPP_CLIENT_STATE_OPEN  # no "disconnecting while bound" log
                self.client.disconnect()

        await asyncio.to_thread(close)


# ---------------------------------------------------------------------------------------------------------
# pycmpp (CMPP 2.x): its request builders and response decoders on a socket of our own
# ---------------------------------------------------------------------------------------------------------


class PycmppPartner:
    """A CMPP 2.x SP (pycmpp asks for version 0x21, whose PDUs have the 2.0 layout) built from pycmpp's
    ``ConnectRequestInstance``/``SubmitRequestInstance`` and its ``ConnectResponseInstance``/
    ``SubmitResponseInstance`` decoders. pycmpp's own receive loop cannot be stopped and spins on a closed
    socket, so frames are read here, in bounded reads from a worker thread; DELIVER, ACTIVE_TEST and TERMINATE
    are answered as an SP must."""

    def __init__(self, address: tuple[str, int], clock: VirtualClock) -> None:
        self.address = address
        self.clock = clock
        self.socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.socket.settimeout(_READ_SLICE)
        self.received: list[tuple[float, int, Any]] = []  # (virtual time, command id, decoded)
        self.closed = False
        self._buffer = b""

    async def connect(self, sp_id: str, secret: str = SECRET) -> int:
        """TCP connect and CMPP_CONNECT; the CONNECT_RESP Status."""
        await asyncio.to_thread(self.socket.connect, self.address)
        _no_delay(self.socket)
        self.socket.sendall(ConnectRequestInstance().create(sp_id, secret))
        await self.wait_until(lambda: bool(self.of(CMPP_CONNECT_RESP)), 3.0)
        [(_, response)] = self.of(CMPP_CONNECT_RESP)
        return int(response.status)

    def submit(self, sp_id: str, source: str, destination: str, text: str) -> int:
        """One CMPP 2.0 SUBMIT (UCS2, no receipt); its Sequence_Id."""
        request = SubmitRequestInstance()
        self.socket.sendall(request.create(msg_src=sp_id, msg_content=text, dest_terminal_id=[destination],
                                           src_id=source))
        return int(request.seq_id)

    async def responses(self, sequences: Sequence[int], timeout: float = 3.0) -> dict[int, Any]:
        wanted = set(sequences)

        def answered() -> dict[int, Any]:
            return {r.seq_id: r for _, r in self.of(CMPP_SUBMIT_RESP) if r.seq_id in wanted}

        await self.wait_until(lambda: len(answered()) == len(wanted), timeout)
        found = answered()
        assert len(found) == len(wanted), f"pycmpp got {len(found)} of {len(wanted)} SUBMIT_RESP"
        return found

    def of(self, command_id: int) -> list[tuple[float, Any]]:
        return [(at, decoded) for at, command, decoded in self.received if command == command_id]

    async def wait_until(self, done: Callable[[], bool], timeout: float = 3.0) -> bool:
        """Read and answer until ``done()``, the connection closes, or ``timeout`` real seconds pass."""
        return await asyncio.to_thread(self._read_until, done, timeout)

    def _read_until(self, done: Callable[[], bool], timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while not done() and not self.closed and time.monotonic() < deadline:
            self._read_once()
        return done()

    def _read_once(self) -> None:
        try:
            data = self.socket.recv(65536)
        except TimeoutError:
            return
        except OSError:
            data = b""
        if not data:
            self.closed = True
            return
        self._buffer += data
        while len(self._buffer) >= 12:
            length = struct.unpack_from(">I", self._buffer)[0]
            if len(self._buffer) < length:
                return
            frame, self._buffer = self._buffer[:length], self._buffer[length:]
            self._handle(frame)

    def _handle(self, frame: bytes) -> None:
        _, command_id, sequence = struct.unpack_from(">III", frame)
        decoded: Any = frame
        if command_id == CMPP_CONNECT_RESP:
            decoded = ConnectResponseInstance()
            decoded.resolve(frame)
        elif command_id == CMPP_SUBMIT_RESP:
            decoded = SubmitResponseInstance()
            decoded.resolve(frame)
        elif command_id == CMPP_DELIVER_REQ:  # CMPP 2.0 DELIVER_RESP: the DELIVER's Msg_Id, Result 0
            body = struct.pack(">QB", struct.unpack_from(">Q", frame, 12)[0], 0)
            self.socket.sendall(struct.pack(">III", 12 + len(body), CMPP_DELIVER_RESP, sequence) + body)
        elif command_id == CMPP_ACTIVE_TEST_REQ:
            self.socket.sendall(struct.pack(">IIIB", 13, CMPP_ACTIVE_TEST_RESP, sequence, 0))
        elif command_id == CMPP_TERMINATE_REQ:
            self.socket.sendall(struct.pack(">III", 12, CMPP_TERMINATE_RESP, sequence))
        self.received.append((self.clock.now(), command_id, decoded))

    async def drain(self) -> None:
        if not self.closed:
            await asyncio.to_thread(self._drain)

    def _drain(self) -> None:
        while not self.closed and select.select([self.socket], [], [], 0.003)[0]:
            self._read_once()

    def notices(self) -> list[Inband]:
        """The in-band notices read: CMPP 2.x DELIVERs (not status reports) from the system number."""
        segments = []
        for at, frame in self.of(CMPP_DELIVER_REQ):
            body = frame[12:]
            source, registered = body[42:63].rstrip(b"\0").decode("ascii"), body[63]
            if source == SYSTEM_NUMBER and not registered:
                segments.append((at, body[65:65 + body[64]], bool(body[40]), body[41]))
        return reassemble(segments)

    async def close(self) -> None:
        """CMPP_TERMINATE when still connected, a bounded wait for the answer or EOF, then close."""

        def close() -> None:
            try:
                if not self.closed and self.of(CMPP_CONNECT_RESP):
                    self.socket.sendall(struct.pack(">III", 12, CMPP_TERMINATE_REQ, 0x7FFFFFF0))
                    self._read_until(lambda: False, 1.0)
            except OSError:
                pass
            finally:
                self.socket.close()

        await asyncio.to_thread(close)
