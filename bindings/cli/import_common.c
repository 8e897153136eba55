/* SPDX-License-Identifier: MIT
 * agentcredit import: the steps every importer shares (import.h). */
#include "import.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void imp_report(const imp_sink *sink, imp_level level, const char *where,
                const char *fmt, ...)
{
    char what[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    sink->report(sink->user, level, where, what);
}

json_t *imp_parse_json(const char *text, size_t len, const char *where,
                       const imp_sink *sink)
{
    json_error_t err;
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &err);
    if (root == NULL)
        imp_report(sink, IMP_ERROR, where, "line %d, column %d: %s",
                   err.line, err.column, err.text);
    return root;
}

int imp_text_add(imp_text *t, const char *s, size_t n)
{
    if (t->cap - t->len <= n) {
        if (n >= SIZE_MAX / 2 - t->len)
            return -1;
        size_t cap = t->cap ? t->cap : 64;
        while (cap - t->len <= n)
            cap *= 2;
        char *grown = realloc(t->s, cap);
        if (grown == NULL)
            return -1;
        t->s = grown;
        t->cap = cap;
    }
    memcpy(t->s + t->len, s, n);
    t->len += n;
    t->s[t->len] = '\0';
    return 0;
}

int imp_grow(void **at, size_t *cap, size_t count, size_t size)
{
    if (count < *cap)
        return 0;
    size_t more = *cap ? 2 * *cap : 8;
    if (more > SIZE_MAX / size)
        return -1;
    void *grown = realloc(*at, more * size);
    if (grown == NULL)
        return -1;
    *at = grown;
    *cap = more;
    return 0;
}

void imp_text_free(imp_text *t)
{
    free(t->s);
    t->s = NULL;
    t->len = t->cap = 0;
}

int imp_json_id(const json_t *v, char *buf, size_t cap)
{
    int n = -1;
    if (json_is_integer(v))
        n = snprintf(buf, cap, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
    else if (json_is_string(v) && json_string_length(v) > 0)
        n = snprintf(buf, cap, "%s", json_string_value(v));
    return n > 0 && (size_t)n < cap ? 0 : -1;
}

int imp_json_index(const json_t *v, int64_t *out)
{
    if (json_is_integer(v)) {
        if (json_integer_value(v) < 0)
            return -1;
        *out = (int64_t)json_integer_value(v);
        return 0;
    }
    if (!json_is_string(v))
        return -1;
    const char *s = json_string_value(v);
    size_t n = json_string_length(v);
    if (n == 0 || n > 18 || strspn(s, "0123456789") != n)
        return -1; /* 18 digits: no overflow */
    *out = (int64_t)strtoll(s, NULL, 10);
    return 0;
}

int imp_json_text(const json_t *obj, const char *key, const char **text)
{
    const json_t *v = json_object_get(obj, key);
    if (v == NULL || json_is_null(v)) {
        *text = NULL;
        return 0;
    }
    if (!json_is_string(v))
        return -1;
    *text = json_string_value(v);
    return 0;
}

int imp_name_key(const char *name, char *key, size_t cap)
{
    size_t n = 0;
    for (const char *c = name; *c; c++) {
        if (*c == '_' || *c == '-' || *c == ' ')
            continue;
        if (n + 1 >= cap)
            return -1;
        key[n++] = (char)(*c >= 'A' && *c <= 'Z' ? *c - 'A' + 'a' : *c);
    }
    key[n] = '\0';
    return 0;
}

int imp_call_line(imp_text *out, const char *name, size_t name_len,
                  const json_t *args)
{
    char *dumped = NULL;
    const char *a = "";
    if (json_is_string(args))
        a = json_string_value(args);
    else if (args != NULL && !json_is_null(args)) {
        dumped = json_dumps(args, JSON_COMPACT | JSON_ENCODE_ANY);
        if (dumped == NULL)
            return -1;
        a = dumped;
    }
    int bad = (out->len > 0 && imp_text_add(out, "\n", 1) != 0) ||
              imp_text_add(out, name, name_len) != 0 ||
              imp_text_add(out, "(", 1) != 0 ||
              imp_text_add(out, a, strlen(a)) != 0 ||
              imp_text_add(out, ")", 1) != 0;
    free(dumped);
    return bad ? -1 : 0;
}

/* 1 when the n bytes at s are all white space (the text may hold NULs and
 * need not end in one). */
static int blank(const char *s, size_t n)
{
    for (size_t k = 0; k < n; k++)
        if (s[k] != ' ' && s[k] != '\t' && s[k] != '\r' && s[k] != '\n')
            return 0;
    return 1;
}

/* Where a file's records are read from (imp_records). */
typedef struct records {
    const char *path, *base;
    const imp_sink *sink;
    imp_record_fn fn;
    void *user;
} records;

/* Record `index` of the file: where ("FILE: LABEL INDEX" when many) and
 * its id. */
static int one_record(const records *r, const char *label, size_t index,
                      int many, const json_t *record)
{
    char where[1024], id[IMP_ID_ROOM];
    if (many) {
        snprintf(where, sizeof where, "%s: %s %zu", r->path, label, index);
        snprintf(id, sizeof id, "%s:%zu", r->base, index);
    } else {
        snprintf(where, sizeof where, "%s", r->path);
        snprintf(id, sizeof id, "%s", r->base);
    }
    return r->fn(r->user, where, id, record);
}

/* JSON Lines: each non-blank line a record, named by its line. */
static int json_lines(const records *r, const char *text, size_t len)
{
    int failed = 0;
    size_t line = 0;
    for (size_t at = 0; at < len;) {
        const char *nl = memchr(text + at, '\n', len - at);
        size_t end = nl ? (size_t)(nl - text) : len, n = end - at;
        const char *s = text + at;
        line++;
        at = end + 1;
        if (blank(s, n))
            continue;
        json_error_t err;
        json_t *v = json_loadb(s, n, JSON_REJECT_DUPLICATES, &err);
        int rc = 1;
        if (v == NULL) {
            char where[1024];
            snprintf(where, sizeof where, "%s: line %zu", r->path, line);
            imp_report(r->sink, IMP_ERROR, where, "column %d: %s",
                       err.column, err.text);
        } else {
            rc = one_record(r, "line", line, 1, v);
            json_decref(v);
        }
        if (rc == IMP_STOPPED)
            return IMP_STOPPED;
        failed += rc;
    }
    return failed;
}

int imp_records(const char *path, const char *text, size_t len,
                const imp_sink *sink, int (*is_record)(const json_t *),
                imp_record_fn fn, void *user)
{
    const char *base = strrchr(path, '/');
    records r = {path, base != NULL && base[1] != '\0' ? base + 1 : path,
                 sink, fn, user};
    json_error_t err;
    /* the first value alone: more after it makes the file JSON Lines */
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES |
                              JSON_DISABLE_EOF_CHECK, &err);
    if (root == NULL) {
        imp_report(sink, IMP_ERROR, path, "line %d, column %d: %s",
                   err.line, err.column, err.text);
        return 1;
    }
    size_t used = (size_t)err.position;
    if (used < len && !blank(text + used, len - used)) {
        json_decref(root);
        return json_lines(&r, text, len);
    }
    int failed = 0;
    if (json_is_array(root) && json_array_size(root) > 0 &&
        is_record(json_array_get(root, 0))) {
        for (size_t k = 0; k < json_array_size(root); k++) {
            int rc = one_record(&r, "record", k, 1, json_array_get(root, k));
            if (rc == IMP_STOPPED) {
                failed = IMP_STOPPED;
                break;
            }
            failed += rc;
        }
    } else if (json_is_array(root) && json_array_size(root) == 0) {
        failed = 0; /* no record */
    } else {
        failed = one_record(&r, "record", 0, 0, root);
    }
    json_decref(root);
    return failed;
}

static const char *kind_name(int32_t kind)
{
    switch (kind) {
    case AC_PARTICIPANT_KIND_AGENT: return "agent";
    case AC_PARTICIPANT_KIND_TOOL: return "tool";
    case AC_PARTICIPANT_KIND_USER: return "user";
    case AC_PARTICIPANT_KIND_ENVIRONMENT: return "environment";
    case AC_PARTICIPANT_KIND_SYSTEM: return "system";
    default: return "participant";
    }
}

int imp_episode_begin(imp_episode *b, const char *where, const imp_sink *sink,
                      const char *id, const double *outcome,
                      double threshold)
{
    b->ep = NULL;
    b->where = where;
    b->sink = sink;
    b->last = 0;
    int rc = ac_episode_create(&b->ep, NULL);
    if (rc == AC_OK)
        rc = ac_episode_set_id(b->ep, id);
    if (rc == AC_OK && outcome != NULL)
        rc = ac_episode_set_outcome(b->ep, *outcome);
    if (rc == AC_OK)
        rc = ac_episode_set_threshold(b->ep, threshold);
    if (rc != AC_OK) {
        imp_report(sink, IMP_ERROR, where, "%s%s%s", ac_strerror(rc),
                   b->ep ? ": " : "", ac_episode_last_error(b->ep));
        imp_episode_drop(b);
        return -1;
    }
    return 0;
}

int imp_episode_participant(imp_episode *b, const char *field,
                            const char *name, int32_t kind, uint32_t *index)
{
    uint32_t count = 0;
    if (ac_episode_counts(b->ep, &count, NULL, NULL) != AC_OK)
        count = 0;
    for (uint32_t k = 0; k < count; k++) {
        /* the last one found first: consecutive messages of one author */
        uint32_t i = k == 0 ? b->last : (k <= b->last ? k - 1 : k);
        const char *have = NULL;
        int32_t have_kind = 0;
        if (ac_episode_participant(b->ep, i, &have, &have_kind) != AC_OK ||
            strcmp(have, name) != 0)
            continue;
        if (have_kind != kind) {
            imp_report(b->sink, IMP_ERROR, b->where,
                       "%s: participant \"%s\" is named as two kinds of "
                       "participant (%s here, %s before)", field, name,
                       kind_name(kind), kind_name(have_kind));
            return -1;
        }
        *index = b->last = i;
        return 0;
    }
    int rc = ac_episode_add_participant(b->ep, name, kind, index);
    if (rc != AC_OK) {
        imp_report(b->sink, IMP_ERROR, b->where,
                   "%s: participant \"%s\": %s: %s", field, name,
                   ac_strerror(rc), ac_episode_last_error(b->ep));
        return -1;
    }
    b->last = *index;
    return 0;
}

int imp_calls_text(imp_episode *b, const char *field, const json_t *calls,
                   imp_text *out)
{
    for (size_t c = 0; c < json_array_size(calls); c++) {
        const json_t *fn = json_object_get(json_array_get(calls, c),
                                           "function");
        const json_t *name = json_object_get(fn, "name");
        if (!json_is_string(name)) {
            imp_report(b->sink, IMP_ERROR, b->where, "%s.tool_calls[%zu]: "
                       "no function.name", field, c);
            return -1;
        }
        if (imp_call_line(out, json_string_value(name),
                          json_string_length(name),
                          json_object_get(fn, "arguments")) != 0) {
            imp_report(b->sink, IMP_ERROR, b->where, "%s: out of memory",
                       field);
            return -1;
        }
    }
    return 0;
}

int imp_episode_message(imp_episode *b, const char *field,
                        uint32_t participant, const char *role,
                        const char *text, uint32_t *index)
{
    int rc = ac_episode_add_message(b->ep, participant, role, text, index);
    if (rc != AC_OK) {
        imp_report(b->sink, IMP_ERROR, b->where, "%s: %s: %s", field,
                   ac_strerror(rc), ac_episode_last_error(b->ep));
        return -1;
    }
    return 0;
}

int imp_episode_parent(imp_episode *b, uint32_t message, uint32_t parent)
{
    int rc = ac_episode_set_parent(b->ep, message, parent);
    if (rc != AC_OK) {
        imp_report(b->sink, IMP_ERROR, b->where, "message %" PRIu32
                   ": parent %" PRIu32 ": %s: %s", message, parent,
                   ac_strerror(rc), ac_episode_last_error(b->ep));
        return -1;
    }
    return 0;
}

int imp_episode_first_error(imp_episode *b, const char *label, int64_t step)
{
    uint32_t messages = 0, who = 0, agent = 0;
    const char *name = NULL;
    int32_t kind = 0;
    if (ac_episode_counts(b->ep, NULL, NULL, &messages) != AC_OK)
        messages = 0;
    if (step < 0 || step >= (int64_t)messages) {
        imp_report(b->sink, IMP_WARNING, b->where,
                   "%s: message %" PRId64 " is out of range (%" PRIu32
                   " messages); no first-error annotation", label, step,
                   messages);
        return 0;
    }
    if (ac_episode_message(b->ep, (uint32_t)step, &who, NULL, NULL) !=
            AC_OK ||
        ac_episode_participant(b->ep, who, &name, &kind) != AC_OK)
        return 0;
    if (ac_episode_agent_of(b->ep, who, &agent) != AC_OK) {
        imp_report(b->sink, IMP_WARNING, b->where,
                   "%s: message %" PRId64 " is by \"%s\", a %s, not an "
                   "agent; no first-error annotation", label, step, name,
                   kind_name(kind));
        return 0;
    }
    int rc = ac_episode_set_first_error_label(b->ep, (uint32_t)step);
    if (rc != AC_OK) {
        imp_report(b->sink, IMP_WARNING, b->where,
                   "%s: %s; no first-error annotation", label,
                   ac_episode_last_error(b->ep));
        return 0;
    }
    return 1;
}

int imp_episode_emit(imp_episode *b)
{
    int stop = b->sink->episode(b->sink->user, b->ep);
    imp_episode_drop(b);
    return stop ? IMP_STOPPED : 0;
}

void imp_episode_drop(imp_episode *b)
{
    ac_episode_free(b->ep);
    b->ep = NULL;
}

/* One call as the episode keeps it: {"id"?, "type": "function",
 * "function": {"name", "arguments"}}, without the log's other keys. The
 * arguments: a string or an object as given, "{}" when null or absent
 * (no arguments), any other value as its JSON text. NULL when memory is
 * short. */
static json_t *episode_call(const json_t *id, const json_t *name,
                            const json_t *args)
{
    json_t *a = NULL;
    if (json_is_string(args) || json_is_object(args))
        a = json_copy((json_t *)args);
    else if (args == NULL || json_is_null(args))
        a = json_string("{}");
    else {
        char *text = json_dumps(args, JSON_COMPACT | JSON_ENCODE_ANY);
        a = text != NULL ? json_string(text) : NULL;
        free(text);
    }
    json_t *call = json_is_string(id)
                       ? json_pack("{sOss}", "id", (json_t *)id, "type",
                                   "function")
                       : json_pack("{ss}", "type", "function");
    json_t *fn = json_pack("{sOso}", "name", (json_t *)name, "arguments", a);
    if (call == NULL || fn == NULL || json_object_set_new(call, "function",
                                                          fn) != 0) {
        json_decref(call);
        json_decref(fn);
        return NULL;
    }
    return call;
}

int imp_episode_tools(imp_episode *b, const char *field, uint32_t at,
                      const json_t *calls, const json_t *fcall,
                      const char *call_id, const char *name)
{
    json_t *list = json_array();
    int ok = list != NULL;
    for (size_t c = 0; ok && c < json_array_size(calls); c++) {
        const json_t *call = json_array_get(calls, c);
        const json_t *fn = json_object_get(call, "function");
        ok = json_array_append_new(
                 list, episode_call(json_object_get(call, "id"),
                                    json_object_get(fn, "name"),
                                    json_object_get(fn, "arguments"))) == 0;
    }
    if (ok && json_is_object(fcall))
        ok = json_array_append_new(
                 list, episode_call(NULL, json_object_get(fcall, "name"),
                                    json_object_get(fcall, "arguments"))) ==
             0;
    char *text = ok ? json_dumps(list, JSON_COMPACT) : NULL;
    json_decref(list);
    if (text == NULL) {
        imp_report(b->sink, IMP_ERROR, b->where, "%s: out of memory", field);
        return -1;
    }
    const char *key = "tool_calls";
    int rc = ac_episode_set_tool_calls(b->ep, at, text, strlen(text));
    free(text);
    if (rc == AC_OK && call_id != NULL && call_id[0] != '\0')
        key = "tool_call_id",
        rc = ac_episode_set_tool_call_id(b->ep, at, call_id);
    if (rc == AC_OK && name != NULL && name[0] != '\0')
        key = "name", rc = ac_episode_set_message_name(b->ep, at, name);
    if (rc != AC_OK) {
        imp_report(b->sink, IMP_ERROR, b->where, "%s.%s: %s: %s", field, key,
                   ac_strerror(rc), ac_episode_last_error(b->ep));
        return -1;
    }
    return 0;
}
