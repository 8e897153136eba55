/* SPDX-License-Identifier: MIT
 * agentcredit command-line tool: shared helpers. */
#ifndef AGENTCREDIT_CLI_H
#define AGENTCREDIT_CLI_H

#include <agentcredit.h>

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Exit codes. */
enum { CLI_OK = 0, CLI_FAILED = 1, CLI_USAGE = 2 };

/* Prints "agentcredit: <message>\n" to stderr. */
void cli_error(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;

/* "Exit status: ..." as every --help ends. */
void cli_print_exit_status(FILE *f);

/* Option values: strict parsing, the whole text must be a number. 0 on
 * success, -1 (after a message naming the option) on failure. */
int cli_parse_int(const char *option, const char *text, int64_t *out);
int cli_parse_f64(const char *option, const char *text, double *out);
/* A size in bytes: a positive integer, optionally with a suffix K, M, G or
 * T (times 1024, 1024^2, ...). */
int cli_parse_size(const char *option, const char *text, uint64_t *out);

/* A value of one of the library's enums and its name on the command line
 * and in the output. */
struct cli_name {
    int64_t value;
    const char *name;
};

/* Every ac_method (auto, exact, permutation, kernelshap, adaptive,
 * oddshap): what --method accepts and what the help and the audit print,
 * all from this one table. */
extern const struct cli_name cli_methods[];
extern const size_t cli_method_count;
/* Looks up a method name; -1 (after a message listing the names) if none. */
int cli_parse_method(const char *text, int64_t *out);
/* The names joined by sep ("auto|exact|..."), as much as fits in size. */
void cli_method_list(char *buf, size_t size, const char *sep);
const char *cli_method_name(int64_t method);
/* An ac_estimator_outcome's name ("complete", "budget", ...). */
const char *cli_outcome_name(int64_t outcome);

/* The default of an estimator parameter, read from a fresh estimator so
 * that the help cannot drift from the library. 0 on success. */
int cli_default_int(ac_estimator_param param, int64_t *out);

/* ac_estimator_set_int / _set_f64 with a message naming the option, the
 * value and the parameter's bounds when it is refused. */
int cli_set_int(ac_estimator *est, ac_estimator_param param,
                const char *option, int64_t value);
int cli_set_f64(ac_estimator *est, ac_estimator_param param,
                const char *option, double value);

/* The audit record: one row per ac_estimator_audit_key, every key the
 * header defines, in key order. The name is the enumerator's, lower case,
 * without AC_ESTIMATOR_AUDIT_ (test_cli.sh checks this against the header);
 * JSON prints it as is, the text with spaces for underscores. */
struct cli_audit_field {
    ac_estimator_audit_key key;
    const char *name;
    /* An enum-valued figure's name (method, outcome); NULL: a count. */
    const char *(*value_name)(int64_t value);
};
extern const struct cli_audit_field cli_audit_fields[];
extern const size_t cli_audit_field_count;
/* "method exact, evaluations 10, ..., dropped 0" on one line; a figure the
 * estimator does not give is printed as "unavailable". */
void cli_audit_print(FILE *f, const ac_estimator *est);

/* The subcommands. argv[0] is the subcommand's name. Each accepts -h and
 * --help, and prints then its help on stdout. */
int cli_demo(int argc, char **argv);
int cli_shapley(int argc, char **argv);
int cli_signals(int argc, char **argv);
int cli_import(int argc, char **argv);
int cli_export(int argc, char **argv);
int cli_plan(int argc, char **argv);
/* A command's help: its synopsis after lead ("  " within 'agentcredit
 * --help', "Usage: agentcredit " alone), then what it does and its
 * options, indented by eight. */
void cli_demo_help(FILE *f, const char *lead);
void cli_shapley_help(FILE *f, const char *lead);
void cli_signals_help(FILE *f, const char *lead);
void cli_import_help(FILE *f, const char *lead);
void cli_export_help(FILE *f, const char *lead);
void cli_plan_help(FILE *f, const char *lead);

/* The demo team (demo.c): its agents' roles, and the credits of its
 * noise-free game with the observed outcome v(all) and the fallback's known
 * pass rate as v(empty) (ac_shapley_exact's status). */
#define CLI_DEMO_AGENTS 4
extern const char *const cli_demo_role[CLI_DEMO_AGENTS];
int cli_demo_credit(double v_all, double phi[CLI_DEMO_AGENTS]);
/* The noise-free success probability of a coalition of the demo team (bit
 * i: agent i acts); coalition 0 is the fallback's pass rate. */
double cli_demo_value(uint64_t coalition);
/* The demo's failed episode (demo_failure.c): its tables, or with json
 * its signals as one "agentcredit.signals/1" line on stdout. */
int cli_demo_failure(int json);
/* The last run's signals of ep as one JSON line on stdout; AC_OK or the
 * status (after a message). */
int cli_print_signals(const ac_pipeline *p, const ac_episode *ep);

/* The last run's signals line of ep, malloc'd into *out (*len bytes, NUL
 * after them): one write when the text fits in guess bytes, two when not.
 * Returns what ac_pipeline_write_json returns, or AC_E_NO_MEMORY. */
int cli_signals_line(const ac_pipeline *p, const ac_episode *ep,
                     size_t guess, char **out, size_t *len);

/* Matches "--name VALUE" and "--name=VALUE" at argv[*i]; on a match sets
 * *value, advances *i past what it used and returns 1; returns -1 when the
 * value is missing (after a message), 0 when argv[*i] is another option. */
int cli_option_value(int argc, char **argv, int *i, const char *name,
                     const char **value);
/* In an option loop (argc, argv, int i, const char *val, int m and the
 * options struct pointer o in scope): "--name VALUE" at argv[i] is parsed
 * by `parse` (an expression, 0 on success), then o->flag is set and the
 * loop continues; a missing or bad value returns CLI_USAGE (after a
 * message). */
#define CLI_VALUE_OPTION(name, parse, flag)                                  \
    if ((m = cli_option_value(argc, argv, &i, name, &val)) != 0) {          \
        if (m < 0 || parse != 0)                                            \
            return CLI_USAGE;                                               \
        o->flag = 1;                                                        \
        continue;                                                           \
    }
/* Matches the value-less option "--name" at arg: 1 on a match, 0 when arg
 * is another option, -1 (after a message) for "--name=VALUE". */
int cli_option_flag(const char *arg, const char *name);
/* One line of `in` without its line ending into *line (malloc'd),
 * keeping at most `max` bytes: a longer one is read to its end but not
 * kept (*too_long, *line NULL), so that memory stays bounded by max. 1 a
 * line, 0 at the end of the input, -1 out of memory. */
int cli_read_line(FILE *in, uint64_t max, char **line, size_t *len,
                  int *too_long);
/* A whole file, at most max_bytes: *text (NUL-terminated, the caller
 * frees it) and *len. 0, or -1 after a message naming the file (a
 * directory, past the limit, a read error). */
int cli_read_file(const char *path, uint64_t max_bytes, char **text,
                  size_t *len);
/* The input named path ("-": stdin), or NULL after a message naming it. */
FILE *cli_open_input(const char *path);
/* 1 when the line holds only spaces and tabs. */
int cli_blank(const char *line, size_t len);
/* 1 when arg asks for help (-h, --help). */
int cli_is_help(const char *arg);
/* 1, after the command's help on stdout, when an argument asks for it. */
int cli_help_asked(int argc, char **argv, void (*help)(FILE *, const char *));

#endif
