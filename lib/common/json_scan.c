#include "common/json_scan.h"

#include <stdio.h>
#include <string.h>

#include "agentcredit.h"
#include "common/errors.h"

/* Bytes jansson 2.13/2.14 takes at most per value, malloc's overhead
 * included (measured with a counting json_set_alloc_funcs: an empty
 * object 238, an empty array 142, a string 94 + its length, a member of
 * an object 126, a number 49, each with its slot in its container; true,
 * false and null are shared, only their slot: 8 to 21 as arrays grow). */
#define SCAN_OBJECT 256u
#define SCAN_ARRAY 160u
#define SCAN_STRING 112u
#define SCAN_NUMBER 56u
#define SCAN_LITERAL 24u

void ac__json_scan_feed(ac__json_scan *s, const char *text, size_t len)
{
    for (size_t k = 0; k < len; k++) {
        unsigned char c = (unsigned char)text[k];
        if (c < 0x20 && c != '\t' && c != '\n' && c != '\r' && !s->bad) {
            s->bad = c + 1;
            s->bad_at = s->bytes + k;
        }
        if (s->in_string) {
            if (s->escape)
                s->escape = 0;
            else if (c == '\\')
                s->escape = 1;
            else if (c == '"')
                s->in_string = 0;
            continue;
        }
        int scalar = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
                     (c >= 'A' && c <= 'Z') || c == '-' || c == '+' ||
                     c == '.';
        if (scalar && !s->in_scalar) {
            if (c == 't' || c == 'f' || c == 'n')
                s->literals++;
            else
                s->numbers++;
        }
        s->in_scalar = scalar;
        if (c == '"') {
            s->in_string = 1;
            s->strings++;
        } else if (c == '{') {
            s->objects++;
        } else if (c == '[') {
            s->arrays++;
        }
    }
    s->bytes += len;
}

uint64_t ac__json_scan_tree_bytes(const ac__json_scan *s)
{
    return SCAN_OBJECT * s->objects + SCAN_ARRAY * s->arrays +
           SCAN_STRING * s->strings + SCAN_NUMBER * s->numbers +
           SCAN_LITERAL * s->literals + s->bytes;
}

uint64_t ac__json_scan_values(const ac__json_scan *s)
{
    return s->objects + s->arrays + s->strings + s->numbers + s->literals;
}


void ac__json_warnings_init(ac__json_warnings *w, char *buf, size_t cap,
                            uint32_t flags)
{
    w->buf = cap > 0 ? buf : NULL;
    w->cap = w->buf != NULL ? cap : 0;
    w->len = 0;
    w->flags = flags;
    ac__json_warnings_clear(w);
}

void ac__json_warnings_clear(ac__json_warnings *w)
{
    w->len = 0;
    if (w->buf != NULL)
        w->buf[0] = '\0';
}

int ac__json_key_in(const char *key, const char *const *list)
{
    for (; *list != NULL; list++)
        if (strcmp(key, *list) == 0)
            return 1;
    return 0;
}

int ac__json_unknown_key(ac__json_warnings *w, const char *path,
                         const char *key, char *err)
{
    if (w->flags & AC_JSON_STRICT)
        return ac__fail(err, AC_E_PARSE,
                        "%s: unknown key \"%s\" (AC_JSON_STRICT)", path, key);
    if (w->buf == NULL || w->len + 1 >= w->cap)
        return AC_OK;
    int n = snprintf(w->buf + w->len, w->cap - w->len,
                     "%s%s.%s: unknown key, ignored", w->len ? "\n" : "",
                     path, key);
    if (n > 0)
        w->len += (size_t)n;
    if (w->len >= w->cap)
        w->len = w->cap - 1;
    return AC_OK;
}

int ac__json_check_keys(ac__json_warnings *w, json_t *obj,
                        const char *path, const char *const *known,
                        char *err)
{
    const char *key;
    json_t *value;
    json_object_foreach(obj, key, value) {
        (void)value;
        if (ac__json_key_in(key, known))
            continue;
        int rc = ac__json_unknown_key(w, path, key, err);
        if (rc != AC_OK)
            return rc;
    }
    return AC_OK;
}
