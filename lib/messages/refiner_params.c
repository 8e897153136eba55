/* The refiner's parameters over the shared machinery of params.c. */
#include <stddef.h>

#include "common/params.h"
#include "messages/refiner_internal.h"

#define FIELD(f) offsetof(ac__refiner_params, f)
static const ac__param_spec SPECS[] = {
    {AC_REFINER_PARAM_BOUND, AC__PARAM_F64, "AC_REFINER_PARAM_BOUND", 0, 1e300, 1, 1, FIELD(bound)},
    {AC_REFINER_PARAM_BETA, AC__PARAM_F64, "AC_REFINER_PARAM_BETA", 0, 1e6, 0.5, 0, FIELD(beta)},
    {AC_REFINER_PARAM_REDUNDANCY_PENALTY, AC__PARAM_F64, "AC_REFINER_PARAM_REDUNDANCY_PENALTY", 0,
     1, 0.5, 0, FIELD(penalty)},
    {AC_REFINER_PARAM_RELAXATION, AC__PARAM_INT, "AC_REFINER_PARAM_RELAXATION", AC_RELAXATION_ORDERED,
     AC_RELAXATION_NEVER, AC_RELAXATION_ORDERED, 0, FIELD(relaxation)},
    {AC_REFINER_PARAM_BATCH, AC__PARAM_INT, "AC_REFINER_PARAM_BATCH", 1, 1048576, 64, 0,
     FIELD(batch)},
    {AC_REFINER_PARAM_MAX_RETRIES, AC__PARAM_INT, "AC_REFINER_PARAM_MAX_RETRIES", 0, 1000, 2, 0,
     FIELD(max_retries)},
};
#undef FIELD

/* The table is the pipeline's too: it keeps the parameters it passes on
 * (pipeline.c). */
const ac__param_table ac__refiner_param_table = {
    SPECS, sizeof SPECS / sizeof SPECS[0], "refiner"};
#define TABLE ac__refiner_param_table


void ac__refiner_params_default(ac__refiner_params *p)
{
    ac__params_reset(&TABLE, p);
}

static int can_set(ac_refiner *ref)
{
    if (ref == NULL)
        return AC_E_INVALID_ARG;
    if (ref->busy)
        return ac__fail(ref->err, AC_E_BUSY,
                        "parameters cannot change from inside the scorer");
    return ac__check_idle(ref->phase, "ac_refiner_set_int/_f64", ref->err);
}

AC__DEFINE_PARAM_API(refiner, ac_refiner, ac_refiner_param)
