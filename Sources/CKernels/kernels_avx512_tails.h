/* Tails of the AVX-512 paths: one masked vector (needs MULTIPLY and MULTIPLIER_FOR). */
TARGET static void masked_xor_sum(uint8_t *dst, const uint8_t *const *sources, size_t count, size_t i, size_t n,
                                  int accumulate) {
    __mmask64 m = first_bytes(n - i);
    VEC a = load_first((accumulate ? dst : sources[0]) + i, m);
    for (size_t s = accumulate ? 0 : 1; s < count; s++) a = XOR(a, load_first(sources[s] + i, m));
    store_first(dst + i, m, a);
}

TARGET static void masked_mul_sum(uint8_t *dst, const uint8_t *const *sources, const uint8_t *coefficients,
                                  size_t count, size_t i, size_t n, int accumulate) {
    __mmask64 m = first_bytes(n - i);
    VEC a = accumulate ? load_first(dst + i, m) : ZERO();
    for (size_t s = 0; s < count; s++) {
        if (coefficients[s] == 1) a = XOR(a, load_first(sources[s] + i, m));
        else if (coefficients[s] != 0) a = XOR(a, MULTIPLY(load_first(sources[s] + i, m), MULTIPLIER_FOR(coefficients[s])));
    }
    store_first(dst + i, m, a);
}

#define TAIL_XOR_SUM(dst, sources, count, i, n, accumulate) masked_xor_sum(dst, sources, count, i, n, accumulate)
#define TAIL_MUL_SUM(dst, sources, coefficients, count, i, n, accumulate) \
    masked_mul_sum(dst, sources, coefficients, count, i, n, accumulate)
