"""The TLV table (SMPP v3.4 Table 5-7, SMPP 5.0 §4.8), typed helpers and the length rules."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from protocols.errors import LocalProtocolError, RemoteProtocolError
from protocols.smpp import (
    TLV_SPECS,
    TLV_TAGS,
    CommandStatus,
    DeliverSm,
    EnquireLinkResp,
    SubmitSmResp,
    Tlv,
    TlvKind,
    TlvSpec,
    decode,
    encode,
    tlv_value,
)

# Restated from SMPP v3.4 §5.3.2 and SMPP 5.0 §4.8.4: (name, tag, min, max value octets).
SPEC_ROWS = [
    ("dest_addr_subunit", 0x0005, 1, 1),
    ("dest_telematics_id", 0x0008, 2, 2),
    ("source_telematics_id", 0x0010, 1, 2),  # 1 in 3.4, 2 in 5.0
    ("qos_time_to_live", 0x0017, 4, 4),
    ("user_message_reference", 0x0204, 2, 2),
    ("source_port", 0x020A, 2, 2),
    ("destination_port", 0x020B, 2, 2),
    ("sar_msg_ref_num", 0x020C, 2, 2),
    ("sar_total_segments", 0x020E, 1, 1),
    ("sar_segment_seqnum", 0x020F, 1, 1),
    ("sc_interface_version", 0x0210, 1, 1),
    ("network_error_code", 0x0423, 3, 3),
    ("message_state", 0x0427, 1, 1),
    ("ussd_service_op", 0x0501, 1, 1),
    ("sms_signal", 0x1203, 2, 2),
    ("ms_validity", 0x1204, 1, 4),  # 1 in 3.4, 1 or 4 in 5.0
    ("alert_on_message_delivery", 0x130C, 0, 1),  # empty in 3.4, 0 or 1 in 5.0
    ("its_session_info", 0x1383, 2, 2),
    ("congestion_state", 0x0428, 1, 1),
    ("broadcast_channel_indicator", 0x0600, 1, 1),
    ("broadcast_content_type", 0x0601, 3, 3),
    ("broadcast_rep_num", 0x0604, 2, 2),
    ("broadcast_frequency_interval", 0x0605, 3, 3),
    ("broadcast_error_status", 0x0607, 4, 4),
    ("broadcast_area_success", 0x0608, 1, 1),
    ("broadcast_end_time", 0x0609, 17, 17),
    ("source_node_id", 0x060F, 6, 6),
    ("dest_node_id", 0x0610, 6, 6),
    ("dest_addr_np_information", 0x0612, 10, 10),
    ("dest_addr_np_country", 0x0613, 5, 5),
    ("additional_status_info_text", 0x001D, 1, 256),
    ("receipted_message_id", 0x001E, 1, 65),
    ("source_subaddress", 0x0202, 2, 23),
    ("dest_subaddress", 0x0203, 2, 23),
    ("callback_num_atag", 0x0303, 1, 65),
    ("callback_num", 0x0381, 4, 19),
    ("message_payload", 0x0424, 0, 0xFFFF),
    ("broadcast_content_type_info", 0x0602, 1, 255),
    ("broadcast_area_identifier", 0x0606, 1, 101),
    ("broadcast_service_group", 0x060A, 1, 255),
    ("billing_identification", 0x060B, 1, 1024),
    ("source_network_id", 0x060D, 1, 65),
    ("dest_network_id", 0x060E, 1, 65),
]
# Every other standard TLV is a 1-octet Integer.
ONE_OCTET = set(TLV_TAGS) - {row[0] for row in SPEC_ROWS}


def test_table_holds_the_3_4_tags_and_the_5_0_additions() -> None:
    v34 = [tag for tag in TLV_SPECS if (tag < 0x0600 and tag != 0x0428) or tag >= 0x1200]
    assert len(v34) == 44  # SMPP v3.4 Table 5-7
    assert {0x0428, *range(0x0600, 0x060C), *range(0x060D, 0x0614)} <= set(TLV_SPECS)
    assert {spec.name: tag for tag, spec in TLV_SPECS.items()} == dict(TLV_TAGS)
    assert all(
        spec.tag == tag and 0 <= spec.min_len <= spec.max_len <= 0xFFFF for tag, spec in TLV_SPECS.items()
    )


@pytest.mark.parametrize(("name", "tag", "low", "high"), SPEC_ROWS)
def test_sized_rows(name: str, tag: int, low: int, high: int) -> None:
    assert TLV_SPECS[TLV_TAGS[name]] == TlvSpec(tag, name, TLV_SPECS[tag].kind, low, high)


@pytest.mark.parametrize("name", sorted(ONE_OCTET))
def test_one_octet_integer_rows(name: str) -> None:
    spec = TLV_SPECS[TLV_TAGS[name]]
    assert (spec.kind, spec.min_len, spec.max_len) == (TlvKind.INT, 1, 1)


def test_value_kinds() -> None:
    by_kind = {kind: {s.name for s in TLV_SPECS.values() if s.kind is kind} for kind in TlvKind}
    assert by_kind[TlvKind.COCTET] == {
        "additional_status_info_text",
        "receipted_message_id",
        "broadcast_end_time",
        "source_network_id",
        "dest_network_id",
    }
    assert by_kind[TlvKind.EMPTY] == {"alert_on_message_delivery"}
    assert by_kind[TlvKind.OCTET] == {
        "source_subaddress",
        "dest_subaddress",
        "callback_num_atag",
        "callback_num",
        "network_error_code",
        "message_payload",
        "ms_validity",
        "its_session_info",
        "broadcast_content_type",
        "broadcast_content_type_info",
        "broadcast_frequency_interval",
        "broadcast_area_identifier",
        "broadcast_service_group",
        "billing_identification",
        "source_node_id",
        "dest_node_id",
        "dest_addr_np_information",
    }


def test_of_builds_each_kind() -> None:
    assert Tlv.of("sar_msg_ref_num", 0x1234) == Tlv(0x020C, b"\x12\x34")
    assert Tlv.of("qos_time_to_live", 86400) == Tlv(0x0017, b"\x00\x01\x51\x80")
    assert Tlv.of("receipted_message_id", "abc") == Tlv(0x001E, b"abc\x00")
    assert Tlv.of("network_error_code", b"\x03\x00\x01") == Tlv(0x0423, b"\x03\x00\x01")
    assert Tlv.of("alert_on_message_delivery", b"") == Tlv(0x130C, b"")


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("no_such_tlv", 1, "unknown TLV name"),
        ("sar_msg_ref_num", 0x10000, "2 octets"),
        ("sar_msg_ref_num", -1, "2 octets"),
        ("sar_msg_ref_num", "1", "int"),
        ("message_state", True, "int"),
        ("receipted_message_id", b"abc", "str"),
        ("receipted_message_id", "x" * 65, "length"),
        ("receipted_message_id", "a\x00b", "NUL"),
        ("receipted_message_id", "\u20ac", "latin-1"),
        ("network_error_code", b"\x03\x00", "length"),
        ("network_error_code", 3, "bytes"),
    ],
)
def test_of_refuses_bad_values(name: str, value: int | str | bytes, message: str) -> None:
    with pytest.raises(LocalProtocolError, match=message):
        Tlv.of(name, value)


def test_tlv_value_is_typed_and_takes_the_first_occurrence() -> None:
    tlvs = (
        Tlv(0x1401, b"vendor"),
        Tlv.of("message_state", 2),
        Tlv.of("receipted_message_id", "first"),
        Tlv.of("receipted_message_id", "second"),
        Tlv.of("network_error_code", b"\x03\x00\x45"),
    )
    assert tlv_value(tlvs, "message_state") == 2
    assert tlv_value(tlvs, "receipted_message_id") == "first"
    assert tlv_value(tlvs, "network_error_code") == b"\x03\x00\x45"
    assert tlv_value(tlvs, "sar_msg_ref_num") is None
    with pytest.raises(LocalProtocolError):
        tlv_value(tlvs, "no_such_tlv")


def test_tlv_value_tolerates_a_c_octet_string_without_nul() -> None:
    assert tlv_value((Tlv(0x001E, b"5A3F"),), "receipted_message_id") == "5A3F"


@settings(max_examples=60, deadline=None)
@given(spec=st.sampled_from(sorted(TLV_SPECS.values(), key=lambda s: s.tag)), data=st.data())
def test_of_and_tlv_value_invert_each_other(spec: TlvSpec, data: st.DataObject) -> None:
    kind, low, high = spec.kind, spec.min_len, min(spec.max_len, 300)
    value: int | str | bytes
    if kind is TlvKind.INT:
        value = data.draw(st.integers(0, (1 << (8 * low)) - 1))
    elif kind is TlvKind.COCTET:
        chars = st.characters(min_codepoint=1, max_codepoint=255)
        value = data.draw(st.text(chars, min_size=max(low - 1, 0), max_size=high - 1))
    else:
        value = data.draw(st.binary(min_size=low, max_size=high))
    assert tlv_value((Tlv.of(spec.name, value),), spec.name) == value


# -- on the wire --------------------------------------------------------------------------------------


def test_unknown_tlvs_survive_byte_exact_and_in_order() -> None:
    tlvs = (Tlv(0x3FFF, b""), Tlv(0x1401, b"\x00\xff\x00"), Tlv(0x0427, b"\x02"), Tlv(0xFFFF, b"\x01" * 300))
    pdu = DeliverSm(sequence_number=1, tlvs=tlvs)
    wire = encode(pdu)
    assert wire.endswith(bytes.fromhex("3fff000014010003 00ff0004270001 02ffff012c") + b"\x01" * 300)
    assert decode(wire).tlvs == tlvs
    assert encode(decode(wire)) == wire


@pytest.mark.parametrize("name", sorted(TLV_TAGS))
def test_known_tlv_lengths_are_checked_both_ways(name: str) -> None:
    spec = TLV_SPECS[TLV_TAGS[name]]
    too_long = Tlv(spec.tag, b"\x01" * (spec.max_len + 1)) if spec.max_len < 0xFFFF else None
    too_short = Tlv(spec.tag, b"\x01" * (spec.min_len - 1)) if spec.min_len else None
    for bad in filter(None, (too_long, too_short)):
        with pytest.raises(LocalProtocolError):
            encode(EnquireLinkResp(tlvs=(bad,)))
        wire = bytearray(encode(EnquireLinkResp(sequence_number=4)))
        wire += bad.tag.to_bytes(2, "big") + len(bad.value).to_bytes(2, "big") + bad.value
        wire[:4] = len(wire).to_bytes(4, "big")
        with pytest.raises(RemoteProtocolError) as caught:
            decode(bytes(wire))
        assert (caught.value.code, caught.value.field) == (CommandStatus.ESME_RINVPARLEN, name)
        assert (caught.value.offset, caught.value.sequence) == (16, 4)


def test_congestion_state_on_a_successful_response() -> None:
    # SMPP 5.0: congestion_state may be carried by any response.
    pdu = SubmitSmResp(sequence_number=3, message_id="1", tlvs=(Tlv.of("congestion_state", 85),))
    assert tlv_value(decode(encode(pdu)).tlvs, "congestion_state") == 85
