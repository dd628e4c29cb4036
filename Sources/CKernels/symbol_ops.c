/* Runs the solver's straight-line symbol programs stripe by stripe. */
#include "kernels_internal.h"

/* Sources are gathered in batches of this many pointers. */
#define BATCH 64

static void run_op(const bf_kernel_set *k, const bf_symbol_op *op, const uint32_t *sources,
                   const uint8_t *coefficients, uint8_t *const *slots, size_t offset, size_t n) {
    uint8_t *dst = slots[op->dst] + offset;
    const uint8_t *batch[BATCH];
    switch (op->kind) {
    case BF_OP_SUM:
    case BF_OP_ADD:
    case BF_OP_MULSUM:
    case BF_OP_MULADD: {
        int accumulate = op->kind == BF_OP_ADD || op->kind == BF_OP_MULADD;
        int multiply = op->kind == BF_OP_MULSUM || op->kind == BF_OP_MULADD;
        size_t done = 0;
        do {
            size_t count = op->count - done < BATCH ? op->count - done : BATCH;
            for (size_t s = 0; s < count; s++) batch[s] = slots[sources[op->first + done + s]] + offset;
            if (multiply) {
                k->mul_sum(dst, batch, coefficients + op->first + done, count, n, accumulate);
            } else {
                k->xor_sum(dst, batch, count, n, accumulate);
            }
            done += count;
            accumulate = 1;
        } while (done < op->count);
        break;
    }
    case BF_OP_SCALE: {
        batch[0] = dst;
        k->mul_sum(dst, batch, &op->coef, 1, n, 0);
        break;
    }
    case BF_OP_SCALE_XOR: {
        const uint8_t coefficients[2] = { op->coef, 1 };
        batch[0] = dst;
        batch[1] = slots[sources[op->first]] + offset;
        k->mul_sum(dst, batch, coefficients, 2, n, 0);
        break;
    }
    default: break;
    }
}

void bf_run_symbol_ops(const bf_symbol_op *ops, size_t count, const uint32_t *sources,
                       const uint8_t *coefficients, uint8_t *const *slots,
                       size_t offset, size_t length, size_t stripe) {
    bf_kernels_init();
    const bf_kernel_set *k = bf_active_kernels;
    if (stripe == 0 || stripe > length) stripe = length;
    for (size_t start = 0; start < length; start += stripe) {
        size_t n = length - start < stripe ? length - start : stripe;
        for (size_t i = 0; i < count; i++) run_op(k, &ops[i], sources, coefficients, slots, offset + start, n);
    }
}
