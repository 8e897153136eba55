/* SPDX-License-Identifier: MIT
 *
 * The game JSON parser (ac_game_load_json2 with and without
 * AC_JSON_STRICT, and ac_game_load_json) on any bytes. A load either
 * fails with a documented status and a message, leaving *out alone, or
 * gives a game whose every answer is sound: a player count in range;
 * values finite, or AC_E_TOO_LARGE when a sum of finite terms passes what
 * a double holds (the same as an oracle's failed evaluation); exact
 * Shapley values finite and adding up to v(all) - v(empty) (unless the
 * file gave them), or an error. The error and warning buffers are written
 * within their capacity and always terminated; a warning is a line
 * "PATH.KEY: unknown key, ignored", none is left by a failure, and the
 * flag decides nothing else: a strict load succeeds exactly when the
 * lenient one does without a warning, and ac_game_load_json answers as a
 * strict load.
 *
 * The limits are the defaults but for the exact computation, kept to 2^20
 * steps and 16 MiB: the default 2^27 steps (about a second) would make the
 * fuzzer spend its time on the slowest games instead of on new inputs.
 */
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"

enum { ERR_ROOM = 320, WARN_ROOM = 4096, MAX_PROBES = 6 };

static uint64_t splitmix(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static uint64_t hash_bytes(const uint8_t *d, size_t n)
{
    uint64_t h = 0xCBF29CE484222325ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ d[i]) * 0x100000001B3ull;
    return h;
}

/* The sum of |x| over every number of the document but "n": what the
 * game's values and credits can be made of, so the scale of their
 * rounding. */
static double magnitude(const json_t *j)
{
    double m = 0.0;
    if (json_is_number(j))
        return fabs(json_number_value(j));
    if (json_is_array(j)) {
        size_t i;
        const json_t *v;
        json_array_foreach(j, i, v) m += magnitude(v);
    } else if (json_is_object(j)) {
        const char *key;
        const json_t *v;
        json_object_foreach((json_t *)j, key, v)
            if (strcmp(key, "n") != 0)
                m += magnitude(v);
    }
    return m;
}

/* What the file says of itself, read independently of the library. */
typedef struct file_facts {
    int gives_exact;
    double magnitude;
} file_facts;

static file_facts read_facts(const uint8_t *data, size_t size)
{
    file_facts ff = {0, 0.0};
    json_t *root = json_loadb((const char *)data, size, 0, NULL);
    FZ_CHECK(root != NULL, "the library took a text jansson refuses");
    ff.gives_exact = json_object_get(root, "exact") != NULL;
    ff.magnitude = magnitude(root);
    json_decref(root);
    return ff;
}

static void check_error_buffer(const char *err, size_t cap, int rc)
{
    if (cap == 0)
        return;
    FZ_CHECK(memchr(err, '\0', cap) != NULL, "the message is not "
             "terminated within %zu bytes", cap);
    for (size_t i = cap; i < ERR_ROOM; i++)
        FZ_CHECK(err[i] == 'X', "byte %zu of a %zu-byte message buffer "
                 "written", i, cap);
    if (rc == AC_OK)
        FZ_CHECK(err[0] == '\0', "a success left the message \"%s\"", err);
    else if (cap > 1)
        FZ_CHECK(err[0] != '\0', "%s without a message",
                 ac_status_name(rc));
}

/* A value: finite, or refused as beyond a double with a message. 1 when
 * it is a number. */
static int value_ok(const ac_game *g, const uint64_t *c, uint32_t words,
                    double *v)
{
    int rc = ac_game_value(g, c, words, v);
    FZ_CHECK(rc == AC_OK || rc == AC_E_TOO_LARGE, "value = %s",
             ac_status_name(rc));
    if (rc == AC_OK)
        FZ_CHECK(isfinite(*v), "v(S) = %g with AC_OK", *v);
    else
        FZ_CHECK(ac_game_last_error(g)[0] != '\0', "value = %s without a "
                 "message", ac_status_name(rc));
    return rc == AC_OK;
}

static void check_game(ac_game *g, const uint8_t *data, size_t size)
{
    uint32_t n = 0;
    FZ_CHECK(ac_game_players(g, &n) == AC_OK, "players");
    FZ_CHECK(n >= 1 && n <= AC_MAX_PLAYERS, "%u players", n);
    uint32_t words = ac_coalition_words(n);
    uint64_t *c = calloc((size_t)words + 1, sizeof *c);
    FZ_CHECK(c != NULL, "memory");

    /* v(empty), v(all), then a few coalitions drawn from the input. */
    double v_empty = NAN, v_all = NAN, v = NAN;
    int totals = value_ok(g, c, words, &v_empty);
    for (uint32_t i = 0; i < n; i++)
        c[i / 64] |= (uint64_t)1 << (i % 64);
    totals &= value_ok(g, c, words, &v_all);
    uint64_t seed = hash_bytes(data, size);
    for (int k = 0; k < MAX_PROBES; k++) {
        for (uint32_t w = 0; w < words; w++)
            c[w] = splitmix(&seed);
        if (n % 64)
            c[words - 1] &= ((uint64_t)1 << (n % 64)) - 1;
        value_ok(g, c, words, &v);
    }
    /* The caller's mistakes: a wrong length, a player past n. */
    FZ_CHECK(ac_game_value(g, c, words + 1, &v) == AC_E_INVALID_ARG,
             "words + 1");
    if (n % 64) {
        c[words - 1] |= (uint64_t)1 << (n % 64);
        FZ_CHECK(ac_game_value(g, c, words, &v) == AC_E_INVALID_ARG,
                 "a stray bit");
    }

    /* The game as an oracle: one draw per coalition, never a failure the
     * host did not cause. */
    memset(c, 0, ((size_t)words + 1) * sizeof *c);
    double draw[1] = {NAN};
    int32_t status[1] = {0};
    FZ_CHECK(ac_game_seed(g, seed) == AC_OK, "seed");
    FZ_CHECK(ac_game_oracle(g, c, words, 1, draw, status) == 0, "oracle");
    FZ_CHECK(status[0] != 0 || isfinite(draw[0]), "the oracle drew %g "
             "with status 0", draw[0]);
    FZ_CHECK(status[0] == 0 || fz_known_status(status[0]),
             "the oracle's status %d", (int)status[0]);

    double *phi = calloc(n, sizeof *phi);
    FZ_CHECK(phi != NULL, "memory");
    phi[0] = 12345.0;
    int rc = ac_game_exact(g, phi, n);
    FZ_CHECK(rc == AC_OK || rc == AC_E_TOO_LARGE || rc == AC_E_NO_MEMORY,
             "exact = %s", ac_status_name(rc));
    if (rc == AC_OK) {
        long double sum = 0.0L;
        double largest = 0.0;
        for (uint32_t i = 0; i < n; i++) {
            FZ_CHECK(isfinite(phi[i]), "exact phi[%u] = %g on success", i,
                     phi[i]);
            sum += phi[i];
            largest = fmax(largest, fabs(phi[i]));
        }
        file_facts ff = read_facts(data, size);
        if (!ff.gives_exact && totals) {
            /* Efficiency, to the rounding of the numbers it is made of. */
            double scale = fmax(fmax(ff.magnitude, largest),
                                fmax(fabs(v_all), fabs(v_empty)));
            long double want = (long double)v_all - v_empty;
            FZ_CHECK(fabsl(sum - want) <= 1e-9L * scale + 1e-300L,
                     "sum(exact) = %.17Lg, v(all) - v(empty) = %.17Lg "
                     "(scale %g)", sum, want, scale);
        }
    } else {
        FZ_CHECK(phi[0] == 12345.0, "exact wrote phi and failed");
        FZ_CHECK(ac_game_last_error(g)[0] != '\0', "exact = %s without a "
                 "message", ac_status_name(rc));
    }
    FZ_CHECK(n == 1 || ac_game_exact(g, phi, n - 1) == AC_E_INVALID_ARG,
             "exact with n - 1 entries");
    free(phi);
    free(c);
}

/* The warnings of a load: within cap, terminated, "" after a failure,
 * and each whole line an unknown key's. */
static void check_warnings(const char *warn, size_t cap, size_t room, int rc)
{
    if (cap == 0)
        return;
    const char *end = memchr(warn, '\0', cap);
    FZ_CHECK(end != NULL, "the warnings are not terminated within %zu bytes",
             cap);
    for (size_t i = cap; i < room; i++)
        FZ_CHECK(warn[i] == 'X', "byte %zu of a %zu-byte warning buffer "
                 "written", i, cap);
    FZ_CHECK(rc == AC_OK || warn[0] == '\0', "a failed load (%s) left the "
             "warnings \"%s\"", ac_status_name(rc), warn);
    static const char tail[] = ": unknown key, ignored";
    size_t tail_len = sizeof tail - 1;
    for (const char *line = warn; line < end;) {
        const char *nl = memchr(line, '\n', (size_t)(end - line));
        if (nl == NULL && (size_t)(end - warn) == cap - 1)
            break; /* the last line, perhaps truncated */
        const char *stop = nl != NULL ? nl : end;
        FZ_CHECK((size_t)(stop - line) > tail_len &&
                     memcmp(stop - tail_len, tail, tail_len) == 0,
                 "a warning line \"%.*s\"", (int)(stop - line), line);
        line = stop + (nl != NULL);
    }
}

/* The same text under the other flag, with room for every warning, and
 * through the 1.0 loader: the flag turns warnings into errors and changes
 * nothing else. */
static void check_flags_agree(const uint8_t *data, size_t size,
                              const ac_game_limits *lim, uint32_t flags,
                              int rc, int warned)
{
    char warn[WARN_ROOM];
    memset(warn, 'X', sizeof warn);
    uint32_t other = flags ^ AC_JSON_STRICT;
    ac_game *g = NULL;
    int rc2 = ac_game_load_json2(&g, (const char *)data, size, NULL, lim,
                                 other, NULL, 0, warn, sizeof warn);
    check_warnings(warn, sizeof warn, sizeof warn, rc2);
    ac_game_free(g);
    int strict_rc = other ? rc2 : rc;
    int lenient_rc = other ? rc : rc2;
    int lenient_warned = other ? warned : warn[0] != '\0';
    if (lenient_rc == AC_OK)
        FZ_CHECK(strict_rc == (lenient_warned ? AC_E_PARSE : AC_OK),
                 "lenient OK (%s warnings), strict %s",
                 lenient_warned ? "with" : "without",
                 ac_status_name(strict_rc));
    if (strict_rc == AC_OK)
        FZ_CHECK(lenient_rc == AC_OK && !lenient_warned,
                 "strict OK, lenient %s", ac_status_name(lenient_rc));
    g = NULL;
    int old_rc = ac_game_load_json(&g, (const char *)data, size, NULL, lim,
                                   NULL, 0);
    ac_game_free(g);
    FZ_CHECK(old_rc == strict_rc, "ac_game_load_json %s, strict %s",
             ac_status_name(old_rc), ac_status_name(strict_rc));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ac_game_limits lim;
    ac_game_limits_default(&lim);
    lim.max_exact_work = (uint64_t)1 << 20;
    lim.max_memory = (uint64_t)16 << 20;

    /* The message buffer: full size mostly, sometimes a small capacity (the
     * message truncated) or none. */
    char err[ERR_ROOM];
    memset(err, 'X', sizeof err);
    uint64_t h = hash_bytes(data, size);
    size_t cap = h % 8 == 0 ? (size_t)(h >> 8) % 24 : ERR_ROOM - 16;
    int no_buffer = h % 16 == 1;

    /* Strict or not, and a warning buffer of full size mostly, sometimes
     * small (truncated) or none. */
    uint32_t flags = (h >> 40) % 2 ? AC_JSON_STRICT : 0;
    char warn[WARN_ROOM];
    memset(warn, 'X', sizeof warn);
    size_t warn_cap = (h >> 41) % 8 == 0 ? (size_t)(h >> 44) % 40
                                         : WARN_ROOM - 16;

    ac_game *g = (ac_game *)&lim; /* must stay untouched on failure */
    int rc = ac_game_load_json2(&g, (const char *)data, size, NULL, &lim,
                                flags, no_buffer ? NULL : err,
                                no_buffer ? 0 : cap, warn, warn_cap);
    FZ_CHECK(rc == AC_OK || rc == AC_E_PARSE || rc == AC_E_TOO_LARGE ||
             rc == AC_E_NO_MEMORY, "load = %d", rc);
    if (!no_buffer)
        check_error_buffer(err, cap, rc);
    check_warnings(warn, warn_cap, sizeof warn, rc);
    if (flags)
        FZ_CHECK(warn_cap == 0 || warn[0] == '\0', "warnings under strict");
    if (warn_cap == WARN_ROOM - 16)
        check_flags_agree(data, size, &lim, flags, rc,
                          rc == AC_OK && warn[0] != '\0');
    if (rc != AC_OK) {
        FZ_CHECK(g == (ac_game *)&lim, "a failed load set *out");
        return 0;
    }
    FZ_CHECK(g != NULL && g != (ac_game *)&lim, "a load without a game");
    check_game(g, data, size);
    ac_game_free(g);

    /* A malformed limits struct is refused before the text is read. */
    lim.struct_size = 1;
    g = NULL;
    FZ_CHECK(ac_game_load_json(&g, (const char *)data, size, NULL, &lim, NULL,
                               0) == AC_E_INVALID_ARG && g == NULL,
             "a malformed limits struct was taken");
    return 0;
}
