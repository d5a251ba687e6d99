"""SMPP optional parameters (TLVs): the raw value object, the tag table and typed helpers.

SMPP v3.4 §3.2.4 / §5.3: an optional parameter is a 2-octet tag, a 2-octet length and that many value
octets. A :class:`Tlv` keeps the value as raw bytes so that every TLV, known or not, round-trips
byte-exact (§3.3: unknown tags are ignored by the receiver, and a simulator that re-encodes must not
alter them). Meaning is attached on demand by :data:`TLV_SPECS`, a table of every standard tag of
SMPP v3.4 §5.3.2 Table 5-7 and the SMPP 5.0 additions (§4.8.4 of 5.0): name, value kind and the legal
value lengths. The codec checks those lengths on decode (``ESME_RINVPARLEN``) and on encode.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import Enum
from types import MappingProxyType
from typing import Final

from protocols.errors import LocalProtocolError

__all__ = ["MAX_TLV_VALUE", "TLV_SPECS", "TLV_TAGS", "Tlv", "TlvKind", "TlvSpec", "tlv_value"]

#: A TLV length field is 2 octets (SMPP v3.4 §3.2.4), so no value can be longer.
MAX_TLV_VALUE: Final = 0xFFFF


class TlvKind(Enum):
    """How a TLV value is read (SMPP v3.4 §3.1 data types)."""

    INT = "int"  #: big-endian unsigned Integer (built in ``min_len`` octets, the 3.4 width)
    COCTET = "c-octet"  #: C-Octet String: latin-1 text plus a NUL, the NUL counted in the length
    OCTET = "octet"  #: Octet String: opaque bytes
    EMPTY = "empty"  #: presence is the value (alert_on_message_delivery)


@dataclass(frozen=True, slots=True)
class TlvSpec:
    """One row of the TLV table: a tag's name, value kind and legal value lengths (inclusive)."""

    tag: int
    name: str
    kind: TlvKind
    min_len: int
    max_len: int


_INT, _COCTET, _OCTET, _EMPTY = TlvKind.INT, TlvKind.COCTET, TlvKind.OCTET, TlvKind.EMPTY

# SMPP v3.4 §5.3.2 Table 5-7, then SMPP 5.0 §4.8.4. Lengths are the value part in octets.
# Where 5.0 widened a 3.4 parameter, the bounds accept both and the kind follows 3.4, noted per row.
_TABLE: tuple[tuple[int, str, TlvKind, int, int], ...] = (
    # (tag, name, value kind, min length, max length)
    (0x0005, "dest_addr_subunit", _INT, 1, 1),
    (0x0006, "dest_network_type", _INT, 1, 1),
    (0x0007, "dest_bearer_type", _INT, 1, 1),
    (0x0008, "dest_telematics_id", _INT, 2, 2),
    (0x000D, "source_addr_subunit", _INT, 1, 1),
    (0x000E, "source_network_type", _INT, 1, 1),
    (0x000F, "source_bearer_type", _INT, 1, 1),
    (0x0010, "source_telematics_id", _INT, 1, 2),  # 1 octet in 3.4; 2 in 5.0, like dest_telematics_id
    (0x0017, "qos_time_to_live", _INT, 4, 4),
    (0x0019, "payload_type", _INT, 1, 1),
    (0x001D, "additional_status_info_text", _COCTET, 1, 256),
    (0x001E, "receipted_message_id", _COCTET, 1, 65),
    (0x0030, "ms_msg_wait_facilities", _INT, 1, 1),
    (0x0201, "privacy_indicator", _INT, 1, 1),
    (0x0202, "source_subaddress", _OCTET, 2, 23),
    (0x0203, "dest_subaddress", _OCTET, 2, 23),
    (0x0204, "user_message_reference", _INT, 2, 2),
    (0x0205, "user_response_code", _INT, 1, 1),
    (0x020A, "source_port", _INT, 2, 2),
    (0x020B, "destination_port", _INT, 2, 2),
    (0x020C, "sar_msg_ref_num", _INT, 2, 2),
    (0x020D, "language_indicator", _INT, 1, 1),
    (0x020E, "sar_total_segments", _INT, 1, 1),
    (0x020F, "sar_segment_seqnum", _INT, 1, 1),
    (0x0210, "sc_interface_version", _INT, 1, 1),
    (0x0302, "callback_num_pres_ind", _INT, 1, 1),
    (0x0303, "callback_num_atag", _OCTET, 1, 65),
    (0x0304, "number_of_messages", _INT, 1, 1),
    (0x0381, "callback_num", _OCTET, 4, 19),
    (0x0420, "dpf_result", _INT, 1, 1),
    (0x0421, "set_dpf", _INT, 1, 1),
    (0x0422, "ms_availability_status", _INT, 1, 1),
    (0x0423, "network_error_code", _OCTET, 3, 3),  # network type (1) + error code (2)
    (0x0424, "message_payload", _OCTET, 0, MAX_TLV_VALUE),
    (0x0425, "delivery_failure_reason", _INT, 1, 1),
    (0x0426, "more_messages_to_send", _INT, 1, 1),
    (0x0427, "message_state", _INT, 1, 1),
    (0x0501, "ussd_service_op", _INT, 1, 1),
    (0x1201, "display_time", _INT, 1, 1),
    (0x1203, "sms_signal", _INT, 2, 2),
    (0x1204, "ms_validity", _OCTET, 1, 4),  # 1 octet in 3.4; 5.0 adds a 4-octet relative form
    (0x130C, "alert_on_message_delivery", _EMPTY, 0, 1),  # empty in 3.4; 5.0 allows a 1-octet level
    (0x1380, "its_reply_type", _INT, 1, 1),
    (0x1383, "its_session_info", _OCTET, 2, 2),  # session number (1) + sequence (1)
    # SMPP 5.0 additions.
    (0x0428, "congestion_state", _INT, 1, 1),
    (0x0600, "broadcast_channel_indicator", _INT, 1, 1),
    (0x0601, "broadcast_content_type", _OCTET, 3, 3),  # network type (1) + content type (2)
    (0x0602, "broadcast_content_type_info", _OCTET, 1, 255),
    (0x0603, "broadcast_message_class", _INT, 1, 1),
    (0x0604, "broadcast_rep_num", _INT, 2, 2),
    (0x0605, "broadcast_frequency_interval", _OCTET, 3, 3),  # time unit (1) + number (2)
    (0x0606, "broadcast_area_identifier", _OCTET, 1, 101),  # format (1) + details (max 100)
    (0x0607, "broadcast_error_status", _INT, 4, 4),
    (0x0608, "broadcast_area_success", _INT, 1, 1),
    (0x0609, "broadcast_end_time", _COCTET, 17, 17),  # absolute time YYMMDDhhmmsstnnp + NUL
    (0x060A, "broadcast_service_group", _OCTET, 1, 255),
    (0x060B, "billing_identification", _OCTET, 1, 1024),  # format tag (1) + billing data
    (0x060D, "source_network_id", _COCTET, 1, 65),
    (0x060E, "dest_network_id", _COCTET, 1, 65),
    (0x060F, "source_node_id", _OCTET, 6, 6),  # 6 decimal digits
    (0x0610, "dest_node_id", _OCTET, 6, 6),
    (0x0611, "dest_addr_np_resolution", _INT, 1, 1),
    (0x0612, "dest_addr_np_information", _OCTET, 10, 10),
    (0x0613, "dest_addr_np_country", _INT, 5, 5),  # E.164 country code as a 5-octet Integer
)

#: Every standard TLV by tag.
TLV_SPECS: Final[Mapping[int, TlvSpec]] = MappingProxyType({row[0]: TlvSpec(*row) for row in _TABLE})
#: Tag of every standard TLV by name.
TLV_TAGS: Final[Mapping[str, int]] = MappingProxyType({spec.name: tag for tag, spec in TLV_SPECS.items()})


def _spec_named(name: str) -> TlvSpec:
    tag = TLV_TAGS.get(name)
    if tag is None:
        raise LocalProtocolError(f"unknown TLV name {name!r}")
    return TLV_SPECS[tag]


@dataclass(frozen=True, slots=True)
class Tlv:
    """One optional parameter as it is on the wire (SMPP v3.4 §3.2.4): tag and raw value octets."""

    tag: int
    value: bytes

    @classmethod
    def of(cls, name: str, value: int | str | bytes) -> Tlv:
        """Build a standard TLV by name from a typed value (SMPP v3.4 §5.3.2).

        ``int`` for Integer TLVs (written in their 3.4 width), ``str`` for C-Octet Strings (latin-1, the
        NUL is added), ``bytes`` for Octet Strings and for the empty ``alert_on_message_delivery``.
        Raises :class:`LocalProtocolError` for an unknown name, a value of the wrong kind or length.
        """
        spec = _spec_named(name)
        raw: bytes
        if spec.kind is TlvKind.INT:
            if not isinstance(value, int) or isinstance(value, bool):
                raise LocalProtocolError(f"TLV {name} takes an int")
            if not 0 <= value < 1 << (8 * spec.min_len):
                raise LocalProtocolError(f"TLV {name} does not fit in {spec.min_len} octets")
            raw = value.to_bytes(spec.min_len, "big")
        elif spec.kind is TlvKind.COCTET:
            if not isinstance(value, str):
                raise LocalProtocolError(f"TLV {name} takes a str")
            try:
                raw = value.encode("latin-1") + b"\0"
            except UnicodeEncodeError:
                raise LocalProtocolError(f"TLV {name} must be latin-1 text") from None
            if b"\0" in raw[:-1]:
                raise LocalProtocolError(f"TLV {name} must not contain NUL")
        else:
            if not isinstance(value, bytes):
                raise LocalProtocolError(f"TLV {name} takes bytes")
            raw = value
        if not spec.min_len <= len(raw) <= spec.max_len:
            raise LocalProtocolError(f"TLV {name} value length outside [{spec.min_len}, {spec.max_len}]")
        return cls(spec.tag, raw)


def tlv_value(tlvs: Iterable[Tlv], name: str) -> int | str | bytes | None:
    """Typed value of the first TLV named ``name`` in ``tlvs``, or ``None`` when absent.

    Integers are big-endian; a C-Octet String is cut at its first NUL (tolerating a peer that omits
    the terminator, as some SMSCs do with receipted_message_id) and decoded latin-1; Octet Strings and
    empty TLVs are returned as raw bytes. Raises :class:`LocalProtocolError` for an unknown name.
    """
    spec = _spec_named(name)
    for tlv in tlvs:
        if tlv.tag == spec.tag:
            if spec.kind is TlvKind.INT:
                return int.from_bytes(tlv.value, "big")
            if spec.kind is TlvKind.COCTET:
                return tlv.value.split(b"\0", 1)[0].decode("latin-1")
            return tlv.value
    return None
