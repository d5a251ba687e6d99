"""The simulator embedded in an application or a test suite that runs on uvloop, not on asyncio's own loop: its
listeners must take that loop's transports (uvloop's are not asyncio.Transport subclasses, only alike)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aiohttp
import uvloop
from netclient import NetClient, cmpp_connect

from protocols import cmpp, smpp
from simulator.clock import ScaledClock
from simulator.config import load_config, with_overrides
from simulator.server import Simulator


async def submit_over_both_protocols(data_dir: Path) -> tuple[list[Any], list[Any], int, dict[str, Any]]:
    config = with_overrides(load_config(), cmpp_port=0, smpp_port=0, api_port=0, data_dir=data_dir)
    simulator = Simulator(config, ScaledClock(20.0), goodbye_seconds=0.3)
    await simulator.start()
    try:
        esme = await NetClient.smpp(simulator.endpoints.smpp)
        esme.send(smpp.BindTransceiver(system_id="900001", password="888888", interface_version=0x34))
        smpp_answers = await esme.expect(smpp.BindTransceiverResp)
        esme.send(smpp.SubmitSm(source_addr="10690001", destination_addr="13800138000", short_message=b"hello",
                                registered_delivery=1))
        smpp_answers += [*await esme.expect(smpp.SubmitSmResp), *await esme.expect(smpp.DeliverSm)]
        sp = await NetClient.cmpp(simulator.endpoints.cmpp)
        sp.send(cmpp_connect())
        cmpp_answers = await sp.expect(cmpp.ConnectResp)
        sp.send(cmpp.Submit(msg_src="900001", src_id="10690001", dest_terminal_id=("13800138000",),
                            msg_content=b"hello"))
        cmpp_answers += await sp.expect(cmpp.SubmitResp)
        stored = len(await simulator.store.search_messages(account="900001"))
        assert simulator.endpoints.api is not None
        host, port = simulator.endpoints.api
        async with aiohttp.ClientSession() as http, http.get(f"http://{host}:{port}/accounts/900001") as response:
            account = await response.json()
    finally:
        await simulator.stop()
    return smpp_answers, cmpp_answers, stored, account


def test_the_simulator_serves_both_protocols_and_its_api_on_uvloop(tmp_path: Path) -> None:
    smpp_answers, cmpp_answers, stored, account = uvloop.run(submit_over_both_protocols(tmp_path / "data"))
    bound, accepted, receipt = smpp_answers
    assert bound.command_status == smpp.CommandStatus.ESME_ROK
    assert accepted.command_status == smpp.CommandStatus.ESME_ROK
    assert smpp.parse_receipt(receipt.short_message).id == accepted.message_id
    connected, submitted = cmpp_answers
    assert connected.status == 0 and submitted.result == 0
    assert stored == 2
    assert account["id"] == "900001"
