/* Tails shorter than a vector go to the scalar code (SSSE3 and AVX2 paths). */
#define TAIL_XOR_SUM(dst, sources, count, i, n, accumulate) \
    bf_scalar_tail_xor_sum((dst) + (i), sources, count, i, (n) - (i), accumulate)
#define TAIL_MUL_SUM(dst, sources, coefficients, count, i, n, accumulate) \
    bf_scalar_tail_mul_sum((dst) + (i), sources, coefficients, count, i, (n) - (i), accumulate)
