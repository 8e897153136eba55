/* The estimator handle and the interface between its ask/tell core
 * (estimator.c) and the estimation methods (method_*.c).
 *
 * A method plans work in units (a pair of antithetic permutations, a block of
 * enumerated coalitions, a pair of complementary sampled coalitions). It asks
 * the core for the coalitions of a unit through ac__est_request(), which
 * answers from the cache or queues the evaluations. The core hands queued
 * evaluations to the host (ask), takes the values back (tell), and calls the
 * method's estimate() once every planned evaluation is in. */
#ifndef AC_ESTIMATOR_INTERNAL_H
#define AC_ESTIMATOR_INTERNAL_H

#include <math.h>
#include <stdatomic.h>
#include <stdint.h>

#include "agentcredit.h"
#include "common/alloc.h"
#include "credit/coalition_cache.h"
#include "common/errors.h"
#include "common/rng.h"
#include "common/run.h"
#include "common/ticket.h"

/* What extend() reports. */
enum {
    AC__PLAN_OVER = 0, /* nothing more will be planned                    */
    AC__PLAN_GREW = 1, /* more evaluations were queued                    */
    AC__PLAN_WAIT = 2  /* the next plan needs the outstanding values first */
};

/* What estimate() returns, besides AC_OK and an error, when the method
 * cannot fit what was planned: the core then asks the entry's fallback, and
 * the audit names the fallback (the method that produced the estimate). */
#define AC__FALL_BACK 1

/* What a method does. The core calls nothing else of it, and nothing here
 * is one method's business: a method that needs more adds an operation
 * every method could use. */
typedef struct ac__method_ops {
    /* Sets up the method's state (e->mstate) and requests what every plan
     * needs. AC_E_BUDGET / AC_E_TOO_LARGE when the method cannot run. */
    int (*begin)(ac_estimator *e);
    /* Plans one more unit if the budget pays for it: *grew = AC__PLAN_GREW,
     * AC__PLAN_OVER when the plan is over, or AC__PLAN_WAIT when the next
     * step depends on values still outstanding (extend() is called again
     * once every one of them is in). */
    int (*extend)(ac_estimator *e, int *grew);
    /* The estimate from the planned work, all of it evaluated. phi and se
     * are n long; the core makes phi conserve total() afterwards. Both
     * are in the scaled space the values are read in (ac__est_value): the
     * core takes them back to the host's units and checks that they are
     * finite. A long computation looks at ac__est_cancelled. Besides a
     * status (AC_E_CANCELLED among them), AC__FALL_BACK. */
    int (*estimate)(ac_estimator *e, double *phi, double *se);
    void (*end)(ac_estimator *e);
    /* Whether the plan is at a point where estimate() means something (NULL:
     * always). Error-target checkpoints wait for it. */
    int (*settled)(const ac_estimator *e);
    /* Why the plan ended, once extend() said AC__PLAN_OVER and every value
     * is in: an AC_ESTIMATOR_OUTCOME (COMPLETE or BUDGET). */
    int (*outcome)(const ac_estimator *e);
    /* The total the credits conserve, v(all) - v(empty), read after
     * estimate(): in its scaled space (host 0) or in the host's units
     * (host 1: +-inf when a double cannot hold it; the figure the credits
     * are conserved to at the end, since the scaled space loses what lies
     * 2^1074 times below the largest value). ac__est_cache_total, or the
     * method's own values of the two when it evaluated them again. */
    double (*total)(const ac_estimator *e, int host);
    /* Takes the value of an extra evaluation the method asked for with
     * ac__est_request_extra, under the method's `serial`; NaN when it was
     * given up after its retries. NULL: the method asks for none. */
    void (*take_extra)(ac_estimator *e, uint32_t serial, double value);
    /* The interaction index of every pair (credit/interactions.h) and its
     * standard error, in the scaled space, read after estimate(): for a
     * method whose own values of the whole table are not the cache's.
     * NULL: from a complete cache when the method is exact_when_complete,
     * else none (estimator_interactions.c). */
    int (*interactions)(ac_estimator *e, double *index, double *se);
} ac__method_ops;

/* A method as the core sees it: one entry, defined in the method's file,
 * declared in methods.h and listed in the table (method_table.c). */
typedef struct ac__method {
    const char *name;
    int id; /* its ac_method */
    /* Whether AUTO may take it: the game and the budget suit it (the table
     * lists the methods in AUTO's order of preference). */
    int (*affordable)(const ac_estimator *e);
    const ac__method_ops *ops;
    /* A sampled method whose cache ends up holding every coalition reports
     * the exact values from it (ac__est_exact_from_cache) instead of its
     * estimate; a method with its own use of the table (repeats) does not. */
    int exact_when_complete;
    /* Whether AC_ESTIMATOR_PARAM_TARGET_SE is tested at checkpoints; a
     * method that evaluates the whole table has nothing to stop early. */
    int checkpoints;
    /* Whose estimate() stands in when this one returns AC__FALL_BACK: a
     * method that reads the same state (begin() of this one made it). */
    const struct ac__method *fallback;
} ac__method;

/* The table of the entries, in AUTO's order of preference. */
extern const ac__method *const ac__methods[];
extern const uint32_t ac__n_methods;

typedef struct ac__slot {
    uint32_t entry;
    uint32_t rep;
    uint32_t tries; /* earlier failed attempts at this evaluation */
} ac__slot;


typedef struct ac__params {
    int64_t method, budget, seed, batch, repeats, max_retries, noisy;
    double target_se;
    int64_t interactions; /* AC_ESTIMATOR_PARAM_INTERACTIONS */
} ac__params;

struct ac_estimator {
    ac__mem mem;
    uint32_t n, words;
    ac__params p;
    ac__cache known; /* values given by the host, kept across sessions */

    ac_oracle_fn oracle;
    void *oracle_user;
    int busy;              /* inside the oracle callback of run()      */
    atomic_int cancelled;  /* written from any thread                  */

    /* The session (the run): cleared by AC_RESET_SESSION. */
    int phase;
    int fail_status;       /* status a FAILED run keeps returning      */
    const ac__method *method; /* the one chosen                     */
    int method_used;       /* the chosen one, then whose estimate the
                              result is (its fallback, when it fell back) */
    void *mstate;
    ac__cache cache;
    ac__rng rng;
    ac__slot *queue;       /* evaluations planned, not yet handed out  */
    size_t q_head, q_len, q_cap;
    ac__tickets tickets;   /* item: cache entry, aux: repeat index     */
    int64_t committed;     /* evaluations queued or handed out         */
    int plan_over;         /* extend() said no more                    */
    int plan_wait;         /* extend() waits for the outstanding values */
    uint32_t free_units;   /* consecutive sampled units that cost 0    */
    int at_checkpoint;     /* waiting to test the standard-error target */
    int64_t next_checkpoint;
    int outcome;
    double *phi, *se;      /* the result, once DONE                    */
    /* The pairs' interactions and their standard errors in the host's
     * units, once DONE with AC_ESTIMATOR_PARAM_INTERACTIONS; NULL when
     * the method ended without them. */
    double *inter, *inter_se;
    /* The scaled space (credit/scale.h): the largest magnitude of a value
     * the run took (told or known), and the k the methods work at: they
     * read every value times 2^-k, and the core multiplies their credits
     * and standard errors by 2^k. 0 for ordinary values. */
    double vmax;
    int vshift;
    uint32_t empty_entry, grand_entry;

    /* Audit. */
    int64_t n_coalitions, n_repeats, cache_hits, rounds, failures, retries,
        samples, dropped;

    /* The last error message. Reached through a pointer so that the
     * read-only calls, which take a const handle, may still explain a
     * refusal (SQLite's errmsg does the same). */
    char *err;
    char err_store[AC__ERRMSG_CAP];
};

/* Requests the value of coalition key: from the cache (a hit) or by queuing
 * AC_ESTIMATOR_PARAM_REPEATS evaluations. *entry receives its cache index. The method
 * must have checked the cost against ac__est_remaining() first.
 * An essential coalition is one the method cannot do without (exact, the
 * enumerated layers, v(empty), v(all)): if it fails and the budget cannot pay
 * for a retry, the run fails with AC_E_BUDGET. A coalition of a sampled unit
 * is not: it is given up (AC__ENTRY_FAILED) and the method drops the units
 * that need it. */
int ac__est_request(ac_estimator *e, const uint64_t *key, int essential,
                    uint32_t *entry);
/* Queues one more evaluation of a cached coalition (entry), beyond its
 * AC_ESTIMATOR_PARAM_REPEATS: the value goes to the method's take_extra() under
 * `serial`, the method's own index of its extra evaluations (below
 * UINT32_MAX - AC_ESTIMATOR_PARAM_REPEATS). The method must have checked the budget. */
int ac__est_request_extra(ac_estimator *e, uint32_t entry, uint32_t serial);
/* Whether the entry was given up. */
static inline int ac__est_failed(const ac_estimator *e, uint32_t entry)
{
    return e->cache.entries[entry].state == AC__ENTRY_FAILED;
}
/* Evaluations a new request for key would cost (0 when cached). */
int64_t ac__est_cost(const ac_estimator *e, const uint64_t *key);
/* Whether a sampled unit costing `cost` evaluations is worth planning: a
 * long run of units that cost nothing means every coalition they can reach
 * is already evaluated, and sampling stops. */
int ac__est_free_unit_ok(ac_estimator *e, int64_t cost);
/* Budget not yet committed. */
int64_t ac__est_remaining(const ac_estimator *e);
/* The value (mean) of a cache entry, and its variance, in the methods'
 * scaled space (e->vshift). */
static inline double ac__est_value(const ac_estimator *e, uint32_t entry)
{
    double v = e->cache.entries[entry].mean;
    return e->vshift ? ldexp(v, -e->vshift) : v;
}
static inline double ac__est_var(const ac_estimator *e, uint32_t entry)
{
    const ac__entry *en = &e->cache.entries[entry];
    int k = en->vexp - 2 * e->vshift;
    return k ? ldexp(en->var, k) : en->var;
}
/* Evaluation r of a cache entry (a slot), in the scaled space. */
static inline double ac__est_slot(const ac_estimator *e, uint32_t entry,
                                  uint32_t r)
{
    double v = e->cache.slots[(uint64_t)entry * e->cache.repeats + r];
    return e->vshift ? ldexp(v, -e->vshift) : v;
}
/* A value the host told that the method keeps itself (an extra
 * evaluation), in the scaled space. */
static inline double ac__est_scaled(const ac_estimator *e, double value)
{
    return e->vshift ? ldexp(value, -e->vshift) : value;
}
/* Whether the run was cancelled: a long computation (a fit, a table) looks
 * every so often and returns AC_E_CANCELLED, which ends the run. */
static inline int ac__est_cancelled(const ac_estimator *e)
{
    return atomic_load_explicit(&e->cancelled, memory_order_relaxed) != 0;
}

/* The game's whole table. Whether the budget pays for every coalition not
 * known, with a margin for retries; whether every coalition of the game is
 * in the cache; and the exact Shapley values (with noise errors) computed
 * from a complete cache. */
int ac__est_table_affordable(const ac_estimator *e);
/* The margin for retries that table costs `cost` evaluations: 2 + cost/32
 * with retries on, else 0 (the planner adds it too). */
int64_t ac__est_retry_margin(int64_t cost, int64_t max_retries);
int ac__est_cache_complete(const ac_estimator *e);
int ac__est_exact_from_cache(ac_estimator *e, double *phi, double *se);
/* From a complete cache: the table of every coalition's mean (by mask, in
 * the scaled space; AC_OK or AC_E_CANCELLED), and the variance of each
 * mean as the standard errors read it (credit/noise_model.h): NONE for a
 * deterministic oracle (var untouched: errors of 0), SEEN (var written),
 * or UNSEEN when the oracle was declared noisy but one evaluation of values
 * that are not 0/1 shows no noise (errors unknown: infinite). */
int ac__est_cache_means(ac_estimator *e, double *mean);
/* Whether every value the cache holds from the oracle (the host's units,
 * not scaled; known values aside) is 0 or 1: a rollout's success. */
int ac__est_cache_binary(const ac_estimator *e);
enum { AC__NOISE_NONE = 0, AC__NOISE_SEEN = 1, AC__NOISE_UNSEEN = 2 };
int ac__est_cache_noise(const ac_estimator *e, double *var);
/* The outcome of a sampled plan: COMPLETE when the cache reached every
 * coalition, else BUDGET. */
int ac__est_sampled_outcome(const ac_estimator *e);
/* v(all) - v(empty) from the cache: the total most methods conserve. */
double ac__est_cache_total(const ac_estimator *e, int host);

/* Interactions (estimator_interactions.c). Whether the run may start with
 * AC_ESTIMATOR_PARAM_INTERACTIONS on its method (the refusal's status and
 * message otherwise); the interactions at the end of a run whose estimate
 * is in (e->inter, e->inter_se: set, or left NULL when the method ended
 * without them); and those of a complete cache, in the scaled space. */
int ac__est_interactions_check(ac_estimator *e);
int ac__est_interactions_finish(ac_estimator *e);
int ac__est_interactions_from_cache(ac_estimator *e, double *index,
                                    double *se);

/* Parameters: defaults, and the table behind the typed setters. */
void ac__params_default(ac__params *p);
/* The parameters' table (the pipeline keeps them with it too). */
extern const struct ac__param_table ac__estimator_param_table;

#endif
