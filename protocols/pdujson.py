"""PDUs as JSON: what ``smsclab decode`` prints and ``smsclab encode`` reads (and, later, the control API).

The shape is ``{"command": NAME, "sequence_id": N, "fields": {...}}`` (the sequence key is the
protocol's own name: ``sequence_id`` for CMPP, ``sequence_number`` for SMPP). ``fields`` holds every
dataclass field of the PDU except the sequence number: integers as numbers, text as strings, bytes as lowercase
hex, nested records (TLVs, submit_multi destinations) as objects. It is lossless: ``from_json(to_json(p))
== p`` for every PDU, so a partner can decode a capture, edit one field and encode it again.

Anything only derived for reading (decoded message text, a status report's fields, a Msg_Id's time) goes
under an optional ``"decoded"`` key that :func:`from_json` ignores.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Mapping
from functools import cache
from typing import Any, Union

from .errors import LocalProtocolError

__all__ = ["JsonFormatError", "from_json", "to_json"]


class JsonFormatError(LocalProtocolError):
    """The JSON does not describe a PDU; the message names the key at fault."""


@cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _fields(cls: type) -> tuple[dataclasses.Field[Any], ...]:
    return dataclasses.fields(cls)


def _value_to_json(value: object) -> object:
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, tuple):
        return [_value_to_json(item) for item in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {field.name: _value_to_json(getattr(value, field.name)) for field in _fields(type(value))}
    return value


def to_json(pdu: object, *, sequence_field: str) -> dict[str, object]:
    """The JSON form of a PDU whose class has ``command_name``; ``sequence_field`` is lifted out of
    ``fields`` to the top level."""
    fields = {
        field.name: _value_to_json(getattr(pdu, field.name))
        for field in _fields(type(pdu))
        if field.name != sequence_field
    }
    return {
        "command": type(pdu).command_name,  # type: ignore[attr-defined]
        sequence_field: getattr(pdu, sequence_field),
        "fields": fields,
    }


def _value_from_json(value: object, hint: object, path: str) -> object:
    origin = typing.get_origin(hint)
    if origin in (Union, types.UnionType):
        for option in typing.get_args(hint):
            if option is type(None) and value is None:
                return None
        options = [arg for arg in typing.get_args(hint) if arg is not type(None)]
        return _value_from_json(value, options[0], path)
    if hint is bytes:
        if not isinstance(value, str):
            raise JsonFormatError(f"{path}: expected a hex string")
        try:
            return bytes.fromhex(value)
        except ValueError:
            raise JsonFormatError(f"{path}: not valid hex") from None
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise JsonFormatError(f"{path}: expected an integer")
        return value
    if hint is str:
        if not isinstance(value, str):
            raise JsonFormatError(f"{path}: expected a string")
        return value
    if origin is tuple:
        (item_hint, _ellipsis) = typing.get_args(hint)
        if not isinstance(value, list):
            raise JsonFormatError(f"{path}: expected a list")
        return tuple(_value_from_json(item, item_hint, f"{path}[{i}]") for i, item in enumerate(value))
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        if not isinstance(value, Mapping):
            raise JsonFormatError(f"{path}: expected an object")
        return _build(hint, value, path)
    raise JsonFormatError(f"{path}: unsupported field type {hint!r}")


def _build(cls: type, values: Mapping[str, object], path: str, **extra: object) -> object:
    hints = _hints(cls)
    known = {field.name for field in _fields(cls)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise JsonFormatError(f"{path}: unknown field {unknown[0]!r}; fields are {', '.join(sorted(known))}")
    kwargs = {name: _value_from_json(value, hints[name], f"{path}.{name}") for name, value in values.items()}
    kwargs.update(extra)
    try:
        built: object = cls(**kwargs)
        return built
    except (TypeError, ValueError) as error:
        raise JsonFormatError(f"{path}: {error}") from None


def from_json(document: object, *, classes: Mapping[str, type], sequence_field: str) -> object:
    """Build a PDU from its JSON form; ``classes`` maps command names to PDU classes."""
    if not isinstance(document, Mapping):
        raise JsonFormatError("expected a JSON object with 'command' and 'fields'")
    command = document.get("command")
    if not isinstance(command, str) or command not in classes:
        raise JsonFormatError(f"command: unknown {command!r}; expected one of {', '.join(sorted(classes))}")
    fields = document.get("fields", {})
    if not isinstance(fields, Mapping):
        raise JsonFormatError("fields: expected an object")
    sequence = document.get(sequence_field, 0)
    if isinstance(sequence, bool) or not isinstance(sequence, int):
        raise JsonFormatError(f"{sequence_field}: expected an integer")
    return _build(classes[command], fields, "fields", **{sequence_field: sequence})
