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
        uint64_t first = g->term_start[t], end = g->term_start[t + 1];
        for (uint64_t k = first; k < end; k++)
            phi[g->members[k]] += g->coefs[t] / (double)(end - first);
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
 * for n <= 56. The total weight is bounded by the game's max_exact_work
 * and max_memory (the programme is (n+1) x (W+1) cells, twice). */
#define VOTING_DP_MAX_PLAYERS 56u

/* The total weight when every weight is an integer, else -1. */
static double integral_total(const ac_game *g)
{
    double total = 0.0;
    for (uint32_t i = 0; i < g->n; i++) {
        if (g->numbers[i] != floor(g->numbers[i]))
            return -1.0;
        total += g->numbers[i];
    }
    return total;
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

/* Any game of up to AC__GAME_TABLE_MAX_PLAYERS players: tabulate it (a
 * value table is used as it is). */
static int table_exact(const ac_game *g, double *phi)
{
    if (g->kind == AC__GAME_VALUES)
        return ac__shapley_table(&g->mem, g->n, g->values, phi);
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

/* A way to the exact values and what it costs, in the units of
 * ac_game_limits: steps (one cell of a table or a programme, one member of
 * a term) and bytes of work space. */
typedef struct plan {
    int (*run)(const ac_game *g, double *phi);
    const char *name;
    double work, bytes;
} plan;

static int run_given(const ac_game *g, double *phi)
{
    memcpy(phi, g->exact, g->n * sizeof *phi);
    return AC_OK;
}

static int run_terms(const ac_game *g, double *phi)
{
    terms_exact(g, phi);
    return AC_OK;
}

static int run_voting(const ac_game *g, double *phi)
{
    return voting_exact(g, integral_total(g), phi);
}

/* The cost of evaluating v(S) once (ac__game_value). */
static double value_cost(const ac_game *g)
{
    switch (g->kind) {
    case AC__GAME_VALUES:
        return 1.0;
    case AC__GAME_TERMS:
        return (double)g->n_terms + (double)g->n_members;
    default:
        return g->n;
    }
}

/* The plans that apply, cheapest first among the computed ones. */
static int plans(const ac_game *g, plan *p)
{
    int count = 0;
    double n = g->n;
    if (g->exact != NULL) {
        p[count++] = (plan){run_given, "the file's \"exact\"", n, 0.0};
        return count;
    }
    if (g->kind == AC__GAME_TERMS)
        p[count++] = (plan){run_terms, "the terms' closed form",
                            n + (double)g->n_terms + (double)g->n_members,
                            0.0};
    if (g->kind == AC__GAME_AIRPORT)
        p[count++] = (plan){airport_exact, "the airport closed form",
                            n * (log2(n + 1.0) + 1.0),
                            n * (double)sizeof(ranked)};
    double total = g->kind == AC__GAME_VOTING ? integral_total(g) : -1.0;
    if (total >= 0.0 && g->n <= VOTING_DP_MAX_PLAYERS && total < UINT32_MAX) {
        double cells = (n + 1.0) * (total + 1.0);
        p[count++] = (plan){run_voting, "the voting programme",
                            (n * (n + 1.0) / 2.0 + n * n) * (total + 1.0),
                            (2.0 * cells + n) * sizeof(double)};
    }
    if (g->n <= AC__GAME_TABLE_MAX_PLAYERS) {
        double len = ldexp(1.0, (int)g->n);
        double table = g->kind == AC__GAME_VALUES ? 0.0 : len;
        p[count++] = (plan){table_exact, "the table of 2^n values",
                            len * (value_cost(g) + n),
                            (table + (n + 1.0) * (n + 2.0)) * sizeof(double)};
    }
    return count;
}

static int compute_exact(const ac_game *g, double *phi)
{
    plan p[4];
    int count = plans(g, p);
    if (count == 0)
        return ac__fail(g->err, AC_E_TOO_LARGE,
                        "no exact method for this game of %u players (a "
                        "table needs at most %u players; voting, integer "
                        "weights and at most %u players)",
                        g->n, AC__GAME_TABLE_MAX_PLAYERS,
                        VOTING_DP_MAX_PLAYERS);
    int best = 0;
    for (int k = 1; k < count; k++)
        if (p[k].work < p[best].work)
            best = k;
    const ac_game_limits *lim = &g->limits;
    if (p[best].work > (double)lim->max_exact_work)
        return ac__fail(g->err, AC_E_TOO_LARGE,
                        "%s takes %.3g steps for this game of %u players, "
                        "more than max_exact_work = %llu; raise "
                        "ac_game_limits.max_exact_work when loading the game",
                        p[best].name, p[best].work, g->n,
                        (unsigned long long)lim->max_exact_work);
    /* the work space and the result (n), on top of the game */
    double bytes = p[best].bytes + (double)g->n * sizeof(double);
    uint64_t need = bytes < 1.8e19 ? (uint64_t)bytes : UINT64_MAX;
    int rc = ac__game_check_memory(lim, g->err, g->held, need, p[best].name);
    if (rc != AC_OK)
        return rc;
    return p[best].run(g, phi);
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
    int rc = tmp == NULL ? AC_E_NO_MEMORY : compute_exact(game, tmp);
    if (rc == AC_E_NO_MEMORY) {
        ac__mem_free(&game->mem, tmp);
        return ac__fail(game->err, AC_E_NO_MEMORY,
                        "out of memory computing the exact values");
    }
    for (uint32_t i = 0; rc == AC_OK && i < n; i++)
        if (!isfinite(tmp[i]))
            rc = ac__fail(game->err, AC_E_TOO_LARGE,
                          "the exact value of player %u is %g: the game's "
                          "values are beyond what a double holds", i,
                          tmp[i]);
    if (rc == AC_OK)
        memcpy(phi, tmp, n * sizeof *phi);
    ac__mem_free(&game->mem, tmp);
    return rc;
}
