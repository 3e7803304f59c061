# The C backend's connection layer is _connection.py itself, compiled by
# Cython as the module _cconnection (setup.py). This file gives the compiled
# copy's classes their attributes as C fields: what makes its method calls
# and attribute reads cheaper than the interpreted copy's (the code is the
# same). Every attribute _connection.py sets on a connection is declared
# here; the types accept whatever the interpreted copy accepts (objects,
# except the flags the connection itself sets to True or False and the sizes
# it computes), so both copies behave the same.

cdef class Connection:
    # Attributes a subclass or a user adds live in the instance's dict, as
    # on the interpreted copy.
    cdef dict __dict__
    cdef object __weakref__
    cdef public object role, max_message_size, max_frame_size, max_queue, write_limit, auto_pong, auto_close
    cdef public object subprotocol, deflate, failure, close_received, close_sent, state
    cdef public bint can_send, receiving_paused
    cdef public list _events, _output
    cdef public Py_ssize_t _output_size
    cdef public object _head
    cdef public bytearray _input
    cdef public object _decoder, _feed, _deflater, _encode, _pending_close
    cdef public bint _mask, _plain, _reading, _close_transport


cdef class ServerConnection(Connection):
    cdef public object origins, subprotocols, compression, request, _key, _agreed
    cdef public bint _answered


cdef class ClientConnection(Connection):
    cdef public object uri, subprotocols, compression, response, _key
