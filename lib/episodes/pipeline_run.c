/* The pipeline's run: start, ask/tell, and ac_pipeline_run, which is a
 * loop over the same ask/tell with the host's callbacks (so the two paths
 * cannot disagree). The run goes through the stages in order (credit,
 * localize, pair, rewards: pipeline_stages.c); an ask hands out the
 * current stage's work and, once its object is done, ends it and begins
 * the next. The host's tickets are the pipeline's own (an ac__tickets
 * table over the handle's life); each stands for one of the running
 * object's tickets, or for a piece of the pair's replay. */
#include <math.h>
#include <string.h>

#include "common/coalition.h"
#include "episodes/pipeline_internal.h"

/* More than this many pieces of work are never handed out by one ask. */
#define ASK_MAX ((uint32_t)1 << 16)

static const ac__mem *mem_of(ac_pipeline *p)
{
    return &p->mem;
}

static void forget_replay(ac_pipeline *p)
{
    ac__pair_replay *rp = &p->run.pair;
    const ac__mem *m = mem_of(p);
    ac__mem_free(m, rp->ids);
    ac__mem_free(m, rp->call_ids);
    ac__mem_free(m, rp->call_p);
    ac__mem_free(m, rp->call_status);
    ac__mem_free(m, rp->call_len);
    ac__mem_free(m, rp->need_ids);
    ac__mem_free(m, rp->got_p);
    ac__mem_free(m, rp->got_status);
    memset(rp, 0, sizeof *rp);
}

/* Forgets the run's state (not its result): objects, maps, tickets. */
static void end_run(ac_pipeline *p, ac__stage stage)
{
    ac__run *r = &p->run;
    ac__stage_free_objects(p);
    forget_replay(p);
    ac__mem_free(mem_of(p), r->agent_msg);
    ac__mem_free(mem_of(p), r->blame);
    r->agent_msg = NULL;
    r->blame = NULL;
    r->n_agent_msg = 0;
    r->localized = 0;
    r->ep = stage == AC__STAGE_DONE ? r->ep : NULL;
    r->stage = stage;
    ac__tickets_clear(&p->tk, mem_of(p));
}

static void free_batch(const ac__mem *m, ac__host_batch *b)
{
    ac__mem_free(m, b->work);
    ac__mem_free(m, b->coalitions);
    ac__mem_free(m, b->where);
    ac__mem_free(m, b->answers);
    ac__mem_free(m, b->status);
    ac__mem_free(m, b->ids);
    memset(b, 0, sizeof *b);
}

void ac__pipeline_free_run(ac_pipeline *p)
{
    const ac__mem *m = mem_of(p);
    end_run(p, AC__STAGE_IDLE);
    ac__mem_free(m, p->run.obj_tickets);
    ac__mem_free(m, p->run.obj_items);
    free_batch(m, &p->batch);
}

/* Ends the run failed: no result; every later ask and tell return rc. */
static int fail_run(ac_pipeline *p, int rc)
{
    end_run(p, AC__STAGE_FAILED);
    ac__pipeline_free_result(p);
    p->run.error = rc;
    return rc;
}

static int run_active(const ac_pipeline *p)
{
    return p->run.stage > AC__STAGE_IDLE && p->run.stage < AC__STAGE_DONE;
}

/* ------------------------------------------------------------------ */
/* Start                                                               */
/* ------------------------------------------------------------------ */

#define SERVES_ALL (AC_SERVES_VERIFIER | AC_SERVES_SCORER | AC_SERVES_REPAIR)

int ac_pipeline_start(ac_pipeline *p, const ac_episode *ep, uint32_t serves)
{
    if (p == NULL)
        return AC_E_INVALID_ARG;
    int rc = ac__pipeline_busy(p, "ac_pipeline_start");
    if (rc != AC_OK)
        return rc;
    if (ep == NULL)
        return ac__fail(p->err, AC_E_INVALID_ARG, "no episode");
    if (serves & ~SERVES_ALL)
        return ac__fail(p->err, AC_E_INVALID_ARG, "serves 0x%x: unknown "
                        "AC_SERVES_* flags 0x%x", serves,
                        serves & ~SERVES_ALL);
    end_run(p, AC__STAGE_IDLE);
    ac__pipeline_free_result(p);
    atomic_store(&p->cancelled, 0);
    p->run.ep = ep;
    p->run.serves = serves;
    p->run.stage = AC__STAGE_CREDIT;
    rc = ac__stage_check_episode(p, ep);
    if (rc == AC_OK)
        rc = ac__pipeline_alloc_result(p, ep->n_agents, ep->n_msg);
    if (rc == AC_OK)
        rc = ac__stage_map_messages(p);
    if (rc == AC_OK) {
        p->res.audit[AC_PIPELINE_AUDIT_SUCCESS] = ep->outcome >= ep->threshold;
        rc = ac__stage_credit_begin(p);
    }
    return rc == AC_OK ? AC_OK : fail_run(p, rc);
}

/* ------------------------------------------------------------------ */
/* Moving on                                                           */
/* ------------------------------------------------------------------ */

static int cancelled(ac_pipeline *p)
{
    return atomic_load_explicit(&p->cancelled, memory_order_relaxed) != 0;
}

/* Ends the current stage (its object is done) and begins the next. */
static int next_stage(ac_pipeline *p)
{
    ac__run *r = &p->run;
    int rc = AC_OK;
    ac__tickets_clear(&p->tk, mem_of(p));
    switch (r->stage) {
    case AC__STAGE_CREDIT:
        rc = ac__stage_credit_end(p);
        if (rc == AC_OK) rc = ac__stage_localize_begin(p);
        r->stage = r->loc != NULL ? AC__STAGE_LOCALIZE : AC__STAGE_REWARDS;
        if (rc == AC_OK && r->loc == NULL)
            rc = ac__stage_rewards_begin(p);
        break;
    case AC__STAGE_LOCALIZE:
        rc = ac__stage_localize_end(p);
        r->stage = AC__STAGE_PAIR;
        break;
    case AC__STAGE_PAIR:
        r->stage = AC__STAGE_REWARDS;
        rc = ac__stage_rewards_begin(p);
        break;
    default: /* AC__STAGE_REWARDS */
        rc = ac__stage_rewards_end(p);
        if (rc == AC_OK)
            end_run(p, AC__STAGE_DONE);
        break;
    }
    return rc;
}

/* ------------------------------------------------------------------ */
/* Ask                                                                 */
/* ------------------------------------------------------------------ */

/* What an ask of one stage did: handed out work, waits for tells, or found
 * its object done (the stage ends). */
enum { HANDED, WAITING, ENDED };

typedef struct ask_args {
    uint32_t max;
    ac_work *work;
    uint64_t *coalitions;
    uint32_t words;
    uint32_t count;
} ask_args;

static int grow_scratch(ac_pipeline *p, uint32_t n)
{
    ac__run *r = &p->run;
    if (n <= r->scratch_cap)
        return AC_OK;
    uint64_t *t = ac__mem_alloc(mem_of(p), n, sizeof *t);
    uint32_t *m = ac__mem_alloc(mem_of(p), n, sizeof *m);
    if (t == NULL || m == NULL) {
        ac__mem_free(mem_of(p), t);
        ac__mem_free(mem_of(p), m);
        return ac__fail(p->err, AC_E_NO_MEMORY, "out of memory for %u "
                        "tickets", n);
    }
    ac__mem_free(mem_of(p), r->obj_tickets);
    ac__mem_free(mem_of(p), r->obj_items);
    r->obj_tickets = t;
    r->obj_items = m;
    r->scratch_cap = n;
    return AC_OK;
}

/* The host's tickets for the object's: each record keeps the object's
 * ticket in its two words. */
static void hand_out(ac_pipeline *p, ask_args *a, int32_t kind,
                     uint32_t count)
{
    const ac__run *r = &p->run;
    for (uint32_t k = 0; k < count; k++) {
        uint64_t t = r->obj_tickets[k];
        ac_work *w = &a->work[k];
        memset(w, 0, sizeof *w);
        w->ticket = ac__tickets_issue(&p->tk, (uint32_t)t,
                                      (uint32_t)(t >> 32), 0);
        w->kind = kind;
        if (kind == AC_WORK_KIND_PREFIX)
            w->message = ac__stage_prefix_end(p, r->obj_items[k]);
        else if (kind == AC_WORK_KIND_SCORE)
            w->message = ac__stage_message_at(p, r->obj_items[k]);
    }
    a->count = count;
}

/* The estimator writes coalitions `need` words apart; the host's stride
 * may be wider. */
static void spread_coalitions(uint64_t *c, uint32_t count, uint32_t need,
                              uint32_t words)
{
    for (uint32_t k = count; words != need && k-- > 0;) {
        memmove(c + (size_t)k * words, c + (size_t)k * need,
                need * sizeof *c);
        memset(c + (size_t)k * words + need, 0,
               (words - need) * sizeof *c);
    }
}

static int ask_object(ac_pipeline *p, ask_args *a, int *what)
{
    ac__run *r = &p->run;
    uint32_t n = 0;
    int32_t done = 0;
    int rc;
    int32_t kind;
    switch (r->stage) {
    case AC__STAGE_CREDIT: {
        uint32_t need = ac_coalition_words(p->res.n_agents);
        if (a->coalitions == NULL || a->words < need)
            return ac__fail(p->err, AC_E_INVALID_ARG, "the credit stage "
                            "asks coalition values: coalitions needs room "
                            "for %u coalitions of at least %u words (words "
                            "is %u)", a->max, need, a->words);
        kind = AC_WORK_KIND_VALUE;
        rc = ac_estimator_ask(r->est, a->max, r->obj_tickets, a->coalitions,
                              &n);
        if (rc == AC_OK)
            spread_coalitions(a->coalitions, n, need, a->words);
        if (rc == AC_OK && n == 0)
            rc = ac_estimator_progress(r->est, &done, NULL);
        if (rc != AC_OK)
            return ac__stage_failed(p, rc, "credit",
                                    ac_estimator_last_error(r->est));
        break;
    }
    case AC__STAGE_LOCALIZE:
        kind = AC_WORK_KIND_PREFIX;
        rc = ac_localizer_ask(r->loc, a->max, r->obj_tickets, r->obj_items,
                              &n);
        if (rc == AC_OK && n == 0)
            rc = ac_localizer_progress(r->loc, &done, NULL);
        if (rc != AC_OK)
            return ac__stage_failed(p, rc, "first error",
                                    ac_localizer_last_error(r->loc));
        break;
    default: /* AC__STAGE_REWARDS */
        kind = AC_WORK_KIND_SCORE;
        rc = ac_refiner_ask(r->ref, a->max, r->obj_tickets, r->obj_items, &n);
        if (rc == AC_OK && n == 0)
            rc = ac_refiner_progress(r->ref, &done, NULL);
        if (rc != AC_OK)
            return ac__stage_failed(p, rc, "rewards",
                                    ac_refiner_last_error(r->ref));
        break;
    }
    hand_out(p, a, kind, n);
    *what = n > 0 ? HANDED : done ? ENDED : WAITING;
    return AC_OK;
}

/* The pair stage: with the last need answered, one more attempt; what it
 * needs (a repair, or every candidate of a check) is handed out over as
 * many asks as the host's room takes. */
static int ask_pair(ac_pipeline *p, ask_args *a, int *what)
{
    ac__pair_replay *rp = &p->run.pair;
    *what = WAITING;
    if (rp->need == 0) {
        int rc = ac__stage_pair_attempt(p);
        if (rc != AC_OK || rp->need == 0) {
            *what = ENDED;
            return rc;
        }
        rp->handed = rp->n_got = 0;
    }
    uint32_t total = rp->need == AC_WORK_KIND_REPAIR ? 1 : rp->n_need;
    uint32_t n = total - rp->handed < a->max ? total - rp->handed : a->max;
    uint32_t at = ac__stage_message_at(p, rp->need_step);
    for (uint32_t k = 0; k < n; k++) {
        ac_work *w = &a->work[k];
        memset(w, 0, sizeof *w);
        w->ticket = ac__tickets_issue(&p->tk, rp->handed + k,
                                      (uint32_t)rp->need, 0);
        w->kind = rp->need;
        w->message = at;
        if (rp->need == AC_WORK_KIND_REPAIR)
            w->max_count = rp->need_max;
        else
            w->candidate = rp->need_ids[rp->handed + k];
    }
    rp->handed += n;
    a->count = n;
    *what = n > 0 ? HANDED : WAITING;
    return AC_OK;
}

static int ask_stage(ac_pipeline *p, ask_args *a, int *what)
{
    if (p->run.stage == AC__STAGE_PAIR)
        return ask_pair(p, a, what);
    return ask_object(p, a, what);
}

/* An ask that cannot hand out what the stage needs (no room) changes
 * nothing; one whose object failed ends the run. */
static int ask_failed(ac_pipeline *p, int rc)
{
    return rc == AC_E_INVALID_ARG && p->run.stage == AC__STAGE_CREDIT &&
                   p->run.est != NULL
               ? rc
               : fail_run(p, rc);
}

static const char *stage_name(const ac_pipeline *p)
{
    switch (p->run.stage) {
    case AC__STAGE_CREDIT: return "credit";
    case AC__STAGE_REWARDS: return "rewards";
    default: return "first error";
    }
}

int ac_pipeline_ask(ac_pipeline *p, uint32_t max_count, ac_work *work,
                    uint64_t *coalitions, uint32_t words, uint32_t *count)
{
    if (p == NULL || count == NULL || (work == NULL && max_count > 0))
        return AC_E_INVALID_ARG;
    int rc = ac__pipeline_busy(p, "ac_pipeline_ask");
    if (rc != AC_OK)
        return rc;
    if (p->run.stage == AC__STAGE_IDLE)
        return ac__fail(p->err, AC_E_STATE, "no run: ac_pipeline_start "
                        "begins one");
    if (p->run.stage == AC__STAGE_FAILED)
        return p->run.error;
    ask_args a = {max_count < ASK_MAX ? max_count : ASK_MAX, work,
                  coalitions, words, 0};
    while (rc == AC_OK && run_active(p)) {
        if (cancelled(p))
            return fail_run(p, ac__fail(p->err, AC_E_CANCELLED,
                                        "%s: the run was cancelled",
                                        stage_name(p)));
        int what = WAITING;
        if (a.max == 0)
            break;
        rc = grow_scratch(p, a.max);
        if (rc == AC_OK)
            rc = ac__tickets_reserve(&p->tk, mem_of(p), a.max);
        if (rc == AC_OK)
            rc = ask_stage(p, &a, &what);
        if (rc != AC_OK)
            return ask_failed(p, rc == AC_E_NO_MEMORY && !p->err[0]
                                     ? ac__fail(p->err, rc, "out of memory")
                                     : rc);
        if (what != ENDED)
            break;
        rc = next_stage(p);
        if (rc != AC_OK)
            return fail_run(p, rc);
    }
    *count = a.count;
    return AC_OK;
}

/* ------------------------------------------------------------------ */
/* Tell                                                                */
/* ------------------------------------------------------------------ */

static int tell_state(ac_pipeline *p, const char *what)
{
    int rc = ac__pipeline_busy(p, what);
    if (rc != AC_OK)
        return rc;
    if (p->run.stage == AC__STAGE_FAILED)
        return p->run.error;
    if (!run_active(p))
        return ac__fail(p->err, AC_E_STATE, "%s: no run waiting", what);
    return AC_OK;
}

/* The object's tickets of the host's, into the scratch. */
static int object_tickets(ac_pipeline *p, uint32_t count,
                          const uint64_t *tickets)
{
    int rc = grow_scratch(p, count);
    for (uint32_t k = 0; rc == AC_OK && k < count; k++) {
        const ac__ticket *t = ac__tickets_find(&p->tk, tickets[k]);
        p->run.obj_tickets[k] = (uint64_t)t->aux << 32 | t->item;
    }
    return rc;
}

static int tell_object(ac_pipeline *p, uint32_t count, const double *answers,
                       const int32_t *status)
{
    ac__run *r = &p->run;
    const uint64_t *t = r->obj_tickets;
    switch (r->stage) {
    case AC__STAGE_CREDIT:
        return ac_estimator_tell(r->est, count, t, answers, status);
    case AC__STAGE_LOCALIZE:
        return ac_localizer_tell(r->loc, count, t, answers, status);
    default:
        return ac_refiner_tell(r->ref, count, t, answers, status);
    }
}

static const char *object_error(const ac_pipeline *p)
{
    switch (p->run.stage) {
    case AC__STAGE_CREDIT: return ac_estimator_last_error(p->run.est);
    case AC__STAGE_LOCALIZE: return ac_localizer_last_error(p->run.loc);
    default: return ac_refiner_last_error(p->run.ref);
    }
}

/* An answer out of its kind's range refuses the tell, also one whose
 * object has ended its run meanwhile (and would not look at it): one rule
 * whatever the order of the tells. */
static int check_range(ac_pipeline *p, uint32_t count, const uint64_t *tickets,
                       const double *answers, const int32_t *status)
{
    double lo = p->run.stage == AC__STAGE_REWARDS ? -1.0 : 0.0;
    if (p->run.stage == AC__STAGE_CREDIT)
        return AC_OK; /* any finite value */
    for (uint32_t k = 0; k < count; k++)
        if ((status == NULL || status[k] == 0) && isfinite(answers[k]) &&
            !(answers[k] >= lo && answers[k] <= 1.0))
            return ac__fail(p->err, AC_E_INVALID_ARG, "%s: the answer to "
                            "ticket %llu (position %u of the tell) is %g, "
                            "outside [%g, 1]", stage_name(p),
                            (unsigned long long)tickets[k], k, answers[k],
                            lo);
    return AC_OK;
}

/* A check's answers, kept by place until the whole call is in; then the
 * call joins the replay record. */
static int keep_checks(ac_pipeline *p, uint32_t count, const uint64_t *tickets,
                       const double *answers, const int32_t *status);

int ac_pipeline_tell(ac_pipeline *p, uint32_t count, const uint64_t *tickets,
                     const double *answers, const int32_t *status)
{
    if (p == NULL || (count > 0 && (tickets == NULL || answers == NULL)))
        return AC_E_INVALID_ARG;
    int rc = tell_state(p, "ac_pipeline_tell");
    if (rc != AC_OK)
        return rc;
    rc = ac__tickets_check(&p->tk, count, tickets, p->err);
    if (rc != AC_OK || count == 0)
        return rc;
    if (p->run.stage == AC__STAGE_PAIR)
        return keep_checks(p, count, tickets, answers, status);
    rc = check_range(p, count, tickets, answers, status);
    if (rc != AC_OK)
        return rc;
    rc = object_tickets(p, count, tickets);
    if (rc == AC_OK)
        rc = tell_object(p, count, answers, status);
    if (rc == AC_E_INVALID_ARG)
        return ac__fail(p->err, rc, "%s: %s", stage_name(p),
                        object_error(p));
    if (rc == AC_E_STATE)
        rc = AC_OK; /* the object has ended its run: the answer is moot */
    if (rc != AC_OK)
        return fail_run(p, ac__stage_failed(p, rc, stage_name(p),
                                             object_error(p)));
    ac__tickets_told(&p->tk, count, tickets);
    ac__tickets_compact(&p->tk);
    return AC_OK;
}

static int append_call(ac_pipeline *p)
{
    ac__pair_replay *rp = &p->run.pair;
    const ac__mem *m = mem_of(p);
    uint32_t n = rp->n_need, at = rp->n_answers;
    int rc = ac__mem_grow(m, (void **)&rp->call_ids, at, at + n,
                          sizeof *rp->call_ids);
    if (rc == AC_OK)
        rc = ac__mem_grow(m, (void **)&rp->call_p, at, at + n,
                          sizeof *rp->call_p);
    if (rc == AC_OK)
        rc = ac__mem_grow(m, (void **)&rp->call_status, at, at + n,
                          sizeof *rp->call_status);
    if (rc == AC_OK)
        rc = ac__mem_grow(m, (void **)&rp->call_len, rp->n_calls,
                          rp->n_calls + 1, sizeof *rp->call_len);
    if (rc != AC_OK)
        return ac__fail(p->err, rc, "out of memory for a check's answers");
    memcpy(rp->call_ids + at, rp->need_ids, n * sizeof *rp->call_ids);
    memcpy(rp->call_p + at, rp->got_p, n * sizeof *rp->call_p);
    memcpy(rp->call_status + at, rp->got_status, n * sizeof *rp->call_status);
    rp->call_len[rp->n_calls++] = n;
    rp->n_answers += n;
    ac__mem_free(m, rp->need_ids);
    ac__mem_free(m, rp->got_p);
    ac__mem_free(m, rp->got_status);
    rp->need_ids = NULL;
    rp->got_p = NULL;
    rp->got_status = NULL;
    rp->need = 0;
    return AC_OK;
}

static int keep_checks(ac_pipeline *p, uint32_t count, const uint64_t *tickets,
                       const double *answers, const int32_t *status)
{
    ac__pair_replay *rp = &p->run.pair;
    for (uint32_t k = 0; k < count; k++) {
        const ac__ticket *t = ac__tickets_find(&p->tk, tickets[k]);
        int failed = status != NULL && status[k] != 0;
        if (t->aux != AC_WORK_KIND_CHECK)
            return ac__fail(p->err, AC_E_INVALID_ARG, "ticket %llu "
                            "(position %u of the tell) is a repair: its "
                            "candidates go to ac_pipeline_tell_repair",
                            (unsigned long long)tickets[k], k);
        if (!failed && isfinite(answers[k]) &&
            !(answers[k] >= 0.0 && answers[k] <= 1.0))
            return ac__fail(p->err, AC_E_INVALID_ARG, "first error: the "
                            "check of ticket %llu (position %u of the "
                            "tell) answered %g, outside [0, 1]",
                            (unsigned long long)tickets[k], k, answers[k]);
    }
    for (uint32_t k = 0; k < count; k++) {
        uint32_t at = ac__tickets_find(&p->tk, tickets[k])->item;
        rp->got_p[at] = answers[k];
        rp->got_status[at] = status != NULL ? status[k] : 0;
    }
    ac__tickets_told(&p->tk, count, tickets);
    ac__tickets_compact(&p->tk);
    rp->n_got += count;
    int rc = rp->n_got == rp->n_need ? append_call(p) : AC_OK;
    return rc == AC_OK ? AC_OK : fail_run(p, rc);
}

int ac_pipeline_tell_repair(ac_pipeline *p, uint64_t ticket,
                            const uint64_t *candidates, uint32_t count)
{
    if (p == NULL || (candidates == NULL && count > 0))
        return AC_E_INVALID_ARG;
    int rc = tell_state(p, "ac_pipeline_tell_repair");
    if (rc != AC_OK)
        return rc;
    rc = ac__tickets_check(&p->tk, 1, &ticket, p->err);
    if (rc != AC_OK)
        return rc;
    ac__pair_replay *rp = &p->run.pair;
    const ac__ticket *t = ac__tickets_find(&p->tk, ticket);
    if (p->run.stage != AC__STAGE_PAIR || t->aux != AC_WORK_KIND_REPAIR)
        return ac__fail(p->err, AC_E_INVALID_ARG, "ticket %llu is not a "
                        "repair: its answer goes to ac_pipeline_tell",
                        (unsigned long long)ticket);
    if (count > rp->need_max)
        return ac__fail(p->err, AC_E_INVALID_ARG, "%u candidates for a "
                        "repair of at most %u", count, rp->need_max);
    uint64_t *ids = NULL;
    if (count > 0 &&
        (ids = ac__mem_alloc(mem_of(p), count, sizeof *ids)) == NULL)
        return fail_run(p, ac__fail(p->err, AC_E_NO_MEMORY, "out of memory "
                                    "for %u candidates", count));
    if (count > 0)
        memcpy(ids, candidates, count * sizeof *ids);
    rp->ids = ids;
    rp->n_ids = count;
    rp->proposed = 1;
    rp->need = 0;
    ac__tickets_told(&p->tk, 1, &ticket);
    ac__tickets_compact(&p->tk);
    return AC_OK;
}

int ac_pipeline_progress(const ac_pipeline *p, int32_t *done,
                         uint64_t *outstanding)
{
    if (p == NULL)
        return AC_E_INVALID_ARG;
    if (done != NULL)
        *done = !run_active(p);
    if (outstanding != NULL)
        *outstanding = run_active(p) ? p->tk.outstanding : 0;
    return AC_OK;
}

/* ------------------------------------------------------------------ */
/* ac_pipeline_run: the loop over ask/tell with the callbacks          */
/* ------------------------------------------------------------------ */

static uint32_t served_by_callbacks(const ac_pipeline *p)
{
    return (p->cb.verifier != NULL ? AC_SERVES_VERIFIER : 0u) |
           (p->cb.scorer != NULL ? AC_SERVES_SCORER : 0u) |
           (p->cb.repair != NULL ? AC_SERVES_REPAIR : 0u);
}

/* The batch of the running stage: its object's AC_*_PARAM_BATCH. */
static uint32_t stage_batch(const ac_pipeline *p)
{
    int64_t b = 1;
    const ac__run *r = &p->run;
    int rc = AC_OK;
    if (r->stage == AC__STAGE_CREDIT)
        rc = ac_estimator_get_int(r->est, AC_ESTIMATOR_PARAM_BATCH, &b);
    else if (r->stage == AC__STAGE_LOCALIZE)
        rc = ac_localizer_get_int(r->loc, AC_LOCALIZER_PARAM_BATCH, &b);
    else if (r->stage == AC__STAGE_REWARDS)
        rc = ac_refiner_get_int(r->ref, AC_REFINER_PARAM_BATCH, &b);
    else if (r->stage == AC__STAGE_PAIR)
        b = 1024; /* AC_LOCALIZER_PARAM_CANDIDATES at most: a whole call */
    return rc == AC_OK && b > 0 && b <= ASK_MAX ? (uint32_t)b : ASK_MAX;
}

static int grow_batch(ac_pipeline *p, uint32_t n, uint32_t words)
{
    ac__host_batch *old = &p->batch;
    if (n <= old->cap && words <= old->words)
        return AC_OK;
    const ac__mem *m = mem_of(p);
    ac__host_batch b = {0};
    b.cap = n > old->cap ? n : old->cap;
    b.words = words > old->words ? words : old->words;
    b.work = ac__mem_alloc(m, b.cap, sizeof *b.work);
    b.coalitions = ac__mem_alloc(m, (size_t)b.cap * b.words,
                                 sizeof *b.coalitions);
    b.where = ac__mem_alloc(m, b.cap, sizeof *b.where);
    b.answers = ac__mem_alloc(m, b.cap, sizeof *b.answers);
    b.status = ac__mem_alloc(m, b.cap, sizeof *b.status);
    b.ids = ac__mem_alloc(m, b.cap, sizeof *b.ids);
    if (b.work && b.coalitions && b.where && b.answers && b.status &&
        b.ids) {
        free_batch(m, old);
        *old = b;
        return AC_OK;
    }
    free_batch(m, &b);
    return fail_run(p, ac__fail(p->err, AC_E_NO_MEMORY, "out of memory for "
                                "a batch of %u", n));
}

/* Calls a callback as the host: setters, ask, tell and run are refused
 * from inside it (AC_E_BUSY). */
typedef struct batch_size {
    uint32_t count;
    uint32_t words;
} batch_size;

static int call_host(ac_pipeline *p, const batch_size *b)
{
    const ac__callbacks *cb = &p->cb;
    int32_t kind = p->batch.work[0].kind;
    for (uint32_t k = 0; k < b->count; k++) {
        p->batch.where[k] = p->batch.work[k].message;
        p->batch.answers[k] = NAN;
        p->batch.status[k] = 0;
        p->batch.ids[k] = p->batch.work[k].candidate;
    }
    p->in_callback = 1;
    int r = 0;
    switch (kind) {
    case AC_WORK_KIND_VALUE:
        r = cb->oracle(cb->oracle_user, p->batch.coalitions, b->words, b->count,
                       p->batch.answers, p->batch.status);
        break;
    case AC_WORK_KIND_PREFIX:
        r = cb->verifier(cb->verifier_user, p->batch.where, b->count, p->batch.answers,
                         p->batch.status);
        break;
    case AC_WORK_KIND_SCORE:
        r = cb->scorer(cb->scorer_user, p->batch.where, b->count, p->batch.answers,
                       p->batch.status);
        break;
    default: /* AC_WORK_KIND_CHECK: one call of the pair's */
        r = cb->check(cb->repair_user, p->batch.where[0], p->batch.ids, b->count,
                      p->batch.answers, p->batch.status);
        break;
    }
    p->in_callback = 0;
    return r;
}

static const char *callback_name(int32_t kind)
{
    switch (kind) {
    case AC_WORK_KIND_VALUE: return "credit: the oracle";
    case AC_WORK_KIND_PREFIX: return "first error: the verifier";
    case AC_WORK_KIND_SCORE: return "rewards: the scorer";
    case AC_WORK_KIND_REPAIR: return "first error: the repair callback";
    default: return "first error: the candidate check";
    }
}

/* What the verifier could not answer (it aborted, or a tell refused its
 * answers) stops the localizer: during the corrective scan that ends the
 * scan and the run goes on (as ac_localizer_run); during the search the
 * run fails with rc, p->err saying why. */
static int stop_localizer(ac_pipeline *p, int rc)
{
    ac_localizer *l = p->run.loc;
    uint64_t ticket = 0;
    uint32_t prefix = 0, n = 0;
    int32_t done = 0;
    ac_localizer_cancel(l);
    int ask_rc = ac_localizer_ask(l, 1, &ticket, &prefix, &n);
    if (ask_rc == AC_OK)
        ask_rc = ac_localizer_progress(l, &done, NULL);
    if (ask_rc != AC_OK || !done || n != 0)
        return fail_run(p, rc);
    ac__tickets_clear(&p->tk, mem_of(p)); /* the next ask ends the stage */
    return AC_OK;
}

/* The repair proposes up to max_count candidates: the batch's ids have
 * room for them whatever the batches before (grown here, the work copied
 * first: growing moves it). */
static int serve_repair(ac_pipeline *p)
{
    const ac__callbacks *cb = &p->cb;
    ac_work one = p->batch.work[0];
    const ac_work *w = &one;
    int rc = grow_batch(p, w->max_count, p->batch.words);
    if (rc != AC_OK)
        return rc;
    uint32_t n = 0;
    p->in_callback = 1;
    int r = cb->repair(cb->repair_user, w->message, w->max_count,
                       p->batch.ids, &n);
    p->in_callback = 0;
    if (r != 0)
        return fail_run(p, ac__fail(p->err, AC_E_CALLBACK, "%s returned %d",
                                    callback_name(AC_WORK_KIND_REPAIR), r));
    if (n > w->max_count)
        return fail_run(p, ac__fail(p->err, AC_E_INVALID_ARG, "%s proposed "
                                    "%u candidates; at most %u were asked",
                                    callback_name(AC_WORK_KIND_REPAIR), n,
                                    w->max_count));
    rc = ac_pipeline_tell_repair(p, w->ticket, p->batch.ids, n);
    return rc == AC_OK ? rc : fail_run(p, rc);
}

static int serve(ac_pipeline *p, const batch_size *b)
{
    int32_t kind = p->batch.work[0].kind;
    if (kind == AC_WORK_KIND_REPAIR)
        return serve_repair(p);
    if (kind == AC_WORK_KIND_VALUE && p->cb.oracle == NULL)
        return fail_run(p, ac__fail(
            p->err, AC_E_STATE, "credit: no oracle, and the episode's "
            "values (%u known, v(all) the outcome%s) are not every "
            "coalition the estimator needs: give them, or set an oracle "
            "(ac_pipeline_set_oracle)", p->run.ep->n_known,
            p->run.ep->has_baseline ? ", v(empty) the baseline" : ""));
    int r = call_host(p, b);
    int rc = r != 0 ? ac__fail(p->err, AC_E_CALLBACK, "%s returned %d",
                               callback_name(kind), r)
                    : AC_OK;
    if (rc == AC_OK) {
        uint64_t *tickets = p->batch.ids; /* the candidates are told now */
        for (uint32_t k = 0; k < b->count; k++)
            tickets[k] = p->batch.work[k].ticket;
        rc = ac_pipeline_tell(p, b->count, tickets, p->batch.answers, p->batch.status);
    }
    if (rc == AC_OK || p->run.stage == AC__STAGE_FAILED)
        return rc;
    if (kind == AC_WORK_KIND_PREFIX)
        return stop_localizer(p, rc);
    return fail_run(p, rc);
}

int ac_pipeline_run(ac_pipeline *p, const ac_episode *ep)
{
    if (p == NULL)
        return AC_E_INVALID_ARG;
    int rc = ac__pipeline_busy(p, "ac_pipeline_run");
    if (rc == AC_OK)
        rc = ac_pipeline_start(p, ep, served_by_callbacks(p));
    uint32_t words = ac_coalition_words(p->res.n_agents);
    while (rc == AC_OK && run_active(p)) {
        uint32_t n = 0, max = stage_batch(p);
        rc = grow_batch(p, max, words);
        if (rc == AC_OK)
            rc = ac_pipeline_ask(p, max, p->batch.work, p->batch.coalitions, words, &n);
        if (rc == AC_OK && n > 0)
            rc = serve(p, &(batch_size){n, words});
        else if (rc == AC_OK && run_active(p))
            rc = fail_run(p, ac__fail(p->err, AC_E_STATE, "%s: the run "
                                      "waits for work it never handed out",
                                      stage_name(p)));
    }
    return rc;
}
