#ifndef BITFOUNTAIN_KERNELS_INTERNAL_H
#define BITFOUNTAIN_KERNELS_INTERNAL_H
#include "ckernels.h"

/* For each coefficient c: 16 products c * x (x = 0..15), then 16 products c * (x << 4). */
extern uint8_t bf_nibble_tables[256][32];
/* For each coefficient c: the 8x8 bit matrix of x -> c * x in gf2p8affineqb's layout. */
extern uint64_t bf_affine_matrices[256];
/* Fills the tables and picks the dispatch path; safe to call many times. */
void bf_kernels_init(void);

/* Every operation is one of two kernels (XOR and GF(256) multiply-add are sums
 * of one or more sources; scaling is a product with the destination itself as
 * the source), plus the bit expansion the solver uses. */
typedef struct {
    /* dst (^)= XOR of sources[0..count) (accumulate: ^=; else =). */
    void (*xor_sum)(uint8_t *dst, const uint8_t *const *sources, size_t count, size_t n, int accumulate);
    /* dst (^)= sum of coefficients[i] * sources[i]; a source may be dst itself. */
    void (*mul_sum)(uint8_t *dst, const uint8_t *const *sources, const uint8_t *coefficients, size_t count,
                    size_t n, int accumulate);
    /* dst[i] ^= bit i of bits, i < nbits. */
    void (*xor_bits)(uint8_t *dst, const uint64_t *bits, size_t nbits);
} bf_kernel_set;

/* The kernel set of each path (scalar for paths this build or CPU lacks), and the active one. */
extern bf_kernel_set bf_kernel_sets[BF_PATH_COUNT];
extern const bf_kernel_set *bf_active_kernels;

void bf_scalar_fill(bf_kernel_set *set);
/* Scalar versions for the tails the SIMD loops leave (sources read from `offset` on). */
void bf_scalar_tail_xor_sum(uint8_t *dst, const uint8_t *const *sources, size_t count, size_t offset, size_t n,
                            int accumulate);
void bf_scalar_tail_mul_sum(uint8_t *dst, const uint8_t *const *sources, const uint8_t *coefficients, size_t count,
                            size_t offset, size_t n, int accumulate);
#if defined(__x86_64__) || defined(_M_X64)
void bf_ssse3_fill(bf_kernel_set *set);
void bf_avx2_fill(bf_kernel_set *set);
void bf_avx512_fill(bf_kernel_set *set);
void bf_gfni_fill(bf_kernel_set *set);
#endif
#endif
