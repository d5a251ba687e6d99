"""Scenarios: declarative TOML files of what a carrier does to its partners, replayed on the simulator's clock.

What it replays
---------------
The agreement (shared/seed/obligations.md) lets the carrier, Party B, act on the partner's traffic:

* clause 2.2: flow control, adjusted "to the SMSC's capacity at any time" -> ``throttle`` / ``capacity`` events;
* clause 2.8: restriction of abnormal, overloading bulk traffic -> ``bulk_guard`` events;
* clause 2.9: planned interruptions announced in advance with reason, time and period -> ``maintenance`` events
  with their advance ``notice`` lead times;
* clause 2.10: unforeseeable faults, notified as early as possible -> ``fault`` events, each with a fault notice
  ``notice_delay`` seconds after onset;
* clause 3.14: the partner obeys emergency volume adjustments -> ``capacity`` with a ``factor`` (a cut to 30%);

and ``notice`` events publish free-form notices.

Theory of operation
-------------------
A scenario file is TOML (``schema = 1``), read by :func:`load_scenario` with the machinery of
:mod:`simulator.config`: the same reader, the same TOML error reporting, the same schema combinators (``_Table``
and friends) and the same line finder, so that every mistake is one line ``FILE:LINE: message`` naming the allowed
values (:class:`ScenarioError` is a :class:`~simulator.config.ConfigError`; nothing else escapes, whatever the
input). Events are a discriminated union: ``kind`` (and for faults ``fault``) picks one table from
:data:`_KINDS` / :data:`_FAULT_KINDS`, which lists the keys that kind takes, the ones it requires, whether it has a
duration, and how it becomes its frozen dataclass.

:func:`timeline` lays the events out from a start instant as :class:`Step` s: advance notices, begins, ends,
instant applications and fault notices, sorted. Offsets (``+00:05:00``) count from the start; absolute RFC 3339
times and 5-field cron expressions (read in the scenario's time zone by :class:`Cron`, a small matcher of our own)
are fixed instants, of which only those at or after the start are kept.

:class:`ScenarioRunner` plays a timeline on a :class:`~simulator.clock.Clock` against a :class:`ScenarioTarget`
(the gateway implements it): it sleeps until each step, calls the target, and can be paused, resumed and told to
trigger an event by hand; :meth:`ScenarioRunner.status` reports done, active and next as JSON-able data.

The file format (schema 1)
-------------------------
Top level: ``schema = 1``, ``name``, ``description`` (optional; its first line is the summary), ``seed``
(optional, default 0: every random draw derives from it, see :meth:`Scenario.rng`), ``timezone`` (optional,
default ``Asia/Shanghai``: absolute times are shown in it, cron is read in it), and one ``[[events]]`` table per
event. Every event has ``kind`` (one of :data:`KINDS`), an optional ``id`` (default ``"<kind>-<n>"``, unique),
``accounts`` (default ``["*"]``: all; else account ids), and its time: ``at = "+HH:MM:SS"`` / ``"+Nd HH:MM:SS"``
(offset from the start) or an RFC 3339 time with an offset, or ``cron = "0 2 * * SUN"`` with ``count = N`` and/or
``until = <at>`` (without either, the timeline's horizon bounds it). ``duration = "HH:MM:SS"`` is required for a
maintenance and for recurring events, optional otherwise (absent: until the scenario ends), and refused for the
instant ones (``notice``, a ``disconnect`` fault). The keys of each kind:

* ``maintenance``: ``reason`` (required), ``mode`` (``refuse`` | ``terminate`` | ``silent``, default refuse),
  ``notice`` (lead times ``["24:00:00", "01:00:00"]``; each shorter than a relative ``at``);
* ``throttle`` / ``capacity``: ``rate`` (msgs/s) or ``factor`` (0 < f <= 1 of the contracted rate), and/or
  ``window``;
* ``fault``: ``fault`` (one of :data:`FAULTS`), ``notice_delay`` (seconds; absent: the gateway's default), and by
  fault: ``sessions`` (``"all"`` or N; disconnect, error_burst, latency, black_hole, half_open), ``ratio`` (0..1,
  default 1) and ``code = { cmpp = 8, smpp = "ESME_RSYSERR" }`` (error_burst), ``latency = { min, max }`` (seconds),
  ``delay = { min, max }`` (receipt_delay), ``outcomes = [{ stat, weight, err }]`` (receipt_failure, as in the
  config's receipt profiles);
* ``bulk_guard``: ``recipients`` and ``within`` (seconds) (required), ``mode`` (``enforce`` | ``monitor``);
* ``notice``: ``title`` and ``text``.

Ready scenarios live in ``scenarios/`` at the repository root (not inside the ``simulator`` package): found as
``Path(simulator.__file__).parents[1] / "scenarios"`` in a checkout or an editable install, or wherever the
``SMSCLAB_SCENARIOS`` environment variable points (needed for a non-editable install).
"""

from __future__ import annotations

import asyncio
import dataclasses
import difflib
import hashlib
import heapq
import itertools
import logging
import math
import os
import random
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import partial
from pathlib import Path
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from protocols.smpp import CommandStatus
from simulator.clock import Clock
from simulator.config import (
    _OUTCOME,
    _REJECTED,
    ConfigError,
    Outcome,
    _Array,
    _Check,
    _choice,
    _complaint,
    _Field,
    _integer,
    _locate,
    _number,
    _one_of,
    _parse,
    _Path,
    _read,
    _render,
    _SchemaError,
    _show,
    _Table,
    _text,
    _zone,
)

__all__ = [
    "ACTIONS",
    "DEFAULT_RECURRING_HORIZON",
    "FAULTS",
    "KINDS",
    "After",
    "At",
    "BulkGuard",
    "Capacity",
    "Cron",
    "ErrorCode",
    "Event",
    "EventBase",
    "Every",
    "Fault",
    "Maintenance",
    "Notice",
    "Scenario",
    "ScenarioError",
    "ScenarioRunner",
    "ScenarioTarget",
    "Step",
    "Timing",
    "find_scenario",
    "format_duration",
    "format_offset",
    "format_ready_list",
    "format_timeline",
    "load_scenario",
    "parse_duration",
    "parse_instant",
    "ready_scenarios",
    "scenarios_dir",
    "timeline",
]

_log = logging.getLogger(__name__)

KINDS = ("maintenance", "throttle", "capacity", "fault", "bulk_guard", "notice")
FAULTS = ("disconnect", "error_burst", "latency", "black_hole", "half_open", "receipt_delay", "receipt_failure")
#: Step actions; at one instant they run in this order (an end frees what a begin at the same time takes).
ACTIONS = ("end", "notice", "apply", "begin")
_RANK = {action: rank for rank, action in enumerate(ACTIONS)}

_MINUTE = 60
_HOUR = 3600
_DAY = 86_400
_WEEK = 7 * _DAY
#: How far recurring (cron) events are expanded when neither ``count``, ``until`` nor a horizon bounds them.
DEFAULT_RECURRING_HORIZON = float(_WEEK)
_MAX_OFFSET = 366 * _DAY
_MAX_DURATION = 366 * _DAY
_MAX_LEAD = 31 * _DAY
_YEARS = (1970, 2999)  # absolute times: far from datetime's limits, so that every sum below stays representable


class ScenarioError(ConfigError):
    """A mistake in a scenario file: ``str(error) == f"{file}:{line}: message"`` (``f"{file}: message"`` without a
    line). A :class:`~simulator.config.ConfigError`, so the command line prints both the same way."""


def format_duration(seconds: float) -> str:
    """``300`` -> ``"00:05:00"``, ``93600`` -> ``"1d 02:00:00"``, ``2.5`` -> ``"00:00:02.5"``."""
    whole, millis = divmod(round(seconds * 1000), 1000)
    fraction = f".{millis:03d}".rstrip("0") if millis else ""
    days, rest = divmod(whole, _DAY)
    clock = f"{rest // _HOUR:02d}:{rest % _HOUR // _MINUTE:02d}:{rest % _MINUTE:02d}{fraction}"
    return f"{days}d {clock}" if days else clock


def format_offset(seconds: float) -> str:
    """An offset from the start as scenario files write it: ``"+00:05:00"``, ``"+1d 02:00:00"``."""
    return ("-" if seconds < 0 else "+") + format_duration(abs(seconds))


# ---------------------------------------------------------------------------------------------------------
# Cron: minute hour day-of-month month day-of-week, in the scenario's time zone
# ---------------------------------------------------------------------------------------------------------

_MONTH_NAMES = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
_DAY_NAMES = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")


@dataclass(frozen=True)
class _CronField:
    title: str
    low: int
    high: int
    names: Mapping[str, int]


_CRON_FIELDS = (
    _CronField("minute", 0, 59, {}),
    _CronField("hour", 0, 23, {}),
    _CronField("day of month", 1, 31, {}),
    _CronField("month", 1, 12, {name: number for number, name in enumerate(_MONTH_NAMES, start=1)}),
    _CronField("day of week", 0, 7, {name: number for number, name in enumerate(_DAY_NAMES)}),  # 0 and 7: Sunday
)
_CRON_ALIASES = {
    "@hourly": "0 * * * *",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@weekly": "0 0 * * 0",
    "@monthly": "0 0 1 * *",
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
}
_CRON_PART = re.compile(r"(\*|[0-9A-Za-z]{1,3}(?:-[0-9A-Za-z]{1,3})?)(?:/([0-9]{1,2}))?")
_CRON_EXPECT = (
    'a cron expression "minute hour day-of-month month day-of-week" such as "0 2 * * SUN" '
    "(*, lists 1,3, ranges 1-5, steps */15; or @hourly, @daily, @weekly, @monthly, @yearly)"
)
_DAYS_IN_MONTH = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)  # February 29 does occur
_CRON_SEARCH_DAYS = 100 * 366  # give up looking for the next match after a century


class _CronSyntaxError(ValueError):
    pass


def _cron_value(text: str, spec: _CronField) -> int:
    upper = text.upper()
    if upper in spec.names:
        return spec.names[upper]
    if not text.isascii() or not text.isdigit() or not spec.low <= int(text) <= spec.high:
        names = list(spec.names)
        spelled = f" or {names[0]}..{names[-1]}" if names else ""
        raise _CronSyntaxError(f"{spec.title} {_show(text)} must be {spec.low}..{spec.high}{spelled}")
    return int(text)


def _cron_field(text: str, spec: _CronField) -> frozenset[int]:
    values: set[int] = set()
    for part in text.split(","):
        match = _CRON_PART.fullmatch(part)
        if match is None:
            raise _CronSyntaxError(f"{spec.title} field {_show(text)} is not *, a value, a range a-b or a step x/n")
        span, step_text = match[1], match[2]
        if span == "*":
            low, high = spec.low, spec.high
        elif "-" in span:
            low, high = (_cron_value(bound, spec) for bound in span.split("-"))
            if low > high:
                raise _CronSyntaxError(f"{spec.title} range {_show(span)} runs backwards")
        else:
            low = _cron_value(span, spec)
            high = spec.high if step_text else low  # "5/15": from 5 to the end in steps of 15
        step = 1 if step_text is None else int(step_text)
        if step == 0:
            raise _CronSyntaxError(f"{spec.title} step in {_show(part)} must be at least 1")
        values.update(range(low, high + 1, step))
    if spec.title == "day of week" and 7 in values:
        values = (values - {7}) | {0}
    return frozenset(values)


@dataclass(frozen=True)
class Cron:
    """A 5-field cron expression: minute, hour, day of month, month, day of week (0 or 7 = Sunday; names as in
    ``JAN`` and ``SUN``), each ``*``, a value, a range ``a-b``, a step ``*/n``, ``a-b/n`` or ``a/n``, or a list of
    these. As in Vixie cron, when both day fields are restricted (neither starts with ``*``) a day matching either
    one matches. Times are wall-clock times of the scenario's zone: a time skipped by a daylight-saving jump does
    not fire; a time that occurs twice fires once, the first time.
    """

    text: str
    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]  # 0 = Sunday
    either_day: bool  # both day fields restricted: a day matching either one matches

    @classmethod
    def parse(cls, text: str) -> Cron:
        """Raises ``ValueError`` with a one-line reason for anything but a valid expression that ever matches."""
        fields = _CRON_ALIASES.get(text.strip().lower(), text).split()
        if len(fields) != len(_CRON_FIELDS):
            raise _CronSyntaxError(f"has {len(fields)} fields, not 5")
        minutes, hours, days, months, weekdays = (
            _cron_field(field, spec) for field, spec in zip(fields, _CRON_FIELDS, strict=True)
        )
        either = not fields[2].startswith("*") and not fields[4].startswith("*")
        cron = cls(text, minutes, hours, days, months, weekdays, either)
        possible = either or any(day <= _DAYS_IN_MONTH[month - 1] for month in months for day in days)
        if not possible:
            raise _CronSyntaxError("never matches: no month of the expression has such a day")
        return cron

    def matches_day(self, day: date) -> bool:
        """Whether ``day`` (a date in the scenario's zone) is one of the expression's days."""
        if day.month not in self.months:
            return False
        by_date, by_weekday = day.day in self.days, (day.weekday() + 1) % 7 in self.weekdays
        return by_date or by_weekday if self.either_day else by_date and by_weekday

    def times(self, after: float, zone: ZoneInfo) -> Iterator[float]:
        """The matching instants (epoch seconds) at or after ``after``, in order; a century at most."""
        slots = sorted(time(hour, minute) for hour in self.hours for minute in self.minutes)
        day = datetime.fromtimestamp(after, zone).date()
        for _ in range(_CRON_SEARCH_DAYS):
            if self.matches_day(day):
                for slot in slots:
                    wall = datetime.combine(day, slot, tzinfo=zone)  # fold=0: the first of a repeated time
                    instant = wall.timestamp()
                    skipped = datetime.fromtimestamp(instant, zone).replace(tzinfo=None) != wall.replace(tzinfo=None)
                    if instant >= after and not skipped:
                        yield instant
            day += timedelta(days=1)


def _cron_check(value: object, path: _Path) -> Cron:
    if not isinstance(value, str):
        raise _complaint(path, _CRON_EXPECT, value)
    try:
        return Cron.parse(value)
    except _CronSyntaxError as error:
        raise _SchemaError(path, f"{_render(path)} {_show(value)}: {error} ({_CRON_EXPECT})") from None


# ---------------------------------------------------------------------------------------------------------
# The typed model
# ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class After:
    """An offset from the scenario's start, in seconds (``at = "+00:05:00"``)."""

    seconds: float


@dataclass(frozen=True)
class At:
    """An absolute instant (``at = "2026-11-30T02:00:00+08:00"``); always timezone-aware."""

    instant: datetime


@dataclass(frozen=True)
class Every:
    """A recurring event: each match of ``cron`` in the scenario's zone, at most ``count`` of them, none after
    ``until``; with neither, the timeline's horizon bounds it (:data:`DEFAULT_RECURRING_HORIZON` by default)."""

    cron: Cron
    count: int | None = None
    until: After | At | None = None


Timing = After | At | Every


@dataclass(frozen=True)
class ErrorCode:
    """The codes an ``error_burst`` answers submits with: CMPP ``Result`` and SMPP ``command_status``."""

    cmpp: int
    smpp: int


@dataclass(frozen=True, kw_only=True)
class EventBase:
    """What every event has: ``id`` (unique in the scenario), ``kind`` as written, the ``accounts`` it applies to
    (``("*",)``: all), its ``timing`` and its ``duration`` in seconds (``None``: instant, or until the scenario
    ends)."""

    id: str
    kind: str
    accounts: tuple[str, ...] = ("*",)
    timing: Timing = After(0.0)
    duration: float | None = None

    def applies_to(self, account_id: str) -> bool:
        """Whether the event concerns the account ``account_id``."""
        return self.accounts == ("*",) or account_id in self.accounts

    def summary(self) -> str:
        """One line saying what the event does."""
        return self.kind


@dataclass(frozen=True, kw_only=True)
class Maintenance(EventBase):
    """A planned interruption (clause 2.9), announced ``notice`` seconds ahead (leads, longest first) with its
    ``reason``, start and period. ``mode``: ``refuse`` (TCP refused, CONNECT_RESP status 5, ESME_RBINDFAIL),
    ``terminate`` (TERMINATE / unbind to bound partners, then refuse) or ``silent`` (nothing answered: the
    partner's own timers must notice)."""

    duration: float
    reason: str
    mode: str = "refuse"
    notice: tuple[float, ...] = ()

    def summary(self) -> str:
        return f"outage ({self.mode}): {self.reason}"


@dataclass(frozen=True, kw_only=True)
class Capacity(EventBase):
    """A flow-control change (clause 2.2) or an emergency cut (clause 3.14), ``kind`` ``throttle`` or
    ``capacity``: a new ``rate`` (messages/s) or a ``factor`` (0 < f <= 1) of each account's contracted rate,
    and/or a new ``window``. An account without a contracted rate is unlimited: a factor leaves it so."""

    rate: float | None = None
    factor: float | None = None
    window: int | None = None

    def summary(self) -> str:
        parts = [f"rate {self.rate:g}/s"] if self.rate is not None else []
        parts += [f"rate x{self.factor:g} of the contracted rate"] if self.factor is not None else []
        parts += [f"window {self.window}"] if self.window is not None else []
        return ", ".join(parts)


@dataclass(frozen=True, kw_only=True)
class Fault(EventBase):
    """An unforeseeable fault (clause 2.10), announced by a fault notice ``notice_delay`` seconds after onset
    (``None``: the gateway's configured default). ``fault`` is one of :data:`FAULTS`:

    * ``disconnect`` (instant): close ``sessions`` (``None``: all; else the first N in attach order);
    * ``error_burst``: refuse a ``ratio`` of submits with ``code``;
    * ``latency``: add a delay drawn uniformly from ``latency`` (min, max seconds) before each response;
    * ``black_hole``: read requests, never answer; ``half_open``: neither read nor write, keep the socket;
    * ``receipt_delay``: receipts ``delay`` (min, max seconds) after their submit;
    * ``receipt_failure``: receipts say one of ``outcomes`` (by weight) instead of the account's profile.

    Random draws come from :meth:`Scenario.rng`, so that a seed replays the same run.
    """

    fault: str
    sessions: int | None = None
    ratio: float = 1.0
    code: ErrorCode | None = None
    latency: tuple[float, float] | None = None
    delay: tuple[float, float] | None = None
    outcomes: tuple[Outcome, ...] = ()
    notice_delay: float | None = None

    def summary(self) -> str:
        return f"{self.fault}: {_FAULT_SUMMARIES[self.fault](self)}"


def _sessions_text(fault: Fault) -> str:
    return "all sessions" if fault.sessions is None else f"the first {fault.sessions} session(s)"


def _code_text(code: ErrorCode | None) -> str:
    if code is None:
        return "?"
    try:
        smpp = CommandStatus(code.smpp).name
    except ValueError:  # a vendor code (0x400-0x4FF) or any other integer the file gave
        smpp = f"0x{code.smpp:08X}"
    return f"CMPP Result {code.cmpp} / SMPP {smpp}"


def _span_text(span: tuple[float, float] | None) -> str:
    return "?" if span is None else f"{span[0]:g}..{span[1]:g} s"


def _outcomes_text(outcomes: tuple[Outcome, ...]) -> str:
    total = sum(outcome.weight for outcome in outcomes) or 1.0
    return ", ".join(f"{o.stat} {o.weight / total:.0%}" + (f" (err {o.err})" if o.err else "") for o in outcomes)


_FAULT_SUMMARIES: Mapping[str, Callable[[Fault], str]] = {
    "disconnect": lambda f: f"close {_sessions_text(f)}",
    "error_burst": lambda f: f"{f.ratio:.0%} of submits refused with {_code_text(f.code)} on {_sessions_text(f)}",
    "latency": lambda f: f"{_span_text(f.latency)} added before each response on {_sessions_text(f)}",
    "black_hole": lambda f: f"requests read and never answered on {_sessions_text(f)}",
    "half_open": lambda f: f"{_sessions_text(f)} left half-open: nothing read, nothing sent",
    "receipt_delay": lambda f: f"receipts {_span_text(f.delay)} after their submit",
    "receipt_failure": lambda f: f"receipts say {_outcomes_text(f.outcomes)}",
}


@dataclass(frozen=True, kw_only=True)
class BulkGuard(EventBase):
    """The abnormal-bulk restriction (clause 2.8): the same content to more than ``recipients`` numbers within
    ``within`` seconds is refused and recorded (``mode = "enforce"``) or only recorded (``"monitor"``)."""

    recipients: int
    within: float
    mode: str = "enforce"

    def summary(self) -> str:
        return f"{self.mode}: same content to more than {self.recipients} recipients within {self.within:g} s"


@dataclass(frozen=True, kw_only=True)
class Notice(EventBase):
    """A free-form notice to the accounts: published at its time, nothing else happens."""

    title: str
    text: str

    def summary(self) -> str:
        return self.title


Event = Maintenance | Capacity | Fault | BulkGuard | Notice


@dataclass(frozen=True)
class Scenario:
    """A validated scenario file; ``path`` is where it was read from."""

    name: str
    description: str
    seed: int
    timezone: str
    events: tuple[Event, ...]
    path: Path | None = None

    @property
    def zone(self) -> ZoneInfo:
        """The scenario's time zone: absolute times are shown in it, cron expressions are read in it."""
        return ZoneInfo(self.timezone)

    def event(self, event_id: str) -> Event:
        """The event whose id is ``event_id``; ``LookupError`` naming the ids if there is none."""
        for event in self.events:
            if event.id == event_id:
                return event
        raise LookupError(f"no event {event_id!r} in scenario {self.name} (ids: {', '.join(self.ids)})")

    @property
    def ids(self) -> tuple[str, ...]:
        """The event ids, in file order."""
        return tuple(event.id for event in self.events)

    def rng(self, event_id: str, occurrence: int = 1) -> random.Random:
        """The random generator of one occurrence of one event, derived from the scenario's ``seed`` only: the
        same seed draws the same error-burst refusals, latencies and receipt outcomes on every run."""
        digest = hashlib.sha256(f"{self.seed}:{event_id}:{occurrence}".encode()).digest()
        return random.Random(int.from_bytes(digest[:8], "big"))


# ---------------------------------------------------------------------------------------------------------
# The schema: config.py's combinators, one table per kind of event
# ---------------------------------------------------------------------------------------------------------

_OFFSET = re.compile(r"\+(?:([0-9]{1,3})d[ \t]*)?([0-9]{1,4}):([0-5][0-9]):([0-5][0-9])")
_DURATION = re.compile(r"(?:([0-9]{1,3})d[ \t]*)?([0-9]{1,4}):([0-5][0-9]):([0-5][0-9])")
_RFC3339 = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{1,9})?(?:[Zz]|[+-][0-9]{2}:[0-9]{2})"
)


def _clock_seconds(match: re.Match[str]) -> float:
    days, hours, minutes, seconds = (int(group or 0) for group in match.groups())
    return float(days * _DAY + hours * _HOUR + minutes * _MINUTE + seconds)


def _instant(value: object) -> datetime | None:
    """An aware datetime from a TOML offset date-time or an RFC 3339 string; ``None`` if it is neither."""
    if isinstance(value, str) and _RFC3339.fullmatch(value):
        try:
            value = datetime.fromisoformat(value.upper().replace("Z", "+00:00"))
        except ValueError:  # a 31st of April, a 25th hour
            return None
    if not isinstance(value, datetime) or value.utcoffset() is None:
        return None
    return value if _YEARS[0] <= value.year <= _YEARS[1] else None


def _moment(value: object) -> object:
    if isinstance(value, str) and (match := _OFFSET.fullmatch(value)):
        seconds = _clock_seconds(match)
        return After(seconds) if seconds <= _MAX_OFFSET else _REJECTED
    instant = _instant(value)
    return _REJECTED if instant is None else At(instant)


def _span(low: float, high: float) -> _Field:
    """A duration ``"HH:MM:SS"`` or ``"Nd HH:MM:SS"`` (or a bare TOML time) in ``(low, high]``, as seconds."""

    def accept(value: object) -> object:
        if isinstance(value, time) and value.tzinfo is None:
            seconds = value.hour * _HOUR + value.minute * _MINUTE + value.second + value.microsecond / 1e6
        elif isinstance(value, str) and (match := _DURATION.fullmatch(value)):
            seconds = _clock_seconds(match)
        else:
            return _REJECTED
        return float(seconds) if low < seconds <= high else _REJECTED

    top = format_duration(high)
    return _Field(f'a duration "HH:MM:SS" or "Nd HH:MM:SS", above {format_duration(low)} and at most {top}', accept)


_MOMENT_EXPECT = (
    f'an offset from the start "+HH:MM:SS" or "+Nd HH:MM:SS" (at most +{format_duration(_MAX_OFFSET)}), '
    f'or an RFC 3339 time with an offset such as "2026-11-30T02:00:00+08:00" (years {_YEARS[0]}..{_YEARS[1]})'
)
_MOMENT = _Field(_MOMENT_EXPECT, _moment)
_DURATION_FIELD = _span(0, _MAX_DURATION)
_LEAD = _span(0, _MAX_LEAD)
_ACCOUNT = re.compile(r"[A-Za-z0-9]{1,6}")  # config.Account.id: the CMPP SP_Id and SMPP system_id
_ACCOUNTS_EXPECT = 'a non-empty array: ["*"] for all accounts, or account ids (1..6 letters or digits)'


def _accounts(value: object, path: _Path) -> tuple[str, ...]:
    if not isinstance(value, list) or not value:
        raise _complaint(path, _ACCOUNTS_EXPECT, value)
    seen: dict[str, int] = {}
    for index, item in enumerate(value):
        where = (*path, index)
        if not isinstance(item, str) or not (item == "*" or _ACCOUNT.fullmatch(item)):
            raise _complaint(where, '"*" or an account id (1..6 letters or digits)', item)
        if item in seen:
            raise _SchemaError(where, f"{_render(where)} {_show(item)} repeats {_render((*path, seen[item]))}")
        if item == "*" and len(value) > 1:
            raise _SchemaError(where, f'{_render(where)} "*" means all accounts: it stands alone')
        seen[item] = index
    return tuple(value)


def _smpp_status(value: object, path: _Path) -> int:
    names = [status.name for status in CommandStatus if status is not CommandStatus.ESME_ROK]
    expect = "a command_status name of protocols.smpp.CommandStatus such as ESME_RSYSERR, or an integer 1..4294967295"
    if type(value) is int and 1 <= value <= 0xFFFFFFFF:
        return value
    if isinstance(value, str) and value in names:
        return int(CommandStatus[value])
    if isinstance(value, str):
        close = difflib.get_close_matches(value.upper(), names, n=1)
        hint = f" (did you mean {close[0]}?)" if close else ""
        raise _SchemaError(path, f"{_render(path)} must be {expect}, got {_show(value)}{hint}")
    raise _complaint(path, expect, value)


def _min_max(high: float) -> _Table[tuple[float, float]]:
    def build(values: dict[str, Any], path: _Path) -> tuple[float, float]:
        if values["max"] < values["min"]:
            where = (*path, "max")
            message = f"{_render(where)} must be at least min ({values['min']:g}), got {values['max']:g}"
            raise _SchemaError(where, message)
        return (values["min"], values["max"])

    bound = _number(0, high)
    return _Table({"min": bound, "max": bound}, build=build, required=("min", "max"))


def _sessions(value: object) -> object:
    if value == "all" and isinstance(value, str):
        return None
    return value if type(value) is int and 1 <= value <= 100_000 else _REJECTED


_ERROR_CODE = _Table(
    {"cmpp": _integer(1, 255), "smpp": _smpp_status},
    build=lambda values, path: ErrorCode(values["cmpp"], values["smpp"]),
    required=("cmpp", "smpp"),
)
_NOT_EMPTY = _text(r"[\s\S]*\S[\s\S]*", "a non-empty string")

#: Keys every event takes. An event gives ``at`` or ``cron`` (``count`` and ``until`` bound a cron).
_COMMON: Mapping[str, _Check] = {
    "id": _text(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}", "1..64 letters, digits, '_', '.' or '-', not starting with _.-"),
    "kind": _one_of(*KINDS),
    "at": _MOMENT,
    "cron": _cron_check,
    "count": _integer(1, 10_000),
    "until": _MOMENT,
    "accounts": _accounts,
    "duration": _DURATION_FIELD,
}


@dataclass(frozen=True)
class _Kind:
    """The schema of one kind of event: its own keys (besides :data:`_COMMON`), the required ones, whether it has
    a duration (``"required"``, ``"optional"`` or ``"none"``: instant), and the class it becomes."""

    fields: Mapping[str, _Check]
    make: Callable[..., Event]
    required: tuple[str, ...] = ()
    duration: str = "optional"


def _check_leads(values: dict[str, Any], path: _Path) -> None:
    """Clause 2.9: each advance notice must fall after the start, i.e. lead < the event's offset."""
    leads: tuple[float, ...] = values.get("notice", ())
    for index, lead in enumerate(leads):
        where = (*path, "notice", index)
        if lead in leads[:index]:
            raise _SchemaError(where, f"{_render(where)} {format_duration(lead)} repeats an earlier lead time")
        timing = values["timing"]
        if isinstance(timing, After) and lead >= timing.seconds:
            raise _SchemaError(where, f"{_render(where)}: a notice {format_duration(lead)} ahead of an event at "
                                      f"{format_offset(timing.seconds)} would come before the start; "
                                      f"each lead must be shorter than the offset")
    values["notice"] = tuple(sorted(leads, reverse=True))


def _make_maintenance(values: dict[str, Any], path: _Path) -> Maintenance:
    _check_leads(values, path)
    return Maintenance(**values)


def _make_capacity(values: dict[str, Any], path: _Path) -> Capacity:
    if "rate" in values and "factor" in values:
        where = (*path, "factor")
        raise _SchemaError(where, f"{_render(path)} gives both rate and factor: a new rate or a scale, not both")
    if not {"rate", "factor", "window"} & values.keys():
        raise _SchemaError(path, f"{_render(path)} changes nothing: give rate (msgs/s), factor (0 < f <= 1) or window")
    return Capacity(**values)


_MAINTENANCE = _Kind(
    {
        "reason": _NOT_EMPTY,
        "mode": _one_of("refuse", "terminate", "silent"),
        "notice": _Array(_LEAD, 'an array of lead times such as ["24:00:00", "01:00:00"]'),
    },
    _make_maintenance,
    required=("reason",),
    duration="required",
)
_CAPACITY = _Kind(
    {"rate": _number(0, 1_000_000, above=True), "factor": _number(0, 1, above=True), "window": _integer(1, 4096)},
    _make_capacity,
)
_SESSIONS = _Field('"all" or a number of sessions 1..100000 (the first N in attach order)', _sessions)
_NOTICE_DELAY = _number(0, _DAY)


def _fault_kind(fields: Mapping[str, _Check], required: tuple[str, ...] = (), duration: str = "optional") -> _Kind:
    return _Kind({"fault": _one_of(*FAULTS), "notice_delay": _NOTICE_DELAY, **fields},
                 lambda values, path: Fault(**values), required, duration)


#: One schema per fault type: ``kind = "fault"`` is discriminated again by ``fault``.
_FAULT_KINDS: Mapping[str, _Kind] = {
    "disconnect": _fault_kind({"sessions": _SESSIONS}, duration="none"),
    "error_burst": _fault_kind({"sessions": _SESSIONS, "ratio": _number(0, 1), "code": _ERROR_CODE},
                               required=("code",)),
    "latency": _fault_kind({"sessions": _SESSIONS, "latency": _min_max(600)}, required=("latency",)),
    "black_hole": _fault_kind({"sessions": _SESSIONS}),
    "half_open": _fault_kind({"sessions": _SESSIONS}),
    "receipt_delay": _fault_kind({"delay": _min_max(_WEEK)}, required=("delay",)),
    "receipt_failure": _fault_kind(
        {"outcomes": _Array(_OUTCOME, 'a non-empty array of tables such as [{ stat = "UNDELIV", weight = 1, err = 1 }]',
                            min_items=1)},
        required=("outcomes",),
    ),
}

#: One schema per kind (``fault`` is looked up in :data:`_FAULT_KINDS`).
_KINDS: Mapping[str, _Kind] = {
    "maintenance": _MAINTENANCE,
    "throttle": _CAPACITY,
    "capacity": _CAPACITY,
    "bulk_guard": _Kind(
        {"recipients": _integer(1, 1_000_000), "within": _number(0, _DAY, above=True),
         "mode": _one_of("enforce", "monitor")},
        lambda values, path: BulkGuard(**values),
        required=("recipients", "within"),
    ),
    "notice": _Kind({"title": _NOT_EMPTY, "text": _NOT_EMPTY}, lambda values, path: Notice(**values),
                    required=("title", "text"), duration="none"),
}


def _timing(values: dict[str, Any], path: _Path, schema: _Kind) -> Timing:
    at, cron = values.pop("at", None), values.pop("cron", None)
    count, until = values.pop("count", None), values.pop("until", None)
    if at is not None and cron is not None:
        raise _SchemaError((*path, "cron"), f"{_render(path)} gives both at and cron: one time or a recurrence")
    if cron is None:
        for key, given in (("count", count), ("until", until)):
            if given is not None:
                raise _SchemaError((*path, key), f"{_render((*path, key))} only bounds a recurring event (with cron)")
        if at is None:
            raise _SchemaError(path, f"{_render(path)} needs at (an offset or an RFC 3339 time) or cron")
        timing: Timing = at
        return timing
    if "duration" not in values and schema.duration == "optional":
        raise _SchemaError((*path, "duration"), f"{_render(path)} recurs (cron) and so needs a duration: "
                                                f"each occurrence must end before the next")
    return Every(cron, count, until)


def _build_event(kind: str, schema: _Kind, values: dict[str, Any], path: _Path) -> Event:
    values["timing"] = _timing(values, path, schema)
    what = values.get("fault", kind)
    if schema.duration == "none" and "duration" in values:
        where = (*path, "duration")
        raise _SchemaError(where, f"{_render(where)}: a {what} is instant and takes no duration")
    if schema.duration == "required" and "duration" not in values:
        raise _SchemaError((*path, "duration"), f"{_render(path)} is missing the key 'duration' "
                                                f"(a {what} must say how long it lasts: \"HH:MM:SS\")")
    values["kind"] = kind
    values.setdefault("id", "")  # filled with "<kind>-<n>" once all events are known
    return schema.make(values, path)


def _table(kind: str, schema: _Kind) -> _Table[Event]:
    return _Table({**_COMMON, **schema.fields}, build=partial(_build_event, kind, schema), required=schema.required)


_EVENT_TABLES: Mapping[tuple[str, str], _Table[Event]] = {
    **{(kind, ""): _table(kind, schema) for kind, schema in _KINDS.items()},
    **{("fault", fault): _table("fault", schema) for fault, schema in _FAULT_KINDS.items()},
}


def _discriminant(value: dict[str, Any], path: _Path, key: str, allowed: Sequence[str]) -> str:
    where = (*path, key)
    if key not in value:
        raise _SchemaError(where, f"{_render(path)} is missing the key '{key}' (one of {', '.join(allowed)})")
    return str(_one_of(*allowed)(value[key], where))


def _event(value: object, path: _Path) -> Event:
    """One ``[[events]]`` table: ``kind`` (then, for a fault, ``fault``) chooses its schema."""
    if not isinstance(value, dict):
        raise _complaint(path, "a table ([[events]])", value)
    kind = _discriminant(value, path, "kind", KINDS)
    variant = _discriminant(value, path, "fault", FAULTS) if kind == "fault" else ""
    return _EVENT_TABLES[kind, variant](value, path)


def _build_scenario(values: dict[str, Any], path: _Path) -> Scenario:
    events: list[Event] = []
    owner: dict[str, int] = {}
    defaulted: set[str] = set()
    numbers: dict[str, int] = {}
    for index, given in enumerate(values["events"]):
        numbers[given.kind] = numbers.get(given.kind, 0) + 1
        where: _Path = ("events", index, "id")
        # the default id is "<kind>-<n>", n counting the events of that kind
        event = given if given.id else dataclasses.replace(given, id=f"{given.kind}-{numbers[given.kind]}")
        if event.id in owner:
            first = f"events[{owner[event.id]}]" + (" (its default id)" if event.id in defaulted else "")
            message = (f"{_render(where)} {_show(event.id)} is already used by {first}" if given.id else
                       f"events[{index}] has the default id {_show(event.id)}, already used by {first}: give one "
                       f"of them another id")
            raise _SchemaError(where, message)
        owner[event.id] = index
        if not given.id:
            defaulted.add(event.id)
        events.append(event)
    return Scenario(name=values["name"], description=values.get("description", ""), seed=values.get("seed", 0),
                    timezone=values.get("timezone", "Asia/Shanghai"), events=tuple(events))


_SCHEMA = _Table(
    {
        "schema": _choice({1: 1}, "1 (the only version so far)"),
        "name": _text(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}", "1..64 letters, digits, '_', '.' or '-'"),
        "description": _text(r"[\s\S]{0,4000}", "a string of at most 4000 characters"),
        "seed": _integer(0, 2**63 - 1),
        "timezone": _Field("an IANA time zone name such as Asia/Shanghai", _zone),
        "events": _Array(_event, "a non-empty array of [[events]] tables", min_items=1),
    },
    build=_build_scenario,
    required=("schema", "name", "events"),
)


def load_scenario(path: Path) -> Scenario:
    """The scenario in the TOML file at ``path``, validated.

    Raises :class:`ScenarioError`, and nothing else, for anything wrong with the file: one line
    ``FILE:LINE: message`` naming the allowed values.
    """
    name = str(path)
    try:
        text = _read(path)
        document = _parse(text, name)
    except ConfigError as error:
        raise ScenarioError(error.file, error.line, error.message) from None
    try:
        scenario: Scenario = _SCHEMA(document, ())
    except _SchemaError as error:
        # config's tables name the document itself by an empty path: " is missing the key 'schema'"
        message = "the file" + error.message if error.message.startswith(" ") else error.message
        raise ScenarioError(name, _locate(text, error.path), message) from None
    return dataclasses.replace(scenario, path=path)


def scenarios_dir() -> Path:
    """Where the ready scenarios are: ``$SMSCLAB_SCENARIOS`` if set, else ``scenarios/`` of the checkout."""
    override = os.environ.get("SMSCLAB_SCENARIOS")
    return Path(override) if override else Path(__file__).resolve().parents[1] / "scenarios"


def ready_scenarios() -> list[Path]:
    """The ready scenario files, by name; empty if the directory is missing."""
    directory = scenarios_dir()
    return sorted(directory.glob("*.toml")) if directory.is_dir() else []


def find_scenario(name: str) -> Path:
    """``name`` as a path if it exists, else the ready scenario of that name (``certification`` ->
    ``scenarios/certification.toml``), else ``name`` as a path (which :func:`load_scenario` reports missing)."""
    path = Path(name)
    if path.exists() or "/" in name or os.sep in name or path.suffix:
        return path
    ready = scenarios_dir() / f"{name}.toml"
    return ready if ready.is_file() else path


# ---------------------------------------------------------------------------------------------------------
# The timeline
# ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    """One thing that happens at ``at`` (epoch seconds): ``action`` is one of :data:`ACTIONS`.

    * ``notice``: an advance notice of a maintenance (clause 2.9), ``lead`` seconds before it begins (published
      at the start instead when that is later: the lead is then shorter), or a fault notice ``notice_delay``
      after a fault's onset (clause 2.10);
    * ``begin`` / ``end``: an event with a period takes effect / is lifted (no end: until the scenario ends);
    * ``apply``: an instant event (a ``notice`` event, a ``disconnect`` fault).

    ``begins`` and ``ends`` are the period of the occurrence the step belongs to (what a notice announces);
    ``occurrence`` counts the occurrences of a recurring event from 1; ``manual`` marks an occurrence started by
    :meth:`ScenarioRunner.trigger`.
    """

    at: float
    action: str
    event: Event
    detail: str
    occurrence: int = 1
    begins: float = 0.0
    ends: float | None = None
    lead: float | None = None
    manual: bool = False

    @property
    def key(self) -> str:
        """Unique within a run: what a notice feed uses so as never to publish the same notice twice."""
        occurrence = f"{'m' if self.manual else ''}{self.occurrence}"
        lead = f"/{self.lead:g}" if self.lead is not None else ""
        return f"{self.event.id}#{occurrence}/{self.action}{lead}"


_END_DETAILS: Mapping[str, str] = {
    "maintenance": "outage over: service restored",
    "throttle": "throttle lifted: contracted rate and window restored",
    "capacity": "capacity restored: contracted rate and window",
    "fault": "fault cleared",
    "bulk_guard": "bulk guard lifted",
}
_MAX_OCCURRENCES = 10_000  # per event and timeline: a "* * * * *" cron with a far `until` stays printable


def _schema_of(event: Event) -> _Kind:
    return _FAULT_KINDS[event.fault] if isinstance(event, Fault) else _KINDS[event.kind]


def _is_instant(event: Event) -> bool:
    return _schema_of(event).duration == "none"


def _occurrence_steps(event: Event, begin: float, occurrence: int, *, floor: float, fault_notice_delay: float,
                      manual: bool = False) -> list[Step]:
    """The steps of one occurrence of ``event`` beginning at ``begin``; no step before ``floor``."""
    ends = None if event.duration is None else begin + event.duration
    make = partial(Step, event=event, occurrence=occurrence, begins=begin, ends=ends, manual=manual)
    summary = event.summary()
    period = f", for {format_duration(event.duration)}" if event.duration is not None else ""
    if _is_instant(event):
        steps = [make(at=begin, action="apply", detail=summary)]
    else:
        steps = [make(at=begin, action="begin", detail=summary + (period or ", until the scenario ends"))]
    if ends is not None:
        steps.append(make(at=ends, action="end", detail=_END_DETAILS[event.kind]))
    if isinstance(event, Maintenance):
        for lead in event.notice:
            at = max(begin - lead, floor)
            late = f" (published late: {format_duration(begin - at)} ahead)" if at > begin - lead else ""
            detail = f"advance notice {format_duration(lead)} ahead{late}: {summary}{period}"
            steps.append(make(at=at, action="notice", detail=detail, lead=lead))
    if isinstance(event, Fault):
        delay = fault_notice_delay if event.notice_delay is None else event.notice_delay
        steps.append(make(at=begin + delay, action="notice", detail=f"fault notice {delay:g} s after onset: {summary}"))
    return steps


def _resolve(moment: After | At, start: float) -> float:
    return start + moment.seconds if isinstance(moment, After) else moment.instant.timestamp()


def _begins(event: Event, start: float, horizon: float | None, zone: ZoneInfo) -> Iterator[float]:
    """When the occurrences of ``event`` begin, for a timeline from ``start``."""
    end = math.inf if horizon is None else start + horizon
    timing = event.timing
    if not isinstance(timing, Every):
        begin = _resolve(timing, start)
        if start <= begin <= end:
            yield begin
        return
    if horizon is None and timing.count is None and timing.until is None:
        end = start + DEFAULT_RECURRING_HORIZON
    if timing.until is not None:
        end = min(end, _resolve(timing.until, start))
    count = min(timing.count or _MAX_OCCURRENCES, _MAX_OCCURRENCES)
    busy_until = -math.inf
    for begin in timing.cron.times(start, zone):
        if begin > end or count == 0:
            return
        if begin < busy_until:  # the previous occurrence still lasts: this one is left out
            continue
        yield begin
        count -= 1
        busy_until = begin + (event.duration or 0.0)


def _sort_key(order: Mapping[str, int]) -> Callable[[Step], tuple[float, int, int, bool, int, float]]:
    return lambda step: (step.at, _RANK[step.action], order[step.event.id], step.manual, step.occurrence,
                         -(step.lead or 0.0))


def timeline(scenario: Scenario, start: float, *, horizon: float | None = None,
             fault_notice_delay: float = 0.0) -> list[Step]:
    """Every step of ``scenario`` played from ``start`` (epoch seconds), sorted by time, then ends before notices
    before instant applications before begins, then file order.

    Offsets count from ``start``; absolute and cron occurrences that begin before ``start`` are left out, and
    advance notices that would fall before it are published at ``start``. With ``horizon`` (seconds), occurrences
    beginning after ``start + horizon`` are left out (their steps after it are kept); without, recurring events
    without ``count`` or ``until`` stop after :data:`DEFAULT_RECURRING_HORIZON`. A recurring occurrence that would
    begin while the previous one still lasts is left out. ``fault_notice_delay`` is the gateway's default delay of
    a fault notice, for faults that do not set ``notice_delay``.
    """
    steps: list[Step] = []
    zone = scenario.zone
    for event in scenario.events:
        for occurrence, begin in enumerate(_begins(event, start, horizon, zone), start=1):
            steps += _occurrence_steps(event, begin, occurrence, floor=start, fault_notice_delay=fault_notice_delay)
    steps.sort(key=_sort_key({event_id: index for index, event_id in enumerate(scenario.ids)}))
    return steps


def _wall(instant: float, zone: ZoneInfo) -> str:
    return datetime.fromtimestamp(instant, zone).strftime("%Y-%m-%d %H:%M:%S")


def format_timeline(scenario: Scenario, steps: Sequence[Step], start: float) -> str:
    """The table ``smsclab scenario check`` prints: time in the scenario's zone, offset from ``start``, action,
    event id, kind, accounts and details, one step a line, under a header naming the scenario."""
    zone = scenario.zone
    first_line = scenario.description.strip().splitlines()[0] if scenario.description.strip() else ""
    lines = [f"scenario {scenario.name}" + (f" ({scenario.path})" if scenario.path else "")]
    lines += [f"  {first_line}"] if first_line else []
    lines.append(f"  {len(scenario.events)} event(s), {len(steps)} step(s); seed {scenario.seed}; "
                 f"start {_wall(start, zone)} {scenario.timezone}")
    lines.append("")
    header = (f"time ({scenario.timezone})", "offset", "action", "event", "kind", "accounts", "detail")
    rows = [(_wall(step.at, zone), format_offset(step.at - start), step.action, step.event.id,
             step.event.kind,
             ",".join(step.event.accounts), step.detail) for step in steps]
    widths = [max(len(row[column]) for row in (header, *rows)) for column in range(len(header) - 1)]
    for row in (header, *rows):
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
        lines.append("  ".join([*cells, row[-1]]).rstrip())
    if not steps:
        lines.append("(no step: every occurrence is before the start or after the horizon)")
    return "\n".join(lines)


def format_ready_list(paths: Sequence[Path]) -> tuple[str, bool]:
    """The table ``smsclab scenario list`` prints (name, file, first line of the description), and whether every
    file is valid; an invalid one shows its error instead of its description."""
    rows: list[tuple[str, str, str]] = []
    valid = True
    for path in paths:
        try:
            scenario = load_scenario(path)
        except ScenarioError as error:
            valid = False
            rows.append((path.stem, str(path), f"INVALID: {error}"))
            continue
        description = scenario.description.strip()
        rows.append((scenario.name, str(path), description.splitlines()[0] if description else ""))
    header = ("name", "file", "description")
    widths = [max(len(row[column]) for row in (header, *rows)) for column in range(2)]
    lines = ["  ".join([row[0].ljust(widths[0]), row[1].ljust(widths[1]), row[2]]).rstrip() for row in (header, *rows)]
    return "\n".join(lines), valid


def parse_duration(text: str) -> float:
    """Seconds from a duration as scenario files write it (``"00:30:00"``, ``"7d 00:00:00"``); ``ValueError``."""
    seconds = _DURATION_FIELD.accept(text)
    if not isinstance(seconds, float):
        raise ValueError(f"{_show(text)} is not {_DURATION_FIELD.expect}")
    return seconds


def parse_instant(text: str) -> float:
    """Epoch seconds from an RFC 3339 time with an offset (``"2026-11-30T02:00:00+08:00"``); ``ValueError``."""
    instant = _instant(text)
    if instant is None:
        raise ValueError(f'{_show(text)} is not an RFC 3339 time with an offset such as "2026-11-30T02:00:00+08:00"')
    return instant.timestamp()


# ---------------------------------------------------------------------------------------------------------
# The runner
# ---------------------------------------------------------------------------------------------------------


class ScenarioTarget(Protocol):
    """What a scenario acts on: the gateway implements one method per action, each told the simulated ``now``.

    The methods are plain calls that must not block (start a task for anything slow). ``end_*`` lifts exactly
    what the matching ``begin_*`` set; ``publish_notice`` gets the whole :class:`Step` (its ``key`` is unique, its
    ``begins``/``ends`` say the announced period, its ``event`` the reason and accounts).
    """

    def begin_maintenance(self, maintenance: Maintenance, now: float) -> None: ...
    def end_maintenance(self, maintenance: Maintenance, now: float) -> None: ...
    def begin_capacity(self, capacity: Capacity, now: float) -> None: ...
    def end_capacity(self, capacity: Capacity, now: float) -> None: ...
    def begin_fault(self, fault: Fault, now: float) -> None: ...
    def end_fault(self, fault: Fault, now: float) -> None: ...
    def begin_bulk_guard(self, guard: BulkGuard, now: float) -> None: ...
    def end_bulk_guard(self, guard: BulkGuard, now: float) -> None: ...
    def publish_notice(self, step: Step, now: float) -> None: ...


_Call = Callable[[ScenarioTarget, Any, float], None]
#: (action, event class) -> the target's method; a ``disconnect`` fault is applied by ``begin_fault`` alone.
_CALLS: Mapping[tuple[str, type[EventBase]], _Call] = {
    ("begin", Maintenance): lambda target, step, now: target.begin_maintenance(step.event, now),
    ("end", Maintenance): lambda target, step, now: target.end_maintenance(step.event, now),
    ("notice", Maintenance): lambda target, step, now: target.publish_notice(step, now),
    ("begin", Capacity): lambda target, step, now: target.begin_capacity(step.event, now),
    ("end", Capacity): lambda target, step, now: target.end_capacity(step.event, now),
    ("begin", Fault): lambda target, step, now: target.begin_fault(step.event, now),
    ("apply", Fault): lambda target, step, now: target.begin_fault(step.event, now),
    ("end", Fault): lambda target, step, now: target.end_fault(step.event, now),
    ("notice", Fault): lambda target, step, now: target.publish_notice(step, now),
    ("begin", BulkGuard): lambda target, step, now: target.begin_bulk_guard(step.event, now),
    ("end", BulkGuard): lambda target, step, now: target.end_bulk_guard(step.event, now),
    ("apply", Notice): lambda target, step, now: target.publish_notice(step, now),
}


@dataclass(eq=False)
class _Entry:
    """A step in a run: ``due`` is its planned time shifted by the pauses so far."""

    step: Step
    due: float
    order: tuple[int, int, bool, int, float]
    state: str = "pending"  # pending -> done | failed | skipped
    done_at: float | None = None
    error: str | None = None


class ScenarioRunner:
    """Plays a scenario's :func:`timeline` from ``start`` (default: the clock's now) against ``target``.

    * :meth:`run` sleeps on ``clock`` until each step is due and calls the target; steps already due (a late
      start) run at once, in order. A target method that raises is logged and recorded; the run goes on.
    * :meth:`pause` freezes the scenario: nothing runs until :meth:`resume`, which shifts every pending step by the
      length of the pause, so that notice leads and periods keep their lengths (an outage under way lasts longer).
    * :meth:`trigger` starts an occurrence of an event by hand, now: notices a maintenance would have published
      ahead are published now, its end follows after its duration.
    * A ``begin`` due while the same event is still active is skipped with its occurrence's remaining steps.
    """

    def __init__(self, scenario: Scenario, target: ScenarioTarget, clock: Clock, *, start: float | None = None,
                 horizon: float | None = None, fault_notice_delay: float = 0.0) -> None:
        self.scenario = scenario
        self.target = target
        self.clock = clock
        self.start = clock.now() if start is None else start
        self.fault_notice_delay = fault_notice_delay
        self._index = {event_id: index for index, event_id in enumerate(scenario.ids)}
        self._entries: list[_Entry] = []
        self._queue: list[tuple[float, tuple[int, int, bool, int, float], int, _Entry]] = []
        self._sequence = itertools.count()
        self._active: dict[str, _Entry] = {}  # event id -> the begin entry of its occurrence under way
        self._manual: dict[str, int] = {}
        self._paused_at: float | None = None
        self._wakeup: asyncio.Future[None] | None = None
        self._running = False
        for step in timeline(scenario, self.start, horizon=horizon, fault_notice_delay=fault_notice_delay):
            self._add(step)

    @property
    def paused(self) -> bool:
        """Whether the scenario is paused."""
        return self._paused_at is not None

    @property
    def steps(self) -> list[Step]:
        """Every step of the run so far (timeline and triggered), in the order they are or were due."""
        return [entry.step for entry in self._ordered()]

    async def run(self, *, linger: bool = False) -> None:
        """Play the steps as they fall due; return when none is left, or with ``linger`` keep waiting for
        triggered ones until cancelled (what a server does). One run at a time: ``RuntimeError`` otherwise."""
        if self._running:
            raise RuntimeError(f"scenario {self.scenario.name} is already running")
        self._running = True
        try:
            await self._play(linger)
        finally:
            self._running = False

    async def _play(self, linger: bool) -> None:
        while True:
            entry = self._peek()
            if entry is None and not linger:
                return
            now = self.clock.now()
            if entry is not None and self._paused_at is None and entry.due <= now:
                heapq.heappop(self._queue)
                self._perform(entry, now)
                continue
            await self._wait(None if entry is None or self._paused_at is not None else entry.due)

    def pause(self) -> None:
        """Hold every pending step until :meth:`resume`; no effect if already paused."""
        if self._paused_at is None:
            self._paused_at = self.clock.now()
            _log.info("scenario %s paused", self.scenario.name)

    def resume(self) -> None:
        """Go on after :meth:`pause`, every pending step shifted by the length of the pause."""
        if self._paused_at is None:
            return
        shift = max(0.0, self.clock.now() - self._paused_at)
        self._paused_at = None
        for entry in self._entries:
            if entry.state == "pending":
                entry.due += shift
        self._queue = [(entry.due, order, sequence, entry) for _, order, sequence, entry in self._queue]
        heapq.heapify(self._queue)
        _log.info("scenario %s resumed, pending steps shifted by %gs", self.scenario.name, shift)
        self._wake()

    def trigger(self, event_id: str) -> list[Step]:
        """Start an occurrence of the event ``event_id`` now and return its steps; those due now are performed
        before this returns, even while paused (an operator's explicit act); the later ones (end, fault notice)
        are scheduled, and held like the others while paused.

        Raises ``LookupError`` for an unknown id and ``ValueError`` if the event is active now.
        """
        event = self.scenario.event(event_id)
        if event.id in self._active:
            since = _wall(self._active[event.id].done_at or 0.0, self.scenario.zone)
            raise ValueError(f"event {event.id!r} is active since {since} {self.scenario.timezone}")
        now = self.clock.now()
        number = self._manual[event.id] = self._manual.get(event.id, 0) + 1
        steps = _occurrence_steps(event, now, number, floor=now, fault_notice_delay=self.fault_notice_delay,
                                  manual=True)
        entries = sorted((self._add(step) for step in steps), key=lambda entry: (entry.due, entry.order))
        _log.info("scenario %s: event %s triggered by hand", self.scenario.name, event.id)
        for entry in entries:
            if entry.due <= now and entry.state == "pending":
                self._perform(entry, now)  # its queue item is dropped when it reaches the top
        self._wake()
        return [entry.step for entry in entries]

    def status(self, now: float | None = None) -> dict[str, Any]:
        """The run as JSON-able data: every step with its state (``done``, ``failed``, ``skipped``, ``pending``),
        the events active at ``now`` (default: the clock's now), the next step and how far off it is."""
        now = self.clock.now() if now is None else now
        following = self._peek()
        active = []
        for event_id, begin in self._active.items():
            ends = next((entry.due for entry in self._entries if entry.state == "pending" and entry.step.action == "end"
                         and self._same_occurrence(entry, begin)), None)
            active.append({"event": event_id, "kind": begin.step.event.kind, "since": begin.done_at, "until": ends,
                           "detail": begin.step.detail})
        return {
            "scenario": self.scenario.name,
            "file": None if self.scenario.path is None else str(self.scenario.path),
            "timezone": self.scenario.timezone,
            "seed": self.scenario.seed,
            "start": self.start,
            "now": now,
            "paused": self.paused,
            "paused_at": self._paused_at,
            "steps": [self._describe(entry) for entry in self._ordered()],
            "active": active,
            "next": None if following is None else self._describe(following),
            "next_in": None if following is None or self.paused else max(0.0, following.due - now),
        }

    # --- internals -------------------------------------------------------------------------------------

    def _add(self, step: Step) -> _Entry:
        order = (_RANK[step.action], self._index[step.event.id], step.manual, step.occurrence, -(step.lead or 0.0))
        entry = _Entry(step, step.at, order)
        self._entries.append(entry)
        heapq.heappush(self._queue, (entry.due, order, next(self._sequence), entry))
        return entry

    def _peek(self) -> _Entry | None:
        while self._queue and self._queue[0][3].state != "pending":
            heapq.heappop(self._queue)
        return self._queue[0][3] if self._queue else None

    def _ordered(self) -> list[_Entry]:
        return sorted(self._entries, key=lambda entry: (entry.done_at if entry.done_at is not None else entry.due,
                                                        entry.order))

    @staticmethod
    def _same_occurrence(entry: _Entry, other: _Entry) -> bool:
        one, two = entry.step, other.step
        return (one.event.id, one.occurrence, one.manual) == (two.event.id, two.occurrence, two.manual)

    def _perform(self, entry: _Entry, now: float) -> None:
        step = entry.step
        entry.done_at = now
        if step.action == "begin" and step.event.id in self._active:
            entry.state, entry.error = "skipped", "the event was still active"
            for other in self._entries:
                if other.state == "pending" and self._same_occurrence(other, entry):
                    other.state, other.done_at, other.error = "skipped", now, "its begin was skipped"
            _log.warning("scenario %s: %s skipped: %s is still active", self.scenario.name, step.key, step.event.id)
            return
        if step.action == "begin":
            self._active[step.event.id] = entry
        elif step.action == "end":
            self._active.pop(step.event.id, None)
        _log.info("scenario %s: %s %s %s: %s", self.scenario.name, step.action, step.event.kind, step.event.id,
                  step.detail)
        try:
            _CALLS[step.action, type(step.event)](self.target, step, now)
        except Exception as error:
            entry.state, entry.error = "failed", f"{type(error).__name__}: {error}"
            _log.exception("scenario %s: %s failed", self.scenario.name, step.key)
        else:
            entry.state = "done"

    def _describe(self, entry: _Entry) -> dict[str, Any]:
        step, zone = entry.step, self.scenario.zone
        when = entry.done_at if entry.done_at is not None else entry.due
        return {
            "key": step.key,
            "time": datetime.fromtimestamp(when, zone).isoformat(),
            "at": when,
            "planned": step.at,
            "offset": format_offset(when - self.start),
            "action": step.action,
            "event": step.event.id,
            "kind": step.event.kind,
            "accounts": list(step.event.accounts),
            "detail": step.detail,
            "manual": step.manual,
            "state": entry.state,
            "error": entry.error,
        }

    async def _wait(self, until: float | None) -> None:
        """Until ``until`` on the clock (``None``: indefinitely), or until :meth:`_wake`."""
        wakeup: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._wakeup = wakeup
        alarm = None if until is None else asyncio.ensure_future(self._alarm(until, wakeup))
        try:
            await wakeup
        finally:
            self._wakeup = None
            if alarm is not None:
                alarm.cancel()

    async def _alarm(self, until: float, wakeup: asyncio.Future[None]) -> None:
        await self.clock.sleep_until(until)
        if not wakeup.done():
            wakeup.set_result(None)

    def _wake(self) -> None:
        if self._wakeup is not None and not self._wakeup.done():
            self._wakeup.set_result(None)
