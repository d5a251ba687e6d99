"""CMPP 2.0 / 2.1 / 3.0 (China Mobile Peer to Peer), the SP <-> ISMG link: a sans-IO codec.

Bytes in, frozen PDUs out, and back: :func:`frame_buffer` splits the stream into frames, :func:`decode`
turns a frame into a PDU and :func:`encode` a PDU into a frame, each in the wire layout of a
:class:`Version` (0x20 and 0x21 share the 2.0 layout; 0x30 is 3.0). No sockets, no clock. The session
state machine is built on top of this in ``session.py``.

Sources: CMPP 2.0 (2002-04) §7 and CMPP 3.0 (V3.0.0) §8, as collected in ``shared/reference/cmpp.md``.
"""

from __future__ import annotations

from ._codec import DEFAULT_MAX_FRAME, HEADER_SIZE, frame_buffer
from .auth import authenticator_ismg, authenticator_source, timestamp_from, verify_connect
from .codes import (
    CancelResult,
    CommandId,
    ConnectStatus,
    DeliverResult,
    FeeType,
    MsgFmt,
    Stat,
    SubmitResult,
    Version,
)
from .msgid import MsgId
from .pdus import (
    PDU_TYPES,
    ActiveTest,
    ActiveTestResp,
    Cancel,
    CancelResp,
    CmppPdu,
    Connect,
    ConnectResp,
    Deliver,
    DeliverResp,
    Query,
    QueryResp,
    Submit,
    SubmitResp,
    Terminate,
    TerminateResp,
    decode,
    encode,
)
from .report import Report, build_report, parse_report

__all__ = [
    "DEFAULT_MAX_FRAME",
    "HEADER_SIZE",
    "PDU_TYPES",
    "ActiveTest",
    "ActiveTestResp",
    "Cancel",
    "CancelResp",
    "CancelResult",
    "CmppPdu",
    "CommandId",
    "Connect",
    "ConnectResp",
    "ConnectStatus",
    "Deliver",
    "DeliverResp",
    "DeliverResult",
    "FeeType",
    "MsgFmt",
    "MsgId",
    "Query",
    "QueryResp",
    "Report",
    "Stat",
    "Submit",
    "SubmitResp",
    "SubmitResult",
    "Terminate",
    "TerminateResp",
    "Version",
    "authenticator_ismg",
    "authenticator_source",
    "build_report",
    "decode",
    "encode",
    "frame_buffer",
    "parse_report",
    "timestamp_from",
    "verify_connect",
]
