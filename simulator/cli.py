"""The ``smsclab`` command line.

Every failure a user can cause (bad hex, a malformed PDU, a JSON mistake, a wrong config value) ends as
one line on stderr naming what is wrong and where, and exit status 2; a traceback means a bug of ours.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence

from protocols.dialects import DIALECTS, Dialect
from protocols.errors import ProtocolError, RemoteProtocolError
from protocols.pdujson import from_json, to_json

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


def _cmd_serve(args: argparse.Namespace) -> int:
    raise CliError("the simulated gateway is not built yet (issue 3); decode and encode work today")


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
    add("serve", _cmd_serve, "run the simulated CMPP ISMG and SMPP SMSC")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``smsclab`` console script."""
    parser = _build_parser()
    args = parser.parse_args(argv)
    try:
        status: int = args.handler(args)
    except CliError as error:
        print(f"smsclab {args.command}: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    return status


if __name__ == "__main__":
    sys.exit(main())
