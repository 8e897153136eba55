/* Reading reference games from JSON (format in agentcredit.h and
 * docs/estimators.md). Every rejection names the key and what was wrong;
 * every size the text can ask for is checked against the game's limits
 * before it is allocated. */
#if defined(__unix__) || defined(__APPLE__)
/* fileno and fstat: a file's size and kind before it is read. */
#define _POSIX_C_SOURCE 200809L
#include <sys/stat.h>
#define AC__HAVE_FSTAT 1
#endif
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/coalition.h"
#include "common/json_scan.h"
#include "games/game_internal.h"

/* The keys every game may carry, then those of each kind (in the order of
 * the AC__GAME_* kinds). Any other key is unknown: a warning, as in every
 * format of the library (json_scan.h), so that a file may carry what its
 * writer needs ("seed", "source", a newer version's keys). A key of another
 * kind is not unknown: it is an error even without AC_JSON_STRICT, because
 * it says the writer took the game for another kind ("weights" in an
 * airport game), and ignoring it would compute a game the writer did not
 * mean. */
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
static const char *const TERM_KEYS[] = {"coef", "members", NULL};
static const char *const NOISE_KEYS[] = {"kind", "sd", NULL};

/* The kind whose data key this is, or -1. */
static int kind_of_key(const char *key)
{
    for (size_t k = 0; k < N_KINDS; k++)
        if (ac__json_key_in(key, KIND_KEYS[k]))
            return (int)k;
    return -1;
}

/* The game's unknown keys, before its kind is read. */
static int check_unknown_keys(json_t *root, ac__json_warnings *w, char *err)
{
    const char *key;
    json_t *value;
    json_object_foreach(root, key, value) {
        (void)value;
        if (ac__json_key_in(key, COMMON_KEYS) || kind_of_key(key) >= 0)
            continue;
        int rc = ac__json_unknown_key(w, "game", key, err);
        if (rc != AC_OK)
            return rc;
    }
    return AC_OK;
}

/* The keys of kinds other than the game's. */
static int check_kind_keys(json_t *root, int kind, char *err)
{
    const char *key;
    json_t *value;
    json_object_foreach(root, key, value) {
        (void)value;
        int owner = kind_of_key(key);
        if (owner >= 0 && owner != kind)
            return ac__fail(err, AC_E_PARSE,
                            "key \"%s\" belongs to a %s game, not to this %s "
                            "game", key, KIND_NAMES[owner], KIND_NAMES[kind]);
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
    char what[64];
    snprintf(what, sizeof what, "\"%s\"", key);
    int rc = AC_OK;
    double *x = ac__game_alloc(g, len, sizeof *x, 0, what, &rc);
    if (x == NULL)
        return rc;
    for (size_t k = 0; k < len; k++) {
        rc = get_number(json_array_get(arr, k), key, k, &x[k], g->err);
        if (rc != AC_OK) {
            ac__mem_free(&g->mem, x);
            g->held -= (uint64_t)len * sizeof *x;
            return rc;
        }
    }
    *out = x;
    return AC_OK;
}

/* The members of term t into g->members from g->term_start[t] on; seen is
 * a scratch bitset of n bits, all clear on entry and on return. */
static int read_members(ac_game *g, json_t *members, uint32_t t,
                        uint64_t *seen)
{
    uint64_t at = g->term_start[t];
    size_t count = json_array_size(members), done = 0;
    int rc = AC_OK;
    for (size_t k = 0; k < count && rc == AC_OK; k++) {
        json_t *m = json_array_get(members, k);
        json_int_t i = json_is_integer(m) ? json_integer_value(m) : -1;
        if (i < 0 || i >= (json_int_t)g->n)
            rc = ac__fail(g->err, AC_E_PARSE,
                          "\"terms\"[%u].\"members\"[%zu] is not a player "
                          "index in 0..%u", t, k, g->n - 1);
        else if (ac__bit_test(seen, (uint32_t)i))
            rc = ac__fail(g->err, AC_E_PARSE,
                          "\"terms\"[%u].\"members\" names player %lld "
                          "twice", t, (long long)i);
        else {
            ac__bit_set(seen, (uint32_t)i);
            g->members[at + done++] = (uint32_t)i;
        }
    }
    for (uint64_t k = at; k < at + done; k++)
        seen[g->members[k] >> 6] &= ~((uint64_t)1 << (g->members[k] & 63));
    return rc;
}

/* Checks the shape of every term and counts their members, so that the
 * lists are allocated once, at the size the text gives. */
static int count_members(ac_game *g, json_t *terms, ac__json_warnings *w,
                         uint64_t *total)
{
    *total = 0;
    for (size_t t = 0; t < json_array_size(terms); t++) {
        json_t *term = json_array_get(terms, t);
        json_t *members = json_object_get(term, "members");
        if (!json_is_object(term) || json_object_get(term, "coef") == NULL ||
            members == NULL)
            return ac__fail(g->err, AC_E_PARSE,
                            "\"terms\"[%zu] must be {\"coef\": c, "
                            "\"members\": [...]}", t);
        char path[48];
        snprintf(path, sizeof path, "terms[%zu]", t);
        int rc = ac__json_check_keys(w, term, path, TERM_KEYS, g->err);
        if (rc != AC_OK)
            return rc;
        if (!json_is_array(members))
            return ac__fail(g->err, AC_E_PARSE,
                            "\"terms\"[%zu].\"members\" must be an array", t);
        *total += json_array_size(members);
    }
    return AC_OK;
}

static int read_terms(ac_game *g, json_t *root, ac__json_warnings *w)
{
    json_t *terms = json_object_get(root, "terms");
    if (!json_is_array(terms))
        return ac__fail(g->err, AC_E_PARSE, "\"terms\" must be an array");
    size_t nt = json_array_size(terms);
    if (nt >= UINT32_MAX)
        return ac__fail(g->err, AC_E_TOO_LARGE, "%zu terms: at most %u", nt,
                        UINT32_MAX - 1);
    uint64_t total;
    int rc = count_members(g, terms, w, &total);
    if (rc != AC_OK)
        return rc;
    if (total > SIZE_MAX / sizeof *g->members)
        return ac__fail(g->err, AC_E_TOO_LARGE, "%llu term members",
                        (unsigned long long)total);
    g->n_terms = (uint32_t)nt;
    g->n_members = total;
    g->coefs = ac__game_alloc(g, nt, sizeof *g->coefs, 0,
                              "the terms' coefficients", &rc);
    if (rc == AC_OK)
        g->term_start = ac__game_alloc(g, nt + 1, sizeof *g->term_start, 0,
                                       "the terms", &rc);
    if (rc == AC_OK)
        g->members = ac__game_alloc(g, (size_t)total, sizeof *g->members, 0,
                                    "the terms' members", &rc);
    uint64_t *seen = NULL;
    if (rc == AC_OK)
        seen = ac__game_alloc(g, g->words, sizeof *seen, 1,
                              "checking the terms' members", &rc);
    if (rc != AC_OK)
        return rc;
    g->term_start[0] = 0;
    for (uint32_t t = 0; t < g->n_terms && rc == AC_OK; t++) {
        json_t *term = json_array_get(terms, t);
        json_t *members = json_object_get(term, "members");
        g->term_start[t + 1] = g->term_start[t] + json_array_size(members);
        rc = get_number(json_object_get(term, "coef"), "terms.coef", t,
                        &g->coefs[t], g->err);
        if (rc == AC_OK)
            rc = read_members(g, members, t, seen);
    }
    ac__mem_free(&g->mem, seen);
    g->held -= (uint64_t)g->words * sizeof *seen;
    return rc;
}

static int read_noise(ac_game *g, json_t *root, ac__json_warnings *w)
{
    json_t *noise = json_object_get(root, "noise");
    if (noise == NULL)
        return AC_OK;
    const char *kind = json_string_value(json_object_get(noise, "kind"));
    if (!json_is_object(noise) || kind == NULL)
        return ac__fail(g->err, AC_E_PARSE,
                        "\"noise\" must be {\"kind\": \"gaussian\", \"sd\": s} "
                        "or {\"kind\": \"bernoulli\"}");
    int rc = ac__json_check_keys(w, noise, "noise", NOISE_KEYS, g->err);
    if (rc != AC_OK)
        return rc;
    json_t *sd = json_object_get(noise, "sd");
    /* "sd" in bernoulli noise is a key of another kind of noise: an error,
     * as one of another kind of game is. */
    if (strcmp(kind, "bernoulli") == 0 && sd != NULL)
        return ac__fail(g->err, AC_E_PARSE, "\"noise\": \"sd\" belongs to "
                        "gaussian noise, not to bernoulli noise");
    if (strcmp(kind, "bernoulli") == 0) {
        g->noise = AC__NOISE_BERNOULLI;
        return AC_OK;
    }
    if (strcmp(kind, "gaussian") != 0 || !json_is_number(sd) ||
        !(json_number_value(sd) >= 0.0) || !isfinite(json_number_value(sd)))
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

static int read_kind(ac_game *g, json_t *root, ac__json_warnings *w)
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
        return read_terms(g, root, w);
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

static int parse_game(ac_game *g, json_t *root, ac__json_warnings *w)
{
    int rc = check_unknown_keys(root, w, g->err);
    if (rc == AC_OK)
        rc = read_kind(g, root, w);
    if (rc == AC_OK)
        rc = check_kind_keys(root, g->kind, g->err);
    if (rc == AC_OK && json_object_get(root, "exact") != NULL)
        rc = read_numbers(g, root, "exact", g->n, &g->exact);
    if (rc == AC_OK)
        rc = read_noise(g, root, w);
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

/* AC_OK when the parse tree of the scanned text, with `in_use` bytes held
 * already, stays within max_memory. */
static int check_tree(const ac_game_limits *lim, const ac__json_scan *s,
                      uint64_t in_use, char *err)
{
    char what[96];
    snprintf(what, sizeof what, "parsing the text (%llu values)",
             (unsigned long long)ac__json_scan_values(s));
    return ac__game_check_memory(lim, err, in_use, ac__json_scan_tree_bytes(s), what);
}

static int check_text_size(const ac_game_limits *lim, uint64_t len,
                           char *err)
{
    if (len <= lim->max_bytes)
        return AC_OK;
    char size[48], limit[48];
    return ac__fail(err, AC_E_TOO_LARGE,
                    "the text is %s, more than max_bytes = %s; raise "
                    "ac_game_limits.max_bytes to load it",
                    ac__game_bytes(size, sizeof size, len),
                    ac__game_bytes(limit, sizeof limit, lim->max_bytes));
}

/* Parses a scanned text. text_held: bytes the caller holds for the text
 * (counted against max_memory until the game is built). */
static int load_text(ac_game **out, const char *text, size_t len,
                     const ac__mem *mem, const ac_game_limits *lim,
                     const ac__json_scan *sc, uint64_t text_held,
                     ac__json_warnings *w, char *err)
{
    int rc = check_tree(lim, sc, text_held, err);
    if (rc != AC_OK)
        return rc;
    /* Zeroed: jansson fills it only when it reports an error, and an
     * allocation that fails before its lexer starts reports none. */
    json_error_t jerr;
    memset(&jerr, 0, sizeof jerr);
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    uint32_t n = 0;
    /* jansson says "out of memory" by its code, or, when an allocation
     * fails before its lexer starts, by no message at all. */
    if (root == NULL && (jerr.text[0] == '\0' ||
                         json_error_code(&jerr) == json_error_out_of_memory))
        rc = ac__fail(err, AC_E_NO_MEMORY, "out of memory parsing the JSON "
                      "text (jansson)");
    else if (root == NULL)
        rc = ac__fail(err, AC_E_PARSE, "JSON error at line %d, column %d: %s",
                      jerr.line, jerr.column, jerr.text);
    else if (!json_is_object(root))
        rc = ac__fail(err, AC_E_PARSE, "a game must be a JSON object");
    else
        rc = read_players(root, &n, err);
    ac_game *g = NULL;
    if (rc == AC_OK && (rc = ac__game_new(&g, mem, lim, n)) != AC_OK)
        ac__fail(err, rc, "out of memory for the game");
    if (rc == AC_OK) {
        g->loading = text_held + ac__json_scan_tree_bytes(sc);
        rc = parse_game(g, root, w);
        g->loading = 0;
    }
    if (rc != AC_OK && g != NULL)
        snprintf(err, AC__ERRMSG_CAP, "%s", g->err);
    json_decref(root);
    if (rc != AC_OK) {
        ac_game_free(g);
        return rc;
    }
    *out = g;
    return AC_OK;
}

/* What a load holds from its first check to its report. */
typedef struct load_state {
    ac__json_warnings w;
    ac__mem mem;
    ac_game_limits lim;
    char err[AC__ERRMSG_CAP];
} load_state;

/* What both loaders check before their input is read: the flags, out and
 * the input (`what` names it), the allocator and the limits. AC_OK with
 * st set, or the status with its message in st->err. */
static int begin_load(load_state *st, ac_game **out, const void *input,
                      const char *what, const ac_allocator *alloc,
                      const ac_game_limits *limits, uint32_t flags,
                      char *warn_buf, size_t warn_cap)
{
    st->err[0] = '\0';
    ac__json_warnings_init(&st->w, warn_buf, warn_cap, flags);
    if ((flags & ~AC_JSON_STRICT) != 0)
        return ac__fail(st->err, AC_E_INVALID_ARG,
                        "unknown flags: only AC_JSON_STRICT");
    if (out == NULL || input == NULL)
        return ac__fail(st->err, AC_E_INVALID_ARG,
                        "out and %s must not be NULL", what);
    if (ac__mem_init(&st->mem, alloc) != AC_OK)
        return ac__fail(st->err, AC_E_INVALID_ARG, "malformed ac_allocator");
    return ac__game_limits_resolve(&st->lim, limits, st->err);
}

/* The 1.0 loaders have no place for a warning: an unknown key stays the
 * error they document, not a key silently dropped. */
int ac_game_load_json(ac_game **out, const char *text, size_t len,
                      const ac_allocator *alloc, const ac_game_limits *limits,
                      char *err_buf, size_t err_cap)
{
    return ac_game_load_json2(out, text, len, alloc, limits, AC_JSON_STRICT,
                              err_buf, err_cap, NULL, 0);
}

int ac_game_load_file(ac_game **out, const char *path,
                      const ac_allocator *alloc, const ac_game_limits *limits,
                      char *err_buf, size_t err_cap)
{
    return ac_game_load_file2(out, path, alloc, limits, AC_JSON_STRICT,
                              err_buf, err_cap, NULL, 0);
}

int ac_game_load_json2(ac_game **out, const char *text, size_t len,
                       const ac_allocator *alloc,
                       const ac_game_limits *limits, uint32_t flags,
                       char *err_buf, size_t err_cap, char *warn_buf,
                       size_t warn_cap)
{
    load_state st;
    int rc = begin_load(&st, out, text, "text", alloc, limits, flags,
                        warn_buf, warn_cap);
    if (rc == AC_OK)
        rc = check_text_size(&st.lim, len, st.err);
    if (rc == AC_OK) {
        ac__json_scan sc = {0};
        ac__json_scan_feed(&sc, text, len);
        rc = load_text(out, text, len, &st.mem, &st.lim, &sc, 0, &st.w,
                       st.err);
    }
    if (rc != AC_OK)
        ac__json_warnings_clear(&st.w);
    return report(err_buf, err_cap, rc, rc == AC_OK ? "" : st.err);
}

/* A file's text, read whole into memory from the host's allocator. */
typedef struct file_text {
    char *buf;
    size_t len, cap;
    ac__json_scan sc;
} file_text;

/* The size and kind of an open file before it is read: a directory is
 * named as one (fread would say only EISDIR), a regular file longer than
 * max_bytes is refused unread. *size_hint: its size, 0 if unknown. */
static int check_file(FILE *f, const ac_game_limits *lim, uint64_t *size_hint,
                      char *err)
{
    *size_hint = 0;
#ifdef AC__HAVE_FSTAT
    struct stat st;
    if (fstat(fileno(f), &st) != 0)
        return AC_OK; /* reading will tell */
    if (S_ISDIR(st.st_mode))
        return ac__fail(err, AC_E_IO, "is a directory, not a game file");
    if (S_ISREG(st.st_mode) && st.st_size > 0) {
        *size_hint = (uint64_t)st.st_size;
        return check_text_size(lim, *size_hint, err);
    }
#else
    (void)f;
    (void)lim;
#endif
    return AC_OK;
}

/* Reads the stream to its end, scanning as it goes: stops at the first
 * byte past max_bytes, at a byte no JSON text holds, or once the text and
 * its parse would pass max_memory, whichever comes first, so that neither
 * /dev/zero nor an endless pipe is read for long. */
static int read_text(FILE *f, const ac__mem *mem, const ac_game_limits *lim,
                     uint64_t size_hint, file_text *ft, char *err)
{
    /* One byte beyond max_bytes tells a text that is too long. */
    uint64_t most = lim->max_bytes < SIZE_MAX - 1 ? lim->max_bytes + 1
                                                  : SIZE_MAX - 1;
    uint64_t want = size_hint > 0 ? size_hint + 1 : (uint64_t)1 << 16;
    while (1) {
        if (ft->len == ft->cap) {
            uint64_t cap = ft->cap == 0 ? want : (uint64_t)ft->cap * 2;
            cap = cap < most ? cap : most;
            if (cap <= ft->cap)
                break; /* most bytes read: too long */
            /* the old buffer and the new one, both held while copying */
            int rc = ac__game_check_memory(lim, err, ft->cap, cap,
                                           "reading the file");
            if (rc != AC_OK)
                return rc;
            void *p = ft->buf;
            if (ac__mem_grow(mem, &p, ft->len, (size_t)cap, 1) != AC_OK)
                return ac__fail(err, AC_E_NO_MEMORY,
                                "no memory to read the file (%llu bytes)",
                                (unsigned long long)cap);
            ft->buf = p;
            ft->cap = (size_t)cap;
        }
        errno = 0;
        size_t got = fread(ft->buf + ft->len, 1, ft->cap - ft->len, f);
        int read_errno = errno;
        ac__json_scan_feed(&ft->sc, ft->buf + ft->len, got);
        ft->len += got;
        if (ft->sc.bad)
            return ac__fail(err, AC_E_PARSE,
                            "byte %llu is 0x%02x, a control character that "
                            "no JSON text holds (not a game file?)",
                            (unsigned long long)ft->sc.bad_at,
                            ft->sc.bad - 1);
        if (ferror(f))
            return ac__fail(err, AC_E_IO, "cannot read it: %s",
                            read_errno ? strerror(read_errno) : "read error");
        int rc = check_tree(lim, &ft->sc, ft->cap, err);
        if (rc != AC_OK)
            return rc;
        if (got == 0 || feof(f))
            return AC_OK;
    }
    char limit[48];
    return ac__fail(err, AC_E_TOO_LARGE,
                    "more than max_bytes = %s read and no end in sight; "
                    "raise ac_game_limits.max_bytes to load it",
                    ac__game_bytes(limit, sizeof limit, lim->max_bytes));
}

int ac_game_load_file2(ac_game **out, const char *path,
                       const ac_allocator *alloc,
                       const ac_game_limits *limits, uint32_t flags,
                       char *err_buf, size_t err_cap, char *warn_buf,
                       size_t warn_cap)
{
    load_state st;
    int rc = begin_load(&st, out, path, "path", alloc, limits, flags,
                        warn_buf, warn_cap);
    if (rc != AC_OK)
        return report(err_buf, err_cap, rc, st.err);
    char msg[AC__ERRMSG_CAP];
    errno = 0;
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        snprintf(msg, sizeof msg, "cannot open %.200s: %s", path,
                 errno ? strerror(errno) : "fopen failed");
        return report(err_buf, err_cap, AC_E_IO, msg);
    }
    file_text ft = {0};
    uint64_t size_hint = 0;
    rc = check_file(f, &st.lim, &size_hint, st.err);
    if (rc == AC_OK)
        rc = read_text(f, &st.mem, &st.lim, size_hint, &ft, st.err);
    fclose(f);
    if (rc == AC_OK)
        rc = load_text(out, ft.buf, ft.len, &st.mem, &st.lim, &ft.sc, ft.cap,
                       &st.w, st.err);
    ac__mem_free(&st.mem, ft.buf);
    if (rc != AC_OK) {
        ac__json_warnings_clear(&st.w);
        snprintf(msg, sizeof msg, "%.200s: %.300s", path, st.err);
    }
    return report(err_buf, err_cap, rc, rc == AC_OK ? "" : msg);
}
