/* GF(256) products by `pshufb`: the product c * x is the XOR of two lookups in
 * 16-entry tables, c * (low nibble of x) and c * (high nibble << 4). A path file
 * defines VEC, XOR, AND, SET1, SHUFFLE, SHIFT_RIGHT_64 and BROADCAST_16 (a
 * 16-byte table into every 128-bit lane) before including this. */
typedef struct { VEC lo, hi; } pshufb_multiplier;
#define MULTIPLIER pshufb_multiplier

TARGET static inline pshufb_multiplier multiplier_for(uint8_t c) {
    pshufb_multiplier m = { BROADCAST_16(bf_nibble_tables[c]), BROADCAST_16(bf_nibble_tables[c] + 16) };
    return m;
}

TARGET static inline VEC multiply(VEC x, pshufb_multiplier m) {
    const VEC mask = SET1(0x0F);
    VEC low = AND(x, mask), high = AND(SHIFT_RIGHT_64(x, 4), mask);
    return XOR(SHUFFLE(m.lo, low), SHUFFLE(m.hi, high));
}
#define MULTIPLIER_FOR(c) multiplier_for(c)
#define MULTIPLY(x, m) multiply(x, m)
