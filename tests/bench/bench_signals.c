/* The import + signals benchmark (docs/performance.md, section 5): what
 * `agentcredit import` and `agentcredit signals` cost, and the library's
 * own time per episode.
 *
 *   bench_signals [--quick] [--data DIR] [--episodes N] [--only SECTIONS]
 *
 * Sections (--only takes a comma list):
 *   data       the published transcripts (DIR, or $AC_SHARED_DATA when no
 *              --data: the .json files of who_and_when/Algorithm-Generated,
 *              agentrx_tau/tau_dataset_full.json and tau_ground_truth.json;
 *              skipped, with a line saying so, when neither is given).
 *              The command line's path in one process: the importers of
 *              `agentcredit import` (bindings/cli/import_*.c, linked in)
 *              write every episode as a JSON line; then each line is
 *              loaded, run through one pipeline and its signals written
 *              as JSON, as `agentcredit signals` does with one thread.
 *   synthetic  no data needed: failed episodes of 100 messages (a user's
 *              task, then agents' messages with a tool's output one time in
 *              five) with 2..8 agents and a first-error annotation, through
 *              the same path; against the target of 1 ms of library time
 *              for such an episode with exact credit.
 *
 * Every pipeline takes exact credit (AC_ESTIMATOR_PARAM_METHOD exact) from
 * a table oracle: a callback answering v(S) from a table computed before
 * the clock starts (a synthetic game over the episode's agents: a weight
 * per agent, a synergy of the first two, a loss when the last one acts),
 * and timed itself, so that "library time" is the whole time of an episode
 * minus the time spent inside the callback. Verdicts come from the
 * episode's annotation (AC_PIPELINE_PARAM_VERIFIER = annotation), so a
 * failed and annotated episode is localized, blamed and paired too.
 *
 * Per episode: "line" is load + run + write (the JSON line in, the signals
 * line out): "load" ac_episode_load_json, "run" ac_pipeline_run without
 * the callback's time, "write" ac_pipeline_write_json (once into room for
 * a line as long as the episode's, as the command line does). Per-episode times are the
 * process's CPU time (CLOCK_PROCESS_CPUTIME_ID; the program has one
 * thread), so that a loaded machine's preemptions stay out of them; the
 * wall-clock time of each line is given beside them (median, p90), and
 * the sections' totals are wall-clock (CLOCK_MONOTONIC).
 *
 * --quick (the smoke test, bench_signals_smoke) runs 5 synthetic episodes
 * per agent count and, when the data is there, every transcript.
 *
 * Exit status 1 when a check fails: an import error, an episode the
 * pipeline refuses, credits that do not add up to the total, an annotated
 * failure not localized at its annotation, an audit whose oracle
 * evaluations differ from the callback's count. Never a timing. */
#define _POSIX_C_SOURCE 200809L /* clock_gettime in bench_common.h */

#include <agentcredit.h>

#include "import.h"

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_common.h"

#define MAX_TABLE_AGENTS 20u /* a table oracle of 2^20 values at most */
#define SYNTH_MESSAGES 100u
#define SYNTH_MIN_AGENTS 2u
#define SYNTH_MAX_AGENTS 8u
#define TARGET_US 1000.0 /* 1 ms per episode */

/* ------------------------------------------------------------------ */
/* Episodes as JSON lines, as `agentcredit import` writes them.        */

typedef struct line {
    char *text;
    size_t len;
} line;

typedef struct corpus {
    line *lines;
    size_t n, cap;
    unsigned errors, warnings;
} corpus;

static void corpus_add(corpus *c, char *text, size_t len)
{
    if (c->n == c->cap) {
        c->cap = c->cap ? 2 * c->cap : 64;
        c->lines = xrealloc(c->lines, c->cap, sizeof *c->lines);
    }
    c->lines[c->n++] = (line){text, len};
}

static void corpus_free(corpus *c)
{
    for (size_t i = 0; i < c->n; i++)
        free(c->lines[i].text);
    free(c->lines);
    *c = (corpus){0};
}

/* One JSON line of ep (a malloc'd string, its length in *len), as
 * ac_episode_write_json writes it; NULL after a library error. */
static char *episode_json(const ac_episode *ep, size_t *len)
{
    size_t need = 0;
    if (ac_episode_write_json(ep, NULL, 0, &need) != AC_OK)
        return NULL;
    char *text = xcalloc(need + 1, 1);
    if (ac_episode_write_json(ep, text, need + 1, len) != AC_OK) {
        free(text);
        return NULL;
    }
    return text;
}

/* The importers' sink: each episode becomes a line of the corpus. */
static int keep_episode(void *user, const ac_episode *ep)
{
    corpus *c = user;
    size_t len = 0;
    char *text = episode_json(ep, &len);
    if (text == NULL) {
        fail("import: ac_episode_write_json: %s", ac_episode_last_error(ep));
        return 1;
    }
    corpus_add(c, text, len);
    return 0;
}

static void count_report(void *user, imp_level level, const char *where,
                         const char *what)
{
    corpus *c = user;
    if (level == IMP_ERROR) {
        c->errors++;
        fail("import: %s: %s", where, what);
    } else {
        c->warnings++;
    }
}

/* A whole file in memory (NUL-terminated); NULL with a message when it
 * cannot be read. */
static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        fail("cannot open %s", path);
        return NULL;
    }
    size_t cap = 1 << 16, n = 0, got;
    char *buf = xcalloc(cap, 1);
    while ((got = fread(buf + n, 1, cap - n - 1, f)) > 0) {
        n += got;
        if (cap - n - 1 == 0)
            buf = xrealloc(buf, cap *= 2, 1);
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        fail("cannot read %s", path);
        free(buf);
        return NULL;
    }
    buf[n] = '\0';
    *len = n;
    return buf;
}

/* The Who&When files of dir, `agentcredit import --from who-and-when
 * DIR/<every .json file>`: in name order, as the shell's glob gives them.
 * Returns the number of files. */
static size_t import_whowhen(const char *dir, corpus *c)
{
    size_t n = 0;
    char **names = list_json_files(dir, NULL, &n);
    if (names == NULL) {
        fail("cannot open the directory %s", dir);
        return 0;
    }
    imp_sink sink = {keep_episode, count_report, c};
    for (size_t i = 0; i < n; i++) {
        size_t len = 0;
        char *text = read_file(names[i], &len);
        if (text != NULL)
            (void)imp_whowhen_buffer(names[i], text, len, &sink);
        free(text);
        free(names[i]);
    }
    free(names);
    return n;
}

/* `agentcredit import --from tau-bench --labels LABELS RUNS`. */
static void import_tau(const char *runs, const char *labels_path, corpus *c)
{
    imp_sink sink = {keep_episode, count_report, c};
    imp_tau_labels *labels = NULL;
    size_t len = 0;
    char *text = read_file(labels_path, &len);
    if (text == NULL ||
        imp_tau_labels_load(labels_path, text, len, &sink, &labels) != 0) {
        fail("tau: the labels %s cannot be loaded", labels_path);
        free(text);
        return;
    }
    free(text);
    text = read_file(runs, &len);
    if (text != NULL) {
        (void)imp_tau_buffer(runs, text, len, labels, &sink);
        imp_tau_labels_finish(labels, labels_path, &sink);
    }
    free(text);
    imp_tau_labels_free(labels);
}

/* ------------------------------------------------------------------ */
/* The table oracle and the timed pipeline.                            */

/* A value table over n agents (2^n values) and the time spent answering
 * from it. */
typedef struct table_oracle {
    double *v;
    uint32_t n;
    double seconds;       /* inside the callback, this episode: CPU */
    double wall;          /* and wall-clock */
    uint64_t evaluations; /* coalitions answered, this episode */
} table_oracle;

/* A synthetic game over n agents, from the episode's seed: agent i adds a
 * weight w_i in [0.05, 0.45), agents 0 and 1 add 0.2 together, the last
 * agent (when there are three or more) takes 0.15 away. */
static void table_fill(table_oracle *o, uint32_t n, uint64_t seed)
{
    double w[MAX_TABLE_AGENTS];
    uint64_t st = seed;
    for (uint32_t i = 0; i < n; i++)
        w[i] = 0.05 + 0.4 * (double)(splitmix64(&st) >> 11) * 0x1.0p-53;
    o->n = n;
    o->v = xcalloc((size_t)1 << n, sizeof *o->v);
    for (uint64_t s = 0; s < ((uint64_t)1 << n); s++) {
        double v = 0.0;
        for (uint32_t i = 0; i < n; i++)
            if (s >> i & 1u)
                v += w[i];
        if ((s & 3u) == 3u)
            v += 0.2;
        if (n >= 3 && (s >> (n - 1) & 1u))
            v -= 0.15;
        o->v[s] = v;
    }
}

static int table_answer(void *user, const uint64_t *coalitions,
                        uint32_t words, uint32_t count, double *values,
                        int32_t *status)
{
    double start = now_cpu(), start_wall = now_wall();
    table_oracle *o = user;
    (void)status;                       /* 0 already: every answer stands */
    for (uint32_t k = 0; k < count; k++)
        values[k] = o->v[coalitions[(size_t)k * words]];
    o->evaluations += count;
    o->wall += now_wall() - start_wall;
    o->seconds += now_cpu() - start;
    return 0;
}

/* The timings of one episode, in microseconds, the callback's time taken
 * out. */
typedef struct timing {
    double line_us, load_us, run_us, write_us, callback_us; /* CPU */
    double line_wall_us;                                     /* wall */
    uint32_t agents, messages;
} timing;

static ac_pipeline *make_pipeline(table_oracle *oracle)
{
    ac_pipeline *p = NULL;
    int rc = ac_pipeline_create(&p, NULL);
    if (rc == AC_OK)
        rc = ac_pipeline_set_int(p, AC_ESTIMATOR_PARAM_METHOD,
                                 AC_METHOD_EXACT);
    if (rc == AC_OK)
        rc = ac_pipeline_set_int(p, AC_PIPELINE_PARAM_VERIFIER,
                                 AC_VERIFIER_SOURCE_ANNOTATION);
    if (rc == AC_OK)
        rc = ac_pipeline_set_oracle(p, table_answer, oracle);
    if (rc != AC_OK) {
        fprintf(stderr, "benchmark: the pipeline: %s: %s\n", ac_strerror(rc),
                ac_pipeline_last_error(p));
        exit(2);
    }
    return p;
}

/* The agent and message counts of a JSON line (untimed: to build its
 * table before the clock starts). 0, or -1 when it does not load. */
static int line_counts(const line *l, uint32_t *agents, uint32_t *messages)
{
    ac_episode *ep = NULL;
    char why[512];
    if (ac_episode_load_json(&ep, l->text, l->len, NULL, NULL, 0, why,
                             sizeof why, NULL, 0) != AC_OK) {
        fail("%.60s...: %s", l->text, why);
        return -1;
    }
    int rc = ac_episode_counts(ep, NULL, agents, messages);
    ac_episode_free(ep);
    return rc == AC_OK ? 0 : -1;
}

/* What the run gave, checked: conservation, the localization of an
 * annotated failure, the audit against the callback's count. */
static void check_result(ac_pipeline *p, const ac_episode *ep,
                         const table_oracle *o, const char *what)
{
    uint32_t na = 0, nm = 0, label = UINT32_MAX;
    double outcome = 0.0, threshold = 0.5, total = 0.0, reference = 0.0;
    if (ac_episode_counts(ep, NULL, &na, &nm) != AC_OK ||
        ac_episode_get_f64(ep, AC_EPISODE_FIELD_OUTCOME, &outcome, NULL) ||
        ac_episode_get_f64(ep, AC_EPISODE_FIELD_THRESHOLD, &threshold,
                           NULL) ||
        ac_episode_first_error_label(ep, &label) != AC_OK ||
        ac_pipeline_total(p, &total, &reference) != AC_OK) {
        fail("%s: the episode or the result cannot be read", what);
        return;
    }
    double *phi = xcalloc(na, sizeof *phi), *se = xcalloc(na, sizeof *se);
    double sum = 0.0;
    CHECK(ac_pipeline_credits(p, phi, se, na) == AC_OK,
          "%s: ac_pipeline_credits", what);
    for (uint32_t i = 0; i < na; i++)
        sum += phi[i];
    free(phi);
    free(se);
    CHECK(isfinite(sum) && fabs(sum - total) <= 1e-9 * fmax(1.0, fabs(total)),
          "%s: the credits add up to %.17g, not the total %.17g", what, sum,
          total);
    int64_t localized = 0, evaluations = -1, step = -1;
    uint32_t agent = 0;
    double prob = 0.0;
    CHECK(ac_pipeline_audit(p, AC_PIPELINE_AUDIT_LOCALIZED, &localized) ==
                  AC_OK &&
              ac_pipeline_audit(p, AC_PIPELINE_AUDIT_ORACLE_EVALUATIONS,
                                &evaluations) == AC_OK &&
              ac_pipeline_first_error(p, &step, &agent, &prob) == AC_OK,
          "%s: the audit cannot be read", what);
    CHECK((uint64_t)evaluations == o->evaluations,
          "%s: the audit counts %lld oracle evaluations, the callback %llu",
          what, (long long)evaluations, (unsigned long long)o->evaluations);
    if (outcome < threshold && label != UINT32_MAX)
        CHECK(localized == 1 && step == (int64_t)label,
              "%s: the annotated failure at message %u is localized at "
              "%lld", what, label, (long long)step);
}

/* One episode line through the pipeline, timed: load, run, write the
 * signals. 0, or -1 after a failed check. */
static int time_line(ac_pipeline *p, table_oracle *o, const line *l,
                     const char *what, timing *t)
{
    char why[512];
    ac_episode *ep = NULL;
    o->seconds = o->wall = 0.0;
    o->evaluations = 0;
    double start_wall = now_wall(), start = now_cpu();
    int rc = ac_episode_load_json(&ep, l->text, l->len, NULL, NULL, 0, why,
                                  sizeof why, NULL, 0);
    if (rc != AC_OK) {
        fail("%s: %s", what, why);
        return -1;
    }
    double run_start = now_cpu();
    rc = ac_pipeline_run(p, ep);
    double run_end = now_cpu();
    /* As the command line writes it: one call with room for a line as
     * long as the episode's, a second only when that was short. */
    size_t cap = l->len + 4096, len = 0;
    char *out = malloc(cap);
    rc = rc != AC_OK ? rc
         : out == NULL ? AC_E_NO_MEMORY
                       : ac_pipeline_write_json(p, ep, out, cap, &len);
    if (rc == AC_OK && len >= cap) {
        free(out);
        cap = len + 1;
        out = malloc(cap);
        rc = out ? ac_pipeline_write_json(p, ep, out, cap, &len)
                 : AC_E_NO_MEMORY;
    }
    double end = now_cpu(), end_wall = now_wall();
    free(out);
    if (rc != AC_OK) {
        fail("%s: %s: %s", what, ac_strerror(rc), ac_pipeline_last_error(p));
        ac_episode_free(ep);
        return -1;
    }
    check_result(p, ep, o, what);
    CHECK(ac_episode_counts(ep, NULL, &t->agents, &t->messages) == AC_OK,
          "%s: ac_episode_counts", what);
    ac_episode_free(ep);
    t->callback_us = 1e6 * o->seconds;
    t->line_us = 1e6 * (end - start) - t->callback_us;
    t->load_us = 1e6 * (run_start - start);
    t->run_us = 1e6 * (run_end - run_start) - t->callback_us;
    t->write_us = 1e6 * (end - run_end);
    t->line_wall_us = 1e6 * (end_wall - start_wall - o->wall);
    return 0;
}

/* ------------------------------------------------------------------ */
/* Figures.                                                            */

static int by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The q-quantile (nearest rank) of n sorted values. */
static double quantile(const double *sorted, size_t n, double q)
{
    size_t k = (size_t)ceil(q * (double)n);
    return sorted[k ? k - 1 : 0];
}

typedef struct summary {
    double min, median, p90, p99, max, mean;
} summary;

static summary summarize(double *v, size_t n)
{
    summary s = {0};
    if (n == 0)
        return s;
    qsort(v, n, sizeof *v, by_value);
    double sum = 0.0;
    for (size_t i = 0; i < n; i++)
        sum += v[i];
    s.min = v[0];
    s.median = quantile(v, n, 0.5);
    s.p90 = quantile(v, n, 0.9);
    s.p99 = quantile(v, n, 0.99);
    s.max = v[n - 1];
    s.mean = sum / (double)n;
    return s;
}

/* The values of one field of the episodes of t with `agents` agents (all
 * of them when per_agent_count is 0), summarized. */
static summary column(const timing *t, size_t n, uint32_t agents,
                      int per_agent_count, size_t offset, size_t *count)
{
    double *v = xcalloc(n, sizeof *v);
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (!per_agent_count || t[i].agents == agents)
            memcpy(&v[k++], (const char *)&t[i] + offset, sizeof *v);
    summary s = summarize(v, k);
    free(v);
    *count = k;
    return s;
}

/* One row of a table: the episodes of t with `agents` agents, or all of
 * them when per_agent_count is 0. */
static void print_row(const char *label, const timing *t, size_t n,
                      uint32_t agents, int per_agent_count)
{
    double *msgs = xcalloc(n, sizeof *msgs);
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (!per_agent_count || t[i].agents == agents)
            msgs[k++] = t[i].messages;
    summary m = summarize(msgs, k);
    free(msgs);
    if (k == 0)
        return;
    summary l = column(t, n, agents, per_agent_count,
                       offsetof(timing, line_us), &k),
            ld = column(t, n, agents, per_agent_count,
                        offsetof(timing, load_us), &k),
            r = column(t, n, agents, per_agent_count,
                       offsetof(timing, run_us), &k),
            w = column(t, n, agents, per_agent_count,
                       offsetof(timing, write_us), &k),
            c = column(t, n, agents, per_agent_count,
                       offsetof(timing, callback_us), &k),
            lw = column(t, n, agents, per_agent_count,
                        offsetof(timing, line_wall_us), &k);
    printf("| %s | %zu | %.0f-%.0f | %.1f | %.1f | %.1f | %.1f | %.1f "
           "| %.1f | %.1f | %.1f | %.1f | %.1f | %.1f | %.1f / %.1f |\n",
           label, k, m.min, m.max, l.median, l.p90, l.p99, l.max, ld.median,
           r.median, r.p90, r.p99, r.max, w.median, c.median, lw.median,
           lw.p90);
}

static void print_header(void)
{
    printf("| episodes | count | messages | line median | p90 | p99 | max "
           "| load median | run median | p90 | p99 | max | write median "
           "| callback median | line wall median / p90 |\n"
           "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:"
           "|---:|---:|---:|\n");
}

/* Every line of c through one pipeline; timings into t (c->n), the wall
 * and CPU time of the loop (the tables are built before it) in seconds
 * into elapsed[0] and elapsed[1]. */
static void time_corpus(const corpus *c, const char *name, timing *t,
                        double elapsed[2])
{
    table_oracle *tables = xcalloc(c->n, sizeof *tables);
    for (size_t i = 0; i < c->n; i++) {
        uint32_t agents = 0, messages = 0;
        if (line_counts(&c->lines[i], &agents, &messages) == 0 &&
            agents >= 1 && agents <= MAX_TABLE_AGENTS)
            table_fill(&tables[i], agents, 0x5eedull + i);
    }
    table_oracle current = {0};
    ac_pipeline *p = make_pipeline(&current);
    char what[128];
    double start = now_wall(), start_cpu = now_cpu();
    for (size_t i = 0; i < c->n; i++) {
        if (tables[i].v == NULL) {
            fail("%s episode %zu: no table (no agent, or more than %u)",
                 name, i, MAX_TABLE_AGENTS);
            continue;
        }
        current = tables[i];
        snprintf(what, sizeof what, "%s episode %zu", name, i);
        (void)time_line(p, &current, &c->lines[i], what, &t[i]);
    }
    elapsed[1] = now_cpu() - start_cpu;
    elapsed[0] = now_wall() - start;
    ac_pipeline_free(p);
    for (size_t i = 0; i < c->n; i++)
        free(tables[i].v);
    free(tables);
}

/* ------------------------------------------------------------------ */
/* Section data: the published transcripts.                            */

static void time_exports(const corpus *c, const char *name);

static void section_data(const char *data, int exports)
{
    printf("## data: import + signals over the published transcripts\n\n");
    if (data == NULL || *data == '\0') {
        printf("skipped: no --data DIR and no $AC_SHARED_DATA\n\n");
        return;
    }
    char ww_dir[4096], tau_runs[4096], tau_labels[4096];
    snprintf(ww_dir, sizeof ww_dir, "%s/who_and_when/Algorithm-Generated",
             data);
    snprintf(tau_runs, sizeof tau_runs, "%s/agentrx_tau/tau_dataset_full.json",
             data);
    snprintf(tau_labels, sizeof tau_labels,
             "%s/agentrx_tau/tau_ground_truth.json", data);
    corpus ww = {0}, tau = {0};
    double t0 = now_wall(), c0 = now_cpu();
    size_t files = import_whowhen(ww_dir, &ww);
    double t1 = now_wall(), c1 = now_cpu();
    import_tau(tau_runs, tau_labels, &tau);
    double t2 = now_wall(), c2 = now_cpu();
    CHECK(ww.n > 0 && tau.n > 0, "data: no episode imported from %s", data);
    printf("import (read the files, parse, build the episodes, write the "
           "JSON lines), wall (CPU):\n"
           "  Who&When   %zu files -> %zu episodes, %u warnings: %.1f ms "
           "(%.1f ms)\n"
           "  tau-bench  2 files -> %zu episodes, %u warnings: %.1f ms "
           "(%.1f ms)\n\n",
           files, ww.n, ww.warnings, 1e3 * (t1 - t0), 1e3 * (c1 - c0), tau.n,
           tau.warnings, 1e3 * (t2 - t1), 1e3 * (c2 - c1));
    timing *tw = xcalloc(ww.n, sizeof *tw), *tt = xcalloc(tau.n, sizeof *tt);
    double ww_time[2], tau_time[2];
    time_corpus(&ww, "Who&When", tw, ww_time);
    time_corpus(&tau, "tau-bench", tt, tau_time);
    printf("signals (load each line, run the pipeline, write the signals "
           "line), one thread, wall (CPU):\n"
           "  Who&When   %zu episodes: %.1f ms (%.1f ms)\n"
           "  tau-bench  %zu episodes: %.1f ms (%.1f ms)\n\n",
           ww.n, 1e3 * ww_time[0], 1e3 * ww_time[1], tau.n,
           1e3 * tau_time[0], 1e3 * tau_time[1]);
    printf("Library CPU time per episode, microseconds, the callback's "
           "time taken out:\n\n");
    print_header();
    char label[64];
    for (uint32_t a = 1; a <= MAX_TABLE_AGENTS; a++) {
        snprintf(label, sizeof label, "Who&When, %u agent%s", a,
                 a == 1 ? "" : "s");
        print_row(label, tw, ww.n, a, 1);
    }
    print_row("tau-bench, 1 agent", tt, tau.n, 1, 1);
    print_row("Who&When, all", tw, ww.n, 0, 0);
    print_row("tau-bench, all", tt, tau.n, 0, 0);
    printf("\n");
    if (exports) {
        printf("exports (each episode's signals as every trainer format), "
               "library CPU time per episode:\n\n");
        time_exports(&ww, "Who&When");
        time_exports(&tau, "tau-bench");
    }
    free(tw);
    free(tt);
    corpus_free(&ww);
    corpus_free(&tau);
}

/* ------------------------------------------------------------------ */
/* Exports: each episode's signals as every trainer format.            */

#define N_FORMATS 12 /* AC_EXPORT_FORMAT_TRL_DPO .. _SKYRL */

typedef struct export_tally {
    double *us;                 /* CPU per episode                  */
    uint64_t records, skips, bytes;
} export_tally;

/* The signals of line l through p (untimed); NULL after a failed check. */
static ac_signals *line_signals(ac_pipeline *p, const line *l,
                                const char *what, ac_episode **ep)
{
    char why[512];
    ac_signals *s = NULL;
    if (ac_episode_load_json(ep, l->text, l->len, NULL, NULL, 0, why,
                             sizeof why, NULL, 0) != AC_OK) {
        fail("%s: %s", what, why);
        return NULL;
    }
    int rc = ac_pipeline_run(p, *ep);
    if (rc == AC_OK)
        rc = ac_pipeline_signals(p, *ep, NULL, &s);
    if (rc != AC_OK) {
        fail("%s: %s: %s", what, ac_strerror(rc), ac_pipeline_last_error(p));
        ac_episode_free(*ep);
        *ep = NULL;
    }
    return s;
}

/* One episode as every format, each call timed (CPU). */
static void export_episode(ac_export **x, const ac_episode *ep,
                           const ac_signals *s, size_t i, const char *what,
                           export_tally *t)
{
    for (int f = 0; f < N_FORMATS; f++) {
        double start = now_cpu();
        int rc = ac_export_episode(x[f], ep, s);
        t[f].us[i] = 1e6 * (now_cpu() - start);
        const char *text = NULL;
        size_t len = 0;
        uint32_t records = 0, skips = 0;
        CHECK(rc == AC_OK, "%s: export %s: %s", what,
              ac_export_format_name(f + 1), ac_export_last_error(x[f]));
        CHECK(ac_export_text(x[f], &text, &len, &records) == AC_OK &&
              ac_export_skip_count(x[f], &skips) == AC_OK,
              "%s: ac_export_text", what);
        t[f].records += records;
        t[f].skips += skips;
        t[f].bytes += len;
    }
}

/* Every line of c exported as every format: per-format CPU time per
 * episode, records, skips and bytes. The pipeline's run is not timed. */
static void time_exports(const corpus *c, const char *name)
{
    table_oracle *tables = xcalloc(c->n, sizeof *tables), current = {0};
    ac_pipeline *p = make_pipeline(&current);
    ac_export *x[N_FORMATS];
    export_tally t[N_FORMATS];
    for (int f = 0; f < N_FORMATS; f++) {
        CHECK(ac_export_create(&x[f], f + 1, NULL) == AC_OK,
              "ac_export_create %d", f + 1);
        memset(&t[f], 0, sizeof t[f]);
        t[f].us = xcalloc(c->n ? c->n : 1, sizeof(double));
    }
    char what[128];
    size_t done = 0;
    for (size_t i = 0; i < c->n; i++) {
        uint32_t agents = 0, messages = 0;
        if (line_counts(&c->lines[i], &agents, &messages) != 0 ||
            agents < 1 || agents > MAX_TABLE_AGENTS)
            continue;
        table_fill(&tables[i], agents, 0x5eedull + i);
        current = tables[i];
        snprintf(what, sizeof what, "%s episode %zu", name, i);
        ac_episode *ep = NULL;
        ac_signals *s = line_signals(p, &c->lines[i], what, &ep);
        if (s != NULL)
            export_episode(x, ep, s, done++, what, t);
        ac_signals_free(s);
        ac_episode_free(ep);
    }
    printf("| %s: format | records | skips | MB | median us | p90 us | "
           "total ms |\n|---|---|---|---|---|---|---|\n", name);
    for (int f = 0; f < N_FORMATS; f++) {
        double total = 0.0;
        for (size_t i = 0; i < done; i++)
            total += t[f].us[i];
        summary sm = summarize(t[f].us, done);
        printf("| %s | %llu | %llu | %.2f | %.1f | %.1f | %.1f |\n",
               ac_export_format_name(f + 1),
               (unsigned long long)t[f].records,
               (unsigned long long)t[f].skips, t[f].bytes / 1e6, sm.median,
               sm.p90, total / 1e3);
        free(t[f].us);
        ac_export_free(x[f]);
    }
    printf("\n%zu episodes exported, each as %d formats\n\n", done,
           N_FORMATS);
    ac_pipeline_free(p);
    for (size_t i = 0; i < c->n; i++)
        free(tables[i].v);
    free(tables);
}

/* ------------------------------------------------------------------ */
/* Section synthetic: 100 messages, 2..8 agents, a failure.            */

static void add_or_die(int rc, const ac_episode *ep, const char *what)
{
    if (rc != AC_OK) {
        fprintf(stderr, "benchmark: %s: %s: %s\n", what, ac_strerror(rc),
                ac_episode_last_error(ep));
        exit(2);
    }
}

/* Episode `seed` with n agents, as a JSON line: the user's task, then
 * agents' messages (each agent once first, then drawn at random) with a
 * tool's output one time in five; failed (R = 0 against a reference of
 * 0.4) with the first error annotated on a random agent's message. */
static line synthetic_line(uint32_t n, uint64_t seed)
{
    ac_episode *ep = NULL;
    add_or_die(ac_episode_create(&ep, NULL), ep, "ac_episode_create");
    uint32_t user = 0, tool = 0, agent[SYNTH_MAX_AGENTS];
    char name[32], text[64];
    add_or_die(ac_episode_add_participant(ep, "user",
                                          AC_PARTICIPANT_KIND_USER, &user),
               ep, "user");
    for (uint32_t a = 0; a < n; a++) {
        snprintf(name, sizeof name, "agent%u", a);
        add_or_die(ac_episode_add_participant(
                       ep, name, AC_PARTICIPANT_KIND_AGENT, &agent[a]),
                   ep, name);
    }
    add_or_die(ac_episode_add_participant(ep, "tool",
                                          AC_PARTICIPANT_KIND_TOOL, &tool),
               ep, "tool");
    add_or_die(ac_episode_add_message(ep, user, "user", "the task", NULL),
               ep, "message");
    xoshiro256 rng;
    xoshiro_seed(&rng, seed);
    uint32_t agent_messages[SYNTH_MESSAGES], count = 0;
    for (uint32_t m = 1; m < SYNTH_MESSAGES; m++) {
        int is_tool = m > n && xoshiro_next(&rng) % 5 == 0;
        uint32_t who = is_tool ? tool
                       : m <= n ? agent[m - 1]
                                : agent[xoshiro_next(&rng) % n];
        snprintf(text, sizeof text, "message %u", m);
        add_or_die(ac_episode_add_message(ep, who,
                                          is_tool ? "tool" : "assistant",
                                          text, NULL),
                   ep, "message");
        add_or_die(ac_episode_set_token_span(ep, m, 20u * m, 20u * m + 20u),
                   ep, "tokens");
        if (!is_tool)
            agent_messages[count++] = m;
    }
    add_or_die(ac_episode_set_outcome(ep, 0.0), ep, "outcome");
    add_or_die(ac_episode_set_reference(ep, 0.4), ep, "reference");
    add_or_die(ac_episode_set_first_error_label(
                   ep, agent_messages[xoshiro_next(&rng) % count]),
               ep, "first error");
    snprintf(name, sizeof name, "synthetic-%u-%llu", n,
             (unsigned long long)seed);
    add_or_die(ac_episode_set_id(ep, name), ep, "id");
    line l = {0};
    l.text = episode_json(ep, &l.len);
    if (l.text == NULL)
        add_or_die(AC_E_NO_MEMORY, ep, "ac_episode_write_json");
    ac_episode_free(ep);
    return l;
}

static void section_synthetic(size_t per_count, int exports)
{
    printf("## synthetic: %u messages, %u..%u agents, a failure, exact "
           "credit (%zu episodes per agent count)\n\n",
           SYNTH_MESSAGES, SYNTH_MIN_AGENTS, SYNTH_MAX_AGENTS, per_count);
    corpus c = {0};
    for (uint32_t n = SYNTH_MIN_AGENTS; n <= SYNTH_MAX_AGENTS; n++)
        for (size_t k = 0; k < per_count; k++) {
            line l = synthetic_line(n, 1000u * n + k);
            corpus_add(&c, l.text, l.len);
        }
    timing *t = xcalloc(c.n, sizeof *t);
    double elapsed[2];
    time_corpus(&c, "synthetic", t, elapsed);
    printf("%zu episodes: %.1f ms wall, %.1f ms CPU, one thread\n\n", c.n,
           1e3 * elapsed[0], 1e3 * elapsed[1]);
    printf("Library CPU time per episode, microseconds, the callback's "
           "time taken out (target: run under %.0f):\n\n", TARGET_US);
    print_header();
    char label[64];
    for (uint32_t n = SYNTH_MIN_AGENTS; n <= SYNTH_MAX_AGENTS; n++) {
        snprintf(label, sizeof label, "%u agents", n);
        print_row(label, t, c.n, n, 1);
    }
    printf("\n");
    size_t under = 0;
    for (size_t i = 0; i < c.n; i++)
        under += t[i].run_us < TARGET_US;
    printf("target: %zu of %zu runs took under %.0f us of library CPU "
           "time\n\n", under, c.n, TARGET_US);
    free(t);
    if (exports) {
        printf("exports (each episode's signals as every trainer format; "
               "20 tokens a message), library CPU time per episode:\n\n");
        time_exports(&c, "synthetic");
    }
    corpus_free(&c);
}

/* ------------------------------------------------------------------ */

static void usage(void)
{
    printf("usage: bench_signals [--quick] [--data DIR] [--episodes N] "
           "[--only data,synthetic]\n"
           "  --data DIR     the published data (who_and_when/, "
           "agentrx_tau/);\n"
           "                 default $AC_SHARED_DATA, else the data section "
           "is skipped\n"
           "  --episodes N   synthetic episodes per agent count (500; "
           "--quick: 5)\n"
           "  --only LIST    data, synthetic, exports (all by default; "
           "exports\n"
           "                 times every trainer format over the sections' "
           "episodes)\n"
           "Exit status 1 when a check fails; docs/performance.md, section "
           "5.\n");
}

static int wants(const char *only, const char *section)
{
    if (only == NULL)
        return 1;
    size_t len = strlen(section);
    for (const char *s = only; (s = strstr(s, section)) != NULL; s += len)
        if ((s == only || s[-1] == ',') && (s[len] == '\0' || s[len] == ','))
            return 1;
    return 0;
}

int main(int argc, char **argv)
{
    int quick = 0;
    long long episodes = -1;
    const char *data = getenv("AC_SHARED_DATA"), *only = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--quick") == 0) {
            quick = 1;
        } else if (strcmp(a, "--data") == 0 && i + 1 < argc) {
            data = argv[++i];
        } else if (strcmp(a, "--episodes") == 0 && i + 1 < argc) {
            if (parse_int(argv[++i], 1, 1000000, &episodes) != 0) {
                fprintf(stderr, "bench_signals: --episodes: a whole number "
                                "in 1..1000000\n");
                return 2;
            }
        } else if (strcmp(a, "--only") == 0 && i + 1 < argc) {
            only = argv[++i];
        } else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage();
            return 0;
        } else {
            fprintf(stderr, "bench_signals: unknown option '%s'\n", a);
            usage();
            return 2;
        }
    }
    if (only != NULL && !wants(only, "data") && !wants(only, "synthetic") &&
        !wants(only, "exports")) {
        fprintf(stderr, "bench_signals: --only: data, synthetic, exports\n");
        return 2;
    }
    if (episodes < 0)
        episodes = quick ? 5 : 500;
    printf("bench_signals: agentcredit %s%s\n\n", ac_version_string(),
           quick ? ", --quick" : "");
    /* the exports are timed over the sections' episodes: --only exports
     * runs both sections too */
    int exports = wants(only, "exports");
    if (wants(only, "data") || (only != NULL && exports))
        section_data(data, exports);
    if (wants(only, "synthetic") || (only != NULL && exports))
        section_synthetic((size_t)episodes, exports);
    printf("%s: %d failed checks\n", g_failures ? "FAILED" : "ok",
           g_failures);
    return g_failures ? 1 : 0;
}
