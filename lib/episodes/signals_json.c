/* The signals as JSON through jansson (docs/format.md): the
 * "agentcredit.signals/1" writer, of a snapshot (ac_signals_write_json)
 * and so of a pipeline's run (ac_pipeline_write_json), and its reader,
 * which refuses a file whose figures do not hold together: the exports
 * read signals back and rely on them. */
#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common/json_scan.h"
#include "common/ksum.h"
#include "credit/interactions.h"
#include "episodes/episode_internal.h"
#include "episodes/json_io.h"
#include "episodes/pipeline_internal.h"
#include "episodes/signals_internal.h"

#define SIGNALS_FORMAT "agentcredit.signals/1"
/* How far the credits' sum may be from the total, and the total from
 * outcome - reference, relative to the figures: the pipeline conserves
 * the sum to the last bits. */
#define SUM_TOLERANCE 1e-12

/* ------------------------------------------------------------------ */
/* Writing                                                             */
/* ------------------------------------------------------------------ */

/* A double, or null for NaN (a non-player's label) and infinity (a
 * standard error of too few samples), which JSON cannot hold. */
static json_t *number(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
}

/* The names of the bits set in `flags`, bit k named names[k]. */
static json_t *flag_names(uint32_t flags, const char *const *names,
                          int count, int *ok)
{
    json_t *list = json_array();
    for (int k = 0; list != NULL && k < count; k++)
        if (flags >> k & 1u)
            push(list, json_string(names[k]), ok);
    return list;
}

static const char *name_of(const char *const *names, int count, int64_t v)
{
    return v >= 0 && v < count ? names[v] : "unknown";
}

static json_t *agent_name_json(const ac_signals *s, uint32_t agent)
{
    return agent < s->n_agents ? json_string(s->names[s->agent_name[agent]])
                               : json_null();
}

static json_t *agents_json(const ac_signals *s, int *ok)
{
    json_t *list = json_array();
    for (uint32_t a = 0; list != NULL && a < s->n_agents; a++) {
        json_t *j = json_object();
        put(j, "name", json_string(s->names[s->agent_name[a]]), ok);
        put(j, "credit", number(s->credit[a]), ok);
        put(j, "se", number(s->se[a]), ok);
        put(j, "flags", flag_names(s->agent_flags[a], ac__agent_flag_names,
                                   AC__N_AGENT_FLAGS, ok), ok);
        push(list, j, ok);
    }
    return list;
}

/* The pairs in the condensed order, each {"agents": [a, b], "index",
 * "se"}. */
static json_t *interactions_json(const ac_signals *s, int *ok)
{
    json_t *list = json_array();
    size_t p = 0;
    for (uint32_t a = 0; list != NULL && a < s->n_agents; a++)
        for (uint32_t b = a + 1; b < s->n_agents; b++, p++) {
            json_t *j = json_object(), *names = json_array();
            push(names, agent_name_json(s, a), ok);
            push(names, agent_name_json(s, b), ok);
            put(j, "agents", names, ok);
            put(j, "index", number(s->inter[p]), ok);
            put(j, "se", number(s->inter_se[p]), ok);
            push(list, j, ok);
        }
    return list;
}

static json_t *messages_json(const ac_signals *s, int *ok)
{
    json_t *list = json_array();
    for (uint32_t t = 0; list != NULL && t < s->n_msg; t++) {
        json_t *j = json_object();
        put(j, "from", json_string(s->names[s->from[t]]), ok);
        put(j, "reward", number(s->reward[t]), ok);
        put(j, "label", number(s->label[t]), ok);
        put(j, "flags", flag_names(s->msg_flags[t], ac__message_flag_names,
                                   AC__N_MESSAGE_FLAGS, ok), ok);
        put(j, "step_flags", flag_names(s->step_flags[t],
                                        ac__step_flag_names,
                                        AC__N_STEP_FLAGS, ok), ok);
        push(list, j, ok);
    }
    return list;
}

static json_t *first_error_json(const ac_signals *s, int *ok)
{
    if (s->step < 0)
        return json_null();
    json_t *j = json_object();
    put(j, "message", json_integer(s->step), ok);
    put(j, "agent", agent_name_json(s, s->agent), ok);
    put(j, "probability", number(s->probability), ok);
    return j;
}

/* The pair's chosen one: a message index, or the host's uint64 candidate
 * id. An id past INT64_MAX, which jansson (and any reader whose integers
 * are int64) cannot hold, is written as its decimal digits in a string, so
 * that it reads back exactly; every other id stays a JSON integer. */
static json_t *chosen_json(uint64_t chosen)
{
    if (chosen <= (uint64_t)INT64_MAX)
        return json_integer((json_int_t)chosen);
    char digits[24];
    snprintf(digits, sizeof digits, "%" PRIu64, chosen);
    return json_string(digits);
}

static json_t *pair_json(const ac_signals *s, int *ok)
{
    const ac_preference_pair *pair = &s->pair;
    json_t *j = json_object();
    put(j, "kind", json_string(name_of(ac__pair_kind_names,
                                       AC__N_PAIR_KINDS, pair->kind)), ok);
    if (pair->kind == AC_PAIR_KIND_NONE) {
        put(j, "reason", json_string(name_of(ac__pair_reason_names,
                                             AC__N_PAIR_REASONS,
                                             pair->reason)), ok);
        return j;
    }
    put(j, "agent", agent_name_json(s, pair->agent), ok);
    put(j, "step", json_integer(pair->step), ok);
    put(j, "prompt_end", json_integer(pair->prompt_end), ok);
    put(j, "chosen", chosen_json(pair->chosen), ok);
    put(j, "candidates", json_integer(pair->candidates), ok);
    put(j, "verified", json_integer(pair->verified), ok);
    put(j, "confidence", number(pair->confidence), ok);
    put(j, "localization", number(pair->localization), ok);
    put(j, "weight", number(pair->weight), ok);
    return j;
}

static const char *const AUDIT_KEYS[AC__SIGNALS_AUDIT_KEYS + 1] = {
    NULL, "success", "localized", "labels", "reference_given", "method",
    "oracle_evaluations", "verifier_evaluations", "scorer_evaluations",
    "relaxed_agents", NULL};

static int audit_is_flag(int32_t k)
{
    return k == AC_PIPELINE_AUDIT_SUCCESS ||
           k == AC_PIPELINE_AUDIT_LOCALIZED ||
           k == AC_PIPELINE_AUDIT_REFERENCE_GIVEN;
}

static json_t *audit_json(const ac_signals *s, int *ok)
{
    json_t *j = json_object();
    for (int32_t k = AC_PIPELINE_AUDIT_SUCCESS;
         j != NULL && k < AC__SIGNALS_AUDIT_KEYS; k++) {
        int64_t v = s->audit[k];
        if (k == AC_PIPELINE_AUDIT_METHOD)
            put(j, AUDIT_KEYS[k], json_string(name_of(
                    ac__method_names, AC__N_METHODS, v)), ok);
        else if (k == AC_PIPELINE_AUDIT_LABELS)
            put(j, AUDIT_KEYS[k], json_string(name_of(
                    ac__label_source_names, AC__N_LABEL_SOURCES, v)), ok);
        else if (audit_is_flag(k))
            put(j, AUDIT_KEYS[k], json_boolean(v != 0), ok);
        else
            put(j, AUDIT_KEYS[k], json_integer(v), ok);
    }
    return j;
}

int ac_signals_write_json(const ac_signals *s, char *buf, size_t cap,
                          size_t *len)
{
    if (s == NULL || len == NULL || (buf == NULL && cap > 0))
        return AC_E_INVALID_ARG;
    int ok = 1;
    json_t *root = json_object();
    put(root, "format", json_string(SIGNALS_FORMAT), &ok);
    if (s->id != NULL)
        put(root, "id", json_string(s->id), &ok);
    put(root, "outcome", number(s->outcome), &ok);
    put(root, "threshold", number(s->threshold), &ok);
    put(root, "reference", number(s->reference), &ok);
    put(root, "total", number(s->total), &ok);
    put(root, "agents", agents_json(s, &ok), &ok);
    if (s->inter != NULL)
        put(root, "interactions", interactions_json(s, &ok), &ok);
    put(root, "messages", messages_json(s, &ok), &ok);
    put(root, "first_error", first_error_json(s, &ok), &ok);
    put(root, "pair", pair_json(s, &ok), &ok);
    put(root, "audit", audit_json(s, &ok), &ok);
    return ac__json_dump(root, ok && root != NULL, buf, cap, len);
}

int ac_pipeline_write_json(const ac_pipeline *p, const ac_episode *ep,
                           char *buf, size_t cap, size_t *len)
{
    if (p == NULL || ep == NULL || len == NULL || (buf == NULL && cap > 0))
        return AC_E_INVALID_ARG;
    ac_signals *s = NULL;
    int rc = ac__signals_snapshot(p, ep, ac__pipeline_mem(p), &s);
    if (rc == AC_OK)
        rc = ac_signals_write_json(s, buf, cap, len);
    ac_signals_free(s);
    return rc;
}

/* ------------------------------------------------------------------ */
/* Reading                                                             */
/* ------------------------------------------------------------------ */

/* The reader's state: the message and warnings so far, the names met
 * (a jansson object from name to its place in names[]: agents first, in
 * order, then the other senders), and the signals once sized. */
typedef struct reader {
    char err[AC__ERRMSG_CAP];
    ac__json_warnings warn;
    json_t *places;
    uint32_t n_agents, n_msg, n_names;
    size_t pool;
    ac_signals *s;
} reader;

/* A field's failure, into the reader's message. */
#define fail_at(r, ...) ac__json_fail((r)->err, __VA_ARGS__)

/* The member `key` of obj, and its path "PATH.KEY" in field. */
static json_t *member(json_t *obj, const char *path, const char *key,
                      char *field, size_t cap)
{
    snprintf(field, cap, "%s%s%s", path, path[0] != '\0' ? "." : "", key);
    return json_object_get(obj, key);
}

static int need_object(reader *r, json_t *j, const char *path,
                       const char *const *known)
{
    if (!json_is_object(j))
        return fail_at(r, path, "an object is needed");
    return ac__json_check_keys(&r->warn, j, path[0] != '\0' ? path
                                                            : "signals",
                               known, r->err);
}

/* A finite number in [lo, hi]; null, when nullable, is *out = when_null. */
static int get_number(reader *r, json_t *obj, const char *path,
                      const char *key, double lo, double hi, int nullable,
                      double when_null, double *out)
{
    char field[96];
    json_t *j = member(obj, path, key, field, sizeof field);
    if (nullable && json_is_null(j)) {
        *out = when_null;
        return AC_OK;
    }
    if (!json_is_number(j))
        return fail_at(r, field, nullable ? "a number or null is needed"
                                          : "a number is needed");
    double v = json_number_value(j);
    if (!isfinite(v))
        return fail_at(r, field, "%g is not finite", v);
    if (v < lo || v > hi)
        return fail_at(r, field, "%.17g is out of range [%g, %g]", v, lo,
                       hi);
    *out = v;
    return AC_OK;
}

/* An integer in [0, limit). */
static int get_index(reader *r, json_t *obj, const char *path,
                     const char *key, uint64_t limit, uint64_t *out)
{
    char field[96];
    json_t *j = member(obj, path, key, field, sizeof field);
    if (!json_is_integer(j))
        return fail_at(r, field, "an integer is needed");
    json_int_t v = json_integer_value(j);
    if (v < 0 || (uint64_t)v >= limit)
        return fail_at(r, field, "%lld is out of range [0, %llu)",
                       (long long)v, (unsigned long long)limit);
    *out = (uint64_t)v;
    return AC_OK;
}

static int get_string(reader *r, json_t *obj, const char *path,
                      const char *key, const char **out)
{
    char field[96];
    json_t *j = member(obj, path, key, field, sizeof field);
    if (!json_is_string(j))
        return fail_at(r, field, "a string is needed");
    *out = json_string_value(j);
    return AC_OK;
}

/* One of names[0 .. count), by name: its index. */
static int choice_of(reader *r, json_t *j, const char *field,
                     const char *const *names, int count, int64_t *out)
{
    if (!json_is_string(j))
        return fail_at(r, field, "a string is needed");
    const char *name = json_string_value(j);
    for (int k = 0; k < count; k++)
        if (strcmp(name, names[k]) == 0) {
            *out = k;
            return AC_OK;
        }
    char known[160] = "";
    for (int k = 0; k < count; k++)
        snprintf(known + strlen(known), sizeof known - strlen(known),
                 "%s\"%s\"", k > 0 ? ", " : "", names[k]);
    return fail_at(r, field, "unknown \"%s\" (%s)", name, known);
}

static int get_choice(reader *r, json_t *obj, const char *path,
                      const char *key, const char *const *names, int count,
                      int64_t *out)
{
    char field[96];
    json_t *j = member(obj, path, key, field, sizeof field);
    return choice_of(r, j, field, names, count, out);
}

/* A list of flag names, each of names[0 .. count) at most once: the bits. */
static int get_flags(reader *r, json_t *obj, const char *path,
                     const char *key, const char *const *names, int count,
                     uint32_t *out)
{
    char field[96];
    json_t *list = member(obj, path, key, field, sizeof field);
    if (!json_is_array(list))
        return fail_at(r, field, "an array of flag names is needed");
    uint32_t bits = 0;
    for (size_t i = 0; i < json_array_size(list); i++) {
        char item[128];
        int64_t k = 0;
        snprintf(item, sizeof item, "%s[%zu]", field, i);
        int rc = choice_of(r, json_array_get(list, i), item, names, count,
                           &k);
        if (rc != AC_OK)
            return rc;
        if (bits >> k & 1u)
            return fail_at(r, item, "\"%s\" twice", names[k]);
        bits |= 1u << k;
    }
    *out = bits;
    return AC_OK;
}

/* The place of a name met: its index in names[]; new names are added
 * after the others when `add`, else refused. */
static int place_of(reader *r, const char *name, const char *field,
                    int add, uint32_t *place)
{
    json_t *at = json_object_get(r->places, name);
    if (at != NULL) {
        *place = (uint32_t)json_integer_value(at);
        return AC_OK;
    }
    if (!add)
        return fail_at(r, field, "no agent \"%s\"", name);
    if (r->n_names >= AC_EPISODE_MAX_PARTICIPANTS)
        return ac__fail(r->err, AC_E_TOO_LARGE, "%s: more than %u names",
                        field, AC_EPISODE_MAX_PARTICIPANTS);
    if (json_object_set_new(r->places, name, json_integer(r->n_names)) != 0)
        return ac__fail(r->err, AC_E_NO_MEMORY, "out of memory");
    *place = r->n_names++;
    r->pool += strlen(name) + 1;
    return AC_OK;
}

/* The first pass: the counts, the keys and the names of agents and
 * senders, so that the signals can be sized. */
static int read_names(reader *r, json_t *agents, json_t *msgs)
{
    static const char *const AGENT_KEYS[] = {"name", "credit", "se", "flags",
                                             NULL};
    static const char *const MSG_KEYS[] = {"from", "reward", "label",
                                           "flags", "step_flags", NULL};
    char path[64];
    int rc = AC_OK;
    for (uint32_t a = 0; rc == AC_OK && a < r->n_agents; a++) {
        json_t *j = json_array_get(agents, a);
        const char *name = NULL;
        uint32_t place;
        snprintf(path, sizeof path, "agents[%u]", a);
        if ((rc = need_object(r, j, path, AGENT_KEYS)) != AC_OK ||
            (rc = get_string(r, j, path, "name", &name)) != AC_OK)
            return rc;
        if (json_object_get(r->places, name) != NULL)
            return fail_at(r, path, "\"%s\" twice", name);
        rc = place_of(r, name, path, 1, &place);
    }
    for (uint32_t t = 0; rc == AC_OK && t < r->n_msg; t++) {
        json_t *j = json_array_get(msgs, t);
        const char *name = NULL;
        uint32_t place;
        snprintf(path, sizeof path, "messages[%u]", t);
        if ((rc = need_object(r, j, path, MSG_KEYS)) != AC_OK ||
            (rc = get_string(r, j, path, "from", &name)) != AC_OK)
            return rc;
        rc = place_of(r, name, path, 1, &place);
    }
    return rc;
}

/* The names into the pool, at their places. */
static void keep_places(reader *r)
{
    ac_signals *s = r->s;
    size_t at = 0;
    const char *name;
    json_t *place;
    json_object_foreach(r->places, name, place)
    {
        uint32_t i = (uint32_t)json_integer_value(place);
        s->names[i] = ac__signals_keep(s, &at, name);
        s->agent_of[i] = i < s->n_agents ? i : UINT32_MAX;
    }
    for (uint32_t a = 0; a < s->n_agents; a++)
        s->agent_name[a] = a;
}

/* An agent's name (or null: none) at obj.key: its index. */
static int get_agent(reader *r, json_t *obj, const char *path,
                     const char *key, uint32_t *agent)
{
    char field[96];
    json_t *j = member(obj, path, key, field, sizeof field);
    *agent = UINT32_MAX;
    if (json_is_null(j))
        return AC_OK;
    if (!json_is_string(j))
        return fail_at(r, field, "an agent's name or null is needed");
    int rc = place_of(r, json_string_value(j), field, 0, agent);
    if (rc == AC_OK && *agent >= r->n_agents)
        rc = fail_at(r, field, "\"%s\" is not an agent",
                     json_string_value(j));
    return rc;
}

static int read_agent(reader *r, json_t *j, uint32_t a)
{
    ac_signals *s = r->s;
    char path[64];
    snprintf(path, sizeof path, "agents[%u]", a);
    int rc = get_number(r, j, path, "credit", -HUGE_VAL, HUGE_VAL, 0, 0.0,
                        &s->credit[a]);
    if (rc == AC_OK)
        rc = get_number(r, j, path, "se", 0.0, HUGE_VAL, 1, INFINITY,
                        &s->se[a]);
    if (rc == AC_OK)
        rc = get_flags(r, j, path, "flags", ac__agent_flag_names,
                       AC__N_AGENT_FLAGS, &s->agent_flags[a]);
    return rc;
}

/* Pair p of the condensed order: its two agents' names, in that order
 * (the writer's), its index and its standard error. */
static int read_pair_interaction(reader *r, json_t *j, uint32_t a,
                                 uint32_t b, size_t p)
{
    static const char *const KEYS[] = {"agents", "index", "se", NULL};
    ac_signals *s = r->s;
    char path[64], field[96];
    snprintf(path, sizeof path, "interactions[%zu]", p);
    int rc = need_object(r, j, path, KEYS);
    if (rc != AC_OK)
        return rc;
    json_t *names = member(j, path, "agents", field, sizeof field);
    const char *want[2] = {s->names[s->agent_name[a]],
                           s->names[s->agent_name[b]]};
    if (!json_is_array(names) || json_array_size(names) != 2)
        return fail_at(r, field, "the names of two agents are needed");
    for (size_t k = 0; k < 2; k++) {
        json_t *name = json_array_get(names, k);
        if (!json_is_string(name) ||
            strcmp(json_string_value(name), want[k]) != 0)
            return fail_at(r, field, "the pairs are in the order of the "
                           "agents: [\"%s\", \"%s\"] here", want[0],
                           want[1]);
    }
    rc = get_number(r, j, path, "index", -HUGE_VAL, HUGE_VAL, 0, 0.0,
                    &s->inter[p]);
    if (rc == AC_OK)
        rc = get_number(r, j, path, "se", 0.0, HUGE_VAL, 1, INFINITY,
                        &s->inter_se[p]);
    return rc;
}

/* The optional interactions: every pair of agents once, in the condensed
 * order (0,1), (0,2), ..., (1,2), ...; a table of at most
 * AC_EXACT_MAX_PLAYERS agents has them. */
static int read_interactions(reader *r, json_t *root)
{
    ac_signals *s = r->s;
    json_t *list = json_object_get(root, "interactions");
    if (list == NULL)
        return AC_OK;
    uint64_t pairs = ac__pair_count(s->n_agents);
    if (s->n_agents > AC_EXACT_MAX_PLAYERS)
        return fail_at(r, "interactions", "%u agents: interactions need the "
                       "whole table, at most %u agents", s->n_agents,
                       AC_EXACT_MAX_PLAYERS);
    if (!json_is_array(list) || json_array_size(list) != pairs)
        return fail_at(r, "interactions", "an array of the %llu pairs of "
                       "agents is needed", (unsigned long long)pairs);
    if (ac__signals_alloc_interactions(s) != AC_OK)
        return ac__fail(r->err, AC_E_NO_MEMORY, "out of memory");
    size_t p = 0;
    int rc = AC_OK;
    for (uint32_t a = 0; a < s->n_agents; a++)
        for (uint32_t b = a + 1; rc == AC_OK && b < s->n_agents; b++, p++)
            rc = read_pair_interaction(r, json_array_get(list, p), a, b, p);
    return rc;
}

/* A non-player's message is flagged so, gets no reward, no label and no
 * step flag; a player's has a label. */
static int check_sender(reader *r, uint32_t t, const char *path)
{
    ac_signals *s = r->s;
    int player = s->from[t] < s->n_agents;
    int flagged = (s->msg_flags[t] & AC_MESSAGE_FLAG_NON_PLAYER) != 0;
    if (player == flagged)
        return fail_at(r, path, player ? "\"%s\" is an agent, not a "
                       "non_player" : "\"%s\" is no agent: the message "
                       "needs the flag non_player", s->names[s->from[t]]);
    if (!player && (s->reward[t] != 0.0 || !isnan(s->label[t]) ||
                    s->step_flags[t] != 0))
        return fail_at(r, path, "a non-player's message has reward 0, "
                       "label null and no step flag");
    if (player && isnan(s->label[t]))
        return fail_at(r, path, "an agent's message needs a label");
    return AC_OK;
}

static int read_message(reader *r, json_t *j, uint32_t t)
{
    ac_signals *s = r->s;
    char path[64];
    snprintf(path, sizeof path, "messages[%u]", t);
    int rc = place_of(r, json_string_value(json_object_get(j, "from")),
                      path, 0, &s->from[t]);
    if (rc == AC_OK)
        rc = get_number(r, j, path, "reward", -HUGE_VAL, HUGE_VAL, 0, 0.0,
                        &s->reward[t]);
    if (rc == AC_OK)
        rc = get_number(r, j, path, "label", -1.0, 1.0, 1, NAN,
                        &s->label[t]);
    if (rc == AC_OK)
        rc = get_flags(r, j, path, "flags", ac__message_flag_names,
                       AC__N_MESSAGE_FLAGS, &s->msg_flags[t]);
    if (rc == AC_OK)
        rc = get_flags(r, j, path, "step_flags", ac__step_flag_names,
                       AC__N_STEP_FLAGS, &s->step_flags[t]);
    return rc == AC_OK ? check_sender(r, t, path) : rc;
}

static int read_first_error(reader *r, json_t *root)
{
    static const char *const KEYS[] = {"message", "agent", "probability",
                                       NULL};
    ac_signals *s = r->s;
    json_t *j = json_object_get(root, "first_error");
    if (json_is_null(j))
        return AC_OK;
    uint64_t step = 0;
    int rc = need_object(r, j, "first_error", KEYS);
    if (rc == AC_OK)
        rc = get_index(r, j, "first_error", "message", s->n_msg, &step);
    if (rc == AC_OK)
        rc = get_agent(r, j, "first_error", "agent", &s->agent);
    if (rc == AC_OK)
        rc = get_number(r, j, "first_error", "probability", 0.0, 1.0, 0,
                        0.0, &s->probability);
    if (rc != AC_OK)
        return rc;
    s->step = (int64_t)step;
    if (s->agent != UINT32_MAX && s->agent_of[s->from[step]] != s->agent)
        return fail_at(r, "first_error.agent", "messages[%llu] is not "
                       "\"%s\"'s", (unsigned long long)step,
                       s->names[s->agent_name[s->agent]]);
    return AC_OK;
}

/* A candidate id: a JSON integer, or past INT64_MAX its decimal digits
 * in a string (the writer's rule); a message index for a corrective
 * pair. */
static int read_chosen(reader *r, json_t *pair, int corrective,
                       uint64_t *chosen)
{
    json_t *j = json_object_get(pair, "chosen");
    if (corrective || !json_is_string(j))
        return get_index(r, pair, "pair", "chosen",
                         corrective ? r->n_msg : (uint64_t)INT64_MAX + 1,
                         chosen);
    const char *digits = json_string_value(j);
    uint64_t v = 0;
    int ok = digits[0] >= '1' && digits[0] <= '9';
    for (const char *c = digits; ok && *c != '\0'; c++) {
        unsigned d = (unsigned)(*c - '0');
        ok = d <= 9 && v <= (UINT64_MAX - d) / 10;
        v = v * 10 + d;
    }
    if (!ok)
        return fail_at(r, "pair.chosen", "\"%s\" is no candidate id (an "
                       "integer, or the digits of one past 2^63 - 1)",
                       digits);
    if (v <= (uint64_t)INT64_MAX)
        return fail_at(r, "pair.chosen", "\"%s\" is a string: an id up to "
                       "2^63 - 1 is a JSON integer", digits);
    *chosen = (uint64_t)v;
    return AC_OK;
}

static int read_pair(reader *r, json_t *root)
{
    static const char *const NONE_KEYS[] = {"kind", "reason", NULL};
    static const char *const KEYS[] = {
        "kind", "agent", "step", "prompt_end", "chosen", "candidates",
        "verified", "confidence", "localization", "weight", NULL};
    ac_preference_pair *pair = &r->s->pair;
    json_t *j = json_object_get(root, "pair");
    int64_t kind = 0, reason = 0;
    int rc = json_is_object(j) ? AC_OK : fail_at(r, "pair", "an object is "
                                                 "needed");
    if (rc == AC_OK)
        rc = get_choice(r, j, "pair", "kind", ac__pair_kind_names,
                        AC__N_PAIR_KINDS, &kind);
    if (rc != AC_OK)
        return rc;
    pair->kind = (int32_t)kind;
    if (kind == AC_PAIR_KIND_NONE) {
        if ((rc = need_object(r, j, "pair", NONE_KEYS)) == AC_OK)
            rc = get_choice(r, j, "pair", "reason", ac__pair_reason_names,
                            AC__N_PAIR_REASONS, &reason);
        pair->reason = (int32_t)reason;
        return rc;
    }
    uint64_t step = 0, end = 0, candidates = 0, verified = 0;
    if (rc == AC_OK) rc = need_object(r, j, "pair", KEYS);
    if (rc == AC_OK) rc = get_agent(r, j, "pair", "agent", &pair->agent);
    if (rc == AC_OK) rc = get_index(r, j, "pair", "step", r->n_msg, &step);
    if (rc == AC_OK)
        rc = get_index(r, j, "pair", "prompt_end", (uint64_t)r->n_msg + 1,
                       &end);
    if (rc == AC_OK)
        rc = read_chosen(r, j, kind == AC_PAIR_KIND_CORRECTIVE,
                         &pair->chosen);
    if (rc == AC_OK)
        rc = get_index(r, j, "pair", "candidates", (uint64_t)UINT32_MAX + 1,
                       &candidates);
    if (rc == AC_OK)
        rc = get_index(r, j, "pair", "verified", candidates + 1, &verified);
    if (rc == AC_OK)
        rc = get_number(r, j, "pair", "confidence", 0.0, 1.0, 0, 0.0,
                        &pair->confidence);
    if (rc == AC_OK)
        rc = get_number(r, j, "pair", "localization", 0.0, 1.0, 0, 0.0,
                        &pair->localization);
    if (rc == AC_OK)
        rc = get_number(r, j, "pair", "weight", 0.0, 1.0, 0, 0.0,
                        &pair->weight);
    pair->step = (uint32_t)step;
    pair->prompt_end = (uint32_t)end;
    pair->candidates = (uint32_t)candidates;
    pair->verified = (uint32_t)verified;
    return rc;
}

static int read_audit(reader *r, json_t *root)
{
    int64_t *audit = r->s->audit;
    json_t *j = json_object_get(root, "audit");
    int rc = need_object(r, j, "audit", AUDIT_KEYS + 1);
    for (int32_t k = AC_PIPELINE_AUDIT_SUCCESS;
         rc == AC_OK && k < AC__SIGNALS_AUDIT_KEYS; k++) {
        char field[96];
        json_t *v = member(j, "audit", AUDIT_KEYS[k], field, sizeof field);
        uint64_t count = 0;
        if (k == AC_PIPELINE_AUDIT_METHOD)
            rc = choice_of(r, v, field, ac__method_names, AC__N_METHODS,
                           &audit[k]);
        else if (k == AC_PIPELINE_AUDIT_LABELS)
            rc = choice_of(r, v, field, ac__label_source_names,
                           AC__N_LABEL_SOURCES, &audit[k]);
        else if (audit_is_flag(k) && !json_is_boolean(v))
            rc = fail_at(r, field, "true or false is needed");
        else if (audit_is_flag(k))
            audit[k] = json_is_true(v);
        else if ((rc = get_index(r, j, "audit", AUDIT_KEYS[k],
                                 (uint64_t)INT64_MAX, &count)) == AC_OK)
            audit[k] = (int64_t)count;
    }
    return rc;
}

/* What the pipeline promises of its figures: total = outcome - reference,
 * the credits add up to the total, success is outcome >= threshold. */
static int check_sums(reader *r)
{
    ac_signals *s = r->s;
    double scale = fmax(1.0, fmax(fabs(s->outcome), fabs(s->reference)));
    if (fabs(s->total - (s->outcome - s->reference)) > SUM_TOLERANCE * scale)
        return fail_at(r, "total", "%.17g is not outcome - reference = "
                       "%.17g", s->total, s->outcome - s->reference);
    double sum = ac__sum(s->credit, s->n_agents), largest = fabs(s->total);
    for (uint32_t a = 0; a < s->n_agents; a++)
        largest = fmax(largest, fabs(s->credit[a]));
    if (fabs(sum - s->total) > SUM_TOLERANCE * fmax(1.0, largest))
        return fail_at(r, "agents", "the credits add up to %.17g, not to "
                       "the total %.17g", sum, s->total);
    if ((s->outcome >= s->threshold) != (s->audit[AC_PIPELINE_AUDIT_SUCCESS]
                                         != 0))
        return fail_at(r, "audit.success", "%s, but the outcome %.17g is "
                       "%s the threshold %.17g",
                       s->audit[AC_PIPELINE_AUDIT_SUCCESS] ? "true"
                                                           : "false",
                       s->outcome, s->outcome >= s->threshold ? "at or above"
                                                              : "below",
                       s->threshold);
    return AC_OK;
}

/* The second pass, into the sized signals. */
static int read_figures(reader *r, json_t *root)
{
    static const char *const TOP[] = {"outcome", "threshold", "reference",
                                      "total"};
    ac_signals *s = r->s;
    double *at[] = {&s->outcome, &s->threshold, &s->reference, &s->total};
    json_t *agents = json_object_get(root, "agents");
    json_t *msgs = json_object_get(root, "messages");
    int rc = AC_OK;
    for (int k = 0; rc == AC_OK && k < 4; k++)
        rc = get_number(r, root, "", TOP[k], -HUGE_VAL, HUGE_VAL, 0, 0.0,
                        at[k]);
    for (uint32_t a = 0; rc == AC_OK && a < s->n_agents; a++)
        rc = read_agent(r, json_array_get(agents, a), a);
    if (rc == AC_OK) rc = read_interactions(r, root);
    for (uint32_t t = 0; rc == AC_OK && t < s->n_msg; t++)
        rc = read_message(r, json_array_get(msgs, t), t);
    if (rc == AC_OK) rc = read_first_error(r, root);
    if (rc == AC_OK) rc = read_pair(r, root);
    if (rc == AC_OK) rc = read_audit(r, root);
    if (rc == AC_OK) rc = check_sums(r);
    return rc;
}

/* The root's keys, format, id and lists, then the names; then the
 * signals sized and filled. */
static int read_signals(reader *r, json_t *root, const ac__mem *mem)
{
    static const char *const KEYS[] = {
        "format", "id", "outcome", "threshold", "reference", "total",
        "agents", "interactions", "messages", "first_error", "pair", "audit",
        NULL};
    if (!json_is_object(root))
        return ac__fail(r->err, AC_E_PARSE, "signals must be a JSON "
                        "object");
    int rc = need_object(r, root, "", KEYS);
    json_t *format = json_object_get(root, "format");
    json_t *id = json_object_get(root, "id");
    json_t *agents = json_object_get(root, "agents");
    json_t *msgs = json_object_get(root, "messages");
    if (rc == AC_OK && format != NULL &&
        (!json_is_string(format) ||
         strcmp(json_string_value(format), SIGNALS_FORMAT) != 0))
        rc = fail_at(r, "format", "\"" SIGNALS_FORMAT "\" is needed");
    if (rc == AC_OK && id != NULL && !json_is_null(id) && !json_is_string(id))
        rc = fail_at(r, "id", "a string is needed");
    if (rc == AC_OK && !json_is_array(agents))
        rc = fail_at(r, "agents", "an array is needed");
    if (rc == AC_OK && !json_is_array(msgs))
        rc = fail_at(r, "messages", "an array is needed");
    if (rc != AC_OK)
        return rc;
    if (json_array_size(agents) > AC_EPISODE_MAX_PARTICIPANTS ||
        json_array_size(msgs) > AC_EPISODE_MAX_MESSAGES)
        return ac__fail(r->err, AC_E_TOO_LARGE, "%zu agents and %zu "
                        "messages: past AC_EPISODE_MAX_PARTICIPANTS or "
                        "AC_EPISODE_MAX_MESSAGES", json_array_size(agents),
                        json_array_size(msgs));
    r->n_agents = (uint32_t)json_array_size(agents);
    r->n_msg = (uint32_t)json_array_size(msgs);
    const char *id_text = json_is_string(id) ? json_string_value(id) : NULL;
    r->pool = id_text != NULL ? strlen(id_text) + 1 : 0;
    if ((rc = read_names(r, agents, msgs)) != AC_OK)
        return rc;
    r->s = ac__signals_new(mem, r->n_agents, r->n_msg, r->n_names, r->pool);
    if (r->s == NULL)
        return ac__fail(r->err, AC_E_NO_MEMORY, "out of memory");
    keep_places(r);
    size_t at = r->pool - (id_text != NULL ? strlen(id_text) + 1 : 0);
    if (id_text != NULL)
        r->s->id = ac__signals_keep(r->s, &at, id_text);
    return read_figures(r, root);
}

int ac_signals_load_json(ac_signals **out, const char *text, size_t len,
                         const ac_allocator *alloc,
                         const ac_json_limits *limits, uint32_t flags,
                         char *err_buf, size_t err_cap, char *warn_buf,
                         size_t warn_cap)
{
    reader r;
    memset(&r, 0, sizeof r);
    ac__json_warnings_init(&r.warn, warn_buf, warn_cap, flags);
    json_t *root = NULL;
    ac__mem mem;
    int rc = ac__json_open(out, text, len, flags, limits, r.err, &root);
    if (rc == AC_OK && (rc = ac__mem_init(&mem, alloc)) != AC_OK)
        ac__fail(r.err, rc, "malformed ac_allocator");
    if (rc == AC_OK && (r.places = json_object()) == NULL)
        rc = ac__fail(r.err, AC_E_NO_MEMORY, "out of memory");
    if (rc == AC_OK)
        rc = read_signals(&r, root, &mem);
    json_decref(r.places);
    json_decref(root);
    if (rc != AC_OK) {
        ac_signals_free(r.s);
        ac__json_warnings_clear(&r.warn);
        return ac__json_copy_out(err_buf, err_cap, rc, r.err);
    }
    *out = r.s;
    return ac__json_copy_out(err_buf, err_cap, AC_OK, "");
}
