"""Differential tests: both backends, same random input, identical outcome.

Identical means the same return value, or the same exception type with the
same message (and the same close code for protocol errors).
"""

from __future__ import annotations

from hypothesis import example, given
from hypothesis import strategies as st
from helpers import outcome, reference_mask

from wsframe import Opcode, Role, Rsv

roles = st.sampled_from([Role.SERVER, Role.CLIENT])
allowed_rsv = st.sampled_from([0, Rsv.RSV1, Rsv.RSV2 | Rsv.RSV3, Rsv.RSV1 | Rsv.RSV2 | Rsv.RSV3])
limits = st.one_of(st.none(), st.integers(0, 2**64 + 5))
keys = st.binary(min_size=4, max_size=4)
odd_integers = st.one_of(
    st.integers(-(2**70), 2**70), st.sampled_from([2**63 - 1, 2**63, -(2**63), -(2**63) - 1, True, False])
)
odd_values = st.one_of(odd_integers, st.none(), st.text(max_size=3), st.floats(allow_nan=False), st.binary(max_size=5))


@st.composite
def frames(draw):
    """A frame header that is valid except where drawn flags make it not."""
    opcode = draw(st.integers(0, 15))
    masked = draw(st.booleans())
    payload_length = draw(st.one_of(st.integers(0, 200), st.integers(0, 70000), st.integers(0, 2**64 - 1)))
    length_form = draw(st.sampled_from(["minimal", "16", "64"]))
    first = (0x80 if draw(st.booleans()) else 0) | draw(st.integers(0, 7)) << 4 | opcode
    if length_form == "minimal":
        if payload_length < 126:
            length = bytes([payload_length])
        elif payload_length < 65536:
            length = bytes([126]) + payload_length.to_bytes(2, "big")
        else:
            length = bytes([127]) + payload_length.to_bytes(8, "big")
    elif length_form == "16":
        length = bytes([126]) + (payload_length % 65536).to_bytes(2, "big")
    else:
        length = bytes([127]) + payload_length.to_bytes(8, "big")
    data = bytes([first, length[0] | (0x80 if masked else 0)]) + length[1:]
    if masked:
        data += draw(keys)
    return data + draw(st.binary(max_size=4))


def assert_same(c_codec, py_codec, name, *args, **kwargs):
    c_result = outcome(getattr(c_codec, name), *args, **kwargs)
    py_result = outcome(getattr(py_codec, name), *args, **kwargs)
    assert c_result == py_result
    return c_result


@given(data=st.binary(max_size=24), role=roles, allowed_rsv=allowed_rsv, limit=limits)
def test_parse_header_on_random_bytes(c_codec, py_codec, data, role, allowed_rsv, limit):
    for offset in range(len(data) + 2):
        assert_same(c_codec, py_codec, "parse_header", data, offset, role=role, allowed_rsv=allowed_rsv,
                    max_payload_length=limit)


@given(frame=frames(), role=roles, allowed_rsv=allowed_rsv, limit=limits, data=st.data())
def test_parse_header_on_structured_and_mutated_frames(c_codec, py_codec, frame, role, allowed_rsv, limit, data):
    options = dict(role=role, allowed_rsv=allowed_rsv, max_payload_length=limit)
    for cut in range(len(frame) + 1):
        assert_same(c_codec, py_codec, "parse_header", frame[:cut], **options)
    mutated = bytearray(frame)
    position = data.draw(st.integers(0, len(frame) - 1))
    mutated[position] ^= 1 << data.draw(st.integers(0, 7))
    assert_same(c_codec, py_codec, "parse_header", mutated, **options)


@given(data=st.binary(max_size=2000), key=keys, offset=st.integers(0, 2**63 - 1), start=st.integers(0, 15))
def test_mask_matches_reference(c_codec, py_codec, data, key, offset, start):
    expected = reference_mask(data, key, offset % 4)
    view = memoryview(b"\0" * start + data)[start:]
    assert c_codec.mask(view, key, offset) == py_codec.mask(view, key, offset) == expected
    c_buffer, py_buffer = bytearray(data), bytearray(data)
    assert c_codec.mask_inplace(c_buffer, key, offset) == py_codec.mask_inplace(py_buffer, key, offset)
    assert c_buffer == py_buffer == expected


@given(
    opcode=st.one_of(st.integers(-2, 17), st.sampled_from(list(Opcode))),
    payload=st.binary(max_size=300),
    fin=st.booleans(),
    rsv=st.tuples(st.booleans(), st.booleans(), st.booleans()),
    key=st.one_of(st.just(False), st.just(None), keys, st.binary(max_size=6)),
)
def test_encode_frame(c_codec, py_codec, opcode, payload, fin, rsv, key):
    rsv1, rsv2, rsv3 = rsv
    result = assert_same(c_codec, py_codec, "encode_frame", opcode, payload, fin=fin, rsv1=rsv1, rsv2=rsv2,
                         rsv3=rsv3, mask=key)
    if result[0] == "returned":
        role = Role.SERVER if key else Role.CLIENT
        parsed = py_codec.parse_header(result[1], role=role, allowed_rsv=0x70)
        assert (parsed.opcode, parsed.fin, parsed.rsv1, parsed.rsv2, parsed.rsv3) == (opcode, fin, *rsv)


@given(
    opcode=st.integers(-2, 17),
    payload_length=st.one_of(st.integers(-5, 70000), st.integers(2**63 - 5, 2**63 + 5), st.integers(0, 2**64)),
    fin=st.booleans(),
    key=st.one_of(st.none(), keys, st.binary(max_size=6)),
)
def test_encode_header(c_codec, py_codec, opcode, payload_length, fin, key):
    assert_same(c_codec, py_codec, "encode_header", opcode, payload_length, fin=fin, mask_key=key)


@given(offset=odd_values, allowed=odd_values, limit=odd_values, role=st.one_of(roles, odd_values))
@example(offset=2**63, allowed=0, limit=None, role=Role.SERVER)
@example(offset=0, allowed=-(2**63) - 1, limit=None, role=Role.SERVER)
def test_argument_errors_match(c_codec, py_codec, offset, allowed, limit, role):
    frame = b"\x82\xfe\x01\x00abcd"
    assert_same(c_codec, py_codec, "parse_header", frame, offset, role=role, allowed_rsv=allowed,
                max_payload_length=limit)
    assert_same(c_codec, py_codec, "mask", frame, b"abcd", offset)
    assert_same(c_codec, py_codec, "mask_inplace", bytearray(frame), b"abcd", offset)
    assert_same(c_codec, py_codec, "encode_header", offset, limit)
    assert_same(c_codec, py_codec, "encode_frame", allowed, frame)


# --- the streaming decoders ---------------------------------------------------

utf8_ish = st.one_of(
    st.text(max_size=20).map(str.encode),
    st.binary(max_size=20),
    st.sampled_from([b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\xe2\x82", b"\xc3", b"\xf0\x9f\x98\x80"]),
)


@st.composite
def frame_streams(draw, role):
    """Well-formed message sequences for ``role``; about a third carry one fault."""
    from helpers import frame

    masked = role is Role.SERVER
    frames = []
    for _ in range(draw(st.integers(1, 5))):
        opcode = draw(st.sampled_from([1, 2]))
        payload = draw(utf8_ish if opcode == 1 else st.binary(max_size=400))
        cuts = sorted(draw(st.lists(st.integers(0, len(payload)), max_size=3)))
        bounds = [0] + cuts + [len(payload)]
        for index, (start, end) in enumerate(zip(bounds, bounds[1:])):
            fin = index == len(bounds) - 2
            frames.append(frame(opcode if index == 0 else 0, payload[start:end], fin=fin, mask=masked))
            if draw(st.integers(0, 4)) == 0:
                frames.append(frame(draw(st.sampled_from([9, 10])), draw(st.binary(max_size=125)), mask=masked))
    if draw(st.booleans()):
        close = draw(st.sampled_from([b"", b"\x03\xe8", b"\x0f\xa0"])) + draw(utf8_ish)
        frames.append(frame(8, close[:125], mask=masked))
        # What follows a close frame is discarded unparsed, valid or not.
        if draw(st.booleans()):
            frames.append(draw(st.one_of(st.binary(max_size=30), st.just(frame(1, b"late", mask=masked)))))
    fault = draw(st.integers(0, 8))
    position = draw(st.integers(0, len(frames)))
    if fault == 1:
        frames.insert(position, frame(draw(st.sampled_from([0, 1, 2, 3, 0xB])), b"x", mask=masked))
    elif fault == 2:
        frames.insert(position, frame(9, b"p", mask=not masked))
    elif fault == 3:
        frames.insert(position, frame(2, b"r", mask=masked, rsv1=True))
    elif fault == 4:
        frames.insert(position, frame(8, draw(st.binary(max_size=6)), mask=masked))
    stream = b"".join(frames)
    if fault == 5 and stream:
        mutated = bytearray(stream)
        mutated[draw(st.integers(0, len(stream) - 1))] ^= 1 << draw(st.integers(0, 7))
        stream = bytes(mutated)
    return stream


def run_decoder(decoder, stream, cuts):
    """Each feed's result (an error with the events before it), until the
    first error, as comparable outcomes; then whether the stream was closed
    and what was discarded after the close."""
    results = []
    start = 0
    for cut in sorted(set(cuts)) + [len(stream)]:
        result = outcome(decoder.feed, stream[start:cut])
        results.append(result)
        if result[0] == "raised":
            results.append(outcome(decoder.feed, b"\x81\x80abcd"))  # a failed decoder stays failed
            break
        start = cut
    results.append(("closed", decoder.closed, decoder.bytes_after_close))
    return results


decoder_options = st.fixed_dictionaries(
    {"role": roles, "allowed_rsv": allowed_rsv, "max_frame_size": st.sampled_from([None, 100, 2**20, 2**20])}
)


@st.composite
def streams_and_options(draw):
    options = draw(decoder_options)
    return draw(frame_streams(options["role"])), options


@given(case=streams_and_options(), cuts=st.lists(st.integers(0, 3000), max_size=10), chunked=st.booleans())
def test_frame_decoder_on_random_streams(c_codec, py_codec, case, cuts, chunked):
    stream, options = case
    assert run_decoder(c_codec.FrameDecoder(**options, chunked=chunked), stream, cuts) == run_decoder(
        py_codec.FrameDecoder(**options, chunked=chunked), stream, cuts)


@given(case=streams_and_options(), cuts=st.lists(st.integers(0, 3000), max_size=10),
       max_message_size=st.sampled_from([None, 50, 400, 2**20, 2**20, 2**20]))
def test_message_decoder_on_random_streams(c_codec, py_codec, case, cuts, max_message_size):
    stream, options = case
    c_result = run_decoder(c_codec.MessageDecoder(**options, max_message_size=max_message_size), stream, cuts)
    py_result = run_decoder(py_codec.MessageDecoder(**options, max_message_size=max_message_size), stream, cuts)
    assert c_result == py_result


def handed_over(decoder, stream, cuts):
    from helpers import feed_until_error

    events, error = feed_until_error(decoder, stream, cuts)
    return events, None if error is None else (type(error), error.close_code, error.reason)


@given(case=streams_and_options(), cuts=st.lists(st.integers(0, 3000), max_size=10),
       max_message_size=st.sampled_from([None, 50, 400, 2**20]))
def test_no_event_is_lost_to_the_cuts(codec, case, cuts, max_message_size):
    """Events from feed() plus an error's events are the same, whole or cut
    anywhere: an error never swallows what its feed completed before it."""
    stream, options = case
    assert handed_over(codec.MessageDecoder(**options, max_message_size=max_message_size), stream, cuts) == (
        handed_over(codec.MessageDecoder(**options, max_message_size=max_message_size), stream, []))
    assert handed_over(codec.FrameDecoder(**options), stream, cuts) == (
        handed_over(codec.FrameDecoder(**options), stream, []))


def run_with_max_events(decoder, stream, cuts, max_events):
    """Each feed's outcome with ``max_events``, draining what it kept back
    with feed(b""), and how much was kept back after each."""
    results = []
    start = 0
    for cut in sorted(set(cuts)) + [len(stream)]:
        data = stream[start:cut]
        while True:
            result = outcome(decoder.feed, data, max_events)
            results.append((result, decoder.undecoded))
            if result[0] == "raised":
                return results
            assert len(result[1]) <= max_events
            if not decoder.undecoded:
                break
            data = b""
        start = cut
    return results


@given(case=streams_and_options(), cuts=st.lists(st.integers(0, 3000), max_size=6),
       max_events=st.integers(1, 4), frame_layer=st.booleans())
def test_decoders_with_max_events(c_codec, py_codec, case, cuts, max_events, frame_layer):
    stream, options = case
    name = "FrameDecoder" if frame_layer else "MessageDecoder"
    c_result = run_with_max_events(getattr(c_codec, name)(**options), stream, cuts, max_events)
    py_result = run_with_max_events(getattr(py_codec, name)(**options), stream, cuts, max_events)
    assert c_result == py_result
    # Nothing is lost or reordered: the same events as without a limit.
    unlimited = handed_over(getattr(py_codec, name)(**options), stream, cuts)
    events = [event for result, _ in py_result for event in (result[1] if result[0] == "returned" else result[4])]
    assert events == unlimited[0]


@given(stream=st.binary(max_size=64), cuts=st.lists(st.integers(0, 64), max_size=8), options=decoder_options)
def test_message_decoder_on_random_bytes(c_codec, py_codec, stream, cuts, options):
    assert run_decoder(c_codec.MessageDecoder(**options), stream, cuts) == run_decoder(
        py_codec.MessageDecoder(**options), stream, cuts)


@given(role=st.one_of(roles, odd_values), allowed=odd_values, frame_size=odd_values, message_size=odd_values,
       chunked=st.booleans())
def test_decoder_argument_errors_match(c_codec, py_codec, role, allowed, frame_size, message_size, chunked):
    c_result = outcome(c_codec.FrameDecoder, role, allowed_rsv=allowed, max_frame_size=frame_size, chunked=chunked)
    py_result = outcome(py_codec.FrameDecoder, role, allowed_rsv=allowed, max_frame_size=frame_size, chunked=chunked)
    assert c_result[0] == py_result[0]
    if c_result[0] == "raised":
        assert c_result == py_result
    c_result = outcome(c_codec.MessageDecoder, role, allowed_rsv=allowed, max_frame_size=frame_size,
                       max_message_size=message_size)
    py_result = outcome(py_codec.MessageDecoder, role, allowed_rsv=allowed, max_frame_size=frame_size,
                        max_message_size=message_size)
    assert c_result[0] == py_result[0]
    if c_result[0] == "raised":
        assert c_result == py_result


@given(payloads=st.lists(utf8_ish, min_size=1, max_size=4), empties=st.lists(st.booleans(), max_size=80))
def test_text_in_one_byte_fragments_with_empty_ones_between(c_codec, py_codec, payloads, empties):
    # Every character cut across fragments, and empty fragments anywhere: the
    # twin validates each piece as it comes and decodes the message once at
    # its end, as the C backend does. Fed a frame at a time, so both must
    # fail at the same fragment.
    from helpers import frame

    stream = b""
    boundaries = []
    spare = iter(empties)
    for payload in payloads:
        pieces = [payload[index : index + 1] for index in range(len(payload))] or [b""]
        for index, piece in enumerate(pieces):
            stream += frame(0 if index else 1, piece, fin=False)
            boundaries.append(len(stream))
            if next(spare, False):
                stream += frame(0, b"", fin=False)
                boundaries.append(len(stream))
        stream += frame(0, b"")
        boundaries.append(len(stream))
    c_result = run_decoder(c_codec.MessageDecoder(), stream, boundaries)
    assert c_result == run_decoder(py_codec.MessageDecoder(), stream, boundaries)
