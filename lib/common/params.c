#include "common/params.h"

#include "agentcredit.h"
#include "common/errors.h"

static int64_t *int_slot(void *store, const ac__param_spec *s)
{
    return (int64_t *)(void *)((char *)store + s->offset);
}

static double *f64_slot(void *store, const ac__param_spec *s)
{
    return (double *)(void *)((char *)store + s->offset);
}

void ac__params_reset(const ac__param_table *t, void *store)
{
    for (size_t i = 0; i < t->count; i++) {
        if (t->specs[i].type == AC__PARAM_INT)
            *int_slot(store, &t->specs[i]) = (int64_t)t->specs[i].def;
        else
            *f64_slot(store, &t->specs[i]) = t->specs[i].def;
    }
}

int ac__param_lookup(const ac__param_table *t, int id, int type,
                     const ac__param_spec **spec)
{
    for (size_t i = 0; i < t->count; i++) {
        if (t->specs[i].id != id)
            continue;
        if (t->specs[i].type != type)
            return AC_E_INVALID_ARG;
        *spec = &t->specs[i];
        return AC_OK;
    }
    return AC_E_PARAM_UNSUPPORTED;
}

/* The lookup, with the message a setter owes its caller. */
static int lookup_for_set(const ac__param_table *t, int id, int type,
                          const ac__param_spec **spec, char *err)
{
    int rc = ac__param_lookup(t, id, type, spec);
    if (rc == AC_E_PARAM_UNSUPPORTED)
        return ac__fail(err, rc, "parameter %d is not a%s %s parameter", id,
                        t->object[0] == 'e' ? "n" : "", t->object);
    if (rc != AC_OK)
        return ac__fail(err, rc, "parameter %d is a%s parameter: use "
                        "ac_%s_set_%s", id,
                        type == AC__PARAM_INT ? " real" : "n integer",
                        t->object, type == AC__PARAM_INT ? "f64" : "int");
    return AC_OK;
}

int ac__param_set_int(const ac__param_table *t, void *store, int id,
                      int64_t value, char *err)
{
    const ac__param_spec *s = NULL;
    int rc = lookup_for_set(t, id, AC__PARAM_INT, &s, err);
    if (rc != AC_OK)
        return rc;
    if ((double)value < s->lower || (double)value > s->upper)
        return ac__fail(err, AC_E_PARAM_OUT_OF_BOUND,
                        "%s = %lld is outside [%.17g, %.17g]", s->name,
                        (long long)value, s->lower, s->upper);
    *int_slot(store, s) = value;
    return AC_OK;
}

int ac__param_set_f64(const ac__param_table *t, void *store, int id,
                      double value, char *err)
{
    const ac__param_spec *s = NULL;
    int rc = lookup_for_set(t, id, AC__PARAM_F64, &s, err);
    if (rc != AC_OK)
        return rc;
    int above = s->lower_open ? value > s->lower : value >= s->lower;
    if (!(above && value <= s->upper))
        return ac__fail(err, AC_E_PARAM_OUT_OF_BOUND,
                        "%s = %g is outside %c%g, %g]", s->name, value,
                        s->lower_open ? '(' : '[', s->lower, s->upper);
    *f64_slot(store, s) = value;
    return AC_OK;
}

int ac__param_get_int(const ac__param_table *t, const void *store, int id,
                      int64_t *value)
{
    const ac__param_spec *s = NULL;
    int rc = ac__param_lookup(t, id, AC__PARAM_INT, &s);
    if (rc == AC_OK)
        *value = *int_slot((void *)store, s);
    return rc;
}

int ac__param_get_f64(const ac__param_table *t, const void *store, int id,
                      double *value)
{
    const ac__param_spec *s = NULL;
    int rc = ac__param_lookup(t, id, AC__PARAM_F64, &s);
    if (rc == AC_OK)
        *value = *f64_slot((void *)store, s);
    return rc;
}

int ac__param_bounds_int(const ac__param_table *t, int id, int64_t *lower,
                         int64_t *upper)
{
    const ac__param_spec *s = NULL;
    int rc = ac__param_lookup(t, id, AC__PARAM_INT, &s);
    if (rc == AC_OK) {
        *lower = (int64_t)s->lower;
        /* INT64_MAX is not a double: the seed's upper bound is spelt out. */
        *upper = s->upper >= 9223372036854775807.0 ? INT64_MAX
                                                   : (int64_t)s->upper;
    }
    return rc;
}

int ac__param_bounds_f64(const ac__param_table *t, int id, double *lower,
                         double *upper)
{
    const ac__param_spec *s = NULL;
    int rc = ac__param_lookup(t, id, AC__PARAM_F64, &s);
    if (rc == AC_OK) {
        *lower = s->lower;
        *upper = s->upper;
    }
    return rc;
}
