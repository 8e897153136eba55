/* The final step every estimator shares: making the credits add up to
 * v(all) - v(empty) to floating-point accuracy, and taking them back from
 * the scaled space (credit/scale.h) to the host's units. */
#ifndef AC_CONSERVE_H
#define AC_CONSERVE_H

#include <stdint.h>

#include "common/ksum.h"

/* Adds to phi the residual delta - sum(phi), shared in proportion to the
 * variances se^2 when they are finite and not all zero (the least-squares
 * correction that moves the least certain credits most), equally otherwise.
 * se may be NULL. Two passes: the second absorbs the first's rounding; a
 * residual still left is one the shares round away (a few units in the last
 * place, or subnormal numbers), and goes whole to the player with the
 * largest share. */
void ac__conserve(double *phi, const double *se, uint32_t n, double delta);

/* Multiplies phi (and se, when not NULL) by 2^k, the credits having been
 * conserved in the scaled space, and conserves them again to `total`,
 * v(all) - v(empty) in the host's units, where no sum can overflow there:
 * the scaled space loses what lies 2^1074 times below the largest value
 * (a tiny total beside huge coalition values), and products in the
 * subnormal range round to a multiple of the smallest double (where sums
 * are exact). Credits so large that their sum could overflow keep the
 * scaled space's conservation, relative to their own size. The caller has
 * checked that every product is finite. */
void ac__conserve_unscale(double *phi, double *se, uint32_t n, double total,
                          int k);

#endif
