/* The chosen side of repair pairs, from the host: {"<episode id>":
 * {"<candidate id>": text or assistant message}}, checked whole when
 * loaded so that a conversion never meets a malformed one. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "episodes/json_io.h"
#include "exports/export_internal.h"

/* A candidate id: the decimal digits of a uint64 (the pair's chosen). */
static int is_id(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 20 || (n > 1 && s[0] == '0'))
        return 0;
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return 0;
    return n < 20 || strcmp(s, "18446744073709551615") <= 0;
}

static int check_call(char *err, const char *at, size_t k, const json_t *call)
{
    char path[AC__ERRMSG_CAP + 48];
    snprintf(path, sizeof path, "%s.tool_calls[%zu]", at, k);
    const char *key;
    const json_t *v;
    if (!json_is_object(call))
        return ac__json_fail(err, path, "an object is needed");
    json_object_foreach((json_t *)call, key, v) {
        if (strcmp(key, "id") != 0 && strcmp(key, "type") != 0 &&
            strcmp(key, "function") != 0)
            return ac__json_fail(err, path, "unknown key \"%s\"", key);
        if (strcmp(key, "function") != 0 && !json_is_string(v))
            return ac__json_fail(err, path, "%s: a string is needed", key);
    }
    const json_t *fn = json_object_get(call, "function");
    if (!json_is_string(json_object_get(fn, "name")))
        return ac__json_fail(err, path, "function.name: a string is needed");
    const json_t *args = json_object_get(fn, "arguments");
    if (!json_is_string(args) && !json_is_object(args))
        return ac__json_fail(err, path, "function.arguments: a string or "
                             "an object is needed");
    return AC_OK;
}

static int check_message(char *err, const char *at, const json_t *m)
{
    const char *key;
    const json_t *v;
    json_object_foreach((json_t *)m, key, v) {
        if (strcmp(key, "role") == 0) {
            if (!json_is_string(v) ||
                strcmp(json_string_value(v), "assistant") != 0)
                return ac__json_fail(err, at, "role: \"assistant\" is "
                                     "needed (the erring agent's turn)");
        } else if (strcmp(key, "content") == 0) {
            if (!json_is_string(v) && !json_is_null(v))
                return ac__json_fail(err, at, "content: a string or null "
                                     "is needed");
        } else if (strcmp(key, "tool_calls") == 0) {
            if (!json_is_array(v))
                return ac__json_fail(err, at, "tool_calls: an array is "
                                     "needed");
            size_t k;
            const json_t *call;
            json_array_foreach(v, k, call) {
                int rc = check_call(err, at, k, call);
                if (rc != AC_OK)
                    return rc;
            }
        } else {
            return ac__json_fail(err, at, "unknown key \"%s\"", key);
        }
    }
    return AC_OK;
}

static int check_episode(char *err, const char *id, const json_t *cands)
{
    if (!json_is_object(cands)) {
        char at[AC__ERRMSG_CAP];
        snprintf(at, sizeof at, "\"%s\"", id);
        return ac__json_fail(err, at, "an object of candidates by id is "
                             "needed");
    }
    const char *key;
    const json_t *v;
    json_object_foreach((json_t *)cands, key, v) {
        char at[AC__ERRMSG_CAP];
        snprintf(at, sizeof at, "\"%s\".\"%s\"", id, key);
        if (!is_id(key))
            return ac__json_fail(err, at, "a candidate id is the decimal "
                                 "digits of a uint64");
        if (!json_is_string(v) && !json_is_object(v))
            return ac__json_fail(err, at, "a text or an assistant message "
                                 "is needed");
        int rc = json_is_object(v) ? check_message(err, at, v) : AC_OK;
        if (rc != AC_OK)
            return rc;
    }
    return AC_OK;
}

int ac__export_read_candidates(ac_export *x, json_t *root)
{
    int rc = json_is_object(root)
                 ? AC_OK
                 : ac__json_fail(x->err, "(top)", "an object of episodes by "
                                 "id is needed");
    const char *id;
    const json_t *cands;
    json_object_foreach(root, id, cands) {
        if (rc != AC_OK)
            break;
        rc = check_episode(x->err, id, cands);
    }
    if (rc != AC_OK) {
        json_decref(root);
        return rc;
    }
    json_decref(x->candidates);
    x->candidates = root;
    return AC_OK;
}

const json_t *ac__export_candidate(const ac__xrun *r, uint64_t chosen)
{
    char key[24];
    snprintf(key, sizeof key, "%" PRIu64, chosen);
    return json_object_get(json_object_get(r->x->candidates, r->id), key);
}
