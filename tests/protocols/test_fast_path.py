"""Differential tests: the generated fast codecs against the Construct reference path, PDU type by PDU type.

For every input, both paths either return equal results (equal PDUs of the same class with fields of the same
types, or identical bytes) or raise the same error: RemoteProtocolError with the same code, field, offset,
command_id, sequence and message, or LocalProtocolError with the same message. Inputs: valid PDUs of every type
and CMPP layout (the strategies of the existing property tests), random bodies behind valid headers, valid
frames mutated (bit flips, byte changes, insertions, deletions, truncation, extension, Total_Length or
command_length lies), and PDUs holding values of any type or size.
"""

from __future__ import annotations

import dataclasses
import functools
import importlib
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from protocols import cmpp, smpp
from protocols.cmpp import pdus as cmpp_pdus
from protocols.cmpp import report as report_module
from protocols.errors import LocalProtocolError, RemoteProtocolError
from protocols.smpp import _codec as smpp_codec

# The strategies live in the existing test folders, which have no __init__.py (pytest puts them on sys.path
# when it collects them, which a run of this file alone does not).
for folder in ("cmpp", "smpp"):
    if str(Path(__file__).parent / folder) not in sys.path:
        sys.path.insert(0, str(Path(__file__).parent / folder))
cmpp_properties = importlib.import_module("test_cmpp_properties")
smpp_strategies = importlib.import_module("smpp_strategies")
smpp_fuzz = importlib.import_module("test_smpp_fuzz")

DIFF = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
U1 = st.integers(0, 0xFF)
U4 = st.integers(0, 0xFFFF_FFFF)
CMPP_CLASSES = sorted(cmpp.PDU_TYPES.values(), key=lambda cls: cls.command_id)
CMPP_VERSIONS = [cmpp.Version.V20, cmpp.Version.V21, cmpp.Version.V30]
SMPP_CLASSES = smpp_strategies.ALL_PDU_TYPES


def outcome(function: Any, *arguments: object) -> tuple[object, ...]:
    """What ``function`` does with ``arguments``, in a form that compares everything that matters."""
    try:
        result = function(*arguments)
    except RemoteProtocolError as error:
        return ("remote", error.code, error.field, error.offset, error.command_id, error.sequence, error.message)
    except LocalProtocolError as error:
        return ("local", str(error))
    if isinstance(result, bytes):
        return ("bytes", type(result), result)
    # repr shows each field's type too (bytes against bytearray, int against an IntEnum, tuple against list).
    return ("pdu", type(result), result, repr(result))


def same_decode_cmpp(frame: bytes, version: object) -> tuple[object, ...]:
    fast = outcome(cmpp.decode, frame, version)
    assert fast == outcome(cmpp_pdus.decode_reference, frame, version)
    return fast


def same_encode_cmpp(pdu: object, version: object) -> tuple[object, ...]:
    fast = outcome(cmpp.encode, pdu, version)
    assert fast == outcome(cmpp_pdus.encode_reference, pdu, version)
    return fast


def same_decode_smpp(frame: bytes) -> tuple[object, ...]:
    fast = outcome(smpp.decode, frame)
    assert fast == outcome(smpp_codec.decode_reference, frame)
    return fast


def same_encode_smpp(pdu: object) -> tuple[object, ...]:
    fast = outcome(smpp.encode, pdu)
    assert fast == outcome(smpp_codec.encode_reference, pdu)
    return fast


@st.composite
def mutated(draw: st.DrawFn, frame: bytes) -> bytes:
    """``frame`` after 1-4 edits anywhere, its length field then mostly made honest again, sometimes a lie."""
    wire = bytearray(frame)
    for _ in range(draw(st.integers(1, 4))):
        operation = draw(st.sampled_from(["flip", "set", "insert", "delete", "truncate", "extend"]))
        at = draw(st.integers(0, len(wire)))
        if operation == "flip" and at < len(wire):
            wire[at] ^= 1 << draw(st.integers(0, 7))
        elif operation == "set" and at < len(wire):
            wire[at] = draw(U1)
        elif operation == "insert":
            wire[at:at] = draw(st.binary(min_size=1, max_size=40))
        elif operation == "delete":
            del wire[at : at + draw(st.integers(1, 40))]
        elif operation == "truncate":
            del wire[at:]
        elif operation == "extend":
            wire += draw(st.binary(min_size=1, max_size=40))
    length = draw(st.sampled_from(["honest", "honest", "honest", "lie", "as edited"]))
    if length == "honest" and len(wire) >= 4:
        wire[:4] = len(wire).to_bytes(4, "big")
    elif length == "lie" and len(wire) >= 4:
        wire[:4] = draw(st.one_of(U4, st.integers(len(wire) - 3, len(wire) + 3).filter(lambda n: n >= 0))).to_bytes(
            4, "big"
        )
    return bytes(wire)


# Values of any type a caller might wrongly put in a field, and values just inside or outside the limits.
ANY_VALUE = st.one_of(
    st.integers(-2, 2**65),
    st.sampled_from([0, 1, 255, 256, 2**32 - 1, 2**32, 2**64 - 1, 2**64, -1]),
    st.booleans(),
    st.none(),
    st.floats(allow_nan=False),
    st.sampled_from(list(cmpp.Version)),
    st.text(st.characters(max_codepoint=0x3FF), max_size=40),
    st.text(st.characters(min_codepoint=1, max_codepoint=0xFF), min_size=0, max_size=33).map(lambda s: s + "\0"),
    st.integers(0, 70).map(lambda size: "x" * size),
    st.binary(max_size=300),
    st.integers(0, 300).map(bytes),
    st.lists(st.text(st.characters(max_codepoint=0x1FF), max_size=34), max_size=3).map(tuple),
    st.lists(st.text(max_size=5), max_size=2),
    st.integers(0, 300).map(lambda count: ("1",) * count),
    st.lists(st.builds(smpp.Tlv, st.integers(-1, 0x10001), st.binary(max_size=8)), max_size=3).map(tuple),
)


# -- CMPP ---------------------------------------------------------------------------------------------


def test_every_cmpp_command_has_a_fast_path_in_every_version():
    for version in range(256):
        try:
            cmpp_pdus._codec.wire_is_v3(version)
        except LocalProtocolError:
            assert version not in cmpp_pdus._FAST_DECODERS
            continue
        assert set(cmpp_pdus._FAST_DECODERS[version]) == set(cmpp.PDU_TYPES)
        assert set(cmpp_pdus._FAST_ENCODERS[version]) == set(cmpp.PDU_TYPES.values())


@pytest.mark.parametrize("version", CMPP_VERSIONS, ids=lambda version: version.name)
@pytest.mark.parametrize("cls", CMPP_CLASSES, ids=lambda cls: cls.__name__)
@settings(max_examples=15, deadline=None)
@given(data=st.data())
def test_cmpp_valid_pdus_take_the_fast_path_and_agree(cls, version, data):
    pdu = data.draw(cmpp_properties.pdus(cls, version.is_v3))
    # The generated functions themselves accept every valid PDU: the fallback is not what makes them agree.
    frame = cmpp_pdus._FAST_ENCODERS[version][cls](pdu)
    assert frame is not None
    assert same_encode_cmpp(pdu, version) == ("bytes", bytes, frame)
    decoded = cmpp_pdus._FAST_DECODERS[version][cls.command_id](frame, pdu.sequence_id)
    assert decoded is not None
    assert same_decode_cmpp(frame, version) == ("pdu", cls, pdu, repr(pdu))


@DIFF
@given(
    command_id=st.sampled_from(sorted(cmpp.PDU_TYPES)) | U4,
    sequence=U4,
    body=st.binary(max_size=300),
    version=st.sampled_from(CMPP_VERSIONS),
)
def test_cmpp_random_bodies_behind_valid_headers(command_id, sequence, body, version):
    same_decode_cmpp(cmpp_properties.header(12 + len(body), command_id, sequence) + body, version)


@st.composite
def cmpp_mutations(draw: st.DrawFn) -> tuple[bytes, cmpp.Version]:
    version = draw(st.sampled_from(CMPP_VERSIONS))
    cls = draw(st.sampled_from(CMPP_CLASSES))
    frame = cmpp.encode(draw(cmpp_properties.pdus(cls, version.is_v3)), version)
    # Sometimes read in the other layout: the classic 2.0/3.0 mix-up.
    return draw(mutated(frame)), draw(st.sampled_from([version, *CMPP_VERSIONS]))


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=cmpp_mutations())
def test_cmpp_mutated_frames(case):
    frame, version = case
    same_decode_cmpp(frame, version)


@DIFF
@given(raw=st.binary(max_size=64), version=st.sampled_from([*CMPP_VERSIONS, 0x22, 0x31, 0, -1, 48.0, True, None]))
def test_cmpp_arbitrary_bytes_and_versions(raw, version):
    same_decode_cmpp(raw, version)


@settings(max_examples=30, deadline=None)
@given(pdu=st.sampled_from(CMPP_CLASSES).flatmap(lambda cls: cmpp_properties.pdus(cls, True)))
def test_cmpp_frames_that_are_not_bytes(pdu):
    frame = cmpp.encode(pdu, cmpp.Version.V30)
    same_decode_cmpp(bytearray(frame), cmpp.Version.V30)
    same_decode_cmpp(memoryview(frame), cmpp.Version.V30)


@st.composite
def cmpp_garbage(draw: st.DrawFn) -> tuple[object, object]:
    version = draw(st.sampled_from([*CMPP_VERSIONS, 0x2F, 0x31, 48.0]))
    cls = draw(st.sampled_from(CMPP_CLASSES))
    pdu = draw(cmpp_properties.pdus(cls, draw(st.booleans())))
    names = [field.name for field in dataclasses.fields(cls)]
    chosen = draw(st.sets(st.sampled_from(names), max_size=3))
    # replace() runs __init__ without checks: any value goes, as a caller's bug would put it.
    return dataclasses.replace(pdu, **{name: draw(ANY_VALUE) for name in chosen}), version


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=cmpp_garbage())
def test_cmpp_encode_of_any_values(case):
    pdu, version = case
    same_encode_cmpp(pdu, version)


def test_cmpp_encode_of_a_subclass_or_a_stranger_goes_the_reference_way():
    @dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
    class Mine(cmpp.Submit):
        pass

    same_encode_cmpp(Mine(dest_terminal_id=("1",)), cmpp.Version.V30)
    assert same_encode_cmpp(cmpp.Submit(dest_terminal_id=("1",), pk_total=True), 0x30)[0] == "bytes"


REPORT_TEXT = st.text(st.characters(max_codepoint=0x17F), max_size=40)


@DIFF
@given(version=st.sampled_from(CMPP_VERSIONS), data=st.data())
def test_cmpp_report_bodies_fast_and_reference_agree(version, data):
    # The status report a DELIVER carries (built for every receipt): generated from the same layout.
    valid = cmpp.Report(msg_id=data.draw(st.integers(0, 2**64 - 1)),
                        stat=data.draw(st.text("DELIVRD:0123", max_size=7)), submit_time="2611291700",
                        done_time="2611291701",
                        dest_terminal_id=data.draw(st.text("0123456789", min_size=1, max_size=21)),
                        smsc_sequence=data.draw(U4))
    assert report_module._FAST[version.is_v3](valid) == report_module.build_report_reference(valid, version)
    names = [field.name for field in dataclasses.fields(cmpp.Report)]
    chosen = data.draw(st.sets(st.sampled_from(names), max_size=3))
    report = dataclasses.replace(valid, **{name: data.draw(ANY_VALUE | REPORT_TEXT) for name in chosen})
    assert outcome(cmpp.build_report, report, version) == outcome(report_module.build_report_reference, report, version)


def test_code_table_members_take_the_fast_path_and_agree():
    # The code tables are IntEnums; answers built from them must not fall back to the Construct path.
    for pdu, version in ((cmpp.SubmitResp(sequence_id=7, msg_id=1 << 60, result=cmpp.SubmitResult.TOO_LONG), 0x30),
                         (cmpp.SubmitResp(sequence_id=7, result=cmpp.SubmitResult.FLOW_CONTROL), 0x20),
                         (cmpp.ConnectResp(sequence_id=1, status=cmpp.ConnectStatus.AUTHENTICATION), 0x30)):
        frame = cmpp_pdus._FAST_ENCODERS[version][type(pdu)](pdu)
        assert frame is not None and frame == cmpp_pdus.encode_reference(pdu, version)
    answer = smpp.SubmitSmResp(sequence_number=7, command_status=smpp.CommandStatus.ESME_RTHROTTLED)
    assert smpp_codec._FAST_ENCODERS[smpp.SubmitSmResp](answer) == smpp_codec.encode_reference(answer)
    # A bool is no integer to either path (SMPP refuses it; CMPP's reference builds it, the fast path leaves it).
    assert cmpp_pdus._FAST_ENCODERS[0x30][cmpp.SubmitResp](cmpp.SubmitResp(result=True)) is None
    assert same_encode_smpp(smpp.SubmitSmResp(command_status=True))[0] == "local"


# -- SMPP ---------------------------------------------------------------------------------------------


def test_every_smpp_pdu_has_a_fast_path():
    assert set(smpp_codec._FAST_ENCODERS) == set(SMPP_CLASSES)
    assert set(smpp_codec._FAST_DECODERS) == {cls.command_id for cls in SMPP_CLASSES}


@pytest.mark.parametrize("cls", SMPP_CLASSES, ids=lambda cls: cls.command_name)
@settings(max_examples=20, deadline=None)
@given(data=st.data())
def test_smpp_valid_pdus_take_the_fast_path_and_agree(cls, data):
    pdu = data.draw(smpp_strategies.valid_pdu(cls))
    # The generated functions themselves accept every valid PDU: the fallback is not what makes them agree.
    frame = smpp_codec._FAST_ENCODERS[cls](pdu)
    assert frame is not None
    assert same_encode_smpp(pdu) == ("bytes", bytes, frame)
    assert smpp_codec._FAST_DECODERS[cls.command_id](frame, pdu.command_status, pdu.sequence_number) is not None
    assert same_decode_smpp(frame) == ("pdu", cls, pdu, repr(pdu))


@DIFF
@given(
    command_id=st.sampled_from(sorted(smpp.PDU_TYPES)) | U4,
    status=st.one_of(st.just(0), U4),
    sequence=U4,
    body=st.binary(max_size=300),
)
def test_smpp_random_bodies_behind_valid_headers(command_id, status, sequence, body):
    same_decode_smpp(smpp_fuzz.header(16 + len(body), command_id, status, sequence) + body)


@DIFF
@given(
    command_id=st.sampled_from(sorted(smpp.PDU_TYPES)),
    status=st.one_of(st.just(0), U4),
    sequence=U4,
    body=st.lists(st.sampled_from([b"\0", b"\0" * 5, b"1" * 16, b"x", b"\x01", b"\xfe", b"\x04\x24\x00\x01"]))
    .map(b"".join),
)
def test_smpp_bodies_made_of_likely_field_boundaries(command_id, status, sequence, body):
    same_decode_smpp(smpp_fuzz.header(16 + len(body), command_id, status, sequence) + body)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_smpp_mutated_frames(data):
    frame = smpp.encode(data.draw(smpp_strategies.ANY_PDU))
    same_decode_smpp(data.draw(mutated(frame)))


@DIFF
@given(raw=st.binary(max_size=80))
def test_smpp_arbitrary_bytes(raw):
    same_decode_smpp(raw)


@settings(max_examples=30, deadline=None)
@given(pdu=smpp_strategies.ANY_PDU)
def test_smpp_frames_that_are_not_bytes(pdu):
    frame = smpp.encode(pdu)
    same_decode_smpp(bytearray(frame))
    same_decode_smpp(memoryview(frame))


@st.composite
def smpp_garbage(draw: st.DrawFn) -> smpp.SmppPdu:
    pdu = draw(smpp_strategies.ANY_PDU)
    names = [field.name for field in dataclasses.fields(pdu)]
    chosen = draw(st.sets(st.sampled_from(names), max_size=3))
    return dataclasses.replace(pdu, **{name: draw(ANY_VALUE) for name in chosen})


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pdu=st.one_of(smpp_garbage(), smpp_fuzz.garbage_pdu()))
def test_smpp_encode_of_any_values(pdu):
    same_encode_smpp(pdu)


def test_smpp_error_responses_and_bodiless_deliver_sm_resp():
    for cls in SMPP_CLASSES:
        for status in (0, 8):
            for body in (b"", b"\0", b"\0\0", b"x"):
                same_decode_smpp(smpp_fuzz.header(16 + len(body), cls.command_id, status, 3) + body)
        same_encode_smpp(cls(command_status=0x58, sequence_number=9))


# -- every single-byte edit of boundary frames, and boundary values of every field -------------------------
# Random edits rarely land on the byte that matters (a DestUsr_tl set to 0, the NUL of a C-Octet String
# removed, a TLV tag turned into message_payload), so these go through every position of frames whose fields
# are empty or as full as their slots allow.

EDIT_VALUES = (0x00, 0x01, 0x02, 0x03, 0x24, 0xFF)
HEADER_FIELDS = {"sequence_id", "command_status", "sequence_number"}
SOME_TLVS = (smpp.Tlv(0x0425, b"\x01"), smpp.Tlv(0x1234, b"ab"), smpp.Tlv(0x0424, b"pay"))


def candidates(name: str, default: object, octets: tuple[int, ...]) -> list[object]:
    """Values to try for a field, the largest first; ``octets`` are the sizes tried for bytes."""
    if isinstance(default, int):
        return [2**64 - 1, 2**32 - 1, 0xFF]
    if isinstance(default, str):
        return ["9" * size for size in range(70, -1, -1)]
    if isinstance(default, bytes):
        return [b"\xa5" * size for size in octets]
    if name == "dest_terminal_id":
        return [("9" * size,) * 2 for size in range(40, 0, -1)]
    if name == "tlvs":
        return [SOME_TLVS, SOME_TLVS[:2]]
    if name == "dest_address":
        sme = smpp.DestAddress(dest_addr_ton=255, destination_addr="9" * 20)
        return [(sme, smpp.DestAddress(dest_flag=2, dl_name="9"))]
    if name == "unsuccess_sme":
        return [(smpp.UnsuccessSme(dest_addr_ton=255, destination_addr="9" * 20, error_status_code=2**32 - 1),)]
    return []


def fullest(pdu: Any, encode: Any, octets: tuple[int, ...] = (20, 16)) -> Any:
    """``pdu`` with each body field, in turn, set to the largest candidate that ``encode`` accepts."""
    for field in dataclasses.fields(pdu):
        if field.name in HEADER_FIELDS:
            continue
        for value in candidates(field.name, field.default, octets):
            trial = dataclasses.replace(pdu, **{field.name: value})
            try:
                encode(trial)
            except LocalProtocolError:
                continue
            pdu = trial
            break
    return pdu


def honest(wire: bytes) -> bytes:
    """``wire`` with its length field telling the truth again, as the framer hands frames over."""
    return len(wire).to_bytes(4, "big") + wire[4:] if len(wire) >= 4 else wire


def single_edits(frame: bytes) -> list[bytes]:
    edits = [frame[:at] + bytes((value,)) + frame[at + 1 :] for at in range(len(frame)) for value in EDIT_VALUES]
    edits += [
        frame[:at] + bytes(((frame[at] + step) % 256,)) + frame[at + 1 :]
        for at in range(len(frame))
        for step in (1, -1)
    ]
    edits += [honest(frame[:size]) for size in range(len(frame))]
    edits += [honest(frame[:at] + b"\0" + frame[at:]) for at in range(4, len(frame) + 1)]
    edits += [honest(frame[:at] + frame[at + 1 :]) for at in range(4, len(frame))]
    edits += length_edits(frame)
    return edits


def length_edits(frame: bytes) -> list[bytes]:
    """Each byte read as a length: one more with a byte appended, one less with the last byte cut."""
    longer = [
        honest(frame[:at] + bytes((frame[at] + 1,)) + frame[at + 1 :] + b"\0")
        for at in range(4, len(frame))
        if frame[at] < 0xFF
    ]
    shorter = [
        honest(frame[:at] + bytes((frame[at] - 1,)) + frame[at + 1 : -1])
        for at in range(4, len(frame) - 1)
        if frame[at] > 0
    ]
    return longer + shorter


def cmpp_samples(version: cmpp.Version) -> list[cmpp.CmppPdu]:
    def encode(pdu: cmpp.CmppPdu) -> bytes:
        return cmpp_pdus.encode_reference(pdu, version)

    minimal = [cls(dest_terminal_id=("1",)) if cls is cmpp.Submit else cls() for cls in CMPP_CLASSES]
    return minimal + [fullest(pdu, encode) for pdu in minimal]


@pytest.mark.parametrize("version", [cmpp.Version.V20, cmpp.Version.V30], ids=lambda version: version.name)
def test_cmpp_every_single_edit_of_boundary_frames(version):
    for pdu in cmpp_samples(version):
        for frame in single_edits(cmpp.encode(pdu, version)):
            same_decode_cmpp(frame, version)


@pytest.mark.parametrize("version", [cmpp.Version.V20, cmpp.Version.V30], ids=lambda version: version.name)
def test_cmpp_frames_construct_builds_from_values_the_checks_refuse(version):
    # No recipient, 255 of them, an empty or a 255-byte content: counts and lengths at both ends, which
    # single-byte edits cannot reach because the frame must shrink or grow with them.
    for pdu in cmpp_samples(version):
        layout = cmpp_pdus._codec._BODIES[version.is_v3][pdu.command_id]
        values = {name: getattr(pdu, name) for name in layout.attrs}
        for name, value in values.items():
            if isinstance(value, tuple):
                extremes: tuple[object, ...] = ((), ("1",) * 255)
            elif isinstance(value, bytes) and name == "msg_content":
                extremes = (b"", b"\xa5" * 255)
            else:
                continue
            for extreme in extremes:
                body = layout.struct.build(values | {name: extreme})
                frame = cmpp_properties.header(12 + len(body), pdu.command_id, 5) + body
                same_decode_cmpp(frame, version)


def smpp_samples() -> list[smpp.SmppPdu]:
    minimal = [cls() for cls in SMPP_CLASSES]
    return minimal + [fullest(pdu, smpp_codec.encode_reference) for pdu in minimal]


def test_smpp_every_single_edit_of_boundary_frames():
    for pdu in smpp_samples():
        for frame in single_edits(smpp.encode(pdu)):
            same_decode_smpp(frame)


def test_longest_contents_read_with_every_length_one_off():
    # short_message at 254 octets and CMPP Msg_Content at 255: sm_length 255, Msg_Length past the frame.
    for cls in SMPP_CLASSES:
        # Without TLVs, so that the content ends the frame and a longer one can still fit.
        longest = fullest(cls(), smpp_codec.encode_reference, (255, 254))
        if hasattr(longest, "tlvs"):
            longest = dataclasses.replace(longest, tlvs=())
        for frame in length_edits(smpp.encode(longest)):
            same_decode_smpp(frame)
    for version in (cmpp.Version.V20, cmpp.Version.V30):
        encode = functools.partial(cmpp_pdus.encode_reference, version=version)
        for pdu in (cmpp.Submit(dest_terminal_id=("1",)), cmpp.Deliver()):
            longest = fullest(pdu, encode, (255, 254, 16))
            for frame in length_edits(cmpp.encode(longest, version)):
                same_decode_cmpp(frame, version)


@pytest.mark.parametrize(
    ("cls", "name", "count_name", "entry"),
    [
        (smpp.SubmitMulti, "dest_address", "number_of_dests", smpp.DestAddress()),
        (smpp.SubmitMultiResp, "unsuccess_sme", "no_unsuccess", smpp.UnsuccessSme()),
    ],
)
def test_smpp_counts_one_past_their_maximum(cls, name, count_name, entry):
    # 255 well-formed entries: number_of_dests and no_unsuccess stop at 254 (§4.5.1), however well the rest fits.
    none, one, most = (smpp.encode(cls(**{name: (entry,) * count})) for count in (0, 1, 254))
    count_at = next(at for at in range(16, len(none)) if none[at] != one[at])
    entry_octets = one[count_at + 1 : count_at + 1 + len(one) - len(none)]
    too_many = honest(most[:count_at] + b"\xff" + entry_octets + most[count_at + 1 :])
    assert same_decode_smpp(too_many)[:3] == ("remote", smpp.CommandStatus.ESME_RINVNUMDESTS, count_name)
    assert same_decode_smpp(honest(most[:count_at] + b"\xfe" + most[count_at + 1 :]))[0] == "pdu"


BOUNDARY_VALUES: list[object] = [
    # Around every slot width and C-Octet maximum of both specifications.
    *(size * "9" for size in (0, 1, 2, 3, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 20, 21, 22)),
    *(size * "9" for size in (31, 32, 33, 40, 41, 42, 64, 65, 66)),
    "9" * 15 + "\0",
    "9\0" + "9" * 14,
    "\0",
    "é" * 6,
    "九",
    *(size * b"\xa5" for size in (0, 1, 15, 16, 17, 254, 255, 256)),
    -1,
    0,
    255,
    256,
    2**16,
    2**32 - 1,
    2**32,
    2**64 - 1,
    2**64,
    True,
    cmpp.Version.V30,
    1.0,
    None,
    ("1",),
    ["1"],
    (),
    ("1",) * 255,
    ("1",) * 256,
    ("1", "9" * 21),
    ("1", "9" * 22),
    ("1", "9" * 32),
    ("1", "9" * 33),
    ("1", 1),
    ("1\0",),
    SOME_TLVS,
    SOME_TLVS[:2],
    (smpp.Tlv(0x0425, b""),),
    (smpp.Tlv(0x0425, "x"),),  # type: ignore[arg-type]
    (smpp.Tlv(0x10000, b""),),
    (smpp.Tlv(True, b""),),  # type: ignore[arg-type]
    (smpp.Tlv(0x0424, b"x" * 0xFFFF),),
    (smpp.Tlv(0x0424, b"x" * 0x10000),),
    [smpp.Tlv(0x0425, b"\x01")],
    ("not a Tlv",),
    (smpp.DestAddress(dest_flag=2, dl_name="9" * 20), smpp.DestAddress(destination_addr="9" * 20)),
    (smpp.DestAddress(dest_flag=2, dl_name="9" * 21),),
    (smpp.DestAddress(dest_flag=1, dl_name="x"),),
    (smpp.DestAddress(dest_flag=2, dest_addr_npi=1),),
    (smpp.DestAddress(dest_flag=2, destination_addr=""),),
    (smpp.DestAddress(dest_flag=True),),  # type: ignore[arg-type]
    (smpp.DestAddress(dest_flag=0),),
    (smpp.DestAddress(dest_flag=3),),
    (smpp.DestAddress(dest_addr_ton=256),),
    (smpp.DestAddress(destination_addr="九"),),
    (smpp.DestAddress(),) * 254,
    (smpp.DestAddress(),) * 255,
    (smpp.UnsuccessSme(error_status_code=2**32 - 1, destination_addr="9" * 20),),
    (smpp.UnsuccessSme(error_status_code=2**32),),
    (smpp.UnsuccessSme(destination_addr="9" * 21),),
    (smpp.UnsuccessSme(), smpp.DestAddress()),
]


@pytest.mark.parametrize("version", [cmpp.Version.V20, cmpp.Version.V30], ids=lambda version: version.name)
def test_cmpp_encode_of_boundary_values_in_every_field(version):
    for pdu in cmpp_samples(version):
        for field in dataclasses.fields(pdu):
            for value in BOUNDARY_VALUES:
                same_encode_cmpp(dataclasses.replace(pdu, **{field.name: value}), version)


def test_smpp_encode_of_boundary_values_in_every_field():
    for pdu in smpp_samples():
        for field in dataclasses.fields(pdu):
            for value in BOUNDARY_VALUES:
                same_encode_smpp(dataclasses.replace(pdu, **{field.name: value}))
