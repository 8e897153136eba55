/* KernelSHAP with paired sampling. The Shapley values solve the weighted
 * least-squares problem
 *     min sum_S w(S) (v(S) - v(empty) - sum_{i in S} phi_i)^2
 *     s.t. sum_i phi_i = v(all) - v(empty),
 * with the Shapley kernel w(S) = (n-1) / (C(n,|S|) |S| (n-|S|)). Coalition
 * sizes whose whole layer the budget pays for are enumerated exactly, from
 * the heaviest (sizes 1 and n-1) inwards; the other sizes are sampled in
 * complementary pairs (S and its complement), each size drawn in proportion
 * to its total kernel weight. Standard errors come from the sandwich
 * (delta-method) variance of the pair contributions. */
#include <math.h>
#include <string.h>

#include "common/coalition.h"
#include "credit/estimator_internal.h"
#include "credit/linalg.h"

#define ENUM_BLOCK 1024u

typedef struct kernel_state {
    uint32_t n;
    uint8_t *enumerated;   /* n+1 flags: size layer enumerated exactly   */
    uint8_t *layer_done;   /* n+1 flags: its enumeration was planned     */
    double *layer_samples; /* n+1: sampled coalitions drawn per size     */
    double *size_weight;   /* n+1: total kernel weight of a sampled size */
    double sampled_weight; /* sum of size_weight over sampled sizes      */
    /* Enumeration cursor: the current size and combination. */
    uint32_t enum_size;
    uint32_t *comb;
    int enum_done;
    int in_layer;          /* the cursor is inside layer enum_size       */
    uint32_t *enum_entries;
    uint32_t n_enum, cap_enum;
    uint32_t *pairs;       /* entries of S and its complement, 2 a pair  */
    uint32_t pair_len, cap_pairs;
    double distinct_sampled; /* sampled coalitions that cost an evaluation */
    uint32_t *scratch;     /* n indices                                  */
    uint64_t *key;
} kernel_state;

static double binomial(uint32_t n, uint32_t k)
{
    if (k > n)
        return 0.0;
    if (k > n - k)
        k = n - k;
    double c = 1.0;
    for (uint32_t j = 1; j <= k; j++)
        c = c * (double)(n - k + j) / (double)j;
    return floor(c + 0.5);
}

/* Kernel weight of one coalition of size s (0 < s < n). */
static double kernel_weight(uint32_t n, uint32_t s)
{
    return (double)(n - 1) / (binomial(n, s) * s * (double)(n - s));
}

/* Known values of a layer cost nothing: count them. */
static double known_in_layer(const ac_estimator *e, uint32_t s)
{
    double k = 0;
    for (uint32_t i = 0; i < e->cache.count; i++)
        if (ac__coalition_size(ac__cache_key(&e->cache, i), e->words) == s)
            k += 1;
    return k;
}

/* Enumerates whole layers, heaviest first, while sampling would spend at
 * least as many evaluations on the layer pair as enumerating it costs (the
 * rule of shap's KernelExplainer): enumeration then removes that layer's
 * sampling error for no more than sampling would pay, and the middle layers
 * keep their share of the budget. */
static void set_size_weights(kernel_state *s)
{
    uint32_t n = s->n;
    s->sampled_weight = 0.0;
    for (uint32_t k = 1; k < n; k++) {
        s->size_weight[k] = s->enumerated[k] ? 0.0
                                             : (double)(n - 1) / (k * (double)(n - k));
        s->sampled_weight += s->size_weight[k];
    }
}

/* With an error target the run may stop long before the budget: layers are
 * then chosen against the first checkpoint, and later promoted as sampling
 * reaches them (promote_layer). */
static void choose_layers(ac_estimator *e, kernel_state *s)
{
    uint32_t n = e->n;
    double horizon = (double)ac__est_remaining(e);
    if (e->next_checkpoint > 0 && (double)e->next_checkpoint < horizon)
        horizon = (double)e->next_checkpoint;
    double left = horizon / (double)e->p.repeats;
    double weight_left = 0.0;
    for (uint32_t k = 1; k < n; k++)
        weight_left += (double)(n - 1) / (k * (double)(n - k));
    for (uint32_t k = 1; k <= n / 2; k++) {
        double cost = binomial(n, k) - known_in_layer(e, k);
        double w = (double)(n - 1) / (k * (double)(n - k));
        if (n - k != k) {
            cost += binomial(n, n - k) - known_in_layer(e, n - k);
            w *= 2.0;
        }
        /* Sizes 1 and n-1 go in whenever affordable: they alone make the
         * normal matrix full rank, which keeps the fit away from the
         * interpolation peak at small budgets. */
        if (cost > left || (k > 1 && left * w / weight_left < cost))
            break;
        left -= cost;
        weight_left -= w;
        s->enumerated[k] = s->enumerated[n - k] = 1;
    }
    set_size_weights(s);
    s->enum_size = 0;
}

/* Once sampling has drawn as many coalitions from the heaviest sampled layer
 * pair as the pair holds, enumerating it costs no more than sampling it
 * again and removes its error: the pair joins the enumerated layers, and
 * its sampled pairs leave the sample (the rest stay correctly distributed
 * over the remaining layers). */
static void promote_layer(ac_estimator *e, kernel_state *s)
{
    uint32_t n = s->n, k = 1;
    while (k <= n / 2 && s->enumerated[k])
        k++;
    if (k > n / 2)
        return;
    double size = binomial(n, k) + (n - k != k ? binomial(n, n - k) : 0.0);
    double drawn = s->layer_samples[k] + (n - k != k ? s->layer_samples[n - k] : 0.0);
    if (drawn < size || size * e->p.repeats > (double)ac__est_remaining(e))
        return;
    s->enumerated[k] = s->enumerated[n - k] = 1;
    set_size_weights(s);
    s->enum_size = k - 1;
    s->in_layer = 0;
    s->enum_done = 0;
}

static int kernel_begin(ac_estimator *e)
{
    if (e->n > AC_KERNEL_MAX_PLAYERS)
        return ac__fail(e->err, AC_E_TOO_LARGE,
                        "KernelSHAP takes at most %u players, not %u; use "
                        "AC_METHOD_PERMUTATION",
                        AC_KERNEL_MAX_PLAYERS, e->n);
    kernel_state *s = ac__mem_calloc(&e->mem, 1, sizeof *s);
    if (s == NULL)
        return AC_E_NO_MEMORY;
    e->mstate = s;
    s->n = e->n;
    s->enumerated = ac__mem_calloc(&e->mem, e->n + 1, 1);
    s->layer_done = ac__mem_calloc(&e->mem, e->n + 1, 1);
    s->layer_samples = ac__mem_calloc(&e->mem, e->n + 1, sizeof *s->layer_samples);
    s->size_weight = ac__mem_calloc(&e->mem, e->n + 1, sizeof *s->size_weight);
    s->comb = ac__mem_alloc(&e->mem, e->n, sizeof *s->comb);
    s->scratch = ac__mem_alloc(&e->mem, e->n, sizeof *s->scratch);
    s->key = ac__mem_alloc(&e->mem, e->words, sizeof *s->key);
    if (!s->enumerated || !s->layer_done || !s->layer_samples ||
        !s->size_weight || !s->comb || !s->scratch || !s->key)
        return AC_E_NO_MEMORY;
    for (uint32_t i = 0; i < e->n; i++)
        s->scratch[i] = i;
    /* Without a single pair beyond the ends, the regression has no data:
     * refuse rather than return the equal split as if it were an estimate. */
    if (e->n > 1 && !ac__est_cache_complete(e) &&
        ac__est_remaining(e) < 2 * e->p.repeats)
        return ac__fail(e->err, AC_E_BUDGET,
                        "KernelSHAP needs at least %lld evaluations beyond "
                        "v(empty) and v(all); the budget leaves %lld",
                        (long long)(2 * e->p.repeats),
                        (long long)ac__est_remaining(e));
    choose_layers(e, s);
    return AC_OK;
}

static int push_u32(ac_estimator *e, uint32_t **arr, uint32_t *len,
                    uint32_t *cap, uint32_t v)
{
    if (*len == *cap) {
        uint32_t c = *cap ? *cap * 2 : 256;
        int rc = ac__mem_grow(&e->mem, (void **)arr, *len, c, sizeof **arr);
        if (rc != AC_OK)
            return rc;
        *cap = c;
    }
    (*arr)[(*len)++] = v;
    return AC_OK;
}

/* Moves the cursor to the first combination of the next enumerated size;
 * 0 when none is left. */
static int next_layer(kernel_state *s)
{
    for (uint32_t k = s->enum_size + 1; k < s->n; k++) {
        if (!s->enumerated[k] || s->layer_done[k])
            continue;
        s->layer_done[k] = 1;
        s->in_layer = 1;
        s->enum_size = k;
        for (uint32_t j = 0; j < k; j++)
            s->comb[j] = j;
        return 1;
    }
    s->enum_done = 1;
    s->in_layer = 0;
    return 0;
}

/* Advances comb (k indices of n, increasing) to the next combination. */
static int next_comb(uint32_t *comb, uint32_t k, uint32_t n)
{
    uint32_t j = k;
    while (j > 0 && comb[j - 1] == n - k + j - 1)
        j--;
    if (j == 0)
        return 0;
    comb[j - 1]++;
    for (uint32_t t = j; t < k; t++)
        comb[t] = comb[t - 1] + 1;
    return 1;
}

static int enumerate_block(ac_estimator *e, kernel_state *s)
{
    if (!s->in_layer && !next_layer(s))
        return AC_OK;
    for (uint32_t done = 0; done < ENUM_BLOCK && !s->enum_done; done++) {
        memset(s->key, 0, e->words * sizeof *s->key);
        for (uint32_t j = 0; j < s->enum_size; j++)
            ac__bit_set(s->key, s->comb[j]);
        uint32_t entry;
        /* Not essential: a coalition lost to failures leaves its layer's
         * weight to the rest of the layer (build_system). */
        int rc = ac__est_request(e, s->key, 0, &entry);
        if (rc == AC_OK)
            rc = push_u32(e, &s->enum_entries, &s->n_enum, &s->cap_enum, entry);
        if (rc != AC_OK)
            return rc;
        if (!next_comb(s->comb, s->enum_size, s->n))
            next_layer(s);
    }
    return AC_OK;
}

static uint32_t draw_size(ac_estimator *e, const kernel_state *s)
{
    double u = ac__rng_uniform(&e->rng) * s->sampled_weight;
    uint32_t last = 0;
    for (uint32_t k = 1; k < s->n; k++) {
        if (s->size_weight[k] <= 0.0)
            continue;
        last = k;
        if (u < s->size_weight[k])
            return k;
        u -= s->size_weight[k];
    }
    return last;
}

static int sample_pair(ac_estimator *e, kernel_state *s, int *grew)
{
    uint32_t size = draw_size(e, s);
    for (uint32_t j = 0; j < size; j++) {
        uint32_t r = j + (uint32_t)ac__rng_below(&e->rng, s->n - j);
        uint32_t t = s->scratch[j];
        s->scratch[j] = s->scratch[r];
        s->scratch[r] = t;
    }
    memset(s->key, 0, e->words * sizeof *s->key);
    for (uint32_t j = 0; j < size; j++)
        ac__bit_set(s->key, s->scratch[j]);
    uint64_t comp[AC_KERNEL_MAX_PLAYERS / 64];
    ac__coalition_fill(comp, e->words, e->n);
    for (uint32_t w = 0; w < e->words; w++)
        comp[w] &= ~s->key[w];
    int64_t cost = ac__est_cost(e, s->key) + ac__est_cost(e, comp);
    if (cost > ac__est_remaining(e))
        return AC_OK;
    if (!ac__est_free_unit_ok(e, cost))
        return AC_OK;
    uint32_t a, b;
    int rc = ac__est_request(e, s->key, 0, &a);
    if (rc == AC_OK)
        rc = ac__est_request(e, comp, 0, &b);
    if (rc == AC_OK)
        rc = push_u32(e, &s->pairs, &s->pair_len, &s->cap_pairs, a);
    if (rc == AC_OK)
        rc = push_u32(e, &s->pairs, &s->pair_len, &s->cap_pairs, b);
    if (rc != AC_OK)
        return rc;
    s->distinct_sampled += (double)cost / (double)e->p.repeats;
    s->layer_samples[size] += 1;
    s->layer_samples[s->n - size] += 1;
    e->samples += 2;
    *grew = 1;
    return AC_OK;
}

static int kernel_extend(ac_estimator *e, int *grew)
{
    kernel_state *s = e->mstate;
    *grew = 0;
    if (!s->enum_done) {
        /* Planned a block, or found there was none: either way the plan
         * goes on, with sampling once the layers are done. */
        *grew = 1;
        return enumerate_block(e, s);
    }
    promote_layer(e, s);
    if (!s->enum_done) {
        *grew = 1;
        return enumerate_block(e, s);
    }
    if (s->sampled_weight <= 0.0)
        return AC_OK;
    return sample_pair(e, s, grew);
}

/* The regression's pieces: A = sum w z z' (+ ridge), b = sum w z y. */
typedef struct kernel_system {
    double *a;   /* n x n, then its Cholesky factor */
    double *b;   /* n, then A^-1 (b + ridge term)  */
    double *q;   /* n: A^-1 1                       */
    double *g;   /* n scratch                       */
    uint32_t *pairs;  /* the sampled pairs still whole  */
    uint32_t pair_len;
    double *layer_scale; /* n+1: C(n,k) / coalitions of layer k kept */
} kernel_system;

/* Adds wa z z' to A and wy z to b for the coalition's indicator z. */
static void add_coalition(const ac_estimator *e, kernel_system *ks,
                          uint32_t entry, double wa, double wy)
{
    const uint64_t *key = ac__cache_key(&e->cache, entry);
    uint32_t n = e->n;
    for (uint32_t i = 0; i < n; i++) {
        if (!ac__bit_test(key, i))
            continue;
        ks->b[i] += wy;
        double *row = ks->a + (size_t)i * n;
        for (uint32_t j = 0; j <= i; j++)
            if (ac__bit_test(key, j))
                row[j] += wa;
    }
}

static double layer_weight(const kernel_state *s, const kernel_system *ks,
                           const ac_estimator *e, uint32_t entry)
{
    uint32_t k = ac__coalition_size(ac__cache_key(&e->cache, entry), e->words);
    return kernel_weight(s->n, k) * ks->layer_scale[k];
}

/* An enumerated coalition lost to failures: the rest of its layer carries
 * the layer's weight, as if the layer had been sampled without it. */
static void scale_layers(const ac_estimator *e, const kernel_state *s,
                         kernel_system *ks)
{
    for (uint32_t k = 0; k <= s->n; k++)
        ks->layer_scale[k] = 0.0; /* lost count first */
    for (uint32_t j = 0; j < s->n_enum; j++)
        if (ac__est_failed(e, s->enum_entries[j]))
            ks->layer_scale[ac__coalition_size(
                ac__cache_key(&e->cache, s->enum_entries[j]), e->words)] += 1;
    for (uint32_t k = 0; k <= s->n; k++) {
        double all = binomial(s->n, k);
        ks->layer_scale[k] = ks->layer_scale[k] < all
                                 ? all / (all - ks->layer_scale[k])
                                 : 0.0;
    }
}

/* Each sampled coalition carries the sampled layers' weight equally. */
static double sample_weight(const kernel_state *s, const kernel_system *ks)
{
    return ks->pair_len ? s->sampled_weight / ks->pair_len : 0.0;
}

/* The pairs whose two coalitions were both evaluated: a pair that lost one
 * to a failure without budget to retry is left out whole, which keeps the
 * sampling symmetric. */
static void keep_whole_pairs(const ac_estimator *e, const kernel_state *s,
                             kernel_system *ks)
{
    ks->pair_len = 0;
    for (uint32_t k = 0; k + 1 < s->pair_len; k += 2) {
        if (ac__est_failed(e, s->pairs[k]) || ac__est_failed(e, s->pairs[k + 1]))
            continue;
        if (s->enumerated[ac__coalition_size(ac__cache_key(&e->cache, s->pairs[k]),
                                             e->words)])
            continue; /* its layer was promoted to enumeration */
        ks->pairs[ks->pair_len++] = s->pairs[k];
        ks->pairs[ks->pair_len++] = s->pairs[k + 1];
    }
}

/* Adds scale * E[z z'] for one coalition drawn as the sampler draws them:
 * a size k with probability size_weight[k] / sampled_weight, then a uniform
 * subset, so E[z_i] = k/n and E[z_i z_j] = k(k-1)/(n(n-1)). */
static void add_expected_sample(const kernel_state *s, kernel_system *ks,
                                double scale)
{
    uint32_t n = s->n;
    double diag = 0.0, off = 0.0;
    for (uint32_t k = 1; k < n; k++) {
        double p = s->size_weight[k] / s->sampled_weight;
        diag += p * k / n;
        off += n > 1 ? p * k * (k - 1.0) / (n * (n - 1.0)) : 0.0;
    }
    for (uint32_t i = 0; i < n; i++)
        for (uint32_t j = 0; j <= i; j++)
            ks->a[(size_t)i * n + j] += scale * (i == j ? diag : off);
}

static void build_system(const ac_estimator *e, const kernel_state *s,
                         kernel_system *ks, double v0)
{
    uint32_t n = e->n;
    memset(ks->a, 0, (size_t)n * n * sizeof *ks->a);
    memset(ks->b, 0, n * sizeof *ks->b);
    scale_layers(e, s, ks);
    for (uint32_t k = 0; k < s->n_enum; k++) {
        uint32_t en = s->enum_entries[k];
        if (ac__est_failed(e, en))
            continue;
        double w = layer_weight(s, ks, e, en);
        add_coalition(e, ks, en, w, w * (ac__est_value(e, en) - v0));
    }
    /* Without the enumerated sizes 1 and n-1 (a budget under 2n), about as
     * many sampled coalitions as players make the normal matrix nearly
     * singular and the fit interpolates noise (the classic peak at m ~ n).
     * The sampled matrix's expectation is known in closed form, so it is
     * shrunk towards it by alpha = n / (n + m): strongly when samples are
     * few, negligibly when many. b keeps the sampled values at full weight.
     * With size 1 enumerated, A is full rank and nothing is shrunk, so an
     * additive game is recovered exactly. */
    double ws = sample_weight(s, ks);
    double alpha = ks->pair_len && !s->enumerated[1]
                       ? (double)n / (n + (double)ks->pair_len)
                       : 0.0;
    for (uint32_t k = 0; k < ks->pair_len; k++) {
        uint32_t en = ks->pairs[k];
        double y = ac__est_value(e, en) - v0;
        add_coalition(e, ks, en, (1.0 - alpha) * ws, ws * y);
    }
    if (alpha > 0.0)
        add_expected_sample(s, ks, alpha * s->sampled_weight);
    for (uint32_t i = 0; i < n; i++)
        for (uint32_t j = 0; j < i; j++)
            ks->a[(size_t)j * n + i] = ks->a[(size_t)i * n + j];
}

/* Solves the constrained problem with a small ridge towards the equal split
 * delta/n, which fixes the directions the data leave open (few samples) and
 * keeps the factorisation well posed; phi conserves delta exactly. */
static int solve_system(uint32_t n, kernel_system *ks, double delta,
                        double *phi)
{
    double trace = 0.0;
    for (uint32_t i = 0; i < n; i++)
        trace += ks->a[(size_t)i * n + i];
    double ridge = trace > 0.0 ? 1e-12 * trace / n : 1.0;
    for (uint32_t i = 0; i < n; i++) {
        ks->a[(size_t)i * n + i] += ridge;
        ks->b[i] += ridge * delta / n;
        ks->q[i] = 1.0;
    }
    if (ac__cholesky(ks->a, n) != 0)
        return -1;
    ac__cholesky_solve(ks->a, n, ks->b);
    ac__cholesky_solve(ks->a, n, ks->q);
    double sum_u = 0.0, sum_q = 0.0;
    for (uint32_t i = 0; i < n; i++) {
        sum_u += ks->b[i];
        sum_q += ks->q[i];
    }
    double mu = (sum_u - delta) / sum_q;
    for (uint32_t i = 0; i < n; i++)
        phi[i] = ks->b[i] - mu * ks->q[i];
    return 0;
}

/* (M g)_i with M = A^-1 - q q' / (1'q): how a change g of b moves phi. */
static void apply_m(uint32_t n, const kernel_system *ks, double sum_q,
                    double *g)
{
    ac__cholesky_solve(ks->a, n, g);
    double qg = 0.0;
    for (uint32_t i = 0; i < n; i++)
        qg += g[i];
    /* 1'A^-1 g = q'g since A is symmetric. */
    for (uint32_t i = 0; i < n; i++)
        g[i] -= ks->q[i] * qg / sum_q;
}

/* g = w z_S (y_S - z_S' phi) for one coalition, added into acc. */
static void add_residual(const ac_estimator *e, uint32_t entry, double w,
                         double v0, const double *phi, double *acc)
{
    const uint64_t *key = ac__cache_key(&e->cache, entry);
    double fit = 0.0;
    for (uint32_t i = 0; i < e->n; i++)
        if (ac__bit_test(key, i))
            fit += phi[i];
    double r = w * (ac__est_value(e, entry) - v0 - fit);
    for (uint32_t i = 0; i < e->n; i++)
        if (ac__bit_test(key, i))
            acc[i] += r;
}

/* Sampling variance: the pairs are independent draws, so the variance of
 * their total is the number of pairs times the spread of one pair's
 * contribution mapped through M (the sandwich estimator). Noise variance of
 * repeated evaluations adds w^2 var (M z)^2 per enumerated coalition. */
static void kernel_errors(const ac_estimator *e, const kernel_state *s,
                          kernel_system *ks, double v0, const double *phi,
                          double *se)
{
    uint32_t n = e->n, pairs = ks->pair_len / 2;
    double sum_q = 0.0;
    for (uint32_t i = 0; i < n; i++)
        sum_q += ks->q[i];
    double *mean = ks->b; /* the solve is over: reuse b as scratch */
    memset(mean, 0, n * sizeof *mean);
    memset(se, 0, n * sizeof *se);
    double ws = sample_weight(s, ks);
    for (uint32_t p = 0; p < pairs; p++) {
        memset(ks->g, 0, n * sizeof *ks->g);
        add_residual(e, ks->pairs[2 * p], ws, v0, phi, ks->g);
        add_residual(e, ks->pairs[2 * p + 1], ws, v0, phi, ks->g);
        apply_m(n, ks, sum_q, ks->g);
        for (uint32_t i = 0; i < n; i++) { /* Welford; se holds M2 */
            double d = ks->g[i] - mean[i];
            mean[i] += d / (p + 1);
            se[i] += d * (ks->g[i] - mean[i]);
        }
    }
    /* The fit adapts to the sampled pairs, so their residuals understate the
     * error: the degrees-of-freedom correction (HC1) scales the variance by
     * K / (K - p) for K pairs and p = n - 1 free credits. With no more pairs
     * than that, or layers still being enumerated (a checkpoint mid-layer),
     * the error is unknown. */
    /* Pairs drawn again add no information: count the distinct ones. */
    double p_free = n > 1 ? n - 1.0 : 1.0;
    double k_eff = s->distinct_sampled / 2 < pairs ? s->distinct_sampled / 2
                                                   : (double)pairs;
    int unknown = !s->enum_done ||
                  (s->sampled_weight > 0.0 && k_eff <= p_free);
    for (uint32_t i = 0; i < n; i++)
        se[i] = unknown ? INFINITY
                        : (pairs > 0 ? se[i] * k_eff / (k_eff - p_free) : 0.0);
    for (uint32_t k = 0; k < s->n_enum; k++) {
        uint32_t en = s->enum_entries[k];
        double var = ac__est_var(e, en);
        if (var <= 0.0 || ac__est_failed(e, en))
            continue;
        double w = layer_weight(s, ks, e, en);
        const uint64_t *key = ac__cache_key(&e->cache, en);
        for (uint32_t i = 0; i < n; i++)
            ks->g[i] = ac__bit_test(key, i) ? 1.0 : 0.0;
        apply_m(n, ks, sum_q, ks->g);
        for (uint32_t i = 0; i < n; i++)
            se[i] += w * w * var * ks->g[i] * ks->g[i];
    }
    for (uint32_t i = 0; i < n; i++)
        se[i] = sqrt(se[i]);
}

int ac__kernel_estimate(ac_estimator *e, double *phi, double *se)
{
    kernel_state *s = e->mstate;
    uint32_t n = e->n;
    kernel_system ks;
    ks.a = ac__mem_alloc(&e->mem, (size_t)n * n, sizeof *ks.a);
    ks.b = ac__mem_alloc(&e->mem, n, sizeof *ks.b);
    ks.q = ac__mem_alloc(&e->mem, n, sizeof *ks.q);
    ks.g = ac__mem_alloc(&e->mem, n, sizeof *ks.g);
    ks.pairs = ac__mem_alloc(&e->mem, s->pair_len, sizeof *ks.pairs);
    ks.layer_scale = ac__mem_alloc(&e->mem, (size_t)n + 1, sizeof *ks.layer_scale);
    int rc = AC_E_NO_MEMORY;
    if (ks.a && ks.b && ks.q && ks.g && ks.pairs && ks.layer_scale) {
        double v0 = ac__est_value(e, e->empty_entry);
        double delta = ac__est_value(e, e->grand_entry) - v0;
        keep_whole_pairs(e, s, &ks);
        if (s->pair_len > 0 && ks.pair_len == 0 && s->n_enum == 0) {
            rc = ac__fail(e->err, AC_E_ORACLE,
                          "every sampled pair lost an evaluation to oracle "
                          "failures (%lld coalitions given up)",
                          (long long)e->dropped);
            goto done;
        }
        build_system(e, s, &ks, v0);
        rc = AC_OK;
        if (solve_system(n, &ks, delta, phi) != 0)
            rc = ac__fail(e->err, AC_E_STATE,
                          "the KernelSHAP system is not positive definite");
        else
            kernel_errors(e, s, &ks, v0, phi, se);
    }
done:
    ac__mem_free(&e->mem, ks.a);
    ac__mem_free(&e->mem, ks.b);
    ac__mem_free(&e->mem, ks.q);
    ac__mem_free(&e->mem, ks.g);
    ac__mem_free(&e->mem, ks.pairs);
    ac__mem_free(&e->mem, ks.layer_scale);
    return rc;
}

static void kernel_end(ac_estimator *e)
{
    kernel_state *s = e->mstate;
    if (s == NULL)
        return;
    ac__mem_free(&e->mem, s->enumerated);
    ac__mem_free(&e->mem, s->layer_done);
    ac__mem_free(&e->mem, s->layer_samples);
    ac__mem_free(&e->mem, s->size_weight);
    ac__mem_free(&e->mem, s->comb);
    ac__mem_free(&e->mem, s->enum_entries);
    ac__mem_free(&e->mem, s->pairs);
    ac__mem_free(&e->mem, s->scratch);
    ac__mem_free(&e->mem, s->key);
    ac__mem_free(&e->mem, s);
}

/* Mid-layer, the enumerated part is incomplete: no estimate yet. */
static int kernel_settled(const ac_estimator *e)
{
    const kernel_state *s = e->mstate;
    return s->enum_done;
}

uint32_t ac__kernel_design_size(const ac_estimator *e)
{
    const kernel_state *s = e->mstate;
    return s->n_enum + s->pair_len;
}

int ac__kernel_design(const ac_estimator *e, uint32_t *entries,
                      double *weights, uint32_t *count)
{
    const kernel_state *s = e->mstate;
    kernel_system ks;
    memset(&ks, 0, sizeof ks);
    ks.pairs = ac__mem_alloc(&e->mem, s->pair_len, sizeof *ks.pairs);
    ks.layer_scale = ac__mem_alloc(&e->mem, (size_t)s->n + 1,
                                   sizeof *ks.layer_scale);
    if ((s->pair_len > 0 && ks.pairs == NULL) || ks.layer_scale == NULL) {
        ac__mem_free(&e->mem, ks.pairs);
        ac__mem_free(&e->mem, ks.layer_scale);
        return AC_E_NO_MEMORY;
    }
    scale_layers(e, s, &ks);
    keep_whole_pairs(e, s, &ks);
    uint32_t k = 0;
    for (uint32_t j = 0; j < s->n_enum; j++) {
        if (ac__est_failed(e, s->enum_entries[j]))
            continue;
        entries[k] = s->enum_entries[j];
        weights[k++] = layer_weight(s, &ks, e, s->enum_entries[j]);
    }
    double ws = sample_weight(s, &ks);
    for (uint32_t j = 0; j < ks.pair_len; j++) {
        entries[k] = ks.pairs[j];
        weights[k++] = ws;
    }
    *count = k;
    ac__mem_free(&e->mem, ks.pairs);
    ac__mem_free(&e->mem, ks.layer_scale);
    return AC_OK;
}

const ac__method_ops ac__method_kernelshap = {
    kernel_begin, kernel_extend, ac__kernel_estimate, kernel_end, kernel_settled,
    AC_ESTIMATOR_OUTCOME_BUDGET, NULL, NULL, NULL,
};

int ac__oddshap_affordable(const ac_estimator *e)
{
    return e->p.budget / (2 * e->p.repeats) + 1 <= AC_ODDSHAP_MAX_ROWS;
}

/* OddSHAP spends the budget as KernelSHAP does and fits another model on
 * the same coalitions (method_oddshap.c). */
static int oddshap_begin(ac_estimator *e)
{
    if (!ac__oddshap_affordable(e))
        return ac__fail(e->err, AC_E_TOO_LARGE,
                        "OddSHAP fits one row per evaluated pair, at most "
                        "%u; a budget of %lld could give %lld (use "
                        "AC_METHOD_KERNELSHAP)",
                        AC_ODDSHAP_MAX_ROWS, (long long)e->p.budget,
                        (long long)(e->p.budget / (2 * e->p.repeats) + 1));
    return kernel_begin(e);
}

const ac__method_ops ac__method_oddshap = {
    oddshap_begin, kernel_extend, ac__oddshap_estimate, kernel_end,
    kernel_settled, AC_ESTIMATOR_OUTCOME_BUDGET, NULL, NULL, NULL,
};
