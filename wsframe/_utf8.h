/*
 * Incremental, strict UTF-8 validation (RFC 3629 section 4; RFC 6455 section 8.1).
 *
 * The state carries a sequence cut between chunks: how many continuation
 * bytes are still due and the range the next one must fall in. Validation
 * fails at the first byte that no valid sequence could contain, so a stream
 * fails as soon as the bad byte arrives: overlong forms (C0, C1, E0 80-9F,
 * F0 80-8F), surrogates (ED A0-BF), code points over U+10FFFF (F4 90-BF,
 * F5-FF) and stray continuation bytes.
 */
#ifndef WSFRAME_UTF8_H
#define WSFRAME_UTF8_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef struct {
    uint8_t pending; /* continuation bytes still due */
    uint8_t low;     /* range the next continuation byte must fall in */
    uint8_t high;
} wsframe_utf8_state;

static inline void
wsframe_utf8_reset(wsframe_utf8_state *state)
{
    state->pending = 0;
    state->low = 0x80;
    state->high = 0xBF;
}

/* 1 when the sequence ends on a character boundary. */
static inline int
wsframe_utf8_complete(const wsframe_utf8_state *state)
{
    return state->pending == 0;
}

/* Returns 1 while everything seen can still be valid UTF-8, 0 at the first
 * byte that cannot. */
static inline int
wsframe_utf8_validate(wsframe_utf8_state *state, const uint8_t *data, size_t length)
{
    size_t i = 0;
    uint8_t pending = state->pending, low = state->low, high = state->high;

    while (i < length) {
        uint8_t byte;
        if (pending == 0) {
            /* ASCII fast path, 8 bytes at a time. */
            while (i + 8 <= length) {
                uint64_t word;
                memcpy(&word, data + i, 8);
                if (word & UINT64_C(0x8080808080808080)) {
                    break;
                }
                i += 8;
            }
            if (i == length) {
                break;
            }
            byte = data[i++];
            if (byte < 0x80) {
                continue;
            }
            low = 0x80;
            high = 0xBF;
            if (byte >= 0xC2 && byte <= 0xDF) {
                pending = 1;
            } else if (byte == 0xE0) {
                pending = 2;
                low = 0xA0;
            } else if (byte == 0xED) {
                pending = 2;
                high = 0x9F;
            } else if (byte >= 0xE1 && byte <= 0xEF) {
                pending = 2;
            } else if (byte == 0xF0) {
                pending = 3;
                low = 0x90;
            } else if (byte >= 0xF1 && byte <= 0xF3) {
                pending = 3;
            } else if (byte == 0xF4) {
                pending = 3;
                high = 0x8F;
            } else {
                return 0;
            }
        } else {
            byte = data[i++];
            if (byte < low || byte > high) {
                return 0;
            }
            pending--;
            low = 0x80;
            high = 0xBF;
        }
    }
    state->pending = pending;
    state->low = low;
    state->high = high;
    return 1;
}

#endif /* WSFRAME_UTF8_H */
