/* The estimator handle and its ask/tell core. ac_estimator_run() is a loop
 * over ask/tell with the host's oracle; there is no second implementation. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/answer.h"
#include "common/coalition.h"
#include "credit/conserve.h"
#include "credit/estimator_internal.h"
#include "credit/scale.h"

/* ------------------------------------------------------------------ */
/* Life cycle                                                          */
/* ------------------------------------------------------------------ */

int ac_estimator_create(ac_estimator **out, uint32_t n_players,
                        const ac_allocator *alloc)
{
    if (out == NULL || n_players == 0)
        return AC_E_INVALID_ARG;
    if (n_players > AC_MAX_PLAYERS)
        return AC_E_TOO_LARGE;
    ac__mem mem;
    int rc;
    ac_estimator *e = ac__mem_new_handle(alloc, sizeof *e, &mem, &rc);
    if (e == NULL)
        return rc;
    e->mem = mem;
    e->err = e->err_store;
    e->n = n_players;
    e->words = ac_coalition_words(n_players);
    ac__params_default(&e->p);
    ac__cache_init(&e->known, &e->mem, e->words, 1);
    ac__cache_init(&e->cache, &e->mem, e->words, 1);
    atomic_init(&e->cancelled, 0);
    ac__tickets_init(&e->tickets);
    e->phase = AC__PHASE_IDLE;
    *out = e;
    return AC_OK;
}

static void session_clear(ac_estimator *e)
{
    if (e->method != NULL)
        e->method->ops->end(e);
    e->method = NULL;
    e->mstate = NULL;
    ac__cache_free(&e->cache);
    ac__mem_free(&e->mem, e->queue);
    ac__mem_free(&e->mem, e->phi);
    ac__mem_free(&e->mem, e->se);
    ac__mem_free(&e->mem, e->inter);
    ac__mem_free(&e->mem, e->inter_se);
    e->queue = NULL;
    e->phi = e->se = NULL;
    e->inter = e->inter_se = NULL;
    e->q_head = e->q_len = e->q_cap = 0;
    ac__tickets_clear(&e->tickets, &e->mem); /* earlier tickets go stale */
    e->committed = 0;
    e->plan_over = e->plan_wait = e->at_checkpoint = 0;
    e->free_units = 0;
    e->next_checkpoint = 0;
    e->outcome = AC_ESTIMATOR_OUTCOME_PENDING;
    e->method_used = AC_METHOD_AUTO;
    e->n_coalitions = e->n_repeats = e->cache_hits = e->rounds = 0;
    e->failures = e->retries = e->samples = e->dropped = 0;
    e->fail_status = AC_OK;
    e->vmax = 0.0;
    e->vshift = 0;
    e->phase = AC__PHASE_IDLE;
    e->err[0] = '\0';
    atomic_store(&e->cancelled, 0);
}

void ac_estimator_free(ac_estimator *est)
{
    if (est == NULL)
        return;
    session_clear(est);
    ac__cache_free(&est->known);
    ac__mem mem = est->mem;
    ac__mem_free(&mem, est);
}

int ac_estimator_reset(ac_estimator *est, uint32_t what)
{
    if (est == NULL)
        return AC_E_INVALID_ARG;
    if (est->busy)
        return ac__fail(est->err, AC_E_BUSY,
                        "the estimator cannot be reset from inside its oracle");
    int rc = ac__reset_check(what, est->phase, est->err);
    if (rc != AC_OK)
        return rc;
    if (what & AC_RESET_SESSION)
        session_clear(est);
    if (what & AC_RESET_PARAMS)
        ac__params_default(&est->p);
    if (what & AC_RESET_KNOWN)
        ac__cache_free(&est->known);
    return AC_OK;
}

const char *ac_estimator_last_error(const ac_estimator *est)
{
    return est ? est->err : "invalid estimator handle (NULL)";
}

void ac_estimator_cancel(ac_estimator *est)
{
    if (est != NULL)
        atomic_store(&est->cancelled, 1);
}

/* Common entry checks of the mutating calls. */
static int check_handle(ac_estimator *e, const char *what)
{
    if (e == NULL)
        return AC_E_INVALID_ARG;
    if (e->busy)
        return ac__fail(e->err, AC_E_BUSY,
                        "%s called from inside this estimator's oracle", what);
    return AC_OK;
}

int ac_estimator_set_value(ac_estimator *est, const uint64_t *coalition,
                           uint32_t words, double value)
{
    int rc = check_handle(est, "ac_estimator_set_value");
    if (rc != AC_OK)
        return rc;
    if (coalition == NULL)
        return ac__fail(est->err, AC_E_INVALID_ARG, "coalition is NULL");
    if (words != est->words)
        return ac__fail(est->err, AC_E_INVALID_ARG,
                        "coalition has %u words; %u players need %u", words,
                        est->n, est->words);
    if (!ac__coalition_valid(coalition, words, est->n))
        return ac__fail(est->err, AC_E_INVALID_ARG,
                        "coalition has a bit set at or beyond player %u",
                        est->n);
    if (!isfinite(value))
        return ac__fail(est->err, AC_E_INVALID_ARG,
                        "known value %g is not finite", value);
    if ((rc = ac__check_idle(est->phase, "ac_estimator_set_value",
                             est->err)) != AC_OK)
        return rc;
    uint32_t i = ac__cache_find(&est->known, coalition);
    if (i == AC__NO_ENTRY) {
        rc = ac__cache_insert(&est->known, coalition, &i);
        if (rc != AC_OK)
            return ac__fail(est->err, rc, "cannot store the known value: %s",
                            ac_strerror(rc));
    }
    est->known.entries[i].state = AC__ENTRY_KNOWN;
    est->known.entries[i].mean = value;
    est->known.entries[i].var = 0.0;
    return AC_OK;
}

int ac_estimator_set_oracle(ac_estimator *est, ac_oracle_fn fn, void *user)
{
    int rc = check_handle(est, "ac_estimator_set_oracle");
    if (rc != AC_OK)
        return rc;
    est->oracle = fn;
    est->oracle_user = user;
    return AC_OK;
}

/* ------------------------------------------------------------------ */
/* Services for the methods                                            */
/* ------------------------------------------------------------------ */

int64_t ac__est_remaining(const ac_estimator *e)
{
    return e->p.budget - e->committed;
}

#define FREE_UNITS_MAX 256u

int ac__est_free_unit_ok(ac_estimator *e, int64_t cost)
{
    e->free_units = cost == 0 ? e->free_units + 1 : 0;
    return e->free_units <= FREE_UNITS_MAX;
}

int ac__est_sampled_outcome(const ac_estimator *e)
{
    return ac__est_cache_complete(e) ? AC_ESTIMATOR_OUTCOME_COMPLETE
                                     : AC_ESTIMATOR_OUTCOME_BUDGET;
}

double ac__est_cache_total(const ac_estimator *e, int host)
{
    if (host)
        return e->cache.entries[e->grand_entry].mean -
               e->cache.entries[e->empty_entry].mean;
    return ac__est_value(e, e->grand_entry) - ac__est_value(e, e->empty_entry);
}

int64_t ac__est_cost(const ac_estimator *e, const uint64_t *key)
{
    return ac__cache_find(&e->cache, key) == AC__NO_ENTRY ? e->p.repeats : 0;
}

static int queue_push(ac_estimator *e, uint32_t entry, uint32_t rep,
                      uint32_t tries)
{
    if (e->q_head + e->q_len == e->q_cap) {
        if (e->q_head > 0) {
            memmove(e->queue, e->queue + e->q_head, e->q_len * sizeof *e->queue);
            e->q_head = 0;
        } else {
            size_t cap = e->q_cap ? e->q_cap * 2 : 256;
            int rc = ac__mem_grow(&e->mem, (void **)&e->queue, e->q_len, cap,
                                  sizeof *e->queue);
            if (rc != AC_OK)
                return rc;
            e->q_cap = cap;
        }
    }
    e->queue[e->q_head + e->q_len].entry = entry;
    e->queue[e->q_head + e->q_len].rep = rep;
    e->queue[e->q_head + e->q_len].tries = tries;
    e->q_len++;
    return AC_OK;
}

int ac__est_request(ac_estimator *e, const uint64_t *key, int essential,
                    uint32_t *entry)
{
    uint32_t i = ac__cache_find(&e->cache, key);
    if (i != AC__NO_ENTRY) {
        e->cache_hits++;
        e->cache.entries[i].essential |= (uint32_t)essential;
        *entry = i;
        return AC_OK;
    }
    /* The budget is a hard cap: retries may have used what a method planned
     * on when it chose its plan. */
    if (ac__est_remaining(e) < e->p.repeats)
        return ac__fail(e->err, AC_E_BUDGET,
                        "the budget of %lld evaluations is spent (%lld went "
                        "to retries of failed evaluations) before the plan "
                        "was complete", (long long)e->p.budget,
                        (long long)e->retries);
    int rc = ac__cache_insert(&e->cache, key, &i);
    if (rc == AC_OK)
        e->cache.entries[i].essential = (uint32_t)essential;
    for (uint32_t r = 0; rc == AC_OK && r < (uint32_t)e->p.repeats; r++)
        rc = queue_push(e, i, r, 0);
    if (rc != AC_OK)
        return ac__fail(e->err, rc, "cannot plan an evaluation: %s",
                        ac_strerror(rc));
    e->committed += e->p.repeats;
    e->n_coalitions++;
    e->n_repeats += e->p.repeats - 1;
    *entry = i;
    return AC_OK;
}

int ac__est_request_extra(ac_estimator *e, uint32_t entry, uint32_t serial)
{
    if (e->method->ops->take_extra == NULL) /* its value would go nowhere */
        return ac__fail(e->err, AC_E_STATE,
                        "the %s method has no take_extra operation",
                        e->method->name);
    if (ac__est_remaining(e) < 1)
        return ac__fail(e->err, AC_E_BUDGET,
                        "the budget of %lld evaluations is spent",
                        (long long)e->p.budget);
    int rc = queue_push(e, entry, e->cache.repeats + serial, 0);
    if (rc != AC_OK)
        return ac__fail(e->err, rc, "cannot plan an evaluation: %s",
                        ac_strerror(rc));
    e->committed++;
    e->n_repeats++;
    return AC_OK;
}

/* ------------------------------------------------------------------ */
/* Starting and finishing a run                                        */
/* ------------------------------------------------------------------ */

/* A value enters the run: the scaled space follows the largest. */
static void note_value(ac_estimator *e, double value)
{
    double mag = fabs(value);
    if (mag > e->vmax)
        e->vmax = mag;
}

static int copy_known(ac_estimator *e)
{
    for (uint32_t k = 0; k < e->known.count; k++) {
        uint32_t i;
        int rc = ac__cache_insert(&e->cache, ac__cache_key(&e->known, k), &i);
        if (rc != AC_OK)
            return rc;
        e->cache.entries[i] = e->known.entries[k];
        note_value(e, e->known.entries[k].mean);
    }
    e->vshift = ac__scale_shift(e->vmax);
    return AC_OK;
}

/* AUTO takes the first entry of the table that is affordable; an explicit
 * method is looked up by its id (the parameter's bounds are the ids). */
static const ac__method *choose_method(const ac_estimator *e)
{
    for (uint32_t k = 0; k < ac__n_methods; k++) {
        const ac__method *m = ac__methods[k];
        if (e->p.method != AC_METHOD_AUTO ? m->id == e->p.method
                                          : m->affordable(e) &&
                                                (e->p.target_se == 0.0 ||
                                                 m->checkpoints))
            return m;
    }
    return NULL;
}

/* A method that cannot stop early cannot honour an error target: refused,
 * rather than spending the budget the host meant to save. */
static int refuse_target(ac_estimator *e)
{
    return ac__fail(e->err, AC_E_INVALID_ARG,
                    "the %s method evaluates every coalition and cannot stop "
                    "on AC_ESTIMATOR_PARAM_TARGET_SE (%g): set it to 0, or "
                    "take AC_METHOD_AUTO, AC_METHOD_ADAPTIVE (a noisy oracle) "
                    "or a sampled method",
                    e->method->name, e->p.target_se);
}

static int fail_run(ac_estimator *e, int status, int reason)
{
    e->phase = AC__PHASE_FAILED;
    e->fail_status = status;
    e->outcome = reason;
    return status;
}

/* A run that cannot start has not started: the handle goes back to idle,
 * keeping the message, so the host can change what was refused (the budget,
 * the method, the known values) and ask again without a reset. */
static int refuse_start(ac_estimator *e, int status)
{
    char why[AC__ERRMSG_CAP];
    memcpy(why, e->err, sizeof why);
    int cancelled = atomic_load(&e->cancelled);
    session_clear(e);
    memcpy(e->err, why, sizeof why);
    atomic_store(&e->cancelled, cancelled);
    return status;
}

static int start_run(ac_estimator *e)
{
    e->cache.repeats = (uint32_t)e->p.repeats;
    ac__rng_seed(&e->rng, (uint64_t)e->p.seed);
    int rc = copy_known(e);
    if (rc != AC_OK) {
        ac__fail(e->err, rc, "cannot start the run: %s", ac_strerror(rc));
        return refuse_start(e, rc);
    }
    if ((e->method = choose_method(e)) == NULL) {
        ac__fail(e->err, AC_E_INVALID_ARG, "no method %lld%s",
                 (long long)e->p.method,
                 e->p.method == AC_METHOD_AUTO ? " is affordable" : "");
        return refuse_start(e, AC_E_INVALID_ARG);
    }
    if (e->p.target_se > 0.0 && !e->method->checkpoints)
        return refuse_start(e, refuse_target(e));
    e->method_used = e->method->id;
    if ((rc = ac__est_interactions_check(e)) != AC_OK)
        return refuse_start(e, rc);
    /* v(empty) and v(all) enter every method's result (the total to
     * conserve), so they are requested first. */
    uint64_t key[AC_MAX_PLAYERS / 64];
    memset(key, 0, e->words * sizeof *key);
    int64_t cost = ac__est_cost(e, key);
    ac__coalition_fill(key, e->words, e->n);
    cost += ac__est_cost(e, key);
    if (cost > e->p.budget) {
        ac__fail(e->err, AC_E_BUDGET,
                 "v(empty) and v(all) are unknown and cost %lld evaluations; "
                 "the budget is %lld (give them with ac_estimator_set_value)",
                 (long long)cost, (long long)e->p.budget);
        return refuse_start(e, AC_E_BUDGET);
    }
    rc = ac__est_request(e, key, 1, &e->grand_entry);
    memset(key, 0, e->words * sizeof *key);
    if (rc == AC_OK)
        rc = ac__est_request(e, key, 1, &e->empty_entry);
    if (e->p.target_se > 0.0 && e->method->checkpoints) {
        int64_t first = 4 * (int64_t)e->n;
        e->next_checkpoint = first > 64 ? first : 64;
    }
    if (rc == AC_OK)
        rc = e->method->ops->begin(e);
    if (rc == AC_E_NO_MEMORY) /* the methods' allocations say nothing */
        ac__fail(e->err, rc, "no memory to start the %s method",
                 e->method->name);
    if (rc != AC_OK)
        return refuse_start(e, rc);
    e->phase = AC__PHASE_RUNNING;
    return AC_OK;
}

/* The method's estimate, or the estimate of the method that stands in for
 * it when it cannot fit its plan; *m becomes whose it is. */
static int method_estimate(ac_estimator *e, double *phi, double *se,
                           const ac__method **m)
{
    int rc = (*m)->ops->estimate(e, phi, se);
    while (rc == AC__FALL_BACK && (*m)->fallback != NULL) {
        *m = (*m)->fallback;
        rc = (*m)->ops->estimate(e, phi, se);
    }
    if (rc == AC__FALL_BACK)
        rc = ac__fail(e->err, AC_E_STATE,
                      "the %s estimate has no method to fall back on",
                      (*m)->name);
    return rc;
}

/* The run's estimate; *by receives the method whose estimate it is, which
 * the audit reports. */
static int estimate(ac_estimator *e, double *phi, double *se,
                    const ac__method **by)
{
    const ac__method *m = e->method;
    int rc;
    if (phi == NULL || se == NULL)
        rc = AC_E_NO_MEMORY;
    else if (m->exact_when_complete && ac__est_cache_complete(e))
        rc = ac__est_exact_from_cache(e, phi, se); /* the exact answer */
    else
        rc = method_estimate(e, phi, se, &m);
    *by = m;
    e->method_used = m->id;
    return rc;
}

/* A run cancelled while a method computed: it ends as a cancel between
 * two calls would have ended it. */
static int fail_estimate(ac_estimator *e, int rc)
{
    if (rc == AC_E_CANCELLED) {
        ac__fail(e->err, rc, "the run was cancelled (while the %s method "
                 "computed its estimate)", e->method->name);
        return fail_run(e, rc, AC_ESTIMATOR_OUTCOME_CANCELLED);
    }
    /* Keep the method's own explanation when it gave one. */
    char why[AC__ERRMSG_CAP];
    snprintf(why, sizeof why, "%s", e->err[0] ? e->err : ac_strerror(rc));
    ac__fail(e->err, rc, "cannot compute the estimate: %s", why);
    return fail_run(e, rc, AC_ESTIMATOR_OUTCOME_ERROR);
}

/* Refuses a result a double cannot hold: AC_E_TOO_LARGE naming the number
 * and its magnitude (x 2^k in the host's units). */
static int not_representable(ac_estimator *e, const char *name, double x,
                             const ac__method *by)
{
    if (isfinite(x))
        return ac__fail(e->err, AC_E_TOO_LARGE,
                        "%s is about %s1e%.1f, beyond the largest double "
                        "(1.8e308): the game's values reach %.3g in "
                        "magnitude", name, x < 0.0 ? "-" : "",
                        ac__scale_log10(x, e->vshift), e->vmax);
    return ac__fail(e->err, AC_E_TOO_LARGE,
                    "%s is %g in the %s method's arithmetic: the game's "
                    "values (up to %.3g in magnitude) are beyond what it "
                    "can compute", name, x, by->name, e->vmax);
}

/* The estimate in the host's units: phi and se (conserving `total` in the
 * scaled space) are multiplied by 2^vshift and conserve `host_total`, and
 * every figure is checked. A credit and the total must be finite; a
 * standard error finite, or the +inf a method sets when it had too few
 * samples to estimate it. AC_E_TOO_LARGE otherwise, nothing written to
 * the result. */
static int to_host_units(ac_estimator *e, double *phi, double *se,
                         double total, double host_total,
                         const ac__method *by)
{
    int k = e->vshift;
    char name[64];
    if (!isfinite(total) || !isfinite(host_total))
        return not_representable(e, "v(all) - v(empty)", total, by);
    for (uint32_t i = 0; i < e->n; i++) {
        if (!isfinite(phi[i]) || !isfinite(ldexp(phi[i], k))) {
            snprintf(name, sizeof name, "the credit of player %u", i);
            return not_representable(e, name, phi[i], by);
        }
        if (se[i] != INFINITY && !isfinite(ldexp(se[i], k))) {
            snprintf(name, sizeof name, "the standard error of player %u", i);
            return not_representable(e, name, se[i], by);
        }
    }
    ac__conserve_unscale(phi, se, e->n, host_total, k);
    return AC_OK;
}

static int finish_run(ac_estimator *e, int reason)
{
    double *phi = ac__mem_alloc(&e->mem, e->n, sizeof *phi);
    double *se = ac__mem_alloc(&e->mem, e->n, sizeof *se);
    e->err[0] = '\0'; /* a message now is the estimate's own */
    const ac__method *by;
    int rc = estimate(e, phi, se, &by);
    if (rc == AC_OK) {
        double total = by->ops->total(e, 0);
        ac__conserve(phi, se, e->n, total);
        rc = to_host_units(e, phi, se, total, by->ops->total(e, 1), by);
        if (rc == AC_OK && (rc = ac__est_interactions_finish(e)) != AC_OK &&
            rc != AC_E_TOO_LARGE) {
            ac__mem_free(&e->mem, phi);
            ac__mem_free(&e->mem, se);
            return fail_estimate(e, rc);
        }
        if (rc != AC_OK) {
            ac__mem_free(&e->mem, phi);
            ac__mem_free(&e->mem, se);
            return fail_run(e, rc, AC_ESTIMATOR_OUTCOME_ERROR);
        }
    }
    if (rc != AC_OK) {
        ac__mem_free(&e->mem, phi);
        ac__mem_free(&e->mem, se);
        return fail_estimate(e, rc);
    }
    ac__mem_free(&e->mem, e->phi);
    ac__mem_free(&e->mem, e->se);
    e->phi = phi;
    e->se = se;
    e->phase = AC__PHASE_DONE;
    e->outcome = reason;
    return AC_OK;
}

/* At a checkpoint every planned evaluation is in: stop when every standard
 * error meets the target. Checkpoints sit at geometrically growing numbers of
 * committed evaluations, so where the run stops does not depend on how the
 * host batches its evaluations. */
static int test_target(ac_estimator *e, int *stopped)
{
    double *phi = ac__mem_alloc(&e->mem, e->n, sizeof *phi);
    double *se = ac__mem_alloc(&e->mem, e->n, sizeof *se);
    const ac__method *by;
    int rc = estimate(e, phi, se, &by);
    int met = 1;
    /* The target is in the host's units; an error that a double cannot
     * hold there does not meet it. */
    for (uint32_t i = 0; rc == AC_OK && i < e->n; i++)
        if (!(ldexp(se[i], e->vshift) <= e->p.target_se))
            met = 0;
    ac__mem_free(&e->mem, phi);
    ac__mem_free(&e->mem, se);
    if (rc == AC_E_CANCELLED)
        return fail_estimate(e, rc);
    if (rc != AC_OK) {
        ac__fail(e->err, rc, "cannot test the error target: %s",
                 ac_strerror(rc));
        return fail_run(e, rc, AC_ESTIMATOR_OUTCOME_ERROR);
    }
    *stopped = met;
    e->at_checkpoint = 0;
    /* The next point of the grid past what is committed: a plan that
     * jumped several points (a whole layer, a phase) has nothing new to
     * show at the ones in between. */
    while (e->next_checkpoint <= e->committed)
        e->next_checkpoint += e->next_checkpoint / 4 + 1;
    return met ? finish_run(e, AC_ESTIMATOR_OUTCOME_TARGET) : AC_OK;
}

/* ------------------------------------------------------------------ */
/* Ask / tell                                                          */
/* ------------------------------------------------------------------ */

/* Room for the tickets this ask can hand out from the queue now: the
 * evaluations planned (never more than the budget), not max_count, which
 * may be "as many as you have" (UINT32_MAX). The table grows as the plan
 * does, geometrically. */
static int reserve_tickets(ac_estimator *e, uint32_t wanted)
{
    uint64_t now = e->q_len < wanted ? e->q_len : wanted;
    return ac__tickets_reserve(&e->tickets, &e->mem, now);
}

static void issue_ticket(ac_estimator *e, uint64_t *ticket, uint64_t *dst)
{
    ac__slot s = e->queue[e->q_head];
    e->q_head++;
    e->q_len--;
    if (e->q_len == 0)
        e->q_head = 0;
    *ticket = ac__tickets_issue(&e->tickets, s.entry, s.rep, s.tries);
    memcpy(dst, ac__cache_key(&e->cache, s.entry), e->words * sizeof *dst);
}

/* Plans more work when the queue is empty; returns with e->plan_over or
 * e->at_checkpoint set when it cannot. */
static int plan_more(ac_estimator *e)
{
    if (e->next_checkpoint > 0 && e->committed >= e->next_checkpoint &&
        (e->method->ops->settled == NULL || e->method->ops->settled(e))) {
        e->at_checkpoint = 1;
        return AC_OK;
    }
    int grew = AC__PLAN_OVER;
    int rc = e->method->ops->extend(e, &grew);
    if (rc == AC_E_CANCELLED) {
        ac__fail(e->err, rc, "the run was cancelled (while the %s method "
                 "planned)", e->method->name);
        return fail_run(e, rc, AC_ESTIMATOR_OUTCOME_CANCELLED);
    }
    if (rc == AC_E_NO_MEMORY)
        ac__fail(e->err, rc, "no memory to plan the %s method's "
                 "evaluations", e->method->name);
    if (rc != AC_OK)
        return fail_run(e, rc, AC_ESTIMATOR_OUTCOME_ERROR);
    e->plan_over = grew == AC__PLAN_OVER;
    e->plan_wait = grew == AC__PLAN_WAIT;
    return AC_OK;
}

static int check_cancel(ac_estimator *e)
{
    if (!atomic_load(&e->cancelled) || e->phase == AC__PHASE_DONE)
        return AC_OK; /* a finished run keeps its result */
    if (e->phase == AC__PHASE_FAILED)
        return e->fail_status; /* ended already: its own error stands */
    ac__fail(e->err, AC_E_CANCELLED, "the run was cancelled");
    return fail_run(e, AC_E_CANCELLED, AC_ESTIMATOR_OUTCOME_CANCELLED);
}

/* No room for another ticket. AC_E_NO_MEMORY means nothing changed, or
 * the run ended failed: an ask that started the run and handed out nothing
 * (planning included) leaves the handle idle as it found it; one that
 * planned or handed out tickets ends the run, whose tickets the host never
 * received. */
static int no_ticket_room(ac_estimator *e, int started, int changed,
                          uint64_t wanted)
{
    ac__fail(e->err, AC_E_NO_MEMORY, "no memory for %llu more tickets",
             (unsigned long long)wanted);
    if (started)
        return refuse_start(e, AC_E_NO_MEMORY);
    if (changed)
        return fail_run(e, AC_E_NO_MEMORY, AC_ESTIMATOR_OUTCOME_ERROR);
    return AC_E_NO_MEMORY;
}

int ac_estimator_ask(ac_estimator *est, uint32_t max_count, uint64_t *tickets,
                     uint64_t *coalitions, uint32_t *count)
{
    int rc = check_handle(est, "ac_estimator_ask");
    if (rc != AC_OK)
        return rc;
    if (count == NULL || (max_count > 0 && (tickets == NULL || coalitions == NULL)))
        return ac__fail(est->err, AC_E_INVALID_ARG,
                        "ask needs count, and tickets and coalitions buffers");
    if (est->phase == AC__PHASE_FAILED)
        return est->fail_status;
    if ((rc = check_cancel(est)) != AC_OK)
        return rc;
    int started = est->phase == AC__PHASE_IDLE, planned = 0;
    if (started && (rc = start_run(est)) != AC_OK)
        return rc;
    uint32_t out = 0;
    while (est->phase == AC__PHASE_RUNNING) {
        if (est->q_len > 0) {
            if (out == max_count)
                break;
            /* Room is made before a ticket is handed out. */
            if (reserve_tickets(est, max_count - out) != AC_OK)
                return no_ticket_room(est, started, planned || out > 0,
                                      est->q_len < max_count - out
                                          ? est->q_len
                                          : max_count - out);
            issue_ticket(est, &tickets[out],
                         coalitions + (size_t)out * est->words);
            out++;
        } else if (atomic_load(&est->cancelled)) {
            /* Planning and estimating may take long: a cancel ends the run
             * before either starts. */
            return check_cancel(est);
        } else if (!est->plan_over && !est->at_checkpoint &&
                   !(est->plan_wait && est->tickets.outstanding > 0)) {
            planned = 1;
            if ((rc = plan_more(est)) != AC_OK)
                return rc;
        } else if (est->tickets.outstanding > 0) {
            break; /* the rest depends on values not yet told */
        } else if (est->at_checkpoint) {
            int stopped = 0;
            if ((rc = test_target(est, &stopped)) != AC_OK)
                return rc;
        } else {
            rc = finish_run(est, est->method->ops->outcome(est));
            if (rc != AC_OK)
                return rc;
        }
    }
    if (out > 0)
        est->rounds++;
    *count = out;
    return AC_OK;
}

/* A failed evaluation is retried while the coalition's retries and the
 * budget last. Then a sampled coalition is given up (the units that need it
 * are dropped, AC_ESTIMATOR_AUDIT_DROPPED), and an essential one ends the run:
 * AC_E_ORACLE out of retries, AC_E_BUDGET out of budget, with a message
 * naming the coalition and what the oracle returned. */
static int take_failure(ac_estimator *e, const ac__ticket *t, double value,
                        int32_t status)
{
    ac__entry *en = &e->cache.entries[t->item];
    e->failures++;
    /* A method's extra evaluation counts its own retries; the AC_ESTIMATOR_PARAM_REPEATS
     * evaluations of a coalition share theirs. */
    int extra = t->aux >= e->cache.repeats;
    en->failures += !extra;
    int retries_left = extra ? t->tries < (uint32_t)e->p.max_retries
                             : en->failures <= (uint32_t)e->p.max_retries;
    if (retries_left && ac__est_remaining(e) > 0 &&
        queue_push(e, t->item, t->aux, t->tries + 1) == AC_OK) {
        e->committed++;
        e->retries++;
        return AC_OK;
    }
    if (extra) { /* the method drops it */
        e->dropped++;
        e->method->ops->take_extra(e, t->aux - e->cache.repeats, NAN);
        return AC_OK;
    }
    if (!en->essential) {
        en->state = AC__ENTRY_FAILED;
        e->dropped++;
        return AC_OK;
    }
    char what[96], why[64];
    ac__coalition_format(ac__cache_key(&e->cache, t->item), e->n, what,
                         sizeof what);
    if (status != 0)
        snprintf(why, sizeof why, "status %d", (int)status);
    else
        snprintf(why, sizeof why, "value %g", value);
    int rc = retries_left ? AC_E_BUDGET : AC_E_ORACLE;
    ac__fail(e->err, rc,
             "the oracle failed on coalition %s (%s) %u time%s; %s", what, why,
             en->failures, en->failures == 1 ? "" : "s",
             retries_left ? "no budget is left to retry it, and the method "
                            "cannot do without it"
                          : "no retries are left (AC_ESTIMATOR_PARAM_MAX_RETRIES)");
    return fail_run(e, rc, AC_ESTIMATOR_OUTCOME_ERROR);
}

static int by_ticket(const void *a, const void *b)
{
    uint64_t x = ((const uint64_t *)a)[0], y = ((const uint64_t *)b)[0];
    return x < y ? -1 : x > y;
}

/* Failures of one call are handled in ticket order, so that the order of
 * the tells within a call never changes which failure gets the last of the
 * budget. Successes go to their slots, where order does not matter. */
static void take_values(ac_estimator *e, uint32_t count,
                        const uint64_t *tickets, const double *values,
                        const int32_t *status, uint64_t *failed)
{
    uint32_t n_failed = 0;
    ac__tickets_told(&e->tickets, count, tickets);
    for (uint32_t k = 0; k < count; k++) {
        const ac__ticket *t = ac__tickets_find(&e->tickets, tickets[k]);
        if (ac__est_failed(e, t->item))
            continue; /* given up already: a late repeat changes nothing */
        if (ac__answer_failed(status, values, k)) {
            failed[2 * n_failed] = tickets[k];
            failed[2 * n_failed++ + 1] = k;
        } else if (t->aux >= e->cache.repeats) {
            note_value(e, values[k]);
            e->method->ops->take_extra(e, t->aux - e->cache.repeats,
                                       values[k]);
        } else {
            note_value(e, values[k]);
            ac__cache_store(&e->cache, t->item, t->aux, values[k]);
        }
    }
    e->vshift = ac__scale_shift(e->vmax);
    if (n_failed > 1)
        qsort(failed, n_failed, 2 * sizeof *failed, by_ticket);
    for (uint32_t f = 0; f < n_failed && e->phase == AC__PHASE_RUNNING; f++) {
        uint32_t k = (uint32_t)failed[2 * f + 1];
        take_failure(e, ac__tickets_find(&e->tickets, failed[2 * f]),
                     values[k], status ? status[k] : 0);
    }
}

int ac_estimator_tell(ac_estimator *est, uint32_t count,
                      const uint64_t *tickets, const double *values,
                      const int32_t *status)
{
    int rc = check_handle(est, "ac_estimator_tell");
    if (rc != AC_OK)
        return rc;
    if (count > 0 && (tickets == NULL || values == NULL))
        return ac__fail(est->err, AC_E_INVALID_ARG,
                        "tell needs tickets and values");
    if (est->phase == AC__PHASE_FAILED)
        return est->fail_status;
    if (est->phase != AC__PHASE_RUNNING)
        return ac__fail(est->err, AC_E_STATE, "no run is waiting for values");
    /* The whole call is checked before any of it is taken. */
    if ((rc = ac__tickets_check(&est->tickets, count, tickets, est->err)) !=
        AC_OK)
        return rc;
    uint32_t n_failed = 0;
    for (uint32_t k = 0; k < count; k++)
        n_failed += (uint32_t)ac__answer_failed(status, values, k);
    uint64_t *failed = NULL; /* sorted by ticket: only failures need it */
    if (n_failed > 0 &&
        (failed = ac__mem_alloc(&est->mem, 2 * (size_t)n_failed,
                                sizeof *failed)) == NULL)
        return ac__fail(est->err, AC_E_NO_MEMORY,
                        "no memory to take %u failed evaluations", n_failed);
    take_values(est, count, tickets, values, status, failed);
    ac__tickets_compact(&est->tickets);
    ac__mem_free(&est->mem, failed);
    return est->phase == AC__PHASE_FAILED ? est->fail_status : AC_OK;
}

/* ------------------------------------------------------------------ */
/* The callback driver                                                 */
/* ------------------------------------------------------------------ */

static int call_oracle(ac_estimator *e, ac__batch *b, uint32_t count)
{
    ac__answer_prefill(b->values, b->status, count);
    e->busy = 1;
    int r = e->oracle(e->oracle_user, b->items, e->words, count, b->values,
                      b->status);
    e->busy = 0;
    if (r != 0) {
        ac__fail(e->err, AC_E_CALLBACK, "the oracle callback returned %d", r);
        return fail_run(e, AC_E_CALLBACK, AC_ESTIMATOR_OUTCOME_ERROR);
    }
    int rc = ac_estimator_tell(e, count, b->tickets, b->values, b->status);
    /* A tell that took nothing (no memory) would leave tickets only run()
     * knows outstanding for good: the run ends instead. */
    if (rc != AC_OK && e->phase == AC__PHASE_RUNNING)
        return fail_run(e, rc, AC_ESTIMATOR_OUTCOME_ERROR);
    return rc;
}

int ac_estimator_run(ac_estimator *est)
{
    int rc = check_handle(est, "ac_estimator_run");
    if (rc != AC_OK)
        return rc;
    if (est->phase == AC__PHASE_FAILED)
        return est->fail_status;
    if (est->phase == AC__PHASE_DONE)
        return AC_OK;
    int64_t width = est->p.batch;
    if (width > est->p.budget && est->p.budget > 0)
        width = est->p.budget;
    ac__batch b;
    rc = ac__batch_alloc(&b, &est->mem, (uint32_t)width,
                         est->words * sizeof(uint64_t), est->err);
    if (rc != AC_OK)
        return rc;
    for (;;) {
        uint32_t count = 0;
        /* Without an oracle, ask for nothing: a ticket handed out here
         * could never be told. Asking for none still finishes a run whose
         * every value is known. */
        rc = ac_estimator_ask(est, est->oracle != NULL ? (uint32_t)width : 0,
                              b.tickets, b.items, &count);
        if (rc != AC_OK || count == 0)
            break;
        rc = call_oracle(est, &b, count);
        if (rc == AC_OK)
            rc = check_cancel(est);
        if (rc != AC_OK)
            break;
    }
    ac__batch_free(&b, &est->mem);
    if (rc == AC_OK && est->phase != AC__PHASE_DONE)
        rc = est->oracle == NULL && est->tickets.outstanding == 0
                 ? ac__fail(est->err, AC_E_STATE,
                            "no oracle: call ac_estimator_set_oracle, or "
                            "drive the run with ask/tell")
                 : ac__fail(est->err, AC_E_STATE,
                            "the run is waiting for %llu evaluations asked "
                            "outside ac_estimator_run; tell them first",
                            (unsigned long long)est->tickets.outstanding);
    return rc;
}

/* ------------------------------------------------------------------ */
/* Results                                                             */
/* ------------------------------------------------------------------ */

int ac_estimator_progress(const ac_estimator *est, int32_t *done,
                          uint64_t *outstanding)
{
    if (est == NULL)
        return AC_E_INVALID_ARG;
    ac__progress(est->phase, &est->tickets, done, outstanding);
    return AC_OK;
}

int ac_estimator_result(const ac_estimator *est, double *phi, double *se,
                        uint32_t n)
{
    if (est == NULL || phi == NULL)
        return AC_E_INVALID_ARG;
    if (n != est->n)
        return ac__fail(est->err, AC_E_INVALID_ARG,
                        "result has %u players, not %u", n, est->n);
    if (est->phase != AC__PHASE_DONE)
        return ac__fail(est->err, AC_E_STATE,
                        est->phase == AC__PHASE_FAILED
                            ? "the run failed: no result"
                            : "the run is not finished: no result yet");
    memcpy(phi, est->phi, n * sizeof *phi);
    if (se)
        memcpy(se, est->se, n * sizeof *se);
    return AC_OK;
}

int ac_estimator_audit(const ac_estimator *est, ac_estimator_audit_key key,
                       int64_t *value)
{
    if (est == NULL || value == NULL)
        return AC_E_INVALID_ARG;
    int64_t evaluations = (int64_t)est->tickets.issued;
    switch (key) {
    case AC_ESTIMATOR_AUDIT_METHOD: *value = est->method_used; break;
    case AC_ESTIMATOR_AUDIT_EVALUATIONS: *value = evaluations; break;
    case AC_ESTIMATOR_AUDIT_COALITIONS: *value = est->n_coalitions; break;
    case AC_ESTIMATOR_AUDIT_REPEATS: *value = est->n_repeats; break;
    case AC_ESTIMATOR_AUDIT_CACHE_HITS: *value = est->cache_hits; break;
    case AC_ESTIMATOR_AUDIT_ROUNDS: *value = est->rounds; break;
    case AC_ESTIMATOR_AUDIT_FAILURES: *value = est->failures; break;
    case AC_ESTIMATOR_AUDIT_RETRIES: *value = est->retries; break;
    case AC_ESTIMATOR_AUDIT_OUTCOME: *value = est->outcome; break;
    case AC_ESTIMATOR_AUDIT_SAMPLES: *value = est->samples; break;
    case AC_ESTIMATOR_AUDIT_KNOWN: *value = est->known.count; break;
    case AC_ESTIMATOR_AUDIT_BUDGET: *value = est->p.budget; break;
    case AC_ESTIMATOR_AUDIT_DROPPED: *value = est->dropped; break;
    default: return AC_E_INVALID_ARG;
    }
    return AC_OK;
}
