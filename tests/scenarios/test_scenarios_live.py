"""Every ready scenario replayed on a virtual clock against real clients over loopback TCP (issue 4, "Tests").

Each test asserts on what the clients experienced -- in-band notices and when they arrived, unbind / TERMINATE,
refused binds, throttle and fault codes, added latency, dropped links, failed receipts, silence -- and on the
audit log. python-smpplib and a CMPP 2.x client built from pycmpp are the third-party clients; our own asyncio
client (``NetClient``) covers the rest. ``live_support.py`` explains how the blocking clients share the event
loop with the simulator and how the virtual clock is moved while partners stay connected.

Two accounts, one per protocol, so that each partner gets its own in-band notices (MO to its service code).
Where a time is asserted, the test stops the clock at that instant and waits (in real time) for what must
arrive then. Three tests began as strict xfails for simulator bugs found on the way (the scenario's seed
unused; silent mode holding the window afterwards; silent mode pushing receipts it then lost); they now pass.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
import smpplib.consts
from live_support import (
    READY,
    SYSTEM_NUMBER,
    Live,
    Net,
    NetClient,
    PycmppPartner,
    SmpplibPartner,
    cmpp_connect,
    live,
)

from protocols import cmpp, smpp
from simulator.compliance import judge

MINUTE = 60.0
HOUR = 3600.0
SECRET = "888888"
SMPP_ACCOUNT, SMPP_CODE = "900001", "10690001"
CMPP_ACCOUNT, CMPP_CODE = "900002", "10690002"
HANDSET = "13800138000"  # the default policy: destinations in 135-139, Src_Id starting with the service code
THROTTLED = smpp.CommandStatus.ESME_RTHROTTLED
SYSERR = smpp.CommandStatus.ESME_RSYSERR
FLOW_CONTROL = 8  # CMPP SUBMIT_RESP Result 8: flow control (throttle, and the scenarios' error bursts)
BIND_REFUSED = smpplib.consts.SMPP_ESME_RBINDFAIL
CONNECT_REFUSED = 5  # CMPP CONNECT_RESP Status 5: other error

Pace = Callable[[int], Awaitable[list[int]]]


def accounts(rate: int | None = 20) -> list[str]:
    """The SMPP partner's and the CMPP partner's accounts, with a contracted rate (msgs/s) unless ``None``."""
    suffix = "" if rate is None else f":{rate}"
    return [f"{SMPP_ACCOUNT}:{SECRET}:{SMPP_CODE}{suffix}", f"{CMPP_ACCOUNT}:{SECRET}:{CMPP_CODE}{suffix}"]


async def partners(running: Live) -> tuple[Net, Net]:
    """Our client bound over SMPP (account 900001) and connected over CMPP 3.0 (account 900002)."""
    return await Net.smpp(running, SMPP_ACCOUNT), await Net.cmpp(running, CMPP_ACCOUNT)


def pace(net: Net, window: int = 8, **fields: Any) -> Pace:
    """``pace(net)(n)``: n submits from ``net``'s account now, at most ``window`` unanswered; their codes."""
    account, code = (CMPP_ACCOUNT, CMPP_CODE) if net.is_cmpp else (SMPP_ACCOUNT, SMPP_CODE)
    return lambda count: net.submits(count, account=account, code=code, window=window, **fields)


async def smpplib_bound(running: Live) -> SmpplibPartner:
    partner = SmpplibPartner(running.smpp, running.clock)
    await partner.connect()
    status = await partner.bind(SMPP_ACCOUNT)
    assert status == 0, f"bind refused: 0x{status:08x}"
    return partner


async def smpplib_bind_status(running: Live) -> int:
    """A fresh python-smpplib connection's bind_transceiver command_status (the connection is closed again)."""
    partner = SmpplibPartner(running.smpp, running.clock)
    await partner.connect()
    try:
        return await partner.bind(SMPP_ACCOUNT)
    finally:
        await partner.close()


async def cmpp_connect_status(running: Live) -> int:
    """A fresh CMPP 3.0 connection's CONNECT_RESP Status (the connection is closed again)."""
    client = await NetClient.cmpp(running.cmpp)
    try:
        client.send(cmpp_connect(CMPP_ACCOUNT, SECRET))
        [answer] = await client.expect(cmpp.ConnectResp)
        return int(answer.status)
    finally:
        await client.close()


async def smpplib_pace(esme: SmpplibPartner, count: int, window: int) -> list[int]:
    """``count`` python-smpplib submits now, at most ``window`` unanswered at a time; their command_status."""
    statuses: list[int] = []
    while len(statuses) < count:
        batch = [esme.submit(SMPP_CODE, HANDSET, b"load") for _ in range(min(window, count - len(statuses)))]
        answers = await esme.responses(batch)
        statuses += [int(answers[sequence].status) for sequence in batch]
    return statuses


async def pycmpp_pace(sp: PycmppPartner, count: int, window: int) -> list[int]:
    """The same from the pycmpp-built SP: SUBMIT_RESP Results."""
    results: list[int] = []
    while len(results) < count:
        batch = [sp.submit(CMPP_ACCOUNT, CMPP_CODE, HANDSET, "load") for _ in range(min(window, count - len(results)))]
        answers = await sp.responses(batch)
        results += [int(answers[sequence].status) for sequence in batch]
    return results


async def notices_by_now(partner: Any, count: int) -> list[Any]:
    """Wait, the clock standing still, until ``partner`` has read ``count`` complete in-band notices."""
    assert await partner.wait_until(lambda: len(partner.notices()) >= count), partner.notices()
    return partner.notices()


def ids(running: Live, events: list[dict[str, Any]]) -> list[tuple[float, str]]:
    """Audit events as (offset from the start, detail id)."""
    return [(running.at(event), str(event["detail"].get("id"))) for event in events]


# -- maintenance-window ---------------------------------------------------------------------------------------


async def test_maintenance_window_notices_terminate_refusal_and_recovery(tmp_path) -> None:
    """Notices 10 and 1 minutes ahead reach the python-smpplib ESME and the CMPP SP in-band, each at least its
    lead time before the outage; at +15:00 the ESME gets unbind and the SP TERMINATE, and both are disconnected;
    binds and CONNECTs are refused (ESME_RBINDFAIL, Status 5) until +20:00; then a bind and a submit succeed."""
    outage, end = 15 * MINUTE, 20 * MINUTE
    async with live(tmp_path, "maintenance-window", accounts()) as running:
        esme = await smpplib_bound(running)
        sp = await Net.cmpp(running, CMPP_ACCOUNT)
        try:
            for count, lead in enumerate((10 * MINUTE, 1 * MINUTE), start=1):
                await running.to(outage - lead, partners=[esme, sp])
                await notices_by_now(esme, count)
                await notices_by_now(sp, count)
            for notices in (esme.notices(), sp.notices()):
                assert [outage - (notice.at - running.start) for notice in notices] == [10 * MINUTE, 1 * MINUTE]
                for notice in notices:  # reason, start and expected end (clause 2.9)
                    assert "SMSC software upgrade" in notice.text
                    assert "2026-06-01 00:15 (UTC+08:00)" in notice.text
                    assert "2026-06-01 00:20 (UTC+08:00)" in notice.text

            await running.to(outage, partners=[esme, sp])
            assert await esme.wait_until(lambda: esme.closed), "the SMSC did not close after the unbind"
            assert await sp.wait_until(lambda: sp.closed), "the ISMG did not close after TERMINATE"
            assert [at - running.start for at, _ in esme.of("unbind")] == [outage]
            assert [at - running.start for at, _ in sp.of(cmpp.Terminate)] == [outage]
        finally:
            await esme.close()
            await sp.close()

        for minute in (15.5, 19.5):
            await running.to(minute * MINUTE)
            assert await smpplib_bind_status(running) == BIND_REFUSED
            assert await cmpp_connect_status(running) == CONNECT_REFUSED

        await running.to(end)
        esme = await smpplib_bound(running)
        sp = await Net.cmpp(running, CMPP_ACCOUNT)
        try:
            assert await smpplib_pace(esme, 1, 1) == [0]
            assert await pace(sp)(1) == [0]
        finally:
            await esme.close()
            await sp.close()

        [started] = await running.events("maintenance.started")
        assert (running.at(started), started["detail"]["id"], started["detail"]["mode"], started["detail"]["reason"]) \
            == (outage, "upgrade", "terminate", "SMSC software upgrade")
        assert ids(running, await running.events("maintenance.ended")) == [(end, "upgrade")]
        assert ids(running, await running.events("notice.published")) == [
            (5 * MINUTE, "upgrade#1/notice/600"), (14 * MINUTE, "upgrade#1/notice/60")]
        inband = [(event["detail"]["id"], event["detail"]["account"])
                  for event in await running.events("notice.delivered") if event["detail"]["channel"] == "inband"]
        assert sorted(inband) == sorted((key, account) for key in ("upgrade#1/notice/600", "upgrade#1/notice/60")
                                        for account in (SMPP_ACCOUNT, CMPP_ACCOUNT))
        refused = await running.events("session.refused")
        assert sorted((running.at(event), event["detail"]["protocol"]) for event in refused) == [
            (15.5 * MINUTE, "cmpp"), (15.5 * MINUTE, "smpp"), (19.5 * MINUTE, "cmpp"), (19.5 * MINUTE, "smpp")]


# -- overload-throttle ----------------------------------------------------------------------------------------


async def test_overload_throttle_codes_only_while_the_rate_is_cut(tmp_path) -> None:
    """Contract 20 msgs/s. Before +01:00 eight submits a second all pass (more than the coming limit); from the
    cut to 5/s (window 4) the same pace gets exactly three ESME_RTHROTTLED / Result 8 a second, for the
    python-smpplib ESME and the pycmpp SP alike; from +03:00 sixteen a second pass again."""
    async with live(tmp_path, "overload-throttle", accounts(20)) as running:
        esme = await smpplib_bound(running)
        sp = PycmppPartner(running.cmpp, running.clock)
        try:
            assert await sp.connect(CMPP_ACCOUNT) == 0
            before = []
            for second in range(50, 60):
                await running.to(second, partners=[esme, sp])
                before.append(((await smpplib_pace(esme, 8, 8)).count(0), (await pycmpp_pace(sp, 8, 8)).count(0)))
            assert before == [(8, 8)] * 10

            await running.to(60, partners=[esme, sp])
            for partner in (esme, sp):  # the overload notice, in-band, when the cut begins
                [notice] = await notices_by_now(partner, 1)
                assert notice.at - running.start == 60 and "limited to 5 messages per second" in notice.text
            during = []
            for second in range(60, 70):
                await running.to(second, partners=[esme, sp])
                statuses, results = await smpplib_pace(esme, 8, 4), await pycmpp_pace(sp, 8, 4)
                assert set(statuses) <= {0, THROTTLED} and set(results) <= {0, FLOW_CONTROL}
                during.append((statuses.count(THROTTLED), results.count(FLOW_CONTROL)))
            assert during == [(3, 3)] * 10  # the bucket holds 5: five pass each second

            # At +03:00 the bucket keeps the tokens it had (5); a second later it holds the contract's 20.
            after = []
            for second in range(181, 186):
                await running.to(second, partners=[esme, sp])
                after.append(((await smpplib_pace(esme, 16, 8)).count(0), (await pycmpp_pace(sp, 16, 8)).count(0)))
            assert after == [(16, 16)] * 5
        finally:
            await esme.close()
            await sp.close()

        refused = await running.events("submit.refused")
        assert {event["detail"]["reason"] for event in refused} == {"throttled"}
        assert {int(running.at(event)) for event in refused} == set(range(60, 70))
        changes = [(running.at(e), e["detail"]["account"], e["detail"]["rate"], e["detail"]["window"])
                   for e in await running.events("capacity.changed")]
        assert sorted(changes) == [(60.0, SMPP_ACCOUNT, 5.0, 4), (60.0, CMPP_ACCOUNT, 5.0, 4),
                                   (180.0, SMPP_ACCOUNT, 20.0, 16), (180.0, CMPP_ACCOUNT, 20.0, 16)]


# -- emergency-cut --------------------------------------------------------------------------------------------


async def test_emergency_cut_to_30_percent_and_the_compliance_verdict(tmp_path) -> None:
    """Contract 20 msgs/s, cut to 6/s (window 8) from +02:00 to +05:00. Both partners send 10 a second before the
    cut without a refusal. Partner A (SMPP) keeps that pace and gets four throttle codes every second; partner B
    (CMPP) slows to 5 a second within the 5 s grace period and gets none after it. The compliance monitor fails
    A's emergency_cut check and passes B's; after +05:00 both send 10 a second again without a refusal."""
    cut, restored = 2 * MINUTE, 5 * MINUTE
    async with live(tmp_path, "emergency-cut", accounts(20)) as running:
        a, b = await partners(running)
        try:
            for second in range(110, 120):
                await running.to(second, partners=[a, b])
                assert (await pace(a)(10), await pace(b)(10)) == ([0] * 10, [0] * 10)

            await running.to(cut, partners=[a, b])
            [notice] = await notices_by_now(a, 1)
            assert notice.at - running.start == cut and "30% of its contracted rate" in notice.text
            a_refused, b_refused = [], []
            for second in range(120, 140):
                await running.to(second, partners=[a, b])
                a_refused.append((await pace(a)(10)).count(THROTTLED))
                b_refused.append((await pace(b)(10 if second < 122 else 5)).count(FLOW_CONTROL))
            assert a_refused == [4] * 20  # six of ten pass each second
            assert b_refused == [4, 4] + [0] * 18

            for second in range(301, 306):
                await running.to(second, partners=[a, b])
                assert (await pace(a)(10), await pace(b)(10)) == ([0] * 10, [0] * 10)
        finally:
            await a.close()
            await b.close()

        changes = await running.events("capacity.changed")
        assert sorted((running.at(e), e["detail"]["account"], e["detail"]["factor"], e["detail"]["rate"],
                       e["detail"]["window"]) for e in changes) == [
            (cut, SMPP_ACCOUNT, 0.3, 6.0, 8), (cut, CMPP_ACCOUNT, 0.3, 6.0, 8),
            (restored, SMPP_ACCOUNT, 1.0, 20.0, 16), (restored, CMPP_ACCOUNT, 1.0, 20.0, 16)]

        verdicts = judge(await running.events(), {account.id: account for account in running.config.accounts})
        cut_verdicts = {verdict.account: verdict for verdict in verdicts if verdict.check == "emergency_cut"}
        assert (cut_verdicts[SMPP_ACCOUNT].status, cut_verdicts[SMPP_ACCOUNT].value) == ("fail", 10.0)
        assert (cut_verdicts[CMPP_ACCOUNT].status, cut_verdicts[CMPP_ACCOUNT].value) == ("pass", 5.0)


# -- gateway-faults -------------------------------------------------------------------------------------------


async def error_burst(running: Live, a: Net, b: Net) -> tuple[list[int], list[int]]:
    """Ten submits a second from each partner, +01:10 to +01:19 (the burst lasts from +01:00 to +03:00)."""
    a_statuses: list[int] = []
    b_results: list[int] = []
    for second in range(70, 80):
        await running.to(second, partners=[a, b])
        a_statuses += await pace(a, window=10)(10)
        b_results += await pace(b, window=10)(10)
    return a_statuses, b_results


async def error_burst_alone(tmp_path, name: str, scenario: Any = "gateway-faults",
                            seed: int = 0) -> tuple[list[int], list[int]]:
    """:func:`error_burst` on a fresh simulator (seeded ``seed``) replaying ``scenario``."""
    async with live(tmp_path, scenario, accounts(None), name=name, seed=seed) as running:
        a, b = await partners(running)
        try:
            return await error_burst(running, a, b)
        finally:
            await a.close()
            await b.close()


async def answer_delay(running: Live, net: Net) -> float:
    """Submit now, check nothing comes back while only real time passes, then move the clock in 50 ms steps
    until the answer arrives: the virtual seconds it took."""
    sent_at = running.offset
    assert not net.take(smpp.SubmitSmResp)
    net.send(smpp.SubmitSm(source_addr=SMPP_CODE, destination_addr=HANDSET, short_message=b"slow"))
    await net.wait_until(lambda: False, 0.1)
    assert not net.take(smpp.SubmitSmResp), "answered before any virtual time passed"
    for _ in range(40):
        await running.to(running.offset + 0.05, partners=[net], step=0.05)
        answers = net.take(smpp.SubmitSmResp)
        if answers:
            [(at, answer)] = answers
            assert answer.command_status == 0
            return round(at - running.start - sent_at, 6)
    raise AssertionError("no answer within 2 virtual seconds")


async def test_gateway_faults_as_partners_see_them(tmp_path) -> None:
    """The error burst refuses about 30% with ESME_RSYSERR / Result 8; the latency fault holds each answer back
    0.2-0.8 s; the disconnect drops both partners, who reconnect; receipts of messages sent during the receipt
    fault say UNDELIV or EXPIRED; each fault's notice arrives in-band its notice_delay after the onset."""
    async with live(tmp_path, "gateway-faults", accounts(None)) as running:
        a, b = await partners(running)
        try:
            await running.to(50, partners=[a, b])
            assert (await pace(a)(10), await pace(b)(10)) == ([0] * 10, [0] * 10)

            await running.to(65, partners=[a, b])
            for net in (a, b):
                [notice] = await notices_by_now(net, 1)
                assert notice.at - running.start == 65 and "error_burst" in notice.text
            a_statuses, b_results = await error_burst(running, a, b)
            assert (set(a_statuses), set(b_results)) == ({0, SYSERR}, {0, FLOW_CONTROL})
            refused = a_statuses.count(SYSERR) + b_results.count(FLOW_CONTROL)
            assert 0.15 <= refused / 200 <= 0.45, refused  # the scenario's ratio is 0.3
            await running.to(190, partners=[a, b])
            assert (await pace(a)(10), await pace(b)(10)) == ([0] * 10, [0] * 10)

            await running.to(250, partners=[a, b])
            [_, notice] = await notices_by_now(a, 2)
            assert notice.at - running.start == 250 and "latency" in notice.text
            delays = [await answer_delay(running, a) for _ in range(5)]
            assert all(0.2 <= delay <= 0.9 for delay in delays), delays  # 0.8 s at most, read within a 50 ms step
            assert len(set(delays)) > 1, delays  # drawn, not constant
            await running.to(361, partners=[a, b])
            assert await pace(a)(1) == [0]  # the latency has cleared: answered with the clock standing still

            await running.to(419, partners=[a, b])
            assert not (a.closed or b.closed)
            await running.to(420, partners=[a, b])
            assert await a.wait_until(lambda: a.closed) and await b.wait_until(lambda: b.closed)
        finally:
            await a.close()
            await b.close()

        await running.to(421)
        a, b = await partners(running)  # reconnecting works at once
        try:
            await running.to(422, partners=[a, b])
            for net in (a, b):
                [notice] = await notices_by_now(net, 1)
                assert notice.at - running.start == 422 and "disconnect" in notice.text

            await running.to(500, partners=[a, b])
            assert (await pace(a, receipt=True)(2), await pace(b, receipt=True)(2)) == ([0] * 2, [0] * 2)
            await running.to(505, partners=[a, b])
            assert await a.wait_until(lambda: len(a.receipts()) == 2) and await b.wait_until(
                lambda: len(b.receipts()) == 2)
            assert (a.receipts(), b.receipts()) == ([("DELIVRD", "000")] * 2, [("DELIVRD", "")] * 2)

            await running.to(550, partners=[a, b])
            assert (await pace(a, receipt=True)(10), await pace(b, receipt=True)(10)) == ([0] * 10, [0] * 10)
            await running.to(555, partners=[a, b], step=1.0)
            assert await a.wait_until(lambda: len(a.receipts()) == 12) and await b.wait_until(
                lambda: len(b.receipts()) == 12)
            a_stats, b_stats = a.receipts()[2:], [stat for stat, _ in b.receipts()[2:]]
            assert set(a_stats) <= {("UNDELIV", "001"), ("EXPIRED", "002")} and ("UNDELIV", "001") in a_stats
            assert set(b_stats) <= {"UNDELIV", "EXPIRED"} and "UNDELIV" in b_stats

            await running.to(570, partners=[a, b])
            for net in (a, b):
                [_, notice] = await notices_by_now(net, 2)
                assert notice.at - running.start == 570 and "receipt_failure" in notice.text
            await running.to(12 * MINUTE + 1, partners=[a, b])
        finally:
            await a.close()
            await b.close()

        assert ids(running, await running.events("fault.started")) == [
            (60.0, "error-burst"), (240.0, "slow-responses"), (420.0, "link-drop"), (540.0, "failed-receipts")]
        assert ids(running, await running.events("fault.ended")) == [
            (180.0, "error-burst"), (360.0, "slow-responses"), (720.0, "failed-receipts")]
        assert ids(running, await running.events("notice.published")) == [
            (65.0, "error-burst#1/notice"), (250.0, "slow-responses#1/notice"), (422.0, "link-drop#1/notice"),
            (570.0, "failed-receipts#1/notice")]
        refused_events = await running.events("submit.refused")
        assert {event["detail"]["reason"] for event in refused_events} == {"fault:error_burst"}
        assert len(refused_events) == refused


async def test_gateway_faults_error_burst_replays_exactly(tmp_path) -> None:
    """The same scenario and seed refuse the same submits, one for one."""
    first = await error_burst_alone(tmp_path, "first")
    second = await error_burst_alone(tmp_path, "second")
    assert first == second
    assert 0 < first[0].count(SYSERR) < 100 and 0 < first[1].count(FLOW_CONTROL) < 100


async def test_gateway_faults_error_burst_follows_the_scenarios_seed(tmp_path) -> None:
    text = (READY / "gateway-faults.toml").read_text(encoding="utf-8")
    assert "\nseed = 210\n" in text
    reseeded = tmp_path / "gateway-faults-reseeded.toml"
    reseeded.write_text(text.replace("\nseed = 210\n", "\nseed = 211\n"), encoding="utf-8")
    assert await error_burst_alone(tmp_path, "seed-210") != await error_burst_alone(tmp_path, "seed-211", reseeded)


# -- bulk-abuse -----------------------------------------------------------------------------------------------


async def campaign(a: Net, b: Net, text: bytes, first: int, count: int) -> tuple[list[int], list[int]]:
    """One text to ``count`` new numbers from each partner, now: one recipient a submit_sm, two a CMPP SUBMIT."""
    numbers = [f"138{number:08d}" for number in range(first, first + count)]
    a_statuses: list[int] = []
    for number in numbers:
        a_statuses += await pace(a, text=text, recipients=(number,))(1)
    b_results: list[int] = []
    for pair in range(0, count, 2):
        b_results += await pace(b, text=text, recipients=numbers[pair:pair + 2])(1)
    return a_statuses, b_results


async def test_bulk_abuse_refuses_the_21st_recipient_of_one_text(tmp_path) -> None:
    """The guard (one text to more than 20 recipients within 60 s, enforced) refuses the submit that reaches a 21st
    recipient with the bulk rule's code (ESME_RTHROTTLED / Result 8); other texts pass; once the first recipients
    are more than a minute old, the text reaches 20 more and is refused again past them."""
    async with live(tmp_path, "bulk-abuse", accounts(None)) as running:
        a, b = await partners(running)
        try:
            # The rule's notice is published at +0, before the partners bind: it reaches them at the latest when
            # its in-band delivery is retried (the DLR profile's retry_interval, 30 s).
            await running.to(30, partners=[a, b])
            for net in (a, b):
                [notice] = await notices_by_now(net, 1)
                assert "more than 20 recipients within 60 seconds" in notice.text
            assert await campaign(a, b, b"Big sale today", 0, 22) == ([0] * 20 + [THROTTLED] * 2,
                                                                      [0] * 10 + [FLOW_CONTROL])
            assert await campaign(a, b, b"Another text", 100, 2) == ([0, 0], [0])

            await running.to(91, partners=[a, b])
            assert await campaign(a, b, b"Big sale today", 200, 22) == ([0] * 20 + [THROTTLED] * 2,
                                                                        [0] * 10 + [FLOW_CONTROL])
        finally:
            await a.close()
            await b.close()

        refused = await running.events("submit.refused")
        assert {event["detail"]["reason"] for event in refused} == {"policy:bulk"}
        assert sorted(running.at(event) for event in refused) == [30.0] * 3 + [91.0] * 3
        violations = [e["detail"] for e in await running.events("policy.violation") if e["detail"]["rule"] == "bulk"]
        assert [(v["mode"], v["evidence"]["limit"], v["evidence"]["window"]) for v in violations] == [
            ("enforce", 20, 60.0)] * 6
        assert ids(running, await running.events("bulk_guard.started")) == [(0.0, "bulk-guard")]


async def test_bulk_guard_lifted_lets_the_same_text_through(tmp_path) -> None:
    """bulk-abuse with a 5-minute period instead of "until the end": the 21st recipient is refused while the guard
    is on, and the same text goes to 22 more right after it ends (the configured monitor mode only records)."""
    text = (READY / "bulk-abuse.toml").read_text(encoding="utf-8")
    assert 'id = "bulk-guard"\n' in text
    timed = tmp_path / "bulk-abuse-5min.toml"
    timed.write_text(text.replace('id = "bulk-guard"\n', 'id = "bulk-guard"\nduration = "00:05:00"\n'),
                     encoding="utf-8")
    async with live(tmp_path, timed, accounts(None)) as running:
        a, b = await partners(running)
        try:
            await running.to(4 * MINUTE + 59, partners=[a, b])
            assert await campaign(a, b, b"Big sale today", 0, 22) == ([0] * 20 + [THROTTLED] * 2,
                                                                      [0] * 10 + [FLOW_CONTROL])
            await running.to(5 * MINUTE, partners=[a, b])
            assert await campaign(a, b, b"Big sale today", 100, 22) == ([0] * 22, [0] * 11)
        finally:
            await a.close()
            await b.close()
        assert ids(running, await running.events("bulk_guard.ended")) == [(300.0, "bulk-guard")]


# -- silent mode: the soak's 14:00 "Signalling link switchover", and a tiny scenario for the bugs --------------


async def test_soak_silent_maintenance_answers_nothing_until_it_ends(tmp_path) -> None:
    """From +14:00 to +14:05 the soak's silent maintenance reads everything and answers nothing: an enquire_link,
    an ACTIVE_TEST and submits go unanswered, yet the connections stay open (only the partners' own timers can
    tell); from +14:05 the same requests are answered again, and the swallowed ones never are."""
    silence, end = 14 * HOUR, 14 * HOUR + 5 * MINUTE
    async with live(tmp_path, "soak", accounts(50), inband=False) as running:
        await running.to(silence - MINUTE)
        a, b = await partners(running)
        try:
            await running.to(silence + 10, partners=[a, b])
            seen = len(a.received), len(b.received)
            a.send(smpp.EnquireLink())
            a.send(smpp.SubmitSm(source_addr=SMPP_CODE, destination_addr=HANDSET, short_message=b"anyone there?"))
            b.send(cmpp.ActiveTest())
            b.send(cmpp.Submit(msg_src=CMPP_ACCOUNT, src_id=CMPP_CODE, dest_terminal_id=(HANDSET,),
                               msg_content=b"anyone there?"))
            await running.to(end - 1, partners=[a, b])
            await a.wait_until(lambda: False, 0.2)
            await b.wait_until(lambda: False, 0.2)
            assert (a.received[seen[0]:], b.received[seen[1]:]) == ([], [])  # not one PDU in five minutes
            assert not (a.closed or b.closed)

            await running.to(end, partners=[a, b])
            probe = a.send(smpp.EnquireLink())
            [answer] = await a.expect(smpp.EnquireLinkResp)
            assert answer.sequence_number == probe.sequence_number
            probe = b.send(cmpp.ActiveTest())
            [answer] = await b.expect(cmpp.ActiveTestResp)
            assert answer.sequence_id == probe.sequence_id
            assert (await pace(a)(1), await pace(b)(1)) == ([0], [0])
            assert len(a.of(smpp.SubmitSmResp)) == len(b.of(cmpp.SubmitResp)) == 1
        finally:
            await a.close()
            await b.close()

        [started] = [e for e in await running.events("maintenance.started") if e["detail"]["mode"] == "silent"]
        assert (running.at(started), started["detail"]["id"]) == (silence, "silent-maintenance")
        assert (end, "silent-maintenance") in ids(running, await running.events("maintenance.ended"))
        assert (silence - 30 * MINUTE, "silent-maintenance#1/notice/1800") in ids(
            running, await running.events("notice.published"))


SILENT = """schema = 1
name = "silent-drill"
[[events]]
id = "hush"
kind = "maintenance"
at = "+00:01:00"
duration = "00:05:00"
reason = "silent drill"
mode = "silent"
"""


async def test_silent_mode_leaves_the_window_free_afterwards(tmp_path) -> None:
    (tmp_path / "silent.toml").write_text(SILENT, encoding="utf-8")
    async with live(tmp_path, tmp_path / "silent.toml", accounts(None), inband=False) as running:
        a = await Net.smpp(running, SMPP_ACCOUNT)
        try:
            await running.to(90, partners=[a])
            for _ in range(16):  # the account's window
                a.send(smpp.SubmitSm(source_addr=SMPP_CODE, destination_addr=HANDSET, short_message=b"lost"))
            await running.to(6 * MINUTE, partners=[a])
            assert await pace(a)(1) == [0]
        finally:
            await a.close()


async def test_silent_mode_holds_receipts_until_it_ends(tmp_path) -> None:
    (tmp_path / "silent.toml").write_text(SILENT, encoding="utf-8")
    async with live(tmp_path, tmp_path / "silent.toml", accounts(None), inband=False) as running:
        a = await Net.smpp(running, SMPP_ACCOUNT)
        try:
            await running.to(59, partners=[a])
            assert await pace(a, receipt=True)(1) == [0]  # its receipt falls due 1-3 s later, in the silence
            await running.to(6 * MINUTE - 1, partners=[a])
            pushed_while_silent = [at - running.start for at, _ in a.of(smpp.DeliverSm)]
            await running.to(8 * MINUTE, partners=[a])
            assert running.simulator.store is not None
            [row] = await running.simulator.store.search_messages(account=SMPP_ACCOUNT)
            assert (pushed_while_silent, row.receipt_state) == ([], "acked")
        finally:
            await a.close()


# -- certification --------------------------------------------------------------------------------------------


async def test_certification_runs_end_to_end_in_its_documented_order(tmp_path) -> None:
    """Throttle (+00:30 to +01:30), maintenance notice (+02:00), terminate-mode outage (+03:00 to +04:30), error
    burst 50% (+05:30 to +06:30) with its notice, recovery notice (+07:00): both partners see each in turn, a
    partner that slows down and retries gets through, and the audit log has the steps in this order."""
    async with live(tmp_path, "certification", accounts(20)) as running:
        a, b = await partners(running)
        try:
            for second in (10, 20, 29):
                await running.to(second, partners=[a, b])
                assert (await pace(a)(8), await pace(b)(8)) == ([0] * 8, [0] * 8)
            await running.to(31, partners=[a, b])
            assert ((await pace(a)(8)).count(THROTTLED), (await pace(b)(8)).count(FLOW_CONTROL)) == (3, 3)
            for second in range(32, 40):  # slowed down to 4 a second: no more throttle codes
                await running.to(second, partners=[a, b])
                assert (await pace(a)(4), await pace(b)(4)) == ([0] * 4, [0] * 4)
            await running.to(95, partners=[a, b])
            assert (await pace(a)(8), await pace(b)(8)) == ([0] * 8, [0] * 8)

            await running.to(2 * MINUTE, partners=[a, b])
            for net in (a, b):
                [notice] = await notices_by_now(net, 1)
                assert notice.at - running.start == 2 * MINUTE and "certification drill" in notice.text
            await running.to(3 * MINUTE, partners=[a, b])
            assert await a.wait_until(lambda: a.closed) and await b.wait_until(lambda: b.closed)
            assert [at - running.start for at, _ in a.of(smpp.Unbind)] == [3 * MINUTE]
            assert [at - running.start for at, _ in b.of(cmpp.Terminate)] == [3 * MINUTE]
        finally:
            await a.close()
            await b.close()

        await running.to(200)
        assert (await smpplib_bind_status(running), await cmpp_connect_status(running)) == (BIND_REFUSED,
                                                                                            CONNECT_REFUSED)

        await running.to(271)
        a, b = await partners(running)
        try:
            await running.to(330, partners=[a, b])
            for net in (a, b):
                [notice] = await notices_by_now(net, 1)
                assert notice.at - running.start == 330 and "error_burst" in notice.text
            await running.to(331, partners=[a, b])
            refused = 0
            for net in (a, b):
                outstanding = 10
                for _ in range(20):  # what is refused is sent again a second later, until all is accepted
                    statuses = await pace(net)(outstanding)
                    outstanding = len(statuses) - statuses.count(0)
                    refused += outstanding
                    if not outstanding:
                        break
                    await running.to(running.offset + 1, partners=[a, b])
                assert outstanding == 0
            assert refused > 0

            await running.to(7 * MINUTE, partners=[a, b])
            for net in (a, b):
                [_, notice] = await notices_by_now(net, 2)
                assert notice.at - running.start == 7 * MINUTE and "every service is normal" in notice.text
            await running.to(7 * MINUTE + 1, partners=[a, b])
            assert (await pace(a)(8), await pace(b)(8)) == ([0] * 8, [0] * 8)
        finally:
            await a.close()
            await b.close()

        kinds = {"capacity.changed", "notice.published", "maintenance.started", "maintenance.ended", "fault.started",
                 "fault.ended"}
        steps: list[tuple[float, str, str]] = []
        for event in await running.events():
            step = (running.at(event), event["kind"], event["detail"].get("id"))
            if event["kind"] in kinds and step not in steps:  # capacity.changed comes once per account
                steps.append(step)
        assert steps == [
            (30.0, "capacity.changed", "throttle"), (90.0, "capacity.changed", "throttle"),
            (120.0, "notice.published", "maintenance#1/notice/60"),
            (180.0, "maintenance.started", "maintenance"), (270.0, "maintenance.ended", "maintenance"),
            (330.0, "fault.started", "error-burst"), (330.0, "notice.published", "error-burst#1/notice"),
            (390.0, "fault.ended", "error-burst"), (420.0, "notice.published", "recovery#1/apply")]
        throttled = [running.at(e) for e in await running.events("submit.refused")
                     if e["detail"]["reason"] == "throttled"]
        assert throttled and all(30 <= at < 90 for at in throttled)
        assert running.simulator.runner is not None
        assert {step["state"] for step in running.simulator.runner.status()["steps"]} == {"done"}


# -- soak -----------------------------------------------------------------------------------------------------

#: The audit event each timeline step leaves, by (action, event kind); notices leave notice.published (by key).
AUDIT_OF_STEP = {
    ("begin", "maintenance"): "maintenance.started", ("end", "maintenance"): "maintenance.ended",
    ("begin", "throttle"): "capacity.changed", ("end", "throttle"): "capacity.changed",
    ("begin", "capacity"): "capacity.changed", ("end", "capacity"): "capacity.changed",
    ("begin", "fault"): "fault.started", ("apply", "fault"): "fault.started", ("end", "fault"): "fault.ended",
    ("begin", "bulk_guard"): "bulk_guard.started", ("end", "bulk_guard"): "bulk_guard.ended",
}


async def served(running: Live) -> Net:
    """Bind, submit with a receipt and read the receipt: listener, gateway and receipt dispatcher all work.
    The client stays bound (reading in-band notices meanwhile); the caller closes it."""
    net = await Net.smpp(running, SMPP_ACCOUNT)
    assert await pace(net, receipt=True)(1) == [0]
    await running.to(running.offset + 5, partners=[net], step=1.0)
    assert await net.wait_until(lambda: bool(net.receipts()))
    assert [stat for stat, _ in net.receipts()] == ["DELIVRD"]
    return net


def inband_segments(net: Net) -> list[Any]:
    return [pdu for _, pdu in net.of(smpp.DeliverSm) if pdu.source_addr == SYSTEM_NUMBER]


async def test_soak_day_replays_every_step_without_errors(tmp_path, caplog) -> None:
    """The whole simulated day, instant by instant: every timeline step leaves its audit event at its time; no
    step fails, no error is logged or recorded, the daily jobs keep running; a partner binding now and then is
    served (and TCP is refused during the refuse-mode night upgrade); by the end every in-band notice of the day
    has been read and acknowledged by a partner."""
    caplog.set_level(logging.WARNING)
    async with live(tmp_path, "soak", [f"{SMPP_ACCOUNT}:{SECRET}:{SMPP_CODE}:50"]) as running:
        runner = running.simulator.runner
        assert runner is not None
        steps = runner.steps
        visits = {1 * HOUR: "served", 2 * HOUR + 10 * MINUTE: "refused", 12.5 * HOUR: "served"}
        for instant in sorted({step.at - running.start for step in steps} | set(visits)):
            await running.to(instant)
            if visits.get(instant) == "served":
                await (await served(running)).close()
            elif visits.get(instant) == "refused":  # refuse mode for every account: the listeners are closed
                with pytest.raises(ConnectionRefusedError):
                    await NetClient.smpp(running.smpp)
        await running.to(24 * HOUR)

        expected = []
        for step in steps:
            if step.action == "notice" or step.event.kind == "notice":
                expected.append((step.at - running.start, "notice.published", step.key))
            else:
                expected.append((step.at - running.start, AUDIT_OF_STEP[step.action, step.event.kind], step.event.id))
        kinds = {*AUDIT_OF_STEP.values(), "notice.published"}
        recorded = [(running.at(e), e["kind"], e["detail"]["id"]) for e in await running.events() if e["kind"] in kinds]
        assert sorted(recorded) == sorted(expected)
        assert len(expected) > 60

        # A partner binding at the end of the day is served, and gets every in-band segment no partner has
        # acknowledged yet: undelivered rows are retried every 30 s, then follow each other as answers come in.
        segments = sum(event["detail"]["segments"] for event in await running.events("mo.injected"))
        missing = segments - len({event["detail"]["mo"] for event in await running.events("mo.acked")})
        net = await served(running)
        try:
            await running.to(24 * HOUR + 35, partners=[net], step=5.0)
            assert await net.wait_until(lambda: len(inband_segments(net)) >= missing, 10.0), len(inband_segments(net))
        finally:
            await net.close()
        for _ in range(100):  # the acknowledgements are recorded by the store's writer
            acknowledged = {event["detail"]["mo"] for event in await running.events("mo.acked")}
            if len(acknowledged) == segments:
                break
            await running.settle(0.05)
        assert len(acknowledged) == segments > 0
        assert any("The simulated day is over" in notice.text for notice in net.notices())

        assert {step["state"] for step in runner.status()["steps"]} == {"done"}
        assert [e["kind"] for e in await running.events()
                if e["kind"] in ("internal.error", "api.error", "notice.error", "notice.failed")] == []
        assert len(await running.events("audit.retention")) == 2  # at start-up and at midnight: the job lives
    assert [record for record in caplog.records if record.levelno >= logging.ERROR] == []
