/* The Shapley interaction index of every pair from a complete table.
 *
 * I_ij = sum over S in N \ {i,j} of w(|S|) [v(S+ij) - v(S+i) - v(S+j) +
 * v(S)], w(k) = k! (n-k-2)! / (n-1)!. Coalition T enters I_ij with a
 * coefficient that depends only on |T| and on how many of i, j it holds:
 * w(|T|-2) with both, -w(|T|-1) with one, w(|T|) with neither. So one pass
 * sums the table per size over the coalitions holding i, holding i and j,
 * and over all of them (the credits' trick in shapley_exact.c, one order
 * up), and each index is a combination of those sums. */
#include "credit/interactions.h"

#include <math.h>

#include "agentcredit.h"
#include "common/bits.h"
#include "common/ksum.h"
#include "credit/scale.h"
#include "credit/shapley_exact.h"

/* Table entries between two looks at the stop flag: about a millisecond. */
#define STOP_EVERY ((uint64_t)1 << 16)

/* The coefficient of a coalition of size t holding c of the pair (squared:
 * for a variance), by class: k[c][t]. */
static void pair_coefs(uint32_t n, int squared,
                       double k[3][AC_EXACT_MAX_PLAYERS + 1])
{
    double w[AC_EXACT_MAX_PLAYERS];
    ac__shapley_weights(n - 1, w); /* 1 / ((n-1) C(n-2, k)) = w(k) */
    for (uint32_t t = 0; t <= n; t++) {
        k[0][t] = t + 2 <= n ? w[t] : 0.0;
        k[1][t] = t >= 1 && t + 1 <= n ? -w[t - 1] : 0.0;
        k[2][t] = t >= 2 ? w[t - 2] : 0.0;
        for (int c = 0; squared && c < 3; c++)
            k[c][t] *= k[c][t];
    }
}

/* Adds v to the sums of coalition mask (size s): its total, each member's
 * and each pair of members' (pair (i,j) at base[i] + j). */
static void add_coalition(uint64_t mask, uint32_t s, double v, uint32_t n,
                          uint64_t pairs, const uint64_t *base, double *total,
                          double *in, double *both)
{
    uint32_t idx[AC_EXACT_MAX_PLAYERS], m = 0;
    for (uint64_t bits = mask; bits; bits &= bits - 1)
        idx[m++] = ac__ctz64(bits);
    total[s] += v;
    double *row = in + (size_t)s * n, *prow = both + (size_t)s * pairs;
    for (uint32_t a = 0; a < m; a++) {
        row[idx[a]] += v;
        uint64_t at = base[idx[a]];
        for (uint32_t b = a + 1; b < m; b++)
            prow[at + idx[b]] += v;
    }
}

/* Each index from the per-size sums: the coefficients regrouped so that
 * every sum enters once, B (both) with k2 - 2 k1 + k0, A_i and A_j with
 * k1 - k0, the total with k0. */
static void combine(uint32_t n, uint64_t pairs, const double *total,
                    const double *in, const double *both,
                    double k[3][AC_EXACT_MAX_PLAYERS + 1], double *out)
{
    uint64_t p = 0;
    for (uint32_t i = 0; i < n; i++)
        for (uint32_t j = i + 1; j < n; j++, p++) {
            ac__ksum acc = {0.0, 0.0};
            for (uint32_t t = 0; t <= n; t++) {
                double kb = k[2][t] - 2.0 * k[1][t] + k[0][t];
                double ka = k[1][t] - k[0][t];
                ac__ksum_add(&acc, kb * both[(size_t)t * pairs + p]);
                ac__ksum_add(&acc, ka * in[(size_t)t * n + i]);
                ac__ksum_add(&acc, ka * in[(size_t)t * n + j]);
                ac__ksum_add(&acc, k[0][t] * total[t]);
            }
            out[p] = ac__ksum_value(&acc);
        }
}

int ac__pair_table_contrib(const ac__mem *m, uint32_t n, const double *x,
                           double xscale, int squared,
                           const atomic_int *stop, double *out, double *xmax)
{
    uint64_t pairs = ac__pair_count(n), len = (uint64_t)1 << n;
    double *total = ac__mem_calloc(m, n + 1, sizeof *total);
    double *in = ac__mem_calloc(m, (size_t)(n + 1) * n, sizeof *in);
    double *both = ac__mem_calloc(m, (size_t)(n + 1) * (pairs ? pairs : 1),
                                  sizeof *both);
    uint64_t *base = ac__mem_alloc(m, n, sizeof *base);
    int rc = total && in && both && base ? AC_OK : AC_E_NO_MEMORY;
    /* (i,j) at base[i] + j, in unsigned arithmetic (base[0] is -1) */
    for (uint32_t i = 0; rc == AC_OK && i < n; i++)
        base[i] = (uint64_t)i * (2 * n - i - 1) / 2 - i - 1;
    double big = 0.0;
    for (uint64_t mask = 0; rc == AC_OK && mask < len; mask++) {
        if (stop != NULL && mask % STOP_EVERY == 0 &&
            atomic_load_explicit(stop, memory_order_relaxed)) {
            rc = AC_E_CANCELLED;
            break;
        }
        double v = x[mask] * xscale;
        if (fabs(v) > big)
            big = fabs(v);
        add_coalition(mask, ac__popcount64(mask), v, n, pairs, base, total,
                      in, both);
    }
    if (rc == AC_OK && pairs > 0) {
        double k[3][AC_EXACT_MAX_PLAYERS + 1];
        pair_coefs(n, squared, k);
        combine(n, pairs, total, in, both, k, out);
    }
    if (rc == AC_OK && xmax != NULL)
        *xmax = big;
    ac__mem_free(m, total);
    ac__mem_free(m, in);
    ac__mem_free(m, both);
    ac__mem_free(m, base);
    return rc;
}

int ac__pair_interactions(const ac__mem *m, uint32_t n, const double *mean,
                          const double *var, const atomic_int *stop,
                          double *index, double *se)
{
    int rc = ac__pair_table_contrib(m, n, mean, 1.0, 0, stop, index, NULL);
    if (rc == AC_OK && var != NULL)
        rc = ac__pair_table_contrib(m, n, var, 1.0, 1, stop, se, NULL);
    for (uint64_t p = 0; rc == AC_OK && p < ac__pair_count(n); p++)
        se[p] = var != NULL && se[p] > 0.0 ? sqrt(se[p]) : 0.0;
    return rc;
}

int ac__interactions_table(const ac__mem *m, uint32_t n, const double *values,
                           const atomic_int *stop, double *index)
{
    /* As the credits (ac__shapley_table_stop): a table that needs the
     * scaled space is passed over again in it. */
    double big = 0.0;
    int rc = ac__pair_table_contrib(m, n, values, 1.0, 0, stop, index, &big);
    int k = rc == AC_OK ? ac__scale_shift(big) : 0;
    if (k != 0)
        rc = ac__pair_table_contrib(m, n, values, ldexp(1.0, -k), 0, stop,
                                    index, NULL);
    for (uint64_t p = 0; rc == AC_OK && p < ac__pair_count(n); p++) {
        index[p] = ldexp(index[p], k);
        if (!isfinite(index[p]))
            rc = AC_E_TOO_LARGE;
    }
    return rc;
}

int ac_shapley_interactions_exact(uint32_t n, const double *values,
                                  uint64_t len, double *index,
                                  size_t index_len)
{
    if (values == NULL || n == 0 || (index == NULL && index_len > 0))
        return AC_E_INVALID_ARG;
    if (n > AC_EXACT_MAX_PLAYERS)
        return AC_E_TOO_LARGE;
    if (len != (uint64_t)1 << n || index_len != ac__pair_count(n))
        return AC_E_INVALID_ARG;
    for (uint64_t s = 0; s < len; s++)
        if (!isfinite(values[s]))
            return AC_E_INVALID_ARG;
    ac__mem m;
    ac__mem_init(&m, NULL);
    double *tmp = ac__mem_alloc(&m, index_len ? index_len : 1, sizeof *tmp);
    if (tmp == NULL)
        return AC_E_NO_MEMORY;
    int rc = ac__interactions_table(&m, n, values, NULL, tmp);
    for (size_t p = 0; rc == AC_OK && p < index_len; p++)
        index[p] = tmp[p];
    ac__mem_free(&m, tmp);
    return rc;
}
