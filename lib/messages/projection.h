/* The exact Euclidean projection of a vector onto {sum = total} intersected
 * with per-coordinate boxes: the core of the message refiner. */
#ifndef AC_PROJECTION_H
#define AC_PROJECTION_H

#include <stdint.h>

/* Scratch the projection needs for k coordinates (2k breakpoints). */
typedef struct ac__breakpoint {
    double at;
    int32_t delta; /* +1: a coordinate leaves its upper bound; -1: reaches its lower */
    uint32_t index;
} ac__breakpoint;

/* out[t] = clip(y[t] - lambda, lo[t], hi[t]) with the one lambda for which
 * sum(out) == total, found exactly: sort the breakpoints, find the linear
 * piece where the non-increasing sum crosses total, solve it with
 * compensated sums. Requires lo[t] < hi[t] and
 * sum(lo) <= total <= sum(hi). scratch holds 2k breakpoints. */
void ac__project_boxes(const double *y, const double *lo, const double *hi,
                       uint32_t k, double total, double *out,
                       ac__breakpoint *scratch);

#endif
