/* The estimator's parameters: one table gives each its type, bounds, default
 * and storage, and the typed setters, getters and bounds queries read it. */
#include <math.h>
#include <stddef.h>

#include "estimator_internal.h"

enum { PARAM_INT, PARAM_F64 };

typedef struct param_spec {
    ac_estimator_param id;
    int type;
    const char *name;
    double lower, upper, def;
    size_t offset; /* into ac__params */
} param_spec;

#define INT_FIELD(f) offsetof(ac__params, f)
static const param_spec PARAMS[] = {
    {AC_EST_METHOD, PARAM_INT, "AC_EST_METHOD", 0, 3, AC_METHOD_AUTO,
     INT_FIELD(method)},
    {AC_EST_BUDGET, PARAM_INT, "AC_EST_BUDGET", 0, 1099511627776.0, 2048,
     INT_FIELD(budget)},
    {AC_EST_SEED, PARAM_INT, "AC_EST_SEED", 0, 9223372036854775807.0, 0,
     INT_FIELD(seed)},
    {AC_EST_BATCH, PARAM_INT, "AC_EST_BATCH", 1, 1048576, 64, INT_FIELD(batch)},
    {AC_EST_REPEATS, PARAM_INT, "AC_EST_REPEATS", 1, 65536, 1,
     INT_FIELD(repeats)},
    {AC_EST_MAX_RETRIES, PARAM_INT, "AC_EST_MAX_RETRIES", 0, 1000, 2,
     INT_FIELD(max_retries)},
    {AC_EST_TARGET_SE, PARAM_F64, "AC_EST_TARGET_SE", 0, 1e300, 0,
     INT_FIELD(target_se)},
};
#undef INT_FIELD

static const param_spec *find_param(int id)
{
    for (size_t i = 0; i < sizeof PARAMS / sizeof PARAMS[0]; i++)
        if ((int)PARAMS[i].id == id)
            return &PARAMS[i];
    return NULL;
}

static int64_t *int_slot(ac__params *p, const param_spec *s)
{
    return (int64_t *)(void *)((char *)p + s->offset);
}

static double *f64_slot(ac__params *p, const param_spec *s)
{
    return (double *)(void *)((char *)p + s->offset);
}

void ac__params_default(ac__params *p)
{
    for (size_t i = 0; i < sizeof PARAMS / sizeof PARAMS[0]; i++) {
        if (PARAMS[i].type == PARAM_INT)
            *int_slot(p, &PARAMS[i]) = (int64_t)PARAMS[i].def;
        else
            *f64_slot(p, &PARAMS[i]) = PARAMS[i].def;
    }
}

/* Finds param and checks it has the type the caller assumes. */
static int lookup(int param, int type, const param_spec **spec)
{
    const param_spec *s = find_param(param);
    if (s == NULL)
        return AC_E_PARAM_UNSUPPORTED;
    if (s->type != type)
        return AC_E_INVALID_ARG;
    *spec = s;
    return AC_OK;
}

/* Common checks of a setter, with the message a setter owes its caller. */
static int check_set(ac_estimator *est, int param, int type,
                     const param_spec **spec)
{
    if (est == NULL)
        return AC_E_INVALID_ARG;
    if (est->busy)
        return ac__fail(est->err, AC_E_BUSY,
                        "parameters cannot change from inside the oracle");
    int rc = lookup(param, type, spec);
    if (rc == AC_E_PARAM_UNSUPPORTED)
        return ac__fail(est->err, rc,
                        "parameter %d is not an estimator parameter", param);
    if (rc != AC_OK) {
        const param_spec *s = find_param(param);
        return ac__fail(est->err, rc,
                        "%s is a%s parameter: use ac_estimator_set_%s", s->name,
                        s->type == PARAM_INT ? "n integer" : " real",
                        s->type == PARAM_INT ? "int" : "f64");
    }
    if (est->phase != AC__PHASE_IDLE)
        return ac__fail(est->err, AC_E_STATE,
                        "%s cannot change once the run has started "
                        "(ac_estimator_reset with AC_RESET_SESSION first)",
                        (*spec)->name);
    return AC_OK;
}

int ac_estimator_set_int(ac_estimator *est, ac_estimator_param param,
                         int64_t value)
{
    const param_spec *s = NULL;
    int rc = check_set(est, (int)param, PARAM_INT, &s);
    if (rc != AC_OK)
        return rc;
    if ((double)value < s->lower || (double)value > s->upper)
        return ac__fail(est->err, AC_E_PARAM_OUT_OF_BOUND,
                        "%s = %lld is outside [%.17g, %.17g]", s->name,
                        (long long)value, s->lower, s->upper);
    *int_slot(&est->p, s) = value;
    return AC_OK;
}

int ac_estimator_set_f64(ac_estimator *est, ac_estimator_param param,
                         double value)
{
    const param_spec *s = NULL;
    int rc = check_set(est, (int)param, PARAM_F64, &s);
    if (rc != AC_OK)
        return rc;
    if (!(value >= s->lower && value <= s->upper))
        return ac__fail(est->err, AC_E_PARAM_OUT_OF_BOUND,
                        "%s = %g is outside [%g, %g]", s->name, value,
                        s->lower, s->upper);
    *f64_slot(&est->p, s) = value;
    return AC_OK;
}

int ac_estimator_get_int(const ac_estimator *est, ac_estimator_param param,
                         int64_t *value)
{
    const param_spec *s = NULL;
    if (est == NULL || value == NULL)
        return AC_E_INVALID_ARG;
    int rc = lookup((int)param, PARAM_INT, &s);
    if (rc == AC_OK)
        *value = *int_slot((ac__params *)&est->p, s);
    return rc;
}

int ac_estimator_get_f64(const ac_estimator *est, ac_estimator_param param,
                         double *value)
{
    const param_spec *s = NULL;
    if (est == NULL || value == NULL)
        return AC_E_INVALID_ARG;
    int rc = lookup((int)param, PARAM_F64, &s);
    if (rc == AC_OK)
        *value = *f64_slot((ac__params *)&est->p, s);
    return rc;
}

int ac_estimator_param_bounds_int(ac_estimator_param param, int64_t *lower,
                                  int64_t *upper)
{
    const param_spec *s = NULL;
    if (lower == NULL || upper == NULL)
        return AC_E_INVALID_ARG;
    int rc = lookup((int)param, PARAM_INT, &s);
    if (rc == AC_OK) {
        *lower = (int64_t)s->lower;
        /* INT64_MAX is not a double: the seed's upper bound is spelt out. */
        *upper = s->upper >= 9223372036854775807.0 ? INT64_MAX
                                                   : (int64_t)s->upper;
    }
    return rc;
}

int ac_estimator_param_bounds_f64(ac_estimator_param param, double *lower,
                                  double *upper)
{
    const param_spec *s = NULL;
    if (lower == NULL || upper == NULL)
        return AC_E_INVALID_ARG;
    int rc = lookup((int)param, PARAM_F64, &s);
    if (rc == AC_OK) {
        *lower = s->lower;
        *upper = s->upper;
    }
    return rc;
}
