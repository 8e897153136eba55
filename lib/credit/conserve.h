/* The final step every estimator shares: making the credits add up to
 * v(all) - v(empty) to floating-point accuracy. */
#ifndef AC_CONSERVE_H
#define AC_CONSERVE_H

#include <stdint.h>

#include "common/ksum.h"

/* Adds to phi the residual delta - sum(phi), shared in proportion to the
 * variances se^2 when they are finite and not all zero (the least-squares
 * correction that moves the least certain credits most), equally otherwise.
 * se may be NULL. Two passes: the second absorbs the first's rounding. */
void ac__conserve(double *phi, const double *se, uint32_t n, double delta);

#endif
