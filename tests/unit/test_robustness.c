/* Robustness of the estimator's state machine and of its failure handling,
 * from a cold review: flaky oracles, late tells from a reset session,
 * cancelling a finished run, long coalitions in error messages, odd JSON
 * keys. */
#include "helpers.h"

/* A flaky oracle: fails each evaluation with probability p (seeded). */
typedef struct flaky {
    th_oracle inner;
    double p;
    th_rng rng;
    uint64_t failed;
} flaky;

static int flaky_fn(void *user, const uint64_t *coalitions, uint32_t words,
                    uint32_t count, double *values, int32_t *status)
{
    flaky *f = user;
    th_oracle_fn(&f->inner, coalitions, words, count, values, status);
    for (uint32_t k = 0; k < count; k++)
        if (th_rng_unif(&f->rng) < f->p) {
            status[k] = 7;
            f->failed++;
        }
    return 0;
}

START_TEST(flaky_sampled_runs_finish)
{
    /* 5% of evaluations fail, with the default 2 retries: a sampled
     * coalition past its retries is given up with its unit, and the run
     * still ends, conserving credit. Before, such a run ended in AC_E_ORACLE
     * nine times out of ten. */
    static const int64_t methods[] = {AC_METHOD_PERMUTATION,
                                      AC_METHOD_KERNELSHAP};
    th_game *g = th_game_soum(16, 32, 4, 99);
    double phi[16], se[16];
    for (int m = 0; m < 2; m++) {
        int64_t dropped = 0;
        for (int64_t seed = 0; seed < 20; seed++) {
            ac_estimator *e = th_est(16, methods[m], 4000, seed);
            th_est_ends(e, g);
            flaky f;
            th_oracle_init(&f.inner, g, 0);
            f.p = 0.05;
            f.rng = th_rng_make(1000 + (uint64_t)seed);
            f.failed = 0;
            th_ok(ac_estimator_set_oracle(e, flaky_fn, &f), e);
            th_ok(ac_estimator_run(e), e);
            th_ok(ac_estimator_result(e, phi, se, 16), e);
            th_assert_conserves(phi, 16, th_game_all(g), th_game_empty(g));
            ck_assert_int_eq(th_audit(e, AC_ESTIMATOR_AUDIT_FAILURES), (int64_t)f.failed);
            dropped += th_audit(e, AC_ESTIMATOR_AUDIT_DROPPED);
            ck_assert_int_le(th_audit(e, AC_ESTIMATOR_AUDIT_EVALUATIONS), 4000);
            ac_estimator_free(e);
        }
        ck_assert_msg(dropped > 0, "method %lld: nothing was ever dropped",
                      (long long)methods[m]);
    }
    th_game_free(g);
}
END_TEST

START_TEST(stale_ticket_refused_after_reset)
{
    th_game *g = th_game_additive(4, 3);
    ac_estimator *e = th_est(4, AC_METHOD_EXACT, 100, 0);
    th_est_ends(e, g);
    uint64_t old_ticket, ticket, c[1];
    uint32_t count = 0;
    th_ok(ac_estimator_ask(e, 1, &old_ticket, c, &count), e);
    ck_assert_uint_eq(count, 1);
    th_ok(ac_estimator_reset(e, AC_RESET_SESSION), e);
    th_ok(ac_estimator_ask(e, 1, &ticket, c, &count), e);
    double bogus = -999.0;
    ck_assert_int_eq(ac_estimator_tell(e, 1, &old_ticket, &bogus, NULL),
                     AC_E_INVALID_ARG);
    double v = th_game_value(g, c);
    th_ok(ac_estimator_tell(e, 1, &ticket, &v, NULL), e);
    ac_estimator_free(e);
    th_game_free(g);
}
END_TEST

START_TEST(cancel_after_done_keeps_result)
{
    th_game *g = th_game_additive(5, 4);
    ac_estimator *e = th_est(5, AC_METHOD_EXACT, 100, 0);
    th_oracle o;
    th_oracle_init(&o, g, 0);
    double phi[5], again[5];
    th_ok(th_run(e, &o, phi, NULL), e);
    ac_estimator_cancel(e);
    uint64_t t, c[1];
    uint32_t count = 7;
    th_ok(ac_estimator_ask(e, 1, &t, c, &count), e);
    ck_assert_uint_eq(count, 0);
    th_ok(ac_estimator_result(e, again, NULL, 5), e);
    ck_assert_mem_eq(phi, again, sizeof phi);
    ck_assert_int_eq(th_audit(e, AC_ESTIMATOR_AUDIT_OUTCOME), AC_ESTIMATOR_OUTCOME_COMPLETE);
    th_oracle_fini(&o);
    ac_estimator_free(e);
    th_game_free(g);
}
END_TEST

static int fail_all(void *user, const uint64_t *coalitions, uint32_t words,
                    uint32_t count, double *values, int32_t *status)
{
    (void)user, (void)coalitions, (void)words, (void)values;
    for (uint32_t k = 0; k < count; k++)
        status[k] = 3;
    return 0;
}

START_TEST(long_coalition_in_error_message)
{
    /* v(all) of 250 players fails for good: the message names a coalition
     * far longer than its buffer and must be cut, not overflow (ASan). */
    ac_estimator *e = th_est(250, AC_METHOD_PERMUTATION, 1000, 0);
    th_ok(ac_estimator_set_int(e, AC_ESTIMATOR_PARAM_MAX_RETRIES, 0), e);
    th_ok(ac_estimator_set_oracle(e, fail_all, NULL), e);
    ck_assert_int_eq(ac_estimator_run(e), AC_E_ORACLE);
    const char *msg = ac_estimator_last_error(e);
    ck_assert_msg(strstr(msg, "...") != NULL, "message not shortened: %s", msg);
    ac_estimator_free(e);
}
END_TEST

START_TEST(odd_json_keys_rejected)
{
    static const char *const bad[] = {
        "{\"n\":1,\"values\":[0,1],\"\":7}",
        "{\"n\":1,\"values\":[0,1],\"n type\":7}",
        "{\"n\":2,\"type\":\"terms\",\"values\":[0,1,2,3]}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ac_game *g = NULL;
        char err[256] = "";
        ck_assert_int_eq(ac_game_load_json(&g, bad[i], strlen(bad[i]), NULL,
                                           NULL, err, sizeof err),
                         AC_E_PARSE);
        ck_assert_ptr_null(g);
        ck_assert_msg(err[0] != '\0', "no message for %s", bad[i]);
    }
}
END_TEST

static Suite *robustness_suite(void)
{
    Suite *s = suite_create("robustness");
    TCase *tc = tcase_create("robustness");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, flaky_sampled_runs_finish);
    tcase_add_test(tc, stale_ticket_refused_after_reset);
    tcase_add_test(tc, cancel_after_done_keeps_result);
    tcase_add_test(tc, long_coalition_in_error_message);
    tcase_add_test(tc, odd_json_keys_rejected);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return th_run_suite(robustness_suite());
}
