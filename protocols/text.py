"""Message text: alphabets, segmentation and reassembly of short messages (sans-IO, pure functions).

Theory of operation
-------------------

Both protocol families carry message text as opaque octets plus a one-octet label saying how to read them:
SMPP ``data_coding`` (SMPP v3.4 §5.2.19) and CMPP ``Msg_Fmt`` (cmpp.md §6). :class:`Encoding` is the one
vocabulary the codecs and the gateway share; the two label tables map onto it and back.

*Encoding is strict, decoding never fails.* We encode text we were asked to send, so a character that does
not fit is a caller bug and raises :class:`TextEncodingError` naming the character and its position.
Decoding reads what a peer sent; reliability C1 says such bytes are stored raw and *displayed* with
U+FFFD replacement characters, so :func:`decode_text` accepts any octets in any encoding.

*Segments are cut on encoded units, never on characters or octets.* A GSM 03.38 extension character is
an escape septet plus its character and costs two septets; a UCS2 character outside the BMP is a surrogate
pair and costs two units. Either is one indivisible unit for :func:`split` (python-smpplib#182 counted
characters and overflowed). The capacity of one TP-User-Data is 140 octets (GSM 03.40 §9.2.3.16); a
concatenation header takes its octets from that, and in the 7-bit alphabet the header is padded to a
septet boundary (GSM 03.40 §9.2.3.24), which is where 153 and 152 come from.

*Reassembly trusts the User Data Header.* Real gateways leave CMPP ``Pk_total``/``Pk_number`` at 1/1 while
the UDH says 3 parts (cmpp.md §10 pitfall 8), mix ``Msg_Fmt`` across the segments of one message
(pitfall 9) and reuse one reference for two concatenations (vector ``CMPP2-SUBMIT-LONG-EDGE``). The
:class:`Reassembler` therefore keys a concatenation on (sender key, reference, total), decodes every run of
segments with its own encoding, and bounds both the time and the memory an incomplete message may hold.
"""

from __future__ import annotations

import string
from collections import deque
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from enum import Enum, auto
from itertools import groupby

import gsm0338

__all__ = [
    "CMPP_UDHI_MASK",
    "ESM_CLASS_UDHI",
    "MAX_MESSAGE_PAYLOAD",
    "MAX_SEGMENTS",
    "Encoding",
    "Message",
    "Reassembler",
    "Segment",
    "SplitMethod",
    "TextEncodingError",
    "UserDataHeader",
    "UserDataHeaderError",
    "best_encoding",
    "data_coding_for",
    "decode_text",
    "encode_text",
    "encoding_for_data_coding",
    "encoding_for_msg_fmt",
    "msg_fmt_for",
    "parse_udh",
    "split",
    "udhi_set",
]

_REPLACEMENT = "\ufffd"

# CMPP TP_udhi is 0/1 by the spec (GSM 03.40 §9.2.3.23, right-aligned), but gateways send SMPP's esm_class
# bit 0x40 in the same field (cmpp.md §6 quirk 5), so a CMPP reader accepts either bit.
CMPP_UDHI_MASK = 0x41
# SMPP v3.4 §5.2.12 esm_class: bit 6 is UDHI. Bits 1-0 are the messaging mode, so 0x01 must not count.
ESM_CLASS_UDHI = 0x40

# Octet and reference-number ranges of the concatenation information elements (GSM 03.40 §9.2.3.24.1,
# §9.2.3.24.8): the part counters are single octets, so no message has more than 255 parts.
MAX_SEGMENTS = 255
_MAX_REFERENCE_8 = 0xFF
_MAX_REFERENCE_16 = 0xFFFF
# SMPP v3.4 §5.3.2.32 message_payload: the TLV length field is 16 bits.
MAX_MESSAGE_PAYLOAD = 0xFFFF


class TextEncodingError(ValueError):
    """Text cannot be put into the requested encoding (a caller error: raised, never sent)."""


class UserDataHeaderError(ValueError):
    """A User Data Header (GSM 03.40 §9.2.3.24) does not fit inside the octets that carry it."""


class Encoding(Enum):
    """How the octets of a short message are to be read.

    * ``GSM7``: the GSM 03.38 §6.2.1 default alphabet with the §6.2.1.1 extension table, *unpacked*: one
      septet per octet, as SMPP carries it (septet packing is the air interface's business).
    * ``ASCII``: IA5 / US-ASCII, one character per octet.
    * ``LATIN1``: ISO-8859-1.
    * ``UCS2``: UTF-16BE without BOM; characters outside the BMP are sent as surrogate pairs, which every
      UCS2 handset displays, and count as two units.
    * ``GBK``: CMPP ``Msg_Fmt`` 15. Encoded strictly as GBK (what a receiving ISMG is sure to hold);
      decoded as GB18030, its superset, so every GBK octet string and more decodes.
    * ``BINARY``: 8-bit data that is never text. Its text form everywhere in this module is the octets'
      lowercase hexadecimal, without prefix or separators (``b"\\x01\\xab"`` ⇄ ``"01ab"``).
    """

    GSM7 = "gsm7"
    ASCII = "ascii"
    LATIN1 = "latin1"
    UCS2 = "ucs2"
    GBK = "gbk"
    BINARY = "binary"


# --- Label tables ----------------------------------------------------------------------------------------

# SMPP v3.4 §5.2.19. 0 is "SMSC default alphabet", which is SMSC-specific (smpp.md §6.6); we take it to be
# unpacked GSM 03.38, as most SMPP links do. 0xF0-0xFF is the GSM 03.38 §4 "data coding/message class"
# group: bit 2 chooses 8-bit data over the default alphabet, bits 1-0 are the class. Every other value
# (JIS, Cyrillic, MWI groups, reserved) is carried as opaque octets.
_ENCODING_BY_DATA_CODING: dict[int, Encoding] = {
    0x00: Encoding.GSM7,
    0x01: Encoding.ASCII,
    0x02: Encoding.BINARY,
    0x03: Encoding.LATIN1,
    0x04: Encoding.BINARY,
    0x08: Encoding.UCS2,
} | {dc: Encoding.BINARY if dc & 0x04 else Encoding.GSM7 for dc in range(0xF0, 0x100)}

# SMPP has no GBK coding, so GBK text must be transcoded (to UCS2) before it goes out over SMPP.
# 8-bit data is sent as 4, the value SMPP simulators and clients use for binary (smpp.md §2.5).
_DATA_CODING_BY_ENCODING: dict[Encoding, int] = {
    Encoding.GSM7: 0x00,
    Encoding.ASCII: 0x01,
    Encoding.LATIN1: 0x03,
    Encoding.BINARY: 0x04,
    Encoding.UCS2: 0x08,
}

# cmpp.md §6. 3 is a SIM-card write and 0xF6 (SMGP) a (U)SIM message: both octets, never text. Unknown
# values (field traffic has 0xA8) are carried as opaque octets, not rejected.
_ENCODING_BY_MSG_FMT: dict[int, Encoding] = {
    0: Encoding.ASCII,
    3: Encoding.BINARY,
    4: Encoding.BINARY,
    8: Encoding.UCS2,
    15: Encoding.GBK,
}

# CMPP has no GSM 03.38 or Latin-1 format: such text is transcoded (best_encoding with ASCII/UCS2/GBK).
_MSG_FMT_BY_ENCODING: dict[Encoding, int] = {
    Encoding.ASCII: 0,
    Encoding.BINARY: 4,
    Encoding.UCS2: 8,
    Encoding.GBK: 15,
}


def _check_octet(value: int, name: str) -> None:
    if not 0 <= value <= 0xFF:
        raise ValueError(f"{name} {value} is not an octet")


def encoding_for_data_coding(dc: int) -> Encoding:
    """The encoding of an SMPP ``data_coding`` value (SMPP v3.4 §5.2.19).

    0 (SMSC default alphabet) is read as unpacked GSM 03.38; 1 ASCII; 2 and 4 binary; 3 Latin-1; 8 UCS2;
    0xF0-0xFF (GSM 03.38 §4 message class group) binary when bit 2 is set, else GSM 03.38. Anything else
    is opaque binary. Raises :class:`ValueError` for a value that is not an octet.
    """
    _check_octet(dc, "data_coding")
    return _ENCODING_BY_DATA_CODING.get(dc, Encoding.BINARY)


def encoding_for_msg_fmt(fmt: int) -> Encoding:
    """The encoding of a CMPP ``Msg_Fmt`` value (CMPP 2.0 §7.4.3.1 / 3.0 §8.4.3.1, cmpp.md §6).

    0 ASCII, 3 (SIM write) and 4 binary, 8 UCS2, 15 GBK; any other value, such as the (U)SIM ``0xF6``, is
    opaque binary. Raises :class:`ValueError` for a value that is not an octet.
    """
    _check_octet(fmt, "Msg_Fmt")
    return _ENCODING_BY_MSG_FMT.get(fmt, Encoding.BINARY)


def data_coding_for(enc: Encoding) -> int:
    """The SMPP ``data_coding`` to send text of ``enc`` with (binary is 4).

    Raises :class:`ValueError` for :attr:`Encoding.GBK`, which SMPP v3.4 §5.2.19 cannot label.
    """
    try:
        return _DATA_CODING_BY_ENCODING[enc]
    except KeyError:
        raise ValueError(f"SMPP has no data_coding for {enc.name}; transcode the text first") from None


def msg_fmt_for(enc: Encoding) -> int:
    """The CMPP ``Msg_Fmt`` to send text of ``enc`` with (binary is 4).

    Raises :class:`ValueError` for :attr:`Encoding.GSM7` and :attr:`Encoding.LATIN1`, which CMPP cannot
    label (cmpp.md §6).
    """
    try:
        return _MSG_FMT_BY_ENCODING[enc]
    except KeyError:
        raise ValueError(f"CMPP has no Msg_Fmt for {enc.name}; transcode the text first") from None


# --- GSM 03.38 tables, derived from the gsm0338 package --------------------------------------------------

_GSM_ESCAPE = 0x1B
_SEPTETS = range(0x80)


def _gsm_table(prefix: bytes) -> dict[int, str]:
    """Septet → character for the default table (``prefix`` empty) or the extension table (escape)."""
    codec = gsm0338.Codec()
    table: dict[int, str] = {}
    for septet in _SEPTETS:
        try:
            char: str = codec.decode(prefix + bytes((septet,)))[0]
        except UnicodeDecodeError:
            continue
        # A lone escape decodes to nothing: it is a prefix, not a character.
        if char:
            table[septet] = char
    return table


_GSM_BASIC = _gsm_table(b"")
_GSM_EXTENSION = _gsm_table(bytes((_GSM_ESCAPE,)))

# U+001B is deliberately absent: sent alone it would swallow the next septet as an extension code.
_GSM_ENCODE: dict[str, bytes] = {
    char: bytes((_GSM_ESCAPE, septet)) for septet, char in _GSM_EXTENSION.items()
}
_GSM_ENCODE |= {char: bytes((septet,)) for septet, char in _GSM_BASIC.items()}

# Display tables indexed by any octet. An octet above 0x7F is not a septet at all (U+FFFD). After an
# escape, GSM 03.38 §6.2.1.1 says a receiver shows a space for 0x1B (reserved for a further extension
# table) and the default-table character for any other code the extension table does not define.
_GSM_DISPLAY = tuple(_GSM_BASIC.get(octet, _REPLACEMENT) for octet in range(0x100))
_GSM_DISPLAY_ESCAPED = tuple(
    _GSM_EXTENSION.get(octet, " " if octet == _GSM_ESCAPE else _GSM_DISPLAY[octet]) for octet in range(0x100)
)


def _decode_gsm7(data: bytes) -> str:
    if _GSM_ESCAPE not in data:  # the common case: one table lookup per octet, in C
        return data.decode("latin-1").translate(_GSM_DISPLAY)
    chars: list[str] = []
    escaped = False
    for octet in data:
        if escaped:
            chars.append(_GSM_DISPLAY_ESCAPED[octet])
            escaped = False
        elif octet == _GSM_ESCAPE:
            escaped = True
        else:
            chars.append(_GSM_DISPLAY[octet])
    if escaped:
        # An escape with nothing after it (reliability C1): the character it announced is lost.
        chars.append(_REPLACEMENT)
    return "".join(chars)


# --- Encoding and decoding -------------------------------------------------------------------------------

_CHAR_ENCODERS: dict[Encoding, Callable[[str], bytes]] = {
    Encoding.GSM7: _GSM_ENCODE.__getitem__,
    Encoding.ASCII: lambda char: char.encode("ascii"),
    Encoding.LATIN1: lambda char: char.encode("latin-1"),
    Encoding.UCS2: lambda char: char.encode("utf-16-be"),
    Encoding.GBK: lambda char: char.encode("gbk"),
}

_DECODERS: dict[Encoding, Callable[[bytes], str]] = {
    Encoding.GSM7: _decode_gsm7,
    Encoding.ASCII: lambda data: data.decode("ascii", "replace"),
    Encoding.LATIN1: lambda data: data.decode("latin-1"),
    Encoding.UCS2: lambda data: data.decode("utf-16-be", "replace"),
    Encoding.GBK: lambda data: data.decode("gb18030", "replace"),
    Encoding.BINARY: bytes.hex,
}

_HEX_DIGITS = frozenset(string.hexdigits)


def _hex_units(text: str) -> list[bytes]:
    for position, char in enumerate(text):
        if char not in _HEX_DIGITS:
            raise TextEncodingError(f"BINARY text is hex: {char!r} at position {position} is not a hex digit")
    if len(text) % 2:
        raise TextEncodingError(f"BINARY text is hex: {len(text)} digits do not make whole octets")
    return [bytes((octet,)) for octet in bytes.fromhex(text)]


def _encode_units(text: str, enc: Encoding) -> list[bytes]:
    """Encode ``text`` as its indivisible units: one character each (escape + septet, a surrogate pair and
    a GBK double byte stay whole), or one octet each for binary."""
    if enc is Encoding.BINARY:
        return _hex_units(text)
    encode_char = _CHAR_ENCODERS[enc]
    units: list[bytes] = []
    for position, char in enumerate(text):
        try:
            units.append(encode_char(char))
        except (KeyError, UnicodeEncodeError):
            raise TextEncodingError(
                f"character {char!r} (U+{ord(char):04X}) at position {position} "
                f"cannot be encoded in {enc.name}"
            ) from None
    return units


def encode_text(text: str, enc: Encoding) -> bytes:
    """Encode ``text`` for the wire.

    GSM 03.38 extension characters (€ [ ] { } ^ ~ \\ | and form feed, §6.2.1.1) become the escape 0x1B plus
    their code; UCS2 characters outside the BMP become surrogate pairs; :attr:`Encoding.BINARY` takes hex.
    Raises :class:`TextEncodingError` naming the first character (and its position) that does not fit.
    """
    return b"".join(_encode_units(text, enc))


def decode_text(data: bytes, enc: Encoding) -> str:
    """Decode octets received from a peer; never raises.

    What cannot be decoded is shown as U+FFFD (reliability C1): a trailing GSM escape, an octet above 0x7F
    in GSM 03.38 or ASCII, an odd trailing octet or a lone surrogate in UCS2, an invalid GB18030 sequence.
    An escape before a code the GSM 03.38 extension table does not define shows the default-table
    character, and 0x1B 0x1B a space, as §6.2.1.1 tells receivers to. :attr:`Encoding.BINARY` returns the
    octets as lowercase hex.
    """
    return _DECODERS[enc](data)


def best_encoding(text: str, *, prefer: tuple[Encoding, ...] = (Encoding.GSM7, Encoding.UCS2)) -> Encoding:
    """The first encoding in ``prefer`` that can hold all of ``text``.

    Raises :class:`TextEncodingError` when none can (with the default, only for lone surrogates).
    """
    for enc in prefer:
        try:
            _encode_units(text, enc)
        except TextEncodingError:
            continue
        return enc
    names = ", ".join(enc.name for enc in prefer)
    raise TextEncodingError(f"none of ({names}) can hold the text")


# --- Segmentation ----------------------------------------------------------------------------------------


class SplitMethod(Enum):
    """How the parts of a long message are tied together.

    * ``UDH8``: a concatenation UDH with an 8-bit reference, ``05 00 03 ref total n``
      (GSM 03.40 §9.2.3.24.1), with SMPP esm_class 0x40 / CMPP TP_udhi 1.
    * ``UDH16``: with a 16-bit reference, ``06 08 04 refhi reflo total n`` (GSM 03.40 §9.2.3.24.8).
    * ``SAR``: no UDH; the caller sends ``sar_msg_ref_num``/``sar_total_segments``/``sar_segment_seqnum``
      (SMPP v3.4 §5.3.2.22-24) from the segment's fields, and must not set UDHI with them (§5.2.12).
      Segment sizes leave room for the UDH the SMSC has to build from those TLVs for the air interface
      (GSM 03.40 has no other concatenation): the 8-bit-reference budgets when the reference fits an octet,
      otherwise the 16-bit ones.
    * ``PAYLOAD``: one segment holding the whole text, for SMPP ``message_payload`` (§5.3.2.32).
    """

    UDH8 = "udh8"
    UDH16 = "udh16"
    SAR = "sar"
    PAYLOAD = "payload"


class _Alphabet(Enum):
    """The unit a part's capacity is counted in."""

    SEPTETS = auto()
    OCTETS = auto()
    UCS2 = auto()


# Unpacked septets travel one per octet (SMPP carries GSM 03.38 unpacked); a UCS2 unit is two octets.
_OCTETS_PER_UNIT: dict[_Alphabet, int] = {_Alphabet.SEPTETS: 1, _Alphabet.OCTETS: 1, _Alphabet.UCS2: 2}

# ASCII counts in septets: IA5 is a 7-bit code that the SMSC sends in the GSM 7-bit alphabet, and CMPP
# allows Msg_Fmt 0 up to 160 octets where every other format gets 140 (cmpp.md §6).
_ALPHABET: dict[Encoding, _Alphabet] = {
    Encoding.GSM7: _Alphabet.SEPTETS,
    Encoding.ASCII: _Alphabet.SEPTETS,
    Encoding.LATIN1: _Alphabet.OCTETS,
    Encoding.GBK: _Alphabet.OCTETS,
    Encoding.BINARY: _Alphabet.OCTETS,
    Encoding.UCS2: _Alphabet.UCS2,
}

# Units per part, keyed by the UDH length in octets: none, 6 (8-bit reference), 7 (16-bit reference).
# One TP-UD holds 140 octets (GSM 03.40 §9.2.3.16). A 7-bit UDH is padded to a septet boundary
# (§9.2.3.24): 6 octets = 48 bits → 7 septets, 7 octets = 56 bits → 8 septets. These are the figures
# smpp.md §6.6 quotes from Jasmin and python-smpplib (160/153, 140/134, 70/67).
_BUDGETS: dict[_Alphabet, dict[int, int]] = {
    _Alphabet.SEPTETS: {0: 160, 6: 153, 7: 152},
    _Alphabet.OCTETS: {0: 140, 6: 134, 7: 133},
    _Alphabet.UCS2: {0: 70, 6: 67, 7: 66},
}

_UDH8_LENGTH = 6
_UDH16_LENGTH = 7
_IEI_CONCAT_8 = 0x00
_IEI_CONCAT_16 = 0x08
_IEI_PORT_8 = 0x04
_IEI_PORT_16 = 0x05


@dataclass(frozen=True, slots=True)
class Segment:
    """One part of a message as it goes into ``short_message`` (or ``Msg_Content``).

    :param payload: the encoded text of this part, without any header.
    :param udh: the concatenation UDH including its UDHL octet, ``b""`` when there is none.
    :param reference: the concatenation reference (for SAR: ``sar_msg_ref_num``).
    :param total: how many parts the message has.
    :param number: this part's index, from 1.
    """

    payload: bytes
    udh: bytes
    reference: int
    total: int
    number: int

    @property
    def short_message(self) -> bytes:
        """The octets to send: UDH then payload."""
        return self.udh + self.payload


def _concat_udh(method: SplitMethod, reference: int, total: int, number: int) -> bytes:
    if method is SplitMethod.UDH8:
        return bytes((_UDH8_LENGTH - 1, _IEI_CONCAT_8, 3, reference, total, number))
    if method is SplitMethod.UDH16:
        return bytes((_UDH16_LENGTH - 1, _IEI_CONCAT_16, 4, reference >> 8, reference & 0xFF, total, number))
    return b""


def _header_length(method: SplitMethod, reference: int) -> int:
    """Octets of UDH a part must leave room for (for SAR: the UDH the SMSC will build)."""
    if method is SplitMethod.UDH8:
        return _UDH8_LENGTH
    if method is SplitMethod.UDH16 or reference > _MAX_REFERENCE_8:
        return _UDH16_LENGTH
    return _UDH8_LENGTH


def _pack(units: list[bytes], capacity: int) -> list[bytes]:
    """Greedily fill parts of ``capacity`` octets without ever cutting a unit."""
    parts: list[bytes] = []
    current = bytearray()
    for unit in units:
        if len(current) + len(unit) > capacity:
            parts.append(bytes(current))
            current.clear()
        current += unit
    parts.append(bytes(current))
    return parts


def split(
    text: str, enc: Encoding, *, method: SplitMethod = SplitMethod.UDH8, reference: int = 0
) -> list[Segment]:
    """Cut ``text`` into the segments that carry it in ``enc``.

    A text within the single-part budget (160 septets, 140 octets or 70 UCS2 units; GSM 03.40 §9.2.3.16)
    gives one segment without UDH, whatever the method. A longer one is cut, never inside an escape
    sequence or a surrogate pair, into parts of 153/134/67 units (6-octet UDH, and SAR with a reference
    up to 255) or 152/133/66 (7-octet UDH, and SAR with a larger reference); see :class:`SplitMethod`.
    :attr:`SplitMethod.PAYLOAD` always gives one segment.

    Raises :class:`TextEncodingError` for text ``enc`` cannot hold, and :class:`ValueError` for a
    reference that does not fit (above 255 for UDH8, above 65535 otherwise), for more than 255 parts and
    for a ``message_payload`` above 65535 octets.
    """
    limit = _MAX_REFERENCE_8 if method is SplitMethod.UDH8 else _MAX_REFERENCE_16
    if not 0 <= reference <= limit:
        raise ValueError(f"reference {reference} does not fit {method.name} (0..{limit})")
    units = _encode_units(text, enc)
    if method is SplitMethod.PAYLOAD:
        payload = b"".join(units)
        if len(payload) > MAX_MESSAGE_PAYLOAD:
            raise ValueError(f"{len(payload)} octets exceed message_payload's {MAX_MESSAGE_PAYLOAD}")
        return [Segment(payload=payload, udh=b"", reference=reference, total=1, number=1)]
    alphabet = _ALPHABET[enc]
    octets_per_unit = _OCTETS_PER_UNIT[alphabet]
    budgets = _BUDGETS[alphabet]
    payload = b"".join(units)
    if len(payload) <= budgets[0] * octets_per_unit:
        return [Segment(payload=payload, udh=b"", reference=reference, total=1, number=1)]
    payloads = _pack(units, budgets[_header_length(method, reference)] * octets_per_unit)
    total = len(payloads)
    if total > MAX_SEGMENTS:
        raise ValueError(f"text needs {total} segments; concatenation allows {MAX_SEGMENTS}")
    return [
        Segment(
            payload=part,
            udh=_concat_udh(method, reference, total, number),
            reference=reference,
            total=total,
            number=number,
        )
        for number, part in enumerate(payloads, start=1)
    ]


# --- User Data Header ------------------------------------------------------------------------------------

# Information element data length of each concatenation IE: the reference takes all but the last two
# octets (total, number). GSM 03.40 §9.2.3.24.1 (8-bit reference), §9.2.3.24.8 (16-bit).
_CONCAT_IE_LENGTHS: dict[int, int] = {_IEI_CONCAT_8: 3, _IEI_CONCAT_16: 4}
# Application port IEs carry the destination port then the originator port, each half of the data.
# GSM 03.40 §9.2.3.24.3 (8-bit ports), §9.2.3.24.4 (16-bit ports).
_PORT_IE_LENGTHS: dict[int, int] = {_IEI_PORT_8: 2, _IEI_PORT_16: 4}


@dataclass(frozen=True, slots=True)
class UserDataHeader:
    """A parsed User Data Header (GSM 03.40 §9.2.3.24): its information elements in order, as
    ``(IEI, data)`` pairs."""

    elements: tuple[tuple[int, bytes], ...]

    def _last(self, lengths: dict[int, int]) -> bytes | None:
        """Data of the last IE among ``lengths``' IEIs, ``None`` if absent or of the wrong length.

        GSM 03.40 §9.2.3.24: of a non-repeatable IE sent twice the last occurrence is used, and an IE a
        receiver cannot make sense of is ignored.
        """
        for iei, data in reversed(self.elements):
            if iei in lengths:
                return data if len(data) == lengths[iei] else None
        return None

    @property
    def concat(self) -> tuple[int, int, int] | None:
        """``(reference, total, number)`` from IEI 0x00 or 0x08, or ``None``.

        An IE whose total is 0 or whose number is 0 or above the total is ignored, as GSM 03.40
        §9.2.3.24.1 tells the receiver to.
        """
        data = self._last(_CONCAT_IE_LENGTHS)
        if data is None:
            return None
        total, number = data[-2], data[-1]
        if not 1 <= number <= total:
            return None
        return int.from_bytes(data[:-2], "big"), total, number

    @property
    def port(self) -> tuple[int, int] | None:
        """``(destination port, originator port)`` from IEI 0x05 (16-bit) or 0x04 (8-bit), or ``None``."""
        data = self._last(_PORT_IE_LENGTHS)
        if data is None:
            return None
        half = len(data) // 2
        return int.from_bytes(data[:half], "big"), int.from_bytes(data[half:], "big")


def parse_udh(short_message: bytes) -> tuple[UserDataHeader, bytes]:
    """Split a UDHI-flagged ``short_message`` into its User Data Header and the payload after it.

    The first octet is the UDHL, the header length after it (GSM 03.40 §9.2.3.24). Raises
    :class:`UserDataHeaderError` when there is no UDHL octet, when the UDHL runs past the data, or when an
    information element runs past the header.
    """
    if not short_message:
        raise UserDataHeaderError("UDHI is set but the message is empty: no UDHL octet")
    udhl = short_message[0]
    end = 1 + udhl
    if end > len(short_message):
        raise UserDataHeaderError(f"UDHL {udhl} runs past the {len(short_message) - 1} octets after it")
    elements: list[tuple[int, bytes]] = []
    offset = 1
    while offset < end:
        if end - offset < 2:
            raise UserDataHeaderError(f"information element at octet {offset} has no length octet")
        iei, length = short_message[offset], short_message[offset + 1]
        start = offset + 2
        if start + length > end:
            raise UserDataHeaderError(
                f"information element 0x{iei:02X} at octet {offset} (length {length}) runs past the "
                f"header's end at octet {end}"
            )
        elements.append((iei, bytes(short_message[start : start + length])))
        offset = start + length
    return UserDataHeader(tuple(elements)), bytes(short_message[end:])


def udhi_set(flag: int, *, mask: int = CMPP_UDHI_MASK) -> bool:
    """Whether a UDHI flag is set.

    The default mask reads CMPP ``TP_udhi``, where both the spec's 1 and the field's 0x40 mean a UDH
    (cmpp.md §6 quirk 5: ``flag & 0x41``). For an SMPP ``esm_class`` pass ``mask=ESM_CLASS_UDHI``:
    its bit 0 is the messaging mode (SMPP v3.4 §5.2.12), which the CMPP mask would misread as UDHI.
    """
    return flag & mask != 0


# --- Reassembly ------------------------------------------------------------------------------------------

_MISSING_PART = "[missing part {number}/{total}]"


@dataclass(frozen=True, slots=True)
class Message:
    """A reassembled message, or what arrived of one that was given up on.

    :param text: the decoded text; each part missing from an incomplete message appears in its place as
        ``[missing part n/total]``.
    :param segments: how many parts the message has (its declared total).
    :param reference: the concatenation reference (UDH or SAR); ``None`` for a single part without one
        and for CMPP ``Pk_*`` concatenation, which has none.
    :param parts: the received ``short_message`` octets of each part, UDH included, in part order: the raw
        form to store (reliability C1).
    :param missing: numbers of the parts that never arrived; empty for a complete message.
    """

    text: str
    segments: int
    reference: int | None
    parts: tuple[bytes, ...]
    missing: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class _Part:
    short_message: bytes
    payload: bytes
    encoding: Encoding


@dataclass(slots=True)
class _Pending:
    started: float
    reference: int | None
    total: int
    parts: dict[int, _Part] = field(default_factory=dict)


def _assemble(reference: int | None, total: int, parts: dict[int, _Part]) -> Message:
    pieces: list[str] = []
    # Consecutive parts of one encoding are decoded together, so that a surrogate pair, escape sequence or
    # GBK double byte a foreign sender cut across parts still decodes; a change of encoding (pitfall 9) or
    # a missing part starts a new run.
    numbers = range(1, total + 1)
    for encoding, run in groupby(numbers, key=lambda n: parts[n].encoding if n in parts else None):
        run_numbers = list(run)
        if encoding is None:
            pieces.extend(_MISSING_PART.format(number=n, total=total) for n in run_numbers)
        else:
            pieces.append(decode_text(b"".join(parts[n].payload for n in run_numbers), encoding))
    return Message(
        text="".join(pieces),
        segments=total,
        reference=reference,
        parts=tuple(parts[n].short_message for n in numbers if n in parts),
        missing=tuple(n for n in numbers if n not in parts),
    )


def _valid_counters(total: int, number: int) -> bool:
    return 1 <= number <= total <= MAX_SEGMENTS


class Reassembler:
    """Joins the segments of concatenated messages (sans-IO: the caller supplies the time).

    Concatenation information comes, in order of trust, from the UDH concatenation IE, the SMPP SAR TLVs,
    and CMPP ``Pk_total``/``Pk_number`` (cmpp.md §10 pitfall 8: the UDH wins over ``Pk_*``); a segment with
    none of them is a single-part message. A UDH that cannot be parsed is not an error here: the whole
    ``short_message`` is then taken as a single-part payload, so a peer's bad octets are still shown
    (reliability C1); call :func:`parse_udh` to reject them instead.

    Parts are grouped by ``(key, reference, total)``: ``key`` identifies the sender (say ``(account,
    source, destination)``; add the CMPP Msg_Id where it is meaningful) and ``total`` keeps apart two
    concatenations that share a reference (vector ``CMPP2-SUBMIT-LONG-EDGE``).

    :param timeout: seconds, counted from a message's *first* part, after which :meth:`expire` gives it
        up. Counting from the first part bounds how long any entry lives; refreshing on each part would let
        a trickle of parts keep one forever.
    :param max_pending: most incomplete messages held; a new one beyond it evicts the oldest, which the
        next :meth:`expire` returns along with the timed-out ones.
    """

    def __init__(self, *, timeout: float = 300.0, max_pending: int = 10_000) -> None:
        if timeout <= 0:
            raise ValueError("timeout must be positive")
        if max_pending < 1:
            raise ValueError("max_pending must be at least 1")
        self.timeout = timeout
        self.max_pending = max_pending
        self._pending: dict[tuple[Hashable, int | None, int], _Pending] = {}
        # Bounded too: a flood that nobody expires drops the oldest evicted messages.
        self._evicted: deque[Message] = deque(maxlen=max_pending)

    def __len__(self) -> int:
        """Number of incomplete messages held."""
        return len(self._pending)

    def add(
        self,
        *,
        key: Hashable,
        short_message: bytes,
        udhi: bool,
        encoding: Encoding,
        now: float,
        sar: tuple[int, int, int] | None = None,
        pk: tuple[int, int] | None = None,
    ) -> Message | None:
        """Take one received segment; return the message it completes, or ``None``.

        :param key: identifies the sender/session the segment belongs to.
        :param short_message: the segment as received, UDH included.
        :param udhi: whether UDHI was set (see :func:`udhi_set`).
        :param encoding: this segment's own encoding; segments of one message may differ (pitfall 9).
        :param now: the current time in seconds, from a monotonic clock.
        :param sar: SMPP ``(sar_msg_ref_num, sar_total_segments, sar_segment_seqnum)`` when sent.
        :param pk: CMPP ``(Pk_total, Pk_number)``.

        A part already held is ignored, not counted twice. Counters that make no sense (a number of 0 or
        above the total) are ignored, as GSM 03.40 §9.2.3.24.1 says for the UDH, leaving a single part.
        """
        payload = short_message
        concat: tuple[int | None, int, int] | None = None
        if udhi:
            try:
                header, payload = parse_udh(short_message)
            except UserDataHeaderError:
                payload = short_message
            else:
                concat = header.concat
        if concat is None and sar is not None and _valid_counters(sar[1], sar[2]):
            concat = sar
        if concat is None and pk is not None and _valid_counters(*pk):
            concat = (None, *pk)
        part = _Part(short_message=short_message, payload=payload, encoding=encoding)
        if concat is None:
            return _assemble(None, 1, {1: part})
        reference, total, number = concat
        if total == 1:
            return _assemble(reference, 1, {1: part})
        slot = (key, reference, total)
        pending = self._pending.get(slot)
        if pending is None:
            if len(self._pending) >= self.max_pending:
                self._evict_oldest()
            pending = self._pending[slot] = _Pending(started=now, reference=reference, total=total)
        pending.parts.setdefault(number, part)
        if len(pending.parts) < total:
            return None
        del self._pending[slot]
        return _assemble(reference, total, pending.parts)

    def _evict_oldest(self) -> None:
        # Dicts keep insertion order, and an entry is inserted when its first part arrives.
        pending = self._pending.pop(next(iter(self._pending)))
        self._evicted.append(_assemble(pending.reference, pending.total, pending.parts))

    def expire(self, now: float) -> list[Message]:
        """Give up on messages whose first part is ``timeout`` seconds old or older, and return them with
        the messages evicted since the last call (oldest first), their gaps marked in ``text`` and
        ``missing``."""
        expired = [slot for slot, pending in self._pending.items() if now - pending.started >= self.timeout]
        messages = list(self._evicted)
        self._evicted.clear()
        for slot in expired:
            pending = self._pending.pop(slot)
            messages.append(_assemble(pending.reference, pending.total, pending.parts))
        return messages
