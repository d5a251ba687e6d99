"""The control API against a real simulator: real listeners on free ports, a real SMPP partner, real HTTP.

Time is a :class:`VirtualClock`, so a message stays ENROUTE until a test moves the clock past its outcome.
"""

from __future__ import annotations

import asyncio
import dataclasses
import math
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from protocols import smpp
from simulator.api import MAX_LIMIT, OPENAPI, ROUTES, build_app
from simulator.clock import VirtualClock
from simulator.config import Account, Config, load_config, with_overrides
from simulator.observe import EventLog
from simulator.scenario import find_scenario, load_scenario
from simulator.server import Simulator

SECRET = "Zq7#Kp2w"  # distinctive, so that finding it in any answer cannot be a coincidence
OTHER_SECRET = "Vx9$Lm4t"
ACCOUNT = "900001"
SERVICE_CODE = "10690001"
HANDSET = "13800138000"
MASKED_HANDSET = "138****8000"
START = 1_780_000_000.0


class RecordingEventLog(EventLog):
    """The simulator's event log, also kept in memory so that tests can look at what was emitted."""

    def __init__(self) -> None:
        super().__init__()
        self.recorded: list[tuple[str, dict[str, object]]] = []

    def emit(self, at: float, event: str, **fields: object) -> None:
        self.recorded.append((event, fields))
        super().emit(at, event, **fields)


def make_config(data_dir: Path, *, mask_numbers: bool = True) -> Config:
    config = load_config()
    accounts = [
        Account(id=ACCOUNT, secret=SECRET, service_codes=(SERVICE_CODE,), window=8, max_connections=2),
        Account(id="900002", secret=OTHER_SECRET, service_codes=("10690002", "106900021"), service_ids=("MTEST",),
                rate=50.0, dlr_profile="mixed", message_id_format="decimal"),
    ]
    config = with_overrides(config, accounts=accounts, cmpp_port=0, smpp_port=0, api_port=0, data_dir=data_dir)
    return dataclasses.replace(config, mask_numbers=mask_numbers)


@dataclasses.dataclass
class Api:
    """A running simulator and an HTTP client pointed at its API."""

    simulator: Simulator
    clock: VirtualClock
    events: RecordingEventLog
    http: aiohttp.ClientSession
    base: str

    async def get(self, path: str, **params: str) -> tuple[int, Any]:
        async with self.http.get(self.base + path, params=params) as response:
            return response.status, await response.json()

    async def raw(self, method: str, path: str, **kwargs: Any) -> tuple[int, aiohttp.typedefs.LooseHeaders, str]:
        async with self.http.request(method, self.base + path, **kwargs) as response:
            return response.status, response.headers, await response.text()

    async def post_mo(self, body: object) -> tuple[int, Any]:
        async with self.http.post(self.base + "/mo", json=body) as response:
            return response.status, await response.json()


async def start_api(tmp_path: Path, *, mask_numbers: bool = True) -> tuple[Api, Callable[[], Awaitable[None]]]:
    clock = VirtualClock(START)
    events = RecordingEventLog()
    simulator = Simulator(make_config(tmp_path, mask_numbers=mask_numbers), clock, events=events, with_api=True)
    endpoints = await simulator.start()
    assert endpoints.api is not None
    http = aiohttp.ClientSession()
    host, port = endpoints.api

    async def stop() -> None:
        await http.close()
        await simulator.stop()

    return Api(simulator, clock, events, http, f"http://{host}:{port}"), stop


@pytest.fixture
async def api(tmp_path: Path) -> AsyncIterator[Api]:
    running, stop = await start_api(tmp_path)
    try:
        yield running
    finally:
        await stop()


class SmppPartner:
    """A minimal ESME over a real socket: bind_transceiver, submit_sm, close."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.sequence = 0

    @classmethod
    async def connect(cls, api: Api) -> SmppPartner:
        assert api.simulator.endpoints is not None
        reader, writer = await asyncio.open_connection(*api.simulator.endpoints.smpp)
        return cls(reader, writer)

    async def request(self, pdu: smpp.SmppPdu) -> smpp.SmppPdu:
        """Send a request and return its response (skipping deliver_sm the SMSC may send meanwhile)."""
        self.sequence += 1
        self.writer.write(smpp.encode(dataclasses.replace(pdu, sequence_number=self.sequence)))
        while True:
            header = await asyncio.wait_for(self.reader.readexactly(4), 5)
            body = await self.reader.readexactly(int.from_bytes(header, "big") - 4)
            answer = smpp.decode(header + body)
            if answer.sequence_number == self.sequence and not isinstance(answer, smpp.DeliverSm):
                return answer

    async def bind(self, password: str = SECRET) -> None:
        answer = await self.request(smpp.BindTransceiver(system_id=ACCOUNT, password=password))
        assert answer.command_status == 0

    async def submit(self, destination: str = HANDSET, text: bytes = b"hello", receipt: int = 1) -> str:
        answer = await self.request(smpp.SubmitSm(source_addr=SERVICE_CODE + "12", destination_addr=destination,
                                                  short_message=text, registered_delivery=receipt))
        assert isinstance(answer, smpp.SubmitSmResp)
        assert answer.command_status == 0
        return answer.message_id

    async def close(self) -> None:
        self.writer.close()
        await self.writer.wait_closed()


@pytest.fixture
async def partner(api: Api) -> AsyncIterator[SmppPartner]:
    """A bound partner; closed before the simulator stops, so that stopping need not wait for its unbind."""
    esme = await SmppPartner.connect(api)
    await esme.bind()
    try:
        yield esme
    finally:
        await esme.close()


async def eventually(check: Callable[[], Awaitable[bool]], timeout: float = 5.0) -> None:
    """Wait (in real time) until ``check`` holds: the store's reads run in threads, off the virtual clock."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not await check():
        assert asyncio.get_running_loop().time() < deadline, "condition not reached in time"
        await asyncio.sleep(0.02)


# -- /health, /openapi.json --------------------------------------------------------------------------------


async def test_health_reports_time_and_bound_listeners(api: Api) -> None:
    status, body = await api.get("/health")
    endpoints = api.simulator.endpoints
    assert endpoints is not None
    assert status == 200
    assert body == {"status": "ok", "now": START, "listeners": {
        "cmpp": list(endpoints.cmpp), "smpp": list(endpoints.smpp), "api": list(endpoints.api or ())}}
    assert body["listeners"]["api"][1] == int(api.base.rsplit(":", 1)[1])
    assert all(port != 0 for _, port in body["listeners"].values())

    await api.clock.advance(12.5)
    assert (await api.get("/health"))[1]["now"] == START + 12.5


async def test_openapi_document_describes_exactly_the_route_table(api: Api) -> None:
    status, document = await api.get("/openapi.json")
    assert status == 200
    assert document == OPENAPI
    assert document["openapi"].startswith("3.1")
    described = {(path, method.upper()) for path, item in document["paths"].items() for method in item}
    table = {(path, method) for path, method, _ in ROUTES}
    assert described == table
    # ... and the application serves exactly the table, nothing more (no implicit HEAD routes).
    app = build_app(api.simulator)
    served = {(route.resource.canonical, route.method) for route in app.router.routes() if route.resource}
    assert served == table
    for path, item in document["paths"].items():
        for operation in item.values():
            assert operation["summary"]
            assert {"200", "201"} & set(operation["responses"])
            named = {parameter["name"] for parameter in operation.get("parameters", ()) if parameter["in"] == "path"}
            assert named == {part[1:-1] for part in path.split("/") if part.startswith("{")}


async def test_openapi_query_parameters_are_those_the_handlers_take(api: Api) -> None:
    _, document = await api.get("/openapi.json")
    valid = {"limit": "1", "since": str(START), "until": str(START + 1), "state": "pending", "rule": "content",
             "month": "2026-05"}
    for path, item in document["paths"].items():
        if "get" not in item:
            continue
        concrete = path.replace("{id}", ACCOUNT)
        described = [p["name"] for p in item["get"].get("parameters", ()) if p["in"] == "query"]
        for name in described:  # each described parameter is taken ...
            status, _, text = await api.raw("GET", concrete, params={name: valid.get(name, "x")})
            assert status == 200, (path, name, text)
        # ... and the handler takes no other: its refusal of an unknown one lists what it expects
        status, body = await api.get(concrete, zzz="1")
        assert status == 400, path
        assert body["error"].endswith(f"expected: {', '.join(described) or 'none'}"), (path, body)


async def test_openapi_references_resolve(api: Api) -> None:
    _, document = await api.get("/openapi.json")
    schemas = document["components"]["schemas"]

    def refs(node: object) -> list[str]:
        if isinstance(node, dict):
            found = [node["$ref"]] if "$ref" in node else []
            return found + [ref for value in node.values() for ref in refs(value)]
        if isinstance(node, list):
            return [ref for value in node for ref in refs(value)]
        return []

    for ref in refs(document):
        assert ref.removeprefix("#/components/schemas/") in schemas, ref


async def test_every_described_route_answers(api: Api) -> None:
    # What some routes need to succeed: a running scenario, a subscriber to remove (whatever the table's order).
    api.simulator.start_scenario(load_scenario(find_scenario("certification")))
    assert api.simulator.gateway is not None
    await api.simulator.gateway.set_subscribers(ACCOUNT, [HANDSET], subscribed=True, origin="api")
    concrete_paths = {"/scenario/trigger/{id}": "/scenario/trigger/recovery"}
    bodies = {"/notices": {"title": "hi", "text": "hi"}, "/scenario": {"name": "certification"},
              "/accounts/{id}/subscribers": {"numbers": [HANDSET]}}
    for path, method, _ in ROUTES:
        concrete = concrete_paths.get(path, path.replace("{id}", ACCOUNT).replace("{number}", HANDSET))
        body = bodies.get(path, {"from": HANDSET, "to": SERVICE_CODE, "text": "hi"})
        kwargs = {"json": body} if method == "POST" else {}
        status, _, _ = await api.raw(method, concrete, **kwargs)
        assert status in (200, 201), (method, path, status)


# -- /accounts ---------------------------------------------------------------------------------------------


async def test_accounts_show_contracted_limits_without_secrets(api: Api, partner: SmppPartner) -> None:
    status, accounts = await api.get("/accounts")
    assert status == 200
    assert accounts == [
        {"id": ACCOUNT, "service_codes": [SERVICE_CODE], "service_ids": [], "rate": None, "window": 8,
         "max_connections": 2, "dlr_profile": "default", "message_id_format": "hex", "connections": 1,
         "suspended": False, "limits": {"rate": None, "window": 8}},
        {"id": "900002", "service_codes": ["10690002", "106900021"], "service_ids": ["MTEST"], "rate": 50.0,
         "window": 16, "max_connections": 4, "dlr_profile": "mixed", "message_id_format": "decimal",
         "connections": 0, "suspended": False, "limits": {"rate": 50.0, "window": 16}},
    ]
    status, one = await api.get(f"/accounts/{ACCOUNT}")
    assert (status, one) == (200, accounts[0])


async def test_unknown_account_is_404(api: Api) -> None:
    status, body = await api.get("/accounts/nobody")
    assert status == 404
    assert body == {"error": "no account 'nobody'"}


# -- /sessions ---------------------------------------------------------------------------------------------


async def test_sessions_lists_attached_partners(api: Api, partner: SmppPartner) -> None:
    status, sessions = await api.get("/sessions")
    assert status == 200
    assert len(sessions) == 1
    session = sessions[0]
    assert session["protocol"] == "smpp"
    assert session["account"] == ACCOUNT
    assert session["peer"] == "127.0.0.1"
    assert session["state"]

    await partner.close()
    await eventually(lambda: _empty(api, "/sessions"))


async def _empty(api: Api, path: str) -> bool:
    return (await api.get(path))[1] == []


# -- /messages ---------------------------------------------------------------------------------------------


async def test_messages_are_shown_with_the_number_masked(api: Api, partner: SmppPartner) -> None:
    message_id = await partner.submit(text=b"hello")
    response = await api.raw("GET", "/messages")
    assert response[0] == 200
    assert HANDSET not in response[2]  # nowhere in the answer, not just not in "destination"
    _, messages = await api.get("/messages")
    assert len(messages) == 1
    message = messages[0]
    assert message == {
        "id": message["id"], "message_id": message_id, "account": ACCOUNT, "protocol": "smpp",
        "submitted_at": START, "source": SERVICE_CODE + "12", "destination": MASKED_HANDSET, "data_coding": 0,
        "text": "hello", "message_text": "hello", "segment": {"ref": None, "total": 1, "number": 1},
        "registered_delivery": 1, "state": "ENROUTE", "err": 0, "done_at": message["done_at"],
        "receipt_state": "pending", "receipt_attempts": 0,
    }
    assert START + 1 <= message["done_at"] <= START + 3  # the default DLR profile's delay

    await api.clock.advance(5)
    _, messages = await api.get("/messages")
    assert messages[0]["state"] == "DELIVRD"


async def test_messages_filters(api: Api, partner: SmppPartner) -> None:
    first = await partner.submit(destination=HANDSET)
    await api.clock.advance(10)
    second = await partner.submit(destination="13900139000")

    async def ids(**params: str) -> list[str]:
        status, messages = await api.get("/messages", **params)
        assert status == 200, messages
        return [message["message_id"] for message in messages]

    assert await ids() == [second, first]  # newest first
    assert await ids(account=ACCOUNT) == [second, first]
    assert await ids(account="900002") == []
    assert await ids(number=HANDSET) == [first]  # the full number finds it ...
    assert await ids(number=MASKED_HANDSET) == []  # ... the masked form is not a search key
    assert await ids(id=second) == [second]
    assert await ids(since=str(START + 5)) == [second]
    assert await ids(until=str(START + 5)) == [first]
    assert await ids(since=str(START), until=str(START + 10.0)) == [first]
    assert await ids(limit="1") == [second]
    assert await ids(limit=str(MAX_LIMIT), account="") == [second, first]  # empty parameter: not given


async def test_numbers_unmasked_when_config_turns_masking_off(tmp_path: Path) -> None:
    running, stop = await start_api(tmp_path, mask_numbers=False)
    try:
        esme = await SmppPartner.connect(running)
        await esme.bind()
        await esme.submit()
        await esme.close()
        _, messages = await running.get("/messages")
        assert messages[0]["destination"] == HANDSET
    finally:
        await stop()


@pytest.mark.parametrize(("params", "complaint"), [
    ({"limit": "abc"}, "limit must be a whole number from 1 to 1000, not 'abc'"),
    ({"limit": "0"}, "limit must be a whole number from 1 to 1000, not '0'"),
    ({"limit": "1001"}, "limit must be a whole number from 1 to 1000, not '1001'"),
    ({"limit": "-5"}, "limit must be a whole number from 1 to 1000, not '-5'"),
    ({"limit": "\u00b2"}, "limit must be a whole number from 1 to 1000, not '\u00b2'"),
    ({"limit": "9" * 5000}, f"limit must be a whole number from 1 to 1000, not {'9' * 40!r}..."),
    ({"since": "yesterday"}, "since must be a number of seconds since the epoch, not 'yesterday'"),
    ({"since": "nan"}, "since must be a number of seconds since the epoch, not 'nan'"),
    ({"until": "inf"}, "until must be a number of seconds since the epoch, not 'inf'"),
    ({"acount": ACCOUNT}, "unknown parameter 'acount'; expected: account, number, id, since, until, limit"),
])
async def test_messages_bad_parameters(api: Api, params: dict[str, str], complaint: str) -> None:
    status, body = await api.get("/messages", **params)
    assert status == 400
    assert body == {"error": complaint}


# -- /receipts ---------------------------------------------------------------------------------------------


async def test_receipts_follow_the_receipt_state(api: Api, partner: SmppPartner) -> None:
    wanted = await partner.submit(receipt=1)
    await partner.submit(destination="13900139000", receipt=0)  # asked for none: never listed

    status, receipts = await api.get("/receipts")
    assert status == 200
    assert [(r["message_id"], r["receipt_state"], r["receipt_attempts"]) for r in receipts] == [(wanted, "pending", 0)]
    assert receipts[0]["destination"] == MASKED_HANDSET
    assert receipts[0]["receipt_due"] == receipts[0]["done_at"]
    assert (await api.get("/receipts", state="sent"))[1] == []

    # Past the outcome the dispatcher sends the receipt to the (transceiver) partner.
    await api.clock.advance(5)

    async def sent() -> bool:
        _, listed = await api.get("/receipts", state="sent", account=ACCOUNT)
        return [(r["message_id"], r["receipt_attempts"]) for r in listed] == [(wanted, 1)]

    await eventually(sent)
    assert (await api.get("/receipts", state="pending"))[1] == []
    assert (await api.get("/receipts", account="900002"))[1] == []


async def test_receipts_bad_state(api: Api) -> None:
    status, body = await api.get("/receipts", state="lost")
    assert status == 400
    assert body == {"error": "state must be one of none, pending, sent, acked, failed, not 'lost'"}


# -- POST /mo, /events -------------------------------------------------------------------------------------


async def test_mo_injection_is_routed_by_service_code(api: Api) -> None:
    assert await api.post_mo({"from": HANDSET, "to": SERVICE_CODE + "99", "text": "TD"}) == (
        201, {"segments": 1, "account": ACCOUNT})
    # the longest service code wins: 106900021 belongs to 900002 as well, but so does 10690002
    assert await api.post_mo({"from": HANDSET, "to": "1069000215", "text": "x" * 200}) == (
        201, {"segments": 2, "account": "900002"})
    assert ("mo.injected", {"account": ACCOUNT, "source": MASKED_HANDSET, "destination": SERVICE_CODE + "99",
                            "segments": 1}) in api.events.recorded


async def test_mo_injection_shows_in_the_audit_events(api: Api) -> None:
    assert (await api.post_mo({"from": HANDSET, "to": SERVICE_CODE, "text": "hello"}))[0] == 201
    status, events = await api.get("/events", kind="mo.injected")
    assert status == 200
    assert [(event["kind"], event["account"]) for event in events] == [("mo.injected", ACCOUNT)]
    assert HANDSET not in str(events)


async def test_mo_to_an_unowned_code_is_404(api: Api) -> None:
    status, body = await api.post_mo({"from": HANDSET, "to": "10659999", "text": "hi"})
    assert status == 404
    assert "10659999" in body["error"]
    assert set(body) == {"error"}


@pytest.mark.parametrize(("body", "complaint"), [
    ({"to": SERVICE_CODE, "text": "hi"}, "'from' must be a string"),
    ({"from": HANDSET, "to": 10690001, "text": "hi"}, "'to' must be a string"),
    ({"from": HANDSET, "to": SERVICE_CODE, "text": None}, "'text' must be a string"),
    ({"from": "", "to": SERVICE_CODE, "text": "hi"},
     "'from' must be a phone number or service code: up to 20 digits, optionally after a '+'"),
    ({"from": "1" * 21, "to": SERVICE_CODE, "text": "hi"},
     "'from' must be a phone number or service code: up to 20 digits, optionally after a '+'"),
    ({"from": HANDSET, "to": SERVICE_CODE + "\n", "text": "hi"},
     "'to' must be a phone number or service code: up to 20 digits, optionally after a '+'"),
    ({"from": HANDSET, "to": SERVICE_CODE, "text": "\ud800"}, "'text' is not valid Unicode text"),
    ({"from": HANDSET, "to": SERVICE_CODE, "text": "短" * 67 * 300}, "text needs 300 segments; concatenation "
                                                                      "allows 255"),
    (["from", "to", "text"], 'the body must be a JSON object: {"from": ..., "to": ..., "text": ...}'),
])
async def test_mo_bad_bodies(api: Api, body: object, complaint: str) -> None:
    status, answer = await api.post_mo(body)
    assert status == 400
    assert answer == {"error": complaint}


@pytest.mark.parametrize("data", [b"", b"{not json", b"\xff\xfe", b'{"from": "1"'])
async def test_mo_invalid_json(api: Api, data: bytes) -> None:
    status, _, text = await api.raw("POST", "/mo", data=data, headers={"Content-Type": "application/json"})
    assert status == 400
    assert text == '{"error": "the body must be JSON"}'


async def test_events_route_filters(api: Api) -> None:
    store = api.simulator.store
    assert store is not None
    store.record_event(START + 1, "session.bound", ACCOUNT, {"session": "smpp-1"})
    store.record_event(START + 2, "mo.injected", ACCOUNT, {"source": MASKED_HANDSET})
    store.record_event(START + 3, "session.bound", "900002", {"session": "smpp-2"})

    status, events = await api.get("/events", since=str(START + 1))  # after the simulator's own start event
    assert status == 200
    assert [event["at"] for event in events] == [START + 1, START + 2, START + 3]  # oldest first
    assert events[1] == {"at": START + 2, "account": ACCOUNT, "kind": "mo.injected",
                         "detail": {"source": MASKED_HANDSET}}
    assert [e["at"] for e in (await api.get("/events", kind="session.bound"))[1]] == [START + 1, START + 3]
    assert [e["at"] for e in (await api.get("/events", since=str(START + 2)))[1]] == [START + 2, START + 3]
    everything = (await api.get("/events"))[1]
    assert (await api.get("/events", limit="1"))[1] == everything[:1]
    assert (await api.get("/events", limit="1001")) == (400, {
        "error": "limit must be a whole number from 1 to 1000, not '1001'"})
    assert (await api.get("/events", since="soon"))[0] == 400


# -- /metrics ----------------------------------------------------------------------------------------------


async def test_metrics_expose_smsclab_series(api: Api, partner: SmppPartner) -> None:
    await partner.submit()
    status, headers, text = await api.raw("GET", "/metrics")
    assert status == 200
    assert headers["Content-Type"].startswith("text/plain")
    samples = {line.split(" ")[0]: line.rsplit(" ", 1)[1] for line in text.splitlines()
               if line and not line.startswith("#")}
    assert all(name.startswith("smsclab_") for name in samples)
    assert float(samples[f'smsclab_messages_accepted_total{{account="{ACCOUNT}",protocol="smpp"}}']) == 1.0
    assert float(samples[f'smsclab_sessions{{account="{ACCOUNT}",protocol="smpp"}}']) == 1.0
    assert not math.isnan(float(samples["smsclab_store_commit_seconds_count"]))


# -- errors and confidentiality ----------------------------------------------------------------------------


async def test_unknown_route_and_wrong_method_are_json(api: Api) -> None:
    status, headers, text = await api.raw("GET", "/nope")
    assert (status, text) == (404, '{"error": "not found"}')
    assert headers["Content-Type"].startswith("application/json")

    status, headers, text = await api.raw("POST", "/health")
    assert (status, text) == (405, '{"error": "method not allowed"}')
    assert headers["Allow"] == "GET"

    status, headers, _ = await api.raw("GET", "/mo")
    assert status == 405
    assert headers["Allow"] == "POST"
    assert (await api.raw("HEAD", "/health"))[0] == 405  # only what the document describes is served


async def test_unexpected_failure_is_a_logged_500_without_details(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken() -> list[object]:
        raise RuntimeError(f"links table corrupt near {HANDSET}")

    assert api.simulator.gateway is not None
    monkeypatch.setattr(api.simulator.gateway, "links", broken)
    status, _, text = await api.raw("GET", "/sessions")
    assert (status, text) == (500, '{"error": "internal error"}')
    assert ("api.error", {"method": "GET", "route": "/sessions", "error": "RuntimeError"}) in api.events.recorded
    assert (await api.get("/health"))[0] == 200  # the server carries on


async def test_no_answer_ever_contains_a_secret(api: Api, partner: SmppPartner) -> None:
    await partner.submit()
    await api.post_mo({"from": HANDSET, "to": SERVICE_CODE, "text": "hello"})
    bodies = []
    for path, method, _ in ROUTES:
        if method == "GET":
            bodies.append((await api.raw("GET", path.replace("{id}", ACCOUNT)))[2])
    bodies.append((await api.raw("GET", "/accounts/900002"))[2])
    for body in bodies:
        assert SECRET not in body
        assert OTHER_SECRET not in body
        assert '"secret"' not in body  # no field of that name either
        assert "Traceback" not in body


# -- /compliance -------------------------------------------------------------------------------------------


async def test_compliance_of_a_well_behaved_partner_passes(api: Api, partner: SmppPartner) -> None:
    await partner.submit()
    await partner.submit(destination="13900139000")
    status, body = await api.get("/compliance", account=ACCOUNT)
    assert status == 200
    assert body["failed"] == 0
    assert [verdict["check"] for verdict in body["verdicts"]] == [
        "rate", "window", "throttle_backoff", "reconnect", "keepalive", "receipt_ack", "duplicate_sequence",
        "policy", "emergency_cut"]
    # The quick-start account has no subscribers registered: that rule only monitors, so policy may warn.
    assert {v["check"]: v["status"] for v in body["verdicts"] if v["check"] != "policy"} == dict.fromkeys(
        ["rate", "window", "throttle_backoff", "reconnect", "keepalive", "receipt_ack", "duplicate_sequence",
         "emergency_cut"], "pass")
    assert next(v["status"] for v in body["verdicts"] if v["check"] == "policy") in ("pass", "warn")
    assert {verdict["account"] for verdict in body["verdicts"]} == {ACCOUNT}
    assert body["events"] >= 3  # the bind and both submits at least
    assert body["truncated"] is False


async def test_compliance_judges_recorded_events(api: Api) -> None:
    store = api.simulator.store
    assert store is not None
    for index in range(5):  # five window overruns on one session of the first account
        store.record_event(START + 1 + index, "protocol.violation", ACCOUNT,
                           {"session": "smpp-7", "kind": "window", "sequence": 10 + index, "answered": True})
    for index in range(70):  # 70 submits within a second: 900002 is contracted for 50/s
        store.record_event(START + 10 + index / 100, "submit.accepted", "900002",
                           {"session": "cmpp-3", "sequence": index + 1, "recipients": 1, "digest": f"d{index}"})
    store.record_event(START + 20, "policy.violation", "900002",
                       {"session": "cmpp-3", "rule": "content", "mode": "monitor"})

    status, body = await api.get("/compliance")
    assert status == 200
    failed = [(v["account"], v["check"], v["session"]) for v in body["verdicts"] if v["status"] == "fail"]
    assert failed == [(ACCOUNT, "window", "smpp-7"), ("900002", "rate", None)]
    assert body["failed"] == 2
    warned = [(v["account"], v["check"]) for v in body["verdicts"] if v["status"] == "warn"]
    assert warned == [("900002", "policy")]
    rate = next(v for v in body["verdicts"] if v["account"] == "900002" and v["check"] == "rate")
    assert rate["value"] == 70
    assert rate["evidence"][0] == f"peak 70 messages from {START + 10:.3f} to {START + 10.69:.3f}"

    _, only_first = await api.get("/compliance", account=ACCOUNT)
    assert {v["account"] for v in only_first["verdicts"]} == {ACCOUNT}
    assert only_first["failed"] == 1
    _, later = await api.get("/compliance", since=str(START + 9))  # the overruns are before: not judged
    assert [(v["account"], v["check"]) for v in later["verdicts"] if v["status"] == "fail"] == [("900002", "rate")]
    _, nobody = await api.get("/compliance", account="nobody")  # like /messages: no such account, nothing found
    assert nobody["verdicts"] == []
    assert nobody["failed"] == 0


async def test_compliance_bad_parameters(api: Api) -> None:
    assert await api.get("/compliance", since="yesterday") == (400, {
        "error": "since must be a number of seconds since the epoch, not 'yesterday'"})
    assert await api.get("/compliance", acount=ACCOUNT) == (400, {
        "error": "unknown parameter 'acount'; expected: account, since"})


# -- /notices (agreement clauses 2.9, 2.10; the board itself is tested in test_notices.py) ---------------------


async def test_notice_published_by_hand_is_in_the_feed(api: Api) -> None:
    status, record = await _post_notice(api, {
        "id": "upgrade/lead-3600", "kind": "maintenance", "title": "SMSC upgrade", "reason": "core upgrade",
        "start": START + 3600, "end": START + 10800, "accounts": [ACCOUNT], "text": ""})
    assert status == 201
    assert record == {
        "id": "upgrade/lead-3600", "kind": "maintenance", "title": "SMSC upgrade", "reason": "core upgrade",
        "start": START + 3600, "end": START + 10800, "accounts": [ACCOUNT], "text": record["text"],
        "published_at": START,
        "deliveries": [{"account": ACCOUNT, "channel": "feed", "status": "delivered", "attempts": 1, "error": None,
                        "at": START}]}
    # Written from the fields, in the gateway's time zone (Asia/Shanghai): reason, start and expected end.
    assert record["text"].startswith("【系统维护通知】SMSC upgrade。原因：core upgrade。")
    assert "2026-05-29 05:26:40 (UTC+08:00)至2026-05-29 07:26:40 (UTC+08:00)" in record["text"]
    assert "Planned maintenance: SMSC upgrade. Reason: core upgrade." in record["text"]

    await api.clock.advance(60)
    status, second = await _post_notice(api, {"title": "New codes", "text": "Service codes change on Monday"})
    assert status == 201
    assert second["id"].startswith("manual/")
    assert (second["kind"], second["accounts"], second["text"]) == ("notice", ["*"], "Service codes change on Monday")
    assert [d["account"] for d in second["deliveries"]] == [ACCOUNT, "900002"]

    status, feed = await api.get("/notices")
    assert status == 200
    assert [notice["id"] for notice in feed] == [second["id"], "upgrade/lead-3600"]  # newest first
    assert feed[1] == record
    assert [n["id"] for n in (await api.get("/notices", account="900002"))[1]] == [second["id"]]
    assert [n["id"] for n in (await api.get("/notices", account=ACCOUNT))[1]] == [second["id"], "upgrade/lead-3600"]
    assert [n["id"] for n in (await api.get("/notices", since=str(START + 1)))[1]] == [second["id"]]
    assert ("notice.published", {"id": "upgrade/lead-3600", "kind": "maintenance", "accounts": [ACCOUNT]}) in (
        api.events.recorded)


BAD_ACCOUNTS = "'accounts' must be a non-empty list of account ids, or [\"*\"] for all"


async def _post_notice(api: Api, body: object) -> tuple[int, Any]:
    async with api.http.post(api.base + "/notices", json=body) as response:
        return response.status, await response.json()


async def test_notice_id_published_twice_is_409(api: Api) -> None:
    body = {"id": "fault/link-1", "kind": "fault", "title": "Link down", "text": "link down"}
    assert (await _post_notice(api, body))[0] == 201
    assert await _post_notice(api, {**body, "text": "again"}) == (
        409, {"error": "notice 'fault/link-1' was already published"})
    _, feed = await api.get("/notices")
    assert [(n["id"], n["text"]) for n in feed] == [("fault/link-1", "link down")]


@pytest.mark.parametrize(("body", "complaint"), [
    ({"text": "x"}, "'title' must be a string"),
    ({"title": 5, "text": "x"}, "'title' must be a string"),
    ({"title": "  ", "text": "x"}, "'title' must not be empty"),
    ({"title": "t"}, "'text' must be a string"),
    ({"title": "t" * 201, "text": "x"}, "'title' must be at most 200 characters"),
    ({"title": "t", "text": "\ud800"}, "'text' is not valid Unicode text"),
    ({"title": "t", "text": "x", "reason": None}, "'reason' must be a string"),
    ({"title": "t", "text": "x", "colour": "red"},
     "unknown field 'colour'; expected: id, title, text, accounts, kind, reason, start, end"),
    ({"title": "t", "text": "x", "kind": "outage"}, "'kind' must be one of maintenance, fault, notice"),
    ({"title": "t", "text": "x", "accounts": []}, BAD_ACCOUNTS),
    ({"title": "t", "text": "x", "accounts": ACCOUNT}, BAD_ACCOUNTS),
    ({"title": "t", "text": "x", "accounts": [""]}, BAD_ACCOUNTS),
    ({"title": "t", "text": "x", "accounts": ["nobody"]}, "no account 'nobody'"),
    ({"title": "t", "text": "x", "start": "soon"}, "'start' must be seconds since the epoch, or null"),
    ({"title": "t", "text": "x", "end": True}, "'end' must be seconds since the epoch, or null"),
    ({"title": "t", "text": "x", "id": "../x"},
     "'id' must be 1 to 200 letters, digits and . _ : / @ + -, starting with a letter or digit"),
    ({"title": "t", "text": "x", "id": ""},
     "'id' must be 1 to 200 letters, digits and . _ : / @ + -, starting with a letter or digit"),
    (["title", "text"], 'the body must be a JSON object: {"title": ..., "text": ...}'),
])
async def test_notice_bad_bodies(api: Api, body: object, complaint: str) -> None:
    assert await _post_notice(api, body) == (400, {"error": complaint})
    assert (await api.get("/notices"))[1] == []


async def test_notice_invalid_json_and_parameters(api: Api) -> None:
    status, _, text = await api.raw("POST", "/notices", data=b"{", headers={"Content-Type": "application/json"})
    assert (status, text) == (400, '{"error": "the body must be JSON"}')
    assert await api.get("/notices", since="soon") == (400, {
        "error": "since must be a number of seconds since the epoch, not 'soon'"})
    assert await api.get("/notices", acount=ACCOUNT) == (400, {
        "error": "unknown parameter 'acount'; expected: account, since"})


async def test_notices_without_a_board_are_503(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(api.simulator, "notices", None)
    assert await api.get("/notices") == (503, {"error": "notices are not available"})
    assert await _post_notice(api, {"title": "t", "text": "x"}) == (503, {"error": "notices are not available"})
