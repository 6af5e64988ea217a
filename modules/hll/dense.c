/*
 * dense.c: the dense register array (6-bit registers packed little-endian) and the
 * cardinality estimator over a histogram of register values.
 */
#include <math.h>
#include <string.h>

#include "hll.h"

/* Register i occupies bits [6i, 6i+6) of the array; it may straddle two bytes. The array
   is followed by nothing, so the second byte is read only when the register needs it. */
uint8_t hll_dense_get(const uint8_t *regs, long index) {
    size_t byte = (size_t)index * HLL_BITS / 8;
    unsigned fb = (unsigned)(index * HLL_BITS) & 7;
    unsigned v = regs[byte] >> fb;
    if (fb > 8 - HLL_BITS) v |= (unsigned)regs[byte + 1] << (8 - fb);
    return (uint8_t)(v & HLL_REGISTER_MAX);
}

void hll_dense_put(uint8_t *regs, long index, uint8_t val) {
    size_t byte = (size_t)index * HLL_BITS / 8;
    unsigned fb = (unsigned)(index * HLL_BITS) & 7;
    unsigned v = val & HLL_REGISTER_MAX;
    regs[byte] = (uint8_t)((regs[byte] & ~(HLL_REGISTER_MAX << fb)) | (v << fb));
    if (fb > 8 - HLL_BITS) {
        unsigned sh = 8 - fb;
        regs[byte + 1] = (uint8_t)((regs[byte + 1] & ~(HLL_REGISTER_MAX >> sh)) | (v >> sh));
    }
}

int hll_dense_set(uint8_t *regs, long index, uint8_t val) {
    if (hll_dense_get(regs, index) >= val) return 0;
    hll_dense_put(regs, index, val);
    return 1;
}

void hll_dense_merge(uint8_t *max, const uint8_t *regs) {
    for (long i = 0; i < HLL_REGISTERS; i++) {
        uint8_t v = hll_dense_get(regs, i);
        if (v > max[i]) max[i] = v;
    }
}

void hll_dense_histo(const uint8_t *regs, int *histo) {
    for (long i = 0; i < HLL_REGISTERS; i++) histo[hll_dense_get(regs, i)]++;
}

void hll_raw_histo(const uint8_t *max, int *histo) {
    for (long i = 0; i < HLL_REGISTERS; i++) histo[max[i] <= HLL_Q + 1 ? max[i] : HLL_Q + 1]++;
}

/* Ertl's sigma(x) = x + sum_k x^(2^k) 2^(k-1), summed until the sum stops changing. */
static double hll_sigma(double x) {
    if (x == 1.0) return INFINITY;
    double y = 1, z = x, prev;
    do {
        x *= x;
        prev = z;
        z += x * y;
        y += y;
    } while (prev != z);
    return z;
}

/* Ertl's tau(x) = (1 - x - sum_k (1 - x^(2^-k))^2 2^-k) / 3, likewise. */
static double hll_tau(double x) {
    if (x == 0.0 || x == 1.0) return 0.0;
    double y = 1.0, z = 1 - x, prev;
    do {
        x = sqrt(x);
        prev = z;
        y *= 0.5;
        z -= pow(1 - x, 2) * y;
    } while (prev != z);
    return z / 3;
}

/* "New cardinality estimation algorithms for HyperLogLog sketches" (Ertl, 2017): histo[v] is
   the number of registers holding v, for v in 0..Q+1. The arithmetic (doubles, long double
   rounding at the end) is the one that gives redis-server's numbers. */
uint64_t hll_estimate(const int *histo) {
    const double m = HLL_REGISTERS;
    const double alpha_inf = 0.721347520444481703680; /* 1 / (2 ln 2) */
    double z = m * hll_tau((m - histo[HLL_Q + 1]) / m);
    for (int j = HLL_Q; j >= 1; j--) {
        z += histo[j];
        z *= 0.5;
    }
    z += m * hll_sigma(histo[0] / m);
    return (uint64_t)llroundl(alpha_inf * m * m / z);
}
