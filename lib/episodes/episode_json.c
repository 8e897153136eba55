/* Episodes as JSON through jansson (docs/format.md): the
 * "agentcredit.episode/1" reader and writer (the signals' are in
 * signals_json.c). */
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common/json_scan.h"
#include "episodes/episode_internal.h"
#include "episodes/json_io.h"

#define EPISODE_FORMAT "agentcredit.episode/1"
#define DEFAULT_MAX_BYTES ((uint64_t)64 << 20)
#define DEFAULT_MAX_MEMORY ((uint64_t)512 << 20)

static const char *const KIND_NAMES[] = {"agent", "tool", "user",
                                         "environment", "system"};

void ac_json_limits_default(ac_json_limits *limits)
{
    if (limits == NULL)
        return;
    memset(limits, 0, sizeof *limits);
    limits->struct_size = sizeof *limits;
    limits->max_bytes = DEFAULT_MAX_BYTES;
    limits->max_memory = DEFAULT_MAX_MEMORY;
}

/* ------------------------------------------------------------------ */
/* Reading                                                             */
/* ------------------------------------------------------------------ */

/* The reader's state: the episode being built, the message and warnings
 * so far, and a map from participant names to indices (a jansson object:
 * a hash table). */
typedef struct reader {
    ac_episode *ep;
    char err[AC__ERRMSG_CAP];
    ac__json_warnings warn;
    json_t *names;
} reader;


/* A field's failure, into the reader's message. */
#define fail_at(r, ...) ac__json_fail((r)->err, __VA_ARGS__)

/* An episode setter's failure, under the field's path. */
static int setter_failed(reader *r, int rc, const char *path)
{
    return ac__fail(r->err, rc == AC_E_INVALID_ARG ? AC_E_PARSE : rc,
                    "%s: %s", path, ac_episode_last_error(r->ep));
}

/* The keys of `obj` not in `known`: warnings, or under AC_JSON_STRICT the
 * first is an error (json_scan.h: the rule of every reader). */
static int check_keys(reader *r, json_t *obj, const char *path,
                      const char *const *known)
{
    return ac__json_check_keys(&r->warn, obj, path, known, r->err);
}

/* A number (or, when may_be_null, null: *present 0). */
static int get_number(reader *r, json_t *j, const char *path, double *out,
                      int *present)
{
    if (present != NULL)
        *present = j != NULL && !json_is_null(j);
    if (present != NULL && !*present)
        return AC_OK;
    if (!json_is_number(j))
        return fail_at(r, path, "a number is needed");
    *out = json_number_value(j);
    if (!isfinite(*out))
        return fail_at(r, path, "%g is not finite", *out);
    return AC_OK;
}

/* An index: an integer in [0, limit). */
static int get_index(reader *r, json_t *j, const char *path, uint64_t limit,
                     uint64_t *out)
{
    if (!json_is_integer(j))
        return fail_at(r, path, "an integer is needed");
    json_int_t v = json_integer_value(j);
    if (v < 0 || (uint64_t)v >= limit)
        return fail_at(r, path, "%lld is out of range [0, %llu)",
                       (long long)v, (unsigned long long)limit);
    *out = (uint64_t)v;
    return AC_OK;
}

static int get_string(reader *r, json_t *j, const char *path,
                      const char **out)
{
    *out = NULL;
    if (j == NULL || json_is_null(j))
        return AC_OK;
    if (!json_is_string(j))
        return fail_at(r, path, "a string is needed");
    *out = json_string_value(j);
    return AC_OK;
}

static int read_kind(reader *r, json_t *j, const char *path, int32_t *kind)
{
    const char *name;
    int rc = get_string(r, j, path, &name);
    if (rc != AC_OK)
        return rc;
    if (name == NULL) {
        *kind = AC_PARTICIPANT_KIND_AGENT;
        return AC_OK;
    }
    for (int32_t k = 0; k < 5; k++)
        if (strcmp(name, KIND_NAMES[k]) == 0) {
            *kind = k;
            return AC_OK;
        }
    return fail_at(r, path, "unknown kind \"%s\" (agent, tool, user, "
                   "environment or system)", name);
}

static int read_participants(reader *r, json_t *root)
{
    static const char *const KEYS[] = {"name", "kind", NULL};
    json_t *list = json_object_get(root, "participants");
    if (!json_is_array(list))
        return fail_at(r, "participants", "an array is needed");
    char path[64];
    for (size_t i = 0; i < json_array_size(list); i++) {
        json_t *p = json_array_get(list, i);
        snprintf(path, sizeof path, "participants[%zu]", i);
        if (!json_is_object(p))
            return fail_at(r, path, "an object is needed");
        int rc = check_keys(r, p, path, KEYS);
        const char *name = NULL;
        int32_t kind = 0;
        char field[80];
        snprintf(field, sizeof field, "%s.name", path);
        if (rc == AC_OK)
            rc = get_string(r, json_object_get(p, "name"), field, &name);
        if (rc == AC_OK && name == NULL)
            rc = fail_at(r, field, "a participant needs a name");
        snprintf(field, sizeof field, "%s.kind", path);
        if (rc == AC_OK)
            rc = read_kind(r, json_object_get(p, "kind"), field, &kind);
        uint32_t index;
        if (rc == AC_OK &&
            (rc = ac_episode_add_participant(r->ep, name, kind, &index)) !=
                AC_OK)
            return setter_failed(r, rc, path);
        if (rc != AC_OK)
            return rc;
        if (json_object_set_new(r->names, name, json_integer(index)) != 0)
            return ac__fail(r->err, AC_E_NO_MEMORY, "out of memory");
    }
    return AC_OK;
}

static int find_name(reader *r, json_t *j, const char *path, uint32_t *index)
{
    const char *name;
    int rc = get_string(r, j, path, &name);
    if (rc != AC_OK)
        return rc;
    json_t *at = name != NULL ? json_object_get(r->names, name) : NULL;
    if (at == NULL)
        return name == NULL ? fail_at(r, path, "a participant's name is "
                                      "needed")
                            : fail_at(r, path, "no participant \"%s\"", name);
    *index = (uint32_t)json_integer_value(at);
    return AC_OK;
}

/* ------------------------------------------------------------------ */
/* Tool calls                                                          */
/* ------------------------------------------------------------------ */

/* How a tool call's JSON values are written in its canonical text: as the
 * episode writer writes them, so that the text reads back to itself. */
#define TOOL_FLAGS (AC__JSON_DUMP_FLAGS | JSON_ENCODE_ANY)

/* A checked tool call: its parts in the parsed text (id NULL: none). */
typedef struct tool_call {
    json_t *id, *name, *arguments;
} tool_call;

/* The call's "function": {"name": a non-empty string, "arguments": a
 * string or an object}. */
static int check_function(ac__json_warnings *w, json_t *fn, const char *path,
                          char *err, tool_call *c)
{
    static const char *const KEYS[] = {"name", "arguments", NULL};
    char field[160];
    snprintf(field, sizeof field, "%s.function", path);
    if (!json_is_object(fn))
        return ac__json_fail(err, field,
                             "an object {\"name\", \"arguments\"} is "
                             "needed");
    int rc = ac__json_check_keys(w, fn, field, KEYS, err);
    if (rc != AC_OK)
        return rc;
    c->name = json_object_get(fn, "name");
    c->arguments = json_object_get(fn, "arguments");
    snprintf(field, sizeof field, "%s.function.name", path);
    if (!json_is_string(c->name))
        return ac__json_fail(err, field, "a string is needed");
    if (json_string_length(c->name) == 0)
        return ac__json_fail(err, field, "the function's name is empty");
    snprintf(field, sizeof field, "%s.function.arguments", path);
    if (!json_is_string(c->arguments) && !json_is_object(c->arguments))
        return ac__json_fail(err, field, "a string (JSON text) or an object is "
                             "needed");
    return AC_OK;
}

/* One element of tool_calls: {"id"?: a string, "type"?: "function",
 * "function"}; unknown keys are warnings (w). */
static int check_tool_call(ac__json_warnings *w, json_t *call,
                           const char *path, char *err, tool_call *c)
{
    static const char *const KEYS[] = {"id", "type", "function", NULL};
    char field[160];
    if (!json_is_object(call))
        return ac__json_fail(err, path, "an object {\"id\", \"type\", "
                       "\"function\"} is needed");
    int rc = ac__json_check_keys(w, call, path, KEYS, err);
    if (rc != AC_OK)
        return rc;
    c->id = json_object_get(call, "id");
    if (json_is_null(c->id))
        c->id = NULL;
    snprintf(field, sizeof field, "%s.id", path);
    if (c->id != NULL && !json_is_string(c->id))
        return ac__json_fail(err, field, "a string is needed");
    json_t *type = json_object_get(call, "type");
    snprintf(field, sizeof field, "%s.type", path);
    if (type != NULL && !json_is_null(type) &&
        !(json_is_string(type) &&
          strcmp(json_string_value(type), "function") == 0))
        return ac__json_fail(err, field,
                             "\"function\" is needed (the only type "
                             "of tool call)");
    return check_function(w, json_object_get(call, "function"), path, err,
                          c);
}

/* The canonical text, written twice: counted (buf NULL), then into buf. */
typedef struct canon {
    char *buf;
    size_t len, cap;
    int ok;
} canon;

static void canon_raw(canon *o, const char *s)
{
    size_t n = strlen(s);
    if (o->buf != NULL && o->len + n < o->cap)
        memcpy(o->buf + o->len, s, n);
    o->len += n;
}

static void canon_json(canon *o, json_t *v)
{
    size_t room = o->buf != NULL && o->len < o->cap ? o->cap - o->len : 0;
    size_t n = json_dumpb(v, room ? o->buf + o->len : NULL, room, TOOL_FLAGS);
    if (n == 0)
        o->ok = 0; /* jansson out of memory: no JSON value dumps empty */
    o->len += n;
}

static void canon_calls(canon *o, const tool_call *calls, size_t count)
{
    canon_raw(o, "[");
    for (size_t k = 0; k < count; k++) {
        canon_raw(o, k ? ",{" : "{");
        if (calls[k].id != NULL) {
            canon_raw(o, "\"id\":");
            canon_json(o, calls[k].id);
            canon_raw(o, ",");
        }
        canon_raw(o, "\"type\":\"function\",\"function\":{\"name\":");
        canon_json(o, calls[k].name);
        canon_raw(o, ",\"arguments\":");
        canon_json(o, calls[k].arguments);
        canon_raw(o, "}}");
    }
    canon_raw(o, "]");
}

/* The tool calls `list` (null, or an array of OpenAI tool calls) checked,
 * as their canonical text in the episode's memory (*text NULL for null
 * and []): compact, keys in OpenAI's order, "type" always given, an id
 * only when given, string arguments as given and object arguments as
 * JSON. Errors name the field under `path` (AC_E_PARSE), or
 * AC_E_NO_MEMORY; unknown keys go to w. */
static int tool_calls_text(ac_episode *ep, ac__json_warnings *w, json_t *list,
                           const char *path, char *err, char **text)
{
    *text = NULL;
    if (list == NULL || json_is_null(list))
        return AC_OK;
    if (!json_is_array(list))
        return ac__json_fail(err, path, "an array of tool calls is needed");
    size_t count = json_array_size(list);
    if (count == 0)
        return AC_OK;
    tool_call *calls = ac__mem_alloc(&ep->mem, count, sizeof *calls);
    if (calls == NULL)
        return ac__fail(err, AC_E_NO_MEMORY, "%s: out of memory", path);
    int rc = AC_OK;
    char at[128];
    for (size_t k = 0; rc == AC_OK && k < count; k++) {
        snprintf(at, sizeof at, "%s[%zu]", path, k);
        rc = check_tool_call(w, json_array_get(list, k), at, err, &calls[k]);
    }
    canon o = {NULL, 0, 0, 1};
    if (rc == AC_OK)
        canon_calls(&o, calls, count);
    if (rc == AC_OK && o.ok) {
        o.cap = o.len + 1;
        o.len = 0;
        o.buf = ac__mem_alloc(&ep->mem, o.cap, 1);
        if (o.buf != NULL)
            canon_calls(&o, calls, count);
    }
    ac__mem_free(&ep->mem, calls);
    if (rc == AC_OK && (o.buf == NULL || !o.ok || o.len + 1 != o.cap)) {
        ac__mem_free(&ep->mem, o.buf);
        return ac__fail(err, AC_E_NO_MEMORY, "%s: out of memory", path);
    }
    if (rc == AC_OK) {
        o.buf[o.len] = '\0';
        *text = o.buf;
    }
    return rc;
}

int ac_episode_set_tool_calls(ac_episode *ep, uint32_t message,
                              const char *json, size_t len)
{
    if (ep == NULL)
        return AC_E_INVALID_ARG;
    int rc = ac__episode_check_message(ep, message, "tool calls");
    if (rc != AC_OK)
        return rc;
    char *text = NULL;
    if (json != NULL) {
        json_error_t jerr;
        memset(&jerr, 0, sizeof jerr);
        json_t *list = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
        ac__json_warnings strict;
        ac__json_warnings_init(&strict, NULL, 0, AC_JSON_STRICT);
        if (list == NULL)
            rc = jerr.text[0] == '\0' || json_error_code(&jerr) ==
                                             json_error_out_of_memory
                     ? ac__fail(ep->err, AC_E_NO_MEMORY, "out of memory "
                                "parsing tool calls (jansson)")
                     : ac__fail(ep->err, AC_E_INVALID_ARG, "tool_calls: "
                                "line %d, column %d: %s", jerr.line,
                                jerr.column, jerr.text);
        else
            rc = tool_calls_text(ep, &strict, list, "tool_calls", ep->err,
                                 &text);
        json_decref(list);
        if (rc != AC_OK)
            return rc == AC_E_PARSE ? AC_E_INVALID_ARG : rc;
    }
    ac__mem_free(&ep->mem, ep->msg[message].tool_calls);
    ep->msg[message].tool_calls = text;
    return AC_OK;
}

/* A message's tool keys: tool_calls, tool_call_id, name. */
static int read_message_tools(reader *r, json_t *m, uint32_t t,
                              const char *path)
{
    char field[96];
    const char *id = NULL, *name = NULL;
    char *calls = NULL;
    snprintf(field, sizeof field, "%s.tool_calls", path);
    int rc = tool_calls_text(r->ep, &r->warn, json_object_get(m, "tool_calls"),
                             field, r->err, &calls);
    if (rc != AC_OK)
        return rc;
    r->ep->msg[t].tool_calls = calls;
    snprintf(field, sizeof field, "%s.tool_call_id", path);
    if ((rc = get_string(r, json_object_get(m, "tool_call_id"), field,
                         &id)) != AC_OK)
        return rc;
    if ((rc = ac_episode_set_tool_call_id(r->ep, t, id)) != AC_OK)
        return setter_failed(r, rc, field);
    snprintf(field, sizeof field, "%s.name", path);
    if ((rc = get_string(r, json_object_get(m, "name"), field, &name)) !=
        AC_OK)
        return rc;
    if ((rc = ac_episode_set_message_name(r->ep, t, name)) != AC_OK)
        return setter_failed(r, rc, field);
    return AC_OK;
}

/* A message's optional parts: parent, tokens, label. */
static int read_message_links(reader *r, json_t *m, uint32_t t,
                              const char *path)
{
    char field[96];
    json_t *parent = json_object_get(m, "parent");
    int rc = AC_OK;
    if (parent != NULL && !json_is_null(parent)) {
        uint64_t v = 0;
        snprintf(field, sizeof field, "%s.parent", path);
        if ((rc = get_index(r, parent, field, t, &v)) != AC_OK)
            return rc;
        if ((rc = ac_episode_set_parent(r->ep, t, (uint32_t)v)) != AC_OK)
            return setter_failed(r, rc, field);
    }
    json_t *tokens = json_object_get(m, "tokens");
    if (tokens != NULL && !json_is_null(tokens)) {
        uint64_t b = 0, e = 0;
        snprintf(field, sizeof field, "%s.tokens", path);
        if (!json_is_array(tokens) || json_array_size(tokens) != 2)
            return fail_at(r, field, "[begin, end] is needed");
        if ((rc = get_index(r, json_array_get(tokens, 0), field, UINT64_MAX,
                            &b)) != AC_OK ||
            (rc = get_index(r, json_array_get(tokens, 1), field, UINT64_MAX,
                            &e)) != AC_OK)
            return rc;
        if ((rc = ac_episode_set_token_span(r->ep, t, b, e)) != AC_OK)
            return setter_failed(r, rc, field);
    }
    double label = 0.0;
    int present;
    snprintf(field, sizeof field, "%s.label", path);
    if ((rc = get_number(r, json_object_get(m, "label"), field, &label,
                         &present)) != AC_OK)
        return rc;
    if (present && (rc = ac_episode_set_label(r->ep, t, label)) != AC_OK)
        return setter_failed(r, rc, field);
    return AC_OK;
}

static int read_messages(reader *r, json_t *root)
{
    static const char *const KEYS[] = {
        "from", "role", "text", "parent", "tokens", "label", "tool_calls",
        "tool_call_id", "name", NULL};
    json_t *list = json_object_get(root, "messages");
    if (!json_is_array(list))
        return fail_at(r, "messages", "an array is needed");
    char path[64], field[96];
    for (size_t i = 0; i < json_array_size(list); i++) {
        json_t *m = json_array_get(list, i);
        snprintf(path, sizeof path, "messages[%zu]", i);
        if (!json_is_object(m))
            return fail_at(r, path, "an object is needed");
        int rc = check_keys(r, m, path, KEYS);
        uint32_t who = 0, t = 0;
        const char *role = NULL, *text = NULL;
        snprintf(field, sizeof field, "%s.from", path);
        if (rc == AC_OK)
            rc = find_name(r, json_object_get(m, "from"), field, &who);
        snprintf(field, sizeof field, "%s.role", path);
        if (rc == AC_OK)
            rc = get_string(r, json_object_get(m, "role"), field, &role);
        snprintf(field, sizeof field, "%s.text", path);
        if (rc == AC_OK)
            rc = get_string(r, json_object_get(m, "text"), field, &text);
        if (rc != AC_OK)
            return rc;
        if ((rc = ac_episode_add_message(r->ep, who, role, text, &t)) !=
            AC_OK)
            return setter_failed(r, rc, path);
        if ((rc = read_message_links(r, m, t, path)) != AC_OK ||
            (rc = read_message_tools(r, m, t, path)) != AC_OK)
            return rc;
    }
    return AC_OK;
}

static int read_outcome(reader *r, json_t *root)
{
    static const char *const FIELDS[] = {"outcome", "threshold", "reference",
                                         "baseline"};
    for (int k = 0; k < 4; k++) {
        double v = 0.0;
        int present, rc;
        rc = get_number(r, json_object_get(root, FIELDS[k]), FIELDS[k], &v,
                        &present);
        if (rc != AC_OK)
            return rc;
        if (!present) /* the outcome too: the pipeline asks for it */
            continue;
        rc = k == 0   ? ac_episode_set_outcome(r->ep, v)
             : k == 1 ? ac_episode_set_threshold(r->ep, v)
             : k == 2 ? ac_episode_set_reference(r->ep, v)
                      : ac_episode_set_baseline(r->ep, v);
        if (rc != AC_OK)
            return setter_failed(r, rc, FIELDS[k]);
    }
    return AC_OK;
}

static int read_value(reader *r, json_t *item, const char *path,
                      uint64_t *key, uint32_t words)
{
    static const char *const KEYS[] = {"agents", "value", NULL};
    char field[96];
    if (!json_is_object(item))
        return fail_at(r, path, "an object is needed");
    int rc = check_keys(r, item, path, KEYS);
    if (rc != AC_OK)
        return rc;
    json_t *agents = json_object_get(item, "agents");
    snprintf(field, sizeof field, "%s.agents", path);
    if (!json_is_array(agents))
        return fail_at(r, field, "an array of agent names is needed");
    memset(key, 0, words * sizeof *key);
    for (size_t k = 0; k < json_array_size(agents); k++) {
        uint32_t who, a;
        snprintf(field, sizeof field, "%s.agents[%zu]", path, k);
        if ((rc = find_name(r, json_array_get(agents, k), field, &who)) !=
            AC_OK)
            return rc;
        if (ac_episode_agent_of(r->ep, who, &a) != AC_OK)
            return fail_at(r, field, "\"%s\" is not an agent",
                           json_string_value(json_array_get(agents, k)));
        key[a / 64] |= (uint64_t)1 << (a % 64);
    }
    double v = 0.0;
    int present;
    snprintf(field, sizeof field, "%s.value", path);
    if ((rc = get_number(r, json_object_get(item, "value"), field, &v,
                         &present)) != AC_OK)
        return rc;
    if (!present)
        return fail_at(r, field, "a value is needed");
    if ((rc = ac_episode_set_value(r->ep, key, words, v)) != AC_OK)
        return setter_failed(r, rc, path);
    return AC_OK;
}

static int read_values(reader *r, json_t *root)
{
    json_t *list = json_object_get(root, "values");
    if (list == NULL || json_is_null(list))
        return AC_OK;
    if (!json_is_array(list))
        return fail_at(r, "values", "an array is needed");
    if (json_array_size(list) == 0)
        return AC_OK;
    if (r->ep->n_agents == 0)
        return fail_at(r, "values", "coalition values need agents");
    uint32_t words = ac_coalition_words(r->ep->n_agents);
    uint64_t *key = ac__mem_alloc(&r->ep->mem, words, sizeof *key);
    if (key == NULL)
        return ac__fail(r->err, AC_E_NO_MEMORY, "out of memory");
    char path[64];
    int rc = AC_OK;
    for (size_t i = 0; rc == AC_OK && i < json_array_size(list); i++) {
        snprintf(path, sizeof path, "values[%zu]", i);
        rc = read_value(r, json_array_get(list, i), path, key, words);
    }
    ac__mem_free(&r->ep->mem, key);
    return rc;
}

static int read_annotations(reader *r, json_t *root)
{
    static const char *const KEYS[] = {"first_error", NULL};
    json_t *a = json_object_get(root, "annotations");
    if (a == NULL || json_is_null(a))
        return AC_OK;
    if (!json_is_object(a))
        return fail_at(r, "annotations", "an object is needed");
    int rc = check_keys(r, a, "annotations", KEYS);
    json_t *first = json_object_get(a, "first_error");
    if (rc != AC_OK || first == NULL || json_is_null(first))
        return rc;
    uint64_t t = 0;
    if ((rc = get_index(r, first, "annotations.first_error", r->ep->n_msg,
                        &t)) != AC_OK)
        return rc;
    if ((rc = ac_episode_set_first_error_label(r->ep, (uint32_t)t)) != AC_OK)
        return setter_failed(r, rc, "annotations.first_error");
    return AC_OK;
}

static int read_episode(reader *r, json_t *root)
{
    static const char *const KEYS[] = {
        "format", "id", "participants", "messages", "outcome", "threshold",
        "reference", "baseline", "values", "annotations", NULL};
    if (!json_is_object(root))
        return ac__fail(r->err, AC_E_PARSE, "an episode must be a JSON "
                        "object");
    int rc = check_keys(r, root, "episode", KEYS);
    const char *format = NULL, *id = NULL;
    if (rc == AC_OK)
        rc = get_string(r, json_object_get(root, "format"), "format",
                        &format);
    if (rc == AC_OK && format != NULL && strcmp(format, EPISODE_FORMAT) != 0)
        rc = fail_at(r, "format", "\"%s\" is not \"" EPISODE_FORMAT "\"",
                     format);
    if (rc == AC_OK)
        rc = get_string(r, json_object_get(root, "id"), "id", &id);
    if (rc == AC_OK && id != NULL &&
        (rc = ac_episode_set_id(r->ep, id)) != AC_OK)
        rc = setter_failed(r, rc, "id");
    if (rc == AC_OK) rc = read_participants(r, root);
    if (rc == AC_OK) rc = read_messages(r, root);
    if (rc == AC_OK) rc = read_outcome(r, root);
    if (rc == AC_OK) rc = read_values(r, root);
    if (rc == AC_OK) rc = read_annotations(r, root);
    return rc;
}

int ac_episode_load_json(ac_episode **out, const char *text, size_t len,
                         const ac_allocator *alloc,
                         const ac_json_limits *limits, uint32_t flags,
                         char *err_buf, size_t err_cap, char *warn_buf,
                         size_t warn_cap)
{
    reader r;
    memset(&r, 0, sizeof r);
    ac__json_warnings_init(&r.warn, warn_buf, warn_cap, flags);
    json_t *root = NULL;
    int rc = ac__json_open(out, text, len, flags, limits, r.err, &root);
    if (rc == AC_OK && (rc = ac_episode_create(&r.ep, alloc)) != AC_OK)
        ac__fail(r.err, rc, rc == AC_E_NO_MEMORY ? "out of memory"
                                                 : "malformed ac_allocator");
    if (rc == AC_OK && (r.names = json_object()) == NULL)
        rc = ac__fail(r.err, AC_E_NO_MEMORY, "out of memory");
    if (rc == AC_OK)
        rc = read_episode(&r, root);
    json_decref(r.names);
    json_decref(root);
    if (rc != AC_OK) {
        ac_episode_free(r.ep);
        ac__json_warnings_clear(&r.warn);
        return ac__json_copy_out(err_buf, err_cap, rc, r.err);
    }
    *out = r.ep;
    return ac__json_copy_out(err_buf, err_cap, AC_OK, "");
}

/* ------------------------------------------------------------------ */
/* Writing                                                             */
/* ------------------------------------------------------------------ */

static json_t *participants_json(const ac_episode *ep, int *ok)
{
    json_t *list = json_array();
    for (uint32_t i = 0; list != NULL && i < ep->n_part; i++) {
        json_t *p = json_object();
        put(p, "name", json_string(ep->part[i].name), ok);
        put(p, "kind", json_string(KIND_NAMES[ep->part[i].kind]), ok);
        push(list, p, ok);
    }
    return list;
}

static json_t *message_json(const ac_episode *ep, uint32_t t, int *ok)
{
    const ac__message *m = &ep->msg[t];
    json_t *j = json_object();
    put(j, "from", json_string(ep->part[m->participant].name), ok);
    if (m->role != NULL)
        put(j, "role", json_string(m->role), ok);
    if (m->text != NULL)
        put(j, "text", json_string(m->text), ok);
    if (m->tool_calls != NULL) /* canonical: it reads back to itself */
        put(j, "tool_calls", json_loads(m->tool_calls, 0, NULL), ok);
    if (m->tool_call_id != NULL)
        put(j, "tool_call_id", json_string(m->tool_call_id), ok);
    if (m->name != NULL)
        put(j, "name", json_string(m->name), ok);
    if (m->parent != AC__NO_MESSAGE)
        put(j, "parent", json_integer(m->parent), ok);
    if (m->token_begin != AC__NO_TOKEN)
        put(j, "tokens", json_pack("[II]", (json_int_t)m->token_begin,
                                   (json_int_t)m->token_end), ok);
    if (!isnan(m->label))
        put(j, "label", json_real(m->label), ok);
    return j;
}

static json_t *values_json(const ac_episode *ep, int *ok)
{
    json_t *list = json_array();
    uint32_t words = ep->known_words;
    for (uint32_t k = 0; list != NULL && k < ep->n_known; k++) {
        const uint64_t *key = ep->known_key + (size_t)k * words;
        json_t *agents = json_array();
        for (uint32_t i = 0; agents != NULL && i < ep->n_part; i++) {
            uint32_t a = ep->part[i].agent;
            if (a != AC__NO_AGENT && (key[a / 64] >> (a % 64) & 1u))
                push(agents, json_string(ep->part[i].name), ok);
        }
        json_t *v = json_object();
        put(v, "agents", agents, ok);
        put(v, "value", json_real(ep->known_value[k]), ok);
        push(list, v, ok);
    }
    return list;
}

static void put_field(json_t *root, const char *key, double v, int set,
                      int *ok)
{
    if (set)
        put(root, key, json_real(v), ok);
}

int ac_episode_write_json(const ac_episode *ep, char *buf, size_t cap,
                          size_t *len)
{
    if (ep == NULL || len == NULL || (buf == NULL && cap > 0))
        return AC_E_INVALID_ARG;
    int ok = 1;
    json_t *root = json_object();
    put(root, "format", json_string(EPISODE_FORMAT), &ok);
    if (ep->id != NULL)
        put(root, "id", json_string(ep->id), &ok);
    put(root, "participants", participants_json(ep, &ok), &ok);
    json_t *msgs = json_array();
    for (uint32_t t = 0; msgs != NULL && t < ep->n_msg; t++)
        push(msgs, message_json(ep, t, &ok), &ok);
    put(root, "messages", msgs, &ok);
    put_field(root, "outcome", ep->outcome, ep->has_outcome, &ok);
    put_field(root, "threshold", ep->threshold, 1, &ok);
    put_field(root, "reference", ep->reference, ep->has_reference, &ok);
    put_field(root, "baseline", ep->baseline, ep->has_baseline, &ok);
    if (ep->n_known > 0)
        put(root, "values", values_json(ep, &ok), &ok);
    if (ep->first_error != AC__NO_MESSAGE)
        put(root, "annotations",
            json_pack("{sI}", "first_error", (json_int_t)ep->first_error),
            &ok);
    return ac__json_dump(root, ok && root != NULL, buf, cap, len);
}
