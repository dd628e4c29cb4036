/* AVX-512BW kernels: 512-bit vectors, pshufb products, masked tails. Compiled
 * with a target attribute and only called when the CPU reports AVX-512BW. */
#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>
#include <string.h>
#include "kernels_internal.h"

#define TARGET __attribute__((target("avx512f,avx512bw")))
#include "kernels_avx512_vectors.h"
#define AND _mm512_and_si512
#define SET1 _mm512_set1_epi8
#define SHUFFLE _mm512_shuffle_epi8
#define SHIFT_RIGHT_64 _mm512_srli_epi64
#define BROADCAST_16(t) _mm512_broadcast_i32x4(_mm_loadu_si128((const __m128i *)(t)))
#include "kernels_pshufb.h"
#include "kernels_avx512_tails.h"
#include "kernels_simd_template.h"

/* dst[i] ^= bit i of bits: a 64-bit mask selects which bytes get a 1. */
TARGET static void xor_bits(uint8_t *dst, const uint64_t *bits, size_t nbits) {
    const VEC ones = _mm512_set1_epi8(1);
    size_t word = 0;
    for (; (word + 1) * 64 <= nbits; word++) {
        uint8_t *p = dst + word * 64;
        STORE(p, XOR(LOAD(p), _mm512_maskz_mov_epi8(bits[word], ones)));
    }
    size_t rest = nbits - word * 64;
    if (rest) {
        __mmask64 m = first_bytes(rest);
        uint8_t *p = dst + word * 64;
        store_first(p, m, XOR(load_first(p, m), _mm512_maskz_mov_epi8(bits[word] & m, ones)));
    }
}

void bf_avx512_fill(bf_kernel_set *set) {
    set->xor_sum = xor_sum;
    set->mul_sum = mul_sum;
    set->xor_bits = xor_bits;
}
#endif
