/* Exact Shapley values from a complete table of coalition values. */
#ifndef AC_SHAPLEY_EXACT_H
#define AC_SHAPLEY_EXACT_H

#include <stdatomic.h>
#include <stdint.h>

#include "common/alloc.h"

/* out[i] = sum over S containing i of in_coef[|S|] x(S)
 *        + sum over S not containing i of out_coef[|S|] x(S),
 * for the table x of 2^n entries, each taken times xscale (a power of two;
 * 1 leaves every bit as it is). With in_coef[s] = w(s-1) and
 * out_coef[s] = -w(s) (w(k) = k!(n-k-1)!/n!) it is the Shapley value; with
 * their squares and x a variance table it is the variance of that value.
 * stop (NULL: never) is looked at every 2^16 entries: AC_E_CANCELLED once
 * it is set. *xmax (when not NULL) receives the largest |x(S) xscale|.
 * AC_E_NO_MEMORY or AC_OK. */
int ac__table_contrib(const ac__mem *m, uint32_t n, const double *x,
                      double xscale, const double *in_coef,
                      const double *out_coef, const atomic_int *stop,
                      double *out, double *xmax);
/* The Shapley weights w(k) = 1 / (n * C(n-1, k)), k = 0 .. n-1. */
void ac__shapley_weights(uint32_t n, double *w);
/* a[s] for s = 0 .. n: the norm over players of the coefficients of a v(S)
 * with |S| = s in the Shapley values, sqrt(s w(s-1)^2 + (n-s) w(s)^2):
 * sum_i Var(phi_i) = sum_S a[|S|]^2 Var(v(S)). n <= AC_EXACT_MAX_PLAYERS. */
void ac__shapley_layer_norms(uint32_t n, double *a);
/* Shapley values of the table of finite values, conserving v(all) -
 * v(empty). Values beyond 2^+-AC__SCALE_EXP in magnitude are worked on in
 * the scaled space of credit/scale.h (ordinary tables keep every bit).
 * AC_E_TOO_LARGE when a credit or v(all) - v(empty) is beyond a double (or
 * not finite); AC_E_NO_MEMORY; AC_E_CANCELLED (stop, as above). phi is
 * meaningful on AC_OK only. */
int ac__shapley_table(const ac__mem *m, uint32_t n, const double *values,
                      double *phi);
int ac__shapley_table_stop(const ac__mem *m, uint32_t n,
                           const double *values, const atomic_int *stop,
                           double *phi);
/* Standard errors of the Shapley values when table entry S has variance
 * var[S] (independent entries, of a size whose sums do not overflow). */
int ac__shapley_table_se(const ac__mem *m, uint32_t n, const double *var,
                         const atomic_int *stop, double *se);

#endif
