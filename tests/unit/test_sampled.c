/* SPDX-License-Identifier: MIT
 *
 * The sampled estimators (permutation, KernelSHAP) and AUTO: exact
 * conservation for every seed, a budget never exceeded, no coalition
 * evaluated twice, error shrinking with the budget, standard errors that
 * cover the true error, KernelSHAP exact at a full budget, stopping on a
 * target standard error, AUTO's choice, large n, and noisy oracles.
 */
#include "helpers.h"

static const int64_t sampled_methods[] = {AC_METHOD_PERMUTATION,
                                          AC_METHOD_KERNELSHAP};

/* One sampled run of g with the ends known. Checks what must hold for every
 * run: success, the oracle protocol, no duplicate evaluation (n <= 20), the
 * budget, the oracle's count equal to the audit's, finite credits,
 * non-negative (possibly infinite, never NaN) errors, and conservation.
 * Returns the estimator for further audit queries; the caller frees it. */
static ac_estimator *sampled_run(const th_game *g, int64_t method,
                                 int64_t budget, int64_t seed, double *phi,
                                 double *se)
{
    uint32_t n = g->n;
    ac_estimator *e = th_est(n, method, budget, seed);
    th_oracle o;
    th_est_ends(e, g);
    th_oracle_init(&o, g, n <= 20);
    o.forbid_ends = 1;
    th_ok(th_run(e, &o, phi, se), e);
    th_oracle_assert_clean(&o);
    ck_assert_msg(o.duplicates == 0, "%llu coalitions evaluated twice",
                  (unsigned long long)o.duplicates);
    int64_t evals = th_audit(e, AC_ESTIMATOR_AUDIT_EVALUATIONS);
    ck_assert_msg(evals <= budget, "spent %lld of a budget of %lld",
                  (long long)evals, (long long)budget);
    ck_assert_int_eq(evals, (int64_t)o.evals);
    ck_assert_int_eq(th_audit(e, AC_ESTIMATOR_AUDIT_COALITIONS), evals);
    ck_assert_int_eq(th_audit(e, AC_ESTIMATOR_AUDIT_ROUNDS), (int64_t)o.calls);
    if (method != AC_METHOD_AUTO)
        ck_assert_int_eq(th_audit(e, AC_ESTIMATOR_AUDIT_METHOD), method);
    for (uint32_t i = 0; i < n; i++) {
        ck_assert_msg(isfinite(phi[i]), "phi[%u] = %g", i, phi[i]);
        ck_assert_msg(se[i] >= 0.0, "se[%u] = %g", i, se[i]);
    }
    th_assert_conserves(phi, n, th_game_all(g), th_game_empty(g));
    th_oracle_fini(&o);
    return e;
}

static double mse(const double *phi, const double *want, uint32_t n)
{
    double s = 0;
    for (uint32_t i = 0; i < n; i++)
        s += (phi[i] - want[i]) * (phi[i] - want[i]);
    return s / n;
}

/* ===================================================================== */
/* Invariants on every seed                                              */
/* ===================================================================== */

START_TEST(conservation_every_seed)
{
    static const int64_t methods[] = {AC_METHOD_PERMUTATION,
                                      AC_METHOD_KERNELSHAP, AC_METHOD_AUTO};
    static const uint32_t sizes[] = {8, 13, 20};
    int64_t method = methods[_i / 3];
    uint32_t n = sizes[_i % 3];
    th_game *g = th_game_soum(n, 3u * n, 5, 40 + (uint64_t)_i);
    double phi[20], se[20];
    for (int64_t seed = 0; seed < 10; seed++) {
        /* odd budgets, from below one KernelSHAP pass of sizes 1 and n-1
         * up to well beyond 2^8 - 2 for n = 8 */
        int64_t budget = 3 * (int64_t)n + 67 * seed + (seed % 3);
        ac_estimator *e = sampled_run(g, method, budget, seed, phi, se);
        ac_estimator_free(e);
    }
    th_game_free(g);
}
END_TEST

START_TEST(cache_small_game_terminates)
{
    /* n = 8 has 254 unknown coalitions; a budget of 3000 cannot all be
     * spent on distinct coalitions. The run must end, evaluate nothing twice
     * and answer the rest from its cache. */
    int64_t method = sampled_methods[_i];
    th_game *g = th_game_soum(8, 20, 4, 3);
    double phi[8], se[8];
    ac_estimator *e = sampled_run(g, method, 3000, 5, phi, se);
    ck_assert_int_le(th_audit(e, AC_ESTIMATOR_AUDIT_EVALUATIONS), 254);
    ck_assert_int_eq(th_audit(e, AC_ESTIMATOR_AUDIT_REPEATS), 0);
    if (method == AC_METHOD_PERMUTATION) {
        ck_assert_int_gt(th_audit(e, AC_ESTIMATOR_AUDIT_CACHE_HITS), 0);
        ck_assert_int_gt(th_audit(e, AC_ESTIMATOR_AUDIT_SAMPLES), 0);
    }
    ac_estimator_free(e);
    th_game_free(g);
}
END_TEST

START_TEST(budget_binding_outcome)
{
    /* n = 14 (16382 coalitions) at a budget of 500: the budget is what
     * stops the run, and nearly all of it is used (at most one antithetic
     * pair of permutations, 2 (n - 1), may be left over). */
    int64_t method = sampled_methods[_i];
    th_game *g = th_game_soum(14, 30, 5, 4);
    double phi[14], se[14];
    ac_estimator *e = sampled_run(g, method, 500, 1, phi, se);
    ck_assert_int_eq(th_audit(e, AC_ESTIMATOR_AUDIT_OUTCOME), AC_ESTIMATOR_OUTCOME_BUDGET);
    ck_assert_int_ge(th_audit(e, AC_ESTIMATOR_AUDIT_EVALUATIONS), 500 - 2 * 14);
    ck_assert_int_gt(th_audit(e, AC_ESTIMATOR_AUDIT_SAMPLES), 0);
    ac_estimator_free(e);
    th_game_free(g);
}
END_TEST

/* ===================================================================== */
/* Accuracy                                                              */
/* ===================================================================== */

START_TEST(error_shrinks_with_budget)
{
    /* SOUM n = 14, 30 terms of sizes 1..5 (the benchmark's game). The mean
     * squared error over 8 seeds must drop by a clear factor from 200 to
     * 3000 evaluations (1/budget scaling predicts 15). */
    int64_t method = sampled_methods[_i];
    th_game *g = th_game_soum(14, 30, 5, 2024);
    double want[14], phi[14], se[14], small = 0, large = 0;
    ck_assert(th_game_closed_phi(g, want));
    for (int64_t seed = 0; seed < 8; seed++) {
        ac_estimator *e = sampled_run(g, method, 200, seed, phi, se);
        small += mse(phi, want, 14);
        ac_estimator_free(e);
        e = sampled_run(g, method, 3000, seed, phi, se);
        large += mse(phi, want, 14);
        ac_estimator_free(e);
    }
    ck_assert_msg(large * 4 < small,
                  "method %lld: MSE %.3g at 200, %.3g at 3000",
                  (long long)method, small / 8, large / 8);
    /* and not absurd in absolute terms: the credits are O(0.1 .. 1) */
    ck_assert_msg(large / 8 < 1e-2, "MSE at 3000 is %.3g", large / 8);
    th_game_free(g);
}
END_TEST

START_TEST(error_monotone_in_budget)
{
    /* More budget must not buy a clearly worse estimate: over 8 seeds the
     * MSE at each budget is at most 1.5 x the MSE at the previous one. (The
     * budgets straddle the points where KernelSHAP can afford one more pair
     * of whole coalition sizes: 2 x 14 + 2 x 91 + 2 x 364 = 938 and + 2 x
     * 1001 = 2940 for n = 14.) */
    static const int64_t budgets[] = {500, 1000, 2000, 3000, 5000};
    int64_t method = sampled_methods[_i];
    th_game *g = th_game_soum(14, 30, 5, 2024);
    double want[14], phi[14], se[14], prev = INFINITY;
    ck_assert(th_game_closed_phi(g, want));
    for (size_t b = 0; b < sizeof budgets / sizeof budgets[0]; b++) {
        double m = 0;
        for (int64_t seed = 0; seed < 8; seed++) {
            ac_estimator *e =
                sampled_run(g, method, budgets[b], seed, phi, se);
            m += mse(phi, want, 14) / 8;
            ac_estimator_free(e);
        }
        ck_assert_msg(m <= 1.5 * prev,
                      "method %lld: MSE %.3g at budget %lld, %.3g at %lld",
                      (long long)method, m, (long long)budgets[b], prev,
                      (long long)budgets[b - 1]);
        prev = m;
    }
    th_game_free(g);
}
END_TEST

START_TEST(standard_errors_cover)
{
    /* At 3000 evaluations every se is finite, |phi - exact| <= 4 se for
     * nearly all players, and the errors are of the size the se claims:
     * RMS(se) within a factor 5 of RMS(error) over 8 seeds x 14 players. */
    int64_t method = sampled_methods[_i];
    th_game *g = th_game_soum(14, 30, 5, 77);
    double want[14], phi[14], se[14];
    double sum_se2 = 0, sum_err2 = 0;
    int covered = 0, total = 0;
    ck_assert(th_game_closed_phi(g, want));
    for (int64_t seed = 0; seed < 8; seed++) {
        ac_estimator *e = sampled_run(g, method, 3000, 100 + seed, phi, se);
        for (uint32_t i = 0; i < 14; i++) {
            double err = fabs(phi[i] - want[i]);
            ck_assert_msg(isfinite(se[i]), "se[%u] infinite at 3000", i);
            covered += err <= 4 * se[i];
            total++;
            sum_se2 += se[i] * se[i];
            sum_err2 += err * err;
        }
        ac_estimator_free(e);
    }
    ck_assert_msg(covered >= total * 9 / 10, "method %lld: %d of %d covered",
                  (long long)method, covered, total);
    double ratio = sqrt(sum_se2 / sum_err2);
    ck_assert_msg(ratio > 0.2 && ratio < 5,
                  "method %lld: RMS se / RMS err %.3g", (long long)method,
                  ratio);
    th_game_free(g);
}
END_TEST

START_TEST(additive_exact_at_any_budget)
{
    /* In an additive game every marginal contribution is the player's
     * weight, and the game lies in KernelSHAP's linear model: both sampled
     * methods must return the weights exactly, with no uncertainty. */
    int64_t method = sampled_methods[_i];
    th_game *g = th_game_additive(20, 8);
    double phi[20], se[20];
    ac_estimator *e = sampled_run(g, method, 200, 3, phi, se);
    th_assert_vec_near(phi, g->w, 20, 1e-9, "additive game");
    for (uint32_t i = 0; i < 20; i++)
        ck_assert_msg(se[i] <= 1e-6, "se[%u] = %g on an additive game", i,
                      se[i]);
    ac_estimator_free(e);
    th_game_free(g);
}
END_TEST

START_TEST(kernel_small_budget_is_stable)
{
    /* Below 2n the sampled normal matrix alone is near singular: at about n
     * sampled pairs an unregularised fit interpolates and its errors reach
     * tens of times the spread of the credits. Shrunk towards its
     * expectation it must stay of the order of that spread, conserve, and
     * report its errors as unknown while pairs are no more than n - 1. */
    enum { N = 50 };
    th_game *g = th_game_soum(N, 100, 5, 31);
    double want[N], phi[N], se[N];
    ck_assert(th_game_closed_phi(g, want));
    double mse = 0.0, spread = 0.0, mean = 0.0;
    for (uint32_t i = 0; i < N; i++)
        mean += want[i] / N;
    for (int64_t seed = 0; seed < 8; seed++) {
        ac_estimator *e = sampled_run(g, AC_METHOD_KERNELSHAP, 2 * (N - 1), seed,
                                      phi, se);
        th_assert_conserves(phi, N, th_game_all(g), th_game_empty(g));
        for (uint32_t i = 0; i < N; i++) {
            ck_assert_msg(isinf(se[i]), "se[%u] = %g from %d pairs", i, se[i],
                          N - 1);
            mse += (phi[i] - want[i]) * (phi[i] - want[i]) / (8 * N);
        }
        ac_estimator_free(e);
    }
    for (uint32_t i = 0; i < N; i++)
        spread += (want[i] - mean) * (want[i] - mean) / N;
    ck_assert_msg(mse < 2.0 * spread, "MSE %g against a spread of %g", mse,
                  spread);
    th_game_free(g);
}
END_TEST

START_TEST(permutation_few_units_never_certain)
{
    /* With three antithetic pairs, some player's contributions may agree by
     * chance; its variance is pooled with the others', so no player of a
     * game with any sampling spread is reported as certain. */
    th_game *g = th_game_soum(8, 12, 3, 77);
    double phi[8], se[8];
    for (int64_t seed = 0; seed < 10; seed++) {
        ac_estimator *e = sampled_run(g, AC_METHOD_PERMUTATION, 42, seed, phi, se);
        double max_se = 0.0;
        for (uint32_t i = 0; i < 8; i++)
            max_se = se[i] > max_se ? se[i] : max_se;
        for (uint32_t i = 0; max_se > 0.0 && i < 8; i++)
            ck_assert_msg(se[i] > 0.1 * max_se / sqrt(3.0),
                          "seed %lld: se[%u] = %g while the largest is %g",
                          (long long)seed, i, se[i], max_se);
        ac_estimator_free(e);
    }
    th_game_free(g);
}
END_TEST

START_TEST(kernel_full_budget_is_exact)
{
    /* With a budget of 2^n - 2 every coalition size is enumerated and the
     * weighted regression is the Shapley value itself. */
    uint32_t n = 6u + 2u * (uint32_t)_i; /* 6, 8, 10 */
    th_game *g = th_game_random_table(n, 60 + (uint64_t)_i);
    double want[10], phi[10], se[10];
    th_shapley_subsets(n, g->table, want);
    int64_t budget = ((int64_t)1 << n) - 2;
    ac_estimator *e =
        sampled_run(g, AC_METHOD_KERNELSHAP, budget, 9, phi, se);
    ck_assert_int_eq(th_audit(e, AC_ESTIMATOR_AUDIT_EVALUATIONS), budget);
    th_assert_vec_near(phi, want, n, 1e-9, "KernelSHAP at full budget");
    ac_estimator_free(e);
    th_game_free(g);
}
END_TEST

/* ===================================================================== */
/* Target standard error                                                 */
/* ===================================================================== */

START_TEST(target_se_stops_early)
{
    int64_t method = sampled_methods[_i];
    th_game *g = th_game_soum(16, 32, 5, 16);
    double want[16], phi[16], se[16];
    int64_t evals[2];
    const double targets[2] = {0.1, 0.03};
    ck_assert(th_game_closed_phi(g, want));
    for (int t = 0; t < 2; t++) {
        ac_estimator *e = th_est(16, method, 200000, 1);
        th_oracle o;
        th_est_ends(e, g);
        th_ok(ac_estimator_set_f64(e, AC_ESTIMATOR_PARAM_TARGET_SE, targets[t]), e);
        th_oracle_init(&o, g, 1);
        th_ok(th_run(e, &o, phi, se), e);
        ck_assert_uint_eq(o.duplicates, 0);
        ck_assert_int_eq(th_audit(e, AC_ESTIMATOR_AUDIT_OUTCOME), AC_ESTIMATOR_OUTCOME_TARGET);
        evals[t] = th_audit(e, AC_ESTIMATOR_AUDIT_EVALUATIONS);
        ck_assert_int_lt(evals[t], 200000);
        for (uint32_t i = 0; i < 16; i++) {
            ck_assert_msg(se[i] <= targets[t], "se[%u] = %g > target %g", i,
                          se[i], targets[t]);
            ck_assert_msg(fabs(phi[i] - want[i]) <= 6 * targets[t],
                          "phi[%u] off by %g at target %g", i,
                          phi[i] - want[i], targets[t]);
        }
        th_assert_conserves(phi, 16, th_game_all(g), th_game_empty(g));
        th_oracle_fini(&o);
        ac_estimator_free(e);
    }
    /* a tighter target costs more */
    ck_assert_msg(evals[1] > evals[0], "evaluations %lld at 0.1, %lld at 0.03",
                  (long long)evals[0], (long long)evals[1]);
    th_game_free(g);
}
END_TEST

/* Exact evaluates every coalition: it cannot stop on an error target, so a
 * target is refused before any evaluation, naming the method and the
 * parameter, and the handle stays idle: without the target it runs. AUTO
 * with a target takes a method that can stop. */
START_TEST(target_se_refused_by_exact)
{
    th_game *g = th_game_random_table(6, 5);
    ac_estimator *e = th_est(6, AC_METHOD_EXACT, 2048, 0);
    th_oracle o;
    double phi[6], want[6];
    th_shapley_subsets(6, g->table, want);
    th_est_ends(e, g);
    th_ok(ac_estimator_set_f64(e, AC_ESTIMATOR_PARAM_TARGET_SE, 0.01), e);
    th_oracle_init(&o, g, 0);
    ck_assert_int_eq(th_run(e, &o, phi, NULL), AC_E_INVALID_ARG);
    ck_assert(th_icontains(ac_estimator_last_error(e), "exact"));
    ck_assert(th_icontains(ac_estimator_last_error(e), "TARGET_SE"));
    ck_assert_int_eq(o.evals, 0);
    th_ok(ac_estimator_set_f64(e, AC_ESTIMATOR_PARAM_TARGET_SE, 0.0), e);
    th_ok(th_run(e, &o, phi, NULL), e);
    th_assert_vec_near(phi, want, 6, 1e-12, "exact without a target");
    ac_estimator_free(e);

    th_game_free(g);

    /* n = 8: 254 coalitions, the first checkpoint at 64 evaluations. */
    g = th_game_random_table(8, 5);
    double phi8[8];
    e = th_est(8, AC_METHOD_AUTO, 2048, 0);
    th_est_ends(e, g);
    th_ok(ac_estimator_set_f64(e, AC_ESTIMATOR_PARAM_TARGET_SE, 1e10), e);
    th_oracle_init(&o, g, 0);
    th_ok(th_run(e, &o, phi8, NULL), e);
    ck_assert_int_ne(th_audit(e, AC_ESTIMATOR_AUDIT_METHOD), AC_METHOD_EXACT);
    ck_assert_int_eq(th_audit(e, AC_ESTIMATOR_AUDIT_OUTCOME),
                     AC_ESTIMATOR_OUTCOME_TARGET);
    ck_assert_int_lt(th_audit(e, AC_ESTIMATOR_AUDIT_EVALUATIONS), 254);
    ac_estimator_free(e);
    th_game_free(g);
}
END_TEST

/* ===================================================================== */
/* AUTO                                                                  */
/* ===================================================================== */

static int64_t auto_method(uint32_t n, int64_t budget, int ends)
{
    th_game *g = th_game_additive(n, n);
    ac_estimator *e = th_est(n, AC_METHOD_AUTO, budget, 0);
    th_oracle o;
    double *phi = malloc(n * sizeof *phi);
    ck_assert_ptr_nonnull(phi);
    if (ends)
        th_est_ends(e, g);
    th_oracle_init(&o, g, 0);
    th_ok(th_run(e, &o, phi, NULL), e);
    ck_assert_int_le(th_audit(e, AC_ESTIMATOR_AUDIT_EVALUATIONS), budget);
    /* KernelSHAP solves an n x n system, and OddSHAP fits with a noise
     * nugget of 1e-6 of the targets: allow for both */
    th_assert_vec_near(phi, g->w, n, 1e-5, "AUTO on an additive game");
    int64_t m = th_audit(e, AC_ESTIMATOR_AUDIT_METHOD);
    free(phi);
    ac_estimator_free(e);
    th_game_free(g);
    return m;
}

START_TEST(auto_choice)
{
    /* exact when the budget pays for every unknown coalition plus a retry
     * margin of 2 + cost / 32 (62 unknown: 65; 64 unknown: 68) */
    ck_assert_int_eq(auto_method(6, 65, 1), AC_METHOD_EXACT);
    ck_assert_int_eq(auto_method(6, 64, 1), AC_METHOD_SURROGATE);
    ck_assert_int_eq(auto_method(6, 68, 0), AC_METHOD_EXACT);
    ck_assert_int_eq(auto_method(6, 67, 0), AC_METHOD_SURROGATE);
    ck_assert_int_eq(auto_method(12, 2048, 1), AC_METHOD_SURROGATE);
    /* OddSHAP's fit takes at most 4096 rows, one per pair: 8191
     * evaluations (test_oddshap checks that edge); beyond, KernelSHAP */
    ck_assert_int_eq(auto_method(14, 8192, 1), AC_METHOD_KERNELSHAP);
    /* a declared noisy oracle: OddSHAP (the surrogates would fit noise) */
    ac_estimator *e = th_est(12, AC_METHOD_AUTO, 2048, 0);
    th_ok(ac_estimator_set_int(e, AC_ESTIMATOR_PARAM_NOISY, 1), e);
    th_game *g = th_game_additive(12, 3);
    th_oracle o;
    th_oracle_init(&o, g, 0);
    double phi[12], se[12];
    th_ok(th_run(e, &o, phi, se), e);
    ck_assert_int_eq(th_audit(e, AC_ESTIMATOR_AUDIT_METHOD), AC_METHOD_ODDSHAP);
    th_oracle_fini(&o);
    ac_estimator_free(e);
    th_game_free(g);
    /* beyond AC_KERNEL_MAX_PLAYERS: permutation sampling */
    ck_assert_int_eq(auto_method(AC_KERNEL_MAX_PLAYERS, 2048, 1),
                     AC_METHOD_SURROGATE);
    ck_assert_int_eq(auto_method(AC_KERNEL_MAX_PLAYERS + 1, 2048, 1),
                     AC_METHOD_PERMUTATION);
}
END_TEST

/* ===================================================================== */
/* Large n                                                               */
/* ===================================================================== */

START_TEST(large_n200)
{
    int64_t method = sampled_methods[_i];
    th_game *g = th_game_soum(200, 100, 5, 200);
    double phi[200], se[200], want[200], split[200];
    ck_assert(th_game_closed_phi(g, want));
    ac_estimator *e = sampled_run(g, method, 2000, 2, phi, se);
    ck_assert_int_ge(th_audit(e, AC_ESTIMATOR_AUDIT_EVALUATIONS), 2000 - 2 * 200);
    /* Sampled, so not exact, but better than knowing nothing: the equal
     * split of v(all) - v(empty) is the uninformed estimate. */
    for (uint32_t i = 0; i < 200; i++)
        split[i] = (th_game_all(g) - th_game_empty(g)) / 200;
    ck_assert_msg(mse(phi, want, 200) < mse(split, want, 200),
                  "MSE %.3g at n = 200, equal split %.3g", mse(phi, want, 200),
                  mse(split, want, 200));
    ac_estimator_free(e);
    th_game_free(g);
}
END_TEST

START_TEST(large_n4096_permutation)
{
    /* Message-level size: n = 4096 (64 words per coalition), a budget of
     * three permutations. Additive, so every sampled permutation gives each
     * player exactly its weight. */
    const uint32_t n = 4096;
    th_game *g = th_game_additive(n, 4096);
    double *phi = malloc(n * sizeof *phi), *se = malloc(n * sizeof *se);
    ck_assert_ptr_nonnull(phi);
    ck_assert_ptr_nonnull(se);
    ac_estimator *e =
        sampled_run(g, AC_METHOD_PERMUTATION, 3 * (n - 1), 1, phi, se);
    th_assert_vec_near(phi, g->w, n, 1e-9, "n = 4096 additive");
    ck_assert_int_ge(th_audit(e, AC_ESTIMATOR_AUDIT_SAMPLES), 1);
    ac_estimator_free(e);
    free(phi);
    free(se);
    th_game_free(g);
}
END_TEST

/* ===================================================================== */
/* Noisy oracle                                                          */
/* ===================================================================== */

START_TEST(noisy_repeats_conserve)
{
    /* A SOUM from the JSON game format with Gaussian noise (sd 0.2) on each
     * evaluation and 3 repeats per coalition; the ends are known exactly. */
    static const char json[] =
        "{\"n\": 10, \"terms\": ["
        "{\"coef\": 0.8, \"members\": [0, 1]},"
        "{\"coef\": -0.4, \"members\": [2]},"
        "{\"coef\": 0.6, \"members\": [3, 4, 5]},"
        "{\"coef\": 0.3, \"members\": [6]},"
        "{\"coef\": 0.5, \"members\": [7, 8, 9, 0]}],"
        "\"noise\": {\"kind\": \"gaussian\", \"sd\": 0.2}}";
    static const int64_t methods[] = {AC_METHOD_PERMUTATION,
                                      AC_METHOD_KERNELSHAP, AC_METHOD_AUTO};
    ac_game *game = NULL;
    ck_assert_int_eq(
        ac_game_load_json(&game, json, strlen(json), NULL, NULL, NULL, 0),
        AC_OK);
    ck_assert_int_eq(ac_game_seed(game, 3), AC_OK);
    uint64_t c[1] = {0};
    double v0, v1, phi[10], se[10], want[10];
    ck_assert_int_eq(ac_game_value(game, c, 1, &v0), AC_OK);
    c[0] = 0x3FF;
    ck_assert_int_eq(ac_game_value(game, c, 1, &v1), AC_OK);
    ck_assert(fabs(v1 - 1.8) < 1e-12 && v0 == 0.0);
    ck_assert_int_eq(ac_game_exact(game, want, 10), AC_OK);

    ac_estimator *e = th_est(10, methods[_i], 3000, 4);
    th_ok(ac_estimator_set_int(e, AC_ESTIMATOR_PARAM_REPEATS, 3), e);
    c[0] = 0;
    th_ok(ac_estimator_set_value(e, c, 1, v0), e);
    c[0] = 0x3FF;
    th_ok(ac_estimator_set_value(e, c, 1, v1), e);
    th_ok(ac_estimator_set_oracle(e, ac_game_oracle, game), e);
    th_ok(ac_estimator_run(e), e);
    th_ok(ac_estimator_result(e, phi, se, 10), e);
    th_assert_conserves(phi, 10, v1, v0);
    int64_t evals = th_audit(e, AC_ESTIMATOR_AUDIT_EVALUATIONS);
    ck_assert_int_le(evals, 3000);
    ck_assert_int_gt(th_audit(e, AC_ESTIMATOR_AUDIT_REPEATS), 0);
    ck_assert_int_eq(th_audit(e, AC_ESTIMATOR_AUDIT_REPEATS),
                     evals - th_audit(e, AC_ESTIMATOR_AUDIT_COALITIONS));
    for (uint32_t i = 0; i < 10; i++) {
        /* noise makes every estimate uncertain, even exact enumeration */
        ck_assert_msg(isfinite(se[i]) && se[i] > 0, "se[%u] = %g", i, se[i]);
        ck_assert_msg(fabs(phi[i] - want[i]) <= 5 * se[i] + 1e-12,
                      "phi[%u] = %g, exact %g, se %g", i, phi[i], want[i],
                      se[i]);
    }
    ac_estimator_free(e);
    ac_game_free(game);
}
END_TEST

static Suite *sampled_suite(void)
{
    Suite *s = suite_create("sampled");
    TCase *tc = th_tcase(s, "invariants");
    tcase_add_loop_test(tc, conservation_every_seed, 0, 9);
    tcase_add_loop_test(tc, cache_small_game_terminates, 0, 2);
    tcase_add_loop_test(tc, budget_binding_outcome, 0, 2);
    tc = th_tcase(s, "accuracy");
    tcase_add_loop_test(tc, error_shrinks_with_budget, 0, 2);
    tcase_add_loop_test(tc, error_monotone_in_budget, 0, 2);
    tcase_add_loop_test(tc, standard_errors_cover, 0, 2);
    tcase_add_loop_test(tc, additive_exact_at_any_budget, 0, 2);
    tcase_add_loop_test(tc, kernel_full_budget_is_exact, 0, 3);
    tcase_add_test(tc, kernel_small_budget_is_stable);
    tcase_add_test(tc, permutation_few_units_never_certain);
    tc = th_tcase(s, "target");
    tcase_add_loop_test(tc, target_se_stops_early, 0, 2);
    tcase_add_test(tc, target_se_refused_by_exact);
    tc = th_tcase(s, "auto");
    tcase_add_test(tc, auto_choice);
    tc = th_tcase(s, "large");
    tcase_add_loop_test(tc, large_n200, 0, 2);
    tcase_add_test(tc, large_n4096_permutation);
    tc = th_tcase(s, "noise");
    tcase_add_loop_test(tc, noisy_repeats_conserve, 0, 3);
    return s;
}

int main(void)
{
    return th_run_suite(sampled_suite());
}
