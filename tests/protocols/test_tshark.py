"""tshark as an independent decoder of the bytes our CMPP and SMPP codecs build.

The codec tests check our encoder against our decoder, against vectors typed in from the specs and, for SMPP,
against other Python libraries. Here the bytes go through Wireshark's dissectors (packet-cmpp.c, packet-smpp.c),
written by other people from the specs and, for CMPP, the only decoder outside this project we have. Each PDU is
encoded with our codec and put in its own TCP segment of a hand-built pcap (``pcap_writer``); one
``tshark -T json -x`` run per protocol dissects them, and every field tshark shows must equal the value we built
the PDU from. ``-x`` adds each field's bytes and offset, which gives two more checks per PDU: tshark attributes
every byte of the PDU to some field (or we name the few it skips), and fields whose display is a constant
("MD5 Hash", "SMS Messages") are compared by their bytes.

What tshark cannot vouch for, and is therefore not asserted (cmpp.md §10 row 11, §5):

* ``cmpp.Msg_Id.ismg_code``: the dissector shifts the gateway code by 16 instead of 8. The whole 64-bit
  ``cmpp.Msg_Id`` is asserted instead, and its month/day/hour/minute/second and sequence sub-fields are right.
* ``cmpp.submit.Src_Id``: the dissector reads 17 of its 21 bytes. Our Src_Id is shorter than 17 characters, so
  what it shows is the whole value; the 4 bytes it skips are checked to be the NUL padding.
* CMPP 2.0 bodies: packet-cmpp.c knows only the 3.0 layout. CONNECT, ACTIVE_TEST(_RESP) and TERMINATE(_RESP)
  are the same in 2.0, so they are checked in full. Of the other 2.0 PDUs only the 12-byte header is checked
  (Total_Length against the 2.0 length formula, Command_Id, Sequence_Id): the dissector reads their bodies at
  3.0 offsets, so its field values, and the malformed-packet errors it raises on them, say nothing about us.

If tshark is missing the tests fail, saying to install it: CI installs it, so a skip would hide a broken
install. ``SMSCLAB_SKIP_TSHARK=1`` skips them on purpose.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeAlias, cast

import pytest
from pcap_writer import PcapBuilder, TcpConnection

from protocols import cmpp, smpp
from protocols.smpp import DestAddress, Tlv, UnsuccessSme

pytestmark = pytest.mark.tshark

# -- reading tshark's JSON -------------------------------------------------------------------------------


class JsonObject(list[tuple[str, "Json"]]):
    """A JSON object kept as its (key, value) pairs in document order.

    tshark writes a repeated field (two Dest_terminal_Id, four opt_param) as repeated keys of one object,
    which a dict would collapse to the last one.
    """


Json: TypeAlias = str | int | float | bool | list["Json"] | JsonObject | None

# Expert-info severity PI_WARN (epan/proto.h; PI_ERROR is 0x00800000); tshark's JSON gives it in decimal.
PI_WARN = 0x00600000

# Offset of the TCP payload in each packet: LINKTYPE_RAW, 20-byte IPv4 header, 20-byte TCP header.
PAYLOAD_OFFSET = 40


def first(obj: JsonObject, key: str) -> Json:
    """The value of the first ``key`` in ``obj``; KeyError if there is none."""
    for name, value in obj:
        if name == key:
            return value
    raise KeyError(key)


def values_of(obj: JsonObject, key: str) -> list[Json]:
    return [value for name, value in obj if name == key]


# Wireshark's ftenum value for FT_BOOLEAN, the last element of a "<field>_raw" entry.
FT_BOOLEAN = 2


@dataclass(frozen=True)
class Shown:
    """One item tshark put in the protocol tree: field name, displayed value, and the bytes it covers.

    ``show`` is None for items that only group children (smpp.opt_params, cmpp.deliver.Report). ``start`` is
    the offset from the start of the PDU (None for the few items without a raw entry). ``bitmask`` is 0 for a
    field of whole bytes, else the bits of its ``length`` bytes it shows (esm_class's sub-fields); ``data`` is
    the field's bytes, None for a bit field, whose raw entry holds its value instead.
    """

    name: str
    show: str | None
    start: int | None = None
    length: int = 0
    bitmask: int = 0
    ftype: int = 0
    data: bytes | None = None


def shown_fields(obj: JsonObject, pdu_offset: int) -> Iterator[Shown]:
    """Every item of a protocol layer, depth first in tree order, with what its ``<name>_raw`` entry says.

    Expert-info items (``_ws.*``) are left out: :func:`expert_severities` checks them for the whole packet.
    """
    raw: tuple[str, Json] | None = None
    for key, value in obj:
        if key.startswith("_ws."):
            continue
        if key.endswith("_raw"):
            # -x puts "<field>_raw": [hex, offset, length, bitmask, ftype] right before "<field>".
            raw = (key.removesuffix("_raw"), value)
            continue
        show = None if isinstance(value, JsonObject) else str(value)
        item = Shown(key, show)
        if raw is not None and raw[0] == key and isinstance(raw[1], list):
            hex_value, offset, length, bitmask, ftype = raw[1]
            assert isinstance(hex_value, str) and isinstance(offset, int) and isinstance(length, int)
            assert isinstance(bitmask, int) and isinstance(ftype, int)
            data = None if bitmask else bytes.fromhex(hex_value)
            assert data is None or len(data) == length
            item = Shown(key, show, offset - pdu_offset, length, bitmask, ftype, data)
        raw = None
        if isinstance(value, JsonObject):
            # "<field>_tree" holds the sub-fields of the field just before it (Msg_Id's timestamp...); any
            # other object is a grouping item whose children follow it.
            if not key.endswith("_tree"):
                yield item
            yield from shown_fields(value, pdu_offset)
        else:
            yield item


def expert_severities(value: Json) -> Iterator[tuple[str, int]]:
    """(message, severity) of every expert-info item anywhere in a packet; a malformed packet is one of them."""
    if isinstance(value, JsonObject):
        for key, child in value:
            if key == "_ws.expert" and isinstance(child, JsonObject):
                message, severity = first(child, "_ws.expert.message"), first(child, "_ws.expert.severity")
                assert isinstance(severity, str)
                yield str(message), int(severity)
            yield from expert_severities(child)
    elif isinstance(value, list):
        # A JSON array (JsonObject, also a list, was handled above).
        for element in cast(list[Json], value):
            yield from expert_severities(element)


def shown_bits(fields: Sequence[Shown], pdu: bytes) -> list[int]:
    """For each byte of the PDU, the bits that some field of tshark's tree shows (0xFF for whole-byte fields)."""
    masks = [0] * len(pdu)
    for item in fields:
        if item.start is None:
            continue
        # A field outside the PDU would mean tshark read past our Total_Length / command_length.
        assert item.start >= 0 and item.start + item.length <= len(pdu), f"{item.name} lies outside the PDU"
        for index in range(item.length):
            shift = 8 * (item.length - 1 - index)
            masks[item.start + index] |= (item.bitmask >> shift) & 0xFF if item.bitmask else 0xFF
    return masks


def uncovered_runs(masks: Sequence[int], pdu: bytes) -> list[bytes]:
    """The runs of PDU bytes that no field of tshark's tree covers at all, in order."""
    runs: list[bytes] = []
    run = bytearray()
    for byte, mask in zip(pdu, masks, strict=True):
        if mask:
            if run:
                runs.append(bytes(run))
            run = bytearray()
        else:
            run.append(byte)
    if run:
        runs.append(bytes(run))
    return runs


def unshown_bits_set(masks: Sequence[int], pdu: bytes) -> dict[int, int]:
    """Offset -> bits set in a partly shown byte outside every bit field tshark shows in it.

    packet-smpp.c shows only the defined bits of registered_delivery (0-4) and replace_if_present_flag (0);
    the others are reserved and must be 0 (SMPP v3.4 §5.2.17, §5.2.18), so a set one is an error of ours.
    """
    return {
        offset: byte & ~mask & 0xFF
        for offset, (byte, mask) in enumerate(zip(pdu, masks, strict=True))
        if 0 < mask < 0xFF and byte & ~mask & 0xFF
    }


# -- running tshark --------------------------------------------------------------------------------------

TSHARK_MISSING = (
    "tshark is not installed, and these tests use it as the independent decoder of our CMPP/SMPP bytes. "
    "Install it (`make system-deps`, i.e. `apt-get install tshark`; CI does). "
    "Set SMSCLAB_SKIP_TSHARK=1 to skip them on purpose."
)


def tshark_binary() -> str:
    """tshark's path; skips on SMSCLAB_SKIP_TSHARK=1 and fails (never skips) when it is not installed."""
    if os.environ.get("SMSCLAB_SKIP_TSHARK") == "1":
        pytest.skip("SMSCLAB_SKIP_TSHARK=1: the tshark cross-check is skipped on request")
    path = shutil.which("tshark")
    if path is None:
        pytest.fail(TSHARK_MISSING, pytrace=False)
    return path


def run_tshark(pcap: Path, config_dir: Path) -> dict[int, JsonObject]:
    """Dissect ``pcap`` once; returns each frame's layers by frame number."""
    config_dir.mkdir(exist_ok=True)
    command = [
        tshark_binary(),
        "-r",
        str(pcap),
        "-n",  # no name resolution: nothing to look up, and it is slow
        "-d",
        "tcp.port==7890,cmpp",
        "-d",
        "tcp.port==2775,smpp",
        # The default, stated so that a preference file cannot turn off the reassembly that hands each whole
        # PDU to the dissector.
        "-o",
        "tcp.desegment_tcp_streams:TRUE",
        "-T",
        "json",
        "-x",  # every field's bytes, offset and length as "<field>_raw"
    ]
    # An empty personal configuration directory: a developer's disabled protocols, "decode as" entries or
    # preferences must not change what is dissected.
    env = {**os.environ, "WIRESHARK_CONFIG_DIR": str(config_dir)}
    done = subprocess.run(command, capture_output=True, env=env, timeout=120, check=False)
    assert done.returncode == 0, f"tshark failed ({done.returncode}): {done.stderr.decode(errors='replace')}"
    packets = json.loads(done.stdout, object_pairs_hook=JsonObject)
    frames: dict[int, JsonObject] = {}
    for packet in packets:
        source = first(packet, "_source")
        assert isinstance(source, JsonObject)
        layers = first(source, "layers")
        assert isinstance(layers, JsonObject)
        frame = first(layers, "frame")
        assert isinstance(frame, JsonObject)
        frames[int(str(first(frame, "frame.number")))] = layers
    return frames


# -- the PDUs and what tshark must show for each ---------------------------------------------------------

Expected: TypeAlias = tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Case:
    """One PDU on the wire and tshark's expected view of it.

    ``expected`` lists, in tree order, every item tshark shows with its displayed value ("" for grouping
    items; the fields of :data:`NOT_ASSERTED` left out). ``by_bytes`` gives the bytes of fields whose display
    is a constant or ignores some of their bytes. ``uncovered`` lists the runs of PDU bytes that tshark
    attributes to no field. ``header_only`` marks a CMPP 2.0 body, misread by the 3.0-only dissector: only the
    header fields (the first three of ``expected``) are compared.
    """

    name: str
    connection: str
    from_client: bool
    wire: bytes
    expected: Expected
    by_bytes: tuple[tuple[str, bytes], ...] = ()
    uncovered: tuple[bytes, ...] = ()
    header_only: bool = False


# Fields tshark displays wrongly (module docstring), so they say nothing about our bytes.
NOT_ASSERTED = frozenset({"cmpp.Msg_Id.ismg_code"})

V30, V20 = cmpp.Version.V30, cmpp.Version.V20
SP_ID = "901234"
SECRET = "lab-secret"
SERVICE_CODE = "1069012345678"  # a 1069 long number: 13 characters, under the 17 tshark reads of Src_Id
HANDSET_1, HANDSET_2 = "8613800138000", "13900139000"
CONNECT_TIMESTAMP = cmpp.timestamp_from(12, 31, 23, 59, 59)
CONNECT_TIMESTAMP_SHOWN = "12/31 23:59:59"  # packet-cmpp.c prints the decimal MMDDHHMMSS as MM/DD HH:MM:SS

# Msg_Ids whose every part is near the top of its range, so a shift or mask error moves visible bits.
# The integers were worked out by hand from cmpp.md §5 (month<<60 | day<<55 | hour<<50 | min<<44 | sec<<38 |
# gateway<<16 | sequence); tshark's timestamp and sequence sub-fields check them independently.
SUBMIT_MSG_ID = cmpp.MsgId(month=12, day=31, hour=23, minute=59, second=58, gateway=0x2ABCDE, sequence=0xFFFE)
SUBMIT_MSG_ID_VALUE = 0xCFDFBEAABCDEFFFE
DELIVER_MSG_ID = cmpp.MsgId(month=6, day=15, hour=8, minute=30, second=1, gateway=0x3FFFFF, sequence=1)
DELIVER_MSG_ID_VALUE = 0x67A1E07FFFFF0001
# The SP leaves Msg_Id empty in SUBMIT ("本处填空"), and a rejected SUBMIT_RESP carries none: all zero bits.
NO_MSG_ID = cmpp.MsgId(month=0, day=0, hour=0, minute=0, second=0, gateway=0, sequence=0)


def cmpp_header(pdu: cmpp.CmppPdu, total_length: int) -> Expected:
    """The 12-byte header (CMPP 3.0 §8.3). ``total_length`` comes from the spec's layout, not from our frame."""
    return (
        ("cmpp.Total_Length", str(total_length)),
        ("cmpp.Command_Id", f"0x{pdu.command_id:08x}"),
        ("cmpp.Sequence_Id", str(pdu.sequence_id)),
    )


def cmpp_msg_id(parts: cmpp.MsgId, value: int) -> Expected:
    """A Msg_Id and the sub-fields tshark decodes correctly (cmpp.md §5)."""
    return (
        ("cmpp.Msg_Id", f"0x{value:016x}"),
        (
            "cmpp.Msg_Id.timestamp",
            f"{parts.month:02d}/{parts.day:02d} {parts.hour:02d}:{parts.minute:02d}:{parts.second:02d}",
        ),
        ("cmpp.Msg_Id.sequence_id", str(parts.sequence)),
    )


def cmpp_version(version: int) -> str:
    """How packet-cmpp.c shows the Version byte: major and minor nibble, "03.00"."""
    return f"{version >> 4:02d}.{version & 0x0F:02d}"


def cmpp_cases() -> list[Case]:
    """A CMPP 3.0 session (CONNECT to TERMINATE) in full, and the CMPP 2.0 PDUs as far as tshark can read them."""
    cases: list[Case] = []

    def add(
        name: str,
        connection: str,
        from_client: bool,
        pdu: cmpp.CmppPdu,
        expected: Expected,
        *,
        by_bytes: tuple[tuple[str, bytes], ...] = (),
        uncovered: tuple[bytes, ...] = (),
        header_only: bool = False,
    ) -> None:
        wire = cmpp.encode(pdu, V30 if connection == "v30" else V20)
        cases.append(Case(name, connection, from_client, wire, expected, by_bytes, uncovered, header_only))

    # CONNECT is the same 39 bytes in 2.0 and 3.0 (cmpp.md §2.1), so it is checked in full in both.
    for connection, version in (("v30", V30), ("v20", V20)):
        auth_source = cmpp.authenticator_source(SP_ID, SECRET, CONNECT_TIMESTAMP)
        connect = cmpp.Connect(
            sequence_id=1,
            source_addr=SP_ID,
            authenticator_source=auth_source,
            version=version,
            timestamp=CONNECT_TIMESTAMP,
        )
        add(
            f"{connection}-connect",
            connection,
            True,
            connect,
            (
                *cmpp_header(connect, 39),
                ("cmpp.connect.Source_Addr", SP_ID),
                ("cmpp.connect.AuthenticatorSource", "MD5 Hash"),
                ("cmpp.Version", cmpp_version(version)),
                ("cmpp.connect.Timestamp", CONNECT_TIMESTAMP_SHOWN),
            ),
            by_bytes=(("cmpp.connect.AuthenticatorSource", auth_source),),
        )

    # ---- CMPP 3.0: every body field.
    auth_source = cmpp.authenticator_source(SP_ID, SECRET, CONNECT_TIMESTAMP)
    auth_ismg = cmpp.authenticator_ismg(0, auth_source, SECRET, V30)
    connect_resp = cmpp.ConnectResp(sequence_id=1, status=0, authenticator_ismg=auth_ismg, version=V30)
    add(
        "v30-connect-resp",
        "v30",
        False,
        connect_resp,
        (
            *cmpp_header(connect_resp, 33),
            ("cmpp.connect_resp.Status", "0"),
            ("cmpp.connect_resp.AuthenticatorISMG", "MD5 Hash"),
            ("cmpp.Version", "03.00"),
        ),
        by_bytes=(("cmpp.connect_resp.AuthenticatorISMG", auth_ismg),),
    )

    # Part 2 of 3 of a long UCS2 message to two handsets, with a concatenation UDH (tp_udhi 1) and a LinkID
    # that fills its 20 bytes (no NUL). Values differ from their neighbours so a swap would show.
    content = bytes.fromhex("0500035A0302") + "短信网关模拟器".encode("utf-16-be")
    submit = cmpp.Submit(
        sequence_id=2,
        pk_total=3,
        pk_number=2,
        registered_delivery=1,
        msg_level=5,
        service_id="MLAB0001",
        fee_user_type=3,
        fee_terminal_id=HANDSET_2,
        fee_terminal_type=1,
        tp_pid=0,
        tp_udhi=1,
        msg_fmt=cmpp.MsgFmt.UCS2,
        msg_src=SP_ID,
        fee_type="02",
        fee_code="000010",
        valid_time="250101120000032+",
        at_time="241231235959004+",
        src_id=SERVICE_CODE,
        dest_terminal_id=(HANDSET_1, HANDSET_2),
        dest_terminal_type=0,
        msg_content=content,
        link_id="LINKID0123456789ABCD",
    )
    add(
        "v30-submit",
        "v30",
        True,
        submit,
        (
            # 3.0: 163 + 32 per recipient + Msg_Length (cmpp.md §2.4).
            *cmpp_header(submit, 163 + 32 * 2 + len(content)),
            *cmpp_msg_id(NO_MSG_ID, 0),
            ("cmpp.submit.Pk_total", "3"),
            ("cmpp.submit.Pk_number", "2"),
            ("cmpp.submit.Registered_Delivery", "1"),
            ("cmpp.submit.Msg_level", "5"),
            ("cmpp.Servicd_Id", "MLAB0001"),  # sic: the dissector's field name
            ("cmpp.submit.Fee_UserType", "3"),
            ("cmpp.submit.Fee_terminal_Id", HANDSET_2),
            ("cmpp.submit.Fee_terminal_type", "1"),
            ("cmpp.TP_pId", "0"),
            ("cmpp.TP_udhi", "1"),
            ("cmpp.Msg_Fmt", "8"),
            ("cmpp.submit.Msg_src", SP_ID),
            ("cmpp.submit.FeeType", "02"),
            ("cmpp.submit.FeeCode", "000010"),
            ("cmpp.submit.Valld_Time", "250101120000032+"),  # sic
            ("cmpp.submit.At_time", "241231235959004+"),
            ("cmpp.submit.Src_Id", SERVICE_CODE),  # right only because it is under 17 characters
            ("cmpp.submit.DestUsr_tl", "2"),
            ("cmpp.Dest_terminal_Id", HANDSET_1),
            ("cmpp.Dest_terminal_Id", HANDSET_2),
            ("cmpp.submit.Dest_terminal_type", "0"),
            ("cmpp.Msg_Length", str(len(content))),
            ("cmpp.Msg_Content", "SMS Messages"),
            ("cmpp.LinkID", "LINKID0123456789ABCD"),
        ),
        by_bytes=(("cmpp.Msg_Content", content),),
        # The last 4 of Src_Id's 21 bytes, which the dissector skips: our NUL padding.
        uncovered=(bytes(4),),
    )

    submit_resp = cmpp.SubmitResp(sequence_id=2, msg_id=SUBMIT_MSG_ID.compose(), result=0)
    add(
        "v30-submit-resp",
        "v30",
        False,
        submit_resp,
        (
            *cmpp_header(submit_resp, 24),
            *cmpp_msg_id(SUBMIT_MSG_ID, SUBMIT_MSG_ID_VALUE),
            ("cmpp.submit_resp.Result", "0"),
        ),
    )
    throttled = cmpp.SubmitResp(sequence_id=3, msg_id=0, result=cmpp.SubmitResult.FLOW_CONTROL)
    add(
        "v30-submit-resp-throttled",
        "v30",
        False,
        throttled,
        (
            *cmpp_header(throttled, 24),
            *cmpp_msg_id(NO_MSG_ID, 0),
            ("cmpp.submit_resp.Result", "8"),
        ),
    )

    mo_content = "你好，世界".encode("gbk")
    mo = cmpp.Deliver(
        sequence_id=10,
        msg_id=DELIVER_MSG_ID.compose(),
        dest_id=SERVICE_CODE,
        service_id="MLAB0001",
        tp_pid=0,
        tp_udhi=0,
        msg_fmt=cmpp.MsgFmt.GB,
        src_terminal_id=HANDSET_1,
        src_terminal_type=1,
        registered_delivery=0,
        msg_content=mo_content,
        link_id="MO-LINK-7",
    )
    add(
        "v30-deliver-mo",
        "v30",
        False,
        mo,
        (
            *cmpp_header(mo, 109 + len(mo_content)),  # 3.0 DELIVER: 109 + Msg_Length (cmpp.md §2.6)
            *cmpp_msg_id(DELIVER_MSG_ID, DELIVER_MSG_ID_VALUE),
            ("cmpp.deliver.Dest_Id", SERVICE_CODE),
            ("cmpp.Servicd_Id", "MLAB0001"),
            ("cmpp.TP_pId", "0"),
            ("cmpp.TP_udhi", "0"),
            ("cmpp.Msg_Fmt", "15"),
            ("cmpp.deliver.Src_terminal_Id", HANDSET_1),
            ("cmpp.deliver.Src_terminal_type", "1"),
            ("cmpp.deliver.Registered_Delivery", "0"),
            ("cmpp.Msg_Length", str(len(mo_content))),
            ("cmpp.Msg_Content", "SMS Messages"),
            ("cmpp.LinkID", "MO-LINK-7"),
        ),
        by_bytes=(("cmpp.Msg_Content", mo_content),),
    )

    report = cmpp.Report(
        msg_id=SUBMIT_MSG_ID.compose(),
        stat=cmpp.Stat.DELIVRD,
        submit_time="2412312359",
        done_time="2501010002",
        dest_terminal_id=HANDSET_1,
        smsc_sequence=0x01020304,
    )
    report_content = cmpp.build_report(report, V30)
    report_deliver = cmpp.Deliver(
        sequence_id=11,
        msg_id=DELIVER_MSG_ID.compose(),
        dest_id=SERVICE_CODE,
        service_id="MLAB0001",
        src_terminal_id=HANDSET_1,
        registered_delivery=1,
        msg_content=report_content,
    )
    add(
        "v30-deliver-report",
        "v30",
        False,
        report_deliver,
        (
            *cmpp_header(report_deliver, 109 + 71),  # the 3.0 report is 71 bytes (cmpp.md §2.7)
            *cmpp_msg_id(DELIVER_MSG_ID, DELIVER_MSG_ID_VALUE),
            ("cmpp.deliver.Dest_Id", SERVICE_CODE),
            ("cmpp.Servicd_Id", "MLAB0001"),
            ("cmpp.TP_pId", "0"),
            ("cmpp.TP_udhi", "0"),
            ("cmpp.Msg_Fmt", "0"),
            ("cmpp.deliver.Src_terminal_Id", HANDSET_1),
            ("cmpp.deliver.Src_terminal_type", "0"),
            ("cmpp.deliver.Registered_Delivery", "1"),
            ("cmpp.Msg_Length", "71"),
            # The report, which the dissector lays out itself (CMPP_DELIVER_REPORT_LEN 71).
            ("cmpp.deliver.Report", ""),
            *cmpp_msg_id(SUBMIT_MSG_ID, SUBMIT_MSG_ID_VALUE),
            ("cmpp.deliver.Report.Status", "DELIVRD"),
            ("cmpp.deliver.Report.Submit_time", "2412312359"),
            ("cmpp.deliver.Report.Done_time", "2501010002"),
            ("cmpp.Dest_terminal_Id", HANDSET_1),
            ("cmpp.Report.SMSC_sequence", str(0x01020304)),
            ("cmpp.LinkID", ""),
        ),
    )

    deliver_resp = cmpp.DeliverResp(sequence_id=11, msg_id=DELIVER_MSG_ID.compose(), result=0)
    add(
        "v30-deliver-resp",
        "v30",
        True,
        deliver_resp,
        (
            *cmpp_header(deliver_resp, 24),
            *cmpp_msg_id(DELIVER_MSG_ID, DELIVER_MSG_ID_VALUE),
            ("cmpp.deliver_resp.Result", "0"),
        ),
    )

    # Header-only PDUs, and ACTIVE_TEST_RESP whose one Reserved byte the dissector does not show.
    for connection in ("v30", "v20"):
        active_test = cmpp.ActiveTest(sequence_id=20)
        add(f"{connection}-active-test", connection, True, active_test, cmpp_header(active_test, 12))
        active_resp = active_test.response()
        add(
            f"{connection}-active-test-resp",
            connection,
            False,
            active_resp,
            cmpp_header(active_resp, 13),
            uncovered=(b"\0",),
        )
        terminate = cmpp.Terminate(sequence_id=21)
        add(f"{connection}-terminate", connection, True, terminate, cmpp_header(terminate, 12))
        terminate_resp = terminate.response()
        add(f"{connection}-terminate-resp", connection, False, terminate_resp, cmpp_header(terminate_resp, 12))

    # ---- CMPP 2.0 bodies the 3.0 dissector misreads: the header only, Total_Length from the 2.0 formulas.
    submit20 = cmpp.Submit(
        sequence_id=2,
        registered_delivery=1,
        service_id="MLAB0001",
        msg_fmt=cmpp.MsgFmt.UCS2,
        msg_src=SP_ID,
        fee_type="02",
        fee_code="000010",
        src_id=SERVICE_CODE,
        dest_terminal_id=(HANDSET_1, HANDSET_2),
        msg_content="短信".encode("utf-16-be"),
    )
    deliver20 = cmpp.Deliver(
        sequence_id=10,
        msg_id=DELIVER_MSG_ID.compose(),
        dest_id=SERVICE_CODE,
        src_terminal_id=HANDSET_1,
        registered_delivery=1,
        msg_content=cmpp.build_report(report, V20),
    )
    for name, from_client, pdu, length in (
        ("v20-connect-resp", False, cmpp.ConnectResp(sequence_id=1, status=0, version=V20), 30),
        ("v20-submit", True, submit20, 138 + 21 * 2 + 4),  # 138 + 21 per recipient + Msg_Length
        ("v20-submit-resp", False, cmpp.SubmitResp(sequence_id=2, msg_id=SUBMIT_MSG_ID.compose()), 21),
        ("v20-deliver-report", False, deliver20, 85 + 60),  # 85 + Msg_Length; the 2.0 report is 60 bytes
        ("v20-deliver-resp", True, deliver20.response(), 21),
    ):
        add(name, "v20", from_client, pdu, cmpp_header(pdu, length), header_only=True)
    return cases


def hex_bytes(data: bytes) -> str:
    """How tshark shows an FT_BYTES field: colon-separated lower-case hex."""
    return ":".join(f"{byte:02x}" for byte in data)


def smpp_header(pdu: smpp.SmppPdu, wire: bytes) -> Expected:
    """The 16-octet header (SMPP v3.4 §3.2). packet-smpp.c shows command_status only in responses."""
    shown = [("smpp.command_length", str(len(wire))), ("smpp.command_id", f"0x{pdu.command_id:08x}")]
    if pdu.command_id & 0x80000000:
        shown.append(("smpp.command_status", f"0x{pdu.command_status:08x}"))
    shown.append(("smpp.sequence_number", str(pdu.sequence_number)))
    return tuple(shown)


def esm_class(value: int) -> Expected:
    """esm_class as its three sub-fields (SMPP v3.4 §5.2.12): mode bits 1-0, type bits 5-2, features 7-6."""
    return (
        ("smpp.esm.submit.msg_mode", f"0x{value & 0x03:02x}"),
        ("smpp.esm.submit.msg_type", f"0x{(value >> 2) & 0x0F:02x}"),
        ("smpp.esm.submit.features", f"0x{value >> 6:02x}"),
    )


def registered_delivery(value: int) -> Expected:
    """registered_delivery as its sub-fields (SMPP v3.4 §5.2.17): receipt bits 1-0, SME acks 3-2, notif 4."""
    return (
        ("smpp.regdel.receipt", f"0x{value & 0x03:02x}"),
        ("smpp.regdel.acks", f"0x{(value >> 2) & 0x03:02x}"),
        ("smpp.regdel.notif", f"0x{(value >> 4) & 0x01:02x}"),
    )


def address(prefix: str, ton: int, npi: int, addr: str, addr_field: str) -> Expected:
    """TON, NPI and address: ``prefix`` names the first two (``source_addr``), ``addr_field`` the third."""
    return (
        (f"smpp.{prefix}_ton", f"0x{ton:02x}"),
        (f"smpp.{prefix}_npi", f"0x{npi:02x}"),
        (f"smpp.{addr_field}", addr),
    )


def tlv(tag: int, value_length: int, name: str, shown: str) -> Expected:
    """One optional parameter as tshark shows it: tag, length, then the value under its own field name."""
    return (("smpp.opt_param_tag", f"0x{tag:04x}"), ("smpp.opt_param_len", str(value_length)), (name, shown))


def smpp_cases() -> list[Case]:
    """An SMPP 3.4 transceiver session, bind to unbind, with the TLVs and PDUs a gateway exchanges."""
    cases: list[Case] = []

    def add(
        name: str,
        from_client: bool,
        pdu: smpp.SmppPdu,
        body: Expected,
        *,
        by_bytes: tuple[tuple[str, bytes], ...] = (),
        uncovered: tuple[bytes, ...] = (),
    ) -> None:
        wire = smpp.encode(pdu)
        if not pdu.command_id & 0x80000000:
            # A request's command_status is not shown (smpp_header), so those 4 bytes are uncovered: NULL.
            uncovered = (bytes(4), *uncovered)
        cases.append(Case(name, "smpp", from_client, wire, smpp_header(pdu, wire) + body, by_bytes, uncovered))

    bind = smpp.BindTransceiver(
        sequence_number=1,
        system_id="smsclab",
        password="s3cret",
        system_type="SIM",
        interface_version=smpp.InterfaceVersion.SMPP_3_4,
        addr_ton=1,
        addr_npi=1,
        address_range="^86138",
    )
    add(
        "bind-transceiver",
        True,
        bind,
        (
            ("smpp.system_id", "smsclab"),
            ("smpp.password", "s3cret"),
            ("smpp.system_type", "SIM"),
            ("smpp.interface_version", str(0x34)),
            *address("addr", 1, 1, "^86138", "address_range"),
        ),
    )
    bind_resp = bind.response(system_id="SMSCLAB", tlvs=(Tlv.of("sc_interface_version", 0x34),))
    add(
        "bind-transceiver-resp",
        False,
        bind_resp,
        (
            ("smpp.system_id", "SMSCLAB"),
            ("smpp.opt_params", ""),
            ("smpp.opt_param", ""),
            *tlv(0x0210, 1, "smpp.SC_interface_version", str(0x34)),
        ),
    )

    # UCS2, segment 1 of 2 by SAR TLVs (no UDH), store-and-forward mode, receipt plus intermediate notification.
    text = "你好，短信".encode("utf-16-be")
    submit = smpp.SubmitSm(
        sequence_number=2,
        service_type="CMT",
        source_addr_ton=5,
        source_addr_npi=0,
        source_addr="SMSCLAB",
        dest_addr_ton=1,
        dest_addr_npi=1,
        destination_addr=HANDSET_1,
        esm_class=0x03,
        protocol_id=0,
        priority_flag=1,
        validity_period="000001000000000R",
        registered_delivery=0x11,
        replace_if_present_flag=0,
        data_coding=smpp.DataCoding.UCS2,
        short_message=text,
        tlvs=(
            Tlv.of("user_message_reference", 0x1234),
            Tlv.of("sar_msg_ref_num", 0xABCD),
            Tlv.of("sar_total_segments", 2),
            Tlv.of("sar_segment_seqnum", 1),
        ),
    )
    add(
        "submit-sm",
        True,
        submit,
        (
            ("smpp.service_type", "CMT"),
            *address("source_addr", 5, 0, "SMSCLAB", "source_addr"),
            *address("dest_addr", 1, 1, HANDSET_1, "destination_addr"),
            *esm_class(0x03),
            ("smpp.protocol_id", "0x00"),
            ("smpp.priority_flag", "0x01"),
            ("smpp.schedule_delivery_time_r", "0.000000000"),  # empty: "immediate"
            # Relative 1 day. packet-smpp.c counts only DDhhmmss of a relative time, so the whole field is also
            # compared by its bytes (by_bytes): YY, MM, t and nn would otherwise go unchecked.
            ("smpp.validity_period_r", "86400.000000000"),
            *registered_delivery(0x11),
            ("smpp.replace_if_present_flag", "0x00"),
            ("smpp.data_coding", "0x08"),
            ("smpp.sm_default_msg_id", "0"),
            ("smpp.sm_length", str(len(text))),
            ("smpp.message", hex_bytes(text)),
            ("smpp.opt_params", ""),
            ("smpp.opt_param", ""),
            *tlv(0x0204, 2, "smpp.user_message_reference", "0x1234"),
            ("smpp.opt_param", ""),
            *tlv(0x020C, 2, "smpp.sar_msg_ref_num", str(0xABCD)),
            ("smpp.opt_param", ""),
            *tlv(0x020E, 1, "smpp.sar_total_segments", "2"),
            ("smpp.opt_param", ""),
            *tlv(0x020F, 1, "smpp.sar_segment_seqnum", "1"),
            # Decoded by tshark from data_coding 8: our UCS2 is what it reads.
            ("smpp.message_text", "你好，短信"),
        ),
        by_bytes=(("smpp.validity_period_r", b"000001000000000R\0"),),
    )
    add("submit-sm-resp", False, submit.response(message_id="5a0e3c7d"), (("smpp.message_id", "5a0e3c7d"),))
    # An error response carries no body (SMPP v3.4 §4.4.2): 16 octets.
    add("submit-sm-resp-throttled", False, submit.response(command_status=smpp.CommandStatus.ESME_RTHROTTLED), ())

    receipt = smpp.build_receipt(
        smpp.Receipt(
            id="5a0e3c7d",
            sub=1,
            dlvrd=1,
            submit_date="2412312359",
            done_date="2501010002",
            stat="DELIVRD",
            err="000",
            text="你好",
        )
    )
    deliver = smpp.DeliverSm(
        sequence_number=3,
        source_addr_ton=1,
        source_addr_npi=1,
        source_addr=HANDSET_1,
        dest_addr_ton=5,
        dest_addr_npi=0,
        destination_addr="SMSCLAB",
        esm_class=0x04,  # SMSC delivery receipt
        short_message=receipt,
        tlvs=(
            Tlv.of("receipted_message_id", "5a0e3c7d"),
            Tlv.of("message_state", smpp.MessageState.DELIVERED),
            Tlv.of("network_error_code", bytes([3, 0x00, 0x22])),  # GSM, error 0x0022
        ),
    )
    add(
        "deliver-sm-receipt",
        False,
        deliver,
        (
            ("smpp.service_type", "(Default)"),  # how tshark shows the empty service_type
            *address("source_addr", 1, 1, HANDSET_1, "source_addr"),
            *address("dest_addr", 5, 0, "SMSCLAB", "destination_addr"),
            *esm_class(0x04),
            ("smpp.protocol_id", "0x00"),
            ("smpp.priority_flag", "0x00"),
            ("smpp.schedule_delivery_time_r", "0.000000000"),
            ("smpp.validity_period_r", "0.000000000"),
            *registered_delivery(0),
            ("smpp.replace_if_present_flag", "0x00"),
            ("smpp.data_coding", "0x00"),
            ("smpp.sm_default_msg_id", "0"),
            ("smpp.sm_length", str(len(receipt))),
            ("smpp.message", hex_bytes(receipt)),
            ("smpp.opt_params", ""),
            ("smpp.opt_param", ""),
            *tlv(0x001E, len("5a0e3c7d") + 1, "smpp.receipted_message_id", "5a0e3c7d"),
            ("smpp.opt_param", ""),
            *tlv(0x0427, 1, "smpp.message_state", "2"),
            ("smpp.opt_param", ""),
            ("smpp.opt_param_tag", "0x0423"),
            ("smpp.opt_param_len", "3"),
            ("smpp.network_error.type", "3"),
            ("smpp.network_error.code", "0x0022"),
        ),
    )
    # deliver_sm_resp: message_id is unused and sent as a lone NUL (§4.6.2), which tshark does not show.
    add("deliver-sm-resp", True, deliver.response(), (), uncovered=(b"\0",))

    enquire = smpp.EnquireLink(sequence_number=4)
    add("enquire-link", True, enquire, ())
    add("enquire-link-resp", False, enquire.response(), ())
    add("generic-nack", False, smpp.generic_nack(9, smpp.CommandStatus.ESME_RINVCMDID), ())

    multi = smpp.SubmitMulti(
        sequence_number=5,
        source_addr_ton=5,
        source_addr="SMSCLAB",
        dest_address=(
            DestAddress(dest_addr_ton=1, dest_addr_npi=1, destination_addr=HANDSET_1),
            DestAddress(dest_flag=DestAddress.DISTRIBUTION_LIST, dl_name="friends"),
        ),
        # Absolute time 2025-01-01 08:30:00 at UTC+1 (04 quarter hours), so 07:30 UTC; relative 2 days.
        schedule_delivery_time="250101083000004+",
        validity_period="000002000000000R",
        registered_delivery=0x01,
        data_coding=smpp.DataCoding.IA5,
        short_message=b"hello all",
    )
    add(
        "submit-multi",
        True,
        multi,
        (
            ("smpp.service_type", "(Default)"),
            *address("source_addr", 5, 0, "SMSCLAB", "source_addr"),
            # The list's item covers number_of_dests; tshark shows no dest_flag field (uncovered below).
            ("smpp.dlist", ""),
            *address("dest_addr", 1, 1, HANDSET_1, "destination_addr"),
            ("smpp.dl_name", "friends"),
            *esm_class(0),
            ("smpp.protocol_id", "0x00"),
            ("smpp.priority_flag", "0x00"),
            ("smpp.schedule_delivery_time", "Jan  1, 2025 07:30:00.000000000 UTC"),
            ("smpp.validity_period_r", "172800.000000000"),
            *registered_delivery(0x01),
            ("smpp.replace_if_present_flag", "0x00"),
            ("smpp.data_coding", "0x01"),
            ("smpp.sm_default_msg_id", "0"),
            ("smpp.sm_length", "9"),
            ("smpp.message", hex_bytes(b"hello all")),
            ("smpp.message_text", "hello all"),  # decoded by tshark from data_coding 1 (IA5)
        ),
        by_bytes=(("smpp.validity_period_r", b"000002000000000R\0"),),
        uncovered=(b"\x01", b"\x02"),  # the two dest_flag octets: SME address, distribution list
    )
    multi_resp = multi.response(
        message_id="m-77",
        unsuccess_sme=(
            UnsuccessSme(
                dest_addr_ton=1,
                dest_addr_npi=1,
                destination_addr=HANDSET_2,
                error_status_code=smpp.CommandStatus.ESME_RINVDSTADR,
            ),
        ),
    )
    add(
        "submit-multi-resp",
        False,
        multi_resp,
        (
            ("smpp.message_id", "m-77"),
            ("smpp.dlist_resp", ""),  # covers no_unsuccess
            *address("dest_addr", 1, 1, HANDSET_2, "destination_addr"),
            ("smpp.error_status_code", f"0x{smpp.CommandStatus.ESME_RINVDSTADR:08x}"),
        ),
    )

    payload = b"data_sm payload"
    data = smpp.DataSm(
        sequence_number=6,
        service_type="WAP",
        source_addr_ton=5,
        source_addr="SMSCLAB",
        dest_addr_ton=1,
        dest_addr_npi=1,
        destination_addr=HANDSET_1,
        esm_class=0x02,  # forward (transaction) mode
        registered_delivery=0x01,
        data_coding=smpp.DataCoding.OCTET_UNSPECIFIED,
        tlvs=(
            Tlv.of("message_payload", payload),
            Tlv.of("qos_time_to_live", 3600),
            Tlv.of("more_messages_to_send", 1),
        ),
    )
    add(
        "data-sm",
        True,
        data,
        (
            ("smpp.service_type", "WAP"),
            *address("source_addr", 5, 0, "SMSCLAB", "source_addr"),
            *address("dest_addr", 1, 1, HANDSET_1, "destination_addr"),
            *esm_class(0x02),
            *registered_delivery(0x01),
            ("smpp.data_coding", "0x02"),
            ("smpp.opt_params", ""),
            ("smpp.opt_param", ""),
            *tlv(0x0424, len(payload), "smpp.message_payload", hex_bytes(payload)),
            ("smpp.opt_param", ""),
            *tlv(0x0017, 4, "smpp.qos_time_to_live", "3600"),
            ("smpp.opt_param", ""),
            *tlv(0x0426, 1, "smpp.more_messages_to_send", "1"),
        ),
    )
    add("data-sm-resp", False, data.response(message_id="d-1"), (("smpp.message_id", "d-1"),))

    query = smpp.QuerySm(sequence_number=7, message_id="5a0e3c7d", source_addr_ton=5, source_addr="SMSCLAB")
    add(
        "query-sm",
        True,
        query,
        (("smpp.message_id", "5a0e3c7d"), *address("source_addr", 5, 0, "SMSCLAB", "source_addr")),
    )
    query_resp = query.response(
        final_date="250101083000004+", message_state=smpp.MessageState.UNDELIVERABLE, error_code=0x22
    )
    add(
        "query-sm-resp",
        False,
        query_resp,
        (
            ("smpp.message_id", "5a0e3c7d"),
            ("smpp.final_date", "Jan  1, 2025 07:30:00.000000000 UTC"),
            ("smpp.message_state", "5"),
            ("smpp.error_code", str(0x22)),
        ),
    )

    unbind = smpp.Unbind(sequence_number=8)
    add("unbind", True, unbind, ())
    add("unbind-resp", False, unbind.response(), ())
    return cases


CMPP_CASES = cmpp_cases()
SMPP_CASES = smpp_cases()


# -- capture, dissection and the checks ------------------------------------------------------------------


@dataclass(frozen=True)
class Dissection:
    """One tshark run: each frame's layers, and the frame number each case's PDU went out in."""

    frames: dict[int, JsonObject]
    frame_of: dict[str, int]


# One TCP connection per CMPP wire layout, so that each stream is a plausible session; all on port 7890.
CONNECTIONS = {
    "v30": (("10.0.0.1", 40000), ("10.0.0.2", 7890)),
    "v20": (("10.0.0.1", 40001), ("10.0.0.2", 7890)),
    "smpp": (("10.0.0.1", 40002), ("10.0.0.2", 2775)),
}


def dissect(cases: Sequence[Case], directory: Path) -> Dissection:
    """Write every case's PDU, in order, to one pcap and dissect it with one tshark run."""
    pcap = PcapBuilder()
    connections: dict[str, TcpConnection] = {}
    frame_of: dict[str, int] = {}
    for case in cases:
        if case.connection not in connections:
            client, server = CONNECTIONS[case.connection]
            connections[case.connection] = pcap.connection(client=client, server=server)
        connection = connections[case.connection]
        send = connection.client_sends if case.from_client else connection.server_sends
        frame_of[case.name] = send(case.wire)
    path = directory / "capture.pcap"
    pcap.write(path)
    return Dissection(run_tshark(path, directory / "wireshark-config"), frame_of)


@pytest.fixture(scope="module")
def cmpp_dissection(tmp_path_factory: pytest.TempPathFactory) -> Dissection:
    return dissect(CMPP_CASES, tmp_path_factory.mktemp("cmpp"))


@pytest.fixture(scope="module")
def smpp_dissection(tmp_path_factory: pytest.TempPathFactory) -> Dissection:
    return dissect(SMPP_CASES, tmp_path_factory.mktemp("smpp"))


def check_case(case: Case, dissection: Dissection, protocol: str) -> None:
    """Assert that tshark's dissection of ``case``'s frame is what ``case`` expects (see :class:`Case`)."""
    layers = dissection.frames[dissection.frame_of[case.name]]
    # Exactly one PDU in the segment, and it is our frame: tshark framed it by our length field.
    assert len(values_of(layers, protocol)) == 1, f"expected one {protocol} PDU in the frame"
    raw = first(layers, f"{protocol}_raw")
    assert isinstance(raw, list)
    assert raw[1] == PAYLOAD_OFFSET
    assert bytes.fromhex(str(raw[0])) == case.wire

    layer = first(layers, protocol)
    assert isinstance(layer, JsonObject)
    fields = list(shown_fields(layer, PAYLOAD_OFFSET))
    # Grouping items (show None) are listed with "" so that the tree's shape is part of the comparison.
    shown = tuple((item.name, item.show or "") for item in fields if item.name not in NOT_ASSERTED)
    if case.header_only:
        assert shown[: len(case.expected)] == case.expected
        return
    assert shown == case.expected

    by_name: dict[str, list[Shown]] = {}
    for item in fields:
        by_name.setdefault(item.name, []).append(item)
    for name, data in case.by_bytes:
        assert [item.data for item in by_name[name]] == [data], f"bytes of {name}"
    for item in fields:
        if item.ftype == FT_BOOLEAN and not item.bitmask:
            # packet-cmpp.c shows any non-zero flag byte as 1; the spec's values are 0 and 1, so the byte must
            # be exactly the value shown.
            assert item.data == bytes([int(str(item.show))]), f"{item.name} byte {item.data!r}"
    masks = shown_bits(fields, case.wire)
    assert uncovered_runs(masks, case.wire) == list(case.uncovered)
    assert unshown_bits_set(masks, case.wire) == {}


def check_clean(dissection: Dissection, cases: Sequence[Case]) -> None:
    """No frame of the capture (handshake included) has a malformed PDU or an expert warning or error.

    Warnings count too: "Trailing stray characters" after a NUL in a fixed-width field, or a TCP sequence
    complaint, both mean the bytes are not what the spec lays out. Frames of header-only cases are skipped.
    """
    excused = {dissection.frame_of[case.name] for case in cases if case.header_only}
    problems = {
        number: [(message, hex(severity)) for message, severity in expert_severities(layers) if severity >= PI_WARN]
        for number, layers in dissection.frames.items()
        if number not in excused
    }
    assert {number: found for number, found in problems.items() if found} == {}
    for number, layers in dissection.frames.items():
        if number not in excused:
            assert not any(key == "_ws.malformed" for key, _ in layers), f"frame {number} is malformed"


def test_tshark_is_installed() -> None:
    """Fails, not skips, without tshark: CI installs it, so its absence is a broken environment."""
    tshark_binary()


@pytest.mark.parametrize("case", CMPP_CASES, ids=[case.name for case in CMPP_CASES])
def test_cmpp_pdu_as_tshark_dissects_it(case: Case, cmpp_dissection: Dissection) -> None:
    check_case(case, cmpp_dissection, "cmpp")


@pytest.mark.parametrize("case", SMPP_CASES, ids=[case.name for case in SMPP_CASES])
def test_smpp_pdu_as_tshark_dissects_it(case: Case, smpp_dissection: Dissection) -> None:
    check_case(case, smpp_dissection, "smpp")


def test_cmpp_capture_has_no_malformed_packet_or_warning(cmpp_dissection: Dissection) -> None:
    check_clean(cmpp_dissection, CMPP_CASES)


def test_smpp_capture_has_no_malformed_packet_or_warning(smpp_dissection: Dissection) -> None:
    check_clean(smpp_dissection, SMPP_CASES)


def test_every_pdu_went_out_in_its_own_frame(cmpp_dissection: Dissection, smpp_dissection: Dissection) -> None:
    """The capture holds the handshakes plus one frame per case, nothing more: tshark read the whole file."""
    for dissection, cases in ((cmpp_dissection, CMPP_CASES), (smpp_dissection, SMPP_CASES)):
        handshakes = 3 * len({case.connection for case in cases})
        assert sorted(dissection.frames) == list(range(1, handshakes + len(cases) + 1))
