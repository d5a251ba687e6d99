"""Submit throughput, latency and memory of the simulator under pipelined load (figures, never a test).

Usage: python bench/loadgen.py --protocol smpp|cmpp|both --sessions C --window W --seconds S [--rate R]
       [--receipts] [--warmup SECONDS] [--account-rate R] [--profile FILE] [--keep-data]

Starts ``python -m simulator.cli serve`` as a subprocess on free 127.0.0.1 ports with a fresh data directory,
waits until its ports accept connections, then drives it from this process: C sessions (asyncio Protocols),
each keeping W submits outstanding, for a warm-up and then S measured seconds. The server and this generator
are separate processes, so each has a core of its own on a 2-core machine.

The generator is kept cheap: it binds/connects through the sans-IO session (so the handshake is checked),
then sends one submit PDU encoded once, patching only its sequence number, and reads responses with a
struct header unpack. Anything other than a submit response (receipts, keep-alive probes, unbind/TERMINATE)
goes through the codec.

After the load the sessions drain their outstanding submits, unbind / TERMINATE, and the server is stopped
with SIGTERM. Its store (``DIR/smsclab.sqlite``) must then hold exactly as many messages as submits were
answered OK: a difference is printed as LOST and the exit status is 1.

Accounts: the server allows 4 connections per account, so the generator configures ceil(C / 4) accounts
(lg1, lg2, ... with secret "pw" and service codes 1069001, 1069002, ...). Each account's window is 16: a W
above 16 gets ESME_RMSGQFUL / Result 8 refusals, counted and shown, not hidden.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import shutil
import signal
import socket
import sqlite3
import struct
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar, cast

from protocols import cmpp, smpp
from protocols.cmpp.session import CmppSession
from protocols.session import Role, Timing
from protocols.smpp.session import SmppSession

REPO = Path(__file__).resolve().parents[1]
HOST = "127.0.0.1"
SECRET = "pw"
CONNECTIONS_PER_ACCOUNT = 4  # the server's default max_connections
#: Accounts numbered lg1..lg9999 with service codes 10690001..10699999: up to 39,996 sessions.
MAX_ACCOUNTS = 9999
MAX_SESSIONS = MAX_ACCOUNTS * CONNECTIONS_PER_ACCOUNT
ACCOUNT_WINDOW = 16  # the server's default window per session
DESTINATION = "13800138000"
CONTENT = b"smsclab load test"
SEQUENCE_LAST = 0x7FFFFFFF  # the lower of the SMPP and CMPP limits, so one counter fits both
MAX_FRAME = 64 * 1024
STARTUP_SECONDS = 15.0
HANDSHAKE_SECONDS = 10.0
DRAIN_SECONDS = 10.0
GOODBYE_SECONDS = 3.0
STOP_SECONDS = 20.0

#: Audit events every healthy run records; the others are printed when a run went wrong.
ROUTINE_EVENTS = ("session.bound", "session.connected", "session.closed", "simulator.started", "simulator.stopped",
                  "policy.violation")

_LENGTH_AND_ID = struct.Struct(">II")
_SMPP_HEADER = struct.Struct(">IIII")  # command_length, command_id, command_status, sequence_number
_CMPP_SUBMIT_RESP_V30 = struct.Struct(">III8xI")  # Total_Length, Command_Id, Sequence_Id, (Msg_Id), Result
_CMPP_HEADER = struct.Struct(">III")


# -- shared state of one protocol run -----------------------------------------------------------------


class Run:
    """What the sessions of one protocol run share: the phase clock and the tally."""

    def __init__(self, window: int, per_session_rate: float | None) -> None:
        self.window = window
        #: Submits per second per session, or None: as fast as the window allows.
        self.rate = per_session_rate
        self.sending = False
        #: The measurement window, perf_counter_ns; responses arriving inside it are the throughput figure.
        self.window_start = 0
        self.window_end = 0
        self.sent = 0
        self.ok_total = 0  # every OK response, whatever the phase: what the store must hold
        self.ok_window = 0
        self.latencies: list[int] = []  # ns, OK responses received inside the window
        self.per_second: list[int] = []  # OK responses in each second of the window
        self.refusals: Counter[str] = Counter()
        self.receipts = 0
        self.mo = 0
        self.unmatched = 0
        self.other: Counter[str] = Counter()
        self.problems: list[str] = []


def _fail(future: asyncio.Future[None], error: Exception) -> None:
    """Fail a session's future without asyncio logging it as never retrieved: a run waits on all its sessions
    at once and stops at the first failure, and thousands of sessions lost together (a server that refuses
    them) would each log a traceback. The failure is in the run's problems already; an await still raises it."""
    future.set_exception(error)
    future.exception()


class LoadSession(asyncio.Protocol):
    """One partner connection: a checked handshake, then pipelined pre-encoded submits."""

    header_size: ClassVar[int]
    sequence_offset: ClassVar[int]
    submit_resp_id: ClassVar[int]
    protocol: ClassVar[str]

    def __init__(self, run: Run, template: bytes, account: str, service_code: str) -> None:
        self.run = run
        self.template = bytearray(template)
        self.account = account
        self.service_code = service_code
        loop = asyncio.get_running_loop()
        self.loop = loop
        self.ready: asyncio.Future[None] = loop.create_future()
        self.goodbye: asyncio.Future[None] = loop.create_future()
        self.handshake: Any = None  # the sans-IO session, until bound/connected
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.pending: dict[int, int] = {}  # sequence -> perf_counter_ns when sent
        self.next_sequence = 1
        self.allowance = 0.0
        self.last_refill = 0
        self.tick: asyncio.TimerHandle | None = None
        self.closed = False
        self.leaving = False
        #: The server's keep-alive probes this session answered (SMPP enquire_link, CMPP_ACTIVE_TEST).
        self.keepalives_answered = 0

    # -- what each protocol provides ---------------------------------------------------------------

    def _new_handshake(self) -> Any:
        raise NotImplementedError

    def _login(self) -> Any:
        raise NotImplementedError

    def _login_status(self, event: Any) -> int | None:
        """The status of the bind/connect response among the handshake events, None for other events."""
        raise NotImplementedError

    def _response_fields(self, buffer: bytearray, position: int, length: int) -> tuple[int, int]:
        """(sequence, status) of a submit response starting at ``position``."""
        raise NotImplementedError

    def _status_name(self, status: int) -> str:
        raise NotImplementedError

    def _other(self, frame: bytes, command_id: int) -> None:
        raise NotImplementedError

    def _goodbye_pdu(self, sequence: int) -> bytes:
        raise NotImplementedError

    # -- asyncio.Protocol ---------------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # A stream transport of whatever loop runs us: uvloop's is not an asyncio.Transport subclass, only alike.
        self.transport = transport = cast(asyncio.Transport, transport)
        sock = transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.handshake = self._new_handshake()
        transport.write(self.handshake.send(self._login(), time.time()))

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self.tick is not None:
            self.tick.cancel()
        if not self.leaving:
            self.run.problems.append(f"{self.protocol} session of {self.account} lost its connection "
                                     f"({exc or 'closed by the server'}) with {len(self.pending)} submits outstanding")
        for future in (self.ready, self.goodbye):
            if not future.done():
                _fail(future, ConnectionError("connection lost"))

    def data_received(self, data: bytes) -> None:
        if self.handshake is not None:
            self._handshake_data(data)
            return
        run = self.run
        buffer = self.buffer
        buffer += data
        now = time.perf_counter_ns()
        pending = self.pending
        position, end = 0, len(buffer)
        header_size = self.header_size
        while end - position >= header_size:
            length, command_id = _LENGTH_AND_ID.unpack_from(buffer, position)
            if not header_size <= length <= MAX_FRAME:
                self._abandon(f"frame length {length} from the server")
                return
            if end - position < length:
                break
            if command_id == self.submit_resp_id:
                sequence, status = self._response_fields(buffer, position, length)
                sent = pending.pop(sequence, None)
                if sent is None:
                    run.unmatched += 1
                elif status == 0:
                    run.ok_total += 1
                    if run.window_start <= now < run.window_end:
                        run.ok_window += 1
                        run.latencies.append(now - sent)
                        run.per_second[(now - run.window_start) // 1_000_000_000] += 1
                else:
                    run.refusals[self._status_name(status)] += 1
            else:
                self._other(bytes(buffer[position:position + length]), command_id)
            position += length
        if position:
            del buffer[:position]
        self._pump(now)

    # -- load ---------------------------------------------------------------------------------------

    def start(self, now: int) -> None:
        """Begin sending (the run's ``sending`` flag is set)."""
        self.last_refill = now
        self.allowance = 1.0 if self.run.rate is not None else 0.0
        self._pump(now)

    def _pump(self, now: int) -> None:
        """Fill the window with submits (within the pacing allowance when a rate is set)."""
        run = self.run
        if not run.sending or self.closed or self.transport is None:
            return
        room = run.window - len(self.pending)
        if room <= 0:
            return
        if run.rate is not None:
            self.allowance = min(float(run.window), self.allowance + (now - self.last_refill) * run.rate / 1e9)
            self.last_refill = now
            room = min(room, int(self.allowance))
            if room <= 0:
                self._schedule()
                return
            self.allowance -= room
        template, offset, pending = self.template, self.sequence_offset, self.pending
        sequence = self.next_sequence
        chunks = []
        for _ in range(room):
            struct.pack_into(">I", template, offset, sequence)
            chunks.append(bytes(template))
            pending[sequence] = now
            sequence = sequence + 1 if sequence < SEQUENCE_LAST else 1
        self.next_sequence = sequence
        run.sent += room
        self.transport.write(b"".join(chunks))
        if run.rate is not None and len(pending) < run.window:
            self._schedule()

    def _schedule(self) -> None:
        if self.tick is None and self.run.rate:
            delay = max(0.0, (1.0 - self.allowance) / self.run.rate)
            self.tick = self.loop.call_later(delay, self._on_tick)

    def _on_tick(self) -> None:
        self.tick = None
        self._pump(time.perf_counter_ns())

    # -- handshake and goodbye ----------------------------------------------------------------------

    def _handshake_data(self, data: bytes) -> None:
        session = self.handshake
        events = session.receive_data(data, time.time())
        out = session.data_to_send()
        if out and self.transport is not None:
            self.transport.write(out)
        for event in events:
            status = self._login_status(event)
            if status is None:
                continue
            if status != 0:
                _fail(self.ready, RuntimeError(f"{self.protocol} login of {self.account} refused: {status}"))
                return
            self.next_sequence = session.next_sequence()
            self.handshake = None
            self.ready.set_result(None)
            return

    def say_goodbye(self) -> None:
        """unbind / TERMINATE; ``goodbye`` resolves with the response."""
        self.leaving = True
        if self.closed or self.transport is None:
            if not self.goodbye.done():
                self.goodbye.set_result(None)
            return
        sequence = self.next_sequence
        self.next_sequence = sequence + 1 if sequence < SEQUENCE_LAST else 1
        self.transport.write(self._goodbye_pdu(sequence))

    def close(self) -> None:
        self.leaving = True
        if self.transport is not None and not self.transport.is_closing():
            self.transport.close()

    def _answer(self, data: bytes) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(data)

    def _goodbye_answered(self) -> None:
        if not self.goodbye.done():
            self.goodbye.set_result(None)

    def _abandon(self, why: str) -> None:
        self.run.problems.append(f"{self.protocol} session of {self.account}: {why}")
        self.leaving = True
        self.closed = True
        if self.transport is not None:
            self.transport.abort()


class SmppLoadSession(LoadSession):
    header_size = 16
    sequence_offset = 12
    submit_resp_id = smpp.CommandId.SUBMIT_SM_RESP
    protocol = "smpp"

    def _new_handshake(self) -> SmppSession:
        timing = Timing(keepalive_interval=None, response_timeout=60.0, keepalive_attempts=3, window=1,
                        peer_window=ACCOUNT_WINDOW)
        return SmppSession(role=Role.CLIENT, now=time.time(), timing=timing)

    def _login(self) -> smpp.BindTransceiver:
        return smpp.BindTransceiver(system_id=self.account, password=SECRET, interface_version=0x34)

    def _login_status(self, event: Any) -> int | None:
        return event.command_status if isinstance(event, smpp.BindTransceiverResp) else None

    def _response_fields(self, buffer: bytearray, position: int, length: int) -> tuple[int, int]:
        _, _, status, sequence = _SMPP_HEADER.unpack_from(buffer, position)
        return sequence, status

    def _status_name(self, status: int) -> str:
        try:
            return smpp.CommandStatus(status).name
        except ValueError:
            return f"0x{status:08x}"

    def _other(self, frame: bytes, command_id: int) -> None:
        run = self.run
        ids = smpp.CommandId
        if command_id == ids.GENERIC_NACK:
            _, _, status, sequence = _SMPP_HEADER.unpack_from(frame)
            if self.pending.pop(sequence, None) is not None:
                run.refusals[f"generic_nack {self._status_name(status)}"] += 1
            else:
                run.other[f"generic_nack {self._status_name(status)}"] += 1
            return
        pdu = smpp.decode(frame)
        if isinstance(pdu, smpp.DeliverSm):
            if pdu.esm_class & smpp.EsmClass.TYPE_MASK == smpp.EsmClass.TYPE_DELIVERY_RECEIPT:
                run.receipts += 1
            else:
                run.mo += 1
            self._answer(smpp.encode(pdu.response()))
        elif isinstance(pdu, smpp.EnquireLink):
            run.other["enquire_link"] += 1
            self.keepalives_answered += 1
            self._answer(smpp.encode(pdu.response()))
        elif isinstance(pdu, smpp.Unbind):
            run.other["unbind from the server"] += 1
            self._answer(smpp.encode(pdu.response()))
            self.leaving = True
        elif isinstance(pdu, smpp.UnbindResp):
            self._goodbye_answered()
        else:
            run.other[pdu.command_name] += 1

    def _goodbye_pdu(self, sequence: int) -> bytes:
        return smpp.encode(smpp.Unbind(sequence_number=sequence))


class CmppLoadSession(LoadSession):
    header_size = 12
    sequence_offset = 8
    submit_resp_id = cmpp.CommandId.SUBMIT_RESP
    protocol = "cmpp"

    def _new_handshake(self) -> CmppSession:
        timing = Timing(keepalive_interval=None, response_timeout=60.0, keepalive_attempts=3, window=1,
                        peer_window=ACCOUNT_WINDOW)
        return CmppSession(role=Role.CLIENT, now=time.time(), version=cmpp.Version.V30, timing=timing)

    def _login(self) -> cmpp.Connect:
        moment = datetime.now()
        timestamp = cmpp.timestamp_from(moment.month, moment.day, moment.hour, moment.minute, moment.second)
        return cmpp.Connect(source_addr=self.account, version=cmpp.Version.V30, timestamp=timestamp,
                            authenticator_source=cmpp.authenticator_source(self.account, SECRET, timestamp))

    def _login_status(self, event: Any) -> int | None:
        return event.status if isinstance(event, cmpp.ConnectResp) else None

    def _response_fields(self, buffer: bytearray, position: int, length: int) -> tuple[int, int]:
        if length != _CMPP_SUBMIT_RESP_V30.size:
            self.run.other[f"SUBMIT_RESP of {length} bytes"] += 1
            _, _, sequence = _CMPP_HEADER.unpack_from(buffer, position)
            return sequence, -1
        _, _, sequence, result = _CMPP_SUBMIT_RESP_V30.unpack_from(buffer, position)
        return sequence, result

    def _status_name(self, status: int) -> str:
        try:
            return f"Result {status} {cmpp.SubmitResult(status).name}"
        except ValueError:
            return f"Result {status}"

    def _other(self, frame: bytes, command_id: int) -> None:
        run = self.run
        pdu = cmpp.decode(frame, cmpp.Version.V30)
        if isinstance(pdu, cmpp.Deliver):
            if pdu.registered_delivery == 1:
                run.receipts += 1
            else:
                run.mo += 1
            self._answer(cmpp.encode(pdu.response(result=0), cmpp.Version.V30))
        elif isinstance(pdu, cmpp.ActiveTest):
            run.other["ACTIVE_TEST"] += 1
            self.keepalives_answered += 1
            self._answer(cmpp.encode(pdu.response(), cmpp.Version.V30))
        elif isinstance(pdu, cmpp.Terminate):
            run.other["TERMINATE from the server"] += 1
            self._answer(cmpp.encode(pdu.response(), cmpp.Version.V30))
            self.leaving = True
        elif isinstance(pdu, cmpp.TerminateResp):
            self._goodbye_answered()
        else:
            run.other[pdu.command_name] += 1

    def _goodbye_pdu(self, sequence: int) -> bytes:
        return cmpp.encode(cmpp.Terminate(sequence_id=sequence), cmpp.Version.V30)


def submit_template(protocol: str, account: str, service_code: str, registered_delivery: int) -> bytes:
    """The submit PDU every send of a session reuses (sequence number 1, patched per send)."""
    if protocol == "smpp":
        sm = smpp.SubmitSm(sequence_number=1, source_addr=service_code, destination_addr=DESTINATION,
                           registered_delivery=registered_delivery, short_message=CONTENT)
        frame = smpp.encode(sm)
        assert smpp.decode(frame) == sm
        return frame
    submit = cmpp.Submit(sequence_id=1, registered_delivery=registered_delivery, service_id="SMSCLAB",
                         fee_type="01", msg_src=account, src_id=service_code, dest_terminal_id=(DESTINATION,),
                         msg_content=CONTENT)
    frame = cmpp.encode(submit, cmpp.Version.V30)
    assert cmpp.decode(frame, cmpp.Version.V30) == submit
    return frame


# -- the server process ---------------------------------------------------------------------------------


def free_ports(count: int) -> list[int]:
    """Ports the kernel picks on 127.0.0.1 (all held at once so they differ, then released)."""
    sockets = [socket.socket(socket.AF_INET, socket.SOCK_STREAM) for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind((HOST, 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def accounts_for(sessions: int) -> list[tuple[str, str]]:
    """(id, service code) of the accounts that carry ``sessions`` connections."""
    count = math.ceil(sessions / CONNECTIONS_PER_ACCOUNT)
    if count > MAX_ACCOUNTS:
        raise ValueError(f"at most {MAX_SESSIONS:,} sessions")
    return [(f"lg{index}", f"1069{index:04d}") for index in range(1, count + 1)]


def proc_status(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM (KiB) of a process."""
    figures: dict[str, int] = {}
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            name, _, value = line.partition(":")
            if name in ("VmRSS", "VmHWM"):
                figures[name] = int(value.split()[0])
    return figures


def proc_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process, all its threads."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Server:
    """``smsclab serve`` in a subprocess with its own data directory and free ports."""

    def __init__(self, data_dir: Path, sessions: int, account_rate: float | None, profile: Path | None) -> None:
        self.data_dir = data_dir
        self.cmpp_port, self.smpp_port, self.api_port = free_ports(3)
        self.accounts = accounts_for(sessions)
        command = [sys.executable]
        if profile is not None:
            command += ["-m", "cProfile", "-o", str(profile)]
        command += ["-m", "simulator.cli", "serve", "--cmpp-port", str(self.cmpp_port),
                    "--smpp-port", str(self.smpp_port), "--api-port", str(self.api_port),
                    "--data-dir", str(data_dir / "store")]
        rate = "" if account_rate is None else f":{account_rate:g}"
        for account, code in self.accounts:
            command += ["--account", f"{account}:{SECRET}:{code}{rate}"]
        self.log_path = data_dir / "server.log"
        self._log = open(self.log_path, "wb")  # noqa: SIM115 (closed in stop())
        self.process = subprocess.Popen(command, cwd=REPO, stdout=self._log, stderr=subprocess.STDOUT)
        self.pid = self.process.pid

    @property
    def store_path(self) -> Path:
        return self.data_dir / "store" / "smsclab.sqlite"

    def wait_ready(self) -> None:
        deadline = time.monotonic() + STARTUP_SECONDS
        waiting = {self.cmpp_port, self.smpp_port}
        while waiting:
            if self.process.poll() is not None:
                raise RuntimeError(f"the server exited with status {self.process.returncode}:\n{self.log()}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"the server did not listen within {STARTUP_SECONDS:g} s:\n{self.log()}")
            for port in list(waiting):
                try:
                    with socket.create_connection((HOST, port), timeout=0.2):
                        waiting.discard(port)
                except OSError:
                    pass
            if waiting:
                time.sleep(0.05)

    def stop(self) -> tuple[int | None, float]:
        """SIGTERM and wait; returns (exit status or None if it had to be killed, seconds it took)."""
        started = time.monotonic()
        status: int | None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            status = self.process.wait(timeout=STOP_SECONDS)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            status = None
        self._log.close()
        return status, time.monotonic() - started

    def log(self) -> str:
        if not self._log.closed:
            self._log.flush()
        return self.log_path.read_text(errors="replace")[-4000:]


# -- one protocol run -------------------------------------------------------------------------------


@dataclass
class Result:
    protocol: str
    sessions: int
    window: int
    seconds: float
    ok_window: int = 0
    ok_total: int = 0
    sent: int = 0
    latencies: list[int] = field(default_factory=list)
    per_second: list[int] = field(default_factory=list)
    refusals: Counter[str] = field(default_factory=Counter)
    receipts: int = 0
    mo: int = 0
    other: Counter[str] = field(default_factory=Counter)
    unmatched: int = 0
    unanswered: int = 0
    rss_start: int = 0
    rss_end: int = 0
    rss_peak: int = 0
    server_cpu: float = 0.0
    generator_cpu: float = 0.0
    store_rows: int | None = None
    receipt_states: dict[str, int] = field(default_factory=dict)
    #: Audit events other than the routine ones, from the store (shown when something went wrong).
    notable_events: list[str] = field(default_factory=list)
    event_kinds: dict[str, int] = field(default_factory=dict)
    server_exit: int | None = 0
    stop_seconds: float = 0.0
    problems: list[str] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.ok_window / self.seconds

    @property
    def server_cpu_per_ok(self) -> float:
        """Server CPU seconds per OK response in the measured seconds (steadier than ok/s on a shared machine)."""
        return self.server_cpu * self.seconds / self.ok_window if self.ok_window else math.nan

    @property
    def lost(self) -> bool:
        """Acknowledged submits the store does not hold (or rows nobody was told about)."""
        if self.store_rows is None:
            return self.ok_total > 0
        return self.store_rows != self.ok_total


def _returning(session: LoadSession) -> Callable[[], LoadSession]:
    return lambda: session


async def drive(args: argparse.Namespace, protocol: str, server: Server, result: Result) -> None:
    """Connect, load, drain, say goodbye; fills ``result`` with what the generator saw."""
    loop = asyncio.get_running_loop()
    per_session = None if args.rate is None else args.rate / args.sessions
    run = Run(args.window, per_session)
    port = server.smpp_port if protocol == "smpp" else server.cmpp_port
    kind: type[LoadSession] = SmppLoadSession if protocol == "smpp" else CmppLoadSession
    registered = 1 if args.receipts else 0
    sessions: list[LoadSession] = []
    try:
        for index in range(args.sessions):
            account, code = server.accounts[index // CONNECTIONS_PER_ACCOUNT]
            session = kind(run, submit_template(protocol, account, code, registered), account, code)
            await loop.create_connection(_returning(session), HOST, port)
            sessions.append(session)
        await asyncio.wait_for(asyncio.gather(*(s.ready for s in sessions)), HANDSHAKE_SECONDS)

        begin = time.perf_counter_ns()
        run.window_start = begin + int(args.warmup * 1e9)
        run.window_end = run.window_start + int(args.seconds * 1e9)
        run.per_second = [0] * math.ceil(args.seconds)
        run.sending = True
        for session in sessions:
            session.start(begin)
        await asyncio.sleep(max(0.0, (run.window_start - time.perf_counter_ns()) / 1e9))
        server_cpu, own_cpu = proc_cpu_seconds(server.pid), time.process_time()
        measured_from = time.perf_counter()
        await asyncio.sleep(max(0.0, (run.window_end - time.perf_counter_ns()) / 1e9))
        elapsed = time.perf_counter() - measured_from
        result.server_cpu = (proc_cpu_seconds(server.pid) - server_cpu) / elapsed
        result.generator_cpu = (time.process_time() - own_cpu) / elapsed
        run.sending = False

        deadline = time.monotonic() + DRAIN_SECONDS
        while any(s.pending for s in sessions) and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        result.unanswered = sum(len(s.pending) for s in sessions)
        if args.receipts:
            deadline = time.monotonic() + args.receipt_wait
            while run.receipts < run.ok_total and time.monotonic() < deadline:
                await asyncio.sleep(0.05)

        for session in sessions:
            session.say_goodbye()
        goodbyes = asyncio.gather(*(s.goodbye for s in sessions), return_exceptions=True)
        try:
            await asyncio.wait_for(goodbyes, GOODBYE_SECONDS)
        except TimeoutError:
            run.problems.append(f"{sum(not s.goodbye.done() for s in sessions)} sessions got no answer to "
                                f"unbind/TERMINATE within {GOODBYE_SECONDS:g} s")
    finally:
        run.sending = False
        for session in sessions:
            session.close()
        await asyncio.sleep(0.05)  # let the transports close
        result.ok_window, result.ok_total, result.sent = run.ok_window, run.ok_total, run.sent
        result.latencies, result.refusals, result.other = run.latencies, run.refusals, run.other
        result.per_second = run.per_second
        result.receipts, result.mo, result.unmatched = run.receipts, run.mo, run.unmatched
        result.problems += run.problems


def run_protocol(args: argparse.Namespace, protocol: str, workdir: Path) -> Result:
    """One fresh server, one load, one store check."""
    data_dir = workdir / protocol
    data_dir.mkdir()
    profile = None if args.profile is None else Path(f"{args.profile}.{protocol}")
    result = Result(protocol, args.sessions, args.window, args.seconds)
    server = Server(data_dir, args.sessions, args.account_rate, profile)
    started = False
    try:
        server.wait_ready()
        started = True
        start = proc_status(server.pid)
        result.rss_start = start["VmRSS"]
        asyncio.run(drive(args, protocol, server, result))
        end = proc_status(server.pid)
        result.rss_end, result.rss_peak = end["VmRSS"], end["VmHWM"]
    except Exception as error:
        result.problems.append(f"{type(error).__name__}: {error}")
    finally:
        result.server_exit, result.stop_seconds = server.stop()
    if result.server_exit != 0 and started:  # (a failed start was reported with the log by wait_ready)
        result.problems.append(f"server exit status {result.server_exit} after SIGTERM "
                               f"({result.stop_seconds:.1f} s):\n{server.log()}")
    if server.store_path.exists():
        with sqlite3.connect(server.store_path) as db:
            result.store_rows = db.execute("SELECT COUNT(*) FROM messages").fetchone()[0]
            result.receipt_states = dict(db.execute(
                "SELECT receipt_state, COUNT(*) FROM messages GROUP BY receipt_state").fetchall())
            result.event_kinds = dict(db.execute("SELECT kind, COUNT(*) FROM events GROUP BY kind").fetchall())
            routine = ", ".join("?" * len(ROUTINE_EVENTS))
            result.notable_events = [f"{at:.3f} {kind} {detail}" for at, kind, detail in db.execute(
                f"SELECT at, kind, detail FROM events WHERE kind NOT IN ({routine}) AND kind NOT LIKE 'submit.%' "
                "AND kind NOT LIKE 'receipt.%' AND kind NOT LIKE 'message.%' ORDER BY id LIMIT 20", ROUTINE_EVENTS)]
        db.close()
    return result


# -- report ---------------------------------------------------------------------------------------------


def percentile(ordered: Sequence[int], fraction: float) -> float:
    """Nearest-rank percentile of sorted ns values, in ms."""
    if not ordered:
        return math.nan
    index = max(0, math.ceil(fraction * len(ordered)) - 1)
    return ordered[index] / 1e6


def mib(kib: int) -> str:
    return f"{kib / 1024:.1f} MiB"


def report(args: argparse.Namespace, results: list[Result]) -> bool:
    """Print the table; True when every run kept every message it acknowledged."""
    rate = "unlimited" if args.rate is None else f"{args.rate:g}/s offered"
    account_rate = "" if args.account_rate is None else f", account rate {args.account_rate:g}/s"
    print(f"smsclab loadgen: {args.sessions} sessions x window {args.window}, {args.warmup:g} s warm-up + "
          f"{args.seconds:g} s measured, registered_delivery={1 if args.receipts else 0}, rate {rate}"
          f"{account_rate}")
    if args.window > ACCOUNT_WINDOW:
        print(f"note: window {args.window} > the account window {ACCOUNT_WINDOW}: ESME_RMSGQFUL / Result 8 expected")
    header = ("protocol", "ok/s", "ok total", "store rows", "refused", "p50 ms", "p99 ms", "max ms",
              "RSS start", "RSS end", "RSS peak", "srv CPU", "srv us/OK", "gen CPU")
    rows = []
    for r in results:
        ordered = sorted(r.latencies)
        rows.append((r.protocol.upper(), f"{r.rate:,.0f}", f"{r.ok_total:,}",
                     "-" if r.store_rows is None else f"{r.store_rows:,}", f"{sum(r.refusals.values()):,}",
                     f"{percentile(ordered, 0.50):.2f}", f"{percentile(ordered, 0.99):.2f}",
                     f"{percentile(ordered, 1.0):.2f}", mib(r.rss_start), mib(r.rss_end), mib(r.rss_peak),
                     f"{r.server_cpu:.0%}", f"{r.server_cpu_per_ok * 1e6:,.0f}", f"{r.generator_cpu:.0%}"))
    widths = [max(len(row[i]) for row in (header, *rows)) for i in range(len(header))]
    for row in (header, *rows):
        cells = zip(row, widths, strict=True)
        print("  ".join(cell.ljust(w) if i == 0 else cell.rjust(w) for i, (cell, w) in enumerate(cells)))
    healthy = True
    for r in results:
        sound = not r.problems and not r.lost
        healthy = healthy and sound
        refusals = ", ".join(f"{name}={count:,}" for name, count in r.refusals.most_common()) or "none"
        print(f"{r.protocol.upper()}: OK per measured second: {' '.join(str(n) for n in r.per_second)}")
        print(f"{r.protocol.upper()}: sent {r.sent:,}; refusals by status: {refusals}", end="")
        if args.receipts:
            print(f"; receipts received {r.receipts:,} of {r.ok_total:,}; store receipt_state {r.receipt_states}",
                  end="")
        if r.mo:
            print(f"; MO {r.mo:,}", end="")
        if r.other:
            print(f"; other PDUs {dict(r.other)}", end="")
        print(f"; server stopped in {r.stop_seconds:.1f} s (exit {r.server_exit})")
        if r.event_kinds:
            kinds = ", ".join(f"{kind}={count:,}" for kind, count in sorted(r.event_kinds.items()))
            print(f"{r.protocol.upper()}: server audit events: {kinds}")
        if args.receipts and r.receipts < r.ok_total:
            print(f"{r.protocol.upper()}: RECEIPTS MISSING: {r.ok_total - r.receipts:,} of {r.ok_total:,} not received "
                  f"{args.receipt_wait:g} s after the load (the default DLR delay is 1-3 s)")
        if r.unanswered or r.unmatched:
            print(f"{r.protocol.upper()}: {r.unanswered:,} submits never answered, {r.unmatched:,} responses matched "
                  "no submit")
        for problem in r.problems:
            print(f"{r.protocol.upper()} PROBLEM: {problem}")
        if r.lost:
            print(f"*** LOST *** {r.protocol.upper()}: {r.ok_total:,} submits answered OK but the store holds "
                  f"{r.store_rows} messages")
        if not sound or r.unanswered or r.unmatched:
            for event in r.notable_events:
                print(f"{r.protocol.upper()} server event: {event}")
    by_protocol = {r.protocol: r for r in results}
    if "smpp" in by_protocol and "cmpp" in by_protocol and by_protocol["smpp"].rate:
        print(f"CMPP/SMPP throughput ratio: {by_protocol['cmpp'].rate / by_protocol['smpp'].rate:.2f}")
    print("ok/s: OK responses received in the measured seconds; latency: send -> OK response, measured seconds; "
          "CPU: share of one core in the measured seconds; srv us/OK: server CPU per OK response")
    return healthy


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--protocol", choices=("smpp", "cmpp", "both"), default="both")
    parser.add_argument("--sessions", type=int, default=4, help="connections (C)")
    parser.add_argument("--window", type=int, default=16, help="submits outstanding per connection (W)")
    parser.add_argument("--seconds", type=float, default=5.0, help="measured seconds (S)")
    parser.add_argument("--warmup", type=float, default=1.0, help="seconds of load before measuring")
    parser.add_argument("--rate", type=float, help="offered submits/s over all sessions (default: window-bound)")
    parser.add_argument("--account-rate", type=float, help="the server's rate limit per account (msg/s)")
    parser.add_argument("--receipts", action="store_true", help="registered_delivery=1; count and ack receipts")
    parser.add_argument("--receipt-wait", type=float, default=5.0,
                        help="with --receipts: seconds to wait after the load for outstanding receipts")
    parser.add_argument("--profile", type=Path, help="run the server under cProfile, writing FILE.<protocol>")
    parser.add_argument("--keep-data", action="store_true", help="keep the temporary data directory")
    args = parser.parse_args()
    if args.sessions < 1 or args.window < 1 or args.seconds <= 0 or args.warmup < 0:
        parser.error("--sessions and --window must be >= 1, --seconds > 0, --warmup >= 0")
    if args.sessions > MAX_SESSIONS:
        parser.error(f"at most {MAX_SESSIONS:,} sessions")
    if args.rate is not None and args.rate <= 0:
        parser.error("--rate must be positive")
    protocols = ["smpp", "cmpp"] if args.protocol == "both" else [args.protocol]
    workdir = Path(tempfile.mkdtemp(prefix="smsclab-loadgen-"))
    try:
        results = [run_protocol(args, protocol, workdir) for protocol in protocols]
        healthy = report(args, results)
    finally:
        if args.keep_data:
            print(f"data kept in {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    return 0 if healthy else 1


if __name__ == "__main__":
    sys.exit(main())
