#include "credit/conserve.h"

#include <float.h>
#include <math.h>
#include <stddef.h>

static double total_variance(const double *se, uint32_t n)
{
    if (se == NULL)
        return 0.0;
    double v = 0.0;
    for (uint32_t i = 0; i < n; i++) {
        if (!isfinite(se[i]))
            return 0.0;
        v += se[i] * se[i];
    }
    return isfinite(v) ? v : 0.0;
}

/* The player whose share is largest: the largest variance, or with equal
 * shares the largest credit in magnitude (the one a last ulp disturbs
 * least). */
static uint32_t largest_share(const double *phi, const double *se,
                              uint32_t n, double var)
{
    uint32_t best = 0;
    for (uint32_t i = 1; i < n; i++) {
        if (var > 0.0 ? se[i] > se[best] : fabs(phi[i]) > fabs(phi[best]))
            best = i;
    }
    return best;
}

void ac__conserve(double *phi, const double *se, uint32_t n, double delta)
{
    if (n == 0)
        return;
    double var = total_variance(se, n);
    for (int pass = 0; pass < 2; pass++) {
        double residual = delta - ac__sum(phi, n);
        if (residual == 0.0)
            return;
        for (uint32_t i = 0; i < n; i++) {
            double share = var > 0.0 ? se[i] * se[i] / var : 1.0 / n;
            phi[i] += residual * share;
        }
    }
    double residual = delta - ac__sum(phi, n);
    if (residual != 0.0)
        phi[largest_share(phi, se, n, var)] += residual;
}

void ac__conserve_unscale(double *phi, double *se, uint32_t n, double total,
                          int k)
{
    if (k == 0) /* the scaled space was the host's */
        return;
    double big = fabs(total);
    for (uint32_t i = 0; i < n; i++) {
        phi[i] = ldexp(phi[i], k);
        if (se != NULL)
            se[i] = ldexp(se[i], k);
        big = fmax(big, fabs(phi[i]));
    }
    /* n + 2 terms of at most `big`: every partial sum and residual finite */
    if (big <= DBL_MAX / 4.0 / ((double)n + 2.0))
        ac__conserve(phi, se, n, total);
}
