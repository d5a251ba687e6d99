"""The ceiling: the least an SMPP server in Python can do per submit, as a separate process (figures, not a product).

Usage: python bench/responder.py [--host 127.0.0.1] [--port 0] [--no-uvloop]

An asyncio Protocol that frames SMPP PDUs with ``struct`` and answers with fixed responses: bind_* gets a
bind_*_resp, submit_sm a submit_sm_resp with one fixed message id, enquire_link and unbind their responses,
anything else a generic_nack. No codec, no session state, no store: whatever a real gateway does on top of this
is what the benchmarks compare against it.

It uses the two techniques that decide a Python server's throughput on small PDUs (shared/reference/
performance.md section 3.2): every complete frame of one read is answered, and the answers of one read leave in
one write. uvloop is used when it is installed, unless ``--no-uvloop``.

Once listening it prints one line, ``READY <port> <loop>``, and flushes it: the benchmark reads the port from
it (``--port 0`` lets the kernel choose, so there is no race for a free port). SIGTERM or SIGINT stops it.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import socket
import struct
import sys
from typing import cast

HEADER = struct.Struct(">IIII")  # command_length, command_id, command_status, sequence_number
LENGTH_AND_ID = struct.Struct(">II")
HEADER_SIZE = HEADER.size
MAX_FRAME = 64 * 1024

RESPONSE_BIT = 0x80000000
GENERIC_NACK = 0x80000000
SUBMIT_SM = 0x00000004
ESME_RINVCMDID = 0x00000003
ESME_RINVCMDLEN = 0x00000002

SYSTEM_ID = b"responder\x00"
MESSAGE_ID = b"1\x00"
#: Body of the response to each request answered OK; a request missing here gets a generic_nack.
BODIES = {
    0x00000001: SYSTEM_ID,  # bind_receiver
    0x00000002: SYSTEM_ID,  # bind_transmitter
    0x00000009: SYSTEM_ID,  # bind_transceiver
    SUBMIT_SM: MESSAGE_ID,
    0x00000015: b"",  # enquire_link
    0x00000006: b"",  # unbind
}
#: The submit_sm_resp with sequence number 0: each answer is this with the sequence number patched in.
SUBMIT_RESP = HEADER.pack(HEADER_SIZE + len(MESSAGE_ID), SUBMIT_SM | RESPONSE_BIT, 0, 0) + MESSAGE_ID
SUBMIT_RESP_PREFIX = SUBMIT_RESP[:12]


class Responder(asyncio.Protocol):
    """One connection: every complete PDU of a read is answered, all answers in one write."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buffer = b""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        transport = cast(asyncio.Transport, transport)  # uvloop's transport is no asyncio.Transport subclass
        self.transport = transport
        sock = transport.get_extra_info("socket")
        if sock is not None:
            # The answers are small: without this the kernel may hold them back waiting for more (Nagle).
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def data_received(self, data: bytes) -> None:
        buffer = self.buffer + data if self.buffer else data
        end = len(buffer)
        position = 0
        answers: list[bytes] = []
        unpack = LENGTH_AND_ID.unpack_from
        while end - position >= HEADER_SIZE:
            length, command_id = unpack(buffer, position)
            if not HEADER_SIZE <= length <= MAX_FRAME:
                # Nothing after a broken length can be framed: say so once and hang up.
                answers.append(HEADER.pack(HEADER_SIZE, GENERIC_NACK, ESME_RINVCMDLEN, 0))
                self._finish(answers)
                self.transport.close()  # type: ignore[union-attr]
                return
            if end - position < length:
                break
            if command_id == SUBMIT_SM:  # the hot path: copy the sequence number into the fixed answer
                answers.append(SUBMIT_RESP_PREFIX + buffer[position + 12:position + 16] + MESSAGE_ID)
            else:
                sequence = HEADER.unpack_from(buffer, position)[3]
                body = BODIES.get(command_id)
                if body is None:
                    answers.append(HEADER.pack(HEADER_SIZE, GENERIC_NACK, ESME_RINVCMDID, sequence))
                else:
                    answers.append(HEADER.pack(HEADER_SIZE + len(body), command_id | RESPONSE_BIT, 0, sequence)
                                   + body)
            position += length
        self.buffer = buffer[position:] if position < end else b""
        self._finish(answers)

    def _finish(self, answers: list[bytes]) -> None:
        if answers and self.transport is not None:
            self.transport.write(b"".join(answers))


def install_uvloop(wanted: bool) -> str:
    """The name of the event loop in use: uvloop when it is installed and wanted, else asyncio."""
    if wanted:
        try:
            import uvloop  # noqa: PLC0415  (optional dependency, only here)
        except ImportError:
            return "asyncio"
        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
        return "uvloop"
    return "asyncio"


async def serve(host: str, port: int, loop_name: str) -> None:
    loop = asyncio.get_running_loop()
    stop = loop.create_future()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, lambda: stop.done() or stop.set_result(None))
    server = await loop.create_server(Responder, host, port, backlog=1024)
    bound = server.sockets[0].getsockname()[1]
    print(f"READY {bound} {loop_name}", flush=True)
    async with server:
        await stop


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0: a free port, printed in the READY line")
    parser.add_argument("--no-uvloop", action="store_true", help="plain asyncio even when uvloop is installed")
    args = parser.parse_args()
    loop_name = install_uvloop(not args.no_uvloop)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(args.host, args.port, loop_name))
    return 0


if __name__ == "__main__":
    sys.exit(main())
