"""The servers the side-by-side benchmarks drive, each a child process that cannot outlive the benchmark.

Shared by bench/compare.py and bench/locust_bench.py (not a command of its own):

* :func:`start_smsclab`: ``python -m simulator.cli serve`` with a temporary ``--config`` TOML whose accounts carry
  the window the run asks for (``--account`` always gives window 16), a fresh data directory and free ports;
* :func:`start_responder`: bench/responder.py, the struct-only ceiling;
* :func:`start_smpp34`: bench/smpp34_server.py, the SMSC of the smpp34 wheel.

Every child runs in a session of its own (so that a Ctrl-C in the terminal reaches the benchmark, which then
stops the children in order, rather than all of them at once) and asks the kernel for SIGTERM when the
benchmark dies, so that even a ``kill -9`` of the benchmark leaves no server behind. :func:`stop_all` stops
whatever is still running; :func:`install_exit_handlers` runs it on SIGTERM / SIGHUP and at exit.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import importlib.util
import json
import logging
import os
import resource
import select
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import loadgen

REPO = loadgen.REPO
BENCH = Path(__file__).resolve().parent
HOST = loadgen.HOST
SECRET = loadgen.SECRET
STARTUP_SECONDS = 20.0
STOP_SECONDS = 20.0

_PR_SET_PDEATHSIG = 1
_children: list[Child] = []
# Looked up now, not between fork and exec, where only the simplest calls are safe once threads exist.
_prctl = getattr(ctypes.CDLL(None, use_errno=True), "prctl", None)


def _die_with_parent() -> None:
    """In the child, before exec: SIGTERM when the process that started it ends, however it ends."""
    if _prctl is not None:
        _prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


class Child:
    """A child process with its output in a log file (or, with ``ready_line``, stdout on a pipe)."""

    def __init__(self, name: str, command: list[str], log_path: Path, *, env: dict[str, str] | None = None,
                 cwd: Path = REPO, stdout_pipe: bool = False) -> None:
        self.name = name
        self.log_path = log_path
        self._log: IO[bytes] = open(log_path, "wb")  # noqa: SIM115 (closed in stop())
        self.process = subprocess.Popen(
            command, cwd=cwd, env={**os.environ, **(env or {})},
            stdout=subprocess.PIPE if stdout_pipe else self._log, stderr=self._log,
            start_new_session=True, preexec_fn=_die_with_parent)  # noqa: PLW1509 (prctl only, see above)
        self.pid = self.process.pid
        _children.append(self)

    def ready_line(self, prefix: str = "READY", seconds: float = STARTUP_SECONDS) -> str:
        """The first stdout line that starts with ``prefix`` (the child prints it once it listens)."""
        assert self.process.stdout is not None
        deadline = time.monotonic() + seconds
        pending = b""
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            readable, _, _ = select.select([self.process.stdout], [], [], 0.1)
            if not readable:
                continue
            chunk = os.read(self.process.stdout.fileno(), 4096)
            if not chunk:
                break
            pending += chunk
            for line in pending.decode(errors="replace").split("\n")[:-1]:  # complete lines only
                if line.startswith(prefix):
                    return line.strip()
        raise RuntimeError(f"{self.name} printed no {prefix} line within {seconds:g} s "
                           f"(exit status {self.process.poll()}):\n{self.log()}")

    def stop(self) -> int | None:
        """SIGTERM, wait, SIGKILL if need be; the exit status, or None if it had to be killed."""
        status: int | None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            status = self.process.wait(timeout=STOP_SECONDS)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            status = None
        if self.process.stdout is not None:
            self.process.stdout.close()
        self._log.close()
        if self in _children:
            _children.remove(self)
        return status

    def log(self) -> str:
        if not self._log.closed:
            self._log.flush()
        return self.log_path.read_text(errors="replace")[-3000:]


def stop_all() -> None:
    """Stop every child still running, newest first."""
    for child in reversed(list(_children)):
        child.stop()


def _terminated(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)


def install_exit_handlers() -> None:
    """Children are stopped on a normal exit, an exception, Ctrl-C (KeyboardInterrupt), SIGTERM and SIGHUP."""
    atexit.register(stop_all)
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _terminated)


def interrupted() -> int:
    """After Ctrl-C: the exit status, without the noise of sessions cut off mid-run."""
    # The generator's sessions fail their pending futures as their connections drop; asyncio would log each one
    # ("Future exception was never retrieved") when they are collected.
    logging.getLogger("asyncio").setLevel(logging.CRITICAL)
    print("interrupted: the servers are stopped, nothing was measured to the end", file=sys.stderr)
    return 128 + signal.SIGINT


def raise_fd_limit(needed: int) -> int:
    """Raise the soft limit on open files to at least ``needed`` (up to the hard limit); children inherit it."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < needed:
        wanted = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
        soft = wanted
    return soft


def wait_listening(child: Child, ports: list[int], seconds: float = STARTUP_SECONDS) -> None:
    deadline = time.monotonic() + seconds
    waiting = set(ports)
    while waiting:
        if child.process.poll() is not None:
            raise RuntimeError(f"{child.name} exited with status {child.process.returncode}:\n{child.log()}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"{child.name} did not listen within {seconds:g} s:\n{child.log()}")
        for port in list(waiting):
            with contextlib.suppress(OSError), socket.create_connection((HOST, port), timeout=0.2):
                waiting.discard(port)
        if waiting:
            time.sleep(0.05)


# -- targets --------------------------------------------------------------------------------------------


@dataclass
class Target:
    """A server under load; the attributes loadgen.drive() reads are ``smpp_port``, ``cmpp_port``, ``accounts``
    and ``pid``."""

    label: str
    protocol: str  # the protocol the generator speaks to it: "smpp" or "cmpp"
    child: Child
    smpp_port: int = 0
    cmpp_port: int = 0
    api_url: str = ""
    #: (account id, service code), one per CONNECTIONS_PER_ACCOUNT sessions, as loadgen.drive() assigns them.
    accounts: list[tuple[str, str]] = field(default_factory=list)
    store_path: Path | None = None
    detail: str = ""

    @property
    def pid(self) -> int:
        return self.child.pid

    @property
    def port(self) -> int:
        return self.smpp_port if self.protocol == "smpp" else self.cmpp_port

    def stop(self) -> int | None:
        return self.child.stop()


def bench_config(accounts: list[tuple[str, str]], window: int, *, enquire_link_interval: float | None = None) -> str:
    """A --config TOML: the embedded default (policy, store, receipts as shipped) with these accounts only.

    ``--account`` cannot set a window (it is always 16), hence a file; each account keeps the default four
    connections, which is what loadgen.drive() assumes when it hands out accounts to sessions.
    ``enquire_link_interval``: the SMSC's keep-alive interval instead of the default 30 s.
    """
    smpp = [] if enquire_link_interval is None else [f"[smpp]\nenquire_link_interval = {enquire_link_interval:g}\n"]
    blocks = smpp + [f'[[accounts]]\nid = "{account}"\nsecret = "{SECRET}"\nservice_codes = ["{code}"]\n'
              f"window = {window}\nmax_connections = {loadgen.CONNECTIONS_PER_ACCOUNT}\n"
              for account, code in accounts]
    return "# written by bench/targets.py for one benchmark run\n\n" + "\n".join(blocks)


def start_smsclab(workdir: Path, name: str, sessions: int, window: int, protocol: str = "smpp", *,
                  subscribed: bool = True, enquire_link_interval: float | None = None) -> Target:
    """``smsclab serve`` with accounts for ``sessions`` connections of window ``window``.

    ``subscribed``: the generator's recipient is opted in to every account through the control API, as a
    compliant partner's recipients are (clause 3.4), so that no submit breaches a rule; otherwise every submit
    breaches the monitored subscriber rule and is recorded as a violation."""
    data_dir = workdir / name
    data_dir.mkdir(parents=True)
    accounts = loadgen.accounts_for(sessions)
    config = data_dir / "bench.toml"
    config.write_text(bench_config(accounts, window, enquire_link_interval=enquire_link_interval))
    cmpp_port, smpp_port, api_port = loadgen.free_ports(3)
    command = [sys.executable, "-m", "simulator.cli", "serve", "--config", str(config),
               "--cmpp-port", str(cmpp_port), "--smpp-port", str(smpp_port), "--api-port", str(api_port),
               "--data-dir", str(data_dir / "store")]
    child = Child(f"smsclab ({name})", command, data_dir / "server.log")
    try:
        wait_listening(child, [cmpp_port, smpp_port, api_port])
        if subscribed:
            for account, _ in accounts:
                request = urllib.request.Request(
                    f"http://{HOST}:{api_port}/accounts/{account}/subscribers", method="POST",
                    data=json.dumps({"numbers": [loadgen.DESTINATION]}).encode(),
                    headers={"Content-Type": "application/json"})
                with urllib.request.urlopen(request, timeout=10):
                    pass
    except BaseException:
        child.stop()
        raise
    return Target(f"smsclab {protocol.upper()}", protocol, child, smpp_port=smpp_port, cmpp_port=cmpp_port,
                  api_url=f"http://{HOST}:{api_port}", accounts=accounts,
                  store_path=data_dir / "store" / "smsclab.sqlite")


def start_responder(workdir: Path, name: str, *, uvloop: bool = True) -> Target:
    """bench/responder.py on a port of its choosing."""
    command = [sys.executable, str(BENCH / "responder.py")] + ([] if uvloop else ["--no-uvloop"])
    child = Child("responder", command, workdir / f"{name}.log", stdout_pipe=True)
    try:
        _, port, loop = child.ready_line().split()[:3]
    except BaseException:
        child.stop()
        raise
    # Any account works: the responder checks nothing. loadgen.drive() still wants one per four sessions.
    return Target("struct responder", "smpp", child, smpp_port=int(port), accounts=loadgen.accounts_for(4096),
                  detail=loop)


def smpp34_missing() -> str | None:
    """Why the smpp34 peer cannot run here, or None when it can."""
    if importlib.util.find_spec("smpp34") is None:
        return "the smpp34 package is not installed (pip install smpp34)"
    return None


def start_smpp34(workdir: Path, name: str, *, consumers: int, threads: int | None) -> Target:
    """bench/smpp34_server.py; ``threads`` sets SMPP34_WORKER_THREADS (None: the package's default)."""
    env = {} if threads is None else {"SMPP34_WORKER_THREADS": str(threads)}
    command = [sys.executable, str(BENCH / "smpp34_server.py"), "--consumers", str(consumers)]
    child = Child("smpp34 server", command, workdir / f"{name}.log", env=env, stdout_pipe=True)
    try:
        ready = child.ready_line().split()
    except BaseException:
        child.stop()
        raise
    detail = f"smpp34 {ready[3]}, {consumers} consumer tasks, tokio threads {threads or 'default (2)'}"
    return Target("smpp34 server", "smpp", child, smpp_port=int(ready[1]), accounts=loadgen.accounts_for(4096),
                  detail=detail)


# -- measurements of a process --------------------------------------------------------------------------


def rss_kib(pid: int) -> int:
    return loadgen.proc_status(pid)["VmRSS"]


def peak_rss_kib(pid: int) -> int:
    return loadgen.proc_status(pid)["VmHWM"]


def store_rows(path: Path | None) -> int | None:
    """Messages in a stopped server's store, None without a store."""
    if path is None or not path.exists():
        return None
    db = sqlite3.connect(path)
    try:
        return int(db.execute("SELECT COUNT(*) FROM messages").fetchone()[0])
    finally:
        db.close()


def machine() -> str:
    """``nproc``, the CPU model and the Python version, for the heading of a result."""
    model = "unknown CPU"
    with contextlib.suppress(OSError), open("/proc/cpuinfo") as cpuinfo:
        for line in cpuinfo:
            if line.startswith("model name"):
                model = line.partition(":")[2].strip()
                break
    return f"{len(os.sched_getaffinity(0))} cores ({model}), Python {sys.version.split()[0]}"


def load_average() -> str:
    """The 1-minute load average: above the core count, other processes took a share of the figures."""
    return f"{os.getloadavg()[0]:.1f}"
