"""The control API's operator routes against a real simulator: scenario control, subscribers (clause 3.4),
suspension (clause 3.9), policy violations, billing and statistics (clauses 2.4, 4.2-4.4).

Same set-up as test_api.py (whose helpers this module borrows): real listeners on free ports, real HTTP,
time on a :class:`VirtualClock`.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import AsyncIterator
from pathlib import Path
from types import MappingProxyType
from typing import Any

import aiohttp
import pytest
from netclient import NetClient
from test_api import (
    ACCOUNT,
    HANDSET,
    MASKED_HANDSET,
    SECRET,
    SERVICE_CODE,
    START,
    Api,
    RecordingEventLog,
    SmppPartner,
    make_config,
    start_api,
)

import simulator.api as api_module
from protocols import smpp
from simulator.api import OPENAPI
from simulator.billing import BillingError
from simulator.clock import VirtualClock
from simulator.refusals import SMPP_SUSPENDED
from simulator.server import Simulator

OTHER_HANDSET = "13900139000"
MASKED_OTHER = "139****9000"
NO_SCENARIO = {"error": "no scenario is running"}


@pytest.fixture
async def api(tmp_path: Path) -> AsyncIterator[Api]:
    running, stop = await start_api(tmp_path)
    try:
        yield running
    finally:
        await stop()


async def send(api: Api, method: str, path: str, **kwargs: Any) -> tuple[int, Any]:
    async with api.http.request(method, api.base + path, **kwargs) as response:
        return response.status, await response.json()


def schema_properties(name: str) -> set[str]:
    schemas: Any = OPENAPI["components"]
    return set(schemas["schemas"][name]["properties"])


# -- /scenario ---------------------------------------------------------------------------------------------


async def test_without_a_scenario_nothing_runs(api: Api) -> None:
    assert await api.get("/scenario") == (200, {"running": False})
    for path in ("/scenario/pause", "/scenario/resume", "/scenario/trigger/throttle"):
        assert await send(api, "POST", path) == (409, NO_SCENARIO), path


async def test_start_a_ready_scenario_then_pause_resume_and_trigger(api: Api) -> None:
    status, started = await send(api, "POST", "/scenario", json={"name": "certification"})
    assert status == 201, started
    assert (started["running"], started["name"], started["paused"]) == (True, "certification", False)
    assert started["scenario"] == "certification"
    assert started["file"].endswith("scenarios/certification.toml")
    assert started["start"] == START
    assert started["active"] == []
    assert (started["next"]["event"], started["next"]["action"], started["next"]["at"]) == ("throttle", "begin",
                                                                                           START + 30)
    assert started["next_in"] == 30
    assert set(started) <= schema_properties("ScenarioStatus")
    assert await api.get("/scenario") == (200, started)
    assert ("scenario.started", {"name": "certification", "events": 4}) in api.events.recorded

    status, paused = await send(api, "POST", "/scenario/pause")
    assert status == 200
    assert (paused["paused"], paused["paused_at"], paused["next_in"]) == (True, START, None)
    assert (await send(api, "POST", "/scenario/pause"))[1]["paused_at"] == START  # pausing twice changes nothing
    await api.clock.advance(60)  # past the throttle's planned begin: held while paused
    _, held = await api.get("/scenario")
    assert held["active"] == []
    assert held["next"]["state"] == "pending"
    assert (await api.get(f"/accounts/{ACCOUNT}"))[1]["limits"] == {"rate": None, "window": 8}

    status, resumed = await send(api, "POST", "/scenario/resume")
    assert status == 200
    assert resumed["paused"] is False
    assert (resumed["next"]["at"], resumed["next"]["planned"]) == (START + 90, START + 30)  # shifted by the pause
    assert resumed["next_in"] == 30

    status, triggered = await send(api, "POST", "/scenario/trigger/throttle")
    assert status == 200
    assert triggered == {"steps": [
        {"at": START + 60, "action": "begin", "event": "throttle", "detail": "rate 5/s, for 00:01:00"},
        {"at": START + 120, "action": "end", "event": "throttle",
         "detail": "throttle lifted: contracted rate and window restored"}]}
    _, account = await api.get(f"/accounts/{ACCOUNT}")
    assert (account["rate"], account["limits"]) == (None, {"rate": 5.0, "window": 8})  # contract vs in force
    _, status_now = await api.get("/scenario")
    assert [(a["event"], a["until"]) for a in status_now["active"]] == [("throttle", START + 120)]

    assert await send(api, "POST", "/scenario/trigger/throttle") == (409, {
        "error": "event 'throttle' is active since 2026-05-29 04:27:40 Asia/Shanghai"})
    assert await send(api, "POST", "/scenario/trigger/nope") == (404, {
        "error": "no event 'nope' in scenario certification (ids: throttle, maintenance, error-burst, recovery)"})
    # Replacing it now would leave the throttle in force for good.
    assert await send(api, "POST", "/scenario", json={"name": "certification"}) == (409, {
        "error": "scenario certification has events under way (throttle); they must end before another scenario "
                 "replaces it"})

    await api.clock.advance(60)  # the triggered occurrence ends
    assert (await api.get(f"/accounts/{ACCOUNT}"))[1]["limits"] == {"rate": None, "window": 8}
    kinds = [kind for kind, _ in api.events.recorded]
    assert {"scenario.paused", "scenario.resumed", "scenario.triggered"} <= set(kinds)
    assert ("scenario.triggered", {"name": "certification", "id": "throttle"}) in api.events.recorded


SCENARIO = """\
schema = 1
name = "tiny"
description = "one notice"
seed = 3
timezone = "Asia/Shanghai"

[[events]]
id = "hello"
kind = "notice"
at = "+00:00:10"
title = "Hello"
text = "A notice from a scenario file"
"""


async def test_start_a_scenario_file_replacing_an_idle_one(api: Api, tmp_path: Path) -> None:
    path = tmp_path / "tiny.toml"
    path.write_text(SCENARIO)
    assert (await send(api, "POST", "/scenario", json={"name": "certification"}))[0] == 201
    status, started = await send(api, "POST", "/scenario", json={"name": str(path)})
    assert status == 201, started
    assert (started["name"], started["file"], started["seed"]) == ("tiny", str(path), 3)
    assert [(s["event"], s["action"], s["at"]) for s in started["steps"]] == [("hello", "apply", START + 10)]
    assert api.simulator.runner is not None
    assert api.simulator.runner.scenario.name == "tiny"
    status, triggered = await send(api, "POST", "/scenario/trigger/hello")  # an instant event is never "active"
    assert (status, [step["action"] for step in triggered["steps"]]) == (200, ["apply"])


async def test_scenario_errors(api: Api, tmp_path: Path) -> None:
    broken = tmp_path / "broken.toml"
    broken.write_text(SCENARIO.replace('kind = "notice"', 'kind = "party"'))
    status, answer = await send(api, "POST", "/scenario", json={"name": str(broken)})
    assert status == 400
    assert answer["error"].startswith(f"{broken}:9: ")  # ScenarioError's one line: FILE:LINE: message
    assert "\n" not in answer["error"]

    status, answer = await send(api, "POST", "/scenario", json={"name": "certificaton"})
    assert status == 400
    assert answer["error"].startswith("no ready scenario or file 'certificaton'; ready scenarios: ")
    assert "certification" in answer["error"]

    text_file = tmp_path / "notes.txt"
    text_file.write_text("not a scenario")
    for name in (str(text_file), "/dev/zero", str(tmp_path)):  # never read: not a .toml file
        status, answer = await send(api, "POST", "/scenario", json={"name": name})
        assert status == 400
        assert "is not a scenario file: a .toml file of at most 1024 KiB" in answer["error"], name

    for body, complaint in [
        ({"name": 5}, "'name' must be a ready scenario's name (e.g. certification) or a scenario file's path"),
        ({"name": " "}, "'name' must be a ready scenario's name (e.g. certification) or a scenario file's path"),
        ({}, "'name' must be a ready scenario's name (e.g. certification) or a scenario file's path"),
        ({"name": "certification", "speed": 2}, "unknown field 'speed'; expected: name"),
        ({"name": "a" * 300}, f"cannot read the scenario {'a' * 40!r}..."),  # too long for the file system
        (["certification"], 'the body must be a JSON object: {"name": ...}'),
    ]:
        assert await send(api, "POST", "/scenario", json=body) == (400, {"error": complaint}), body
    status, _, text = await api.raw("POST", "/scenario", data=b"{", headers={"Content-Type": "application/json"})
    assert (status, text) == (400, '{"error": "the body must be JSON"}')
    assert await api.get("/scenario") == (200, {"running": False})  # nothing was started
    assert await api.get("/scenario", verbose="1") == (400, {"error": "unknown parameter 'verbose'; expected: none"})


# -- /accounts/{id}/subscribers (clause 3.4) ---------------------------------------------------------------


async def test_subscribers_from_json_are_masked_in_answers(api: Api) -> None:
    assert await api.get(f"/accounts/{ACCOUNT}/subscribers") == (200, {
        "account": ACCOUNT, "subscribers": [], "count": 0})
    body = {"numbers": [OTHER_HANDSET, "+86" + HANDSET]}  # national() drops the country code
    assert await send(api, "POST", f"/accounts/{ACCOUNT}/subscribers", json=body) == (201, {"added": 2, "count": 2})
    assert await send(api, "POST", f"/accounts/{ACCOUNT}/subscribers", json={"numbers": [HANDSET]}) == (
        201, {"added": 0, "count": 2})

    status, _, text = await api.raw("GET", f"/accounts/{ACCOUNT}/subscribers")
    assert status == 200
    assert HANDSET not in text and OTHER_HANDSET not in text
    assert await api.get(f"/accounts/{ACCOUNT}/subscribers") == (200, {
        "account": ACCOUNT, "subscribers": [MASKED_HANDSET, MASKED_OTHER], "count": 2})
    assert await api.get("/accounts/900002/subscribers") == (200, {"account": "900002", "subscribers": [],
                                                                   "count": 0})

    gateway, store = api.simulator.gateway, api.simulator.store
    assert gateway is not None and store is not None
    assert gateway.policy.subscribers.is_subscribed(ACCOUNT, HANDSET)
    assert sorted(await store.subscribers()) == [(ACCOUNT, HANDSET), (ACCOUNT, OTHER_HANDSET)]  # written through
    assert ("subscriber.added", {"account": ACCOUNT, "numbers": [MASKED_OTHER, MASKED_HANDSET], "origin": "api"}
            ) in api.events.recorded


async def test_subscribers_from_csv_with_a_header(api: Api) -> None:
    csv_text = f"number,name\r\n{HANDSET},Li\r\n\r\n 86{OTHER_HANDSET} ,Wang\r\n\"13700137000\"\r\n"
    status, answer = await send(api, "POST", f"/accounts/{ACCOUNT}/subscribers", data=csv_text.encode(),
                                headers={"Content-Type": "text/csv; charset=utf-8"})
    assert (status, answer) == (201, {"added": 3, "count": 3})
    _, listed = await api.get(f"/accounts/{ACCOUNT}/subscribers")
    assert listed["subscribers"] == ["137****7000", MASKED_HANDSET, MASKED_OTHER]
    assert api.events.recorded[-1][1]["origin"] == "csv"

    # No header: the first line is a number too (a BOM, as spreadsheets write, is dropped).
    status, answer = await send(api, "POST", "/accounts/900002/subscribers",
                                data=f"\ufeff{HANDSET}\n".encode(), headers={"Content-Type": "text/csv"})
    assert (status, answer) == (201, {"added": 1, "count": 1})


@pytest.mark.parametrize(("data", "complaint"), [
    (f"phone\n{HANDSET}\n12ab\n{OTHER_HANDSET}\n",
     "line 3: '12ab' is not a phone number: 5 to 20 digits (a +86, 0086 or 86 prefix is dropped)"),
    (f"{HANDSET}\n1234\n",
     "line 2: '1234' is not a phone number: 5 to 20 digits (a +86, 0086 or 86 prefix is dropped)"),
    (f"1380013800x\n{HANDSET}\n",  # a first line with digits is not a header: it is a bad number
     "line 1: '1380013800x' is not a phone number: 5 to 20 digits (a +86, 0086 or 86 prefix is dropped)"),
    (f"number\n{HANDSET}\n,{OTHER_HANDSET}\n",
     "line 3: '' is not a phone number: 5 to 20 digits (a +86, 0086 or 86 prefix is dropped)"),
    ("number\n", "the body names no number"),
    ("", "the body names no number"),
    ("\xff", "the CSV body must be UTF-8 text"),
    (f"{HANDSET}\n1\0\n",
     "line 2: '1\\x00' is not a phone number: 5 to 20 digits (a +86, 0086 or 86 prefix is dropped)"),
    (f"{HANDSET}\n{'9' * 200_000}\n", "line 2: not CSV (field larger than field limit (131072))"),
])
async def test_subscribers_csv_with_a_bad_line_adds_nothing(api: Api, data: str, complaint: str) -> None:
    raw = data.encode("latin-1") if data == "\xff" else data.encode()
    status, answer = await send(api, "POST", f"/accounts/{ACCOUNT}/subscribers", data=raw,
                                headers={"Content-Type": "text/csv"})
    assert (status, answer) == (400, {"error": complaint})
    assert (await api.get(f"/accounts/{ACCOUNT}/subscribers"))[1]["count"] == 0  # all or nothing


@pytest.mark.parametrize(("body", "complaint"), [
    ({"numbers": [HANDSET, "+1 555 0100"]},
     "numbers[1]: '+1 555 0100' is not a phone number: 5 to 20 digits (a +86, 0086 or 86 prefix is dropped)"),
    ({"numbers": ["1" * 21]}, "numbers[0]: '111111111111111111111' is not a phone number: 5 to 20 digits "
                              "(a +86, 0086 or 86 prefix is dropped)"),
    ({"numbers": ["１３８００１３８０００"]},  # fullwidth digits: not ASCII
     "numbers[0]: '１３８００１３８０００' is not a phone number: 5 to 20 digits "
     "(a +86, 0086 or 86 prefix is dropped)"),
    ({"numbers": []}, "the body names no number"),
    ({"numbers": HANDSET}, "'numbers' must be a list of phone numbers (strings)"),
    ({"numbers": [13800138000]}, "'numbers' must be a list of phone numbers (strings)"),
    ({}, "'numbers' must be a list of phone numbers (strings)"),
    ({"numbers": [HANDSET], "origin": "csv"}, "unknown field 'origin'; expected: numbers"),
    ([HANDSET], 'the body must be a JSON object: {"numbers": ["13800138000", ...]}'),
])
async def test_subscribers_bad_json_bodies(api: Api, body: object, complaint: str) -> None:
    assert await send(api, "POST", f"/accounts/{ACCOUNT}/subscribers", json=body) == (400, {"error": complaint})
    assert (await api.get(f"/accounts/{ACCOUNT}/subscribers"))[1]["count"] == 0


async def test_remove_a_subscriber(api: Api) -> None:
    await send(api, "POST", f"/accounts/{ACCOUNT}/subscribers", json={"numbers": [HANDSET, OTHER_HANDSET]})
    assert await send(api, "DELETE", f"/accounts/{ACCOUNT}/subscribers/+86{HANDSET}") == (200, {"removed": 1})
    assert (await api.get(f"/accounts/{ACCOUNT}/subscribers"))[1]["subscribers"] == [MASKED_OTHER]
    assert await send(api, "DELETE", f"/accounts/{ACCOUNT}/subscribers/{HANDSET}") == (404, {
        "error": f"{MASKED_HANDSET} is not a subscriber of account {ACCOUNT}"})  # masked in the complaint too
    assert await send(api, "DELETE", f"/accounts/900002/subscribers/{OTHER_HANDSET}") == (404, {
        "error": f"{MASKED_OTHER} is not a subscriber of account 900002"})
    assert await send(api, "DELETE", f"/accounts/{ACCOUNT}/subscribers/12ab") == (400, {
        "error": "number: '12ab' is not a phone number: 5 to 20 digits (a +86, 0086 or 86 prefix is dropped)"})
    store = api.simulator.store
    assert store is not None
    assert await store.subscribers() == [(ACCOUNT, OTHER_HANDSET)]


async def test_unknown_account_is_404_on_every_account_route(api: Api) -> None:
    nobody = {"error": "no account 'nobody'"}
    assert await api.get("/accounts/nobody/subscribers") == (404, nobody)
    assert await send(api, "POST", "/accounts/nobody/subscribers", json={"numbers": [HANDSET]}) == (404, nobody)
    assert await send(api, "DELETE", f"/accounts/nobody/subscribers/{HANDSET}") == (404, nobody)
    assert await send(api, "POST", "/accounts/nobody/reinstate") == (404, nobody)


# -- suspension (clause 3.9) and /violations ---------------------------------------------------------------


@pytest.fixture
async def strict_api(tmp_path: Path) -> AsyncIterator[Api]:
    """A simulator that enforces the number ranges and suspends an account at its first violation."""
    config = make_config(tmp_path)
    policy = dataclasses.replace(config.policy, suspend_after=1, modes=MappingProxyType({"number_range": "enforce"}))
    clock, events = VirtualClock(START), RecordingEventLog()
    simulator = Simulator(dataclasses.replace(config, policy=policy), clock, events=events, with_api=True,
                          goodbye_seconds=0.2)
    endpoints = await simulator.start()
    assert endpoints.api is not None
    host, port = endpoints.api
    http = aiohttp.ClientSession()
    try:
        yield Api(simulator, clock, events, http, f"http://{host}:{port}")
    finally:
        await http.close()
        await simulator.stop()


async def smpp_client(api: Api) -> NetClient:
    assert api.simulator.endpoints is not None
    client = await NetClient.smpp(api.simulator.endpoints.smpp)
    client.send(smpp.BindTransceiver(system_id=ACCOUNT, password=SECRET, interface_version=0x34))
    (resp,) = await client.expect(smpp.BindTransceiverResp)
    assert resp.command_status == 0
    return client


async def submit(client: NetClient, destination: str) -> int:
    client.send(smpp.SubmitSm(source_addr=SERVICE_CODE, destination_addr=destination, short_message=b"hi"))
    (resp,) = await client.expect(smpp.SubmitSmResp)
    return int(resp.command_status)


async def test_suspension_is_shown_and_reinstated(strict_api: Api) -> None:
    api = strict_api
    client = await smpp_client(api)
    try:
        assert await submit(client, "13000000000") == smpp.CommandStatus.ESME_RINVDSTADR  # outside the ranges
        assert await submit(client, HANDSET) == SMPP_SUSPENDED  # the first violation suspended the account
        _, account = await api.get(f"/accounts/{ACCOUNT}")
        assert account["suspended"] is True
        assert (await api.get("/accounts/900002"))[1]["suspended"] is False

        status, violations = await api.get("/violations")
        assert status == 200
        # The refused submit broke two rules: the enforced number ranges, and (monitored) the opt-in list.
        assert [(v["rule"], v["mode"]) for v in violations] == [("number_range", "enforce"), ("subscribers", "monitor")]
        status, enforced = await api.get("/violations", rule="number_range", account=ACCOUNT)
        assert enforced == [{"at": START, "account": ACCOUNT, "session": violations[0]["session"],
                             "rule": "number_range", "mode": "enforce", "recipients": 1,
                             "evidence": {"destinations": ["130****0000"],
                                          "ranges": ["135", "136", "137", "138", "139"]}}]
        assert set(enforced[0]) == schema_properties("Violation")

        assert await send(api, "POST", f"/accounts/{ACCOUNT}/reinstate") == (200, {"suspended": False})
        assert (await api.get(f"/accounts/{ACCOUNT}"))[1]["suspended"] is False
        # Opted in (clause 3.4), so that the next submit breaks no rule, not even a monitored one.
        assert (await send(api, "POST", f"/accounts/{ACCOUNT}/subscribers", json={"numbers": [HANDSET]}))[0] == 201
        assert await submit(client, HANDSET) == 0  # may submit again
        assert (await api.get(f"/accounts/{ACCOUNT}"))[1]["suspended"] is False
        assert len((await api.get("/violations"))[1]) == 2  # nothing new
        assert ("account.reinstated", {"account": ACCOUNT, "origin": "api"}) in api.events.recorded
        # Reinstating an account that is not suspended changes nothing (and records nothing).
        assert await send(api, "POST", f"/accounts/{ACCOUNT}/reinstate") == (200, {"suspended": False})
        assert [kind for kind, _ in api.events.recorded].count("account.reinstated") == 1
    finally:
        await client.close()


async def test_violations_filters(api: Api) -> None:
    store = api.simulator.store
    assert store is not None
    for at, account, rule in ((START + 1, ACCOUNT, "content"), (START + 2, ACCOUNT, "advertising"),
                              (START + 3, "900002", "content")):
        store.record_violation(at, account=account, session="cmpp-1", rule=rule, mode="monitor", recipients=2,
                               evidence={"text": "x"})

    async def seen(**params: str) -> list[float]:
        status, violations = await api.get("/violations", **params)
        assert status == 200, violations
        return [violation["at"] for violation in violations]

    assert await seen() == [START + 1, START + 2, START + 3]  # oldest first, queued writes included
    assert await seen(account=ACCOUNT) == [START + 1, START + 2]
    assert await seen(rule="content") == [START + 1, START + 3]
    assert await seen(since=str(START + 2)) == [START + 2, START + 3]
    assert await seen(until=str(START + 2)) == [START + 1]
    assert await seen(limit="1") == [START + 1]
    assert await seen(rule="content", account="900002") == [START + 3]

    assert await api.get("/violations", rule="spam") == (400, {
        "error": "rule must be one of caller_number, service_code, msg_src, service_id, fee, number_range, "
                 "group_size, subscribers, content, advertising, bulk, not 'spam'"})
    assert await api.get("/violations", until="later") == (400, {
        "error": "until must be a number of seconds since the epoch, not 'later'"})
    assert await api.get("/violations", limit="0") == (400, {
        "error": "limit must be a whole number from 1 to 1000, not '0'"})
    assert await api.get("/violations", session="cmpp-1") == (400, {
        "error": "unknown parameter 'session'; expected: account, rule, since, until, limit"})


# -- /billing, /statistics (clauses 2.4, 4.2-4.4) ----------------------------------------------------------


async def test_billing_of_the_current_month(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    partner = await SmppPartner.connect(api)
    await partner.bind()
    await partner.submit()
    await partner.submit(destination=OTHER_HANDSET)
    await partner.close()

    threads: list[threading.Thread] = []
    real_statement = api_module.statement

    def watched(*args: Any, **kwargs: Any) -> Any:
        threads.append(threading.current_thread())
        return real_statement(*args, **kwargs)

    monkeypatch.setattr(api_module, "statement", watched)
    status, billing = await api.get("/billing")  # START is 2026-05-29 in Asia/Shanghai
    assert status == 200
    assert threads and threads[0] is not threading.main_thread()  # the sqlite read ran in a worker thread
    assert billing["month"] == "2026-05"
    assert await api.get("/billing", month="2026-05") == (200, billing)
    statements = {item["account"]: item for item in billing["statements"]}
    assert list(statements) == [ACCOUNT, "900002"]  # configuration order, an idle port too (it owes its rent)
    mine = statements[ACCOUNT]
    assert set(mine) == schema_properties("Statement")
    assert (mine["month"], mine["configured"], mine["billable"]) == ("2026-05", True, 2)
    for money in ("rent", "message_fee", "fees", "ad_penalty", "penalties", "total"):
        assert isinstance(mine[money], str), money  # exact decimals, never floats
    assert statements["900002"]["billable"] == 0

    _, april = await api.get("/billing", month="2026-04")
    assert [item["billable"] for item in april["statements"]] == [0, 0]


async def test_statistics_of_a_month(api: Api) -> None:
    partner = await SmppPartner.connect(api)
    await partner.bind()
    await partner.submit()
    await partner.close()
    status, statistics = await api.get("/statistics", month="2026-05")
    assert status == 200
    assert statistics["month"] == "2026-05"
    ports = {(port["account"], port["service_code"]): port for port in statistics["statistics"]}
    assert list(ports) == [(ACCOUNT, SERVICE_CODE), ("900002", "10690002"), ("900002", "106900021")]
    mine = ports[ACCOUNT, SERVICE_CODE]
    assert set(mine) == schema_properties("PortStatistics")
    assert (mine["submitted"], mine["accepted"], mine["throttled"]) == (1, 1, 0)
    assert mine["delivered"] + mine["failed"] + mine["enroute"] == 1
    assert (await api.get("/statistics"))[1] == statistics  # the current month by default


@pytest.mark.parametrize("path", ["/billing", "/statistics"])
@pytest.mark.parametrize(("month", "complaint"), [
    ("2026-13", "month must be YYYY-MM (e.g. 2026-11), got '2026-13'"),
    ("May", "month must be YYYY-MM (e.g. 2026-11), got 'May'"),
    ("2026-5", "month must be YYYY-MM (e.g. 2026-11), got '2026-5'"),
])
async def test_billing_bad_month(api: Api, path: str, month: str, complaint: str) -> None:
    assert await api.get(path, month=month) == (400, {"error": complaint})
    assert await api.get(path, year="2026") == (400, {"error": "unknown parameter 'year'; expected: month"})


async def test_billing_with_an_unreadable_store_is_503(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    def unreadable(*args: Any, **kwargs: Any) -> Any:
        raise BillingError("cannot read the store /secret/place/smsclab.sqlite: disk I/O error")

    monkeypatch.setattr(api_module, "statement", unreadable)
    monkeypatch.setattr(api_module, "monthly_statistics", unreadable)
    for path in ("/billing", "/statistics"):
        assert await api.get(path) == (503, {"error": "the store cannot be read now"}), path


async def test_new_answers_match_the_document(api: Api) -> None:
    _, account = await api.get(f"/accounts/{ACCOUNT}")
    assert set(account) == schema_properties("Account")
    assert set((await api.get(f"/accounts/{ACCOUNT}/subscribers"))[1]) == schema_properties("Subscribers")
    assert set((await api.get("/billing"))[1]) == schema_properties("Billing")
    assert set((await api.get("/statistics"))[1]) == schema_properties("Statistics")
