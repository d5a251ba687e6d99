"""The Locust side of bench/locust_bench.py: the loadtests partner, unpaced, with a warm-up cut off the statistics.

    locust -f bench/locustfile_bench.py --headless -u 4 -r 4 -t 6s --csv PREFIX --host 127.0.0.1 \\
        --protocol smpp --port PORT --system-id lg1 --password pw --api URL --no-receipts \\
        --bench-warmup 1 --bench-report FILE.json [--bench-server-pid PID]

The user is :class:`loadtests.users.PartnerUser` unchanged: it reads its contract (window, connections, rate)
from ``--api`` and sends through the same gevent client over the sans-IO session as every other locustfile.
An account without a rate makes it unpaced, so a run shows how fast the users can go. Unlike the contract
locustfiles this one registers no compliance verdict (the struct-only responder has no API to judge by).

Two additions, both only for measuring:

* ``--bench-warmup S``: S seconds after the test starts the statistics are reset, so that the CSV's Requests/s
  and percentiles cover the steady state only (no binds, no first-second warm-up), like bench/loadgen.py's
  measured window;
* ``--bench-report FILE``: when the test stops, this process's CPU (and ``--bench-server-pid``'s) over the same
  window is written as JSON, to tell a Locust that could go no faster (its core full) from one that waited.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import gevent
from locust import events
from locust.argument_parser import LocustArgumentParser
from locust.env import Environment

from loadtests.users import PartnerUser

_marks: dict[str, float] = {}


@events.init_command_line_parser.add_listener
def _bench_options(parser: LocustArgumentParser) -> None:
    add = parser.add_argument
    add("--bench-warmup", type=float, default=1.0, include_in_web_ui=False,
        help="seconds after the start at which the statistics are reset")
    add("--bench-report", default="", include_in_web_ui=False, help="JSON file for the CPU figures")
    add("--bench-server-pid", type=int, default=0, include_in_web_ui=False, help="the server, for its CPU")


def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process (all its threads), from /proc; 0 when unknown."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rpartition(")")[2].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _mark(environment: Environment) -> dict[str, float]:
    parsed = environment.parsed_options
    server = parsed.bench_server_pid if parsed is not None else 0
    return {"wall": time.perf_counter(), "own": time.process_time(), "server": _cpu_seconds(server) if server else 0.0}


def _after_warmup(environment: Environment, seconds: float) -> None:
    gevent.sleep(seconds)
    if environment.runner is not None:
        environment.runner.stats.reset_all()
    _marks.update({f"start_{key}": value for key, value in _mark(environment).items()})


@events.test_start.add_listener
def _start(environment: Environment, **_kwargs: Any) -> None:
    parsed = environment.parsed_options
    gevent.spawn(_after_warmup, environment, parsed.bench_warmup if parsed is not None else 0.0)


@events.test_stopping.add_listener
def _stopping(environment: Environment, **_kwargs: Any) -> None:
    """Before the users stop (and the links drain): the end of the measured window."""
    parsed = environment.parsed_options
    if parsed is None or not parsed.bench_report or "start_wall" not in _marks:
        return
    end = _mark(environment)
    wall = end["wall"] - _marks["start_wall"]
    report = {"seconds": wall, "locust_cpu": (end["own"] - _marks["start_own"]) / wall,
              "server_cpu": (end["server"] - _marks["start_server"]) / wall}
    Path(parsed.bench_report).write_text(json.dumps(report))


class BenchPartner(PartnerUser):
    """The partner of the contract locustfiles; with no contracted rate it sends as fast as the window allows."""

    load_factor = 1.0
