"""The machinery every sans-IO session shares: framing, sequence numbers, windows, timers, keep-alive.

Theory of operation
-------------------
A session owns no socket and no clock. A driver (asyncio server, gevent Locust user, a test wiring two
sessions back to back) feeds it what arrived with :meth:`Session.receive_data` and the current time, and
gets back a list of events: the PDUs the application must act on, and the few things the protocol itself
has to report (:class:`ResponseTimeout`, :class:`KeepAliveAnswered`, :class:`PeerViolation`,
:class:`Disconnect`). Whatever the protocol answers on its own (a keep-alive response, the status for an
illegal PDU, the throttle answer to a peer that overruns the window) is queued and collected with
:meth:`Session.data_to_send`, which the driver writes *before* acting on the events, so the wire keeps
the order in which things happened. The application's own PDUs go out through :meth:`Session.send`,
which returns their bytes.

Timers follow aioquic: :meth:`Session.next_timer` says when the session next needs attention and
:meth:`Session.handle_timer` is called at (or after) that time. Keep-alive probes, their retries, the
response timeout of every request we sent, the time a server waits for the first bind, and inactivity
are all deadlines held here.

What is legal in which state is *not* decided here: each protocol gives a table (SMPP v3.4 Table 2-1;
CMPP 3.0 §7/§8) through :meth:`Session._check_inbound` and :meth:`Session._check_outbound`.
"""

from __future__ import annotations

import enum
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Generic, TypeVar

from .errors import LocalProtocolError, RemoteProtocolError
from .framing import FrameBuffer

__all__ = [
    "Disconnect",
    "KeepAliveAnswered",
    "PeerViolation",
    "ResponseTimeout",
    "Role",
    "Rule",
    "SequenceCounter",
    "Session",
    "SessionEvent",
    "Timing",
    "ViolationKind",
]

PduT = TypeVar("PduT")
StateT = TypeVar("StateT", bound=enum.Enum)


class Role(enum.Enum):
    """Which end of the link this session plays."""

    #: The partner side: SMPP ESME, CMPP SP.
    CLIENT = "client"
    #: The carrier side: SMPP SMSC (MC), CMPP ISMG.
    SERVER = "server"


@dataclass(frozen=True, slots=True)
class Rule(Generic[StateT]):
    """One row of a session table: the states in which a request is legal and which end may send it
    (SMPP v3.4 Table 2-1; CMPP 3.0 §8.4 gives each command its direction)."""

    states: frozenset[StateT]
    #: The partner's end may send it (SMPP ESME, CMPP SP).
    client: bool
    #: The carrier's end may send it (SMPP SMSC, CMPP ISMG).
    server: bool

    def issuer_ok(self, role: Role) -> bool:
        """Whether the end playing ``role`` may send this request."""
        return self.client if role is Role.CLIENT else self.server

    def allows(self, state: StateT, sender: Role) -> bool:
        """Whether ``sender`` may send this request in ``state``."""
        return state in self.states and self.issuer_ok(sender)


@dataclass(frozen=True, slots=True)
class ResponseTimeout(Generic[PduT]):
    """A request we sent got no response within the response timer (SMPP v3.4 §7.2 response_timer)."""

    request: PduT


@dataclass(frozen=True, slots=True)
class KeepAliveAnswered:
    """The peer answered our keep-alive probe (enquire_link / CMPP_ACTIVE_TEST) after ``rtt`` seconds."""

    rtt: float


class ViolationKind(enum.Enum):
    """What the peer did wrong; the compliance monitor and the audit log group violations by it."""

    #: A frame whose length or body does not decode.
    MALFORMED = "malformed"
    #: A request the state table refuses (SMPP v3.4 Table 2-1; CMPP before CONNECT).
    ILLEGAL_STATE = "illegal_state"
    #: More requests awaiting an answer than the window allows (CMPP W; SMPP §2.5.2).
    WINDOW = "window"
    #: A request reusing the sequence number of one that still awaits its answer.
    DUPLICATE_SEQUENCE = "duplicate_sequence"
    #: A response to no request of ours.
    UNEXPECTED_RESPONSE = "unexpected_response"


@dataclass(frozen=True, slots=True)
class PeerViolation:
    """The peer broke the protocol; ``answered`` says whether an in-band answer was queued."""

    kind: ViolationKind
    error: RemoteProtocolError
    answered: bool


@dataclass(frozen=True, slots=True)
class Disconnect:
    """The connection must be closed once :meth:`Session.data_to_send` has been written."""

    reason: str


SessionEvent = ResponseTimeout[PduT] | KeepAliveAnswered | PeerViolation | Disconnect

_BUSY_MESSAGES = {ViolationKind.WINDOW: "peer exceeded the window",
                  ViolationKind.DUPLICATE_SEQUENCE: "sequence number reused while its request is unanswered"}


class SequenceCounter:
    """Sequence numbers from ``first`` to ``last`` inclusive, wrapping back to ``first``.

    SMPP v3.4 §5.1.4 allows 0x00000001-0x7FFFFFFF; CMPP's Sequence_Id is a 32-bit counter that wraps
    (CMPP 3.0 §8.3). Zero is never issued: several peers treat it as "no sequence".
    """

    __slots__ = ("_next", "first", "last")

    def __init__(self, *, first: int = 1, last: int, start: int | None = None) -> None:
        self.first = first
        self.last = last
        self._next = first if start is None else start

    def __next__(self) -> int:
        value = self._next
        self._next = self.first if value >= self.last else value + 1
        return value

    def peek(self) -> int:
        """The number :func:`next` will return."""
        return self._next


@dataclass(frozen=True, slots=True)
class Timing:
    """Timers and windows of one session; every value can be configured (SMPP v3.4 §7.2, CMPP 3.0 §7.1).

    Defaults are set by each protocol (CMPP: C=180 s, T=60 s, N=3, W=16).
    """

    #: Send a keep-alive probe after this many seconds without receiving anything; ``None``: never.
    keepalive_interval: float | None
    #: Seconds to wait for the response to any request we sent.
    response_timeout: float
    #: Probes sent in all before the link is declared dead (CMPP "N").
    keepalive_attempts: int
    #: Requests we may have outstanding at once (our window towards the peer).
    window: int
    #: Requests the peer may have outstanding at once; one more gets the protocol's throttle answer.
    peer_window: int
    #: A server closes a connection that has not bound/connected within this many seconds; ``None``: never.
    session_init_timeout: float | None = None
    #: Close after this many seconds with nothing received at all; ``None``: never.
    inactivity_timeout: float | None = None


@dataclass(slots=True)
class _Pending(Generic[PduT]):
    request: PduT
    sent_at: float
    deadline: float


class Session(ABC, Generic[PduT]):
    """Shared body of the SMPP and CMPP sessions; see the module docstring for the contract."""

    def __init__(self, *, role: Role, timing: Timing, frames: FrameBuffer, sequence: SequenceCounter,
                 now: float) -> None:
        self.our_role = role
        self.timing = timing
        self._frames = frames
        self._sequence = sequence
        self._outbox = bytearray()
        #: Requests we sent that await a response, by sequence number.
        self._ours: dict[int, _Pending[PduT]] = {}
        #: Requests the peer sent that the application has not answered yet, by sequence number.
        self._theirs: dict[int, PduT] = {}
        self._last_received = now
        self._opened_at = now
        self._probe: _Pending[PduT] | None = None
        self._probes_sent = 0
        self._closed = False

    # -- what subclasses provide ------------------------------------------------------------------

    @abstractmethod
    def _decode(self, frame: bytes) -> PduT: ...

    @abstractmethod
    def _encode(self, pdu: PduT) -> bytes: ...

    @abstractmethod
    def _sequence_of(self, pdu: PduT) -> int: ...

    @abstractmethod
    def _with_sequence(self, pdu: PduT, sequence: int) -> PduT: ...

    @abstractmethod
    def _is_response(self, pdu: PduT) -> bool: ...

    @abstractmethod
    def _expects_response(self, pdu: PduT) -> bool:
        """Whether a request PDU is answered (SMPP outbind and alert_notification are not)."""

    @abstractmethod
    def _keepalive_probe(self) -> PduT | None:
        """A fresh keep-alive request, or ``None`` when the state allows none."""

    @abstractmethod
    def _may_probe(self) -> bool:
        """Whether the state allows a keep-alive probe (asked at every read and write: builds nothing)."""

    @abstractmethod
    def _is_keepalive(self, pdu: PduT) -> bool:
        """Whether a request is the keep-alive probe, which the session answers itself."""

    @abstractmethod
    def _check_inbound(self, pdu: PduT) -> bytes | None:
        """Apply the state table to a received request.

        Returns ``None`` when the request is legal (after moving the state machine), or the bytes to answer
        with when it is not. Raises :class:`RemoteProtocolError` (code ``None``) when the only answer is
        to close.
        """

    @abstractmethod
    def _check_outbound(self, pdu: PduT) -> None:
        """Check a PDU we send against the state table; raise :class:`LocalProtocolError` when illegal.

        Changes nothing: :meth:`_advance` applies the PDU once it has been encoded."""

    @abstractmethod
    def _advance(self, pdu: PduT) -> None:
        """Apply the state change a legal PDU causes."""

    @abstractmethod
    def _answer_error(self, error: RemoteProtocolError) -> bytes | None:
        """The answer to a PDU that failed to decode: bytes to send (empty: nothing, the session goes
        on), or ``None`` when the connection must be closed."""

    @abstractmethod
    def _busy_answer(self, request: PduT, kind: ViolationKind) -> bytes | None:
        """The refusal of a request beyond ``peer_window`` (``WINDOW``) or reusing the sequence number of
        one still unanswered (``DUPLICATE_SEQUENCE``); ``None`` if the PDU has no way to carry one."""

    @abstractmethod
    def _on_closed_by_response(self, pdu: PduT) -> bool:
        """Whether sending or receiving this PDU ends the session (unbind_resp, TERMINATE_RESP)."""

    # -- public API -------------------------------------------------------------------------------

    @property
    def closed(self) -> bool:
        """True once the session is over; the driver closes the connection after a last write."""
        return self._closed

    @property
    def outstanding(self) -> int:
        """Requests we sent that await a response (keep-alive probes excluded)."""
        return len(self._ours)

    @property
    def can_send_request(self) -> bool:
        """Whether our window has room for one more request."""
        return len(self._ours) < self.timing.window

    @property
    def awaiting_answer(self) -> int:
        """Requests the peer sent that the application has not answered yet."""
        return len(self._theirs)

    def next_sequence(self) -> int:
        """Reserve the next sequence number for a request the caller is about to build."""
        return next(self._sequence)

    def forget(self, request: object) -> None:
        """Stop waiting to answer ``request``: the application decided it will never answer it (an outage
        that swallows requests), so it must not hold the peer's window any more."""
        if not isinstance(request, (ResponseTimeout, KeepAliveAnswered, PeerViolation, Disconnect)):
            sequence = self._sequence_of(request)  # type: ignore[arg-type]
            if self._theirs.get(sequence) is request:
                del self._theirs[sequence]

    def data_to_send(self) -> bytes:
        """Everything the session queued on its own since the last call (answers, probes)."""
        data = bytes(self._outbox)
        self._outbox.clear()
        return data

    def receive_data(self, data: bytes, now: float) -> list[PduT | SessionEvent[PduT]]:
        """Feed bytes read from the connection; return the events they complete, in order."""
        if self._closed:
            return []
        self._last_received = now
        events: list[PduT | SessionEvent[PduT]] = []
        try:
            frames = self._frames.feed(data)
        except RemoteProtocolError as error:
            return self._fatal(error, events)
        for frame in frames:
            self._receive_frame(frame, now, events)
            if self._closed:
                break
        return events

    def send(self, pdu: PduT, now: float) -> bytes:
        """Encode a PDU of ours, after checking it against the state table and the windows.

        A request whose sequence number is 0 gets the next one from the counter. A response must answer
        a request the peer is still waiting on.
        """
        if self._closed:
            raise LocalProtocolError("session is closed")
        sequence = self._sequence_of(pdu)
        is_response = self._is_response(pdu)
        awaits_response = not is_response and self._expects_response(pdu)
        if is_response and sequence not in self._theirs:
            raise LocalProtocolError("no request with this sequence number awaits a response")
        if awaits_response:
            if not self.can_send_request:
                raise LocalProtocolError("window is full")
            if sequence == 0:
                sequence = next(self._sequence)
                pdu = self._with_sequence(pdu, sequence)
            if sequence in self._ours:
                raise LocalProtocolError("a request with this sequence number is already outstanding")
        self._check_outbound(pdu)
        data = self._encode(pdu)
        # Only now that the PDU is known to be legal and encodable does anything change.
        self._advance(pdu)
        if is_response:
            del self._theirs[sequence]
        elif awaits_response:
            self._ours[sequence] = _Pending(pdu, now, now + self.timing.response_timeout)
        if self._on_closed_by_response(pdu):
            self._closed = True
        return data

    def next_timer(self) -> float | None:
        """When :meth:`handle_timer` should next be called, or ``None`` when nothing is due."""
        if self._closed:
            return None
        deadlines = [pending.deadline for pending in self._ours.values()]
        if self._probe is not None:
            deadlines.append(self._probe.deadline)
        elif self.timing.keepalive_interval is not None and self._may_probe():
            deadlines.append(self._last_received + self.timing.keepalive_interval)
        if self.timing.inactivity_timeout is not None:
            deadlines.append(self._last_received + self.timing.inactivity_timeout)
        init_deadline = self._session_init_deadline()
        if init_deadline is not None:
            deadlines.append(init_deadline)
        return min(deadlines, default=None)

    def handle_timer(self, now: float) -> list[PduT | SessionEvent[PduT]]:
        """Act on every deadline that has passed by ``now``."""
        events: list[PduT | SessionEvent[PduT]] = []
        if self._closed:
            return events
        init_deadline = self._session_init_deadline()
        if init_deadline is not None and now >= init_deadline:
            self._closed = True
            events.append(Disconnect("no bind within the session init timer"))
            return events
        if (self.timing.inactivity_timeout is not None
                and now >= self._last_received + self.timing.inactivity_timeout):
            self._closed = True
            events.append(Disconnect("inactivity timer expired"))
            return events
        for sequence, pending in list(self._ours.items()):
            if now >= pending.deadline:
                del self._ours[sequence]
                events.append(ResponseTimeout(pending.request))
        self._keepalive(now, events)
        return events

    # -- internals --------------------------------------------------------------------------------

    def _session_init_deadline(self) -> float | None:
        if self.timing.session_init_timeout is None or not self._awaiting_session_start():
            return None
        return self._opened_at + self.timing.session_init_timeout

    def _awaiting_session_start(self) -> bool:
        """True while a server still waits for the peer's bind/CONNECT; subclasses refine."""
        return False

    def _keepalive(self, now: float, events: list[PduT | SessionEvent[PduT]]) -> None:
        interval = self.timing.keepalive_interval
        if interval is None:
            return
        if self._probe is not None:
            if now < self._probe.deadline:
                return
            if self._probes_sent >= self.timing.keepalive_attempts:
                self._closed = True
                events.append(Disconnect(f"no answer to {self._probes_sent} keep-alive probes"))
                return
            # CMPP 3.0 §7.1: no response within T -> resend at once, up to N tries in all.
            self._send_probe(now)
            return
        if now >= self._last_received + interval:
            self._send_probe(now)

    def _send_probe(self, now: float) -> None:
        probe = self._keepalive_probe()
        if probe is None:
            return
        probe = self._with_sequence(probe, next(self._sequence))
        self._outbox += self._encode(probe)
        self._probe = _Pending(probe, now, now + self.timing.response_timeout)
        self._probes_sent += 1

    def _fatal(self, error: RemoteProtocolError, events: list[PduT | SessionEvent[PduT]],
               kind: ViolationKind = ViolationKind.MALFORMED) -> list[PduT | SessionEvent[PduT]]:
        answer = self._answer_error(error)
        if answer:
            self._outbox += answer
        events.append(PeerViolation(kind, error, answered=bool(answer)))
        events.append(Disconnect(error.message))
        self._closed = True
        return events

    def _receive_frame(self, frame: bytes, now: float, events: list[PduT | SessionEvent[PduT]]) -> None:
        try:
            pdu = self._decode(frame)
        except RemoteProtocolError as error:
            answer = self._answer_error(error)
            if answer is None:
                self._fatal(error, events)
                return
            self._outbox += answer
            events.append(PeerViolation(ViolationKind.MALFORMED, error, answered=bool(answer)))
            return
        sequence = self._sequence_of(pdu)
        if self._is_response(pdu):
            self._receive_response(pdu, sequence, now, events)
            return
        try:
            refusal = self._check_inbound(pdu)
        except RemoteProtocolError as error:
            self._fatal(error, events, ViolationKind.ILLEGAL_STATE)
            return
        if refusal is not None:
            self._outbox += refusal
            events.append(PeerViolation(ViolationKind.ILLEGAL_STATE, RemoteProtocolError(
                "request not allowed in this state", code=None, sequence=sequence), answered=True))
            return
        if self._is_keepalive(pdu):
            self._outbox += self._encode(self._keepalive_response(pdu))
            return
        if self._expects_response(pdu):
            busy = (ViolationKind.DUPLICATE_SEQUENCE if sequence in self._theirs
                    else ViolationKind.WINDOW if len(self._theirs) >= self.timing.peer_window else None)
            if busy is not None:
                answer = self._busy_answer(pdu, busy)
                if answer is not None:
                    self._outbox += answer
                    events.append(PeerViolation(busy, RemoteProtocolError(
                        _BUSY_MESSAGES[busy], code=None, sequence=sequence), answered=True))
                    return
            self._theirs[sequence] = pdu
        events.append(pdu)

    def _receive_response(self, pdu: PduT, sequence: int, now: float,
                          events: list[PduT | SessionEvent[PduT]]) -> None:
        probe = self._probe
        if probe is not None and self._sequence_of(probe.request) == sequence:
            self._probe = None
            self._probes_sent = 0
            events.append(KeepAliveAnswered(now - probe.sent_at))
            return
        if self._ours.pop(sequence, None) is None:
            events.append(PeerViolation(ViolationKind.UNEXPECTED_RESPONSE, RemoteProtocolError(
                "response matches no outstanding request", code=None, sequence=sequence), answered=False))
            return
        # A response is legal exactly when it answers one of our requests; it may still move the state.
        self._advance(pdu)
        events.append(pdu)
        if self._on_closed_by_response(pdu):
            self._closed = True
            events.append(Disconnect("session ended"))

    @abstractmethod
    def _keepalive_response(self, probe: PduT) -> PduT:
        """The answer to the peer's keep-alive probe (same sequence number)."""
