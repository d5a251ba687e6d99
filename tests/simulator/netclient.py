"""A partner for tests: our own sans-IO client session over a real TCP connection to the simulator."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
import time
from typing import Any

from protocols import cmpp, smpp
from protocols.cmpp.session import CmppSession
from protocols.session import Role, Timing
from protocols.smpp.session import SmppSession

# The client never probes on its own unless a test asks: its keep-alive must not muddle what we observe.
QUIET = Timing(keepalive_interval=None, response_timeout=60.0, keepalive_attempts=3, window=64, peer_window=64)


class NetClient:
    """Send PDUs, collect what comes back; ``auto_answer`` acknowledges deliveries like a real partner."""

    def __init__(self, session: Any, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.session = session
        self.reader = reader
        self.writer = writer
        self.events: list[Any] = []
        self.auto_answer = True
        self.closed_by_peer = False

    @classmethod
    async def smpp(cls, endpoint: tuple[str, int], **kwargs: Any) -> NetClient:
        reader, writer = await asyncio.open_connection(*endpoint)
        return cls(SmppSession(role=Role.CLIENT, now=time.time(), timing=QUIET, **kwargs), reader, writer)

    @classmethod
    async def cmpp(cls, endpoint: tuple[str, int], version: cmpp.Version = cmpp.Version.V30) -> NetClient:
        reader, writer = await asyncio.open_connection(*endpoint)
        return cls(CmppSession(role=Role.CLIENT, now=time.time(), version=version, timing=QUIET), reader, writer)

    def send(self, pdu: Any) -> Any:
        """Send one PDU (a request gets the next sequence number); returns it as sent."""
        if not self.session._is_response(pdu) and self.session._sequence_of(pdu) == 0:
            pdu = self.session._with_sequence(pdu, self.session.next_sequence())
        self.writer.write(self.session.send(pdu, time.time()))
        return pdu

    def send_raw(self, data: bytes) -> None:
        """Bytes our own session would refuse to send (a second bind, a chosen sequence number)."""
        self.writer.write(data)

    async def read_raw(self, codec: Any, count: int = 1, timeout: float = 5.0) -> list[Any]:
        """The next ``count`` PDUs decoded straight from the wire, bypassing our session's checks."""
        frames = codec.frame_buffer()
        pdus: list[Any] = []
        deadline = time.monotonic() + timeout
        while len(pdus) < count:
            data = await asyncio.wait_for(self.reader.read(65536), max(0.0, deadline - time.monotonic()))
            if not data:
                break
            pdus += [codec.decode(frame) for frame in frames.feed(data)]
        return pdus

    async def pump(self, timeout: float) -> None:
        """Read for up to ``timeout`` seconds (or until the server closes)."""
        deadline = time.monotonic() + timeout
        while (remaining := deadline - time.monotonic()) > 0:
            try:
                data = await asyncio.wait_for(self.reader.read(65536), remaining)
            except TimeoutError:
                return
            if not data:
                self.closed_by_peer = True
                return
            self._feed(data)

    async def expect(self, kind: type, timeout: float = 5.0, count: int = 1) -> list[Any]:
        """Wait until ``count`` events of ``kind`` have arrived; return them (and forget them)."""
        deadline = time.monotonic() + timeout
        while True:
            found = [e for e in self.events if isinstance(e, kind)]
            if len(found) >= count:
                for event in found[:count]:
                    self.events.remove(event)
                return found[:count]
            remaining = deadline - time.monotonic()
            if remaining <= 0 or self.closed_by_peer:
                raise AssertionError(f"expected {count} {kind.__name__}, got {self.events}")
            try:
                data = await asyncio.wait_for(self.reader.read(65536), remaining)
            except TimeoutError:
                continue
            if not data:
                self.closed_by_peer = True
                continue
            self._feed(data)

    def _feed(self, data: bytes) -> None:
        events = self.session.receive_data(data, time.time())
        out = self.session.data_to_send()
        if out:
            self.writer.write(out)
        for event in events:
            self.events.append(event)
            if self.auto_answer and isinstance(event, smpp.DeliverSm | cmpp.Deliver | smpp.Unbind | cmpp.Terminate):
                self.writer.write(self.session.send(event.response(), time.time()))

    async def close(self) -> None:
        self.writer.close()
        with contextlib.suppress(OSError):
            await self.writer.wait_closed()

    def reset(self) -> None:
        """Vanish: close with a TCP RST, as a crashed partner does."""
        sock = self.writer.get_extra_info("socket")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.writer.transport.abort()


def cmpp_connect(account: str = "900001", secret: str = "888888", version: int = 0x30) -> cmpp.Connect:
    timestamp = cmpp.timestamp_from(11, 29, 12, 0, 0)
    return cmpp.Connect(source_addr=account, version=version, timestamp=timestamp,
                        authenticator_source=cmpp.authenticator_source(account, secret, timestamp))
