/* Repair-aware preference pairs: at the first error, the erroneous message
 * is the rejected response and a verified repair the chosen one. */
#include <math.h>
#include <string.h>

#include "failure/localizer_internal.h"

int ac_localizer_set_repair(ac_localizer *loc, ac_repair_fn repair,
                            ac_candidate_fn check, void *user)
{
    int rc = ac__localizer_check(loc, "ac_localizer_set_repair");
    if (rc != AC_OK)
        return rc;
    loc->repair = repair;
    loc->check = check;
    loc->repair_user = user;
    loc->have_pair = 0; /* new callbacks, a new pair */
    return AC_OK;
}

/* make_pair's candidate checks, kept apart from the localizer until every
 * callback has succeeded: a make_pair that fails leaves the budget, the
 * audit and the pair as they were (the error contract), so that calling
 * it again with working callbacks does what the first call would have. */
typedef struct checks {
    uint64_t *ids;    /* the candidates the repair proposed             */
    uint64_t *ask;    /* one check call's candidates                    */
    double *p;        /* each candidate's answer; NaN: none yet         */
    double *values;   /* one check call's answers                       */
    int32_t *status;  /* and their statuses                             */
    uint32_t *at;     /* the candidates still without an answer         */
    uint32_t *fails;  /* failed answers per candidate                   */
    uint32_t count;   /* candidates proposed                            */
    int64_t spent, failed, retried;
} checks;

/* The bytes per candidate of the one block that holds the arrays, the
 * 8-byte ones first so that each array is aligned. */
#define CHECK_BYTES                                                        \
    (2 * sizeof(uint64_t) + 2 * sizeof(double) + sizeof(int32_t) +       \
     2 * sizeof(uint32_t))

static void *checks_alloc(checks *c, const ac__mem *mem, uint32_t max)
{
    unsigned char *b = ac__mem_alloc(mem, max, CHECK_BYTES);
    memset(c, 0, sizeof *c);
    if (b == NULL)
        return NULL;
    c->ids = (uint64_t *)(void *)b;
    c->ask = c->ids + max;
    c->p = (double *)(void *)(c->ask + max);
    c->values = c->p + max;
    c->status = (int32_t *)(void *)(c->values + max);
    c->at = (uint32_t *)(void *)(c->status + max);
    c->fails = c->at + max;
    return b;
}

static int ask_repair(ac_localizer *l, uint32_t step, checks *c,
                      uint32_t max)
{
    l->busy = 1;
    int r = l->repair(l->repair_user, step, max, c->ids, &c->count);
    l->busy = 0;
    if (r != 0)
        return ac__fail(l->err, AC_E_CALLBACK,
                        "the repair callback returned %d", r);
    if (c->count > max)
        return ac__fail(l->err, AC_E_INVALID_ARG,
                        "the repair callback proposed %u candidates; at "
                        "most %u were asked for", c->count, max);
    return AC_OK;
}

/* One check call over the first n of the *waiting candidates still
 * without an answer; those whose answer failed wait for the next call.
 * The answer rule: a failed answer is asked again up to
 * AC_LOCALIZER_PARAM_MAX_RETRIES times, then AC_E_ORACLE; a finite one
 * outside [0, 1] is AC_E_INVALID_ARG. */
static int check_once(ac_localizer *l, uint32_t step, checks *c,
                      uint32_t *waiting, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++) {
        c->ask[i] = c->ids[c->at[i]];
        c->retried += c->fails[c->at[i]] > 0;
    }
    ac__answer_prefill(c->values, c->status, n);
    c->spent += n; /* a failed answer costs an evaluation too */
    l->busy = 1;
    int r = l->check(l->repair_user, step, c->ask, n, c->values, c->status);
    l->busy = 0;
    if (r != 0)
        return ac__fail(l->err, AC_E_CALLBACK,
                        "the candidate check callback returned %d", r);
    for (uint32_t i = 0; i < n; i++)
        if (!ac__answer_failed(c->status, c->values, i) &&
            !(c->values[i] >= 0.0 && c->values[i] <= 1.0))
            return ac__fail(l->err, AC_E_INVALID_ARG,
                            "candidate %u (id %llu) was judged %g; answers "
                            "lie in [0, 1]", c->at[i],
                            (unsigned long long)c->ask[i], c->values[i]);
    uint32_t kept = 0;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t k = c->at[i];
        if (!ac__answer_failed(c->status, c->values, i)) {
            c->p[k] = c->values[i];
            continue;
        }
        c->failed++;
        if (++c->fails[k] > (uint32_t)l->p.max_retries)
            return ac__fail(l->err, AC_E_ORACLE,
                            "the candidate check failed on candidate %u "
                            "(id %llu) %u times (last: %s %g)", k,
                            (unsigned long long)c->ask[i], c->fails[k],
                            c->status[i] ? "status" : "value",
                            c->status[i] ? (double)c->status[i]
                                         : c->values[i]);
        c->at[kept++] = k;
    }
    for (uint32_t i = n; i < *waiting; i++)
        c->at[kept++] = c->at[i];
    *waiting = kept;
    return AC_OK;
}

/* Asks for candidates and checks them; fills pair from the verified one of
 * highest p_on_track (the first on ties), if any, and then charges the
 * localizer. */
static int try_repairs(ac_localizer *l, uint32_t step, ac_preference_pair *pair)
{
    uint32_t max = (uint32_t)l->p.candidates;
    checks c;
    void *block = checks_alloc(&c, &l->mem, max);
    if (block == NULL)
        return ac__fail(l->err, AC_E_NO_MEMORY,
                        "no memory for %u candidates", max);
    int rc = ask_repair(l, step, &c, max);
    uint32_t waiting = 0;
    if (rc == AC_OK) {
        for (uint32_t k = 0; k < c.count; k++) {
            c.p[k] = NAN;
            c.fails[k] = 0;
        }
        /* the candidates past the budget are never asked */
        waiting = ac__localizer_affordable(l, c.count, 0);
        for (uint32_t k = 0; k < waiting; k++)
            c.at[k] = k;
    }
    while (rc == AC_OK && waiting > 0) {
        uint32_t n = ac__localizer_affordable(l, waiting, c.spent);
        if (n == 0)
            break; /* a failed answer the budget cannot ask again */
        rc = check_once(l, step, &c, &waiting, n);
    }
    if (rc == AC_OK) {
        ac__localizer_charge(l, (uint32_t)c.spent);
        l->repair_checks += c.spent;
        l->repair_candidates += c.count;
        l->failed_answers += c.failed;
        l->retries += c.retried;
        pair->candidates = c.count;
        int64_t best = -1;
        for (uint32_t k = 0; k < c.count; k++) {
            if (isnan(c.p[k]))
                continue; /* not checked: the budget ran out */
            pair->checked++;
            if (!(c.p[k] >= l->p.accept))
                continue;
            pair->verified++;
            if (best < 0 || c.p[k] > c.p[best])
                best = k;
        }
        if (best >= 0) {
            pair->kind = AC_PAIR_KIND_REPAIR;
            pair->chosen = c.ids[best];
            pair->confidence = c.p[best];
        }
    }
    ac__mem_free(&l->mem, block);
    return rc;
}

/* The first corrective message of the erring agent after the error. */
static void try_corrective(const ac_localizer *l, uint32_t step,
                           ac_preference_pair *pair)
{
    if (l->agent_of == NULL)
        return;
    for (uint32_t t = step + 1; t < l->n; t++)
        if ((l->flags[t] & AC_STEP_FLAG_CORRECTIVE) &&
            l->agent_of[t] == l->agent_of[step]) {
            pair->kind = AC_PAIR_KIND_CORRECTIVE;
            pair->chosen = t;
            pair->confidence = l->answer_sum[t] / l->answers[t];
            return;
        }
}

int ac_localizer_make_pair(ac_localizer *loc, uint64_t episode,
                           ac_preference_pair *pair)
{
    int rc = ac__localizer_check(loc, "ac_localizer_make_pair");
    if (rc == AC_OK)
        rc = ac__localizer_check_done(loc);
    if (rc != AC_OK)
        return rc;
    if (pair == NULL || pair->struct_size < sizeof *pair)
        return ac__fail(loc->err, AC_E_INVALID_ARG,
                        "pair is NULL or its struct_size is smaller than "
                        "sizeof(ac_preference_pair) of this library");
    if (loc->have_pair) { /* the callbacks are asked once per localization */
        ac_preference_pair out = loc->pair;
        out.episode = episode;
        memcpy(pair, &out, sizeof out);
        return AC_OK;
    }
    ac_preference_pair out;
    memset(&out, 0, sizeof out);
    out.struct_size = sizeof out;
    out.episode = episode;
    out.agent = UINT32_MAX;
    if (loc->step < 0) {
        out.reason = AC_PAIR_REASON_NOT_LOCALIZED;
        memcpy(pair, &out, sizeof out);
        return AC_OK;
    }
    uint32_t step = (uint32_t)loc->step;
    out.step = out.prompt_end = step;
    out.agent = loc->agent_of ? loc->agent_of[step] : UINT32_MAX;
    out.localization = loc->prob;
    if (loc->repair != NULL && loc->check != NULL &&
        (rc = try_repairs(loc, step, &out)) != AC_OK)
        return rc;
    if (out.kind == AC_PAIR_KIND_NONE)
        try_corrective(loc, step, &out);
    if (out.kind == AC_PAIR_KIND_NONE)
        out.reason = out.candidates == 0 ? AC_PAIR_REASON_NO_CANDIDATE
                     : out.checked == 0  ? AC_PAIR_REASON_NO_BUDGET
                                         : AC_PAIR_REASON_NOT_VERIFIED;
    else
        out.weight = out.confidence * out.localization;
    loc->pair = out;
    loc->have_pair = 1;
    memcpy(pair, &out, sizeof out);
    return AC_OK;
}
