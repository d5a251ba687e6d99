"""CONNECT authentication: the worked example of cmpp.md §3.1 (gocmpp's test inputs) and its edges."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from protocols.cmpp import (
    Connect,
    Version,
    authenticator_ismg,
    authenticator_source,
    timestamp_from,
    verify_connect,
)
from protocols.errors import LocalProtocolError

SOURCE_ADDR, SECRET, TIMESTAMP = "900001", "888888", 1021080510
AUTH_SOURCE = bytes.fromhex("90d00c1d517abd0b4f65f6bcf8535d16")


def test_worked_example_authenticator_source():
    assert authenticator_source(SOURCE_ADDR, SECRET, TIMESTAMP) == AUTH_SOURCE
    assert authenticator_source(SOURCE_ADDR, SECRET.encode(), TIMESTAMP) == AUTH_SOURCE


def test_worked_example_authenticator_ismg_hashes_the_status_as_wide_as_its_field():
    assert authenticator_ismg(0, AUTH_SOURCE, SECRET, Version.V20) == bytes.fromhex(
        "6c0b846e25bab6daa4ed1c466e0f4bd8"
    )
    assert authenticator_ismg(0, AUTH_SOURCE, SECRET, Version.V21) == bytes.fromhex(
        "6c0b846e25bab6daa4ed1c466e0f4bd8"
    )
    assert authenticator_ismg(0, AUTH_SOURCE, SECRET, Version.V30) == bytes.fromhex(
        "7942977274098cf210ab0c16c367bc8d"
    )


def test_worked_example_timestamp():
    assert timestamp_from(10, 21, 8, 5, 10) == TIMESTAMP == 0x3CDC73BE


def test_the_timestamp_is_hashed_zero_padded_to_ten_digits():
    # Huawei's insa2 API sends the fixed "0008080808" (wire value 8080808), cmpp.md §3.1.
    expected = hashlib.md5(b"900001" + bytes(9) + b"888888" + b"0008080808").digest()
    assert authenticator_source(SOURCE_ADDR, SECRET, 8080808) == expected


@given(
    month=st.integers(1, 12),
    day=st.integers(1, 31),
    hour=st.integers(0, 23),
    minute=st.integers(0, 59),
    second=st.integers(0, 59),
)
def test_timestamp_reads_as_mmddhhmmss(month, day, hour, minute, second):
    value = timestamp_from(month, day, hour, minute, second)
    assert f"{value:010d}" == f"{month:02d}{day:02d}{hour:02d}{minute:02d}{second:02d}"


@pytest.mark.parametrize(
    "parts", [(0, 1, 0, 0, 0), (13, 1, 0, 0, 0), (1, 32, 0, 0, 0), (1, 1, 24, 0, 0), (1, 1, 0, 60, 0)]
)
def test_timestamp_parts_out_of_range(parts):
    with pytest.raises(LocalProtocolError):
        timestamp_from(*parts)


def test_verify_connect():
    good = Connect(
        source_addr=SOURCE_ADDR, authenticator_source=AUTH_SOURCE, version=0x30, timestamp=TIMESTAMP
    )
    assert verify_connect(good, SECRET)
    assert verify_connect(good, b"888888")
    assert not verify_connect(good, "888889")
    assert not verify_connect(
        Connect(source_addr="900002", authenticator_source=AUTH_SOURCE, timestamp=TIMESTAMP), SECRET
    )
    assert not verify_connect(
        Connect(source_addr=SOURCE_ADDR, authenticator_source=AUTH_SOURCE, timestamp=TIMESTAMP + 1), SECRET
    )
    assert not verify_connect(Connect(source_addr=SOURCE_ADDR, timestamp=TIMESTAMP), SECRET)  # 16 NULs


def test_bad_arguments_are_local_errors():
    with pytest.raises(LocalProtocolError):
        authenticator_source(SOURCE_ADDR, SECRET, -1)
    with pytest.raises(LocalProtocolError):
        authenticator_source(SOURCE_ADDR, SECRET, 2**32)
    with pytest.raises(LocalProtocolError):
        authenticator_source("九", SECRET, TIMESTAMP)
    with pytest.raises(LocalProtocolError):
        authenticator_ismg(256, AUTH_SOURCE, SECRET, Version.V20)  # Status is one byte in 2.0
    with pytest.raises(LocalProtocolError):
        authenticator_ismg(0, AUTH_SOURCE, SECRET, 0x31)
    assert len(authenticator_ismg(256, AUTH_SOURCE, SECRET, Version.V30)) == 16
