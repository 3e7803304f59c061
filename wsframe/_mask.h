/*
 * XOR masking of WebSocket payloads (RFC 6455 section 5.3).
 *
 * Byte i of the payload is XORed with key[(phase + i) % 4], where `phase` is
 * how many payload bytes came before this chunk, modulo 4.
 *
 * Portable kernel: 64-bit words moved with memcpy, so no unaligned access, no
 * strict-aliasing violation and no read or write outside [0, n) whatever the
 * alignment of src and dst; compilers turn the memcpy calls into plain loads
 * and stores and may vectorize the loop.
 */
#ifndef WSFRAME_MASK_H
#define WSFRAME_MASK_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* src and dst may be the same pointer (masking in place); they must not
 * otherwise overlap. */
static inline void
wsframe_mask(const uint8_t *src, uint8_t *dst, size_t n, const uint8_t *key, size_t phase)
{
    uint8_t stream[8];
    uint64_t key_word;
    size_t i = 0;
    size_t j;

    for (j = 0; j < 8; j++) {
        stream[j] = key[(phase + j) & 3];
    }
    memcpy(&key_word, stream, sizeof key_word);

    for (; i + 32 <= n; i += 32) {
        uint64_t w0, w1, w2, w3;
        memcpy(&w0, src + i, 8);
        memcpy(&w1, src + i + 8, 8);
        memcpy(&w2, src + i + 16, 8);
        memcpy(&w3, src + i + 24, 8);
        w0 ^= key_word;
        w1 ^= key_word;
        w2 ^= key_word;
        w3 ^= key_word;
        memcpy(dst + i, &w0, 8);
        memcpy(dst + i + 8, &w1, 8);
        memcpy(dst + i + 16, &w2, 8);
        memcpy(dst + i + 24, &w3, 8);
    }
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, src + i, 8);
        w ^= key_word;
        memcpy(dst + i, &w, 8);
    }
    /* i is a multiple of 8 here, so the stream index keeps the key phase. */
    for (; i < n; i++) {
        dst[i] = (uint8_t)(src[i] ^ stream[i & 7]);
    }
}

#endif /* WSFRAME_MASK_H */
