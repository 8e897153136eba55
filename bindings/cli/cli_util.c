/* SPDX-License-Identifier: MIT
 * agentcredit command-line tool: option parsing and estimator helpers. */
#define _POSIX_C_SOURCE 200809L /* fileno, fstat */

#include "cli.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

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

void cli_print_exit_status(FILE *f)
{
    fputs("Exit status: 0 success, 1 the run failed, 2 bad command line or "
          "input.\n",
          f);
}

const struct cli_name cli_methods[] = {
    {AC_METHOD_AUTO, "auto"},
    {AC_METHOD_EXACT, "exact"},
    {AC_METHOD_PERMUTATION, "permutation"},
    {AC_METHOD_KERNELSHAP, "kernelshap"},
    {AC_METHOD_ADAPTIVE, "adaptive"},
    {AC_METHOD_ODDSHAP, "oddshap"},
    {AC_METHOD_SURROGATE, "surrogate"},
};
const size_t cli_method_count = sizeof cli_methods / sizeof cli_methods[0];

static const struct cli_name outcomes[] = {
    {AC_ESTIMATOR_OUTCOME_PENDING, "pending"},
    {AC_ESTIMATOR_OUTCOME_COMPLETE, "complete"},
    {AC_ESTIMATOR_OUTCOME_BUDGET, "budget"},
    {AC_ESTIMATOR_OUTCOME_TARGET, "target"},
    {AC_ESTIMATOR_OUTCOME_CANCELLED, "cancelled"},
    {AC_ESTIMATOR_OUTCOME_ERROR, "error"},
};

static const char *name_of(const struct cli_name *table, size_t count,
                           int64_t value)
{
    for (size_t k = 0; k < count; k++)
        if (table[k].value == value)
            return table[k].name;
    return "unknown";
}

int cli_parse_method(const char *text, int64_t *out)
{
    for (size_t m = 0; m < cli_method_count; m++) {
        if (strcmp(text, cli_methods[m].name) == 0) {
            *out = cli_methods[m].value;
            return 0;
        }
    }
    char list[256];
    cli_method_list(list, sizeof list, ", ");
    cli_error("--method expects one of %s; got '%s'", list, text);
    return -1;
}

void cli_method_list(char *buf, size_t size, const char *sep)
{
    size_t used = 0;
    if (size == 0)
        return;
    buf[0] = '\0';
    for (size_t m = 0; m < cli_method_count && used < size; m++) {
        int w = snprintf(buf + used, size - used, "%s%s", m ? sep : "",
                         cli_methods[m].name);
        if (w < 0)
            return;
        used += (size_t)w;
    }
}

const char *cli_method_name(int64_t method)
{
    return name_of(cli_methods, cli_method_count, method);
}

const char *cli_outcome_name(int64_t outcome)
{
    return name_of(outcomes, sizeof outcomes / sizeof outcomes[0], outcome);
}

int cli_default_int(ac_estimator_param param, int64_t *out)
{
    ac_estimator *est = NULL;
    if (ac_estimator_create(&est, 1, NULL) != AC_OK)
        return -1;
    int rc = ac_estimator_get_int(est, param, out);
    ac_estimator_free(est);
    return rc == AC_OK ? 0 : -1;
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

const struct cli_audit_field cli_audit_fields[] = {
    {AC_ESTIMATOR_AUDIT_METHOD, "method", cli_method_name},
    {AC_ESTIMATOR_AUDIT_EVALUATIONS, "evaluations", NULL},
    {AC_ESTIMATOR_AUDIT_COALITIONS, "coalitions", NULL},
    {AC_ESTIMATOR_AUDIT_REPEATS, "repeats", NULL},
    {AC_ESTIMATOR_AUDIT_CACHE_HITS, "cache_hits", NULL},
    {AC_ESTIMATOR_AUDIT_ROUNDS, "rounds", NULL},
    {AC_ESTIMATOR_AUDIT_FAILURES, "failures", NULL},
    {AC_ESTIMATOR_AUDIT_RETRIES, "retries", NULL},
    {AC_ESTIMATOR_AUDIT_OUTCOME, "outcome", cli_outcome_name},
    {AC_ESTIMATOR_AUDIT_SAMPLES, "samples", NULL},
    {AC_ESTIMATOR_AUDIT_KNOWN, "known", NULL},
    {AC_ESTIMATOR_AUDIT_BUDGET, "budget", NULL},
    {AC_ESTIMATOR_AUDIT_DROPPED, "dropped", NULL},
};
const size_t cli_audit_field_count =
    sizeof cli_audit_fields / sizeof cli_audit_fields[0];

void cli_audit_print(FILE *f, const ac_estimator *est)
{
    for (size_t k = 0; k < cli_audit_field_count; k++) {
        const struct cli_audit_field *field = &cli_audit_fields[k];
        if (k > 0)
            fputs(", ", f);
        for (const char *c = field->name; *c; c++)
            fputc(*c == '_' ? ' ' : *c, f);
        int64_t v = 0;
        if (ac_estimator_audit(est, field->key, &v) != AC_OK)
            fputs(" unavailable", f);
        else if (field->value_name != NULL)
            fprintf(f, " %s", field->value_name(v));
        else
            fprintf(f, " %" PRId64, v);
    }
    fputc('\n', f);
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

int cli_option_flag(const char *arg, const char *name)
{
    size_t len = strlen(name);
    if (strncmp(arg, name, len) != 0)
        return 0;
    if (arg[len] == '\0')
        return 1;
    if (arg[len] == '=') {
        cli_error("%s takes no value, got '%s'", name, arg);
        return -1;
    }
    return 0;
}

int cli_is_help(const char *arg)
{
    return strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0;
}

int cli_parse_size(const char *option, const char *text, uint64_t *out)
{
    static const char units[] = "KMGT";
    char *end = NULL;
    unsigned long long v = 0;
    int ok = text[0] >= '0' && text[0] <= '9', shift = 0;
    if (ok) {
        errno = 0;
        v = strtoull(text, &end, 10);
        ok = errno != ERANGE && v > 0;
    }
    if (ok && *end != '\0') {
        const char *u = strchr(units, *end);
        ok = u != NULL && end[1] == '\0';
        shift = ok ? 10 * (int)(u - units + 1) : 0;
    }
    if (!ok || (shift > 0 && v > (UINT64_MAX >> shift))) {
        cli_error("%s expects a positive integer, optionally with a suffix "
                  "K, M, G or T; got '%s'", option, text);
        return -1;
    }
    *out = (uint64_t)v << shift;
    return 0;
}

int cli_signals_line(const ac_pipeline *p, const ac_episode *ep,
                     size_t guess, char **out, size_t *len)
{
    size_t cap = guess + 1, need = 0;
    char *line = malloc(cap);
    int rc = line ? ac_pipeline_write_json(p, ep, line, cap, &need)
                  : AC_E_NO_MEMORY;
    if (rc == AC_OK && need >= cap) { /* the guess was short: once more */
        char *more = realloc(line, need + 1);
        rc = more ? ac_pipeline_write_json(p, ep, more, need + 1, &need)
                  : AC_E_NO_MEMORY;
        line = more ? more : line;
    }
    if (rc != AC_OK) {
        free(line);
        return rc;
    }
    *out = line;
    *len = need;
    return AC_OK;
}

int cli_print_signals(const ac_pipeline *p, const ac_episode *ep)
{
    char *line = NULL;
    size_t len = 0;
    int rc = cli_signals_line(p, ep, 4096, &line, &len);
    if (rc == AC_OK && (fwrite(line, 1, len, stdout) != len ||
                        putchar('\n') == EOF))
        rc = AC_E_IO;
    if (rc != AC_OK)
        cli_error("cannot write the signals: %s", ac_strerror(rc));
    free(line);
    return rc;
}

int cli_read_line(FILE *in, uint64_t max, char **line, size_t *len,
                     int *too_long)
{
    char *buf = NULL;
    size_t n = 0, cap = 0;
    int c, any = 0;
    *too_long = 0;
    while ((c = getc(in)) != EOF && (any = 1) && c != '\n') {
        if (*too_long)
            continue;
        if (n >= max) {
            *too_long = 1;
            continue;
        }
        if (n + 1 >= cap) {
            size_t want = cap ? 2 * cap : 4096;
            char *grown = realloc(buf, want);
            if (grown == NULL) {
                free(buf);
                return -1;
            }
            buf = grown;
            cap = want;
        }
        buf[n++] = (char)c;
    }
    if (!any) {
        free(buf);
        return 0;
    }
    while (n > 0 && buf[n - 1] == '\r')
        n--;
    if (*too_long) {
        free(buf);
        buf = NULL;
        n = 0;
    }
    *line = buf;
    *len = n;
    return 1;
}

int cli_blank(const char *line, size_t len)
{
    size_t k = 0;
    while (k < len && (line[k] == ' ' || line[k] == '\t'))
        k++;
    return k == len;
}

int cli_help_asked(int argc, char **argv, void (*help)(FILE *, const char *))
{
    for (int i = 1; i < argc; i++)
        if (cli_is_help(argv[i])) {
            help(stdout, "Usage: agentcredit ");
            return 1;
        }
    return 0;
}

FILE *cli_open_input(const char *path)
{
    if (strcmp(path, "-") == 0)
        return stdin;
    FILE *in = fopen(path, "rb");
    if (in == NULL)
        cli_error("%s: %s", path, strerror(errno));
    return in;
}

int cli_read_file(const char *path, uint64_t max_bytes, char **text,
                  size_t *len)
{
    FILE *in = fopen(path, "rb");
    struct stat st;
    if (in == NULL) {
        cli_error("%s: %s", path, strerror(errno));
        return -1;
    }
    if (fstat(fileno(in), &st) != 0)
        memset(&st, 0, sizeof st); /* neither a directory nor a file */
    if (S_ISDIR(st.st_mode)) {
        cli_error("%s: is a directory", path);
        fclose(in);
        return -1;
    }
    if (S_ISREG(st.st_mode) && (uint64_t)st.st_size > max_bytes) {
        cli_error("%s: %llu bytes, more than --max-bytes %llu; raise it "
                  "with --max-bytes N", path, (unsigned long long)st.st_size,
                  (unsigned long long)max_bytes);
        fclose(in);
        return -1;
    }
    /* room for max_bytes + 1 at most: one byte past the limit says the
     * file is over it */
    size_t cap = 0, used = 0, most = (size_t)max_bytes + 2;
    size_t first = S_ISREG(st.st_mode) ? (size_t)st.st_size + 2 : 65536;
    char *buf = NULL;
    int bad = 0;
    for (;;) {
        if (cap - used < 2) {
            size_t grow = cap ? 2 * cap : first;
            grow = grow > most || grow < cap ? most : grow;
            char *g = realloc(buf, grow);
            if (g == NULL) {
                cli_error("%s: out of memory", path);
                bad = 1;
                break;
            }
            buf = g;
            cap = grow;
        }
        size_t got = fread(buf + used, 1, cap - used - 1, in);
        used += got;
        if ((uint64_t)used > max_bytes) {
            cli_error("%s: more than --max-bytes %llu bytes; raise it with "
                      "--max-bytes N", path, (unsigned long long)max_bytes);
            bad = 1;
            break;
        }
        if (got == 0) {
            if (ferror(in)) {
                cli_error("%s: read error: %s", path, strerror(errno));
                bad = 1;
            }
            break;
        }
    }
    fclose(in);
    if (bad) {
        free(buf);
        return -1;
    }
    buf[used] = '\0';
    *text = buf;
    *len = used;
    return 0;
}
