/* SPDX-License-Identifier: MIT
 *
 * The pipeline's ask/tell loop (ac_pipeline_start, _ask, _tell,
 * _tell_repair, _progress) against the header's protocol. The first bytes
 * build a small episode (1..6 agents, non-players, 1..30 messages, a
 * success or a failure, an optional reference and baseline, known
 * coalition values, given labels, a first-error annotation) and the
 * pipeline's parameters, and choose the work the host serves; the rest is
 * a sequence of operations: asks (any size, a wider coalition stride, no
 * room, NULL buffers, several before any tell), tells (subsets in any
 * order; failed answers; an answer out of range; unknown, stale, told,
 * duplicate and REPAIR tickets), a repair's candidates (too many, to the
 * wrong ticket), cancels, restarts, setters and getters. The host answers
 * with a deterministic function of the work. A model predicts each call:
 *
 *  - every status is one the header documents for that call;
 *  - a refused tell takes nothing: progress counts exactly the tickets
 *    handed out and not told within the current stage (a new stage or a
 *    restart makes the older ones stale: refused);
 *  - work comes one kind at a time, each kind only when the host serves
 *    it, with its documented fields; tickets are never reused;
 *  - setters are AC_E_STATE while a run is under way, the getters
 *    AC_E_STATE until it is done; a failed run returns its error from
 *    every later ask and tell;
 *  - a run that is done meets fz_check_pipeline_done; and when the host
 *    answered everything of the last start by its function (no failed
 *    answer, no cancel), ac_pipeline_run on a second pipeline with the
 *    same parameters and callbacks answering by the same function ends
 *    the same way and writes the same signals, byte for byte.
 *
 * Once the bytes run out the host serves what is left plainly, so that
 * every input ends its run.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"

enum {
    MAX_AGENTS = 6,
    MAX_NON_PLAYERS = 3,
    MAX_MESSAGES = 31,  /* 30 and one more for a silent agent */
    MAX_ASK = 48,       /* pieces per ask */
    ROOM = 384,         /* pieces outstanding at most */
    MAX_WORDS = 3,      /* the widest coalition stride (1 word needed) */
    MAX_OPS = 300,      /* operations per input */
    KEEP = 64,          /* told and stale tickets kept for forgeries */
    MAX_CANDIDATES = 8, /* AC_LOCALIZER_PARAM_CANDIDATES at most */
    FINISH_ROUNDS = 6000,
    MAX_PARAMS = 16,
};

/* ===================================================================== */
/* The host's answers: a deterministic function of the work              */
/* ===================================================================== */

typedef struct answers {
    uint32_t n;
    double weight[MAX_AGENTS];
    double synergy, empty;
    double on_track[MAX_MESSAGES];
    double score[MAX_MESSAGES];
    uint32_t proposals; /* candidates a repair proposes */
    uint64_t salt;
} answers;

static uint64_t mix(uint64_t x)
{
    x ^= x >> 31;
    x *= 0x7FB5D329728EA185ull;
    x ^= x >> 27;
    x *= 0x81DADEF4BC2DD44Dull;
    return x ^ (x >> 33);
}

static double value_of(const answers *a, const uint64_t *coalition)
{
    uint32_t size = 0;
    double v = 0.0;
    for (uint32_t i = 0; i < a->n; i++)
        if (coalition[0] >> i & 1u) {
            v += a->weight[i];
            size++;
        }
    return size == 0 ? a->empty : v + a->synergy * (size - 1);
}

static uint32_t propose(const answers *a, uint32_t message,
                        uint32_t max_count, uint64_t *ids)
{
    uint32_t count = a->proposals < max_count ? a->proposals : max_count;
    for (uint32_t k = 0; k < count; k++)
        ids[k] = mix(a->salt ^ ((uint64_t)message << 8) ^ k);
    return count;
}

static double check_of(const answers *a, uint32_t message, uint64_t id)
{
    return (double)(mix(id ^ a->salt ^ message) % 5) / 4.0;
}

static double answer_of(const answers *a, const ac_work *w,
                        const uint64_t *coalition)
{
    switch (w->kind) {
    case AC_WORK_KIND_VALUE: return value_of(a, coalition);
    case AC_WORK_KIND_PREFIX: return a->on_track[w->message];
    case AC_WORK_KIND_SCORE: return a->score[w->message];
    default: return check_of(a, w->message, w->candidate);
    }
}

/* The same function as ac_pipeline_run's callbacks. */
static int oracle_cb(void *user, const uint64_t *coalitions, uint32_t words,
                     uint32_t count, double *values, int32_t *status)
{
    for (uint32_t k = 0; k < count; k++) {
        values[k] = value_of(user, coalitions + (size_t)k * words);
        status[k] = 0;
    }
    return 0;
}

/* The verifier's and the scorer's: user is the table by message
 * (on_track or score). */
static int table_cb(void *user, const uint32_t *messages, uint32_t count,
                    double *answers_out, int32_t *status)
{
    const double *table = user;
    for (uint32_t k = 0; k < count; k++) {
        answers_out[k] = table[messages[k]];
        status[k] = 0;
    }
    return 0;
}

static int repair_cb(void *user, uint32_t step, uint32_t max_count,
                     uint64_t *candidates, uint32_t *count)
{
    *count = propose(user, step, max_count, candidates);
    return 0;
}

static int check_cb(void *user, uint32_t step, const uint64_t *candidates,
                    uint32_t count, double *p_on_track, int32_t *status)
{
    for (uint32_t k = 0; k < count; k++) {
        p_on_track[k] = check_of(user, step, candidates[k]);
        status[k] = 0;
    }
    return 0;
}

/* ===================================================================== */
/* The world: the episode, the pipeline and the model of its run         */
/* ===================================================================== */

typedef struct piece {
    ac_work w;
    uint64_t coalition[MAX_WORDS];
} piece;

typedef struct setting {
    int32_t param;
    int is_f64;
    int64_t i;
    double f;
} setting;

enum { STAGE_CREDIT = 1, STAGE_LOCALIZE, STAGE_PAIR, STAGE_REWARDS };

typedef struct world {
    fz *f;
    /* the episode */
    ac_episode *ep;
    uint32_t n, T;
    uint32_t author[MAX_MESSAGES]; /* agent index; UINT32_MAX: non-player */
    int given[MAX_MESSAGES];       /* a label given */
    int runnable, failure;         /* every agent speaks; R < threshold */
    int64_t verifier_source;
    uint32_t candidates;           /* AC_LOCALIZER_PARAM_CANDIDATES */
    setting params[MAX_PARAMS];
    uint32_t n_params;
    answers ans;
    /* the pipeline and the model */
    ac_pipeline *p;
    uint32_t serves;
    int started, active, cancel_pending, clean, stage;
    int error; /* the failed run's status; AC_OK otherwise */
    piece out[ROOM];
    uint32_t n_out;
    uint64_t old[KEEP]; /* told and stale tickets, a ring */
    uint32_t n_old;
    uint64_t proposed[MAX_CANDIDATES]; /* the last repair's candidates */
    uint32_t n_proposed;
    uint64_t *issued; /* every ticket handed out */
    size_t n_issued, cap_issued;
} world;

static void remember_old(world *w, uint64_t t)
{
    w->old[w->n_old++ % KEEP] = t;
}

static void note_issued(world *w, uint64_t t)
{
    if (w->n_issued == w->cap_issued) {
        w->cap_issued = w->cap_issued ? 2 * w->cap_issued : 1024;
        w->issued = realloc(w->issued, w->cap_issued * sizeof *w->issued);
        FZ_CHECK(w->issued != NULL, "memory");
    }
    w->issued[w->n_issued++] = t;
}

static int by_value(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

static void check_tickets_unique(world *w)
{
    if (w->n_issued > 1)
        qsort(w->issued, w->n_issued, sizeof *w->issued, by_value);
    for (size_t k = 1; k < w->n_issued; k++)
        FZ_CHECK(w->issued[k] != w->issued[k - 1], "ticket %llu handed out "
                 "twice", (unsigned long long)w->issued[k]);
}

/* Every outstanding piece becomes stale (a new stage, a new start, the
 * end of the run). */
static void drop_outstanding(world *w)
{
    for (uint32_t k = 0; k < w->n_out; k++)
        remember_old(w, w->out[k].w.ticket);
    w->n_out = 0;
}

static void end_failed(world *w, int rc)
{
    drop_outstanding(w);
    w->active = 0;
    w->error = rc;
}

static void check_progress(world *w)
{
    int32_t done = -1;
    uint64_t outstanding = UINT64_MAX;
    FZ_CHECK(ac_pipeline_progress(w->p, &done, &outstanding) == AC_OK,
             "progress");
    FZ_CHECK(done == !w->active, "progress says done %d, the model %s", done,
             w->active ? "under way" : "ended");
    FZ_CHECK(outstanding == (w->active ? w->n_out : 0),
             "progress says %llu outstanding, the model %u (stage %d)",
             (unsigned long long)outstanding, w->active ? w->n_out : 0,
             w->stage);
}

/* ===================================================================== */
/* Building the episode and the parameters                               */
/* ===================================================================== */

static const char *const TEXTS[] = {"ok", "let me check", "done",
                                    "ok", "", "retry"};

static void add_participants(world *w, uint32_t *parts, uint32_t *agent_of)
{
    fz *f = w->f;
    w->n = 1 + fz_below(f, MAX_AGENTS);
    uint32_t non = fz_below(f, MAX_NON_PLAYERS + 1);
    /* agents and non-players interleaved as the bytes say */
    uint32_t a = 0, o = 0;
    while (a < w->n || o < non) {
        int agent = o == non || (a < w->n && fz_chance(f, 170));
        char name[16];
        snprintf(name, sizeof name, "%s%u", agent ? "agent" : "other",
                 agent ? a : o);
        int32_t kind = agent ? AC_PARTICIPANT_KIND_AGENT
                             : (int32_t)(1 + fz_below(f, 4));
        FZ_CHECK(ac_episode_add_participant(w->ep, name, kind, NULL) ==
                 AC_OK, "participant");
        agent_of[*parts] = agent ? a++ : UINT32_MAX;
        (*parts)++;
        o += !agent;
    }
}

/* Each agent speaks unless the bytes rarely say otherwise (then the start
 * must refuse the episode): a silent agent takes a message whose author
 * has another, or one more message. */
static void give_every_agent_a_message(world *w, uint32_t *who,
                                       const uint32_t *agent_of,
                                       uint32_t parts)
{
    uint32_t spoke[MAX_AGENTS + MAX_NON_PLAYERS] = {0};
    for (uint32_t t = 0; t < w->T; t++)
        spoke[who[t]]++;
    for (uint32_t q = 0; q < parts; q++) {
        if (agent_of[q] == UINT32_MAX || spoke[q] > 0)
            continue;
        uint32_t t = 0;
        while (t < w->T && agent_of[who[t]] != UINT32_MAX &&
               spoke[who[t]] < 2)
            t++;
        if (t == w->T)
            t = w->T++;
        else
            spoke[who[t]]--;
        who[t] = q;
        spoke[q]++;
    }
}

static void add_messages(world *w, const uint32_t *agent_of, uint32_t parts)
{
    fz *f = w->f;
    uint32_t who[MAX_MESSAGES];
    w->T = 1 + fz_below(f, MAX_MESSAGES - 1);
    for (uint32_t t = 0; t < w->T; t++)
        who[t] = fz_below(f, parts);
    w->runnable = 1;
    if (fz_rare(f, 8)) {
        for (uint32_t q = 0; q < parts; q++) {
            int spoke = 0;
            for (uint32_t t = 0; t < w->T; t++)
                spoke |= who[t] == q;
            w->runnable &= agent_of[q] == UINT32_MAX || spoke;
        }
    } else {
        give_every_agent_a_message(w, who, agent_of, parts);
    }
    for (uint32_t t = 0; t < w->T; t++) {
        uint8_t b = fz_u8(f);
        const char *text = b % 8 == 7 ? NULL : TEXTS[b % 6];
        const char *role = b & 8 ? "assistant" : NULL;
        FZ_CHECK(ac_episode_add_message(w->ep, who[t], role, text, NULL) ==
                 AC_OK, "message");
        w->author[t] = agent_of[who[t]];
    }
}

/* A value in [lo, hi] from one byte: the ends and steps between. */
static double fz_step(fz *f, double lo, double hi)
{
    return lo + (hi - lo) * (double)fz_below(f, 9) / 8.0;
}

static void set_outcome(world *w)
{
    fz *f = w->f;
    ac_episode *ep = w->ep;
    double threshold = 0.5;
    if (fz_rare(f, 24)) {
        threshold = fz_step(f, -1.0, 1.0);
        FZ_CHECK(ac_episode_set_threshold(ep, threshold) == AC_OK, "thr");
    }
    double R = fz_chance(f, 128) ? 0.0 : fz_step(f, -2.0, 2.0);
    FZ_CHECK(ac_episode_set_outcome(ep, R) == AC_OK, "outcome");
    w->failure = R < threshold;
    if (fz_chance(f, 100))
        FZ_CHECK(ac_episode_set_reference(ep, fz_step(f, -1.0, 1.0)) ==
                 AC_OK, "reference");
    if (fz_rare(f, 80))
        FZ_CHECK(ac_episode_set_baseline(ep, fz_step(f, -1.0, 1.0)) ==
                 AC_OK, "baseline");
    uint32_t known = fz_rare(f, 90) ? 1 + fz_below(f, 4) : 0;
    for (uint32_t k = 0; k < known; k++) {
        uint64_t c = fz_u8(f) & ((1u << w->n) - 1u);
        FZ_CHECK(ac_episode_set_value(ep, &c, 1, fz_step(f, -2.0, 2.0)) ==
                 AC_OK, "known value");
    }
}

static void set_labels(world *w)
{
    fz *f = w->f;
    uint32_t given = fz_rare(f, 90) ? 1 + fz_below(f, w->T) : 0;
    for (uint32_t k = 0; k < given; k++) {
        uint32_t t = fz_below(f, w->T);
        int rc = ac_episode_set_label(w->ep, t, fz_step(f, -1.0, 1.0));
        FZ_CHECK(rc == (w->author[t] != UINT32_MAX ? AC_OK
                                                   : AC_E_INVALID_ARG),
                 "label of message %u: %s", t, ac_status_name(rc));
        w->given[t] |= rc == AC_OK;
    }
    if (fz_rare(f, 100)) {
        uint32_t t = fz_below(f, w->T);
        int rc = ac_episode_set_first_error_label(w->ep, t);
        FZ_CHECK(rc == (w->author[t] != UINT32_MAX ? AC_OK
                                                   : AC_E_INVALID_ARG),
                 "first-error label %u: %s", t, ac_status_name(rc));
    }
}

static void build_episode(world *w)
{
    uint32_t parts = 0, agent_of[MAX_AGENTS + MAX_NON_PLAYERS];
    FZ_CHECK(ac_episode_create(&w->ep, NULL) == AC_OK, "episode");
    add_participants(w, &parts, agent_of);
    add_messages(w, agent_of, parts);
    set_outcome(w);
    set_labels(w);
}

static void param_int(world *w, int32_t param, int64_t v)
{
    w->params[w->n_params++] = (setting){param, 0, v, 0.0};
}

static void param_f64(world *w, int32_t param, double v)
{
    w->params[w->n_params++] = (setting){param, 1, 0, v};
}

/* The parameters, each a valid value: fuzz_api checks the bounds. The
 * costs stay within a fuzzing budget: OddSHAP (asked for, or AUTO short
 * of the 2^n table) gets at most FZ_ODDSHAP_BUDGET evaluations. */
static void choose_params(world *w)
{
    fz *f = w->f;
    w->verifier_source = fz_rare(f, 80) ? fz_below(f, 3)
                                        : AC_VERIFIER_SOURCE_CALLBACK;
    param_int(w, AC_PIPELINE_PARAM_VERIFIER, w->verifier_source);
    param_int(w, AC_PIPELINE_PARAM_EPISODE_ID, fz_u8(f));
    int64_t method = fz_below(f, 7);
    int64_t budget = fz_rare(f, 40) ? fz_below(f, 8) : 16 + fz_below(f, 240);
    if (method == AC_METHOD_ODDSHAP || method == AC_METHOD_SURROGATE ||
        (method == AC_METHOD_AUTO && budget < (1 << w->n)))
        budget = budget < FZ_ODDSHAP_BUDGET ? budget : FZ_ODDSHAP_BUDGET;
    param_int(w, AC_ESTIMATOR_PARAM_METHOD, method);
    param_int(w, AC_ESTIMATOR_PARAM_BUDGET, budget);
    int64_t batch = 1 + fz_below(f, 16);
    param_int(w, AC_ESTIMATOR_PARAM_BATCH, batch);
    param_int(w, AC_ESTIMATOR_PARAM_SEED, fz_u8(f));
    param_int(w, AC_ESTIMATOR_PARAM_MAX_RETRIES, fz_below(f, 3));
    param_int(w, AC_LOCALIZER_PARAM_MONOTONE, fz_chance(f, 160));
    param_int(w, AC_LOCALIZER_PARAM_BATCH, 1 + fz_below(f, 6));
    param_int(w, AC_LOCALIZER_PARAM_BUDGET,
              fz_rare(f, 64) ? fz_below(f, 12) : 1024);
    w->candidates = 1 + fz_below(f, MAX_CANDIDATES);
    param_int(w, AC_LOCALIZER_PARAM_CANDIDATES, w->candidates);
    param_int(w, AC_LOCALIZER_PARAM_MAX_RETRIES, fz_below(f, 3));
    param_int(w, AC_LOCALIZER_PARAM_SCAN_AFTER, fz_chance(f, 200));
    param_f64(w, AC_REFINER_PARAM_BOUND, fz_step(f, 0.125, 2.0));
    param_int(w, AC_REFINER_PARAM_BATCH, 1 + fz_below(f, 8));
    param_int(w, AC_REFINER_PARAM_MAX_RETRIES, fz_below(f, 3));
}

static void apply_params(const world *w, ac_pipeline *p)
{
    for (uint32_t k = 0; k < w->n_params; k++) {
        const setting *s = &w->params[k];
        int rc = s->is_f64 ? ac_pipeline_set_f64(p, s->param, s->f)
                           : ac_pipeline_set_int(p, s->param, s->i);
        FZ_CHECK(rc == AC_OK, "parameter %d: %s", s->param,
                 ac_status_name(rc));
    }
}

static void choose_answers(world *w)
{
    fz *f = w->f;
    answers *a = &w->ans;
    a->n = w->n;
    for (uint32_t i = 0; i < w->n; i++)
        a->weight[i] = fz_step(f, -1.0, 1.0);
    a->synergy = fz_step(f, -0.5, 0.5);
    a->empty = fz_chance(f, 128) ? 0.0 : fz_step(f, -1.0, 1.0);
    /* on track before a hidden first error, then off (a monotone
     * verifier), now and then any probability */
    uint32_t error = fz_below(f, w->T + 1);
    for (uint32_t t = 0; t < w->T; t++) {
        a->on_track[t] = t < error ? 1.0 : 0.0;
        if (fz_rare(f, 40))
            a->on_track[t] = fz_step(f, 0.0, 1.0);
        a->score[t] = fz_step(f, -1.0, 1.0);
    }
    a->proposals = fz_below(f, MAX_CANDIDATES + 1);
    a->salt = fz_u64(f);
}

/* ===================================================================== */
/* Start                                                                 */
/* ===================================================================== */

static void start(world *w)
{
    w->serves = fz_below(w->f, 8);
    int rc = ac_pipeline_start(w->p, w->ep, w->serves);
    drop_outstanding(w);
    w->started = 1;
    w->cancel_pending = 0;
    w->clean = 1;
    w->stage = STAGE_CREDIT;
    w->n_proposed = 0;
    if (w->runnable) {
        FZ_CHECK(rc == AC_OK, "start: %s (%s)", ac_status_name(rc),
                 ac_pipeline_last_error(w->p));
        w->active = 1;
        w->error = AC_OK;
    } else {
        FZ_CHECK(rc == AC_E_STATE, "start with a silent agent: %s",
                 ac_status_name(rc));
        end_failed(w, rc);
    }
}

/* ===================================================================== */
/* Ask                                                                   */
/* ===================================================================== */

static int stage_of(int32_t kind)
{
    switch (kind) {
    case AC_WORK_KIND_VALUE: return STAGE_CREDIT;
    case AC_WORK_KIND_PREFIX: return STAGE_LOCALIZE;
    case AC_WORK_KIND_SCORE: return STAGE_REWARDS;
    default: return STAGE_PAIR;
    }
}

static int is_prefix_end(const world *w, uint32_t t)
{
    return t + 1 == w->T || (t + 1 < w->T && w->author[t + 1] != UINT32_MAX);
}

static int was_proposed(const world *w, uint64_t id)
{
    for (uint32_t k = 0; k < w->n_proposed; k++)
        if (w->proposed[k] == id)
            return 1;
    return 0;
}

/* One piece of work against what its kind must be. */
static void check_piece(const world *w, const piece *pc, uint32_t words)
{
    const ac_work *x = &pc->w;
    int32_t kind = x->kind;
    FZ_CHECK(x->reserved == 0 && x->ticket != 0, "work: reserved %u, "
             "ticket %llu", x->reserved, (unsigned long long)x->ticket);
    FZ_CHECK(x->max_count == (kind == AC_WORK_KIND_REPAIR ? w->candidates
                                                          : 0u),
             "kind %d: max_count %u", kind, x->max_count);
    FZ_CHECK(kind == AC_WORK_KIND_CHECK || x->candidate == 0,
             "kind %d: candidate %llu", kind,
             (unsigned long long)x->candidate);
    switch (kind) {
    case AC_WORK_KIND_VALUE:
        FZ_CHECK(x->message == 0, "VALUE: message %u", x->message);
        FZ_CHECK((pc->coalition[0] >> w->n) == 0, "a coalition 0x%llx of %u "
                 "agents", (unsigned long long)pc->coalition[0], w->n);
        for (uint32_t k = 1; k < words; k++)
            FZ_CHECK(pc->coalition[k] == 0, "coalition word %u is 0x%llx",
                     k, (unsigned long long)pc->coalition[k]);
        break;
    case AC_WORK_KIND_PREFIX:
        FZ_CHECK((w->serves & AC_SERVES_VERIFIER) && w->failure &&
                     w->verifier_source == AC_VERIFIER_SOURCE_CALLBACK,
                 "PREFIX work: serves 0x%x, failure %d, verifier %lld",
                 w->serves, w->failure, (long long)w->verifier_source);
        FZ_CHECK(x->message < w->T && is_prefix_end(w, x->message),
                 "a prefix ending at message %u of %u", x->message, w->T);
        break;
    case AC_WORK_KIND_SCORE:
        FZ_CHECK(w->serves & AC_SERVES_SCORER, "SCORE work, serves 0x%x",
                 w->serves);
        FZ_CHECK(x->message < w->T && w->author[x->message] != UINT32_MAX &&
                     !w->given[x->message],
                 "a score of message %u (given %d)", x->message,
                 x->message < w->T ? w->given[x->message] : -1);
        break;
    case AC_WORK_KIND_REPAIR:
    case AC_WORK_KIND_CHECK:
        FZ_CHECK((w->serves & AC_SERVES_REPAIR) && w->failure,
                 "kind %d, serves 0x%x, failure %d", kind, w->serves,
                 w->failure);
        FZ_CHECK(x->message < w->T && w->author[x->message] != UINT32_MAX,
                 "a repair of message %u", x->message);
        FZ_CHECK(kind == AC_WORK_KIND_REPAIR || was_proposed(w, x->candidate),
                 "a check of candidate %llu, never proposed",
                 (unsigned long long)x->candidate);
        break;
    default:
        FZ_CHECK(0, "work of kind %d", kind);
    }
}

/* The pieces an ask handed out, into the model. */
static void take_work(world *w, const ac_work *work, const uint64_t *coal,
                      uint32_t words, uint32_t count)
{
    int stage = stage_of(work[0].kind);
    FZ_CHECK(stage >= w->stage, "work of stage %d after stage %d", stage,
             w->stage);
    if (stage != w->stage)
        drop_outstanding(w);
    w->stage = stage;
    for (uint32_t k = 0; k < count; k++) {
        FZ_CHECK(work[k].kind == work[0].kind, "kinds %d and %d in one ask",
                 work[0].kind, work[k].kind);
        piece *pc = &w->out[w->n_out++];
        pc->w = work[k];
        memset(pc->coalition, 0, sizeof pc->coalition);
        if (work[k].kind == AC_WORK_KIND_VALUE)
            memcpy(pc->coalition, coal + (size_t)k * words,
                   words * sizeof *coal);
        check_piece(w, pc, words);
        note_issued(w, work[k].ticket);
    }
}

/* A run error of ask (the header's list for ac_pipeline_run). */
static int ask_run_error(int rc)
{
    return rc == AC_E_BUDGET || rc == AC_E_ORACLE || rc == AC_E_INFEASIBLE ||
           rc == AC_E_TOO_LARGE || rc == AC_E_NO_MEMORY;
}

/* What ask must return with good buffers while the run is under way:
 * work, nothing (done or waiting for tells) or the run's error. */
static void asked(world *w, int rc, const ac_work *work,
                  const uint64_t *coal, uint32_t words, uint32_t count,
                  uint32_t max)
{
    if (rc != AC_OK) {
        FZ_CHECK(ask_run_error(rc), "ask = %s: %s", ac_status_name(rc),
                 ac_pipeline_last_error(w->p));
        FZ_CHECK(ac_pipeline_last_error(w->p)[0] != '\0', "no message");
        end_failed(w, rc);
        return;
    }
    FZ_CHECK(count <= max, "%u pieces for an ask of %u", count, max);
    if (count > 0) {
        take_work(w, work, coal, words, count);
        return;
    }
    int32_t done = 0;
    FZ_CHECK(ac_pipeline_progress(w->p, &done, NULL) == AC_OK, "progress");
    if (done) {
        drop_outstanding(w);
        w->active = 0;
        return;
    }
    FZ_CHECK(max == 0 || w->n_out > 0, "the run waits (stage %d), nothing "
             "outstanding", w->stage);
}

typedef enum room_kind {
    ROOM_GOOD, ROOM_NULL_COALITIONS, ROOM_NARROW, ROOM_NULL_WORK,
    ROOM_NULL_COUNT
} room_kind;

static room_kind choose_room(fz *f)
{
    uint8_t b = (uint8_t)~fz_u8(f); /* a 0 byte: good room */
    return b >= 20 ? ROOM_GOOD : (room_kind)(1 + b % 4);
}

static void ask(world *w, uint32_t max, room_kind room, uint32_t words)
{
    static ac_work work[MAX_ASK + 1];
    static uint64_t coal[(MAX_ASK + 1) * MAX_WORDS];
    const uint32_t SENTINEL = 0xC0FFEEu;
    uint32_t count = SENTINEL;
    uint64_t *c = room == ROOM_NULL_COALITIONS ? NULL : coal;
    uint32_t wd = room == ROOM_NARROW ? 0 : words;
    int rc = ac_pipeline_ask(w->p, max, room == ROOM_NULL_WORK ? NULL : work,
                             c, wd, room == ROOM_NULL_COUNT ? NULL : &count);
    if ((room == ROOM_NULL_WORK && max > 0) || room == ROOM_NULL_COUNT) {
        FZ_CHECK(rc == AC_E_INVALID_ARG, "ask with no work or count: %s",
                 ac_status_name(rc));
        return;
    }
    int expect = !w->started ? AC_E_STATE
                 : !w->active ? w->error
                 : w->cancel_pending ? AC_E_CANCELLED
                 : max > 0 && w->stage == STAGE_CREDIT &&
                         (room == ROOM_NULL_COALITIONS || room == ROOM_NARROW)
                     ? AC_E_INVALID_ARG
                     : 1; /* 1: any outcome of a run under way */
    if (expect != 1) {
        FZ_CHECK(rc == expect, "ask = %s, the model %s (stage %d)",
                 ac_status_name(rc), ac_status_name(expect), w->stage);
        FZ_CHECK(count == (rc == AC_OK ? 0u : SENTINEL), "ask = %s wrote "
                 "count %u", ac_status_name(rc), count);
        if (rc == AC_E_CANCELLED && w->active)
            end_failed(w, rc);
        return;
    }
    if (max == 0) {
        FZ_CHECK(rc == AC_OK && count == 0, "an ask of 0: %s, %u",
                 ac_status_name(rc), count);
        return;
    }
    asked(w, rc, work, coal, words, count, max);
}

static void fuzz_ask(world *w)
{
    fz *f = w->f;
    uint32_t room = ROOM - w->n_out;
    uint32_t max = fz_rare(f, 12) ? 0 : 1 + fz_below(f, MAX_ASK);
    if (max > room)
        max = room;
    room_kind kind = choose_room(f);
    ask(w, max, kind, 1 + (fz_rare(f, 64) ? fz_below(f, MAX_WORDS) : 0));
}

/* ===================================================================== */
/* Tell                                                                  */
/* ===================================================================== */

/* What a tell must return when no run waits for it. */
static int tell_state_expected(const world *w)
{
    return !w->started || !w->active
               ? (w->started && w->error != AC_OK ? w->error : AC_E_STATE)
               : AC_OK;
}

static int out_index(const world *w, uint64_t t)
{
    for (uint32_t k = 0; k < w->n_out; k++)
        if (w->out[k].w.ticket == t)
            return (int)k;
    return -1;
}

/* Removes told pieces (positions sorted in the call's order, any). */
static void forget_told(world *w, const uint64_t *tickets, uint32_t count)
{
    for (uint32_t k = 0; k < count; k++) {
        int at = out_index(w, tickets[k]);
        FZ_CHECK(at >= 0, "told a ticket the model lacks");
        w->out[at] = w->out[--w->n_out];
        remember_old(w, tickets[k]);
    }
}

/* A failed answer: a status, NaN or an infinity. */
static void fail_answer(fz *f, double *value, int32_t *status)
{
    switch (fz_below(f, 4)) {
    case 0: *status = 1 + (int32_t)fz_below(f, 100); break;
    case 1: *value = NAN; break;
    case 2: *value = INFINITY; break;
    default: *value = -INFINITY; break;
    }
}

/* An answer outside its kind's range (none for a value). */
static int out_of_range(fz *f, int32_t kind, double *value)
{
    static const double PROB[] = {-0.25, 1.0000001, 2.0, -1e308, 1e308};
    static const double LABEL[] = {-1.0000001, 1.5, -3.0, 1e308};
    if (kind == AC_WORK_KIND_PREFIX || kind == AC_WORK_KIND_CHECK)
        *value = PROB[fz_below(f, FZ_N_OF(PROB))];
    else if (kind == AC_WORK_KIND_SCORE)
        *value = LABEL[fz_below(f, FZ_N_OF(LABEL))];
    else
        return 0;
    return 1;
}

/* A ticket no tell may take: stale or told, never handed out, or 0. */
static uint64_t forged_ticket(world *w)
{
    fz *f = w->f;
    uint64_t t = 0;
    switch (fz_below(w->f, 3)) {
    case 0:
        if (w->n_old > 0) {
            uint32_t have = w->n_old < KEEP ? w->n_old : KEEP;
            t = w->old[fz_below(f, have)];
        }
        break;
    case 1: t = fz_u64(f); break;
    default: /* past the last ticket handed out */
        t = (w->n_issued ? w->issued[w->n_issued - 1] : 0) + 1u + fz_u8(f);
    }
    return out_index(w, t) >= 0 ? 0 : t;
}

typedef enum flaw {
    FLAW_NONE, FLAW_FAILED, FLAW_RANGE, FLAW_FORGED, FLAW_TWICE,
    FLAW_REPAIR
} flaw;

typedef struct tell_call {
    uint64_t tickets[ROOM + 1];
    double answers[ROOM + 1];
    int32_t status[ROOM + 1];
    uint32_t count;
    int refused; /* by the model: the tell must take nothing */
    int failed;  /* an answer failed (tell() works it out) */
} tell_call;

/* The answers of a subset of the outstanding pieces (no REPAIR), in the
 * order the bytes choose. */
static void fill_answers(world *w, tell_call *c, uint32_t want)
{
    uint32_t idx[ROOM], m = 0;
    for (uint32_t k = 0; k < w->n_out; k++)
        if (w->out[k].w.kind != AC_WORK_KIND_REPAIR)
            idx[m++] = k;
    c->count = 0;
    for (uint32_t k = 0; k < m && c->count < want; k++) {
        uint32_t j = k + fz_below(w->f, m - k);
        uint32_t tmp = idx[k];
        idx[k] = idx[j];
        idx[j] = tmp;
        const piece *pc = &w->out[idx[k]];
        c->tickets[c->count] = pc->w.ticket;
        c->answers[c->count] = answer_of(&w->ans, &pc->w, pc->coalition);
        c->status[c->count++] = 0;
    }
}

/* Spoils the call as the flaw says; refused: the tell must be refused. */
static void spoil(world *w, tell_call *c, flaw fl)
{
    fz *f = w->f;
    uint32_t at = c->count ? fz_below(f, c->count) : 0;
    switch (fl) {
    case FLAW_FAILED:
        if (c->count == 0)
            break;
        fail_answer(f, &c->answers[at], &c->status[at]);
        break;
    case FLAW_RANGE: {
        int found = 0;
        for (uint32_t k = 0; c->count && k < c->count && !found; k++) {
            uint32_t j = (at + k) % c->count;
            const piece *pc = &w->out[out_index(w, c->tickets[j])];
            found = out_of_range(f, pc->w.kind, &c->answers[j]);
        }
        c->refused = found;
        break;
    }
    case FLAW_FORGED: {
        uint64_t t = forged_ticket(w);
        if (c->count > 0) { /* anywhere in the call */
            c->tickets[c->count] = c->tickets[at];
            c->answers[c->count] = c->answers[at];
            c->status[c->count++] = c->status[at];
            c->tickets[at] = t;
            c->answers[at] = 0.5;
            c->status[at] = 0;
            c->refused = 1;
            break;
        }
        c->tickets[c->count] = t;
        c->answers[c->count] = 0.5;
        c->status[c->count++] = 0;
        c->refused = 1;
        break;
    }
    case FLAW_TWICE:
        if (c->count == 0)
            break;
        c->tickets[c->count] = c->tickets[at];
        c->answers[c->count] = c->answers[at];
        c->status[c->count++] = 0;
        c->refused = 1;
        break;
    case FLAW_REPAIR:
        for (uint32_t k = 0; k < w->n_out; k++)
            if (w->out[k].w.kind == AC_WORK_KIND_REPAIR) {
                c->tickets[c->count] = w->out[k].w.ticket;
                c->answers[c->count] = 0.5;
                c->status[c->count++] = 0;
                c->refused = 1;
                break;
            }
        break;
    default:
        break;
    }
}

/* The statuses a tell may return once it took answers that failed. */
static int tell_run_error(int rc)
{
    return rc == AC_E_ORACLE || rc == AC_E_BUDGET || rc == AC_E_NO_MEMORY;
}

static void tell(world *w, tell_call *c, int status_null)
{
    uint64_t before = 0;
    c->failed = 0; /* what the call says, with or without its statuses */
    for (uint32_t k = 0; k < c->count; k++)
        c->failed |= (!status_null && c->status[k] != 0) ||
                     !isfinite(c->answers[k]);
    int rc = ac_pipeline_tell(w->p, c->count, c->count ? c->tickets : NULL,
                              c->count ? c->answers : NULL,
                              status_null ? NULL : c->status);
    int expect = tell_state_expected(w);
    if (expect != AC_OK) {
        FZ_CHECK(rc == expect, "tell with no run waiting = %s, the model %s",
                 ac_status_name(rc), ac_status_name(expect));
        return;
    }
    if (c->refused) {
        FZ_CHECK(rc == AC_E_INVALID_ARG, "a tell the model refuses = %s",
                 ac_status_name(rc));
        FZ_CHECK(ac_pipeline_last_error(w->p)[0] != '\0', "no message");
        FZ_CHECK(ac_pipeline_progress(w->p, NULL, &before) == AC_OK &&
                     before == w->n_out,
                 "a refused tell took something: %llu outstanding, %u",
                 (unsigned long long)before, w->n_out);
        return;
    }
    w->clean &= !c->failed;
    if (c->failed && rc != AC_OK) {
        FZ_CHECK(tell_run_error(rc), "a tell of failed answers = %s: %s",
                 ac_status_name(rc), ac_pipeline_last_error(w->p));
        end_failed(w, rc);
        return;
    }
    FZ_CHECK(rc == AC_OK, "a good tell = %s: %s", ac_status_name(rc),
             ac_pipeline_last_error(w->p));
    forget_told(w, c->tickets, c->count);
}

static void fuzz_tell(world *w)
{
    fz *f = w->f;
    static tell_call c;
    c.refused = c.failed = 0;
    uint32_t want = fz_chance(f, 100) ? ROOM : fz_below(f, w->n_out + 1);
    fill_answers(w, &c, want);
    uint8_t b = (uint8_t)~fz_u8(f); /* a 0 byte: no flaw */
    flaw fl = b >= 96 ? FLAW_NONE : (flaw)(1 + b % 5);
    spoil(w, &c, fl);
    tell(w, &c, fz_chance(f, 128));
}

/* ===================================================================== */
/* A repair's candidates                                                 */
/* ===================================================================== */

static int find_kind(const world *w, int32_t kind, int want)
{
    for (uint32_t k = 0; k < w->n_out; k++)
        if ((w->out[k].w.kind == kind) == want)
            return (int)k;
    return -1;
}

static void tell_repair(world *w, uint64_t ticket, const uint64_t *ids,
                        uint32_t count, int ok)
{
    int rc = ac_pipeline_tell_repair(w->p, ticket, ids, count);
    if (ids == NULL && count > 0) {
        FZ_CHECK(rc == AC_E_INVALID_ARG, "tell_repair(NULL, %u) = %s", count,
                 ac_status_name(rc));
        return;
    }
    int expect = tell_state_expected(w);
    if (expect == AC_OK)
        expect = ok ? AC_OK : AC_E_INVALID_ARG;
    FZ_CHECK(rc == expect, "tell_repair = %s, the model %s: %s",
             ac_status_name(rc), ac_status_name(expect),
             ac_pipeline_last_error(w->p));
    if (rc == AC_OK) {
        memcpy(w->proposed, ids, count * sizeof *ids);
        w->n_proposed = count;
        forget_told(w, &ticket, 1);
    }
}

/* A repair's candidates as the function proposes them, or a wrong call. */
static void fuzz_tell_repair(world *w)
{
    fz *f = w->f;
    uint64_t ids[MAX_CANDIDATES + 8];
    int r = find_kind(w, AC_WORK_KIND_REPAIR, 1);
    switch (fz_below(f, 5)) {
    case 0: /* the right answer */
        if (r >= 0) {
            const ac_work *x = &w->out[r].w;
            tell_repair(w, x->ticket, ids,
                        propose(&w->ans, x->message, x->max_count, ids), 1);
        }
        break;
    case 1: /* too many */
        if (r >= 0) {
            const ac_work *x = &w->out[r].w;
            uint32_t n = x->max_count + 1 + fz_below(f, 7);
            for (uint32_t k = 0; k < n; k++)
                ids[k] = k;
            tell_repair(w, x->ticket, ids, n, 0);
        }
        break;
    case 2: { /* to work that is not a repair */
        int k = find_kind(w, AC_WORK_KIND_REPAIR, 0);
        if (k >= 0)
            tell_repair(w, w->out[k].w.ticket, ids, 0, 0);
        break;
    }
    case 3: { /* a forged ticket */
        uint64_t t = forged_ticket(w);
        if (t != 0)
            tell_repair(w, t, ids, 0, 0);
        break;
    }
    default: /* no candidates array */
        tell_repair(w, r >= 0 ? w->out[r].w.ticket : 1, NULL,
                    1 + fz_below(f, 3), 0);
        break;
    }
}

/* ===================================================================== */
/* Setters, getters, cancel                                              */
/* ===================================================================== */

/* A setter: AC_E_STATE while a run is under way, else it takes the value
 * the parameter has (nothing changes). */
static void fuzz_setter(world *w)
{
    fz *f = w->f;
    int expect = w->active ? AC_E_STATE : AC_OK;
    int rc;
    uint32_t which = fz_below(f, 6);
    if (which < 2 && w->n_params > 0) {
        const setting *s = &w->params[fz_below(f, w->n_params)];
        int64_t i = 0;
        double d = 0.0;
        if (s->is_f64) {
            FZ_CHECK(ac_pipeline_get_f64(w->p, s->param, &d) == AC_OK &&
                         d == s->f, "get %d", s->param);
            rc = ac_pipeline_set_f64(w->p, s->param, d);
        } else {
            FZ_CHECK(ac_pipeline_get_int(w->p, s->param, &i) == AC_OK &&
                         i == s->i, "get %d", s->param);
            rc = ac_pipeline_set_int(w->p, s->param, i);
        }
    } else if (which == 2) {
        rc = ac_pipeline_set_oracle(w->p, NULL, NULL);
    } else if (which == 3) {
        rc = ac_pipeline_set_verifier(w->p, NULL, NULL);
    } else if (which == 4) {
        rc = ac_pipeline_set_scorer(w->p, NULL, NULL);
    } else {
        rc = ac_pipeline_set_repair(w->p, NULL, NULL, NULL);
    }
    FZ_CHECK(rc == expect, "setter %u = %s, the model %s", which,
             ac_status_name(rc), ac_status_name(expect));
}

static void fuzz_cancel(world *w)
{
    ac_pipeline_cancel(w->p);
    if (w->active) {
        w->cancel_pending = 1;
        w->clean = 0;
    }
}

/* ===================================================================== */
/* The end                                                               */
/* ===================================================================== */

/* Serves what is left plainly: asks, tells everything by the function. */
static void finish(world *w)
{
    static tell_call c;
    uint32_t rounds = 0;
    while (w->active) {
        FZ_CHECK(++rounds <= FINISH_ROUNDS, "no end after %u rounds (stage "
                 "%d)", rounds, w->stage);
        if (w->n_out < ROOM)
            ask(w, ROOM - w->n_out < MAX_ASK ? ROOM - w->n_out : MAX_ASK,
                ROOM_GOOD, 1);
        check_progress(w);
        int r = find_kind(w, AC_WORK_KIND_REPAIR, 1);
        if (r >= 0) {
            uint64_t ids[MAX_CANDIDATES];
            const ac_work *x = &w->out[r].w;
            tell_repair(w, x->ticket, ids,
                        propose(&w->ans, x->message, x->max_count, ids), 1);
        }
        c.refused = c.failed = 0;
        fill_answers(w, &c, ROOM);
        if (c.count > 0 || !w->active)
            tell(w, &c, 0);
        check_progress(w);
    }
}

/* ac_pipeline_run on a second pipeline: same parameters, callbacks that
 * answer by the same function for the work the host served. */
static void compare_with_run(world *w, const char *signals)
{
    ac_pipeline *q = NULL;
    FZ_CHECK(ac_pipeline_create(&q, NULL) == AC_OK, "create");
    apply_params(w, q);
    void *a = &w->ans;
    FZ_CHECK(ac_pipeline_set_oracle(q, oracle_cb, a) == AC_OK, "oracle");
    if (w->serves & AC_SERVES_VERIFIER)
        FZ_CHECK(ac_pipeline_set_verifier(q, table_cb, w->ans.on_track) ==
                 AC_OK, "verifier");
    if (w->serves & AC_SERVES_SCORER)
        FZ_CHECK(ac_pipeline_set_scorer(q, table_cb, w->ans.score) == AC_OK,
                 "scorer");
    if (w->serves & AC_SERVES_REPAIR)
        FZ_CHECK(ac_pipeline_set_repair(q, repair_cb, check_cb, a) == AC_OK,
                 "repair");
    int rc = ac_pipeline_run(q, w->ep);
    FZ_CHECK(rc == w->error, "ac_pipeline_run = %s (%s), ask/tell %s",
             ac_status_name(rc), ac_pipeline_last_error(q),
             ac_status_name(w->error));
    if (rc == AC_OK) {
        char *want = fz_check_pipeline_done(q, w->ep);
        FZ_CHECK(strcmp(signals, want) == 0, "ask/tell and "
                 "ac_pipeline_run differ (serves 0x%x):\n%s\n%s", w->serves,
                 signals, want);
        free(want);
    }
    ac_pipeline_free(q);
}

/* A failed run: no result, and its error from every ask and tell. */
static void check_failed(world *w)
{
    fz_check_pipeline_no_result(w->p, w->ep);
    ask(w, 4, ROOM_GOOD, 1);
    static tell_call c;
    c.count = 0;
    c.refused = c.failed = 0;
    tell(w, &c, 1);
    uint64_t ids[1] = {0};
    tell_repair(w, 1, ids, 0, 0);
}

static void trace(const world *w)
{
    if (getenv("FZ_TRACE") == NULL)
        return;
    fprintf(stderr, "n %u T %u runnable %d failure %d verifier %lld serves "
            "0x%x: %s, stage %d, clean %d, %zu tickets\n", w->n, w->T,
            w->runnable, w->failure, (long long)w->verifier_source,
            w->serves, ac_status_name(w->error), w->stage, w->clean,
            w->n_issued);
}

static void check_end(world *w)
{
    trace(w);
    check_progress(w);
    check_tickets_unique(w);
    if (w->error != AC_OK) {
        check_failed(w);
        if (w->clean)
            compare_with_run(w, NULL);
        return;
    }
    char *signals = fz_check_pipeline_done(w->p, w->ep);
    if (w->clean)
        compare_with_run(w, signals);
    free(signals);
}

/* ===================================================================== */
/* The operations                                                        */
/* ===================================================================== */

static void operate(world *w)
{
    fz *f = w->f;
    uint8_t op = fz_u8(f);
    switch (op % 16) {
    case 0: case 1: case 2: case 3: case 4:
        fuzz_ask(w);
        break;
    case 5: case 6: case 7: case 8: case 9:
        fuzz_tell(w);
        break;
    case 10: case 11:
        fuzz_tell_repair(w);
        break;
    case 12:
        fuzz_setter(w);
        break;
    case 13:
        if (w->active || w->error != AC_OK)
            fz_check_pipeline_no_result(w->p, w->ep);
        else
            free(fz_check_pipeline_done(w->p, w->ep));
        break;
    case 14:
        if (fz_rare(f, 24))
            fuzz_cancel(w);
        break;
    default:
        if (fz_rare(f, 64))
            start(w);
        break;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz f;
    fz_init(&f, data, size);
    static world w;
    memset(&w, 0, sizeof w);
    w.f = &f;
    build_episode(&w);
    choose_params(&w);
    choose_answers(&w);
    FZ_CHECK(ac_pipeline_create(&w.p, NULL) == AC_OK, "create");
    apply_params(&w, w.p);
    if (fz_rare(&f, 16)) { /* before any start */
        fz_check_pipeline_no_result(w.p, w.ep);
        ask(&w, 1, ROOM_GOOD, 1);
    }
    start(&w);
    for (uint32_t op = 0; op < MAX_OPS && !fz_done(&f); op++) {
        operate(&w);
        check_progress(&w);
    }
    finish(&w);
    check_end(&w);
    ac_pipeline_free(w.p);
    ac_episode_free(w.ep);
    free(w.issued);
    return 0;
}
