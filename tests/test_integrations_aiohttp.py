"""wsframe's drop-in under aiohttp: aiohttp's own WebSocket tests, and ours.

aiohttp's sdist carries its tests: its WebSocket parser, queue, writer,
server and client suites run here three times in one run, on aiohttp's own
code and with the drop-in on each backend; every test that passes on
aiohttp's code must pass on wsframe's, but the ones named in
KNOWN_DIFFERENCES (README, "Drop-ins"). Then a differential test: aiohttp's
own reader and each of the drop-in's twins (compiled, pure Python) fed the
same random streams hand the queue the same messages and fail with the same
close codes and words, but where wsframe's rules are stricter, and there as
those rules say. Then what wsframe's strictness changes for an aiohttp
server's users, end to end, and the drop-in's own API.
"""

from __future__ import annotations

import asyncio
import configparser
import importlib
import importlib.metadata
import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Tuple

import pytest
from conftest import load_backend
from helpers import failed_tests, frame, peer_sdist_tests, require_peer, run_peer_suite, viable_utf8_prefix
from hypothesis import given
from hypothesis import strategies as st
from test_differential import utf8_ish

from wsframe.integrations import version_in

# The drop-in's reader, queue and writer on each backend (wsframe._backend.AIOHTTP_TWIN).
TWINS = {"c": "_caiohttp", "python": "_pyaiohttp"}

SUITE_FILES = ["tests/test_websocket_parser.py", "tests/test_websocket_data_queue.py", "tests/test_websocket_writer.py",
               "tests/test_web_websocket_functional.py", "tests/test_client_ws_functional.py",
               "tests/test_client_ws.py", "tests/test_web_websocket.py"]
# aiohttp's tests that fail with the drop-in, and why. All three feed a
# length in a longer field than it needs, which RFC 6455 section 5.2 forbids
# ("the minimal number of bytes MUST be used") and wsframe refuses (1002);
# they also patch aiohttp's internal _handle_frame to catch the frames.
KNOWN_DIFFERENCES = {
    "tests/test_websocket_parser.py::test_parse_frame_length2[pyloop]": "length 4 sent in the 16-bit field",
    "tests/test_websocket_parser.py::test_parse_frame_length4[pyloop]": "length 4 sent in the 64-bit field",
    "tests/test_websocket_parser.py::test_parse_compress_frame_multi[pyloop]": "length 4 sent in the 16-bit field",
}


@pytest.fixture(scope="module")
def aiohttp_suite(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """aiohttp's tests/ from the sdist of the installed release, with its pytest.ini."""
    require_peer("aiohttp")
    dropin = require_peer("wsframe.integrations.aiohttp")
    version = importlib.metadata.version("aiohttp")
    assert version_in(version, dropin.SUPPORTED), f"aiohttp {version} is outside {dropin.SUPPORTED}"
    suite = peer_sdist_tests(request, tmp_path_factory, "aiohttp", version, "pytest.ini")
    # aiohttp's own settings (warnings are errors, markers, timeouts), less
    # what needs its CI's plugins: xdist, coverage, doctests.
    config = configparser.ConfigParser(interpolation=None)
    config.read(suite / "pytest.ini")
    settings = config["pytest"]
    settings["addopts"] = '-m "not dev_mode and not autobahn and not internal"'
    settings["filterwarnings"] = "\n".join(
        line for line in settings["filterwarnings"].splitlines() if "coverage" not in line)
    with open(suite / "pytest.ini", "w") as file:
        config.write(file)
    return suite


def run_aiohttp_suite(suite: Path, workdir: Path, mode: str, backend: str = "c") -> Dict[str, Any]:
    return run_peer_suite(suite, workdir / f"{mode}-{backend}.json", "aiohttp", mode, backend, SUITE_FILES)


@pytest.fixture(scope="module")
def aiohttp_baseline(aiohttp_suite: Path, tmp_path_factory: pytest.TempPathFactory) -> Dict[str, Any]:
    result = run_aiohttp_suite(aiohttp_suite, tmp_path_factory.mktemp("baseline"), "off")
    assert len(result["outcomes"]) > 350, result["summary"]
    return result


@pytest.mark.parametrize("backend", ["c", "python"], ids=lambda name: f"backend={name}")
def test_aiohttp_own_suite_passes_with_the_dropin(
    aiohttp_suite: Path, aiohttp_baseline: Dict[str, Any], tmp_path: Path, backend: str
) -> None:
    result = run_aiohttp_suite(aiohttp_suite, tmp_path, "on", backend)
    assert set(result["outcomes"]) == set(aiohttp_baseline["outcomes"])
    assert failed_tests(result) - failed_tests(aiohttp_baseline) == set(KNOWN_DIFFERENCES), result["summary"]
    calls = result["calls"]
    # The twin of the backend under test ran: compiled with the C backend.
    assert calls[f"reader from wsframe.{TWINS[backend]}"] == 1, calls
    # wsframe read and wrote the frames of aiohttp's servers and clients alike.
    assert calls["reader: wsframe's"] > 10_000, calls
    assert calls["reader made by aiohttp.web"] > 100 and calls["reader made by ws_connect"] > 100, calls
    assert calls["frame written by wsframe"] > 500, calls
    print(f"aiohttp's WebSocket tests: {len(aiohttp_baseline['outcomes'])}; failing on aiohttp's own code: "
          f"{len(failed_tests(aiohttp_baseline))}; with the drop-in ({backend}): {len(failed_tests(result))}")


# The drop-in's twins in this process ----------------------------------------


@pytest.fixture(scope="module", params=sorted(TWINS), ids=lambda name: f"backend={name}")
def twin(request: pytest.FixtureRequest) -> Any:
    """The drop-in's reader, queue and writer on one backend."""
    require_peer("aiohttp")
    load_backend(request.param)  # the C twin is built with the C backend, or neither is
    return importlib.import_module(f"wsframe.{TWINS[request.param]}")


@pytest.fixture
def aiohttp_dropin() -> Iterator[Any]:
    dropin = require_peer("wsframe.integrations.aiohttp")
    dropin.install()
    yield dropin
    dropin.uninstall()


class _Protocol:
    """What a queue pauses and resumes: counts it."""

    def __init__(self) -> None:
        self._reading_paused = False

    def pause_reading(self) -> None:
        self._reading_paused = True

    def resume_reading(self) -> None:
        self._reading_paused = False


Outcome = Tuple[List[Tuple[int, Any, Any]], Optional[Tuple[int, str]]]


def aiohttp_outcome(reader_class: Any, queue_class: Any, stream: bytes, cuts: List[int], **options: Any) -> Outcome:
    """What a reader hands its queue for ``stream`` fed in pieces, and the error it fails with (code, words)."""
    from aiohttp.http import WebSocketError

    loop = asyncio.new_event_loop()
    try:
        queue = queue_class(_Protocol(), 2**30, loop=loop)
        reader = reader_class(queue, options.get("max_msg_size", 2**20), compress=options.get("compress", False),
                              decode_text=options.get("decode_text", True))
        error = None
        start = 0
        for cut in sorted(set(cut for cut in cuts if cut < len(stream))) + [len(stream)]:
            try:
                reader._feed_data(stream[start:cut])
            except WebSocketError as exc:
                error = (int(exc.code), str(exc))
                break
            start = cut
        messages = [(int(message.type), message.data, message.extra) for message, _ in queue._buffer]
        return messages, error
    finally:
        loop.close()


# Close codes aiohttp's reader accepts and wsframe's refuses (RFC 6455 section 7.4.1).
WSFRAME_REFUSES = {1006: "close code 1006 is not one a peer may send"}
CLOSE_PAYLOADS = [b"", b"\x03\xe8", b"\x0f\xa0bye", b"\x03", b"\x03\xed", b"\x03\xee", b"\x13\x88", b"\xff\xff"]


@st.composite
def aiohttp_streams(draw: Any) -> List[Tuple[bytes, Dict[str, Any]]]:
    """Frames as a client sends them, each with its opcode, FIN, RSV1 and
    payload: text and binary messages, some fragmented, control frames
    between the fragments, maybe a close, and some with one fault; no frame
    masked the wrong way, the one rule aiohttp alone does not have."""
    frames: List[Tuple[bytes, Dict[str, Any]]] = []

    def add(opcode: int, payload: bytes, fin: bool = True, rsv1: bool = False, at: Optional[int] = None) -> None:
        item = (frame(opcode, payload, fin=fin, rsv1=rsv1), dict(opcode=opcode, payload=payload, fin=fin, rsv1=rsv1))
        frames.insert(len(frames) if at is None else at, item)

    for _ in range(draw(st.integers(1, 5))):
        opcode = draw(st.sampled_from([1, 2]))
        payload = draw(utf8_ish if opcode == 1 else st.binary(max_size=300))
        cuts = sorted(draw(st.lists(st.integers(0, len(payload)), max_size=2)))
        bounds = [0] + cuts + [len(payload)]
        for index, (start, end) in enumerate(zip(bounds, bounds[1:])):
            add(opcode if index == 0 else 0, payload[start:end], fin=index == len(bounds) - 2)
            if draw(st.integers(0, 4)) == 0:
                add(draw(st.sampled_from([9, 10])), draw(st.binary(max_size=125)))
    if draw(st.booleans()):
        add(8, draw(st.sampled_from(CLOSE_PAYLOADS)))
    fault = draw(st.integers(0, 6))
    at = draw(st.integers(0, len(frames)))
    if fault == 1:
        add(draw(st.sampled_from([0, 1, 2, 3, 0xB])), b"x", at=at)
    elif fault == 2:
        add(2, b"r", rsv1=True, at=at)
    elif fault == 3:
        add(9, b"p", fin=False, at=at)
    elif fault == 4:
        add(draw(st.sampled_from([8, 9, 10])), b"", rsv1=True, at=at)
    return frames


def strict_stop(frames: List[Tuple[bytes, Dict[str, Any]]], compress: bool) -> Optional[Tuple[int, str]]:
    """Where wsframe's rules stop a stream that aiohttp's let through so far:
    the index of the first frame that is a close with a code only wsframe
    refuses, or a frame of an uncompressed text message after which the
    message can no longer be UTF-8 (at its end: is not UTF-8); and which
    rule. None if none comes before a frame aiohttp itself refuses. Message
    assembly as aiohttp's message layer does it, frame by frame."""
    open_opcode: Optional[int] = None  # of the fragmented message in progress
    partial = b""
    compressed, last_fin = False, True
    for index, (_, info) in enumerate(frames):
        opcode, payload, fin, rsv1 = info["opcode"], info["payload"], info["fin"], info["rsv1"]
        if opcode == 8 and len(payload) >= 2 and int.from_bytes(payload[:2], "big") in WSFRAME_REFUSES:
            return index, "close"
        if opcode in (8, 9, 10):
            continue
        if opcode not in (0, 1, 2) or (rsv1 and not compress):
            return None  # aiohttp refuses it
        # The first frame after a final one says whether it is compressed (RFC 7692 section 6).
        if last_fin:
            compressed = rsv1
        elif rsv1:
            return None
        last_fin = fin
        if opcode == 0 and open_opcode is None:
            return None
        if not fin:
            if opcode != 0:
                if open_opcode is not None:
                    return None
                open_opcode, partial = opcode, b""
            partial += payload
            if open_opcode == 1 and not compressed and not viable_utf8_prefix(partial):
                return index, "utf8"
            continue
        if opcode == 0:
            opcode, open_opcode, data = open_opcode, None, partial + payload
        elif partial:
            return None
        else:
            data = payload  # a whole message; a fragmented one with nothing yet stays open
        partial = b""
        if opcode == 1 and not compressed and not _is_utf8(data):
            return index, "utf8"
    return None


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def expected_outcome(frames: List[Tuple[bytes, Dict[str, Any]]], cuts: List[int], **options: Any) -> Outcome:
    """What the drop-in must do: aiohttp's own reader's outcome, but where
    wsframe's rules stop the stream first. There, the messages aiohttp
    delivers before that frame, then, unless aiohttp failed before it:
    1002 for a close code only wsframe refuses, with wsframe's words; for
    text that cannot be UTF-8, aiohttp's own verdict on the message cut
    short after that frame, which is 1007 in its words (for decode_text
    False too, which aiohttp alone does not check)."""
    from aiohttp._websocket import reader_py

    own = (reader_py.WebSocketReader, reader_py.WebSocketDataQueue)
    stop = strict_stop(frames, options.get("compress", False))
    if stop is None:
        return aiohttp_outcome(*own, b"".join(wire for wire, _ in frames), cuts, **options)
    index, rule = stop
    before = b"".join(wire for wire, _ in frames[:index])
    if rule == "close":
        messages, error = aiohttp_outcome(*own, before, cuts, **options)
        code = int.from_bytes(frames[index][1]["payload"][:2], "big")
        return messages, error or (1002, WSFRAME_REFUSES[code])
    info = frames[index][1]
    cut_short = before + frame(info["opcode"], info["payload"], fin=True)
    messages, error = aiohttp_outcome(*own, cut_short, cuts, **dict(options, decode_text=True))
    if not options.get("decode_text", True):
        messages = [(kind, data.encode() if kind == 1 else data, extra) for kind, data, extra in messages]
    return messages, error


@given(frames=aiohttp_streams(), cuts=st.lists(st.integers(0, 2000), max_size=6),
       max_msg_size=st.sampled_from([0, 50, 400, 2**20]), compress=st.booleans(), decode_text=st.booleans())
def test_dropin_reader_hands_the_queue_what_aiohttps_does(twin: Any, frames: List[Tuple[bytes, Dict[str, Any]]],
                                                          cuts: List[int], max_msg_size: int, compress: bool,
                                                          decode_text: bool) -> None:
    options = dict(max_msg_size=max_msg_size, compress=compress, decode_text=decode_text)
    stream = b"".join(wire for wire, _ in frames)
    assert aiohttp_outcome(twin.WebSocketReader, twin.WebSocketDataQueue, stream, cuts, **options) == (
        expected_outcome(frames, cuts, **options))


def test_the_server_reader_requires_masked_frames(twin: Any) -> None:
    from aiohttp.http import WebSocketError

    loop = asyncio.new_event_loop()
    try:
        queue = twin.WebSocketDataQueue(_Protocol(), 2**16, loop=loop)
        reader = twin.ServerWebSocketReader(queue, 2**20, compress=False, decode_text=True)
        with pytest.raises(WebSocketError, match="client frame is not masked") as refusal:
            reader._feed_data(frame(1, b"hi", mask=False))
        assert refusal.value.code == 1002
    finally:
        loop.close()


def feed_until_refused(twin: Any, pieces: List[bytes], **options: Any) -> Tuple[List[Any], int, Any]:
    """Feed a server's reader ``pieces`` one read at a time: the messages it
    queued, how many reads it took before it refused, and its error."""
    from aiohttp.http import WebSocketError

    loop = asyncio.new_event_loop()
    try:
        queue = twin.WebSocketDataQueue(_Protocol(), 2**16, loop=loop)
        reader = twin.ServerWebSocketReader(queue, 2**20, compress=options.get("compress", False),
                                            decode_text=options.get("decode_text", True))
        for count, piece in enumerate(pieces, 1):
            try:
                reader._feed_data(piece)
            except WebSocketError as exc:
                return [message for message, _ in queue._buffer], count, exc
        return [message for message, _ in queue._buffer], len(pieces), None
    finally:
        loop.close()


@pytest.mark.parametrize("decode_text", [True, False])
def test_text_fails_at_the_read_that_brings_its_first_bad_byte(twin: Any, decode_text: bool) -> None:
    # Autobahn 6.4.3: one text frame sent in three reads, the middle one with
    # a code point over U+10FFFF. aiohttp alone notices at the frame's end.
    whole = frame(1, "κόσμε".encode() + b"\xf4\x90\x80\x80" + "edited".encode())
    pieces = [whole[:12], whole[12:19], whole[19:]]  # the header is 6 bytes: F4 90 is in the second read
    messages, reads, error = feed_until_refused(twin, pieces, decode_text=decode_text)
    assert (messages, reads, error.code, str(error)) == ([], 2, 1007, "Invalid UTF-8 text message")


def test_a_fragmented_text_message_fails_at_its_bad_fragment(twin: Any) -> None:
    # Autobahn 6.4.1: the ping after the bad fragment is never answered, the
    # connection having failed first (RFC 6455 section 8.1).
    pieces = [frame(1, "κόσμε".encode(), fin=False), frame(0, b"\xf4\x90\x80\x80", fin=False), frame(9, b"late"),
              frame(0, b"edited")]
    messages, reads, error = feed_until_refused(twin, pieces)
    assert (messages, reads, error.code) == ([], 2, 1007)


def test_a_sequence_cut_between_fragments_is_text(twin: Any) -> None:
    word = "κόσμε 😀".encode()
    pieces = [frame(1, word[:2], fin=False), frame(0, word[2:9], fin=False), frame(0, word[9:])]
    messages, _, error = feed_until_refused(twin, pieces)
    assert error is None and [(message.type, message.data) for message in messages] == [(1, "κόσμε 😀")]


@pytest.mark.parametrize("code, refused", [(1000, False), (1006, True), (1005, True), (2999, True), (3000, False),
                                           (4999, False), (5000, False)])
def test_close_codes_no_peer_may_send_are_refused(twin: Any, code: int, refused: bool) -> None:
    # RFC 6455 section 7.4.1: 1006 "MUST NOT be set as a status code in a
    # Close control frame"; aiohttp alone accepts it. From 5000 up aiohttp's
    # rule stays: its test_close_frame_info expects 12337 delivered.
    messages, _, error = feed_until_refused(twin, [frame(8, code.to_bytes(2, "big") + b"bye")])
    if refused:
        assert (messages, error.code) == ([], 1002)
        assert str(error) == ("close code 1006 is not one a peer may send" if code == 1006
                              else f"Invalid close code: {code}")
    else:
        assert error is None and [(message.type, message.data, message.extra) for message in messages] == [
            (8, code, "bye")]


def test_a_stalled_reader_resumes_where_it_stopped(twin: Any) -> None:
    # aiohttp's flow control on the drop-in's queue: past the high-water mark
    # the reader stops parsing; reading drains the queue to the low-water
    # mark, which drives the reader again, and then resumes the transport.
    async def scenario() -> List[Any]:
        protocol = _Protocol()
        queue = twin.WebSocketDataQueue(protocol, 1024, loop=asyncio.get_running_loop())
        reader = twin.ServerWebSocketReader(queue, 2**20, compress=False, decode_text=True)
        stream = b"".join(frame(2, bytes([index]) * 100) for index in range(100))
        reader.feed_data(stream)
        assert protocol._reading_paused and queue._stalled_reader() is reader
        assert 0 < len(queue._buffer) < 100
        received = [await queue.read() for _ in range(100)]
        assert queue._stalled_reader is None and not protocol._reading_paused
        return received

    received = asyncio.run(scenario())
    assert [message.data for message in received] == [bytes([index]) * 100 for index in range(100)]


def test_a_second_threads_feed_while_one_runs_is_refused(twin: Any) -> None:
    # The queue pauses the transport from inside the reader's feed: another
    # thread feeding the same reader then must not interleave its bytes.
    import threading

    refusals: List[BaseException] = []

    class PausingProtocol(_Protocol):
        def pause_reading(self) -> None:
            super().pause_reading()
            other = threading.Thread(target=lambda: refusals.append(_raised(reader.feed_data, frame(2, b"late"))))
            other.start()
            other.join()

    loop = asyncio.new_event_loop()
    try:
        queue = twin.WebSocketDataQueue(PausingProtocol(), 16, loop=loop)
        reader = twin.ServerWebSocketReader(queue, 2**20, compress=False, decode_text=True)
        assert reader.feed_data(frame(2, b"x" * 64) * 2) == (False, b"")
        assert [message.data for message, _ in queue._buffer] == [b"x" * 64]  # the queue is full: parsing stopped
    finally:
        loop.close()
    assert len(refusals) == 1 and isinstance(refusals[0], RuntimeError), refusals
    assert "another feed() on the same decoder is running" in str(refusals[0])


def _raised(function: Any, *args: Any) -> Optional[BaseException]:
    try:
        function(*args)
    except BaseException as exc:
        return exc
    return None


def test_client_writer_keys_come_from_a_csprng_unless_given_a_random(aiohttp_dropin: Any) -> None:
    import random
    from unittest import mock

    from aiohttp.http import WebSocketWriter

    import wsframe

    def written(writer: Any) -> bytes:
        asyncio.run(writer.send_frame(b"text", 1))
        return writer.transport.write.call_args[0][0]  # type: ignore[no-any-return]

    def transport() -> Any:
        fake = mock.Mock()
        fake.is_closing.return_value = False
        return fake

    seeded = [written(WebSocketWriter(mock.Mock(), transport(), use_mask=True, random=random.Random(7)))
              for _ in range(2)]
    assert seeded[0] == seeded[1]  # the caller's Random decides the keys, as in aiohttp
    keys = {written(WebSocketWriter(mock.Mock(), transport(), use_mask=True))[2:6] for _ in range(20)}
    assert len(keys) == 20  # fresh keys from wsframe's pool, not the shared default Random
    frames = wsframe.FrameDecoder(wsframe.Role.SERVER).feed(seeded[0])
    assert frames[0].payload == b"text"


@pytest.mark.parametrize("size", [0, 125, 126, 65535, 65536, 70000])
def test_the_writer_sends_what_aiohttps_sends(twin: Any, size: int) -> None:
    from unittest import mock

    from aiohttp._websocket import writer as writer_module

    payload = bytes(range(256)) * (size // 256) + bytes(size % 256)

    def sent(write: Any, rsv: int, opcode: int = 2) -> bytes:
        transport = mock.Mock()
        transport.is_closing.return_value = False
        writer = writer_module.WebSocketWriter(mock.Mock(), transport)
        write(writer, payload, opcode, rsv)
        return b"".join(call.args[0] for call in transport.write.call_args_list)

    own = vars(writer_module.WebSocketWriter)["_write_websocket_frame"]
    for rsv in (0, 0x40):
        assert sent(twin.write_websocket_frame, rsv) == sent(own, rsv)
    if size <= 125:
        assert sent(twin.write_websocket_frame, 0, opcode=9) == sent(own, 0, opcode=9)
    else:
        with pytest.raises(ValueError, match="125"):
            sent(twin.write_websocket_frame, 0, opcode=9)


def test_reader_and_writer_install_apart() -> None:
    dropin = require_peer("wsframe.integrations.aiohttp")
    from aiohttp import web_ws
    from aiohttp._websocket import reader, writer

    own_reader, own_write = reader.WebSocketReader, writer.WebSocketWriter._write_websocket_frame
    dropin.install(reader=False)
    try:
        assert reader.WebSocketReader is own_reader and web_ws.WebSocketReader is own_reader
        assert writer.WebSocketWriter._write_websocket_frame is not own_write
        dropin.install(writer=False)  # adds the reader
        assert web_ws.WebSocketReader is dropin.ServerWebSocketReader
        assert reader.WebSocketDataQueue is dropin.WebSocketDataQueue
    finally:
        dropin.uninstall()
    assert reader.WebSocketReader is own_reader and web_ws.WebSocketReader is own_reader
    assert writer.WebSocketWriter._write_websocket_frame is own_write and not dropin.installed()


def test_the_backend_picks_the_twin() -> None:
    dropin = require_peer("wsframe.integrations.aiohttp")
    import wsframe

    assert dropin.WebSocketReader.__module__ == f"wsframe.{TWINS[wsframe.backend]}"


# An aiohttp server with the drop-in, end to end ------------------------------

ECHO_SERVER = Path(__file__).parent / "peers" / "aiohttp_echo.py"


@pytest.fixture(params=sorted(TWINS), ids=lambda name: f"backend={name}")
def echo_server(request: pytest.FixtureRequest) -> Iterator[int]:
    """tests/peers/aiohttp_echo.py with the drop-in, on one backend: its port."""
    require_peer("aiohttp")
    load_backend(request.param)
    env = dict(os.environ)
    env.pop("WSFRAME_PURE_PYTHON", None)
    if request.param == "python":
        env["WSFRAME_PURE_PYTHON"] = "1"
    process = subprocess.Popen([sys.executable, str(ECHO_SERVER), "--dropin"], env=env, stdout=subprocess.PIPE,
                               text=True)
    assert process.stdout is not None
    line = process.stdout.readline().split()
    try:
        assert line[0] == "PORT" and line[2] == f"wsframe.{TWINS[request.param]}.ServerWebSocketReader", line
        yield int(line[1])
    finally:
        process.terminate()
        process.wait(10)
        process.stdout.close()


def conversation(port: int, frames: List[bytes]) -> List[Tuple[int, bytes]]:
    """A raw client: the upgrade, ``frames`` sent one read at a time, then
    every frame the server sends until it closes the connection."""
    import base64

    from wsframe import FrameDecoder, Role

    with socket.create_connection(("127.0.0.1", port), timeout=10) as client:
        key = base64.b64encode(os.urandom(16)).decode()
        client.sendall(f"GET /echo HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                       f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n".encode())
        response = b""
        while b"\r\n\r\n" not in response:
            response += client.recv(4096)
        assert response.startswith(b"HTTP/1.1 101"), response
        received = FrameDecoder(Role.CLIENT).feed(response.split(b"\r\n\r\n", 1)[1])
        for wire in frames:
            client.sendall(wire)
        decoder = FrameDecoder(Role.CLIENT)
        while not decoder.closed:
            data = client.recv(65536)
            if not data:
                break
            received += decoder.feed(data)
    return [(int(item.opcode), item.payload) for item in received]


def test_a_server_on_the_dropin_answers_a_close_with_1006_with_1002(echo_server: int) -> None:
    # Autobahn 7.9.5: aiohttp alone accepts it and answers 1000.
    answer = conversation(echo_server, [frame(1, b"hello"), frame(8, (1006).to_bytes(2, "big"))])
    assert answer[0] == (1, b"hello")
    assert answer[1][0] == 8 and answer[1][1][:2] == (1002).to_bytes(2, "big"), answer


def test_a_server_on_the_dropin_fails_bad_text_before_its_end(echo_server: int) -> None:
    # Autobahn 6.4.1: the final fragment is never needed to know.
    answer = conversation(echo_server, [frame(1, b"hello"), frame(1, "κόσμε".encode(), fin=False),
                                        frame(0, b"\xed\xa0\x80", fin=False)])
    assert answer[0] == (1, b"hello")
    assert answer[1][0] == 8 and answer[1][1][:2] == (1007).to_bytes(2, "big"), answer
