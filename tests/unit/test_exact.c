/* SPDX-License-Identifier: MIT
 *
 * The exact method, through the estimator (AC_METHOD_EXACT over an oracle)
 * and through ac_shapley_exact on a full table, against games whose Shapley
 * values are known in closed form (additive, unanimity and sums of
 * unanimity games, glove, airport, weighted voting counted independently)
 * and against brute force on random games. Then the axioms, the audit
 * record, the budget and the standard errors of a noisy oracle with repeats.
 */
#include "helpers.h"

/* Relative tolerance of exact results: the scale is the largest |v(S)|. */
#define EXACT_REL 1e-12

static double table_scale(const double *t, uint32_t n)
{
    double m = th_max_abs(t, (size_t)1 << n);
    return m > 1.0 ? m : 1.0;
}

/* Shapley values of g by the estimator's exact method with the ends known.
 * Checks the oracle protocol and the run's bookkeeping on the way. */
static void exact_by_estimator(const th_game *g, double *phi, double *se)
{
    uint32_t n = g->n;
    ac_estimator *e = th_est(n, AC_METHOD_EXACT, (int64_t)1 << 30, 0);
    th_oracle o;
    th_est_ends(e, g);
    th_oracle_init(&o, g, n <= 20);
    o.forbid_ends = 1;
    th_ok(th_run(e, &o, phi, se), e);
    th_oracle_assert_clean(&o);
    ck_assert_uint_eq(o.duplicates, 0);
    ck_assert_uint_eq(o.evals, ((uint64_t)1 << n) - 2u);
    ck_assert_int_eq(th_audit(e, AC_ESTIMATOR_AUDIT_METHOD), AC_METHOD_EXACT);
    ck_assert_int_eq(th_audit(e, AC_ESTIMATOR_AUDIT_OUTCOME), AC_ESTIMATOR_OUTCOME_COMPLETE);
    th_assert_conserves(phi, n, th_game_all(g), th_game_empty(g));
    th_oracle_fini(&o);
    ac_estimator_free(e);
}

/* Shapley values of g by ac_shapley_exact on its full table. */
static void exact_by_table(const th_game *g, double *phi)
{
    double *t = th_game_table(g);
    ck_assert_int_eq(ac_shapley_exact(g->n, t, (uint64_t)1 << g->n, phi),
                     AC_OK);
    th_assert_conserves(phi, g->n, t[((uint64_t)1 << g->n) - 1u], t[0]);
    free(t);
}

/* Both paths against want, to EXACT_REL of the game's scale. */
static void check_both(const th_game *g, const double *want, const char *what)
{
    double phi[32], se[32];
    double *t = th_game_table(g);
    double tol = EXACT_REL * table_scale(t, g->n);
    free(t);
    exact_by_table(g, phi);
    th_assert_vec_near(phi, want, g->n, tol, what);
    exact_by_estimator(g, phi, se);
    th_assert_vec_near(phi, want, g->n, tol, what);
    /* a deterministic oracle evaluated once per coalition: no uncertainty */
    for (uint32_t i = 0; i < g->n; i++)
        ck_assert_msg(se[i] == 0.0, "%s: se[%u] = %g for an exact run", what,
                      i, se[i]);
}

/* ===================================================================== */
/* Closed forms                                                          */
/* ===================================================================== */

START_TEST(additive)
{
    uint32_t n = (uint32_t)_i;
    th_game *g = th_game_additive(n, 100 + n);
    double want[16];
    ck_assert(th_game_closed_phi(g, want));
    check_both(g, want, "additive");
    th_game_free(g);
}
END_TEST

START_TEST(unanimity_single)
{
    /* u_T with T = {1, 3, 4} in n = 6, coefficient 2.5: each member gets
     * 2.5 / 3, everyone else 0 (null players). */
    th_game *g = th_game_new(TH_SOUM, 6);
    g->nterms = 1;
    g->coef = malloc(sizeof *g->coef);
    g->members = calloc(1, sizeof *g->members);
    ck_assert_ptr_nonnull(g->coef);
    ck_assert_ptr_nonnull(g->members);
    g->coef[0] = 2.5;
    g->members[0] = (1u << 1) | (1u << 3) | (1u << 4);
    double want[6] = {0, 2.5 / 3, 0, 2.5 / 3, 2.5 / 3, 0};
    check_both(g, want, "unanimity {1,3,4}");
    th_game_free(g);
}
END_TEST

START_TEST(sum_of_unanimity)
{
    uint32_t n = 3u + (uint32_t)_i; /* 3 .. 12 */
    th_game *g = th_game_soum(n, 2u * n, 5, 200 + (uint64_t)_i);
    double want[16];
    ck_assert(th_game_closed_phi(g, want));
    check_both(g, want, "sum of unanimity games");
    th_game_free(g);
}
END_TEST

START_TEST(glove)
{
    /* One left glove against m right gloves: the left holder completes a
     * pair whenever a right holder precedes it, probability m / (m + 1); the
     * rest, 1 / (m + 1) in all, is shared by the m right holders. */
    for (uint32_t m = 1; m <= 6; m++) {
        th_game *g = th_game_glove(m + 1, 1u);
        double want[8];
        want[0] = (double)m / (double)(m + 1);
        for (uint32_t i = 1; i <= m; i++)
            want[i] = 1.0 / ((double)m * (double)(m + 1));
        check_both(g, want, "glove 1 vs m");
        th_game_free(g);
    }
    /* Two left holders, one right: the mirror image. */
    th_game *g = th_game_glove(3, 3u);
    double want3[3] = {1.0 / 6, 1.0 / 6, 2.0 / 3};
    check_both(g, want3, "glove 2 vs 1");
    th_game_free(g);
    /* k against k: everyone symmetric, v(all) = k over 2k players. */
    g = th_game_glove(8, 0x0Fu);
    double half[8] = {0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5};
    check_both(g, half, "glove 4 vs 4");
    th_game_free(g);
}
END_TEST

START_TEST(airport)
{
    /* Unsorted costs with a tie: the closed form sorts them. Hand-checked:
     * sorted 1, 1, 2, 4, 4, 7 -> 1/6, 1/6, 1/6 + 1/4, then + 2/3, + 0,
     * + 3/1. */
    const double costs[6] = {4, 1, 7, 2, 1, 4};
    th_game *g = th_game_airport(6, costs);
    double want[6];
    ck_assert(th_game_closed_phi(g, want));
    const double a = 1.0 / 6, b = a + 1.0 / 4, c = b + 2.0 / 3;
    const double hand[6] = {c, a, c + 3.0, b, a, c};
    th_assert_vec_near(want, hand, 6, 1e-15, "airport closed form");
    check_both(g, want, "airport");
    th_game_free(g);

    /* A larger one from the seeded generator. */
    th_rng r = th_rng_make(9);
    double big[11];
    for (uint32_t i = 0; i < 11; i++)
        big[i] = (double)(1 + th_rng_below(&r, 20));
    g = th_game_airport(11, big);
    double want11[11];
    ck_assert(th_game_closed_phi(g, want11));
    check_both(g, want11, "airport n=11");
    th_game_free(g);
}
END_TEST

/* Weighted voting, counted independently of any value table: over all n!
 * orders, the pivot is the player whose arrival first brings the weight to
 * the quota; phi_i = (orders where i is pivotal) / n!. */
static void voting_pivots(uint32_t n, const double *w, double quota,
                          double *phi)
{
    uint32_t perm[10], c[10];
    double pivots[10] = {0}, orders = 0;
    for (uint32_t i = 0; i < n; i++) {
        perm[i] = i;
        c[i] = 0;
    }
    for (;;) {
        double sum = 0;
        for (uint32_t pos = 0; pos < n; pos++) {
            sum += w[perm[pos]];
            if (sum >= quota) {
                pivots[perm[pos]] += 1;
                break;
            }
        }
        orders += 1;
        uint32_t i = 1;
        while (i < n && c[i] >= i)
            c[i++] = 0;
        if (i >= n)
            break;
        uint32_t j = (i % 2u == 0) ? 0 : c[i];
        uint32_t t = perm[j];
        perm[j] = perm[i];
        perm[i] = t;
        c[i]++;
    }
    for (uint32_t i = 0; i < n; i++)
        phi[i] = pivots[i] / orders;
}

START_TEST(weighted_voting)
{
    /* [6; 4, 3, 2, 1, 1]: some coalitions reach the quota exactly (the
     * quota counts as winning). */
    {
        const double w[5] = {4, 3, 2, 1, 1};
        double want[5];
        voting_pivots(5, w, 6, want);
        th_game *g = th_game_voting(5, w, 6);
        check_both(g, want, "voting [6; 4,3,2,1,1]");
        th_game_free(g);
    }
    /* random integer weights, quota about half the total, n = 4 .. 8 */
    th_rng r = th_rng_make(31);
    for (uint32_t n = 4; n <= 8; n++) {
        double w[8], total = 0;
        for (uint32_t i = 0; i < n; i++) {
            w[i] = (double)(1 + th_rng_below(&r, 9));
            total += w[i];
        }
        double quota = floor(total / 2) + 1;
        double want[8];
        voting_pivots(n, w, quota, want);
        th_game *g = th_game_voting(n, w, quota);
        check_both(g, want, "voting random");
        th_game_free(g);
    }
}
END_TEST

START_TEST(voting_pivot_count_sane)
{
    /* The counting oracle itself: a dictator gets 1; in [2; 1, 1] each gets
     * 1/2; in [3; 2, 1, 1] (2 needs one partner) the large player gets 2/3. */
    double phi[3];
    const double d[3] = {5, 1, 1};
    voting_pivots(3, d, 5, phi);
    ck_assert(phi[0] == 1 && phi[1] == 0 && phi[2] == 0);
    const double m[3] = {2, 1, 1};
    voting_pivots(3, m, 3, phi);
    ck_assert(fabs(phi[0] - 2.0 / 3) < 1e-15);
    ck_assert(fabs(phi[1] - 1.0 / 6) < 1e-15);
}
END_TEST

/* ===================================================================== */
/* Random games against brute force                                      */
/* ===================================================================== */

START_TEST(random_vs_brute_force)
{
    uint32_t n = 1u + (uint32_t)_i % 10u; /* 1 .. 10, twice */
    th_game *g = th_game_random_table(n, 1000 + (uint64_t)_i);
    double want[10], perm[10];
    th_shapley_subsets(n, g->table, want);
    if (n <= 8) {
        /* the two textbook formulas agree: the oracle is trustworthy */
        th_shapley_perms(n, g->table, perm);
        th_assert_vec_near(perm, want, n, 1e-12, "subsets vs permutations");
    }
    check_both(g, want, "random game");
    th_game_free(g);
}
END_TEST

START_TEST(table_n16_vs_brute_force)
{
    th_game *g = th_game_random_table(16, 4242);
    double want[16], phi[16];
    th_shapley_subsets(16, g->table, want);
    exact_by_table(g, phi);
    th_assert_vec_near(phi, want, 16, EXACT_REL * table_scale(g->table, 16),
                       "n=16 table");
    th_game_free(g);
}
END_TEST

START_TEST(estimator_n14_equals_table)
{
    /* 16382 evaluations in batches: the engine's bookkeeping at size. */
    th_game *g = th_game_random_table(14, 99);
    double a[14], b[14], se[14];
    exact_by_table(g, a);
    exact_by_estimator(g, b, se);
    th_assert_vec_near(b, a, 14, EXACT_REL * table_scale(g->table, 14),
                       "n=14 estimator vs table");
    th_game_free(g);
}
END_TEST

/* ===================================================================== */
/* Axioms                                                                */
/* ===================================================================== */

START_TEST(axiom_efficiency)
{
    uint32_t n = 2u + (uint32_t)_i; /* 2 .. 10 */
    th_game *g = th_game_random_table(n, 300 + (uint64_t)_i);
    /* make the ends far from 0 so that relative accuracy is meaningful */
    g->table[0] = -3.5;
    g->table[((uint64_t)1 << n) - 1u] = 17.25;
    double phi[10], se[10];
    exact_by_table(g, phi); /* both assert conservation */
    exact_by_estimator(g, phi, se);
    ck_assert(fabs(th_sum(phi, n) - 20.75) <= 1e-12 * 20.75);
    th_game_free(g);
}
END_TEST

static uint64_t swap_bits(uint64_t S, uint32_t a, uint32_t b)
{
    uint64_t ba = (S >> a) & 1u, bb = (S >> b) & 1u;
    S &= ~(((uint64_t)1 << a) | ((uint64_t)1 << b));
    return S | (ba << b) | (bb << a);
}

START_TEST(axiom_symmetry)
{
    /* v(S) = f(S) + f(swap(S)) makes players 2 and 5 interchangeable. */
    uint32_t n = 7;
    th_game *f = th_game_random_table(n, 400 + (uint64_t)_i);
    th_game *g = th_game_random_table(n, 0);
    for (uint64_t S = 0; S < ((uint64_t)1 << n); S++)
        g->table[S] = f->table[S] + f->table[swap_bits(S, 2, 5)];
    double phi[7], se[7];
    exact_by_table(g, phi);
    ck_assert_msg(fabs(phi[2] - phi[5]) <= 1e-12 * table_scale(g->table, n),
                  "table: %.17g vs %.17g", phi[2], phi[5]);
    exact_by_estimator(g, phi, se);
    ck_assert_msg(fabs(phi[2] - phi[5]) <= 1e-12 * table_scale(g->table, n),
                  "estimator: %.17g vs %.17g", phi[2], phi[5]);
    /* and the game is not trivially symmetric in other players */
    ck_assert(fabs(phi[0] - phi[1]) > 1e-6);
    th_game_free(f);
    th_game_free(g);
}
END_TEST

START_TEST(axiom_null_player)
{
    /* v(S) = f(S without player k): k adds nothing anywhere. */
    uint32_t n = 8, k = (uint32_t)_i % n;
    th_game *f = th_game_random_table(n, 500 + (uint64_t)_i);
    th_game *g = th_game_random_table(n, 0);
    for (uint64_t S = 0; S < ((uint64_t)1 << n); S++)
        g->table[S] = f->table[S & ~((uint64_t)1 << k)];
    double phi[8], se[8];
    double tol = 1e-12 * table_scale(g->table, n);
    exact_by_table(g, phi);
    ck_assert_msg(fabs(phi[k]) <= tol, "table: null player %u got %.3g", k,
                  phi[k]);
    exact_by_estimator(g, phi, se);
    ck_assert_msg(fabs(phi[k]) <= tol, "estimator: null player %u got %.3g",
                  k, phi[k]);
    th_game_free(f);
    th_game_free(g);
}
END_TEST

START_TEST(axiom_additivity)
{
    uint32_t n = 6u + (uint32_t)_i % 4u;
    th_game *v = th_game_random_table(n, 600 + (uint64_t)_i);
    th_game *w = th_game_random_table(n, 700 + (uint64_t)_i);
    th_game *vw = th_game_random_table(n, 0);
    for (uint64_t S = 0; S < ((uint64_t)1 << n); S++)
        vw->table[S] = v->table[S] + w->table[S];
    double pv[10], pw[10], pvw[10], sum[10], se[10];
    exact_by_estimator(v, pv, se);
    exact_by_estimator(w, pw, se);
    exact_by_estimator(vw, pvw, se);
    for (uint32_t i = 0; i < n; i++)
        sum[i] = pv[i] + pw[i];
    th_assert_vec_near(pvw, sum, n, 1e-12 * table_scale(vw->table, n),
                       "phi(v + w) vs phi(v) + phi(w)");
    exact_by_table(vw, pvw);
    th_assert_vec_near(pvw, sum, n, 1e-12 * table_scale(vw->table, n),
                       "table: phi(v + w)");
    th_game_free(v);
    th_game_free(w);
    th_game_free(vw);
}
END_TEST

/* ===================================================================== */
/* Audit and budget                                                      */
/* ===================================================================== */

START_TEST(known_values_cost_nothing)
{
    uint32_t n = 6;
    th_game *g = th_game_random_table(n, 7);
    ac_estimator *e = th_est(n, AC_METHOD_EXACT, 5000, 0);
    th_oracle o;
    double phi[6];
    th_est_ends(e, g);
    th_oracle_init(&o, g, 1);
    o.forbid_ends = 1;
    th_ok(ac_estimator_set_int(e, AC_ESTIMATOR_PARAM_BATCH, 5), e);
    th_ok(th_run(e, &o, phi, NULL), e);
    th_oracle_assert_clean(&o);
    ck_assert_uint_eq(o.duplicates, 0);
    ck_assert_int_eq(th_audit(e, AC_ESTIMATOR_AUDIT_EVALUATIONS), 62);
    ck_assert_int_eq(th_audit(e, AC_ESTIMATOR_AUDIT_COALITIONS), 62);
    ck_assert_int_eq(th_audit(e, AC_ESTIMATOR_AUDIT_REPEATS), 0);
    ck_assert_int_eq(th_audit(e, AC_ESTIMATOR_AUDIT_FAILURES), 0);
    ck_assert_int_eq(th_audit(e, AC_ESTIMATOR_AUDIT_RETRIES), 0);
    ck_assert_int_eq(th_audit(e, AC_ESTIMATOR_AUDIT_KNOWN), 2);
    ck_assert_int_eq(th_audit(e, AC_ESTIMATOR_AUDIT_BUDGET), 5000);
    ck_assert_int_eq(th_audit(e, AC_ESTIMATOR_AUDIT_METHOD), AC_METHOD_EXACT);
    ck_assert_int_eq(th_audit(e, AC_ESTIMATOR_AUDIT_OUTCOME), AC_ESTIMATOR_OUTCOME_COMPLETE);
    /* exact asks nothing twice: at most the known values answer requests */
    int64_t hits = th_audit(e, AC_ESTIMATOR_AUDIT_CACHE_HITS);
    ck_assert_msg(hits >= 0 && hits <= 2, "cache hits %lld", (long long)hits);
    /* rounds are oracle calls; AC_ESTIMATOR_PARAM_BATCH caps each */
    ck_assert_int_eq(th_audit(e, AC_ESTIMATOR_AUDIT_ROUNDS), (int64_t)o.calls);
    ck_assert_uint_le(o.max_count, 5);
    ck_assert_uint_ge(o.calls, 13); /* ceil(62 / 5) */
    ck_assert_uint_eq(o.evals, 62);
    th_oracle_fini(&o);
    ac_estimator_free(e);
    th_game_free(g);
}
END_TEST

START_TEST(more_known_values_fewer_evaluations)
{
    /* Give all singletons too: 62 - 6 evaluations remain. Giving one twice
     * replaces it (the second value is the one used). */
    uint32_t n = 6;
    th_game *g = th_game_random_table(n, 8);
    ac_estimator *e = th_est(n, AC_METHOD_EXACT, 5000, 0);
    th_oracle o;
    double phi[6], want[6];
    th_shapley_subsets(n, g->table, want);
    th_est_ends(e, g);
    for (uint32_t i = 0; i < n; i++) {
        uint64_t c = (uint64_t)1 << i;
        th_ok(ac_estimator_set_value(e, &c, 1, 12345.0), e); /* replaced */
        th_ok(ac_estimator_set_value(e, &c, 1, g->table[c]), e);
    }
    th_oracle_init(&o, g, 1);
    th_ok(th_run(e, &o, phi, NULL), e);
    ck_assert_int_eq(th_audit(e, AC_ESTIMATOR_AUDIT_KNOWN), 8);
    ck_assert_int_eq(th_audit(e, AC_ESTIMATOR_AUDIT_EVALUATIONS), 56);
    ck_assert_uint_eq(o.evals, 56);
    for (uint32_t i = 0; i < n; i++)
        ck_assert_msg(!o.seen[(uint64_t)1 << i], "singleton %u evaluated", i);
    th_assert_vec_near(phi, want, n, 1e-12, "with known singletons");
    th_oracle_fini(&o);
    ac_estimator_free(e);
    th_game_free(g);
}
END_TEST

START_TEST(no_known_values_all_evaluated)
{
    uint32_t n = 5;
    th_game *g = th_game_random_table(n, 9);
    ac_estimator *e = th_est(n, AC_METHOD_EXACT, 32, 0); /* exactly enough */
    th_oracle o;
    double phi[5], want[5];
    th_shapley_subsets(n, g->table, want);
    th_oracle_init(&o, g, 1);
    th_ok(th_run(e, &o, phi, NULL), e);
    ck_assert_int_eq(th_audit(e, AC_ESTIMATOR_AUDIT_EVALUATIONS), 32);
    ck_assert_int_eq(th_audit(e, AC_ESTIMATOR_AUDIT_KNOWN), 0);
    ck_assert_uint_eq(o.evals, 32);
    ck_assert_uint_eq(o.duplicates, 0);
    th_assert_vec_near(phi, want, n, 1e-12, "no known values");
    th_assert_conserves(phi, n, g->table[31], g->table[0]);
    th_oracle_fini(&o);
    ac_estimator_free(e);
    th_game_free(g);
}
END_TEST

START_TEST(budget_too_small)
{
    /* 62 unknown coalitions, a budget of 61: the exact method cannot pay and
     * says so before spending anything. */
    uint32_t n = 6;
    th_game *g = th_game_random_table(n, 10);
    ac_estimator *e = th_est(n, AC_METHOD_EXACT, 61, 0);
    th_oracle o;
    double phi[6] = {7, 7, 7, 7, 7, 7};
    static const char *const kw[] = {"budget", NULL};
    th_est_ends(e, g);
    th_oracle_init(&o, g, 0);
    ck_assert_int_eq(th_run(e, &o, phi, NULL), AC_E_BUDGET);
    ck_assert_msg(th_names(ac_estimator_last_error(e), kw),
                  "last_error \"%s\" does not name the budget",
                  ac_estimator_last_error(e));
    ck_assert_uint_eq(o.calls, 0);
    ck_assert_int_eq(th_audit(e, AC_ESTIMATOR_AUDIT_EVALUATIONS), 0);
    /* A run that cannot start has not started: the handle stays idle. */
    ck_assert_int_eq(th_audit(e, AC_ESTIMATOR_AUDIT_OUTCOME),
                     AC_ESTIMATOR_OUTCOME_PENDING);
    int32_t done = -1;
    ck_assert_int_eq(ac_estimator_progress(e, &done, NULL), AC_OK);
    ck_assert_int_eq(done, 0);
    ck_assert_int_ne(ac_estimator_result(e, phi, NULL, n), AC_OK);
    ck_assert(phi[0] == 7 && phi[5] == 7);

    /* one more evaluation of budget is enough, without a reset */
    th_ok(ac_estimator_set_int(e, AC_ESTIMATOR_PARAM_BUDGET, 62), e);
    th_ok(th_run(e, &o, phi, NULL), e);
    ck_assert_int_eq(th_audit(e, AC_ESTIMATOR_AUDIT_EVALUATIONS), 62);
    th_oracle_fini(&o);
    ac_estimator_free(e);
    th_game_free(g);
}
END_TEST

/* An oracle that must not be called: counts calls and aborts the run. */
static int never_oracle(void *user, const uint64_t *coalitions, uint32_t words,
                        uint32_t count, double *values, int32_t *status)
{
    (void)coalitions;
    (void)words;
    (void)count;
    (void)values;
    (void)status;
    (*(int *)user)++;
    return 1;
}

START_TEST(all_known_budget_zero)
{
    int calls = 0;
    /* Everything known: nothing to evaluate, a budget of 0 suffices and no
     * oracle is needed. n = 1 (the ends are the whole game) and n = 2. */
    ac_estimator *e = th_est(1, AC_METHOD_EXACT, 0, 0);
    uint64_t c = 0;
    double phi[2] = {0, 0}, se[2] = {1, 1};
    th_ok(ac_estimator_set_value(e, &c, 1, 0.25), e);
    c = 1;
    th_ok(ac_estimator_set_value(e, &c, 1, 1.75), e);
    th_ok(ac_estimator_set_oracle(e, never_oracle, &calls), e);
    th_ok(ac_estimator_run(e), e);
    th_ok(ac_estimator_result(e, phi, se, 1), e);
    ck_assert(phi[0] == 1.5);
    ck_assert(se[0] == 0.0);
    ck_assert_int_eq(th_audit(e, AC_ESTIMATOR_AUDIT_EVALUATIONS), 0);
    ac_estimator_free(e);

    const double v[4] = {1.0, 2.0, 4.0, 8.0};
    e = th_est(2, AC_METHOD_EXACT, 0, 0);
    for (c = 0; c < 4; c++)
        th_ok(ac_estimator_set_value(e, &c, 1, v[c]), e);
    th_ok(ac_estimator_set_oracle(e, never_oracle, &calls), e);
    th_ok(ac_estimator_run(e), e);
    th_ok(ac_estimator_result(e, phi, NULL, 2), e);
    /* phi_0 = (1 + 4) / 2, phi_1 = (3 + 6) / 2 */
    ck_assert(fabs(phi[0] - 2.5) < 1e-15 && fabs(phi[1] - 4.5) < 1e-15);
    ck_assert_int_eq(th_audit(e, AC_ESTIMATOR_AUDIT_EVALUATIONS), 0);
    ck_assert_int_eq(calls, 0);
    ac_estimator_free(e);
}
END_TEST

/* ===================================================================== */
/* Noisy oracle with repeats                                             */
/* ===================================================================== */

/* Records every draw per coalition (n <= 4) so that the test can compute
 * the means and sample variances the library should have used. */
typedef struct rec_oracle {
    const th_game *g;
    uint32_t draws[16];
    double sum[16], sumsq[16];
} rec_oracle;

static int rec_oracle_fn(void *user, const uint64_t *coalitions,
                         uint32_t words, uint32_t count, double *values,
                         int32_t *status)
{
    rec_oracle *o = user;
    for (uint32_t k = 0; k < count; k++) {
        uint64_t S = coalitions[(size_t)k * words];
        /* noise from the coalition and the draw number, not the order */
        uint64_t h = th_mix(S * 1000003u + o->draws[S]);
        double x = th_game_value_mask(o->g, S) +
                   0.4 * ((double)(h >> 11) / 9007199254740992.0 - 0.5);
        o->draws[S]++;
        o->sum[S] += x;
        o->sumsq[S] += x * x;
        values[k] = x;
        status[k] = 0;
    }
    return 0;
}

/* Runs exact on a game given by its table (n = 3, ends known) through the
 * plain oracle, with the repeats and the noise flag given; se out. */
static void run_exact_table(const double *table, int64_t repeats,
                            int64_t noisy, double *phi, double *se)
{
    th_game *g = th_game_from_table(3, table);
    ac_estimator *e = th_est(3, AC_METHOD_EXACT, 1000, 0);
    th_oracle o;
    th_oracle_init(&o, g, 0);
    th_est_ends(e, g);
    th_ok(ac_estimator_set_int(e, AC_ESTIMATOR_PARAM_REPEATS, repeats), e);
    th_ok(ac_estimator_set_int(e, AC_ESTIMATOR_PARAM_NOISY, noisy), e);
    th_ok(ac_estimator_set_oracle(e, th_oracle_fn, &o), e);
    th_ok(ac_estimator_run(e), e);
    th_ok(ac_estimator_result(e, phi, se, 3), e);
    th_assert_conserves(phi, 3, table[7], table[0]);
    ac_estimator_free(e);
    th_game_free(g);
}

/* 0/1 rollouts that agreed twice are not certain: the variance of a 0/1
 * value follows from its success rate, shrunk towards its layer's (it was
 * 0 for 11% of the runs of a 3-agent team). */
START_TEST(binary_repeats_that_agree_keep_an_error)
{
    const double table[8] = {0, 1, 0, 1, 1, 1, 0, 1};
    double phi[3], se[3];
    run_exact_table(table, 2, 0, phi, se);
    /* p(S) = (2 x(S) + 2 layer) / 4, layer = (hits + 1) / (seen + 2). */
    double layer1 = (2.0 * 2 + 1) / (6 + 2), layer2 = (2.0 * 2 + 1) / (6 + 2);
    double var[8] = {0};
    for (uint64_t S = 1; S < 7; S++) {
        double layer = th_popcount64(S) == 1 ? layer1 : layer2;
        double p = (2.0 * table[S] + 2.0 * layer) / 4.0;
        var[S] = p * (1 - p) / 2.0;
    }
    for (uint32_t i = 0; i < 3; i++) {
        double s2 = 0;
        for (uint64_t S = 1; S < 7; S++) {
            uint32_t z = th_popcount64(S);
            double c = (S >> i) & 1u ? th_weight(3, z - 1u) : -th_weight(3, z);
            s2 += c * c * var[S];
        }
        ck_assert_msg(se[i] > 0 && fabs(se[i] - sqrt(s2)) <= 1e-12,
                      "se[%u] %.17g want %.17g", i, se[i], sqrt(s2));
    }
}
END_TEST

/* Declared noisy, one evaluation each: values that are not 0/1 show no
 * noise, so the error is unknown (infinite), never 0; 0/1 values have
 * their variance from their rate. A deterministic oracle keeps 0. */
START_TEST(noisy_single_evaluations_are_not_certain)
{
    const double real[8] = {0, 0.2, 0.5, 0.9, 0.3, 0.6, 0.7, 1.4};
    const double binary[8] = {0, 1, 0, 1, 0, 1, 1, 1};
    double phi[3], se[3];
    run_exact_table(real, 1, 1, phi, se);
    for (uint32_t i = 0; i < 3; i++)
        ck_assert_msg(isinf(se[i]) && se[i] > 0, "se[%u] = %g", i, se[i]);
    run_exact_table(binary, 1, 1, phi, se);
    for (uint32_t i = 0; i < 3; i++)
        ck_assert_msg(isfinite(se[i]) && se[i] > 0.05, "se[%u] = %g", i,
                      se[i]);
    run_exact_table(real, 1, 0, phi, se);
    for (uint32_t i = 0; i < 3; i++)
        ck_assert_msg(se[i] == 0.0, "se[%u] = %g", i, se[i]);
}
END_TEST

/* The case: a noisy 0/1 oracle at a budget of exactly the table.
 * AUTO takes a sampled method (the table leaves no retry margin), which
 * reaches every coalition and reports the exact values: with errors. */
START_TEST(auto_noisy_at_table_budget_reports_errors)
{
    const uint32_t n = 4;
    double table[16];
    for (uint64_t S = 0; S < 16; S++)
        table[S] = (double)(th_popcount64(S) >= 2 || S == 1);
    table[0] = 0;
    th_game *g = th_game_from_table(n, table);
    ac_estimator *e = th_est(n, AC_METHOD_AUTO, 14, 3);
    th_oracle o;
    th_oracle_init(&o, g, 0);
    th_est_ends(e, g);
    th_ok(ac_estimator_set_int(e, AC_ESTIMATOR_PARAM_NOISY, 1), e);
    th_ok(ac_estimator_set_oracle(e, th_oracle_fn, &o), e);
    th_ok(ac_estimator_run(e), e);
    double phi[4], se[4];
    th_ok(ac_estimator_result(e, phi, se, n), e);
    ck_assert_int_eq(th_audit(e, AC_ESTIMATOR_AUDIT_COALITIONS), 14);
    for (uint32_t i = 0; i < n; i++)
        ck_assert_msg(isfinite(se[i]) && se[i] > 0, "se[%u] = %g", i, se[i]);
    ac_estimator_free(e);
    th_game_free(g);
}
END_TEST

START_TEST(noisy_repeats_standard_errors)
{
    /* n = 3, ends known, 4 repeats: 6 coalitions x 4 = 24 evaluations.
     * phi_i = sum_S c_iS mean(S) and se_i = sqrt(sum_S c_iS^2 s2(S) / r)
     * with c_iS = w(|S|-1) if i in S else -w(|S|) and s2 the unbiased sample
     * variance shrunk towards its layer's; known coalitions have none. */
    const uint32_t n = 3, r = 4;
    th_game *g = th_game_random_table(n, 21);
    ac_estimator *e = th_est(n, AC_METHOD_EXACT, 1000, 0);
    rec_oracle o;
    memset(&o, 0, sizeof o);
    o.g = g;
    th_est_ends(e, g);
    th_ok(ac_estimator_set_int(e, AC_ESTIMATOR_PARAM_REPEATS, r), e);
    th_ok(ac_estimator_set_oracle(e, rec_oracle_fn, &o), e);
    th_ok(ac_estimator_run(e), e);
    double phi[3], se[3];
    th_ok(ac_estimator_result(e, phi, se, n), e);
    ck_assert_int_eq(th_audit(e, AC_ESTIMATOR_AUDIT_EVALUATIONS), 24);
    ck_assert_int_eq(th_audit(e, AC_ESTIMATOR_AUDIT_COALITIONS), 6);
    ck_assert_int_eq(th_audit(e, AC_ESTIMATOR_AUDIT_REPEATS), 18);

    double mean[8], var[8];
    for (uint64_t S = 0; S < 8; S++) {
        if (S == 0 || S == 7) {
            ck_assert_uint_eq(o.draws[S], 0);
            mean[S] = g->table[S];
            var[S] = 0;
            continue;
        }
        ck_assert_uint_eq(o.draws[S], r);
        mean[S] = o.sum[S] / r;
        var[S] = (o.sumsq[S] - r * mean[S] * mean[S]) / (r - 1);
    }
    /* Each sample variance is shrunk towards its size layer's pooled one,
     * with the layer weighing 2 evaluations (docs/estimators.md). */
    double pool[4] = {0}, shrunk[8];
    for (uint64_t S = 1; S < 7; S++)
        pool[th_popcount64(S)] += var[S] / 3.0;
    for (uint64_t S = 0; S < 8; S++)
        shrunk[S] = S == 0 || S == 7
                        ? 0.0
                        : (2.0 * pool[th_popcount64(S)] + (r - 1) * var[S]) /
                              (2.0 + (r - 1));
    for (uint32_t i = 0; i < n; i++) {
        double p = 0, s2 = 0;
        for (uint64_t S = 0; S < 8; S++) {
            uint32_t size = th_popcount64(S);
            double c = (S >> i) & 1u ? th_weight(n, size - 1u)
                                     : -th_weight(n, size);
            p += c * mean[S];
            s2 += c * c * shrunk[S] / r;
        }
        ck_assert_msg(fabs(phi[i] - p) <= 1e-12, "phi[%u] %.17g want %.17g", i,
                      phi[i], p);
        ck_assert_msg(se[i] > 0 && isfinite(se[i]), "se[%u] = %g", i, se[i]);
        ck_assert_msg(fabs(se[i] - sqrt(s2)) <= 1e-9 * sqrt(s2),
                      "se[%u] %.17g want %.17g", i, se[i], sqrt(s2));
    }
    th_assert_conserves(phi, n, g->table[7], g->table[0]);
    ac_estimator_free(e);
    th_game_free(g);
}
END_TEST

static Suite *exact_suite(void)
{
    Suite *s = suite_create("exact");
    TCase *tc = th_tcase(s, "closed_form");
    tcase_add_loop_test(tc, additive, 1, 11);
    tcase_add_test(tc, unanimity_single);
    tcase_add_loop_test(tc, sum_of_unanimity, 0, 10);
    tcase_add_test(tc, glove);
    tcase_add_test(tc, airport);
    tcase_add_test(tc, weighted_voting);
    tcase_add_test(tc, voting_pivot_count_sane);
    tc = th_tcase(s, "brute_force");
    tcase_add_loop_test(tc, random_vs_brute_force, 0, 20);
    tcase_add_test(tc, table_n16_vs_brute_force);
    tcase_add_test(tc, estimator_n14_equals_table);
    tc = th_tcase(s, "axioms");
    tcase_add_loop_test(tc, axiom_efficiency, 0, 9);
    tcase_add_loop_test(tc, axiom_symmetry, 0, 3);
    tcase_add_loop_test(tc, axiom_null_player, 0, 8);
    tcase_add_loop_test(tc, axiom_additivity, 0, 4);
    tc = th_tcase(s, "audit");
    tcase_add_test(tc, known_values_cost_nothing);
    tcase_add_test(tc, more_known_values_fewer_evaluations);
    tcase_add_test(tc, no_known_values_all_evaluated);
    tcase_add_test(tc, budget_too_small);
    tcase_add_test(tc, all_known_budget_zero);
    tcase_add_test(tc, noisy_repeats_standard_errors);
    tcase_add_test(tc, binary_repeats_that_agree_keep_an_error);
    tcase_add_test(tc, noisy_single_evaluations_are_not_certain);
    tcase_add_test(tc, auto_noisy_at_table_budget_reports_errors);
    return s;
}

int main(void)
{
    return th_run_suite(exact_suite());
}
