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
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from dataclasses import fields
from types import MappingProxyType
from typing import Any, Final

from construct import Adapter, Construct, Struct, Subconstruct

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

__all__ = ["DEFAULT_MAX_FRAME", "HEADER_SIZE", "PDU_TYPES", "decode", "encode", "frame_buffer"]

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
    """
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


def encode(pdu: SmppPdu) -> bytes:
    """Encode ``pdu`` into one frame, computing command_length (SMPP v3.4 §3.2).

    A response with a non-zero command_status is written as the header alone (§4.4.2): its body
    fields and TLVs are not sent. Raises :class:`LocalProtocolError` and nothing else for a value the
    wire cannot carry: a field over its maximum size, an integer out of range, a wrong type, a known
    TLV of illegal length, short_message together with message_payload.
    """
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
