/* SPDX-License-Identifier: MIT
 * agentcredit export: signals JSONL and their episodes in, a trainer's
 * records out (the library's ac_export; docs/trainers.md).
 *
 * The episodes are read first and kept by id; each signals line is then
 * joined to its episode by id and converted, in the signals' order. A
 * line that cannot be read or joined is reported with its file and line
 * and the run goes on; what a format cannot write is a skip, counted by
 * reason (and listed with --report), not a failure. */
#include "cli.h"

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_MAX_BYTES ((uint64_t)64 << 20)

typedef struct options {
    int32_t format;
    const char *episodes, *candidates, *output, *report, *tools;
    const char *empty_prompt, *group_sep, *data_source;
    const char **agents;
    uint32_t n_agents;
    int64_t placement, speaker_prefix;
    double turn_discount;
    int has_discount, quiet;
    uint64_t max_bytes;
} options;

/* An episode of the episodes file, by id for the join. */
typedef struct kept {
    const char *id;
    ac_episode *ep;
    uint64_t line;
    int twice;    /* another line has its id                       */
    char *joined; /* FILE:LINE of its signals (malloc'd), NULL: none */
} kept;

/* The episodes file: its episodes sorted by id, and the lines that gave
 * none (not an episode, no id, an id given twice). */
typedef struct episodes {
    const char *path;
    kept *k;
    size_t n, cap;
    uint64_t failed;
} episodes;

typedef struct tally {
    uint64_t lines, records, failed, skips[16];
} tally;

void cli_export_help(FILE *f, const char *lead)
{
    fprintf(f,
            "%sexport --to FORMAT --episodes EPISODES.jsonl [OPTIONS]\n"
            "               SIGNALS.jsonl...\n"
            "        Each signals line (from 'agentcredit signals'; '-' reads\n"
            "        stdin), joined by id to its episode, as the records a\n"
            "        trainer loads, one JSON object a line (docs/trainers.md):\n"
            "        trl-dpo, trl-dpo-standard, trl-reward, trl-kto, trl-prm,\n"
            "        verl, verl-tokens, openrlhf, areal, prime-rl, rllm,\n"
            "        skyrl. What a format cannot write (an empty prompt, no\n"
            "        pair, a zero reward, no token spans...) is skipped and\n"
            "        counted by reason. A line that cannot be read or joined\n"
            "        is reported as FILE:LINE and the run goes on. The\n"
            "        options come before the files.\n"
            "        --to FORMAT      the trainer's format (required)\n"
            "        --episodes FILE  the episodes of the signals (required)\n"
            "        --agent NAME     train this agent only (repeatable;\n"
            "                        default every agent)\n"
            "        --candidates FILE  {\"EPISODE ID\": {\"CANDIDATE ID\":\n"
            "                        text or assistant message}}: the chosen\n"
            "                        side of repair pairs\n"
            "        --empty-prompt skip|system:TEXT  a conversational record\n"
            "                        with nothing before its message: skipped\n"
            "                        (default), or with this system message\n"
            "        --no-speaker-prefix  other agents' and tools' text\n"
            "                        without \"NAME: \"\n"
            "        --placement last|spread  a reward on a message's last\n"
            "                        token (default) or over its tokens\n"
            "                        (verl-tokens, skyrl)\n"
            "        --turn-discount G  AReaL's agent.turn_discount, which the\n"
            "                        areal rewards undo (default 1)\n"
            "        --group-sep SEP  an episode's group is its id up to the\n"
            "                        last SEP (default ':')\n"
            "        --tools FILE     a JSON array of tool schemas, written\n"
            "                        as the records' \"tools\"\n"
            "        --data-source NAME  verl's data_source (default\n"
            "                        agentcredit)\n"
            "        --max-bytes N    longest line, and largest --candidates\n"
            "                        or --tools file, in bytes (default 64M)\n"
            "        --report FILE    one JSON line per skip: id, format,\n"
            "                        reason, message, agent\n"
            "        -o, --output FILE  write there instead of stdout\n"
            "        -q, --quiet      no summary\n"
            "        -h, --help       this text\n"
            "        Exit status 1 when any line failed or a file could not\n"
            "        be read (a skip is no failure); 2 for a bad option, or a\n"
            "        --tools or --candidates file that is not what it needs.\n",
            lead);
}

static int parse_empty_prompt(const char *v, options *o)
{
    if (strcmp(v, "skip") == 0) {
        o->empty_prompt = NULL;
        return 0;
    }
    if (strncmp(v, "system:", 7) == 0 && v[7] != '\0') {
        o->empty_prompt = v + 7;
        return 0;
    }
    cli_error("export: --empty-prompt: 'skip' or 'system:TEXT', not '%s'", v);
    return -1;
}

static int parse_value(options *o, const char *name, const char *v)
{
    if (strcmp(name, "--to") == 0) {
        o->format = ac_export_format_from_name(v);
        if (o->format == 0)
            cli_error("export: --to: no format '%s' (see --help)", v);
        return o->format == 0 ? -1 : 0;
    }
    if (strcmp(name, "--agent") == 0) {
        const char **grown = realloc(o->agents, (o->n_agents + 1) *
                                                    sizeof *o->agents);
        if (grown == NULL) {
            cli_error("export: --agent: out of memory");
            return -1;
        }
        o->agents = grown;
        o->agents[o->n_agents++] = v;
        return 0;
    }
    if (strcmp(name, "--placement") == 0) {
        o->placement = strcmp(v, "last") == 0     ? AC_TOKEN_PLACEMENT_LAST
                       : strcmp(v, "spread") == 0 ? AC_TOKEN_PLACEMENT_SPREAD
                                                  : -1;
        if (o->placement < 0)
            cli_error("export: --placement: 'last' or 'spread', not '%s'", v);
        return o->placement < 0 ? -1 : 0;
    }
    if (strcmp(name, "--turn-discount") == 0) {
        o->has_discount = 1;
        return cli_parse_f64("--turn-discount", v, &o->turn_discount);
    }
    if (strcmp(name, "--max-bytes") == 0)
        return cli_parse_size("--max-bytes", v, &o->max_bytes);
    if (strcmp(name, "--empty-prompt") == 0)
        return parse_empty_prompt(v, o);
    const char **slot = strcmp(name, "--episodes") == 0     ? &o->episodes
                        : strcmp(name, "--candidates") == 0 ? &o->candidates
                        : strcmp(name, "--report") == 0     ? &o->report
                        : strcmp(name, "--tools") == 0      ? &o->tools
                        : strcmp(name, "--group-sep") == 0  ? &o->group_sep
                        : strcmp(name, "--data-source") == 0 ? &o->data_source
                                                             : &o->output;
    *slot = v;
    return 0;
}

static const char *const VALUE_OPTIONS[] = {
    "--to", "--episodes", "--agent", "--candidates", "--empty-prompt",
    "--placement", "--turn-discount", "--group-sep", "--tools",
    "--data-source", "--max-bytes", "--report", "--output"};

/* The value-less options; 1 when arg is one of them (-1 after a
 * message: one given a value). */
static int parse_flag(const char *a, options *o)
{
    int quiet = strcmp(a, "-q") == 0 ? 1 : cli_option_flag(a, "--quiet");
    int prefix = cli_option_flag(a, "--no-speaker-prefix");
    if (quiet == 1)
        o->quiet = 1;
    if (prefix == 1)
        o->speaker_prefix = 0;
    return quiet != 0 ? quiet : prefix;
}

/* What is needed and not given; options after the files (they would be
 * read as signals files). */
static int check_command_line(int argc, char **argv, const options *o,
                              int first, int dashdash)
{
    const char *missing = o->format == 0      ? "no --to FORMAT"
                          : o->episodes == NULL ? "no --episodes FILE"
                          : first >= argc       ? "no signals file"
                                                : NULL;
    if (missing != NULL) {
        cli_error("export: %s (see --help)", missing);
        return CLI_USAGE;
    }
    for (int i = first; !dashdash && i < argc; i++)
        if (argv[i][0] == '-' && argv[i][1] != '\0') {
            cli_error("export: '%s' after the signals files: options come "
                      "before them (a file named so: after '--')", argv[i]);
            return CLI_USAGE;
        }
    return CLI_OK;
}

static int parse_options(int argc, char **argv, options *o, int *first)
{
    memset(o, 0, sizeof *o);
    o->speaker_prefix = 1;
    o->max_bytes = DEFAULT_MAX_BYTES;
    int i = 1, dashdash = 0;
    while (i < argc && argv[i][0] == '-' && strcmp(argv[i], "-") != 0) {
        const char *a = argv[i], *v = NULL;
        if (strcmp(a, "--") == 0) {
            i++;
            dashdash = 1;
            break;
        }
        int flag = parse_flag(a, o);
        if (flag < 0)
            return CLI_USAGE;
        if (flag == 1) {
            i++;
            continue;
        }
        if (strcmp(a, "-o") == 0) {
            if (i + 1 >= argc) {
                cli_error("export: -o needs a value");
                return CLI_USAGE;
            }
            o->output = argv[i + 1];
            i += 2;
            continue;
        }
        int got = 0;
        size_t k = 0;
        for (; k < sizeof VALUE_OPTIONS / sizeof VALUE_OPTIONS[0]; k++)
            if ((got = cli_option_value(argc, argv, &i, VALUE_OPTIONS[k],
                                        &v)) != 0)
                break;
        if (got < 0)
            return CLI_USAGE;
        if (got == 0) {
            cli_error("export: unknown option '%s' (see --help)", a);
            return CLI_USAGE;
        }
        if (parse_value(o, VALUE_OPTIONS[k], v) != 0)
            return CLI_USAGE;
    }
    *first = i;
    return check_command_line(argc, argv, o, i, dashdash);
}

/* A library refusal of an option's value, named by the option; the
 * exit status it gives (out of memory is not the command line's fault). */
static int refused(const ac_export *x, int rc, const char *option,
                   const char *file)
{
    cli_error("export: %s%s%s: %s", option, file != NULL ? " " : "",
              file != NULL ? file : "", ac_export_last_error(x));
    return rc == AC_E_NO_MEMORY ? CLI_FAILED : CLI_USAGE;
}

/* The options' values into the exporter: CLI_OK, or the exit status
 * after a message naming the option. */
static int set_values(ac_export *x, const options *o)
{
    if (ac_export_set_int(x, AC_EXPORT_PARAM_PLACEMENT, o->placement) != AC_OK ||
        ac_export_set_int(x, AC_EXPORT_PARAM_SPEAKER_PREFIX,
                          o->speaker_prefix) != AC_OK)
        return refused(x, AC_E_INVALID_ARG, "--placement", NULL);
    int rc = o->has_discount ? ac_export_set_f64(x, AC_EXPORT_PARAM_TURN_DISCOUNT,
                                                 o->turn_discount)
                             : AC_OK;
    if (rc != AC_OK)
        return refused(x, rc, "--turn-discount", NULL);
    if ((rc = ac_export_set_str(x, AC_EXPORT_PARAM_EMPTY_PROMPT,
                                o->empty_prompt)) != AC_OK)
        return refused(x, rc, "--empty-prompt", NULL);
    if ((rc = ac_export_set_str(x, AC_EXPORT_PARAM_GROUP_SEP,
                                o->group_sep)) != AC_OK)
        return refused(x, rc, "--group-sep", NULL);
    if ((rc = ac_export_set_str(x, AC_EXPORT_PARAM_DATA_SOURCE,
                                o->data_source)) != AC_OK)
        return refused(x, rc, "--data-source", NULL);
    if ((rc = ac_export_set_agents(x, o->agents, o->n_agents)) != AC_OK)
        return refused(x, rc, "--agent", NULL);
    return CLI_OK;
}

/* The --tools and --candidates files into the exporter; a file that
 * cannot be read is a failed run, one the library refuses a bad input
 * (its message names the place in the file). */
static int load_files(ac_export *x, const options *o)
{
    size_t len;
    char *text;
    int rc = AC_OK;
    if (o->tools != NULL) {
        if (cli_read_file(o->tools, o->max_bytes, &text, &len) != 0)
            return CLI_FAILED;
        if (memchr(text, '\0', len) != NULL) { /* the library takes a string */
            cli_error("export: --tools %s: a NUL byte, which no JSON text "
                      "holds", o->tools);
            free(text);
            return CLI_USAGE;
        }
        rc = ac_export_set_str(x, AC_EXPORT_PARAM_TOOLS, text);
        free(text);
        if (rc != AC_OK)
            return refused(x, rc, "--tools", o->tools);
    }
    if (o->candidates != NULL) {
        if (cli_read_file(o->candidates, o->max_bytes, &text, &len) != 0)
            return CLI_FAILED;
        rc = ac_export_load_candidates(x, text, len, NULL);
        free(text);
        if (rc != AC_OK)
            return refused(x, rc, "--candidates", o->candidates);
    }
    return CLI_OK;
}

/* The exporter with the options set, or the exit status after a
 * message. */
static int make_export(const options *o, ac_export **out)
{
    ac_export *x;
    if (ac_export_create(&x, o->format, NULL) != AC_OK) {
        cli_error("export: out of memory");
        return CLI_FAILED;
    }
    int rc = set_values(x, o);
    if (rc == CLI_OK)
        rc = load_files(x, o);
    if (rc != CLI_OK) {
        ac_export_free(x);
        return rc;
    }
    *out = x;
    return CLI_OK;
}

static int by_id(const void *a, const void *b)
{
    return strcmp(((const kept *)a)->id, ((const kept *)b)->id);
}

static void free_episodes(episodes *e)
{
    for (size_t i = 0; i < e->n; i++) {
        ac_episode_free(e->k[i].ep);
        free(e->k[i].joined);
    }
    free(e->k);
}

/* One episode line into the table; -1 (after a message) when it gives
 * no episode to join. */
static int keep_episode(episodes *e, uint64_t line, const char *text,
                        size_t len)
{
    char err[512];
    ac_episode *ep;
    int rc = ac_episode_load_json(&ep, text, len, NULL, NULL, 0, err,
                                  sizeof err, NULL, 0);
    if (rc != AC_OK) {
        cli_error("%s:%llu: %s", e->path, (unsigned long long)line, err);
        return -1;
    }
    if (ac_episode_id(ep) == NULL) {
        cli_error("%s:%llu: the episode has no \"id\", which the join "
                  "needs", e->path, (unsigned long long)line);
        ac_episode_free(ep);
        return -1;
    }
    if (e->n == e->cap) {
        size_t want = e->cap ? 2 * e->cap : 256;
        kept *grown = realloc(e->k, want * sizeof *e->k);
        if (grown == NULL) {
            cli_error("%s:%llu: out of memory", e->path,
                      (unsigned long long)line);
            ac_episode_free(ep);
            return -1;
        }
        e->k = grown;
        e->cap = want;
    }
    e->k[e->n++] = (kept){ac_episode_id(ep), ep, line, 0, NULL};
    return 0;
}

/* An id on two lines joins neither: both are marked, each line after
 * the first reported (qsort keeps no order: the lines are compared). */
static void mark_twice(episodes *e)
{
    for (size_t i = 1; i < e->n; i++) {
        kept *a = &e->k[i - 1], *b = &e->k[i];
        if (strcmp(a->id, b->id) != 0)
            continue;
        a->twice = b->twice = 1;
        cli_error("%s:%llu: id \"%s\" is also on line %llu; signals with "
                  "it cannot be joined", e->path,
                  (unsigned long long)(a->line > b->line ? a->line : b->line),
                  b->id,
                  (unsigned long long)(a->line > b->line ? b->line : a->line));
        e->failed++;
    }
}

/* Every episode of the file, sorted by id; -1 when the file cannot be
 * read (a line that cannot is counted, and the run goes on). */
static int read_episodes(const options *o, episodes *e)
{
    memset(e, 0, sizeof *e);
    e->path = o->episodes;
    FILE *in = fopen(o->episodes, "rb");
    if (in == NULL) {
        cli_error("%s: %s", o->episodes, strerror(errno));
        return -1;
    }
    uint64_t number = 0;
    int got, too_long;
    char *line;
    size_t len;
    while ((got = cli_read_line(in, o->max_bytes, &line, &len, &too_long)) > 0) {
        number++;
        if (too_long)
            cli_error("%s:%llu: the line is longer than --max-bytes (%llu "
                      "bytes)", e->path, (unsigned long long)number,
                      (unsigned long long)o->max_bytes);
        if (too_long || (!cli_blank(line, len) &&
                         keep_episode(e, number, line, len) != 0))
            e->failed++;
        free(line);
    }
    int bad = got < 0 || ferror(in);
    if (bad)
        cli_error("%s: %s", e->path, got < 0 ? "out of memory reading a line"
                                              : strerror(errno));
    fclose(in);
    if (e->n > 0)
        qsort(e->k, e->n, sizeof *e->k, by_id);
    mark_twice(e);
    return bad ? -1 : 0;
}

/* One line of --report. */
static void write_skip(FILE *report, const char *id, const char *format,
                       int32_t reason, int64_t message, const char *agent)
{
    json_t *line = json_pack("{s:s, s:s, s:s, s:o, s:o}", "id", id, "format",
                             format, "reason", ac_export_skip_name(reason),
                             "message", message < 0 ? json_null()
                                                    : json_integer(message),
                             "agent", agent == NULL ? json_null()
                                                    : json_string(agent));
    if (line == NULL || json_dumpf(line, report, JSON_COMPACT) != 0 ||
        fputc('\n', report) == EOF)
        cli_error("--report: cannot write a skip");
    json_decref(line);
}

static void report_skips(const ac_export *x, FILE *report, const char *id,
                         const char *format, tally *t)
{
    uint32_t n = 0;
    if (ac_export_skip_count(x, &n) != AC_OK)
        n = 0;
    for (uint32_t k = 0; k < n; k++) {
        int32_t reason = 0;
        int64_t message = -1;
        const char *agent = NULL;
        if (ac_export_skip(x, k, &reason, &message, &agent) != AC_OK)
            continue;
        if (reason > 0 && reason < 16)
            t->skips[reason]++;
        if (report != NULL)
            write_skip(report, id, format, reason, message, agent);
    }
}

/* The episode of signals s: NULL (after a message) when there is none
 * to join. */
static kept *join(episodes *e, const ac_signals *s, const char *where)
{
    const char *id = ac_signals_id(s);
    if (id == NULL) {
        cli_error("%s: the signals have no \"id\", which the join needs",
                  where);
        return NULL;
    }
    kept key = {id, NULL, 0, 0, NULL};
    kept *k = e->n > 0 ? bsearch(&key, e->k, e->n, sizeof *e->k, by_id)
                       : NULL;
    if (k == NULL)
        cli_error("%s: no episode with id \"%s\" in %s", where, id,
                  e->path);
    else if (k->twice)
        cli_error("%s: %s has more than one episode with id \"%s\"", where,
                  e->path, id);
    else if (k->joined != NULL)
        cli_error("%s: the signals of \"%s\" were exported from %s already "
                  "(each episode's records are written once)", where, id,
                  k->joined);
    return k == NULL || k->twice || k->joined != NULL ? NULL : k;
}

/* One signals line: loaded, joined, converted, written. */
static void export_line(ac_export *x, episodes *e, const char *where,
                        const char *line, size_t len, FILE *to,
                        FILE *report, tally *t)
{
    char err[512];
    ac_signals *s;
    if (ac_signals_load_json(&s, line, len, NULL, NULL, 0, err, sizeof err,
                             NULL, 0) != AC_OK) {
        cli_error("%s: %s", where, err);
        t->failed++;
        return;
    }
    kept *k = join(e, s, where);
    if (k == NULL) {
        t->failed++;
    } else if (ac_export_episode(x, k->ep, s) != AC_OK) {
        cli_error("%s: %s", where, ac_export_last_error(x));
        t->failed++;
    } else {
        const char *text;
        size_t tlen;
        uint32_t records;
        if (ac_export_text(x, &text, &tlen, &records) != AC_OK)
            tlen = records = 0;
        fwrite(text, 1, tlen, to);
        t->records += records;
        size_t n = strlen(where) + 1;
        if ((k->joined = malloc(n)) != NULL)
            memcpy(k->joined, where, n);
        report_skips(x, report, k->id, ac_export_format_name(
                                           ac_export_format_of(x)), t);
    }
    ac_signals_free(s);
}

static int one_file(ac_export *x, const options *o, episodes *e,
                    const char *path, FILE *to, FILE *report, tally *t)
{
    int is_stdin = strcmp(path, "-") == 0;
    FILE *in = cli_open_input(path);
    if (in == NULL) {
        t->failed++;
        return -1;
    }
    const char *name = is_stdin ? "<stdin>" : path;
    size_t cap = strlen(name) + 32;
    char *where = malloc(cap);
    uint64_t number = 0;
    int got = where == NULL ? -1 : 1, too_long;
    char *line;
    size_t len;
    while (got > 0 &&
           (got = cli_read_line(in, o->max_bytes, &line, &len, &too_long)) > 0) {
        snprintf(where, cap, "%s:%llu", name, (unsigned long long)++number);
        if (too_long) {
            cli_error("%s: the line is longer than --max-bytes (%llu bytes)",
                      where, (unsigned long long)o->max_bytes);
            t->lines++;
            t->failed++;
        } else if (!cli_blank(line, len)) {
            t->lines++;
            export_line(x, e, where, line, len, to, report, t);
        }
        free(line);
    }
    int bad = got < 0 || ferror(in);
    if (bad)
        cli_error("%s: %s", name, got < 0 ? "out of memory reading a line"
                                           : strerror(errno));
    free(where);
    if (!is_stdin)
        fclose(in);
    return bad ? -1 : 0;
}

/* The last line on stderr: the counts, the skips by reason, the
 * episodes lines that gave no episode and the episodes no signals line
 * joined. */
static void summary(const options *o, const tally *t, const episodes *e)
{
    if (o->quiet)
        return;
    fprintf(stderr, "agentcredit: export: %llu signals lines, %llu records, "
            "%llu failed", (unsigned long long)t->lines,
            (unsigned long long)t->records, (unsigned long long)t->failed);
    const char *sep = "; skipped: ";
    for (int r = 1; r < 16; r++)
        if (t->skips[r] > 0) {
            fprintf(stderr, "%s%s %llu", sep, ac_export_skip_name(r),
                    (unsigned long long)t->skips[r]);
            sep = ", ";
        }
    size_t unused = 0;
    for (size_t i = 0; i < e->n; i++)
        unused += e->k[i].joined == NULL && !e->k[i].twice;
    if (e->failed > 0)
        fprintf(stderr, "; %llu episode lines failed",
                (unsigned long long)e->failed);
    if (unused > 0)
        fprintf(stderr, "; %zu episodes without a signals line", unused);
    fputc('\n', stderr);
}

static FILE *open_out(const char *path)
{
    FILE *f = path == NULL ? stdout : fopen(path, "wb");
    if (f == NULL)
        cli_error("%s: %s", path, strerror(errno));
    return f;
}

static int close_out(FILE *f, const char *path)
{
    if (f == NULL)
        return 0;
    int bad = fflush(f) != 0;
    if (path != NULL)
        bad |= fclose(f) != 0;
    if (bad)
        cli_error("%s: %s", path ? path : "<stdout>", strerror(errno));
    return bad;
}

int cli_export(int argc, char **argv)
{
    if (cli_help_asked(argc, argv, cli_export_help))
        return CLI_OK;
    options o;
    int first = 0, rc = parse_options(argc, argv, &o, &first);
    ac_export *x = NULL;
    if (rc == CLI_OK)
        rc = make_export(&o, &x);
    episodes e;
    memset(&e, 0, sizeof e);
    if (rc == CLI_OK && read_episodes(&o, &e) != 0)
        rc = CLI_FAILED;
    FILE *to = rc == CLI_OK ? open_out(o.output) : NULL;
    FILE *report = rc == CLI_OK && to != NULL && o.report != NULL
                       ? open_out(o.report) : NULL;
    if (rc == CLI_OK && (to == NULL || (o.report != NULL && report == NULL)))
        rc = CLI_FAILED;
    tally t;
    memset(&t, 0, sizeof t);
    int io = 0;
    for (int i = first; rc == CLI_OK && i < argc; i++)
        io |= one_file(x, &o, &e, argv[i], to, report, &t) != 0;
    io |= close_out(to, o.output) | close_out(report, o.report);
    if (rc == CLI_OK)
        summary(&o, &t, &e);
    free_episodes(&e);
    ac_export_free(x);
    free(o.agents);
    return rc != CLI_OK            ? rc
           : io || t.failed || e.failed ? CLI_FAILED
                                        : CLI_OK;
}
