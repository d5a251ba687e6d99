"""Locust users that act as an SMS partner: they read their contract from the simulator and pace themselves by it.

A user is a message *producer*, not a connection: the users of one class and account in a Locust process share
a small pool of bound connections (:class:`LinkPool`), as many as the contract's ``max_connections`` allows.
That keeps the two knobs apart: Locust's user count (and a :class:`~locust.LoadTestShape`) sets the offered load,
while the number of binds stays what a real partner would hold, so cutting users in an emergency stage does not
look like a partner dropping and re-opening its links.

Pacing: the users of a class together offer ``load_factor`` times the contracted rate per account (or
``--target-rate``), each one ``target / users`` submits per second through Locust's ``constant_throughput``.
``users`` is the count the run plans (``-u``, or the shape's peak), learnt on the master at test start and sent to
the workers with the other custom options, so a run of four processes paces like a run of one.

Credentials: ``--system-id a,b`` (and ``--password``, ``--service-code`` lists in the same order, or one value
for all) spreads users over accounts: worker *i* takes account *i mod n* in a distributed run, user *i* of a class
takes it in a single process.
"""

from __future__ import annotations

import argparse
import itertools
import json
import logging
import random
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

import gevent
from gevent.lock import Semaphore
from locust import User, constant_throughput, events, task
from locust.argument_parser import LocustArgumentParser
from locust.env import Environment
from locust.runners import MasterRunner, WorkerRunner

from loadtests import options as opt
from loadtests.client import (
    BindError,
    CmppClient,
    ConnectionLostError,
    GatewayClient,
    Message,
    ReceiptBook,
    Settings,
    SmppClient,
)
from protocols import text as sms_text

__all__ = [
    "CmppUser",
    "ContractError",
    "LinkPool",
    "PartnerUser",
    "SmppUser",
    "accounts_in_run",
    "api_get",
]

log = logging.getLogger(__name__)

_API_TIMEOUT = 5.0
#: How long a stopping test waits for the responses still in flight before it unbinds.
_DRAIN_SECONDS = 5.0
_BACKOFF_FIRST, _BACKOFF_MAX = 1.0, 30.0
#: Submits per task run of an unpaced user (the window still bounds what is outstanding).
_UNPACED_BURST = 16
_ENCODINGS = ["auto", *(e.value for e in sms_text.Encoding if e is not sms_text.Encoding.BINARY)]


@events.init_command_line_parser.add_listener
def _add_options(parser: LocustArgumentParser) -> None:
    """The partner's options; every one shows in the web UI's start form too (the password masked)."""
    # Straight on the parser, not in an argument group: only the parser's own add_argument takes Locust's
    # is_secret / include_in_web_ui.
    add = parser.add_argument
    add("--protocol", choices=["smpp", "cmpp"], default="smpp", help="gateway protocol")
    add("--port", type=int, default=0,
        help="gateway port (default: a port in --host, else 2775 for SMPP, 7890 for CMPP)")
    add("--cmpp-version", choices=["2.0", "2.1", "3.0"], default="3.0", help="CMPP version")
    add("--system-id", default="900001",
        help="SMPP system_id / CMPP SP_Id; a comma list spreads users (or workers) over accounts")
    add("--password", default="888888", is_secret=True,
        help="password / shared secret; one for all accounts or a comma list in --system-id order")
    add("--service-code", default="",
        help="caller number (source_addr / Src_Id); default: the account's first service code")
    add("--destinations", default="13800000000-13800009999",
        help="recipients: FIRST-LAST, one number, or @FILE with one number a line")
    add("--text", default="smsclab load test {n}",
        help="message text; {n} becomes a counter, so that the content is not a bulk duplicate")
    add("--encoding", choices=_ENCODINGS, default="auto", help="message alphabet")
    add("--no-receipts", action="store_true", help="do not ask for delivery receipts")
    add("--window", type=int, default=0, help="unanswered submits per connection (default: contract)")
    add("--connections", type=int, default=0,
        help="connections per account and process (default: contract max_connections shared out)")
    add("--target-rate", type=float, default=0.0,
        help="submits/s per account instead of the locustfile's share of the contracted rate")
    add("--api", default="http://127.0.0.1:8080", help="the simulator's control API")
    # Set by the master at test start and carried to the workers with the spawn message: not for people to type.
    add("--planned-users", type=int, default=0, include_in_web_ui=False, help="(internal)")
    add("--planned-workers", type=int, default=0, include_in_web_ui=False, help="(internal)")


@events.test_start.add_listener
def _plan(environment: Environment, **_kwargs: object) -> None:
    """On the master (or the only process): record how many users and workers the pacing is divided over."""
    runner, parsed = environment.runner, environment.parsed_options
    if runner is None or parsed is None or isinstance(runner, WorkerRunner):
        return
    peak = getattr(environment.shape_class, "peak_users", None)
    parsed.planned_users = peak() if callable(peak) else runner.target_user_count
    parsed.planned_workers = runner.worker_count if isinstance(runner, MasterRunner) else 0


@events.test_stop.add_listener
def _close_links(environment: Environment, **_kwargs: object) -> None:
    """Where users ran: let responses in flight arrive (they are part of the figures), then unbind everything."""
    _RUN.close()


def api_get(api: str, path: str) -> dict[str, Any]:
    """GET a JSON object from the simulator's control API.

    Raises ``urllib.error.URLError`` (``HTTPError`` for an error status) or ``ValueError`` for anything but an object.
    """
    with urllib.request.urlopen(f"{api.rstrip('/')}{path}", timeout=_API_TIMEOUT) as response:
        document = json.loads(response.read())
    if not isinstance(document, dict):
        raise ValueError(f"GET {path}: expected a JSON object")
    return document


def accounts_in_run(environment: Environment) -> list[str]:
    """Every system_id the run's user classes send as (the accounts whose verdicts matter)."""
    parsed = environment.parsed_options
    ids: list[str] = []
    for user_class in environment.user_classes:
        if issubclass(user_class, PartnerUser) and parsed is not None:
            ids += [i for i in user_class.credentials(parsed)[0] if i not in ids]
    return ids


class ContractError(Exception):
    """The simulator's API did not give the account's contract."""


class LinkPool:
    """Up to ``size`` bound connections of one account, opened on first use and re-opened with backoff."""

    def __init__(self, factory: Callable[[], GatewayClient[Any]], size: int) -> None:
        self._factory = factory
        self._clients: list[GatewayClient[Any] | None] = [None] * size
        self._locks = [Semaphore() for _ in range(size)]
        self._retry_at = [0.0] * size
        self._backoff = [0.0] * size

    def client(self, index: int) -> GatewayClient[Any]:
        """The connection for user ``index``; binds it first if needed. Raises :class:`BindError`."""
        slot = index % len(self._clients)
        client = self._clients[slot]
        if client is not None and not client.closed:
            return client
        with self._locks[slot]:  # one bind per slot at a time: the others wait for its outcome
            client = self._clients[slot]
            if client is not None and not client.closed:
                return client
            # A partner that rebinds at once after a refusal or a TERMINATE is a reconnect storm (issue 5).
            gevent.sleep(max(0.0, self._retry_at[slot] - time.monotonic()))
            client = self._factory()
            try:
                client.open()
            except BindError:
                self._backoff[slot] = min(_BACKOFF_MAX, max(_BACKOFF_FIRST, 2 * self._backoff[slot]))
                self._retry_at[slot] = time.monotonic() + self._backoff[slot]
                raise
            self._backoff[slot] = 0.0
            self._clients[slot] = client
            return client

    def close(self) -> None:
        """Drain and unbind every connection, all at once."""
        clients = [c for c in self._clients if c is not None]
        gevent.joinall([gevent.spawn(c.close, _DRAIN_SECONDS) for c in clients])
        self._clients = [None] * len(self._clients)


@dataclass
class _Run:
    """What the users of one process share during a test: contracts, connection pools, receipts."""

    contracts: dict[str, opt.Contract] = field(default_factory=dict)
    pools: dict[tuple[str, str], LinkPool] = field(default_factory=dict)
    receipts: ReceiptBook = field(default_factory=ReceiptBook)
    lock: Semaphore = field(default_factory=Semaphore)

    def contract(self, api: str, system_id: str) -> opt.Contract:
        with self.lock:  # the first user of an account fetches, the others wait for it
            if system_id not in self.contracts:
                self.contracts[system_id] = opt.Contract.from_api(api_get(api, f"/accounts/{system_id}"))
            return self.contracts[system_id]

    def close(self) -> None:
        pools, self.pools = self.pools, {}
        gevent.joinall([gevent.spawn(pool.close) for pool in pools.values()])
        self.contracts.clear()


_RUN = _Run()


class PartnerUser(User):
    """A partner's application sending submits; the protocol comes from ``--protocol`` unless a subclass fixes it.

    Subclasses set :attr:`load_factor` (their share of the contracted rate) and :attr:`window_factor` (above 1
    overruns the contract's window on purpose), and may override :meth:`load` and :meth:`pacing`.
    """

    abstract = True
    #: ``"smpp"`` or ``"cmpp"``; ``None`` reads ``--protocol``.
    protocol: ClassVar[str | None] = None
    load_factor: ClassVar[float] = 0.9
    window_factor: ClassVar[float] = 1.0
    _indexes: ClassVar[itertools.count[int]]

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        cls._indexes = itertools.count()  # per class: user i of the class takes account i mod n

    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        self._index = next(type(self)._indexes)
        self._pace: Callable[[User], float] | None = None
        self._burst = 1
        self._sent = itertools.count()

    @classmethod
    def credentials(cls, parsed: argparse.Namespace) -> tuple[list[str], list[str]]:
        """(system ids, passwords) this class sends as; the mixed locustfile's rogue class has its own."""
        return opt.split_list(parsed.system_id), opt.split_list(parsed.password)

    def load(self) -> float:
        """This class's offered load as a multiple of the contracted rate (:attr:`load_factor` unless overridden)."""
        return self.load_factor

    def target_rate(self, contract: opt.Contract) -> float | None:
        """Submits per second all users of this class offer one account together; ``None``: unpaced."""
        parsed = self.environment.parsed_options
        if parsed.target_rate > 0:
            return float(parsed.target_rate)
        return None if contract.rate is None else contract.rate * self.load()

    def pacing(self, rate: float | None) -> tuple[int, Callable[[User], float] | None]:
        """(submits per task run, wait time function) for a user that is to send ``rate`` submits per second.

        Unpaced, a task run queues a burst: the PDUs a user queues before it yields leave in one write, and a
        write per submit would cost the worker more than the submit itself (bench/locust_bench.py)."""
        return (_UNPACED_BURST, None) if rate is None else (1, constant_throughput(rate))

    def wait_time(self) -> float:
        return 0.0 if self._pace is None else self._pace(self)

    def on_start(self) -> None:
        parsed = self.environment.parsed_options
        runner = self.environment.runner
        protocol = self.protocol or parsed.protocol
        ids, passwords = self.credentials(parsed)
        slot = opt.account_for(ids, runner.worker_index if isinstance(runner, WorkerRunner) else self._index)
        system_id = ids[slot]
        try:
            contract = _RUN.contract(parsed.api, system_id)
        except (urllib.error.URLError, OSError, ValueError) as error:
            # Without the contract there is nothing to pace by: the user stops (Locust lists it under Exceptions).
            raise ContractError(f"cannot read the contract of {system_id} from {parsed.api}: {error}") from None
        codes = opt.split_list(parsed.service_code) or list(contract.service_codes[:1])
        self._source = codes[slot % len(codes)] if codes else ""
        self._service_id = contract.service_ids[0] if contract.service_ids else ""
        self._receipt = not parsed.no_receipts
        self._destinations = opt.destinations(parsed.destinations)
        # Users start at random places in the list, so that they do not walk the same numbers in step.
        self._offset = random.randrange(len(self._destinations))
        self._encoding = opt.encoding_for(parsed.encoding, parsed.text, protocol)
        self._template = parsed.text
        self._fixed = None if "{n}" in parsed.text else sms_text.encode_text(parsed.text, self._encoding)

        workers = parsed.planned_workers
        class_users = self._planned_users_of_class(parsed.planned_users or runner.target_user_count)
        accounts = min(len(ids), workers) if workers else min(len(ids), class_users)
        rate = opt.per_user_rate(target=self.target_rate(contract), class_users=class_users, accounts=accounts)
        self._burst, self._pace = self.pacing(rate)
        password = passwords[slot % len(passwords)] if passwords else ""
        self._pool = self._pool_for(protocol, system_id=system_id, password=password, contract=contract,
                                    workers=workers, accounts=len(ids))

    def _planned_users_of_class(self, planned: int) -> int:
        """This class's part of the planned users, by Locust's own rules (fixed_count first, then weights)."""
        classes = self.environment.user_classes
        if self.fixed_count:
            return self.fixed_count
        fixed = sum(c.fixed_count for c in classes)
        weights = sum(c.weight for c in classes if not c.fixed_count)
        return max(1, round((planned - fixed) * self.weight / weights)) if weights else 1

    def _pool_for(self, protocol: str, *, system_id: str, password: str, contract: opt.Contract, workers: int,
                  accounts: int) -> LinkPool:
        key = (type(self).__name__, system_id)
        pool = _RUN.pools.get(key)
        if pool is not None:
            return pool
        parsed = self.environment.parsed_options
        host, port = opt.parse_endpoint(self.environment.host, parsed.port, protocol)
        window = max(1, round((parsed.window or contract.window) * self.window_factor))
        settings = Settings(host, port, system_id, password, window, cmpp_version=opt.cmpp_version(parsed.cmpp_version))
        # The contract's connections are shared by every process on this account and every class sending as it.
        processes = max(1, -(-workers // accounts)) if workers else 1
        classes = sum(1 for c in self.environment.user_classes
                      if issubclass(c, PartnerUser) and system_id in c.credentials(parsed)[0])
        size = parsed.connections or max(1, contract.max_connections // (processes * max(1, classes)))
        client_type: type[GatewayClient[Any]] = SmppClient if protocol == "smpp" else CmppClient
        context = {"protocol": protocol, "user_class": type(self).__name__}
        fire = self.environment.events.request.fire
        pool = LinkPool(lambda: client_type(settings, fire, receipts=_RUN.receipts, context=context), size)
        _RUN.pools[key] = pool
        return pool

    def _message(self) -> Message:
        n = next(self._sent)
        content = self._fixed if self._fixed is not None else sms_text.encode_text(
            self._template.replace("{n}", str(n)), self._encoding)
        return Message(self._destinations.at(self._offset + n), content, self._encoding, self._source,
                       self._receipt, self._service_id)

    @task
    def send(self) -> None:
        """One task run: one submit (a burst with :meth:`pacing` overridden), pipelined; the responses are
        reported as they arrive."""
        try:
            client = self._pool.client(self._index)
            for _ in range(self._burst):
                client.submit(self._message())
        except (BindError, ConnectionLostError):
            pass  # already reported (bind failure, or the submits the connection took down with it)


class SmppUser(PartnerUser):
    """A partner on SMPP 3.4, whatever ``--protocol`` says."""

    abstract = True
    protocol = "smpp"


class CmppUser(PartnerUser):
    """A partner on CMPP (``--cmpp-version``), whatever ``--protocol`` says."""

    abstract = True
    protocol = "cmpp"
