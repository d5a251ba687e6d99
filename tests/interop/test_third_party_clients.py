"""Interop: unmodified third-party SMPP and CMPP clients against the running simulator, over real TCP.

Each test drives one library (python-smpplib, aiosmpplib, smpp34, pycmpp) through its public API against the
simulator of ``conftest.py`` on 127.0.0.1, and checks both sides: what the client saw (responses, the
delivery receipt and its ids, the refusal codes) and what the simulator's store recorded (the message, its
id, the receipt's fate, the refusal in the audit table). Where a library cannot do something, a comment
says so and the test checks what it can; the two places that touch a private attribute say why.

The simulator runs in a thread of its own, so the blocking clients run straight on the test's thread:
python-smpplib starts no thread here at all (``read_once`` is called in a bounded loop), and pycmpp's
receive loop, which has no way to stop, runs on a socket that ends it on demand (see
:class:`_StoppableSocket`) and is joined before the test ends.

Receipts come from the embedded default's ``default`` DLR profile: 1-3 s after the submit, DELIVRD.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import hashlib
import queue
import re
import socket
import struct
import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import aiosmpplib
import pytest
import smpp34
import smpplib.client
import smpplib.consts
import smpplib.exceptions
import smpplib.gsm
import smpplib.smpp
from aiosmpplib.broker import SimpleBroker
from aiosmpplib.state import RECEIPTED_MESSAGE_ID
from pycmpp import Cmpp
from pycmpp import handlers as pycmpp_handlers
from pycmpp.cmpp_defines import CMPP_DELIVER_REQ, CMPP_DELIVER_RESP, CMPP_VERSION
from pycmpp.request import ConnectRequestInstance, SubmitRequestInstance
from pycmpp.response import ConnectResponseInstance, SubmitResponseInstance

from simulator.config import parse_account_option

ACCOUNT = "900001"
SECRET = "888888"
SERVICE_CODE = "10690001"
HANDSET = "13800138000"
SMSC_SYSTEM_ID = "smsclab"  # [smpp] system_id of the embedded default
ZONE = ZoneInfo("Asia/Shanghai")  # [gateway] timezone of the embedded default: receipt dates, Msg_Ids
RECEIPT_WAIT = 8.0  # receipts follow 1-3 s after the submit

#: SMPP v3.4 Appendix B receipt text (the simulator writes "text:" in lower case, as most SMSCs do).
RECEIPT_TEXT = re.compile(r"id:(?P<id>\S+) sub:(?P<sub>\d{3}) dlvrd:(?P<dlvrd>\d{3}) submit date:(?P<submit>\d{10}) "
                          r"done date:(?P<done>\d{10}) stat:(?P<stat>[A-Z]{7}) err:(?P<err>\d{3}) text:(?P<text>.*)",
                          re.IGNORECASE | re.DOTALL)
ESM_CLASS_TYPE = 0x3C  # esm_class bits 5-2: message type; 0x04 is an SMSC delivery receipt (v3.4 §5.2.12)
MESSAGE_STATE_DELIVERED = 2  # v3.4 §5.2.28


def receipt_dates(row) -> tuple[str, str]:
    """The submit and done dates a receipt for ``row`` must carry (YYMMDDhhmm in the gateway's zone)."""
    return (datetime.fromtimestamp(row.submitted_at, ZONE).strftime("%y%m%d%H%M"),
            datetime.fromtimestamp(row.done_at, ZONE).strftime("%y%m%d%H%M"))


def acked(count: int = 1) -> Callable[[list[Any]], bool]:
    return lambda rows: len(rows) == count and all(row.receipt_state == "acked" for row in rows)


def account(option: str, **changes: Any):
    """An account from the ``--account ID:SECRET:SERVICE_CODE[:RATE]`` form, with other fields changed."""
    return dataclasses.replace(parse_account_option(option), **changes)


# ---------------------------------------------------------------------------------------------------------
# python-smpplib (blocking; no thread: read_once is called in bounded loops on the test's thread)
# ---------------------------------------------------------------------------------------------------------

_BOUND_STATES = (smpplib.consts.SMPP_CLIENT_STATE_BOUND_TX, smpplib.consts.SMPP_CLIENT_STATE_BOUND_RX,
                 smpplib.consts.SMPP_CLIENT_STATE_BOUND_TRX)


@contextlib.contextmanager
def smpplib_client(address: tuple[str, int]) -> Iterator[smpplib.client.Client]:
    """A connected smpplib client, unbound (when bound) and disconnected on the way out.

    The socket timeout bounds every blocking read; strict parsing (``allow_unknown_opt_params=False``)
    makes any TLV smpplib does not know fail the test instead of passing unnoticed.
    """
    client = smpplib.client.Client(*address, timeout=2, allow_unknown_opt_params=False)
    client.connect()
    try:
        yield client
    finally:
        try:
            if client.state in _BOUND_STATES:
                client.unbind()
        except (smpplib.exceptions.PDUError, smpplib.exceptions.ConnectionError, TimeoutError):
            pass
        finally:
            client.disconnect()


def read_until(client: smpplib.client.Client, done: Callable[[], bool], timeout: float) -> None:
    """Let smpplib read and dispatch PDUs (its handlers, its automatic deliver_sm_resp) until ``done()``."""
    deadline = time.monotonic() + timeout
    while not done():
        assert time.monotonic() < deadline, "smpplib did not receive what was expected in time"
        client.read_once()  # returns after one PDU, or after the 2 s socket timeout (sending enquire_link)


def collect(into: list[Any]) -> Callable[..., None]:
    """An smpplib handler that keeps the PDU (smpplib calls its handlers with ``pdu=`` as a keyword)."""

    def handler(pdu: Any, **_: Any) -> None:
        into.append(pdu)

    return handler


def bind_error(client: smpplib.client.Client, **bind: str) -> int:
    with pytest.raises(smpplib.exceptions.PDUError) as refused:
        client.bind_transceiver(**bind)
    return int(refused.value.args[1])


def test_smpplib_transceiver_gets_the_receipt_of_its_submit(simulator) -> None:
    sent: list[Any] = []
    receipts: list[Any] = []
    with smpplib_client(simulator.smpp) as client:
        client.set_message_sent_handler(collect(sent))
        # The handler returns None, so smpplib answers the deliver_sm with ESME_ROK by itself.
        client.set_message_received_handler(collect(receipts))
        bound = client.bind_transceiver(system_id=ACCOUNT, password=SECRET)
        assert bound.system_id == SMSC_SYSTEM_ID.encode()
        assert bound.sc_interface_version == 0x34
        client.send_message(source_addr=SERVICE_CODE, destination_addr=HANDSET, short_message=b"interop smpplib",
                            registered_delivery=1)
        read_until(client, lambda: bool(receipts), RECEIPT_WAIT)

    [response] = sent
    assert response.status == smpplib.consts.SMPP_ESME_ROK
    message_id = response.message_id.decode("ascii")
    [receipt] = receipts
    assert receipt.esm_class & ESM_CLASS_TYPE == 0x04
    assert (receipt.source_addr, receipt.destination_addr) == (HANDSET.encode(), SERVICE_CODE.encode())
    assert receipt.receipted_message_id == message_id.encode()
    assert receipt.message_state == MESSAGE_STATE_DELIVERED
    fields = RECEIPT_TEXT.fullmatch(receipt.short_message.decode("ascii"))
    assert fields is not None, receipt.short_message
    assert (fields["id"], fields["sub"], fields["dlvrd"], fields["stat"], fields["err"]) == \
        (message_id, "001", "001", "DELIVRD", "000")
    assert fields["text"] == "interop smpplib"

    [row] = simulator.wait_for_messages(acked())
    assert (row.message_id, row.protocol, row.source, row.destination, row.text) == \
        (message_id, "smpp", SERVICE_CODE, HANDSET, "interop smpplib")
    assert (row.registered_delivery, row.state, row.receipt_attempts) == (1, "DELIVRD", 1)
    assert (fields["submit"], fields["done"]) == receipt_dates(row)


LONG_GSM = ("The simulator reassembles concatenated messages: this text is longer than one GSM 7-bit segment, "
            "so python-smpplib splits it into parts of 153 characters, each behind a six-octet user data "
            "header with the same reference, and the last part completes it in the store. " * 2).strip()
LONG_UCS2 = "长短信互通测试：第三方客户端按用户数据头拆分，模拟网关在最后一段到达时把全文拼回存储。" * 4


@pytest.mark.parametrize(("text", "data_coding"), [(LONG_GSM, 0x00), (LONG_UCS2, 0x08)], ids=["gsm7", "ucs2"])
def test_smpplib_long_message_is_reassembled_in_the_store(simulator, text: str, data_coding: int) -> None:
    parts, encoding, esm_class = smpplib.gsm.make_parts(text)
    assert (encoding, esm_class) == (data_coding, smpplib.consts.SMPP_GSMFEAT_UDHI)
    assert len(parts) >= 3
    reference = parts[0][3]  # 05 00 03 <ref> <total> <number>
    sent: list[Any] = []
    with smpplib_client(simulator.smpp) as client:
        client.set_message_sent_handler(collect(sent))
        client.bind_transmitter(system_id=ACCOUNT, password=SECRET)
        for part in parts:
            client.send_message(source_addr=SERVICE_CODE, destination_addr=HANDSET, short_message=part,
                                data_coding=encoding, esm_class=esm_class)
        read_until(client, lambda: len(sent) == len(parts), 5.0)

    assert all(response.status == smpplib.consts.SMPP_ESME_ROK for response in sent)
    message_ids = [response.message_id.decode("ascii") for response in sent]
    assert len(set(message_ids)) == len(parts)
    rows = simulator.wait_for_messages(lambda rows: len(rows) == len(parts))
    assert [row.message_id for row in rows] == message_ids
    assert [(row.segment_ref, row.segment_total, row.segment_number) for row in rows] == \
        [(reference, len(parts), number) for number in range(1, len(parts) + 1)]
    assert {row.data_coding for row in rows} == {data_coding}
    assert "".join(row.text for row in rows) == text  # each row's segment text, UDH excluded
    assert [row.message_text for row in rows] == [None] * (len(parts) - 1) + [text]
    assert {row.receipt_state for row in rows} == {"none"}  # registered_delivery 0


@pytest.mark.parametrize(("system_id", "password", "status"), [
    ("999999", SECRET, smpplib.consts.SMPP_ESME_RINVSYSID),
    (ACCOUNT, "wrong", smpplib.consts.SMPP_ESME_RINVPASWD),
], ids=["unknown-system-id", "wrong-password"])
def test_smpplib_bind_refused(simulator, system_id: str, password: str, status: int) -> None:
    with smpplib_client(simulator.smpp) as client:
        assert bind_error(client, system_id=system_id, password=password) == status
        # The refusal leaves the connection open and unbound: a correct bind on it then succeeds.
        assert client.state == smpplib.consts.SMPP_CLIENT_STATE_OPEN
        client.bind_transceiver(system_id=ACCOUNT, password=SECRET)
    assert [event["status"] for event in simulator.refusals("smpp")] == [f"0x{status:08x}"]


def test_smpplib_bind_limit_and_second_bind(start_simulator) -> None:
    simulator = start_simulator([account(f"{ACCOUNT}:{SECRET}:{SERVICE_CODE}", max_connections=1)])
    with smpplib_client(simulator.smpp) as first:
        first.bind_transceiver(system_id=ACCOUNT, password=SECRET)
        with smpplib_client(simulator.smpp) as second:
            assert bind_error(second, system_id=ACCOUNT, password=SECRET) == smpplib.consts.SMPP_ESME_RBINDFAIL

        # A second bind on a bound session: smpplib refuses to send it from a bound state (its own state table),
        # so the test steps its public ``state`` back to OPEN for this one request and then restores it.
        first.state = smpplib.consts.SMPP_CLIENT_STATE_OPEN
        assert bind_error(first, system_id=ACCOUNT, password=SECRET) == smpplib.consts.SMPP_ESME_RALYBND
        first.state = smpplib.consts.SMPP_CLIENT_STATE_BOUND_TRX
        sent: list[Any] = []
        first.set_message_sent_handler(collect(sent))
        first.send_message(source_addr=SERVICE_CODE, destination_addr=HANDSET, short_message=b"still bound")
        read_until(first, lambda: bool(sent), 5.0)
        assert sent[0].status == smpplib.consts.SMPP_ESME_ROK

    # Once the first session is gone its slot is free again.
    wait_detached(simulator, ACCOUNT)
    with smpplib_client(simulator.smpp) as third:
        third.bind_transceiver(system_id=ACCOUNT, password=SECRET)
    assert [row.text for row in simulator.messages()] == ["still bound"]


def wait_detached(simulator, account_id: str, timeout: float = 3.0) -> None:
    async def connections() -> int:
        assert simulator.simulator.gateway is not None
        return simulator.simulator.gateway.connections(account_id)

    deadline = time.monotonic() + timeout
    while simulator.call(connections()) > 0:
        assert time.monotonic() < deadline, "the closed session still holds its connection slot"
        time.sleep(0.02)


def test_smpplib_throttled_at_one_message_per_second(start_simulator) -> None:
    simulator = start_simulator([account(f"{ACCOUNT}:{SECRET}:{SERVICE_CODE}:1")])
    sent: list[Any] = []
    with smpplib_client(simulator.smpp) as client:
        client.set_message_sent_handler(collect(sent))
        client.bind_transmitter(system_id=ACCOUNT, password=SECRET)
        client.send_message(source_addr=SERVICE_CODE, destination_addr=HANDSET, short_message=b"first")
        read_until(client, lambda: len(sent) == 1, 5.0)
        client.send_message(source_addr=SERVICE_CODE, destination_addr=HANDSET, short_message=b"too soon")
        with pytest.raises(smpplib.exceptions.PDUError) as throttled:
            client.read_once()  # smpplib's default error handler raises on the error submit_sm_resp
        assert throttled.value.args[1] == smpplib.consts.SMPP_ESME_RTHROTTLED
        time.sleep(1.1)  # the bucket refills at one token per second
        client.send_message(source_addr=SERVICE_CODE, destination_addr=HANDSET, short_message=b"later")
        read_until(client, lambda: len(sent) == 2, 5.0)
    assert [response.status for response in sent] == [smpplib.consts.SMPP_ESME_ROK] * 2
    assert [row.text for row in simulator.messages()] == ["first", "later"]


def test_smpplib_window_overflow(start_simulator) -> None:
    simulator = start_simulator([account(f"{ACCOUNT}:{SECRET}:{SERVICE_CODE}", window=1)])
    with smpplib_client(simulator.smpp) as client:
        client.bind_transmitter(system_id=ACCOUNT, password=SECRET)
        submits = [smpplib.smpp.make_pdu("submit_sm", client=client, source_addr=SERVICE_CODE,
                                         destination_addr=HANDSET, short_message=f"window {n}".encode())
                   for n in range(3)]
        # One write, so that the three arrive in the same read and the outcome cannot depend on timing:
        # smpplib's send_pdu writes each PDU on its own, and has no public batch send.
        client._socket.sendall(b"".join(pdu.generate() for pdu in submits))
        responses = {}
        while len(responses) < len(submits):
            response = client.read_pdu()
            assert response.command == "submit_sm_resp"
            responses[response.sequence] = response
    statuses = [responses[pdu.sequence].status for pdu in submits]
    assert statuses == [smpplib.consts.SMPP_ESME_ROK] + [smpplib.consts.SMPP_ESME_RMSGQFUL] * 2
    [row] = simulator.messages()
    assert (row.message_id, row.text) == (responses[submits[0].sequence].message_id.decode(), "window 0")


# ---------------------------------------------------------------------------------------------------------
# aiosmpplib (asyncio ESME: messages go in through its broker, everything received comes out through its hook)
# ---------------------------------------------------------------------------------------------------------


class RecordingHook(aiosmpplib.AbstractHook):
    """aiosmpplib's documented extension point for seeing what is received (already correlated)."""

    def __init__(self) -> None:
        self.received_messages: list[Any] = []
        self.errors: list[tuple[Any, Exception]] = []
        self._arrived = asyncio.Event()

    async def sending(self, smpp_message, pdu: bytes, client_id: str) -> None:
        pass

    async def received(self, smpp_message, pdu: bytes, client_id: str) -> None:
        if smpp_message is not None:
            self.received_messages.append(smpp_message)
            self._arrived.set()

    async def send_error(self, smpp_message, error: Exception, client_id: str) -> None:
        self.errors.append((smpp_message, error))

    async def wait_for(self, match: Callable[[Any], bool], timeout: float) -> Any:
        async with asyncio.timeout(timeout):
            while True:
                found = next((message for message in self.received_messages if match(message)), None)
                if found is not None:
                    return found
                self._arrived.clear()
                await self._arrived.wait()


async def stop_esme(esme: aiosmpplib.ESME, runner: asyncio.Task[None]) -> bool:
    """Stop the ESME and its ``start()`` task; True when it ended by itself (unbind, then close)."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(esme.stop(), 5.0)
    done, _ = await asyncio.wait({runner}, timeout=5.0)
    if not done:
        runner.cancel()
    await asyncio.gather(runner, return_exceptions=True)
    return bool(done)


async def test_aiosmpplib_submit_and_receipt_through_hook_and_broker(simulator) -> None:
    hook, broker = RecordingHook(), SimpleBroker()
    esme = aiosmpplib.ESME(*simulator.smpp, ACCOUNT, SECRET, hook=hook, broker=broker, socket_timeout=5.0,
                           log_level="ERROR")
    runner = asyncio.create_task(esme.start())
    try:
        await broker.enqueue(aiosmpplib.SubmitSm(
            short_message="interop aiosmpplib", source=aiosmpplib.PhoneNumber(SERVICE_CODE),
            destination=aiosmpplib.PhoneNumber(HANDSET), registered_delivery=1, log_id="interop-1",
            extra_data="kept"))
        response = await hook.wait_for(lambda m: type(m) is aiosmpplib.SubmitSmResp, 5.0)
        receipt = await hook.wait_for(lambda m: isinstance(m, aiosmpplib.DeliverSm) and m.is_receipt(),
                                      RECEIPT_WAIT)
    finally:
        assert await stop_esme(esme, runner), "aiosmpplib did not stop by itself"
    assert hook.errors == []

    assert response.command_status == aiosmpplib.SmppCommandStatus.ESME_ROK
    assert response.log_id == "interop-1"  # aiosmpplib correlated the response by sequence number
    message_id = response.message_id
    fields = receipt.parse_receipt()
    assert (fields["id"], fields["stat"], fields["err"], fields["text"]) == \
        (message_id, "DELIVRD", 0, "interop aiosmpplib")
    # aiosmpplib correlates the receipt to the submit by the receipt's id: the simulator used its own id.
    assert (receipt.log_id, receipt.extra_data) == ("interop-1", "kept")
    assert [param.value for param in receipt.optional_params if param.tag == RECEIPTED_MESSAGE_ID] == [message_id]
    assert (receipt.source.number, receipt.destination.number) == (HANDSET, SERVICE_CODE)

    [row] = await simulator.await_messages(acked())
    assert (row.message_id, row.source, row.destination, row.text, row.registered_delivery) == \
        (message_id, SERVICE_CODE, HANDSET, "interop aiosmpplib", 1)
    assert (fields["submit date"].strftime("%y%m%d%H%M"), fields["done date"].strftime("%y%m%d%H%M")) == \
        receipt_dates(row)


async def test_aiosmpplib_bind_refused(simulator) -> None:
    esme = aiosmpplib.ESME(*simulator.smpp, ACCOUNT, "wrong", socket_timeout=5.0, log_level="CRITICAL")
    # aiosmpplib 0.7.4 cannot surface the code: BindTransceiverResp.from_pdu looks for the NUL of a system_id
    # in every bind_transceiver_resp and raises ValueError on the header-only error response the simulator
    # sends (SMPP v3.4 §4.1.6: "the body ... is not returned if the command_status field contains a non-zero
    # value"). What can be checked: the bind fails, the ESME stays unbound, the simulator refused the password.
    try:
        with pytest.raises(ValueError, match="subsection not found"):
            await asyncio.wait_for(esme.connect(), 5.0)
        assert esme.session_state == aiosmpplib.SmppSessionState.OPEN
    finally:
        # aiosmpplib keeps the socket of a failed bind open and has no public call that closes it.
        if esme._writer is not None:
            esme._writer.close()
            await esme._writer.wait_closed()
    assert [event["status"] for event in await simulator.arefusals("smpp")] == ["0x0000000e"]


# ---------------------------------------------------------------------------------------------------------
# smpp34 (Rust core, asyncio API)
# ---------------------------------------------------------------------------------------------------------


async def test_smpp34_submit_and_receipt(simulator) -> None:
    client = smpp34.Client(*simulator.smpp, ACCOUNT, SECRET, bind_type="TRX", connect_timeout_ms=3000)
    try:
        smsc = await asyncio.wait_for(client.connect(), 5.0)
        response = await asyncio.wait_for(smsc.submit_sm(HANDSET, b"interop smpp34", source_addr=SERVICE_CODE,
                                                         registered_delivery=1), 5.0)
        assert response.is_success and response.command_status == smpp34.ESME_ROK
        message_id = response.message_id
        receipt = await asyncio.wait_for(smsc.next(), RECEIPT_WAIT)  # the core acknowledges it by itself
        assert isinstance(receipt, smpp34.DeliverSmEvent)
        rows = await simulator.await_messages(acked())
        await asyncio.wait_for(smsc.unbind(), 5.0)
        assert isinstance(await asyncio.wait_for(smsc.next(), 5.0), smpp34.Disconnected)
    finally:
        await asyncio.wait_for(client.stop(), 5.0)

    assert receipt.esm_class & ESM_CLASS_TYPE == 0x04
    assert (receipt.source_addr, receipt.destination_addr) == (HANDSET, SERVICE_CODE)
    tlvs = {tlv.tag: tlv for tlv in receipt.tlvs}
    assert tlvs[smpp34.TLV_RECEIPTED_MESSAGE_ID].as_string() == message_id
    assert tlvs[smpp34.TLV_MESSAGE_STATE].as_int() == MESSAGE_STATE_DELIVERED
    fields = RECEIPT_TEXT.fullmatch(receipt.short_message.decode("ascii"))
    assert fields is not None, receipt.short_message
    assert (fields["id"], fields["stat"], fields["text"]) == (message_id, "DELIVRD", "interop smpp34")

    [row] = rows
    assert (row.message_id, row.source, row.destination, row.text, row.state) == \
        (message_id, SERVICE_CODE, HANDSET, "interop smpp34", "DELIVRD")
    assert (fields["submit"], fields["done"]) == receipt_dates(row)


async def test_smpp34_throttled_at_one_message_per_second(start_simulator) -> None:
    simulator = start_simulator([account(f"{ACCOUNT}:{SECRET}:{SERVICE_CODE}:1")])
    client = smpp34.Client(*simulator.smpp, ACCOUNT, SECRET, bind_type="TX", connect_timeout_ms=3000)
    try:
        smsc = await asyncio.wait_for(client.connect(), 5.0)
        first = await asyncio.wait_for(smsc.submit_sm(HANDSET, b"first", source_addr=SERVICE_CODE), 5.0)
        second = await asyncio.wait_for(smsc.submit_sm(HANDSET, b"too soon", source_addr=SERVICE_CODE), 5.0)
        await asyncio.wait_for(smsc.unbind(), 5.0)
    finally:
        await asyncio.wait_for(client.stop(), 5.0)
    assert (first.command_status, second.command_status) == (smpp34.ESME_ROK, smpp34.ESME_RTHROTTLED)
    assert not second.is_success and not second.message_id
    [row] = await simulator.await_messages(lambda rows: len(rows) == 1)
    assert (row.message_id, row.text) == (first.message_id, "first")


async def test_smpp34_bind_refused(simulator) -> None:
    client = smpp34.Client(*simulator.smpp, ACCOUNT, "wrong", connect_timeout_ms=1000)
    # smpp34 1.5.0 does not surface a bind_resp's command_status: a refused bind ends as "bind timed out"
    # after connect_timeout_ms (it does the same when the refusal carries a body). What can be checked:
    # the bind fails, and the simulator refused it with ESME_RINVPASWD.
    try:
        with pytest.raises(smpp34.SmppError):
            await asyncio.wait_for(client.connect(), 5.0)
    finally:
        await asyncio.wait_for(client.stop(), 5.0)
    assert [event["status"] for event in await simulator.arefusals("smpp")] == ["0x0000000e"]


# ---------------------------------------------------------------------------------------------------------
# pycmpp (CMPP 2.0 client, Version 0x21)
# ---------------------------------------------------------------------------------------------------------
#
# What pycmpp offers: CONNECT (Cmpp.auth / ConnectRequestInstance), SUBMIT (Cmpp.submit /
# SubmitRequestInstance), a blocking receive loop (Cmpp.receive) dispatching to handler classes by Command_Id
# (Cmpp.handlers), and decoders for CONNECT_RESP and SUBMIT_RESP. Its handlers only log, and it has none for
# CMPP_DELIVER: a status report is dropped unanswered. The session below therefore plugs recording handlers,
# and a CMPP_DELIVER handler (decoding the 2.0 DELIVER and answering CMPP_DELIVER_RESP), into that registry.
# Cmpp.submit() also drops its configured src_id (Src_Id goes out empty), so submits are built with
# SubmitRequestInstance.create(src_id=...), which is what Cmpp.submit() calls, and sent with Cmpp.send().


class _ReceiverStopped(BaseException):
    """Ends pycmpp's receive loop, which catches every Exception and would otherwise never return."""


class _StoppableSocket(socket.socket):
    """The socket pycmpp reads from, ending its receive loop at EOF or when asked (pycmpp spins on EOF)."""

    def __init__(self) -> None:
        super().__init__(socket.AF_INET, socket.SOCK_STREAM)
        self.stopping = threading.Event()

    def recv(self, bufsize: int, flags: int = 0) -> bytes:
        if bufsize == 0:  # pycmpp reads the body of a header-only PDU with recv(0)
            return b""
        while not self.stopping.is_set():
            try:
                data = super().recv(bufsize, flags)
            except TimeoutError:
                continue
            except OSError:  # a reset: pycmpp would log it, sleep 10 s and read the dead socket again
                break
            if not data:
                break
            return data
        raise _ReceiverStopped


@dataclasses.dataclass(frozen=True)
class CmppReport:
    """The CMPP 2.0 status report carried in a DELIVER's Msg_Content (60 octets)."""

    msg_id: int
    stat: str
    submit_time: str
    done_time: str
    dest_terminal_id: str
    smsc_sequence: int


@dataclasses.dataclass(frozen=True)
class CmppDeliver:
    """A CMPP 2.0 CMPP_DELIVER, decoded here because pycmpp has no decoder for it."""

    sequence_id: int
    msg_id: int
    dest_id: str
    service_id: str
    msg_fmt: int
    src_terminal_id: str
    registered_delivery: int
    msg_content: bytes

    @property
    def report(self) -> CmppReport:
        content = self.msg_content
        assert len(content) == 60, content
        return CmppReport(msg_id=struct.unpack_from(">Q", content)[0], stat=_c_string(content[8:15]),
                          submit_time=_c_string(content[15:25]), done_time=_c_string(content[25:35]),
                          dest_terminal_id=_c_string(content[35:56]),
                          smsc_sequence=struct.unpack_from(">I", content, 56)[0])


def _c_string(octets: bytes) -> str:
    return octets.rstrip(b"\0").decode("ascii")


def decode_deliver_v2(message: bytes) -> CmppDeliver:
    """CMPP 2.0 §7.4.5.1 (the 2.0 layout: 21-octet terminal ids, no LinkID), from the raw frame."""
    length, command_id, sequence_id = struct.unpack_from(">III", message)
    assert (length, command_id) == (len(message), CMPP_DELIVER_REQ)
    body = message[12:]
    msg_length = body[64]
    assert len(body) == 65 + msg_length + 8, "CMPP 2.0 DELIVER length"
    return CmppDeliver(sequence_id=sequence_id, msg_id=struct.unpack_from(">Q", body)[0],
                       dest_id=_c_string(body[8:29]), service_id=_c_string(body[29:39]), msg_fmt=body[41],
                       src_terminal_id=_c_string(body[42:63]), registered_delivery=body[63],
                       msg_content=body[65:65 + msg_length])


class PycmppSession:
    """One pycmpp client with its receive loop in a thread; what it receives lands in :attr:`inbox`."""

    def __init__(self, address: tuple[str, int], sp_id: str, secret: str) -> None:
        self.client = Cmpp(*address, sp_id=sp_id, sp_secret=secret, src_id=SERVICE_CODE, delivery=1,
                           client_heartbeat=False)
        self.client.so.close()  # replaced before use, see _StoppableSocket
        self.socket = _StoppableSocket()
        self.client.so = self.socket
        self.inbox: queue.Queue[tuple[str, Any]] = queue.Queue()
        self.connect_request = ConnectRequestInstance()
        self.connected = False
        self._thread = threading.Thread(target=self._receive, name="pycmpp-receive", daemon=True)
        self._install_handlers()

    def _install_handlers(self) -> None:
        inbox = self.inbox

        class ConnectResp(pycmpp_handlers.CmppConnectRespHandler):
            def __call__(self, *args: Any, **kwargs: Any) -> None:
                super().__call__(*args, **kwargs)
                response = ConnectResponseInstance()
                response.resolve(self.message)
                inbox.put(("connect_resp", response))

        class SubmitResp(pycmpp_handlers.CmppSubmitRespHandler):
            def __call__(self, *args: Any, **kwargs: Any) -> None:
                super().__call__(*args, **kwargs)
                response = SubmitResponseInstance()
                response.resolve(self.message)
                inbox.put(("submit_resp", response))

        class Deliver(pycmpp_handlers.BaseHandler):
            command_id = CMPP_DELIVER_REQ

            def __call__(self, *args: Any, **kwargs: Any) -> None:
                deliver = decode_deliver_v2(self.message)
                # CMPP 2.0 CMPP_DELIVER_RESP: Msg_Id (the DELIVER's), Result 0.
                body = struct.pack(">QB", deliver.msg_id, 0)
                self.cmpp.send(struct.pack(">III", 12 + len(body), CMPP_DELIVER_RESP, deliver.sequence_id) + body)
                inbox.put(("deliver", deliver))

        for handler in (ConnectResp, SubmitResp, Deliver):
            self.client.handlers[handler.command_id] = handler

    def _receive(self) -> None:
        with contextlib.suppress(_ReceiverStopped):
            self.client.receive()

    def connect(self) -> ConnectResponseInstance:
        """TCP connect, start the receive loop, send CMPP_CONNECT; the CONNECT_RESP as pycmpp decoded it.

        The request is built with ConnectRequestInstance, as Cmpp.auth() does, keeping it so that the test can
        check AuthenticatorISMG (pycmpp itself never does).
        """
        self.socket.settimeout(2.0)
        self.client.connect()
        self.socket.settimeout(0.1)  # lets the receive loop notice a stop request
        self._thread.start()
        self.client.send(self.connect_request.create(self.client.sp_id, self.client.sp_secret))
        response: ConnectResponseInstance = self.expect("connect_resp")
        self.connected = response.status == 0
        return response

    def submit(self, content: str, destination: str = HANDSET) -> int:
        request = SubmitRequestInstance()
        self.client.send(request.create(msg_src=self.client.sp_id, msg_content=content, src_id=SERVICE_CODE,
                                        dest_terminal_id=[destination], registered_delivery=1))
        return request.seq_id

    def expect(self, kind: str, timeout: float = 5.0) -> Any:
        try:
            got, value = self.inbox.get(timeout=timeout)
        except queue.Empty:
            pytest.fail(f"pycmpp received no {kind} within {timeout} s")
        assert got == kind, (got, value)
        return value

    def close(self) -> None:
        """CMPP_TERMINATE when connected, then end the receive loop and close the socket."""
        if self._thread.is_alive():
            if self.connected:
                with contextlib.suppress(OSError):
                    self.client.terminate()
            # The simulator answers TERMINATE_RESP and closes (after a refused CONNECT it has closed
            # already): EOF ends the loop.
            self._thread.join(2.0)
            self.socket.stopping.set()
            self._thread.join(2.0)
        self.client.close()
        assert not self._thread.is_alive(), "pycmpp's receive loop did not stop"


@contextlib.contextmanager
def pycmpp_session(address: tuple[str, int], sp_id: str = ACCOUNT, secret: str = SECRET) -> Iterator[PycmppSession]:
    session = PycmppSession(address, sp_id, secret)
    try:
        yield session
    finally:
        session.close()


def decompose_msg_id(msg_id: int) -> tuple[int, int, int, int, int, int, int]:
    """The fields of an ISMG Msg_Id (CMPP 2.0 SUBMIT_RESP): month 4 bits, day 5, hour 5, minute 6, second 6,
    gateway code 22, sequence 16."""
    return (msg_id >> 60, msg_id >> 55 & 0x1F, msg_id >> 50 & 0x1F, msg_id >> 44 & 0x3F, msg_id >> 38 & 0x3F,
            msg_id >> 16 & 0x3FFFFF, msg_id & 0xFFFF)


def test_pycmpp_submit_and_status_report(simulator) -> None:
    text = "interop pycmpp 你好"
    with pycmpp_session(simulator.cmpp) as session:
        connected = session.connect()
        assert (connected.status, connected.version) == (0, CMPP_VERSION)
        # CMPP 2.0: AuthenticatorISMG = MD5(Status + AuthenticatorSource + shared secret).
        assert connected.authenticator_ISMG == \
            hashlib.md5(bytes([0]) + session.connect_request.auth_source + SECRET.encode()).digest()
        sequence = session.submit(text)
        response = session.expect("submit_resp")
        assert (response.seq_id, response.status) == (sequence, 0)
        deliver = session.expect("deliver", RECEIPT_WAIT)
        rows = simulator.wait_for_messages(acked())  # our CMPP_DELIVER_RESP reached the simulator

    assert deliver.registered_delivery == 1
    assert (deliver.dest_id, deliver.src_terminal_id) == (SERVICE_CODE, HANDSET)
    report = deliver.report
    assert report.msg_id == response.msg_id
    assert (report.stat, report.dest_terminal_id) == ("DELIVRD", HANDSET)
    assert deliver.msg_id != response.msg_id  # the DELIVER's own Msg_Id is a fresh ISMG id

    [row] = rows
    assert (row.message_id, row.protocol, row.source, row.destination, row.text) == \
        (str(response.msg_id), "cmpp", SERVICE_CODE, HANDSET, text)
    assert (row.data_coding, row.registered_delivery, row.state, row.receipt_attempts) == (8, 1, "DELIVRD", 1)
    assert (report.submit_time, report.done_time) == receipt_dates(row)
    submitted = datetime.fromtimestamp(row.submitted_at, ZONE)
    assert decompose_msg_id(response.msg_id)[:6] == \
        (submitted.month, submitted.day, submitted.hour, submitted.minute, submitted.second, 1)


@pytest.mark.parametrize(("sp_id", "secret", "status"), [
    (ACCOUNT, "wrong", 3),  # 认证错
    ("999999", SECRET, 2),  # 非法源地址
], ids=["wrong-secret", "unknown-sp-id"])
def test_pycmpp_connect_refused(simulator, sp_id: str, secret: str, status: int) -> None:
    with pycmpp_session(simulator.cmpp, sp_id, secret) as session:
        refused = session.connect()
    assert refused.status == status
    assert refused.authenticator_ISMG == bytes(16)  # "认证出错时，此项为空"
    assert [event["status"] for event in simulator.refusals("cmpp")] == [status]


def test_pycmpp_connection_limit_is_shared_with_smpp(start_simulator) -> None:
    simulator = start_simulator([account(f"{ACCOUNT}:{SECRET}:{SERVICE_CODE}", max_connections=1)])
    with pycmpp_session(simulator.cmpp) as first:
        assert first.connect().status == 0
        with pycmpp_session(simulator.cmpp) as second:
            assert second.connect().status == 5  # over the account's connection limit
        with smpplib_client(simulator.smpp) as client:  # max_connections counts both protocols
            assert bind_error(client, system_id=ACCOUNT, password=SECRET) == smpplib.consts.SMPP_ESME_RBINDFAIL
    assert [event["status"] for event in simulator.refusals("cmpp")] == [5]


def test_pycmpp_flow_control(start_simulator) -> None:
    simulator = start_simulator([account(f"{ACCOUNT}:{SECRET}:{SERVICE_CODE}:1")])
    with pycmpp_session(simulator.cmpp) as session:
        assert session.connect().status == 0
        first, second = session.submit("first"), session.submit("too soon")
        responses = {response.seq_id: response for response in (session.expect("submit_resp"),
                                                                 session.expect("submit_resp"))}
    assert (responses[first].status, responses[second].status) == (0, 8)  # 8: 流量控制错
    assert responses[second].msg_id == 0
    [row] = simulator.messages()
    assert (row.message_id, row.text) == (str(responses[first].msg_id), "first")
