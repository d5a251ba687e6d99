"""Private: the machinery shared by the generated fast codecs of CMPP and SMPP.

Why generated code
------------------
Construct interprets its Struct trees node by node, with a context dict, a stream object and a path string per
field; that is where a PDU's 40 µs go. The fast codecs (``cmpp/_fast.py``, the "fast path" section of
``smpp/_codec.py``) walk the *same* Construct trees once, at import, and write one straight-line Python function
per PDU type and wire layout: precomputed ``struct.Struct`` formats and offsets, slices, inline checks. Nothing
about a layout is written twice: widths, order, counts and limits are read from the Construct nodes, so the
Construct definitions stay the single source of truth and the reference path (plain Construct) stays reachable.

The rule that keeps the two paths equivalent
--------------------------------------------
A generated decoder returns ``None`` rather than raising, and a generated encoder returns ``None`` rather than
raising; the caller then runs the reference (Construct) path on the same input, which raises the error with its
exact message, code, field and offset, or, should the fast path ever have been stricter than Construct, gives the
right answer anyway. The fast path therefore only has to be exact in what it *accepts*: whatever it returns must
equal what Construct returns. The differential tests (tests/protocols/test_fast_path.py) hold it to that.

This module holds what both protocols need: :class:`FunctionSource` (a function's lines and constants, compiled
with its source registered in :mod:`linecache` so that tracebacks and profiles show the generated lines),
:func:`emit_instance` (building a frozen slotted dataclass without its ``__init__``) and :func:`context_field`
(which field a Construct ``this`` expression reads).
"""

from __future__ import annotations

import dataclasses
import linecache
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from types import MemberDescriptorType
from typing import Any

__all__ = ["FunctionSource", "context_field", "emit_instance"]


class FunctionSource:
    """The source of one generated function, its constants, and :meth:`compile` to turn it into a function."""

    def __init__(self, name: str, parameters: str, origin: str) -> None:
        self.name = name
        self.origin = origin  # what it was generated from, for the pseudo file name
        self.lines = [f"def {name}({parameters}):"]
        self.namespace: dict[str, object] = {}
        self._depth = 1
        self._serial = 0

    def line(self, text: str) -> None:
        self.lines.append("    " * self._depth + text)

    def require(self, conditions: list[str]) -> None:
        """Return ``None`` unless every one of ``conditions`` holds (one per line, for whoever reads the source)."""
        if not conditions:
            return
        self.line("if not (")
        for index, condition in enumerate(conditions):
            self.line(f"    {'and ' if index else ''}{condition}")
        self.line("):")
        self.line("    return None")

    @contextmanager
    def block(self, header: str) -> Iterator[None]:
        """``header`` (an ``if``/``for``/``try`` line) and the lines emitted inside the ``with``, indented."""
        self.line(header)
        self._depth += 1
        try:
            yield
        finally:
            self._depth -= 1

    def const(self, value: object, hint: str) -> str:
        """A global name bound to ``value`` in the generated function's namespace."""
        for name, bound in self.namespace.items():
            if bound is value:
                return name
        self._serial += 1
        name = f"_{hint}_{self._serial}"
        self.namespace[name] = value
        return name

    def is_integer(self, value: str) -> str:
        """A condition that ``value`` is an integer the layouts accept: an ``int``, or a subclass such as an
        ``IntEnum`` member (the code tables are IntEnums), but not a ``bool``. Plain ints cost one test."""
        return f"(type({value}) is int or {self.const(_integer_subclass, 'integer_subclass')}({value}))"

    def fresh(self, hint: str) -> str:
        """A local variable name not used before in this function."""
        self._serial += 1
        return f"{hint}_{self._serial}"

    def compile(self) -> Callable[..., Any]:
        text = "\n".join(self.lines) + "\n"
        filename = f"<smsclab generated {self.origin}: {self.name}>"
        # Register the source so that tracebacks, pdb and cProfile show the generated lines.
        linecache.cache[filename] = (len(text), None, text.splitlines(keepends=True), filename)
        namespace = dict(self.namespace)
        exec(compile(text, filename, "exec"), namespace)  # our own generated source, nothing from outside
        function = namespace[self.name]
        if not callable(function):
            raise TypeError(f"{self.name} was not generated")
        return function


def _integer_subclass(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def emit_instance(source: FunctionSource, cls: type, values: Mapping[str, str], target: str) -> None:
    """Emit lines that bind ``target`` to an instance of the frozen slotted dataclass ``cls``.

    ``values`` maps field names to expressions; every other field gets its declared default. The instance is
    made with ``object.__new__`` and its slots are filled through their member descriptors, which is what the
    dataclass ``__init__`` does through ``object.__setattr__`` minus the keyword parsing and the per-field
    attribute lookups (about 3 times faster for a 24-field PDU). The result is an instance of ``cls`` itself,
    every slot set, so it compares, hashes and pickles like one made by ``cls(...)``. Refused at import (an
    error, not a silent fallback) for a class this would not be equivalent for: a ``__post_init__``, a field
    without a plain default, a field that is not a slot.
    """
    params = getattr(cls, "__dataclass_params__", None)
    if params is None or not params.frozen or "__slots__" not in vars(cls) or hasattr(cls, "__post_init__"):
        raise TypeError(f"{cls.__name__} is not a frozen slotted dataclass without __post_init__")
    unknown = values.keys() - {field.name for field in dataclasses.fields(cls)}
    if unknown:
        raise TypeError(f"{cls.__name__} has no fields {sorted(unknown)}")
    source.line(f"{target} = {source.const(object.__new__, 'new')}({source.const(cls, cls.__name__)})")
    for field in dataclasses.fields(cls):
        slot = getattr(cls, field.name)
        if not isinstance(slot, MemberDescriptorType) or not field.init:
            raise TypeError(f"{cls.__name__}.{field.name} is not an __init__ slot")
        if field.name in values:
            value = values[field.name]
        elif field.default is not dataclasses.MISSING:
            value = source.const(field.default, "default")
        else:
            raise TypeError(f"{cls.__name__}.{field.name} has no plain default")
        source.line(f"{source.const(slot.__set__, 'set_' + field.name)}({target}, {value})")


class _Probe(dict[str, Any]):
    """A Construct context that records which keys an expression reads."""

    def __init__(self) -> None:
        super().__init__()
        self.read: list[str] = []

    def __missing__(self, key: str) -> object:
        self.read.append(key)
        return range(7)  # has a len() and is a valid count, whichever the expression wants


def context_field(expression: object) -> str:
    """The one context field a Construct expression such as ``this.count`` or ``len_(this.items)`` reads.

    Found by evaluating the expression the way Construct does, on a context that records what is read, rather
    than by reading Construct's private attributes.
    """
    probe = _Probe()
    if not callable(expression):
        raise TypeError(f"{expression!r} is not a Construct expression")
    expression(probe)
    if len(probe.read) != 1:
        raise TypeError(f"{expression!r} reads {probe.read}, not exactly one field")
    return probe.read[0]
