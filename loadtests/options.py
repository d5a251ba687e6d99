"""What the load-test options mean, as plain functions: no Locust, no gevent, no sockets.

Kept apart from :mod:`loadtests.users` because importing Locust monkey-patches the whole process; the test
suite (asyncio) imports this module to check the parsing and the pacing arithmetic without that side effect.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from protocols import cmpp
from protocols import text as sms_text

__all__ = [
    "DEFAULT_PORTS",
    "Contract",
    "Destinations",
    "Stage",
    "account_for",
    "cmpp_version",
    "destinations",
    "encoding_for",
    "parse_endpoint",
    "parse_stages",
    "per_user_rate",
    "split_list",
    "stage_at",
]

#: The IANA-registered SMPP port and the CMPP port every Chinese ISMG listens on (CMPP 3.0 §5).
DEFAULT_PORTS = {"smpp": 2775, "cmpp": 7890}

_CMPP_VERSIONS = {"2.0": cmpp.Version.V20, "2.1": cmpp.Version.V21, "3.0": cmpp.Version.V30}
_RANGE = re.compile(r"^(\+?)(\d+)-(\d+)$")
_STAGE = re.compile(r"^([A-Za-z][\w-]*):(\d+(?:\.\d+)?):(\d+(?:\.\d+)?)(?:-(\d+(?:\.\d+)?))?$")


@dataclass(frozen=True, slots=True)
class Contract:
    """The limits a partner signed for, as the simulator's ``GET /accounts/{id}`` states them."""

    system_id: str
    #: Messages per second; ``None`` means the contract sets no rate.
    rate: float | None
    #: Requests it may leave unanswered on one connection.
    window: int
    max_connections: int
    service_codes: tuple[str, ...]
    #: Provisioned CMPP Service_Id values; empty when any is accepted.
    service_ids: tuple[str, ...]

    @classmethod
    def from_api(cls, document: dict[str, Any]) -> Contract:
        """Read the account document of the control API."""
        rate = document.get("rate")
        return cls(system_id=str(document["id"]), rate=None if rate is None else float(rate),
                   window=int(document["window"]), max_connections=int(document["max_connections"]),
                   service_codes=tuple(document.get("service_codes") or ()),
                   service_ids=tuple(document.get("service_ids") or ()))


def split_list(value: str) -> list[str]:
    """A comma-separated option (``--system-id a,b,c``) as a list; blanks are dropped."""
    return [item.strip() for item in value.split(",") if item.strip()]


def account_for(ids: Sequence[str], index: int) -> int:
    """Which of several credentials the ``index``-th worker (or user) takes: round robin."""
    if not ids:
        raise ValueError("no --system-id given")
    return index % len(ids)


def parse_endpoint(host: str | None, port: int | None, protocol: str) -> tuple[str, int]:
    """Where to connect, from Locust's ``--host`` (``h``, ``h:p``, ``smpp://h:p``) and our ``--port``.

    ``--port`` wins over a port in the host, which wins over the protocol's standard port.
    """
    raw = (host or "127.0.0.1").strip()
    if "://" in raw:
        raw = raw.split("://", 1)[1]
    raw = raw.rstrip("/")
    name, host_port = raw, None
    if raw.startswith("["):  # [::1]:2775
        name, _, rest = raw[1:].partition("]")
        host_port = int(rest[1:]) if rest.startswith(":") else None
    elif raw.count(":") == 1:
        name, _, digits = raw.partition(":")
        host_port = int(digits)
    return name or "127.0.0.1", port or host_port or DEFAULT_PORTS[protocol]


def cmpp_version(label: str) -> cmpp.Version:
    """``--cmpp-version`` 2.0, 2.1 or 3.0."""
    try:
        return _CMPP_VERSIONS[label]
    except KeyError:
        raise ValueError(f"--cmpp-version must be one of {', '.join(_CMPP_VERSIONS)}, not {label!r}") from None


def encoding_for(label: str, message: str, protocol: str) -> sms_text.Encoding:
    """``--encoding``: a name of :class:`protocols.text.Encoding`, or ``auto``; checked against the template.

    ``auto`` takes the narrowest alphabet each protocol can label: GSM 03.38 for SMPP (data_coding 0), ASCII for
    CMPP (Msg_Fmt 0, CMPP has no GSM label), and UCS2 for anything else, Chinese included. A message must fit
    one segment (160 GSM characters, 140 octets otherwise): the users send no concatenated messages.
    """
    if label == "auto":
        narrow = sms_text.Encoding.GSM7 if protocol == "smpp" else sms_text.Encoding.ASCII
        encoding = sms_text.best_encoding(message, prefer=(narrow, sms_text.Encoding.UCS2))
    else:
        encoding = sms_text.Encoding(label)
    label_for = sms_text.data_coding_for if protocol == "smpp" else sms_text.msg_fmt_for
    try:
        label_for(encoding)
    except ValueError:
        raise ValueError(f"--encoding {encoding.value} has no label in {protocol.upper()}") from None
    longest = sms_text.encode_text(message.replace("{n}", "9" * 10), encoding)  # {n} grows to ten digits at most
    limit = 160 if encoding is sms_text.Encoding.GSM7 else 140
    if len(longest) > limit:
        raise ValueError(f"--text takes {len(longest)} octets in {encoding.value}, more than one segment ({limit})")
    return encoding


@dataclass(frozen=True, slots=True)
class Destinations:
    """The numbers ``--destinations`` names; :meth:`at` hands them out round robin."""

    #: A range stays a lazy :class:`range` of ints: a million numbers cost nothing.
    numbers: Sequence[str] | range
    #: Digits of the range's bounds, so that ``0013800000000-...`` keeps its zeros.
    width: int = 0
    prefix: str = ""

    def __len__(self) -> int:
        return len(self.numbers)

    def at(self, index: int) -> str:
        """The ``index``-th destination, wrapping around."""
        value = self.numbers[index % len(self.numbers)]
        return value if isinstance(value, str) else f"{self.prefix}{value:0{self.width}d}"


def destinations(spec: str) -> Destinations:
    """``--destinations``: ``13800000000-13800009999`` (inclusive), a single number, or ``@file`` (one a line;
    blank lines and ``#`` comments skipped)."""
    spec = spec.strip()
    if spec.startswith("@"):
        lines = Path(spec[1:]).read_text(encoding="utf-8").splitlines()
        numbers = [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]
        if not numbers:
            raise ValueError(f"no destination numbers in {spec[1:]}")
        return Destinations(numbers)
    match = _RANGE.match(spec)
    if match is None:
        if spec.lstrip("+").isdigit():
            return Destinations([spec])
        raise ValueError(f"--destinations must be FIRST-LAST (digits), a single number or @FILE, not {spec!r}")
    first, last = int(match[2]), int(match[3])
    if last < first or len(match[2]) != len(match[3]):
        raise ValueError(f"--destinations {spec!r}: LAST must not be below FIRST and both need the same digits")
    return Destinations(range(first, last + 1), width=len(match[2]), prefix=match[1])


def per_user_rate(*, target: float | None, class_users: int, accounts: int) -> float | None:
    """Submits per second one user sends so that the users of a class together offer ``target`` per account.

    ``class_users`` is how many users of the class the run plans in all (every worker together), ``accounts`` how
    many accounts they are spread over; ``None`` (no target) means unpaced: as fast as the window allows.
    """
    if target is None:
        return None
    users_per_account = max(1.0, class_users / max(1, accounts))
    return target / users_per_account


@dataclass(frozen=True, slots=True)
class Stage:
    """One row of a traffic shape: for ``seconds``, run ``start``% of the peak users, moving linearly to ``end``%."""

    name: str
    seconds: float
    start: float
    end: float

    def users(self, peak: int, elapsed: float) -> int:
        """Users to run ``elapsed`` seconds into this stage."""
        fraction = min(1.0, elapsed / self.seconds) if self.seconds else 1.0
        percent = self.start + (self.end - self.start) * fraction
        return math.floor(peak * percent / 100 + 0.5)  # round half up: 30% of 5 users is 2, never banker's 2-or-1


def parse_stages(spec: str) -> tuple[Stage, ...]:
    """``--stages``: ``name:seconds:percent`` or ``name:seconds:from-to`` (a linear ramp), comma-separated."""
    stages = []
    for item in split_list(spec):
        match = _STAGE.match(item)
        if match is None:
            raise ValueError(f"stage {item!r}: expected NAME:SECONDS:PERCENT or NAME:SECONDS:FROM-TO")
        name, seconds, first, last = match[1], float(match[2]), float(match[3]), match[4]
        stages.append(Stage(name, seconds, first, float(last) if last is not None else first))
    if not stages:
        raise ValueError("--stages names no stage")
    return tuple(stages)


def stage_at(stages: Sequence[Stage], elapsed: float) -> tuple[Stage, float] | None:
    """The stage running ``elapsed`` seconds into the shape and the seconds spent in it; ``None`` once over."""
    start = 0.0
    for stage in stages:
        if elapsed < start + stage.seconds:
            return stage, elapsed - start
        start += stage.seconds
    return None
