"""Tests for protocols.text: alphabets, segmentation, UDH parsing and reassembly."""

from __future__ import annotations

import json
import math
import re
import struct
from collections.abc import Callable, Iterator
from pathlib import Path

import gsm0338
import pytest
from hypothesis import given
from hypothesis import strategies as st

from protocols.text import (
    CMPP_UDHI_MASK,
    ESM_CLASS_UDHI,
    MAX_MESSAGE_PAYLOAD,
    Encoding,
    Message,
    Reassembler,
    Segment,
    SplitMethod,
    TextEncodingError,
    UserDataHeader,
    UserDataHeaderError,
    best_encoding,
    data_coding_for,
    decode_text,
    encode_text,
    encoding_for_data_coding,
    encoding_for_msg_fmt,
    msg_fmt_for,
    parse_udh,
    split,
    udhi_set,
)

VECTORS = Path(__file__).resolve().parents[2] / ".." / "shared" / "vectors" / "real-gateways.json"
FFFD = "\ufffd"
GSM_EXTENSION_CHARS = "€[]{}^~\\|\f"

# --- Alphabets, built from the libraries rather than from the module under test --------------------------

_GSM_CODEC = gsm0338.Codec()


def _gsm_encodable(char: str) -> bool:
    try:
        _GSM_CODEC.encode(char)
    except UnicodeEncodeError:
        return False
    return True


# Every GSM 03.38 character lies in Latin-1, Greek or is the euro sign. U+001B is the escape itself, which
# the library encodes as a bare escape; the module refuses it (tested below).
GSM_ALPHABET = sorted(c for c in [*map(chr, range(0x400)), "€"] if c != "\x1b" and _gsm_encodable(c))


def _gbk_encodable(char: str) -> bool:
    try:
        char.encode("gbk")
    except UnicodeEncodeError:
        return False
    return True


GBK_ALPHABET = [chr(c) for c in range(0x10000) if not 0xD800 <= c < 0xE000 and _gbk_encodable(chr(c))]

CHARS: dict[Encoding, st.SearchStrategy[str]] = {
    Encoding.GSM7: st.sampled_from(GSM_ALPHABET),
    Encoding.ASCII: st.characters(max_codepoint=0x7F),
    Encoding.LATIN1: st.characters(max_codepoint=0xFF),
    Encoding.UCS2: st.characters(exclude_categories=["Cs"]),
    Encoding.GBK: st.sampled_from(GBK_ALPHABET),
}


def texts(enc: Encoding, max_size: int = 60) -> st.SearchStrategy[str]:
    """Texts ``enc`` can hold; BINARY text is hex."""
    if enc is Encoding.BINARY:
        return st.binary(max_size=max_size).map(bytes.hex)
    return st.text(CHARS[enc], max_size=max_size)


@st.composite
def long_texts(draw: st.DrawFn, enc: Encoding) -> str:
    """Texts of a uniformly drawn length up to a few parts, so that most examples are multi-part.

    A short drawn pattern is repeated to the length: drawing hundreds of characters one by one would make
    the suite slow, and the pattern's mix of one- and two-unit characters still moves every boundary.
    """
    length = draw(st.integers(0, 450))
    if enc is Encoding.BINARY:
        return draw(st.binary(min_size=length, max_size=length)).hex()
    pattern = draw(st.text(CHARS[enc], min_size=1, max_size=12))
    return (pattern * (length // len(pattern) + 1))[:length]


# --- Mapping tables --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("dc", "enc"),
    [
        (0x00, Encoding.GSM7),
        (0x01, Encoding.ASCII),
        (0x02, Encoding.BINARY),
        (0x03, Encoding.LATIN1),
        (0x04, Encoding.BINARY),
        (0x05, Encoding.BINARY),
        (0x06, Encoding.BINARY),
        (0x08, Encoding.UCS2),
        (0x0E, Encoding.BINARY),
        (0xC0, Encoding.BINARY),
        (0xF0, Encoding.GSM7),
        (0xF3, Encoding.GSM7),
        (0xF4, Encoding.BINARY),
        (0xF7, Encoding.BINARY),
        (0xF8, Encoding.GSM7),
        (0xFF, Encoding.BINARY),
    ],
)
def test_encoding_for_data_coding(dc: int, enc: Encoding) -> None:
    assert encoding_for_data_coding(dc) is enc


@pytest.mark.parametrize(
    ("fmt", "enc"),
    [
        (0, Encoding.ASCII),
        (3, Encoding.BINARY),
        (4, Encoding.BINARY),
        (8, Encoding.UCS2),
        (15, Encoding.GBK),
        (0xF6, Encoding.BINARY),
        (0xA8, Encoding.BINARY),
        (1, Encoding.BINARY),
    ],
)
def test_encoding_for_msg_fmt(fmt: int, enc: Encoding) -> None:
    assert encoding_for_msg_fmt(fmt) is enc


@pytest.mark.parametrize("lookup", [encoding_for_data_coding, encoding_for_msg_fmt])
@pytest.mark.parametrize("value", [-1, 0x100])
def test_label_outside_an_octet_is_rejected(lookup: Callable[[int], Encoding], value: int) -> None:
    with pytest.raises(ValueError, match="not an octet"):
        lookup(value)


def test_reverse_tables() -> None:
    assert [
        data_coding_for(e) for e in (Encoding.GSM7, Encoding.ASCII, Encoding.LATIN1, Encoding.BINARY)
    ] == [
        0,
        1,
        3,
        4,
    ]
    assert data_coding_for(Encoding.UCS2) == 8
    assert [msg_fmt_for(e) for e in (Encoding.ASCII, Encoding.BINARY, Encoding.UCS2, Encoding.GBK)] == [
        0,
        4,
        8,
        15,
    ]


@pytest.mark.parametrize("enc", list(Encoding))
def test_reverse_tables_round_trip_or_refuse(enc: Encoding) -> None:
    if enc is Encoding.GBK:
        with pytest.raises(ValueError, match="SMPP has no data_coding for GBK"):
            data_coding_for(enc)
    else:
        assert encoding_for_data_coding(data_coding_for(enc)) is enc
    if enc in (Encoding.GSM7, Encoding.LATIN1):
        with pytest.raises(ValueError, match=f"CMPP has no Msg_Fmt for {enc.name}"):
            msg_fmt_for(enc)
    else:
        assert encoding_for_msg_fmt(msg_fmt_for(enc)) is enc


# --- Encoding and decoding -------------------------------------------------------------------------------


@pytest.mark.parametrize("enc", list(Encoding))
@given(data=st.data())
def test_round_trip(enc: Encoding, data: st.DataObject) -> None:
    text = data.draw(texts(enc))
    assert decode_text(encode_text(text, enc), enc) == text


@given(st.text(st.sampled_from(GSM_ALPHABET)))
def test_gsm7_matches_the_gsm0338_codec(text: str) -> None:
    assert encode_text(text, Encoding.GSM7) == _GSM_CODEC.encode(text)[0]


def test_gsm7_extension_characters_cost_two_septets() -> None:
    encoded = encode_text(GSM_EXTENSION_CHARS, Encoding.GSM7)
    assert len(encoded) == 2 * len(GSM_EXTENSION_CHARS)
    assert encoded[0::2] == b"\x1b" * len(GSM_EXTENSION_CHARS)
    assert encode_text("€", Encoding.GSM7) == b"\x1b\x65"
    assert encode_text("@£$", Encoding.GSM7) == b"\x00\x01\x02"


def test_ucs2_encodes_non_bmp_as_a_surrogate_pair() -> None:
    assert encode_text("a😀", Encoding.UCS2) == b"\x00a\xd8\x3d\xde\x00"


@pytest.mark.parametrize(
    ("text", "enc", "bad"),
    [
        ("ab中", Encoding.GSM7, "'中' (U+4E2D) at position 2"),
        ("x\x1b", Encoding.GSM7, "U+001B"),
        ("é", Encoding.ASCII, "at position 0"),
        ("a€", Encoding.LATIN1, "'€' (U+20AC) at position 1"),
        ("a\ud800b", Encoding.UCS2, "U+D800) at position 1"),
        ("😀", Encoding.GBK, "U+1F600"),
        ("0g", Encoding.BINARY, "'g' at position 1 is not a hex digit"),
        ("abc", Encoding.BINARY, "3 digits do not make whole octets"),
    ],
)
def test_encode_error_names_character_and_position(text: str, enc: Encoding, bad: str) -> None:
    with pytest.raises(TextEncodingError, match=re.escape(bad)) as caught:
        encode_text(text, enc)
    assert isinstance(caught.value, ValueError)


@pytest.mark.parametrize(
    ("data", "enc", "text"),
    [
        (b"a\x1b", Encoding.GSM7, "a" + FFFD),  # trailing escape
        (b"\x1b\x41", Encoding.GSM7, "A"),  # undefined extension: default-table character (03.38 §6.2.1.1)
        (b"\x1b\x1b", Encoding.GSM7, " "),  # reserved further extension: a space
        (b"a\x80\xff", Encoding.GSM7, "a" + FFFD + FFFD),  # not septets
        (b"\x1b\x3c\x1b\x3e", Encoding.GSM7, "[]"),
        (b"ok\x80", Encoding.ASCII, "ok" + FFFD),
        (b"\x00a\x00", Encoding.UCS2, "a" + FFFD),  # odd length
        (b"\xd8\x00\x00a", Encoding.UCS2, FFFD + "a"),  # lone high surrogate
        (b"\xdc\x00", Encoding.UCS2, FFFD),  # lone low surrogate
        ("😀".encode("gb18030"), Encoding.GBK, "😀"),  # decoded as GB18030, beyond GBK
        (b"\xd6\xd0\x80", Encoding.GBK, "中" + FFFD),
        (b"\x00\xab\xff", Encoding.BINARY, "00abff"),
        (b"", Encoding.BINARY, ""),
    ],
)
def test_decode_replaces_what_it_cannot_read(data: bytes, enc: Encoding, text: str) -> None:
    assert decode_text(data, enc) == text


@given(st.binary(max_size=300), st.sampled_from(Encoding))
def test_decode_never_raises(data: bytes, enc: Encoding) -> None:
    assert isinstance(decode_text(data, enc), str)


@given(st.binary(max_size=200))
def test_binary_text_is_hex_both_ways(data: bytes) -> None:
    assert decode_text(data, Encoding.BINARY) == data.hex()
    assert encode_text(data.hex().upper(), Encoding.BINARY) == data


@pytest.mark.parametrize(
    ("text", "prefer", "enc"),
    [
        ("hello", None, Encoding.GSM7),
        ("price 5€ {x}", None, Encoding.GSM7),
        ("中文", None, Encoding.UCS2),
        ("😀", None, Encoding.UCS2),
        ("中文", (Encoding.ASCII, Encoding.GBK, Encoding.UCS2), Encoding.GBK),
        ("abc", (Encoding.ASCII, Encoding.GBK), Encoding.ASCII),
        ("é", (Encoding.ASCII, Encoding.LATIN1), Encoding.LATIN1),
    ],
)
def test_best_encoding(text: str, prefer: tuple[Encoding, ...] | None, enc: Encoding) -> None:
    chosen = best_encoding(text) if prefer is None else best_encoding(text, prefer=prefer)
    assert chosen is enc


def test_best_encoding_raises_when_nothing_fits() -> None:
    with pytest.raises(TextEncodingError, match=r"none of \(ASCII\)"):
        best_encoding("中", prefer=(Encoding.ASCII,))
    with pytest.raises(TextEncodingError):
        best_encoding("\ud800")


# --- Splitting -------------------------------------------------------------------------------------------


def _sizes(segments: list[Segment]) -> list[int]:
    return [len(s.payload) for s in segments]


@pytest.mark.parametrize(
    ("text", "enc", "sizes"),
    [
        ("a" * 160, Encoding.GSM7, [160]),
        ("a" * 161, Encoding.GSM7, [153, 8]),
        ("a" * 306, Encoding.GSM7, [153, 153]),
        ("a" * 307, Encoding.GSM7, [153, 153, 1]),
        ("€" * 80, Encoding.GSM7, [160]),
        ("€" * 80 + "a", Encoding.GSM7, [152, 9]),  # 76 euros = 152 septets; a 77th would make 154
        ("a" * 160, Encoding.ASCII, [160]),
        ("a" * 161, Encoding.ASCII, [153, 8]),
        ("中" * 70, Encoding.UCS2, [140]),
        ("中" * 71, Encoding.UCS2, [134, 8]),
        ("😀" * 35, Encoding.UCS2, [140]),  # 70 UTF-16 units
        ("😀" * 35 + "a", Encoding.UCS2, [132, 10]),  # 33 pairs = 66 units; a 34th would make 68
        ("é" * 140, Encoding.LATIN1, [140]),
        ("é" * 141, Encoding.LATIN1, [134, 7]),
        ("中" * 70, Encoding.GBK, [140]),
        ("中" * 71, Encoding.GBK, [134, 8]),
        ("a" + "中" * 70, Encoding.GBK, [133, 8]),  # a double byte is not cut at octet 134
        ("00" * 141, Encoding.BINARY, [134, 7]),
    ],
)
def test_split_boundaries(text: str, enc: Encoding, sizes: list[int]) -> None:
    segments = split(text, enc)
    assert _sizes(segments) == sizes
    if len(sizes) == 1:
        assert segments[0].udh == b""
    assert b"".join(s.payload for s in segments) == encode_text(text, enc)


def test_extension_character_straddling_a_boundary_moves_whole() -> None:
    segments = split("a" * 152 + "€" + "b" * 10, Encoding.GSM7)
    assert [s.payload for s in segments] == [b"a" * 152, b"\x1b\x65" + b"b" * 10]


def test_surrogate_pair_straddling_a_boundary_moves_whole() -> None:
    segments = split("a" * 66 + "😀" + "b" * 5, Encoding.UCS2)
    assert [decode_text(s.payload, Encoding.UCS2) for s in segments] == ["a" * 66, "😀bbbbb"]
    assert len(segments[0].payload) == 132


def test_udh8_bytes() -> None:
    segments = split("a" * 200, Encoding.GSM7, reference=0xAB)
    assert [s.udh for s in segments] == [bytes.fromhex("050003ab0201"), bytes.fromhex("050003ab0202")]
    assert [(s.reference, s.total, s.number) for s in segments] == [(0xAB, 2, 1), (0xAB, 2, 2)]
    assert segments[1].short_message == bytes.fromhex("050003ab0202") + b"a" * 47


def test_udh16_bytes_and_budget() -> None:
    segments = split("a" * 304, Encoding.GSM7, method=SplitMethod.UDH16, reference=0x1234)
    assert [s.udh for s in segments] == [bytes.fromhex("06080412340201"), bytes.fromhex("06080412340202")]
    assert _sizes(segments) == [152, 152]
    assert _sizes(split("中" * 71, Encoding.UCS2, method=SplitMethod.UDH16)) == [132, 10]
    assert _sizes(split("é" * 141, Encoding.LATIN1, method=SplitMethod.UDH16)) == [133, 8]


def test_sar_has_no_udh_and_leaves_room_for_the_smscs() -> None:
    segments = split("a" * 200, Encoding.GSM7, method=SplitMethod.SAR, reference=0x0102)
    assert all(s.udh == b"" and s.short_message == s.payload for s in segments)
    assert _sizes(segments) == [152, 48]  # a 16-bit reference needs IEI 0x08 on the air
    assert [(s.reference, s.total, s.number) for s in segments] == [(0x0102, 2, 1), (0x0102, 2, 2)]
    assert _sizes(split("a" * 200, Encoding.GSM7, method=SplitMethod.SAR, reference=7)) == [153, 47]
    assert _sizes(split("a" * 160, Encoding.GSM7, method=SplitMethod.SAR)) == [160]


def test_payload_is_one_segment() -> None:
    [segment] = split("a€" * 500, Encoding.GSM7, method=SplitMethod.PAYLOAD, reference=9)
    assert segment == Segment(payload=b"a\x1b\x65" * 500, udh=b"", reference=9, total=1, number=1)
    with pytest.raises(ValueError, match="exceed message_payload"):
        split("00" * (MAX_MESSAGE_PAYLOAD + 1), Encoding.BINARY, method=SplitMethod.PAYLOAD)


@pytest.mark.parametrize(
    ("method", "reference"),
    [
        (SplitMethod.UDH8, 256),
        (SplitMethod.UDH8, -1),
        (SplitMethod.UDH16, 65536),
        (SplitMethod.SAR, 65536),
        (SplitMethod.PAYLOAD, 65536),
    ],
)
def test_reference_out_of_range(method: SplitMethod, reference: int) -> None:
    with pytest.raises(ValueError, match=f"reference {reference} does not fit"):
        split("a", Encoding.GSM7, method=method, reference=reference)


def test_at_most_255_segments() -> None:
    assert len(split("a" * 153 * 255, Encoding.GSM7)) == 255
    with pytest.raises(ValueError, match="256 segments"):
        split("a" * (153 * 255 + 1), Encoding.GSM7)


_SPLITTABLE = [m for m in SplitMethod if m is not SplitMethod.PAYLOAD]


@pytest.mark.parametrize("method", _SPLITTABLE)
@pytest.mark.parametrize("enc", list(Encoding))
@given(data=st.data())
def test_every_segment_fits_one_tp_user_data(method: SplitMethod, enc: Encoding, data: st.DataObject) -> None:
    # Checked against the 140-octet TP-UD of GSM 03.40 §9.2.3.16, not against the module's budget table.
    text = data.draw(long_texts(enc))
    reference = data.draw(st.integers(0, 255 if method is SplitMethod.UDH8 else 65535))
    segments = split(text, enc, method=method, reference=reference)
    assert b"".join(s.payload for s in segments) == encode_text(text, enc)
    assert [(s.total, s.number) for s in segments] == [
        (len(segments), n) for n in range(1, len(segments) + 1)
    ]
    for segment in segments:
        # SAR: the SMSC adds a UDH of 6 octets, or 7 for a reference above 255.
        udh = len(segment.udh) if method is not SplitMethod.SAR else (6 if reference <= 255 else 7)
        if len(segments) == 1:
            udh = 0
        if enc in (Encoding.GSM7, Encoding.ASCII):
            assert math.ceil(udh * 8 / 7) + len(segment.payload) <= 160
        else:
            assert udh + len(segment.payload) <= 140
        if enc is Encoding.GSM7:
            assert not segment.payload.endswith(b"\x1b")  # no escape cut from its character
        if enc is Encoding.UCS2 and segment.payload:
            assert not 0xD8 <= segment.payload[-2] <= 0xDB  # no high surrogate cut from its pair


# --- User Data Header ------------------------------------------------------------------------------------


def test_parse_udh_concat_and_port() -> None:
    header, payload = parse_udh(bytes.fromhex("0b0003ba01010504158a0000") + b"body")
    assert header.elements == ((0x00, b"\xba\x01\x01"), (0x05, b"\x15\x8a\x00\x00"))
    assert header.concat == (0xBA, 1, 1)
    assert header.port == (0x158A, 0)
    assert payload == b"body"


def test_parse_udh_16bit_reference_and_8bit_port() -> None:
    header, payload = parse_udh(bytes.fromhex("0a08041234030204021020") + b"x")
    assert header.concat == (0x1234, 3, 2)
    assert header.port == (0x10, 0x20)
    assert payload == b"x"


@pytest.mark.parametrize(
    ("elements", "concat"),
    [
        (((0x00, b"\x01\x03\x00"),), None),  # number 0
        (((0x00, b"\x01\x03\x04"),), None),  # number above total
        (((0x00, b"\x01\x00\x00"),), None),  # total 0
        (((0x00, b"\x01\x03"),), None),  # wrong length
        (((0x00, b"\x01\x03\x01"), (0x08, b"\x00\x02\x02\x02")), (2, 2, 2)),  # the last occurrence wins
        (((0x05, b"\x00\x01\x00\x02"),), None),
    ],
)
def test_concat_ignores_what_gsm_0340_says_to_ignore(
    elements: tuple[tuple[int, bytes], ...], concat: tuple[int, int, int] | None
) -> None:
    assert UserDataHeader(elements).concat == concat


def test_port_ignores_a_wrong_length() -> None:
    assert UserDataHeader(((0x05, b"\x00\x01\x00"),)).port is None
    assert UserDataHeader(((0x00, b"\x01\x02\x01"),)).port is None


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "no UDHL octet"),
        (bytes.fromhex("0500030102"), "UDHL 5 runs past the 4 octets after it"),
        (bytes.fromhex("0300050102"), "0x00 at octet 1 \\(length 5\\) runs past"),
        (bytes.fromhex("0100"), "at octet 1 has no length octet"),
        (
            bytes.fromhex("04000301020304"),
            "0x00 at octet 1 \\(length 3\\) runs past the header's end at octet 5",
        ),
    ],
)
def test_parse_udh_is_bounds_checked(data: bytes, message: str) -> None:
    with pytest.raises(UserDataHeaderError, match=message) as caught:
        parse_udh(data)
    assert isinstance(caught.value, ValueError)


def test_empty_udh() -> None:
    assert parse_udh(b"\x00abc") == (UserDataHeader(()), b"abc")


@given(st.binary(max_size=40))
def test_parse_udh_raises_only_its_own_error(data: bytes) -> None:
    try:
        header, payload = parse_udh(data)
    except UserDataHeaderError:
        return
    assert len(payload) == len(data) - 1 - data[0]
    assert sum(2 + len(d) for _, d in header.elements) == data[0]


@pytest.mark.parametrize(
    ("flag", "mask", "expected"),
    [
        (0, CMPP_UDHI_MASK, False),
        (1, CMPP_UDHI_MASK, True),
        (0x40, CMPP_UDHI_MASK, True),
        (0x41, CMPP_UDHI_MASK, True),
        (0x02, CMPP_UDHI_MASK, False),
        (0x40, ESM_CLASS_UDHI, True),
        (0x43, ESM_CLASS_UDHI, True),
        (0x03, ESM_CLASS_UDHI, False),  # store-and-forward mode bits, not UDHI
        (0x04, ESM_CLASS_UDHI, False),
    ],
)
def test_udhi_set(flag: int, mask: int, expected: bool) -> None:
    assert udhi_set(flag, mask=mask) is expected


def test_udhi_default_mask_is_cmpps() -> None:
    assert udhi_set(0x40) and udhi_set(1) and not udhi_set(0x80)


# --- Reassembly ------------------------------------------------------------------------------------------


ENC = Encoding.GSM7


def _feed(
    reassembler: Reassembler, segment: Segment, method: SplitMethod, now: float = 0.0
) -> Message | None:
    return reassembler.add(
        key=("acct", "1069", "138"),
        short_message=segment.short_message,
        udhi=bool(segment.udh),
        encoding=ENC,
        now=now,
        sar=(segment.reference, segment.total, segment.number) if method is SplitMethod.SAR else None,
    )


@pytest.mark.parametrize("method", list(SplitMethod))
@pytest.mark.parametrize("enc", list(Encoding))
@given(data=st.data())
def test_split_then_reassemble_in_any_order_with_duplicates(
    method: SplitMethod, enc: Encoding, data: st.DataObject
) -> None:
    text = data.draw(long_texts(enc))
    reference = data.draw(st.integers(0, 255 if method is SplitMethod.UDH8 else 65535))
    segments = split(text, enc, method=method, reference=reference)
    order = list(data.draw(st.permutations(segments)))
    for duplicate in data.draw(st.lists(st.sampled_from(segments), max_size=3)):
        order.insert(data.draw(st.integers(0, len(order))), duplicate)
    reassembler = Reassembler()
    messages = []
    for segment in order:
        message = reassembler.add(
            key="k",
            short_message=segment.short_message,
            udhi=bool(segment.udh),
            encoding=enc,
            now=0.0,
            sar=(segment.reference, segment.total, segment.number) if method is SplitMethod.SAR else None,
        )
        if message is not None:
            messages.append(message)
    assert messages, "the last missing part must complete the message"
    first = messages[0]
    assert first.text == text
    assert first.segments == len(segments)
    assert first.parts == tuple(s.short_message for s in segments)
    assert first.missing == ()
    # A duplicate arriving after completion starts afresh; it can only ever complete the same text.
    assert all(m.text == text for m in messages)


def test_single_part_returns_at_once() -> None:
    message = Reassembler().add(key=1, short_message=b"hi", udhi=False, encoding=Encoding.ASCII, now=0)
    assert message == Message(text="hi", segments=1, reference=None, parts=(b"hi",))


def test_pk_concatenation_without_udh() -> None:
    reassembler = Reassembler()
    first = reassembler.add(key=1, short_message=b"ab", udhi=False, encoding=Encoding.ASCII, now=0, pk=(2, 1))
    assert first is None
    message = reassembler.add(
        key=1, short_message=b"cd", udhi=False, encoding=Encoding.ASCII, now=1, pk=(2, 2)
    )
    assert message == Message(text="abcd", segments=2, reference=None, parts=(b"ab", b"cd"))


def test_udh_is_trusted_over_pk_and_sar() -> None:
    reassembler = Reassembler()
    results = [
        reassembler.add(
            key=1,
            short_message=bytes.fromhex("0500030702") + bytes((number,)) + text,
            udhi=True,
            encoding=Encoding.ASCII,
            now=0.0,
            pk=(1, 1),
            sar=(9, 1, 1),
        )
        for number, text in ((1, b"ab"), (2, b"cd"))
    ]
    assert results[0] is None
    message = results[1]
    assert message is not None
    assert (message.text, message.reference, message.segments) == ("abcd", 7, 2)


def test_invalid_counters_leave_a_single_part() -> None:
    reassembler = Reassembler()
    for pk in [(2, 0), (2, 3), (0, 0)]:
        message = reassembler.add(
            key=1, short_message=b"x", udhi=False, encoding=Encoding.ASCII, now=0, pk=pk
        )
        assert message is not None and message.segments == 1
    message = reassembler.add(
        key=1, short_message=b"y", udhi=False, encoding=Encoding.ASCII, now=0, sar=(5, 2, 0)
    )
    assert message is not None and message.segments == 1
    assert len(reassembler) == 0


def test_duplicates_are_not_double_counted() -> None:
    reassembler = Reassembler()
    a, b, c = split("a" * 400, Encoding.GSM7, reference=3)
    assert _feed(reassembler, a, SplitMethod.UDH8) is None
    assert _feed(reassembler, a, SplitMethod.UDH8) is None
    assert _feed(reassembler, b, SplitMethod.UDH8) is None
    message = _feed(reassembler, c, SplitMethod.UDH8)
    assert message is not None and message.text == "a" * 400 and len(message.parts) == 3


def test_a_repeated_part_keeps_the_first_copy() -> None:
    reassembler = Reassembler()
    header = bytes.fromhex("0500030902")
    assert reassembler.add(key=1, short_message=header + b"\x01ab", udhi=True, encoding=ENC, now=0) is None
    assert reassembler.add(key=1, short_message=header + b"\x01XY", udhi=True, encoding=ENC, now=0) is None
    message = reassembler.add(key=1, short_message=header + b"\x02cd", udhi=True, encoding=ENC, now=0)
    assert message is not None and message.text == "abcd"
    assert message.parts == (header + b"\x01ab", header + b"\x02cd")


def test_same_reference_different_totals_and_keys_are_kept_apart() -> None:
    reassembler = Reassembler()
    two = split("x" * 200, Encoding.GSM7, reference=5)
    three = split("y" * 400, Encoding.GSM7, reference=5)
    assert _feed(reassembler, two[0], SplitMethod.UDH8) is None
    assert _feed(reassembler, three[0], SplitMethod.UDH8) is None
    assert (
        reassembler.add(key="other", short_message=two[1].short_message, udhi=True, encoding=ENC, now=0)
        is None
    )
    assert _feed(reassembler, three[1], SplitMethod.UDH8) is None
    done = _feed(reassembler, two[1], SplitMethod.UDH8)
    assert done is not None and done.text == "x" * 200
    done = _feed(reassembler, three[2], SplitMethod.UDH8)
    assert done is not None and done.text == "y" * 400
    assert len(reassembler) == 1  # the part sent under the other key still waits


def test_runs_of_one_encoding_are_decoded_together() -> None:
    # A foreign sender cut a surrogate pair across parts; decoding the run whole still shows it.
    parts = [bytes.fromhex("050003010201") + b"\x00a\xd8\x3d", bytes.fromhex("050003010202") + b"\xde\x00"]
    reassembler = Reassembler()
    assert reassembler.add(key=1, short_message=parts[0], udhi=True, encoding=Encoding.UCS2, now=0) is None
    message = reassembler.add(key=1, short_message=parts[1], udhi=True, encoding=Encoding.UCS2, now=0)
    assert message is not None and message.text == "a😀"


def test_malformed_udh_is_shown_not_raised() -> None:
    message = Reassembler().add(key=1, short_message=b"\x09ab", udhi=True, encoding=Encoding.ASCII, now=0)
    assert message == Message(text="\tab", segments=1, reference=None, parts=(b"\x09ab",))


@given(st.binary(max_size=60), st.booleans(), st.sampled_from(Encoding))
def test_add_never_raises_on_peer_bytes(data: bytes, udhi: bool, enc: Encoding) -> None:
    reassembler = Reassembler()
    message = reassembler.add(key=1, short_message=data, udhi=udhi, encoding=enc, now=0, pk=(2, 1))
    assert message is None or message.parts == (data,)


def test_expire_marks_missing_parts() -> None:
    reassembler = Reassembler(timeout=10.0)
    first, _, third = split("abc" * 120, Encoding.GSM7, reference=1)
    _feed(reassembler, first, SplitMethod.UDH8, now=100.0)
    _feed(reassembler, third, SplitMethod.UDH8, now=105.0)
    assert reassembler.expire(109.9) == []
    [message] = reassembler.expire(110.0)
    assert message.text == decode_text(first.payload, ENC) + "[missing part 2/3]" + decode_text(
        third.payload, ENC
    )
    assert (message.segments, message.reference, message.missing) == (3, 1, (2,))
    assert message.parts == (first.short_message, third.short_message)
    assert len(reassembler) == 0
    assert reassembler.expire(1000.0) == []


def test_max_pending_evicts_the_oldest() -> None:
    reassembler = Reassembler(max_pending=2)
    firsts = [split("m" * 200, Encoding.GSM7, reference=r)[0] for r in (1, 2, 3)]
    for now, segment in enumerate(firsts):
        assert _feed(reassembler, segment, SplitMethod.UDH8, now=float(now)) is None
    assert len(reassembler) == 2
    [evicted] = reassembler.expire(0.0)
    assert (evicted.reference, evicted.missing) == (1, (2,))
    assert evicted.text.endswith("[missing part 2/2]")
    done = _feed(reassembler, split("m" * 200, Encoding.GSM7, reference=3)[1], SplitMethod.UDH8)
    assert done is not None and done.text == "m" * 200


def test_reassembler_rejects_nonsense_limits() -> None:
    with pytest.raises(ValueError, match="timeout must be positive"):
        Reassembler(timeout=0.0)
    with pytest.raises(ValueError, match="max_pending must be at least 1"):
        Reassembler(max_pending=0)


# --- Real gateway vectors --------------------------------------------------------------------------------

_SUBMIT, _DELIVER = 0x00000004, 0x00000005


def _vector(vector_id: str) -> bytes:
    [entry] = [e for e in json.loads(VECTORS.read_text()) if e["id"] == vector_id]
    return bytes.fromhex(entry["hex"])


def _pdus(stream: bytes) -> Iterator[bytes]:
    offset = 0
    while offset < len(stream):
        (length,) = struct.unpack_from(">I", stream, offset)
        yield stream[offset : offset + length]
        offset += length
    assert offset == len(stream)


def _cmpp2_content(pdu: bytes) -> tuple[int, int, tuple[int, int], bytes]:
    """(TP_udhi, Msg_Fmt, (Pk_total, Pk_number), Msg_Content) of a CMPP 2.0 SUBMIT or DELIVER (cmpp.md §2)."""
    (command_id,) = struct.unpack_from(">I", pdu, 4)
    if command_id == _SUBMIT:
        pk = (pdu[20], pdu[21])
        udhi, fmt = pdu[57], pdu[58]
        length_at = 129 + 21 * pdu[128]  # after DestUsr_tl × 21-octet Dest_terminal_Id
    else:
        assert command_id == _DELIVER
        pk = (1, 1)
        udhi, fmt = pdu[52], pdu[53]
        length_at = 76
    length = pdu[length_at]
    content = pdu[length_at + 1 : length_at + 1 + length]
    assert len(content) == length
    return udhi, fmt, pk, content


def _reassemble(vector_id: str) -> list[Message | None]:
    reassembler = Reassembler()
    results = []
    for pdu in _pdus(_vector(vector_id)):
        udhi, fmt, pk, content = _cmpp2_content(pdu)
        results.append(
            reassembler.add(
                key=("sp", "10085"),
                short_message=content,
                udhi=udhi_set(udhi),
                encoding=encoding_for_msg_fmt(fmt),
                now=0.0,
                pk=pk,
            )
        )
    assert len(reassembler) == 0
    return results


def test_vector_pk_mismatch_reassembles_on_the_udh() -> None:
    *pending, message = _reassemble("CMPP2-SUBMIT-LONG-PKMISMATCH")
    assert pending == [None, None]
    assert message is not None
    assert (message.segments, message.reference) == (3, 0x2E)
    # The URL runs across the boundary between parts 2 and 3.
    assert "http://www.10085.cn/web85/h5/showList.html" in message.text
    assert message.text.endswith("详询10085")
    assert FFFD not in message.text


def test_vector_mixed_msg_fmt_decodes_each_part_by_its_own() -> None:
    *pending, message = _reassemble("CMPP2-SUBMIT-LONG-MIXEDFMT")
    assert pending == [None, None, None]
    assert message is not None and message.segments == 4 and message.reference == 0xE4
    assert message.text.startswith("尊敬的客户")
    assert message.text.endswith("如有疑问，请abc10085")  # part 4 is Msg_Fmt 0, ASCII
    assert message.parts[3] == bytes.fromhex("050003e40404") + b"abc10085"


def test_vector_long_edge_keeps_two_concatenations_apart() -> None:
    results = _reassemble("CMPP2-SUBMIT-LONG-EDGE")
    assert [r is None for r in results] == [True, True, False, True, False]
    two, three = results[2], results[4]
    assert two is not None and three is not None
    assert (two.segments, two.reference, three.segments, three.reference) == (2, 0x66, 3, 0x66)
    assert two.text.startswith("345678910085.cn") and two.text.endswith("9012")
    assert three.text.startswith("尊敬的客户") and three.text.endswith("中国移动10085")
    assert FFFD not in two.text + three.text


def test_vector_ucs2_single_parts() -> None:
    messages = _reassemble("CMPP2-SUBMIT-UCS2-x2")
    assert [m.text if m else None for m in messages] == [
        "您好，您的实名制认证登陆短信随机码为601250",
        "您好，您的实名制认证登陆短信随机码为137224",
    ]


def test_vector_deliver_udh_with_port() -> None:
    [pdu] = _pdus(_vector("CMPP2-DELIVER-MO-UDH-PORT"))
    udhi, fmt, _, content = _cmpp2_content(pdu)
    assert udhi_set(udhi) and encoding_for_msg_fmt(fmt) is Encoding.BINARY
    assert content[0] == 11
    header, payload = parse_udh(content)
    assert header.concat == (0xBA, 1, 1)
    assert header.port == (0x158A, 0x0000)
    assert len(payload) == 140 - 12
    [message] = _reassemble("CMPP2-DELIVER-MO-UDH-PORT")
    assert message is not None
    assert (message.segments, message.reference, message.text) == (1, 0xBA, payload.hex())
