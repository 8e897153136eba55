/* The exporter's handle: its parameters, trained agents and candidates,
 * one episode's conversion into the format's records, and the getters
 * of the records and the skips. */
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "common/params.h"
#include "episodes/json_io.h"
#include "exports/export_internal.h"

static const char *const FORMAT_NAMES[] = {
    NULL,        "trl-dpo",     "trl-dpo-standard", "trl-reward",
    "trl-kto",   "trl-prm",     "verl",             "verl-tokens",
    "openrlhf",  "areal",       "prime-rl",         "rllm",
    "skyrl"};
#define N_FORMATS ((int32_t)(sizeof FORMAT_NAMES / sizeof FORMAT_NAMES[0]))

static const char *const SKIP_NAMES[] = {
    NULL,          "empty_prompt",      "no_pair",
    "no_candidate_text", "zero_reward", "no_tokens",
    "arguments_not_json", "not_trained_agent"};
#define N_SKIPS ((int32_t)(sizeof SKIP_NAMES / sizeof SKIP_NAMES[0]))

int32_t ac_export_format_from_name(const char *name)
{
    for (int32_t f = 1; name != NULL && f < N_FORMATS; f++)
        if (strcmp(name, FORMAT_NAMES[f]) == 0)
            return f;
    return 0;
}

const char *ac_export_format_name(int32_t format)
{
    return format > 0 && format < N_FORMATS ? FORMAT_NAMES[format] : NULL;
}

const char *ac_export_skip_name(int32_t reason)
{
    return reason > 0 && reason < N_SKIPS ? SKIP_NAMES[reason] : NULL;
}

/* ------------------------------------------------------------------ */
/* Parameters                                                          */
/* ------------------------------------------------------------------ */

#define FIELD(f) offsetof(ac__export_params, f)
static const ac__param_spec SPECS[] = {
    {AC_EXPORT_PARAM_PLACEMENT, AC__PARAM_INT, "AC_EXPORT_PARAM_PLACEMENT",
     AC_TOKEN_PLACEMENT_LAST, AC_TOKEN_PLACEMENT_SPREAD,
     AC_TOKEN_PLACEMENT_LAST, 0, FIELD(placement)},
    {AC_EXPORT_PARAM_TURN_DISCOUNT, AC__PARAM_F64,
     "AC_EXPORT_PARAM_TURN_DISCOUNT", 0, 1, 1, 0, FIELD(turn_discount)},
    {AC_EXPORT_PARAM_SPEAKER_PREFIX, AC__PARAM_INT,
     "AC_EXPORT_PARAM_SPEAKER_PREFIX", 0, 1, 1, 0, FIELD(speaker_prefix)},
    {AC_EXPORT_PARAM_MAX_TOKENS, AC__PARAM_INT, "AC_EXPORT_PARAM_MAX_TOKENS",
     1, 67108864.0, 1048576.0, 0, FIELD(max_tokens)},
};
#undef FIELD
static const ac__param_table TABLE = {SPECS, sizeof SPECS / sizeof SPECS[0],
                                      "export"};

static int is_str_param(int32_t param)
{
    return param >= AC__EXPORT_STR_FIRST &&
           param < AC__EXPORT_STR_FIRST + AC__EXPORT_N_STR;
}

/* A string parameter asked as a number, or the reverse: the wrong type. */
static int numeric(ac_export *x, int32_t param)
{
    return is_str_param(param)
               ? ac__fail(x->err, AC_E_INVALID_ARG, "parameter %d is a "
                          "string (ac_export_set_str)", (int)param)
               : AC_OK;
}

int ac_export_set_int(ac_export *x, int32_t param, int64_t value)
{
    if (x == NULL)
        return AC_E_INVALID_ARG;
    int rc = numeric(x, param);
    return rc != AC_OK ? rc
                       : ac__param_set_int(&TABLE, &x->p, param, value, x->err);
}

int ac_export_set_f64(ac_export *x, int32_t param, double value)
{
    if (x == NULL)
        return AC_E_INVALID_ARG;
    int rc = numeric(x, param);
    return rc != AC_OK ? rc
                       : ac__param_set_f64(&TABLE, &x->p, param, value, x->err);
}

int ac_export_get_int(const ac_export *x, int32_t param, int64_t *value)
{
    if (x == NULL || value == NULL || is_str_param(param))
        return AC_E_INVALID_ARG;
    return ac__param_get_int(&TABLE, &x->p, param, value);
}

int ac_export_get_f64(const ac_export *x, int32_t param, double *value)
{
    if (x == NULL || value == NULL || is_str_param(param))
        return AC_E_INVALID_ARG;
    return ac__param_get_f64(&TABLE, &x->p, param, value);
}

const char *ac__export_str(const ac_export *x, int32_t param)
{
    return x->str[param - AC__EXPORT_STR_FIRST];
}

/* TOOLS must be a JSON array, which every record then carries. */
static int parse_tools(ac_export *x, const char *value, json_t **tools)
{
    *tools = NULL;
    if (value == NULL)
        return AC_OK;
    int rc;
    char why[AC__ERRMSG_CAP];
    json_t *t = ac__json_parse_text(value, strlen(value), why, &rc);
    if (t == NULL)
        return ac__fail(x->err, rc == AC_E_PARSE ? AC_E_INVALID_ARG : rc,
                        "AC_EXPORT_PARAM_TOOLS: %s", why);
    if (!json_is_array(t)) {
        json_decref(t);
        return ac__fail(x->err, AC_E_INVALID_ARG, "AC_EXPORT_PARAM_TOOLS: a "
                        "JSON array of tool schemas is needed");
    }
    *tools = t;
    return AC_OK;
}

int ac_export_set_str(ac_export *x, int32_t param, const char *value)
{
    if (x == NULL)
        return AC_E_INVALID_ARG;
    if (!is_str_param(param)) {
        const ac__param_spec *spec;
        int known = ac__param_lookup(&TABLE, param, AC__PARAM_INT, &spec) !=
                    AC_E_PARAM_UNSUPPORTED;
        return ac__fail(x->err, known ? AC_E_INVALID_ARG
                                      : AC_E_PARAM_UNSUPPORTED,
                        "parameter %d is not a string", (int)param);
    }
    size_t len = value == NULL ? 0 : strlen(value);
    if (value != NULL && ac__utf8_prefix((const unsigned char *)value, len) != len)
        return ac__fail(x->err, AC_E_INVALID_ARG, "parameter %d: the string "
                        "is not UTF-8", (int)param);
    json_t *tools = NULL;
    int rc = param == AC_EXPORT_PARAM_TOOLS ? parse_tools(x, value, &tools)
                                            : AC_OK;
    char *copy = NULL;
    if (rc == AC_OK && value != NULL &&
        (copy = ac__mem_alloc(&x->mem, len + 1, 1)) == NULL)
        rc = ac__fail(x->err, AC_E_NO_MEMORY, "out of memory copying "
                      "parameter %d", (int)param);
    if (rc != AC_OK) {
        json_decref(tools);
        return rc;
    }
    if (copy != NULL)
        memcpy(copy, value, len + 1);
    ac__mem_free(&x->mem, x->str[param - AC__EXPORT_STR_FIRST]);
    x->str[param - AC__EXPORT_STR_FIRST] = copy;
    if (param == AC_EXPORT_PARAM_TOOLS) {
        json_decref(x->tools);
        x->tools = tools;
    }
    return AC_OK;
}

int ac_export_get_str(const ac_export *x, int32_t param, const char **value)
{
    if (x == NULL || value == NULL || !is_str_param(param))
        return AC_E_INVALID_ARG;
    *value = ac__export_str(x, param);
    return AC_OK;
}

/* ------------------------------------------------------------------ */
/* The handle                                                          */
/* ------------------------------------------------------------------ */

int ac_export_create(ac_export **out, int32_t format, const ac_allocator *alloc)
{
    if (out == NULL || ac_export_format_name(format) == NULL)
        return AC_E_INVALID_ARG;
    ac__mem mem;
    int rc;
    ac_export *x = ac__mem_new_handle(alloc, sizeof *x, &mem, &rc);
    if (x == NULL)
        return rc;
    x->mem = mem;
    x->format = format;
    ac__params_reset(&TABLE, &x->p);
    *out = x;
    return AC_OK;
}

static void free_agents(ac_export *x)
{
    for (uint32_t a = 0; a < x->n_agents; a++)
        ac__mem_free(&x->mem, x->agents[a]);
    ac__mem_free(&x->mem, x->agents);
    x->agents = NULL;
    x->n_agents = 0;
}

void ac_export_free(ac_export *x)
{
    if (x == NULL)
        return;
    for (int k = 0; k < AC__EXPORT_N_STR; k++)
        ac__mem_free(&x->mem, x->str[k]);
    json_decref(x->tools);
    json_decref(x->candidates);
    free_agents(x);
    ac__text_free(&x->mem, &x->out);
    ac__text_free(&x->mem, &x->names);
    ac__mem_free(&x->mem, x->skips);
    ac__mem mem = x->mem;
    ac__mem_free(&mem, x);
}

const char *ac_export_last_error(const ac_export *x)
{
    return x == NULL ? "" : x->err;
}

int32_t ac_export_format_of(const ac_export *x)
{
    return x == NULL ? 0 : x->format;
}

int ac_export_set_agents(ac_export *x, const char *const *names,
                         uint32_t count)
{
    if (x == NULL)
        return AC_E_INVALID_ARG;
    if (names == NULL && count > 0)
        return ac__fail(x->err, AC_E_INVALID_ARG, "names is NULL");
    for (uint32_t a = 0; a < count; a++)
        if (names[a] == NULL || names[a][0] == '\0')
            return ac__fail(x->err, AC_E_INVALID_ARG, "names[%u] is %s", a,
                            names[a] == NULL ? "NULL" : "empty");
    char **copy = count == 0 ? NULL
                             : ac__mem_calloc(&x->mem, count, sizeof *copy);
    int ok = count == 0 || copy != NULL;
    for (uint32_t a = 0; ok && a < count; a++) {
        size_t len = strlen(names[a]);
        copy[a] = ac__mem_alloc(&x->mem, len + 1, 1);
        if ((ok = copy[a] != NULL))
            memcpy(copy[a], names[a], len + 1);
    }
    if (!ok) {
        for (uint32_t a = 0; copy != NULL && a < count; a++)
            ac__mem_free(&x->mem, copy[a]);
        ac__mem_free(&x->mem, copy);
        return ac__fail(x->err, AC_E_NO_MEMORY, "out of memory copying %u "
                        "agent names", count);
    }
    free_agents(x);
    x->agents = copy;
    x->n_agents = count;
    return AC_OK;
}

int ac_export_load_candidates(ac_export *x, const char *text, size_t len,
                              const ac_json_limits *limits)
{
    if (x == NULL)
        return AC_E_INVALID_ARG;
    json_t *root;
    int rc = ac__json_open(x, text, len, 0, limits, x->err, &root);
    if (rc == AC_OK)
        rc = ac__export_read_candidates(x, root);
    return rc;
}

/* ------------------------------------------------------------------ */
/* Records and skips                                                   */
/* ------------------------------------------------------------------ */

/* Room for `extra` more bytes (the NUL among them). */
static int text_room(const ac__mem *m, ac__text *t, size_t extra)
{
    if (t->p != NULL && t->cap - t->len >= extra)
        return AC_OK;
    size_t cap = t->cap < 256 ? 256 : t->cap;
    while (cap - t->len < extra) {
        if (cap > SIZE_MAX / 2)
            return AC_E_NO_MEMORY;
        cap *= 2;
    }
    void *p = t->p;
    if (ac__mem_grow(m, &p, t->cap, cap, 1) != AC_OK)
        return AC_E_NO_MEMORY;
    t->p = p;
    t->cap = cap;
    return AC_OK;
}

int ac__text_add(const ac__mem *m, ac__text *t, const char *s, size_t n)
{
    if (n == SIZE_MAX || text_room(m, t, n + 1) != AC_OK)
        return AC_E_NO_MEMORY;
    memcpy(t->p + t->len, s, n);
    t->len += n;
    t->p[t->len] = '\0';
    return AC_OK;
}

/* json_dumpb straight into the text. Each dump allocates (jansson's
 * check for loops), so the second can fail where the first did not: its
 * length says so, and nothing of it is kept. */
int ac__text_dump(const ac__mem *m, ac__text *t, const json_t *json,
                  size_t flags)
{
    size_t need = json_dumpb(json, NULL, 0, flags);
    if (need == 0 || need == SIZE_MAX || text_room(m, t, need + 1) != AC_OK)
        return AC_E_NO_MEMORY;
    if (json_dumpb(json, t->p + t->len, need, flags) != need) {
        t->p[t->len] = '\0';
        return AC_E_NO_MEMORY;
    }
    t->len += need;
    t->p[t->len] = '\0';
    return AC_OK;
}

json_t *ac__text_json(const ac__text *t)
{
    return json_stringn(t->p == NULL ? "" : t->p, t->len);
}

void ac__text_free(const ac__mem *m, ac__text *t)
{
    ac__mem_free(m, t->p);
    memset(t, 0, sizeof *t);
}

int ac__export_oom(ac__xrun *r, const char *what)
{
    return ac__fail(r->x->err, AC_E_NO_MEMORY, "out of memory writing %s",
                    what);
}

/* The formats whose records hold chat turns (their turns are made once
 * per episode: ac__xrun.turns). */
static int has_turns(int32_t format)
{
    return format == AC_EXPORT_FORMAT_TRL_DPO ||
           format == AC_EXPORT_FORMAT_TRL_REWARD ||
           format == AC_EXPORT_FORMAT_TRL_KTO ||
           format == AC_EXPORT_FORMAT_VERL ||
           format == AC_EXPORT_FORMAT_OPENRLHF;
}

/* Those whose turns a chat template renders with the "tools" column: TRL
 * reads it for every such record (dpo_trainer.py:1019-1022,
 * kto_trainer.py:1052-1055, and beside the chosen side of a reward pair,
 * which holds its prompt: reward_trainer.py:665-667), verl's dataset
 * beside the prompt; OpenRLHF's prompt dataset applies the template
 * without tools. */
static int takes_tools(int32_t format)
{
    return has_turns(format) && format != AC_EXPORT_FORMAT_OPENRLHF;
}

/* A record's text is in the output from `at` (rc AC_OK): its newline
 * ends it; otherwise no part of it stays. */
static int end_line(ac__xrun *r, size_t at, int rc)
{
    ac_export *x = r->x;
    if (rc == AC_OK)
        rc = ac__text_add(&x->mem, &x->out, "\n", 1);
    if (rc != AC_OK) {
        x->out.len = at;
        if (x->out.p != NULL)
            x->out.p[at] = '\0';
        return ac__export_oom(r, "a record");
    }
    x->records++;
    return AC_OK;
}

int ac__export_emit(ac__xrun *r, json_t *rec)
{
    ac_export *x = r->x;
    if (rec == NULL)
        return ac__export_oom(r, "a record");
    if (x->tools != NULL && takes_tools(x->format) &&
        json_object_set(rec, "tools", x->tools) != 0) {
        json_decref(rec);
        return ac__export_oom(r, "a record");
    }
    size_t at = x->out.len;
    int rc = ac__text_dump(&x->mem, &x->out, rec, AC__JSON_DUMP_FLAGS);
    json_decref(rec);
    return end_line(r, at, rc);
}

/* Appends d[from, to) to the output. */
static int add_part(ac__xrun *r, const ac__text *d, size_t from, size_t to)
{
    return ac__text_add(&r->x->mem, &r->x->out, d->p + from, to - from);
}

/* The dump of a record whose spliced keys hold null, with each key's
 * text in place of its null: a key's quotes never occur unescaped inside
 * a JSON string, so the first `"KEY":null` after the previous key's is
 * the key's own. */
static int splice(ac__xrun *r, const ac__text *d, int n,
                  const char *const *keys, const ac__text *const *values)
{
    size_t at = 0;
    int rc = AC_OK;
    for (int i = 0; rc == AC_OK && i < n; i++) {
        char pattern[64];
        snprintf(pattern, sizeof pattern, "\"%s\":null", keys[i]);
        const char *hit = strstr(d->p + at, pattern);
        if (hit == NULL)
            return AC_E_NO_MEMORY; /* a builder lost the key */
        size_t value = (size_t)(hit - d->p) + strlen(pattern) - 4;
        rc = add_part(r, d, at, value);
        if (rc == AC_OK)
            rc = ac__text_add(&r->x->mem, &r->x->out, values[i]->p,
                              values[i]->len);
        at = value + 4;
    }
    return rc == AC_OK ? add_part(r, d, at, d->len) : rc;
}

int ac__export_emit_spliced(ac__xrun *r, json_t *rec, int n,
                            const char *const *keys,
                            const ac__text *const *values)
{
    ac_export *x = r->x;
    if (rec == NULL)
        return ac__export_oom(r, "a record");
    ac__text d = {0};
    int rc = x->tools != NULL && takes_tools(x->format) &&
                     json_object_set(rec, "tools", x->tools) != 0
                 ? AC_E_NO_MEMORY
                 : ac__text_dump(&x->mem, &d, rec, AC__JSON_DUMP_FLAGS);
    json_decref(rec);
    size_t at = x->out.len;
    if (rc == AC_OK)
        rc = splice(r, &d, n, keys, values);
    ac__text_free(&x->mem, &d);
    return end_line(r, at, rc);
}

int ac__export_skip(ac__xrun *r, int32_t reason, int64_t message,
                    uint32_t agent)
{
    ac_export *x = r->x;
    if (ac__mem_reserve(&x->mem, (void **)&x->skips, x->n_skips,
                        &x->cap_skips, 8, sizeof *x->skips) != AC_OK)
        return ac__export_oom(r, "a skip");
    ac__skip_entry *k = &x->skips[x->n_skips];
    k->reason = reason;
    k->message = message;
    k->agent = SIZE_MAX;
    if (agent != AC__NO_AGENT) {
        const char *name = ac__xrun_agent_name(r, agent);
        k->agent = x->names.len;
        if (ac__text_add(&x->mem, &x->names, name, strlen(name) + 1) != AC_OK)
            return ac__export_oom(r, "a skip");
    }
    x->n_skips++;
    return AC_OK;
}

int ac__export_settle(ac__xrun *r, int rc, int64_t message, uint32_t agent)
{
    return AC__IS_SKIP(rc) ? ac__export_skip(r, rc, message, agent) : rc;
}

/* ------------------------------------------------------------------ */
/* One episode                                                         */
/* ------------------------------------------------------------------ */

const char *ac__xrun_agent_name(const ac__xrun *r, uint32_t a)
{
    return r->s->names[r->s->agent_name[a]];
}

uint32_t ac__xrun_author(const ac__xrun *r, uint32_t k)
{
    return ac__episode_author(r->ep, k);
}

json_t *ac__xrun_group(const ac__xrun *r)
{
    return json_stringn(r->id, r->group_len);
}

json_t *ac__xrun_key(const ac__xrun *r, uint32_t agent, int64_t turn)
{
    ac__text t = {0};
    char num[32];
    snprintf(num, sizeof num, ":%lld", (long long)turn);
    const char *name = ac__xrun_agent_name(r, agent);
    int rc = ac__text_add(&r->x->mem, &t, r->id, r->group_len);
    if (rc == AC_OK)
        rc = ac__text_add(&r->x->mem, &t, ":", 1);
    if (rc == AC_OK)
        rc = ac__text_add(&r->x->mem, &t, name, strlen(name));
    if (rc == AC_OK && turn >= 0)
        rc = ac__text_add(&r->x->mem, &t, num, strlen(num));
    json_t *key = rc == AC_OK ? ac__text_json(&t) : NULL;
    ac__text_free(&r->x->mem, &t);
    return key;
}

json_t *ac__xrun_flags(const ac__xrun *r, uint32_t k, int step)
{
    uint32_t bits = step ? r->s->step_flags[k] : r->s->msg_flags[k];
    const char *const *names = step ? ac__step_flag_names
                                    : ac__message_flag_names;
    int n = step ? AC__N_STEP_FLAGS : AC__N_MESSAGE_FLAGS;
    json_t *arr = json_array();
    int ok = arr != NULL;
    for (int b = 0; ok && b < n; b++)
        if (bits & (1u << b))
            push(arr, json_string(names[b]), &ok);
    if (!ok) {
        json_decref(arr);
        return NULL;
    }
    return arr;
}

/* The group: the id up to the last separator (the id without one). */
static size_t group_length(const ac_export *x, const char *id)
{
    const char *sep = ac__export_str(x, AC_EXPORT_PARAM_GROUP_SEP);
    if (sep == NULL)
        sep = ":";
    size_t n = strlen(sep), len = strlen(id);
    if (n == 0)
        return len;
    for (size_t at = len >= n ? len - n + 1 : 0; at-- > 0;)
        if (memcmp(id + at, sep, n) == 0)
            return at;
    return len;
}

/* The trained agents of this episode: those named, or every agent. */
static int mark_trained(ac__xrun *r, int *any)
{
    uint32_t n = r->s->n_agents;
    r->trained = ac__mem_calloc(&r->x->mem, n == 0 ? 1 : n, 1);
    if (r->trained == NULL)
        return ac__export_oom(r, "the trained agents");
    *any = 0;
    for (uint32_t a = 0; a < n; a++) {
        int on = r->x->n_agents == 0;
        for (uint32_t k = 0; !on && k < r->x->n_agents; k++)
            on = strcmp(r->x->agents[k], ac__xrun_agent_name(r, a)) == 0;
        r->trained[a] = (uint8_t)on;
        *any |= on;
    }
    return AC_OK;
}

static int convert(ac__xrun *r)
{
    switch (r->x->format) {
    case AC_EXPORT_FORMAT_TRL_DPO:
    case AC_EXPORT_FORMAT_TRL_DPO_STANDARD:
    case AC_EXPORT_FORMAT_TRL_REWARD: return ac__export_trl_pair(r);
    case AC_EXPORT_FORMAT_TRL_KTO: return ac__export_trl_kto(r);
    case AC_EXPORT_FORMAT_TRL_PRM: return ac__export_trl_prm(r);
    case AC_EXPORT_FORMAT_VERL:
    case AC_EXPORT_FORMAT_OPENRLHF: return ac__export_verl(r);
    case AC_EXPORT_FORMAT_AREAL: return ac__export_areal(r);
    case AC_EXPORT_FORMAT_PRIME_RL: return ac__export_prime_rl(r);
    case AC_EXPORT_FORMAT_RLLM: return ac__export_rllm(r);
    default: return ac__export_tokens(r);
    }
}

static void clear_result(ac_export *x)
{
    x->out.len = 0;
    if (x->out.p != NULL)
        x->out.p[0] = '\0';
    x->records = 0;
    x->n_skips = 0;
    x->names.len = 0;
}

int ac_export_episode(ac_export *x, const ac_episode *ep, const ac_signals *s)
{
    if (x == NULL)
        return AC_E_INVALID_ARG;
    x->err[0] = '\0';
    clear_result(x);
    if (ep == NULL || s == NULL)
        return ac__fail(x->err, AC_E_INVALID_ARG, "the episode and the "
                        "signals must not be NULL");
    char why[AC__ERRMSG_CAP];
    if (ac_signals_matches(s, ep, why, sizeof why) != AC_OK)
        return ac__fail(x->err, AC_E_INVALID_ARG, "the signals are not the "
                        "episode's: %s", why);
    ac__xrun r = {x, ep, s, ep->id == NULL ? "" : ep->id, 0, NULL, NULL,
                  NULL};
    r.group_len = group_length(x, r.id);
    int any = 0;
    int rc = mark_trained(&r, &any);
    size_t n_turns = 2 * (size_t)s->n_msg + 1;
    if (rc == AC_OK && has_turns(x->format) &&
        ((r.turns = ac__mem_calloc(&x->mem, n_turns, sizeof *r.turns)) ==
             NULL ||
         (r.texts = ac__mem_calloc(&x->mem, n_turns, sizeof *r.texts)) ==
             NULL))
        rc = ac__export_oom(&r, "the turns");
    if (rc == AC_OK)
        rc = any ? convert(&r)
                 : ac__export_skip(&r, AC_EXPORT_SKIP_REASON_NOT_TRAINED_AGENT,
                                   -1, AC__NO_AGENT);
    for (size_t k = 0; r.turns != NULL && k < n_turns; k++)
        json_decref(r.turns[k]);
    for (size_t k = 0; r.texts != NULL && k < n_turns; k++)
        ac__text_free(&x->mem, &r.texts[k]);
    ac__mem_free(&x->mem, r.turns);
    ac__mem_free(&x->mem, r.texts);
    ac__mem_free(&x->mem, r.trained);
    if (rc != AC_OK)
        clear_result(x);
    return rc;
}

int ac_export_text(const ac_export *x, const char **text, size_t *len,
                   uint32_t *records)
{
    if (x == NULL)
        return AC_E_INVALID_ARG;
    if (text != NULL)
        *text = x->out.p == NULL ? "" : x->out.p;
    if (len != NULL)
        *len = x->out.len;
    if (records != NULL)
        *records = x->records;
    return AC_OK;
}

int ac_export_skip_count(const ac_export *x, uint32_t *count)
{
    if (x == NULL || count == NULL)
        return AC_E_INVALID_ARG;
    *count = x->n_skips;
    return AC_OK;
}

int ac_export_skip(const ac_export *x, uint32_t k, int32_t *reason,
                   int64_t *message, const char **agent)
{
    if (x == NULL || k >= x->n_skips)
        return AC_E_INVALID_ARG;
    const ac__skip_entry *s = &x->skips[k];
    if (reason != NULL)
        *reason = s->reason;
    if (message != NULL)
        *message = s->message;
    if (agent != NULL)
        *agent = s->agent == SIZE_MAX ? NULL : x->names.p + s->agent;
    return AC_OK;
}
