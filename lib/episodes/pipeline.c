/* The pipeline: one episode in, every signal out. This file holds the
 * handle, its parameters (kept and given to the objects of each run), its
 * callbacks and the result getters; pipeline_stages.c the stages and
 * pipeline_run.c the run (start, ask/tell, the callback loop). */
#include <math.h>
#include <string.h>

#include "credit/interactions.h"
#include "episodes/pipeline_internal.h"

const ac__mem *ac__pipeline_mem(const ac_pipeline *p)
{
    return &p->mem;
}

const ac_allocator *ac__pipeline_object_alloc(const ac_pipeline *p)
{
    return p->has_alloc ? &p->alloc : NULL;
}

static void params_default(ac_pipeline *p);

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
    params_default(p);
    atomic_init(&p->cancelled, 0);
    ac__tickets_init(&p->tk);
    *out = p;
    return AC_OK;
}

void ac__pipeline_free_result(ac_pipeline *p)
{
    ac__result *r = &p->res;
    const ac__mem *m = &p->mem;
    ac__mem_free(m, r->phi);
    ac__mem_free(m, r->se);
    ac__mem_free(m, r->reward);
    ac__mem_free(m, r->label);
    ac__mem_free(m, r->inter);
    ac__mem_free(m, r->inter_se);
    ac__mem_free(m, r->msg_flags);
    ac__mem_free(m, r->step_flags);
    ac__mem_free(m, r->agent_flags);
    memset(r, 0, sizeof *r);
}

int ac__pipeline_alloc_result(ac_pipeline *p, uint32_t n, uint32_t T)
{
    ac__result *r = &p->res;
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

void ac_pipeline_free(ac_pipeline *p)
{
    if (p == NULL)
        return;
    ac__pipeline_free_run(p);
    ac__pipeline_free_result(p);
    ac__mem mem = p->mem;
    ac__mem_free(&mem, p);
}

const char *ac_pipeline_last_error(const ac_pipeline *p)
{
    return p == NULL ? "" : p->err;
}

/* From inside one of its callbacks the pipeline only answers questions:
 * what changes it is refused with AC_E_BUSY. */
int ac__pipeline_busy(ac_pipeline *p, const char *what)
{
    return p->in_callback ? ac__fail(p->err, AC_E_BUSY, "%s from inside a "
                                     "callback of this pipeline's run", what)
                          : AC_OK;
}

/* What a setter checks: a run's parameters and callbacks are those it
 * began with. */
static int can_set(ac_pipeline *p, const char *what)
{
    int rc = ac__pipeline_busy(p, what);
    if (rc == AC_OK && p->run.stage > AC__STAGE_IDLE &&
        p->run.stage < AC__STAGE_DONE)
        rc = ac__fail(p->err, AC_E_STATE, "%s while a run is under way "
                      "(ac_pipeline_start begins a new one)", what);
    return rc;
}

/* ------------------------------------------------------------------ */
/* Parameters                                                          */
/* ------------------------------------------------------------------ */

/* Whose parameter it is: the numbering gives each object its hundred. */
static int owner_of(int32_t param)
{
    switch (param / 100) {
    case 1: return AC__OWNER_ESTIMATOR;
    case 2: return AC__OWNER_REFINER;
    case 3: return AC__OWNER_LOCALIZER;
    case 4: return AC__OWNER_PIPELINE;
    default: return AC__OWNER_NONE;
    }
}

/* The pipeline keeps each object's parameters in that object's own struct,
 * checked by that object's own table (params.c): the same bounds, the
 * same messages and the same defaults as the objects of each run. */
static const ac__param_table *table_of(int owner)
{
    switch (owner) {
    case AC__OWNER_ESTIMATOR: return &ac__estimator_param_table;
    case AC__OWNER_REFINER: return &ac__refiner_param_table;
    case AC__OWNER_LOCALIZER: return &ac__localizer_param_table;
    default: return NULL;
    }
}

static void *store_of(ac_pipeline *p, int owner)
{
    switch (owner) {
    case AC__OWNER_ESTIMATOR: return &p->est_params;
    case AC__OWNER_REFINER: return &p->ref_params;
    default: return &p->loc_params;
    }
}

static void params_default(ac_pipeline *p)
{
    ac__params_default(&p->est_params);
    ac__refiner_params_default(&p->ref_params);
    ac__localizer_params_default(&p->loc_params);
}

static int unsupported(ac_pipeline *p, int32_t param)
{
    return ac__fail(p->err, AC_E_PARAM_UNSUPPORTED, "no parameter %d",
                    (int)param);
}

int ac_pipeline_set_int(ac_pipeline *p, int32_t param, int64_t value)
{
    if (p == NULL)
        return AC_E_INVALID_ARG;
    int rc = can_set(p, "ac_pipeline_set_int");
    if (rc != AC_OK)
        return rc;
    int owner = owner_of(param);
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
        break;
    default:
        break;
    }
    if (table_of(owner) == NULL)
        return unsupported(p, param);
    return ac__param_set_int(table_of(owner), store_of(p, owner), param,
                             value, p->err);
}

int ac_pipeline_set_f64(ac_pipeline *p, int32_t param, double value)
{
    if (p == NULL)
        return AC_E_INVALID_ARG;
    int rc = can_set(p, "ac_pipeline_set_f64");
    if (rc != AC_OK)
        return rc;
    int owner = owner_of(param);
    if (owner == AC__OWNER_PIPELINE)
        return ac__fail(p->err, param == AC_PIPELINE_PARAM_VERIFIER ||
                                        param == AC_PIPELINE_PARAM_EPISODE_ID
                                    ? AC_E_INVALID_ARG
                                    : AC_E_PARAM_UNSUPPORTED,
                        "parameter %d is not a double", (int)param);
    if (table_of(owner) == NULL)
        return unsupported(p, param);
    return ac__param_set_f64(table_of(owner), store_of(p, owner), param,
                             value, p->err);
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
    int owner = owner_of(param);
    if (table_of(owner) == NULL)
        return AC_E_PARAM_UNSUPPORTED;
    return ac__param_get_int(table_of(owner),
                             store_of((ac_pipeline *)p, owner), param, value);
}

int ac_pipeline_get_f64(const ac_pipeline *p, int32_t param, double *value)
{
    if (p == NULL || value == NULL)
        return AC_E_INVALID_ARG;
    int owner = owner_of(param);
    if (owner == AC__OWNER_PIPELINE)
        return param == AC_PIPELINE_PARAM_VERIFIER ||
                       param == AC_PIPELINE_PARAM_EPISODE_ID
                   ? AC_E_INVALID_ARG
                   : AC_E_PARAM_UNSUPPORTED;
    if (table_of(owner) == NULL)
        return AC_E_PARAM_UNSUPPORTED;
    return ac__param_get_f64(table_of(owner),
                             store_of((ac_pipeline *)p, owner), param, value);
}

/* Gives an object every parameter of its table, through its own setters
 * (an object of a run starts at the defaults: the same values). */
int ac__pipeline_apply_params(const ac_pipeline *p, int owner, void *obj)
{
    const ac__param_table *t = table_of(owner);
    const void *store = store_of((ac_pipeline *)p, owner);
    int rc = AC_OK;
    for (size_t k = 0; rc == AC_OK && k < t->count; k++) {
        const ac__param_spec *spec = &t->specs[k];
        int64_t i = 0;
        double f = 0.0;
        int is_f64 = spec->type == AC__PARAM_F64;
        rc = is_f64 ? ac__param_get_f64(t, store, spec->id, &f)
                    : ac__param_get_int(t, store, spec->id, &i);
        if (rc != AC_OK)
            break;
        switch (owner) {
        case AC__OWNER_ESTIMATOR:
            rc = is_f64 ? ac_estimator_set_f64(obj, spec->id, f)
                        : ac_estimator_set_int(obj, spec->id, i);
            break;
        case AC__OWNER_REFINER:
            rc = is_f64 ? ac_refiner_set_f64(obj, spec->id, f)
                        : ac_refiner_set_int(obj, spec->id, i);
            break;
        default:
            rc = is_f64 ? ac_localizer_set_f64(obj, spec->id, f)
                        : ac_localizer_set_int(obj, spec->id, i);
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
    int rc = can_set(p, "ac_pipeline_set_oracle");
    if (rc != AC_OK)
        return rc;
    p->cb.oracle = fn;
    p->cb.oracle_user = user;
    return AC_OK;
}

int ac_pipeline_set_verifier(ac_pipeline *p, ac_verifier_fn fn, void *user)
{
    if (p == NULL)
        return AC_E_INVALID_ARG;
    int rc = can_set(p, "ac_pipeline_set_verifier");
    if (rc != AC_OK)
        return rc;
    p->cb.verifier = fn;
    p->cb.verifier_user = user;
    return AC_OK;
}

int ac_pipeline_set_scorer(ac_pipeline *p, ac_scorer_fn fn, void *user)
{
    if (p == NULL)
        return AC_E_INVALID_ARG;
    int rc = can_set(p, "ac_pipeline_set_scorer");
    if (rc != AC_OK)
        return rc;
    p->cb.scorer = fn;
    p->cb.scorer_user = user;
    return AC_OK;
}

int ac_pipeline_set_repair(ac_pipeline *p, ac_repair_fn repair,
                           ac_candidate_fn check, void *user)
{
    if (p == NULL)
        return AC_E_INVALID_ARG;
    int rc = can_set(p, "ac_pipeline_set_repair");
    if (rc != AC_OK)
        return rc;
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

/* ------------------------------------------------------------------ */
/* The result                                                          */
/* ------------------------------------------------------------------ */

static int check_result(const ac_pipeline *p, uint32_t n, uint32_t want)
{
    if (p == NULL)
        return AC_E_INVALID_ARG;
    if (p->run.stage != AC__STAGE_DONE)
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

int ac_pipeline_interactions(const ac_pipeline *p, double *index,
                             double *se, size_t len)
{
    int rc = check_result(p, 0, 0);
    if (rc != AC_OK)
        return rc;
    uint32_t n = p->res.n_agents;
    if ((index == NULL && len > 0) || len != ac__pair_count(n))
        return AC_E_INVALID_ARG;
    if (p->res.inter == NULL)
        return AC_E_STATE;
    if (len > 0)
        memcpy(index, p->res.inter, len * sizeof *index);
    if (se != NULL && len > 0)
        memcpy(se, p->res.inter_se, len * sizeof *se);
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
