/* SPDX-License-Identifier: MIT
 * agentcredit signals: episodes JSONL in, signals JSONL out.
 *
 * Each line of each input is one "agentcredit.episode/1" object
 * (docs/format.md); each episode that the pipeline takes gives one
 * "agentcredit.signals/1" line, in input order. The values come from the
 * episode (known coalition values, the outcome as v(all), the baseline as
 * v(empty)), the verdicts of a failure from its human first-error label
 * (--verifier annotations); what the episode lacks, from external programs
 * (--oracle-cmd, --verifier-cmd, --scorer-cmd, --repair-cmd: external.c,
 * protocol "agentcredit.work/1" in docs/cli.md), each thread with its own.
 * An episode that fails (a program's failure included) writes nothing, is
 * reported with its file and line, and the run goes on with the next. */
#define _POSIX_C_SOURCE 200809L /* open_memstream */

#include "cli.h"
#include "external.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_JOBS 256 /* --jobs at most                                 */
#define BATCH 1024   /* episodes read, run and written at a time      */
#define BATCH_BYTES ((size_t)256 << 20) /* ... or this much text       */
#define DEFAULT_MAX_BYTES ((uint64_t)64 << 20) /* ac_json_limits' too  */

typedef struct options {
    int64_t verifier, seed, budget, jobs;
    double bound;
    int strict, quiet, interactions, has_seed, has_budget, has_bound,
        has_verifier;
    uint64_t max_bytes;
    const char *output;
    ext_config ext; /* the external programs, if any */
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
            "        fails, unless --oracle-cmd gives them. A failed\n"
            "        episode writes nothing; it is reported as FILE:LINE\n"
            "        and the run goes on.\n"
            "        --verifier SOURCE  annotations (the human first-error\n"
            "                        label as an exact verifier) or none\n"
            "                        (default none)\n"
            "        --oracle-cmd CMD    coalition values the episode lacks\n"
            "        --verifier-cmd CMD  verdicts on prefixes of a failure\n"
            "                        (instead of --verifier)\n"
            "        --scorer-cmd CMD    labels of messages the episode\n"
            "                        gives none\n"
            "        --repair-cmd CMD    candidate repairs of the first\n"
            "                        error, and their checks\n"
            "                        Each CMD runs under /bin/sh -c, one per\n"
            "                        thread, started on its first request:\n"
            "                        one JSON request line on its stdin, one\n"
            "                        reply line on its stdout, protocol\n"
            "                        \"" EXT_PROTOCOL "\" (docs/cli.md). A\n"
            "                        program that fails fails the episode\n"
            "                        and is started again for the next.\n"
            "        --cmd-timeout S  seconds a request may take (default:\n"
            "                        no limit); past them the program is\n"
            "                        killed and the episode fails\n"
            "        --strict        unknown keys are errors, not warnings\n"
            "        --seed N        seed of the estimator\n"
            "        --budget N      hard cap on oracle evaluations\n"
            "        --interactions  the interaction index of every pair of\n"
            "                        agents in each line (\"interactions\"):\n"
            "                        the budget must pay for every coalition\n"
            "        --bound B       the bound on |reward| (default 1)\n"
            "        --max-bytes N   longest episode line, in bytes\n"
            "                        (default 64M)\n"
            "        -j, --jobs N    episodes run at once, on N threads\n"
            "                        (default 1); the output keeps the\n"
            "                        input order\n"
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

/* The role whose program option arg is ("--oracle-cmd", ...); -1: none. */
static int cmd_role(const char *arg)
{
    for (int r = 0; r < EXT_ROLES; r++)
        if (strcmp(arg, ext_role_option((ext_role)r)) == 0)
            return r;
    return -1;
}

/* A program option's value: a command, or --cmd-timeout's seconds. */
static int parse_program_option(options *o, const char *a, const char *v)
{
    int role = cmd_role(a);
    if (role >= 0 && v[0] == '\0') {
        cli_error("%s: the command is empty", a);
        return -1;
    }
    if (role >= 0) {
        o->ext.cmd[role] = v;
        return 0;
    }
    if (cli_parse_f64(a, v, &o->ext.timeout) != 0)
        return -1;
    if (!(o->ext.timeout > 0 && o->ext.timeout <= 1e6)) {
        cli_error("%s: %s is outside (0, 1e6] seconds", a, v);
        return -1;
    }
    return 0;
}

/* What the options say together: --verifier-cmd is the verifier. */
static int check_options(options *o)
{
    if (o->ext.cmd[EXT_VERIFIER] != NULL && o->has_verifier) {
        cli_error("signals: --verifier and --verifier-cmd: give one");
        return CLI_USAGE;
    }
    if (o->ext.cmd[EXT_VERIFIER] != NULL)
        o->verifier = AC_VERIFIER_SOURCE_CALLBACK;
    o->ext.max_reply = o->max_bytes ? o->max_bytes : DEFAULT_MAX_BYTES;
    return CLI_OK;
}

/* Options, and the first input's index in *first. */
static int parse_options(int argc, char **argv, options *o, int *first)
{
    memset(o, 0, sizeof *o);
    o->verifier = AC_VERIFIER_SOURCE_NONE;
    o->jobs = 1;
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
        } else if (strcmp(a, "--interactions") == 0) {
            o->interactions = 1;
        } else if (strcmp(a, "--verifier") == 0) {
            if ((v = option_value(argc, argv, &i)) == NULL ||
                parse_verifier(v, &o->verifier) != 0)
                return CLI_USAGE;
            o->has_verifier = 1;
        } else if (cmd_role(a) >= 0 || strcmp(a, "--cmd-timeout") == 0) {
            if ((v = option_value(argc, argv, &i)) == NULL ||
                parse_program_option(o, a, v) != 0)
                return CLI_USAGE;
        } else if (strcmp(a, "--seed") == 0 || strcmp(a, "--budget") == 0 ||
                   strcmp(a, "--jobs") == 0 || strcmp(a, "-j") == 0) {
            if ((v = option_value(argc, argv, &i)) == NULL ||
                cli_parse_int(a, v, &n) != 0)
                return CLI_USAGE;
            if (strcmp(a, "--seed") == 0) {
                o->seed = n, o->has_seed = 1;
            } else if (strcmp(a, "--budget") == 0) {
                o->budget = n, o->has_budget = 1;
            } else if (n < 1 || n > MAX_JOBS) {
                cli_error("%s: %lld is outside [1, %d]", a, (long long)n,
                          MAX_JOBS);
                return CLI_USAGE;
            } else {
                o->jobs = n;
            }
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
    return check_options(o);
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
    if (rc == AC_OK && o->interactions)
        rc = ac_pipeline_set_int(p, AC_ESTIMATOR_PARAM_INTERACTIONS, 1);
    if (rc != AC_OK) {
        cli_error("signals: %s: %s", ac_strerror(rc),
                  p ? ac_pipeline_last_error(p) : "");
        ac_pipeline_free(p);
        return rc == AC_E_NO_MEMORY ? CLI_FAILED : CLI_USAGE;
    }
    *out = p;
    return CLI_OK;
}

/* One episode line, and what it gives: the signals line (out) and the
 * messages for stderr (msg), both in memory, so that episodes run on
 * several threads are written in input order. */
typedef struct record {
    char *text, *out, *msg;
    size_t len, out_len, msg_len;
    char where[1024];
    int ok, too_long;
    uint64_t warnings;
} record;

/* Warnings, one "FILE:LINE: warning: ..." line each. */
static void print_warnings(FILE *err, record *r, const char *warn)
{
    const char *line = warn;
    while (*line != '\0') {
        const char *end = strchr(line, '\n');
        size_t len = end ? (size_t)(end - line) : strlen(line);
        fprintf(err, "agentcredit: %s: warning: %.*s\n", r->where, (int)len,
                line);
        r->warnings++;
        line += len + (end != NULL);
    }
}

/* The run's failure: the external program's own message when one of
 * its requests failed, else the library's. */
static void report_failure(ac_pipeline *p, const ext_worker *ext, record *r,
                           int rc, FILE *err)
{
    if (rc == AC_E_CALLBACK && ext != NULL && ext_worker_error(ext)[0])
        fprintf(err, "agentcredit: %s: %s\n", r->where,
                ext_worker_error(ext));
    else
        fprintf(err, "agentcredit: %s: %s: %s\n", r->where, ac_strerror(rc),
                rc == AC_E_NO_MEMORY && r->out == NULL
                    ? "out of memory"
                    : ac_pipeline_last_error(p));
}

/* The signals of one episode into r->out, its messages into `err`; ext:
 * the thread's external programs (NULL: none). */
static void run_episode(ac_pipeline *p, ext_worker *ext, const options *o,
                        record *r, FILE *err)
{
    ac_json_limits lim;
    ac_json_limits_default(&lim);
    lim.max_bytes = o->max_bytes;
    char why[512], warn[2048];
    ac_episode *ep = NULL;
    int rc = ac_episode_load_json(&ep, r->text, r->len, NULL, &lim,
                                  o->strict ? AC_JSON_STRICT : 0, why,
                                  sizeof why, warn, sizeof warn);
    if (!o->quiet && rc == AC_OK)
        print_warnings(err, r, warn);
    if (rc != AC_OK) {
        fprintf(err, "agentcredit: %s: %s\n", r->where, why);
        return;
    }
    if (ext != NULL)
        ext_worker_begin(ext, r->where, r->text, r->len, ep);
    rc = ac_pipeline_run(p, ep);
    if (ext != NULL)
        ext_worker_end(ext);
    /* The signals line is about as long as the episode's, or shorter. */
    if (rc == AC_OK)
        rc = cli_signals_line(p, ep, r->len + 4096, &r->out, &r->out_len);
    if (rc != AC_OK)
        report_failure(p, ext, r, rc, err);
    r->ok = rc == AC_OK;
    ac_episode_free(ep);
}

static void run_record(ac_pipeline *p, ext_worker *ext, const options *o,
                       record *r)
{
    FILE *err = open_memstream(&r->msg, &r->msg_len);
    if (r->too_long)
        fprintf(err != NULL ? err : stderr, "agentcredit: %s: the line is "
                "longer than --max-bytes (%llu bytes); raise --max-bytes to "
                "read it\n", r->where,
                (unsigned long long)(o->max_bytes ? o->max_bytes
                                                  : DEFAULT_MAX_BYTES));
    else
        run_episode(p, ext, o, r, err != NULL ? err : stderr);
    if (err != NULL)
        fclose(err);
}

/* A batch of records on o->jobs threads, each with its own pipeline (one
 * handle per thread: the library's rule) and its own external programs. */
typedef struct pool {
    const options *o;
    record *rec;
    size_t count;
    atomic_size_t next;
    ac_pipeline **pipes;
    ext_worker *ext; /* one per thread; NULL without external programs */
} pool;

/* One thread's share: records taken in turn, run with its own pipeline. */
typedef struct worker_arg {
    pool *w;
    ac_pipeline *p;
    ext_worker *ext;
} worker_arg;

static void *worker(void *arg)
{
    worker_arg *a = arg;
    for (size_t k; (k = atomic_fetch_add(&a->w->next, 1)) < a->w->count;)
        run_record(a->p, a->ext, a->w->o, &a->w->rec[k]);
    return NULL;
}

static void run_batch(pool *w)
{
    atomic_store(&w->next, 0);
    int64_t jobs = w->o->jobs < (int64_t)w->count ? w->o->jobs
                                                   : (int64_t)w->count;
    pthread_t th[MAX_JOBS];
    worker_arg args[MAX_JOBS];
    int64_t started = 0;
    for (int64_t j = 0; j < jobs; j++)
        args[j] = (worker_arg){w, w->pipes[j],
                               w->ext != NULL ? &w->ext[j] : NULL};
    /* A thread that cannot start leaves its share to the others. */
    for (int64_t j = 1; j < jobs; j++) {
        if (pthread_create(&th[j], NULL, worker, &args[j]) != 0)
            break;
        started = j;
    }
    worker(&args[0]);
    for (int64_t j = 1; j <= started; j++)
        pthread_join(th[j], NULL);
}

/* Progress, on a terminal only: one line rewritten after each batch. */
static void progress(const options *o, const tally *t)
{
    if (o->quiet || !isatty(fileno(stderr)))
        return;
    fprintf(stderr, "\ragentcredit: signals: %llu episodes, %llu failed...",
            (unsigned long long)t->episodes, (unsigned long long)t->failed);
    fflush(stderr);
}

/* The batch's results in input order; the records are emptied. */
static int write_batch(pool *w, FILE *to, tally *t)
{
    int io = 0;
    for (size_t k = 0; k < w->count; k++) {
        record *r = &w->rec[k];
        if (r->msg_len > 0)
            fwrite(r->msg, 1, r->msg_len, stderr);
        if (r->ok && !io &&
            (fwrite(r->out, 1, r->out_len, to) != r->out_len ||
             fputc('\n', to) == EOF)) {
            cli_error("%s: %s", "<output>", strerror(errno));
            io = 1;
        }
        t->episodes++;
        t->written += r->ok && !io;
        t->failed += !r->ok;
        t->warnings += r->warnings;
        free(r->text);
        free(r->out);
        free(r->msg);
        memset(r, 0, sizeof *r);
    }
    w->count = 0;
    return io;
}

/* Every line of one input, BATCH lines or BATCH_BYTES of text at a time;
 * blank lines are skipped. */
static int one_file(pool *w, const char *path, FILE *to, tally *t)
{
    int is_stdin = strcmp(path, "-") == 0;
    FILE *in = cli_open_input(path);
    if (in == NULL) {
        t->failed++;
        return -1;
    }
    uint64_t max = w->o->max_bytes ? w->o->max_bytes : DEFAULT_MAX_BYTES;
    uint64_t number = 0;
    size_t held = 0;
    int io = 0, got, too_long;
    char *line = NULL;
    size_t len = 0;
    while (!io && (got = cli_read_line(in, max, &line, &len, &too_long)) > 0) {
        number++;
        if (!too_long && cli_blank(line, len)) {
            free(line);
            continue;
        }
        record *r = &w->rec[w->count++];
        snprintf(r->where, sizeof r->where, "%s:%llu",
                 is_stdin ? "<stdin>" : path, (unsigned long long)number);
        r->text = line; /* the record takes the line */
        r->len = len;
        r->too_long = too_long;
        held += len;
        if (w->count == BATCH || held >= BATCH_BYTES) {
            run_batch(w);
            io = write_batch(w, to, t);
            held = 0;
            progress(w->o, t);
        }
    }
    int bad = ferror(in) || got < 0;
    if (bad)
        cli_error("%s: %s", path, got < 0 ? "out of memory reading a line"
                                           : strerror(errno));
    if (w->count > 0) {
        run_batch(w);
        io |= write_batch(w, to, t);
        progress(w->o, t);
    }
    if (!is_stdin)
        fclose(in);
    return bad || io ? -1 : 0;
}

static void free_pool(pool *w)
{
    for (int64_t j = 0; w->ext != NULL && j < w->o->jobs; j++)
        ext_worker_close(&w->ext[j], stderr);
    for (int64_t j = 0; w->pipes != NULL && j < w->o->jobs; j++)
        ac_pipeline_free(w->pipes[j]);
    free(w->ext);
    free(w->pipes);
    free(w->rec);
}

static int make_pool(const options *o, pool *w)
{
    memset(w, 0, sizeof *w);
    w->o = o;
    w->rec = calloc(BATCH, sizeof *w->rec);
    w->pipes = calloc((size_t)o->jobs, sizeof *w->pipes);
    int external = ext_config_any(&o->ext);
    if (external)
        w->ext = calloc((size_t)o->jobs, sizeof *w->ext);
    if (w->rec == NULL || w->pipes == NULL || (external && w->ext == NULL)) {
        cli_error("signals: out of memory");
        free_pool(w);
        return CLI_FAILED;
    }
    for (int64_t j = 0; external && j < o->jobs; j++)
        ext_worker_init(&w->ext[j], &o->ext);
    for (int64_t j = 0; j < o->jobs; j++) {
        int rc = make_pipeline(o, &w->pipes[j]);
        if (rc == CLI_OK && external &&
            ext_worker_attach(&w->ext[j], w->pipes[j]) != AC_OK) {
            cli_error("signals: %s", ac_pipeline_last_error(w->pipes[j]));
            rc = CLI_FAILED;
        }
        if (rc != CLI_OK) {
            free_pool(w);
            return rc;
        }
    }
    return CLI_OK;
}

int cli_signals(int argc, char **argv)
{
    if (cli_help_asked(argc, argv, cli_signals_help))
        return CLI_OK;
    options o;
    pool w;
    int first = 0, rc = parse_options(argc, argv, &o, &first);
    if (rc == CLI_OK)
        rc = make_pool(&o, &w);
    if (rc != CLI_OK)
        return rc;
    /* A program that ends early must not end the tool: a write to its
     * pipe fails with EPIPE instead, and is reported. */
    if (ext_config_any(&o.ext))
        signal(SIGPIPE, SIG_IGN);
    FILE *to = o.output ? fopen(o.output, "wb") : stdout;
    if (to == NULL) {
        cli_error("%s: %s", o.output, strerror(errno));
        free_pool(&w);
        return CLI_FAILED;
    }
    tally t = {0, 0, 0, 0};
    int io = 0;
    for (int i = first; i < argc; i++)
        io |= one_file(&w, argv[i], to, &t) != 0;
    if (fflush(to) != 0 || (o.output && fclose(to) != 0)) {
        cli_error("%s: %s", o.output ? o.output : "<stdout>",
                  strerror(errno));
        io = 1;
    }
    free_pool(&w);
    if (!o.quiet && isatty(fileno(stderr)) && t.episodes > 0)
        fputc('\n', stderr); /* after the progress line */
    if (!o.quiet)
        fprintf(stderr, "agentcredit: signals: %llu episodes, %llu written, "
                "%llu failed, %llu warnings\n",
                (unsigned long long)t.episodes,
                (unsigned long long)t.written, (unsigned long long)t.failed,
                (unsigned long long)t.warnings);
    return io || t.failed ? CLI_FAILED : CLI_OK;
}
