"""The simulator's CPU per submit without sockets: the gateway's own cost, free of loopback and scheduling noise.

Usage: python bench/hotpath.py [--protocol smpp|cmpp|both] [--submits 40000] [--sessions 4] [--window 64]
       [--receipts] [--unsubscribed] [--profile FILE]

In one process: a :class:`simulator.server.Simulator` with the embedded default configuration (durable store with
``synchronous=FULL``, policy on; receipts only with ``--receipts``, acknowledged by the partners; the recipient a
subscriber unless ``--unsubscribed``) and accounts of window W, and C partner connections made with
:meth:`Simulator.front_for`, i.e. the fronts the TCP listeners make, fed bytes directly instead of from a socket.
Each connection writes a window's worth of pre-encoded submits (loadgen's) in one chunk whenever the previous
chunk is fully answered, until N submits are answered OK. Printed: submits/s, CPU per OK for the whole process
(every thread: the event loop and the store's writer) and for the event loop's thread alone, the store's
commits, and with ``--profile`` the 25 functions of the event loop's thread with the most own time.

The CPU figures are what ``bench/compare.py``'s ``srv us/OK`` would be with a free network; 1e6 divided by the
process's figure is the throughput one core could give. Figures, not a test.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import pstats
import shutil
import struct
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import loadgen
import targets

from protocols import cmpp, smpp
from simulator.clock import RealClock
from simulator.config import load_config, with_overrides
from simulator.front import Front
from simulator.observe import EventLog
from simulator.server import Simulator

_HEADER = struct.Struct(">II")  # command_length / Total_Length, command_id / Command_Id: both protocols


def _bind_pdu(protocol: str, account: str) -> bytes:
    if protocol == "smpp":
        return smpp.encode(smpp.BindTransceiver(sequence_number=1, system_id=account, password=loadgen.SECRET,
                                                interface_version=0x34))
    timestamp = 1129120000
    return cmpp.encode(cmpp.Connect(sequence_id=1, source_addr=account, version=0x30, timestamp=timestamp,
                                    authenticator_source=cmpp.authenticator_source(account, loadgen.SECRET,
                                                                                   timestamp)),
                       cmpp.Version.V30)


#: Where the sequence number sits in the header: SMPP v3.4 §3.2 after command_status, CMPP §7.4.1 after Command_Id.
_SEQUENCE_AT = {"smpp": 12, "cmpp": 8}


def _chunk(protocol: str, template: bytes, first_sequence: int, count: int) -> bytes:
    """``count`` copies of the submit with consecutive sequence numbers."""
    out = bytearray()
    for offset in range(count):
        frame = bytearray(template)
        struct.pack_into(">I", frame, _SEQUENCE_AT[protocol], first_sequence + offset)
        out += frame
    return bytes(out)


#: The deliver PDU's Command_Id / command_id: 5 in both protocols (CMPP 3.0 §8.4.5, SMPP v3.4 §4.6.1).
_DELIVER = 0x00000005
#: How long the submits may take in all before the run gives up (a server that stopped answering).
RUN_TIMEOUT_SECONDS = 300.0
#: How long the run waits for the last receipts once every submit is answered.
RECEIPT_WAIT_SECONDS = 30.0


class _Partner:
    """One connection's far end: counts the submit responses in what the front writes, and acknowledges the
    receipts (SMPP deliver_sm_resp, CMPP_DELIVER_RESP with Result 0) as a well-behaved partner does."""

    def __init__(self, protocol: str) -> None:
        self.protocol = protocol
        self.front: Front[Any] | None = None
        self.answered = 0
        self.refused = 0
        self.receipts = 0
        self.buffer = bytearray()
        self.progress = asyncio.Event()
        self.closed = False
        response_ids = {"smpp": smpp.CommandId.SUBMIT_SM_RESP, "cmpp": cmpp.CommandId.SUBMIT_RESP}
        self._response_id = int(response_ids[protocol])

    def write(self, data: bytes) -> None:
        self.buffer += data
        acks = bytearray()
        while len(self.buffer) >= 8:
            length, command_id = _HEADER.unpack_from(self.buffer)
            if len(self.buffer) < length:
                break
            frame = bytes(self.buffer[:length])
            del self.buffer[:length]
            if command_id == self._response_id:
                ok = (struct.unpack_from(">I", frame, 8)[0] == 0 if self.protocol == "smpp"
                      else frame[-4:] == b"\0\0\0\0")  # CMPP 3.0 SUBMIT_RESP: Result is the last 4 bytes
                self.answered += 1
                self.refused += 0 if ok else 1
            elif command_id == _DELIVER:
                self.receipts += 1
                acks += self._acknowledge(frame)
        if acks and self.front is not None:  # answered on the next loop turn, as bytes from a socket would be
            asyncio.get_running_loop().call_soon(self.front.receive, bytes(acks))
        self.progress.set()

    def _acknowledge(self, frame: bytes) -> bytes:
        if self.protocol == "smpp":  # header, then an empty message_id (SMPP v3.4 §4.6.2)
            return struct.pack(">IIII", 17, 0x80000005, 0, struct.unpack_from(">I", frame, 12)[0]) + b"\0"
        # CMPP 3.0 §8.4.5.2: Msg_Id (the DELIVER's first body field) and Result 0
        return struct.pack(">III", 24, 0x80000005, struct.unpack_from(">I", frame, 8)[0]) + frame[12:20] + bytes(4)

    def close(self) -> None:
        self.closed = True

    def pause(self, paused: bool) -> None:
        pass


async def run(protocol: str, submits: int, sessions: int, window: int, profile: cProfile.Profile | None, *,
              subscribed: bool = True, receipts: bool = False) -> str:
    workdir = Path(tempfile.mkdtemp(prefix="smsclab-hotpath-"))
    try:
        accounts = loadgen.accounts_for(sessions)
        config_file = workdir / "bench.toml"
        config_file.write_text(targets.bench_config(accounts, window))  # compare.py's configuration
        config = with_overrides(load_config(config_file), cmpp_port=0, smpp_port=0, api_port=0,
                                data_dir=workdir / "store")
        log = io.StringIO()  # the session-level events a server prints; kept off the terminal
        simulator = Simulator(config, RealClock(), with_api=False, events=EventLog(log))
        await simulator.start()
        assert simulator.gateway is not None
        if subscribed:  # a compliant partner: its recipient opted in (clause 3.4), so no submit breaches a rule
            for account, _ in accounts:
                await simulator.gateway.set_subscribers(account, [loadgen.DESTINATION], subscribed=True, origin="api")
        partners, fronts, templates = [], [], []
        for index in range(sessions):
            account, code = accounts[index // loadgen.CONNECTIONS_PER_ACCOUNT]
            partner = _Partner(protocol)
            front = partner.front = simulator.front_for(protocol, "127.0.0.1", partner.write, partner.close,
                                                        partner.pause)
            front.receive(_bind_pdu(protocol, account))
            partners.append(partner)
            fronts.append(front)
            templates.append(loadgen.submit_template(protocol, account, code, 1 if receipts else 0))
        await asyncio.sleep(0.05)
        per_session = submits // sessions
        store = simulator.store
        assert store is not None
        commits_before = store.commits

        async def drive(index: int) -> None:
            partner, front, template = partners[index], fronts[index], templates[index]
            sent = 0
            while sent < per_session:
                count = min(window, per_session - sent)
                target = partner.answered + count
                front.receive(_chunk(protocol, template, 2 + sent, count))
                sent += count
                while partner.answered < target:
                    partner.progress.clear()
                    await partner.progress.wait()

        started_wall, started_cpu, started_thread = time.perf_counter(), time.process_time(), time.thread_time()
        if profile is not None:
            profile.enable()
        try:
            await asyncio.wait_for(asyncio.gather(*(drive(index) for index in range(sessions))), RUN_TIMEOUT_SECONDS)
        except TimeoutError:
            await simulator.stop()
            return (f"{protocol.upper():5} gave up after {RUN_TIMEOUT_SECONDS:g} s with "
                    f"{sum(partner.answered for partner in partners):,} of {per_session * sessions:,} submits answered")
        answered = sum(partner.answered for partner in partners)
        refused = sum(partner.refused for partner in partners)
        ok = answered - refused
        submitted_wall = time.perf_counter() - started_wall
        deadline = time.perf_counter() + RECEIPT_WAIT_SECONDS
        while receipts and sum(partner.receipts for partner in partners) < ok and time.perf_counter() < deadline:
            await asyncio.sleep(0.01)
        if profile is not None:
            profile.disable()
        wall = time.perf_counter() - started_wall
        cpu, thread = time.process_time() - started_cpu, time.thread_time() - started_thread
        received = sum(partner.receipts for partner in partners)
        commits = store.commits - commits_before
        await simulator.stop()
        line = (f"{protocol.upper():5} {ok:>8,} OK {refused:>6,} refused  {ok / submitted_wall:>9,.0f}/s  "
                f"process CPU {cpu / ok * 1e6:6.1f} us/OK  event loop {thread / ok * 1e6:6.1f} us/OK  "
                f"(one core: {ok / cpu / 1000:,.1f}k/s)  {commits:,} commits ({ok / max(commits, 1):,.0f} per commit)")
        if receipts:  # the CPU figures then cover each message's submit and its receipt
            line += (f"\n      receipts {received:,} of {ok:,} acknowledged {wall:.1f} s after the first submit "
                     f"(the profile delays each by 1-3 s)")
        return line
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--protocol", choices=("smpp", "cmpp", "both"), default="both")
    parser.add_argument("--submits", type=int, default=40_000)
    parser.add_argument("--sessions", type=int, default=4)
    parser.add_argument("--window", type=int, default=64)
    parser.add_argument("--profile", metavar="FILE", help="cProfile the event loop's thread into FILE")
    parser.add_argument("--receipts", action="store_true",
                        help="registered_delivery=1, receipts acknowledged: CPU per message covers both")
    parser.add_argument("--unsubscribed", action="store_true",
                        help="leave the recipient unsubscribed: every submit breaches the monitored rule of clause "
                             "3.4 and is recorded as a violation")
    args = parser.parse_args()
    if args.submits < 1 or args.sessions < 1 or args.window < 1:
        parser.error("--submits, --sessions and --window must be >= 1")
    profile = cProfile.Profile() if args.profile else None
    for protocol in ("smpp", "cmpp") if args.protocol == "both" else (args.protocol,):
        print(asyncio.run(run(protocol, args.submits, args.sessions, args.window, profile,
                             subscribed=not args.unsubscribed, receipts=args.receipts)), flush=True)
    if profile is not None:
        profile.dump_stats(args.profile)
        out = io.StringIO()
        pstats.Stats(profile, stream=out).sort_stats("tottime").print_stats(25)
        print(out.getvalue())
    return 0


if __name__ == "__main__":
    sys.exit(main())
