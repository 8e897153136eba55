/* What the JSON readers and writers of episodes and signals share: the
 * limits and the checks of a text before jansson parses it, the parse,
 * the caller's error buffer, and the builders and the dump of the
 * writers. */
#ifndef AC_JSON_IO_H
#define AC_JSON_IO_H

#include <jansson.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "agentcredit.h"
#include "common/errors.h"

/* Compact, and every double written so that it reads back exactly. */
#define AC__JSON_DUMP_FLAGS (JSON_COMPACT | JSON_REAL_PRECISION(17))

/* The host's limits (NULL: the defaults; a field of 0 keeps its default)
 * into *out; AC_E_INVALID_ARG (message in err) when malformed. */
int ac__json_resolve_limits(ac_json_limits *out, const ac_json_limits *in,
                            char *err);
/* The text against the limits, before jansson sees it: its size, a byte
 * no JSON holds, and the parse's memory estimated from a scan (a
 * handle's copies of the strings are at most the text again). */
int ac__json_check_text(const ac_json_limits *lim, const char *text,
                        size_t len, char *err);
/* The text parsed (duplicate keys refused); NULL with *rc AC_E_PARSE
 * naming line and column, or AC_E_NO_MEMORY. */
json_t *ac__json_parse_text(const char *text, size_t len, char *err,
                            int *rc);
/* A reader's first steps: the arguments (AC_E_INVALID_ARG, message in
 * err), the limits, the text against them, the parse into *root. */
int ac__json_open(const void *out, const char *text, size_t len,
                  uint32_t flags, const ac_json_limits *limits, char *err,
                  json_t **root);
/* AC_E_PARSE, after the message "PATH: WHAT" into err (AC__ERRMSG_CAP
 * bytes): a field's error, the form of every reader's. */
int ac__json_fail_at(char *err, const char *path, const char *fmt,
                     va_list ap);
/* The same with the arguments: every reader's fail_at. */
int ac__json_fail(char *err, const char *path, const char *fmt, ...)
    AC__PRINTF(3, 4);
/* rc, after its message (ac_strerror's when msg is "") into the caller's
 * buffer when there is one. */
int ac__json_copy_out(char *buf, size_t cap, int rc, const char *msg);
/* The text of root into buf, snprintf-style, root released; ok 0 (a
 * builder failed) is AC_E_NO_MEMORY. */
int ac__json_dump(json_t *root, int ok, char *buf, size_t cap, size_t *len);

/* Builders: a NULL from any jansson call makes the whole build NULL (out
 * of memory), which the writers report through *ok. */
static inline void put(json_t *obj, const char *key, json_t *value, int *ok)
{
    if (value == NULL || json_object_set_new(obj, key, value) != 0)
        *ok = 0;
}

static inline void push(json_t *arr, json_t *value, int *ok)
{
    if (value == NULL || json_array_append_new(arr, value) != 0)
        *ok = 0;
}

#endif
