/* SPDX-License-Identifier: MIT
 *
 * The public API driven by fuzzed parameters, inputs and callback answers.
 * The first byte chooses an object (estimator, refiner, localizer, or
 * ac_shapley_exact); the bytes after it its size, parameter settings (any
 * value: NaN, the infinities, 1e308, denormals, each bound and one step
 * past it), its inputs, and then, call by call, what the callback answers
 * (values, statuses, return codes, a cancel, a re-entrant call). Every
 * call's status is checked against the header, and every success against
 * the invariants of fuzz_common.h: finite outputs, conservation to a
 * relative 1e-12, bounds, signs, monotonicity, a posterior that sums to 1.
 *
 * Runs are kept cheap so that a second holds thousands of them: sizes stay
 * small, and the callbacks cancel a run after EVAL_CAP evaluations (a
 * cancelled run is a correct outcome too, and is checked as one).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"

enum { EVAL_CAP = 2048 };

/* ===================================================================== */
/* Callback answers                                                      */
/* ===================================================================== */

/* What a callback does besides answering, chosen per call. */
typedef enum antic {
    ANTIC_NONE,
    ANTIC_RETURN,    /* returns non-zero: AC_E_CALLBACK */
    ANTIC_CANCEL,    /* cancels the run from inside */
    ANTIC_REENTER,   /* calls the handle's mutating API: AC_E_BUSY */
} antic;

static antic pick_antic(fz *f)
{
    uint8_t b = (uint8_t)~fz_u8(f); /* a 0 byte: nothing */
    return b < 4 ? ANTIC_RETURN : b < 8 ? ANTIC_CANCEL
           : b < 12 ? ANTIC_REENTER : ANTIC_NONE;
}

/* A failed answer, or not: a status, NaN or an infinity (the value then
 * garbage that must never be read), about one answer in eight. */
static int fail_answer(fz *f, double *value, int32_t *status)
{
    uint8_t b = (uint8_t)~fz_u8(f); /* a 0 byte: not failed */
    if (b >= 32)
        return 0;
    switch (b % 4) {
    case 0: *status = (int32_t)fz_u32(f) | 1; *value = fz_f64(f); break;
    case 1: *value = NAN; break;
    case 2: *value = INFINITY; break;
    default: *value = -INFINITY; break;
    }
    return 1;
}

/* ===================================================================== */
/* Estimator                                                             */
/* ===================================================================== */

typedef struct est_ctx {
    fz *f;
    ac_estimator *e;
    uint32_t n, words;
    int style;         /* how the game's values are made */
    double v_all, v_empty, w[4];
    uint64_t evals;
    int reentered;
} est_ctx;

static uint32_t members(const uint64_t *c, uint32_t words)
{
    uint32_t m = 0;
    for (uint32_t k = 0; k < words; k++)
        m += (uint32_t)__builtin_popcountll(c[k]);
    return m;
}

static int is_all(const uint64_t *c, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++)
        if (!(c[i / 64] >> (i % 64) & 1u))
            return 0;
    return 1;
}

static double est_value(est_ctx *x, const uint64_t *c)
{
    uint32_t m = members(c, x->words);
    if (m == 0)
        return x->v_empty;
    if (m == x->n)
        return x->v_all;
    switch (x->style) {
    case 0: /* symmetric: v(empty) + (v(all) - v(empty)) |S| / n */
        return x->v_empty + (x->v_all - x->v_empty) * m / x->n;
    case 1: { /* weighted, with a pair synergy */
        double v = x->v_empty;
        for (uint32_t i = 0; i < x->n; i++)
            if (c[i / 64] >> (i % 64) & 1u)
                v += x->w[i % 4];
        return (c[0] & 3u) == 3u ? v * x->w[3] : v;
    }
    default: /* anything, call by call: a noisy oracle */
        return fz_f64(x->f);
    }
}

static int est_oracle(void *user, const uint64_t *c, uint32_t words,
                      uint32_t count, double *values, int32_t *status)
{
    est_ctx *x = user;
    FZ_CHECK(words == x->words, "oracle words %u, want %u", words, x->words);
    FZ_CHECK(count > 0, "an oracle call with no coalition");
    for (uint32_t k = 0; k < count; k++) {
        const uint64_t *s = c + (size_t)k * words;
        FZ_CHECK(isnan(values[k]) && status[k] == 0, "not pre-filled");
        for (uint32_t i = x->n; i < words * 64; i++)
            FZ_CHECK(!(s[i / 64] >> (i % 64) & 1u), "bit %u of %u players", i,
                     x->n);
        values[k] = est_value(x, s);
        fail_answer(x->f, &values[k], &status[k]);
    }
    x->evals += count;
    int32_t done = -1;
    uint64_t out = 0;
    FZ_CHECK(ac_estimator_progress(x->e, &done, &out) == AC_OK,
             "progress from inside the oracle");
    switch (pick_antic(x->f)) {
    case ANTIC_RETURN: return (int)(fz_u8(x->f) | 1);
    case ANTIC_CANCEL: ac_estimator_cancel(x->e); break;
    case ANTIC_REENTER: {
        uint64_t t = 1;
        double v = 0;
        uint32_t got = 0;
        FZ_CHECK(ac_estimator_tell(x->e, 1, &t, &v, NULL) == AC_E_BUSY,
                 "tell from inside the oracle");
        FZ_CHECK(ac_estimator_ask(x->e, 0, NULL, NULL, &got) == AC_E_BUSY,
                 "ask from inside the oracle");
        FZ_CHECK(ac_estimator_run(x->e) == AC_E_BUSY, "run from inside");
        FZ_CHECK(ac_estimator_reset(x->e, AC_RESET_SESSION) == AC_E_BUSY,
                 "reset from inside the oracle");
        FZ_CHECK(ac_estimator_set_int(x->e, AC_ESTIMATOR_PARAM_SEED, 1) ==
                 AC_E_BUSY, "set_int from inside the oracle");
        FZ_CHECK(ac_estimator_set_oracle(x->e, NULL, NULL) == AC_E_BUSY,
                 "set_oracle from inside the oracle");
        x->reentered = 1;
        break;
    }
    case ANTIC_NONE: break;
    }
    if (x->evals > EVAL_CAP)
        ac_estimator_cancel(x->e);
    return 0;
}

static uint32_t pick_players(fz *f)
{
    uint8_t b = fz_u8(f);
    if (b < 216)
        return 1 + b % 10;
    if (b < 240)
        return 11 + fz_below(f, 14);
    if (b < 248)
        return 25 + fz_below(f, 50); /* past one word; slow: rarer */
    if (b < 252)
        return 0;
    return AC_MAX_PLAYERS + 1 + fz_below(f, 3);
}

static void fuzz_estimator(fz *f)
{
    uint32_t n = pick_players(f);
    ac_estimator *e = NULL;
    int rc = ac_estimator_create(&e, n, NULL);
    if (n == 0 || n > AC_MAX_PLAYERS) {
        FZ_CHECK(rc == (n == 0 ? AC_E_INVALID_ARG : AC_E_TOO_LARGE) &&
                 e == NULL, "create(%u) = %s", n, ac_status_name(rc));
        return;
    }
    FZ_CHECK(rc == AC_OK && e != NULL, "create(%u) = %s", n,
             ac_status_name(rc));
    est_ctx x = {0};
    x.f = f;
    x.e = e;
    x.n = n;
    x.words = ac_coalition_words(n);
    FZ_CHECK(x.words == (n + 63) / 64, "words(%u) = %u", n, x.words);

    for (uint32_t k = fz_below(f, 6); k > 0; k--)
        fz_param(f, &fz_estimator_params, e, 1);
    fz_cap_estimator(e, n);

    x.style = (int)fz_below(f, 3);
    x.v_all = fz_f64(f);
    x.v_empty = fz_chance(f, 128) ? 0.0 : fz_f64(f);
    for (int k = 0; k < 4; k++)
        x.w[k] = fz_f64(f);
    /* The values the run uses for the total: known ones replace the
     * oracle's. */
    double v_all = x.v_all, v_empty = x.v_empty;
    uint64_t c[AC_MAX_PLAYERS / 64];
    for (uint32_t k = fz_below(f, 4); k > 0; k--) {
        uint8_t which = fz_u8(f);
        memset(c, 0, x.words * sizeof *c);
        if (which < 96) {
            for (uint32_t i = 0; i < n; i++)
                c[i / 64] |= (uint64_t)1 << (i % 64);
        } else if (which >= 160) {
            for (uint32_t w = 0; w < x.words; w++)
                c[w] = fz_u64(f);
            if (n % 64 && fz_chance(f, 192)) /* mostly no stray bit */
                c[x.words - 1] &= ((uint64_t)1 << (n % 64)) - 1;
        }
        uint32_t words = fz_rare(f, 8) ? x.words + 1 : x.words;
        double v = fz_chance(f, 128) ? est_value(&x, c) : fz_f64(f);
        int stray = n % 64 && c[x.words - 1] >> (n % 64);
        int valid = words == x.words && !stray && isfinite(v);
        rc = ac_estimator_set_value(e, c, words, v);
        FZ_CHECK(rc == (valid ? AC_OK : AC_E_INVALID_ARG),
                 "set_value = %s (valid %d, value %g)", ac_status_name(rc),
                 valid, v);
        if (rc == AC_OK && members(c, x.words) == 0)
            v_empty = v;
        else if (rc == AC_OK && is_all(c, n))
            v_all = v;
    }

    FZ_CHECK(ac_estimator_set_oracle(e, est_oracle, &x) == AC_OK, "oracle");
    rc = ac_estimator_run(e);
    FZ_CHECK(rc == AC_OK || rc == AC_E_STATE || rc == AC_E_BUDGET ||
             rc == AC_E_TOO_LARGE || rc == AC_E_INVALID_ARG ||
             rc == AC_E_CALLBACK || rc == AC_E_ORACLE ||
             rc == AC_E_CANCELLED || rc == AC_E_NO_MEMORY,
             "run = %d", rc);
    int32_t done = -1;
    uint64_t out = UINT64_MAX;
    FZ_CHECK(ac_estimator_progress(e, &done, &out) == AC_OK, "progress");
    FZ_CHECK(out == 0, "%llu outstanding after run",
             (unsigned long long)out);
    if (getenv("FZ_TRACE") != NULL) {
        int64_t method = -1, budget = -1, evals = -1, used = -1;
        FZ_CHECK(ac_estimator_get_int(e, AC_ESTIMATOR_PARAM_METHOD,
                                      &method) == AC_OK &&
                 ac_estimator_get_int(e, AC_ESTIMATOR_PARAM_BUDGET,
                                      &budget) == AC_OK &&
                 ac_estimator_audit(e, AC_ESTIMATOR_AUDIT_METHOD, &used) ==
                     AC_OK &&
                 ac_estimator_audit(e, AC_ESTIMATOR_AUDIT_EVALUATIONS,
                                    &evals) == AC_OK, "trace");
        fprintf(stderr, "estimator n %u method %lld (used %lld) budget %lld "
                "evaluations %lld: %s (%s)\n", n, (long long)method,
                (long long)used, (long long)budget, (long long)evals,
                ac_status_name(rc), ac_estimator_last_error(e));
    }
    if (rc == AC_OK) {
        fz_check_estimator_done(e, n, v_all, v_empty);
        /* Done stays done: run again, a cancel, and the result is the
         * same. */
        double *a = calloc(n, sizeof *a), *b = calloc(n, sizeof *b);
        FZ_CHECK(a && b, "memory");
        FZ_CHECK(ac_estimator_result(e, a, NULL, n) == AC_OK, "result");
        ac_estimator_cancel(e);
        FZ_CHECK(ac_estimator_run(e) == AC_OK, "run on a finished run");
        FZ_CHECK(ac_estimator_result(e, b, NULL, n) == AC_OK, "result");
        FZ_CHECK(memcmp(a, b, n * sizeof *a) == 0, "the result changed");
        free(a);
        free(b);
    } else {
        FZ_CHECK(ac_estimator_last_error(e)[0] != '\0',
                 "run = %s and no message", ac_status_name(rc));
        fz_check_estimator_no_result(e, n);
        if (done == 1)
            FZ_CHECK(ac_estimator_run(e) == rc,
                     "a failed run's error does not stand");
    }
    /* Idle again: inputs and parameters may change. */
    FZ_CHECK(ac_estimator_reset(e, AC_RESET_SESSION) == AC_OK, "reset");
    FZ_CHECK(ac_estimator_progress(e, &done, &out) == AC_OK && done == 0 &&
             out == 0, "progress after reset: %d %llu", done,
             (unsigned long long)out);
    fz_check_estimator_no_result(e, n);
    fz_param(f, &fz_estimator_params, e, 1);
    ac_estimator_free(e);
}

/* ===================================================================== */
/* Refiner                                                               */
/* ===================================================================== */

typedef struct ref_ctx {
    fz *f;
    ac_refiner *r;
    uint32_t n_messages;
    uint64_t evals;
    int wild; /* labels outside [-1, 1] now and then */
} ref_ctx;

static int ref_scorer(void *user, const uint32_t *messages, uint32_t count,
                      double *labels, int32_t *status)
{
    ref_ctx *x = user;
    FZ_CHECK(count > 0, "a scorer call with no message");
    for (uint32_t k = 0; k < count; k++) {
        FZ_CHECK(messages[k] < x->n_messages, "message %u of %u",
                 messages[k], x->n_messages);
        FZ_CHECK(isnan(labels[k]) && status[k] == 0, "not pre-filled");
        labels[k] = x->wild && fz_rare(x->f, 8) ? fz_f64(x->f)
                                                   : fz_in(x->f, -1.0, 1.0);
        fail_answer(x->f, &labels[k], &status[k]);
    }
    x->evals += count;
    switch (pick_antic(x->f)) {
    case ANTIC_RETURN: return (int)(fz_u8(x->f) | 1);
    case ANTIC_CANCEL: ac_refiner_cancel(x->r); break;
    case ANTIC_REENTER: {
        uint64_t t = 1;
        double v = 0;
        FZ_CHECK(ac_refiner_tell(x->r, 1, &t, &v, NULL) == AC_E_BUSY,
                 "tell from inside the scorer");
        FZ_CHECK(ac_refiner_run(x->r) == AC_E_BUSY, "run from inside");
        FZ_CHECK(ac_refiner_reset(x->r, AC_RESET_SESSION) == AC_E_BUSY,
                 "reset from inside the scorer");
        FZ_CHECK(ac_refiner_set_scorer(x->r, NULL, NULL) == AC_E_BUSY,
                 "set_scorer from inside the scorer");
        break;
    }
    case ANTIC_NONE: break;
    }
    if (x->evals > EVAL_CAP)
        ac_refiner_cancel(x->r);
    return 0;
}

static int in_label_range(double v)
{
    return v >= -1.0 && v <= 1.0;
}

static void fuzz_refiner(fz *f)
{
    uint8_t b = fz_u8(f);
    uint32_t n_agents = b < 250 ? 1 + b % 6 : b < 253 ? 0 : AC_MAX_PLAYERS + 1;
    b = fz_u8(f);
    uint32_t n_messages = b < 250 ? 1 + b % 40 : b < 253 ? 0 : (1u << 28) + 1;
    ac_refiner *r = NULL;
    int rc = ac_refiner_create(&r, n_agents, n_messages, NULL);
    if (n_agents == 0 || n_messages == 0 || n_agents > AC_MAX_PLAYERS ||
        n_messages > (1u << 28)) {
        FZ_CHECK(rc != AC_OK && r == NULL, "create(%u, %u) = %s", n_agents,
                 n_messages, ac_status_name(rc));
        return;
    }
    FZ_CHECK(rc == AC_OK && r != NULL, "create(%u, %u) = %s", n_agents,
             n_messages, ac_status_name(rc));
    ref_ctx x = {f, r, n_messages, 0, 0};
    for (uint32_t k = fz_below(f, 6); k > 0; k--)
        fz_param(f, &fz_refiner_params, r, 1);
    fz_cap_int(&fz_refiner_params, r, AC_REFINER_PARAM_BATCH, 256);

    /* Authors: mostly valid; an invalid agent or length is refused and
     * leaves the refiner without authors. */
    uint32_t *agent_of = calloc(n_messages, sizeof *agent_of);
    double *credit = calloc(n_agents, sizeof *credit);
    double *labels = calloc(n_messages, sizeof *labels);
    FZ_CHECK(agent_of && credit && labels, "memory");
    int have_authors = 0, have_credits = 0;
    if (fz_chance(f, 248)) {
        int bad = 0;
        for (uint32_t t = 0; t < n_messages; t++) {
            agent_of[t] = fz_rare(f, 2) ? n_agents + fz_u8(f)
                                          : fz_below(f, n_agents);
            bad |= agent_of[t] >= n_agents;
        }
        uint32_t len = fz_rare(f, 4) ? n_messages + 1 : n_messages;
        rc = ac_refiner_set_authors(r, agent_of, len);
        have_authors = rc == AC_OK;
        FZ_CHECK(have_authors == (!bad && len == n_messages),
                 "set_authors = %s", ac_status_name(rc));
    }
    if (fz_chance(f, 248)) {
        int wild = fz_rare(f, 64), bad = 0;
        for (uint32_t a = 0; a < n_agents; a++) {
            credit[a] = wild ? fz_f64(f) : fz_in(f, -3.0, 3.0);
            bad |= !isfinite(credit[a]);
        }
        rc = ac_refiner_set_credits(r, credit, n_agents);
        have_credits = rc == AC_OK;
        FZ_CHECK(have_credits == !bad, "set_credits = %s",
                 ac_status_name(rc));
    }

    /* The label feeds: an array, fixed labels, texts (redundancy), a
     * message-level Shapley game per agent, and the scorer for the rest. */
    x.wild = fz_rare(f, 32);
    if (fz_chance(f, 96)) {
        int bad = 0;
        for (uint32_t t = 0; t < n_messages; t++) {
            labels[t] = x.wild ? fz_f64(f) : fz_in(f, -1.0, 1.0);
            bad |= !in_label_range(labels[t]);
        }
        rc = ac_refiner_set_labels(r, labels, n_messages);
        FZ_CHECK((rc == AC_OK) == !bad, "set_labels = %s",
                 ac_status_name(rc));
    }
    for (uint32_t k = fz_below(f, 4); k > 0; k--) {
        uint32_t t = fz_rare(f, 8) ? n_messages : fz_below(f, n_messages);
        double v = x.wild ? fz_f64(f) : fz_in(f, -1.0, 1.0);
        rc = ac_refiner_fix_label(r, t, v);
        FZ_CHECK((rc == AC_OK) == (t < n_messages && in_label_range(v)),
                 "fix_label(%u, %g) = %s", t, v, ac_status_name(rc));
    }
    if (fz_chance(f, 64)) {
        static const char *const vocab[] = {"a", " a ", "a\t", "b", "a  b",
                                            "a b", "", " ", "b\n"};
        const char **texts = calloc(n_messages, sizeof *texts);
        FZ_CHECK(texts != NULL, "memory");
        for (uint32_t t = 0; t < n_messages; t++)
            texts[t] = vocab[fz_below(f, FZ_N_OF(vocab))];
        rc = ac_refiner_set_texts(r, texts, NULL, n_messages);
        FZ_CHECK(rc == (have_authors ? AC_OK : AC_E_STATE),
                 "set_texts = %s (authors %d)", ac_status_name(rc),
                 have_authors);
        free(texts);
    }
    if (have_authors && fz_chance(f, 64)) {
        uint32_t a = fz_below(f, n_agents), count = 0;
        FZ_CHECK(ac_refiner_agent_messages(r, a, NULL, 0, &count) == AC_OK,
                 "agent_messages");
        double *phi = calloc(count + 1, sizeof *phi);
        FZ_CHECK(phi != NULL, "memory");
        int bad = 0;
        for (uint32_t k = 0; k < count; k++) {
            phi[k] = x.wild ? fz_f64(f) : fz_in(f, -2.0, 2.0);
            bad |= !isfinite(phi[k]);
        }
        uint32_t len = fz_rare(f, 8) ? count + 1 : count;
        rc = ac_refiner_labels_from_shapley(r, a, phi, len);
        if (rc == AC_OK)
            FZ_CHECK(!bad && len == count, "labels_from_shapley took "
                     "non-finite values or a wrong count");
        else
            FZ_CHECK(rc == AC_E_INVALID_ARG, "labels_from_shapley = %s",
                     ac_status_name(rc));
        free(phi);
    }

    FZ_CHECK(ac_refiner_set_scorer(r, ref_scorer, &x) == AC_OK, "scorer");
    rc = ac_refiner_run(r);
    FZ_CHECK(rc == AC_OK || rc == AC_E_STATE || rc == AC_E_INFEASIBLE ||
             rc == AC_E_CALLBACK || rc == AC_E_ORACLE ||
             rc == AC_E_CANCELLED || rc == AC_E_NO_MEMORY ||
             rc == AC_E_INVALID_ARG || rc == AC_E_TOO_LARGE, "run = %d", rc);
    if (!have_authors || !have_credits)
        FZ_CHECK(rc == AC_E_STATE, "a run without %s: %s",
                 have_authors ? "credits" : "authors", ac_status_name(rc));
    int32_t done = -1;
    uint64_t out = UINT64_MAX;
    FZ_CHECK(ac_refiner_progress(r, &done, &out) == AC_OK, "progress");
    FZ_CHECK(out == 0, "%llu outstanding after run",
             (unsigned long long)out);
    if (rc == AC_OK) {
        fz_check_refiner_done(r, n_agents, n_messages, agent_of, credit);
        ac_refiner_cancel(r);
        FZ_CHECK(ac_refiner_run(r) == AC_OK, "run on a finished run");
        fz_check_refiner_done(r, n_agents, n_messages, agent_of, credit);
    } else {
        FZ_CHECK(ac_refiner_last_error(r)[0] != '\0',
                 "run = %s and no message", ac_status_name(rc));
        fz_check_refiner_no_result(r, n_agents, n_messages);
        if (done == 1)
            FZ_CHECK(ac_refiner_run(r) == rc,
                     "a failed run's error does not stand");
    }
    /* Message flags follow the inputs: readable at any time. */
    uint32_t *mflags = calloc(n_messages, sizeof *mflags);
    FZ_CHECK(mflags != NULL, "memory");
    FZ_CHECK(ac_refiner_message_flags(r, mflags, n_messages) == AC_OK,
             "message flags");
    for (uint32_t t = 0; t < n_messages; t++)
        FZ_CHECK((mflags[t] & ~3u) == 0, "message flags 0x%x", mflags[t]);
    free(mflags);
    FZ_CHECK(ac_refiner_reset(r, AC_RESET_SESSION) == AC_OK, "reset");
    fz_check_refiner_no_result(r, n_agents, n_messages);
    fz_param(f, &fz_refiner_params, r, 1);
    free(agent_of);
    free(credit);
    free(labels);
    ac_refiner_free(r);
}

/* ===================================================================== */
/* Localizer                                                             */
/* ===================================================================== */

typedef struct loc_ctx {
    fz *f;
    ac_localizer *l;
    uint32_t n;
    uint32_t first_error; /* the verifier's truth; n: none */
    int noisy, wild;
    uint64_t evals;
    uint32_t candidates_asked;
} loc_ctx;

static double loc_answer(loc_ctx *x, uint32_t prefix)
{
    double v = prefix < x->first_error ? 1.0 : 0.0;
    if (x->noisy && fz_chance(x->f, 48))
        v = fz_chance(x->f, 128) ? 1.0 - v : fz_in(x->f, 0.0, 1.0);
    if (x->wild && fz_rare(x->f, 8))
        v = fz_f64(x->f);
    return v;
}

static int loc_antics(loc_ctx *x)
{
    switch (pick_antic(x->f)) {
    case ANTIC_RETURN: return (int)(fz_u8(x->f) | 1);
    case ANTIC_CANCEL: ac_localizer_cancel(x->l); break;
    case ANTIC_REENTER: {
        uint64_t t = 1;
        double v = 0;
        ac_preference_pair pair = {sizeof pair, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                                   0, 0, 0.0, 0.0, 0.0};
        FZ_CHECK(ac_localizer_tell(x->l, 1, &t, &v, NULL) == AC_E_BUSY,
                 "tell from inside the verifier");
        FZ_CHECK(ac_localizer_run(x->l) == AC_E_BUSY, "run from inside");
        FZ_CHECK(ac_localizer_reset(x->l, AC_RESET_SESSION) == AC_E_BUSY,
                 "reset from inside a callback");
        FZ_CHECK(ac_localizer_make_pair(x->l, 1, &pair) == AC_E_BUSY,
                 "make_pair from inside a callback");
        FZ_CHECK(ac_localizer_set_verifier(x->l, NULL, NULL) == AC_E_BUSY,
                 "set_verifier from inside a callback");
        break;
    }
    case ANTIC_NONE: break;
    }
    if (x->evals > EVAL_CAP)
        ac_localizer_cancel(x->l);
    return 0;
}

static int loc_verifier(void *user, const uint32_t *prefixes, uint32_t count,
                        double *p, int32_t *status)
{
    loc_ctx *x = user;
    FZ_CHECK(count > 0, "a verifier call with no prefix");
    for (uint32_t k = 0; k < count; k++) {
        FZ_CHECK(prefixes[k] < x->n, "prefix %u of %u", prefixes[k], x->n);
        FZ_CHECK(isnan(p[k]) && status[k] == 0, "not pre-filled");
        p[k] = loc_answer(x, prefixes[k]);
        fail_answer(x->f, &p[k], &status[k]);
    }
    x->evals += count;
    return loc_antics(x);
}

static int loc_repair(void *user, uint32_t step, uint32_t max_count,
                      uint64_t *candidates, uint32_t *count)
{
    loc_ctx *x = user;
    FZ_CHECK(step < x->n, "repair of step %u of %u", step, x->n);
    uint32_t c = fz_below(x->f, max_count + 2); /* sometimes one too many */
    for (uint32_t k = 0; k < c && k < max_count; k++)
        candidates[k] = fz_u64(x->f);
    *count = c;
    x->candidates_asked = c;
    return fz_rare(x->f, 4) ? 1 : 0;
}

static int loc_check(void *user, uint32_t step, const uint64_t *candidates,
                     uint32_t count, double *p, int32_t *status)
{
    loc_ctx *x = user;
    (void)candidates;
    FZ_CHECK(step < x->n, "check of step %u of %u", step, x->n);
    FZ_CHECK(count > 0, "a check with no candidate");
    for (uint32_t k = 0; k < count; k++) {
        FZ_CHECK(isnan(p[k]) && status[k] == 0, "not pre-filled");
        p[k] = x->wild && fz_rare(x->f, 16) ? fz_f64(x->f)
                                               : fz_in(x->f, 0.0, 1.0);
        fail_answer(x->f, &p[k], &status[k]);
    }
    x->evals += count;
    return loc_antics(x);
}

static void check_pair(const ac_localizer *l, const ac_preference_pair *p,
                       uint64_t episode, uint32_t n)
{
    FZ_CHECK(p->episode == episode, "episode");
    FZ_CHECK(p->kind >= AC_PAIR_KIND_NONE &&
             p->kind <= AC_PAIR_KIND_CORRECTIVE, "kind %d", p->kind);
    if (p->kind == AC_PAIR_KIND_NONE)
        FZ_CHECK(p->reason >= AC_PAIR_REASON_NOT_LOCALIZED &&
                 p->reason <= AC_PAIR_REASON_NO_BUDGET, "reason %d",
                 p->reason);
    else
        FZ_CHECK(p->reason == AC_PAIR_REASON_NONE, "a pair with reason %d",
                 p->reason);
    if (p->kind != AC_PAIR_KIND_NONE) {
        FZ_CHECK(p->step < n && p->prompt_end == p->step, "step %u, prompt "
                 "%u of %u", p->step, p->prompt_end, n);
        FZ_CHECK(p->confidence >= 0.0 && p->confidence <= 1.0,
                 "confidence %g", p->confidence);
        FZ_CHECK(p->localization >= 0.0 && p->localization <= 1.0,
                 "localization %g", p->localization);
        FZ_CHECK(p->weight >= 0.0 && p->weight <= 1.0, "weight %g",
                 p->weight);
    }
    if (p->kind == AC_PAIR_KIND_CORRECTIVE)
        FZ_CHECK(p->chosen > p->step && p->chosen < n, "corrective %llu "
                 "after %u", (unsigned long long)p->chosen, p->step);
    FZ_CHECK(p->verified <= p->checked && p->checked <= p->candidates,
             "candidates %u, checked %u, verified %u", p->candidates,
             p->checked, p->verified);
    int64_t evals = -1, budget = -1;
    FZ_CHECK(ac_localizer_audit(l, AC_LOCALIZER_AUDIT_EVALUATIONS, &evals) ==
             AC_OK && ac_localizer_audit(l, AC_LOCALIZER_AUDIT_BUDGET,
                                         &budget) == AC_OK, "audit");
    FZ_CHECK(evals <= budget, "%lld evaluations, budget %lld after the "
             "pair", (long long)evals, (long long)budget);
}

static void fuzz_localizer(fz *f)
{
    uint8_t b = fz_u8(f);
    uint32_t n = b < 250 ? 1 + b % 40 : b < 253 ? 0 : (1u << 24) + 1;
    ac_localizer *l = NULL;
    int rc = ac_localizer_create(&l, n, NULL);
    if (n == 0 || n > (1u << 24)) {
        FZ_CHECK(rc != AC_OK && l == NULL, "create(%u) = %s", n,
                 ac_status_name(rc));
        return;
    }
    FZ_CHECK(rc == AC_OK && l != NULL, "create(%u) = %s", n,
             ac_status_name(rc));
    loc_ctx x = {0};
    x.f = f;
    x.l = l;
    x.n = n;
    x.first_error = fz_below(f, n + 1);
    x.noisy = fz_chance(f, 64);
    x.wild = fz_rare(f, 24);
    for (uint32_t k = fz_below(f, 8); k > 0; k--)
        fz_param(f, &fz_localizer_params, l, 1);
    fz_cap_int(&fz_localizer_params, l, AC_LOCALIZER_PARAM_BATCH, 64);

    uint32_t *agent_of = NULL;
    if (fz_chance(f, 160)) {
        agent_of = calloc(n, sizeof *agent_of);
        FZ_CHECK(agent_of != NULL, "memory");
        for (uint32_t t = 0; t < n; t++)
            agent_of[t] = fz_below(f, 4);
        uint32_t len = fz_rare(f, 4) ? n - 1 : n;
        rc = ac_localizer_set_authors(l, agent_of, len);
        FZ_CHECK((rc == AC_OK) == (len == n), "set_authors = %s",
                 ac_status_name(rc));
        if (rc != AC_OK) {
            free(agent_of);
            agent_of = NULL;
        }
    }
    double *v = calloc((size_t)n + 1, sizeof *v);
    FZ_CHECK(v != NULL, "memory");
    if (fz_chance(f, 64)) {
        int bad = 0, positive = 0;
        for (uint32_t t = 0; t <= n; t++) {
            v[t] = x.wild ? fz_f64(f) : fz_in(f, 0.0, 4.0);
            bad |= !isfinite(v[t]) || v[t] < 0.0;
            positive |= v[t] > 0.0;
        }
        rc = ac_localizer_set_prior(l, v, n + 1);
        FZ_CHECK(rc == AC_OK || rc == AC_E_INVALID_ARG, "set_prior = %s",
                 ac_status_name(rc));
        if (bad || !positive)
            FZ_CHECK(rc != AC_OK, "a prior with a negative, non-finite or "
                     "no mass was taken");
    }
    if (fz_chance(f, 64)) {
        int bad = 0;
        for (uint32_t t = 0; t < n; t++) {
            v[t] = x.wild ? fz_f64(f) : fz_in(f, 0.0, 1.0);
            bad |= !(v[t] >= 0.0 && v[t] <= 1.0);
        }
        rc = ac_localizer_set_scores(l, v, n);
        FZ_CHECK((rc == AC_OK) == !bad, "set_scores = %s",
                 ac_status_name(rc));
    }
    if (fz_chance(f, 64))
        FZ_CHECK(ac_localizer_set_repair(l, loc_repair, loc_check, &x) ==
                 AC_OK, "set_repair");
    if (fz_chance(f, 248))
        FZ_CHECK(ac_localizer_set_verifier(l, loc_verifier, &x) == AC_OK,
                 "verifier");

    rc = ac_localizer_run(l);
    FZ_CHECK(rc == AC_OK || rc == AC_E_STATE || rc == AC_E_CALLBACK ||
             rc == AC_E_ORACLE || rc == AC_E_CANCELLED ||
             rc == AC_E_INVALID_ARG || rc == AC_E_NO_MEMORY ||
             rc == AC_E_TOO_LARGE, "run = %d", rc);
    int32_t done = -1;
    uint64_t out = UINT64_MAX;
    FZ_CHECK(ac_localizer_progress(l, &done, &out) == AC_OK, "progress");
    FZ_CHECK(out == 0, "%llu outstanding after run",
             (unsigned long long)out);
    if (rc == AC_OK) {
        fz_check_localizer_done(l, n, agent_of);
        if (fz_chance(f, 128))
            FZ_CHECK(ac_localizer_set_repair(l, loc_repair, loc_check, &x) ==
                     AC_OK, "set_repair");
        for (int k = 0; k < 2; k++) {
            ac_preference_pair pair;
            memset(&pair, 0xA5, sizeof pair);
            pair.struct_size = sizeof pair;
            uint64_t episode = fz_u64(f);
            x.candidates_asked = 0;
            rc = ac_localizer_make_pair(l, episode, &pair);
            FZ_CHECK(rc == AC_OK || rc == AC_E_INVALID_ARG ||
                     rc == AC_E_CALLBACK || rc == AC_E_ORACLE ||
                     rc == AC_E_NO_MEMORY, "make_pair = %d", rc);
            if (rc == AC_OK)
                check_pair(l, &pair, episode, n);
            /* The result stands whatever the pair did. */
            fz_check_localizer_done(l, n, agent_of);
        }
        ac_localizer_cancel(l);
        FZ_CHECK(ac_localizer_run(l) == AC_OK, "run on a finished run");
    } else {
        FZ_CHECK(ac_localizer_last_error(l)[0] != '\0',
                 "run = %s and no message", ac_status_name(rc));
        fz_check_localizer_no_result(l, n);
        ac_preference_pair pair = {sizeof pair, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                                   0, 0, 0.0, 0.0, 0.0};
        FZ_CHECK(ac_localizer_make_pair(l, 1, &pair) == AC_E_STATE,
                 "a pair without a finished run");
        if (done == 1)
            FZ_CHECK(ac_localizer_run(l) == rc,
                     "a failed run's error does not stand");
    }
    FZ_CHECK(ac_localizer_reset(l, AC_RESET_SESSION) == AC_OK, "reset");
    fz_check_localizer_no_result(l, n);
    fz_param(f, &fz_localizer_params, l, 1);
    free(v);
    free(agent_of);
    ac_localizer_free(l);
}

/* ===================================================================== */
/* ac_shapley_exact                                                      */
/* ===================================================================== */

static void fuzz_exact(fz *f)
{
    uint8_t b = fz_u8(f);
    uint32_t n = b < 250 ? 1 + b % 10 : b < 253 ? 0 : AC_EXACT_MAX_PLAYERS + 1;
    uint64_t len = n <= AC_EXACT_MAX_PLAYERS ? (uint64_t)1 << n : 0;
    uint64_t room = n <= 10 ? len : 1;
    double *values = calloc(room, sizeof *values);
    double *phi = calloc(n + 1, sizeof *phi);
    FZ_CHECK(values && phi, "memory");
    int style = (int)fz_below(f, 3), bad = 0;
    double scale = fz_f64(f), base = fz_chance(f, 128) ? 0.0 : fz_f64(f);
    for (uint64_t s = 0; s < room; s++) {
        uint32_t m = (uint32_t)__builtin_popcountll(s);
        values[s] = style == 0   ? base + scale * m
                    : style == 1 ? (fz_chance(f, 16) ? fz_f64(f)
                                                     : base + scale * m)
                                 : fz_f64(f);
        bad |= !isfinite(values[s]);
    }
    uint64_t pass_len = fz_rare(f, 4) ? len + 1 : len;
    phi[0] = 12345.0;
    int rc = ac_shapley_exact(n, values, n <= 10 ? pass_len : len, phi);
    if (n > AC_EXACT_MAX_PLAYERS) {
        FZ_CHECK(rc == AC_E_TOO_LARGE || rc == AC_E_INVALID_ARG,
                 "shapley_exact(%u) = %s", n, ac_status_name(rc));
    } else if (n == 0 || pass_len != len || bad) {
        FZ_CHECK(rc == AC_E_INVALID_ARG, "shapley_exact(%u, len %llu, %s) "
                 "= %s", n, (unsigned long long)pass_len,
                 bad ? "non-finite values" : "finite", ac_status_name(rc));
        FZ_CHECK(phi[0] == 12345.0, "phi written on failure");
    } else if (rc == AC_OK) {
        double lo = 0.0;
        for (uint32_t i = 0; i < n; i++) {
            FZ_CHECK(isfinite(phi[i]), "phi[%u] = %g on success", i, phi[i]);
            lo = fmax(lo, fabs(phi[i]));
        }
        long double sum = 0.0L;
        for (uint32_t i = 0; i < n; i++)
            sum += phi[i];
        double v_all = values[len - 1], v_empty = values[0];
        double sc = fmax(fmax(fabs(v_all), fabs(v_empty)), lo);
        FZ_CHECK(fz_close(sum, (long double)v_all - v_empty, sc),
                 "sum(phi) = %.17Lg, v(all) - v(empty) = %.17g", sum,
                 v_all - v_empty);
    } else {
        /* Values it cannot represent the credits of: refused, with no
         * output. */
        FZ_CHECK(rc == AC_E_INVALID_ARG || rc == AC_E_TOO_LARGE ||
                 rc == AC_E_NO_MEMORY, "shapley_exact = %s",
                 ac_status_name(rc));
        FZ_CHECK(phi[0] == 12345.0, "phi written on failure");
    }
    free(values);
    free(phi);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz f;
    fz_init(&f, data, size);
    switch (fz_below(&f, 4)) {
    case 0: fuzz_estimator(&f); break;
    case 1: fuzz_refiner(&f); break;
    case 2: fuzz_localizer(&f); break;
    default: fuzz_exact(&f); break;
    }
    return 0;
}
