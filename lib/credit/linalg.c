#include "credit/linalg.h"

#include <math.h>
#include <stddef.h>

/* Block size of the factorisation and of the inverse's diagonal: a block of
 * rows of L (BLOCK x n doubles) stays in cache while every row below it
 * streams past once, instead of once per column. */
#define BLOCK 32u

static int stopped(const atomic_int *stop)
{
    return stop != NULL && atomic_load_explicit(stop, memory_order_relaxed);
}

/* sum_k a[k] b[k] over len, four partial sums for the pipeline. */
static double dot(const double *a, const double *b, uint32_t len)
{
    double s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0;
    uint32_t k = 0;
    for (; k + 4 <= len; k += 4) {
        s0 += a[k] * b[k];
        s1 += a[k + 1] * b[k + 1];
        s2 += a[k + 2] * b[k + 2];
        s3 += a[k + 3] * b[k + 3];
    }
    for (; k < len; k++)
        s0 += a[k] * b[k];
    return (s0 + s1) + (s2 + s3);
}

/* Factors the diagonal block [j0, j1) once rows j0.. have had the columns
 * before j0 subtracted; then finishes the rows below in that block's
 * columns. */
static int factor_block(double *a, uint32_t n, uint32_t j0, uint32_t j1)
{
    for (uint32_t j = j0; j < j1; j++) {
        double *rj = a + (size_t)j * n;
        double d = rj[j] - dot(rj + j0, rj + j0, j - j0);
        if (!(d > 0.0))
            return -1;
        d = sqrt(d);
        rj[j] = d;
        for (uint32_t i = j + 1; i < n; i++) {
            double *ri = a + (size_t)i * n;
            ri[j] = (ri[j] - dot(ri + j0, rj + j0, j - j0)) / d;
        }
    }
    return 0;
}

int ac__cholesky(double *a, uint32_t n, const atomic_int *stop)
{
    for (uint32_t j0 = 0; j0 < n; j0 += BLOCK) {
        uint32_t j1 = j0 + BLOCK < n ? j0 + BLOCK : n;
        /* Subtract the finished columns [0, j0) from block columns
         * [j0, j1) of every row from j0 down (the lower part). */
        for (uint32_t i = j0; i < n; i++) {
            if (stopped(stop))
                return AC__LINALG_STOPPED;
            double *ri = a + (size_t)i * n;
            uint32_t top = i < j1 ? i + 1 : j1;
            for (uint32_t j = j0; j < top; j++)
                ri[j] -= dot(ri, a + (size_t)j * n, j0);
        }
        if (factor_block(a, n, j0, j1) != 0)
            return -1;
    }
    return 0;
}

void ac__cholesky_forward(const double *l, uint32_t n, double *b)
{
    for (uint32_t i = 0; i < n; i++) {
        const double *ri = l + (size_t)i * n;
        b[i] = (b[i] - dot(ri, b, i)) / ri[i];
    }
}

void ac__cholesky_solve(const double *l, uint32_t n, double *b)
{
    ac__cholesky_forward(l, n, b);
    for (uint32_t i = n; i-- > 0;) {
        double s = b[i];
        for (uint32_t k = i + 1; k < n; k++)
            s -= l[(size_t)k * n + i] * b[k];
        b[i] = s / l[(size_t)i * n + i];
    }
}

int ac__cholesky_inverse_diag(const double *l, uint32_t n, double *diag,
                              double *scratch, const atomic_int *stop)
{
    /* (L L')^-1 = L^-T L^-1: entry (j, j) is the squared norm of column j
     * of L^-1, whose entries above j are 0. Columns go BLOCK at a time:
     * scratch holds them row-major (n x BLOCK), each row of L read once
     * per block. */
    for (uint32_t j0 = 0; j0 < n; j0 += BLOCK) {
        uint32_t w = j0 + BLOCK < n ? BLOCK : n - j0;
        for (uint32_t c = 0; c < w; c++)
            diag[j0 + c] = 0.0;
        for (uint32_t i = j0; i < n; i++) {
            if (stopped(stop))
                return AC__LINALG_STOPPED;
            const double *ri = l + (size_t)i * n;
            double *yi = scratch + (size_t)(i - j0) * BLOCK;
            for (uint32_t c = 0; c < w; c++)
                yi[c] = i == j0 + c ? 1.0 : 0.0;
            for (uint32_t k = j0; k < i; k++) {
                const double *yk = scratch + (size_t)(k - j0) * BLOCK;
                double lik = ri[k];
                for (uint32_t c = 0; c < w; c++)
                    yi[c] -= lik * yk[c];
            }
            for (uint32_t c = 0; c < w; c++) {
                yi[c] /= ri[i];
                diag[j0 + c] += yi[c] * yi[c];
            }
        }
    }
    return 0;
}
