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

/* The verified candidate of highest p_on_track, the first on ties; -1 if
 * none. A failed check (status, NaN) verifies nothing. */
static int64_t best_verified(const ac_localizer *l, const double *p,
                             const int32_t *status, uint32_t count,
                             uint32_t *verified)
{
    int64_t best = -1;
    *verified = 0;
    for (uint32_t k = 0; k < count; k++) {
        if (status[k] != 0 || !(p[k] >= l->p.accept))
            continue;
        (*verified)++;
        if (best < 0 || p[k] > p[best])
            best = k;
    }
    return best;
}

/* Asks for candidates and checks them; fills pair on a verified one. */
static int try_repairs(ac_localizer *l, uint32_t step, ac_preference_pair *pair)
{
    uint32_t max = (uint32_t)l->p.candidates, count = 0;
    uint64_t *ids = ac__mem_alloc(&l->mem, max, sizeof *ids);
    double *p = ac__mem_alloc(&l->mem, max, sizeof *p);
    int32_t *status = ac__mem_alloc(&l->mem, max, sizeof *status);
    int rc = AC_OK;
    if (!ids || !p || !status)
        rc = ac__fail(l->err, AC_E_NO_MEMORY, "no memory for %u candidates",
                      max);
    if (rc == AC_OK) {
        l->busy = 1;
        int r = l->repair(l->repair_user, step, max, ids, &count);
        l->busy = 0;
        if (r != 0)
            rc = ac__fail(l->err, AC_E_CALLBACK,
                          "the repair callback returned %d", r);
        else if (count > max)
            rc = ac__fail(l->err, AC_E_INVALID_ARG,
                          "the repair callback proposed %u candidates; at "
                          "most %u were asked for", count, max);
    }
    uint32_t checks = ac__localizer_affordable(l, count, 0);
    if (rc == AC_OK && checks > 0) {
        ac__answer_prefill(p, status, checks);
        ac__localizer_charge(l, checks);
        l->repair_checks += checks; /* spent, whatever the check returns */
        l->busy = 1;
        int r = l->check(l->repair_user, step, ids, checks, p, status);
        l->busy = 0;
        if (r != 0)
            rc = ac__fail(l->err, AC_E_CALLBACK,
                          "the candidate check callback returned %d", r);
        for (uint32_t k = 0; rc == AC_OK && k < checks; k++) {
            if (!ac__answer_failed(status, p, k) &&
                !(p[k] >= 0.0 && p[k] <= 1.0))
                rc = ac__fail(l->err, AC_E_INVALID_ARG,
                              "candidate %u was judged %g; answers lie in "
                              "[0, 1]", k, p[k]);
            if (!isfinite(p[k]))
                status[k] = status[k] ? status[k] : 1;
        }
    }
    if (count <= max)
        l->repair_candidates += count;
    if (rc == AC_OK) {
        pair->candidates = count;
        pair->checked = checks;
        int64_t best = best_verified(l, p, status, checks, &pair->verified);
        if (best >= 0) {
            pair->kind = AC_PAIR_KIND_REPAIR;
            pair->chosen = ids[best];
            pair->confidence = p[best];
        }
    }
    ac__mem_free(&l->mem, ids);
    ac__mem_free(&l->mem, p);
    ac__mem_free(&l->mem, status);
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
