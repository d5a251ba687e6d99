"""Properties of the codec over generated PDUs and generated garbage.

* every valid PDU of every type survives encode -> decode unchanged, in both layouts;
* decode never raises anything but RemoteProtocolError, whatever the bytes, and whatever it accepts
  re-encodes to exactly the bytes it was given.

The field strategies below are written from the spec tables (cmpp.md §2), not from the codec's own layout
tables, so that they check the codec rather than repeat it.
"""

from __future__ import annotations

from dataclasses import fields

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from protocols.cmpp import PDU_TYPES, CmppPdu, Deliver, Query, Submit, Version, decode, encode, frame_buffer
from protocols.errors import RemoteProtocolError

U1 = st.integers(0, 0xFF)
U4 = st.integers(0, 0xFFFF_FFFF)
U8 = st.integers(0, 0xFFFF_FFFF_FFFF_FFFF)
AUTHENTICATOR = st.binary(min_size=16, max_size=16)


def text(width: int) -> st.SearchStrategy[str]:
    """Any value a ``width``-byte octet-string slot can hold: all 256 byte values, no trailing NUL."""
    return st.binary(max_size=width).map(lambda raw: raw.rstrip(b"\0").decode("latin-1"))


def field_strategies(v3: bool) -> dict[str, st.SearchStrategy[object]]:
    terminal = 32 if v3 else 21  # Fee/Dest/Src_terminal_Id (CMPP 3.0 revision: 21 -> 32)
    status = U4 if v3 else U1  # every response status: u1 in 2.0, u4 in 3.0
    common: dict[str, st.SearchStrategy[object]] = {
        "sequence_id": U4,
        "source_addr": text(6),
        "authenticator_source": AUTHENTICATOR,
        "version": U1,
        "timestamp": U4,
        "status": status,
        "authenticator_ismg": AUTHENTICATOR,
        "msg_id": U8,
        "pk_total": U1,
        "pk_number": U1,
        "registered_delivery": U1,
        "msg_level": U1,
        "service_id": text(10),
        "fee_user_type": U1,
        "fee_terminal_id": text(terminal),
        "tp_pid": U1,
        "tp_udhi": U1,
        "msg_fmt": U1,
        "msg_src": text(6),
        "fee_type": text(2),
        "fee_code": text(6),
        "valid_time": text(17),
        "at_time": text(17),
        "src_id": text(21),
        "dest_terminal_id": st.lists(text(terminal), min_size=1, max_size=4).map(tuple),
        "msg_content": st.binary(max_size=255),
        "result": status,
        "dest_id": text(21),
        "src_terminal_id": text(terminal),
        "time": text(8),
        "query_type": U1,
        "query_code": text(10),
        "reserve": text(8),
        "mt_tlmsg": U4,
        "mt_tlusr": U4,
        "mt_scs": U4,
        "mt_wt": U4,
        "mt_fl": U4,
        "mo_scs": U4,
        "mo_wt": U4,
        "mo_fl": U4,
        "success_id": status,
        "reserved": U1,
    }
    if v3:
        common |= {
            "fee_terminal_type": U1,
            "dest_terminal_type": U1,
            "src_terminal_type": U1,
            "link_id": text(20),
        }
    return common


STRATEGIES = {False: field_strategies(False), True: field_strategies(True)}
# SUBMIT and DELIVER lost their 8-byte Reserve in 3.0 (QUERY kept its own).
ONLY_V20 = {(Submit, "reserve"), (Deliver, "reserve")}


def pdus(cls: type[CmppPdu], v3: bool) -> st.SearchStrategy[CmppPdu]:
    """Valid PDUs of ``cls`` for one layout; fields absent from that layout keep their defaults."""
    table = STRATEGIES[v3]
    chosen = {
        field.name: table[field.name]
        for field in fields(cls)
        if field.name in table and not (v3 and (cls, field.name) in ONLY_V20)
    }
    return st.builds(cls, **chosen)


PDU_CLASSES = sorted(PDU_TYPES.values(), key=lambda cls: cls.command_id)
VERSIONS = [Version.V20, Version.V21, Version.V30]


def test_strategies_cover_every_field():
    names = {field.name for cls in PDU_CLASSES for field in fields(cls)}
    assert names <= STRATEGIES[True].keys()
    assert Query in PDU_CLASSES  # QUERY's own Reserve is generated in 3.0 too


@pytest.mark.parametrize("version", VERSIONS, ids=lambda version: version.name)
@pytest.mark.parametrize("cls", PDU_CLASSES, ids=lambda cls: cls.__name__)
@settings(max_examples=30, deadline=None)
@given(data=st.data())
def test_round_trip(cls, version, data):
    pdu = data.draw(pdus(cls, version.is_v3))
    frame = encode(pdu, version)
    assert int.from_bytes(frame[:4], "big") == len(frame)
    assert int.from_bytes(frame[4:8], "big") == cls.command_id
    assert int.from_bytes(frame[8:12], "big") == pdu.sequence_id
    assert decode(frame, version) == pdu
    assert encode(decode(frame, version), version) == frame


def decode_or_reject(frame: bytes, version: Version) -> None:
    """Decode must accept (and then re-encode exactly) or raise RemoteProtocolError saying where and why."""
    try:
        pdu = decode(frame, version)
    except RemoteProtocolError as error:
        assert error.code in (None, 1, 4)
        assert error.offset is not None
        assert 0 <= error.offset <= len(frame)
        assert error.field
        assert error.message
    else:
        assert encode(pdu, version) == frame


def header(total_length: int, command_id: int, sequence: int) -> bytes:
    return total_length.to_bytes(4, "big") + command_id.to_bytes(4, "big") + sequence.to_bytes(4, "big")


COMMAND_IDS = st.sampled_from([*PDU_TYPES, 0, 3, 9, 0x17, 0x80000000, 0x80000003, 0xFFFFFFFF]) | U4


@settings(max_examples=400, deadline=None)
@given(command_id=COMMAND_IDS, sequence=U4, body=st.binary(max_size=300), version=st.sampled_from(VERSIONS))
def test_any_body_behind_a_valid_header_only_raises_remote_protocol_error(
    command_id, sequence, body, version
):
    decode_or_reject(header(12 + len(body), command_id, sequence) + body, version)


@settings(max_examples=200, deadline=None)
@given(raw=st.binary(max_size=64), version=st.sampled_from(VERSIONS))
def test_any_bytes_at_all_only_raise_remote_protocol_error(raw, version):
    decode_or_reject(raw, version)


@st.composite
def mutated_frames(draw: st.DrawFn) -> tuple[bytes, Version]:
    version = draw(st.sampled_from(VERSIONS))
    cls = draw(st.sampled_from(PDU_CLASSES))
    frame = bytearray(encode(draw(pdus(cls, version.is_v3)), version))
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["set", "insert", "delete", "truncate"]))
        at = draw(st.integers(0, len(frame)))
        if kind == "set" and at < len(frame):
            frame[at] = draw(U1)
        elif kind == "insert":
            frame[at:at] = draw(st.binary(min_size=1, max_size=40))
        elif kind == "delete":
            del frame[at : at + draw(st.integers(1, 40))]
        elif kind == "truncate":
            del frame[at:]
    if draw(st.booleans()):  # mostly keep the header honest, as the framer would
        frame[:4] = len(frame).to_bytes(4, "big")
    return bytes(frame), version


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_frames())
def test_mutated_frames_only_raise_remote_protocol_error(case):
    frame, version = case
    decode_or_reject(frame, version)


@settings(max_examples=100, deadline=None)
@given(stream=st.binary(max_size=600), version=st.sampled_from(VERSIONS))
def test_framer_and_decoder_together_only_raise_remote_protocol_error(stream, version):
    buffer = frame_buffer()
    try:
        frames = buffer.feed(stream)
    except RemoteProtocolError as error:
        assert error.code is None  # CMPP has no answer to a bad length: close
        return
    for frame in frames:
        decode_or_reject(frame, version)
