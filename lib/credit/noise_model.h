/* The variance of one evaluation of each coalition of a noisy oracle, as
 * the methods that hold every coalition's evaluations model it (adaptive,
 * and the exact values from a complete cache): a coalition's own data,
 * shrunk towards its size layer's. Two passes over the coalitions: the
 * first adds each to its layer (ac__noise_add), the second reads each one's
 * shrunk variance (ac__noise_var). */
#ifndef AC_NOISE_MODEL_H
#define AC_NOISE_MODEL_H

#include <stdint.h>

#include "agentcredit.h"

/* Weight of the layer in a shrunk variance, in evaluations, for standard
 * errors: light, so that they follow each coalition's own data (the
 * adaptive method's allocation uses a heavier one). */
#define AC__NOISE_SE_PRIOR 2.0

typedef struct ac__layer_noise {
    uint32_t n;
    int binary; /* every value 0 or 1: p(1 - p) from success rates */
    double hits[AC_EXACT_MAX_PLAYERS + 1], seen[AC_EXACT_MAX_PLAYERS + 1];
    double ss[AC_EXACT_MAX_PLAYERS + 1], dof[AC_EXACT_MAX_PLAYERS + 1];
    double global; /* pooled variance of the whole game (ac__noise_pool) */
} ac__layer_noise;

void ac__noise_init(ac__layer_noise *L, uint32_t n, int binary);
/* A coalition of `size` players evaluated `count` times (not a known one),
 * with the mean and the sample variance of one evaluation (ignored below
 * two evaluations). */
void ac__noise_add(ac__layer_noise *L, uint32_t size, double count,
                   double mean, double var);
/* After the last ac__noise_add: whether any variance was measured (some
 * coalition was evaluated twice, or the values are 0/1, whose variance
 * follows from the rate). Without it every variance reads 0. */
int ac__noise_pool(ac__layer_noise *L);
/* The variance of one evaluation of such a coalition, shrunk towards its
 * layer by `prior` evaluations' worth: for 0/1 values p(1 - p), p the
 * success rate shrunk towards the layer's (which itself starts from one
 * success and one failure, so a coalition that always failed keeps some
 * variance); otherwise the sample variance shrunk towards the layer's pooled
 * variance (the game's when the layer has none), weighted by degrees of
 * freedom, so that a coalition seen once takes the pool. */
double ac__noise_var(const ac__layer_noise *L, uint32_t size, double count,
                     double mean, double var, double prior);

#endif
