/* Failure blame: what each message did about the first error (flags), and
 * the labels that turn it into rewards through the refiner. */
#include <string.h>

#include "failure/localizer_internal.h"

/* Whether prefix t counts as accepted in the corrective scan. A noisy
 * verifier's single "on" among "off"s is more likely a wrong answer than a
 * repair (probability 1 - p against a repair that the next prefix would
 * confirm), so with noise an accepted prefix counts only within a run of at
 * least two accepted prefixes, or as the last message. */
static int scan_accepts(const ac_localizer *l, uint32_t t)
{
    if (ac__loc_verdict(l, t) != 1)
        return 0;
    if (l->p.noise == AC_NOISE_NONE || t + 1 == l->n)
        return 1;
    return ac__loc_verdict(l, t + 1) == 1 ||
           (t > (uint32_t)l->step + 1 && ac__loc_verdict(l, t - 1) == 1);
}

/* After the first error: a rejected prefix propagates it, and so does one
 * never judged (the scan was off or the budget ran out; a failed episode
 * ends off track); an accepted one right after a rejected one repaired it
 * (corrective); accepted ones after that are back on track (recovered). */
void ac__localizer_set_flags(ac_localizer *l)
{
    memset(l->flags, 0, l->n * sizeof *l->flags);
    if (l->step < 0)
        return;
    l->flags[l->step] = AC_STEP_FLAG_FIRST_ERROR;
    int rejected = 1;
    for (uint32_t t = (uint32_t)l->step + 1; t < l->n; t++) {
        if (scan_accepts(l, t)) {
            l->flags[t] = rejected ? AC_STEP_FLAG_CORRECTIVE
                                   : AC_STEP_FLAG_RECOVERED;
            rejected = 0;
        } else {
            l->flags[t] = AC_STEP_FLAG_PROPAGATES;
            rejected = 1;
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
        if (loc->flags[t] & AC_STEP_FLAG_CORRECTIVE)
            label = p->label_corrective;
        else if (loc->flags[t] & AC_STEP_FLAG_RECOVERED)
            label = p->label_before;
        labels[t] = label < -1.0 ? -1.0 : (label > 1.0 ? 1.0 : label);
        below += at;
    }
    return AC_OK;
}
