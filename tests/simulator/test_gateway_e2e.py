"""The simulated gateway over real TCP, driven by our own client sessions: what a partner sees on the wire,
and what the store recorded."""

from __future__ import annotations

import asyncio
import dataclasses

import pytest
from netclient import NetClient, cmpp_connect

from protocols import cmpp, smpp
from simulator.clock import ScaledClock
from simulator.config import load_config, parse_account_option, with_overrides
from simulator.server import Simulator

St = smpp.CommandStatus
SPEED = 20.0  # receipts due 1-3 simulated seconds after submit arrive within 0.15 s


@pytest.fixture
async def simulators(tmp_path):
    """Start simulators on free loopback ports (each stopped at the end if the test did not)."""
    started: list[Simulator] = []

    async def start(*accounts: str, data_dir=None, **changes) -> Simulator:
        config = with_overrides(load_config(), cmpp_port=0, smpp_port=0, api_port=0,
                                data_dir=data_dir or tmp_path / "data",
                                accounts=[parse_account_option(a) for a in accounts])
        if changes:
            config = dataclasses.replace(config, **changes)
        simulator = Simulator(config, ScaledClock(SPEED), with_api=False, goodbye_seconds=0.3)
        await simulator.start()
        started.append(simulator)
        return simulator

    yield start
    for simulator in started:
        await simulator.stop()


@pytest.fixture
async def sim(simulators):
    simulator = await simulators()
    yield simulator
    await simulator.stop()


async def bound_smpp(simulator: Simulator, system_id: str = "900001", password: str = "888888",
                     bind: type = smpp.BindTransceiver) -> NetClient:
    client = await NetClient.smpp(simulator.endpoints.smpp)
    client.send(bind(system_id=system_id, password=password, interface_version=0x34))
    (resp,) = await client.expect(smpp.SmppPdu)
    assert resp.command_status == St.ESME_ROK, resp
    return client


async def connected_cmpp(simulator: Simulator, version: cmpp.Version = cmpp.Version.V30) -> NetClient:
    client = await NetClient.cmpp(simulator.endpoints.cmpp, version)
    client.send(cmpp_connect(version=version.value))
    (resp,) = await client.expect(cmpp.ConnectResp)
    assert resp.status == 0
    return client


def submit_sm(**fields) -> smpp.SubmitSm:
    defaults = {"source_addr": "10690001", "destination_addr": "13800138000", "short_message": b"hello"}
    return smpp.SubmitSm(**{**defaults, **fields})


def cmpp_submit(**fields) -> cmpp.Submit:
    defaults = {"msg_src": "900001", "src_id": "10690001", "dest_terminal_id": ("13800138000",),
                "msg_content": b"hello"}
    return cmpp.Submit(**{**defaults, **fields})


# -- submit, receipt, record ----------------------------------------------------------------------------

async def test_smpp_submit_is_stored_before_its_response_and_the_receipt_follows(sim):
    client = await bound_smpp(sim)
    sent = client.send(submit_sm(registered_delivery=1, short_message=b"hello there"))
    (resp,) = await client.expect(smpp.SubmitSmResp)
    assert resp.sequence_number == sent.sequence_number and resp.command_status == 0
    (row,) = await sim.store.search_messages(message_id=resp.message_id)
    assert (row.destination, row.text, row.receipt_state) == ("13800138000", "hello there", "pending")
    (receipt,) = await client.expect(smpp.DeliverSm, timeout=5)
    parsed = smpp.parse_receipt(receipt.short_message)
    assert parsed.id == resp.message_id and parsed.stat == "DELIVRD" and receipt.esm_class == 0x04
    assert smpp.tlv_value(receipt.tlvs, "receipted_message_id") == resp.message_id
    assert smpp.tlv_value(receipt.tlvs, "message_state") == smpp.MessageState.DELIVERED
    for _ in range(50):
        (row,) = await sim.store.search_messages(message_id=resp.message_id)
        if row.receipt_state == "acked":
            break
        await asyncio.sleep(0.02)
    assert row.receipt_state == "acked"


async def test_no_receipt_unless_asked(sim):
    client = await bound_smpp(sim)
    client.send(submit_sm(registered_delivery=0))
    await client.expect(smpp.SubmitSmResp)
    await client.pump(0.3)  # 6 simulated seconds: past every receipt delay
    assert not [e for e in client.events if isinstance(e, smpp.DeliverSm)]


@pytest.mark.parametrize("version", [cmpp.Version.V20, cmpp.Version.V21, cmpp.Version.V30])
async def test_cmpp_group_send_gets_consecutive_msg_ids_and_reports(sim, version):
    client = await connected_cmpp(sim, version)
    client.send(cmpp_submit(registered_delivery=1, dest_terminal_id=("13800138000", "13900139000")))
    (resp,) = await client.expect(cmpp.SubmitResp)
    assert resp.result == 0
    rows = sorted(await sim.store.search_messages(account="900001"), key=lambda r: r.id)
    assert [int(r.message_id) for r in rows] == [resp.msg_id, resp.msg_id + 1]
    reports = [d.report for d in await client.expect(cmpp.Deliver, count=2)]
    assert {r.msg_id for r in reports} == {resp.msg_id, resp.msg_id + 1}
    assert {r.dest_terminal_id for r in reports} == {"13800138000", "13900139000"}
    assert all(r.stat == "DELIVRD" for r in reports)


async def test_long_message_is_reassembled_for_the_record(sim):
    client = await bound_smpp(sim)
    from protocols import text
    segments = text.split("长" * 100, text.Encoding.UCS2, reference=7)
    for segment in segments:
        client.send(submit_sm(esm_class=0x40, data_coding=8, short_message=segment.short_message))
    responses = await client.expect(smpp.SubmitSmResp, count=len(segments))
    assert len({r.message_id for r in responses}) == len(segments)  # each segment keeps its own id
    rows = sorted(await sim.store.search_messages(account="900001"), key=lambda r: r.id)
    assert [r.segment_number for r in rows] == list(range(1, len(segments) + 1))
    assert rows[-1].message_text == "长" * 100


# -- authentication --------------------------------------------------------------------------------------

@pytest.mark.parametrize(("system_id", "password", "status"), [
    ("900001", "wrong", St.ESME_RINVPASWD), ("nobody", "888888", St.ESME_RINVSYSID)])
async def test_smpp_bind_refusals(sim, system_id, password, status):
    client = await NetClient.smpp(sim.endpoints.smpp)
    client.send(smpp.BindTransmitter(system_id=system_id, password=password))
    (resp,) = await client.expect(smpp.BindTransmitterResp)
    assert resp.command_status == status


async def test_smpp_bind_limit_and_second_bind(simulators):
    limited = dataclasses.replace(parse_account_option("sp1:pw:1069"), max_connections=1)
    simulator = await simulators(accounts=(limited,))
    first = await bound_smpp(simulator, "sp1", "pw")
    # Our own client session refuses to bind twice, so the second bind goes out as raw bytes.
    first.send_raw(smpp.encode(smpp.BindTransceiver(sequence_number=50, system_id="sp1", password="pw")))
    (again,) = await first.read_raw(smpp)
    assert again.command_status == St.ESME_RALYBND
    second = await NetClient.smpp(simulator.endpoints.smpp)
    second.send(smpp.BindTransceiver(system_id="sp1", password="pw"))
    (resp,) = await second.expect(smpp.BindTransceiverResp)
    assert resp.command_status == St.ESME_RBINDFAIL
    first.reset()  # the partner vanishes: its slot is freed
    await asyncio.sleep(0.1)
    third = await bound_smpp(simulator, "sp1", "pw")
    third.send(submit_sm(source_addr="1069"))
    (ok,) = await third.expect(smpp.SubmitSmResp)
    assert ok.command_status == 0
    await simulator.stop()


@pytest.mark.parametrize(("connect", "status"), [
    (cmpp_connect(account="999999"), 2),
    (cmpp_connect(secret="wrong"), 3),
    (cmpp_connect(version=0x40), 4),
])
async def test_cmpp_connect_refusals(sim, connect, status):
    client = await NetClient.cmpp(sim.endpoints.cmpp, cmpp.Version.V30)
    client.send(connect)
    (resp,) = await client.expect(cmpp.ConnectResp)
    assert resp.status == status and resp.authenticator_ismg == bytes(16)
    await client.pump(0.5)
    assert client.closed_by_peer


async def test_cmpp_connection_limit_is_status_5(simulators):
    limited = dataclasses.replace(parse_account_option("900001:888888:10690001"), max_connections=1)
    simulator = await simulators(accounts=(limited,))
    first = await connected_cmpp(simulator)  # kept referenced: a collected client would close its socket
    second = await NetClient.cmpp(simulator.endpoints.cmpp)
    second.send(cmpp_connect())
    (resp,) = await second.expect(cmpp.ConnectResp)
    assert resp.status == 5
    await first.close()
    await simulator.stop()


async def test_cmpp_authenticator_ismg_is_the_spec_md5(sim):
    client = await NetClient.cmpp(sim.endpoints.cmpp, cmpp.Version.V20)
    connect = client.send(cmpp_connect(version=0x20))
    (resp,) = await client.expect(cmpp.ConnectResp)
    assert resp.authenticator_ismg == cmpp.authenticator_ismg(0, connect.authenticator_source, "888888",
                                                              cmpp.Version.V20)


# -- flow control -----------------------------------------------------------------------------------------

async def test_throttle_codes_once_the_rate_is_used(simulators):
    simulator = await simulators("900001:888888:10690001:2")
    smpp_client = await bound_smpp(simulator)
    for _ in range(3):
        smpp_client.send(submit_sm())
    statuses = sorted(r.command_status for r in await smpp_client.expect(smpp.SubmitSmResp, count=3))
    assert statuses == [0, 0, St.ESME_RTHROTTLED]
    await asyncio.sleep(1.5 / SPEED * 2)  # refilled
    cmpp_client = await connected_cmpp(simulator)
    for _ in range(3):
        cmpp_client.send(cmpp_submit())
    results = sorted(r.result for r in await cmpp_client.expect(cmpp.SubmitResp, count=3))
    assert results == [0, 0, 8]
    await simulator.stop()


async def test_window_overflow_is_msgqful(simulators):
    account = dataclasses.replace(parse_account_option("900001:888888:10690001"), window=1)
    simulator = await simulators(accounts=(account,))
    client = await bound_smpp(simulator)
    # Three submits in one segment: the second and third arrive while the first awaits its commit.
    client.send_raw(b"".join(smpp.encode(submit_sm(sequence_number=n)) for n in (101, 102, 103)))
    statuses = {r.sequence_number: r.command_status for r in await client.read_raw(smpp, count=3)}
    assert statuses[101] == 0
    assert St.ESME_RMSGQFUL in statuses.values()
    await simulator.stop()


async def test_sequence_numbers_are_echoed_exactly(sim):
    client = await bound_smpp(sim)
    client.send_raw(smpp.encode(submit_sm(sequence_number=0x7FFFFFFF)))
    (resp,) = await client.read_raw(smpp)
    assert resp.sequence_number == 0x7FFFFFFF


# -- keep-alive, vanishing partners, shutdown, restart -----------------------------------------------------

async def test_silent_partner_is_disconnected_after_unanswered_enquire_links(simulators):
    base = load_config()
    quick = dataclasses.replace(base.smpp, enquire_link_interval=2.0, response_timeout=2.0, keepalive_attempts=2)
    simulator = await simulators(smpp=dataclasses.replace(quick, listener=dataclasses.replace(quick.listener, port=0)))
    client = await bound_smpp(simulator)
    # From here on the client reads but never answers: the probes go unanswered.
    probes = 0
    while not client.closed_by_peer:
        data = await asyncio.wait_for(client.reader.read(65536), 2.0)
        if not data:
            break
        probes += sum(1 for f in smpp.frame_buffer().feed(data) if smpp.decode(f).command_name == "enquire_link")
    assert probes == 2
    await simulator.stop()


async def test_stop_unbinds_partners_and_keeps_every_acknowledged_message(simulators, tmp_path):
    simulator = await simulators()
    client = await bound_smpp(simulator)
    for n in range(20):
        client.send(submit_sm(registered_delivery=1, short_message=f"m{n}".encode()))
    responses = await client.expect(smpp.SubmitSmResp, count=20)
    # Pipelined past the account's window of 16, some are refused (ESME_RMSGQFUL): only the others count.
    acknowledged = {r.message_id for r in responses if r.command_status == St.ESME_ROK}
    assert len(acknowledged) >= 16
    client.auto_answer = False
    await simulator.stop()
    await client.pump(1.0)
    assert [type(e) for e in client.events if isinstance(e, smpp.Unbind)] == [smpp.Unbind]
    restarted = await simulators(data_dir=simulator.config.data_dir)
    stored = {row.message_id for row in await restarted.store.search_messages(limit=1000)}
    assert acknowledged <= stored
    await restarted.stop()


async def test_pending_receipts_survive_a_restart(simulators):
    simulator = await simulators()
    client = await bound_smpp(simulator)
    client.send(submit_sm(registered_delivery=1))
    (resp,) = await client.expect(smpp.SubmitSmResp)
    await simulator.stop()  # before the receipt was due
    assert not [e for e in client.events if isinstance(e, smpp.DeliverSm)]
    restarted = await simulators(data_dir=simulator.config.data_dir)
    again = await bound_smpp(restarted)
    (receipt,) = await again.expect(smpp.DeliverSm, timeout=5)
    assert smpp.parse_receipt(receipt.short_message).id == resp.message_id
    second = await bound_smpp(restarted)
    second.send(submit_sm())
    (new,) = await second.expect(smpp.SubmitSmResp)
    assert new.message_id != resp.message_id  # ids continue after the restart
    await restarted.stop()


async def test_unacknowledged_receipt_is_retried(simulators):
    base = load_config()
    profile = dataclasses.replace(base.dlr_profiles["default"], retry_interval=2.0)
    simulator = await simulators(dlr_profiles={**base.dlr_profiles, "default": profile})
    client = await bound_smpp(simulator)
    client.auto_answer = False
    client.send(submit_sm(registered_delivery=1))
    (resp,) = await client.expect(smpp.SubmitSmResp)
    first, second = await client.expect(smpp.DeliverSm, count=2, timeout=5)
    assert smpp.parse_receipt(first.short_message).id == smpp.parse_receipt(second.short_message).id == resp.message_id
    await simulator.stop()


async def test_receipts_outstanding_follow_the_account_window(simulators):
    # Clause 2.2's window holds both ways: as many unacknowledged receipts as the partner may have submits.
    account = dataclasses.replace(parse_account_option("900001:888888:10690001"), window=20)
    simulator = await simulators(accounts=(account,))
    client = await bound_smpp(simulator)
    client.auto_answer = False
    for _ in range(2):
        for _ in range(15):
            client.send(submit_sm(registered_delivery=1))
        await client.expect(smpp.SubmitSmResp, count=15)
    await client.pump(0.4)  # 8 simulated seconds: every receipt is due, none is retried yet
    receipts = [event for event in client.events if isinstance(event, smpp.DeliverSm)]
    assert len(receipts) == 20
    client.send(receipts[0].response())  # one acknowledged: exactly one more may come
    await client.pump(0.3)
    assert len([event for event in client.events if isinstance(event, smpp.DeliverSm)]) == 21
    await simulator.stop()


async def test_a_partner_that_never_acknowledges_does_not_hold_back_anothers_receipts(simulators):
    stuck, other = (dataclasses.replace(parse_account_option(f"90000{n}:888888:1069000{n}"), window=2) for n in (1, 2))
    simulator = await simulators(accounts=(stuck, other))
    silent = await bound_smpp(simulator, system_id="900001")
    silent.auto_answer = False
    for _ in range(4):  # 8 receipts due to a session that takes 2 and answers none
        for _ in range(2):
            silent.send(submit_sm(registered_delivery=1))
        await silent.expect(smpp.SubmitSmResp, count=2)
    await silent.pump(0.3)  # 6 simulated seconds: all 8 due, 2 sent, 6 waiting for room that never comes
    client = await bound_smpp(simulator, system_id="900002")
    client.send(submit_sm(registered_delivery=1, source_addr="10690002"))
    (resp,) = await client.expect(smpp.SubmitSmResp)
    (receipt,) = await client.expect(smpp.DeliverSm, timeout=2)  # 40 simulated seconds at most
    assert smpp.parse_receipt(receipt.short_message).id == resp.message_id
    await simulator.stop()


# -- MO, query, cancel, replace -----------------------------------------------------------------------------

async def test_mo_is_routed_to_the_owner_of_the_service_code(sim):
    smpp_client = await bound_smpp(sim, bind=smpp.BindReceiver)
    await sim.gateway.inject_mo("13800138000", "1069000123", "TD")
    (mo,) = await smpp_client.expect(smpp.DeliverSm)
    assert (mo.source_addr, mo.destination_addr, mo.short_message, mo.esm_class) == (
        "13800138000", "1069000123", b"TD", 0)


async def test_long_ucs2_mo_is_split_as_a_handset_does(sim):
    client = await connected_cmpp(sim)
    await sim.gateway.inject_mo("13800138000", "10690001", "你好" * 50)
    delivers = await client.expect(cmpp.Deliver, count=2)
    from protocols import text
    assembler = text.Reassembler()
    message = None
    for deliver in delivers:
        assert deliver.registered_delivery == 0 and deliver.msg_fmt == 8 and deliver.tp_udhi == 1
        message = assembler.add(key=1, short_message=deliver.msg_content, udhi=True,
                                encoding=text.Encoding.UCS2, now=0) or message
    assert message is not None and message.text == "你好" * 50


async def test_query_cancel_replace_on_stored_messages(sim):
    client = await bound_smpp(sim)
    client.send(submit_sm(registered_delivery=0))
    (resp,) = await client.expect(smpp.SubmitSmResp)
    client.send(smpp.QuerySm(message_id=resp.message_id, source_addr="10690001"))
    (query,) = await client.expect(smpp.QuerySmResp)
    assert query.message_state == smpp.MessageState.ENROUTE
    client.send(smpp.ReplaceSm(message_id=resp.message_id, source_addr="10690001", short_message=b"new"))
    (replaced,) = await client.expect(smpp.ReplaceSmResp)
    assert replaced.command_status == 0
    client.send(smpp.CancelSm(message_id=resp.message_id, source_addr="10690001"))
    (cancelled,) = await client.expect(smpp.CancelSmResp)
    assert cancelled.command_status == 0
    client.send(smpp.CancelSm(message_id=resp.message_id, source_addr="10690001"))
    (again,) = await client.expect(smpp.CancelSmResp)
    assert again.command_status == St.ESME_RCANCELFAIL
    client.send(smpp.QuerySm(message_id=resp.message_id, source_addr="10690001"))
    (final,) = await client.expect(smpp.QuerySmResp)
    assert final.message_state == smpp.MessageState.DELETED
    client.send(smpp.QuerySm(message_id="ffffff", source_addr="10690001"))
    (unknown,) = await client.expect(smpp.QuerySmResp)
    assert unknown.command_status == St.ESME_RQUERYFAIL


async def test_cmpp_query_counts_the_day(sim):
    client = await connected_cmpp(sim)
    client.send(cmpp_submit(dest_terminal_id=("13800138000", "13900139000")))
    await client.expect(cmpp.SubmitResp)
    from datetime import datetime
    day = datetime.fromtimestamp(sim.clock.now(), sim.gateway.zone).strftime("%Y%m%d")
    client.send(cmpp.Query(time=day, query_type=0))
    (resp,) = await client.expect(cmpp.QueryResp)
    assert (resp.mt_tlmsg, resp.mt_tlusr) == (2, 2)


async def test_secrets_never_reach_logs_or_the_audit_and_pdus_are_counted(tmp_path):
    import io

    from simulator.observe import EventLog

    stream = io.StringIO()
    secret, wrong = "Zq9xKw7p", "Wr0ngPw8"
    config = with_overrides(load_config(), cmpp_port=0, smpp_port=0, api_port=0, data_dir=tmp_path,
                            accounts=[parse_account_option(f"900009:{secret}:10690009")])
    log = EventLog(stream, level=10)  # DEBUG: per-message events too
    simulator = Simulator(config, ScaledClock(SPEED), with_api=False, goodbye_seconds=0.2, events=log)
    await simulator.start()
    try:
        for password in (wrong, secret):
            client = await NetClient.smpp(simulator.endpoints.smpp)
            client.send(smpp.BindTransceiver(system_id="900009", password=password))
            await client.expect(smpp.BindTransceiverResp)
        client.send(submit_sm(source_addr="10690009"))
        await client.expect(smpp.SubmitSmResp)
        cmpp_client = await NetClient.cmpp(simulator.endpoints.cmpp)
        cmpp_client.send(cmpp_connect(account="900009", secret=wrong))
        await cmpp_client.expect(cmpp.ConnectResp)
        await simulator.store.flush()
        audit = str(await simulator.store.events(limit=1000))
        assert "session.refused" in stream.getvalue() and "submit.accepted" in stream.getvalue()
        for text in (stream.getvalue(), audit):
            assert secret not in text and wrong not in text
        exposed = simulator.metrics.registry.get_sample_value(
            "smsclab_pdus_total", {"protocol": "smpp", "direction": "in", "command": "submit_sm", "status": "0"})
        assert exposed == 1
        answered = simulator.metrics.registry.get_sample_value(
            "smsclab_pdus_total", {"protocol": "smpp", "direction": "out", "command": "bind_transceiver_resp",
                                   "status": str(int(St.ESME_RINVPASWD))})
        assert answered == 1
    finally:
        log.attach(None)
        await simulator.stop()


async def test_nothing_is_acknowledged_when_the_store_cannot_commit(sim, monkeypatch):
    """reliability.md D4: a commit that fails is never answered OK (SMPP ESME_RSYSERR, CMPP vendor Result 100)."""
    from simulator.store import StoreError

    def failing_insert(rows):
        future = asyncio.get_running_loop().create_future()
        future.set_exception(StoreError("commit failed: disk I/O error"))
        return future

    monkeypatch.setattr(sim.store, "insert_messages", failing_insert)
    smpp_client = await bound_smpp(sim)
    smpp_client.send(submit_sm())
    (resp,) = await smpp_client.expect(smpp.SubmitSmResp)
    assert resp.command_status == St.ESME_RSYSERR
    cmpp_client = await connected_cmpp(sim)
    cmpp_client.send(cmpp_submit())
    (result,) = await cmpp_client.expect(cmpp.SubmitResp)
    assert (result.result, result.msg_id) == (100, 0)
    monkeypatch.undo()
    assert await sim.store.search_messages() == []
