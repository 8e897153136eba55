/* Dense symmetric positive definite solves for the regression estimators. */
#ifndef AC_LINALG_H
#define AC_LINALG_H

#include <stdatomic.h>
#include <stdint.h>

/* What the long solves return when stop (NULL: never) was set: each looks
 * at it once a row of a block, a few milliseconds apart at the largest
 * sizes (4096 rows). */
#define AC__LINALG_STOPPED (-2)

/* In-place Cholesky factorisation of the n x n row-major matrix a (lower
 * triangle read and overwritten with L). Returns 0, -1 when a is not
 * numerically positive definite, or AC__LINALG_STOPPED. */
int ac__cholesky(double *a, uint32_t n, const atomic_int *stop);
/* Solves L L' x = b in place (b becomes x). */
void ac__cholesky_solve(const double *l, uint32_t n, double *b);
/* Solves L y = b in place (b becomes y): b' (L L')^-1 b = |y|^2. */
void ac__cholesky_forward(const double *l, uint32_t n, double *b);
/* The diagonal of (L L')^-1 into diag (n), with scratch (32 n doubles):
 * the columns of L^-1 by forward substitution, about n^3 / 6 operations in
 * all. 0 or AC__LINALG_STOPPED. */
int ac__cholesky_inverse_diag(const double *l, uint32_t n, double *diag,
                              double *scratch, const atomic_int *stop);

#endif
