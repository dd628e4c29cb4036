#ifndef BITFOUNTAIN_SHA1_MULTIBUFFER_H
#define BITFOUNTAIN_SHA1_MULTIBUFFER_H
/*
 * SHA-1 of sixteen equal-length messages at once, one message per 32-bit lane
 * of an AVX-512 register ("multi-buffer" hashing). A torrent's pieces are all
 * the same length but the last, so hashing sixteen of them side by side uses
 * the wide vector unit instead of the one-message-at-a-time SHA instructions,
 * and runs several times faster per core.
 *
 * Usage: bf_sha1x16_init, then bf_sha1x16_update for each run of whole 64-byte
 * blocks, then bf_sha1x16_finish with the final partial block. Lane i reads
 * from base + offsets[i]; offsets are non-negative and below 2^31. Lanes that
 * carry no message may repeat another lane's offset; their digests are ignored.
 * Only call these when bf_sha1x16_available() returns 1.
 */
#include <stddef.h>
#include <stdint.h>

#define BF_SHA1X16_LANES 16

typedef struct {
    /* h[word][lane]: word-major, so each state word is one vector. */
    uint32_t h[5][BF_SHA1X16_LANES];
} bf_sha1x16_state;

/* 1 when this CPU has AVX-512F and AVX-512BW, else 0. */
int bf_sha1x16_available(void);

void bf_sha1x16_init(bf_sha1x16_state *state);

/* Hashes `blocks` 64-byte blocks of every lane. */
void bf_sha1x16_update(bf_sha1x16_state *state, const uint8_t *base,
                       const int32_t offsets[BF_SHA1X16_LANES], size_t blocks);

/* Hashes the last `tail_length` (< 64) bytes of every lane plus SHA-1 padding for
 * a message of `total_length` bytes, and writes lane i's digest to digests + 20*i. */
void bf_sha1x16_finish(bf_sha1x16_state *state, const uint8_t *base,
                       const int32_t offsets[BF_SHA1X16_LANES], size_t tail_length,
                       uint64_t total_length, uint8_t digests[BF_SHA1X16_LANES * 20]);

#endif
