/* AVX-512 kernels whose GF(256) products use GFNI: gf2p8affineqb applies the
 * coefficient's 8x8 bit matrix to 64 bytes at once, where the pshufb method
 * needs two lookups, two masks and a shift. XOR kernels are the AVX-512 ones. */
#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>
#include "kernels_internal.h"

#define TARGET __attribute__((target("avx512f,avx512bw,gfni")))
#define W 64

static inline __mmask64 first_bytes(size_t n) { return n >= 64 ? ~(__mmask64)0 : (((__mmask64)1 << n) - 1); }
TARGET static inline __m512i load(const uint8_t *p) { return _mm512_loadu_si512((const void *)p); }
TARGET static inline void store(uint8_t *p, __m512i v) { _mm512_storeu_si512((void *)p, v); }
TARGET static inline __m512i load_first(const uint8_t *p, __mmask64 m) { return _mm512_maskz_loadu_epi8(m, p); }
TARGET static inline void store_first(uint8_t *p, __mmask64 m, __m512i v) { _mm512_mask_storeu_epi8(p, m, v); }
TARGET static inline __m512i matrix(uint8_t c) { return _mm512_set1_epi64((long long)bf_affine_matrices[c]); }
TARGET static inline __m512i times(__m512i x, __m512i a) { return _mm512_gf2p8affine_epi64_epi8(x, a, 0); }

TARGET static void muladd(uint8_t *dst, const uint8_t *src, uint8_t c, size_t n) {
    if (c == 0) return;
    const __m512i a = matrix(c);
    size_t i = 0;
    for (; i + 2 * W <= n; i += 2 * W) {
        __m512i p0 = times(load(src + i), a), p1 = times(load(src + i + W), a);
        store(dst + i, _mm512_xor_si512(load(dst + i), p0));
        store(dst + i + W, _mm512_xor_si512(load(dst + i + W), p1));
    }
    for (; i < n; i += W) {
        __mmask64 m = first_bytes(n - i);
        store_first(dst + i, m, _mm512_xor_si512(load_first(dst + i, m), times(load_first(src + i, m), a)));
    }
}

TARGET static void scale(uint8_t *dst, uint8_t c, size_t n) {
    if (c == 1) return;
    const __m512i a = matrix(c);
    for (size_t i = 0; i < n; i += W) {
        __mmask64 m = first_bytes(n - i);
        store_first(dst + i, m, times(load_first(dst + i, m), a));
    }
}

TARGET static void scale_xor(uint8_t *dst, const uint8_t *src, uint8_t c, size_t n) {
    const __m512i a = matrix(c);
    for (size_t i = 0; i < n; i += W) {
        __mmask64 m = first_bytes(n - i);
        store_first(dst + i, m, _mm512_xor_si512(times(load_first(dst + i, m), a), load_first(src + i, m)));
    }
}

TARGET static void mul_sum(uint8_t *dst, const uint8_t *const *sources, const uint8_t *coefficients, size_t count,
                           size_t n, int accumulate) {
    size_t i = 0;
    for (; i + 4 * W <= n; i += 4 * W) {
        __m512i a0, a1, a2, a3;
        if (accumulate) {
            a0 = load(dst + i); a1 = load(dst + i + W); a2 = load(dst + i + 2 * W); a3 = load(dst + i + 3 * W);
        } else {
            a0 = a1 = a2 = a3 = _mm512_setzero_si512();
        }
        for (size_t s = 0; s < count; s++) {
            const uint8_t *p = sources[s] + i;
            const __m512i m = matrix(coefficients[s]);
            a0 = _mm512_xor_si512(a0, times(load(p), m));
            a1 = _mm512_xor_si512(a1, times(load(p + W), m));
            a2 = _mm512_xor_si512(a2, times(load(p + 2 * W), m));
            a3 = _mm512_xor_si512(a3, times(load(p + 3 * W), m));
        }
        store(dst + i, a0);
        store(dst + i + W, a1);
        store(dst + i + 2 * W, a2);
        store(dst + i + 3 * W, a3);
    }
    for (; i < n; i += W) {
        __mmask64 mask = first_bytes(n - i);
        __m512i a = accumulate ? load_first(dst + i, mask) : _mm512_setzero_si512();
        for (size_t s = 0; s < count; s++) a = _mm512_xor_si512(a, times(load_first(sources[s] + i, mask), matrix(coefficients[s])));
        store_first(dst + i, mask, a);
    }
}

void bf_gfni_fill(bf_kernel_set *set) {
    set->muladd = muladd;
    set->scale = scale;
    set->scale_xor = scale_xor;
    set->mul_sum = mul_sum;
}
#endif
