# The C kernels' declarations (_mask.h, _utf8.h), once for every Cython
# module that uses them: _cframe.pyx (the codec) and _caiohttp.pyx (the
# aiohttp drop-in's compiled reader).

from libc.stdint cimport uint8_t, uint16_t, uint32_t

cdef extern from "_mask.h" nogil:
    ctypedef void (*wsframe_mask_fn)(const uint8_t *src, uint8_t *dst, size_t n, const uint8_t *key, size_t phase)
    ctypedef struct wsframe_mask_kernel:
        const char *name
        wsframe_mask_fn function
    const wsframe_mask_kernel wsframe_mask_kernels[]
    size_t WSFRAME_MASK_KERNEL_COUNT
    int wsframe_mask_kernel_supported(size_t index)
    size_t wsframe_mask_select()
    void wsframe_key_stream(const uint8_t *key, size_t phase, uint8_t *stream)
    void wsframe_mask_tail(const uint8_t *src, uint8_t *dst, size_t i, size_t n, const uint8_t *stream)

cdef extern from "_utf8.h" nogil:
    ctypedef struct wsframe_utf8_state:
        pass
    ctypedef int (*wsframe_utf8_run_fn)(const uint8_t *data, size_t length)
    ctypedef size_t (*wsframe_utf8_measure_fn)(const uint8_t *data, size_t length, uint32_t *max_char)
    ctypedef struct wsframe_utf8_kernel:
        const char *name
        wsframe_utf8_run_fn validate
        wsframe_utf8_measure_fn measure
    const wsframe_utf8_kernel wsframe_utf8_kernels[]
    size_t WSFRAME_UTF8_KERNEL_COUNT
    int wsframe_utf8_kernel_supported(size_t index)
    size_t wsframe_utf8_select()
    void wsframe_utf8_reset(wsframe_utf8_state *state)
    int wsframe_utf8_complete(const wsframe_utf8_state *state)
    int wsframe_utf8_validate(wsframe_utf8_run_fn run, wsframe_utf8_state *state, const uint8_t *data,
                              size_t length)
    void wsframe_utf8_decode_ucs1(const uint8_t *data, size_t length, uint8_t *out)
    void wsframe_utf8_decode_ucs2(const uint8_t *data, size_t length, uint16_t *out)
    void wsframe_utf8_decode_ucs4(const uint8_t *data, size_t length, uint32_t *out)

cdef extern from "Python.h":
    object PyUnicode_New(Py_ssize_t size, Py_UCS4 maxchar)
    void *PyUnicode_DATA(object text)
