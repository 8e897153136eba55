#include "credit/conserve.h"

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

void ac__conserve(double *phi, const double *se, uint32_t n, double delta)
{
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
}
