/* 512-bit vectors for the AVX-512 paths, and byte-masked access for tails
 * (masked-out bytes are never touched). */
#define VEC __m512i
#define W 64
#define LOAD(p) _mm512_loadu_si512((const void *)(p))
#define STORE(p, v) _mm512_storeu_si512((void *)(p), v)
#define XOR _mm512_xor_si512
#define ZERO _mm512_setzero_si512

static inline __mmask64 first_bytes(size_t n) { return n >= 64 ? ~(__mmask64)0 : (((__mmask64)1 << n) - 1); }
TARGET static inline VEC load_first(const uint8_t *p, __mmask64 m) { return _mm512_maskz_loadu_epi8(m, p); }
TARGET static inline void store_first(uint8_t *p, __mmask64 m, VEC v) { _mm512_mask_storeu_epi8(p, m, v); }
