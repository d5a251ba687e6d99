"""Is the Locust user what limits a run? One Locust worker and bench/loadgen.py side by side, one run (figures only).

Usage: python bench/locust_bench.py [--seconds 5] [--warmup 1] [--users 4] [--sessions 4] [--window 64]
       [--no-uvloop] [--keep-data]

Four measurements, each against a freshly started server, one after the other:

1. one Locust worker process (``locust -f bench/locustfile_bench.py --headless``: the loadtests partner user,
   unpaced) against bench/responder.py, the struct-only server that answers far faster than Locust can ask;
   its figure is Locust's own ceiling on this machine;
2. bench/loadgen.py's generator against the same kind of responder;
3. one Locust worker against ``smsclab serve`` (SMPP, the accounts' window ``--window``);
4. bench/loadgen.py's generator against ``smsclab serve``, the same accounts.

Locust reads its account's contract from the control API: the simulator's own for 3, and for 1 a stand-in served
by this process that states the same contract (window ``--window``, four connections, no rate). Both generators
send to loadgen's one recipient, which the simulator's accounts have as a subscriber (a compliant partner). The
Locust figure is Requests/s of submit_sm from its ``--csv`` stats, reset after the warm-up
(bench/locustfile_bench.py), minus failures; loadgen's is its OK count in the measured seconds. Both use four
connections of window 64 by default.

The point (issue 6): if Locust's ceiling (1) is well above what smsclab sustains (4), and Locust against smsclab
(3) comes close to loadgen against it (4), the user class is not what limits a run against the simulator. The
last line says which way this run went.
"""

from __future__ import annotations

import argparse
import csv
import importlib.util
import json
import math
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import compare
import loadgen
import targets
from targets import Target

LOCUSTFILE = targets.BENCH / "locustfile_bench.py"
#: Locust may take this long beyond its -t: interpreter start, gevent, the final drain and CSV.
LOCUST_EXTRA_SECONDS = 30.0
SUBMIT_NAME = "submit_sm"
#: Locust rewrites its CSV every second and not at exit: a second more of run time makes its last write fall
#: after the measured seconds, so the CSV's Requests/s covers at least them.
CSV_LAG = 1.0
SMSCLAB = "smsclab SMPP"
#: Locust is not the limit when its ceiling is at least this many times smsclab's figure under loadgen...
ENOUGH_HEADROOM = 1.5
#: ...and its core was less busy than this against smsclab (it waited for the server, not for itself).
FULL_CORE = 0.9
#: Below this share of loadgen's figure, the report says where the difference went.
CLOSE_ENOUGH = 0.8


@dataclass
class Figure:
    """One generator against one target."""

    target: str
    generator: str
    rate: float = math.nan
    p50: float = math.nan
    p99: float = math.nan
    generator_cpu: float = math.nan
    server_cpu: float = math.nan
    failures: int = 0
    notes: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


# -- the stand-in contract API for the responder ---------------------------------------------------------


class ContractApi:
    """``GET /accounts/{id}`` as the simulator's API answers it, for accounts that only the responder knows."""

    def __init__(self, accounts: list[tuple[str, str]], window: int) -> None:
        documents = {account: json.dumps({
            "id": account, "rate": None, "window": window, "max_connections": loadgen.CONNECTIONS_PER_ACCOUNT,
            "service_codes": [code], "service_ids": []}).encode() for account, code in accounts}

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body = documents.get(self.path.removeprefix("/accounts/"))
                self.send_response(200 if body is not None else 404)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(body or b'{"error": "no such account"}')

            def log_message(self, format: str, *args: object) -> None:
                pass  # one request per run: not worth a line on the console

        self.server = ThreadingHTTPServer((loadgen.HOST, 0), Handler)
        self.url = f"http://{loadgen.HOST}:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, name="contract-api", daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


# -- Locust -----------------------------------------------------------------------------------------------


def csv_rows(path: Path) -> list[dict[str, str]]:
    """The rows of one of Locust's CSV files; none when Locust did not write it."""
    if not path.exists():
        return []
    with path.open(newline="") as file:
        return list(csv.DictReader(file))


def run_locust(label: str, target: Target, *, api_url: str, args: argparse.Namespace, workdir: Path,
               name: str) -> Figure:
    figure = Figure(label, "Locust (1 worker)")
    prefix = workdir / name
    report = workdir / f"{name}-cpu.json"
    account = target.accounts[0][0]
    run_seconds = math.ceil(args.warmup + args.seconds + CSV_LAG)  # Locust's -t takes whole seconds only
    command = [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless", "--only-summary",
               "-u", str(args.users), "-r", str(args.users), "-t", f"{run_seconds}s",
               "--csv", str(prefix), "--loglevel", "WARNING", "--host", loadgen.HOST, "--protocol", "smpp",
               "--port", str(target.smpp_port), "--system-id", account, "--password", loadgen.SECRET,
               "--api", api_url, "--no-receipts", "--destinations", loadgen.DESTINATION,
               "--bench-warmup", f"{args.warmup:g}",
               "--bench-report", str(report), "--bench-server-pid", str(target.pid)]
    # cwd: a directory without the repository's pyproject.toml, which Locust would read for [tool.locust]
    locust = targets.Child(f"locust ({name})", command, workdir / f"{name}.log", cwd=workdir)
    try:
        locust.process.wait(timeout=run_seconds + LOCUST_EXTRA_SECONDS)
    except subprocess.TimeoutExpired:
        figure.problems.append("Locust did not finish in time")
    status = locust.stop()
    output = locust.log()
    if status not in (0, 1):  # 1: some request failed, which the figures show
        figure.problems.append(f"Locust exit status {status}:\n{output}")
    if "CPU usage above" in output:
        figure.notes.append("Locust warned that its CPU usage was above 90%")
    stats = Path(f"{prefix}_stats.csv")
    submit = next((row for row in csv_rows(stats) if row["Name"] == SUBMIT_NAME), None)
    if submit is None:
        figure.problems.append(f"no {SUBMIT_NAME} row in {stats.name}:\n{output}")
        return figure
    requests, failures = int(submit["Request Count"]), int(submit["Failure Count"])
    figure.failures = failures
    figure.rate = float(submit["Requests/s"]) * (requests - failures) / requests if requests else 0.0
    figure.p50, figure.p99 = float(submit["50%"]), float(submit["99%"])
    if failures:
        kinds = [f"{row['Error']} x{row['Occurrences']}" for row in csv_rows(Path(f"{prefix}_failures.csv"))]
        figure.notes.append(f"{failures:,} failed submits: {', '.join(kinds)}")
    if report.exists():
        cpu = json.loads(report.read_text())
        figure.generator_cpu, figure.server_cpu = cpu["locust_cpu"], cpu["server_cpu"]
    return figure


def locust_against(label: str, start: Callable[[], Target], args: argparse.Namespace, *, workdir: Path, name: str,
                   api: ContractApi | None = None) -> Figure:
    """Start a target, run one Locust worker against it, stop it."""
    try:
        target = start()
    except Exception as error:
        return Figure(label, "Locust (1 worker)", problems=[f"did not start: {error}"])
    try:
        figure = run_locust(label, target, api_url=api.url if api is not None else target.api_url, args=args,
                            workdir=workdir, name=name)
    finally:
        status = target.stop()
    if status != 0:
        figure.problems.append(f"server exit status {status} after SIGTERM:\n{target.child.log()}")
    return figure


def loadgen_against(label: str, start: Callable[[], Target], args: argparse.Namespace) -> Figure:
    row = compare.measure(label, start, args, sessions=args.sessions, window=args.window, receipts=False)
    figure = Figure(label, "bench/loadgen.py", problems=row.problems)
    r = row.result
    if r is not None and r.ok_window:
        ordered = sorted(r.latencies)
        figure.rate, figure.generator_cpu, figure.server_cpu = r.rate, r.generator_cpu, r.server_cpu
        figure.p50, figure.p99 = loadgen.percentile(ordered, 0.5), loadgen.percentile(ordered, 0.99)
        figure.failures = sum(r.refusals.values())
    return figure


# -- report ---------------------------------------------------------------------------------------------


def report(args: argparse.Namespace, figures: list[Figure], started: float, load_before: str) -> bool:
    print(f"bench/locust_bench: SMPP, {args.warmup:g} s warm-up + {args.seconds:g} s measured per run; Locust "
          f"-u {args.users}, loadgen {args.sessions} sessions; window {args.window}, 4 connections per account; "
          f"{time.strftime('%Y-%m-%d %H:%M')}; {targets.machine()}")
    header = ("target", "generator", "submits/s", "p50 ms", "p99 ms", "gen CPU", "srv CPU", "srv us/OK", "failed")
    cells = [(f.target, f.generator, "failed" if math.isnan(f.rate) else f"{f.rate:,.0f}",
              f"{f.p50:.2f}", f"{f.p99:.2f}", f"{f.generator_cpu:.0%}", f"{f.server_cpu:.0%}",
              f"{f.server_cpu / f.rate * 1e6:.1f}" if f.rate else "-", f"{f.failures:,}")
             for f in figures]
    compare.table(header, [tuple(re.sub(r"^nan%?$", "-", c) for c in row) for row in cells])
    by = {(f.target, f.generator.split()[0]): f for f in figures}
    labels = list(dict.fromkeys(f.target for f in figures))
    ratios = []
    for label in labels:
        locust, generator = by.get((label, "Locust")), by.get((label, "bench/loadgen.py"))
        if locust is not None and generator is not None:
            ratios.append(f"{label} {compare.ratio(locust.rate, generator.rate)}")
    print(f"Locust/loadgen: {', '.join(ratios)}")
    healthy = True
    for f in figures:
        for note in f.notes:
            print(f"{f.generator} vs {f.target}: {note}")
        for problem in f.problems:
            healthy = False
            print(f"{f.generator} vs {f.target} PROBLEM: {problem}")
    ceiling, against, alone = (by.get(key) for key in ((compare.CEILING, "Locust"), (SMSCLAB, "Locust"),
                                                        (SMSCLAB, "bench/loadgen.py")))
    if ceiling is not None and against is not None and alone is not None \
            and all(math.isfinite(f.rate) for f in (ceiling, against, alone)):
        headroom = ceiling.rate / alone.rate if alone.rate else math.nan
        close = against.rate / alone.rate if alone.rate else math.nan
        # Locust limits a run when it cannot go much faster than the server anyway, or when its core was full.
        limited = headroom < ENOUGH_HEADROOM or against.generator_cpu >= FULL_CORE
        print(f"verdict: Locust's ceiling ({ceiling.rate:,.0f}/s against the responder) is {headroom:.1f}x what "
              f"smsclab sustains under loadgen ({alone.rate:,.0f}/s); against smsclab Locust kept its core "
              f"{against.generator_cpu:.0%} busy and got {close:.2f} of loadgen's figure: the Locust user class "
              f"{'may be' if limited else 'is not'} what limits a run against the simulator")
        if not limited and close < CLOSE_ENOUGH and against.rate and alone.rate:
            # Locust waited on the server, so the difference lies in how the server took Locust's traffic.
            print(f"note: smsclab spent {against.server_cpu / against.rate * 1e6:.0f} us of CPU per Locust submit "
                  f"(built one by one, few PDUs per write) and {alone.server_cpu / alone.rate * 1e6:.0f} "
                  f"us per loadgen submit (one pre-encoded PDU, a window's worth per write); it was "
                  f"{against.server_cpu:.0%} and {alone.server_cpu:.0%} busy")
    print("submits/s: OK submit responses per measured second (Locust: Requests/s of submit_sm from its CSV, reset "
          "after the warm-up, less failures); gen CPU: the generator's share of a core; srv CPU: the server's, all "
          f"threads; srv us/OK: server CPU per OK. {time.monotonic() - started:.0f} s in all, load average "
          f"{load_before} before, {targets.load_average()} after.")
    return healthy


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="measured seconds per run")
    parser.add_argument("--warmup", type=float, default=1.0, help="seconds of load before measuring")
    parser.add_argument("--users", type=int, default=4, help="Locust users (-u; they share the account's links)")
    parser.add_argument("--sessions", type=int, default=4, help="loadgen sessions")
    parser.add_argument("--window", type=int, default=64, help="the accounts' window, used by both generators")
    parser.add_argument("--no-uvloop", action="store_true", help="the responder on plain asyncio")
    parser.add_argument("--keep-data", action="store_true", help="keep the temporary directory (logs, CSVs)")
    parser.set_defaults(receipt_wait=0.0)  # read by compare.measure(); nothing here asks for receipts
    args = parser.parse_args()
    if args.users < 1 or args.sessions < 1 or args.window < 1 or args.seconds <= 0 or args.warmup <= 0:
        parser.error("--users, --sessions and --window must be >= 1, --seconds and --warmup > 0")
    if importlib.util.find_spec("locust") is None:
        parser.error("Locust is not installed (pip install -e '.[dev]')")
    started, load_before = time.monotonic(), targets.load_average()
    targets.install_exit_handlers()
    workdir = Path(tempfile.mkdtemp(prefix="smsclab-locust-bench-"))
    accounts = loadgen.accounts_for(args.sessions)
    api = ContractApi(accounts, args.window)
    healthy = False

    def responder() -> Target:
        return targets.start_responder(workdir, "responder", uvloop=not args.no_uvloop)

    def smsclab(name: str) -> Target:
        return targets.start_smsclab(workdir, name, args.sessions, args.window)

    try:
        figures = [
            locust_against(compare.CEILING, responder, args, workdir=workdir, name="locust-responder", api=api),
            loadgen_against(compare.CEILING, responder, args),
            locust_against(SMSCLAB, lambda: smsclab("locust-smsclab"), args, workdir=workdir, name="locust-smsclab"),
            loadgen_against(SMSCLAB, lambda: smsclab("loadgen-smsclab"), args),
        ]
        healthy = report(args, figures, started, load_before)
    except KeyboardInterrupt:
        return targets.interrupted()
    finally:
        api.close()
        targets.stop_all()
        if args.keep_data:
            print(f"data kept in {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    return 0 if healthy else 1


if __name__ == "__main__":
    sys.exit(main())
