"""The ``smsclab`` command line.

Every failure a user can cause (bad hex, a malformed PDU, a JSON mistake, a wrong config value) ends as
one line on stderr naming what is wrong and where, and exit status 2; a traceback means a bug of ours.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import sys
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from pathlib import Path

from protocols.dialects import DIALECTS, Dialect
from protocols.errors import ProtocolError, RemoteProtocolError
from protocols.pdujson import from_json, to_json
from simulator.billing import FORMATS, BillingError, PortStatistics, Statement, monthly_statistics, render, statement
from simulator.clock import RealClock, ScaledClock
from simulator.compliance import FORMATS as COMPLIANCE_FORMATS
from simulator.compliance import exit_status, judge, load_events
from simulator.compliance import report as compliance_report
from simulator.config import Config, ConfigError, dump_config, load_config, parse_account_option, with_overrides
from simulator.scenario import (
    Scenario,
    find_scenario,
    format_ready_list,
    format_timeline,
    load_scenario,
    parse_duration,
    parse_instant,
    ready_scenarios,
    scenarios_dir,
    timeline,
)
from simulator.server import Endpoints, Simulator
from simulator.store import StoreError

__all__ = ["main"]

EXIT_USAGE = 2


class CliError(Exception):
    """A mistake in what the user gave us; printed as one line, exit status 2."""


def _read_argument(value: str) -> str:
    return sys.stdin.read() if value == "-" else value


def _parse_hex(raw: str) -> bytes:
    """Hex as people paste it: spaces, newlines, colons and a ``0x`` prefix are allowed."""
    cleaned = raw.strip()
    if cleaned[:2].lower() == "0x":
        cleaned = cleaned[2:]
    digits = "".join(ch for ch in cleaned if ch not in " \t\r\n:")
    for position, ch in enumerate(digits):
        if ch not in "0123456789abcdefABCDEF":
            raise CliError(f"not hexadecimal: {ch!r} at digit {position}")
    if len(digits) % 2:
        raise CliError(f"odd number of hex digits ({len(digits)})")
    return bytes.fromhex(digits)


def _decode_stream(dialect: Dialect, data: bytes) -> list[dict[str, object]]:
    frames = dialect.frame_buffer()
    start = 0
    documents = []
    try:
        for frame in frames.feed(data):
            pdu = dialect.decode(frame)
            document = to_json(pdu, sequence_field=dialect.sequence_field)
            described = dialect.describe(pdu)
            if described:
                document["decoded"] = described
            documents.append(document)
            start += len(frame)
        frames.feed(b"")  # raises a length error met after the last whole frame
    except RemoteProtocolError as error:
        offset = start + (error.offset or 0)
        field = f" field {error.field}" if error.field else ""
        raise CliError(f"byte {offset}{field}: {error.message}") from None
    if frames.buffered:
        claimed = int.from_bytes(data[start : start + 4], "big") if frames.buffered >= 4 else None
        detail = f"its length says {claimed} bytes" if claimed is not None else "not even a length field"
        raise CliError(f"byte {start}: truncated PDU: {frames.buffered} bytes given, {detail}")
    if not documents:
        raise CliError("no PDU in the input")
    return documents


def _cmd_decode(args: argparse.Namespace) -> int:
    dialect = DIALECTS[args.protocol]
    documents = _decode_stream(dialect, _parse_hex(_read_argument(args.hex)))
    output = documents[0] if len(documents) == 1 else documents
    print(json.dumps(output, indent=2, ensure_ascii=False))
    return 0


def _cmd_encode(args: argparse.Namespace) -> int:
    dialect = DIALECTS[args.protocol]
    raw = _read_argument(args.json)
    try:
        document = json.loads(raw)
    except json.JSONDecodeError as error:
        raise CliError(f"invalid JSON at line {error.lineno} column {error.colno}: {error.msg}") from None
    documents = document if isinstance(document, list) else [document]
    encoded = []
    for index, item in enumerate(documents):
        where = f"PDU {index}: " if len(documents) > 1 else ""
        try:
            pdu = from_json(item, classes=dialect.classes, sequence_field=dialect.sequence_field)
            encoded.append(dialect.encode(pdu))
        except ProtocolError as error:
            raise CliError(f"{where}{error}") from None
    print(b"".join(encoded).hex())
    return 0


def _effective_config(args: argparse.Namespace) -> Config:
    config = load_config(args.config)
    accounts = [parse_account_option(text) for text in args.account]
    return with_overrides(config, accounts=accounts, cmpp_port=args.cmpp_port, smpp_port=args.smpp_port,
                          api_port=args.api_port, data_dir=args.data_dir)


def _startup_table(config: Config, endpoints: Endpoints) -> str:
    """What a newcomer needs to connect at once: where to, and as whom."""
    versions = ", ".join(f"{v >> 4}.{v & 0xF}" for v in config.cmpp.versions)
    lines = [
        "smsclab is running (Ctrl-C stops it)",
        f"  CMPP  {endpoints.cmpp[0]}:{endpoints.cmpp[1]}  (versions {versions})",
        f"  SMPP  {endpoints.smpp[0]}:{endpoints.smpp[1]}  (3.4, 5.0 additions)",
    ]
    if endpoints.api is not None:
        lines.append(f"  API   http://{endpoints.api[0]}:{endpoints.api[1]}/  (OpenAPI at /openapi.json)")
    lines.append(f"  store {config.data_dir}")
    lines.append("")
    header = ("SP_Id / system_id", "secret / password", "service codes", "rate (msg/s)", "window")
    rows = [(a.id, a.secret, ",".join(a.service_codes), "unlimited" if a.rate is None else f"{a.rate:g}",
             str(a.window)) for a in config.accounts]
    widths = [max(len(row[i]) for row in (header, *rows)) for i in range(len(header))]
    for row in (header, *rows):
        lines.append("  " + "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))
    return "\n".join(lines)


async def _serve(config: Config, speed: float, seed: int, scenario: Scenario | None) -> None:
    simulator = Simulator(config, ScaledClock(speed), seed=seed, scenario=scenario)
    try:
        endpoints = await simulator.start()
    except (OSError, StoreError) as error:  # a port in use, a data directory we cannot write
        raise CliError(f"cannot start: {error}") from None
    print(_startup_table(config, endpoints), flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signal_number in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signal_number, stop.set)
    try:
        await stop.wait()
    finally:
        print("smsclab: stopping (partners get TERMINATE / unbind; the store is closed)", flush=True)
        await simulator.stop()


def _cmd_serve(args: argparse.Namespace) -> int:
    config = _effective_config(args)
    if args.speed <= 0:
        raise CliError("--speed must be positive")
    scenario = load_scenario(find_scenario(args.scenario)) if args.scenario is not None else None
    asyncio.run(_serve(config, args.speed, args.seed, scenario))
    return 0


def _cmd_config_show(args: argparse.Namespace) -> int:
    print(dump_config(_effective_config(args), show_secrets=args.show_secrets), end="")
    return 0


def _cmd_mo(args: argparse.Namespace) -> int:
    body = json.dumps({"from": args.sender, "to": args.to, "text": args.text}).encode()
    request = urllib.request.Request(f"{args.api.rstrip('/')}/mo", data=body, method="POST",
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            answer = json.loads(response.read())
    except urllib.error.HTTPError as error:
        detail = json.loads(error.read() or b"{}").get("error", error.reason)
        raise CliError(f"the simulator refused the MO: {detail}") from None
    except (urllib.error.URLError, OSError) as error:
        raise CliError(f"cannot reach the simulator's API at {args.api}: {error}") from None
    print(f"MO queued for account {answer['account']} in {answer['segments']} segment(s)")
    return 0


def _cmd_report_billing(args: argparse.Namespace) -> int:
    """The month's billing statement per port (agreement 4.2, 4.3, 3.3) or, with --statistics, its traffic
    statistics per port and service code (2.4); both recomputed from the store (4.4)."""
    config = load_config(args.config)
    db_path = (config.data_dir if args.data_dir is None else args.data_dir) / "smsclab.sqlite"
    try:
        if args.statistics:
            statistics = monthly_statistics(db_path, args.month, config.timezone, accounts=config.accounts)
            text = render(statistics, args.format, kind=PortStatistics)
        else:
            text = render(statement(db_path, args.month, config), args.format, kind=Statement)
    except BillingError as error:
        raise CliError(str(error)) from None
    print(text, end="")
    return 0


def _cmd_report_compliance(args: argparse.Namespace) -> int:
    """The compliance verdicts of every partner (or one), judged from the store's audit events; exit status 3
    when a check fails, so that CI and load tests can gate on it."""
    config = load_config(args.config)
    db_path = (config.data_dir if args.data_dir is None else args.data_dir) / "smsclab.sqlite"
    try:
        events = load_events(db_path, since=args.since)
    except FileNotFoundError as error:
        raise CliError(str(error)) from None
    accounts = {account.id: account for account in config.accounts}
    if args.account is not None and args.account not in accounts:
        raise CliError(f"--account: no account {args.account!r} in the configuration")
    verdicts = judge(events, accounts, account=args.account)
    print(compliance_report(verdicts, args.format), end="" if args.format == "junit" else "\n")
    return exit_status(verdicts)


def _add_config_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", type=Path, help="TOML file merged over the embedded default")
    parser.add_argument("--account", action="append", default=[], metavar="ID:SECRET:SERVICE_CODE[:RATE]",
                        help="an account (repeatable); replaces the configured accounts")
    parser.add_argument("--cmpp-port", type=int, help="CMPP port (0 picks a free one)")
    parser.add_argument("--smpp-port", type=int, help="SMPP port (0 picks a free one)")
    parser.add_argument("--api-port", type=int, help="control API port (0 picks a free one)")
    parser.add_argument("--data-dir", type=Path, help="where the store lives")


def _cmd_scenario_check(args: argparse.Namespace) -> int:
    scenario = load_scenario(find_scenario(args.file))  # a ScenarioError is a ConfigError: main() prints it
    start = RealClock().now() if args.start is None else args.start
    print(format_timeline(scenario, timeline(scenario, start, horizon=args.horizon), start))
    return 0


def _cmd_scenario_list(args: argparse.Namespace) -> int:
    paths = ready_scenarios()
    if not paths:
        raise CliError(f"no scenario files in {scenarios_dir()} (SMSCLAB_SCENARIOS names another directory)")
    table, valid = format_ready_list(paths)
    print(table)
    return 0 if valid else 1


def _option(parse: Callable[[str], float]) -> Callable[[str], float]:
    """An argparse ``type=`` from a parser that raises ValueError: argparse then prints its message, exit 2."""

    def convert(text: str) -> float:
        try:
            return parse(text)
        except ValueError as error:
            raise argparse.ArgumentTypeError(str(error)) from None

    return convert


def _add_scenario_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    scenario = commands.add_parser("scenario", help="check and list scenario files").add_subparsers(
        dest="scenario_command", required=True, metavar="ACTION")
    check = scenario.add_parser(
        "check", help="validate a scenario file and print its timeline",
        description="Validate a scenario file and print its timeline: when each notice, begin, end and instant "
                    "event happens (in the scenario's time zone and as an offset from the start), to whom, and what.")
    check.set_defaults(handler=_cmd_scenario_check)
    check.add_argument("file", help="a scenario file, or the name of a ready one (smsclab scenario list)")
    check.add_argument("--start", type=_option(parse_instant), metavar="RFC3339",
                       help="when the scenario starts, e.g. 2026-11-30T00:00:00+08:00 (default: now)")
    check.add_argument("--horizon", type=_option(parse_duration), metavar="DURATION",
                       help='leave out occurrences beginning later than this after the start, e.g. "7d 00:00:00" '
                            "(default: everything; recurring events without count or until: 7 days)")
    ready = scenario.add_parser("list", help="list the ready scenarios",
                                description="List the ready scenarios: scenarios/ of the checkout, or the "
                                            "directory named by SMSCLAB_SCENARIOS.")
    ready.set_defaults(handler=_cmd_scenario_list)


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="smsclab", description="SMS gateway lab: a CMPP/SMPP simulator")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(name: str, handler: Callable[[argparse.Namespace], int], help_text: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help_text, description=help_text)
        sub.set_defaults(handler=handler)
        return sub

    protocols = sorted(DIALECTS)
    decode = add("decode", _cmd_decode, "print PDUs given as hex as JSON")
    decode.add_argument("--protocol", required=True, choices=protocols)
    decode.add_argument("hex", help="the PDU bytes in hex (one or several PDUs), or - to read stdin")
    encode = add("encode", _cmd_encode, "print the hex of PDUs given as JSON (the form decode prints)")
    encode.add_argument("--protocol", required=True, choices=protocols)
    encode.add_argument("json", help="a JSON object or a list of them, or - to read stdin")
    serve = add("serve", _cmd_serve, "run the simulated CMPP ISMG and SMPP SMSC")
    _add_config_options(serve)
    serve.add_argument("--speed", type=float, default=1.0, help="simulated seconds per real second")
    serve.add_argument("--seed", type=int, default=0, help="seed of every random choice (receipt outcomes)")
    serve.add_argument("--scenario", metavar="FILE|NAME",
                       help="replay this scenario file, or a ready one by name (see `smsclab scenario list`)")
    config = commands.add_parser("config", help="inspect the configuration").add_subparsers(
        dest="config_command", required=True, metavar="ACTION")
    show = config.add_parser("show", help="print the effective configuration as TOML")
    show.set_defaults(handler=_cmd_config_show)
    _add_config_options(show)
    show.add_argument("--show-secrets", action="store_true", help="print secrets instead of ***")
    mo = add("mo", _cmd_mo, "inject a mobile-originated message through the running simulator's API")
    mo.add_argument("--from", dest="sender", required=True, help="the handset's number")
    mo.add_argument("--to", required=True, help="the number dialled: a service code plus any extension")
    mo.add_argument("--text", required=True)
    mo.add_argument("--api", default="http://127.0.0.1:8080", help="the simulator's control API")
    _add_scenario_commands(commands)
    # `report` is a group: each report is one subcommand of it, reading the store of a stopped or running simulator.
    reports = commands.add_parser("report", help="reports computed from the store",
                                  description="reports computed from the store").add_subparsers(
        dest="report_command", required=True, metavar="REPORT")
    billing = reports.add_parser(
        "billing", help="a month's billing statement per port (or its traffic statistics)",
        description="A month's billing statement per port: rent, free quota, billable messages, message fees, "
                    "advertising penalties and total (agreement clauses 4.2, 4.3, 3.3), recomputed from the store "
                    "(clause 4.4). --statistics prints the month's traffic per port and service code (clause 2.4).")
    billing.set_defaults(handler=_cmd_report_billing)
    billing.add_argument("--month", required=True, metavar="YYYY-MM", help="the month, in the configured time zone")
    billing.add_argument("--config", type=Path, help="TOML file merged over the embedded default (tariffs, time zone)")
    billing.add_argument("--data-dir", type=Path, help="where the store lives (default: the configured data_dir)")
    billing.add_argument("--format", choices=FORMATS, default="table", help="output format (default: table)")
    billing.add_argument("--statistics", action="store_true",
                         help="print the traffic statistics per port and service code instead of the statement")
    compliance = reports.add_parser(
        "compliance", help="each partner's compliance verdicts (exit status 3 when a check fails)",
        description="Judge each partner from the audit log: rate against its limit, window overruns, back-off "
                    "after throttling, reconnect storms, keep-alive answers, receipt acknowledgement, duplicate "
                    "sequence numbers, policy violations, slowing down after an emergency cut.")
    compliance.set_defaults(handler=_cmd_report_compliance)
    compliance.add_argument("--account", help="one account only")
    compliance.add_argument("--since", type=float, help="only events from this epoch time on")
    compliance.add_argument("--config", type=Path, help="TOML file merged over the embedded default (accounts)")
    compliance.add_argument("--data-dir", type=Path, help="where the store lives (default: the configured data_dir)")
    compliance.add_argument("--format", choices=COMPLIANCE_FORMATS, default="table", help="output format")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``smsclab`` console script."""
    parser = _build_parser()
    args = parser.parse_args(argv)
    try:
        status: int = args.handler(args)
    except (CliError, ConfigError) as error:
        print(f"smsclab {args.command}: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    return status


if __name__ == "__main__":
    sys.exit(main())
