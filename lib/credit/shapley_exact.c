#include "common/bits.h"
#include "credit/shapley_exact.h"

#include <math.h>
#include <string.h>

#include "credit/conserve.h"
#include "credit/scale.h"

/* Table entries between two looks at the stop flag: about a millisecond. */
#define STOP_EVERY ((uint64_t)1 << 16)

void ac__shapley_weights(uint32_t n, double *w)
{
    /* C(n-1, k) built incrementally; exact in double for every n the exact
     * method accepts (C(29, 14) < 2^53). */
    double binom = 1.0;
    for (uint32_t k = 0; k < n; k++) {
        w[k] = 1.0 / ((double)n * binom);
        binom = binom * (double)(n - 1 - k) / (double)(k + 1);
    }
}

void ac__shapley_layer_norms(uint32_t n, double *a)
{
    double w[AC_EXACT_MAX_PLAYERS];
    ac__shapley_weights(n, w);
    for (uint32_t s = 0; s <= n; s++) {
        double in = s > 0 ? w[s - 1] : 0.0, out = s < n ? w[s] : 0.0;
        a[s] = sqrt((double)s * in * in + (double)(n - s) * out * out);
    }
}

int ac__table_contrib(const ac__mem *m, uint32_t n, const double *x,
                      double xscale, const double *in_coef,
                      const double *out_coef, const atomic_int *stop,
                      double *out, double *xmax)
{
    /* by_size[s*n + i]: sum of x(S) over |S| = s with i in S; total[s]: over
     * all |S| = s. One pass over the table, n(n+1) accumulators: the sizes
     * keep each accumulator to coalitions of one weight. */
    double *by_size = ac__mem_calloc(m, (size_t)(n + 1) * n, sizeof *by_size);
    double *total = ac__mem_calloc(m, n + 1, sizeof *total);
    if (by_size == NULL || total == NULL) {
        ac__mem_free(m, by_size);
        ac__mem_free(m, total);
        return AC_E_NO_MEMORY;
    }
    uint64_t len = (uint64_t)1 << n;
    double big = 0.0;
    for (uint64_t mask = 0; mask < len; mask++) {
        if (stop != NULL && mask % STOP_EVERY == 0 &&
            atomic_load_explicit(stop, memory_order_relaxed)) {
            ac__mem_free(m, by_size);
            ac__mem_free(m, total);
            return AC_E_CANCELLED;
        }
        double v = x[mask] * xscale;
        if (fabs(v) > big)
            big = fabs(v);
        uint32_t s = ac__popcount64(mask);
        double *row = by_size + (size_t)s * n;
        total[s] += v;
        for (uint64_t bits = mask; bits; bits &= bits - 1)
            row[ac__ctz64(bits)] += v;
    }
    for (uint32_t i = 0; i < n; i++) {
        ac__ksum acc = {0.0, 0.0};
        for (uint32_t s = 0; s <= n; s++) {
            double in = by_size[(size_t)s * n + i];
            ac__ksum_add(&acc, in_coef[s] * in);
            ac__ksum_add(&acc, out_coef[s] * (total[s] - in));
        }
        out[i] = ac__ksum_value(&acc);
    }
    if (xmax != NULL)
        *xmax = big;
    ac__mem_free(m, by_size);
    ac__mem_free(m, total);
    return AC_OK;
}

/* in_coef/out_coef for the Shapley value (squared: for its variance). */
static void shapley_coefs(uint32_t n, int squared, double *in_coef,
                          double *out_coef)
{
    double w[AC_EXACT_MAX_PLAYERS];
    ac__shapley_weights(n, w);
    for (uint32_t s = 0; s <= n; s++) {
        double a = s > 0 ? w[s - 1] : 0.0;
        double b = s < n ? -w[s] : 0.0;
        in_coef[s] = squared ? a * a : a;
        out_coef[s] = squared ? b * b : b;
    }
}

/* The Shapley combination of table x times xscale (squared coefficients:
 * its variance). */
static int shapley_combine(const ac__mem *m, uint32_t n, const double *x,
                           double xscale, int squared,
                           const atomic_int *stop, double *out, double *xmax)
{
    double in_coef[AC_EXACT_MAX_PLAYERS + 1], out_coef[AC_EXACT_MAX_PLAYERS + 1];
    shapley_coefs(n, squared, in_coef, out_coef);
    return ac__table_contrib(m, n, x, xscale, in_coef, out_coef, stop, out,
                             xmax);
}

int ac__shapley_table_stop(const ac__mem *m, uint32_t n,
                           const double *values, const atomic_int *stop,
                           double *phi)
{
    uint64_t len = (uint64_t)1 << n;
    /* The pass finds the values' magnitude; the rare table that needs the
     * scaled space is passed over again in it, and its credits and total
     * are taken back (times 2^k) at the end. */
    double big, down = 1.0;
    int rc = shapley_combine(m, n, values, 1.0, 0, stop, phi, &big);
    int k = rc == AC_OK ? ac__scale_shift(big) : 0;
    if (k != 0) {
        down = ldexp(1.0, -k);
        rc = shapley_combine(m, n, values, down, 0, stop, phi, NULL);
    }
    if (rc != AC_OK)
        return rc;
    double total = values[len - 1] - values[0]; /* the host's units */
    if (!isfinite(total))
        return AC_E_TOO_LARGE;
    ac__conserve(phi, NULL, n, k ? ldexp(total, -k) : total);
    for (uint32_t i = 0; i < n; i++)
        if (!isfinite(ldexp(phi[i], k)))
            return AC_E_TOO_LARGE;
    ac__conserve_unscale(phi, NULL, n, total, k);
    return AC_OK;
}

int ac__shapley_table(const ac__mem *m, uint32_t n, const double *values,
                      double *phi)
{
    return ac__shapley_table_stop(m, n, values, NULL, phi);
}

int ac__shapley_table_se(const ac__mem *m, uint32_t n, const double *var,
                         const atomic_int *stop, double *se)
{
    int rc = shapley_combine(m, n, var, 1.0, 1, stop, se, NULL);
    if (rc == AC_OK)
        for (uint32_t i = 0; i < n; i++)
            se[i] = sqrt(se[i] > 0.0 ? se[i] : 0.0);
    return rc;
}

int ac_shapley_exact(uint32_t n, const double *values, uint64_t len,
                     double *phi)
{
    if (values == NULL || phi == NULL || n == 0)
        return AC_E_INVALID_ARG;
    if (n > AC_EXACT_MAX_PLAYERS)
        return AC_E_TOO_LARGE;
    if (len != (uint64_t)1 << n)
        return AC_E_INVALID_ARG;
    for (uint64_t k = 0; k < len; k++)
        if (!isfinite(values[k]))
            return AC_E_INVALID_ARG;
    ac__mem m;
    ac__mem_init(&m, NULL);
    double *tmp = ac__mem_alloc(&m, n, sizeof *tmp);
    if (tmp == NULL)
        return AC_E_NO_MEMORY;
    int rc = ac__shapley_table(&m, n, values, tmp);
    if (rc == AC_OK)
        memcpy(phi, tmp, n * sizeof *phi);
    ac__mem_free(&m, tmp);
    return rc;
}
