"""Gevent drivers for the sans-IO SMPP and CMPP client sessions: what a Locust user talks to the gateway with.

Theory of operation
-------------------
Locust runs on gevent, and asyncio cannot run inside it (shared/reference/ecosystem.md A1.9), so this is the
third driver of the same :mod:`protocols` sessions the simulator and the tests use: a cooperative socket, one
*reader* greenlet that feeds :meth:`Session.receive_data`, and one *timer* greenlet that calls
:meth:`Session.handle_timer` (keep-alive probes, response timeouts). Whatever the session queues on its own
(keep-alive answers, refusals) is written before the events are acted on, as the session contract asks.

Submits are pipelined: :meth:`GatewayClient.submit` returns as soon as the PDU is written and blocks only while
the window is full. The response is matched to its request by sequence number in the reader, which then
reports it through ``on_request`` (the signature of Locust's ``events.request.fire``) with the time from send to
response. A receipt is matched by message id, across every client of the process through a shared
:class:`ReceiptBook`, because the gateway hands a receipt to whichever session of the account is free.

Failures carry the protocol's status only (``ESME_RTHROTTLED``, ``Result=8 ...``): Locust groups failures by
their text, and a sequence number or message id in it would make one row per message.
"""

from __future__ import annotations

import logging
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, ClassVar, Generic, Protocol, TypeVar

import gevent
from gevent import socket
from gevent.event import AsyncResult, Event

from protocols import cmpp, smpp
from protocols import text as sms_text
from protocols.cmpp.codes import CONNECT_STATUS_TEXT, SUBMIT_RESULT_TEXT
from protocols.cmpp.session import CmppSession
from protocols.errors import ProtocolError
from protocols.framing import FrameBuffer
from protocols.session import (
    Disconnect,
    KeepAliveAnswered,
    PeerViolation,
    ResponseTimeout,
    Role,
    Session,
    SessionEvent,
    Timing,
)
from protocols.smpp.session import SmppSession

__all__ = [
    "BindError",
    "CmppClient",
    "ConnectionLostError",
    "GatewayClient",
    "GatewayError",
    "Message",
    "ReceiptBook",
    "ReceiptError",
    "RequestHook",
    "ResponseTimeoutError",
    "Settings",
    "SmppClient",
    "SubmitError",
]

log = logging.getLogger(__name__)

PduT = TypeVar("PduT")

#: The timer greenlet looks at the session at least this often: a request sent while it sleeps may carry an
#: earlier deadline than the one it went to sleep for.
_TIMER_TICK = 0.5
_RECV_SIZE = 65536
#: How long a closing connection waits for its last queued bytes to be written.
_LAST_WRITE_SECONDS = 1.0
#: Receipts still awaited beyond this many are forgotten, oldest first, so that a gateway that never sends them
#: cannot grow a long run's memory without bound.
_RECEIPT_BOOK_LIMIT = 500_000


class RequestHook(Protocol):
    """What receives one measurement: Locust's ``environment.events.request.fire`` has this shape."""

    def __call__(self, *, request_type: str, name: str, response_time: float, response_length: int,
                 exception: Exception | None, context: dict[str, Any], start_time: float) -> None: ...


class GatewayError(Exception):
    """A failed request as Locust reports it; the text is the protocol's status, never an id."""


class SubmitError(GatewayError):
    """The gateway answered a submit with an error status."""


class BindError(GatewayError):
    """The gateway refused the bind / CONNECT, or the connection could not be opened."""


class ResponseTimeoutError(GatewayError):
    """No response within the session's response timer."""


class ConnectionLostError(GatewayError):
    """The connection ended while a request awaited its response."""


class ReceiptError(GatewayError):
    """A receipt reported a final state other than delivered (``UNDELIV``, ``EXPIRED``...)."""


@dataclass(frozen=True, slots=True)
class Settings:
    """Where and as whom a client connects, and its session's timers."""

    host: str
    port: int
    system_id: str
    password: str
    #: Requests left unanswered at most; keep it at or below the contract's window.
    window: int
    cmpp_version: cmpp.Version = cmpp.Version.V30
    response_timeout: float = 30.0
    keepalive_interval: float | None = 30.0


@dataclass(frozen=True, slots=True)
class Message:
    """One submit to one recipient; ``content`` is already encoded in ``encoding``."""

    destination: str
    content: bytes
    encoding: sms_text.Encoding
    #: The caller number: a service code of the account (SMPP source_addr, CMPP Src_Id).
    source: str
    receipt: bool = True
    #: CMPP Service_Id; SMPP has no such field.
    service_id: str = ""


@dataclass(slots=True)
class _Sent:
    """A submit awaiting its response."""

    started: float  # perf_counter(), for the response time
    start_time: float  # wall clock, for Locust's start_time
    wants_receipt: bool


@dataclass(slots=True)
class _Awaited:
    """A message awaiting its receipt."""

    request_type: str
    started: float
    start_time: float
    context: dict[str, Any]


class ReceiptBook:
    """Messages awaiting a receipt, by message id; one per process, shared by every client in it."""

    def __init__(self, limit: int = _RECEIPT_BOOK_LIMIT) -> None:
        self._awaited: dict[str, _Awaited] = {}
        self._limit = limit

    def __len__(self) -> int:
        return len(self._awaited)

    def expect(self, message_id: str, awaited: _Awaited) -> None:
        """Remember a message whose receipt will come."""
        if len(self._awaited) >= self._limit:
            del self._awaited[next(iter(self._awaited))]  # dicts keep insertion order: this is the oldest
        self._awaited[message_id] = awaited

    def arrived(self, message_id: str) -> _Awaited | None:
        """The message a receipt is for, or ``None`` when it was not sent from this process."""
        return self._awaited.pop(message_id, None)


class GatewayClient(ABC, Generic[PduT]):
    """One connection to the gateway: bind, pipelined submits, receipts, keep-alive, unbind.

    :param on_request: receives one call per bind, submit and receipt (Locust's ``events.request.fire``).
    :param receipts: where submits awaiting a receipt are kept; share one among the clients of a process.
    :param context: passed to ``on_request`` unchanged (Locust listeners see it; it does not split statistics).
    """

    #: Locust's request_type.
    request_type: ClassVar[str]
    #: Locust's name of the bind and submit requests.
    bind_name: ClassVar[str]
    submit_name: ClassVar[str]

    def __init__(self, settings: Settings, on_request: RequestHook, *, receipts: ReceiptBook | None = None,
                 context: dict[str, Any] | None = None) -> None:
        self.settings = settings
        self.system_id = settings.system_id
        self._on_request = on_request
        self._receipts = receipts if receipts is not None else ReceiptBook()
        self.context = {"system_id": settings.system_id, **(context or {})}
        self.timing = Timing(keepalive_interval=settings.keepalive_interval, response_timeout=settings.response_timeout,
                             keepalive_attempts=3, window=settings.window, peer_window=settings.window)
        self._session: Session[PduT] = self._new_session()
        self._frames = self._frame_buffer()
        self._sock: socket.socket | None = None
        self._outgoing = bytearray()
        self._pending_write = Event()
        self._sent: dict[int, _Sent] = {}
        self._room = Event()  # set whenever the window may have room (or the connection ended)
        self._bound: AsyncResult = AsyncResult()
        self._goodbye = Event()
        self._writer: gevent.Greenlet | None = None
        self._greenlets: list[gevent.Greenlet] = []
        self.closed = False

    # -- what each protocol provides ------------------------------------------------------------------

    @abstractmethod
    def _new_session(self) -> Session[PduT]: ...

    @abstractmethod
    def _frame_buffer(self) -> FrameBuffer: ...

    @abstractmethod
    def _sequence_of(self, pdu: PduT) -> int: ...

    @abstractmethod
    def _bind_request(self) -> PduT: ...

    @abstractmethod
    def _bind_error(self, response: PduT) -> GatewayError | None:
        """``None`` when the bind response accepts us."""

    @abstractmethod
    def _submit_request(self, sequence: int, message: Message) -> PduT: ...

    @abstractmethod
    def _submit_outcome(self, response: PduT) -> tuple[str | None, GatewayError | None]:
        """(message id, error) of a submit response; ``None`` when it is no submit response at all."""

    @abstractmethod
    def _receipt(self, request: PduT) -> tuple[str, str] | None:
        """(message id, final state) when an inbound request is a receipt, else ``None``."""

    @abstractmethod
    def _answer(self, request: PduT) -> PduT | None:
        """The response to an inbound DELIVER / deliver_sm / unbind / TERMINATE, or ``None``."""

    @abstractmethod
    def _goodbye_request(self) -> PduT: ...

    @abstractmethod
    def _is_goodbye_response(self, pdu: PduT) -> bool: ...

    @abstractmethod
    def _is_bind_response(self, pdu: PduT) -> bool: ...

    # -- public API -------------------------------------------------------------------------------------

    def open(self, timeout: float = 10.0) -> None:
        """Connect and bind; reports the bind as a request and raises :class:`BindError` when it fails."""
        start_time, started = time.time(), time.perf_counter()
        error: GatewayError | None = None
        try:
            self._sock = socket.create_connection((self.settings.host, self.settings.port), timeout=timeout)
            self._sock.settimeout(None)
            self._sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # small PDUs must not wait for Nagle
            self._writer = gevent.spawn(self._write_loop)
            self._greenlets = [self._writer, gevent.spawn(self._read_loop), gevent.spawn(self._timer_loop)]
            self._write(self._bind_request())
            error = self._bind_error(self._bound.get(timeout=timeout))
        except OSError as failure:
            error = BindError(failure.strerror or type(failure).__name__)
        except gevent.Timeout:
            error = BindError("no bind response")
        except ConnectionLostError:
            error = BindError("connection closed")
        except BaseException:  # killed while binding (the user stopped): leave no half-open connection behind
            self._lost("connection closed")
            raise
        self._report(self.bind_name, started, start_time, 0, error)
        if error is not None:
            self._lost("connection closed")
            raise error

    def submit(self, message: Message) -> None:
        """Send one submit as soon as the window has room; its response is reported when it arrives.

        Raises :class:`ConnectionLostError` when the connection is (or goes) down.
        """
        while not self._session.can_send_request:
            if self.closed:
                break
            self._room.clear()
            self._room.wait()
        if self.closed:
            raise ConnectionLostError("connection closed")
        sequence = self._session.next_sequence()
        sent = _Sent(time.perf_counter(), time.time(), message.receipt)
        self._write(self._submit_request(sequence, message))
        # Recorded only once the session took the PDU (it raises for one it cannot encode); the response cannot
        # overtake this, as _write only queues the bytes for the writer greenlet.
        self._sent[sequence] = sent

    def drain(self, timeout: float) -> bool:
        """Wait until every submit has its response (or ``timeout``); True when none is left."""
        deadline = time.monotonic() + timeout
        while self._sent and not self.closed and (remaining := deadline - time.monotonic()) > 0:
            self._room.clear()
            self._room.wait(remaining)
        return not self._sent

    def close(self, timeout: float = 5.0) -> None:
        """Let outstanding submits finish, unbind / TERMINATE, and close the connection."""
        if self.closed:
            return
        self.drain(timeout)
        if not self.closed and not self._session.closed:
            try:
                self._write(self._goodbye_request())
                self._goodbye.wait(timeout)
            except ConnectionLostError:
                pass  # the gateway went first: nothing left to say goodbye to
        self._lost("connection closed")

    # -- internals ----------------------------------------------------------------------------------------

    def _report(self, name: str, started: float, start_time: float, length: int,
                error: Exception | None) -> None:
        self._on_request(request_type=self.request_type, name=name,
                         response_time=(time.perf_counter() - started) * 1000, response_length=length,
                         exception=error, context=self.context, start_time=start_time)

    def _write(self, pdu: PduT) -> None:
        """Encode one PDU into the outgoing buffer; the writer greenlet sends it (in session order)."""
        if self._sock is None or self.closed:
            raise ConnectionLostError("connection closed")
        self._outgoing += self._session.send(pdu, time.time())
        self._pending_write.set()

    def _flush(self) -> None:
        """Queue what the session queued on its own (keep-alive answers, refusals)."""
        data = self._session.data_to_send()
        if data:
            self._outgoing += data
            self._pending_write.set()

    def _write_loop(self) -> None:
        """Send everything buffered since the last turn in one call; after the end, what is left, then stop.

        One system call per PDU costs more than the rest of a submit together (loopback, a 2-core machine), so
        PDUs queued between two greenlet switches leave together. Only this greenlet writes to the socket, so a
        user killed in the middle of a submit cannot leave half a PDU on the wire.
        """
        assert self._sock is not None
        try:
            while True:
                self._pending_write.wait()
                self._pending_write.clear()
                while self._outgoing:
                    data = memoryview(bytes(self._outgoing))
                    self._outgoing.clear()
                    while data:  # send, not sendall: gevent's sendall asks the kernel for SO_SNDBUF every call
                        data = data[self._sock.send(data):]
                if self.closed:
                    return
        except OSError:
            self._lost("connection closed")

    def _read_loop(self) -> None:
        assert self._sock is not None
        try:
            while not self.closed:
                data = self._sock.recv(_RECV_SIZE)
                if not data:
                    break
                self._received(data)
        except OSError:
            pass
        self._lost("connection closed")

    def _received(self, data: bytes) -> None:
        now = time.time()
        try:
            # Our own framing as well as the session's: it gives each response its length for Locust.
            frames = self._frames.feed(data)
        except ProtocolError:
            frames = [data]  # let the session judge the bad length and say what to do
        for frame in frames:
            events = self._session.receive_data(frame, now)
            self._flush()
            for event in events:
                self._on_event(event, len(frame))
            if self._session.closed:
                self._lost("connection closed")
                return

    def _timer_loop(self) -> None:
        while not self.closed:
            deadline = self._session.next_timer()
            delay = _TIMER_TICK if deadline is None else min(_TIMER_TICK, max(0.0, deadline - time.time()))
            gevent.sleep(delay)
            events = self._session.handle_timer(time.time())
            self._flush()
            for event in events:
                self._on_event(event, 0)
            if self._session.closed:
                self._lost("connection closed")

    def _on_event(self, event: PduT | SessionEvent[PduT], length: int) -> None:
        if isinstance(event, KeepAliveAnswered):
            return  # the session already matched our probe; nothing for the figures
        if isinstance(event, ResponseTimeout):
            sequence = self._sequence_of(event.request)
            sent = self._sent.pop(sequence, None)
            if sent is not None:
                self._room.set()
                self._report(self.submit_name, sent.started, sent.start_time, 0,
                             ResponseTimeoutError(f"no response within {self.timing.response_timeout:g} s"))
            elif not self._bound.ready():
                self._bound.set_exception(ConnectionLostError("connection closed"))
            return
        if isinstance(event, PeerViolation):
            log.warning("%s %s: the gateway broke the protocol (%s)", self.request_type, self.system_id,
                        event.kind.value)
            return
        if isinstance(event, Disconnect):
            return  # _received / _timer_loop see the closed session and end the connection
        if self._is_bind_response(event):
            self._bound.set(event)
            return
        if self._is_goodbye_response(event):
            self._goodbye.set()
            return
        message_id, error = self._submit_outcome(event)
        if message_id is not None:
            self._submit_answered(event, message_id, error, length)
            return
        answer = self._answer(event)
        if answer is not None:
            self._inbound_request(event, answer)

    def _submit_answered(self, response: PduT, message_id: str, error: GatewayError | None, length: int) -> None:
        sent = self._sent.pop(self._sequence_of(response), None)
        if sent is None:
            return  # the session matched it, so this cannot happen unless the request timed out first
        self._room.set()
        self._report(self.submit_name, sent.started, sent.start_time, length, error)
        if error is None and sent.wants_receipt:
            self._receipts.expect(message_id, _Awaited(self.request_type, sent.started, sent.start_time,
                                                       self.context))

    def _inbound_request(self, request: PduT, answer: PduT) -> None:
        try:
            self._write(answer)
        except ConnectionLostError:
            return
        receipt = self._receipt(request)
        if receipt is None:
            return  # an MO message, or the gateway's unbind / TERMINATE: answered, nothing to measure
        message_id, state = receipt
        awaited = self._receipts.arrived(message_id)
        if awaited is None:
            return  # sent by another process, or before this one started: nothing to time it against
        error = None if state == "DELIVRD" else ReceiptError(state)
        self._on_request(request_type=awaited.request_type, name="receipt",
                         response_time=(time.perf_counter() - awaited.started) * 1000, response_length=0,
                         exception=error, context=awaited.context, start_time=awaited.start_time)

    def _lost(self, reason: str) -> None:
        """The connection is over: fail what still awaits an answer, wake everyone waiting, close the socket."""
        if self.closed:
            return
        self.closed = True
        sent, self._sent = self._sent, {}
        for pending in sent.values():
            self._report(self.submit_name, pending.started, pending.start_time, 0, ConnectionLostError(reason))
        self._room.set()
        self._goodbye.set()
        if not self._bound.ready():
            self._bound.set_exception(ConnectionLostError(reason))
        current = gevent.getcurrent()
        # The last words queued (the unbind_resp / TERMINATE_RESP that ended the session) still go out.
        self._pending_write.set()
        if self._writer is not None and self._writer is not current:
            self._writer.join(timeout=_LAST_WRITE_SECONDS)
        if self._sock is not None:
            self._sock.close()
        for greenlet in self._greenlets:
            if greenlet is not current:
                greenlet.kill(block=False)



def _smpp_status(status: int) -> str:
    try:
        return smpp.CommandStatus(status).name
    except ValueError:
        return f"command_status 0x{status:08X}"


class SmppClient(GatewayClient[smpp.SmppPdu]):
    """An ESME bound as a transceiver, so that receipts and MO come back on the same connection."""

    request_type = "SMPP"
    bind_name = "bind_transceiver"
    submit_name = "submit_sm"

    def _new_session(self) -> Session[smpp.SmppPdu]:
        return SmppSession(role=Role.CLIENT, now=time.time(), timing=self.timing)

    def _frame_buffer(self) -> FrameBuffer:
        return smpp.frame_buffer()

    def _sequence_of(self, pdu: smpp.SmppPdu) -> int:
        return pdu.sequence_number

    def _bind_request(self) -> smpp.SmppPdu:
        return smpp.BindTransceiver(system_id=self.system_id, password=self.settings.password,
                                    interface_version=smpp.InterfaceVersion.SMPP_3_4)

    def _is_bind_response(self, pdu: smpp.SmppPdu) -> bool:
        return isinstance(pdu, smpp.BindTransceiverResp)

    def _bind_error(self, response: smpp.SmppPdu) -> GatewayError | None:
        return BindError(_smpp_status(response.command_status)) if response.command_status else None

    def _submit_request(self, sequence: int, message: Message) -> smpp.SmppPdu:
        return smpp.SubmitSm(sequence_number=sequence, source_addr=message.source,
                             destination_addr=message.destination,
                             data_coding=sms_text.data_coding_for(message.encoding), short_message=message.content,
                             registered_delivery=1 if message.receipt else 0)

    def _submit_outcome(self, response: smpp.SmppPdu) -> tuple[str | None, GatewayError | None]:
        if isinstance(response, smpp.SubmitSmResp):
            error = SubmitError(_smpp_status(response.command_status)) if response.command_status else None
            return response.message_id, error
        if isinstance(response, smpp.GenericNack):  # the gateway could not even read our submit_sm
            return "", SubmitError(f"generic_nack {_smpp_status(response.command_status)}")
        return None, None

    def _receipt(self, request: smpp.SmppPdu) -> tuple[str, str] | None:
        if not isinstance(request, smpp.DeliverSm) \
                or request.esm_class & smpp.EsmClass.TYPE_MASK != smpp.EsmClass.TYPE_DELIVERY_RECEIPT:
            return None
        try:
            parsed = smpp.parse_receipt(request.short_message)
        except smpp.ReceiptFormatError:
            return None
        receipted = smpp.tlv_value(request.tlvs, "receipted_message_id")
        return (receipted if isinstance(receipted, str) and receipted else parsed.id), parsed.stat

    def _answer(self, request: smpp.SmppPdu) -> smpp.SmppPdu | None:
        if isinstance(request, smpp.DeliverSm | smpp.Unbind):
            return request.response()
        return None

    def _goodbye_request(self) -> smpp.SmppPdu:
        return smpp.Unbind()

    def _is_goodbye_response(self, pdu: smpp.SmppPdu) -> bool:
        return isinstance(pdu, smpp.UnbindResp)


class CmppClient(GatewayClient[cmpp.CmppPdu]):
    """An SP on one CMPP connection (CMPP 2.0, 2.1 or 3.0); reports come back as DELIVERs on it."""

    request_type = "CMPP"
    bind_name = "CMPP_CONNECT"
    submit_name = "CMPP_SUBMIT"

    def _new_session(self) -> Session[cmpp.CmppPdu]:
        return CmppSession(role=Role.CLIENT, now=time.time(), version=self.settings.cmpp_version,
                           timing=self.timing)

    def _frame_buffer(self) -> FrameBuffer:
        return cmpp.frame_buffer()

    def _sequence_of(self, pdu: cmpp.CmppPdu) -> int:
        return pdu.sequence_id

    def _bind_request(self) -> cmpp.CmppPdu:
        # The authenticator covers the local time as MMDDHHMMSS (CMPP 3.0 §8.4.1.1); the ISMG checks its skew.
        now = time.localtime()
        timestamp = cmpp.timestamp_from(now.tm_mon, now.tm_mday, now.tm_hour, now.tm_min, now.tm_sec)
        return cmpp.Connect(source_addr=self.system_id, version=self.settings.cmpp_version.value, timestamp=timestamp,
                            authenticator_source=cmpp.authenticator_source(self.system_id, self.settings.password,
                                                                           timestamp))

    def _is_bind_response(self, pdu: cmpp.CmppPdu) -> bool:
        return isinstance(pdu, cmpp.ConnectResp)

    def _bind_error(self, response: cmpp.CmppPdu) -> GatewayError | None:
        status = response.status if isinstance(response, cmpp.ConnectResp) else 0
        if not status:
            return None
        text = CONNECT_STATUS_TEXT.get(status, ("other error", ""))[0]
        return BindError(f"Status={status} {text}")

    def _submit_request(self, sequence: int, message: Message) -> cmpp.CmppPdu:
        return cmpp.Submit(sequence_id=sequence, msg_src=self.system_id, src_id=message.source,
                           dest_terminal_id=(message.destination,), msg_content=message.content,
                           msg_fmt=sms_text.msg_fmt_for(message.encoding),
                           registered_delivery=1 if message.receipt else 0, service_id=message.service_id,
                           fee_type=cmpp.FeeType.FREE)

    def _submit_outcome(self, response: cmpp.CmppPdu) -> tuple[str | None, GatewayError | None]:
        if not isinstance(response, cmpp.SubmitResp):
            return None, None
        if response.result:
            text = SUBMIT_RESULT_TEXT.get(response.result, ("other error", ""))[0]
            return str(response.msg_id), SubmitError(f"Result={response.result} {text}")
        return str(response.msg_id), None

    def _receipt(self, request: cmpp.CmppPdu) -> tuple[str, str] | None:
        if not isinstance(request, cmpp.Deliver) or request.registered_delivery != 1:
            return None
        try:
            report = request.report
        except ProtocolError:
            return None
        return None if report is None else (str(report.msg_id), report.stat)

    def _answer(self, request: cmpp.CmppPdu) -> cmpp.CmppPdu | None:
        if isinstance(request, cmpp.Deliver | cmpp.Terminate):
            return request.response()
        return None

    def _goodbye_request(self) -> cmpp.CmppPdu:
        return cmpp.Terminate()

    def _is_goodbye_response(self, pdu: cmpp.CmppPdu) -> bool:
        return isinstance(pdu, cmpp.TerminateResp)
