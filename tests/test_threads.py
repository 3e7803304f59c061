"""Masking and decoding from several threads at once give the same results as
from one: the extension shares no mutable state between calls or objects."""

from __future__ import annotations

import os
import threading

from helpers import frame, reference_mask

from wsframe import BinaryMessage, Opcode, TextMessage

KEY = b"\x37\xfa\x21\x3d"
THREADS = 4


def run_in_threads(work) -> list:
    errors: list = []

    def guarded(index: int) -> None:
        try:
            work(index)
        except BaseException as exc:  # reported to the test below
            errors.append(exc)

    threads = [threading.Thread(target=guarded, args=(index,)) for index in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


def test_masking_from_several_threads(codec):
    # 1 MiB buffers: large enough for the C backend to release the GIL while masking.
    originals = [os.urandom(1 << 20) for _ in range(THREADS)]
    expected = [reference_mask(original[:4096], KEY, index) for index, original in enumerate(originals)]

    def work(index: int) -> None:
        buffer = bytearray(originals[index])
        for _ in range(10):
            codec.mask_inplace(buffer, KEY, index)
            assert buffer[:4096] == expected[index]
            codec.mask_inplace(buffer, KEY, index)
            assert buffer == originals[index]
            assert codec.mask(originals[index], KEY, index)[:4096] == expected[index]

    assert run_in_threads(work) == []


def test_decoding_from_several_threads(codec):
    payloads = [os.urandom(70_000) for _ in range(THREADS)]
    streams = [
        frame(Opcode.BINARY, payload[:30_000], fin=False) + frame(Opcode.CONTINUATION, payload[30_000:])
        + frame(Opcode.TEXT, "héllo".encode())
        for payload in payloads
    ]

    def work(index: int) -> None:
        for _ in range(20):
            decoder = codec.MessageDecoder()
            events = []
            for offset in range(0, len(streams[index]), 4096):
                events += decoder.feed(streams[index][offset : offset + 4096])
            assert events == [BinaryMessage(payloads[index]), TextMessage("héllo")]

    assert run_in_threads(work) == []


def test_feed_refuses_a_second_feed_while_one_runs(codec, monkeypatch):
    # feed() calls back into Python (here the inflater), where another thread
    # could call feed() on the same decoder; the decoder refuses rather than
    # interleave. Driven deterministically by feeding from inside the inflater.
    from helpers import frame

    import wsframe
    from wsframe import _deflate

    decoder = codec.MessageDecoder(wsframe.Role.SERVER, deflate=wsframe.DeflateParameters())
    inner_errors = []
    original = _deflate._Inflater.inflate

    def inflate_and_feed_again(self, *args):
        try:
            decoder.feed(frame(wsframe.Opcode.TEXT, b"x"))
        except RuntimeError as exc:
            inner_errors.append(str(exc))
        return original(self, *args)

    monkeypatch.setattr(_deflate._Inflater, "inflate", inflate_and_feed_again)
    compressed = wsframe.Deflater(wsframe.DeflateParameters(), wsframe.Role.CLIENT).compress(b"hello")
    assert decoder.feed(frame(wsframe.Opcode.TEXT, compressed, rsv1=True)) == [wsframe.TextMessage("hello")]
    assert len(inner_errors) == 1 and "while another feed() on the same decoder is running" in inner_errors[0]
    # The refused call changed nothing: the decoder goes on.
    monkeypatch.undo()
    assert decoder.feed(frame(wsframe.Opcode.TEXT, b"after")) == [wsframe.TextMessage("after")]
