# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""C backend: frame header parsing, frame encoding and payload masking.

The pure-Python twin ``_pyframe.py`` is the reference for behaviour: same
functions, same order of checks, same exceptions built by ``_errors``. Keep the
two in step; the conformance suite and the differential tests hold them to it.
"""

from cpython.buffer cimport (
    PyBUF_SIMPLE,
    PyBuffer_Release,
    PyObject_CheckBuffer,
    PyObject_GetBuffer,
)
from cpython.bytes cimport (
    PyBytes_AS_STRING,
    PyBytes_CheckExact,
    PyBytes_FromStringAndSize,
    PyBytes_GET_SIZE,
)
from cpython.number cimport PyNumber_AsSsize_t, PyNumber_Index
from libc.stdint cimport uint8_t, uint64_t
from libc.string cimport memcpy

from os import urandom

from wsframe import _errors
from wsframe._types import FrameHeader, Opcode, Role

cdef extern from "_mask.h" nogil:
    void wsframe_mask(const uint8_t *src, uint8_t *dst, size_t n, const uint8_t *key, size_t phase)

__all__ = ["MASK_KERNEL", "encode_frame", "encode_header", "mask", "mask_inplace", "parse_header"]

#: How this backend masks payloads; shown by ``python -m wsframe info``.
MASK_KERNEL = "portable C (64-bit words)"

# Opcode members by value; None marks a reserved opcode (RFC 6455 section 5.2).
cdef tuple _OPCODES = tuple(
    Opcode(v) if v in Opcode._value2member_map_ else None for v in range(16)
)
cdef object _ROLE_SERVER = Role.SERVER
cdef object _ROLE_CLIENT = Role.CLIENT
cdef object _FrameHeader = FrameHeader
cdef int _ALL_RSV = 0x70
cdef int _MAX_CONTROL_PAYLOAD_LENGTH = 125
cdef uint64_t _MAX_PAYLOAD_LENGTH = 0x7FFFFFFFFFFFFFFF


cdef int _acquire(object obj, Py_buffer *view, str function, str argument, bint writable) except -1:
    """Get a flat byte view of ``obj``, with the twin's errors for bad input."""
    if not PyObject_CheckBuffer(obj):
        raise _errors.not_a_buffer(function, argument, obj)
    try:
        PyObject_GetBuffer(obj, view, PyBUF_SIMPLE)
    except BufferError:
        raise _errors.not_contiguous(function, argument) from None
    if writable and view.readonly:
        PyBuffer_Release(view)
        raise _errors.not_writable(function, argument, obj)
    return 0


cdef bytes _mask_key(object key, str function, str argument):
    cdef Py_buffer view
    if PyBytes_CheckExact(key) and PyBytes_GET_SIZE(key) == 4:
        return <bytes>key
    _acquire(key, &view, function, argument, False)
    try:
        if view.len != 4:
            raise _errors.bad_mask_key_length(view.len)
        return PyBytes_FromStringAndSize(<char *>view.buf, 4)
    finally:
        PyBuffer_Release(&view)


def parse_header(data, offset=0, *, role=Role.SERVER, allowed_rsv=0, max_payload_length=None):
    cdef Py_ssize_t start = PyNumber_AsSsize_t(offset, OverflowError)
    cdef Py_ssize_t rsv_allowed = PyNumber_AsSsize_t(allowed_rsv, OverflowError)
    cdef bint reader_is_server
    cdef uint64_t limit = 0xFFFFFFFFFFFFFFFF
    cdef Py_buffer view
    cdef bint release = False
    cdef const uint8_t *p
    cdef Py_ssize_t size

    if role is _ROLE_SERVER:
        reader_is_server = True
    elif role is _ROLE_CLIENT:
        reader_is_server = False
    else:
        raise _errors.bad_role(role)
    if rsv_allowed & ~_ALL_RSV:
        raise _errors.bad_allowed_rsv(rsv_allowed)
    if max_payload_length is not None:
        max_payload_length = PyNumber_Index(max_payload_length)
        if max_payload_length < 0:
            raise _errors.negative_argument("parse_header", "max_payload_length", max_payload_length)
        if max_payload_length < 0xFFFFFFFFFFFFFFFF:
            limit = max_payload_length

    if PyBytes_CheckExact(data):
        p = <const uint8_t *>PyBytes_AS_STRING(data)
        size = PyBytes_GET_SIZE(data)
    else:
        _acquire(data, &view, "parse_header", "data", False)
        release = True
        p = <const uint8_t *>view.buf
        size = view.len
    try:
        if start < 0:
            raise _errors.negative_argument("parse_header", "offset", start)
        if start > size:
            raise _errors.offset_past_end(start, size)
        return _parse(p + start, size - start, reader_is_server, <int>rsv_allowed, limit, max_payload_length)
    finally:
        if release:
            PyBuffer_Release(&view)


cdef object _parse(const uint8_t *p, Py_ssize_t available, bint reader_is_server,
                   int allowed_rsv, uint64_t limit, object max_payload_length):
    cdef int first, second, opcode, rsv
    cdef bint fin, masked, is_control
    cdef uint64_t payload_length
    cdef Py_ssize_t header_length, i
    cdef object mask_key = None

    # Each check runs as soon as the bytes it needs are present, so a bad
    # header fails at its first byte instead of waiting for the rest.
    if available < 1:
        return None
    first = p[0]
    opcode = first & 0x0F
    opcode_member = _OPCODES[opcode]
    if opcode_member is None:
        raise _errors.reserved_opcode(opcode)
    rsv = first & _ALL_RSV
    if rsv & ~allowed_rsv:
        raise _errors.rsv_not_negotiated(rsv & ~allowed_rsv)
    fin = (first & 0x80) != 0
    is_control = (opcode & 0x8) != 0
    if is_control and not fin:
        raise _errors.fragmented_control_frame(opcode)

    if available < 2:
        return None
    second = p[1]
    masked = (second & 0x80) != 0
    if masked != reader_is_server:
        raise _errors.mask_bit_wrong(reader_is_server)
    payload_length = second & 0x7F
    if is_control and payload_length > <uint64_t>_MAX_CONTROL_PAYLOAD_LENGTH:
        raise _errors.control_frame_too_long(opcode)

    # RFC 6455 section 5.2: "the minimal number of bytes MUST be used to
    # encode the length", and a 64-bit length has its top bit clear.
    if payload_length < 126:
        header_length = 2
    elif payload_length == 126:
        if available < 4:
            return None
        payload_length = (<uint64_t>p[2] << 8) | p[3]
        if payload_length < 126:
            raise _errors.non_minimal_length_16(payload_length)
        header_length = 4
    else:
        if available < 10:
            return None
        payload_length = 0
        for i in range(2, 10):
            payload_length = (payload_length << 8) | p[i]
        if payload_length > _MAX_PAYLOAD_LENGTH:
            raise _errors.length_msb_set()
        if payload_length < 65536:
            raise _errors.non_minimal_length_64(payload_length)
        header_length = 10
    if payload_length > limit:
        raise _errors.frame_too_big(payload_length, max_payload_length)

    if masked:
        if available < header_length + 4:
            return None
        mask_key = PyBytes_FromStringAndSize(<const char *>p + header_length, 4)
        header_length += 4
    return tuple.__new__(
        _FrameHeader,
        (fin, (first & 0x40) != 0, (first & 0x20) != 0, (first & 0x10) != 0,
         opcode_member, masked, payload_length, mask_key, header_length),
    )


cdef int _opcode_arg(object opcode) except -1:
    cdef Py_ssize_t value = PyNumber_AsSsize_t(opcode, OverflowError)
    if value < 0 or value > 0xF or _OPCODES[value] is None:
        raise _errors.bad_opcode(value)
    return <int>value


cdef int _check_control(int opcode, bint fin, uint64_t payload_length) except -1:
    if opcode & 0x8:
        if not fin:
            raise _errors.fragmented_control_frame_arg(opcode)
        if payload_length > <uint64_t>_MAX_CONTROL_PAYLOAD_LENGTH:
            raise _errors.control_payload_too_long_arg(opcode, payload_length)
    return 0


cdef inline Py_ssize_t _header_length(uint64_t payload_length, bint masked) noexcept nogil:
    cdef Py_ssize_t length = 2 if payload_length < 126 else (4 if payload_length < 65536 else 10)
    return length + 4 if masked else length


cdef inline void _write_header(uint8_t *out, int first, uint64_t payload_length,
                               const uint8_t *key) noexcept nogil:
    """Write a header of ``_header_length(payload_length, key != NULL)`` bytes."""
    cdef uint8_t mask_bit = 0x80 if key != NULL else 0
    cdef int i
    out[0] = <uint8_t>first
    if payload_length < 126:
        out[1] = mask_bit | <uint8_t>payload_length
        out += 2
    elif payload_length < 65536:
        out[1] = mask_bit | 126
        out[2] = <uint8_t>(payload_length >> 8)
        out[3] = <uint8_t>payload_length
        out += 4
    else:
        out[1] = mask_bit | 127
        for i in range(8):
            out[2 + i] = <uint8_t>(payload_length >> (56 - 8 * i))
        out += 10
    if key != NULL:
        memcpy(out, key, 4)


cdef inline int _first_byte(int opcode, bint fin, bint rsv1, bint rsv2, bint rsv3) noexcept nogil:
    return (0x80 if fin else 0) | (0x40 if rsv1 else 0) | (0x20 if rsv2 else 0) | (0x10 if rsv3 else 0) | opcode


def encode_header(opcode, payload_length, *, bint fin=True, bint rsv1=False, bint rsv2=False,
                  bint rsv3=False, mask_key=None):
    cdef int op = _opcode_arg(opcode)
    cdef uint64_t length
    cdef bytes key = None
    cdef const uint8_t *key_ptr = NULL
    payload_length = PyNumber_Index(payload_length)
    if payload_length < 0 or payload_length > 0x7FFFFFFFFFFFFFFF:
        raise _errors.bad_payload_length(payload_length)
    length = payload_length
    _check_control(op, fin, length)
    if mask_key is not None:
        key = _mask_key(mask_key, "encode_header", "mask_key")
        key_ptr = <const uint8_t *>PyBytes_AS_STRING(key)
    out = PyBytes_FromStringAndSize(NULL, _header_length(length, key_ptr != NULL))
    _write_header(<uint8_t *>PyBytes_AS_STRING(out), _first_byte(op, fin, rsv1, rsv2, rsv3), length, key_ptr)
    return out


def encode_frame(opcode, payload, *, bint fin=True, bint rsv1=False, bint rsv2=False,
                 bint rsv3=False, mask=False):
    cdef int op = _opcode_arg(opcode)
    cdef Py_buffer view
    cdef bytes key = None
    cdef const uint8_t *key_ptr = NULL
    cdef Py_ssize_t header_length
    cdef uint8_t *out_ptr
    _acquire(payload, &view, "encode_frame", "payload", False)
    try:
        _check_control(op, fin, <uint64_t>view.len)
        if mask is False or mask is None:
            pass
        elif mask is True:
            # RFC 6455 section 5.3: a fresh, unpredictable key for every frame.
            key = urandom(4)
        else:
            key = _mask_key(mask, "encode_frame", "mask")
        if key is not None:
            key_ptr = <const uint8_t *>PyBytes_AS_STRING(key)
        header_length = _header_length(<uint64_t>view.len, key_ptr != NULL)
        out = PyBytes_FromStringAndSize(NULL, header_length + view.len)
        out_ptr = <uint8_t *>PyBytes_AS_STRING(out)
        _write_header(out_ptr, _first_byte(op, fin, rsv1, rsv2, rsv3), <uint64_t>view.len, key_ptr)
        if key_ptr != NULL:
            wsframe_mask(<const uint8_t *>view.buf, out_ptr + header_length, <size_t>view.len, key_ptr, 0)
        elif view.len:
            memcpy(out_ptr + header_length, view.buf, <size_t>view.len)
        return out
    finally:
        PyBuffer_Release(&view)


def mask(data, key, offset=0):
    cdef Py_ssize_t phase = PyNumber_AsSsize_t(offset, OverflowError)
    cdef Py_buffer view
    cdef bytes key_bytes
    _acquire(data, &view, "mask", "data", False)
    try:
        key_bytes = _mask_key(key, "mask", "key")
        if phase < 0:
            raise _errors.negative_argument("mask", "offset", phase)
        out = PyBytes_FromStringAndSize(NULL, view.len)
        wsframe_mask(<const uint8_t *>view.buf, <uint8_t *>PyBytes_AS_STRING(out), <size_t>view.len,
                     <const uint8_t *>PyBytes_AS_STRING(key_bytes), <size_t>(phase & 3))
        return out
    finally:
        PyBuffer_Release(&view)


def mask_inplace(buffer, key, offset=0):
    cdef Py_ssize_t phase = PyNumber_AsSsize_t(offset, OverflowError)
    cdef Py_buffer view
    cdef bytes key_bytes
    _acquire(buffer, &view, "mask_inplace", "buffer", True)
    try:
        key_bytes = _mask_key(key, "mask_inplace", "key")
        if phase < 0:
            raise _errors.negative_argument("mask_inplace", "offset", phase)
        wsframe_mask(<const uint8_t *>view.buf, <uint8_t *>view.buf, <size_t>view.len,
                     <const uint8_t *>PyBytes_AS_STRING(key_bytes), <size_t>(phase & 3))
        return ((phase & 3) + view.len) & 3
    finally:
        PyBuffer_Release(&view)
