/* The estimator's parameters: its table, and the public typed setters,
 * getters and bounds queries over the shared machinery of params.c. */
#include <stddef.h>

#include "credit/estimator_internal.h"
#include "common/params.h"

#define FIELD(f) offsetof(ac__params, f)
static const ac__param_spec SPECS[] = {
    {AC_ESTIMATOR_PARAM_METHOD, AC__PARAM_INT, "AC_ESTIMATOR_PARAM_METHOD", 0, 6, AC_METHOD_AUTO, 0,
     FIELD(method)},
    {AC_ESTIMATOR_PARAM_BUDGET, AC__PARAM_INT, "AC_ESTIMATOR_PARAM_BUDGET", 0, 1099511627776.0, 2048,
     0, FIELD(budget)},
    {AC_ESTIMATOR_PARAM_SEED, AC__PARAM_INT, "AC_ESTIMATOR_PARAM_SEED", 0, 9223372036854775807.0, 0, 0,
     FIELD(seed)},
    {AC_ESTIMATOR_PARAM_BATCH, AC__PARAM_INT, "AC_ESTIMATOR_PARAM_BATCH", 1, 1048576, 64, 0,
     FIELD(batch)},
    {AC_ESTIMATOR_PARAM_REPEATS, AC__PARAM_INT, "AC_ESTIMATOR_PARAM_REPEATS", 1, 65536, 1, 0,
     FIELD(repeats)},
    {AC_ESTIMATOR_PARAM_MAX_RETRIES, AC__PARAM_INT, "AC_ESTIMATOR_PARAM_MAX_RETRIES", 0, 1000, 2, 0,
     FIELD(max_retries)},
    {AC_ESTIMATOR_PARAM_NOISY, AC__PARAM_INT, "AC_ESTIMATOR_PARAM_NOISY", 0, 1, 0, 0, FIELD(noisy)},
    {AC_ESTIMATOR_PARAM_TARGET_SE, AC__PARAM_F64, "AC_ESTIMATOR_PARAM_TARGET_SE", 0, 1e300, 0, 0,
     FIELD(target_se)},
    {AC_ESTIMATOR_PARAM_INTERACTIONS, AC__PARAM_INT, "AC_ESTIMATOR_PARAM_INTERACTIONS", 0, 1, 0, 0,
     FIELD(interactions)},
};
#undef FIELD

/* The table is the pipeline's too: it keeps the parameters it passes on
 * (pipeline.c). */
const ac__param_table ac__estimator_param_table = {
    SPECS, sizeof SPECS / sizeof SPECS[0], "estimator"};
#define TABLE ac__estimator_param_table


void ac__params_default(ac__params *p)
{
    ac__params_reset(&TABLE, p);
}

/* What every setter checks before the table's own checks. */
static int can_set(ac_estimator *est)
{
    if (est == NULL)
        return AC_E_INVALID_ARG;
    if (est->busy)
        return ac__fail(est->err, AC_E_BUSY,
                        "parameters cannot change from inside the oracle");
    return ac__check_idle(est->phase, "ac_estimator_set_int/_f64", est->err);
}

AC__DEFINE_PARAM_API(estimator, ac_estimator, ac_estimator_param)
