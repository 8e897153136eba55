/* SPDX-License-Identifier: MIT
 *
 * The Shapley interaction index of every pair: ac_shapley_interactions_exact
 * on games whose indices are known (unanimity, additive, the definition by
 * brute force), and the estimator's (AC_ESTIMATOR_PARAM_INTERACTIONS):
 * exact, adaptive and a sampled method that completes its cache, their
 * standard errors under noise, the refusals, huge values and allocation
 * failures. */
#include "helpers.h"

/* The definition, straight: I_ij = sum over S in N \ {i,j} of
 * |S|! (n-|S|-2)! / (n-1)! [v(S+ij) - v(S+i) - v(S+j) + v(S)]. */
static double brute_index(uint32_t n, const double *v, uint32_t i, uint32_t j)
{
    double fact[32] = {1.0};
    for (uint32_t k = 1; k < 32; k++)
        fact[k] = fact[k - 1] * k;
    uint64_t bi = (uint64_t)1 << i, bj = (uint64_t)1 << j, sum_terms = 0;
    double sum = 0.0;
    for (uint64_t S = 0; S < ((uint64_t)1 << n); S++) {
        if (S & (bi | bj))
            continue;
        uint32_t s = th_popcount64(S);
        double w = fact[s] * fact[n - s - 2] / fact[n - 1];
        sum += w * (v[S | bi | bj] - v[S | bi] - v[S | bj] + v[S]);
        sum_terms++;
    }
    ck_assert_uint_eq(sum_terms, (uint64_t)1 << (n - 2));
    return sum;
}

static size_t pairs_of(uint32_t n)
{
    return (size_t)n * (n - 1) / 2;
}

/* The place of pair (i, j), i < j, in the condensed order. */
static size_t pair_at(uint32_t n, uint32_t i, uint32_t j)
{
    return (size_t)i * (2 * n - i - 1) / 2 + (j - i - 1);
}

static double *table_index(uint32_t n, const double *v)
{
    double *index = malloc((pairs_of(n) ? pairs_of(n) : 1) * sizeof *index);
    ck_assert_ptr_nonnull(index);
    int rc = ac_shapley_interactions_exact(n, v, (uint64_t)1 << n, index,
                                           pairs_of(n));
    ck_assert_msg(rc == AC_OK, "n = %u: %s", n, ac_status_name(rc));
    return index;
}

/* ---- the table function ---- */

/* u_T with coefficient c: I_ij = c / (|T| - 1) for i, j in T, else 0. */
START_TEST(unanimity)
{
    const uint32_t n = 6;
    const uint64_t T = 0x2D; /* players 0, 2, 3, 5 */
    const double c = 3.0;
    double v[64];
    for (uint64_t S = 0; S < 64; S++)
        v[S] = (S & T) == T ? c : 0.0;
    double *index = table_index(n, v);
    for (uint32_t i = 0; i < n; i++)
        for (uint32_t j = i + 1; j < n; j++) {
            int in = (T >> i & 1) && (T >> j & 1);
            double want = in ? c / 3.0 : 0.0;
            ck_assert_msg(fabs(index[pair_at(n, i, j)] - want) < 1e-14,
                          "I_%u%u = %.17g, not %.17g", i, j,
                          index[pair_at(n, i, j)], want);
        }
    free(index);
}
END_TEST

/* An additive game has no interaction; neither has a constant shift. */
START_TEST(additive)
{
    for (uint32_t n = 2; n <= 10; n++) {
        th_game *g = th_game_additive(n, 40 + n);
        double *v = th_game_table(g);
        for (uint64_t S = 0; S < ((uint64_t)1 << n); S++)
            v[S] += 7.5;
        double *index = table_index(n, v);
        for (size_t p = 0; p < pairs_of(n); p++)
            ck_assert_msg(fabs(index[p]) < 1e-13, "n = %u, pair %zu: %g", n,
                          p, index[p]);
        free(index);
        free(v);
        th_game_free(g);
    }
}
END_TEST

START_TEST(brute_force)
{
    for (uint32_t n = 2; n <= 8; n++)
        for (uint64_t seed = 1; seed <= 3; seed++) {
            th_game *g = th_game_random_table(n, 100 * n + seed);
            double *index = table_index(n, g->table);
            for (uint32_t i = 0; i < n; i++)
                for (uint32_t j = i + 1; j < n; j++) {
                    double want = brute_index(n, g->table, i, j);
                    double got = index[pair_at(n, i, j)];
                    ck_assert_msg(fabs(got - want) < 1e-13,
                                  "n = %u seed %llu, I_%u%u = %.17g, not "
                                  "%.17g", n, (unsigned long long)seed, i,
                                  j, got, want);
                }
            free(index);
            th_game_free(g);
        }
}
END_TEST

/* Relabelling the players relabels the pairs: swapping players a and b
 * maps pair (a, k) to (b, k); two symmetric players interact alike with
 * every third. */
START_TEST(symmetry)
{
    const uint32_t n = 6, a = 1, b = 4;
    th_game *g = th_game_random_table(n, 77);
    uint64_t len = (uint64_t)1 << n;
    double *swapped = malloc(len * sizeof *swapped);
    ck_assert_ptr_nonnull(swapped);
    for (uint64_t S = 0; S < len; S++) {
        uint64_t ia = S >> a & 1, ib = S >> b & 1;
        uint64_t T = (S & ~((1ull << a) | (1ull << b))) | ib << a | ia << b;
        swapped[T] = g->table[S];
    }
    double *x = table_index(n, g->table), *y = table_index(n, swapped);
    uint32_t perm[6] = {0, 4, 2, 3, 1, 5};
    for (uint32_t i = 0; i < n; i++)
        for (uint32_t j = i + 1; j < n; j++) {
            uint32_t pi = perm[i], pj = perm[j];
            size_t q = pi < pj ? pair_at(n, pi, pj) : pair_at(n, pj, pi);
            ck_assert_double_eq_tol(x[pair_at(n, i, j)], y[q], 1e-14);
        }
    /* symmetrise a and b: v'(S) = v(S) + v(swap S) */
    for (uint64_t S = 0; S < len; S++)
        swapped[S] += g->table[S];
    free(x);
    x = table_index(n, swapped);
    for (uint32_t k = 0; k < n; k++)
        if (k != a && k != b) {
            size_t ak = k < a ? pair_at(n, k, a) : pair_at(n, a, k);
            size_t bk = k < b ? pair_at(n, k, b) : pair_at(n, b, k);
            ck_assert_double_eq_tol(x[ak], x[bk], 1e-13);
        }
    free(x);
    free(y);
    free(swapped);
    th_game_free(g);
}
END_TEST

START_TEST(table_arguments)
{
    double v[8] = {0, 1, 2, 3, 4, 5, 6, 7}, index[3];
    ck_assert_int_eq(ac_shapley_interactions_exact(3, v, 8, index, 3), AC_OK);
    ck_assert_int_eq(ac_shapley_interactions_exact(3, v, 8, index, 2),
                     AC_E_INVALID_ARG);
    ck_assert_int_eq(ac_shapley_interactions_exact(3, v, 7, index, 3),
                     AC_E_INVALID_ARG);
    ck_assert_int_eq(ac_shapley_interactions_exact(3, NULL, 8, index, 3),
                     AC_E_INVALID_ARG);
    ck_assert_int_eq(ac_shapley_interactions_exact(3, v, 8, NULL, 3),
                     AC_E_INVALID_ARG);
    ck_assert_int_eq(ac_shapley_interactions_exact(0, v, 1, index, 0),
                     AC_E_INVALID_ARG);
    ck_assert_int_eq(ac_shapley_interactions_exact(31, v, 8, index, 3),
                     AC_E_TOO_LARGE);
    /* one player: no pair */
    ck_assert_int_eq(ac_shapley_interactions_exact(1, v, 2, NULL, 0), AC_OK);
    v[5] = NAN;
    index[0] = 42.0;
    ck_assert_int_eq(ac_shapley_interactions_exact(3, v, 8, index, 3),
                     AC_E_INVALID_ARG);
    ck_assert(index[0] == 42.0); /* written on success only */
}
END_TEST

/* Values near the largest double: worked on scaled, the indices are the
 * table's own times the scale; an index beyond a double is refused. */
START_TEST(huge_values)
{
    const uint32_t n = 5;
    th_game *g = th_game_random_table(n, 9);
    uint64_t len = (uint64_t)1 << n;
    double *big = malloc(len * sizeof *big);
    ck_assert_ptr_nonnull(big);
    for (uint64_t S = 0; S < len; S++)
        big[S] = g->table[S] * 1e300;
    double *x = table_index(n, g->table), *y = table_index(n, big);
    for (size_t p = 0; p < pairs_of(n); p++) {
        ck_assert(isfinite(y[p]));
        ck_assert_double_eq_tol(y[p] / 1e300, x[p], 1e-12);
    }
    double v[4] = {0.0, -1.7e308, 0.0, 1.7e308}, index[1] = {42.0};
    ck_assert_int_eq(ac_shapley_interactions_exact(2, v, 4, index, 1),
                     AC_E_TOO_LARGE);
    ck_assert(index[0] == 42.0);
    free(x);
    free(y);
    free(big);
    th_game_free(g);
}
END_TEST

/* ---- the estimator ---- */

static ac_estimator *inter_est(uint32_t n, int64_t method, int64_t budget,
                               int64_t seed)
{
    ac_estimator *e = th_est(n, method, budget, seed);
    th_ok(ac_estimator_set_int(e, AC_ESTIMATOR_PARAM_INTERACTIONS, 1), e);
    return e;
}

static void read_inter(const ac_estimator *e, uint32_t n, double *index,
                       double *se)
{
    th_ok(ac_estimator_interactions(e, index, se, pairs_of(n)), e);
}

START_TEST(param_bounds)
{
    int64_t lo = -1, hi = -1, v = -1;
    ck_assert_int_eq(ac_estimator_param_bounds_int(
                         AC_ESTIMATOR_PARAM_INTERACTIONS, &lo, &hi), AC_OK);
    ck_assert_int_eq(lo, 0);
    ck_assert_int_eq(hi, 1);
    ac_estimator *e = th_est(3, AC_METHOD_EXACT, 100, 0);
    th_ok(ac_estimator_get_int(e, AC_ESTIMATOR_PARAM_INTERACTIONS, &v), e);
    ck_assert_int_eq(v, 0);
    ck_assert_int_eq(ac_estimator_set_int(e, AC_ESTIMATOR_PARAM_INTERACTIONS,
                                          2), AC_E_PARAM_OUT_OF_BOUND);
    ac_estimator_free(e);
}
END_TEST

/* Exact (and AUTO, which takes it when the table pays): the table's
 * indices, standard errors 0 from a deterministic oracle. */
START_TEST(estimator_exact)
{
    const uint32_t n = 7;
    th_game *g = th_game_random_table(n, 5);
    double *want = table_index(n, g->table);
    int64_t methods[2] = {AC_METHOD_EXACT, AC_METHOD_AUTO};
    for (int k = 0; k < 2; k++) {
        ac_estimator *e = inter_est(n, methods[k], 1000, 1);
        th_oracle o;
        th_oracle_init(&o, g, 0);
        double phi[7], index[21], se[21];
        th_ok(th_run(e, &o, phi, NULL), e);
        ck_assert_int_eq(th_audit(e, AC_ESTIMATOR_AUDIT_METHOD),
                         AC_METHOD_EXACT);
        read_inter(e, n, index, se);
        for (size_t p = 0; p < pairs_of(n); p++) {
            ck_assert_double_eq_tol(index[p], want[p], 1e-14);
            ck_assert(se[p] == 0.0);
        }
        read_inter(e, n, index, NULL); /* se may be NULL */
        th_oracle_fini(&o);
        ac_estimator_free(e);
    }
    free(want);
    th_game_free(g);
}
END_TEST

/* Each coalition evaluated twice gives v + d, then v - d: the mean is v,
 * the variance of the mean d^2, so se(I_ij) = d sqrt(sum of the squared
 * coefficients) = 2 d sqrt(sum_k C(n-2, k) w(k)^2). */
typedef struct alternating {
    const th_game *g;
    uint32_t *seen;
    double d;
} alternating;

static int alternating_fn(void *user, const uint64_t *c, uint32_t words,
                          uint32_t count, double *values, int32_t *status)
{
    alternating *a = user;
    (void)words;
    (void)status;
    for (uint32_t k = 0; k < count; k++) {
        uint32_t r = a->seen[c[k]]++;
        values[k] = th_game_value_mask(a->g, c[k]) + (r % 2 ? -a->d : a->d);
    }
    return 0;
}

START_TEST(exact_repeats_se)
{
    const uint32_t n = 6;
    const double d = 0.25;
    th_game *g = th_game_random_table(n, 11);
    double *want = table_index(n, g->table);
    alternating a = {g, calloc(64, sizeof(uint32_t)), d};
    ck_assert_ptr_nonnull(a.seen);
    ac_estimator *e = inter_est(n, AC_METHOD_EXACT, 1000, 0);
    th_ok(ac_estimator_set_int(e, AC_ESTIMATOR_PARAM_REPEATS, 2), e);
    th_ok(ac_estimator_set_oracle(e, alternating_fn, &a), e);
    th_ok(ac_estimator_run(e), e);
    double index[15], se[15], sum = 0.0, binom = 1.0;
    for (uint32_t k = 0; k + 2 <= n; k++) { /* w(k) = 1/((n-1)C(n-2,k)) */
        double w = 1.0 / ((n - 1) * binom);
        sum += binom * w * w;
        binom = binom * (n - 2 - k) / (k + 1);
    }
    read_inter(e, n, index, se);
    for (size_t p = 0; p < pairs_of(n); p++) {
        ck_assert_double_eq_tol(index[p], want[p], 1e-14);
        ck_assert_double_eq_tol(se[p], 2.0 * d * sqrt(sum), 1e-14);
    }
    ac_estimator_free(e);
    free(a.seen);
    free(want);
    th_game_free(g);
}
END_TEST

/* Noisy oracle, many seeds: (I - I_true) / se should be about standard
 * normal, for exact with repeats and for the adaptive method (its own
 * variance model). A wrong coefficient or a missing square shows as a
 * variance far from 1. */
static double z_variance(int64_t method, int64_t repeats, int64_t budget,
                         int noisy)
{
    const uint32_t n = 4;
    th_game *g = th_game_soum(n, 5, 3, 21);
    double *tab = th_game_table(g);
    double *want = table_index(n, tab);
    double sz2 = 0.0;
    int count = 0;
    for (int64_t seed = 0; seed < 150; seed++) {
        ac_estimator *e = inter_est(n, method, budget, seed);
        th_ok(ac_estimator_set_int(e, AC_ESTIMATOR_PARAM_REPEATS, repeats), e);
        th_ok(ac_estimator_set_int(e, AC_ESTIMATOR_PARAM_NOISY, noisy), e);
        th_oracle o;
        th_oracle_init(&o, g, 0);
        o.noise_sd = 0.3;
        o.rng = th_rng_make(1000 + (uint64_t)seed);
        double phi[4], index[6], se[6];
        th_ok(th_run(e, &o, phi, NULL), e);
        ck_assert_int_eq(th_audit(e, AC_ESTIMATOR_AUDIT_METHOD), method);
        read_inter(e, n, index, se);
        for (size_t p = 0; p < pairs_of(n); p++) {
            ck_assert(se[p] > 0.0 && isfinite(se[p]));
            double z = (index[p] - want[p]) / se[p];
            sz2 += z * z;
            count++;
        }
        th_oracle_fini(&o);
        ac_estimator_free(e);
    }
    free(want);
    free(tab);
    th_game_free(g);
    return sz2 / count;
}

START_TEST(noise_se)
{
    double exact = z_variance(AC_METHOD_EXACT, 4, 64, 0);
    double adaptive = z_variance(AC_METHOD_ADAPTIVE, 2, 200, 1);
    ck_assert_msg(exact > 0.6 && exact < 1.6, "exact: var(z) = %g", exact);
    ck_assert_msg(adaptive > 0.6 && adaptive < 1.6, "adaptive: var(z) = %g",
                  adaptive);
}
END_TEST

/* An oracle declared noisy, evaluated once a coalition, values not 0/1:
 * its noise cannot be seen, so the credits' standard errors are infinite
 * and so are the interactions' (the documented "cannot estimate it"), not
 * a failed run. */
START_TEST(unseen_noise_se_is_infinite)
{
    const uint32_t n = 5;
    th_game *g = th_game_random_table(n, 3);
    double *want = table_index(n, g->table);
    ac_estimator *e = inter_est(n, AC_METHOD_EXACT, 1000, 0);
    th_ok(ac_estimator_set_int(e, AC_ESTIMATOR_PARAM_NOISY, 1), e);
    th_oracle o;
    th_oracle_init(&o, g, 0);
    double phi[5], se_phi[5], index[10], se[10];
    th_ok(th_run(e, &o, phi, se_phi), e);
    for (uint32_t i = 0; i < n; i++)
        ck_assert(se_phi[i] == INFINITY);
    read_inter(e, n, index, se);
    for (size_t p = 0; p < pairs_of(n); p++) {
        ck_assert_double_eq_tol(index[p], want[p], 1e-14);
        ck_assert(se[p] == INFINITY);
    }
    th_oracle_fini(&o);
    ac_estimator_free(e);
    free(want);
    th_game_free(g);
}
END_TEST

/* A sampled method whose cache ends complete reports the exact indices. */
START_TEST(sampled_complete)
{
    const uint32_t n = 3;
    th_game *g = th_game_random_table(n, 3);
    double *want = table_index(n, g->table);
    ac_estimator *e = inter_est(n, AC_METHOD_PERMUTATION, 64, 2);
    th_oracle o;
    th_oracle_init(&o, g, 0);
    double phi[3], index[3], se[3];
    th_ok(th_run(e, &o, phi, NULL), e);
    ck_assert_int_eq(th_audit(e, AC_ESTIMATOR_AUDIT_OUTCOME),
                     AC_ESTIMATOR_OUTCOME_COMPLETE);
    read_inter(e, n, index, se);
    for (size_t p = 0; p < 3; p++) {
        ck_assert_double_eq_tol(index[p], want[p], 1e-14);
        ck_assert(se[p] == 0.0);
    }
    th_oracle_fini(&o);
    ac_estimator_free(e);
    free(want);
    th_game_free(g);
}
END_TEST

/* Fails coalition `bad` every time. */
static int failing_fn(void *user, const uint64_t *c, uint32_t words,
                      uint32_t count, double *values, int32_t *status)
{
    const th_game *g = user;
    (void)words;
    for (uint32_t k = 0; k < count; k++) {
        values[k] = th_game_value_mask(g, c[k]);
        status[k] = c[k] == 0x5 ? 1 : 0;
    }
    return 0;
}

static void assert_refused(ac_estimator *e, int want, const char *says)
{
    int rc = ac_estimator_run(e);
    ck_assert_msg(rc == want, "run: %s, not %s (%s)", ac_status_name(rc),
                  ac_status_name(want), ac_estimator_last_error(e));
    ck_assert_msg(strstr(ac_estimator_last_error(e), says) != NULL,
                  "the message \"%s\" does not say \"%s\"",
                  ac_estimator_last_error(e), says);
    int32_t done = -1;
    th_ok(ac_estimator_progress(e, &done, NULL), e);
    ck_assert_int_eq(done, 0); /* refused at the start: idle */
}

START_TEST(refusals)
{
    th_game *g = th_game_random_table(5, 8);
    th_oracle o;
    th_oracle_init(&o, g, 0);
    /* a sampled method the budget cannot take through the table */
    ac_estimator *e = inter_est(5, AC_METHOD_KERNELSHAP, 20, 0);
    th_ok(ac_estimator_set_oracle(e, th_oracle_fn, &o), e);
    assert_refused(e, AC_E_BUDGET, "INTERACTIONS");
    ck_assert_uint_eq(o.evals, 0);
    /* the host turns them off and runs again, no reset needed */
    th_ok(ac_estimator_set_int(e, AC_ESTIMATOR_PARAM_INTERACTIONS, 0), e);
    th_ok(ac_estimator_run(e), e);
    double index[10];
    ck_assert_int_eq(ac_estimator_interactions(e, index, NULL, 10),
                     AC_E_STATE);
    ck_assert_ptr_nonnull(strstr(ac_estimator_last_error(e), "was 0"));
    ac_estimator_free(e);
    /* AUTO when the table does not pay: refused the same way */
    e = inter_est(5, AC_METHOD_AUTO, 20, 0);
    th_ok(ac_estimator_set_oracle(e, th_oracle_fn, &o), e);
    assert_refused(e, AC_E_BUDGET, "every coalition");
    ac_estimator_free(e);
    /* too many players for any table */
    e = inter_est(31, AC_METHOD_PERMUTATION, 1000, 0);
    assert_refused(e, AC_E_TOO_LARGE, "at most 30");
    ac_estimator_free(e);
    /* the reader's own checks */
    e = inter_est(5, AC_METHOD_EXACT, 100, 0);
    ck_assert_int_eq(ac_estimator_interactions(e, index, NULL, 10),
                     AC_E_STATE);
    ck_assert_int_eq(ac_estimator_interactions(NULL, index, NULL, 10),
                     AC_E_INVALID_ARG);
    ck_assert_int_eq(ac_estimator_interactions(e, NULL, NULL, 10),
                     AC_E_INVALID_ARG);
    th_ok(ac_estimator_set_oracle(e, th_oracle_fn, &o), e);
    th_ok(ac_estimator_run(e), e);
    ck_assert_int_eq(ac_estimator_interactions(e, index, NULL, 9),
                     AC_E_INVALID_ARG);
    ck_assert_ptr_nonnull(strstr(ac_estimator_last_error(e), "10 pairs"));
    ac_estimator_free(e);
    th_oracle_fini(&o);
    th_game_free(g);
}
END_TEST

/* A sampled method that gives a coalition up ends without the whole
 * table: the credits are a success, the interactions are refused with
 * the reason. */
START_TEST(sampled_incomplete)
{
    th_game *g = th_game_random_table(4, 8);
    ac_estimator *e = inter_est(4, AC_METHOD_PERMUTATION, 200, 0);
    th_ok(ac_estimator_set_int(e, AC_ESTIMATOR_PARAM_MAX_RETRIES, 0), e);
    th_ok(ac_estimator_set_oracle(e, failing_fn, g), e);
    th_ok(ac_estimator_run(e), e);
    ck_assert_int_gt(th_audit(e, AC_ESTIMATOR_AUDIT_DROPPED), 0);
    double phi[4], index[6] = {42.0};
    th_ok(ac_estimator_result(e, phi, NULL, 4), e);
    ck_assert_int_eq(ac_estimator_interactions(e, index, NULL, 6),
                     AC_E_STATE);
    ck_assert_ptr_nonnull(strstr(ac_estimator_last_error(e), "permutation"));
    ck_assert(index[0] == 42.0);
    ac_estimator_free(e);
    th_game_free(g);
}
END_TEST

/* A table near 1e300 through the estimator: finite indices, the table
 * function's; one whose index overflows fails the run with AC_E_TOO_LARGE
 * naming the pair. */
START_TEST(estimator_huge)
{
    const uint32_t n = 4;
    th_game *g = th_game_random_table(n, 12);
    for (uint64_t S = 0; S < 16; S++)
        g->table[S] *= 1e300;
    double *want = table_index(n, g->table);
    ac_estimator *e = inter_est(n, AC_METHOD_EXACT, 100, 0);
    th_oracle o;
    th_oracle_init(&o, g, 0);
    double phi[4], index[6], se[6];
    th_ok(th_run(e, &o, phi, NULL), e);
    read_inter(e, n, index, se);
    for (size_t p = 0; p < 6; p++) {
        ck_assert(isfinite(index[p]) && se[p] == 0.0);
        ck_assert_double_eq_tol(index[p] / 1e300, want[p] / 1e300, 1e-12);
    }
    ac_estimator_free(e);
    double v[4] = {0.0, -1.7e308, 0.0, 1.7e308};
    th_game *h = th_game_from_table(2, v);
    th_oracle_fini(&o);
    th_oracle_init(&o, h, 0);
    e = inter_est(2, AC_METHOD_EXACT, 100, 0);
    ck_assert_int_eq(th_run(e, &o, phi, NULL), AC_E_TOO_LARGE);
    ck_assert_ptr_nonnull(strstr(ac_estimator_last_error(e),
                                 "players 0 and 1"));
    ck_assert_int_eq(ac_estimator_interactions(e, index, NULL, 1),
                     AC_E_STATE);
    ac_estimator_free(e);
    th_oracle_fini(&o);
    free(want);
    th_game_free(g);
    th_game_free(h);
}
END_TEST

/* AC_TEST_OOM_STRIDE=s fails every s-th allocation only (memcheck). */
static long oom_stride(void)
{
    const char *env = getenv("AC_TEST_OOM_STRIDE");
    return env != NULL && atol(env) > 0 ? atol(env) : 1;
}

/* Every allocation of a run with interactions failing in turn, for the
 * exact and the adaptive method: AC_E_NO_MEMORY, nothing left behind, and
 * the run that succeeds has the indices of one that never failed. */
START_TEST(no_memory)
{
    const uint32_t n = 4;
    th_game *g = th_game_random_table(n, 14);
    double *want = table_index(n, g->table);
    int64_t methods[2] = {AC_METHOD_EXACT, AC_METHOD_ADAPTIVE};
    for (int m = 0; m < 2; m++) {
        long failures = 0;
        for (long k = 0;; k += oom_stride()) {
            ck_assert_int_lt(k, 100000);
            th_fail_alloc f = {0, -1, 0, 0};
            ac_allocator a = th_fail_allocator(&f);
            ac_estimator *e = NULL;
            ck_assert_int_eq(ac_estimator_create(&e, n, &a), AC_OK);
            th_ok(ac_estimator_set_int(e, AC_ESTIMATOR_PARAM_METHOD,
                                       methods[m]), e);
            th_ok(ac_estimator_set_int(e, AC_ESTIMATOR_PARAM_BUDGET, 64), e);
            th_ok(ac_estimator_set_int(e, AC_ESTIMATOR_PARAM_INTERACTIONS, 1),
                  e);
            th_oracle o;
            th_oracle_init(&o, g, 0);
            th_ok(ac_estimator_set_oracle(e, th_oracle_fn, &o), e);
            f.fail_at = f.calls + k;
            int rc = ac_estimator_run(e);
            f.fail_at = -1;
            double index[6];
            if (rc == AC_OK) {
                read_inter(e, n, index, NULL);
                for (size_t p = 0; p < 6; p++)
                    ck_assert_double_eq_tol(index[p], want[p], 1e-14);
            } else {
                ck_assert_msg(rc == AC_E_NO_MEMORY, "allocation %ld: %s", k,
                              ac_status_name(rc));
                ck_assert_int_eq(ac_estimator_interactions(e, index, NULL, 6),
                                 AC_E_STATE);
                failures++;
            }
            ac_estimator_free(e);
            th_oracle_fini(&o);
            ck_assert_msg(f.live == 0, "allocation %ld: %ld blocks left", k,
                          f.live);
            if (rc == AC_OK && f.failed == 0)
                break;
        }
        ck_assert_int_gt(failures, 0);
    }
    free(want);
    th_game_free(g);
}
END_TEST

static Suite *interactions_suite(void)
{
    Suite *s = suite_create("interactions");
    TCase *tc = th_tcase(s, "table");
    tcase_add_test(tc, unanimity);
    tcase_add_test(tc, additive);
    tcase_add_test(tc, brute_force);
    tcase_add_test(tc, symmetry);
    tcase_add_test(tc, table_arguments);
    tcase_add_test(tc, huge_values);
    tc = th_tcase(s, "estimator");
    tcase_add_test(tc, param_bounds);
    tcase_add_test(tc, estimator_exact);
    tcase_add_test(tc, exact_repeats_se);
    tcase_add_test(tc, noise_se);
    tcase_add_test(tc, unseen_noise_se_is_infinite);
    tcase_add_test(tc, sampled_complete);
    tcase_add_test(tc, refusals);
    tcase_add_test(tc, sampled_incomplete);
    tcase_add_test(tc, estimator_huge);
    tcase_add_test(tc, no_memory);
    return s;
}

int main(void)
{
    return th_run_suite(interactions_suite());
}
