/* The scaled space the credit computations work in when the values'
 * magnitude needs it.
 *
 * The methods square values (variances, Gram matrices, sums of squares)
 * and add up to 2^30 of them, so values near 1e154 overflow a square and
 * values near 1e308 overflow a difference, and tiny values lose their
 * squares to underflow. Binary floating point is invariant under scaling by
 * a power of two except at overflow and underflow: working on the values
 * times 2^-k and multiplying the credits and standard errors by 2^k gives
 * the bits an unbounded exponent would give. Values whose magnitude stays
 * within 2^+-AC__SCALE_EXP are not scaled at all (k = 0), so ordinary
 * inputs keep every bit of their results. */
#ifndef AC_SCALE_H
#define AC_SCALE_H

#include <math.h>

/* 2^400 (about 2.6e120): a square of it (2^800), times the sizes and
 * weights of any method's sums (2^30 terms, weights down to 2^-64, a ridge
 * of 2^40), stays far from overflow and underflow. */
#define AC__SCALE_EXP 400 /* ac__scale_shift spells it 0x1p-400, 0x1p401 */
/* Tiny values are scaled up by at most 2^1000, so 2^k stays a normal
 * double for every k. */
#define AC__SCALE_MIN_SHIFT (-1000)

/* The k to work at for values up to vmax in magnitude: 0 when they need no
 * scaling, else the exponent of vmax (the scaled values are below 2). */
static inline int ac__scale_shift(double vmax)
{
    /* ilogb(vmax) in [-AC__SCALE_EXP, AC__SCALE_EXP], without a call */
    if (vmax >= 0x1p-400 && vmax < 0x1p401)
        return 0;
    if (!(vmax > 0.0) || !isfinite(vmax))
        return 0;
    int k = ilogb(vmax);
    return k < AC__SCALE_MIN_SHIFT ? AC__SCALE_MIN_SHIFT : k;
}

/* The decimal exponent of |x| 2^k, for messages about numbers a double
 * cannot hold. */
static inline double ac__scale_log10(double x, int k)
{
    return log10(fabs(x)) + k * 0.30102999566398120;
}

#endif
