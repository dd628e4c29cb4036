/* Runs the solver's straight-line symbol programs stripe by stripe. */
#include <string.h>
#include "kernels_internal.h"

static void run_range(const bf_kernel_set *k, const bf_symbol_op *ops, size_t count, uint8_t *const *slots,
                      size_t offset, size_t n) {
    for (size_t i = 0; i < count; i++) {
        const bf_symbol_op *op = &ops[i];
        uint8_t *dst = slots[op->dst] + offset;
        switch (op->kind) {
        case BF_OP_XOR: k->xor2(dst, slots[op->a] + offset, n); break;
        case BF_OP_XOR3: k->xor3(dst, slots[op->a] + offset, slots[op->b] + offset, n); break;
        case BF_OP_COPY: memcpy(dst, slots[op->a] + offset, n); break;
        case BF_OP_ZERO: memset(dst, 0, n); break;
        case BF_OP_MULADD: k->muladd(dst, slots[op->a] + offset, op->coef, n); break;
        case BF_OP_SCALE: k->scale(dst, op->coef, n); break;
        case BF_OP_SCALE_XOR: k->scale_xor(dst, slots[op->a] + offset, op->coef, n); break;
        default: break;
        }
    }
}

void bf_run_symbol_ops(const bf_symbol_op *ops, size_t count, uint8_t *const *slots,
                       size_t offset, size_t length, size_t stripe) {
    bf_kernels_init();
    const bf_kernel_set *k = bf_active_kernels;
    if (stripe == 0 || stripe > length) stripe = length;
    for (size_t start = 0; start < length; start += stripe) {
        size_t n = length - start < stripe ? length - start : stripe;
        run_range(k, ops, count, slots, offset + start, n);
    }
}
