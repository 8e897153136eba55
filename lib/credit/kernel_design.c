/* The KernelSHAP design, shared by KernelSHAP and OddSHAP (kernel_design.h).
 * The regression's kernel is w(S) = (n-1) / (C(n,|S|) |S| (n-|S|)). Coalition
 * sizes whose whole layer the budget pays for are enumerated exactly, from
 * the heaviest (sizes 1 and n-1) inwards; the other sizes are sampled in
 * complementary pairs (S and its complement), each size drawn in proportion
 * to its total kernel weight. */
#include <math.h>
#include <string.h>

#include "common/coalition.h"
#include "credit/kernel_design.h"

#define ENUM_BLOCK 1024u

double ac__binomial(uint32_t n, uint32_t k)
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
    return (double)(n - 1) / (ac__binomial(n, s) * s * (double)(n - s));
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
static void set_size_weights(ac__kernel_plan *s)
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
static void choose_layers(ac_estimator *e, ac__kernel_plan *s)
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
        double cost = ac__binomial(n, k) - known_in_layer(e, k);
        double w = (double)(n - 1) / (k * (double)(n - k));
        if (n - k != k) {
            cost += ac__binomial(n, n - k) - known_in_layer(e, n - k);
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
static void promote_layer(ac_estimator *e, ac__kernel_plan *s)
{
    uint32_t n = s->n, k = 1;
    while (k <= n / 2 && s->enumerated[k])
        k++;
    if (k > n / 2)
        return;
    double size = ac__binomial(n, k) + (n - k != k ? ac__binomial(n, n - k) : 0.0);
    double drawn = s->layer_samples[k] + (n - k != k ? s->layer_samples[n - k] : 0.0);
    if (drawn < size || size * e->p.repeats > (double)ac__est_remaining(e))
        return;
    s->enumerated[k] = s->enumerated[n - k] = 1;
    set_size_weights(s);
    s->enum_size = k - 1;
    s->in_layer = 0;
    s->enum_done = 0;
}

int ac__kernel_plan_begin(ac_estimator *e)
{
    if (e->n > AC_KERNEL_MAX_PLAYERS)
        return ac__fail(e->err, AC_E_TOO_LARGE,
                        "KernelSHAP takes at most %u players, not %u; use "
                        "AC_METHOD_PERMUTATION",
                        AC_KERNEL_MAX_PLAYERS, e->n);
    ac__kernel_plan *s = ac__mem_calloc(&e->mem, 1, sizeof *s);
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
    int rc = ac__mem_reserve(&e->mem, (void **)arr, *len, cap, 256,
                             sizeof **arr);
    if (rc == AC_E_TOO_LARGE)
        return ac__fail(e->err, rc, "the design holds 2^32 - 1 coalitions "
                        "already");
    if (rc != AC_OK)
        return rc;
    (*arr)[(*len)++] = v;
    return AC_OK;
}

/* Moves the cursor to the first combination of the next enumerated size;
 * 0 when none is left. */
static int next_layer(ac__kernel_plan *s)
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

static int enumerate_block(ac_estimator *e, ac__kernel_plan *s)
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

static uint32_t draw_size(ac_estimator *e, const ac__kernel_plan *s)
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

static int sample_pair(ac_estimator *e, ac__kernel_plan *s, int *grew)
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

int ac__kernel_plan_extend(ac_estimator *e, int *grew)
{
    ac__kernel_plan *s = e->mstate;
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

void ac__kernel_plan_end(ac_estimator *e)
{
    ac__kernel_plan *s = e->mstate;
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
int ac__kernel_plan_settled(const ac_estimator *e)
{
    const ac__kernel_plan *s = e->mstate;
    return s->enum_done;
}

/* An enumerated coalition lost to failures: the rest of its layer carries
 * the layer's weight, as if the layer had been sampled without it. */
static void scale_layers(const ac_estimator *e, const ac__kernel_plan *s,
                         double *layer_scale)
{
    for (uint32_t k = 0; k <= s->n; k++)
        layer_scale[k] = 0.0; /* lost count first */
    for (uint32_t j = 0; j < s->n_enum; j++)
        if (ac__est_failed(e, s->enum_entries[j]))
            layer_scale[ac__coalition_size(
                ac__cache_key(&e->cache, s->enum_entries[j]), e->words)] += 1;
    for (uint32_t k = 0; k <= s->n; k++) {
        double all = ac__binomial(s->n, k);
        layer_scale[k] = layer_scale[k] < all ? all / (all - layer_scale[k])
                                              : 0.0;
    }
}

/* Whether sampled pair p stays in the design: a pair that lost one
 * coalition to a failure without budget to retry is left out whole, which
 * keeps the sampling symmetric, and so is one whose layer was promoted to
 * enumeration (the layer is in the design whole). */
static int pair_kept(const ac_estimator *e, const ac__kernel_plan *s,
                     uint32_t p)
{
    uint32_t a = s->pairs[2 * p], b = s->pairs[2 * p + 1];
    if (ac__est_failed(e, a) || ac__est_failed(e, b))
        return 0;
    return !s->enumerated[ac__coalition_size(ac__cache_key(&e->cache, a),
                                             e->words)];
}

/* The enumerated rows, each with its layer's kernel weight; returns how
 * many. */
static uint32_t enumerated_rows(const ac_estimator *e,
                                const ac__kernel_plan *s,
                                const double *layer_scale,
                                ac__kernel_design *d)
{
    uint32_t k = 0;
    for (uint32_t j = 0; j < s->n_enum; j++) {
        uint32_t en = s->enum_entries[j];
        if (ac__est_failed(e, en))
            continue;
        uint32_t size = ac__coalition_size(ac__cache_key(&e->cache, en),
                                           e->words);
        d->entries[k] = en;
        d->weights[k++] = kernel_weight(s->n, size) * layer_scale[size];
    }
    return k;
}

/* The kept pairs after row `first`: each sampled coalition carries the
 * sampled layers' weight equally. Returns the rows' end. */
static uint32_t sampled_rows(const ac_estimator *e, const ac__kernel_plan *s,
                             ac__kernel_design *d, uint32_t first)
{
    uint32_t kept = 0, k = first;
    for (uint32_t p = 0; p < s->pair_len / 2; p++)
        kept += 2 * (uint32_t)pair_kept(e, s, p);
    double w = kept ? s->sampled_weight / kept : 0.0;
    for (uint32_t p = 0; p < s->pair_len / 2; p++) {
        if (!pair_kept(e, s, p))
            continue;
        d->entries[k] = s->pairs[2 * p];
        d->weights[k++] = w;
        d->entries[k] = s->pairs[2 * p + 1];
        d->weights[k++] = w;
    }
    return k;
}

int ac__kernel_design_make(const ac_estimator *e, ac__kernel_design *d)
{
    const ac__kernel_plan *s = e->mstate;
    size_t cap = (size_t)s->n_enum + s->pair_len;
    double *layer_scale = ac__mem_alloc(&e->mem, (size_t)s->n + 1,
                                        sizeof *layer_scale);
    d->entries = ac__mem_alloc(&e->mem, cap, sizeof *d->entries);
    d->weights = ac__mem_alloc(&e->mem, cap, sizeof *d->weights);
    d->n_enum = d->count = 0;
    int rc = layer_scale && d->entries && d->weights ? AC_OK : AC_E_NO_MEMORY;
    if (rc == AC_OK) {
        scale_layers(e, s, layer_scale);
        d->n_enum = enumerated_rows(e, s, layer_scale, d);
        d->count = sampled_rows(e, s, d, d->n_enum);
    } else {
        ac__kernel_design_free(e, d);
    }
    ac__mem_free(&e->mem, layer_scale);
    return rc;
}

void ac__kernel_design_free(const ac_estimator *e, ac__kernel_design *d)
{
    ac__mem_free(&e->mem, d->entries);
    ac__mem_free(&e->mem, d->weights);
    d->entries = NULL;
    d->weights = NULL;
    d->n_enum = d->count = 0;
}
