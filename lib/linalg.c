#include "linalg.h"

#include <math.h>
#include <stddef.h>

int ac__cholesky(double *a, uint32_t n)
{
    for (uint32_t j = 0; j < n; j++) {
        double *rj = a + (size_t)j * n;
        double d = rj[j];
        for (uint32_t k = 0; k < j; k++)
            d -= rj[k] * rj[k];
        if (!(d > 0.0))
            return -1;
        d = sqrt(d);
        rj[j] = d;
        for (uint32_t i = j + 1; i < n; i++) {
            double *ri = a + (size_t)i * n;
            double s = ri[j];
            for (uint32_t k = 0; k < j; k++)
                s -= ri[k] * rj[k];
            ri[j] = s / d;
        }
    }
    return 0;
}

void ac__cholesky_solve(const double *l, uint32_t n, double *b)
{
    for (uint32_t i = 0; i < n; i++) {
        const double *ri = l + (size_t)i * n;
        double s = b[i];
        for (uint32_t k = 0; k < i; k++)
            s -= ri[k] * b[k];
        b[i] = s / ri[i];
    }
    for (uint32_t i = n; i-- > 0;) {
        double s = b[i];
        for (uint32_t k = i + 1; k < n; k++)
            s -= l[(size_t)k * n + i] * b[k];
        b[i] = s / l[(size_t)i * n + i];
    }
}
