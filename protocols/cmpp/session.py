"""The CMPP session state machine, for both ends of the SP <-> ISMG link.

CMPP 3.0 §7.4 and §8.4 give each command a direction and require a successful CMPP_CONNECT before
anything else ("SP 在收到 CMPP_CONNECT_RESP 前不得发送其它消息"). :data:`RULES` writes that down as
data; the tests sweep every (state, command, direction) pair against their own copy of the spec.

The version is settled by CMPP_CONNECT, whose layout is the same in every version: a server reads the
client's Version byte and from then on encodes and decodes in that layout (0x20 and 0x21 share the 2.0
layout, CMPP 2.0 §7.4.1 and reference cmpp.md §10 pitfall 2), answering CONNECT_RESP in it too.

CMPP has no generic_nack. An illegal request whose response carries a result is answered with Result 2
"命令字错" (command word error, CMPP 3.0 §8.7.2); one whose response has no result field (QUERY,
ACTIVE_TEST before CONNECT) and anything with an unknown Command_Id leave closing as the only answer.
The ``"close"`` profile closes on every illegal request instead (reliability.md F7).
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Callable, Mapping
from types import MappingProxyType

from protocols.errors import LocalProtocolError, RemoteProtocolError
from protocols.session import Role, Rule, SequenceCounter, Session, Timing, ViolationKind

from . import pdus
from ._codec import frame_buffer
from .codes import ConnectStatus, SubmitResult, Version
from .pdus import PDU_TYPES, decode, encode

__all__ = [
    "DEFAULT_CLIENT_TIMING",
    "DEFAULT_SERVER_TIMING",
    "RULES",
    "CmppSession",
    "CmppState",
    "refusal",
]


class CmppState(enum.Enum):
    """Application-layer states of one CMPP connection."""

    #: TCP is up; CONNECT not yet accepted.
    OPEN = "OPEN"
    #: CONNECT_RESP with Status 0 was exchanged.
    CONNECTED = "CONNECTED"
    #: We sent TERMINATE and wait for TERMINATE_RESP.
    TERMINATING = "TERMINATING"
    CLOSED = "CLOSED"


_OPEN = frozenset({CmppState.OPEN})
_CONNECTED = frozenset({CmppState.CONNECTED})
_LIVE = frozenset({CmppState.CONNECTED, CmppState.TERMINATING})


#: Request rows; a response is legal exactly when it answers an outstanding request. A TERMINATE or an
#: ACTIVE_TEST that crosses our own TERMINATE is still answered (TERMINATING).
RULES: Mapping[int, Rule[CmppState]] = MappingProxyType({
    pdus.Connect.command_id: Rule(_OPEN, client=True, server=False),
    pdus.Terminate.command_id: Rule(_LIVE, client=True, server=True),
    pdus.Submit.command_id: Rule(_CONNECTED, client=True, server=False),
    pdus.Deliver.command_id: Rule(_CONNECTED, client=False, server=True),
    pdus.Query.command_id: Rule(_CONNECTED, client=True, server=False),
    pdus.Cancel.command_id: Rule(_CONNECTED, client=True, server=False),
    pdus.ActiveTest.command_id: Rule(_LIVE, client=True, server=True),
})

_COMMAND_WORD_ERROR = SubmitResult.COMMAND_WORD  # Result 2, CMPP 3.0 §8.4.3.2 / §8.4.5.2
_CANCEL_FAILED = 1  # CMPP 3.0 §8.4.7.2 Success_Id: 0 success, 1 failure
#: A second CONNECT on a connected link has no code of its own: Status 5 "其他错误" (other error).
_ILLEGAL_STATE_CODES: Mapping[type[pdus.CmppPdu], int] = MappingProxyType({pdus.Connect: ConnectStatus.OTHER})


def _refusals() -> Mapping[type[pdus.CmppPdu], Callable[[pdus.CmppPdu, int], pdus.CmppPdu]]:
    def submit(request: pdus.CmppPdu, code: int) -> pdus.CmppPdu:
        return pdus.SubmitResp(sequence_id=request.sequence_id, msg_id=0, result=code)

    def deliver(request: pdus.CmppPdu, code: int) -> pdus.CmppPdu:
        msg_id = request.msg_id if isinstance(request, pdus.Deliver) else 0
        return pdus.DeliverResp(sequence_id=request.sequence_id, msg_id=msg_id, result=code)

    def cancel(request: pdus.CmppPdu, _code: int) -> pdus.CmppPdu:
        return pdus.CancelResp(sequence_id=request.sequence_id, success_id=_CANCEL_FAILED)

    def connect(request: pdus.CmppPdu, code: int) -> pdus.CmppPdu:
        return pdus.ConnectResp(sequence_id=request.sequence_id, status=code)

    return MappingProxyType({pdus.Submit: submit, pdus.Deliver: deliver, pdus.Cancel: cancel,
                             pdus.Connect: connect})


_REFUSALS = _refusals()


def refusal(request: pdus.CmppPdu, code: int) -> pdus.CmppPdu | None:
    """The response that refuses ``request`` with result ``code``, or ``None`` when its response has
    no result field (then closing is the only refusal CMPP knows)."""
    build = _REFUSALS.get(type(request))
    return None if build is None else build(request, code)


class CmppProfile(enum.Enum):
    """What to do with a request the state table refuses."""

    #: Answer with Result 2 where the response has a result field; close otherwise.
    SPEC = "spec"
    #: Close the connection (what reliability.md F7 and several ISMGs do).
    CLOSE = "close"


#: CMPP 3.0 §7.1: ACTIVE_TEST after C = 180 s idle, T = 60 s response, N = 3 tries, window W = 16.
#: The 10 s a server waits for CONNECT is ours (reliability.md §6.2, slow-loris F8).
DEFAULT_SERVER_TIMING = Timing(keepalive_interval=180.0, response_timeout=60.0, keepalive_attempts=3,
                               window=16, peer_window=16, session_init_timeout=10.0)
DEFAULT_CLIENT_TIMING = dataclasses.replace(DEFAULT_SERVER_TIMING, session_init_timeout=None)

_SEQUENCE_LAST = 0xFFFFFFFF  # CMPP 3.0 §8.3: Sequence_Id is a wrapping 32-bit counter
_RESPONSE_BIT = 0x80000000  # CMPP 3.0 §8.7.1: Command_Id_RESP = Command_Id | 0x80000000


class CmppSession(Session[pdus.CmppPdu]):
    """One CMPP connection, either end. See :class:`protocols.session.Session` for the I/O contract.

    :param version: the client's CMPP version; for a server, the layout used before CONNECT settles it
        (only to refuse what a client sends too early).
    """

    def __init__(self, *, role: Role, now: float, version: Version = Version.V30,
                 timing: Timing | None = None, profile: CmppProfile | str = CmppProfile.SPEC,
                 max_frame: int | None = None, first_sequence: int = 1) -> None:
        if timing is None:
            timing = DEFAULT_SERVER_TIMING if role is Role.SERVER else DEFAULT_CLIENT_TIMING
        frames = frame_buffer() if max_frame is None else frame_buffer(max_frame)
        super().__init__(role=role, timing=timing, frames=frames,
                         sequence=SequenceCounter(last=_SEQUENCE_LAST, start=first_sequence), now=now)
        self.profile = CmppProfile(profile)
        self.state = CmppState.OPEN
        #: The layout in use; a server adopts the client's from its CONNECT.
        self.version = version
        #: Source_Addr (SP_Id) of the CONNECT, once received or sent.
        self.source_addr = ""

    # -- Session hooks ------------------------------------------------------------------------------

    def _decode(self, frame: bytes) -> pdus.CmppPdu:
        return decode(frame, self.version)

    def _encode(self, pdu: pdus.CmppPdu) -> bytes:
        return encode(pdu, self.version)

    def _sequence_of(self, pdu: pdus.CmppPdu) -> int:
        return pdu.sequence_id

    def _with_sequence(self, pdu: pdus.CmppPdu, sequence: int) -> pdus.CmppPdu:
        return dataclasses.replace(pdu, sequence_id=sequence)

    def _is_response(self, pdu: pdus.CmppPdu) -> bool:
        return pdu.command_id & _RESPONSE_BIT != 0

    def _expects_response(self, pdu: pdus.CmppPdu) -> bool:
        return True  # every CMPP request has a response (CMPP 3.0 §7.4: "应立即回送响应消息")

    def _keepalive_probe(self) -> pdus.CmppPdu | None:
        return pdus.ActiveTest() if self._may_probe() else None

    def _may_probe(self) -> bool:
        return self.state is CmppState.CONNECTED

    def _is_keepalive(self, pdu: pdus.CmppPdu) -> bool:
        return isinstance(pdu, pdus.ActiveTest)

    def _keepalive_response(self, probe: pdus.CmppPdu) -> pdus.CmppPdu:
        return pdus.ActiveTestResp(sequence_id=probe.sequence_id)

    def _awaiting_session_start(self) -> bool:
        return self.our_role is Role.SERVER and self.state is CmppState.OPEN

    def _check_inbound(self, pdu: pdus.CmppPdu) -> bytes | None:
        rule = RULES[pdu.command_id]
        their_role = Role.SERVER if self.our_role is Role.CLIENT else Role.CLIENT
        if rule.allows(self.state, their_role):
            self._advance(pdu)
            return None
        if isinstance(pdu, pdus.Terminate) and self.state is CmppState.OPEN:
            # Harmless: the peer wants to leave before it ever connected. Answer, then close.
            self.state = CmppState.CLOSED
            self._closed = True
            return encode(pdus.TerminateResp(sequence_id=pdu.sequence_id), self.version)
        code = _ILLEGAL_STATE_CODES.get(type(pdu), _COMMAND_WORD_ERROR)
        answer = refusal(pdu, code) if self.profile is CmppProfile.SPEC else None
        if answer is None:
            raise RemoteProtocolError(f"{pdu.command_name} not allowed in state {self.state.value}",
                                      code=None, command_id=pdu.command_id, sequence=pdu.sequence_id)
        return encode(answer, self.version)

    def _check_outbound(self, pdu: pdus.CmppPdu) -> None:
        if self._is_response(pdu):
            return
        rule = RULES[pdu.command_id]
        if not rule.issuer_ok(self.our_role):
            raise LocalProtocolError(f"{pdu.command_name} is not sent by the {self.our_role.value}")
        if self.state not in rule.states:
            raise LocalProtocolError(f"{pdu.command_name} is not allowed in state {self.state.value}")

    def _answer_error(self, error: RemoteProtocolError) -> bytes | None:
        if error.code is None or error.command_id is None:
            return None
        if error.command_id & _RESPONSE_BIT:
            return b""  # a malformed response is not answered: its request will time out
        request_type = _REQUEST_TYPES.get(error.command_id)
        if request_type is None:
            return None
        answer = refusal(request_type(sequence_id=error.sequence or 0), error.code)
        return None if answer is None else encode(answer, self.version)

    def _busy_answer(self, request: pdus.CmppPdu, kind: ViolationKind) -> bytes | None:
        # CMPP 3.0 §7.2 / §8.4.3.2: more than W unanswered requests is a flow-control error, Result 8; a
        # Sequence_Id reused while its request is unanswered is Result 3 "消息序号重复".
        code = SubmitResult.FLOW_CONTROL if kind is ViolationKind.WINDOW else SubmitResult.DUPLICATE_SEQUENCE
        answer = refusal(request, code)
        return None if answer is None else encode(answer, self.version)

    def _on_closed_by_response(self, pdu: pdus.CmppPdu) -> bool:
        # A refused CONNECT ends the connection (CMPP 3.0 §8.4.1: the SP must connect again).
        return isinstance(pdu, pdus.TerminateResp) or (isinstance(pdu, pdus.ConnectResp) and pdu.status != 0)

    # -- state machine ----------------------------------------------------------------------------

    def _advance(self, pdu: pdus.CmppPdu) -> None:
        """Apply the state change a legal PDU causes."""
        if isinstance(pdu, pdus.Connect):
            self.source_addr = pdu.source_addr
            if self.our_role is Role.SERVER:
                # Answer in the layout the client speaks; an unsupported Version gets Status 4 from the
                # gateway, in the nearest layout we have.
                self.version = Version.V30 if pdu.version >= Version.V30 else (
                    Version(pdu.version) if pdu.version in (Version.V20, Version.V21) else Version.V20)
        elif isinstance(pdu, pdus.ConnectResp):
            if pdu.status == 0 and self.state is CmppState.OPEN:
                self.state = CmppState.CONNECTED
            elif pdu.status != 0:
                self.state = CmppState.CLOSED
        elif isinstance(pdu, pdus.Terminate) and self.state is CmppState.CONNECTED:
            self.state = CmppState.TERMINATING
        elif isinstance(pdu, pdus.TerminateResp):
            self.state = CmppState.CLOSED


_REQUEST_TYPES: Mapping[int, type[pdus.CmppPdu]] = MappingProxyType(
    {command_id: PDU_TYPES[command_id] for command_id in RULES})
