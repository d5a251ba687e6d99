"""Golden frames: hex written out by hand from the SMPP v3.4 / 5.0 layouts, field by field.

Each case checks both directions: encode(pdu) gives exactly these octets and decode(octets) gives pdu.
"""

from __future__ import annotations

import pytest

from protocols.smpp import (
    BindTransceiver,
    BindTransceiverResp,
    BroadcastSm,
    CommandStatus,
    DataSm,
    DeliverSm,
    DestAddress,
    EnquireLink,
    EnquireLinkResp,
    QuerySmResp,
    Receipt,
    SmppPdu,
    SubmitMulti,
    SubmitMultiResp,
    SubmitSm,
    SubmitSmResp,
    Tlv,
    UnsuccessSme,
    build_receipt,
    decode,
    encode,
    generic_nack,
)


def frame(*parts: str) -> bytes:
    """Join hex pieces (spaces allowed) into one frame."""
    return bytes.fromhex("".join(parts).replace(" ", ""))


RECEIPT_TEXT = (
    b"id:5A3F0001 sub:001 dlvrd:001 submit date:2401011200 done date:2401011201 "
    b"stat:DELIVRD err:000 text:Hello"
)

GOLDEN: list[tuple[str, SmppPdu, bytes]] = [
    (
        "bind_transceiver",
        BindTransceiver(
            sequence_number=1,
            system_id="SMPP3TEST",
            password="secret08",
            system_type="SUBMIT1",
            interface_version=0x34,
            addr_ton=1,
            addr_npi=1,
        ),
        frame(
            "0000002f 00000009 00000000 00000001",  # length 47, bind_transceiver, status, seq
            "534d50503354455354 00",  # system_id "SMPP3TEST"
            "7365637265743038 00",  # password "secret08"
            "5355424d495431 00",  # system_type "SUBMIT1"
            "34 01 01",  # interface_version 0x34, addr_ton, addr_npi
            "00",  # address_range NULL
        ),
    ),
    (
        "bind_transceiver_resp with sc_interface_version",
        BindTransceiverResp(sequence_number=1, system_id="SMSC", tlvs=(Tlv(0x0210, b"\x34"),)),
        frame(
            "0000001a 80000009 00000000 00000001",
            "534d5343 00",  # system_id "SMSC"
            "0210 0001 34",  # sc_interface_version = 0x34
        ),
    ),
    (
        "submit_sm with a known and an unknown TLV",
        SubmitSm(
            sequence_number=2,
            source_addr_ton=5,
            source_addr="Lab",
            dest_addr_ton=1,
            dest_addr_npi=1,
            destination_addr="447700900123",
            registered_delivery=1,
            short_message=b"Hello",
            tlvs=(Tlv(0x0204, b"\x01\x02"), Tlv(0x1401, b"\xaa\xbb\xcc")),
        ),
        frame(
            "00000042 00000004 00000000 00000002",  # length 66
            "00",  # service_type NULL
            "05 00 4c616200",  # source ton 5 (alphanumeric), npi 0, "Lab"
            "01 01 343437373030393030313233 00",  # dest ton, npi, "447700900123"
            "00 00 00",  # esm_class, protocol_id, priority_flag
            "00 00",  # schedule_delivery_time, validity_period NULL
            "01 00 00 00",  # registered_delivery, replace_if_present, data_coding, sm_default_msg_id
            "05 48656c6c6f",  # sm_length 5, "Hello"
            "0204 0002 0102",  # user_message_reference 0x0102
            "1401 0003 aabbcc",  # vendor tag 0x1401, kept byte-exact
        ),
    ),
    (
        "submit_sm_resp",
        SubmitSmResp(sequence_number=2, message_id="5A3F0001"),
        frame("00000019 80000004 00000000 00000002", "3541334630303031 00"),
    ),
    (
        "error submit_sm_resp is the header alone",
        SubmitSmResp(sequence_number=2, command_status=CommandStatus.ESME_RTHROTTLED),
        frame("00000010 80000004 00000058 00000002"),
    ),
    (
        "deliver_sm delivery receipt",
        DeliverSm(
            sequence_number=7,
            source_addr_ton=1,
            source_addr_npi=1,
            source_addr="447700900123",
            dest_addr_ton=5,
            destination_addr="Lab",
            esm_class=0x04,
            short_message=RECEIPT_TEXT,
            tlvs=(Tlv(0x001E, b"5A3F0001\x00"), Tlv(0x0427, b"\x02")),
        ),
        frame(
            "000000ab 00000005 00000000 00000007",  # length 171
            "00",  # service_type
            "01 01 343437373030393030313233 00",  # source
            "05 00 4c616200",  # destination "Lab"
            "04 00 00",  # esm_class: SMSC delivery receipt
            "00 00",  # times
            "00 00 00 00",
            "69",  # sm_length 105
            RECEIPT_TEXT.hex(),
            "001e 0009 3541334630303031 00",  # receipted_message_id "5A3F0001"
            "0427 0001 02",  # message_state DELIVERED
        ),
    ),
    (
        "enquire_link",
        EnquireLink(sequence_number=0x7FFFFFFF),
        frame("00000010 00000015 00000000 7fffffff"),
    ),
    (
        "enquire_link_resp",
        EnquireLinkResp(sequence_number=0x7FFFFFFF),
        frame("00000010 80000015 00000000 7fffffff"),
    ),
    (
        "generic_nack",
        generic_nack(0x10, CommandStatus.ESME_RINVCMDID),
        frame("00000010 80000000 00000003 00000010"),
    ),
    (
        "submit_multi to an SME and a distribution list",
        SubmitMulti(
            sequence_number=9,
            source_addr_ton=1,
            source_addr_npi=1,
            source_addr="12345",
            dest_address=(
                DestAddress(dest_flag=1, dest_addr_ton=1, dest_addr_npi=1, destination_addr="4479001"),
                DestAddress(dest_flag=2, dl_name="friends"),
            ),
            data_coding=8,
            short_message=b"\x00H\x00i",
        ),
        frame(
            "0000003c 00000021 00000000 00000009",  # length 60
            "00",  # service_type
            "01 01 3132333435 00",  # source "12345"
            "02",  # number_of_dests
            "01 01 01 34343739303031 00",  # dest_flag 1 (SME), ton, npi, "4479001"
            "02 667269656e6473 00",  # dest_flag 2 (distribution list), "friends"
            "00 00 00 00 00",  # esm_class, protocol_id, priority_flag, two NULL times
            "00 00 08 00",  # registered_delivery, replace_if_present, data_coding UCS2, sm_default_msg_id
            "04 00480069",  # "Hi" in UCS2
        ),
    ),
    (
        "submit_multi_resp with an unsuccess list",
        SubmitMultiResp(
            sequence_number=9,
            message_id="m1",
            unsuccess_sme=(
                UnsuccessSme(
                    dest_addr_ton=1,
                    dest_addr_npi=1,
                    destination_addr="4479002",
                    error_status_code=CommandStatus.ESME_RINVDSTADR,
                ),
                UnsuccessSme(error_status_code=CommandStatus.ESME_RSUBMITFAIL),
            ),
        ),
        frame(
            "00000029 80000021 00000000 00000009",  # length 41
            "6d31 00",  # message_id "m1"
            "02",  # no_unsuccess
            "01 01 34343739303032 00 0000000b",  # "4479002" failed with ESME_RINVDSTADR
            "00 00 00 00000045",  # empty address failed with ESME_RSUBMITFAIL
        ),
    ),
    (
        "data_sm with a 39-character destination and payload",
        DataSm(
            sequence_number=0x1234,
            source_addr="5551234",
            dest_addr_ton=1,
            dest_addr_npi=1,
            destination_addr="MyApp-Endpoint-With-A-Long-Name-Over-21",
            registered_delivery=1,
            data_coding=4,
            tlvs=(Tlv(0x0424, b"\x01\x02\x03"), Tlv(0x020A, b"\x0b\x84"), Tlv(0x020B, b"\x23\xf0")),
        ),
        frame(
            "0000005b 00000103 00000000 00001234",  # length 91
            "00",  # service_type
            "00 00 35353531323334 00",  # source "5551234"
            "01 01",
            b"MyApp-Endpoint-With-A-Long-Name-Over-21".hex(),
            "00",
            "00 01 04",  # esm_class, registered_delivery, data_coding 8-bit binary
            "0424 0003 010203",  # message_payload
            "020a 0002 0b84",  # source_port 2948
            "020b 0002 23f0",  # destination_port 9200
        ),
    ),
    (
        "query_sm_resp with a final date",
        QuerySmResp(
            sequence_number=5,
            message_id="5A3F0001",
            final_date="240101120100004+",
            message_state=2,
            error_code=0,
        ),
        frame(
            "0000002c 80000003 00000000 00000005",  # length 44
            "3541334630303031 00",  # message_id
            "3234303130313132303130303030342b 00",  # final_date "240101120100004+"
            "02 00",  # message_state DELIVERED, error_code
        ),
    ),
    (
        "broadcast_sm (SMPP 5.0)",
        BroadcastSm(
            sequence_number=0x21,
            source_addr_ton=1,
            source_addr_npi=1,
            source_addr="12345",
            priority_flag=1,
            tlvs=(
                Tlv(0x0606, b"\x00\x01\x02\x03"),
                Tlv(0x0601, b"\x01\x00\x00"),
                Tlv(0x0604, b"\x00\x01"),
                Tlv(0x0605, b"\x08\x00\x05"),
                Tlv(0x0424, b"Alert"),
            ),
        ),
        frame(
            "00000045 00000111 00000000 00000021",  # length 69
            "00",  # service_type
            "01 01 3132333435 00",  # source "12345"
            "00",  # message_id NULL
            "01 00 00",  # priority_flag, schedule_delivery_time, validity_period
            "00 00 00",  # replace_if_present_flag, data_coding, sm_default_msg_id
            "0606 0004 00010203",  # broadcast_area_identifier
            "0601 0003 010000",  # broadcast_content_type
            "0604 0002 0001",  # broadcast_rep_num
            "0605 0003 080005",  # broadcast_frequency_interval
            "0424 0005 416c657274",  # message_payload "Alert"
        ),
    ),
]


@pytest.mark.parametrize(("pdu", "wire"), [(p, w) for _, p, w in GOLDEN], ids=[n for n, _, _ in GOLDEN])
def test_encode_matches_golden(pdu: SmppPdu, wire: bytes) -> None:
    assert encode(pdu) == wire
    assert int.from_bytes(wire[:4], "big") == len(wire)


@pytest.mark.parametrize(("pdu", "wire"), [(p, w) for _, p, w in GOLDEN], ids=[n for n, _, _ in GOLDEN])
def test_decode_matches_golden(pdu: SmppPdu, wire: bytes) -> None:
    assert decode(wire) == pdu


def test_error_response_drops_its_body_fields() -> None:
    # SMPP v3.4 §4.4.2: the body is not returned with a non-zero command_status.
    pdu = SubmitSmResp(sequence_number=2, command_status=0x58, message_id="ignored")
    assert encode(pdu) == frame("00000010 80000004 00000058 00000002")


def test_receipt_text_of_golden_deliver_sm_is_what_build_receipt_writes() -> None:
    receipt = Receipt(
        id="5A3F0001",
        sub=1,
        dlvrd=1,
        submit_date="2401011200",
        done_date="2401011201",
        stat="DELIVRD",
        err="000",
        text="Hello",
    )
    assert build_receipt(receipt) == RECEIPT_TEXT
