"""Delivery-receipt text carried in deliver_sm short_message (SMPP v3.4 Appendix B).

Appendix B calls the format "SMSC vendor specific" and gives the typical example::

    id:IIIIIIIIII sub:SSS dlvrd:DDD submit date:YYMMDDhhmm done date:YYMMDDhhmm stat:DDDDDDD err:E Text:...

We build exactly that shape (with a configurable ``text`` label). Parsing is tolerant because real SMSCs
differ (reference smpp.md §2.4, §4): ``Text:`` or ``text:``, sub/dlvrd/text missing (Jasmin), dates of
10, 12 or 14 digits, err of 1-3 characters, hex or decimal ids. Fields are found by their label tokens,
never by fixed offsets, and everything after ``text:`` is the text even if it contains labels.

A receipt that cannot be read raises :class:`ReceiptFormatError`, a ``ValueError``: it is not a
protocol error of the deliver_sm that carried it (that PDU is well formed and is acknowledged as usual),
so :class:`~protocols.errors.RemoteProtocolError` with its "answer with this code" meaning would be
wrong.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from protocols.errors import LocalProtocolError

__all__ = ["Receipt", "ReceiptFormatError", "build_receipt", "parse_receipt", "receipt_id_matches"]

#: Appendix B: the text field holds the first 20 characters of the original message.
_TEXT_LIMIT: Final = 20
_COUNT_LIMIT: Final = 999  # sub and dlvrd are 3 digits (Appendix B Table B-1)
# Longest digit string read as a number: message ids are at most 64 characters (§5.2.23), and the
# bound keeps int() far from its 4300-digit limit on hostile input.
_NUMBER_LIMIT: Final = 64

_LABEL = re.compile(r"\b(id|sub|dlvrd|submit date|done date|stat|err|text):", re.IGNORECASE)
_DECIMAL = re.compile(r"[0-9]+")
_HEX = re.compile(r"[0-9A-Fa-f]+")


class ReceiptFormatError(ValueError):
    """The short_message is not a delivery receipt we can read (no ``id:`` or ``stat:``, bad counts)."""


@dataclass(frozen=True, kw_only=True, slots=True)
class Receipt:
    """The fields of an Appendix B delivery receipt, as text.

    Dates are kept as sent (YYMMDDhhmm in the spec; 12 and 14 digit forms occur in the field), ``stat``
    is one of DELIVRD, EXPIRED, DELETED, UNDELIV, ACCEPTD, UNKNOWN, REJECTD (Table B-2).
    """

    id: str
    sub: int = 0
    dlvrd: int = 0
    submit_date: str = ""
    done_date: str = ""
    stat: str
    err: str = ""
    text: str = ""


def build_receipt(r: Receipt, *, text_label: str = "text") -> bytes:
    """The receipt text of ``r`` (SMPP v3.4 Appendix B), latin-1 encoded.

    sub and dlvrd are zero-padded to 3 digits, text is cut to its first 20 characters; characters
    outside latin-1 become ``?`` (the text is only a preview of the message). ``text_label`` chooses
    between the ``text:`` and ``Text:`` spellings seen in the field. Raises
    :class:`LocalProtocolError` for sub or dlvrd outside 0-999.
    """
    for name, count in (("sub", r.sub), ("dlvrd", r.dlvrd)):
        if not 0 <= count <= _COUNT_LIMIT:
            raise LocalProtocolError(f"receipt {name} must be within 0-999")
    line = (
        f"id:{r.id} sub:{r.sub:03d} dlvrd:{r.dlvrd:03d} submit date:{r.submit_date} "
        f"done date:{r.done_date} stat:{r.stat} err:{r.err} {text_label}:{r.text[:_TEXT_LIMIT]}"
    )
    return line.encode("latin-1", errors="replace")


def parse_receipt(data: bytes) -> Receipt:
    """Read a delivery receipt (SMPP v3.4 Appendix B), tolerating the common vendor variants.

    Labels are matched case-insensitively wherever they stand; sub, dlvrd, dates, err and text may be
    missing (0 or empty). Raises :class:`ReceiptFormatError` when ``id:`` or ``stat:`` is missing or
    sub/dlvrd is not a number.
    """
    text = data.decode("latin-1")
    found: dict[str, str] = {}
    matches = list(_LABEL.finditer(text))
    for index, match in enumerate(matches):
        label = match.group(1).lower()
        if label == "text":
            # The text is the rest of the message; labels inside it are content.
            found[label] = text[match.end() :].rstrip("\0")
            break
        end = matches[index + 1].start() if index + 1 < len(matches) else len(text)
        found[label] = text[match.end() : end].strip(" \0")
    if "id" not in found or "stat" not in found:
        raise ReceiptFormatError("delivery receipt without id: or stat:")
    return Receipt(
        id=found["id"],
        sub=_count(found, "sub"),
        dlvrd=_count(found, "dlvrd"),
        submit_date=found.get("submit date", ""),
        done_date=found.get("done date", ""),
        stat=found["stat"],
        err=found.get("err", ""),
        text=found.get("text", ""),
    )


def _count(found: dict[str, str], label: str) -> int:
    value = found.get(label, "")
    if not value:
        return 0
    if not _DECIMAL.fullmatch(value) or len(value) > _NUMBER_LIMIT:
        raise ReceiptFormatError(f"delivery receipt {label}: is not a number")
    return int(value)


def _numeric_readings(message_id: str) -> set[int]:
    if len(message_id) > _NUMBER_LIMIT:
        return set()
    readings = set()
    if _DECIMAL.fullmatch(message_id):
        readings.add(int(message_id, 10))
    if _HEX.fullmatch(message_id):
        readings.add(int(message_id, 16))
    return readings


def receipt_id_matches(receipt_id: str, message_id: str) -> bool:
    """Whether a receipt's ``id:`` may name the message acknowledged with ``message_id``.

    SMSCs often print the id in the receipt in another base than in submit_sm_resp (hex vs decimal,
    Kannel's ``msg-id-type``) or with leading zeros: "1A" matches "26" and "0026". Equal strings
    always match (case-insensitively); otherwise any decimal or hex reading of one equal to a reading
    of the other. This is equivalence, not identity ("10" also matches "16"): look for an exact match
    first when several messages are outstanding.
    """
    if receipt_id.strip().casefold() == message_id.strip().casefold():
        return True
    return bool(_numeric_readings(receipt_id.strip()) & _numeric_readings(message_id.strip()))
