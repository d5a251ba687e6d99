"""Parse and build rates of the protocol codecs (figures, never a test).

Usage: python bench/codec.py [--seconds 1.0]

Prints PDUs/s for decode and encode of a CMPP 3.0 SUBMIT, an SMPP submit_sm and an SMPP deliver_sm, and,
because absolute rates on a shared 2-core machine drift from run to run, each rate as a ratio to a
reference measured in the same run: unpacking the same frame's header with one struct call, the least any
decoder must do.
"""

from __future__ import annotations

import argparse
import struct
import time
from collections.abc import Callable

from protocols import cmpp, smpp

HEADER = struct.Struct(">III")


def rate(action: Callable[[], object], seconds: float) -> float:
    """Calls per second of ``action``, timed in batches until ``seconds`` have passed."""
    batch, calls, start = 1000, 0, time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        for _ in range(batch):
            action()
        calls += batch
    return calls / elapsed


def samples() -> dict[str, tuple[object, Callable[[bytes], object], Callable[[object], bytes]]]:
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
    return {
        "CMPP 3.0 SUBMIT": (submit, lambda b: cmpp.decode(b, cmpp.Version.V30),
                            lambda p: cmpp.encode(p, cmpp.Version.V30)),  # type: ignore[arg-type]
        "SMPP submit_sm": (submit_sm, smpp.decode, smpp.encode),  # type: ignore[dict-item]
        "SMPP deliver_sm": (deliver_sm, smpp.decode, smpp.encode),  # type: ignore[dict-item]
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=1.0, help="time per measurement")
    args = parser.parse_args()
    print(f"{'PDU':<18}{'bytes':>6}{'decode/s':>12}{'encode/s':>12}{'decode:ref':>12}{'encode:ref':>12}")
    for name, (pdu, decode, encode) in samples().items():
        frame = encode(pdu)
        assert decode(frame) == pdu
        reference = rate(lambda frame=frame: HEADER.unpack_from(frame), args.seconds)
        decode_rate = rate(lambda frame=frame, decode=decode: decode(frame), args.seconds)
        encode_rate = rate(lambda pdu=pdu, encode=encode: encode(pdu), args.seconds)
        print(f"{name:<18}{len(frame):>6}{decode_rate:>12,.0f}{encode_rate:>12,.0f}"
              f"{decode_rate / reference:>12.4f}{encode_rate / reference:>12.4f}")
    print("ref = struct.unpack_from of the 12-byte header on the same frame, same run")


if __name__ == "__main__":
    main()
