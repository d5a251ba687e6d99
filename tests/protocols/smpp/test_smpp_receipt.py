"""Delivery-receipt text (SMPP v3.4 Appendix B) and the vendor variants the parser must tolerate."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from protocols.errors import LocalProtocolError
from protocols.smpp import Receipt, ReceiptFormatError, build_receipt, parse_receipt, receipt_id_matches

SAMPLE = Receipt(
    id="0123456789",
    sub=1,
    dlvrd=1,
    submit_date="2401011200",
    done_date="2401011201",
    stat="DELIVRD",
    err="000",
    text="Hello world",
)


def test_build_appendix_b_layout() -> None:
    assert build_receipt(SAMPLE) == (
        b"id:0123456789 sub:001 dlvrd:001 submit date:2401011200 done date:2401011201 "
        b"stat:DELIVRD err:000 text:Hello world"
    )


def test_build_pads_counts_cuts_text_and_takes_the_label() -> None:
    receipt = Receipt(id="7", sub=12, dlvrd=0, stat="UNDELIV", err="069", text="x" * 25 + "tail")
    line = build_receipt(receipt, text_label="Text")
    assert b" sub:012 dlvrd:000 " in line
    assert line.endswith(b" Text:" + b"x" * 20)


@pytest.mark.parametrize("field", ["sub", "dlvrd"])
@pytest.mark.parametrize("count", [-1, 1000])
def test_build_refuses_counts_over_three_digits(field: str, count: int) -> None:
    with pytest.raises(LocalProtocolError, match=field):
        build_receipt(Receipt(id="1", stat="DELIVRD", **{field: count}))


def test_build_replaces_characters_outside_latin_1() -> None:
    assert build_receipt(Receipt(id="1", stat="DELIVRD", text="\u4f60\u597d")).endswith(b"text:??")


def test_parse_standard_receipt() -> None:
    assert parse_receipt(build_receipt(SAMPLE)) == SAMPLE


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        pytest.param(
            b"id:abc sub:001 dlvrd:001 submit date:2401011200 done date:2401011201 "
            b"stat:DELIVRD err:000 Text:Hi",
            Receipt(
                id="abc",
                sub=1,
                dlvrd=1,
                submit_date="2401011200",
                done_date="2401011201",
                stat="DELIVRD",
                err="000",
                text="Hi",
            ),
            id="SMPPSim Text:",
        ),
        pytest.param(
            b"id:abc submit date:2401011200 done date:2401011201 stat:UNDELIV err:1",
            Receipt(
                id="abc",
                submit_date="2401011200",
                done_date="2401011201",
                stat="UNDELIV",
                err="1",
            ),
            id="Jasmin: no sub, dlvrd or text; err of 1 character",
        ),
        pytest.param(
            b"id:1A2B sub:001 dlvrd:000 submit date:240101120000 done date:240101120105 stat:EXPIRED err:0",
            Receipt(
                id="1A2B",
                sub=1,
                submit_date="240101120000",
                done_date="240101120105",
                stat="EXPIRED",
                err="0",
            ),
            id="12-digit dates and a hex id",
        ),
        pytest.param(
            b"id:42 sub:1 dlvrd:1 submit date:20240101120000 done date:20240101120105 "
            b"stat:DELIVRD err:00 text:",
            Receipt(
                id="42",
                sub=1,
                dlvrd=1,
                submit_date="20240101120000",
                done_date="20240101120105",
                stat="DELIVRD",
                err="00",
            ),
            id="14-digit dates, unpadded counts",
        ),
        pytest.param(
            b"ID:9 STAT:REJECTD ERR:045 TEXT:id:1 stat:DELIVRD\x00",
            Receipt(id="9", stat="REJECTD", err="045", text="id:1 stat:DELIVRD"),
            id="upper-case labels, labels inside the text, trailing NUL",
        ),
        pytest.param(
            b"stat:ACCEPTD   id:77  err:000",
            Receipt(id="77", stat="ACCEPTD", err="000"),
            id="any order, extra spaces",
        ),
    ],
)
def test_parse_tolerates_vendor_variants(line: bytes, expected: Receipt) -> None:
    assert parse_receipt(line) == expected


@pytest.mark.parametrize(
    "line",
    [b"sub:001 dlvrd:001 stat:DELIVRD", b"id:1 sub:001 err:000", b"Hello, this is an MO message", b""],
)
def test_parse_needs_id_and_stat(line: bytes) -> None:
    with pytest.raises(ReceiptFormatError):
        parse_receipt(line)


def test_parse_refuses_a_non_numeric_count() -> None:
    with pytest.raises(ReceiptFormatError, match="sub"):
        parse_receipt(b"id:1 sub:abc stat:DELIVRD")
    assert issubclass(ReceiptFormatError, ValueError)


RECEIPTS = st.builds(
    Receipt,
    id=st.text("0123456789abcdefABCDEF-", min_size=1, max_size=64),
    sub=st.integers(0, 999),
    dlvrd=st.integers(0, 999),
    submit_date=st.text("0123456789", min_size=10, max_size=10),
    done_date=st.text("0123456789", min_size=10, max_size=10),
    stat=st.sampled_from(["DELIVRD", "EXPIRED", "DELETED", "UNDELIV", "ACCEPTD", "UNKNOWN", "REJECTD"]),
    err=st.text("0123456789", min_size=1, max_size=3),
    text=st.text(st.characters(min_codepoint=32, max_codepoint=255), max_size=20).map(str.rstrip),
)


@settings(max_examples=100, deadline=None)
@given(receipt=RECEIPTS, label=st.sampled_from(["text", "Text"]))
def test_build_then_parse_is_identity(receipt: Receipt, label: str) -> None:
    assert parse_receipt(build_receipt(receipt, text_label=label)) == receipt


@pytest.mark.parametrize(
    ("receipt_id", "message_id", "same"),
    [
        ("1A", "26", True),  # hex in the receipt, decimal in submit_sm_resp
        ("26", "1a", True),
        ("0026", "26", True),  # leading zeros
        ("00001a", "1A", True),
        ("abc-DEF", "ABC-def", True),  # non-numeric ids compare case-insensitively
        ("1A", "27", False),
        ("uuid-1", "uuid-2", False),
        ("", "0", False),
        ("9" * 5000, "9" * 5000, True),  # equal strings match without reading numbers
        ("9" * 5000, "8" * 5000, False),
    ],
)
def test_receipt_id_matches(receipt_id: str, message_id: str, same: bool) -> None:
    assert receipt_id_matches(receipt_id, message_id) is same
    assert receipt_id_matches(message_id, receipt_id) is same
