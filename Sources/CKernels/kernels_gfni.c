/* AVX-512 kernels whose GF(256) products use GFNI: gf2p8affineqb applies the
 * coefficient's 8x8 bit matrix to 64 bytes at once, where the pshufb method
 * needs two lookups, two masks and a shift. */
#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>
#include <string.h>
#include "kernels_internal.h"

#define TARGET __attribute__((target("avx512f,avx512bw,gfni")))
#include "kernels_avx512_vectors.h"
#define MULTIPLIER __m512i
#define MULTIPLIER_FOR(c) _mm512_set1_epi64((long long)bf_affine_matrices[c])
#define MULTIPLY(x, m) _mm512_gf2p8affine_epi64_epi8(x, m, 0)
#include "kernels_avx512_tails.h"
#include "kernels_simd_template.h"

void bf_gfni_fill(bf_kernel_set *set) {
    set->xor_sum = xor_sum;
    set->mul_sum = mul_sum;
}
#endif
