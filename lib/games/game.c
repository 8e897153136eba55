/* Reference games: life cycle, the value function, noisy draws and the
 * oracle adapter that lets a game drive an estimator. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "common/coalition.h"
#include "games/game_internal.h"

void ac_game_limits_default(ac_game_limits *limits)
{
    if (limits == NULL)
        return;
    limits->struct_size = sizeof *limits;
    limits->reserved = 0;
    limits->max_bytes = AC__GAME_DEFAULT_MAX_BYTES;
    limits->max_memory = AC__GAME_DEFAULT_MAX_MEMORY;
    limits->max_exact_work = AC__GAME_DEFAULT_MAX_EXACT_WORK;
}

int ac__game_limits_resolve(ac_game_limits *out, const ac_game_limits *limits,
                            char *err)
{
    ac_game_limits_default(out);
    if (limits == NULL)
        return AC_OK;
    if (limits->struct_size != sizeof *limits || limits->reserved != 0)
        return ac__fail(err, AC_E_INVALID_ARG,
                        "malformed ac_game_limits (struct_size %u, expected "
                        "%zu; reserved %u, expected 0)",
                        limits->struct_size, sizeof *limits,
                        limits->reserved);
    /* 0 keeps the default, so that a zeroed struct with one field set
     * raises that one limit and leaves the others in place. */
    if (limits->max_bytes != 0)
        out->max_bytes = limits->max_bytes;
    if (limits->max_memory != 0)
        out->max_memory = limits->max_memory;
    if (limits->max_exact_work != 0)
        out->max_exact_work = limits->max_exact_work;
    return AC_OK;
}

const char *ac__game_bytes(char *buf, size_t cap, uint64_t bytes)
{
    if (bytes < ((uint64_t)1 << 20))
        snprintf(buf, cap, "%llu bytes", (unsigned long long)bytes);
    else
        snprintf(buf, cap, "%llu bytes (%.1f MiB)", (unsigned long long)bytes,
                 (double)bytes / (1 << 20));
    return buf;
}

int ac__game_check_memory(const ac_game_limits *limits, char *err,
                          uint64_t in_use, uint64_t bytes, const char *what)
{
    uint64_t cap = limits->max_memory;
    if (in_use <= cap && bytes <= cap - in_use)
        return AC_OK;
    char need[48], have[48], limit[48];
    return ac__fail(err, AC_E_TOO_LARGE,
                    "%s needs %s on top of the %s already held, more than "
                    "max_memory = %s; raise ac_game_limits.max_memory to "
                    "load or compute it",
                    what, ac__game_bytes(need, sizeof need, bytes),
                    ac__game_bytes(have, sizeof have, in_use),
                    ac__game_bytes(limit, sizeof limit, cap));
}

void *ac__game_alloc(ac_game *g, size_t count, size_t size, int zero,
                     const char *what, int *rc)
{
    if (size != 0 && count > SIZE_MAX / size) {
        *rc = ac__fail(g->err, AC_E_TOO_LARGE, "%s: %zu entries of %zu bytes "
                       "overflow the address space", what, count, size);
        return NULL;
    }
    uint64_t bytes = (uint64_t)count * size;
    *rc = ac__game_check_memory(&g->limits, g->err, g->held + g->loading,
                                bytes, what);
    if (*rc != AC_OK)
        return NULL;
    void *p = zero ? ac__mem_calloc(&g->mem, count, size)
                   : ac__mem_alloc(&g->mem, count, size);
    if (p == NULL) {
        char need[48];
        *rc = ac__fail(g->err, AC_E_NO_MEMORY, "no memory for %s (%s)", what,
                       ac__game_bytes(need, sizeof need, bytes));
        return NULL;
    }
    g->held += bytes;
    return p;
}

int ac__game_new(ac_game **out, const ac__mem *mem,
                 const ac_game_limits *limits, uint32_t n)
{
    ac_game *g = ac__mem_calloc(mem, 1, sizeof *g);
    if (g == NULL)
        return AC_E_NO_MEMORY;
    g->mem = *mem;
    g->limits = *limits;
    g->held = sizeof *g;
    g->err = g->err_store;
    g->n = n;
    g->words = ac_coalition_words(n);
    ac__rng_seed(&g->rng, 0);
    *out = g;
    return AC_OK;
}

void ac_game_free(ac_game *game)
{
    if (game == NULL)
        return;
    ac__mem mem = game->mem;
    ac__mem_free(&mem, game->values);
    ac__mem_free(&mem, game->coefs);
    ac__mem_free(&mem, game->term_start);
    ac__mem_free(&mem, game->members);
    ac__mem_free(&mem, game->numbers);
    ac__mem_free(&mem, game->exact);
    ac__mem_free(&mem, game);
}

const char *ac_game_last_error(const ac_game *game)
{
    return game ? game->err : "";
}

int ac_game_players(const ac_game *game, uint32_t *n_players)
{
    if (game == NULL || n_players == NULL)
        return AC_E_INVALID_ARG;
    *n_players = game->n;
    return AC_OK;
}

int ac_game_seed(ac_game *game, uint64_t seed)
{
    if (game == NULL)
        return AC_E_INVALID_ARG;
    ac__rng_seed(&game->rng, seed);
    return AC_OK;
}

/* 1 when every member of term t is in coalition c. */
static int term_in(const ac_game *g, uint32_t t, const uint64_t *c)
{
    for (uint64_t k = g->term_start[t]; k < g->term_start[t + 1]; k++)
        if (!ac__bit_test(c, g->members[k]))
            return 0;
    return 1;
}

double ac__game_value(const ac_game *g, const uint64_t *c)
{
    double v = 0.0;
    switch (g->kind) {
    case AC__GAME_VALUES:
        return g->values[c[0]];
    case AC__GAME_TERMS:
        for (uint32_t t = 0; t < g->n_terms; t++)
            if (term_in(g, t, c))
                v += g->coefs[t];
        return v;
    case AC__GAME_AIRPORT:
        for (uint32_t i = 0; i < g->n; i++)
            if (ac__bit_test(c, i) && g->numbers[i] > v)
                v = g->numbers[i];
        return v;
    default:
        for (uint32_t i = 0; i < g->n; i++)
            if (ac__bit_test(c, i))
                v += g->numbers[i];
        return v >= g->quota ? 1.0 : 0.0;
    }
}

static int check_coalition(const ac_game *g, const uint64_t *c, uint32_t words)
{
    if (c == NULL || words != g->words)
        return ac__fail(g->err, AC_E_INVALID_ARG,
                        "coalition of %u words given to a game of %u players "
                        "(%u words)", words, g->n, g->words);
    if (!ac__coalition_valid(c, words, g->n))
        return ac__fail(g->err, AC_E_INVALID_ARG,
                        "coalition names a player at or beyond %u", g->n);
    return AC_OK;
}

/* A sum of terms can pass what a double holds though each coefficient is
 * finite: such a value is refused, never returned as a number. */
static int finite_value(const ac_game *g, double v, double *out)
{
    if (!isfinite(v))
        return ac__fail(g->err, AC_E_TOO_LARGE,
                        "v(S) = %g: the game's value is beyond what a double "
                        "holds", v);
    *out = v;
    return AC_OK;
}

int ac_game_value(const ac_game *game, const uint64_t *coalition,
                  uint32_t words, double *value)
{
    if (game == NULL || value == NULL)
        return AC_E_INVALID_ARG;
    int rc = check_coalition(game, coalition, words);
    if (rc == AC_OK)
        rc = finite_value(game, ac__game_value(game, coalition), value);
    return rc;
}

/* One draw of the game's noise around the expected value v. */
static int draw(ac_game *g, double v, double *out)
{
    if (!isfinite(v))
        return finite_value(g, v, out);
    switch (g->noise) {
    case AC__NOISE_GAUSSIAN:
        return finite_value(g, v + g->noise_sd * ac__rng_normal(&g->rng),
                            out);
    case AC__NOISE_BERNOULLI:
        if (!(v >= 0.0 && v <= 1.0))
            return ac__fail(g->err, AC_E_INVALID_ARG,
                            "bernoulli noise needs values in [0, 1]; got %g",
                            v);
        *out = ac__rng_uniform(&g->rng) < v ? 1.0 : 0.0;
        return AC_OK;
    default:
        *out = v;
        return AC_OK;
    }
}

int ac_game_oracle(void *game, const uint64_t *coalitions, uint32_t words,
                   uint32_t count, double *values, int32_t *status)
{
    ac_game *g = game;
    if (g == NULL || values == NULL || status == NULL ||
        (count > 0 && coalitions == NULL))
        return AC_E_INVALID_ARG;
    for (uint32_t k = 0; k < count; k++) {
        const uint64_t *c = coalitions + (size_t)k * words;
        int rc = check_coalition(g, c, words);
        if (rc == AC_OK)
            rc = draw(g, ac__game_value(g, c), &values[k]);
        /* A bad coalition fails that evaluation, not the whole call. */
        status[k] = rc == AC_OK ? 0 : rc;
    }
    return 0;
}
