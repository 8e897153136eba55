/* SPDX-License-Identifier: MIT
 * agentcredit command-line tool: option parsing and estimator helpers. */
#include "cli.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

void cli_error(const char *fmt, ...)
{
    va_list ap;
    fputs("agentcredit: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

int cli_parse_int(const char *option, const char *text, int64_t *out)
{
    char *end = NULL;
    errno = 0;
    long long v = strtoll(text, &end, 10);
    if (text[0] == '\0' || end == NULL || *end != '\0' || errno == ERANGE) {
        cli_error("%s expects an integer, got '%s'", option, text);
        return -1;
    }
    *out = (int64_t)v;
    return 0;
}

int cli_parse_f64(const char *option, const char *text, double *out)
{
    char *end = NULL;
    errno = 0;
    double v = strtod(text, &end);
    if (text[0] == '\0' || end == NULL || *end != '\0' || errno == ERANGE ||
        !isfinite(v)) {
        cli_error("%s expects a finite number, got '%s'", option, text);
        return -1;
    }
    *out = v;
    return 0;
}

static const char *const method_names[] = {"auto",       "exact",
                                           "permutation", "kernelshap",
                                           "adaptive",   "oddshap"};

int cli_parse_method(const char *text, int64_t *out)
{
    for (size_t m = 0; m < sizeof method_names / sizeof method_names[0]; m++) {
        if (strcmp(text, method_names[m]) == 0) {
            *out = (int64_t)m;
            return 0;
        }
    }
    cli_error("--method expects auto, exact, permutation, kernelshap, "
              "adaptive or oddshap, got '%s'", text);
    return -1;
}

const char *cli_method_name(int64_t method)
{
    if (method >= 0 &&
        method < (int64_t)(sizeof method_names / sizeof method_names[0]))
        return method_names[method];
    return "unknown";
}

const char *cli_stop_name(int64_t stop)
{
    switch (stop) {
    case AC_ESTIMATOR_OUTCOME_PENDING: return "none";
    case AC_ESTIMATOR_OUTCOME_COMPLETE: return "complete";
    case AC_ESTIMATOR_OUTCOME_BUDGET: return "budget";
    case AC_ESTIMATOR_OUTCOME_TARGET: return "target";
    case AC_ESTIMATOR_OUTCOME_CANCELLED: return "cancelled";
    case AC_ESTIMATOR_OUTCOME_ERROR: return "error";
    default: return "unknown";
    }
}

static void explain_refusal(const ac_estimator *est, ac_estimator_param param,
                            const char *option, const char *value, int rc)
{
    const char *detail = ac_estimator_last_error(est);
    if (rc == AC_E_PARAM_OUT_OF_BOUND) {
        int64_t lo = 0, hi = 0;
        double flo = 0, fhi = 0;
        if (ac_estimator_param_bounds_int(param, &lo, &hi) == AC_OK)
            cli_error("%s %s: out of bounds, it must be in [%" PRId64
                      ", %" PRId64 "]",
                      option, value, lo, hi);
        else if (ac_estimator_param_bounds_f64(param, &flo, &fhi) == AC_OK)
            cli_error("%s %s: out of bounds, it must be in [%g, %g]", option,
                      value, flo, fhi);
        else
            cli_error("%s %s: %s", option, value, ac_strerror(rc));
    } else {
        cli_error("%s %s: %s%s%s", option, value, ac_strerror(rc),
                  detail && *detail ? ": " : "", detail ? detail : "");
    }
}

int cli_set_int(ac_estimator *est, ac_estimator_param param,
                const char *option, int64_t value)
{
    int rc = ac_estimator_set_int(est, param, value);
    if (rc != AC_OK) {
        char text[32];
        snprintf(text, sizeof text, "%" PRId64, value);
        explain_refusal(est, param, option, text, rc);
        return -1;
    }
    return 0;
}

int cli_set_f64(ac_estimator *est, ac_estimator_param param,
                const char *option, double value)
{
    int rc = ac_estimator_set_f64(est, param, value);
    if (rc != AC_OK) {
        char text[32];
        snprintf(text, sizeof text, "%g", value);
        explain_refusal(est, param, option, text, rc);
        return -1;
    }
    return 0;
}

void cli_audit_read(const ac_estimator *est, int64_t audit[CLI_AUDIT_KEYS])
{
    for (int key = 0; key < CLI_AUDIT_KEYS; key++) {
        if (key == 0 ||
            ac_estimator_audit(est, (ac_estimator_audit_key)key,
                               &audit[key]) != AC_OK)
            audit[key] = -1;
    }
}

void cli_audit_print(FILE *f, const int64_t a[CLI_AUDIT_KEYS])
{
    fprintf(f,
            "method %s, evaluations %" PRId64 " of budget %" PRId64
            ", coalitions %" PRId64 ", repeats %" PRId64
            ", cache hits %" PRId64 ", known %" PRId64 ", rounds %" PRId64
            ", samples %" PRId64 ", failures %" PRId64 ", retries %" PRId64
            ", stop reason %s\n",
            cli_method_name(a[AC_ESTIMATOR_AUDIT_METHOD]), a[AC_ESTIMATOR_AUDIT_EVALUATIONS],
            a[AC_ESTIMATOR_AUDIT_BUDGET], a[AC_ESTIMATOR_AUDIT_COALITIONS], a[AC_ESTIMATOR_AUDIT_REPEATS],
            a[AC_ESTIMATOR_AUDIT_CACHE_HITS], a[AC_ESTIMATOR_AUDIT_KNOWN], a[AC_ESTIMATOR_AUDIT_ROUNDS],
            a[AC_ESTIMATOR_AUDIT_SAMPLES], a[AC_ESTIMATOR_AUDIT_FAILURES], a[AC_ESTIMATOR_AUDIT_RETRIES],
            cli_stop_name(a[AC_ESTIMATOR_AUDIT_OUTCOME]));
}

int cli_option_value(int argc, char **argv, int *i, const char *name,
                     const char **value)
{
    const char *arg = argv[*i];
    size_t len = strlen(name);
    if (strncmp(arg, name, len) != 0)
        return 0;
    if (arg[len] == '=') {
        *value = arg + len + 1;
        *i += 1;
        return 1;
    }
    if (arg[len] != '\0')
        return 0;
    if (*i + 1 >= argc) {
        cli_error("%s needs a value", name);
        return -1;
    }
    *value = argv[*i + 1];
    *i += 2;
    return 1;
}
