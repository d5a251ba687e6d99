"""The end of a run is judged by the simulator, not by Locust's error count; the web UI shows the verdicts live.

A throttled submit is a failed request for Locust, yet the partner may have done nothing wrong (it was the
carrier's emergency cut); a run without a single failure may still break the contract (a window overrun the
gateway forgave). So the exit code comes from the simulator's compliance verdicts (``GET /compliance``): 0 when
every check of every account in the run passes (or warns), 3 when one fails, the "threshold not met" code of
locust-plugins. When the simulator cannot be asked, Locust's own rule stays (1 when a request failed).

Importing this module from a locustfile is all it takes: the listeners register themselves.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from typing import Any, Final

import gevent
from flask import Response, request
from locust import events
from locust.env import Environment
from locust.runners import WorkerRunner
from locust.stats import CSV_STATS_INTERVAL_SEC as _CSV_INTERVAL
from locust.stats import RequestStats, StatsError

from loadtests.users import accounts_in_run, api_get

__all__ = ["EXIT_VERDICT_FAILED", "Verdicts", "fetch_verdicts", "locust_throttles", "simulator_throttles",
           "verdict_table"]

log = logging.getLogger(__name__)

EXIT_VERDICT_FAILED: Final = 3
#: The failure texts of a flow-control answer (loadtests.client): SMPP's status, CMPP's Result 8. CMPP answers a
#: window overrun with Result 8 as well, so for CMPP this also counts those.
_THROTTLE_TEXTS: Final = ("ESME_RTHROTTLED", "Result=8 ")
_THROTTLED_SERIES = re.compile(r'^smsclab_throttled_total\{account="((?:[^"\\]|\\.)*)"\}\s+([0-9.eE+-]+)\s*$', re.M)
_COLUMNS: Final = ("check", "account", "session", "status", "value", "threshold", "summary")
_SUMMARY_WIDTH = 70
_POLL_SECONDS = 2.0
_TAB_VERDICTS, _TAB_THROTTLES = "smsclab-compliance", "smsclab-throttling"


@dataclass
class Verdicts:
    """What the simulator said about the run's accounts."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    failed: int = 0
    #: Why there are no verdicts to judge by (the route is missing, the API is down); ``None`` when there are.
    missing: str | None = None
    #: Whether the API could not be reached at all (then the exit code is left to Locust).
    unreachable: bool = False


def fetch_verdicts(api: str, accounts: list[str], since: float | None = None) -> Verdicts:
    """The compliance verdicts of ``accounts`` (judged on what happened from ``since`` on, simulated time).

    A 404 counts as "no verdicts": a simulator older than the compliance monitor has no such route.
    """
    verdicts = Verdicts()
    for account in accounts:
        query = {"account": account} | ({} if since is None else {"since": repr(since)})
        try:
            document = api_get(api, f"/compliance?{urllib.parse.urlencode(query)}")
        except urllib.error.HTTPError as error:
            if error.code == 404:
                verdicts.missing = f"GET /compliance answered 404 ({_error_text(error)}): no verdicts to judge by"
                continue
            verdicts.missing, verdicts.unreachable = f"GET /compliance failed: HTTP {error.code}", True
            return verdicts
        except (urllib.error.URLError, OSError, ValueError) as error:
            verdicts.missing, verdicts.unreachable = f"cannot read {api}/compliance: {error}", True
            return verdicts
        rows = document.get("verdicts") or []
        verdicts.rows += rows
        verdicts.failed += sum(1 for row in rows if row.get("status") == "fail")
    return verdicts


def _error_text(error: urllib.error.HTTPError) -> str:
    try:
        return str(json.loads(error.read()).get("error", error.reason))
    except (ValueError, AttributeError, OSError):
        return str(error.reason)


def simulator_throttles(api: str) -> dict[str, int]:
    """``smsclab_throttled_total`` by account, from the simulator's Prometheus metrics."""
    with urllib.request.urlopen(f"{api.rstrip('/')}/metrics", timeout=5.0) as response:
        text = response.read().decode()
    return {account: int(float(value)) for account, value in _THROTTLED_SERIES.findall(text)}


def locust_throttles(stats: RequestStats) -> int:
    """Throttled submits among the failures Locust recorded (on a master: of every worker)."""
    return sum(error.occurrences for error in stats.errors.values()
               if any(text in StatsError.parse_error(error.error) for text in _THROTTLE_TEXTS))


def verdict_table(rows: list[dict[str, Any]]) -> str:
    """The verdicts as a plain text table, failures first."""
    order = {"fail": 0, "warn": 1, "pass": 2}
    cells = [[_cell(row.get(column), column) for column in _COLUMNS]
             for row in sorted(rows, key=lambda r: (order.get(str(r.get("status")), 3), str(r.get("check"))))]
    widths = [max(len(line[i]) for line in [list(_COLUMNS), *cells]) for i in range(len(_COLUMNS))]
    return "\n".join("  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
                     for line in [list(_COLUMNS), *cells])


def _cell(value: object, column: str) -> str:
    text = "" if value is None else f"{value:.4g}" if isinstance(value, float) else str(value)
    if column == "summary" and len(text) > _SUMMARY_WIDTH:
        text = text[: _SUMMARY_WIDTH - 3] + "..."
    return text.replace("\n", " ")


@dataclass
class _RunStart:
    """Where the simulator stood when the current test started: its counters and verdicts cover its whole life."""

    throttles: dict[str, int] = field(default_factory=dict)
    #: The simulator's clock (simulated time, which ``--speed`` scales) at test start.
    now: float | None = None


_start = _RunStart()


@events.test_start.add_listener
def _snapshot(environment: Environment, **_kwargs: object) -> None:
    if isinstance(environment.runner, WorkerRunner) or environment.parsed_options is None:
        return
    api = environment.parsed_options.api
    _start.throttles, _start.now = {}, None
    # Unreachable now, the end-of-run figures count from the simulator's own start instead.
    with contextlib.suppress(urllib.error.URLError, OSError, ValueError, KeyError):
        _start.throttles = simulator_throttles(api)
        _start.now = float(api_get(api, "/health")["now"])


def _throttled_since_start(api: str, accounts: list[str]) -> dict[str, int]:
    counted = simulator_throttles(api)
    return {a: counted.get(a, 0) - _start.throttles.get(a, 0) for a in accounts}


@events.quitting.add_listener
def _judge(environment: Environment, **_kwargs: object) -> None:
    """Once, on the master (or the only process): print the verdicts and set the exit code from them."""
    if isinstance(environment.runner, WorkerRunner) or environment.parsed_options is None:
        return
    if environment.parsed_options.csv_prefix:
        # Locust's CSV writer rewrites its files once a second and is closed right after this event: give it one
        # more turn, so that the files hold the responses drained at test stop (and the workers' last reports).
        gevent.sleep(_CSV_INTERVAL + 0.2)
    api = environment.parsed_options.api
    accounts = accounts_in_run(environment)
    verdicts = fetch_verdicts(api, accounts, _start.now)
    lines = [f"smsclab compliance verdicts for {', '.join(accounts)}:"]
    lines.append(verdict_table(verdicts.rows) if verdicts.rows else "  (none)")
    if verdicts.missing:
        lines.append(f"  note: {verdicts.missing}")
    if environment.runner is not None:
        seen = locust_throttles(environment.runner.stats)
        try:
            counted = _throttled_since_start(api, accounts)
            per_account = ", ".join(f"{a}={n}" for a, n in counted.items())
            lines.append(f"throttled submits: Locust saw {seen}, the simulator counted {sum(counted.values())} "
                         f"({per_account})")
        except (urllib.error.URLError, OSError) as error:
            lines.append(f"throttled submits: Locust saw {seen}; the simulator's metrics are unreadable ({error})")
    print("\n".join(lines), flush=True)
    if verdicts.unreachable:
        log.error("no compliance verdict: %s; the exit code is Locust's own", verdicts.missing)
        return
    environment.process_exit_code = EXIT_VERDICT_FAILED if verdicts.failed else 0
    if verdicts.failed:
        log.error("COMPLIANCE FAILED: %d check(s) failed", verdicts.failed)


@dataclass
class _Live:
    """The latest verdicts and throttle counts for the web UI, refreshed by one greenlet."""

    verdicts: list[dict[str, Any]] = field(default_factory=list)
    throttles: list[dict[str, Any]] = field(default_factory=list)

    def refresh(self, environment: Environment, api: str) -> None:
        accounts = accounts_in_run(environment)
        verdicts = fetch_verdicts(api, accounts, _start.now)
        self.verdicts = [{column: _cell(row.get(column), "") for column in _COLUMNS} for row in verdicts.rows]
        if verdicts.missing:
            self.verdicts.append({"check": "(no verdicts)", "summary": verdicts.missing})
        try:
            counted = _throttled_since_start(api, accounts)
        except (urllib.error.URLError, OSError):
            counted = {}
        seen = locust_throttles(environment.runner.stats) if environment.runner is not None else 0
        # Locust's failures do not say which account they came from: one total row compares the two.
        self.throttles = [{"account": a, "simulator": counted.get(a, 0), "locust": ""} for a in accounts]
        self.throttles.append({"account": "all", "simulator": sum(counted.values()), "locust": seen})


@events.init.add_listener
def _web_tabs(environment: Environment, **_kwargs: object) -> None:
    """Two tabs in Locust's web UI, "Compliance" and "Throttling", fed with the stats the page polls anyway."""
    web_ui, parsed = environment.web_ui, environment.parsed_options
    if web_ui is None or web_ui.app is None or parsed is None or isinstance(environment.runner, WorkerRunner):
        return
    live = _Live()
    # Locust's documented extension point (examples/extend_web_ui.py): extra tabs and their table layouts in the
    # template arguments, their rows in the "extended_stats" of every /stats/requests answer.
    web_ui.template_args["extended_tabs"] = [{"title": "Compliance", "key": _TAB_VERDICTS},
                                             {"title": "Throttling", "key": _TAB_THROTTLES}]
    web_ui.template_args["extended_tables"] = [
        {"key": _TAB_VERDICTS, "structure": [{"key": c, "title": c.capitalize()} for c in _COLUMNS]},
        {"key": _TAB_THROTTLES, "structure": [{"key": "account", "title": "Account"},
                                              {"key": "simulator", "title": "Throttled (simulator)"},
                                              {"key": "locust", "title": "Throttled (Locust)"}]},
    ]

    def poll() -> None:
        while True:
            live.refresh(environment, parsed.api)
            gevent.sleep(_POLL_SECONDS)

    gevent.spawn(poll)

    @web_ui.app.after_request
    def _extend(response: Response) -> Response:
        if request.path != "/stats/requests" or response.json is None:
            return response
        response.set_data(json.dumps({**response.json, "extended_stats": [
            {"key": _TAB_VERDICTS, "data": live.verdicts}, {"key": _TAB_THROTTLES, "data": live.throttles}]}))
        return response
