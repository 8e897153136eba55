/* The localizer's parameters over the shared machinery of params.c. */
#include <stddef.h>

#include "failure/localizer_internal.h"
#include "common/params.h"

#define FIELD(f) offsetof(ac__localizer_params, f)
#define INT(id, lo, hi, def, f)                                              \
    {id, AC__PARAM_INT, #id, lo, hi, def, 0, FIELD(f)}
#define F64(id, lo, hi, def, open, f)                                        \
    {id, AC__PARAM_F64, #id, lo, hi, def, open, FIELD(f)}
static const ac__param_spec SPECS[] = {
    INT(AC_LOCALIZER_PARAM_STRATEGY, AC_STRATEGY_AUTO, AC_STRATEGY_SCORES,
        AC_STRATEGY_AUTO, strategy),
    INT(AC_LOCALIZER_PARAM_NOISE, AC_NOISE_NONE, AC_NOISE_REPEATABLE,
        AC_NOISE_NONE, noise),
    F64(AC_LOCALIZER_PARAM_ACCURACY, 0.5, 0.999999999, 0.8, 1, accuracy),
    INT(AC_LOCALIZER_PARAM_BUDGET, 0, 2147483648.0, 1024, budget),
    INT(AC_LOCALIZER_PARAM_BATCH, 1, 4096, 1, batch),
    F64(AC_LOCALIZER_PARAM_TARGET, 0.5, 0.999999, 0.95, 1, target),
    INT(AC_LOCALIZER_PARAM_MAX_RETRIES, 0, 1000, 2, max_retries),
    INT(AC_LOCALIZER_PARAM_MONOTONE, 0, 1, 1, monotone),
    INT(AC_LOCALIZER_PARAM_SCAN_AFTER, 0, 1, 1, scan_after),
    F64(AC_LOCALIZER_PARAM_THRESHOLD, 0.0, 1.0, 0.5, 0, threshold),
    F64(AC_LOCALIZER_PARAM_LABEL_ERROR, -1.0, 0.0, -1.0, 0, label_error),
    F64(AC_LOCALIZER_PARAM_LABEL_PROPAGATE, -1.0, 0.0, -0.25, 0,
        label_propagate),
    F64(AC_LOCALIZER_PARAM_LABEL_CORRECTIVE, 0.0, 1.0, 1.0, 0,
        label_corrective),
    F64(AC_LOCALIZER_PARAM_LABEL_BEFORE, -1.0, 1.0, 0.1, 0, label_before),
    INT(AC_LOCALIZER_PARAM_CANDIDATES, 1, 1024, 4, candidates),
    F64(AC_LOCALIZER_PARAM_ACCEPT, 0.0, 1.0, 0.5, 1, accept),
};
#undef INT
#undef F64
#undef FIELD

/* The table is the pipeline's too: it keeps the parameters it passes on
 * (pipeline.c). */
const ac__param_table ac__localizer_param_table = {
    SPECS, sizeof SPECS / sizeof SPECS[0], "localizer"};
#define TABLE ac__localizer_param_table


void ac__localizer_params_default(ac__localizer_params *p)
{
    ac__params_reset(&TABLE, p);
}

/* Parameters shape the run: they change only before it starts. */
static int can_set(ac_localizer *loc)
{
    int rc = ac__localizer_check(loc, "a parameter setter");
    return rc != AC_OK ? rc
                       : ac__check_idle(loc->phase,
                                        "ac_localizer_set_int/_f64", loc->err);
}

AC__DEFINE_PARAM_API(localizer, ac_localizer, ac_localizer_param)
