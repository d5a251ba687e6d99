"""Partner compliance: verdicts on how a partner behaves, judged from the audit events the gateway records.

Theory of operation
-------------------
The agreement binds the partner too: it must respect the flow control of clause 2.2 (rate and window),
back off when throttled, obey emergency volume cuts (clauses 3.14 and 3.15), not overload the gateway with
abnormal traffic (clause 2.8), and keep its link healthy. The gateway already writes every decision to the
audit log (``submit.accepted``, ``submit.refused``, ``protocol.violation``, ``keepalive.answered``, ...), so
the monitor never touches the hot path: :func:`judge` is a pure function of a list of those events, the
accounts' contracted terms (:class:`~simulator.config.Account`) and a set of :class:`Thresholds`.

Each check is one small function in :data:`CHECKS`; it sees one account's events (:class:`_Context`) and
returns findings, which :func:`judge` turns into :class:`Verdict` objects (pass, warn or fail, with the
measured value, the threshold in words and evidence citing event times and sequence numbers). Checks whose
subject is a connection (window, throttle back-off, keep-alive, duplicate sequence numbers) report every
session that did not pass on its own, and one account-wide verdict when every session passed.

Events are sorted by time first: the store keeps them in the order they were written, and an accepted submit
is written after its commit with the time it arrived, so the two orders differ. Every string taken from an
event is made printable and short before it reaches a verdict, so partner-controlled text cannot break a
table line, a JSON document or the JUnit XML. Malformed events (no time, no kind) are skipped.

:func:`report` renders verdicts as a table, JSON or JUnit XML; :func:`exit_status` is what load tests exit
with (:data:`EXIT_FAILED` when any check failed).
"""

from __future__ import annotations

import bisect
import heapq
import itertools
import json
import math
import sqlite3
import statistics
import xml.etree.ElementTree as ET
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from types import MappingProxyType
from typing import Final, Literal, NamedTuple, TypeVar, cast

from simulator.config import Account

__all__ = [
    "CHECKS",
    "DEFAULT_THRESHOLDS",
    "EXIT_FAILED",
    "EXIT_OK",
    "FORMATS",
    "Status",
    "Thresholds",
    "Verdict",
    "as_document",
    "exit_status",
    "judge",
    "load_events",
    "report",
]

Status = Literal["pass", "warn", "fail"]
_STATUSES: Final = ("pass", "warn", "fail")

#: What :func:`exit_status` returns: nothing failed / some check failed.
EXIT_OK: Final = 0
EXIT_FAILED: Final = 3
#: The formats :func:`report` renders.
FORMATS: Final = ("table", "json", "junit")

#: Times closer than this are equal: two events exactly one window apart do not share it, although an epoch
#: time (about 1.8e9 s) carries only about 0.2 microseconds of precision.
_EPSILON: Final = 1e-6
_TEXT_MAX: Final = 64  # an event string quoted in a verdict is cut here


@dataclass(frozen=True, slots=True)
class Thresholds:
    """The numbers every check judges by. Times are seconds, rates messages per second.

    rate (clause 2.2: the contracted rate is messages per second, a group send counting its recipients):
        ``rate_window``: offered load is counted over every sliding window of this length (default 1 s);
        ``rate_warn_factor``: up to this multiple of the rate is a warning, above it a failure (default 1.2).
    window (clause 2.2; CMPP W = 16 unacknowledged requests, cmpp.md §7.1):
        ``window_warn_max``: overruns per session still only a warning (default 3).
    throttle_backoff (clause 2.2; cmpp.md §7.2, reliability.md §5.3 W1/W2):
        ``throttle_reasons``: refusal reasons that mean "slow down" (CMPP Result 8, ESME_RTHROTTLED);
        ``min_backoff``: the least pause after a throttle (default 0.040 s, SMSGate's back-off);
        ``storm_submits``: more submits than this within ``min_backoff`` after a throttle are a retry storm
        (default ``None``: the account's window, since that many may have been in flight already).
    reconnect (clause 2.9 maintenance, reliability.md §5.2 S8/S9):
        ``reconnect_storm_attempts`` within ``reconnect_storm_window`` are a storm (default 5 in 1 s; never
        fewer than the account's ``max_connections`` + 1, since opening every allowed connection is fine);
        ``reconnect_min_refusals``: a run of at least this many refused attempts must back off (default 3);
        ``reconnect_growth``: ... so that its last interval is at least this multiple of its first (1.5).
    keepalive (CMPP C/T/N, cmpp.md §7.1; reliability.md §5.2 S4):
        ``keepalive_rtt_p95``: 95th percentile answer time above this is a warning (default 1 s);
        ``keepalive_lost_markers``: text in a ``session.disconnect`` reason meaning probes went unanswered.
    receipt_ack (reliability.md §5.3 W4):
        ``receipt_ack_p95``: 95th percentile acknowledgement time above this is a warning (default 1 s);
        ``receipt_ack_timeout``: a receipt unacknowledged this long after it was first sent is a failure
        (default 60 s, CMPP T).
    duplicate_sequence (CMPP/SMPP sequence numbers of outstanding requests are unique):
        ``duplicate_warn_max``: duplicates per session still only a warning (default 1).
    emergency_cut (clauses 3.14, 3.15):
        ``cut_grace``: the partner has this long to slow down after a cut (default 5 s);
        ``cut_tolerance``: offered load up to this multiple of the cut rate passes (default 1.1);
        ``cut_baseline``: for an account without a contracted rate, a cut by a factor applies to its peak
        offered load over this long before the first cut (default 10 s).
    ``max_evidence``: evidence items listed per verdict before "... and N more" (default 5).
    """

    rate_window: float = 1.0
    rate_warn_factor: float = 1.2
    window_warn_max: int = 3
    throttle_reasons: tuple[str, ...] = ("throttled",)
    min_backoff: float = 0.040
    storm_submits: int | None = None
    reconnect_storm_attempts: int = 5
    reconnect_storm_window: float = 1.0
    reconnect_min_refusals: int = 3
    reconnect_growth: float = 1.5
    keepalive_rtt_p95: float = 1.0
    keepalive_lost_markers: tuple[str, ...] = ("keep-alive",)
    receipt_ack_p95: float = 1.0
    receipt_ack_timeout: float = 60.0
    duplicate_warn_max: int = 1
    cut_grace: float = 5.0
    cut_tolerance: float = 1.1
    cut_baseline: float = 10.0
    max_evidence: int = 5

    def __post_init__(self) -> None:
        for name in ("rate_window", "rate_warn_factor", "min_backoff", "reconnect_storm_window",
                     "reconnect_growth", "keepalive_rtt_p95", "receipt_ack_p95", "receipt_ack_timeout",
                     "cut_tolerance", "cut_baseline"):
            value = getattr(self, name)
            if not (isinstance(value, int | float) and math.isfinite(value) and value > 0):
                raise ValueError(f"{name} must be a positive number, not {value!r}")
        for name in ("rate_window", "reconnect_storm_window", "min_backoff"):
            if getattr(self, name) < 0.001:
                raise ValueError(f"{name} must be at least 1 ms")
        if not math.isfinite(self.cut_grace) or self.cut_grace < 0:
            raise ValueError(f"cut_grace must be a number of seconds >= 0, not {self.cut_grace!r}")
        for name in ("window_warn_max", "duplicate_warn_max", "reconnect_storm_attempts", "max_evidence"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must not be negative")
        if self.reconnect_min_refusals < 3:
            raise ValueError("reconnect_min_refusals must be at least 3 (two intervals to compare)")
        if self.storm_submits is not None and self.storm_submits < 0:
            raise ValueError("storm_submits must not be negative")


DEFAULT_THRESHOLDS: Final = Thresholds()


@dataclass(frozen=True, slots=True)
class Verdict:
    """The outcome of one check for one account (``session`` ``None``) or one of its sessions.

    ``value`` is what was measured (a rate, a count, seconds; ``None`` when there was nothing to measure),
    ``threshold`` the rule in words, ``evidence`` short strings citing event times and sequence numbers,
    ``summary`` one line.
    """

    check: str
    account: str
    session: str | None
    status: Status
    value: float | None
    threshold: str
    evidence: tuple[str, ...]
    summary: str

    @property
    def name(self) -> str:
        """``<account>.<check>[.<session>]``: the test case name in JUnit."""
        return ".".join(part for part in (self.account, self.check, self.session) if part is not None)

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready dict (evidence as a list)."""
        return {"check": self.check, "account": self.account, "session": self.session, "status": self.status,
                "value": self.value, "threshold": self.threshold, "evidence": list(self.evidence),
                "summary": self.summary}

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> Verdict:
        """The inverse of :meth:`to_dict`; raises ValueError on anything else."""
        names = {f.name for f in fields(cls)}
        if set(data) != names:
            raise ValueError(f"a verdict has exactly the keys {sorted(names)}")
        strings = {name: data[name] for name in ("check", "account", "threshold", "summary")}
        if not all(isinstance(value, str) for value in strings.values()):
            raise ValueError("check, account, threshold and summary must be strings")
        session, status, value, evidence = data["session"], data["status"], data["value"], data["evidence"]
        if session is not None and not isinstance(session, str):
            raise ValueError("session must be a string or null")
        if status not in _STATUSES:
            raise ValueError(f"status must be one of {', '.join(_STATUSES)}")
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
            raise ValueError("value must be a number or null")
        if not isinstance(evidence, list | tuple) or not all(isinstance(item, str) for item in evidence):
            raise ValueError("evidence must be a list of strings")
        return cls(check=cast(str, strings["check"]), account=cast(str, strings["account"]), session=session,
                   status=status, value=value, threshold=cast(str, strings["threshold"]),
                   evidence=tuple(cast(Sequence[str], evidence)), summary=cast(str, strings["summary"]))


# -- events -----------------------------------------------------------------------------------------------


class _Event(NamedTuple):
    """An audit event, checked: a finite time, a kind, the account it belongs to (if any), its detail."""

    at: float
    order: int  # position in the input: ties in time keep the order the gateway wrote them
    kind: str
    account: str | None
    detail: Mapping[str, object]

    def number(self, name: str) -> float | None:
        return _number(self.detail.get(name))

    def text(self, name: str) -> str | None:
        value = self.detail.get(name)
        return None if value is None else _clean(value)

    @property
    def key(self) -> tuple[float, int]:
        return self.at, self.order

    @property
    def session(self) -> str | None:
        return self.text("session")

    @property
    def where(self) -> str:
        """``seq N at T`` (or ``at T``): how evidence cites an event."""
        sequence = self.detail.get("sequence")
        return f"at {self.at:.3f}" if sequence is None else f"seq {_clean(sequence)} at {self.at:.3f}"


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return float(value)


def _clean(value: object, limit: int = _TEXT_MAX) -> str:
    """``value`` as one short printable line: controls, separators and lone surrogates become escapes."""
    text = value if isinstance(value, str) else str(value)
    if len(text) > limit:
        text = text[:limit] + "..."
    if text.isprintable():
        return text
    return "".join(char if char.isprintable() else f"\\u{ord(char):04x}" if ord(char) <= 0xFFFF
                   else f"\\U{ord(char):08x}" for char in text)


def _normalise(events: Iterable[Mapping[str, object]]) -> list[_Event]:
    checked: list[_Event] = []
    for order, raw in enumerate(events):
        at, kind, detail = _number(raw.get("at")), raw.get("kind"), raw.get("detail")
        if at is None or not isinstance(kind, str):
            continue
        if not isinstance(detail, Mapping):
            detail = {}
        account = raw.get("account")
        if not isinstance(account, str) or not account:  # "" is a session that never bound
            account = detail.get("account")
        checked.append(_Event(at, order, kind, account if isinstance(account, str) and account else None, detail))
    checked.sort(key=lambda event: event.key)
    return checked


def _names(event: _Event, account: str) -> bool:
    """Whether a carrier-wide event (capacity change, maintenance) applies to ``account``."""
    if event.account == account:
        return True
    named = event.detail.get("accounts")
    if named in ("*", account):
        return True
    return isinstance(named, list | tuple) and account in named


_BROADCAST: Final = frozenset({"capacity.changed", "maintenance.started", "maintenance.ended"})
_SUBMITS: Final = ("submit.accepted", "submit.refused")


@dataclass(frozen=True, slots=True)
class _Context:
    """What one check sees: one account, its terms, its events in time order, and the judged period."""

    terms: Account
    thresholds: Thresholds
    by_kind: Mapping[str, list[_Event]]  # the account's own events and the carrier-wide ones naming it
    end: float  # the latest event of the whole stream: the end of the judged period

    def of(self, *kinds: str) -> list[_Event]:
        """The events of these kinds, in time order."""
        return list(heapq.merge(*(self.by_kind.get(kind, ()) for kind in kinds), key=lambda event: event.key))

    def submits(self) -> list[_Event]:
        return self.of(*_SUBMITS)

    def cite(self, items: Sequence[str]) -> tuple[str, ...]:
        """At most ``max_evidence`` items, then how many were left out."""
        limit = self.thresholds.max_evidence
        if len(items) <= limit:
            return tuple(items)
        return (*items[:limit], f"... and {len(items) - limit} more")


class _Finding(NamedTuple):
    status: Status
    value: float | None
    threshold: str
    evidence: tuple[str, ...]
    summary: str
    session: str | None = None


_Check = Callable[[_Context], list[_Finding]]
_T = TypeVar("_T")


# -- measuring --------------------------------------------------------------------------------------------


def _recipients(event: _Event) -> float:
    """How many messages a submit counts (clause 2.2, CMPP 3.0 appendix 1: a group send counts n)."""
    count = event.number("recipients")
    return count if count is not None and count >= 1 else 1.0


def _windows(points: Sequence[tuple[float, float]], length: float) -> Iterator[tuple[float, float, float]]:
    """For every point, the weight of the sliding window of ``length`` seconds ending at it:
    ``(first time, last time, total weight)``. ``points`` are ``(time, weight)`` in time order."""
    total, left = 0.0, 0
    for at, weight in points:
        total += weight
        while points[left][0] <= at - length + _EPSILON:
            total -= points[left][1]
            left += 1
        yield points[left][0], at, total


def _peak(points: Sequence[tuple[float, float]], length: float) -> tuple[float, float, float]:
    """The heaviest sliding window: ``(total weight, first time, last time)``; zeros when there are no points."""
    best = (0.0, 0.0, 0.0)
    for first, last, total in _windows(points, length):
        if total > best[0]:
            best = (total, first, last)
    return best


def _load(submits: Iterable[_Event]) -> list[tuple[float, float]]:
    return [(event.at, _recipients(event)) for event in submits]


def _p95(values: Sequence[float]) -> float | None:
    """The 95th percentile by nearest rank (``None`` for no values)."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


def _seconds(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value * 1000:.1f} ms" if value < 1 else f"{value:.3g} s"


def _worst(statuses: Iterable[Status]) -> Status:
    return max(statuses, key=_STATUSES.index, default="pass")


def _grouped(events: Iterable[_Event]) -> dict[str | None, list[_Event]]:
    """Events by session, sessions in order of their first event."""
    sessions: dict[str | None, list[_Event]] = defaultdict(list)
    for event in events:
        sessions[event.session].append(event)
    return dict(sessions)


def _per_session(subjects: Mapping[str | None, _T], judge_one: Callable[[str | None, _T], _Finding],
                 overall: Callable[[], _Finding]) -> list[_Finding]:
    """Session-scoped checks: a finding for every session that did not pass, else one account-wide pass."""
    offenders = [finding for finding in (judge_one(session, subject) for session, subject in subjects.items())
                 if finding.status != "pass"]
    return offenders or [overall()]


# -- the checks -------------------------------------------------------------------------------------------


def _check_rate(ctx: _Context) -> list[_Finding]:
    """Clause 2.2 (per-port flow control in msgs/s; CMPP 3.0 appendix 1: a group send counts n): the load the
    partner offered (accepted and refused submits, by recipients) in every sliding ``rate_window``, against
    the contracted rate, or a raised one while a ``capacity.changed`` raise is in force (cuts are judged by
    ``emergency_cut``, with their grace period)."""
    th = ctx.thresholds
    points = _load(ctx.submits())
    contract = ctx.terms.rate
    if contract is None or contract <= 0:
        peak, first, last = _peak(points, th.rate_window)
        cited = (f"peak {peak:g} messages from {first:.3f} to {last:.3f}",) if points else ()
        return [_Finding("pass", peak / th.rate_window if points else None, "not limited", cited,
                         f"not limited (no contracted rate); peak offered {peak / th.rate_window:g} msgs/s")]
    steps = _capacity_steps(ctx, contract)
    step_times = [step.at for step in steps]
    worst: tuple[float, float, float, float, float] | None = None  # ratio, total, first, last, allowed
    for first, last, total in _windows(points, th.rate_window):
        index = bisect.bisect_right(step_times, last) - 1
        raised = steps[index].after if index >= 0 else None
        allowed = max(contract, raised) if raised is not None else contract
        ratio = total / (allowed * th.rate_window)
        if worst is None or ratio > worst[0]:
            worst = (ratio, total, first, last, allowed)
    threshold = (f"<= {contract:g} msgs/s in any {th.rate_window:g} s window (warn up to {th.rate_warn_factor:g}x)")
    if worst is None:
        return [_Finding("pass", None, threshold, (), "no submits in the period")]
    ratio, total, first, last, allowed = worst
    offered = total / th.rate_window
    status: Status = "pass" if ratio <= 1 + _EPSILON else "warn" if ratio <= th.rate_warn_factor else "fail"
    throttled = sum(1 for event in ctx.of("submit.refused") if event.text("reason") in th.throttle_reasons)
    evidence = [f"peak {total:g} messages from {first:.3f} to {last:.3f}", f"allowed {allowed:g} msgs/s then"]
    if throttled:
        evidence.append(f"{throttled} submits refused as throttled")
    return [_Finding(status, offered, threshold, tuple(evidence),
                     f"peak offered {offered:g} msgs/s against {allowed:g} msgs/s ({ratio:.0%})")]


def _check_window(ctx: _Context) -> list[_Finding]:
    """Clause 2.2 (the window, CMPP W = 16, cmpp.md §7.1; SMPP 3.4 §2.5.2): requests beyond the account's
    window, per session (``protocol.violation`` kind ``window``)."""
    return _count_violations(ctx, "window", ctx.thresholds.window_warn_max, "window overrun",
                             f"window {ctx.terms.window}")


def _check_duplicate_sequence(ctx: _Context) -> list[_Finding]:
    """Clause 2.7 (spec-conformant protocols): a request must not reuse the sequence number of one still
    awaiting its answer (CMPP Sequence_Id, cmpp.md §1.1: a request and its response carry the same one; SMPP
    3.4 sequence_number, §5.1.4), per session."""
    return _count_violations(ctx, "duplicate_sequence", ctx.thresholds.duplicate_warn_max,
                             "duplicate sequence number", "of an outstanding request")


def _count_violations(ctx: _Context, kind: str, warn_max: int, noun: str, context: str) -> list[_Finding]:
    violations = [event for event in ctx.of("protocol.violation") if event.detail.get("kind") == kind]
    threshold = f"0 pass, <= {warn_max} per session warn, more fail ({context})"

    def one(session: str | None, events: list[_Event]) -> _Finding:
        status: Status = "warn" if len(events) <= warn_max else "fail"
        return _Finding(status, len(events), threshold, ctx.cite([event.where for event in events]),
                        f"{len(events)} x {noun} ({context})", session)

    def overall() -> _Finding:
        return _Finding("pass", 0, threshold, (), f"no {noun}s ({context})")

    return _per_session(_grouped(violations), one, overall)


class _Backoff(NamedTuple):
    """What one session (or an account, merged) did after its throttles."""

    throttles: int
    pauses: tuple[float, ...]  # after each throttle, the pause the session made (see _pause)
    storms: tuple[str, ...]  # evidence of every throttle followed by a retry storm
    messages: frozenset[str]  # digests of the throttled messages
    resent: frozenset[str]  # ... submitted again afterwards
    recovered: frozenset[str]  # ... and accepted afterwards
    same_sequence: int  # immediate resends that reused the throttled request's sequence number

    def merge(self, other: _Backoff) -> _Backoff:
        return _Backoff(self.throttles + other.throttles, self.pauses + other.pauses, self.storms + other.storms,
                        self.messages | other.messages, self.resent | other.resent,
                        self.recovered | other.recovered, self.same_sequence + other.same_sequence)


_NO_BACKOFF: Final = _Backoff(0, (), (), frozenset(), frozenset(), frozenset(), 0)


class _Digests:
    """The account's submits by digest (equal digests: the same content to the same recipients)."""

    def __init__(self, submits: Iterable[_Event]) -> None:
        self._events: dict[str, list[_Event]] = defaultdict(list)
        for event in submits:
            digest = event.detail.get("digest")
            if isinstance(digest, str):
                self._events[digest].append(event)
        self._keys = {digest: [event.key for event in events] for digest, events in self._events.items()}
        #: For every position, whether that submit or a later one of the same message was accepted.
        self._accepted_from: dict[str, list[bool]] = {}
        for digest, events in self._events.items():
            flags = [False] * (len(events) + 1)
            for position in range(len(events) - 1, -1, -1):
                flags[position] = flags[position + 1] or events[position].kind == "submit.accepted"
            self._accepted_from[digest] = flags

    def follow(self, event: _Event) -> tuple[_Event | None, bool]:
        """The next submit of the same message after ``event`` (on any session), and whether one was accepted."""
        digest = event.detail.get("digest")
        if not isinstance(digest, str) or digest not in self._events:
            return None, False
        position = bisect.bisect_right(self._keys[digest], event.key)
        events = self._events[digest]
        return (events[position] if position < len(events) else None), self._accepted_from[digest][position]


def _check_throttle_backoff(ctx: _Context) -> list[_Finding]:
    """Clause 2.2 (over the limit: CMPP Result 8, SMPP ESME_RTHROTTLED) and cmpp.md §7.2: a throttled partner
    pauses (SMSGate stops for 40 ms) and then resends the same message instead of dropping it.

    The pause after a throttle is the first gap of at least ``min_backoff`` between the session's next
    ``storm_submits`` + 1 submits (up to that many may have been in flight when the answer left), else the
    longest of those gaps; the median pause must reach ``min_backoff`` (else a warning). More than ``storm_submits``
    submits within ``min_backoff`` after any throttle is a retry storm (a failure). Whether throttled messages
    were resent (a later submit with the same digest, on any session) and then accepted is reported: resending
    is the expected behaviour, dropping is not judged (the period may end before a resend)."""
    th = ctx.thresholds
    storm_limit = th.storm_submits if th.storm_submits is not None else ctx.terms.window
    submits = ctx.submits()
    digests = _Digests(submits)
    analyses = {session: _backoff(events, digests, th, storm_limit) for session, events in _grouped(submits).items()
                if any(_throttled(event, th) for event in events)}
    threshold = (f"median pause >= {_seconds(th.min_backoff)} after a throttle; "
                 f"<= {storm_limit} submits within {_seconds(th.min_backoff)} of one")

    def finding(analysis: _Backoff, status: Status | None, session: str | None = None) -> _Finding:
        median = statistics.median(analysis.pauses) if analysis.pauses else None
        if status is None:
            status = ("fail" if analysis.storms
                      else "warn" if median is not None and median < th.min_backoff else "pass")
        storms = f"; {len(analysis.storms)} retry storms" if analysis.storms else ""
        summary = (f"{analysis.throttles} throttles, median pause {_seconds(median)}{storms}; "
                   f"{len(analysis.resent)}/{len(analysis.messages)} throttled messages resent")
        return _Finding(status, median, threshold, ctx.cite([*analysis.storms, *_resend_evidence(analysis)]),
                        summary, session)

    def overall() -> _Finding:
        if not analyses:
            return _Finding("pass", None, threshold, (), "never throttled")
        merged = _NO_BACKOFF
        for analysis in analyses.values():
            merged = merged.merge(analysis)
        return finding(merged, "pass")

    return _per_session(analyses, lambda session, analysis: finding(analysis, None, session), overall)


def _throttled(event: _Event, th: Thresholds) -> bool:
    return event.kind == "submit.refused" and event.text("reason") in th.throttle_reasons


def _backoff(submits: list[_Event], digests: _Digests, th: Thresholds, storm_limit: int) -> _Backoff:
    """One session's submits (in time order) after its throttles."""
    times = [event.at for event in submits]
    gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
    pauses: list[float] = []
    storms: list[str] = []
    messages: set[str] = set()
    resent: set[str] = set()
    recovered: set[str] = set()
    throttles = same_sequence = 0
    for index, event in enumerate(submits):
        if not _throttled(event, th):
            continue
        throttles += 1
        following = bisect.bisect_left(times, event.at + th.min_backoff - _EPSILON) - index - 1
        if following > storm_limit:
            storms.append(f"throttled {event.where}, then {following} submits within {_seconds(th.min_backoff)}")
        pause = _pause(gaps, index, storm_limit + 1, th.min_backoff)
        if pause is not None:
            pauses.append(pause)
        digest = event.detail.get("digest")
        if not isinstance(digest, str):
            continue
        messages.add(digest)
        resend, accepted = digests.follow(event)
        if resend is not None:
            resent.add(digest)
            sequence = event.detail.get("sequence")
            same_sequence += sequence is not None and resend.detail.get("sequence") == sequence
        if accepted:
            recovered.add(digest)
    return _Backoff(throttles, tuple(pauses), tuple(storms), frozenset(messages), frozenset(resent),
                    frozenset(recovered), same_sequence)


def _pause(gaps: Sequence[float], index: int, lookahead: int, enough: float) -> float | None:
    """The session's pause after its submit at ``index`` (``gaps[i]``: the time from submit i to the next):
    the first gap of at least ``enough`` among the next ``lookahead`` (the submits in flight when the answer
    left may come first), else the longest of them; ``None`` when nothing followed."""
    ahead = gaps[index:index + lookahead]
    for gap in ahead:
        if gap >= enough - _EPSILON:
            return gap
    return max(ahead) if ahead else None


def _resend_evidence(analysis: _Backoff) -> list[str]:
    if not analysis.messages:
        return []
    total = len(analysis.messages)
    items = [f"{len(analysis.resent)}/{total} throttled messages resent, {len(analysis.recovered)} then accepted"]
    if analysis.same_sequence:
        items.append(f"{analysis.same_sequence} resends reused the sequence number")
    if total > len(analysis.resent):
        items.append(f"{total - len(analysis.resent)} throttled messages not resent in the period")
    return items


_ATTEMPTS: Final = ("session.bound", "session.connected", "session.refused")


def _check_reconnect(ctx: _Context) -> list[_Finding]:
    """Clause 2.9 (maintenance: TERMINATE, then refusals, then recovery; cmpp.md §7.3) and reliability.md §5.2
    S8/S9: bind/CONNECT attempts must not come as a storm (``reconnect_storm_attempts`` within
    ``reconnect_storm_window``), and a partner refused again and again must wait longer each time.

    Attempts count whether or not a close preceded them: a refused bind's connection closes with no account,
    so a storm of refused binds has no ``session.closed`` of its own. Closes and maintenance are cited with
    the delay to the next attempt."""
    th = ctx.thresholds
    attempts = ctx.of(*_ATTEMPTS)
    storm = max(th.reconnect_storm_attempts, ctx.terms.max_connections + 1)
    threshold = (f"< {storm} attempts in {th.reconnect_storm_window:g} s; a run of >= {th.reconnect_min_refusals} "
                 f"refusals must back off (last interval >= {th.reconnect_growth:g}x the first)")
    if not attempts:
        return [_Finding("pass", None, threshold, (), "no bind attempts in the period")]
    peak, first, last = _peak([(event.at, 1.0) for event in attempts], th.reconnect_storm_window)
    evidence: list[str] = []
    if peak >= storm:
        evidence.append(f"{peak:g} attempts from {first:.3f} to {last:.3f}")
    flat = [run for run in _refused_runs(attempts, th.reconnect_min_refusals)
            if not _grows([b.at - a.at for a, b in itertools.pairwise(run)], th.reconnect_growth)]
    evidence.extend(f"{len(run)} refusals from {run[0].at:.3f}, intervals "
                    f"{', '.join(f'{b.at - a.at:.3g}' for a, b in itertools.pairwise(run))} s" for run in flat)
    times = [event.at for event in attempts]
    for trigger in ctx.of("session.closed", "maintenance.started"):
        index = bisect.bisect_right(times, trigger.at)
        if index < len(times):
            what = f"{trigger.session} closed" if trigger.kind == "session.closed" else "maintenance started"
            evidence.append(f"{what} at {trigger.at:.3f}: next attempt after {_seconds(times[index] - trigger.at)}")
    refused = sum(1 for event in attempts if event.kind == "session.refused")
    status: Status = "fail" if peak >= storm else "warn" if flat else "pass"
    summary = f"{len(attempts)} attempts ({refused} refused), peak {peak:g} in {th.reconnect_storm_window:g} s"
    if flat:
        summary += f"; {len(flat)} refused runs without growing back-off"
    return [_Finding(status, peak, threshold, ctx.cite(evidence), summary)]


def _refused_runs(attempts: list[_Event], minimum: int) -> list[list[_Event]]:
    runs: list[list[_Event]] = [[]]
    for event in attempts:
        if event.kind == "session.refused":
            runs[-1].append(event)
        elif runs[-1]:
            runs.append([])
    return [run for run in runs if len(run) >= minimum]


def _grows(intervals: list[float], growth: float) -> bool:
    return intervals[-1] > 0 and intervals[-1] >= growth * intervals[0]


def _check_keepalive(ctx: _Context) -> list[_Finding]:
    """Link supervision (CMPP C = 3 min, T = 60 s, N = 3, cmpp.md §7.1; SMPP enquire_link; reliability.md
    §5.2 S4): a session closed because our probes went unanswered fails; slow answers are a warning."""
    th = ctx.thresholds
    markers = tuple(marker.lower() for marker in th.keepalive_lost_markers)
    events = [event for event in ctx.of("keepalive.answered", "session.disconnect")
              if event.kind == "keepalive.answered" or _lost(event, markers)]
    threshold = f"every probe answered; p95 answer time <= {_seconds(th.keepalive_rtt_p95)}"

    def rtts(events: Iterable[_Event]) -> list[float]:
        return [rtt for event in events if event.kind == "keepalive.answered"
                for rtt in (event.number("rtt"),) if rtt is not None]

    def one(session: str | None, events: list[_Event]) -> _Finding:
        lost = [event for event in events if event.kind == "session.disconnect"]
        p95 = _p95(rtts(events))
        status: Status = ("fail" if lost else "warn" if p95 is not None and p95 > th.keepalive_rtt_p95 else "pass")
        evidence = [f"closed at {event.at:.3f}: {event.text('reason')}" for event in lost]
        answered = len(events) - len(lost)
        if answered:
            evidence.append(f"{answered} probes answered, p95 {_seconds(p95)}")
        summary = "keep-alive probes went unanswered" if lost else f"p95 answer time {_seconds(p95)}"
        return _Finding(status, p95, threshold, ctx.cite(evidence), summary, session)

    def overall() -> _Finding:
        answered = rtts(events)
        if not answered:
            return _Finding("pass", None, threshold, (), "no keep-alive probes in the period")
        p95 = _p95(answered)
        return _Finding("pass", p95, threshold, (f"{len(answered)} probes answered",),
                        f"p95 answer time {_seconds(p95)}")

    return _per_session(_grouped(events), one, overall)


def _lost(event: _Event, markers: tuple[str, ...]) -> bool:
    reason = (event.text("reason") or "").lower()
    return any(marker in reason for marker in markers)


def _check_receipt_ack(ctx: _Context) -> list[_Finding]:
    """Receipts (CMPP DELIVER report, SMPP deliver_sm receipt) must be acknowledged, promptly (reliability.md
    §5.3 W4; CMPP T = 60 s): a receipt unacknowledged ``receipt_ack_timeout`` after it was first sent fails,
    a slow p95 warns. The latency is the event's ``latency`` or, without it, the time since the last send."""
    th = ctx.thresholds
    threshold = (f"acknowledged within {_seconds(th.receipt_ack_timeout)}; "
                 f"p95 latency <= {_seconds(th.receipt_ack_p95)}")
    sent: dict[str, list[float]] = defaultdict(list)
    acked: dict[str, list[float]] = defaultdict(list)
    latencies: list[float] = []
    for event in ctx.of("receipt.sent", "receipt.acked"):
        message_id = event.text("message_id")
        if message_id is None:
            continue
        if event.kind == "receipt.sent":
            sent[message_id].append(event.at)
            continue
        acked[message_id].append(event.at)
        latency = event.number("latency")
        earlier = [at for at in sent.get(message_id, ()) if at <= event.at]
        if latency is None and earlier:
            latency = event.at - earlier[-1]
        if latency is not None:
            latencies.append(latency)
    overdue: list[str] = []
    for message_id, times in sent.items():
        acks = acked.get(message_id, [])
        waiting = [at for at in times if not any(ack >= at for ack in acks)]
        if waiting and ctx.end - waiting[0] >= th.receipt_ack_timeout:
            overdue.append(f"message {message_id} sent at {waiting[0]:.3f} ({len(waiting)} sends), never acked")
    refused = len(ctx.of("receipt.refused"))
    retried = sum(1 for times in sent.values() if len(times) > 1)
    p95 = _p95(latencies)
    if not sent and not acked:
        return [_Finding("pass", None, threshold, (), "no receipts in the period")]
    evidence = list(overdue)
    if refused:
        evidence.append(f"{refused} receipts answered with an error")
    if retried:
        evidence.append(f"{retried} receipts sent more than once")
    if not sent:
        evidence.append("no receipt.sent events: unacknowledged receipts cannot be seen")
    status: Status = "fail" if overdue else "warn" if p95 is not None and p95 > th.receipt_ack_p95 else "pass"
    summary = f"{len(acked)} acknowledged, p95 latency {_seconds(p95)}"
    if overdue:
        summary += f"; {len(overdue)} never acknowledged"
    return [_Finding(status, p95, threshold, ctx.cite(evidence), summary)]


def _check_policy(ctx: _Context) -> list[_Finding]:
    """Clauses 1.3, 2.8, 3.2-3.9 and 4.5 as policy rules: a violation of a rule in ``enforce`` mode fails (the
    submit was refused with its code), one in ``monitor`` mode only warns."""
    violations = ctx.of("policy.violation")
    threshold = "no violations (enforce: fail, monitor: warn)"
    if not violations:
        return [_Finding("pass", 0, threshold, (), "no policy violations")]
    enforced = [event for event in violations if event.text("mode") != "monitor"]
    rules = sorted({f"{event.text('rule')} ({'monitor' if event.text('mode') == 'monitor' else 'enforce'})"
                    for event in violations})
    evidence = [f"{event.text('rule')} [{event.text('mode')}] {event.where} ({event.session})" for event in violations]
    evidence.extend(f"account suspended at {event.at:.3f}" for event in ctx.of("account.suspended"))
    status: Status = "fail" if enforced else "warn"
    return [_Finding(status, len(violations), threshold, ctx.cite(evidence),
                     f"{len(violations)} violations ({len(enforced)} enforced): {', '.join(rules)}")]


class _Step(NamedTuple):
    """One ``capacity.changed`` for the account: the rate in force before and after (``None``: unlimited)."""

    at: float
    before: float | None
    after: float | None
    event: _Event


def _capacity_steps(ctx: _Context, base: float | None) -> list[_Step]:
    """The account's rate over time: a ``rate`` is absolute, a ``factor`` applies to ``base`` (the
    contracted rate, or a measured one); a change of the window alone keeps the rate."""
    steps: list[_Step] = []
    current = ctx.terms.rate
    for event in ctx.of("capacity.changed"):
        rate, factor = event.number("rate"), event.number("factor")
        after = current
        if rate is not None and rate > 0:
            after = rate
        elif factor is not None and factor > 0:
            after = base * factor if base is not None else None
        steps.append(_Step(event.at, current, after, event))
        current = after
    return steps


def _check_emergency_cut(ctx: _Context) -> list[_Finding]:
    """Clauses 3.14 and 3.15: after an emergency cut (``capacity.changed`` to a lower rate, or by a factor
    below 1) the partner must slow down: from ``cut_grace`` after the cut until the next change, its offered
    load in every sliding ``rate_window`` stays within ``cut_tolerance`` times the new rate. A factor applies
    to the contracted rate or, for an unlimited account, to its peak load over ``cut_baseline`` before the
    first change."""
    th = ctx.thresholds
    changes = ctx.of("capacity.changed")
    threshold = (f"<= {th.cut_tolerance:g}x the cut rate in any {th.rate_window:g} s window, "
                 f"from {th.cut_grace:g} s after the cut")
    submits = ctx.submits()
    base = ctx.terms.rate
    if base is None and changes:
        before = [event for event in submits if changes[0].at - th.cut_baseline <= event.at < changes[0].at]
        base = _peak(_load(before), th.rate_window)[0] / th.rate_window or None
    steps = _capacity_steps(ctx, base)
    evidence: list[str] = []
    statuses: list[Status] = []
    worst: float | None = None
    for index, step in enumerate(steps):
        if not _is_cut(step):
            continue
        if step.after is None:
            evidence.append(f"cut at {step.at:.3f}: no rate to judge by (unlimited, no load before it)")
            continue
        start = step.at + th.cut_grace
        stop = steps[index + 1].at if index + 1 < len(steps) else math.inf
        if stop <= start:
            evidence.append(f"cut at {step.at:.3f}: superseded within the grace period")
            continue
        load = _load(event for event in submits if start <= event.at < stop)
        peak, first, last = _peak(load, th.rate_window)
        offered = peak / th.rate_window
        statuses.append("pass" if offered <= step.after * th.cut_tolerance + _EPSILON else "fail")
        worst = offered if worst is None else max(worst, offered)
        was = "unlimited" if step.before is None else f"{step.before:g}"
        where = f" from {first:.3f} to {last:.3f}" if load else ""
        evidence.append(f"cut at {step.at:.3f}: {was} -> {step.after:g} msgs/s; peak {offered:g} msgs/s{where}")
    if not evidence:
        return [_Finding("pass", None, threshold, (), "no emergency cut in the period")]
    failed = statuses.count("fail")
    summary = f"{len(statuses)} cuts judged, {failed} not obeyed" if failed else f"{len(statuses)} cuts judged, obeyed"
    return [_Finding(_worst(statuses), worst, threshold, ctx.cite(evidence), summary)]


def _is_cut(step: _Step) -> bool:
    """A lower rate than before, a first limit on an unlimited account, or a factor below 1."""
    factor = step.event.number("factor")
    if factor is not None and 0 < factor < 1:
        return True
    return step.after is not None and (step.before is None or step.after < step.before)


#: Every check, by name, in report order.
CHECKS: Final[Mapping[str, _Check]] = MappingProxyType({
    "rate": _check_rate,
    "window": _check_window,
    "throttle_backoff": _check_throttle_backoff,
    "reconnect": _check_reconnect,
    "keepalive": _check_keepalive,
    "receipt_ack": _check_receipt_ack,
    "duplicate_sequence": _check_duplicate_sequence,
    "policy": _check_policy,
    "emergency_cut": _check_emergency_cut,
})


# -- judging ----------------------------------------------------------------------------------------------


def judge(events: Iterable[Mapping[str, object]], accounts: Mapping[str, Account], *,
          thresholds: Thresholds = DEFAULT_THRESHOLDS, account: str | None = None) -> list[Verdict]:
    """Every check of :data:`CHECKS` for every account of ``accounts`` (or only ``account``; an account that
    is not configured has no terms to judge by and gives no verdicts), from audit ``events`` as
    :meth:`Store.events <simulator.store.Store.events>` returns them. Events of unconfigured accounts (a bind
    attempt naming an unknown system_id) are ignored."""
    checked = _normalise(events)
    end = checked[-1].at if checked else 0.0
    judged = [account] if account is not None else list(accounts)
    own: dict[str, list[_Event]] = defaultdict(list)
    broadcasts: list[_Event] = []
    for event in checked:
        if event.kind in _BROADCAST:
            broadcasts.append(event)
        elif event.account is not None:
            own[event.account].append(event)
    verdicts: list[Verdict] = []
    for account_id in judged:
        terms = accounts.get(account_id)
        if terms is None:
            continue
        by_kind: dict[str, list[_Event]] = defaultdict(list)
        for event in heapq.merge(own.get(account_id, ()), (e for e in broadcasts if _names(e, account_id)),
                                 key=lambda event: event.key):
            by_kind[event.kind].append(event)
        context = _Context(terms, thresholds, by_kind, end)
        for check, run in CHECKS.items():
            verdicts.extend(Verdict(check, account_id, finding.session, finding.status, finding.value,
                                    finding.threshold, finding.evidence, finding.summary)
                            for finding in run(context))
    return verdicts


def exit_status(verdicts: Iterable[Verdict]) -> int:
    """:data:`EXIT_FAILED` (3) when any check failed, else :data:`EXIT_OK` (0): warnings do not fail a run."""
    return EXIT_FAILED if any(verdict.status == "fail" for verdict in verdicts) else EXIT_OK


# -- reporting --------------------------------------------------------------------------------------------


def as_document(verdicts: Sequence[Verdict]) -> dict[str, object]:
    """``{"verdicts": [...], "failed": n}``: the JSON report and the control API's answer."""
    return {"verdicts": [verdict.to_dict() for verdict in verdicts],
            "failed": sum(1 for verdict in verdicts if verdict.status == "fail")}


def report(verdicts: Sequence[Verdict], fmt: str) -> str:
    """The verdicts as ``"table"`` (a header, then one line per verdict), ``"json"`` (:func:`as_document`,
    ASCII-only so any byte-oriented sink takes it) or ``"junit"`` (one testsuite, one testcase per verdict)."""
    renderer = _RENDERERS.get(fmt)
    if renderer is None:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}, not {fmt!r}")
    return renderer(verdicts)


def _value(value: float | None) -> str:
    return "-" if value is None else f"{value:.6g}"


def _table(verdicts: Sequence[Verdict]) -> str:
    header = ("STATUS", "ACCOUNT", "CHECK", "SESSION", "VALUE", "THRESHOLD", "SUMMARY")
    rows = [header, *((v.status.upper(), _clean(v.account), v.check, _clean(v.session or "-"), _value(v.value),
                       _clean(v.threshold, 200), _clean(v.summary, 200)) for v in verdicts)]
    widths = [max(len(row[column]) for row in rows) for column in range(len(header) - 1)]
    lines = ["  ".join([*(cell.ljust(width) for cell, width in zip(row, widths, strict=False)), row[-1]]).rstrip()
             for row in rows]
    return "\n".join(lines) + "\n"


def _json(verdicts: Sequence[Verdict]) -> str:
    return json.dumps(as_document(verdicts), indent=2) + "\n"


def _xml_safe(text: str) -> str:
    """``text`` with every character XML 1.0 cannot carry (controls, lone surrogates, U+FFFE/U+FFFF) escaped;
    ElementTree escapes the markup characters itself."""
    def allowed(char: str) -> bool:
        code = ord(char)
        return (code in (0x9, 0xA, 0xD) or 0x20 <= code <= 0xD7FF or 0xE000 <= code <= 0xFFFD
                or 0x10000 <= code <= 0x10FFFF)

    if all(allowed(char) for char in text):
        return text
    return "".join(char if allowed(char) else f"\\u{ord(char):04x}" for char in text)


def _junit(verdicts: Sequence[Verdict]) -> str:
    failures = sum(1 for verdict in verdicts if verdict.status == "fail")
    suite = ET.Element("testsuite", {"name": "smsclab.compliance", "tests": str(len(verdicts)),
                                     "failures": str(failures), "errors": "0", "skipped": "0"})
    for verdict in verdicts:
        case = ET.SubElement(suite, "testcase", {"classname": _xml_safe(f"compliance.{verdict.account}"),
                                                 "name": _xml_safe(verdict.name)})
        body = "\n".join([f"{verdict.status.upper()}: {verdict.summary}", f"value: {_value(verdict.value)}",
                          f"threshold: {verdict.threshold}", *(f"- {item}" for item in verdict.evidence)])
        if verdict.status == "fail":
            failure = ET.SubElement(case, "failure", {"message": _xml_safe(verdict.summary),
                                                      "type": _xml_safe(verdict.check)})
            failure.text = _xml_safe(body)
        else:
            ET.SubElement(case, "system-out").text = _xml_safe(body)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suite, encoding="unicode") + "\n"


_RENDERERS: Final[Mapping[str, Callable[[Sequence[Verdict]], str]]] = MappingProxyType({
    "table": _table, "json": _json, "junit": _junit,
})


def load_events(db_path: Path, *, since: float | None = None) -> list[dict[str, object]]:
    """The audit events of a store, oldest first, read without the simulator running (``smsclab report
    compliance``); the file is opened read-only."""
    if not db_path.exists():
        raise FileNotFoundError(f"{db_path}: no store here (is --data-dir right?)")
    connection = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        rows = connection.execute("SELECT at, account, kind, detail FROM events WHERE at >= ? ORDER BY id",
                                  (since if since is not None else float("-inf"),)).fetchall()
    except sqlite3.DatabaseError as error:
        raise FileNotFoundError(f"{db_path}: not a smsclab store ({error})") from None
    finally:
        connection.close()
    return [{"at": at, "account": account, "kind": kind, "detail": json.loads(detail)}
            for at, account, kind, detail in rows]
