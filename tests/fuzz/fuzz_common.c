/* SPDX-License-Identifier: MIT */
#include "fuzz_common.h"

#include <float.h>
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ===================================================================== */
/* Reading the input                                                     */
/* ===================================================================== */

void fz_init(fz *f, const uint8_t *data, size_t size)
{
    f->p = data;
    f->n = size;
}

int fz_done(const fz *f)
{
    return f->n == 0;
}

uint8_t fz_u8(fz *f)
{
    if (f->n == 0)
        return 0;
    f->n--;
    return *f->p++;
}

uint16_t fz_u16(fz *f)
{
    uint16_t v = fz_u8(f);
    return (uint16_t)(v | (uint16_t)fz_u8(f) << 8);
}

uint32_t fz_u32(fz *f)
{
    uint32_t v = fz_u16(f);
    return v | (uint32_t)fz_u16(f) << 16;
}

uint64_t fz_u64(fz *f)
{
    uint64_t v = fz_u32(f);
    return v | (uint64_t)fz_u32(f) << 32;
}

uint32_t fz_below(fz *f, uint32_t bound)
{
    if (bound <= 1)
        return 0;
    if (bound <= 256)
        return fz_u8(f) % bound;
    if (bound <= 65536)
        return fz_u16(f) % bound;
    return fz_u32(f) % bound;
}

int fz_chance(fz *f, unsigned in256)
{
    return fz_u8(f) < in256;
}

int fz_rare(fz *f, unsigned in256)
{
    return 256u - fz_u8(f) <= in256;
}

/* The values that break numerical code, in one table so that one byte
 * reaches each of them. */
static const double hard[] = {
    0.0, -0.0, 1.0, -1.0, 0.5, -0.5, 2.0, 1e-300,
    NAN, INFINITY, -INFINITY, 1e308, -1e308, DBL_MAX, -DBL_MAX, 1e154,
    -1e154, 1e300, -1e300, DBL_MIN, -DBL_MIN, DBL_TRUE_MIN, -DBL_TRUE_MIN,
    1e-310, 4503599627370496.0, 9007199254740993.0, 1e16, 1e-16,
};
#define N_HARD (sizeof hard / sizeof hard[0])

static double from_bits(uint64_t bits)
{
    double d;
    memcpy(&d, &bits, sizeof d);
    return d;
}

double fz_f64(fz *f)
{
    uint8_t sel = fz_u8(f);
    if (sel < 2 * N_HARD) /* about 22% of the bytes */
        return hard[sel % N_HARD];
    if (sel < 160) /* small numbers: k / 8 */
        return (double)(int8_t)fz_u8(f) / 8.0;
    if (sel < 224) { /* a mantissa at a chosen scale, 1e-40 .. 1e40 */
        double m = (double)(int16_t)fz_u16(f) / 4096.0;
        int e = (int)fz_below(f, 81) - 40;
        return m * pow(10.0, e);
    }
    return from_bits(fz_u64(f)); /* anything, NaN payloads included */
}

double fz_in(fz *f, double lo, double hi)
{
    uint8_t sel = fz_u8(f);
    if (sel < 200)
        return lo + (hi - lo) * ((double)fz_u16(f) / 65535.0);
    if (sel < 220)
        return lo;
    if (sel < 240)
        return hi;
    return fz_f64(f);
}

int64_t fz_param_int(fz *f, int64_t lo, int64_t hi)
{
    switch (fz_below(f, 12)) {
    case 0: return lo;
    case 1: return hi;
    case 2: return lo == INT64_MIN ? lo : lo - 1;
    case 3: return hi == INT64_MAX ? hi : hi + 1;
    case 4: return INT64_MIN;
    case 5: return INT64_MAX;
    case 6: return (int64_t)fz_u64(f);
    case 7: return (int8_t)fz_u8(f);
    default: {
        /* Mostly small values from the bottom of the range, where the cheap
         * runs are. */
        uint64_t span = (uint64_t)hi - (uint64_t)lo;
        uint64_t r = fz_chance(f, 192) ? fz_u8(f) : fz_u32(f);
        return (int64_t)((uint64_t)lo + (span == UINT64_MAX ? r : r % (span + 1)));
    }
    }
}

double fz_param_f64(fz *f, double lo, double hi)
{
    switch (fz_below(f, 12)) {
    case 0: return lo;
    case 1: return hi;
    case 2: return nextafter(lo, -INFINITY);
    case 3: return nextafter(hi, INFINITY);
    case 4: return nextafter(lo, INFINITY);
    case 5: return lo - 1.0;
    case 6: return hi + 1.0;
    case 7: return fz_f64(f);
    default: return fz_in(f, lo, hi);
    }
}

/* ===================================================================== */
/* Parameters                                                            */
/* ===================================================================== */

#define WRAP_PARAMS(obj, handle_t, param_t)                                  \
    static int obj##_si(void *h, int p, int64_t v)                           \
    {                                                                        \
        return ac_##obj##_set_int((handle_t *)h, (param_t)p, v);             \
    }                                                                        \
    static int obj##_gi(const void *h, int p, int64_t *v)                    \
    {                                                                        \
        return ac_##obj##_get_int((const handle_t *)h, (param_t)p, v);       \
    }                                                                        \
    static int obj##_sf(void *h, int p, double v)                            \
    {                                                                        \
        return ac_##obj##_set_f64((handle_t *)h, (param_t)p, v);             \
    }                                                                        \
    static int obj##_gf(const void *h, int p, double *v)                     \
    {                                                                        \
        return ac_##obj##_get_f64((const handle_t *)h, (param_t)p, v);       \
    }                                                                        \
    static int obj##_bi(int p, int64_t *lo, int64_t *hi)                     \
    {                                                                        \
        return ac_##obj##_param_bounds_int((param_t)p, lo, hi);              \
    }                                                                        \
    static int obj##_bf(int p, double *lo, double *hi)                       \
    {                                                                        \
        return ac_##obj##_param_bounds_f64((param_t)p, lo, hi);              \
    }

WRAP_PARAMS(estimator, ac_estimator, ac_estimator_param)
WRAP_PARAMS(refiner, ac_refiner, ac_refiner_param)
WRAP_PARAMS(localizer, ac_localizer, ac_localizer_param)

static const int est_ids[] = {
    AC_ESTIMATOR_PARAM_METHOD, AC_ESTIMATOR_PARAM_BUDGET,
    AC_ESTIMATOR_PARAM_SEED, AC_ESTIMATOR_PARAM_BATCH,
    AC_ESTIMATOR_PARAM_REPEATS, AC_ESTIMATOR_PARAM_MAX_RETRIES,
    AC_ESTIMATOR_PARAM_NOISY, AC_ESTIMATOR_PARAM_TARGET_SE,
    AC_ESTIMATOR_PARAM_INTERACTIONS,
};
static const int ref_ids[] = {
    AC_REFINER_PARAM_BOUND, AC_REFINER_PARAM_BETA,
    AC_REFINER_PARAM_REDUNDANCY_PENALTY, AC_REFINER_PARAM_RELAXATION,
    AC_REFINER_PARAM_BATCH, AC_REFINER_PARAM_MAX_RETRIES,
};
static const int ref_open[] = {AC_REFINER_PARAM_BOUND};
static const int loc_ids[] = {
    AC_LOCALIZER_PARAM_STRATEGY, AC_LOCALIZER_PARAM_NOISE,
    AC_LOCALIZER_PARAM_ACCURACY, AC_LOCALIZER_PARAM_BUDGET,
    AC_LOCALIZER_PARAM_BATCH, AC_LOCALIZER_PARAM_TARGET,
    AC_LOCALIZER_PARAM_MAX_RETRIES, AC_LOCALIZER_PARAM_MONOTONE,
    AC_LOCALIZER_PARAM_SCAN_AFTER, AC_LOCALIZER_PARAM_THRESHOLD,
    AC_LOCALIZER_PARAM_LABEL_ERROR, AC_LOCALIZER_PARAM_LABEL_PROPAGATE,
    AC_LOCALIZER_PARAM_LABEL_CORRECTIVE, AC_LOCALIZER_PARAM_LABEL_BEFORE,
    AC_LOCALIZER_PARAM_CANDIDATES, AC_LOCALIZER_PARAM_ACCEPT,
};
static const int loc_open[] = {AC_LOCALIZER_PARAM_ACCURACY,
                               AC_LOCALIZER_PARAM_TARGET,
                               AC_LOCALIZER_PARAM_ACCEPT};

const fz_param_api fz_estimator_params = {
    estimator_si, estimator_gi, estimator_sf, estimator_gf, estimator_bi,
    estimator_bf, est_ids, FZ_N_OF(est_ids), NULL, 0};
const fz_param_api fz_refiner_params = {
    refiner_si, refiner_gi, refiner_sf, refiner_gf, refiner_bi, refiner_bf,
    ref_ids, FZ_N_OF(ref_ids), ref_open, FZ_N_OF(ref_open)};
const fz_param_api fz_localizer_params = {
    localizer_si, localizer_gi, localizer_sf, localizer_gf, localizer_bi,
    localizer_bf, loc_ids, FZ_N_OF(loc_ids), loc_open, FZ_N_OF(loc_open)};

static int is_open_lower(const fz_param_api *api, int id)
{
    for (size_t k = 0; k < api->n_open; k++)
        if (api->open_lower[k] == id)
            return 1;
    return 0;
}

/* One fuzzed setting, checked: on an idle handle a known parameter of the
 * right type takes any value within its bounds and refuses every other one
 * (AC_E_PARAM_OUT_OF_BOUND, never clamped: the getter still says the old
 * value), the wrong type is AC_E_INVALID_ARG, an unknown id
 * AC_E_PARAM_UNSUPPORTED; on a handle that is not idle every setting is
 * AC_E_STATE. */
void fz_param(fz *f, const fz_param_api *api, void *h, int idle)
{
    int id;
    uint8_t how = fz_u8(f);
    if (how < 224)
        id = api->ids[how % api->n_ids];
    else if (how < 240)
        id = api->ids[0] + (int)fz_below(f, 24) - 4; /* near the real ones */
    else
        id = (int)fz_u32(f);
    int64_t ilo = 0, ihi = 0;
    double flo = 0.0, fhi = 0.0;
    int is_int = api->bounds_int(id, &ilo, &ihi) == AC_OK;
    int is_f64 = api->bounds_f64(id, &flo, &fhi) == AC_OK;
    FZ_CHECK(!(is_int && is_f64), "parameter %d has both types", id);
    int known = 0;
    for (size_t k = 0; k < api->n_ids; k++)
        known |= api->ids[k] == id;
    FZ_CHECK(known == (is_int || is_f64), "parameter %d: bounds %s", id,
             known ? "missing" : "of an unknown parameter");
    int as_int = fz_rare(f, 32) ? !is_int : is_int; /* sometimes the wrong
                                                         type */
    if (as_int) {
        int64_t v = known && is_int ? fz_param_int(f, ilo, ihi)
                                    : (int64_t)fz_u64(f);
        int64_t before = 0, after = 0;
        if (is_int)
            FZ_CHECK(api->get_int(h, id, &before) == AC_OK, "get_int");
        int rc = api->set_int(h, id, v);
        int want = !idle       ? AC_E_STATE
                   : !known    ? AC_E_PARAM_UNSUPPORTED
                   : !is_int   ? AC_E_INVALID_ARG
                   : (v >= ilo && v <= ihi) ? AC_OK
                                            : AC_E_PARAM_OUT_OF_BOUND;
        FZ_CHECK(rc == want, "set_int(%d, %lld) = %s, want %s (bounds "
                 "[%lld, %lld], idle %d)", id, (long long)v,
                 ac_status_name(rc), ac_status_name(want), (long long)ilo,
                 (long long)ihi, idle);
        if (is_int) {
            FZ_CHECK(api->get_int(h, id, &after) == AC_OK, "get_int");
            FZ_CHECK(after == (rc == AC_OK ? v : before),
                     "parameter %d is %lld after set_int(%lld) = %s", id,
                     (long long)after, (long long)v, ac_status_name(rc));
        }
    } else {
        double v = known && is_f64 ? fz_param_f64(f, flo, fhi) : fz_f64(f);
        double before = 0.0, after = 0.0;
        if (is_f64)
            FZ_CHECK(api->get_f64(h, id, &before) == AC_OK, "get_f64");
        int rc = api->set_f64(h, id, v);
        int inside = v >= flo && v <= fhi &&
                     !(v == flo && is_open_lower(api, id));
        int want = !idle     ? AC_E_STATE
                   : !known  ? AC_E_PARAM_UNSUPPORTED
                   : !is_f64 ? AC_E_INVALID_ARG
                   : inside  ? AC_OK
                             : AC_E_PARAM_OUT_OF_BOUND;
        FZ_CHECK(rc == want, "set_f64(%d, %.17g) = %s, want %s (bounds "
                 "[%.17g, %.17g], idle %d)", id, v, ac_status_name(rc),
                 ac_status_name(want), flo, fhi, idle);
        if (is_f64) {
            FZ_CHECK(api->get_f64(h, id, &after) == AC_OK, "get_f64");
            double want_v = rc == AC_OK ? v : before;
            FZ_CHECK(memcmp(&after, &want_v, sizeof after) == 0,
                     "parameter %d is %.17g after set_f64(%.17g) = %s", id,
                     after, v, ac_status_name(rc));
        }
    }
}

/* Lowers a parameter to at most cap when a fuzzed setting raised it past:
 * what a run costs must stay within a fuzzing budget. */
void fz_cap_int(const fz_param_api *api, void *h, int id, int64_t cap)
{
    int64_t v = 0;
    FZ_CHECK(api->get_int(h, id, &v) == AC_OK, "get_int(%d)", id);
    if (v > cap)
        FZ_CHECK(api->set_int(h, id, cap) == AC_OK, "set_int(%d, %lld)", id,
                 (long long)cap);
}

void fz_cap_estimator(ac_estimator *e, uint32_t n)
{
    const fz_param_api *api = &fz_estimator_params;
    fz_cap_int(api, e, AC_ESTIMATOR_PARAM_BATCH, 256);
    fz_cap_int(api, e, AC_ESTIMATOR_PARAM_REPEATS, 8);
    int64_t method = 0, budget = 0, repeats = 1;
    FZ_CHECK(ac_estimator_get_int(e, AC_ESTIMATOR_PARAM_METHOD, &method) ==
             AC_OK, "method");
    FZ_CHECK(ac_estimator_get_int(e, AC_ESTIMATOR_PARAM_BUDGET, &budget) ==
             AC_OK, "budget");
    FZ_CHECK(ac_estimator_get_int(e, AC_ESTIMATOR_PARAM_REPEATS, &repeats) ==
             AC_OK, "repeats");
    /* What AUTO needs before it takes the whole table over OddSHAP: every
     * coalition, each repeat, and a margin for retries (a little more than
     * the library asks, which only makes the cap apply more often). */
    int64_t table = n <= 20 ? ((int64_t)1 << n) * repeats : INT64_MAX / 2;
    table += table / 32 + 2;
    if (method == AC_METHOD_ODDSHAP || method == AC_METHOD_SURROGATE ||
        (method == AC_METHOD_AUTO && budget < table))
        fz_cap_int(api, e, AC_ESTIMATOR_PARAM_BUDGET, FZ_ODDSHAP_BUDGET);
}

/* ===================================================================== */
/* Checks                                                                */
/* ===================================================================== */

void fz_fail(const char *file, int line, const char *cond, const char *fmt,
             ...)
{
    fprintf(stderr, "\n*** invariant broken at %s:%d: %s\n    ", file, line,
            cond);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n");
    abort();
}

int fz_known_status(int rc)
{
    switch (rc) {
    case AC_OK: case AC_E_INVALID_ARG: case AC_E_NO_MEMORY: case AC_E_STATE:
    case AC_E_TOO_LARGE: case AC_E_PARAM_UNSUPPORTED:
    case AC_E_PARAM_OUT_OF_BOUND: case AC_E_CALLBACK: case AC_E_ORACLE:
    case AC_E_CANCELLED: case AC_E_BUSY: case AC_E_BUDGET:
    case AC_E_INFEASIBLE: case AC_E_PARSE: case AC_E_IO:
        return 1;
    default:
        return 0;
    }
}

int fz_close(long double got, long double want, long double scale)
{
    long double diff = got - want;
    if (diff < 0)
        diff = -diff;
    return diff <= 1e-12L * scale + 8 * (long double)DBL_TRUE_MIN;
}


/* What the refiner adds to one message (of the highest or the lowest
 * label) of an agent whose bound it relaxed: what the k equal shares miss
 * of phi, when past 1e-12. */
static double relaxed_miss(double phi, uint32_t k)
{
    double miss = fma(-(double)k, phi / k, phi);
    return fabs(miss) > 1e-12 * fabs(phi) ? miss : 0.0;
}

/* A sum in long double: its wider exponent cannot overflow on doubles, and
 * its 64-bit mantissa is exact enough to judge a 1e-12. */
static long double wide_sum(const double *x, uint32_t n)
{
    long double s = 0.0L, c = 0.0L;
    for (uint32_t i = 0; i < n; i++) {
        long double y = (long double)x[i] - c;
        long double t = s + y;
        c = (t - s) - y;
        s = t;
    }
    return s;
}

static double max_abs(const double *x, uint32_t n)
{
    double m = 0.0;
    for (uint32_t i = 0; i < n; i++)
        m = fabs(x[i]) > m ? fabs(x[i]) : m;
    return m;
}

static void *zalloc(size_t count, size_t size)
{
    void *p = calloc(count ? count : 1, size);
    if (p == NULL)
        abort();
    return p;
}

void fz_check_estimator_done(const ac_estimator *e, uint32_t n, double v_all,
                             double v_empty)
{
    double *phi = zalloc(n, sizeof *phi), *se = zalloc(n, sizeof *se);
    int rc = ac_estimator_result(e, phi, se, n);
    FZ_CHECK(rc == AC_OK, "a finished run has no result: %s (%s)",
             ac_status_name(rc), ac_estimator_last_error(e));
    for (uint32_t i = 0; i < n; i++) {
        FZ_CHECK(isfinite(phi[i]), "phi[%u] = %g on success (v(all) %g, "
                 "v(empty) %g)", i, phi[i], v_all, v_empty);
        FZ_CHECK(se[i] >= 0.0, "se[%u] = %g", i, se[i]);
    }
    long double want = (long double)v_all - (long double)v_empty;
    double scale = fmax(fmax(fabs(v_all), fabs(v_empty)), max_abs(phi, n));
    long double got = wide_sum(phi, n);
    FZ_CHECK(fz_close(got, want, scale),
             "sum(phi) = %.17Lg, v(all) - v(empty) = %.17Lg (scale %g, n %u)",
             got, want, scale, n);

    int64_t outcome = -1, evals = -1, budget = -1, method = -1;
    FZ_CHECK(ac_estimator_audit(e, AC_ESTIMATOR_AUDIT_OUTCOME, &outcome) ==
             AC_OK, "audit");
    FZ_CHECK(ac_estimator_audit(e, AC_ESTIMATOR_AUDIT_EVALUATIONS, &evals) ==
             AC_OK, "audit");
    FZ_CHECK(ac_estimator_audit(e, AC_ESTIMATOR_AUDIT_BUDGET, &budget) ==
             AC_OK, "audit");
    FZ_CHECK(ac_estimator_audit(e, AC_ESTIMATOR_AUDIT_METHOD, &method) ==
             AC_OK, "audit");
    FZ_CHECK(outcome == AC_ESTIMATOR_OUTCOME_COMPLETE ||
             outcome == AC_ESTIMATOR_OUTCOME_BUDGET ||
             outcome == AC_ESTIMATOR_OUTCOME_TARGET,
             "a finished run's outcome is %lld", (long long)outcome);
    FZ_CHECK(evals >= 0 && evals <= budget,
             "%lld evaluations against a budget of %lld", (long long)evals,
             (long long)budget);
    FZ_CHECK(method >= AC_METHOD_EXACT && method <= AC_METHOD_SURROGATE,
             "method used %lld", (long long)method);
    int32_t done = -1;
    uint64_t out = UINT64_MAX;
    FZ_CHECK(ac_estimator_progress(e, &done, &out) == AC_OK, "progress");
    FZ_CHECK(done == 1 && out == 0, "done run: progress %d, %llu", done,
             (unsigned long long)out);
    free(phi);
    free(se);
}

void fz_check_estimator_no_result(const ac_estimator *e, uint32_t n)
{
    double *phi = zalloc(n, sizeof *phi);
    phi[0] = 12345.0;
    int rc = ac_estimator_result(e, phi, NULL, n);
    FZ_CHECK(rc == AC_E_STATE, "result without a finished run: %s",
             ac_status_name(rc));
    FZ_CHECK(phi[0] == 12345.0, "a refused result wrote its output");
    free(phi);
}

void fz_check_refiner_done(const ac_refiner *r, uint32_t n_agents,
                           uint32_t n_messages, const uint32_t *agent_of,
                           const double *credit)
{
    double *reward = zalloc(n_messages, sizeof *reward);
    double *label = zalloc(n_messages, sizeof *label);
    uint32_t *flags = zalloc(n_agents, sizeof *flags);
    /* One agent's rewards and labels, gathered. */
    double *ar = zalloc(n_messages, sizeof *ar);
    double *al = zalloc(n_messages, sizeof *al);
    int rc = ac_refiner_rewards(r, reward, n_messages);
    FZ_CHECK(rc == AC_OK, "rewards of a finished run: %s (%s)",
             ac_status_name(rc), ac_refiner_last_error(r));
    FZ_CHECK(ac_refiner_labels(r, label, n_messages) == AC_OK, "labels");
    FZ_CHECK(ac_refiner_agent_flags(r, flags, n_agents) == AC_OK, "flags");
    double bound = NAN;
    FZ_CHECK(ac_refiner_get_f64(r, AC_REFINER_PARAM_BOUND, &bound) == AC_OK,
             "bound");
    int64_t relaxed = 0, audit_relaxed = -1;
    for (uint32_t a = 0; a < n_agents; a++) {
        FZ_CHECK((flags[a] & ~(uint32_t)(AC_AGENT_FLAG_RELAXED_SIGN |
                                         AC_AGENT_FLAG_RELAXED_BOUND)) == 0,
                 "agent %u flags 0x%x", a, flags[a]);
        relaxed += flags[a] != 0;
        uint32_t k = 0;
        for (uint32_t t = 0; t < n_messages; t++) {
            if (agent_of[t] != a)
                continue;
            FZ_CHECK(isfinite(reward[t]), "reward[%u] = %g on success "
                     "(agent %u, credit %g, bound %g)", t, reward[t], a,
                     credit[a], bound);
            FZ_CHECK(isfinite(label[t]) && label[t] >= -1.0 &&
                     label[t] <= 1.0, "label[%u] = %g", t, label[t]);
            ar[k] = reward[t];
            al[k++] = label[t];
        }
        if (k == 0) {
            FZ_CHECK(credit[a] == 0.0, "agent %u: credit %g, no message and "
                     "a success", a, credit[a]);
            continue;
        }
        long double got = wide_sum(ar, k);
        double scale = fmax(fabs(credit[a]), max_abs(ar, k));
        FZ_CHECK(fz_close(got, credit[a], scale),
                 "agent %u: sum(r) = %.17Lg, credit %.17g (%u messages, "
                 "bound %g, flags 0x%x)", a, got, credit[a], k, bound,
                 flags[a]);
        int bound_relaxed = (flags[a] & AC_AGENT_FLAG_RELAXED_BOUND) != 0;
        int sign_relaxed = (flags[a] & AC_AGENT_FLAG_RELAXED_SIGN) != 0;
        for (uint32_t j = 0; j < k; j++) {
            if (bound_relaxed) /* one may take a miss past 1e-12 */
                FZ_CHECK(ar[j] == credit[a] / k ||
                             (relaxed_miss(credit[a], k) != 0.0 &&
                              ar[j] == credit[a] / k +
                                           relaxed_miss(credit[a], k)),
                         "agent %u relaxed bound: reward %.17g, credit / K "
                         "%.17g", a, ar[j], credit[a] / k);
            else
                FZ_CHECK(fabs(ar[j]) <= bound, "agent %u: |reward| %.17g > "
                         "bound %.17g", a, ar[j], bound);
            if (!sign_relaxed) {
                FZ_CHECK(!(al[j] < 0.0 && ar[j] > 0.0), "agent %u: label "
                         "%g, reward %g", a, al[j], ar[j]);
                FZ_CHECK(!(al[j] > 0.0 && ar[j] < 0.0), "agent %u: label "
                         "%g, reward %g", a, al[j], ar[j]);
            }
            for (uint32_t i = 0; i < k; i++)
                FZ_CHECK(!(al[i] > al[j] && ar[i] < ar[j]),
                         "agent %u: label %.17g gets %.17g, label %.17g gets "
                         "%.17g (not monotone; credit %a, %u messages, "
                         "bound %g, flags 0x%x)", a, al[i], ar[i], al[j],
                         ar[j], credit[a], k, bound, flags[a]);
        }
    }
    FZ_CHECK(ac_refiner_audit(r, AC_REFINER_AUDIT_RELAXED_AGENTS,
                              &audit_relaxed) == AC_OK, "audit");
    FZ_CHECK(audit_relaxed == relaxed, "audit says %lld relaxed agents, the "
             "flags %lld", (long long)audit_relaxed, (long long)relaxed);
    int32_t done = -1;
    uint64_t out = UINT64_MAX;
    FZ_CHECK(ac_refiner_progress(r, &done, &out) == AC_OK, "progress");
    FZ_CHECK(done == 1 && out == 0, "done run: progress %d, %llu", done,
             (unsigned long long)out);
    free(reward);
    free(label);
    free(flags);
    free(ar);
    free(al);
}

void fz_check_refiner_no_result(const ac_refiner *r, uint32_t n_agents,
                                uint32_t n_messages)
{
    double *x = zalloc(n_messages, sizeof *x);
    uint32_t *flags = zalloc(n_agents, sizeof *flags);
    x[0] = 12345.0;
    flags[0] = 777;
    FZ_CHECK(ac_refiner_rewards(r, x, n_messages) == AC_E_STATE,
             "rewards without a finished run");
    FZ_CHECK(ac_refiner_labels(r, x, n_messages) == AC_E_STATE,
             "labels without a finished run");
    FZ_CHECK(ac_refiner_agent_flags(r, flags, n_agents) == AC_E_STATE,
             "agent flags without a finished run");
    FZ_CHECK(x[0] == 12345.0 && flags[0] == 777,
             "a refused getter wrote its output");
    free(x);
    free(flags);
}

void fz_check_localizer_done(const ac_localizer *l, uint32_t n_messages,
                             const uint32_t *agent_of)
{
    uint32_t n = n_messages;
    int64_t step = -2;
    uint32_t agent = 0;
    double prob = NAN;
    int rc = ac_localizer_result(l, &step, &agent, &prob);
    FZ_CHECK(rc == AC_OK, "result of a finished run: %s (%s)",
             ac_status_name(rc), ac_localizer_last_error(l));
    FZ_CHECK(step >= -1 && step < (int64_t)n, "step %lld of %u", (long long)step,
             n);
    uint32_t want_agent = step >= 0 && agent_of ? agent_of[step] : UINT32_MAX;
    FZ_CHECK(agent == want_agent, "agent %u, want %u", agent, want_agent);
    FZ_CHECK(prob >= 0.0 && prob <= 1.0, "probability %g", prob);

    double *post = zalloc((size_t)n + 1, sizeof *post);
    FZ_CHECK(ac_localizer_posterior(l, post, n + 1) == AC_OK, "posterior");
    for (uint32_t t = 0; t <= n; t++)
        FZ_CHECK(post[t] >= 0.0 && post[t] <= 1.0, "posterior[%u] = %g", t,
                 post[t]);
    long double total = wide_sum(post, n + 1);
    /* Normalising rounds each entry once: (T+1) ulps at worst. */
    double tol = fmax(1e-12, 4.0 * (n + 1) * DBL_EPSILON);
    FZ_CHECK(fabsl(total - 1.0L) <= tol, "the posterior sums to %.17Lg",
             total);

    double prev = -1.0, within = NAN;
    static const uint32_t radii[] = {0, 1, 2, 5, 1u << 20};
    for (size_t k = 0; k < sizeof radii / sizeof radii[0]; k++) {
        FZ_CHECK(ac_localizer_probability_within(l, radii[k], &within) ==
                 AC_OK, "probability_within");
        FZ_CHECK(within >= 0.0 && within <= 1.0 && within >= prev,
                 "probability within %u is %.17g (within the previous "
                 "radius: %.17g)", radii[k], within, prev);
        prev = within;
    }
    FZ_CHECK(within >= 1.0 - tol, "probability within any radius %.17g",
             within);

    uint32_t *flags = zalloc(n, sizeof *flags);
    FZ_CHECK(ac_localizer_step_flags(l, flags, n) == AC_OK, "step flags");
    uint32_t firsts = 0;
    for (uint32_t t = 0; t < n; t++) {
        FZ_CHECK((flags[t] & ~15u) == 0, "flags[%u] = 0x%x", t, flags[t]);
        if (flags[t] & AC_STEP_FLAG_FIRST_ERROR) {
            firsts++;
            FZ_CHECK((int64_t)t == step, "FIRST_ERROR at %u, step %lld", t,
                     (long long)step);
        }
        if (step < 0 || (int64_t)t < step)
            FZ_CHECK(flags[t] == 0, "flags[%u] = 0x%x before the first "
                     "error %lld", t, flags[t], (long long)step);
    }
    FZ_CHECK(firsts == (step >= 0), "%u FIRST_ERROR flags, step %lld",
             firsts, (long long)step);

    double *blame = zalloc(n, sizeof *blame);
    FZ_CHECK(ac_localizer_blame_labels(l, blame, n) == AC_OK, "blame");
    for (uint32_t t = 0; t < n; t++)
        FZ_CHECK(blame[t] >= -1.0 && blame[t] <= 1.0, "blame[%u] = %g", t,
                 blame[t]);

    int64_t outcome = -1, evals = -1, budget = -1, stopped = -1,
            complete = -1;
    FZ_CHECK(ac_localizer_audit(l, AC_LOCALIZER_AUDIT_OUTCOME, &outcome) ==
             AC_OK, "audit");
    FZ_CHECK(ac_localizer_audit(l, AC_LOCALIZER_AUDIT_EVALUATIONS, &evals) ==
             AC_OK, "audit");
    FZ_CHECK(ac_localizer_audit(l, AC_LOCALIZER_AUDIT_BUDGET, &budget) ==
             AC_OK, "audit");
    FZ_CHECK(ac_localizer_audit(l, AC_LOCALIZER_AUDIT_SCAN_STOPPED,
                                &stopped) == AC_OK, "audit");
    FZ_CHECK(ac_localizer_audit(l, AC_LOCALIZER_AUDIT_SCAN_COMPLETE,
                                &complete) == AC_OK, "audit");
    FZ_CHECK(outcome >= AC_LOCALIZER_OUTCOME_FOUND &&
             outcome <= AC_LOCALIZER_OUTCOME_EXHAUSTED,
             "a finished run's outcome is %lld", (long long)outcome);
    FZ_CHECK(evals >= 0 && evals <= budget, "%lld evaluations, budget %lld",
             (long long)evals, (long long)budget);
    FZ_CHECK(stopped == 0 || stopped == AC_E_CANCELLED ||
             stopped == AC_E_ORACLE || stopped == AC_E_CALLBACK ||
             stopped == AC_E_INVALID_ARG, "scan stopped by %lld",
             (long long)stopped);
    FZ_CHECK(stopped == 0 || complete == 0, "scan stopped by %lld and "
             "complete", (long long)stopped);
    int32_t done = -1;
    uint64_t out = UINT64_MAX;
    FZ_CHECK(ac_localizer_progress(l, &done, &out) == AC_OK, "progress");
    FZ_CHECK(done == 1 && out == 0, "done run: progress %d, %llu", done,
             (unsigned long long)out);
    free(post);
    free(flags);
    free(blame);
}

void fz_check_localizer_no_result(const ac_localizer *l, uint32_t n_messages)
{
    double *x = zalloc((size_t)n_messages + 1, sizeof *x);
    uint32_t *flags = zalloc(n_messages, sizeof *flags);
    int64_t step = 12345;
    double p = 12345.0;
    x[0] = 12345.0;
    flags[0] = 777;
    FZ_CHECK(ac_localizer_result(l, &step, NULL, &p) == AC_E_STATE,
             "result without a finished run");
    FZ_CHECK(ac_localizer_posterior(l, x, n_messages + 1) == AC_E_STATE,
             "posterior without a finished run");
    FZ_CHECK(ac_localizer_probability_within(l, 1, &p) == AC_E_STATE,
             "probability_within without a finished run");
    FZ_CHECK(ac_localizer_step_flags(l, flags, n_messages) == AC_E_STATE,
             "step flags without a finished run");
    FZ_CHECK(ac_localizer_blame_labels(l, x, n_messages) == AC_E_STATE,
             "blame labels without a finished run");
    FZ_CHECK(step == 12345 && p == 12345.0 && x[0] == 12345.0 &&
             flags[0] == 777, "a refused getter wrote its output");
    free(x);
    free(flags);
}

/* ---- the pipeline ---------------------------------------------------- */

/* The agent index of message t's author; UINT32_MAX for a non-player. */
static uint32_t author_agent(const ac_episode *ep, uint32_t t)
{
    uint32_t who = 0, agent = UINT32_MAX;
    FZ_CHECK(ac_episode_message(ep, t, &who, NULL, NULL) == AC_OK,
             "message %u", t);
    return ac_episode_agent_of(ep, who, &agent) == AC_OK ? agent
                                                         : UINT32_MAX;
}

static void check_pipeline_credits(const double *phi, uint32_t n,
                                   double total)
{
    for (uint32_t a = 0; a < n; a++)
        FZ_CHECK(isfinite(phi[a]), "credit %u is %g", a, phi[a]);
    double scale = fmax(fabs(total), max_abs(phi, n));
    long double sum = wide_sum(phi, n);
    FZ_CHECK(fz_close(sum, total, scale), "credits add up to %.17Lg, not "
             "%.17g", sum, total);
}

/* Per message: a non-player's reward 0, label NaN and flag NON_PLAYER; an
 * agent's reward finite, label in [-1, 1], never the flag. Each agent's
 * rewards add up to its credit. */
static void check_pipeline_messages(const ac_pipeline *p,
                                    const ac_episode *ep, const double *phi,
                                    uint32_t n, uint32_t T)
{
    double *reward = zalloc(T, sizeof *reward);
    double *label = zalloc(T, sizeof *label);
    double *mine = zalloc(T, sizeof *mine);
    uint32_t *flags = zalloc(T, sizeof *flags);
    FZ_CHECK(ac_pipeline_rewards(p, reward, T) == AC_OK &&
                 ac_pipeline_labels(p, label, T) == AC_OK &&
                 ac_pipeline_message_flags(p, flags, T) == AC_OK,
             "message results");
    for (uint32_t t = 0; t < T; t++) {
        int player = author_agent(ep, t) != UINT32_MAX;
        int flagged = (flags[t] & AC_MESSAGE_FLAG_NON_PLAYER) != 0;
        FZ_CHECK(player != flagged, "message %u: flags 0x%x, a %s", t,
                 flags[t], player ? "player" : "non-player");
        if (!player)
            FZ_CHECK(reward[t] == 0.0 && isnan(label[t]),
                     "a non-player's message %u: reward %g, label %g", t,
                     reward[t], label[t]);
        else
            FZ_CHECK(isfinite(reward[t]) && label[t] >= -1.0 &&
                         label[t] <= 1.0,
                     "message %u: reward %g, label %g", t, reward[t],
                     label[t]);
    }
    for (uint32_t a = 0; a < n; a++) {
        uint32_t k = 0;
        for (uint32_t t = 0; t < T; t++)
            if (author_agent(ep, t) == a)
                mine[k++] = reward[t];
        long double got = wide_sum(mine, k);
        double scale = fmax(fabs(phi[a]), max_abs(mine, k));
        FZ_CHECK(fz_close(got, phi[a], scale),
                 "agent %u: rewards add up to %.17Lg, credit %.17g (%u "
                 "messages)", a, got, phi[a], k);
    }
    free(reward);
    free(label);
    free(mine);
    free(flags);
}

static void check_pipeline_first_error(const ac_pipeline *p,
                                       const ac_episode *ep, uint32_t T)
{
    int64_t step = -2;
    uint32_t agent = 0;
    double prob = NAN;
    FZ_CHECK(ac_pipeline_first_error(p, &step, &agent, &prob) == AC_OK,
             "first error");
    if (step == -1) {
        FZ_CHECK(agent == UINT32_MAX, "no first error, agent %u", agent);
        return;
    }
    FZ_CHECK(step >= 0 && step < (int64_t)T, "first error step %lld of %u",
             (long long)step, T);
    uint32_t author = author_agent(ep, (uint32_t)step);
    FZ_CHECK(author != UINT32_MAX && author == agent, "first error %lld: "
             "agent %u, the author's agent %u", (long long)step, agent,
             author);
    FZ_CHECK(prob >= 0.0 && prob <= 1.0, "first error probability %g",
             prob);
}

static char *pipeline_json(const ac_pipeline *p, const ac_episode *ep)
{
    size_t len = 0, again = 0;
    FZ_CHECK(ac_pipeline_write_json(p, ep, NULL, 0, &len) == AC_OK, "json");
    char *buf = zalloc(len + 1, 1);
    FZ_CHECK(ac_pipeline_write_json(p, ep, buf, len + 1, &again) == AC_OK &&
                 again == len && strlen(buf) == len,
             "json");
    json_error_t jerr;
    json_t *root = json_loads(buf, 0, &jerr);
    FZ_CHECK(root != NULL, "signals do not parse: %s\n%s", jerr.text, buf);
    json_decref(root);
    return buf;
}

char *fz_check_pipeline_done(const ac_pipeline *p, const ac_episode *ep)
{
    uint32_t n = 0, T = 0;
    FZ_CHECK(ac_episode_counts(ep, NULL, &n, &T) == AC_OK, "counts");
    double *phi = zalloc(n, sizeof *phi);
    double total = NAN, reference = NAN;
    int rc = ac_pipeline_credits(p, phi, NULL, n);
    FZ_CHECK(rc == AC_OK, "a finished run has no credits: %s (%s)",
             ac_status_name(rc), ac_pipeline_last_error(p));
    FZ_CHECK(ac_pipeline_total(p, &total, &reference) == AC_OK &&
                 isfinite(total) && isfinite(reference),
             "total %g, reference %g", total, reference);
    check_pipeline_credits(phi, n, total);
    check_pipeline_messages(p, ep, phi, n, T);
    check_pipeline_first_error(p, ep, T);
    int32_t done = 0;
    uint64_t out = 1;
    FZ_CHECK(ac_pipeline_progress(p, &done, &out) == AC_OK && done == 1 &&
                 out == 0,
             "done run: progress %d, %llu", done, (unsigned long long)out);
    free(phi);
    return pipeline_json(p, ep);
}

void fz_check_pipeline_no_result(const ac_pipeline *p, const ac_episode *ep)
{
    uint32_t n = 0, T = 0;
    FZ_CHECK(ac_episode_counts(ep, NULL, &n, &T) == AC_OK, "counts");
    double *x = zalloc((size_t)n + T, sizeof *x);
    uint32_t *flags = zalloc((size_t)n + T, sizeof *flags);
    x[0] = 12345.0;
    flags[0] = 777;
    double total = 12345.0;
    int64_t step = 12345;
    ac_preference_pair pair = {.struct_size = sizeof pair, .step = 777};
    size_t len = 12345;
    char buf[4] = "abc";
    FZ_CHECK(ac_pipeline_credits(p, x, NULL, n) == AC_E_STATE &&
                 ac_pipeline_total(p, &total, NULL) == AC_E_STATE &&
                 ac_pipeline_rewards(p, x, T) == AC_E_STATE &&
                 ac_pipeline_labels(p, x, T) == AC_E_STATE &&
                 ac_pipeline_message_flags(p, flags, T) == AC_E_STATE &&
                 ac_pipeline_step_flags(p, flags, T) == AC_E_STATE &&
                 ac_pipeline_agent_flags(p, flags, n) == AC_E_STATE &&
                 ac_pipeline_first_error(p, &step, NULL, NULL) ==
                     AC_E_STATE &&
                 ac_pipeline_pair(p, &pair) == AC_E_STATE &&
                 ac_pipeline_write_json(p, ep, buf, sizeof buf, &len) ==
                     AC_E_STATE,
             "a result getter without a result");
    FZ_CHECK(x[0] == 12345.0 && flags[0] == 777 && total == 12345.0 &&
                 step == 12345 && pair.step == 777 && len == 12345 &&
                 strcmp(buf, "abc") == 0,
             "a refused getter wrote its output");
    free(x);
    free(flags);
}
