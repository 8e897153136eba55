/* SPDX-License-Identifier: MIT
 * agentcredit plan: the budget a target standard error needs, before any
 * rollout (ac_estimator_plan). */
#include "cli.h"

#include <jansson.h>

#include <inttypes.h>
#include <math.h>
#include <string.h>

struct plan_opts {
    int64_t agents;
    double rate, sd, target;
    int has_agents, has_rate, has_sd, has_target, rollouts;
    int known_ends, json;
};

void cli_plan_help(FILE *f, const char *lead)
{
    fprintf(f,
            "%splan --agents N (--rollouts | --success-rate P | --sd S)\n"
            "        --target-se T [OPTIONS]\n"
            "        The oracle evaluations the adaptive method needs before\n"
            "        every agent's credit has a standard error of at most T,\n"
            "        asked before any rollout (docs/estimators.md, \"Planning a\n"
            "        budget\"): give it to 'shapley --budget' or the\n"
            "        estimator's budget, with the oracle declared noisy.\n"
            "        --agents N        the team's size, 1..%u\n"
            "        --rollouts        0/1 rollouts at the worst case, a success\n"
            "                          rate of 0.5 (an upper bound)\n"
            "        --success-rate P  0/1 rollouts whose success rate is expected\n"
            "                          near P, in (0, 1)\n"
            "        --sd S            values whose single evaluation has the\n"
            "                          standard deviation S\n"
            "        --target-se T     the standard error wanted, > 0\n"
            "        --known-ends      v(all) and v(empty) will be given as known\n"
            "                          values: they cost nothing\n"
            "        --json            one JSON object on stdout\n"
            "        -h, --help        this text\n",
            lead, AC_ADAPTIVE_MAX_PLAYERS);
}

/* 1: a flag option, consumed; 0: not one; -1: misused (after a message). */
static int flag_options(const char *arg, struct plan_opts *o)
{
    int m;
    if ((m = cli_option_flag(arg, "--rollouts")) != 0)
        o->rollouts = 1;
    else if ((m = cli_option_flag(arg, "--known-ends")) != 0)
        o->known_ends = 1;
    else if ((m = cli_option_flag(arg, "--json")) != 0)
        o->json = 1;
    return m;
}

/* The noise the options name: exactly one of the three. */
static int check_noise(const struct plan_opts *o)
{
    int given = o->rollouts + o->has_rate + o->has_sd;
    if (given == 1)
        return CLI_OK;
    cli_error("plan: %s (--rollouts, --success-rate P or --sd S; try "
              "'agentcredit plan --help')",
              given == 0 ? "no noise model given" : "one noise model only");
    return CLI_USAGE;
}

/* CLI_OK to run, CLI_USAGE after a message, -1 when the help was printed. */
static int parse_args(int argc, char **argv, struct plan_opts *o)
{
    memset(o, 0, sizeof *o);
    if (cli_help_asked(argc, argv, cli_plan_help))
        return -1;
    int i = 1;
    while (i < argc) {
        const char *arg = argv[i], *val = NULL;
        int m = flag_options(arg, o);
        if (m != 0) {
            if (m < 0)
                return CLI_USAGE;
            i++;
            continue;
        }
        CLI_VALUE_OPTION("--agents", cli_parse_int("--agents", val, &o->agents),
                     has_agents)
        CLI_VALUE_OPTION("--success-rate",
                     cli_parse_f64("--success-rate", val, &o->rate), has_rate)
        CLI_VALUE_OPTION("--sd", cli_parse_f64("--sd", val, &o->sd), has_sd)
        CLI_VALUE_OPTION("--target-se",
                     cli_parse_f64("--target-se", val, &o->target), has_target)
        cli_error("plan: unknown %s '%s' (try 'agentcredit plan --help')",
                  arg[0] == '-' ? "option" : "argument", arg);
        return CLI_USAGE;
    }
    if (!o->has_agents || !o->has_target) {
        cli_error("plan: %s is required (try 'agentcredit plan --help')",
                  !o->has_agents ? "--agents N" : "--target-se T");
        return CLI_USAGE;
    }
    if (o->agents < 1 || o->agents > UINT32_MAX) {
        cli_error("plan: --agents %" PRId64 ": must be 1..%u", o->agents,
                  AC_ADAPTIVE_MAX_PLAYERS);
        return CLI_USAGE;
    }
    return check_noise(o);
}

static void print_json(const struct plan_opts *o, ac_plan_noise noise,
                       double param, int64_t evaluations, double se)
{
    json_t *root = json_object();
    json_object_set_new(root, "agents", json_integer(o->agents));
    json_object_set_new(root, "noise",
                        json_string(noise == AC_PLAN_NOISE_SD ? "sd"
                                                              : "rollouts"));
    json_object_set_new(root, noise == AC_PLAN_NOISE_SD ? "sd" : "success_rate",
                        json_real(param));
    json_object_set_new(root, "target_se", json_real(o->target));
    json_object_set_new(root, "known_ends", json_boolean(o->known_ends));
    json_object_set_new(root, "method", json_string("adaptive"));
    json_object_set_new(root, "evaluations", json_integer(evaluations));
    json_object_set_new(root, "se", json_real(se));
    json_dumpf(root, stdout, JSON_COMPACT | JSON_REAL_PRECISION(17));
    fputc('\n', stdout);
    json_decref(root);
}

int cli_plan(int argc, char **argv)
{
    struct plan_opts o;
    int rc = parse_args(argc, argv, &o);
    if (rc != CLI_OK)
        return rc < 0 ? CLI_OK : rc;
    ac_plan_noise noise = o.has_sd ? AC_PLAN_NOISE_SD : AC_PLAN_NOISE_ROLLOUTS;
    double param = o.has_sd ? o.sd : o.has_rate ? o.rate : 0.5;
    int64_t evaluations = 0;
    double se = 0.0;
    char err[512];
    rc = ac_estimator_plan((uint32_t)o.agents, noise, param, o.target,
                           o.known_ends ? AC_PLAN_FLAG_ENDS_KNOWN : 0,
                           &evaluations, &se, err, sizeof err);
    if (rc != AC_OK) {
        /* a value the library refuses is a bad command line */
        cli_error("plan: %s (%s)", err, ac_status_name(rc));
        return CLI_USAGE;
    }
    if (o.json) {
        print_json(&o, noise, param, evaluations, se);
        return CLI_OK;
    }
    printf("%" PRId64 " evaluations: %" PRId64 " agents, %s %g, %s; the "
           "adaptive method's standard error about %.3g (target %g)\n",
           evaluations, o.agents,
           noise == AC_PLAN_NOISE_SD ? "sd" : "0/1 rollouts at success rate",
           param, o.known_ends ? "v(all) and v(empty) known"
                               : "v(all) and v(empty) evaluated",
           se, o.target);
    return CLI_OK;
}
