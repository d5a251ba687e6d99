"""The simulator's configuration: an embedded default TOML document, optionally overridden by a file.

Theory of operation
-------------------
``smsclab serve`` runs on :data:`DEFAULT_CONFIG_TOML` alone; ``--config FILE`` is laid over it. Both are
parsed with :mod:`tomllib` and merged one level deep: a table of the file (``[cmpp]``, ``[dlr_profiles]``, ...)
updates the default's table key by key, so the file holds only what it changes; a file's ``[[accounts]]``
replace all the default's, and each ``[dlr_profiles.NAME]`` of the file replaces or adds that one profile.
A file's ``[policy.modes]`` replaces the default's, which names no rule: a rule not named keeps its default
mode (``simulator.policy.RULES``), so here too the file holds only what it changes.

The merged document is then walked by one schema table, :data:`_SCHEMA`: every key with its type, its bounds
or allowed values, and how it becomes a frozen dataclass. The walk stops at the first mistake, which is
reported as one line, ``FILE:LINE: message``, through :class:`ConfigError`; nothing else may escape for any
user input (the Hypothesis tests feed arbitrary text and arbitrary TOML documents).

tomllib returns plain dicts with no positions, so a mistake's line is found afterwards from the file text by
:func:`_line_index`: a line scanner that knows table headers, ``key =`` lines and the elements of multi-line
arrays, after blanking strings and comments so that their contents cannot look like keys. It is best effort
and falls back from the exact key to the nearest enclosing table (or array element), then to no line at all.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import re
import sys
import tomllib
import zoneinfo
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import date, time
from math import isnan
from pathlib import Path
from types import MappingProxyType
from typing import Any, Generic, TypeVar
from urllib.parse import urlsplit

__all__ = [
    "DEFAULT_CONFIG_TOML",
    "POLICY_MODES",
    "POLICY_RULES",
    "Account",
    "AuditConfig",
    "CmppSettings",
    "Config",
    "ConfigError",
    "DlrProfile",
    "Listener",
    "NoticeConfig",
    "Outcome",
    "PolicyConfig",
    "SmppSettings",
    "dump_config",
    "load_config",
    "parse_account_option",
    "with_overrides",
]


#: The agreement's rules by name, in checking order. simulator.policy imports this module (for Account), so the
#: names are written out here rather than imported; a test holds them equal to ``simulator.policy.RULES_BY_NAME``.
POLICY_RULES = (
    "caller_number", "service_code", "msg_src", "service_id", "fee", "number_range", "group_size",
    "subscribers", "content", "advertising", "bulk",
)
#: How a rule acts on a breach: not checked, recorded only, recorded and refused (simulator.policy.Mode).
POLICY_MODES = ("off", "monitor", "enforce")


def _no_modes() -> Mapping[str, str]:
    return MappingProxyType({})


class ConfigError(Exception):
    """A mistake in the configuration, for the user: ``str(error) == f"{file}:{line}: {message}"``.

    ``line`` is ``None`` when no line can be named (a missing file, a command-line option); the string is
    then ``f"{file}: {message}"``. ``file`` is the path as given, ``"<embedded default>"``, or the
    command-line option (``"--account"``, ``"--cmpp-port"``, ...).
    """

    def __init__(self, file: str, line: int | None, message: str) -> None:
        super().__init__(file, line, message)
        self.file = file
        self.line = line
        self.message = message

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        return f"{where}: {self.message}"


@dataclass(frozen=True, slots=True)
class Listener:
    """Where a server listens. Port 0 picks a free port at start-up (the server prints the real one)."""

    host: str = "127.0.0.1"
    port: int = 0


@dataclass(frozen=True, slots=True)
class Outcome:
    """One entry of a delivery-receipt outcome mix.

    ``stat`` is DELIVRD, UNDELIV, EXPIRED, REJECTD, DELETED, UNKNOWN or a CMPP 3.0 ``XX:nnnn`` code;
    ``weight`` (> 0) is relative, the weights of a profile need not sum to 1; ``err`` (0..999) is the error
    code the receipt carries.
    """

    stat: str
    weight: float
    err: int = 0


@dataclass(frozen=True, slots=True)
class DlrProfile:
    """How the gateway answers with delivery receipts.

    A receipt follows its submit after a delay drawn uniformly from ``[delay_min, delay_max]`` seconds and says
    one of ``outcomes``, drawn by weight. A receipt the partner does not acknowledge is sent again after
    ``retry_interval`` seconds, ``max_attempts`` sends in all.
    """

    name: str
    delay_min: float = 1.0
    delay_max: float = 3.0
    outcomes: tuple[Outcome, ...] = (Outcome("DELIVRD", 1.0),)
    retry_interval: float = 30.0
    max_attempts: int = 10


@dataclass(frozen=True, slots=True)
class Account:
    """A partner (an SP) and the port leased to it.

    ``id`` is both the CMPP SP_Id (Source_Addr, at most 6 characters) and the SMPP system_id; ``secret`` is
    both the CMPP shared secret and the SMPP password (at most 8 characters: SMPP 3.4 §4.1.1 allows 9 octets
    with the NUL). ``service_codes`` are the 服务代码 that Src_Id / source_addr must start with;
    ``service_ids`` the provisioned CMPP Service_Id values (empty: any). ``rate`` is in messages per second
    (``None``: unlimited), ``window`` the requests it may leave unacknowledged, ``allow_ips`` CIDR networks
    it may connect from, ``dlr_profile`` the name of its :class:`DlrProfile`, and ``message_id_format`` how
    SMPP message_ids are written (``"hex"`` or ``"decimal"``).

    ``approved_ads`` and ``approved_fees`` record written approval to advertise (clause 3.3) and to charge
    users (clause 4.5); ``policy`` maps rule names (:data:`POLICY_RULES`) to modes (:data:`POLICY_MODES`) for
    this account alone, over :attr:`PolicyConfig.modes`. ``rent`` is the monthly port rental in yuan (clause
    4.2), ``free_quota`` the messages per month it covers and ``message_fee`` the yuan per message above them
    (clause 4.3); ``ad_penalty`` is charged per advertising message sent without approval (clause 3.3, 1-100
    yuan). ``webhook`` is the http(s) URL notices are POSTed to, ``""`` for none.
    """

    id: str
    secret: str
    service_codes: tuple[str, ...]
    service_ids: tuple[str, ...] = ()
    rate: float | None = None
    window: int = 16
    max_connections: int = 4
    allow_ips: tuple[str, ...] = ("127.0.0.0/8", "::1/128")
    dlr_profile: str = "default"
    message_id_format: str = "hex"
    approved_ads: bool = False
    approved_fees: bool = False
    policy: Mapping[str, str] = field(default_factory=_no_modes, hash=False)
    rent: float = 0.0
    free_quota: int = 0
    message_fee: float = 0.0
    ad_penalty: float = 10.0
    webhook: str = ""


@dataclass(frozen=True, slots=True)
class CmppSettings:
    """The CMPP ISMG: listener, Msg_Id gateway code, versions, timers (CMPP C, T, N) and behaviour profile."""

    listener: Listener = Listener(port=7890)
    gateway_code: int = 1
    versions: tuple[int, ...] = (0x20, 0x21, 0x30)
    keepalive_interval: float = 180.0
    response_timeout: float = 60.0
    keepalive_attempts: int = 3
    connect_timeout: float = 10.0
    profile: str = "spec"
    max_frame: int = 4096


@dataclass(frozen=True, slots=True)
class SmppSettings:
    """The SMPP SMSC: listener, the system_id it answers binds with, timers and behaviour profile."""

    listener: Listener = Listener(port=2775)
    system_id: str = "smsclab"
    enquire_link_interval: float = 30.0
    response_timeout: float = 30.0
    keepalive_attempts: int = 3
    bind_timeout: float = 10.0
    inactivity_timeout: float | None = None
    profile: str = "spec"
    max_frame: int = 65536 + 512


@dataclass(frozen=True, slots=True)
class PolicyConfig:
    """The agreement's rules (simulator.policy): their modes and every number they use.

    ``modes`` maps rule names (:data:`POLICY_RULES`) to modes (:data:`POLICY_MODES`); a rule not named keeps
    its default. A destination must start with one of ``number_ranges`` (clause 3.7); a submit may name at
    most ``max_recipients`` (clause 3.6); the same content to more than ``bulk_recipients`` within
    ``bulk_window`` seconds is abnormal bulk (clause 2.8). An MO text equal to one of ``unsubscribe_words``
    unsubscribes its sender (clause 3.4). ``suspend_after`` violations within ``suspend_window`` seconds
    suspend the account (clause 3.9; 0 never does). ``content_file`` holds the prohibited-content and
    advertising lists (``None``: the shipped placeholder lists).
    """

    modes: Mapping[str, str] = field(default_factory=_no_modes, hash=False)
    number_ranges: tuple[str, ...] = ("135", "136", "137", "138", "139")
    max_recipients: int = 2
    bulk_recipients: int = 100
    bulk_window: float = 60.0
    unsubscribe_words: tuple[str, ...] = ("TD", "退订", "0000")
    suspend_after: int = 0
    suspend_window: float = 3600.0
    content_file: Path | None = None


@dataclass(frozen=True, slots=True)
class AuditConfig:
    """The audit log: kept ``retention_days`` days, at least 31 (agreement clause 3.8: at least one month)."""

    retention_days: int = 62


@dataclass(frozen=True, slots=True)
class NoticeConfig:
    """Notices to partners (faults, suspensions): by webhook, and in-band as an MO if ``inband``.

    In-band notices come from ``system_number``; a fault's notice follows its onset after ``fault_delay``
    seconds. A webhook POST gets ``webhook_timeout`` seconds and is retried ``webhook_retries`` times.
    """

    system_number: str = "10086"
    inband: bool = False
    fault_delay: float = 0.0
    webhook_retries: int = 5
    webhook_timeout: float = 5.0


@dataclass(frozen=True, slots=True)
class Config:
    """The effective configuration of one simulator run; built by :func:`load_config`."""

    cmpp: CmppSettings
    smpp: SmppSettings
    api: Listener
    data_dir: Path
    timezone: str
    mask_numbers: bool
    accounts: tuple[Account, ...]
    dlr_profiles: Mapping[str, DlrProfile]
    policy: PolicyConfig = PolicyConfig()
    audit: AuditConfig = AuditConfig()
    notices: NoticeConfig = NoticeConfig()

    def account(self, account_id: str) -> Account | None:
        """The account whose id (CMPP Source_Addr, SMPP system_id) is ``account_id``, or ``None``."""
        return next((account for account in self.accounts if account.id == account_id), None)


DEFAULT_CONFIG_TOML = """\
# smsclab: the embedded default configuration.
#
# `smsclab serve` runs on exactly this when no --config is given. A --config file is laid over it: its
# [gateway], [cmpp], [smpp], [api], [policy], [audit] and [notices] tables change only the keys they name
# ([policy.modes] only the rules it names); its [[accounts]] replace all the accounts below; each of its
# [dlr_profiles.NAME] replaces or adds that one profile. Clause numbers refer to the partner agreement.
# `smsclab config show` prints the effective result.

[gateway]
# IANA time zone of the gateway's clock: Msg_Id times, receipt dates, monthly statistics.
timezone = "Asia/Shanghai"
# Where the message store and the audit log live, relative to the working directory.
data_dir = "smsclab-data"
# Mask subscriber numbers in logs and reports (agreement clause 5: user data stays confidential).
mask_numbers = true

[cmpp]
# The CMPP ISMG listens here. Port 0 picks a free port at start-up (the server prints it).
host = "127.0.0.1"
port = 7890
# ISMG code written into every Msg_Id, 0..4194303 (22 bits, CMPP 3.0 §8.4.3.2).
gateway_code = 1
# Versions a CONNECT may ask for: "2.0", "2.1", "3.0" (or their wire values 32, 33, 48).
versions = ["2.0", "2.1", "3.0"]
# Seconds without traffic before the gateway sends ACTIVE_TEST (CMPP C).
keepalive_interval = 180
# Seconds to wait for the response to anything the gateway sent (CMPP T).
response_timeout = 60
# ACTIVE_TESTs sent, unanswered, before the link is closed (CMPP N).
keepalive_attempts = 3
# Close a connection that sends no CONNECT within this many seconds.
connect_timeout = 10
# A request the session state forbids: "spec" answers Result 2 where the response has a result
# field and closes otherwise; "close" always closes.
profile = "spec"
# Largest PDU accepted, in bytes; a longer one closes the connection.
max_frame = 4096

[smpp]
# The SMPP SMSC listens here. Port 0 picks a free port at start-up (the server prints it).
host = "127.0.0.1"
port = 2775
# The system_id the SMSC gives in bind_*_resp (1..15 characters).
system_id = "smsclab"
# Seconds without traffic before the SMSC sends enquire_link.
enquire_link_interval = 30
# Seconds to wait for the response to anything the SMSC sent.
response_timeout = 30
# enquire_links sent, unanswered, before the link is closed.
keepalive_attempts = 3
# Close a connection that does not bind within this many seconds.
bind_timeout = 10
# Close a session that sends nothing for this many seconds; 0 never does.
inactivity_timeout = 0
# Answers where SMPP implementations disagree: "spec" (SMPP 3.4), "smpp50", "cloudhopper", "jsmpp", "smppsim".
profile = "spec"
# Largest PDU accepted (command_length), in bytes: a 64 KiB message_payload and room for the rest.
max_frame = 66048

[api]
# The HTTP control API (JSON, OpenAPI) and Prometheus /metrics listen here.
host = "127.0.0.1"
port = 8080

[policy]
# The carrier's own number ranges (clause 3.7): every destination must start with one of these prefixes of
# the national number (1..11 digits each, at least one).
number_ranges = ["135", "136", "137", "138", "139"]
# Recipients one submit may name, 1..100 (clause 3.6: "1-2 numbers at a time").
max_recipients = 2
# The same content to more than bulk_recipients numbers (1..1000000) within bulk_window seconds (> 0, at
# most 86400) is abnormal bulk sending (clause 2.8).
bulk_recipients = 100
bulk_window = 60
# An MO whose text is one of these words (any case) unsubscribes its sender from the SP (clause 3.4).
unsubscribe_words = ["TD", "退订", "0000"]
# Suspend an account after suspend_after violations (0..1000000; 0 never suspends) within suspend_window
# seconds (> 0, at most 2592000 = 30 days) (clause 3.9).
suspend_after = 0
suspend_window = 3600
# The prohibited-content and advertising lists (clauses 3.2 and 3.3), relative to the working directory;
# "" uses the neutral placeholder lists shipped with smsclab.
content_file = ""

# How each rule acts on a breach: "off", "monitor" (recorded, the message still goes) or "enforce" (recorded
# and refused). A rule left out keeps its default, shown here; an account's `policy` key overrides this.
[policy.modes]
# caller_number = "enforce"
# service_code = "enforce"
# msg_src = "enforce"
# service_id = "enforce"
# fee = "enforce"
# number_range = "enforce"
# group_size = "enforce"
# subscribers = "monitor"
# content = "monitor"
# advertising = "monitor"
# bulk = "monitor"

[audit]
# Days the audit log is kept, 31..3650 (clause 3.8: logs are kept at least one month).
retention_days = 62

[notices]
# Source address of in-band notices: 1..21 digits.
system_number = "10086"
# Also send each notice in-band, as an MO from system_number to the account's sessions.
inband = false
# Seconds from a fault's onset to its notice, 0..86400.
fault_delay = 0
# Retries of a webhook POST that fails (0..100), and the seconds each attempt may take (> 0, at most 300).
webhook_retries = 5
webhook_timeout = 5

# Partner accounts, one [[accounts]] block each. This demo account works at once; a --config file with
# its own [[accounts]] replaces it, and so does `smsclab serve --account ID:SECRET:SERVICE_CODE[:RATE]`.
[[accounts]]
# CMPP SP_Id (Source_Addr) and SMPP system_id: 1..6 letters or digits.
id = "900001"
# CMPP shared secret and SMPP password: 1..8 printable ASCII characters, no spaces.
secret = "888888"
# Service codes (服务代码) leased to this SP: Src_Id / source_addr must start with one of them (1..20 digits).
service_codes = ["10690001"]
# Provisioned CMPP Service_Id values (1..10 characters each); [] accepts any.
service_ids = []
# Messages per second for this account; leave it out for no limit, e.g.
# rate = 100
# Requests it may leave unacknowledged at once (CMPP W = 16).
window = 16
# Connections it may hold at once.
max_connections = 4
# Networks (CIDR) it may connect from.
allow_ips = ["127.0.0.0/8", "::1/128"]
# The [dlr_profiles.NAME] that decides its delivery receipts.
dlr_profile = "default"
# How SMPP message_ids are written: "hex" or "decimal".
message_id_format = "hex"
# Written approval to advertise (clause 3.3) and to charge users (clause 4.5); both false unless given, e.g.
# approved_ads = true
# approved_fees = true
# Rule modes for this account alone, over [policy.modes]; none unless given, e.g.
# policy = { advertising = "enforce", bulk = "off" }
# Monthly port rental in yuan (clause 4.2, 0..1e9), the messages a month it covers (0..1e12) and the yuan
# per message above them (clause 4.3, 0..1e6); all 0 unless given, e.g.
# rent = 2000
# free_quota = 100000
# message_fee = 0.05
# Yuan charged per advertising message sent without approval, 1..100 (clause 3.3); 10 unless given, e.g.
# ad_penalty = 20
# Where notices are POSTed: an http:// or https:// URL; none unless given, e.g.
# webhook = "https://sp.example.com/smsclab/notices"

# Delivery-receipt profiles; each account names one.
[dlr_profiles.default]
# Seconds from submit to receipt, drawn uniformly from [min, max].
delay = [1, 3]
# What receipts say, drawn by relative weight: stat is DELIVRD, UNDELIV, EXPIRED, REJECTD, DELETED, UNKNOWN
# or a CMPP 3.0 code such as "MK:0005"; err (0..999, default 0) is the error code the receipt carries.
outcomes = [{ stat = "DELIVRD", weight = 1 }]
# Seconds before a receipt the partner has not acknowledged is sent again.
retry_interval = 30
# Sends of one receipt in all, the first included.
max_attempts = 10

# For partners who want to see failures: weights in percent.
[dlr_profiles.mixed]
# Seconds from submit to receipt, drawn uniformly from [min, max].
delay = [1, 3]
# 90% delivered, 5% undeliverable, 3% expired, 2% rejected.
outcomes = [
    { stat = "DELIVRD", weight = 90 },
    { stat = "UNDELIV", weight = 5, err = 1 },
    { stat = "EXPIRED", weight = 3, err = 2 },
    { stat = "REJECTD", weight = 2, err = 3 },
]
# Seconds before a receipt the partner has not acknowledged is sent again.
retry_interval = 30
# Sends of one receipt in all, the first included.
max_attempts = 10
"""

_DEFAULT_NAME = "<embedded default>"

# ---------------------------------------------------------------------------------------------------------
# Messages
# ---------------------------------------------------------------------------------------------------------

#: A path into the document: table keys and array indexes, e.g. ("accounts", 1, "secret").
_Path = tuple[str | int, ...]

_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
_SHOWN_MAX = 60  # a value quoted in a message is cut here: the message stays one readable line


class _SchemaError(Exception):
    """A mistake at ``path``; becomes a :class:`ConfigError` once the file and its text are known."""

    def __init__(self, path: _Path, message: str) -> None:
        super().__init__(path, message)
        self.path = path
        self.message = message


def _quote(text: str) -> str:
    """``text`` in double quotes, escaped so that it prints as one line whatever it holds (NEL, U+2028, ...)."""

    def escape(char: str) -> str:
        if char.isprintable():
            return "\\" + char if char in '"\\' else char
        return f"\\u{ord(char):04x}" if ord(char) <= 0xFFFF else f"\\U{ord(char):08x}"

    return '"' + "".join(map(escape, text)) + '"'


def _render(path: _Path) -> str:
    """``("accounts", 1, "secret")`` -> ``accounts[1].secret``; keys that are not bare are quoted as in TOML."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            name = part if _BARE_KEY.fullmatch(part) else _quote(part)
            text += f".{name}" if text else name
    return text


def _show(value: object, *, nested: bool = False) -> str:
    """A value as it would appear in TOML, on one line and short."""
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, int):
        # str() of an int past sys.get_int_max_str_digits() digits raises, and hex literals can be that long
        text = str(value) if value.bit_length() <= 64 else "a very large integer"
    elif isinstance(value, str):
        text = _quote(value)
    elif isinstance(value, list) and nested:
        # one level only: a value nested almost as deep as tomllib allows must not exhaust the stack here
        text = "[...]" if value else "[]"
    elif isinstance(value, list):
        text = "[" + ", ".join([_show(item, nested=True) for item in value[:5]] + ["..."] * (len(value) > 5)) + "]"
    elif isinstance(value, dict):
        text = "a table"
    elif isinstance(value, date | time):  # datetime is a date
        text = value.isoformat()
    else:  # float: repr() is TOML's spelling, nan and inf included
        text = repr(value)
    return text if len(text) <= _SHOWN_MAX else text[: _SHOWN_MAX - 3] + "..."


def _complaint(path: _Path, expect: str, value: object, *, secret: bool = False, whole: bool = False) -> _SchemaError:
    subject = f"{_render(path)} " if path else ""
    shown = _quote(value) if whole and isinstance(value, str) else _show(value)
    got = "" if secret else f", got {shown}"  # a secret is never echoed, not even a wrong one
    return _SchemaError(path, f"{subject}must be {expect}{got}")


# ---------------------------------------------------------------------------------------------------------
# The schema: checks that convert a TOML value to its Python form or raise _SchemaError
# ---------------------------------------------------------------------------------------------------------

_Check = Callable[[object, _Path], object]
_REJECTED = object()
_Built = TypeVar("_Built")


@dataclass(frozen=True)
class _Field:
    """A leaf value: ``accept`` returns its Python form or ``_REJECTED``; ``expect`` ends "X must be ...".

    A wrong value is quoted back cut short, a ``secret`` one not at all, and a ``whole`` string (a file name:
    the user must find it) in full.
    """

    expect: str
    accept: Callable[[object], object]
    secret: bool = False
    whole: bool = False

    def __call__(self, value: object, path: _Path) -> object:
        result = self.accept(value)
        if result is _REJECTED:
            raise _complaint(path, self.expect, value, secret=self.secret, whole=self.whole)
        return result


@dataclass(frozen=True)
class _Array:
    """A TOML array whose every element passes ``item``; ``finish`` turns the converted list into a tuple."""

    item: _Check
    expect: str
    min_items: int = 0
    finish: Callable[[list[Any]], tuple[Any, ...]] = tuple

    def __call__(self, value: object, path: _Path) -> tuple[object, ...]:
        if not isinstance(value, list) or len(value) < self.min_items:
            raise _complaint(path, self.expect, value)
        return self.finish([self.item(element, (*path, index)) for index, element in enumerate(value)])


@dataclass(frozen=True)
class _Table(Generic[_Built]):
    """A TOML table with known keys; ``build`` makes the result from the converted values and the path.

    ``noun`` names what a key of the table is in the message for an unknown one ("unknown rule ...").
    """

    fields: Mapping[str, _Check]
    build: Callable[[dict[str, Any], _Path], _Built]
    required: tuple[str, ...] = ()
    noun: str = "key"

    def __call__(self, value: object, path: _Path) -> _Built:
        if not isinstance(value, dict):
            raise _complaint(path, "a table", value)
        for key in value:
            if key not in self.fields:
                where = (*path, key)
                allowed = ", ".join(self.fields)
                raise _SchemaError(where, f"unknown {self.noun} '{_render(where)}' (allowed: {allowed})")
        for key in self.required:
            if key not in value:
                raise _SchemaError((*path, key), f"{_render(path)} is missing the key '{key}'")
        return self.build({key: self.fields[key](item, (*path, key)) for key, item in value.items()}, path)


@dataclass(frozen=True)
class _Entries:
    """A TOML table of named entries (``[dlr_profiles.NAME]``): each name passes ``name``, each entry ``item``."""

    name: _Field
    item: _Check

    def __call__(self, value: object, path: _Path) -> dict[object, object]:
        if not isinstance(value, dict):
            raise _complaint(path, "a table", value)
        return {self.name(key, (*path, key)): self.item(entry, (*path, key)) for key, entry in value.items()}


@dataclass(frozen=True)
class _AtLeast:
    """``field``, except that an integer below ``low`` is told why the floor is there (an agreement clause)."""

    field: _Field
    low: int
    reason: str

    def __call__(self, value: object, path: _Path) -> object:
        if type(value) is int and value < self.low:
            raise _SchemaError(path, f"{_render(path)} must be at least {self.low} ({self.reason}), got {_show(value)}")
        return self.field(value, path)


def _cited(check: _Field, reason: str) -> _Field:
    """``check`` with the reason for its bounds (an agreement clause) in its message."""
    return dataclasses.replace(check, expect=f"{check.expect} ({reason})")


def _integer(low: int, high: int) -> _Field:
    # type() rather than isinstance(): TOML's true is not the integer 1
    return _Field(f"an integer {low}..{high}", lambda v: v if type(v) is int and low <= v <= high else _REJECTED)


def _number(low: float, high: float, *, above: bool = False, zero_is_none: bool = False) -> _Field:
    """Seconds, rates, weights: an int or float in bounds, returned as float (``None`` for 0 if zero_is_none)."""

    def accept(value: object) -> object:
        # NaN passes every bound test below; an int is never NaN (and math.isnan() overflows on a huge one)
        if isinstance(value, bool) or not isinstance(value, int | float):
            return _REJECTED
        if isinstance(value, float) and isnan(value):
            return _REJECTED
        if (value <= low if above else value < low) or value > high:  # infinities fail here too
            return _REJECTED
        return None if zero_is_none and value == 0 else float(value)

    expect = f"a number > {low} and <= {high}" if above else f"a number {low}..{high}"
    return _Field(expect + (" (0 = none)" if zero_is_none else ""), accept)


def _text(pattern: str, expect: str, *, secret: bool = False) -> _Field:
    compiled = re.compile(pattern)
    return _Field(expect, lambda v: v if isinstance(v, str) and compiled.fullmatch(v) else _REJECTED, secret)


def _choice(values: Mapping[object, object], expect: str) -> _Field:
    def accept(value: object) -> object:
        # no dict lookup: arrays are unhashable, and 32.0 or true must not pass for 32 or 1
        return next((out for key, out in values.items() if type(key) is type(value) and key == value), _REJECTED)

    return _Field(expect, accept)


def _one_of(*names: str) -> _Field:
    return _choice({name: name for name in names}, "one of " + ", ".join(names))


def _zone(value: object) -> object:
    if not isinstance(value, str):
        return _REJECTED
    try:
        zoneinfo.ZoneInfo(value)
    except (ValueError, KeyError, OSError):  # bad key, unknown zone (a KeyError), unreadable file
        return _REJECTED
    return value


def _existing_file(value: object) -> object:
    if not isinstance(value, str):
        return _REJECTED
    if not value:
        return None
    try:
        found = Path(value).is_file()
    except (OSError, ValueError):  # a name too long, a NUL byte: no such file either
        found = False
    return Path(value) if found else _REJECTED


def _webhook(value: object) -> object:
    if not isinstance(value, str) or not value.isprintable() or " " in value:
        return _REJECTED
    if not value:
        return value
    try:
        url = urlsplit(value)
        _ = url.port  # raises ValueError for a port that is not a number 0..65535
    except ValueError:  # and for "http://[::1" and the like
        return _REJECTED
    return value if url.scheme in ("http", "https") and url.hostname else _REJECTED


def _network(value: object) -> object:
    if not isinstance(value, str):
        return _REJECTED
    try:
        # strict: "10.0.0.1/8" is more likely a typo than a way of writing 10.0.0.0/8
        return str(ipaddress.ip_network(value, strict=True))
    except ValueError:
        return _REJECTED


_DAY = 86_400
_WEEK = 7 * _DAY
_BOOL = _Field("true or false", lambda v: v if type(v) is bool else _REJECTED)
_HOST = _text(r"[A-Za-z0-9.:_-]{1,253}", "an IP address or host name")
_PORT = _integer(0, 65535)
_SECONDS = _number(0, _DAY, above=True)
_ATTEMPTS = _integer(1, 100)
_FRAME = _integer(128, 1 << 20)
_PROFILE_NAME = _text(r"[A-Za-z0-9_-]{1,32}", "1..32 letters, digits, '_' or '-'")
_ACCOUNT_ID = _text(r"[A-Za-z0-9]{1,6}", "1..6 letters or digits")
_SECRET = _text(r"[!-~]{1,8}", "1..8 printable ASCII characters", secret=True)
_SERVICE_CODE = _text(r"[0-9]{1,20}", "1..20 digits")
_RATE = _number(0, 1_000_000, above=True)
_STATS = ("DELIVRD", "UNDELIV", "EXPIRED", "REJECTD", "DELETED", "UNKNOWN")
#: CMPP 0x20 and 0x21 share the 2.0 layout; TOML may name a version or give its wire value.
_VERSIONS: Mapping[object, object] = {"2.0": 0x20, "2.1": 0x21, "3.0": 0x30, 0x20: 0x20, 0x21: 0x21, 0x30: 0x30}
_VERSION_NAMES = {0x20: "2.0", 0x21: "2.1", 0x30: "3.0"}
_DELAY_BOUND = _number(0, _WEEK)
#: Rule modes, simulator-wide ([policy.modes]) or for one account (its ``policy`` key).
_MODES = _Table({rule: _one_of(*POLICY_MODES) for rule in POLICY_RULES},
                build=lambda values, path: MappingProxyType(values), noun="rule")


def _delay(value: object) -> object:
    if not (isinstance(value, list) and len(value) == 2):
        return _REJECTED
    low, high = (_DELAY_BOUND.accept(bound) for bound in value)
    if not (isinstance(low, float) and isinstance(high, float) and low <= high):
        return _REJECTED
    return (low, high)


def _listener(values: dict[str, Any]) -> Listener:
    return Listener(**{key: values.pop(key) for key in ("host", "port") if key in values})


def _build_profile(values: dict[str, Any], path: _Path) -> DlrProfile:
    if "delay" in values:
        values["delay_min"], values["delay_max"] = values.pop("delay")
    return DlrProfile(name=str(path[-1]), **values)


def _check_accounts(accounts: Sequence[Account], profiles: Mapping[str, DlrProfile]) -> None:
    """What no single value shows: ids and service codes are unique, and every dlr_profile exists."""
    id_owner: dict[str, int] = {}
    code_owner: dict[str, int] = {}
    for index, account in enumerate(accounts):
        if account.id in id_owner:
            path: _Path = ("accounts", index, "id")
            owner = id_owner[account.id]
            raise _SchemaError(path, f"{_render(path)} {_show(account.id)} is already used by accounts[{owner}]")
        id_owner[account.id] = index
        for position, code in enumerate(account.service_codes):
            if code_owner.setdefault(code, index) != index:
                # agreement clause 1.3: a service code is leased for one SP's sole use
                path = ("accounts", index, "service_codes", position)
                owner = code_owner[code]
                raise _SchemaError(path, f"{_render(path)} {_show(code)} is already leased to accounts[{owner}]")
        if account.dlr_profile not in profiles:
            path = ("accounts", index, "dlr_profile")
            raise _complaint(path, f"one of the dlr_profiles ({', '.join(profiles)})", account.dlr_profile)


def _build_config(values: dict[str, Any], path: _Path) -> Config:
    _check_accounts(values["accounts"], values["dlr_profiles"])
    return Config(cmpp=values["cmpp"], smpp=values["smpp"], api=values["api"], **values["gateway"],
                  accounts=values["accounts"], dlr_profiles=MappingProxyType(values["dlr_profiles"]),
                  policy=values["policy"], audit=values["audit"], notices=values["notices"])


_OUTCOME = _Table(
    {
        "stat": _text("|".join(_STATS) + r"|[A-Z]{2}:[0-9]{4}",
                      f"one of {', '.join(_STATS)} or a CMPP 3.0 code shaped XX:nnnn such as MK:0005"),
        "weight": _number(0, 1_000_000, above=True),
        "err": _integer(0, 999),
    },
    build=lambda values, path: Outcome(**values),
    required=("stat", "weight"),
)

_ACCOUNT = _Table(
    {
        "id": _ACCOUNT_ID,
        "secret": _SECRET,
        "service_codes": _Array(_SERVICE_CODE, "a non-empty array of service codes", min_items=1),
        "service_ids": _Array(_text(r"[!-~]{1,10}", "1..10 printable ASCII characters"), "an array of Service_Ids"),
        "rate": _RATE,
        "window": _integer(1, 4096),
        "max_connections": _integer(1, 1024),
        "allow_ips": _Array(_Field("a CIDR network such as 10.0.0.0/8 or ::1/128", _network),
                            "a non-empty array of CIDR networks", min_items=1),
        "dlr_profile": _text(r"[\s\S]*", "the name of a dlr profile"),
        "message_id_format": _one_of("hex", "decimal"),
        "approved_ads": _BOOL,
        "approved_fees": _BOOL,
        "policy": _MODES,
        "rent": _number(0, 1_000_000_000),
        "free_quota": _integer(0, 10**12),
        "message_fee": _number(0, 1_000_000),
        "ad_penalty": _cited(_number(1, 100), "agreement clause 3.3: 1-100 元 per advertising message"),
        "webhook": _Field('"" (none) or an http:// or https:// URL with a host', _webhook),
    },
    build=lambda values, path: Account(**values),
    required=("id", "secret", "service_codes"),
)

#: The fields of ``--account ID:SECRET:SERVICE_CODE[:RATE]``, in that order.
_ACCOUNT_OPTION = _Table(
    {"id": _ACCOUNT_ID, "secret": _SECRET, "service_code": _SERVICE_CODE, "rate": _RATE},
    build=lambda values, path: Account(
        values["id"], values["secret"], (values["service_code"],), rate=values.get("rate")
    ),
)

#: The whole document. Key order here is the order of the "allowed:" lists and of dump_config's output.
_SCHEMA = _Table(
    {
        "gateway": _Table(
            {
                "timezone": _Field("an IANA time zone name such as Asia/Shanghai", _zone),
                "data_dir": _text(r"[^\x00]+", "a non-empty path"),
                "mask_numbers": _BOOL,
            },
            build=lambda values, path: {**values, "data_dir": Path(values["data_dir"])},
        ),
        "cmpp": _Table(
            {
                "host": _HOST,
                "port": _PORT,
                "gateway_code": _integer(0, 2**22 - 1),
                "versions": _Array(_choice(_VERSIONS, 'one of "2.0", "2.1", "3.0", 32, 33, 48'),
                                   "a non-empty array of versions", min_items=1,
                                   finish=lambda versions: tuple(sorted(set(versions)))),
                "keepalive_interval": _SECONDS,
                "response_timeout": _SECONDS,
                "keepalive_attempts": _ATTEMPTS,
                "connect_timeout": _SECONDS,
                "profile": _one_of("spec", "close"),
                "max_frame": _FRAME,
            },
            build=lambda values, path: CmppSettings(listener=_listener(values), **values),
        ),
        "smpp": _Table(
            {
                "host": _HOST,
                "port": _PORT,
                "system_id": _text(r"[!-~]{1,15}", "1..15 printable ASCII characters"),
                "enquire_link_interval": _SECONDS,
                "response_timeout": _SECONDS,
                "keepalive_attempts": _ATTEMPTS,
                "bind_timeout": _SECONDS,
                "inactivity_timeout": _number(0, _DAY, zero_is_none=True),
                "profile": _one_of("spec", "smpp50", "cloudhopper", "jsmpp", "smppsim"),
                "max_frame": _FRAME,
            },
            build=lambda values, path: SmppSettings(listener=_listener(values), **values),
        ),
        "api": _Table({"host": _HOST, "port": _PORT}, build=lambda values, path: Listener(**values)),
        "policy": _Table(
            {
                "number_ranges": _Array(_text(r"[0-9]{1,11}", "1..11 digits"), "a non-empty array of number prefixes",
                                        min_items=1),
                "max_recipients": _integer(1, 100),
                "bulk_recipients": _integer(1, 1_000_000),
                "bulk_window": _SECONDS,
                # is_unsubscribe() compares the stripped MO text: a word with spaces around it could never match
                "unsubscribe_words": _Array(_text(r"\S(?:[\s\S]*\S)?", "a word with no spaces around it"),
                                            "a non-empty array of words", min_items=1),
                "suspend_after": _integer(0, 1_000_000),
                "suspend_window": _number(0, 30 * _DAY, above=True),
                "content_file": _Field('an existing file ("" for the shipped placeholder lists)', _existing_file,
                                       whole=True),
                "modes": _MODES,
            },
            build=lambda values, path: PolicyConfig(**values),
        ),
        "audit": _Table(
            {
                "retention_days": _AtLeast(_integer(31, 3650), 31,
                                           "agreement clause 3.8: logs kept at least one month"),
            },
            build=lambda values, path: AuditConfig(**values),
        ),
        "notices": _Table(
            {
                "system_number": _text(r"[0-9]{1,21}", "1..21 digits"),
                "inband": _BOOL,
                "fault_delay": _number(0, _DAY),
                "webhook_retries": _integer(0, 100),
                "webhook_timeout": _number(0, 300, above=True),
            },
            build=lambda values, path: NoticeConfig(**values),
        ),
        "accounts": _Array(_ACCOUNT, "a non-empty array of tables", min_items=1),
        "dlr_profiles": _Entries(
            _PROFILE_NAME,
            _Table(
                {
                    "delay": _Field(f"[min, max] seconds with 0 <= min <= max <= {_WEEK}", _delay),
                    "outcomes": _Array(_OUTCOME, "a non-empty array of tables", min_items=1),
                    "retry_interval": _SECONDS,
                    "max_attempts": _integer(1, 1000),
                },
                build=_build_profile,
            ),
        ),
    },
    build=_build_config,
)

# ---------------------------------------------------------------------------------------------------------
# Line numbers
# ---------------------------------------------------------------------------------------------------------

# Strings and comments, leftmost first; in valid TOML a quote or '#' outside them cannot occur.
_TOKEN = re.compile(
    r'"""(?:[^"\\]|\\[\s\S]|"(?!""))*"{3,5}'  # multi-line basic string (up to two quotes may end its content)
    r"|'''(?:[^']|'(?!''))*'{3,5}"  # multi-line literal string
    r'|"(?:[^"\\\n]|\\.)*"'
    r"|'[^'\n]*'"
    r"|#[^\n]*"
)
_KEY = r"""(?:"[^"\n]*"|'[^'\n]*'|[A-Za-z0-9_-]+)"""
_DOTTED_KEY = rf"{_KEY}(?:[ \t]*\.[ \t]*{_KEY})*"
_HEADER_LINE = re.compile(rf"[ \t]*(\[\[?)[ \t]*({_DOTTED_KEY})[ \t]*\]\]?\s*")
_KEY_LINE = re.compile(rf"[ \t]*({_DOTTED_KEY})[ \t]*=")
_KEY_PART = re.compile(r""""(?:[^"\\]|\\.)*"|'[^']*'|[A-Za-z0-9_-]+""")


def _mask(match: re.Match[str]) -> str:
    """Blank a token, keeping its length, its newlines and a string's quotes (quoted keys stay visible)."""
    token = match.group()
    if token.startswith("#"):
        return " " * len(token)
    return token[0] + re.sub(r"[^\n]", " ", token[1:-1]) + token[-1]


def _unquote(part: str) -> str:
    if part.startswith('"'):
        value: str = tomllib.loads(f"k = {part}")["k"]  # basic strings may hold escapes: let tomllib decode them
        return value
    return part[1:-1] if part.startswith("'") else part


def _key_parts(text: str) -> tuple[str, ...]:
    """The parts of a dotted key as written, e.g. ``a."b.c"`` -> ``("a", "b.c")``."""
    return tuple(_unquote(part) for part in _KEY_PART.findall(text))


def _header_path(kind: str, parts: tuple[str, ...], arrays: dict[_Path, int]) -> _Path:
    """The path a table header opens; ``[[x]]`` counts its blocks in ``arrays`` to give each its index."""
    path: list[str | int] = []
    for part in parts[:-1] if kind == "[[" else parts:
        path.append(part)
        if tuple(path) in arrays:  # a table inside the latest block of an array of tables
            path.append(arrays[tuple(path)] - 1)
    if kind == "[[":
        key = (*path, parts[-1])
        arrays[key] = arrays.get(key, 0) + 1
        return (*key, arrays[key] - 1)
    return tuple(path)


def _line_index(text: str) -> dict[_Path, int]:
    """The line (1-based) where each path of a valid TOML document first appears.

    Knows table headers, ``key =`` lines (dotted keys too) and the elements of multi-line arrays that start a
    line of their own; what is inside an inline table gets the line of the table.
    """
    skeleton = _TOKEN.sub(_mask, text)
    index: dict[_Path, int] = {}
    arrays: dict[_Path, int] = {}
    table: _Path = ()
    array_key: _Path = ()  # the key whose multi-line array we are inside
    depth = commas = offset = 0

    def note(path: _Path, line: int) -> None:
        for length in range(1, len(path) + 1):
            index.setdefault(path[:length], line)

    # split on "\n" only: str.splitlines() also splits on characters TOML allows inside strings (\x85, \u2028)
    for number, line in enumerate(skeleton.split("\n"), start=1):
        original = text[offset : offset + len(line)]
        offset += len(line) + 1
        if depth == 0:
            if header := _HEADER_LINE.fullmatch(line):
                table = _header_path(header[1], _key_parts(original[header.start(2) : header.end(2)]), arrays)
                note(table, number)
                continue
            key = _KEY_LINE.match(line)
            if key is None:
                continue
            array_key = table + _key_parts(original[key.start(1) : key.end(1)])
            note(array_key, number)
            value, commas = line[key.end() :], 0
        else:
            value = line
            if depth == 1 and line.strip() and line.strip()[0] not in ",]":
                note((*array_key, commas), number)
        for char in value:
            if char in "[{":
                depth += 1
            elif char in "]}":
                depth -= 1
            elif char == "," and depth == 1:
                commas += 1
    return index


def _locate(text: str, path: _Path) -> int | None:
    """The line of ``path`` in ``text``, else of its nearest enclosing table or element, else ``None``."""
    index = _line_index(text)
    return next((index[path[:length]] for length in range(len(path), 0, -1) if path[:length] in index), None)


# ---------------------------------------------------------------------------------------------------------
# Loading
# ---------------------------------------------------------------------------------------------------------


@contextmanager
def _reported(file: str, text: str | None = None) -> Iterator[None]:
    """Turn a :class:`_SchemaError` raised inside into a :class:`ConfigError` for ``file``."""
    try:
        yield
    except _SchemaError as error:
        raise ConfigError(file, None if text is None else _locate(text, error.path), error.message) from None


def _read(path: Path) -> str:
    name = str(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(name, None, "no such file") from None
    except OSError as error:
        raise ConfigError(name, None, f"cannot read: {error.strerror or error}") from None
    data = data.removeprefix(b"\xef\xbb\xbf")  # the UTF-8 BOM that Windows Notepad writes
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ConfigError(name, data.count(b"\n", 0, error.start) + 1, "not UTF-8 text") from None


def _parse(text: str, name: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        detail = str(error)
        where = re.search(r" \(at line (\d+), column (\d+)\)$", detail)
        if where:
            reason = detail[: where.start()]
            raise ConfigError(name, int(where[1]), f"invalid TOML at column {where[2]}: {reason}") from None
        last_line = text.rstrip().count("\n") + 1
        reason = detail.removesuffix(" (at end of document)")
        raise ConfigError(name, last_line, f"invalid TOML at the end of the file: {reason}") from None
    except ValueError:  # tomllib reads decimal integers with int(), which has a digit limit
        raise ConfigError(name, None, f"an integer has more than {sys.get_int_max_str_digits()} digits") from None
    except RecursionError:  # tomllib reads nested arrays and inline tables recursively
        raise ConfigError(name, None, "arrays or inline tables nested too deeply") from None


def _merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """Tables merge key by key, one level deep; anything else (``accounts``) is replaced."""
    merged = dict(base)
    for key, value in override.items():
        both_tables = isinstance(base.get(key), dict) and isinstance(value, dict)
        merged[key] = {**base[key], **value} if both_tables else value
    return merged


def load_config(path: Path | None = None) -> Config:
    """The effective configuration: the embedded default, with the file at ``path`` laid over it.

    ``[gateway]``, ``[cmpp]``, ``[smpp]``, ``[api]``, ``[policy]``, ``[audit]`` and ``[notices]`` of the file
    change only the keys they name (``[policy.modes]`` only the rules it names); its ``[[accounts]]`` replace
    all the default accounts; each ``[dlr_profiles.NAME]`` replaces or adds that profile. A relative
    ``policy.content_file`` is relative to the working directory, as ``gateway.data_dir`` is. Raises
    :class:`ConfigError`, and nothing else, for anything wrong with the file.
    """
    name, text = _DEFAULT_NAME, DEFAULT_CONFIG_TOML
    document = _parse(text, name)
    if path is not None:
        name, text = str(path), _read(path)
        document = _merge(document, _parse(text, name))
    with _reported(name, text):
        config: Config = _SCHEMA(document, ())
    return config


def parse_account_option(text: str) -> Account:
    """An :class:`Account` from the ``--account ID:SECRET:SERVICE_CODE[:RATE]`` option.

    The other fields take their defaults (``dlr_profile = "default"``); a secret cannot contain ``:`` here.
    Raises :class:`ConfigError` with ``file="--account"`` and no line.
    """
    parts = text.split(":")
    if not 3 <= len(parts) <= 4:
        # the text itself is not quoted back: it holds the secret
        expected = "expected ID:SECRET:SERVICE_CODE[:RATE] (3 or 4 fields)"
        raise ConfigError("--account", None, f"{expected}, got {len(parts)}")
    values: list[object] = list(parts)
    if len(parts) == 4:
        with suppress(ValueError):  # else it stays text, which _RATE refuses with the usual message
            values[3] = float(parts[3])
    with _reported("--account"):
        return _ACCOUNT_OPTION(dict(zip(_ACCOUNT_OPTION.fields, values, strict=False)), ())


def with_overrides(
    config: Config,
    *,
    accounts: Sequence[Account] = (),
    cmpp_port: int | None = None,
    smpp_port: int | None = None,
    api_port: int | None = None,
    data_dir: Path | None = None,
) -> Config:
    """``config`` with the command line's options applied: ``--account`` (given at all: replaces every
    account), ``--cmpp-port``, ``--smpp-port``, ``--api-port``, ``--data-dir``.

    Raises :class:`ConfigError` naming the option for a port outside 0..65535, a repeated account id or
    service code, or an account whose dlr_profile is not among ``config.dlr_profiles``.
    """
    for option, port in (("--cmpp-port", cmpp_port), ("--smpp-port", smpp_port), ("--api-port", api_port)):
        if port is not None:
            with _reported(option):
                _PORT(port, ())
    if accounts:
        with _reported("--account"):
            _check_accounts(accounts, config.dlr_profiles)
    cmpp, smpp, api = config.cmpp, config.smpp, config.api
    return dataclasses.replace(
        config,
        cmpp=cmpp if cmpp_port is None else dataclasses.replace(cmpp, listener=Listener(cmpp.listener.host, cmpp_port)),
        smpp=smpp if smpp_port is None else dataclasses.replace(smpp, listener=Listener(smpp.listener.host, smpp_port)),
        api=api if api_port is None else Listener(api.host, api_port),
        accounts=tuple(accounts) or config.accounts,
        data_dir=config.data_dir if data_dir is None else data_dir,
    )


# ---------------------------------------------------------------------------------------------------------
# Dumping
# ---------------------------------------------------------------------------------------------------------


def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)  # finite by validation; repr() is TOML for both (1.0, 1e+16)
    if isinstance(value, str):
        return _quote(value)
    if isinstance(value, Mapping):  # a dict or a read-only MappingProxyType; keys are quoted unless bare
        pairs = ", ".join(f"{_render((key,))} = {_toml_value(item)}" for key, item in value.items())
        return "{ " + pairs + " }" if pairs else "{}"
    assert isinstance(value, list | tuple), value  # dump_config builds nothing else
    if value and isinstance(value[0], dict):  # an array of inline tables: one per line, as the default writes them
        return "[\n" + "".join(f"    {_toml_value(item)},\n" for item in value) + "]"
    return "[" + ", ".join(_toml_value(item) for item in value) + "]"


_Dataclass = (
    Listener | CmppSettings | SmppSettings | Account | DlrProfile | Outcome | PolicyConfig | AuditConfig | NoticeConfig
)


def _fields(obj: _Dataclass, *, skip: tuple[str, ...] = ()) -> dict[str, Any]:
    return {f.name: getattr(obj, f.name) for f in dataclasses.fields(obj) if f.name not in skip}


def _listener_fields(settings: CmppSettings | SmppSettings) -> dict[str, Any]:
    return {"host": settings.listener.host, "port": settings.listener.port, **_fields(settings, skip=("listener",))}


def dump_config(config: Config, *, show_secrets: bool = False) -> str:
    """The TOML text of ``config``, every key written out (what ``smsclab config show`` prints).

    Secrets are written as ``"***"`` unless ``show_secrets``; with them, :func:`load_config` of the text gives
    back an equal :class:`Config`.
    """
    cmpp = _listener_fields(config.cmpp) | {"versions": [_VERSION_NAMES[v] for v in config.cmpp.versions]}
    smpp = _listener_fields(config.smpp) | {"inactivity_timeout": config.smpp.inactivity_timeout or 0}
    gateway = {"timezone": config.timezone, "data_dir": str(config.data_dir), "mask_numbers": config.mask_numbers}
    policy = _fields(config.policy, skip=("modes",)) | {"content_file": str(config.policy.content_file or "")}
    sections: list[tuple[str, Mapping[str, Any]]] = [
        ("[gateway]", gateway), ("[cmpp]", cmpp), ("[smpp]", smpp), ("[api]", _fields(config.api)),
        ("[policy]", policy), ("[policy.modes]", config.policy.modes),
        ("[audit]", _fields(config.audit)), ("[notices]", _fields(config.notices)),
    ]
    for account in config.accounts:
        values = _fields(account, skip=("rate",) if account.rate is None else ())  # no rate key: unlimited
        sections.append(("[[accounts]]", values | {"secret": account.secret if show_secrets else "***"}))
    for name, profile in config.dlr_profiles.items():
        values = {"delay": [profile.delay_min, profile.delay_max],
                  **_fields(profile, skip=("name", "delay_min", "delay_max"))}
        values["outcomes"] = [_fields(outcome) for outcome in profile.outcomes]
        sections.append((f"[dlr_profiles.{name}]", values))  # names are bare keys: _PROFILE_NAME
    lines = ["# smsclab: the effective configuration" + ("" if show_secrets else " (secrets hidden)")]
    for header, table in sections:
        lines += ["", header, *(f"{key} = {_toml_value(value)}" for key, value in table.items())]
    return "\n".join(lines) + "\n"
