/* SPDX-License-Identifier: MIT
 * agentcredit signals: episodes JSONL in, signals JSONL out.
 *
 * Each line of each input is one "agentcredit.episode/1" object
 * (docs/format.md); each episode that the pipeline takes gives one
 * "agentcredit.signals/1" line, in input order. The values come from the
 * episode (known coalition values, the outcome as v(all), the baseline as
 * v(empty)), the verdicts of a failure from its human first-error label
 * (--verifier annotations). An episode that fails writes nothing, is
 * reported with its file and line, and the run goes on with the next. */
#define _POSIX_C_SOURCE 200809L /* getline */

#include "cli.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

typedef struct options {
    int64_t verifier, seed, budget;
    double bound;
    int strict, quiet, has_seed, has_budget, has_bound;
    uint64_t max_bytes;
    const char *output;
} options;

typedef struct tally {
    uint64_t episodes, written, failed, warnings;
} tally;

void cli_signals_help(FILE *f, const char *lead)
{
    fprintf(f,
            "%ssignals [OPTIONS] EPISODES.jsonl...\n"
            "        Every training signal of each episode (one\n"
            "        \"agentcredit.episode/1\" object a line; '-' reads stdin):\n"
            "        agent credits adding up to R - reference, per-message\n"
            "        rewards, on a failure the first error, blame and the\n"
            "        preference pair, written as \"agentcredit.signals/1\" lines\n"
            "        in input order (docs/format.md). Coalition values come\n"
            "        from the episode (\"values\", the outcome as v(all), the\n"
            "        baseline as v(empty)); an episode that needs others\n"
            "        fails. A failed episode writes nothing; it is reported\n"
            "        as FILE:LINE and the run goes on.\n"
            "        --verifier SOURCE  annotations (the human first-error\n"
            "                        label as an exact verifier) or none\n"
            "                        (default none)\n"
            "        --strict        unknown keys are errors, not warnings\n"
            "        --seed N        seed of the estimator\n"
            "        --budget N      hard cap on oracle evaluations\n"
            "        --bound B       the bound on |reward| (default 1)\n"
            "        --max-bytes N   longest episode line, in bytes\n"
            "                        (default 64M)\n"
            "        -o, --output FILE\n"
            "                        write there instead of stdout\n"
            "        -q, --quiet     no warnings and no summary\n"
            "        -h, --help      this text\n"
            "        Exit status 1 when any episode failed.\n",
            lead);
}

static int parse_verifier(const char *text, int64_t *out)
{
    if (strcmp(text, "annotations") == 0)
        *out = AC_VERIFIER_SOURCE_ANNOTATION;
    else if (strcmp(text, "none") == 0)
        *out = AC_VERIFIER_SOURCE_NONE;
    else {
        cli_error("--verifier: '%s' is not annotations or none", text);
        return -1;
    }
    return 0;
}

/* The value of option argv[*i] (its next argument). */
static const char *option_value(int argc, char **argv, int *i)
{
    if (*i + 1 >= argc) {
        cli_error("%s needs a value", argv[*i]);
        return NULL;
    }
    return argv[++*i];
}

/* Options, and the first input's index in *first. */
static int parse_options(int argc, char **argv, options *o, int *first)
{
    memset(o, 0, sizeof *o);
    o->verifier = AC_VERIFIER_SOURCE_NONE;
    int i = 1;
    for (; i < argc && argv[i][0] == '-' && argv[i][1] != '\0'; i++) {
        const char *a = argv[i], *v = NULL;
        int64_t n = 0;
        if (strcmp(a, "--") == 0) {
            i++;
            break;
        } else if (strcmp(a, "--strict") == 0) {
            o->strict = 1;
        } else if (strcmp(a, "-q") == 0 || strcmp(a, "--quiet") == 0) {
            o->quiet = 1;
        } else if (strcmp(a, "--verifier") == 0) {
            if ((v = option_value(argc, argv, &i)) == NULL ||
                parse_verifier(v, &o->verifier) != 0)
                return CLI_USAGE;
        } else if (strcmp(a, "--seed") == 0 || strcmp(a, "--budget") == 0) {
            if ((v = option_value(argc, argv, &i)) == NULL ||
                cli_parse_int(a, v, &n) != 0)
                return CLI_USAGE;
            if (strcmp(a, "--seed") == 0)
                o->seed = n, o->has_seed = 1;
            else
                o->budget = n, o->has_budget = 1;
        } else if (strcmp(a, "--max-bytes") == 0) {
            if ((v = option_value(argc, argv, &i)) == NULL ||
                cli_parse_size(a, v, &o->max_bytes) != 0)
                return CLI_USAGE;
        } else if (strcmp(a, "--bound") == 0) {
            if ((v = option_value(argc, argv, &i)) == NULL ||
                cli_parse_f64(a, v, &o->bound) != 0)
                return CLI_USAGE;
            o->has_bound = 1;
        } else if (strcmp(a, "-o") == 0 || strcmp(a, "--output") == 0) {
            if ((o->output = option_value(argc, argv, &i)) == NULL)
                return CLI_USAGE;
        } else {
            cli_error("signals: unknown option '%s' (try 'agentcredit "
                      "signals --help')", a);
            return CLI_USAGE;
        }
    }
    if (i >= argc) {
        cli_error("signals: no episodes file (try 'agentcredit signals "
                  "--help')");
        return CLI_USAGE;
    }
    *first = i;
    return CLI_OK;
}

/* The pipeline with the options' parameters; each refused value is named
 * with the library's message. */
static int make_pipeline(const options *o, ac_pipeline **out)
{
    ac_pipeline *p = NULL;
    int rc = ac_pipeline_create(&p, NULL);
    if (rc == AC_OK)
        rc = ac_pipeline_set_int(p, AC_PIPELINE_PARAM_VERIFIER, o->verifier);
    if (rc == AC_OK && o->has_seed)
        rc = ac_pipeline_set_int(p, AC_ESTIMATOR_PARAM_SEED, o->seed);
    if (rc == AC_OK && o->has_budget)
        rc = ac_pipeline_set_int(p, AC_ESTIMATOR_PARAM_BUDGET, o->budget);
    if (rc == AC_OK && o->has_bound)
        rc = ac_pipeline_set_f64(p, AC_REFINER_PARAM_BOUND, o->bound);
    if (rc != AC_OK) {
        cli_error("signals: %s: %s", ac_strerror(rc),
                  p ? ac_pipeline_last_error(p) : "");
        ac_pipeline_free(p);
        return rc == AC_E_NO_MEMORY ? CLI_FAILED : CLI_USAGE;
    }
    *out = p;
    return CLI_OK;
}

/* Warnings, one "FILE:LINE: warning: ..." line each. */
static void print_warnings(const char *where, const char *warn, tally *t)
{
    const char *line = warn;
    while (*line != '\0') {
        const char *end = strchr(line, '\n');
        size_t len = end ? (size_t)(end - line) : strlen(line);
        fprintf(stderr, "agentcredit: %s: warning: %.*s\n", where, (int)len,
                line);
        t->warnings++;
        line += len + (end != NULL);
    }
}

/* The signals of one episode line, written to `to`; 0, or -1 after a
 * message naming where. */
static int one_episode(ac_pipeline *p, const options *o, const char *text,
                       size_t len, const char *where, FILE *to, tally *t)
{
    ac_json_limits lim;
    ac_json_limits_default(&lim);
    lim.max_bytes = o->max_bytes;
    char err[512], warn[2048];
    ac_episode *ep = NULL;
    int rc = ac_episode_load_json(&ep, text, len, NULL, &lim,
                                  o->strict ? AC_JSON_STRICT : 0, err,
                                  sizeof err, warn, sizeof warn);
    if (!o->quiet)
        print_warnings(where, rc == AC_OK ? warn : "", t);
    if (rc != AC_OK) {
        cli_error("%s: %s", where, err);
        return -1;
    }
    rc = ac_pipeline_run(p, ep);
    size_t need = 0;
    char *buf = NULL;
    if (rc == AC_OK && (rc = ac_pipeline_write_json(p, ep, NULL, 0, &need)) ==
                           AC_OK) {
        buf = malloc(need + 1);
        rc = buf ? ac_pipeline_write_json(p, ep, buf, need + 1, &need)
                 : AC_E_NO_MEMORY;
    }
    if (rc == AC_OK && (fwrite(buf, 1, need, to) != need ||
                        fputc('\n', to) == EOF))
        rc = AC_E_IO;
    if (rc != AC_OK)
        cli_error("%s: %s: %s", where, ac_strerror(rc),
                  rc == AC_E_IO ? strerror(errno) : ac_pipeline_last_error(p));
    free(buf);
    ac_episode_free(ep);
    return rc == AC_OK ? 0 : -1;
}

/* Every line of one input; blank lines are skipped. */
static int one_file(ac_pipeline *p, const options *o, const char *path,
                    FILE *to, tally *t)
{
    int is_stdin = strcmp(path, "-") == 0;
    FILE *in = is_stdin ? stdin : fopen(path, "rb");
    if (in == NULL) {
        cli_error("%s: %s", path, strerror(errno));
        t->failed++;
        return -1;
    }
    char *line = NULL, where[1024];
    size_t cap = 0;
    ssize_t got;
    uint64_t number = 0;
    while ((got = getline(&line, &cap, in)) >= 0) {
        number++;
        size_t len = (size_t)got;
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            len--;
        if (strspn(line, " \t") >= len)
            continue;
        snprintf(where, sizeof where, "%s:%llu", is_stdin ? "<stdin>" : path,
                 (unsigned long long)number);
        t->episodes++;
        if (one_episode(p, o, line, len, where, to, t) == 0)
            t->written++;
        else
            t->failed++;
    }
    int bad = ferror(in);
    if (bad)
        cli_error("%s: read error: %s", path, strerror(errno));
    free(line);
    if (!is_stdin)
        fclose(in);
    return bad ? -1 : 0;
}

int cli_signals(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (cli_is_help(argv[i])) {
            cli_signals_help(stdout, "Usage: agentcredit ");
            return CLI_OK;
        }
    options o;
    int first = 0, rc = parse_options(argc, argv, &o, &first);
    ac_pipeline *p = NULL;
    if (rc == CLI_OK)
        rc = make_pipeline(&o, &p);
    if (rc != CLI_OK)
        return rc;
    FILE *to = o.output ? fopen(o.output, "wb") : stdout;
    if (to == NULL) {
        cli_error("%s: %s", o.output, strerror(errno));
        ac_pipeline_free(p);
        return CLI_FAILED;
    }
    tally t = {0, 0, 0, 0};
    int io = 0;
    for (int i = first; i < argc; i++)
        io |= one_file(p, &o, argv[i], to, &t) != 0;
    if (fflush(to) != 0 || (o.output && fclose(to) != 0)) {
        cli_error("%s: %s", o.output ? o.output : "<stdout>",
                  strerror(errno));
        io = 1;
    }
    ac_pipeline_free(p);
    if (!o.quiet)
        fprintf(stderr, "agentcredit: signals: %llu episodes, %llu written, "
                "%llu failed, %llu warnings\n",
                (unsigned long long)t.episodes,
                (unsigned long long)t.written, (unsigned long long)t.failed,
                (unsigned long long)t.warnings);
    return io || t.failed ? CLI_FAILED : CLI_OK;
}
