"""The floor of CPU per SMPP submit: only the irreducible work, with the project's fastest pieces (issue 7).

Usage: python bench/floor.py [--submits 200000] [--window 256] [--in-flight 4]

Issue 7 asks for >= 50,000 submits/s on one core with the store durable (SQLite WAL, ``synchronous=FULL``, group
commit), the policy on and receipts on: 20 us of CPU per submit, every thread counted. This script measures how
much of that budget a CPython server must spend even if it did nothing but the work no server can skip, in one
process and without sockets (as ``bench/hotpath.py``), adding one piece per step:

1. ``codec``: decode loadgen's submit_sm frame with the public fast path (``smpp.decode``), allocate the message
   id, encode the submit_sm_resp; one output buffer per window (what one write would send).
2. ``+ store``: also make each submit a :class:`simulator.store.MessageRow` (text decoded from the data coding)
   and persist the rows through the real :class:`simulator.store.Store`: one ``insert_messages`` per window of W
   submits, up to K windows in flight, so that the writer thread group-commits as it does in the server.
3. ``+ receipts``: registered_delivery=1, rows stored with a pending receipt; once a window is durable, each
   message's Appendix B deliver_sm is built and encoded and recorded as ``sent`` (``set_receipt``), one
   ``flush`` per window; once that is durable, the partner's deliver_sm_resp frames are decoded, matched to
   their receipt by sequence number and recorded as ``acked``, so "sent" and "acked" ride in different commits
   as they do in the server.

Left out, because a server could avoid them: the policy, events, metrics, the session state machine, reading
due receipts back from the store (the rows are still in memory here), sockets and the event loop's I/O.

Each step runs three times (interleaved, so machine load drifts alike over all steps) on a fresh database and
the best run is printed: CPU per submit for the whole process (``time.process_time``: the event loop's thread
and the store's writer thread) and the rate one core could give at that cost. Figures, not a test.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import os
import shutil
import sqlite3
import struct
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

import loadgen

from protocols import smpp, text
from simulator.config import load_config
from simulator.front import receipt_minute
from simulator.store import MessageRow, Store

ACCOUNT = "900001"
SERVICE_CODE = "10690001"
#: What the server's sessions are called (simulator/front.py): 4 sessions, as loadgen's default run.
SESSION_LABELS = ("smpp-1", "smpp-2", "smpp-3", "smpp-4")
#: The default simulated delay before the handset outcome (the default DLR profile draws 1-3 s).
DONE_AFTER_SECONDS = 2.0
#: The default DLR profile's retry_interval.
RECEIPT_RETRY_SECONDS = 30.0
#: The embedded default configuration's time zone, which receipt dates are written in.
ZONE = ZoneInfo(load_config().timezone)
ROUNDS = 3
#: The issue-7 target, and the CPU per submit one core can spend at that rate.
TARGET_PER_SECOND = 50_000
BUDGET_US = 1e6 / TARGET_PER_SECOND
#: message_state DELIVERED (SMPP v3.4 §5.2.28); frozen, so one TLV object serves every receipt, as in the server.
DELIVERED_STATE_TLV = smpp.Tlv.of("message_state", 2)
#: deliver_sm_resp header (SMPP v3.4 §4.6.2): command_length 17, command_id, command_status 0, sequence; then
#: an empty message_id.
DELIVER_SM_RESP = struct.Struct(">IIII")
DELIVER_SM_RESP_ID = 0x80000005


@dataclass
class StepResult:
    """One run of one step."""

    cpu_seconds: float
    loop_seconds: float
    wall_seconds: float
    commits: int
    submits: int

    @property
    def us_per_submit(self) -> float:
        return self.cpu_seconds / self.submits * 1e6

    @property
    def loop_us_per_submit(self) -> float:
        return self.loop_seconds / self.submits * 1e6


class Floor:
    """The least a server does per submit; ``store`` and ``receipts`` add the steps' pieces."""

    def __init__(self, submits: int, window: int, in_flight: int, *, store: Store | None, receipts: bool) -> None:
        self.submits = submits
        self.window = window
        self.in_flight = in_flight
        self.store = store
        self.receipts = receipts
        self.frame = loadgen.submit_template("smpp", ACCOUNT, SERVICE_CODE, 1 if receipts else 0)
        self.next_row_id = 1
        self.next_deliver_sequence = 1
        #: Receipts sent and not yet answered, by deliver_sm sequence number: how an answer finds its message.
        self.unanswered: dict[int, MessageRow] = {}
        #: The partner's answers, made before the clock starts: the client's work is not the server's.
        self.answers = ([DELIVER_SM_RESP.pack(17, DELIVER_SM_RESP_ID, 0, sequence) + b"\0"
                         for sequence in range(1, submits + 1)] if receipts else [])
        self.receipt_flushes: list[asyncio.Future[None]] = []
        self.sent_bytes = 0

    async def run(self) -> None:
        stored: collections.deque[asyncio.Future[None]] = collections.deque()
        for first in range(0, self.submits, self.window):
            count = min(self.window, self.submits - first)
            if self.store is None:
                self._submits_only(count)
                continue
            rows, responses = self._submits_with_rows(count)
            inserted = self.store.insert_messages(rows)
            if self.receipts:  # as the server does: the insert's completion triggers what follows, no task
                inserted.add_done_callback(self._receipts_after(rows))
            stored.append(inserted)
            # The answers go out once the rows are durable; encoding them earlier costs the same CPU.
            self.sent_bytes += len(b"".join(responses))
            if len(stored) >= self.in_flight:
                await stored.popleft()
        while stored:
            await stored.popleft()
        if self.receipts:
            assert self.store is not None
            await asyncio.gather(*self.receipt_flushes)
            await self.store.flush()  # the last windows' "acked"
            if self.unanswered:
                raise RuntimeError(f"{len(self.unanswered)} receipts were never answered")

    def _submits_only(self, count: int) -> None:
        decode, encode = smpp.decode, smpp.encode
        responses = []
        for _ in range(count):
            pdu = decode(self.frame)
            assert isinstance(pdu, smpp.SubmitSm)  # the server dispatches on the PDU's type: as cheap a check
            row_id = self.next_row_id
            self.next_row_id += 1
            responses.append(encode(pdu.response(message_id=format(row_id, "x"))))
        self.sent_bytes += len(b"".join(responses))

    def _submits_with_rows(self, count: int) -> tuple[list[MessageRow], list[bytes]]:
        decode, encode = smpp.decode, smpp.encode
        now = time.time()  # the server reads its clock once per loop turn, not per submit
        done_at = now + DONE_AFTER_SECONDS
        receipt_state, receipt_due = ("pending", done_at) if self.receipts else ("none", None)
        rows, responses = [], []
        for offset in range(count):
            pdu = decode(self.frame)
            assert isinstance(pdu, smpp.SubmitSm)
            row_id = self.next_row_id
            self.next_row_id += 1
            message_id = format(row_id, "x")  # the default message_id_format, hex
            content = pdu.short_message
            segment_text = text.decode_text(content, text.encoding_for_data_coding(pdu.data_coding))
            # A single-part message is its own whole text (gateway.submit): message_text is the segment's text.
            rows.append(MessageRow(
                id=row_id, message_id=message_id, account=ACCOUNT, protocol="smpp",
                session=SESSION_LABELS[offset % len(SESSION_LABELS)], submitted_at=now, source=pdu.source_addr,
                destination=pdu.destination_addr, data_coding=pdu.data_coding, content=content,
                text=segment_text, message_text=segment_text, segment_ref=None, segment_total=1, segment_number=1,
                registered_delivery=pdu.registered_delivery, service_id=pdu.service_type, state="DELIVRD", err=0,
                done_at=done_at, receipt_state=receipt_state, receipt_due=receipt_due))
            responses.append(encode(pdu.response(message_id=message_id)))
        return rows, responses

    def _receipts_after(self, rows: Sequence[MessageRow]) -> Callable[[asyncio.Future[None]], None]:
        def send(inserted: asyncio.Future[None]) -> None:
            inserted.result()
            assert self.store is not None
            encode, build, receipt = smpp.encode, smpp.build_receipt, smpp.Receipt
            deliveries = []
            sequences = []
            retry = time.time() + RECEIPT_RETRY_SECONDS  # when an unanswered receipt is sent again
            for row in rows:
                body = build(receipt(
                    id=row.message_id, sub=1, dlvrd=1, submit_date=receipt_minute(row.submitted_at, ZONE),
                    done_date=receipt_minute(row.done_at, ZONE), stat=row.state, err=f"{row.err:03d}",
                    text=row.text[:20]))
                sequence = self.next_deliver_sequence
                self.next_deliver_sequence += 1
                deliveries.append(encode(smpp.DeliverSm(
                    sequence_number=sequence, source_addr=row.destination, destination_addr=row.source,
                    esm_class=smpp.EsmClass.TYPE_DELIVERY_RECEIPT, short_message=body,
                    tlvs=(smpp.Tlv.of("receipted_message_id", row.message_id), DELIVERED_STATE_TLV))))
                self.unanswered[sequence] = row
                sequences.append(sequence)
                self.store.set_receipt(row.id, "sent", retry, 1)
            self.sent_bytes += len(b"".join(deliveries))
            flushed = self.store.flush()
            flushed.add_done_callback(self._acknowledged(sequences))
            self.receipt_flushes.append(flushed)
        return send

    def _acknowledged(self, sequences: Sequence[int]) -> Callable[[asyncio.Future[None]], None]:
        """The partner's answers arrive once "sent" is durable: in the server, a network round trip later."""
        def answer(flushed: asyncio.Future[None]) -> None:
            flushed.result()
            assert self.store is not None
            decode, set_receipt = smpp.decode, self.store.set_receipt
            for sequence in sequences:
                pdu = decode(self.answers[sequence - 1])
                row = self.unanswered.pop(pdu.sequence_number)
                if pdu.command_status == 0:
                    set_receipt(row.id, "acked", None, 1)
        return answer


async def measure(step: str, submits: int, window: int, in_flight: int, workdir: Path) -> StepResult:
    """One run of ``step`` on a fresh database; the clock covers the submits until everything is durable."""
    directory = Path(tempfile.mkdtemp(prefix=f"{step}-", dir=workdir))
    store = await Store.open(directory) if step != "codec" else None
    try:
        floor = Floor(submits, window, in_flight, store=store, receipts=step == "receipts")
        commits_before = store.commits if store is not None else 0
        started_wall, started_cpu, started_loop = time.perf_counter(), time.process_time(), time.thread_time()
        await floor.run()
        cpu, loop_cpu = time.process_time() - started_cpu, time.thread_time() - started_loop
        wall = time.perf_counter() - started_wall
        commits = (store.commits - commits_before) if store is not None else 0
        return StepResult(cpu, loop_cpu, wall, commits, submits)
    finally:
        if store is not None:
            await store.close()
        shutil.rmtree(directory, ignore_errors=True)  # each run starts from an empty database, as hotpath.py


STEPS = (("codec", "codec"), ("store", "+ store"), ("receipts", "+ receipts"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--submits", type=int, default=200_000)
    parser.add_argument("--window", type=int, default=256,
                        help="submits per insert_messages (default: 4 sessions x window 64)")
    parser.add_argument("--in-flight", type=int, default=4,
                        help="inserts outstanding at once; above 1, commits grow bigger than the server's, whose "
                             "4 x 64 outstanding submits cap a commit at 256")
    args = parser.parse_args()
    if args.submits < 1 or args.window < 1 or args.in_flight < 1:
        parser.error("--submits, --window and --in-flight must be >= 1")
    print(f"Python {sys.version.split()[0]}, SQLite {sqlite3.sqlite_version}; {args.submits:,} submits per run, "
          f"window {args.window}, {args.in_flight} inserts in flight, best of {ROUNDS}")
    load_before = os.getloadavg()
    workdir = Path(tempfile.mkdtemp(prefix="smsclab-floor-"))
    best: dict[str, StepResult] = {}
    try:
        for _ in range(ROUNDS):
            for step, _label in STEPS:
                result = asyncio.run(measure(step, args.submits, args.window, args.in_flight, workdir))
                if step not in best or result.us_per_submit < best[step].us_per_submit:
                    best[step] = result
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    load_after = os.getloadavg()
    print(f"{'step':<12}{'us/submit':>11}{'one-core/s':>12}{'loop us':>9}{'commits':>9}{'per commit':>12}"
          f"{'wall s':>8}")
    for step, label in STEPS:
        result = best[step]
        per_commit = f"{result.submits / result.commits:,.0f}" if result.commits else "-"
        print(f"{label:<12}{result.us_per_submit:>11.2f}{1e6 / result.us_per_submit:>12,.0f}"
              f"{result.loop_us_per_submit:>9.2f}{result.commits:>9,}{per_commit:>12}{result.wall_seconds:>8.2f}")
    print("us/submit: process CPU (all threads) per submit; one-core/s = 1e6 / us/submit; loop us: the event "
          "loop's thread alone; the receipts row counts each message's receipt with its submit")
    print(f"load average before {' '.join(f'{value:.2f}' for value in load_before)}, "
          f"after {' '.join(f'{value:.2f}' for value in load_after)}")
    under = [label for step, label in STEPS if best[step].us_per_submit <= BUDGET_US]
    print(f"{TARGET_PER_SECOND:,}/s on one core is a budget of {BUDGET_US:g} us per submit; under it: "
          f"{', '.join(under) if under else 'none'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
