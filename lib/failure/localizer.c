/* The first-error localizer: life cycle, inputs, the ask/tell loop and its
 * callback driver, results. The strategies and the posterior are in
 * localizer_search.c, blame and flags in localizer_blame.c, preference
 * pairs in repair_pair.c. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/ksum.h"
#include "failure/localizer_internal.h"

#define MAX_MESSAGES (1u << 24)

/* ------------------------------------------------------------------ */
/* Life cycle                                                          */
/* ------------------------------------------------------------------ */

static void release_known(ac_localizer *l)
{
    ac__mem_free(&l->mem, l->agent_of);
    ac__mem_free(&l->mem, l->prior);
    ac__mem_free(&l->mem, l->scores);
    l->agent_of = NULL;
    l->prior = l->scores = NULL;
}

void ac_localizer_free(ac_localizer *loc)
{
    if (loc == NULL)
        return;
    release_known(loc);
    void *arrays[] = {loc->post, loc->answer_sum, loc->answers,
                      loc->failures, loc->round, loc->plan, loc->cdf,
                      loc->picked, loc->pending, loc->flags};
    for (size_t i = 0; i < sizeof arrays / sizeof arrays[0]; i++)
        ac__mem_free(&loc->mem, arrays[i]);
    ac__tickets_clear(&loc->tickets, &loc->mem);
    ac__mem mem = loc->mem;
    ac__mem_free(&mem, loc);
}

static void clear_session(ac_localizer *l)
{
    ac__tickets_clear(&l->tickets, &l->mem); /* earlier tickets go stale */
    l->phase = AC__PHASE_IDLE;
    l->scanning = 0;
    l->scan_stopped = AC_OK;
    l->strategy = (int)l->p.strategy;
    l->outcome = AC_LOCALIZER_OUTCOME_PENDING;
    l->fail_status = AC_OK;
    memset(l->answer_sum, 0, l->n * sizeof *l->answer_sum);
    memset(l->answers, 0, l->n * sizeof *l->answers);
    memset(l->failures, 0, l->n * sizeof *l->failures);
    memset(l->flags, 0, l->n * sizeof *l->flags);
    l->round_len = l->round_handed = l->round_told = 0;
    l->pending_len = 0;
    l->restrict_due = 0;
    l->lo = -1;
    l->hi = l->n;
    l->scan = 0;
    l->step = -1;
    l->prob = 0.0;
    l->calls = l->rounds = l->search_calls = l->search_rounds = 0;
    l->scan_calls = l->failed_answers = l->retries = 0;
    l->repair_candidates = l->repair_checks = 0;
    l->scan_complete = 0;
    l->have_pair = 0;
    atomic_store(&l->cancelled, 0);
    l->err[0] = '\0';
}

int ac_localizer_create(ac_localizer **out, uint32_t n_messages,
                        const ac_allocator *alloc)
{
    if (out == NULL || n_messages == 0)
        return AC_E_INVALID_ARG;
    if (n_messages > MAX_MESSAGES)
        return AC_E_TOO_LARGE;
    ac__mem mem;
    int rc;
    ac_localizer *l = ac__mem_new_handle(alloc, sizeof *l, &mem, &rc);
    if (l == NULL)
        return rc;
    l->mem = mem;
    l->err = l->err_store;
    l->n = n_messages;
    ac__localizer_params_default(&l->p);
    /* Everything a run needs but its round is allocated here. */
    l->post = ac__mem_alloc(&mem, (size_t)n_messages + 1, sizeof *l->post);
    l->answer_sum = ac__mem_alloc(&mem, n_messages, sizeof *l->answer_sum);
    l->answers = ac__mem_alloc(&mem, n_messages, sizeof *l->answers);
    l->failures = ac__mem_alloc(&mem, n_messages, sizeof *l->failures);
    l->flags = ac__mem_alloc(&mem, n_messages, sizeof *l->flags);
    if (!l->post || !l->answer_sum || !l->answers || !l->failures ||
        !l->flags) {
        ac_localizer_free(l);
        return AC_E_NO_MEMORY;
    }
    atomic_init(&l->cancelled, 0);
    ac__tickets_init(&l->tickets);
    clear_session(l);
    *out = l;
    return AC_OK;
}

int ac__localizer_check(ac_localizer *loc, const char *what)
{
    if (loc == NULL)
        return AC_E_INVALID_ARG;
    if (loc->busy)
        return ac__fail(loc->err, AC_E_BUSY,
                        "%s called from inside this localizer's callback",
                        what);
    return AC_OK;
}

int ac_localizer_reset(ac_localizer *loc, uint32_t what)
{
    int rc = ac__localizer_check(loc, "ac_localizer_reset");
    if (rc != AC_OK)
        return rc;
    if ((rc = ac__reset_check(what, loc->phase, loc->err)) != AC_OK)
        return rc;
    if (what & AC_RESET_SESSION)
        clear_session(loc);
    if (what & AC_RESET_PARAMS)
        ac__localizer_params_default(&loc->p);
    if (what & AC_RESET_KNOWN)
        release_known(loc);
    return AC_OK;
}

void ac_localizer_cancel(ac_localizer *loc)
{
    if (loc != NULL)
        atomic_store(&loc->cancelled, 1);
}

const char *ac_localizer_last_error(const ac_localizer *loc)
{
    return loc ? loc->err : "invalid localizer handle (NULL)";
}

/* ------------------------------------------------------------------ */
/* Inputs                                                              */
/* ------------------------------------------------------------------ */

/* The common checks of an input: handle, not running, the length. */
static int check_input(ac_localizer *l, const void *p, uint32_t len,
                       uint32_t want, const char *what)
{
    int rc = ac__localizer_check(l, what);
    if (rc == AC_OK)
        rc = ac__check_idle(l->phase, what, l->err);
    if (rc != AC_OK)
        return rc;
    if (p == NULL)
        return ac__fail(l->err, AC_E_INVALID_ARG, "%s: the array is NULL",
                        what);
    if (len != want)
        return ac__fail(l->err, AC_E_INVALID_ARG,
                        "%s: %u entries given, %u expected", what, len, want);
    return AC_OK;
}

/* Copies len elements into *slot, allocated on first use; nothing changes
 * on failure. */
static int keep_copy(ac_localizer *l, void **slot, const void *src,
                     size_t len, size_t size, const char *what)
{
    if (*slot == NULL && (*slot = ac__mem_alloc(&l->mem, len, size)) == NULL)
        return ac__fail(l->err, AC_E_NO_MEMORY, "%s: no memory for %zu "
                        "entries", what, len);
    memcpy(*slot, src, len * size);
    return AC_OK;
}

int ac_localizer_set_authors(ac_localizer *loc, const uint32_t *agent_of,
                             uint32_t n_messages)
{
    int rc = check_input(loc, agent_of, n_messages, loc ? loc->n : 0,
                         "ac_localizer_set_authors");
    if (rc != AC_OK)
        return rc;
    for (uint32_t t = 0; t < n_messages; t++)
        if (agent_of[t] >= AC_MAX_PLAYERS)
            return ac__fail(loc->err, AC_E_INVALID_ARG,
                            "message %u: agent %u is beyond AC_MAX_PLAYERS",
                            t, agent_of[t]);
    return keep_copy(loc, (void **)&loc->agent_of, agent_of, n_messages,
                     sizeof *agent_of, "ac_localizer_set_authors");
}

int ac_localizer_set_prior(ac_localizer *loc, const double *prior,
                           uint32_t len)
{
    int rc = check_input(loc, prior, len, loc ? loc->n + 1 : 0,
                         "ac_localizer_set_prior");
    if (rc != AC_OK)
        return rc;
    double top = 0.0;
    for (uint32_t t = 0; t < len; t++) {
        if (!(isfinite(prior[t]) && prior[t] >= 0.0))
            return ac__fail(loc->err, AC_E_INVALID_ARG,
                            "prior[%u] = %g: a prior is finite and >= 0", t,
                            prior[t]);
        top = prior[t] > top ? prior[t] : top;
    }
    if (!(top > 0.0))
        return ac__fail(loc->err, AC_E_INVALID_ARG,
                        "the prior is 0 everywhere; it needs some mass");
    return keep_copy(loc, (void **)&loc->prior, prior, len, sizeof *prior,
                     "ac_localizer_set_prior");
}

int ac_localizer_set_scores(ac_localizer *loc, const double *p_error,
                            uint32_t n_messages)
{
    int rc = check_input(loc, p_error, n_messages, loc ? loc->n : 0,
                         "ac_localizer_set_scores");
    if (rc != AC_OK)
        return rc;
    for (uint32_t t = 0; t < n_messages; t++)
        if (!(p_error[t] >= 0.0 && p_error[t] <= 1.0))
            return ac__fail(loc->err, AC_E_INVALID_ARG,
                            "score of message %u is %g; scores are error "
                            "probabilities in [0, 1]", t, p_error[t]);
    return keep_copy(loc, (void **)&loc->scores, p_error, n_messages,
                     sizeof *p_error, "ac_localizer_set_scores");
}

int ac_localizer_set_verifier(ac_localizer *loc, ac_verifier_fn fn,
                              void *user)
{
    int rc = ac__localizer_check(loc, "ac_localizer_set_verifier");
    if (rc != AC_OK)
        return rc;
    loc->verifier = fn;
    loc->verifier_user = user;
    return AC_OK;
}

/* ------------------------------------------------------------------ */
/* Ask / tell                                                          */
/* ------------------------------------------------------------------ */

uint32_t ac__localizer_affordable(const ac_localizer *loc, uint32_t want,
                                  int64_t keep)
{
    int64_t left = loc->p.budget - loc->calls - keep;
    return left <= 0 ? 0 : (left < (int64_t)want ? (uint32_t)left : want);
}

void ac__localizer_charge(ac_localizer *loc, uint32_t n)
{
    loc->calls += n;
}

void ac__localizer_enqueue(ac_localizer *l, uint32_t t)
{
    l->retries += l->failures[t] > 0;
    l->round[l->round_len++] = (ac__loc_query){t, 0, 0, NAN};
}

/* Whether the posterior is one: finite, non-negative, summing to 1. Every
 * input is checked and every update normalised, so this holds; it is
 * checked because a result is never reported that is not a number. */
static int posterior_ok(const ac_localizer *l)
{
    ac__ksum total = {0.0, 0.0};
    for (uint32_t h = 0; h <= l->n; h++) {
        if (!(isfinite(l->post[h]) && l->post[h] >= 0.0))
            return 0;
        ac__ksum_add(&total, l->post[h]);
    }
    return fabs(ac__ksum_value(&total) - 1.0) <= 1e-12 && isfinite(l->prob);
}

static int fail_run(ac_localizer *l, int status);

/* The run is over: the scan's coverage recorded, the flags set. AC_OK, or
 * the run fails (AC_E_TOO_LARGE) on a posterior that is not one. */
static int end_run(ac_localizer *l, int scan_complete)
{
    l->scanning = 0;
    if (!posterior_ok(l)) {
        ac__fail(l->err, AC_E_TOO_LARGE,
                 "the posterior over the first error is not a probability "
                 "distribution (a value not finite, or a sum not 1): no "
                 "result");
        return fail_run(l, AC_E_TOO_LARGE);
    }
    l->scan_complete = scan_complete;
    l->phase = AC__PHASE_DONE;
    ac__localizer_set_flags(l);
    return AC_OK;
}

/* Ends the run with an error, or, during the corrective scan, ends the
 * scan: the localization is made and worth reading, so the run succeeds
 * with the scan incomplete and the audit says what stopped it
 * (AC_LOCALIZER_AUDIT_SCAN_STOPPED). A non-OK return always means no
 * result, and the outcome says the run failed rather than leave it
 * looking unfinished. */
static int fail_run(ac_localizer *l, int status)
{
    if (l->phase == AC__PHASE_RUNNING && l->scanning) {
        l->round_len = l->round_handed = l->round_told = 0;
        l->scan_stopped = status;
        return end_run(l, 0);
    }
    l->phase = AC__PHASE_FAILED;
    l->fail_status = status;
    l->outcome = status == AC_E_CANCELLED ? AC_LOCALIZER_OUTCOME_CANCELLED
                                          : AC_LOCALIZER_OUTCOME_ERROR;
    return status;
}

/* The corrective scan's next round: prefixes after the first error with no
 * answer yet (a failed one is asked again), as many as the batch and the
 * budget allow. */
static void plan_scan(ac_localizer *l)
{
    /* The scan leaves the repair step its candidate checks. */
    int64_t reserve = l->repair && l->check ? l->p.candidates : 0;
    uint32_t width = ac__localizer_affordable(l, (uint32_t)l->p.batch, reserve);
    /* Everything before the cursor is answered (a failed answer stops it
     * there until its retry succeeds), so a round costs its width, not T. */
    if (l->scan < (uint32_t)l->step + 1)
        l->scan = (uint32_t)l->step + 1;
    while (l->scan < l->n && l->answers[l->scan] > 0)
        l->scan++;
    for (uint32_t t = l->scan; t < l->n && l->round_len < width; t++)
        if (l->answers[t] <= 0)
            ac__localizer_enqueue(l, t);
    ac__localizer_charge(l, l->round_len);
    l->scan_calls += l->round_len;
    if (l->round_len == 0)
        (void)end_run(l, l->scan >= l->n); /* its error is the run's */
}

/* Plans the next round of whichever phase the run is in; leaves round_len
 * 0 when the run is done. */
static void plan_round(ac_localizer *l)
{
    if (!l->scanning) {
        ac__search_plan(l);
        if (l->round_len > 0) {
            l->search_calls += l->round_len;
            l->search_rounds++;
            return;
        }
        int scan = l->p.scan_after && l->step >= 0 &&
                   l->strategy != AC_STRATEGY_SCORES;
        if (!scan) {
            (void)end_run(l, l->scan_complete); /* its error is the run's */
            return;
        }
        l->scanning = 1;
    }
    plan_scan(l);
}

static int check_cancel(ac_localizer *l)
{
    if (!atomic_load(&l->cancelled) || l->phase == AC__PHASE_DONE)
        return AC_OK; /* a finished run keeps its result */
    if (l->phase == AC__PHASE_FAILED)
        return AC_E_CANCELLED;
    ac__fail(l->err, AC_E_CANCELLED, "the run was cancelled");
    return fail_run(l, AC_E_CANCELLED);
}

int ac_localizer_ask(ac_localizer *loc, uint32_t max_count, uint64_t *tickets,
                     uint32_t *prefixes, uint32_t *count)
{
    int rc = ac__localizer_check(loc, "ac_localizer_ask");
    if (rc != AC_OK)
        return rc;
    if (count == NULL ||
        (max_count > 0 && (tickets == NULL || prefixes == NULL)))
        return ac__fail(loc->err, AC_E_INVALID_ARG,
                        "ask needs count, and tickets and prefixes buffers");
    if (loc->phase == AC__PHASE_FAILED)
        return loc->fail_status;
    if ((rc = check_cancel(loc)) != AC_OK)
        return rc;
    if (loc->phase == AC__PHASE_DONE) {
        *count = 0;
        return AC_OK;
    }
    /* Room for what this ask may hand out (part of one round), made before
     * the run starts and before a round is planned and charged, so that
     * running out of memory changes nothing. */
    uint32_t room =
        max_count < loc->p.batch ? max_count : (uint32_t)loc->p.batch;
    if (ac__tickets_reserve(&loc->tickets, &loc->mem, room) != AC_OK)
        return ac__fail(loc->err, AC_E_NO_MEMORY,
                        "no memory for %u more tickets", room);
    if (loc->phase == AC__PHASE_IDLE) {
        if ((rc = ac__search_start(loc)) != AC_OK)
            return rc;
        loc->phase = AC__PHASE_RUNNING;
    }
    *count = 0;
    if (loc->round_len == 0) {
        plan_round(loc);
        if (loc->phase == AC__PHASE_FAILED)
            return loc->fail_status;
        if (loc->round_len == 0)
            return AC_OK; /* done */
        loc->rounds++;
    }
    uint32_t out = loc->round_len - loc->round_handed;
    out = out < room ? out : room;
    for (uint32_t k = 0; k < out; k++) {
        uint32_t at = loc->round_handed++;
        prefixes[k] = loc->round[at].prefix;
        tickets[k] = ac__tickets_issue(&loc->tickets, prefixes[k], at,
                                       loc->failures[prefixes[k]]);
    }
    *count = out;
    return AC_OK;
}

static int take_answer(ac_localizer *l, ac__loc_query *q,
                       const double *values, const int32_t *status,
                       uint32_t k)
{
    q->told = 1;
    l->round_told++;
    if (!ac__answer_failed(status, values, k)) {
        q->value = values[k];
        return AC_OK;
    }
    q->failed = 1;
    l->failed_answers++;
    if (++l->failures[q->prefix] > (uint32_t)l->p.max_retries) {
        ac__fail(l->err, AC_E_ORACLE,
                 "the verifier failed on prefix %u %u times (last: %s %g)",
                 q->prefix, l->failures[q->prefix],
                 status && status[k] ? "status" : "value",
                 status && status[k] ? (double)status[k] : values[k]);
        return fail_run(l, AC_E_ORACLE);
    }
    return AC_OK;
}

static int by_prefix_value(const void *a, const void *b)
{
    const ac__loc_query *x = a, *y = b;
    if (x->prefix != y->prefix)
        return x->prefix < y->prefix ? -1 : 1;
    if (x->failed != y->failed)
        return x->failed < y->failed ? -1 : 1;
    return x->value < y->value ? -1 : (x->value > y->value);
}

/* Every answer of the round is in: record them, in an order that does not
 * depend on the order of the tells. */
static void complete_round(ac_localizer *l)
{
    qsort(l->round, l->round_len, sizeof *l->round, by_prefix_value);
    for (uint32_t k = 0; k < l->round_len; k++) {
        const ac__loc_query *q = &l->round[k];
        if (q->failed)
            continue;
        l->failures[q->prefix] = 0; /* retries count per failed answer */
        l->answers[q->prefix]++;
        l->answer_sum[q->prefix] += q->value;
    }
    if (!l->scanning)
        ac__search_apply(l);
    l->round_len = l->round_handed = l->round_told = 0;
}

int ac_localizer_tell(ac_localizer *loc, uint32_t count,
                      const uint64_t *tickets, const double *p_on_track,
                      const int32_t *status)
{
    int rc = ac__localizer_check(loc, "ac_localizer_tell");
    if (rc != AC_OK)
        return rc;
    if (count > 0 && (tickets == NULL || p_on_track == NULL))
        return ac__fail(loc->err, AC_E_INVALID_ARG,
                        "tell needs tickets and answers");
    if (loc->phase == AC__PHASE_FAILED)
        return loc->fail_status;
    if (loc->phase != AC__PHASE_RUNNING)
        return ac__fail(loc->err, AC_E_STATE,
                        "no run is waiting for answers");
    /* The whole call is checked before any of it is taken. */
    if ((rc = ac__tickets_check(&loc->tickets, count, tickets, loc->err)) !=
            AC_OK ||
        (rc = ac__answer_check_range(&loc->tickets, tickets, status,
                                     p_on_track, count, 0.0, 1.0,
                                     "the verifier's p_on_track", "prefix",
                                     loc->err)) != AC_OK)
        return rc;
    ac__tickets_told(&loc->tickets, count, tickets);
    for (uint32_t k = 0; k < count && loc->phase == AC__PHASE_RUNNING; k++) {
        const ac__ticket *t = ac__tickets_find(&loc->tickets, tickets[k]);
        rc = take_answer(loc, &loc->round[t->aux], p_on_track, status, k);
    }
    ac__tickets_compact(&loc->tickets);
    if (loc->phase != AC__PHASE_RUNNING)
        return rc; /* failed, or the scan ended: the round is dropped */
    if (loc->round_told == loc->round_len)
        complete_round(loc);
    return AC_OK;
}

/* ------------------------------------------------------------------ */
/* The callback driver                                                 */
/* ------------------------------------------------------------------ */

/* One verifier call over the prefixes just asked, told back. */
static int call_verifier(ac_localizer *l, ac__batch *b, uint32_t count)
{
    ac__answer_prefill(b->values, b->status, count);
    l->busy = 1;
    int r = l->verifier(l->verifier_user, b->items, count, b->values,
                        b->status);
    l->busy = 0;
    if (r != 0) {
        ac__fail(l->err, AC_E_CALLBACK, "the verifier callback returned %d",
                 r);
        return fail_run(l, AC_E_CALLBACK);
    }
    int rc = ac_localizer_tell(l, count, b->tickets, b->values, b->status);
    if (rc != AC_OK && l->phase == AC__PHASE_RUNNING)
        rc = fail_run(l, rc); /* the verifier's answers were unusable */
    return rc;
}

int ac_localizer_run(ac_localizer *loc)
{
    int rc = ac__localizer_check(loc, "ac_localizer_run");
    if (rc != AC_OK)
        return rc;
    if (loc->phase == AC__PHASE_FAILED)
        return loc->fail_status;
    if (loc->phase == AC__PHASE_DONE)
        return AC_OK;
    int strategy = loc->phase == AC__PHASE_IDLE ? ac__localizer_strategy(loc)
                                                : loc->strategy;
    if (strategy != AC_STRATEGY_SCORES && loc->verifier == NULL)
        return ac__fail(loc->err, AC_E_STATE,
                        "no verifier: call ac_localizer_set_verifier, or "
                        "drive the run with ask/tell");
    ac__batch b;
    uint32_t width = (uint32_t)loc->p.batch;
    rc = ac__batch_alloc(&b, &loc->mem, width, sizeof(uint32_t), loc->err);
    if (rc != AC_OK)
        return rc;
    for (;;) {
        uint32_t count = 0;
        rc = ac_localizer_ask(loc, width, b.tickets, b.items, &count);
        if (rc != AC_OK || count == 0)
            break;
        if ((rc = call_verifier(loc, &b, count)) != AC_OK)
            break;
    }
    ac__batch_free(&b, &loc->mem);
    if (rc == AC_OK && loc->phase != AC__PHASE_DONE)
        rc = ac__fail(loc->err, AC_E_STATE,
                      "the run is waiting for %llu answers asked outside "
                      "ac_localizer_run; tell them first",
                      (unsigned long long)loc->tickets.outstanding);
    return rc;
}

int ac_localizer_progress(const ac_localizer *loc, int32_t *done,
                          uint64_t *outstanding)
{
    if (loc == NULL)
        return AC_E_INVALID_ARG;
    ac__progress(loc->phase, &loc->tickets, done, outstanding);
    return AC_OK;
}

/* ------------------------------------------------------------------ */
/* Results                                                             */
/* ------------------------------------------------------------------ */

int ac__localizer_check_done(const ac_localizer *l)
{
    if (l == NULL)
        return AC_E_INVALID_ARG;
    if (l->phase != AC__PHASE_DONE)
        return ac__fail(l->err, AC_E_STATE,
                        l->phase == AC__PHASE_FAILED
                            ? "the run failed: no result"
                            : "no result yet: run the localizer first");
    return AC_OK;
}

int ac_localizer_result(const ac_localizer *loc, int64_t *step,
                        uint32_t *agent, double *probability)
{
    int rc = ac__localizer_check_done(loc);
    if (rc != AC_OK)
        return rc;
    if (step != NULL)
        *step = loc->step;
    if (agent != NULL)
        *agent = loc->step >= 0 && loc->agent_of ? loc->agent_of[loc->step]
                                                  : UINT32_MAX;
    if (probability != NULL)
        *probability = loc->prob;
    return AC_OK;
}

int ac_localizer_probability_within(const ac_localizer *loc, uint32_t radius,
                                    double *p)
{
    int rc = ac__localizer_check_done(loc);
    if (rc != AC_OK)
        return rc;
    if (p == NULL)
        return ac__fail(loc->err, AC_E_INVALID_ARG, "p is NULL");
    int64_t at = loc->step >= 0 ? loc->step : (int64_t)loc->n;
    int64_t from = at - (int64_t)radius, to = at + (int64_t)radius;
    from = from < 0 ? 0 : from;
    to = to > (int64_t)loc->n ? (int64_t)loc->n : to;
    double total = 0.0;
    for (int64_t h = from; h <= to; h++)
        total += loc->post[h];
    *p = total > 1.0 ? 1.0 : total;
    return AC_OK;
}

/* Copies one array of the result after the common checks. */
static int copy_out(const ac_localizer *l, void *dst, const void *src,
                    uint32_t len, uint32_t want, size_t size)
{
    int rc = ac__localizer_check_done(l);
    if (rc != AC_OK)
        return rc;
    if (dst == NULL || len != want)
        return ac__fail(l->err, AC_E_INVALID_ARG,
                        "output: %u entries given, %u expected", len, want);
    memcpy(dst, src, (size_t)len * size);
    return AC_OK;
}

int ac_localizer_posterior(const ac_localizer *loc, double *post, uint32_t len)
{
    return copy_out(loc, post, loc ? loc->post : NULL, len,
                    loc ? loc->n + 1 : 0, sizeof *post);
}

int ac_localizer_step_flags(const ac_localizer *loc, uint32_t *flags,
                            uint32_t n_messages)
{
    return copy_out(loc, flags, loc ? loc->flags : NULL, n_messages,
                    loc ? loc->n : 0, sizeof *flags);
}

int ac_localizer_audit(const ac_localizer *loc, ac_localizer_audit_key key,
                       int64_t *value)
{
    if (loc == NULL || value == NULL)
        return AC_E_INVALID_ARG;
    int64_t v;
    switch (key) {
    case AC_LOCALIZER_AUDIT_EVALUATIONS: v = loc->calls; break;
    case AC_LOCALIZER_AUDIT_ROUNDS: v = loc->rounds; break;
    case AC_LOCALIZER_AUDIT_SEARCH_EVALUATIONS: v = loc->search_calls; break;
    case AC_LOCALIZER_AUDIT_SEARCH_ROUNDS: v = loc->search_rounds; break;
    case AC_LOCALIZER_AUDIT_SCAN_EVALUATIONS: v = loc->scan_calls; break;
    case AC_LOCALIZER_AUDIT_FAILURES: v = loc->failed_answers; break;
    case AC_LOCALIZER_AUDIT_RETRIES: v = loc->retries; break;
    case AC_LOCALIZER_AUDIT_OUTCOME: v = loc->outcome; break;
    case AC_LOCALIZER_AUDIT_STRATEGY: v = loc->strategy; break;
    case AC_LOCALIZER_AUDIT_BUDGET: v = loc->p.budget; break;
    case AC_LOCALIZER_AUDIT_SCAN_COMPLETE: v = loc->scan_complete; break;
    case AC_LOCALIZER_AUDIT_REPAIR_CANDIDATES:
        v = loc->repair_candidates;
        break;
    case AC_LOCALIZER_AUDIT_REPAIR_CHECKS: v = loc->repair_checks; break;
    case AC_LOCALIZER_AUDIT_SCAN_STOPPED: v = loc->scan_stopped; break;
    default:
        return ac__fail(loc->err, AC_E_INVALID_ARG,
                        "unknown localizer audit key %d", (int)key);
    }
    *value = v;
    return AC_OK;
}
