"""Private: the CMPP fast path, a decoder and an encoder per command and wire layout, and an encoder of the status
report body per layout (:func:`report_encoders`), generated from the Construct Structs of :mod:`._codec` at import.

What is generated
-----------------
For each body layout the Struct's nodes are read in wire order and classified (:func:`_classify`): a
``FormatField`` is an unsigned integer of its own format, a ``_Text`` a NUL-padded octet string of its width, a
fixed ``Bytes`` an authenticator, a ``Rebuild`` the count or length of the field its expression reads (found by
evaluating it, :func:`protocols._fast.context_field`), an ``Array`` of ``_Text`` the recipients it counts, a
``Bytes`` sized by an expression the content, ``Terminated`` the end. Any other node is an error at import: a new
kind of field must be taught to the generator before it can be used. Consecutive fixed-size fields become one
``struct.Struct`` (the header is folded into the first one on encode), so a CMPP 3.0 SUBMIT is read with three
``unpack_from`` calls and written with three ``pack`` calls.

Which checks are kept
---------------------
The decoder mirrors Construct's parse: each run and each counted field must fit in the frame, a count of zero
is refused (``_Layout.counts``), and the frame must end where the last field does (``Terminated``). The encoder
mirrors the ``_Kind`` checks, more strictly: exact ``int``/``str``/``bytes``/``tuple`` types, widths, the
no-trailing-NUL rule, at least one recipient, Latin-1 text (an ``UnicodeEncodeError``), integer ranges and the
counts and lengths that must fit their one-byte fields (``struct.error``: a big-endian ``B``/``L``/``Q`` refuses
exactly what ``_uint_check`` does), and the fields of the other layout at their defaults. Whenever a check
fails, the function returns ``None`` and :mod:`.pdus` runs the reference path, which raises the precise error
(see :mod:`protocols._fast`).
"""

from __future__ import annotations

import dataclasses
import struct
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from construct import Array, Bytes, FormatField, Rebuild, Terminated

from protocols._fast import FunctionSource, context_field, emit_instance
from protocols.errors import LocalProtocolError

from . import _codec

__all__ = ["Decoder", "Encoder", "generate", "report_encoders"]

Decoder = Callable[[bytes, int], Any]  # (frame, Sequence_Id) -> PDU or None
Encoder = Callable[[Any], bytes | None]  # PDU -> frame or None

_Kind = Literal["uint", "text", "octets", "derived", "numbers", "content"]


@dataclass(frozen=True, slots=True)
class _Field:
    """One named node of a body Struct, as the generator sees it."""

    name: str
    kind: _Kind
    size: int | None  # bytes on the wire; None for the two variable-size kinds
    code: str = ""  # its struct format code, for the fixed-size kinds
    width: int = 0  # text and octets: the slot width; numbers: the width of one number
    sized_by: str = ""  # numbers and content: the derived field that counts them
    counts: str = ""  # derived: the field whose len() it is


def _classify(name: str, node: object) -> _Field:
    if isinstance(node, FormatField):
        return _Field(name, "uint", node.length, node.fmtstr.lstrip("<>=!"))
    if isinstance(node, _codec._Text):
        return _Field(name, "text", node.width, f"{node.width}s", node.width)
    if isinstance(node, Bytes) and isinstance(node.length, int):
        return _Field(name, "octets", node.length, f"{node.length}s", node.length)
    if isinstance(node, Rebuild) and isinstance(node.subcon, FormatField):
        counted = context_field(node.func)
        if node.func({counted: range(5)}) != 5:
            raise TypeError(f"{name} is rebuilt from something other than len({counted})")
        return _Field(name, "derived", node.subcon.length, node.subcon.fmtstr.lstrip("<>=!"), counts=counted)
    if isinstance(node, Array) and isinstance(node.subcon, _codec._Text):
        return _Field(name, "numbers", None, width=node.subcon.width, sized_by=context_field(node.count))
    if isinstance(node, Bytes):
        return _Field(name, "content", None, sized_by=context_field(node.length))
    raise TypeError(f"the CMPP fast path does not know how to lay out {name}: {node!r}")


def _fields(layout: _codec._Layout) -> tuple[list[_Field], dict[str, _Field]]:
    """The classified named fields of ``layout`` in wire order, and the derived fields by what they count."""
    nodes = list(layout.struct.subcons)
    if not nodes or nodes[-1] is not Terminated:
        raise TypeError(f"{layout.name} does not end in Terminated")
    fields = [_classify(node.name, node.subcon) for node in nodes[:-1]]
    derived = {field.counts: field for field in fields if field.kind == "derived"}
    by_name = {field.name: field for field in fields}
    for field in fields:
        if field.sized_by and by_name.get(field.sized_by, field).kind != "derived":
            raise TypeError(f"{field.name} is sized by {field.sized_by}, which is not a rebuilt count")
    return fields, derived


def _text(expression: str) -> str:
    """The ``_Text._decode`` of a NUL-padded slot: trailing NULs are padding, every byte is one character."""
    return f'{expression}.rstrip(b"\\0").decode("latin-1")'


def _runs(fields: list[_Field]) -> list[list[_Field]]:
    """``fields`` split into runs of fixed-size fields and single variable-size ones."""
    runs: list[list[_Field]] = []
    for field in fields:
        if field.size is not None and runs and runs[-1][0].size is not None:
            runs[-1].append(field)
        else:
            runs.append([field])
    return runs


def _decoder(cls: type, layout: _codec._Layout, origin: str) -> Decoder:
    fields, _ = _fields(layout)
    source = FunctionSource(f"decode_{cls.__name__}", "frame, sequence_id", origin)
    source.line("n = len(frame)")
    # The offset is ``p + fixed`` once a variable-size field has been read, the constant ``fixed`` before.
    variable, fixed = False, _codec.HEADER_SIZE

    def offset(extra: int = 0) -> str:
        return f"p + {fixed + extra}" if variable and fixed + extra else "p" if variable else str(fixed + extra)

    values: dict[str, str] = {"sequence_id": "sequence_id"}
    runs = _runs(fields)
    for index, run in enumerate(runs):
        # A run that ends the body must end the frame too (Terminated); any other must fit in it.
        beyond = "!=" if index == len(runs) - 1 else ">"
        first = run[0]
        if first.size is not None:
            size = sum(field.size or 0 for field in run)
            source.line(f"if {offset(size)} {beyond} n: return None")
            layout_struct = source.const(struct.Struct(">" + "".join(field.code for field in run)), "struct")
            targets = ", ".join(f"v_{field.name}" for field in run)
            source.line(f"{targets}, = {layout_struct}.unpack_from(frame, {offset()})")
            fixed += size
            for field in run:
                if field.name in layout.counts:
                    source.line(f"if not v_{field.name}: return None")  # a zero count parses, but is refused
                if field.kind == "text":
                    values[field.name] = _text(f"v_{field.name}")
                elif field.kind != "derived":
                    values[field.name] = f"v_{field.name}"
            continue
        source.line(f"p = {offset()}")
        variable, fixed = True, 0
        count = f"v_{first.sized_by}"
        values[first.name] = f"v_{first.name}"
        if first.kind == "numbers":
            width = first.width
            source.line(f"end = p + {width} * {count}")
            source.line(f"if end {beyond} n: return None")
            source.line(
                f"v_{first.name} = tuple([{_text(f'frame[i : i + {width}]')} for i in range(p, end, {width})])"
            )
        else:
            source.line(f"end = p + {count}")
            source.line(f"if end {beyond} n: return None")
            source.line(f"v_{first.name} = frame[p:end]")
        source.line("p = end")
    if not runs:
        source.line(f"if n != {fixed}: return None")
    emit_instance(source, cls, values, "pdu")
    source.line("return pdu")
    decoder: Decoder = source.compile()
    return decoder


def _encoder(cls: type, layout: _codec._Layout, origin: str, *, framed: bool = True) -> Encoder:
    """The encoder of ``cls`` in ``layout``: a whole frame, or with ``framed=False`` the body alone (the status
    report inside a DELIVER's Msg_Content)."""
    fields, derived = _fields(layout)
    source = FunctionSource(f"encode_{cls.__name__}", "pdu", origin)
    carried = [field for field in fields if field.kind != "derived"]
    for field in carried:
        source.line(f"v_{field.name} = pdu.{field.name}")
    types = {"uint": "int", "text": "str", "octets": "bytes", "numbers": "tuple", "content": "bytes"}
    checks = []
    if framed:
        source.line("sequence_id = pdu.sequence_id")
        checks.append("type(sequence_id) is int")
    checks += [source.is_integer(f"v_{field.name}") if field.kind == "uint"
               else f"type(v_{field.name}) is {types[field.kind]}" for field in carried]
    # Fields of the other layout must keep their defaults (pdus.encode_reference refuses anything else).
    names = {field.name for field in carried} | ({"sequence_id"} if framed else set())
    for other in dataclasses.fields(cls):
        if other.name not in names:
            default = source.const(other.default, "default")
            checks.append(f"type(pdu.{other.name}) is type({default}) and pdu.{other.name} == {default}")
    source.require(checks)
    limits: list[str] = []
    for field in carried:
        value = f"v_{field.name}"
        if field.kind == "text":
            # Checked on the str: Latin-1 has one byte per character, so widths and the last byte agree.
            limits.append(f'len({value}) <= {field.width} and {value}[-1:] != "\\0"')
        elif field.kind == "octets":
            limits.append(f"len({value}) == {field.width}")
        elif field.name in derived and derived[field.name].name in layout.counts:
            # No recipient is refused; the upper bound is the count's own struct format (struct.error beyond).
            limits.append(f"len({value}) > 0")
    source.require(limits)
    for field in carried:
        if field.kind == "numbers":
            with source.block(f"for item in v_{field.name}:"):
                source.line(f'if type(item) is not str or len(item) > {field.width} or item[-1:] == "\\0":')
                source.line("    return None")
    # Total_Length: the fixed sizes, plus what the variable fields hold.
    total = [str(_codec.HEADER_SIZE + sum(field.size or 0 for field in fields))]
    for field in fields:
        if field.kind == "numbers":
            total.append(f"{field.width} * len(v_{field.name})")
        elif field.kind == "content":
            total.append(f"len(v_{field.name})")
    header = [" + ".join(total), str(getattr(cls, "command_id", 0)), "sequence_id"]
    header_codes = _codec._HEADER.format.lstrip(">")
    # Unframed, the body starts as if a header had been written already: nothing is folded into its first run.
    parts: list[str] = [] if framed else ['b""']
    for run in _runs(fields):
        first = run[0]
        if first.size is None:
            if not parts:
                parts.append(f"{source.const(_codec._HEADER, 'header')}.pack({', '.join(header)})")
            if first.kind == "numbers":
                width = first.width
                parts.append(f'b"".join([item.encode("latin-1").ljust({width}, b"\\0") for item in v_{first.name}])')
            else:
                parts.append(f"v_{first.name}")
            continue
        # The header is folded into the first run when the body starts with one.
        codes, arguments = (header_codes, list(header)) if not parts else ("", [])
        for field in run:
            codes += field.code
            if field.kind == "derived":
                arguments.append(f"len(v_{field.counts})")
            elif field.kind == "text":
                arguments.append(f'v_{field.name}.encode("latin-1")')  # struct pads with NULs, as _Text does
            else:
                arguments.append(f"v_{field.name}")
        parts.append(f"{source.const(struct.Struct('>' + codes), 'struct')}.pack({', '.join(arguments)})")
    if not parts:
        parts.append(f"{source.const(_codec._HEADER, 'header')}.pack({', '.join(header)})")
    if not framed:
        parts = parts[1:] or ['b""']
    with source.block("try:"):
        source.line(f"return {' + '.join(parts)}")
    # An integer out of its format's range, or text that is not Latin-1: the reference path names the field.
    with source.block(f"except ({source.const(struct.error, 'struct_error')}, UnicodeEncodeError):"):
        source.line("return None")
    encoder: Encoder = source.compile()
    return encoder


def report_encoders(report_type: type) -> dict[bool, Encoder]:
    """The status report's body encoders (no header), by layout: True for 3.0's 71 bytes, False for 60."""
    return {v3: _encoder(report_type, layout, f"CMPP {'3.0' if v3 else '2.0'} {layout.name}", framed=False)
            for v3, layout in _codec._REPORTS.items()}


def generate(
    pdu_types: Mapping[int, type],
) -> tuple[dict[int, dict[int, Decoder]], dict[int, dict[type, Encoder]]]:
    """Decoders by version and Command_Id, and encoders by version and PDU class, for every version with a layout.

    A version maps to the layout :func:`._codec.wire_is_v3` gives it; versions are one byte on the wire
    (CONNECT's Version), so the 256 candidates are asked and those it refuses are left out.
    """
    decoders: dict[bool, dict[int, Decoder]] = {}
    encoders: dict[bool, dict[type, Encoder]] = {}
    for v3, bodies in _codec._BODIES.items():
        tag = "3.0" if v3 else "2.0"
        decoders[v3] = {}
        encoders[v3] = {}
        for command_id, layout in bodies.items():
            cls = pdu_types[command_id]
            origin = f"CMPP {tag} {layout.name}"
            decoders[v3][command_id] = _decoder(cls, layout, origin)
            encoders[v3][cls] = _encoder(cls, layout, origin)
    by_version_decoders: dict[int, dict[int, Decoder]] = {}
    by_version_encoders: dict[int, dict[type, Encoder]] = {}
    for version in range(256):
        try:
            v3 = _codec.wire_is_v3(version)
        except LocalProtocolError:
            continue
        by_version_decoders[version] = decoders[v3]
        by_version_encoders[version] = encoders[v3]
    return by_version_decoders, by_version_encoders

