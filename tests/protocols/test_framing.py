"""The shared frame splitter: bounds first, any split or coalescing of reads gives the same frames."""

from __future__ import annotations

import tracemalloc

import pytest
from hypothesis import given
from hypothesis import strategies as st

from protocols.framing import FrameBuffer, FramingError

SMPP_NACK_CODE = 0x02  # ESME_RINVCMDLEN


def smpp_buffer(max_length: int = 65536) -> FrameBuffer:
    return FrameBuffer(min_length=16, max_length=max_length, error_code=SMPP_NACK_CODE, sequence_offset=12)


def cmpp_buffer(max_length: int = 4096) -> FrameBuffer:
    return FrameBuffer(min_length=12, max_length=max_length, error_code=None, sequence_offset=8)


def frame(body: bytes, command_id: int = 4, sequence: int = 7, header: int = 16) -> bytes:
    rest = command_id.to_bytes(4, "big") + (b"\0\0\0\0" if header == 16 else b"") + sequence.to_bytes(4, "big")
    return (4 + len(rest) + len(body)).to_bytes(4, "big") + rest + body


frames_strategy = st.lists(st.binary(max_size=300).map(frame), min_size=1, max_size=20)


@given(frames_strategy, st.data())
def test_any_split_of_the_stream_gives_the_same_frames(frames, data):
    stream = b"".join(frames)
    cuts = sorted(data.draw(st.sets(st.integers(0, len(stream)), max_size=len(stream))))
    buffer = smpp_buffer()
    got = []
    previous = 0
    for cut in [*cuts, len(stream)]:
        got += buffer.feed(stream[previous:cut])
        previous = cut
    assert got == frames
    assert buffer.buffered == 0


def test_one_byte_reads_and_one_big_read_agree():
    frames = [frame(b"x" * n) for n in (0, 1, 100)]
    stream = b"".join(frames)
    buffer = smpp_buffer()
    one_by_one = [f for i in range(len(stream)) for f in buffer.feed(stream[i : i + 1])]
    assert one_by_one == frames
    assert smpp_buffer().feed(stream) == frames


@pytest.mark.parametrize("length", [0, 3, 11, 15, 2**31, 2**32 - 1, 65537])
def test_hostile_smpp_lengths_are_refused_before_any_body_is_held(length):
    buffer = smpp_buffer()
    header = length.to_bytes(4, "big") + (0x00000004).to_bytes(4, "big") + bytes(4) + (9).to_bytes(4, "big")
    with pytest.raises(FramingError) as caught:
        buffer.feed(header + b"A" * 100)
    assert caught.value.code == SMPP_NACK_CODE
    assert caught.value.sequence == 9
    assert caught.value.command_id == 4
    assert buffer.buffered == 0
    with pytest.raises(FramingError):  # the stream cannot be resynchronised
        buffer.feed(frame(b""))


@pytest.mark.parametrize("length", [0, 3, 11, 2**31, 2**32 - 1, 4097])
def test_hostile_cmpp_lengths_close_without_an_answer(length):
    buffer = cmpp_buffer()
    with pytest.raises(FramingError) as caught:
        buffer.feed(length.to_bytes(4, "big") + bytes(8))
    assert caught.value.code is None
    assert caught.value.field == "length"


@pytest.mark.parametrize("junk", [
    b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
    bytes.fromhex("1603010200010001fc0303") + bytes(64),  # TLS ClientHello
])
def test_http_and_tls_on_the_port_are_framing_errors(junk):
    for buffer in (smpp_buffer(), cmpp_buffer()):
        with pytest.raises(FramingError):
            buffer.feed(junk)


def test_a_huge_claimed_length_allocates_nothing_of_that_size():
    buffer = smpp_buffer(max_length=2**32 - 1)  # even an absurd maximum: only what arrived is held
    tracemalloc.start()
    try:
        buffer.feed((2**31).to_bytes(4, "big") + bytes(12))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 64 * 1024
    assert buffer.buffered == 16


def test_good_frames_before_a_bad_length_are_delivered_first():
    buffer = smpp_buffer()
    good = frame(b"ok")
    assert buffer.feed(good + (3).to_bytes(4, "big") + bytes(12)) == [good]
    with pytest.raises(FramingError):
        buffer.feed(b"")


def test_partial_header_waits_for_more():
    buffer = smpp_buffer()
    whole = frame(b"abc")
    assert buffer.feed(whole[:3]) == []
    assert buffer.feed(whole[3:]) == [whole]
