"""The SMPP session state machine, for both ends of the link (ESME client, SMSC server).

The rules are SMPP v3.4 §2.3 Table 2-1 written as data: for every request, the states in which it is
legal and which end may issue it (:data:`RULES`), and the state changes a PDU causes
(:data:`BIND_STATES`, :func:`SmppSession._advance`). The tests sweep every (state, command, direction)
pair against an independent copy of the table in the spec's own words.

Where implementations disagree (reference smpp.md §4), the default :data:`PROFILES` entry ``"spec"``
follows the text of v3.4; the other entries reproduce what well-known stacks do, so that a partner can
certify against the behaviour its real SMSC shows.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from protocols.errors import LocalProtocolError, RemoteProtocolError
from protocols.framing import FramingError
from protocols.session import Role, Rule, SequenceCounter, Session, Timing, ViolationKind

from . import pdus
from ._codec import PDU_TYPES, decode, encode, frame_buffer
from .codes import CommandStatus

__all__ = [
    "BIND_STATES",
    "DEFAULT_CLIENT_TIMING",
    "DEFAULT_SERVER_TIMING",
    "PROFILES",
    "RULES",
    "PreBindAnswer",
    "Profile",
    "Rule",
    "SmppSession",
    "SmppState",
]


class SmppState(enum.Enum):
    """Session states of SMPP v3.4 §2.2 plus 5.0's UNBOUND (unbind sent or received, not yet closed)."""

    OPEN = "OPEN"
    BOUND_TX = "BOUND_TX"
    BOUND_RX = "BOUND_RX"
    BOUND_TRX = "BOUND_TRX"
    UNBOUND = "UNBOUND"
    CLOSED = "CLOSED"


_OPEN = frozenset({SmppState.OPEN})
_TX = frozenset({SmppState.BOUND_TX, SmppState.BOUND_TRX})
_RX = frozenset({SmppState.BOUND_RX, SmppState.BOUND_TRX})
_BOUND = _TX | _RX


#: SMPP v3.4 Table 2-1, request rows (a response is legal exactly when it answers an outstanding request).
#: replace_sm: the table lists BOUND_TX only; §2.2 says a transceiver has "the complete set" of
#: transmitter operations, so BOUND_TRX is included. broadcast_sm and its query/cancel (5.0 §4.6) are
#: transmitter operations like submit_sm.
RULES: Mapping[int, Rule[SmppState]] = MappingProxyType({
    pdus.BindTransmitter.command_id: Rule(_OPEN, client=True, server=False),
    pdus.BindReceiver.command_id: Rule(_OPEN, client=True, server=False),
    pdus.BindTransceiver.command_id: Rule(_OPEN, client=True, server=False),
    pdus.Outbind.command_id: Rule(_OPEN, client=False, server=True),
    pdus.Unbind.command_id: Rule(_BOUND, client=True, server=True),
    pdus.SubmitSm.command_id: Rule(_TX, client=True, server=False),
    pdus.SubmitMulti.command_id: Rule(_TX, client=True, server=False),
    pdus.DataSm.command_id: Rule(_BOUND, client=True, server=True),
    pdus.DeliverSm.command_id: Rule(_RX, client=False, server=True),
    pdus.QuerySm.command_id: Rule(_TX, client=True, server=False),
    pdus.CancelSm.command_id: Rule(_TX, client=True, server=False),
    pdus.ReplaceSm.command_id: Rule(_TX, client=True, server=False),
    pdus.EnquireLink.command_id: Rule(_BOUND, client=True, server=True),
    pdus.AlertNotification.command_id: Rule(_RX, client=False, server=True),
    pdus.BroadcastSm.command_id: Rule(_TX, client=True, server=False),
    pdus.QueryBroadcastSm.command_id: Rule(_TX, client=True, server=False),
    pdus.CancelBroadcastSm.command_id: Rule(_TX, client=True, server=False),
})

#: The state a successful bind response leads to (SMPP v3.4 §2.2).
BIND_STATES: Mapping[int, SmppState] = MappingProxyType({
    pdus.BindTransmitterResp.command_id: SmppState.BOUND_TX,
    pdus.BindReceiverResp.command_id: SmppState.BOUND_RX,
    pdus.BindTransceiverResp.command_id: SmppState.BOUND_TRX,
})

_BINDS = frozenset({pdus.BindTransmitter.command_id, pdus.BindReceiver.command_id,
                    pdus.BindTransceiver.command_id})
_NO_RESPONSE = frozenset({pdus.Outbind.command_id, pdus.AlertNotification.command_id})


class PreBindAnswer(enum.Enum):
    """How a server answers a request that its state does not allow (smpp.md §4, first row)."""

    #: ``<command>_resp`` carrying ESME_RINVBNDSTS (SMPPSim, Melrose, ukarim; v3.4 Table 5-2's wording).
    RESPONSE = "response"
    #: ``generic_nack`` carrying ESME_RINVBNDSTS (cloudhopper's simulator).
    GENERIC_NACK = "generic_nack"
    #: Close the connection without an answer (cloudhopper's and jSMPP's servers).
    CLOSE = "close"


@dataclass(frozen=True, slots=True)
class Profile:
    """Answers to the situations where SMPP stacks disagree."""

    name: str
    #: Answer to a request that is illegal in the current state.
    illegal_state: PreBindAnswer
    #: Status for a bind on a session that is already bound (RALYBND by name; some answer RINVBNDSTS).
    rebind_status: int
    #: Whether enquire_link is answered before bind and after unbind (SMPP 5.0 §2.4 allows it).
    enquire_link_unbound: bool


#: Named behaviour profiles; ``"spec"`` is the default.
PROFILES: Mapping[str, Profile] = MappingProxyType({
    "spec": Profile("spec", PreBindAnswer.RESPONSE, CommandStatus.ESME_RALYBND, enquire_link_unbound=False),
    "smpp50": Profile("smpp50", PreBindAnswer.RESPONSE, CommandStatus.ESME_RALYBND, enquire_link_unbound=True),
    "cloudhopper": Profile("cloudhopper", PreBindAnswer.GENERIC_NACK, CommandStatus.ESME_RINVBNDSTS,
                           enquire_link_unbound=True),
    "jsmpp": Profile("jsmpp", PreBindAnswer.CLOSE, CommandStatus.ESME_RALYBND, enquire_link_unbound=True),
    "smppsim": Profile("smppsim", PreBindAnswer.RESPONSE, CommandStatus.ESME_RINVBNDSTS,
                       enquire_link_unbound=False),
})

#: Server defaults: enquire_link after 30 s of silence (Kannel, Jasmin, smpp34), 30 s response timer,
#: three probes, window 10 (v3.4 §2.5.2 note), 10 s to bind (reliability.md §6.2).
DEFAULT_SERVER_TIMING = Timing(keepalive_interval=30.0, response_timeout=30.0, keepalive_attempts=3,
                               window=10, peer_window=10, session_init_timeout=10.0)
#: Client defaults: as the server, without the bind timer.
DEFAULT_CLIENT_TIMING = dataclasses.replace(DEFAULT_SERVER_TIMING, session_init_timeout=None)

_SEQUENCE_LAST = 0x7FFFFFFF  # SMPP v3.4 §5.1.4
_RESPONSE_BIT = 0x80000000  # v3.4 §5.1.2.1: a response's command_id is the request's with bit 31 set


class SmppSession(Session[pdus.SmppPdu]):
    """One SMPP connection, either end. See :class:`protocols.session.Session` for the I/O contract."""

    def __init__(self, *, role: Role, now: float, timing: Timing | None = None,
                 profile: Profile | str = "spec", max_frame: int | None = None,
                 first_sequence: int = 1) -> None:
        if timing is None:
            timing = DEFAULT_SERVER_TIMING if role is Role.SERVER else DEFAULT_CLIENT_TIMING
        frames = frame_buffer() if max_frame is None else frame_buffer(max_frame)
        super().__init__(role=role, timing=timing, frames=frames,
                         sequence=SequenceCounter(last=_SEQUENCE_LAST, start=first_sequence), now=now)
        self.profile = PROFILES[profile] if isinstance(profile, str) else profile
        self.state = SmppState.OPEN
        #: interface_version the peer's bind announced (0 until bound); v3.4 §3.3: no TLVs below 0x34.
        self.peer_interface_version = 0
        #: system_id of the bind, once bound.
        self.system_id = ""

    # -- Session hooks ------------------------------------------------------------------------------

    def _decode(self, frame: bytes) -> pdus.SmppPdu:
        return decode(frame)

    def _encode(self, pdu: pdus.SmppPdu) -> bytes:
        return encode(pdu)

    def _sequence_of(self, pdu: pdus.SmppPdu) -> int:
        return pdu.sequence_number

    def _with_sequence(self, pdu: pdus.SmppPdu, sequence: int) -> pdus.SmppPdu:
        return dataclasses.replace(pdu, sequence_number=sequence)

    def _is_response(self, pdu: pdus.SmppPdu) -> bool:
        return pdu.command_id & _RESPONSE_BIT != 0

    def _expects_response(self, pdu: pdus.SmppPdu) -> bool:
        return pdu.command_id not in _NO_RESPONSE

    def _keepalive_probe(self) -> pdus.SmppPdu | None:
        return pdus.EnquireLink() if self._may_probe() else None

    def _may_probe(self) -> bool:
        return self.state in _BOUND

    def _is_keepalive(self, pdu: pdus.SmppPdu) -> bool:
        return isinstance(pdu, pdus.EnquireLink)

    def _keepalive_response(self, probe: pdus.SmppPdu) -> pdus.SmppPdu:
        return pdus.EnquireLinkResp(sequence_number=probe.sequence_number)

    def _awaiting_session_start(self) -> bool:
        return self.our_role is Role.SERVER and self.state is SmppState.OPEN

    def _check_inbound(self, pdu: pdus.SmppPdu) -> bytes | None:
        if isinstance(pdu, pdus.EnquireLink) and self.profile.enquire_link_unbound \
                and self.state in (SmppState.OPEN, SmppState.UNBOUND):
            return None
        rule = RULES[pdu.command_id]
        their_role = Role.SERVER if self.our_role is Role.CLIENT else Role.CLIENT
        if rule.allows(self.state, their_role):
            self._advance(pdu)
            return None
        if pdu.command_id in _BINDS and self.state is not SmppState.OPEN:
            status = self.profile.rebind_status
        else:
            status = CommandStatus.ESME_RINVBNDSTS
        return self._refuse(pdu, status)

    def _check_outbound(self, pdu: pdus.SmppPdu) -> None:
        if self._is_response(pdu):
            return
        if isinstance(pdu, pdus.EnquireLink) and self.profile.enquire_link_unbound:
            return
        rule = RULES[pdu.command_id]
        if not rule.issuer_ok(self.our_role):
            raise LocalProtocolError(f"{pdu.command_name} is not sent by the {self.our_role.value}")
        if self.state not in rule.states:
            raise LocalProtocolError(f"{pdu.command_name} is not allowed in state {self.state.value}")

    def _answer_error(self, error: RemoteProtocolError) -> bytes | None:
        # v3.4 §2.8: a header error (length, unknown command) is answered with generic_nack, a body
        # error with the command's own response carrying the status.
        if error.code is None:
            return None
        command_id = error.command_id
        sequence = error.sequence or 0
        known = command_id in PDU_TYPES
        if known and command_id is not None and command_id & _RESPONSE_BIT:
            return b""  # a malformed response is not answered: its request will time out
        if known and command_id is not None and command_id not in _NO_RESPONSE \
                and not isinstance(error, FramingError):
            return encode(_error_response(command_id, sequence, error.code))
        return encode(pdus.GenericNack(command_status=error.code, sequence_number=sequence))

    def _busy_answer(self, request: pdus.SmppPdu, kind: ViolationKind) -> bytes | None:
        # Over the window: ESME_RMSGQFUL, the SMSC's queue for this ESME is full (v3.4 Table 5-2). A reused
        # sequence number has no code of its own; ESME_RUNKNOWNERR as smpp.twisted answers it.
        status = CommandStatus.ESME_RMSGQFUL if kind is ViolationKind.WINDOW else CommandStatus.ESME_RUNKNOWNERR
        return encode(_error_response(request.command_id, request.sequence_number, status))

    def _on_closed_by_response(self, pdu: pdus.SmppPdu) -> bool:
        # Only unbind_resp ends an SMPP session; a failed bind leaves it OPEN so the ESME may try again
        # (v3.4 §4.1 bind fallback).
        return isinstance(pdu, pdus.UnbindResp)

    # -- state machine ----------------------------------------------------------------------------

    def _advance(self, pdu: pdus.SmppPdu) -> None:
        """Apply the state change a legal PDU causes (SMPP v3.4 §2.2)."""
        if pdu.command_id in _BINDS:
            assert isinstance(pdu, pdus.BindTransmitter | pdus.BindReceiver | pdus.BindTransceiver)
            self.system_id = pdu.system_id
            if self.our_role is Role.SERVER:
                self.peer_interface_version = pdu.interface_version
        elif pdu.command_id in BIND_STATES:
            if pdu.command_status == CommandStatus.ESME_ROK and self.state is SmppState.OPEN:
                self.state = BIND_STATES[pdu.command_id]
        elif isinstance(pdu, pdus.Unbind):
            self.state = SmppState.UNBOUND
        elif isinstance(pdu, pdus.UnbindResp):
            self.state = SmppState.CLOSED

    def _refuse(self, pdu: pdus.SmppPdu, status: int) -> bytes:
        """The answer to a request the state table refuses, as the profile says."""
        if self.profile.illegal_state is PreBindAnswer.CLOSE:
            raise RemoteProtocolError(f"{pdu.command_name} not allowed in state {self.state.value}",
                                      code=None, command_id=pdu.command_id, sequence=pdu.sequence_number)
        if self.profile.illegal_state is PreBindAnswer.GENERIC_NACK or pdu.command_id in _NO_RESPONSE:
            return encode(pdus.GenericNack(command_status=status, sequence_number=pdu.sequence_number))
        return encode(_error_response(pdu.command_id, pdu.sequence_number, status))


def _error_response(command_id: int, sequence: int, status: int) -> pdus.SmppPdu:
    """``<command>_resp`` with a status and no body (SMPP v3.4 §4.4.2 and its siblings)."""
    response_type = PDU_TYPES[command_id | _RESPONSE_BIT]
    return response_type(command_status=status, sequence_number=sequence)
