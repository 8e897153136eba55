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
};

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
          "        --json          one JSON object on stdout instead of a table\n"
          "        -h, --help      this text\n",
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
    return 0;
}

/* CLI_OK to run, CLI_USAGE after a message, -1 when the help was printed. */
static int parse_args(int argc, char **argv, struct shapley_opts *o)
{
    memset(o, 0, sizeof *o);
    o->known = 1;
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
#define VALUE_OPTION(name, parse, flag)                                      \
    if ((m = cli_option_value(argc, argv, &i, name, &val)) != 0) {          \
        if (m < 0 || parse != 0)                                            \
            return CLI_USAGE;                                               \
        o->flag = 1;                                                        \
        continue;                                                           \
    }
        VALUE_OPTION("--method", cli_parse_method(val, &o->method), has_method)
        VALUE_OPTION("--budget", cli_parse_int("--budget", val, &o->budget),
                     has_budget)
        VALUE_OPTION("--seed", cli_parse_int("--seed", val, &o->seed),
                     has_seed)
        VALUE_OPTION("--repeats",
                     cli_parse_int("--repeats", val, &o->repeats), has_repeats)
        VALUE_OPTION("--batch", cli_parse_int("--batch", val, &o->batch),
                     has_batch)
        VALUE_OPTION("--noisy", cli_parse_int("--noisy", val, &o->noisy),
                     has_noisy)
        VALUE_OPTION("--target-se",
                     cli_parse_f64("--target-se", val, &o->target_se),
                     has_target)
#undef VALUE_OPTION
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
    return 0;
}

/* A JSON number, or null for what JSON cannot hold (inf, NaN). */
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

static int print_json(const struct shapley_opts *o, uint32_t n,
                      const double *phi, const double *se, int have_known,
                      double v_all, double v_empty, const double *exact,
                      const ac_estimator *est)
{
    double sum = 0.0;
    for (uint32_t i = 0; i < n; i++)
        sum += phi[i];
    json_t *root = json_object();
    json_t *jaudit = audit_json(est);
    if (root == NULL || jaudit == NULL) {
        json_decref(root);
        json_decref(jaudit);
        cli_error("out of memory");
        return -1;
    }
    json_object_set_new(root, "game", json_string(o->path));
    json_object_set_new(root, "n", json_integer(n));
    json_object_set_new(root, "credits", jarray(phi, n));
    json_object_set_new(root, "se", jarray(se, n));
    json_object_set_new(root, "sum", jnum(sum));
    if (have_known) {
        json_object_set_new(root, "v_all", jnum(v_all));
        json_object_set_new(root, "v_empty", jnum(v_empty));
        json_object_set_new(root, "conservation_error",
                            jnum(sum - (v_all - v_empty)));
    }
    if (exact != NULL) {
        double max_abs = 0.0, sq = 0.0;
        for (uint32_t i = 0; i < n; i++) {
            double e = phi[i] - exact[i];
            max_abs = fmax(max_abs, fabs(e));
            sq += e * e;
        }
        json_object_set_new(root, "exact", jarray(exact, n));
        json_object_set_new(root, "max_abs_error", jnum(max_abs));
        json_object_set_new(root, "mse", jnum(sq / n));
    }
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

static void print_table(const struct shapley_opts *o, uint32_t n,
                        const double *phi, const double *se, int have_known,
                        double v_all, double v_empty, const double *exact,
                        const ac_estimator *est)
{
    double sum = 0.0;
    printf("game %s: %" PRIu32 " players\n\n", o->path, n);
    if (exact != NULL)
        printf("%-8s %14s %12s %14s %12s\n", "player", "credit", "std.err",
               "exact", "error");
    else
        printf("%-8s %14s %12s\n", "player", "credit", "std.err");
    for (uint32_t i = 0; i < n; i++) {
        sum += phi[i];
        printf("%-8" PRIu32 " %+14.9f %12.3g", i, phi[i], se[i]);
        if (exact != NULL)
            printf(" %+14.9f %+12.3g", exact[i], phi[i] - exact[i]);
        putchar('\n');
    }
    putchar('\n');
    if (have_known)
        printf("conservation: sum of credits %.12g, v(all) - v(empty) %.12g, "
               "difference %.3g\n",
               sum, v_all - v_empty, sum - (v_all - v_empty));
    else
        printf("sum of credits %.12g (v(all) and v(empty) estimated, not given)\n",
               sum);
    if (exact != NULL) {
        double max_abs = 0.0, sq = 0.0;
        for (uint32_t i = 0; i < n; i++) {
            double e = phi[i] - exact[i];
            max_abs = fmax(max_abs, fabs(e));
            sq += e * e;
        }
        printf("error against exact: max |error| %.3g, mean squared error "
               "%.3g\n",
               max_abs, sq / n);
    }
    printf("audit: ");
    cli_audit_print(stdout, est);
}

/* A failed ac_game_load_file: the library's message when it has one; when
 * it has none, at least where a JSON syntax error is (read with jansson)
 * or what the system says about the file. */
static void explain_load_failure(const char *path, const char *detail, int rc)
{
    if (detail != NULL && *detail != '\0') {
        cli_error("cannot load game '%s': %s: %s", path, ac_strerror(rc),
                  detail);
        return;
    }
    if (rc == AC_E_PARSE) {
        json_error_t jerr;
        json_t *doc = json_load_file(path, 0, &jerr);
        if (doc == NULL) {
            cli_error("cannot load game '%s': %s: line %d, column %d: %s", path,
                      ac_strerror(rc), jerr.line, jerr.column, jerr.text);
            return;
        }
        json_decref(doc);
        cli_error("cannot load game '%s': %s: valid JSON, but not a game "
                  "(see docs/estimators.md for the format)",
                  path, ac_strerror(rc));
        return;
    }
    if (rc == AC_E_IO) {
        FILE *f = fopen(path, "rb");
        if (f == NULL) {
            cli_error("cannot load game '%s': %s: %s", path, ac_strerror(rc),
                      strerror(errno));
            return;
        }
        fclose(f);
    }
    cli_error("cannot load game '%s': %s", path, ac_strerror(rc));
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

    char load_error[512] = "";
    int rc = ac_game_load_file(&game, o.path, NULL, load_error,
                               sizeof load_error);
    if (rc != AC_OK) {
        explain_load_failure(o.path, load_error, rc);
        return CLI_USAGE;
    }
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
    int have_exact = ac_game_exact(game, exact, n) == AC_OK;

    if (o.json) {
        if (print_json(&o, n, phi, se, o.known, v_all, v_empty,
                       have_exact ? exact : NULL, est) != 0)
            goto out;
    } else {
        print_table(&o, n, phi, se, o.known, v_all, v_empty,
                    have_exact ? exact : NULL, est);
    }
    status = fflush(stdout) == 0 ? CLI_OK : CLI_FAILED;

out:
    free(all);
    free(none);
    free(phi);
    free(se);
    free(exact);
    ac_estimator_free(est);
    ac_game_free(game);
    return status;
}
