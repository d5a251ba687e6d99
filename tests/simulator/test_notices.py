"""Notices to partners (agreement clauses 2.9, 2.10) against a real simulator: feed, webhook, in-band MO.

The partner's webhook is a real aiohttp server on loopback whose answers each test scripts; the simulator
runs on a :class:`VirtualClock`, so webhook backoff (1, 2, 4 ... simulated seconds) passes when a test moves
the clock, while HTTP itself happens in real time.
"""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from netclient import NetClient

from protocols import smpp, text
from simulator.clock import VirtualClock
from simulator.config import Account, NoticeConfig, load_config, with_overrides
from simulator.notices import NoticeBoard, NoticeRecord, default_text
from simulator.observe import EventLog
from simulator.server import Simulator

START = 1_780_000_000.0  # 2026-05-29 04:26:40 in Asia/Shanghai
SECRET = "Zq7#Kp2w"
TOKEN = "t0ken-9f3b1c"  # a partner's webhook credential in its URL: must never be recorded or shown
A, B, C = "900001", "900002", "900003"  # A and B have webhooks, C has none
CODES = {A: "10690001", B: "10690002", C: "10690003"}
RETRIES = 3
TIMEOUT = 0.3  # real seconds a webhook POST may take


class RecordingEventLog(EventLog):
    def __init__(self) -> None:
        super().__init__()
        self.recorded: list[tuple[str, dict[str, object]]] = []

    def emit(self, at: float, event: str, **fields: object) -> None:
        self.recorded.append((event, fields))
        super().emit(at, event, **fields)


class Receiver:
    """The partners' webhook endpoint: ``/hook/{account}``, answering as ``plan[account]`` says.

    A plan is a list of answers, one per request, the last repeated: an HTTP status, or ``"slow"`` to answer
    200 only after the simulator's timeout has passed."""

    def __init__(self) -> None:
        self.plan: dict[str, list[int | str]] = {}
        self.requests: dict[str, list[dict[str, Any]]] = {}
        self.clock: VirtualClock | None = None
        self.base = ""
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/hook/{account}", self._hook)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self.base = f"http://{host}:{port}"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def url(self, account: str) -> str:
        return f"{self.base}/hook/{account}?token={TOKEN}"

    def count(self, account: str) -> int:
        return len(self.requests.get(account, []))

    async def _hook(self, request: web.Request) -> web.Response:
        account = request.match_info["account"]
        received = self.requests.setdefault(account, [])
        received.append({"at": self.clock.now() if self.clock else None, "body": await request.json(),
                         "content_type": request.headers.get("Content-Type"), "token": request.query.get("token")})
        plan = self.plan.get(account, [200])
        answer = plan[min(len(received), len(plan)) - 1]
        if answer == "slow":
            await asyncio.sleep(TIMEOUT * 2)
            answer = 200
        assert isinstance(answer, int)
        return web.Response(status=answer, text="ok" if answer < 300 else "no")


@dataclasses.dataclass
class Lab:
    simulator: Simulator
    board: NoticeBoard
    clock: VirtualClock
    events: RecordingEventLog
    receiver: Receiver

    async def deliveries(self, notice_id: str) -> dict[tuple[str, str], tuple[str, int, str | None]]:
        """(account, channel) -> (status, attempts, error)."""
        return {(d["account"], d["channel"]): (d["status"], d["attempts"], d["error"])
                for d in await self.board.deliveries(notice_id)}

    async def settle(self, timeout: float = 10.0) -> None:
        """Let every delivery finish, moving the virtual clock on so that backoff passes."""
        loop = asyncio.get_running_loop()
        drained = asyncio.ensure_future(self.board.drain())
        deadline = loop.time() + timeout
        while not drained.done():
            assert loop.time() < deadline, "deliveries did not finish"
            await self.clock.advance(0.5)
            await asyncio.sleep(0.005)
        await drained


async def open_lab(data_dir: Path, receiver: Receiver, *, inband: bool = False) -> Lab:
    accounts = [Account(id=A, secret=SECRET, service_codes=(CODES[A],), webhook=receiver.url(A)),
                Account(id=B, secret=SECRET, service_codes=(CODES[B],), webhook=receiver.url(B)),
                Account(id=C, secret=SECRET, service_codes=(CODES[C],))]
    config = with_overrides(load_config(), accounts=accounts, cmpp_port=0, smpp_port=0, api_port=0,
                            data_dir=data_dir)
    config = dataclasses.replace(config, notices=NoticeConfig(
        inband=inband, webhook_retries=RETRIES, webhook_timeout=TIMEOUT))
    clock = VirtualClock(START)
    receiver.clock = clock
    events = RecordingEventLog()
    simulator = Simulator(config, clock, events=events, with_api=True, goodbye_seconds=0.3)
    await simulator.start()
    assert simulator.notices is not None  # the simulator's own board, as the scenario engine and the API use it
    return Lab(simulator, simulator.notices, clock, events, receiver)


async def close_lab(lab: Lab) -> None:
    await lab.simulator.stop()  # closes the board too


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    hook = Receiver()
    await hook.start()
    try:
        yield hook
    finally:
        await hook.stop()


@pytest.fixture
async def lab(tmp_path: Path, receiver: Receiver) -> AsyncIterator[Lab]:
    running = await open_lab(tmp_path / "data", receiver)
    try:
        yield running
    finally:
        await close_lab(running)


async def eventually(check: Callable[[], Awaitable[bool]], timeout: float = 5.0) -> None:
    """Wait (real time) until ``check`` holds."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not await check():
        assert asyncio.get_running_loop().time() < deadline, "condition not reached in time"
        await asyncio.sleep(0.01)


def maintenance(notice_id: str = "upgrade/lead-3600", accounts: tuple[str, ...] = (A,), **changes: Any) -> NoticeRecord:
    notice = NoticeRecord(id=notice_id, kind="maintenance", title="SMSC upgrade", reason="core network upgrade",
                          start=START + 3600, end=START + 3 * 3600, accounts=accounts)
    return dataclasses.replace(notice, **changes)


# -- webhook -------------------------------------------------------------------------------------------------


async def test_notice_reaches_the_webhook_as_json(lab: Lab) -> None:
    assert await lab.board.publish(maintenance()) is True
    await lab.settle()

    (request,) = lab.receiver.requests[A]
    assert request["content_type"] == "application/json"
    assert request["token"] == TOKEN  # the partner's URL is used as given ...
    text_ = request["body"]["text"]
    assert request["body"] == {
        "id": "upgrade/lead-3600", "kind": "maintenance", "title": "SMSC upgrade", "reason": "core network upgrade",
        "start": START + 3600, "end": START + 3 * 3600, "accounts": [A], "text": text_, "published_at": START}
    # The default text: Chinese and English, reason, start and expected end in the gateway's zone.
    assert text_ == (
        "【系统维护通知】SMSC upgrade。原因：core network upgrade。维护时间：2026-05-29 05:26:40 (UTC+08:00)至"
        "2026-05-29 07:26:40 (UTC+08:00)（预计结束），期间服务中断。 / Planned maintenance: SMSC upgrade. "
        "Reason: core network upgrade. From 2026-05-29 05:26:40 (UTC+08:00) until 2026-05-29 07:26:40 (UTC+08:00) "
        "(expected end); service is interrupted meanwhile.")
    assert B not in lab.receiver.requests  # not addressed to B

    assert await lab.deliveries("upgrade/lead-3600") == {
        (A, "feed"): ("delivered", 1, None), (A, "webhook"): ("delivered", 1, None)}
    assert ("notice.published", {"id": "upgrade/lead-3600", "kind": "maintenance", "accounts": [A]}) in (
        lab.events.recorded)
    assert ("notice.delivered", {"id": "upgrade/lead-3600", "account": A, "channel": "webhook", "attempts": 1}) in (
        lab.events.recorded)
    # ... but it is never recorded: not in the audit log, the feed or the deliveries
    assert lab.simulator.store is not None
    shown = str(await lab.simulator.store.events()) + str(await lab.board.feed()) + str(
        await lab.board.deliveries("upgrade/lead-3600"))
    assert TOKEN not in shown
    assert "/hook/" not in shown


async def test_publish_does_not_wait_for_the_webhook(lab: Lab) -> None:
    lab.receiver.plan[A] = ["slow", 200]
    assert await lab.board.publish(maintenance())
    assert (A, "webhook") not in await lab.deliveries("upgrade/lead-3600")  # its first POST is still in flight
    assert (A, "feed") in await lab.deliveries("upgrade/lead-3600")  # the feed has it already
    await eventually(lambda: _has(lab, (A, "webhook")))
    # The slow answer timed out (a real-time limit); the retry, 1 simulated second later, succeeds.
    assert (await lab.deliveries("upgrade/lead-3600"))[A, "webhook"] == (
        "retrying", 1, f"no answer within {TIMEOUT:g} s")
    await lab.settle()
    assert (await lab.deliveries("upgrade/lead-3600"))[A, "webhook"] == ("delivered", 2, None)


async def test_failing_webhook_is_retried_with_backoff_until_it_succeeds(lab: Lab) -> None:
    lab.receiver.plan[B] = [500, 500, 204]
    assert await lab.board.publish(maintenance(accounts=(B,)))

    async def row_is(expected: tuple[str, int, str | None]) -> bool:
        return (await lab.deliveries("upgrade/lead-3600")).get((B, "webhook")) == expected

    await eventually(lambda: row_is(("retrying", 1, "HTTP 500")))
    await asyncio.sleep(0.02)  # the delivery task goes to sleep on the clock
    await lab.clock.advance(0.9)
    await asyncio.sleep(0.05)
    assert lab.receiver.count(B) == 1  # 1 s of backoff not over yet
    await lab.clock.advance(0.1)
    await eventually(lambda: row_is(("retrying", 2, "HTTP 500")))
    await asyncio.sleep(0.02)
    await lab.clock.advance(1.9)
    await asyncio.sleep(0.05)
    assert lab.receiver.count(B) == 2  # then 2 s
    await lab.clock.advance(0.1)
    await eventually(lambda: row_is(("delivered", 3, None)))
    await lab.board.drain()

    assert [request["at"] for request in lab.receiver.requests[B]] == [START, START + 1, START + 3]
    assert ("notice.delivered", {"id": "upgrade/lead-3600", "account": B, "channel": "webhook", "attempts": 3}) in (
        lab.events.recorded)
    assert not [event for event, _ in lab.events.recorded if event == "notice.failed"]


async def test_webhook_that_always_fails_ends_failed_after_the_retries(lab: Lab) -> None:
    lab.receiver.plan[B] = [503]
    assert await lab.board.publish(maintenance(accounts=(B,)))
    await lab.settle()

    assert lab.receiver.count(B) == RETRIES + 1
    times = [request["at"] for request in lab.receiver.requests[B]]
    assert [later - earlier for earlier, later in itertools.pairwise(times)] >= [1, 2, 4]
    assert (await lab.deliveries("upgrade/lead-3600"))[B, "webhook"] == ("failed", RETRIES + 1, "HTTP 503")
    assert ("notice.failed", {"id": "upgrade/lead-3600", "account": B, "channel": "webhook",
                              "attempts": RETRIES + 1}) in lab.events.recorded


async def test_unreachable_webhook_is_recorded_without_its_address(tmp_path: Path, receiver: Receiver) -> None:
    running = await open_lab(tmp_path / "data", receiver)
    await receiver.stop()  # the partner's server is gone: connections are refused
    try:
        assert await running.board.publish(maintenance())
        await running.settle()
        status, attempts, error = (await running.deliveries("upgrade/lead-3600"))[A, "webhook"]
        assert (status, attempts) == ("failed", RETRIES + 1)
        assert error == "ClientConnectorError"
    finally:
        await close_lab(running)


async def test_close_cancels_deliveries_in_progress(lab: Lab) -> None:
    lab.receiver.plan[B] = [500]
    assert await lab.board.publish(maintenance(accounts=(B,)))
    await eventually(lambda: _has(lab, (B, "webhook")))
    await lab.board.close()  # returns at once although the retries are not over
    assert (await lab.deliveries("upgrade/lead-3600"))[B, "webhook"] == ("retrying", 1, "HTTP 500")
    with pytest.raises(RuntimeError, match="closed"):
        await lab.board.publish(maintenance("other"))


async def _has(lab: Lab, key: tuple[str, str]) -> bool:
    return key in await lab.deliveries("upgrade/lead-3600")


# -- once per event ------------------------------------------------------------------------------------------


async def test_the_same_notice_is_sent_once_even_after_a_restart(tmp_path: Path, receiver: Receiver) -> None:
    data = tmp_path / "data"
    first = await open_lab(data, receiver)
    try:
        assert await first.board.publish(maintenance(accounts=("*",))) is True
        assert await first.board.publish(maintenance(accounts=("*",), title="changed")) is False
        await first.settle()
    finally:
        await close_lab(first)
    assert (receiver.count(A), receiver.count(B)) == (1, 1)

    again = await open_lab(data, receiver)  # a new simulator on the same store replays its scenario
    try:
        assert await again.board.publish(maintenance(accounts=("*",))) is False
        await again.settle()
        assert (receiver.count(A), receiver.count(B)) == (1, 1)
        feed = await again.board.feed()
        assert [(notice["id"], notice["title"]) for notice in feed] == [("upgrade/lead-3600", "SMSC upgrade")]
        assert [event for event, _ in again.events.recorded if event.startswith("notice.")] == []
    finally:
        await close_lab(again)


async def test_concurrent_publishers_of_one_event_send_it_once(lab: Lab) -> None:
    outcomes = await asyncio.gather(*(lab.board.publish(maintenance()) for _ in range(5)))
    assert sorted(outcomes) == [False, False, False, False, True]
    await lab.settle()
    assert lab.receiver.count(A) == 1


# -- in-band -------------------------------------------------------------------------------------------------


async def test_inband_notice_arrives_as_mo_from_the_system_number(tmp_path: Path, receiver: Receiver) -> None:
    running = await open_lab(tmp_path / "data", receiver, inband=True)
    assert running.simulator.endpoints is not None
    client = await NetClient.smpp(running.simulator.endpoints.smpp)
    try:
        client.send(smpp.BindReceiver(system_id=A, password=SECRET, interface_version=0x34))
        (bound,) = await client.expect(smpp.BindReceiverResp)
        assert bound.command_status == 0

        notice = maintenance()
        assert await running.board.publish(notice)
        assert running.simulator.gateway is not None
        expected = default_text(notice, running.simulator.gateway)
        segments = text.split(expected, text.Encoding.UCS2)
        delivered = await client.expect(smpp.DeliverSm, count=len(segments), timeout=5)
        assert {(pdu.source_addr, pdu.destination_addr) for pdu in delivered} == {("10086", CODES[A])}
        parts: dict[int, str] = {}
        for pdu in delivered:
            assert pdu.data_coding == 8  # UCS2: the text is Chinese
            if len(segments) > 1:
                header, payload = text.parse_udh(pdu.short_message)
                assert header.concat is not None
                parts[header.concat[2]] = text.decode_text(payload, text.Encoding.UCS2)
            else:
                parts[1] = text.decode_text(pdu.short_message, text.Encoding.UCS2)
        assert "".join(parts[number] for number in sorted(parts)) == expected

        await running.settle()
        assert await running.deliveries(notice.id) == {
            (A, "feed"): ("delivered", 1, None), (A, "inband"): ("delivered", 1, None),
            (A, "webhook"): ("delivered", 1, None)}
        assert ("notice.delivered", {"id": notice.id, "account": A, "channel": "inband", "attempts": 1}) in (
            running.events.recorded)
    finally:
        await client.close()
        await close_lab(running)


async def test_inband_short_notice_to_all_accounts(tmp_path: Path, receiver: Receiver) -> None:
    running = await open_lab(tmp_path / "data", receiver, inband=True)
    assert running.simulator.endpoints is not None
    client = await NetClient.smpp(running.simulator.endpoints.smpp)
    try:
        client.send(smpp.BindReceiver(system_id=C, password=SECRET, interface_version=0x34))
        await client.expect(smpp.BindReceiverResp)
        assert await running.board.publish(NoticeRecord(id="n1", kind="notice", title="t", text="Hello SP"))
        (pdu,) = await client.expect(smpp.DeliverSm)
        assert (pdu.source_addr, pdu.destination_addr, pdu.short_message) == ("10086", CODES[C], b"Hello SP")
        await running.settle()
        rows = await running.deliveries("n1")
        assert {key for key, value in rows.items() if value[0] == "delivered"} == {
            (A, "feed"), (B, "feed"), (C, "feed"), (A, "inband"), (B, "inband"), (C, "inband"),
            (A, "webhook"), (B, "webhook")}  # C has no webhook
    finally:
        await client.close()
        await close_lab(running)


# -- the feed ------------------------------------------------------------------------------------------------


async def test_feed_filters_by_account_and_time(lab: Lab) -> None:
    assert await lab.board.publish(maintenance("m1", accounts=(A,)))
    await lab.clock.advance(10)
    assert await lab.board.publish(NoticeRecord(id="f1", kind="fault", title="Link down", reason="fibre cut",
                                                start=START + 10, accounts=(B, C)))
    await lab.clock.advance(10)
    assert await lab.board.publish(NoticeRecord(id="n1", kind="notice", title="New codes", text="x"))

    async def ids(**filters: Any) -> list[object]:
        return [notice["id"] for notice in await lab.board.feed(**filters)]

    assert await ids() == ["n1", "f1", "m1"]  # newest first
    assert await ids(account=A) == ["n1", "m1"]
    assert await ids(account=C) == ["n1", "f1"]
    assert await ids(account="nobody") == ["n1"]  # addressed to every account, whoever asks
    assert await ids(since=START + 10) == ["n1", "f1"]
    assert await ids(account=A, since=START + 5) == ["n1"]

    fault = (await lab.board.feed(account=B))[1]
    assert fault["start"] == START + 10
    assert fault["end"] is None
    assert fault["published_at"] == START + 10
    assert fault["text"] == ("【系统故障通知】Link down。原因：fibre cut。发生时间：2026-05-29 04:26:50 (UTC+08:00)，"
                             "预计恢复：待定。 / Fault notice: Link down. Reason: fibre cut. Since 2026-05-29 "
                             "04:26:50 (UTC+08:00); expected end to be announced.")
    await lab.settle()
    assert await lab.deliveries("f1") == {(B, "feed"): ("delivered", 1, None), (B, "webhook"): ("delivered", 1, None),
                                          (C, "feed"): ("delivered", 1, None)}
    assert await lab.board.deliveries("nothing") == []


async def test_unknown_account_is_refused_and_nothing_stored(lab: Lab) -> None:
    with pytest.raises(ValueError, match="no account 'nobody'"):
        await lab.board.publish(maintenance(accounts=(A, "nobody")))
    assert await lab.board.feed() == []
    assert lab.receiver.count(A) == 0


@pytest.mark.parametrize(("changes", "complaint"), [
    ({"kind": "outage"}, "kind must be one of maintenance, fault, notice"),
    ({"accounts": ()}, "at least one account"),
    ({"id": ""}, "needs an id"),
])
def test_invalid_notices(changes: dict[str, Any], complaint: str) -> None:
    with pytest.raises(ValueError, match=complaint):
        maintenance(**changes)


# -- the control API -----------------------------------------------------------------------------------------


async def test_api_publishes_and_shows_deliveries(lab: Lab) -> None:
    endpoints = lab.simulator.endpoints
    assert endpoints is not None and endpoints.api is not None
    base = "http://{}:{}".format(*endpoints.api)
    lab.receiver.plan[A] = [500, 200]
    async with aiohttp.ClientSession() as http:
        async with http.post(base + "/notices", json={"id": "fault/1", "kind": "fault", "title": "Link down",
                                                      "text": "链路中断 / link down", "accounts": [A]}) as response:
            assert response.status == 201
            record = await response.json()
        # The feed is delivered at once; the webhook's first attempt (a 500) may or may not be recorded yet.
        assert record["deliveries"][0] == {
            "account": A, "channel": "feed", "status": "delivered", "attempts": 1, "error": None, "at": START}
        assert [d["status"] for d in record["deliveries"][1:]] in ([], ["retrying"])
        await lab.settle()
        async with http.get(base + "/notices", params={"account": A}) as response:
            assert response.status == 200
            (shown,) = await response.json()
        async with http.post(base + "/notices", json={"id": "fault/1", "title": "again", "text": ""}) as response:
            assert response.status == 409
    assert lab.receiver.requests[A][-1]["body"]["text"] == "链路中断 / link down"
    assert {key: value for key, value in shown.items() if key != "deliveries"} == {
        "id": "fault/1", "kind": "fault", "title": "Link down", "reason": "", "start": None, "end": None,
        "accounts": [A], "text": "链路中断 / link down", "published_at": START}
    webhook = next(d for d in shown["deliveries"] if d["channel"] == "webhook")
    assert (webhook["status"], webhook["attempts"], webhook["error"]) == ("delivered", 2, None)
    assert TOKEN not in str(shown)
