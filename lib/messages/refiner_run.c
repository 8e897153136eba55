/* The refiner's run, on the protocol every object shares: ask hands out
 * the messages still without a label as tickets, tell takes the scorer's
 * labels back by ticket, and once every label is in, the next ask computes
 * the rewards and the run is done. ac_refiner_run() is a loop over
 * ask/tell with the host's scorer; there is no second implementation. */
#include <math.h>

#include "common/answer.h"
#include "messages/refiner_internal.h"

/* Ends the run with an error that every later ask, tell and run returns. */
static int fail_run(ac_refiner *r, int status)
{
    r->phase = AC__PHASE_FAILED;
    r->fail_status = status;
    return status;
}

static int check_cancel(ac_refiner *r)
{
    if (!atomic_load(&r->cancelled) || r->phase == AC__PHASE_DONE)
        return AC_OK; /* a finished run keeps its result */
    if (r->phase == AC__PHASE_FAILED)
        return r->fail_status; /* ended already: its own error stands */
    ac__fail(r->err, AC_E_CANCELLED, "the run was cancelled");
    return fail_run(r, AC_E_CANCELLED);
}

/* Every label is in: the rewards, or the error that ends the run. */
static int finish_run(ac_refiner *r)
{
    int rc = ac__refiner_refine(r);
    if (rc != AC_OK)
        return fail_run(r, rc);
    r->phase = AC__PHASE_DONE;
    return AC_OK;
}

static void want(ac_refiner *r, uint32_t t)
{
    uint32_t at = r->wanted_head + r->wanted_len++;
    r->wanted[at >= r->n_messages ? at - r->n_messages : at] = t;
}

/* The run starts: every message that needs a label waits for one, in
 * episode order. */
static void start_wanting(ac_refiner *r)
{
    r->wanted_head = r->wanted_len = 0;
    for (uint32_t t = 0; t < r->n_messages; t++)
        if (ac__refiner_needs_label(r, t) &&
            r->label_state[t] == AC__LABEL_NONE)
            want(r, t);
}

/* Hands out up to max_count of the messages waiting for a label. */
static uint32_t hand_out(ac_refiner *r, uint32_t max_count, uint64_t *tickets,
                         uint32_t *messages)
{
    uint32_t out = 0;
    for (; out < max_count && r->wanted_len > 0; out++) {
        uint32_t t = r->wanted[r->wanted_head];
        r->wanted_head = r->wanted_head + 1 == r->n_messages
                             ? 0
                             : r->wanted_head + 1;
        r->wanted_len--;
        r->label_state[t] = AC__LABEL_ASKED;
        r->retries += r->failures[t] > 0;
        tickets[out] = ac__tickets_issue(&r->tickets, t, 0, r->failures[t]);
        messages[out] = t;
    }
    return out;
}

int ac_refiner_ask(ac_refiner *ref, uint32_t max_count, uint64_t *tickets,
                   uint32_t *messages, uint32_t *count)
{
    int rc = ac__refiner_check(ref, "ac_refiner_ask");
    if (rc != AC_OK)
        return rc;
    if (count == NULL ||
        (max_count > 0 && (tickets == NULL || messages == NULL)))
        return ac__fail(ref->err, AC_E_INVALID_ARG,
                        "ask needs count, and tickets and messages buffers");
    if (ref->phase == AC__PHASE_FAILED)
        return ref->fail_status;
    if ((rc = check_cancel(ref)) != AC_OK)
        return rc;
    if (ref->phase == AC__PHASE_DONE) {
        *count = 0;
        return AC_OK;
    }
    if (ref->phase == AC__PHASE_IDLE &&
        (rc = ac__refiner_check_ready(ref, 1)) != AC_OK)
        return rc;
    uint32_t want = max_count < ref->n_messages ? max_count : ref->n_messages;
    /* Before the run starts: a first ask that runs out of memory leaves the
     * handle idle, its inputs still open to change. */
    if (ac__tickets_reserve(&ref->tickets, &ref->mem, want) != AC_OK)
        return ac__fail(ref->err, AC_E_NO_MEMORY,
                        "no memory for %u more tickets", want);
    if (ref->phase == AC__PHASE_IDLE)
        start_wanting(ref);
    ref->phase = AC__PHASE_RUNNING;
    *count = 0;
    uint32_t out = hand_out(ref, want, tickets, messages);
    if (out > 0)
        ref->rounds++;
    else if (ref->tickets.outstanding == 0 && ref->wanted_len == 0 &&
             (rc = finish_run(ref)) != AC_OK)
        return rc;
    *count = out;
    return AC_OK;
}

/* One checked answer: the label, or a failure that asks again, or ends the
 * run past the retries. */
static void take_label(ac_refiner *r, uint32_t t, const double *labels,
                       const int32_t *status, uint32_t k)
{
    if (!ac__answer_failed(status, labels, k)) {
        r->label_state[t] = AC__LABEL_SCORED;
        r->label[t] = labels[k];
        return;
    }
    r->failed_answers++;
    r->label_state[t] = AC__LABEL_NONE; /* asked again */
    want(r, t);
    if (++r->failures[t] > (uint32_t)r->p.max_retries &&
        r->phase == AC__PHASE_RUNNING) {
        ac__fail(r->err, AC_E_ORACLE,
                 "the scorer failed on message %u %u times (last: %s %g); "
                 "no retries are left (AC_REFINER_PARAM_MAX_RETRIES)",
                 t, r->failures[t], status && status[k] ? "status" : "label",
                 status && status[k] ? (double)status[k] : labels[k]);
        fail_run(r, AC_E_ORACLE);
    }
}

int ac_refiner_tell(ac_refiner *ref, uint32_t count, const uint64_t *tickets,
                    const double *labels, const int32_t *status)
{
    int rc = ac__refiner_check(ref, "ac_refiner_tell");
    if (rc != AC_OK)
        return rc;
    if (count > 0 && (tickets == NULL || labels == NULL))
        return ac__fail(ref->err, AC_E_INVALID_ARG,
                        "tell needs tickets and labels");
    if (ref->phase == AC__PHASE_FAILED)
        return ref->fail_status;
    if (ref->phase != AC__PHASE_RUNNING)
        return ac__fail(ref->err, AC_E_STATE, "no run is waiting for labels");
    /* The whole call is checked before any of it is taken. */
    if ((rc = ac__tickets_check(&ref->tickets, count, tickets, ref->err)) !=
            AC_OK ||
        (rc = ac__answer_check_range(&ref->tickets, tickets, status, labels,
                                     count, -1.0, 1.0, "the scorer's label",
                                     "message", ref->err)) != AC_OK)
        return rc;
    ac__tickets_told(&ref->tickets, count, tickets);
    for (uint32_t k = 0; k < count; k++)
        take_label(ref, ac__tickets_find(&ref->tickets, tickets[k])->item,
                   labels, status, k);
    ac__tickets_compact(&ref->tickets);
    return ref->phase == AC__PHASE_FAILED ? ref->fail_status : AC_OK;
}

int ac_refiner_set_scorer(ac_refiner *ref, ac_scorer_fn fn, void *user)
{
    if (ref == NULL)
        return AC_E_INVALID_ARG;
    if (ref->busy)
        return ac__fail(ref->err, AC_E_BUSY,
                        "the scorer cannot change from inside itself");
    ref->scorer = fn;
    ref->scorer_user = user;
    return AC_OK;
}

static int call_scorer(ac_refiner *r, ac__batch *b, uint32_t count)
{
    ac__answer_prefill(b->values, b->status, count);
    r->busy = 1;
    int rv = r->scorer(r->scorer_user, b->items, count, b->values,
                       b->status);
    r->busy = 0;
    if (rv != 0) {
        ac__fail(r->err, AC_E_CALLBACK, "the scorer callback returned %d", rv);
        return fail_run(r, AC_E_CALLBACK);
    }
    int rc = ac_refiner_tell(r, count, b->tickets, b->values, b->status);
    if (rc != AC_OK && r->phase == AC__PHASE_RUNNING)
        fail_run(r, rc); /* the scorer's answers were unusable */
    return rc;
}

int ac_refiner_run(ac_refiner *ref)
{
    int rc = ac__refiner_check(ref, "ac_refiner_run");
    if (rc != AC_OK)
        return rc;
    if (ref->phase == AC__PHASE_FAILED)
        return ref->fail_status;
    if (ref->phase == AC__PHASE_DONE)
        return AC_OK;
    if (ref->phase == AC__PHASE_IDLE &&
        (rc = ac__refiner_check_ready(ref, ref->scorer != NULL)) != AC_OK)
        return rc;
    uint32_t width = (uint32_t)ref->p.batch;
    if (width > ref->n_messages)
        width = ref->n_messages;
    ac__batch b;
    rc = ac__batch_alloc(&b, &ref->mem, width, sizeof(uint32_t), ref->err);
    if (rc != AC_OK)
        return rc;
    for (;;) {
        uint32_t count = 0;
        /* Without a scorer, ask for nothing: a ticket handed out here could
         * never be told (the host never sees it), and the run would wait
         * for it forever. Asking for none still finishes a complete run. */
        rc = ac_refiner_ask(ref, ref->scorer != NULL ? width : 0, b.tickets,
                            b.items, &count);
        if (rc != AC_OK || count == 0)
            break;
        rc = call_scorer(ref, &b, count);
        if (rc == AC_OK)
            rc = check_cancel(ref);
        if (rc != AC_OK)
            break;
    }
    ac__batch_free(&b, &ref->mem);
    if (rc == AC_OK && ref->phase != AC__PHASE_DONE) {
        if (ref->scorer == NULL && ref->wanted_len > 0)
            rc = ac__fail(ref->err, AC_E_STATE,
                          "message %u needs a label and no scorer is set",
                          ref->wanted[ref->wanted_head]);
        else
            rc = ac__fail(ref->err, AC_E_STATE,
                          "the run is waiting for %llu labels asked outside "
                          "ac_refiner_run; tell them first",
                          (unsigned long long)ref->tickets.outstanding);
    }
    return rc;
}

int ac_refiner_progress(const ac_refiner *ref, int32_t *done,
                        uint64_t *outstanding)
{
    if (ref == NULL)
        return AC_E_INVALID_ARG;
    ac__progress(ref->phase, &ref->tickets, done, outstanding);
    return AC_OK;
}

void ac_refiner_cancel(ac_refiner *ref)
{
    if (ref != NULL)
        atomic_store(&ref->cancelled, 1);
}

static int64_t count_flagged(const uint32_t *flags, uint32_t n)
{
    int64_t k = 0;
    for (uint32_t i = 0; i < n; i++)
        k += flags[i] != 0;
    return k;
}

static int64_t count_set(const uint8_t *set, uint32_t n)
{
    int64_t k = 0;
    for (uint32_t i = 0; i < n; i++)
        k += set[i] != 0;
    return k;
}

int ac_refiner_audit(const ac_refiner *ref, ac_refiner_audit_key key,
                     int64_t *value)
{
    if (ref == NULL || value == NULL)
        return AC_E_INVALID_ARG;
    int done = ref->phase == AC__PHASE_DONE;
    switch (key) {
    case AC_REFINER_AUDIT_EVALUATIONS:
        *value = (int64_t)ref->tickets.issued;
        break;
    case AC_REFINER_AUDIT_ROUNDS: *value = ref->rounds; break;
    case AC_REFINER_AUDIT_FAILURES: *value = ref->failed_answers; break;
    case AC_REFINER_AUDIT_RETRIES: *value = ref->retries; break;
    case AC_REFINER_AUDIT_RELAXED_AGENTS:
        *value = done ? count_flagged(ref->agent_flags, ref->n_agents) : 0;
        break;
    case AC_REFINER_AUDIT_REDUNDANT:
        *value = count_set(ref->redundant, ref->n_messages);
        break;
    default:
        return ac__fail(ref->err, AC_E_INVALID_ARG, "unknown audit key %d",
                        (int)key);
    }
    return AC_OK;
}
