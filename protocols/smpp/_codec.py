"""SMPP wire codec: one frame of bytes <-> one typed PDU (SMPP v3.4 §3, §4; SMPP 5.0 broadcast PDUs).

Theory of operation
-------------------
Each PDU class has a Construct ``Struct`` describing its body; the 16-octet header is common
(§3.2). Construct gives the declarative layout and the field path; the field types themselves are
small Construct subclasses written here, because the built-in ones cannot say what the spec needs to
say about a bad field: which ``command_status`` to answer, at which offset, in which field. They raise
a private ``_BodyError`` that :func:`decode` turns into :class:`RemoteProtocolError` carrying the
header's command_id and sequence_number, so the session can answer ``<command>_resp`` with that status
(§2.8: body errors are answered by the command's response) or a generic_nack (§3.3: unknown command).
On the build side they raise :class:`LocalProtocolError` directly. Construct ``Container``\\ s never
leave this module: they are mapped by field name onto the frozen dataclasses of :mod:`.pdus`.

Which status for which fault (the spec names codes but rarely ties them to parse faults):

* frame shorter than the header or ``command_length`` != frame size: ``ESME_RINVCMDLEN`` (§4.3);
* unknown command_id: ``ESME_RINVCMDID`` (§3.3, answered with generic_nack);
* the body ends inside a mandatory field (an Integer cut short, a C-Octet String without its NUL
  before the end of the body), or bytes left over after the body of a PDU that takes no TLVs:
  ``ESME_RINVCMDLEN``: the command_length does not fit the command;
* a C-Octet String without NUL within its maximum size (§3.1 note iii: the maximum includes the NUL),
  or a time field that is neither empty nor 16 characters (§7.1): the status Table 5-2 gives for
  that field (``ESME_RINVSYSID``, ``ESME_RINVPASWD``, ``ESME_RINVSRCADR``, ``ESME_RINVDSTADR``,
  ``ESME_RINVMSGID``, ``ESME_RINVSCHED``, ``ESME_RINVEXPIRY`` ...), ``ESME_RINVPARLEN`` for fields
  without one;
* ``sm_length`` above 254 or past the end of the body, or ``short_message`` together with a
  ``message_payload`` TLV (§4.4.1 / §5.3.2.32 "must not be used simultaneously"; the wrong value is the
  non-zero sm_length): ``ESME_RINVMSGLEN``;
* number_of_dests / no_unsuccess above 254 (§4.5.1): ``ESME_RINVNUMDESTS``; a dest_flag other than
  1 or 2: ``ESME_RINVDESTFLAG``;
* the optional part is not a clean sequence of TLVs (a partial TLV header, a length past the end):
  ``ESME_RINVOPTPARSTREAM``; a known TLV whose length its spec forbids: ``ESME_RINVPARLEN``.
  Unknown tags are kept byte-exact (§3.3).

Error responses (reliability F10): SMPP v3.4 §4.4.2 and the bind/data resp clauses say the body of a
response is not returned when command_status is non-zero. :func:`encode` therefore writes only the
header for every response with a non-zero status (its body fields and TLVs are not sent), and
:func:`decode` accepts such a response with or without a body: a well-formed body is kept, a missing
or malformed one leaves the fields at their defaults. A deliver_sm_resp may also omit its body when
successful, since its message_id is unused (§4.6.2).

Fast path: interpreting the Structs costs some 40 µs a PDU, so at import each body Struct is also turned
into a generated decoder and encoder per PDU class (the "fast path" section at the end, with the field
types' ``_emit_fast_*`` twins). :func:`decode` and :func:`encode` run those and fall back to
:func:`decode_reference` and :func:`encode_reference`, the Construct path described above, for anything
they do not accept, so every error still comes from the Construct path.
"""

from __future__ import annotations

import io
import struct
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from types import MappingProxyType
from typing import Any, Final

from construct import Adapter, Construct, Struct, Subconstruct

from protocols._fast import FunctionSource, emit_instance
from protocols.errors import LocalProtocolError, RemoteProtocolError
from protocols.framing import FrameBuffer

from .codes import CommandStatus as St
from .pdus import (
    AlertNotification,
    BindReceiver,
    BindReceiverResp,
    BindTransceiver,
    BindTransceiverResp,
    BindTransmitter,
    BindTransmitterResp,
    BroadcastSm,
    BroadcastSmResp,
    CancelBroadcastSm,
    CancelBroadcastSmResp,
    CancelSm,
    CancelSmResp,
    DataSm,
    DataSmResp,
    DeliverSm,
    DeliverSmResp,
    DestAddress,
    EnquireLink,
    EnquireLinkResp,
    GenericNack,
    Outbind,
    QueryBroadcastSm,
    QueryBroadcastSmResp,
    QuerySm,
    QuerySmResp,
    ReplaceSm,
    ReplaceSmResp,
    SmppPdu,
    SubmitMulti,
    SubmitMultiResp,
    SubmitSm,
    SubmitSmResp,
    Unbind,
    UnbindResp,
    UnsuccessSme,
)
from .tlv import MAX_TLV_VALUE, TLV_SPECS, TLV_TAGS, Tlv

__all__ = [
    "DEFAULT_MAX_FRAME",
    "HEADER_SIZE",
    "PDU_TYPES",
    "decode",
    "decode_reference",
    "encode",
    "encode_reference",
    "frame_buffer",
]

#: command_length, command_id, command_status, sequence_number: four 32-bit integers (§3.2).
HEADER_SIZE: Final = 16
#: Largest frame accepted by default: a message_payload TLV carries up to 64 KiB (its length field is
#: 2 octets, §5.3.2.32), and 512 octets more cover the header, the largest mandatory body (data_sm:
#: 143 octets) and the other TLVs a submit carries. Anything larger cannot be a legitimate SMPP PDU.
DEFAULT_MAX_FRAME: Final = 65536 + 512

_RESPONSE_BIT: Final = 0x80000000  # a response id is its request id with bit 31 set (§5.1.2.1)
_SEQUENCE_OFFSET: Final = 12
_MAX_SHORT_MESSAGE: Final = 254  # §4.4.1: short_message is 0-254 octets
_MAX_DESTINATIONS: Final = 254  # §4.5.1: number_of_dests at most 254; no_unsuccess cannot exceed it
_MESSAGE_PAYLOAD: Final = TLV_TAGS["message_payload"]
_TIME_LENGTH: Final = 16  # §7.1: YYMMDDhhmmsstnnp
#: Legal value lengths of the known tags, and the 2-octet tag and length of every TLV, for the fast path.
_TLV_BOUNDS: Final = {tag: (spec.min_len, spec.max_len) for tag, spec in TLV_SPECS.items()}
_TLV_HEAD: Final = struct.Struct(">HH")


class _BodyError(Exception):
    """A body fault found while parsing; :func:`decode` adds what the header says."""

    def __init__(self, message: str, code: int, offset: int, field: str) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.offset = offset
        self.field = field


def _field(path: str) -> str:
    # Construct's path is "(parsing) -> outer -> field"; the last name is the field being read.
    return path.rpartition(" -> ")[2]


def _read(stream: io.BytesIO, size: int, path: str) -> bytes:
    start = stream.tell()
    data = stream.read(size)
    if len(data) < size:
        raise _BodyError("body ends inside a mandatory field", St.ESME_RINVCMDLEN, start, _field(path))
    return data


def _plain(container: Mapping[str, Any]) -> dict[str, Any]:
    # Struct containers also hold bookkeeping entries such as "_io".
    return {key: value for key, value in container.items() if not key.startswith("_")}


# -- fast-path emitters ----------------------------------------------------------------------------------
# Each field type below also writes its own fast twin (see "fast path" at the end of the module): its
# ``_emit_fast_parse`` emits the lines that read the field from ``frame`` at offset ``p`` (``n`` is the frame
# size) into a local, or return None wherever its ``_parse`` raises (``_Int`` has ``_emit_fast_read`` instead,
# as consecutive integers are bounds-checked together); its ``_emit_fast_build`` says what a
# value must satisfy to be built and how it is written, accepting no value its ``_build`` refuses. ``context``
# maps the Struct's field names to the locals that hold them, as Construct's context does.


@dataclass(frozen=True, slots=True)
class _Piece:
    """How one field is written by a generated encoder: ``checks`` (expressions that must all hold, in order,
    else the reference path is asked), ``setup`` (lines run after every field's checks, before the body is
    formatted) and its part of the body, a bytes %-format ``fmt`` and its ``args``."""

    checks: tuple[str, ...]
    fmt: str
    args: tuple[str, ...]
    setup: tuple[str, ...] = ()


class _Int(Construct):  # type: ignore[misc]
    """Unsigned big-endian Integer of ``size`` octets (SMPP v3.4 §3.1)."""

    def __init__(self, size: int) -> None:
        super().__init__()
        self.size = size

    def _parse(self, stream: io.BytesIO, context: Mapping[str, object], path: str) -> int:
        return int.from_bytes(_read(stream, self.size, path), "big")

    def _build(self, obj: object, stream: io.BytesIO, context: Mapping[str, object], path: str) -> int:
        if not isinstance(obj, int) or isinstance(obj, bool) or not 0 <= obj < 1 << (8 * self.size):
            raise LocalProtocolError(f"{_field(path)} must be an unsigned integer of {self.size} octets")
        stream.write(obj.to_bytes(self.size, "big"))
        return obj

    def _emit_fast_read(self, source: FunctionSource, target: str, at: str) -> None:
        # Integers come in runs; the walker checks once that the whole run fits (_fast_parse_fields).
        if self.size == 1:
            source.line(f"{target} = frame[{at}]")
        else:
            source.line(f'{target} = int.from_bytes(frame[{at} : {at} + {self.size}], "big")')

    def _emit_fast_build(self, source: FunctionSource, value: str, context: Mapping[str, str]) -> _Piece:
        checks = (source.is_integer(value), f"0 <= {value} < {1 << (8 * self.size)}")  # not bool: as _build
        if self.size == 1:
            return _Piece(checks, "%c", (value,))
        return _Piece(checks, "%s", (f'{value}.to_bytes({self.size}, "big")',))


class _COctet(Construct):  # type: ignore[misc]
    """C-Octet String of at most ``max_size`` octets, NUL included (SMPP v3.4 §3.1 note iii).

    ``code`` is the status for a value that is too long. ``fixed`` selects the "Fixed 1 or 17" time
    format of §7.1: a lone NUL or exactly 16 characters and the NUL.
    """

    def __init__(self, max_size: int, code: int, *, fixed: bool = False) -> None:
        super().__init__()
        self.max_size = max_size
        self.code = code
        self.fixed = fixed

    def _parse(self, stream: io.BytesIO, context: Mapping[str, object], path: str) -> str:
        start = stream.tell()
        chunk = stream.read(self.max_size)
        end = chunk.find(b"\0")
        if end < 0:
            if len(chunk) < self.max_size:
                raise _BodyError(
                    "C-Octet String not terminated before the end of the body",
                    St.ESME_RINVCMDLEN,
                    start,
                    _field(path),
                )
            raise _BodyError("C-Octet String longer than its maximum size", self.code, start, _field(path))
        if self.fixed and end not in (0, _TIME_LENGTH):
            raise _BodyError("time field neither empty nor 16 characters", self.code, start, _field(path))
        stream.seek(start + end + 1)
        return chunk[:end].decode("latin-1")

    def _build(self, obj: object, stream: io.BytesIO, context: Mapping[str, object], path: str) -> str:
        name = _field(path)
        if not isinstance(obj, str):
            raise LocalProtocolError(f"{name} must be a str")
        try:
            raw = obj.encode("latin-1")
        except UnicodeEncodeError:
            raise LocalProtocolError(f"{name} must be latin-1 text") from None
        if b"\0" in raw:
            raise LocalProtocolError(f"{name} must not contain NUL")
        if len(raw) >= self.max_size:
            raise LocalProtocolError(f"{name} longer than {self.max_size - 1} characters")
        if self.fixed and len(raw) not in (0, _TIME_LENGTH):
            raise LocalProtocolError(f"{name} must be empty or 16 characters")
        stream.write(raw + b"\0")
        return obj

    def _emit_fast_parse(self, source: FunctionSource, target: str, context: Mapping[str, str]) -> None:
        # The NUL must be within max_size octets (and the body): the chunk _parse reads.
        source.line(f'end = frame.find(b"\\0", p, p + {self.max_size})')
        source.line("if end < 0: return None")
        if self.fixed:
            source.line(f"if end != p and end != p + {_TIME_LENGTH}: return None")
        source.line(f'{target} = frame[p:end].decode("latin-1")')
        source.line("p = end + 1")

    def _emit_fast_build(self, source: FunctionSource, value: str, context: Mapping[str, str]) -> _Piece:
        # On the str: Latin-1 has one octet per character, so lengths and NULs are the same as on the octets.
        checks = [f"type({value}) is str", f'"\\0" not in {value}', f"len({value}) < {self.max_size}"]
        if self.fixed:
            checks.append(f"(not {value} or len({value}) == {_TIME_LENGTH})")
        return _Piece(tuple(checks), "%s\0", (f'{value}.encode("latin-1")',))


class _ShortMessage(Construct):  # type: ignore[misc]
    """sm_length then short_message, 0-254 octets (SMPP v3.4 §4.4.1); the length is derived."""

    def _parse(self, stream: io.BytesIO, context: Mapping[str, object], path: str) -> bytes:
        start = stream.tell()
        length = _read(stream, 1, path)[0]
        if length > _MAX_SHORT_MESSAGE:
            raise _BodyError("sm_length above 254", St.ESME_RINVMSGLEN, start, "sm_length")
        data = stream.read(length)
        if len(data) < length:
            raise _BodyError(
                "sm_length runs past the end of the body", St.ESME_RINVMSGLEN, start, "sm_length"
            )
        return data

    def _build(self, obj: object, stream: io.BytesIO, context: Mapping[str, object], path: str) -> bytes:
        if not isinstance(obj, bytes):
            raise LocalProtocolError("short_message must be bytes")
        if len(obj) > _MAX_SHORT_MESSAGE:
            raise LocalProtocolError("short_message longer than 254 octets: use message_payload")
        stream.write(bytes((len(obj),)) + obj)
        return obj

    def _emit_fast_parse(self, source: FunctionSource, target: str, context: Mapping[str, str]) -> None:
        source.line("if p >= n: return None")
        source.line("length = frame[p]")
        source.line("end = p + 1 + length")
        source.line(f"if length > {_MAX_SHORT_MESSAGE} or end > n: return None")
        source.line(f"{target} = frame[p + 1 : end]")
        source.line("p = end")

    def _emit_fast_build(self, source: FunctionSource, value: str, context: Mapping[str, str]) -> _Piece:
        checks = (f"type({value}) is bytes", f"len({value}) <= {_MAX_SHORT_MESSAGE}")
        return _Piece(checks, "%c%s", (f"len({value})", value))


class _Counted(Subconstruct):  # type: ignore[misc]
    """A 1-octet count then that many entries (number_of_dests, no_unsuccess; §4.5.1, §4.5.2)."""

    def __init__(self, subcon: Construct, count_name: str) -> None:
        super().__init__(subcon)
        self.count_name = count_name

    def _parse(self, stream: io.BytesIO, context: Mapping[str, object], path: str) -> tuple[Any, ...]:
        start = stream.tell()
        count = _read(stream, 1, path)[0]
        if count > _MAX_DESTINATIONS:
            raise _BodyError(f"{self.count_name} above 254", St.ESME_RINVNUMDESTS, start, self.count_name)
        return tuple(self.subcon._parsereport(stream, context, path) for _ in range(count))

    def _build(self, obj: object, stream: io.BytesIO, context: Mapping[str, object], path: str) -> object:
        if not isinstance(obj, tuple):
            raise LocalProtocolError(f"{_field(path)} must be a tuple")
        if len(obj) > _MAX_DESTINATIONS:
            raise LocalProtocolError(f"{self.count_name} above 254")
        stream.write(bytes((len(obj),)))
        for item in obj:
            self.subcon._build(item, stream, context, path)
        return obj

    def _emit_fast_parse(self, source: FunctionSource, target: str, context: Mapping[str, str]) -> None:
        count, items, item = source.fresh("count"), source.fresh("items"), source.fresh("item")
        source.line("if p >= n: return None")
        source.line(f"{count} = frame[p]")
        source.line(f"if {count} > {_MAX_DESTINATIONS}: return None")
        source.line("p += 1")
        source.line(f"{items} = []")
        with source.block(f"for _ in range({count}):"):
            self.subcon._emit_fast_parse(source, item, context)
            source.line(f"{items}.append({item})")
        source.line(f"{target} = tuple({items})")

    def _emit_fast_build(self, source: FunctionSource, value: str, context: Mapping[str, str]) -> _Piece:
        chunks, item, wire = source.fresh("chunks"), source.fresh("item"), source.fresh("wire")
        setup = [f"{chunks} = []", f"for {item} in {value}:"]
        setup += ["    " + line for line in self.subcon._emit_fast_build_item(source, item, chunks)]
        setup.append(f'{wire} = b"".join({chunks})')
        checks = (f"type({value}) is tuple", f"len({value}) <= {_MAX_DESTINATIONS}")
        return _Piece(checks, "%c%s", (f"len({value})", wire), tuple(setup))


class _Record(Adapter):  # type: ignore[misc]
    """Maps a nested Struct onto one of the frozen entry dataclasses and back."""

    def __init__(self, subcon: Construct, record: type[Any]) -> None:
        super().__init__(subcon)
        self.record = record

    def _decode(self, obj: Mapping[str, object], context: Mapping[str, object], path: str) -> object:
        return self.record(**_plain(obj))

    def _encode(self, obj: object, context: Mapping[str, object], path: str) -> dict[str, Any]:
        if not isinstance(obj, self.record):
            raise LocalProtocolError(f"{_field(path)} entries must be {self.record.__name__}")
        return {f.name: getattr(obj, f.name) for f in fields(obj)}

    def _emit_fast_parse(self, source: FunctionSource, target: str, context: Mapping[str, str]) -> None:
        values: dict[str, str] = {}
        _fast_parse_fields(source, self.subcon, values, source.fresh("record") + "_")
        emit_instance(source, self.record, values, target)

    def _emit_fast_build_item(self, source: FunctionSource, item: str, chunks: str) -> list[str]:
        """Lines that append the octets of the entry ``item`` to the list ``chunks`` (or return None)."""
        lines = [f"if type({item}) is not {source.const(self.record, self.record.__name__)}: return None"]
        return lines + _fast_build_entry(source, self.subcon, item, chunks, lead="", lead_args=())


_U8 = _Int(1)
_U32 = _Int(4)

# C-Octet fields, each with the Table 5-2 status for a bad value of that field.
_SYSTEM_ID = _COctet(16, St.ESME_RINVSYSID)
_PASSWORD = _COctet(9, St.ESME_RINVPASWD)
_SYSTEM_TYPE = _COctet(13, St.ESME_RINVSYSTYP)
_ADDRESS_RANGE = _COctet(41, St.ESME_RINVPARLEN)
_SERVICE_TYPE = _COctet(6, St.ESME_RINVSERTYP)
_SOURCE_ADDR = _COctet(21, St.ESME_RINVSRCADR)
_SOURCE_ADDR_65 = _COctet(65, St.ESME_RINVSRCADR)  # data_sm, alert_notification (§4.7.1, §4.12.1)
_DESTINATION_ADDR = _COctet(21, St.ESME_RINVDSTADR)
_DESTINATION_ADDR_65 = _COctet(65, St.ESME_RINVDSTADR)  # data_sm (§4.7.1)
_ESME_ADDR = _COctet(65, St.ESME_RINVPARLEN)
_DL_NAME = _COctet(21, St.ESME_RINVDLNAME)
# deliver_sm_resp's message_id is "unused, NULL" (§4.6.2) yet some peers fill it: allow 65 like the rest.
_MESSAGE_ID = _COctet(65, St.ESME_RINVMSGID)
_SCHEDULE_DELIVERY_TIME = _COctet(17, St.ESME_RINVSCHED, fixed=True)
_VALIDITY_PERIOD = _COctet(17, St.ESME_RINVEXPIRY, fixed=True)
_FINAL_DATE = _COctet(17, St.ESME_RINVPARLEN, fixed=True)


class _DestAddressEntry(Construct):  # type: ignore[misc]
    """One dest_address of submit_multi (SMPP v3.4 §4.5.1.1): dest_flag selects the layout."""

    _VARIANTS: Final[Mapping[int, Any]] = {
        DestAddress.SME_ADDRESS: Struct(
            "dest_addr_ton" / _U8, "dest_addr_npi" / _U8, "destination_addr" / _DESTINATION_ADDR
        ),
        DestAddress.DISTRIBUTION_LIST: Struct("dl_name" / _DL_NAME),
    }

    def _parse(self, stream: io.BytesIO, context: Mapping[str, object], path: str) -> DestAddress:
        start = stream.tell()
        flag = _U8._parsereport(stream, context, path + " -> dest_flag")
        variant = self._VARIANTS.get(flag)
        if variant is None:
            raise _BodyError("dest_flag neither 1 nor 2", St.ESME_RINVDESTFLAG, start, "dest_flag")
        return DestAddress(dest_flag=flag, **_plain(variant._parsereport(stream, context, path)))

    def _build(self, obj: object, stream: io.BytesIO, context: Mapping[str, object], path: str) -> object:
        if not isinstance(obj, DestAddress):
            raise LocalProtocolError("dest_address entries must be DestAddress")
        variant = self._VARIANTS.get(obj.dest_flag) if isinstance(obj.dest_flag, int) else None
        if variant is None:
            raise LocalProtocolError("dest_flag must be 1 (SME address) or 2 (distribution list)")
        values = {sub.name: getattr(obj, sub.name) for sub in variant.subcons}
        if obj != DestAddress(dest_flag=obj.dest_flag, **values):
            raise LocalProtocolError("dest_address sets fields its dest_flag does not carry")
        _U8._build(obj.dest_flag, stream, context, path + " -> dest_flag")
        variant._build(values, stream, context, path)
        return obj

    def _emit_fast_parse(self, source: FunctionSource, target: str, context: Mapping[str, str]) -> None:
        flag = source.fresh("dest_flag")
        source.line("if p >= n: return None")
        source.line(f"{flag} = frame[p]")
        source.line("p += 1")
        for index, (value, variant) in enumerate(self._VARIANTS.items()):
            with source.block(f"{'elif' if index else 'if'} {flag} == {value}:"):
                values = {"dest_flag": flag}
                _fast_parse_fields(source, variant, values, source.fresh("dest") + "_")
                emit_instance(source, DestAddress, values, target)
        source.line("else: return None")

    def _emit_fast_build_item(self, source: FunctionSource, item: str, chunks: str) -> list[str]:
        """Lines that append the octets of the entry ``item`` to the list ``chunks`` (or return None)."""
        flag = source.fresh("dest_flag")
        lines = [
            f"if type({item}) is not {source.const(DestAddress, 'DestAddress')}: return None",
            f"{flag} = {item}.dest_flag",
        ]
        for index, (value, variant) in enumerate(self._VARIANTS.items()):
            carried = {node.name for node in variant.subcons}
            # The fields of the other variant must keep their defaults, as _build's equality test demands.
            defaults = []
            for field in fields(DestAddress):
                if field.name not in carried and field.name != "dest_flag":
                    default = source.const(field.default, "default")
                    attribute = f"{item}.{field.name}"
                    defaults.append(f"type({attribute}) is type({default}) and {attribute} == {default}")
            lines.append(f"{'elif' if index else 'if'} type({flag}) is int and {flag} == {value}:")
            if defaults:
                lines.append(f"    if not ({' and '.join(defaults)}): return None")
            body = _fast_build_entry(source, variant, item, chunks, lead="%c", lead_args=(flag,))
            lines += ["    " + line for line in body]
        lines.append("else: return None")
        return lines


class _Tlvs(Construct):  # type: ignore[misc]
    """The optional part: TLVs up to the end of the body, kept in order (SMPP v3.4 §3.2.4, §5.3)."""

    def _parse(self, stream: io.BytesIO, context: Mapping[str, object], path: str) -> tuple[Tlv, ...]:
        base = stream.tell()
        data = stream.read()
        tlvs: list[Tlv] = []
        pos = 0
        while pos < len(data):
            if len(data) - pos < 4:
                raise _BodyError("partial TLV header", St.ESME_RINVOPTPARSTREAM, base + pos, "tlvs")
            tag = int.from_bytes(data[pos : pos + 2], "big")
            length = int.from_bytes(data[pos + 2 : pos + 4], "big")
            spec = TLV_SPECS.get(tag)
            name = spec.name if spec is not None else f"tlv 0x{tag:04X}"
            end = pos + 4 + length
            if end > len(data):
                raise _BodyError(
                    "TLV length runs past the end of the body", St.ESME_RINVOPTPARSTREAM, base + pos, name
                )
            if spec is not None and not spec.min_len <= length <= spec.max_len:
                raise _BodyError("TLV length outside its specification", St.ESME_RINVPARLEN, base + pos, name)
            if tag == _MESSAGE_PAYLOAD and context.get("short_message"):
                raise _BodyError(
                    "message_payload with a non-empty short_message", St.ESME_RINVMSGLEN, base + pos, name
                )
            tlvs.append(Tlv(tag, data[pos + 4 : end]))
            pos = end
        return tuple(tlvs)

    def _build(self, obj: object, stream: io.BytesIO, context: Mapping[str, object], path: str) -> object:
        if not isinstance(obj, tuple):
            raise LocalProtocolError("tlvs must be a tuple of Tlv")
        for tlv in obj:
            if not isinstance(tlv, Tlv) or not isinstance(tlv.value, bytes):
                raise LocalProtocolError("tlvs entries must be Tlv with a bytes value")
            if not isinstance(tlv.tag, int) or not 0 <= tlv.tag <= 0xFFFF:
                raise LocalProtocolError("TLV tag must fit in 2 octets")
            spec = TLV_SPECS.get(tlv.tag)
            low, high = (spec.min_len, spec.max_len) if spec is not None else (0, MAX_TLV_VALUE)
            if not low <= len(tlv.value) <= high:
                raise LocalProtocolError(f"TLV 0x{tlv.tag:04X} value length outside [{low}, {high}]")
            if tlv.tag == _MESSAGE_PAYLOAD and context.get("short_message"):
                raise LocalProtocolError("message_payload and short_message must not both be used")
            stream.write(tlv.tag.to_bytes(2, "big") + len(tlv.value).to_bytes(2, "big") + tlv.value)
        return obj

    def _emit_fast_parse(self, source: FunctionSource, target: str, context: Mapping[str, str]) -> None:
        bounds = source.const(_TLV_BOUNDS, "bounds")
        items = source.fresh("tlvs")
        source.line(f"{items} = []")
        with source.block("while p < n:"):
            source.line("if n - p < 4: return None")
            source.line(f"tag, length = {source.const(_TLV_HEAD, 'tlv_head')}.unpack_from(frame, p)")
            source.line("end = p + 4 + length")
            source.line("if end > n: return None")
            source.line(f"limits = {bounds}.get(tag)")
            source.line("if limits is not None and not limits[0] <= length <= limits[1]: return None")
            if "short_message" in context:
                source.line(f"if tag == {_MESSAGE_PAYLOAD} and {context['short_message']}: return None")
            emit_instance(source, Tlv, {"tag": "tag", "value": "frame[p + 4 : end]"}, "tlv")
            source.line(f"{items}.append(tlv)")
            source.line("p = end")
        source.line(f"{target} = tuple({items})")

    def _emit_fast_build(self, source: FunctionSource, value: str, context: Mapping[str, str]) -> _Piece:
        wire, parts = source.fresh("wire"), source.fresh("parts")
        head, bounds = source.const(_TLV_HEAD, "tlv_head"), source.const(_TLV_BOUNDS, "bounds")
        payload = ""
        if "short_message" in context:
            payload = f" or tag == {_MESSAGE_PAYLOAD} and {context['short_message']}"
        setup = (
            f'{wire} = b""',
            f"if {value}:",
            f"    {parts} = []",
            f"    for tlv in {value}:",
            f"        if type(tlv) is not {source.const(Tlv, 'Tlv')}: return None",
            "        tag, data = tlv.tag, tlv.value",
            "        if type(tag) is not int or type(data) is not bytes or not 0 <= tag <= 0xFFFF: return None",
            f"        low, high = {bounds}.get(tag, (0, {MAX_TLV_VALUE}))",
            f"        if not low <= len(data) <= high{payload}: return None",
            f"        {parts}.append({head}.pack(tag, len(data)) + data)",
            f'    {wire} = b"".join({parts})',
        )
        return _Piece((f"type({value}) is tuple",), "%s", (wire,), setup)


_TLVS = _Tlvs()

# -- bodies (SMPP v3.4 §4; SMPP 5.0 for the broadcast operations) --------------------------------------

_HEADER = Struct(
    "command_length" / _U32, "command_id" / _U32, "command_status" / _U32, "sequence_number" / _U32
)
_NO_BODY = Struct()
_TLVS_ONLY = Struct("tlvs" / _TLVS)
_BIND = Struct(
    "system_id" / _SYSTEM_ID,
    "password" / _PASSWORD,
    "system_type" / _SYSTEM_TYPE,
    "interface_version" / _U8,
    "addr_ton" / _U8,
    "addr_npi" / _U8,
    "address_range" / _ADDRESS_RANGE,
    "tlvs" / _TLVS,
)
_BIND_RESP = Struct("system_id" / _SYSTEM_ID, "tlvs" / _TLVS)
_MESSAGE_ID_RESP = Struct("message_id" / _MESSAGE_ID, "tlvs" / _TLVS)
_SUBMIT_SM = Struct(  # submit_sm (§4.4.1) and deliver_sm (§4.6.1) share one layout
    "service_type" / _SERVICE_TYPE,
    "source_addr_ton" / _U8,
    "source_addr_npi" / _U8,
    "source_addr" / _SOURCE_ADDR,
    "dest_addr_ton" / _U8,
    "dest_addr_npi" / _U8,
    "destination_addr" / _DESTINATION_ADDR,
    "esm_class" / _U8,
    "protocol_id" / _U8,
    "priority_flag" / _U8,
    "schedule_delivery_time" / _SCHEDULE_DELIVERY_TIME,
    "validity_period" / _VALIDITY_PERIOD,
    "registered_delivery" / _U8,
    "replace_if_present_flag" / _U8,
    "data_coding" / _U8,
    "sm_default_msg_id" / _U8,
    "short_message" / _ShortMessage(),
    "tlvs" / _TLVS,
)
_SUBMIT_MULTI = Struct(
    "service_type" / _SERVICE_TYPE,
    "source_addr_ton" / _U8,
    "source_addr_npi" / _U8,
    "source_addr" / _SOURCE_ADDR,
    "dest_address" / _Counted(_DestAddressEntry(), "number_of_dests"),
    "esm_class" / _U8,
    "protocol_id" / _U8,
    "priority_flag" / _U8,
    "schedule_delivery_time" / _SCHEDULE_DELIVERY_TIME,
    "validity_period" / _VALIDITY_PERIOD,
    "registered_delivery" / _U8,
    "replace_if_present_flag" / _U8,
    "data_coding" / _U8,
    "sm_default_msg_id" / _U8,
    "short_message" / _ShortMessage(),
    "tlvs" / _TLVS,
)
_UNSUCCESS_SME = _Record(
    Struct(
        "dest_addr_ton" / _U8,
        "dest_addr_npi" / _U8,
        "destination_addr" / _DESTINATION_ADDR,
        "error_status_code" / _U32,
    ),
    UnsuccessSme,
)
_SUBMIT_MULTI_RESP = Struct(
    "message_id" / _MESSAGE_ID,
    "unsuccess_sme" / _Counted(_UNSUCCESS_SME, "no_unsuccess"),
    "tlvs" / _TLVS,
)
_DATA_SM = Struct(
    "service_type" / _SERVICE_TYPE,
    "source_addr_ton" / _U8,
    "source_addr_npi" / _U8,
    "source_addr" / _SOURCE_ADDR_65,
    "dest_addr_ton" / _U8,
    "dest_addr_npi" / _U8,
    "destination_addr" / _DESTINATION_ADDR_65,
    "esm_class" / _U8,
    "registered_delivery" / _U8,
    "data_coding" / _U8,
    "tlvs" / _TLVS,
)
_QUERY_SM = Struct(  # query_sm (§4.8.1) and SMPP 5.0 query_broadcast_sm share one layout
    "message_id" / _MESSAGE_ID,
    "source_addr_ton" / _U8,
    "source_addr_npi" / _U8,
    "source_addr" / _SOURCE_ADDR,
    "tlvs" / _TLVS,
)
_QUERY_SM_RESP = Struct(
    "message_id" / _MESSAGE_ID,
    "final_date" / _FINAL_DATE,
    "message_state" / _U8,
    "error_code" / _U8,
    "tlvs" / _TLVS,
)
_CANCEL_SM = Struct(
    "service_type" / _SERVICE_TYPE,
    "message_id" / _MESSAGE_ID,
    "source_addr_ton" / _U8,
    "source_addr_npi" / _U8,
    "source_addr" / _SOURCE_ADDR,
    "dest_addr_ton" / _U8,
    "dest_addr_npi" / _U8,
    "destination_addr" / _DESTINATION_ADDR,
    "tlvs" / _TLVS,
)
_REPLACE_SM = Struct(
    "message_id" / _MESSAGE_ID,
    "source_addr_ton" / _U8,
    "source_addr_npi" / _U8,
    "source_addr" / _SOURCE_ADDR,
    "schedule_delivery_time" / _SCHEDULE_DELIVERY_TIME,
    "validity_period" / _VALIDITY_PERIOD,
    "registered_delivery" / _U8,
    "sm_default_msg_id" / _U8,
    "short_message" / _ShortMessage(),
    "tlvs" / _TLVS,
)
_OUTBIND = Struct("system_id" / _SYSTEM_ID, "password" / _PASSWORD, "tlvs" / _TLVS)
_ALERT_NOTIFICATION = Struct(
    "source_addr_ton" / _U8,
    "source_addr_npi" / _U8,
    "source_addr" / _SOURCE_ADDR_65,
    "esme_addr_ton" / _U8,
    "esme_addr_npi" / _U8,
    "esme_addr" / _ESME_ADDR,
    "tlvs" / _TLVS,
)
_BROADCAST_SM = Struct(
    "service_type" / _SERVICE_TYPE,
    "source_addr_ton" / _U8,
    "source_addr_npi" / _U8,
    "source_addr" / _SOURCE_ADDR,
    "message_id" / _MESSAGE_ID,
    "priority_flag" / _U8,
    "schedule_delivery_time" / _SCHEDULE_DELIVERY_TIME,
    "validity_period" / _VALIDITY_PERIOD,
    "replace_if_present_flag" / _U8,
    "data_coding" / _U8,
    "sm_default_msg_id" / _U8,
    "tlvs" / _TLVS,
)
_CANCEL_BROADCAST_SM = Struct(
    "service_type" / _SERVICE_TYPE,
    "message_id" / _MESSAGE_ID,
    "source_addr_ton" / _U8,
    "source_addr_npi" / _U8,
    "source_addr" / _SOURCE_ADDR,
    "tlvs" / _TLVS,
)

_BODIES: Final[Mapping[type[SmppPdu], Any]] = {
    GenericNack: _NO_BODY,
    BindReceiver: _BIND,
    BindReceiverResp: _BIND_RESP,
    BindTransmitter: _BIND,
    BindTransmitterResp: _BIND_RESP,
    QuerySm: _QUERY_SM,
    QuerySmResp: _QUERY_SM_RESP,
    SubmitSm: _SUBMIT_SM,
    SubmitSmResp: _MESSAGE_ID_RESP,
    DeliverSm: _SUBMIT_SM,
    DeliverSmResp: _MESSAGE_ID_RESP,
    Unbind: _NO_BODY,
    UnbindResp: _TLVS_ONLY,
    ReplaceSm: _REPLACE_SM,
    ReplaceSmResp: _TLVS_ONLY,
    CancelSm: _CANCEL_SM,
    CancelSmResp: _TLVS_ONLY,
    BindTransceiver: _BIND,
    BindTransceiverResp: _BIND_RESP,
    Outbind: _OUTBIND,
    EnquireLink: _NO_BODY,
    EnquireLinkResp: _TLVS_ONLY,
    SubmitMulti: _SUBMIT_MULTI,
    SubmitMultiResp: _SUBMIT_MULTI_RESP,
    AlertNotification: _ALERT_NOTIFICATION,
    DataSm: _DATA_SM,
    DataSmResp: _MESSAGE_ID_RESP,
    BroadcastSm: _BROADCAST_SM,
    BroadcastSmResp: _MESSAGE_ID_RESP,
    QueryBroadcastSm: _QUERY_SM,
    QueryBroadcastSmResp: _MESSAGE_ID_RESP,
    CancelBroadcastSm: _CANCEL_BROADCAST_SM,
    CancelBroadcastSmResp: _TLVS_ONLY,
}

#: Every PDU class by command_id (SMPP v3.4 Table 5-1 and the SMPP 5.0 broadcast ids).
PDU_TYPES: Final[Mapping[int, type[SmppPdu]]] = MappingProxyType({cls.command_id: cls for cls in _BODIES})

# Responses whose body may be absent even on success: deliver_sm_resp's message_id is unused (§4.6.2).
_BODY_OPTIONAL: Final = frozenset({DeliverSmResp})
_HEADER_FIELDS: Final = frozenset({"command_status", "sequence_number"})


def frame_buffer(max_length: int = DEFAULT_MAX_FRAME) -> FrameBuffer:
    """A :class:`FrameBuffer` for SMPP: 16 <= command_length <= ``max_length`` (SMPP v3.4 §3.2).

    A length outside the bounds is answered with generic_nack ``ESME_RINVCMDLEN`` (§4.3), echoing the
    sequence_number at offset 12 when it was received.
    """
    return FrameBuffer(
        min_length=HEADER_SIZE,
        max_length=max_length,
        error_code=St.ESME_RINVCMDLEN,
        sequence_offset=_SEQUENCE_OFFSET,
    )


def decode(frame: bytes) -> SmppPdu:
    """Decode one whole frame (header included) into its PDU (SMPP v3.4 §3.2, §4).

    Raises :class:`RemoteProtocolError` and nothing else, whatever the input; its ``code`` is the
    command_status to answer with (see the module documentation for which fault gives which code),
    ``command_id`` and ``sequence`` come from the header when it was complete, ``offset`` and
    ``field`` locate the fault in the frame.

    Runs the decoder generated for the command (see "fast path" below); a frame it does not accept, or
    anything but ``bytes``, goes to :func:`decode_reference`, which gives the same PDU or raises the error.
    """
    if type(frame) is bytes and len(frame) >= HEADER_SIZE:
        length, command_id, status, sequence = _FAST_HEADER.unpack_from(frame)
        decoder = _FAST_DECODERS.get(command_id)
        if decoder is not None and length == len(frame):
            pdu: SmppPdu | None = decoder(frame, status, sequence)
            if pdu is not None:
                return pdu
    return decode_reference(frame)


def encode(pdu: SmppPdu) -> bytes:
    """Encode ``pdu`` into one frame, computing command_length (SMPP v3.4 §3.2).

    A response with a non-zero command_status is written as the header alone (§4.4.2): its body
    fields and TLVs are not sent. Raises :class:`LocalProtocolError` and nothing else for a value the
    wire cannot carry: a field over its maximum size, an integer out of range, a wrong type, a known
    TLV of illegal length, short_message together with message_payload.

    Runs the encoder generated for the class (see "fast path" below); a value it does not accept goes
    to :func:`encode_reference`, which writes the same bytes or raises the error.
    """
    encoder = _FAST_ENCODERS.get(type(pdu))
    if encoder is not None:
        frame = encoder(pdu)
        if frame is not None:
            return frame
    return encode_reference(pdu)


def decode_reference(frame: bytes) -> SmppPdu:
    """:func:`decode` through the Construct Structs alone: the definition the fast path is held to."""
    size = len(frame)
    if size < HEADER_SIZE:
        raise RemoteProtocolError(
            "frame shorter than the SMPP header",
            code=St.ESME_RINVCMDLEN,
            command_id=int.from_bytes(frame[4:8], "big") if size >= 8 else None,
            offset=0,
            field="command_length",
        )
    header = _HEADER.parse(frame[:HEADER_SIZE])
    command_id: int = header.command_id
    status: int = header.command_status
    sequence: int = header.sequence_number
    if header.command_length != size:
        raise RemoteProtocolError(
            "command_length does not match the frame size",
            code=St.ESME_RINVCMDLEN,
            command_id=command_id,
            sequence=sequence,
            offset=0,
            field="command_length",
        )
    cls = PDU_TYPES.get(command_id)
    if cls is None:
        raise RemoteProtocolError(
            "unknown command_id",
            code=St.ESME_RINVCMDID,
            command_id=command_id,
            sequence=sequence,
            offset=4,
            field="command_id",
        )
    body = frame[HEADER_SIZE:]
    if not body and cls in _BODY_OPTIONAL:
        return cls(command_status=status, sequence_number=sequence)
    try:
        values = _parse_body(_BODIES[cls], body)
    except _BodyError as exc:
        if command_id & _RESPONSE_BIT and status != 0:
            # §4.4.2: no body is expected on an error response, so a missing or broken one is ignored
            # (reliability F10).
            return cls(command_status=status, sequence_number=sequence)
        raise RemoteProtocolError(
            exc.message,
            code=exc.code,
            command_id=command_id,
            sequence=sequence,
            offset=HEADER_SIZE + exc.offset,
            field=exc.field,
        ) from None
    return cls(command_status=status, sequence_number=sequence, **values)


def _parse_body(body_format: Construct, body: bytes) -> dict[str, Any]:
    stream = io.BytesIO(body)
    values = _plain(body_format.parse_stream(stream))
    if stream.tell() != len(body):
        # Only bodies without an optional part can stop early: TLVs run to the end of the body.
        raise _BodyError(
            "body longer than the command allows", St.ESME_RINVCMDLEN, stream.tell(), "command_length"
        )
    return values


def encode_reference(pdu: SmppPdu) -> bytes:
    """:func:`encode` through the Construct Structs alone: the definition the fast path is held to."""
    body_format = _BODIES.get(type(pdu))
    if body_format is None:
        raise LocalProtocolError(f"{type(pdu).__name__} is not an SMPP PDU type")
    if pdu.command_id & _RESPONSE_BIT and pdu.command_status != 0:
        body = b""
    else:
        values = {f.name: getattr(pdu, f.name) for f in fields(pdu) if f.name not in _HEADER_FIELDS}
        body = body_format.build(values)
    header = _HEADER.build(
        {
            "command_length": HEADER_SIZE + len(body),
            "command_id": pdu.command_id,
            "command_status": pdu.command_status,
            "sequence_number": pdu.sequence_number,
        }
    )
    return bytes(header) + bytes(body)


# -- fast path ------------------------------------------------------------------------------------------
# At import, every body Struct above is turned into one generated decoder and one generated encoder per PDU
# class: the Struct's fields in order, each written by its own ``_emit_fast_*`` (the emitters section), so
# the layout is only ever stated in the Structs. A generated function returns None instead of raising, and
# decode/encode then run the reference path (protocols._fast explains why that keeps both paths equal).
# A field type without emitters is an error at import: it must be given its twin before it can be used.

_Decoder = Callable[[bytes, int, int], SmppPdu | None]  # (frame, command_status, sequence_number)
_Encoder = Callable[[SmppPdu], bytes | None]


def _header_format(header: Struct) -> struct.Struct:
    """The header Struct as one ``struct.Struct``: it is four 4-octet Integers (§3.2)."""
    sizes = [node.subcon.size for node in header.subcons if isinstance(node.subcon, _Int)]
    if len(sizes) != len(header.subcons) or set(sizes) != {4}:
        raise TypeError("the SMPP header is expected to be 4-octet Integers")
    return struct.Struct(">" + "I" * len(sizes))


_FAST_HEADER: Final = _header_format(_HEADER)


def _fast_parse_fields(source: FunctionSource, body_format: Struct, context: dict[str, str], prefix: str) -> None:
    """Emit the reading of every field of ``body_format`` into ``<prefix><name>`` locals, listed in ``context``.
    Nested Structs (entries) take a fresh prefix of their own."""
    nodes = list(body_format.subcons)
    while nodes:
        run = []
        while nodes and isinstance(nodes[0].subcon, _Int):
            run.append(nodes.pop(0))
        if run:
            # One bounds check for the run: _read refuses the first integer that does not fit, and so does this.
            source.line(f"if p + {sum(node.subcon.size for node in run)} > n: return None")
            at = 0
            for node in run:
                context[node.name] = f"{prefix}{node.name}"
                node.subcon._emit_fast_read(source, context[node.name], f"p + {at}" if at else "p")
                at += node.subcon.size
            source.line(f"p += {at}")
            continue
        node = nodes.pop(0)
        context[node.name] = f"{prefix}{node.name}"
        node.subcon._emit_fast_parse(source, context[node.name], context)


def _fast_decoder(cls: type[SmppPdu], body_format: Struct) -> _Decoder:
    origin = f"SMPP {cls.command_name}"
    source = FunctionSource(f"decode_{cls.__name__}", "frame, command_status, sequence_number", origin)
    header_only = {"command_status": "command_status", "sequence_number": "sequence_number"}
    source.line("n = len(frame)")
    if cls in _BODY_OPTIONAL or cls.command_id & _RESPONSE_BIT:
        # decode_reference gives a response without a body its header alone when the body is optional or the
        # status is not 0; a Struct that parses an empty body (TLVs only) also leaves every field at its default.
        condition = f"n == {HEADER_SIZE}" + ("" if cls in _BODY_OPTIONAL else " and command_status")
        with source.block(f"if {condition}:"):
            emit_instance(source, cls, header_only, "pdu")
            source.line("return pdu")
    source.line(f"p = {HEADER_SIZE}")
    context: dict[str, str] = {}
    _fast_parse_fields(source, body_format, context, "v_")
    source.line("if p != n: return None")  # bytes after the body (TLVs always run to its end)
    emit_instance(source, cls, header_only | context, "pdu")
    source.line("return pdu")
    decoder: _Decoder = source.compile()
    return decoder


def _fast_encoder(cls: type[SmppPdu], body_format: Struct) -> _Encoder:
    source = FunctionSource(f"encode_{cls.__name__}", "pdu", f"SMPP {cls.command_name}")
    header, header_values = source.const(_FAST_HEADER, "header"), "command_status, sequence_number"
    source.line("command_status, sequence_number = pdu.command_status, pdu.sequence_number")
    header_fields = {name: name for name in _HEADER_FIELDS}
    source.require([check for piece in _fast_build_pieces(source, _HEADER, header_fields) for check in piece.checks])
    if cls.command_id & _RESPONSE_BIT:
        # §4.4.2: an error response is its header alone, as encode_reference writes it.
        source.line(f"if command_status: return {header}.pack({HEADER_SIZE}, {cls.command_id}, {header_values})")
    context = {node.name: f"v_{node.name}" for node in body_format.subcons}
    pieces = _fast_build_pieces(source, body_format, context)
    for node in body_format.subcons:
        source.line(f"{context[node.name]} = pdu.{node.name}")
    source.require([check for piece in pieces for check in piece.checks])
    fmt = "".join(piece.fmt for piece in pieces).encode("latin-1")
    arguments = ", ".join(argument for piece in pieces for argument in piece.args)
    if fmt:
        with source.block("try:"):
            for piece in pieces:
                for line in piece.setup:
                    source.line(line)
            source.line(f"body = {fmt!r} % ({arguments},)")
        with source.block("except UnicodeEncodeError:"):
            source.line("return None")  # text that is not Latin-1: the reference path names the field
    else:
        source.line('body = b""')
    source.line(f"return {header}.pack({HEADER_SIZE} + len(body), {cls.command_id}, {header_values}) + body")
    encoder: _Encoder = source.compile()
    return encoder


def _fast_build_pieces(source: FunctionSource, body_format: Struct, context: Mapping[str, str]) -> list[_Piece]:
    """The pieces of the fields of ``body_format`` that ``context`` names (all but the header's computed ones),
    their values being in the locals it maps them to."""
    return [
        node.subcon._emit_fast_build(source, context[node.name], context)
        for node in body_format.subcons
        if node.name in context
    ]


def _fast_build_entry(
    source: FunctionSource, body_format: Struct, item: str, chunks: str, *, lead: str, lead_args: tuple[str, ...]
) -> list[str]:
    """Lines that check the fields of the entry ``item`` against ``body_format`` and append its octets, after
    ``lead`` (a %-format for ``lead_args``), to the list ``chunks``."""
    prefix = source.fresh("entry") + "_"
    context = {node.name: f"{prefix}{node.name}" for node in body_format.subcons}
    pieces = _fast_build_pieces(source, body_format, context)
    lines = [f"{context[node.name]} = {item}.{node.name}" for node in body_format.subcons]
    lines.append(f"if not ({' and '.join(check for piece in pieces for check in piece.checks)}): return None")
    lines += [line for piece in pieces for line in piece.setup]
    fmt = (lead + "".join(piece.fmt for piece in pieces)).encode("latin-1")
    arguments = ", ".join((*lead_args, *(argument for piece in pieces for argument in piece.args)))
    lines.append(f"{chunks}.append({fmt!r} % ({arguments},))")
    return lines


_FAST_DECODERS: Final = {cls.command_id: _fast_decoder(cls, body_format) for cls, body_format in _BODIES.items()}
_FAST_ENCODERS: Final = {cls: _fast_encoder(cls, body_format) for cls, body_format in _BODIES.items()}
