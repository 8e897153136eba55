/* SPDX-License-Identifier: MIT
 *
 * Every error path of the public API: NULL handles and pointers, sizes,
 * invalid known values, a missing or failing oracle, retries, budgets,
 * cancellation, re-entrant calls, out-of-memory at every allocation, bad
 * JSON and unreadable files. Each failure must return its documented status,
 * leave outputs untouched, leave a message, and never crash or leak (the
 * suite also runs under ASan/UBSan).
 */
#include "helpers.h"

static const char *const kw_budget[] = {"budget", NULL};
static const char *const kw_oracle[] = {"oracle", NULL};
static const char *const kw_callback[] = {"callback", "oracle", "return",
                                          NULL};
static const char *const kw_failed[] = {"fail", "retr", "nan", "status",
                                        "finite", NULL};
static const char *const kw_cancel[] = {"cancel", NULL};

#define assert_names(e, kw)                                                  \
    ck_assert_msg(th_names(ac_estimator_last_error(e), (kw)),                \
                  "last_error \"%s\" does not name the problem",             \
                  ac_estimator_last_error(e))

static ac_estimator *fresh(uint32_t n)
{
    ac_estimator *e = NULL;
    ck_assert_int_eq(ac_estimator_create(&e, n, NULL), AC_OK);
    return e;
}

/* ===================================================================== */
/* NULL handles and pointers                                             */
/* ===================================================================== */

START_TEST(null_estimator_everywhere)
{
    ac_estimator *e = fresh(3);
    int64_t iv = 5, lo = 5, hi = 5;
    double fv = 5, flo = 5, fhi = 5, phi[3] = {5, 5, 5}, se[3];
    uint64_t c = 1, tk[2] = {0, 0}, co[2];
    uint32_t cnt = 5;
    int32_t done = 5;
    uint64_t outst = 5;

    ck_assert_int_eq(ac_estimator_create(NULL, 3, NULL), AC_E_INVALID_ARG);
    ac_estimator_free(NULL);
    ac_estimator_cancel(NULL);
    ck_assert_int_eq(ac_estimator_set_int(NULL, AC_ESTIMATOR_PARAM_BUDGET, 1),
                     AC_E_INVALID_ARG);
    ck_assert_int_eq(ac_estimator_get_int(NULL, AC_ESTIMATOR_PARAM_BUDGET, &iv),
                     AC_E_INVALID_ARG);
    ck_assert_int_eq(ac_estimator_get_int(e, AC_ESTIMATOR_PARAM_BUDGET, NULL),
                     AC_E_INVALID_ARG);
    ck_assert_int_eq(ac_estimator_set_f64(NULL, AC_ESTIMATOR_PARAM_TARGET_SE, 1),
                     AC_E_INVALID_ARG);
    ck_assert_int_eq(ac_estimator_get_f64(NULL, AC_ESTIMATOR_PARAM_TARGET_SE, &fv),
                     AC_E_INVALID_ARG);
    ck_assert_int_eq(ac_estimator_get_f64(e, AC_ESTIMATOR_PARAM_TARGET_SE, NULL),
                     AC_E_INVALID_ARG);
    ck_assert_int_eq(ac_estimator_param_bounds_int(AC_ESTIMATOR_PARAM_BUDGET, NULL, &hi),
                     AC_E_INVALID_ARG);
    ck_assert_int_eq(ac_estimator_param_bounds_int(AC_ESTIMATOR_PARAM_BUDGET, &lo, NULL),
                     AC_E_INVALID_ARG);
    ck_assert_int_eq(
        ac_estimator_param_bounds_f64(AC_ESTIMATOR_PARAM_TARGET_SE, NULL, &fhi),
        AC_E_INVALID_ARG);
    ck_assert_int_eq(
        ac_estimator_param_bounds_f64(AC_ESTIMATOR_PARAM_TARGET_SE, &flo, NULL),
        AC_E_INVALID_ARG);
    ck_assert_int_eq(ac_estimator_reset(NULL, AC_RESET_ALL), AC_E_INVALID_ARG);
    ck_assert_int_eq(ac_estimator_set_value(NULL, &c, 1, 1.0),
                     AC_E_INVALID_ARG);
    ck_assert_int_eq(ac_estimator_set_value(e, NULL, 1, 1.0),
                     AC_E_INVALID_ARG);
    ck_assert_int_eq(ac_estimator_set_oracle(NULL, th_oracle_fn, NULL),
                     AC_E_INVALID_ARG);
    ck_assert_int_eq(ac_estimator_run(NULL), AC_E_INVALID_ARG);
    ck_assert_int_eq(ac_estimator_ask(NULL, 2, tk, co, &cnt),
                     AC_E_INVALID_ARG);
    ck_assert_int_eq(ac_estimator_ask(e, 2, NULL, co, &cnt), AC_E_INVALID_ARG);
    ck_assert_int_eq(ac_estimator_ask(e, 2, tk, NULL, &cnt), AC_E_INVALID_ARG);
    ck_assert_int_eq(ac_estimator_ask(e, 2, tk, co, NULL), AC_E_INVALID_ARG);
    ck_assert_int_eq(ac_estimator_tell(NULL, 1, tk, phi, NULL),
                     AC_E_INVALID_ARG);
    ck_assert_int_eq(ac_estimator_tell(e, 1, NULL, phi, NULL),
                     AC_E_INVALID_ARG);
    ck_assert_int_eq(ac_estimator_tell(e, 1, tk, NULL, NULL),
                     AC_E_INVALID_ARG);
    ck_assert_int_eq(ac_estimator_progress(NULL, &done, &outst),
                     AC_E_INVALID_ARG);
    ck_assert_int_eq(ac_estimator_progress(e, NULL, NULL), AC_OK);
    ck_assert_int_eq(ac_estimator_result(NULL, phi, se, 3), AC_E_INVALID_ARG);
    ck_assert_int_eq(ac_estimator_audit(NULL, AC_ESTIMATOR_AUDIT_EVALUATIONS, &iv),
                     AC_E_INVALID_ARG);
    ck_assert_int_eq(ac_estimator_audit(e, AC_ESTIMATOR_AUDIT_EVALUATIONS, NULL),
                     AC_E_INVALID_ARG);
    ck_assert_ptr_nonnull(ac_estimator_last_error(NULL));
    /* outputs untouched */
    ck_assert(iv == 5 && lo == 5 && hi == 5 && fv == 5 && flo == 5);
    ck_assert(cnt == 5 && done == 5 && outst == 5 && phi[0] == 5);
    /* the handle still works */
    ck_assert_int_eq(ac_estimator_get_int(e, AC_ESTIMATOR_PARAM_BUDGET, &iv), AC_OK);
    ck_assert_int_eq(iv, 2048);
    ac_estimator_free(e);
}
END_TEST

START_TEST(null_game_everywhere)
{
    static const char json[] = "{\"n\": 2, \"values\": [0, 1, 2, 4]}";
    ac_game *g = NULL;
    uint32_t n = 9;
    uint64_t c = 1;
    double v = 9, phi[2] = {9, 9};
    char err[64] = "x";
    ck_assert_int_eq(ac_game_load_json(NULL, json, strlen(json), NULL, NULL,
                                       NULL, 0),
                     AC_E_INVALID_ARG);
    ck_assert_int_eq(ac_game_load_json(&g, NULL, 10, NULL, NULL, err,
                                       sizeof err),
                     AC_E_INVALID_ARG);
    ck_assert_ptr_null(g);
    ck_assert_int_eq(ac_game_load_file(NULL, "x.json", NULL, NULL, NULL, 0),
                     AC_E_INVALID_ARG);
    ck_assert_int_eq(ac_game_load_file(&g, NULL, NULL, NULL, NULL, 0),
                     AC_E_INVALID_ARG);
    ck_assert_ptr_null(g);
    ac_game_free(NULL);
    ck_assert_ptr_nonnull(ac_game_last_error(NULL));
    ck_assert_str_eq(ac_game_last_error(NULL), "");
    ck_assert_int_eq(ac_game_players(NULL, &n), AC_E_INVALID_ARG);
    ck_assert_int_eq(ac_game_value(NULL, &c, 1, &v), AC_E_INVALID_ARG);
    ck_assert_int_eq(ac_game_seed(NULL, 1), AC_E_INVALID_ARG);
    ck_assert_int_eq(ac_game_exact(NULL, phi, 2), AC_E_INVALID_ARG);
    /* as an oracle, a NULL game aborts the run rather than crash */
    double vals[1];
    int32_t st[1];
    ck_assert_int_ne(ac_game_oracle(NULL, &c, 1, 1, vals, st), 0);

    ck_assert_int_eq(ac_game_load_json(&g, json, strlen(json), NULL, NULL,
                                       NULL, 0),
                     AC_OK);
    ck_assert_int_eq(ac_game_players(g, NULL), AC_E_INVALID_ARG);
    ck_assert_int_eq(ac_game_value(g, NULL, 1, &v), AC_E_INVALID_ARG);
    ck_assert_int_eq(ac_game_value(g, &c, 1, NULL), AC_E_INVALID_ARG);
    ck_assert_int_eq(ac_game_exact(g, NULL, 2), AC_E_INVALID_ARG);
    /* wrong size, wrong words, bits beyond n */
    ck_assert_int_eq(ac_game_exact(g, phi, 3), AC_E_INVALID_ARG);
    ck_assert_int_eq(ac_game_value(g, &c, 2, &v), AC_E_INVALID_ARG);
    ck_assert_int_eq(ac_game_value(g, &c, 0, &v), AC_E_INVALID_ARG);
    c = 4;
    ck_assert_int_eq(ac_game_value(g, &c, 1, &v), AC_E_INVALID_ARG);
    ck_assert(n == 9 && v == 9 && phi[0] == 9);
    ac_game_free(g);
}
END_TEST

START_TEST(create_sizes)
{
    ac_estimator *sentinel = (ac_estimator *)&create_sizes;
    ac_estimator *e = sentinel;
    ck_assert_int_eq(ac_estimator_create(&e, 0, NULL), AC_E_INVALID_ARG);
    ck_assert_ptr_eq(e, sentinel);
    ck_assert_int_eq(ac_estimator_create(&e, AC_MAX_PLAYERS + 1u, NULL),
                     AC_E_TOO_LARGE);
    ck_assert_int_eq(ac_estimator_create(&e, UINT32_MAX, NULL),
                     AC_E_TOO_LARGE);
    ck_assert_ptr_eq(e, sentinel);
    /* the largest size is accepted (and costs nothing until it runs) */
    ck_assert_int_eq(ac_estimator_create(&e, AC_MAX_PLAYERS, NULL), AC_OK);
    ck_assert_ptr_ne(e, sentinel);
    ac_estimator_free(e);
}
END_TEST

/* A plain malloc/free allocator for the struct checks. */
static void *plain_alloc(void *opaque, size_t size)
{
    (void)opaque;
    return malloc(size ? size : 1);
}

static void plain_free(void *opaque, void *ptr)
{
    (void)opaque;
    free(ptr);
}

START_TEST(allocator_struct_checked)
{
    ac_allocator a = {sizeof(ac_allocator), 0, plain_alloc, plain_free, NULL};
    ac_estimator *e = NULL;
    a.struct_size = sizeof(ac_allocator) - 1;
    ck_assert_int_eq(ac_estimator_create(&e, 3, &a), AC_E_INVALID_ARG);
    a.struct_size = 0;
    ck_assert_int_eq(ac_estimator_create(&e, 3, &a), AC_E_INVALID_ARG);
    a.struct_size = sizeof(ac_allocator);
    a.reserved = 1;
    ck_assert_int_eq(ac_estimator_create(&e, 3, &a), AC_E_INVALID_ARG);
    a.reserved = 0;
    a.free = NULL;
    ck_assert_int_eq(ac_estimator_create(&e, 3, &a), AC_E_INVALID_ARG);
    ck_assert_ptr_null(e);
    a.free = plain_free;
    a.alloc = NULL;
    ck_assert_int_eq(ac_estimator_create(&e, 3, &a), AC_E_INVALID_ARG);
    ck_assert_ptr_null(e);
    /* the game loader checks the same */
    static const char json[] = "{\"n\": 1, \"values\": [0, 1]}";
    ac_game *g = NULL;
    ck_assert_int_eq(ac_game_load_json(&g, json, strlen(json), &a, NULL, NULL,
                                       0),
                     AC_E_INVALID_ARG);
    a.alloc = plain_alloc;
    a.reserved = 3;
    ck_assert_int_eq(ac_game_load_json(&g, json, strlen(json), &a, NULL, NULL,
                                       0),
                     AC_E_INVALID_ARG);
    ck_assert_ptr_null(g);
    /* and a good one works for both */
    a.reserved = 0;
    ck_assert_int_eq(ac_estimator_create(&e, 3, &a), AC_OK);
    ac_estimator_free(e);
    ck_assert_int_eq(ac_game_load_json(&g, json, strlen(json), &a, NULL, NULL,
                                       0),
                     AC_OK);
    ac_game_free(g);
}
END_TEST

/* ===================================================================== */
/* Known values                                                          */
/* ===================================================================== */

START_TEST(set_value_invalid)
{
    /* n = 3 (one word) and n = 65 (two words, the second with one bit) */
    ac_estimator *e = fresh(3);
    uint64_t c[2] = {1, 0};
    ck_assert_int_eq(ac_estimator_set_value(e, c, 1, NAN), AC_E_INVALID_ARG);
    ck_assert_str_ne(ac_estimator_last_error(e), "");
    ck_assert_int_eq(ac_estimator_set_value(e, c, 1, INFINITY),
                     AC_E_INVALID_ARG);
    ck_assert_int_eq(ac_estimator_set_value(e, c, 1, -INFINITY),
                     AC_E_INVALID_ARG);
    ck_assert_int_eq(ac_estimator_set_value(e, c, 2, 1.0), AC_E_INVALID_ARG);
    ck_assert_int_eq(ac_estimator_set_value(e, c, 0, 1.0), AC_E_INVALID_ARG);
    c[0] = 0x8; /* player 3 of 3 */
    ck_assert_int_eq(ac_estimator_set_value(e, c, 1, 1.0), AC_E_INVALID_ARG);
    c[0] = (uint64_t)1 << 63;
    ck_assert_int_eq(ac_estimator_set_value(e, c, 1, 1.0), AC_E_INVALID_ARG);

    /* none of them was stored: an exact run evaluates all 8 coalitions and
     * the result is that of the game */
    th_game *g = th_game_random_table(3, 5);
    th_oracle o;
    double phi[3], want[3];
    th_shapley_subsets(3, g->table, want);
    th_oracle_init(&o, g, 1);
    th_ok(ac_estimator_set_int(e, AC_ESTIMATOR_PARAM_METHOD, AC_METHOD_EXACT), e);
    th_ok(th_run(e, &o, phi, NULL), e);
    ck_assert_int_eq(th_audit(e, AC_ESTIMATOR_AUDIT_KNOWN), 0);
    ck_assert_uint_eq(o.evals, 8);
    th_assert_vec_near(phi, want, 3, 1e-12, "after rejected set_value");
    th_oracle_fini(&o);
    th_game_free(g);
    ac_estimator_free(e);

    e = fresh(65);
    c[0] = 0;
    c[1] = 1; /* player 64: fine */
    th_ok(ac_estimator_set_value(e, c, 2, 1.0), e);
    c[1] = 2; /* player 65 of 65 */
    ck_assert_int_eq(ac_estimator_set_value(e, c, 2, 1.0), AC_E_INVALID_ARG);
    ck_assert_int_eq(ac_estimator_set_value(e, c, 1, 1.0), AC_E_INVALID_ARG);
    ac_estimator_free(e);
}
END_TEST

START_TEST(result_wrong_n)
{
    th_game *g = th_game_random_table(3, 6);
    ac_estimator *e = th_est(3, AC_METHOD_EXACT, 100, 0);
    th_oracle o;
    double phi[4] = {9, 9, 9, 9};
    th_oracle_init(&o, g, 0);
    th_ok(th_run(e, &o, phi, NULL), e);
    phi[0] = 9;
    ck_assert_int_eq(ac_estimator_result(e, phi, NULL, 2), AC_E_INVALID_ARG);
    ck_assert_int_eq(ac_estimator_result(e, phi, NULL, 4), AC_E_INVALID_ARG);
    ck_assert_int_eq(ac_estimator_result(e, NULL, NULL, 3), AC_E_INVALID_ARG);
    ck_assert(phi[0] == 9);
    /* an unknown audit key is refused, the output untouched */
    int64_t v = 77;
    int rc = ac_estimator_audit(e, (ac_estimator_audit_key)999, &v);
    ck_assert_msg(rc == AC_E_INVALID_ARG || rc == AC_E_PARAM_UNSUPPORTED,
                  "audit(999) returned %d", rc);
    rc = ac_estimator_audit(e, (ac_estimator_audit_key)0, &v);
    ck_assert_msg(rc == AC_E_INVALID_ARG || rc == AC_E_PARAM_UNSUPPORTED,
                  "audit(0) returned %d", rc);
    ck_assert_int_eq(v, 77);
    ac_estimator_free(e);
    th_game_free(g);
}
END_TEST

START_TEST(last_error_empty_when_fresh)
{
    ac_estimator *e = fresh(4);
    ck_assert_ptr_nonnull(ac_estimator_last_error(e));
    ck_assert_str_eq(ac_estimator_last_error(e), "");
    ac_estimator_free(e);
}
END_TEST

/* ===================================================================== */
/* Oracle problems                                                       */
/* ===================================================================== */

START_TEST(run_without_oracle)
{
    ac_estimator *e = fresh(4);
    ck_assert_int_eq(ac_estimator_run(e), AC_E_STATE);
    assert_names(e, kw_oracle);
    /* registering and unregistering again: still none */
    th_game *g = th_game_random_table(4, 1);
    th_oracle o;
    th_oracle_init(&o, g, 0);
    th_ok(ac_estimator_set_oracle(e, th_oracle_fn, &o), e);
    th_ok(ac_estimator_set_oracle(e, NULL, NULL), e);
    ck_assert_int_eq(ac_estimator_run(e), AC_E_STATE);
    ck_assert_uint_eq(o.calls, 0);
    /* the refusal did not start a run: the oracle can still be set and the
     * run succeeds */
    th_ok(ac_estimator_set_oracle(e, th_oracle_fn, &o), e);
    th_ok(ac_estimator_run(e), e);
    ac_estimator_free(e);
    th_game_free(g);
}
END_TEST

/* A scripted oracle over a th_game (n <= 10): per coalition, how many of
 * the first attempts fail and how. */
typedef struct script {
    const th_game *g;
    int fail_first[1024]; /* attempts of S that fail before one succeeds */
    int kind[1024];       /* 0 NaN, 1 +inf, 2 -inf, 3 status with 1e300 */
    int attempts[1024];
    int calls, return_code, return_on_call;
    ac_estimator *cancel_est;
    int cancel_on_call;
    uint64_t failed;
} script;

static int script_oracle(void *user, const uint64_t *coalitions,
                         uint32_t words, uint32_t count, double *values,
                         int32_t *status)
{
    script *s = user;
    s->calls++;
    for (uint32_t k = 0; k < count; k++) {
        /* the library pre-fills NaN and 0 */
        ck_assert(isnan(values[k]) && status[k] == 0);
        uint64_t S = coalitions[(size_t)k * words];
        int a = s->attempts[S]++;
        values[k] = th_game_value_mask(s->g, S);
        if (a < s->fail_first[S]) {
            s->failed++;
            switch (s->kind[S]) {
            case 0:
                values[k] = NAN;
                break;
            case 1:
                values[k] = INFINITY;
                break;
            case 2:
                values[k] = -INFINITY;
                break;
            default:
                values[k] = 1e300; /* must never be read */
                status[k] = -7;
                break;
            }
        }
    }
    if (s->cancel_est && s->calls == s->cancel_on_call)
        ac_estimator_cancel(s->cancel_est);
    if (s->return_on_call && s->calls == s->return_on_call)
        return s->return_code;
    return 0;
}

static void script_init(script *s, const th_game *g)
{
    memset(s, 0, sizeof *s);
    s->g = g;
}

START_TEST(oracle_nonzero_return)
{
    th_game *g = th_game_random_table(6, 2);
    ac_estimator *e = th_est(6, AC_METHOD_EXACT, 2048, 0);
    script s;
    double phi[6] = {5, 5, 5, 5, 5, 5};
    script_init(&s, g);
    s.return_on_call = 2;
    s.return_code = 42;
    th_ok(ac_estimator_set_int(e, AC_ESTIMATOR_PARAM_BATCH, 8), e);
    th_ok(ac_estimator_set_oracle(e, script_oracle, &s), e);
    ck_assert_int_eq(ac_estimator_run(e), AC_E_CALLBACK);
    ck_assert_int_eq(s.calls, 2); /* never called again */
    assert_names(e, kw_callback);
    ck_assert_int_eq(th_audit(e, AC_ESTIMATOR_AUDIT_OUTCOME), AC_ESTIMATOR_OUTCOME_ERROR);
    int32_t done = 0;
    th_ok(ac_estimator_progress(e, &done, NULL), e);
    ck_assert_int_eq(done, 1);
    ck_assert_int_ne(ac_estimator_result(e, phi, NULL, 6), AC_OK);
    ck_assert(phi[0] == 5);
    /* negative return codes too */
    th_ok(ac_estimator_reset(e, AC_RESET_SESSION), e);
    script_init(&s, g);
    s.return_on_call = 1;
    s.return_code = -1;
    ck_assert_int_eq(ac_estimator_run(e), AC_E_CALLBACK);
    ck_assert_int_eq(s.calls, 1);
    ac_estimator_free(e);
    th_game_free(g);
}
END_TEST

START_TEST(oracle_fails_sometimes)
{
    /* Exact, n = 5, ends known: the 10 coalitions of size 2 fail their first
     * attempt (NaN, +inf, -inf, or status with 1e300), and one of size 3
     * fails twice. All are retried (MAX_RETRIES 2) and the result is the
     * exact one: no failed value was read. */
    th_game *g = th_game_random_table(5, 3);
    ac_estimator *e = th_est(5, AC_METHOD_EXACT, 2048, 0);
    script s;
    double phi[5], want[5];
    int expected = 0;
    th_shapley_subsets(5, g->table, want);
    script_init(&s, g);
    for (uint64_t S = 0; S < 32; S++) {
        if (th_popcount64(S) == 2) {
            s.fail_first[S] = 1;
            s.kind[S] = (int)(S % 4);
            expected++;
        }
    }
    s.fail_first[0x7] = 2;
    s.kind[0x7] = 3;
    expected += 2;
    th_est_ends(e, g);
    th_ok(ac_estimator_set_oracle(e, script_oracle, &s), e);
    th_ok(ac_estimator_run(e), e);
    th_ok(ac_estimator_result(e, phi, NULL, 5), e);
    th_assert_vec_near(phi, want, 5, 1e-12, "with retried failures");
    ck_assert_int_eq(th_audit(e, AC_ESTIMATOR_AUDIT_FAILURES), expected);
    ck_assert_int_eq(th_audit(e, AC_ESTIMATOR_AUDIT_RETRIES), expected);
    ck_assert_int_eq(th_audit(e, AC_ESTIMATOR_AUDIT_EVALUATIONS), 30 + expected);
    ck_assert_int_eq(th_audit(e, AC_ESTIMATOR_AUDIT_COALITIONS), 30);
    ck_assert_int_eq(th_audit(e, AC_ESTIMATOR_AUDIT_OUTCOME), AC_ESTIMATOR_OUTCOME_COMPLETE);
    ck_assert_int_eq(s.attempts[0x7], 3);
    ac_estimator_free(e);
    th_game_free(g);
}
END_TEST

START_TEST(oracle_fails_sometimes_sampled)
{
    /* The same for the sampled methods: budget and conservation hold. */
    static const int64_t methods[] = {AC_METHOD_PERMUTATION,
                                      AC_METHOD_KERNELSHAP};
    th_game *g = th_game_random_table(9, 4);
    ac_estimator *e = th_est(9, methods[_i], 200, 1);
    script s;
    double phi[9];
    script_init(&s, g);
    for (uint64_t S = 0; S < 512; S++) {
        s.fail_first[S] = S % 5 == 0;
        s.kind[S] = (int)(S % 4);
    }
    th_est_ends(e, g);
    th_ok(ac_estimator_set_oracle(e, script_oracle, &s), e);
    th_ok(ac_estimator_run(e), e);
    th_ok(ac_estimator_result(e, phi, NULL, 9), e);
    th_assert_conserves(phi, 9, g->table[511], g->table[0]);
    for (uint32_t i = 0; i < 9; i++)
        ck_assert(isfinite(phi[i]) && fabs(phi[i]) < 100);
    int64_t ev = th_audit(e, AC_ESTIMATOR_AUDIT_EVALUATIONS), attempts = 0;
    for (int S = 0; S < 512; S++)
        attempts += s.attempts[S];
    ck_assert_int_le(ev, 200);
    ck_assert_int_eq(ev, attempts);
    ck_assert_int_gt(th_audit(e, AC_ESTIMATOR_AUDIT_FAILURES), 0);
    ck_assert_int_eq(th_audit(e, AC_ESTIMATOR_AUDIT_FAILURES), (int64_t)s.failed);
    ck_assert_int_le(th_audit(e, AC_ESTIMATOR_AUDIT_RETRIES), (int64_t)s.failed);
    ac_estimator_free(e);
    th_game_free(g);
}
END_TEST

START_TEST(oracle_fails_always)
{
    /* Coalition {0, 1} never evaluates: after 1 + MAX_RETRIES attempts the
     * run stops with AC_E_ORACLE; each failure kind, retries 0 and 3. */
    int kind = _i % 4;
    int64_t retries = _i < 4 ? 0 : 3;
    th_game *g = th_game_random_table(4, 5);
    ac_estimator *e = th_est(4, AC_METHOD_EXACT, 2048, 0);
    script s;
    double phi[4] = {5, 5, 5, 5};
    script_init(&s, g);
    s.fail_first[0x3] = 1000000;
    s.kind[0x3] = kind;
    th_est_ends(e, g);
    th_ok(ac_estimator_set_int(e, AC_ESTIMATOR_PARAM_MAX_RETRIES, retries), e);
    th_ok(ac_estimator_set_oracle(e, script_oracle, &s), e);
    ck_assert_int_eq(ac_estimator_run(e), AC_E_ORACLE);
    ck_assert_int_eq(s.attempts[0x3], 1 + retries);
    assert_names(e, kw_failed);
    ck_assert_int_eq(th_audit(e, AC_ESTIMATOR_AUDIT_OUTCOME), AC_ESTIMATOR_OUTCOME_ERROR);
    ck_assert_int_eq(th_audit(e, AC_ESTIMATOR_AUDIT_FAILURES), 1 + retries);
    ck_assert_int_eq(th_audit(e, AC_ESTIMATOR_AUDIT_RETRIES), retries);
    ck_assert_int_ne(ac_estimator_result(e, phi, NULL, 4), AC_OK);
    ck_assert(phi[0] == 5);
    ac_estimator_free(e);
    th_game_free(g);
}
END_TEST

/* ===================================================================== */
/* Budget                                                                */
/* ===================================================================== */

START_TEST(budget_zero_with_unknowns)
{
    static const int64_t methods[] = {AC_METHOD_EXACT, AC_METHOD_PERMUTATION,
                                      AC_METHOD_KERNELSHAP, AC_METHOD_AUTO};
    th_game *g = th_game_random_table(5, 6);
    ac_estimator *e = th_est(5, methods[_i], 0, 0);
    th_oracle o;
    double phi[5];
    th_est_ends(e, g);
    th_oracle_init(&o, g, 0);
    ck_assert_int_eq(th_run(e, &o, phi, NULL), AC_E_BUDGET);
    ck_assert_uint_eq(o.calls, 0);
    assert_names(e, kw_budget);
    ck_assert_int_eq(th_audit(e, AC_ESTIMATOR_AUDIT_EVALUATIONS), 0);
    /* ask/tell the same: the first ask reports it */
    th_ok(ac_estimator_reset(e, AC_RESET_SESSION), e);
    uint64_t tk[4], co[4];
    uint32_t cnt = 9;
    ck_assert_int_eq(ac_estimator_ask(e, 4, tk, co, &cnt), AC_E_BUDGET);
    ac_estimator_free(e);
    th_game_free(g);
}
END_TEST

START_TEST(budget_exhausted_by_retries)
{
    /* 6 unknown coalitions, each failing once: 12 evaluations needed, a
     * budget of 8 affords them up front but not with the retries. */
    th_game *g = th_game_random_table(3, 7);
    ac_estimator *e = th_est(3, AC_METHOD_EXACT, 8, 0);
    script s;
    double phi[3] = {5, 5, 5};
    script_init(&s, g);
    for (uint64_t S = 1; S < 7; S++)
        s.fail_first[S] = 1;
    th_est_ends(e, g);
    th_ok(ac_estimator_set_oracle(e, script_oracle, &s), e);
    ck_assert_int_eq(ac_estimator_run(e), AC_E_BUDGET);
    assert_names(e, kw_budget);
    int total = 0;
    for (int S = 0; S < 8; S++)
        total += s.attempts[S];
    ck_assert_int_le(total, 8);
    ck_assert_int_le(th_audit(e, AC_ESTIMATOR_AUDIT_EVALUATIONS), 8);
    ck_assert_int_eq(th_audit(e, AC_ESTIMATOR_AUDIT_EVALUATIONS), total);
    ck_assert_int_eq(th_audit(e, AC_ESTIMATOR_AUDIT_OUTCOME), AC_ESTIMATOR_OUTCOME_ERROR);
    ck_assert_int_ne(ac_estimator_result(e, phi, NULL, 3), AC_OK);
    ck_assert(phi[0] == 5);
    ac_estimator_free(e);
    th_game_free(g);
}
END_TEST

START_TEST(exact_beyond_limit)
{
    /* The exact method cannot serve n = 40 (beyond AC_EXACT_MAX_PLAYERS):
     * the run refuses without calling the oracle. */
    th_game *g = th_game_additive(40, 1);
    ac_estimator *e = fresh(40);
    th_oracle o;
    double phi[40];
    th_oracle_init(&o, g, 0);
    th_ok(ac_estimator_set_int(e, AC_ESTIMATOR_PARAM_BUDGET, (int64_t)1 << 40), e);
    int rc = ac_estimator_set_int(e, AC_ESTIMATOR_PARAM_METHOD, AC_METHOD_EXACT);
    if (rc != AC_OK) {
        /* refused up front: acceptable, as long as it is refused */
        int64_t m = -1;
        ck_assert_int_lt(rc, 0);
        th_ok(ac_estimator_get_int(e, AC_ESTIMATOR_PARAM_METHOD, &m), e);
        ck_assert_int_eq(m, AC_METHOD_AUTO);
        ac_estimator_free(e);
        th_game_free(g);
        return;
    }
    rc = th_run(e, &o, phi, NULL);
    ck_assert_msg(rc == AC_E_TOO_LARGE || rc == AC_E_BUDGET,
                  "exact at n = 40 returned %d (%s)", rc, ac_status_name(rc));
    ck_assert_uint_eq(o.calls, 0);
    ck_assert_str_ne(ac_estimator_last_error(e), "");
    ac_estimator_free(e);
    th_game_free(g);
}
END_TEST

/* ===================================================================== */
/* Cancel and re-entrancy                                                */
/* ===================================================================== */

START_TEST(cancel_before_run)
{
    th_game *g = th_game_random_table(4, 8);
    ac_estimator *e = th_est(4, AC_METHOD_EXACT, 2048, 0);
    th_oracle o;
    double phi[4];
    th_oracle_init(&o, g, 0);
    ac_estimator_cancel(e);
    ck_assert_int_eq(th_run(e, &o, phi, NULL), AC_E_CANCELLED);
    ck_assert_uint_eq(o.calls, 0);
    assert_names(e, kw_cancel);
    ck_assert_int_eq(th_audit(e, AC_ESTIMATOR_AUDIT_OUTCOME), AC_ESTIMATOR_OUTCOME_CANCELLED);
    /* ask/tell: the next ask reports it */
    th_ok(ac_estimator_reset(e, AC_RESET_SESSION), e);
    ac_estimator_cancel(e);
    uint64_t tk[4], co[4];
    uint32_t cnt = 9;
    ck_assert_int_eq(ac_estimator_ask(e, 4, tk, co, &cnt), AC_E_CANCELLED);
    ac_estimator_free(e);
    th_game_free(g);
}
END_TEST

START_TEST(cancel_inside_oracle)
{
    static const int64_t methods[] = {AC_METHOD_EXACT, AC_METHOD_PERMUTATION,
                                      AC_METHOD_KERNELSHAP};
    th_game *g = th_game_random_table(8, 9);
    ac_estimator *e = th_est(8, methods[_i], 200, 0);
    script s;
    double phi[8] = {5, 5, 5, 5, 5, 5, 5, 5};
    script_init(&s, g);
    s.cancel_est = e;
    s.cancel_on_call = 3;
    th_est_ends(e, g);
    th_ok(ac_estimator_set_int(e, AC_ESTIMATOR_PARAM_BUDGET, 1000), e);
    th_ok(ac_estimator_set_int(e, AC_ESTIMATOR_PARAM_BATCH, 4), e);
    th_ok(ac_estimator_set_oracle(e, script_oracle, &s), e);
    ck_assert_int_eq(ac_estimator_run(e), AC_E_CANCELLED);
    ck_assert_int_eq(s.calls, 3); /* stopped between oracle calls */
    ck_assert_int_eq(th_audit(e, AC_ESTIMATOR_AUDIT_OUTCOME), AC_ESTIMATOR_OUTCOME_CANCELLED);
    assert_names(e, kw_cancel);
    ck_assert_int_ne(ac_estimator_result(e, phi, NULL, 8), AC_OK);
    ck_assert(phi[0] == 5);
    ac_estimator_free(e);
    th_game_free(g);
}
END_TEST

/* Calls every handle function from inside the oracle. */
typedef struct reenter {
    const th_game *g;
    ac_estimator *e;
    int calls;
    int rc[10];
} reenter;

static int reenter_oracle(void *user, const uint64_t *coalitions,
                          uint32_t words, uint32_t count, double *values,
                          int32_t *status)
{
    reenter *r = user;
    if (r->calls++ == 0) {
        uint64_t tk[2] = {0, 1}, co[2] = {0, 0}, c = 1;
        uint32_t cnt = 0;
        double v[2] = {0, 0}, phi[16];
        r->rc[0] = ac_estimator_run(r->e);
        r->rc[1] = ac_estimator_ask(r->e, 2, tk, co, &cnt);
        r->rc[2] = ac_estimator_tell(r->e, 1, tk, v, NULL);
        r->rc[3] = ac_estimator_set_int(r->e, AC_ESTIMATOR_PARAM_BUDGET, 10);
        r->rc[4] = ac_estimator_set_f64(r->e, AC_ESTIMATOR_PARAM_TARGET_SE, 0.5);
        r->rc[5] = ac_estimator_set_value(r->e, &c, 1, 1.0);
        r->rc[6] = ac_estimator_set_oracle(r->e, NULL, NULL);
        r->rc[7] = ac_estimator_reset(r->e, AC_RESET_ALL);
        r->rc[8] = ac_estimator_result(r->e, phi, NULL, r->g->n);
        /* audit is valid during a run */
        int64_t ev = -1;
        r->rc[9] = ac_estimator_audit(r->e, AC_ESTIMATOR_AUDIT_EVALUATIONS, &ev);
    }
    for (uint32_t k = 0; k < count; k++) {
        values[k] = th_game_value(r->g, coalitions + (size_t)k * words);
        status[k] = 0;
    }
    return 0;
}

START_TEST(reentrant_calls_busy)
{
    static const char *const names[] = {
        "run", "ask", "tell", "set_int", "set_f64", "set_value",
        "set_oracle", "reset", "result"};
    th_game *g = th_game_random_table(5, 10);
    ac_estimator *e = th_est(5, AC_METHOD_EXACT, 2048, 0);
    reenter r;
    double phi[5], want[5];
    memset(&r, 0, sizeof r);
    r.g = g;
    r.e = e;
    th_shapley_subsets(5, g->table, want);
    th_ok(ac_estimator_set_int(e, AC_ESTIMATOR_PARAM_BATCH, 4), e);
    th_ok(ac_estimator_set_oracle(e, reenter_oracle, &r), e);
    th_ok(ac_estimator_run(e), e);
    for (int k = 0; k < 8; k++)
        ck_assert_msg(r.rc[k] == AC_E_BUSY, "%s inside the oracle: %d (%s)",
                      names[k], r.rc[k], ac_status_name(r.rc[k]));
    ck_assert_msg(r.rc[8] == AC_E_BUSY || r.rc[8] == AC_E_STATE,
                  "result inside the oracle: %d", r.rc[8]);
    ck_assert_int_eq(r.rc[9], AC_OK);
    /* nothing of it took effect: the run completed on its settings */
    ck_assert_int_gt(r.calls, 1);
    th_ok(ac_estimator_result(e, phi, NULL, 5), e);
    th_assert_vec_near(phi, want, 5, 1e-12, "after re-entrant calls");
    ck_assert_int_eq(th_audit(e, AC_ESTIMATOR_AUDIT_BUDGET), 2048);
    ck_assert_int_eq(th_audit(e, AC_ESTIMATOR_AUDIT_EVALUATIONS), 32);
    ac_estimator_free(e);
    th_game_free(g);
}
END_TEST

/* ===================================================================== */
/* Out of memory at every allocation                                     */
/* ===================================================================== */


/* One full estimation under the allocator; returns 1 when it went through
 * without an injected failure. Every step either succeeds or reports
 * AC_E_NO_MEMORY, and nothing leaks. */
static int oom_attempt(long fail_at, int64_t method, const th_game *g)
{
    th_fail_alloc f = {0, fail_at, 0, 0};
    ac_allocator a = {sizeof(ac_allocator), 0, th_fa_alloc, th_fa_free, &f};
    ac_estimator *sentinel = (ac_estimator *)&f, *e = sentinel;
    uint32_t n = g->n;
    double phi[16], se[16], want[16];
    th_oracle o;
    int rc = ac_estimator_create(&e, n, &a);
    if (rc != AC_OK) {
        ck_assert_msg(rc == AC_E_NO_MEMORY, "create at %ld: %d", fail_at, rc);
        ck_assert_ptr_eq(e, sentinel);
        ck_assert_int_eq(f.live, 0);
        return 0;
    }
    th_oracle_init(&o, g, 0);
    rc = ac_estimator_set_int(e, AC_ESTIMATOR_PARAM_METHOD, method);
    if (rc == AC_OK)
        rc = ac_estimator_set_int(e, AC_ESTIMATOR_PARAM_BUDGET, 300);
    if (rc == AC_OK)
        rc = ac_estimator_set_int(e, AC_ESTIMATOR_PARAM_BATCH, 7);
    uint64_t c = 0;
    if (rc == AC_OK)
        rc = ac_estimator_set_value(e, &c, 1, g->table[0]);
    c = ((uint64_t)1 << n) - 1u;
    if (rc == AC_OK)
        rc = ac_estimator_set_value(e, &c, 1, g->table[c]);
    if (rc == AC_OK)
        rc = ac_estimator_set_oracle(e, th_oracle_fn, &o);
    if (rc == AC_OK)
        rc = ac_estimator_run(e);
    if (rc == AC_OK)
        rc = ac_estimator_result(e, phi, se, n);
    ck_assert_msg(rc == AC_OK || rc == AC_E_NO_MEMORY,
                  "allocation %ld failing gave %d (%s): %s", fail_at, rc,
                  ac_status_name(rc), ac_estimator_last_error(e));
    if (rc == AC_E_NO_MEMORY)
        ck_assert_ptr_nonnull(ac_estimator_last_error(e));
    if (rc == AC_OK) {
        th_assert_conserves(phi, n, g->table[c], g->table[0]);
        if (method == AC_METHOD_EXACT || method == AC_METHOD_ADAPTIVE) {
            th_shapley_subsets(n, g->table, want);
            th_assert_vec_near(phi, want, n, 1e-12, "exact under OOM");
        }
    }
    ac_estimator_free(e);
    th_oracle_fini(&o);
    ck_assert_msg(f.live == 0, "%ld blocks leaked (failing allocation %ld)",
                  f.live, fail_at);
    if (!f.failed)
        ck_assert_int_eq(rc, AC_OK);
    return !f.failed;
}

START_TEST(oom_estimator)
{
    static const int64_t methods[] = {AC_METHOD_EXACT, AC_METHOD_PERMUTATION,
                                      AC_METHOD_KERNELSHAP, AC_METHOD_ADAPTIVE,
                                      AC_METHOD_ODDSHAP};
    /* exact and adaptive need the whole table of n = 6 within the budget */
    th_game *g = th_game_random_table(_i == 0 || _i == 3 ? 6 : 10, 11);
    long k = 0;
    while (!oom_attempt(k, methods[_i], g)) {
        k++;
        ck_assert_msg(k < 50000, "no end to the allocations");
    }
    ck_assert_int_gt(k, 0); /* the allocator was used at all */
    th_game_free(g);
}
END_TEST

static int oom_game_attempt(long fail_at, const char *json)
{
    th_fail_alloc f = {0, fail_at, 0, 0};
    ac_allocator a = {sizeof(ac_allocator), 0, th_fa_alloc, th_fa_free, &f};
    ac_game *sentinel = (ac_game *)&f, *g = sentinel;
    char err[128] = "";
    int rc = ac_game_load_json(&g, json, strlen(json), &a, NULL, err,
                               sizeof err);
    if (rc != AC_OK) {
        ck_assert_msg(rc == AC_E_NO_MEMORY, "load at %ld: %d %s", fail_at, rc,
                      err);
        ck_assert_ptr_eq(g, sentinel);
        ck_assert_str_ne(err, "");
    } else {
        double phi[8], v;
        uint64_t c = 0x5;
        rc = ac_game_exact(g, phi, 6);
        ck_assert(rc == AC_OK || rc == AC_E_NO_MEMORY);
        int rc2 = ac_game_value(g, &c, 1, &v);
        ck_assert(rc2 == AC_OK || rc2 == AC_E_NO_MEMORY);
        if (rc == AC_OK)
            rc = rc2;
        ac_game_free(g);
    }
    ck_assert_msg(f.live == 0, "%ld blocks leaked (failing allocation %ld)",
                  f.live, fail_at);
    if (!f.failed)
        ck_assert_int_eq(rc, AC_OK);
    return !f.failed;
}

START_TEST(oom_game)
{
    static const char *const games[] = {
        ("{\"n\": 6, \"terms\": [{\"coef\": 1, \"members\": [0, 1]},"
         "{\"coef\": -0.5, \"members\": [2, 3, 4]}], \"noise\":"
         "{\"kind\": \"gaussian\", \"sd\": 0.1}}"),
        "{\"n\": 6, \"type\": \"airport\", \"costs\": [3, 1, 4, 1, 5, 9]}",
        ("{\"n\": 6, \"type\": \"voting\", \"weights\": [4, 3, 2, 1, 1, 1],"
         " \"quota\": 7, \"exact\": [0.4, 0.2, 0.1, 0.1, 0.1, 0.1]}"),
    };
    long k = 0;
    while (!oom_game_attempt(k, games[_i])) {
        k++;
        ck_assert_msg(k < 10000, "no end to the allocations");
    }
    ck_assert_int_gt(k, 0);
}
END_TEST

/* ===================================================================== */
/* Bad JSON and files                                                    */
/* ===================================================================== */

static const char *const bad_json[] = {
    "",
    "{",
    "[1, 2]",
    "null",
    "{\"values\": [0, 1]}",                        /* no n */
    "{\"n\": 1, \"values\": [0, 1], \"bogus\": 3}", /* unknown key */
    "{\"n\": 1, \"values\": [0, NaN]}",
    "{\"n\": 1, \"values\": [0, Infinity]}",
    "{\"n\": 1, \"values\": [0, \"nan\"]}",
    "{\"n\": 1, \"values\": [0, 1e999]}",
    "{\"n\": 1, \"values\": [0, null]}",
    "{\"n\": 2, \"values\": [0, 1, 2]}",          /* 3 != 2^2 */
    "{\"n\": 2, \"values\": [0, 1, 2, 3, 4]}",
    "{\"n\": 0, \"values\": [0]}",
    "{\"n\": -1, \"values\": [0]}",
    "{\"n\": 1.5, \"values\": [0, 1]}",
    "{\"n\": \"2\", \"values\": [0, 1, 2, 3]}",
    "{\"n\": 2}",                                  /* no game at all */
    "{\"n\": 2, \"values\": [0, 1, 2, 3], \"terms\": []}",
    "{\"n\": 2, \"terms\": [{\"coef\": 1, \"members\": [2]}]}",
    "{\"n\": 2, \"terms\": [{\"coef\": 1, \"members\": [-1]}]}",
    "{\"n\": 2, \"terms\": [{\"coef\": 1}]}",
    "{\"n\": 2, \"terms\": [{\"members\": [0]}]}",
    "{\"n\": 2, \"terms\": [{\"coef\": 1, \"members\": [0], \"x\": 1}]}",
    "{\"n\": 2, \"terms\": {\"coef\": 1, \"members\": [0]}}",
    "{\"n\": 2, \"type\": \"airport\", \"costs\": [1]}",
    "{\"n\": 2, \"type\": \"airport\", \"costs\": [1, \"a\"]}",
    "{\"n\": 2, \"type\": \"voting\", \"weights\": [1, 1]}",
    "{\"n\": 2, \"type\": \"voting\", \"weights\": [1], \"quota\": 1}",
    "{\"n\": 2, \"type\": \"banana\", \"costs\": [1, 2]}",
    "{\"n\": 1, \"values\": [0, 1], \"exact\": [1, 2]}",
    "{\"n\": 1, \"values\": [0, 1], \"noise\": {\"kind\": \"cauchy\"}}",
    ("{\"n\": 1, \"values\": [0, 1], \"noise\": "
     "{\"kind\": \"gaussian\", \"sd\": -1}}"),
    "{\"n\": 1, \"values\": [0, 1], \"noise\": {\"kind\": \"gaussian\"}}",
    ("{\"n\": 1, \"values\": [0, 1.5], \"noise\": {\"kind\": "
     "\"bernoulli\"}}"), /* not a probability */
    "{\"n\": 1, \"values\": [0, 1]} trailing",
    "{\"n\": 1, \"n\": 2, \"values\": [0, 1]}", /* duplicate key */
    /* keys of another kind of game: ambiguous, not silently ignored */
    ("{\"n\": 2, \"type\": \"airport\", \"costs\": [1, 2], "
     "\"weights\": [1, 1]}"),
};
#define N_BAD_JSON (sizeof bad_json / sizeof bad_json[0])

/* One test per malformed or invalid game, so each is reported on its own. */
START_TEST(json_parse_errors)
{
    const char *bad = bad_json[_i];
    ac_game *sentinel = (ac_game *)&bad_json[_i], *g = sentinel;
    char err[256] = "";
    int rc = ac_game_load_json(&g, bad, strlen(bad), NULL, NULL, err,
                               sizeof err);
    if (rc == AC_OK)
        ac_game_free(g);
    ck_assert_msg(rc == AC_E_PARSE, "%s: returned %d (%s), want AC_E_PARSE",
                  bad, rc, ac_status_name(rc));
    ck_assert_ptr_eq(g, sentinel);
    /* the message says what was wrong */
    ck_assert_msg(strlen(err) > 5, "%s: message \"%s\"", bad, err);
    ck_assert_uint_lt(strlen(err), sizeof err);
    /* without a buffer the same refusal */
    ck_assert_int_eq(ac_game_load_json(&g, bad, strlen(bad), NULL, NULL, NULL,
                                       0),
                     AC_E_PARSE);
    /* a small buffer is truncated and still NUL-terminated */
    char small[8];
    memset(small, 'x', sizeof small);
    ck_assert_int_eq(
        ac_game_load_json(&g, bad, strlen(bad), NULL, NULL, small,
                          sizeof small),
        AC_E_PARSE);
    ck_assert_ptr_nonnull(memchr(small, 0, sizeof small));
    ck_assert_ptr_eq(g, sentinel);
}
END_TEST

START_TEST(load_file_errors)
{
    ac_game *sentinel = (ac_game *)&sentinel, *g = sentinel;
    char err[256] = "";
    ck_assert_int_eq(ac_game_load_file(&g, "/nonexistent/agentcredit/none.json",
                                       NULL, NULL, err, sizeof err),
                     AC_E_IO);
    ck_assert_ptr_eq(g, sentinel);
    /* the message names the file */
    ck_assert_msg(strstr(err, "none.json") != NULL, "message \"%s\"", err);
    ck_assert_int_eq(ac_game_load_file(&g, "", NULL, NULL, NULL, 0), AC_E_IO);
    /* a directory cannot be read as a file */
    ck_assert_int_eq(ac_game_load_file(&g, "/", NULL, NULL, NULL, 0), AC_E_IO);
    ck_assert_ptr_eq(g, sentinel);
}
END_TEST

START_TEST(shapley_exact_errors)
{
    double v[8] = {0, 1, 2, 3, 4, 5, 6, 7}, phi[4] = {9, 9, 9, 9};
    ck_assert_int_eq(ac_shapley_exact(0, v, 1, phi), AC_E_INVALID_ARG);
    ck_assert_int_eq(ac_shapley_exact(3, NULL, 8, phi), AC_E_INVALID_ARG);
    ck_assert_int_eq(ac_shapley_exact(3, v, 8, NULL), AC_E_INVALID_ARG);
    ck_assert_int_eq(ac_shapley_exact(3, v, 7, phi), AC_E_INVALID_ARG);
    ck_assert_int_eq(ac_shapley_exact(3, v, 4, phi), AC_E_INVALID_ARG);
    ck_assert_int_eq(ac_shapley_exact(2, v, 8, phi), AC_E_INVALID_ARG);
    /* beyond the limit, checked before the (short) table is read */
    ck_assert_int_eq(ac_shapley_exact(AC_EXACT_MAX_PLAYERS + 1, v,
                                      (uint64_t)1 << (AC_EXACT_MAX_PLAYERS + 1),
                                      phi),
                     AC_E_TOO_LARGE);
    v[5] = NAN;
    ck_assert_int_eq(ac_shapley_exact(3, v, 8, phi), AC_E_INVALID_ARG);
    v[5] = -INFINITY;
    ck_assert_int_eq(ac_shapley_exact(3, v, 8, phi), AC_E_INVALID_ARG);
    ck_assert(phi[0] == 9 && phi[1] == 9 && phi[2] == 9 && phi[3] == 9);
}
END_TEST

static Suite *errors_suite(void)
{
    Suite *s = suite_create("errors");
    TCase *tc = th_tcase(s, "arguments");
    tcase_add_test(tc, null_estimator_everywhere);
    tcase_add_test(tc, null_game_everywhere);
    tcase_add_test(tc, create_sizes);
    tcase_add_test(tc, allocator_struct_checked);
    tcase_add_test(tc, set_value_invalid);
    tcase_add_test(tc, result_wrong_n);
    tcase_add_test(tc, last_error_empty_when_fresh);
    tcase_add_test(tc, shapley_exact_errors);
    tc = th_tcase(s, "oracle");
    tcase_add_test(tc, run_without_oracle);
    tcase_add_test(tc, oracle_nonzero_return);
    tcase_add_test(tc, oracle_fails_sometimes);
    tcase_add_loop_test(tc, oracle_fails_sometimes_sampled, 0, 2);
    tcase_add_loop_test(tc, oracle_fails_always, 0, 8);
    tc = th_tcase(s, "budget");
    tcase_add_loop_test(tc, budget_zero_with_unknowns, 0, 4);
    tcase_add_test(tc, budget_exhausted_by_retries);
    tcase_add_test(tc, exact_beyond_limit);
    tc = th_tcase(s, "cancel");
    tcase_add_test(tc, cancel_before_run);
    tcase_add_loop_test(tc, cancel_inside_oracle, 0, 3);
    tcase_add_test(tc, reentrant_calls_busy);
    tc = th_tcase(s, "memory");
    tcase_add_loop_test(tc, oom_estimator, 0, 5);
    tcase_add_loop_test(tc, oom_game, 0, 3);
    tc = th_tcase(s, "input");
    tcase_add_loop_test(tc, json_parse_errors, 0, (int)N_BAD_JSON);
    tcase_add_test(tc, load_file_errors);
    return s;
}

int main(void)
{
    return th_run_suite(errors_suite());
}
