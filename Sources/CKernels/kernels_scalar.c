/* Portable kernels: 64-bit words for XOR, nibble tables for GF(256) products.
 * They define the bytes every SIMD path must reproduce, and finish the odd tails. */
#include <string.h>
#include "kernels_internal.h"

static void scalar_xor2(uint8_t *dst, const uint8_t *src, size_t n) {
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t x, y;
        memcpy(&x, dst + i, 8);
        memcpy(&y, src + i, 8);
        x ^= y;
        memcpy(dst + i, &x, 8);
    }
    for (; i < n; i++) dst[i] ^= src[i];
}

static void scalar_xor3(uint8_t *dst, const uint8_t *a, const uint8_t *b, size_t n) {
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t x, y;
        memcpy(&x, a + i, 8);
        memcpy(&y, b + i, 8);
        x ^= y;
        memcpy(dst + i, &x, 8);
    }
    for (; i < n; i++) dst[i] = a[i] ^ b[i];
}

static void scalar_muladd(uint8_t *dst, const uint8_t *src, uint8_t c, size_t n) {
    if (c == 0) return;
    if (c == 1) { scalar_xor2(dst, src, n); return; }
    const uint8_t *t = bf_nibble_tables[c];
    for (size_t i = 0; i < n; i++) dst[i] ^= (uint8_t)(t[src[i] & 15] ^ t[16 + (src[i] >> 4)]);
}

static void scalar_scale(uint8_t *dst, uint8_t c, size_t n) {
    if (c == 1) return;
    if (c == 0) { memset(dst, 0, n); return; }
    const uint8_t *t = bf_nibble_tables[c];
    for (size_t i = 0; i < n; i++) dst[i] = (uint8_t)(t[dst[i] & 15] ^ t[16 + (dst[i] >> 4)]);
}

static void scalar_scale_xor(uint8_t *dst, const uint8_t *src, uint8_t c, size_t n) {
    const uint8_t *t = bf_nibble_tables[c];
    for (size_t i = 0; i < n; i++) dst[i] = (uint8_t)(t[dst[i] & 15] ^ t[16 + (dst[i] >> 4)] ^ src[i]);
}

/* dst (^)= XOR of the sources, each read from `offset` on. */
static void xor_sum_at(uint8_t *dst, const uint8_t *const *sources, size_t count, size_t offset, size_t n,
                       int accumulate) {
    if (count == 0) {
        if (!accumulate) memset(dst, 0, n);
        return;
    }
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t acc, x;
        size_t s = 0;
        if (accumulate) memcpy(&acc, dst + i, 8); else { memcpy(&acc, sources[0] + offset + i, 8); s = 1; }
        for (; s < count; s++) {
            memcpy(&x, sources[s] + offset + i, 8);
            acc ^= x;
        }
        memcpy(dst + i, &acc, 8);
    }
    for (; i < n; i++) {
        uint8_t acc = accumulate ? dst[i] : 0;
        for (size_t s = 0; s < count; s++) acc ^= sources[s][offset + i];
        dst[i] = acc;
    }
}

static void mul_sum_at(uint8_t *dst, const uint8_t *const *sources, const uint8_t *coefficients, size_t count,
                       size_t offset, size_t n, int accumulate) {
    for (size_t i = 0; i < n; i++) {
        uint8_t acc = accumulate ? dst[i] : 0;
        for (size_t s = 0; s < count; s++) {
            const uint8_t *t = bf_nibble_tables[coefficients[s]];
            uint8_t x = sources[s][offset + i];
            acc ^= (uint8_t)(t[x & 15] ^ t[16 + (x >> 4)]);
        }
        dst[i] = acc;
    }
}

static void scalar_xor_sum(uint8_t *dst, const uint8_t *const *sources, size_t count, size_t n, int accumulate) {
    xor_sum_at(dst, sources, count, 0, n, accumulate);
}

static void scalar_mul_sum(uint8_t *dst, const uint8_t *const *sources, const uint8_t *coefficients, size_t count,
                           size_t n, int accumulate) {
    mul_sum_at(dst, sources, coefficients, count, 0, n, accumulate);
}

/* Tails shorter than a vector, shared by the SIMD paths. */
void bf_scalar_tail_xor_sum(uint8_t *dst, const uint8_t *const *sources, size_t count, size_t offset, size_t n,
                            int accumulate) {
    xor_sum_at(dst, sources, count, offset, n, accumulate);
}
void bf_scalar_tail_mul_sum(uint8_t *dst, const uint8_t *const *sources, const uint8_t *coefficients, size_t count,
                            size_t offset, size_t n, int accumulate) {
    mul_sum_at(dst, sources, coefficients, count, offset, n, accumulate);
}
void bf_scalar_tail_muladd(uint8_t *dst, const uint8_t *src, uint8_t c, size_t n) { scalar_muladd(dst, src, c, n); }
void bf_scalar_tail_scale(uint8_t *dst, uint8_t c, size_t n) { scalar_scale(dst, c, n); }
void bf_scalar_tail_scale_xor(uint8_t *dst, const uint8_t *src, uint8_t c, size_t n) {
    scalar_scale_xor(dst, src, c, n);
}
void bf_scalar_tail_xor2(uint8_t *dst, const uint8_t *src, size_t n) { scalar_xor2(dst, src, n); }
void bf_scalar_tail_xor3(uint8_t *dst, const uint8_t *a, const uint8_t *b, size_t n) { scalar_xor3(dst, a, b, n); }

static void scalar_xor_bits(uint8_t *dst, const uint64_t *bits, size_t nbits) {
    for (size_t word = 0; word * 64 < nbits; word++) {
        uint64_t w = bits[word];
        while (w) {
            size_t i = word * 64 + (size_t)__builtin_ctzll(w);
            if (i >= nbits) break;
            dst[i] ^= 1;
            w &= w - 1;
        }
    }
}

void bf_scalar_fill(bf_kernel_set *set) {
    set->xor_bits = scalar_xor_bits;
    set->xor2 = scalar_xor2;
    set->xor3 = scalar_xor3;
    set->muladd = scalar_muladd;
    set->scale = scalar_scale;
    set->scale_xor = scalar_scale_xor;
    set->xor_sum = scalar_xor_sum;
    set->mul_sum = scalar_mul_sum;
}
