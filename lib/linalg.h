/* Dense symmetric positive definite solves for the regression estimators. */
#ifndef AC_LINALG_H
#define AC_LINALG_H

#include <stdint.h>

/* In-place Cholesky factorisation of the n x n row-major matrix a (lower
 * triangle read and overwritten with L). Returns 0, or -1 when a is not
 * numerically positive definite. */
int ac__cholesky(double *a, uint32_t n);
/* Solves L L' x = b in place (b becomes x). */
void ac__cholesky_solve(const double *l, uint32_t n, double *b);

#endif
