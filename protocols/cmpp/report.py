"""The status report carried in a DELIVER's Msg_Content when Registered_Delivery = 1.

CMPP 2.0 §7.4.5.1 and CMPP 3.0 §8.4.5.1: Msg_Id u8, Stat oct7, Submit_time oct10, Done_time oct10,
Dest_terminal_Id oct21 (2.0) or oct32 (3.0), SMSC_sequence u4: 60 or 71 bytes.

Parsing goes by size rather than by the link's version, because real gateways put the 60-byte 2.0 layout
inside 3.0 DELIVERs (cmpp.md §2.7, vector ``CMPP3-DELIVER-REPORT-60-QUIRK``); building follows the version.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from . import _codec, _fast
from .codes import Version

__all__ = ["Report", "build_report", "parse_report"]


@dataclass(frozen=True, kw_only=True, slots=True)
class Report:
    """One status report (CMPP 3.0 §8.4.5.1).

    :param msg_id: the Msg_Id the ISMG returned in SUBMIT_RESP for the message reported on.
    :param stat: final state, e.g. ``"DELIVRD"`` or a 3.0 ``"MA:0001"`` code (see :mod:`.codes`); opaque text.
    :param submit_time: ``YYMMDDHHMM`` when the message was submitted.
    :param done_time: ``YYMMDDHHMM`` when it reached its final state.
    :param dest_terminal_id: the recipient of the original SUBMIT.
    :param smsc_sequence: the sequence the SMSC gave the report.
    """

    msg_id: int = 0
    stat: str = ""
    submit_time: str = ""
    done_time: str = ""
    dest_terminal_id: str = ""
    smsc_sequence: int = 0


def parse_report(msg_content: bytes) -> Report:
    """Parse a 60-byte (2.0 layout) or 71-byte (3.0 layout) report (CMPP 3.0 §8.4.5.1), whatever the link's
    version.

    Raises :class:`~protocols.errors.RemoteProtocolError` with code 1 (message structure error, the
    DELIVER_RESP result to answer) for any other size.
    """
    return Report(**_codec.parse_report_fields(msg_content))


def build_report(report: Report, version: Version | int) -> bytes:
    """Lay out ``report`` for a DELIVER of ``version`` (CMPP 3.0 §8.4.5.1): 60 bytes for 2.0/2.1, 71 for 3.0.

    Raises :class:`~protocols.errors.LocalProtocolError` naming the field for a value that does not fit.

    Runs the encoder generated from the Construct layout (:mod:`._fast`, one per receipt sent); what it does not
    accept goes to :func:`build_report_reference`, which writes the same bytes or raises the error.
    """
    if type(report) is Report:
        body = _FAST[_codec.wire_is_v3(version)](report)
        if body is not None:
            return body
    return build_report_reference(report, version)


def build_report_reference(report: Report, version: Version | int) -> bytes:
    """:func:`build_report` through the Construct layout alone: the definition the fast path is held to."""
    return _codec.build_report_fields(
        {field.name: getattr(report, field.name) for field in fields(report)}, version
    )


_FAST = _fast.report_encoders(Report)
