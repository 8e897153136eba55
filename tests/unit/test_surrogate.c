/* SPDX-License-Identifier: MIT
 *
 * Surrogate and correction (AC_METHOD_SURROGATE): KernelSHAP's coalitions,
 * surrogates chosen by their cross-validated residuals, plus a stratified
 * estimate of what the surrogate misses. Known values where a surrogate
 * represents the game (a maximum game is a tree), the correction's
 * unbiasedness over seeds on a game no surrogate represents, conservation,
 * determinism and the budget (failed evaluations: test_oddshap's
 * failed_evaluations_drop_their_pairs runs it too; a cancel in its fit:
 * test_numerics). Its accuracy figures are the benchmark's
 * (docs/performance.md), not these tests'. */
#include "helpers.h"

static void run_game(const th_game *g, int64_t budget, int64_t seed,
                     int64_t batch, double *phi, double *se)
{
    ac_estimator *e = th_est(g->n, AC_METHOD_SURROGATE, budget, seed);
    if (batch > 0)
        th_ok(ac_estimator_set_int(e, AC_ESTIMATOR_PARAM_BATCH, batch), e);
    th_est_ends(e, g);
    th_oracle o;
    th_oracle_init(&o, g, 1);
    o.forbid_ends = 1;
    th_ok(th_run(e, &o, phi, se), e);
    th_oracle_assert_clean(&o);
    ck_assert_int_le(th_audit(e, AC_ESTIMATOR_AUDIT_EVALUATIONS), budget);
    ck_assert_uint_le(o.evals, (uint64_t)budget);
    ck_assert_int_eq(th_audit(e, AC_ESTIMATOR_AUDIT_METHOD),
                     AC_METHOD_SURROGATE);
    th_assert_conserves(phi, g->n, th_game_all(g), th_game_empty(g));
    for (uint32_t i = 0; i < g->n; i++)
        ck_assert_msg(isfinite(phi[i]) && !isnan(se[i]) && se[i] >= 0.0,
                      "phi[%u] = %g, se %g", i, phi[i], se[i]);
    th_oracle_fini(&o);
    ac_estimator_free(e);
}

START_TEST(maximum_game_is_a_tree)
{
    /* An airport game, n = 12, at 600 of 4094 evaluations: the trees
     * represent it exactly (a split on each player in order of cost), so
     * the residual is 0 on every coalition and the credits are exact.
     * OddSHAP on the same coalitions is off by about 1e-3. */
    double costs[12];
    th_rng r = th_rng_make(31);
    for (uint32_t i = 0; i < 12; i++)
        costs[i] = th_rng_range(&r, 0.05, 1.0);
    th_game *g = th_game_airport(12, costs);
    double want[12], phi[12], se[12];
    ck_assert(th_game_closed_phi(g, want));
    run_game(g, 600, 4, 0, phi, se);
    th_assert_vec_near(phi, want, 12, 1e-12, "surrogate, airport");
    for (uint32_t i = 0; i < 12; i++)
        ck_assert_msg(se[i] < 1e-9, "se[%u] = %g", i, se[i]);
    th_game_free(g);
}
END_TEST

START_TEST(unbiased_over_seeds)
{
    /* A random table at n = 8 (every order of interaction): no surrogate
     * represents it, so the correction carries the estimate. Over 64 seeds
     * at 120 of 254 evaluations the mean error of each credit is within
     * 4 standard errors of that mean (the seeds' spread / 8), and the
     * reported standard errors are of the size of the spread. */
    th_game *g = th_game_random_table(8, 12);
    double *table = th_game_table(g), want[8];
    th_shapley_subsets(8, table, want);
    free(table);
    enum { SEEDS = 64 };
    double mean[8] = {0}, sq[8] = {0}, se2[8] = {0};
    for (int64_t seed = 0; seed < SEEDS; seed++) {
        double phi[8], se[8];
        run_game(g, 120, seed, 0, phi, se);
        for (uint32_t i = 0; i < 8; i++) {
            double d = phi[i] - want[i];
            mean[i] += d / SEEDS;
            sq[i] += d * d / SEEDS;
            se2[i] += se[i] * se[i] / SEEDS;
        }
    }
    double mse = 0.0, rep = 0.0;
    for (uint32_t i = 0; i < 8; i++) {
        double spread = sqrt(fmax(sq[i] - mean[i] * mean[i], 0.0));
        ck_assert_msg(fabs(mean[i]) <= 4.0 * spread / sqrt(SEEDS) + 1e-12,
                      "player %u: mean error %g, spread %g over %d seeds", i,
                      mean[i], spread, SEEDS);
        mse += sq[i];
        rep += se2[i];
    }
    ck_assert_msg(rep > 0.25 * mse && rep < 4.0 * mse,
                  "mean se^2 %g against mean squared error %g", rep / 8,
                  mse / 8);
    th_game_free(g);
}
END_TEST

START_TEST(same_seed_same_bits)
{
    /* Any batch width: the plan and the fits depend on the seed alone. */
    th_game *g = th_game_soum(11, 22, 4, 6);
    double a[11], b[11], sa[11], sb[11];
    run_game(g, 300, 42, 64, a, sa);
    run_game(g, 300, 42, 5, b, sb);
    ck_assert_mem_eq(a, b, sizeof a);
    ck_assert_mem_eq(sa, sb, sizeof sa);
    th_game_free(g);
}
END_TEST

START_TEST(voting_game_within_its_errors)
{
    /* A weighted majority game, n = 10, at 300 of 1022 evaluations: each
     * credit within 5 of its standard errors of the exact value. */
    const double w[10] = {9, 7, 6, 5, 4, 3, 3, 2, 1, 1};
    th_game *g = th_game_voting(10, w, 21.0);
    double *table = th_game_table(g), want[10], phi[10], se[10];
    th_shapley_subsets(10, table, want);
    free(table);
    run_game(g, 300, 3, 0, phi, se);
    for (uint32_t i = 0; i < 10; i++)
        ck_assert_msg(fabs(phi[i] - want[i]) <= 5.0 * se[i] + 1e-9,
                      "phi[%u] = %g, exact %g, se %g", i, phi[i], want[i],
                      se[i]);
    th_game_free(g);
}
END_TEST

static Suite *surrogate_suite(void)
{
    Suite *s = suite_create("surrogate");
    TCase *tc = th_tcase(s, "surrogate");
    tcase_add_test(tc, maximum_game_is_a_tree);
    tcase_add_test(tc, unbiased_over_seeds);
    tcase_add_test(tc, same_seed_same_bits);
    tcase_add_test(tc, voting_game_within_its_errors);
    return s;
}

int main(void)
{
    return th_run_suite(surrogate_suite());
}
