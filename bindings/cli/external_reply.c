/* SPDX-License-Identifier: MIT
 * agentcredit signals: the external programs' reply lines (external_reply.h). */
#include "external_reply.h"

#include <jansson.h>

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const char *ext_kind_name(ext_kind kind)
{
    static const char *const names[EXT_KINDS] = {"values", "verdicts",
                                                 "labels", "repair", "check"};
    return (unsigned)kind < EXT_KINDS ? names[kind] : "unknown";
}

static ext_reply_status bad(char *why, size_t cap, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

static ext_reply_status bad(char *why, size_t cap, const char *fmt, ...)
{
    if (why != NULL && cap > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(why, cap, fmt, ap);
        va_end(ap);
    }
    return EXT_REPLY_BAD;
}

/* Python's json.dumps writes NaN and Infinity, which are not JSON: a reply
 * holding one outside a string gets a message that says so, not
 * jansson's "invalid token". */
static int has_non_json_number(const char *text, size_t len)
{
    int in_string = 0;
    for (size_t k = 0; k < len; k++) {
        char c = text[k];
        if (in_string) {
            if (c == '\\')
                k++;
            else if (c == '"')
                in_string = 0;
        } else if (c == '"') {
            in_string = 1;
        } else if ((c == 'N' && len - k >= 3 && memcmp(text + k, "NaN", 3) == 0) ||
                   (c == 'I' && len - k >= 8 &&
                    memcmp(text + k, "Infinity", 8) == 0)) {
            return 1;
        }
    }
    return 0;
}

/* The range of a kind's answers. */
static void answer_range(ext_kind kind, double *lo, double *hi)
{
    *lo = kind == EXT_LABELS ? -1.0 : 0.0;
    *hi = 1.0;
    if (kind == EXT_VALUES) {
        *lo = -HUGE_VAL;
        *hi = HUGE_VAL;
    }
}

static ext_reply_status parse_answers(ext_kind kind, json_t *arr,
                                      uint32_t count, double *answers,
                                      int32_t *status, char *why, size_t cap)
{
    if (!json_is_array(arr))
        return bad(why, cap, "\"answers\" is not an array");
    if (json_array_size(arr) != count)
        return bad(why, cap, "\"answers\" has %zu entries, the request asked "
                   "for %u", json_array_size(arr), count);
    double lo, hi;
    answer_range(kind, &lo, &hi);
    for (uint32_t k = 0; k < count; k++) {
        json_t *a = json_array_get(arr, k);
        if (json_is_null(a)) {
            answers[k] = NAN;
            status[k] = 1;
            continue;
        }
        if (!json_is_number(a))
            return bad(why, cap, "answers[%u] is not a number or null", k);
        double v = json_number_value(a);
        if (!isfinite(v) || v < lo || v > hi)
            return bad(why, cap, "answers[%u] = %.17g is outside [%g, %g]", k,
                       v, lo, hi);
        answers[k] = v;
        status[k] = 0;
    }
    return EXT_REPLY_OK;
}

static ext_reply_status parse_candidates(json_t *arr, uint32_t max,
                                         uint64_t *ids, uint32_t *n_ids,
                                         char *why, size_t cap)
{
    if (!json_is_array(arr))
        return bad(why, cap, "\"candidates\" is not an array");
    if (json_array_size(arr) > max)
        return bad(why, cap, "\"candidates\" has %zu entries, the request "
                   "asked for at most %u", json_array_size(arr), max);
    uint32_t n = (uint32_t)json_array_size(arr);
    for (uint32_t k = 0; k < n; k++) {
        json_t *c = json_array_get(arr, k);
        if (!json_is_integer(c) || json_integer_value(c) < 0)
            return bad(why, cap, "candidates[%u] is not an integer id in "
                       "[0, 2^63)", k);
        ids[k] = (uint64_t)json_integer_value(c);
    }
    *n_ids = n;
    return EXT_REPLY_OK;
}

static ext_reply_status parse_object(ext_kind kind, json_t *root,
                                     uint32_t count, double *answers,
                                     int32_t *status, uint64_t *ids,
                                     uint32_t *n_ids, char *why, size_t cap)
{
    const char *want = kind == EXT_REPAIR ? "candidates" : "answers";
    const char *key;
    json_t *value;
    json_object_foreach(root, key, value)
    {
        if (strcmp(key, want) != 0 && strcmp(key, "error") != 0)
            return bad(why, cap, "unknown key \"%s\" (a reply to \"%s\" "
                       "holds \"%s\" or \"error\")", key, ext_kind_name(kind),
                       want);
    }
    json_t *error = json_object_get(root, "error");
    if (error != NULL) {
        if (!json_is_string(error))
            return bad(why, cap, "\"error\" is not a string");
        snprintf(why, cap, "%s", json_string_value(error));
        return EXT_REPLY_REFUSED;
    }
    json_t *arr = json_object_get(root, want);
    if (arr == NULL)
        return bad(why, cap, "no \"%s\" (a reply to \"%s\" holds \"%s\" or "
                   "\"error\")", want, ext_kind_name(kind), want);
    return kind == EXT_REPAIR
               ? parse_candidates(arr, count, ids, n_ids, why, cap)
               : parse_answers(kind, arr, count, answers, status, why, cap);
}

ext_reply_status ext_reply_parse(ext_kind kind, const char *text, size_t len,
                                 uint32_t count, double *answers,
                                 int32_t *status, uint64_t *ids,
                                 uint32_t *n_ids, char *why, size_t why_cap)
{
    if (why != NULL && why_cap > 0)
        why[0] = '\0';
    if ((unsigned)kind >= EXT_KINDS)
        return bad(why, why_cap, "unknown request kind %d", (int)kind);
    json_error_t err;
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &err);
    if (root == NULL)
        return has_non_json_number(text, len)
                   ? bad(why, why_cap, "NaN and Infinity are not JSON "
                         "numbers (write null for a failed answer)")
                   : bad(why, why_cap, "not JSON: column %d: %s", err.column,
                         err.text);
    ext_reply_status rc =
        json_is_object(root)
            ? parse_object(kind, root, count, answers, status, ids, n_ids,
                           why, why_cap)
            : bad(why, why_cap, "not a JSON object");
    json_decref(root);
    return rc;
}
