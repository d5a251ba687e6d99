"""The public surface others code against: PDU classes, responses, codes tables and the frame buffer."""

from __future__ import annotations

import dataclasses
import typing

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from smpp_strategies import ALL_PDU_TYPES, ANY_PDU

from protocols import smpp
from protocols.framing import FramingError
from protocols.smpp import (
    DEFAULT_MAX_FRAME,
    HEADER_SIZE,
    PDU_TYPES,
    STATUS_TEXT,
    CommandId,
    CommandStatus,
    DeliverSm,
    DestAddress,
    EnquireLink,
    GenericNack,
    MessageState,
    QueryBroadcastSm,
    QuerySm,
    SmppPdu,
    SubmitSm,
    SubmitSmResp,
    Tlv,
    UnsuccessSme,
    decode,
    encode,
    frame_buffer,
    generic_nack,
)

RESPONSE_BIT = 0x80000000
REQUESTS = [cls for cls in ALL_PDU_TYPES if hasattr(cls, "response")]


def test_command_names_are_the_spec_names() -> None:
    for command_id, cls in PDU_TYPES.items():
        assert cls.command_name == CommandId(command_id).name.lower()
        assert cls.__name__.lower() == cls.command_name.replace("_", "")


def test_every_request_but_outbind_and_alert_notification_has_a_response() -> None:
    without = {cls.command_name for cls in ALL_PDU_TYPES if not cls.command_id & RESPONSE_BIT} - {
        cls.command_name for cls in REQUESTS
    }
    assert without == {"outbind", "alert_notification"}
    assert all(cls.command_id | RESPONSE_BIT in PDU_TYPES for cls in REQUESTS)


@pytest.mark.parametrize("cls", REQUESTS, ids=lambda c: c.command_name)
def test_response_copies_the_sequence_and_matches_the_command(cls: type[SmppPdu]) -> None:
    request = cls(sequence_number=0x7FFFFFFE)
    tlvs = (Tlv.of("congestion_state", 42),)
    response = request.response(command_status=CommandStatus.ESME_RTHROTTLED, tlvs=tlvs)  # type: ignore[attr-defined]
    assert type(response) is PDU_TYPES[cls.command_id | RESPONSE_BIT]
    assert (response.sequence_number, response.command_status, response.tlvs) == (0x7FFFFFFE, 0x58, tlvs)


def test_response_fields() -> None:
    assert SubmitSm(sequence_number=3).response(message_id="m-1") == SubmitSmResp(
        sequence_number=3, message_id="m-1"
    )
    query = QuerySm(sequence_number=4, message_id="abc").response(message_state=MessageState.DELIVERED)
    assert (query.message_id, query.message_state, query.final_date) == ("abc", 2, "")
    assert QueryBroadcastSm(sequence_number=5, message_id="b1").response().message_id == "b1"
    assert DeliverSm(sequence_number=6).response().message_id == ""
    assert smpp.BindTransceiver(sequence_number=7).response(system_id="SMSC").system_id == "SMSC"


def test_generic_nack_helper() -> None:
    assert generic_nack(9, CommandStatus.ESME_RINVCMDLEN) == GenericNack(sequence_number=9, command_status=2)


@pytest.mark.parametrize("cls", ALL_PDU_TYPES, ids=lambda c: c.command_name)
def test_pdus_are_frozen_keyword_only_with_defaults(cls: type[SmppPdu]) -> None:
    pdu = cls()
    with pytest.raises(dataclasses.FrozenInstanceError):
        pdu.sequence_number = 1  # type: ignore[misc]
    with pytest.raises(TypeError):
        cls(0, 1)  # type: ignore[misc]
    assert not hasattr(pdu, "__dict__")  # slots


ALLOWED_TYPES = {int, str, bytes, tuple[Tlv, ...], tuple[DestAddress, ...], tuple[UnsuccessSme, ...]}


@pytest.mark.parametrize("cls", [*ALL_PDU_TYPES, DestAddress, UnsuccessSme, Tlv], ids=lambda c: c.__name__)
def test_field_types_are_what_the_json_converter_handles(cls: type) -> None:
    hints = typing.get_type_hints(cls)
    for field in dataclasses.fields(cls):
        assert hints[field.name] in ALLOWED_TYPES, field.name
    assert "sm_length" not in hints and "number_of_dests" not in hints and "no_unsuccess" not in hints


def test_public_names() -> None:
    assert set(smpp.__all__) <= set(dir(smpp))
    assert {cls.__name__ for cls in ALL_PDU_TYPES} <= set(smpp.__all__)


# -- codes ---------------------------------------------------------------------------------------------


def test_every_status_has_a_description() -> None:
    assert set(STATUS_TEXT) == set(CommandStatus)
    assert all(member.name.startswith("ESME_R") and STATUS_TEXT[member] for member in CommandStatus)


def test_status_values_from_the_spec_table() -> None:
    assert CommandStatus.ESME_RTHROTTLED == 0x58
    assert CommandStatus.ESME_RINVOPTPARSTREAM == 0xC0
    assert CommandStatus.ESME_RINVPARLEN == 0xC2
    assert CommandStatus.ESME_RUNKNOWNERR == 0xFF
    # SMPP 5.0 fills 0x100-0x112 without gaps.
    assert sorted(m for m in CommandStatus if m >= 0x100) == list(range(0x100, 0x113))


def test_message_states() -> None:
    assert [m.name for m in MessageState] == [
        "SCHEDULED",
        "ENROUTE",
        "DELIVERED",
        "EXPIRED",
        "DELETED",
        "UNDELIVERABLE",
        "ACCEPTED",
        "UNKNOWN",
        "REJECTED",
        "SKIPPED",
    ]
    assert list(MessageState) == list(range(10))


def test_flag_constants() -> None:
    assert smpp.EsmClass.TYPE_DELIVERY_RECEIPT == 0x04 and smpp.EsmClass.UDHI == 0x40
    assert smpp.RegisteredDelivery.INTERMEDIATE_NOTIFICATION == 0x10
    assert smpp.DataCoding.UCS2 == 8 and smpp.InterfaceVersion.SMPP_3_4 == 0x34


# -- framing -------------------------------------------------------------------------------------------


def test_frame_buffer_bounds() -> None:
    buffer = frame_buffer()
    assert (buffer.min_length, buffer.max_length) == (HEADER_SIZE, DEFAULT_MAX_FRAME)
    # A maximal message_payload fits the default bound.
    payload = SubmitSm(tlvs=(Tlv.of("message_payload", b"x" * 0xFFFF),))
    assert buffer.feed(encode(payload)) == [encode(payload)]
    with pytest.raises(FramingError) as caught:
        frame_buffer(max_length=1024).feed(
            (2048).to_bytes(4, "big") + b"\x00\x00\x00\x04\x00\x00\x00\x00\x00\x00\x00\x09"
        )
    assert (caught.value.code, caught.value.sequence, caught.value.command_id) == (
        CommandStatus.ESME_RINVCMDLEN,
        9,
        4,
    )


@settings(max_examples=30, deadline=None)
@given(pdus=st.lists(ANY_PDU, min_size=1, max_size=6), cuts=st.lists(st.integers(1, 40), max_size=10))
def test_split_and_coalesced_stream_decodes_the_same(pdus: list[SmppPdu], cuts: list[int]) -> None:
    stream = b"".join(encode(pdu) for pdu in pdus)
    buffer = frame_buffer()
    frames: list[bytes] = []
    position = 0
    for size in [*cuts, len(stream)]:
        frames += buffer.feed(stream[position : position + size])
        position += size
    assert [encode(decode(f)) for f in frames] == [encode(pdu) for pdu in pdus]
    assert buffer.buffered == 0


def test_enquire_link_behind_bind_resp_in_one_segment() -> None:
    # smpp34 1.4.1's lesson: PDUs coalesce; the buffer must hand out both.
    stream = encode(smpp.BindTransceiverResp(sequence_number=1, system_id="SMSC")) + encode(
        EnquireLink(sequence_number=2)
    )
    assert [decode(f) for f in frame_buffer().feed(stream)] == [
        smpp.BindTransceiverResp(sequence_number=1, system_id="SMSC"),
        EnquireLink(sequence_number=2),
    ]
