/* What the JSON readers and writers of episodes (episode_json.c) and
 * signals (signals_json.c) share: json_io.h. */
#include <stdio.h>
#include <string.h>

#include "common/errors.h"
#include "common/json_scan.h"
#include "episodes/json_io.h"

int ac__json_resolve_limits(ac_json_limits *out, const ac_json_limits *in,
                          char *err)
{
    ac_json_limits_default(out);
    if (in == NULL)
        return AC_OK;
    if (in->struct_size != sizeof *in || in->reserved != 0)
        return ac__fail(err, AC_E_INVALID_ARG, "malformed ac_json_limits "
                        "(struct_size %u, expected %zu; reserved %u)",
                        in->struct_size, sizeof *in, in->reserved);
    if (in->max_bytes != 0)
        out->max_bytes = in->max_bytes;
    if (in->max_memory != 0)
        out->max_memory = in->max_memory;
    return AC_OK;
}

/* What a loaded text may cost beyond jansson's tree: the copies of its
 * strings (at most the text again) and, for an episode, the canonical
 * texts of its tool calls: the text again, but for the "type" a call may
 * not have given (TOOL_TYPE_BYTES an object at most) and the numbers of
 * arguments objects, which "%.17g" may write longer than they were given
 * (TOOL_NUMBER_BYTES at most: "-2.2250738585072014e-308"). */
#define TOOL_TYPE_BYTES 18u
#define TOOL_NUMBER_BYTES 24u

/* The text against the limits, before jansson sees it: its size, a byte
 * no JSON holds, and the parse's memory estimated from a scan (the
 * episode's copies of the strings are at most the text again). */
int ac__json_check_text(const ac_json_limits *lim, const char *text,
                      size_t len, char *err)
{
    if (len > lim->max_bytes)
        return ac__fail(err, AC_E_TOO_LARGE, "the text is %zu bytes, more "
                        "than max_bytes = %llu; raise ac_json_limits."
                        "max_bytes to load it", len,
                        (unsigned long long)lim->max_bytes);
    ac__json_scan sc;
    memset(&sc, 0, sizeof sc);
    ac__json_scan_feed(&sc, text, len);
    if (sc.bad)
        return ac__fail(err, AC_E_PARSE, "byte %llu is 0x%02x, which no "
                        "JSON text holds", (unsigned long long)sc.bad_at,
                        (unsigned)(sc.bad - 1));
    uint64_t need = ac__json_scan_tree_bytes(&sc) + 2 * (uint64_t)len +
                    TOOL_TYPE_BYTES * sc.objects +
                    TOOL_NUMBER_BYTES * sc.numbers;
    if (need > lim->max_memory)
        return ac__fail(err, AC_E_TOO_LARGE, "parsing the text (%llu "
                        "values) may take %llu bytes, more than max_memory "
                        "= %llu; raise ac_json_limits.max_memory to load it",
                        (unsigned long long)ac__json_scan_values(&sc),
                        (unsigned long long)need,
                        (unsigned long long)lim->max_memory);
    return AC_OK;
}

json_t *ac__json_parse_text(const char *text, size_t len, char *err, int *rc)
{
    json_error_t jerr;
    memset(&jerr, 0, sizeof jerr);
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    *rc = AC_OK;
    if (root == NULL && (jerr.text[0] == '\0' ||
                         json_error_code(&jerr) == json_error_out_of_memory))
        *rc = ac__fail(err, AC_E_NO_MEMORY, "out of memory parsing the JSON "
                       "text (jansson)");
    else if (root == NULL)
        *rc = ac__fail(err, AC_E_PARSE, "line %d, column %d: %s", jerr.line,
                       jerr.column, jerr.text);
    return root;
}

int ac__json_open(const void *out, const char *text, size_t len,
                  uint32_t flags, const ac_json_limits *limits, char *err,
                  json_t **root)
{
    *root = NULL;
    if (out == NULL || text == NULL || (flags & ~AC_JSON_STRICT) != 0)
        return ac__fail(err, AC_E_INVALID_ARG, "out and text must not be "
                        "NULL, flags only AC_JSON_STRICT");
    ac_json_limits lim;
    int rc = ac__json_resolve_limits(&lim, limits, err);
    if (rc == AC_OK)
        rc = ac__json_check_text(&lim, text, len, err);
    if (rc == AC_OK)
        *root = ac__json_parse_text(text, len, err, &rc);
    return rc;
}

int ac__json_fail_at(char *err, const char *path, const char *fmt,
                     va_list ap)
{
    char what[AC__ERRMSG_CAP];
    vsnprintf(what, sizeof what, fmt, ap);
    return ac__fail(err, AC_E_PARSE, "%s: %s", path, what);
}

int ac__json_fail(char *err, const char *path, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = ac__json_fail_at(err, path, fmt, ap);
    va_end(ap);
    return rc;
}

int ac__json_copy_out(char *buf, size_t cap, int rc, const char *msg)
{
    if (buf != NULL && cap > 0)
        snprintf(buf, cap, "%s",
                 rc != AC_OK && msg[0] == '\0' ? ac_strerror(rc) : msg);
    return rc;
}

/* The text of root into buf, snprintf-style. */
/* One pass when the text fits: json_dumpb writes what fits and returns
 * the whole length, so a caller with room pays one dump, not two. */
int ac__json_dump(json_t *root, int ok, char *buf, size_t cap, size_t *len)
{
    size_t need = ok ? json_dumpb(root, cap > 0 ? buf : NULL,
                                  cap > 0 ? cap - 1 : 0, AC__JSON_DUMP_FLAGS)
                     : 0;
    json_decref(root);
    if (need == 0)
        return AC_E_NO_MEMORY;
    *len = need;
    if (cap > need)
        buf[need] = '\0';
    else if (cap > 0)
        buf[0] = '\0'; /* too small: nothing partial */
    return AC_OK;
}

