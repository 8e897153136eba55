/* SPDX-License-Identifier: MIT
 *
 * Longevity: what a handle that lives inside a training worker for millions
 * of episodes must survive (issue 13).
 *
 *  1. Long-lived handles (defect 2). Each of the estimator, the refiner and
 *     the localizer takes 2^24 + 10 AC_RESET_SESSION calls; then a ticket
 *     from before them is refused as stale, the new tickets are larger than
 *     every earlier one, and a real run succeeds with the result of a fresh
 *     handle, bit for bit. The session number used to sit in a ticket's top
 *     24 bits and was compared untruncated: after 2^24 resets every run
 *     failed for good. The resets cost about 0.3 s per object (0.7 s under
 *     ASan), so all three take the full count. AC_TEST_RESETS lowers it for
 *     a slow checker (valgrind), which then checks the rest the same way.
 *  2. Tell cost (defect 3 and its relatives). Inputs so large that the
 *     quadratic code could not finish within meson's 120 s (each test says
 *     what it took), while the calls themselves now take milliseconds (a
 *     second or so a test with its setup and checks): one tell of
 *     2^20 refiner tickets; 2^21 tells of one ticket each after one ask of
 *     them all; localizer rounds of 4096 answers on 2^20 messages, noisy and
 *     exact.
 *  3. Extreme values in the refiner and the localizer: credits up to
 *     DBL_MAX, bounds up to 1e300, beta up to 1e6, denormals; priors,
 *     scores and answers at their extremes. Every success is checked: every
 *     number finite, the rewards conserving credit to a relative 1e-12 and
 *     keeping their bound, sign and order, the posterior a distribution.
 */
#include "helpers.h"

/* ===================================================================== */
/* Shared                                                                */
/* ===================================================================== */

#define RESETS_DEFAULT ((1u << 24) + 10u)

static uint32_t resets_wanted(void)
{
    const char *s = getenv("AC_TEST_RESETS");
    if (s == NULL || *s == '\0')
        return RESETS_DEFAULT;
    char *end = NULL;
    unsigned long v = strtoul(s, &end, 10);
    ck_assert_msg(end != s && *end == '\0' && v >= 2 && v <= UINT32_MAX,
                  "AC_TEST_RESETS=%s is not a count >= 2", s);
    return (uint32_t)v;
}

/* An assertion for loops: Check's own ck_assert marks every passing line
 * with a write to its parent process, which in a loop over a million
 * values costs more than the library. */
#define REQUIRE(cond, ...)                                                   \
    do {                                                                     \
        if (!(cond))                                                         \
            ck_abort_msg(__VA_ARGS__);                                       \
    } while (0)

static int same_bits(double a, double b)
{
    return memcmp(&a, &b, sizeof a) == 0;
}

static void assert_same_doubles(const double *a, const double *b, uint32_t n,
                                const char *what)
{
    for (uint32_t i = 0; i < n; i++)
        REQUIRE(same_bits(a[i], b[i]),
                      "%s[%u]: %.17g after the resets, %.17g on a fresh "
                      "handle", what, i, a[i], b[i]);
}

/* ===================================================================== */
/* 1. Long-lived handles                                                 */
/* ===================================================================== */

#define EST_N 6u

typedef struct est_result {
    double phi[EST_N], se[EST_N];
    int64_t evaluations;
} est_result;

static void est_finish_run(ac_estimator *e, th_oracle *o, est_result *r)
{
    th_ok(ac_estimator_set_oracle(e, th_oracle_fn, o), e);
    th_ok(ac_estimator_run(e), e);
    th_ok(ac_estimator_result(e, r->phi, r->se, EST_N), e);
    r->evaluations = th_audit(e, AC_ESTIMATOR_AUDIT_EVALUATIONS);
}

/* Asks one coalition: returns its ticket, the coalition in *c. */
static uint64_t est_ask_one(ac_estimator *e, uint64_t *c)
{
    uint64_t ticket = 0;
    uint32_t count = 0;
    th_ok(ac_estimator_ask(e, 1, &ticket, c, &count), e);
    ck_assert_uint_eq(count, 1);
    return ticket;
}

START_TEST(estimator_after_many_resets)
{
    const uint32_t resets = resets_wanted();
    th_game *g = th_game_random_table(EST_N, 1301);
    th_oracle o;
    th_oracle_init(&o, g, 0);
    est_result fresh, after;
    ac_estimator *f = NULL;
    ck_assert_int_eq(ac_estimator_create(&f, EST_N, NULL), AC_OK);
    est_finish_run(f, &o, &fresh);
    ac_estimator_free(f);

    ac_estimator *e = NULL;
    ck_assert_int_eq(ac_estimator_create(&e, EST_N, NULL), AC_OK);
    est_finish_run(e, &o, &after); /* a run before, as a worker's would be */
    th_ok(ac_estimator_reset(e, AC_RESET_SESSION), e);
    uint64_t c[1];
    uint64_t stale = est_ask_one(e, c), middle = 0;
    for (uint32_t i = 0; i < resets; i++) {
        int rc = ac_estimator_reset(e, AC_RESET_SESSION);
        if (rc != AC_OK)
            ck_abort_msg("reset %u of %u: %s", i, resets,
                         ac_estimator_last_error(e));
        if (i == resets / 2) { /* tickets handed out among the resets */
            middle = est_ask_one(e, c);
            ck_assert_uint_gt(middle, stale);
        }
    }
    uint64_t now = est_ask_one(e, c);
    ck_assert_uint_gt(now, middle);
    double v = th_game_value(g, c), bad = 0.5;
    ck_assert_int_eq(ac_estimator_tell(e, 1, &stale, &bad, NULL),
                     AC_E_INVALID_ARG);
    ck_assert_msg(th_icontains(ac_estimator_last_error(e), "stale"),
                  "the stale ticket's refusal: %s",
                  ac_estimator_last_error(e));
    uint64_t outstanding = 0;
    th_ok(ac_estimator_progress(e, NULL, &outstanding), e);
    ck_assert_uint_eq(outstanding, 1); /* nothing taken */
    th_ok(ac_estimator_tell(e, 1, &now, &v, NULL), e);
    est_finish_run(e, &o, &after);
    assert_same_doubles(after.phi, fresh.phi, EST_N, "phi");
    assert_same_doubles(after.se, fresh.se, EST_N, "se");
    ck_assert_int_eq(after.evaluations, fresh.evaluations);
    th_assert_conserves(after.phi, EST_N, th_game_all(g), th_game_empty(g));
    ac_estimator_free(e);
    th_oracle_fini(&o);
    th_game_free(g);
}
END_TEST

/* The refiner's episode: REF_T messages of REF_A agents, every message
 * scored by ref_scorer. */
#define REF_A 3u
#define REF_T 12u

static double ref_label(uint32_t t)
{
    return (double)((t * 7u) % 9u) / 4.0 - 1.0;
}

static int ref_scorer(void *user, const uint32_t *messages, uint32_t count,
                      double *labels, int32_t *status)
{
    (void)user;
    (void)status;
    for (uint32_t k = 0; k < count; k++)
        labels[k] = ref_label(messages[k]);
    return 0;
}

static ac_refiner *ref_new(void)
{
    static const double credit[REF_A] = {0.7, -0.4, 1.9};
    uint32_t agent_of[REF_T];
    for (uint32_t t = 0; t < REF_T; t++)
        agent_of[t] = t % REF_A;
    ac_refiner *r = NULL;
    ck_assert_int_eq(ac_refiner_create(&r, REF_A, REF_T, NULL), AC_OK);
    ck_assert_int_eq(ac_refiner_set_authors(r, agent_of, REF_T), AC_OK);
    ck_assert_int_eq(ac_refiner_set_credits(r, credit, REF_A), AC_OK);
    ck_assert_int_eq(ac_refiner_set_scorer(r, ref_scorer, NULL), AC_OK);
    return r;
}

static void ref_finish_run(ac_refiner *r, double *rewards)
{
    int rc = ac_refiner_run(r);
    ck_assert_msg(rc == AC_OK, "run: %s", ac_refiner_last_error(r));
    ck_assert_int_eq(ac_refiner_rewards(r, rewards, REF_T), AC_OK);
}

static uint64_t ref_ask_one(ac_refiner *r, uint32_t *message)
{
    uint64_t ticket = 0;
    uint32_t count = 0;
    ck_assert_int_eq(ac_refiner_ask(r, 1, &ticket, message, &count), AC_OK);
    ck_assert_uint_eq(count, 1);
    return ticket;
}

START_TEST(refiner_after_many_resets)
{
    const uint32_t resets = resets_wanted();
    double fresh[REF_T], after[REF_T];
    ac_refiner *f = ref_new();
    ref_finish_run(f, fresh);
    int64_t fresh_evals = -1;
    ck_assert_int_eq(ac_refiner_audit(f, AC_REFINER_AUDIT_EVALUATIONS,
                                      &fresh_evals), AC_OK);
    ac_refiner_free(f);

    ac_refiner *r = ref_new();
    ref_finish_run(r, after);
    ck_assert_int_eq(ac_refiner_reset(r, AC_RESET_SESSION), AC_OK);
    uint32_t m = 0;
    uint64_t stale = ref_ask_one(r, &m), middle = 0;
    for (uint32_t i = 0; i < resets; i++) {
        int rc = ac_refiner_reset(r, AC_RESET_SESSION);
        if (rc != AC_OK)
            ck_abort_msg("reset %u of %u: %s", i, resets,
                         ac_refiner_last_error(r));
        if (i == resets / 2) {
            middle = ref_ask_one(r, &m);
            ck_assert_uint_gt(middle, stale);
        }
    }
    uint64_t now = ref_ask_one(r, &m);
    ck_assert_uint_gt(now, middle);
    double label = ref_label(m), bad = 0.0;
    ck_assert_int_eq(ac_refiner_tell(r, 1, &stale, &bad, NULL),
                     AC_E_INVALID_ARG);
    ck_assert_msg(th_icontains(ac_refiner_last_error(r), "stale"),
                  "the stale ticket's refusal: %s", ac_refiner_last_error(r));
    uint64_t outstanding = 0;
    ck_assert_int_eq(ac_refiner_progress(r, NULL, &outstanding), AC_OK);
    ck_assert_uint_eq(outstanding, 1);
    ck_assert_int_eq(ac_refiner_tell(r, 1, &now, &label, NULL), AC_OK);
    ref_finish_run(r, after);
    assert_same_doubles(after, fresh, REF_T, "reward");
    int64_t evals = -1;
    ck_assert_int_eq(ac_refiner_audit(r, AC_REFINER_AUDIT_EVALUATIONS,
                                      &evals), AC_OK);
    ck_assert_int_eq(evals, fresh_evals);
    ac_refiner_free(r);
}
END_TEST

/* The localizer's episode: LOC_T messages, the first error at LOC_ERR, an
 * exact verifier. */
#define LOC_T 24u
#define LOC_ERR 17u

static double loc_answer(uint32_t prefix)
{
    return prefix < LOC_ERR ? 1.0 : 0.0;
}

static int loc_verifier(void *user, const uint32_t *prefixes, uint32_t count,
                        double *p, int32_t *status)
{
    (void)user;
    (void)status;
    for (uint32_t k = 0; k < count; k++)
        p[k] = loc_answer(prefixes[k]);
    return 0;
}

typedef struct loc_result {
    int64_t step, evaluations;
    double prob, post[LOC_T + 1];
} loc_result;

static ac_localizer *loc_new(void)
{
    ac_localizer *l = NULL;
    ck_assert_int_eq(ac_localizer_create(&l, LOC_T, NULL), AC_OK);
    ck_assert_int_eq(ac_localizer_set_verifier(l, loc_verifier, NULL), AC_OK);
    return l;
}

static void loc_finish_run(ac_localizer *l, loc_result *r)
{
    int rc = ac_localizer_run(l);
    ck_assert_msg(rc == AC_OK, "run: %s", ac_localizer_last_error(l));
    ck_assert_int_eq(ac_localizer_result(l, &r->step, NULL, &r->prob), AC_OK);
    ck_assert_int_eq(ac_localizer_posterior(l, r->post, LOC_T + 1), AC_OK);
    ck_assert_int_eq(ac_localizer_audit(l, AC_LOCALIZER_AUDIT_EVALUATIONS,
                                        &r->evaluations), AC_OK);
}

static uint64_t loc_ask_one(ac_localizer *l, uint32_t *prefix)
{
    uint64_t ticket = 0;
    uint32_t count = 0;
    ck_assert_int_eq(ac_localizer_ask(l, 1, &ticket, prefix, &count), AC_OK);
    ck_assert_uint_eq(count, 1);
    return ticket;
}

START_TEST(localizer_after_many_resets)
{
    const uint32_t resets = resets_wanted();
    loc_result fresh, after;
    ac_localizer *f = loc_new();
    loc_finish_run(f, &fresh);
    ck_assert_int_eq(fresh.step, LOC_ERR);
    ac_localizer_free(f);

    ac_localizer *l = loc_new();
    loc_finish_run(l, &after);
    ck_assert_int_eq(ac_localizer_reset(l, AC_RESET_SESSION), AC_OK);
    uint32_t prefix = 0;
    uint64_t stale = loc_ask_one(l, &prefix), middle = 0;
    for (uint32_t i = 0; i < resets; i++) {
        int rc = ac_localizer_reset(l, AC_RESET_SESSION);
        if (rc != AC_OK)
            ck_abort_msg("reset %u of %u: %s", i, resets,
                         ac_localizer_last_error(l));
        if (i == resets / 2) {
            middle = loc_ask_one(l, &prefix);
            ck_assert_uint_gt(middle, stale);
        }
    }
    uint64_t now = loc_ask_one(l, &prefix);
    ck_assert_uint_gt(now, middle);
    double p = loc_answer(prefix), bad = 0.5;
    ck_assert_int_eq(ac_localizer_tell(l, 1, &stale, &bad, NULL),
                     AC_E_INVALID_ARG);
    ck_assert_msg(th_icontains(ac_localizer_last_error(l), "stale"),
                  "the stale ticket's refusal: %s",
                  ac_localizer_last_error(l));
    uint64_t outstanding = 0;
    ck_assert_int_eq(ac_localizer_progress(l, NULL, &outstanding), AC_OK);
    ck_assert_uint_eq(outstanding, 1);
    ck_assert_int_eq(ac_localizer_tell(l, 1, &now, &p, NULL), AC_OK);
    loc_finish_run(l, &after);
    ck_assert_int_eq(after.step, fresh.step);
    ck_assert(same_bits(after.prob, fresh.prob));
    assert_same_doubles(after.post, fresh.post, LOC_T + 1, "posterior");
    ck_assert_int_eq(after.evaluations, fresh.evaluations);
    ac_localizer_free(l);
}
END_TEST

/* Tickets count up over the handle's life, across sessions: every ticket
 * of a later session is larger than every one before, and a ticket of any
 * earlier session is refused as stale (not as "never handed out"), even
 * when it was told in its own session. */
START_TEST(tickets_never_reused)
{
    ac_refiner *r = ref_new();
    uint64_t last = 0, first_of[5];
    for (int session = 0; session < 5; session++) {
        uint64_t tickets[REF_T];
        uint32_t messages[REF_T], count = 0;
        double labels[REF_T];
        ck_assert_int_eq(ac_refiner_ask(r, REF_T, tickets, messages, &count),
                         AC_OK);
        ck_assert_uint_eq(count, REF_T);
        for (uint32_t k = 0; k < count; k++) {
            ck_assert_uint_gt(tickets[k], last);
            last = tickets[k];
            labels[k] = ref_label(messages[k]);
        }
        first_of[session] = tickets[0];
        ck_assert_int_eq(ac_refiner_tell(r, count, tickets, labels, NULL),
                         AC_OK);
        for (int before = 0; before < session; before++) {
            /* the run is still waiting (its next ask refines), so the
             * tell is checked, not refused for want of a run */
            double zero = 0.0;
            ck_assert_int_eq(ac_refiner_tell(r, 1, &first_of[before], &zero,
                                             NULL), AC_E_INVALID_ARG);
            ck_assert_msg(th_icontains(ac_refiner_last_error(r), "stale"),
                          "session %d's ticket in session %d: %s", before,
                          session, ac_refiner_last_error(r));
        }
        ck_assert_int_eq(ac_refiner_reset(r, AC_RESET_SESSION), AC_OK);
    }
    ac_refiner_free(r);
}
END_TEST

/* ===================================================================== */
/* 2. Tell cost                                                          */
/* ===================================================================== */

/* Episodes of a million messages and more, 16384 agents. */
#define BIG_A 16384u

static double big_label(uint32_t t)
{
    return (double)(th_mix(t) % 2001u) / 1000.0 - 1.0;
}

static int big_scorer(void *user, const uint32_t *messages, uint32_t count,
                      double *labels, int32_t *status)
{
    (void)user;
    (void)status;
    for (uint32_t k = 0; k < count; k++)
        labels[k] = big_label(messages[k]);
    return 0;
}

static ac_refiner *big_refiner(uint32_t T)
{
    uint32_t *agent_of = malloc(T * sizeof *agent_of);
    double *credit = malloc(BIG_A * sizeof *credit);
    ck_assert(agent_of && credit);
    for (uint32_t t = 0; t < T; t++)
        agent_of[t] = (uint32_t)(th_mix(t + 77u) % BIG_A);
    for (uint32_t a = 0; a < BIG_A; a++)
        credit[a] = (double)(a % 64u) / 7.0 - 3.0;
    ac_refiner *r = NULL;
    ck_assert_int_eq(ac_refiner_create(&r, BIG_A, T, NULL), AC_OK);
    ck_assert_int_eq(ac_refiner_set_authors(r, agent_of, T), AC_OK);
    ck_assert_int_eq(ac_refiner_set_credits(r, credit, BIG_A), AC_OK);
    free(agent_of);
    free(credit);
    return r;
}

/* The rewards of the same episode through ac_refiner_run, its scorer told
 * 64 labels a call. */
static double *big_reference(uint32_t T)
{
    ac_refiner *r = big_refiner(T);
    ck_assert_int_eq(ac_refiner_set_scorer(r, big_scorer, NULL), AC_OK);
    ck_assert_msg(ac_refiner_run(r) == AC_OK, "%s", ac_refiner_last_error(r));
    double *rewards = malloc(T * sizeof *rewards);
    ck_assert_ptr_nonnull(rewards);
    ck_assert_int_eq(ac_refiner_rewards(r, rewards, T), AC_OK);
    ac_refiner_free(r);
    return rewards;
}

/* Every ticket of the episode in one ask. */
static void big_ask_all(ac_refiner *r, uint32_t T, uint64_t *tickets,
                        uint32_t *messages)
{
    uint32_t count = 0;
    ck_assert_int_eq(ac_refiner_ask(r, T, tickets, messages, &count), AC_OK);
    ck_assert_uint_eq(count, T);
    uint64_t outstanding = 0;
    ck_assert_int_eq(ac_refiner_progress(r, NULL, &outstanding), AC_OK);
    ck_assert_uint_eq(outstanding, T);
}

/* Every label in, the next ask refines: the rewards must be those of the
 * run. */
static void big_finish(ac_refiner *r, uint32_t T, const double *want)
{
    uint64_t ticket;
    uint32_t message, count = 7;
    int32_t done = 0;
    ck_assert_int_eq(ac_refiner_ask(r, 1, &ticket, &message, &count), AC_OK);
    ck_assert_uint_eq(count, 0);
    ck_assert_int_eq(ac_refiner_progress(r, &done, NULL), AC_OK);
    ck_assert_int_eq(done, 1);
    double *rewards = malloc(T * sizeof *rewards);
    ck_assert_ptr_nonnull(rewards);
    ck_assert_int_eq(ac_refiner_rewards(r, rewards, T), AC_OK);
    ck_assert_msg(memcmp(rewards, want, T * sizeof *rewards) == 0,
                  "the rewards differ from ac_refiner_run's");
    free(rewards);
}

/* One tell of 2^20 tickets, in an order unlike the ask's. The tell of
 * API 0.x checked each told message against every earlier one of the call:
 * 200,000 messages took 18 s, so this call would take about 8 minutes (that
 * check put back into the ticket table: 10.8 s of CPU at 2^18, so 170 s
 * here); the ticket table's check is linear (30 ms here). */
START_TEST(refiner_one_tell_of_a_million)
{
    const uint32_t T = 1u << 20;
    double *want = big_reference(T);
    ac_refiner *r = big_refiner(T);
    uint64_t *tickets = malloc(T * sizeof *tickets);
    uint32_t *messages = malloc(T * sizeof *messages);
    double *labels = malloc(T * sizeof *labels);
    ck_assert(tickets && messages && labels);
    big_ask_all(r, T, tickets, messages);
    /* Reverse halves: neither the ask's order nor its reverse. */
    for (uint32_t k = 0; k < T / 4; k++) {
        uint64_t t = tickets[k];
        uint32_t m = messages[k];
        tickets[k] = tickets[T / 2 - 1 - k];
        messages[k] = messages[T / 2 - 1 - k];
        tickets[T / 2 - 1 - k] = t;
        messages[T / 2 - 1 - k] = m;
    }
    for (uint32_t k = 0; k < T; k++)
        labels[k] = big_label(messages[k]);
    int rc = ac_refiner_tell(r, T, tickets, labels, NULL);
    ck_assert_msg(rc == AC_OK, "tell: %s", ac_refiner_last_error(r));
    big_finish(r, T, want);
    free(tickets);
    free(messages);
    free(labels);
    free(want);
    ac_refiner_free(r);
}
END_TEST

/* One ask of 2^21 tickets, then 2^21 tells of one ticket each, in the
 * ask's order. Each tell used to walk the told tickets at the front of the
 * table again before deciding not to drop them yet: n^2 / 6 steps,
 * 62 us a ticket at 2^20 (65 s), so about 260 s here; the table now
 * remembers where the walk stopped (13 ns a ticket, 30 ms in all). */
START_TEST(refiner_two_million_tells_of_one)
{
    const uint32_t T = 1u << 21;
    double *want = big_reference(T);
    uint64_t *tickets = malloc(T * sizeof *tickets);
    uint32_t *messages = malloc(T * sizeof *messages);
    ck_assert(tickets && messages);
    ac_refiner *r = big_refiner(T);
    big_ask_all(r, T, tickets, messages);
    for (uint32_t k = 0; k < T; k++) {
        double label = big_label(messages[k]);
        int rc = ac_refiner_tell(r, 1, &tickets[k], &label, NULL);
        if (rc != AC_OK)
            ck_abort_msg("tell %u: %s", k, ac_refiner_last_error(r));
    }
    big_finish(r, T, want);
    ac_refiner_free(r);
    free(tickets);
    free(messages);
    free(want);
}
END_TEST

/* The localizer on 2^20 messages, rounds of 4096 (the largest batch). */
#define LBIG_T (1u << 20)
#define LBIG_W 4096u

typedef struct lbig_verifier {
    uint32_t first_error;
    uint64_t calls;
} lbig_verifier;

static int lbig_verify(void *user, const uint32_t *prefixes, uint32_t count,
                       double *p, int32_t *status)
{
    lbig_verifier *v = user;
    (void)status;
    v->calls++;
    for (uint32_t k = 0; k < count; k++)
        p[k] = prefixes[k] < v->first_error ? 0.875 : 0.125;
    return 0;
}

static ac_localizer *lbig_new(int64_t strategy, int64_t noise)
{
    ac_localizer *l = NULL;
    ck_assert_int_eq(ac_localizer_create(&l, LBIG_T, NULL), AC_OK);
    ck_assert_int_eq(ac_localizer_set_int(l, AC_LOCALIZER_PARAM_STRATEGY,
                                          strategy), AC_OK);
    ck_assert_int_eq(ac_localizer_set_int(l, AC_LOCALIZER_PARAM_NOISE, noise),
                     AC_OK);
    ck_assert_int_eq(ac_localizer_set_int(l, AC_LOCALIZER_PARAM_BATCH,
                                          LBIG_W), AC_OK);
    ck_assert_int_eq(ac_localizer_set_int(l, AC_LOCALIZER_PARAM_BUDGET,
                                          (int64_t)1 << 30), AC_OK);
    ck_assert_int_eq(ac_localizer_set_int(l, AC_LOCALIZER_PARAM_SCAN_AFTER, 0),
                     AC_OK);
    return l;
}

static void assert_posterior(const ac_localizer *l, uint32_t T, double *post)
{
    ck_assert_int_eq(ac_localizer_posterior(l, post, T + 1), AC_OK);
    for (uint32_t h = 0; h <= T; h++)
        REQUIRE(isfinite(post[h]) && post[h] >= 0.0,
                      "posterior[%u] = %g", h, post[h]);
    double s = th_sum(post, T + 1);
    REQUIRE(fabs(s - 1.0) <= 1e-12, "the posterior sums to %.17g", s);
}

/* A linear scan under a noisy verifier, 4096 prefixes a round, to a first
 * error at 2^17: 33 rounds, 135,168 answers. Bayes' rule was applied one
 * answer at a time, a pass over the 2^20 + 1 hypotheses each: 13 s a round,
 * about 7 minutes in all. The answers now enter the posterior together, in
 * one pass per T / 16 of them: 0.1 s. ask/tell and run agree bit for bit. */
START_TEST(localizer_noisy_rounds_of_4096)
{
    const uint32_t first_error = 1u << 17;
    lbig_verifier v = {first_error, 0};
    double *post = malloc((LBIG_T + 1) * sizeof *post);
    double *post_run = malloc((LBIG_T + 1) * sizeof *post_run);
    uint64_t *tickets = malloc(LBIG_W * sizeof *tickets);
    uint32_t *prefixes = malloc(LBIG_W * sizeof *prefixes);
    double *answers = malloc(LBIG_W * sizeof *answers);
    ck_assert(post && post_run && tickets && prefixes && answers);

    ac_localizer *l = lbig_new(AC_STRATEGY_LINEAR, AC_NOISE_INDEPENDENT);
    uint64_t answered = 0;
    for (;;) {
        uint32_t count = 0;
        ck_assert_int_eq(ac_localizer_ask(l, LBIG_W, tickets, prefixes,
                                          &count), AC_OK);
        if (count == 0)
            break;
        ck_assert_int_eq(lbig_verify(&v, prefixes, count, answers, NULL), 0);
        /* told back to front, in two calls */
        ck_assert_int_eq(ac_localizer_tell(l, count - count / 2,
                                           tickets + count / 2,
                                           answers + count / 2, NULL), AC_OK);
        ck_assert_int_eq(ac_localizer_tell(l, count / 2, tickets, answers,
                                           NULL), AC_OK);
        answered += count;
    }
    ck_assert_uint_ge(answered, first_error);
    int64_t step = -2;
    double prob = -1.0, prob_run = -2.0;
    ck_assert_int_eq(ac_localizer_result(l, &step, NULL, &prob), AC_OK);
    ck_assert_int_eq(step, first_error);
    ck_assert_msg(isfinite(prob) && prob > 0.0 && prob <= 1.0, "p %g", prob);
    assert_posterior(l, LBIG_T, post);
    ac_localizer_free(l);

    l = lbig_new(AC_STRATEGY_LINEAR, AC_NOISE_INDEPENDENT);
    ck_assert_int_eq(ac_localizer_set_verifier(l, lbig_verify, &v), AC_OK);
    ck_assert_int_eq(ac_localizer_run(l), AC_OK);
    ck_assert_int_eq(ac_localizer_result(l, &step, NULL, &prob_run), AC_OK);
    ck_assert_int_eq(step, first_error);
    ck_assert(same_bits(prob, prob_run));
    assert_posterior(l, LBIG_T, post_run);
    ck_assert_msg(memcmp(post, post_run, (LBIG_T + 1) * sizeof *post) == 0,
                  "run and ask/tell give different posteriors");
    ac_localizer_free(l);
    free(post);
    free(post_run);
    free(tickets);
    free(prefixes);
    free(answers);
}
END_TEST

/* Probabilistic bisection with an exact verifier, 4096 prefixes a round:
 * once the first round has narrowed the posterior to 256 hypotheses, each
 * of the next round's 4096 quantiles walked from its place to the end of
 * the episode looking for a prefix to ask (10 s a run); the walk now stops
 * where the posterior does. Sixteen runs on one handle (a session each)
 * took 160 s; now 1 s. */
START_TEST(localizer_exact_bisection_rounds_of_4096)
{
    lbig_verifier v = {0, 0};
    double *post = malloc((LBIG_T + 1) * sizeof *post);
    ck_assert_ptr_nonnull(post);
    ac_localizer *l = lbig_new(AC_STRATEGY_BISECTION, AC_NOISE_NONE);
    ck_assert_int_eq(ac_localizer_set_verifier(l, lbig_verify, &v), AC_OK);
    for (uint32_t run = 0; run < 16; run++) {
        v.first_error = (uint32_t)(th_mix(run) % (LBIG_T + 1));
        ck_assert_int_eq(ac_localizer_reset(l, AC_RESET_SESSION), AC_OK);
        int rc = ac_localizer_run(l);
        ck_assert_msg(rc == AC_OK, "run %u: %s", run,
                      ac_localizer_last_error(l));
        int64_t step = -2;
        double prob = 0.0;
        ck_assert_int_eq(ac_localizer_result(l, &step, NULL, &prob), AC_OK);
        ck_assert_int_eq(step, v.first_error == LBIG_T
                                   ? -1
                                   : (int64_t)v.first_error);
        ck_assert_msg(prob == 1.0, "run %u: p %.17g", run, prob);
        int64_t rounds = -1;
        ck_assert_int_eq(ac_localizer_audit(l, AC_LOCALIZER_AUDIT_ROUNDS,
                                            &rounds), AC_OK);
        ck_assert_int_le(rounds, 3); /* 4097 parts a round: 2^20 in two */
        assert_posterior(l, LBIG_T, post);
    }
    ac_localizer_free(l);
    free(post);
}
END_TEST

/* ===================================================================== */
/* 3. Extreme values                                                     */
/* ===================================================================== */

/* The compensated sum of x scaled by 2^-e, e chosen so that no partial sum
 * overflows (the rewards of a credit of DBL_MAX add up to it, but their
 * partial sums in another order need not stay below it). */
static double scaled_sum(const double *x, uint32_t n, int *e)
{
    double big = th_max_abs(x, n);
    *e = 0;
    if (big > 0.0 && ilogb(big) + ilogb((double)n + 1.0) + 4 > DBL_MAX_EXP - 1)
        *e = ilogb(big) + ilogb((double)n + 1.0) + 4 - (DBL_MAX_EXP - 1);
    double s = 0.0, c = 0.0;
    for (uint32_t i = 0; i < n; i++) {
        double v = ldexp(x[i], -*e), t = s + v;
        if (fabs(s) >= fabs(v))
            c += (s - t) + v;
        else
            c += (v - t) + s;
        s = t;
    }
    return s + c;
}

/* Labels of one agent: 0 all zero, 1 mixed (with ties and zeros), 2 all
 * helpful, 3 all harmful, 4 helpful and harmful only. */
static double pattern_label(int pattern, uint32_t j)
{
    static const double mixed[7] = {-1.0, -0.5, 0.0, 0.25, 1.0, 0.0, -0.5};
    switch (pattern) {
    case 0: return 0.0;
    case 1: return mixed[j % 7];
    case 2: return j % 2 ? 1.0 : 0x1p-1074;
    case 3: return j % 2 ? -1.0 : -0x1p-1074;
    default: return j % 2 ? 1.0 : -1.0;
    }
}

#define N_PATTERNS 5

typedef struct ext_case {
    double bound, beta;
} ext_case;

/* Every property of every agent of a refined episode (agents a of k[a]
 * messages each, in blocks). */
static void assert_rewards(const ac_refiner *r, const double *credit,
                           const uint32_t *k, uint32_t n_agents,
                           const double *labels, const double *reward,
                           double bound, const char *what)
{
    uint32_t *flags = malloc(n_agents * sizeof *flags);
    ck_assert_ptr_nonnull(flags);
    ck_assert_int_eq(ac_refiner_agent_flags(r, flags, n_agents), AC_OK);
    uint32_t first = 0;
    for (uint32_t a = 0; a < n_agents; first += k[a], a++) {
        const double *rw = reward + first, *lb = labels + first;
        for (uint32_t j = 0; j < k[a]; j++)
            REQUIRE(isfinite(rw[j]),
                          "%s: agent %u (credit %g, %u messages): reward "
                          "%u is %g", what, a, credit[a], k[a], j, rw[j]);
        int e;
        double s = scaled_sum(rw, k[a], &e);
        double phi = ldexp(credit[a], -e);
        double scale = fmax(fabs(phi), ldexp(th_max_abs(rw, k[a]), -e));
        /* Relative 1e-12; below that, what a denormal can hold. */
        REQUIRE(fabs(s - phi) <= 1e-12 * scale + 1e-300,
                      "%s: agent %u (%u messages): the rewards sum to "
                      "%.17g 2^%d, the credit is %.17g", what, a, k[a], s, e,
                      credit[a]);
        int relaxed_bound = (flags[a] & AC_AGENT_FLAG_RELAXED_BOUND) != 0;
        int relaxed_sign = (flags[a] & AC_AGENT_FLAG_RELAXED_SIGN) != 0;
        double tie = (double)k[a] * DBL_EPSILON * ldexp(scale, e) + 1e-300;
        for (uint32_t j = 0; j < k[a]; j++) {
            REQUIRE(relaxed_bound || fabs(rw[j]) <= bound,
                          "%s: agent %u: |reward| %g > B %g", what, a,
                          fabs(rw[j]), bound);
            REQUIRE(relaxed_sign || !((lb[j] < 0 && rw[j] > 0) ||
                                            (lb[j] > 0 && rw[j] < 0)),
                          "%s: agent %u: label %g, reward %g", what, a,
                          lb[j], rw[j]);
            for (uint32_t i = 0; i < j && k[a] <= 64; i++)
                REQUIRE(lb[i] == lb[j]
                                  ? fabs(rw[i] - rw[j]) <= tie
                                  : (lb[i] < lb[j]) == (rw[i] <= rw[j]) ||
                                        rw[i] == rw[j],
                              "%s: agent %u: labels %g, %g get %.17g, %.17g",
                              what, a, lb[i], lb[j], rw[i], rw[j]);
        }
    }
    free(flags);
}

/* Credits from DBL_MAX down to the least denormal, both signs, with
 * bounds from 1e300 down to a denormal, beta up to 1e6, one to 1000
 * messages an agent and every label pattern. A credit of 1e308 or a bound
 * of 1e300 with a thousand messages made the projection's sums overflow:
 * the rewards were NaN, reported as a success. */
START_TEST(refiner_extreme_values)
{
    static const double credits[] = {
        DBL_MAX, -DBL_MAX, 1e308, -1e308, 1e300, 1.0, -1.0, 1e-300,
        0x1p-1022, 1e-310, -1e-310, 0x1p-1074, -0x1p-1074, 0.0};
    static const uint32_t sizes[] = {1, 2, 7, 64, 1000};
    static const ext_case cases[] = {
        {1e300, 1e6}, {1e300, 0.5}, {1e300, 0.0}, {1.0, 1e6}, {1.0, 0.5},
        {1e-300, 0.5}, {1e-310, 1e6}, {0x1p-1074, 0.5}};
    const uint32_t n_credits = sizeof credits / sizeof credits[0];
    const uint32_t n_sizes = sizeof sizes / sizeof sizes[0];
    const uint32_t n_agents = n_credits * n_sizes * N_PATTERNS;
    uint32_t *k = malloc(n_agents * sizeof *k);
    double *credit = malloc(n_agents * sizeof *credit);
    uint32_t T = 0;
    ck_assert(k && credit);
    for (uint32_t a = 0; a < n_agents; a++) {
        k[a] = sizes[(a / N_PATTERNS) % n_sizes];
        credit[a] = credits[a / (N_PATTERNS * n_sizes)];
        T += k[a];
    }
    uint32_t *agent_of = malloc(T * sizeof *agent_of);
    double *labels = malloc(T * sizeof *labels);
    double *reward = malloc(T * sizeof *reward);
    ck_assert(agent_of && labels && reward);
    for (uint32_t a = 0, t = 0; a < n_agents; a++)
        for (uint32_t j = 0; j < k[a]; j++, t++) {
            agent_of[t] = a;
            labels[t] = pattern_label((int)(a % N_PATTERNS), j);
        }
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        char what[64];
        snprintf(what, sizeof what, "B %g, beta %g", cases[c].bound,
                 cases[c].beta);
        ac_refiner *r = NULL;
        ck_assert_int_eq(ac_refiner_create(&r, n_agents, T, NULL), AC_OK);
        ck_assert_int_eq(ac_refiner_set_f64(r, AC_REFINER_PARAM_BOUND,
                                            cases[c].bound), AC_OK);
        ck_assert_int_eq(ac_refiner_set_f64(r, AC_REFINER_PARAM_BETA,
                                            cases[c].beta), AC_OK);
        ck_assert_int_eq(ac_refiner_set_authors(r, agent_of, T), AC_OK);
        ck_assert_int_eq(ac_refiner_set_credits(r, credit, n_agents), AC_OK);
        ck_assert_int_eq(ac_refiner_set_labels(r, labels, T), AC_OK);
        int rc = ac_refiner_run(r);
        ck_assert_msg(rc == AC_OK, "%s: %s", what, ac_refiner_last_error(r));
        ck_assert_int_eq(ac_refiner_rewards(r, reward, T), AC_OK);
        assert_rewards(r, credit, k, n_agents, labels, reward, cases[c].bound,
                       what);
        ac_refiner_free(r);
    }
    free(k);
    free(credit);
    free(agent_of);
    free(labels);
    free(reward);
}
END_TEST

/* The posterior, the blame labels and the probabilities of a finished
 * localization: all finite, in range, the posterior summing to 1. */
static void assert_localization(const ac_localizer *l, uint32_t T,
                                const char *what)
{
    double *post = malloc((T + 1) * sizeof *post);
    double *labels = malloc(T * sizeof *labels);
    ck_assert(post && labels);
    assert_posterior(l, T, post);
    int64_t step = -2;
    double prob = -1.0, within = -1.0;
    ck_assert_int_eq(ac_localizer_result(l, &step, NULL, &prob), AC_OK);
    REQUIRE(prob >= 0.0 && prob <= 1.0, "%s: p %g", what, prob);
    ck_assert(same_bits(prob, post[step < 0 ? T : (uint32_t)step]));
    ck_assert_int_eq(ac_localizer_probability_within(l, 2, &within), AC_OK);
    REQUIRE(within >= prob && within <= 1.0, "%s: within %g", what,
                  within);
    ck_assert_int_eq(ac_localizer_blame_labels(l, labels, T), AC_OK);
    for (uint32_t t = 0; t < T; t++)
        REQUIRE(labels[t] >= -1.0 && labels[t] <= 1.0,
                      "%s: blame label %u is %g", what, t, labels[t]);
    free(post);
    free(labels);
}

typedef struct ext_verifier {
    uint32_t first_error;
    double on, off; /* the answers on and off track */
} ext_verifier;

static int ext_verify(void *user, const uint32_t *prefixes, uint32_t count,
                      double *p, int32_t *status)
{
    const ext_verifier *v = user;
    (void)status;
    for (uint32_t k = 0; k < count; k++)
        p[k] = prefixes[k] < v->first_error ? v->on : v->off;
    return 0;
}

typedef struct ext_repair {
    double p;
} ext_repair;

static int ext_propose(void *user, uint32_t step, uint32_t max_count,
                       uint64_t *candidates, uint32_t *count)
{
    (void)user;
    for (uint32_t k = 0; k < max_count; k++)
        candidates[k] = 1000u * step + k;
    *count = max_count;
    return 0;
}

static int ext_check(void *user, uint32_t step, const uint64_t *candidates,
                     uint32_t count, double *p, int32_t *status)
{
    const ext_repair *r = user;
    (void)step;
    (void)candidates;
    (void)status;
    for (uint32_t k = 0; k < count; k++)
        p[k] = k == 0 ? r->p : 0x1p-1074;
    return 0;
}

/* Priors from DBL_MAX to the least denormal, answers at 0, 1, a denormal
 * and 1 - 2^-53, the accuracy at its top (every answer a likelihood ratio
 * of 1e9, 4096 of them a round), scores at 0, 1 and a denormal: every
 * localization a probability distribution, every label and pair weight a
 * number in range. */
START_TEST(localizer_extreme_values)
{
    enum { T = 300 };
    static const double priors[] = {DBL_MAX, 0x1p-1074, 0.0, 1.0, 1e300};
    static const ext_verifier answers[] = {
        {170, 1.0, 0.0}, {170, 1.0 - 0x1p-53, 0x1p-1074},
        {0, 1.0, 0x1p-1074}, {T, 1.0 - 0x1p-53, 0.0}};
    static const struct {
        int64_t strategy, noise, batch;
        double accuracy;
    } setups[] = {
        {AC_STRATEGY_AUTO, AC_NOISE_NONE, 1, 0.8},
        {AC_STRATEGY_BISECTION, AC_NOISE_NONE, 4096, 0.8},
        {AC_STRATEGY_BISECTION, AC_NOISE_INDEPENDENT, 4096, 0.999999999},
        {AC_STRATEGY_BISECTION, AC_NOISE_INDEPENDENT, 1, 0x1p-1 + 0x1p-52},
        {AC_STRATEGY_BISECTION, AC_NOISE_REPEATABLE, 16, 0.999999999},
        {AC_STRATEGY_LINEAR, AC_NOISE_INDEPENDENT, 4096, 0.999999999},
        {AC_STRATEGY_BINARY, AC_NOISE_INDEPENDENT, 3, 0.6}};
    double prior[T + 1];
    for (uint32_t h = 0; h <= T; h++)
        prior[h] = priors[h % (sizeof priors / sizeof priors[0])];
    for (size_t s = 0; s < sizeof setups / sizeof setups[0]; s++)
        for (size_t v = 0; v < sizeof answers / sizeof answers[0]; v++)
            for (int with_prior = 0; with_prior < 2; with_prior++) {
                char what[96];
                snprintf(what, sizeof what, "setup %zu, answers %zu, prior %d",
                         s, v, with_prior);
                ac_localizer *l = NULL;
                ck_assert_int_eq(ac_localizer_create(&l, T, NULL), AC_OK);
                ck_assert_int_eq(ac_localizer_set_int(
                                     l, AC_LOCALIZER_PARAM_STRATEGY,
                                     setups[s].strategy), AC_OK);
                ck_assert_int_eq(ac_localizer_set_int(
                                     l, AC_LOCALIZER_PARAM_NOISE,
                                     setups[s].noise), AC_OK);
                ck_assert_int_eq(ac_localizer_set_int(
                                     l, AC_LOCALIZER_PARAM_BATCH,
                                     setups[s].batch), AC_OK);
                ck_assert_int_eq(ac_localizer_set_f64(
                                     l, AC_LOCALIZER_PARAM_ACCURACY,
                                     setups[s].accuracy), AC_OK);
                ck_assert_int_eq(ac_localizer_set_int(
                                     l, AC_LOCALIZER_PARAM_BUDGET, 20000),
                                 AC_OK);
                if (with_prior)
                    ck_assert_int_eq(ac_localizer_set_prior(l, prior, T + 1),
                                     AC_OK);
                ck_assert_int_eq(ac_localizer_set_verifier(
                                     l, ext_verify, (void *)&answers[v]),
                                 AC_OK);
                ext_repair repair = {0x1p-1074 + 0.5};
                ck_assert_int_eq(ac_localizer_set_repair(l, ext_propose,
                                                         ext_check, &repair),
                                 AC_OK);
                int rc = ac_localizer_run(l);
                ck_assert_msg(rc == AC_OK, "%s: %s", what,
                              ac_localizer_last_error(l));
                assert_localization(l, T, what);
                ac_preference_pair pair;
                memset(&pair, 0, sizeof pair);
                pair.struct_size = sizeof pair;
                ck_assert_int_eq(ac_localizer_make_pair(l, 7, &pair), AC_OK);
                ck_assert_msg(isfinite(pair.weight) && pair.weight >= 0.0 &&
                                  pair.weight <= 1.0 &&
                                  isfinite(pair.confidence) &&
                                  isfinite(pair.localization),
                              "%s: pair weight %g (confidence %g, "
                              "localization %g)", what, pair.weight,
                              pair.confidence, pair.localization);
                ac_localizer_free(l);
            }

    /* Scores at their extremes: log(0), log1p(-1), denormals. */
    static const double score_values[] = {0.0, 1.0, 0x1p-1074, 1.0 - 0x1p-53,
                                          0.5, 0x1p-1022};
    for (uint32_t shift = 0; shift < 6; shift++) {
        double scores[T];
        for (uint32_t t = 0; t < T; t++)
            scores[t] = score_values[(t + shift) % 6] * (t < 20 ? 0.0 : 1.0);
        ac_localizer *l = NULL;
        ck_assert_int_eq(ac_localizer_create(&l, T, NULL), AC_OK);
        ck_assert_int_eq(ac_localizer_set_scores(l, scores, T), AC_OK);
        int rc = ac_localizer_run(l);
        ck_assert_msg(rc == AC_OK, "scores %u: %s", shift,
                      ac_localizer_last_error(l));
        assert_localization(l, T, "scores");
        ac_localizer_free(l);
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("longevity");
    TCase *tc = th_tcase(s, "long-lived handles");
    tcase_add_test(tc, estimator_after_many_resets);
    tcase_add_test(tc, refiner_after_many_resets);
    tcase_add_test(tc, localizer_after_many_resets);
    tcase_add_test(tc, tickets_never_reused);
    tc = th_tcase(s, "tell cost");
    tcase_add_test(tc, refiner_one_tell_of_a_million);
    tcase_add_test(tc, refiner_two_million_tells_of_one);
    tcase_add_test(tc, localizer_noisy_rounds_of_4096);
    tcase_add_test(tc, localizer_exact_bisection_rounds_of_4096);
    tc = th_tcase(s, "extreme values");
    tcase_add_test(tc, refiner_extreme_values);
    tcase_add_test(tc, localizer_extreme_values);
    return th_run_suite(s);
}
