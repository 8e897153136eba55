#include "messages/projection.h"

#include <math.h>
#include <stdlib.h>

#include "common/ksum.h"

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

/* One linear piece of S(lambda) = sum_t clip(y_t - lambda, lo_t, hi_t):
 * the coordinates free at `probe`, with S = fixed + sum_F (y_t - lambda). */
typedef struct piece {
    uint32_t free;
    double mean;  /* mean of y over the free coordinates               */
    double shift; /* (total - fixed) / free: what the free ones share   */
} piece;

/* On piece (left, right) of lambda, coordinate t is at its upper bound
 * when its breakpoint y - hi is at or right of the piece, at its lower
 * bound when y - lo is at or left of it, free otherwise. Read from the
 * breakpoints themselves, not from a point inside the piece: two
 * breakpoints one subnormal apart leave no double between them. */
static int at_upper(double y, double hi, double right)
{
    return y - hi >= right;
}

static int at_lower(double y, double lo, double left)
{
    return y - lo <= left;
}

static piece classify(const double *y, const double *lo, const double *hi,
                      uint32_t k, double total, double left, double right)
{
    ac__ksum fixed = {0.0, 0.0}, free_y = {0.0, 0.0};
    piece p = {0, 0.0, 0.0};
    for (uint32_t t = 0; t < k; t++) {
        if (at_upper(y[t], hi[t], right)) {
            ac__ksum_add(&fixed, hi[t]);
        } else if (at_lower(y[t], lo[t], left)) {
            ac__ksum_add(&fixed, lo[t]);
        } else {
            ac__ksum_add(&free_y, y[t]);
            p.free++;
        }
    }
    if (p.free > 0) {
        p.mean = ac__ksum_value(&free_y) / p.free;
        p.shift = (total - ac__ksum_value(&fixed)) / p.free;
    }
    return p;
}

/* Piece j lies between breakpoints j-1 and j (past the last one for
 * j == 2k). */
static void piece_ends(const ac__breakpoint *bp, uint32_t j, uint32_t k,
                       double *left, double *right)
{
    *left = bp[j - 1].at;
    *right = j == 2 * k ? INFINITY : bp[j].at;
}

/* The free coordinates get y_t - lambda with lambda = mean - shift, written
 * as (y_t - mean) + shift: the large part common to the targets cancels
 * before it meets the total, so a total far smaller than the targets (a
 * credit of 1e-17 against labels of size 1) survives rounding. */
static void fill(const double *y, const double *lo, const double *hi,
                 uint32_t k, double left, double right, piece p, double *out)
{
    for (uint32_t t = 0; t < k; t++)
        out[t] = at_upper(y[t], hi[t], right) ? hi[t]
                 : at_lower(y[t], lo[t], left)
                     ? lo[t]
                     : clip((y[t] - p.mean) + p.shift, lo[t], hi[t]);
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
     * bound; the sum falls with slope `free` between breakpoints. The crossing
     * lies on piece j, between breakpoints j-1 and j. */
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
    if (j == 0) { /* total is the sum of the upper bounds */
        for (uint32_t t = 0; t < k; t++)
            out[t] = hi[t];
        return;
    }
    /* The sweep's running sum cancels (sums of B falling to a small total)
     * and may pick a neighbouring piece. Solve the piece with compensated
     * sums and move until its lambda lies on it, so that the free set and
     * lambda agree: the rewards' order then follows the targets exactly. */
    double left, right;
    piece_ends(bp, j, k, &left, &right);
    piece p = classify(y, lo, hi, k, total, left, right);
    for (int dir = 0; p.free > 0;) {
        double lam = p.mean - p.shift;
        int move = (lam < bp[j - 1].at && j > 1) ? -1
                   : (j < 2 * k && lam > bp[j].at) ? +1 : 0;
        if (move == 0 || move == -dir)
            break; /* on its piece, or between two pieces by rounding */
        dir = move;
        j = (uint32_t)((int64_t)j + move);
        double next_left, next_right;
        piece_ends(bp, j, k, &next_left, &next_right);
        piece q = classify(y, lo, hi, k, total, next_left, next_right);
        if (q.free == 0)
            break; /* a flat piece: the previous one is as good */
        left = next_left;
        right = next_right;
        p = q;
    }
    fill(y, lo, hi, k, left, right, p, out);
}
