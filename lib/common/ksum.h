/* Compensated sums: every sum that must conserve credit or probability mass
 * goes through these, so rounding does not grow with the number of terms. */
#ifndef AC_KSUM_H
#define AC_KSUM_H

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

/* The compensated sum of x[0..n). */
double ac__sum(const double *x, uint32_t n);

#endif
