"""The agreement's rules over real sessions: each rule in enforce mode answers its exact code on the wire,
in monitor mode lets the message through; both record the violation with its evidence."""

from __future__ import annotations

import asyncio
import dataclasses
from types import MappingProxyType

import pytest
from netclient import NetClient, cmpp_connect

from protocols import cmpp, smpp, text
from simulator.clock import ScaledClock, VirtualClock
from simulator.config import load_config, parse_account_option, with_overrides
from simulator.policy import RULES
from simulator.server import Simulator

St = smpp.CommandStatus
ACCOUNT = dataclasses.replace(parse_account_option("900001:888888:10690001"), service_ids=("SVC1",))


async def start(tmp_path, *, modes: dict[str, str], clock=None, **policy_changes) -> Simulator:
    """A simulator with every rule off except those in ``modes``."""
    base = with_overrides(load_config(), cmpp_port=0, smpp_port=0, api_port=0, data_dir=tmp_path / "data",
                          accounts=[ACCOUNT])
    all_modes = {rule.name: "off" for rule in RULES} | modes
    policy = dataclasses.replace(base.policy, modes=MappingProxyType(all_modes), **policy_changes)
    simulator = Simulator(dataclasses.replace(base, policy=policy), clock or ScaledClock(20.0), with_api=False,
                          goodbye_seconds=0.2)
    await simulator.start()
    return simulator


async def smpp_client(simulator: Simulator) -> NetClient:
    client = await NetClient.smpp(simulator.endpoints.smpp)
    client.send(smpp.BindTransceiver(system_id="900001", password="888888", interface_version=0x34))
    (resp,) = await client.expect(smpp.BindTransceiverResp)
    assert resp.command_status == 0
    return client


async def cmpp_client(simulator: Simulator) -> NetClient:
    client = await NetClient.cmpp(simulator.endpoints.cmpp)
    client.send(cmpp_connect())
    (resp,) = await client.expect(cmpp.ConnectResp)
    assert resp.status == 0
    return client


GOOD_SMPP = {"source_addr": "10690001", "destination_addr": "13800138000", "service_type": "SVC1",
             "short_message": b"hello"}
GOOD_CMPP = {"src_id": "10690001", "msg_src": "900001", "service_id": "SVC1", "fee_type": "01",
             "dest_terminal_id": ("13800138000",), "msg_content": b"hello"}
AD = "【广告】限时抢购".encode("utf-16-be")
PROHIBITED = "see [TEST-PROHIBITED-3] now"

# rule: (SMPP PDU changes or None when SMPP cannot break it, SMPP status,
#        CMPP SUBMIT changes or None, CMPP Result)
CASES = {
    "caller_number": ({"source_addr": ""}, St.ESME_RINVSRCADR, {"src_id": ""}, 10),
    "service_code": ({"source_addr": "10699999"}, St.ESME_RINVSRCADR, {"src_id": "10699999"}, 10),
    "msg_src": (None, None, {"msg_src": "999999"}, 11),
    "service_id": ({"service_type": "OTHER"}, St.ESME_RINVSERTYP, {"service_id": "OTHER"}, 7),
    "fee": (None, None, {"fee_type": "02", "fee_code": "10"}, 5),
    "number_range": ({"destination_addr": "13000000000"}, St.ESME_RINVDSTADR,
                     {"dest_terminal_id": ("13000000000",)}, 13),
    "group_size": ("multi", St.ESME_RINVNUMDESTS, {"dest_terminal_id": ("13800000001", "13800000002", "13800000003")},
                   101),
    "subscribers": ({}, 0x401, {}, 102),
    # SMPP data_coding 0 is GSM 7-bit, where "[" is an escape pair; CMPP Msg_Fmt 0 is ASCII.
    "content": ({"short_message": text.encode_text(PROHIBITED, text.Encoding.GSM7)}, 0x402,
                {"msg_content": PROHIBITED.encode()}, 103),
    "advertising": ({"short_message": AD, "data_coding": 8}, 0x403, {"msg_content": AD, "msg_fmt": 8}, 104),
}


def test_every_rule_has_a_case():
    assert set(CASES) | {"bulk"} == {rule.name for rule in RULES}


def smpp_breach(changes) -> smpp.SmppPdu:
    if changes == "multi":
        return smpp.SubmitMulti(source_addr="10690001", service_type="SVC1", short_message=b"hi", dest_address=tuple(
            smpp.DestAddress(destination_addr=f"1380000000{n}") for n in range(3)))
    return smpp.SubmitSm(**(GOOD_SMPP | changes))


@pytest.mark.parametrize("rule", sorted(r for r, case in CASES.items() if case[0] is not None))
async def test_smpp_enforced_rule_answers_its_code_and_records_evidence(tmp_path, rule):
    changes, status, _, _ = CASES[rule]
    simulator = await start(tmp_path, modes={rule: "enforce"})
    try:
        client = await smpp_client(simulator)
        client.send(smpp_breach(changes))
        (resp,) = await client.expect(smpp.SmppPdu)
        assert resp.command_status == status
        client.send(smpp.SubmitSm(**GOOD_SMPP))  # a clean message still passes
        (ok,) = await client.expect(smpp.SubmitSmResp) if rule != "subscribers" else [None]
        if ok is not None:
            assert ok.command_status == 0
        await simulator.store.flush()
        violations = await simulator.store.violations(rule=rule)
        assert violations and violations[0]["mode"] == "enforce" and violations[0]["evidence"]
        assert "13800138000" not in str(violations)  # numbers are masked in the evidence
    finally:
        await simulator.stop()


@pytest.mark.parametrize("rule", sorted(r for r, case in CASES.items() if case[2] is not None))
async def test_cmpp_enforced_rule_answers_its_result(tmp_path, rule):
    _, _, changes, result = CASES[rule]
    simulator = await start(tmp_path, modes={rule: "enforce"})
    try:
        client = await cmpp_client(simulator)
        client.send(cmpp.Submit(**(GOOD_CMPP | changes)))
        (resp,) = await client.expect(cmpp.SubmitResp)
        assert (resp.result, resp.msg_id) == (result, 0)
        await simulator.store.flush()
        assert [v["rule"] for v in await simulator.store.violations()] == [rule]
    finally:
        await simulator.stop()


@pytest.mark.parametrize("rule", sorted(r for r, case in CASES.items() if case[2] is not None))
async def test_monitored_rule_lets_the_message_through_and_records_it(tmp_path, rule):
    _, _, changes, _ = CASES[rule]
    simulator = await start(tmp_path, modes={rule: "monitor"})
    try:
        client = await cmpp_client(simulator)
        client.send(cmpp.Submit(**(GOOD_CMPP | changes)))
        (resp,) = await client.expect(cmpp.SubmitResp)
        assert resp.result == 0
        await simulator.store.flush()
        (violation,) = await simulator.store.violations()
        assert (violation["rule"], violation["mode"]) == (rule, "monitor")
    finally:
        await simulator.stop()


async def test_bulk_restricts_the_same_content_to_many_recipients(tmp_path):
    simulator = await start(tmp_path, modes={"bulk": "enforce"}, bulk_recipients=2, bulk_window=60.0)
    try:
        client = await smpp_client(simulator)
        for number in ("13800000001", "13800000002", "13800000003"):
            client.send(smpp.SubmitSm(**(GOOD_SMPP | {"destination_addr": number})))
        statuses = [r.command_status for r in await client.expect(smpp.SubmitSmResp, count=3)]
        assert sorted(statuses) == [0, 0, St.ESME_RTHROTTLED]
        client.send(smpp.SubmitSm(**(GOOD_SMPP | {"short_message": b"other text"})))
        (other,) = await client.expect(smpp.SubmitSmResp)
        assert other.command_status == 0  # other content is not restricted
    finally:
        await simulator.stop()


async def test_registered_subscribers_pass_and_td_unsubscribes(tmp_path):
    simulator = await start(tmp_path, modes={"subscribers": "enforce"})
    try:
        assert simulator.gateway is not None
        await simulator.gateway.set_subscribers("900001", ["13800138000"], subscribed=True, origin="api")
        client = await smpp_client(simulator)
        client.send(smpp.SubmitSm(**GOOD_SMPP))
        (ok,) = await client.expect(smpp.SubmitSmResp)
        assert ok.command_status == 0
        await simulator.gateway.inject_mo("+8613800138000", "10690001", "TD")
        (mo,) = await client.expect(smpp.DeliverSm)
        assert mo.short_message == b"TD"  # the partner still sees the MO
        client.send(smpp.SubmitSm(**GOOD_SMPP))
        (refused,) = await client.expect(smpp.SubmitSmResp)
        assert refused.command_status == 0x401
        assert await simulator.store.subscribers() == []
    finally:
        await simulator.stop()


async def test_repeated_violations_suspend_the_account(tmp_path):
    simulator = await start(tmp_path, modes={"number_range": "enforce"}, suspend_after=3)
    try:
        client = await smpp_client(simulator)
        for _ in range(3):
            client.send(smpp.SubmitSm(**(GOOD_SMPP | {"destination_addr": "13000000000"})))
        await client.expect(smpp.SubmitSmResp, count=3)
        client.send(smpp.SubmitSm(**GOOD_SMPP))
        (suspended,) = await client.expect(smpp.SubmitSmResp)
        assert suspended.command_status == 0x404
        await simulator.store.flush()
        second = await NetClient.smpp(simulator.endpoints.smpp)
        second.send(smpp.BindTransmitter(system_id="900001", password="888888"))
        (bind,) = await second.expect(smpp.BindTransmitterResp)
        assert bind.command_status == St.ESME_RBINDFAIL
        assert [e["kind"] for e in await simulator.store.events(kind="account.suspended")] == ["account.suspended"]
    finally:
        await simulator.stop()


async def test_audit_retention_on_a_virtual_clock(tmp_path):
    clock = VirtualClock(start=1_780_000_000.0)
    simulator = await start(tmp_path, modes={}, clock=clock)
    try:
        assert simulator.store is not None
        simulator.store.record_event(clock.now(), "marker.old", "900001", {})
        await simulator.store.flush()
        for _ in range(40):  # day by day: the job runs at every midnight
            await clock.advance(86_400)
            await asyncio.sleep(0.01)  # the job's delete goes through the store's writer thread
        simulator.store.record_event(clock.now(), "marker.recent", "900001", {})
        assert await simulator.store.events(kind="marker.old")  # 40 days: still kept (>= 31, default 62)
        for _ in range(30):
            await clock.advance(86_400)
            await asyncio.sleep(0.01)
        await simulator.store.flush()
        assert await simulator.store.events(kind="marker.old") == []  # 70 days > 62: gone
        assert await simulator.store.events(kind="marker.recent")  # 30 days: kept
        runs = await simulator.store.events(kind="audit.retention")
        assert len(runs) >= 31  # every simulated midnight still inside the retention period
    finally:
        await simulator.stop()
