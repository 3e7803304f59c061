# The C backend's copy of _rfc6455.py: the same names and values as C
# constants, so that Cython compiles them into the hot path.
# tests/test_rfc6455.py holds the two files equal.

from libc.stdint cimport uint64_t

cdef enum:
    FIN = 0x80
    RSV1 = 0x40
    RSV2 = 0x20
    RSV3 = 0x10
    ALL_RSV = 0x70
    OPCODE_BITS = 0x0F
    CONTROL_BIT = 0x08

    OP_CONTINUATION = 0x0
    OP_TEXT = 0x1
    OP_BINARY = 0x2
    OP_CLOSE = 0x8
    OP_PING = 0x9
    OP_PONG = 0xA

    MASK_BIT = 0x80
    PAYLOAD_LENGTH_BITS = 0x7F
    MAX_LENGTH_7 = 125
    LENGTH_16 = 126
    LENGTH_64 = 127
    MAX_LENGTH_16 = 0xFFFF
    MASK_KEY_LENGTH = 4
    MAX_HEADER_LENGTH = 14

    MAX_CONTROL_PAYLOAD_LENGTH = 125
    MAX_CLOSE_REASON_LENGTH = 123

# Over an int, so not an enum member: a C constant of its own.
cdef extern from *:
    """
    #define WSFRAME_MAX_PAYLOAD_LENGTH ((uint64_t)0x7FFFFFFFFFFFFFFFull)
    """
    const uint64_t MAX_PAYLOAD_LENGTH "WSFRAME_MAX_PAYLOAD_LENGTH"


cdef inline Py_ssize_t header_length(uint64_t payload_length, bint masked) noexcept nogil:
    """The twin of _rfc6455.header_length."""
    cdef Py_ssize_t length
    if payload_length <= MAX_LENGTH_7:
        length = 2
    elif payload_length <= MAX_LENGTH_16:
        length = 4
    else:
        length = 10
    return length + MASK_KEY_LENGTH if masked else length
