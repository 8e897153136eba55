/* A lexical pass over a JSON text, before jansson builds its tree (which
 * does not go through the host's allocator, and can take 80 bytes for each
 * byte of text: "[{},{},...]"). It counts the values of each kind, from
 * which the tree's size is bounded, and finds the first byte no JSON text
 * may hold. Fed in pieces, so that a file is judged while it is read. Every
 * JSON parser of the library (games, episodes) checks its limits with it. */
#ifndef AC_JSON_SCAN_H
#define AC_JSON_SCAN_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

typedef struct ac__json_scan {
    uint64_t bytes, objects, arrays, strings, numbers, literals;
    uint64_t bad_at; /* offset of the first control byte, if bad */
    int bad;         /* that byte + 1, or 0                      */
    int in_string, escape, in_scalar;
} ac__json_scan;

void ac__json_scan_feed(ac__json_scan *s, const char *text, size_t len);
/* An upper bound of what jansson allocates for the scanned text. */
uint64_t ac__json_scan_tree_bytes(const ac__json_scan *s);
/* The values scanned, of every kind. */
uint64_t ac__json_scan_values(const ac__json_scan *s);

/* Unknown keys, the one rule of every JSON reader of the library: a key
 * it does not know is a warning line "PATH.KEY: unknown key, ignored"
 * (lines joined by '\n', truncated to the caller's buffer), or, with
 * AC_JSON_STRICT in flags, an AC_E_PARSE error naming it. */
typedef struct ac__json_warnings {
    char *buf; /* the caller's warn_buf, or NULL */
    size_t cap, len;
    uint32_t flags;
} ac__json_warnings;

/* Starts the warnings in buf (cap bytes; "" written when it holds one). */
void ac__json_warnings_init(ac__json_warnings *w, char *buf, size_t cap,
                            uint32_t flags);
/* Forgets them: a failed read leaves no warnings behind. */
void ac__json_warnings_clear(ac__json_warnings *w);
/* 1 when key is in the NULL-terminated list. */
int ac__json_key_in(const char *key, const char *const *list);
/* The unknown key `key` of the object at `path`: AC_OK after its warning,
 * or AC_E_PARSE (message in err, AC__ERRMSG_CAP bytes) under strict. */
int ac__json_unknown_key(ac__json_warnings *w, const char *path,
                         const char *key, char *err);
/* Every key of the object obj not in `known`, reported as above; the
 * first error stops it. */
int ac__json_check_keys(ac__json_warnings *w, json_t *obj,
                        const char *path, const char *const *known,
                        char *err);

#endif
