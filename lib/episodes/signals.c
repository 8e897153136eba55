/* The signals of one episode as data: the handle, a snapshot of a
 * pipeline's last run, the getters and the join check against an
 * episode. The JSON is in signals_json.c. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "credit/interactions.h"
#include "episodes/episode_internal.h"
#include "episodes/pipeline_internal.h"
#include "episodes/signals_internal.h"

const char *const ac__message_flag_names[AC__N_MESSAGE_FLAGS] = {
    "redundant", "label_fixed", "non_player"};
const char *const ac__step_flag_names[AC__N_STEP_FLAGS] = {
    "first_error", "propagates", "corrective", "recovered"};
const char *const ac__agent_flag_names[AC__N_AGENT_FLAGS] = {
    "relaxed_sign", "relaxed_bound"};
const char *const ac__method_names[AC__N_METHODS] = {
    "auto", "exact", "permutation", "kernelshap", "adaptive", "oddshap"};
const char *const ac__label_source_names[AC__N_LABEL_SOURCES] = {
    "neutral", "given", "scorer", "blame"};
const char *const ac__pair_kind_names[AC__N_PAIR_KINDS] = {
    "none", "repair", "corrective"};
const char *const ac__pair_reason_names[AC__N_PAIR_REASONS] = {
    "none", "not_localized", "no_candidate", "not_verified", "no_budget"};

/* ------------------------------------------------------------------ */
/* The handle                                                          */
/* ------------------------------------------------------------------ */

/* The block: the doubles, then the name pointers, then the uint32s, each
 * part aligned for what follows it. */
static int carve(ac_signals *s)
{
    size_t n = s->n_agents, T = s->n_msg, names = s->n_names;
    size_t doubles = 2 * n + 2 * T, u32s = 2 * n + names + 3 * T;
    s->block = ac__mem_calloc(&s->mem, 1, doubles * sizeof(double) +
                                              names * sizeof(char *) +
                                              u32s * sizeof(uint32_t));
    if (s->block == NULL)
        return AC_E_NO_MEMORY;
    double *d = s->block;
    s->credit = d;
    s->se = d + n;
    s->reward = d + 2 * n;
    s->label = d + 2 * n + T;
    s->names = (const char **)(void *)(d + doubles);
    uint32_t *u = (uint32_t *)(void *)(s->names + names);
    s->agent_flags = u;
    s->agent_name = u + n;
    s->agent_of = u + 2 * n;
    s->msg_flags = u + 2 * n + names;
    s->step_flags = u + 2 * n + names + T;
    s->from = u + 2 * n + names + 2 * T;
    return AC_OK;
}

ac_signals *ac__signals_new(const ac__mem *mem, uint32_t n_agents,
                            uint32_t n_msg, uint32_t n_names,
                            size_t pool_bytes)
{
    ac_signals *s = ac__mem_calloc(mem, 1, sizeof *s);
    if (s == NULL)
        return NULL;
    s->mem = *mem;
    s->n_agents = n_agents;
    s->n_msg = n_msg;
    s->n_names = n_names;
    s->step = -1;
    s->agent = UINT32_MAX;
    s->pair.struct_size = sizeof s->pair;
    s->pair.agent = UINT32_MAX;
    if (carve(s) != AC_OK ||
        (s->pool = ac__mem_calloc(mem, pool_bytes, 1)) == NULL) {
        ac_signals_free(s);
        return NULL;
    }
    return s;
}

int ac__signals_alloc_interactions(ac_signals *s)
{
    size_t pairs = (size_t)ac__pair_count(s->n_agents);
    s->inter = ac__mem_calloc(&s->mem, 2 * pairs + 1, sizeof *s->inter);
    if (s->inter == NULL)
        return AC_E_NO_MEMORY;
    s->inter_se = s->inter + pairs;
    return AC_OK;
}

const char *ac__signals_keep(ac_signals *sig, size_t *at, const char *s)
{
    size_t len = strlen(s) + 1;
    char *copy = sig->pool + *at;
    memcpy(copy, s, len);
    *at += len;
    return copy;
}

void ac_signals_free(ac_signals *s)
{
    if (s == NULL)
        return;
    ac__mem mem = s->mem;
    ac__mem_free(&mem, s->block);
    ac__mem_free(&mem, s->inter);
    ac__mem_free(&mem, s->pool);
    ac__mem_free(&mem, s);
}

/* ------------------------------------------------------------------ */
/* The pipeline's snapshot                                             */
/* ------------------------------------------------------------------ */

/* The id and names of ep, and who sent each message. */
static void keep_names(ac_signals *s, const ac_episode *ep)
{
    size_t at = 0;
    if (ep->id != NULL)
        s->id = ac__signals_keep(s, &at, ep->id);
    for (uint32_t i = 0; i < ep->n_part; i++) {
        uint32_t a = ep->part[i].agent;
        s->names[i] = ac__signals_keep(s, &at, ep->part[i].name);
        s->agent_of[i] = a;
        if (a != AC__NO_AGENT)
            s->agent_name[a] = i;
    }
    for (uint32_t t = 0; t < ep->n_msg; t++)
        s->from[t] = ep->msg[t].participant;
}

/* The run's arrays, through the pipeline's getters (which check its
 * state and the sizes). */
static int copy_result(const ac_pipeline *p, ac_signals *s)
{
    uint32_t n = s->n_agents, T = s->n_msg;
    int rc = ac_pipeline_credits(p, s->credit, s->se, n);
    if (rc == AC_OK) rc = ac_pipeline_total(p, &s->total, &s->reference);
    if (rc == AC_OK) rc = ac_pipeline_agent_flags(p, s->agent_flags, n);
    if (rc == AC_OK) rc = ac_pipeline_rewards(p, s->reward, T);
    if (rc == AC_OK) rc = ac_pipeline_labels(p, s->label, T);
    if (rc == AC_OK) rc = ac_pipeline_message_flags(p, s->msg_flags, T);
    if (rc == AC_OK) rc = ac_pipeline_step_flags(p, s->step_flags, T);
    if (rc == AC_OK)
        rc = ac_pipeline_first_error(p, &s->step, &s->agent,
                                     &s->probability);
    if (rc == AC_OK) rc = ac_pipeline_pair(p, &s->pair);
    if (rc == AC_OK && p->res.inter != NULL &&
        (rc = ac__signals_alloc_interactions(s)) == AC_OK)
        rc = ac_pipeline_interactions(p, s->inter, s->inter_se,
                                      (size_t)ac__pair_count(n));
    for (int32_t k = AC_PIPELINE_AUDIT_SUCCESS;
         rc == AC_OK && k < AC__SIGNALS_AUDIT_KEYS; k++)
        rc = ac_pipeline_audit(p, k, &s->audit[k]);
    return rc;
}

int ac__signals_snapshot(const ac_pipeline *p, const ac_episode *ep,
                         const ac__mem *mem, ac_signals **out)
{
    int rc = ac_pipeline_total(p, NULL, NULL); /* a result to take? */
    if (rc != AC_OK)
        return rc;
    size_t pool = ep->id != NULL ? strlen(ep->id) + 1 : 0;
    for (uint32_t i = 0; i < ep->n_part; i++)
        pool += strlen(ep->part[i].name) + 1;
    ac_signals *s = ac__signals_new(mem, ep->n_agents, ep->n_msg,
                                    ep->n_part, pool);
    if (s == NULL)
        return AC_E_NO_MEMORY;
    s->outcome = ep->outcome;
    s->threshold = ep->threshold;
    if ((rc = copy_result(p, s)) != AC_OK) {
        ac_signals_free(s);
        return rc;
    }
    keep_names(s, ep);
    *out = s;
    return AC_OK;
}

int ac_pipeline_signals(const ac_pipeline *p, const ac_episode *ep,
                        const ac_allocator *alloc, ac_signals **out)
{
    if (p == NULL || ep == NULL || out == NULL)
        return AC_E_INVALID_ARG;
    ac__mem mem;
    int rc = ac__mem_init(&mem, alloc);
    return rc == AC_OK ? ac__signals_snapshot(p, ep, &mem, out) : rc;
}

/* ------------------------------------------------------------------ */
/* The getters                                                         */
/* ------------------------------------------------------------------ */

int ac_signals_counts(const ac_signals *s, uint32_t *agents,
                      uint32_t *messages)
{
    if (s == NULL)
        return AC_E_INVALID_ARG;
    if (agents != NULL)
        *agents = s->n_agents;
    if (messages != NULL)
        *messages = s->n_msg;
    return AC_OK;
}

const char *ac_signals_id(const ac_signals *s)
{
    return s != NULL ? s->id : NULL;
}

const char *ac_signals_agent_name(const ac_signals *s, uint32_t agent)
{
    return s != NULL && agent < s->n_agents ? s->names[s->agent_name[agent]]
                                            : NULL;
}

int ac_signals_message_from(const ac_signals *s, uint32_t message,
                            const char **name, uint32_t *agent)
{
    if (s == NULL || message >= s->n_msg)
        return AC_E_INVALID_ARG;
    if (name != NULL)
        *name = s->names[s->from[message]];
    if (agent != NULL)
        *agent = s->agent_of[s->from[message]];
    return AC_OK;
}

int ac_signals_outcome(const ac_signals *s, double *outcome,
                       double *threshold)
{
    if (s == NULL)
        return AC_E_INVALID_ARG;
    if (outcome != NULL)
        *outcome = s->outcome;
    if (threshold != NULL)
        *threshold = s->threshold;
    return AC_OK;
}

int ac_signals_credits(const ac_signals *s, double *phi, double *se,
                       uint32_t n_agents)
{
    if (s == NULL || n_agents != s->n_agents)
        return AC_E_INVALID_ARG;
    if (phi != NULL)
        memcpy(phi, s->credit, n_agents * sizeof *phi);
    if (se != NULL)
        memcpy(se, s->se, n_agents * sizeof *se);
    return AC_OK;
}

int ac_signals_interactions(const ac_signals *s, double *index, double *se,
                            size_t len)
{
    if (s == NULL || (index == NULL && len > 0) ||
        len != ac__pair_count(s->n_agents))
        return AC_E_INVALID_ARG;
    if (s->inter == NULL)
        return AC_E_STATE;
    if (len > 0)
        memcpy(index, s->inter, len * sizeof *index);
    if (se != NULL && len > 0)
        memcpy(se, s->inter_se, len * sizeof *se);
    return AC_OK;
}

int ac_signals_total(const ac_signals *s, double *total, double *reference)
{
    if (s == NULL)
        return AC_E_INVALID_ARG;
    if (total != NULL)
        *total = s->total;
    if (reference != NULL)
        *reference = s->reference;
    return AC_OK;
}

/* The per-message and per-agent arrays share one copy-out, as the
 * pipeline's getters: n must be the count, dst not NULL. */
static int copy_array(void *dst, const void *src, uint32_t n, uint32_t want,
                      size_t size)
{
    if (dst == NULL || n != want)
        return AC_E_INVALID_ARG;
    memcpy(dst, src, (size_t)n * size);
    return AC_OK;
}

int ac_signals_rewards(const ac_signals *s, double *rewards, uint32_t n)
{
    return s == NULL ? AC_E_INVALID_ARG
                     : copy_array(rewards, s->reward, n, s->n_msg,
                                  sizeof *rewards);
}

int ac_signals_labels(const ac_signals *s, double *labels, uint32_t n)
{
    return s == NULL ? AC_E_INVALID_ARG
                     : copy_array(labels, s->label, n, s->n_msg,
                                  sizeof *labels);
}

int ac_signals_message_flags(const ac_signals *s, uint32_t *flags,
                             uint32_t n)
{
    return s == NULL ? AC_E_INVALID_ARG
                     : copy_array(flags, s->msg_flags, n, s->n_msg,
                                  sizeof *flags);
}

int ac_signals_step_flags(const ac_signals *s, uint32_t *flags, uint32_t n)
{
    return s == NULL ? AC_E_INVALID_ARG
                     : copy_array(flags, s->step_flags, n, s->n_msg,
                                  sizeof *flags);
}

int ac_signals_agent_flags(const ac_signals *s, uint32_t *flags, uint32_t n)
{
    return s == NULL ? AC_E_INVALID_ARG
                     : copy_array(flags, s->agent_flags, n, s->n_agents,
                                  sizeof *flags);
}

int ac_signals_first_error(const ac_signals *s, int64_t *step,
                           uint32_t *agent, double *probability)
{
    if (s == NULL)
        return AC_E_INVALID_ARG;
    if (step != NULL)
        *step = s->step;
    if (agent != NULL)
        *agent = s->step >= 0 ? s->agent : UINT32_MAX;
    if (probability != NULL)
        *probability = s->step >= 0 ? s->probability : 0.0;
    return AC_OK;
}

int ac_signals_pair(const ac_signals *s, ac_preference_pair *pair)
{
    if (s == NULL || pair == NULL || pair->struct_size < sizeof *pair)
        return AC_E_INVALID_ARG;
    uint32_t size = pair->struct_size;
    *pair = s->pair;
    pair->struct_size = size;
    return AC_OK;
}

int ac_signals_audit(const ac_signals *s, int32_t key, int64_t *value)
{
    if (s == NULL || value == NULL || key < AC_PIPELINE_AUDIT_SUCCESS ||
        key > AC_PIPELINE_AUDIT_RELAXED_AGENTS)
        return AC_E_INVALID_ARG;
    *value = s->audit[key];
    return AC_OK;
}

/* ------------------------------------------------------------------ */
/* The join                                                            */
/* ------------------------------------------------------------------ */

static int differs(char *buf, size_t cap, const char *fmt, ...)
    AC__PRINTF(3, 4);

static int differs(char *buf, size_t cap, const char *fmt, ...)
{
    if (buf != NULL && cap > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(buf, cap, fmt, ap);
        va_end(ap);
    }
    return AC_E_INVALID_ARG;
}

static int same_id(const char *a, const char *b)
{
    return a == NULL ? b == NULL : b != NULL && strcmp(a, b) == 0;
}

/* Who sent each message: the same name, an agent's on both sides or on
 * neither (the agent indices follow from the agents' names). */
static int same_senders(const ac_signals *s, const ac_episode *ep,
                        char *buf, size_t cap)
{
    for (uint32_t t = 0; t < s->n_msg; t++) {
        const ac__participant *who = &ep->part[ep->msg[t].participant];
        uint32_t a = s->agent_of[s->from[t]];
        if (strcmp(s->names[s->from[t]], who->name) != 0 || a != who->agent)
            return differs(buf, cap, "messages[%u]: from \"%s\" in the "
                           "signals, \"%s\" in the episode", t,
                           s->names[s->from[t]], who->name);
    }
    return AC_OK;
}

int ac_signals_matches(const ac_signals *s, const ac_episode *ep,
                       char *err_buf, size_t err_cap)
{
    if (s == NULL || ep == NULL)
        return differs(err_buf, err_cap, "signals and episode must not be "
                       "NULL");
    if (!same_id(s->id, ep->id))
        return differs(err_buf, err_cap, "id: \"%s\" in the signals, \"%s\" "
                       "in the episode", s->id ? s->id : "(none)",
                       ep->id ? ep->id : "(none)");
    if (s->n_agents != ep->n_agents || s->n_msg != ep->n_msg)
        return differs(err_buf, err_cap, "the signals have %u agents and %u "
                       "messages, the episode %u and %u", s->n_agents,
                       s->n_msg, ep->n_agents, ep->n_msg);
    for (uint32_t i = 0; i < ep->n_part; i++) {
        uint32_t a = ep->part[i].agent;
        if (a != AC__NO_AGENT &&
            strcmp(s->names[s->agent_name[a]], ep->part[i].name) != 0)
            return differs(err_buf, err_cap, "agents[%u]: \"%s\" in the "
                           "signals, \"%s\" in the episode", a,
                           s->names[s->agent_name[a]], ep->part[i].name);
    }
    if (ep->has_outcome && !(s->outcome == ep->outcome))
        return differs(err_buf, err_cap, "outcome: %.17g in the signals, "
                       "%.17g in the episode", s->outcome, ep->outcome);
    int rc = same_senders(s, ep, err_buf, err_cap);
    if (rc == AC_OK && err_buf != NULL && err_cap > 0)
        err_buf[0] = '\0';
    return rc;
}
