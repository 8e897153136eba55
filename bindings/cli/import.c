/* SPDX-License-Identifier: MIT
 * agentcredit import: transcripts recorded by other systems in, episodes
 * JSONL out.
 *
 * Each input file is read whole (up to --max-bytes) and given to the
 * importer of --from (import_whowhen.c, import_tau.c, import_chat.c for
 * openai-chat and ag2); each episode it builds is written by
 * ac_episode_write_json as one "agentcredit.episode/1" line, in input
 * order. A file (or a record of a file of many: a tau-bench run, a
 * conversation) that cannot be read is reported with its name (and the
 * record's index or line) and the import goes on with the next. On a
 * terminal (stderr), a progress line counts the files and the episodes,
 * rewritten in place; -q or another stderr shows none. docs/cli.md
 * ("import") describes the mapping of each format. */
#define _POSIX_C_SOURCE 200809L /* fileno, isatty, strndup */

#include "cli.h"
#include "import.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { FROM_WHOWHEN = 1, FROM_TAU = 2, FROM_OPENAI = 3, FROM_AG2 = 4 };

typedef struct options {
    int from, quiet;
    uint64_t max_bytes;
    const char *labels, *output;
    imp_non_player *non_players; /* --non-player, in order */
    size_t non_player_count;
} options;

/* The sink's state: where the lines go, a buffer for them, the counts,
 * and the progress line (on a terminal only). */
typedef struct importer {
    const options *o;
    FILE *to;
    char *line;
    size_t cap;
    int write_failed;
    int progress;       /* stderr is a terminal and not -q */
    int progress_shown; /* a progress line ends stderr */
    uint64_t total_files, files, episodes, failed, warnings;
} importer;

#define DEFAULT_MAX_BYTES (256ull << 20)

void cli_import_help(FILE *f, const char *lead)
{
    fprintf(f,
            "%simport --from FORMAT [OPTIONS] FILE...\n"
            "        Transcripts recorded by other systems as episodes: one\n"
            "        \"agentcredit.episode/1\" line per episode, in input\n"
            "        order (docs/format.md), ready for 'agentcredit signals'.\n"
            "        A file (or a record: a tau-bench run, a conversation)\n"
            "        that cannot be read is reported as FILE (FILE: record K,\n"
            "        FILE: line N) and the import goes on. A progress line\n"
            "        on stderr when it is a terminal.\n"
            "        --from FORMAT   who-and-when (Who&When: one episode a\n"
            "                        JSON file, its mistake_step as the\n"
            "                        first-error annotation), tau-bench\n"
            "                        (a JSON array of runs, one episode each),\n"
            "                        openai-chat (conversations {\"messages\":\n"
            "                        [...]} in the OpenAI Chat Completions\n"
            "                        format: one object, an array or JSON\n"
            "                        Lines; assistants are the agents) or ag2\n"
            "                        (AG2/AutoGen 0.2 chat histories: a list\n"
            "                        of messages, {\"chat_history\": [...]},\n"
            "                        an array or JSON Lines; each \"name\" an\n"
            "                        agent but the non-players)\n"
            "        --labels FILE   tau-bench: human labels of the runs\n"
            "                        (AgentRx's tau_ground_truth.json), the\n"
            "                        decisive failure as the annotation\n"
            "        --non-player NAME[=KIND]\n"
            "                        ag2: NAME is no agent but a user (KIND\n"
            "                        user, the default), tool, environment or\n"
            "                        system; repeatable. Without it: user,\n"
            "                        user_proxy, human, admin are users and\n"
            "                        executor, code_executor,\n"
            "                        computer_terminal tools (any case, '_',\n"
            "                        '-' or ' ' aside)\n"
            "        --max-bytes N   largest input file, in bytes\n"
            "                        (default %lluM)\n"
            "        -o, --output FILE\n"
            "                        write there instead of stdout\n"
            "        -q, --quiet     no warnings, no progress, no summary\n"
            "        -h, --help      this text\n"
            "        Exit status 1 when any file or record failed.\n",
            lead, (unsigned long long)(DEFAULT_MAX_BYTES >> 20));
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

static int parse_from(const char *text, int *out)
{
    static const char *const names[] = {"who-and-when", "tau-bench",
                                        "openai-chat", "ag2"};
    for (int k = 0; k < 4; k++)
        if (strcmp(text, names[k]) == 0) {
            *out = k + 1; /* FROM_* */
            return 0;
        }
    cli_error("--from: '%s' is not who-and-when, tau-bench, openai-chat or "
              "ag2", text);
    return -1;
}

/* --non-player NAME[=KIND], added to o->non_players. */
static int parse_non_player(const char *text, options *o)
{
    static const char *const kinds[] = {"user", "tool", "environment",
                                        "system"};
    static const int32_t values[] = {
        AC_PARTICIPANT_KIND_USER, AC_PARTICIPANT_KIND_TOOL,
        AC_PARTICIPANT_KIND_ENVIRONMENT, AC_PARTICIPANT_KIND_SYSTEM};
    const char *eq = strrchr(text, '=');
    int32_t kind = AC_PARTICIPANT_KIND_USER;
    if (eq != NULL) {
        size_t k = 0;
        while (k < 4 && strcmp(eq + 1, kinds[k]) != 0)
            k++;
        if (k == 4) {
            cli_error("--non-player %s: '%s' is not user, tool, environment "
                      "or system", text, eq + 1);
            return -1;
        }
        kind = values[k];
    }
    if ((eq ? (size_t)(eq - text) : strlen(text)) == 0) {
        cli_error("--non-player '%s': no name", text);
        return -1;
    }
    imp_non_player *grown = realloc(o->non_players,
                                    (o->non_player_count + 1) * sizeof *grown);
    char *name = eq ? strndup(text, (size_t)(eq - text)) : strdup(text);
    if (grown != NULL)
        o->non_players = grown;
    if (grown == NULL || name == NULL) {
        free(name);
        cli_error("--non-player: out of memory");
        return -1;
    }
    o->non_players[o->non_player_count++] = (imp_non_player){name, kind};
    return 0;
}

static void free_options(options *o)
{
    for (size_t k = 0; k < o->non_player_count; k++)
        free((char *)o->non_players[k].name);
    free(o->non_players);
    o->non_players = NULL;
    o->non_player_count = 0;
}

/* Options, and the first input's index in *first. */
static int parse_options(int argc, char **argv, options *o, int *first)
{
    memset(o, 0, sizeof *o);
    o->max_bytes = DEFAULT_MAX_BYTES;
    int i = 1;
    for (; i < argc && argv[i][0] == '-' && argv[i][1] != '\0'; i++) {
        const char *a = argv[i], *v = NULL;
        if (strcmp(a, "--") == 0) {
            i++;
            break;
        } else if (strcmp(a, "-q") == 0 || strcmp(a, "--quiet") == 0) {
            o->quiet = 1;
        } else if (strcmp(a, "--from") == 0) {
            if ((v = option_value(argc, argv, &i)) == NULL ||
                parse_from(v, &o->from) != 0)
                return CLI_USAGE;
        } else if (strcmp(a, "--non-player") == 0) {
            if ((v = option_value(argc, argv, &i)) == NULL ||
                parse_non_player(v, o) != 0)
                return CLI_USAGE;
        } else if (strcmp(a, "--labels") == 0) {
            if ((o->labels = option_value(argc, argv, &i)) == NULL)
                return CLI_USAGE;
        } else if (strcmp(a, "--max-bytes") == 0) {
            if ((v = option_value(argc, argv, &i)) == NULL ||
                cli_parse_size(a, v, &o->max_bytes) != 0)
                return CLI_USAGE;
        } else if (strcmp(a, "-o") == 0 || strcmp(a, "--output") == 0) {
            if ((o->output = option_value(argc, argv, &i)) == NULL)
                return CLI_USAGE;
        } else {
            cli_error("import: unknown option '%s' (try 'agentcredit "
                      "import --help')", a);
            return CLI_USAGE;
        }
    }
    if (o->from == 0) {
        cli_error("import: no --from (who-and-when, tau-bench, openai-chat "
                  "or ag2; try 'agentcredit import --help')");
        return CLI_USAGE;
    }
    if (o->labels != NULL && o->from != FROM_TAU) {
        cli_error("import: --labels is for --from tau-bench (Who&When "
                  "files hold their labels)");
        return CLI_USAGE;
    }
    if (o->non_player_count > 0 && o->from != FROM_AG2) {
        cli_error("import: --non-player is for --from ag2 (the other "
                  "formats say who is an agent)");
        return CLI_USAGE;
    }
    if (i >= argc) {
        cli_error("import: no input file (try 'agentcredit import --help')");
        return CLI_USAGE;
    }
    *first = i;
    return CLI_OK;
}

/* The progress line, rewritten in place: on a terminal only. */
static void progress(importer *im)
{
    if (!im->progress)
        return;
    fprintf(stderr, "\ragentcredit: import: %llu/%llu files, %llu "
            "episodes...", (unsigned long long)im->files,
            (unsigned long long)im->total_files,
            (unsigned long long)im->episodes);
    fflush(stderr);
    im->progress_shown = 1;
}

/* Ends the progress line before anything else goes to stderr. */
static void progress_break(importer *im)
{
    if (im->progress_shown)
        fputc('\n', stderr);
    im->progress_shown = 0;
}

/* The sink: one line per episode. */
static int write_episode(void *user, const ac_episode *ep)
{
    importer *im = user;
    size_t need = 0;
    int rc = ac_episode_write_json(ep, im->line, im->cap, &need);
    if (rc == AC_OK && need >= im->cap) {
        char *g = realloc(im->line, need + 1);
        if (g == NULL)
            rc = AC_E_NO_MEMORY;
        else {
            im->line = g;
            im->cap = need + 1;
            rc = ac_episode_write_json(ep, im->line, im->cap, &need);
        }
    }
    if (rc != AC_OK) {
        progress_break(im);
        cli_error("%s: %s", ac_episode_id(ep) ? ac_episode_id(ep) : "episode",
                  ac_strerror(rc));
        im->failed++;
        return 0;
    }
    if (fwrite(im->line, 1, need, im->to) != need ||
        fputc('\n', im->to) == EOF) {
        progress_break(im);
        cli_error("%s: %s", im->o->output ? im->o->output : "<stdout>",
                  strerror(errno));
        im->write_failed = 1;
        return 1;
    }
    im->episodes++;
    if (im->episodes % 256 == 0)
        progress(im); /* within a file of many records */
    return 0;
}

static void report(void *user, imp_level level, const char *where,
                   const char *what)
{
    importer *im = user;
    if (level == IMP_ERROR) {
        progress_break(im);
        cli_error("%s: %s", where, what);
        return;
    }
    im->warnings++;
    if (im->o->quiet)
        return;
    progress_break(im);
    fprintf(stderr, "agentcredit: %s: warning: %s\n", where, what);
}

/* The labels of --labels; 0, or -1 after a message. */
static int load_labels(importer *im, const imp_sink *sink,
                       imp_tau_labels **labels)
{
    char *text = NULL;
    size_t len = 0;
    if (cli_read_file(im->o->labels, im->o->max_bytes, &text, &len) != 0)
        return -1;
    int rc = imp_tau_labels_load(im->o->labels, text, len, sink, labels);
    free(text);
    return rc;
}

/* One input file through the importer of --from. */
static void import_file(importer *im, const imp_sink *sink,
                        imp_tau_labels *labels, const char *path)
{
    const options *o = im->o;
    char *text = NULL;
    size_t len = 0;
    im->files++;
    progress_break(im); /* cli_read_file's messages */
    if (cli_read_file(path, o->max_bytes, &text, &len) != 0) {
        im->failed++;
        return;
    }
    int failed = 0;
    switch (o->from) {
    case FROM_WHOWHEN:
        failed = imp_whowhen_buffer(path, text, len, sink);
        break;
    case FROM_TAU:
        failed = imp_tau_buffer(path, text, len, labels, sink);
        break;
    case FROM_OPENAI:
        failed = imp_openai_buffer(path, text, len, sink);
        break;
    default:
        failed = imp_ag2_buffer(path, text, len, o->non_players,
                                o->non_player_count, sink);
        break;
    }
    free(text);
    if (failed > 0)
        im->failed += (uint64_t)failed;
}

int cli_import(int argc, char **argv)
{
    if (cli_help_asked(argc, argv, cli_import_help))
        return CLI_OK;
    options o;
    int first = 0, rc = parse_options(argc, argv, &o, &first);
    if (rc != CLI_OK) {
        free_options(&o);
        return rc;
    }
    importer im;
    memset(&im, 0, sizeof im);
    im.o = &o;
    im.total_files = (uint64_t)(argc - first);
    im.progress = !o.quiet && isatty(fileno(stderr));
    imp_sink sink = {write_episode, report, &im};
    imp_tau_labels *labels = NULL;
    if (o.labels != NULL && load_labels(&im, &sink, &labels) != 0) {
        cli_error("import: no labels, nothing imported");
        free_options(&o);
        return CLI_FAILED;
    }
    im.to = o.output ? fopen(o.output, "wb") : stdout;
    if (im.to == NULL) {
        cli_error("%s: %s", o.output, strerror(errno));
        imp_tau_labels_free(labels);
        free_options(&o);
        return CLI_FAILED;
    }
    for (int i = first; i < argc && !im.write_failed; i++) {
        import_file(&im, &sink, labels, argv[i]);
        progress(&im);
    }
    progress_break(&im);
    if (!im.write_failed)
        imp_tau_labels_finish(labels, o.labels, &sink);
    imp_tau_labels_free(labels);
    free(im.line);
    free_options(&o);
    int io = im.write_failed;
    if (fflush(im.to) != 0 || (o.output && fclose(im.to) != 0)) {
        cli_error("%s: %s", o.output ? o.output : "<stdout>",
                  strerror(errno));
        io = 1;
    }
    if (!o.quiet)
        fprintf(stderr, "agentcredit: import: %llu files, %llu episodes "
                "written, %llu failed, %llu warnings\n",
                (unsigned long long)im.files,
                (unsigned long long)im.episodes,
                (unsigned long long)im.failed,
                (unsigned long long)im.warnings);
    return io || im.failed ? CLI_FAILED : CLI_OK;
}
