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
 *   optimal     the Bayes-optimal search, computed exactly by value
 *               iteration for T = 7 (--optimal-t), against the library's
 *               bisection at every target: is any search cheaper at the
 *               same accuracy, and where does the library lose (its stop
 *               or its question)? p = 0.8, the episode known to have failed
 *   frontier    the library's accuracy against calls over its target q,
 *               told the episode failed: what 95% exact costs in every cell
 *               of the grid (50x trials), and a few q at T = 64, p = 0.8
 *   stops       other stops for the same questions at T = 7, 9 and 64, p = 0.8,
 *               told the episode failed (500x trials): stop on the mass
 *               beside the top, split into its two sides, not on the top
 *               alone; checked against the library's own stop
 *   real        the Who&When Algorithm-Generated transcripts: a verifier
 *               simulated from each episode's human label (on track before
 *               mistake_step, off from it, answers flipped with probability
 *               1 - p); exact and +-1 accuracy and calls per strategy
 *
 * Every first error is drawn uniformly from 0..T-1 (the episodes failed);
 * the localizer is not told so: its prior is uniform over 0..T, "no error"
 * included. All randomness comes from the benchmark's own splitmix64 stream,
 * seeded per trial, so every figure is reproducible bit for bit.
 *
 * Exit status 1 when a hard check fails: a library error, a budget
 * overrun, an exact-verifier result that is wrong or costs more than
 * ceil(log2(T+1)) calls, a batch that hands out more than W prefixes, an
 * optimal policy whose plays do not earn the solver's value, a library
 * search that beats the optimum, the library's losses against the optimum
 * not adding up to its excess cost (these three beyond 4 standard errors),
 * or the bench's own stop at the library's target disagreeing with a
 * plain library run in any trial. */
#define _POSIX_C_SOURCE 200809L /* clock_gettime in bench_common.h */

#include <agentcredit.h>

#include <dirent.h>
#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_common.h"

/* A check: on failure, reported and counted by bench_common.h's fail(). */
#define CHECK(cond, ...)                                                   \
    do {                                                                   \
        if (!(cond))                                                       \
            fail(__VA_ARGS__);                                             \
    } while (0)

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
    double before, after; /* posterior mass on the steps before and after */
} outcome;

/* When set, the localizer is told the episode failed: a prior with no mass
 * on "no error" (ac_localizer_set_prior), as a host localizing a failed
 * episode may. */
static int g_known_failure;

/* A localizer for T messages set up as the benchmark runs it: told the
 * noise model, the target and W, a budget that never binds, no scan after
 * the search, and the known-failure prior when g_known_failure is set. */
static int bench_localizer(ac_localizer **out, uint32_t T, double p, int noise,
                           int strategy, uint32_t W, double target)
{
    ac_localizer *loc = NULL;
    int rc = ac_localizer_create(&loc, T, NULL);
    if (rc == AC_OK) rc = ac_localizer_set_int(loc, AC_LOCALIZER_PARAM_STRATEGY, strategy);
    if (rc == AC_OK) rc = ac_localizer_set_int(loc, AC_LOCALIZER_PARAM_NOISE, noise);
    if (rc == AC_OK && noise != AC_NOISE_NONE)
        rc = ac_localizer_set_f64(loc, AC_LOCALIZER_PARAM_ACCURACY, p);
    if (rc == AC_OK) rc = ac_localizer_set_f64(loc, AC_LOCALIZER_PARAM_TARGET, target);
    if (rc == AC_OK) rc = ac_localizer_set_int(loc, AC_LOCALIZER_PARAM_BATCH, W);
    if (rc == AC_OK) rc = ac_localizer_set_int(loc, AC_LOCALIZER_PARAM_BUDGET, 100000);
    if (rc == AC_OK) rc = ac_localizer_set_int(loc, AC_LOCALIZER_PARAM_SCAN_AFTER, 0);
    if (rc == AC_OK && g_known_failure) {
        double *prior = calloc((size_t)T + 1, sizeof *prior);
        for (uint32_t t = 0; prior != NULL && t < T; t++)
            prior[t] = 1.0;
        rc = prior ? ac_localizer_set_prior(loc, prior, T + 1) : AC_E_NO_MEMORY;
        free(prior);
    }
    *out = loc;
    return rc;
}

/* The posterior mass on the messages before `step` and after it (not
 * counting "no error"), from the finished localizer. */
static int posterior_sides(const ac_localizer *loc, uint32_t T, int64_t step,
                           double *before, double *after)
{
    double *post = calloc((size_t)T + 1, sizeof *post);
    int rc = post ? ac_localizer_posterior(loc, post, T + 1) : AC_E_NO_MEMORY;
    *before = *after = 0.0;
    for (uint32_t t = 0; rc == AC_OK && t < T; t++) {
        if ((int64_t)t < step)
            *before += post[t];
        else if ((int64_t)t > step)
            *after += post[t];
    }
    free(post);
    return rc;
}

/* One localization: the verifier is repeatable or not (verifier_repeats);
 * the localizer is told `noise` (which may be the wrong model). */
static outcome localize_as(uint32_t T, uint32_t h, double p, int noise,
                           int verifier_repeats, int strategy, uint32_t W,
                           double target, uint64_t seed)
{
    sim_verifier v = {T, h, noise == AC_NOISE_NONE ? 1.0 : p,
                      verifier_repeats, mix64(seed), 0, 0, 0};
    outcome o = {-2, 0, 0, 0, 0.0, 0.0, 0.0};
    ac_localizer *loc = NULL;
    int rc = bench_localizer(&loc, T, p, noise, strategy, W, target);
    if (rc == AC_OK) rc = ac_localizer_set_verifier(loc, sim_answer, &v);
    if (rc == AC_OK) rc = ac_localizer_run(loc);
    if (rc == AC_OK) rc = ac_localizer_result(loc, &o.step, NULL, &o.prob);
    if (rc == AC_OK) rc = ac_localizer_audit(loc, AC_LOCALIZER_AUDIT_SEARCH_CALLS, &o.calls);
    if (rc == AC_OK) rc = ac_localizer_audit(loc, AC_LOCALIZER_AUDIT_SEARCH_ROUNDS, &o.rounds);
    if (rc == AC_OK) rc = ac_localizer_audit(loc, AC_LOCALIZER_AUDIT_OUTCOME, &o.kind);
    if (rc == AC_OK) rc = posterior_sides(loc, T, o.step, &o.before, &o.after);
    CHECK(rc == AC_OK, "T %u h %u strategy %d: %s (%s)", T, h, strategy,
          ac_strerror(rc), loc ? ac_localizer_last_error(loc) : "");
    CHECK(v.calls == o.calls, "the verifier saw %lld calls, the audit says %lld",
          (long long)v.calls, (long long)o.calls);
    CHECK(v.max_batch <= (int64_t)W, "a batch of %lld > W = %u",
          (long long)v.max_batch, W);
    ac_localizer_free(loc);
    if (o.step < 0)
        o.step = T; /* "no error" is hypothesis T */
    return o;
}

static outcome localize(uint32_t T, uint32_t h, double p, int noise,
                        int strategy, uint32_t W, double target,
                        uint64_t seed)
{
    return localize_as(T, h, p, noise, noise == AC_NOISE_REPEATABLE,
                       strategy, W, target, seed);
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
            outcome o = localize(T, h, 1.0, AC_NOISE_NONE, AC_STRATEGY_BINARY, 1,
                                 0.95, h);
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

static cell run_cell(uint32_t T, double p, int noise, int strategy,
                     uint32_t W, double target, int trials, uint64_t salt)
{
    cell c = {0, 0, 0, 0, 0};
    for (int k = 0; k < trials; k++) {
        uint32_t h;
        uint64_t seed = trial_draw(salt, k, T, &h);
        outcome o = localize(T, h, p, noise, strategy, W, target, seed);
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
            cell b92 = run_cell(T, p, AC_NOISE_INDEPENDENT, AC_STRATEGY_BISECTION,
                                1, 0.92, trials, salt);
            cell b95 = run_cell(T, p, AC_NOISE_INDEPENDENT, AC_STRATEGY_BISECTION,
                                1, 0.95, trials, salt);
            cell lin = run_cell(T, p, AC_NOISE_INDEPENDENT, AC_STRATEGY_LINEAR, 1,
                                0.95, trials, salt);
            cell bin = run_cell(T, p, AC_NOISE_INDEPENDENT, AC_STRATEGY_BINARY, 1,
                                0.95, trials, salt);
            g_known_failure = 1;
            cell f93 = run_cell(T, p, AC_NOISE_INDEPENDENT, AC_STRATEGY_BISECTION,
                                1, 0.93, trials, salt);
            g_known_failure = 0;
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
            cell w4 = run_cell(T, p, AC_NOISE_INDEPENDENT, AC_STRATEGY_BISECTION,
                               4, 0.95, trials, salt);
            cell w1 = run_cell(T, p, AC_NOISE_INDEPENDENT, AC_STRATEGY_BISECTION,
                               1, 0.95, trials, salt);
            printf("| %u | %.1f | %.4f | %.2f | %.2f | %.2f | %.2f |\n", T, p,
                   w4.exact, w4.calls, w4.rounds, w4.calls / w4.rounds,
                   w1.rounds);
        }
}

#define BINS 10

static void section_repeatable(int trials)
{
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
                outcome o = localize(T, h, p, AC_NOISE_REPEATABLE,
                                     AC_STRATEGY_BISECTION, 1, 0.95, seed);
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
                outcome w = localize_as(T, h, p, AC_NOISE_INDEPENDENT, 1,
                                        AC_STRATEGY_BISECTION, 1, 0.95, seed);
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
/* The Bayes-optimal search, for small T                               */
/* ------------------------------------------------------------------ */

/* How far is the library's bisection from the best any search could do?
 * For a few hypotheses the policy that minimises E[calls] + lambda P(wrong)
 * can be computed exactly, by value iteration over posteriors.
 *
 * With a uniform prior (the episode is known to have failed: the first
 * error is one of 0..M-1) and a verifier right with probability p, the
 * posterior depends only on how many more answers contradict each
 * hypothesis than contradict the best one: weight ((1-p)/p)^d. A state is
 * that d for every hypothesis, 0..depth, or depth+1 for a hypothesis
 * forgotten for being (p/(1-p))^(depth+1) times less likely than the best:
 * the only approximation, at 4^-6 for p = 0.8 and depth 5. Prefix b (the
 * question "is h > b?") is asked for b in 0..M-2. */

#define OPT_STOP 0xff

typedef struct opt_policy {
    uint32_t M, depth, base;
    size_t states;
    double p, lambda;
    double weight[16]; /* ((1-p)/p)^d */
    double *value;     /* min E[calls to go] + lambda P(wrong)   */
    uint8_t *action;   /* the prefix to ask, or OPT_STOP          */
} opt_policy;

static void opt_decode(const opt_policy *o, size_t s, uint32_t *d)
{
    for (uint32_t i = 0; i < o->M; i++, s /= o->base)
        d[i] = (uint32_t)(s % o->base);
}

/* The posterior's total weight; *top: the best hypothesis's weight. */
static double opt_weights(const opt_policy *o, const uint32_t *d, double *w,
                          double *top)
{
    double z = 0.0;
    *top = 0.0;
    for (uint32_t i = 0; i < o->M; i++) {
        w[i] = d[i] > o->depth ? 0.0 : o->weight[d[i]];
        z += w[i];
        *top = w[i] > *top ? w[i] : *top;
    }
    return z;
}

/* The state after the answer "off track" (off = 1: h <= b) or "on track"
 * at prefix b. */
static size_t opt_next(const opt_policy *o, const uint32_t *d, uint32_t b,
                       int off)
{
    uint32_t e[16], least = UINT32_MAX;
    for (uint32_t i = 0; i < o->M; i++) {
        int agrees = off ? i <= b : i > b;
        e[i] = d[i] > o->depth ? UINT32_MAX : d[i] + !agrees;
        least = e[i] < least ? e[i] : least;
    }
    size_t s = 0;
    for (uint32_t i = o->M; i-- > 0;) {
        uint32_t v = e[i] == UINT32_MAX || e[i] - least > o->depth
                         ? o->depth + 1 : e[i] - least;
        s = s * o->base + v;
    }
    return s;
}

/* The value of asking prefix b in state d, f the posterior mass of the
 * hypotheses <= b: one call, then the policy's values. */
static double opt_ask_value(const opt_policy *o, const uint32_t *d,
                            uint32_t b, double f)
{
    double off = f * o->p + (1.0 - f) * (1.0 - o->p);
    return 1.0 + off * o->value[opt_next(o, d, b, 1)] +
           (1.0 - off) * o->value[opt_next(o, d, b, 0)];
}

/* One Gauss-Seidel sweep of value iteration; returns the largest change. */
static double opt_sweep(opt_policy *o)
{
    double change = 0.0, w[16], top;
    uint32_t d[16];
    for (size_t s = 0; s < o->states; s++) {
        if (o->value[s] < 0.0)
            continue; /* no hypothesis at d = 0: not a state */
        opt_decode(o, s, d);
        double z = opt_weights(o, d, w, &top);
        double best = o->lambda * (1.0 - top / z); /* stop now */
        uint8_t act = OPT_STOP;
        double below = 0.0; /* weight of the hypotheses <= b */
        for (uint32_t b = 0; b + 1 < o->M; b++) {
            below += w[b];
            if (!(below > 0.0 && below < z))
                continue; /* the answer is known: asking tells nothing */
            double v = opt_ask_value(o, d, b, below / z);
            if (v < best - 1e-12) {
                best = v;
                act = (uint8_t)b;
            }
        }
        change = fmax(change, fabs(best - o->value[s]));
        o->value[s] = best;
        o->action[s] = act;
    }
    return change;
}

/* Solves the game for M hypotheses; 0 on success. */
static int opt_solve(opt_policy *o, uint32_t M, uint32_t depth, double p,
                     double lambda)
{
    *o = (opt_policy){M, depth, depth + 2, 1, p, lambda, {0}, NULL, NULL};
    for (uint32_t i = 0; i < M; i++)
        o->states *= o->base;
    for (uint32_t k = 0; k <= depth; k++)
        o->weight[k] = pow((1.0 - p) / p, k);
    o->value = xcalloc(o->states, sizeof *o->value);
    o->action = xcalloc(o->states, sizeof *o->action);
    uint32_t d[16];
    for (size_t s = 0; s < o->states; s++) {
        opt_decode(o, s, d);
        int alive = 0;
        for (uint32_t i = 0; i < M; i++)
            alive |= d[i] == 0;
        /* Start from "stop now": an upper bound the sweeps lower. */
        double w[16], top, z = opt_weights(o, d, w, &top);
        o->value[s] = alive ? lambda * (1.0 - top / z) : -1.0;
    }
    for (int sweep = 0; sweep < 100000; sweep++)
        if (opt_sweep(o) < 1e-10 * lambda)
            return 0;
    return -1;
}

/* Asks the simulated verifier about prefix b in state d: the next state. */
static size_t opt_ask(const opt_policy *o, sim_verifier *v, const uint32_t *d,
                      uint32_t b)
{
    double on;
    sim_answer(v, &b, 1, &on, NULL);
    return opt_next(o, d, b, on < 0.5);
}

/* One search by the optimal policy against the simulated verifier:
 * returns the calls; *guess: the most probable hypothesis at the stop. */
static uint32_t opt_play(const opt_policy *o, uint32_t h, uint64_t seed,
                         uint32_t *guess)
{
    sim_verifier v = {o->M, h, o->p, 0, mix64(seed), 0, 0, 0};
    uint32_t d[16] = {0}, calls = 0;
    size_t s = 0;
    while (o->action[s] != OPT_STOP) {
        opt_decode(o, s, d);
        s = opt_ask(o, &v, d, o->action[s]);
        calls++;
    }
    opt_decode(o, s, d);
    *guess = 0;
    for (uint32_t i = 1; i < o->M; i++)
        *guess = d[i] < d[*guess] ? i : *guess;
    return calls;
}

/* A frontier point: the sums over its trials of the calls n, n^2, the
 * misses m (1 when wrong) and n m; enough for the mean and standard error
 * of the Lagrangian cost n + lambda m at any lambda. */
typedef struct frontier_point {
    double trials, n, n2, m, nm;
} frontier_point;

static void frontier_count(frontier_point *f, double calls, int wrong)
{
    f->trials++;
    f->n += calls;
    f->n2 += calls * calls;
    f->m += wrong;
    f->nm += calls * wrong;
}

static double frontier_exact(const frontier_point *f)
{
    return 1.0 - f->m / f->trials;
}

static double frontier_calls(const frontier_point *f)
{
    return f->n / f->trials;
}

static double frontier_cost(const frontier_point *f, double lambda)
{
    return (f->n + lambda * f->m) / f->trials;
}

static double frontier_cost_se(const frontier_point *f, double lambda)
{
    double mean = frontier_cost(f, lambda);
    double sq = (f->n2 + 2.0 * lambda * f->nm + lambda * lambda * f->m) /
                f->trials;
    return sqrt(fmax(sq - mean * mean, 0.0) / f->trials);
}

static frontier_point optimal_point(const opt_policy *o, int trials,
                                    uint64_t salt)
{
    frontier_point f = {0, 0, 0, 0, 0};
    for (int k = 0; k < trials; k++) {
        uint32_t h, guess;
        uint64_t seed = trial_draw(salt, k, o->M, &h);
        uint32_t n = opt_play(o, h, seed, &guess);
        frontier_count(&f, n, guess != h);
    }
    return f;
}

/* The library's question in state d: the askable prefix whose posterior
 * mass up to it (returned in *f) is nearest half, the lower on ties. */
static uint32_t opt_median(const opt_policy *o, const uint32_t *d, double *f)
{
    double w[16] = {0}, top, z = opt_weights(o, d, w, &top), below = 0.0,
           gap = 2.0;
    uint32_t best = 0;
    *f = 0.0;
    for (uint32_t b = 0; b + 1 < o->M; b++) {
        below += w[b];
        double here = below / z;
        if (here > 0.0 && here < 1.0 && fabs(here - 0.5) < gap - 1e-12) {
            gap = fabs(here - 0.5);
            best = b;
            *f = here;
        }
    }
    return best;
}

/* Where the library loses against the optimum. The library's policy
 * (stop once the top reaches q, else ask the median prefix) plays `trials`
 * trials in the solver's states, that is on the solver's posterior, which
 * forgets what is 4^6 times less likely than the best. In each state it
 * passes through, its choice loses Q(s, choice) - V(s) against the
 * optimum's. Summed along its own path, these losses add up to its whole
 * excess cost, E[calls + lambda wrong] - V(start) (the performance
 * difference identity), so they split that excess by kind. blame[0]: the
 * library stops where the optimum asks on; [1]: it asks on where the
 * optimum stops; [2]: it asks another prefix; all in calls a trial.
 * Returns the excess measured directly, which the sum must match. */
static double opt_blame(const opt_policy *o, int trials, uint64_t salt,
                        double q, double *blame)
{
    double excess = 0.0, diff = 0.0, diff2 = 0.0;
    blame[0] = blame[1] = blame[2] = 0.0;
    for (int k = 0; k < trials; k++) {
        uint32_t h, d[16] = {0}, calls = 0;
        uint64_t seed = trial_draw(salt, k, o->M, &h);
        sim_verifier v = {o->M, h, o->p, 0, mix64(seed), 0, 0, 0};
        double w[16], top, lost = 0.0, f, z_stop;
        size_t s = 0;
        for (;;) {
            opt_decode(o, s, d);
            double z = opt_weights(o, d, w, &top), V = o->value[s];
            int opt_stops = o->action[s] == OPT_STOP;
            z_stop = z;
            if (top / z >= q) {
                double here = o->lambda * (1.0 - top / z) - V;
                blame[0] += opt_stops ? 0.0 : here / trials;
                lost += here;
                break;
            }
            uint32_t b = opt_median(o, d, &f);
            double here = opt_ask_value(o, d, b, f) - V;
            if (opt_stops || b != o->action[s])
                blame[opt_stops ? 1 : 2] += here / trials;
            lost += here;
            s = opt_ask(o, &v, d, b);
            calls++;
        }
        /* The miss as its probability at the stop, not as it fell: the
         * same mean, less noise. */
        double cost = calls + o->lambda * (1.0 - top / z_stop) - o->value[0];
        excess += cost / trials;
        diff += (lost - cost) / trials;
        diff2 += (lost - cost) * (lost - cost) / trials;
    }
    /* The identity holds in expectation: the per-trial difference is a sum
     * of zero-mean surprises. */
    CHECK(fabs(diff) <= 4.0 * sqrt(fmax(diff2 - diff * diff, 0.0) / trials)
                            + 1e-9,
          "T %u lambda %g: the losses add up to %.4f, the excess is %.4f",
          o->M, o->lambda, excess + diff, excess);
    return excess;
}

/* Mean calls at `exact` accuracy, by mixing the two frontier points that
 * bracket it (a search that flips a coin between them); -1 if none do. */
static double calls_at(const frontier_point *f, size_t n, double exact)
{
    double best = -1.0;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++)
            if (frontier_exact(&f[i]) < exact &&
                frontier_exact(&f[j]) >= exact) {
                double ei = frontier_exact(&f[i]), ej = frontier_exact(&f[j]);
                double ci = frontier_calls(&f[i]), cj = frontier_calls(&f[j]);
                double c = ci + (exact - ei) / (ej - ei) * (cj - ci);
                best = best < 0.0 || c < best ? c : best;
            }
    return best;
}

static void print_calls_at(const char *who, const frontier_point *f,
                           size_t n, double lim)
{
    double c = calls_at(f, n, 0.95);
    if (c < 0.0)
        printf("- %s: no two points bracket 95%% exact\n", who);
    else
        printf("- %s: 95%% exact at %.3f calls, %.4f x limit\n", who, c,
               c / lim);
}

/* ------------------------------------------------------------------ */
/* Frontiers along the library's questions                             */
/* ------------------------------------------------------------------ */

/* The library stops once the top hypothesis reaches q, that is once the
 * mass beside it, L before it plus R after it, falls to 1 - q. Where the
 * optimum can be computed (section optimal) it stops on the shape of that
 * mass instead: it asks on when the mass lies on one side, which one more
 * question at the top's edge settles, and stops sooner when the mass is
 * split. The family max(L, R) + kappa min(L, R) <= theta spans both:
 * kappa = 1 is the library's rule at q = 1 - theta, kappa = 0 the larger
 * side alone. Since the questions do not depend on where the search will
 * stop, one run of the library's bisection per trial, driven by ask/tell
 * past every stop of the family, gives every (kappa, theta) at once, on the
 * same questions and answers. */
#define STOP_KAPPAS 5
#define STOP_THETAS 131
static const double STOP_KAPPA[STOP_KAPPAS] = {1.0, 0.5, 0.0, -0.25, -0.5};

static double stop_theta(size_t i)
{
    return 0.02 + 0.001 * (double)i; /* q = 0.98 down to 0.85 */
}

/* The library's target q as an index of the theta grid (kappa = 1); a q
 * off the grid is a bug in the bench, reported, and gives the nearest end. */
static size_t stop_index(double q)
{
    long i = lround((1.0 - q - stop_theta(0)) / 0.001);
    if (i < 0 || i >= STOP_THETAS || fabs(stop_theta((size_t)i) - (1.0 - q)) > 1e-9)
        fail("target %g is not on the theta grid", q);
    return i < 0 ? 0 : i >= STOP_THETAS ? STOP_THETAS - 1 : (size_t)i;
}

typedef frontier_point stop_frontier[STOP_KAPPAS][STOP_THETAS];

/* The posterior over the first error from the contradiction counts alone
 * (told the episode failed, so over 0..T-1): each answer that contradicts
 * h multiplies its odds by (1 - p) / p. Returns the top hypothesis (the
 * first on ties, as the library) and the masses on either side of it. */
static uint32_t side_masses(const uint32_t *against, uint32_t T, double p,
                            double *left, double *right)
{
    uint32_t top = 0;
    for (uint32_t h = 1; h < T; h++)
        top = against[h] < against[top] ? h : top;
    double odds = (1.0 - p) / p, total = 0.0, before = 0.0;
    for (uint32_t h = 0; h < T; h++) {
        double w = pow(odds, (double)(against[h] - against[top]));
        total += w;
        before += h < top ? w : 0.0;
    }
    *left = before / total;
    *right = (total - before - 1.0) / total;
    return top;
}

/* Records a stop after `calls`, answering the top hypothesis, for every
 * (kappa, theta) whose statistic falls to theta for the first time now.
 * lowest[k], the statistic's running minimum, tells which have stopped:
 * theta stops the first time the statistic is <= theta. Returns how many
 * are still going. */
static size_t stops_record(stop_frontier f, double *lowest, double left,
                           double right, double calls, int wrong)
{
    size_t going = 0;
    for (size_t k = 0; k < STOP_KAPPAS; k++) {
        double stat = fmax(left, right) + STOP_KAPPA[k] * fmin(left, right);
        for (size_t i = 0; i < STOP_THETAS; i++) {
            if (stop_theta(i) >= lowest[k])
                continue; /* stopped before */
            if (stat <= stop_theta(i))
                frontier_count(&f[k][i], calls, wrong);
            else
                going++;
        }
        lowest[k] = fmin(lowest[k], stat);
    }
    return going;
}

/* One trial: the library's bisection driven by ask/tell, one prefix a
 * round, with a target no stop of the family reaches first, until every
 * (kappa, theta) has stopped. *probe: where the library's own rule stops
 * at theta index probe_i (calls, the step, the masses beside it). */
static void stops_trial(stop_frontier f, uint32_t T, double p, uint32_t h,
                        uint64_t seed, uint32_t *against, size_t probe_i,
                        outcome *probe)
{
    sim_verifier v = {T, h, p, 0, mix64(seed), 0, 0, 0};
    double lowest[STOP_KAPPAS], left, right;
    for (size_t k = 0; k < STOP_KAPPAS; k++)
        lowest[k] = INFINITY;
    memset(against, 0, T * sizeof *against);
    ac_localizer *loc = NULL;
    int rc = bench_localizer(&loc, T, p, AC_NOISE_INDEPENDENT,
                             AC_STRATEGY_BISECTION, 1, 0.999999);
    for (uint32_t calls = 0; rc == AC_OK; calls++) {
        uint32_t top = side_masses(against, T, p, &left, &right), t, n;
        int probing = stop_theta(probe_i) < lowest[0];
        size_t going = stops_record(f, lowest, left, right, calls, top != h);
        if (probing && stop_theta(probe_i) >= lowest[0])
            *probe = (outcome){top, calls, 0, 0, 1.0 - left - right, left,
                               right};
        if (going == 0)
            break;
        double on;
        rc = ac_localizer_ask(loc, 1, &t, &n);
        if (rc == AC_OK && n != 1) {
            fail("stops T %u h %u: the search ended with stops to go", T, h);
            break;
        }
        if (rc == AC_OK) rc = sim_answer(&v, &t, 1, &on, NULL);
        if (rc == AC_OK) rc = ac_localizer_tell(loc, 1, &t, &on, NULL);
        for (uint32_t g = 0; g < T; g++)
            against[g] += (t < g) != (on == 1.0);
    }
    CHECK(rc == AC_OK, "stops T %u h %u: %s (%s)", T, h, ac_strerror(rc),
          loc ? ac_localizer_last_error(loc) : "");
    ac_localizer_free(loc);
}

/* Whether the bench's stop at the library's target agrees with a plain
 * library run there: the same calls, the same step, the same posterior
 * mass on either side of it. */
static int same_stop(const outcome *mine, const outcome *lib)
{
    return mine->calls == lib->calls && mine->step == lib->step &&
           fabs(mine->before - lib->before) <= 1e-9 &&
           fabs(mine->after - lib->after) <= 1e-9;
}

/* Every (kappa, theta) over `trials` trials of T messages, told the episode
 * failed, on the trials salted `salt`; NULL (and a failed check) when out
 * of memory. Check: kappa = 1 at theta = 1 - q_check is the library's own
 * stop, so in every trial it must agree (same_stop) with a plain library
 * run at target q_check: the bench's posterior is the library's, split
 * into its two sides as well as in total. */
static stop_frontier *stops_run(uint32_t T, double p, uint64_t salt,
                                int trials, double q_check)
{
    stop_frontier *f = calloc(1, sizeof *f);
    uint32_t *against = calloc(T, sizeof *against);
    if (f == NULL || against == NULL) {
        fail("stops T %u: out of memory", T);
        free(f);
        free(against);
        return NULL;
    }
    size_t probe_i = stop_index(q_check);
    int disagree = 0;
    g_known_failure = 1;
    for (int k = 0; k < trials; k++) {
        uint32_t h;
        uint64_t seed = trial_draw(salt, k, T, &h);
        outcome mine = {-1, -1, 0, 0, 0.0, 0.0, 0.0};
        stops_trial(*f, T, p, h, seed, against, probe_i, &mine);
        outcome lib = localize(T, h, p, AC_NOISE_INDEPENDENT,
                               AC_STRATEGY_BISECTION, 1, q_check, seed);
        if (!same_stop(&mine, &lib) && disagree++ == 0)
            fail("stops T %u p %g trial %d, q %.3f: the bench stops after "
                 "%lld calls at %lld (mass %.12f before, %.12f after), the "
                 "library after %lld at %lld (%.12f, %.12f)", T, p, k,
                 q_check, (long long)mine.calls, (long long)mine.step,
                 mine.before, mine.after, (long long)lib.calls,
                 (long long)lib.step, lib.before, lib.after);
    }
    g_known_failure = 0;
    free(against);
    CHECK(disagree == 0, "stops T %u p %g: %d of %d trials disagree with "
          "the library at q %.3f", T, p, disagree, trials, q_check);
    return f;
}

/* M hypotheses: 7 by default (a minute); 9 takes half an hour, 400 MB.
 * The library's points are every target on the theta grid, on the same
 * trials as the optimal plays (salt 300). */
static void section_optimal(int quick, uint32_t M)
{
    static const double many[] = {40, 44, 46, 48, 52, 56, 64},
                        few[] = {44, 46, 48};
    static const double qs[] = {0.90, 0.91, 0.92, 0.925, 0.93, 0.935, 0.94,
                                0.95, 0.96};
    const double p = 0.8, lim = limit_calls(M, p);
    const int trials = quick ? 2000 : 200000;
    /* Three solves bracket 95% exact; more are cheap only for small M. */
    const double *lambdas = M <= 7 ? many : few;
    size_t nl = quick ? 2 : M <= 7 ? sizeof many / sizeof many[0] : 3;
    frontier_point opt[8];
    double blame[8][3], best_q[8], excess[8];
    stop_frontier *lib = stops_run(M, p, 300, trials, 0.925);
    if (lib == NULL)
        return;
    printf("\n## The Bayes-optimal search at T = %u, p = %.1f (known failure;"
           " %d trials a point)\n\n", M, p, trials);
    printf("optimal: the policy minimising E[calls] + lambda P(wrong), by "
           "value iteration; library: bisection at target q (rows: a few of "
           "the %d targets from %.3f to %.3f). limit = %.3f calls. cost: "
           "E[calls + lambda wrong] at the row's lambda.\n\n", STOP_THETAS,
           1.0 - stop_theta(STOP_THETAS - 1), 1.0 - stop_theta(0), lim);
    printf("| search | lambda or q | exact | calls | x limit | cost | the "
           "solver's value | library's least cost |\n"
           "|---|---:|---:|---:|---:|---:|---:|---:|\n");
    for (size_t i = 0; i < nl; i++) {
        opt_policy o;
        double lambda = lambdas[i];
        if (opt_solve(&o, M, 5, p, lambda) != 0)
            fail("optimal T %u lambda %g: value iteration did not converge",
                 M, lambda);
        opt[i] = optimal_point(&o, trials, 300);
        double cost = frontier_cost(&opt[i], lambda);
        double se = frontier_cost_se(&opt[i], lambda), least = INFINITY;
        /* The solver's value is what its policy earns... */
        CHECK(fabs(cost - o.value[0]) < 4.0 * se + 1e-9,
              "optimal T %u lambda %g: plays cost %.4f, the solver says %.4f",
              M, lambda, cost, o.value[0]);
        /* ...and no search does better, the library's included. */
        for (size_t j = 0; j < STOP_THETAS; j++) {
            const frontier_point *l = &(*lib)[0][j];
            double c = frontier_cost(l, lambda);
            CHECK(c > o.value[0] - 4.0 * frontier_cost_se(l, lambda),
                  "T %u q %.3f costs %.4f at lambda %g, below the optimum "
                  "%.4f", M, 1.0 - stop_theta(j), c, lambda, o.value[0]);
            if (c < least) {
                least = c;
                best_q[i] = 1.0 - stop_theta(j);
            }
        }
        excess[i] = opt_blame(&o, trials, 300, best_q[i], blame[i]);
        printf("| optimal | %.0f | %.4f | %.3f | %.4f | %.3f +- %.3f | %.3f "
               "| %.3f |\n", lambda, frontier_exact(&opt[i]),
               frontier_calls(&opt[i]), frontier_calls(&opt[i]) / lim, cost,
               se, o.value[0], least);
        free(o.value);
        free(o.action);
    }
    for (size_t j = 0; j < sizeof qs / sizeof qs[0]; j++) {
        const frontier_point *l = &(*lib)[0][stop_index(qs[j])];
        printf("| library | %.3f | %.4f | %.3f | %.4f | | | |\n", qs[j],
               frontier_exact(l), frontier_calls(l),
               frontier_calls(l) / lim);
    }
    printf("\nWhere the library loses: its best target q at each lambda, "
           "played in the solver's states; the value each kind of choice "
           "loses against the optimum's, in calls a trial, and their sum "
           "against the library's excess cost measured directly.\n\n| "
           "lambda | q | stops where the optimum asks on | asks on where it "
           "stops | asks another prefix | sum | excess |\n|---:|---:|---:|"
           "---:|---:|---:|---:|\n");
    for (size_t i = 0; i < nl; i++)
        printf("| %.0f | %.3f | %.4f | %.4f | %.4f | %.4f | %.4f |\n",
               lambdas[i], best_q[i], blame[i][0], blame[i][1], blame[i][2],
               blame[i][0] + blame[i][1] + blame[i][2], excess[i]);
    printf("\n");
    print_calls_at("optimal", opt, nl, lim);
    print_calls_at("library", (*lib)[0], STOP_THETAS, lim);
    free(lib);
}

/* The library's accuracy against calls over its target q, told the episode
 * failed, and what 95% exact costs, in every cell of the grid; a few q at
 * T = 64, p = 0.8. The cost of 95% exact rests on a difference of
 * accuracies, so it needs many trials: one standard error of the accuracy,
 * 0.07 points at 100,000 trials, moves it by about 0.2%. */
static void section_frontier(int trials)
{
    static const double qs[] = {0.85, 0.88, 0.90, 0.91, 0.92, 0.922, 0.924,
                                0.926, 0.928, 0.93, 0.935, 0.94, 0.95, 0.96};
    printf("\n## Bisection's frontier, told the episode failed (%d trials a "
           "point; targets q from %.3f to %.3f in steps of 0.001)\n\n| T | p "
           "| limit | calls at 95%% exact | x limit |\n|---:|---:|---:|---:"
           "|---:|\n", trials, 1.0 - stop_theta(STOP_THETAS - 1),
           1.0 - stop_theta(0));
    stop_frontier *detail = NULL;
    for (size_t i = 0; i < 3; i++)
        for (size_t j = 0; j < 3; j++) {
            uint32_t T = GRID_T[i];
            double p = GRID_P[j], lim = limit_calls(T, p);
            stop_frontier *f = stops_run(T, p, 600 + 10 * i + j, trials,
                                         0.926);
            if (f == NULL)
                continue;
            double c = calls_at((*f)[0], STOP_THETAS, 0.95);
            if (c < 0.0)
                printf("| %u | %.1f | %.2f | not bracketed | |\n", T, p, lim);
            else
                printf("| %u | %.1f | %.2f | %.2f | %.4f |\n", T, p, lim, c,
                       c / lim);
            if (T == 64 && p == 0.8)
                detail = f;
            else
                free(f);
        }
    if (detail == NULL)
        return;
    printf("\n### T = 64, p = 0.8, a few q\n\n| q | exact | calls | x limit "
           "|\n|---:|---:|---:|---:|\n");
    for (size_t k = 0; k < sizeof qs / sizeof qs[0]; k++) {
        const frontier_point *l = &(*detail)[0][stop_index(qs[k])];
        printf("| %.3f | %.4f | %.3f | %.4f |\n", qs[k], frontier_exact(l),
               frontier_calls(l), frontier_calls(l) / limit_calls(64, 0.8));
    }
    free(detail);
}

/* Other stops: T = 7 and 9 on the optimal section's trials (salt 300), to
 * hold against the optimum there, and T = 64 on the frontier section's
 * T = 64, p = 0.8 cell. */
static void section_stops(int trials)
{
    static const uint32_t Ts[] = {7, 9, 64};
    static const uint64_t salts[] = {300, 300, 611};
    const double p = 0.8;
    printf("\n## Other stops for bisection's questions, p = %.1f (known "
           "failure; %d trials a point)\n\nStop when max(L, R) + kappa "
           "min(L, R) <= theta, L and R the posterior mass before and after "
           "the top; kappa = 1 is the library's target q = 1 - theta. theta "
           "from %.3f to %.3f in steps of 0.001.\n\n| T | kappa | calls at "
           "95%% exact | x limit |\n|---:|---:|---:|---:|\n", p, trials,
           stop_theta(0), stop_theta(STOP_THETAS - 1));
    for (size_t i = 0; i < sizeof Ts / sizeof Ts[0]; i++) {
        double lim = limit_calls(Ts[i], p);
        stop_frontier *f = stops_run(Ts[i], p, salts[i], trials, 0.926);
        for (size_t k = 0; f != NULL && k < STOP_KAPPAS; k++) {
            double c = calls_at((*f)[k], STOP_THETAS, 0.95);
            if (c < 0.0)
                printf("| %u | %.2f | not bracketed | |\n", Ts[i],
                       STOP_KAPPA[k]);
            else
                printf("| %u | %.2f | %.3f | %.4f |\n", Ts[i], STOP_KAPPA[k],
                       c, c / lim);
        }
        free(f);
    }
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
    DIR *d = opendir(dir);
    if (d == NULL)
        return 0;
    size_t n = 0;
    char **names = NULL;
    size_t nn = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name);
        if (len < 6 || strcmp(e->d_name + len - 5, ".json") != 0)
            continue;
        char **grown = realloc(names, (nn + 1) * sizeof *names);
        if (grown == NULL)
            break;
        names = grown;
        names[nn] = malloc(strlen(dir) + len + 2);
        if (names[nn] == NULL)
            break;
        sprintf(names[nn], "%s/%s", dir, e->d_name);
        nn++;
    }
    closedir(d);
    /* a fixed order, whatever the directory's */
    for (size_t i = 1; i < nn; i++)
        for (size_t j = i; j > 0 && strcmp(names[j - 1], names[j]) > 0; j--) {
            char *t = names[j];
            names[j] = names[j - 1];
            names[j - 1] = t;
        }
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
            if (p == 1.0 && si == 3)
                continue; /* an exact verifier has one model */
            cell c = {0, 0, 0, 0, 0};
            for (size_t e = 0; e < n; e++)
                for (int k = 0; k < seeds; k++) {
                    uint64_t seed = mix64(7000 + e * 1009 + (uint64_t)k);
                    outcome o = localize(eps[e].T, eps[e].h, p, noise,
                                         S[si].strategy, 1, 0.95, seed);
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

static void usage(void)
{
    printf("usage: bench_localizer [--quick] [--trials N] [--data DIR] "
           "[--only exact,noisy,repeatable,optimal,frontier,stops,real]\n"
           "  --quick      a smoke test: few trials, T = 1024 sampled\n"
           "  --trials N   trials per cell (default 2000; --quick 40)\n"
           "  --data DIR   Who&When Algorithm-Generated episodes (JSON)\n"
           "  --optimal-t N  messages for the optimal search, 2..9 "
           "(default 7; 9 takes half an hour)\n");
}

int main(int argc, char **argv)
{
    int quick = 0, trials = -1;
    uint32_t optimal_T = 7;
    long long v;
    const char *data = NULL,
               *only = "exact,noisy,repeatable,optimal,frontier,stops,real";
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--quick") == 0)
            quick = 1;
        else if (strcmp(argv[i], "--trials") == 0 && i + 1 < argc &&
                 parse_int(argv[i + 1], 1, 10000000, &v) == 0) {
            trials = (int)v;
            i++;
        }
        else if (strcmp(argv[i], "--optimal-t") == 0 && i + 1 < argc &&
                 parse_int(argv[i + 1], 2, 9, &v) == 0) {
            optimal_T = (uint32_t)v;
            i++;
        }
        else if (strcmp(argv[i], "--data") == 0 && i + 1 < argc)
            data = argv[++i];
        else if (strcmp(argv[i], "--only") == 0 && i + 1 < argc)
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
    if (strstr(only, "optimal"))
        section_optimal(quick, quick ? 4 : optimal_T);
    if (strstr(only, "frontier"))
        section_frontier(quick ? trials : 50 * trials);
    if (strstr(only, "stops"))
        section_stops(quick ? trials : 500 * trials);
    if (strstr(only, "real") && data != NULL)
        section_real(data, quick ? 2 : 40);
    if (g_failures > 0) {
        fprintf(stderr, "%d checks failed\n", g_failures);
        return 1;
    }
    printf("\nall checks passed\n");
    return 0;
}
