/* SPDX-License-Identifier: MIT
 * agentcredit shapley GAME.json: the estimator over a game file's oracle. */
#include "cli.h"

#include <jansson.h>

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

struct shapley_opts {
    const char *path;
    int64_t method, budget, seed, repeats, batch, noisy;
    double target_se;
    int has_method, has_budget, has_seed, has_repeats, has_batch, has_target,
        has_noisy;
    int known; /* give v(all), v(empty) up front */
    int json;
    int interactions; /* every pair's interaction index too */
    int strict; /* unknown keys of the game file are errors */
    /* what the game file may cost: the library's defaults unless raised */
    ac_game_limits limits;
    int has_max_bytes, has_max_memory, has_max_exact_work;
};

/* The game limits' options, in the order of ac_game_limits. */
static const struct limit_option {
    const char *option, *field, *help;
} limit_options[] = {
    {"--max-bytes", "max_bytes", "largest game file, in bytes"},
    {"--max-memory", "max_memory", "most memory the game may take, in bytes"},
    {"--max-exact-work", "max_exact_work",
     "most steps of the exact values (for the error\n"
     "                        column)"},
};

/* A limit as the help prints it: "16M", or the number when no suffix
 * fits. */
static void limit_text(char *buf, size_t cap, uint64_t v)
{
    static const char units[] = "KMGT";
    int u = -1;
    uint64_t shown = v;
    while (u < 3 && shown >= 1024 && shown % 1024 == 0) {
        shown /= 1024;
        u++;
    }
    if (u < 0)
        snprintf(buf, cap, "%" PRIu64, v);
    else
        snprintf(buf, cap, "%" PRIu64 "%c", shown, units[u]);
}

void cli_shapley_help(FILE *f, const char *lead)
{
    char methods[256];
    int64_t method = AC_METHOD_AUTO, budget = 0, batch = 0, repeats = 0;
    int have = cli_default_int(AC_ESTIMATOR_PARAM_METHOD, &method) == 0 &&
               cli_default_int(AC_ESTIMATOR_PARAM_BUDGET, &budget) == 0 &&
               cli_default_int(AC_ESTIMATOR_PARAM_BATCH, &batch) == 0 &&
               cli_default_int(AC_ESTIMATOR_PARAM_REPEATS, &repeats) == 0;
    cli_method_list(methods, sizeof methods, "|");
    fprintf(f,
            "%sshapley GAME.json [OPTIONS]\n"
            "        Estimates the Shapley values of a game file (see\n"
            "        docs/estimators.md for the format) through its oracle.\n"
            "        --method M      %s\n",
            lead, methods);
    if (have)
        fprintf(f, "                        (default %s)\n",
                cli_method_name(method));
    fputs("        --budget N      hard cap on oracle evaluations", f);
    if (have)
        fprintf(f, " (default %" PRId64 ")", budget);
    fputs("\n        --seed N        seed of the estimator and of the game's "
          "noise\n"
          "        --repeats N     evaluations of each coalition (noisy games)",
          f);
    if (have)
        fprintf(f, "\n                        (default %" PRId64 ")", repeats);
    fputs("\n        --batch N       coalitions per oracle call", f);
    if (have)
        fprintf(f, " (default %" PRId64 ")", batch);
    fputs("\n"
          "        --noisy 0|1     1: the oracle is noisy; auto may then repeat\n"
          "                        evaluations where they pay (adaptive)\n"
          "        --target-se X   stop once every standard error is <= X\n"
          "        --no-known      do not give v(all) and v(empty) up front\n"
          "        --interactions  every pair's Shapley interaction index and\n"
          "                        its std. error too (negative: redundant,\n"
          "                        positive: complementary); needs every\n"
          "                        coalition (exact, adaptive)\n"
          "        --json          one JSON object on stdout instead of a table\n"
          "        --strict        unknown keys of the game file are errors,\n"
          "                        not warnings (a key of another kind of game\n"
          "                        is an error either way)\n",
          f);
    /* The game file may come from someone else: what it may cost is
     * bounded; the defaults are read from the library. */
    ac_game_limits lim;
    ac_game_limits_default(&lim);
    const uint64_t value[] = {lim.max_bytes, lim.max_memory,
                              lim.max_exact_work};
    for (size_t k = 0; k < sizeof limit_options / sizeof *limit_options;
         k++) {
        char text[48], name[32];
        limit_text(text, sizeof text, value[k]);
        snprintf(name, sizeof name, "%s N", limit_options[k].option);
        if (strlen(name) <= 15)
            fprintf(f, "        %-15s %s\n", name, limit_options[k].help);
        else
            fprintf(f, "        %s\n%24s%s\n", name, "",
                    limit_options[k].help);
        fprintf(f, "%24s(default %s)\n", "", text);
    }
    fputs("                        A game file may come from someone else:\n"
          "                        past a limit it is refused, with the\n"
          "                        option to raise; N may end in K, M, G, T\n"
          "                        (times 1024, 1024^2, ...)\n"
          "        -h, --help      this text\n"
          "        Every figure printed is finite; a result that is not (a\n"
          "        game beyond what a double holds) is an error (exit 1),\n"
          "        except a standard error of inf (JSON null): too few\n"
          "        samples to estimate it.\n",
          f);
}

/* 1: a flag option, consumed; 0: not one; -1: misused (after a message). */
static int flag_options(const char *arg, struct shapley_opts *o)
{
    int m;
    if ((m = cli_option_flag(arg, "--json")) != 0) {
        o->json = 1;
        return m;
    }
    if ((m = cli_option_flag(arg, "--no-known")) != 0) {
        o->known = 0;
        return m;
    }
    if ((m = cli_option_flag(arg, "--interactions")) != 0) {
        o->interactions = 1;
        return m;
    }
    if ((m = cli_option_flag(arg, "--strict")) != 0) {
        o->strict = 1;
        return m;
    }
    return 0;
}

/* CLI_OK to run, CLI_USAGE after a message, -1 when the help was printed. */
static int parse_args(int argc, char **argv, struct shapley_opts *o)
{
    memset(o, 0, sizeof *o);
    o->known = 1;
    ac_game_limits_default(&o->limits);
    int i = 1;
    while (i < argc) {
        const char *arg = argv[i];
        const char *val = NULL;
        int m;
        if (cli_is_help(arg)) {
            cli_shapley_help(stdout, "Usage: agentcredit ");
            fputc('\n', stdout);
            cli_print_exit_status(stdout);
            return -1;
        }
        if ((m = flag_options(arg, o)) != 0) {
            if (m < 0)
                return CLI_USAGE;
            i++;
            continue;
        }
        CLI_VALUE_OPTION("--method", cli_parse_method(val, &o->method), has_method)
        CLI_VALUE_OPTION("--budget", cli_parse_int("--budget", val, &o->budget),
                     has_budget)
        CLI_VALUE_OPTION("--seed", cli_parse_int("--seed", val, &o->seed),
                     has_seed)
        CLI_VALUE_OPTION("--repeats",
                     cli_parse_int("--repeats", val, &o->repeats), has_repeats)
        CLI_VALUE_OPTION("--batch", cli_parse_int("--batch", val, &o->batch),
                     has_batch)
        CLI_VALUE_OPTION("--noisy", cli_parse_int("--noisy", val, &o->noisy),
                     has_noisy)
        CLI_VALUE_OPTION("--target-se",
                     cli_parse_f64("--target-se", val, &o->target_se),
                     has_target)
        CLI_VALUE_OPTION("--max-bytes",
                     cli_parse_size("--max-bytes", val, &o->limits.max_bytes),
                     has_max_bytes)
        CLI_VALUE_OPTION("--max-memory",
                     cli_parse_size("--max-memory", val, &o->limits.max_memory),
                     has_max_memory)
        CLI_VALUE_OPTION("--max-exact-work",
                     cli_parse_size("--max-exact-work", val,
                                 &o->limits.max_exact_work),
                     has_max_exact_work)
        if (arg[0] == '-' && arg[1] != '\0') {
            cli_error("shapley: unknown option '%s' (try 'agentcredit "
                      "shapley --help')",
                      arg);
            return CLI_USAGE;
        }
        if (o->path != NULL) {
            cli_error("shapley: one game file only, got '%s' and '%s'",
                      o->path, arg);
            return CLI_USAGE;
        }
        o->path = arg;
        i++;
    }
    if (o->path == NULL) {
        cli_error("shapley: no game file given (usage: agentcredit shapley "
                  "GAME.json [OPTIONS]; try 'agentcredit shapley --help')");
        return CLI_USAGE;
    }
    return CLI_OK;
}

static int apply_params(ac_estimator *est, const struct shapley_opts *o)
{
    if (o->has_method && cli_set_int(est, AC_ESTIMATOR_PARAM_METHOD, "--method", o->method))
        return -1;
    if (o->has_budget && cli_set_int(est, AC_ESTIMATOR_PARAM_BUDGET, "--budget", o->budget))
        return -1;
    if (o->has_seed && cli_set_int(est, AC_ESTIMATOR_PARAM_SEED, "--seed", o->seed))
        return -1;
    if (o->has_repeats &&
        cli_set_int(est, AC_ESTIMATOR_PARAM_REPEATS, "--repeats", o->repeats))
        return -1;
    if (o->has_batch && cli_set_int(est, AC_ESTIMATOR_PARAM_BATCH, "--batch", o->batch))
        return -1;
    if (o->has_noisy && cli_set_int(est, AC_ESTIMATOR_PARAM_NOISY, "--noisy", o->noisy))
        return -1;
    if (o->has_target &&
        cli_set_f64(est, AC_ESTIMATOR_PARAM_TARGET_SE, "--target-se", o->target_se))
        return -1;
    if (o->interactions &&
        cli_set_int(est, AC_ESTIMATOR_PARAM_INTERACTIONS, "--interactions", 1))
        return -1;
    return 0;
}

/* What the command prints, computed before anything is printed so that
 * every figure can be checked first. */
struct shapley_result {
    uint32_t n;
    const double *phi, *se, *exact; /* exact NULL: no comparison */
    /* the pairs' interactions, condensed order; NULL: none */
    const double *inter, *inter_se;
    int have_known;
    double v_all, v_empty, sum, total, difference, max_abs, mse;
};

static size_t pair_count(uint32_t n)
{
    return (size_t)n * (n - 1) / 2;
}

static void summarize(struct shapley_result *r)
{
    r->sum = 0.0;
    for (uint32_t i = 0; i < r->n; i++)
        r->sum += r->phi[i];
    r->total = r->v_all - r->v_empty;
    r->difference = r->sum - r->total;
    r->max_abs = r->mse = 0.0;
    if (r->exact == NULL)
        return;
    double sq = 0.0;
    for (uint32_t i = 0; i < r->n; i++) {
        double e = r->phi[i] - r->exact[i];
        r->max_abs = fmax(r->max_abs, fabs(e));
        sq += e * e;
    }
    r->mse = sq / r->n;
}

static int not_finite(const char *what, double x)
{
    cli_error("the result holds a value that is not finite: %s is %g; "
              "nothing printed (a game whose values or credits are beyond "
              "what a double holds?)", what, x);
    return -1;
}

/* 0 when every figure to print is finite (a standard error may be +inf:
 * the documented "too few samples"); else -1 after a message naming the
 * first one that is not. A NaN credit must never reach the output looking
 * like a result: printed as "nan" in the table, or as null in JSON, it
 * would be read as a number by the next program in the pipe. */
static int check_finite(const struct shapley_result *r)
{
    char what[96];
    for (uint32_t i = 0; i < r->n; i++) {
        snprintf(what, sizeof what, "the credit of player %" PRIu32, i);
        if (!isfinite(r->phi[i]))
            return not_finite(what, r->phi[i]);
        snprintf(what, sizeof what, "the standard error of player %" PRIu32,
                 i);
        if (!isfinite(r->se[i]) && r->se[i] != INFINITY)
            return not_finite(what, r->se[i]);
        snprintf(what, sizeof what, "the exact value of player %" PRIu32, i);
        if (r->exact != NULL && !isfinite(r->exact[i]))
            return not_finite(what, r->exact[i]);
    }
    if (!isfinite(r->sum))
        return not_finite("the sum of the credits", r->sum);
    if (r->have_known) {
        if (!isfinite(r->v_all))
            return not_finite("v(all)", r->v_all);
        if (!isfinite(r->v_empty))
            return not_finite("v(empty)", r->v_empty);
        if (!isfinite(r->total))
            return not_finite("v(all) - v(empty)", r->total);
        if (!isfinite(r->difference))
            return not_finite("the conservation difference", r->difference);
    }
    size_t p = 0;
    for (uint32_t i = 0; r->inter != NULL && i < r->n; i++)
        for (uint32_t j = i + 1; j < r->n; j++, p++) {
            snprintf(what, sizeof what, "the interaction of players %" PRIu32
                     " and %" PRIu32, i, j);
            if (!isfinite(r->inter[p]))
                return not_finite(what, r->inter[p]);
            snprintf(what, sizeof what, "the standard error of the "
                     "interaction of players %" PRIu32 " and %" PRIu32, i, j);
            if (!isfinite(r->inter_se[p]) && r->inter_se[p] != INFINITY)
                return not_finite(what, r->inter_se[p]);
        }
    if (r->exact != NULL && !isfinite(r->max_abs))
        return not_finite("the largest error against the exact values",
                          r->max_abs);
    if (r->exact != NULL && !isfinite(r->mse))
        return not_finite("the mean squared error against the exact values",
                          r->mse);
    return 0;
}

/* A JSON number; null only for a standard error of +inf (check_finite
 * lets nothing else through). */
static json_t *jnum(double x)
{
    return isfinite(x) ? json_real(x) : json_null();
}

static json_t *jarray(const double *x, uint32_t n)
{
    json_t *a = json_array();
    for (uint32_t i = 0; a != NULL && i < n; i++)
        json_array_append_new(a, jnum(x[i]));
    return a;
}

/* The pairs in the condensed order, {"players": [i, j], "index", "se"}. */
static json_t *interactions_json(const struct shapley_result *r)
{
    json_t *a = json_array();
    size_t p = 0;
    for (uint32_t i = 0; a != NULL && i < r->n; i++)
        for (uint32_t j = i + 1; j < r->n; j++, p++) {
            json_t *pair = json_pack("{s:[i,i],s:o,s:o}", "players", (int)i,
                                     (int)j, "index", jnum(r->inter[p]),
                                     "se", jnum(r->inter_se[p]));
            if (pair == NULL || json_array_append_new(a, pair) != 0) {
                json_decref(a);
                return NULL;
            }
        }
    return a;
}

static json_t *audit_json(const ac_estimator *est)
{
    json_t *jaudit = json_object();
    for (size_t k = 0; jaudit != NULL && k < cli_audit_field_count; k++) {
        const struct cli_audit_field *field = &cli_audit_fields[k];
        int64_t v = 0;
        json_t *value;
        if (ac_estimator_audit(est, field->key, &v) != AC_OK)
            value = json_null();
        else if (field->value_name != NULL)
            value = json_string(field->value_name(v));
        else
            value = json_integer(v);
        json_object_set_new(jaudit, field->name, value);
    }
    return jaudit;
}

static int print_json(const struct shapley_opts *o,
                      const struct shapley_result *r, const ac_estimator *est)
{
    json_t *root = json_object();
    json_t *jaudit = audit_json(est);
    if (root == NULL || jaudit == NULL) {
        json_decref(root);
        json_decref(jaudit);
        cli_error("out of memory");
        return -1;
    }
    json_object_set_new(root, "game", json_string(o->path));
    json_object_set_new(root, "n", json_integer(r->n));
    json_object_set_new(root, "credits", jarray(r->phi, r->n));
    json_object_set_new(root, "se", jarray(r->se, r->n));
    json_object_set_new(root, "sum", jnum(r->sum));
    if (r->have_known) {
        json_object_set_new(root, "v_all", jnum(r->v_all));
        json_object_set_new(root, "v_empty", jnum(r->v_empty));
        json_object_set_new(root, "conservation_error", jnum(r->difference));
    }
    if (r->exact != NULL) {
        json_object_set_new(root, "exact", jarray(r->exact, r->n));
        json_object_set_new(root, "max_abs_error", jnum(r->max_abs));
        json_object_set_new(root, "mse", jnum(r->mse));
    }
    if (r->inter != NULL)
        json_object_set_new(root, "interactions", interactions_json(r));
    json_object_set_new(root, "audit", jaudit);
    int rc = json_dumpf(root, stdout, JSON_COMPACT | JSON_REAL_PRECISION(17));
    json_decref(root);
    if (rc != 0) {
        cli_error("could not write the JSON output");
        return -1;
    }
    fputc('\n', stdout);
    return 0;
}

/* A credit in the table's column: fixed point while it fits the column,
 * else in exponent form (a 1e154 would take 165 digits). */
static void print_credit(double x)
{
    printf(fabs(x) < 1e9 ? " %+14.9f" : " %+14.7e", x);
}

static void print_table(const struct shapley_opts *o,
                        const struct shapley_result *r,
                        const ac_estimator *est)
{
    printf("game %s: %" PRIu32 " players\n\n", o->path, r->n);
    if (r->exact != NULL)
        printf("%-8s %14s %12s %14s %12s\n", "player", "credit", "std.err",
               "exact", "error");
    else
        printf("%-8s %14s %12s\n", "player", "credit", "std.err");
    for (uint32_t i = 0; i < r->n; i++) {
        printf("%-8" PRIu32, i);
        print_credit(r->phi[i]);
        printf(" %12.3g", r->se[i]);
        if (r->exact != NULL) {
            print_credit(r->exact[i]);
            printf(" %+12.3g", r->phi[i] - r->exact[i]);
        }
        putchar('\n');
    }
    putchar('\n');
    if (r->have_known)
        printf("conservation: sum of credits %.12g, v(all) - v(empty) %.12g, "
               "difference %.3g\n",
               r->sum, r->total, r->difference);
    else
        printf("sum of credits %.12g (v(all) and v(empty) estimated, not given)\n",
               r->sum);
    if (r->exact != NULL)
        printf("error against exact: max |error| %.3g, mean squared error "
               "%.3g\n",
               r->max_abs, r->mse);
    if (r->inter != NULL) {
        printf("\ninteractions (negative: redundant, positive: "
               "complementary)\n%-12s %14s %12s\n", "pair", "index",
               "std.err");
        size_t p = 0;
        for (uint32_t i = 0; i < r->n; i++)
            for (uint32_t j = i + 1; j < r->n; j++, p++) {
                char pair[24];
                snprintf(pair, sizeof pair, "%" PRIu32 "-%" PRIu32, i, j);
                printf("%-12s", pair);
                print_credit(r->inter[p]);
                printf(" %12.3g\n", r->inter_se[p]);
            }
        putchar('\n');
    }
    printf("audit: ");
    cli_audit_print(stdout, est);
}

/* The run's interactions into *inter and *inter_se (allocated), or NULL
 * with a note when the method ended without them; -1 after an error. */
static int read_interactions(const ac_estimator *est, uint32_t n,
                             double **inter, double **inter_se)
{
    size_t pairs = pair_count(n);
    *inter = calloc(pairs + 1, sizeof **inter);
    *inter_se = calloc(pairs + 1, sizeof **inter_se);
    if (*inter == NULL || *inter_se == NULL) {
        cli_error("out of memory");
        return -1;
    }
    int rc = ac_estimator_interactions(est, *inter, *inter_se, pairs);
    if (rc == AC_OK)
        return 0;
    if (rc != AC_E_STATE) {
        cli_error("cannot read the interactions: %s: %s", ac_strerror(rc),
                  ac_estimator_last_error(est));
        return -1;
    }
    fprintf(stderr, "agentcredit: note: %s\n", ac_estimator_last_error(est));
    free(*inter);
    free(*inter_se);
    *inter = *inter_se = NULL;
    return 0;
}

/* The option that raises the limit a library message names, or NULL. */
static const char *limit_option_in(const char *message)
{
    for (size_t k = 0; k < sizeof limit_options / sizeof *limit_options; k++)
        if (strstr(message, limit_options[k].field) != NULL)
            return limit_options[k].option;
    return NULL;
}

/* A library message past a limit ends "; raise ac_game_limits.<field> ...",
 * which a user of the tool cannot do: the tool's option takes its place. */
static void print_refusal(const char *lead, const char *detail, int rc)
{
    const char *option = rc == AC_E_TOO_LARGE ? limit_option_in(detail) : NULL;
    const char *hint = option ? strstr(detail, "; raise ac_game_limits.") : NULL;
    int keep = hint ? (int)(hint - detail) : (int)strlen(detail);
    if (option != NULL)
        fprintf(stderr, "agentcredit: %s%.*s; raise it with %s N\n", lead,
                keep, detail, option);
    else
        fprintf(stderr, "agentcredit: %s%s\n", lead, detail);
}

/* A failed ac_game_load_file: the library's message (it names the path
 * first, which the line already says) and, past a limit, the option that
 * raises it. */
static void explain_load_failure(const char *path, const char *detail, int rc)
{
    size_t len = strlen(path);
    if (strncmp(detail, path, len) == 0 && strncmp(detail + len, ": ", 2) == 0)
        detail += len + 2;
    if (*detail == '\0')
        detail = ac_strerror(rc);
    char lead[600];
    snprintf(lead, sizeof lead, "cannot load game '%s': ", path);
    print_refusal(lead, detail, rc);
}

/* The load's warnings, one "GAME: warning: ..." line each. A game file's
 * "seed" is one of them: it may be the seed the game was generated with as
 * well as one to run with, so the run's seed stays --seed's, and the line
 * says so. */
static void print_warnings(const char *path, const char *warnings)
{
    const char *line = warnings;
    while (*line != '\0') {
        const char *end = strchr(line, '\n');
        size_t len = end ? (size_t)(end - line) : strlen(line);
        int seed = strncmp(line, "game.seed:", strlen("game.seed:")) == 0;
        fprintf(stderr, "agentcredit: %s: warning: %.*s%s\n", path, (int)len,
                line, seed ? " (the run's seed is --seed N)" : "");
        line += len + (end != NULL);
    }
}

/* The game's exact values, when it has some within its limits; when not,
 * the comparison is left out with a note saying why (and, past a limit,
 * which option raises it). */
static int game_exact(const ac_game *game, const char *path, double *exact,
                      uint32_t n)
{
    int rc = ac_game_exact(game, exact, n);
    if (rc == AC_OK)
        return 1;
    const char *detail = ac_game_last_error(game);
    /* No exact method for the game at all is the usual case of a large
     * game and needs no note; a limit or a failure does. */
    if (rc == AC_E_TOO_LARGE && limit_option_in(detail) == NULL)
        return 0;
    char lead[600];
    snprintf(lead, sizeof lead, "note: game '%s': no exact values to "
             "compare with: ", path);
    print_refusal(lead, *detail ? detail : ac_strerror(rc), rc);
    return 0;
}

int cli_shapley(int argc, char **argv)
{
    struct shapley_opts o;
    int parsed = parse_args(argc, argv, &o);
    if (parsed != CLI_OK)
        return parsed < 0 ? CLI_OK : parsed;

    int status = CLI_FAILED;
    ac_game *game = NULL;
    ac_estimator *est = NULL;
    uint64_t *all = NULL, *none = NULL;
    double *phi = NULL, *se = NULL, *exact = NULL;
    double *inter = NULL, *inter_se = NULL;

    char load_error[512] = "", warnings[2048] = "";
    int rc = ac_game_load_file2(&game, o.path, NULL, &o.limits,
                                o.strict ? AC_JSON_STRICT : 0, load_error,
                                sizeof load_error, warnings,
                                sizeof warnings);
    if (rc != AC_OK) {
        explain_load_failure(o.path, load_error, rc);
        return CLI_USAGE;
    }
    print_warnings(o.path, warnings);
    uint32_t n = 0;
    if ((rc = ac_game_players(game, &n)) != AC_OK) {
        cli_error("game '%s': cannot read its number of players: %s", o.path,
                  ac_strerror(rc));
        goto out;
    }
    if (n == 0) {
        cli_error("game '%s' has no players", o.path);
        status = CLI_USAGE;
        goto out;
    }
    if (o.has_seed && (rc = ac_game_seed(game, (uint64_t)o.seed)) != AC_OK) {
        cli_error("game '%s': cannot seed its noise: %s", o.path,
                  ac_strerror(rc));
        goto out;
    }
    if ((rc = ac_estimator_create(&est, n, NULL)) != AC_OK) {
        cli_error("cannot create an estimator for %" PRIu32 " players: %s", n,
                  ac_strerror(rc));
        goto out;
    }
    if (apply_params(est, &o) != 0) {
        status = CLI_USAGE;
        goto out;
    }

    uint32_t words = ac_coalition_words(n);
    all = calloc(words, sizeof *all);
    none = calloc(words, sizeof *none);
    phi = calloc(n, sizeof *phi);
    se = calloc(n, sizeof *se);
    exact = calloc(n, sizeof *exact);
    if (!all || !none || !phi || !se || !exact) {
        cli_error("out of memory");
        goto out;
    }
    for (uint32_t i = 0; i < n; i++)
        all[i / 64] |= UINT64_C(1) << (i % 64);

    double v_all = 0.0, v_empty = 0.0;
    if (o.known) {
        if ((rc = ac_game_value(game, all, words, &v_all)) != AC_OK ||
            (rc = ac_game_value(game, none, words, &v_empty)) != AC_OK) {
            cli_error("game '%s': cannot evaluate v(all), v(empty): %s%s%s",
                      o.path, ac_strerror(rc),
                      *ac_game_last_error(game) ? ": " : "",
                      ac_game_last_error(game));
            goto out;
        }
        if ((rc = ac_estimator_set_value(est, all, words, v_all)) != AC_OK ||
            (rc = ac_estimator_set_value(est, none, words, v_empty)) != AC_OK) {
            cli_error("cannot give v(all), v(empty): %s: %s", ac_strerror(rc),
                      ac_estimator_last_error(est));
            goto out;
        }
    }
    if ((rc = ac_estimator_set_oracle(est, ac_game_oracle, game)) != AC_OK) {
        cli_error("cannot register the oracle: %s", ac_strerror(rc));
        goto out;
    }

    rc = ac_estimator_run(est);
    if (rc != AC_OK) {
        const char *detail = ac_estimator_last_error(est);
        cli_error("the estimation failed: %s (%s)%s%s", ac_strerror(rc),
                  ac_status_name(rc), *detail ? ": " : "", detail);
        fprintf(stderr, "agentcredit: audit: ");
        cli_audit_print(stderr, est);
        goto out;
    }
    if ((rc = ac_estimator_result(est, phi, se, n)) != AC_OK) {
        cli_error("cannot read the result: %s: %s", ac_strerror(rc),
                  ac_estimator_last_error(est));
        goto out;
    }
    if (o.interactions && read_interactions(est, n, &inter, &inter_se) != 0)
        goto out;
    struct shapley_result res = {
        .n = n, .phi = phi, .se = se, .inter = inter, .inter_se = inter_se,
        .exact = game_exact(game, o.path, exact, n) ? exact : NULL,
        .have_known = o.known, .v_all = v_all, .v_empty = v_empty};
    summarize(&res);
    if (check_finite(&res) != 0)
        goto out;
    if (o.json) {
        if (print_json(&o, &res, est) != 0)
            goto out;
    } else {
        print_table(&o, &res, est);
    }
    status = fflush(stdout) == 0 ? CLI_OK : CLI_FAILED;

out:
    free(all);
    free(none);
    free(phi);
    free(se);
    free(exact);
    free(inter);
    free(inter_se);
    ac_estimator_free(est);
    ac_game_free(game);
    return status;
}
