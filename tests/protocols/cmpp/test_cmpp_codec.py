"""The codec's contract, case by case: sizes per the spec tables, where and how it rejects, what it tolerates.

Offsets are from the start of the frame (the body starts at 12), as in cmpp.md §2.
"""

from __future__ import annotations

import dataclasses
import typing

import pytest

from protocols.cmpp import (
    DEFAULT_MAX_FRAME,
    HEADER_SIZE,
    PDU_TYPES,
    ActiveTest,
    ActiveTestResp,
    Cancel,
    CancelResp,
    CmppPdu,
    CommandId,
    Connect,
    ConnectResp,
    Deliver,
    DeliverResp,
    Query,
    QueryResp,
    Submit,
    SubmitResp,
    Terminate,
    TerminateResp,
    Version,
    decode,
    encode,
    frame_buffer,
)
from protocols.errors import LocalProtocolError, RemoteProtocolError
from protocols.framing import FramingError

V20, V21, V30 = Version.V20, Version.V21, Version.V30


def submit(**changes: object) -> Submit:
    values: dict[str, object] = {
        "sequence_id": 7,
        "src_id": "1069001",
        "msg_src": "900001",
        "dest_terminal_id": ("13800138000",),
        "msg_content": b"hello",
    }
    return Submit(**(values | changes))


def deliver(**changes: object) -> Deliver:
    values: dict[str, object] = {
        "sequence_id": 9,
        "msg_id": 1,
        "src_terminal_id": "13800138000",
        "msg_content": b"hi",
    }
    return Deliver(**(values | changes))


def with_length(frame: bytes | bytearray) -> bytes:
    """``frame`` with its Total_Length made honest again, as the framer would hand it over."""
    return len(frame).to_bytes(4, "big") + bytes(frame[4:])


def patched(frame: bytes, offset: int, value: int) -> bytes:
    return frame[:offset] + bytes([value]) + frame[offset + 1 :]


# --- sizes: Total_Length per cmpp.md §2 ---------------------------------------------------------------

FIXED_SIZES = [
    (Connect(), 39, 39),
    (ConnectResp(), 30, 33),
    (Terminate(), 12, 12),
    (TerminateResp(), 12, 12),
    (SubmitResp(), 21, 24),
    (DeliverResp(), 21, 24),
    (Query(), 39, 39),
    (QueryResp(), 63, 63),
    (Cancel(), 20, 20),
    (CancelResp(), 13, 16),
    (ActiveTest(), 12, 12),
    (ActiveTestResp(), 13, 13),
]


@pytest.mark.parametrize(("pdu", "size20", "size30"), FIXED_SIZES, ids=lambda x: type(x).__name__)
def test_fixed_sizes(pdu, size20, size30):
    assert len(encode(pdu, V20)) == size20
    assert len(encode(pdu, V21)) == size20
    assert len(encode(pdu, V30)) == size30


@pytest.mark.parametrize(("recipients", "length"), [(1, 0), (1, 30), (3, 140), (99, 159), (255, 255)])
def test_submit_size_is_138_plus_21n_plus_l_in_20_and_163_plus_32n_plus_l_in_30(recipients, length):
    pdu = submit(
        dest_terminal_id=tuple(f"1380013{i:04d}" for i in range(recipients)), msg_content=bytes(length)
    )
    assert len(encode(pdu, V20)) == 138 + 21 * recipients + length
    assert len(encode(pdu, V30)) == 163 + 32 * recipients + length
    assert decode(encode(pdu, V30), V30) == pdu


@pytest.mark.parametrize("length", [0, 18, 71, 255])
def test_deliver_size_is_85_plus_l_in_20_and_109_plus_l_in_30(length):
    pdu = deliver(msg_content=bytes(range(length)))
    assert len(encode(pdu, V20)) == 85 + length
    assert len(encode(pdu, V30)) == 109 + length


def test_largest_spec_conformant_pdu_fits_the_default_max_frame():
    # DestUsr_tl < 100 and Msg_Length < 160 (Msg_Fmt 0) are the spec's limits.
    largest = submit(dest_terminal_id=("13800138000",) * 99, msg_content=bytes(159))
    assert len(encode(largest, V30)) <= DEFAULT_MAX_FRAME
    assert HEADER_SIZE == 12


# --- versions ------------------------------------------------------------------------------------------


def test_version_layout_property():
    assert not V20.is_v3
    assert not V21.is_v3
    assert V30.is_v3


@pytest.mark.parametrize("version", [0x20, 0x21, 0x22, 0x2F, V21])
def test_every_2x_version_uses_the_20_layout(version):
    pdu = SubmitResp(msg_id=5, result=9)
    assert encode(pdu, version) == encode(pdu, V20)
    assert decode(encode(pdu, V20), version) == pdu


@pytest.mark.parametrize("version", [0, 0x13, 0x1F, 0x31, 0x7F, -1, "3.0", None])
def test_a_version_without_a_layout_is_a_local_error(version):
    with pytest.raises(LocalProtocolError):
        encode(ActiveTest(), version)
    with pytest.raises(LocalProtocolError):
        decode(encode(ActiveTest(), V30), version)


def test_connect_is_the_same_in_every_version():
    pdu = Connect(source_addr="900001", version=0x30, timestamp=1021080510)
    assert encode(pdu, V20) == encode(pdu, V30)


# --- the PDU classes -----------------------------------------------------------------------------------

ALLOWED_FIELD_TYPES = {int, str, bytes, tuple[str, ...]}
RESPONSES = {
    Connect: ConnectResp,
    Terminate: TerminateResp,
    Submit: SubmitResp,
    Deliver: DeliverResp,
    Query: QueryResp,
    Cancel: CancelResp,
    ActiveTest: ActiveTestResp,
}


def test_pdu_types_maps_every_sp_link_command_to_its_class():
    assert set(PDU_TYPES) == set(CommandId)
    for command_id, cls in PDU_TYPES.items():
        assert cls.command_id == command_id
        assert cls.command_name == CommandId(command_id).spec_name
        assert issubclass(cls, CmppPdu)


@pytest.mark.parametrize("cls", list(PDU_TYPES.values()), ids=lambda cls: cls.__name__)
def test_pdu_classes_are_frozen_slotted_keyword_dataclasses_of_plain_types(cls):
    params = cls.__dataclass_params__
    assert params.frozen
    assert "__slots__" in cls.__dict__
    assert all(field.kw_only for field in dataclasses.fields(cls))
    assert dataclasses.fields(cls)[0].name == "sequence_id"
    hints = typing.get_type_hints(cls)
    assert {hints[field.name] for field in dataclasses.fields(cls)} <= ALLOWED_FIELD_TYPES
    pdu = cls()  # every field has a default
    with pytest.raises(dataclasses.FrozenInstanceError):
        pdu.sequence_id = 1


@pytest.mark.parametrize(("request_cls", "response_cls"), RESPONSES.items(), ids=lambda cls: cls.__name__)
def test_each_request_builds_its_response_with_the_same_sequence(request_cls, response_cls):
    request = request_cls(sequence_id=0xFEDCBA98)
    arguments = {
        Connect: {"status": 0, "version": 0x30},
        Submit: {"msg_id": 42, "result": 0},
        Cancel: {"success_id": 1},
    }.get(request_cls, {})
    response = request.response(**arguments)
    assert type(response) is response_cls
    assert response.sequence_id == 0xFEDCBA98
    assert response.command_id == request.command_id | 0x80000000


def test_responses_carry_what_they_are_given_or_echo():
    connect_resp = Connect(sequence_id=1).response(status=3, version=0x21)
    assert (connect_resp.status, connect_resp.version, connect_resp.authenticator_ismg) == (
        3,
        0x21,
        bytes(16),
    )
    assert submit().response(msg_id=42, result=8) == SubmitResp(sequence_id=7, msg_id=42, result=8)
    assert deliver(msg_id=77).response() == DeliverResp(sequence_id=9, msg_id=77, result=0)
    assert deliver(msg_id=77).response(result=8).result == 8
    query = Query(sequence_id=3, time="20240101", query_type=1, query_code="svc")
    answer = query.response(mt_tlmsg=5, mo_fl=2)
    assert (answer.time, answer.query_type, answer.query_code, answer.mt_tlmsg, answer.mo_fl) == (
        "20240101",
        1,
        "svc",
        5,
        2,
    )
    assert Cancel(sequence_id=4).response(success_id=1) == CancelResp(sequence_id=4, success_id=1)


# --- decoding errors -----------------------------------------------------------------------------------


def rejected(frame: bytes, version: Version) -> RemoteProtocolError:
    with pytest.raises(RemoteProtocolError) as caught:
        decode(frame, version)
    return caught.value


def test_frame_shorter_than_the_header():
    error = rejected(b"\x00\x00\x00\x0c\x00\x00", V30)
    assert (error.code, error.offset, error.field, error.command_id, error.sequence) == (
        None,
        0,
        "Total_Length",
        None,
        None,
    )


def test_total_length_that_disagrees_with_the_frame_is_not_trusted():
    frame = encode(ActiveTest(sequence_id=5), V30) + b"\x00"
    error = rejected(frame, V30)
    assert (error.code, error.offset, error.field, error.command_id, error.sequence) == (
        None,
        0,
        "Total_Length",
        CommandId.ACTIVE_TEST,
        5,
    )


@pytest.mark.parametrize("command_id", [0, 3, 9, 0x10, 0x17, 0x80000000, 0x80000003, 0x80000009, 0xFFFFFFFF])
def test_unknown_command_id_means_close(command_id):
    frame = (12).to_bytes(4, "big") + command_id.to_bytes(4, "big") + (77).to_bytes(4, "big")
    error = rejected(frame, V20)
    assert (error.code, error.offset, error.field, error.command_id, error.sequence) == (
        None,
        4,
        "Command_Id",
        command_id,
        77,
    )


# (case, frame, version, code, offset, field): each the first field that breaks.
SUBMIT20 = encode(submit(), V20)
SUBMIT30 = encode(submit(), V30)
DELIVER20 = encode(deliver(), V20)
DELIVER30 = encode(deliver(), V30)
DECODE_ERRORS = [
    ("submit ends in Fee_terminal_Id", with_length(SUBMIT20[:40]), V20, 1, 35, "Fee_terminal_Id"),
    ("submit ends in Fee_terminal_type", with_length(SUBMIT30[:67]), V30, 1, 67, "Fee_terminal_type"),
    ("submit ends before DestUsr_tl", with_length(SUBMIT20[:128]), V20, 1, 128, "DestUsr_tl"),
    ("DestUsr_tl 0 in 2.0", patched(SUBMIT20, 128, 0), V20, 1, 128, "DestUsr_tl"),
    ("DestUsr_tl 0 in 3.0", patched(SUBMIT30, 140, 0), V30, 1, 140, "DestUsr_tl"),
    (
        "DestUsr_tl 0, frame shortened to fit",
        with_length(patched(SUBMIT20, 128, 0)[:128] + SUBMIT20[149:]),
        V20,
        1,
        128,
        "DestUsr_tl",
    ),
    ("DestUsr_tl beyond the frame", patched(SUBMIT20, 128, 2), V20, 1, 128, "DestUsr_tl"),
    ("DestUsr_tl 255", patched(SUBMIT30, 140, 255), V30, 1, 140, "DestUsr_tl"),
    ("Msg_Length too large", patched(SUBMIT20, 150, 6), V20, 4, 150, "Msg_Length"),
    ("Msg_Length too small", patched(SUBMIT30, 174, 4), V30, 4, 174, "Msg_Length"),
    ("submit with a byte too many", with_length(SUBMIT20 + b"\x00"), V20, 4, 150, "Msg_Length"),
    ("submit one byte short", with_length(SUBMIT30[:-1]), V30, 4, 174, "Msg_Length"),
    ("3.0 submit read as 2.0: Src_Id padding lands on DestUsr_tl", SUBMIT30, V20, 1, 128, "DestUsr_tl"),
    ("deliver Msg_Length too large in 2.0", patched(DELIVER20, 76, 3), V20, 4, 76, "Msg_Length"),
    ("deliver Msg_Length too small in 3.0", patched(DELIVER30, 88, 0), V30, 4, 88, "Msg_Length"),
    ("deliver ends in Src_terminal_Id", with_length(DELIVER30[:60]), V30, 1, 54, "Src_terminal_Id"),
    ("connect one byte short", encode(Connect(), V30)[:-1], V30, 1, 35, "Timestamp"),
    ("connect one byte long", encode(Connect(), V30) + b"\x00", V30, 1, 39, "Total_Length"),
    ("cancel truncated", encode(Cancel(), V20)[:15], V20, 1, 12, "Msg_Id"),
]


@pytest.mark.parametrize(
    ("frame", "version", "code", "offset", "field"),
    [case[1:] for case in DECODE_ERRORS],
    ids=[case[0] for case in DECODE_ERRORS],
)
def test_malformed_request_says_what_to_answer_and_where(frame, version, code, offset, field):
    error = rejected(with_length(frame), version)
    assert (error.code, error.offset, error.field) == (code, offset, field)
    assert error.command_id == int.from_bytes(frame[4:8], "big")
    assert error.sequence == int.from_bytes(frame[8:12], "big")
    assert field in str(error)


# Responses have nothing to answer in; TERMINATE, QUERY and ACTIVE_TEST answers have no result field.
NO_ANSWER = [
    ("3.0 submit_resp read as 2.0", encode(SubmitResp(), V30), V20, 21, "Total_Length"),
    ("2.0 submit_resp read as 3.0", encode(SubmitResp(), V20), V30, 20, "Result"),
    ("2.0 cancel_resp read as 3.0", encode(CancelResp(), V20), V30, 12, "Success_Id"),
    ("active_test with a body", encode(ActiveTest(), V20) + b"\x00", V20, 12, "Total_Length"),
    ("active_test_resp without its byte", encode(ActiveTestResp(), V20)[:12], V20, 12, "Reserved"),
    ("terminate with a body", encode(Terminate(), V30) + b"\x01\x02", V30, 12, "Total_Length"),
    ("query truncated", encode(Query(), V30)[:30], V30, 21, "Query_Code"),
    ("query without Query_Type", encode(Query(), V30)[:20], V30, 20, "Query_Type"),
    ("deliver_resp truncated", encode(DeliverResp(), V30)[:22], V30, 20, "Result"),
]


@pytest.mark.parametrize(
    ("frame", "version", "offset", "field"),
    [case[1:] for case in NO_ANSWER],
    ids=[case[0] for case in NO_ANSWER],
)
def test_malformed_pdu_without_a_result_to_answer_means_close(frame, version, offset, field):
    error = rejected(with_length(frame), version)
    assert (error.code, error.offset, error.field) == (None, offset, field)


def test_connect_status_1_for_a_bad_connect():
    error = rejected(with_length(encode(Connect(), V20)[:20]), V20)
    assert error.code == 1  # ConnectStatus.MESSAGE_STRUCTURE
    assert error.field == "AuthenticatorSource"


# --- tolerance (cmpp.md §6, §10) ----------------------------------------------------------------------


@pytest.mark.parametrize("version", [V20, V30])
def test_tp_udhi_0x40_and_unknown_msg_fmt_are_kept_as_given(version):
    pdu = submit(tp_udhi=0x40, msg_fmt=0xA8)
    assert decode(encode(pdu, version), version) == pdu
    assert decode(encode(deliver(tp_udhi=0x40, msg_fmt=0xF6), version), version).tp_udhi == 0x40


def test_group_size_beyond_the_spec_limit_is_left_to_policy():
    pdu = submit(dest_terminal_id=("13800138000",) * 150)
    assert decode(encode(pdu, V20), V20).dest_terminal_id == ("13800138000",) * 150


def test_text_slots_strip_only_trailing_nuls_and_keep_every_byte():
    pdu = submit(service_id="a\0b", src_id="\xff\x80 10086 ", fee_code="\x01")
    frame = encode(pdu, V20)
    assert frame[24:34] == b"a\0b" + bytes(7)
    assert decode(frame, V20) == pdu


def test_a_field_filling_its_whole_slot_has_no_terminator():
    pdu = deliver(dest_id="100869881008698810086")  # 21 characters in 21 bytes
    assert decode(encode(pdu, V30), V30).dest_id == "100869881008698810086"


# --- encoding errors -----------------------------------------------------------------------------------

ENCODE_ERRORS = [
    ("Service_Id too long", submit(service_id="x" * 11), V20, "Service_Id"),
    ("Fee_terminal_Id 22 in 2.0", submit(fee_terminal_id="1" * 22), V20, "Fee_terminal_Id"),
    ("Dest_terminal_Id 33 in 3.0", submit(dest_terminal_id=("1" * 33,)), V30, "Dest_terminal_Id"),
    ("Dest_terminal_Id 22 in 2.0", submit(dest_terminal_id=("1", "1" * 22)), V20, "Dest_terminal_Id"),
    ("LinkID too long", submit(link_id="x" * 21), V30, "LinkID"),
    ("Source_Addr not Latin-1", Connect(source_addr="九"), V30, "Source_Addr"),
    ("trailing NUL", submit(src_id="10086\0"), V20, "Src_Id"),
    ("text given bytes", submit(src_id=b"10086"), V20, "Src_Id"),
    ("no recipient", submit(dest_terminal_id=()), V20, "Dest_terminal_Id"),
    ("256 recipients", submit(dest_terminal_id=("1",) * 256), V30, "Dest_terminal_Id"),
    ("recipients not a sequence", submit(dest_terminal_id="13800138000"), V20, "Dest_terminal_Id"),
    ("content too long", submit(msg_content=bytes(256)), V20, "Msg_Content"),
    ("content given str", submit(msg_content="hello"), V20, "Msg_Content"),
    ("Pk_total 256", submit(pk_total=256), V20, "Pk_total"),
    ("negative Msg_Id", SubmitResp(msg_id=-1), V30, "Msg_Id"),
    ("Msg_Id 2**64", Cancel(msg_id=2**64), V30, "Msg_Id"),
    ("Result 256 in 2.0", SubmitResp(result=256), V20, "Result"),
    ("Status 2**32 in 3.0", ConnectResp(status=2**32), V30, "Status"),
    ("Success_Id 256 in 2.0", CancelResp(success_id=256), V20, "Success_Id"),
    ("authenticator of 15 bytes", Connect(authenticator_source=bytes(15)), V20, "AuthenticatorSource"),
    ("authenticator empty", ConnectResp(authenticator_ismg=b""), V30, "AuthenticatorISMG"),
    ("Sequence_Id 2**32", ActiveTest(sequence_id=2**32), V30, "Sequence_Id"),
    ("3.0 Fee_terminal_type in 2.0", submit(fee_terminal_type=1), V20, "fee_terminal_type"),
    ("3.0 Dest_terminal_type in 2.0", submit(dest_terminal_type=1), V20, "dest_terminal_type"),
    ("3.0 LinkID in 2.0", submit(link_id="abc"), V21, "link_id"),
    ("3.0 Src_terminal_type in 2.0", deliver(src_terminal_type=1), V20, "src_terminal_type"),
    ("2.0 Reserve in 3.0", deliver(reserve="r"), V30, "reserve"),
]


@pytest.mark.parametrize(
    ("pdu", "version", "field"), [case[1:] for case in ENCODE_ERRORS], ids=[case[0] for case in ENCODE_ERRORS]
)
def test_a_value_the_layout_cannot_hold_is_a_local_error_naming_the_field(pdu, version, field):
    with pytest.raises(LocalProtocolError, match=field):
        encode(pdu, version)


def test_values_that_exactly_fill_their_limits_encode():
    pdu = submit(
        service_id="x" * 10,
        fee_terminal_id="1" * 32,
        dest_terminal_id=("1" * 32,) * 255,
        msg_content=bytes(255),
        pk_total=255,
        link_id="x" * 20,
        msg_id=2**64 - 1,
        sequence_id=2**32 - 1,
    )
    assert decode(encode(pdu, V30), V30) == pdu
    assert decode(encode(SubmitResp(result=2**32 - 1), V30), V30).result == 2**32 - 1


# --- framing -------------------------------------------------------------------------------------------


def test_frame_buffer_splits_a_stream_however_it_arrives():
    frames = [encode(submit(sequence_id=n), V30) for n in range(3)] + [encode(ActiveTest(sequence_id=9), V30)]
    stream = b"".join(frames)
    buffer = frame_buffer()
    assert buffer.feed(stream) == frames
    one_by_one = frame_buffer()
    assert [frame for byte in stream for frame in one_by_one.feed(bytes([byte]))] == frames


@pytest.mark.parametrize("length", [0, 11, DEFAULT_MAX_FRAME + 1, 0x7FFFFFF0])
def test_frame_buffer_refuses_a_bad_length_with_no_answer(length):
    buffer = frame_buffer()
    with pytest.raises(FramingError) as caught:
        buffer.feed(length.to_bytes(4, "big") + (4).to_bytes(4, "big") + (66).to_bytes(4, "big"))
    assert caught.value.code is None
    assert caught.value.sequence == 66


def test_frame_buffer_max_length_is_configurable():
    frame = encode(submit(dest_terminal_id=("13800138000",) * 200), V30)
    assert len(frame) > DEFAULT_MAX_FRAME
    assert frame_buffer(max_length=8192).feed(frame) == [frame]
    with pytest.raises(FramingError):
        frame_buffer().feed(frame)
