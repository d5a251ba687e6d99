"""A minimal classic-libpcap writer for feeding hand-built TCP conversations to an external decoder (tshark).

Only what the tshark cross-check needs: LINKTYPE_RAW (raw IPv4, no link layer), one IPv4 + TCP header per
packet built with :mod:`struct`, a three-way handshake per connection and sequence/acknowledgement numbers that
advance by exactly the payload sent, so that Wireshark's TCP analysis sees a clean, gap-free stream and hands
every payload to the application dissector as a whole PDU. Checksums are left at zero: Wireshark does not
validate them unless asked to (``tcp.check_checksum`` / ``ip.check_checksum`` default to off).

Formats: libpcap file format (global header magic 0xA1B2C3D4, version 2.4, per-record header ts_sec, ts_usec,
incl_len, orig_len), RFC 791 (IPv4 header), RFC 9293 (TCP header).
"""

from __future__ import annotations

import ipaddress
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

__all__ = ["LINKTYPE_RAW", "PcapBuilder", "TcpConnection"]

#: "Raw IP; the packet begins with an IPv4 or IPv6 header" (tcpdump.org link-layer header types).
LINKTYPE_RAW: Final = 101

_PCAP_MAGIC: Final = 0xA1B2C3D4  # microsecond timestamps, written big-endian below (readers accept either order)
_SNAPLEN: Final = 65535
_IP_HEADER = struct.Struct("!BBHHHBBH4s4s")
_TCP_HEADER = struct.Struct("!HHIIBBHHH")
_IPPROTO_TCP: Final = 6
_TTL: Final = 64
_WINDOW: Final = 65535

# TCP flag bits (RFC 9293 §3.1).
_FIN, _SYN, _PSH, _ACK = 0x01, 0x02, 0x08, 0x10

# A TCP segment carries at most 65535 - 20 (IP) - 20 (TCP) bytes; every PDU here is far smaller.
_MAX_PAYLOAD: Final = 65535 - _IP_HEADER.size - _TCP_HEADER.size


@dataclass
class PcapBuilder:
    """Collects raw IPv4 packets in order and writes them as one pcap file.

    Frame numbers (as tshark's ``frame.number``) start at 1 in the order packets are added, whichever
    connection they belong to, so a caller can find each packet it added in the decoder's output.
    """

    packets: list[bytes] = field(default_factory=list)

    def add(self, packet: bytes) -> int:
        """Append one raw IPv4 packet; returns its frame number (1-based)."""
        self.packets.append(packet)
        return len(self.packets)

    def connection(
        self,
        *,
        client: tuple[str, int],
        server: tuple[str, int],
        client_isn: int = 1_000,
        server_isn: int = 5_000,
    ) -> TcpConnection:
        """Open a TCP connection (SYN, SYN-ACK, ACK are written now) from ``client`` to ``server``."""
        return TcpConnection(self, client, server, client_isn, server_isn)

    def write(self, path: Path) -> None:
        """Write every packet added so far to ``path`` as a classic libpcap file."""
        out = bytearray(struct.pack("!IHHiIII", _PCAP_MAGIC, 2, 4, 0, 0, _SNAPLEN, LINKTYPE_RAW))
        for index, packet in enumerate(self.packets):
            # Packets a millisecond apart from a fixed epoch: deterministic, and strictly increasing so that
            # no TCP analysis heuristic mistakes a later packet for a retransmission of an earlier one.
            micros = 1_700_000_000_000_000 + index * 1_000
            out += struct.pack("!IIII", micros // 1_000_000, micros % 1_000_000, len(packet), len(packet))
            out += packet
        path.write_bytes(bytes(out))


class TcpConnection:
    """One TCP conversation in a :class:`PcapBuilder`: keeps each direction's next sequence number."""

    def __init__(
        self,
        pcap: PcapBuilder,
        client: tuple[str, int],
        server: tuple[str, int],
        client_isn: int,
        server_isn: int,
    ) -> None:
        self._pcap = pcap
        self._client = client
        self._server = server
        # Next sequence number each side will send; the SYN consumes one (RFC 9293 §3.4).
        self._client_seq = client_isn
        self._server_seq = server_isn
        self._ip_id = 0
        self._segment(from_client=True, flags=_SYN, payload=b"", ack=False)
        self._client_seq += 1
        self._segment(from_client=False, flags=_SYN | _ACK, payload=b"")
        self._server_seq += 1
        self._segment(from_client=True, flags=_ACK, payload=b"")

    def client_sends(self, payload: bytes) -> int:
        """One segment client -> server carrying ``payload``; returns its frame number."""
        return self._segment(from_client=True, flags=_PSH | _ACK, payload=payload)

    def server_sends(self, payload: bytes) -> int:
        """One segment server -> client carrying ``payload``; returns its frame number."""
        return self._segment(from_client=False, flags=_PSH | _ACK, payload=payload)

    def _segment(self, *, from_client: bool, flags: int, payload: bytes, ack: bool = True) -> int:
        if len(payload) > _MAX_PAYLOAD:
            raise ValueError(f"payload of {len(payload)} bytes does not fit one TCP segment")
        (src, sport), (dst, dport) = (self._client, self._server) if from_client else (self._server, self._client)
        seq, ack_number = (
            (self._client_seq, self._server_seq) if from_client else (self._server_seq, self._client_seq)
        )
        tcp = _TCP_HEADER.pack(
            sport,
            dport,
            seq & 0xFFFFFFFF,
            ack_number & 0xFFFFFFFF if ack else 0,
            (_TCP_HEADER.size // 4) << 4,  # data offset in 32-bit words, no options
            flags,
            _WINDOW,
            0,  # checksum: not validated by tshark by default
            0,  # urgent pointer
        )
        self._ip_id += 1
        total_length = _IP_HEADER.size + len(tcp) + len(payload)
        ip = _IP_HEADER.pack(
            0x45,  # version 4, IHL 5 words
            0,
            total_length,
            self._ip_id,
            0x4000,  # Don't Fragment, offset 0
            _TTL,
            _IPPROTO_TCP,
            0,  # header checksum: not validated by tshark by default
            ipaddress.IPv4Address(src).packed,
            ipaddress.IPv4Address(dst).packed,
        )
        # Each byte of payload advances the sender's sequence number by one (RFC 9293 §3.4).
        if from_client:
            self._client_seq += len(payload)
        else:
            self._server_seq += len(payload)
        return self._pcap.add(ip + tcp + payload)
