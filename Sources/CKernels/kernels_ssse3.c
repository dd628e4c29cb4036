/* SSSE3 kernels: 128-bit vectors, pshufb products. Compiled with a target
 * attribute and only called when the CPU reports SSSE3. */
#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>
#include <string.h>
#include "kernels_internal.h"

#define TARGET __attribute__((target("ssse3")))
#define VEC __m128i
#define W 16
#define LOAD(p) _mm_loadu_si128((const __m128i *)(p))
#define STORE(p, v) _mm_storeu_si128((__m128i *)(p), v)
#define XOR _mm_xor_si128
#define AND _mm_and_si128
#define ZERO _mm_setzero_si128
#define SET1 _mm_set1_epi8
#define SHUFFLE _mm_shuffle_epi8
#define SHIFT_RIGHT_64 _mm_srli_epi64
#define BROADCAST_16(t) _mm_loadu_si128((const __m128i *)(t))
#include "kernels_pshufb.h"
#include "kernels_scalar_tails.h"
#include "kernels_simd_template.h"

void bf_ssse3_fill(bf_kernel_set *set) {
    set->xor_sum = xor_sum;
    set->mul_sum = mul_sum;
}
#endif
