"""`smsclab decode` and `smsclab encode`: what a partner runs on day one."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from simulator.cli import main

VECTORS = Path(__file__).resolve().parents[2].parent / "shared" / "vectors"


def cmpp_vectors() -> list[tuple[str, str, str]]:
    cases = []
    for name in ("cmpp.json", "real-gateways.json"):
        for vector in json.loads((VECTORS / name).read_text()):
            if vector["protocol"] != "CMPP" or "Msg_Content only" in vector["pdu"]:
                continue
            protocol = "cmpp30" if vector["version"].startswith("3.0") else "cmpp20"
            hex_stream = vector.get("hex_with_header", vector["hex"])
            cases.append((vector["id"], protocol, hex_stream))
    return cases


def run(capsys, *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


@pytest.mark.parametrize(("vector_id", "protocol", "hex_stream"), cmpp_vectors())
def test_every_cmpp_vector_decodes_and_encodes_back_byte_exact(capsys, vector_id, protocol, hex_stream):
    status, out, err = run(capsys, "decode", "--protocol", protocol, hex_stream)
    assert status == 0, err
    decoded = json.loads(out)
    status, out, err = run(capsys, "encode", "--protocol", protocol, json.dumps(decoded))
    assert status == 0, err
    assert out.strip() == hex_stream.lower()


def test_decode_prints_the_documented_shape(capsys):
    hex_connect = "00000027000000010000001739303030303190d00c1d517abd0b4f65f6bcf8535d16213cdc73be"
    status, out, _ = run(capsys, "decode", "--protocol", "cmpp20", hex_connect)
    assert status == 0
    assert json.loads(out) == {
        "command": "CMPP_CONNECT",
        "sequence_id": 0x17,
        "fields": {"source_addr": "900001", "authenticator_source": "90d00c1d517abd0b4f65f6bcf8535d16",
                   "version": 0x21, "timestamp": 1021080510},
    }


def test_decode_shows_message_text_and_report(capsys):
    submit = json.dumps({"command": "CMPP_SUBMIT", "sequence_id": 1, "fields": {
        "dest_terminal_id": ["13800138000"], "msg_fmt": 8, "msg_content": "4f60597d"}})
    _, hex_out, _ = run(capsys, "encode", "--protocol", "cmpp30", submit)
    _, out, _ = run(capsys, "decode", "--protocol", "cmpp30", hex_out.strip())
    assert json.loads(out)["decoded"]["text"] == "你好"


def test_smpp_round_trip_with_tlvs_and_receipt(capsys):
    deliver = {"command": "deliver_sm", "sequence_number": 7, "fields": {
        "esm_class": 4, "short_message": b"id:1a2b sub:001 dlvrd:001 submit date:2611291200 "
                                         b"done date:2611291201 stat:DELIVRD err:000 text:hi".hex(),
        "tlvs": [{"tag": 0x001E, "value": b"1a2b\0".hex()}, {"tag": 0x0427, "value": "02"},
                 {"tag": 0x1401, "value": "cafe"}]}}
    status, hex_out, err = run(capsys, "encode", "--protocol", "smpp34", json.dumps(deliver))
    assert status == 0, err
    _, out, _ = run(capsys, "decode", "--protocol", "smpp34", hex_out.strip())
    decoded = json.loads(out)
    assert decoded["fields"]["tlvs"] == deliver["fields"]["tlvs"]
    assert decoded["decoded"]["receipt"]["stat"] == "DELIVRD"
    assert decoded["decoded"]["tlvs"] == {"receipted_message_id": "1a2b", "message_state": 2, "0x1401": "cafe"}


def test_several_pdus_decode_to_a_list(capsys):
    two = "0000000c0000000800000017" * 2
    status, out, _ = run(capsys, "decode", "--protocol", "cmpp30", two)
    assert status == 0 and [d["command"] for d in json.loads(out)] == ["CMPP_ACTIVE_TEST"] * 2
    _, hex_out, _ = run(capsys, "encode", "--protocol", "cmpp30", out)
    assert hex_out.strip() == two


def test_hex_is_accepted_as_people_paste_it(capsys):
    status, _, err = run(capsys, "decode", "--protocol", "cmpp30", "0x00 00 00 0c:00 00 00 08\n00 00 00 17")
    assert status == 0, err


@pytest.mark.parametrize(("protocol", "hex_input", "expected"), [
    ("cmpp30", "zz", "not hexadecimal"),
    ("cmpp30", "000", "odd number of hex digits"),
    ("cmpp30", "0000000c00000008000000", "truncated PDU"),
    ("smpp34", "00000008000000040000000000000001", "byte 0 field length"),
    ("cmpp30", "0000000c0000007700000001", "byte 4 field Command_Id: unknown Command_Id"),
    # A submit_sm that ends inside destination_addr: the error names the field and its offset.
    ("smpp34", "0000001600000004000000000000000100000000000000", "byte 22 field destination_addr"),
    ("cmpp30", "", "no PDU"),
])
def test_malformed_input_is_one_line_and_exit_2(capsys, protocol, hex_input, expected):
    status, out, err = run(capsys, "decode", "--protocol", protocol, hex_input)
    assert status == 2 and out == ""
    assert err.count("\n") == 1 and expected in err
    assert "Traceback" not in err


@pytest.mark.parametrize(("document", "expected"), [
    ("{", "invalid JSON at line 1 column 2"),
    ('{"command": "CMPP_NOPE"}', "command: unknown 'CMPP_NOPE'"),
    ('{"command": "CMPP_SUBMIT", "fields": {"msg_fmt": "x"}}', "fields.msg_fmt: expected an integer"),
    ('{"command": "CMPP_SUBMIT", "fields": {"colour": 1}}', "unknown field 'colour'"),
    ('{"command": "CMPP_SUBMIT", "fields": {"dest_terminal_id": ["1"], "service_id": "far too long for it"}}',
     "Service_Id"),
    ('{"command": "CMPP_SUBMIT", "fields": {"msg_content": "xyz"}}', "fields.msg_content: not valid hex"),
])
def test_bad_json_is_one_line_and_exit_2(capsys, document, expected):
    status, out, err = run(capsys, "encode", "--protocol", "cmpp30", document)
    assert status == 2 and out == ""
    assert err.count("\n") == 1 and expected in err, err


def test_console_script_reads_stdin():
    result = subprocess.run([sys.executable, "-m", "simulator.cli", "decode", "--protocol", "cmpp30", "-"],
                            input="0000000c0000000800000017", capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["command"] == "CMPP_ACTIVE_TEST"
