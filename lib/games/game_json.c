/* Reading reference games from JSON (format in agentcredit.h and
 * docs/estimators.md). Every rejection names the key and what was wrong. */
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/coalition.h"
#include "games/game_internal.h"

/* The keys every game may carry, then those of each kind (in the order of
 * the AC__GAME_* kinds). A key of another kind is as wrong as an unknown
 * one: it would be silently ignored. */
static const char *const COMMON_KEYS[] = {"n", "type", "exact", "noise",
                                          "name", "description", NULL};
static const char *const VALUES_KEYS[] = {"values", NULL};
static const char *const TERMS_KEYS[] = {"terms", NULL};
static const char *const AIRPORT_KEYS[] = {"costs", NULL};
static const char *const VOTING_KEYS[] = {"weights", "quota", NULL};
static const char *const *const KIND_KEYS[] = {VALUES_KEYS, TERMS_KEYS,
                                               AIRPORT_KEYS, VOTING_KEYS};
static const char *const KIND_NAMES[] = {"values", "terms", "airport", "voting"};
#define N_KINDS (sizeof KIND_KEYS / sizeof KIND_KEYS[0])

static int key_in(const char *key, const char *const *list)
{
    for (; *list != NULL; list++)
        if (strcmp(key, *list) == 0)
            return 1;
    return 0;
}

/* The kind whose data key this is, or -1. */
static int kind_of_key(const char *key)
{
    for (size_t k = 0; k < N_KINDS; k++)
        if (key_in(key, KIND_KEYS[k]))
            return (int)k;
    return -1;
}

/* Before the kind is known (kind < 0) only unknown keys are rejected. */
static int check_keys(json_t *root, int kind, char *err)
{
    const char *key;
    json_t *value;
    json_object_foreach(root, key, value) {
        (void)value;
        int owner = kind_of_key(key);
        if (key_in(key, COMMON_KEYS) || (owner >= 0 && (kind < 0 || owner == kind)))
            continue;
        if (owner >= 0)
            return ac__fail(err, AC_E_PARSE,
                            "key \"%s\" belongs to a %s game, not to this %s "
                            "game", key, KIND_NAMES[owner], KIND_NAMES[kind]);
        return ac__fail(err, AC_E_PARSE, "unknown key \"%s\" in the game", key);
    }
    return AC_OK;
}

/* A finite number (jansson accepts no NaN literal; overflowing reals and
 * huge integers are rejected here). */
static int get_number(json_t *j, const char *what, size_t index, double *out,
                      char *err)
{
    if (!json_is_number(j))
        return ac__fail(err, AC_E_PARSE, "\"%s\"[%zu] is not a number", what,
                        index);
    double v = json_number_value(j);
    if (!isfinite(v))
        return ac__fail(err, AC_E_PARSE, "\"%s\"[%zu] is not finite", what,
                        index);
    *out = v;
    return AC_OK;
}

/* Reads an array of exactly len finite numbers into a new buffer. */
static int read_numbers(ac_game *g, json_t *root, const char *key, size_t len,
                        double **out)
{
    json_t *arr = json_object_get(root, key);
    if (!json_is_array(arr))
        return ac__fail(g->err, AC_E_PARSE, "\"%s\" must be an array", key);
    if (json_array_size(arr) != len)
        return ac__fail(g->err, AC_E_PARSE,
                        "\"%s\" has %zu entries; %zu expected", key,
                        json_array_size(arr), len);
    double *x = ac__mem_alloc(&g->mem, len, sizeof *x);
    if (x == NULL)
        return ac__fail(g->err, AC_E_NO_MEMORY, "no memory for \"%s\"", key);
    for (size_t k = 0; k < len; k++) {
        int rc = get_number(json_array_get(arr, k), key, k, &x[k], g->err);
        if (rc != AC_OK) {
            ac__mem_free(&g->mem, x);
            return rc;
        }
    }
    *out = x;
    return AC_OK;
}

static int read_members(ac_game *g, json_t *members, uint32_t t)
{
    uint64_t *set = g->term_sets + (size_t)t * g->words;
    if (!json_is_array(members))
        return ac__fail(g->err, AC_E_PARSE,
                        "\"terms\"[%u].\"members\" must be an array", t);
    for (size_t k = 0; k < json_array_size(members); k++) {
        json_t *m = json_array_get(members, k);
        json_int_t i = json_is_integer(m) ? json_integer_value(m) : -1;
        if (i < 0 || i >= (json_int_t)g->n)
            return ac__fail(g->err, AC_E_PARSE,
                            "\"terms\"[%u].\"members\"[%zu] is not a player "
                            "index in 0..%u", t, k, g->n - 1);
        if (ac__bit_test(set, (uint32_t)i))
            return ac__fail(g->err, AC_E_PARSE,
                            "\"terms\"[%u].\"members\" names player %lld twice",
                            t, (long long)i);
        ac__bit_set(set, (uint32_t)i);
    }
    return AC_OK;
}

static int read_terms(ac_game *g, json_t *root)
{
    json_t *terms = json_object_get(root, "terms");
    if (!json_is_array(terms))
        return ac__fail(g->err, AC_E_PARSE, "\"terms\" must be an array");
    size_t nt = json_array_size(terms);
    if (nt > UINT32_MAX / 2)
        return ac__fail(g->err, AC_E_TOO_LARGE, "too many terms");
    g->n_terms = (uint32_t)nt;
    g->coefs = ac__mem_alloc(&g->mem, nt, sizeof *g->coefs);
    g->term_sets = ac__mem_calloc(&g->mem, nt * g->words, sizeof *g->term_sets);
    if (g->coefs == NULL || g->term_sets == NULL)
        return ac__fail(g->err, AC_E_NO_MEMORY, "no memory for %zu terms", nt);
    for (uint32_t t = 0; t < g->n_terms; t++) {
        json_t *term = json_array_get(terms, t);
        json_t *coef = json_object_get(term, "coef");
        if (!json_is_object(term) || json_object_size(term) != 2 ||
            coef == NULL || json_object_get(term, "members") == NULL)
            return ac__fail(g->err, AC_E_PARSE,
                            "\"terms\"[%u] must be {\"coef\": c, \"members\": "
                            "[...]}", t);
        int rc = get_number(coef, "terms.coef", t, &g->coefs[t], g->err);
        if (rc == AC_OK)
            rc = read_members(g, json_object_get(term, "members"), t);
        if (rc != AC_OK)
            return rc;
    }
    return AC_OK;
}

static int read_noise(ac_game *g, json_t *root)
{
    json_t *noise = json_object_get(root, "noise");
    if (noise == NULL)
        return AC_OK;
    const char *kind = json_string_value(json_object_get(noise, "kind"));
    if (!json_is_object(noise) || kind == NULL)
        return ac__fail(g->err, AC_E_PARSE,
                        "\"noise\" must be {\"kind\": \"gaussian\", \"sd\": s} "
                        "or {\"kind\": \"bernoulli\"}");
    if (strcmp(kind, "bernoulli") == 0 && json_object_size(noise) == 1) {
        g->noise = AC__NOISE_BERNOULLI;
        return AC_OK;
    }
    json_t *sd = json_object_get(noise, "sd");
    if (strcmp(kind, "gaussian") != 0 || json_object_size(noise) != 2 ||
        !json_is_number(sd) || !(json_number_value(sd) >= 0.0) ||
        !isfinite(json_number_value(sd)))
        return ac__fail(g->err, AC_E_PARSE,
                        "\"noise\": kind \"%s\" is not {\"kind\": \"gaussian\", "
                        "\"sd\": s >= 0} nor {\"kind\": \"bernoulli\"}", kind);
    g->noise = AC__NOISE_GAUSSIAN;
    g->noise_sd = json_number_value(sd);
    return AC_OK;
}

static int read_nonnegative(ac_game *g, json_t *root, const char *key)
{
    int rc = read_numbers(g, root, key, g->n, &g->numbers);
    for (uint32_t i = 0; rc == AC_OK && i < g->n; i++)
        if (g->numbers[i] < 0.0)
            rc = ac__fail(g->err, AC_E_PARSE, "\"%s\"[%u] is negative", key, i);
    return rc;
}

static int read_kind(ac_game *g, json_t *root)
{
    json_t *type = json_object_get(root, "type");
    const char *t = json_string_value(type);
    if (type != NULL && t == NULL)
        return ac__fail(g->err, AC_E_PARSE, "\"type\" must be a string");
    if (t != NULL && strcmp(t, "airport") == 0) {
        g->kind = AC__GAME_AIRPORT;
        return read_nonnegative(g, root, "costs");
    }
    if (t != NULL && strcmp(t, "voting") == 0) {
        g->kind = AC__GAME_VOTING;
        json_t *q = json_object_get(root, "quota");
        if (!json_is_number(q) || !isfinite(json_number_value(q)))
            return ac__fail(g->err, AC_E_PARSE,
                            "a voting game needs a finite \"quota\"");
        g->quota = json_number_value(q);
        return read_nonnegative(g, root, "weights");
    }
    if (t != NULL && strcmp(t, "values") != 0 && strcmp(t, "terms") != 0)
        return ac__fail(g->err, AC_E_PARSE,
                        "unknown game \"type\": \"%s\" (airport, voting, "
                        "values, terms)", t);
    if (t != NULL && json_object_get(root, t) == NULL)
        return ac__fail(g->err, AC_E_PARSE,
                        "\"type\": \"%s\" but no \"%s\" key", t, t);
    if (json_object_get(root, "values") != NULL) {
        g->kind = AC__GAME_VALUES;
        if (g->n > AC__GAME_TABLE_MAX_PLAYERS)
            return ac__fail(g->err, AC_E_TOO_LARGE,
                            "a value table takes at most %u players",
                            AC__GAME_TABLE_MAX_PLAYERS);
        return read_numbers(g, root, "values", (size_t)1 << g->n, &g->values);
    }
    if (json_object_get(root, "terms") != NULL) {
        g->kind = AC__GAME_TERMS;
        return read_terms(g, root);
    }
    return ac__fail(g->err, AC_E_PARSE,
                    "the game has no \"values\", \"terms\" or \"type\"");
}

static int read_players(json_t *root, uint32_t *n, char *err)
{
    json_t *jn = json_object_get(root, "n");
    if (!json_is_integer(jn))
        return ac__fail(err, AC_E_PARSE, "\"n\" (the number of players) must "
                        "be an integer");
    json_int_t v = json_integer_value(jn);
    if (v < 1)
        return ac__fail(err, AC_E_PARSE, "\"n\" = %lld: a game needs at least "
                        "one player", (long long)v);
    if (v > (json_int_t)AC_MAX_PLAYERS)
        return ac__fail(err, AC_E_TOO_LARGE,
                        "\"n\" = %lld is more than %u players", (long long)v,
                        AC_MAX_PLAYERS);
    *n = (uint32_t)v;
    return AC_OK;
}

/* Bernoulli draws need probabilities: check what can be checked up front
 * (a table, airport costs); sums of terms are checked at each draw. */
static int check_probabilities(ac_game *g)
{
    const double *x = g->kind == AC__GAME_VALUES    ? g->values
                      : g->kind == AC__GAME_AIRPORT ? g->numbers
                                                     : NULL;
    uint64_t len = g->kind == AC__GAME_VALUES ? (uint64_t)1 << g->n : g->n;
    for (uint64_t k = 0; x != NULL && k < len; k++)
        if (!(x[k] >= 0.0 && x[k] <= 1.0))
            return ac__fail(g->err, AC_E_PARSE,
                            "bernoulli noise needs probabilities, but \"%s\"[%llu]"
                            " = %g is outside [0, 1]",
                            g->kind == AC__GAME_VALUES ? "values" : "costs",
                            (unsigned long long)k, x[k]);
    return AC_OK;
}

static int parse_game(ac_game *g, json_t *root)
{
    int rc = check_keys(root, -1, g->err);
    if (rc == AC_OK)
        rc = read_kind(g, root);
    if (rc == AC_OK)
        rc = check_keys(root, g->kind, g->err);
    if (rc == AC_OK && json_object_get(root, "exact") != NULL)
        rc = read_numbers(g, root, "exact", g->n, &g->exact);
    if (rc == AC_OK)
        rc = read_noise(g, root);
    if (rc == AC_OK && g->noise == AC__NOISE_BERNOULLI)
        rc = check_probabilities(g);
    return rc;
}

static int report(char *buf, size_t cap, int status, const char *msg)
{
    if (buf != NULL && cap > 0)
        snprintf(buf, cap, "%s", status != AC_OK && msg[0] == '\0'
                                     ? ac_strerror(status) : msg);
    return status;
}

int ac_game_load_json(ac_game **out, const char *text, size_t len,
                      const ac_allocator *alloc, char *err_buf,
                      size_t err_cap)
{
    if (out == NULL || text == NULL)
        return report(err_buf, err_cap, AC_E_INVALID_ARG,
                      "out and text must not be NULL");
    ac__mem mem;
    int rc = ac__mem_init(&mem, alloc);
    if (rc != AC_OK)
        return report(err_buf, err_cap, rc, "malformed ac_allocator");
    json_error_t jerr;
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    char err[AC__ERRMSG_CAP] = "";
    uint32_t n = 0;
    if (root == NULL)
        rc = ac__fail(err, AC_E_PARSE, "JSON error at line %d, column %d: %s",
                      jerr.line, jerr.column, jerr.text);
    else if (!json_is_object(root))
        rc = ac__fail(err, AC_E_PARSE, "a game must be a JSON object");
    else
        rc = read_players(root, &n, err);
    ac_game *g = NULL;
    if (rc == AC_OK)
        rc = ac__game_new(&g, &mem, n);
    if (rc == AC_OK)
        rc = parse_game(g, root);
    if (rc != AC_OK && g != NULL)
        snprintf(err, sizeof err, "%s", g->err);
    json_decref(root);
    ac_game_free(rc == AC_OK ? NULL : g);
    if (rc != AC_OK)
        return report(err_buf, err_cap, rc, err);
    *out = g;
    return report(err_buf, err_cap, AC_OK, "");
}

int ac_game_load_file(ac_game **out, const char *path,
                      const ac_allocator *alloc, char *err_buf, size_t err_cap)
{
    if (out == NULL || path == NULL)
        return report(err_buf, err_cap, AC_E_INVALID_ARG,
                      "out and path must not be NULL");
    FILE *f = fopen(path, "rb");
    char msg[AC__ERRMSG_CAP];
    if (f == NULL) {
        snprintf(msg, sizeof msg, "cannot open %s: %s", path, strerror(errno));
        return report(err_buf, err_cap, AC_E_IO, msg);
    }
    /* Read through a growing buffer: works for pipes as well as files. */
    size_t cap = 1 << 16, len = 0;
    char *buf = malloc(cap);
    int rc = buf ? AC_OK : AC_E_NO_MEMORY;
    while (rc == AC_OK) {
        len += fread(buf + len, 1, cap - len, f);
        if (len < cap)
            break;
        char *bigger = cap < ((size_t)1 << 34) ? realloc(buf, cap * 2) : NULL;
        if (bigger == NULL)
            rc = AC_E_NO_MEMORY;
        buf = bigger ? bigger : buf;
        cap *= 2;
    }
    if (rc == AC_OK && ferror(f))
        rc = AC_E_IO;
    fclose(f);
    if (rc == AC_OK) {
        char inner[AC__ERRMSG_CAP / 2];
        rc = ac_game_load_json(out, buf, len, alloc, inner, sizeof inner);
        if (rc != AC_OK)
            snprintf(msg, sizeof msg, "%.200s: %s", path, inner);
    } else {
        snprintf(msg, sizeof msg, "cannot read %s: %s", path,
                 rc == AC_E_IO ? "read error" : "out of memory");
    }
    free(buf);
    return report(err_buf, err_cap, rc, rc == AC_OK ? "" : msg);
}
