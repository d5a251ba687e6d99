"""Shared Hypothesis strategies and spec tables for the SMPP codec tests (a helper, not a test module).

The field limits below are restated from the specification (SMPP v3.4 §4 tables, smpp.md §6.5), not
imported from the codec, so that the tests check the codec's tables instead of repeating them.
"""

from __future__ import annotations

import dataclasses

from hypothesis import strategies as st

from protocols.smpp import (
    PDU_TYPES,
    TLV_SPECS,
    TLV_TAGS,
    AlertNotification,
    DataSm,
    DestAddress,
    SmppPdu,
    Tlv,
    UnsuccessSme,
)

RESPONSE_BIT = 0x80000000
UINT32 = st.integers(0, 0xFFFFFFFF)

#: C-Octet String maxima, NUL included (SMPP v3.4 §4; "Var. max N").
C_OCTET_MAX: dict[str, int] = {
    "system_id": 16,
    "password": 9,
    "system_type": 13,
    "address_range": 41,
    "service_type": 6,
    "source_addr": 21,
    "destination_addr": 21,
    "esme_addr": 65,
    "message_id": 65,
    "dl_name": 21,
}
#: Where a PDU allows longer addresses than the common 21 (data_sm §4.7.1, alert_notification §4.12.1).
WIDE_FIELDS: dict[type[SmppPdu], dict[str, int]] = {
    DataSm: {"source_addr": 65, "destination_addr": 65},
    AlertNotification: {"source_addr": 65},
}
TIME_FIELDS = frozenset({"schedule_delivery_time", "validity_period", "final_date"})


def c_octet_max(cls: type, name: str) -> int:
    return WIDE_FIELDS.get(cls, {}).get(name, C_OCTET_MAX[name])


def text(max_chars: int) -> st.SearchStrategy[str]:
    # Any latin-1 character except NUL: the codec's str <-> bytes mapping must be lossless.
    return st.text(st.characters(min_codepoint=1, max_codepoint=255), max_size=max_chars)


TIMES = st.one_of(st.just(""), st.text(st.sampled_from("0123456789+-R"), min_size=16, max_size=16))
UNKNOWN_TAGS = st.integers(0, 0xFFFF).filter(lambda tag: tag not in TLV_SPECS)


@st.composite
def known_tlv(draw: st.DrawFn) -> Tlv:
    spec = draw(st.sampled_from(sorted(TLV_SPECS.values(), key=lambda s: s.tag)))
    # Keep message_payload and the other long values small: size is not what is being tested.
    high = min(spec.max_len, spec.min_len + 40)
    return Tlv(spec.tag, draw(st.binary(min_size=spec.min_len, max_size=high)))


TLV = st.one_of(known_tlv(), st.builds(Tlv, UNKNOWN_TAGS, st.binary(max_size=40)))


def tlv_tuples(*, with_payload: bool = True) -> st.SearchStrategy[tuple[Tlv, ...]]:
    payload = TLV_TAGS["message_payload"]
    items = TLV if with_payload else TLV.filter(lambda t: t.tag != payload)
    return st.lists(items, max_size=4).map(tuple)


DEST_ADDRESSES = st.lists(
    st.one_of(
        st.builds(
            DestAddress,
            dest_flag=st.just(1),
            dest_addr_ton=st.integers(0, 255),
            dest_addr_npi=st.integers(0, 255),
            destination_addr=text(20),
        ),
        st.builds(DestAddress, dest_flag=st.just(2), dl_name=text(20)),
    ),
    max_size=5,
).map(tuple)
UNSUCCESS = st.lists(
    st.builds(
        UnsuccessSme,
        dest_addr_ton=st.integers(0, 255),
        dest_addr_npi=st.integers(0, 255),
        destination_addr=text(20),
        error_status_code=UINT32,
    ),
    max_size=5,
).map(tuple)


def field_strategy(cls: type[SmppPdu], name: str) -> st.SearchStrategy[object]:
    if name in TIME_FIELDS:
        return TIMES
    if name in C_OCTET_MAX:
        return text(c_octet_max(cls, name) - 1)
    special: dict[str, st.SearchStrategy[object]] = {
        "short_message": st.binary(max_size=254),
        "dest_address": DEST_ADDRESSES,
        "unsuccess_sme": UNSUCCESS,
    }
    # Every other body field of SMPP 3.4/5.0 is a 1-octet Integer.
    return special.get(name, st.integers(0, 255))


@st.composite
def valid_pdu(draw: st.DrawFn, cls: type[SmppPdu]) -> SmppPdu:
    """A PDU of ``cls`` that the spec allows; error responses keep their body at the defaults."""
    sequence = draw(UINT32)
    status = draw(st.one_of(st.just(0), UINT32))
    if cls.command_id & RESPONSE_BIT and status:
        return cls(command_status=status, sequence_number=sequence)
    values: dict[str, object] = {}
    for field in dataclasses.fields(cls):
        if field.name in {"command_status", "sequence_number", "tlvs"}:
            continue
        values[field.name] = draw(field_strategy(cls, field.name))
    if any(f.name == "tlvs" for f in dataclasses.fields(cls)):
        # short_message and message_payload must never both be used (SMPP v3.4 §4.4.1).
        values["tlvs"] = draw(tlv_tuples(with_payload=not values.get("short_message")))
    return cls(command_status=status, sequence_number=sequence, **values)


ALL_PDU_TYPES = sorted(PDU_TYPES.values(), key=lambda c: c.command_id)


#: Valid PDUs of every type.
ANY_PDU = st.sampled_from(ALL_PDU_TYPES).flatmap(valid_pdu)
