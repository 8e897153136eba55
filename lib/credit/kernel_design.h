/* The KernelSHAP design, shared by KernelSHAP and OddSHAP: which coalitions
 * the budget buys (whole size layers from the heaviest inwards, the other
 * sizes sampled in complementary pairs) and the weight each evaluated one
 * carries in the KernelSHAP regression. The two methods plan the same
 * coalitions and differ only in the model they fit to them, so each fits
 * the other's plan (OddSHAP falls back on KernelSHAP's fit). */
#ifndef AC_KERNEL_DESIGN_H
#define AC_KERNEL_DESIGN_H

#include "credit/estimator_internal.h"

/* C(n, k) as a double, rounded to an integer (0 when k > n). */
double ac__binomial(uint32_t n, uint32_t k);

/* The plan, e->mstate of both methods. */
typedef struct ac__kernel_plan {
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
} ac__kernel_plan;

/* The plan's method operations. begin refuses more than
 * AC_KERNEL_MAX_PLAYERS players, and a budget without one pair beyond the
 * ends; settled is false in the middle of an enumerated layer. */
int ac__kernel_plan_begin(ac_estimator *e);
int ac__kernel_plan_extend(ac_estimator *e, int *grew);
int ac__kernel_plan_settled(const ac_estimator *e);
void ac__kernel_plan_end(ac_estimator *e);

/* The evaluated coalitions of the plan with their regression weights.
 * Rows [0, n_enum) are the enumerated coalitions, each with its layer's
 * exact kernel weight (a coalition lost to failures is left out and the
 * rest of its layer carries the layer's weight). Rows [n_enum, count) are
 * the sampled pairs whose two coalitions were both evaluated, S then its
 * complement, every one with the same weight: an equal share of the
 * sampled layers' weight (a pair drawn twice appears twice). */
typedef struct ac__kernel_design {
    uint32_t *entries;
    double *weights;
    uint32_t n_enum, count;
} ac__kernel_design;

/* AC_E_NO_MEMORY, the design then empty. */
int ac__kernel_design_make(const ac_estimator *e, ac__kernel_design *d);
void ac__kernel_design_free(const ac_estimator *e, ac__kernel_design *d);

#endif
