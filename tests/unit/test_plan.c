/* SPDX-License-Identifier: MIT
 *
 * The cost planner (ac_estimator_plan): budgets computed by hand, its
 * answer monotone in the target and the noise, the refusals, the model
 * against the variance formula evaluated coalition by coalition at the
 * planned allocation, and the plan against runs of the adaptive method. */
#include "helpers.h"

static int64_t plan_ok(uint32_t n, ac_plan_noise noise, double param,
                       double target, uint32_t flags, double *se)
{
    int64_t b = -1;
    char err[256] = "x";
    int rc = ac_estimator_plan(n, noise, param, target, flags, &b, se, err,
                               sizeof err);
    ck_assert_msg(rc == AC_OK, "plan(n=%u, %g, target %g): %s: %s", n, param,
                  target, ac_status_name(rc), err);
    ck_assert_str_eq(err, "");
    return b;
}

/* The adaptive method's variance over its allocation's, as the header
 * documents it, and AUTO's retry margin for a table of `pilot`. */
#define OVER_NEYMAN 1.05
static int64_t margin(int64_t pilot)
{
    return 2 + pilot / 32;
}

/* Hand computations (variances times OVER_NEYMAN, budgets plus the
 * margin). n = 2: a_S^2 = 1/2 for every size, and with the ends known
 * phi_0 = (v(0) - v(empty)) / 2 + (v(all) - v(1)) / 2, so with B/2
 * evaluations each Var(phi_0) = sd^2 / B. n = 3, ends known: a^2 = 1/6 for
 * the six coalitions, Var(phi_i) = (sd^2 / 3) 6 (1/6) / (B/6) = 2 sd^2 / B.
 * n = 3, ends unknown: a^2 = 1/3 at the ends, 1/6 between, Neyman gives
 * (sd^2 / 3) (2/sqrt3 + 6/sqrt6)^2 / B. n = 1, ends unknown: phi = v(all) -
 * v(empty), sd^2 (1/m + 1/m). */
START_TEST(hand_computed_budgets)
{
    double se = -1.0;
    ck_assert_int_eq(plan_ok(2, AC_PLAN_NOISE_SD, 1.0, 0.1,
                             AC_PLAN_FLAG_ENDS_KNOWN, &se),
                     105 + margin(2));
    ck_assert_double_eq_tol(se, 0.1, 1e-12);
    ck_assert_int_eq(plan_ok(3, AC_PLAN_NOISE_SD, 1.0, 0.1,
                             AC_PLAN_FLAG_ENDS_KNOWN, &se),
                     210 + margin(6));
    ck_assert_double_eq_tol(se, 0.1, 1e-12);
    /* 0/1 rollouts at the worst case: sd 1/2 */
    ck_assert_int_eq(plan_ok(3, AC_PLAN_NOISE_ROLLOUTS, 0.5, 0.05,
                             AC_PLAN_FLAG_ENDS_KNOWN, NULL),
                     210 + margin(6));
    /* p = 0.1: sd^2 = 0.09, 2 x 0.09 / 0.03^2 = 200 */
    ck_assert_int_eq(plan_ok(3, AC_PLAN_NOISE_ROLLOUTS, 0.1, 0.03,
                             AC_PLAN_FLAG_ENDS_KNOWN, NULL),
                     210 + margin(6));
    double s = 2.0 / sqrt(3.0) + 6.0 / sqrt(6.0);
    int64_t want = (int64_t)ceil(OVER_NEYMAN * s * s / 3.0 / 0.01);
    ck_assert_int_eq(plan_ok(3, AC_PLAN_NOISE_SD, 1.0, 0.1, 0, &se),
                     want + margin(8));
    ck_assert(se <= 0.1 && se > 0.0999);
    ck_assert_int_eq(plan_ok(1, AC_PLAN_NOISE_SD, 1.0, 0.1, 0, &se),
                     420 + margin(2));
    /* nothing unknown: no evaluation, no error */
    ck_assert_int_eq(plan_ok(1, AC_PLAN_NOISE_SD, 1.0, 0.1,
                             AC_PLAN_FLAG_ENDS_KNOWN, &se), 0);
    ck_assert(se == 0.0);
    /* A target the table alone beats: the table plus the margin, and the
     * se of one evaluation each: sqrt((1/3) 6 (1/6)). */
    ck_assert_int_eq(plan_ok(3, AC_PLAN_NOISE_SD, 1.0, 1.0,
                             AC_PLAN_FLAG_ENDS_KNOWN, &se), 6 + margin(6));
    ck_assert_double_eq_tol(se, sqrt(OVER_NEYMAN / 3.0), 1e-12);
}
END_TEST

START_TEST(monotone_in_target_and_noise)
{
    for (uint32_t n = 1; n <= AC_ADAPTIVE_MAX_PLAYERS; n += 3) {
        int64_t last = 0;
        for (double t = 1.0; t > 2e-3; t *= 0.8) {
            double se;
            int64_t b = plan_ok(n, AC_PLAN_NOISE_ROLLOUTS, 0.5, t, 0, &se);
            ck_assert_msg(b >= last, "n=%u target %g: %lld < %lld", n, t,
                          (long long)b, (long long)last);
            ck_assert(se <= t * (1.0 + 1e-12));
            int64_t known = plan_ok(n, AC_PLAN_NOISE_ROLLOUTS, 0.5, t,
                                    AC_PLAN_FLAG_ENDS_KNOWN, NULL);
            ck_assert(known <= b);
            /* a rate away from 1/2 has less variance */
            ck_assert(plan_ok(n, AC_PLAN_NOISE_ROLLOUTS, 0.2, t, 0, NULL) <= b);
            ck_assert(plan_ok(n, AC_PLAN_NOISE_ROLLOUTS, 0.8, t, 0, NULL) <= b);
            ck_assert(plan_ok(n, AC_PLAN_NOISE_SD, 0.6, t, 0, NULL) >= b);
            last = b;
        }
    }
}
END_TEST

static void refused(int want, uint32_t n, ac_plan_noise noise, double param,
                    double target, uint32_t flags, const char *word)
{
    int64_t b = 12345;
    double se = 6.5;
    char err[256] = "";
    int rc = ac_estimator_plan(n, noise, param, target, flags, &b, &se, err,
                               sizeof err);
    ck_assert_msg(rc == want, "n=%u noise %d param %g target %g flags %u: "
                  "%s, want %s", n, (int)noise, param, target, flags,
                  ac_status_name(rc), ac_status_name(want));
    ck_assert_msg(strstr(err, word) != NULL, "'%s' does not name '%s'", err,
                  word);
    ck_assert_int_eq(b, 12345); /* untouched */
    ck_assert(se == 6.5);
}

START_TEST(refusals_name_the_problem)
{
    const ac_plan_noise R = AC_PLAN_NOISE_ROLLOUTS, S = AC_PLAN_NOISE_SD;
    refused(AC_E_INVALID_ARG, 0, R, 0.5, 0.1, 0, "n_players");
    refused(AC_E_TOO_LARGE, AC_ADAPTIVE_MAX_PLAYERS + 1, R, 0.5, 0.1, 0,
            "n_players");
    refused(AC_E_TOO_LARGE, UINT32_MAX, R, 0.5, 0.1, 0, "n_players");
    const double bad_target[] = {0.0, -0.1, NAN, INFINITY};
    for (size_t k = 0; k < sizeof bad_target / sizeof *bad_target; k++)
        refused(AC_E_INVALID_ARG, 4, R, 0.5, bad_target[k], 0, "target_se");
    const double bad_rate[] = {0.0, 1.0, -0.5, 1.5, NAN};
    for (size_t k = 0; k < sizeof bad_rate / sizeof *bad_rate; k++)
        refused(AC_E_INVALID_ARG, 4, R, bad_rate[k], 0.1, 0, "success rate");
    const double bad_sd[] = {0.0, -1.0, NAN, INFINITY};
    for (size_t k = 0; k < sizeof bad_sd / sizeof *bad_sd; k++)
        refused(AC_E_INVALID_ARG, 4, S, bad_sd[k], 0.1, 0, "standard deviation");
    refused(AC_E_INVALID_ARG, 4, (ac_plan_noise)0, 0.5, 0.1, 0, "noise");
    refused(AC_E_INVALID_ARG, 4, (ac_plan_noise)3, 0.5, 0.1, 0, "noise");
    refused(AC_E_INVALID_ARG, 4, R, 0.5, 0.1, 2, "flags");
    /* beyond int64 and beyond the budget's bound (2^40) */
    refused(AC_E_TOO_LARGE, 20, S, 1e300, 1e-300, 0, "AC_ESTIMATOR_PARAM_BUDGET");
    refused(AC_E_TOO_LARGE, 20, R, 0.5, 1e-6, 0, "AC_ESTIMATOR_PARAM_BUDGET");
    refused(AC_E_TOO_LARGE, 2, S, 1.0, 1e-7, 0, "AC_ESTIMATOR_PARAM_BUDGET");
    /* NULL evaluations; NULL err_buf and se are fine */
    ck_assert_int_eq(ac_estimator_plan(4, R, 0.5, 0.1, 0, NULL, NULL, NULL, 0),
                     AC_E_INVALID_ARG);
    int64_t b = 0;
    ck_assert_int_eq(ac_estimator_plan(4, R, 0.5, 0.1, 0, &b, NULL, NULL, 0),
                     AC_OK);
    ck_assert(b > 0);
    /* a short err_buf is truncated, not overrun */
    char tiny[8];
    memset(tiny, 'x', sizeof tiny);
    ck_assert_int_eq(ac_estimator_plan(0, R, 0.5, 0.1, 0, &b, NULL, tiny, 5),
                     AC_E_INVALID_ARG);
    ck_assert_int_eq((int)strlen(tiny), 4);
    ck_assert_int_eq(tiny[5], 'x');
}
END_TEST

/* The largest Var(phi_i) of an allocation m (2^n; 0:
 * known, no variance), from each agent's own Shapley coefficients, not
 * from the layer norms the planner uses. */
static void agent_variances(uint32_t n, const double *m, double sd2,
                            double *max_var)
{
    *max_var = 0.0;
    for (uint32_t i = 0; i < n; i++) {
        double v = 0.0;
        for (uint64_t s = 0; s < ((uint64_t)1 << n); s++) {
            if (m[s] == 0.0)
                continue;
            uint32_t z = th_popcount64(s);
            double c = (s >> i & 1u) ? th_weight(n, z - 1) : th_weight(n, z);
            v += c * c * sd2 / m[s];
        }
        *max_var = fmax(*max_var, v);
    }
}

/* m_S = max(1, lambda a_S) summing to budget, lambda by bisection, a_S
 * from the coefficients: a_S^2 = sum over agents of their squares. */
static void water_fill(uint32_t n, int ends_known, double budget, double *m)
{
    uint64_t size = (uint64_t)1 << n;
    double *a = calloc(size, sizeof *a);
    ck_assert_ptr_nonnull(a);
    for (uint64_t s = 0; s < size; s++) {
        if (ends_known && (s == 0 || s == size - 1))
            continue;
        uint32_t z = th_popcount64(s);
        for (uint32_t i = 0; i < n; i++) {
            double c = (s >> i & 1u) ? th_weight(n, z - 1) : th_weight(n, z);
            a[s] += c * c;
        }
        a[s] = sqrt(a[s]);
    }
    double lo = 0.0, hi = 1.0;
    for (;;) {
        double t = 0.0;
        for (uint64_t s = 0; s < size; s++)
            t += a[s] > 0.0 ? fmax(1.0, hi * a[s]) : 0.0;
        if (t >= budget)
            break;
        lo = hi;
        hi *= 2.0;
    }
    for (int it = 0; it < 200; it++) {
        double mid = 0.5 * (lo + hi), t = 0.0;
        for (uint64_t s = 0; s < size; s++)
            t += a[s] > 0.0 ? fmax(1.0, mid * a[s]) : 0.0;
        if (t >= budget)
            hi = mid;
        else
            lo = mid;
    }
    for (uint64_t s = 0; s < size; s++)
        m[s] = a[s] > 0.0 ? fmax(1.0, hi * a[s]) : 0.0;
    free(a);
}

/* The planned budget, less the margin, meets the target at the allocation
 * it assumes, and one evaluation fewer does not (unless the table's floor
 * decided it). */
START_TEST(plan_matches_the_variance_formula)
{
    th_rng r = th_rng_make(16);
    for (int trial = 0; trial < 60; trial++) {
        uint32_t n = 1 + th_rng_below(&r, 9);
        int ends_known = (int)th_rng_below(&r, 2);
        double sd = th_rng_range(&r, 0.05, 2.0);
        double target = sd * th_rng_range(&r, 0.003, 0.3);
        if (n == 1 && ends_known)
            continue;
        double se;
        int64_t b = plan_ok(n, AC_PLAN_NOISE_SD, sd, target,
                            ends_known ? AC_PLAN_FLAG_ENDS_KNOWN : 0, &se);
        uint64_t size = (uint64_t)1 << n;
        int64_t pilot = (int64_t)size - (ends_known ? 2 : 0);
        int64_t spread = b - margin(pilot);
        ck_assert(spread >= pilot);
        double *m = calloc(size, sizeof *m);
        ck_assert_ptr_nonnull(m);
        double worst, sd2 = OVER_NEYMAN * sd * sd;
        water_fill(n, ends_known, (double)spread, m);
        agent_variances(n, m, sd2, &worst);
        ck_assert_msg(worst <= target * target * (1.0 + 1e-9),
                      "n=%u: planned %lld gives se %.6g > target %.6g", n,
                      (long long)b, sqrt(worst), target);
        ck_assert_msg(fabs(sqrt(worst) - se) <= 1e-9 * se,
                      "n=%u: se %.9g, the formula says %.9g", n, se,
                      sqrt(worst));
        if (spread > pilot) {
            water_fill(n, ends_known, (double)spread - 1.0, m);
            agent_variances(n, m, sd2, &worst);
            ck_assert_msg(worst > target * target * (1.0 - 1e-9),
                          "n=%u: %lld - 1 would do (se %.6g, target %.6g)", n,
                          (long long)b, sqrt(worst), target);
        }
        free(m);
    }
}
END_TEST

/* Gaussian noise of a known sd on a team's values: the adaptive method at
 * the planned budget reaches the target (the root mean square error over
 * seeds of every agent within 30% of it: a guard, not the benchmark's
 * figure). */
typedef struct gauss_oracle {
    uint32_t n;
    double sd;
    th_rng rng;
} gauss_oracle;

static double team_value(uint64_t s)
{
    /* agent 0 needed, 1 and 2 substitutes, 3 a helper */
    double p = 0.1 + ((s & 1u) ? 0.4 : 0.0) + ((s & 6u) ? 0.3 : 0.0);
    return p + ((s & 8u) ? 0.1 : 0.0);
}

static int gauss_fn(void *user, const uint64_t *c, uint32_t words,
                    uint32_t count, double *values, int32_t *status)
{
    gauss_oracle *o = user;
    (void)words;
    (void)status;
    for (uint32_t k = 0; k < count; k++)
        values[k] = team_value(c[k]) + o->sd * th_rng_normal(&o->rng);
    return 0;
}

START_TEST(runs_reach_the_planned_target)
{
    const uint32_t n = 4;
    const double sd = 0.5, target = 0.04;
    const int seeds = 150;
    double table[16], exact[4], sq[4] = {0};
    for (uint64_t s = 0; s < 16; s++)
        table[s] = team_value(s);
    th_shapley_subsets(n, table, exact);
    int64_t b = plan_ok(n, AC_PLAN_NOISE_SD, sd, target,
                        AC_PLAN_FLAG_ENDS_KNOWN, NULL);
    uint64_t empty = 0, all = 15;
    for (int seed = 0; seed < seeds; seed++) {
        ac_estimator *e = NULL;
        th_ok(ac_estimator_create(&e, n, NULL), NULL);
        gauss_oracle o = {n, sd, th_rng_make((uint64_t)seed + 1)};
        th_ok(ac_estimator_set_int(e, AC_ESTIMATOR_PARAM_METHOD,
                                   AC_METHOD_ADAPTIVE), e);
        th_ok(ac_estimator_set_int(e, AC_ESTIMATOR_PARAM_BUDGET, b), e);
        th_ok(ac_estimator_set_int(e, AC_ESTIMATOR_PARAM_SEED, seed), e);
        th_ok(ac_estimator_set_value(e, &empty, 1, table[0]), e);
        th_ok(ac_estimator_set_value(e, &all, 1, table[15]), e);
        th_ok(ac_estimator_set_oracle(e, gauss_fn, &o), e);
        th_ok(ac_estimator_run(e), e);
        double phi[4];
        th_ok(ac_estimator_result(e, phi, NULL, n), e);
        for (uint32_t i = 0; i < n; i++)
            sq[i] += (phi[i] - exact[i]) * (phi[i] - exact[i]);
        ac_estimator_free(e);
    }
    for (uint32_t i = 0; i < n; i++) {
        double rmse = sqrt(sq[i] / seeds);
        ck_assert_msg(rmse > 0.7 * target && rmse < 1.3 * target,
                      "agent %u: RMSE %.4g at the planned %lld, target %.4g",
                      i, rmse, (long long)b, target);
    }
}
END_TEST

static Suite *plan_suite(void)
{
    Suite *s = suite_create("plan");
    TCase *tc = th_tcase(s, "plan");
    tcase_add_test(tc, hand_computed_budgets);
    tcase_add_test(tc, monotone_in_target_and_noise);
    tcase_add_test(tc, refusals_name_the_problem);
    tcase_add_test(tc, plan_matches_the_variance_formula);
    tcase_add_test(tc, runs_reach_the_planned_target);
    return s;
}

int main(void)
{
    return th_run_suite(plan_suite());
}
