/* SPDX-License-Identifier: MIT
 * agentcredit command-line tool: shared helpers. */
#ifndef AGENTCREDIT_CLI_H
#define AGENTCREDIT_CLI_H

#include <agentcredit.h>

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

/* Option values: strict parsing, the whole text must be a number. 0 on
 * success, -1 (after a message naming the option) on failure. */
int cli_parse_int(const char *option, const char *text, int64_t *out);
int cli_parse_f64(const char *option, const char *text, double *out);

/* Looks up a method name ("auto", "exact", "permutation", "kernelshap"). */
int cli_parse_method(const char *text, int64_t *out);
const char *cli_method_name(int64_t method);
const char *cli_stop_name(int64_t stop);

/* ac_estimator_set_int / _set_f64 with a message naming the option, the
 * value and the parameter's bounds when it is refused. */
int cli_set_int(ac_estimator *est, ac_estimator_param param,
                const char *option, int64_t value);
int cli_set_f64(ac_estimator *est, ac_estimator_param param,
                const char *option, double value);

/* The audit record, one figure per ac_estimator_audit_key (index = key, 1..12). */
#define CLI_AUDIT_KEYS 13
void cli_audit_read(const ac_estimator *est, int64_t audit[CLI_AUDIT_KEYS]);
/* "method exact, evaluations 10, ..." on one line. */
void cli_audit_print(FILE *f, const int64_t audit[CLI_AUDIT_KEYS]);

/* The subcommands. argv[0] is the subcommand's name. */
int cli_demo(int argc, char **argv);
int cli_shapley(int argc, char **argv);
/* The demo team (demo.c): its agents' roles, and the credits of its
 * noise-free game with the observed outcome v(all) and the fallback's known
 * pass rate as v(empty) (ac_shapley_exact's status). */
#define CLI_DEMO_AGENTS 4
extern const char *const cli_demo_role[CLI_DEMO_AGENTS];
int cli_demo_credit(double v_all, double phi[CLI_DEMO_AGENTS]);
/* The demo's failed episode (demo_failure.c). */
int cli_demo_failure(void);

/* Matches "--name VALUE" and "--name=VALUE" at argv[*i]; on a match sets
 * *value, advances *i past what it used and returns 1; returns -1 when the
 * value is missing (after a message), 0 when argv[*i] is another option. */
int cli_option_value(int argc, char **argv, int *i, const char *name,
                     const char **value);

#endif
