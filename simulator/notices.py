"""Notices to partners: planned maintenance announced in advance, faults as early as possible.

Agreement clause 2.9 asks the carrier to announce planned interruptions in advance with their reason, time
and period; clause 2.10 asks it to notify unforeseeable faults as early as possible. The scenario engine
decides *when* (each lead time before a maintenance window, a fault's onset plus ``[notices] fault_delay``);
this module decides *how*, once a notice is handed to :meth:`NoticeBoard.publish`:

* **feed** -- the notice is stored (table ``notices``) and shown by ``GET /notices``; that is a delivery to
  every affected account, recorded as channel ``feed``;
* **webhook** -- for each affected account with a ``webhook`` URL, an HTTP POST of the notice as JSON, in the
  background (publishing never waits for a partner's web server). A 2xx answer is success; anything else
  (another status, a refused connection, ``webhook_timeout`` real seconds without an answer) is retried up to
  ``webhook_retries`` times after 1, 2, 4, ... seconds of *simulated* time (capped at an hour), so a virtual
  clock replays a day of retries at once;
* **in-band** (``[notices] inband``) -- an MO message from ``system_number`` to the account's first service
  code, queued through :meth:`Gateway.inject_mo`, which splits long text, picks UCS2 for Chinese and keeps
  retrying towards the partner's sessions from the store. "delivered" on this channel means durably queued.

Every attempt's outcome is kept in ``notice_deliveries`` (one row per notice, account and channel: status
``retrying`` / ``delivered`` / ``failed``, attempts so far, last error, when), and the audit log records
``notice.published``, ``notice.delivered`` and ``notice.failed``.

A notice is identified by the key of the event it announces (``"upgrade/lead-3600"``). The store inserts it
only if that key is new, atomically, so a notice is never sent twice, not even by a restarted simulator
replaying its scenario from the top.

Confidentiality: the webhook URL may carry a partner's token, so it is never logged, stored with a delivery,
or shown; a failed attempt is recorded as ``HTTP 503`` or the exception's type, never its message (which
names the URL). The POSTed body holds only the notice itself.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
from collections.abc import Coroutine, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

import aiohttp

from simulator.config import Account
from simulator.gateway import Gateway, MoRoutingError
from simulator.store import StoreError

__all__ = ["CHANNELS", "KINDS", "STATUSES", "NoticeBoard", "NoticeRecord", "default_text"]

#: What a notice announces: a planned interruption (clause 2.9), a fault (clause 2.10), anything else.
KINDS: Final = ("maintenance", "fault", "notice")
#: How a notice reaches a partner.
CHANNELS: Final = ("feed", "webhook", "inband")
#: Where one channel's delivery to one account stands.
STATUSES: Final = ("delivered", "failed", "retrying")
#: Every account, in :attr:`NoticeRecord.accounts`.
ALL_ACCOUNTS: Final = "*"

#: Backoff before webhook retry n (n = 1, 2, ...) is ``_BACKOFF_BASE * 2 ** (n - 1)`` simulated seconds, at most
#: ``_BACKOFF_CAP``: with up to 100 retries allowed by the configuration, doubling forever would mean years.
_BACKOFF_BASE: Final = 1.0
_BACKOFF_CAP: Final = 3600.0
_USER_AGENT: Final = "smsclab-notices/1"


@dataclass(frozen=True, slots=True)
class NoticeRecord:
    """One notice: what happens (``kind``, ``title``, ``reason``), when (``start``, expected ``end``; epoch
    seconds or ``None`` when unknown), to whom (``accounts``; ``("*",)`` for all) and what the partner reads
    (``text``; empty: :func:`default_text` writes it). ``id`` is the key of the event it announces."""

    id: str
    kind: str
    title: str
    reason: str = ""
    start: float | None = None
    end: float | None = None
    accounts: tuple[str, ...] = (ALL_ACCOUNTS,)
    text: str = ""

    def __post_init__(self) -> None:
        if not self.id:
            raise ValueError("a notice needs an id: the key of the event it announces")
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {', '.join(KINDS)}, not {self.kind!r}")
        if not self.accounts:
            raise ValueError('a notice needs at least one account, or "*" for all')


def _moment(when: float | None, gateway: Gateway) -> tuple[str, str]:
    """``when`` as the partner reads it, in the gateway's time zone with its UTC offset: (Chinese, English)."""
    if when is None:
        return "待定", "to be announced"
    local = datetime.fromtimestamp(when, gateway.zone)
    offset = local.strftime("%z")
    clock = f"{local:%H:%M:%S}" if local.second or local.microsecond else f"{local:%H:%M}"
    shown = f"{local:%Y-%m-%d} {clock} (UTC{offset[:3]}:{offset[3:]})"
    return shown, shown


def default_text(notice: NoticeRecord, gateway: Gateway) -> str:
    """A Chinese and an English one-liner saying what, why, from when and until when (clauses 2.9, 2.10)."""
    start_zh, start_en = _moment(notice.start, gateway)
    end_zh, end_en = _moment(notice.end, gateway)
    title = notice.title.rstrip("。.")
    reason_zh = f"原因：{notice.reason.rstrip('。.')}。" if notice.reason else ""
    reason_en = f" Reason: {notice.reason.rstrip('。.')}." if notice.reason else ""
    if notice.kind == "maintenance":
        chinese = f"【系统维护通知】{title}。{reason_zh}维护时间：{start_zh}至{end_zh}（预计结束），期间服务中断。"
        english = (f"Planned maintenance: {title}.{reason_en} From {start_en} until {end_en} (expected end); "
                   f"service is interrupted meanwhile.")
    elif notice.kind == "fault":
        chinese = f"【系统故障通知】{title}。{reason_zh}发生时间：{start_zh}，预计恢复：{end_zh}。"
        english = f"Fault notice: {title}.{reason_en} Since {start_en}; expected end {end_en}."
    else:
        reason = notice.reason.rstrip("。.")
        chinese = f"【系统通知】{title}。" + (f"{reason}。" if reason else "")
        english = f"Notice: {title}." + (f" {reason}." if reason else "")
    return f"{chinese} / {english}"


class NoticeBoard:
    """Publishes notices to the feed, partners' webhooks and (optionally) in-band; see the module docstring.

    Webhook deliveries run as tasks owned by the board: :meth:`drain` waits for them, :meth:`close` cancels
    them (their rows then stay ``retrying``)."""

    def __init__(self, gateway: Gateway) -> None:
        self.gateway = gateway
        self._tasks: set[asyncio.Task[None]] = set()
        self._http: aiohttp.ClientSession | None = None
        self._closed = False

    # -- publishing -----------------------------------------------------------------------------------------

    def accounts_of(self, notice: NoticeRecord) -> list[Account]:
        """The configured accounts a notice concerns; :class:`ValueError` names one that is not configured."""
        config = self.gateway.config
        if ALL_ACCOUNTS in notice.accounts:
            return list(config.accounts)
        found = []
        for account_id in dict.fromkeys(notice.accounts):  # each once, in the given order
            account = config.account(account_id)
            if account is None:
                raise ValueError(f"no account {account_id!r}")
            found.append(account)
        return found

    async def publish(self, notice: NoticeRecord) -> bool:
        """Publish ``notice`` unless one with its id already was (then ``False``, and nothing is sent).

        The feed and in-band deliveries are recorded before this returns; webhooks are POSTed in the
        background (see :meth:`drain`). Raises :class:`ValueError` for an account that is not configured."""
        if self._closed:
            raise RuntimeError("the notice board is closed")
        accounts = self.accounts_of(notice)
        gateway = self.gateway
        if not notice.text:
            notice = dataclasses.replace(notice, text=default_text(notice, gateway))
        now = gateway.clock.now()
        stored = await gateway.store.add_notice(
            notice.id, kind=notice.kind, title=notice.title, reason=notice.reason, start=notice.start,
            end=notice.end, accounts=notice.accounts, text=notice.text, published_at=now)
        if not stored:
            return False
        gateway.events.emit(now, "notice.published", id=notice.id, kind=notice.kind, accounts=list(notice.accounts))
        body = json.dumps(_document(notice, now), ensure_ascii=False).encode("utf-8")
        settings = gateway.config.notices
        for account in accounts:
            await self._record(notice.id, account.id, "feed", "delivered", 1)
            if settings.inband:
                await self._inband(notice, account)
            if account.webhook:
                self._spawn(self._webhook(notice.id, account.id, account.webhook, body))
        return True

    async def _inband(self, notice: NoticeRecord, account: Account) -> None:
        """Queue the notice as an MO from the system number to the account's first service code."""
        gateway = self.gateway
        error: str | None = None
        if not account.service_codes:
            error = "the account has no service code"
        else:
            code = account.service_codes[0]
            try:
                # A code shared with (or shadowed by) another account would route the MO there: refuse instead.
                if gateway.route_mo(code).id != account.id:
                    error = "its first service code routes to another account"
                else:
                    await gateway.inject_mo(gateway.config.notices.system_number, code, notice.text)
            except (MoRoutingError, ValueError) as failure:  # ValueError: more than 255 segments of text
                error = type(failure).__name__
        await self._record(notice.id, account.id, "inband", "failed" if error else "delivered", 1, error=error)

    async def _webhook(self, notice_id: str, account_id: str, url: str, body: bytes) -> None:
        """POST ``body`` to ``url`` until a 2xx answer or the retries run out; record every attempt."""
        settings = self.gateway.config.notices
        clock = self.gateway.clock
        attempts = settings.webhook_retries + 1
        try:
            for attempt in range(1, attempts + 1):
                error = await self._post(url, body, settings.webhook_timeout)
                if error is None:
                    await self._record(notice_id, account_id, "webhook", "delivered", attempt)
                    return
                if attempt == attempts:
                    await self._record(notice_id, account_id, "webhook", "failed", attempt, error=error)
                    return
                await self._record(notice_id, account_id, "webhook", "retrying", attempt, error=error)
                await clock.sleep(min(_BACKOFF_CAP, _BACKOFF_BASE * 2 ** (attempt - 1)))
        except StoreError:
            return  # the simulator is stopping under us: the row stays "retrying"

    async def _post(self, url: str, body: bytes, timeout: float) -> str | None:
        """One POST; ``None`` on a 2xx answer, else what went wrong, without the URL."""
        if self._http is None:
            self._http = aiohttp.ClientSession(headers={"User-Agent": _USER_AGENT})
        try:
            async with self._http.post(url, data=body, headers={"Content-Type": "application/json"},
                                       timeout=aiohttp.ClientTimeout(total=timeout),
                                       allow_redirects=False) as response:
                await response.read()
                return None if 200 <= response.status < 300 else f"HTTP {response.status}"
        except TimeoutError:
            return f"no answer within {timeout:g} s"
        except (aiohttp.ClientError, OSError, ValueError) as failure:  # ValueError: a URL aiohttp cannot use
            return type(failure).__name__

    async def _record(self, notice_id: str, account_id: str, channel: str, status: str, attempts: int, *,
                      error: str | None = None) -> None:
        now = self.gateway.clock.now()
        await self.gateway.store.record_notice_delivery(notice_id, account_id, channel, status=status,
                                                        attempts=attempts, error=error, at=now)
        if status != "retrying":
            self.gateway.events.emit(now, f"notice.{status}", id=notice_id, account=account_id, channel=channel,
                                     attempts=attempts)

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if task.cancelled():
            return
        error = task.exception()
        if error is not None:  # a bug, not a partner's failure: say so in the log, without details
            self.gateway.events.emit(self.gateway.clock.now(), "notice.error", error=type(error).__name__)

    # -- reading ----------------------------------------------------------------------------------------------

    async def feed(self, *, account: str | None = None, since: float | None = None,
                   limit: int = 1000) -> list[dict[str, object]]:
        """Published notices, newest first: those concerning ``account`` (addressed to it or to all) and
        published at or after ``since``, when given."""
        return await self.gateway.store.notices(account=account, since=since, limit=limit)

    async def notice(self, notice_id: str) -> dict[str, object] | None:
        """One published notice, or ``None``."""
        rows = await self.gateway.store.notices(notice_id=notice_id, limit=1)
        return rows[0] if rows else None

    async def deliveries(self, notice_id: str) -> list[dict[str, object]]:
        """Where each channel's delivery of a notice to each account stands."""
        return (await self.gateway.store.notice_deliveries([notice_id])).get(notice_id, [])

    async def deliveries_of(self, notice_ids: Iterable[str]) -> dict[str, list[dict[str, object]]]:
        """:meth:`deliveries` of several notices at once, by notice id."""
        return await self.gateway.store.notice_deliveries(list(notice_ids))

    # -- lifetime ---------------------------------------------------------------------------------------------

    async def drain(self) -> None:
        """Wait until every delivery in progress has finished (with a virtual clock, someone must move it)."""
        while self._tasks:
            await asyncio.wait(set(self._tasks))

    async def close(self) -> None:
        """Stop: deliveries in progress are cancelled (their rows stay ``retrying``); no more publishing."""
        self._closed = True
        tasks = set(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)  # each cancelled one gives a CancelledError here
        if self._http is not None:
            await self._http.close()
            self._http = None


def _document(notice: NoticeRecord, published_at: float) -> dict[str, object]:
    """The JSON a webhook receives."""
    return {"id": notice.id, "kind": notice.kind, "title": notice.title, "reason": notice.reason,
            "start": notice.start, "end": notice.end, "accounts": list(notice.accounts), "text": notice.text,
            "published_at": published_at}
