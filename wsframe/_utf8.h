/*
 * Strict UTF-8 (RFC 3629 section 4; RFC 6455 section 8.1): incremental
 * validation, and turning validated UTF-8 into code points.
 *
 * Validation fails at the first byte that no valid sequence could contain,
 * so a stream fails as soon as the bad byte arrives: overlong forms (C0, C1,
 * E0 80-9F, F0 80-8F), surrogates (ED A0-BF), code points over U+10FFFF
 * (F4 90-BF, F5-FF) and stray continuation bytes.
 *
 * Two validators check a run of bytes that starts and ends on character
 * boundaries: a byte-at-a-time one (every platform) and, on x86-64 CPUs with
 * AVX2, a vector one that classifies 32 bytes at a time by table lookups on
 * each byte's nibbles and on its predecessors' (the method of Keiser and
 * Lemire, "Validating UTF-8 in less than one instruction per byte", 2021).
 * wsframe_utf8_validate() cuts each chunk so the vector one only sees whole
 * sequences, and carries a sequence cut between chunks in the state.
 */
#ifndef WSFRAME_UTF8_H
#define WSFRAME_UTF8_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#if (defined(__x86_64__) || defined(_M_X64)) && (defined(__GNUC__) || defined(__clang__))
#define WSFRAME_UTF8_AVX2 1
#include <immintrin.h>
#endif

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

/* The byte-at-a-time validator, resumable at any byte. Returns 1 while
 * everything seen can still be valid UTF-8, 0 at the first byte that cannot. */
static inline int
wsframe_utf8_validate_bytes(wsframe_utf8_state *state, const uint8_t *data, size_t length)
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

/* A validator of whole runs: 1 if data[0:length] is valid UTF-8 on its own. */
typedef int (*wsframe_utf8_run_fn)(const uint8_t *data, size_t length);

static int
wsframe_utf8_run_scalar(const uint8_t *data, size_t length)
{
    wsframe_utf8_state state;
    wsframe_utf8_reset(&state);
    return wsframe_utf8_validate_bytes(&state, data, length) && state.pending == 0;
}

#if defined(WSFRAME_UTF8_AVX2)
/* Error classes, one bit each, that a byte and the byte before it can show
 * (two share bit 6: they never meet on the same pair). A pair is invalid
 * when one class is in all three of: the class set of the first byte's high
 * nibble, of its low nibble, and of the second byte's high nibble. */
#define WSFRAME_U8_TOO_SHORT 0x01      /* lead, then no continuation */
#define WSFRAME_U8_TOO_LONG 0x02       /* ASCII, then a continuation */
#define WSFRAME_U8_OVERLONG_3 0x04     /* E0 80-9F */
#define WSFRAME_U8_TOO_LARGE 0x08      /* F4 90-BF, F5-FF 90-BF */
#define WSFRAME_U8_SURROGATE 0x10      /* ED A0-BF */
#define WSFRAME_U8_OVERLONG_2 0x20     /* C0, C1 */
#define WSFRAME_U8_TOO_LARGE_1000 0x40 /* F5-FF 80-8F */
#define WSFRAME_U8_OVERLONG_4 0x40     /* F0 80-8F */
#define WSFRAME_U8_TWO_CONTS 0x80      /* two continuations: valid only as a 3rd/4th byte */
#define WSFRAME_U8_CARRY (WSFRAME_U8_TOO_SHORT | WSFRAME_U8_TOO_LONG | WSFRAME_U8_TWO_CONTS)

/* `input`'s bytes shifted by n (1-3) positions, the gap filled from the end of `previous`. */
#define WSFRAME_U8_PREV(input, previous, n) \
    _mm256_alignr_epi8((input), _mm256_permute2x128_si256((previous), (input), 0x21), 16 - (n))

__attribute__((target("avx2"))) static inline __m256i
wsframe_utf8_block_errors_avx2(__m256i input, __m256i previous)
{
    /* Each table has 16 entries, one per nibble value; vpshufb looks up
     * within each 128-bit lane, so both lanes hold the same 16. */
#define WSFRAME_U8_TABLE(...) _mm256_broadcastsi128_si256(_mm_setr_epi8(__VA_ARGS__))
#define WSFRAME_U8_LATE_LEAD (WSFRAME_U8_CARRY | WSFRAME_U8_TOO_LARGE | WSFRAME_U8_TOO_LARGE_1000)
#define WSFRAME_U8_ANY_CONT (WSFRAME_U8_TOO_LONG | WSFRAME_U8_OVERLONG_2 | WSFRAME_U8_TWO_CONTS)
    const __m256i first_high = WSFRAME_U8_TABLE(
        WSFRAME_U8_TOO_LONG, WSFRAME_U8_TOO_LONG, WSFRAME_U8_TOO_LONG, WSFRAME_U8_TOO_LONG,
        WSFRAME_U8_TOO_LONG, WSFRAME_U8_TOO_LONG, WSFRAME_U8_TOO_LONG, WSFRAME_U8_TOO_LONG,
        (char)WSFRAME_U8_TWO_CONTS, (char)WSFRAME_U8_TWO_CONTS, (char)WSFRAME_U8_TWO_CONTS,
        (char)WSFRAME_U8_TWO_CONTS,
        WSFRAME_U8_TOO_SHORT | WSFRAME_U8_OVERLONG_2,
        WSFRAME_U8_TOO_SHORT,
        WSFRAME_U8_TOO_SHORT | WSFRAME_U8_OVERLONG_3 | WSFRAME_U8_SURROGATE,
        WSFRAME_U8_TOO_SHORT | WSFRAME_U8_TOO_LARGE | WSFRAME_U8_TOO_LARGE_1000 | WSFRAME_U8_OVERLONG_4);
    const __m256i first_low = WSFRAME_U8_TABLE(
        (char)(WSFRAME_U8_CARRY | WSFRAME_U8_OVERLONG_3 | WSFRAME_U8_OVERLONG_2 | WSFRAME_U8_OVERLONG_4),
        (char)(WSFRAME_U8_CARRY | WSFRAME_U8_OVERLONG_2),
        (char)WSFRAME_U8_CARRY, (char)WSFRAME_U8_CARRY,
        (char)(WSFRAME_U8_CARRY | WSFRAME_U8_TOO_LARGE),
        (char)WSFRAME_U8_LATE_LEAD, (char)WSFRAME_U8_LATE_LEAD, (char)WSFRAME_U8_LATE_LEAD,
        (char)WSFRAME_U8_LATE_LEAD, (char)WSFRAME_U8_LATE_LEAD, (char)WSFRAME_U8_LATE_LEAD,
        (char)WSFRAME_U8_LATE_LEAD, (char)WSFRAME_U8_LATE_LEAD,
        (char)(WSFRAME_U8_LATE_LEAD | WSFRAME_U8_SURROGATE),
        (char)WSFRAME_U8_LATE_LEAD, (char)WSFRAME_U8_LATE_LEAD);
    const __m256i second_high = WSFRAME_U8_TABLE(
        WSFRAME_U8_TOO_SHORT, WSFRAME_U8_TOO_SHORT, WSFRAME_U8_TOO_SHORT, WSFRAME_U8_TOO_SHORT,
        WSFRAME_U8_TOO_SHORT, WSFRAME_U8_TOO_SHORT, WSFRAME_U8_TOO_SHORT, WSFRAME_U8_TOO_SHORT,
        (char)(WSFRAME_U8_ANY_CONT | WSFRAME_U8_OVERLONG_3 | WSFRAME_U8_TOO_LARGE_1000 | WSFRAME_U8_OVERLONG_4),
        (char)(WSFRAME_U8_ANY_CONT | WSFRAME_U8_OVERLONG_3 | WSFRAME_U8_TOO_LARGE),
        (char)(WSFRAME_U8_ANY_CONT | WSFRAME_U8_SURROGATE | WSFRAME_U8_TOO_LARGE),
        (char)(WSFRAME_U8_ANY_CONT | WSFRAME_U8_SURROGATE | WSFRAME_U8_TOO_LARGE),
        WSFRAME_U8_TOO_SHORT, WSFRAME_U8_TOO_SHORT, WSFRAME_U8_TOO_SHORT, WSFRAME_U8_TOO_SHORT);
#undef WSFRAME_U8_TABLE
#undef WSFRAME_U8_LATE_LEAD
#undef WSFRAME_U8_ANY_CONT
    const __m256i nibble = _mm256_set1_epi8(0x0F);
    __m256i prev1 = WSFRAME_U8_PREV(input, previous, 1);
    __m256i special = _mm256_and_si256(
        _mm256_and_si256(_mm256_shuffle_epi8(first_high, _mm256_and_si256(_mm256_srli_epi16(prev1, 4), nibble)),
                         _mm256_shuffle_epi8(first_low, _mm256_and_si256(prev1, nibble))),
        _mm256_shuffle_epi8(second_high, _mm256_and_si256(_mm256_srli_epi16(input, 4), nibble)));
    /* A byte two after an E0-EF lead or three after an F0-FF lead must be a
     * continuation: exactly where TWO_CONTS may (and must) show. */
    __m256i third = _mm256_subs_epu8(WSFRAME_U8_PREV(input, previous, 2), _mm256_set1_epi8((char)(0xE0 - 0x80)));
    __m256i fourth = _mm256_subs_epu8(WSFRAME_U8_PREV(input, previous, 3), _mm256_set1_epi8((char)(0xF0 - 0x80)));
    __m256i must_continue = _mm256_and_si256(_mm256_or_si256(third, fourth), _mm256_set1_epi8((char)0x80));
    return _mm256_xor_si256(must_continue, special);
}

__attribute__((target("avx2"))) static int
wsframe_utf8_run_avx2(const uint8_t *data, size_t length)
{
    /* Bytes that leave a sequence open at the end of a block: a lead in the
     * last position, a 3- or 4-byte lead in the second to last, a 4-byte
     * lead in the third to last. */
    const __m256i open_at_end = _mm256_setr_epi8(
        -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
        -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
        (char)(0xF0 - 1), (char)(0xE0 - 1), (char)(0xC0 - 1));
    __m256i error = _mm256_setzero_si256();
    __m256i previous = _mm256_setzero_si256();
    __m256i previous_open = _mm256_setzero_si256();
    uint8_t last[32];
    size_t i = 0;

    while (i < length) {
        __m256i input;
        if (i + 32 <= length) {
            input = _mm256_loadu_si256((const __m256i *)(data + i));
        } else {
            /* The last partial block, padded with ASCII NULs: no read past the end. */
            memset(last, 0, sizeof last);
            memcpy(last, data + i, length - i);
            input = _mm256_loadu_si256((const __m256i *)last);
        }
        if (_mm256_movemask_epi8(input) == 0) {
            /* All ASCII: valid unless the previous block left a sequence open. */
            error = _mm256_or_si256(error, previous_open);
        } else {
            error = _mm256_or_si256(error, wsframe_utf8_block_errors_avx2(input, previous));
        }
        previous_open = _mm256_subs_epu8(input, open_at_end);
        previous = input;
        i += 32;
    }
    error = _mm256_or_si256(error, previous_open);
    return _mm256_testz_si256(error, error);
}
#endif /* WSFRAME_UTF8_AVX2 */

/* How many of data[0:length]'s bytes end on a character boundary: all of
 * them, or all but a last sequence that the data cuts short (its lead is in
 * the last 3 bytes). */
static inline size_t
wsframe_utf8_whole_prefix(const uint8_t *data, size_t length)
{
    size_t back;
    for (back = 1; back <= 3 && back <= length; back++) {
        uint8_t byte = data[length - back];
        if (byte < 0x80) {
            return length;
        }
        if (byte >= 0xC0) {
            size_t sequence = byte >= 0xF0 ? 4 : (byte >= 0xE0 ? 3 : 2);
            return sequence > back ? length - back : length;
        }
    }
    return length;
}

/* Validate the next chunk of a stream: 1 while everything seen can still be
 * valid UTF-8, 0 as soon as a byte cannot. `run` checks the whole sequences
 * in the middle; the bytes finishing a sequence the last chunk cut, and a
 * sequence this chunk cuts, go through the byte-at-a-time validator, which
 * keeps the state. */
static inline int
wsframe_utf8_validate(wsframe_utf8_run_fn run, wsframe_utf8_state *state, const uint8_t *data, size_t length)
{
    size_t start = state->pending < length ? state->pending : length;
    size_t end;
    if (!wsframe_utf8_validate_bytes(state, data, start)) {
        return 0;
    }
    if (state->pending) {
        return 1; /* the chunk ended inside the same sequence */
    }
    end = start + wsframe_utf8_whole_prefix(data + start, length - start);
    if (end > start && !run(data + start, end - start)) {
        return 0;
    }
    return wsframe_utf8_validate_bytes(state, data + end, length - end);
}

/* What a str of valid UTF-8 needs: its length in code points (bytes that are
 * not continuation bytes) and the widest of them, by class (127: ASCII,
 * 255: Latin-1, 0xFFFF: BMP, 0x10FFFF: beyond), read off the largest byte:
 * C2-C3 lead only Latin-1 characters, C4-EF only BMP ones above U+00FF,
 * F0-F4 only ones past U+FFFF. */
typedef size_t (*wsframe_utf8_measure_fn)(const uint8_t *data, size_t length, uint32_t *max_char);

/* The class of the widest character, from the largest byte. */
static inline uint32_t
wsframe_utf8_max_char(uint8_t largest_byte)
{
    return largest_byte < 0x80 ? 0x7F : (largest_byte < 0xC4 ? 0xFF : (largest_byte < 0xF0 ? 0xFFFF : 0x10FFFF));
}

/* The sum of a word's eight byte lanes: pairs into 16-bit lanes (up to 510
 * each), then those four summed by a multiply into the top 16 bits. */
static inline size_t
wsframe_utf8_lane_sum(uint64_t lanes)
{
    uint64_t pairs = (lanes & UINT64_C(0x00FF00FF00FF00FF)) + ((lanes >> 8) & UINT64_C(0x00FF00FF00FF00FF));
    return (size_t)((pairs * UINT64_C(0x0001000100010001)) >> 48);
}

/* Eight bytes at a time, in lanes: shifting a word left by k moves each
 * byte's bit 7-k to its bit 7, within the byte. Continuation bytes
 * (10xxxxxx) count 0/1 per lane, each lane summed up to 255 words; leads
 * 11xbbbxx with x or any b set are C4-FF (beyond Latin-1), 1111xxxx F0-FF. */
static size_t
wsframe_utf8_measure_scalar(const uint8_t *data, size_t length, uint32_t *max_char)
{
    const uint64_t top_bits = UINT64_C(0x8080808080808080);
    uint64_t lanes = 0, any_high = 0, any_wide = 0, any_astral = 0;
    size_t i = 0, continuations = 0, words = 0;
    for (; i + 8 <= length; i += 8) {
        uint64_t word, high, lead;
        memcpy(&word, data + i, 8);
        high = word & top_bits;
        if (high) {
            lead = high & (word << 1);
            lanes += (high & ~(word << 1)) >> 7;
            any_high |= high;
            any_wide |= lead & ((word << 2) | (word << 3) | (word << 4) | (word << 5));
            any_astral |= lead & (word << 2) & (word << 3);
            if (++words == 255) { /* before a lane can overflow */
                continuations += wsframe_utf8_lane_sum(lanes);
                lanes = 0;
                words = 0;
            }
        }
    }
    continuations += wsframe_utf8_lane_sum(lanes);
    for (; i < length; i++) {
        uint8_t byte = data[i];
        continuations += (byte & 0xC0) == 0x80;
        any_high |= byte & 0x80;
        any_wide |= byte >= 0xC4;
        any_astral |= byte >= 0xF0;
    }
    *max_char = any_astral ? 0x10FFFF : (any_wide ? 0xFFFF : (any_high ? 0xFF : 0x7F));
    return length - continuations;
}

#if defined(WSFRAME_UTF8_AVX2)
__attribute__((target("avx2,popcnt"))) static size_t
wsframe_utf8_measure_avx2(const uint8_t *data, size_t length, uint32_t *max_char)
{
    __m256i largest = _mm256_setzero_si256();
    uint8_t lanes[32];
    uint8_t top = 0;
    size_t i = 0, continuations = 0, j;
    /* Leading all-ASCII blocks need no counting (and text that is all
     * ASCII, the most common, is done after one movemask per block). */
    while (i + 32 <= length && !_mm256_movemask_epi8(_mm256_loadu_si256((const __m256i *)(data + i)))) {
        i += 32;
    }
    for (; i + 32 <= length; i += 32) {
        __m256i input = _mm256_loadu_si256((const __m256i *)(data + i));
        /* As signed bytes, 80-BF are -128..-65: below -64. */
        __m256i continuation = _mm256_cmpgt_epi8(_mm256_set1_epi8(-64), input);
        continuations += (size_t)__builtin_popcount((unsigned int)_mm256_movemask_epi8(continuation));
        largest = _mm256_max_epu8(largest, input);
    }
    _mm256_storeu_si256((__m256i *)lanes, largest);
    for (j = 0; j < 32; j++) {
        top = lanes[j] > top ? lanes[j] : top;
    }
    for (; i < length; i++) {
        continuations += (data[i] & 0xC0) == 0x80;
        top = data[i] > top ? data[i] : top;
    }
    *max_char = wsframe_utf8_max_char(top);
    return length - continuations;
}
#endif

typedef struct {
    const char *name;
    wsframe_utf8_run_fn validate;
    wsframe_utf8_measure_fn measure;
} wsframe_utf8_kernel;

/* Every vector width this build has, widest last; index 0 is the portable one. */
static const wsframe_utf8_kernel wsframe_utf8_kernels[] = {
    {"scalar", wsframe_utf8_run_scalar, wsframe_utf8_measure_scalar},
#if defined(WSFRAME_UTF8_AVX2)
    {"avx2", wsframe_utf8_run_avx2, wsframe_utf8_measure_avx2},
#endif
};

#define WSFRAME_UTF8_KERNEL_COUNT (sizeof wsframe_utf8_kernels / sizeof wsframe_utf8_kernels[0])

/* Whether this CPU runs kernel `index`. */
static int
wsframe_utf8_kernel_supported(size_t index)
{
    if (index >= WSFRAME_UTF8_KERNEL_COUNT) {
        return 0;
    }
#if defined(WSFRAME_UTF8_AVX2)
    if (strcmp(wsframe_utf8_kernels[index].name, "avx2") == 0) {
        __builtin_cpu_init();
        return __builtin_cpu_supports("avx2");
    }
#endif
    return 1;
}

/* The widest kernel this CPU runs. */
static size_t
wsframe_utf8_select(void)
{
    size_t index = WSFRAME_UTF8_KERNEL_COUNT;
    while (index-- > 1) {
        if (wsframe_utf8_kernel_supported(index)) {
            return index;
        }
    }
    return 0;
}

/* Runs of ASCII in text being decoded go 16 bytes at a time where SSE2 is
 * (every x86-64 CPU), each block that is all ASCII widened at once to code
 * points of the str's width; elsewhere 8 bytes at a time, checked as a
 * word. Measured on 1 KiB of JSON-like text with a BMP character every 200
 * bytes: 64 ns instead of 200. (Widening every block and advancing past its
 * ASCII prefix only was tried: 35% slower on text mixing short runs.) */
#if defined(__SSE2__) || defined(_M_X64)
#include <emmintrin.h>

static inline void
wsframe_utf8_widen_ucs1(__m128i bytes, uint8_t *out)
{
    _mm_storeu_si128((__m128i *)out, bytes);
}

static inline void
wsframe_utf8_widen_ucs2(__m128i bytes, uint16_t *out)
{
    __m128i zero = _mm_setzero_si128();
    _mm_storeu_si128((__m128i *)out, _mm_unpacklo_epi8(bytes, zero));
    _mm_storeu_si128((__m128i *)(out + 8), _mm_unpackhi_epi8(bytes, zero));
}

static inline void
wsframe_utf8_widen_ucs4(__m128i bytes, uint32_t *out)
{
    __m128i zero = _mm_setzero_si128();
    __m128i low = _mm_unpacklo_epi8(bytes, zero), high = _mm_unpackhi_epi8(bytes, zero);
    _mm_storeu_si128((__m128i *)out, _mm_unpacklo_epi16(low, zero));
    _mm_storeu_si128((__m128i *)(out + 4), _mm_unpackhi_epi16(low, zero));
    _mm_storeu_si128((__m128i *)(out + 8), _mm_unpacklo_epi16(high, zero));
    _mm_storeu_si128((__m128i *)(out + 12), _mm_unpackhi_epi16(high, zero));
}

#define WSFRAME_UTF8_ASCII_RUN(CHAR, WIDEN)                                          \
    while (i + 16 <= length) {                                                       \
        __m128i bytes = _mm_loadu_si128((const __m128i *)(data + i));                \
        if (_mm_movemask_epi8(bytes)) {                                              \
            break;                                                                   \
        }                                                                            \
        WIDEN(bytes, out);                                                           \
        out += 16;                                                                   \
        i += 16;                                                                     \
    }
#else
#define WSFRAME_UTF8_ASCII_RUN(CHAR, WIDEN)                                          \
    while (i + 8 <= length) {                                                        \
        uint64_t word;                                                               \
        size_t j;                                                                    \
        memcpy(&word, data + i, 8);                                                  \
        if (word & UINT64_C(0x8080808080808080)) {                                   \
            break;                                                                   \
        }                                                                            \
        for (j = 0; j < 8; j++) {                                                    \
            out[j] = (CHAR)data[i + j];                                              \
        }                                                                            \
        out += 8;                                                                    \
        i += 8;                                                                      \
    }
#endif

/* Decode valid UTF-8 into `out`, code points of `CHAR` (1, 2 or 4 bytes,
 * wide enough for every character in the data). No validation: the input
 * must have passed wsframe_utf8_validate() whole, so every sequence is
 * complete and nothing past `length` is read. */
#define WSFRAME_UTF8_DECODE_INTO(NAME, CHAR, WIDEN)                                   \
    static void NAME(const uint8_t *data, size_t length, CHAR *out)                   \
    {                                                                                 \
        size_t i = 0;                                                                 \
        while (i < length) {                                                          \
            uint8_t byte = data[i];                                                   \
            if (byte < 0x80) {                                                        \
                WSFRAME_UTF8_ASCII_RUN(CHAR, WIDEN)                                   \
                while (i < length && data[i] < 0x80) {                                \
                    *out++ = (CHAR)data[i++];                                         \
                }                                                                     \
            } else if (byte < 0xE0) {                                                 \
                *out++ = (CHAR)(((uint32_t)(byte & 0x1F) << 6) | (data[i + 1] & 0x3F)); \
                i += 2;                                                               \
            } else if (byte < 0xF0) {                                                 \
                *out++ = (CHAR)(((uint32_t)(byte & 0x0F) << 12)                       \
                                | ((uint32_t)(data[i + 1] & 0x3F) << 6)               \
                                | (data[i + 2] & 0x3F));                              \
                i += 3;                                                               \
            } else {                                                                  \
                *out++ = (CHAR)(((uint32_t)(byte & 0x07) << 18)                       \
                                | ((uint32_t)(data[i + 1] & 0x3F) << 12)              \
                                | ((uint32_t)(data[i + 2] & 0x3F) << 6)               \
                                | (data[i + 3] & 0x3F));                              \
                i += 4;                                                               \
            }                                                                         \
        }                                                                             \
    }

WSFRAME_UTF8_DECODE_INTO(wsframe_utf8_decode_ucs1, uint8_t, wsframe_utf8_widen_ucs1)
WSFRAME_UTF8_DECODE_INTO(wsframe_utf8_decode_ucs2, uint16_t, wsframe_utf8_widen_ucs2)
WSFRAME_UTF8_DECODE_INTO(wsframe_utf8_decode_ucs4, uint32_t, wsframe_utf8_widen_ucs4)

#endif /* WSFRAME_UTF8_H */
