"""Which status each decode fault carries, where it points, and the error-response rules (F5, F6, F10)."""

from __future__ import annotations

import pytest

from protocols.errors import LocalProtocolError, RemoteProtocolError
from protocols.smpp import (
    PDU_TYPES,
    BindTransmitter,
    CommandStatus,
    DataSmResp,
    DeliverSmResp,
    DestAddress,
    EnquireLink,
    GenericNack,
    SmppPdu,
    SubmitMulti,
    SubmitSm,
    SubmitSmResp,
    Tlv,
    UnsuccessSme,
    decode,
    encode,
)

S = CommandStatus


def header(length: int, command_id: int, status: int = 0, sequence: int = 7) -> bytes:
    return b"".join(value.to_bytes(4, "big") for value in (length, command_id, status, sequence))


def frame(command_id: int, body: bytes, *, status: int = 0, sequence: int = 7) -> bytes:
    return header(16 + len(body), command_id, status, sequence) + body


def refused(wire: bytes) -> RemoteProtocolError:
    with pytest.raises(RemoteProtocolError) as caught:
        decode(wire)
    return caught.value


# A submit_sm body whose fields are all NULL/zero, with slots to vary: 1 + 3 + 3 + 3 + 2 + 4 octets.
SUBMIT_HEAD = b"\x00" + b"\x00\x00\x00" + b"\x00\x00\x00" + b"\x00\x00\x00" + b"\x00\x00" + b"\x00" * 4
SUBMIT_ID = SubmitSm.command_id


# -- header faults ----------------------------------------------------------------------------------


@pytest.mark.parametrize("size", [0, 4, 8, 15])
def test_frame_shorter_than_the_header(size: int) -> None:
    error = refused(header(16, SUBMIT_ID)[:size])
    assert (error.code, error.field, error.offset, error.sequence) == (
        S.ESME_RINVCMDLEN,
        "command_length",
        0,
        None,
    )
    assert error.command_id == (SUBMIT_ID if size >= 8 else None)


def test_command_length_must_be_the_frame_size() -> None:
    wire = encode(EnquireLink(sequence_number=9))
    error = refused(header(17, EnquireLink.command_id, sequence=9) + wire[16:])
    assert (error.code, error.command_id, error.sequence, error.field) == (
        S.ESME_RINVCMDLEN,
        0x15,
        9,
        "command_length",
    )


@pytest.mark.parametrize("command_id", [0x00000077, 0x80000077, 0x0000000A, 0x00010200])
def test_unknown_command_id_carries_rinvcmdid_and_the_sequence(command_id: int) -> None:
    error = refused(frame(command_id, b"\x00\x01", sequence=0x42))
    assert (error.code, error.command_id, error.sequence, error.offset) == (
        S.ESME_RINVCMDID,
        command_id,
        0x42,
        4,
    )


# -- mandatory body faults (F5) -------------------------------------------------------------------------


def test_body_ending_inside_a_c_octet_string() -> None:
    body = b"\x00" + b"\x01\x01" + b"44770"  # service_type, ton, npi, then source_addr without its NUL
    error = refused(frame(SUBMIT_ID, body))
    assert (error.code, error.field, error.offset) == (S.ESME_RINVCMDLEN, "source_addr", 19)
    assert (error.command_id, error.sequence) == (SUBMIT_ID, 7)


def test_body_ending_before_an_integer() -> None:
    error = refused(frame(SUBMIT_ID, b"\x00\x01"))  # service_type, source_addr_ton, then nothing
    assert (error.code, error.field, error.offset) == (S.ESME_RINVCMDLEN, "source_addr_npi", 18)


def test_sm_length_past_the_end_of_the_body() -> None:
    error = refused(frame(SUBMIT_ID, SUBMIT_HEAD + b"\x05abc"))
    assert (error.code, error.field, error.offset) == (S.ESME_RINVMSGLEN, "sm_length", 16 + len(SUBMIT_HEAD))


def test_sm_length_above_254() -> None:
    error = refused(frame(SUBMIT_ID, SUBMIT_HEAD + b"\xff" + b"x" * 255))
    assert (error.code, error.field) == (S.ESME_RINVMSGLEN, "sm_length")


@pytest.mark.parametrize(
    ("name", "slot", "status"),
    [("schedule_delivery_time", 10, S.ESME_RINVSCHED), ("validity_period", 11, S.ESME_RINVEXPIRY)],
)
def test_time_field_neither_empty_nor_16_characters(name: str, slot: int, status: int) -> None:
    body = SUBMIT_HEAD[:slot] + b"24010112\x00" + SUBMIT_HEAD[slot + 1 :] + b"\x00"
    error = refused(frame(SUBMIT_ID, body))
    assert (error.code, error.field, error.offset) == (status, name, 16 + slot)


def test_bind_password_longer_than_8_characters() -> None:
    body = b"esme\x00" + b"password9\x00" + b"\x00" + b"\x34\x00\x00" + b"\x00"
    error = refused(frame(BindTransmitter.command_id, body))
    assert (error.code, error.field, error.offset) == (S.ESME_RINVPASWD, "password", 21)


def test_number_of_dests_above_254() -> None:
    body = b"\x00\x00\x00\x00" + b"\xff"
    error = refused(frame(SubmitMulti.command_id, body))
    assert (error.code, error.field, error.offset) == (S.ESME_RINVNUMDESTS, "number_of_dests", 20)


def test_dest_flag_other_than_1_or_2() -> None:
    body = b"\x00\x00\x00\x00" + b"\x01" + b"\x03" + b"\x00\x00\x00"
    error = refused(frame(SubmitMulti.command_id, body))
    assert (error.code, error.field, error.offset) == (S.ESME_RINVDESTFLAG, "dest_flag", 21)


@pytest.mark.parametrize("command_id", [0x00000015, 0x00000006, 0x80000000])
def test_header_only_pdus_refuse_a_body(command_id: int) -> None:
    error = refused(frame(command_id, b"\x00"))
    assert (error.code, error.field, error.offset) == (S.ESME_RINVCMDLEN, "command_length", 16)


# -- optional part faults ---------------------------------------------------------------------------------


def test_partial_tlv_header() -> None:
    error = refused(frame(SUBMIT_ID, SUBMIT_HEAD + b"\x00" + b"\x02\x04\x00"))
    assert (error.code, error.field, error.offset) == (
        S.ESME_RINVOPTPARSTREAM,
        "tlvs",
        16 + len(SUBMIT_HEAD) + 1,
    )


def test_tlv_length_past_the_end_of_the_body() -> None:
    error = refused(frame(SUBMIT_ID, SUBMIT_HEAD + b"\x00" + b"\x14\x01\x00\x09abc"))
    assert (error.code, error.field) == (S.ESME_RINVOPTPARSTREAM, "tlv 0x1401")


def test_known_tlv_of_wrong_length() -> None:
    tlvs = b"\x14\x01\x00\x00" + b"\x02\x0c\x00\x01\x07"  # a vendor TLV, then sar_msg_ref_num of 1 octet
    error = refused(frame(SUBMIT_ID, SUBMIT_HEAD + b"\x00" + tlvs))
    assert (error.code, error.field) == (S.ESME_RINVPARLEN, "sar_msg_ref_num")
    assert error.offset == 16 + len(SUBMIT_HEAD) + 1 + 4


def test_short_message_and_message_payload_together() -> None:
    # SMPP v3.4 §4.4.1 / §5.3.2.32: never both; the non-zero sm_length is the wrong value.
    body = SUBMIT_HEAD + b"\x02hi" + b"\x04\x24\x00\x03abc"
    error = refused(frame(SUBMIT_ID, body))
    assert (error.code, error.field) == (S.ESME_RINVMSGLEN, "message_payload")
    with pytest.raises(LocalProtocolError, match="message_payload"):
        encode(SubmitSm(short_message=b"hi", tlvs=(Tlv.of("message_payload", b"abc"),)))


def test_empty_short_message_with_message_payload_is_fine() -> None:
    pdu = SubmitSm(tlvs=(Tlv.of("message_payload", b"x" * 1000),))
    assert decode(encode(pdu)) == pdu


# -- error responses (F10) ----------------------------------------------------------------------------------

RESPONSES_WITH_BODY = [
    cls
    for cls in sorted(PDU_TYPES.values(), key=lambda c: c.command_id)
    if cls.command_id & 0x80000000 and cls is not GenericNack
]


@pytest.mark.parametrize("cls", RESPONSES_WITH_BODY, ids=lambda c: c.command_name)
def test_error_response_is_encoded_as_the_header_alone(cls: type[SmppPdu]) -> None:
    pdu = cls(command_status=S.ESME_RSYSERR, sequence_number=3, tlvs=(Tlv.of("congestion_state", 90),))
    assert encode(pdu) == header(16, cls.command_id, S.ESME_RSYSERR, 3)


@pytest.mark.parametrize("cls", RESPONSES_WITH_BODY, ids=lambda c: c.command_name)
def test_error_response_without_body_is_accepted(cls: type[SmppPdu]) -> None:
    assert decode(header(16, cls.command_id, S.ESME_RTHROTTLED, 3)) == cls(
        command_status=S.ESME_RTHROTTLED, sequence_number=3
    )


def test_error_response_with_a_body_keeps_it() -> None:
    wire = frame(SubmitSmResp.command_id, b"123\x00", status=S.ESME_RSUBMITFAIL)
    assert decode(wire) == SubmitSmResp(
        command_status=S.ESME_RSUBMITFAIL, sequence_number=7, message_id="123"
    )


def test_error_response_with_a_broken_body_is_accepted_without_it() -> None:
    wire = frame(SubmitSmResp.command_id, b"123", status=S.ESME_RSUBMITFAIL)  # no NUL
    assert decode(wire) == SubmitSmResp(command_status=S.ESME_RSUBMITFAIL, sequence_number=7)


def test_deliver_sm_resp_may_omit_its_unused_message_id() -> None:
    # SMPP v3.4 §4.6.2: message_id is unused; some ESMEs send the header alone.
    assert decode(header(16, DeliverSmResp.command_id)) == DeliverSmResp(sequence_number=7)
    assert decode(frame(DeliverSmResp.command_id, b"\x00")) == DeliverSmResp(sequence_number=7)
    assert decode(frame(DeliverSmResp.command_id, b"ab\x00")) == DeliverSmResp(
        sequence_number=7, message_id="ab"
    )


def test_successful_response_must_carry_its_body() -> None:
    error = refused(header(16, DataSmResp.command_id))
    assert (error.code, error.field) == (S.ESME_RINVCMDLEN, "message_id")


# -- encode refusals --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pdu", "message"),
    [
        (SubmitSm(source_addr_ton=256), "source_addr_ton"),
        (SubmitSm(esm_class=-1), "esm_class"),
        (SubmitSm(esm_class=True), "esm_class"),
        (SubmitSm(sequence_number=2**32), "sequence_number"),
        (SubmitSmResp(command_status=-1), "command_status"),
        (SubmitSm(source_addr="\u20ac"), "latin-1"),
        (SubmitSm(source_addr="a\x00b"), "NUL"),
        (SubmitSm(short_message="text"), "bytes"),
        (SubmitSm(tlvs=[Tlv(0x1401, b"")]), "tuple"),
        (SubmitSm(tlvs=(Tlv(0x10000, b""),)), "2 octets"),
        (SubmitSm(tlvs=(Tlv(0x1401, b"x" * 0x10000),)), "length"),
        (SubmitSm(tlvs=(Tlv(0x020C, b"\x01"),)), "length"),
        (SubmitMulti(dest_address=(DestAddress(dest_flag=3),)), "dest_flag"),
        (
            SubmitMulti(dest_address=(DestAddress(dest_flag=2, dl_name="x", destination_addr="1"),)),
            "dest_flag",
        ),
        (SubmitMulti(dest_address=(DestAddress(),) * 255), "number_of_dests"),
        (SubmitMulti(dest_address=(UnsuccessSme(),)), "DestAddress"),
        (SmppPdu(), "not an SMPP PDU"),
    ],
    ids=lambda x: x if isinstance(x, str) else type(x).__name__,
)
def test_encode_refuses_what_the_wire_cannot_carry(pdu: SmppPdu, message: str) -> None:
    with pytest.raises(LocalProtocolError, match=message):
        encode(pdu)
