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

/* The episodes by id, sorted for the join. */
typedef struct kept {
    const char *id;
    ac_episode *ep;
    char where[64];
    int used;
} kept;

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
            "        counted by reason.\n"
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
            "        --max-bytes N    longest line, in bytes (default 64M)\n"
            "        --report FILE    one JSON line per skip: id, format,\n"
            "                        reason, message, agent\n"
            "        -o, --output FILE  write there instead of stdout\n"
            "        -q, --quiet      no summary\n"
            "        -h, --help       this text\n"
            "        Exit status 1 when any line failed.\n",
            lead);
}

/* A whole small file (the candidates, the tools) into a malloc'd text. */
static char *slurp(const char *path, uint64_t max, size_t *len)
{
    FILE *in = fopen(path, "rb");
    if (in == NULL) {
        cli_error("%s: %s", path, strerror(errno));
        return NULL;
    }
    char *text = NULL;
    size_t n = 0, cap = 0;
    int c;
    while ((c = getc(in)) != EOF) {
        if (n + 1 >= cap) {
            size_t want = cap ? 2 * cap : 4096;
            char *grown = want > max + 1 ? NULL : realloc(text, want);
            if (grown == NULL) {
                cli_error("%s: %s", path, want > max + 1
                                              ? "longer than --max-bytes"
                                              : "out of memory");
                free(text);
                fclose(in);
                return NULL;
            }
            text = grown;
            cap = want;
        }
        text[n++] = (char)c;
    }
    int bad = ferror(in);
    fclose(in);
    if (bad) {
        cli_error("%s: read error", path);
        free(text);
        return NULL;
    }
    if (text == NULL && (text = malloc(1)) == NULL)
        return NULL;
    text[n] = '\0';
    *len = n;
    return text;
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
        if (grown == NULL)
            return -1;
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

static int parse_options(int argc, char **argv, options *o, int *first)
{
    memset(o, 0, sizeof *o);
    o->speaker_prefix = 1;
    o->max_bytes = DEFAULT_MAX_BYTES;
    int i = 1;
    while (i < argc && argv[i][0] == '-' && strcmp(argv[i], "-") != 0) {
        const char *a = argv[i], *v = NULL;
        if (strcmp(a, "--") == 0) {
            i++;
            break;
        }
        if (strcmp(a, "-q") == 0 || cli_option_flag(a, "--quiet") == 1) {
            o->quiet = 1;
            i++;
            continue;
        }
        if (cli_option_flag(a, "--no-speaker-prefix") == 1) {
            o->speaker_prefix = 0;
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
    if (o->format == 0 || o->episodes == NULL || i >= argc) {
        cli_error("export: --to FORMAT, --episodes FILE and a signals file "
                  "are needed (see --help)");
        return CLI_USAGE;
    }
    return CLI_OK;
}

/* The exporter with the options set; CLI_USAGE when the library refuses
 * one (its message names it). */
static int make_export(const options *o, ac_export **out)
{
    ac_export *x;
    if (ac_export_create(&x, o->format, NULL) != AC_OK) {
        cli_error("export: out of memory");
        return CLI_FAILED;
    }
    int rc = ac_export_set_int(x, AC_EXPORT_PARAM_PLACEMENT, o->placement);
    if (rc == AC_OK)
        rc = ac_export_set_int(x, AC_EXPORT_PARAM_SPEAKER_PREFIX,
                               o->speaker_prefix);
    if (rc == AC_OK && o->has_discount)
        rc = ac_export_set_f64(x, AC_EXPORT_PARAM_TURN_DISCOUNT,
                               o->turn_discount);
    if (rc == AC_OK)
        rc = ac_export_set_str(x, AC_EXPORT_PARAM_EMPTY_PROMPT,
                               o->empty_prompt);
    if (rc == AC_OK && o->group_sep != NULL)
        rc = ac_export_set_str(x, AC_EXPORT_PARAM_GROUP_SEP, o->group_sep);
    if (rc == AC_OK && o->data_source != NULL)
        rc = ac_export_set_str(x, AC_EXPORT_PARAM_DATA_SOURCE, o->data_source);
    if (rc == AC_OK)
        rc = ac_export_set_agents(x, o->agents, o->n_agents);
    size_t len;
    char *text = NULL;
    if (rc == AC_OK && o->tools != NULL) {
        if ((text = slurp(o->tools, o->max_bytes, &len)) == NULL) {
            ac_export_free(x);
            return CLI_FAILED;
        }
        rc = ac_export_set_str(x, AC_EXPORT_PARAM_TOOLS, text);
        free(text);
    }
    if (rc == AC_OK && o->candidates != NULL) {
        if ((text = slurp(o->candidates, o->max_bytes, &len)) == NULL) {
            ac_export_free(x);
            return CLI_FAILED;
        }
        rc = ac_export_load_candidates(x, text, len, NULL);
        free(text);
        if (rc != AC_OK)
            cli_error("%s: %s", o->candidates, ac_export_last_error(x));
    }
    if (rc != AC_OK) {
        if (o->candidates == NULL || rc != AC_E_PARSE)
            cli_error("export: %s", ac_export_last_error(x));
        ac_export_free(x);
        return rc == AC_E_NO_MEMORY ? CLI_FAILED : CLI_USAGE;
    }
    *out = x;
    return CLI_OK;
}

static int by_id(const void *a, const void *b)
{
    return strcmp(((const kept *)a)->id, ((const kept *)b)->id);
}

static void free_kept(kept *k, size_t n)
{
    for (size_t i = 0; i < n; i++)
        ac_episode_free(k[i].ep);
    free(k);
}

/* One episode line into the table; -1 (after a message) when it fails. */
static int keep_episode(kept **k, size_t *n, size_t *cap, const char *where,
                        const char *line, size_t len)
{
    char err[512];
    ac_episode *ep;
    int rc = ac_episode_load_json(&ep, line, len, NULL, NULL, 0, err,
                                  sizeof err, NULL, 0);
    if (rc != AC_OK) {
        cli_error("%s: %s", where, err);
        return -1;
    }
    if (ac_episode_id(ep) == NULL) {
        cli_error("%s: the episode has no \"id\", which the join needs",
                  where);
        ac_episode_free(ep);
        return -1;
    }
    if (*n == *cap) {
        size_t want = *cap ? 2 * *cap : 256;
        kept *grown = realloc(*k, want * sizeof **k);
        if (grown == NULL) {
            cli_error("%s: out of memory", where);
            ac_episode_free(ep);
            return -1;
        }
        *k = grown;
        *cap = want;
    }
    kept *e = &(*k)[(*n)++];
    e->id = ac_episode_id(ep);
    e->ep = ep;
    e->used = 0;
    snprintf(e->where, sizeof e->where, "%s", where);
    return 0;
}

/* Every episode of the file, sorted by id; duplicates are an error. */
static int read_episodes(const options *o, kept **out, size_t *count)
{
    FILE *in = fopen(o->episodes, "rb");
    if (in == NULL) {
        cli_error("%s: %s", o->episodes, strerror(errno));
        return -1;
    }
    kept *k = NULL;
    size_t n = 0, cap = 0;
    uint64_t number = 0;
    int bad = 0, got, too_long;
    char *line;
    size_t len;
    while ((got = cli_read_line(in, o->max_bytes, &line, &len, &too_long)) > 0) {
        char where[64];
        snprintf(where, sizeof where, "%.40s:%llu", o->episodes,
                 (unsigned long long)++number);
        if (too_long)
            cli_error("%s: longer than --max-bytes", where);
        else if (!cli_blank(line, len))
            bad |= keep_episode(&k, &n, &cap, where, line, len) != 0;
        bad |= too_long;
        free(line);
    }
    bad |= got < 0 || ferror(in);
    fclose(in);
    if (n > 0)
        qsort(k, n, sizeof *k, by_id);
    for (size_t i = 1; i < n; i++)
        if (strcmp(k[i - 1].id, k[i].id) == 0) {
            cli_error("%s and %s: two episodes with id \"%s\"",
                      k[i - 1].where, k[i].where, k[i].id);
            bad = 1;
        }
    *out = k;
    *count = n;
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

/* One signals line: loaded, joined, converted, written. */
static void export_line(ac_export *x, kept *k, size_t n, const char *where,
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
    const char *id = ac_signals_id(s);
    kept key = {id != NULL ? id : "", NULL, "", 0};
    kept *e = n > 0 ? bsearch(&key, k, n, sizeof *k, by_id) : NULL;
    if (e == NULL) {
        cli_error("%s: no episode with id \"%s\" in the episodes file",
                  where, key.id);
        t->failed++;
    } else if (ac_export_episode(x, e->ep, s) != AC_OK) {
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
        e->used = 1;
        report_skips(x, report, key.id, ac_export_format_name(
                                             ac_export_format_of(x)), t);
    }
    ac_signals_free(s);
}

static int one_file(ac_export *x, const options *o, kept *k, size_t n,
                    const char *path, FILE *to, FILE *report, tally *t)
{
    int is_stdin = strcmp(path, "-") == 0;
    FILE *in = is_stdin ? stdin : fopen(path, "rb");
    if (in == NULL) {
        cli_error("%s: %s", path, strerror(errno));
        t->failed++;
        return -1;
    }
    uint64_t number = 0;
    int got, too_long;
    char *line;
    size_t len;
    while ((got = cli_read_line(in, o->max_bytes, &line, &len, &too_long)) > 0) {
        char where[64];
        snprintf(where, sizeof where, "%.40s:%llu",
                 is_stdin ? "<stdin>" : path, (unsigned long long)++number);
        if (too_long) {
            cli_error("%s: longer than --max-bytes", where);
            t->failed++;
        } else if (!cli_blank(line, len)) {
            t->lines++;
            export_line(x, k, n, where, line, len, to, report, t);
        }
        free(line);
    }
    int bad = got < 0 || ferror(in);
    if (bad)
        cli_error("%s: %s", path, got < 0 ? "out of memory reading a line"
                                           : "read error");
    if (!is_stdin)
        fclose(in);
    return bad ? -1 : 0;
}

static void summary(const options *o, const tally *t, size_t unused)
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
    for (int i = 1; i < argc; i++)
        if (cli_is_help(argv[i])) {
            cli_export_help(stdout, "Usage: agentcredit ");
            return CLI_OK;
        }
    options o;
    int first = 0, rc = parse_options(argc, argv, &o, &first);
    ac_export *x = NULL;
    if (rc == CLI_OK)
        rc = make_export(&o, &x);
    kept *k = NULL;
    size_t n = 0;
    if (rc == CLI_OK && read_episodes(&o, &k, &n) != 0)
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
        io |= one_file(x, &o, k, n, argv[i], to, report, &t) != 0;
    io |= close_out(to, o.output) | close_out(report, o.report);
    size_t unused = 0;
    for (size_t i = 0; i < n; i++)
        unused += !k[i].used;
    if (rc == CLI_OK)
        summary(&o, &t, unused);
    free_kept(k, n);
    ac_export_free(x);
    free(o.agents);
    return rc != CLI_OK ? rc : io || t.failed ? CLI_FAILED : CLI_OK;
}
