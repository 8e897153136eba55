/* Careful sums and the final step every estimator shares: making the credits
 * add up to v(all) - v(empty) to floating-point accuracy. */
#ifndef AC_CONSERVE_H
#define AC_CONSERVE_H

#include <stdint.h>

/* Neumaier's compensated accumulator. */
typedef struct ac__ksum {
    double sum;
    double c;
} ac__ksum;

static inline void ac__ksum_add(ac__ksum *k, double x)
{
    double t = k->sum + x;
    if ((k->sum >= 0 ? k->sum : -k->sum) >= (x >= 0 ? x : -x))
        k->c += (k->sum - t) + x;
    else
        k->c += (x - t) + k->sum;
    k->sum = t;
}

static inline double ac__ksum_value(const ac__ksum *k)
{
    return k->sum + k->c;
}

double ac__sum(const double *x, uint32_t n);

/* Adds to phi the residual delta - sum(phi), shared in proportion to the
 * variances se^2 when they are finite and not all zero (the least-squares
 * correction that moves the least certain credits most), equally otherwise.
 * se may be NULL. Two passes: the second absorbs the first's rounding. */
void ac__conserve(double *phi, const double *se, uint32_t n, double delta);

#endif
