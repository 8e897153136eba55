/* SPDX-License-Identifier: MIT
 *
 * Estimator parameters (zstd's model): defaults, round trips, bounds,
 * out-of-bound values rejected and never clamped, unknown parameters, wrong
 * types, the reset flags, and parameters frozen once a run has started.
 */
#include "helpers.h"

/* The integer parameters as the header documents them. */
static const struct {
    ac_estimator_param param;
    const char *name;
    int64_t def, lo, hi;
} int_params[] = {
    {AC_ESTIMATOR_PARAM_METHOD, "METHOD", AC_METHOD_AUTO, AC_METHOD_AUTO,
     AC_METHOD_SURROGATE},
    {AC_ESTIMATOR_PARAM_BUDGET, "BUDGET", 2048, 0, (int64_t)1 << 40},
    {AC_ESTIMATOR_PARAM_SEED, "SEED", 0, 0, INT64_MAX},
    {AC_ESTIMATOR_PARAM_BATCH, "BATCH", 64, 1, (int64_t)1 << 20},
    {AC_ESTIMATOR_PARAM_REPEATS, "REPEATS", 1, 1, 65536},
    {AC_ESTIMATOR_PARAM_MAX_RETRIES, "MAX_RETRIES", 2, 0, 1000},
    {AC_ESTIMATOR_PARAM_NOISY, "NOISY", 0, 0, 1},
    {AC_ESTIMATOR_PARAM_INTERACTIONS, "INTERACTIONS", 0, 0, 1},
};
#define N_INT (sizeof int_params / sizeof int_params[0])

/* Values that are no parameter at all. */
static const int unknown_params[] = {0, 1, 99, 107, 108, 109, 112, 200, -1,
                                     1000000};
#define N_UNKNOWN (sizeof unknown_params / sizeof unknown_params[0])

static ac_estimator *fresh(uint32_t n)
{
    ac_estimator *e = NULL;
    ck_assert_int_eq(ac_estimator_create(&e, n, NULL), AC_OK);
    ck_assert_ptr_nonnull(e);
    return e;
}

static int64_t get_i(const ac_estimator *e, ac_estimator_param p)
{
    int64_t v = -777;
    ck_assert_int_eq(ac_estimator_get_int(e, p, &v), AC_OK);
    return v;
}

static double get_f(const ac_estimator *e, ac_estimator_param p)
{
    double v = -777.0;
    ck_assert_int_eq(ac_estimator_get_f64(e, p, &v), AC_OK);
    return v;
}

/* A value inside the bounds that differs from the default. */
static int64_t non_default(size_t i)
{
    switch (int_params[i].param) {
    case AC_ESTIMATOR_PARAM_METHOD:
        return AC_METHOD_PERMUTATION;
    case AC_ESTIMATOR_PARAM_BUDGET:
        return 777;
    case AC_ESTIMATOR_PARAM_SEED:
        return 987654321;
    case AC_ESTIMATOR_PARAM_BATCH:
        return 5;
    case AC_ESTIMATOR_PARAM_REPEATS:
        return 3;
    case AC_ESTIMATOR_PARAM_MAX_RETRIES:
        return 7;
    case AC_ESTIMATOR_PARAM_NOISY:
    case AC_ESTIMATOR_PARAM_INTERACTIONS:
        return 1;
    default:
        ck_abort_msg("no such parameter");
    }
    return 0;
}

static void set_all_non_default(ac_estimator *e)
{
    for (size_t i = 0; i < N_INT; i++)
        th_ok(ac_estimator_set_int(e, int_params[i].param, non_default(i)), e);
    th_ok(ac_estimator_set_f64(e, AC_ESTIMATOR_PARAM_TARGET_SE, 0.125), e);
}

static void assert_all_default(const ac_estimator *e)
{
    for (size_t i = 0; i < N_INT; i++)
        ck_assert_msg(get_i(e, int_params[i].param) == int_params[i].def,
                      "%s is %lld after reset, default %lld",
                      int_params[i].name,
                      (long long)get_i(e, int_params[i].param),
                      (long long)int_params[i].def);
    ck_assert(get_f(e, AC_ESTIMATOR_PARAM_TARGET_SE) == 0.0);
}

START_TEST(defaults)
{
    ac_estimator *e = fresh(5);
    assert_all_default(e);
    ac_estimator_free(e);
}
END_TEST

START_TEST(bounds_queries)
{
    for (size_t i = 0; i < N_INT; i++) {
        int64_t lo = -5, hi = -5;
        ck_assert_int_eq(
            ac_estimator_param_bounds_int(int_params[i].param, &lo, &hi),
            AC_OK);
        ck_assert_msg(lo == int_params[i].lo && hi == int_params[i].hi,
                      "%s bounds [%lld, %lld], header says [%lld, %lld]",
                      int_params[i].name, (long long)lo, (long long)hi,
                      (long long)int_params[i].lo, (long long)int_params[i].hi);
    }
    double flo = -5, fhi = -5;
    ck_assert_int_eq(
        ac_estimator_param_bounds_f64(AC_ESTIMATOR_PARAM_TARGET_SE, &flo, &fhi), AC_OK);
    ck_assert(flo == 0.0);
    ck_assert(fhi == 1e300);
}
END_TEST

START_TEST(round_trip_int)
{
    ac_estimator *e = fresh(5);
    for (size_t i = 0; i < N_INT; i++) {
        int64_t vals[3] = {int_params[i].lo, int_params[i].hi, non_default(i)};
        for (size_t k = 0; k < 3; k++) {
            th_ok(ac_estimator_set_int(e, int_params[i].param, vals[k]), e);
            ck_assert_msg(get_i(e, int_params[i].param) == vals[k],
                          "%s: set %lld, got %lld", int_params[i].name,
                          (long long)vals[k],
                          (long long)get_i(e, int_params[i].param));
        }
    }
    ac_estimator_free(e);
}
END_TEST

START_TEST(round_trip_f64)
{
    ac_estimator *e = fresh(5);
    const double vals[] = {0.0, 1e300, 1e-300, 0.5, 3.25e-7, 0.0};
    for (size_t k = 0; k < sizeof vals / sizeof vals[0]; k++) {
        th_ok(ac_estimator_set_f64(e, AC_ESTIMATOR_PARAM_TARGET_SE, vals[k]), e);
        ck_assert(get_f(e, AC_ESTIMATOR_PARAM_TARGET_SE) == vals[k]);
    }
    ac_estimator_free(e);
}
END_TEST

START_TEST(out_of_bound_int_unchanged)
{
    ac_estimator *e = fresh(5);
    for (size_t i = 0; i < N_INT; i++) {
        ac_estimator_param p = int_params[i].param;
        int64_t keep = non_default(i);
        th_ok(ac_estimator_set_int(e, p, keep), e);
        int64_t bad[4];
        size_t nb = 0;
        if (int_params[i].lo > INT64_MIN)
            bad[nb++] = int_params[i].lo - 1;
        if (int_params[i].hi < INT64_MAX)
            bad[nb++] = int_params[i].hi + 1;
        bad[nb++] = INT64_MIN;
        if (int_params[i].hi < INT64_MAX)
            bad[nb++] = INT64_MAX;
        for (size_t k = 0; k < nb; k++) {
            ck_assert_msg(ac_estimator_set_int(e, p, bad[k]) ==
                              AC_E_PARAM_OUT_OF_BOUND,
                          "%s accepted %lld", int_params[i].name,
                          (long long)bad[k]);
            /* never clamped, never half-applied */
            ck_assert_msg(get_i(e, p) == keep, "%s changed to %lld",
                          int_params[i].name, (long long)get_i(e, p));
            ck_assert_str_ne(ac_estimator_last_error(e), "");
        }
    }
    ac_estimator_free(e);
}
END_TEST

START_TEST(out_of_bound_f64_unchanged)
{
    ac_estimator *e = fresh(5);
    th_ok(ac_estimator_set_f64(e, AC_ESTIMATOR_PARAM_TARGET_SE, 0.25), e);
    const double bad[] = {-DBL_MIN, -1.0, 1e301, DBL_MAX, INFINITY, -INFINITY};
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        ck_assert_msg(ac_estimator_set_f64(e, AC_ESTIMATOR_PARAM_TARGET_SE, bad[k]) ==
                          AC_E_PARAM_OUT_OF_BOUND,
                      "TARGET_SE accepted %g", bad[k]);
        ck_assert(get_f(e, AC_ESTIMATOR_PARAM_TARGET_SE) == 0.25);
    }
    /* NaN is outside every bound (the header does not say which of the two
     * codes; either is a refusal) and must not be stored. */
    int rc = ac_estimator_set_f64(e, AC_ESTIMATOR_PARAM_TARGET_SE, NAN);
    ck_assert_msg(rc == AC_E_PARAM_OUT_OF_BOUND || rc == AC_E_INVALID_ARG,
                  "TARGET_SE = NaN returned %d", rc);
    ck_assert(get_f(e, AC_ESTIMATOR_PARAM_TARGET_SE) == 0.25);
    ac_estimator_free(e);
}
END_TEST

START_TEST(unknown_param_unsupported)
{
    ac_estimator *e = fresh(5);
    for (size_t k = 0; k < N_UNKNOWN; k++) {
        ac_estimator_param p = (ac_estimator_param)unknown_params[k];
        int64_t iv = 42, lo = 42, hi = 42;
        double fv = 42.0, flo = 42.0, fhi = 42.0;
        ck_assert_int_eq(ac_estimator_set_int(e, p, 1), AC_E_PARAM_UNSUPPORTED);
        ck_assert_int_eq(ac_estimator_get_int(e, p, &iv),
                         AC_E_PARAM_UNSUPPORTED);
        ck_assert_int_eq(ac_estimator_set_f64(e, p, 1.0),
                         AC_E_PARAM_UNSUPPORTED);
        ck_assert_int_eq(ac_estimator_get_f64(e, p, &fv),
                         AC_E_PARAM_UNSUPPORTED);
        ck_assert_int_eq(ac_estimator_param_bounds_int(p, &lo, &hi),
                         AC_E_PARAM_UNSUPPORTED);
        ck_assert_int_eq(ac_estimator_param_bounds_f64(p, &flo, &fhi),
                         AC_E_PARAM_UNSUPPORTED);
        /* outputs untouched on failure */
        ck_assert(iv == 42 && lo == 42 && hi == 42);
        ck_assert(fv == 42.0 && flo == 42.0 && fhi == 42.0);
    }
    assert_all_default(e);
    ac_estimator_free(e);
}
END_TEST

START_TEST(wrong_type_invalid_arg)
{
    ac_estimator *e = fresh(5);
    for (size_t i = 0; i < N_INT; i++) {
        ac_estimator_param p = int_params[i].param;
        double fv = 42.0, flo = 42.0, fhi = 42.0;
        ck_assert_int_eq(ac_estimator_set_f64(e, p, (double)non_default(i)),
                         AC_E_INVALID_ARG);
        ck_assert_int_eq(ac_estimator_get_f64(e, p, &fv), AC_E_INVALID_ARG);
        ck_assert_int_eq(ac_estimator_param_bounds_f64(p, &flo, &fhi),
                         AC_E_INVALID_ARG);
        ck_assert(fv == 42.0 && flo == 42.0 && fhi == 42.0);
        ck_assert(get_i(e, p) == int_params[i].def);
    }
    int64_t iv = 42, lo = 42, hi = 42;
    ck_assert_int_eq(ac_estimator_set_int(e, AC_ESTIMATOR_PARAM_TARGET_SE, 1),
                     AC_E_INVALID_ARG);
    ck_assert_int_eq(ac_estimator_get_int(e, AC_ESTIMATOR_PARAM_TARGET_SE, &iv),
                     AC_E_INVALID_ARG);
    ck_assert_int_eq(ac_estimator_param_bounds_int(AC_ESTIMATOR_PARAM_TARGET_SE, &lo, &hi),
                     AC_E_INVALID_ARG);
    ck_assert(iv == 42 && lo == 42 && hi == 42);
    ck_assert(get_f(e, AC_ESTIMATOR_PARAM_TARGET_SE) == 0.0);
    ac_estimator_free(e);
}
END_TEST

START_TEST(reset_params_restores_defaults)
{
    ac_estimator *e = fresh(5);
    set_all_non_default(e);
    /* a session reset keeps the parameters: they are sticky */
    th_ok(ac_estimator_reset(e, AC_RESET_SESSION), e);
    for (size_t i = 0; i < N_INT; i++)
        ck_assert(get_i(e, int_params[i].param) == non_default(i));
    ck_assert(get_f(e, AC_ESTIMATOR_PARAM_TARGET_SE) == 0.125);
    th_ok(ac_estimator_reset(e, AC_RESET_PARAMS), e);
    assert_all_default(e);
    set_all_non_default(e);
    th_ok(ac_estimator_reset(e, AC_RESET_ALL), e);
    assert_all_default(e);
    ac_estimator_free(e);
}
END_TEST

START_TEST(reset_unknown_flag)
{
    /* Bits beyond AC_RESET_ALL name nothing: refused rather than silently
     * ignored (a typo would otherwise reset less than the caller thinks). */
    ac_estimator *e = fresh(5);
    set_all_non_default(e);
    ck_assert_int_eq(ac_estimator_reset(e, 8u), AC_E_INVALID_ARG);
    ck_assert_int_eq(ac_estimator_reset(e, 8u | AC_RESET_PARAMS),
                     AC_E_INVALID_ARG);
    for (size_t i = 0; i < N_INT; i++)
        ck_assert(get_i(e, int_params[i].param) == non_default(i));
    ac_estimator_free(e);
}
END_TEST

/* n = 4 exact: 14 coalitions when the ends are known, 16 otherwise. */
START_TEST(reset_known_forgets_values)
{
    th_game *g = th_game_random_table(4, 11);
    ac_estimator *e = th_est(4, AC_METHOD_EXACT, 2048, 0);
    th_oracle o;
    double phi[4], want[4];
    th_shapley_subsets(4, g->table, want);

    th_est_ends(e, g);
    th_oracle_init(&o, g, 1);
    th_ok(th_run(e, &o, phi, NULL), e);
    ck_assert_int_eq(th_audit(e, AC_ESTIMATOR_AUDIT_KNOWN), 2);
    ck_assert_int_eq(th_audit(e, AC_ESTIMATOR_AUDIT_EVALUATIONS), 14);
    th_oracle_fini(&o);

    th_ok(ac_estimator_reset(e, AC_RESET_SESSION | AC_RESET_KNOWN), e);
    th_oracle_init(&o, g, 1);
    th_ok(th_run(e, &o, phi, NULL), e);
    ck_assert_int_eq(th_audit(e, AC_ESTIMATOR_AUDIT_KNOWN), 0);
    ck_assert_int_eq(th_audit(e, AC_ESTIMATOR_AUDIT_EVALUATIONS), 16);
    ck_assert_uint_eq(o.evals, 16);
    th_assert_vec_near(phi, want, 4, 1e-12, "exact after RESET_KNOWN");
    th_oracle_fini(&o);
    ac_estimator_free(e);
    th_game_free(g);
}
END_TEST

/* A session reset makes the handle ready for a new run that repeats the
 * first one bit for bit (same seed, same values) and pays for it again (the
 * cache is forgotten). */
START_TEST(reset_session_allows_new_run)
{
    static const int64_t methods[] = {AC_METHOD_EXACT, AC_METHOD_PERMUTATION,
                                      AC_METHOD_KERNELSHAP};
    int64_t method = methods[_i];
    th_game *g = th_game_soum(9, 12, 4, 5);
    ac_estimator *e = th_est(9, method, 300, 77);
    if (method == AC_METHOD_EXACT)
        th_ok(ac_estimator_set_int(e, AC_ESTIMATOR_PARAM_BUDGET, 2048), e);
    th_est_ends(e, g);
    th_oracle o1, o2;
    double phi1[9], se1[9], phi2[9], se2[9];
    th_oracle_init(&o1, g, 0);
    th_ok(th_run(e, &o1, phi1, se1), e);
    int64_t ev1 = th_audit(e, AC_ESTIMATOR_AUDIT_EVALUATIONS);

    th_ok(ac_estimator_reset(e, AC_RESET_SESSION), e);
    th_oracle_init(&o2, g, 0);
    th_ok(th_run(e, &o2, phi2, se2), e);
    ck_assert_int_eq(th_audit(e, AC_ESTIMATOR_AUDIT_EVALUATIONS), ev1);
    ck_assert_uint_eq(o2.evals, o1.evals);
    ck_assert_int_eq(th_audit(e, AC_ESTIMATOR_AUDIT_KNOWN), 2); /* known values kept */
    ck_assert(memcmp(phi1, phi2, sizeof phi1) == 0);
    ck_assert(memcmp(se1, se2, sizeof se1) == 0);
    ac_estimator_free(e);
    th_game_free(g);
}
END_TEST

static void assert_frozen(ac_estimator *e)
{
    for (size_t i = 0; i < N_INT; i++) {
        ac_estimator_param p = int_params[i].param;
        int64_t before = get_i(e, p);
        int64_t other = before == int_params[i].lo ? int_params[i].lo + 1
                                                   : int_params[i].lo;
        ck_assert_msg(ac_estimator_set_int(e, p, other) == AC_E_STATE,
                      "%s could be set during/after the run",
                      int_params[i].name);
        ck_assert(get_i(e, p) == before);
        /* bound checks do not take precedence over the state either way:
         * the value must not change */
        ck_assert_int_ne(ac_estimator_set_int(e, p, int_params[i].lo - 1),
                         AC_OK);
        ck_assert(get_i(e, p) == before);
    }
    ck_assert_int_eq(ac_estimator_set_f64(e, AC_ESTIMATOR_PARAM_TARGET_SE, 0.5),
                     AC_E_STATE);
    ck_assert(get_f(e, AC_ESTIMATOR_PARAM_TARGET_SE) == 0.0);
    ck_assert_str_ne(ac_estimator_last_error(e), "");
}

START_TEST(params_frozen_after_first_ask)
{
    th_game *g = th_game_random_table(4, 3);
    ac_estimator *e = th_est(4, AC_METHOD_EXACT, 2048, 0);
    th_est_ends(e, g);
    uint64_t tickets[4], coal[4];
    uint32_t count = 0;
    th_ok(ac_estimator_ask(e, 4, tickets, coal, &count), e);
    ck_assert_uint_eq(count, 4);
    assert_frozen(e);
    /* known values too are given before the run only */
    uint64_t all = 0xF;
    ck_assert_int_eq(ac_estimator_set_value(e, &all, 1, 1.0), AC_E_STATE);

    th_ok(ac_estimator_reset(e, AC_RESET_SESSION), e);
    th_ok(ac_estimator_set_int(e, AC_ESTIMATOR_PARAM_BATCH, 3), e);
    ck_assert_int_eq(get_i(e, AC_ESTIMATOR_PARAM_BATCH), 3);
    ac_estimator_free(e);
    th_game_free(g);
}
END_TEST

START_TEST(params_frozen_after_run)
{
    th_game *g = th_game_random_table(4, 3);
    ac_estimator *e = th_est(4, AC_METHOD_EXACT, 2048, 0);
    th_oracle o;
    double phi[4];
    th_oracle_init(&o, g, 0);
    th_ok(th_run(e, &o, phi, NULL), e);
    assert_frozen(e);
    th_ok(ac_estimator_reset(e, AC_RESET_SESSION), e);
    th_ok(ac_estimator_set_int(e, AC_ESTIMATOR_PARAM_BUDGET, 100), e);
    ac_estimator_free(e);
    th_oracle_fini(&o);
    th_game_free(g);
}
END_TEST

START_TEST(audit_reports_budget_in_force)
{
    th_game *g = th_game_random_table(3, 1);
    ac_estimator *e = th_est(3, AC_METHOD_EXACT, 123, 0);
    th_oracle o;
    double phi[3];
    th_oracle_init(&o, g, 0);
    th_ok(th_run(e, &o, phi, NULL), e);
    ck_assert_int_eq(th_audit(e, AC_ESTIMATOR_AUDIT_BUDGET), 123);
    ck_assert_int_eq(th_audit(e, AC_ESTIMATOR_AUDIT_METHOD), AC_METHOD_EXACT);
    ac_estimator_free(e);
    th_game_free(g);
}
END_TEST

/* Reset of the session clears a cancellation. */
START_TEST(reset_session_clears_cancel)
{
    th_game *g = th_game_random_table(3, 2);
    ac_estimator *e = th_est(3, AC_METHOD_EXACT, 2048, 0);
    th_oracle o;
    double phi[3] = {7, 7, 7}, want[3];
    th_shapley_subsets(3, g->table, want);
    th_oracle_init(&o, g, 0);
    ac_estimator_cancel(e);
    ck_assert_int_eq(th_run(e, &o, phi, NULL), AC_E_CANCELLED);
    ck_assert_int_eq(th_audit(e, AC_ESTIMATOR_AUDIT_OUTCOME), AC_ESTIMATOR_OUTCOME_CANCELLED);
    th_ok(ac_estimator_reset(e, AC_RESET_SESSION), e);
    th_ok(th_run(e, &o, phi, NULL), e);
    th_assert_vec_near(phi, want, 3, 1e-12, "after cancel + reset");
    ac_estimator_free(e);
    th_game_free(g);
}
END_TEST

static Suite *params_suite(void)
{
    Suite *s = suite_create("params");
    TCase *tc = th_tcase(s, "values");
    tcase_add_test(tc, defaults);
    tcase_add_test(tc, bounds_queries);
    tcase_add_test(tc, round_trip_int);
    tcase_add_test(tc, round_trip_f64);
    tcase_add_test(tc, out_of_bound_int_unchanged);
    tcase_add_test(tc, out_of_bound_f64_unchanged);
    tcase_add_test(tc, unknown_param_unsupported);
    tcase_add_test(tc, wrong_type_invalid_arg);
    tc = th_tcase(s, "reset");
    tcase_add_test(tc, reset_params_restores_defaults);
    tcase_add_test(tc, reset_unknown_flag);
    tcase_add_test(tc, reset_known_forgets_values);
    tcase_add_loop_test(tc, reset_session_allows_new_run, 0, 3);
    tcase_add_test(tc, reset_session_clears_cancel);
    tc = th_tcase(s, "state");
    tcase_add_test(tc, params_frozen_after_first_ask);
    tcase_add_test(tc, params_frozen_after_run);
    tcase_add_test(tc, audit_reports_budget_in_force);
    return s;
}

int main(void)
{
    return th_run_suite(params_suite());
}
