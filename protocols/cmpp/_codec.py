"""Private: the CMPP wire layouts in Construct, and the bytes <-> field-dict codec around them.

:mod:`.pdus` maps the field dicts to and from the PDU dataclasses; nothing outside this module sees
Construct.

Theory of operation
-------------------
Each SP-link command has one body layout per wire format (2.0 for Version 0x20/0x21, 3.0 for 0x30), written
below as a table of ``(attribute, spec name, kind)`` rows in wire order (CMPP 2.0 §7.4, CMPP 3.0 §8.4). A
kind pairs the Construct that lays the field out with the check a value must pass to be built. DestUsr_tl and
Msg_Length are *derived*: Construct rebuilds them from the list and the content they count, so they are not
PDU fields.

Parsing runs the Struct, which ends in ``Terminated`` so that a body longer than its fields fails too. When it
fails, :meth:`_Layout._explain` walks the same rows again, sizing each from the values already read, and names
the first field that breaks, with its offset and the result the peer is to be told:

* 1 "消息结构错" (message structure error): the body ends inside a field, bytes follow the last field, or
  DestUsr_tl is 0 or counts more numbers than the frame holds;
* 4 "消息长度错" (bad message length): Msg_Length disagrees with what Total_Length leaves for the content.

The explaining walk only runs on the error path; a good PDU costs one Construct parse. No Construct exception
leaves this module: parsing failures become :class:`RemoteProtocolError`, and values are checked before
building, so a bad value is a :class:`LocalProtocolError` naming the spec field.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Mapping
from contextlib import suppress
from dataclasses import dataclass
from typing import Any, Final, Literal

from construct import (
    Adapter,
    Array,
    Bytes,
    ConstructError,
    Int8ub,
    Int32ub,
    Int64ub,
    Rebuild,
    SizeofError,
    Struct,
    Terminated,
    len_,
    this,
)

from protocols.errors import LocalProtocolError, RemoteProtocolError
from protocols.framing import FrameBuffer

from .codes import CommandId, DeliverResult, SubmitResult, Version

__all__ = [
    "DEFAULT_MAX_FRAME",
    "HEADER_SIZE",
    "build_frame",
    "build_report_fields",
    "field_names",
    "frame_buffer",
    "parse_frame",
    "parse_report_fields",
    "wire_is_v3",
]

# Total_Length u4, Command_Id u4, Sequence_Id u4 (CMPP 3.0 §8.3).
HEADER_SIZE: Final = 12

# The largest PDU the spec allows is a 3.0 SUBMIT to 99 recipients (DestUsr_tl < 100) with 159 bytes of ASCII
# (Msg_Fmt 0: < 160): 163 + 32 * 99 + 159 = 3490 bytes. 4096 admits it with room to spare and bounds what one
# connection can make us buffer. (Wireshark's heuristic stops at 1000, which a large group send exceeds.)
DEFAULT_MAX_FRAME: Final = 4096

# The header is read and written for every frame and has nothing to check field by field, so it goes through
# the stdlib ``struct`` (some 80 times faster than a Construct Struct of three Int32ub); bodies use Construct.
_HEADER = struct.Struct(">III")  # Total_Length, Command_Id, Sequence_Id

# Results for a body that does not fit its layout (CMPP 3.0 §8.4.3.2; DELIVER_RESP and CONNECT_RESP use
# the same numbers for these two).
_STRUCTURE = SubmitResult.MESSAGE_STRUCTURE
_LENGTH = SubmitResult.MESSAGE_LENGTH

# The requests whose response has a field to carry that result: CONNECT_RESP Status, SUBMIT_RESP and
# DELIVER_RESP Result, CANCEL_RESP Success_Id (1 = failure). TERMINATE, QUERY and ACTIVE_TEST responses have
# no such field and a malformed response has no answer at all, so their errors carry code None: close.
_ANSWERABLE: Final = frozenset({CommandId.CONNECT, CommandId.SUBMIT, CommandId.DELIVER, CommandId.CANCEL})


def wire_is_v3(version: Version | int) -> bool:
    """Whether ``version`` selects the 3.0 layout: 0x20-0x2F share the 2.0 layout, 0x30 is 3.0 (cmpp.md §10).

    Any other value is a caller bug (the version comes from our own configuration or negotiation).
    """
    if isinstance(version, int):
        if version == Version.V30:
            return True
        if Version.V20 <= version < Version.V30:
            return False
    raise LocalProtocolError(f"no CMPP wire layout for version {version!r}")


class _Text(Adapter):  # type: ignore[misc]  # construct ships no type information
    """A fixed-width octet string as text (CMPP 3.0 §8.1): left-aligned and NUL-padded on the right.

    Latin-1 maps every byte to one character and back, so whatever a peer puts in a slot survives decode and
    re-encode byte for byte. Only trailing NULs are padding; interior ones are kept.
    """

    def __init__(self, width: int) -> None:
        super().__init__(Bytes(width))
        self.width = width

    def _decode(self, obj: bytes, context: object, path: object) -> str:
        return obj.rstrip(b"\0").decode("latin-1")

    def _encode(self, obj: str, context: object, path: object) -> bytes:
        return obj.encode("latin-1").ljust(self.width, b"\0")


_Check = Callable[[object, str], None]


@dataclass(frozen=True, slots=True)
class _Kind:
    """How a field is laid out (``con``) and what a value must satisfy to be built (``check``)."""

    con: Any
    check: _Check | None
    # Set for the fields Construct rebuilds from the field they describe; they are not PDU attributes.
    derived: Literal["count", "length"] | None = None


_FieldRow = tuple[str, str, _Kind]  # (attribute, spec name, kind)

_UINTS: Final = {1: Int8ub, 4: Int32ub, 8: Int64ub}


def _uint_check(size: int) -> _Check:
    limit = 1 << (8 * size)

    def check(value: object, name: str) -> None:
        if not isinstance(value, int) or not 0 <= value < limit:
            raise LocalProtocolError(f"{name} must be an integer from 0 to {limit - 1}")

    return check


def _uint(size: int) -> _Kind:
    return _Kind(_UINTS[size], _uint_check(size))


def _text_check(width: int) -> _Check:
    def check(value: object, name: str) -> None:
        if not isinstance(value, str):
            raise LocalProtocolError(f"{name} must be str")
        try:
            raw = value.encode("latin-1")
        except UnicodeEncodeError:
            raise LocalProtocolError(f"{name} must be Latin-1 text (one byte per character)") from None
        if len(raw) > width:
            raise LocalProtocolError(f"{name} is longer than its {width}-byte field")
        if raw.endswith(b"\0"):
            # The padding would swallow it, and the value would not come back from decode.
            raise LocalProtocolError(f"{name} must not end with NUL")

    return check


def _text(width: int) -> _Kind:
    return _Kind(_Text(width), _text_check(width))


def _numbers(width: int) -> _Kind:
    """Dest_terminal_Id: DestUsr_tl numbers of ``width`` bytes each."""
    number = _text_check(width)

    def check(value: object, name: str) -> None:
        if not isinstance(value, tuple | list) or not 1 <= len(value) <= 255:
            raise LocalProtocolError(f"{name} needs 1 to 255 numbers (DestUsr_tl is one byte and not 0)")
        for item in value:
            number(item, name)

    return _Kind(Array(this.dest_usr_tl, _Text(width)), check)


def _octets(width: int) -> _Kind:
    """Binary fields of fixed width (the MD5 authenticators)."""

    def check(value: object, name: str) -> None:
        if not isinstance(value, bytes) or len(value) != width:
            raise LocalProtocolError(f"{name} must be exactly {width} bytes")

    return _Kind(Bytes(width), check)


def _check_content(value: object, name: str) -> None:
    if not isinstance(value, bytes) or len(value) > 255:
        raise LocalProtocolError(f"{name} must be at most 255 bytes (Msg_Length is one byte)")


_U1, _U4, _U8 = _uint(1), _uint(4), _uint(8)
_check_sequence_id = _uint_check(4)
_DEST_USR_TL = _Kind(Rebuild(Int8ub, len_(this.dest_terminal_id)), None, "count")
_MSG_LENGTH = _Kind(Rebuild(Int8ub, len_(this.msg_content)), None, "length")
_MSG_CONTENT = _Kind(Bytes(this.msg_length), _check_content)


class _MalformedError(Exception):
    """A body that does not fit its layout: what is wrong, where, and the result to answer."""

    def __init__(self, result: int, message: str, offset: int, field: str) -> None:
        super().__init__(message)
        self.result = result
        self.message = message
        self.offset = offset
        self.field = field


class _Layout:
    """One body in one wire layout: the Construct Struct and the rows it was made from."""

    __slots__ = ("attrs", "counts", "name", "rows", "struct")

    def __init__(self, name: str, rows: tuple[_FieldRow, ...]) -> None:
        self.name = name
        self.rows = rows
        self.struct = Struct(*(attr / kind.con for attr, _, kind in rows), Terminated)
        self.attrs = tuple(attr for attr, _, kind in rows if kind.derived is None)
        self.counts = tuple(attr for attr, _, kind in rows if kind.derived == "count")

    def parse(self, body: bytes) -> dict[str, Any]:
        try:
            container = self.struct.parse(body)
        except ConstructError:
            raise self._explain(body) from None
        # A zero count parses (an empty list) but is illegal: a SUBMIT must name a recipient.
        if any(container[attr] == 0 for attr in self.counts):
            raise self._explain(body)
        return {attr: _plain(container[attr]) for attr in self.attrs}

    def build(self, values: Mapping[str, object]) -> bytes:
        for attr, spec, kind in self.rows:
            if kind.check is not None:
                kind.check(values[attr], spec)
        return bytes(self.struct.build(values))

    def _explain(self, body: bytes) -> _MalformedError:
        """Name the first field of ``body`` that breaks this layout.

        Only called for a body that failed to parse or has a zero count, so one of the checks fires: at the
        latest the last one, since a body whose every field fits and which has nothing left over parses.
        """
        context: dict[str, Any] = {}
        pos = 0
        for index, (attr, spec, kind) in enumerate(self.rows):
            size = kind.con.sizeof(**context)
            if pos + size > len(body):
                return _MalformedError(_STRUCTURE, f"{self.name} ends inside {spec}", pos, spec)
            value = context[attr] = kind.con.parse(body[pos : pos + size], **context)
            if kind.derived is not None:
                # Everything after this field, at its smallest: exact once Msg_Length is known.
                end = pos + size + _least_size(self.rows[index + 1 :], context)
                if kind.derived == "count" and value == 0:
                    return _MalformedError(_STRUCTURE, f"{spec} is 0", pos, spec)
                if kind.derived == "count" and end > len(body):
                    return _MalformedError(_STRUCTURE, f"{spec} counts more than the frame holds", pos, spec)
                if kind.derived == "length" and end != len(body):
                    return _MalformedError(_LENGTH, f"{spec} disagrees with Total_Length", pos, spec)
            pos += size
        return _MalformedError(_STRUCTURE, f"{self.name} has bytes after its last field", pos, "Total_Length")


def _least_size(rows: tuple[_FieldRow, ...], context: Mapping[str, Any]) -> int:
    total = 0
    for _, _, kind in rows:
        # A size that depends on a value not read yet (Msg_Content before Msg_Length) is at least 0.
        with suppress(SizeofError):
            total += kind.con.sizeof(**context)
    return total


def _plain(value: object) -> object:
    """Construct's list type becomes the tuple the PDUs hold; everything else is already int, str or bytes."""
    return tuple(value) if isinstance(value, list) else value


def _bodies(v3: bool) -> dict[int, _Layout]:
    """Every SP-link body in one wire layout (CMPP 2.0 §7.4 when ``v3`` is false, CMPP 3.0 §8.4 otherwise)."""
    # 3.0 widened every response status to 4 bytes and every terminal number to 32 (3.0 revision items 1-31).
    status = _uint(4 if v3 else 1)
    terminal = 32 if v3 else 21
    # 3.0 replaced the 8-byte Reserve of SUBMIT and DELIVER with a 20-byte LinkID.
    tail = ("link_id", "LinkID", _text(20)) if v3 else ("reserve", "Reserve", _text(8))

    def since_v3(*rows: _FieldRow) -> tuple[_FieldRow, ...]:
        return rows if v3 else ()

    bodies: dict[CommandId, tuple[_FieldRow, ...]] = {
        # §8.4.1.1 (same in every version, so that the version can be negotiated in it).
        CommandId.CONNECT: (
            ("source_addr", "Source_Addr", _text(6)),
            ("authenticator_source", "AuthenticatorSource", _octets(16)),
            ("version", "Version", _U1),
            ("timestamp", "Timestamp", _U4),
        ),
        CommandId.CONNECT_RESP: (  # §8.4.1.2
            ("status", "Status", status),
            ("authenticator_ismg", "AuthenticatorISMG", _octets(16)),
            ("version", "Version", _U1),
        ),
        CommandId.TERMINATE: (),  # §8.4.2: header only
        CommandId.TERMINATE_RESP: (),
        CommandId.SUBMIT: (  # §8.4.3.1
            ("msg_id", "Msg_Id", _U8),
            ("pk_total", "Pk_total", _U1),
            ("pk_number", "Pk_number", _U1),
            ("registered_delivery", "Registered_Delivery", _U1),
            ("msg_level", "Msg_level", _U1),
            ("service_id", "Service_Id", _text(10)),
            ("fee_user_type", "Fee_UserType", _U1),
            ("fee_terminal_id", "Fee_terminal_Id", _text(terminal)),
            *since_v3(("fee_terminal_type", "Fee_terminal_type", _U1)),
            ("tp_pid", "TP_pId", _U1),
            ("tp_udhi", "TP_udhi", _U1),
            ("msg_fmt", "Msg_Fmt", _U1),
            ("msg_src", "Msg_src", _text(6)),
            ("fee_type", "FeeType", _text(2)),
            ("fee_code", "FeeCode", _text(6)),
            ("valid_time", "ValId_Time", _text(17)),
            ("at_time", "At_Time", _text(17)),
            ("src_id", "Src_Id", _text(21)),
            ("dest_usr_tl", "DestUsr_tl", _DEST_USR_TL),
            ("dest_terminal_id", "Dest_terminal_Id", _numbers(terminal)),
            *since_v3(("dest_terminal_type", "Dest_terminal_type", _U1)),
            ("msg_length", "Msg_Length", _MSG_LENGTH),
            ("msg_content", "Msg_Content", _MSG_CONTENT),
            tail,
        ),
        CommandId.SUBMIT_RESP: (("msg_id", "Msg_Id", _U8), ("result", "Result", status)),  # §8.4.3.2
        CommandId.QUERY: (  # §8.4.4.1
            ("time", "Time", _text(8)),
            ("query_type", "Query_Type", _U1),
            ("query_code", "Query_Code", _text(10)),
            ("reserve", "Reserve", _text(8)),
        ),
        CommandId.QUERY_RESP: (  # §8.4.4.2
            ("time", "Time", _text(8)),
            ("query_type", "Query_Type", _U1),
            ("query_code", "Query_Code", _text(10)),
            ("mt_tlmsg", "MT_TLMsg", _U4),
            ("mt_tlusr", "MT_Tlusr", _U4),
            ("mt_scs", "MT_Scs", _U4),
            ("mt_wt", "MT_WT", _U4),
            ("mt_fl", "MT_FL", _U4),
            ("mo_scs", "MO_Scs", _U4),
            ("mo_wt", "MO_WT", _U4),
            ("mo_fl", "MO_FL", _U4),
        ),
        CommandId.DELIVER: (  # §8.4.5.1
            ("msg_id", "Msg_Id", _U8),
            ("dest_id", "Dest_Id", _text(21)),
            ("service_id", "Service_Id", _text(10)),
            ("tp_pid", "TP_pid", _U1),
            ("tp_udhi", "TP_udhi", _U1),
            ("msg_fmt", "Msg_Fmt", _U1),
            ("src_terminal_id", "Src_terminal_Id", _text(terminal)),
            *since_v3(("src_terminal_type", "Src_terminal_type", _U1)),
            ("registered_delivery", "Registered_Delivery", _U1),
            ("msg_length", "Msg_Length", _MSG_LENGTH),
            ("msg_content", "Msg_Content", _MSG_CONTENT),
            tail,
        ),
        CommandId.DELIVER_RESP: (("msg_id", "Msg_Id", _U8), ("result", "Result", status)),  # §8.4.5.2
        CommandId.CANCEL: (("msg_id", "Msg_Id", _U8),),  # §8.4.6.1
        CommandId.CANCEL_RESP: (("success_id", "Success_Id", status),),  # §8.4.6.2
        CommandId.ACTIVE_TEST: (),  # §8.4.7.1: header only
        # §8.4.7.2: one Reserved byte in 2.0 and 3.0 alike.
        CommandId.ACTIVE_TEST_RESP: (("reserved", "Reserved", _U1),),
    }
    return {command: _Layout(command.spec_name, rows) for command, rows in bodies.items()}


_BODIES: Final = {v3: _bodies(v3) for v3 in (False, True)}


def _report(v3: bool) -> _Layout:
    """Status-report Msg_Content when Registered_Delivery = 1 (CMPP 2.0 §7.4.5.1, CMPP 3.0 §8.4.5.1)."""
    return _Layout(
        "status report",
        (
            ("msg_id", "Msg_Id", _U8),
            ("stat", "Stat", _text(7)),
            ("submit_time", "Submit_time", _text(10)),
            ("done_time", "Done_time", _text(10)),
            ("dest_terminal_id", "Dest_terminal_Id", _text(32 if v3 else 21)),
            ("smsc_sequence", "SMSC_sequence", _U4),
        ),
    )


_REPORTS: Final = {v3: _report(v3) for v3 in (False, True)}
# Real gateways put 60-byte (2.0) reports inside 3.0 DELIVERs (cmpp.md §2.7): parsing goes by size, not
# by version.
_REPORTS_BY_SIZE: Final = {60: _REPORTS[False], 71: _REPORTS[True]}


def parse_frame(frame: bytes, version: Version | int) -> tuple[int, int, dict[str, Any]]:
    """Split one whole frame into ``(command_id, sequence_id, fields)`` in the layout of ``version``.

    Raises :class:`RemoteProtocolError` for anything malformed, whatever the bytes (see ``pdus.decode``).
    """
    bodies = _BODIES[wire_is_v3(version)]
    if len(frame) < HEADER_SIZE:
        raise RemoteProtocolError("frame shorter than the header", code=None, offset=0, field="Total_Length")
    total_length, command_id, sequence = _HEADER.unpack_from(frame)
    if total_length != len(frame):
        # The framer guarantees this; a caller that bypasses it gets a frame whose bounds cannot be trusted.
        raise RemoteProtocolError(
            "Total_Length disagrees with the frame size",
            code=None,
            command_id=command_id,
            sequence=sequence,
            offset=0,
            field="Total_Length",
        )
    layout = bodies.get(command_id)
    if layout is None:
        # Result 2 "命令字错" can only travel in the response to a known request; an unknown Command_Id has no
        # response to carry it, so the answer is to close (code None).
        raise RemoteProtocolError(
            "unknown Command_Id",
            code=None,
            command_id=command_id,
            sequence=sequence,
            offset=4,
            field="Command_Id",
        )
    try:
        return command_id, sequence, layout.parse(frame[HEADER_SIZE:])
    except _MalformedError as problem:
        raise RemoteProtocolError(
            problem.message,
            code=problem.result if command_id in _ANSWERABLE else None,
            command_id=command_id,
            sequence=sequence,
            offset=HEADER_SIZE + problem.offset,
            field=problem.field,
        ) from None


def field_names(command_id: int, version: Version | int) -> tuple[str, ...]:
    """The PDU attributes the command's body carries in the layout of ``version``, in wire order."""
    return _BODIES[wire_is_v3(version)][command_id].attrs


def build_frame(
    command_id: int, sequence_id: int, values: Mapping[str, object], version: Version | int
) -> bytes:
    """Lay out one whole frame; :class:`LocalProtocolError` naming the field for a value that does not fit.

    ``values`` holds at least the :func:`field_names` of the command in that layout.
    """
    layout = _BODIES[wire_is_v3(version)][command_id]
    _check_sequence_id(sequence_id, "Sequence_Id")
    body = layout.build(values)
    return _HEADER.pack(HEADER_SIZE + len(body), command_id, sequence_id) + body


def parse_report_fields(content: bytes) -> dict[str, Any]:
    """Fields of a 60-byte (2.0) or 71-byte (3.0) status report, whichever the size says."""
    layout = _REPORTS_BY_SIZE.get(len(content))
    if layout is None:
        raise RemoteProtocolError(
            "status report must be 60 or 71 bytes",
            code=DeliverResult.MESSAGE_STRUCTURE,
            offset=0,
            field="Msg_Content",
        )
    return layout.parse(content)


def build_report_fields(values: Mapping[str, object], version: Version | int) -> bytes:
    """A status report in the version's layout: 60 bytes for 2.0, 71 for 3.0."""
    return _REPORTS[wire_is_v3(version)].build(values)


def frame_buffer(max_length: int = DEFAULT_MAX_FRAME) -> FrameBuffer:
    """A :class:`FrameBuffer` for CMPP (CMPP 3.0 §8.3): frames of 12 to ``max_length`` bytes.

    CMPP has no in-band answer to a length it cannot trust (there is no generic NACK), so ``error_code`` is
    None: the driver closes the connection.
    """
    return FrameBuffer(min_length=HEADER_SIZE, max_length=max_length, error_code=None, sequence_offset=8)
