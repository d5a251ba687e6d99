"""Parse and build rates of the protocol codecs (figures, never a test).

Usage: python bench/codec.py [--seconds 1.0]

Prints PDUs/s for decode and encode of a CMPP 3.0 SUBMIT, an SMPP submit_sm and an SMPP deliver_sm, once through
the public functions (the generated fast path) and once through the Construct reference path
(``decode_reference``/``encode_reference``), then the speed-up of the first over the second, both measured in
this run. Because absolute rates on a shared 2-core machine drift from run to run, each rate is also given as a
ratio to unpacking the same frame's header with one struct call (the least any decoder must do, column ``:hdr``),
and each rate is the best of five rounds, the round least disturbed by other processes.
"""

from __future__ import annotations

import argparse
import functools
import struct
import time
from collections.abc import Callable

from protocols import cmpp, smpp
from protocols.cmpp import pdus as cmpp_pdus
from protocols.smpp import _codec as smpp_codec

HEADER = struct.Struct(">III")
ROUNDS = 5

Decode = Callable[[bytes], object]
Encode = Callable[[object], bytes]


def rate(action: Callable[[], object], seconds: float) -> float:
    """Calls per second of ``action``: the best of ``ROUNDS`` rounds sharing ``seconds``, timed in batches."""
    best = 0.0
    for _ in range(ROUNDS):
        batch, calls, start = 1000, 0, time.perf_counter()
        while (elapsed := time.perf_counter() - start) < seconds / ROUNDS:
            for _ in range(batch):
                action()
            calls += batch
        best = max(best, calls / elapsed)
    return best


def samples() -> dict[str, tuple[object, dict[str, tuple[Decode, Encode]]]]:
    submit = cmpp.Submit(sequence_id=1, registered_delivery=1, service_id="SMSCLAB", fee_type="01",
                         msg_src="900001", src_id="10690001", dest_terminal_id=("13800138000",),
                         msg_fmt=8, msg_content="您的验证码是 123456".encode("utf-16-be"), link_id="")
    submit_sm = smpp.SubmitSm(sequence_number=1, source_addr="10690001", destination_addr="13800138000",
                              registered_delivery=1, data_coding=8,
                              short_message="您的验证码是 123456".encode("utf-16-be"),
                              tlvs=(smpp.Tlv.of("user_message_reference", 7),))
    deliver_sm = smpp.DeliverSm(sequence_number=2, source_addr="13800138000", destination_addr="10690001",
                                esm_class=0x04, short_message=b"id:1a2b3c4d sub:001 dlvrd:001 submit date:2611291200 "
                                b"done date:2611291201 stat:DELIVRD err:000 text:hello",
                                tlvs=(smpp.Tlv.of("receipted_message_id", "1a2b3c4d"),
                                      smpp.Tlv.of("message_state", 2)))
    v30 = cmpp.Version.V30
    cmpp_paths: dict[str, tuple[Decode, Encode]] = {
        "fast": (lambda b: cmpp.decode(b, v30), lambda p: cmpp.encode(p, v30)),  # type: ignore[arg-type]
        "construct": (lambda b: cmpp_pdus.decode_reference(b, v30),
                      lambda p: cmpp_pdus.encode_reference(p, v30)),  # type: ignore[arg-type]
    }
    smpp_paths: dict[str, tuple[Decode, Encode]] = {
        "fast": (smpp.decode, smpp.encode),  # type: ignore[dict-item]
        "construct": (smpp_codec.decode_reference, smpp_codec.encode_reference),  # type: ignore[dict-item]
    }
    return {
        "CMPP 3.0 SUBMIT": (submit, cmpp_paths),
        "SMPP submit_sm": (submit_sm, smpp_paths),
        "SMPP deliver_sm": (deliver_sm, smpp_paths),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=1.0, help="time per measurement")
    args = parser.parse_args()
    print(f"{'PDU':<18}{'path':<11}{'bytes':>6}{'decode/s':>12}{'encode/s':>12}{'decode:hdr':>12}{'encode:hdr':>12}")
    for name, (pdu, paths) in samples().items():
        rates: dict[str, tuple[float, float]] = {}
        for path, (decode, encode) in paths.items():
            frame = encode(pdu)
            assert decode(frame) == pdu
            header = rate(functools.partial(HEADER.unpack_from, frame), args.seconds)
            decode_rate = rate(functools.partial(decode, frame), args.seconds)
            encode_rate = rate(functools.partial(encode, pdu), args.seconds)
            rates[path] = decode_rate, encode_rate
            print(f"{name:<18}{path:<11}{len(frame):>6}{decode_rate:>12,.0f}{encode_rate:>12,.0f}"
                  f"{decode_rate / header:>12.4f}{encode_rate / header:>12.4f}")
        (fast_decode, fast_encode), (ref_decode, ref_encode) = rates["fast"], rates["construct"]
        print(f"{name:<18}{'speed-up':<11}{'':>6}{fast_decode / ref_decode:>11.1f}x{fast_encode / ref_encode:>11.1f}x")
    print("hdr = struct.unpack_from of the 12-byte header on the same frame, same run; "
          "speed-up = fast / construct, same run")


if __name__ == "__main__":
    main()
