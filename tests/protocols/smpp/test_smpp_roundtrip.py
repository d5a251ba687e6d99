"""Hypothesis round trips for every PDU type, and the spec's size limits on both sides of the codec."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from smpp_strategies import ALL_PDU_TYPES, C_OCTET_MAX, TIME_FIELDS, c_octet_max, valid_pdu

from protocols.errors import LocalProtocolError, RemoteProtocolError
from protocols.smpp import (
    PDU_TYPES,
    CommandStatus,
    SmppPdu,
    SubmitSm,
    decode,
    encode,
)


@pytest.mark.parametrize("cls", ALL_PDU_TYPES, ids=lambda c: c.command_name)
@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_round_trip(cls: type[SmppPdu], data: st.DataObject) -> None:
    pdu = data.draw(valid_pdu(cls))
    wire = encode(pdu)
    assert int.from_bytes(wire[:4], "big") == len(wire)
    assert int.from_bytes(wire[4:8], "big") == cls.command_id
    assert decode(wire) == pdu
    assert encode(decode(wire)) == wire


def test_every_command_has_a_type() -> None:
    # 27 PDUs of SMPP 3.4 and the 6 broadcast PDUs of SMPP 5.0, each under its own command_id.
    assert len(PDU_TYPES) == 33
    assert all(cls.command_id == command_id for command_id, cls in PDU_TYPES.items())


# -- C-Octet String and time field limits -------------------------------------------------------------

STRING_FIELDS = [
    (cls, field.name)
    for cls in ALL_PDU_TYPES
    for field in dataclasses.fields(cls)
    if field.name in C_OCTET_MAX
]

# The status Table 5-2 gives for a bad value of each field; ESME_RINVPARLEN where it names none.
FIELD_STATUS = {
    "system_id": CommandStatus.ESME_RINVSYSID,
    "password": CommandStatus.ESME_RINVPASWD,
    "system_type": CommandStatus.ESME_RINVSYSTYP,
    "service_type": CommandStatus.ESME_RINVSERTYP,
    "source_addr": CommandStatus.ESME_RINVSRCADR,
    "destination_addr": CommandStatus.ESME_RINVDSTADR,
    "message_id": CommandStatus.ESME_RINVMSGID,
    "address_range": CommandStatus.ESME_RINVPARLEN,
    "esme_addr": CommandStatus.ESME_RINVPARLEN,
}


def _request_with(cls: type[SmppPdu], name: str, value: str) -> SmppPdu:
    return cls(sequence_number=1, **{name: value})


@pytest.mark.parametrize(("cls", "name"), STRING_FIELDS, ids=lambda x: getattr(x, "command_name", x))
def test_c_octet_maximum_includes_the_nul(cls: type[SmppPdu], name: str) -> None:
    limit = c_octet_max(cls, name)
    longest = _request_with(cls, name, "9" * (limit - 1))
    assert decode(encode(longest)) == longest
    with pytest.raises(LocalProtocolError, match=name):
        encode(_request_with(cls, name, "9" * limit))


@pytest.mark.parametrize(
    ("cls", "name"),
    [(cls, name) for cls, name in STRING_FIELDS if not cls.command_id & 0x80000000],
    ids=lambda x: getattr(x, "command_name", x),
)
def test_overlong_c_octet_string_is_answered_with_the_field_status(cls: type[SmppPdu], name: str) -> None:
    limit = c_octet_max(cls, name)
    marker = "Z" * (limit - 1)  # octets that appear nowhere else in the frame
    wire = encode(_request_with(cls, name, marker))
    start = wire.index(marker.encode("latin-1"))
    # Replace the NUL after the value by one more character: no NUL within the maximum any more.
    bad = wire[: start + limit - 1] + b"Z" + wire[start + limit :]
    with pytest.raises(RemoteProtocolError) as caught:
        decode(bad)
    assert caught.value.code == FIELD_STATUS[name]
    assert (caught.value.field, caught.value.offset) == (name, start)
    assert (caught.value.command_id, caught.value.sequence) == (cls.command_id, 1)


TIME_CASES = [
    (cls, field.name)
    for cls in ALL_PDU_TYPES
    for field in dataclasses.fields(cls)
    if field.name in TIME_FIELDS
]


@pytest.mark.parametrize(("cls", "name"), TIME_CASES, ids=lambda x: getattr(x, "command_name", x))
@pytest.mark.parametrize("length", [1, 15, 17])
def test_time_fields_are_empty_or_16_characters(cls: type[SmppPdu], name: str, length: int) -> None:
    with pytest.raises(LocalProtocolError, match=name):
        encode(_request_with(cls, name, "0" * length))


def test_short_message_limit_is_254_octets() -> None:
    assert decode(encode(SubmitSm(short_message=b"x" * 254))).short_message == b"x" * 254
    with pytest.raises(LocalProtocolError, match="254"):
        encode(SubmitSm(short_message=b"x" * 255))
