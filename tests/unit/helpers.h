/* SPDX-License-Identifier: MIT
 *
 * Shared helpers of the unit tests. Everything is static inline, so each test
 * program takes only what it uses and -Wmissing-prototypes stays quiet.
 *
 *  - th_rng: a seeded splitmix64 generator (never rand(): tests must give the
 *    same games on every libc).
 *  - th_game: reference games whose Shapley values the test knows without the
 *    library (closed forms, or brute force from the full table).
 *  - th_shapley_subsets / th_shapley_perms: the two textbook formulas, used as
 *    independent oracles for n <= 20 (subsets) and n <= 9 (permutations).
 *  - th_oracle: an ac_oracle_fn over a th_game that counts calls and records
 *    protocol violations (bad words, stray bits, repeated coalitions, known
 *    coalitions asked for) so a test can assert on them after the run.
 */
#ifndef AC_TEST_HELPERS_H
#define AC_TEST_HELPERS_H

#include <check.h>
#include <ctype.h>
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agentcredit.h"

/* Every test case gets this Check timeout (seconds): the default 4 s is too
 * short under AddressSanitizer; meson's own 120 s per program still bounds
 * the whole file. */
#define TH_TIMEOUT 60

#define TH_PI 3.14159265358979323846

/* ===================================================================== */
/* Running a suite                                                       */
/* ===================================================================== */

static inline int th_run_suite(Suite *s)
{
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}

static inline TCase *th_tcase(Suite *s, const char *name)
{
    TCase *tc = tcase_create(name);
    tcase_set_timeout(tc, TH_TIMEOUT);
    suite_add_tcase(s, tc);
    return tc;
}

/* ===================================================================== */
/* Deterministic random numbers                                          */
/* ===================================================================== */

typedef struct th_rng {
    uint64_t state;
} th_rng;

static inline th_rng th_rng_make(uint64_t seed)
{
    th_rng r;
    r.state = seed * 0xD1B54A32D192ED03ull + 0x8CB92BA72F3D8DD7ull;
    return r;
}

/* splitmix64 (Steele, Lea, Flood 2014). */
static inline uint64_t th_rng_next(th_rng *r)
{
    uint64_t z = (r->state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* A stateless mix of one word: used to derive per-coalition noise and
 * failures that do not depend on the order in which the library asks. */
static inline uint64_t th_mix(uint64_t x)
{
    x += 0x9E3779B97F4A7C15ull;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}

/* Uniform in [0, 1). */
static inline double th_rng_unif(th_rng *r)
{
    return (double)(th_rng_next(r) >> 11) * (1.0 / 9007199254740992.0);
}

static inline double th_rng_range(th_rng *r, double lo, double hi)
{
    return lo + (hi - lo) * th_rng_unif(r);
}

static inline uint32_t th_rng_below(th_rng *r, uint32_t k)
{
    return (uint32_t)(th_rng_next(r) % k);
}

/* Standard normal by Box-Muller. */
static inline double th_rng_normal(th_rng *r)
{
    double u1 = 1.0 - th_rng_unif(r); /* (0, 1] */
    double u2 = th_rng_unif(r);
    return sqrt(-2.0 * log(u1)) * cos(2.0 * TH_PI * u2);
}

static inline void th_shuffle_u64(th_rng *r, uint64_t *a, size_t len)
{
    for (size_t i = len; i > 1; i--) {
        size_t j = (size_t)(th_rng_next(r) % i);
        uint64_t t = a[i - 1];
        a[i - 1] = a[j];
        a[j] = t;
    }
}

/* ===================================================================== */
/* Coalitions                                                            */
/* ===================================================================== */

static inline uint32_t th_words(uint32_t n)
{
    return (n + 63u) / 64u;
}

static inline int th_has(const uint64_t *c, uint32_t i)
{
    return (int)((c[i / 64u] >> (i % 64u)) & 1u);
}

static inline void th_add(uint64_t *c, uint32_t i)
{
    c[i / 64u] |= (uint64_t)1 << (i % 64u);
}

static inline uint32_t th_popcount64(uint64_t x)
{
    uint32_t k = 0;
    while (x) {
        x &= x - 1u;
        k++;
    }
    return k;
}

static inline uint32_t th_popcount(const uint64_t *c, uint32_t words)
{
    uint32_t k = 0;
    for (uint32_t w = 0; w < words; w++)
        k += th_popcount64(c[w]);
    return k;
}

static inline uint64_t *th_coal_new(uint32_t n)
{
    uint64_t *c = calloc(th_words(n) ? th_words(n) : 1u, sizeof *c);
    ck_assert_ptr_nonnull(c);
    return c;
}

static inline void th_coal_full(uint64_t *c, uint32_t n)
{
    memset(c, 0, th_words(n) * sizeof *c);
    for (uint32_t i = 0; i < n; i++)
        th_add(c, i);
}

/* 1 when bits at or beyond n are set (the library must never send any). */
static inline int th_stray_bits(const uint64_t *c, uint32_t n)
{
    uint32_t words = th_words(n);
    if (n % 64u == 0)
        return 0;
    return (c[words - 1] >> (n % 64u)) != 0;
}

/* ===================================================================== */
/* Numbers                                                               */
/* ===================================================================== */

/* Neumaier-compensated sum: the test's own rounding must not hide (or
 * invent) a conservation error of the library. */
static inline double th_sum(const double *x, size_t len)
{
    double s = 0.0, comp = 0.0;
    for (size_t i = 0; i < len; i++) {
        double t = s + x[i];
        if (fabs(s) >= fabs(x[i]))
            comp += (s - t) + x[i];
        else
            comp += (x[i] - t) + s;
        s = t;
    }
    return s + comp;
}

static inline double th_sum_abs(const double *x, size_t len)
{
    double s = 0.0;
    for (size_t i = 0; i < len; i++)
        s += fabs(x[i]);
    return s;
}

/* sum(phi) == v(all) - v(empty) to a relative 1e-12. The scale is the
 * largest magnitude involved (the ends or the credits themselves), so a
 * zero-sum game is still held to rounding accuracy. */
static inline void th_assert_conserves(const double *phi, uint32_t n,
                                       double vall, double vempty)
{
    double s = th_sum(phi, n);
    double target = vall - vempty;
    double scale = fabs(vall) + fabs(vempty);
    double sa = th_sum_abs(phi, n);
    if (sa > scale)
        scale = sa;
    ck_assert_msg(fabs(s - target) <= 1e-12 * scale + 1e-300,
                  "conservation: sum(phi) = %.17g, v(all) - v(empty) = %.17g "
                  "(diff %.3g, scale %.3g, n %u)",
                  s, target, s - target, scale, n);
}

static inline double th_max_abs(const double *x, size_t len)
{
    double m = 0.0;
    for (size_t i = 0; i < len; i++)
        if (fabs(x[i]) > m)
            m = fabs(x[i]);
    return m;
}

/* |got[i] - want[i]| <= tol for all i. */
static inline void th_assert_vec_near(const double *got, const double *want,
                                      uint32_t n, double tol, const char *what)
{
    for (uint32_t i = 0; i < n; i++)
        ck_assert_msg(fabs(got[i] - want[i]) <= tol,
                      "%s: player %u: got %.17g, want %.17g (diff %.3g > %.3g)",
                      what, i, got[i], want[i], got[i] - want[i], tol);
}

static inline int th_icontains(const char *hay, const char *needle)
{
    size_t hn = strlen(hay), nn = strlen(needle);
    for (size_t i = 0; i + nn <= hn; i++) {
        size_t k = 0;
        while (k < nn && tolower((unsigned char)hay[i + k]) ==
                             tolower((unsigned char)needle[k]))
            k++;
        if (k == nn)
            return 1;
    }
    return 0;
}

/* The message names the problem: it contains (case-insensitively) at least
 * one of the NULL-terminated keywords. */
static inline int th_names(const char *msg, const char *const *keywords)
{
    if (!msg)
        return 0;
    for (size_t i = 0; keywords[i]; i++)
        if (th_icontains(msg, keywords[i]))
            return 1;
    return 0;
}

/* ===================================================================== */
/* Brute-force Shapley values from a full table (independent oracles)    */
/* ===================================================================== */

/* s! (n-1-s)! / n! = 1 / (n * C(n-1, s)). */
static inline double th_weight(uint32_t n, uint32_t s)
{
    double binom = 1.0;
    for (uint32_t k = 1; k <= s; k++)
        binom = binom * (double)(n - 1u - s + k) / (double)k;
    return 1.0 / ((double)n * binom);
}

/* The subset formula: phi_i = sum_{S not containing i} w(|S|) (v(S+i) - v(S)).
 * v[S] for S = 0 .. 2^n - 1. */
static inline void th_shapley_subsets(uint32_t n, const double *v, double *phi)
{
    double w[32];
    for (uint32_t s = 0; s < n; s++)
        w[s] = th_weight(n, s);
    uint64_t full = (uint64_t)1 << n;
    for (uint32_t i = 0; i < n; i++) {
        uint64_t bit = (uint64_t)1 << i;
        double acc = 0.0;
        for (uint64_t S = 0; S < full; S++) {
            if (S & bit)
                continue;
            acc += w[th_popcount64(S)] * (v[S | bit] - v[S]);
        }
        phi[i] = acc;
    }
}

/* The permutation formula: the average over all n! orders of each player's
 * marginal contribution (Heap's algorithm). n <= 9. */
static inline void th_shapley_perms(uint32_t n, const double *v, double *phi)
{
    uint32_t perm[16], c[16];
    double count = 0.0;
    for (uint32_t i = 0; i < n; i++) {
        perm[i] = i;
        c[i] = 0;
        phi[i] = 0.0;
    }
    for (;;) {
        uint64_t S = 0;
        for (uint32_t pos = 0; pos < n; pos++) {
            uint64_t bit = (uint64_t)1 << perm[pos];
            phi[perm[pos]] += v[S | bit] - v[S];
            S |= bit;
        }
        count += 1.0;
        /* next permutation */
        uint32_t i = 1;
        while (i < n && c[i] >= i) {
            c[i] = 0;
            i++;
        }
        if (i >= n)
            break;
        uint32_t j = (i % 2u == 0) ? 0 : c[i];
        uint32_t t = perm[j];
        perm[j] = perm[i];
        perm[i] = t;
        c[i]++;
    }
    for (uint32_t i = 0; i < n; i++)
        phi[i] /= count;
}

/* ===================================================================== */
/* Reference games                                                       */
/* ===================================================================== */

typedef enum th_kind {
    TH_TABLE,    /* table[S], n <= 24                                    */
    TH_ADDITIVE, /* v(S) = sum_{i in S} w_i                               */
    TH_SOUM,     /* v(S) = sum_t coef_t [members_t subset of S]           */
    TH_GLOVE,    /* v(S) = min(|S & left|, |S & ~left|), n <= 64           */
    TH_AIRPORT,  /* v(S) = max_{i in S} w_i, 0 for the empty coalition    */
    TH_VOTING    /* v(S) = 1 if sum_{i in S} w_i >= quota else 0          */
} th_kind;

typedef struct th_game {
    th_kind kind;
    uint32_t n, words;
    double *table;     /* TH_TABLE */
    double *w;         /* weights (additive, voting), costs (airport) */
    double quota;      /* TH_VOTING */
    uint64_t left;     /* TH_GLOVE */
    uint32_t nterms;   /* TH_SOUM */
    double *coef;      /* TH_SOUM, nterms */
    uint64_t *members; /* TH_SOUM, nterms * words */
} th_game;

static inline th_game *th_game_new(th_kind kind, uint32_t n)
{
    th_game *g = calloc(1, sizeof *g);
    ck_assert_ptr_nonnull(g);
    g->kind = kind;
    g->n = n;
    g->words = th_words(n);
    return g;
}

static inline void th_game_free(th_game *g)
{
    if (!g)
        return;
    free(g->table);
    free(g->w);
    free(g->coef);
    free(g->members);
    free(g);
}

static inline double th_game_value(const th_game *g, const uint64_t *c)
{
    double v = 0.0;
    switch (g->kind) {
    case TH_TABLE:
        return g->table[c[0]];
    case TH_ADDITIVE:
        for (uint32_t wd = 0; wd < g->words; wd++) {
            uint64_t x = c[wd];
            for (uint32_t b = 0; x; b++, x >>= 1)
                if (x & 1u)
                    v += g->w[wd * 64u + b];
        }
        return v;
    case TH_SOUM:
        for (uint32_t t = 0; t < g->nterms; t++) {
            const uint64_t *m = g->members + (size_t)t * g->words;
            int inside = 1;
            for (uint32_t wd = 0; wd < g->words && inside; wd++)
                if (m[wd] & ~c[wd])
                    inside = 0;
            if (inside)
                v += g->coef[t];
        }
        return v;
    case TH_GLOVE: {
        uint32_t l = th_popcount64(c[0] & g->left);
        uint32_t r = th_popcount64(c[0] & ~g->left);
        return (double)(l < r ? l : r);
    }
    case TH_AIRPORT:
        for (uint32_t i = 0; i < g->n; i++)
            if (th_has(c, i) && g->w[i] > v)
                v = g->w[i];
        return v;
    case TH_VOTING:
        for (uint32_t i = 0; i < g->n; i++)
            if (th_has(c, i))
                v += g->w[i];
        return v >= g->quota ? 1.0 : 0.0;
    }
    return NAN;
}

static inline double th_game_value_mask(const th_game *g, uint64_t mask)
{
    uint64_t c[1] = {mask};
    return th_game_value(g, c);
}

static inline double th_game_all(const th_game *g)
{
    uint64_t *c = th_coal_new(g->n);
    th_coal_full(c, g->n);
    double v = th_game_value(g, c);
    free(c);
    return v;
}

static inline double th_game_empty(const th_game *g)
{
    uint64_t *c = th_coal_new(g->n);
    double v = th_game_value(g, c);
    free(c);
    return v;
}

/* The full value table (n <= 24); the caller frees it. */
static inline double *th_game_table(const th_game *g)
{
    ck_assert_uint_le(g->n, 24);
    uint64_t len = (uint64_t)1 << g->n;
    double *t = malloc(len * sizeof *t);
    ck_assert_ptr_nonnull(t);
    for (uint64_t S = 0; S < len; S++)
        t[S] = th_game_value_mask(g, S);
    return t;
}

/* Shapley values in closed form where the game has one; returns 0 when it
 * does not (table, glove, voting: use brute force). */
static inline int th_game_closed_phi(const th_game *g, double *phi)
{
    uint32_t n = g->n;
    switch (g->kind) {
    case TH_ADDITIVE:
        /* each player is worth exactly its weight */
        memcpy(phi, g->w, n * sizeof *phi);
        return 1;
    case TH_SOUM:
        /* each term's coefficient is split equally among its members */
        for (uint32_t i = 0; i < n; i++)
            phi[i] = 0.0;
        for (uint32_t t = 0; t < g->nterms; t++) {
            const uint64_t *m = g->members + (size_t)t * g->words;
            uint32_t size = th_popcount(m, g->words);
            if (size == 0)
                continue;
            for (uint32_t i = 0; i < n; i++)
                if (th_has(m, i))
                    phi[i] += g->coef[t] / (double)size;
        }
        return 1;
    case TH_AIRPORT: {
        /* sorted ascending c_(0) <= ... <= c_(n-1): the player of rank j
         * gets sum_{k <= j} (c_(k) - c_(k-1)) / (n - k), c_(-1) = 0. */
        uint32_t *order = malloc(n * sizeof *order);
        ck_assert_ptr_nonnull(order);
        for (uint32_t i = 0; i < n; i++)
            order[i] = i;
        for (uint32_t i = 1; i < n; i++) { /* insertion sort, stable */
            uint32_t x = order[i], j = i;
            while (j > 0 && g->w[order[j - 1]] > g->w[x]) {
                order[j] = order[j - 1];
                j--;
            }
            order[j] = x;
        }
        double acc = 0.0, prev = 0.0;
        for (uint32_t k = 0; k < n; k++) {
            double ck = g->w[order[k]];
            acc += (ck - prev) / (double)(n - k);
            prev = ck;
            phi[order[k]] = acc;
        }
        free(order);
        return 1;
    }
    default:
        return 0;
    }
}

static inline th_game *th_game_random_table(uint32_t n, uint64_t seed)
{
    th_rng r = th_rng_make(seed);
    th_game *g = th_game_new(TH_TABLE, n);
    uint64_t len = (uint64_t)1 << n;
    g->table = malloc(len * sizeof *g->table);
    ck_assert_ptr_nonnull(g->table);
    for (uint64_t S = 0; S < len; S++)
        g->table[S] = th_rng_range(&r, -1.0, 1.0);
    return g;
}

static inline th_game *th_game_from_table(uint32_t n, const double *table)
{
    th_game *g = th_game_new(TH_TABLE, n);
    uint64_t len = (uint64_t)1 << n;
    g->table = malloc(len * sizeof *g->table);
    ck_assert_ptr_nonnull(g->table);
    memcpy(g->table, table, len * sizeof *table);
    return g;
}

static inline th_game *th_game_additive(uint32_t n, uint64_t seed)
{
    th_rng r = th_rng_make(seed);
    th_game *g = th_game_new(TH_ADDITIVE, n);
    g->w = malloc(n * sizeof *g->w);
    ck_assert_ptr_nonnull(g->w);
    for (uint32_t i = 0; i < n; i++)
        g->w[i] = th_rng_range(&r, -1.0, 2.0);
    return g;
}

/* A sum of unanimity games: nterms terms, coefficients uniform in [-1, 1],
 * sizes uniform in 1..max_size (distinct members). */
static inline th_game *th_game_soum(uint32_t n, uint32_t nterms,
                                    uint32_t max_size, uint64_t seed)
{
    th_rng r = th_rng_make(seed);
    th_game *g = th_game_new(TH_SOUM, n);
    g->nterms = nterms;
    g->coef = malloc((nterms ? nterms : 1u) * sizeof *g->coef);
    g->members = calloc((size_t)(nterms ? nterms : 1u) * g->words,
                        sizeof *g->members);
    ck_assert_ptr_nonnull(g->coef);
    ck_assert_ptr_nonnull(g->members);
    if (max_size > n)
        max_size = n;
    for (uint32_t t = 0; t < nterms; t++) {
        uint64_t *m = g->members + (size_t)t * g->words;
        g->coef[t] = th_rng_range(&r, -1.0, 1.0);
        uint32_t size = 1u + th_rng_below(&r, max_size);
        uint32_t have = 0;
        while (have < size) {
            uint32_t i = th_rng_below(&r, n);
            if (!th_has(m, i)) {
                th_add(m, i);
                have++;
            }
        }
    }
    return g;
}

static inline th_game *th_game_airport(uint32_t n, const double *costs)
{
    th_game *g = th_game_new(TH_AIRPORT, n);
    g->w = malloc(n * sizeof *g->w);
    ck_assert_ptr_nonnull(g->w);
    memcpy(g->w, costs, n * sizeof *costs);
    return g;
}

static inline th_game *th_game_voting(uint32_t n, const double *weights,
                                      double quota)
{
    th_game *g = th_game_new(TH_VOTING, n);
    g->w = malloc(n * sizeof *g->w);
    ck_assert_ptr_nonnull(g->w);
    memcpy(g->w, weights, n * sizeof *weights);
    g->quota = quota;
    return g;
}

static inline th_game *th_game_glove(uint32_t n, uint64_t left)
{
    th_game *g = th_game_new(TH_GLOVE, n);
    g->left = left;
    return g;
}

/* ===================================================================== */
/* A counting oracle over a th_game                                      */
/* ===================================================================== */

typedef struct th_oracle {
    const th_game *game;
    uint32_t n, words;
    uint64_t calls;      /* oracle invocations */
    uint64_t evals;      /* coalitions evaluated */
    uint32_t max_count;  /* largest batch seen */
    uint64_t bad_words;  /* calls with words != ac_coalition_words(n) */
    uint64_t bad_bits;   /* coalitions with bits at or beyond n */
    uint64_t asked_ends; /* full or empty coalition asked (when forbid_ends) */
    uint64_t duplicates; /* coalitions asked again (when seen != NULL) */
    int forbid_ends;     /* the ends are known: asking them is a bug */
    uint8_t *seen;       /* 2^n flags (n <= 24), or NULL */
    double noise_sd;     /* > 0: Gaussian noise on every evaluation */
    th_rng rng;
} th_oracle;

static inline void th_oracle_init(th_oracle *o, const th_game *g, int track)
{
    memset(o, 0, sizeof *o);
    o->game = g;
    o->n = g->n;
    o->words = th_words(g->n);
    o->rng = th_rng_make(12345);
    if (track) {
        ck_assert_uint_le(g->n, 24);
        o->seen = calloc((size_t)1 << g->n, 1);
        ck_assert_ptr_nonnull(o->seen);
    }
}

static inline void th_oracle_fini(th_oracle *o)
{
    free(o->seen);
    o->seen = NULL;
}

static inline int th_oracle_fn(void *user, const uint64_t *coalitions,
                               uint32_t words, uint32_t count, double *values,
                               int32_t *status)
{
    th_oracle *o = user;
    o->calls++;
    if (count > o->max_count)
        o->max_count = count;
    if (words != o->words) {
        o->bad_words++;
        return 0; /* leave NaN: reading the batch would be out of bounds */
    }
    for (uint32_t k = 0; k < count; k++) {
        const uint64_t *c = coalitions + (size_t)k * words;
        o->evals++;
        if (th_stray_bits(c, o->n))
            o->bad_bits++;
        uint32_t pop = th_popcount(c, words);
        if (o->forbid_ends && (pop == 0 || pop == o->n))
            o->asked_ends++;
        if (o->seen) {
            if (o->seen[c[0]])
                o->duplicates++;
            o->seen[c[0]] = 1;
        }
        double v = th_game_value(o->game, c);
        if (o->noise_sd > 0.0)
            v += o->noise_sd * th_rng_normal(&o->rng);
        values[k] = v;
        status[k] = 0;
    }
    return 0;
}

/* The protocol held: right words, no stray bits, no known end asked. */
static inline void th_oracle_assert_clean(const th_oracle *o)
{
    ck_assert_msg(o->bad_words == 0, "oracle got wrong words %llu times",
                  (unsigned long long)o->bad_words);
    ck_assert_msg(o->bad_bits == 0, "oracle got bits beyond n %llu times",
                  (unsigned long long)o->bad_bits);
    ck_assert_msg(o->asked_ends == 0, "a known end was evaluated %llu times",
                  (unsigned long long)o->asked_ends);
}

/* ===================================================================== */
/* Estimator shortcuts                                                   */
/* ===================================================================== */

#define th_ok(rc, est)                                                       \
    ck_assert_msg((rc) == AC_OK, "%s returned %d (%s): %s", #rc, (int)(rc),  \
                  ac_status_name((int)(rc)), ac_estimator_last_error(est))

static inline ac_estimator *th_est(uint32_t n, int64_t method, int64_t budget,
                                   int64_t seed)
{
    ac_estimator *e = NULL;
    ck_assert_int_eq(ac_estimator_create(&e, n, NULL), AC_OK);
    ck_assert_ptr_nonnull(e);
    th_ok(ac_estimator_set_int(e, AC_ESTIMATOR_PARAM_METHOD, method), e);
    th_ok(ac_estimator_set_int(e, AC_ESTIMATOR_PARAM_BUDGET, budget), e);
    th_ok(ac_estimator_set_int(e, AC_ESTIMATOR_PARAM_SEED, seed), e);
    return e;
}

/* Gives v(all) and v(empty) as known values. */
static inline void th_est_ends(ac_estimator *e, const th_game *g)
{
    uint64_t *c = th_coal_new(g->n);
    th_ok(ac_estimator_set_value(e, c, g->words, th_game_value(g, c)), e);
    th_coal_full(c, g->n);
    th_ok(ac_estimator_set_value(e, c, g->words, th_game_value(g, c)), e);
    free(c);
}

static inline int64_t th_audit(const ac_estimator *e, ac_estimator_audit_key key)
{
    int64_t v = -12345;
    ck_assert_msg(ac_estimator_audit(e, key, &v) == AC_OK,
                  "audit key %d failed", (int)key);
    return v;
}

/* Runs e on g through a fresh counting oracle (into *o, which the caller
 * finalises); phi and se (may be NULL) receive the result. Returns the run's
 * status; on AC_OK the result has been copied. */
static inline int th_run(ac_estimator *e, th_oracle *o, double *phi,
                         double *se)
{
    th_ok(ac_estimator_set_oracle(e, th_oracle_fn, o), e);
    int rc = ac_estimator_run(e);
    if (rc == AC_OK)
        th_ok(ac_estimator_result(e, phi, se, o->n), e);
    return rc;
}

/* An ac_allocator that fails allocation number fail_at (0-based; -1:
 * none) and counts what it hands out, for the out-of-memory tests. */
typedef struct th_fail_alloc {
    long calls;   /* allocations attempted                */
    long fail_at; /* the one that returns NULL (-1: none) */
    long failed;  /* failures injected                    */
    long live;    /* blocks not yet freed                 */
} th_fail_alloc;

static inline void *th_fa_alloc(void *opaque, size_t size)
{
    th_fail_alloc *f = opaque;
    if (f->calls++ == f->fail_at) {
        f->failed++;
        return NULL;
    }
    void *p = malloc(size ? size : 1);
    if (p != NULL)
        f->live++;
    return p;
}

static inline void th_fa_free(void *opaque, void *ptr)
{
    th_fail_alloc *f = opaque;
    if (ptr != NULL) {
        f->live--;
        free(ptr);
    }
}

static inline ac_allocator th_fail_allocator(th_fail_alloc *f)
{
    ac_allocator a = {sizeof(ac_allocator), 0, th_fa_alloc, th_fa_free, f};
    return a;
}

/* An episode loaded from text (flags: AC_JSON_STRICT or 0), asserting the
 * status `want`, that the message holds `says` (NULL: anything) and that
 * *out is set exactly on success; warnings into warn when not NULL. */
static inline ac_episode *th_load(const char *text, uint32_t flags,
                                  int want, const char *says,
                                  char *warn, size_t warn_cap)
{
    ac_episode *ep = NULL;
    char err[512];
    int rc = ac_episode_load_json(&ep, text, strlen(text), NULL, NULL, flags,
                                  err, sizeof err, warn, warn_cap);
    ck_assert_msg(rc == want, "%s: status %d (%s), want %d", text, rc, err,
                  want);
    ck_assert_msg(says == NULL || strstr(err, says) != NULL,
                  "%s: the message \"%s\" does not say \"%s\"", text, err,
                  says);
    ck_assert(rc == AC_OK ? ep != NULL && err[0] == '\0' : ep == NULL);
    return ep;
}

#endif /* AC_TEST_HELPERS_H */
