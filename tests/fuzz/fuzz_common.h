/* SPDX-License-Identifier: MIT
 *
 * What the fuzz targets share: a reader that turns libFuzzer's bytes into
 * choices (biased towards the values that break numerical code: NaN, the
 * infinities, 1e308, denormals, a parameter's bounds and one step past
 * them), and the invariants every successful result must meet, checked the
 * same way by every target. A broken invariant prints what broke and
 * aborts: libFuzzer keeps the input as a crash.
 */
#ifndef AC_FUZZ_COMMON_H
#define AC_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>

#include "agentcredit.h"

/* libFuzzer's entry point, declared for -Wmissing-prototypes. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* ---- the input, read from the front; past its end every read is 0 ---- */

typedef struct fz {
    const uint8_t *p;
    size_t n;
} fz;

void fz_init(fz *f, const uint8_t *data, size_t size);
int fz_done(const fz *f);
uint8_t fz_u8(fz *f);
uint16_t fz_u16(fz *f);
uint32_t fz_u32(fz *f);
uint64_t fz_u64(fz *f);
/* A number in [0, bound) (bound >= 1). */
uint32_t fz_below(fz *f, uint32_t bound);
/* 1 with probability about in256 / 256; a 0 byte (and the end of the
 * input) says 1. */
int fz_chance(fz *f, unsigned in256);
/* The same, but a 0 byte says 0: for what should stay rare, so that an
 * input of zeros takes the plain path. */
int fz_rare(fz *f, unsigned in256);
/* Any double, most often one of the hard ones. */
double fz_f64(fz *f);
/* Mostly a value in [lo, hi] (its ends included), sometimes fz_f64. */
double fz_in(fz *f, double lo, double hi);
/* A value for an integer parameter with bounds [lo, hi]: the bounds, one
 * step past them, the extremes of int64_t, or a value between. */
int64_t fz_param_int(fz *f, int64_t lo, int64_t hi);
/* The same for a real parameter: the bounds, the next doubles outside,
 * NaN, the infinities, 1e308, denormals, or a value between. */
double fz_param_f64(fz *f, double lo, double hi);

/* ---- parameters: one table an object, one checker for all ---- */

#define FZ_N_OF(a) (sizeof(a) / sizeof((a)[0]))

typedef struct fz_param_api {
    int (*set_int)(void *h, int param, int64_t v);
    int (*get_int)(const void *h, int param, int64_t *v);
    int (*set_f64)(void *h, int param, double v);
    int (*get_f64)(const void *h, int param, double *v);
    int (*bounds_int)(int param, int64_t *lo, int64_t *hi);
    int (*bounds_f64)(int param, double *lo, double *hi);
    const int *ids;    /* every parameter the header lists */
    size_t n_ids;
    const int *open_lower; /* real parameters whose lower bound is
                              excluded, as the header says */
    size_t n_open;
} fz_param_api;

extern const fz_param_api fz_estimator_params;
extern const fz_param_api fz_refiner_params;
extern const fz_param_api fz_localizer_params;

/* One fuzzed setting, checked: on an idle handle a known parameter of the
 * right type takes any value within its bounds and refuses every other one
 * (AC_E_PARAM_OUT_OF_BOUND, never clamped: the getter still says the old
 * value), the wrong type is AC_E_INVALID_ARG, an unknown id
 * AC_E_PARAM_UNSUPPORTED; on a handle that is not idle every setting is
 * AC_E_STATE and changes nothing. */
void fz_param(fz *f, const fz_param_api *api, void *h, int idle);
/* Lowers an integer parameter to cap when a fuzzed setting raised it past:
 * what a run costs must stay within a fuzzing budget. */
void fz_cap_int(const fz_param_api *api, void *h, int id, int64_t cap);
/* The estimator's run within a fuzzing budget (an idle estimator of n
 * players): OddSHAP's fit costs about the cube of its rows, under the
 * sanitizers and coverage about 1 s at 256 evaluations and 48 s at the
 * default 2048, so a run that may take OddSHAP (asked for, or AUTO with a
 * budget short of the whole table) gets at most FZ_ODDSHAP_BUDGET; batches
 * and repeats are capped too. The callbacks cancel a run past their own
 * evaluation cap, so the other methods need no budget cap. */
#define FZ_ODDSHAP_BUDGET 48
void fz_cap_estimator(ac_estimator *e, uint32_t n);

/* ---- checks ---- */

#if defined(__GNUC__)
__attribute__((noreturn, format(printf, 4, 5)))
#endif
void fz_fail(const char *file, int line, const char *cond, const char *fmt,
             ...);

#define FZ_CHECK(cond, ...)                                                 \
    do {                                                                    \
        if (!(cond))                                                        \
            fz_fail(__FILE__, __LINE__, #cond, __VA_ARGS__);                \
    } while (0)

/* A status the header documents (AC_OK or an ac_status). */
int fz_known_status(int rc);

/* |got - want| within a relative 1e-12 of scale (and a few denormals, for
 * sums of denormals). */
int fz_close(long double got, long double want, long double scale);

/* The invariants of a finished estimator run: the result readable, every
 * credit finite, every standard error >= 0 or +inf, sum(phi) == v_all -
 * v_empty to a relative 1e-12 (of the largest of |v_all|, |v_empty|,
 * |phi_i|), the audit's outcome a success and its evaluations within its
 * budget, progress done with nothing outstanding. */
void fz_check_estimator_done(const ac_estimator *e, uint32_t n, double v_all,
                             double v_empty);

/* The invariants of a finished refiner run over the authors and credits the
 * host gave: rewards finite, per agent sum(r) == credit to a relative
 * 1e-12, |r| <= B unless the agent is flagged RELAXED_BOUND (then every
 * message gets credit / K), the sign of the label unless flagged
 * RELAXED_SIGN, a higher label never a lower reward within an agent, the
 * labels used finite and in [-1, 1], the audit's RELAXED_AGENTS the number
 * of flagged agents. */
void fz_check_refiner_done(const ac_refiner *r, uint32_t n_agents,
                           uint32_t n_messages, const uint32_t *agent_of,
                           const double *credit);

/* The invariants of a finished localizer run: step in [-1, T), its agent
 * agent_of[step] (agent_of may be NULL: UINT32_MAX), the probability and
 * every posterior entry finite and in [0, 1], the posterior summing to 1,
 * probability_within non-decreasing in the radius and 1 at radius T, one
 * FIRST_ERROR flag exactly at step and no flag before it, blame labels
 * finite and in [-1, 1], the audit's outcome a success and its evaluations
 * within the budget, a scan that stopped reported incomplete. */
void fz_check_localizer_done(const ac_localizer *l, uint32_t n_messages,
                             const uint32_t *agent_of);

/* Every result getter of a handle whose run is not done (idle, running,
 * failed) returns AC_E_STATE and writes nothing. */
void fz_check_estimator_no_result(const ac_estimator *e, uint32_t n);
void fz_check_refiner_no_result(const ac_refiner *r, uint32_t n_agents,
                                uint32_t n_messages);
void fz_check_localizer_no_result(const ac_localizer *l, uint32_t n_messages);

/* The invariants of a pipeline's successful run on ep: credits finite and
 * adding up to the total R - reference (to a relative 1e-12 of the largest
 * of |total|, |phi_i|), each agent's rewards to its credit (of the largest
 * of |credit|, |r_t|), a non-player's message reward 0, label NaN and flag
 * AC_MESSAGE_FLAG_NON_PLAYER (an agent's never that flag, its label in
 * [-1, 1]), the first error -1 or an agent's message with that agent,
 * and signals that jansson reads. Returns the signals' JSON text
 * (ac_pipeline_write_json, malloc'd: the caller frees it). */
char *fz_check_pipeline_done(const ac_pipeline *p, const ac_episode *ep);
/* Every result getter and the writer of a pipeline without a result
 * (none yet, a run under way or failed) return AC_E_STATE and write
 * nothing. */
void fz_check_pipeline_no_result(const ac_pipeline *p, const ac_episode *ep);

#endif
