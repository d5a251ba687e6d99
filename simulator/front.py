"""What both protocol fronts share: one partner connection between a sans-IO session and the gateway.

A front owns the session of one connection and speaks to the driver through callables (``write``, ``close``
and ``pause_reading``), so the same front runs under the asyncio server and in tests without sockets. It is also the
gateway's :class:`~simulator.gateway.Link` for that connection once the partner has bound.

The submit path answers only after the store has committed (a response is a promise that the message is on
disk): the submits of one read are decided one by one, persisted together, and answered from the commit's
callback, with no task per PDU.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import hashlib
import itertools
from abc import ABC, abstractmethod
from collections.abc import Callable, Coroutine
from datetime import datetime, tzinfo
from typing import Any, Generic, TypeVar

from protocols.errors import LocalProtocolError
from protocols.session import Disconnect, KeepAliveAnswered, PeerViolation, ResponseTimeout, Session
from simulator.config import Account
from simulator.gateway import Accepted, Gateway, Submission
from simulator.refusals import STORE_FAILED, Refusal
from simulator.store import MessageRow, MoRow

__all__ = ["Front", "receipt_minute"]


def _digest(submission: Submission) -> str:
    """A short fingerprint of what was sent to whom, so that resends of one message can be recognised."""
    return _fingerprint(submission.content, submission.destinations)


def _digest_rows(rows: tuple[MessageRow, ...]) -> str:
    """The same fingerprint, from the rows an accepted submit became (one per recipient, in order)."""
    return _fingerprint(rows[0].content, tuple(row.destination for row in rows))


def _fingerprint(content: bytes, destinations: tuple[str, ...]) -> str:
    return hashlib.blake2b(content + "|".join(destinations).encode(), digest_size=8).hexdigest()


def receipt_minute(moment: float, zone: tzinfo) -> str:
    """The minute of ``moment`` as receipts write it, YYMMDDhhmm in ``zone``: SMPP v3.4 Appendix B submit date
    and done date, CMPP 3.0 §8.4.5.1 Submit_time and Done_time."""
    return _minute_text(int(moment // 60), zone)


@functools.lru_cache(maxsize=256)
def _minute_text(minute: int, zone: tzinfo) -> str:  # cached: a busy minute's receipts all show the same one
    return datetime.fromtimestamp(minute * 60, zone).strftime("%y%m%d%H%M")


PduT = TypeVar("PduT")
_labels = itertools.count(1)


class Front(ABC, Generic[PduT]):
    """One partner connection: session events in, gateway decisions out."""

    protocol: str
    #: Commands whose audit record is written elsewhere (submits, answers to our deliveries).
    audited_elsewhere: frozenset[str] = frozenset()

    def __init__(self, gateway: Gateway, session: Session[PduT], *, peer: str,
                 write: Callable[[bytes], None], close: Callable[[], None],
                 pause_reading: Callable[[bool], None] | None = None) -> None:
        self.gateway = gateway
        self.session = session
        self.peer = peer
        self.label = f"{self.protocol}-{next(_labels)}"
        self._transport_write = write
        self._transport_close = close
        #: Bytes written during this turn of the event loop; sent as one write when the turn ends, so that a
        #: read holding 50 submits costs one send, not 50 (performance.md §3.2: one write per read).
        self._out = bytearray()
        self._pause_reading = pause_reading
        #: Half-open (a fault): nothing is read or written, the connection stays up.
        self.frozen = False
        self._account: str | None = None
        self._attached = False
        self._connected_at = gateway.clock.now()
        #: Receipts and MO segments we sent that await the partner's answer, by sequence number.
        self._deliveries: dict[int, tuple[MessageRow | MoRow, float]] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self.counters = {"received": 0, "sent": 0, "submits": 0, "throttled": 0, "receipts": 0, "mo": 0}
        self.last_keepalive_rtt: float | None = None

    # -- the driver's side ---------------------------------------------------------------------------

    @property
    def account(self) -> str:
        """The account this connection bound as ("" before it did)."""
        return self._account or ""

    @property
    def closed(self) -> bool:
        """True once the session is over."""
        return self.session.closed

    def receive(self, data: bytes) -> None:
        """Bytes arrived from the partner."""
        if self.frozen:
            return
        now = self.gateway.clock.now()
        events = self.session.receive_data(data, now)
        if not self.gateway.conditions.quiet and self.gateway.conditions.is_silent(self.account):
            # Silent maintenance / black hole: read everything, answer nothing, not even keep-alives. What was
            # swallowed is forgotten, as a real outage loses it: it must not hold the window afterwards.
            self.session.data_to_send()
            for event in events:
                self.session.forget(event)
            return
        self._handle_events(events, now)

    def timer(self) -> None:
        """A session deadline passed."""
        now = self.gateway.clock.now()
        self._handle_events(self.session.handle_timer(now), now)

    def connection_lost(self) -> None:
        """The transport is gone (closed by either side, or reset)."""
        self.gateway.events.emit(self.gateway.clock.now(), "session.closed", session=self.label,
                                 account=self.account, protocol=self.protocol, peer=self.peer)
        self._detach()
        for task in self._tasks:
            task.cancel()

    # -- writing (one write per loop turn) -----------------------------------------------------------

    def _write(self, data: bytes) -> None:
        if self.frozen or not data:
            return
        if not self._out:
            asyncio.get_running_loop().call_soon(self._flush_out)
        self._out += data

    def _flush_out(self) -> None:
        if self._out:
            data = bytes(self._out)
            self._out.clear()
            self._transport_write(data)

    def _close(self) -> None:
        self._flush_out()  # what was answered goes out before the connection closes
        self._transport_close()

    # -- Link (what the gateway and the scenarios do to this connection) -------------------------------

    def set_window(self, window: int) -> None:
        """Requests either side may have unanswered from now on (the contract's, or a scenario's): the
        partner's submits, and the receipts and MO we send it (clause 2.2's window is the link's)."""
        self.session.timing = dataclasses.replace(self.session.timing, window=window, peer_window=window)

    def abort(self) -> None:
        """Drop the connection at once, without a goodbye."""
        self._out.clear()
        self._transport_close()

    def hold(self, frozen: bool) -> None:
        """Freeze (or thaw) the connection half-open: nothing read or written, the socket stays open."""
        self.frozen = frozen
        if self._pause_reading is not None:
            self._pause_reading(frozen)

    def describe(self) -> dict[str, object]:
        """What the control API shows about this session."""
        return {"session": self.label, "protocol": self.protocol, "account": self.account, "peer": self.peer,
                "state": self._state_name(), "since": self._connected_at, "counters": dict(self.counters),
                "outstanding": self.session.outstanding, "awaiting_answer": self.session.awaiting_answer,
                "keepalive_rtt": self.last_keepalive_rtt}

    def send_receipt(self, row: MessageRow, now: float) -> bool:
        """Send the delivery receipt for ``row``, if the session can take it now."""
        if not self.can_receive():
            return False
        sequence = self.session.next_sequence()
        self._send_request(self._receipt_pdu(row, now, sequence), now)
        self._deliveries[sequence] = (row, now)
        self.counters["receipts"] += 1
        self.gateway.events.emit(now, "receipt.sent", session=self.label, account=self.account,
                                 message_id=row.message_id, attempt=row.receipt_attempts + 1)
        return True

    def send_mo(self, mo: MoRow, now: float) -> bool:
        """Send one MO segment, if the session can take it now."""
        if not self.can_receive():
            return False
        sequence = self.session.next_sequence()
        self._send_request(self._mo_pdu(mo, now, sequence), now)
        self._deliveries[sequence] = (mo, now)
        self.counters["mo"] += 1
        return True

    @property
    @abstractmethod
    def receiving(self) -> bool:
        """Whether the session is bound to receive receipts and MO at all."""

    def can_receive(self) -> bool:
        """Whether the session may be sent a receipt or MO now: bound to receive, with room in its window, and
        not silenced (an outage holds deliveries back; the dispatcher is woken when it ends)."""
        conditions = self.gateway.conditions
        silent = not conditions.quiet and conditions.is_silent(self.account)
        return self.receiving and self.session.can_send_request and not silent

    def free_slots(self) -> int:
        """How many receipts or MO segments the session could be sent now (0 when it cannot receive)."""
        return max(0, self.session.timing.window - self.session.outstanding) if self.can_receive() else 0

    @abstractmethod
    def shut_down(self) -> None:
        """End the session politely because the simulator stops."""

    # -- what each protocol provides ------------------------------------------------------------------

    @abstractmethod
    def _dispatch(self, pdu: PduT, now: float, accepted: list[tuple[PduT, Accepted]]) -> None:
        """Act on one PDU; a submit the gateway accepted is appended to ``accepted`` for a batched answer."""

    @abstractmethod
    def _accepted_response(self, request: PduT, accepted: Accepted) -> PduT:
        """The success response for an accepted submit."""

    @abstractmethod
    def _refused_response(self, request: PduT, refusal: Refusal) -> PduT:
        """The response refusing a submit."""

    @abstractmethod
    def _receipt_pdu(self, row: MessageRow, now: float, sequence: int) -> PduT:
        """The receipt PDU for ``row`` (SMPP deliver_sm with esm_class 0x04, CMPP DELIVER report)."""

    @abstractmethod
    def _mo_pdu(self, mo: MoRow, now: float, sequence: int) -> PduT:
        """The PDU carrying one MO segment."""

    @abstractmethod
    def _state_name(self) -> str: ...

    @abstractmethod
    def _status_of(self, pdu: PduT) -> int:
        """The status a PDU carries (0 for requests): SMPP command_status, CMPP Result/Status."""

    @abstractmethod
    def _sequence_of(self, pdu: PduT) -> int: ...

    # -- shared machinery ----------------------------------------------------------------------------

    def _handle_events(self, events: list[Any], now: float) -> None:
        self._flush()  # the session's own answers first, in the order they arose
        accepted: list[tuple[PduT, Accepted]] = []
        for event in events:
            on_session_event = _SESSION_EVENTS.get(type(event))
            if on_session_event is not None:
                on_session_event(self, event, now)
                continue
            self.counters["received"] += 1
            self._count("in", event)
            name = type(event).command_name
            if name not in self.audited_elsewhere:
                # Every PDU is in the audit log (agreement clause 3.8); submits and delivery answers have
                # their own, richer events.
                self.gateway.events.emit(now, "pdu.received", session=self.label, account=self.account,
                                         command=name, sequence=self._sequence_of(event),
                                         status=self._status_of(event))
            self._dispatch(event, now, accepted)
        if accepted:
            self._persist(accepted, now)
        self._flush()
        if self.session.closed:
            self._detach()
            self._close()

    def _on_keepalive_answered(self, event: KeepAliveAnswered, now: float) -> None:
        self.last_keepalive_rtt = event.rtt
        self.gateway.events.emit(now, "keepalive.answered", session=self.label, account=self.account,
                                 rtt=round(event.rtt, 6))

    def _on_response_timeout(self, event: ResponseTimeout[PduT], now: float) -> None:
        self._deliveries.pop(self._sequence_of(event.request), None)
        self.gateway.window_opened()

    def _on_peer_violation(self, event: PeerViolation, now: float) -> None:
        self.gateway.events.emit(now, "protocol.violation", session=self.label, account=self.account,
                                 kind=event.kind.value, error=event.error.message, sequence=event.error.sequence,
                                 answered=event.answered)

    def _on_disconnect(self, event: Disconnect, now: float) -> None:
        self.gateway.events.emit(now, "session.disconnect", session=self.label, account=self.account,
                                 reason=event.reason)

    def _decide(self, request: PduT, submission: Submission, now: float,
                accepted: list[tuple[PduT, Accepted]]) -> None:
        """Let the gateway decide a submit: refusals are answered at once, acceptances after the commit."""
        self.counters["submits"] += 1
        verdict = self.gateway.submit(self.account, submission, now)
        if isinstance(verdict, Refusal):
            if verdict.reason == "throttled":
                self.counters["throttled"] += 1
            self.gateway.events.emit(now, "submit.refused", session=self.label, account=self.account,
                                     sequence=self._sequence_of(request), reason=verdict.reason,
                                     source=submission.source, recipients=len(submission.destinations),
                                     digest=_digest(submission))
            self._respond(self._refused_response(request, verdict), now)
        else:
            accepted.append((request, verdict))

    def _persist(self, accepted: list[tuple[PduT, Accepted]], now: float) -> None:
        def answer(error: BaseException | None) -> None:
            answer_now = self.gateway.clock.now()
            for request, item in accepted:
                if error is not None:
                    self._respond(self._refused_response(request, STORE_FAILED), answer_now)
                    continue
                first = item.rows[0]
                self.gateway.events.emit(now, "submit.accepted", session=self.label, account=self.account,
                                         sequence=self._sequence_of(request), message_id=item.message_id,
                                         recipients=len(item.rows), segment=first.segment_number,
                                         segments=first.segment_total, digest=_digest_rows(item.rows))
                self._respond(self._accepted_response(request, item), answer_now)
            self._flush()

        self.gateway.persist([item for _, item in accepted], now, answer)

    def _respond(self, response: PduT, now: float) -> None:
        """Answer a submit, late if a latency fault is active (agreement clause 2.10: faults replayed)."""
        conditions = self.gateway.conditions
        delay = 0.0 if conditions.quiet else conditions.response_delay(self.account)
        if delay <= 0:
            self.send(response, now)
            return
        clock = self.gateway.clock

        async def later() -> None:
            await clock.sleep(delay)
            self.send(response, clock.now())

        self._spawn(later())

    def send(self, pdu: PduT, now: float) -> None:
        """Send a response (or request) of ours, unless the session ended meanwhile."""
        if self.session.closed:
            return
        try:
            self._write(self.session.send(pdu, now))
        except LocalProtocolError as error:
            # A bug of ours; keep the connection but make it visible.
            self.gateway.events.emit(now, "internal.error", session=self.label, error=str(error))
            return
        self.counters["sent"] += 1
        self._count("out", pdu)
        if self.session.closed:
            self._detach()
            self._close()

    def _say_goodbye(self, request: PduT) -> None:
        """Send the request that ends the session; with our window full of unanswered deliveries there is no
        room for it, so the connection is closed instead (the deliveries are retried, as after any loss)."""
        if self.session.can_send_request:
            self._send_request(request, self.gateway.clock.now())
        else:
            self._detach()
            self._close()

    def _send_request(self, pdu: PduT, now: float) -> None:
        self._write(self.session.send(pdu, now))
        self.counters["sent"] += 1
        self._count("out", pdu)

    def _count(self, direction: str, pdu: PduT) -> None:
        self.gateway.metrics.count_pdu(self.protocol, direction, type(pdu).command_name,  # type: ignore[attr-defined]
                                       self._status_of(pdu))

    def _delivery_answered(self, sequence: int, ok: bool, now: float) -> None:
        found = self._deliveries.pop(sequence, None)
        if found is not None:
            delivery, sent_at = found
            if isinstance(delivery, MessageRow):
                self.gateway.receipt_answered(delivery, ok, now, latency=now - sent_at)
            else:
                self.gateway.mo_answered(delivery, ok, now, latency=now - sent_at)
        self.gateway.window_opened()

    def _flush(self) -> None:
        data = self.session.data_to_send()
        if data:
            self._write(data)

    def _attach(self, account: Account) -> None:
        self._account = account.id
        self._attached = True
        # The account's window (contracted, or a scenario's) replaces the protocol default (clause 2.2).
        self.set_window(self.gateway.limits(account.id)[1])
        self.gateway.attach(self)

    def _detach(self) -> None:
        if self._attached:
            self._attached = False
            self.gateway.detach(self)

    def _spawn(self, coroutine: Coroutine[Any, Any, None]) -> None:
        """Run a rare, store-bound request (query, cancel, replace) without blocking the read path."""
        task = asyncio.ensure_future(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


#: What a front does with each event of its session that is not a PDU (a PDU goes to the protocol's handlers).
_SESSION_EVENTS: dict[type, Callable[[Any, Any, float], None]] = {
    KeepAliveAnswered: Front._on_keepalive_answered,
    ResponseTimeout: Front._on_response_timeout,
    PeerViolation: Front._on_peer_violation,
    Disconnect: Front._on_disconnect,
}
