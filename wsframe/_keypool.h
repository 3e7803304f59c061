/* Masking keys for encode_frame(mask=True): bytes from the OS CSPRNG, fetched
 * 4 KiB at a time because one getrandom() per frame costs more than the rest
 * of encoding a small frame. Each byte is used once (RFC 6455 section 5.3: a
 * fresh, unpredictable key per frame).
 *
 * One pool per thread: threads never share a key and never race on the
 * position, whether a GIL serialises them or not (free-threaded CPython).
 */
#ifndef WSFRAME_KEYPOOL_H
#define WSFRAME_KEYPOOL_H

#include <stddef.h>
#include <stdint.h>

#if defined(_MSC_VER)
#define WSFRAME_THREAD_LOCAL __declspec(thread)
#elif defined(__STDC_VERSION__) && __STDC_VERSION__ >= 201112L
#define WSFRAME_THREAD_LOCAL _Thread_local
#else
#define WSFRAME_THREAD_LOCAL __thread
#endif

#define WSFRAME_KEY_POOL_SIZE 4096

typedef struct {
    uint8_t bytes[WSFRAME_KEY_POOL_SIZE];
    size_t position; /* next unused byte; WSFRAME_KEY_POOL_SIZE when empty */
} wsframe_key_pool;

static WSFRAME_THREAD_LOCAL wsframe_key_pool wsframe_thread_key_pool = {{0}, WSFRAME_KEY_POOL_SIZE};

/* The calling thread's pool. */
static inline wsframe_key_pool *wsframe_key_pool_get(void) { return &wsframe_thread_key_pool; }

#endif
