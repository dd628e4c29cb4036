/*
 * Sixteen-lane SHA-1 (FIPS 180-4 §6.1) on AVX-512. Written from the standard:
 * each 32-bit lane runs the ordinary SHA-1 compression on its own message; the
 * three round functions are single vpternlogd instructions and the rotations
 * single vprold instructions, which is what makes the wide version fast.
 */
#include "bf_sha1.h"

#include <string.h>

#if defined(__x86_64__)
#include <immintrin.h>

static const uint32_t initial_state[5] = {0x67452301u, 0xEFCDAB89u, 0x98BADCFEu, 0x10325476u, 0xC3D2E1F0u};

int bf_sha1x16_available(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw");
}

void bf_sha1x16_init(bf_sha1x16_state *state) {
    for (int word = 0; word < 5; word++)
        for (int lane = 0; lane < BF_SHA1X16_LANES; lane++) state->h[word][lane] = initial_state[word];
}

/* vpternlogd truth tables with a = 0xF0, b = 0xCC, c = 0xAA. */
#define TERN_CHOOSE 0xCA /* (b & c) | (~b & d) */
#define TERN_PARITY 0x96 /* b ^ c ^ d */
#define TERN_MAJORITY 0xE8 /* (b & c) | (b & d) | (c & d) */

#define ROUND(F, K, W)                                                                          \
    do {                                                                                        \
        __m512i t_ = _mm512_add_epi32(_mm512_rol_epi32(a, 5), _mm512_ternarylogic_epi32(b, c, d, F)); \
        t_ = _mm512_add_epi32(t_, _mm512_add_epi32(e, _mm512_add_epi32(W, K)));               \
        e = d;                                                                                  \
        d = c;                                                                                  \
        c = _mm512_rol_epi32(b, 30);                                                            \
        b = a;                                                                                  \
        a = t_;                                                                                 \
    } while (0)

/* W[t] = rotl1(W[t-3] ^ W[t-8] ^ W[t-14] ^ W[t-16]), kept in a ring of sixteen. */
#define SCHEDULE(t)                                                                             \
    (w[(t) & 15] = _mm512_rol_epi32(                                                           \
         _mm512_xor_si512(_mm512_ternarylogic_epi32(w[((t) - 3) & 15], w[((t) - 8) & 15],       \
                                                    w[((t) - 14) & 15], TERN_PARITY),           \
                          w[((t) - 16) & 15]),                                                  \
         1))

__attribute__((target("avx512f,avx512bw")))
void bf_sha1x16_update(bf_sha1x16_state *state, const uint8_t *base,
                       const int32_t offsets[BF_SHA1X16_LANES], size_t blocks) {
    __m512i a = _mm512_loadu_si512(state->h[0]);
    __m512i b = _mm512_loadu_si512(state->h[1]);
    __m512i c = _mm512_loadu_si512(state->h[2]);
    __m512i d = _mm512_loadu_si512(state->h[3]);
    __m512i e = _mm512_loadu_si512(state->h[4]);
    __m512i position = _mm512_loadu_si512(offsets);
    /* SHA-1 words are big-endian: reverse the bytes of each dword. */
    const __m512i byte_swap = _mm512_set_epi8(
        60, 61, 62, 63, 56, 57, 58, 59, 52, 53, 54, 55, 48, 49, 50, 51,
        44, 45, 46, 47, 40, 41, 42, 43, 36, 37, 38, 39, 32, 33, 34, 35,
        28, 29, 30, 31, 24, 25, 26, 27, 20, 21, 22, 23, 16, 17, 18, 19,
        12, 13, 14, 15, 8, 9, 10, 11, 4, 5, 6, 7, 0, 1, 2, 3);
    const __m512i four = _mm512_set1_epi32(4);
    const __m512i k0 = _mm512_set1_epi32(0x5A827999), k1 = _mm512_set1_epi32(0x6ED9EBA1);
    const __m512i k2 = _mm512_set1_epi32((int)0x8F1BBCDCu), k3 = _mm512_set1_epi32((int)0xCA62C1D6u);

    for (size_t block = 0; block < blocks; block++) {
        __m512i w[16];
        __m512i at = position;
        for (int t = 0; t < 16; t++) {
            /* Word t of every lane's block: a gather of sixteen dwords, then byte-swapped
             * (vpshufb reads the low four bits of each index, within 128-bit lanes). */
            w[t] = _mm512_shuffle_epi8(_mm512_i32gather_epi32(at, (const void *)base, 1), byte_swap);
            at = _mm512_add_epi32(at, four);
        }
        position = _mm512_add_epi32(position, _mm512_set1_epi32(64));
        const __m512i a0 = a, b0 = b, c0 = c, d0 = d, e0 = e;

#pragma clang loop unroll(full)
        for (int t = 0; t < 16; t++) ROUND(TERN_CHOOSE, k0, w[t]);
#pragma clang loop unroll(full)
        for (int t = 16; t < 20; t++) ROUND(TERN_CHOOSE, k0, SCHEDULE(t));
#pragma clang loop unroll(full)
        for (int t = 20; t < 40; t++) ROUND(TERN_PARITY, k1, SCHEDULE(t));
#pragma clang loop unroll(full)
        for (int t = 40; t < 60; t++) ROUND(TERN_MAJORITY, k2, SCHEDULE(t));
#pragma clang loop unroll(full)
        for (int t = 60; t < 80; t++) ROUND(TERN_PARITY, k3, SCHEDULE(t));

        a = _mm512_add_epi32(a, a0);
        b = _mm512_add_epi32(b, b0);
        c = _mm512_add_epi32(c, c0);
        d = _mm512_add_epi32(d, d0);
        e = _mm512_add_epi32(e, e0);
    }
    _mm512_storeu_si512(state->h[0], a);
    _mm512_storeu_si512(state->h[1], b);
    _mm512_storeu_si512(state->h[2], c);
    _mm512_storeu_si512(state->h[3], d);
    _mm512_storeu_si512(state->h[4], e);
}

void bf_sha1x16_finish(bf_sha1x16_state *state, const uint8_t *base,
                       const int32_t offsets[BF_SHA1X16_LANES], size_t tail_length,
                       uint64_t total_length, uint8_t digests[BF_SHA1X16_LANES * 20]) {
    /* Every lane has the same length, so every lane pads to the same block count. */
    enum { stride = 128 };
    uint8_t padded[BF_SHA1X16_LANES * stride] __attribute__((aligned(64)));
    int32_t padded_offsets[BF_SHA1X16_LANES];
    const size_t blocks = tail_length + 9 <= 64 ? 1 : 2;
    const uint64_t bits = total_length * 8;
    memset(padded, 0, sizeof padded);
    for (int lane = 0; lane < BF_SHA1X16_LANES; lane++) {
        uint8_t *out = padded + lane * stride;
        if (tail_length) memcpy(out, base + offsets[lane], tail_length);
        out[tail_length] = 0x80;
        for (int i = 0; i < 8; i++) out[blocks * 64 - 1 - i] = (uint8_t)(bits >> (8 * i));
        padded_offsets[lane] = lane * stride;
    }
    bf_sha1x16_update(state, padded, padded_offsets, blocks);
    for (int lane = 0; lane < BF_SHA1X16_LANES; lane++)
        for (int word = 0; word < 5; word++) {
            const uint32_t value = state->h[word][lane];
            uint8_t *out = digests + lane * 20 + word * 4;
            out[0] = (uint8_t)(value >> 24);
            out[1] = (uint8_t)(value >> 16);
            out[2] = (uint8_t)(value >> 8);
            out[3] = (uint8_t)value;
        }
}

#else /* not x86-64: the callers use their one-message path */

int bf_sha1x16_available(void) { return 0; }
void bf_sha1x16_init(bf_sha1x16_state *state) { (void)state; }
void bf_sha1x16_update(bf_sha1x16_state *state, const uint8_t *base, const int32_t offsets[BF_SHA1X16_LANES], size_t blocks) {
    (void)state; (void)base; (void)offsets; (void)blocks;
}
void bf_sha1x16_finish(bf_sha1x16_state *state, const uint8_t *base, const int32_t offsets[BF_SHA1X16_LANES], size_t tail_length,
                       uint64_t total_length, uint8_t digests[BF_SHA1X16_LANES * 20]) {
    (void)state; (void)base; (void)offsets; (void)tail_length; (void)total_length; (void)digests;
}

#endif
