/* SPDX-License-Identifier: MIT
 *
 * The ask/tell state machine of all three objects, against the protocol
 * the header's prologue states. The first bytes choose an object and a
 * small configuration; the rest is a sequence of operations: ask (a size),
 * tell (a subset of the outstanding tickets in some order, with values and
 * statuses, and now and then a forged, stale, duplicate or already told
 * ticket, or an answer out of range), reset (any flags), cancel, a
 * parameter, an input, progress, the result, and a run with the callback.
 * A model of the protocol predicts what each call must do:
 *
 *  - a tell is checked whole: a bad ticket or an answer out of range is
 *    AC_E_INVALID_ARG and takes nothing (progress' outstanding unchanged);
 *    with no run waiting it is AC_E_STATE, after a failed run the run's
 *    error;
 *  - tickets are never reused, over every reset;
 *  - progress counts exactly the tickets handed out and not told; once the
 *    run has ended it says done with nothing outstanding, until a reset;
 *  - ask hands out at most what was asked, and count 0 means done or
 *    waiting for tells;
 *  - a run that cannot start leaves the handle idle; a failed run returns
 *    its error from every later ask, tell and run; a cancel makes the next
 *    ask end the run (or, in the localizer's corrective scan, the scan);
 *  - parameters and inputs change only while idle; reset flags are
 *    checked before anything is reset;
 *  - results are readable exactly when the run is done, and then meet the
 *    invariants of fuzz_common.h.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"

enum {
    MAX_ASK = 64,      /* tickets per ask */
    MAX_OPS = 400,     /* operations per input */
    KEEP = 128,        /* told and stale tickets remembered for forgeries */
    EVAL_CAP = 2048,   /* callback evaluations before the run is cancelled */
    EST_MAX_N = 8,
    REF_MAX_AGENTS = 4,
    REF_MAX_MESSAGES = 16,
    LOC_MAX_MESSAGES = 24,
};

/* ===================================================================== */
/* Every ticket ever handed out: a growing open-addressing set           */
/* ===================================================================== */

typedef struct ticket_set {
    uint64_t *slot; /* 0: empty (0 is never a ticket) */
    size_t cap, count;
} ticket_set;

static size_t slot_of(uint64_t t, size_t cap)
{
    return (size_t)((t * 0x9E3779B97F4A7C15ull) >> 20) & (cap - 1);
}

/* Adds t; 0 if it was there already. */
static int set_add(ticket_set *s, uint64_t t)
{
    if (2 * (s->count + 1) > s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 256;
        uint64_t *slot = calloc(cap, sizeof *slot);
        FZ_CHECK(slot != NULL, "memory");
        for (size_t i = 0; i < s->cap; i++)
            if (s->slot[i] != 0) {
                size_t j = slot_of(s->slot[i], cap);
                while (slot[j] != 0)
                    j = (j + 1) & (cap - 1);
                slot[j] = s->slot[i];
            }
        free(s->slot);
        s->slot = slot;
        s->cap = cap;
    }
    size_t j = slot_of(t, s->cap);
    while (s->slot[j] != 0) {
        if (s->slot[j] == t)
            return 0;
        j = (j + 1) & (s->cap - 1);
    }
    s->slot[j] = t;
    s->count++;
    return 1;
}

/* ===================================================================== */
/* The objects behind one adapter                                        */
/* ===================================================================== */

typedef struct world world;

typedef struct obj_ops {
    const char *name;
    const fz_param_api *params;
    void (*make)(world *w);
    void (*destroy)(world *w);
    int (*ask)(world *w, uint32_t max, uint64_t *tickets, uint64_t *items,
               uint32_t *count);
    int (*tell)(world *w, uint32_t count, const uint64_t *tickets,
                const double *values, const int32_t *status);
    int (*progress)(world *w, int32_t *done, uint64_t *outstanding);
    void (*cancel)(world *w);
    int (*reset)(world *w, uint32_t what);
    /* A valid input (1: the handle must take it while idle). */
    int (*set_input)(world *w, int *valid);
    void (*forget_inputs)(world *w); /* what AC_RESET_KNOWN forgets */
    int (*run)(world *w);            /* with the callback */
    void (*check_done)(world *w);
    void (*check_no_result)(world *w);
    int (*valid_item)(world *w, uint64_t item);
    /* The host's answer to a payload (finite, in range). */
    double (*answer)(world *w, uint64_t item);
    double out_of_range; /* NAN: every finite value is in range */
    const char *(*last_error)(world *w);
    /* Keeps what a run with the callback costs within a fuzzing budget
     * after a fuzzed parameter (while idle). */
    void (*cap)(world *w);
} obj_ops;

struct world {
    fz *f;
    const obj_ops *ops;
    void *h;
    uint64_t evals;
    /* estimator */
    uint32_t n, words;
    double game_all, game_empty;     /* the oracle's v(all), v(empty) */
    double known_all, known_empty;   /* NAN: not given */
    /* refiner */
    uint32_t n_agents, n_messages;
    uint32_t agent_of[REF_MAX_MESSAGES > LOC_MAX_MESSAGES ? REF_MAX_MESSAGES
                                                          : LOC_MAX_MESSAGES];
    double credit[REF_MAX_AGENTS];
    int have_authors, have_credits;
    /* localizer */
    uint32_t first_error;
    int loc_authors;
};

/* A failed answer about one time in eight: a status (the value then
 * garbage), NaN or an infinity. */
static void maybe_fail(fz *f, double *value, int32_t *status)
{
    uint8_t b = (uint8_t)~fz_u8(f); /* a 0 byte: not failed */
    if (b >= 32)
        return;
    switch (b % 4) {
    case 0: *status = (int32_t)fz_u8(f) + 1; *value = fz_f64(f); break;
    case 1: *value = NAN; break;
    case 2: *value = INFINITY; break;
    default: *value = -INFINITY; break;
    }
}

/* ---- estimator --------------------------------------------------------- */

static ac_estimator *E(world *w) { return w->h; }

static void est_make(world *w)
{
    fz *f = w->f;
    w->n = 1 + fz_below(f, EST_MAX_N);
    w->words = ac_coalition_words(w->n);
    ac_estimator *e = NULL;
    FZ_CHECK(ac_estimator_create(&e, w->n, NULL) == AC_OK, "create");
    w->h = e;
    int64_t method = fz_below(f, 6);
    FZ_CHECK(ac_estimator_set_int(e, AC_ESTIMATOR_PARAM_METHOD, method) ==
             AC_OK, "method");
    FZ_CHECK(ac_estimator_set_int(e, AC_ESTIMATOR_PARAM_BUDGET,
                                  fz_rare(f, 32) ? fz_below(f, 8)
                                                   : 16 + fz_below(f, 600)) ==
             AC_OK, "budget");
    FZ_CHECK(ac_estimator_set_int(e, AC_ESTIMATOR_PARAM_MAX_RETRIES,
                                  fz_below(f, 4)) == AC_OK, "retries");
    if (fz_chance(f, 32))
        FZ_CHECK(ac_estimator_set_int(e, AC_ESTIMATOR_PARAM_REPEATS,
                                      1 + fz_below(f, 3)) == AC_OK,
                 "repeats");
    if (fz_chance(f, 32))
        FZ_CHECK(ac_estimator_set_int(e, AC_ESTIMATOR_PARAM_NOISY, 1) ==
                 AC_OK, "noisy");
    if (fz_chance(f, 32))
        FZ_CHECK(ac_estimator_set_f64(e, AC_ESTIMATOR_PARAM_TARGET_SE,
                                      (double)fz_u16(f) / 65535.0) == AC_OK,
                 "target");
    fz_cap_estimator(e, w->n);
    w->game_all = fz_in(f, -10.0, 10.0);
    w->game_empty = fz_chance(f, 128) ? 0.0 : fz_in(f, -10.0, 10.0);
    if (!isfinite(w->game_all))
        w->game_all = 1.0;
    if (!isfinite(w->game_empty))
        w->game_empty = 0.0;
    w->known_all = w->known_empty = NAN;
}

static void est_destroy(world *w) { ac_estimator_free(E(w)); }

static int est_ask(world *w, uint32_t max, uint64_t *t, uint64_t *items,
                   uint32_t *count)
{
    /* At most 8 players: one word a coalition. */
    return ac_estimator_ask(E(w), max, t, items, count);
}

static int est_tell(world *w, uint32_t count, const uint64_t *t,
                    const double *v, const int32_t *st)
{
    return ac_estimator_tell(E(w), count, t, v, st);
}

static int est_progress(world *w, int32_t *done, uint64_t *out)
{
    return ac_estimator_progress(E(w), done, out);
}

static void est_cancel(world *w) { ac_estimator_cancel(E(w)); }

static int est_reset(world *w, uint32_t what)
{
    return ac_estimator_reset(E(w), what);
}

static uint64_t est_all(const world *w)
{
    return w->n == 64 ? UINT64_MAX : ((uint64_t)1 << w->n) - 1;
}

static int est_set_input(world *w, int *valid)
{
    fz *f = w->f;
    uint64_t c = fz_u8(f) & est_all(w);
    uint8_t which = fz_u8(f);
    if (which < 96)
        c = est_all(w);
    else if (which < 160)
        c = 0;
    double v = fz_in(w->f, -10.0, 10.0);
    *valid = isfinite(v);
    int rc = ac_estimator_set_value(E(w), &c, 1, v);
    if (rc == AC_OK && c == 0)
        w->known_empty = v;
    else if (rc == AC_OK && c == est_all(w))
        w->known_all = v;
    return rc;
}

static void est_forget(world *w) { w->known_all = w->known_empty = NAN; }

static double est_answer(world *w, uint64_t s)
{
    if (s == 0)
        return w->game_empty;
    if (s == est_all(w))
        return w->game_all;
    double v = fz_in(w->f, -10.0, 10.0);
    return isfinite(v) ? v : 0.5;
}

static int est_oracle(void *user, const uint64_t *c, uint32_t words,
                      uint32_t count, double *values, int32_t *status)
{
    world *w = user;
    FZ_CHECK(words == 1, "words %u", words);
    for (uint32_t k = 0; k < count; k++) {
        FZ_CHECK(w->ops->valid_item(w, c[k]), "coalition 0x%llx",
                 (unsigned long long)c[k]);
        values[k] = est_answer(w, c[k]);
        maybe_fail(w->f, &values[k], &status[k]);
    }
    if ((w->evals += count) > EVAL_CAP)
        ac_estimator_cancel(E(w));
    return fz_rare(w->f, 2);
}

static int est_run(world *w)
{
    int rc = ac_estimator_set_oracle(E(w), est_oracle, w);
    return rc != AC_OK ? rc : ac_estimator_run(E(w));
}

static void est_check_done(world *w)
{
    double all = isnan(w->known_all) ? w->game_all : w->known_all;
    double empty = isnan(w->known_empty) ? w->game_empty : w->known_empty;
    fz_check_estimator_done(E(w), w->n, all, empty);
}

static void est_check_no_result(world *w)
{
    fz_check_estimator_no_result(E(w), w->n);
}

static int est_valid_item(world *w, uint64_t s)
{
    return (s & ~est_all(w)) == 0;
}

static const char *est_last_error(world *w)
{
    return ac_estimator_last_error(E(w));
}

/* ---- refiner ------------------------------------------------------------ */

static ac_refiner *R(world *w) { return w->h; }

/* The model keeps what the handle took, so a refused input changes
 * neither. */
static int ref_set_authors(world *w)
{
    uint32_t agent_of[REF_MAX_MESSAGES];
    for (uint32_t t = 0; t < w->n_messages; t++)
        agent_of[t] = fz_below(w->f, w->n_agents);
    int rc = ac_refiner_set_authors(R(w), agent_of, w->n_messages);
    if (rc == AC_OK) {
        memcpy(w->agent_of, agent_of, w->n_messages * sizeof *agent_of);
        w->have_authors = 1;
    }
    return rc;
}

static int ref_set_credits(world *w)
{
    double c[REF_MAX_AGENTS];
    for (uint32_t a = 0; a < w->n_agents; a++) {
        c[a] = fz_in(w->f, -3.0, 3.0);
        if (!isfinite(c[a]))
            c[a] = 0.25;
    }
    int rc = ac_refiner_set_credits(R(w), c, w->n_agents);
    if (rc == AC_OK) {
        memcpy(w->credit, c, sizeof c);
        w->have_credits = 1;
    }
    return rc;
}

static void ref_make(world *w)
{
    fz *f = w->f;
    w->n_agents = 1 + fz_below(f, REF_MAX_AGENTS);
    w->n_messages = 1 + fz_below(f, REF_MAX_MESSAGES);
    ac_refiner *r = NULL;
    FZ_CHECK(ac_refiner_create(&r, w->n_agents, w->n_messages, NULL) == AC_OK,
             "create");
    w->h = r;
    w->have_authors = w->have_credits = 0;
    FZ_CHECK(ref_set_authors(w) == AC_OK, "authors");
    FZ_CHECK(ref_set_credits(w) == AC_OK, "credits");
    FZ_CHECK(ac_refiner_set_int(r, AC_REFINER_PARAM_MAX_RETRIES,
                                fz_below(f, 4)) == AC_OK, "retries");
    if (fz_chance(f, 64))
        FZ_CHECK(ac_refiner_set_int(r, AC_REFINER_PARAM_RELAXATION,
                                    AC_RELAXATION_NEVER) == AC_OK,
                 "relaxation");
    if (fz_chance(f, 64)) {
        double b = fz_in(f, 0.01, 2.0);
        int ok = b > 0.0 && b <= 1e300;
        FZ_CHECK((ac_refiner_set_f64(r, AC_REFINER_PARAM_BOUND, b) ==
                  AC_OK) == ok, "bound %g", b);
    }
    /* Some labels known up front: they are never asked. */
    for (uint32_t k = fz_below(f, 3); k > 0; k--) {
        double l = fz_in(f, -1.0, 1.0);
        int ok = l >= -1.0 && l <= 1.0;
        FZ_CHECK((ac_refiner_fix_label(r, fz_below(f, w->n_messages), l) ==
                  AC_OK) == ok, "fix_label %g", l);
    }
}

static void ref_destroy(world *w) { ac_refiner_free(R(w)); }

static int ref_ask(world *w, uint32_t max, uint64_t *t, uint64_t *items,
                   uint32_t *count)
{
    uint32_t msg[MAX_ASK];
    int rc = ac_refiner_ask(R(w), max, t, msg, count);
    if (rc == AC_OK)
        for (uint32_t k = 0; k < *count && k < MAX_ASK; k++)
            items[k] = msg[k];
    return rc;
}

static int ref_tell(world *w, uint32_t count, const uint64_t *t,
                    const double *v, const int32_t *st)
{
    return ac_refiner_tell(R(w), count, t, v, st);
}

static int ref_progress(world *w, int32_t *done, uint64_t *out)
{
    return ac_refiner_progress(R(w), done, out);
}

static void ref_cancel(world *w) { ac_refiner_cancel(R(w)); }

static int ref_reset(world *w, uint32_t what)
{
    return ac_refiner_reset(R(w), what);
}

static int ref_set_input(world *w, int *valid)
{
    *valid = 1;
    if (!w->have_authors || fz_chance(w->f, 64))
        return ref_set_authors(w);
    return ref_set_credits(w);
}

static void ref_forget(world *w) { w->have_authors = w->have_credits = 0; }

static double ref_answer(world *w, uint64_t t)
{
    (void)t;
    double v = fz_in(w->f, -1.0, 1.0);
    return v >= -1.0 && v <= 1.0 ? v : 0.0;
}

static int ref_scorer(void *user, const uint32_t *messages, uint32_t count,
                      double *labels, int32_t *status)
{
    world *w = user;
    for (uint32_t k = 0; k < count; k++) {
        FZ_CHECK(messages[k] < w->n_messages, "message %u", messages[k]);
        labels[k] = ref_answer(w, messages[k]);
        maybe_fail(w->f, &labels[k], &status[k]);
    }
    if ((w->evals += count) > EVAL_CAP)
        ac_refiner_cancel(R(w));
    return fz_rare(w->f, 2);
}

static int ref_run(world *w)
{
    int rc = ac_refiner_set_scorer(R(w), ref_scorer, w);
    return rc != AC_OK ? rc : ac_refiner_run(R(w));
}

static void ref_check_done(world *w)
{
    FZ_CHECK(w->have_authors && w->have_credits,
             "a run finished without authors or credits");
    fz_check_refiner_done(R(w), w->n_agents, w->n_messages, w->agent_of,
                          w->credit);
}

static void ref_check_no_result(world *w)
{
    fz_check_refiner_no_result(R(w), w->n_agents, w->n_messages);
}

static int ref_valid_item(world *w, uint64_t t)
{
    return t < w->n_messages;
}

static const char *ref_last_error(world *w)
{
    return ac_refiner_last_error(R(w));
}

/* ---- localizer ---------------------------------------------------------- */

static ac_localizer *L(world *w) { return w->h; }

static int loc_set_authors(world *w)
{
    uint32_t agent_of[LOC_MAX_MESSAGES];
    for (uint32_t t = 0; t < w->n_messages; t++)
        agent_of[t] = fz_below(w->f, 3);
    int rc = ac_localizer_set_authors(L(w), agent_of, w->n_messages);
    if (rc == AC_OK) {
        memcpy(w->agent_of, agent_of, w->n_messages * sizeof *agent_of);
        w->loc_authors = 1;
    }
    return rc;
}

static void loc_make(world *w)
{
    fz *f = w->f;
    w->n_messages = 1 + fz_below(f, LOC_MAX_MESSAGES);
    w->first_error = fz_below(f, w->n_messages + 1);
    ac_localizer *l = NULL;
    FZ_CHECK(ac_localizer_create(&l, w->n_messages, NULL) == AC_OK, "create");
    w->h = l;
    w->loc_authors = 0;
    if (fz_chance(f, 160))
        FZ_CHECK(loc_set_authors(w) == AC_OK, "authors");
    static const int64_t strategies[] = {
        AC_STRATEGY_AUTO, AC_STRATEGY_LINEAR, AC_STRATEGY_BINARY,
        AC_STRATEGY_BISECTION};
    FZ_CHECK(ac_localizer_set_int(l, AC_LOCALIZER_PARAM_STRATEGY,
                                  strategies[fz_below(f, 4)]) == AC_OK,
             "strategy");
    FZ_CHECK(ac_localizer_set_int(l, AC_LOCALIZER_PARAM_NOISE,
                                  fz_below(f, 3)) == AC_OK, "noise");
    FZ_CHECK(ac_localizer_set_int(l, AC_LOCALIZER_PARAM_BATCH,
                                  1 + fz_below(f, 6)) == AC_OK, "batch");
    FZ_CHECK(ac_localizer_set_int(l, AC_LOCALIZER_PARAM_MAX_RETRIES,
                                  fz_below(f, 4)) == AC_OK, "retries");
    FZ_CHECK(ac_localizer_set_int(l, AC_LOCALIZER_PARAM_BUDGET,
                                  fz_rare(f, 32) ? fz_below(f, 4)
                                                   : 8 + fz_below(f, 200)) ==
             AC_OK, "budget");
    if (fz_chance(f, 64))
        FZ_CHECK(ac_localizer_set_int(l, AC_LOCALIZER_PARAM_MONOTONE, 0) ==
                 AC_OK, "monotone");
    if (fz_chance(f, 64))
        FZ_CHECK(ac_localizer_set_int(l, AC_LOCALIZER_PARAM_SCAN_AFTER, 0) ==
                 AC_OK, "scan");
}

static void loc_destroy(world *w) { ac_localizer_free(L(w)); }

static int loc_ask(world *w, uint32_t max, uint64_t *t, uint64_t *items,
                   uint32_t *count)
{
    uint32_t prefix[MAX_ASK];
    int rc = ac_localizer_ask(L(w), max, t, prefix, count);
    if (rc == AC_OK)
        for (uint32_t k = 0; k < *count && k < MAX_ASK; k++)
            items[k] = prefix[k];
    return rc;
}

static int loc_tell(world *w, uint32_t count, const uint64_t *t,
                    const double *v, const int32_t *st)
{
    return ac_localizer_tell(L(w), count, t, v, st);
}

static int loc_progress(world *w, int32_t *done, uint64_t *out)
{
    return ac_localizer_progress(L(w), done, out);
}

static void loc_cancel(world *w) { ac_localizer_cancel(L(w)); }

static int loc_reset(world *w, uint32_t what)
{
    return ac_localizer_reset(L(w), what);
}

static int loc_set_input(world *w, int *valid)
{
    *valid = 1;
    if (fz_chance(w->f, 128))
        return loc_set_authors(w);
    double prior[LOC_MAX_MESSAGES + 1];
    for (uint32_t t = 0; t <= w->n_messages; t++)
        prior[t] = (double)(1 + fz_below(w->f, 8));
    return ac_localizer_set_prior(L(w), prior, w->n_messages + 1);
}

static void loc_forget(world *w) { w->loc_authors = 0; }

static double loc_answer(world *w, uint64_t prefix)
{
    double v = prefix < w->first_error ? 1.0 : 0.0;
    if (fz_chance(w->f, 24))
        v = fz_chance(w->f, 128) ? 1.0 - v : (double)fz_u8(w->f) / 255.0;
    return v;
}

static int loc_verifier(void *user, const uint32_t *prefixes, uint32_t count,
                        double *p, int32_t *status)
{
    world *w = user;
    for (uint32_t k = 0; k < count; k++) {
        FZ_CHECK(prefixes[k] < w->n_messages, "prefix %u", prefixes[k]);
        p[k] = loc_answer(w, prefixes[k]);
        maybe_fail(w->f, &p[k], &status[k]);
    }
    if ((w->evals += count) > EVAL_CAP)
        ac_localizer_cancel(L(w));
    return fz_rare(w->f, 2);
}

static int loc_run(world *w)
{
    int rc = ac_localizer_set_verifier(L(w), loc_verifier, w);
    return rc != AC_OK ? rc : ac_localizer_run(L(w));
}

static void loc_check_done(world *w)
{
    fz_check_localizer_done(L(w), w->n_messages,
                            w->loc_authors ? w->agent_of : NULL);
}

static void loc_check_no_result(world *w)
{
    fz_check_localizer_no_result(L(w), w->n_messages);
}

static int loc_valid_item(world *w, uint64_t t)
{
    return t < w->n_messages;
}

static const char *loc_last_error(world *w)
{
    return ac_localizer_last_error(L(w));
}

static void est_cap(world *w)
{
    fz_cap_estimator(E(w), w->n);
}

static void ref_cap(world *w)
{
    fz_cap_int(&fz_refiner_params, w->h, AC_REFINER_PARAM_BATCH, 256);
}

static void loc_cap(world *w)
{
    fz_cap_int(&fz_localizer_params, w->h, AC_LOCALIZER_PARAM_BATCH, 64);
}

static const obj_ops objects[] = {
    {"estimator", &fz_estimator_params, est_make, est_destroy, est_ask,
     est_tell, est_progress, est_cancel, est_reset, est_set_input, est_forget,
     est_run, est_check_done, est_check_no_result, est_valid_item,
     est_answer, NAN, est_last_error, est_cap},
    {"refiner", &fz_refiner_params, ref_make, ref_destroy, ref_ask, ref_tell,
     ref_progress, ref_cancel, ref_reset, ref_set_input, ref_forget, ref_run,
     ref_check_done, ref_check_no_result, ref_valid_item, ref_answer, 1.5,
     ref_last_error, ref_cap},
    {"localizer", &fz_localizer_params, loc_make, loc_destroy, loc_ask,
     loc_tell, loc_progress, loc_cancel, loc_reset, loc_set_input, loc_forget,
     loc_run, loc_check_done, loc_check_no_result, loc_valid_item, loc_answer,
     -0.25, loc_last_error, loc_cap},
};

/* ===================================================================== */
/* The model                                                             */
/* ===================================================================== */

typedef enum phase { IDLE, RUNNING, DONE, FAILED } phase;

typedef struct outstanding {
    uint64_t ticket, item;
} outstanding;

typedef struct model {
    phase ph;
    int fail_rc;         /* FAILED: the error every later call returns */
    int cancel_pending;  /* a cancel the run has not acted on yet */
    outstanding *out;    /* handed out, not told, this run */
    size_t n_out, cap_out;
    uint64_t told[KEEP], stale[KEEP];
    size_t n_told, n_stale;
    uint64_t max_ticket;
    ticket_set seen;
} model;

static void remember(uint64_t *ring, size_t *n, uint64_t t)
{
    ring[*n % KEEP] = t;
    (*n)++;
}

static uint64_t recall(fz *f, const uint64_t *ring, size_t n)
{
    return ring[fz_below(f, (uint32_t)(n < KEEP ? n : KEEP))];
}

/* The run has ended: its tickets can no longer be told. */
static void end_run(model *m, phase ph, int rc)
{
    for (size_t k = 0; k < m->n_out; k++)
        remember(m->stale, &m->n_stale, m->out[k].ticket);
    m->n_out = 0;
    m->ph = ph;
    m->fail_rc = rc;
    m->cancel_pending = 0;
}

static void progress_now(world *w, int32_t *done, uint64_t *out)
{
    *done = -1;
    *out = UINT64_MAX;
    FZ_CHECK(w->ops->progress(w, done, out) == AC_OK, "progress");
    FZ_CHECK(*done == 0 || *done == 1, "progress done %d", *done);
}

/* What progress must say in each phase of the model. */
static void check_progress(world *w, const model *m)
{
    int32_t done;
    uint64_t out;
    progress_now(w, &done, &out);
    int ended = m->ph == DONE || m->ph == FAILED;
    FZ_CHECK(done == ended, "%s: progress says done %d in phase %d",
             w->ops->name, done, m->ph);
    FZ_CHECK(out == (ended ? 0 : m->n_out), "%s: progress says %llu "
             "outstanding, the model %zu (phase %d)", w->ops->name,
             (unsigned long long)out, ended ? (size_t)0 : m->n_out, m->ph);
}

static void check_result(world *w, const model *m)
{
    if (m->ph == DONE)
        w->ops->check_done(w);
    else
        w->ops->check_no_result(w);
}

/* After a call that may have ended the run: progress decides, and the
 * result must agree. */
static void observe_end(world *w, model *m, int rc)
{
    int32_t done;
    uint64_t out;
    progress_now(w, &done, &out);
    if (!done)
        return;
    FZ_CHECK(out == 0, "ended with %llu outstanding",
             (unsigned long long)out);
    end_run(m, rc == AC_OK ? DONE : FAILED, rc);
    check_result(w, m);
}

/* ---- operations --------------------------------------------------------- */

static void op_ask(world *w, model *m)
{
    fz *f = w->f;
    uint32_t size = fz_rare(f, 16) ? 0 : 1 + fz_below(f, MAX_ASK);
    uint64_t tickets[MAX_ASK], items[MAX_ASK];
    uint32_t count = UINT32_MAX;
    phase before = m->ph;
    int rc = w->ops->ask(w, size, tickets, items, &count);
    FZ_CHECK(fz_known_status(rc), "ask = %d", rc);
    if (before == FAILED) {
        FZ_CHECK(rc == m->fail_rc, "%s: ask after a failed run = %s, the "
                 "run's error %s", w->ops->name, ac_status_name(rc),
                 ac_status_name(m->fail_rc));
        check_progress(w, m);
        return;
    }
    if (before == DONE) {
        FZ_CHECK(rc == AC_OK && count == 0, "%s: ask on a done run = %s, "
                 "count %u", w->ops->name, ac_status_name(rc), count);
        check_progress(w, m);
        return;
    }
    int32_t done;
    uint64_t out;
    progress_now(w, &done, &out);
    if (rc != AC_OK) {
        FZ_CHECK(rc == AC_E_STATE || rc == AC_E_BUDGET ||
                 rc == AC_E_TOO_LARGE || rc == AC_E_INVALID_ARG ||
                 rc == AC_E_CANCELLED || rc == AC_E_INFEASIBLE ||
                 rc == AC_E_ORACLE || rc == AC_E_NO_MEMORY,
                 "%s: ask = %s", w->ops->name, ac_status_name(rc));
        FZ_CHECK(w->ops->last_error(w)[0] != '\0', "%s: ask = %s without "
                 "a message", w->ops->name, ac_status_name(rc));
        if (done) {
            FZ_CHECK(out == 0, "failed with %llu outstanding",
                     (unsigned long long)out);
            end_run(m, FAILED, rc);
            check_result(w, m);
            return;
        }
        /* Not ended: a start refused, which leaves the handle idle. */
        FZ_CHECK(before == IDLE, "%s: ask = %s mid-run and the run goes on",
                 w->ops->name, ac_status_name(rc));
        FZ_CHECK(!m->cancel_pending, "%s: ask = %s with a cancel pending "
                 "and the run not ended", w->ops->name, ac_status_name(rc));
        FZ_CHECK(out == 0, "refused start with %llu outstanding",
                 (unsigned long long)out);
        check_result(w, m);
        return;
    }
    FZ_CHECK(count <= size, "%s: ask(%u) handed out %u", w->ops->name, size,
             count);
    if (m->cancel_pending)
        FZ_CHECK(count == 0 && done, "%s: a cancelled run handed out %u "
                 "tickets (done %d)", w->ops->name, count, done);
    for (uint32_t k = 0; k < count; k++) {
        FZ_CHECK(tickets[k] != 0, "ticket 0");
        FZ_CHECK(set_add(&m->seen, tickets[k]), "%s: ticket %llu handed "
                 "out twice", w->ops->name, (unsigned long long)tickets[k]);
        FZ_CHECK(w->ops->valid_item(w, items[k]), "%s: payload %llu",
                 w->ops->name, (unsigned long long)items[k]);
        if (tickets[k] > m->max_ticket)
            m->max_ticket = tickets[k];
        if (m->n_out == m->cap_out) {
            m->cap_out = m->cap_out ? 2 * m->cap_out : 64;
            m->out = realloc(m->out, m->cap_out * sizeof *m->out);
            FZ_CHECK(m->out != NULL, "memory");
        }
        m->out[m->n_out++] = (outstanding){tickets[k], items[k]};
    }
    if (done) {
        FZ_CHECK(count == 0, "%s: done after handing out %u", w->ops->name,
                 count);
        FZ_CHECK(out == 0, "done with %llu outstanding",
                 (unsigned long long)out);
        end_run(m, DONE, AC_OK);
        check_result(w, m);
        return;
    }
    m->ph = RUNNING;
    FZ_CHECK(out == m->n_out, "%s: %llu outstanding after ask, the model "
             "%zu", w->ops->name, (unsigned long long)out, m->n_out);
    if (size > 0 && count == 0)
        FZ_CHECK(out > 0, "%s: ask(%u) gave nothing, the run is not done "
                 "and waits for nothing", w->ops->name, size);
}

static void drop_outstanding(model *m, uint64_t t)
{
    for (size_t k = 0; k < m->n_out; k++)
        if (m->out[k].ticket == t) {
            m->out[k] = m->out[--m->n_out];
            remember(m->told, &m->n_told, t);
            return;
        }
}

static void op_tell(world *w, model *m)
{
    fz *f = w->f;
    uint64_t t[MAX_ASK + 2];
    double v[MAX_ASK + 2];
    int32_t st[MAX_ASK + 2];
    uint32_t count = 0;
    /* A subset of the outstanding tickets, in an order of the input's. */
    uint32_t want = (uint32_t)(m->n_out < MAX_ASK ? m->n_out : MAX_ASK);
    want = fz_chance(f, 128) ? want : fz_below(f, want + 1);
    for (uint32_t k = 0; k < want && m->n_out > 0; k++) {
        size_t j = fz_below(f, (uint32_t)m->n_out);
        int dup = 0;
        for (uint32_t i = 0; i < count; i++)
            dup |= t[i] == m->out[j].ticket;
        if (dup)
            continue;
        t[count] = m->out[j].ticket;
        v[count] = w->ops->answer(w, m->out[j].item);
        st[count] = 0;
        maybe_fail(f, &v[count], &st[count]);
        count++;
    }
    /* Now and then one bad ticket. */
    int bad = 0;
    uint8_t b = (uint8_t)~fz_u8(f); /* a 0 byte: none */
    if (b < 40) {
        uint64_t forged;
        switch (b % 5) {
        case 0: /* never handed out */
            forged = fz_chance(f, 64) ? 0
                     : fz_chance(f, 64) ? UINT64_MAX
                                        : m->max_ticket + 1 + fz_u8(f);
            break;
        case 1: /* from before a reset, or from a run that ended */
            forged = m->n_stale ? recall(f, m->stale, m->n_stale) : 0;
            break;
        case 2: /* told already */
            forged = m->n_told ? recall(f, m->told, m->n_told) : 0;
            break;
        default: /* twice in the call */
            forged = count ? t[fz_below(f, count)] : m->max_ticket + 7;
            break;
        }
        uint32_t at = fz_below(f, count + 1);
        memmove(t + at + 1, t + at, (count - at) * sizeof *t);
        memmove(v + at + 1, v + at, (count - at) * sizeof *v);
        memmove(st + at + 1, st + at, (count - at) * sizeof *st);
        t[at] = forged;
        v[at] = 0.5;
        st[at] = 0;
        count++;
        bad = 1;
    }
    /* Now and then an answer out of range (finite, not failed). */
    int out_of_range = 0;
    if (!isnan(w->ops->out_of_range) && count > 0 && fz_rare(f, 16)) {
        uint32_t at = fz_below(f, count);
        v[at] = fz_chance(f, 128) ? w->ops->out_of_range : 1e308;
        st[at] = 0;
        out_of_range = 1;
    }
    int with_status = fz_chance(f, 192);
    if (!with_status)
        for (uint32_t k = 0; k < count; k++)
            if (st[k] != 0)
                v[k] = NAN; /* a failure without a status array */

    int32_t done0;
    uint64_t out0;
    progress_now(w, &done0, &out0);
    int rc = w->ops->tell(w, count, t, v, with_status ? st : NULL);
    FZ_CHECK(fz_known_status(rc), "tell = %d", rc);
    if (m->ph == FAILED) {
        FZ_CHECK(rc == m->fail_rc, "%s: tell after a failed run = %s, the "
                 "run's error %s", w->ops->name, ac_status_name(rc),
                 ac_status_name(m->fail_rc));
        check_progress(w, m);
        return;
    }
    if (m->ph != RUNNING) {
        FZ_CHECK(rc == AC_E_STATE, "%s: tell with no run waiting (phase %d) "
                 "= %s", w->ops->name, m->ph, ac_status_name(rc));
        check_progress(w, m);
        return;
    }
    if (bad || out_of_range) {
        FZ_CHECK(rc == AC_E_INVALID_ARG, "%s: a tell with a %s = %s",
                 w->ops->name, bad ? "bad ticket" : "value out of range",
                 ac_status_name(rc));
        FZ_CHECK(w->ops->last_error(w)[0] != '\0', "no message");
        check_progress(w, m); /* nothing taken */
        return;
    }
    FZ_CHECK(rc == AC_OK || rc == AC_E_ORACLE || rc == AC_E_BUDGET ||
             rc == AC_E_NO_MEMORY || rc == AC_E_TOO_LARGE, "%s: tell = %s",
             w->ops->name, ac_status_name(rc));
    for (uint32_t k = 0; k < count; k++)
        drop_outstanding(m, t[k]);
    int32_t done;
    uint64_t out;
    progress_now(w, &done, &out);
    if (done) {
        observe_end(w, m, rc);
        return;
    }
    FZ_CHECK(rc == AC_OK, "%s: tell = %s and the run goes on",
             w->ops->name, ac_status_name(rc));
    FZ_CHECK(out == m->n_out, "%s: %llu outstanding after telling %u of "
             "%llu, the model %zu", w->ops->name, (unsigned long long)out,
             count, (unsigned long long)out0, m->n_out);
}

static void op_reset(world *w, model *m)
{
    fz *f = w->f;
    uint8_t b = fz_u8(f);
    uint32_t what = b < 128 ? AC_RESET_SESSION
                    : b < 240 ? (uint32_t)(b & 7)
                              : (uint32_t)(8u << (b % 24)) | (b & 7);
    int rc = w->ops->reset(w, what);
    int unknown = (what & ~(uint32_t)AC_RESET_ALL) != 0;
    int needs_idle = (what & (AC_RESET_PARAMS | AC_RESET_KNOWN)) &&
                     !(what & AC_RESET_SESSION);
    int want = unknown ? AC_E_INVALID_ARG
               : needs_idle && m->ph != IDLE ? AC_E_STATE
                                             : AC_OK;
    FZ_CHECK(rc == want, "%s: reset(0x%x) in phase %d = %s, want %s",
             w->ops->name, what, m->ph, ac_status_name(rc),
             ac_status_name(want));
    if (rc != AC_OK) {
        check_progress(w, m); /* nothing reset */
        check_result(w, m);
        return;
    }
    if (what & AC_RESET_SESSION) {
        for (size_t k = 0; k < m->n_out; k++)
            remember(m->stale, &m->n_stale, m->out[k].ticket);
        for (size_t k = 0; k < m->n_told && k < KEEP; k++)
            remember(m->stale, &m->n_stale, m->told[k]);
        m->n_out = m->n_told = 0;
        m->ph = IDLE;
        m->cancel_pending = 0;
    }
    if (what & AC_RESET_KNOWN)
        w->ops->forget_inputs(w);
    check_progress(w, m);
    check_result(w, m);
}

static void op_cancel(world *w, model *m)
{
    w->ops->cancel(w);
    if (m->ph == IDLE || m->ph == RUNNING)
        m->cancel_pending = 1;
    check_progress(w, m); /* a cancel acts at the next ask */
    check_result(w, m);
}

static void op_param(world *w, model *m)
{
    fz_param(w->f, w->ops->params, w->h, m->ph == IDLE);
    if (m->ph == IDLE)
        w->ops->cap(w);
    check_progress(w, m);
}

static void op_input(world *w, model *m)
{
    int valid = 0;
    int rc = w->ops->set_input(w, &valid);
    if (m->ph != IDLE)
        FZ_CHECK(rc == AC_E_STATE || (!valid && rc == AC_E_INVALID_ARG),
                 "%s: an input in phase %d = %s", w->ops->name, m->ph,
                 ac_status_name(rc));
    else
        FZ_CHECK((rc == AC_OK) == valid, "%s: an input while idle = %s",
                 w->ops->name, ac_status_name(rc));
    check_progress(w, m);
}

static void op_run(world *w, model *m)
{
    phase before = m->ph;
    int rc = w->ops->run(w);
    FZ_CHECK(fz_known_status(rc), "run = %d", rc);
    if (before == FAILED) {
        FZ_CHECK(rc == m->fail_rc, "%s: run after a failed run = %s",
                 w->ops->name, ac_status_name(rc));
        check_progress(w, m);
        return;
    }
    if (before == DONE) {
        FZ_CHECK(rc == AC_OK, "%s: run on a done run = %s", w->ops->name,
                 ac_status_name(rc));
        check_progress(w, m);
        check_result(w, m);
        return;
    }
    int32_t done;
    uint64_t out;
    progress_now(w, &done, &out);
    if (done) {
        FZ_CHECK(out == 0, "ended with %llu outstanding",
                 (unsigned long long)out);
        end_run(m, rc == AC_OK ? DONE : FAILED, rc);
        check_result(w, m);
        return;
    }
    FZ_CHECK(rc != AC_OK, "%s: run = OK and the run is not done",
             w->ops->name);
    /* With a cancel pending, run() may still refuse a start it cannot make
     * (the refiner and the localizer check their inputs before the loop;
     * the estimator's loop meets the cancel first); the cancel then waits
     * for the next ask, as the model keeps it. Mid-run, a cancel always
     * ends the run. */
    FZ_CHECK(!m->cancel_pending || before == IDLE, "%s: run = %s with a "
             "cancel pending and the run not ended", w->ops->name,
             ac_status_name(rc));
    if (m->n_out > 0) {
        /* Tickets asked outside run: it does what it can without them,
         * then refuses to wait for them. */
        FZ_CHECK(rc == AC_E_STATE, "%s: run with %zu tickets outstanding = "
                 "%s", w->ops->name, m->n_out, ac_status_name(rc));
        FZ_CHECK(out == m->n_out, "%s: %llu outstanding after run, the "
                 "model %zu", w->ops->name, (unsigned long long)out,
                 m->n_out);
        m->ph = RUNNING;
        return;
    }
    /* Neither ended nor waiting: the run could not start. */
    FZ_CHECK(out == 0, "%s: run left %llu outstanding", w->ops->name,
             (unsigned long long)out);
    FZ_CHECK(before == IDLE, "%s: run = %s mid-run and not ended",
             w->ops->name, ac_status_name(rc));
    check_result(w, m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz f;
    fz_init(&f, data, size);
    world w;
    memset(&w, 0, sizeof w);
    w.f = &f;
    w.ops = &objects[fz_below(&f, 3)];
    w.ops->make(&w);
    model m;
    memset(&m, 0, sizeof m);
    check_progress(&w, &m);
    for (int op = 0; op < MAX_OPS && !fz_done(&f); op++) {
        uint8_t b = fz_u8(&f);
        if (b < 80)
            op_ask(&w, &m);
        else if (b < 170)
            op_tell(&w, &m);
        else if (b < 190)
            op_reset(&w, &m);
        else if (b < 200)
            op_cancel(&w, &m);
        else if (b < 212)
            op_param(&w, &m);
        else if (b < 224)
            op_input(&w, &m);
        else if (b < 236)
            check_progress(&w, &m);
        else if (b < 248)
            check_result(&w, &m);
        else
            op_run(&w, &m);
    }
    check_progress(&w, &m);
    check_result(&w, &m);
    w.ops->destroy(&w);
    free(m.out);
    free(m.seen.slot);
    return 0;
}
