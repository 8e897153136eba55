/* SPDX-License-Identifier: MIT
 *
 * The adaptive method (AC_METHOD_ADAPTIVE): every coalition, then repeated
 * evaluations of a noisy oracle where they cut the credits' variance most.
 * Correctness on known values, the allocation it makes, its accuracy against
 * equal repeats, the honesty of its standard errors, determinism under any
 * tell order, failed evaluations, refusals, and the rounds it needs. */
#include "helpers.h"

/* A small agent team as the benchmark's: v(S) a success probability. */
static double team_p(uint32_t n, uint64_t mask)
{
    /* Player 0 is needed, players 1 and 2 substitute for each other, the
     * rest help a little; the values stay inside (0.02, 0.95). */
    double p = 0.05;
    if (mask & 1u)
        p += 0.35;
    if (mask & 6u)
        p += 0.25;
    for (uint32_t i = 3; i < n; i++)
        if (mask >> i & 1u)
            p += 0.3 / (double)n;
    return p > 0.95 ? 0.95 : p;
}

typedef struct team_oracle {
    uint32_t n;
    th_rng rng;
    uint64_t evals;
    uint64_t per_layer[21]; /* evaluations by coalition size */
    uint64_t fail_every;    /* > 0: every so many evaluations fail */
    int fail_repeats_only;  /* only evaluations of a coalition seen before */
    uint8_t *seen;
} team_oracle;

static int team_fn(void *user, const uint64_t *c, uint32_t words,
                   uint32_t count, double *values, int32_t *status)
{
    team_oracle *o = user;
    (void)words;
    for (uint32_t k = 0; k < count; k++) {
        uint64_t mask = c[k];
        o->evals++;
        o->per_layer[th_popcount64(mask)]++;
        int again = o->seen[mask]++ > 0;
        if (o->fail_every && o->evals % o->fail_every == 0 &&
            (!o->fail_repeats_only || again)) {
            status[k] = 3;
            continue;
        }
        values[k] = th_rng_unif(&o->rng) < team_p(o->n, mask) ? 1.0 : 0.0;
    }
    return 0;
}

static void team_exact(uint32_t n, double *phi)
{
    uint64_t len = (uint64_t)1 << n;
    double *v = malloc(len * sizeof *v);
    ck_assert_ptr_nonnull(v);
    for (uint64_t m = 0; m < len; m++)
        v[m] = team_p(n, m);
    th_shapley_subsets(n, v, phi);
    free(v);
}

/* A run on the team game with the ends known; returns the estimator. */
static ac_estimator *team_run(uint32_t n, int64_t method, int64_t budget,
                              int64_t repeats, uint64_t seed, team_oracle *o)
{
    ac_estimator *e = th_est(n, method, budget, 0);
    th_ok(ac_estimator_set_int(e, AC_ESTIMATOR_PARAM_REPEATS, repeats), e);
    uint64_t c = 0;
    th_ok(ac_estimator_set_value(e, &c, 1, team_p(n, 0)), e);
    c = ((uint64_t)1 << n) - 1u;
    th_ok(ac_estimator_set_value(e, &c, 1, team_p(n, c)), e);
    memset(o, 0, sizeof *o);
    o->n = n;
    o->rng = th_rng_make(th_mix(seed + 1));
    o->seen = calloc((size_t)1 << n, 1);
    ck_assert_ptr_nonnull(o->seen);
    th_ok(ac_estimator_set_oracle(e, team_fn, o), e);
    return e;
}

static void team_done(team_oracle *o)
{
    free(o->seen);
}

static double sq_err(const double *phi, const double *want, uint32_t n)
{
    double s = 0.0;
    for (uint32_t i = 0; i < n; i++)
        s += (phi[i] - want[i]) * (phi[i] - want[i]);
    return s / n;
}

/* ===================================================================== */

START_TEST(deterministic_oracle_stops_with_exact_values)
{
    /* n = 4: every coalition is probed (14 < 64); n = 9: 64 of 510. A
     * deterministic oracle shows no variance, so the run ends exact and
     * leaves the rest of the budget. Rounds of 4 leave room for phases at
     * n = 4 (with the default 64, 50 evaluations would be one round and
     * planned at once). */
    uint32_t n = _i == 0 ? 4 : 9;
    int64_t missing = ((int64_t)1 << n) - 2, probe = missing < 64 ? missing : 64;
    th_game *g = th_game_soum(n, 2 * n, 4, 7);
    ac_estimator *e = th_est(n, AC_METHOD_ADAPTIVE, 4 * (missing + 2), 0);
    if (n == 4)
        th_ok(ac_estimator_set_int(e, AC_ESTIMATOR_PARAM_BATCH, 4), e);
    th_est_ends(e, g);
    th_oracle o;
    th_oracle_init(&o, g, 1);
    o.forbid_ends = 1;
    double phi[9], se[9], want[9];
    th_ok(th_run(e, &o, phi, se), e);
    th_oracle_assert_clean(&o);
    double *table = th_game_table(g);
    th_shapley_subsets(n, table, want);
    free(table);
    th_assert_vec_near(phi, want, n, 1e-12, "adaptive, deterministic");
    for (uint32_t i = 0; i < n; i++)
        ck_assert_msg(se[i] == 0.0, "se[%u] = %g", i, se[i]);
    ck_assert_int_eq(th_audit(e, AC_ESTIMATOR_AUDIT_OUTCOME), AC_ESTIMATOR_OUTCOME_COMPLETE);
    /* The pilot's last round is filled up to the batch of 4 (n = 4) or
     * 64 (n = 9): 14 + 14 = 28 and 510 + 64 -> 576. */
    int64_t width = n == 4 ? 4 : 64;
    int64_t spent = (missing + probe + width - 1) / width * width;
    ck_assert_int_eq(th_audit(e, AC_ESTIMATOR_AUDIT_EVALUATIONS), spent);
    ck_assert_int_eq(th_audit(e, AC_ESTIMATOR_AUDIT_COALITIONS), missing);
    ck_assert_int_eq(th_audit(e, AC_ESTIMATOR_AUDIT_REPEATS), spent - missing);
    ck_assert_int_eq(th_audit(e, AC_ESTIMATOR_AUDIT_METHOD), AC_METHOD_ADAPTIVE);
    ac_estimator_free(e);
    th_oracle_fini(&o);
    th_game_free(g);
}
END_TEST

START_TEST(rollouts_go_to_the_heavy_coalitions)
{
    /* n = 6, 16 x 2^n rollouts: a single player's coalition weighs
     * a_1 = 0.082 in the credits, a coalition of three a_3 = 0.021; Neyman
     * allocation gives the first about 3-4 times the rollouts. */
    const uint32_t n = 6;
    team_oracle o;
    double phi[6], se[6], want[6];
    ac_estimator *e = team_run(n, AC_METHOD_ADAPTIVE, 16 * 64, 1, 5, &o);
    th_ok(ac_estimator_run(e), e);
    th_ok(ac_estimator_result(e, phi, se, n), e);
    double per1 = (double)o.per_layer[1] / 6.0, per3 = (double)o.per_layer[3] / 20.0;
    ck_assert_msg(per1 > 2.0 * per3, "layer 1: %.1f a coalition, layer 3: %.1f",
                  per1, per3);
    ck_assert_int_eq(th_audit(e, AC_ESTIMATOR_AUDIT_EVALUATIONS), 16 * 64);
    ck_assert_int_eq(th_audit(e, AC_ESTIMATOR_AUDIT_OUTCOME), AC_ESTIMATOR_OUTCOME_BUDGET);
    team_exact(n, want);
    th_assert_conserves(phi, n, team_p(n, 63), team_p(n, 0));
    for (uint32_t i = 0; i < n; i++)
        ck_assert_msg(se[i] > 0.0 && fabs(phi[i] - want[i]) < 5.0 * se[i],
                      "phi[%u] = %g, exact %g, se %g", i, phi[i], want[i], se[i]);
    ac_estimator_free(e);
    team_done(&o);
}
END_TEST

START_TEST(more_accurate_than_equal_repeats)
{
    /* n = 8 at 8 x 2^n rollouts over 40 seeds: equal repeats (the exact
     * method, 8 each) against the adaptive allocation. The analytic ratio
     * for this game is about 2; a method that spread rollouts evenly would
     * come out near 1. */
    const uint32_t n = 8;
    double want[8], phi[8], se[8], eq = 0.0, ad = 0.0;
    team_exact(n, want);
    for (uint64_t seed = 0; seed < 40; seed++) {
        team_oracle o;
        ac_estimator *e = team_run(n, AC_METHOD_EXACT, 8 * 256, 8, seed, &o);
        th_ok(ac_estimator_run(e), e);
        th_ok(ac_estimator_result(e, phi, se, n), e);
        eq += sq_err(phi, want, n);
        ac_estimator_free(e);
        team_done(&o);
        e = team_run(n, AC_METHOD_ADAPTIVE, 8 * 256, 1, seed, &o);
        th_ok(ac_estimator_run(e), e);
        th_ok(ac_estimator_result(e, phi, se, n), e);
        ad += sq_err(phi, want, n);
        ac_estimator_free(e);
        team_done(&o);
    }
    ck_assert_msg(ad < 0.75 * eq, "adaptive MSE %g, equal repeats %g", ad / 40,
                  eq / 40);
}
END_TEST

START_TEST(standard_errors_cover)
{
    /* n = 5 at 8 x 2^n rollouts: over 200 seeds and 5 players, the exact
     * credit lies within 1.96 reported standard errors about 95% of the
     * time. */
    const uint32_t n = 5;
    double want[5], phi[5], se[5];
    int inside = 0, total = 0;
    team_exact(n, want);
    for (uint64_t seed = 0; seed < 200; seed++) {
        team_oracle o;
        ac_estimator *e = team_run(n, AC_METHOD_ADAPTIVE, 8 * 32, 1, seed,
                                   &o);
        th_ok(ac_estimator_run(e), e);
        th_ok(ac_estimator_result(e, phi, se, n), e);
        for (uint32_t i = 0; i < n; i++, total++)
            inside += fabs(phi[i] - want[i]) <= 1.96 * se[i];
        ac_estimator_free(e);
        team_done(&o);
    }
    double rate = (double)inside / total;
    ck_assert_msg(rate > 0.91 && rate < 0.99, "coverage %.3f", rate);
}
END_TEST

/* Runs through ask/tell, telling each batch back in reverse order. */
static void run_reversed(ac_estimator *e, team_oracle *o, uint32_t width)
{
    uint64_t tickets[64], coal[64];
    double values[64];
    int32_t status[64];
    int32_t done = 0;
    uint64_t outstanding = 0;
    for (;;) {
        uint32_t count = 0;
        th_ok(ac_estimator_ask(e, width, tickets, coal, &count), e);
        if (count == 0) /* the ask that finds nothing left finishes the run */
            break;
        for (uint32_t k = 0; k < count; k++) {
            values[k] = NAN;
            status[k] = 0;
        }
        team_fn(o, coal, 1, count, values, status);
        for (uint32_t k = 0; k < count; k++) {
            uint32_t r = count - 1 - k;
            th_ok(ac_estimator_tell(e, 1, &tickets[r], &values[r], &status[r]),
                  e);
        }
    }
    th_ok(ac_estimator_progress(e, &done, &outstanding), e);
    ck_assert_int_eq(done, 1);
    ck_assert_uint_eq(outstanding, 0);
}

START_TEST(tell_order_never_changes_a_bit)
{
    const uint32_t n = 6;
    double phi[6], se[6], phi2[6], se2[6];
    team_oracle o, o2;
    ac_estimator *e = team_run(n, AC_METHOD_ADAPTIVE, 900, 1, 9, &o);
    th_ok(ac_estimator_set_int(e, AC_ESTIMATOR_PARAM_BATCH, 16), e);
    th_ok(ac_estimator_run(e), e);
    th_ok(ac_estimator_result(e, phi, se, n), e);
    ac_estimator *e2 = team_run(n, AC_METHOD_ADAPTIVE, 900, 1, 9, &o2);
    th_ok(ac_estimator_set_int(e2, AC_ESTIMATOR_PARAM_BATCH, 16), e2);
    run_reversed(e2, &o2, 16);
    th_ok(ac_estimator_result(e2, phi2, se2, n), e2);
    ck_assert_mem_eq(phi, phi2, sizeof phi);
    ck_assert_mem_eq(se, se2, sizeof se);
    ck_assert_int_eq(th_audit(e, AC_ESTIMATOR_AUDIT_EVALUATIONS),
                     th_audit(e2, AC_ESTIMATOR_AUDIT_EVALUATIONS));
    ac_estimator_free(e);
    ac_estimator_free(e2);
    team_done(&o);
    team_done(&o2);
}
END_TEST

START_TEST(failed_repeats_are_dropped_or_retried)
{
    /* _i = 0: every 5th repeat fails and is not retried (MAX_RETRIES 0):
     * the run completes on what came in. _i = 1: every 7th evaluation
     * fails, retried within the budget. */
    const uint32_t n = 5;
    double phi[5], se[5], want[5];
    team_oracle o;
    ac_estimator *e = team_run(n, AC_METHOD_ADAPTIVE, 400, 1, 3, &o);
    if (_i == 0) {
        th_ok(ac_estimator_set_int(e, AC_ESTIMATOR_PARAM_MAX_RETRIES, 0), e);
        o.fail_every = 5;
        o.fail_repeats_only = 1;
    } else {
        o.fail_every = 7;
    }
    th_ok(ac_estimator_run(e), e);
    th_ok(ac_estimator_result(e, phi, se, n), e);
    int64_t failures = th_audit(e, AC_ESTIMATOR_AUDIT_FAILURES);
    ck_assert_int_gt(failures, 0);
    ck_assert_int_le(th_audit(e, AC_ESTIMATOR_AUDIT_EVALUATIONS), 400);
    ck_assert_int_eq(th_audit(e, AC_ESTIMATOR_AUDIT_EVALUATIONS), (int64_t)o.evals);
    /* A failure is retried while its retries and the budget last, else
     * dropped; the last phase spends the whole budget, so its failures are
     * dropped. */
    int64_t retries = th_audit(e, AC_ESTIMATOR_AUDIT_RETRIES);
    ck_assert_int_eq(retries + th_audit(e, AC_ESTIMATOR_AUDIT_DROPPED), failures);
    if (_i == 0)
        ck_assert_int_eq(retries, 0);
    else
        ck_assert_int_gt(retries, 0);
    team_exact(n, want);
    th_assert_conserves(phi, n, team_p(n, 31), team_p(n, 0));
    for (uint32_t i = 0; i < n; i++)
        ck_assert_msg(isfinite(phi[i]) && se[i] > 0.0 &&
                          fabs(phi[i] - want[i]) < 5.0 * se[i],
                      "phi[%u] = %g, exact %g, se %g", i, phi[i], want[i], se[i]);
    ac_estimator_free(e);
    team_done(&o);
}
END_TEST

START_TEST(refusals_name_the_problem)
{
    ac_estimator *e = th_est(AC_ADAPTIVE_MAX_PLAYERS + 1, AC_METHOD_ADAPTIVE,
                             1 << 22, 0);
    uint64_t *none = NULL;
    ck_assert_int_eq(ac_estimator_ask(e, 0, none, none, &(uint32_t){0}),
                     AC_E_TOO_LARGE);
    ck_assert(th_icontains(ac_estimator_last_error(e), "adaptive"));
    ck_assert(th_icontains(ac_estimator_last_error(e), "21"));
    ac_estimator_free(e);

    /* 62 unknown coalitions do not fit in 50 evaluations. */
    team_oracle o;
    e = team_run(6, AC_METHOD_ADAPTIVE, 50, 1, 0, &o);
    ck_assert_int_eq(ac_estimator_run(e), AC_E_BUDGET);
    ck_assert(th_icontains(ac_estimator_last_error(e), "62"));
    ck_assert_int_eq(o.evals, 0);
    ac_estimator_free(e);
    team_done(&o);
}
END_TEST

START_TEST(rounds_stay_close_to_budget_over_width)
{
    /* W = 8 and 32 at 4 and 16 x 2^n rollouts, n = 6: waiting between
     * phases costs at most a quarter more rounds than budget / W. */
    static const int64_t widths[] = {8, 32};
    static const int64_t mults[] = {4, 16};
    int64_t W = widths[_i / 2], budget = mults[_i % 2] * 64;
    team_oracle o;
    ac_estimator *e = team_run(6, AC_METHOD_ADAPTIVE, budget, 1, 2, &o);
    th_ok(ac_estimator_set_int(e, AC_ESTIMATOR_PARAM_BATCH, W), e);
    th_ok(ac_estimator_run(e), e);
    int64_t rounds = th_audit(e, AC_ESTIMATOR_AUDIT_ROUNDS);
    int64_t ideal = (budget - 2 + W - 1) / W;
    ck_assert_msg(4 * rounds <= 5 * ideal, "%lld rounds, budget / W = %lld",
                  (long long)rounds, (long long)ideal);
    ck_assert_int_eq(th_audit(e, AC_ESTIMATOR_AUDIT_EVALUATIONS), budget);
    ac_estimator_free(e);
    team_done(&o);
}
END_TEST

START_TEST(auto_takes_adaptive_for_a_noisy_oracle)
{
    /* 62 unknown coalitions need 62 + 3 (retry margin): from there AUTO
     * takes the adaptive method for an oracle the host declared noisy, and
     * exact for one it did not; below, OddSHAP for the noisy one and the
     * surrogate method for the other. */
    for (int64_t budget = 64; budget <= 131; budget += 33) {
        team_oracle o;
        ac_estimator *e = team_run(6, AC_METHOD_AUTO, budget, 1, 0, &o);
        th_ok(ac_estimator_set_int(e, AC_ESTIMATOR_PARAM_NOISY, _i), e);
        th_ok(ac_estimator_run(e), e);
        ck_assert_int_eq(th_audit(e, AC_ESTIMATOR_AUDIT_METHOD),
                         budget < 65 ? (_i ? AC_METHOD_ODDSHAP
                                           : AC_METHOD_SURROGATE)
                         : _i        ? AC_METHOD_ADAPTIVE
                                     : AC_METHOD_EXACT);
        ac_estimator_free(e);
        team_done(&o);
    }
}
END_TEST

/* v(S) = |S| plus Gaussian noise of sd 1, nothing known: the ends are
 * evaluated, and repeated, like every other coalition. */
typedef struct noisy_count {
    th_rng rng;
    uint64_t calls;
    uint64_t fail_at; /* > 0: that evaluation (1-based) fails once */
} noisy_count;

static int noisy_count_fn(void *user, const uint64_t *c, uint32_t words,
                          uint32_t count, double *values, int32_t *status)
{
    noisy_count *o = user;
    (void)words;
    for (uint32_t k = 0; k < count; k++) {
        if (++o->calls == o->fail_at) {
            status[k] = 2;
            continue;
        }
        values[k] = (double)th_popcount64(c[k]) + th_rng_normal(&o->rng);
    }
    return 0;
}

START_TEST(unknown_ends_are_repeated_and_conserved)
{
    /* n = 3 at 160 evaluations, 200 seeds: the credits conserve the mean
     * of every evaluation of v(all) and v(empty), so they are as accurate
     * as equal repeats (20 each; Neyman gains only 3% here, the estimated
     * variances cost about as much), with honest errors. Before the
     * fix the credits conserved the first draw of each end: three times
     * the error. */
    double ad = 0.0, eq = 0.0, se2 = 0.0;
    for (uint64_t seed = 0; seed < 200; seed++) {
        for (int m = 0; m < 2; m++) {
            noisy_count o = {th_rng_make(seed * 7 + 1), 0, 0};
            ac_estimator *e = th_est(3, m ? AC_METHOD_EXACT : AC_METHOD_ADAPTIVE,
                                     160, 0);
            if (m)
                th_ok(ac_estimator_set_int(e, AC_ESTIMATOR_PARAM_REPEATS, 20), e);
            th_ok(ac_estimator_set_oracle(e, noisy_count_fn, &o), e);
            th_ok(ac_estimator_run(e), e);
            double phi[3], se[3];
            th_ok(ac_estimator_result(e, phi, se, 3), e);
            for (uint32_t i = 0; i < 3; i++) {
                double d = (phi[i] - 1.0) * (phi[i] - 1.0) / 3.0;
                *(m ? &eq : &ad) += d;
                if (!m)
                    se2 += se[i] * se[i] / 3.0;
            }
            ac_estimator_free(e);
        }
    }
    ck_assert_msg(ad < 1.25 * eq, "adaptive MSE %g, equal repeats %g", ad / 200,
                  eq / 200);
    ck_assert_msg(se2 > 0.6 * ad && se2 < 1.6 * ad, "se^2 %g against MSE %g",
                  se2 / 200, ad / 200);
}
END_TEST

START_TEST(budget_edges_and_pilot_failures)
{
    /* _i = 0: n = 7 with v(empty) known, AUTO on a declared noisy oracle,
     * a budget of 191: the probe's round fill must stay within the budget.
     * _i = 1: n = 3, 16 evaluations in rounds of 4, the 4th evaluation
     * fails once: the retry comes out of the margin kept back until the
     * pilot is in (a budget of four rounds or more keeps one). */
    uint32_t n = _i == 0 ? 7 : 3;
    noisy_count o = {th_rng_make(3), 0, _i == 0 ? 0 : 4};
    ac_estimator *e = th_est(n, AC_METHOD_AUTO, _i == 0 ? 191 : 16, 0);
    th_ok(ac_estimator_set_int(e, AC_ESTIMATOR_PARAM_NOISY, 1), e);
    if (_i == 1)
        th_ok(ac_estimator_set_int(e, AC_ESTIMATOR_PARAM_BATCH, 4), e);
    uint64_t none = 0;
    th_ok(ac_estimator_set_value(e, &none, 1, 0.0), e);
    th_ok(ac_estimator_set_oracle(e, noisy_count_fn, &o), e);
    th_ok(ac_estimator_run(e), e);
    ck_assert_int_eq(th_audit(e, AC_ESTIMATOR_AUDIT_METHOD), AC_METHOD_ADAPTIVE);
    ck_assert_int_le(th_audit(e, AC_ESTIMATOR_AUDIT_EVALUATIONS), _i == 0 ? 191 : 16);
    ck_assert_int_eq(th_audit(e, AC_ESTIMATOR_AUDIT_RETRIES), _i);
    double phi[7], se[7];
    th_ok(ac_estimator_result(e, phi, se, n), e);
    for (uint32_t i = 0; i < n; i++)
        ck_assert_msg(isfinite(phi[i]) && se[i] > 0.0, "phi[%u] %g se %g", i,
                      phi[i], se[i]);
    ac_estimator_free(e);
}
END_TEST

/* The case: a noisy 3-agent team with a budget of 20,000 and a
 * target met after a few hundred rollouts stops there (it spent the whole
 * budget before), every error at or below the target, the result honest;
 * a tighter target costs more; the stop does not depend on the batch. */
START_TEST(error_target_stops_the_run)
{
    const uint32_t n = 3;
    const double targets[2] = {0.03, 0.015};
    int64_t spent[2];
    double want[3];
    team_exact(n, want);
    for (int t = 0; t < 2; t++) {
        team_oracle o;
        ac_estimator *e = team_run(n, AC_METHOD_AUTO, 20000, 1, 7, &o);
        th_ok(ac_estimator_set_int(e, AC_ESTIMATOR_PARAM_NOISY, 1), e);
        th_ok(ac_estimator_set_f64(e, AC_ESTIMATOR_PARAM_TARGET_SE,
                                   targets[t]), e);
        th_ok(ac_estimator_run(e), e);
        ck_assert_int_eq(th_audit(e, AC_ESTIMATOR_AUDIT_METHOD),
                         AC_METHOD_ADAPTIVE);
        ck_assert_int_eq(th_audit(e, AC_ESTIMATOR_AUDIT_OUTCOME),
                         AC_ESTIMATOR_OUTCOME_TARGET);
        spent[t] = th_audit(e, AC_ESTIMATOR_AUDIT_EVALUATIONS);
        ck_assert_int_eq((int64_t)o.evals, spent[t]);
        double phi[3], se[3];
        th_ok(ac_estimator_result(e, phi, se, n), e);
        th_assert_conserves(phi, n, team_p(n, 7), team_p(n, 0));
        for (uint32_t i = 0; i < n; i++)
            ck_assert_msg(se[i] > 0 && se[i] <= targets[t] &&
                              fabs(phi[i] - want[i]) < 5 * targets[t],
                          "phi[%u] %g exact %g se %g", i, phi[i], want[i],
                          se[i]);
        ac_estimator_free(e);
        team_done(&o);
    }
    ck_assert_msg(spent[0] < 2000 && spent[1] > 2 * spent[0] &&
                      spent[1] < 8000,
                  "spent %lld at 0.03 and %lld at 0.015", (long long)spent[0],
                  (long long)spent[1]);
}
END_TEST

/* Checkpoints sit on a grid of committed evaluations and wait for every
 * value: rounds of 8 or of 64 both stop on the target, at nearly the same
 * point (not the same one: the phases are whole rounds, so the plans
 * differ; 1152 and 1208 evaluations here). */
START_TEST(error_target_stop_ignores_the_batch)
{
    double phi[2][3];
    int64_t spent[2];
    for (int w = 0; w < 2; w++) {
        team_oracle o;
        ac_estimator *e = team_run(3, AC_METHOD_ADAPTIVE, 20000, 1, 9, &o);
        th_ok(ac_estimator_set_int(e, AC_ESTIMATOR_PARAM_BATCH, w ? 8 : 64), e);
        th_ok(ac_estimator_set_f64(e, AC_ESTIMATOR_PARAM_TARGET_SE, 0.02), e);
        th_ok(ac_estimator_run(e), e);
        spent[w] = th_audit(e, AC_ESTIMATOR_AUDIT_EVALUATIONS);
        ck_assert_int_eq(th_audit(e, AC_ESTIMATOR_AUDIT_OUTCOME),
                         AC_ESTIMATOR_OUTCOME_TARGET);
        th_ok(ac_estimator_result(e, phi[w], NULL, 3), e);
        ac_estimator_free(e);
        team_done(&o);
    }
    ck_assert_msg(2 * spent[0] < 3 * spent[1] && 2 * spent[1] < 3 * spent[0] &&
                      spent[0] < 2000,
                  "spent %lld at batch 64, %lld at 8", (long long)spent[0],
                  (long long)spent[1]);
    for (uint32_t i = 0; i < 3; i++)
        ck_assert(isfinite(phi[0][i]) && isfinite(phi[1][i]));
}
END_TEST

/* A target the budget cannot meet: the phases grow by a quarter of what
 * was spent, and the last takes the rest, so the host waits a few dozen
 * times, not once a batch over the budget's last fifth (1250 rounds). */
START_TEST(error_target_out_of_reach_keeps_rounds_few)
{
    enum { CAP = 65536 };
    uint64_t *tickets = malloc(CAP * sizeof *tickets);
    uint64_t *coal = malloc(CAP * sizeof *coal);
    double *values = malloc(CAP * sizeof *values);
    int32_t *status = calloc(CAP, sizeof *status); /* team_fn: no failures */
    ck_assert(tickets && coal && values && status);
    team_oracle o;
    ac_estimator *e = team_run(3, AC_METHOD_ADAPTIVE, 50000, 1, 4, &o);
    th_ok(ac_estimator_set_int(e, AC_ESTIMATOR_PARAM_BATCH, 8), e);
    th_ok(ac_estimator_set_f64(e, AC_ESTIMATOR_PARAM_TARGET_SE, 1e-9), e);
    for (;;) {
        uint32_t count = 0;
        th_ok(ac_estimator_ask(e, CAP, tickets, coal, &count), e);
        if (count == 0)
            break;
        team_fn(&o, coal, 1, count, values, status);
        th_ok(ac_estimator_tell(e, count, tickets, values, status), e);
    }
    ck_assert_int_eq(th_audit(e, AC_ESTIMATOR_AUDIT_OUTCOME),
                     AC_ESTIMATOR_OUTCOME_BUDGET);
    ck_assert_int_eq(th_audit(e, AC_ESTIMATOR_AUDIT_EVALUATIONS), 50000);
    int64_t rounds = th_audit(e, AC_ESTIMATOR_AUDIT_ROUNDS);
    ck_assert_msg(rounds < 60, "%lld rounds", (long long)rounds);
    ac_estimator_free(e);
    team_done(&o);
    free(tickets);
    free(coal);
    free(values);
    free(status);
}
END_TEST

/* An oracle declared noisy whose values are not 0/1, at a budget of the
 * table: every coalition once, no repeat to show the noise. The errors
 * are unknown (infinite, as the exact method's), never 0; the
 * interactions' too. */
START_TEST(unseen_noise_gives_infinite_errors)
{
    const uint32_t n = 4;
    th_game *g = th_game_soum(n, 5, 3, 21);
    ac_estimator *e = th_est(n, AC_METHOD_ADAPTIVE, 14, 0);
    th_ok(ac_estimator_set_int(e, AC_ESTIMATOR_PARAM_NOISY, 1), e);
    th_ok(ac_estimator_set_int(e, AC_ESTIMATOR_PARAM_INTERACTIONS, 1), e);
    th_est_ends(e, g);
    th_oracle o;
    th_oracle_init(&o, g, 0);
    o.noise_sd = 0.3;
    double phi[4], se[4], index[6], ise[6];
    th_ok(th_run(e, &o, phi, se), e);
    ck_assert_int_eq(th_audit(e, AC_ESTIMATOR_AUDIT_EVALUATIONS), 14);
    for (uint32_t i = 0; i < n; i++)
        ck_assert_msg(isfinite(phi[i]) && se[i] == INFINITY,
                      "phi[%u] %g se %g", i, phi[i], se[i]);
    th_ok(ac_estimator_interactions(e, index, ise, 6), e);
    for (size_t p = 0; p < 6; p++)
        ck_assert_msg(isfinite(index[p]) && ise[p] == INFINITY,
                      "pair %zu: se %g", p, ise[p]);
    ac_estimator_free(e);
    th_oracle_fini(&o);
    th_game_free(g);
}
END_TEST

static Suite *adaptive_suite(void)
{
    Suite *s = suite_create("adaptive");
    TCase *tc = th_tcase(s, "adaptive");
    tcase_add_loop_test(tc, deterministic_oracle_stops_with_exact_values, 0, 2);
    tcase_add_test(tc, rollouts_go_to_the_heavy_coalitions);
    tcase_add_test(tc, more_accurate_than_equal_repeats);
    tcase_add_test(tc, standard_errors_cover);
    tcase_add_test(tc, tell_order_never_changes_a_bit);
    tcase_add_loop_test(tc, failed_repeats_are_dropped_or_retried, 0, 2);
    tcase_add_test(tc, refusals_name_the_problem);
    tcase_add_loop_test(tc, rounds_stay_close_to_budget_over_width, 0, 4);
    tcase_add_loop_test(tc, auto_takes_adaptive_for_a_noisy_oracle, 0, 2);
    tcase_add_test(tc, unknown_ends_are_repeated_and_conserved);
    tcase_add_loop_test(tc, budget_edges_and_pilot_failures, 0, 2);
    tcase_add_test(tc, error_target_stops_the_run);
    tcase_add_test(tc, error_target_stop_ignores_the_batch);
    tcase_add_test(tc, error_target_out_of_reach_keeps_rounds_few);
    tcase_add_test(tc, unseen_noise_gives_infinite_errors);
    return s;
}

int main(void)
{
    return th_run_suite(adaptive_suite());
}
