/* The Shapley interaction index of every pair of players (Grabisch and
 * Roubens 1999) from a complete table of coalition values, in the
 * condensed order (0,1), (0,2), ..., (0,n-1), (1,2), ... */
#ifndef AC_INTERACTIONS_H
#define AC_INTERACTIONS_H

#include <stdatomic.h>
#include <stdint.h>

#include "common/alloc.h"

/* The number of pairs of n players: n(n-1)/2. */
static inline uint64_t ac__pair_count(uint32_t n)
{
    return n < 2 ? 0 : (uint64_t)n * (n - 1) / 2;
}

/* out[p] = the interaction index of pair p of table x, each entry taken
 * times xscale (a power of two); with squared coefficients and x a table
 * of independent variances, the variance of that index. One pass over the
 * table: O(n^2) memory per size, |S|(|S|-1)/2 additions per coalition S.
 * stop (NULL: never) is looked at every 2^16 entries (AC_E_CANCELLED);
 * *xmax (when not NULL) receives the largest |x(S) xscale|. AC_OK,
 * AC_E_NO_MEMORY. Nothing is checked for finiteness: the caller does. */
int ac__pair_table_contrib(const ac__mem *m, uint32_t n, const double *x,
                           double xscale, int squared,
                           const atomic_int *stop, double *out, double *xmax);

/* The indices of table mean and their standard errors from var, a table
 * of the entries' independent variances (NULL: every one 0), both in one
 * scaled space: what a method gives from its values of the whole table.
 * AC_OK, AC_E_NO_MEMORY, AC_E_CANCELLED. */
int ac__pair_interactions(const ac__mem *m, uint32_t n, const double *mean,
                          const double *var, const atomic_int *stop,
                          double *index, double *se);

/* The indices of a table of finite values in the host's units, worked on in
 * the scaled space of credit/scale.h when the values need it. AC_OK,
 * AC_E_TOO_LARGE (an index beyond a double), AC_E_NO_MEMORY,
 * AC_E_CANCELLED. index is meaningful on AC_OK only. */
int ac__interactions_table(const ac__mem *m, uint32_t n, const double *values,
                           const atomic_int *stop, double *index);

#endif
