"""smsclab side by side with the ceiling of Python and with a peer, one load generator, one run (figures, not a test).

Usage: python bench/compare.py [--seconds 5] [--warmup 1] [--sessions 4] [--window 64] [--receipts]
       [--scale-sessions 1000] [--scale-window 4] [--idle-sessions 5000] [--no-scale] [--no-idle] [--no-half]
       [--smpp34-consumers 256] [--smpp34-threads N] [--no-uvloop] [--keep-data]

One after the other, each in a process of its own and driven by bench/loadgen.py's generator (the same
sessions, the same pre-encoded submit, the same clock), for a warm-up and then the measured seconds:

1. smsclab SMPP and 2. smsclab CMPP: ``smsclab serve`` as bench/loadgen.py runs it (durable store, policy on,
   receipts off unless ``--receipts``), but from a ``--config`` file whose accounts have window ``--window``;
   afterwards its store must hold exactly one message per OK (otherwise LOST, exit status 1);
3. bench/responder.py: struct framing and fixed answers, nothing else: the ceiling of Python on this machine;
4. bench/smpp34_server.py: the SMSC of the smpp34 wheel (Rust core), the peer; left out, with the reason
   printed, when the package is not installed.

Then each smsclab row again at half the rate it sustained (the generator paces its sends), for the latency
there (issue 7: p99 <= 5 ms at half load), and two extra figures for smsclab SMPP (issue 7, "Scale"): the
throughput with ``--scale-sessions`` sessions of window ``--scale-window`` against the figure of row 1, and the
server's RSS growth per idle bound session (``--idle-sessions`` sessions opened on top of four and held bound
with keep-alives flowing, the server probing each after 2 s idle; RSS read before and after; every held session
must have answered an enquire_link).

The table shows submits/s (OK responses in the measured seconds), p50/p99 latency (send -> OK), the server's peak
RSS, its CPU (share of one core, all threads) and CPU per OK, the generator's CPU (near 100% means the
generator, not the server, set the pace), and the ratios to the responder (the ceiling) and to smpp34 (the peer).
Only figures of one run are comparable: on a 2-core machine everything else running shifts them all.

Every server stops when the run ends, fails, or is interrupted (Ctrl-C, SIGTERM), and even when this process is
killed (the children ask the kernel for SIGTERM when it dies).
"""

from __future__ import annotations

import argparse
import asyncio
import math
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import loadgen
import targets
from targets import Target

#: The rows the ratios are taken to.
CEILING, PEER = "struct responder", "smpp34 server"
#: Per thousand sessions, on top of loadgen's handshake allowance: the sessions connect one after the other and
#: the server answers each bind on its own, so a thousand binds take seconds on a busy 2-core machine.
BIND_SECONDS_PER_THOUSAND = 5.0
#: How long the idle sessions stay bound before RSS is read, so that buffers allocated at bind time settle.
IDLE_SETTLE_SECONDS = 1.0
#: The idle server's keep-alive interval (the default is 30 s), and how long the sessions are held bound: long
#: enough for every session to be probed twice, so that RSS is read with keep-alives flowing (issue 7: sessions
#: "held with keep-alives on").
IDLE_KEEPALIVE_SECONDS = 2.0
IDLE_HOLD_SECONDS = 5.0
#: The idle sessions are opened on top of this many, bound before the "before" figure (one-time costs out).
IDLE_WARM_SESSIONS = 4


@dataclass
class Row:
    """One target under one load."""

    label: str
    detail: str = ""
    result: loadgen.Result | None = None
    has_store: bool = False
    problems: list[str] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.result.rate if self.result is not None else math.nan


@dataclass
class Idle:
    sessions: int = 0
    before_kib: int = 0
    after_kib: int = 0
    #: enquire_links the idle sessions answered while held, and how many of them were never probed.
    keepalives: int = 0
    never_probed: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def per_session_kib(self) -> float:
        return (self.after_kib - self.before_kib) / self.sessions if self.sessions else math.nan


def load_options(args: argparse.Namespace, sessions: int, window: int, receipts: bool,
                 rate: float | None = None) -> argparse.Namespace:
    """The options loadgen.drive() reads, for one load (``rate``: offered submits/s, None for window-bound)."""
    return argparse.Namespace(rate=rate, sessions=sessions, window=window, receipts=receipts, warmup=args.warmup,
                              seconds=args.seconds, receipt_wait=args.receipt_wait)


def measure(label: str, start: Callable[[], Target], args: argparse.Namespace, *, sessions: int, window: int,
            receipts: bool, rate: float | None = None) -> Row:
    """Start a target, load it, stop it; a failed start or load becomes a problem of the row, not an abort."""
    try:
        target = start()
    except Exception as error:
        return Row(label, problems=[f"did not start: {error}"])
    row = Row(label, target.detail, has_store=target.store_path is not None)
    result = loadgen.Result(target.protocol, sessions, window, args.seconds)
    row.result = result
    # loadgen.drive() allows HANDSHAKE_SECONDS for all binds; many sessions need more.
    handshake = loadgen.HANDSHAKE_SECONDS
    loadgen.HANDSHAKE_SECONDS = handshake + BIND_SECONDS_PER_THOUSAND * sessions / 1000
    try:
        result.rss_start = targets.rss_kib(target.pid)
        asyncio.run(loadgen.drive(load_options(args, sessions, window, receipts, rate), target.protocol, target,
                                  result))
        result.rss_end, result.rss_peak = targets.rss_kib(target.pid), targets.peak_rss_kib(target.pid)
    except Exception as error:
        row.problems.append(f"{type(error).__name__}: {error}")
    finally:
        loadgen.HANDSHAKE_SECONDS = handshake
        result.server_exit = target.stop()
    if result.server_exit != 0:
        row.problems.append(f"server exit status {result.server_exit} after SIGTERM:\n{target.child.log()}")
    result.store_rows = targets.store_rows(target.store_path)
    row.problems += result.problems
    if row.has_store and result.lost:
        row.problems.append(f"LOST: {result.ok_total:,} submits answered OK but the store holds {result.store_rows} "
                            "messages")
    return row


async def hold_idle(target: Target, count: int) -> Idle:
    """Bind ``count`` SMPP sessions on top of a few warm ones and read the server's RSS before and after."""
    idle = Idle(count)
    loop = asyncio.get_running_loop()
    run = loadgen.Run(window=1, per_session_rate=None)  # never ``sending``: the sessions only answer keep-alives
    sessions: list[loadgen.LoadSession] = []

    async def bind(first: int, total: int) -> None:
        opened = []
        for index in range(first, first + total):
            account, code = target.accounts[index // loadgen.CONNECTIONS_PER_ACCOUNT]
            session = loadgen.SmppLoadSession(run, b"", account, code)
            await loop.create_connection(lambda s=session: s, loadgen.HOST, target.smpp_port)
            opened.append(session)
        sessions.extend(opened)
        allowance = loadgen.HANDSHAKE_SECONDS + BIND_SECONDS_PER_THOUSAND * total / 1000
        await asyncio.wait_for(asyncio.gather(*(s.ready for s in opened)), allowance)
        await asyncio.sleep(IDLE_SETTLE_SECONDS)

    try:
        await bind(0, IDLE_WARM_SESSIONS)
        idle.before_kib = targets.rss_kib(target.pid)
        await bind(IDLE_WARM_SESSIONS, count)
        await asyncio.sleep(IDLE_HOLD_SECONDS)
        idle.after_kib = targets.rss_kib(target.pid)
        held = sessions[IDLE_WARM_SESSIONS:]
        idle.keepalives = sum(session.keepalives_answered for session in held)
        idle.never_probed = sum(not session.keepalives_answered for session in held)
        if idle.never_probed:
            idle.problems.append(f"{idle.never_probed:,} of {count:,} idle sessions got no enquire_link in "
                                 f"{IDLE_HOLD_SECONDS:g} s (interval {IDLE_KEEPALIVE_SECONDS:g} s)")
        for session in sessions:
            session.say_goodbye()
        goodbyes = asyncio.gather(*(s.goodbye for s in sessions), return_exceptions=True)
        try:
            await asyncio.wait_for(goodbyes, loadgen.GOODBYE_SECONDS + count / 1000)
        except TimeoutError:
            idle.problems.append(f"{sum(not s.goodbye.done() for s in sessions)} idle sessions got no unbind_resp")
    finally:
        for session in sessions:
            session.close()
        await asyncio.sleep(0.05)
        idle.problems += run.problems
    return idle


def measure_idle(workdir: Path, count: int) -> Idle:
    try:
        target = targets.start_smsclab(workdir, "idle", count + IDLE_WARM_SESSIONS, loadgen.ACCOUNT_WINDOW,
                                       subscribed=False, enquire_link_interval=IDLE_KEEPALIVE_SECONDS)
    except Exception as error:
        return Idle(count, problems=[f"did not start: {error}"])
    try:
        idle = asyncio.run(hold_idle(target, count))
    except Exception as error:
        idle = Idle(count, problems=[f"{type(error).__name__}: {error}"])
    finally:
        status = target.stop()
    if status != 0:
        idle.problems.append(f"server exit status {status} after SIGTERM:\n{target.child.log()}")
    return idle


# -- report ---------------------------------------------------------------------------------------------


def ratio(value: float, base: float) -> str:
    return "-" if math.isnan(value) or math.isnan(base) or not base else f"{value / base:.2f}"


def table(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> None:
    widths = [max(len(row[i]) for row in (header, *rows)) for i in range(len(header))]
    for row in (header, *rows):
        cells = zip(row, widths, strict=True)
        print("  ".join(cell.ljust(w) if i == 0 else cell.rjust(w) for i, (cell, w) in enumerate(cells)).rstrip())


def row_cells(row: Row, ceiling: float, peer: float) -> tuple[str, ...]:
    r = row.result
    if r is None or not r.ok_window:
        return (row.label, "failed", *["-"] * 9)
    ordered = sorted(r.latencies)
    store = "-" if not row.has_store else ("= OK" if not r.lost else "LOST")
    return (row.label, f"{r.rate:,.0f}", f"{loadgen.percentile(ordered, 0.50):.2f}",
            f"{loadgen.percentile(ordered, 0.99):.2f}", loadgen.mib(r.rss_peak), f"{r.server_cpu:.0%}",
            f"{r.server_cpu_per_ok * 1e6:.1f}", f"{r.generator_cpu:.0%}", ratio(r.rate, ceiling), ratio(r.rate, peer),
            store)


def report(args: argparse.Namespace, rows: list[Row], *, peer_missing: str | None, half: list[Row],
           scale: Row | None, idle: Idle | None, started: float, load_before: str) -> bool:
    """Print everything; True when no run had a problem."""
    ceiling = next((r.rate for r in rows if r.label == CEILING), math.nan)
    peer = next((r.rate for r in rows if r.label == PEER), math.nan)
    print(f"bench/compare: {args.sessions} sessions x window {args.window}, {args.warmup:g} s warm-up + "
          f"{args.seconds:g} s measured per target, smsclab receipts {'on' if args.receipts else 'off'}; "
          f"{time.strftime('%Y-%m-%d %H:%M')}; {targets.machine()}")
    header = ("target", "submits/s", "p50 ms", "p99 ms", "RSS peak", "srv CPU", "srv us/OK", "gen CPU",
              "x ceiling", "x peer", "store")
    table(header, [row_cells(row, ceiling, peer) for row in rows])
    healthy = True
    for row in rows:
        if row.detail:
            print(f"{row.label}: {row.detail}")
        r = row.result
        if r is not None and r.refusals:
            print(f"{row.label}: refusals {dict(r.refusals.most_common())}")
        if r is not None and args.receipts and row.has_store:
            print(f"{row.label}: receipts received {r.receipts:,} of {r.ok_total:,} by {args.receipt_wait:g} s after "
                  "the load")
        for problem in row.problems:
            healthy = False
            print(f"{row.label} PROBLEM: {problem}")
    if peer_missing:
        print(f"{PEER}: row left out: {peer_missing}")
    for row in half:
        r = row.result
        if r is not None and r.ok_window:
            ordered = sorted(r.latencies)
            print(f"half load: {row.label} offered {row.detail}: {r.rate:,.0f} submits/s, p50 "
                  f"{loadgen.percentile(ordered, 0.5):.2f} ms, p99 {loadgen.percentile(ordered, 0.99):.2f} ms "
                  f"(issue 7: p99 <= 5 ms), srv CPU {r.server_cpu:.0%}")
        for problem in row.problems:
            healthy = False
            print(f"half load {row.label} PROBLEM: {problem}")
    if scale is not None:
        base = next((r.rate for r in rows if r.label == "smsclab SMPP"), math.nan)
        r = scale.result
        if r is not None and r.ok_window:
            ordered = sorted(r.latencies)
            print(f"scale: smsclab SMPP with {r.sessions:,} sessions x window {r.window}: {r.rate:,.0f} submits/s = "
                  f"{ratio(r.rate, base)} of the {args.sessions} x {args.window} figure (issue 7: >= 0.80); "
                  f"p50 {loadgen.percentile(ordered, 0.5):.2f} ms, p99 {loadgen.percentile(ordered, 0.99):.2f} ms, "
                  f"RSS peak {loadgen.mib(r.rss_peak)}, srv CPU {r.server_cpu:.0%}, gen CPU {r.generator_cpu:.0%}, "
                  f"store {'= OK' if not r.lost else 'LOST'}")
        for problem in scale.problems:
            healthy = False
            print(f"scale PROBLEM: {problem}")
    if idle is not None:
        if not idle.problems:
            print(f"idle: smsclab SMPP holding {idle.sessions:,} more bound sessions for {IDLE_HOLD_SECONDS:g} s, "
                  f"enquire_link every {IDLE_KEEPALIVE_SECONDS:g} s idle ({idle.keepalives:,} answered, every session "
                  f"probed): RSS {loadgen.mib(idle.before_kib)} -> {loadgen.mib(idle.after_kib)} = "
                  f"{idle.per_session_kib:.1f} KiB per session (issue 7: <= 20)")
        for problem in idle.problems:
            healthy = False
            print(f"idle PROBLEM: {problem}")
    print("submits/s: OK responses in the measured seconds; latency: send -> OK; srv CPU: share of one core, all "
          "threads; srv us/OK: server CPU per OK; gen CPU: the generator's share of a core (near 100%: the "
          "generator set the pace); x ceiling / x peer: submits/s over the responder's / smpp34's (both SMPP); "
          f"store: rows after the run = OKs. {time.monotonic() - started:.0f} s in all, load average "
          f"{load_before} before, {targets.load_average()} after.")
    return healthy


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="measured seconds per target")
    parser.add_argument("--warmup", type=float, default=1.0, help="seconds of load before measuring")
    parser.add_argument("--sessions", type=int, default=4)
    parser.add_argument("--window", type=int, default=64, help="submits outstanding per session")
    parser.add_argument("--receipts", action="store_true", help="smsclab runs with registered_delivery=1")
    parser.add_argument("--receipt-wait", type=float, default=5.0, help="with --receipts: seconds to wait for them")
    parser.add_argument("--scale-sessions", type=int, default=1000)
    parser.add_argument("--scale-window", type=int, default=4)
    parser.add_argument("--idle-sessions", type=int, default=5000)
    parser.add_argument("--no-scale", action="store_true", help="skip the many-sessions run")
    parser.add_argument("--no-idle", action="store_true", help="skip the idle-session RSS figure")
    parser.add_argument("--no-half", action="store_true", help="skip the latency runs at half load")
    parser.add_argument("--smpp34-consumers", type=int, default=256,
                        help="tasks awaiting smpp34's Server.next() at once (see bench/smpp34_server.py)")
    parser.add_argument("--smpp34-threads", type=int, help="SMPP34_WORKER_THREADS (default: the package's)")
    parser.add_argument("--no-uvloop", action="store_true", help="the responder on plain asyncio")
    parser.add_argument("--keep-data", action="store_true", help="keep the temporary directory (logs, stores)")
    args = parser.parse_args()
    if min(args.sessions, args.window, args.scale_sessions, args.scale_window, args.idle_sessions) < 1 \
            or args.seconds <= 0 or args.warmup < 0:
        parser.error("--sessions, --window, --scale-sessions, --scale-window and --idle-sessions must be >= 1, "
                     "--seconds > 0, --warmup >= 0")
    if max(args.sessions, args.scale_sessions, args.idle_sessions + IDLE_WARM_SESSIONS) > loadgen.MAX_SESSIONS:
        parser.error(f"at most {loadgen.MAX_SESSIONS:,} sessions ({loadgen.MAX_ACCOUNTS:,} accounts of "
                     f"{loadgen.CONNECTIONS_PER_ACCOUNT} connections), the idle ones and {IDLE_WARM_SESSIONS} more")
    started, load_before = time.monotonic(), targets.load_average()
    targets.install_exit_handlers()
    # One descriptor per session in the generator and in the server (which inherits the limit), and some to spare.
    targets.raise_fd_limit(max(args.sessions, args.scale_sessions, args.idle_sessions) + 1024)
    workdir = Path(tempfile.mkdtemp(prefix="smsclab-compare-"))
    healthy = False
    try:
        plain = {"sessions": args.sessions, "window": args.window, "receipts": False}
        rows = [measure(CEILING, lambda: targets.start_responder(workdir, "responder", uvloop=not args.no_uvloop),
                        args, **plain)]
        peer_missing = targets.smpp34_missing()
        if peer_missing is None:
            rows.append(measure(PEER, lambda: targets.start_smpp34(workdir, "smpp34", consumers=args.smpp34_consumers,
                                                                   threads=args.smpp34_threads), args, **plain))
        for protocol in ("smpp", "cmpp"):
            rows.append(measure(f"smsclab {protocol.upper()}",
                                lambda p=protocol: targets.start_smsclab(workdir, p, args.sessions, args.window, p),
                                args, sessions=args.sessions, window=args.window, receipts=args.receipts))
        half = []
        for row in rows[-2:] if not args.no_half else []:
            # Latency where it matters: the offered load paced at half of what the row sustained.
            protocol, rate = row.label.split()[-1].lower(), (row.result.rate / 2 if row.result else 0)
            if rate >= 1:
                measured = measure(row.label, lambda p=protocol: targets.start_smsclab(
                    workdir, f"{p}-half", args.sessions, args.window, p), args, sessions=args.sessions,
                    window=args.window, receipts=args.receipts, rate=rate)
                measured.detail = f"{rate:,.0f}/s"
                half.append(measured)
        scale = None
        if not args.no_scale:
            scale = measure("smsclab SMPP", lambda: targets.start_smsclab(workdir, "scale", args.scale_sessions,
                                                                          args.window),
                            args, sessions=args.scale_sessions, window=args.scale_window, receipts=args.receipts)
        idle = None if args.no_idle else measure_idle(workdir, args.idle_sessions)
        healthy = report(args, rows, peer_missing=peer_missing, half=half, scale=scale, idle=idle, started=started,
                         load_before=load_before)
    except KeyboardInterrupt:
        return targets.interrupted()
    finally:
        targets.stop_all()
        if args.keep_data:
            print(f"data kept in {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    return 0 if healthy else 1


if __name__ == "__main__":
    sys.exit(main())
