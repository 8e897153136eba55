/* Feed 2 of the refiner: labels from the host's scorer, through ask/tell or
 * the callback driver ac_refiner_score() (a loop over ask/tell). */
#include <math.h>

#include "messages/refiner_internal.h"

/* The common checks of the scorer calls, which need the authors. */
static int check_handle(ac_refiner *r, const char *what)
{
    int rc = ac__refiner_check(r, what);
    return rc != AC_OK ? rc : ac__refiner_need_authors(r);
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

int ac_refiner_ask(ac_refiner *ref, uint32_t max_count, uint32_t *messages,
                   uint32_t *count)
{
    int rc = check_handle(ref, "ac_refiner_ask");
    if (rc != AC_OK)
        return rc;
    if (count == NULL || (max_count > 0 && messages == NULL))
        return ac__fail(ref->err, AC_E_INVALID_ARG,
                        "ask needs count and a messages buffer");
    uint32_t out = 0;
    /* One pass over the messages from the cursor; failed labels come back
     * as AC__LABEL_NONE and the cursor restarts when it reaches the end. */
    for (uint32_t seen = 0; seen < ref->n_messages && out < max_count; seen++) {
        uint32_t t = ref->scan;
        ref->scan = ref->scan + 1 == ref->n_messages ? 0 : ref->scan + 1;
        if (ac__refiner_needs_label(ref, t) &&
            ref->label_state[t] == AC__LABEL_NONE) {
            ref->label_state[t] = AC__LABEL_ASKED;
            messages[out++] = t;
        }
    }
    *count = out;
    return AC_OK;
}

int ac_refiner_tell(ac_refiner *ref, uint32_t count, const uint32_t *messages,
                    const double *labels, const int32_t *status)
{
    int rc = check_handle(ref, "ac_refiner_tell");
    if (rc != AC_OK)
        return rc;
    if (count > 0 && (messages == NULL || labels == NULL))
        return ac__fail(ref->err, AC_E_INVALID_ARG,
                        "tell needs messages and labels");
    /* Validate the whole call before taking any of it. */
    for (uint32_t k = 0; k < count; k++) {
        uint32_t t = messages[k];
        if (t >= ref->n_messages || ref->label_state[t] != AC__LABEL_ASKED)
            return ac__fail(ref->err, AC_E_INVALID_ARG,
                            "message %u (position %u) is not waiting for a "
                            "label", t, k);
        for (uint32_t j = 0; j < k; j++)
            if (messages[j] == t)
                return ac__fail(ref->err, AC_E_INVALID_ARG,
                                "message %u is told twice in one call", t);
        int failed = (status && status[k] != 0) || isnan(labels[k]);
        if (!failed && !(labels[k] >= -1.0 && labels[k] <= 1.0))
            return ac__fail(ref->err, AC_E_INVALID_ARG,
                            "the scorer labelled message %u %g; labels lie "
                            "in [-1, 1]", t, labels[k]);
    }
    for (uint32_t k = 0; k < count; k++) {
        uint32_t t = messages[k];
        if ((status && status[k] != 0) || isnan(labels[k])) {
            if (++ref->failures[t] > (uint32_t)ref->p.max_retries)
                rc = ac__fail(ref->err, AC_E_ORACLE,
                              "the scorer failed on message %u %u times "
                              "(%s)", t, ref->failures[t],
                              status && status[k] ? "status" : "NaN");
            ref->label_state[t] = AC__LABEL_NONE; /* asked again */
        } else {
            ref->label_state[t] = AC__LABEL_SET;
            ref->label[t] = labels[k];
        }
    }
    return rc;
}

int ac_refiner_score(ac_refiner *ref)
{
    int rc = check_handle(ref, "ac_refiner_score");
    if (rc != AC_OK)
        return rc;
    if (ref->scorer == NULL)
        return ac__fail(ref->err, AC_E_STATE,
                        "no scorer: call ac_refiner_set_scorer first");
    uint32_t width = (uint32_t)ref->p.batch;
    if (width > ref->n_messages)
        width = ref->n_messages;
    uint32_t *messages = ac__mem_alloc(&ref->mem, width, sizeof *messages);
    double *labels = ac__mem_alloc(&ref->mem, width, sizeof *labels);
    int32_t *status = ac__mem_alloc(&ref->mem, width, sizeof *status);
    if (!messages || !labels || !status)
        rc = ac__fail(ref->err, AC_E_NO_MEMORY, "no memory for a batch of %u",
                      width);
    while (rc == AC_OK) {
        uint32_t count = 0;
        rc = ac_refiner_ask(ref, width, messages, &count);
        if (rc != AC_OK || count == 0)
            break;
        for (uint32_t k = 0; k < count; k++) {
            labels[k] = NAN;
            status[k] = 0;
        }
        ref->busy = 1;
        int r = ref->scorer(ref->scorer_user, messages, count, labels, status);
        ref->busy = 0;
        if (r != 0) {
            for (uint32_t k = 0; k < count; k++)
                ref->label_state[messages[k]] = AC__LABEL_NONE;
            rc = ac__fail(ref->err, AC_E_CALLBACK,
                          "the scorer callback returned %d", r);
            break;
        }
        rc = ac_refiner_tell(ref, count, messages, labels, status);
        if (rc != AC_OK) /* give the batch back so a retry can ask again */
            for (uint32_t k = 0; k < count; k++)
                if (ref->label_state[messages[k]] == AC__LABEL_ASKED)
                    ref->label_state[messages[k]] = AC__LABEL_NONE;
    }
    ac__mem_free(&ref->mem, messages);
    ac__mem_free(&ref->mem, labels);
    ac__mem_free(&ref->mem, status);
    return rc;
}
