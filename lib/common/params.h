/* Typed parameters of a handle (zstd's model): a table gives each parameter
 * its type, bounds, default and place in the handle's parameter struct; the
 * functions here do the checking and the copying for every object. */
#ifndef AC_PARAMS_H
#define AC_PARAMS_H

#include <stddef.h>
#include <stdint.h>

enum { AC__PARAM_INT, AC__PARAM_F64 };

typedef struct ac__param_spec {
    int id;
    int type;
    const char *name;
    double lower, upper, def;
    /* f64 only: whether the lower bound itself is excluded (B > 0). */
    int lower_open;
    size_t offset; /* into the object's parameter struct */
} ac__param_spec;

typedef struct ac__param_table {
    const ac__param_spec *specs;
    size_t count;
    const char *object; /* "estimator", "refiner": for messages */
} ac__param_table;

void ac__params_reset(const ac__param_table *t, void *store);
/* AC_E_PARAM_UNSUPPORTED (unknown id), AC_E_INVALID_ARG (other type). */
int ac__param_lookup(const ac__param_table *t, int id, int type,
                     const ac__param_spec **spec);
/* Set with every check and a message in err: unknown, wrong type, out of
 * bounds (never clamped). */
int ac__param_set_int(const ac__param_table *t, void *store, int id,
                      int64_t value, char *err);
int ac__param_set_f64(const ac__param_table *t, void *store, int id,
                      double value, char *err);
int ac__param_get_int(const ac__param_table *t, const void *store, int id,
                      int64_t *value);
int ac__param_get_f64(const ac__param_table *t, const void *store, int id,
                      double *value);
int ac__param_bounds_int(const ac__param_table *t, int id, int64_t *lower,
                         int64_t *upper);
int ac__param_bounds_f64(const ac__param_table *t, int id, double *lower,
                         double *upper);

/* The six public parameter functions of an object, over its TABLE (an
 * ac__param_table in scope), its parameter struct (the handle's member p),
 * its error buffer (err) and its own can_set(handle) check, so that every
 * object answers the same way:
 *   ac_<obj>_set_int / _set_f64    can_set, then the table's checks
 *   ac_<obj>_get_int / _get_f64    AC_E_INVALID_ARG for NULL
 *   ac_<obj>_param_bounds_int/_f64 no handle needed */
#define AC__DEFINE_PARAM_API(obj, handle_t, param_t)                          \
    int ac_##obj##_set_int(handle_t *h, param_t param, int64_t value)        \
    {                                                                        \
        int rc = can_set(h);                                                 \
        return rc != AC_OK ? rc                                              \
                           : ac__param_set_int(&TABLE, &h->p, (int)param,    \
                                               value, h->err);               \
    }                                                                        \
    int ac_##obj##_set_f64(handle_t *h, param_t param, double value)         \
    {                                                                        \
        int rc = can_set(h);                                                 \
        return rc != AC_OK ? rc                                              \
                           : ac__param_set_f64(&TABLE, &h->p, (int)param,    \
                                               value, h->err);               \
    }                                                                        \
    int ac_##obj##_get_int(const handle_t *h, param_t param, int64_t *value) \
    {                                                                        \
        if (h == NULL || value == NULL)                                      \
            return AC_E_INVALID_ARG;                                         \
        return ac__param_get_int(&TABLE, &h->p, (int)param, value);          \
    }                                                                        \
    int ac_##obj##_get_f64(const handle_t *h, param_t param, double *value)  \
    {                                                                        \
        if (h == NULL || value == NULL)                                      \
            return AC_E_INVALID_ARG;                                         \
        return ac__param_get_f64(&TABLE, &h->p, (int)param, value);          \
    }                                                                        \
    int ac_##obj##_param_bounds_int(param_t param, int64_t *lower,           \
                                    int64_t *upper)                          \
    {                                                                        \
        if (lower == NULL || upper == NULL)                                  \
            return AC_E_INVALID_ARG;                                         \
        return ac__param_bounds_int(&TABLE, (int)param, lower, upper);       \
    }                                                                        \
    int ac_##obj##_param_bounds_f64(param_t param, double *lower,            \
                                    double *upper)                           \
    {                                                                        \
        if (lower == NULL || upper == NULL)                                  \
            return AC_E_INVALID_ARG;                                         \
        return ac__param_bounds_f64(&TABLE, (int)param, lower, upper);       \
    }

#endif
