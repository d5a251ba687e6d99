"""What happens to a message, whatever protocol brought it: the protocol-neutral heart of the simulator.

Theory of operation
-------------------
The protocol fronts (``cmpp_front.py``, ``smpp_front.py``) turn PDUs into neutral requests and the
gateway's answers back into PDUs; the gateway never sees a PDU. For a submit it decides, in order (design.md
"A submit's path"): flow control (the account's token bucket; the window is the session's business),
then the ids (CMPP Msg_Id composed from the simulated time and the gateway code; SMPP message_id from the
row id), then the outcome the simulated handset will have (the account's DLR profile: a delay and a
weighted stat mix, from a seeded random generator so runs repeat). The result is rows for the store; the
front answers the partner only once the store has committed them.

Receipts and MO messages go the other way through :class:`Link` objects, one per partner session able to
receive. Two dispatchers (one for receipts, one for MO) read what is due from the store, hand it to a link,
and record each attempt; a link reports the partner's acknowledgement back. Because the store is the
source of truth, what was pending survives a restart.
"""

from __future__ import annotations

import asyncio
import bisect
import collections
import enum
import hmac
import ipaddress
import itertools
import random
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from types import MappingProxyType
from typing import Literal, NamedTuple, Protocol, TypeVar
from zoneinfo import ZoneInfo

from protocols import cmpp, text
from simulator.clock import Clock
from simulator.conditions import Conditions
from simulator.config import Account, Config, DlrProfile
from simulator.flow import TokenBucket
from simulator.observe import EventLog, Metrics, mask_number
from simulator.policy import Check, Mode, Policy, Violation, national, settings_from_config
from simulator.refusals import NO_DESTINATION, SUSPENDED, THROTTLED, Refusal
from simulator.store import MessageRow, MoRow, Store

__all__ = [
    "Accepted",
    "Gateway",
    "Link",
    "MoRoutingError",
    "Receipt",
    "Submission",
]


class Receipt(enum.Enum):
    """Which outcomes the partner asked to hear about (SMPP v3.4 §5.2.17 bits 1-0; CMPP 0/1)."""

    NONE = 0
    ALWAYS = 1
    FAILURE = 2
    SUCCESS = 3  # SMPP 5.0 gives the reserved 3.4 value this meaning




class Submission(NamedTuple):
    """One submit, protocol-neutral: a segment of a message to one or more recipients (a named tuple: one is
    made for every submit)."""

    protocol: str
    session: str
    source: str
    destinations: tuple[str, ...]
    content: bytes
    #: The protocol's own data coding value (SMPP data_coding, CMPP Msg_Fmt), stored as received.
    data_coding: int
    encoding: text.Encoding
    udhi: bool
    receipt: Receipt
    service_id: str = ""
    #: SMPP sar_msg_ref_num / sar_total_segments / sar_segment_seqnum, when present.
    sar: tuple[int, int, int] | None = None
    #: CMPP Pk_total / Pk_number.
    pk: tuple[int, int] | None = None
    #: CMPP Msg_src and FeeType (SMPP has neither).
    msg_src: str | None = None
    fee_type: str | None = None
    #: The request's sequence number, for the evidence of what it did.
    sequence: int = 0


class Accepted(NamedTuple):
    """A submit the gateway took: the rows to persist, one per recipient, ids in recipient order."""

    rows: tuple[MessageRow, ...]

    @property
    def message_id(self) -> str:
        """The id the partner is given: the first row's (CMPP: the first of n consecutive Msg_Ids)."""
        return self.rows[0].message_id


class MoRoutingError(ValueError):
    """No account owns the destination of an injected MO message."""


class Link(Protocol):
    """A partner session the gateway can push receipts and MO messages to."""

    @property
    def protocol(self) -> str: ...

    @property
    def account(self) -> str: ...

    @property
    def label(self) -> str: ...

    @property
    def receiving(self) -> bool:
        """Whether the session is bound to receive at all (its window may be full right now)."""

    def can_receive(self) -> bool:
        """Whether the session may be sent a receipt or MO now (bound to receive, window not full)."""

    def free_slots(self) -> int:
        """How many receipts or MO segments the session could be sent now (0 when it cannot receive)."""

    def send_receipt(self, row: MessageRow, now: float) -> bool:
        """Send the receipt for ``row``; False when it could not be sent now."""

    def send_mo(self, mo: MoRow, now: float) -> bool:
        """Send one MO segment; False when it could not be sent now."""

    def describe(self) -> dict[str, object]:
        """What the control API shows about this session."""

    def set_window(self, window: int) -> None:
        """Requests either side may have unanswered from now on (the contract's, or a scenario's)."""

    def abort(self) -> None:
        """Drop the connection at once, without a goodbye (a fault, a refuse-mode outage)."""

    def hold(self, frozen: bool) -> None:
        """Freeze the connection half-open: read nothing, answer nothing, keep it open."""

    def shut_down(self) -> None:
        """End the session politely (TERMINATE / unbind) because the simulator is stopping."""


@dataclass(slots=True)
class _AccountState:
    account: Account
    profile: DlrProfile
    bucket: TokenBucket | None
    links: list[Link] = field(default_factory=list)
    next_link: int = 0


#: Rows the receipt and MO dispatchers read at most at once.
_DUE_BATCH = 500
_Due = TypeVar("_Due", MessageRow, MoRow)

#: Receipt stat -> SMPP message_state (v3.4 §5.2.28) for the message_state TLV and query_sm.
MESSAGE_STATES = {"DELIVRD": 2, "EXPIRED": 3, "DELETED": 4, "UNDELIV": 5, "ACCEPTD": 6, "UNKNOWN": 7,
                  "REJECTD": 8, "ENROUTE": 1}
_CMPP_SEQUENCE_SPAN = 0x10000  # CMPP 3.0 §8.4.3.2: the Msg_Id sequence is 16 bits and wraps


def _same_in_gsm(character: str) -> bool:
    try:
        return text.encode_text(character, text.Encoding.GSM7) == character.encode("ascii")
    except text.TextEncodingError:
        return False


#: Printable ASCII whose byte is the same in GSM 7-bit (so not @ $ _ ` nor the extension characters).
_ASCII_SAFE_FOR_GSM = frozenset(chr(code) for code in range(32, 127) if _same_in_gsm(chr(code)))


class Gateway:
    """One simulated carrier gateway: accounts, sessions, ids, outcomes, receipts and MO routing."""

    def __init__(self, config: Config, store: Store, clock: Clock, *, seed: int = 0,
                 events: EventLog | None = None, metrics: Metrics | None = None, policy: Policy | None = None) -> None:
        self.config = config
        self.policy = policy or Policy(settings_from_config(config))
        self.store = store
        self.clock = clock
        self.events = events or EventLog()
        self.metrics = metrics or Metrics()
        self.zone = ZoneInfo(config.timezone)
        self._random = random.Random(seed)
        #: Maintenance windows and faults a scenario has switched on (simulator/effects.py sets them).
        self.conditions = Conditions(random.Random(seed))
        #: Rate and window overrides a scenario imposed, by account (throttle, capacity, emergency cut).
        self._capacity: dict[str, list[tuple[str, float | None, int | None]]] = {}
        now = clock.now()
        self._accounts = {
            account.id: _AccountState(account, config.dlr_profiles[account.dlr_profile],
                                      TokenBucket(account.rate, now) if account.rate else None)
            for account in config.accounts}
        self._next_row = 1
        self._next_mo = 1
        self._cmpp_sequence = 0
        #: The Msg_Id bits of the current second (month .. second and the gateway code), and that second.
        self._msg_id_second: int | None = None
        self._msg_id_base = 0
        self._reassembler = text.Reassembler()
        self._receipts_wake = asyncio.Event()
        #: Accepted submits of this event-loop turn, written together by :meth:`_persist_turn`.
        self._to_persist: list[tuple[list[MessageRow], Callable[[BaseException | None], None], float]] = []
        self._mo_wake = asyncio.Event()
        #: The wake events of the dispatchers whose last round stopped at full windows.
        self._waiting_for_room: set[asyncio.Event] = set()
        self._tasks: list[asyncio.Task[None]] = []
        #: Each DLR profile's outcome weights, summed up once (by the profile's id; the profile is kept with them).
        self._cumulative_weights: dict[int, tuple[DlrProfile, list[float]]] = {}

    async def start(self) -> None:
        """Continue the id sequences from the store and start the dispatchers."""
        last_row, last_mo = await self.store.max_ids()
        self._next_row, self._next_mo = last_row + 1, last_mo + 1
        for account, number in await self.store.subscribers():
            self.policy.subscribers.subscribe(account, number)
        self._tasks = [asyncio.create_task(self._dispatch(self._receipts_once, self.store.next_receipt_due,
                                                          self._receipts_wake), name="receipts"),
                       asyncio.create_task(self._dispatch(self._mo_once, self.store.next_mo_due, self._mo_wake),
                                           name="mo"),
                       asyncio.create_task(self._retention(), name="retention")]

    async def stop(self) -> None:
        """End every partner session politely and stop the dispatchers."""
        for state in self._accounts.values():
            for link in list(state.links):
                link.shut_down()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    # -- accounts and sessions -----------------------------------------------------------------------

    def account(self, account_id: str) -> Account | None:
        """The configured account with this SP_Id / system_id."""
        state = self._accounts.get(account_id)
        return None if state is None else state.account

    def ip_allowed(self, account: Account, peer_ip: str) -> bool:
        """Whether the account may connect from ``peer_ip`` (fail closed on anything unparsable)."""
        try:
            address = ipaddress.ip_address(peer_ip)
        except ValueError:
            return False
        return any(address in ipaddress.ip_network(network, strict=False) for network in account.allow_ips)

    def password_matches(self, account: Account, password: str) -> bool:
        """Constant-time comparison of an SMPP bind password with the account's secret."""
        return hmac.compare_digest(password.encode("latin-1", "replace"), account.secret.encode("latin-1", "replace"))

    def connections(self, account_id: str) -> int:
        """Sessions of this account currently attached (both protocols)."""
        state = self._accounts.get(account_id)
        return 0 if state is None else len(state.links)

    def attach(self, link: Link) -> None:
        """A session of ``link.account`` is bound/connected: it may receive receipts and MO from now on."""
        state = self._accounts[link.account]
        state.links.append(link)
        self.metrics.binds.labels(link.protocol, link.account).set(
            sum(1 for other in state.links if other.protocol == link.protocol))
        # What waited for a session of this account goes out now, not at its next retry.
        self.store.bring_forward(link.account).add_done_callback(lambda _: self.wake_dispatchers())

    def detach(self, link: Link) -> None:
        """The session ended."""
        state = self._accounts.get(link.account)
        if state is not None and link in state.links:
            state.links.remove(link)
            self.metrics.binds.labels(link.protocol, link.account).set(
                sum(1 for other in state.links if other.protocol == link.protocol))

    def links(self) -> list[Link]:
        """Every attached partner session."""
        return [link for state in self._accounts.values() for link in state.links]

    def contracted(self, account_id: str) -> tuple[float | None, int]:
        """The rate (msgs/s, None = unlimited) and window the account's contract gives it."""
        account = self._accounts[account_id].account
        return account.rate, account.window

    def limits(self, account_id: str) -> tuple[float | None, int]:
        """The rate and window in force now: the latest scenario override, else the contract."""
        rate, window = self.contracted(account_id)
        for _, override_rate, override_window in self._capacity.get(account_id, ()):
            rate = override_rate if override_rate is not None else rate
            window = override_window if override_window is not None else window
        return rate, window

    def override_capacity(self, account_id: str, key: str, rate: float | None, window: int | None,
                          now: float) -> None:
        """Impose a rate and/or window on an account from ``now`` (agreement clause 2.2: flow adjusted to the
        SMSC's capacity at any time); overrides stack, the latest wins, and ``key`` lifts one again."""
        self._capacity.setdefault(account_id, []).append((key, rate, window))
        self._apply_limits(account_id, now)

    def lift_capacity(self, account_id: str, key: str, now: float) -> None:
        """Remove the override ``key``; what remains (or the contract) applies again."""
        overrides = self._capacity.get(account_id, [])
        self._capacity[account_id] = [entry for entry in overrides if entry[0] != key]
        self._apply_limits(account_id, now)

    def _apply_limits(self, account_id: str, now: float) -> None:
        state = self._accounts[account_id]
        rate, window = self.limits(account_id)
        if rate is None:
            state.bucket = None
        elif state.bucket is None:
            state.bucket = TokenBucket(rate, now)
        else:
            state.bucket.set_rate(rate, now)
        for link in state.links:
            link.set_window(window)
        self.wake_dispatchers()  # a wider window may take what waited

    def window_opened(self) -> None:
        """A link answered (or gave up waiting for) one of our deliveries: the dispatchers that found every
        window full in their last round look again. Ones that did not are asleep until their next due time
        and have nothing new to do (waking them for every answer costs a store round trip each)."""
        for wake in self._waiting_for_room:
            wake.set()

    def wake_dispatchers(self) -> None:
        """A link's window opened: pending receipts and MO may go out now."""
        self._receipts_wake.set()
        self._mo_wake.set()

    # -- submits -------------------------------------------------------------------------------------

    def submit(self, account_id: str, submission: Submission, now: float) -> Accepted | Refusal:
        """Decide a submit, in the order of design.md's "submit's path": what a scenario imposes (maintenance,
        an error burst), then the agreement's rules, then flow control, then ids and the simulated outcome.
        The caller persists the rows (:meth:`persist`) before it answers."""
        state = self._accounts[account_id]
        if not self.conditions.quiet:
            imposed = self.conditions.submit_refusal(account_id)
            if imposed is not None:
                return imposed
        if not submission.destinations:
            return NO_DESTINATION
        if self.policy.is_suspended(account_id):
            return SUSPENDED
        payload, concat = self._segment(submission)
        segment_text = text.decode_text(payload, submission.encoding)
        refusal = self._apply_policy(state.account, submission, segment_text, now)
        if refusal is not None:
            return refusal
        if state.bucket is not None and not state.bucket.take(len(submission.destinations), now):
            self.metrics.throttled.labels(account_id).inc()
            return THROTTLED
        if concat == (None, 1, 1):  # a single-part message is its own whole text: nothing to reassemble
            message_text: str | None = segment_text
        else:
            message = self._reassembler.add(key=(account_id, submission.source, submission.destinations),
                                            short_message=submission.content, udhi=submission.udhi,
                                            encoding=submission.encoding, now=now, sar=submission.sar,
                                            pk=submission.pk)
            message_text = None if message is None else message.text
        ids = self._message_ids(submission.protocol, state.account, len(submission.destinations), now)
        rows = []
        profile = state.profile if self.conditions.quiet else self.conditions.receipt_profile(account_id, state.profile)
        for destination, (row_id, message_id) in zip(submission.destinations, ids, strict=True):
            stat, err, done_at = self._outcome(profile, now)
            wants = _wants_receipt(submission.receipt, stat)
            rows.append(MessageRow(
                id=row_id, message_id=message_id, account=account_id, protocol=submission.protocol,
                session=submission.session, submitted_at=now, source=submission.source, destination=destination,
                data_coding=submission.data_coding, content=submission.content, text=segment_text,
                message_text=message_text,
                segment_ref=concat[0], segment_total=concat[1], segment_number=concat[2],
                registered_delivery=submission.receipt.value, service_id=submission.service_id,
                state=stat, err=err, done_at=done_at, receipt_state="pending" if wants else "none",
                receipt_due=done_at if wants else None))
        return Accepted(tuple(rows))

    def _apply_policy(self, account: Account, submission: Submission, segment_text: str,
                      now: float) -> Refusal | None:
        """Record every breach of the agreement's rules; the first enforced one refuses the submit."""
        was_suspended = self.policy.is_suspended(account.id)
        violations = self.policy.check(Check(
            account=account, source=submission.source, destinations=submission.destinations, text=segment_text,
            service_id=submission.service_id, msg_src=submission.msg_src, fee_type=submission.fee_type, now=now))
        for violation in violations:
            self._record_violation(account.id, submission, violation, now)
        if not was_suspended and self.policy.is_suspended(account.id):
            self.events.emit(now, "account.suspended", account=account.id,
                             threshold=self.policy.settings.suspend_after)
        enforced = next((v for v in violations if v.mode is Mode.ENFORCE), None)
        if enforced is None:
            return None
        return Refusal(f"policy:{enforced.rule}", enforced.cmpp_result, enforced.smpp_status)

    def _record_violation(self, account: str, submission: Submission, violation: Violation, now: float) -> None:
        evidence = {key: ([self.mask(n) for n in value] if key == "destinations" and isinstance(value, list)
                          else value) for key, value in violation.evidence.items()}
        self.store.record_violation(now, account=account, session=submission.session, rule=violation.rule,
                                    mode=violation.mode.value, recipients=len(submission.destinations),
                                    evidence=evidence)
        self.events.emit(now, "policy.violation", account=account, session=submission.session, rule=violation.rule,
                         clause=violation.clause, mode=violation.mode.value, sequence=submission.sequence,
                         evidence=evidence)

    def persist(self, accepted: Sequence[Accepted], submitted_at: float,
                then: Callable[[BaseException | None], None]) -> None:
        """Write accepted submits, then call ``then(None)`` once they are durable, or ``then(error)`` if the
        store could not commit them. Receipts are scheduled then.

        Every connection's submits of one event-loop turn go to the store as one insert, and ``then`` is called
        straight from that insert's completion: with a thousand sessions each read carries only a few submits,
        and a store operation, a future or a loop turn per read would cost more than the rows themselves."""
        if not self._to_persist:
            asyncio.get_running_loop().call_soon(self._persist_turn)
        self._to_persist.append(([row for item in accepted for row in item.rows], then, submitted_at))

    def _persist_turn(self) -> None:
        batch, self._to_persist = self._to_persist, []
        rows = [row for item_rows, _, _ in batch for row in item_rows]
        stored = self.store.insert_messages(rows)

        def committed(done: asyncio.Future[None]) -> None:
            error = (asyncio.CancelledError() if done.cancelled() else done.exception())
            now = self.clock.now()
            for _, then, submitted_at in batch:
                if error is None:
                    self.metrics.store_seconds.observe(max(0.0, now - submitted_at))
                then(error)
            if error is not None:
                return
            for (protocol, account), count in collections.Counter((row.protocol, row.account) for row in rows).items():
                self.metrics.accepted.labels(protocol, account).inc(count)
            if any(row.receipt_state == "pending" for row in rows):
                self._receipts_wake.set()

        stored.add_done_callback(committed)

    def mask(self, number: str) -> str:
        """A number as logs and the API show it."""
        return mask_number(number) if self.config.mask_numbers else number

    def _segment(self, submission: Submission) -> tuple[bytes, tuple[int | None, int, int]]:
        """The segment's text octets (UDH removed) and its (reference, total, number): the UDH first, then the
        SAR TLVs, then Pk_total/Pk_number (cmpp.md §10 #8: trust the UDH); a plain message is (None, 1, 1)."""
        payload, concat = submission.content, None
        if submission.udhi:
            try:
                header, payload = text.parse_udh(submission.content)
            except text.UserDataHeaderError:
                payload = submission.content  # a broken UDH is stored as received and read as text
            else:
                concat = header.concat
        if concat is not None:
            return payload, concat
        if submission.sar is not None:
            return payload, submission.sar
        if submission.pk is not None and submission.pk[0] > 1:
            return payload, (None, submission.pk[0], submission.pk[1])
        return payload, (None, 1, 1)

    def _message_ids(self, protocol: str, account: Account, count: int, now: float) -> list[tuple[int, str]]:
        """Row ids and the ids the partner sees, one per recipient."""
        first = self._next_row
        self._next_row += count
        if protocol == "cmpp":
            return list(enumerate(self._cmpp_msg_ids(now, count), first))
        form = "x" if account.message_id_format == "hex" else "d"
        return [(row_id, format(row_id, form)) for row_id in range(first, first + count)]

    def new_cmpp_msg_id(self, now: float) -> str:
        """A fresh ISMG Msg_Id (for a DELIVER), in decimal."""
        return self._cmpp_msg_ids(now, 1)[0]

    def _cmpp_msg_ids(self, now: float, count: int) -> list[str]:
        """``count`` consecutive Msg_Ids composed from ``now`` and the gateway code (CMPP 3.0 §8.4.3.2).

        A group send's recipients get Msg_Id .. Msg_Id+(n-1), the 16-bit sequence wrapping (appendix 1). The
        time and gateway bits are composed once per second of ``now``; the sequence is the low 16 bits."""
        second = int(now)
        if self._msg_id_second != second:
            moment = datetime.fromtimestamp(now, self.zone)
            self._msg_id_second = second
            self._msg_id_base = cmpp.MsgId(month=moment.month, day=moment.day, hour=moment.hour,
                                           minute=moment.minute, second=moment.second,
                                           gateway=self.config.cmpp.gateway_code, sequence=0).compose()
        first = self._cmpp_sequence
        self._cmpp_sequence = (first + count) % _CMPP_SEQUENCE_SPAN
        base = self._msg_id_base
        return [str(base | (first + i) % _CMPP_SEQUENCE_SPAN) for i in range(count)]

    def _outcome(self, profile: DlrProfile, now: float) -> tuple[str, int, float]:
        found = self._cumulative_weights.get(id(profile))
        if found is None or found[0] is not profile:  # (keeping the profile alive keeps its id unique)
            found = self._cumulative_weights[id(profile)] = (
                profile, list(itertools.accumulate(outcome.weight for outcome in profile.outcomes)))
        cumulative = found[1]
        # The draw random.choices(weights=...) makes, from one random(), without summing the weights again.
        outcome = profile.outcomes[bisect.bisect(cumulative, self._random.random() * cumulative[-1], 0,
                                                 len(cumulative) - 1)]
        done_at = now + self._random.uniform(profile.delay_min, profile.delay_max)
        return outcome.stat, outcome.err, done_at

    # -- queries on stored messages -----------------------------------------------------------------

    async def find(self, account_id: str, message_id: str) -> MessageRow | None:
        """A stored message of this account by the id the partner was given."""
        return await self.store.find_message(account_id, message_id)

    def state_of(self, row: MessageRow, now: float) -> str:
        """A message's state as of ``now``: ENROUTE until its outcome, then the outcome."""
        return row.state if row.cancelled or now >= row.done_at else "ENROUTE"

    async def cancel(self, account_id: str, message_id: str, now: float) -> bool:
        """Cancel a message still en route; False when unknown or already final."""
        row = await self.find(account_id, message_id)
        if row is None or self.state_of(row, now) != "ENROUTE":
            return False
        await self.store.cancel_message(row.id, now)
        self.events.emit(now, "message.cancelled", account=account_id, message_id=message_id)
        return True

    async def replace(self, account_id: str, message_id: str, content: bytes, encoding: text.Encoding,
                      now: float) -> bool:
        """Replace the content of a message still en route; False when unknown or already final."""
        row = await self.find(account_id, message_id)
        if row is None or self.state_of(row, now) != "ENROUTE":
            return False
        await self.store.replace_message(row.id, content, text.decode_text(content, encoding))
        return True

    async def query_counters(self, account_id: str, day: str, service_id: str | None,
                             now: float) -> dict[str, int]:
        """CMPP_QUERY counters for one day (YYYYMMDD in the gateway's time zone)."""
        start = datetime.strptime(day, "%Y%m%d").replace(tzinfo=self.zone).timestamp()
        end = start + 86_400
        counters = await self.store.mt_counters(account_id, start, end, now, service_id)
        counters.update(await self.store.mo_counters(account_id, start, end))
        return counters

    # -- MO ------------------------------------------------------------------------------------------

    def route_mo(self, destination: str) -> Account:
        """The account whose service code is the longest prefix of ``destination`` (CMPP Dest_Id)."""
        best: tuple[int, Account] | None = None
        for state in self._accounts.values():
            for code in state.account.service_codes:
                if destination.startswith(code) and (best is None or len(code) > best[0]):
                    best = (len(code), state.account)
        if best is None:
            raise MoRoutingError(f"no account owns a service code that {destination!r} starts with")
        return best[1]

    async def inject_mo(self, source: str, destination: str, message: str) -> list[MoRow]:
        """Queue an MO message as a handset sends it (split with a UDH when long; UCS2 unless plain).

        An MO that reads TD, 退订 or 0000 (configurable) also unsubscribes the sender from the SP (clause 3.4);
        it is still delivered, so the partner learns of it too."""
        account = self.route_mo(destination)
        now = self.clock.now()
        if self.policy.is_unsubscribe(message):
            await self.set_subscribers(account.id, [national(source)], subscribed=False, origin="mo")
        # ASCII only where its bytes are the same in GSM 7-bit, so either protocol can carry it unchanged.
        encoding = text.Encoding.ASCII if set(message) <= _ASCII_SAFE_FOR_GSM else text.Encoding.UCS2
        segments = text.split(message, encoding, reference=self._random.randrange(256))
        rows = []
        for segment in segments:
            rows.append(MoRow(id=self._next_mo, account=account.id, source=source, destination=destination,
                              data_coding=text.msg_fmt_for(encoding), content=segment.short_message,
                              udhi=int(bool(segment.udh)), created_at=now, state="pending", due=now))
            self._next_mo += 1
        await self.store.insert_mo(rows)
        self.events.emit(now, "mo.injected", account=account.id, source=self.mask(source), destination=destination,
                         segments=len(rows))
        self._mo_wake.set()
        return rows

    async def set_subscribers(self, account_id: str, numbers: Sequence[str], *, subscribed: bool,
                              origin: str) -> int:
        """Opt numbers in (or out) of an SP's messages (clause 3.4); returns how many changed."""
        now = self.clock.now()
        change = self.policy.subscribers.subscribe if subscribed else self.policy.subscribers.unsubscribe
        changed = [number for number in numbers if change(account_id, number)]
        if changed:
            await self.store.set_subscribers(account_id, changed, subscribed=subscribed, at=now, origin=origin)
            self.events.emit(now, "subscriber.added" if subscribed else "subscriber.removed", account=account_id,
                             numbers=[self.mask(n) for n in changed], origin=origin)
        return len(changed)

    # -- acknowledgements from the fronts -------------------------------------------------------------

    def receipt_answered(self, row: MessageRow, ok: bool, now: float, *, latency: float) -> None:
        """The partner answered a receipt ``latency`` seconds after it was sent; an error answer leaves it
        for the next attempt."""
        if ok:
            self.store.set_receipt(row.id, "acked", None, row.receipt_attempts + 1)
        self.events.emit(now, "receipt.acked" if ok else "receipt.refused", account=row.account,
                         message_id=row.message_id, latency=round(latency, 6))

    def mo_answered(self, mo: MoRow, ok: bool, now: float, *, latency: float) -> None:
        """The partner answered an MO segment ``latency`` seconds after it was sent."""
        if ok:
            self.store.set_mo(mo.id, "acked", None, mo.attempts + 1)
        self.events.emit(now, "mo.acked" if ok else "mo.refused", account=mo.account, mo=mo.id,
                         latency=round(latency, 6))

    # -- dispatchers ---------------------------------------------------------------------------------

    async def _dispatch(self, once: Callable[[float], Awaitable[set[str]]],
                        next_due: Callable[[Sequence[str]], Awaitable[float | None]], wake: asyncio.Event) -> None:
        """Run ``once`` whenever something falls due or ``wake`` is set, until cancelled.

        ``once`` returns the accounts whose sessions were all too full to take what was due. Their rows are
        left for an answer to wake us (:meth:`window_opened`); the next due time is the others' (theirs is
        already past: waiting for it would spin)."""
        while True:
            wake.clear()
            full = await once(self.clock.now())
            if full:
                self._waiting_for_room.add(wake)
            else:
                self._waiting_for_room.discard(wake)
            await self.store.flush()  # what was sent is marked before the next look at what is due
            due = await next_due(sorted(full))
            waiters: set[asyncio.Future[object]] = {asyncio.ensure_future(wake.wait())}
            if due is not None:
                waiters.add(asyncio.ensure_future(self.clock.sleep_until(due)))
            try:
                await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
            finally:  # also when the dispatcher itself is cancelled: no waiter may outlive it
                for waiter in waiters:
                    waiter.cancel()

    async def _retention(self) -> None:
        """The daily retention job (agreement clause 3.8): audit events older than the retention period go,
        once at start-up and then every midnight in the gateway's time zone, on the simulator's clock."""
        keep = self.config.audit.retention_days * 86_400
        while True:
            now = self.clock.now()
            await self.store.delete_events_before(now - keep)
            self.events.emit(now, "audit.retention", retention_days=self.config.audit.retention_days)
            today = datetime.fromtimestamp(now, self.zone).replace(hour=0, minute=0, second=0, microsecond=0)
            await self.clock.sleep_until((today + timedelta(days=1)).timestamp())

    async def _receipts_once(self, now: float) -> set[str]:
        """Send the receipts due by ``now`` that some window can take; returns the accounts that had no room."""
        limit, full = self._room()
        rows = await self.store.due_receipts(now, limit, skip_accounts=sorted(full))
        self.metrics.receipts_pending.set(len(rows))
        return full | self._deliver_due(now, rows, self._send_receipt)

    def _send_receipt(self, state: _AccountState, row: MessageRow, now: float) -> Link | Literal["busy"] | None:
        link = self._pick_link(state, row.protocol)
        retry = now + state.profile.retry_interval
        if link is None:
            self.store.set_receipt(row.id, row.receipt_state, retry, row.receipt_attempts)
        elif link != "busy" and link.send_receipt(row, now):
            self.metrics.receipts_sent.labels(row.protocol).inc()
            attempts = row.receipt_attempts + 1
            final = attempts >= state.profile.max_attempts
            self.store.set_receipt(row.id, "failed" if final else "sent", None if final else retry, attempts)
        return link

    async def _mo_once(self, now: float) -> set[str]:
        """Send the MO messages due by ``now`` that some window can take; returns the accounts that had no room."""
        limit, full = self._room()
        return full | self._deliver_due(now, await self.store.due_mo(now, limit, skip_accounts=sorted(full)),
                                        self._send_mo)

    def _send_mo(self, state: _AccountState, mo: MoRow, now: float) -> Link | Literal["busy"] | None:
        link = self._pick_link(state, None)
        retry = now + state.profile.retry_interval
        if link is None:
            self.store.set_mo(mo.id, mo.state, retry, mo.attempts)
        elif link != "busy" and link.send_mo(mo, now):
            self.metrics.mo_sent.labels(link.protocol).inc()
            attempts = mo.attempts + 1
            final = attempts >= state.profile.max_attempts
            self.store.set_mo(mo.id, "failed" if final else "sent", None if final else retry, attempts)
        return link

    def _deliver_due(self, now: float, due: Sequence[_Due],
                     send: Callable[[_AccountState, _Due, float], Link | Literal["busy"] | None]) -> set[str]:
        """Hand each due row to ``send`` (oldest first), skipping the accounts (and, for receipts, protocols)
        whose sessions were found full in this round; returns those accounts."""
        full: set[tuple[str, str]] = set()
        for row in due:
            state = self._accounts.get(row.account)
            key = (row.account, row.protocol if isinstance(row, MessageRow) else "")
            if state is None or key in full:
                continue
            if send(state, row, now) == "busy":  # every window of the account is full: an answer wakes us
                full.add(key)
        return {account for account, _ in full}

    def _room(self) -> tuple[int, set[str]]:
        """How many deliveries to read now: what the sessions' windows can take (at least one, so that rows of
        accounts without a session are still found and put off), and the accounts to leave out because every
        session of theirs that could receive is full."""
        free, full = 0, set()
        for account_id, state in self._accounts.items():
            room = [link.free_slots() for link in state.links if link.receiving]
            free += sum(room)
            if room and not any(room):
                full.add(account_id)
        return max(1, min(_DUE_BATCH, free)), full

    def _pick_link(self, state: _AccountState, protocol: str | None) -> Link | Literal["busy"] | None:
        """Round robin over the account's sessions that can receive (of one protocol, if given).

        Returns a link; ``"busy"`` when such sessions exist but every window is full (try again as soon as an
        answer opens one); ``None`` when no session could receive at all (try again after a while)."""
        links = state.links
        receiving = False
        for step in range(1, len(links) + 1):  # this runs for every receipt: no lists built
            index = (state.next_link + step) % len(links)
            link = links[index]
            if protocol is not None and link.protocol != protocol:
                continue
            if link.can_receive():
                state.next_link = index
                return link
            receiving = receiving or link.receiving
        return "busy" if receiving else None

#: Whether a receipt is wanted, by what was asked and whether the message was delivered: SMPP v3.4 §5.2.17,
#: 1 = any final outcome, 2 = failures only (5.0: 3 = successes only).
_RECEIPT_WANTED: Mapping[tuple[Receipt, bool], bool] = MappingProxyType({
    (Receipt.NONE, True): False, (Receipt.NONE, False): False,
    (Receipt.ALWAYS, True): True, (Receipt.ALWAYS, False): True,
    (Receipt.FAILURE, True): False, (Receipt.FAILURE, False): True,
    (Receipt.SUCCESS, True): True, (Receipt.SUCCESS, False): False,
})


def _wants_receipt(wanted: Receipt, stat: str) -> bool:
    return _RECEIPT_WANTED[(wanted, stat == "DELIVRD")]

