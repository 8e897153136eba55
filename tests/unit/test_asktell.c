/* SPDX-License-Identifier: MIT
 *
 * Ask/tell. ac_estimator_run() is a loop over ask/tell, so driving the same
 * estimator by hand must give bit-identical results, however the host
 * groups, orders and sizes its asks and tells. Also: determinism from the
 * seed, ticket validation (nothing of a bad tell is taken), waiting for
 * outstanding tells, progress and the result only at the end.
 */
#include "helpers.h"

/* ===================================================================== */
/* A value source independent of the order of evaluation                 */
/* ===================================================================== */

/* The k-th evaluation of coalition S always gets the same value (and, with
 * fail_mod, the same failure), whether the library asks for it through the
 * oracle or through ask, and whenever the host tells it back. n <= 16. */
typedef struct vsrc {
    const th_game *g;
    uint32_t *occ;     /* evaluations of each coalition handed out so far */
    double noise;      /* amplitude of a hashed, zero-mean perturbation   */
    uint32_t fail_mod; /* > 0: some coalitions fail their first attempt   */
    uint64_t failures; /* failures handed out                             */
} vsrc;

static void vsrc_init(vsrc *s, const th_game *g, double noise, uint32_t fm)
{
    memset(s, 0, sizeof *s);
    s->g = g;
    s->noise = noise;
    s->fail_mod = fm;
    s->occ = calloc((size_t)1 << g->n, sizeof *s->occ);
    ck_assert_ptr_nonnull(s->occ);
}

static void vsrc_fini(vsrc *s)
{
    free(s->occ);
}

static void vsrc_eval(vsrc *s, const uint64_t *c, double *value,
                      int32_t *status)
{
    uint64_t S = c[0];
    uint32_t k = s->occ[S]++;
    double v = th_game_value(s->g, c);
    if (s->noise > 0) {
        uint64_t h = th_mix(S * 7919u + k);
        v += s->noise * ((double)(h >> 11) / 9007199254740992.0 - 0.5);
    }
    *status = 0;
    *value = v;
    if (s->fail_mod && k == 0 && th_mix(S ^ 0x5555u) % s->fail_mod == 0) {
        s->failures++;
        switch (S % 3u) { /* the three kinds of failure */
        case 0:
            *value = NAN;
            break;
        case 1:
            *value = 1e300; /* a plausible number, flagged by the status */
            *status = 9;
            break;
        default:
            *value = -INFINITY;
            break;
        }
    }
}

static int vsrc_oracle(void *user, const uint64_t *coalitions, uint32_t words,
                       uint32_t count, double *values, int32_t *status)
{
    vsrc *s = user;
    for (uint32_t k = 0; k < count; k++)
        vsrc_eval(s, coalitions + (size_t)k * words, &values[k], &status[k]);
    return 0;
}

/* ===================================================================== */
/* Settings and the two drivers                                          */
/* ===================================================================== */

typedef struct setting {
    int64_t method;
    uint32_t n;
    int64_t budget, repeats;
    double noise;
    uint32_t fail_mod;
} setting;

static const setting settings[] = {
    /* deterministic oracle */
    {AC_METHOD_EXACT, 6, 2048, 1, 0, 0},
    {AC_METHOD_PERMUTATION, 10, 400, 1, 0, 0},
    {AC_METHOD_KERNELSHAP, 10, 400, 1, 0, 0},
    {AC_METHOD_AUTO, 9, 300, 1, 0, 0},
    /* noisy oracle with repeats */
    {AC_METHOD_EXACT, 5, 2048, 3, 0.3, 0},
    {AC_METHOD_PERMUTATION, 9, 600, 3, 0.3, 0},
    {AC_METHOD_KERNELSHAP, 9, 600, 2, 0.3, 0},
    /* failures retried */
    {AC_METHOD_EXACT, 6, 2048, 1, 0, 3},
    {AC_METHOD_PERMUTATION, 10, 400, 1, 0, 4},
    {AC_METHOD_KERNELSHAP, 10, 400, 1, 0, 4},
    /* failures retried, the budget not binding (every coalition fits) */
    {AC_METHOD_PERMUTATION, 6, 2000, 1, 0, 3},
    {AC_METHOD_KERNELSHAP, 6, 2000, 1, 0, 3},
};
#define N_SETTINGS (sizeof settings / sizeof settings[0])

enum { AS_ASKED, REVERSED, SHUFFLED };

typedef struct drive_cfg {
    uint32_t ask_max; /* max_count of each ask */
    uint32_t hold;    /* keep asking until this many are pending */
    int order;        /* order of the tells */
    uint32_t group;   /* tickets per tell call */
} drive_cfg;

static const drive_cfg configs[] = {
    {1, 1, AS_ASKED, 1},    {7, 20, REVERSED, 3}, {64, 100000, SHUFFLED, 5},
    {1000, 1, SHUFFLED, 1}, {3, 50, SHUFFLED, 50}, {2, 9, REVERSED, 4},
};
#define N_CONFIGS (sizeof configs / sizeof configs[0])

typedef struct outcome {
    double phi[16], se[16];
    int64_t audit[6];
} outcome;

static const ac_estimator_audit_key compared_keys[6] = {
    AC_ESTIMATOR_AUDIT_METHOD,   AC_ESTIMATOR_AUDIT_EVALUATIONS, AC_ESTIMATOR_AUDIT_COALITIONS,
    AC_ESTIMATOR_AUDIT_FAILURES, AC_ESTIMATOR_AUDIT_OUTCOME, AC_ESTIMATOR_AUDIT_SAMPLES};

static ac_estimator *setup(const setting *st, const th_game *g, int64_t seed)
{
    ac_estimator *e = th_est(st->n, st->method, st->budget, seed);
    th_ok(ac_estimator_set_int(e, AC_ESTIMATOR_PARAM_REPEATS, st->repeats), e);
    th_est_ends(e, g);
    return e;
}

static void collect(ac_estimator *e, uint32_t n, outcome *out)
{
    memset(out, 0, sizeof *out);
    th_ok(ac_estimator_result(e, out->phi, out->se, n), e);
    for (int k = 0; k < 6; k++)
        out->audit[k] = th_audit(e, compared_keys[k]);
}

static void by_run(const setting *st, const th_game *g, int64_t seed,
                   int64_t batch, outcome *out)
{
    ac_estimator *e = setup(st, g, seed);
    vsrc src;
    vsrc_init(&src, g, st->noise, st->fail_mod);
    th_ok(ac_estimator_set_int(e, AC_ESTIMATOR_PARAM_BATCH, batch), e);
    th_ok(ac_estimator_set_oracle(e, vsrc_oracle, &src), e);
    th_ok(ac_estimator_run(e), e);
    collect(e, st->n, out);
    if (st->fail_mod)
        ck_assert_uint_gt(src.failures, 0); /* the setting does fail */
    vsrc_fini(&src);
    ac_estimator_free(e);
}

typedef struct pending {
    uint64_t *tickets;
    double *values;
    int32_t *status;
    size_t len, cap;
} pending;

static void pending_push(pending *p, uint64_t t, double v, int32_t s)
{
    if (p->len == p->cap) {
        p->cap = p->cap ? 2 * p->cap : 64;
        p->tickets = realloc(p->tickets, p->cap * sizeof *p->tickets);
        p->values = realloc(p->values, p->cap * sizeof *p->values);
        p->status = realloc(p->status, p->cap * sizeof *p->status);
        ck_assert(p->tickets && p->values && p->status);
    }
    p->tickets[p->len] = t;
    p->values[p->len] = v;
    p->status[p->len] = s;
    p->len++;
}

/* Tells everything pending, in the configured order and grouping. */
static void tell_pending(ac_estimator *e, pending *p, const drive_cfg *cfg,
                         th_rng *r, int with_status)
{
    uint64_t *idx = malloc(p->len * sizeof *idx);
    uint64_t *t = malloc(p->len * sizeof *t);
    double *v = malloc(p->len * sizeof *v);
    int32_t *s = malloc(p->len * sizeof *s);
    ck_assert(idx && t && v && s);
    for (size_t k = 0; k < p->len; k++)
        idx[k] = cfg->order == REVERSED ? p->len - 1 - k : k;
    if (cfg->order == SHUFFLED)
        th_shuffle_u64(r, idx, p->len);
    for (size_t k = 0; k < p->len; k++) {
        t[k] = p->tickets[idx[k]];
        v[k] = p->values[idx[k]];
        s[k] = p->status[idx[k]];
    }
    for (size_t k = 0; k < p->len; k += cfg->group) {
        uint32_t cnt = (uint32_t)(p->len - k < cfg->group ? p->len - k
                                                          : cfg->group);
        th_ok(ac_estimator_tell(e, cnt, t + k, v + k,
                                with_status ? s + k : NULL),
              e);
    }
    p->len = 0;
    free(idx);
    free(t);
    free(v);
    free(s);
}

/* Drives e to the end by ask/tell. */
static void drive(ac_estimator *e, uint32_t n, vsrc *src, const drive_cfg *cfg,
                  uint64_t shuffle_seed)
{
    uint32_t words = ac_coalition_words(n);
    uint64_t *tickets = malloc(cfg->ask_max * sizeof *tickets);
    uint64_t *coals = malloc((size_t)cfg->ask_max * words * sizeof *coals);
    pending p = {0};
    th_rng r = th_rng_make(shuffle_seed);
    ck_assert(tickets && coals);
    for (long guard = 0;; guard++) {
        ck_assert_msg(guard < 1000000, "ask/tell does not finish");
        uint32_t cnt = 12345;
        th_ok(ac_estimator_ask(e, cfg->ask_max, tickets, coals, &cnt), e);
        ck_assert_uint_le(cnt, cfg->ask_max);
        for (uint32_t k = 0; k < cnt; k++) {
            double v;
            int32_t s;
            ck_assert(!th_stray_bits(coals + (size_t)k * words, n));
            vsrc_eval(src, coals + (size_t)k * words, &v, &s);
            pending_push(&p, tickets[k], v, s);
        }
        if (cnt > 0 && p.len < cfg->hold)
            continue;
        if (p.len == 0) {
            int32_t done = -1;
            uint64_t outstanding = 99;
            th_ok(ac_estimator_progress(e, &done, &outstanding), e);
            ck_assert_msg(done == 1, "ask gave nothing, nothing outstanding, "
                                     "but the run is not done");
            ck_assert_uint_eq(outstanding, 0);
            break;
        }
        tell_pending(e, &p, cfg, &r, src->fail_mod != 0);
    }
    free(p.tickets);
    free(p.values);
    free(p.status);
    free(tickets);
    free(coals);
}

static void by_asktell(const setting *st, const th_game *g, int64_t seed,
                       const drive_cfg *cfg, outcome *out)
{
    ac_estimator *e = setup(st, g, seed);
    vsrc src;
    vsrc_init(&src, g, st->noise, st->fail_mod);
    drive(e, st->n, &src, cfg, 1234);
    collect(e, st->n, out);
    vsrc_fini(&src);
    ac_estimator_free(e);
}

static void assert_same(const outcome *a, const outcome *b, uint32_t n,
                        const char *what, size_t cfg)
{
    for (uint32_t i = 0; i < n; i++) {
        ck_assert_msg(memcmp(&a->phi[i], &b->phi[i], sizeof(double)) == 0,
                      "%s (config %zu): phi[%u] %.17g vs %.17g", what, cfg, i,
                      a->phi[i], b->phi[i]);
        ck_assert_msg(memcmp(&a->se[i], &b->se[i], sizeof(double)) == 0,
                      "%s (config %zu): se[%u] %.17g vs %.17g", what, cfg, i,
                      a->se[i], b->se[i]);
    }
    for (int k = 0; k < 6; k++)
        ck_assert_msg(a->audit[k] == b->audit[k],
                      "%s (config %zu): audit key %d: %lld vs %lld", what, cfg,
                      (int)compared_keys[k], (long long)a->audit[k],
                      (long long)b->audit[k]);
}

/* With failures while the budget binds, a retry spends budget the planner
 * would otherwise use, so the plan depends on when failures are told
 * relative to planning: the result is reproducible for the same sequence of
 * asks and tell calls (any order within a call), not across batch widths. */
static void equal_paths_same_rounds(const setting *st)
{
    static const drive_cfg same_rounds[] = {
        {64, 64, AS_ASKED, 64}, {64, 64, REVERSED, 64}, {64, 64, SHUFFLED, 64}};
    th_game *g = th_game_soum(st->n, 2u * st->n, 4, 7u * st->n + st->fail_mod);
    outcome ref, other;
    by_run(st, g, 42, 64, &ref);
    th_assert_conserves(ref.phi, st->n, th_game_all(g), th_game_empty(g));
    by_run(st, g, 42, 64, &other);
    assert_same(&ref, &other, st->n, "run twice", 0);
    for (size_t c = 0; c < sizeof same_rounds / sizeof same_rounds[0]; c++) {
        by_asktell(st, g, 42, &same_rounds[c], &other);
        assert_same(&ref, &other, st->n, "ask/tell in run's rounds vs run", c);
    }
    th_game_free(g);
}

static void equal_paths(const setting *st)
{
    th_game *g = th_game_soum(st->n, 2u * st->n, 4, 7u * st->n + st->fail_mod);
    outcome ref, other;
    by_run(st, g, 42, 64, &ref);
    th_assert_conserves(ref.phi, st->n, th_game_all(g), th_game_empty(g));
    /* the batch size of run() does not change the result */
    by_run(st, g, 42, 1, &other);
    assert_same(&ref, &other, st->n, "run, batch 1 vs 64", 0);
    by_run(st, g, 42, 1000, &other);
    assert_same(&ref, &other, st->n, "run, batch 1000 vs 64", 0);
    for (size_t c = 0; c < N_CONFIGS; c++) {
        by_asktell(st, g, 42, &configs[c], &other);
        assert_same(&ref, &other, st->n, "ask/tell vs run", c);
    }
    th_game_free(g);
}

START_TEST(asktell_equals_run)
{
    equal_paths(&settings[_i]);
}
END_TEST

START_TEST(asktell_equals_run_repeats)
{
    equal_paths(&settings[4 + _i]);
}
END_TEST

START_TEST(asktell_equals_run_failures)
{
    const setting *st = &settings[7 + _i];
    if (st->method != AC_METHOD_EXACT && st->budget < 1000)
        equal_paths_same_rounds(st);
    else
        equal_paths(st);
}
END_TEST

/* ===================================================================== */
/* Determinism                                                           */
/* ===================================================================== */

START_TEST(same_seed_bit_identical)
{
    const setting *st = &settings[_i];
    th_game *g = th_game_soum(st->n, 2u * st->n, 4, 5);
    outcome a, b;
    by_run(st, g, 2718, 64, &a);
    by_run(st, g, 2718, 64, &b);
    assert_same(&a, &b, st->n, "same seed twice", 0);
    th_game_free(g);
}
END_TEST

START_TEST(different_seeds_differ)
{
    /* sampled methods below the full budget: another seed, other samples */
    const setting *st = &settings[1 + _i]; /* permutation, KernelSHAP */
    th_game *g = th_game_soum(st->n, 2u * st->n, 4, 6);
    outcome a, b;
    by_run(st, g, 1, 64, &a);
    by_run(st, g, 2, 64, &b);
    ck_assert_msg(memcmp(a.phi, b.phi, st->n * sizeof(double)) != 0,
                  "seeds 1 and 2 gave identical credits");
    th_game_free(g);
}
END_TEST

/* ===================================================================== */
/* Tickets, waiting, progress                                            */
/* ===================================================================== */

static uint64_t outstanding_of(const ac_estimator *e)
{
    uint64_t o = 999999;
    th_ok(ac_estimator_progress(e, NULL, &o), e);
    return o;
}

static int32_t done_of(const ac_estimator *e)
{
    int32_t d = -1;
    th_ok(ac_estimator_progress(e, &d, NULL), e);
    return d;
}

START_TEST(bad_tickets_rejected_whole)
{
    /* exact, n = 4, ends known: 14 evaluations */
    th_game *g = th_game_random_table(4, 1);
    setting st = {AC_METHOD_EXACT, 4, 2048, 1, 0, 0};
    ac_estimator *e = setup(&st, g, 0);
    uint64_t tk[14], co[14], bogus;
    double v[14];
    uint32_t cnt = 0;

    /* before the run no ticket is outstanding; whether that reads as a bad
     * ticket or a call in the wrong state, it is refused */
    bogus = 0;
    v[0] = 0.5;
    int rc = ac_estimator_tell(e, 1, &bogus, v, NULL);
    ck_assert_msg(rc == AC_E_INVALID_ARG || rc == AC_E_STATE,
                  "tell before the run: %d", rc);
    ck_assert_str_ne(ac_estimator_last_error(e), "");

    th_ok(ac_estimator_ask(e, 14, tk, co, &cnt), e);
    ck_assert_uint_eq(cnt, 14);
    for (uint32_t k = 0; k < 14; k++) {
        v[k] = g->table[co[k]];
        for (uint32_t j = 0; j < k; j++)
            ck_assert_msg(tk[j] != tk[k], "ticket %llu handed out twice",
                          (unsigned long long)tk[k]);
    }
    /* a ticket never handed out */
    bogus = tk[0];
    for (uint32_t k = 0; k < 14; k++)
        if (tk[k] >= bogus)
            bogus = tk[k] + 1000;
    uint64_t pair[2] = {tk[0], bogus};
    double pv[2] = {v[0], 0.0};
    ck_assert_int_eq(ac_estimator_tell(e, 1, &bogus, pv, NULL),
                     AC_E_INVALID_ARG);
    /* one bad ticket spoils the whole call: tk[0] is not taken */
    ck_assert_int_eq(ac_estimator_tell(e, 2, pair, pv, NULL), AC_E_INVALID_ARG);
    ck_assert_uint_eq(outstanding_of(e), 14);
    th_ok(ac_estimator_tell(e, 1, &tk[0], &v[0], NULL), e);
    ck_assert_uint_eq(outstanding_of(e), 13);
    /* told already */
    ck_assert_int_eq(ac_estimator_tell(e, 1, &tk[0], &v[0], NULL),
                     AC_E_INVALID_ARG);
    ck_assert_str_ne(ac_estimator_last_error(e), "");
    /* the same ticket twice in one call: the second is no longer
     * outstanding, so the call is refused and tk[1] stays outstanding */
    uint64_t twice[2] = {tk[1], tk[1]};
    double tv[2] = {v[1], v[1]};
    ck_assert_int_eq(ac_estimator_tell(e, 2, twice, tv, NULL),
                     AC_E_INVALID_ARG);
    ck_assert_uint_eq(outstanding_of(e), 13);
    /* a told ticket next to valid ones: nothing taken */
    uint64_t mixed[3] = {tk[2], tk[0], tk[3]};
    double mv[3] = {v[2], v[0], v[3]};
    ck_assert_int_eq(ac_estimator_tell(e, 3, mixed, mv, NULL),
                     AC_E_INVALID_ARG);
    ck_assert_uint_eq(outstanding_of(e), 13);

    /* the rest is accepted and the result is right: nothing was corrupted */
    th_ok(ac_estimator_tell(e, 13, tk + 1, v + 1, NULL), e);
    th_ok(ac_estimator_ask(e, 14, tk, co, &cnt), e);
    ck_assert_uint_eq(cnt, 0);
    ck_assert_int_eq(done_of(e), 1);
    double phi[4], want[4];
    th_shapley_subsets(4, g->table, want);
    th_ok(ac_estimator_result(e, phi, NULL, 4), e);
    th_assert_vec_near(phi, want, 4, 1e-12, "after rejected tells");
    /* after the end nothing is outstanding: refused (a bad ticket, or a
     * call in the wrong state) */
    rc = ac_estimator_tell(e, 1, &tk[5], &v[5], NULL);
    ck_assert_msg(rc == AC_E_INVALID_ARG || rc == AC_E_STATE,
                  "tell after the end: %d", rc);
    ac_estimator_free(e);
    th_game_free(g);
}
END_TEST

START_TEST(wait_for_outstanding)
{
    /* exact, n = 4: all 14 handed out at once; then ask returns 0 while
     * they are outstanding, and result() is refused until the end */
    th_game *g = th_game_random_table(4, 2);
    setting st = {AC_METHOD_EXACT, 4, 2048, 1, 0, 0};
    ac_estimator *e = setup(&st, g, 0);
    uint64_t tk[32], co[32];
    double v[32], phi[4] = {7, 7, 7, 7}, se[4];
    uint32_t cnt = 0;

    ck_assert_int_eq(done_of(e), 0);
    ck_assert_uint_eq(outstanding_of(e), 0);
    ck_assert_int_eq(ac_estimator_result(e, phi, se, 4), AC_E_STATE);

    th_ok(ac_estimator_ask(e, 32, tk, co, &cnt), e);
    ck_assert_uint_eq(cnt, 14);
    for (uint32_t k = 0; k < 14; k++)
        v[k] = g->table[co[k]];
    for (int rep = 0; rep < 3; rep++) {
        cnt = 77;
        th_ok(ac_estimator_ask(e, 32, tk + 14, co + 14, &cnt), e);
        ck_assert_uint_eq(cnt, 0);
        ck_assert_int_eq(done_of(e), 0);
        ck_assert_uint_eq(outstanding_of(e), 14);
    }
    /* all but one told, in reverse */
    for (uint32_t k = 13; k >= 1; k--)
        th_ok(ac_estimator_tell(e, 1, &tk[k], &v[k], NULL), e);
    th_ok(ac_estimator_ask(e, 32, tk + 14, co + 14, &cnt), e);
    ck_assert_uint_eq(cnt, 0);
    ck_assert_int_eq(done_of(e), 0);
    ck_assert_uint_eq(outstanding_of(e), 1);
    ck_assert_int_eq(ac_estimator_result(e, phi, se, 4), AC_E_STATE);
    ck_assert(phi[0] == 7); /* untouched on failure */

    th_ok(ac_estimator_tell(e, 1, &tk[0], &v[0], NULL), e);
    th_ok(ac_estimator_ask(e, 32, tk + 14, co + 14, &cnt), e);
    ck_assert_uint_eq(cnt, 0);
    ck_assert_int_eq(done_of(e), 1);
    ck_assert_uint_eq(outstanding_of(e), 0);
    th_ok(ac_estimator_result(e, phi, se, 4), e);
    double want[4];
    th_shapley_subsets(4, g->table, want);
    th_assert_vec_near(phi, want, 4, 1e-12, "exact by ask/tell");
    /* asking again after the end: still nothing, still done */
    th_ok(ac_estimator_ask(e, 32, tk, co, &cnt), e);
    ck_assert_uint_eq(cnt, 0);
    ck_assert_int_eq(done_of(e), 1);
    ac_estimator_free(e);
    th_game_free(g);
}
END_TEST

START_TEST(progress_done_only_at_end)
{
    /* a sampled run told one evaluation at a time: done stays 0 and
     * result() is refused until the final ask returns nothing */
    const setting *st = &settings[1 + _i];
    th_game *g = th_game_soum(st->n, 2u * st->n, 4, 9);
    ac_estimator *e = setup(st, g, 3);
    uint64_t tk[1], co[1];
    double phi[16];
    uint32_t cnt;
    long told = 0;
    for (;;) {
        cnt = 0;
        th_ok(ac_estimator_ask(e, 1, tk, co, &cnt), e);
        if (cnt == 0)
            break;
        ck_assert_int_eq(done_of(e), 0);
        ck_assert_uint_eq(outstanding_of(e), 1);
        ck_assert_int_eq(ac_estimator_result(e, phi, NULL, st->n), AC_E_STATE);
        double v = th_game_value(g, co);
        th_ok(ac_estimator_tell(e, 1, tk, &v, NULL), e);
        told++;
        ck_assert_uint_eq(outstanding_of(e), 0);
        ck_assert_int_le(told, st->budget);
    }
    ck_assert_int_eq(done_of(e), 1);
    ck_assert_int_eq(th_audit(e, AC_ESTIMATOR_AUDIT_EVALUATIONS), told);
    /* one evaluation per ask: rounds are asks that handed out work */
    ck_assert_int_eq(th_audit(e, AC_ESTIMATOR_AUDIT_ROUNDS), told);
    th_ok(ac_estimator_result(e, phi, NULL, st->n), e);
    th_assert_conserves(phi, st->n, th_game_all(g), th_game_empty(g));
    ac_estimator_free(e);
    th_game_free(g);
}
END_TEST

START_TEST(retry_through_asktell)
{
    /* A failed tell (status, NaN) comes back as a new ask of the same
     * coalition, with a ticket of its own; the audit counts it. */
    th_game *g = th_game_random_table(3, 4);
    setting st = {AC_METHOD_EXACT, 3, 2048, 1, 0, 0};
    ac_estimator *e = setup(&st, g, 0);
    uint64_t tk[6], co[6], tk2[6], co2[6];
    double v[6];
    int32_t s[6] = {0};
    uint32_t cnt = 0, cnt2 = 0;
    th_ok(ac_estimator_ask(e, 6, tk, co, &cnt), e);
    ck_assert_uint_eq(cnt, 6);
    for (uint32_t k = 0; k < 6; k++)
        v[k] = g->table[co[k]];
    v[1] = NAN;
    s[4] = 1;
    v[4] = 1e300;
    th_ok(ac_estimator_tell(e, 6, tk, v, s), e);
    th_ok(ac_estimator_ask(e, 6, tk2, co2, &cnt2), e);
    ck_assert_uint_eq(cnt2, 2);
    ck_assert_int_eq(th_audit(e, AC_ESTIMATOR_AUDIT_FAILURES), 2);
    /* the same two coalitions again, under new tickets */
    ck_assert((co2[0] == co[1] && co2[1] == co[4]) ||
              (co2[0] == co[4] && co2[1] == co[1]));
    for (uint32_t k = 0; k < 2; k++) {
        ck_assert(tk2[k] != tk[1] && tk2[k] != tk[4]);
        v[k] = g->table[co2[k]];
    }
    /* the old tickets are spent */
    ck_assert_int_eq(ac_estimator_tell(e, 1, &tk[1], v, NULL),
                     AC_E_INVALID_ARG);
    th_ok(ac_estimator_tell(e, 2, tk2, v, NULL), e);
    th_ok(ac_estimator_ask(e, 6, tk2, co2, &cnt2), e);
    ck_assert_uint_eq(cnt2, 0);
    ck_assert_int_eq(done_of(e), 1);
    ck_assert_int_eq(th_audit(e, AC_ESTIMATOR_AUDIT_RETRIES), 2);
    ck_assert_int_eq(th_audit(e, AC_ESTIMATOR_AUDIT_EVALUATIONS), 8);
    double phi[3], want[3];
    th_shapley_subsets(3, g->table, want);
    th_ok(ac_estimator_result(e, phi, NULL, 3), e);
    th_assert_vec_near(phi, want, 3, 1e-12, "after retries by ask/tell");
    ac_estimator_free(e);
    th_game_free(g);
}
END_TEST

static Suite *asktell_suite(void)
{
    Suite *s = suite_create("asktell");
    TCase *tc = th_tcase(s, "equal");
    tcase_add_loop_test(tc, asktell_equals_run, 0, 4);
    tcase_add_loop_test(tc, asktell_equals_run_repeats, 0, 3);
    tcase_add_loop_test(tc, asktell_equals_run_failures, 0, 5);
    tc = th_tcase(s, "determinism");
    tcase_add_loop_test(tc, same_seed_bit_identical, 0, (int)N_SETTINGS);
    tcase_add_loop_test(tc, different_seeds_differ, 0, 2);
    tc = th_tcase(s, "tickets");
    tcase_add_test(tc, bad_tickets_rejected_whole);
    tcase_add_test(tc, wait_for_outstanding);
    tcase_add_loop_test(tc, progress_done_only_at_end, 0, 2);
    tcase_add_test(tc, retry_through_asktell);
    return s;
}

int main(void)
{
    return th_run_suite(asktell_suite());
}
