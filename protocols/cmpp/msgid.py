"""The 64-bit Msg_Id the ISMG assigns (CMPP 2.0 §7.4.3.2, CMPP 3.0 §8.4.3.2).

From the most significant bit down: month 4 bits, day 5, hour 5, minute 6, second 6, the ISMG (gateway) code
as an integer 22, and a sequence 16 that increases by one per message and wraps. cmpp.md §5 has the table and
worked examples; SMSGate's ``DefaultMsgIdUtil`` composes it the same way. (Wireshark's dissector shifts the
gateway code wrongly; do not use it as an oracle.)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from protocols.errors import LocalProtocolError

__all__ = ["MsgId"]

# (field, width in bits, smallest and largest value accepted when composing), most significant first.
_PARTS: Final = (
    ("month", 4, 1, 12),
    ("day", 5, 1, 31),
    ("hour", 5, 0, 23),
    ("minute", 6, 0, 59),
    ("second", 6, 0, 59),
    ("gateway", 22, 0, (1 << 22) - 1),
    ("sequence", 16, 0, 0xFFFF),
)


@dataclass(frozen=True, slots=True)
class MsgId:
    """A Msg_Id split into its parts (CMPP 3.0 §8.4.3.2).

    :meth:`compose` insists on calendar ranges (month 1-12, day 1-31, hour 0-23, minute and second 0-59)
    so that a generator bug cannot mint ids that read back as another date; :meth:`decompose` accepts any
    64-bit value, because other gateways' ids are only ever read.
    """

    month: int
    day: int
    hour: int
    minute: int
    second: int
    gateway: int
    sequence: int

    def compose(self) -> int:
        """The 64-bit integer that goes into Msg_Id; LocalProtocolError if a part is out of range."""
        value = 0
        for name, width, low, high in _PARTS:
            part = getattr(self, name)
            if not isinstance(part, int) or not low <= part <= high:
                raise LocalProtocolError(f"Msg_Id {name} must be from {low} to {high}")
            value = value << width | part
        return value

    @classmethod
    def decompose(cls, value: int) -> MsgId:
        """Split a 64-bit Msg_Id into its parts, without judging them."""
        if not 0 <= value < 1 << 64:
            raise LocalProtocolError("Msg_Id must be an unsigned 64-bit integer")
        parts: dict[str, int] = {}
        for name, width, _, _ in reversed(_PARTS):
            parts[name] = value & ((1 << width) - 1)
            value >>= width
        return cls(**parts)
