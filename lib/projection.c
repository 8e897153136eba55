#include "projection.h"

#include <stdlib.h>

#include "conserve.h"

static int by_position(const void *a, const void *b)
{
    const ac__breakpoint *x = a, *y = b;
    if (x->at != y->at)
        return x->at < y->at ? -1 : 1;
    /* Ties in a fixed order keep the result independent of qsort. */
    if (x->index != y->index)
        return x->index < y->index ? -1 : 1;
    return x->delta < y->delta ? -1 : (x->delta > y->delta);
}

static double clip(double v, double lo, double hi)
{
    return v < lo ? lo : (v > hi ? hi : v);
}

/* lambda on the piece where the coordinates with y - hi < lambda < y - lo
 * move freely: total = sum of the clamped bounds + sum(y_free) - m lambda. */
static double solve_piece(const double *y, const double *lo, const double *hi,
                          uint32_t k, double total, double lambda_probe)
{
    ac__ksum fixed = {0.0, 0.0}, free_y = {0.0, 0.0};
    uint32_t m = 0;
    for (uint32_t t = 0; t < k; t++) {
        double v = y[t] - lambda_probe;
        if (v >= hi[t]) {
            ac__ksum_add(&fixed, hi[t]);
        } else if (v <= lo[t]) {
            ac__ksum_add(&fixed, lo[t]);
        } else {
            ac__ksum_add(&free_y, y[t]);
            m++;
        }
    }
    if (m == 0)
        return lambda_probe; /* a flat piece: total is its value */
    return (ac__ksum_value(&free_y) + ac__ksum_value(&fixed) - total) / m;
}

void ac__project_boxes(const double *y, const double *lo, const double *hi,
                       uint32_t k, double total, double *out,
                       ac__breakpoint *bp)
{
    double sum_hi = 0.0;
    for (uint32_t t = 0; t < k; t++) {
        bp[2 * t].at = y[t] - hi[t];
        bp[2 * t].delta = +1;
        bp[2 * t].index = t;
        bp[2 * t + 1].at = y[t] - lo[t];
        bp[2 * t + 1].delta = -1;
        bp[2 * t + 1].index = t;
        sum_hi += hi[t];
    }
    qsort(bp, 2 * (size_t)k, sizeof *bp, by_position);
    /* Sweep: left of the first breakpoint every coordinate sits at its upper
     * bound; the sum falls with slope `free` between breakpoints. */
    double value = sum_hi, lambda = bp[0].at;
    int64_t free_count = 0;
    uint32_t j = 0;
    for (; j < 2 * k; j++) {
        double next = value - (double)free_count * (bp[j].at - lambda);
        if (next <= total)
            break;
        value = next;
        lambda = bp[j].at;
        free_count += bp[j].delta;
    }
    /* The crossing lies between lambda and bp[j] (or beyond the last
     * breakpoint when total is the sum of the lower bounds). Probe the
     * middle of the piece to learn which coordinates are free there, then
     * solve that piece exactly. */
    double probe;
    if (j == 2 * k)
        probe = lambda + 1.0;
    else if (free_count == 0)
        probe = bp[j].at; /* flat piece ending at the crossing */
    else
        probe = lambda + 0.5 * (bp[j].at - lambda);
    double lam = j == 0 ? bp[0].at : solve_piece(y, lo, hi, k, total, probe);
    for (uint32_t t = 0; t < k; t++)
        out[t] = clip(y[t] - lam, lo[t], hi[t]);
}
