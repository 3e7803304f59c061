# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
# cython: freethreading_compatible=True
"""The aiohttp drop-in's reader, queue and writer, compiled: the twin of ``_pyaiohttp``.

``_pyaiohttp`` is the reference for behaviour and holds the rules' words;
this module does the same with wsframe's C kernels (masking, UTF-8) and
without a Python call per frame. Its queue is compiled too: aiohttp's
compiled queue lets only aiohttp's compiled reader stop parsing while the
application lags, so the drop-in brings a queue that keeps the same contract
with this reader (the low- and high-water marks, the stalled reader parked
by weak reference and driven again once the queue drains).
"""

cimport cython
from cpython.bytearray cimport PyByteArray_AS_STRING, PyByteArray_GET_SIZE
from cpython.bytes cimport _PyBytes_Resize, PyBytes_AS_STRING, PyBytes_CheckExact, PyBytes_FromStringAndSize, PyBytes_GET_SIZE
from cpython.object cimport PyObject
from cpython.ref cimport Py_INCREF, Py_XDECREF
from libc.stdint cimport uint8_t, uint16_t, uint32_t, uint64_t
from libc.string cimport memcpy

import asyncio
import weakref
from collections import deque as _deque

from aiohttp._websocket import reader_py as _reader_py
from aiohttp.client_exceptions import ClientConnectionResetError
from aiohttp.helpers import _EXC_SENTINEL, set_exception
from aiohttp.log import ws_logger
from aiohttp.streams import EofStream

from wsframe import _errors
from wsframe import _pyaiohttp as _words
from wsframe._cframe import encode_frame, encode_header

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
    OP_BINARY,
    OP_CLOSE,
    OP_CONTINUATION,
    OP_PING,
    OP_PONG,
    OP_TEXT,
    OPCODE_BITS,
    PAYLOAD_LENGTH_BITS,
    RSV1,
    header_length,
)
from wsframe._kernels cimport (
    PyUnicode_DATA,
    PyUnicode_New,
    wsframe_key_stream,
    wsframe_mask_fn,
    wsframe_mask_kernels,
    wsframe_mask_select,
    wsframe_mask_tail,
    wsframe_utf8_complete,
    wsframe_utf8_decode_ucs1,
    wsframe_utf8_decode_ucs2,
    wsframe_utf8_decode_ucs4,
    wsframe_utf8_kernel,
    wsframe_utf8_kernels,
    wsframe_utf8_reset,
    wsframe_utf8_select,
    wsframe_utf8_state,
    wsframe_utf8_validate,
)

cdef extern from "Python.h":
    unsigned long PyThread_get_thread_ident()
    void PyObject_GC_UnTrack(void *op)

cdef extern from *:
    """
    /* A NamedTuple of three, built as tuple.__new__(cls, (a, b, c)) builds it
     * (tuple_subtype_new: the type's tp_alloc, then the items), without the
     * argument tuple and the method call. The module checks at import that
     * the type is a tuple subclass with tuple's layout. The record holds only
     * objects made before it (an enum member, bytes, str, bytearray, ints),
     * so it can never be part of a reference cycle: it is kept out of the
     * cyclic GC, as CPython does for such plain tuples. */
    static PyObject *
    wsframe_aiohttp_record(PyObject *type, PyObject *a, PyObject *b, PyObject *c)
    {
        PyObject *record = ((PyTypeObject *)type)->tp_alloc((PyTypeObject *)type, 3);
        if (record == NULL) {
            return NULL;
        }
        Py_INCREF(a);
        PyTuple_SET_ITEM(record, 0, a);
        Py_INCREF(b);
        PyTuple_SET_ITEM(record, 1, b);
        Py_INCREF(c);
        PyTuple_SET_ITEM(record, 2, c);
        if (PyObject_GC_IsTracked(record)) {
            PyObject_GC_UnTrack(record);
        }
        return record;
    }
    """
    object wsframe_aiohttp_record(object type, object a, object b, object c)

__all__ = [
    "ClientWebSocketReader",
    "ServerWebSocketReader",
    "WebSocketDataQueue",
    "WebSocketReader",
    "write_websocket_frame",
]

# The kernels: the widest this CPU runs, chosen once at import and never
# changed (the same choice _cframe makes).
cdef wsframe_mask_fn _mask_kernel = wsframe_mask_kernels[wsframe_mask_select()].function
cdef const wsframe_utf8_kernel *_utf8_kernel = &wsframe_utf8_kernels[wsframe_utf8_select()]

cdef object _WSMessage = _words.WSMessage
cdef object _WSMessageTextBytes = _words.WSMessageTextBytes
for _record_type in (_WSMessage, _WSMessageTextBytes):
    if not (issubclass(_record_type, tuple) and _record_type.__basicsize__ == tuple.__basicsize__
            and _record_type.__itemsize__ == tuple.__itemsize__ and _record_type.__dictoffset__ == 0):
        raise ImportError(f"aiohttp's {_record_type.__name__} is not a plain tuple subclass; "
                          "wsframe's compiled aiohttp reader cannot build it")
cdef object _TEXT = _words.WSMsgType.TEXT
cdef object _BINARY = _words.WSMsgType.BINARY
cdef object _CLOSE = _words.WSMsgType.CLOSE
cdef object _PING = _words.WSMsgType.PING
cdef object _PONG = _words.WSMsgType.PONG
cdef object _ZLibDecompressor = _words.ZLibDecompressor
cdef object _TooManyMembersError = _words.TooManyMembersError
cdef bytes _DEFLATE_TRAILING = _words.WS_DEFLATE_TRAILING
cdef Py_ssize_t _MSG_SIZE_OVERHEAD = _words.MSG_SIZE_OVERHEAD
cdef uint64_t _MAX_PAYLOAD_LEN = _words.MAX_PAYLOAD_LEN
cdef bint _RSV1_ON_CONTROL_REFUSED = _words.RSV1_ON_CONTROL_REFUSED
cdef str _STALLED_READER_COLLECTED = _reader_py.STALLED_READER_COLLECTED
cdef tuple _NO_ERROR = (False, b"")
cdef tuple _ERROR = (True, b"")

# The twin's values for aiohttp's reader state and the reader's role.
cdef enum:
    _OPCODE_NOT_SET = -1
    _COMPRESSED_NOT_SET = -1
    _COMPRESSED_FALSE = 0
    _COMPRESSED_TRUE = 1
    _TEXT_NONE = 0
    _TEXT_FRESH = 1
    _TEXT_CONTINUED = 2
    _ROLE_CLIENT = 0
    _ROLE_SERVER = 1
    _ROLE_FIRST_FRAME = -1


cdef inline void _mask(const uint8_t *src, uint8_t *dst, size_t n, const uint8_t *key, size_t phase) noexcept nogil:
    # Below 32 bytes the word loop, inlined, beats a call into a SIMD kernel.
    cdef uint8_t stream[8]
    if n < 32:
        wsframe_key_stream(key, phase, stream)
        wsframe_mask_tail(src, dst, 0, n, stream)
    else:
        _mask_kernel(src, dst, n, key, phase)


cdef str _text_of(const uint8_t *p, size_t length, bint validated):
    """The str of ``length`` bytes of UTF-8 at ``p``, validated unless it
    already was; None if they are not UTF-8. Built in place: one pass sizes
    it (characters, and the widest, which fixes the str's storage), one
    writes the code points."""
    cdef uint32_t max_char
    cdef size_t count
    cdef void *data
    if length == 0:
        return ""
    # Measured first (it reads any bytes safely): text that is all ASCII is
    # valid as it stands.
    count = _utf8_kernel.measure(p, length, &max_char)
    if max_char != 0x7F and not validated and not _utf8_kernel.validate(p, length):
        return None
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


cdef inline bint _utf8_whole(const uint8_t *p, size_t length) noexcept:
    """Whether ``length`` bytes at ``p`` are whole UTF-8 text."""
    return length == 0 or <bint>_utf8_kernel.validate(p, length)


# The queue --------------------------------------------------------------------


cdef class WebSocketDataQueue:
    """aiohttp's WebSocket message queue, compiled, for the drop-in's reader.

    The contract of aiohttp's ``WebSocketDataQueue``: ``feed_data(message,
    size)`` adds a message and its size plus 128 bytes of overhead to the
    queue's size, wakes a waiting ``read()`` and pauses the transport over
    twice the limit; ``read()`` waits for a message. A reader that stops
    parsing while the queue is over its limit parks itself in
    ``_stalled_reader`` (a weak reference); once a read brings the queue down
    to half its limit the queue drives that reader again, and it resumes the
    transport only when no reader is stalled. Free-threaded CPython: the
    queue's state is read and written in critical sections on the queue, and
    its calls out (futures, the protocol, the reader) are made outside them.
    """

    cdef readonly Py_ssize_t _size
    cdef readonly Py_ssize_t _limit
    cdef public object _protocol
    cdef object _loop
    cdef bint _eof
    cdef object _waiter
    cdef object _exception
    cdef public object _buffer
    cdef object _put_buffer
    cdef object _get_buffer
    cdef readonly object _stalled_reader

    def __init__(self, protocol, Py_ssize_t limit, *, loop):
        self._size = 0
        self._protocol = protocol
        self._limit = limit * 2
        self._loop = loop
        self._eof = False
        self._waiter = None
        self._exception = None
        self._buffer = _deque()
        self._put_buffer = self._buffer.append
        self._get_buffer = self._buffer.popleft
        self._stalled_reader = None

    def is_eof(self):
        with cython.critical_section(self):
            return self._eof

    def exception(self):
        with cython.critical_section(self):
            return self._exception

    def set_exception(self, exc, exc_cause=_EXC_SENTINEL):
        with cython.critical_section(self):
            self._eof = True
            self._exception = exc
            waiter, self._waiter = self._waiter, None
        if waiter is not None:
            set_exception(waiter, exc, exc_cause)

    cdef void _release_waiter(self) noexcept:
        with cython.critical_section(self):
            waiter, self._waiter = self._waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def feed_eof(self):
        with cython.critical_section(self):
            self._eof = True
        self._release_waiter()
        with cython.critical_section(self):
            self._exception = None  # breaks the reference cycle through the traceback

    cpdef void feed_data(self, object data, Py_ssize_t size) except *:
        cdef bint over
        with cython.critical_section(self):
            self._size += size + _MSG_SIZE_OVERHEAD
            self._put_buffer((data, size))
            over = self._size > self._limit
        self._release_waiter()
        if over and not self._protocol._reading_paused:
            self._protocol.pause_reading()

    cdef int _put(self, object message, Py_ssize_t size) except -1:
        """feed_data for the reader: the message and its size on the queue;
        returns whether the queue went over its limit (its waiter is woken
        and the transport paused by _settle, once per batch).

        The entry holds only a record the reader made and an int, so it can
        never be part of a reference cycle: like the record, it is kept out
        of the cyclic GC. A burst of small messages waiting in the queue would
        otherwise be traversed by every collection meanwhile, and promoted to
        the oldest generation, whose collections traverse the whole heap
        (measured: half the time of a burst of 16-byte messages)."""
        cdef tuple entry = (message, size)
        PyObject_GC_UnTrack(<void *>entry)
        with cython.critical_section(self):
            self._size += size + _MSG_SIZE_OVERHEAD
            self._put_buffer(entry)
            return self._size > self._limit

    cdef int _settle(self, bint over) except -1:
        """After the reader put messages: what feed_data does after each."""
        self._release_waiter()
        if over and not self._protocol._reading_paused:
            self._protocol.pause_reading()
        return 0

    cdef bint _over_limit(self) noexcept:
        with cython.critical_section(self):
            return self._size > self._limit

    cdef void _stall(self, object reader) noexcept:
        with cython.critical_section(self):
            self._stalled_reader = reader

    async def read(self):
        cdef bint wait, busy = False
        with cython.critical_section(self):
            wait = not self._buffer and not self._eof
            if wait:
                busy = self._waiter is not None
        if busy:
            raise RuntimeError("read() called while another read() is waiting")
        if wait:
            waiter = self._loop.create_future()
            with cython.critical_section(self):
                self._waiter = waiter
            try:
                await waiter
            except (asyncio.CancelledError, asyncio.TimeoutError):
                with cython.critical_section(self):
                    self._waiter = None
                raise
        return self._read_from_buffer()

    def _read_from_buffer(self):
        cdef bint drive = False, resume, empty, record
        exception = data = stalled = None
        with cython.critical_section(self):
            if not self._buffer:
                exception = self._exception
                empty = True
            else:
                empty = False
                data, size = self._get_buffer()
                self._size -= <Py_ssize_t>size + _MSG_SIZE_OVERHEAD
                stalled = self._stalled_reader
                # Parsing resumes at the low-water mark, so that draining a
                # burst drives the reader once per batch, not once per message.
                drive = stalled is not None and self._size <= self._limit // 2
        if empty:
            if exception is not None:
                raise exception
            raise EofStream
        if drive:
            reader = stalled()
            if reader is not None:
                reader.feed_data(b"")
            else:
                # The reader died with the bytes it had not parsed: deliver
                # what is queued, then say so instead of ending the stream short.
                with cython.critical_section(self):
                    self._stalled_reader = None
                    record = self._exception is None
                ws_logger.warning(_STALLED_READER_COLLECTED)
                if record:
                    self.set_exception(RuntimeError(_STALLED_READER_COLLECTED))
        # The transport stays paused while a reader is stalled: resuming it
        # would let socket reads pile up behind the unparsed bytes.
        with cython.critical_section(self):
            resume = self._stalled_reader is None and self._size < self._limit
        if resume and self._protocol._reading_paused:
            self._protocol.resume_reading()
        return data



# The reader -------------------------------------------------------------------


cdef class WebSocketReader:
    """aiohttp's WebSocket reader on wsframe's rules; see ``_pyaiohttp.WebSocketReader``.

    Compiled: a frame that is a whole message, the common case, becomes a
    ``WSMessage`` and goes on the queue without a Python call, its payload
    unmasked straight into the bytes object delivered, or, for text, into
    the str built by wsframe's UTF-8 kernels. A frame that spans reads is
    unmasked into a buffer that grows with what arrived, never with what its
    header claims. Free-threaded CPython: a second thread's feed while one
    runs is refused, as wsframe's decoders refuse it.
    """

    cdef object __weakref__
    cdef readonly object _weak_self
    cdef readonly WebSocketDataQueue queue
    cdef Py_ssize_t _max_msg_size
    cdef bint _compress
    cdef bint _decode_text
    cdef object _exc
    # The message layer, in aiohttp's terms.
    cdef bytearray _partial
    cdef int _opcode
    cdef int _compressed
    cdef bint _frame_fin
    cdef object _decompressobj
    cdef wsframe_utf8_state _utf8   # the text message in progress, checked as its bytes arrive
    cdef bint _prechecked           # the frame handed on was checked while it arrived
    # The frame in progress.
    cdef int _role
    cdef uint8_t _head[MAX_HEADER_LENGTH]
    cdef Py_ssize_t _head_length    # bytes of its header gathered, while incomplete
    cdef bint _head_checked         # its first two bytes passed
    cdef bint _in_payload
    cdef int _first
    cdef bint _masked
    cdef uint8_t _key[4]
    cdef uint64_t _length
    cdef uint64_t _received
    cdef PyObject *_payload         # its payload so far: a bytes object only this reader holds
    cdef size_t _payload_capacity
    cdef int _text
    # Bytes left unparsed while the queue is over its limit: _tail from _tail_start.
    cdef bytes _tail
    cdef Py_ssize_t _tail_start
    # The thread running a feed, and how deep (the queue may call back in).
    cdef unsigned long _feeding_thread
    cdef int _feeding_depth

    def __cinit__(self, *args, **kwargs):
        self._role = _ROLE_FIRST_FRAME

    def __init__(self, WebSocketDataQueue queue not None, Py_ssize_t max_msg_size, compress, decode_text):
        self.queue = queue
        self._max_msg_size = max_msg_size
        self._compress = bool(compress)
        self._decode_text = bool(decode_text)
        self._weak_self = weakref.ref(self)
        self._exc = None
        self._partial = bytearray()
        self._opcode = _OPCODE_NOT_SET
        self._compressed = _COMPRESSED_NOT_SET
        self._frame_fin = False
        self._decompressobj = None
        wsframe_utf8_reset(&self._utf8)
        self._tail = None

    def __dealloc__(self):
        Py_XDECREF(self._payload)

    cdef int _enter(self) except -1:
        cdef unsigned long me = PyThread_get_thread_ident()
        cdef bint busy
        with cython.critical_section(self):
            busy = self._feeding_depth != 0 and self._feeding_thread != me
            if not busy:
                self._feeding_thread = me
                self._feeding_depth += 1
        if busy:
            raise _errors.feed_in_progress(type(self).__name__)
        return 0

    cdef void _leave(self) noexcept:
        with cython.critical_section(self):
            self._feeding_depth -= 1

    def feed_eof(self):
        self.queue.feed_eof()

    cpdef tuple feed_data(self, object data):
        """aiohttp's contract: (True, b"") once the stream broke the protocol
        (the error is then set on the queue), else (False, b"")."""
        if not PyBytes_CheckExact(data):
            data = bytes(data)
        self._enter()
        try:
            if self._exc is not None:
                return (True, data)
            try:
                self._feed_data(data)
            except Exception as exc:
                self._exc = exc
                set_exception(self.queue, exc)
                return _ERROR
            return _NO_ERROR
        finally:
            self._leave()

    cdef bint _message_layer_is_ours(self):
        """Whether _handle_frame is this class's: only then may frames take
        the direct path and be checked as UTF-8 while they arrive (aiohttp's
        tests patch _handle_frame to catch frames)."""
        cls = type(self)
        if cls is WebSocketReader or cls is ServerWebSocketReader or cls is ClientWebSocketReader:
            return True
        instance = getattr(self, "__dict__", None)
        return (getattr(cls, "_handle_frame") is _OWN_HANDLE_FRAME
                and (instance is None or "_handle_frame" not in instance))

    cpdef void _feed_data(self, object data) except *:
        """Split ``data`` into frames and hand each to the message layer."""
        cdef const uint8_t *p
        cdef Py_ssize_t size, position
        cdef bint ours
        self._enter()
        try:
            self.queue._stall(None)
            if not PyBytes_CheckExact(data):
                data = bytes(data)
            position = 0
            if self._tail is not None:
                if PyBytes_GET_SIZE(data):
                    data = self._tail[self._tail_start:] + data
                else:
                    data, position = self._tail, self._tail_start
                self._tail = None
            p = <const uint8_t *>PyBytes_AS_STRING(data)
            size = PyBytes_GET_SIZE(data)
            ours = self._message_layer_is_ours()
            self._consume(data, p, position, size, ours)
        finally:
            self._leave()

    cdef int _consume(self, bytes data, const uint8_t *p, Py_ssize_t position, Py_ssize_t size,
                      bint ours) except -1:
        cdef WebSocketDataQueue queue = self.queue
        cdef Py_ssize_t taken
        cdef uint64_t remaining, take
        cdef bint over = False, put = False
        try:
            while True:
                if position < size and queue._over_limit():
                    # aiohttp's flow control: over the high-water mark with
                    # bytes left, stop; the queue drives the reader again
                    # once drained.
                    self._tail, self._tail_start = data, position
                    queue._stall(self._weak_self)
                    return 0
                if not self._in_payload:
                    taken = self._read_header(p + position, size - position, ours)
                    if taken < 0:
                        return 0
                    position += taken
                remaining = self._length - self._received
                take = <uint64_t>(size - position)
                if remaining < take:
                    take = remaining
                if self._received == 0 and take == remaining:
                    # The whole payload is here.
                    self._in_payload = False
                    if ours and self._direct(p + position, <size_t>take, &over):
                        put = True
                    else:
                        if put:
                            put = False
                            queue._settle(over)
                            over = False
                        self._frame(self._unmasked(p + position, <size_t>take), False)
                    position += <Py_ssize_t>take
                    continue
                self._gather(p + position, <size_t>take)
                position += <Py_ssize_t>take
                if self._received < self._length:
                    return 0
                self._in_payload = False
                if put:
                    put = False
                    queue._settle(over)
                    over = False
                self._frame(self._take_payload(), self._text != _TEXT_NONE)
        finally:
            if put:
                queue._settle(over)

    cdef bint _direct(self, const uint8_t *p, size_t length, bint *over) except -1:
        """A frame that is a whole uncompressed message, with no fragmented
        message open: its message on the queue, as the message layer would
        put it there, and True; False for any other frame."""
        cdef int opcode = self._first & OPCODE_BITS
        cdef uint8_t *target
        if not (self._first & FIN) or self._compressed != _COMPRESSED_FALSE or PyByteArray_GET_SIZE(self._partial):
            return False
        if opcode == OP_BINARY:
            payload = PyBytes_FromStringAndSize(NULL, <Py_ssize_t>length)
            self._unmask_into(p, <uint8_t *>PyBytes_AS_STRING(payload), length, 0)
            message = wsframe_aiohttp_record(_WSMessage, _BINARY, payload, "")
        elif opcode == OP_TEXT:
            if self._decode_text:
                if self._masked and length:
                    payload = PyBytes_FromStringAndSize(NULL, <Py_ssize_t>length)
                    target = <uint8_t *>PyBytes_AS_STRING(payload)
                    self._unmask_into(p, target, length, 0)
                    p = target
                text = _text_of(p, length, False)
                if text is None:
                    raise _words.invalid_text()
                message = wsframe_aiohttp_record(_WSMessage, _TEXT, text, "")
            else:
                payload = self._unmasked(p, length)
                if not _utf8_whole(<const uint8_t *>PyBytes_AS_STRING(payload), length):
                    raise _words.invalid_text()
                message = wsframe_aiohttp_record(_WSMessageTextBytes, _TEXT, payload, "")
        else:
            return False
        if self.queue._put(message, <Py_ssize_t>length):
            over[0] = True
        return True

    cdef inline void _unmask_into(self, const uint8_t *source, uint8_t *target, size_t length,
                                  uint64_t offset) noexcept:
        if self._masked:
            _mask(source, target, length, self._key, <size_t>(offset & 3))
        elif length:
            memcpy(target, source, length)

    cdef bytes _unmasked(self, const uint8_t *source, size_t length):
        out = PyBytes_FromStringAndSize(NULL, <Py_ssize_t>length)
        self._unmask_into(source, <uint8_t *>PyBytes_AS_STRING(out), length, 0)
        return out

    cdef int _gather(self, const uint8_t *p, size_t length) except -1:
        """The next piece of a payload that spans reads, unmasked onto the
        frame's buffer, and checked as UTF-8 if the frame is text."""
        cdef size_t needed = <size_t>self._received + length
        cdef size_t capacity
        cdef uint8_t *target
        if needed > self._payload_capacity or self._payload == NULL:
            # Doubling, as bytes arrive, never past the frame's end: memory
            # follows what arrived, not what the header claims.
            capacity = self._payload_capacity * 2 if self._payload_capacity else 256
            if capacity < needed:
                capacity = needed
            if <uint64_t>capacity > self._length:
                capacity = <size_t>self._length
            if self._payload == NULL:
                fresh = PyBytes_FromStringAndSize(NULL, <Py_ssize_t>capacity)
                Py_INCREF(fresh)
                self._payload = <PyObject *>fresh
            else:
                # Allowed: the object is new and referenced only here. On
                # failure it is freed, _payload becomes NULL, and MemoryError
                # is raised.
                _PyBytes_Resize(&self._payload, <Py_ssize_t>capacity)
            self._payload_capacity = capacity
        target = <uint8_t *>PyBytes_AS_STRING(<object>self._payload) + self._received
        self._unmask_into(p, target, length, self._received)
        self._received += length
        if self._text != _TEXT_NONE and not wsframe_utf8_validate(_utf8_kernel.validate, &self._utf8, target,
                                                                  length):
            raise _words.invalid_text()
        return 0

    cdef bytes _take_payload(self):
        """The frame's payload, cut to its length; the reader lets go of it."""
        if self._payload == NULL:
            return b""
        _PyBytes_Resize(&self._payload, <Py_ssize_t>self._length)
        payload = <bytes>self._payload
        Py_XDECREF(self._payload)
        self._payload = NULL
        self._payload_capacity = 0
        return payload

    cdef Py_ssize_t _read_header(self, const uint8_t *p, Py_ssize_t available, bint ours) except -2:
        """Take the next frame's header from ``p``: how many bytes it took, or
        -1 (all taken) while it is not whole. Each rule is checked as soon as
        the bytes it needs are there."""
        cdef Py_ssize_t had = self._head_length, take, have, end, key_end
        cdef const uint8_t *head = p
        cdef int field
        cdef uint64_t length
        cdef int i
        if had:
            take = MAX_HEADER_LENGTH - had
            if take > available:
                take = available
            memcpy(self._head + had, p, <size_t>take)
            head = self._head
            have = had + take
        else:
            have = available
        if have < 2:
            memcpy(self._head, head, <size_t>have)
            self._head_length = have
            return -1
        if not self._head_checked:
            self._check_start(head[0], head[1])
            self._head_checked = True
        field = head[1] & PAYLOAD_LENGTH_BITS
        end = 4 if field == LENGTH_16 else 10 if field == LENGTH_64 else 2
        key_end = end + MASK_KEY_LENGTH if head[1] & MASK_BIT else end
        if have < end:
            if not had:
                memcpy(self._head, head, <size_t>have)
            self._head_length = have
            return -1
        length = <uint64_t>field
        if end > 2:
            length = 0
            for i in range(2, end):
                length = (length << 8) | head[i]
        self._check_length(head[0] & OPCODE_BITS, field, length)
        if have < key_end:
            if not had:
                memcpy(self._head, head, <size_t>have)
            self._head_length = have
            return -1
        self._masked = key_end > end
        if self._masked:
            memcpy(self._key, head + end, MASK_KEY_LENGTH)
        self._first = head[0]
        self._length = length
        self._received = 0
        self._in_payload = True
        self._head_length = 0
        self._head_checked = False
        self._text = self._text_check((head[0] & FIN) != 0, head[0] & OPCODE_BITS) if ours else _TEXT_NONE
        if self._text == _TEXT_FRESH:
            wsframe_utf8_reset(&self._utf8)
        return key_end - had

    cdef int _check_start(self, int first, int second) except -1:
        """A header's first two bytes: aiohttp's rules, in its order (noting
        whether the message is compressed), then the mask bit."""
        cdef int opcode = first & OPCODE_BITS
        cdef bint fin = (first & FIN) != 0
        cdef bint rsv1 = (first & RSV1) != 0
        cdef bint masked
        if (first & ALL_RSV & ~RSV1) or (rsv1 and not self._compress):
            raise _words.reserved_bits()
        if not (opcode <= OP_BINARY or OP_CLOSE <= opcode <= OP_PONG):
            raise _words.unexpected_opcode(opcode)
        if opcode & CONTROL_BIT:
            if not fin:
                raise _words.fragmented_control_frame()
            if (second & PAYLOAD_LENGTH_BITS) > MAX_CONTROL_PAYLOAD_LENGTH:
                raise _words.control_frame_too_long()
            if rsv1 and _RSV1_ON_CONTROL_REFUSED:
                raise _words.reserved_bits()
        else:
            # RFC 7692 section 6: a message's first frame says whether it is compressed.
            if self._frame_fin or self._compressed == _COMPRESSED_NOT_SET:
                self._compressed = _COMPRESSED_TRUE if rsv1 else _COMPRESSED_FALSE
            elif rsv1:
                raise _words.reserved_bits()
            self._frame_fin = fin
        # RFC 6455 section 5.1: a client masks every frame, a server none.
        masked = (second & MASK_BIT) != 0
        if self._role == _ROLE_FIRST_FRAME:
            self._role = _ROLE_SERVER if masked else _ROLE_CLIENT
        if masked != (self._role == _ROLE_SERVER):
            raise _words.wsframe_refusal(_errors.mask_bit_wrong(self._role == _ROLE_SERVER))
        return 0

    cdef int _check_length(self, int opcode, int field, uint64_t length) except -1:
        """A header's payload length: aiohttp's limits, then the shortest form
        RFC 6455 section 5.2 requires."""
        cdef Py_ssize_t partial = PyByteArray_GET_SIZE(self._partial)
        cdef Py_ssize_t room = self._max_msg_size - partial
        if field == LENGTH_64 and length > _MAX_PAYLOAD_LEN:
            raise _words.message_too_big(<object>length + partial,
                                         self._max_msg_size if self._max_msg_size else <object>_MAX_PAYLOAD_LEN)
        # aiohttp's "length >= max_msg_size - len(partial)", in C without wrapping.
        if self._max_msg_size and not (opcode & CONTROL_BIT) and (room <= 0 or length >= <uint64_t>room):
            raise _words.message_too_big(<object>length + partial, self._max_msg_size)
        if field == LENGTH_16 and length <= MAX_LENGTH_7:
            raise _words.wsframe_refusal(_errors.non_minimal_length_16(length))
        if field == LENGTH_64 and length <= MAX_LENGTH_16:
            raise _words.wsframe_refusal(_errors.non_minimal_length_64(length))
        return 0

    cdef int _text_check(self, bint fin, int opcode):
        """How a frame's payload is checked as UTF-8 while it arrives; see
        ``_pyaiohttp.WebSocketReader._text_check``."""
        if self._compressed == _COMPRESSED_TRUE:
            return _TEXT_NONE
        if opcode == OP_TEXT:
            if fin:
                return _TEXT_NONE if PyByteArray_GET_SIZE(self._partial) else _TEXT_FRESH
            return _TEXT_FRESH if self._opcode == _OPCODE_NOT_SET else _TEXT_NONE
        if opcode == OP_CONTINUATION and self._opcode == OP_TEXT:
            return _TEXT_CONTINUED
        return _TEXT_NONE

    cdef int _frame(self, bytes payload, bint prechecked) except -1:
        """A whole frame, to the message layer, as aiohttp hands it on: with
        the last data frame's FIN bit and compression state."""
        cdef int opcode = self._first & OPCODE_BITS
        data = payload
        if opcode & CONTROL_BIT and self._masked:
            # aiohttp unmasks into a bytearray, which a ping's data and its words show.
            data = bytearray(payload)
        self._prechecked = prechecked
        self._handle_frame(self._frame_fin, opcode, data, self._compressed)
        return 0

    cdef int _check_text(self, object data, bint final) except -1:
        """``data`` as the next bytes of the text message in progress."""
        cdef const uint8_t *p
        cdef Py_ssize_t length
        if PyBytes_CheckExact(data):
            p = <const uint8_t *>PyBytes_AS_STRING(data)
            length = PyBytes_GET_SIZE(data)
        else:
            p = <const uint8_t *>PyByteArray_AS_STRING(data)
            length = PyByteArray_GET_SIZE(data)
        if not wsframe_utf8_validate(_utf8_kernel.validate, &self._utf8, p, <size_t>length):
            raise _words.invalid_text()
        if final and not wsframe_utf8_complete(&self._utf8):
            raise _words.invalid_text()
        return 0

    cpdef void _handle_frame(self, bint fin, int opcode, object payload, int compressed) except *:
        """One whole frame through the message layer; see ``_pyaiohttp.WebSocketReader._handle_frame``."""
        cdef bint prechecked = self._prechecked
        cdef bint continued, has_partial
        self._prechecked = False
        if not (PyBytes_CheckExact(payload) or type(payload) is bytearray):
            payload = bytes(payload)
        self._enter()
        try:
            self._message(fin, opcode, payload, compressed, prechecked)
        finally:
            self._leave()

    cdef int _message(self, bint fin, int opcode, object payload, int compressed, bint prechecked) except -1:
        cdef bint continued, has_partial
        if opcode == OP_TEXT or opcode == OP_BINARY or opcode == OP_CONTINUATION:
            if opcode == OP_CONTINUATION and self._opcode == _OPCODE_NOT_SET:
                raise _words.continuation_not_started()
            if not fin:
                if opcode != OP_CONTINUATION:
                    if self._opcode != _OPCODE_NOT_SET:
                        raise _words.opcode_not_continuation(opcode)
                    self._opcode = opcode
                    if opcode == OP_TEXT and not prechecked:
                        wsframe_utf8_reset(&self._utf8)
                if self._opcode == OP_TEXT and not compressed and not prechecked:
                    self._check_text(payload, False)
                self._partial += payload
                return 0
            continued = opcode == OP_CONTINUATION
            has_partial = PyByteArray_GET_SIZE(self._partial) != 0
            if continued:
                opcode = self._opcode
                self._opcode = _OPCODE_NOT_SET
            elif has_partial:
                raise _words.opcode_not_continuation(opcode)
            assembled = payload
            if has_partial:
                assembled = self._partial + payload
                self._partial.clear()
            if compressed:
                merged = self._inflate(assembled)
            elif PyBytes_CheckExact(assembled):
                merged = assembled
            else:
                merged = bytes(assembled)
            if opcode == OP_TEXT:
                if compressed or not (prechecked or continued):
                    wsframe_utf8_reset(&self._utf8)
                    self._check_text(merged, True)
                elif prechecked:
                    self._check_text(b"", True)
                else:
                    self._check_text(payload, True)
                if self._decode_text:
                    message = wsframe_aiohttp_record(
                        _WSMessage, _TEXT,
                        _text_of(<const uint8_t *>PyBytes_AS_STRING(merged), <size_t>PyBytes_GET_SIZE(merged), True),
                        "")
                else:
                    message = wsframe_aiohttp_record(_WSMessageTextBytes, _TEXT, merged, "")
            else:
                message = wsframe_aiohttp_record(_WSMessage, _BINARY, merged, "")
            self.queue.feed_data(message, PyBytes_GET_SIZE(merged))
        elif opcode == OP_CLOSE:
            if len(payload) >= 2:
                code = (payload[0] << 8) | payload[1]
                error = _words.bad_close_code(code)
                if error is not None:
                    raise error
                try:
                    reason = payload[2:].decode("utf-8")
                except UnicodeDecodeError as exc:
                    raise _words.invalid_text() from exc
                self.queue.feed_data(wsframe_aiohttp_record(_WSMessage, _CLOSE, code, reason), 0)
            elif len(payload):
                raise _words.invalid_close_frame(fin, opcode, payload)
            else:
                self.queue.feed_data(wsframe_aiohttp_record(_WSMessage, _CLOSE, 0, ""), 0)
        elif opcode == OP_PING:
            self.queue.feed_data(wsframe_aiohttp_record(_WSMessage, _PING, payload, ""), len(payload))
        elif opcode == OP_PONG:
            self.queue.feed_data(wsframe_aiohttp_record(_WSMessage, _PONG, payload, ""), len(payload))
        else:
            raise _words.unexpected_opcode(opcode)
        return 0

    cdef bytes _inflate(self, object assembled):
        """A compressed message inflated as aiohttp inflates it; see ``_pyaiohttp``."""
        cdef Py_ssize_t limit = self._max_msg_size
        if self._decompressobj is None:
            self._decompressobj = _ZLibDecompressor(suppress_deflate_header=True)
        try:
            inflated = self._decompressobj.decompress_sync(assembled + _DEFLATE_TRAILING,
                                                           limit + 1 if limit else limit)
        except _TooManyMembersError as exc:
            raise _words.too_many_members() from exc
        if limit and len(inflated) > limit:
            raise _words.inflated_too_big(limit)
        return inflated


# The message layer as the class defines it, to tell it from a replacement.
_OWN_HANDLE_FRAME = vars(WebSocketReader)["_handle_frame"]


cdef class ServerWebSocketReader(WebSocketReader):
    """The reader of ``aiohttp.web``: clients must mask (RFC 6455 section 5.1)."""

    def __cinit__(self, *args, **kwargs):
        self._role = _ROLE_SERVER


cdef class ClientWebSocketReader(WebSocketReader):
    """The reader of ``ClientSession.ws_connect``: servers must not mask."""

    def __cinit__(self, *args, **kwargs):
        self._role = _ROLE_CLIENT


# The writer -------------------------------------------------------------------

cdef object _DEFAULT_RANDOM = _words.DEFAULT_RANDOM
cdef object _PACK_RANDBITS = _words.helpers.PACK_RANDBITS
cdef Py_ssize_t _MASK_LEN = _words.helpers.MASK_LEN
cdef Py_ssize_t _MSG_SIZE = _words.helpers.MSG_SIZE


cdef inline void _write_unmasked_header(uint8_t *out, int opcode, int rsv, Py_ssize_t msg_length) noexcept:
    """A server's frame header (RFC 6455 section 5.2: FIN, the length in its
    shortest form, no mask): header_length(msg_length, False) bytes."""
    cdef int i
    out[0] = <uint8_t>(FIN | (rsv & ALL_RSV) | (opcode & OPCODE_BITS))
    if msg_length <= MAX_LENGTH_7:
        out[1] = <uint8_t>msg_length
    elif msg_length <= MAX_LENGTH_16:
        out[1] = LENGTH_16
        out[2] = <uint8_t>(msg_length >> 8)
        out[3] = <uint8_t>msg_length
    else:
        out[1] = LENGTH_64
        for i in range(8):
            out[2 + i] = <uint8_t>((<uint64_t>msg_length) >> (56 - 8 * i))


cdef bytes _unmasked_frame(int opcode, int rsv, object message, Py_ssize_t msg_length, bint with_payload):
    """A server's frame in one allocation, or its header alone."""
    cdef Py_ssize_t head_length = header_length(<uint64_t>msg_length, False)
    cdef const uint8_t[::1] view
    cdef uint8_t *out
    frame = PyBytes_FromStringAndSize(NULL, head_length + msg_length if with_payload else head_length)
    out = <uint8_t *>PyBytes_AS_STRING(frame)
    _write_unmasked_header(out, opcode, rsv, msg_length)
    if not with_payload or not msg_length:
        return frame
    if PyBytes_CheckExact(message):
        memcpy(out + head_length, PyBytes_AS_STRING(message), <size_t>msg_length)
    else:
        view = message
        memcpy(out + head_length, &view[0], <size_t>msg_length)
    return frame


def write_websocket_frame(self, message, int opcode, int rsv):
    """aiohttp's ``WebSocketWriter._write_websocket_frame``, encoding with wsframe."""
    cdef Py_ssize_t msg_length = len(message)
    transport = self.transport
    if transport.is_closing():
        raise ClientConnectionResetError("Cannot write to closing transport")
    if self.use_mask:
        # RFC 6455 section 5.3: a fresh key per frame from a strong source of entropy.
        key = True
        get_random_bits = self.get_random_bits
        if getattr(getattr(get_random_bits, "func", None), "__self__", None) is not _DEFAULT_RANDOM:
            key = _PACK_RANDBITS(get_random_bits())
        transport.write(encode_frame(opcode, message, rsv1=rsv != 0, mask=key))
        self._output_size += _MASK_LEN
    elif opcode & CONTROL_BIT and msg_length > MAX_CONTROL_PAYLOAD_LENGTH:
        # encode_frame's refusal (ValueError): RFC 6455 section 5.5.
        transport.write(encode_frame(opcode, message, rsv1=rsv != 0))
    elif msg_length > _MSG_SIZE:
        # The payload after its header, as aiohttp writes it: no copy of it.
        transport.write(_unmasked_frame(opcode, rsv, message, msg_length, False))
        transport.write(message)
    else:
        # A server's frame built here: the call into encode_frame it saves
        # is a tenth of what the writer spends on a 16-byte frame.
        transport.write(_unmasked_frame(opcode, rsv, message, msg_length, True))
    self._output_size += header_length(<uint64_t>msg_length, False) + msg_length
