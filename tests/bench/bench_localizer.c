/* The first-error localizer benchmark (docs/performance.md, section 3).
 *
 *   bench_localizer [--quick] [--trials N] [--data DIR] [--only SECTIONS]
 *
 * Sections (--only takes a comma list):
 *   exact       exact monotone verifier, T in {8, 32, 128, 1024}, every
 *               first-error position: binary search is always right and uses
 *               at most ceil(log2(T+1)) calls
 *   noisy       a verifier right with probability p, independently at every
 *               call; T in {16, 64, 256}, p in {0.9, 0.8, 0.7}: exact
 *               accuracy and mean calls of probabilistic bisection (two
 *               targets), linear scan and plain binary search, against the
 *               limit log2(T+1) / (1 - H(p)); then batches of W = 4
 *   repeatable  the same grid with a verifier that repeats its answer for a
 *               prefix: exact and +-1 accuracy, calls, and calibration of the
 *               reported probability
 *   real        the Who&When Algorithm-Generated transcripts: a verifier
 *               simulated from each episode's human label (on track before
 *               mistake_step, off from it, answers flipped with probability
 *               1 - p); exact and +-1 accuracy and calls per strategy
 *
 * Until API 1.0 this program also held research on search policies rather
 * than measurements of the library: a Bayes-optimal search by value
 * iteration, bisection's cost frontier over its target, and other stop
 * rules. Their code is this file at commit ae847a8; their figures stay in
 * docs/performance.md.
 *
 * Every first error is drawn uniformly from 0..T-1 (the episodes failed);
 * the localizer is not told so, but in the noisy section's known-failure
 * column: its prior is uniform over 0..T, "no error" included. All
 * randomness comes from the benchmark's own splitmix64 stream, seeded per
 * trial, so every figure is reproducible bit for bit.
 *
 * Exit status 1 when a hard check fails: a library error, an audit whose
 * call count differs from the verifier's own, an exact-verifier result
 * that is wrong or costs more than ceil(log2(T+1)) calls, a batch that
 * hands out more than W prefixes, or a real episode that an exact verifier
 * does not localize exactly. */
#define _POSIX_C_SOURCE 200809L /* clock_gettime in bench_common.h */

#include <agentcredit.h>

#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_common.h"

/* ------------------------------------------------------------------ */
/* Randomness and the simulated verifier                               */
/* ------------------------------------------------------------------ */

/* One splitmix64 step as a hash of x. */
static uint64_t mix64(uint64_t x)
{
    return splitmix64(&x);
}

static double unit(uint64_t x)
{
    return (double)(mix64(x) >> 11) * 0x1.0p-53;
}

typedef struct sim_verifier {
    uint32_t T, h;      /* the first error; T: none                       */
    double p;           /* probability of a right answer                  */
    int repeatable;     /* the same answer for the same prefix            */
    uint64_t seed, draws;
    int64_t calls, max_batch;
} sim_verifier;

static int sim_answer(void *user, const uint32_t *prefixes, uint32_t count,
                      double *p_on_track, int32_t *status)
{
    sim_verifier *v = user;
    (void)status;
    if ((int64_t)count > v->max_batch)
        v->max_batch = count;
    for (uint32_t k = 0; k < count; k++) {
        uint32_t t = prefixes[k];
        int on = t < v->h;
        double r = v->repeatable ? unit(v->seed * 0x100000001b3ull + t)
                                 : unit(v->seed ^ (0x5bd1e995ull * ++v->draws));
        if (r >= v->p)
            on = !on;
        p_on_track[k] = on ? 1.0 : 0.0;
        v->calls++;
    }
    return 0;
}

typedef struct outcome {
    int64_t step, calls, rounds, kind;
    double prob;
} outcome;

/* What the localizer is told: the noise model (which may be the wrong
 * one), the strategy, W prefixes a round, the target, and whether the
 * episode is known to have failed (a prior with no mass on "no error",
 * ac_localizer_set_prior, as a host localizing a failed episode may). */
typedef struct search {
    int noise, strategy;
    uint32_t W;
    double target;
    int known_failure;
} search;

/* A localizer for T messages set up as the benchmark runs it: told `s`,
 * the accuracy p, a budget that never binds and no scan after the search. */
static int bench_localizer(ac_localizer **out, uint32_t T, double p,
                           search s)
{
    ac_localizer *loc = NULL;
    int rc = ac_localizer_create(&loc, T, NULL);
    if (rc == AC_OK) rc = ac_localizer_set_int(loc, AC_LOCALIZER_PARAM_STRATEGY, s.strategy);
    if (rc == AC_OK) rc = ac_localizer_set_int(loc, AC_LOCALIZER_PARAM_NOISE, s.noise);
    if (rc == AC_OK && s.noise != AC_NOISE_NONE)
        rc = ac_localizer_set_f64(loc, AC_LOCALIZER_PARAM_ACCURACY, p);
    if (rc == AC_OK) rc = ac_localizer_set_f64(loc, AC_LOCALIZER_PARAM_TARGET, s.target);
    if (rc == AC_OK) rc = ac_localizer_set_int(loc, AC_LOCALIZER_PARAM_BATCH, s.W);
    if (rc == AC_OK) rc = ac_localizer_set_int(loc, AC_LOCALIZER_PARAM_BUDGET, 100000);
    if (rc == AC_OK) rc = ac_localizer_set_int(loc, AC_LOCALIZER_PARAM_SCAN_AFTER, 0);
    if (rc == AC_OK && s.known_failure) {
        double *prior = calloc((size_t)T + 1, sizeof *prior);
        for (uint32_t t = 0; prior != NULL && t < T; t++)
            prior[t] = 1.0;
        rc = prior ? ac_localizer_set_prior(loc, prior, T + 1) : AC_E_NO_MEMORY;
        free(prior);
    }
    *out = loc;
    return rc;
}

/* One localization, the only place the benchmark drives the library: the
 * verifier is repeatable or not (verifier_repeats), whatever the localizer
 * is told in `s`. */
static outcome localize_as(uint32_t T, uint32_t h, double p, search s,
                           int verifier_repeats, uint64_t seed)
{
    sim_verifier v = {T, h, s.noise == AC_NOISE_NONE ? 1.0 : p,
                      verifier_repeats, mix64(seed), 0, 0, 0};
    outcome o = {-2, 0, 0, 0, 0.0};
    ac_localizer *loc = NULL;
    int rc = bench_localizer(&loc, T, p, s);
    if (rc == AC_OK) rc = ac_localizer_set_verifier(loc, sim_answer, &v);
    if (rc == AC_OK) rc = ac_localizer_run(loc);
    if (rc == AC_OK) rc = ac_localizer_result(loc, &o.step, NULL, &o.prob);
    if (rc == AC_OK) rc = ac_localizer_audit(loc, AC_LOCALIZER_AUDIT_SEARCH_EVALUATIONS, &o.calls);
    if (rc == AC_OK) rc = ac_localizer_audit(loc, AC_LOCALIZER_AUDIT_SEARCH_ROUNDS, &o.rounds);
    if (rc == AC_OK) rc = ac_localizer_audit(loc, AC_LOCALIZER_AUDIT_OUTCOME, &o.kind);
    CHECK(rc == AC_OK, "T %u h %u strategy %d: %s (%s)", T, h, s.strategy,
          ac_strerror(rc), loc ? ac_localizer_last_error(loc) : "");
    CHECK(v.calls == o.calls, "the verifier saw %lld calls, the audit says %lld",
          (long long)v.calls, (long long)o.calls);
    CHECK(v.max_batch <= (int64_t)s.W, "a batch of %lld > W = %u",
          (long long)v.max_batch, s.W);
    ac_localizer_free(loc);
    if (o.step < 0)
        o.step = T; /* "no error" is hypothesis T */
    return o;
}

/* One localization whose verifier behaves as the localizer is told. */
static outcome localize(uint32_t T, uint32_t h, double p, search s,
                        uint64_t seed)
{
    return localize_as(T, h, p, s, s.noise == AC_NOISE_REPEATABLE, seed);
}

static double binary_entropy(double p)
{
    return -p * log2(p) - (1.0 - p) * log2(1.0 - p);
}

static double limit_calls(uint32_t T, double p)
{
    return log2((double)T + 1.0) / (1.0 - binary_entropy(p));
}

/* ------------------------------------------------------------------ */
/* Sections                                                            */
/* ------------------------------------------------------------------ */

static void section_exact(int quick)
{
    static const uint32_t Ts[] = {8, 32, 128, 1024};
    const search binary = {AC_NOISE_NONE, AC_STRATEGY_BINARY, 1, 0.95, 0};
    printf("\n## Exact verifier: binary search (W = 1), every first-error "
           "position\n\n");
    printf("| T | positions | bound ceil(log2(T+1)) | max calls | mean calls "
           "| right |\n|---:|---:|---:|---:|---:|---:|\n");
    for (size_t i = 0; i < sizeof Ts / sizeof Ts[0]; i++) {
        uint32_t T = Ts[i], stride = quick && T > 128 ? 37 : 1;
        int64_t bound = (int64_t)ceil(log2((double)T + 1.0)), worst = 0;
        double total = 0.0;
        uint32_t n = 0, right = 0;
        for (uint32_t h = 0; h <= T; h += stride) {
            outcome o = localize(T, h, 1.0, binary, h);
            right += o.step == (int64_t)h && o.prob == 1.0;
            worst = o.calls > worst ? o.calls : worst;
            total += (double)o.calls;
            n++;
        }
        CHECK(right == n, "exact T %u: %u of %u right", T, right, n);
        CHECK(worst <= bound, "exact T %u: %lld calls > %lld", T,
              (long long)worst, (long long)bound);
        printf("| %u | %u | %lld | %lld | %.2f | %u/%u |\n", T, n,
               (long long)bound, (long long)worst, total / n, right, n);
    }
}

typedef struct cell {
    double exact, within1, calls, rounds, prob;
} cell;

/* Trial k of a cell salted `salt`: its first error, uniform on 0..T-1, and
 * (returned) the seed of its verifier. Cells and strategies that share a
 * salt see the same errors and the same answers. */
static uint64_t trial_draw(uint64_t salt, int k, uint32_t T, uint32_t *h)
{
    uint64_t seed = mix64(salt * 1000003u + (uint64_t)k);
    *h = (uint32_t)(unit(seed) * T);
    return seed + 1;
}

static cell run_cell(uint32_t T, double p, search s, int trials,
                     uint64_t salt)
{
    cell c = {0, 0, 0, 0, 0};
    for (int k = 0; k < trials; k++) {
        uint32_t h;
        uint64_t seed = trial_draw(salt, k, T, &h);
        outcome o = localize(T, h, p, s, seed);
        c.exact += o.step == (int64_t)h;
        c.within1 += llabs(o.step - (int64_t)h) <= 1;
        c.calls += (double)o.calls;
        c.rounds += (double)o.rounds;
        c.prob += o.prob;
    }
    c.exact /= trials;
    c.within1 /= trials;
    c.calls /= trials;
    c.rounds /= trials;
    c.prob /= trials;
    return c;
}

static const uint32_t GRID_T[] = {16, 64, 256};
static const double GRID_P[] = {0.9, 0.8, 0.7};

static void section_noisy(int trials)
{
    const int ind = AC_NOISE_INDEPENDENT, bis = AC_STRATEGY_BISECTION;
    printf("\n## Noisy verifier, independent errors (%d trials a cell)\n\n",
           trials);
    printf("x limit = mean calls / (log2(T+1) / (1 - H(p))). bisection "
           "target q: stop once the first error's posterior reaches q.\n\n");
    printf("| T | p | limit | bisection q=0.92: exact | calls | x limit | "
           "q=0.95: exact | calls | x limit | mean reported p | known failure,"
           " q=0.93: exact | x limit | linear: exact | calls | binary: exact "
           "| calls |\n");
    printf("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:"
           "|---:|---:|---:|\n");
    for (size_t i = 0; i < 3; i++)
        for (size_t j = 0; j < 3; j++) {
            uint32_t T = GRID_T[i];
            double p = GRID_P[j], lim = limit_calls(T, p);
            uint64_t salt = 100 + 10 * i + j;
            cell b92 = run_cell(T, p, (search){ind, bis, 1, 0.92, 0}, trials,
                                salt);
            cell b95 = run_cell(T, p, (search){ind, bis, 1, 0.95, 0}, trials,
                                salt);
            cell lin = run_cell(T, p, (search){ind, AC_STRATEGY_LINEAR, 1, 0.95,
                                               0}, trials, salt);
            cell bin = run_cell(T, p, (search){ind, AC_STRATEGY_BINARY, 1, 0.95,
                                               0}, trials, salt);
            cell f93 = run_cell(T, p, (search){ind, bis, 1, 0.93, 1}, trials,
                                salt);
            printf("| %u | %.1f | %.2f | %.4f | %.2f | %.3f | %.4f | %.2f | "
                   "%.3f | %.4f | %.4f | %.3f | %.4f | %.2f | %.4f | %.2f |\n",
                   T, p, lim, b92.exact, b92.calls, b92.calls / lim,
                   b95.exact, b95.calls, b95.calls / lim, b95.prob,
                   f93.exact, f93.calls / lim, lin.exact, lin.calls,
                   bin.exact, bin.calls);
        }
    printf("\n### Batches: W = 4 prefixes per verifier call (bisection, "
           "q = 0.95)\n\n");
    printf("| T | p | exact | calls | rounds | calls / rounds | rounds, W = 1 "
           "|\n|---:|---:|---:|---:|---:|---:|---:|\n");
    for (size_t i = 0; i < 3; i++)
        for (size_t j = 0; j < 3; j++) {
            uint32_t T = GRID_T[i];
            double p = GRID_P[j];
            uint64_t salt = 100 + 10 * i + j;
            cell w4 = run_cell(T, p, (search){ind, bis, 4, 0.95, 0}, trials,
                               salt);
            cell w1 = run_cell(T, p, (search){ind, bis, 1, 0.95, 0}, trials,
                               salt);
            printf("| %u | %.1f | %.4f | %.2f | %.2f | %.2f | %.2f |\n", T, p,
                   w4.exact, w4.calls, w4.rounds, w4.calls / w4.rounds,
                   w1.rounds);
        }
}

#define BINS 10

static void section_repeatable(int trials)
{
    const search repeatable = {AC_NOISE_REPEATABLE, AC_STRATEGY_BISECTION, 1,
                               0.95, 0},
                 independent = {AC_NOISE_INDEPENDENT, AC_STRATEGY_BISECTION, 1,
                                0.95, 0};
    printf("\n## Noisy verifier, repeatable answers (a judge at temperature "
           "0; %d trials a cell)\n\n", trials);
    printf("| T | p | exact | +-1 | calls | mean reported p | naive "
           "(independent model, may re-ask): exact | its mean reported p |\n");
    printf("|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    double bin_p[BINS] = {0}, bin_hit[BINS] = {0};
    double bin_n[BINS] = {0};
    for (size_t i = 0; i < 3; i++)
        for (size_t j = 0; j < 3; j++) {
            uint32_t T = GRID_T[i];
            double p = GRID_P[j];
            uint64_t salt = 200 + 10 * i + j;
            cell c = {0, 0, 0, 0, 0}, naive = {0, 0, 0, 0, 0};
            for (int k = 0; k < trials; k++) {
                uint32_t h;
                uint64_t seed = trial_draw(salt, k, T, &h);
                outcome o = localize(T, h, p, repeatable, seed);
                int hit = o.step == (int64_t)h;
                c.exact += hit;
                c.within1 += llabs(o.step - (int64_t)h) <= 1;
                c.calls += (double)o.calls;
                c.prob += o.prob;
                int b = (int)(o.prob * BINS);
                b = b >= BINS ? BINS - 1 : b;
                bin_p[b] += o.prob;
                bin_hit[b] += hit;
                bin_n[b]++;
                /* The same verifier, wrongly declared independent: the
                 * search re-asks and believes the repeated answers. */
                outcome w = localize_as(T, h, p, independent, 1, seed);
                naive.exact += w.step == (int64_t)h;
                naive.prob += w.prob;
            }
            printf("| %u | %.1f | %.4f | %.4f | %.2f | %.4f | %.4f | %.4f |\n",
                   T, p, c.exact / trials, c.within1 / trials,
                   c.calls / trials, c.prob / trials, naive.exact / trials,
                   naive.prob / trials);
        }
    printf("\n### Calibration of the reported probability (repeatable, all "
           "cells)\n\n| reported p | results | mean reported | observed "
           "exact |\n|---|---:|---:|---:|\n");
    for (int b = 0; b < BINS; b++)
        if (bin_n[b] > 0)
            printf("| %.1f-%.1f | %.0f | %.3f | %.3f |\n", (double)b / BINS,
                   (double)(b + 1) / BINS, bin_n[b], bin_p[b] / bin_n[b],
                   bin_hit[b] / bin_n[b]);
}

/* ------------------------------------------------------------------ */
/* Real transcripts                                                    */
/* ------------------------------------------------------------------ */

typedef struct episode {
    uint32_t T, h;
} episode;

/* history length and mistake_step of each Who&When file in dir. */
static size_t load_episodes(const char *dir, episode *out, size_t cap)
{
    size_t n = 0, nn = 0;
    /* a fixed order, whatever the directory's */
    char **names = list_json_files(dir, NULL, &nn);
    if (names == NULL)
        return 0;
    for (size_t i = 0; i < nn; i++) {
        json_error_t jerr;
        json_t *root = json_load_file(names[i], 0, &jerr);
        json_t *hist = root ? json_object_get(root, "history") : NULL;
        json_t *step = root ? json_object_get(root, "mistake_step") : NULL;
        if (json_is_array(hist) && json_array_size(hist) > 0 &&
            (json_is_string(step) || json_is_integer(step)) && n < cap) {
            long h = json_is_string(step) ? strtol(json_string_value(step), NULL, 10)
                                          : (long)json_integer_value(step);
            uint32_t T = (uint32_t)json_array_size(hist);
            if (h >= 0 && (uint32_t)h < T)
                out[n++] = (episode){T, (uint32_t)h};
        } else if (root == NULL) {
            fprintf(stderr, "skipping %s: %s\n", names[i], jerr.text);
        }
        json_decref(root);
        free(names[i]);
    }
    free(names);
    return n;
}

static void section_real(const char *dir, int seeds)
{
    episode eps[512];
    size_t n = load_episodes(dir, eps, 512);
    printf("\n## Real transcripts: %s\n\n", dir);
    if (n == 0) {
        printf("No episodes found (give --data DIR).\n");
        return;
    }
    double mean_T = 0.0;
    for (size_t i = 0; i < n; i++)
        mean_T += eps[i].T;
    printf("%zu episodes, %.1f messages on average; %d seeds each. The "
           "verifier is simulated from the human label.\n\n", n, mean_T / n,
           seeds);
    printf("| p | strategy | exact | +-1 | mean calls | mean reported p |\n"
           "|---:|---|---:|---:|---:|---:|\n");
    static const double ps[] = {1.0, 0.9, 0.8, 0.7};
    static const struct {
        const char *name;
        int strategy, noise;
    } S[] = {
        {"linear scan", AC_STRATEGY_LINEAR, AC_NOISE_INDEPENDENT},
        {"binary search", AC_STRATEGY_BINARY, AC_NOISE_INDEPENDENT},
        {"bisection, independent errors", AC_STRATEGY_BISECTION, AC_NOISE_INDEPENDENT},
        {"bisection, repeatable answers", AC_STRATEGY_BISECTION, AC_NOISE_REPEATABLE},
    };
    for (size_t pi = 0; pi < sizeof ps / sizeof ps[0]; pi++)
        for (size_t si = 0; si < sizeof S / sizeof S[0]; si++) {
            double p = ps[pi];
            int noise = p == 1.0 ? AC_NOISE_NONE : S[si].noise;
            const search s = {noise, S[si].strategy, 1, 0.95, 0};
            if (p == 1.0 && si == 3)
                continue; /* an exact verifier has one model */
            cell c = {0, 0, 0, 0, 0};
            for (size_t e = 0; e < n; e++)
                for (int k = 0; k < seeds; k++) {
                    uint64_t seed = mix64(7000 + e * 1009 + (uint64_t)k);
                    outcome o = localize(eps[e].T, eps[e].h, p, s, seed);
                    c.exact += o.step == (int64_t)eps[e].h;
                    c.within1 += llabs(o.step - (int64_t)eps[e].h) <= 1;
                    c.calls += (double)o.calls;
                    c.prob += o.prob;
                }
            double m = (double)n * seeds;
            printf("| %.1f | %s | %.4f | %.4f | %.2f | %.4f |\n", p,
                   p == 1.0 && si == 2 ? "bisection (exact verifier)"
                                       : S[si].name,
                   c.exact / m, c.within1 / m, c.calls / m, c.prob / m);
            if (p == 1.0)
                CHECK(c.exact == m, "real, exact verifier, %s: %.0f of %.0f",
                      S[si].name, c.exact, m);
        }
}

/* ------------------------------------------------------------------ */

#define SECTIONS "exact,noisy,repeatable,real"

static void usage(void)
{
    printf("usage: bench_localizer [--quick] [--trials N] [--data DIR] "
           "[--only " SECTIONS "]\n"
           "  --quick      a smoke test: few trials, T = 1024 sampled\n"
           "  --trials N   trials per cell (default 2000; --quick 40)\n"
           "  --data DIR   Who&When Algorithm-Generated episodes (JSON); "
           "without it, no real section\n"
           "  --only LIST  the sections to run, a comma list (default all)\n");
}

/* Whether every name in the comma list `only` is a section: a name that is
 * not (a typo, or a section removed since) must not pass as a run that
 * measured nothing. */
static int sections_known(const char *only)
{
    static const char *const names[] = {"exact", "noisy", "repeatable",
                                        "real"};
    while (*only != '\0') {
        size_t len = strcspn(only, ","), i = 0;
        while (i < sizeof names / sizeof names[0] &&
               (strlen(names[i]) != len || strncmp(names[i], only, len) != 0))
            i++;
        if (i == sizeof names / sizeof names[0])
            return 0;
        only += len + (only[len] == ',');
    }
    return 1;
}

int main(int argc, char **argv)
{
    int quick = 0, trials = -1;
    long long v;
    const char *data = NULL, *only = SECTIONS;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--quick") == 0)
            quick = 1;
        else if (strcmp(argv[i], "--trials") == 0 && i + 1 < argc &&
                 parse_int(argv[i + 1], 1, 10000000, &v) == 0) {
            trials = (int)v;
            i++;
        }
        else if (strcmp(argv[i], "--data") == 0 && i + 1 < argc)
            data = argv[++i];
        else if (strcmp(argv[i], "--only") == 0 && i + 1 < argc &&
                 sections_known(argv[i + 1]))
            only = argv[++i];
        else {
            usage();
            return strcmp(argv[i], "--help") == 0 ? 0 : 2;
        }
    }
    if (trials < 1)
        trials = quick ? 40 : 2000;
    printf("agentcredit %s first-error localizer benchmark%s\n",
           ac_version_string(), quick ? " --quick (smoke test, not figures)"
                                      : "");
    if (strstr(only, "exact"))
        section_exact(quick);
    if (strstr(only, "noisy"))
        section_noisy(trials);
    if (strstr(only, "repeatable"))
        section_repeatable(trials);
    if (strstr(only, "real") && data != NULL)
        section_real(data, quick ? 2 : 40);
    if (g_failures > 0) {
        fprintf(stderr, "%d checks failed\n", g_failures);
        return 1;
    }
    printf("\nall checks passed\n");
    return 0;
}
