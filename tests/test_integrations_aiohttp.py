"""wsframe's drop-in under aiohttp: aiohttp's own WebSocket tests, and ours.

aiohttp's sdist carries its tests: its WebSocket parser, writer, server and
client suites run here three times in one run, on aiohttp's own code and
with the drop-in on each backend; every test that passes on aiohttp's code
must pass on wsframe's, but the ones named in KNOWN_DIFFERENCES (README,
"Drop-ins"). Then a differential test: aiohttp's own reader and the drop-in's
fed the same random streams hand the queue the same messages and fail with
the same close codes.
"""

from __future__ import annotations

import asyncio
import configparser
import importlib.metadata
from pathlib import Path
from typing import Any, Dict, Iterator, List, Tuple

import pytest
from helpers import failed_tests, frame, peer_sdist_tests, require_peer, run_peer_suite
from hypothesis import given
from hypothesis import strategies as st
from test_differential import utf8_ish

from wsframe.integrations import version_in

SUITE_FILES = ["tests/test_websocket_parser.py", "tests/test_websocket_writer.py",
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
    # wsframe read and wrote the frames of aiohttp's servers and clients alike.
    assert calls["reader: wsframe's"] > 10_000, calls
    assert calls["reader made by aiohttp.web"] > 100 and calls["reader made by ws_connect"] > 100, calls
    assert calls["frame written by wsframe"] > 500, calls
    print(f"aiohttp's WebSocket tests: {len(aiohttp_baseline['outcomes'])}; failing on aiohttp's own code: "
          f"{len(failed_tests(aiohttp_baseline))}; with the drop-in ({backend}): {len(failed_tests(result))}")


# The drop-in in this process -----------------------------------------------


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


def aiohttp_outcome(reader_class: Any, queue_class: Any, stream: bytes, cuts: List[int], **options: Any) -> Tuple:
    """What a reader hands its queue for ``stream`` fed in pieces, and the error it fails with (code, words)."""
    from aiohttp.http import WebSocketError

    loop = asyncio.new_event_loop()
    try:
        queue = queue_class(_Protocol(), 2**30, loop=loop)
        reader = reader_class(queue, options.get("max_msg_size", 2**20), compress=options.get("compress", False),
                              decode_text=True)
        error = None
        start = 0
        for cut in sorted(set(cuts)) + [len(stream)]:
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


@st.composite
def aiohttp_streams(draw: Any) -> bytes:
    """Streams of masked frames as a client sends them, some with a fault; no
    frame masked the wrong way, the one rule aiohttp alone does not have."""
    frames = []
    for _ in range(draw(st.integers(1, 5))):
        opcode = draw(st.sampled_from([1, 2]))
        payload = draw(utf8_ish if opcode == 1 else st.binary(max_size=300))
        cuts = sorted(draw(st.lists(st.integers(0, len(payload)), max_size=2)))
        bounds = [0] + cuts + [len(payload)]
        for index, (start, end) in enumerate(zip(bounds, bounds[1:])):
            frames.append(frame(opcode if index == 0 else 0, payload[start:end], fin=index == len(bounds) - 2))
            if draw(st.integers(0, 4)) == 0:
                frames.append(frame(draw(st.sampled_from([9, 10])), draw(st.binary(max_size=125))))
    if draw(st.booleans()):
        frames.append(frame(8, draw(st.sampled_from([b"", b"\x03\xe8", b"\x0f\xa0bye", b"\x03", b"\x03\xed"]))))
    fault = draw(st.integers(0, 6))
    position = draw(st.integers(0, len(frames)))
    if fault == 1:
        frames.insert(position, frame(draw(st.sampled_from([0, 1, 2, 3, 0xB])), b"x"))
    elif fault == 2:
        frames.insert(position, frame(2, b"r", rsv1=True))
    elif fault == 3:
        frames.insert(position, frame(9, b"p", fin=False))
    elif fault == 4:
        frames.insert(position, frame(draw(st.sampled_from([8, 9, 10])), b"", rsv1=True))
    return b"".join(frames)


@given(stream=aiohttp_streams(), cuts=st.lists(st.integers(0, 2000), max_size=6),
       max_msg_size=st.sampled_from([0, 50, 400, 2**20]), compress=st.booleans())
def test_dropin_reader_hands_the_queue_what_aiohttps_does(stream: bytes, cuts: List[int], max_msg_size: int,
                                                          compress: bool) -> None:
    dropin = require_peer("wsframe.integrations.aiohttp")
    from aiohttp._websocket import reader_py

    options = dict(max_msg_size=max_msg_size, compress=compress)
    assert aiohttp_outcome(dropin.WebSocketReader, dropin.WebSocketDataQueue, stream, cuts, **options) == (
        aiohttp_outcome(reader_py.WebSocketReader, reader_py.WebSocketDataQueue, stream, cuts, **options))


def test_the_server_reader_requires_masked_frames(aiohttp_dropin: Any) -> None:
    from aiohttp import web_ws
    from aiohttp.http import WebSocketError

    reader_class = web_ws.WebSocketReader
    assert reader_class is aiohttp_dropin.ServerWebSocketReader
    loop = asyncio.new_event_loop()
    try:
        queue = aiohttp_dropin.WebSocketDataQueue(_Protocol(), 2**16, loop=loop)
        reader = reader_class(queue, 2**20, compress=False, decode_text=True)
        with pytest.raises(WebSocketError, match="client frame is not masked") as refusal:
            reader._feed_data(frame(1, b"hi", mask=False))
        assert refusal.value.code == 1002
    finally:
        loop.close()


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
