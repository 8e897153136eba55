/* Reference games: life cycle, the value function, noisy draws and the
 * oracle adapter that lets a game drive an estimator. */
#include <math.h>
#include <string.h>

#include "common/coalition.h"
#include "games/game_internal.h"

int ac__game_new(ac_game **out, const ac__mem *mem, uint32_t n)
{
    ac_game *g = ac__mem_calloc(mem, 1, sizeof *g);
    if (g == NULL)
        return AC_E_NO_MEMORY;
    g->mem = *mem;
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
    ac__mem_free(&mem, game->term_sets);
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

static int is_subset(const uint64_t *a, const uint64_t *b, uint32_t words)
{
    for (uint32_t w = 0; w < words; w++)
        if (a[w] & ~b[w])
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
            if (is_subset(g->term_sets + (size_t)t * g->words, c, g->words))
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

int ac_game_value(const ac_game *game, const uint64_t *coalition,
                  uint32_t words, double *value)
{
    if (game == NULL || value == NULL)
        return AC_E_INVALID_ARG;
    int rc = check_coalition(game, coalition, words);
    if (rc == AC_OK)
        *value = ac__game_value(game, coalition);
    return rc;
}

/* One draw of the game's noise around the expected value v. */
static int draw(ac_game *g, double v, double *out)
{
    switch (g->noise) {
    case AC__NOISE_GAUSSIAN:
        *out = v + g->noise_sd * ac__rng_normal(&g->rng);
        return AC_OK;
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
