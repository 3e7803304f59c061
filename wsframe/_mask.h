/*
 * XOR masking of WebSocket payloads (RFC 6455 section 5.3).
 *
 * Byte i of the payload is XORed with key[(phase + i) % 4], where `phase` is
 * how many payload bytes came before this chunk, modulo 4. `src` and `dst` may
 * be the same pointer (masking in place); they must not otherwise overlap.
 *
 * One portable kernel and SIMD kernels for x86-64 (SSE2, AVX2, AVX-512) and
 * AArch64 (NEON). Every kernel moves data with unaligned loads and stores (or
 * memcpy), never reads or writes outside [0, n), and finishes the tail with
 * the same byte loop; wsframe_mask_select() picks the widest one the CPU runs,
 * once, when the module is imported.
 */
#ifndef WSFRAME_MASK_H
#define WSFRAME_MASK_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#if defined(__x86_64__) || defined(_M_X64)
#define WSFRAME_X86_64 1
#include <immintrin.h>
#elif defined(__aarch64__) || defined(_M_ARM64)
#define WSFRAME_AARCH64 1
#include <arm_neon.h>
#endif

#if defined(WSFRAME_X86_64) && (defined(__GNUC__) || defined(__clang__))
/* AVX2 and AVX-512 code is compiled for those targets function by function
 * and only called after the CPU said it has them. */
#define WSFRAME_X86_DISPATCH 1
#endif

typedef void (*wsframe_mask_fn)(const uint8_t *src, uint8_t *dst, size_t n, const uint8_t *key, size_t phase);

/* The key stream from `phase` on: stream[j] = key[(phase + j) % 4]. */
static inline void
wsframe_key_stream(const uint8_t *key, size_t phase, uint8_t stream[8])
{
    size_t j;
    for (j = 0; j < 8; j++) {
        stream[j] = key[(phase + j) & 3];
    }
}

/* Bytes [i, n): an 8-byte and a 4-byte word while they fit, then single
 * bytes. i must be a multiple of 4 so that the stream keeps the key phase.
 * A SIMD kernel leaves at most 15 bytes here; done a byte at a time they cost
 * as much as the rest of a 125-byte frame (measured). */
static inline void
wsframe_mask_tail(const uint8_t *src, uint8_t *dst, size_t i, size_t n, const uint8_t stream[8])
{
    for (; i + 8 <= n; i += 8) {
        uint64_t word, key_word;
        memcpy(&key_word, stream, 8);
        memcpy(&word, src + i, 8);
        word ^= key_word;
        memcpy(dst + i, &word, 8);
    }
    if (i + 4 <= n) {
        uint32_t word, key_word;
        memcpy(&key_word, stream, 4);
        memcpy(&word, src + i, 4);
        word ^= key_word;
        memcpy(dst + i, &word, 4);
        i += 4;
    }
    for (; i < n; i++) {
        dst[i] = (uint8_t)(src[i] ^ stream[i & 3]);
    }
}

/* Mask the bytes before the destination reaches a multiple of `alignment`
 * (a power of two) and move the buffers, the length and the key phase past
 * them, for a vector kernel to go on with. Stores that straddle cache lines
 * cost more than unaligned loads, and a bytes object's data sits 32 bytes
 * into its block: without this, a 1 MiB copying mask with AVX-512 was 5%
 * slower than memcpy (measured). */
static inline void
wsframe_mask_align(const uint8_t **src, uint8_t **dst, size_t *n, const uint8_t *key, size_t *phase,
                   size_t alignment)
{
    uint8_t stream[8];
    size_t head = (size_t)(-(uintptr_t)*dst) & (alignment - 1);
    wsframe_key_stream(key, *phase, stream);
    wsframe_mask_tail(*src, *dst, 0, head, stream);
    *src += head;
    *dst += head;
    *n -= head;
    *phase = (*phase + head) & 3;
}

/* Portable kernel: 64-bit words moved with memcpy (no alignment or aliasing
 * assumptions). Also the reference the SIMD kernels are tested against. */
static void
wsframe_mask_scalar(const uint8_t *src, uint8_t *dst, size_t n, const uint8_t *key, size_t phase)
{
    uint8_t stream[8];

    wsframe_key_stream(key, phase, stream);
    wsframe_mask_tail(src, dst, 0, n, stream);
}

#if defined(WSFRAME_X86_64)
static void
wsframe_mask_sse2(const uint8_t *src, uint8_t *dst, size_t n, const uint8_t *key, size_t phase)
{
    uint8_t stream[8];
    int32_t key32;
    __m128i k;
    size_t i = 0;

    wsframe_key_stream(key, phase, stream);
    memcpy(&key32, stream, 4);
    k = _mm_set1_epi32(key32);
    for (; i + 64 <= n; i += 64) {
        __m128i a = _mm_loadu_si128((const __m128i *)(src + i));
        __m128i b = _mm_loadu_si128((const __m128i *)(src + i + 16));
        __m128i c = _mm_loadu_si128((const __m128i *)(src + i + 32));
        __m128i d = _mm_loadu_si128((const __m128i *)(src + i + 48));
        _mm_storeu_si128((__m128i *)(dst + i), _mm_xor_si128(a, k));
        _mm_storeu_si128((__m128i *)(dst + i + 16), _mm_xor_si128(b, k));
        _mm_storeu_si128((__m128i *)(dst + i + 32), _mm_xor_si128(c, k));
        _mm_storeu_si128((__m128i *)(dst + i + 48), _mm_xor_si128(d, k));
    }
    for (; i + 16 <= n; i += 16) {
        _mm_storeu_si128((__m128i *)(dst + i), _mm_xor_si128(_mm_loadu_si128((const __m128i *)(src + i)), k));
    }
    wsframe_mask_tail(src, dst, i, n, stream);
}
#endif

#if defined(WSFRAME_X86_DISPATCH)
__attribute__((target("avx2"))) static void
wsframe_mask_avx2(const uint8_t *src, uint8_t *dst, size_t n, const uint8_t *key, size_t phase)
{
    uint8_t stream[8];
    int32_t key32;
    __m256i k;
    size_t i = 0;

    if (n >= 512) {
        wsframe_mask_align(&src, &dst, &n, key, &phase, 32);
    }
    wsframe_key_stream(key, phase, stream);
    memcpy(&key32, stream, 4);
    k = _mm256_set1_epi32(key32);
    for (; i + 128 <= n; i += 128) {
        __m256i a = _mm256_loadu_si256((const __m256i *)(src + i));
        __m256i b = _mm256_loadu_si256((const __m256i *)(src + i + 32));
        __m256i c = _mm256_loadu_si256((const __m256i *)(src + i + 64));
        __m256i d = _mm256_loadu_si256((const __m256i *)(src + i + 96));
        _mm256_storeu_si256((__m256i *)(dst + i), _mm256_xor_si256(a, k));
        _mm256_storeu_si256((__m256i *)(dst + i + 32), _mm256_xor_si256(b, k));
        _mm256_storeu_si256((__m256i *)(dst + i + 64), _mm256_xor_si256(c, k));
        _mm256_storeu_si256((__m256i *)(dst + i + 96), _mm256_xor_si256(d, k));
    }
    for (; i + 32 <= n; i += 32) {
        _mm256_storeu_si256((__m256i *)(dst + i),
                            _mm256_xor_si256(_mm256_loadu_si256((const __m256i *)(src + i)), k));
    }
    if (i + 16 <= n) {
        __m128i k128 = _mm256_castsi256_si128(k);
        _mm_storeu_si128((__m128i *)(dst + i), _mm_xor_si128(_mm_loadu_si128((const __m128i *)(src + i)), k128));
        i += 16;
    }
    wsframe_mask_tail(src, dst, i, n, stream);
}

__attribute__((target("avx512f,avx512bw"))) static void
wsframe_mask_avx512(const uint8_t *src, uint8_t *dst, size_t n, const uint8_t *key, size_t phase)
{
    uint8_t stream[8];
    int32_t key32;
    __m512i k;
    size_t i = 0;

    if (n >= 512) {
        wsframe_mask_align(&src, &dst, &n, key, &phase, 64);
    }
    wsframe_key_stream(key, phase, stream);
    memcpy(&key32, stream, 4);
    k = _mm512_set1_epi32(key32);
    for (; i + 256 <= n; i += 256) {
        __m512i a = _mm512_loadu_si512((const void *)(src + i));
        __m512i b = _mm512_loadu_si512((const void *)(src + i + 64));
        __m512i c = _mm512_loadu_si512((const void *)(src + i + 128));
        __m512i d = _mm512_loadu_si512((const void *)(src + i + 192));
        _mm512_storeu_si512((void *)(dst + i), _mm512_xor_si512(a, k));
        _mm512_storeu_si512((void *)(dst + i + 64), _mm512_xor_si512(b, k));
        _mm512_storeu_si512((void *)(dst + i + 128), _mm512_xor_si512(c, k));
        _mm512_storeu_si512((void *)(dst + i + 192), _mm512_xor_si512(d, k));
    }
    for (; i + 64 <= n; i += 64) {
        _mm512_storeu_si512((void *)(dst + i), _mm512_xor_si512(_mm512_loadu_si512((const void *)(src + i)), k));
    }
    /* The last 0-63 bytes in 32- and 16-byte steps, then bytes (AVX-512
     * implies AVX2 and SSE2): the same shape as the other kernels, so one set
     * of tail tests covers them all. */
    if (i + 32 <= n) {
        __m256i k256 = _mm512_castsi512_si256(k);
        _mm256_storeu_si256((__m256i *)(dst + i),
                            _mm256_xor_si256(_mm256_loadu_si256((const __m256i *)(src + i)), k256));
        i += 32;
    }
    if (i + 16 <= n) {
        __m128i k128 = _mm512_castsi512_si128(k);
        _mm_storeu_si128((__m128i *)(dst + i), _mm_xor_si128(_mm_loadu_si128((const __m128i *)(src + i)), k128));
        i += 16;
    }
    wsframe_mask_tail(src, dst, i, n, stream);
}
#endif

#if defined(WSFRAME_AARCH64)
static void
wsframe_mask_neon(const uint8_t *src, uint8_t *dst, size_t n, const uint8_t *key, size_t phase)
{
    uint8_t stream[8];
    uint8_t pattern[16];
    uint8x16_t k;
    size_t i = 0;

    wsframe_key_stream(key, phase, stream);
    memcpy(pattern, stream, 8);
    memcpy(pattern + 8, stream, 8);
    k = vld1q_u8(pattern);
    for (; i + 64 <= n; i += 64) {
        uint8x16_t a = vld1q_u8(src + i);
        uint8x16_t b = vld1q_u8(src + i + 16);
        uint8x16_t c = vld1q_u8(src + i + 32);
        uint8x16_t d = vld1q_u8(src + i + 48);
        vst1q_u8(dst + i, veorq_u8(a, k));
        vst1q_u8(dst + i + 16, veorq_u8(b, k));
        vst1q_u8(dst + i + 32, veorq_u8(c, k));
        vst1q_u8(dst + i + 48, veorq_u8(d, k));
    }
    for (; i + 16 <= n; i += 16) {
        vst1q_u8(dst + i, veorq_u8(vld1q_u8(src + i), k));
    }
    wsframe_mask_tail(src, dst, i, n, stream);
}
#endif

typedef struct {
    const char *name;
    wsframe_mask_fn function;
} wsframe_mask_kernel;

/* Every kernel this build has, widest last; index 0 is the portable one. */
static const wsframe_mask_kernel wsframe_mask_kernels[] = {
    {"scalar", wsframe_mask_scalar},
#if defined(WSFRAME_X86_64)
    {"sse2", wsframe_mask_sse2},
#endif
#if defined(WSFRAME_X86_DISPATCH)
    {"avx2", wsframe_mask_avx2},
    {"avx512", wsframe_mask_avx512},
#endif
#if defined(WSFRAME_AARCH64)
    {"neon", wsframe_mask_neon},
#endif
};

#define WSFRAME_MASK_KERNEL_COUNT (sizeof wsframe_mask_kernels / sizeof wsframe_mask_kernels[0])

/* Whether this CPU runs kernel `index`. */
static int
wsframe_mask_kernel_supported(size_t index)
{
    const char *name;
    if (index >= WSFRAME_MASK_KERNEL_COUNT) {
        return 0;
    }
    name = wsframe_mask_kernels[index].name;
#if defined(WSFRAME_X86_DISPATCH)
    __builtin_cpu_init();
    if (strcmp(name, "avx2") == 0) {
        return __builtin_cpu_supports("avx2");
    }
    if (strcmp(name, "avx512") == 0) {
        return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw");
    }
#endif
    (void)name;
    return 1; /* scalar, and SSE2/NEON, which their architectures always have */
}

/* The widest kernel this CPU runs. */
static size_t
wsframe_mask_select(void)
{
    size_t index = WSFRAME_MASK_KERNEL_COUNT;
    while (index-- > 1) {
        if (wsframe_mask_kernel_supported(index)) {
            return index;
        }
    }
    return 0;
}

#endif /* WSFRAME_MASK_H */
