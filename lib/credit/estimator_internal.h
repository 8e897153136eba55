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

#include <stdatomic.h>
#include <stdint.h>

#include "agentcredit.h"
#include "common/alloc.h"
#include "credit/coalition_cache.h"
#include "common/errors.h"
#include "common/rng.h"

/* What extend() reports. */
enum {
    AC__PLAN_OVER = 0, /* nothing more will be planned                    */
    AC__PLAN_GREW = 1, /* more evaluations were queued                    */
    AC__PLAN_WAIT = 2  /* the next plan needs the outstanding values first */
};

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
     * are n long; the core makes phi conserve afterwards. */
    int (*estimate)(ac_estimator *e, double *phi, double *se);
    void (*end)(ac_estimator *e);
    /* Whether the plan is at a point where estimate() means something (NULL:
     * always). Error-target checkpoints wait for it. */
    int (*settled)(const ac_estimator *e);
    /* The stop reason when extend() ends the plan (COMPLETE or BUDGET). */
    int exhausted_reason;
    /* Methods that re-evaluate cached coalitions (ac__est_request_extra)
     * take those values here; NaN marks an extra evaluation given up after
     * its retries. NULL for the others. Such a method also computes its own
     * estimate when the cache holds every coalition, and says why its plan
     * ended (stop_reason). */
    void (*take_extra)(ac_estimator *e, uint32_t serial, double value);
    int (*stop_reason)(const ac_estimator *e);
    /* The total the credits conserve, v(all) - v(empty), when the method's
     * own values of the two differ from the cache's (its extra evaluations
     * of them); read after estimate(). NULL: the cache's. */
    double (*delta)(const ac_estimator *e);
} ac__method_ops;

extern const ac__method_ops ac__method_exact;
extern const ac__method_ops ac__method_permutation;
extern const ac__method_ops ac__method_kernelshap;
extern const ac__method_ops ac__method_adaptive;
extern const ac__method_ops ac__method_oddshap;

/* The coalitions a KernelSHAP plan (also OddSHAP's) evaluated, each with its
 * weight in the KernelSHAP regression (failed ones left out; a sampled pair
 * drawn twice appears twice). entries and weights need room for
 * ac__kernel_design_size() items. */
uint32_t ac__kernel_design_size(const ac_estimator *e);
int ac__kernel_design(const ac_estimator *e, uint32_t *entries,
                      double *weights, uint32_t *count);
/* KernelSHAP's estimate; OddSHAP falls back on it when the pairs outnumber
 * its fit (known values in the enumerated layers are free rows). */
int ac__kernel_estimate(ac_estimator *e, double *phi, double *se);
/* OddSHAP's estimate over that design (method_oddshap.c). */
int ac__oddshap_estimate(ac_estimator *e, double *phi, double *se);
/* Whether the budget keeps OddSHAP's fit to AC_ODDSHAP_MAX_ROWS rows (one
 * per pair, plus N): AUTO's test and OddSHAP's own. */
int ac__oddshap_affordable(const ac_estimator *e);

typedef struct ac__slot {
    uint32_t entry;
    uint32_t rep;
    uint32_t tries; /* earlier failed attempts at this evaluation */
} ac__slot;

enum { AC__TICKET_OUT = 0, AC__TICKET_TOLD = 1 };

/* A ticket is (session << AC__TICKET_BITS) | index: a late tell from a reset
 * session cannot land in the next one. */
#define AC__TICKET_BITS 40
#define AC__TICKET_MASK ((UINT64_C(1) << AC__TICKET_BITS) - 1)

typedef struct ac__ticket {
    uint32_t entry;
    uint32_t rep;
    uint32_t state;
    uint32_t tries;
} ac__ticket;

enum { AC__PHASE_IDLE, AC__PHASE_RUNNING, AC__PHASE_DONE, AC__PHASE_FAILED };

typedef struct ac__params {
    int64_t method, budget, seed, batch, repeats, max_retries, noisy;
    double target_se;
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
    const ac__method_ops *ops;
    int method_used;
    void *mstate;
    ac__cache cache;
    ac__rng rng;
    ac__slot *queue;       /* evaluations planned, not yet handed out  */
    size_t q_head, q_len, q_cap;
    ac__ticket *tickets;
    uint64_t n_tickets, ticket_cap, outstanding;
    uint64_t session;      /* counts resets: the tickets' high bits      */
    int64_t committed;     /* evaluations queued or handed out         */
    int plan_over;         /* extend() said no more                    */
    int plan_wait;         /* extend() waits for the outstanding values */
    uint32_t free_units;   /* consecutive sampled units that cost 0    */
    int at_checkpoint;     /* waiting to test the standard-error target */
    int64_t next_checkpoint;
    int stop_reason;
    double *phi, *se;      /* the result, once DONE                    */
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
/* The value (mean) of a cache entry, and its variance. */
static inline double ac__est_value(const ac_estimator *e, uint32_t entry)
{
    return e->cache.entries[entry].mean;
}
static inline double ac__est_var(const ac_estimator *e, uint32_t entry)
{
    return e->cache.entries[entry].var;
}

/* Whether every coalition of the game is in the cache, and the exact
 * Shapley values (with noise errors) computed from it then. Any method
 * finishing with a complete cache reports these. */
int ac__est_cache_complete(const ac_estimator *e);
int ac__est_exact_from_cache(ac_estimator *e, double *phi, double *se);

/* Parameters: defaults, and the table behind the typed setters. */
void ac__params_default(ac__params *p);

#endif
