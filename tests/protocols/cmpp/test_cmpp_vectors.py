"""Every CMPP vector in shared/vectors decodes to what its note and source say, and re-encodes byte-exact.

Two independent checks per vector: the facts written in its ``note`` (and ``independent_checks``) are parsed
and compared generically, and a hand-written table below asserts the important fields per vector id.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from protocols.cmpp import (
    ActiveTest,
    ActiveTestResp,
    CmppPdu,
    Connect,
    ConnectResp,
    Deliver,
    DeliverResp,
    MsgId,
    Report,
    Submit,
    SubmitResp,
    Terminate,
    TerminateResp,
    Version,
    build_report,
    decode,
    encode,
    frame_buffer,
    parse_report,
)

VECTORS_DIR = Path(__file__).resolve().parents[3] / ".." / "shared" / "vectors"


def _load() -> list[dict[str, Any]]:
    vectors: list[dict[str, Any]] = []
    for name in ("cmpp.json", "real-gateways.json"):
        entries = json.loads((VECTORS_DIR / name).read_text(encoding="utf-8"))
        vectors += [entry for entry in entries if entry["protocol"] == "CMPP"]
    return vectors


VECTORS = {vector["id"]: vector for vector in _load()}
REPORT_CONTENT_ID = "CMPP2-REPORT-CONTENT"  # Msg_Content only, not a frame

V20, V21, V30 = Version.V20, Version.V21, Version.V30
UCS2_CONTENT = bytes.fromhex(
    "6d4b8bd50067006f0063006d007000700020007300750062006d00690074"
)  # "测试gocmpp submit"

# Per vector: the layouts it is decoded in, and per PDU its class and the fields that matter.
EXPECTED: dict[str, tuple[tuple[Version, ...], list[tuple[type[CmppPdu], dict[str, Any]]]]] = {
    "CMPP-CONNECT-v21": (
        (V21, V20, V30),  # CONNECT has one layout
        [
            (
                Connect,
                {
                    "sequence_id": 0x17,
                    "source_addr": "900001",
                    "authenticator_source": bytes.fromhex("90d00c1d517abd0b4f65f6bcf8535d16"),
                    "version": 0x21,
                    "timestamp": 1021080510,
                },
            )
        ],
    ),
    "CMPP3-CONNECT": (
        (V30, V20),
        [(Connect, {"sequence_id": 0x17, "source_addr": "900001", "version": 0x30, "timestamp": 1021080510})],
    ),
    "CMPP2-CONNECT_RESP": (
        (V20, V21),
        [
            (
                ConnectResp,
                {
                    "status": 0,
                    "authenticator_ismg": bytes.fromhex("6c0b846e25bab6daa4ed1c466e0f4bd8"),
                    "version": 0x21,
                },
            )
        ],
    ),
    "CMPP3-CONNECT_RESP": (
        (V30,),
        [
            (
                ConnectResp,
                {
                    "status": 0,
                    "authenticator_ismg": bytes.fromhex("7942977274098cf210ab0c16c367bc8d"),
                    "version": 0x30,
                },
            )
        ],
    ),
    "CMPP-ACTIVE_TEST": ((V20, V30), [(ActiveTest, {"sequence_id": 0x17})]),
    "CMPP-ACTIVE_TEST_RESP": ((V20, V30), [(ActiveTestResp, {"sequence_id": 0x17, "reserved": 0})]),
    "CMPP-TERMINATE": ((V20, V30), [(Terminate, {"sequence_id": 0x17})]),
    "CMPP-TERMINATE_RESP": ((V20, V30), [(TerminateResp, {"sequence_id": 0x17})]),
    "CMPP2-SUBMIT": (
        (V20, V21),
        [
            (
                Submit,
                {
                    "sequence_id": 0x17,
                    "registered_delivery": 1,
                    "service_id": "test",
                    "fee_user_type": 2,
                    "fee_terminal_id": "13500002696",
                    "msg_fmt": 8,
                    "msg_src": "900001",
                    "fee_type": "02",
                    "fee_code": "10",
                    "valid_time": "151105131555101+",
                    "src_id": "900001",
                    "dest_terminal_id": ("13500002696",),
                    "msg_content": UCS2_CONTENT,
                    "reserve": "",
                },
            )
        ],
    ),
    "CMPP3-SUBMIT": (
        (V30,),
        [
            (
                Submit,
                {
                    "fee_terminal_id": "13500002696",
                    "fee_terminal_type": 0,
                    "dest_terminal_id": ("13500002696",),
                    "dest_terminal_type": 0,
                    "msg_content": UCS2_CONTENT,
                    "link_id": "",
                },
            )
        ],
    ),
    "CMPP2-SUBMIT_RESP": ((V20,), [(SubmitResp, {"msg_id": 0xB2B9DA8000010000, "result": 0})]),
    "CMPP3-SUBMIT_RESP": ((V30,), [(SubmitResp, {"msg_id": 0xB2B9DA8000010000, "result": 0})]),
    "CMPP2-DELIVER-MO": (
        (V20,),
        [
            (
                Deliver,
                {
                    "sequence_id": 5,
                    "msg_id": 0xB525628000010000,
                    "dest_id": "900001",
                    "src_terminal_id": "13412340000",
                    "registered_delivery": 0,
                    "msg_content": b"This is a test MO.",
                },
            )
        ],
    ),
    "CMPP3-DELIVER-MO": (
        (V30,),
        [
            (
                Deliver,
                {
                    "sequence_id": 1,
                    "msg_id": 0xB4C5530000010000,
                    "src_terminal_id": "13412340000",
                    "src_terminal_type": 0,
                    "msg_content": b"This is a test MO.",
                },
            )
        ],
    ),
    "CMPP2-DELIVER_RESP": ((V20,), [(DeliverResp, {"msg_id": 0xB525628000010000, "result": 0})]),
    "CMPP3-DELIVER_RESP": ((V30,), [(DeliverResp, {"msg_id": 0xB4C5530000010000, "result": 0})]),
    "CMPP2-SUBMIT-UCS2-x2": (
        (V20,),
        [
            (Submit, {"sequence_id": 0x0576BEFB, "msg_src": "400437", "src_id": "10085", "msg_fmt": 8}),
            (Submit, {"sequence_id": 0x0576BEFC, "dest_terminal_id": ("15888165789",), "src_id": "10085"}),
        ],
    ),
    "CMPP2-SUBMIT-LONG-EDGE": (
        (V20,),
        [
            (Submit, {"msg_id": 0xC7491681F533DE86, "pk_total": 5, "pk_number": number, "tp_udhi": 1})
            for number in range(1, 6)
        ],
    ),
    "CMPP2-SUBMIT-LONG-PKMISMATCH": (
        (V20,),
        [
            (Submit, {"pk_total": 1, "pk_number": 1, "tp_udhi": 1, "at_time": ""}),
            (Submit, {"pk_total": 1, "pk_number": 1, "at_time": "150731224820032+"}),
            (Submit, {"pk_total": 1, "pk_number": 1, "at_time": "150731224825032+"}),
        ],
    ),
    "CMPP2-SUBMIT-LONG-MIXEDFMT": (
        (V20,),
        [(Submit, {"pk_total": 4, "pk_number": n, "msg_fmt": 8}) for n in (1, 2, 3)]
        + [
            (
                Submit,
                {
                    "pk_total": 4,
                    "pk_number": 4,
                    "msg_fmt": 0,
                    "msg_content": b"\x05\x00\x03\xe4\x04\x04abc10085",
                },
            )
        ],
    ),
    "CMPP2-SUBMIT-SIMDATA": (
        (V20,),
        [(Submit, {"tp_pid": 0x7F, "tp_udhi": 1, "msg_fmt": 0xF6, "fee_code": "0", "service_id": "WLWKZXK"})],
    ),
    "CMPP2-DELIVER-MO-ASCII": (
        (V20,),
        [(Deliver, {"dest_id": "10085", "src_terminal_id": "8618775648141", "msg_content": b"r"})],
    ),
    "CMPP2-DELIVER-MO-UDH-PORT": (
        (V20,),
        [(Deliver, {"tp_udhi": 1, "msg_fmt": 4, "service_id": "MCN2210101"})],
    ),
    "CMPP3-DELIVER-REPORT-71": (
        (V30,),
        [(Deliver, {"registered_delivery": 1, "dest_id": "10085101", "service_id": "cmcczx_sms"})],
    ),
    "CMPP3-DELIVER-REPORT-60-QUIRK": (
        (V30,),
        [
            (
                Deliver,
                {
                    "sequence_id": 12345678,
                    "registered_delivery": 1,
                    "dest_id": "100869881008698810086",  # all 21 bytes, no NUL
                    "msg_fmt": 15,
                    "link_id": "0000000000000123456",
                },
            )
        ],
    ),
}

# The status report inside each report-carrying vector, from the vectors' independent checks.
EXPECTED_REPORTS = {
    REPORT_CONTENT_ID: Report(
        msg_id=0xB4C5530000010000,
        stat="DELIVRD",
        submit_time="1511120955",
        done_time="1511120957",
        dest_terminal_id="13412340000",
        smsc_sequence=0x12345678,
    ),
    "CMPP3-DELIVER-REPORT-71": Report(
        msg_id=0x522A4980002AA6CD,
        stat="AF:4",
        submit_time="0001010000",
        done_time="0001010000",
        dest_terminal_id="13592261791",
        smsc_sequence=0,
    ),
    "CMPP3-DELIVER-REPORT-60-QUIRK": Report(
        msg_id=0xC2CF8400A37359D8,
        stat="DELIVRD",
        submit_time="2212051956",
        done_time="2212051956",
        dest_terminal_id="10086988",
        smsc_sequence=255,
    ),
}


def vector_bytes(vector_id: str) -> bytes:
    vector = VECTORS[vector_id]
    return bytes.fromhex(vector.get("hex_with_header", vector["hex"]))


def split(stream: bytes) -> list[bytes]:
    buffer = frame_buffer()
    frames = buffer.feed(stream)
    assert buffer.buffered == 0, "the stream must split into whole frames"
    return frames


def test_every_cmpp_vector_is_covered():
    assert len(VECTORS) == 26
    assert set(VECTORS) == set(EXPECTED) | {REPORT_CONTENT_ID}


@pytest.mark.parametrize("vector_id", sorted(EXPECTED))
def test_vector_decodes_to_its_fields_and_reencodes_exactly(vector_id):
    versions, expected = EXPECTED[vector_id]
    stream = vector_bytes(vector_id)
    frames = split(stream)
    assert len(frames) == len(expected)
    assert sum(map(len, frames)) == VECTORS[vector_id]["bytes"] + (
        12 if "hex_with_header" in VECTORS[vector_id] else 0
    )
    for version in versions:
        for frame, (cls, fields) in zip(frames, expected, strict=True):
            pdu = decode(frame, version)
            assert type(pdu) is cls
            assert {name: getattr(pdu, name) for name in fields} == fields
            assert encode(pdu, version) == frame


@pytest.mark.parametrize("vector_id", sorted(EXPECTED_REPORTS.keys() - {REPORT_CONTENT_ID}))
def test_report_vectors_carry_their_report(vector_id):
    (frame,) = split(vector_bytes(vector_id))
    deliver = decode(frame, V30)
    assert isinstance(deliver, Deliver)
    assert deliver.report == EXPECTED_REPORTS[vector_id]


def test_60_byte_report_inside_a_30_deliver_is_read_with_the_20_layout():
    (frame,) = split(vector_bytes("CMPP3-DELIVER-REPORT-60-QUIRK"))
    deliver = decode(frame, V30)
    assert isinstance(deliver, Deliver)
    assert len(deliver.msg_content) == 60
    assert deliver.report is not None
    assert build_report(deliver.report, V20) == deliver.msg_content


def test_report_content_vector_parses_and_rebuilds_in_the_20_layout():
    content = vector_bytes(REPORT_CONTENT_ID)
    assert parse_report(content) == EXPECTED_REPORTS[REPORT_CONTENT_ID]
    assert build_report(parse_report(content), V20) == content


# --- the facts written in each vector's note ------------------------------------------------------------

# Spec name (as the notes spell it) -> PDU or Report attribute.
SPEC_TO_ATTR = {
    "Msg_Id": "msg_id",
    "Pk_total": "pk_total",
    "Pk_number": "pk_number",
    "Registered_Delivery": "registered_delivery",
    "Msg_level": "msg_level",
    "Service_Id": "service_id",
    "Fee_UserType": "fee_user_type",
    "Fee_terminal_Id": "fee_terminal_id",
    "Fee_terminal_type": "fee_terminal_type",
    "TP_pId": "tp_pid",
    "TP_pid": "tp_pid",
    "TP_udhi": "tp_udhi",
    "Msg_Fmt": "msg_fmt",
    "Msg_src": "msg_src",
    "FeeType": "fee_type",
    "FeeCode": "fee_code",
    "ValId_Time": "valid_time",
    "At_Time": "at_time",
    "Src_Id": "src_id",
    "Dest_terminal_Id": "dest_terminal_id",
    "Dest_terminal_type": "dest_terminal_type",
    "Msg_Content": "msg_content",
    "Dest_Id": "dest_id",
    "Src_terminal_Id": "src_terminal_id",
    "Src_terminal_type": "src_terminal_type",
    "Source_Addr": "source_addr",
    "Timestamp": "timestamp",
    "Status": "status",
    "Version": "version",
    "Result": "result",
    "LinkID": "link_id",
    "Sequence_Id": "sequence_id",
    "Stat": "stat",
    "Submit_time": "submit_time",
    "Done_time": "done_time",
    "SMSC_sequence": "smsc_sequence",
}
REPORT_ONLY = {"Stat", "Submit_time", "Done_time", "SMSC_sequence"}
# Keys that describe the note's own bookkeeping or the UDH, checked separately below.
DERIVED = {
    "DestUsr_tl",
    "Msg_Length",
    "UDH",
    "tail(Reserve/LinkID)",
    "Total_Length",
    "Command_Id",
    "_report_len",
}

KEY_VALUE = re.compile(r"((?:\b[A-Z][A-Za-z_]*=)+)('[^']*'|[^\s,;()]+)")


def key_values(text: str) -> dict[str, str]:
    """``Key=value`` facts of a note; ``A=B=1`` gives both keys the value."""
    facts: dict[str, str] = {}
    for keys, value in KEY_VALUE.findall(text):
        for key in keys.rstrip("=").split("="):
            facts[key] = value.strip("'").rstrip(".")
    return facts


def json_after(text: str, label: str) -> Any:
    start = text.index(label) + len(label)
    return json.JSONDecoder().raw_decode(text[start:].lstrip())[0]


def note_facts(vector: dict[str, Any]) -> list[dict[str, Any]]:
    """One dict of spec-keyed facts per PDU of the vector."""
    note: str = vector["note"]
    if "Decoded: " in note:
        decoded = json_after(note, "Decoded: ")
        return decoded if isinstance(decoded, list) else [decoded]
    facts: dict[str, Any] = key_values(note)
    if note.startswith("Header only"):
        facts["Total_Length"] = "12"
    if "Msg_Id decode: " in note:
        facts["Msg_Id"] = json_after(note, "Msg_Id decode: ")
    for check in vector.get("independent_checks", []):
        if check.startswith("Report: "):
            facts["Report"] = json_after(check, "Report: ")
    return [facts]


def expected_value(actual: Any, raw: Any) -> Any:
    """The note's value in the attribute's type (notes write ints as hex or decimal, bytes as hex)."""
    if isinstance(raw, dict):  # a decomposed Msg_Id
        return int(raw["raw"], 16)
    if isinstance(actual, int) and isinstance(raw, str):
        return int(raw, 0) if raw.startswith("0x") else int(raw)
    if isinstance(actual, bytes):
        return bytes.fromhex(raw)
    if isinstance(actual, tuple):
        return tuple(raw)
    return raw


def check_facts(subject: CmppPdu | Report, frame: bytes, facts: dict[str, Any]) -> int:
    """Compare every fact with the decoded value; returns how many were checked.

    ``frame`` is the PDU's frame, or for a :class:`Report` the Msg_Content it came from.
    """
    # A report's facts are about the Msg_Content it was parsed from, which is what ``frame`` holds for it.
    content: bytes = frame if isinstance(subject, Report) else getattr(subject, "msg_content", b"")
    # Facts about sizes and framing rather than one field.
    derived = {
        "Msg_Length": lambda value: len(content) == int(value),
        "_report_len": lambda value: len(content) == int(value),
        "DestUsr_tl": lambda value: len(subject.dest_terminal_id) == value,
        "UDH": lambda value: content.startswith(bytes.fromhex(value)),
        "Total_Length": lambda value: len(frame) == int(value),
        "Command_Id": lambda value: subject.command_id == int(value, 0),
        "tail(Reserve/LinkID)": lambda value: (
            bytes.fromhex(value).rstrip(b"\0").decode("latin-1") == (subject.link_id or subject.reserve)
        ),
    }
    checked = 0
    report = subject.report if isinstance(subject, Deliver) else subject
    for key, raw in facts.items():
        if key == "Report":  # the report's own facts (its Msg_Id is not the DELIVER's)
            assert isinstance(subject, Deliver)
            checked += check_facts(report, subject.msg_content, raw)
            continue
        if key in derived:
            continue
        target = report if key in REPORT_ONLY else subject
        actual = getattr(target, SPEC_TO_ATTR[key])
        assert actual == expected_value(actual, raw), key
        if isinstance(raw, dict):
            parts = MsgId.decompose(actual)
            assert (parts.month, parts.day, parts.hour, parts.minute, parts.second, parts.gateway) == (
                raw["month"],
                raw["day"],
                raw["hour"],
                raw["minute"],
                raw["second"],
                raw["gateway"],
            )
            assert parts.sequence == raw["seq"]
        checked += 1
    for key in facts.keys() & derived.keys():
        assert derived[key](facts[key]), key
        checked += 1
    return checked


@pytest.mark.parametrize("vector_id", sorted(VECTORS))
def test_vector_matches_the_facts_in_its_note(vector_id):
    vector = VECTORS[vector_id]
    facts = note_facts(vector)
    if vector_id == REPORT_CONTENT_ID:
        content = vector_bytes(vector_id)
        assert check_facts(parse_report(content), content, facts[0]) >= 5
        return
    versions, _ = EXPECTED[vector_id]
    frames = split(vector_bytes(vector_id))
    assert len(frames) == len(facts)
    for frame, pdu_facts in zip(frames, facts, strict=True):
        assert check_facts(decode(frame, versions[0]), frame, pdu_facts) >= 1


def test_note_parsing_reads_chained_and_quoted_facts():
    facts = key_values("Pk_total=Pk_number=1 (quirk), Stat='AF:4', Sequence_Id=0x17.")
    assert facts == {"Pk_total": "1", "Pk_number": "1", "Stat": "AF:4", "Sequence_Id": "0x17"}
