#ifndef BITFOUNTAIN_CKERNELS_H
#define BITFOUNTAIN_CKERNELS_H
/*
 * Byte kernels for the RaptorQ codec: XOR and GF(256) multiply-add over the
 * field of RFC 6330 §5.7 (polynomial x^8 + x^4 + x^3 + x^2 + 1, 0x11D).
 *
 * Every kernel exists in a scalar version and, on x86-64, SSSE3, AVX2 and
 * AVX-512BW versions (GF(256) products by `pshufb` lookups in two 16-entry
 * tables, one per nibble). The fastest path the CPU supports is chosen once at
 * run time; the `_on` variants run one chosen path, so tests can prove that all
 * paths give identical bytes. Lengths need not be multiples of anything.
 * (A fifth path adds GFNI to AVX-512 for the GF(256) products.)
 */
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Kernel implementations, slowest first. The last is AVX-512 with GFNI, whose
 * gf2p8affineqb multiplies 64 bytes by a constant in one instruction (any
 * field polynomial is a GF(2)-linear map, so an 8x8 bit matrix). */
enum {
    BF_PATH_SCALAR = 0,
    BF_PATH_SSSE3 = 1,
    BF_PATH_AVX2 = 2,
    BF_PATH_AVX512 = 3,
    BF_PATH_AVX512_GFNI = 4,
    BF_PATH_COUNT = 5
};

/* 1 if this CPU (and build) can run `path`. */
int bf_kernel_path_supported(int path);
/* The path the dispatching kernels use. */
int bf_kernel_active_path(void);
/* "scalar", "ssse3", "avx2", "avx512bw", "avx512bw+gfni"; "?" for an unknown path. */
const char *bf_kernel_path_name(int path);

/* dst ^= c * src in GF(256) */
void bf_gf256_muladd(void *dst, const void *src, uint8_t c, size_t n);
/* dst = c * dst in GF(256) */
void bf_gf256_scale(void *dst, uint8_t c, size_t n);

/* Single operations on one given path, for tests; a path the CPU lacks falls back
 * to scalar. dst ^= src; dst = a ^ b (dst may equal a or b); the two above; and
 * dst = c * dst ^ src in GF(256). */
void bf_xor_on(int path, void *dst, const void *src, size_t n);
void bf_xor3_on(int path, void *dst, const void *a, const void *b, size_t n);
void bf_gf256_muladd_on(int path, void *dst, const void *src, uint8_t c, size_t n);
void bf_gf256_scale_on(int path, void *dst, uint8_t c, size_t n);
void bf_gf256_scale_xor_on(int path, void *dst, const void *src, uint8_t c, size_t n);

/* dst[i] ^= bit i of `bits` (LSB first within each 64-bit word), for i < nbits:
 * adds a GF(2) row to a GF(256) row. */
void bf_xor_bits_as_bytes(uint8_t *dst, const uint64_t *bits, size_t nbits);
void bf_xor_bits_as_bytes_on(int path, uint8_t *dst, const uint64_t *bits, size_t nbits);

/*
 * A straight-line program of symbol operations, produced by the RaptorQ solver
 * and run over byte ranges of the symbols. Operands are indices into a table of
 * symbol pointers; an operation's sources are `count` entries of the program's
 * source list from `first` on (with one GF(256) coefficient each for the MUL
 * kinds). Summing many sources in one pass reads each byte of the destination
 * once instead of once per source.
 */
enum {
    BF_OP_SUM = 0,       /* s[dst] = XOR of the sources (zero if none) */
    BF_OP_ADD = 1,       /* s[dst] ^= XOR of the sources */
    BF_OP_MULSUM = 2,    /* s[dst] = sum of coef_i * s[src_i] */
    BF_OP_MULADD = 3,    /* s[dst] ^= sum of coef_i * s[src_i] */
    BF_OP_SCALE = 4,     /* s[dst] = coef * s[dst] */
    BF_OP_SCALE_XOR = 5  /* s[dst] = coef * s[dst] ^ s[src_0] */
};

typedef struct {
    uint32_t dst;
    uint32_t first;
    uint32_t count;
    uint8_t kind;
    uint8_t coef;
    uint16_t reserved;
} bf_symbol_op;

/*
 * Runs `ops` on bytes [offset, offset + length) of every symbol, `stripe` bytes
 * at a time (all operations on one stripe, then the next), so that the working
 * set of a stripe stays in cache. stripe == 0 means one stripe.
 */
void bf_run_symbol_ops(const bf_symbol_op *ops, size_t count, const uint32_t *sources,
                       const uint8_t *coefficients, uint8_t *const *slots,
                       size_t offset, size_t length, size_t stripe);

/* dst (^)= XOR of count sources (accumulate: ^=, else =), in one pass over dst. */
void bf_xor_sum(void *dst, const void *const *sources, size_t count, size_t n, int accumulate);
/* dst (^)= XOR of count sources, on one given path (for tests). */
void bf_xor_sum_on(int path, void *dst, const void *const *sources, size_t count, size_t n, int accumulate);
/* dst (^)= sum of coefficients[i] * sources[i], on one given path (for tests). */
void bf_mul_sum_on(int path, void *dst, const void *const *sources, const uint8_t *coefficients, size_t count,
                   size_t n, int accumulate);

#ifdef __cplusplus
}
#endif
#endif
