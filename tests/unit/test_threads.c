/* SPDX-License-Identifier: MIT
 *
 * Threads: N handles in N threads need no locking and give exactly what
 * one thread gives; ac_estimator_cancel() works from another thread while a
 * run sits in a slow oracle or an ask/tell loop; the handle-free functions
 * are thread-safe.
 */
#define _POSIX_C_SOURCE 200809L

#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#include "helpers.h"

#ifndef AC_TEST_DATA_DIR
#define AC_TEST_DATA_DIR "tests/data"
#endif

#define N_THREADS 8
#define N_PLAYERS 12

static void game_path(char *buf, size_t size)
{
    const char *dir = getenv("AC_TEST_DATA");
    if (!dir || !*dir)
        dir = AC_TEST_DATA_DIR;
    int len = snprintf(buf, size, "%s/games/team12_gauss.json", dir);
    ck_assert(len > 0 && (size_t)len < size);
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0) {
    }
}

/* ===================================================================== */
/* N threads, N handles                                                  */
/* ===================================================================== */

/* What one thread computes: a setting (method, seeds) on its own game. The
 * game is noisy (Gaussian), so equal results also need equal noise draws:
 * each game is seeded the same way from its own generator. */
typedef struct job {
    int64_t method, seed;
    uint64_t game_seed;
    int rc;
    char error[256];
    double phi[3][N_PLAYERS], se[3][N_PLAYERS];
} job;

static const int64_t thread_methods[] = {
    AC_METHOD_PERMUTATION, AC_METHOD_KERNELSHAP, AC_METHOD_EXACT,
    AC_METHOD_AUTO};

/* Three runs on one handle (the session reset in between), so that the
 * threads overlap for a while. Failures are recorded, not asserted: Check's
 * assertions belong to the main thread. */
static void run_job(job *j)
{
    char path[4096];
    ac_game *g = NULL;
    ac_estimator *e = NULL;
    game_path(path, sizeof path);
    j->rc = ac_game_load_file(&g, path, NULL, NULL, NULL, 0);
    if (j->rc == AC_OK)
        j->rc = ac_estimator_create(&e, N_PLAYERS, NULL);
    if (j->rc == AC_OK)
        j->rc = ac_estimator_set_int(e, AC_ESTIMATOR_PARAM_METHOD, j->method);
    if (j->rc == AC_OK)
        j->rc = ac_estimator_set_int(e, AC_ESTIMATOR_PARAM_SEED, j->seed);
    if (j->rc == AC_OK)
        /* exact needs 2 x 4094; the others sample within 3000 */
        j->rc = ac_estimator_set_int(
            e, AC_ESTIMATOR_PARAM_BUDGET, j->method == AC_METHOD_EXACT ? 10000 : 3000);
    if (j->rc == AC_OK)
        j->rc = ac_estimator_set_int(e, AC_ESTIMATOR_PARAM_REPEATS, 2);
    if (j->rc == AC_OK)
        j->rc = ac_estimator_set_oracle(e, ac_game_oracle, g);
    for (int r = 0; r < 3 && j->rc == AC_OK; r++) {
        j->rc = ac_game_seed(g, j->game_seed + (uint64_t)r);
        if (j->rc == AC_OK)
            j->rc = ac_estimator_run(e);
        if (j->rc == AC_OK)
            j->rc = ac_estimator_result(e, j->phi[r], j->se[r], N_PLAYERS);
        if (j->rc == AC_OK)
            j->rc = ac_estimator_reset(e, AC_RESET_SESSION);
    }
    if (j->rc != AC_OK && e)
        snprintf(j->error, sizeof j->error, "%s", ac_estimator_last_error(e));
    ac_estimator_free(e);
    ac_game_free(g);
}

static void *job_thread(void *arg)
{
    run_job(arg);
    return NULL;
}

static void make_job(job *j, int t)
{
    memset(j, 0, sizeof *j);
    j->method = thread_methods[t % 4];
    j->seed = 1000 + t / 2; /* pairs of threads share a setting */
    j->game_seed = 50 + (uint64_t)(t / 2);
    j->rc = -999;
}

START_TEST(threads_match_single_thread)
{
    job *ref = calloc(N_THREADS, sizeof *ref);
    job *par = calloc(N_THREADS, sizeof *par);
    pthread_t tid[N_THREADS];
    ck_assert(ref && par);
    /* the reference, one after the other in this thread */
    for (int t = 0; t < N_THREADS; t++) {
        make_job(&ref[t], t);
        run_job(&ref[t]);
        ck_assert_msg(ref[t].rc == AC_OK, "reference %d: %d %s", t, ref[t].rc,
                      ref[t].error);
    }
    /* all at once */
    for (int t = 0; t < N_THREADS; t++) {
        make_job(&par[t], t);
        ck_assert_int_eq(pthread_create(&tid[t], NULL, job_thread, &par[t]),
                         0);
    }
    for (int t = 0; t < N_THREADS; t++)
        ck_assert_int_eq(pthread_join(tid[t], NULL), 0);
    for (int t = 0; t < N_THREADS; t++) {
        ck_assert_msg(par[t].rc == AC_OK, "thread %d: %d %s", t, par[t].rc,
                      par[t].error);
        ck_assert_msg(memcmp(par[t].phi, ref[t].phi, sizeof ref[t].phi) == 0,
                      "thread %d: credits differ from the single thread", t);
        ck_assert_msg(memcmp(par[t].se, ref[t].se, sizeof ref[t].se) == 0,
                      "thread %d: standard errors differ", t);
    }
    /* sanity: the three runs of a noisy game differ (other noise seeds),
     * so the comparison above was not between constants */
    ck_assert(memcmp(ref[0].phi[0], ref[0].phi[1], sizeof ref[0].phi[0]) != 0);
    free(ref);
    free(par);
}
END_TEST

/* ===================================================================== */
/* Cancel from another thread                                            */
/* ===================================================================== */

typedef struct slow {
    const th_game *g;
    atomic_int calls;
    atomic_int cancelled_at; /* calls once the cancel was issued */
    ac_estimator *e;
    int rc;
} slow;

static int slow_oracle(void *user, const uint64_t *coalitions, uint32_t words,
                       uint32_t count, double *values, int32_t *status)
{
    slow *s = user;
    atomic_fetch_add(&s->calls, 1);
    sleep_ms(2);
    for (uint32_t k = 0; k < count; k++) {
        values[k] = th_game_value(s->g, coalitions + (size_t)k * words);
        status[k] = 0;
    }
    return 0;
}

static void *run_thread(void *arg)
{
    slow *s = arg;
    s->rc = ac_estimator_run(s->e);
    return NULL;
}

START_TEST(cancel_from_other_thread)
{
    /* n = 30, one coalition per call, 2 ms each: 100000 evaluations would
     * take minutes; the cancel must end it within a call or two. */
    static const int64_t methods[] = {AC_METHOD_PERMUTATION,
                                      AC_METHOD_KERNELSHAP};
    th_game *g = th_game_soum(30, 40, 4, 30);
    ac_estimator *e = th_est(30, methods[_i], 100000, 0);
    slow s;
    pthread_t tid;
    memset(&s, 0, sizeof s);
    atomic_init(&s.calls, 0);
    atomic_init(&s.cancelled_at, 0);
    s.g = g;
    s.e = e;
    s.rc = -999;
    th_est_ends(e, g);
    th_ok(ac_estimator_set_int(e, AC_ESTIMATOR_PARAM_BATCH, 1), e);
    th_ok(ac_estimator_set_oracle(e, slow_oracle, &s), e);
    ck_assert_int_eq(pthread_create(&tid, NULL, run_thread, &s), 0);
    for (int waited = 0; atomic_load(&s.calls) < 5; waited++) {
        ck_assert_msg(waited < 20000, "the run never reached the oracle");
        sleep_ms(1);
    }
    ac_estimator_cancel(e);
    /* a call may have begun just before the cancel took effect */
    atomic_store(&s.cancelled_at, atomic_load(&s.calls));
    ck_assert_int_eq(pthread_join(tid, NULL), 0);
    ck_assert_int_eq(s.rc, AC_E_CANCELLED);
    ck_assert_int_le(atomic_load(&s.calls), atomic_load(&s.cancelled_at) + 1);
    ck_assert_int_eq(th_audit(e, AC_ESTIMATOR_AUDIT_OUTCOME), AC_ESTIMATOR_OUTCOME_CANCELLED);
    ck_assert_int_lt(th_audit(e, AC_ESTIMATOR_AUDIT_EVALUATIONS), 1000);
    ac_estimator_free(e);
    th_game_free(g);
}
END_TEST

/* An ask/tell host in a thread of its own, cancelled from this one. */
typedef struct asker {
    ac_estimator *e;
    const th_game *g;
    atomic_int asks;
    int rc;
} asker;

static void *asktell_thread(void *arg)
{
    asker *a = arg;
    uint64_t tk[4], co[4];
    uint32_t cnt;
    for (;;) {
        cnt = 0;
        int rc = ac_estimator_ask(a->e, 4, tk, co, &cnt);
        if (rc != AC_OK) {
            a->rc = rc;
            return NULL;
        }
        atomic_fetch_add(&a->asks, 1);
        if (cnt == 0) {
            a->rc = AC_OK; /* finished: the cancel came too late */
            return NULL;
        }
        double v[4];
        for (uint32_t k = 0; k < cnt; k++)
            v[k] = th_game_value(a->g, co + k);
        sleep_ms(1);
        rc = ac_estimator_tell(a->e, cnt, tk, v, NULL);
        if (rc != AC_OK) {
            a->rc = rc;
            return NULL;
        }
    }
}

START_TEST(cancel_asktell_from_other_thread)
{
    th_game *g = th_game_soum(40, 40, 4, 40);
    ac_estimator *e = th_est(40, AC_METHOD_PERMUTATION, 200000, 0);
    asker a;
    pthread_t tid;
    memset(&a, 0, sizeof a);
    atomic_init(&a.asks, 0);
    a.e = e;
    a.g = g;
    a.rc = -999;
    th_est_ends(e, g);
    ck_assert_int_eq(pthread_create(&tid, NULL, asktell_thread, &a), 0);
    for (int waited = 0; atomic_load(&a.asks) < 5; waited++) {
        ck_assert_msg(waited < 20000, "the host never asked");
        sleep_ms(1);
    }
    ac_estimator_cancel(e);
    ck_assert_int_eq(pthread_join(tid, NULL), 0);
    ck_assert_int_eq(a.rc, AC_E_CANCELLED);
    ck_assert_int_eq(th_audit(e, AC_ESTIMATOR_AUDIT_OUTCOME), AC_ESTIMATOR_OUTCOME_CANCELLED);
    ac_estimator_free(e);
    th_game_free(g);
}
END_TEST

/* ===================================================================== */
/* Handle-free functions from many threads                               */
/* ===================================================================== */

typedef struct shared_job {
    const double *table;
    double phi[14];
    int rc, strings_ok;
} shared_job;

static void *shared_thread(void *arg)
{
    shared_job *s = arg;
    s->strings_ok = 1;
    for (int k = 0; k < 200; k++) {
        int64_t lo, hi;
        if (strcmp(ac_status_name(AC_E_BUDGET), "AC_E_BUDGET") != 0 ||
            ac_strerror(AC_E_IO) == NULL ||
            ac_estimator_param_bounds_int(AC_ESTIMATOR_PARAM_BATCH, &lo, &hi) != AC_OK ||
            lo != 1 || ac_version_number() != AC_VERSION_NUMBER)
            s->strings_ok = 0;
    }
    s->rc = ac_shapley_exact(14, s->table, (uint64_t)1 << 14, s->phi);
    return NULL;
}

START_TEST(handle_free_functions_thread_safe)
{
    th_game *g = th_game_random_table(14, 14);
    double want[14];
    shared_job jobs[N_THREADS];
    pthread_t tid[N_THREADS];
    ck_assert_int_eq(ac_shapley_exact(14, g->table, (uint64_t)1 << 14, want),
                     AC_OK);
    for (int t = 0; t < N_THREADS; t++) {
        memset(&jobs[t], 0, sizeof jobs[t]);
        jobs[t].table = g->table;
        ck_assert_int_eq(pthread_create(&tid[t], NULL, shared_thread, &jobs[t]),
                         0);
    }
    for (int t = 0; t < N_THREADS; t++) {
        ck_assert_int_eq(pthread_join(tid[t], NULL), 0);
        ck_assert_int_eq(jobs[t].rc, AC_OK);
        ck_assert(jobs[t].strings_ok);
        ck_assert(memcmp(jobs[t].phi, want, sizeof want) == 0);
    }
    th_game_free(g);
}
END_TEST

static Suite *threads_suite(void)
{
    Suite *s = suite_create("threads");
    TCase *tc = th_tcase(s, "handles");
    tcase_add_test(tc, threads_match_single_thread);
    tcase_add_test(tc, handle_free_functions_thread_safe);
    tc = th_tcase(s, "cancel");
    tcase_add_loop_test(tc, cancel_from_other_thread, 0, 2);
    tcase_add_test(tc, cancel_asktell_from_other_thread);
    return s;
}

int main(void)
{
    return th_run_suite(threads_suite());
}
