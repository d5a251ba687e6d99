"""Length-prefixed frame splitting, shared by every protocol of the family.

SMPP, CMPP, SGIP and SMGP all open each PDU with a 32-bit big-endian length that counts itself
(SMPP v3.4 §3.2 ``command_length``; CMPP 3.0 §8.3 ``Total_Length``). TCP does not keep PDU boundaries,
so bytes arrive split or coalesced in any way (SMPP v3.4 §2.4; the smpp34 1.4.1 bind-handshake bug).

The rule that keeps a server alive: the announced length is checked against ``[min_length,
max_length]`` *before* a single body byte is buffered (Jasmin's test SMSC looped forever on a length of
0; a ``readexactly(0x7FFFFFF0)`` buffers whatever arrives). After a bad length the stream can no longer be
resynchronised, so the buffer refuses all further input and the driver closes the connection once it
has sent the answer the error carries.
"""

from __future__ import annotations

from .errors import RemoteProtocolError

__all__ = ["LENGTH_FIELD_SIZE", "FrameBuffer", "FramingError"]

LENGTH_FIELD_SIZE = 4


class FramingError(RemoteProtocolError):
    """The peer announced a frame length outside the allowed bounds; the stream is unusable."""


class FrameBuffer:
    """Splits a byte stream into whole frames, each including its length field.

    :param min_length: the smallest legal length (the header size: 16 for SMPP, 12 for CMPP).
    :param max_length: the largest frame accepted.
    :param error_code: what the peer is told on a bad length (SMPP ``ESME_RINVCMDLEN``), or ``None`` where
        the protocol has no answer and the connection is simply closed (CMPP).
    :param sequence_offset: where the header keeps the sequence number (SMPP 12, CMPP 8), so that the
        answer to a bad length can echo it when it was received.
    """

    __slots__ = ("_buffer", "_error", "error_code", "max_length", "min_length", "sequence_offset")

    def __init__(
        self, *, min_length: int, max_length: int, error_code: int | None, sequence_offset: int
    ) -> None:
        if not LENGTH_FIELD_SIZE <= min_length <= max_length:
            raise ValueError(f"need {LENGTH_FIELD_SIZE} <= min_length <= max_length")
        self.min_length = min_length
        self.max_length = max_length
        self.error_code = error_code
        self.sequence_offset = sequence_offset
        self._buffer = bytearray()
        self._error: FramingError | None = None

    @property
    def buffered(self) -> int:
        """Bytes held that do not yet make a whole frame."""
        return len(self._buffer)

    def feed(self, data: bytes) -> list[bytes]:
        """Add ``data`` and return every frame it completes, in order.

        Raises :class:`FramingError` for a length outside the bounds. When one read completes good frames
        and then meets a bad length, the good frames are returned first and the error is raised by the
        next call, so that requests already received are still answered.
        """
        if self._error is not None:
            raise self._error
        buffer = self._buffer
        buffer += data
        frames: list[bytes] = []
        start = 0
        available = len(buffer)
        while available - start >= LENGTH_FIELD_SIZE:
            length = int.from_bytes(buffer[start : start + LENGTH_FIELD_SIZE], "big")
            if length < self.min_length or length > self.max_length:
                self._error = self._bad_length(length, buffer, start)
                break
            if available - start < length:
                break
            frames.append(bytes(buffer[start : start + length]))
            start += length
        if self._error is not None:
            # Nothing after a bad length can be trusted: drop it so no claimed size is ever held.
            buffer.clear()
            if not frames:
                raise self._error
        elif start:
            del buffer[:start]
        return frames

    def _bad_length(self, length: int, buffer: bytearray, start: int) -> FramingError:
        # The header may be complete enough to name the command and sequence the answer belongs to
        # (SMPP §4.3: the original sequence_number when it can be read, NULL otherwise).
        command_id = sequence = None
        held = len(buffer) - start
        if held >= 8:
            command_id = int.from_bytes(buffer[start + 4 : start + 8], "big")
        seq_at = start + self.sequence_offset
        if held >= self.sequence_offset + 4:
            sequence = int.from_bytes(buffer[seq_at : seq_at + 4], "big")
        return FramingError(
            f"frame length {length} outside [{self.min_length}, {self.max_length}]",
            code=self.error_code,
            command_id=command_id,
            sequence=sequence,
            offset=0,
            field="length",
        )
