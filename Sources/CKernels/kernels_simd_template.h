/*
 * The SIMD kernels, written once for every vector width. A path file defines
 * the vector type and operations, then includes this file:
 *   VEC, W (bytes per vector), TARGET (function attribute)
 *   LOAD(p), STORE(p, v), XOR(a, b), ZERO()
 *   MULTIPLIER (type), MULTIPLIER_FOR(c) (per-coefficient set-up), MULTIPLY(x, m)
 *   TAIL_XOR_SUM(...), TAIL_MUL_SUM(...) for the last n - i < W bytes.
 * Products in GF(256) are either two pshufb nibble lookups or one GFNI affine
 * transform, as the path chooses.
 */

/* dst (^)= XOR of sources[0..count) over n bytes. */
TARGET static void xor_sum(uint8_t *dst, const uint8_t *const *sources, size_t count, size_t n, int accumulate) {
    if (count == 0) {
        if (!accumulate) memset(dst, 0, n);
        return;
    }
    const size_t first = accumulate ? 0 : 1;
    size_t i = 0;
    for (; i + 4 * W <= n; i += 4 * W) {
        const uint8_t *base = accumulate ? dst : sources[0];
        VEC a0 = LOAD(base + i), a1 = LOAD(base + i + W), a2 = LOAD(base + i + 2 * W), a3 = LOAD(base + i + 3 * W);
        for (size_t s = first; s < count; s++) {
            const uint8_t *p = sources[s] + i;
            a0 = XOR(a0, LOAD(p));
            a1 = XOR(a1, LOAD(p + W));
            a2 = XOR(a2, LOAD(p + 2 * W));
            a3 = XOR(a3, LOAD(p + 3 * W));
        }
        STORE(dst + i, a0);
        STORE(dst + i + W, a1);
        STORE(dst + i + 2 * W, a2);
        STORE(dst + i + 3 * W, a3);
    }
    for (; i + W <= n; i += W) {
        VEC a = LOAD((accumulate ? dst : sources[0]) + i);
        for (size_t s = first; s < count; s++) a = XOR(a, LOAD(sources[s] + i));
        STORE(dst + i, a);
    }
    if (i < n) TAIL_XOR_SUM(dst, sources, count, i, n, accumulate);
}

/* dst (^)= sum of coefficients[s] * sources[s] over n bytes. A source may be dst
 * itself: each chunk is read before it is written. */
TARGET static void mul_sum(uint8_t *dst, const uint8_t *const *sources, const uint8_t *coefficients, size_t count,
                           size_t n, int accumulate) {
    size_t i = 0;
    for (; i + 2 * W <= n; i += 2 * W) {
        VEC a0 = accumulate ? LOAD(dst + i) : ZERO(), a1 = accumulate ? LOAD(dst + i + W) : ZERO();
        for (size_t s = 0; s < count; s++) {
            const uint8_t c = coefficients[s];
            const uint8_t *p = sources[s] + i;
            if (c == 1) {
                a0 = XOR(a0, LOAD(p));
                a1 = XOR(a1, LOAD(p + W));
            } else if (c != 0) {
                const MULTIPLIER m = MULTIPLIER_FOR(c);
                a0 = XOR(a0, MULTIPLY(LOAD(p), m));
                a1 = XOR(a1, MULTIPLY(LOAD(p + W), m));
            }
        }
        STORE(dst + i, a0);
        STORE(dst + i + W, a1);
    }
    for (; i + W <= n; i += W) {
        VEC a = accumulate ? LOAD(dst + i) : ZERO();
        for (size_t s = 0; s < count; s++) {
            const uint8_t c = coefficients[s];
            if (c == 1) a = XOR(a, LOAD(sources[s] + i));
            else if (c != 0) a = XOR(a, MULTIPLY(LOAD(sources[s] + i), MULTIPLIER_FOR(c)));
        }
        STORE(dst + i, a);
    }
    if (i < n) TAIL_MUL_SUM(dst, sources, coefficients, count, i, n, accumulate);
}
