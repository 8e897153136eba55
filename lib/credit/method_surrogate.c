/* Surrogate and correction: the coalitions of the KernelSHAP plan, surrogate
 * games of different kinds fitted to them, and an unbiased Monte-Carlo
 * estimate of the Shapley values of what the chosen surrogate misses.
 *
 * For any game g,  phi(v) = phi(g) + phi(v - g).  phi(g) is exact for a
 * surrogate whose Shapley values have a closed form; phi(v - g) is estimated
 * from the evaluated coalitions by stratified sampling, so the estimate
 * does not rest on the surrogate being right, and its standard error is the
 * residual's spread: a surrogate that represents the game leaves nothing to
 * estimate, a poor one only costs variance.
 *
 * The correction works on the odd part. With S and its complement both
 * evaluated (the plan samples complementary pairs and enumerates layers from
 * both ends), o(S) = (r(S) - r(N \ S)) / 2 for the residual r = v - g is an
 * odd game with the Shapley values of r, and
 *     phi_i(o) = (2/n) sum_{k=1..n} E[o(S) | |S| = k, i in S],
 * each conditional mean taken over the layer's evaluated coalitions that
 * contain i (exactly, for an enumerated layer; as a sample mean, for a
 * sampled one, whose coalitions are uniform within the layer). For one
 * player the sampled pairs fall into disjoint cells, so the cells'
 * variances add up to the credit's.
 *
 * The surrogates:
 *  - none (g = 0): the correction alone, a stratified sampler;
 *  - where the values take two levels (a vote), a threshold of an additive
 *    score, lo + (hi - lo) 1[sum_{i in S} W_i >= quota], integer weights
 *    from a logistic regression and the quota with the fewest training
 *    coalitions on the wrong side; its Shapley values by the voting
 *    programme over (size, weight) counts;
 *  - OddSHAP's Gaussian-process fit of the odd part (its own credits);
 *  - a regression tree on the 0/1 membership vector (represents a maximum
 *    game exactly): a leaf of value c reached with the players P in and Q
 *    out is the game c 1[P in S, Q out of S], whose Shapley values are
 *    c (|P|-1)! |Q|! / (|P|+|Q|)! for each member of P and
 *    -c |P|! (|Q|-1)! / (|P|+|Q|)! for each member of Q.
 * The residuals of a sampled coalition are taken from a fit that did not
 * see it (OddSHAP's leave-one-out residuals; the trees' and the
 * threshold's from FOLDS-fold cross-fitting), so that the correction is not fooled by a surrogate that
 * interpolates its data; an enumerated layer uses the final fit's own
 * residuals, which make its part of the correction exact. The surrogate
 * kept is the one whose corrected estimate has the least estimated
 * variance. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/bits.h"
#include "common/coalition.h"
#include "credit/kernel_design.h"
#include "credit/linalg.h"
#include "credit/methods.h"
#include "credit/oddshap_fit.h"

#define FOLDS 5u
#define MAX_DEPTH 64u
#define N_SURROGATES 4 /* none, OddSHAP's, the trees, the threshold */
/* The threshold: its players, its integer weights' total, the fit. */
#define THRESH_MAX_PLAYERS 64u
#define THRESH_W 4096
#define LOGIT_STEPS 8
#define LOGIT_RIDGE 1e-2

/* ---- the regression tree ---------------------------------------------- */

typedef struct tree_node {
    int32_t player; /* the split: S contains it (in) or not; -1: a leaf */
    uint32_t in, out;
    double value;
} tree_node;

typedef struct tree {
    tree_node *node;
    uint32_t len, cap;
} tree;

/* The training set: every evaluated coalition, v(S) - v(empty). */
typedef struct train {
    uint32_t n, words, count;
    const uint64_t **key;
    uint32_t *entry; /* each row's cache entry */
    double *y;
    uint32_t *fold;
    uint32_t *idx;   /* the rows of the current fit, partitioned in place */
    double *s_in;    /* n: sum of y over the node's rows containing i */
    uint32_t *c_in;  /* n: their count */
    double tol;      /* a node this pure is a leaf */
    const atomic_int *stop;
} train;

static int push_node(const ac__mem *mm, tree *t, double value, uint32_t *at)
{
    int rc = ac__mem_reserve(mm, (void **)&t->node, t->len, &t->cap, 64,
                             sizeof *t->node);
    if (rc != AC_OK)
        return rc;
    *at = t->len;
    t->node[t->len++] = (tree_node){-1, 0, 0, value};
    return AC_OK;
}

/* The split with the largest drop of the squared error over rows
 * idx[lo, hi) (sum: their total), or -1 when none drops it. */
static int32_t best_split(train *tr, uint32_t lo, uint32_t hi, double sum)
{
    memset(tr->s_in, 0, tr->n * sizeof *tr->s_in);
    memset(tr->c_in, 0, tr->n * sizeof *tr->c_in);
    for (uint32_t r = lo; r < hi; r++) {
        const uint64_t *key = tr->key[tr->idx[r]];
        double y = tr->y[tr->idx[r]];
        for (uint32_t w = 0; w < tr->words; w++)
            for (uint64_t x = key[w]; x; x &= x - 1) {
                uint32_t i = 64 * w + ac__ctz64(x);
                tr->s_in[i] += y;
                tr->c_in[i]++;
            }
    }
    double c = (double)(hi - lo), best = tr->tol;
    int32_t player = -1;
    for (uint32_t i = 0; i < tr->n; i++) {
        double ci = tr->c_in[i], co = c - ci;
        if (ci == 0.0 || co == 0.0)
            continue;
        double so = sum - tr->s_in[i];
        double gain = tr->s_in[i] * tr->s_in[i] / ci + so * so / co -
                      sum * sum / c;
        if (gain > best) {
            best = gain;
            player = (int32_t)i;
        }
    }
    return player;
}

/* Grows the node of rows idx[lo, hi) into *at. AC_OK, AC_E_NO_MEMORY or
 * AC_E_CANCELLED. */
static int grow(const ac__mem *mm, train *tr, tree *t, uint32_t lo,
                uint32_t hi, uint32_t depth, uint32_t *at)
{
    if (atomic_load_explicit(tr->stop, memory_order_relaxed))
        return AC_E_CANCELLED;
    double sum = 0.0, sq = 0.0;
    for (uint32_t r = lo; r < hi; r++) {
        double y = tr->y[tr->idx[r]];
        sum += y;
        sq += y * y;
    }
    double c = (double)(hi - lo);
    int rc = push_node(mm, t, c > 0.0 ? sum / c : 0.0, at);
    if (rc != AC_OK || hi - lo < 2 || depth >= MAX_DEPTH ||
        sq - sum * sum / c <= tr->tol)
        return rc;
    int32_t player = best_split(tr, lo, hi, sum);
    if (player < 0)
        return AC_OK;
    uint32_t mid = lo;
    for (uint32_t r = lo; r < hi; r++)
        if (ac__bit_test(tr->key[tr->idx[r]], (uint32_t)player)) {
            uint32_t tmp = tr->idx[mid];
            tr->idx[mid++] = tr->idx[r];
            tr->idx[r] = tmp;
        }
    uint32_t in, out, self = *at;
    rc = grow(mm, tr, t, lo, mid, depth + 1, &in);
    if (rc == AC_OK)
        rc = grow(mm, tr, t, mid, hi, depth + 1, &out);
    if (rc == AC_OK)
        t->node[self] = (tree_node){player, in, out, t->node[self].value};
    return rc;
}

/* A tree on the rows outside fold `skip` (FOLDS: on every row). */
static int tree_fit(const ac__mem *mm, train *tr, uint32_t skip, tree *t)
{
    uint32_t rows = 0;
    for (uint32_t j = 0; j < tr->count; j++)
        if (tr->fold[j] != skip)
            tr->idx[rows++] = j;
    t->len = 0;
    uint32_t root;
    return grow(mm, tr, t, 0, rows, 0, &root);
}

/* The tree's value at S, or at N \ S (flip). */
static double tree_value(const tree *t, const uint64_t *key, int flip)
{
    uint32_t at = 0;
    while (t->node[at].player >= 0) {
        const tree_node *nd = &t->node[at];
        at = ac__bit_test(key, (uint32_t)nd->player) ^ flip ? nd->in
                                                             : nd->out;
    }
    return t->node[at].value;
}

/* Adds weight times the Shapley values of the tree below node `at` into
 * phi; path and in_path hold the splits above it. */
static void tree_shapley(const tree *t, uint32_t at, uint32_t *path,
                         uint8_t *in_path, uint32_t depth, double weight,
                         double *phi)
{
    const tree_node *nd = &t->node[at];
    if (nd->player >= 0) {
        path[depth] = (uint32_t)nd->player;
        in_path[depth] = 1;
        tree_shapley(t, nd->in, path, in_path, depth + 1, weight, phi);
        in_path[depth] = 0;
        tree_shapley(t, nd->out, path, in_path, depth + 1, weight, phi);
        return;
    }
    uint32_t p = 0;
    for (uint32_t d = 0; d < depth; d++)
        p += in_path[d];
    uint32_t q = depth - p;
    if (depth == 0) /* a constant: no credit */
        return;
    double c = weight * nd->value / ac__binomial(depth, p);
    for (uint32_t d = 0; d < depth; d++)
        phi[path[d]] += in_path[d] ? c / p : -c / q;
}

/* ---- the candidates --------------------------------------------------- */

/* One surrogate: its credits, the residuals of the odd part per cache
 * entry (the final fit's, for enumerated layers, and those of a fit that
 * did not see the coalition, for sampled ones), and o(N). */
typedef struct candidate {
    int ok;
    double *phi, *se;
    double *res_fit, *res_cv;
    double o_full;
} candidate;

typedef struct surrogate_work {
    uint32_t n, count;       /* players; cache entries */
    uint32_t *comp;          /* cache entry of each one's complement */
    uint32_t *fold;          /* the fold of each (FOLDS: in every fit) */
    double *u;               /* odd value per entry (NaN: no complement) */
    double delta;            /* v(all) - v(empty) */
    candidate cand[N_SURROGATES];
    /* The strata, n x (n + 1): per player and size, the residuals of the
     * evaluated coalitions containing the player. */
    double *sum, *sq, *cnt;
    double *lsum, *lsq, *lcnt; /* n + 1: per size, every coalition */
} surrogate_work;

static int work_alloc(ac_estimator *e, surrogate_work *w)
{
    const ac__mem *mm = &e->mem;
    uint32_t n = e->n, c = e->cache.count;
    memset(w, 0, sizeof *w);
    w->n = n;
    w->count = c;
    w->comp = ac__mem_alloc(mm, c, sizeof *w->comp);
    w->fold = ac__mem_alloc(mm, c, sizeof *w->fold);
    w->u = ac__mem_alloc(mm, c, sizeof *w->u);
    size_t cells = (size_t)n * (n + 1);
    w->sum = ac__mem_alloc(mm, cells, sizeof *w->sum);
    w->sq = ac__mem_alloc(mm, cells, sizeof *w->sq);
    w->cnt = ac__mem_alloc(mm, cells, sizeof *w->cnt);
    w->lsum = ac__mem_alloc(mm, n + 1, sizeof *w->lsum);
    w->lsq = ac__mem_alloc(mm, n + 1, sizeof *w->lsq);
    w->lcnt = ac__mem_alloc(mm, n + 1, sizeof *w->lcnt);
    int ok = w->comp && w->fold && w->u && w->sum && w->sq && w->cnt && w->lsum &&
             w->lsq && w->lcnt;
    for (int k = 0; k < N_SURROGATES; k++) {
        candidate *cd = &w->cand[k];
        cd->phi = ac__mem_calloc(mm, n, sizeof *cd->phi);
        cd->se = ac__mem_calloc(mm, n, sizeof *cd->se);
        cd->res_fit = ac__mem_alloc(mm, c, sizeof *cd->res_fit);
        cd->res_cv = ac__mem_alloc(mm, c, sizeof *cd->res_cv);
        ok = ok && cd->phi && cd->se && cd->res_fit && cd->res_cv;
        for (uint32_t j = 0; ok && j < c; j++)
            cd->res_fit[j] = cd->res_cv[j] = NAN;
    }
    return ok ? AC_OK : AC_E_NO_MEMORY;
}

static void work_free(ac_estimator *e, surrogate_work *w)
{
    const ac__mem *mm = &e->mem;
    ac__mem_free(mm, w->comp);
    ac__mem_free(mm, w->fold);
    ac__mem_free(mm, w->u);
    ac__mem_free(mm, w->sum);
    ac__mem_free(mm, w->sq);
    ac__mem_free(mm, w->cnt);
    ac__mem_free(mm, w->lsum);
    ac__mem_free(mm, w->lsq);
    ac__mem_free(mm, w->lcnt);
    for (int k = 0; k < N_SURROGATES; k++) {
        ac__mem_free(mm, w->cand[k].phi);
        ac__mem_free(mm, w->cand[k].se);
        ac__mem_free(mm, w->cand[k].res_fit);
        ac__mem_free(mm, w->cand[k].res_cv);
    }
}

static int entry_usable(const ac_estimator *e, uint32_t j)
{
    uint32_t st = e->cache.entries[j].state;
    return st == AC__ENTRY_DONE || st == AC__ENTRY_KNOWN;
}

/* Each entry's complement and odd value u(S) = (v(S) - v(N \ S)) / 2. */
static int odd_values(ac_estimator *e, surrogate_work *w)
{
    uint64_t *comp = ac__mem_alloc(&e->mem, e->words, sizeof *comp);
    if (comp == NULL)
        return AC_E_NO_MEMORY;
    for (uint32_t j = 0; j < w->count; j++) {
        const uint64_t *key = ac__cache_key(&e->cache, j);
        ac__coalition_fill(comp, e->words, e->n);
        for (uint32_t k = 0; k < e->words; k++)
            comp[k] &= ~key[k];
        uint32_t c = ac__cache_find(&e->cache, comp);
        w->comp[j] = c;
        w->u[j] = c != AC__NO_ENTRY && entry_usable(e, j) &&
                          entry_usable(e, c)
                      ? (ac__est_value(e, j) - ac__est_value(e, c)) / 2.0
                      : NAN;
    }
    ac__mem_free(&e->mem, comp);
    w->delta = ac__est_cache_total(e, 0);
    return AC_OK;
}

/* The folds of the cross-fitted surrogates: the sampled pairs in turn (a
 * pair drawn twice keeps its first); every other coalition (enumerated,
 * known) is in every fit, which leaves the sampled ones' residuals
 * independent of the fit that gives them all the same. */
static void assign_folds(surrogate_work *w, const ac__kernel_design *d)
{
    for (uint32_t j = 0; j < w->count; j++)
        w->fold[j] = FOLDS;
    for (uint32_t k = d->n_enum; k + 1 < d->count; k += 2) {
        uint32_t f = (k - d->n_enum) / 2 % FOLDS;
        if (w->fold[d->entries[k]] == FOLDS)
            w->fold[d->entries[k]] = w->fold[d->entries[k + 1]] = f;
    }
}

/* g = 0: the residual is the game's odd part. */
static void candidate_none(surrogate_work *w)
{
    candidate *cd = &w->cand[0];
    memcpy(cd->res_fit, w->u, w->count * sizeof *w->u);
    memcpy(cd->res_cv, w->u, w->count * sizeof *w->u);
    cd->o_full = w->delta / 2.0;
    cd->ok = 1;
}

/* OddSHAP's fit: it reproduces N exactly. */
static int candidate_odd(ac_estimator *e, surrogate_work *w)
{
    candidate *cd = &w->cand[1];
    int rc = ac__oddshap_fit(e, cd->phi, cd->se, cd->res_fit, cd->res_cv);
    if (rc == AC__FALL_BACK) /* more pairs than it takes: left out */
        return AC_OK;
    cd->o_full = 0.0;
    cd->ok = rc == AC_OK;
    return rc;
}

/* The training set of the trees: every usable entry, with its fold. */
static int train_make(ac_estimator *e, const surrogate_work *w, train *tr)
{
    const ac__mem *mm = &e->mem;
    memset(tr, 0, sizeof *tr);
    tr->n = e->n;
    tr->words = e->words;
    tr->stop = &e->cancelled;
    tr->key = ac__mem_alloc(mm, w->count, sizeof *tr->key);
    tr->entry = ac__mem_alloc(mm, w->count, sizeof *tr->entry);
    tr->y = ac__mem_alloc(mm, w->count, sizeof *tr->y);
    tr->fold = ac__mem_alloc(mm, w->count, sizeof *tr->fold);
    tr->idx = ac__mem_alloc(mm, w->count, sizeof *tr->idx);
    tr->s_in = ac__mem_alloc(mm, e->n, sizeof *tr->s_in);
    tr->c_in = ac__mem_alloc(mm, e->n, sizeof *tr->c_in);
    if (!tr->key || !tr->entry || !tr->y || !tr->fold || !tr->idx || !tr->s_in ||
        !tr->c_in)
        return AC_E_NO_MEMORY;
    double v0 = ac__est_value(e, e->empty_entry), sq = 0.0;
    for (uint32_t j = 0; j < w->count; j++) {
        if (!entry_usable(e, j))
            continue;
        tr->key[tr->count] = ac__cache_key(&e->cache, j);
        tr->entry[tr->count] = j;
        tr->y[tr->count] = ac__est_value(e, j) - v0;
        tr->fold[tr->count] = w->fold[j];
        sq += tr->y[tr->count] * tr->y[tr->count];
        tr->count++;
    }
    tr->tol = 1e-24 * (sq > 0.0 ? sq : 1.0);
    return AC_OK;
}

static void train_free(ac_estimator *e, train *tr)
{
    const ac__mem *mm = &e->mem;
    ac__mem_free(mm, tr->key);
    ac__mem_free(mm, tr->entry);
    ac__mem_free(mm, tr->y);
    ac__mem_free(mm, tr->fold);
    ac__mem_free(mm, tr->idx);
    ac__mem_free(mm, tr->s_in);
    ac__mem_free(mm, tr->c_in);
}

/* ---- the threshold of an additive score ------------------------------ */

/* A game of two values (a vote: 0/1) fitted as lo + (hi - lo) 1[sum_{i in
 * S} W_i >= quota], integer weights W from a logistic regression on the
 * membership vector; its Shapley values by the voting programme over
 * (size, weight) counts, with one player removed at a time. */
typedef struct threshold {
    uint32_t n;
    double lo, hi;
    double *beta, *hess, *grad; /* n + 1 (intercept last), its square */
    double *p;                  /* rows: fitted probabilities */
    int64_t *wt, quota, total;
    double *count, *without;    /* (n + 1) x (THRESH_W + 1) */
    double *score;              /* rows x 2: score, label (sorting) */
} threshold;

/* Whether the training values take exactly two levels, into lo and hi. */
static int two_levels(const train *tr, double *lo, double *hi)
{
    if (tr->count == 0)
        return 0;
    *lo = *hi = tr->y[0];
    for (uint32_t r = 1; r < tr->count; r++) {
        double y = tr->y[r];
        if (y == *lo || y == *hi)
            continue;
        if (*lo != *hi)
            return 0;
        if (y < *lo)
            *lo = y;
        else
            *hi = y;
    }
    return *lo != *hi;
}

/* Adds weight c at every (a, b) of the row's players and the intercept
 * (index n) into the lower half of m. */
static void add_outer(double *m, uint32_t n, const uint64_t *key,
                      uint32_t words, double c)
{
    uint32_t d = n + 1, idx[AC_KERNEL_MAX_PLAYERS + 1], k = 0;
    for (uint32_t w = 0; w < words; w++)
        for (uint64_t x = key[w]; x; x &= x - 1)
            idx[k++] = 64 * w + ac__ctz64(x);
    idx[k++] = n;
    for (uint32_t a = 0; a < k; a++)
        for (uint32_t b = 0; b <= a; b++)
            m[(size_t)idx[a] * d + idx[b]] += c;
}

static double row_score(const double *beta, uint32_t n, const uint64_t *key,
                        uint32_t words)
{
    double z = beta[n];
    for (uint32_t w = 0; w < words; w++)
        for (uint64_t x = key[w]; x; x &= x - 1)
            z += beta[64 * w + ac__ctz64(x)];
    return z;
}

/* Newton steps of a ridge-penalised logistic regression of the level on
 * membership, over the rows outside fold skip. */
static int logistic_fit(train *tr, threshold *th, uint32_t skip)
{
    uint32_t n = th->n, d = n + 1;
    memset(th->beta, 0, d * sizeof *th->beta);
    for (int it = 0; it < LOGIT_STEPS; it++) {
        memset(th->hess, 0, (size_t)d * d * sizeof *th->hess);
        memset(th->grad, 0, d * sizeof *th->grad);
        for (uint32_t a = 0; a < d; a++)
            th->hess[(size_t)a * d + a] = LOGIT_RIDGE;
        for (uint32_t a = 0; a < n; a++)
            th->grad[a] = -LOGIT_RIDGE * th->beta[a];
        for (uint32_t r = 0; r < tr->count; r++) {
            if (tr->fold[r] == skip)
                continue;
            double z = row_score(th->beta, n, tr->key[r], tr->words);
            double p = 1.0 / (1.0 + exp(-z));
            double y = tr->y[r] == th->hi ? 1.0 : 0.0;
            add_outer(th->hess, n, tr->key[r], tr->words, p * (1.0 - p));
            const uint64_t *key = tr->key[r];
            for (uint32_t w = 0; w < tr->words; w++)
                for (uint64_t x = key[w]; x; x &= x - 1)
                    th->grad[64 * w + ac__ctz64(x)] += y - p;
            th->grad[n] += y - p;
        }
        int rc = ac__cholesky(th->hess, d, tr->stop);
        if (rc == AC__LINALG_STOPPED)
            return AC_E_CANCELLED;
        if (rc != 0)
            return AC__FALL_BACK; /* cannot happen with the ridge */
        ac__cholesky_solve(th->hess, d, th->grad);
        for (uint32_t a = 0; a < d; a++)
            th->beta[a] += th->grad[a];
    }
    return AC_OK;
}

static int by_score(const void *a, const void *b)
{
    const double *x = a, *y = b;
    return x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : (x[1] > y[1]) - (x[1] < y[1]);
}

/* Integer weights from the fit (negative ones to 0: a vote is monotone),
 * and the quota with the fewest training rows on the wrong side. */
static void set_quota(train *tr, threshold *th, uint32_t skip)
{
    uint32_t n = th->n, rows = 0;
    double sum = 0.0;
    for (uint32_t i = 0; i < n; i++)
        sum += th->beta[i] > 0.0 ? th->beta[i] : 0.0;
    double scale = sum > 0.0 ? THRESH_W / sum : 0.0;
    th->total = 0;
    for (uint32_t i = 0; i < n; i++) {
        th->wt[i] = th->beta[i] > 0.0 ? llround(th->beta[i] * scale) : 0;
        th->total += th->wt[i];
    }
    for (uint32_t r = 0; r < tr->count; r++) {
        if (tr->fold[r] == skip)
            continue;
        int64_t sc = 0;
        const uint64_t *key = tr->key[r];
        for (uint32_t w = 0; w < tr->words; w++)
            for (uint64_t x = key[w]; x; x &= x - 1)
                sc += th->wt[64 * w + ac__ctz64(x)];
        th->score[2 * rows] = (double)sc;
        th->score[2 * rows++ + 1] = tr->y[r] == th->hi;
    }
    qsort(th->score, rows, 2 * sizeof *th->score, by_score);
    /* quota above the k lowest scores: wrong = highs below + lows above */
    double lows = 0.0, wrong, best;
    for (uint32_t k = 0; k < rows; k++)
        lows += th->score[2 * k + 1] == 0.0;
    wrong = best = lows;
    th->quota = 0;
    for (uint32_t k = 0; k < rows; k++) {
        wrong += th->score[2 * k + 1] != 0.0 ? 1.0 : -1.0;
        int boundary = k + 1 == rows ||
                       th->score[2 * k + 2] != th->score[2 * k];
        if (boundary && wrong < best) {
            best = wrong;
            th->quota = (int64_t)th->score[2 * k] + 1;
        }
    }
}

static int threshold_fit(train *tr, threshold *th, uint32_t skip)
{
    int rc = logistic_fit(tr, th, skip);
    if (rc == AC_OK)
        set_quota(tr, th, skip);
    return rc;
}

static double threshold_value(const threshold *th, const uint64_t *key,
                              int flip)
{
    int64_t sc = 0;
    for (uint32_t i = 0; i < th->n; i++)
        if (ac__bit_test(key, i) ^ flip)
            sc += th->wt[i];
    return sc >= th->quota ? th->hi : th->lo;
}

/* Adds weight times the game's Shapley values into phi: for player i,
 * sum_k 1 / (n C(n-1, k)) times the coalitions of k others whose weight
 * falls in [quota - W_i, quota), counted by the (size, weight) programme
 * with i removed. */
static int threshold_shapley(const threshold *th, double weight, double *phi,
                             const atomic_int *stop)
{
    uint32_t n = th->n;
    size_t cols = (size_t)th->total + 1;
    double *cnt = th->count, *wo = th->without;
    memset(cnt, 0, (n + 1) * cols * sizeof *cnt);
    cnt[0] = 1.0;
    for (uint32_t i = 0; i < n; i++) {
        int64_t wi = th->wt[i];
        for (uint32_t k = i + 1; k > 0; k--)
            for (int64_t s = th->total - wi; s >= 0; s--)
                cnt[k * cols + (size_t)(s + wi)] += cnt[(k - 1) * cols + (size_t)s];
    }
    double scale = weight * (th->hi - th->lo);
    for (uint32_t i = 0; i < n; i++) {
        if (atomic_load_explicit(stop, memory_order_relaxed))
            return AC_E_CANCELLED;
        int64_t wi = th->wt[i], lo = th->quota - wi > 0 ? th->quota - wi : 0;
        if (wi == 0 || th->quota <= 0 || lo > th->total)
            continue;
        double acc = 0.0;
        for (uint32_t k = 0; k < n; k++) {
            double swings = 0.0;
            for (int64_t s = 0; s < (int64_t)cols; s++) {
                double c = cnt[k * cols + (size_t)s];
                if (k > 0 && s >= wi)
                    c -= wo[(k - 1) * cols + (size_t)(s - wi)];
                wo[k * cols + (size_t)s] = c;
                if (s >= lo && s < th->quota)
                    swings += c;
            }
            acc += swings / ((double)n * ac__binomial(n - 1, k));
        }
        phi[i] += scale * acc;
    }
    return AC_OK;
}

static void threshold_free(const ac__mem *mm, threshold *th)
{
    ac__mem_free(mm, th->beta);
    ac__mem_free(mm, th->hess);
    ac__mem_free(mm, th->grad);
    ac__mem_free(mm, th->wt);
    ac__mem_free(mm, th->count);
    ac__mem_free(mm, th->without);
    ac__mem_free(mm, th->score);
}

static int threshold_alloc(const ac__mem *mm, const train *tr,
                           threshold *th)
{
    uint32_t n = tr->n, d = n + 1;
    th->n = n;
    th->beta = ac__mem_alloc(mm, d, sizeof *th->beta);
    th->hess = ac__mem_alloc(mm, (size_t)d * d, sizeof *th->hess);
    th->grad = ac__mem_alloc(mm, d, sizeof *th->grad);
    th->wt = ac__mem_alloc(mm, n, sizeof *th->wt);
    size_t cells = (size_t)d * (THRESH_W + n + 1);
    th->count = ac__mem_alloc(mm, cells, sizeof *th->count);
    th->without = ac__mem_alloc(mm, cells, sizeof *th->without);
    th->score = ac__mem_alloc(mm, 2 * (size_t)tr->count, sizeof *th->score);
    return th->beta && th->hess && th->grad && th->wt && th->count &&
                   th->without && th->score
               ? AC_OK
               : AC_E_NO_MEMORY;
}

/* ---- cross-fitting ---------------------------------------------------- */

enum { MODEL_TREE, MODEL_THRESHOLD };

/* A surrogate of one kind, refitted per fold. */
typedef struct model {
    int kind;
    tree t;
    uint32_t *path;   /* MAX_DEPTH + 1: the splits above a node */
    uint8_t *in_path;
    threshold th;
} model;

static int model_fit(const ac__mem *mm, train *tr, uint32_t skip, model *m)
{
    return m->kind == MODEL_TREE ? tree_fit(mm, tr, skip, &m->t)
                                 : threshold_fit(tr, &m->th, skip);
}

static double model_value(const model *m, const uint64_t *key, int flip)
{
    return m->kind == MODEL_TREE ? tree_value(&m->t, key, flip)
                                 : threshold_value(&m->th, key, flip);
}

static int model_shapley(model *m, double weight, double *phi,
                         const atomic_int *stop)
{
    if (m->kind == MODEL_THRESHOLD)
        return threshold_shapley(&m->th, weight, phi, stop);
    tree_shapley(&m->t, 0, m->path, m->in_path, 0, weight, phi);
    return AC_OK;
}

/* The odd residual u(S) - (g(S) - g(N \ S)) / 2 of model g at entry j. */
static double model_residual(ac_estimator *e, const surrogate_work *w,
                             const model *m, uint32_t j)
{
    const uint64_t *key = ac__cache_key(&e->cache, j);
    return w->u[j] - (model_value(m, key, 0) - model_value(m, key, 1)) / 2.0;
}

/* The models, cross-fitted: model f is fitted without the sampled pairs of
 * fold f, whose residuals it gives. The surrogate is their average: its
 * credits, its residuals at the enumerated coalitions and at N, so that
 * every part of the correction corrects the models it was computed with. */
static int crossfit(ac_estimator *e, surrogate_work *w, train *tr,
                    model *m, candidate *cd)
{
    const ac__mem *mm = &e->mem;
    const uint64_t *full = ac__cache_key(&e->cache, e->grand_entry);
    for (uint32_t j = 0; j < w->count; j++)
        cd->res_fit[j] = 0.0;
    cd->o_full = w->delta / 2.0;
    int rc = AC_OK;
    for (uint32_t f = 0; rc == AC_OK && f < FOLDS; f++) {
        rc = model_fit(mm, tr, f, m);
        if (rc != AC_OK)
            break;
        for (uint32_t r = 0; r < tr->count; r++) {
            uint32_t j = tr->entry[r];
            double res = model_residual(e, w, m, j);
            cd->res_fit[j] += res / FOLDS;
            if (tr->fold[r] == f)
                cd->res_cv[j] = res;
        }
        rc = model_shapley(m, 1.0 / FOLDS, cd->phi, &e->cancelled);
        cd->o_full -= (model_value(m, full, 0) - model_value(m, full, 1)) /
                      (2.0 * FOLDS);
    }
    cd->ok = rc == AC_OK;
    return rc == AC__FALL_BACK ? AC_OK : rc;
}

/* The trees, and the threshold where the values take two levels. */
static int candidate_models(ac_estimator *e, surrogate_work *w)
{
    const ac__mem *mm = &e->mem;
    train tr;
    model m;
    memset(&m, 0, sizeof m);
    m.kind = MODEL_TREE;
    m.path = ac__mem_alloc(mm, MAX_DEPTH + 1, sizeof *m.path);
    m.in_path = ac__mem_alloc(mm, MAX_DEPTH + 1, sizeof *m.in_path);
    int rc = train_make(e, w, &tr);
    if (rc == AC_OK && (m.path == NULL || m.in_path == NULL))
        rc = AC_E_NO_MEMORY;
    if (rc == AC_OK)
        rc = crossfit(e, w, &tr, &m, &w->cand[2]);
    if (rc == AC_OK && e->n <= THRESH_MAX_PLAYERS &&
        two_levels(&tr, &m.th.lo, &m.th.hi)) {
        m.kind = MODEL_THRESHOLD;
        rc = threshold_alloc(mm, &tr, &m.th);
        if (rc == AC_OK)
            rc = crossfit(e, w, &tr, &m, &w->cand[3]);
    }
    train_free(e, &tr);
    threshold_free(mm, &m.th);
    ac__mem_free(mm, m.t.node);
    ac__mem_free(mm, m.path);
    ac__mem_free(mm, m.in_path);
    return rc;
}

/* ---- the correction --------------------------------------------------- */

/* Adds coalition j's residual to the strata of its size. */
static void stratum_add(ac_estimator *e, surrogate_work *w, uint32_t j,
                        double o)
{
    const uint64_t *key = ac__cache_key(&e->cache, j);
    uint32_t s = ac__coalition_size(key, e->words), np = w->n + 1;
    w->lsum[s] += o;
    w->lsq[s] += o * o;
    w->lcnt[s] += 1.0;
    for (uint32_t k = 0; k < e->words; k++)
        for (uint64_t x = key[k]; x; x &= x - 1) {
            size_t cell = (size_t)(64 * k + ac__ctz64(x)) * np + s;
            w->sum[cell] += o;
            w->sq[cell] += o * o;
            w->cnt[cell] += 1.0;
        }
}

/* The strata of candidate cd over the design: the enumerated rows with the
 * final fit's residuals, the sampled ones with the left-out fits'. */
static void strata_fill(ac_estimator *e, surrogate_work *w,
                        const ac__kernel_design *d, const candidate *cd)
{
    size_t cells = (size_t)w->n * (w->n + 1);
    memset(w->sum, 0, cells * sizeof *w->sum);
    memset(w->sq, 0, cells * sizeof *w->sq);
    memset(w->cnt, 0, cells * sizeof *w->cnt);
    memset(w->lsum, 0, (w->n + 1) * sizeof *w->lsum);
    memset(w->lsq, 0, (w->n + 1) * sizeof *w->lsq);
    memset(w->lcnt, 0, (w->n + 1) * sizeof *w->lcnt);
    for (uint32_t k = 0; k < d->count; k++) {
        uint32_t j = d->entries[k];
        double o = k < d->n_enum ? cd->res_fit[j] : cd->res_cv[j];
        if (isfinite(o))
            stratum_add(e, w, j, o);
    }
}

/* The variance of one sampled coalition's residual in layer s: the layer's
 * spread, pooled with every sampled layer's by two degrees of freedom so
 * that a layer of few coalitions is not taken as certain. */
static double layer_variance(const surrogate_work *w, uint32_t s,
                             double pooled)
{
    double c = w->lcnt[s];
    double ss = c > 0.0 ? w->lsq[s] - w->lsum[s] * w->lsum[s] / c : 0.0;
    if (ss < 0.0)
        ss = 0.0;
    return (ss + 2.0 * pooled) / (c > 1.0 ? c - 1.0 + 2.0 : 2.0);
}

/* The variance a sampled layer's spread is pooled with: the sampled
 * layers' spread within each layer, pooled with their spread about the
 * common mean by two degrees of freedom (a few coalitions of a layer may
 * agree by chance: a vote's smallest sizes all lose); NaN when fewer than
 * two coalitions were sampled. */
static double pooled_variance(const surrogate_work *w,
                              const ac__kernel_plan *plan)
{
    double ss = 0.0, df = 0.0, sum = 0.0, sq = 0.0, count = 0.0;
    for (uint32_t s = 1; s < w->n; s++) {
        double c = w->lcnt[s];
        if (plan->enumerated[s] || c == 0.0)
            continue;
        sum += w->lsum[s];
        sq += w->lsq[s];
        count += c;
        double x = w->lsq[s] - w->lsum[s] * w->lsum[s] / c;
        ss += x > 0.0 ? x : 0.0;
        df += c - 1.0;
    }
    if (count < 2.0)
        return NAN;
    double spread = (sq - sum * sum / count) / (count - 1.0);
    return (ss + 2.0 * (spread > 0.0 ? spread : 0.0)) / (df + 2.0);
}

/* phi = phi(g) + the correction, with its standard errors; returns the
 * sum of the variances (NaN: unknown). */
static double corrected(const ac_estimator *e, const surrogate_work *w,
                        const candidate *cd, double *phi, double *se)
{
    const ac__kernel_plan *plan = e->mstate;
    uint32_t n = w->n, np = n + 1;
    double pooled = pooled_variance(w, plan), total = 0.0;
    for (uint32_t i = 0; i < n; i++) {
        double acc = cd->o_full, var = 0.0;
        for (uint32_t s = 1; s < n; s++) {
            size_t cell = (size_t)i * np + s;
            double c = w->cnt[cell];
            if (c > 0.0)
                acc += w->sum[cell] / c;
            else if (w->lcnt[s] > 0.0)
                acc += w->lsum[s] / w->lcnt[s];
            if (plan->enumerated[s] && w->lcnt[s] > 0.0)
                continue; /* exact */
            var += isnan(pooled) ? INFINITY
                                 : layer_variance(w, s, pooled) /
                                       (c > 1.0 ? c : 1.0);
        }
        double scale = 2.0 / n;
        phi[i] = cd->phi[i] + scale * acc;
        se[i] = scale * sqrt(var);
        total += scale * scale * var;
    }
    return total;
}

/* The corrected estimate of least estimated variance. OddSHAP's fit alone
 * stands instead when the correction cannot tell it wrong: the variance is
 * unknown (no sampled layer with two coalitions), or the correction's move
 * away from the fit's credits is within its own noise (sum of squares at
 * most the sum of the variances); and for a noisy oracle. p and s are
 * scratch. */
static void choose(ac_estimator *e, surrogate_work *w,
                   const ac__kernel_design *d, double *p, double *s,
                   double *phi, double *se)
{
    uint32_t n = e->n;
    double least = INFINITY;
    int chosen = 0;
    for (int k = 0; k < N_SURROGATES; k++) {
        if (!w->cand[k].ok)
            continue;
        strata_fill(e, w, d, &w->cand[k]);
        double v = corrected(e, w, &w->cand[k], p, s);
        if (!chosen || v < least) {
            least = v;
            chosen = 1;
            memcpy(phi, p, n * sizeof *phi);
            memcpy(se, s, n * sizeof *se);
        }
    }
    const candidate *odd = &w->cand[1];
    if (!odd->ok)
        return;
    /* A noisy oracle's enumerated coalitions carry noise the correction
     * counts as exact, and the trees fit it: OddSHAP's estimate. */
    int noisy = e->p.noisy || e->p.repeats > 1;
    double moved = 0.0;
    for (uint32_t i = 0; i < n; i++)
        moved += (phi[i] - odd->phi[i]) * (phi[i] - odd->phi[i]);
    if (!(least < INFINITY) || moved <= least || noisy) {
        memcpy(phi, odd->phi, n * sizeof *phi);
        memcpy(se, odd->se, n * sizeof *se);
    }
}

static int surrogate_estimate(ac_estimator *e, double *phi, double *se)
{
    surrogate_work w;
    ac__kernel_design d;
    int rc = work_alloc(e, &w);
    int drc = ac__kernel_design_make(e, &d);
    if (rc == AC_OK)
        rc = drc;
    if (rc == AC_OK) {
        rc = odd_values(e, &w);
        assign_folds(&w, &d);
    }
    if (rc == AC_OK) {
        candidate_none(&w);
        rc = candidate_odd(e, &w);
    }
    if (rc == AC_OK)
        rc = candidate_models(e, &w);
    double *p = ac__mem_alloc(&e->mem, e->n, sizeof *p);
    double *s = ac__mem_alloc(&e->mem, e->n, sizeof *s);
    if (rc == AC_OK && (p == NULL || s == NULL))
        rc = AC_E_NO_MEMORY;
    if (rc == AC_OK)
        choose(e, &w, &d, p, s, phi, se);
    ac__mem_free(&e->mem, p);
    ac__mem_free(&e->mem, s);
    ac__kernel_design_free(e, &d);
    work_free(e, &w);
    return rc;
}

/* AUTO takes it for a deterministic oracle (not declared noisy, no
 * repeats) while OddSHAP's fit fits: there it is as accurate as OddSHAP or
 * far more (maximum and threshold games, docs/performance.md). With noise
 * the trees and the threshold fit the noise and AUTO keeps OddSHAP. */
static int surrogate_affordable(const ac_estimator *e)
{
    return ac__oddshap_affordable(e) && !e->p.noisy && e->p.repeats == 1;
}

static const ac__method_ops OPS = {
    .begin = ac__oddshap_begin,
    .extend = ac__kernel_plan_extend,
    .estimate = surrogate_estimate,
    .end = ac__kernel_plan_end,
    .settled = ac__kernel_plan_settled,
    .outcome = ac__est_sampled_outcome,
    .total = ac__est_cache_total,
};

const ac__method ac__method_surrogate = {
    .name = "surrogate",
    .id = AC_METHOD_SURROGATE,
    .affordable = surrogate_affordable,
    .ops = &OPS,
    .exact_when_complete = 1,
    .checkpoints = 1,
};
