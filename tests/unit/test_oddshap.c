/* SPDX-License-Identifier: MIT
 *
 * OddSHAP (AC_METHOD_ODDSHAP): KernelSHAP's coalitions, a Gaussian-process
 * fit of the game's odd part. Known values where the odd part is simple
 * (additive games, even parities that must cancel), accuracy against
 * KernelSHAP on the same coalitions, determinism, conservation, refusals and
 * failed evaluations. */
#include "helpers.h"

/* v(S) = sum_{i in S} w_i + c2 x_0 x_1 + c3 x_2 x_3 x_4, x_i = +1 in S and
 * -1 out. A parity of even degree has Shapley value 0 for everyone; one of
 * odd degree d gives 2/d of its coefficient to each member. */
typedef struct parity_game {
    uint32_t n;
    double w[16], c2, c3;
} parity_game;

static double sign_of(uint64_t mask, uint32_t i)
{
    return mask >> i & 1u ? 1.0 : -1.0;
}

static double parity_value(const parity_game *g, uint64_t mask)
{
    double v = 0.0;
    for (uint32_t i = 0; i < g->n; i++)
        if (mask >> i & 1u)
            v += g->w[i];
    return v + g->c2 * sign_of(mask, 0) * sign_of(mask, 1) +
           g->c3 * sign_of(mask, 2) * sign_of(mask, 3) * sign_of(mask, 4);
}

static int parity_oracle(void *user, const uint64_t *c, uint32_t words,
                         uint32_t count, double *values, int32_t *status)
{
    (void)words;
    (void)status;
    for (uint32_t k = 0; k < count; k++)
        values[k] = parity_value(user, c[k]);
    return 0;
}

static double parity_error(const parity_game *g, int64_t method,
                           int64_t budget)
{
    double want[16], phi[16], se[16], worst = 0.0;
    for (uint32_t i = 0; i < g->n; i++)
        want[i] = g->w[i] + (i >= 2 && i <= 4 ? 2.0 * g->c3 / 3.0 : 0.0);
    ac_estimator *e = th_est(g->n, method, budget, 3);
    th_ok(ac_estimator_set_oracle(e, parity_oracle, (void *)g), e);
    th_ok(ac_estimator_run(e), e);
    th_ok(ac_estimator_result(e, phi, se, g->n), e);
    ck_assert_int_eq(th_audit(e, AC_ESTIMATOR_AUDIT_METHOD), method);
    ac_estimator_free(e);
    for (uint32_t i = 0; i < g->n; i++)
        worst = fmax(worst, fabs(phi[i] - want[i]));
    return worst;
}

START_TEST(parities_fitted_by_degree)
{
    /* n = 10 at 400 of 1022 evaluations. The even parity cancels in every
     * pair (for KernelSHAP's paired sampling too); the third-order parity
     * is outside KernelSHAP's linear model but inside OddSHAP's. */
    parity_game g = {10, {0}, 0.7, 0.4};
    for (uint32_t i = 0; i < g.n; i++)
        g.w[i] = 0.1 * (double)i - 0.3;
    double odd = parity_error(&g, AC_METHOD_ODDSHAP, 400);
    double ks = parity_error(&g, AC_METHOD_KERNELSHAP, 400);
    ck_assert_msg(odd < 5e-3 && odd * 10.0 < ks,
                  "max error: OddSHAP %g, KernelSHAP %g", odd, ks);
}
END_TEST

START_TEST(additive_game_exact)
{
    th_game *g = th_game_additive(12, 5);
    ac_estimator *e = th_est(12, AC_METHOD_ODDSHAP, 40 + 30 * _i, 1);
    th_est_ends(e, g);
    th_oracle o;
    th_oracle_init(&o, g, 1);
    o.forbid_ends = 1;
    double phi[12], se[12];
    th_ok(th_run(e, &o, phi, se), e);
    th_oracle_assert_clean(&o);
    ck_assert_msg(o.duplicates == 0, "%llu coalitions evaluated twice",
                  (unsigned long long)o.duplicates);
    th_assert_vec_near(phi, g->w, 12, 2e-5, "OddSHAP, additive");
    th_assert_conserves(phi, 12, th_game_all(g), th_game_empty(g));
    for (uint32_t i = 0; i < 12; i++)
        ck_assert_msg(isfinite(se[i]) && se[i] >= 0.0, "se[%u] = %g", i,
                      se[i]);
    th_oracle_fini(&o);
    ac_estimator_free(e);
    th_game_free(g);
}
END_TEST

static double run_mse(const th_game *g, int64_t method, int64_t budget,
                      int64_t seed, const double *want)
{
    ac_estimator *e = th_est(g->n, method, budget, seed);
    th_est_ends(e, g);
    th_oracle o;
    th_oracle_init(&o, g, 0);
    double phi[16], se[16];
    th_ok(th_run(e, &o, phi, se), e);
    ck_assert_int_le(th_audit(e, AC_ESTIMATOR_AUDIT_EVALUATIONS), budget);
    th_assert_conserves(phi, g->n, th_game_all(g), th_game_empty(g));
    double s = 0.0;
    for (uint32_t i = 0; i < g->n; i++)
        s += (phi[i] - want[i]) * (phi[i] - want[i]);
    th_oracle_fini(&o);
    ac_estimator_free(e);
    return s / g->n;
}

START_TEST(more_accurate_than_kernelshap)
{
    /* A sum of unanimity games of order <= 4 at n = 12, 300 evaluations of
     * 4094, over 6 seeds: the same coalitions, fitted two ways. On the
     * benchmark's n = 14 game the gain is 3-30 fold. */
    th_game *g = th_game_soum(12, 24, 4, 77);
    double *table = th_game_table(g), want[12];
    th_shapley_subsets(12, table, want);
    free(table);
    double odd = 0.0, ks = 0.0;
    for (int64_t seed = 0; seed < 6; seed++) {
        odd += run_mse(g, AC_METHOD_ODDSHAP, 300, seed, want);
        ks += run_mse(g, AC_METHOD_KERNELSHAP, 300, seed, want);
    }
    ck_assert_msg(odd < 0.5 * ks, "OddSHAP MSE %g, KernelSHAP %g", odd / 6,
                  ks / 6);
    th_game_free(g);
}
END_TEST

START_TEST(same_seed_same_bits)
{
    th_game *g = th_game_soum(9, 18, 3, 5);
    double a[9], b[9], sa[9], sb[9];
    for (int k = 0; k < 2; k++) {
        ac_estimator *e = th_est(9, AC_METHOD_ODDSHAP, 150, 42);
        th_ok(ac_estimator_set_int(e, AC_ESTIMATOR_PARAM_BATCH, k == 0 ? 64 : 7), e);
        th_oracle o;
        th_oracle_init(&o, g, 0);
        th_ok(th_run(e, &o, k == 0 ? a : b, k == 0 ? sa : sb), e);
        th_oracle_fini(&o);
        ac_estimator_free(e);
    }
    ck_assert_mem_eq(a, b, sizeof a);
    ck_assert_mem_eq(sa, sb, sizeof sa);
    th_game_free(g);
}
END_TEST

START_TEST(budget_beyond_the_fit_is_refused)
{
    /* One row per pair, at most AC_ODDSHAP_MAX_ROWS: a budget of 8191
     * fits, 8192 does not. */
    th_game *g = th_game_additive(14, 2);
    ac_estimator *e = th_est(14, AC_METHOD_ODDSHAP, 8192, 0);
    th_est_ends(e, g);
    th_oracle o;
    th_oracle_init(&o, g, 0);
    ck_assert_int_eq(th_run(e, &o, NULL, NULL), AC_E_TOO_LARGE);
    ck_assert(th_icontains(ac_estimator_last_error(e), "oddshap"));
    ck_assert(th_icontains(ac_estimator_last_error(e), "KERNELSHAP"));
    ck_assert_uint_eq(o.evals, 0);
    th_oracle_fini(&o);
    ac_estimator_free(e);
    th_game_free(g);
}
END_TEST

/* Fails every 9th evaluation (status 5). */
typedef struct flaky {
    th_oracle inner;
    uint64_t seen;
} flaky;

static int flaky_fn(void *user, const uint64_t *c, uint32_t words,
                    uint32_t count, double *values, int32_t *status)
{
    flaky *f = user;
    int rc = th_oracle_fn(&f->inner, c, words, count, values, status);
    for (uint32_t k = 0; k < count; k++)
        if (++f->seen % 9 == 0)
            status[k] = 5;
    return rc;
}

START_TEST(failed_evaluations_drop_their_pairs)
{
    /* _i = 1: the surrogate method, on the same plan. */
    th_game *g = th_game_soum(10, 20, 3, 9);
    ac_estimator *e =
        th_est(10, _i ? AC_METHOD_SURROGATE : AC_METHOD_ODDSHAP, 400, 2);
    th_ok(ac_estimator_set_int(e, AC_ESTIMATOR_PARAM_MAX_RETRIES, 0), e);
    th_est_ends(e, g);
    flaky f = {{0}, 0};
    th_oracle_init(&f.inner, g, 0);
    th_ok(ac_estimator_set_oracle(e, flaky_fn, &f), e);
    th_ok(ac_estimator_run(e), e);
    double phi[10], se[10];
    th_ok(ac_estimator_result(e, phi, se, 10), e);
    ck_assert_int_gt(th_audit(e, AC_ESTIMATOR_AUDIT_DROPPED), 0);
    th_assert_conserves(phi, 10, th_game_all(g), th_game_empty(g));
    double *table = th_game_table(g), want[10];
    th_shapley_subsets(10, table, want);
    free(table);
    for (uint32_t i = 0; i < 10; i++)
        ck_assert_msg(fabs(phi[i] - want[i]) < 0.1, "phi[%u] = %g, exact %g",
                      i, phi[i], want[i]);
    th_oracle_fini(&f.inner);
    ac_estimator_free(e);
    th_game_free(g);
}
END_TEST

/* Every evaluation fails. */
static int failing_fn(void *user, const uint64_t *c, uint32_t words,
                      uint32_t count, double *values, int32_t *status)
{
    (void)user;
    (void)c;
    (void)words;
    (void)values;
    for (uint32_t k = 0; k < count; k++)
        status[k] = 1;
    return 0;
}

START_TEST(no_pair_left_is_an_error)
{
    /* n = 40 at 50 evaluations: only sampled pairs (sizes 1 and 39 do not
     * fit), every one lost. KernelSHAP says so; OddSHAP must too, not
     * return the equal split as an estimate. */
    th_game *g = th_game_additive(40, 4);
    ac_estimator *e = th_est(40, AC_METHOD_ODDSHAP, 50, 1);
    th_ok(ac_estimator_set_int(e, AC_ESTIMATOR_PARAM_MAX_RETRIES, 0), e);
    th_est_ends(e, g);
    th_ok(ac_estimator_set_oracle(e, failing_fn, NULL), e);
    ck_assert_int_eq(ac_estimator_run(e), AC_E_ORACLE);
    ck_assert(th_icontains(ac_estimator_last_error(e), "pair"));
    ac_estimator_free(e);
    th_game_free(g);
}
END_TEST

/* A run at n = 14 with every coalition known but those with lo..hi
 * players; returns the method the audit names. */
static int64_t run_known_layers(const th_game *g, int64_t method, uint32_t lo,
                                uint32_t hi, int64_t budget, double *phi,
                                double *se)
{
    ac_estimator *e = th_est(14, method, budget, 0);
    for (uint64_t mask = 0; mask < (1u << 14); mask++) {
        uint32_t size = th_popcount64(mask);
        if (size < lo || size > hi)
            th_ok(ac_estimator_set_value(e, &mask, 1,
                                         th_game_value_mask(g, mask)),
                  e);
    }
    th_oracle o;
    th_oracle_init(&o, g, 0);
    th_ok(th_run(e, &o, phi, se), e);
    int64_t used = th_audit(e, AC_ESTIMATOR_AUDIT_METHOD);
    th_oracle_fini(&o);
    ac_estimator_free(e);
    return used;
}

START_TEST(known_layers_beyond_the_fit_fall_back)
{
    /* n = 14 with every coalition known but those of 7 players (3432): the
     * enumerated layers give about 6,500 free pairs, more than the fit's
     * 4,096 rows. OddSHAP then reports KernelSHAP's estimate on the same
     * coalitions, at KernelSHAP's cost, and the audit says so. (AUTO takes
     * the surrogate method at this budget, which leaves OddSHAP's fit out
     * of its candidates there.) */
    th_game *g = th_game_soum(14, 20, 3, 8);
    double phi[2][14], se[2][14];
    const int64_t methods[2] = {AC_METHOD_KERNELSHAP, AC_METHOD_ODDSHAP};
    for (int m = 0; m < 2; m++) {
        ck_assert_int_eq(run_known_layers(g, methods[m], 7, 7, 2048, phi[m],
                                          se[m]),
                         AC_METHOD_KERNELSHAP);
        ck_assert_mem_eq(phi[m], phi[0], sizeof phi[0]);
        ck_assert_mem_eq(se[m], se[0], sizeof se[0]);
    }
    th_game_free(g);
}
END_TEST

START_TEST(known_layers_within_the_fit_stay_oddshap)
{
    /* The same game with the sizes 4..10 unknown: the known layers give 469
     * pairs, and with the budget's the fit holds them all. The audit says
     * OddSHAP, and the estimate is its own, not KernelSHAP's. */
    th_game *g = th_game_soum(14, 20, 3, 8);
    double phi[2][14], se[2][14];
    ck_assert_int_eq(run_known_layers(g, AC_METHOD_ODDSHAP, 4, 10, 400,
                                      phi[0], se[0]),
                     AC_METHOD_ODDSHAP);
    ck_assert_int_eq(run_known_layers(g, AC_METHOD_KERNELSHAP, 4, 10, 400,
                                      phi[1], se[1]),
                     AC_METHOD_KERNELSHAP);
    ck_assert_msg(memcmp(phi[0], phi[1], sizeof phi[0]) != 0,
                  "OddSHAP returned KernelSHAP's estimate");
    th_game_free(g);
}
END_TEST

static Suite *oddshap_suite(void)
{
    Suite *s = suite_create("oddshap");
    TCase *tc = th_tcase(s, "oddshap");
    tcase_add_test(tc, parities_fitted_by_degree);
    tcase_add_loop_test(tc, additive_game_exact, 0, 2);
    tcase_add_test(tc, more_accurate_than_kernelshap);
    tcase_add_test(tc, same_seed_same_bits);
    tcase_add_test(tc, budget_beyond_the_fit_is_refused);
    tcase_add_loop_test(tc, failed_evaluations_drop_their_pairs, 0, 2);
    tcase_add_test(tc, no_pair_left_is_an_error);
    tcase_add_test(tc, known_layers_beyond_the_fit_fall_back);
    tcase_add_test(tc, known_layers_within_the_fit_stay_oddshap);
    return s;
}

int main(void)
{
    return th_run_suite(oddshap_suite());
}
