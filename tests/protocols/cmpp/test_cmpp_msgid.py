"""Msg_Id bit layout: the worked examples of cmpp.md §5, the ids seen in the vectors, and round trips."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from protocols.cmpp import MsgId
from protocols.errors import LocalProtocolError

EXAMPLES = [
    (0xB2B9DA8000010000, MsgId(11, 5, 14, 29, 42, 1, 0)),
    (0xB4C5530000010000, MsgId(11, 9, 17, 21, 12, 1, 0)),
    (0xB525628000010000, MsgId(11, 10, 9, 22, 10, 1, 0)),
    # From real-gateway vectors (their notes decompose them the same way).
    (0x7FD913C12D34B9C9, MsgId(7, 31, 22, 17, 15, 77108, 47561)),
    (0x85CCE8C091520007, MsgId(8, 11, 19, 14, 35, 37202, 7)),
    (0xC2CF8400A37359D8, MsgId(12, 5, 19, 56, 16, 41843, 23000)),
]


@pytest.mark.parametrize(("value", "parts"), EXAMPLES, ids=lambda x: hex(x) if isinstance(x, int) else "")
def test_worked_examples(value, parts):
    assert MsgId.decompose(value) == parts
    assert parts.compose() == value


def test_each_part_sits_in_its_own_bits():
    assert MsgId(1, 1, 0, 0, 0, 0, 0).compose() == 1 << 60 | 1 << 55
    assert MsgId(1, 1, 23, 0, 0, 0, 0).compose() & (0x1F << 50) == 23 << 50
    assert MsgId(1, 1, 0, 59, 0, 0, 0).compose() & (0x3F << 44) == 59 << 44
    assert MsgId(1, 1, 0, 0, 59, 0, 0).compose() & (0x3F << 38) == 59 << 38
    assert MsgId(1, 1, 0, 0, 0, (1 << 22) - 1, 0).compose() & (0x3FFFFF << 16) == 0x3FFFFF << 16
    assert MsgId(1, 1, 0, 0, 0, 0, 0xFFFF).compose() & 0xFFFF == 0xFFFF


PARTS = st.builds(
    MsgId,
    month=st.integers(1, 12),
    day=st.integers(1, 31),
    hour=st.integers(0, 23),
    minute=st.integers(0, 59),
    second=st.integers(0, 59),
    gateway=st.integers(0, (1 << 22) - 1),
    sequence=st.integers(0, 0xFFFF),
)


@given(PARTS)
def test_compose_then_decompose(parts):
    value = parts.compose()
    assert 0 <= value < 1 << 64
    assert MsgId.decompose(value) == parts


@given(st.integers(0, (1 << 64) - 1))
def test_any_64_bit_value_decomposes_and_recomposes_when_it_reads_as_a_date(value):
    parts = MsgId.decompose(value)
    if (
        1 <= parts.month <= 12
        and 1 <= parts.day <= 31
        and parts.hour < 24
        and parts.minute < 60
        and parts.second < 60
    ):
        assert parts.compose() == value
    else:
        with pytest.raises(LocalProtocolError):
            parts.compose()


@pytest.mark.parametrize(
    "parts",
    [
        MsgId(0, 1, 0, 0, 0, 0, 0),
        MsgId(13, 1, 0, 0, 0, 0, 0),
        MsgId(1, 0, 0, 0, 0, 0, 0),
        MsgId(1, 32, 0, 0, 0, 0, 0),
        MsgId(1, 1, 24, 0, 0, 0, 0),
        MsgId(1, 1, 0, 60, 0, 0, 0),
        MsgId(1, 1, 0, 0, 60, 0, 0),
        MsgId(1, 1, 0, 0, 0, 1 << 22, 0),
        MsgId(1, 1, 0, 0, 0, -1, 0),
        MsgId(1, 1, 0, 0, 0, 0, 0x10000),
    ],
)
def test_compose_range_checks(parts):
    with pytest.raises(LocalProtocolError):
        parts.compose()


@pytest.mark.parametrize("value", [-1, 1 << 64])
def test_decompose_needs_an_unsigned_64_bit_value(value):
    with pytest.raises(LocalProtocolError):
        MsgId.decompose(value)
