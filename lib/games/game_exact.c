/* Exact Shapley values of the reference games: closed forms where they
 * exist, a dynamic programme for weighted voting, the full table otherwise. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/coalition.h"
#include "games/game_internal.h"
#include "credit/shapley_exact.h"

/* Each unanimity term's coefficient is shared equally by its members. */
static void terms_exact(const ac_game *g, double *phi)
{
    memset(phi, 0, g->n * sizeof *phi);
    for (uint32_t t = 0; t < g->n_terms; t++) {
        const uint64_t *set = g->term_sets + (size_t)t * g->words;
        uint32_t size = ac__coalition_size(set, g->words);
        for (uint32_t i = 0; size > 0 && i < g->n; i++)
            if (ac__bit_test(set, i))
                phi[i] += g->coefs[t] / size;
    }
}

typedef struct ranked {
    double cost;
    uint32_t player;
} ranked;

static int by_cost(const void *a, const void *b)
{
    const ranked *x = a, *y = b;
    if (x->cost != y->cost)
        return x->cost < y->cost ? -1 : 1;
    return x->player < y->player ? -1 : (x->player > y->player);
}

/* Littlechild-Owen: with costs sorted, each increment c_(j) - c_(j-1) is
 * shared by the n - j players whose cost reaches it. */
static int airport_exact(const ac_game *g, double *phi)
{
    ranked *r = ac__mem_alloc(&g->mem, g->n, sizeof *r);
    if (r == NULL)
        return AC_E_NO_MEMORY;
    for (uint32_t i = 0; i < g->n; i++) {
        r[i].cost = g->numbers[i];
        r[i].player = i;
    }
    qsort(r, g->n, sizeof *r, by_cost);
    double share = 0.0, prev = 0.0;
    for (uint32_t j = 0; j < g->n; j++) {
        share += (r[j].cost - prev) / (double)(g->n - j);
        prev = r[j].cost;
        phi[r[j].player] = share;
    }
    ac__mem_free(&g->mem, r);
    return AC_OK;
}

/* Counts are exact in doubles while they stay below 2^53: C(n, k) < 2^53
 * for n <= 56. */
#define VOTING_DP_MAX_PLAYERS 56u
#define VOTING_DP_MAX_WEIGHT 1000000.0

static int integral_weights(const ac_game *g, double *total)
{
    *total = 0.0;
    for (uint32_t i = 0; i < g->n; i++) {
        if (g->numbers[i] != floor(g->numbers[i]))
            return 0;
        *total += g->numbers[i];
    }
    return g->n <= VOTING_DP_MAX_PLAYERS && *total <= VOTING_DP_MAX_WEIGHT;
}

/* f[s][w]: subsets of all players with s members and weight w. Removing
 * player i gives the counts without it, g[s][w] = f[s][w] - g[s-1][w-w_i];
 * i is pivotal for a subset of the others when q - w_i <= w(S) < q. */
static int voting_exact(const ac_game *g, double total, double *phi)
{
    uint32_t n = g->n, wmax = (uint32_t)total;
    size_t stride = (size_t)wmax + 1;
    double *f = ac__mem_calloc(&g->mem, (size_t)(n + 1) * stride, sizeof *f);
    double *h = ac__mem_alloc(&g->mem, (size_t)(n + 1) * stride, sizeof *h);
    double *w = ac__mem_alloc(&g->mem, n, sizeof *w);
    if (f == NULL || h == NULL || w == NULL) {
        ac__mem_free(&g->mem, f);
        ac__mem_free(&g->mem, h);
        ac__mem_free(&g->mem, w);
        return AC_E_NO_MEMORY;
    }
    f[0] = 1.0;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t wi = (uint32_t)g->numbers[i];
        for (uint32_t s = i + 1; s > 0; s--)
            for (size_t x = wmax + 1; x-- > wi;)
                f[s * stride + x] += f[(s - 1) * stride + x - wi];
    }
    ac__shapley_weights(n, w);
    for (uint32_t i = 0; i < n; i++) {
        uint32_t wi = (uint32_t)g->numbers[i];
        double acc = 0.0;
        for (uint32_t s = 0; s < n; s++) {
            for (size_t x = 0; x <= wmax; x++) {
                double c = f[s * stride + x];
                if (s > 0 && x >= wi)
                    c -= h[(s - 1) * stride + x - wi];
                h[s * stride + x] = c;
                if ((double)x < g->quota && (double)x + wi >= g->quota)
                    acc += w[s] * c;
            }
        }
        phi[i] = acc;
    }
    ac__mem_free(&g->mem, f);
    ac__mem_free(&g->mem, h);
    ac__mem_free(&g->mem, w);
    return AC_OK;
}

/* Any game of up to AC__GAME_TABLE_MAX_PLAYERS players: tabulate it. */
static int table_exact(const ac_game *g, double *phi)
{
    uint64_t len = (uint64_t)1 << g->n;
    double *table = ac__mem_alloc(&g->mem, (size_t)len, sizeof *table);
    if (table == NULL)
        return AC_E_NO_MEMORY;
    for (uint64_t m = 0; m < len; m++) {
        uint64_t key = m;
        table[m] = ac__game_value(g, &key);
    }
    int rc = ac__shapley_table(&g->mem, g->n, table, phi);
    ac__mem_free(&g->mem, table);
    return rc;
}

static int compute_exact(const ac_game *g, double *phi)
{
    double total;
    if (g->exact != NULL) {
        memcpy(phi, g->exact, g->n * sizeof *phi);
        return AC_OK;
    }
    switch (g->kind) {
    case AC__GAME_TERMS:
        terms_exact(g, phi);
        return AC_OK;
    case AC__GAME_AIRPORT:
        return airport_exact(g, phi);
    case AC__GAME_VOTING:
        if (integral_weights(g, &total))
            return voting_exact(g, total, phi);
        break;
    default:
        break;
    }
    if (g->n <= AC__GAME_TABLE_MAX_PLAYERS)
        return table_exact(g, phi);
    return ac__fail(g->err, AC_E_TOO_LARGE,
                    "no exact method for this game of %u players (voting "
                    "needs integer weights summing to at most %.0f and at "
                    "most %u players)", g->n, VOTING_DP_MAX_WEIGHT,
                    VOTING_DP_MAX_PLAYERS);
}

int ac_game_exact(const ac_game *game, double *phi, uint32_t n)
{
    if (game == NULL || phi == NULL)
        return AC_E_INVALID_ARG;
    if (n != game->n)
        return ac__fail(game->err, AC_E_INVALID_ARG,
                        "phi has %u entries; the game has %u players", n,
                        game->n);
    double *tmp = ac__mem_alloc(&game->mem, n, sizeof *tmp);
    if (tmp == NULL)
        return AC_E_NO_MEMORY;
    int rc = compute_exact(game, tmp);
    if (rc == AC_OK)
        memcpy(phi, tmp, n * sizeof *phi);
    ac__mem_free(&game->mem, tmp);
    return rc;
}
