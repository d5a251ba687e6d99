"""The two error families of the protocol core.

Theory of operation (after h11's ``LocalProtocolError`` / ``RemoteProtocolError``):

* :class:`RemoteProtocolError` means the *peer* broke the protocol. It carries what the peer is to be
  told: ``code`` is the SMPP ``command_status`` or CMPP ``Result``/``Status`` to answer with, or ``None``
  when the protocol has no in-band answer and the connection must be closed (a CMPP frame whose length
  cannot be trusted, for instance). ``command_id`` and ``sequence`` say which request the answer belongs
  to, when the header could be read.
* :class:`LocalProtocolError` means *we* (the caller of the core) asked for something the protocol does
  not allow: a field too long for its wire slot, a PDU that is illegal in the session's state. It is a
  bug in the caller and is raised, never sent.

Messages are stable strings without ids or sequence numbers, because load tools group failures by them.
"""

from __future__ import annotations

__all__ = ["LocalProtocolError", "ProtocolError", "RemoteProtocolError"]


class ProtocolError(Exception):
    """Base of both families; never raised itself."""


class RemoteProtocolError(ProtocolError):
    """The peer sent something the protocol forbids.

    :param message: what is wrong, stable text.
    :param code: the status/result code to answer with, or ``None`` to close without an answer.
    :param command_id: command id of the offending PDU, when its header was readable.
    :param sequence: its sequence number, when readable (SMPP §4.3: NULL when undecodable).
    :param offset: byte offset into the frame where the problem was found, when known.
    :param field: name of the field being read, when known.
    """

    def __init__(
        self,
        message: str,
        *,
        code: int | None,
        command_id: int | None = None,
        sequence: int | None = None,
        offset: int | None = None,
        field: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.command_id = command_id
        self.sequence = sequence
        self.offset = offset
        self.field = field

    def where(self) -> str:
        """Human-readable location: ``"byte 42, field source_addr"`` (empty when unknown)."""
        parts = []
        if self.offset is not None:
            parts.append(f"byte {self.offset}")
        if self.field is not None:
            parts.append(f"field {self.field}")
        return ", ".join(parts)

    def __str__(self) -> str:
        where = self.where()
        return f"{self.message} ({where})" if where else self.message


class LocalProtocolError(ProtocolError):
    """We tried to do something the protocol forbids (a caller bug): raised, never sent."""
