/* Portable kernels: 64-bit words for XOR, nibble tables for GF(256) products.
 * They define the bytes every SIMD path must reproduce, and finish the tails
 * of the SSSE3 and AVX2 paths. */
#include <string.h>
#include "kernels_internal.h"

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

/* Byte by byte, so a source that is dst itself is read before it is written. */
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

void bf_scalar_tail_xor_sum(uint8_t *dst, const uint8_t *const *sources, size_t count, size_t offset, size_t n,
                            int accumulate) {
    xor_sum_at(dst, sources, count, offset, n, accumulate);
}

void bf_scalar_tail_mul_sum(uint8_t *dst, const uint8_t *const *sources, const uint8_t *coefficients, size_t count,
                            size_t offset, size_t n, int accumulate) {
    mul_sum_at(dst, sources, coefficients, count, offset, n, accumulate);
}

void bf_scalar_fill(bf_kernel_set *set) {
    set->xor_sum = scalar_xor_sum;
    set->mul_sum = scalar_mul_sum;
    set->xor_bits = scalar_xor_bits;
}
