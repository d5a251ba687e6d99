"""What the simulator tells operators: structured event log, Prometheus metrics, number masking.

Privacy by construction (agreement clause 5; reliability.md §3.4): numbers are masked before they reach
a log line, an audit record or an API answer unless masking is switched off; secrets are never passed
here at all; every log record is one JSON object on one line, so partner-controlled text (CR/LF, NUL,
bidi overrides) cannot forge lines.
"""

from __future__ import annotations

import collections
import json
import logging
import sys
from collections.abc import Callable, Iterator
from typing import TextIO

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import CounterMetricFamily, Metric

__all__ = ["EventLog", "Metrics", "mask_number"]

#: Event kinds that happen per message or per PDU rather than per session.
_PER_MESSAGE = ("submit.", "receipt.", "mo.", "keepalive.", "message.", "policy.")
#: The level of each event kind, worked out once per kind.
_LEVELS: dict[str, int] = {}
_KEEP_HEAD = 3  # 138****8000: the carrier prefix and the last four digits, as Chinese carriers print them
_KEEP_TAIL = 4


def mask_number(number: str) -> str:
    """Hide the middle of a phone number; short codes (service codes) stay readable."""
    if len(number) <= _KEEP_HEAD + _KEEP_TAIL:
        return number
    return number[:_KEEP_HEAD] + "*" * (len(number) - _KEEP_HEAD - _KEEP_TAIL) + number[-_KEEP_TAIL:]


class EventLog:
    """One JSON object per line on a stream: ``{"at": ..., "event": ..., ...fields}``; and, once a sink is
    attached (the store's audit table), the same event as an audit record.

    Written straight to the stream rather than through :mod:`logging`, whose one shared "smsclab" logger would
    tie every simulator in a process (tests run several) to the first stream it was given."""

    def __init__(self, stream: TextIO | None = None, *, level: int = logging.INFO) -> None:
        self._sink: Callable[[float, str, str | None, dict[str, object]], None] | None = None
        self._stream = stream
        self.level = level

    def attach(self, sink: Callable[[float, str, str | None, dict[str, object]], None] | None) -> None:
        """Also hand every event to ``sink(at, event, account, fields)`` (``None`` detaches)."""
        self._sink = sink

    def emit(self, at: float, event: str, **fields: object) -> None:
        """Record one event at simulated time ``at``: always in the audit sink; on the log stream at INFO for
        session-level events, at DEBUG for the per-message ones (a busy gateway makes thousands a second)."""
        if self._sink is not None:
            account = fields.get("account")
            self._sink(at, event, account if isinstance(account, str) else None, fields)
        level = _LEVELS.get(event)
        if level is None:
            level = _LEVELS[event] = logging.DEBUG if event.startswith(_PER_MESSAGE) else logging.INFO
        if level >= self.level:
            stream = self._stream or sys.stderr  # looked up late: pytest swaps sys.stderr per test
            stream.write(json.dumps({"at": round(at, 3), "event": event, **fields}, ensure_ascii=False,
                                    default=str, separators=(",", ":")) + "\n")
            stream.flush()


class Metrics:
    """The Prometheus series of one simulator (its own registry, so tests can run several)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self._pdus = _PduCounts()
        self.registry.register(self._pdus)
        self.binds = Gauge("smsclab_sessions", "Bound/connected partner sessions",
                           ["protocol", "account"], registry=self.registry)
        self.bind_failures = Counter("smsclab_bind_failures", "Refused binds/CONNECTs by status",
                                     ["protocol", "status"], registry=self.registry)
        self.throttled = Counter("smsclab_throttled", "Submits refused by flow control",
                                 ["account"], registry=self.registry)
        self.accepted = Counter("smsclab_messages_accepted", "Messages accepted and stored",
                                ["protocol", "account"], registry=self.registry)
        self.receipts_pending = Gauge("smsclab_receipts_pending", "Receipts due or awaiting acknowledgement",
                                      registry=self.registry)
        self.receipts_sent = Counter("smsclab_receipts_sent", "Receipts sent (retries included)",
                                     ["protocol"], registry=self.registry)
        self.mo_sent = Counter("smsclab_mo_sent", "MO messages sent to partners (retries included)",
                               ["protocol"], registry=self.registry)
        self.store_seconds = Histogram("smsclab_store_commit_seconds", "Time from submit to durable commit",
                                       buckets=(0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.5, 1.0),
                                       registry=self.registry)

    def count_pdu(self, protocol: str, direction: str, command: str, status: int) -> None:
        """One PDU in or out."""
        self._pdus.counts[(protocol, direction, command, status)] += 1


class _PduCounts:
    """``smsclab_pdus_total``, kept as plain counts and turned into a metric only when scraped: it is counted
    twice per submit, and a prometheus_client child's locked increment costs more than the rest of the count."""

    def __init__(self) -> None:
        self.counts: collections.Counter[tuple[str, str, str, int]] = collections.Counter()

    def collect(self) -> Iterator[Metric]:
        family = CounterMetricFamily("smsclab_pdus", "PDUs by protocol, direction, command and status",
                                     labels=("protocol", "direction", "command", "status"))
        for (protocol, direction, command, status), count in sorted(self.counts.items()):
            family.add_metric((protocol, direction, command, str(status)), count)
        yield family
