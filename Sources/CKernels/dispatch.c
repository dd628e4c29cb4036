/* GF(256) product tables, CPU feature detection and the public dispatching kernels. */
#include <pthread.h>
#include "kernels_internal.h"

uint8_t bf_nibble_tables[256][32];
uint64_t bf_affine_matrices[256];
bf_kernel_set bf_kernel_sets[BF_PATH_COUNT];
const bf_kernel_set *bf_active_kernels;

static int supported[BF_PATH_COUNT];
static int active_path;
static pthread_once_t init_once = PTHREAD_ONCE_INIT;

/* Product in GF(2^8) modulo x^8 + x^4 + x^3 + x^2 + 1 by shift-and-add; used only to fill tables. */
static uint8_t slow_multiply(uint8_t a, uint8_t b) {
    unsigned product = 0, x = a;
    for (int bit = 0; bit < 8; bit++) {
        if (b & (1u << bit)) product ^= x;
        x <<= 1;
        if (x & 0x100) x ^= 0x11D;
    }
    return (uint8_t)product;
}

static void detect_paths(void) {
    supported[BF_PATH_SCALAR] = 1;
#if defined(__x86_64__) || defined(_M_X64)
    __builtin_cpu_init();
    supported[BF_PATH_SSSE3] = __builtin_cpu_supports("ssse3");
    supported[BF_PATH_AVX2] = supported[BF_PATH_SSSE3] && __builtin_cpu_supports("avx2");
    supported[BF_PATH_AVX512] = supported[BF_PATH_AVX2] && __builtin_cpu_supports("avx512f")
        && __builtin_cpu_supports("avx512bw");
    supported[BF_PATH_AVX512_GFNI] = supported[BF_PATH_AVX512] && __builtin_cpu_supports("gfni");
#endif
}

static void initialize(void) {
    for (int c = 0; c < 256; c++) {
        for (int x = 0; x < 16; x++) {
            bf_nibble_tables[c][x] = slow_multiply((uint8_t)c, (uint8_t)x);
            bf_nibble_tables[c][16 + x] = slow_multiply((uint8_t)c, (uint8_t)(x << 4));
        }
    }
    /* Row i of the matrix (byte 7 - i) holds bit i of c * 2^j at bit j. */
    for (int c = 0; c < 256; c++) {
        uint64_t matrix = 0;
        for (int i = 0; i < 8; i++) {
            unsigned row = 0;
            for (int j = 0; j < 8; j++) {
                if (slow_multiply((uint8_t)c, (uint8_t)(1u << j)) & (1u << i)) row |= 1u << j;
            }
            matrix |= (uint64_t)row << (8 * (7 - i));
        }
        bf_affine_matrices[c] = matrix;
    }
    detect_paths();
    for (int path = 0; path < BF_PATH_COUNT; path++) bf_scalar_fill(&bf_kernel_sets[path]);
#if defined(__x86_64__) || defined(_M_X64)
    if (supported[BF_PATH_SSSE3]) bf_ssse3_fill(&bf_kernel_sets[BF_PATH_SSSE3]);
    if (supported[BF_PATH_AVX2]) bf_avx2_fill(&bf_kernel_sets[BF_PATH_AVX2]);
    if (supported[BF_PATH_AVX512]) bf_avx512_fill(&bf_kernel_sets[BF_PATH_AVX512]);
    if (supported[BF_PATH_AVX512_GFNI]) {
        bf_kernel_sets[BF_PATH_AVX512_GFNI] = bf_kernel_sets[BF_PATH_AVX512];
        bf_gfni_fill(&bf_kernel_sets[BF_PATH_AVX512_GFNI]);
    }
#endif
    active_path = BF_PATH_SCALAR;
    for (int path = 0; path < BF_PATH_COUNT; path++) {
        if (supported[path]) active_path = path;
    }
    bf_active_kernels = &bf_kernel_sets[active_path];
}

void bf_kernels_init(void) { pthread_once(&init_once, initialize); }

int bf_kernel_path_supported(int path) {
    bf_kernels_init();
    return path >= 0 && path < BF_PATH_COUNT && supported[path];
}

int bf_kernel_active_path(void) {
    bf_kernels_init();
    return active_path;
}

const char *bf_kernel_path_name(int path) {
    switch (path) {
    case BF_PATH_SCALAR: return "scalar";
    case BF_PATH_SSSE3: return "ssse3";
    case BF_PATH_AVX2: return "avx2";
    case BF_PATH_AVX512: return "avx512bw";
    case BF_PATH_AVX512_GFNI: return "avx512bw+gfni";
    default: return "?";
    }
}

static const bf_kernel_set *kernels_for(int path) {
    bf_kernels_init();
    if (path < 0 || path >= BF_PATH_COUNT) path = BF_PATH_SCALAR;
    return &bf_kernel_sets[path];
}

static const bf_kernel_set *active_kernels(void) {
    bf_kernels_init();
    return bf_active_kernels;
}

/* The single-operation kernels, as sums of one or two sources. */
static void xor_with(const bf_kernel_set *k, void *dst, const void *src, size_t n) {
    const uint8_t *sources[1] = { src };
    k->xor_sum(dst, sources, 1, n, 1);
}

static void xor3_with(const bf_kernel_set *k, void *dst, const void *a, const void *b, size_t n) {
    const uint8_t *sources[2] = { a, b };
    k->xor_sum(dst, sources, 2, n, 0);
}

static void muladd_with(const bf_kernel_set *k, void *dst, const void *src, uint8_t c, size_t n) {
    const uint8_t *sources[1] = { src };
    k->mul_sum(dst, sources, &c, 1, n, 1);
}

static void scale_with(const bf_kernel_set *k, void *dst, uint8_t c, size_t n) {
    const uint8_t *sources[1] = { dst };
    k->mul_sum(dst, sources, &c, 1, n, 0);
}

static void scale_xor_with(const bf_kernel_set *k, void *dst, const void *src, uint8_t c, size_t n) {
    const uint8_t *sources[2] = { dst, src };
    const uint8_t coefficients[2] = { c, 1 };
    k->mul_sum(dst, sources, coefficients, 2, n, 0);
}

void bf_gf256_muladd(void *dst, const void *src, uint8_t c, size_t n) {
    muladd_with(active_kernels(), dst, src, c, n);
}
void bf_gf256_scale(void *dst, uint8_t c, size_t n) { scale_with(active_kernels(), dst, c, n); }

void bf_xor_on(int path, void *dst, const void *src, size_t n) { xor_with(kernels_for(path), dst, src, n); }
void bf_xor3_on(int path, void *dst, const void *a, const void *b, size_t n) { xor3_with(kernels_for(path), dst, a, b, n); }
void bf_gf256_muladd_on(int path, void *dst, const void *src, uint8_t c, size_t n) {
    muladd_with(kernels_for(path), dst, src, c, n);
}
void bf_gf256_scale_on(int path, void *dst, uint8_t c, size_t n) { scale_with(kernels_for(path), dst, c, n); }
void bf_gf256_scale_xor_on(int path, void *dst, const void *src, uint8_t c, size_t n) {
    scale_xor_with(kernels_for(path), dst, src, c, n);
}

void bf_xor_sum(void *dst, const void *const *sources, size_t count, size_t n, int accumulate) {
    active_kernels()->xor_sum(dst, (const uint8_t *const *)sources, count, n, accumulate);
}

void bf_xor_sum_on(int path, void *dst, const void *const *sources, size_t count, size_t n, int accumulate) {
    kernels_for(path)->xor_sum(dst, (const uint8_t *const *)sources, count, n, accumulate);
}

void bf_mul_sum_on(int path, void *dst, const void *const *sources, const uint8_t *coefficients, size_t count,
                   size_t n, int accumulate) {
    kernels_for(path)->mul_sum(dst, (const uint8_t *const *)sources, coefficients, count, n, accumulate);
}

void bf_xor_bits_as_bytes(uint8_t *dst, const uint64_t *bits, size_t nbits) {
    active_kernels()->xor_bits(dst, bits, nbits);
}

void bf_xor_bits_as_bytes_on(int path, uint8_t *dst, const uint64_t *bits, size_t nbits) {
    kernels_for(path)->xor_bits(dst, bits, nbits);
}
