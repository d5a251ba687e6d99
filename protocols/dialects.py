"""One table of the wire dialects smsclab speaks, for tools that pick one by name (``--protocol``).

A :class:`Dialect` bundles what a tool needs to turn bytes into PDUs and back without knowing which
protocol it holds: the frame splitter, the codec, the PDU classes by command name, and a ``describe``
function that adds what a person wants to read next to the raw fields (the message text decoded by its
data coding, a status report's fields, the time inside a CMPP Msg_Id, TLVs by name).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from . import cmpp, smpp, text
from .errors import RemoteProtocolError
from .framing import FrameBuffer

__all__ = ["DIALECTS", "Dialect"]


@dataclass(frozen=True, slots=True)
class Dialect:
    """A protocol at one version, as the codec tools see it."""

    name: str
    description: str
    #: Name of the header's sequence field, which the JSON form lifts to the top level.
    sequence_field: str
    classes: Mapping[str, type]
    decode: Callable[[bytes], Any]
    encode: Callable[[Any], bytes]
    frame_buffer: Callable[[], FrameBuffer]
    describe: Callable[[Any], dict[str, object]]


def _message_text(content: bytes, encoding: text.Encoding, udhi: bool) -> dict[str, object]:
    """The readable side of a message body: its UDH (when flagged) and its text."""
    described: dict[str, object] = {}
    payload = content
    if udhi:
        try:
            header, payload = text.parse_udh(content)
        except text.UserDataHeaderError as error:
            described["udh_error"] = str(error)
        else:
            udh: dict[str, object] = {"elements": [[iei, value.hex()] for iei, value in header.elements]}
            if header.concat is not None:
                reference, total, number = header.concat
                udh["concat"] = {"reference": reference, "total": total, "number": number}
            described["udh"] = udh
    described["encoding"] = encoding.name
    described["text"] = text.decode_text(payload, encoding)
    return described


def _msg_id(value: int) -> dict[str, int]:
    parts = cmpp.MsgId.decompose(value)
    return {"month": parts.month, "day": parts.day, "hour": parts.hour, "minute": parts.minute,
            "second": parts.second, "gateway": parts.gateway, "sequence": parts.sequence}


def _describe_cmpp(pdu: cmpp.CmppPdu) -> dict[str, object]:
    described: dict[str, object] = {}
    msg_id = getattr(pdu, "msg_id", 0)
    if msg_id:
        described["msg_id"] = _msg_id(msg_id)
    if isinstance(pdu, cmpp.Deliver) and pdu.registered_delivery == 1:
        try:
            report = pdu.report
        except RemoteProtocolError as error:
            described["report_error"] = str(error)
        else:
            if report is not None:
                described["report"] = {"msg_id": _msg_id(report.msg_id), "stat": report.stat,
                                       "submit_time": report.submit_time, "done_time": report.done_time,
                                       "dest_terminal_id": report.dest_terminal_id,
                                       "smsc_sequence": report.smsc_sequence}
    elif isinstance(pdu, cmpp.Submit | cmpp.Deliver):
        described.update(_message_text(pdu.msg_content, text.encoding_for_msg_fmt(pdu.msg_fmt),
                                       text.udhi_set(pdu.tp_udhi)))
    return described


def _describe_smpp(pdu: smpp.SmppPdu) -> dict[str, object]:
    described: dict[str, object] = {"command_status": smpp.STATUS_TEXT.get(pdu.command_status, "unknown")}
    tlvs = getattr(pdu, "tlvs", ())
    if tlvs:
        named: dict[str, object] = {}
        for tlv in tlvs:
            spec = smpp.TLV_SPECS.get(tlv.tag)
            if spec is None:
                named[f"0x{tlv.tag:04x}"] = tlv.value.hex()
            else:
                value = smpp.tlv_value((tlv,), spec.name)
                named[spec.name] = value.hex() if isinstance(value, bytes) else value
        described["tlvs"] = named
    content = getattr(pdu, "short_message", b"") or (smpp.tlv_value(tlvs, "message_payload") or b"")
    if isinstance(content, bytes) and content:
        esm_class = getattr(pdu, "esm_class", 0)
        if esm_class & smpp.EsmClass.TYPE_MASK == smpp.EsmClass.TYPE_DELIVERY_RECEIPT:
            try:
                receipt = smpp.parse_receipt(content)
            except smpp.ReceiptFormatError as error:
                described["receipt_error"] = str(error)
            else:
                described["receipt"] = {"id": receipt.id, "sub": receipt.sub, "dlvrd": receipt.dlvrd,
                                        "submit_date": receipt.submit_date, "done_date": receipt.done_date,
                                        "stat": receipt.stat, "err": receipt.err, "text": receipt.text}
        else:
            encoding = text.encoding_for_data_coding(getattr(pdu, "data_coding", 0))
            described.update(_message_text(content, encoding,
                                           text.udhi_set(esm_class, mask=smpp.EsmClass.UDHI)))
    return described


def _cmpp_dialect(name: str, version: cmpp.Version) -> Dialect:
    return Dialect(
        name=name,
        description=f"CMPP {version.value >> 4}.{version.value & 0xF} (Version byte 0x{version.value:02x})",
        sequence_field="sequence_id",
        classes=MappingProxyType({cls.command_name: cls for cls in cmpp.PDU_TYPES.values()}),
        decode=lambda frame: cmpp.decode(frame, version),
        encode=lambda pdu: cmpp.encode(pdu, version),
        frame_buffer=cmpp.frame_buffer,
        describe=_describe_cmpp,
    )


def _smpp_dialect(name: str, description: str) -> Dialect:
    return Dialect(
        name=name,
        description=description,
        sequence_field="sequence_number",
        classes=MappingProxyType({cls.command_name: cls for cls in smpp.PDU_TYPES.values()}),
        decode=smpp.decode,
        encode=smpp.encode,
        frame_buffer=smpp.frame_buffer,
        describe=_describe_smpp,
    )


#: Every dialect by the name ``--protocol`` takes.
DIALECTS: Mapping[str, Dialect] = MappingProxyType({
    "cmpp20": _cmpp_dialect("cmpp20", cmpp.Version.V20),
    "cmpp21": _cmpp_dialect("cmpp21", cmpp.Version.V21),
    "cmpp30": _cmpp_dialect("cmpp30", cmpp.Version.V30),
    "smpp34": _smpp_dialect("smpp34", "SMPP 3.4 with the SMPP 5.0 additions"),
})
