/* AVX2 kernels: 256-bit vectors, pshufb products. Compiled with a target
 * attribute and only called when the CPU reports AVX2. */
#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>
#include <string.h>
#include "kernels_internal.h"

#define TARGET __attribute__((target("avx2")))
#define VEC __m256i
#define W 32
#define LOAD(p) _mm256_loadu_si256((const __m256i *)(p))
#define STORE(p, v) _mm256_storeu_si256((__m256i *)(p), v)
#define XOR _mm256_xor_si256
#define AND _mm256_and_si256
#define ZERO _mm256_setzero_si256
#define SET1 _mm256_set1_epi8
#define SHUFFLE _mm256_shuffle_epi8
#define SHIFT_RIGHT_64 _mm256_srli_epi64
#define BROADCAST_16(t) _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)(t)))
#include "kernels_pshufb.h"
#include "kernels_scalar_tails.h"
#include "kernels_simd_template.h"

void bf_avx2_fill(bf_kernel_set *set) {
    set->xor_sum = xor_sum;
    set->mul_sum = mul_sum;
}
#endif
