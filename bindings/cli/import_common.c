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

int imp_episode_begin(imp_episode *b, const char *where, const imp_sink *sink,
                      const char *id, double outcome, double threshold)
{
    b->ep = NULL;
    b->where = where;
    b->sink = sink;
    b->last = 0;
    int rc = ac_episode_create(&b->ep, NULL);
    if (rc == AC_OK)
        rc = ac_episode_set_id(b->ep, id);
    if (rc == AC_OK)
        rc = ac_episode_set_outcome(b->ep, outcome);
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

int imp_episode_participant(imp_episode *b, const char *name, int32_t kind,
                            uint32_t *index)
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
                       "participant \"%s\" is named as two kinds of "
                       "participant", name);
            return -1;
        }
        *index = b->last = i;
        return 0;
    }
    int rc = ac_episode_add_participant(b->ep, name, kind, index);
    if (rc != AC_OK) {
        imp_report(b->sink, IMP_ERROR, b->where, "participant \"%s\": %s: %s",
                   name, ac_strerror(rc), ac_episode_last_error(b->ep));
        return -1;
    }
    b->last = *index;
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
