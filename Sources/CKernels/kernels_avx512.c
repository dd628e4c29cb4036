/* AVX-512BW kernels: 512-bit vectors; GF(256) products by two `pshufb` lookups (low and
 * high nibble) in the 16-entry tables of the coefficient. Compiled for AVX-512BW with a
 * target attribute and only called when the CPU reports it. */
#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>
#include <string.h>
#include "kernels_internal.h"

#define TARGET __attribute__((target("avx512f,avx512bw")))
#define W 64

TARGET static inline __m512i load(const uint8_t *p) { return _mm512_loadu_si512((const void *)p); }
TARGET static inline void store(uint8_t *p, __m512i v) { _mm512_storeu_si512((void *)p, v); }

/* Mask of the first n (< 64) bytes: tails run as one masked vector, which never
 * touches the bytes it masks out. */
static inline __mmask64 first_bytes(size_t n) { return n >= 64 ? ~(__mmask64)0 : (((__mmask64)1 << n) - 1); }
TARGET static inline __m512i load_first(const uint8_t *p, __mmask64 m) { return _mm512_maskz_loadu_epi8(m, p); }
TARGET static inline void store_first(uint8_t *p, __mmask64 m, __m512i v) { _mm512_mask_storeu_epi8(p, m, v); }

TARGET static inline __m512i table(const uint8_t *t) { return _mm512_broadcast_i32x4(_mm_loadu_si128((const __m128i *)t)); }

TARGET static inline __m512i product(__m512i x, __m512i lo, __m512i hi, __m512i mask) {
    __m512i low = _mm512_and_si512(x, mask);
    __m512i high = _mm512_and_si512(_mm512_srli_epi64(x, 4), mask);
    return _mm512_xor_si512(_mm512_shuffle_epi8(lo, low), _mm512_shuffle_epi8(hi, high));
}

TARGET static void xor2(uint8_t *dst, const uint8_t *src, size_t n) {
    size_t i = 0;
    for (; i + 4 * W <= n; i += 4 * W) {
        __m512i a0 = _mm512_xor_si512(load(dst + i), load(src + i));
        __m512i a1 = _mm512_xor_si512(load(dst + i + W), load(src + i + W));
        __m512i a2 = _mm512_xor_si512(load(dst + i + 2 * W), load(src + i + 2 * W));
        __m512i a3 = _mm512_xor_si512(load(dst + i + 3 * W), load(src + i + 3 * W));
        store(dst + i, a0);
        store(dst + i + W, a1);
        store(dst + i + 2 * W, a2);
        store(dst + i + 3 * W, a3);
    }
    for (; i + W <= n; i += W) store(dst + i, _mm512_xor_si512(load(dst + i), load(src + i)));
    if (i < n) {
        __mmask64 m = first_bytes(n - i);
        store_first(dst + i, m, _mm512_xor_si512(load_first(dst + i, m), load_first(src + i, m)));
    }
}

TARGET static void xor3(uint8_t *dst, const uint8_t *a, const uint8_t *b, size_t n) {
    size_t i = 0;
    for (; i + 4 * W <= n; i += 4 * W) {
        __m512i x0 = _mm512_xor_si512(load(a + i), load(b + i));
        __m512i x1 = _mm512_xor_si512(load(a + i + W), load(b + i + W));
        __m512i x2 = _mm512_xor_si512(load(a + i + 2 * W), load(b + i + 2 * W));
        __m512i x3 = _mm512_xor_si512(load(a + i + 3 * W), load(b + i + 3 * W));
        store(dst + i, x0);
        store(dst + i + W, x1);
        store(dst + i + 2 * W, x2);
        store(dst + i + 3 * W, x3);
    }
    for (; i + W <= n; i += W) store(dst + i, _mm512_xor_si512(load(a + i), load(b + i)));
    if (i < n) {
        __mmask64 m = first_bytes(n - i);
        store_first(dst + i, m, _mm512_xor_si512(load_first(a + i, m), load_first(b + i, m)));
    }
}

TARGET static void muladd(uint8_t *dst, const uint8_t *src, uint8_t c, size_t n) {
    if (c == 0) return;
    if (c == 1) { xor2(dst, src, n); return; }
    const __m512i lo = table(bf_nibble_tables[c]), hi = table(bf_nibble_tables[c] + 16);
    const __m512i mask = _mm512_set1_epi8(0x0F);
    size_t i = 0;
    for (; i + 2 * W <= n; i += 2 * W) {
        __m512i p0 = product(load(src + i), lo, hi, mask);
        __m512i p1 = product(load(src + i + W), lo, hi, mask);
        store(dst + i, _mm512_xor_si512(load(dst + i), p0));
        store(dst + i + W, _mm512_xor_si512(load(dst + i + W), p1));
    }
    for (; i + W <= n; i += W) store(dst + i, _mm512_xor_si512(load(dst + i), product(load(src + i), lo, hi, mask)));
    if (i < n) {
        __mmask64 m = first_bytes(n - i);
        store_first(dst + i, m, _mm512_xor_si512(load_first(dst + i, m), product(load_first(src + i, m), lo, hi, mask)));
    }
}

TARGET static void scale(uint8_t *dst, uint8_t c, size_t n) {
    if (c == 1) return;
    const __m512i lo = table(bf_nibble_tables[c]), hi = table(bf_nibble_tables[c] + 16);
    const __m512i mask = _mm512_set1_epi8(0x0F);
    size_t i = 0;
    for (; i + 2 * W <= n; i += 2 * W) {
        __m512i p0 = product(load(dst + i), lo, hi, mask);
        __m512i p1 = product(load(dst + i + W), lo, hi, mask);
        store(dst + i, p0);
        store(dst + i + W, p1);
    }
    for (; i + W <= n; i += W) store(dst + i, product(load(dst + i), lo, hi, mask));
    if (i < n) {
        __mmask64 m = first_bytes(n - i);
        store_first(dst + i, m, product(load_first(dst + i, m), lo, hi, mask));
    }
}

TARGET static void scale_xor(uint8_t *dst, const uint8_t *src, uint8_t c, size_t n) {
    const __m512i lo = table(bf_nibble_tables[c]), hi = table(bf_nibble_tables[c] + 16);
    const __m512i mask = _mm512_set1_epi8(0x0F);
    size_t i = 0;
    for (; i + W <= n; i += W) store(dst + i, _mm512_xor_si512(product(load(dst + i), lo, hi, mask), load(src + i)));
    if (i < n) {
        __mmask64 m = first_bytes(n - i);
        store_first(dst + i, m, _mm512_xor_si512(product(load_first(dst + i, m), lo, hi, mask), load_first(src + i, m)));
    }
}

TARGET static void xor_sum(uint8_t *dst, const uint8_t *const *sources, size_t count, size_t n, int accumulate) {
    if (count == 0) {
        if (!accumulate) memset(dst, 0, n);
        return;
    }
    size_t first = accumulate ? 0 : 1;
    size_t i = 0;
    for (; i + 4 * W <= n; i += 4 * W) {
        const uint8_t *base = accumulate ? dst : sources[0];
        __m512i a0 = load(base + i), a1 = load(base + i + W), a2 = load(base + i + 2 * W), a3 = load(base + i + 3 * W);
        for (size_t s = first; s < count; s++) {
            const uint8_t *p = sources[s] + i;
            a0 = _mm512_xor_si512(a0, load(p));
            a1 = _mm512_xor_si512(a1, load(p + W));
            a2 = _mm512_xor_si512(a2, load(p + 2 * W));
            a3 = _mm512_xor_si512(a3, load(p + 3 * W));
        }
        store(dst + i, a0);
        store(dst + i + W, a1);
        store(dst + i + 2 * W, a2);
        store(dst + i + 3 * W, a3);
    }
    for (; i + W <= n; i += W) {
        __m512i a = load((accumulate ? dst : sources[0]) + i);
        for (size_t s = first; s < count; s++) a = _mm512_xor_si512(a, load(sources[s] + i));
        store(dst + i, a);
    }
    if (i < n) {
        __mmask64 m = first_bytes(n - i);
        __m512i a = load_first((accumulate ? dst : sources[0]) + i, m);
        for (size_t s = first; s < count; s++) a = _mm512_xor_si512(a, load_first(sources[s] + i, m));
        store_first(dst + i, m, a);
    }
}

TARGET static void mul_sum(uint8_t *dst, const uint8_t *const *sources, const uint8_t *coefficients, size_t count,
                           size_t n, int accumulate) {
    const __m512i mask = _mm512_set1_epi8(0x0F);
    size_t i = 0;
    for (; i + 2 * W <= n; i += 2 * W) {
        __m512i a0, a1;
        if (accumulate) { a0 = load(dst + i); a1 = load(dst + i + W); } else { a0 = _mm512_setzero_si512(); a1 = _mm512_setzero_si512(); }
        for (size_t s = 0; s < count; s++) {
            const uint8_t c = coefficients[s];
            const uint8_t *p = sources[s] + i;
            if (c == 1) {
                a0 = _mm512_xor_si512(a0, load(p));
                a1 = _mm512_xor_si512(a1, load(p + W));
            } else if (c != 0) {
                const __m512i lo = table(bf_nibble_tables[c]), hi = table(bf_nibble_tables[c] + 16);
                a0 = _mm512_xor_si512(a0, product(load(p), lo, hi, mask));
                a1 = _mm512_xor_si512(a1, product(load(p + W), lo, hi, mask));
            }
        }
        store(dst + i, a0);
        store(dst + i + W, a1);
    }
    for (; i + W <= n; i += W) {
        __m512i a = accumulate ? load(dst + i) : _mm512_setzero_si512();
        for (size_t s = 0; s < count; s++) {
            const uint8_t c = coefficients[s];
            if (c == 1) {
                a = _mm512_xor_si512(a, load(sources[s] + i));
            } else if (c != 0) {
                a = _mm512_xor_si512(a, product(load(sources[s] + i), table(bf_nibble_tables[c]), table(bf_nibble_tables[c] + 16), mask));
            }
        }
        store(dst + i, a);
    }
    if (i < n) {
        __mmask64 m = first_bytes(n - i);
        __m512i a = accumulate ? load_first(dst + i, m) : _mm512_setzero_si512();
        for (size_t s = 0; s < count; s++) {
            const uint8_t c = coefficients[s];
            if (c == 1) {
                a = _mm512_xor_si512(a, load_first(sources[s] + i, m));
            } else if (c != 0) {
                a = _mm512_xor_si512(a, product(load_first(sources[s] + i, m), table(bf_nibble_tables[c]),
                                                table(bf_nibble_tables[c] + 16), mask));
            }
        }
        store_first(dst + i, m, a);
    }
}

TARGET static void xor_bits(uint8_t *dst, const uint64_t *bits, size_t nbits) {
    const __m512i ones = _mm512_set1_epi8(1);
    size_t word = 0;
    for (; (word + 1) * 64 <= nbits; word++) {
        uint8_t *p = dst + word * 64;
        store(p, _mm512_xor_si512(load(p), _mm512_maskz_mov_epi8(bits[word], ones)));
    }
    size_t rest = nbits - word * 64;
    if (rest) {
        __mmask64 m = first_bytes(rest);
        uint8_t *p = dst + word * 64;
        store_first(p, m, _mm512_xor_si512(load_first(p, m), _mm512_maskz_mov_epi8(bits[word] & m, ones)));
    }
}

void bf_avx512_fill(bf_kernel_set *set) {
    set->xor_bits = xor_bits;
    set->xor2 = xor2;
    set->xor3 = xor3;
    set->muladd = muladd;
    set->scale = scale;
    set->scale_xor = scale_xor;
    set->xor_sum = xor_sum;
    set->mul_sum = mul_sum;
}
#endif
