"""CONNECT authentication (CMPP 2.0 §7.4.1, CMPP 3.0 §8.4.1).

* ``AuthenticatorSource = MD5(Source_Addr + 9 x 0x00 + shared secret + timestamp)``, where the timestamp
  is the 10-digit zero-padded ``MMDDHHMMSS`` string (every implementation pads: cmpp.md §3.1, §10 #5);
* ``AuthenticatorISMG = MD5(Status + AuthenticatorSource + shared secret)``, where Status is the field as
  sent: 1 byte in 2.0, 4 bytes big-endian in 3.0 (cmpp.md §10 #3; SMSGate hashes 4 bytes even in 2.0).

The secret stays out of the codec: the session passes it here. A ``str`` secret is hashed as UTF-8; pass
``bytes`` for any other encoding.
"""

from __future__ import annotations

import hashlib
import hmac

from protocols.errors import LocalProtocolError

from . import _codec
from .codes import Version
from .pdus import Connect

__all__ = ["authenticator_ismg", "authenticator_source", "timestamp_from", "verify_connect"]

# Fields of Timestamp, each two decimal digits: (name, smallest, largest).
_TIMESTAMP_PARTS = (("month", 1, 12), ("day", 1, 31), ("hour", 0, 23), ("minute", 0, 59), ("second", 0, 59))


def _secret_bytes(secret: str | bytes) -> bytes:
    return secret.encode("utf-8") if isinstance(secret, str) else secret


def authenticator_source(source_addr: str, secret: str | bytes, timestamp: int) -> bytes:
    """The SP's AuthenticatorSource for CONNECT (CMPP 3.0 §8.4.1.1).

    ``source_addr`` (the 6-digit SP_Id) is hashed as given; ``timestamp`` is the wire integer (MMDDHHMMSS).
    """
    if not 0 <= timestamp < 1 << 32:
        raise LocalProtocolError("Timestamp must be an unsigned 32-bit integer")
    try:
        addr = source_addr.encode("latin-1")  # the codec's mapping of the Source_Addr field
    except UnicodeEncodeError:
        raise LocalProtocolError("Source_Addr must be Latin-1 text (one byte per character)") from None
    digest_input = addr + bytes(9) + _secret_bytes(secret) + f"{timestamp:010d}".encode("ascii")
    return hashlib.md5(digest_input).digest()


def authenticator_ismg(
    status: int, authenticator_source: bytes, secret: str | bytes, version: Version | int
) -> bytes:
    """The ISMG's AuthenticatorISMG for CONNECT_RESP (CMPP 3.0 §8.4.1.2), Status packed as in ``version``.

    On an authentication failure the spec sends 16 NULs instead ("认证出错时，此项为空"); that is the caller's
    choice, not computed here.
    """
    width = 4 if _codec.wire_is_v3(version) else 1
    if not 0 <= status < 1 << (8 * width):
        raise LocalProtocolError(f"Status must fit in {width} byte(s)")
    digest_input = status.to_bytes(width, "big") + authenticator_source + _secret_bytes(secret)
    return hashlib.md5(digest_input).digest()


def timestamp_from(month: int, day: int, hour: int, minute: int, second: int) -> int:
    """The CONNECT Timestamp: ``MMDDHHMMSS`` read as a decimal integer (CMPP 3.0 §8.4.1.1)."""
    value = 0
    for (name, low, high), part in zip(_TIMESTAMP_PARTS, (month, day, hour, minute, second), strict=True):
        if not low <= part <= high:
            raise LocalProtocolError(f"Timestamp {name} must be from {low} to {high}")
        value = value * 100 + part
    return value


def verify_connect(connect: Connect, secret: str | bytes) -> bool:
    """Whether the CONNECT's AuthenticatorSource matches ``secret`` (constant-time comparison).

    The timestamp is not judged: the Huawei 2.0 API sends a fixed ``0008080808`` (cmpp.md §3.1), so freshness
    is policy, not protocol.
    """
    expected = authenticator_source(connect.source_addr, secret, connect.timestamp)
    return hmac.compare_digest(expected, connect.authenticator_source)
