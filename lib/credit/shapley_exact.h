/* Exact Shapley values from a complete table of coalition values. */
#ifndef AC_SHAPLEY_EXACT_H
#define AC_SHAPLEY_EXACT_H

#include <stdint.h>

#include "common/alloc.h"

/* out[i] = sum over S containing i of in_coef[|S|] x(S)
 *        + sum over S not containing i of out_coef[|S|] x(S),
 * for the table x of 2^n entries. With in_coef[s] = w(s-1) and
 * out_coef[s] = -w(s) (w(k) = k!(n-k-1)!/n!) it is the Shapley value; with
 * their squares and x a variance table it is the variance of that value.
 * AC_E_NO_MEMORY or AC_OK. */
int ac__table_contrib(const ac__mem *m, uint32_t n, const double *x,
                      const double *in_coef, const double *out_coef,
                      double *out);
/* The Shapley weights w(k) = 1 / (n * C(n-1, k)), k = 0 .. n-1. */
void ac__shapley_weights(uint32_t n, double *w);
/* Shapley values of the table, conserving v(all) - v(empty). */
int ac__shapley_table(const ac__mem *m, uint32_t n, const double *values,
                      double *phi);
/* Standard errors of the Shapley values when table entry S has variance
 * var[S] (independent entries). */
int ac__shapley_table_se(const ac__mem *m, uint32_t n, const double *var,
                         double *se);

#endif
