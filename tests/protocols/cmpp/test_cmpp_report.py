"""Status reports in DELIVER Msg_Content: 60 bytes (2.0) or 71 (3.0), read by size, written by version."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given
from hypothesis import strategies as st

from protocols.cmpp import CommandId, Deliver, Report, Version, build_report, decode, encode, parse_report
from protocols.errors import LocalProtocolError, RemoteProtocolError

REPORT = Report(
    msg_id=0xB4C5530000010000,
    stat="DELIVRD",
    submit_time="1511120955",
    done_time="1511120957",
    dest_terminal_id="13412340000",
    smsc_sequence=0x12345678,
)
# gocmpp's 60-byte receipt (vector CMPP2-REPORT-CONTENT).
CONTENT_60 = bytes.fromhex(
    "b4c553000001000044454c49565244313531313132303935353135313131323039353731333431323334303030300000000000"
    "000000000012345678"
)


def test_20_layout_is_60_bytes_field_by_field():
    assert build_report(REPORT, Version.V20) == CONTENT_60
    assert parse_report(CONTENT_60) == REPORT


def test_30_layout_is_71_bytes_with_a_32_byte_dest_terminal_id():
    content = build_report(REPORT, Version.V30)
    assert len(content) == 71
    assert content[:35] == CONTENT_60[:35]  # Msg_Id, Stat, Submit_time, Done_time
    assert content[35:67] == b"13412340000".ljust(32, b"\0")
    assert content[67:] == (0x12345678).to_bytes(4, "big")
    assert parse_report(content) == REPORT


def test_21_uses_the_20_layout():
    assert build_report(REPORT, Version.V21) == CONTENT_60


TEXT = st.binary(max_size=7).map(lambda raw: raw.rstrip(b"\0").decode("latin-1"))


@given(
    report=st.builds(
        Report,
        msg_id=st.integers(0, 2**64 - 1),
        stat=TEXT,
        submit_time=st.text("0123456789", max_size=10),
        done_time=st.text("0123456789", max_size=10),
        dest_terminal_id=st.text("0123456789+", max_size=21),
        smsc_sequence=st.integers(0, 2**32 - 1),
    ),
    version=st.sampled_from([Version.V20, Version.V30]),
)
def test_round_trip_in_both_layouts(report, version):
    content = build_report(report, version)
    assert len(content) == (71 if version.is_v3 else 60)
    assert parse_report(content) == report


@pytest.mark.parametrize("size", [0, 59, 61, 70, 72, 140])
def test_any_other_size_is_a_structure_error(size):
    with pytest.raises(RemoteProtocolError) as caught:
        parse_report(bytes(size))
    assert caught.value.code == 1
    assert caught.value.field == "Msg_Content"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"stat": "DELIVERED"}, "Stat"),
        ({"submit_time": "25010112000"}, "Submit_time"),
        ({"dest_terminal_id": "1" * 22}, "Dest_terminal_Id"),
        ({"smsc_sequence": 2**32}, "SMSC_sequence"),
        ({"msg_id": -1}, "Msg_Id"),
    ],
)
def test_values_that_do_not_fit_are_local_errors(changes, field):
    report = dataclasses.replace(REPORT, **changes)
    with pytest.raises(LocalProtocolError, match=field):
        build_report(report, Version.V20)


def test_dest_terminal_id_of_32_fits_only_30():
    report = dataclasses.replace(REPORT, dest_terminal_id="8" * 32)
    assert parse_report(build_report(report, Version.V30)) == report
    with pytest.raises(LocalProtocolError):
        build_report(report, Version.V20)


def test_deliver_report_is_parsed_only_for_a_status_report():
    content = build_report(REPORT, Version.V30)
    assert Deliver(registered_delivery=0, msg_content=content).report is None
    assert Deliver(registered_delivery=1, msg_content=content).report == REPORT
    deliver = decode(encode(Deliver(registered_delivery=1, msg_content=CONTENT_60), Version.V30), Version.V30)
    assert isinstance(deliver, Deliver)
    assert deliver.report == REPORT


def test_a_bad_report_names_the_deliver_it_came_in():
    deliver = Deliver(sequence_id=31, registered_delivery=1, msg_content=b"DELIVRD")
    with pytest.raises(RemoteProtocolError) as caught:
        _ = deliver.report
    assert (caught.value.code, caught.value.command_id, caught.value.sequence) == (1, CommandId.DELIVER, 31)
