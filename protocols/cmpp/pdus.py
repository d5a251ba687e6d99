"""CMPP PDUs as frozen dataclasses, and :func:`encode` / :func:`decode` between them and whole frames.

One class per SP-link command (CMPP 2.0 §7.4, CMPP 3.0 §8.4). Fields carry the spec's names in snake_case and
only the types ``int``, ``str``, ``bytes`` and ``tuple[str, ...]``:

* u1/u4/u8 integers are ``int`` (Msg_Id too; :class:`~.msgid.MsgId` splits it);
* fixed-width octet strings are ``str``: on the wire left-aligned and NUL-padded, read by stripping
  trailing NULs and decoding Latin-1, which maps every byte to a character, so
  ``encode(decode(frame)) == frame`` for every frame that decodes;
* the MD5 authenticators and Msg_Content are ``bytes`` (Msg_Content is decoded by Msg_Fmt elsewhere);
* DestUsr_tl and Msg_Length are not fields: they are derived on encode and checked on decode.

:func:`decode_reference` and :func:`encode_reference` map these classes to and from the field dicts of the private
Construct codec (``_codec``); :func:`decode` and :func:`encode` run functions generated from the same Construct
layouts (``_fast``) and fall back to those two for whatever the generated ones do not accept, so results and
errors are the same, only faster. A field that exists in only one layout (``fee_terminal_type``,
``dest_terminal_type``, ``src_terminal_type`` and ``link_id`` in 3.0; ``reserve`` of SUBMIT/DELIVER in 2.0)
decodes to its default in the other layout, and encoding it there with a non-default value is a
:class:`~protocols.errors.LocalProtocolError`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from types import MappingProxyType
from typing import ClassVar, Final

from protocols.errors import LocalProtocolError, RemoteProtocolError

from . import _codec, _fast
from .codes import CommandId, Version
from .report import Report, parse_report

__all__ = [
    "PDU_TYPES",
    "ActiveTest",
    "ActiveTestResp",
    "Cancel",
    "CancelResp",
    "CmppPdu",
    "Connect",
    "ConnectResp",
    "Deliver",
    "DeliverResp",
    "Query",
    "QueryResp",
    "Submit",
    "SubmitResp",
    "Terminate",
    "TerminateResp",
    "decode",
    "decode_reference",
    "encode",
    "encode_reference",
]

# "认证出错时，此项为空" (empty on an authentication error): an absent authenticator is 16 NULs on the wire.
_NO_AUTHENTICATOR = bytes(16)


@dataclass(frozen=True, kw_only=True, slots=True)
class CmppPdu:
    """Base of every CMPP PDU. Holds the header's Sequence_Id (CMPP 3.0 §8.3); Total_Length is derived and
    Command_Id is the class's ``command_id``.
    """

    command_id: ClassVar[int]
    command_name: ClassVar[str]

    sequence_id: int = 0


@dataclass(frozen=True, kw_only=True, slots=True)
class Connect(CmppPdu):
    """CMPP_CONNECT (CMPP 2.0 §7.4.1.1, CMPP 3.0 §8.4.1.1): the same 39 bytes in every version.

    ``timestamp`` is MMDDHHMMSS as a decimal integer (see :func:`~.auth.timestamp_from`).
    """

    command_id: ClassVar[int] = CommandId.CONNECT
    command_name: ClassVar[str] = "CMPP_CONNECT"

    source_addr: str = ""
    authenticator_source: bytes = _NO_AUTHENTICATOR
    version: int = Version.V30.value
    timestamp: int = 0

    def response(
        self, *, status: int, version: int, authenticator_ismg: bytes = _NO_AUTHENTICATOR
    ) -> ConnectResp:
        """The CONNECT_RESP to this request; ``version`` is the highest the server supports (§8.4.1.2)."""
        return ConnectResp(
            sequence_id=self.sequence_id,
            status=status,
            authenticator_ismg=authenticator_ismg,
            version=version,
        )


@dataclass(frozen=True, kw_only=True, slots=True)
class ConnectResp(CmppPdu):
    """CMPP_CONNECT_RESP (CMPP 2.0 §7.4.1.2, CMPP 3.0 §8.4.1.2): Status is u1 in 2.0, u4 in 3.0."""

    command_id: ClassVar[int] = CommandId.CONNECT_RESP
    command_name: ClassVar[str] = "CMPP_CONNECT_RESP"

    status: int = 0
    authenticator_ismg: bytes = _NO_AUTHENTICATOR
    version: int = Version.V30.value


@dataclass(frozen=True, kw_only=True, slots=True)
class Terminate(CmppPdu):
    """CMPP_TERMINATE (CMPP 3.0 §8.4.2.1): header only; either side may send it."""

    command_id: ClassVar[int] = CommandId.TERMINATE
    command_name: ClassVar[str] = "CMPP_TERMINATE"

    def response(self) -> TerminateResp:
        """The TERMINATE_RESP to this request."""
        return TerminateResp(sequence_id=self.sequence_id)


@dataclass(frozen=True, kw_only=True, slots=True)
class TerminateResp(CmppPdu):
    """CMPP_TERMINATE_RESP (CMPP 3.0 §8.4.2.2): header only."""

    command_id: ClassVar[int] = CommandId.TERMINATE_RESP
    command_name: ClassVar[str] = "CMPP_TERMINATE_RESP"


@dataclass(frozen=True, kw_only=True, slots=True)
class Submit(CmppPdu):
    """CMPP_SUBMIT, SP to ISMG (CMPP 2.0 §7.4.3.1, CMPP 3.0 §8.4.3.1).

    ``dest_terminal_id`` holds the DestUsr_tl recipients (at least one). ``tp_udhi`` is the raw byte:
    gateways send 0x40 as well as 1 (cmpp.md §6), and any ``msg_fmt`` is kept as given. 3.0 only:
    ``fee_terminal_type``, ``dest_terminal_type``, ``link_id``; 2.0 only: ``reserve``.
    """

    command_id: ClassVar[int] = CommandId.SUBMIT
    command_name: ClassVar[str] = "CMPP_SUBMIT"

    msg_id: int = 0
    pk_total: int = 1
    pk_number: int = 1
    registered_delivery: int = 0
    msg_level: int = 0
    service_id: str = ""
    fee_user_type: int = 0
    fee_terminal_id: str = ""
    fee_terminal_type: int = 0
    tp_pid: int = 0
    tp_udhi: int = 0
    msg_fmt: int = 0
    msg_src: str = ""
    fee_type: str = ""
    fee_code: str = ""
    valid_time: str = ""
    at_time: str = ""
    src_id: str = ""
    dest_terminal_id: tuple[str, ...] = ()
    dest_terminal_type: int = 0
    msg_content: bytes = b""
    reserve: str = ""
    link_id: str = ""

    def response(self, *, msg_id: int, result: int) -> SubmitResp:
        """The SUBMIT_RESP to this request, matched to it by Sequence_Id (§8.4.3.2)."""
        return SubmitResp(sequence_id=self.sequence_id, msg_id=msg_id, result=result)


@dataclass(frozen=True, kw_only=True, slots=True)
class SubmitResp(CmppPdu):
    """CMPP_SUBMIT_RESP (CMPP 2.0 §7.4.3.2, CMPP 3.0 §8.4.3.2): Result is u1 in 2.0, u4 in 3.0."""

    command_id: ClassVar[int] = CommandId.SUBMIT_RESP
    command_name: ClassVar[str] = "CMPP_SUBMIT_RESP"

    msg_id: int = 0
    result: int = 0


@dataclass(frozen=True, kw_only=True, slots=True)
class Deliver(CmppPdu):
    """CMPP_DELIVER, ISMG to SP: an MO message or a status report (CMPP 2.0 §7.4.5.1, CMPP 3.0 §8.4.5.1).

    ``registered_delivery`` 1 marks a status report (see :attr:`report`). 3.0 only: ``src_terminal_type``,
    ``link_id``; 2.0 only: ``reserve``.
    """

    command_id: ClassVar[int] = CommandId.DELIVER
    command_name: ClassVar[str] = "CMPP_DELIVER"

    msg_id: int = 0
    dest_id: str = ""
    service_id: str = ""
    tp_pid: int = 0
    tp_udhi: int = 0
    msg_fmt: int = 0
    src_terminal_id: str = ""
    src_terminal_type: int = 0
    registered_delivery: int = 0
    msg_content: bytes = b""
    reserve: str = ""
    link_id: str = ""

    @property
    def report(self) -> Report | None:
        """The status report in Msg_Content when Registered_Delivery is 1, else None.

        A 60- or 71-byte content is accepted whatever the link's version (cmpp.md §2.7); any other size raises
        :class:`~protocols.errors.RemoteProtocolError` with code 1, the DELIVER_RESP result to answer.
        """
        if self.registered_delivery != 1:
            return None
        try:
            return parse_report(self.msg_content)
        except RemoteProtocolError as error:
            # Name the DELIVER it came in, so that the session can answer it.
            raise RemoteProtocolError(
                error.message,
                code=error.code,
                command_id=self.command_id,
                sequence=self.sequence_id,
                field=error.field,
            ) from error

    def response(self, *, result: int = 0) -> DeliverResp:
        """The DELIVER_RESP to this request, echoing its Msg_Id (§8.4.5.2)."""
        return DeliverResp(sequence_id=self.sequence_id, msg_id=self.msg_id, result=result)


@dataclass(frozen=True, kw_only=True, slots=True)
class DeliverResp(CmppPdu):
    """CMPP_DELIVER_RESP, SP to ISMG (CMPP 2.0 §7.4.5.2, CMPP 3.0 §8.4.5.2): Result u1 in 2.0, u4 in 3.0."""

    command_id: ClassVar[int] = CommandId.DELIVER_RESP
    command_name: ClassVar[str] = "CMPP_DELIVER_RESP"

    msg_id: int = 0
    result: int = 0


@dataclass(frozen=True, kw_only=True, slots=True)
class Query(CmppPdu):
    """CMPP_QUERY (CMPP 2.0 §7.4.4.1, CMPP 3.0 §8.4.4.1): traffic statistics for a day (``time`` YYYYMMDD),
    in total (``query_type`` 0) or for the Service_Id in ``query_code`` (1). Same layout in 2.0 and 3.0.
    """

    command_id: ClassVar[int] = CommandId.QUERY
    command_name: ClassVar[str] = "CMPP_QUERY"

    time: str = ""
    query_type: int = 0
    query_code: str = ""
    reserve: str = ""

    def response(
        self,
        *,
        mt_tlmsg: int = 0,
        mt_tlusr: int = 0,
        mt_scs: int = 0,
        mt_wt: int = 0,
        mt_fl: int = 0,
        mo_scs: int = 0,
        mo_wt: int = 0,
        mo_fl: int = 0,
    ) -> QueryResp:
        """The QUERY_RESP to this request, echoing Time, Query_Type and Query_Code."""
        return QueryResp(
            sequence_id=self.sequence_id,
            time=self.time,
            query_type=self.query_type,
            query_code=self.query_code,
            mt_tlmsg=mt_tlmsg,
            mt_tlusr=mt_tlusr,
            mt_scs=mt_scs,
            mt_wt=mt_wt,
            mt_fl=mt_fl,
            mo_scs=mo_scs,
            mo_wt=mo_wt,
            mo_fl=mo_fl,
        )


@dataclass(frozen=True, kw_only=True, slots=True)
class QueryResp(CmppPdu):
    """CMPP_QUERY_RESP (CMPP 2.0 §7.4.4.2, CMPP 3.0 §8.4.4.2): the query echoed, then eight counters."""

    command_id: ClassVar[int] = CommandId.QUERY_RESP
    command_name: ClassVar[str] = "CMPP_QUERY_RESP"

    time: str = ""
    query_type: int = 0
    query_code: str = ""
    mt_tlmsg: int = 0
    mt_tlusr: int = 0
    mt_scs: int = 0
    mt_wt: int = 0
    mt_fl: int = 0
    mo_scs: int = 0
    mo_wt: int = 0
    mo_fl: int = 0


@dataclass(frozen=True, kw_only=True, slots=True)
class Cancel(CmppPdu):
    """CMPP_CANCEL (CMPP 2.0 §7.4.6.1, CMPP 3.0 §8.4.6.1): withdraw a submitted message by its Msg_Id."""

    command_id: ClassVar[int] = CommandId.CANCEL
    command_name: ClassVar[str] = "CMPP_CANCEL"

    msg_id: int = 0

    def response(self, *, success_id: int) -> CancelResp:
        """The CANCEL_RESP to this request."""
        return CancelResp(sequence_id=self.sequence_id, success_id=success_id)


@dataclass(frozen=True, kw_only=True, slots=True)
class CancelResp(CmppPdu):
    """CMPP_CANCEL_RESP (CMPP 2.0 §7.4.6.2, CMPP 3.0 §8.4.6.2): Success_Id 0 success, 1 failure; u1 in 2.0
    (SMSGate's 4 bytes are wrong there, cmpp.md §2.10), u4 in 3.0.
    """

    command_id: ClassVar[int] = CommandId.CANCEL_RESP
    command_name: ClassVar[str] = "CMPP_CANCEL_RESP"

    success_id: int = 0


@dataclass(frozen=True, kw_only=True, slots=True)
class ActiveTest(CmppPdu):
    """CMPP_ACTIVE_TEST (CMPP 3.0 §8.4.7.1): the link keep-alive, header only; either side may send it."""

    command_id: ClassVar[int] = CommandId.ACTIVE_TEST
    command_name: ClassVar[str] = "CMPP_ACTIVE_TEST"

    def response(self) -> ActiveTestResp:
        """The ACTIVE_TEST_RESP to this request."""
        return ActiveTestResp(sequence_id=self.sequence_id)


@dataclass(frozen=True, kw_only=True, slots=True)
class ActiveTestResp(CmppPdu):
    """CMPP_ACTIVE_TEST_RESP (CMPP 2.0 §7.4.7.2, CMPP 3.0 §8.4.7.2): one Reserved byte, 13 bytes in all."""

    command_id: ClassVar[int] = CommandId.ACTIVE_TEST_RESP
    command_name: ClassVar[str] = "CMPP_ACTIVE_TEST_RESP"

    reserved: int = 0


PDU_TYPES: Mapping[int, type[CmppPdu]] = MappingProxyType(
    {
        cls.command_id: cls
        for cls in (
            Connect,
            ConnectResp,
            Terminate,
            TerminateResp,
            Submit,
            SubmitResp,
            Deliver,
            DeliverResp,
            Query,
            QueryResp,
            Cancel,
            CancelResp,
            ActiveTest,
            ActiveTestResp,
        )
    }
)


def decode(frame: bytes, version: Version | int) -> CmppPdu:
    """Decode one whole frame, header included, in the layout of ``version`` (CMPP 3.0 §8.3-8.4).

    ``frame`` is what :func:`~._codec.frame_buffer` returns: Total_Length equals ``len(frame)``. Raises
    :class:`~protocols.errors.RemoteProtocolError` for anything malformed, whatever the bytes: its ``code``
    is the result to answer in the command's response (1 message structure error; 4 bad message length,
    when Msg_Length disagrees with the frame), or None when there is nothing to answer in (unknown
    Command_Id, a response, TERMINATE, QUERY, ACTIVE_TEST) and the connection is to be closed; ``offset``
    (into the frame) and ``field`` (the spec's name) say where. A ``version`` with no wire layout is a
    :class:`~protocols.errors.LocalProtocolError`.

    Runs the decoder generated for the command and layout (:mod:`._fast`); a frame it does not accept, or
    anything but ``bytes``, goes to :func:`decode_reference`, which gives the same PDU or raises the error.
    """
    decoders = _FAST_DECODERS.get(version) if isinstance(version, int) else None
    if decoders is not None and type(frame) is bytes and len(frame) >= _codec.HEADER_SIZE:
        total_length, command_id, sequence_id = _HEADER.unpack_from(frame)
        decoder = decoders.get(command_id)
        if decoder is not None and total_length == len(frame):
            pdu: CmppPdu | None = decoder(frame, sequence_id)
            if pdu is not None:
                return pdu
    return decode_reference(frame, version)


def encode(pdu: CmppPdu, version: Version | int) -> bytes:
    """Encode ``pdu`` as a whole frame in the layout of ``version``.

    Raises :class:`~protocols.errors.LocalProtocolError` naming the field when a value does not fit its slot,
    or when a field of the other layout is set to anything but its default.

    Runs the encoder generated for the class and layout (:mod:`._fast`); a value it does not accept goes to
    :func:`encode_reference`, which writes the same bytes or raises the error.
    """
    encoders = _FAST_ENCODERS.get(version) if isinstance(version, int) else None
    if encoders is not None:
        encoder = encoders.get(type(pdu))
        if encoder is not None:
            frame = encoder(pdu)
            if frame is not None:
                return frame
    return encode_reference(pdu, version)


def decode_reference(frame: bytes, version: Version | int) -> CmppPdu:
    """:func:`decode` through the Construct layouts alone: the definition the fast path is held to."""
    command_id, sequence_id, values = _codec.parse_frame(frame, version)
    return PDU_TYPES[command_id](sequence_id=sequence_id, **values)


def encode_reference(pdu: CmppPdu, version: Version | int) -> bytes:
    """:func:`encode` through the Construct layouts alone: the definition the fast path is held to."""
    carried = _codec.field_names(pdu.command_id, version)
    values: dict[str, object] = {}
    for field in fields(pdu):
        value = getattr(pdu, field.name)
        if field.name in carried:
            values[field.name] = value
        elif field.name != "sequence_id" and value != field.default:
            layout = "3.0" if _codec.wire_is_v3(version) else "2.0"
            raise LocalProtocolError(
                f"{pdu.command_name} {field.name} does not exist in the CMPP {layout} layout"
            )
    return _codec.build_frame(pdu.command_id, pdu.sequence_id, values, version)


_HEADER: Final = _codec._HEADER  # read for every frame decode() is given
_FAST_DECODERS, _FAST_ENCODERS = _fast.generate(PDU_TYPES)
