"""The control API: a small JSON-over-HTTP window onto a running simulator.

Operators and load tests use it to see accounts (the partners' contracted limits and the limits in force),
sessions, stored messages, receipts, audit events and policy violations, to inject mobile-originated messages,
to run, pause, resume and trigger a scenario, to keep each SP's opted-in subscribers (clause 3.4), to lift a
suspension (clause 3.9), to read the month's statistics and bills (clauses 2.4, 4.2-4.4), and to scrape
Prometheus metrics. Handlers are thin: they read query parameters, call the gateway or the store, and shape JSON.

Every route is listed once in :data:`ROUTES`; the hand-written OpenAPI document (:data:`OPENAPI`) describes
the same routes, and a test holds the two together. Whatever goes wrong, the answer is a JSON object
``{"error": "..."}`` with one readable message, never a traceback. Phone numbers are masked by
:meth:`Gateway.mask` (on unless the config switches masking off), and account secrets are never read here.
"""

from __future__ import annotations

import asyncio
import csv
import dataclasses
import io
import json
import math
import re
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from functools import partial
from typing import TYPE_CHECKING, Any, Final, TypeVar

from aiohttp import web
from aiohttp.typedefs import Handler
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from simulator.billing import BillingError, PortStatistics, Statement, month_bounds, monthly_statistics, statement
from simulator.compliance import as_document, judge
from simulator.config import Account
from simulator.gateway import Gateway, MoRoutingError
from simulator.notices import CHANNELS, KINDS, STATUSES, NoticeBoard, NoticeRecord
from simulator.policy import RULES_BY_NAME, national
from simulator.scenario import (
    ACTIONS,
    Scenario,
    ScenarioError,
    ScenarioRunner,
    Step,
    find_scenario,
    load_scenario,
    ready_scenarios,
)
from simulator.store import MessageRow, Store

if TYPE_CHECKING:  # server.py imports this module, so importing it back at run time would be circular
    from simulator.server import Simulator

__all__ = ["MAX_LIMIT", "OPENAPI", "ROUTES", "ApiError", "build_app", "start_api"]

#: Most rows one query returns; more would make the answer (and the sqlite read) unreasonably large.
MAX_LIMIT: Final = 1000
_DEFAULT_MESSAGE_LIMIT: Final = 100
#: How long stopping waits for requests in flight (the simulator's own goodbye takes about as long).
_SHUTDOWN_SECONDS: Final = 2.0
#: An MO source or destination: what both CMPP (21-octet terminal ids) and SMPP (21-octet C-strings,
#: NUL included) can carry, so an injected MO can always be delivered to whichever protocol the partner uses.
_ADDRESS = re.compile(r"^\+?[0-9]{1,20}$")  # anchored: the pattern is also published in the document
_RECEIPT_STATES: Final = ("none", "pending", "sent", "acked", "failed")
#: A limit as digits: ASCII only and short, because int() takes other scripts' digits but not "²", and
#: refuses (with ValueError) strings of more than 4300 digits.
_LIMIT_DIGITS = re.compile(r"[0-9]{1,4}")
_SHOWN_MAX = 40  # a bad value quoted back in an error is cut here, so the message stays one short line
#: Most audit events one compliance report reads (about 1 KB each in memory); a longer period is judged on its
#: first events only, and the answer says so (``truncated``).
_COMPLIANCE_EVENTS: Final = 200_000

#: A notice id given by hand: the key of the event it announces, e.g. "upgrade/lead-3600".
_NOTICE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:/@+-]{0,199}$")
#: The longest title, reason and text of a notice published by hand (its text then goes out as an MO too).
_NOTICE_LENGTHS: Final = {"title": 200, "reason": 500, "text": 2000}
_NOTICE_FIELDS: Final = ("id", "title", "text", "accounts", "kind", "reason", "start", "end")

#: A subscriber's number once ``national()`` has dropped a +86 / 0086 / 86 prefix: ASCII digits only.
_SUBSCRIBER = re.compile(r"[0-9]{5,20}")
_SUBSCRIBER_EXPECT: Final = "5 to 20 digits (a +86, 0086 or 86 prefix is dropped)"
#: The longest scenario name or path a POST /scenario body may give, and the largest scenario file it may load.
_SCENARIO_NAME_MAX: Final = 4096
_SCENARIO_BYTES: Final = 1024 * 1024

_T = TypeVar("_T")

_SIMULATOR: Final = web.AppKey["Simulator"]("simulator")
_dumps = partial(json.dumps, ensure_ascii=False)  # Chinese message text stays readable in the answers


class ApiError(Exception):
    """A request the API refuses: becomes ``{"error": message}`` with ``status``."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def _json(data: object, status: int = 200) -> web.Response:
    return web.json_response(data, status=status, dumps=_dumps)


# -- getting at the simulator's parts ---------------------------------------------------------------------


def _simulator(request: web.Request) -> Simulator:
    return request.app[_SIMULATOR]


def _gateway(request: web.Request) -> Gateway:
    gateway = _simulator(request).gateway
    if gateway is None:  # only between the API starting and the gateway existing, or after a failed start
        raise ApiError(503, "the simulator is not running")
    return gateway


def _store(request: web.Request) -> Store:
    store = _simulator(request).store
    if store is None:
        raise ApiError(503, "the simulator is not running")
    return store


# -- query parameters -------------------------------------------------------------------------------------


def _query(request: web.Request, allowed: tuple[str, ...]) -> dict[str, str]:
    """The query parameters, empty ones dropped; an unknown name is refused (a typo would else match all)."""
    for name in request.query:
        if name not in allowed:
            expected = ", ".join(allowed) if allowed else "none"
            raise ApiError(400, f"unknown parameter {_shown(name)}; expected: {expected}")
    return {name: value for name, value in request.query.items() if value != ""}


def _shown(raw: str) -> str:
    return repr(raw) if len(raw) <= _SHOWN_MAX else repr(raw[:_SHOWN_MAX]) + "..."


def _time(params: Mapping[str, str], name: str) -> float | None:
    """An epoch-seconds parameter."""
    raw = params.get(name)
    if raw is None:
        return None
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise ApiError(400, f"{name} must be a number of seconds since the epoch, not {_shown(raw)}")
    return value


def _limit(params: Mapping[str, str], default: int) -> int:
    raw = params.get("limit")
    if raw is None:
        return default
    if not _LIMIT_DIGITS.fullmatch(raw) or not 1 <= int(raw) <= MAX_LIMIT:
        raise ApiError(400, f"limit must be a whole number from 1 to {MAX_LIMIT}, not {_shown(raw)}")
    return int(raw)


# -- shaping ----------------------------------------------------------------------------------------------


def _message(row: MessageRow, gateway: Gateway, now: float) -> dict[str, object]:
    """A stored MT message as the API shows it; the handset number (destination) is masked."""
    return {
        "id": row.id, "message_id": row.message_id, "account": row.account, "protocol": row.protocol,
        "submitted_at": row.submitted_at, "source": row.source, "destination": gateway.mask(row.destination),
        "data_coding": row.data_coding, "text": row.text, "message_text": row.message_text,
        "segment": {"ref": row.segment_ref, "total": row.segment_total, "number": row.segment_number},
        "registered_delivery": row.registered_delivery, "state": gateway.state_of(row, now), "err": row.err,
        "done_at": row.done_at, "receipt_state": row.receipt_state, "receipt_attempts": row.receipt_attempts,
    }


def _account_of(gateway: Gateway, account_id: str) -> Account:
    account = gateway.account(account_id)
    if account is None:
        raise ApiError(404, f"no account {_shown(account_id)}")
    return account


def _account(gateway: Gateway, account_id: str) -> dict[str, object]:
    """An account's contracted terms, the limits in force now (after scenario overrides), whether it is
    suspended (clause 3.9) and its live connection count. The secret and the IP allow-list are deliberately
    left out: the API is readable by anyone who can reach it."""
    account = _account_of(gateway, account_id)
    rate, window = gateway.limits(account.id)
    return {
        "id": account.id, "service_codes": list(account.service_codes), "service_ids": list(account.service_ids),
        "rate": account.rate, "window": account.window, "max_connections": account.max_connections,
        "dlr_profile": account.dlr_profile, "message_id_format": account.message_id_format,
        "connections": gateway.connections(account.id), "suspended": gateway.policy.is_suspended(account.id),
        "limits": {"rate": rate, "window": window},
    }


def _step(step: Step) -> dict[str, object]:
    """A scenario step as POST /scenario/trigger shows it."""
    return {"at": step.at, "action": step.action, "event": step.event.id, "detail": step.detail}


def _report(items: Sequence[Statement] | Sequence[PortStatistics]) -> list[dict[str, object]]:
    """Billing statements or port statistics as JSON objects; money (Decimal) as strings, so it stays exact."""
    return [{field.name: _exact(getattr(item, field.name)) for field in dataclasses.fields(item)} for item in items]


def _exact(value: object) -> object:
    return str(value) if isinstance(value, Decimal) else value


# -- request bodies ---------------------------------------------------------------------------------------


async def _json_object(request: web.Request, shape: str) -> dict[str, Any]:
    """The request body as a JSON object; ``shape`` shows what is expected when it is something else."""
    try:
        body: object = await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise ApiError(400, "the body must be JSON") from None
    if not isinstance(body, dict):
        raise ApiError(400, f"the body must be a JSON object: {shape}")
    return body


def _only_fields(body: Mapping[str, object], allowed: tuple[str, ...]) -> None:
    for name in body:
        if name not in allowed:
            raise ApiError(400, f"unknown field {_shown(name)}; expected: {', '.join(allowed)}")


def _subscriber(raw: str, where: str) -> str:
    """A subscriber's number in national form, checked; ``where`` names the line or item in the complaint."""
    number = national(raw.strip())
    if not _SUBSCRIBER.fullmatch(number):
        raise ApiError(400, f"{where}: {_shown(raw)} is not a phone number: {_SUBSCRIBER_EXPECT}")
    return number


def _json_numbers(body: Mapping[str, object]) -> list[str]:
    """The numbers of a ``{"numbers": [...]}`` body, checked and in national form."""
    _only_fields(body, ("numbers",))
    numbers = body.get("numbers")
    if not isinstance(numbers, list) or not all(isinstance(number, str) for number in numbers):
        raise ApiError(400, "'numbers' must be a list of phone numbers (strings)")
    return [_subscriber(number, f"numbers[{index}]") for index, number in enumerate(numbers)]


def _csv_numbers(data: bytes) -> list[str]:
    """The numbers of a CSV body: the first column of each line (blank lines skipped); a first line whose
    first cell has no digit at all is a header and is skipped. A bad number is named by its line."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ApiError(400, "the CSV body must be UTF-8 text") from None
    reader = csv.reader(io.StringIO(text, newline=""))
    numbers: list[str] = []
    first = True
    try:
        for row in reader:
            cell = row[0].strip() if row else ""
            if not cell and all(not other.strip() for other in row):
                continue
            if first and not any(character.isdigit() for character in cell):
                first = False
                continue
            first = False
            numbers.append(_subscriber(cell, f"line {reader.line_num}"))
    except csv.Error as error:
        raise ApiError(400, f"line {reader.line_num}: not CSV ({error})") from None
    return numbers


# -- handlers ---------------------------------------------------------------------------------------------


async def health(request: web.Request) -> web.Response:
    """Liveness, the simulated time and where each listener is bound."""
    _query(request, ())
    simulator = _simulator(request)
    endpoints = simulator.endpoints
    listeners: dict[str, object] = {}
    if endpoints is not None:  # None while the simulator is still starting (the API comes up first)
        listeners = {"cmpp": list(endpoints.cmpp), "smpp": list(endpoints.smpp),
                     "api": None if endpoints.api is None else list(endpoints.api)}
    return _json({"status": "ok", "now": simulator.clock.now(), "listeners": listeners})


async def openapi(request: web.Request) -> web.Response:
    """This API's OpenAPI 3.1 description."""
    _query(request, ())
    return _json(OPENAPI)


async def list_accounts(request: web.Request) -> web.Response:
    """Every configured account, without secrets."""
    _query(request, ())
    gateway = _gateway(request)
    return _json([_account(gateway, account.id) for account in gateway.config.accounts])


async def get_account(request: web.Request) -> web.Response:
    """One account, without its secret."""
    _query(request, ())
    return _json(_account(_gateway(request), request.match_info["id"]))


async def list_sessions(request: web.Request) -> web.Response:
    """The partner sessions attached to the gateway now."""
    _query(request, ())
    return _json([link.describe() for link in _gateway(request).links()])


async def list_messages(request: web.Request) -> web.Response:
    """Stored MT messages, newest first; ``number`` is the full (unmasked) source or destination."""
    params = _query(request, ("account", "number", "id", "since", "until", "limit"))
    since, until, limit = _time(params, "since"), _time(params, "until"), _limit(params, _DEFAULT_MESSAGE_LIMIT)
    gateway = _gateway(request)
    rows = await _store(request).search_messages(account=params.get("account"), number=params.get("number"),
                                                 message_id=params.get("id"), since=since, until=until, limit=limit)
    now = _simulator(request).clock.now()
    return _json([_message(row, gateway, now) for row in rows])


async def list_receipts(request: web.Request) -> web.Response:
    """Messages that asked for a receipt, with where their receipt stands (among the latest 1000)."""
    params = _query(request, ("account", "state"))
    state = params.get("state")
    if state is not None and state not in _RECEIPT_STATES:
        raise ApiError(400, f"state must be one of {', '.join(_RECEIPT_STATES)}, not {_shown(state)}")
    gateway = _gateway(request)
    rows = await _store(request).search_messages(account=params.get("account"), limit=MAX_LIMIT)
    now = _simulator(request).clock.now()
    return _json([{**_message(row, gateway, now), "receipt_due": row.receipt_due} for row in rows
                  if row.registered_delivery != 0 and (state is None or row.receipt_state == state)])


async def inject_mo(request: web.Request) -> web.Response:
    """Queue a mobile-originated message, as if a handset had sent it to a service code."""
    body = await _json_object(request, '{"from": ..., "to": ..., "text": ...}')
    fields = _mo_fields(body)
    try:
        rows = await _gateway(request).inject_mo(*fields)
    except MoRoutingError as error:
        raise ApiError(404, str(error)) from None
    except ValueError as error:  # from splitting the text: it needs more than the 255 segments UDH allows
        raise ApiError(400, str(error)) from None
    return _json({"segments": len(rows), "account": rows[0].account}, status=201)


def _mo_fields(body: Mapping[str, Any]) -> tuple[str, str, str]:
    """``from``, ``to`` and ``text`` of a POST /mo body, checked."""
    values = []
    for name in ("from", "to", "text"):
        value = body.get(name)
        if not isinstance(value, str):
            raise ApiError(400, f"{name!r} must be a string")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate from a JSON \ud800 escape: no encoding can carry it
            raise ApiError(400, f"{name!r} is not valid Unicode text") from None
        values.append(value)
    source, destination, message = values
    for name, address in (("from", source), ("to", destination)):
        if not _ADDRESS.fullmatch(address):
            raise ApiError(400, f"{name!r} must be a phone number or service code: up to 20 digits, "
                                f"optionally after a '+'")
    return source, destination, message


async def list_events(request: web.Request) -> web.Response:
    """Audit events, oldest first."""
    params = _query(request, ("since", "kind", "limit"))
    since, limit = _time(params, "since"), _limit(params, MAX_LIMIT)
    return _json(await _store(request).events(since=since, kind=params.get("kind"), limit=limit))


async def get_compliance(request: web.Request) -> web.Response:
    """Partner compliance verdicts (simulator/compliance.py) judged from the audit events since ``since``,
    for every configured account or only ``account``. The judging runs in a worker thread, off the loop."""
    params = _query(request, ("account", "since"))
    since = _time(params, "since")
    accounts = {account.id: account for account in _gateway(request).config.accounts}
    events = await _store(request).events(since=since, limit=_COMPLIANCE_EVENTS)
    verdicts = await asyncio.to_thread(judge, events, accounts, account=params.get("account"))
    return _json({**as_document(verdicts), "events": len(events), "truncated": len(events) >= _COMPLIANCE_EVENTS})


def _notices(request: web.Request) -> NoticeBoard:
    board = getattr(_simulator(request), "notices", None)
    if not isinstance(board, NoticeBoard):  # the simulator has no notice board (yet)
        raise ApiError(503, "notices are not available")
    return board


async def list_notices(request: web.Request) -> web.Response:
    """The notice feed (agreement clauses 2.9, 2.10), newest first, each notice with its deliveries:
    those concerning ``account`` (addressed to it or to all), published at or after ``since``."""
    params = _query(request, ("account", "since"))
    since = _time(params, "since")
    board = _notices(request)
    feed = await board.feed(account=params.get("account"), since=since)
    deliveries = await board.deliveries_of(str(notice["id"]) for notice in feed)
    return _json([{**notice, "deliveries": deliveries.get(str(notice["id"]), [])} for notice in feed])


async def publish_notice(request: web.Request) -> web.Response:
    """Publish a notice by hand (feed, webhooks, in-band as configured); 409 if its id was published."""
    body = await _json_object(request, '{"title": ..., "text": ...}')
    board = _notices(request)
    notice = _notice_fields(body)
    try:
        board.accounts_of(notice)
    except ValueError as error:
        raise ApiError(400, str(error)) from None
    if not await board.publish(notice):
        raise ApiError(409, f"notice {_shown(notice.id)} was already published")
    record = await board.notice(notice.id)
    assert record is not None  # just stored
    return _json({**record, "deliveries": await board.deliveries(notice.id)}, status=201)


def _notice_fields(body: Mapping[str, Any]) -> NoticeRecord:
    """The notice a POST /notices body describes, checked."""
    _only_fields(body, _NOTICE_FIELDS)
    texts: dict[str, str] = {}
    for name, longest in _NOTICE_LENGTHS.items():
        value = body.get(name, "" if name == "reason" else None)
        if not isinstance(value, str):
            raise ApiError(400, f"{name!r} must be a string")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate from a JSON \ud800 escape
            raise ApiError(400, f"{name!r} is not valid Unicode text") from None
        if len(value) > longest:
            raise ApiError(400, f"{name!r} must be at most {longest} characters")
        texts[name] = value
    if not texts["title"].strip():
        raise ApiError(400, "'title' must not be empty")
    notice_id = body.get("id", f"manual/{uuid.uuid4().hex}")
    if not isinstance(notice_id, str) or not _NOTICE_ID.fullmatch(notice_id):
        raise ApiError(400, "'id' must be 1 to 200 letters, digits and . _ : / @ + -, starting with a letter or digit")
    kind = body.get("kind", "notice")
    if kind not in KINDS:
        raise ApiError(400, f"'kind' must be one of {', '.join(KINDS)}")
    accounts = body.get("accounts", ["*"])
    if not isinstance(accounts, list) or not accounts or not all(isinstance(a, str) and a for a in accounts):
        raise ApiError(400, "'accounts' must be a non-empty list of account ids, or [\"*\"] for all")
    moments: list[float | None] = []
    for name in ("start", "end"):
        value = body.get(name)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)
                                  or not math.isfinite(value)):
            raise ApiError(400, f"{name!r} must be seconds since the epoch, or null")
        moments.append(None if value is None else float(value))
    return NoticeRecord(id=notice_id, kind=kind, title=texts["title"], reason=texts["reason"], start=moments[0],
                        end=moments[1], accounts=tuple(accounts), text=texts["text"])


# -- the scenario (simulator/scenario.py): run, pause, resume, trigger -------------------------------------


def _runner(request: web.Request) -> ScenarioRunner:
    runner = _simulator(request).runner
    if runner is None:
        raise ApiError(409, "no scenario is running")
    return runner


def _scenario_status(request: web.Request, runner: ScenarioRunner) -> dict[str, object]:
    return {"running": True, "name": runner.scenario.name, "paused": runner.paused,
            **runner.status(_simulator(request).clock.now())}


def _read_scenario(name: str) -> Scenario:
    """The scenario ``name`` names (a ready scenario, or a regular .toml file on the server), validated.
    Runs in a worker thread: it reads a file."""
    try:
        path = find_scenario(name)
        if not path.exists():
            ready = ", ".join(ready.stem for ready in ready_scenarios()) or "none"
            raise ApiError(400, f"no ready scenario or file {_shown(name)}; ready scenarios: {ready}")
        # Only what can be a scenario file: not a device (/dev/zero would be read forever) nor any other file.
        if path.suffix != ".toml" or not path.is_file() or path.stat().st_size > _SCENARIO_BYTES:
            raise ApiError(400, f"{_shown(name)} is not a scenario file: a .toml file of at most "
                                f"{_SCENARIO_BYTES // 1024} KiB")
        return load_scenario(path)
    except ScenarioError as error:
        raise ApiError(400, str(error)) from None
    except (OSError, ValueError):  # a NUL in the name, a name too long for the file system, ...
        raise ApiError(400, f"cannot read the scenario {_shown(name)}") from None


async def get_scenario(request: web.Request) -> web.Response:
    """The running scenario with every step's state, or ``{"running": false}``."""
    _query(request, ())
    runner = _simulator(request).runner
    return _json({"running": False} if runner is None else _scenario_status(request, runner))


async def start_scenario(request: web.Request) -> web.Response:
    """Load a scenario (a ready one by name, or a file on the server) and play it from now; it replaces the
    running one, unless events of that one are under way (their effects would outlive it): 409."""
    body = await _json_object(request, '{"name": ...}')
    _only_fields(body, ("name",))
    name = body.get("name")
    if not isinstance(name, str) or not name.strip() or len(name) > _SCENARIO_NAME_MAX:
        raise ApiError(400, "'name' must be a ready scenario's name (e.g. certification) or a scenario file's path")
    simulator = _simulator(request)
    if simulator.effects is None:
        raise ApiError(503, "the simulator is not running")
    scenario = await asyncio.to_thread(_read_scenario, name)
    running = simulator.runner  # looked at after the read: no await between this check and the start
    if running is not None:
        active = [str(entry["event"]) for entry in running.status()["active"]]
        if active:
            raise ApiError(409, f"scenario {running.scenario.name} has events under way ({', '.join(active)}); "
                                f"they must end before another scenario replaces it")
    return _json(_scenario_status(request, simulator.start_scenario(scenario)), status=201)


async def pause_scenario(request: web.Request) -> web.Response:
    """Hold the running scenario's pending steps until resumed."""
    runner = _runner(request)
    if not runner.paused:
        runner.pause()
        _simulator(request).events.emit(runner.clock.now(), "scenario.paused", name=runner.scenario.name)
    return _json(_scenario_status(request, runner))


async def resume_scenario(request: web.Request) -> web.Response:
    """Go on with the scenario, its pending steps shifted by the length of the pause."""
    runner = _runner(request)
    if runner.paused:
        runner.resume()
        _simulator(request).events.emit(runner.clock.now(), "scenario.resumed", name=runner.scenario.name)
    return _json(_scenario_status(request, runner))


async def trigger_event(request: web.Request) -> web.Response:
    """Start an occurrence of one of the scenario's events now; its steps due now are performed at once."""
    runner = _runner(request)
    event_id = request.match_info["id"]
    try:
        steps = runner.trigger(event_id)
    except LookupError as error:
        raise ApiError(404, str(error)) from None
    except ValueError as error:  # the event is under way
        raise ApiError(409, str(error)) from None
    _simulator(request).events.emit(runner.clock.now(), "scenario.triggered", name=runner.scenario.name,
                                    id=event_id)
    return _json({"steps": [_step(step) for step in steps]})


# -- subscribers (clause 3.4) and suspension (clause 3.9) -------------------------------------------------


async def list_subscribers(request: web.Request) -> web.Response:
    """The numbers that opted in to an SP's messages, masked."""
    _query(request, ())
    gateway = _gateway(request)
    account = _account_of(gateway, request.match_info["id"])
    numbers = gateway.policy.subscribers.numbers(account.id)
    return _json({"account": account.id, "subscribers": [gateway.mask(number) for number in numbers],
                  "count": len(numbers)})


async def add_subscribers(request: web.Request) -> web.Response:
    """Opt numbers in: JSON ``{"numbers": [...]}`` or a text/csv body; all of them, or none if one is bad."""
    gateway = _gateway(request)
    account = _account_of(gateway, request.match_info["id"])
    if request.content_type == "text/csv":
        numbers, origin = _csv_numbers(await request.read()), "csv"
    else:
        numbers, origin = _json_numbers(await _json_object(request, '{"numbers": ["13800138000", ...]}')), "api"
    if not numbers:
        raise ApiError(400, "the body names no number")
    added = await gateway.set_subscribers(account.id, numbers, subscribed=True, origin=origin)
    return _json({"added": added, "count": len(gateway.policy.subscribers.numbers(account.id))}, status=201)


async def remove_subscriber(request: web.Request) -> web.Response:
    """Opt a number out; 404 if it was not a subscriber."""
    gateway = _gateway(request)
    account = _account_of(gateway, request.match_info["id"])
    number = _subscriber(request.match_info["number"], "number")
    if not await gateway.set_subscribers(account.id, [number], subscribed=False, origin="api"):
        raise ApiError(404, f"{gateway.mask(number)} is not a subscriber of account {account.id}")
    return _json({"removed": 1})


async def reinstate_account(request: web.Request) -> web.Response:
    """Lift a suspension for repeated violations (clause 3.9); the account may bind and submit again."""
    gateway = _gateway(request)
    account = _account_of(gateway, request.match_info["id"])
    if gateway.policy.is_suspended(account.id):
        gateway.policy.reinstate(account.id)
        _simulator(request).events.emit(gateway.clock.now(), "account.reinstated", account=account.id,
                                        origin="api")
    return _json({"suspended": False})


async def list_violations(request: web.Request) -> web.Response:
    """Recorded policy violations, oldest first (evidence with numbers masked when recorded)."""
    params = _query(request, ("account", "rule", "since", "until", "limit"))
    since, until, limit = _time(params, "since"), _time(params, "until"), _limit(params, MAX_LIMIT)
    rule = params.get("rule")
    if rule is not None and rule not in RULES_BY_NAME:
        raise ApiError(400, f"rule must be one of {', '.join(RULES_BY_NAME)}, not {_shown(rule)}")
    store = _store(request)
    await store.flush()  # violations are queued when found: what was refused a moment ago is shown
    return _json(await store.violations(account=params.get("account"), since=since, until=until, rule=rule,
                                        limit=limit))


# -- billing (clauses 2.4, 4.2-4.4; simulator/billing.py) ---------------------------------------------------


def _month(request: web.Request, params: Mapping[str, str], gateway: Gateway) -> str:
    """The ``month`` parameter, checked; the current month (gateway time zone, simulated time) by default."""
    month = params.get("month")
    if month is None:
        return datetime.fromtimestamp(_simulator(request).clock.now(), gateway.zone).strftime("%Y-%m")
    try:
        month_bounds(month, gateway.config.timezone)
    except BillingError as error:
        raise ApiError(400, str(error)) from None
    return month


async def _billing_read(request: web.Request, read: Callable[[], _T]) -> _T:
    """``read`` (a billing computation over the store file) in a worker thread, once queued writes are in."""
    await _store(request).flush()
    try:
        return await asyncio.to_thread(read)
    except BillingError:  # the month was checked: the store file itself cannot be read
        raise ApiError(503, "the store cannot be read now") from None


async def get_billing(request: web.Request) -> web.Response:
    """Every port's bill for ``month``, recomputed from the store."""
    params = _query(request, ("month",))
    gateway = _gateway(request)
    month = _month(request, params, gateway)
    bills = await _billing_read(request, partial(statement, _store(request).path, month, gateway.config))
    return _json({"month": month, "statements": _report(bills)})


async def get_statistics(request: web.Request) -> web.Response:
    """The month's traffic per account and service code, recomputed from the store."""
    params = _query(request, ("month",))
    gateway = _gateway(request)
    month = _month(request, params, gateway)
    config = gateway.config
    ports = await _billing_read(request, partial(monthly_statistics, _store(request).path, month, config.timezone,
                                                 accounts=config.accounts))
    return _json({"month": month, "statistics": _report(ports)})


async def metrics(request: web.Request) -> web.Response:
    """The simulator's Prometheus series, in the text exposition format."""
    _query(request, ())
    body = generate_latest(_simulator(request).metrics.registry)
    # CONTENT_TYPE_LATEST carries a version and a charset, which web.Response's content_type= refuses.
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})


#: Every route of the API: (path, method, handler). The OpenAPI document must describe exactly these.
ROUTES: Final[tuple[tuple[str, str, Handler], ...]] = (
    ("/health", "GET", health),
    ("/openapi.json", "GET", openapi),
    ("/accounts", "GET", list_accounts),
    ("/accounts/{id}", "GET", get_account),
    ("/sessions", "GET", list_sessions),
    ("/messages", "GET", list_messages),
    ("/receipts", "GET", list_receipts),
    ("/mo", "POST", inject_mo),
    ("/events", "GET", list_events),
    ("/compliance", "GET", get_compliance),
    ("/notices", "GET", list_notices),
    ("/notices", "POST", publish_notice),
    ("/scenario", "GET", get_scenario),
    ("/scenario", "POST", start_scenario),
    ("/scenario/pause", "POST", pause_scenario),
    ("/scenario/resume", "POST", resume_scenario),
    ("/scenario/trigger/{id}", "POST", trigger_event),
    ("/accounts/{id}/subscribers", "GET", list_subscribers),
    ("/accounts/{id}/subscribers", "POST", add_subscribers),
    ("/accounts/{id}/subscribers/{number}", "DELETE", remove_subscriber),
    ("/accounts/{id}/reinstate", "POST", reinstate_account),
    ("/violations", "GET", list_violations),
    ("/billing", "GET", get_billing),
    ("/statistics", "GET", get_statistics),
    ("/metrics", "GET", metrics),
)


# -- errors -----------------------------------------------------------------------------------------------


@web.middleware
async def _errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Turn every failure into a JSON error object; an unexpected one is logged, never shown."""
    try:
        return await handler(request)
    except ApiError as error:
        return _json({"error": error.message}, status=error.status)
    except web.HTTPException as error:  # aiohttp's own: no route (404), wrong method (405), body too large
        if error.status < 400:
            raise
        response = _json({"error": (error.reason or "error").lower()}, status=error.status)
        if "Allow" in error.headers:  # a 405 must say which methods the path does take
            response.headers["Allow"] = error.headers["Allow"]
        return response
    except Exception as error:
        simulator = _simulator(request)
        resource = request.match_info.route.resource
        # The route template and the exception type only: the message or the query string may hold numbers.
        simulator.events.emit(simulator.clock.now(), "api.error", method=request.method,
                              route=resource.canonical if resource is not None else request.path,
                              error=type(error).__name__)
        return _json({"error": "internal error"}, status=500)


# -- starting and stopping --------------------------------------------------------------------------------


def build_app(simulator: Simulator) -> web.Application:
    """The aiohttp application serving ``simulator`` (without a listener; :func:`start_api` adds one)."""
    app = web.Application(middlewares=[_errors])
    app[_SIMULATOR] = simulator
    for path, method, handler in ROUTES:
        # add_route, not add_get: add_get would also answer HEAD, a route the document does not describe.
        app.router.add_route(method, path, handler)
    return app


async def start_api(simulator: Simulator, host: str, port: int) -> tuple[tuple[str, int],
                                                                        Callable[[], Awaitable[None]]]:
    """Serve the API on ``host``:``port`` (0 picks a free port); returns the bound address and a stopper."""
    # No access log: its request lines would carry full phone numbers from ?number= queries.
    runner = web.AppRunner(build_app(simulator), access_log=None, shutdown_timeout=_SHUTDOWN_SECONDS)
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, port)
        await site.start()
    except BaseException:
        await runner.cleanup()
        raise
    bound_host, bound_port = runner.addresses[0][:2]
    return (str(bound_host), int(bound_port)), runner.cleanup


# -- the OpenAPI document ---------------------------------------------------------------------------------


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json_content(schema: object) -> dict[str, object]:
    return {"application/json": {"schema": schema}}


def _responses(description: str, schema: object, *errors: str, status: str = "200") -> dict[str, object]:
    """An operation's responses: the success one, the client errors it may give, and 5XX (any route)."""
    reasons = {"400": "A bad parameter or body", "404": "Not found",
               "409": "Conflicts with the current state (already exists, nothing running, under way)"}
    responses: dict[str, object] = {status: {"description": description, "content": _json_content(schema)}}
    for error in errors:
        responses[error] = {"description": reasons[error], "content": _json_content(_ref("Error"))}
    responses["5XX"] = {"description": "Internal error, or the simulator is not running (503)",
                        "content": _json_content(_ref("Error"))}
    return responses


def _query_parameter(name: str, description: str, schema: Mapping[str, object]) -> dict[str, object]:
    return {"name": name, "in": "query", "required": False, "description": description, "schema": schema}


_EPOCH = {"type": "number", "description": "seconds since the epoch, simulated time"}
_SINCE = _query_parameter("since", "only what happened at or after this time", _EPOCH)
_LIMIT_SCHEMA = {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT}
_ACCOUNT = _query_parameter("account", "only this account (SP_Id / system_id)", {"type": "string"})
_NULLABLE_INT = {"type": ["integer", "null"]}


def _path_parameter(name: str, description: str) -> dict[str, object]:
    return {"name": name, "in": "path", "required": True, "schema": {"type": "string"}, "description": description}


_ACCOUNT_ID = _path_parameter("id", "SP_Id / system_id")
_MONTH = _query_parameter("month", "YYYY-MM; default: the current month in the gateway's time zone",
                          {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}$"})
#: The JSON type of each billing dataclass field, by its annotation (billing.py's Decimal money is a string).
_FIELD_TYPES: Final = {"str": {"type": "string"}, "int": {"type": "integer"}, "bool": {"type": "boolean"},
                       "Decimal": {"type": "string", "description": "yuan, an exact decimal"}}


def _fields_schema(kind: type[Statement] | type[PortStatistics]) -> dict[str, object]:
    """The schema of :func:`_report`'s objects of ``kind``: every field of the dataclass, in order."""
    fields = dataclasses.fields(kind)
    return {"type": "object", "required": [field.name for field in fields],
            "properties": {field.name: _FIELD_TYPES[str(field.type)] for field in fields}}


_SCENARIO_STEP_STATE = {"type": "object", "additionalProperties": True, "properties": {
    "key": {"type": "string"}, "time": {"type": "string", "description": "in the scenario's time zone"},
    "at": _EPOCH, "planned": _EPOCH, "offset": {"type": "string"},
    "action": {"type": "string", "enum": list(ACTIONS)}, "event": {"type": "string"}, "kind": {"type": "string"},
    "accounts": {"type": "array", "items": {"type": "string"}}, "detail": {"type": "string"},
    "manual": {"type": "boolean"},
    "state": {"type": "string", "enum": ["pending", "done", "failed", "skipped"]},
    "error": {"type": ["string", "null"]}}}

#: The OpenAPI 3.1 description of :data:`ROUTES` (checked against it by tests/simulator/test_api.py).
OPENAPI: Final[dict[str, object]] = {
    "openapi": "3.1.0",
    "info": {"title": "smsclab control API", "version": "1",
             "description": "Inspect and drive a running smsclab simulator. Errors are {\"error\": message}; "
                            "phone numbers are masked unless the configuration turns masking off."},
    "paths": {
        "/health": {"get": {
            "summary": "Liveness, simulated time and listener addresses",
            "responses": _responses("The simulator is up", _ref("Health"))}},
        "/openapi.json": {"get": {
            "summary": "This document",
            "responses": _responses("OpenAPI 3.1 document", {"type": "object"})}},
        "/accounts": {"get": {
            "summary": "Configured accounts and their contracted limits (no secrets)",
            "responses": _responses("Every account", {"type": "array", "items": _ref("Account")})}},
        "/accounts/{id}": {"get": {
            "summary": "One account",
            "parameters": [_ACCOUNT_ID],
            "responses": _responses("The account", _ref("Account"), "404")}},
        "/accounts/{id}/subscribers": {
            "get": {
                "summary": "The numbers that opted in to the SP's messages (clause 3.4), masked",
                "parameters": [_ACCOUNT_ID],
                "responses": _responses("The subscribers", _ref("Subscribers"), "404")},
            "post": {
                "summary": "Opt numbers in: all of them, or none if one is not a phone number",
                "parameters": [_ACCOUNT_ID],
                "requestBody": {"required": True, "content": {
                    **_json_content(_ref("SubscribersRequest")),
                    "text/csv": {"schema": {"type": "string", "description":
                                            "one number a line, or numbers in the first column; a first line "
                                            "without digits is a header and is skipped"}}}},
                "responses": _responses("Added", _ref("SubscribersAdded"), "400", "404", status="201")}},
        "/accounts/{id}/subscribers/{number}": {"delete": {
            "summary": "Opt a number out",
            "parameters": [_ACCOUNT_ID, _path_parameter("number", "the full number (+86 / 0086 / 86 dropped)")],
            "responses": _responses("Removed", _ref("SubscriberRemoved"), "400", "404")}},
        "/accounts/{id}/reinstate": {"post": {
            "summary": "Lift a suspension for repeated violations (clause 3.9)",
            "parameters": [_ACCOUNT_ID],
            "responses": _responses("The account is not suspended", _ref("Reinstated"), "404")}},
        "/sessions": {"get": {
            "summary": "Partner sessions attached now",
            "responses": _responses("Every attached session", {"type": "array", "items": _ref("Session")})}},
        "/messages": {"get": {
            "summary": "Stored MT messages, newest first",
            "parameters": [
                _ACCOUNT,
                _query_parameter("number", "the full source or destination number", {"type": "string"}),
                _query_parameter("id", "the message id the partner was given (CMPP Msg_Id in decimal)",
                                 {"type": "string"}),
                _SINCE,
                _query_parameter("until", "only messages submitted before this time", _EPOCH),
                _query_parameter("limit", "at most this many (default 100)", _LIMIT_SCHEMA),
            ],
            "responses": _responses("Matching messages", {"type": "array", "items": _ref("Message")}, "400")}},
        "/receipts": {"get": {
            "summary": "Messages that asked for a delivery receipt, among the latest 1000",
            "parameters": [
                _ACCOUNT,
                _query_parameter("state", "only receipts in this state",
                                 {"type": "string", "enum": list(_RECEIPT_STATES)}),
            ],
            "responses": _responses("Matching messages with their receipt",
                                    {"type": "array", "items": _ref("Receipt")}, "400")}},
        "/mo": {"post": {
            "summary": "Inject a mobile-originated message towards the account owning the service code",
            "requestBody": {"required": True, "content": _json_content(_ref("MoRequest"))},
            "responses": _responses("Queued for the partner", _ref("MoAccepted"), "400", "404", status="201")}},
        "/events": {"get": {
            "summary": "Audit events, oldest first",
            "parameters": [
                _SINCE,
                _query_parameter("kind", "only events of this kind, e.g. mo.injected", {"type": "string"}),
                _query_parameter("limit", f"at most this many (default {MAX_LIMIT})", _LIMIT_SCHEMA),
            ],
            "responses": _responses("Matching events", {"type": "array", "items": _ref("Event")}, "400")}},
        "/compliance": {"get": {
            "summary": "Partner compliance verdicts (pass, warn, fail) judged from the audit events",
            "parameters": [_ACCOUNT, _SINCE],
            "responses": _responses("Every check's verdict per account (and per offending session)",
                                    _ref("Compliance"), "400")}},
        "/notices": {
            "get": {
                "summary": "The notice feed (maintenance, faults), newest first, with each notice's deliveries",
                "parameters": [_ACCOUNT, _query_parameter("since", "only notices published at or after this time",
                                                          _EPOCH)],
                "responses": _responses("Matching notices", {"type": "array", "items": _ref("Notice")}, "400")},
            "post": {
                "summary": "Publish a notice by hand: feed, partners' webhooks and in-band as configured",
                "requestBody": {"required": True, "content": _json_content(_ref("NoticeRequest"))},
                "responses": _responses("Published", _ref("Notice"), "400", "409", status="201")}},
        "/scenario": {
            "get": {
                "summary": "The running scenario: every step with its state, the events under way, the next step",
                "responses": _responses("The scenario, or {\"running\": false}", _ref("ScenarioStatus"))},
            "post": {
                "summary": "Play a scenario from now: a ready one by name, or a .toml file on the server",
                "requestBody": {"required": True, "content": _json_content(_ref("ScenarioRequest"))},
                "responses": _responses("Started (replacing one whose events are not under way)",
                                        _ref("ScenarioStatus"), "400", "409", status="201")}},
        "/scenario/pause": {"post": {
            "summary": "Hold the scenario's pending steps",
            "responses": _responses("Paused", _ref("ScenarioStatus"), "409")}},
        "/scenario/resume": {"post": {
            "summary": "Go on, every pending step shifted by the length of the pause",
            "responses": _responses("Resumed", _ref("ScenarioStatus"), "409")}},
        "/scenario/trigger/{id}": {"post": {
            "summary": "Start an occurrence of one of the scenario's events now",
            "parameters": [_path_parameter("id", "the event's id in the scenario file")],
            "responses": _responses("The occurrence's steps (those due now are done)", _ref("TriggeredSteps"),
                                    "404", "409")}},
        "/violations": {"get": {
            "summary": "Recorded policy violations, oldest first",
            "parameters": [
                _ACCOUNT,
                _query_parameter("rule", "only violations of this rule",
                                 {"type": "string", "enum": list(RULES_BY_NAME)}),
                _SINCE,
                _query_parameter("until", "only violations before this time", _EPOCH),
                _query_parameter("limit", f"at most this many (default {MAX_LIMIT})", _LIMIT_SCHEMA),
            ],
            "responses": _responses("Matching violations", {"type": "array", "items": _ref("Violation")}, "400")}},
        "/billing": {"get": {
            "summary": "Every port's bill for a month (clauses 4.2, 4.3, 3.3), recomputed from the store",
            "parameters": [_MONTH],
            "responses": _responses("The statements", _ref("Billing"), "400")}},
        "/statistics": {"get": {
            "summary": "A month's traffic per account and service code (clause 2.4), recomputed from the store",
            "parameters": [_MONTH],
            "responses": _responses("The statistics", _ref("Statistics"), "400")}},
        "/metrics": {"get": {
            "summary": "Prometheus metrics (smsclab_* series)",
            "responses": {**_responses("Prometheus text exposition format", {"type": "string"}),
                          "200": {"description": "Prometheus text exposition format",
                                  "content": {"text/plain": {"schema": {"type": "string"}}}}}}},
    },
    "components": {"schemas": {
        "Error": {"type": "object", "required": ["error"], "properties": {"error": {"type": "string"}}},
        "Health": {"type": "object", "required": ["status", "now", "listeners"], "properties": {
            "status": {"const": "ok"},
            "now": _EPOCH,
            "listeners": {"type": "object", "description": "[host, port] of cmpp, smpp and api",
                          "additionalProperties": {"type": ["array", "null"], "prefixItems": [
                              {"type": "string"}, {"type": "integer"}]}}}},
        "Account": {"type": "object", "properties": {
            "id": {"type": "string"},
            "service_codes": {"type": "array", "items": {"type": "string"}},
            "service_ids": {"type": "array", "items": {"type": "string"}},
            "rate": {"type": ["number", "null"], "description": "messages per second; null: unlimited"},
            "window": {"type": "integer", "description": "requests the partner may have unanswered"},
            "max_connections": {"type": "integer"},
            "dlr_profile": {"type": "string"},
            "message_id_format": {"type": "string"},
            "connections": {"type": "integer", "description": "sessions attached now"},
            "suspended": {"type": "boolean", "description": "suspended for repeated violations (clause 3.9)"},
            "limits": {"type": "object", "description": "the rate and window in force now, after scenario overrides",
                       "properties": {"rate": {"type": ["number", "null"]}, "window": {"type": "integer"}}}}},
        "Subscribers": {"type": "object", "properties": {
            "account": {"type": "string"},
            "subscribers": {"type": "array", "items": {"type": "string"}, "description": "masked, sorted"},
            "count": {"type": "integer"}}},
        "SubscribersRequest": {"type": "object", "required": ["numbers"], "additionalProperties": False,
                               "properties": {"numbers": {"type": "array", "minItems": 1, "items": {
                                   "type": "string", "description": _SUBSCRIBER_EXPECT}}}},
        "SubscribersAdded": {"type": "object", "properties": {
            "added": {"type": "integer", "description": "numbers that were not subscribers yet"},
            "count": {"type": "integer", "description": "subscribers of the account now"}}},
        "SubscriberRemoved": {"type": "object", "properties": {"removed": {"const": 1}}},
        "Reinstated": {"type": "object", "properties": {"suspended": {"const": False}}},
        "ScenarioRequest": {"type": "object", "required": ["name"], "additionalProperties": False, "properties": {
            "name": {"type": "string", "minLength": 1, "maxLength": _SCENARIO_NAME_MAX,
                     "description": "a ready scenario's name (e.g. certification) or a .toml file's path"}}},
        "ScenarioStatus": {"type": "object", "required": ["running"], "properties": {
            "running": {"type": "boolean"}, "name": {"type": "string"}, "paused": {"type": "boolean"},
            "scenario": {"type": "string"}, "file": {"type": ["string", "null"]}, "timezone": {"type": "string"},
            "seed": {"type": "integer"}, "start": _EPOCH, "now": _EPOCH, "paused_at": {"type": ["number", "null"]},
            "steps": {"type": "array", "items": _SCENARIO_STEP_STATE},
            "active": {"type": "array", "items": {"type": "object", "properties": {
                "event": {"type": "string"}, "kind": {"type": "string"}, "since": {"type": ["number", "null"]},
                "until": {"type": ["number", "null"]}, "detail": {"type": "string"}}}},
            "next": {"oneOf": [_SCENARIO_STEP_STATE, {"type": "null"}]},
            "next_in": {"type": ["number", "null"], "description": "seconds; null when paused or nothing is left"}}},
        "TriggeredSteps": {"type": "object", "properties": {"steps": {"type": "array", "items": {
            "type": "object", "properties": {
                "at": _EPOCH, "action": {"type": "string", "enum": list(ACTIONS)},
                "event": {"type": "string"}, "detail": {"type": "string"}}}}}},
        "Violation": {"type": "object", "properties": {
            "at": _EPOCH, "account": {"type": "string"}, "session": {"type": "string"},
            "rule": {"type": "string", "enum": list(RULES_BY_NAME)},
            "mode": {"type": "string", "enum": ["monitor", "enforce"]},
            "recipients": {"type": "integer"},
            "evidence": {"type": "object", "description": "what breached the rule; numbers masked"}}},
        "Statement": _fields_schema(Statement),
        "PortStatistics": _fields_schema(PortStatistics),
        "Billing": {"type": "object", "properties": {
            "month": {"type": "string"}, "statements": {"type": "array", "items": _ref("Statement")}}},
        "Statistics": {"type": "object", "properties": {
            "month": {"type": "string"}, "statistics": {"type": "array", "items": _ref("PortStatistics")}}},
        "Session": {"type": "object", "additionalProperties": True, "properties": {
            "session": {"type": "string"}, "protocol": {"type": "string"}, "account": {"type": "string"},
            "peer": {"type": "string"}, "state": {"type": "string"}, "since": _EPOCH,
            "counters": {"type": "object", "additionalProperties": {"type": "integer"}},
            "outstanding": {"type": "integer"}, "awaiting_answer": {"type": "integer"},
            "keepalive_rtt": {"type": ["number", "null"]}}},
        "Message": {"type": "object", "properties": {
            "id": {"type": "integer"}, "message_id": {"type": "string"}, "account": {"type": "string"},
            "protocol": {"type": "string", "enum": ["cmpp", "smpp"]}, "submitted_at": _EPOCH,
            "source": {"type": "string"}, "destination": {"type": "string", "description": "masked"},
            "data_coding": {"type": "integer"}, "text": {"type": "string"},
            "message_text": {"type": ["string", "null"], "description": "the whole text, on its last segment"},
            "segment": {"type": "object", "properties": {
                "ref": _NULLABLE_INT, "total": {"type": "integer"}, "number": {"type": "integer"}}},
            "registered_delivery": {"type": "integer"},
            "state": {"type": "string", "description": "ENROUTE until done_at, then DELIVRD, UNDELIV, ..."},
            "err": {"type": "integer"}, "done_at": _EPOCH,
            "receipt_state": {"type": "string", "enum": list(_RECEIPT_STATES)},
            "receipt_attempts": {"type": "integer"}}},
        "Receipt": {"allOf": [_ref("Message"), {"type": "object", "properties": {
            "receipt_due": {"type": ["number", "null"], "description": "next attempt, simulated time"}}}]},
        "MoRequest": {"type": "object", "required": ["from", "to", "text"], "properties": {
            "from": {"type": "string", "pattern": _ADDRESS.pattern, "description": "the handset's number"},
            "to": {"type": "string", "pattern": _ADDRESS.pattern, "description": "a service code (+ extension)"},
            "text": {"type": "string"}}},
        "MoAccepted": {"type": "object", "properties": {
            "segments": {"type": "integer"}, "account": {"type": "string"}}},
        "Verdict": {"type": "object", "required": ["check", "account", "session", "status", "value", "threshold",
                                                   "evidence", "summary"], "properties": {
            "check": {"type": "string", "description": "rate, window, throttle_backoff, reconnect, keepalive, "
                                                       "receipt_ack, duplicate_sequence, policy, emergency_cut"},
            "account": {"type": "string"},
            "session": {"type": ["string", "null"], "description": "null: the verdict covers the account"},
            "status": {"type": "string", "enum": ["pass", "warn", "fail"]},
            "value": {"type": ["number", "null"], "description": "what was measured; null: nothing to measure"},
            "threshold": {"type": "string"},
            "evidence": {"type": "array", "items": {"type": "string"}},
            "summary": {"type": "string"}}},
        "Compliance": {"type": "object", "required": ["verdicts", "failed"], "properties": {
            "verdicts": {"type": "array", "items": _ref("Verdict")},
            "failed": {"type": "integer", "description": "verdicts with status fail"},
            "events": {"type": "integer", "description": "audit events judged"},
            "truncated": {"type": "boolean", "description": "the period held more events than one report reads"}}},
        "NoticeRequest": {"type": "object", "required": ["title", "text"], "additionalProperties": False,
                          "properties": {
            "id": {"type": "string", "pattern": _NOTICE_ID.pattern,
                   "description": "the key of the announced event; generated when absent"},
            "title": {"type": "string", "minLength": 1, "maxLength": _NOTICE_LENGTHS["title"]},
            "text": {"type": "string", "maxLength": _NOTICE_LENGTHS["text"],
                     "description": "what the partner reads; empty: written from the other fields"},
            "accounts": {"type": "array", "minItems": 1, "items": {"type": "string"}, "default": ["*"],
                         "description": "account ids; [\"*\"]: every account"},
            "kind": {"type": "string", "enum": list(KINDS), "default": "notice"},
            "reason": {"type": "string", "maxLength": _NOTICE_LENGTHS["reason"]},
            "start": {"type": ["number", "null"], "description": "seconds since the epoch"},
            "end": {"type": ["number", "null"], "description": "expected end, seconds since the epoch"}}},
        "Notice": {"type": "object", "properties": {
            "id": {"type": "string"}, "kind": {"type": "string", "enum": list(KINDS)}, "title": {"type": "string"},
            "reason": {"type": "string"}, "start": {"type": ["number", "null"]}, "end": {"type": ["number", "null"]},
            "accounts": {"type": "array", "items": {"type": "string"}}, "text": {"type": "string"},
            "published_at": _EPOCH,
            "deliveries": {"type": "array", "items": _ref("NoticeDelivery")}}},
        "NoticeDelivery": {"type": "object", "properties": {
            "account": {"type": "string"},
            "channel": {"type": "string", "enum": list(CHANNELS)},
            "status": {"type": "string", "enum": list(STATUSES)},
            "attempts": {"type": "integer"},
            "error": {"type": ["string", "null"], "description": "the last attempt's failure"},
            "at": _EPOCH}},
        "Event": {"type": "object", "properties": {
            "at": _EPOCH, "account": {"type": ["string", "null"]}, "kind": {"type": "string"},
            "detail": {"type": "object"}}},
    }},
}
