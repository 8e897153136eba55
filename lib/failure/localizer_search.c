/* The localizer's search: the strategies, the posterior over the first
 * error, and when to stop.
 *
 * Hypothesis h in 0..T: the first error is message h (T: none). Prefix t is
 * off track exactly when h <= t. An exact verifier narrows the interval
 * (lo, hi] of hypotheses still possible (lo: an accepted prefix, hi: a
 * rejected one); a noisy one, right with probability p, multiplies the
 * posterior by p or 1 - p on each side of the prefix it judged. */
#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/ksum.h"
#include "failure/localizer_internal.h"

/* A repeatable verifier's prefix is worth asking only while neither side of
 * it holds less than this much posterior mass: past that, no answer it can
 * give moves the result, and asking costs a call for nothing. */
#define REPEATABLE_MIN_SPLIT 0.005

static int is_noisy(const ac_localizer *l)
{
    return l->p.noise != AC_NOISE_NONE;
}

int ac__localizer_strategy(const ac_localizer *l)
{
    if (l->p.strategy != AC_STRATEGY_AUTO)
        return (int)l->p.strategy;
    if (l->scores != NULL && l->verifier == NULL)
        return AC_STRATEGY_SCORES;
    if (is_noisy(l))
        return AC_STRATEGY_BISECTION;
    return l->p.monotone ? AC_STRATEGY_BINARY : AC_STRATEGY_LINEAR;
}

static void normalise(double *post, uint32_t len)
{
    double total = ac__sum(post, len);
    if (!(total > 0.0))
        return; /* callers keep some mass; see restrict_exact */
    for (uint32_t h = 0; h < len; h++)
        post[h] /= total;
}

static void settle(ac_localizer *l);

/* The most probable hypothesis, the first on ties. */
static uint32_t most_probable(ac_localizer *l)
{
    settle(l);
    uint32_t best = 0;
    for (uint32_t h = 1; h <= l->n; h++)
        if (l->post[h] > l->post[best])
            best = h;
    return best;
}

static void finish(ac_localizer *l, int outcome, uint32_t h)
{
    settle(l);
    l->outcome = outcome;
    l->step = h == l->n ? -1 : (int64_t)h;
    l->prob = l->post[h];
    l->round_len = 0;
}

static int verdict_outcome(const ac_localizer *l, uint32_t h)
{
    return h == l->n ? AC_LOCALIZER_OUTCOME_NO_ERROR
                     : AC_LOCALIZER_OUTCOME_FOUND;
}

/* ------------------------------------------------------------------ */
/* Start: the posterior before any answer                              */
/* ------------------------------------------------------------------ */

static void prior_posterior(ac_localizer *l)
{
    double top = 0.0; /* scale first: a prior may sum past DBL_MAX */
    for (uint32_t h = 0; l->prior && h <= l->n; h++)
        top = l->prior[h] > top ? l->prior[h] : top;
    for (uint32_t h = 0; h <= l->n; h++)
        l->post[h] = l->prior ? l->prior[h] / top : 1.0;
    normalise(l->post, l->n + 1);
}

/* P(h) = s_h prod_{u<h} (1 - s_u), P(T) = prod (1 - s_u): the first error
 * when each message errs independently with its score. In logs, so that
 * long episodes do not underflow. */
static void scores_posterior(ac_localizer *l)
{
    double acc = 0.0, top = -INFINITY;
    for (uint32_t h = 0; h <= l->n; h++) {
        double here = h < l->n ? log(l->scores[h]) : 0.0;
        l->post[h] = acc + here;
        if (l->post[h] > top)
            top = l->post[h];
        if (h < l->n)
            acc += log1p(-l->scores[h]);
    }
    for (uint32_t h = 0; h <= l->n; h++)
        l->post[h] = exp(l->post[h] - top);
    normalise(l->post, l->n + 1);
}

static void localize_by_scores(ac_localizer *l)
{
    scores_posterior(l);
    uint32_t h = 0;
    while (h < l->n && l->scores[h] < l->p.threshold)
        h++;
    finish(l, verdict_outcome(l, h), h);
}

int ac__search_start(ac_localizer *l)
{
    l->strategy = ac__localizer_strategy(l);
    if (l->strategy == AC_STRATEGY_SCORES && l->scores == NULL)
        return ac__fail(l->err, AC_E_STATE,
                        "AC_STRATEGY_SCORES needs the scores: call "
                        "ac_localizer_set_scores first");
    uint32_t width = (uint32_t)l->p.batch;
    if (l->round_cap < width) {
        ac__loc_query *r = ac__mem_alloc(&l->mem, width, sizeof *r);
        uint32_t *plan = ac__mem_alloc(&l->mem, width, sizeof *plan);
        if (r == NULL || plan == NULL) {
            ac__mem_free(&l->mem, r);
            ac__mem_free(&l->mem, plan);
            return ac__fail(l->err, AC_E_NO_MEMORY,
                            "no memory for a round of %u prefixes", width);
        }
        ac__mem_free(&l->mem, l->round);
        ac__mem_free(&l->mem, l->plan);
        l->round = r;
        l->plan = plan;
        l->round_cap = width;
    }
    if (l->cdf == NULL &&
        (l->cdf = ac__mem_alloc(&l->mem, l->n, sizeof *l->cdf)) == NULL)
        return ac__fail(l->err, AC_E_NO_MEMORY,
                        "no memory for the posterior of %u messages", l->n);
    if (l->picked == NULL &&
        (l->picked = ac__mem_calloc(&l->mem, l->n, 1)) == NULL)
        return ac__fail(l->err, AC_E_NO_MEMORY,
                        "no memory to plan rounds over %u messages", l->n);
    /* Room for T / 16 waiting answers (and a whole round): the posterior
     * pass they wait for then costs O(1) per answer, amortized. */
    uint32_t pending = l->n / 16 > width ? l->n / 16 : width;
    if (is_noisy(l) && l->strategy != AC_STRATEGY_SCORES &&
        l->pending_cap < pending) {
        ac__loc_answer *a = ac__mem_alloc(&l->mem, pending, sizeof *a);
        if (a == NULL)
            return ac__fail(l->err, AC_E_NO_MEMORY,
                            "no memory for %u answers", pending);
        ac__mem_free(&l->mem, l->pending);
        l->pending = a;
        l->pending_cap = pending;
    }
    l->lo = -1;
    l->hi = l->n;
    if (l->strategy == AC_STRATEGY_SCORES)
        localize_by_scores(l);
    else
        prior_posterior(l);
    return AC_OK;
}

int ac__loc_verdict(const ac_localizer *l, uint32_t t)
{
    if (l->answers[t] == 0)
        return -1;
    return l->answer_sum[t] / l->answers[t] >= 0.5;
}

/* ------------------------------------------------------------------ */
/* Planning a round                                                    */
/* ------------------------------------------------------------------ */

/* Prefixes lo+1, lo+2, ... not answered yet, before the first rejected. */
static uint32_t linear_queries(const ac_localizer *l, uint32_t *out,
                               uint32_t width)
{
    uint32_t count = 0;
    for (int64_t t = l->lo + 1; t < l->hi && count < width; t++)
        if (l->answers[t] == 0)
            out[count++] = (uint32_t)t;
    return count;
}

/* W points splitting (lo, hi) into W + 1 parts of hypotheses. */
static uint32_t binary_queries(const ac_localizer *l, uint32_t *out,
                               uint32_t width)
{
    uint32_t count = 0;
    int64_t span = l->hi - l->lo;
    for (uint32_t i = 1; i <= width; i++) {
        int64_t t = l->lo + (span * i) / (width + 1);
        if (t <= l->lo)
            t = l->lo + 1;
        if (t >= l->hi || (count > 0 && t <= (int64_t)out[count - 1]))
            continue;
        out[count++] = (uint32_t)t;
    }
    return count;
}

static double min_split(const ac_localizer *l)
{
    return l->p.noise == AC_NOISE_REPEATABLE ? REPEATABLE_MIN_SPLIT : 0.0;
}

/* Whether prefix t may be asked in this round. */
static int askable(const ac_localizer *l, uint32_t t)
{
    double split = min_split(l);
    double f = l->cdf[t];
    if (!(f > split && f < 1.0 - split))
        return 0; /* the answer is already known, or would not matter */
    if (l->p.noise == AC_NOISE_INDEPENDENT)
        return 1; /* asking again adds independent evidence */
    return l->answers[t] == 0 && !l->picked[t];
}

/* The askable prefix whose cdf is nearest q: from the first with cdf >= q,
 * outwards (cdf is monotone, so the first askable on each side is that
 * side's nearest). A walk ends where cdf leaves (split, 1 - split), past
 * which nothing is askable: walking on to the end made a round of W
 * quantiles cost W T once the posterior had narrowed (10 s for a round of
 * 4096 at T = 2^20). */
static int64_t nearest_askable(const ac_localizer *l, double q)
{
    uint32_t a = 0, b = l->n;
    while (a < b) {
        uint32_t m = a + (b - a) / 2;
        if (l->cdf[m] < q)
            a = m + 1;
        else
            b = m;
    }
    double split = min_split(l);
    int64_t up = a, down = (int64_t)a - 1;
    while (up < l->n && !askable(l, (uint32_t)up))
        up = l->cdf[up] >= 1.0 - split ? (int64_t)l->n : up + 1;
    while (down >= 0 && !askable(l, (uint32_t)down))
        down = l->cdf[down] <= split ? -1 : down - 1;
    if (up == l->n)
        return down;
    if (down < 0)
        return up;
    return q - l->cdf[down] <= l->cdf[up] - q ? down : up;
}

static int by_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : (x > y);
}

/* The W quantiles i / (W + 1) of the posterior: for W = 1 the prefix that
 * splits the mass nearest half and half, where an answer tells most. */
static uint32_t bisection_queries(ac_localizer *l, uint32_t *out,
                                  uint32_t width)
{
    settle(l);
    ac__ksum acc = {0.0, 0.0};
    for (uint32_t t = 0; t < l->n; t++) {
        ac__ksum_add(&acc, l->post[t]);
        l->cdf[t] = ac__ksum_value(&acc);
    }
    uint32_t count = 0;
    for (uint32_t i = 1; i <= width; i++) {
        int64_t t = nearest_askable(l, (double)i / (width + 1));
        if (t >= 0) {
            out[count++] = (uint32_t)t;
            l->picked[t] = 1;
        }
    }
    for (uint32_t k = 0; k < count; k++)
        l->picked[out[k]] = 0;
    qsort(out, count, sizeof *out, by_u32);
    return count;
}

/* Noisy bisection lives on the posterior alone; every other search also
 * keeps the logical bracket [lo, hi]. */
static int posterior_only(const ac_localizer *l)
{
    return l->strategy == AC_STRATEGY_BISECTION && is_noisy(l);
}

/* Ends the search when its own rule says so; returns 1 if it did. */
static int search_over(ac_localizer *l)
{
    if (posterior_only(l)) {
        uint32_t h = most_probable(l);
        if (l->post[h] < l->p.target)
            return 0;
        finish(l, verdict_outcome(l, h), h);
        return 1;
    }
    if (l->hi - l->lo > 1)
        return 0;
    finish(l, verdict_outcome(l, (uint32_t)l->hi), (uint32_t)l->hi);
    return 1;
}

void ac__search_plan(ac_localizer *l)
{
    l->round_len = 0;
    if (l->outcome != AC_LOCALIZER_OUTCOME_PENDING || search_over(l))
        return;
    /* A round the budget cannot pay in full is planned smaller, so that
     * its points still split the hypotheses well. */
    uint32_t width = ac__localizer_affordable(l, (uint32_t)l->p.batch, 0);
    uint32_t *out = l->plan;
    if (width == 0) {
        finish(l, AC_LOCALIZER_OUTCOME_OUT_OF_BUDGET, most_probable(l));
        return;
    }
    uint32_t count =
        l->strategy == AC_STRATEGY_LINEAR   ? linear_queries(l, out, width)
        : l->strategy == AC_STRATEGY_BINARY ? binary_queries(l, out, width)
                                            : bisection_queries(l, out, width);
    /* An exact verifier's prior may put no mass where the error is: fall
     * back to splitting the interval itself. */
    if (count == 0 && !is_noisy(l) && l->hi - l->lo > 1)
        count = binary_queries(l, out, width);
    if (count == 0) { /* nothing left worth asking */
        finish(l, AC_LOCALIZER_OUTCOME_EXHAUSTED, most_probable(l));
        return;
    }
    ac__localizer_charge(l, count);
    for (uint32_t k = 0; k < count; k++)
        ac__localizer_enqueue(l, out[k]);
}

/* ------------------------------------------------------------------ */
/* Applying a round's answers                                          */
/* ------------------------------------------------------------------ */

/* A positive number as m 2^e, m in [0.5, 1): products of thousands of
 * likelihoods (each down to 1 - p = 1e-9) stay exact in range. */
typedef struct scaled {
    double m;
    int e;
} scaled;

static scaled scaled_times(scaled a, double b)
{
    int k;
    double m = frexp(a.m * b, &k);
    return (scaled){m, a.e + k};
}

static int by_prefix_then_value(const void *a, const void *b)
{
    const ac__loc_answer *x = a, *y = b;
    if (x->prefix != y->prefix)
        return x->prefix < y->prefix ? -1 : 1;
    return x->value < y->value ? -1 : (x->value > y->value);
}

/* The hypotheses' factor from the answers, for h after the first j
 * answers (prefixes < h: "on track" is their truth) and before the rest
 * (prefixes >= h: "off track"). */
static scaled answers_factor(const ac__loc_answer *a, uint32_t m, uint32_t j,
                             scaled on_before)
{
    if (j == m)
        return on_before;
    int k;
    double f = frexp(on_before.m * a[j].suffix, &k);
    return (scaled){f, on_before.e + a[j].suffix_exp + k};
}

/* The hypotheses between two consecutive answered prefixes share one
 * factor: [from, to) and its factor. */
typedef struct segment {
    uint32_t from, to, j;
    scaled on;
} segment;

static void next_segment(const ac_localizer *l, const ac__loc_answer *a,
                         uint32_t m, segment *g)
{
    double p = l->p.accuracy;
    g->from = g->to;
    for (; g->j < m && a[g->j].prefix < g->from; g->j++) {
        double q = a[g->j].value;
        g->on = scaled_times(g->on, p * q + (1.0 - p) * (1.0 - q));
    }
    g->to = g->j < m ? a[g->j].prefix + 1 : l->n + 1;
}

/* Bayes' rule for every waiting answer at once. An answer q (the
 * probability of "on track") at prefix t from a verifier right with
 * probability p multiplies the off-track hypotheses (h <= t) by
 * P(q | off) = p (1 - q) + (1 - p) q and the others by P(q | on); the
 * product over the answers is constant between consecutive prefixes, so
 * one pass over the hypotheses, with prefix products of P(q | on) and
 * suffix products of P(q | off), applies them all. One answer at a time
 * cost a pass over the T + 1 hypotheses each: a round of 4096 answers at
 * T = 2^20 took 13 s. The products are carried as mantissa and exponent,
 * and the posterior rescaled by the largest of its new values, so that no
 * likelihood ratio, however extreme, underflows it to zero. */
static void bayes_apply_pending(ac_localizer *l)
{
    uint32_t m = l->pending_len;
    ac__loc_answer *a = l->pending;
    double p = l->p.accuracy;
    if (m == 0)
        return;
    l->pending_len = 0;
    /* Order by prefix; (prefix, value) decides ties, so the products do not
     * depend on the order the answers were told in. */
    qsort(a, m, sizeof *a, by_prefix_then_value);
    scaled off = {0.5, 1}; /* 1 */
    for (uint32_t i = m; i-- > 0;) {
        double q = a[i].value;
        off = scaled_times(off, p * (1.0 - q) + (1.0 - p) * q);
        a[i].suffix = off.m;
        a[i].suffix_exp = off.e;
    }
    /* The largest new value's exponent, from each segment's largest
     * posterior value. */
    int top = INT_MIN;
    segment g = {0, 0, 0, {0.5, 1}};
    while (g.to <= l->n) {
        next_segment(l, a, m, &g);
        double big = 0.0;
        for (uint32_t h = g.from; h < g.to; h++)
            big = l->post[h] > big ? l->post[h] : big;
        if (big > 0.0) {
            int e;
            frexp(big, &e);
            scaled f = answers_factor(a, m, g.j, g.on);
            top = f.e + e > top ? f.e + e : top;
        }
    }
    if (top == INT_MIN)
        return; /* no mass to move: normalise has kept some */
    /* New values f post[h] 2^-top, at most 1 and the largest above 1/8. */
    g = (segment){0, 0, 0, {0.5, 1}};
    while (g.to <= l->n) {
        next_segment(l, a, m, &g);
        scaled f = answers_factor(a, m, g.j, g.on);
        int shift = f.e - top;
        if (shift < DBL_MAX_EXP - 2) { /* the factor is a double */
            double factor = ldexp(f.m, shift);
            for (uint32_t h = g.from; h < g.to; h++)
                l->post[h] *= factor;
        } else { /* tiny values, raised past DBL_MAX: scale each whole */
            for (uint32_t h = g.from; h < g.to; h++)
                l->post[h] = ldexp(l->post[h] * f.m, shift);
        }
    }
    normalise(l->post, l->n + 1);
}

/* An exact verifier leaves the prior on (lo, hi]. A prior that put no mass
 * there (the answers contradict it) gives way to a uniform one. */
static void restrict_exact(ac_localizer *l)
{
    double total = 0.0;
    for (uint32_t h = 0; h <= l->n; h++) {
        if ((int64_t)h <= l->lo || (int64_t)h > l->hi)
            l->post[h] = 0.0;
        total += l->post[h];
    }
    if (!(total > 0.0))
        for (int64_t h = l->lo + 1; h <= l->hi; h++)
            l->post[h] = 1.0;
    normalise(l->post, l->n + 1);
}

/* Brings the posterior up to date with every answer applied so far. */
static void settle(ac_localizer *l)
{
    bayes_apply_pending(l);
    if (l->restrict_due) {
        l->restrict_due = 0;
        restrict_exact(l);
    }
}

/* The interval logic of LINEAR, BINARY and exact BISECTION, by verdict.
 * Answers come in prefix order: after a rejected prefix, a later accepted
 * one (a repair, or a wrong answer) cannot move lo past it. */
static void narrow(ac_localizer *l, uint32_t t, int on)
{
    if (!on) {
        if (t < l->hi)
            l->hi = t;
    } else if (l->strategy != AC_STRATEGY_LINEAR && (int64_t)t < l->hi &&
               (int64_t)t > l->lo) {
        l->lo = t;
    }
    if (l->strategy == AC_STRATEGY_LINEAR) /* lo: the accepted run from 0 */
        while (l->lo + 1 < l->hi &&
               ac__loc_verdict(l, (uint32_t)(l->lo + 1)) == 1)
            l->lo++;
}

void ac__search_apply(ac_localizer *l)
{
    int noisy = is_noisy(l);
    int logic = !posterior_only(l);
    if (noisy && l->pending_len + l->round_len > l->pending_cap)
        bayes_apply_pending(l);
    for (uint32_t k = 0; k < l->round_len; k++) {
        const ac__loc_query *q = &l->round[k];
        if (q->failed)
            continue;
        if (noisy)
            l->pending[l->pending_len++] =
                (ac__loc_answer){q->prefix, 0, q->value, 0.0};
        if (logic)
            narrow(l, q->prefix, q->value >= 0.5);
    }
    if (!noisy)
        l->restrict_due = 1;
}
