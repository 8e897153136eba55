/* Fresh instances of the benchmark's game families: see bench_fresh.h.
 *
 * The ranges, each other than the committed games' (gen_games.py):
 *   soum     n = 14, 30, 50 with 40, 70, 150 terms, sizes uniform 1..7,
 *            2..6, 2..8, coefficients uniform in [-2, 2]
 *            (committed: n = 14, 50; 30 and 100 terms, sizes 1..5, [-1, 1])
 *   voting   n = 14, 30, 50, integer weights uniform 1..50, quota
 *            ceil(f x total) with f uniform in [0.4, 0.7]
 *            (committed: weights 1..20, quota floor(total / 2) + 1)
 *   airport  n = 14, 50, costs log-uniform in [0.001, 1]
 *            (committed: uniform in (0, 1])
 *   team     n = 3, 4, 5, 6, 8, 10: each agent's role drawn (complementary,
 *            substitute, helper, saboteur, null; the first complementary),
 *            floor and ceiling of the success rate, leaks, reliabilities,
 *            gains and strengths from other ranges
 *            (committed: fixed roles per n, floor 0.05, ceiling 0.9)
 * Random numbers come from the benchmark's own generator (bench_common.h),
 * seeded from (seed, family, n). */
#define _POSIX_C_SOURCE 200809L /* bench_common.h's clocks */

#include "bench_fresh.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_common.h"

/* ===================================================================== */
/* Text                                                                  */
/* ===================================================================== */

typedef struct text {
    char *p;
    size_t len, cap;
} text;

static void text_printf(text *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void text_printf(text *t, const char *fmt, ...)
{
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        size_t room = t->cap - t->len;
        int k = vsnprintf(t->p ? t->p + t->len : NULL, room, fmt, ap);
        va_end(ap);
        if (k >= 0 && (size_t)k < room) {
            t->len += (size_t)k;
            return;
        }
        t->cap = t->cap ? 2 * t->cap + (size_t)k : 4096 + (size_t)k;
        t->p = xrealloc(t->p, t->cap, 1);
    }
}

/* ,"key":[x0,x1,...] with every bit of each double. */
static void text_array(text *t, const char *key, const double *x, size_t n)
{
    text_printf(t, ",\"%s\":[", key);
    for (size_t i = 0; i < n; i++)
        text_printf(t, "%s%.17g", i ? "," : "", x[i]);
    text_printf(t, "]");
}

/* Ends a game's text with its "exact" and hands the text over. */
static char *text_finish(text *t, const double *phi, size_t n)
{
    text_array(t, "exact", phi, n);
    text_printf(t, "}");
    return t->p;
}

/* ===================================================================== */
/* Random numbers and weights                                            */
/* ===================================================================== */

static void fresh_rng(xoshiro256 *r, uint64_t seed, uint64_t family,
                      uint32_t n)
{
    uint64_t s = seed;
    uint64_t mixed = splitmix64(&s) ^ (family * 0x9E3779B97F4A7C15ull) ^
                     ((uint64_t)n << 32);
    xoshiro_seed(r, mixed);
}

static double uniform_in(xoshiro256 *r, double lo, double hi)
{
    return lo + (hi - lo) * xoshiro_uniform(r);
}

/* Uniform in lo..hi. */
static int int_in(xoshiro256 *r, int lo, int hi)
{
    return lo + (int)(xoshiro_uniform(r) * (double)(hi - lo + 1));
}

/* w(k) = k! (n-1-k)! / n! = 1 / (n C(n-1, k)), k = 0 .. n-1. */
static void shapley_weights(uint32_t n, double *w)
{
    double binom = 1.0;
    for (uint32_t k = 0; k < n; k++) {
        w[k] = 1.0 / ((double)n * binom);
        binom = binom * (double)(n - 1 - k) / (double)(k + 1);
    }
}

/* ===================================================================== */
/* The families                                                          */
/* ===================================================================== */

enum { FAMILY_SOUM = 1, FAMILY_VOTING, FAMILY_AIRPORT, FAMILY_TEAM };

/* phi_i = sum over the terms T holding i of c_T / |T|. */
static char *soum_json(uint64_t seed, uint32_t n, int terms, int size_lo,
                       int size_hi, const char *name)
{
    xoshiro256 r;
    fresh_rng(&r, seed, FAMILY_SOUM, n);
    double *phi = xcalloc(n, sizeof *phi);
    int *members = xcalloc(n, sizeof *members);
    text t = {0};
    text_printf(&t, "{\"name\":\"%s\",\"n\":%u,\"terms\":[", name, n);
    for (int k = 0; k < terms; k++) {
        int size = int_in(&r, size_lo, size_hi);
        for (uint32_t i = 0; i < n; i++) /* partial Fisher-Yates */
            members[i] = (int)i;
        for (int j = 0; j < size; j++) {
            int pick = int_in(&r, j, (int)n - 1), tmp = members[j];
            members[j] = members[pick];
            members[pick] = tmp;
        }
        double coef = uniform_in(&r, -2.0, 2.0);
        text_printf(&t, "%s{\"coef\":%.17g,\"members\":[", k ? "," : "", coef);
        for (int j = 0; j < size; j++) {
            text_printf(&t, "%s%d", j ? "," : "", members[j]);
            phi[members[j]] += coef / size;
        }
        text_printf(&t, "]}");
    }
    text_printf(&t, "]");
    char *json = text_finish(&t, phi, n);
    free(phi);
    free(members);
    return json;
}

/* Player i's value: sum over k of w(k) times the coalitions of k others
 * whose weight lies in [quota - w_i, quota), counted exactly (every count
 * is below 2^50, so a double holds it). */
static void voting_exact(uint32_t n, const int *weight, int quota,
                         double *phi)
{
    int total = 0;
    for (uint32_t i = 0; i < n; i++)
        total += weight[i];
    size_t row = (size_t)total + 1;
    double *count = xcalloc(n * row, sizeof *count), w[64];
    shapley_weights(n, w);
    for (uint32_t i = 0; i < n; i++) {
        memset(count, 0, n * row * sizeof *count);
        count[0] = 1.0;
        uint32_t added = 0;
        int reach = 0;
        for (uint32_t j = 0; j < n; j++) {
            if (j == i)
                continue;
            for (uint32_t k = added + 1; k-- > 0;)
                for (int s = reach; s >= 0; s--)
                    count[(k + 1) * row + (size_t)(s + weight[j])] +=
                        count[k * row + (size_t)s];
            added++;
            reach += weight[j];
        }
        int lo = quota - weight[i] > 0 ? quota - weight[i] : 0;
        phi[i] = 0.0;
        for (uint32_t k = 0; k < n; k++) {
            double swings = 0.0;
            for (int s = lo; s < quota; s++)
                swings += count[k * row + (size_t)s];
            phi[i] += w[k] * swings;
        }
    }
    free(count);
}

static char *voting_json(uint64_t seed, uint32_t n, const char *name)
{
    xoshiro256 r;
    fresh_rng(&r, seed, FAMILY_VOTING, n);
    int *weight = xcalloc(n, sizeof *weight), total = 0;
    for (uint32_t i = 0; i < n; i++) {
        weight[i] = int_in(&r, 1, 50);
        total += weight[i];
    }
    int quota = (int)ceil(uniform_in(&r, 0.4, 0.7) * total);
    double *phi = xcalloc(n, sizeof *phi), *wd = xcalloc(n, sizeof *wd);
    voting_exact(n, weight, quota, phi);
    for (uint32_t i = 0; i < n; i++)
        wd[i] = weight[i];
    text t = {0};
    text_printf(&t, "{\"name\":\"%s\",\"n\":%u,\"type\":\"voting\",\"quota\":%d",
                name, n, quota);
    text_array(&t, "weights", wd, n);
    char *json = text_finish(&t, phi, n);
    free(weight);
    free(phi);
    free(wd);
    return json;
}

static int by_cost(const void *x, const void *y)
{
    const double *a = *(const double *const *)x, *b = *(const double *const *)y;
    return (*a > *b) - (*a < *b);
}

/* With the costs sorted, c_(1) <= ... <= c_(n), the player of rank k gets
 * sum over j <= k of (c_(j) - c_(j-1)) / (n - j + 1). */
static char *airport_json(uint64_t seed, uint32_t n, const char *name)
{
    xoshiro256 r;
    fresh_rng(&r, seed, FAMILY_AIRPORT, n);
    double *cost = xcalloc(n, sizeof *cost), *phi = xcalloc(n, sizeof *phi);
    const double **order = xcalloc(n, sizeof *order);
    for (uint32_t i = 0; i < n; i++) {
        cost[i] = exp(log(1e-3) * xoshiro_uniform(&r));
        order[i] = &cost[i];
    }
    qsort(order, n, sizeof *order, by_cost);
    double acc = 0.0, prev = 0.0;
    for (uint32_t k = 0; k < n; k++) {
        acc += (*order[k] - prev) / (double)(n - k);
        prev = *order[k];
        phi[order[k] - cost] = acc;
    }
    text t = {0};
    text_printf(&t, "{\"name\":\"%s\",\"n\":%u,\"type\":\"airport\"", name, n);
    text_array(&t, "costs", cost, n);
    char *json = text_finish(&t, phi, n);
    free(cost);
    free(phi);
    free(order);
    return json;
}

enum { ROLE_COMP, ROLE_SUBS, ROLE_HELPER, ROLE_SAB, ROLE_NULL };

typedef struct team_model {
    uint32_t n;
    int role[16];
    double floor, ceiling, leak[16], q[16], gain[16], strength[16];
} team_model;

/* The committed games' model (gen_games.py, team_game) with its own
 * parameters: complementary agents all needed (a missing one leaves its
 * leak), substitutes of which one is enough, helpers that cut the failure
 * rate, saboteurs that cut the success rate. */
static double team_value(const team_model *m, uint64_t s)
{
    double comp = 1.0, subs_fail = 1.0;
    int has_subs = 0;
    for (uint32_t i = 0; i < m->n; i++) {
        int in = (int)((s >> i) & 1u);
        if (m->role[i] == ROLE_COMP && !in)
            comp *= m->leak[i];
        if (m->role[i] == ROLE_SUBS) {
            has_subs = 1;
            if (in)
                subs_fail *= 1.0 - m->q[i];
        }
    }
    double p = m->floor +
               (m->ceiling - m->floor) * comp * (has_subs ? 1.0 - subs_fail : 1.0);
    double fail = 1.0 - p;
    for (uint32_t i = 0; i < m->n; i++)
        if (m->role[i] == ROLE_HELPER && ((s >> i) & 1u))
            fail *= 1.0 - m->gain[i];
    p = 1.0 - fail;
    for (uint32_t i = 0; i < m->n; i++)
        if (m->role[i] == ROLE_SAB && ((s >> i) & 1u))
            p *= 1.0 - m->strength[i];
    return p;
}

static void team_draw(xoshiro256 *r, uint32_t n, team_model *m)
{
    static const double role_cdf[] = {0.3, 0.6, 0.8, 0.9, 1.0};
    m->n = n;
    m->floor = uniform_in(r, 0.02, 0.15);
    m->ceiling = uniform_in(r, 0.8, 0.98);
    for (uint32_t i = 0; i < n; i++) {
        double u = xoshiro_uniform(r);
        int role = 0;
        while (u >= role_cdf[role])
            role++;
        m->role[i] = i == 0 ? ROLE_COMP : role;
        m->leak[i] = uniform_in(r, 0.0, 0.2);
        m->q[i] = uniform_in(r, 0.3, 0.8);
        m->gain[i] = uniform_in(r, 0.1, 0.6);
        m->strength[i] = uniform_in(r, 0.2, 0.7);
    }
}

static char *team_json(uint64_t seed, uint32_t n, const char *name)
{
    xoshiro256 r;
    fresh_rng(&r, seed, FAMILY_TEAM, n);
    team_model m;
    team_draw(&r, n, &m);
    uint64_t size = (uint64_t)1 << n;
    double *v = xcalloc((size_t)size, sizeof *v), *phi = xcalloc(n, sizeof *phi);
    double w[16];
    for (uint64_t s = 0; s < size; s++)
        v[s] = team_value(&m, s);
    shapley_weights(n, w);
    for (uint32_t i = 0; i < n; i++) /* the Shapley formula, term by term */
        for (uint64_t s = 0; s < size; s++)
            if (!((s >> i) & 1u))
                phi[i] += w[__builtin_popcountll(s)] *
                          (v[s | ((uint64_t)1 << i)] - v[s]);
    text t = {0};
    text_printf(&t, "{\"name\":\"%s\",\"n\":%u,\"noise\":{\"kind\":"
                    "\"bernoulli\"}", name, n);
    text_array(&t, "values", v, (size_t)size);
    char *json = text_finish(&t, phi, n);
    free(v);
    free(phi);
    return json;
}

/* ===================================================================== */
/* The set                                                               */
/* ===================================================================== */

typedef struct fresh_spec {
    int family;
    uint32_t n;
    int terms, size_lo, size_hi; /* soum */
    int quick;                   /* in the --quick set */
} fresh_spec;

static const fresh_spec SPECS[] = {
    {FAMILY_SOUM, 14, 40, 1, 7, 1},   {FAMILY_SOUM, 30, 70, 2, 6, 0},
    {FAMILY_SOUM, 50, 150, 2, 8, 0},  {FAMILY_VOTING, 14, 0, 0, 0, 1},
    {FAMILY_VOTING, 30, 0, 0, 0, 0},  {FAMILY_VOTING, 50, 0, 0, 0, 0},
    {FAMILY_AIRPORT, 14, 0, 0, 0, 1}, {FAMILY_AIRPORT, 50, 0, 0, 0, 0},
    {FAMILY_TEAM, 3, 0, 0, 0, 1},     {FAMILY_TEAM, 4, 0, 0, 0, 0},
    {FAMILY_TEAM, 5, 0, 0, 0, 1},     {FAMILY_TEAM, 6, 0, 0, 0, 0},
    {FAMILY_TEAM, 8, 0, 0, 0, 0},     {FAMILY_TEAM, 10, 0, 0, 0, 0},
};
#define N_SPECS (sizeof SPECS / sizeof SPECS[0])

fresh_game *fresh_games(uint64_t seed, int quick, size_t *count)
{
    static const char *const family[] = {"", "soum", "voting", "airport",
                                         "team"};
    fresh_game *games = xcalloc(N_SPECS, sizeof *games);
    size_t k = 0;
    for (size_t i = 0; i < N_SPECS; i++) {
        const fresh_spec *sp = &SPECS[i];
        if (quick && !sp->quick)
            continue;
        fresh_game *g = &games[k++];
        char label[96];
        snprintf(g->name, sizeof g->name, "%s_n%u", family[sp->family], sp->n);
        snprintf(label, sizeof label, "fresh %s, seed %llu", g->name,
                 (unsigned long long)seed);
        switch (sp->family) {
        case FAMILY_SOUM:
            g->json = soum_json(seed, sp->n, sp->terms, sp->size_lo,
                                sp->size_hi, label);
            break;
        case FAMILY_VOTING:
            g->json = voting_json(seed, sp->n, label);
            break;
        case FAMILY_AIRPORT:
            g->json = airport_json(seed, sp->n, label);
            break;
        default:
            g->json = team_json(seed, sp->n, label);
            break;
        }
    }
    *count = k;
    return games;
}

void fresh_games_free(fresh_game *games, size_t count)
{
    for (size_t i = 0; games != NULL && i < count; i++)
        free(games[i].json);
    free(games);
}
