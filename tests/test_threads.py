"""Masking and decoding from several threads at once give the same results as
from one: the extension shares no mutable state between calls or objects.

On a free-threaded CPython (3.13t, 3.14t) these threads really run at once:
the extension declares itself safe without the GIL, and
``tools/prove_freethreading.sh`` runs this file there (under ThreadSanitizer
too) with more threads and rounds.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import sysconfig
import tempfile
import threading

import pytest
from helpers import frame, reference_mask

import wsframe
from wsframe import BinaryMessage, Opcode, Role, TextMessage

KEY = b"\x37\xfa\x21\x3d"
THREADS = int(os.environ.get("WSFRAME_STRESS_THREADS", "4"))
ROUNDS = int(os.environ.get("WSFRAME_STRESS_ROUNDS", "1"))
FREE_THREADED = bool(sysconfig.get_config_var("Py_GIL_DISABLED"))


def run_in_threads(work, threads: int = THREADS) -> list:
    errors: list = []
    # Every thread starts its work at the same moment, to overlap them as much as possible.
    start = threading.Barrier(threads)

    def guarded(index: int) -> None:
        try:
            start.wait()
            work(index)
        except BaseException as exc:  # reported to the test below
            errors.append(exc)

    threads = [threading.Thread(target=guarded, args=(index,)) for index in range(threads)]
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
        for _ in range(20 * ROUNDS):
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


def test_one_decoder_shared_by_threads_feeds_one_at_a_time(codec):
    # Threads that share a decoder (a bug in the caller) each either feed or
    # are refused with RuntimeError; none corrupts it. Every accepted feed is
    # one whole frame, so the events are exactly one per accepted feed.
    decoder = codec.MessageDecoder(max_message_size=None, max_frame_size=None)
    messages = [frame(Opcode.BINARY, bytes([index]) * (index * 997 % 70_000)) for index in range(THREADS)]
    accepted = [0] * THREADS
    events: list = []
    refusals: list = []

    def work(index: int) -> None:
        for _ in range(200 * ROUNDS):
            try:
                delivered = decoder.feed(messages[index])
            except RuntimeError as exc:
                refusals.append(str(exc))
                continue
            accepted[index] += 1
            events.extend(delivered)
            assert not decoder.closed and decoder.bytes_after_close == 0

    assert run_in_threads(work) == []
    assert all("while another feed() on the same decoder is running" in refusal for refusal in refusals)
    assert sorted(events, key=lambda event: event.data[:1]) == [
        BinaryMessage(bytes([index]) * (index * 997 % 70_000)) for index in range(THREADS) for _ in range(accepted[index])]


def test_closing_and_polling_from_other_threads(codec):
    # One thread feeds up to and past a close frame; others poll the close
    # state meanwhile. They see it go from open to closed exactly once.
    stream = frame(Opcode.TEXT, b"x" * 1000) * 200 + frame(Opcode.CLOSE, b"\x03\xe8") + b"after"

    for _ in range(5 * ROUNDS):
        decoder = codec.MessageDecoder()
        fed = threading.Event()
        seen: list = []

        def work(index: int) -> None:
            if index == 0:
                try:
                    for offset in range(0, len(stream), 1000):
                        decoder.feed(stream[offset : offset + 1000])
                finally:
                    fed.set()
                return
            def observe() -> tuple:
                # The count first: the stream is closed before anything is counted after the close.
                after = decoder.bytes_after_close
                return decoder.closed, after

            observed = [observe()]
            while not observed[-1][0] and not fed.is_set():
                observed.append(observe())
            observed.append(observe())
            seen.append(observed)

        assert run_in_threads(work) == []
        assert len(seen) == THREADS - 1
        for observed in seen:
            first_closed = [closed for closed, _ in observed].index(True)
            assert all(state == (False, 0) for state in observed[:first_closed])
            after_close = [after for closed, after in observed[first_closed:] if closed]
            assert len(after_close) == len(observed) - first_closed
            assert after_close == sorted(after_close) and after_close[-1] == 5
        assert decoder.bytes_after_close == 5


def test_encoding_and_masking_with_fresh_keys_from_many_threads(codec):
    # Each thread draws keys from its own pool: frames encoded concurrently
    # with mask=True unmask to their payloads, whatever the interleaving.
    payloads = [os.urandom(random.Random(index).randrange(1, 3000)) for index in range(THREADS)]

    def work(index: int) -> None:
        decoder = codec.FrameDecoder(Role.SERVER, max_frame_size=None)
        for _ in range(500 * ROUNDS):
            encoded = codec.encode_frame(Opcode.BINARY, payloads[index], mask=True)
            [decoded] = decoder.feed(encoded)
            assert decoded.payload == payloads[index]

    assert run_in_threads(work) == []


# One thread masks two bytearrays (a copy of one, the other in place) while
# two others resize them between 1,000 and 100,000 bytes, both sizes under the
# 128 KiB below which the C backend masks a bytearray holding the GIL. With
# the GIL nothing can resize the buffer mid-mask; without it (3.14t) the
# extension must export the buffer, or another thread's extend() or del frees
# it under the mask: a crash or wrong bytes. Run in a child, so a crash fails
# the test instead of ending the run.
_RESIZE_RACE_CHILD = """
import json, sys, threading
from importlib import import_module
codec = import_module(sys.argv[1])
rounds = int(sys.argv[2])
KEY = bytes.fromhex("37fa213d")
SMALL, LARGE = 1000, 100_000
pattern = (bytes(range(256)) * (LARGE // 256 + 1))[:LARGE]
expected = {size: bytes(byte ^ KEY[index % 4] for index, byte in enumerate(pattern[:size])) for size in (SMALL, LARGE)}
copied, in_place = bytearray(pattern[:SMALL]), bytearray(pattern[:SMALL])
done = threading.Event()
report = {"masks": 0, "wrong": [], "refused": 0}

def masker():
    try:
        while not done.is_set():
            out = codec.mask(copied, KEY)
            # A copy of the bytearray as it was before or after a resize;
            # anything else was read mid-resize, or from freed memory.
            if out != expected.get(len(out)):
                report["wrong"].append(len(out))
            if codec.mask_inplace(in_place, KEY) != 0:
                report["wrong"].append("offset")
            report["masks"] += 2
    except BaseException as exc:
        report["wrong"].append(repr(exc))
        done.set()

def until_done(change):
    # While another thread masks it, an exported bytearray refuses to be
    # resized (BufferError): try again, as a caller sharing one would.
    while True:
        try:
            return change()
        except BufferError:
            report["refused"] += 1

def resizer(buffer):
    for _ in range(rounds):
        until_done(lambda: buffer.extend(pattern[SMALL:]))
        until_done(lambda: buffer.__delitem__(slice(SMALL, None)))

resizers = [threading.Thread(target=resizer, args=(buffer,)) for buffer in (copied, in_place)]
masking = threading.Thread(target=masker)
masking.start()
for thread in resizers:
    thread.start()
for thread in resizers:
    thread.join()
done.set()
masking.join()
print(json.dumps(report))
"""


@pytest.mark.skipif(
    FREE_THREADED and sys.version_info < (3, 14),
    reason="3.13t's bytearray takes no lock (CPython issue 129107, fixed in 3.14): a resize can pass its export "
    "check just before another thread exports the buffer, and this test crashes 3.13t with the pure-Python "
    "backend too",
)
def test_masking_bytearrays_that_other_threads_resize(codec):
    # Several children: on a free-threaded build the unguarded fast path
    # crashed most runs of 2,000 rounds (3.13.5t), not every one.
    for _ in range(3 * ROUNDS):
        result = subprocess.run(
            [sys.executable, "-c", _RESIZE_RACE_CHILD, codec.__name__, "20000"],
            capture_output=True, text=True, cwd=tempfile.gettempdir(), timeout=600,
        )
        assert result.returncode == 0, (result.returncode, result.stderr[-2000:])
        report = json.loads(result.stdout)
        assert report["wrong"] == []
        assert report["masks"] > 0


@pytest.mark.skipif(not FREE_THREADED, reason="needs a free-threaded CPython (tools/prove_freethreading.sh builds one)")
def test_importing_the_extension_keeps_the_gil_off():
    # A module that does not declare itself safe turns the GIL back on at
    # import, with a RuntimeWarning; wsframe's must not.
    environment = {name: value for name, value in os.environ.items() if name != "PYTHON_GIL"}
    script = ("import sys, warnings; warnings.simplefilter('error'); import wsframe, wsframe._cframe; "
              "print(wsframe.backend, sys._is_gil_enabled())")
    # From "/", not the checkout: the source tree holds no compiled extension.
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=environment, cwd="/")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["c", "False"]
