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
 *  - OddSHAP's Gaussian-process fit of the odd part (its own credits);
 *  - a regression tree on the 0/1 membership vector (represents a maximum
 *    game exactly): a leaf of value c reached with the players P in and Q
 *    out is the game c 1[P in S, Q out of S], whose Shapley values are
 *    c (|P|-1)! |Q|! / (|P|+|Q|)! for each member of P and
 *    -c |P|! (|Q|-1)! / (|P|+|Q|)! for each member of Q.
 * The residuals of a sampled coalition are taken from a fit that did not
 * see it (OddSHAP's leave-one-out residuals; the tree's from FOLDS-fold
 * cross-fitting), so that the correction is not fooled by a surrogate that
 * interpolates its data; an enumerated layer uses the final fit's own
 * residuals, which make its part of the correction exact. The surrogate
 * kept is the one whose corrected estimate has the least estimated
 * variance. */
#include <math.h>
#include <string.h>

#include "common/bits.h"
#include "common/coalition.h"
#include "credit/kernel_design.h"
#include "credit/methods.h"
#include "credit/oddshap_fit.h"

#define FOLDS 5u
#define MAX_DEPTH 64u
#define N_SURROGATES 3

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

/* The odd residual u(S) - (t(S) - t(N \ S)) / 2 of tree t at entry j. */
static double tree_residual(ac_estimator *e, const surrogate_work *w,
                            const tree *t, uint32_t j)
{
    const uint64_t *key = ac__cache_key(&e->cache, j);
    return w->u[j] - (tree_value(t, key, 0) - tree_value(t, key, 1)) / 2.0;
}

/* The trees, cross-fitted: tree f is grown without the sampled pairs of
 * fold f, whose residuals it gives. The surrogate is their average: its
 * credits, its residuals at the enumerated coalitions and at N, so that
 * every part of the correction corrects the trees it was computed with. */
static int candidate_tree(ac_estimator *e, surrogate_work *w)
{
    candidate *cd = &w->cand[2];
    const ac__mem *mm = &e->mem;
    train tr;
    tree t = {NULL, 0, 0};
    uint32_t *path = ac__mem_alloc(mm, MAX_DEPTH + 1, sizeof *path);
    uint8_t *in_path = ac__mem_alloc(mm, MAX_DEPTH + 1, sizeof *in_path);
    int rc = train_make(e, w, &tr);
    if (rc == AC_OK && (path == NULL || in_path == NULL))
        rc = AC_E_NO_MEMORY;
    const uint64_t *full = ac__cache_key(&e->cache, e->grand_entry);
    for (uint32_t j = 0; j < w->count; j++)
        cd->res_fit[j] = 0.0;
    cd->o_full = w->delta / 2.0;
    for (uint32_t f = 0; rc == AC_OK && f < FOLDS; f++) {
        rc = tree_fit(mm, &tr, f, &t);
        if (rc != AC_OK)
            break;
        for (uint32_t r = 0; r < tr.count; r++) {
            uint32_t j = tr.entry[r];
            double res = tree_residual(e, w, &t, j);
            cd->res_fit[j] += res / FOLDS;
            if (tr.fold[r] == f)
                cd->res_cv[j] = res;
        }
        tree_shapley(&t, 0, path, in_path, 0, 1.0 / FOLDS, cd->phi);
        cd->o_full -= (tree_value(&t, full, 0) - tree_value(&t, full, 1)) /
                      (2.0 * FOLDS);
    }
    cd->ok = rc == AC_OK;
    train_free(e, &tr);
    ac__mem_free(mm, t.node);
    ac__mem_free(mm, path);
    ac__mem_free(mm, in_path);
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

/* The pooled variance over the sampled layers; NaN when none has two
 * coalitions. */
static double pooled_variance(const surrogate_work *w,
                              const ac__kernel_plan *plan)
{
    double ss = 0.0, df = 0.0;
    for (uint32_t s = 1; s < w->n; s++) {
        double c = w->lcnt[s];
        if (plan->enumerated[s] || c < 2.0)
            continue;
        double x = w->lsq[s] - w->lsum[s] * w->lsum[s] / c;
        ss += x > 0.0 ? x : 0.0;
        df += c - 1.0;
    }
    return df > 0.0 ? ss / df : NAN;
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
 * most the sum of the variances). p and s are scratch. */
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
    double moved = 0.0;
    for (uint32_t i = 0; i < n; i++)
        moved += (phi[i] - odd->phi[i]) * (phi[i] - odd->phi[i]);
    if (!(least < INFINITY) || moved <= least) {
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
        rc = candidate_tree(e, &w);
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
    .affordable = ac__oddshap_affordable,
    .ops = &OPS,
    .exact_when_complete = 1,
    .checkpoints = 1,
};
