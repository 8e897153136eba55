/* Failure blame: what each message did about the first error (flags), and
 * the labels that turn it into rewards through the refiner. */
#include <string.h>

#include "localizer_internal.h"

/* After the first error: a rejected prefix propagates it; an accepted one
 * right after a rejected one repaired it (corrective); accepted ones after
 * that are back on track (recovered). A prefix never judged carries the
 * state before it. */
void ac__localizer_set_flags(ac_localizer *l)
{
    memset(l->flags, 0, l->n * sizeof *l->flags);
    if (l->step < 0)
        return;
    l->flags[l->step] = AC_STEP_FIRST_ERROR;
    int rejected = 1;
    for (uint32_t t = (uint32_t)l->step + 1; t < l->n; t++) {
        int v = ac__loc_verdict(l, t);
        if (v == 1) {
            l->flags[t] = rejected ? AC_STEP_CORRECTIVE : AC_STEP_RECOVERED;
            rejected = 0;
        } else if (v == 0 || rejected) {
            l->flags[t] = AC_STEP_PROPAGATES;
            rejected = 1;
        } else {
            l->flags[t] = AC_STEP_RECOVERED;
        }
    }
}

int ac_localizer_blame_labels(const ac_localizer *loc, double *labels,
                              uint32_t n_messages)
{
    int rc = ac__localizer_check_done(loc);
    if (rc != AC_OK)
        return rc;
    if (labels == NULL || n_messages != loc->n)
        return ac__fail(loc->err, AC_E_INVALID_ARG,
                        "labels: %u entries given, %u expected", n_messages,
                        loc->n);
    const ac__localizer_params *p = &loc->p;
    double below = 0.0; /* P(h < t) */
    for (uint32_t t = 0; t < loc->n; t++) {
        double at = loc->post[t], after = 1.0 - below - at;
        if (after < 0.0)
            after = 0.0;
        double label = after * p->label_before + at * p->label_error +
                       below * p->label_propagate;
        if (loc->flags[t] & AC_STEP_CORRECTIVE)
            label = p->label_corrective;
        else if (loc->flags[t] & AC_STEP_RECOVERED)
            label = p->label_before;
        labels[t] = label < -1.0 ? -1.0 : (label > 1.0 ? 1.0 : label);
        below += at;
    }
    return AC_OK;
}
