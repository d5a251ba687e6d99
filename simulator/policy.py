"""The agreement's rules for what a partner may send (shared/seed/obligations.md), as a table of checks.

Each rule is one row of :data:`RULES`: the agreement clause it comes from, its default mode, the codes a
refusal carries in each protocol, and a small check that returns the evidence of a breach (or ``None``).
A rule is ``off``, ``monitor`` (recorded, the message still goes) or ``enforce`` (recorded and refused with
the rule's code); modes are set per simulator and can be overridden per account. Defaults follow issue 5:
the rules a newcomer's quick-start traffic passes anyway are enforced, the ones that need set-up first
(subscriber registration, content lists) only monitor.

Codes: the CMPP SUBMIT_RESP Results 5, 7, 10, 11 and 13 and the SMPP statuses are the spec's own; where
neither protocol has a code for an agreement rule, a vendor code is used and listed here (CMPP 3.0 §8.7.2
reserves 100-199 for the ISMG vendor; SMPP v3.4 Table 5-2 reserves 0x400-0x4FF for the SMSC vendor).
"""

from __future__ import annotations

import enum
import re
import tomllib
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import NamedTuple

from protocols import cmpp
from protocols.smpp import CommandStatus
from simulator.config import Account, Config

__all__ = [
    "RULES",
    "Check",
    "ContentLists",
    "Mode",
    "Policy",
    "PolicySettings",
    "Rule",
    "SubscriberRegistry",
    "Violation",
    "load_content_lists",
    "settings_from_config",
]


class Mode(enum.Enum):
    """How a rule acts on a breach."""

    OFF = "off"
    MONITOR = "monitor"
    ENFORCE = "enforce"


class Check(NamedTuple):
    """What a rule looks at: one submit, with its text already decoded (a named tuple: one per submit)."""

    account: Account
    source: str
    destinations: tuple[str, ...]
    text: str
    service_id: str
    #: CMPP Msg_src and FeeType; ``None`` for SMPP, which has neither.
    msg_src: str | None
    fee_type: str | None
    now: float


@dataclass(frozen=True, slots=True)
class Violation:
    """A breach of one rule by one submit, with its evidence."""

    rule: str
    clause: str
    mode: Mode
    cmpp_result: int
    smpp_status: int
    evidence: Mapping[str, object]


@dataclass(frozen=True, slots=True)
class ContentLists:
    """Prohibited-content categories (clause 3.2: nine classes) and advertising markers (clause 3.3).

    Each entry is a compiled pattern; keywords become escaped, case-insensitive patterns."""

    categories: Mapping[str, tuple[re.Pattern[str], ...]]
    advertising: tuple[re.Pattern[str], ...]
    #: Every category's patterns as one alternation (group ``c<i>`` = category i), so that a submit is scanned
    #: once rather than once per pattern; ``None`` when the patterns cannot be combined (clashing group names).
    scan: re.Pattern[str] | None = None
    advertising_scan: re.Pattern[str] | None = None


@dataclass(frozen=True, slots=True)
class PolicySettings:
    """Simulator-wide policy settings; every number of the agreement is a setting (obligations.md)."""

    #: Mode of each rule; rules not named keep their default.
    modes: Mapping[str, Mode] = field(default_factory=dict)
    #: Per-account overrides of ``modes``: account id -> rule -> mode.
    account_modes: Mapping[str, Mapping[str, Mode]] = field(default_factory=dict)
    #: The carrier's own number ranges (clause 3.7), as prefixes of the national number.
    number_ranges: tuple[str, ...] = ("135", "136", "137", "138", "139")
    #: Recipients allowed in one submit (clause 3.6: "1-2 numbers at a time").
    max_recipients: int = 2
    #: The same content to more than this many recipients within ``bulk_window`` seconds is abnormal bulk.
    bulk_recipients: int = 100
    bulk_window: float = 60.0
    #: MO texts that unsubscribe the sender from the SP (clause 3.4), compared case-insensitively.
    unsubscribe_words: tuple[str, ...] = ("TD", "退订", "0000")
    #: Suspend an account after this many violations within ``suspend_window`` seconds; 0 never suspends.
    suspend_after: int = 0
    suspend_window: float = 3600.0
    #: Accounts with written approval to advertise (clause 3.3) or to charge users (clause 4.5).
    approved_ads: frozenset[str] = frozenset()
    approved_fees: frozenset[str] = frozenset()
    content: ContentLists | None = None


_RuleCheck = Callable[["Policy", Check], Mapping[str, object] | None]


@dataclass(frozen=True, slots=True)
class Rule:
    """One rule of the agreement."""

    name: str
    clause: str
    default: Mode
    cmpp_result: int
    smpp_status: int
    check: _RuleCheck


# Vendor codes for agreement rules neither protocol has a code for (see the module docstring).
_CMPP_TOO_MANY_RECIPIENTS = 101
_CMPP_NOT_SUBSCRIBED = 102
_CMPP_PROHIBITED_CONTENT = 103
_CMPP_ADVERTISING = 104
_SMPP_NOT_SUBSCRIBED = 0x401
_SMPP_PROHIBITED_CONTENT = 0x402
_SMPP_ADVERTISING = 0x403


_NATIONAL_LENGTH = 11  # digits of a mainland mobile number


def national(number: str) -> str:
    """A mobile number without its country code: "+8613800138000" and "8613800138000" -> "13800138000"."""
    if len(number) <= _NATIONAL_LENGTH:  # the usual form already; no prefix can leave 11 digits of it
        return number
    for prefix in ("+86", "0086", "86"):
        if number.startswith(prefix) and len(number) - len(prefix) == _NATIONAL_LENGTH:
            return number[len(prefix):]
    return number


def _service_code(_: Policy, c: Check) -> Mapping[str, object] | None:
    if c.source.startswith(c.account.service_codes):
        return None
    return {"source": c.source, "service_codes": list(c.account.service_codes)}


def _caller_number(_: Policy, c: Check) -> Mapping[str, object] | None:
    return None if c.source.strip() else {"source": c.source}


def _msg_src(_: Policy, c: Check) -> Mapping[str, object] | None:
    if c.msg_src is None or c.msg_src == c.account.id:
        return None
    return {"msg_src": c.msg_src, "sp_id": c.account.id}


def _service_id(_: Policy, c: Check) -> Mapping[str, object] | None:
    if not c.account.service_ids or c.service_id in c.account.service_ids:
        return None
    return {"service_id": c.service_id, "provisioned": list(c.account.service_ids)}


#: SMPP carries no fee (None); an empty CMPP FeeType is read as free, as the ISMGs we know do.
_FREE = frozenset({None, "", cmpp.FeeType.FREE})


def _fee(policy: Policy, c: Check) -> Mapping[str, object] | None:
    if c.fee_type in _FREE or c.account.id in policy.settings.approved_fees:
        return None
    return {"fee_type": c.fee_type}


def _number_range(policy: Policy, c: Check) -> Mapping[str, object] | None:
    ranges = policy.settings.number_ranges
    outside = [d for d in c.destinations if not national(d).startswith(ranges)]
    return {"destinations": outside, "ranges": list(ranges)} if outside else None


def _group_size(policy: Policy, c: Check) -> Mapping[str, object] | None:
    limit = policy.settings.max_recipients
    return {"recipients": len(c.destinations), "limit": limit} if len(c.destinations) > limit else None


def _subscribers(policy: Policy, c: Check) -> Mapping[str, object] | None:
    missing = [d for d in c.destinations if not policy.subscribers.is_subscribed(c.account.id, national(d))]
    return {"destinations": missing} if missing else None


def _content(policy: Policy, c: Check) -> Mapping[str, object] | None:
    lists = policy.settings.content
    if lists is None:
        return None
    if lists.scan is not None:
        found = lists.scan.search(c.text)
        if found is None:
            return None
        names = list(lists.categories)
        category = next(name for i, name in enumerate(names) if found.group(f"c{i}") is not None)
        return {"category": category, "matched": found.group(0)}
    for category, patterns in lists.categories.items():
        for pattern in patterns:
            found = pattern.search(c.text)
            if found:
                return {"category": category, "matched": found.group(0)}
    return None


def _advertising(policy: Policy, c: Check) -> Mapping[str, object] | None:
    lists = policy.settings.content
    if lists is None or c.account.id in policy.settings.approved_ads:
        return None
    if lists.advertising_scan is not None:
        found = lists.advertising_scan.search(c.text)
        return None if found is None else {"matched": found.group(0)}
    for pattern in lists.advertising:
        found = pattern.search(c.text)
        if found:
            return {"matched": found.group(0)}
    return None


def _bulk(policy: Policy, c: Check) -> Mapping[str, object] | None:
    recipients = policy.bulk_recipients(c)
    limit = policy.settings.bulk_recipients
    return {"recipients": recipients, "limit": limit, "window": policy.settings.bulk_window} \
        if recipients > limit else None


#: The rules, in the order they are checked; the first enforced breach decides the answer.
RULES: tuple[Rule, ...] = (
    Rule("caller_number", "3.5", Mode.ENFORCE, cmpp.SubmitResult.SRC_ID, CommandStatus.ESME_RINVSRCADR,
         _caller_number),
    Rule("service_code", "1.3", Mode.ENFORCE, cmpp.SubmitResult.SRC_ID, CommandStatus.ESME_RINVSRCADR,
         _service_code),
    Rule("msg_src", "1.3", Mode.ENFORCE, cmpp.SubmitResult.MSG_SRC, CommandStatus.ESME_RINVSRCADR, _msg_src),
    Rule("service_id", "3.4", Mode.ENFORCE, cmpp.SubmitResult.SERVICE_ID, CommandStatus.ESME_RINVSERTYP,
         _service_id),
    Rule("fee", "4.5", Mode.ENFORCE, cmpp.SubmitResult.FEE_CODE, CommandStatus.ESME_RSYSERR, _fee),
    Rule("number_range", "3.7", Mode.ENFORCE, cmpp.SubmitResult.DEST_TERMINAL_ID, CommandStatus.ESME_RINVDSTADR,
         _number_range),
    Rule("group_size", "3.6", Mode.ENFORCE, _CMPP_TOO_MANY_RECIPIENTS, CommandStatus.ESME_RINVNUMDESTS, _group_size),
    Rule("subscribers", "3.4", Mode.MONITOR, _CMPP_NOT_SUBSCRIBED, _SMPP_NOT_SUBSCRIBED, _subscribers),
    Rule("content", "3.2", Mode.MONITOR, _CMPP_PROHIBITED_CONTENT, _SMPP_PROHIBITED_CONTENT, _content),
    Rule("advertising", "3.3", Mode.MONITOR, _CMPP_ADVERTISING, _SMPP_ADVERTISING, _advertising),
    Rule("bulk", "2.8", Mode.MONITOR, cmpp.SubmitResult.FLOW_CONTROL, CommandStatus.ESME_RTHROTTLED, _bulk),
)
RULES_BY_NAME: Mapping[str, Rule] = MappingProxyType({rule.name: rule for rule in RULES})


class SubscriberRegistry:
    """Who opted in to each SP's messages (clause 3.4), kept in memory and written through to the store."""

    def __init__(self, entries: Iterable[tuple[str, str]] = ()) -> None:
        self._numbers: dict[str, set[str]] = {}
        for account, number in entries:
            self._numbers.setdefault(account, set()).add(number)

    def is_subscribed(self, account: str, number: str) -> bool:
        """Whether ``number`` (national form) opted in to ``account``."""
        return number in self._numbers.get(account, ())

    def subscribe(self, account: str, number: str) -> bool:
        """Add a subscriber; False when already there."""
        numbers = self._numbers.setdefault(account, set())
        if number in numbers:
            return False
        numbers.add(number)
        return True

    def unsubscribe(self, account: str, number: str) -> bool:
        """Remove a subscriber; False when not there."""
        numbers = self._numbers.get(account, set())
        if number not in numbers:
            return False
        numbers.remove(number)
        return True

    def numbers(self, account: str) -> list[str]:
        """The subscribers of ``account``, sorted."""
        return sorted(self._numbers.get(account, ()))


class Policy:
    """Applies :data:`RULES` to submits and keeps what repeated-violation suspension needs."""

    def __init__(self, settings: PolicySettings, subscribers: SubscriberRegistry | None = None) -> None:
        self._active: dict[str, tuple[tuple[_RuleCheck, Rule, Mode], ...]] = {}
        self.settings = settings
        self.subscribers = subscribers or SubscriberRegistry()
        self._bulk: dict[tuple[str, str], _Recipients] = {}
        self._recent_violations: dict[str, deque[float]] = {}
        self._suspended: set[str] = set()

    @property
    def settings(self) -> PolicySettings:
        """The settings in force (a scenario's bulk guard may replace them for a while)."""
        return self._settings

    @settings.setter
    def settings(self, settings: PolicySettings) -> None:
        self._settings = settings
        self._active.clear()

    def _rules_for(self, account: str) -> tuple[tuple[_RuleCheck, Rule, Mode], ...]:
        """The rules switched on for an account, with their checks and modes, worked out once per settings
        (this runs for every submit)."""
        active = self._active.get(account)
        if active is None:
            active = tuple((rule.check, rule, mode) for rule in RULES
                           if (mode := self.mode(account, rule)) is not Mode.OFF)
            self._active[account] = active
        return active

    def mode(self, account: str, rule: Rule) -> Mode:
        """The mode of ``rule`` for ``account``: the account's override, the simulator's, the default."""
        per_account = self.settings.account_modes.get(account, {})
        return per_account.get(rule.name, self.settings.modes.get(rule.name, rule.default))

    def is_suspended(self, account: str) -> bool:
        """Whether repeated violations suspended the account (clause 3.9)."""
        return account in self._suspended

    def check(self, c: Check) -> list[Violation]:
        """Every breach of an active rule by this submit, in rule order."""
        violations = []
        for check, rule, mode in self._rules_for(c.account.id):
            evidence = check(self, c)
            if evidence is not None:
                violations.append(Violation(rule.name, rule.clause, mode, rule.cmpp_result, rule.smpp_status,
                                            evidence))
        if violations:
            self._count_towards_suspension(c.account.id, c.now, len(violations))
        return violations

    def is_unsubscribe(self, text: str) -> bool:
        """Whether an MO text asks to unsubscribe (TD, 退订, 0000 by default)."""
        return text.strip().casefold() in {word.casefold() for word in self.settings.unsubscribe_words}

    def bulk_recipients(self, c: Check) -> int:
        """Distinct recipients the same content reached from this account within the bulk window, this submit
        included (kept incrementally: this runs on every submit)."""
        recipients = self._bulk.get((c.account.id, _content_key(c.text)))
        if recipients is None:
            recipients = self._bulk[(c.account.id, _content_key(c.text))] = _Recipients()
        return recipients.add(c.destinations, c.now, self.settings.bulk_window)

    def _count_towards_suspension(self, account: str, now: float, count: int) -> None:
        threshold = self.settings.suspend_after
        if threshold <= 0:
            return
        recent = self._recent_violations.setdefault(account, deque())
        recent.extend([now] * count)
        while recent and recent[0] <= now - self.settings.suspend_window:
            recent.popleft()
        if len(recent) >= threshold:
            self._suspended.add(account)

    def reinstate(self, account: str) -> None:
        """Lift a suspension (control API)."""
        self._suspended.discard(account)
        self._recent_violations.pop(account, None)


class _Recipients:
    """Who received one content within a sliding window: each number with the time it last received it, the
    least recent first. A number sent to again moves to the end instead of adding an entry, so memory grows
    with the distinct recipients of the window, not with the messages (a partner re-sending one text to the same
    numbers at thousands a second must not fill the heap, nor make every garbage collection walk it)."""

    __slots__ = ("_last",)

    def __init__(self) -> None:
        self._last: OrderedDict[str, float] = OrderedDict()

    def add(self, numbers: Iterable[str], now: float, window: float) -> int:
        last = self._last
        for number in numbers:
            if number in last:
                last.move_to_end(number)
            last[number] = now
        horizon = now - window
        while last:
            oldest = next(iter(last))
            if last[oldest] > horizon:
                break
            del last[oldest]
        return len(last)


def _content_key(text: str) -> str:
    # Bulk senders vary whitespace and case; the message is the same.
    return " ".join(text.split()).casefold()


def _patterns(entries: Iterable[object], source: str) -> tuple[re.Pattern[str], ...]:
    compiled = []
    for entry in entries:
        if not isinstance(entry, str) or not entry:
            raise ValueError(f"{source}: entries must be non-empty strings")
        if entry.startswith("re:"):
            try:
                compiled.append(re.compile(entry[3:], re.IGNORECASE))
            except re.error as error:
                raise ValueError(f"{source}: bad pattern {entry[3:]!r}: {error}") from None
        else:
            compiled.append(re.compile(re.escape(entry), re.IGNORECASE))
    return tuple(compiled)


def _combined(groups: Iterable[tuple[str, tuple[re.Pattern[str], ...]]]) -> re.Pattern[str] | None:
    """One case-insensitive alternation of every pattern, each group named after its list."""
    parts = [f"(?P<{name}>{'|'.join(f'(?:{p.pattern})' for p in patterns)})"
             for name, patterns in groups if patterns]
    if not parts:
        return re.compile(r"(?!)")  # nothing to find
    try:
        return re.compile("|".join(parts), re.IGNORECASE)
    except re.error:  # e.g. two user patterns defining the same group name: scan pattern by pattern instead
        return None


def load_content_lists(path: Path | None = None) -> ContentLists:
    """Read the content lists: ``path``, or the neutral placeholder lists shipped with smsclab.

    The file has ``[categories]`` with one array per category (clause 3.2 names nine) and an
    ``advertising`` array; an entry is a keyword, or ``re:`` followed by a regular expression."""
    if path is None:
        raw = (Path(__file__).parent / "data" / "content_rules.toml").read_text(encoding="utf-8")
        source = "content_rules.toml (shipped)"
    else:
        raw = path.read_text(encoding="utf-8")
        source = str(path)
    try:
        document = tomllib.loads(raw)
    except tomllib.TOMLDecodeError as error:
        raise ValueError(f"{source}: {error}") from None
    categories = document.get("categories", {})
    if not isinstance(categories, dict):
        raise ValueError(f"{source}: [categories] must be a table of arrays")
    compiled = MappingProxyType({name: _patterns(entries if isinstance(entries, list) else [None],
                                                  f"{source}: categories.{name}")
                                 for name, entries in categories.items()})
    advertising = _patterns(document.get("advertising", []), f"{source}: advertising")
    return ContentLists(categories=compiled, advertising=advertising,
                        scan=_combined((f"c{i}", patterns) for i, patterns in enumerate(compiled.values())),
                        advertising_scan=_combined([("a", advertising)]))


def settings_from_config(config: Config) -> PolicySettings:
    """The policy settings a configuration asks for (``[policy]`` and the accounts' own keys)."""
    policy = config.policy
    return PolicySettings(
        modes=MappingProxyType({rule: Mode(mode) for rule, mode in policy.modes.items()}),
        account_modes=MappingProxyType({
            account.id: MappingProxyType({rule: Mode(mode) for rule, mode in account.policy.items()})
            for account in config.accounts if account.policy}),
        number_ranges=policy.number_ranges,
        max_recipients=policy.max_recipients,
        bulk_recipients=policy.bulk_recipients,
        bulk_window=policy.bulk_window,
        unsubscribe_words=policy.unsubscribe_words,
        suspend_after=policy.suspend_after,
        suspend_window=policy.suspend_window,
        approved_ads=frozenset(account.id for account in config.accounts if account.approved_ads),
        approved_fees=frozenset(account.id for account in config.accounts if account.approved_fees),
        content=load_content_lists(policy.content_file))
