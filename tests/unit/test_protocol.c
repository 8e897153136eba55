/* SPDX-License-Identifier: MIT
 *
 * The conformance test of the one ask/tell protocol. The estimator, the
 * refiner and the localizer each sit behind the same small adapter (make,
 * ask, tell, progress, cancel, reset, a parameter, an input, the result,
 * the callback run), and one table of scenarios runs against all three:
 * any order and grouping of tells, tickets told twice, forged or stale,
 * failed answers (status, NaN, infinity) that are retried and never read,
 * out-of-range answers that are the host's error, cancel from another
 * thread, reset mid-run, and the one reset rule. Whatever the header says
 * of "the protocol" must hold here for every object, or the object is not
 * speaking it.
 */
#include <pthread.h>

#include "helpers.h"

/* ===================================================================== */
/* The adapter                                                           */
/* ===================================================================== */

/* Every payload fits one uint64_t here: a coalition of at most 64 players,
 * a message index, a prefix. */
typedef struct proto_obj {
    const char *name;
    /* A finite answer outside the documented range, or NAN if every finite
     * answer is valid (the estimator's oracle). */
    double out_of_range;
    void *(*make)(void);
    void (*destroy)(void *h);
    int (*ask)(void *h, uint32_t max, uint64_t *tickets, uint64_t *items,
               uint32_t *count);
    int (*tell)(void *h, uint32_t count, const uint64_t *tickets,
                const double *values, const int32_t *status);
    int (*progress)(void *h, int32_t *done, uint64_t *outstanding);
    void (*cancel)(void *h);
    int (*reset)(void *h, uint32_t what);
    int (*set_retries)(void *h, int64_t retries); /* a parameter */
    int (*set_input)(void *h);                    /* an input    */
    /* The result, flattened; AC_E_STATE until the run is done. */
    int (*result)(void *h, double *out, uint32_t *len);
    int (*audit_failures)(void *h, int64_t *failures);
    int (*run_callback)(void *h); /* registers answer() as callback, runs */
    int (*run)(void *h);          /* ac_<object>_run, no callback set    */
    /* Makes the next run unable to start (a missing input, a budget too
     * small), and mends that with a setter. */
    int (*break_start)(void *h);
    int (*mend_start)(void *h);
    const char *(*last_error)(void *h);
    double (*answer)(uint64_t item); /* the right answer to a payload */
} proto_obj;

#define PROTO_MAX_RESULT 64
#define PROTO_MAX_ASK 256

/* ---- estimator: 5 players, an additive game plus one synergy ---------- */

enum { EST_N = 5 };

static double est_answer(uint64_t s)
{
    static const double w[EST_N] = { 0.5, -0.25, 1.0, 0.125, 2.0 };
    double v = 0.0;
    for (uint32_t i = 0; i < EST_N; i++)
        if (s >> i & 1u)
            v += w[i];
    return v + ((s & 3u) == 3u ? 0.75 : 0.0);
}

static void *est_make(void)
{
    ac_estimator *e = NULL;
    ck_assert_int_eq(ac_estimator_create(&e, EST_N, NULL), AC_OK);
    return e;
}

static void est_destroy(void *h) { ac_estimator_free(h); }

static int est_ask(void *h, uint32_t max, uint64_t *t, uint64_t *items,
                   uint32_t *count)
{
    /* words is 1 for 5 players: the payload is the coalition itself. */
    return ac_estimator_ask(h, max, t, items, count);
}

static int est_tell(void *h, uint32_t count, const uint64_t *t,
                    const double *v, const int32_t *st)
{
    return ac_estimator_tell(h, count, t, v, st);
}

static int est_progress(void *h, int32_t *done, uint64_t *out)
{
    return ac_estimator_progress(h, done, out);
}

static void est_cancel(void *h) { ac_estimator_cancel(h); }

static int est_reset(void *h, uint32_t what)
{
    return ac_estimator_reset(h, what);
}

static int est_set_retries(void *h, int64_t r)
{
    return ac_estimator_set_int(h, AC_ESTIMATOR_PARAM_MAX_RETRIES, r);
}

static int est_set_input(void *h)
{
    uint64_t empty = 0;
    return ac_estimator_set_value(h, &empty, 1, 0.0);
}

static int est_result(void *h, double *out, uint32_t *len)
{
    *len = 2 * EST_N;
    return ac_estimator_result(h, out, out + EST_N, EST_N);
}

static int est_audit_failures(void *h, int64_t *f)
{
    return ac_estimator_audit(h, AC_ESTIMATOR_AUDIT_FAILURES, f);
}

static int est_oracle(void *user, const uint64_t *c, uint32_t words,
                      uint32_t count, double *values, int32_t *status)
{
    (void)user;
    (void)status;
    for (uint32_t k = 0; k < count; k++)
        values[k] = est_answer(c[(size_t)k * words]);
    return 0;
}

static int est_run_callback(void *h)
{
    int rc = ac_estimator_set_oracle(h, est_oracle, NULL);
    return rc != AC_OK ? rc : ac_estimator_run(h);
}

static const char *est_last_error(void *h)
{
    return ac_estimator_last_error(h);
}

static int est_run(void *h) { return ac_estimator_run(h); }

/* v(empty) and v(all) are unknown and cost two evaluations. */
static int est_break_start(void *h)
{
    return ac_estimator_set_int(h, AC_ESTIMATOR_PARAM_BUDGET, 1);
}

static int est_mend_start(void *h)
{
    return ac_estimator_set_int(h, AC_ESTIMATOR_PARAM_BUDGET, 2048);
}

/* ---- refiner: 3 agents, 12 messages, every label from the scorer ------ */

enum { REF_AGENTS = 3, REF_MESSAGES = 12 };

static double ref_answer(uint64_t t)
{
    return 0.9 * sin((double)t + 1.0);
}

static int ref_set_credits(void *h)
{
    static const double credit[REF_AGENTS] = { 0.5, -0.2, 0.3 };
    return ac_refiner_set_credits(h, credit, REF_AGENTS);
}

static int ref_mend_start(void *h);

static void *ref_make(void)
{
    ac_refiner *r = NULL;
    ck_assert_int_eq(ac_refiner_create(&r, REF_AGENTS, REF_MESSAGES, NULL),
                     AC_OK);
    ck_assert_int_eq(ref_mend_start(r), AC_OK);
    return r;
}

static void ref_destroy(void *h) { ac_refiner_free(h); }

static int ref_ask(void *h, uint32_t max, uint64_t *t, uint64_t *items,
                   uint32_t *count)
{
    uint32_t msg[PROTO_MAX_ASK];
    ck_assert_uint_le(max, PROTO_MAX_ASK);
    int rc = ac_refiner_ask(h, max, t, msg, count);
    if (rc == AC_OK)
        for (uint32_t k = 0; k < *count; k++)
            items[k] = msg[k];
    return rc;
}

static int ref_tell(void *h, uint32_t count, const uint64_t *t,
                    const double *v, const int32_t *st)
{
    return ac_refiner_tell(h, count, t, v, st);
}

static int ref_progress(void *h, int32_t *done, uint64_t *out)
{
    return ac_refiner_progress(h, done, out);
}

static void ref_cancel(void *h) { ac_refiner_cancel(h); }

static int ref_reset(void *h, uint32_t what)
{
    return ac_refiner_reset(h, what);
}

static int ref_set_retries(void *h, int64_t r)
{
    return ac_refiner_set_int(h, AC_REFINER_PARAM_MAX_RETRIES, r);
}

static int ref_result(void *h, double *out, uint32_t *len)
{
    *len = 2 * REF_MESSAGES;
    int rc = ac_refiner_rewards(h, out, REF_MESSAGES);
    return rc != AC_OK ? rc : ac_refiner_labels(h, out + REF_MESSAGES,
                                                REF_MESSAGES);
}

static int ref_audit_failures(void *h, int64_t *f)
{
    return ac_refiner_audit(h, AC_REFINER_AUDIT_FAILURES, f);
}

static int ref_scorer(void *user, const uint32_t *messages, uint32_t count,
                      double *labels, int32_t *status)
{
    (void)user;
    (void)status;
    for (uint32_t k = 0; k < count; k++)
        labels[k] = ref_answer(messages[k]);
    return 0;
}

static int ref_run_callback(void *h)
{
    int rc = ac_refiner_set_scorer(h, ref_scorer, NULL);
    return rc != AC_OK ? rc : ac_refiner_run(h);
}

static const char *ref_last_error(void *h)
{
    return ac_refiner_last_error(h);
}

static int ref_run(void *h) { return ac_refiner_run(h); }

static int ref_set_authors(void *h)
{
    uint32_t agent_of[REF_MESSAGES];
    for (uint32_t t = 0; t < REF_MESSAGES; t++)
        agent_of[t] = t % REF_AGENTS;
    return ac_refiner_set_authors(h, agent_of, REF_MESSAGES);
}

/* Without authors and credits there is nothing to refine. */
static int ref_break_start(void *h)
{
    return ac_refiner_reset(h, AC_RESET_KNOWN);
}

static int ref_mend_start(void *h)
{
    int rc = ref_set_authors(h);
    return rc != AC_OK ? rc : ref_set_credits(h);
}

/* ---- localizer: 20 messages, the first error at 7, an exact verifier --- */

enum { LOC_MESSAGES = 20, LOC_ERROR = 7 };

static double loc_answer(uint64_t prefix)
{
    return prefix < LOC_ERROR ? 1.0 : 0.0;
}

static int loc_set_authors(void *h)
{
    uint32_t agent_of[LOC_MESSAGES];
    for (uint32_t t = 0; t < LOC_MESSAGES; t++)
        agent_of[t] = t % 2;
    return ac_localizer_set_authors(h, agent_of, LOC_MESSAGES);
}

static void *loc_make(void)
{
    ac_localizer *l = NULL;
    ck_assert_int_eq(ac_localizer_create(&l, LOC_MESSAGES, NULL), AC_OK);
    /* Binary search three prefixes a round, then the corrective scan:
     * rounds of several tickets in both phases. */
    ck_assert_int_eq(ac_localizer_set_int(l, AC_LOCALIZER_PARAM_STRATEGY,
                                          AC_STRATEGY_BINARY), AC_OK);
    ck_assert_int_eq(ac_localizer_set_int(l, AC_LOCALIZER_PARAM_BATCH, 3),
                     AC_OK);
    ck_assert_int_eq(loc_set_authors(l), AC_OK);
    return l;
}

static void loc_destroy(void *h) { ac_localizer_free(h); }

static int loc_ask(void *h, uint32_t max, uint64_t *t, uint64_t *items,
                   uint32_t *count)
{
    uint32_t prefix[PROTO_MAX_ASK];
    ck_assert_uint_le(max, PROTO_MAX_ASK);
    int rc = ac_localizer_ask(h, max, t, prefix, count);
    if (rc == AC_OK)
        for (uint32_t k = 0; k < *count; k++)
            items[k] = prefix[k];
    return rc;
}

static int loc_tell(void *h, uint32_t count, const uint64_t *t,
                    const double *v, const int32_t *st)
{
    return ac_localizer_tell(h, count, t, v, st);
}

static int loc_progress(void *h, int32_t *done, uint64_t *out)
{
    return ac_localizer_progress(h, done, out);
}

static void loc_cancel(void *h) { ac_localizer_cancel(h); }

static int loc_reset(void *h, uint32_t what)
{
    return ac_localizer_reset(h, what);
}

static int loc_set_retries(void *h, int64_t r)
{
    return ac_localizer_set_int(h, AC_LOCALIZER_PARAM_MAX_RETRIES, r);
}

static int loc_result(void *h, double *out, uint32_t *len)
{
    int64_t step = 0;
    uint32_t flags[LOC_MESSAGES];
    int rc = ac_localizer_result(h, &step, NULL, out);
    if (rc != AC_OK)
        return rc;
    out[1] = (double)step;
    rc = ac_localizer_posterior(h, out + 2, LOC_MESSAGES + 1);
    if (rc != AC_OK)
        return rc;
    rc = ac_localizer_step_flags(h, flags, LOC_MESSAGES);
    for (uint32_t t = 0; t < LOC_MESSAGES; t++)
        out[3 + LOC_MESSAGES + t] = flags[t];
    *len = 3 + 2 * LOC_MESSAGES;
    return rc;
}

static int loc_audit_failures(void *h, int64_t *f)
{
    return ac_localizer_audit(h, AC_LOCALIZER_AUDIT_FAILURES, f);
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

static int loc_run_callback(void *h)
{
    int rc = ac_localizer_set_verifier(h, loc_verifier, NULL);
    return rc != AC_OK ? rc : ac_localizer_run(h);
}

static const char *loc_last_error(void *h)
{
    return ac_localizer_last_error(h);
}

static int loc_run(void *h) { return ac_localizer_run(h); }

/* AC_STRATEGY_SCORES without scores. */
static int loc_break_start(void *h)
{
    return ac_localizer_set_int(h, AC_LOCALIZER_PARAM_STRATEGY,
                                AC_STRATEGY_SCORES);
}

static int loc_mend_start(void *h)
{
    return ac_localizer_set_int(h, AC_LOCALIZER_PARAM_STRATEGY,
                                AC_STRATEGY_BINARY);
}

static const proto_obj objects[] = {
    { "estimator", NAN, est_make, est_destroy, est_ask, est_tell,
      est_progress, est_cancel, est_reset, est_set_retries, est_set_input,
      est_result, est_audit_failures, est_run_callback, est_run,
      est_break_start, est_mend_start, est_last_error, est_answer },
    { "refiner", 2.0, ref_make, ref_destroy, ref_ask, ref_tell,
      ref_progress, ref_cancel, ref_reset, ref_set_retries, ref_set_credits,
      ref_result, ref_audit_failures, ref_run_callback, ref_run,
      ref_break_start, ref_mend_start, ref_last_error, ref_answer },
    { "localizer", 1.5, loc_make, loc_destroy, loc_ask, loc_tell,
      loc_progress, loc_cancel, loc_reset, loc_set_retries, loc_set_authors,
      loc_result, loc_audit_failures, loc_run_callback, loc_run,
      loc_break_start, loc_mend_start, loc_last_error, loc_answer },
};
#define N_OBJECTS (sizeof objects / sizeof objects[0])

/* ===================================================================== */
/* Driving a run                                                         */
/* ===================================================================== */

/* One batch of handed-out work. */
typedef struct batch {
    uint64_t tickets[PROTO_MAX_ASK];
    uint64_t items[PROTO_MAX_ASK];
    double values[PROTO_MAX_ASK];
    uint32_t count;
} batch;

static void ask_ok(const proto_obj *o, void *h, uint32_t max, batch *b)
{
    ck_assert_msg(o->ask(h, max, b->tickets, b->items, &b->count) == AC_OK,
                  "%s: ask: %s", o->name, o->last_error(h));
    for (uint32_t k = 0; k < b->count; k++)
        b->values[k] = o->answer(b->items[k]);
}

static uint64_t outstanding(const proto_obj *o, void *h, int32_t *done)
{
    int32_t d = -1;
    uint64_t out = UINT64_MAX;
    ck_assert_int_eq(o->progress(h, &d, &out), AC_OK);
    if (done != NULL)
        *done = d;
    return out;
}

/* How the host answers a batch: in which order and in groups of what size. */
typedef enum order { IN_ORDER, REVERSED, ONE_BY_ONE_REVERSED } order;

static void tell_batch(const proto_obj *o, void *h, const batch *b, order how)
{
    uint32_t n = b->count;
    if (how == IN_ORDER) {
        ck_assert_msg(o->tell(h, n, b->tickets, b->values, NULL) == AC_OK,
                      "%s: tell: %s", o->name, o->last_error(h));
        return;
    }
    uint64_t t[PROTO_MAX_ASK];
    double v[PROTO_MAX_ASK];
    for (uint32_t k = 0; k < n; k++) {
        t[k] = b->tickets[n - 1 - k];
        v[k] = b->values[n - 1 - k];
    }
    if (how == REVERSED) {
        ck_assert_int_eq(o->tell(h, n, t, v, NULL), AC_OK);
        return;
    }
    for (uint32_t k = 0; k < n; k++)
        ck_assert_int_eq(o->tell(h, 1, t + k, v + k, NULL), AC_OK);
}

/* Runs to the end by ask/tell; returns the number of asks that gave work. */
static uint32_t drive(const proto_obj *o, void *h, uint32_t max, order how)
{
    uint32_t rounds = 0;
    for (;;) {
        batch b;
        ask_ok(o, h, max, &b);
        if (b.count == 0)
            break;
        rounds++;
        tell_batch(o, h, &b, how);
        ck_assert_uint_lt(rounds, 10000);
    }
    int32_t done = 0;
    ck_assert_uint_eq(outstanding(o, h, &done), 0);
    ck_assert_int_eq(done, 1);
    return rounds;
}

static void read_result(const proto_obj *o, void *h, double *out,
                        uint32_t *len)
{
    ck_assert_msg(o->result(h, out, len) == AC_OK, "%s: result: %s",
                  o->name, o->last_error(h));
    ck_assert_uint_le(*len, PROTO_MAX_RESULT);
}

/* The result of the plainest run: the callback. */
static void reference(const proto_obj *o, double *out, uint32_t *len)
{
    void *h = o->make();
    ck_assert_msg(o->run_callback(h) == AC_OK, "%s: run: %s", o->name,
                  o->last_error(h));
    read_result(o, h, out, len);
    o->destroy(h);
}

static void assert_same(const proto_obj *o, const double *a, const double *b,
                        uint32_t len, const char *what)
{
    ck_assert_msg(memcmp(a, b, len * sizeof *a) == 0,
                  "%s: %s differs from the callback run", o->name, what);
}

static void assert_refused(const proto_obj *o, void *h, int rc, int want,
                           uint64_t before, const char *what)
{
    ck_assert_msg(rc == want, "%s: %s returned %d (%s), want %s", o->name,
                  what, rc, ac_strerror(rc), ac_strerror(want));
    ck_assert_msg(outstanding(o, h, NULL) == before,
                  "%s: %s took something", o->name, what);
    ck_assert_msg(o->last_error(h)[0] != '\0', "%s: %s left no message",
                  o->name, what);
}

/* ===================================================================== */
/* Scenarios                                                             */
/* ===================================================================== */

/* Every ask size, tell order and grouping gives the callback's result bit
 * for bit, and "done" means the same: done 1, nothing outstanding, ask
 * hands out nothing, the result readable. */
START_TEST(any_order_and_grouping)
{
    const proto_obj *o = &objects[_i];
    double ref[PROTO_MAX_RESULT], got[PROTO_MAX_RESULT];
    uint32_t len = 0, len2 = 0;
    reference(o, ref, &len);
    static const uint32_t sizes[] = { 1, 2, 3, 7, PROTO_MAX_ASK };
    for (uint32_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++)
        for (int how = IN_ORDER; how <= ONE_BY_ONE_REVERSED; how++) {
            void *h = o->make();
            drive(o, h, sizes[s], (order)how);
            read_result(o, h, got, &len2);
            ck_assert_uint_eq(len, len2);
            assert_same(o, ref, got, len, "an ask/tell run");
            batch b;
            ask_ok(o, h, 4, &b); /* done stays done */
            ck_assert_uint_eq(b.count, 0);
            o->destroy(h);
        }
}
END_TEST

/* A ticket told already, twice in one call, never handed out, or from
 * before a reset: AC_E_INVALID_ARG, and nothing of the call is taken. */
START_TEST(bad_tickets_take_nothing)
{
    const proto_obj *o = &objects[_i];
    void *h = o->make();
    batch b;
    ask_ok(o, h, PROTO_MAX_ASK, &b);
    ck_assert_uint_ge(b.count, 2);
    uint64_t before = outstanding(o, h, NULL);
    ck_assert_uint_eq(before, b.count);

    uint64_t twice[2] = { b.tickets[0], b.tickets[0] };
    double v2[2] = { b.values[0], b.values[0] };
    assert_refused(o, h, o->tell(h, 2, twice, v2, NULL), AC_E_INVALID_ARG,
                   before, "a ticket twice in one call");

    uint64_t max_t = 0;
    for (uint32_t k = 0; k < b.count; k++)
        max_t = b.tickets[k] > max_t ? b.tickets[k] : max_t;
    static const uint64_t forged_extra[] = { 0, 1000, UINT64_MAX };
    for (uint32_t f = 0; f < 3; f++) {
        uint64_t forged = f == 1 ? max_t + 1000 : forged_extra[f];
        uint64_t pair[2] = { b.tickets[1], forged };
        double pv[2] = { b.values[1], 0.5 };
        assert_refused(o, h, o->tell(h, 2, pair, pv, NULL),
                       AC_E_INVALID_ARG, before, "a forged ticket");
    }

    ck_assert_int_eq(o->tell(h, 1, b.tickets, b.values, NULL), AC_OK);
    ck_assert_uint_eq(outstanding(o, h, NULL), before - 1);
    uint64_t again[2] = { b.tickets[1], b.tickets[0] };
    double va[2] = { b.values[1], b.values[0] };
    assert_refused(o, h, o->tell(h, 2, again, va, NULL), AC_E_INVALID_ARG,
                   before - 1, "a ticket told already");

    /* Stale: from the run before a reset, told in the next run. */
    ck_assert_int_eq(o->reset(h, AC_RESET_SESSION), AC_OK);
    ck_assert_uint_eq(outstanding(o, h, NULL), 0);
    batch fresh;
    ask_ok(o, h, PROTO_MAX_ASK, &fresh);
    ck_assert_uint_ge(fresh.count, 1);
    for (uint32_t k = 0; k < fresh.count; k++)
        for (uint32_t j = 0; j < b.count; j++)
            ck_assert_msg(fresh.tickets[k] != b.tickets[j],
                          "%s: a ticket number was reused", o->name);
    assert_refused(o, h, o->tell(h, 1, b.tickets + 1, b.values + 1, NULL),
                   AC_E_INVALID_ARG, fresh.count, "a stale ticket");
    o->destroy(h);
}
END_TEST

/* Tell with no run waiting, idle or done: AC_E_STATE. */
START_TEST(tell_without_a_run)
{
    const proto_obj *o = &objects[_i];
    void *h = o->make();
    uint64_t t = 1;
    double v = 0.0;
    ck_assert_int_eq(o->tell(h, 1, &t, &v, NULL), AC_E_STATE);
    batch b;
    ask_ok(o, h, PROTO_MAX_ASK, &b);
    uint64_t first = b.tickets[0];
    double first_v = b.values[0];
    tell_batch(o, h, &b, IN_ORDER);
    drive(o, h, PROTO_MAX_ASK, IN_ORDER);
    ck_assert_int_eq(o->tell(h, 1, &first, &first_v, NULL), AC_E_STATE);
    o->destroy(h);
}
END_TEST

/* Fails the answer to the first ticket of the first batch the way `kind`
 * says, answers everything else right, and runs to the end. */
typedef enum failure { FAIL_STATUS, FAIL_NAN, FAIL_POS_INF, FAIL_NEG_INF }
    failure;

static void fail_first(const proto_obj *o, void *h, failure kind)
{
    batch b;
    ask_ok(o, h, PROTO_MAX_ASK, &b);
    int32_t status[PROTO_MAX_ASK] = { 0 };
    switch (kind) {
    case FAIL_STATUS: status[0] = 7; b.values[0] = 0.25; break;
    case FAIL_NAN: b.values[0] = NAN; break;
    case FAIL_POS_INF: b.values[0] = INFINITY; break;
    case FAIL_NEG_INF: b.values[0] = -INFINITY; break;
    }
    ck_assert_int_eq(o->tell(h, b.count, b.tickets, b.values, status), AC_OK);
    /* Told, failed or not: the ticket is spent. */
    assert_refused(o, h, o->tell(h, 1, b.tickets, b.values, NULL),
                   AC_E_INVALID_ARG, outstanding(o, h, NULL),
                   "a failed ticket told again");
}

/* A failed answer (status, NaN, either infinity) is retried under a new
 * ticket and never read as a number: the result is the callback's. */
START_TEST(failed_answers_are_retried)
{
    const proto_obj *o = &objects[_i];
    double ref[PROTO_MAX_RESULT], got[PROTO_MAX_RESULT];
    uint32_t len = 0, len2 = 0;
    reference(o, ref, &len);
    for (int kind = FAIL_STATUS; kind <= FAIL_NEG_INF; kind++) {
        void *h = o->make();
        fail_first(o, h, (failure)kind);
        drive(o, h, PROTO_MAX_ASK, REVERSED);
        read_result(o, h, got, &len2);
        assert_same(o, ref, got, len, "the run with a failed answer");
        int64_t failures = -1;
        ck_assert_int_eq(o->audit_failures(h, &failures), AC_OK);
        ck_assert_int_eq(failures, 1);
        o->destroy(h);
    }
}
END_TEST

/* Past the retry limit a failed answer ends the run: AC_E_ORACLE, done,
 * no result, and every later ask and tell repeats the run's error. */
START_TEST(failures_past_the_retries_fail_the_run)
{
    const proto_obj *o = &objects[_i];
    void *h = o->make();
    ck_assert_int_eq(o->set_retries(h, 0), AC_OK);
    int rc = AC_OK;
    for (uint32_t round = 0; rc == AC_OK && round < 100; round++) {
        batch b;
        rc = o->ask(h, PROTO_MAX_ASK, b.tickets, b.items, &b.count);
        if (rc != AC_OK || b.count == 0)
            break;
        for (uint32_t k = 0; k < b.count; k++)
            b.values[k] = INFINITY;
        rc = o->tell(h, b.count, b.tickets, b.values, NULL);
    }
    if (rc == AC_OK) { /* the failure may surface at the next ask */
        batch b;
        rc = o->ask(h, PROTO_MAX_ASK, b.tickets, b.items, &b.count);
    }
    ck_assert_msg(rc == AC_E_ORACLE, "%s: %s", o->name, ac_strerror(rc));
    int32_t done = 0;
    outstanding(o, h, &done);
    ck_assert_int_eq(done, 1);
    double out[PROTO_MAX_RESULT];
    uint32_t len = 0;
    ck_assert_int_eq(o->result(h, out, &len), AC_E_STATE);
    batch b;
    ck_assert_int_eq(o->ask(h, 4, b.tickets, b.items, &b.count), AC_E_ORACLE);
    ck_assert_int_eq(o->run(h), AC_E_ORACLE);
    ck_assert_int_eq(o->run_callback(h), AC_E_ORACLE);
    /* A cancel after the end changes nothing: the run's own error stands. */
    o->cancel(h);
    ck_assert_int_eq(o->ask(h, 4, b.tickets, b.items, &b.count), AC_E_ORACLE);
    ck_assert_int_eq(o->run(h), AC_E_ORACLE);
    o->destroy(h);
}
END_TEST

/* A finite answer outside the documented range is the host's error:
 * AC_E_INVALID_ARG naming it, nothing of the call taken, the run goes on. */
START_TEST(out_of_range_answer_is_the_hosts_error)
{
    const proto_obj *o = &objects[_i];
    if (isnan(o->out_of_range))
        return; /* every finite value is a value here */
    double ref[PROTO_MAX_RESULT], got[PROTO_MAX_RESULT];
    uint32_t len = 0, len2 = 0;
    reference(o, ref, &len);
    void *h = o->make();
    batch b;
    ask_ok(o, h, PROTO_MAX_ASK, &b);
    double saved = b.values[b.count - 1];
    b.values[b.count - 1] = o->out_of_range;
    assert_refused(o, h, o->tell(h, b.count, b.tickets, b.values, NULL),
                   AC_E_INVALID_ARG, b.count, "an answer out of range");
    b.values[b.count - 1] = saved;
    tell_batch(o, h, &b, IN_ORDER);
    drive(o, h, PROTO_MAX_ASK, IN_ORDER);
    read_result(o, h, got, &len2);
    assert_same(o, ref, got, len, "the run after a refused tell");
    o->destroy(h);
}
END_TEST

typedef struct cancel_arg {
    const proto_obj *o;
    void *h;
} cancel_arg;

static void *cancel_thread(void *p)
{
    cancel_arg *a = p;
    a->o->cancel(a->h);
    return NULL;
}

/* Cancel from another thread: the next ask ends the run, failed, with
 * AC_E_CANCELLED; reset(SESSION) clears it and the next run is whole. */
START_TEST(cancel_from_another_thread)
{
    const proto_obj *o = &objects[_i];
    double ref[PROTO_MAX_RESULT], got[PROTO_MAX_RESULT];
    uint32_t len = 0, len2 = 0;
    reference(o, ref, &len);
    void *h = o->make();
    batch b;
    ask_ok(o, h, 1, &b);
    cancel_arg a = { o, h };
    pthread_t th;
    ck_assert_int_eq(pthread_create(&th, NULL, cancel_thread, &a), 0);
    ck_assert_int_eq(pthread_join(th, NULL), 0);
    ck_assert_int_eq(o->ask(h, 4, b.tickets, b.items, &b.count),
                     AC_E_CANCELLED);
    int32_t done = 0;
    ck_assert_uint_eq(outstanding(o, h, &done), 0); /* waits for nothing */
    ck_assert_int_eq(done, 1);
    ck_assert_int_eq(o->tell(h, 1, b.tickets, b.values, NULL),
                     AC_E_CANCELLED);
    ck_assert_int_eq(o->result(h, got, &len2), AC_E_STATE);

    ck_assert_int_eq(o->reset(h, AC_RESET_SESSION), AC_OK);
    drive(o, h, 3, IN_ORDER);
    read_result(o, h, got, &len2);
    assert_same(o, ref, got, len, "the run after a cancelled one");
    /* A finished run keeps its result. */
    o->cancel(h);
    read_result(o, h, got, &len2);
    o->destroy(h);
}
END_TEST

/* Reset mid-run: nothing outstanding, not done, and the next run is the
 * callback's, bit for bit. */
START_TEST(reset_mid_run)
{
    const proto_obj *o = &objects[_i];
    double ref[PROTO_MAX_RESULT], got[PROTO_MAX_RESULT];
    uint32_t len = 0, len2 = 0;
    reference(o, ref, &len);
    void *h = o->make();
    batch b;
    ask_ok(o, h, 2, &b);
    ck_assert_int_eq(o->tell(h, 1, b.tickets, b.values, NULL), AC_OK);
    ask_ok(o, h, 2, &b);
    ck_assert_int_eq(o->reset(h, AC_RESET_SESSION), AC_OK);
    int32_t done = 1;
    ck_assert_uint_eq(outstanding(o, h, &done), 0);
    ck_assert_int_eq(done, 0);
    ck_assert_int_eq(o->result(h, got, &len2), AC_E_STATE);
    drive(o, h, 5, REVERSED);
    read_result(o, h, got, &len2);
    assert_same(o, ref, got, len, "the run after a reset");
    o->destroy(h);
}
END_TEST

/* The one reset rule: parameters and inputs change only while idle; PARAMS
 * and KNOWN need SESSION once a run has started; unknown flags are
 * refused before anything is reset. */
START_TEST(one_reset_rule)
{
    const proto_obj *o = &objects[_i];
    void *h = o->make();
    ck_assert_int_eq(o->set_retries(h, 3), AC_OK);
    ck_assert_int_eq(o->set_input(h), AC_OK);
    ck_assert_int_eq(o->reset(h, 1u << 7), AC_E_INVALID_ARG);
    batch b;
    ask_ok(o, h, 2, &b); /* the run has started */
    uint64_t before = outstanding(o, h, NULL);
    ck_assert_int_eq(o->set_retries(h, 4), AC_E_STATE);
    ck_assert_int_eq(o->set_input(h), AC_E_STATE);
    ck_assert_int_eq(o->reset(h, AC_RESET_PARAMS), AC_E_STATE);
    ck_assert_int_eq(o->reset(h, AC_RESET_KNOWN), AC_E_STATE);
    ck_assert_int_eq(o->reset(h, AC_RESET_SESSION | (1u << 7)),
                     AC_E_INVALID_ARG);
    ck_assert_uint_eq(outstanding(o, h, NULL), before); /* nothing reset */
    tell_batch(o, h, &b, IN_ORDER);
    drive(o, h, PROTO_MAX_ASK, IN_ORDER);
    ck_assert_int_eq(o->set_retries(h, 4), AC_E_STATE); /* done: still */
    ck_assert_int_eq(o->reset(h, AC_RESET_PARAMS), AC_E_STATE);
    ck_assert_int_eq(o->reset(h, AC_RESET_SESSION | AC_RESET_PARAMS), AC_OK);
    ck_assert_int_eq(o->set_retries(h, 4), AC_OK);
    ck_assert_int_eq(o->reset(h, AC_RESET_KNOWN), AC_OK); /* idle again */
    ck_assert_int_eq(o->set_input(h), AC_OK);
    o->destroy(h);
}
END_TEST

/* ac_<object>_run is the same loop: on a handle whose run was started by
 * ask it refuses while tickets are outstanding, and once they are told it
 * finishes the run with the callback to the same result. */
START_TEST(run_finishes_an_asked_run)
{
    const proto_obj *o = &objects[_i];
    double ref[PROTO_MAX_RESULT], got[PROTO_MAX_RESULT];
    uint32_t len = 0, len2 = 0;
    reference(o, ref, &len);
    void *h = o->make();
    batch b;
    ask_ok(o, h, 2, &b);
    ck_assert_int_eq(o->run_callback(h), AC_E_STATE);
    tell_batch(o, h, &b, REVERSED);
    ck_assert_msg(o->run_callback(h) == AC_OK, "%s: %s", o->name,
                  o->last_error(h));
    read_result(o, h, got, &len2);
    assert_same(o, ref, got, len, "run after ask/tell");
    ck_assert_int_eq(o->run_callback(h), AC_OK); /* done: at once */
    o->destroy(h);
}
END_TEST

/* A finished run is finished for run() too, with or without a callback:
 * AC_OK at once, the result unchanged. Without a callback and with work
 * left, run() is AC_E_STATE and hands out nothing. */
START_TEST(run_without_a_callback)
{
    const proto_obj *o = &objects[_i];
    double ref[PROTO_MAX_RESULT], got[PROTO_MAX_RESULT];
    uint32_t len = 0, len2 = 0;
    reference(o, ref, &len);
    void *h = o->make();
    ck_assert_int_eq(o->run(h), AC_E_STATE);
    ck_assert_uint_eq(outstanding(o, h, NULL), 0);
    drive(o, h, PROTO_MAX_ASK, IN_ORDER);
    ck_assert_msg(o->run(h) == AC_OK, "%s: run on a finished run: %s",
                  o->name, o->last_error(h));
    read_result(o, h, got, &len2);
    assert_same(o, ref, got, len, "the result after run()");
    o->destroy(h);
}
END_TEST

/* A run that cannot start has not started: the ask's error names why, the
 * handle stays idle (progress not done, setters allowed), and once the
 * host mends the input the next ask runs, without a reset. */
START_TEST(a_refused_start_leaves_the_handle_idle)
{
    const proto_obj *o = &objects[_i];
    double ref[PROTO_MAX_RESULT], got[PROTO_MAX_RESULT];
    uint32_t len = 0, len2 = 0;
    reference(o, ref, &len);
    void *h = o->make();
    ck_assert_int_eq(o->break_start(h), AC_OK);
    batch b;
    int rc = o->ask(h, 4, b.tickets, b.items, &b.count);
    ck_assert_msg(rc != AC_OK, "%s: a run without what it needs started",
                  o->name);
    ck_assert_msg(o->last_error(h)[0] != '\0', "%s: no message", o->name);
    int32_t done = 1;
    ck_assert_uint_eq(outstanding(o, h, &done), 0);
    ck_assert_int_eq(done, 0);
    ck_assert_msg(o->mend_start(h) == AC_OK, "%s: the input cannot be "
                  "mended after a refused start: %s", o->name,
                  o->last_error(h));
    drive(o, h, 3, REVERSED);
    read_result(o, h, got, &len2);
    assert_same(o, ref, got, len, "the run after a refused start");
    o->destroy(h);
}
END_TEST

static Suite *protocol_suite(void)
{
    Suite *s = suite_create("protocol");
    TCase *tc = th_tcase(s, "every object");
    int n = (int)N_OBJECTS;
    tcase_add_loop_test(tc, any_order_and_grouping, 0, n);
    tcase_add_loop_test(tc, bad_tickets_take_nothing, 0, n);
    tcase_add_loop_test(tc, tell_without_a_run, 0, n);
    tcase_add_loop_test(tc, failed_answers_are_retried, 0, n);
    tcase_add_loop_test(tc, failures_past_the_retries_fail_the_run, 0, n);
    tcase_add_loop_test(tc, out_of_range_answer_is_the_hosts_error, 0, n);
    tcase_add_loop_test(tc, cancel_from_another_thread, 0, n);
    tcase_add_loop_test(tc, reset_mid_run, 0, n);
    tcase_add_loop_test(tc, one_reset_rule, 0, n);
    tcase_add_loop_test(tc, run_finishes_an_asked_run, 0, n);
    tcase_add_loop_test(tc, run_without_a_callback, 0, n);
    tcase_add_loop_test(tc, a_refused_start_leaves_the_handle_idle, 0, n);
    return s;
}

int main(void)
{
    return th_run_suite(protocol_suite());
}
