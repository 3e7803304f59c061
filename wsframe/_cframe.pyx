# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
# cython: freethreading_compatible=True
"""C backend: frame header parsing, frame encoding and payload masking.

The pure-Python twin ``_pyframe.py`` is the reference for behaviour: same
functions, same order of checks, same exceptions built by ``_errors``. Keep the
two in step; the conformance suite and the differential tests hold them to it.
"""

cimport cython
from cpython.buffer cimport (
    PyBUF_SIMPLE,
    PyBuffer_Release,
    PyObject_CheckBuffer,
    PyObject_GetBuffer,
)
from cpython.bytearray cimport PyByteArray_AS_STRING, PyByteArray_CheckExact, PyByteArray_GET_SIZE
from cpython.bytes cimport (
    _PyBytes_Resize,
    PyBytes_AS_STRING,
    PyBytes_CheckExact,
    PyBytes_FromStringAndSize,
    PyBytes_GET_SIZE,
)
from cpython.list cimport PyList_GET_SIZE
from cpython.mem cimport PyMem_Free, PyMem_Realloc
from cpython.number cimport PyNumber_Index
from cpython.object cimport PyObject, PyTypeObject
from cpython.ref cimport Py_INCREF, Py_XDECREF
from libc.stdint cimport uint8_t, uint16_t, uint32_t, uint64_t
from libc.string cimport memcpy

from os import register_at_fork, urandom

from wsframe import _errors
from wsframe._close import parse_close_payload
from wsframe._deflate import inflater_for
from wsframe._events import BinaryMessage, Frame, Ping, Pong, TextMessage
from wsframe._types import DEFAULT_MAX_SIZE, FrameHeader, Opcode, Role

from wsframe._rfc6455 cimport (
    ALL_RSV,
    CONTROL_BIT,
    FIN,
    LENGTH_16,
    LENGTH_64,
    MASK_BIT,
    MASK_KEY_LENGTH,
    MAX_CONTROL_PAYLOAD_LENGTH,
    MAX_HEADER_LENGTH,
    MAX_LENGTH_7,
    MAX_LENGTH_16,
    MAX_PAYLOAD_LENGTH,
    OP_BINARY,
    OP_CLOSE,
    OP_CONTINUATION,
    OP_PING,
    OP_PONG,
    OP_TEXT,
    OPCODE_BITS,
    PAYLOAD_LENGTH_BITS,
    RSV1,
    RSV2,
    RSV3,
    header_length,
)
from wsframe._kernels cimport (
    PyUnicode_DATA,
    PyUnicode_New,
    WSFRAME_MASK_KERNEL_COUNT,
    WSFRAME_UTF8_KERNEL_COUNT,
    wsframe_key_stream,
    wsframe_mask_fn,
    wsframe_mask_kernel_supported,
    wsframe_mask_kernels,
    wsframe_mask_select,
    wsframe_mask_tail,
    wsframe_utf8_complete,
    wsframe_utf8_decode_ucs1,
    wsframe_utf8_decode_ucs2,
    wsframe_utf8_decode_ucs4,
    wsframe_utf8_kernel,
    wsframe_utf8_kernel_supported,
    wsframe_utf8_kernels,
    wsframe_utf8_reset,
    wsframe_utf8_select,
    wsframe_utf8_state,
    wsframe_utf8_validate,
)

cdef extern from "_keypool.h" nogil:
    ctypedef struct wsframe_key_pool:
        uint8_t bytes[4096]
        size_t position
    wsframe_key_pool *wsframe_key_pool_get()
    size_t WSFRAME_KEY_POOL_SIZE

cdef extern from *:
    """
    #ifdef Py_GIL_DISABLED
    #define WSFRAME_FREE_THREADED 1
    #else
    #define WSFRAME_FREE_THREADED 0
    #endif
    """
    # A compile-time constant: whether this build runs without the GIL.
    const bint WSFRAME_FREE_THREADED

cdef extern from "Python.h":
    Py_ssize_t PY_SSIZE_T_MAX

__all__ = [
    "MASK_KERNEL",
    "UTF8_KERNEL",
    "FrameDecoder",
    "MessageDecoder",
    "encode_frame",
    "encode_header",
    "mask",
    "mask_inplace",
    "parse_header",
]

# The masking kernel: the widest this CPU runs, chosen once at import and
# never changed, so threads share nothing mutable.
cdef size_t _mask_kernel_index = wsframe_mask_select()
cdef wsframe_mask_fn _mask_kernel = wsframe_mask_kernels[_mask_kernel_index].function


cdef inline void wsframe_mask(const uint8_t *src, uint8_t *dst, size_t n, const uint8_t *key,
                              size_t phase) noexcept nogil:
    # Below 32 bytes the word loop, inlined, beats a call into a SIMD kernel
    # (16 B in place: 3.5 ns less per call, measured).
    cdef uint8_t stream[8]
    if n < 32:
        wsframe_key_stream(key, phase, stream)
        wsframe_mask_tail(src, dst, 0, n, stream)
    else:
        _mask_kernel(src, dst, n, key, phase)

#: How this backend masks payloads; shown by ``python -m wsframe info``.
MASK_KERNEL = "C, " + wsframe_mask_kernels[_mask_kernel_index].name.decode() + " (of " + ", ".join(
    [wsframe_mask_kernels[i].name.decode() for i in range(WSFRAME_MASK_KERNEL_COUNT)
     if wsframe_mask_kernel_supported(i)]) + " on this CPU)"

# From this many bytes on, mask() and mask_inplace() let other threads run
# while they work. Releasing and retaking the GIL costs about 35 ns (measured
# on an AVX-512 EPYC: 278 ns in place at 16,383 bytes holding it, 312 ns at
# 16,384 releasing it), 6% of a 32 KiB call, 3% of 64 KiB, 1.4% of 128 KiB.
# Below 128 KiB a call holds the GIL for under 3 us, and with it a 64 KiB
# copying mask is faster than bytes() of the same bytearray (1.23 vs 1.26 us;
# releasing at 32 KiB made it 1.3% slower).
cdef Py_ssize_t _NOGIL_THRESHOLD = 131072


# The UTF-8 kernels (validation, and sizing a str): the widest this CPU runs.
cdef const wsframe_utf8_kernel *_utf8_kernel = &wsframe_utf8_kernels[wsframe_utf8_select()]

#: How this backend validates and decodes UTF-8; shown by ``python -m wsframe info``.
UTF8_KERNEL = "C, " + _utf8_kernel.name.decode() + " (of " + ", ".join(
    [wsframe_utf8_kernels[i].name.decode() for i in range(WSFRAME_UTF8_KERNEL_COUNT)
     if wsframe_utf8_kernel_supported(i)]) + " on this CPU)"


cdef str _utf8_text(const uint8_t *p, size_t length, const wsframe_utf8_kernel *kernel, bint validated):
    """The str of ``length`` bytes of UTF-8 at ``p``, validated unless it
    already was (whole: every byte and a complete last sequence).

    Built in place: one pass sizes it (characters, and the widest class,
    which fixes the str's storage), one writes the code points. CPython's
    decoder would validate again and, for text that mixes widths, start
    narrow and convert as wider characters turn up."""
    cdef uint32_t max_char
    cdef size_t count
    cdef void *data
    if length == 0:
        return ""  # an empty message may have no buffer at all (p may be NULL)
    # Measured first (it reads any bytes safely): text that is all ASCII is
    # valid as it stands and needs no validation pass.
    count = kernel.measure(p, length, &max_char)
    if max_char != 0x7F and not validated and not kernel.validate(p, length):
        raise _errors.invalid_utf8("text message")
    text = PyUnicode_New(<Py_ssize_t>count, <Py_UCS4>max_char)
    data = PyUnicode_DATA(text)
    if max_char == 0x7F:
        memcpy(data, p, length)
    elif max_char == 0xFF:
        wsframe_utf8_decode_ucs1(p, length, <uint8_t *>data)
    elif max_char == 0xFFFF:
        wsframe_utf8_decode_ucs2(p, length, <uint16_t *>data)
    else:
        wsframe_utf8_decode_ucs4(p, length, <uint32_t *>data)
    return text


def _utf8_kernels():
    """Test hook: (name, runs on this CPU) for every UTF-8 kernel compiled in."""
    return tuple((wsframe_utf8_kernels[i].name.decode(), bool(wsframe_utf8_kernel_supported(i)))
                 for i in range(WSFRAME_UTF8_KERNEL_COUNT))


def _utf8_with(str kernel, const uint8_t[::1] data, cuts=()):
    """Test hook: UTF-8 through the named kernel, which must run on this CPU.

    Validates ``data`` fed in pieces cut at the offsets ``cuts`` and returns
    (the index of the piece that failed, or -1; whether the stream ended
    complete; the str built without validating again, or None), plus the str
    that the one-call path (validate, then build) gives, or None if it refused."""
    cdef size_t i, start = 0, end
    cdef const uint8_t *p = &data[0] if data.shape[0] else <const uint8_t *>b""
    cdef wsframe_utf8_state state
    cdef const wsframe_utf8_kernel *chosen = NULL
    for i in range(WSFRAME_UTF8_KERNEL_COUNT):
        if wsframe_utf8_kernels[i].name.decode() == kernel and wsframe_utf8_kernel_supported(i):
            chosen = &wsframe_utf8_kernels[i]
    if chosen == NULL:
        raise ValueError(f"no UTF-8 kernel {kernel!r} runs here")
    wsframe_utf8_reset(&state)
    failed = -1
    for piece, cut in enumerate(list(cuts) + [data.shape[0]]):
        end = cut
        if end < start or end > <size_t>data.shape[0]:
            raise ValueError("cuts must ascend within the data")
        if not wsframe_utf8_validate(chosen.validate, &state, p + start, end - start):
            failed = piece
            break
        start = end
    complete = failed == -1 and bool(wsframe_utf8_complete(&state))
    streamed = _utf8_text(p, data.shape[0], chosen, True) if complete else None
    try:
        whole = _utf8_text(p, data.shape[0], chosen, False)
    except _errors.InvalidUTF8:
        whole = None
    return failed, complete, streamed, whole


def _mask_kernels():
    """Test hook: (name, runs on this CPU) for every kernel compiled in."""
    return tuple((wsframe_mask_kernels[i].name.decode(), bool(wsframe_mask_kernel_supported(i)))
                 for i in range(WSFRAME_MASK_KERNEL_COUNT))


def _mask_with(str kernel, const uint8_t[::1] data, bytes key, Py_ssize_t phase, Py_ssize_t shift=0):
    """Test hook: mask ``data`` with the named kernel, which must run on this
    CPU, into a buffer ``shift`` (0-63) bytes further along than it would be."""
    cdef size_t i
    cdef bytearray out
    for i in range(WSFRAME_MASK_KERNEL_COUNT):
        if wsframe_mask_kernels[i].name.decode() == kernel and wsframe_mask_kernel_supported(i):
            if len(key) != 4 or phase < 0 or not 0 <= shift < 64:
                raise ValueError("a 4-byte key, a non-negative phase and a shift of 0-63")
            out = bytearray(data.shape[0] + 64)
            if data.shape[0]:
                wsframe_mask_kernels[i].function(&data[0], <uint8_t *>PyByteArray_AS_STRING(out) + shift,
                                                 <size_t>data.shape[0], <const uint8_t *>PyBytes_AS_STRING(key),
                                                 <size_t>(phase & 3))
            return bytes(out[shift : shift + data.shape[0]])
    raise ValueError(f"no kernel {kernel!r} runs here")

# Opcode members by value; None marks a reserved opcode (RFC 6455 section 5.2).
cdef tuple _OPCODES = tuple(
    Opcode(v) if v in Opcode._value2member_map_ else None for v in range(16)
)
cdef object _ROLE_SERVER = Role.SERVER
cdef object _ROLE_CLIENT = Role.CLIENT
cdef object _FrameHeader = FrameHeader


cdef extern from "Python.h":
    PyTypeObject PyTuple_Type
    void PyObject_GC_UnTrack(void *op)


cdef inline object _record(object cls, tuple items):
    """``cls(*items)`` for the NamedTuple ``cls``, built by tuple's own constructor.

    Equivalent to ``tuple.__new__(cls, items)``, which Cython compiles into a
    method lookup and call that cost more than the rest of decoding a small
    frame (measured with callgrind)."""
    cdef tuple args = (items,)
    record = PyTuple_Type.tp_new(cls, <PyObject *>args, NULL)
    # A record holds only objects made before it (bytes, str, ints, bools,
    # None, Opcode members), so it can never be part of a reference cycle:
    # keep it out of the cyclic GC, as CPython does for such plain tuples.
    PyObject_GC_UnTrack(<void *>record)
    return record


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


cdef bint _read_view(object data, Py_buffer *view, const uint8_t **p, Py_ssize_t *size,
                     str function) except -1:
    """Point ``p`` and ``size`` at ``data``'s bytes. Returns True when ``view``
    was acquired and must be released; exact bytes are read directly."""
    if PyBytes_CheckExact(data):
        p[0] = <const uint8_t *>PyBytes_AS_STRING(data)
        size[0] = PyBytes_GET_SIZE(data)
        return False
    _acquire(data, view, function, "data", False)
    p[0] = <const uint8_t *>view.buf
    size[0] = view.len
    return True


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


cdef struct _Header:
    int first          # the first header byte: FIN, RSV1-3, opcode
    int opcode
    bint masked
    uint64_t payload_length
    Py_ssize_t header_length
    uint8_t mask_key[4]


cdef bint _reader_is_server(object role) except -1:
    if role is _ROLE_SERVER:
        return True
    if role is _ROLE_CLIENT:
        return False
    raise _errors.bad_role(role)


cdef int _allowed_rsv_arg(object allowed_rsv) except -1:
    cdef Py_ssize_t value = allowed_rsv
    if value & ~ALL_RSV:
        raise _errors.bad_allowed_rsv(value)
    return <int>value


cdef object _limit_arg(object value, str function, str argument, uint64_t *limit):
    """Check a size limit; store it in ``limit`` (no limit: UINT64_MAX); return it as an int or None."""
    limit[0] = 0xFFFFFFFFFFFFFFFF
    if value is None:
        return None
    value = PyNumber_Index(value)
    if value < 0:
        raise _errors.negative_argument(function, argument, value)
    if value < 0xFFFFFFFFFFFFFFFF:
        limit[0] = value
    return value


def parse_header(data, Py_ssize_t offset=0, *, role=Role.SERVER, Py_ssize_t allowed_rsv=0,
                 max_payload_length=None):
    cdef Py_ssize_t start = offset
    cdef Py_ssize_t rsv_allowed = allowed_rsv
    cdef bint reader_is_server = _reader_is_server(role)
    cdef uint64_t limit
    cdef Py_buffer view
    cdef bint release
    cdef const uint8_t *p
    cdef Py_ssize_t size
    cdef _Header header

    if rsv_allowed & ~ALL_RSV:
        raise _errors.bad_allowed_rsv(rsv_allowed)
    max_payload_length = _limit_arg(max_payload_length, "parse_header", "max_payload_length", &limit)
    release = _read_view(data, &view, &p, &size, "parse_header")
    try:
        if start < 0:
            raise _errors.negative_argument("parse_header", "offset", start)
        if start > size:
            raise _errors.offset_past_end(start, size)
        if not _parse(p + start, size - start, reader_is_server, <int>rsv_allowed, limit,
                      max_payload_length, &header):
            return None
    finally:
        if release:
            PyBuffer_Release(&view)
    first = header.first
    return _record(_FrameHeader,
        ((first & FIN) != 0, (first & RSV1) != 0, (first & RSV2) != 0, (first & RSV3) != 0,
         _OPCODES[header.opcode], header.masked, header.payload_length,
         PyBytes_FromStringAndSize(<char *>header.mask_key, 4) if header.masked else None,
         header.header_length),
    )


cdef int _parse(const uint8_t *p, Py_ssize_t available, bint reader_is_server, int allowed_rsv,
                uint64_t limit, object max_payload_length, _Header *header) except -1:
    """Parse one header into ``header``: 1 when whole, 0 when more bytes are needed."""
    cdef int first, second, opcode, rsv
    cdef bint fin, masked, is_control
    cdef uint64_t payload_length
    cdef Py_ssize_t length_end, i   # where the length field ends

    # Each check runs as soon as the bytes it needs are present, so a bad
    # header fails at its first byte instead of waiting for the rest.
    if available < 1:
        return 0
    first = p[0]
    opcode = first & OPCODE_BITS
    if _OPCODES[opcode] is None:
        raise _errors.reserved_opcode(opcode)
    rsv = first & ALL_RSV
    if rsv & ~allowed_rsv:
        raise _errors.rsv_not_negotiated(rsv & ~allowed_rsv)
    fin = (first & FIN) != 0
    is_control = (opcode & CONTROL_BIT) != 0
    if is_control and not fin:
        raise _errors.fragmented_control_frame(opcode)

    if available < 2:
        return 0
    second = p[1]
    masked = (second & MASK_BIT) != 0
    if masked != reader_is_server:
        raise _errors.mask_bit_wrong(reader_is_server)
    payload_length = second & PAYLOAD_LENGTH_BITS
    if is_control and payload_length > <uint64_t>MAX_CONTROL_PAYLOAD_LENGTH:
        raise _errors.control_frame_too_long(opcode)

    # RFC 6455 section 5.2: "the minimal number of bytes MUST be used to
    # encode the length", and a 64-bit length has its top bit clear.
    if payload_length <= MAX_LENGTH_7:
        length_end = 2
    elif payload_length == LENGTH_16:
        if available < 4:
            return 0
        payload_length = (<uint64_t>p[2] << 8) | p[3]
        if payload_length <= MAX_LENGTH_7:
            raise _errors.non_minimal_length_16(payload_length)
        length_end = 4
    else:
        if available < 10:
            return 0
        payload_length = 0
        for i in range(2, 10):
            payload_length = (payload_length << 8) | p[i]
        if payload_length > MAX_PAYLOAD_LENGTH:
            raise _errors.length_msb_set()
        if payload_length <= MAX_LENGTH_16:
            raise _errors.non_minimal_length_64(payload_length)
        length_end = 10
    if payload_length > limit:
        raise _errors.frame_too_big(payload_length, max_payload_length)

    if masked:
        if available < length_end + MASK_KEY_LENGTH:
            return 0
        memcpy(header.mask_key, p + length_end, MASK_KEY_LENGTH)
        length_end += MASK_KEY_LENGTH
    header.first = first
    header.opcode = opcode
    header.masked = masked
    header.payload_length = payload_length
    header.header_length = length_end
    return 1


# Masking keys for encode_frame(mask=True): a per-thread pool of CSPRNG bytes
# (_keypool.h), each byte used once; after fork() the child drops the pool it
# inherited, so it never repeats its parent's keys.
cdef int _next_mask_key(uint8_t *key) except -1:
    cdef wsframe_key_pool *pool = wsframe_key_pool_get()
    if pool.position > WSFRAME_KEY_POOL_SIZE - 4:
        fresh = urandom(WSFRAME_KEY_POOL_SIZE)
        memcpy(pool.bytes, PyBytes_AS_STRING(fresh), WSFRAME_KEY_POOL_SIZE)
        pool.position = 0
    memcpy(key, pool.bytes + pool.position, 4)
    pool.position += 4
    return 0


def _discard_key_pool():
    """Forget the keys not used yet, so a forked child never repeats its parent's."""
    wsframe_key_pool_get().position = WSFRAME_KEY_POOL_SIZE


register_at_fork(after_in_child=_discard_key_pool)


cdef int _opcode_arg(object opcode) except -1:
    cdef Py_ssize_t value = opcode
    if value < 0 or value > 0xF or _OPCODES[value] is None:
        raise _errors.bad_opcode(value)
    return <int>value


cdef int _check_control(int opcode, bint fin, uint64_t payload_length) except -1:
    if opcode & CONTROL_BIT:
        if not fin:
            raise _errors.fragmented_control_frame_arg(opcode)
        if payload_length > <uint64_t>MAX_CONTROL_PAYLOAD_LENGTH:
            raise _errors.control_payload_too_long_arg(opcode, payload_length)
    return 0


cdef inline void _write_header(uint8_t *out, int first, uint64_t payload_length,
                               const uint8_t *key) noexcept nogil:
    """Write a header of ``header_length(payload_length, key != NULL)`` bytes."""
    cdef uint8_t mask_bit = MASK_BIT if key != NULL else 0
    cdef int i
    out[0] = <uint8_t>first
    if payload_length <= MAX_LENGTH_7:
        out[1] = mask_bit | <uint8_t>payload_length
        out += 2
    elif payload_length <= MAX_LENGTH_16:
        out[1] = mask_bit | LENGTH_16
        out[2] = <uint8_t>(payload_length >> 8)
        out[3] = <uint8_t>payload_length
        out += 4
    else:
        out[1] = mask_bit | LENGTH_64
        for i in range(8):
            out[2 + i] = <uint8_t>(payload_length >> (56 - 8 * i))
        out += 10
    if key != NULL:
        memcpy(out, key, MASK_KEY_LENGTH)


cdef inline int _first_byte(int opcode, bint fin, bint rsv1, bint rsv2, bint rsv3) noexcept nogil:
    return (FIN if fin else 0) | (RSV1 if rsv1 else 0) | (RSV2 if rsv2 else 0) | (RSV3 if rsv3 else 0) | opcode


def encode_header(opcode, payload_length, *, bint fin=True, bint rsv1=False, bint rsv2=False,
                  bint rsv3=False, mask_key=None):
    cdef int op = _opcode_arg(opcode)
    cdef uint64_t length
    cdef bytes key = None
    cdef const uint8_t *key_ptr = NULL
    payload_length = PyNumber_Index(payload_length)
    if payload_length < 0 or payload_length > MAX_PAYLOAD_LENGTH:
        raise _errors.bad_payload_length(payload_length)
    length = payload_length
    _check_control(op, fin, length)
    if mask_key is not None:
        key = _mask_key(mask_key, "encode_header", "mask_key")
        key_ptr = <const uint8_t *>PyBytes_AS_STRING(key)
    out = PyBytes_FromStringAndSize(NULL, header_length(length, key_ptr != NULL))
    _write_header(<uint8_t *>PyBytes_AS_STRING(out), _first_byte(op, fin, rsv1, rsv2, rsv3), length, key_ptr)
    return out


def encode_frame(opcode, payload, *, bint fin=True, bint rsv1=False, bint rsv2=False,
                 bint rsv3=False, mask=False):
    cdef int op = _opcode_arg(opcode)
    cdef Py_buffer view
    cdef bytes key = None
    cdef const uint8_t *key_ptr = NULL
    cdef Py_ssize_t head_length
    cdef uint8_t *out_ptr
    cdef uint8_t fresh_key[4]
    _acquire(payload, &view, "encode_frame", "payload", False)
    try:
        _check_control(op, fin, <uint64_t>view.len)
        if mask is False or mask is None:
            pass
        elif mask is True:
            # RFC 6455 section 5.3: a fresh, unpredictable key for every frame.
            _next_mask_key(fresh_key)
            key_ptr = fresh_key
        else:
            key = _mask_key(mask, "encode_frame", "mask")
        if key is not None:
            key_ptr = <const uint8_t *>PyBytes_AS_STRING(key)
        head_length = header_length(<uint64_t>view.len, key_ptr != NULL)
        out = PyBytes_FromStringAndSize(NULL, head_length + view.len)
        out_ptr = <uint8_t *>PyBytes_AS_STRING(out)
        _write_header(out_ptr, _first_byte(op, fin, rsv1, rsv2, rsv3), <uint64_t>view.len, key_ptr)
        if key_ptr != NULL:
            wsframe_mask(<const uint8_t *>view.buf, out_ptr + head_length, <size_t>view.len, key_ptr, 0)
        elif view.len:
            memcpy(out_ptr + head_length, view.buf, <size_t>view.len)
        return out
    finally:
        PyBuffer_Release(&view)


cdef inline void _mask_buffer(const uint8_t *source, uint8_t *target, Py_ssize_t length, const uint8_t *key,
                              size_t phase) noexcept:
    """Mask a buffer that cannot move or shrink meanwhile (exported by the
    caller, or an immutable bytes object), without the GIL when it is large."""
    if length >= _NOGIL_THRESHOLD:
        with nogil:
            wsframe_mask(source, target, <size_t>length, key, phase)
    else:
        wsframe_mask(source, target, <size_t>length, key, phase)


def mask(data, key, Py_ssize_t offset=0):
    cdef Py_ssize_t phase = offset
    cdef Py_buffer view
    cdef bytes key_bytes
    cdef Py_ssize_t length
    if PyBytes_CheckExact(key) and PyBytes_GET_SIZE(key) == 4 and phase >= 0:
        # The common calls, valid as given, need no buffer export: bytes
        # cannot change, and with the GIL a small bytearray cannot be resized
        # while it is held (larger ones are exported below, as the GIL is
        # released). Without the GIL another thread's extend() or del could
        # free the buffer mid-mask, so there every bytearray is exported
        # below: resizing it then raises BufferError until the mask is done.
        if PyBytes_CheckExact(data):
            length = PyBytes_GET_SIZE(data)
            out = PyBytes_FromStringAndSize(NULL, length)
            _mask_buffer(<const uint8_t *>PyBytes_AS_STRING(data), <uint8_t *>PyBytes_AS_STRING(out), length,
                         <const uint8_t *>PyBytes_AS_STRING(key), <size_t>(phase & 3))
            return out
        if (not WSFRAME_FREE_THREADED and PyByteArray_CheckExact(data)
                and PyByteArray_GET_SIZE(data) < _NOGIL_THRESHOLD):
            length = PyByteArray_GET_SIZE(data)
            out = PyBytes_FromStringAndSize(NULL, length)
            if length:
                wsframe_mask(<const uint8_t *>PyByteArray_AS_STRING(data), <uint8_t *>PyBytes_AS_STRING(out),
                             <size_t>length, <const uint8_t *>PyBytes_AS_STRING(key), <size_t>(phase & 3))
            return out
    _acquire(data, &view, "mask", "data", False)
    try:
        key_bytes = _mask_key(key, "mask", "key")
        if phase < 0:
            raise _errors.negative_argument("mask", "offset", phase)
        out = PyBytes_FromStringAndSize(NULL, view.len)
        _mask_buffer(<const uint8_t *>view.buf, <uint8_t *>PyBytes_AS_STRING(out), view.len,
                     <const uint8_t *>PyBytes_AS_STRING(key_bytes), <size_t>(phase & 3))
        return out
    finally:
        PyBuffer_Release(&view)


def mask_inplace(buffer, key, Py_ssize_t offset=0):
    cdef Py_ssize_t phase = offset
    cdef Py_buffer view
    cdef bytes key_bytes
    cdef Py_ssize_t length
    if (not WSFRAME_FREE_THREADED and PyByteArray_CheckExact(buffer) and PyBytes_CheckExact(key)
            and PyBytes_GET_SIZE(key) == 4 and phase >= 0 and PyByteArray_GET_SIZE(buffer) < _NOGIL_THRESHOLD):
        # A small bytearray, masked while the GIL is held: nothing can resize
        # it meanwhile, so no buffer export is needed. Larger ones are
        # exported below, which pins them while the GIL is released; so is
        # every bytearray on a free-threaded build, where no GIL is held.
        length = PyByteArray_GET_SIZE(buffer)
        if length:
            wsframe_mask(<const uint8_t *>PyByteArray_AS_STRING(buffer), <uint8_t *>PyByteArray_AS_STRING(buffer),
                         <size_t>length, <const uint8_t *>PyBytes_AS_STRING(key), <size_t>(phase & 3))
        return ((phase & 3) + length) & 3
    _acquire(buffer, &view, "mask_inplace", "buffer", True)
    try:
        key_bytes = _mask_key(key, "mask_inplace", "key")
        if phase < 0:
            raise _errors.negative_argument("mask_inplace", "offset", phase)
        _mask_buffer(<const uint8_t *>view.buf, <uint8_t *>view.buf, view.len,
                     <const uint8_t *>PyBytes_AS_STRING(key_bytes), <size_t>(phase & 3))
        return ((phase & 3) + view.len) & 3
    finally:
        PyBuffer_Release(&view)


# --- streaming decoders -------------------------------------------------------

cdef object _Frame = Frame
cdef object _TextMessage = TextMessage
cdef object _BinaryMessage = BinaryMessage
cdef object _Ping = Ping
cdef object _Pong = Pong

# A buffer keeps its memory between frames up to this size; a larger one is
# freed once its frame or message is delivered, so an idle connection does not
# hold on to the memory of its largest message.
cdef size_t _KEEP_CAPACITY = 65536


cdef struct _Buffer:
    uint8_t *data
    size_t length
    size_t capacity


cdef inline size_t _grown_capacity(size_t capacity, size_t needed, size_t frame_end) noexcept nogil:
    """A buffer's next capacity: double (at least ``needed``), so it grows
    with the payload that actually arrived, never by what a header claims;
    but no more than ``frame_end`` (0: not known), the size it will have when
    the frame in progress ends, if it stops growing there. Overshooting that
    costs a shrink at the end and, for a 1 MiB message, a 2 MiB block, which
    made glibc give the memory back to the kernel after every message and
    fault it in again: 1.2 GB/s instead of 13 GB/s for a stream of 1 MiB
    messages in a fresh process (measured)."""
    capacity = capacity * 2 if capacity else 256
    if capacity < needed:
        capacity = needed
    if needed <= frame_end < capacity:
        capacity = frame_end
    return capacity


cdef int _reserve(_Buffer *buffer, size_t extra, size_t frame_end) except -1:
    """Room for ``extra`` more bytes in ``buffer``; see _grown_capacity."""
    cdef size_t needed = buffer.length + extra
    cdef size_t capacity
    cdef uint8_t *data
    if needed <= buffer.capacity:
        return 0
    capacity = _grown_capacity(buffer.capacity, needed, frame_end)
    data = <uint8_t *>PyMem_Realloc(buffer.data, capacity)
    if data == NULL:
        raise MemoryError()
    buffer.data = data
    buffer.capacity = capacity
    return 0


cdef inline void _clear(_Buffer *buffer) noexcept:
    buffer.length = 0
    if buffer.capacity > _KEEP_CAPACITY:
        PyMem_Free(buffer.data)
        buffer.data = NULL
        buffer.capacity = 0


# max_events=None: as many events as the data completes.
cdef Py_ssize_t _NO_EVENT_LIMIT = PY_SSIZE_T_MAX


cdef Py_ssize_t _max_events_arg(object value) except -1:
    cdef Py_ssize_t count
    if value is None:
        return _NO_EVENT_LIMIT
    count = value
    if count < 1:
        raise _errors.bad_max_events(count)
    return count


cdef class _Reader:
    """The frame layer's state machine, shared by both decoders.

    ``feed`` walks the bytes: a header (kept in ``_partial`` while incomplete,
    at most 14 bytes), then its payload, handed to ``_on_payload`` piece by
    piece as it arrives, still masked. Nothing else is kept, so memory never
    grows with a length the peer only claimed. A close frame ends the
    stream: what follows it is counted, not parsed.
    """

    cdef bint _reader_is_server
    cdef int _allowed_rsv
    cdef uint64_t _frame_limit
    cdef object _max_frame_size
    cdef uint8_t _partial[MAX_HEADER_LENGTH]
    cdef Py_ssize_t _partial_length
    cdef bint _in_payload
    cdef _Header _header
    cdef uint64_t _received
    cdef object _error
    cdef list _events
    cdef bint _feeding              # a feed() is running (a guard against concurrent use)
    cdef bint _closed               # a close frame ended the stream
    cdef uint64_t _bytes_after_close
    cdef _Buffer _held              # bytes kept back, undecoded, once a feed() reached max_events
    cdef Py_ssize_t _max_events     # of the feed() running

    # Free-threaded CPython: these two may be read while another thread feeds,
    # so they are written and read in critical sections on the decoder.

    @property
    def closed(self):
        """Whether a close frame has ended the stream (RFC 6455 section 5.5.1)."""
        with cython.critical_section(self):
            return self._closed

    @property
    def bytes_after_close(self):
        """How many bytes arrived after the close frame and were discarded."""
        with cython.critical_section(self):
            return self._bytes_after_close

    cdef void _discard_after_close(self, Py_ssize_t length) noexcept:
        with cython.critical_section(self):
            self._closed = True
            self._bytes_after_close += <uint64_t>length

    cdef int _init_reader(self, str function, object role, object allowed_rsv,
                          object max_frame_size) except -1:
        self._reader_is_server = _reader_is_server(role)
        self._allowed_rsv = _allowed_rsv_arg(allowed_rsv)
        self._max_frame_size = _limit_arg(max_frame_size, function, "max_frame_size", &self._frame_limit)
        return 0

    @property
    def undecoded(self):
        """How many bytes ``feed()`` kept back undecoded when it reached ``max_events``."""
        return self._held.length

    def __dealloc__(self):
        PyMem_Free(self._held.data)

    def feed(self, data, max_events=None):
        cdef Py_buffer view
        cdef bint release
        cdef const uint8_t *p
        cdef Py_ssize_t size
        cdef bint busy
        cdef _Buffer joined
        # feed() calls back into Python (events, errors, the inflater), where
        # another thread may call feed() on this decoder: refuse it, or the
        # two would interleave one connection's bytes. The critical section
        # makes the check-and-set atomic on free-threaded builds too.
        with cython.critical_section(self):
            busy = self._feeding
            self._feeding = True
        if busy:
            raise _errors.feed_in_progress(type(self).__name__)
        try:
            if self._error is not None:
                raise _errors.decoder_failed(self._error)
            release = _read_view(data, &view, &p, &size, "feed")
            try:
                self._max_events = _max_events_arg(max_events)
            except BaseException:
                if release:
                    PyBuffer_Release(&view)
                raise
            events = []
            if self._closed:
                # RFC 6455 section 1.4: after a close frame, "a peer discards
                # any further data received".
                self._discard_after_close(size)
                if release:
                    PyBuffer_Release(&view)
                return events
            joined.data = NULL
            if self._held.length:
                # What an earlier feed() kept back comes first: the decoder
                # takes the held bytes over and appends this chunk to them.
                joined = self._held
                self._held.data = NULL
                self._held.length = self._held.capacity = 0
                try:
                    _reserve(&joined, <size_t>size, 0)
                except BaseException:
                    self._held = joined
                    if release:
                        PyBuffer_Release(&view)
                    raise
                if size:
                    memcpy(joined.data + joined.length, p, <size_t>size)
                joined.length += <size_t>size
                if release:
                    PyBuffer_Release(&view)
                    release = False
                p = joined.data
                size = <Py_ssize_t>joined.length
            self._events = events
            try:
                self._consume(p, size)
            except BaseException as exc:
                # RFC 6455 section 7.1.7: the connection is failed; no
                # half-parsed state may be used again. What this chunk
                # completed before the violation goes with the error.
                if isinstance(exc, _errors.ProtocolError):
                    exc.events = events
                self._error = exc
                raise
            finally:
                self._events = None
                if release:
                    PyBuffer_Release(&view)
                PyMem_Free(joined.data)
            return events
        finally:
            # In the critical section too: the next feed() may run on
            # another thread, and must see all this one wrote.
            with cython.critical_section(self):
                self._feeding = False

    cdef int _consume(self, const uint8_t *p, Py_ssize_t size) except -1:
        cdef Py_ssize_t position = 0, take, had
        cdef uint64_t remaining, chunk
        while True:
            if not self._in_payload:
                if self._partial_length:
                    had = self._partial_length
                    take = min(MAX_HEADER_LENGTH - had, size - position)
                    memcpy(self._partial + had, p + position, <size_t>take)
                    if not _parse(self._partial, had + take, self._reader_is_server, self._allowed_rsv,
                                  self._frame_limit, self._max_frame_size, &self._header):
                        self._partial_length = had + take
                        return 0
                    position += self._header.header_length - had
                    self._partial_length = 0
                else:
                    if position == size:
                        return 0
                    if not _parse(p + position, size - position, self._reader_is_server, self._allowed_rsv,
                                  self._frame_limit, self._max_frame_size, &self._header):
                        # Incomplete, so fewer than 14 bytes are left.
                        memcpy(self._partial, p + position, <size_t>(size - position))
                        self._partial_length = size - position
                        return 0
                    position += self._header.header_length
                self._in_payload = True
                self._received = 0
                self._on_header()
            remaining = self._header.payload_length - self._received
            chunk = <uint64_t>(size - position)
            if remaining < chunk:
                chunk = remaining
            if chunk or not remaining:
                self._on_payload(p + position, <size_t>chunk, chunk == remaining)
                position += <Py_ssize_t>chunk
                self._received += chunk
            if self._received < self._header.payload_length:
                return 0
            self._in_payload = False
            if self._header.opcode == OP_CLOSE:
                # The close frame is the last one (sections 1.4, 5.5.1).
                self._discard_after_close(size - position)
                return 0
            if position < size and PyList_GET_SIZE(self._events) >= self._max_events:
                # Enough events for the caller: keep the rest for later.
                _reserve(&self._held, <size_t>(size - position), 0)
                memcpy(self._held.data, p + position, <size_t>(size - position))
                self._held.length = <size_t>(size - position)
                return 0

    cdef inline size_t _frame_end(self, size_t buffered) noexcept:
        """The size a buffer now holding ``buffered`` bytes reaches when the
        frame in progress ends, if its header tells the truth (0 if that
        does not fit a size_t)."""
        cdef uint64_t remaining = self._header.payload_length - self._received
        if remaining > <uint64_t>(<size_t>-1 - buffered):
            return 0
        return buffered + <size_t>remaining

    cdef inline void _unmask(self, const uint8_t *source, uint8_t *target, size_t length) noexcept:
        if self._header.masked:
            wsframe_mask(source, target, length, self._header.mask_key, <size_t>(self._received & 3))
        elif length:
            memcpy(target, source, length)

    cdef bytes _unmasked_bytes(self, const uint8_t *source, size_t length):
        out = PyBytes_FromStringAndSize(NULL, <Py_ssize_t>length)
        self._unmask(source, <uint8_t *>PyBytes_AS_STRING(out), length)
        return out

    cdef int _on_header(self) except -1:
        return 0

    cdef int _on_payload(self, const uint8_t *p, size_t length, bint frame_finished) except -1:
        return 0


cdef class FrameDecoder(_Reader):
    """Frame layer: bytes in any chunking, frames out (RFC 6455 section 5.2).

    ``feed(data)`` takes any bytes-like chunk and returns the frames it
    completed, payloads unmasked, as :class:`Frame`. Headers are validated as
    :func:`parse_header` does, with ``role`` and ``allowed_rsv``; a payload over
    ``max_frame_size`` (``None``: no limit) is refused from its header (1009).
    With ``chunked=True``, data frame payloads are delivered piece by piece as
    they arrive, so a large frame needs no buffer of its size.

    A violation raises :class:`ProtocolError`, whose ``events`` are the frames
    that ``feed`` completed before it; every later ``feed`` raises it again.
    A close frame ends the stream (RFC 6455 section 1.4): it is returned,
    ``closed`` becomes true, and every byte after it is discarded unparsed
    and counted in ``bytes_after_close``.

    ``feed(data, max_events=n)`` stops after the frame that completes the
    n-th event and keeps the bytes after it, undecoded (``undecoded``
    counts them); the next ``feed`` decodes them first, and ``feed(b"")``
    goes on without new data.
    """

    cdef bint _chunked
    cdef _Buffer _payload

    def __init__(self, role=Role.SERVER, *, max_frame_size=DEFAULT_MAX_SIZE, allowed_rsv=0, chunked=False):
        self._init_reader("FrameDecoder", role, allowed_rsv, max_frame_size)
        self._chunked = bool(chunked)

    def __dealloc__(self):
        PyMem_Free(self._payload.data)

    cdef int _on_header(self) except -1:
        self._payload.length = 0
        return 0

    cdef int _on_payload(self, const uint8_t *p, size_t length, bint frame_finished) except -1:
        if self._chunked and not (self._header.opcode & CONTROL_BIT):
            if length or frame_finished:
                self._emit(self._unmasked_bytes(p, length), frame_finished)
        elif frame_finished and self._payload.length == 0:
            self._emit(self._unmasked_bytes(p, length), True)
        else:
            _reserve(&self._payload, length, self._frame_end(self._payload.length))
            self._unmask(p, self._payload.data + self._payload.length, length)
            self._payload.length += length
            if frame_finished:
                self._emit(PyBytes_FromStringAndSize(<char *>self._payload.data, <Py_ssize_t>self._payload.length), True)
                _clear(&self._payload)
        return 0

    cdef int _emit(self, bytes payload, bint frame_finished) except -1:
        cdef int first = self._header.first
        self._events.append(_record(_Frame,
            (_OPCODES[self._header.opcode], payload, (first & FIN) != 0, (first & RSV1) != 0,
             (first & RSV2) != 0, (first & RSV3) != 0, frame_finished),
        ))
        return 0


cdef class MessageDecoder(_Reader):
    """Message layer: bytes in any chunking, whole messages and control frames out.

    ``feed(data)`` returns the events it completed: :class:`TextMessage`,
    :class:`BinaryMessage`, :class:`Ping`, :class:`Pong` and :class:`Close`.
    Fragmented messages are reassembled (RFC 6455 section 5.4) and control
    frames between fragments are delivered at once. Enforced, each as a
    :class:`ProtocolError` with its close code: everything
    :class:`FrameDecoder` enforces; a continuation with no message open, or a
    new message while one is open: 1002; a message over
    ``max_message_size``, from the header that would exceed it: 1009; text
    that is not UTF-8, at the first byte that cannot be valid, as soon as it
    arrives: 1007 (section 8.1); a close frame with a 1-byte payload or a
    code a peer may not send: 1002, or a reason that is not UTF-8: 1007.

    No completed event is lost to an error: the :class:`ProtocolError`'s
    ``events`` are what ``feed`` completed before the violation. Handle them,
    then fail the connection; every later ``feed`` raises the error again.
    A close frame ends the stream (RFC 6455 section 1.4): its :class:`Close`
    is returned, ``closed`` becomes true, and every byte after it (a message
    left open included) is discarded unparsed and counted in
    ``bytes_after_close``, so the close handshake can finish.

    ``feed(data, max_events=n)`` stops after the frame that completes the
    n-th event and keeps the bytes after it, undecoded (``undecoded``
    counts them); the next ``feed`` decodes them first, and ``feed(b"")``
    goes on without new data. A server whose application lags uses it to
    stop decoding, and inflating, until the application catches up: a
    burst of small compressed frames in one read cannot make it inflate
    more than n messages at once.

    ``deflate``, the parameters negotiated for permessage-deflate (RFC 7692),
    turns on decompression: RSV1 on a message's first frame marks it
    compressed, and RSV1 anywhere else is 1002. A compressed message is
    inflated as it arrives, ``max_message_size`` applies to its inflated
    size and stops inflation there (1009), and data that is not deflate is
    1002 (a violation of the extension's framing, not of the message's type).
    ``max_frame_size`` still limits frames as sent, compressed: incompressible
    data grows a little when deflated, so with compression give frames some
    room above ``max_message_size``, or ``None`` (memory stays bounded by the
    message limit, since compressed payload is inflated as it arrives).
    """

    cdef uint64_t _message_limit
    cdef object _max_message_size
    cdef int _message_opcode        # TEXT or BINARY while a message is open, else 0
    cdef _Buffer _message           # the open text message so far (its length counts binary ones too)
    cdef PyObject *_binary          # the open binary message, built in place; no one else holds it
    cdef size_t _binary_capacity
    cdef _Buffer _control           # a control frame's payload while it arrives
    cdef wsframe_utf8_state _utf8
    cdef object _inflater           # wsframe._deflate._Inflater with permessage-deflate, else None
    cdef bint _compressed           # the open message is compressed (RSV1 on its first frame)

    def __init__(self, role=Role.SERVER, *, max_frame_size=DEFAULT_MAX_SIZE,
                 max_message_size=DEFAULT_MAX_SIZE, allowed_rsv=0, deflate=None):
        self._init_reader("MessageDecoder", role, allowed_rsv, max_frame_size)
        self._max_message_size = _limit_arg(max_message_size, "MessageDecoder", "max_message_size",
                                            &self._message_limit)
        self._inflater = inflater_for(deflate, role, self._allowed_rsv)
        if self._inflater is not None:
            self._allowed_rsv |= RSV1

    def __dealloc__(self):
        PyMem_Free(self._message.data)
        PyMem_Free(self._control.data)
        Py_XDECREF(self._binary)

    cdef int _on_header(self) except -1:
        cdef int opcode = self._header.opcode
        cdef uint64_t message_length
        # RFC 7692 section 6: with permessage-deflate, RSV1 marks a compressed
        # message on its first frame, and nowhere else.
        cdef bint rsv1 = (self._header.first & RSV1) != 0 and self._inflater is not None
        if opcode & CONTROL_BIT:
            if rsv1:
                raise _errors.rsv1_on_control(opcode)
            self._control.length = 0
            return 0
        if opcode == OP_CONTINUATION:
            if not self._message_opcode:
                raise _errors.continuation_without_message()
            if rsv1:
                raise _errors.rsv1_on_continuation()
        else:
            if self._message_opcode:
                raise _errors.message_in_progress(opcode)
            self._message_opcode = opcode
            self._message.length = 0
            self._compressed = rsv1
        if self._compressed:
            return 0  # the limit applies to the inflated size, checked while inflating
        # Both terms are below 2**63, so the sum cannot wrap.
        message_length = self._message.length + self._header.payload_length
        if message_length > self._message_limit:
            raise _errors.message_too_big(message_length, self._max_message_size)
        return 0

    cdef int _on_payload(self, const uint8_t *p, size_t length, bint frame_finished) except -1:
        cdef int opcode = self._header.opcode
        cdef uint8_t *target
        if opcode & CONTROL_BIT:
            if frame_finished and self._control.length == 0:
                payload = self._unmasked_bytes(p, length)
            else:
                _reserve(&self._control, length, self._frame_end(self._control.length))
                self._unmask(p, self._control.data + self._control.length, length)
                self._control.length += length
                if not frame_finished:
                    return 0
                payload = PyBytes_FromStringAndSize(<char *>self._control.data, <Py_ssize_t>self._control.length)
                self._control.length = 0
            self._on_control(opcode, payload)
            return 0
        if self._compressed:
            return self._on_compressed_payload(p, length, frame_finished and (self._header.first & FIN))
        if (frame_finished and (self._header.first & FIN) and self._message.length == 0
                and <uint64_t>length == self._header.payload_length):
            # The whole message in one piece: no reassembly needed. (The frame
            # may be a continuation after empty fragments.)
            opcode = self._message_opcode
            self._message_opcode = 0
            if opcode == OP_BINARY:
                self._events.append(_record(_BinaryMessage, (self._unmasked_bytes(p, length),)))
            else:
                if self._header.masked:
                    _reserve(&self._message, length, length)
                    self._unmask(p, self._message.data, length)
                    p = self._message.data
                self._events.append(_record(_TextMessage, (_utf8_text(p, length, _utf8_kernel, False),)))
                _clear(&self._message)
            return 0
        # Only a message's final frame says where the message ends; before
        # it, capping at each frame's end would grow it frame by frame.
        target = self._message_space(length, self._frame_end(self._message.length)
                                     if self._header.first & FIN else 0)
        self._unmask(p, target, length)
        return self._append_plain(target, length, frame_finished and (self._header.first & FIN))

    cdef int _on_compressed_payload(self, const uint8_t *p, size_t length, bint final) except -1:
        """Inflate a piece of a compressed message (RFC 7692 section 7.2.2)
        and append what it inflates to, no more than the limit allows, step
        by step as it inflates: a bomb costs the limit plus one step, never
        the whole inflated piece beside its copy."""
        room = None if self._max_message_size is None else self._message_limit - self._message.length
        self._inflater.inflate(self._unmasked_bytes(p, length), final, room, self._max_message_size,
                               self._append_inflated)
        if final:
            return self._append_plain(self._message_space(0, 0), 0, True)
        return 0

    def _append_inflated(self, bytes inflated):
        """The inflater's sink: append a step's worth of the message it inflates
        (called by it during feed() only, as the twin's _append_plain is)."""
        cdef size_t inflated_length = <size_t>PyBytes_GET_SIZE(inflated)
        cdef uint8_t *target = self._message_space(inflated_length, 0)  # the header tells the compressed size only
        memcpy(target, PyBytes_AS_STRING(inflated), inflated_length)
        self._append_plain(target, inflated_length, False)

    cdef uint8_t *_message_space(self, size_t length, size_t frame_end) except? NULL:
        """Room for ``length`` more plain bytes at the end of the open message,
        which will hold ``frame_end`` bytes (0: not known) when the frame in
        progress ends (a message's first bytes also restart UTF-8 validation)."""
        if self._message.length == 0:
            wsframe_utf8_reset(&self._utf8)
        if self._message_opcode == OP_BINARY:
            return self._binary_space(length, frame_end)
        _reserve(&self._message, length, frame_end)
        return self._message.data + self._message.length

    cdef int _append_plain(self, uint8_t *target, size_t length, bint final) except -1:
        """Account for ``length`` plain bytes just written at ``target``, the
        end of the open message; deliver the message if ``final``."""
        self._message.length += length
        if self._message_opcode == OP_TEXT and not wsframe_utf8_validate(_utf8_kernel.validate, &self._utf8,
                                                                   target, length):
            raise _errors.invalid_utf8("text message")
        if final:
            if self._message_opcode == OP_TEXT:
                if not wsframe_utf8_complete(&self._utf8):
                    raise _errors.invalid_utf8("text message")
                text = _utf8_text(self._message.data, self._message.length, _utf8_kernel, True)
                message = _record(_TextMessage, (text,))
                _clear(&self._message)
            else:
                message = _record(_BinaryMessage, (self._take_binary(),))
                self._message.length = 0
            self._events.append(message)
            self._message_opcode = 0
        return 0

    cdef uint8_t *_binary_space(self, size_t length, size_t frame_end) except NULL:
        """Room for ``length`` more bytes at the end of the binary message.

        The message is unmasked straight into the bytes object it will be
        delivered as, which grows as _grown_capacity says: no copy is made
        when it completes."""
        cdef size_t needed = self._message.length + length
        cdef size_t capacity
        if self._binary == NULL:
            capacity = _grown_capacity(0, needed, frame_end)
            fresh = PyBytes_FromStringAndSize(NULL, <Py_ssize_t>capacity)
            Py_INCREF(fresh)
            self._binary = <PyObject *>fresh
            self._binary_capacity = capacity
        elif needed > self._binary_capacity:
            capacity = _grown_capacity(self._binary_capacity, needed, frame_end)
            # Allowed because the object is new and referenced only here; on
            # failure it is freed, _binary becomes NULL and MemoryError is raised.
            _PyBytes_Resize(&self._binary, <Py_ssize_t>capacity)
            self._binary_capacity = capacity
        return <uint8_t *>PyBytes_AS_STRING(<object>self._binary) + self._message.length

    cdef bytes _take_binary(self):
        """The finished binary message, cut to its length; the decoder lets go of it."""
        if self._binary == NULL:
            return b""
        _PyBytes_Resize(&self._binary, <Py_ssize_t>self._message.length)
        message = <bytes>self._binary
        Py_XDECREF(self._binary)
        self._binary = NULL
        return message

    cdef int _on_control(self, int opcode, bytes payload) except -1:
        if opcode == OP_PING:
            self._events.append(_record(_Ping, (payload,)))
        elif opcode == OP_PONG:
            self._events.append(_record(_Pong, (payload,)))
        else:
            self._events.append(parse_close_payload(payload))
        return 0
