/* The pipeline: one episode in, every signal out. It drives the three
 * objects through their public API exactly as a host would by hand (the
 * test suite checks the two agree bit for bit): the estimator for the
 * agents' credit, the localizer on a failure, the refiner for the rewards.
 * What it adds is the wiring: non-player messages kept out of the game and
 * the rewards, the credits moved to add up to R - reference, the labels
 * chosen, the indices translated. */
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "common/coalition.h"
#include "credit/conserve.h"
#include "episodes/episode_internal.h"

/* A parameter of one of the three objects, kept until each run. */
typedef struct passed_param {
    int32_t param;
    int is_f64;
    int64_t i;
    double f;
} passed_param;

#define MAX_PASSED 64 /* more than the three objects have together */

typedef struct callbacks {
    ac_oracle_fn oracle;
    void *oracle_user;
    ac_verifier_fn verifier;
    void *verifier_user;
    ac_scorer_fn scorer;
    void *scorer_user;
    ac_repair_fn repair;
    ac_candidate_fn check;
    void *repair_user;
} callbacks;

/* The last run's signals. */
typedef struct result {
    uint32_t n_agents, n_msg;
    double *phi, *se, *reward, *label;
    uint32_t *msg_flags, *step_flags, *agent_flags;
    double total, reference;
    int64_t step;
    uint32_t agent;
    double probability;
    ac_preference_pair pair;
    int64_t audit[AC_PIPELINE_AUDIT_RELAXED_AGENTS + 1];
} result;

struct ac_pipeline {
    ac__mem mem;
    ac_allocator alloc; /* given to the objects of each run */
    int has_alloc;
    char err[AC__ERRMSG_CAP];
    int64_t verifier_source, episode_id;
    passed_param passed[MAX_PASSED];
    uint32_t n_passed;
    callbacks cb;
    atomic_int cancelled;
    int running;        /* inside ac_pipeline_run: a callback's call   */
    int have_result;
    result res;
    /* During a run: the episode, and the map from the refiner's messages
     * (the agents') to transcript positions. */
    const ac_episode *ep;
    uint32_t *agent_msg;
    uint32_t n_agent_msg;
};

const ac__mem *ac__pipeline_mem(const ac_pipeline *p)
{
    return &p->mem;
}

static const ac_allocator *object_alloc(const ac_pipeline *p)
{
    return p->has_alloc ? &p->alloc : NULL;
}

int ac_pipeline_create(ac_pipeline **out, const ac_allocator *alloc)
{
    if (out == NULL)
        return AC_E_INVALID_ARG;
    ac__mem mem;
    int rc;
    ac_pipeline *p = ac__mem_new_handle(alloc, sizeof *p, &mem, &rc);
    if (p == NULL)
        return rc;
    p->mem = mem;
    if (alloc != NULL) {
        p->alloc = *alloc;
        p->has_alloc = 1;
    }
    p->verifier_source = AC_VERIFIER_SOURCE_CALLBACK;
    atomic_init(&p->cancelled, 0);
    *out = p;
    return AC_OK;
}

static void free_result(ac_pipeline *p)
{
    result *r = &p->res;
    const ac__mem *m = &p->mem;
    ac__mem_free(m, r->phi);
    ac__mem_free(m, r->se);
    ac__mem_free(m, r->reward);
    ac__mem_free(m, r->label);
    ac__mem_free(m, r->msg_flags);
    ac__mem_free(m, r->step_flags);
    ac__mem_free(m, r->agent_flags);
    memset(r, 0, sizeof *r);
    p->have_result = 0;
}

void ac_pipeline_free(ac_pipeline *p)
{
    if (p == NULL)
        return;
    free_result(p);
    ac__mem mem = p->mem;
    ac__mem_free(&mem, p);
}

const char *ac_pipeline_last_error(const ac_pipeline *p)
{
    return p == NULL ? "" : p->err;
}

/* From inside one of its callbacks the pipeline only answers questions:
 * what changes it is refused with AC_E_BUSY. */
static int busy(ac_pipeline *p, const char *what)
{
    return p->running ? ac__fail(p->err, AC_E_BUSY, "%s from inside a "
                                 "callback of this pipeline's run", what)
                      : AC_OK;
}

/* ------------------------------------------------------------------ */
/* Parameters                                                          */
/* ------------------------------------------------------------------ */

enum { OWNER_NONE, OWNER_ESTIMATOR, OWNER_REFINER, OWNER_LOCALIZER,
       OWNER_PIPELINE };

/* Whose parameter it is: the numbering gives each object its hundred. */
static int owner_of(int32_t param)
{
    switch (param / 100) {
    case 1: return OWNER_ESTIMATOR;
    case 2: return OWNER_REFINER;
    case 3: return OWNER_LOCALIZER;
    case 4: return OWNER_PIPELINE;
    default: return OWNER_NONE;
    }
}

static passed_param *find_passed(ac_pipeline *p, int32_t param)
{
    for (uint32_t k = 0; k < p->n_passed; k++)
        if (p->passed[k].param == param)
            return &p->passed[k];
    return NULL;
}

/* Sets (set 1) or reads (set 0) a parameter on a scratch object of its
 * owner: the same check, the same message and the same default as the
 * objects of the run will have. */
static int scratch_param(const ac_pipeline *p, char *err, int32_t param,
                         int is_f64, int set, int64_t *i, double *f)
{
    int rc = AC_E_PARAM_UNSUPPORTED;
    switch (owner_of(param)) {
    case OWNER_ESTIMATOR: {
        ac_estimator *e = NULL;
        if ((rc = ac_estimator_create(&e, 1, object_alloc(p))) != AC_OK)
            break;
        rc = set ? (is_f64 ? ac_estimator_set_f64(e, param, *f)
                           : ac_estimator_set_int(e, param, *i))
                 : (is_f64 ? ac_estimator_get_f64(e, param, f)
                           : ac_estimator_get_int(e, param, i));
        if (err != NULL && rc != AC_OK)
            ac__fail(err, rc, "%s", ac_estimator_last_error(e));
        ac_estimator_free(e);
        break;
    }
    case OWNER_REFINER: {
        ac_refiner *r = NULL;
        if ((rc = ac_refiner_create(&r, 1, 1, object_alloc(p))) != AC_OK)
            break;
        rc = set ? (is_f64 ? ac_refiner_set_f64(r, param, *f)
                           : ac_refiner_set_int(r, param, *i))
                 : (is_f64 ? ac_refiner_get_f64(r, param, f)
                           : ac_refiner_get_int(r, param, i));
        if (err != NULL && rc != AC_OK)
            ac__fail(err, rc, "%s", ac_refiner_last_error(r));
        ac_refiner_free(r);
        break;
    }
    case OWNER_LOCALIZER: {
        ac_localizer *l = NULL;
        if ((rc = ac_localizer_create(&l, 1, object_alloc(p))) != AC_OK)
            break;
        rc = set ? (is_f64 ? ac_localizer_set_f64(l, param, *f)
                           : ac_localizer_set_int(l, param, *i))
                 : (is_f64 ? ac_localizer_get_f64(l, param, f)
                           : ac_localizer_get_int(l, param, i));
        if (err != NULL && rc != AC_OK)
            ac__fail(err, rc, "%s", ac_localizer_last_error(l));
        ac_localizer_free(l);
        break;
    }
    default:
        if (err != NULL)
            ac__fail(err, rc, "no parameter %d", (int)param);
        break;
    }
    return rc;
}

static int pass_param(ac_pipeline *p, int32_t param, int is_f64, int64_t i,
                      double f)
{
    int rc = scratch_param(p, p->err, param, is_f64, 1, &i, &f);
    if (rc != AC_OK)
        return rc;
    passed_param *slot = find_passed(p, param);
    if (slot == NULL) {
        if (p->n_passed == MAX_PASSED)
            return ac__fail(p->err, AC_E_TOO_LARGE, "too many parameters");
        slot = &p->passed[p->n_passed++];
    }
    *slot = (passed_param){param, is_f64, i, f};
    return AC_OK;
}

int ac_pipeline_set_int(ac_pipeline *p, int32_t param, int64_t value)
{
    if (p == NULL)
        return AC_E_INVALID_ARG;
    if (p->running)
        return busy(p, "ac_pipeline_set_int");
    switch (param) {
    case AC_PIPELINE_PARAM_VERIFIER:
        if (value < AC_VERIFIER_SOURCE_CALLBACK ||
            value > AC_VERIFIER_SOURCE_NONE)
            return ac__fail(p->err, AC_E_PARAM_OUT_OF_BOUND,
                            "AC_PIPELINE_PARAM_VERIFIER: %lld is no "
                            "ac_verifier_source", (long long)value);
        p->verifier_source = value;
        return AC_OK;
    case AC_PIPELINE_PARAM_EPISODE_ID:
        if (value < 0)
            return ac__fail(p->err, AC_E_PARAM_OUT_OF_BOUND,
                            "AC_PIPELINE_PARAM_EPISODE_ID: %lld is negative",
                            (long long)value);
        p->episode_id = value;
        return AC_OK;
    case AC_LOCALIZER_PARAM_STRATEGY:
        if (value == AC_STRATEGY_SCORES)
            return ac__fail(p->err, AC_E_PARAM_OUT_OF_BOUND,
                            "AC_LOCALIZER_PARAM_STRATEGY: the pipeline has "
                            "no per-message scores to give the localizer "
                            "(AC_STRATEGY_SCORES); use a verifier");
        return pass_param(p, param, 0, value, 0.0);
    default:
        return pass_param(p, param, 0, value, 0.0);
    }
}

int ac_pipeline_set_f64(ac_pipeline *p, int32_t param, double value)
{
    if (p == NULL)
        return AC_E_INVALID_ARG;
    if (p->running)
        return busy(p, "ac_pipeline_set_f64");
    if (owner_of(param) == OWNER_PIPELINE)
        return ac__fail(p->err, param == AC_PIPELINE_PARAM_VERIFIER ||
                                        param == AC_PIPELINE_PARAM_EPISODE_ID
                                    ? AC_E_INVALID_ARG
                                    : AC_E_PARAM_UNSUPPORTED,
                        "parameter %d is not a double", (int)param);
    return pass_param(p, param, 1, 0, value);
}

int ac_pipeline_get_int(const ac_pipeline *p, int32_t param, int64_t *value)
{
    if (p == NULL || value == NULL)
        return AC_E_INVALID_ARG;
    if (param == AC_PIPELINE_PARAM_VERIFIER) {
        *value = p->verifier_source;
        return AC_OK;
    }
    if (param == AC_PIPELINE_PARAM_EPISODE_ID) {
        *value = p->episode_id;
        return AC_OK;
    }
    for (uint32_t k = 0; k < p->n_passed; k++)
        if (p->passed[k].param == param && !p->passed[k].is_f64) {
            *value = p->passed[k].i;
            return AC_OK;
        }
    double unused = 0.0;
    return scratch_param(p, NULL, param, 0, 0, value, &unused);
}

int ac_pipeline_get_f64(const ac_pipeline *p, int32_t param, double *value)
{
    if (p == NULL || value == NULL)
        return AC_E_INVALID_ARG;
    for (uint32_t k = 0; k < p->n_passed; k++)
        if (p->passed[k].param == param && p->passed[k].is_f64) {
            *value = p->passed[k].f;
            return AC_OK;
        }
    int64_t unused = 0;
    return scratch_param(p, NULL, param, 1, 0, &unused, value);
}

/* Gives an object the parameters set for it. */
static int apply_params(const ac_pipeline *p, int owner, void *obj)
{
    int rc = AC_OK;
    for (uint32_t k = 0; rc == AC_OK && k < p->n_passed; k++) {
        const passed_param *q = &p->passed[k];
        if (owner_of(q->param) != owner)
            continue;
        switch (owner) {
        case OWNER_ESTIMATOR:
            rc = q->is_f64 ? ac_estimator_set_f64(obj, q->param, q->f)
                           : ac_estimator_set_int(obj, q->param, q->i);
            break;
        case OWNER_REFINER:
            rc = q->is_f64 ? ac_refiner_set_f64(obj, q->param, q->f)
                           : ac_refiner_set_int(obj, q->param, q->i);
            break;
        default:
            rc = q->is_f64 ? ac_localizer_set_f64(obj, q->param, q->f)
                           : ac_localizer_set_int(obj, q->param, q->i);
            break;
        }
    }
    return rc;
}

/* ------------------------------------------------------------------ */
/* Callbacks                                                           */
/* ------------------------------------------------------------------ */

int ac_pipeline_set_oracle(ac_pipeline *p, ac_oracle_fn fn, void *user)
{
    if (p == NULL)
        return AC_E_INVALID_ARG;
    if (p->running)
        return busy(p, "ac_pipeline_set_oracle");
    p->cb.oracle = fn;
    p->cb.oracle_user = user;
    return AC_OK;
}

int ac_pipeline_set_verifier(ac_pipeline *p, ac_verifier_fn fn, void *user)
{
    if (p == NULL)
        return AC_E_INVALID_ARG;
    if (p->running)
        return busy(p, "ac_pipeline_set_verifier");
    p->cb.verifier = fn;
    p->cb.verifier_user = user;
    return AC_OK;
}

int ac_pipeline_set_scorer(ac_pipeline *p, ac_scorer_fn fn, void *user)
{
    if (p == NULL)
        return AC_E_INVALID_ARG;
    if (p->running)
        return busy(p, "ac_pipeline_set_scorer");
    p->cb.scorer = fn;
    p->cb.scorer_user = user;
    return AC_OK;
}

int ac_pipeline_set_repair(ac_pipeline *p, ac_repair_fn repair,
                           ac_candidate_fn check, void *user)
{
    if (p == NULL)
        return AC_E_INVALID_ARG;
    if (p->running)
        return busy(p, "ac_pipeline_set_repair");
    if ((repair == NULL) != (check == NULL))
        return ac__fail(p->err, AC_E_INVALID_ARG,
                        "a repair callback needs its check, and the other "
                        "way round");
    p->cb.repair = repair;
    p->cb.check = check;
    p->cb.repair_user = user;
    return AC_OK;
}

void ac_pipeline_cancel(ac_pipeline *p)
{
    if (p != NULL)
        atomic_store(&p->cancelled, 1);
}

/* The wrappers look at the cancel flag before handing on: a cancel from
 * another thread reaches the running object through its own cancel, made
 * on the run's thread, so no other thread ever touches an object that the
 * run may be freeing. */
static int cancelled(ac_pipeline *p)
{
    return atomic_load_explicit(&p->cancelled, memory_order_relaxed) != 0;
}

typedef struct stage {
    ac_pipeline *p;
    void *obj; /* the running object: estimator, localizer or refiner */
} stage;

static int oracle_hop(void *user, const uint64_t *coalitions, uint32_t words,
                      uint32_t count, double *values, int32_t *status)
{
    stage *s = user;
    if (cancelled(s->p))
        ac_estimator_cancel(s->obj);
    return s->p->cb.oracle(s->p->cb.oracle_user, coalitions, words, count,
                           values, status);
}

/* The localizer and the refiner number the agents' messages only (a
 * non-player's message is never the first error, never rewarded): k is
 * the k-th agent message, at transcript position agent_msg[k]. The
 * localizer's prefix k ends where the next agent message begins: the
 * tools' outputs and the user's replies that follow an agent's message
 * belong to its prefix, the consequences of what it did. */
static uint32_t message_at(const ac_pipeline *p, uint32_t k)
{
    return p->agent_msg[k];
}

static uint32_t prefix_end(const ac_pipeline *p, uint32_t k)
{
    return k + 1 < p->n_agent_msg ? p->agent_msg[k + 1] - 1
                                  : p->res.n_msg - 1;
}

/* Calls `call` with the indices `in` (the objects' numbering) moved to the
 * transcript by `to`: on the stack for small batches. A batch that finds
 * no memory fails every answer (status set: asked again). */
typedef int (*hop_call)(const ac_pipeline *p, const uint32_t *where,
                        uint32_t count, double *answers, int32_t *status);

static int with_positions(ac_pipeline *p, const uint32_t *in, uint32_t count,
                          uint32_t (*to)(const ac_pipeline *, uint32_t),
                          hop_call call, double *answers, int32_t *status)
{
    uint32_t stack[256] = {0}, *pos = stack;
    if (count > 256 && (pos = ac__mem_alloc(&p->mem, count, sizeof *pos)) ==
                           NULL) {
        for (uint32_t k = 0; k < count; k++)
            status[k] = AC_E_NO_MEMORY;
        return 0;
    }
    for (uint32_t k = 0; k < count; k++)
        pos[k] = to(p, in[k]);
    int rc = call(p, pos, count, answers, status);
    if (pos != stack)
        ac__mem_free(&p->mem, pos);
    return rc;
}

static int call_verifier(const ac_pipeline *p, const uint32_t *ends,
                         uint32_t count, double *p_on_track, int32_t *status)
{
    return p->cb.verifier(p->cb.verifier_user, ends, count, p_on_track,
                          status);
}

static int call_scorer(const ac_pipeline *p, const uint32_t *messages,
                       uint32_t count, double *labels, int32_t *status)
{
    return p->cb.scorer(p->cb.scorer_user, messages, count, labels, status);
}

/* AC_VERIFIER_SOURCE_ANNOTATION: the prefix ending at `end` is on track
 * iff it ends before the labelled first error. */
static int call_annotation(const ac_pipeline *p, const uint32_t *ends,
                           uint32_t count, double *p_on_track,
                           int32_t *status)
{
    (void)status;
    for (uint32_t k = 0; k < count; k++)
        p_on_track[k] = ends[k] < p->ep->first_error ? 1.0 : 0.0;
    return 0;
}

static int verifier_hop(void *user, const uint32_t *prefixes, uint32_t count,
                        double *p_on_track, int32_t *status)
{
    stage *s = user;
    if (cancelled(s->p))
        ac_localizer_cancel(s->obj);
    return with_positions(s->p, prefixes, count, prefix_end, call_verifier,
                          p_on_track, status);
}

static int annotation_hop(void *user, const uint32_t *prefixes,
                          uint32_t count, double *p_on_track, int32_t *status)
{
    stage *s = user;
    if (cancelled(s->p))
        ac_localizer_cancel(s->obj);
    return with_positions(s->p, prefixes, count, prefix_end, call_annotation,
                          p_on_track, status);
}

static int scorer_hop(void *user, const uint32_t *messages, uint32_t count,
                      double *labels, int32_t *status)
{
    stage *s = user;
    if (cancelled(s->p))
        ac_refiner_cancel(s->obj);
    return with_positions(s->p, messages, count, message_at, call_scorer,
                          labels, status);
}

static int repair_hop(void *user, uint32_t step, uint32_t max_count,
                      uint64_t *candidates, uint32_t *count)
{
    stage *s = user;
    return s->p->cb.repair(s->p->cb.repair_user, message_at(s->p, step),
                           max_count, candidates, count);
}

static int check_hop(void *user, uint32_t step, const uint64_t *candidates,
                     uint32_t count, double *p_on_track, int32_t *status)
{
    stage *s = user;
    return s->p->cb.check(s->p->cb.repair_user, message_at(s->p, step),
                          candidates, count, p_on_track, status);
}

/* ------------------------------------------------------------------ */
/* The run                                                             */
/* ------------------------------------------------------------------ */

/* An object's failure, named by its stage: "credit: the budget ...". */
static int stage_failed(ac_pipeline *p, int rc, const char *what,
                        const char *why)
{
    return ac__fail(p->err, rc, "%s: %s", what,
                    why != NULL && why[0] ? why : ac_strerror(rc));
}

static int check_episode(ac_pipeline *p, const ac_episode *ep)
{
    if (ep == NULL)
        return ac__fail(p->err, AC_E_INVALID_ARG, "no episode");
    if (!ep->has_outcome)
        return ac__fail(p->err, AC_E_STATE, "the episode has no outcome");
    if (ep->n_agents == 0)
        return ac__fail(p->err, AC_E_STATE, "the episode has no agent");
    /* Every agent speaks: a silent player's credit has no message to
     * carry it. One pass, then one look per agent. */
    uint8_t *spoke = ac__mem_calloc(&p->mem, ep->n_part, 1);
    if (spoke == NULL)
        return ac__fail(p->err, AC_E_NO_MEMORY, "out of memory");
    for (uint32_t t = 0; t < ep->n_msg; t++)
        spoke[ep->msg[t].participant] = 1;
    uint32_t silent = UINT32_MAX;
    for (uint32_t i = 0; silent == UINT32_MAX && i < ep->n_part; i++)
        if (ep->part[i].agent != AC__NO_AGENT && !spoke[i])
            silent = i;
    ac__mem_free(&p->mem, spoke);
    if (silent != UINT32_MAX)
        return ac__fail(p->err, AC_E_STATE,
                        "agent \"%s\" has no message: its credit would "
                        "have none to carry it (leave a silent agent "
                        "out, or give it a non-player kind)",
                        ep->part[silent].name);
    return AC_OK;
}

static int alloc_result(ac_pipeline *p, uint32_t n, uint32_t T)
{
    result *r = &p->res;
    const ac__mem *m = &p->mem;
    r->n_agents = n;
    r->n_msg = T;
    r->phi = ac__mem_alloc(m, n, sizeof *r->phi);
    r->se = ac__mem_alloc(m, n, sizeof *r->se);
    r->agent_flags = ac__mem_calloc(m, n, sizeof *r->agent_flags);
    r->reward = ac__mem_calloc(m, T, sizeof *r->reward);
    r->label = ac__mem_alloc(m, T, sizeof *r->label);
    r->msg_flags = ac__mem_calloc(m, T, sizeof *r->msg_flags);
    r->step_flags = ac__mem_calloc(m, T, sizeof *r->step_flags);
    if (!r->phi || !r->se || !r->agent_flags || !r->reward || !r->label ||
        !r->msg_flags || !r->step_flags)
        return ac__fail(p->err, AC_E_NO_MEMORY, "out of memory for the "
                        "signals of %u agents and %u messages", n, T);
    for (uint32_t t = 0; t < T; t++)
        r->label[t] = NAN;
    r->step = -1;
    r->agent = UINT32_MAX;
    r->pair.struct_size = sizeof r->pair;
    r->pair.kind = AC_PAIR_KIND_NONE;
    r->pair.reason = AC_PAIR_REASON_NOT_LOCALIZED;
    r->pair.agent = UINT32_MAX;
    r->pair.episode = (uint64_t)p->episode_id;
    return AC_OK;
}

static int map_agent_messages(ac_pipeline *p, const ac_episode *ep)
{
    p->agent_msg = ac__mem_alloc(&p->mem, p->res.n_msg, sizeof *p->agent_msg);
    if (p->agent_msg == NULL)
        return ac__fail(p->err, AC_E_NO_MEMORY, "out of memory");
    p->n_agent_msg = 0;
    for (uint32_t t = 0; t < p->res.n_msg; t++)
        if (ac__episode_author(ep, t) != AC__NO_AGENT)
            p->agent_msg[p->n_agent_msg++] = t;
        else
            p->res.msg_flags[t] = AC_MESSAGE_FLAG_NON_PLAYER;
    return AC_OK;
}

/* The estimator's inputs: the episode's known values, v(all) = R unless
 * given, v(empty) = the baseline when given. */
static int give_values(ac_pipeline *p, ac_estimator *e, const ac_episode *ep)
{
    uint32_t words = ac_coalition_words(p->res.n_agents);
    uint64_t *all = ac__mem_calloc(&p->mem, 2 * (size_t)words, sizeof *all);
    if (all == NULL)
        return AC_E_NO_MEMORY;
    uint64_t *none = all + words;
    ac__coalition_fill(all, words, p->res.n_agents);
    int rc = AC_OK, all_known = 0;
    for (uint32_t k = 0; rc == AC_OK && k < ep->n_known; k++) {
        const uint64_t *key = ep->known_key + (size_t)k * words;
        all_known |= memcmp(key, all, words * sizeof *key) == 0;
        rc = ac_estimator_set_value(e, key, words, ep->known_value[k]);
    }
    if (rc == AC_OK && !all_known)
        rc = ac_estimator_set_value(e, all, words, ep->outcome);
    if (rc == AC_OK && ep->has_baseline)
        rc = ac_estimator_set_value(e, none, words, ep->baseline);
    ac__mem_free(&p->mem, all);
    return rc;
}

static int run_estimator(ac_pipeline *p, const ac_episode *ep)
{
    result *r = &p->res;
    ac_estimator *e = NULL;
    stage s = {p, NULL};
    int rc = ac_estimator_create(&e, p->res.n_agents, object_alloc(p));
    if (rc != AC_OK)
        return stage_failed(p, rc, "credit", "");
    s.obj = e;
    if (rc == AC_OK) rc = apply_params(p, OWNER_ESTIMATOR, e);
    if (rc == AC_OK) rc = give_values(p, e, ep);
    if (rc == AC_OK && p->cb.oracle != NULL)
        rc = ac_estimator_set_oracle(e, oracle_hop, &s);
    if (rc == AC_OK) rc = ac_estimator_run(e);
    if (rc == AC_OK)
        rc = ac_estimator_result(e, r->phi, r->se, r->n_agents);
    if (rc == AC_OK)
        rc = ac_estimator_audit(e, AC_ESTIMATOR_AUDIT_METHOD,
                                &r->audit[AC_PIPELINE_AUDIT_METHOD]);
    if (rc == AC_OK)
        rc = ac_estimator_audit(
            e, AC_ESTIMATOR_AUDIT_EVALUATIONS,
            &r->audit[AC_PIPELINE_AUDIT_ORACLE_EVALUATIONS]);
    if (rc == AC_E_STATE && p->cb.oracle == NULL)
        rc = ac__fail(p->err, rc, "credit: no oracle, and the episode's "
                      "values (%u known, v(all) the outcome%s) are not every "
                      "coalition the estimator needs: give them, or set an "
                      "oracle (ac_pipeline_set_oracle)", ep->n_known,
                      ep->has_baseline ? ", v(empty) the baseline" : "");
    else if (rc != AC_OK)
        rc = stage_failed(p, rc, "credit", ac_estimator_last_error(e));
    ac_estimator_free(e);
    return rc;
}

/* The credits add up to R - reference: what the game leaves unexplained
 * (v(empty) - reference, and R - v(all) when the host's v(all) is not R)
 * is split equally, which is the Shapley value of the same game with
 * v(empty) replaced by the reference. */
static int refer_credits(ac_pipeline *p, const ac_episode *ep)
{
    result *r = &p->res;
    uint32_t n = p->res.n_agents;
    r->reference = ep->has_reference ? ep->reference : ep->threshold;
    r->total = ep->outcome - r->reference;
    r->audit[AC_PIPELINE_AUDIT_REFERENCE_GIVEN] = ep->has_reference;
    if (!isfinite(r->total))
        return ac__fail(p->err, AC_E_TOO_LARGE, "credit: R - reference = "
                        "%g - %g is beyond a double", ep->outcome,
                        r->reference);
    double shift = (r->total - ac__sum(r->phi, n)) / n;
    for (uint32_t i = 0; i < n; i++)
        r->phi[i] += shift;
    ac__conserve(r->phi, r->se, n, r->total);
    for (uint32_t i = 0; i < n; i++)
        if (!isfinite(r->phi[i]))
            return ac__fail(p->err, AC_E_TOO_LARGE, "credit: agent %u's "
                            "credit moved to the reference is %g", i,
                            r->phi[i]);
    return AC_OK;
}

/* The verifier of a failure, or NULL: no localization. */
static ac_verifier_fn choose_verifier(const ac_pipeline *p,
                                      const ac_episode *ep)
{
    if (ep->outcome >= ep->threshold)
        return NULL;
    switch (p->verifier_source) {
    case AC_VERIFIER_SOURCE_CALLBACK:
        return p->cb.verifier != NULL ? verifier_hop : NULL;
    case AC_VERIFIER_SOURCE_ANNOTATION:
        return ep->first_error != AC__NO_MESSAGE ? annotation_hop : NULL;
    default:
        return NULL;
    }
}

/* The authors of the agents' messages, in the objects' numbering (the
 * localizer's and the refiner's). NULL: no memory. */
static uint32_t *agent_authors(ac_pipeline *p, const ac_episode *ep)
{
    uint32_t K = p->n_agent_msg;
    uint32_t *author = ac__mem_alloc(&p->mem, K, sizeof *author);
    for (uint32_t k = 0; author != NULL && k < K; k++)
        author[k] = ac__episode_author(ep, p->agent_msg[k]);
    return author;
}

/* The localizer's figures, moved to the transcript: the first error, its
 * step flags, the pair's message positions. */
static void place_localization(ac_pipeline *p, const uint32_t *flags)
{
    result *r = &p->res;
    for (uint32_t k = 0; k < p->n_agent_msg; k++)
        r->step_flags[message_at(p, k)] = flags[k];
    if (r->step >= 0)
        r->step = message_at(p, (uint32_t)r->step);
    ac_preference_pair *pair = &r->pair;
    if (pair->kind != AC_PAIR_KIND_NONE || pair->step < p->n_agent_msg) {
        uint32_t at = pair->step < p->n_agent_msg ? message_at(p, pair->step)
                                                  : pair->step;
        pair->prompt_end = at; /* the transcript before the error */
        pair->step = at;
    }
    if (pair->kind == AC_PAIR_KIND_CORRECTIVE)
        pair->chosen = message_at(p, (uint32_t)pair->chosen);
}

static int localizer_figures(ac_pipeline *p, ac_localizer *l, double *blame)
{
    result *r = &p->res;
    uint32_t K = p->n_agent_msg;
    uint32_t *flags = ac__mem_alloc(&p->mem, K, sizeof *flags);
    int rc = flags ? AC_OK : AC_E_NO_MEMORY;
    int64_t search = 0, scan = 0;
    if (rc == AC_OK) rc = ac_localizer_result(l, &r->step, &r->agent,
                                              &r->probability);
    if (rc == AC_OK) rc = ac_localizer_step_flags(l, flags, K);
    if (rc == AC_OK) rc = ac_localizer_blame_labels(l, blame, K);
    if (rc == AC_OK)
        rc = ac_localizer_make_pair(l, (uint64_t)p->episode_id, &r->pair);
    if (rc == AC_OK)
        rc = ac_localizer_audit(l, AC_LOCALIZER_AUDIT_SEARCH_EVALUATIONS,
                                &search);
    if (rc == AC_OK)
        rc = ac_localizer_audit(l, AC_LOCALIZER_AUDIT_SCAN_EVALUATIONS, &scan);
    if (rc == AC_OK)
        place_localization(p, flags);
    r->audit[AC_PIPELINE_AUDIT_VERIFIER_EVALUATIONS] = search + scan;
    ac__mem_free(&p->mem, flags);
    return rc;
}

/* Localizes a failure over the agents' messages: the first error, step
 * flags, blame labels (into blame, in the objects' numbering) and the
 * pair. *localized 1 when it found an error. */
static int run_localizer(ac_pipeline *p, const ac_episode *ep, double *blame,
                         int *localized)
{
    ac_verifier_fn verifier = choose_verifier(p, ep);
    *localized = 0;
    if (verifier == NULL)
        return AC_OK;
    ac_localizer *l = NULL;
    stage s = {p, NULL};
    uint32_t *author = agent_authors(p, ep);
    int rc = author ? ac_localizer_create(&l, p->n_agent_msg, object_alloc(p))
                    : AC_E_NO_MEMORY;
    s.obj = l;
    if (rc == AC_OK) rc = apply_params(p, OWNER_LOCALIZER, l);
    if (rc == AC_OK) rc = ac_localizer_set_authors(l, author, p->n_agent_msg);
    if (rc == AC_OK) rc = ac_localizer_set_verifier(l, verifier, &s);
    if (rc == AC_OK && p->cb.repair != NULL)
        rc = ac_localizer_set_repair(l, repair_hop, check_hop, &s);
    if (rc == AC_OK) rc = ac_localizer_run(l);
    if (rc == AC_OK) rc = localizer_figures(p, l, blame);
    p->res.audit[AC_PIPELINE_AUDIT_LOCALIZED] = 1;
    *localized = rc == AC_OK && p->res.step >= 0;
    if (rc != AC_OK)
        rc = stage_failed(p, rc, "first error",
                          l ? ac_localizer_last_error(l) : "");
    ac__mem_free(&p->mem, author);
    ac_localizer_free(l);
    return rc;
}

/* The refiner's labels: blame (a localized failure), else the episode's
 * given labels (fixed), the scorer for the rest when there is one, 0
 * otherwise. */
static int give_labels(ac_pipeline *p, ac_refiner *f, const ac_episode *ep,
                       const double *blame, int localized, stage *s)
{
    result *r = &p->res;
    uint32_t K = p->n_agent_msg;
    double *lab = ac__mem_alloc(&p->mem, K, sizeof *lab);
    if (lab == NULL)
        return AC_E_NO_MEMORY;
    int given = 0, missing = 0, rc = AC_OK;
    for (uint32_t k = 0; k < K; k++) {
        double g = ep->msg[p->agent_msg[k]].label;
        lab[k] = localized ? blame[k] : isnan(g) ? 0.0 : g;
        given += !isnan(g);
        missing += isnan(g);
    }
    if (localized) {
        r->audit[AC_PIPELINE_AUDIT_LABELS] = AC_LABEL_SOURCE_BLAME;
        rc = ac_refiner_set_labels(f, lab, K);
    } else {
        int scored = p->cb.scorer != NULL && missing > 0;
        r->audit[AC_PIPELINE_AUDIT_LABELS] =
            scored  ? AC_LABEL_SOURCE_SCORER
            : given ? AC_LABEL_SOURCE_GIVEN
                    : AC_LABEL_SOURCE_NEUTRAL;
        if (!scored)
            rc = ac_refiner_set_labels(f, lab, K);
        for (uint32_t k = 0; rc == AC_OK && k < K; k++)
            if (!isnan(ep->msg[p->agent_msg[k]].label))
                rc = ac_refiner_fix_label(f, k, lab[k]);
        if (rc == AC_OK && scored)
            rc = ac_refiner_set_scorer(f, scorer_hop, s);
    }
    ac__mem_free(&p->mem, lab);
    return rc;
}

/* Authors and texts of the agents' messages, in the refiner's numbering.
 * A message without text is never an exact repeat: it gets a text of its
 * own that no real one can equal (a NUL, then its position; real texts
 * hold no NUL), passed with its length. */
static int refiner_inputs(ac_pipeline *p, ac_refiner *f, const ac_episode *ep)
{
    uint32_t K = p->n_agent_msg;
    uint32_t *author = agent_authors(p, ep);
    const char **text = ac__mem_alloc(&p->mem, K, sizeof *text);
    uint64_t *len = ac__mem_alloc(&p->mem, K, sizeof *len);
    char (*none)[16] = ac__mem_alloc(&p->mem, K, sizeof *none);
    int rc = author && text && len && none ? AC_OK : AC_E_NO_MEMORY;
    for (uint32_t k = 0; rc == AC_OK && k < K; k++) {
        const char *t = ep->msg[p->agent_msg[k]].text;
        if (t == NULL) {
            none[k][0] = '\0';
            len[k] = 1 + (uint64_t)snprintf(none[k] + 1, sizeof none[k] - 1,
                                            "%u", k);
            t = none[k];
        } else {
            len[k] = strlen(t);
        }
        text[k] = t;
    }
    if (rc == AC_OK) rc = ac_refiner_set_authors(f, author, K);
    if (rc == AC_OK)
        rc = ac_refiner_set_credits(f, p->res.phi, p->res.n_agents);
    if (rc == AC_OK) rc = ac_refiner_set_texts(f, text, len, K);
    ac__mem_free(&p->mem, author);
    ac__mem_free(&p->mem, (void *)text);
    ac__mem_free(&p->mem, len);
    ac__mem_free(&p->mem, none);
    return rc;
}

/* The refiner's results, moved to transcript positions. */
static int scatter_refined(ac_pipeline *p, ac_refiner *f, uint32_t n_agents)
{
    result *r = &p->res;
    uint32_t K = p->n_agent_msg;
    double *reward = ac__mem_alloc(&p->mem, K, sizeof *reward);
    double *label = ac__mem_alloc(&p->mem, K, sizeof *label);
    uint32_t *flags = ac__mem_alloc(&p->mem, K, sizeof *flags);
    int rc = reward && label && flags ? AC_OK : AC_E_NO_MEMORY;
    if (rc == AC_OK) rc = ac_refiner_rewards(f, reward, K);
    if (rc == AC_OK) rc = ac_refiner_labels(f, label, K);
    if (rc == AC_OK) rc = ac_refiner_message_flags(f, flags, K);
    if (rc == AC_OK) rc = ac_refiner_agent_flags(f, r->agent_flags, n_agents);
    for (uint32_t k = 0; rc == AC_OK && k < K; k++) {
        uint32_t t = p->agent_msg[k];
        r->reward[t] = reward[k];
        r->label[t] = label[k];
        r->msg_flags[t] = flags[k];
    }
    ac__mem_free(&p->mem, reward);
    ac__mem_free(&p->mem, label);
    ac__mem_free(&p->mem, flags);
    return rc;
}

static int run_refiner(ac_pipeline *p, const ac_episode *ep,
                       const double *blame, int localized)
{
    result *r = &p->res;
    ac_refiner *f = NULL;
    stage s = {p, NULL};
    int rc = ac_refiner_create(&f, p->res.n_agents, p->n_agent_msg,
                               object_alloc(p));
    if (rc != AC_OK)
        return stage_failed(p, rc, "rewards", "");
    s.obj = f;
    if (rc == AC_OK) rc = apply_params(p, OWNER_REFINER, f);
    if (rc == AC_OK) rc = refiner_inputs(p, f, ep);
    if (rc == AC_OK) rc = give_labels(p, f, ep, blame, localized, &s);
    if (rc == AC_OK) rc = ac_refiner_run(f);
    if (rc == AC_OK) rc = scatter_refined(p, f, p->res.n_agents);
    if (rc == AC_OK)
        rc = ac_refiner_audit(f, AC_REFINER_AUDIT_EVALUATIONS,
                              &r->audit[AC_PIPELINE_AUDIT_SCORER_EVALUATIONS]);
    if (rc == AC_OK)
        rc = ac_refiner_audit(f, AC_REFINER_AUDIT_RELAXED_AGENTS,
                              &r->audit[AC_PIPELINE_AUDIT_RELAXED_AGENTS]);
    if (rc != AC_OK)
        rc = stage_failed(p, rc, "rewards", ac_refiner_last_error(f));
    ac_refiner_free(f);
    return rc;
}

static int run_stages(ac_pipeline *p, const ac_episode *ep)
{
    int localized = 0;
    double *blame = NULL;
    int rc = map_agent_messages(p, ep);
    if (rc == AC_OK &&
        (blame = ac__mem_alloc(&p->mem, p->n_agent_msg, sizeof *blame)) ==
            NULL)
        rc = ac__fail(p->err, AC_E_NO_MEMORY, "out of memory");
    if (rc == AC_OK) rc = run_estimator(p, ep);
    if (rc == AC_OK) rc = refer_credits(p, ep);
    if (rc == AC_OK && cancelled(p))
        rc = ac__fail(p->err, AC_E_CANCELLED, "the run was cancelled");
    if (rc == AC_OK) rc = run_localizer(p, ep, blame, &localized);
    if (rc == AC_OK && cancelled(p))
        rc = ac__fail(p->err, AC_E_CANCELLED, "the run was cancelled");
    if (rc == AC_OK) rc = run_refiner(p, ep, blame, localized);
    ac__mem_free(&p->mem, blame);
    ac__mem_free(&p->mem, p->agent_msg);
    p->agent_msg = NULL;
    return rc;
}

int ac_pipeline_run(ac_pipeline *p, const ac_episode *ep)
{
    if (p == NULL)
        return AC_E_INVALID_ARG;
    if (p->running)
        return busy(p, "ac_pipeline_run");
    free_result(p);
    atomic_store(&p->cancelled, 0);
    int rc = check_episode(p, ep);
    if (rc == AC_OK)
        rc = alloc_result(p, ep->n_agents, ep->n_msg);
    p->ep = ep;
    p->running = 1;
    if (rc == AC_OK) {
        p->res.audit[AC_PIPELINE_AUDIT_SUCCESS] = ep->outcome >= ep->threshold;
        rc = run_stages(p, ep);
    }
    p->running = 0;
    p->ep = NULL;
    if (rc != AC_OK) {
        free_result(p);
        return rc;
    }
    p->have_result = 1;
    return AC_OK;
}

/* ------------------------------------------------------------------ */
/* The result                                                          */
/* ------------------------------------------------------------------ */

static int check_result(const ac_pipeline *p, uint32_t n, uint32_t want)
{
    if (p == NULL)
        return AC_E_INVALID_ARG;
    if (!p->have_result)
        return AC_E_STATE;
    return n == want ? AC_OK : AC_E_INVALID_ARG;
}

int ac_pipeline_credits(const ac_pipeline *p, double *phi, double *se,
                        uint32_t n_agents)
{
    int rc = check_result(p, n_agents, p ? p->res.n_agents : 0);
    if (rc != AC_OK)
        return rc;
    if (phi != NULL)
        memcpy(phi, p->res.phi, n_agents * sizeof *phi);
    if (se != NULL)
        memcpy(se, p->res.se, n_agents * sizeof *se);
    return AC_OK;
}

int ac_pipeline_total(const ac_pipeline *p, double *total, double *reference)
{
    int rc = check_result(p, 0, 0);
    if (rc != AC_OK)
        return rc;
    if (total != NULL)
        *total = p->res.total;
    if (reference != NULL)
        *reference = p->res.reference;
    return AC_OK;
}

/* The per-message and per-agent arrays share one copy-out. */
static int copy_out(const ac_pipeline *p, void *dst, const void *src,
                    uint32_t n, uint32_t want, size_t size)
{
    int rc = check_result(p, n, want);
    if (rc == AC_OK && dst == NULL)
        rc = AC_E_INVALID_ARG;
    if (rc == AC_OK)
        memcpy(dst, src, (size_t)n * size);
    return rc;
}

int ac_pipeline_rewards(const ac_pipeline *p, double *rewards, uint32_t n)
{
    return copy_out(p, rewards, p ? p->res.reward : NULL, n,
                    p ? p->res.n_msg : 0, sizeof *rewards);
}

int ac_pipeline_labels(const ac_pipeline *p, double *labels, uint32_t n)
{
    return copy_out(p, labels, p ? p->res.label : NULL, n,
                    p ? p->res.n_msg : 0, sizeof *labels);
}

int ac_pipeline_message_flags(const ac_pipeline *p, uint32_t *flags,
                              uint32_t n)
{
    return copy_out(p, flags, p ? p->res.msg_flags : NULL, n,
                    p ? p->res.n_msg : 0, sizeof *flags);
}

int ac_pipeline_step_flags(const ac_pipeline *p, uint32_t *flags, uint32_t n)
{
    return copy_out(p, flags, p ? p->res.step_flags : NULL, n,
                    p ? p->res.n_msg : 0, sizeof *flags);
}

int ac_pipeline_agent_flags(const ac_pipeline *p, uint32_t *flags, uint32_t n)
{
    return copy_out(p, flags, p ? p->res.agent_flags : NULL, n,
                    p ? p->res.n_agents : 0, sizeof *flags);
}

int ac_pipeline_first_error(const ac_pipeline *p, int64_t *step,
                            uint32_t *agent, double *probability)
{
    int rc = check_result(p, 0, 0);
    if (rc != AC_OK)
        return rc;
    if (step != NULL)
        *step = p->res.step;
    if (agent != NULL)
        *agent = p->res.step >= 0 ? p->res.agent : UINT32_MAX;
    if (probability != NULL)
        *probability = p->res.step >= 0 ? p->res.probability : 0.0;
    return AC_OK;
}

int ac_pipeline_pair(const ac_pipeline *p, ac_preference_pair *pair)
{
    int rc = check_result(p, 0, 0);
    if (rc != AC_OK)
        return rc;
    if (pair == NULL || pair->struct_size < sizeof *pair)
        return AC_E_INVALID_ARG;
    uint32_t size = pair->struct_size;
    *pair = p->res.pair;
    pair->struct_size = size;
    return AC_OK;
}

int ac_pipeline_audit(const ac_pipeline *p, int32_t key, int64_t *value)
{
    int rc = check_result(p, 0, 0);
    if (rc != AC_OK)
        return rc;
    if (value == NULL || key < AC_PIPELINE_AUDIT_SUCCESS ||
        key > AC_PIPELINE_AUDIT_RELAXED_AGENTS)
        return AC_E_INVALID_ARG;
    *value = p->res.audit[key];
    return AC_OK;
}
