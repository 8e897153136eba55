/* SPDX-License-Identifier: MIT
 *
 * The storm: 16 threads, each with its own handles (an estimator over a
 * game oracle, a refiner with a scorer, a localizer with a verifier), run
 * thousands of runs in all while they cancel one another's running handles.
 *
 * What it holds the library to: a handle is used by one thread at a time,
 * different handles share no mutable state, and ac_*_cancel() may come from
 * any thread. So a run in the storm must end exactly as the same run ends
 * alone in one thread, or with AC_E_CANCELLED and no result; a cancel that
 * comes after the run finished leaves its result intact. Every successful
 * result is compared bit for bit with the same run made in the main thread
 * before the storm (for a localizer whose corrective scan a cancel stopped,
 * after the storm, with a verifier that cancels at the same round; that
 * stop is a success by contract, and its result depends on that round).
 *
 * AC_STORM_RUNS sets how many runs (all threads, all three objects; default
 * STORM_DEFAULT_RUNS, a few seconds at -O2 on two cores). .ci/tsan.sh runs
 * it under ThreadSanitizer; docs/reliability.md records a long run.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <time.h>

#include "helpers.h"

enum {
    STORM_THREADS = 16,
    STORM_DEFAULT_RUNS = 4800,
    N_CONFIGS = 48, /* distinct runs of each object, references made once */
    EST_PLAYERS = 10,
    REF_AGENTS = 6,
    REF_MESSAGES = 48,
    LOC_MESSAGES = 64,
    MAX_BATCH = 256,
    N_GAMES = 3
};

enum { K_EST, K_REF, K_LOC, N_KINDS };
static const char *const kind_name[N_KINDS] = {"estimator", "refiner",
                                               "localizer"};

/* The games are given as text: the storm parses them in every thread. All
 * are noisy, so equal results also need equal noise draws (each run seeds
 * its game). */
static const char *const game_json[N_GAMES] = {
    "{\"n\": 10, \"terms\": ["
    "{\"coef\": 0.9, \"members\": [0]}, {\"coef\": 0.6, \"members\": [1, 2]},"
    "{\"coef\": -0.4, \"members\": [3]}, {\"coef\": 0.5, \"members\": [4, 5, 6]},"
    "{\"coef\": 0.3, \"members\": [7, 0]}, {\"coef\": -0.2, \"members\": [8, 9]},"
    "{\"coef\": 0.7, \"members\": [9, 1]},"
    "{\"coef\": 0.25, \"members\": [2, 4, 6, 8]},"
    "{\"coef\": -0.35, \"members\": [5, 9]}, {\"coef\": 0.15, \"members\": [9]},"
    "{\"coef\": 0.45, \"members\": [3, 7]}],"
    "\"noise\": {\"kind\": \"gaussian\", \"sd\": 0.3}}",
    "{\"n\": 10, \"type\": \"voting\","
    "\"weights\": [5, 4, 4, 3, 3, 2, 2, 1, 1, 1], \"quota\": 14,"
    "\"noise\": {\"kind\": \"gaussian\", \"sd\": 0.2}}",
    "{\"n\": 10, \"type\": \"airport\","
    "\"costs\": [1, 1, 2, 2, 3, 4, 5, 5, 6, 8],"
    "\"noise\": {\"kind\": \"gaussian\", \"sd\": 0.5}}",
};

/* ===================================================================== */
/* The runs                                                              */
/* ===================================================================== */

/* Each config is a pure function of (kind, index): the storm and the
 * reference build the same one. */
typedef struct est_cfg {
    int game, asktell, ends_known;
    int64_t method, budget, seed, batch, repeats, noisy;
    double target_se;
    uint64_t noise_seed, salt;
    uint32_t fail_rate; /* 1 in fail_rate answers fails; 0: none */
} est_cfg;

typedef struct ref_cfg {
    int asktell, use_texts;
    uint32_t agent_of[REF_MESSAGES];
    double credit[REF_AGENTS];
    double bound, beta, penalty;
    int64_t relaxation, batch, retries;
    uint32_t n_fixed, fixed_at[4];
    double fixed_label[4];
    char texts[REF_MESSAGES][16];
    uint64_t salt;
    uint32_t fail_rate;
} ref_cfg;

typedef struct loc_cfg {
    int asktell;
    int64_t strategy, noise, batch, budget, monotone, scan_after;
    double accuracy;
    uint32_t error;    /* first error; LOC_MESSAGES: none             */
    uint32_t back_at;  /* on track again from here (0: never)        */
    uint32_t agent_of[LOC_MESSAGES];
    uint64_t salt;
    uint32_t fail_rate;
} loc_cfg;

static th_rng cfg_rng(int kind, uint32_t c)
{
    return th_rng_make(0x5707u + 1000u * (uint64_t)kind + c);
}

static void est_config(uint32_t c, est_cfg *x)
{
    static const int64_t methods[] = {
        AC_METHOD_AUTO,  AC_METHOD_PERMUTATION, AC_METHOD_KERNELSHAP,
        AC_METHOD_EXACT, AC_METHOD_ODDSHAP,     AC_METHOD_ADAPTIVE};
    static const int64_t batches[] = {1, 7, 64, 256};
    th_rng r = cfg_rng(K_EST, c);
    memset(x, 0, sizeof *x);
    /* every method meets every game, through both drivers */
    x->method = methods[c % 6];
    x->game = (int)((c / 6) % N_GAMES);
    x->asktell = (int)((c / 6) % 2);
    x->seed = (int64_t)th_rng_below(&r, 1000000);
    x->batch = batches[th_rng_below(&r, 4)];
    x->repeats = 1 + th_rng_below(&r, 2);
    x->ends_known = th_rng_below(&r, 2) == 0;
    x->noise_seed = th_rng_next(&r);
    x->salt = th_rng_next(&r);
    x->fail_rate = th_rng_below(&r, 3) == 0 ? 0 : 40;
    switch (x->method) {
    case AC_METHOD_PERMUTATION:
        x->budget = 600 + 100 * th_rng_below(&r, 10);
        if (th_rng_below(&r, 2) == 0)
            x->target_se = 0.08;
        break;
    case AC_METHOD_KERNELSHAP:
        x->budget = 300 + 100 * th_rng_below(&r, 8);
        break;
    case AC_METHOD_EXACT:
        x->repeats = 1;
        x->budget = 2500;
        break;
    case AC_METHOD_ODDSHAP:
        x->budget = 60 + 20 * th_rng_below(&r, 8);
        break;
    case AC_METHOD_ADAPTIVE:
        x->noisy = 1;
        x->repeats = 1;
        x->budget = 1100 + 50 * th_rng_below(&r, 8);
        break;
    default: { /* AUTO: budgets short of the table (OddSHAP, whose fit
                  grows with the cube of the budget), and two that pay it */
        static const int64_t budgets[] = {120, 180, 1100, 2000};
        x->repeats = 1;
        x->budget = budgets[th_rng_below(&r, 4)];
        break;
    }
    }
}

static void ref_config(uint32_t c, ref_cfg *x)
{
    th_rng r = cfg_rng(K_REF, c);
    memset(x, 0, sizeof *x);
    x->asktell = (int)(c % 2);
    for (uint32_t t = 0; t < REF_MESSAGES; t++)
        x->agent_of[t] = t < REF_AGENTS ? t : th_rng_below(&r, REF_AGENTS);
    for (uint32_t a = 0; a < REF_AGENTS; a++)
        x->credit[a] = th_rng_range(&r, -2.0, 2.0);
    x->bound = th_rng_below(&r, 4) == 0 ? 0.05 : 1.0;
    x->beta = th_rng_range(&r, 0.0, 1.0);
    x->penalty = 0.5;
    /* now and then boxes that cannot hold and no relaxation allowed: a
     * run that fails with AC_E_INFEASIBLE, in the storm as alone */
    x->relaxation = c % 8 == 7 ? AC_RELAXATION_NEVER : AC_RELAXATION_ORDERED;
    x->batch = 1 + th_rng_below(&r, 16);
    x->retries = th_rng_below(&r, 3);
    x->n_fixed = th_rng_below(&r, 5);
    for (uint32_t k = 0; k < x->n_fixed; k++) {
        x->fixed_at[k] = th_rng_below(&r, REF_MESSAGES);
        x->fixed_label[k] = th_rng_range(&r, -1.0, 1.0);
    }
    x->use_texts = th_rng_below(&r, 2) == 0;
    for (uint32_t t = 0; t < REF_MESSAGES; t++)
        snprintf(x->texts[t], sizeof x->texts[t], "step  %u ",
                 th_rng_below(&r, 30));
    x->salt = th_rng_next(&r);
    x->fail_rate = th_rng_below(&r, 2) == 0 ? 0 : 30;
}

static void loc_config(uint32_t c, loc_cfg *x)
{
    th_rng r = cfg_rng(K_LOC, c);
    memset(x, 0, sizeof *x);
    x->asktell = (int)((c / 4) % 2);
    x->batch = 1 + th_rng_below(&r, 4);
    x->budget = 1024;
    x->monotone = 1;
    x->scan_after = th_rng_below(&r, 6) != 0;
    x->noise = AC_NOISE_NONE;
    x->error = th_rng_below(&r, LOC_MESSAGES + 1);
    for (uint32_t t = 0; t < LOC_MESSAGES; t++)
        x->agent_of[t] = th_rng_below(&r, 5);
    switch (c % 4) {
    case 0:
        x->strategy = AC_STRATEGY_BINARY;
        break;
    case 1: /* exact, not monotone: later messages repair the error */
        x->strategy = AC_STRATEGY_AUTO;
        x->monotone = 0;
        x->back_at = x->error + 1 + th_rng_below(&r, 6);
        break;
    case 2:
        x->strategy = AC_STRATEGY_BISECTION;
        x->noise = AC_NOISE_INDEPENDENT;
        x->accuracy = 0.8 + 0.1 * th_rng_unif(&r);
        x->budget = 60 + th_rng_below(&r, 100);
        break;
    default:
        x->strategy = AC_STRATEGY_LINEAR;
        break;
    }
    x->salt = th_rng_next(&r);
    x->fail_rate = th_rng_below(&r, 2) == 0 ? 0 : 25;
}

/* ---- callbacks (deterministic given the order of the calls) ---------- */

/* Now and then a callback gives up its core in the middle of a run, so that
 * the other threads' cancels find runs under way, not only between them.
 * Which calls yield changes no answer. */
static void maybe_yield(uint64_t h)
{
    if ((h >> 40) % 8 == 0)
        sched_yield();
}

typedef struct est_user {
    ac_game *game;
    uint64_t salt, calls;
    uint32_t fail_rate;
} est_user;

static int storm_oracle(void *user, const uint64_t *coalitions, uint32_t words,
                        uint32_t count, double *values, int32_t *status)
{
    est_user *u = user;
    int rc = ac_game_oracle(u->game, coalitions, words, count, values, status);
    if (rc != AC_OK)
        return rc;
    uint64_t call = u->calls++;
    maybe_yield(th_mix(u->salt + call));
    for (uint32_t k = 0; u->fail_rate && k < count; k++)
        if (th_mix(u->salt ^ (call << 20) ^ k) % u->fail_rate == 0)
            status[k] = 7;
    return 0;
}

typedef struct ref_user {
    uint64_t salt;
    uint32_t fail_rate;
    uint32_t tries[REF_MESSAGES];
} ref_user;

static int storm_scorer(void *user, const uint32_t *messages, uint32_t count,
                        double *labels, int32_t *status)
{
    ref_user *u = user;
    maybe_yield(th_mix(u->salt ^ messages[0] ^ ((uint64_t)count << 32)));
    for (uint32_t k = 0; k < count; k++) {
        uint32_t m = messages[k];
        uint64_t h = th_mix(u->salt ^ ((uint64_t)m << 8) ^ u->tries[m]++);
        if (u->fail_rate && h % u->fail_rate == 0)
            continue; /* the pre-filled NaN: a failed label */
        labels[k] = 2.0 * (double)(h >> 11) / 9007199254740992.0 - 1.0;
        status[k] = 0;
    }
    return 0;
}

typedef struct loc_user {
    const loc_cfg *cfg;
    ac_localizer *self;
    uint64_t calls, cancel_at; /* cancel_at: the reference of a stopped
                                  scan cancels in that call (0: never) */
    uint32_t tries[LOC_MESSAGES];
} loc_user;

static int storm_verifier(void *user, const uint32_t *prefixes, uint32_t count,
                          double *p_on_track, int32_t *status)
{
    loc_user *u = user;
    const loc_cfg *c = u->cfg;
    uint64_t call = ++u->calls;
    maybe_yield(th_mix(c->salt + call));
    for (uint32_t k = 0; k < count; k++) {
        uint32_t t = prefixes[k];
        int on = t < c->error || (c->back_at && t >= c->back_at);
        uint64_t h = th_mix(c->salt ^ ((uint64_t)t << 8) ^ u->tries[t]++);
        if (c->fail_rate && h % c->fail_rate == 0) {
            status[k] = 5;
            continue;
        }
        if (c->noise != AC_NOISE_NONE &&
            (double)(th_mix(h ^ (call << 32)) >> 11) / 9007199254740992.0 >
                c->accuracy)
            on = !on;
        p_on_track[k] = on ? 1.0 : 0.0;
    }
    if (call == u->cancel_at)
        ac_localizer_cancel(u->self);
    return 0;
}

/* ---- a thread's handles ---------------------------------------------- */

typedef struct kit {
    ac_game *game[N_GAMES];
    ac_estimator *est;
    ac_refiner *ref;
    ac_localizer *loc;
    est_user eu;
    ref_user ru;
    loc_user lu;
    loc_cfg lc; /* the localizer's config, alive while lu points at it */
    /* ask/tell buffers */
    uint64_t tickets[MAX_BATCH], coalitions[MAX_BATCH];
    uint32_t items[MAX_BATCH];
    double values[MAX_BATCH];
    int32_t status[MAX_BATCH];
} kit;

/* The default limits hold these small games with room to spare. */
static int load_game(ac_game **out, const char *text)
{
    char err[256];
    return ac_game_load_json(out, text, strlen(text), NULL, NULL, err,
                             sizeof err);
}

static int kit_make(kit *k)
{
    memset(k, 0, sizeof *k);
    int rc = AC_OK;
    for (int g = 0; g < N_GAMES && rc == AC_OK; g++)
        rc = load_game(&k->game[g], game_json[g]);
    if (rc == AC_OK)
        rc = ac_estimator_create(&k->est, EST_PLAYERS, NULL);
    if (rc == AC_OK)
        rc = ac_refiner_create(&k->ref, REF_AGENTS, REF_MESSAGES, NULL);
    if (rc == AC_OK)
        rc = ac_localizer_create(&k->loc, LOC_MESSAGES, NULL);
    return rc;
}

static void kit_free(kit *k)
{
    ac_estimator_free(k->est);
    ac_refiner_free(k->ref);
    ac_localizer_free(k->loc);
    for (int g = 0; g < N_GAMES; g++)
        ac_game_free(k->game[g]);
}

/* ---- set-up: a failure here is the harness's, not the run's ---------- */

#define STEP(call)                                                           \
    do {                                                                     \
        if (rc == AC_OK)                                                     \
            rc = (call);                                                     \
    } while (0)

static int est_setup(kit *k, const est_cfg *c)
{
    ac_estimator *e = k->est;
    int rc = ac_estimator_reset(e, AC_RESET_ALL);
    STEP(ac_estimator_set_int(e, AC_ESTIMATOR_PARAM_METHOD, c->method));
    STEP(ac_estimator_set_int(e, AC_ESTIMATOR_PARAM_BUDGET, c->budget));
    STEP(ac_estimator_set_int(e, AC_ESTIMATOR_PARAM_SEED, c->seed));
    STEP(ac_estimator_set_int(e, AC_ESTIMATOR_PARAM_BATCH, c->batch));
    STEP(ac_estimator_set_int(e, AC_ESTIMATOR_PARAM_REPEATS, c->repeats));
    STEP(ac_estimator_set_int(e, AC_ESTIMATOR_PARAM_NOISY, c->noisy));
    STEP(ac_estimator_set_f64(e, AC_ESTIMATOR_PARAM_TARGET_SE, c->target_se));
    ac_game *g = k->game[c->game];
    if (c->ends_known) {
        uint64_t co[1] = {0};
        double v = 0.0;
        STEP(ac_game_value(g, co, 1, &v));
        STEP(ac_estimator_set_value(e, co, 1, v));
        co[0] = ((uint64_t)1 << EST_PLAYERS) - 1u;
        STEP(ac_game_value(g, co, 1, &v));
        STEP(ac_estimator_set_value(e, co, 1, v));
    }
    STEP(ac_game_seed(g, c->noise_seed));
    k->eu.game = g;
    k->eu.salt = c->salt;
    k->eu.calls = 0;
    k->eu.fail_rate = c->fail_rate;
    STEP(ac_estimator_set_oracle(e, storm_oracle, &k->eu));
    return rc;
}

static int ref_setup(kit *k, const ref_cfg *c)
{
    ac_refiner *r = k->ref;
    int rc = ac_refiner_reset(r, AC_RESET_ALL);
    STEP(ac_refiner_set_f64(r, AC_REFINER_PARAM_BOUND, c->bound));
    STEP(ac_refiner_set_f64(r, AC_REFINER_PARAM_BETA, c->beta));
    STEP(ac_refiner_set_f64(r, AC_REFINER_PARAM_REDUNDANCY_PENALTY, c->penalty));
    STEP(ac_refiner_set_int(r, AC_REFINER_PARAM_RELAXATION, c->relaxation));
    STEP(ac_refiner_set_int(r, AC_REFINER_PARAM_BATCH, c->batch));
    STEP(ac_refiner_set_int(r, AC_REFINER_PARAM_MAX_RETRIES, c->retries));
    STEP(ac_refiner_set_authors(r, c->agent_of, REF_MESSAGES));
    STEP(ac_refiner_set_credits(r, c->credit, REF_AGENTS));
    for (uint32_t f = 0; f < c->n_fixed; f++)
        STEP(ac_refiner_fix_label(r, c->fixed_at[f], c->fixed_label[f]));
    if (c->use_texts) {
        const char *texts[REF_MESSAGES];
        for (uint32_t t = 0; t < REF_MESSAGES; t++)
            texts[t] = c->texts[t];
        STEP(ac_refiner_set_texts(r, texts, NULL, REF_MESSAGES));
    }
    k->ru.salt = c->salt;
    k->ru.fail_rate = c->fail_rate;
    memset(k->ru.tries, 0, sizeof k->ru.tries);
    STEP(ac_refiner_set_scorer(r, storm_scorer, &k->ru));
    return rc;
}

static int loc_setup(kit *k, const loc_cfg *c, uint64_t cancel_at)
{
    ac_localizer *l = k->loc;
    k->lc = *c;
    int rc = ac_localizer_reset(l, AC_RESET_ALL);
    STEP(ac_localizer_set_int(l, AC_LOCALIZER_PARAM_STRATEGY, c->strategy));
    STEP(ac_localizer_set_int(l, AC_LOCALIZER_PARAM_NOISE, c->noise));
    if (c->noise != AC_NOISE_NONE)
        STEP(ac_localizer_set_f64(l, AC_LOCALIZER_PARAM_ACCURACY, c->accuracy));
    STEP(ac_localizer_set_int(l, AC_LOCALIZER_PARAM_BATCH, c->batch));
    STEP(ac_localizer_set_int(l, AC_LOCALIZER_PARAM_BUDGET, c->budget));
    STEP(ac_localizer_set_int(l, AC_LOCALIZER_PARAM_MONOTONE, c->monotone));
    STEP(ac_localizer_set_int(l, AC_LOCALIZER_PARAM_SCAN_AFTER, c->scan_after));
    STEP(ac_localizer_set_authors(l, c->agent_of, LOC_MESSAGES));
    k->lu.cfg = &k->lc;
    k->lu.self = l;
    k->lu.calls = 0;
    k->lu.cancel_at = cancel_at;
    memset(k->lu.tries, 0, sizeof k->lu.tries);
    STEP(ac_localizer_set_verifier(l, storm_verifier, &k->lu));
    return rc;
}

/* ---- drivers: the library's run loop, or the host's own ask/tell ----- */

/* count 0 from an ask that is not the end would leave the host nothing to
 * do: with every ticket told, it never happens. */
#define STORM_STUCK 1000

static int est_drive(kit *k, int asktell, int64_t batch)
{
    if (!asktell)
        return ac_estimator_run(k->est);
    for (;;) {
        uint32_t count = 0;
        int32_t done = 0;
        int rc = ac_estimator_ask(k->est, (uint32_t)batch, k->tickets,
                                  k->coalitions, &count);
        if (rc != AC_OK)
            return rc;
        if (count == 0) {
            rc = ac_estimator_progress(k->est, &done, NULL);
            return rc != AC_OK ? rc : done ? AC_OK : STORM_STUCK;
        }
        for (uint32_t j = 0; j < count; j++) {
            k->values[j] = NAN;
            k->status[j] = 0;
        }
        if (storm_oracle(&k->eu, k->coalitions, 1, count, k->values,
                         k->status) != 0)
            return STORM_STUCK;
        rc = ac_estimator_tell(k->est, count, k->tickets, k->values, k->status);
        if (rc != AC_OK)
            return rc;
    }
}

static int ref_drive(kit *k, int asktell, int64_t batch)
{
    if (!asktell)
        return ac_refiner_run(k->ref);
    for (;;) {
        uint32_t count = 0;
        int32_t done = 0;
        int rc = ac_refiner_ask(k->ref, (uint32_t)batch, k->tickets, k->items,
                                &count);
        if (rc != AC_OK)
            return rc;
        if (count == 0) {
            rc = ac_refiner_progress(k->ref, &done, NULL);
            return rc != AC_OK ? rc : done ? AC_OK : STORM_STUCK;
        }
        for (uint32_t j = 0; j < count; j++) {
            k->values[j] = NAN;
            k->status[j] = 0;
        }
        (void)storm_scorer(&k->ru, k->items, count, k->values, k->status);
        rc = ac_refiner_tell(k->ref, count, k->tickets, k->values, k->status);
        if (rc != AC_OK)
            return rc;
    }
}

static int loc_drive(kit *k, int asktell, int64_t batch)
{
    if (!asktell)
        return ac_localizer_run(k->loc);
    for (;;) {
        uint32_t count = 0;
        int32_t done = 0;
        int rc = ac_localizer_ask(k->loc, (uint32_t)batch, k->tickets,
                                  k->items, &count);
        if (rc != AC_OK)
            return rc;
        if (count == 0) {
            rc = ac_localizer_progress(k->loc, &done, NULL);
            return rc != AC_OK ? rc : done ? AC_OK : STORM_STUCK;
        }
        for (uint32_t j = 0; j < count; j++) {
            k->values[j] = NAN;
            k->status[j] = 0;
        }
        (void)storm_verifier(&k->lu, k->items, count, k->values, k->status);
        rc = ac_localizer_tell(k->loc, count, k->tickets, k->values, k->status);
        if (rc != AC_OK)
            return rc;
    }
}

/* ---- what a run gave ------------------------------------------------- */

typedef struct outcome {
    int rc;
    uint64_t digest;      /* of everything the result getters give */
    int64_t work;         /* evaluations (estimator, refiner), rounds
                             (localizer) when the run ended          */
    int64_t scan_stopped; /* localizer: AC_LOCALIZER_AUDIT_SCAN_STOPPED */
    int bad;              /* a getter misbehaved: why[] says how     */
    char why[200];
} outcome;

typedef struct digest {
    uint64_t h;
} digest;

static void dg_bytes(digest *d, const void *p, size_t len)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < len; i++) {
        d->h ^= b[i];
        d->h *= 0x100000001B3ull; /* FNV-1a */
    }
}

static void bad(outcome *o, const char *what, int rc)
{
    if (o->bad++)
        return;
    snprintf(o->why, sizeof o->why, "%s returned %d (%s)", what, rc,
             ac_status_name(rc));
}

static void est_read(const kit *k, outcome *o)
{
    double phi[EST_PLAYERS], se[EST_PLAYERS];
    digest d = {0xCBF29CE484222325ull};
    int rc = ac_estimator_result(k->est, phi, se, EST_PLAYERS);
    if (rc != AC_OK)
        bad(o, "ac_estimator_result", rc);
    dg_bytes(&d, phi, sizeof phi);
    dg_bytes(&d, se, sizeof se);
    for (int key = AC_ESTIMATOR_AUDIT_METHOD; key <= AC_ESTIMATOR_AUDIT_DROPPED;
         key++) {
        int64_t v = 0;
        if ((rc = ac_estimator_audit(k->est, (ac_estimator_audit_key)key, &v)))
            bad(o, "ac_estimator_audit", rc);
        dg_bytes(&d, &v, sizeof v);
    }
    o->digest = d.h;
}

static void ref_read(const kit *k, outcome *o)
{
    double rewards[REF_MESSAGES], labels[REF_MESSAGES];
    uint32_t mflags[REF_MESSAGES], aflags[REF_AGENTS];
    digest d = {0xCBF29CE484222325ull};
    int rc;
    if ((rc = ac_refiner_rewards(k->ref, rewards, REF_MESSAGES)))
        bad(o, "ac_refiner_rewards", rc);
    if ((rc = ac_refiner_labels(k->ref, labels, REF_MESSAGES)))
        bad(o, "ac_refiner_labels", rc);
    if ((rc = ac_refiner_message_flags(k->ref, mflags, REF_MESSAGES)))
        bad(o, "ac_refiner_message_flags", rc);
    if ((rc = ac_refiner_agent_flags(k->ref, aflags, REF_AGENTS)))
        bad(o, "ac_refiner_agent_flags", rc);
    dg_bytes(&d, rewards, sizeof rewards);
    dg_bytes(&d, labels, sizeof labels);
    dg_bytes(&d, mflags, sizeof mflags);
    dg_bytes(&d, aflags, sizeof aflags);
    for (int key = AC_REFINER_AUDIT_EVALUATIONS; key <= AC_REFINER_AUDIT_REDUNDANT;
         key++) {
        int64_t v = 0;
        if ((rc = ac_refiner_audit(k->ref, (ac_refiner_audit_key)key, &v)))
            bad(o, "ac_refiner_audit", rc);
        dg_bytes(&d, &v, sizeof v);
    }
    o->digest = d.h;
}

static void loc_read(const kit *k, outcome *o)
{
    int64_t step = 0;
    uint32_t agent = 0, flags[LOC_MESSAGES];
    double prob = 0.0, post[LOC_MESSAGES + 1], blame[LOC_MESSAGES];
    digest d = {0xCBF29CE484222325ull};
    int rc;
    if ((rc = ac_localizer_result(k->loc, &step, &agent, &prob)))
        bad(o, "ac_localizer_result", rc);
    if ((rc = ac_localizer_posterior(k->loc, post, LOC_MESSAGES + 1)))
        bad(o, "ac_localizer_posterior", rc);
    if ((rc = ac_localizer_step_flags(k->loc, flags, LOC_MESSAGES)))
        bad(o, "ac_localizer_step_flags", rc);
    if ((rc = ac_localizer_blame_labels(k->loc, blame, LOC_MESSAGES)))
        bad(o, "ac_localizer_blame_labels", rc);
    dg_bytes(&d, &step, sizeof step);
    dg_bytes(&d, &agent, sizeof agent);
    dg_bytes(&d, &prob, sizeof prob);
    dg_bytes(&d, post, sizeof post);
    dg_bytes(&d, flags, sizeof flags);
    dg_bytes(&d, blame, sizeof blame);
    for (int key = AC_LOCALIZER_AUDIT_EVALUATIONS;
         key <= AC_LOCALIZER_AUDIT_SCAN_STOPPED; key++) {
        int64_t v = 0;
        if ((rc = ac_localizer_audit(k->loc, (ac_localizer_audit_key)key, &v)))
            bad(o, "ac_localizer_audit", rc);
        dg_bytes(&d, &v, sizeof v);
        if (key == AC_LOCALIZER_AUDIT_SCAN_STOPPED)
            o->scan_stopped = v;
    }
    o->digest = d.h;
}

/* A run that failed has no result, and says why it ended. */
static void read_failed(const kit *k, int kind, outcome *o)
{
    double x[REF_MESSAGES];
    int32_t done = 0;
    uint64_t outstanding = 1;
    int64_t v = -1;
    int rc;
    switch (kind) {
    case K_EST:
        if ((rc = ac_estimator_result(k->est, x, NULL, EST_PLAYERS)) != AC_E_STATE)
            bad(o, "ac_estimator_result after a failed run", rc);
        if ((rc = ac_estimator_progress(k->est, &done, &outstanding)))
            bad(o, "ac_estimator_progress", rc);
        if ((rc = ac_estimator_audit(k->est, AC_ESTIMATOR_AUDIT_EVALUATIONS,
                                     &o->work)))
            bad(o, "ac_estimator_audit", rc);
        if (o->rc == AC_E_CANCELLED &&
            (ac_estimator_audit(k->est, AC_ESTIMATOR_AUDIT_OUTCOME, &v) != AC_OK ||
             v != AC_ESTIMATOR_OUTCOME_CANCELLED))
            bad(o, "the outcome of a cancelled estimator run is not CANCELLED",
                (int)v);
        break;
    case K_REF:
        if ((rc = ac_refiner_rewards(k->ref, x, REF_MESSAGES)) != AC_E_STATE)
            bad(o, "ac_refiner_rewards after a failed run", rc);
        if ((rc = ac_refiner_progress(k->ref, &done, &outstanding)))
            bad(o, "ac_refiner_progress", rc);
        if ((rc = ac_refiner_audit(k->ref, AC_REFINER_AUDIT_EVALUATIONS,
                                   &o->work)))
            bad(o, "ac_refiner_audit", rc);
        break;
    default:
        if ((rc = ac_localizer_result(k->loc, NULL, NULL, x)) != AC_E_STATE)
            bad(o, "ac_localizer_result after a failed run", rc);
        if ((rc = ac_localizer_progress(k->loc, &done, &outstanding)))
            bad(o, "ac_localizer_progress", rc);
        if ((rc = ac_localizer_audit(k->loc, AC_LOCALIZER_AUDIT_ROUNDS,
                                     &o->work)))
            bad(o, "ac_localizer_audit", rc);
        if (o->rc == AC_E_CANCELLED &&
            (ac_localizer_audit(k->loc, AC_LOCALIZER_AUDIT_OUTCOME, &v) != AC_OK ||
             v != AC_LOCALIZER_OUTCOME_CANCELLED))
            bad(o, "the outcome of a cancelled localizer run is not CANCELLED",
                (int)v);
        break;
    }
    if (done != 1 || outstanding != 0)
        bad(o, "progress after a failed run (not done, or tickets outstanding)",
            (int)outstanding);
}

static void cancel_kind(kit *k, int kind)
{
    if (kind == K_EST)
        ac_estimator_cancel(k->est);
    else if (kind == K_REF)
        ac_refiner_cancel(k->ref);
    else
        ac_localizer_cancel(k->loc);
}

static int run_again(kit *k, int kind)
{
    return kind == K_EST   ? ac_estimator_run(k->est)
           : kind == K_REF ? ac_refiner_run(k->ref)
                           : ac_localizer_run(k->loc);
}

/* One run of config c, on k's handles. busy (may be NULL) is raised while
 * the run goes, for the other threads to aim at. cancel_at is the
 * localizer reference's self-cancel (0: none). late_cancel: once the run
 * is done, cancel it ourselves and check it stays done. */
static outcome one_run(kit *k, int kind, uint32_t c, atomic_int *busy,
                       uint64_t cancel_at, int late_cancel)
{
    outcome o;
    memset(&o, 0, sizeof o);
    est_cfg ec;
    ref_cfg rcfg;
    loc_cfg lc;
    int asktell = 0, rc;
    int64_t batch = 1;
    if (kind == K_EST) {
        est_config(c, &ec);
        rc = est_setup(k, &ec);
        asktell = ec.asktell;
        batch = ec.batch;
    } else if (kind == K_REF) {
        ref_config(c, &rcfg);
        rc = ref_setup(k, &rcfg);
        asktell = rcfg.asktell;
        batch = rcfg.batch;
    } else {
        loc_config(c, &lc);
        rc = loc_setup(k, &lc, cancel_at);
        asktell = lc.asktell;
        batch = lc.batch;
    }
    if (rc != AC_OK) {
        bad(&o, "the set-up", rc);
        o.rc = rc;
        return o;
    }
    if (busy)
        atomic_store(busy, kind + 1);
    o.rc = kind == K_EST   ? est_drive(k, asktell, batch)
           : kind == K_REF ? ref_drive(k, asktell, batch)
                           : loc_drive(k, asktell, batch);
    if (busy)
        atomic_store(busy, 0);
    if (o.rc == AC_OK && late_cancel) {
        cancel_kind(k, kind);
        if ((rc = run_again(k, kind)) != AC_OK)
            bad(&o, "run again after a cancel of a finished run", rc);
    }
    if (o.rc != AC_OK) {
        read_failed(k, kind, &o);
        return o;
    }
    if (kind == K_EST)
        est_read(k, &o);
    else if (kind == K_REF)
        ref_read(k, &o);
    else
        loc_read(k, &o);
    if (kind == K_LOC &&
        ac_localizer_audit(k->loc, AC_LOCALIZER_AUDIT_ROUNDS, &o.work) != AC_OK)
        bad(&o, "ac_localizer_audit", AC_E_INVALID_ARG);
    return o;
}

/* ===================================================================== */
/* The storm                                                             */
/* ===================================================================== */

typedef struct stop {
    uint32_t config;
    int64_t rounds;
    uint64_t digest;
} stop;

typedef struct storm storm;

typedef struct worker {
    storm *s;
    int id;
    kit kit;
    atomic_int busy; /* 0 idle, 1 + kind while a run goes */
    uint32_t episodes;
    /* what came out */
    uint64_t runs[N_KINDS], ok[N_KINDS], cancelled[N_KINDS], mid_run[N_KINDS];
    uint64_t failed_as_alone[N_KINDS]; /* the reference fails the same way */
    uint64_t cancels_sent, late_cancels;
    stop *stops; /* localizer scans stopped by a cancel: checked later */
    size_t n_stops;
    int failed;
    char why[400];
} worker;

struct storm {
    worker w[STORM_THREADS];
    outcome ref[N_KINDS][N_CONFIGS];
};

static void worker_fail(worker *w, int kind, uint32_t c, const char *what,
                        const outcome *o, const outcome *want)
{
    if (w->failed++)
        return;
    snprintf(w->why, sizeof w->why,
             "thread %d, %s config %u: %s (rc %d %s, alone %d %s)%s%s", w->id,
             kind_name[kind], c, what, o->rc, ac_status_name(o->rc), want->rc,
             ac_status_name(want->rc), o->bad ? ": " : "", o->bad ? o->why : "");
}

/* The other threads' running handles: cancel the first one found busy. */
static void cancel_someone(worker *w, th_rng *r)
{
    for (int tries = 0; tries < 4; tries++) {
        worker *v = &w->s->w[(w->id + 1 + (int)th_rng_below(r, STORM_THREADS - 1)) %
                             STORM_THREADS];
        int kind = atomic_load(&v->busy) - 1;
        if (kind >= 0) {
            /* it may have finished, or moved on, by now: that is the race
             * under test */
            cancel_kind(&v->kit, kind);
            w->cancels_sent++;
            return;
        }
    }
}

static void *worker_main(void *arg)
{
    worker *w = arg;
    th_rng r = th_rng_make(0xC0FFEEu + (uint64_t)w->id);
    for (uint32_t ep = 0; ep < w->episodes && !w->failed; ep++) {
        for (int j = 0; j < N_KINDS && !w->failed; j++) {
            int kind = (int)((ep + (uint32_t)j + (uint32_t)w->id) % N_KINDS);
            uint32_t c = (uint32_t)(th_mix(((uint64_t)w->id << 40) ^
                                           ((uint64_t)ep << 8) ^ (uint64_t)kind) %
                                    N_CONFIGS);
            if (th_rng_below(&r, 3) == 0)
                cancel_someone(w, &r);
            int late = th_rng_below(&r, 8) == 0;
            outcome o = one_run(&w->kit, kind, c, &w->busy, 0, late);
            const outcome *want = &w->s->ref[kind][c];
            w->runs[kind]++;
            if (o.bad) {
                worker_fail(w, kind, c, "a getter misbehaved", &o, want);
            } else if (o.rc == AC_E_CANCELLED) {
                w->cancelled[kind]++;
                w->mid_run[kind] += o.work > 0;
            } else if (o.rc != want->rc) {
                worker_fail(w, kind, c, "another status than alone", &o, want);
            } else if (o.rc != AC_OK) {
                w->failed_as_alone[kind]++;
            } else if (kind == K_LOC && o.scan_stopped == AC_E_CANCELLED) {
                /* a success by contract, whose result depends on where the
                 * scan stopped: the main thread makes that run later */
                w->ok[kind]++;
                w->late_cancels += (uint64_t)late;
                w->stops[w->n_stops].config = c;
                w->stops[w->n_stops].rounds = o.work;
                w->stops[w->n_stops].digest = o.digest;
                w->n_stops++;
            } else if (o.digest != want->digest) {
                worker_fail(w, kind, c,
                            "the result differs from the same run alone", &o,
                            want);
            } else {
                w->ok[kind]++;
                w->late_cancels += (uint64_t)late;
            }
        }
    }
    return NULL;
}

static uint32_t storm_runs(void)
{
    const char *s = getenv("AC_STORM_RUNS");
    if (s == NULL || *s == '\0')
        return STORM_DEFAULT_RUNS;
    char *end = NULL;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    ck_assert_msg(errno == 0 && end && *end == '\0' && v >= 1 && v <= 100000000ul,
                  "AC_STORM_RUNS=%s: want a number of runs in 1 .. 10^8", s);
    return (uint32_t)v;
}

static double seconds_since(const struct timespec *t0)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (double)(t1.tv_sec - t0->tv_sec) +
           1e-9 * (double)(t1.tv_nsec - t0->tv_nsec);
}

START_TEST(storm_of_cancels)
{
    storm *s = calloc(1, sizeof *s);
    ck_assert_ptr_nonnull(s);
    uint32_t runs = storm_runs();
    uint32_t per = STORM_THREADS * N_KINDS;
    uint32_t episodes = (runs + per - 1) / per;

    /* The references, alone in this thread, before any other thread. */
    kit *alone = calloc(1, sizeof *alone);
    ck_assert_ptr_nonnull(alone);
    ck_assert_int_eq(kit_make(alone), AC_OK);
    uint32_t ref_ok = 0;
    for (int kind = 0; kind < N_KINDS; kind++)
        for (uint32_t c = 0; c < N_CONFIGS; c++) {
            outcome *o = &s->ref[kind][c];
            *o = one_run(alone, kind, c, NULL, 0, 0);
            ck_assert_msg(!o->bad, "%s config %u alone: %s", kind_name[kind],
                          c, o->why);
            ck_assert_msg(o->rc == AC_OK || o->rc == AC_E_ORACLE ||
                              o->rc == AC_E_BUDGET || o->rc == AC_E_INFEASIBLE,
                          "%s config %u alone: %d %s", kind_name[kind], c,
                          o->rc, ac_status_name(o->rc));
            ref_ok += o->rc == AC_OK;
        }
    /* the configs are mostly successes: a storm of failures compares
     * nothing */
    ck_assert_uint_ge(ref_ok, N_KINDS * N_CONFIGS * 3 / 4);

    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    pthread_t tid[STORM_THREADS];
    for (int t = 0; t < STORM_THREADS; t++) {
        worker *w = &s->w[t];
        w->s = s;
        w->id = t;
        w->episodes = episodes;
        atomic_init(&w->busy, 0);
        w->stops = calloc(episodes + 1u, sizeof *w->stops);
        ck_assert_ptr_nonnull(w->stops);
        ck_assert_int_eq(kit_make(&w->kit), AC_OK);
    }
    for (int t = 0; t < STORM_THREADS; t++)
        ck_assert_int_eq(pthread_create(&tid[t], NULL, worker_main, &s->w[t]), 0);
    for (int t = 0; t < STORM_THREADS; t++)
        ck_assert_int_eq(pthread_join(tid[t], NULL), 0);
    double secs = seconds_since(&t0);

    uint64_t total = 0, ok = 0, cancelled = 0, mid = 0, same_error = 0;
    uint64_t sent = 0, late = 0, stops = 0;
    uint64_t k_ok[N_KINDS] = {0}, k_cancelled[N_KINDS] = {0};
    for (int t = 0; t < STORM_THREADS; t++) {
        worker *w = &s->w[t];
        ck_assert_msg(!w->failed, "%s", w->why);
        for (int kind = 0; kind < N_KINDS; kind++) {
            total += w->runs[kind];
            ok += w->ok[kind];
            cancelled += w->cancelled[kind];
            mid += w->mid_run[kind];
            same_error += w->failed_as_alone[kind];
            k_ok[kind] += w->ok[kind];
            k_cancelled[kind] += w->cancelled[kind];
        }
        sent += w->cancels_sent;
        late += w->late_cancels;
        /* a scan stopped by a cancel: the same stop, alone */
        for (size_t i = 0; i < w->n_stops; i++) {
            const stop *st = &w->stops[i];
            ck_assert_int_ge(st->rounds, 1);
            outcome o = one_run(alone, K_LOC, st->config, NULL,
                                (uint64_t)st->rounds, 0);
            ck_assert_msg(o.rc == AC_OK && !o.bad &&
                              o.scan_stopped == AC_E_CANCELLED,
                          "localizer config %u stopped at round %lld alone: "
                          "%d, scan stopped %lld %s",
                          st->config, (long long)st->rounds, o.rc,
                          (long long)o.scan_stopped, o.why);
            ck_assert_msg(o.digest == st->digest,
                          "localizer config %u: a scan stopped by a cancel at "
                          "round %lld differs from the same stop alone",
                          st->config, (long long)st->rounds);
            stops++;
        }
    }
    fprintf(stderr,
            "# storm: %d threads, %llu runs in %.2f s: %llu ok (%llu kept "
            "through a late cancel, %llu localizer scans stopped), %llu "
            "cancelled (%llu mid-run), %llu failed as alone; %llu cancels "
            "sent\n",
            STORM_THREADS, (unsigned long long)total, secs,
            (unsigned long long)ok, (unsigned long long)late,
            (unsigned long long)stops, (unsigned long long)cancelled,
            (unsigned long long)mid, (unsigned long long)same_error,
            (unsigned long long)sent);
    for (int kind = 0; kind < N_KINDS; kind++)
        fprintf(stderr, "#   %-9s %llu ok, %llu cancelled\n", kind_name[kind],
                (unsigned long long)k_ok[kind],
                (unsigned long long)k_cancelled[kind]);
    ck_assert_uint_eq(total, (uint64_t)episodes * per);
    ck_assert_uint_eq(ok + cancelled + same_error, total);
    /* the storm compared results and cancelled runs (a cancel that reaches
     * an idle handle cancels its next run: with hundreds sent, some do) */
    ck_assert_uint_gt(ok, 0);
    ck_assert(runs < 300 || cancelled > 0);

    for (int t = 0; t < STORM_THREADS; t++) {
        kit_free(&s->w[t].kit);
        free(s->w[t].stops);
    }
    kit_free(alone);
    free(alone);
    free(s);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("storm");
    TCase *tc = th_tcase(s, "storm");
    tcase_add_test(tc, storm_of_cancels);
    return th_run_suite(s);
}
