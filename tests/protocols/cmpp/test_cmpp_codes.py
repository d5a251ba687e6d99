"""The code tables: complete, bilingual, and numbered as in cmpp.md §1, §4 and §6."""

from __future__ import annotations

import re

import pytest

from protocols.cmpp import codes
from protocols.cmpp.codes import (
    CONNECT_STATUS_TEXT,
    DELIVER_RESULT_TEXT,
    FEE_TYPE_TEXT,
    FEE_TYPE_V20_ONLY,
    MSG_FMT_TEXT,
    STAT_PREFIX_TEXT,
    STAT_TEXT,
    SUBMIT_RESULT_SINCE_V21,
    SUBMIT_RESULT_TEXT,
    CancelResult,
    CommandId,
    ConnectStatus,
    DeliverResult,
    FeeType,
    MsgFmt,
    Stat,
    SubmitResult,
    describe_stat,
)

CJK = re.compile(r"[\u4e00-\u9fff]")

TABLES = [
    (ConnectStatus, CONNECT_STATUS_TEXT),
    (SubmitResult, SUBMIT_RESULT_TEXT),
    (DeliverResult, DELIVER_RESULT_TEXT),
    (Stat, STAT_TEXT),
    (MsgFmt, MSG_FMT_TEXT),
    (FeeType, FEE_TYPE_TEXT),
]


@pytest.mark.parametrize(("enum", "table"), TABLES, ids=lambda x: getattr(x, "__name__", ""))
def test_every_member_has_an_english_and_a_chinese_meaning(enum, table):
    assert set(table) == set(enum)
    for english, chinese in table.values():
        assert english.isascii()
        assert english
        assert CJK.search(chinese) or chinese.isupper(), chinese


def test_stat_prefixes_are_bilingual_too():
    assert set(STAT_PREFIX_TEXT) == {"MA", "MB", "MC", "CA", "CB", "DA", "DB", "SA", "SB", "IA", "IB", "IC"}
    assert all(CJK.search(chinese) for _, chinese in STAT_PREFIX_TEXT.values())


def test_submit_results_are_numbered_as_in_the_spec():
    assert [member.value for member in SubmitResult] == list(range(14))
    assert SubmitResult.FLOW_CONTROL == 8
    assert SubmitResult.DEST_TERMINAL_ID == 13
    assert sorted(SUBMIT_RESULT_SINCE_V21) == [9, 10, 11, 12, 13]
    assert SUBMIT_RESULT_TEXT[8][1] == "流量控制错"


def test_connect_and_other_statuses():
    assert [member.value for member in ConnectStatus] == [0, 1, 2, 3, 4, 5]
    assert CONNECT_STATUS_TEXT[ConnectStatus.VERSION_TOO_HIGH] == ("version too high", "版本太高")
    assert DeliverResult.FLOW_CONTROL == 8
    assert (CancelResult.SUCCESS, CancelResult.FAILURE) == (0, 1)
    assert [member.value for member in MsgFmt] == [0, 3, 4, 8, 15]


def test_fee_types_04_and_05_are_20_only():
    assert [member.value for member in FeeType] == ["01", "02", "03", "04", "05"]
    assert sorted(FEE_TYPE_V20_ONLY) == ["04", "05"]


@pytest.mark.parametrize(
    ("stat", "meaning"),
    [
        ("DELIVRD", STAT_TEXT["DELIVRD"]),
        ("MA:0001", STAT_PREFIX_TEXT["MA"]),
        ("IC:0015", STAT_PREFIX_TEXT["IC"]),
        ("AF:4", None),  # seen in the field, not in the spec
        ("MA0001", None),
        ("", None),
    ],
)
def test_describe_stat(stat, meaning):
    assert describe_stat(stat) == meaning


def test_command_ids():
    requests = [member for member in CommandId if not member.is_response]
    assert [member.value for member in requests] == [1, 2, 4, 5, 6, 7, 8]
    for request in requests:
        response = CommandId(request | 0x80000000)
        assert response.is_response
        assert response.spec_name == request.spec_name + "_RESP"
    assert CommandId.ACTIVE_TEST.spec_name == "CMPP_ACTIVE_TEST"


def test_module_exports_what_it_defines():
    assert all(hasattr(codes, name) for name in codes.__all__)
