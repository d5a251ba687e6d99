"""Fuzzing (reliability F9): whatever the input, decode raises only RemoteProtocolError and encode only
LocalProtocolError; whatever decode accepts, encode writes back octet for octet."""

from __future__ import annotations

import dataclasses

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from smpp_strategies import ALL_PDU_TYPES, ANY_PDU, UINT32

from protocols.errors import LocalProtocolError, RemoteProtocolError
from protocols.smpp import (
    PDU_TYPES,
    DeliverSmResp,
    DestAddress,
    SmppPdu,
    Tlv,
    UnsuccessSme,
    decode,
    encode,
)

RESPONSE_BIT = 0x80000000
FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def header(length: int, command_id: int, status: int, sequence: int) -> bytes:
    return b"".join(value.to_bytes(4, "big") for value in (length, command_id, status, sequence))


def check_decode(frame: bytes) -> None:
    """decode either refuses with a located RemoteProtocolError or accepts a frame it can rewrite."""
    try:
        pdu = decode(frame)
    except RemoteProtocolError as exc:
        assert exc.code is not None  # every SMPP decode fault has a status to answer with
        assert exc.offset is not None and 0 <= exc.offset <= len(frame)
        assert exc.field
        if len(frame) >= 16:
            assert exc.command_id == int.from_bytes(frame[4:8], "big")
            assert exc.sequence == int.from_bytes(frame[12:16], "big")
        return
    body = frame[16:]
    lenient = bool(pdu.command_id & RESPONSE_BIT) and (
        pdu.command_status != 0 or (isinstance(pdu, DeliverSmResp) and not body)
    )
    if lenient:
        # Accepted as sent, written canonically: an error response as its header alone (§4.4.2), a
        # bodiless deliver_sm_resp with its NULL message_id.
        rewritten = encode(pdu)
        assert rewritten[4:16] == frame[4:16]
        header_only = type(pdu)(command_status=pdu.command_status, sequence_number=pdu.sequence_number)
        assert decode(rewritten) == (header_only if pdu.command_status else pdu)
    else:
        assert encode(pdu) == frame


@FUZZ
@given(
    command_id=st.sampled_from(sorted(PDU_TYPES)),  # unknown ids: arbitrary octets and mutations
    status=st.one_of(st.just(0), UINT32),
    sequence=UINT32,
    body=st.binary(max_size=300),
)
def test_random_body_behind_a_valid_header(command_id: int, status: int, sequence: int, body: bytes) -> None:
    check_decode(header(16 + len(body), command_id, status, sequence) + body)


@FUZZ
@given(frame=st.binary(max_size=80))
def test_arbitrary_octets(frame: bytes) -> None:
    check_decode(frame)


EDITS = st.lists(
    st.tuples(st.sampled_from(["flip", "insert", "delete", "cut"]), st.integers(4, 400), st.integers(0, 255)),
    min_size=1,
    max_size=4,
)


@FUZZ
@given(pdu=ANY_PDU, edits=EDITS)
def test_mutated_valid_frames(pdu: SmppPdu, edits: list[tuple[str, int, int]]) -> None:
    wire = bytearray(encode(pdu))
    for operation, position, value in edits:
        at = min(position, len(wire))  # positions from 4 keep command_length to be fixed below
        if operation == "flip" and at < len(wire):
            wire[at] = value
        elif operation == "insert":
            wire[at:at] = bytes((value,))
        elif operation == "delete" and 16 <= at < len(wire):
            del wire[at]
        elif operation == "cut" and at >= 16:
            del wire[at:]
    wire[:4] = len(wire).to_bytes(4, "big")
    check_decode(bytes(wire))


# -- encode with values of any type or size ------------------------------------------------------------

SCALARS = st.one_of(
    st.integers(-3, 2**40),
    st.booleans(),
    st.none(),
    st.text(max_size=70),
    st.binary(max_size=300),
)
RECORDS = st.one_of(
    st.builds(
        Tlv,
        st.one_of(st.integers(-1, 0x10001), st.text(max_size=2)),
        st.one_of(st.binary(max_size=8), st.text(max_size=3)),
    ),
    st.builds(
        DestAddress,
        dest_flag=st.one_of(st.integers(0, 3), st.lists(st.integers(), max_size=1)),
        destination_addr=st.text(max_size=22),
        dl_name=st.text(max_size=3),
    ),
    st.builds(UnsuccessSme, error_status_code=st.integers(-1, 2**33), destination_addr=st.text(max_size=22)),
    SCALARS,
)
ANY_VALUE = st.one_of(SCALARS, st.lists(RECORDS, max_size=3).map(tuple), st.lists(RECORDS, max_size=2))


@st.composite
def garbage_pdu(draw: st.DrawFn) -> SmppPdu:
    cls = draw(st.sampled_from(ALL_PDU_TYPES))
    chosen = draw(st.sets(st.sampled_from([f.name for f in dataclasses.fields(cls)]), max_size=3))
    return cls(**{name: draw(ANY_VALUE) for name in chosen})


@FUZZ
@given(pdu=garbage_pdu())
def test_encode_raises_only_local_protocol_error(pdu: SmppPdu) -> None:
    try:
        wire = encode(pdu)
    except LocalProtocolError:
        return
    if not (pdu.command_id & RESPONSE_BIT and pdu.command_status):
        assert decode(wire) == pdu  # whatever encode accepts is valid on the wire
